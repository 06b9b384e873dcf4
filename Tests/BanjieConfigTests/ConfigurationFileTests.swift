import BanjieConfig
import Testing

@Suite("Configuration file (TOML)")
struct ConfigurationFileTests {
  static func parseError(_ text: String) -> ConfigurationFile.ParseError? {
    do {
      _ = try ConfigurationFile(parsing: text)
      return nil
    } catch let error as ConfigurationFile.ParseError {
      return error
    } catch {
      return nil
    }
  }

  @Test("tables, dotted keys, inline tables, comments, escapes and every scalar kind")
  func realTOML() throws {
    let file = try ConfigurationFile(
      parsing: #"""
        # banjied.toml
        top = "level"

        [server]
        listen = ":7443"  # all interfaces
        database = "/var/lib/ban\"jie\\x.sqlite\u00e9"
        graceful_shutdown_seconds = 1_800

        [ tls ]
        certificate = '/etc/banjie/server #1.pem'
        tls13_only = true
        limits.max_connections = 64
        ratio = 0.5
        path = """
        two
        lines"""

        [county]
        inline = { code = "370830", on = false }
        """#)
    #expect(file.values["top"] == .string("level"))
    #expect(file.values["server.listen"] == .string(":7443"))
    #expect(file.values["server.database"] == .string("/var/lib/ban\"jie\\x.sqlite\u{e9}"))
    #expect(file.values["server.graceful_shutdown_seconds"] == .integer(1800))
    #expect(file.values["tls.certificate"] == .string("/etc/banjie/server #1.pem"))
    #expect(file.values["tls.tls13_only"] == .boolean(true))
    #expect(file.values["tls.limits.max_connections"] == .integer(64))
    #expect(file.values["tls.ratio"] == .float(0.5))
    #expect(file.values["tls.path"] == .string("two\nlines"))
    #expect(file.values["county.inline.code"] == .string("370830"))
    #expect(file.values["county.inline.on"] == .boolean(false))
    #expect(file.values.count == 11)
    #expect(try file.string("server.listen") == ":7443")
    #expect(try file.integer("server.graceful_shutdown_seconds") == 1800)
    #expect(try file.boolean("tls.tls13_only") == true)
    #expect(try file.string("absent") == nil)
    // Lines, for messages: the key's own line, after a multi-line string too.
    #expect(file.line(of: "top") == 2)
    #expect(file.line(of: "server.database") == 6)
    #expect(file.line(of: "tls.limits.max_connections") == 12)
    #expect(file.line(of: "tls.path") == 14)
    #expect(file.line(of: "county.inline.code") == 19)
  }

  @Test("an empty file or only comments holds no keys")
  func empty() throws {
    #expect(try ConfigurationFile(parsing: "").values.isEmpty)
    #expect(try ConfigurationFile(parsing: "# nothing\n\n[server] # yet\n").values.isEmpty)
  }

  @Test("a syntax error names its line")
  func syntaxErrors() throws {
    let missingEquals = try #require(Self.parseError("[server]\nlisten = \"x\"\nbad line\n"))
    #expect(missingEquals.line == 3)
    #expect(missingEquals.description.hasPrefix("configuration line 3: "))
    #expect(Self.parseError("[server]\nlisten = \"x\n")?.line == 2)  // unterminated string
    #expect(Self.parseError("[server\nx = 1\n")?.line == 1)  // unterminated header
    #expect(Self.parseError("a = 1\n[t]\nb = \"C:\\data\"\n")?.line == 3)  // unknown escape
    #expect(Self.parseError("[server]\nlisten = \"x\"\nlisten = \"y\"\n")?.line == 3)  // duplicate key
    #expect(Self.parseError("[server]\r\nlisten = \"x\"\r\n\r\nport = 5\r\nbad\r\n")?.line == 5)  // CRLF
  }

  @Test("a value of the wrong type names its line")
  func typeErrors() throws {
    let file = try ConfigurationFile(parsing: "[server]\n\n# the port\nport = \"7443\"\n[tls]\ntls13_only = 1\n")
    let port = try #require(throws: ConfigurationFile.ParseError.self) { try file.integer("server.port") }
    #expect(port.line == 4)
    #expect(port.description == "configuration line 4: server.port must be an integer, not a string")
    let flag = try #require(throws: ConfigurationFile.ParseError.self) { try file.boolean("tls.tls13_only") }
    #expect(flag.description == "configuration line 6: tls.tls13_only must be true or false, not an integer")
    #expect(throws: ConfigurationFile.ParseError.self) { try file.string("tls.tls13_only") }
  }

  @Test("arrays and dates are refused with their line")
  func unsupportedKinds() throws {
    let array = try #require(Self.parseError("[server]\nlisten = \":7443\"\nhosts = [\n  \"a\",\n]\nwhen = 2026-01-01\n"))
    #expect(array.line == 3)
    #expect(array.reason == #"value of server.hosts must be a "string", a number or true/false, not an array"#)
  }
}
