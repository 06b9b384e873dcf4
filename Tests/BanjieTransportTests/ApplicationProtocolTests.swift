import BanjieEcho
import BanjieProto
import BanjieTLS
import GRPCCore
import Testing

@testable import BanjieTransport

/// docs/PROTOCOL.md §1.1: the client closes the connection when the server did not select banjie/1.
@Suite("Client ALPN check", .timeLimit(.minutes(10)))
struct ApplicationProtocolTests {
  static func serverContext(applicationProtocols: [String]) throws -> TLSContext {
    let pki = TestPKI.shared
    var configuration = TLSConfiguration.server(
      certificateChainFile: pki.server.certificateFile, privateKeyFile: pki.server.privateKeyFile,
      trustRootsFile: pki.ca.certificateFile)
    configuration.applicationProtocols = applicationProtocols
    configuration.handshakeTimeout = TestPKI.handshakeTimeout
    return try TLSContext(configuration: configuration)
  }

  static func clientContext(applicationProtocols: [String]) throws -> TLSContext {
    let pki = TestPKI.shared
    var configuration = TLSConfiguration.client(
      certificateChainFile: pki.clerk.certificateFile, privateKeyFile: pki.clerk.privateKeyFile,
      trustRootsFile: pki.ca.certificateFile)
    configuration.applicationProtocols = applicationProtocols
    configuration.handshakeTimeout = TestPKI.handshakeTimeout
    return try TLSContext(configuration: configuration)
  }

  /// Makes one call and returns how it failed (records an issue if it did not).
  static func failedCall(_ harness: EchoHarness, client: TLSContext? = nil) async throws -> RPCError? {
    do {
      try await harness.withClient(configure: { config in if let client { config.tls = client } }) { echo in
        _ = try await echo.get(Banjie_V1_EchoRequest())
      }
      Issue.record("the call went through")
      return nil
    } catch let error as RPCError {
      return error
    }
  }

  @Test("a server that selects no ALPN protocol: the client closes, the call fails UNAVAILABLE")
  func serverSelectsNothing() async throws {
    let tls = try Self.serverContext(applicationProtocols: [])
    try await EchoHarness.withServer(configure: { $0.tls = tls }) { harness in
      let failure = try await Self.failedCall(harness)
      let error = try #require(failure)
      #expect(error.code == .unavailable)
      #expect(error.message.contains("does not speak banjie/1"), "\(error)")
      #expect(error.message.contains("selected no ALPN protocol"), "\(error)")
      #expect(harness.echo.snapshot.callsStarted == 0)
    }
  }

  @Test("a server that selects another ALPN protocol: the client closes, the call fails UNAVAILABLE")
  func serverSelectsAnotherProtocol() async throws {
    let tls = try Self.serverContext(applicationProtocols: ["h2"])
    // The client offers h2 as well, so that the server has something else to select.
    let client = try Self.clientContext(applicationProtocols: ["banjie/1", "h2"])
    try await EchoHarness.withServer(configure: { $0.tls = tls }) { harness in
      let failure = try await Self.failedCall(harness, client: client)
      let error = try #require(failure)
      #expect(error.code == .unavailable)
      #expect(error.message.contains("does not speak banjie/1"), "\(error)")
      #expect(error.message.contains("\"h2\""), "\(error)")
      #expect(harness.echo.snapshot.callsStarted == 0)
    }
  }

  @Test("a client that offers no ALPN expects none; one offering banjie/1 to banjied gets it")
  func selectedOrNotOffered() async throws {
    let quiet = try Self.clientContext(applicationProtocols: [])
    try await EchoHarness.withServer { harness in
      var request = Banjie_V1_EchoRequest()
      request.text = "办结"
      let sent = request
      let plain = try await harness.withClient(configure: { $0.tls = quiet }) { echo in try await echo.get(sent).text }
      #expect(plain == "办结")
      let normal = try await harness.withClient { echo in try await echo.get(sent).text }
      #expect(normal == "办结")
    }
  }
}
