import BanjieTLS
import Foundation
import GRPCNIOTransportHTTP2

/// A county CA, a server certificate for 127.0.0.1 and one clerk's client certificate, written
/// as PEM files once per run. Both transports load exactly these files.
struct BenchPKI: Sendable {
  var caFile: String
  var serverCertificateFile: String
  var serverKeyFile: String
  var clientCertificateFile: String
  var clientKeyFile: String

  static func create() throws -> BenchPKI {
    let base = FileManager.default.temporaryDirectory.appendingPathComponent("banjie-bench-\(getpid())").path
    try? FileManager.default.removeItem(atPath: base)
    try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
    let ca = try CertificateAuthority.create(directory: base + "/ca")
    let server = try ca.issueServerCertificate(dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"])
    let client = try ca.issueClientCertificate(role: .clerk, organization: "bench", person: "bench")
    return BenchPKI(
      caFile: ca.certificateFile,
      serverCertificateFile: server.certificateFile,
      serverKeyFile: server.privateKeyFile,
      clientCertificateFile: client.certificateFile,
      clientKeyFile: client.privateKeyFile
    )
  }

  /// The directory holding everything (removed at the end of a run).
  var directory: String { URL(fileURLWithPath: self.caFile).deletingLastPathComponent().deletingLastPathComponent().path }

  // MARK: banjie (system OpenSSL)

  func banjieServerContext() throws -> TLSContext {
    try TLSContext(
      configuration: .server(
        certificateChainFile: self.serverCertificateFile, privateKeyFile: self.serverKeyFile, trustRootsFile: self.caFile))
  }

  func banjieClientContext() throws -> TLSContext {
    try TLSContext(
      configuration: .client(
        certificateChainFile: self.clientCertificateFile, privateKeyFile: self.clientKeyFile, trustRootsFile: self.caFile))
  }

  // MARK: grpc-swift-nio-transport (swift-nio-ssl, BoringSSL)

  /// Mutual TLS: the server requires a client certificate issued by the county CA.
  func grpcServerSecurity() -> HTTP2ServerTransport.Posix.TransportSecurity {
    .mTLS(
      certificateChain: [.file(path: self.serverCertificateFile, format: .pem)],
      privateKey: .file(path: self.serverKeyFile, format: .pem)
    ) { config in
      config.trustRoots = .certificates([.file(path: self.caFile, format: .pem)])
      config.clientCertificateVerification = .noHostnameVerification
    }
  }

  /// The client presents the clerk certificate and verifies the server (including its IP SAN)
  /// against the county CA only.
  func grpcClientSecurity() -> HTTP2ClientTransport.Posix.TransportSecurity {
    .mTLS(
      certificateChain: [.file(path: self.clientCertificateFile, format: .pem)],
      privateKey: .file(path: self.clientKeyFile, format: .pem)
    ) { config in
      config.trustRoots = .certificates([.file(path: self.caFile, format: .pem)])
      config.serverCertificateVerification = .fullVerification
    }
  }
}
