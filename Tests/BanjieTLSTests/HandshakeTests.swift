import Foundation
import NIOCore
import NIOPosix
import Testing

@testable import BanjieTLS

@Suite("TLS over real sockets", .timeLimit(.minutes(10)))
struct HandshakeTests {
  @Test("handshake, then 1 MiB echoed both ways")
  func echoOneMebibyte() async throws {
    try await withPKI { pki in
      let server = try await TestServer.start(configuration: pki.serverConfiguration())
      defer { Task { await server.stop() } }
      let client = try await TestClient.connect(port: server.port, configuration: pki.clientConfiguration())

      let payload = randomBytes(1 << 20)
      try await client.send(payload)
      let snapshot = try await client.recorder.wait { $0.received.count >= payload.count }
      #expect(snapshot.received == payload)
      #expect(server.recorder.snapshot.received == payload)

      let clientSession = try #require(snapshot.sessions.first)
      #expect(clientSession.protocolVersion == "TLSv1.3")
      #expect(clientSession.cipherSuite.hasPrefix("TLS_"))
      #expect(clientSession.alpnProtocol == "banjie/1")
      #expect(clientSession.peerCertificate?.commonName == "localhost")

      let serverSession = try #require(server.recorder.snapshot.sessions.first)
      #expect(serverSession.alpnProtocol == "banjie/1")
      let peer = try #require(serverSession.peerCertificate)
      #expect(peer.serialNumber == pki.clerk.serialNumber)
      #expect(PeerIdentity(certificate: peer)?.role == .clerk)
      #expect(snapshot.errors.isEmpty && server.recorder.snapshot.errors.isEmpty)
      try await client.channel.close()
    }
  }

  @Test("a client without a certificate is refused")
  func clientWithoutCertificate() async throws {
    try await withPKI { pki in
      let server = try await TestServer.start(configuration: pki.serverConfiguration())
      defer { Task { await server.stop() } }
      let configuration = TLSConfiguration.client(certificateChainFile: nil, privateKeyFile: nil, trustRootsFile: pki.caFile)
      let client = try await TestClient.connect(port: server.port, configuration: configuration)
      try await client.waitClosed()
      let seen = try await server.recorder.wait { !$0.errors.isEmpty }
      #expect(seen.sessions.isEmpty)
      #expect(seen.tlsErrorCodes == [.handshakeFailed])
      #expect(seen.tlsErrorText.contains("certificate"))
      // TLS 1.3: the client finished its side; the refusal arrives as an alert on the first read.
      #expect(client.recorder.snapshot.tlsErrorCodes == [.connectionFailed])
      #expect(client.recorder.snapshot.tlsErrorText.contains("certificate required"))
    }
  }

  @Test("a client certificate from another CA is refused")
  func clientFromAnotherAuthority() async throws {
    try await withPKI { pki in
      let server = try await TestServer.start(configuration: pki.serverConfiguration())
      defer { Task { await server.stop() } }
      let stranger = try pki.otherAuthority().issueClientCertificate(role: .clerk, organization: "330110-SPJ", person: "Mallory")
      let client = try await TestClient.connect(
        port: server.port,
        configuration: pki.clientConfiguration(certificate: (stranger.certificateFile, stranger.privateKeyFile))
      )
      try await client.waitClosed()
      let seen = try await server.recorder.wait { !$0.errors.isEmpty }
      #expect(seen.sessions.isEmpty)
      #expect(seen.tlsErrorCodes == [.handshakeFailed])
      #expect(seen.tlsErrorText.contains("unable to get local issuer certificate"))
    }
  }

  @Test("the client refuses a server certificate for another host name")
  func hostnameMismatch() async throws {
    try await withPKI { pki in
      let server = try await TestServer.start(configuration: pki.serverConfiguration())
      defer { Task { await server.stop() } }
      let client = try await TestClient.connect(
        port: server.port, configuration: pki.clientConfiguration(), serverHostname: "other.example")
      try await client.waitClosed()
      let seen = client.recorder.snapshot
      #expect(seen.sessions.isEmpty)
      #expect(seen.tlsErrorCodes == [.handshakeFailed])
      #expect(seen.tlsErrorText.contains("hostname mismatch"))
      try await server.recorder.wait { !$0.errors.isEmpty }
      #expect(server.recorder.snapshot.sessions.isEmpty)
    }
  }

