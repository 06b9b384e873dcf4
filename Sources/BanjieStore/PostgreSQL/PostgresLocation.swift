import Foundation

/// Where a PostgreSQL store lives, from `store.url` / `--database`:
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE` (also `postgresql://`), with
/// `?application_name=…` optional. The port defaults to 5432 and the database to the user's name,
/// as libpq's do.
///
/// TLS to PostgreSQL runs on the system OpenSSL, as banjie's own TLS does (BanjieTLS), with
/// libpq's parameter names: `sslmode=verify-full` (the server's certificate chains to
/// `sslrootcert` and names the host), `verify-ca` (it chains to `sslrootcert`) or `require`
/// (encrypted; with `sslrootcert` the chain is verified as for verify-ca); `sslcert` and
/// `sslkey` add a client certificate. banjie never connects over TLS without verifying the
/// server's certificate, so every TLS mode needs `sslrootcert`; `prefer` and `allow`, which may
/// fall back to the clear, are refused (docs/OPERATIONS.md, "Moving to PostgreSQL").
public struct PostgresLocation: Sendable, Hashable, CustomStringConvertible {
  public var host: String
  public var port: Int
  public var username: String
  public var password: String?
  public var database: String
  public var applicationName: String
  /// nil: in the clear (`sslmode=disable`, the default).
  public var tls: PostgresTLS?

  public init(
    host: String, port: Int = 5432, username: String, password: String? = nil, database: String, applicationName: String = "banjied",
    tls: PostgresTLS? = nil
  ) {
    self.host = host
    self.port = port
    self.username = username
    self.password = password
    self.database = database
    self.applicationName = applicationName
    self.tls = tls
  }

  /// Whether `text` names a PostgreSQL store (rather than an SQLite file).
  public static func isPostgresURL(_ text: String) -> Bool {
    text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
  }

  public init(url text: String) throws(PostgresLocationError) {
    guard Self.isPostgresURL(text), let components = URLComponents(string: text) else {
      throw PostgresLocationError(url: text, problem: .notAPostgresURL)
    }
    guard let host = components.host, !host.isEmpty else { throw PostgresLocationError(url: text, problem: .noHost) }
    guard let user = components.user, !user.isEmpty else { throw PostgresLocationError(url: text, problem: .noUser) }
    let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
    guard !path.contains("/") else { throw PostgresLocationError(url: text, problem: .badDatabase(path)) }
    var application = "banjied"
    var mode: PostgresTLS.Mode?
    var root: String?
    var certificate: String?
    var key: String?
    for item in components.queryItems ?? [] {
      switch (item.name, item.value ?? "") {
      case ("application_name", let value) where !value.isEmpty: application = value
      case ("sslmode", "disable"): mode = nil
      case ("sslmode", let value):
        guard let parsed = PostgresTLS.Mode(rawValue: value) else { throw PostgresLocationError(url: text, problem: .badTLSMode(value)) }
        mode = parsed
      case ("sslrootcert", let value), ("sslcert", let value), ("sslkey", let value):
        guard !value.isEmpty else { throw PostgresLocationError(url: text, problem: .emptyOption(item.name)) }
        switch item.name {
        case "sslrootcert": root = value
        case "sslcert": certificate = value
        default: key = value
        }
      default: throw PostgresLocationError(url: text, problem: .unknownOption(item.name))
      }
    }
    var tls: PostgresTLS?
    if let mode {
      guard let root else { throw PostgresLocationError(url: text, problem: .tlsNeedsRoot(mode.rawValue)) }
      guard (certificate == nil) == (key == nil) else { throw PostgresLocationError(url: text, problem: .tlsCertificateWithoutKey) }
      tls = PostgresTLS(mode: mode, rootCertificateFile: root, certificateFile: certificate, keyFile: key)
    } else if root != nil || certificate != nil || key != nil {
      throw PostgresLocationError(url: text, problem: .tlsOptionsWithoutMode)
    }
    self.init(
      host: host, port: components.port ?? 5432, username: user, password: components.password, database: path.isEmpty ? user : path,
      applicationName: application, tls: tls)
  }

  /// The URL without its password, for logs and `banjie health`.
  public var description: String {
    "postgres://\(self.username)@\(self.host):\(self.port)/\(self.database)" + (self.tls.map { "?sslmode=\($0.mode.rawValue)" } ?? "")
  }
}

/// How banjied speaks TLS to PostgreSQL (PostgresLocation): always verifying the server's
/// certificate against `rootCertificateFile`.
public struct PostgresTLS: Sendable, Hashable {
  public enum Mode: String, Sendable, Hashable {
    /// Encrypted; the server's certificate chains to the root (banjie always verifies that).
    case require
    /// The server's certificate chains to the root.
    case verifyCA = "verify-ca"
    /// The server's certificate chains to the root and names the host of the URL.
    case verifyFull = "verify-full"
  }

  public var mode: Mode
  /// PEM: the CA(s) the server's certificate must chain to.
  public var rootCertificateFile: String
  /// PEM: a client certificate and its key, for a server that asks for one.
  public var certificateFile: String?
  public var keyFile: String?

  public init(mode: Mode, rootCertificateFile: String, certificateFile: String? = nil, keyFile: String? = nil) {
    self.mode = mode
    self.rootCertificateFile = rootCertificateFile
    self.certificateFile = certificateFile
    self.keyFile = keyFile
  }
}

/// A `store.url` that does not name a PostgreSQL database banjied can use.
public struct PostgresLocationError: Error, Equatable, CustomStringConvertible {
  public enum Problem: Equatable, Sendable {
    case notAPostgresURL
    case noHost
    case noUser
    case badDatabase(String)
    case badTLSMode(String)
    case tlsNeedsRoot(String)
    case tlsCertificateWithoutKey
    case tlsOptionsWithoutMode
    case emptyOption(String)
    case unknownOption(String)
  }

  /// The URL with any password replaced by `***`.
  public var url: String
  public var problem: Problem

  init(url: String, problem: Problem) {
    var redacted = url
    if var components = URLComponents(string: url), components.password != nil {
      components.password = "***"
      redacted = components.string ?? "postgres://…"
    }
    self.url = redacted
    self.problem = problem
  }

  public var description: String {
    switch self.problem {
    case .notAPostgresURL: return "\(self.url) is not a postgres:// URL"
    case .noHost: return "\(self.url) names no host (postgres://USER@HOST:PORT/DATABASE)"
    case .noUser: return "\(self.url) names no user (postgres://USER@HOST:PORT/DATABASE)"
    case .badDatabase(let path): return "\(self.url): '\(path)' is not a database name"
    case .badTLSMode(let mode):
      return
        "\(self.url): sslmode=\(mode) is not one banjie uses: disable, require, verify-ca or verify-full (prefer and allow may fall back to the clear)"
    case .tlsNeedsRoot(let mode):
      return
        "\(self.url): sslmode=\(mode) needs sslrootcert=FILE, the CA the server's certificate must chain to (banjie always verifies it)"
    case .tlsCertificateWithoutKey: return "\(self.url): sslcert and sslkey go together"
    case .emptyOption(let name): return "\(self.url): \(name)= needs a file"
    case .tlsOptionsWithoutMode: return "\(self.url): sslrootcert, sslcert and sslkey need sslmode=require, verify-ca or verify-full"
    case .unknownOption(let name):
      return "\(self.url): unknown option '\(name)' (known: application_name, sslmode, sslrootcert, sslcert, sslkey)"
    }
  }
}
