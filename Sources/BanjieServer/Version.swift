/// banjied's version, reported by `GetServerInfo` and `banjied --version`.
public enum BanjieVersion {
  public static let current = "0.1.0"
  public static let wireProtocol = "banjie/1"
}