  @Test("IP SANs: 127.0.0.1 verifies, another address does not")
  func ipAddressVerification() async throws {
    try await withPKI { pki in
      let server = try await TestServer.start(configuration: pki.serverConfiguration())
      defer { Task { await server.stop() } }

      let good = try await TestClient.connect(port: server.port, configuration: pki.clientConfiguration(), serverHostname: "127.0.0.1")
      try await good.send(Array("hello".utf8))
      try await good.recorder.wait { $0.received == Array("hello".utf8) }
      try await good.channel.close()

      let bad = try await TestClient.connect(port: server.port, configuration: pki.clientConfiguration(), serverHostname: "127.0.0.2")
      try await bad.waitClosed()
      #expect(bad.recorder.snapshot.sessions.isEmpty)
      #expect(bad.recorder.snapshot.tlsErrorText.contains("IP address mismatch"))
    }
  }

  @Test("TLS 1.2 works by default; a TLS 1.3-only server refuses a TLS 1.2 client")
  func tls13Only() async throws {
    try await withPKI { pki in
      var tls12Client = pki.clientConfiguration()
      tls12Client.maximumVersion = .tls12

      let lenient = try await TestServer.start(configuration: pki.serverConfiguration())
      defer { Task { await lenient.stop() } }
      let old = try await TestClient.connect(port: lenient.port, configuration: tls12Client)
      try await old.send(Array("v1.2".utf8))
      let seen = try await old.recorder.wait { $0.received.count == 4 }
      #expect(seen.sessions.first?.protocolVersion == "TLSv1.2")
      #expect(seen.sessions.first?.cipherSuite.hasPrefix("TLS_ECDHE_ECDSA_WITH_") == true)
      #expect(seen.sessions.first?.alpnProtocol == "banjie/1")
      try await old.channel.close()

      var strictConfiguration = pki.serverConfiguration()
      strictConfiguration.minimumVersion = .tls13
      let strict = try await TestServer.start(configuration: strictConfiguration)
      defer { Task { await strict.stop() } }
      let refused = try await TestClient.connect(port: strict.port, configuration: tls12Client)
      try await refused.waitClosed()
      #expect(refused.recorder.snapshot.sessions.isEmpty)
      let serverSaw = try await strict.recorder.wait { !$0.errors.isEmpty }
      #expect(serverSaw.sessions.isEmpty)
      #expect(serverSaw.tlsErrorText.contains("unsupported protocol"))
    }
  }

  @Test("expired and not-yet-valid client certificates are refused")
  func certificateValidity() async throws {
    try await withPKI { pki in
      let server = try await TestServer.start(configuration: pki.serverConfiguration())
      defer { Task { await server.stop() } }
      let expired = try pki.authority.issueClientCertificate(
        role: .clerk, organization: "330110-SPJ", person: "Old Timer",
        validityDays: 1, notBefore: Date().addingTimeInterval(-10 * 86_400)
      )
      let future = try pki.authority.issueClientCertificate(
        role: .clerk, organization: "330110-SPJ", person: "Early Bird",
        validityDays: 30, notBefore: Date().addingTimeInterval(2 * 86_400)
      )
      for (certificate, reason) in [(expired, "certificate has expired"), (future, "certificate is not yet valid")] {
        let before = server.recorder.snapshot.errors.count
        let client = try await TestClient.connect(
          port: server.port,
          configuration: pki.clientConfiguration(certificate: (certificate.certificateFile, certificate.privateKeyFile))
        )
        try await client.waitClosed()
        let seen = try await server.recorder.wait { $0.errors.count > before }
        #expect(seen.sessions.isEmpty)
        #expect("\(seen.errors[before])".contains(reason))
      }
    }
  }

  @Test("a revoked serial is refused at handshake; others still get in")
  func revokedSerial() async throws {
    try await withPKI { pki in
      let revocations = RevocationList()
      var configuration = pki.serverConfiguration()
      configuration.revocations = revocations
      let server = try await TestServer.start(configuration: configuration)
      defer { Task { await server.stop() } }

      let revoked = try pki.authority.issueClientCertificate(role: .enterprise, organization: "91330110MA2XXXXX0X", person: "Ex Employee")
      // Revoked at run time, in another spelling than the canonical one.
      let spelled =
        "0x00"
        + stride(from: 0, to: revoked.serialNumber.count, by: 2).map { offset -> String in
          let start = revoked.serialNumber.index(revoked.serialNumber.startIndex, offsetBy: offset)
          let end =
            revoked.serialNumber.index(start, offsetBy: 2, limitedBy: revoked.serialNumber.endIndex) ?? revoked.serialNumber.endIndex
          return String(revoked.serialNumber[start..<end])
        }.joined(separator: ":").lowercased()
      revocations.revoke(spelled)
      #expect(revocations.isRevoked(revoked.serialNumber))

      let client = try await TestClient.connect(
        port: server.port,
        configuration: pki.clientConfiguration(certificate: (revoked.certificateFile, revoked.privateKeyFile))
      )
      try await client.waitClosed()
      let seen = try await server.recorder.wait { !$0.errors.isEmpty }
      #expect(seen.sessions.isEmpty)
      #expect(seen.tlsErrorCodes == [.certificateRevoked])

      let fine = try await TestClient.connect(port: server.port, configuration: pki.clientConfiguration())
      try await fine.send(Array("ok".utf8))
      try await fine.recorder.wait { $0.received == Array("ok".utf8) }
      try await fine.channel.close()
    }
  }

