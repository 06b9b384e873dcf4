import ArgumentParser
import BanjieProto
import BanjieTransport
import Foundation
import GRPCCore

struct Health: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: t("health.abstract"),
    discussion: t("health.discussion")
  )

  @OptionGroup var connection: ConnectionOptions
  @Flag(name: .long, help: ArgumentHelp(t("output.help.json"))) var json = false

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
    /// The county settings in force, one line in the caller's language (`banjie settings show`).
    var settings: String
  }

  func run() async throws {
    let (report, serverCertificateNotAfter, serverTime) = try await self.connection.withClient { client, transport, resolved in
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
      let report = Report(
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
        timeZone: info.timeZone,
        settings: info.settings
      )
      return (report, serverCertificate?.notAfter, info.serverTime.date)
    }
    if self.json {
      try printJSON(report)
    } else {
      // Times for people: Asia/Shanghai, to the second (the JSON keeps ISO 8601 with the offset).
      let notAfter = serverCertificateNotAfter.map { HumanText.time($0, seconds: true) } ?? ""
      let status = HumanText.known("health.serving.\(report.status)", or: report.status)
      print(t("health.status", report.version, report.server, status))
      var rows: [(String, String)] = [
        (t("health.label.protocol"), t("health.value.protocol", report.wireProtocol, report.tlsVersion, report.tlsCipher)),
        (t("health.label.you"), t("health.value.you", HumanText.role(report.role), report.person, report.organization)),
        (t("health.label.certificate"), t("health.value.certificate", report.certificateSerial, report.certificateSHA256.prefix(16))),
        (t("health.label.serverCert"), t("health.value.serverCert", report.serverCertificateSerial, notAfter)),
        (t("health.label.roundTrip"), t("health.value.roundTrip", String(format: "%.3f", report.roundTripMilliseconds))),
        (t("health.label.serverTime"), t("health.value.serverTime", HumanText.time(serverTime, seconds: true), report.timeZone)),
      ]
      // A server from before the settings sends none.
      if !report.settings.isEmpty { rows.append((t("health.label.settings"), report.settings)) }
      let width = max(13, (rows.map { displayWidth($0.0) }.max() ?? 0) + 2)
      for (label, value) in rows { print(pad(label, to: width) + value) }
    }
    // A load balancer's health check (docs/OPERATIONS.md, "Two nodes behind HAProxy") reads the
    // exit code: a server that answers but is not serving (draining) is not up.
    guard report.status == "SERVING" else { throw ExitCode(69) }
  }
}
