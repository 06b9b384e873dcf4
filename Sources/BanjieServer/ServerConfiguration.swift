import BanjieConfig
import BanjieCore
import BanjieTLS
import BanjieTransport
import Foundation
import Logging
import NIOCore

/// Everything banjied needs to start, from defaults, the configuration file and flags
/// (flags win). Documented key by key in docs/OPERATIONS.md.
public struct ServerConfiguration: Sendable {
  public var host = "127.0.0.1"
  public var port = 7443
  public var databasePath = "banjie.sqlite"
  public var certificateFile = "certs/dev/server.pem"
  public var privateKeyFile = "certs/dev/server.key"
  public var clientCAFile = "certs/dev/ca.pem"
  public var tls13Only = false
  /// A file of revoked certificate serials (hex, one per line, `#` comments).
  public var revokedSerialsFile: String?
  public var maxConnections = 4096
  public var maxConcurrentStreams: UInt32 = 100
  public var maxMessageBytes: UInt32 = 4 * 1024 * 1024
  /// Received message bytes one connection may hold at once (at least max_message_bytes is used).
  public var maxBufferedBytesPerConnection: Int64 = 32 << 20
  public var handshakeTimeoutSeconds = 10
  public var gracefulShutdownSeconds = 30
  public var logLevel: Logger.Level = .info
  /// The county's administrative-division code, the first part of every case number.
  public var regionCode = "370830"
  public var sweepIntervalSeconds = 30
  public var yellowThreshold = 0.8
  public var intakeLimitWorkingDays = 5
  /// Where the Prometheus metrics endpoint listens (plain HTTP, so loopback by default); nil
  /// turns it off.
  public var metricsHost: String? = "127.0.0.1"
  public var metricsPort = 9464

  public init() {}

  /// The keys the file may hold; anything else is refused so that typos are caught.
  public static let knownKeys: Set<String> = [
    "server.listen", "server.database", "store.url", "tls.certificate", "tls.private_key", "tls.client_ca", "tls.tls13_only",
    "tls.handshake_timeout_seconds", "tls.revoked_serials", "limits.max_connections", "limits.max_concurrent_streams",
    "limits.max_message_bytes", "limits.max_buffered_bytes_per_connection", "server.graceful_shutdown_seconds", "log.level",
    "county.region_code", "sla.sweep_interval_seconds", "sla.yellow_percent", "sla.intake_limit_working_days",
    "metrics.listen",
  ]

  /// Applies the file's keys in the order they were written, so the first mistake in the file is
  /// the one named, with its line.
  public mutating func apply(_ file: ConfigurationFile) throws {
    let keys = file.values.keys.sorted { (file.line(of: $0), $0) < (file.line(of: $1), $1) }
    for key in keys {
      do {
        try self.apply(key, from: file)
      } catch let error as ConfigurationFile.ParseError where error.line == 0 {
        throw ConfigurationFile.ParseError(line: file.line(of: key), reason: error.reason)
      }
    }
  }

  private mutating func apply(_ key: String, from file: ConfigurationFile) throws {
    guard Self.knownKeys.contains(key) else {
      throw ConfigurationFile.ParseError(line: 0, reason: "unknown key \(key) (known: \(Self.knownKeys.sorted().joined(separator: ", ")))")
    }
    switch key {
    case "server.listen": if let v = try file.string(key) { try self.setListen(v) }
    // `store.url` names the same store (a SQLite file or a postgres:// URL); when a file gives both,
    // the later line wins.
    case "server.database", "store.url": if let v = try file.string(key) { self.databasePath = v }
    case "server.graceful_shutdown_seconds":
      if let v = try file.integer(key) { self.gracefulShutdownSeconds = try Self.bounded(v, 0...3600, key) }
    case "tls.certificate": if let v = try file.string(key) { self.certificateFile = v }
    case "tls.private_key": if let v = try file.string(key) { self.privateKeyFile = v }
    case "tls.client_ca": if let v = try file.string(key) { self.clientCAFile = v }
    case "tls.tls13_only": if let v = try file.boolean(key) { self.tls13Only = v }
    case "tls.revoked_serials": if let v = try file.string(key) { self.revokedSerialsFile = v }
    case "tls.handshake_timeout_seconds":
      if let v = try file.integer(key) { self.handshakeTimeoutSeconds = try Self.bounded(v, 1...300, key) }
    case "limits.max_connections": if let v = try file.integer(key) { self.maxConnections = try Self.bounded(v, 1...1_000_000, key) }
    case "limits.max_concurrent_streams":
      if let v = try file.integer(key) { self.maxConcurrentStreams = UInt32(try Self.bounded(v, 1...10_000, key)) }
    case "limits.max_buffered_bytes_per_connection":
      if let v = try file.integer(key) { self.maxBufferedBytesPerConnection = Int64(try Self.bounded(v, (1 << 20)...(1 << 30), key)) }
    case "limits.max_message_bytes":
      if let v = try file.integer(key) { self.maxMessageBytes = UInt32(try Self.bounded(v, 1024...(64 << 20), key)) }
    case "county.region_code":
      if let v = try file.string(key) {
        guard v.count == 6, v.allSatisfy(\.isNumber) else {
          throw ConfigurationFile.ParseError(line: 0, reason: "county.region_code must be 6 digits")
        }
        self.regionCode = v
      }
    case "sla.sweep_interval_seconds": if let v = try file.integer(key) { self.sweepIntervalSeconds = try Self.bounded(v, 1...3600, key) }
    case "sla.yellow_percent": if let v = try file.integer(key) { self.yellowThreshold = Double(try Self.bounded(v, 1...99, key)) / 100 }
    case "sla.intake_limit_working_days":
      if let v = try file.integer(key) { self.intakeLimitWorkingDays = try Self.bounded(v, 1...60, key) }
    case "metrics.listen": if let v = try file.string(key) { try self.setMetricsListen(v) }
    case "log.level":
      if let v = try file.string(key) {
        guard let level = Logger.Level(rawValue: v) else {
          throw ConfigurationFile.ParseError(
            line: 0, reason: "log.level must be one of trace, debug, info, notice, warning, error, critical")
        }
        self.logLevel = level
      }
    default:
      // A key in knownKeys that this switch forgot: a programming error, reported like a typo.
      throw ConfigurationFile.ParseError(line: 0, reason: "\(key) is not handled")
    }
  }