  @Test("plain HTTP is closed while a TLS client on the same server keeps working")
  func plainHTTPIsDropped() async throws {
    try await withPKI { pki in
      let server = try await TestServer.start(configuration: pki.serverConfiguration())
      defer { Task { await server.stop() } }
      let good = try await TestClient.connect(port: server.port, configuration: pki.clientConfiguration())
      try await good.send(Array("one".utf8))
      try await good.recorder.wait { $0.received.count == 3 }

      let rawRecorder = Recorder()
      let raw = try await connectRaw(port: server.port, recorder: rawRecorder)
      // On a machine loaded enough to delay this write past the handshake timeout (10 s), the
      // server has already closed the connection for that reason: the outcome is the same.
      let wrote = (try? await raw.writeAndFlush(ByteBuffer(string: "GET / HTTP/1.1\r\n\r\n"))) != nil
      try await waitClosed(raw)
      let serverSaw = try await server.recorder.wait { !$0.errors.isEmpty }
      if wrote {
        #expect(serverSaw.tlsErrorCodes == [.handshakeFailed] || serverSaw.tlsErrorCodes == [.handshakeTimeout])
      } else {
        #expect(serverSaw.tlsErrorCodes == [.handshakeTimeout])
      }

      try await good.send(Array("two".utf8))
      try await good.recorder.wait { $0.received == Array("onetwo".utf8) }
      #expect(good.channel.isActive)
      try await good.channel.close()
    }
  }

  @Test("a client that sends nothing is dropped after the handshake timeout")
  func silentClient() async throws {
    try await withPKI { pki in
      var configuration = pki.serverConfiguration()
      configuration.handshakeTimeout = .milliseconds(200)
      let server = try await TestServer.start(configuration: configuration)
      defer { Task { await server.stop() } }
      let start = ContinuousClock.now
      let raw = try await connectRaw(port: server.port, recorder: Recorder())
      try await waitClosed(raw)
      #expect(ContinuousClock.now - start >= .milliseconds(150))
      let serverSaw = try await server.recorder.wait { !$0.errors.isEmpty }
      #expect(serverSaw.tlsErrorCodes == [.handshakeTimeout])
    }
  }

  @Test("close exchanges close_notify without waiting for the timeout")
  func closeNotifyExchange() async throws {
    try await withPKI { pki in
      var serverConfiguration = pki.serverConfiguration()
      // Timeouts longer than the suite's time limit: a close that waited for one instead of the
      // peer's close_notify fails the test by its time limit, whatever the machine's load.
      serverConfiguration.closeNotifyTimeout = .seconds(3600)
      let server = try await TestServer.start(configuration: serverConfiguration)
      defer { Task { await server.stop() } }
      var clientConfiguration = pki.clientConfiguration()
      clientConfiguration.closeNotifyTimeout = .seconds(3600)
      let client = try await TestClient.connect(port: server.port, configuration: clientConfiguration)
      try await client.send(Array("x".utf8))
      try await client.recorder.wait { $0.received.count == 1 }

      try await client.channel.close()  // succeeds once the server's close_notify arrived
      let serverSaw = try await server.recorder.wait { $0.inactiveCount == 1 }
      #expect(serverSaw.errors.isEmpty)
      #expect(client.recorder.snapshot.errors.isEmpty)
    }
  }

  @Test("close gives up on a peer that never answers close_notify")
  func closeNotifyTimeout() async throws {
    try await withPKI { pki in
      var configuration = pki.serverConfiguration()
      configuration.closeNotifyTimeout = .milliseconds(300)
      let server = try await TestServer.start(configuration: configuration, behaviour: .init(closeOnBye: true))
      defer { Task { await server.stop() } }
      let gate = InboundGate.Switch()
      let client = try await TestClient.connect(port: server.port, configuration: pki.clientConfiguration(), gate: gate)
      try await client.recorder.wait { !$0.sessions.isEmpty }
      gate.close()
      try await client.send(Array("bye".utf8))
      let seen = try await server.recorder.wait(timeout: .seconds(10)) { $0.inactiveCount == 1 }
      let waited = try #require(seen.inactiveAt) - (try #require(seen.closeRequestedAt))
      #expect(waited >= .milliseconds(250))
      // It gave up: well within the recorder's 10 s wait, with room for a loaded machine.
      #expect(waited < .seconds(9))
      try await client.waitClosed()
    }
  }

