import BanjieCore
import BanjieProto
import BanjieServer
import BanjieTLS
import BanjieTransport
import Foundation
import GRPCCore
import Prometheus
import Testing

/// Server certificate rotation: `TLSReloader.reload` is what SIGHUP runs
/// (scripts/tls-rotation-check.sh sends a real SIGHUP to a real banjied).
@Suite("TLS rotation without dropping clients", .timeLimit(.minutes(10)))
struct TLSRotationTests {
  /// The server's own copies of its certificate and key, so a test may replace them.
  struct ServerFiles: Sendable {
    let directory: String
    var certificate: String { self.directory + "/server.pem" }
    var key: String { self.directory + "/server.key" }

    init() throws {
      self.directory = FileManager.default.temporaryDirectory.appendingPathComponent("banjie-rotation-\(UUID().uuidString)").path
      try FileManager.default.createDirectory(atPath: self.directory, withIntermediateDirectories: true)
      try self.install(ServerPKI.shared.server)
    }

    /// Puts a certificate and key in place the way an operator should: each written beside
    /// and renamed over the old one.
    func install(_ files: (certificateFile: String, privateKeyFile: String)) throws {
      try Self.replace(self.key, with: Data(contentsOf: URL(fileURLWithPath: files.privateKeyFile)))
      try Self.replace(self.certificate, with: Data(contentsOf: URL(fileURLWithPath: files.certificateFile)))
    }