  /// "host:port", "[v6]:port" or ":port".
  public mutating func setListen(_ listen: String) throws {
    (self.host, self.port) = try Self.parseListen(listen)
  }

  /// Like `setListen`, for the metrics endpoint; "" or "off" turns it off.
  public mutating func setMetricsListen(_ listen: String) throws {
    let trimmed = listen.trimmingCharacters(in: .whitespaces)
    if trimmed.isEmpty || trimmed.lowercased() == "off" {
      self.metricsHost = nil
      return
    }
    let (host, port) = try Self.parseListen(trimmed)
    self.metricsHost = host
    self.metricsPort = port
  }

  private static func parseListen(_ listen: String) throws -> (String, Int) {
    guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65535).contains(port) else {
      throw ConfigurationFile.ParseError(line: 0, reason: "listen address \"\(listen)\" must be host:port")
    }
    var host = String(listen[..<colon])
    if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
    return (host.isEmpty ? "0.0.0.0" : host, port)
  }

  private static func bounded(_ value: Int, _ range: ClosedRange<Int>, _ key: String) throws -> Int {
    guard range.contains(value) else {
      throw ConfigurationFile.ParseError(line: 0, reason: "\(key) must be within \(range.lowerBound)...\(range.upperBound)")
    }
    return value
  }

  /// The revocation file's serials (empty without one).
  func fileRevocations() throws -> Set<String> {
    guard let path = self.revokedSerialsFile else { return [] }
    return try Self.readSerials(path)
  }

  func makeTLSContext(revocations: RevocationList) throws -> TLSContext {
    var tls = TLSConfiguration.server(
      certificateChainFile: self.certificateFile, privateKeyFile: self.privateKeyFile, trustRootsFile: self.clientCAFile)
    if self.tls13Only { tls.minimumVersion = .tls13 }
    tls.handshakeTimeout = .seconds(Int64(self.handshakeTimeoutSeconds))
    tls.revocations = revocations
    return try TLSContext(configuration: tls)
  }

  /// Serials from a revocation file: hex, one per line, blank lines and `#` comments ignored.
  static func readSerials(_ path: String) throws -> Set<String> {
    let text: String
    do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
      throw ConfigurationFile.ParseError(line: 0, reason: "cannot read tls.revoked_serials file \(path)")
    }
    var serials = Set<String>()
    for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let line =
        raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init)?.trimmingCharacters(
          in: .whitespaces) ?? ""
      if line.isEmpty { continue }
      let hex = line.replacingOccurrences(of: ":", with: "")
      guard hex.count <= 64, hex.allSatisfy(\.isHexDigit) else {
        throw ConfigurationFile.ParseError(line: index + 1, reason: "\(path): \"\(line.prefix(40))\" is not a hex serial number")
      }
      serials.insert(hex.uppercased())
    }
    return serials
  }

  func transportConfig(tls: TLSContext, logger: Logger) -> BanjieServerTransport.Config {
    var config = BanjieServerTransport.Config(host: self.host, port: self.port, tls: tls)
    config.maxConnections = self.maxConnections
    config.transport.settings.maxConcurrentStreams = self.maxConcurrentStreams
    config.transport.settings.maxMessageSize = self.maxMessageBytes
    config.transport.maxBufferedInboundBytes = max(self.maxBufferedBytesPerConnection, Int64(self.maxMessageBytes))
    config.transport.gracefulShutdownTimeout = .seconds(Int64(self.gracefulShutdownSeconds))
    config.logger = logger
    return config
  }
}