  @Test("closing twice, during and after the handshake, does not crash")
  func doubleClose() async throws {
    try await withPKI { pki in
      let server = try await TestServer.start(configuration: pki.serverConfiguration())
      defer { Task { await server.stop() } }
      let client = try await TestClient.connect(port: server.port, configuration: pki.clientConfiguration())
      try await client.recorder.wait { !$0.sessions.isEmpty }
      let first = client.channel.eventLoop.makePromise(of: Void.self)
      let second = client.channel.eventLoop.makePromise(of: Void.self)
      client.channel.close(promise: first)
      client.channel.close(promise: second)
      try await first.futureResult.get()
      // The second close either joins the first or finds the channel already closed.
      do { try await second.futureResult.get() } catch ChannelError.alreadyClosed {}
      await #expect(throws: ChannelError.self) { try await client.channel.close() }

      // Closed while still handshaking.
      let early = try await TestClient.connect(port: server.port, configuration: pki.clientConfiguration())
      early.channel.close(promise: nil)
      early.channel.close(promise: nil)
      try await early.waitClosed()
    }
  }

  @Test("writes made before the handshake completes are delivered after it")
  func writesBeforeHandshake() async throws {
    try await withPKI { pki in
      let server = try await TestServer.start(configuration: pki.serverConfiguration())
      defer { Task { await server.stop() } }
      let client = try await TestClient.connect(
        port: server.port,
        configuration: pki.clientConfiguration(),
        behaviour: .init(earlyWrite: Array("early bird".utf8))
      )
      let seen = try await client.recorder.wait { $0.received.count == 10 }
      #expect(seen.received == Array("early bird".utf8))
      try await client.channel.close()
    }
  }

  @Test("data written right before close reaches the peer before close_notify")
  func dataBeforeCloseIsNotLost() async throws {
    try await withPKI { pki in
      let payload = randomBytes(300 * 1024)
      let server = try await TestServer.start(
        configuration: pki.serverConfiguration(),
        behaviour: .init(writeThenCloseAtHandshake: payload)
      )
      defer { Task { await server.stop() } }
      let client = try await TestClient.connect(port: server.port, configuration: pki.clientConfiguration())
      try await client.waitClosed()
      let seen = try await client.recorder.wait { $0.inactiveCount == 1 }
      #expect(seen.received == payload)
      #expect(seen.errors.isEmpty)
    }
  }

  @Test("ALPN: a client offering only other protocols is refused; one offering none is accepted")
  func applicationProtocols() async throws {
    try await withPKI { pki in
      let server = try await TestServer.start(configuration: pki.serverConfiguration())
      defer { Task { await server.stop() } }

      var h2 = pki.clientConfiguration()
      h2.applicationProtocols = ["h2"]
      let refused = try await TestClient.connect(port: server.port, configuration: h2)
      try await refused.waitClosed()
      #expect(refused.recorder.snapshot.tlsErrorText.contains("no application protocol"))

      var none = pki.clientConfiguration()
      none.applicationProtocols = []
      let plain = try await TestClient.connect(port: server.port, configuration: none)
      try await plain.send(Array("hi".utf8))
      let seen = try await plain.recorder.wait { $0.received.count == 2 }
      #expect(seen.sessions.first?.alpnProtocol == nil)
      try await plain.channel.close()
    }
  }

  @Test("PeerIdentity is read from an issued certificate with a Chinese name")
  func chinesePeerIdentity() async throws {
    try await withPKI { pki in
      let issued = try pki.authority.issueClientCertificate(role: .liaison, organization: "县发改局", person: "张三")
      #expect(issued.certificateFile.hasSuffix("/liaison-zhang-san.pem"))
      let again = try pki.authority.issueClientCertificate(role: .liaison, organization: "县商务局", person: "张三")
      #expect(again.certificateFile.hasSuffix("/liaison-zhang-san-2.pem"))

      let server = try await TestServer.start(configuration: pki.serverConfiguration())
      defer { Task { await server.stop() } }
      let client = try await TestClient.connect(
        port: server.port,
        configuration: pki.clientConfiguration(certificate: (issued.certificateFile, issued.privateKeyFile))
      )
      let seen = try await server.recorder.wait { !$0.sessions.isEmpty }
      let certificate = try #require(seen.sessions[0].peerCertificate)
      let identity = try #require(PeerIdentity(certificate: certificate))
      #expect(identity.role == .liaison)
      #expect(identity.organization == "县发改局")
      #expect(identity.person == "张三")
      #expect(identity.serialNumber == issued.serialNumber)
      #expect(certificate == (try PeerCertificate(pemFile: issued.certificateFile)))
      #expect(certificate.sha256Fingerprint.count == 64)
      #expect(certificate.notAfter.timeIntervalSince(certificate.notBefore) == 365 * 86_400)
      try await client.channel.close()
    }
  }
}
