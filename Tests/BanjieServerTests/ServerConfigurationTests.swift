import BanjieConfig
import BanjieServer
import Logging
import Testing

@Suite("Server configuration file")
struct ServerConfigurationTests {
  static func applyError(_ text: String) throws -> ConfigurationFile.ParseError? {
    var configuration = ServerConfiguration()
    let file = try ConfigurationFile(parsing: text)
    do {
      try configuration.apply(file)
      return nil
    } catch let error as ConfigurationFile.ParseError {
      return error
    }
  }

  @Test("the example in docs/OPERATIONS.md, with comments and a dotted key")
  func documentedExample() throws {
    var configuration = ServerConfiguration()
    try configuration.apply(
      ConfigurationFile(
        parsing: """
          [server]
          listen = ":7443"
          database = "/var/lib/banjie/banjie.sqlite"

          [tls]
          certificate = "/etc/banjie/server.pem"
          private_key = "/etc/banjie/server.key"
          client_ca = "/etc/banjie/ca.pem"
          revoked_serials = "/etc/banjie/revoked.txt"
          tls13_only = true  # no TLS 1.2

          [county]
          region_code = "370830"

          [metrics]
          listen = "127.0.0.1:9464"
          """))
    #expect(configuration.host == "0.0.0.0" && configuration.port == 7443)
    #expect(configuration.databasePath == "/var/lib/banjie/banjie.sqlite")
    #expect(configuration.certificateFile == "/etc/banjie/server.pem")
    #expect(configuration.privateKeyFile == "/etc/banjie/server.key")
    #expect(configuration.clientCAFile == "/etc/banjie/ca.pem")
    #expect(configuration.revokedSerialsFile == "/etc/banjie/revoked.txt")
    #expect(configuration.tls13Only)
    #expect(configuration.regionCode == "370830")
    #expect(configuration.metricsHost == "127.0.0.1" && configuration.metricsPort == 9464)
    // `log.level` under [metrics] is metrics.log.level: an unknown key.
    let misplaced = try #require(try Self.applyError("[metrics]\nlisten = \"off\"\nlog.level = \"debug\"\n"))
    #expect(misplaced.line == 3)
    #expect(misplaced.reason.hasPrefix("unknown key metrics.log.level (known: "))
  }

  @Test("unknown keys, wrong types and out-of-range values name their line")
  func errorsNameTheLine() throws {
    let unknown = try #require(try Self.applyError("[server]\nlisten = \":7443\"\n\n[tls]\ncertificat = \"x.pem\"\n"))
    #expect(unknown.line == 5)
    #expect(unknown.description.hasPrefix("configuration line 5: unknown key tls.certificat (known: "))
    let type = try #require(try Self.applyError("[tls]\ntls13_only = \"yes\"\n"))
    #expect(type.description == "configuration line 2: tls.tls13_only must be true or false, not a string")
    let range = try #require(try Self.applyError("[sla]\nyellow_percent = 80\nsweep_interval_seconds = 0\n"))
    #expect(range.description == "configuration line 3: sla.sweep_interval_seconds must be within 1...3600")
    let listen = try #require(try Self.applyError("# ports\n[server]\nlisten = \"nowhere\"\n"))
    #expect(listen.line == 3)
    let level = try #require(try Self.applyError("[log]\nlevel = \"loud\"\n"))
    #expect(level.line == 2)
  }

  @Test("store.url names the store as server.database does; the later line wins")
  func storeURL() throws {
    var configuration = ServerConfiguration()
    try configuration.apply(ConfigurationFile(parsing: "[store]\nurl = \"postgres://banjie@10.0.0.7:5432/banjie\"\n"))
    #expect(configuration.databasePath == "postgres://banjie@10.0.0.7:5432/banjie")
    try configuration.apply(
      ConfigurationFile(parsing: "store.url = \"postgres://a@h/db\"\nserver.database = \"county.sqlite\"\n"))
    #expect(configuration.databasePath == "county.sqlite")
  }

  @Test("every documented key is applied")
  func everyKey() throws {
    var configuration = ServerConfiguration()
    try configuration.apply(
      ConfigurationFile(
        parsing: """
          server.listen = "127.0.0.1:7000"
          server.database = "b.sqlite"
          server.graceful_shutdown_seconds = 5
          tls.handshake_timeout_seconds = 3
          limits.max_connections = 10
          limits.max_concurrent_streams = 20
          limits.max_message_bytes = 2048
          limits.max_buffered_bytes_per_connection = 2_097_152
          sla.sweep_interval_seconds = 60
          sla.yellow_percent = 75
          sla.intake_limit_working_days = 3
          log.level = "warning"
          """))
    #expect(configuration.host == "127.0.0.1" && configuration.port == 7000)
    #expect(configuration.databasePath == "b.sqlite")
    #expect(configuration.gracefulShutdownSeconds == 5)
    #expect(configuration.handshakeTimeoutSeconds == 3)
    #expect(configuration.maxConnections == 10)
    #expect(configuration.maxConcurrentStreams == 20)
    #expect(configuration.maxMessageBytes == 2048)
    #expect(configuration.maxBufferedBytesPerConnection == 2_097_152)
    #expect(configuration.sweepIntervalSeconds == 60)
    #expect(configuration.yellowThreshold == 0.75)
    #expect(configuration.intakeLimitWorkingDays == 3)
    #expect(configuration.logLevel == .warning)
  }
}
