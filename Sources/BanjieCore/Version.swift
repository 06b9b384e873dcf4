/// banjie's version: banjied reports it through `GetServerInfo` and `banjied --version`, and the
/// CLI prints it for `banjie --version`.
public enum BanjieVersion {
  public static let current = "0.1.0"
  public static let wireProtocol = "banjie/1"
}