    static func replace(_ path: String, with data: Data) throws {
      let temporary = path + ".new"
      try data.write(to: URL(fileURLWithPath: temporary))
      guard rename(temporary, path) == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path]) }
    }

    func remove() { try? FileManager.default.removeItem(atPath: self.directory) }
  }

  /// A newly issued server certificate from the test CA, under a name of its own.
  static func issueServerCertificate() throws -> (certificateFile: String, privateKeyFile: String) {
    try ServerPKI.shared.ca.issueServerCertificate(
      name: "server-\(UUID().uuidString.prefix(8))", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"])
  }

  static func serverSerial(_ transport: BanjieClientTransport) async throws -> String? {
    try await transport.currentSession()?.peerCertificate?.serialNumber
  }

  @Test("a reload with a new certificate: open connections go on with the old one, new connections get the new one")
  func rotation() async throws {
    let files = try ServerFiles()
    defer { files.remove() }
    let registry = PrometheusCollectorRegistry()
    let oldSerial = try PeerCertificate(pemFile: files.certificate).serialNumber
    try await ServerHarness.run(
      metricsRegistry: registry,
      configure: { configuration in
        configuration.certificateFile = files.certificate
        configuration.privateKeyFile = files.key
      }
    ) { h in
      try await h.connected(.clerk, "SCJGJ", "张伟") { client, transport in
        let cases = Banjie_V1_CaseService.Client(wrapping: client)
        let before = try await cases.submitCase(.sample())
        #expect(try await Self.serverSerial(transport) == oldSerial)

        let issued = try Self.issueServerCertificate()
        let newSerial = try PeerCertificate(pemFile: issued.certificateFile).serialNumber
        #expect(newSerial != oldSerial)
        try files.install(issued)
        let report = try await h.assembly.tlsReloader.reload(trigger: "test")
        #expect(report.certificate.serialNumber == newSerial)
        #expect(h.assembly.transport.connectionCount >= 1)

        // The open connection goes on: the same session, calls still answered.
        let accepted = try await cases.acceptCase(.number(before.number))
        #expect(accepted.state == .accepted)
        #expect(try await Self.serverSerial(transport) == oldSerial)

        // A new connection handshakes with the new certificate.
        try await h.connected(.clerk, "SCJGJ", "李娜") { other, otherTransport in
          let submitted = try await Banjie_V1_CaseService.Client(wrapping: other).submitCase(.sample())
          #expect(submitted.state == .received)
          #expect(try await Self.serverSerial(otherTransport) == newSerial)
        }
        // And the old connection still works after that.
        #expect(try await cases.getCase(.with { $0.number = before.number }).state == .accepted)
      }
      let metrics = PrometheusText(try await MetricsTests.get(port: try #require(h.metricsPort), path: "/metrics").body)
      #expect(metrics["banjie_tls_reloads_total", ["result": "ok"]] == 1)
      let notAfter = try PeerCertificate(pemFile: files.certificate).notAfter
      #expect(metrics["banjie_tls_certificate_expiry_timestamp_seconds", [:]] == notAfter.timeIntervalSince1970.rounded(.down))
    }
  }

  @Test("a corrupt certificate, a key that does not match or a missing file is refused; the old context keeps serving")
  func refusedReload() async throws {
    let files = try ServerFiles()
    defer { files.remove() }
    let registry = PrometheusCollectorRegistry()
    let oldSerial = try PeerCertificate(pemFile: files.certificate).serialNumber
    try await ServerHarness.run(
      metricsRegistry: registry,
      configure: { configuration in
        configuration.certificateFile = files.certificate
        configuration.privateKeyFile = files.key
      }
    ) { h in
      let original = try Data(contentsOf: URL(fileURLWithPath: files.certificate))
      // Corrupt: a PEM header over garbage.
      try ServerFiles.replace(
        files.certificate, with: Data("-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n".utf8))
      await #expect(throws: TLSReloadError.self) { try await h.assembly.tlsReloader.reload(trigger: "test") }
      try await Self.expectServing(h, serial: oldSerial)

      // A new certificate with the old key: they do not match.
      let issued = try Self.issueServerCertificate()
      try ServerFiles.replace(files.certificate, with: Data(contentsOf: URL(fileURLWithPath: issued.certificateFile)))
      do {
        try await h.assembly.tlsReloader.reload(trigger: "test")
        Issue.record("a key that does not match its certificate was accepted")
      } catch let error as TLSReloadError {
        // OpenSSL finds it when loading the key ("key values mismatch") or when checking the pair.
        #expect(error.description.contains("mismatch") || error.description.contains("does not match"))
      }
      try await Self.expectServing(h, serial: oldSerial)

      // The office's call reports the refusal as FAILED_PRECONDITION; the server goes on.
      try ServerFiles.replace(files.certificate, with: original)
      try FileManager.default.removeItem(atPath: files.key)
      try await h.as_(.office, "YSB", "李明") { client in
        let error = await rpcError { _ = try await Banjie_V1_CertificateAdminService.Client(wrapping: client).reloadTLS(.init()) }
        #expect(error?.code == .failedPrecondition)
        #expect(error?.message.contains(files.key) == true)
      }
      try await Self.expectServing(h, serial: oldSerial)
      let metrics = PrometheusText(try await MetricsTests.get(port: try #require(h.metricsPort), path: "/metrics").body)
      #expect(metrics["banjie_tls_reloads_total", ["result": "refused"]] == 3)
      #expect(metrics["banjie_tls_reloads_total", ["result": "ok"]] == 0)
    }
  }

  @Test("ReloadTLS is the office's; it answers with the certificate now in use")
  func reloadCall() async throws {
    let files = try ServerFiles()
    defer { files.remove() }
    try await ServerHarness.run(configure: { configuration in
      configuration.certificateFile = files.certificate
      configuration.privateKeyFile = files.key
    }) { h in
      try await h.as_(.clerk, "SCJGJ", "张伟") { client in
        let error = await rpcError { _ = try await Banjie_V1_CertificateAdminService.Client(wrapping: client).reloadTLS(.init()) }
        #expect(error?.code == .permissionDenied)
      }
      let issued = try Self.issueServerCertificate()
      let certificate = try PeerCertificate(pemFile: issued.certificateFile)
      try files.install(issued)
      let response = try await h.as_(.office, "YSB", "李明") { client in
        try await Banjie_V1_CertificateAdminService.Client(wrapping: client).reloadTLS(.init())
      }
      #expect(response.certificateSerial == certificate.serialNumber)
      #expect(response.certificateSubject == "localhost")
      #expect(response.notAfter.date == certificate.notAfter)
      try await Self.expectServing(h, serial: certificate.serialNumber)
    }
  }

  @Test("a serial added to the revocation file is refused after a reload and its open connection closed")
  func revocationFileReload() async throws {
    let files = try ServerFiles()
    defer { files.remove() }
    let revoked = files.directory + "/revoked.txt"
    try ServerFiles.replace(revoked, with: Data("# none yet\n".utf8))
    try await ServerHarness.run(configure: { configuration in
      configuration.certificateFile = files.certificate
      configuration.privateKeyFile = files.key
      configuration.revokedSerialsFile = revoked
    }) { h in
      let (certificate, _) = try ServerPKI.shared.client(.clerk, "SCJGJ", "将被列入吊销文件")
      let serial = try PeerCertificate(pemFile: certificate).serialNumber
      try await h.cases(.clerk, "SCJGJ", "将被列入吊销文件") { cases in
        _ = try await cases.submitCase(.sample())
        try ServerFiles.replace(revoked, with: Data("# lost 2026-11-30\n\(serial)\n".utf8))
        let report = try await h.assembly.tlsReloader.reload(trigger: "test")
        #expect(report.listedRevocations == 1)
        #expect(report.connectionsClosed == 1)
        let error = await rpcError { _ = try await cases.submitCase(.sample()) }
        #expect(error?.code == .unavailable)
      }
      #expect(h.environment.revocations.isRevoked(serial))
      // A bad line in the file is refused like a bad certificate, and what was listed stays.
      try ServerFiles.replace(revoked, with: Data("not-a-serial\n".utf8))
      await #expect(throws: TLSReloadError.self) { try await h.assembly.tlsReloader.reload(trigger: "test") }
      #expect(h.environment.revocations.isRevoked(serial))
    }
  }

  /// A new connection succeeds, presents `serial` and is answered.
  static func expectServing(_ h: ServerHarness, serial: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    try await h.connected(.clerk, "SCJGJ", "张伟") { client, transport in
      let info = try await Banjie_V1_SystemService.Client(wrapping: client).getServerInfo(.init())
      #expect(!info.version.isEmpty, sourceLocation: sourceLocation)
      #expect(try await Self.serverSerial(transport) == serial, sourceLocation: sourceLocation)
    }
  }
}
