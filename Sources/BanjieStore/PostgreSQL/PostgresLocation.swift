import Foundation

/// Where a PostgreSQL store lives, from `store.url` / `--database`:
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE` (also `postgresql://`), with
/// `?application_name=…` optional. The port defaults to 5432 and the database to the user's name,
/// as libpq's do.
///
/// TLS to PostgreSQL (`sslmode=require`) is not built yet: a URL asking for it is refused with
/// that reason rather than silently connecting in the clear (docs/OPERATIONS.md).
public struct PostgresLocation: Sendable, Hashable, CustomStringConvertible {
  public var host: String
  public var port: Int
  public var username: String
  public var password: String?
  public var database: String
  public var applicationName: String

  public init(
    host: String, port: Int = 5432, username: String, password: String? = nil, database: String, applicationName: String = "banjied"
  ) {
    self.host = host
    self.port = port
    self.username = username
    self.password = password
    self.database = database
    self.applicationName = applicationName
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
    for item in components.queryItems ?? [] {
      switch (item.name, item.value ?? "") {
      case ("application_name", let value) where !value.isEmpty: application = value
      case ("sslmode", "disable"): break
      case ("sslmode", let mode): throw PostgresLocationError(url: text, problem: .tlsNotBuilt(mode))
      default: throw PostgresLocationError(url: text, problem: .unknownOption(item.name))
      }
    }
    self.init(
      host: host, port: components.port ?? 5432, username: user, password: components.password, database: path.isEmpty ? user : path,
      applicationName: application)
  }

  /// The URL without its password, for logs and `banjie health`.
  public var description: String { "postgres://\(self.username)@\(self.host):\(self.port)/\(self.database)" }
}

/// A `store.url` that does not name a PostgreSQL database banjied can use.
public struct PostgresLocationError: Error, Equatable, CustomStringConvertible {
  public enum Problem: Equatable, Sendable {
    case notAPostgresURL
    case noHost
    case noUser
    case badDatabase(String)
    case tlsNotBuilt(String)
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
    case .tlsNotBuilt(let mode): return "\(self.url): sslmode=\(mode) is not supported yet; only sslmode=disable (docs/OPERATIONS.md)"
    case .unknownOption(let name): return "\(self.url): unknown option '\(name)' (known: application_name, sslmode=disable)"
    }
  }
}
