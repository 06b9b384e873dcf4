import Foundation
import NIOCore
import Testing

@testable import BanjieTLS

/// The server against the `openssl s_client` command-line tool.
@Suite("openssl s_client against the server", .enabled(if: opensslAvailable), .timeLimit(.minutes(10)))
struct OpenSSLClientTests {
  private func sClient(_ pki: TestPKI, port: Int, _ extra: [String]) async throws -> (status: Int32, output: String) {
    try await runOpenSSL(["s_client", "-connect", "127.0.0.1:\(port)", "-CAfile", pki.caFile, "-verify_return_error"] + extra)
  }

  @Test("TLS 1.3 with ALPN banjie/1 and a clerk certificate completes the handshake")
  func succeeds() async throws {
    try await withPKI { pki in
      let server = try await TestServer.start(configuration: pki.serverConfiguration())
      defer { Task { await server.stop() } }
      let result = try await self.sClient(
        pki, port: server.port,
        [
          "-tls1_3", "-alpn", "banjie/1", "-cert", pki.clerk.certificateFile, "-key", pki.clerk.privateKeyFile,
        ])
      #expect(result.status == 0, "\(result.output)")
      #expect(result.output.contains("Verify return code: 0 (ok)"))
      #expect(result.output.contains("ALPN protocol: banjie/1"))
      let seen = try await server.recorder.wait { !$0.sessions.isEmpty }
      #expect(seen.sessions[0].peerCertificate?.serialNumber == pki.clerk.serialNumber)
    }
  }

  @Test("TLS 1.1 is refused")
  func tls11() async throws {
    try await withPKI { pki in
      let server = try await TestServer.start(configuration: pki.serverConfiguration())
      defer { Task { await server.stop() } }
      let result = try await self.sClient(
        pki, port: server.port,
        [
          "-tls1_1", "-cert", pki.clerk.certificateFile, "-key", pki.clerk.privateKeyFile,
        ])
      #expect(result.status != 0, "\(result.output)")
      #expect(server.recorder.snapshot.sessions.isEmpty)
    }
  }

  @Test("no client certificate is refused")
  func withoutCertificate() async throws {
    try await withPKI { pki in
      let server = try await TestServer.start(configuration: pki.serverConfiguration())
      defer { Task { await server.stop() } }
      // In TLS 1.3 the client finishes its side before the server judges its certificate;
      // -ign_eof keeps s_client reading until the server's alert arrives.
      let result = try await self.sClient(pki, port: server.port, ["-tls1_3", "-alpn", "banjie/1", "-ign_eof"])
      let seen = try await server.recorder.wait { !$0.errors.isEmpty }
      #expect(seen.sessions.isEmpty)
      #expect(seen.tlsErrorText.contains("peer did not return a certificate"))
      #expect(result.status != 0, "\(result.output)")
      #expect(result.output.contains("certificate required"), "\(result.output)")
    }
  }

  @Test("ALPN without banjie/1 gets no_application_protocol")
  func wrongALPN() async throws {
    try await withPKI { pki in
      let server = try await TestServer.start(configuration: pki.serverConfiguration())
      defer { Task { await server.stop() } }
      let result = try await self.sClient(
        pki, port: server.port,
        [
          "-alpn", "h2,http/1.1", "-cert", pki.clerk.certificateFile, "-key", pki.clerk.privateKeyFile,
        ])
      #expect(result.status != 0)
      #expect(result.output.contains("no application protocol"), "\(result.output)")
    }
  }
}
