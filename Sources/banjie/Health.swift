import ArgumentParser
import BanjieProto
import BanjieTransport
import Foundation
import GRPCCore

struct Health: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Check the server: its version, the TLS in use, who it thinks you are, the round trip."
  )

  @OptionGroup var connection: ConnectionOptions
  @Flag(name: .long, help: "Print JSON.") var json = false

  struct Report: Encodable {
    var server: String
    var status: String
    var version: String
    var wireProtocol: String
    var tlsVersion: String
    var tlsCipher: String
    var role: String
    var organization: String
    var person: String
    var certificateSerial: String
    var certificateSHA256: String
    /// The certificate the server presented on this (new) connection.
    var serverCertificateSerial: String
    var serverCertificateNotAfter: String
    var roundTripMilliseconds: Double
    var serverTime: String
    var timeZone: String
  }

  func run() async throws {
    let report = try await self.connection.withClient { client, transport, resolved in
      let health = Grpc_Health_V1_Health.Client(wrapping: client)
      let system = Banjie_V1_SystemService.Client(wrapping: client)
      let options = self.connection.callOptions
      let status = try await health.check(Grpc_Health_V1_HealthCheckRequest(), options: options).status
      let info = try await system.getServerInfo(Banjie_V1_GetServerInfoRequest(), options: options)
      // The connection is open now: time a few calls and take the median.
      var samples: [Double] = []
      for _ in 0..<5 {
        let start = ContinuousClock.now
        _ = try await health.check(Grpc_Health_V1_HealthCheckRequest(), options: options)
        let elapsed = ContinuousClock.now - start
        samples.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)
      }
      samples.sort()
      let serverCertificate = try await transport.currentSession()?.peerCertificate
      return Report(
        server: "\(resolved.host):\(resolved.port)",
        status: "\(status)".uppercased(),
        version: info.version,
        wireProtocol: info.protocol,
        tlsVersion: info.tlsVersion,
        tlsCipher: info.tlsCipher,
        role: info.caller.role,
        organization: info.caller.organization,
        person: info.caller.person,
        certificateSerial: info.caller.certificateSerial,
        certificateSHA256: info.caller.certificateSha256,
        serverCertificateSerial: serverCertificate?.serialNumber ?? "",
        serverCertificateNotAfter: serverCertificate.map { isoShanghai($0.notAfter) } ?? "",
        roundTripMilliseconds: (samples[samples.count / 2] * 1000).rounded() / 1000,
        serverTime: isoShanghai(info.serverTime.date),
        timeZone: info.timeZone
      )
    }
    if self.json {
      try printJSON(report)
    } else {
      print("banjied \(report.version) at \(report.server): \(report.status)")
      print("protocol     \(report.wireProtocol) over \(report.tlsVersion) (\(report.tlsCipher))")
      print("you are      \(report.role) \(report.person) of \(report.organization)")
      print("certificate  serial \(report.certificateSerial), sha256 \(report.certificateSHA256.prefix(16))…")
      print("server cert  serial \(report.serverCertificateSerial), valid until \(report.serverCertificateNotAfter)")
      print("round trip   \(String(format: "%.3f", report.roundTripMilliseconds)) ms (median of 5 calls)")
      print("server time  \(report.serverTime) (\(report.timeZone))")
    }
  }
}
