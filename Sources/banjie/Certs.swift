import ArgumentParser
import BanjieTLS
import Foundation

struct Certs: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run the county's private certificate authority (see certs/README.md).",
    subcommands: [Init.self, Issue.self, Server.self]
  )

  struct Init: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Create a CA and a server certificate in a folder (ca.pem, ca.key, server.pem, server.key).",
      discussion: "The server certificate names localhost and 127.0.0.1 plus any --name/--ip given. ca.key must stay with the office."
    )

    @Option(name: .long, help: "Folder to create the CA in.") var dir: String
    @Option(name: .long, help: "Extra DNS name for the server certificate (repeatable).") var name: [String] = []
    @Option(name: .long, help: "Extra IP address for the server certificate (repeatable).") var ip: [String] = []
    @Option(name: .long, help: "The CA's name.") var caName = "banjie county CA"
    @Flag(name: .long, help: "Print JSON.") var json = false

    func run() async throws {
      try FileManager.default.createDirectory(atPath: self.dir, withIntermediateDirectories: true)
      let ca: CertificateAuthority
      do {
        ca = try CertificateAuthority.create(directory: self.dir, commonName: self.caName)
      } catch {
        throw CLIError(exitCode: 1, message: "cannot create the CA in \(self.dir): \(error)")
      }
      let server = try ca.issueServerCertificate(dnsNames: ["localhost"] + self.name, ipAddresses: ["127.0.0.1"] + self.ip)
      if self.json {
        try printJSON([
          "ca": ca.certificateFile, "caKey": ca.privateKeyFile, "serverCertificate": server.certificateFile,
          "serverKey": server.privateKeyFile,
        ])
      } else {
        print("CA                  \(ca.certificateFile)  (key \(ca.privateKeyFile): keep it safe)")
        print("server certificate  \(server.certificateFile)  (key \(server.privateKeyFile))")
        print("next: banjie certs issue --dir \(self.dir) --role office --org 370830-YSB --name 李明")
      }
    }
  }

  struct Issue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Issue a client certificate naming a role, an organisation and a person.",
      discussion: "Organisation: a department code for clerks and liaison officials, the enterprise's USCC for enterprises."
    )

    @Option(name: .long, help: "Folder of the CA (from `certs init`).") var dir: String
    @Option(name: .long, help: "clerk, enterprise, liaison or office.") var role: String
    @Option(name: .long, help: "Department code or USCC.") var org: String
    @Option(name: .long, help: "The person's name.") var name: String
    @Option(name: .long, help: "Days the certificate is valid.") var days = 365
    @Flag(name: .long, help: "Print JSON.") var json = false

    func validate() throws {
      guard PeerIdentity.Role(rawValue: self.role) != nil else {
        throw ValidationError("--role must be one of clerk, enterprise, liaison, office")
      }
      guard !self.org.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("--org must not be empty") }
      guard !self.name.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("--name must not be empty") }
      guard (1...3650).contains(self.days) else { throw ValidationError("--days must be 1...3650") }
    }

    func run() async throws {
      guard let role = PeerIdentity.Role(rawValue: self.role) else { throw ExitCode(64) }
      let ca: CertificateAuthority
      do {
        ca = try CertificateAuthority.load(directory: self.dir)
      } catch {
        throw CLIError(
          exitCode: 1, message: "cannot load the CA from \(self.dir) (run `banjie certs init --dir \(self.dir)` first): \(error)")
      }
      let issued = try ca.issueClientCertificate(role: role, organization: self.org, person: self.name, validityDays: self.days)
      if self.json {
        try printJSON(["certificate": issued.certificateFile, "key": issued.privateKeyFile, "serial": issued.serialNumber])
      } else {
        print("certificate  \(issued.certificateFile)")
        print("key          \(issued.privateKeyFile)")
        print("serial       \(issued.serialNumber)")
      }
    }
  }
}

extension Certs {
  struct Server: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Issue a new server certificate from an existing CA (to renew or rotate banjied's).",
      discussion: """
        Writes <dir>/<file>.pem and .key, each replaced atomically (key first). The certificate names
        localhost and 127.0.0.1 plus any --name/--ip given. Put them where banjied's tls.certificate and
        tls.private_key point and send banjied SIGHUP (or run `banjie admin reload-tls`): new connections
        get the new certificate, open ones go on. Rotation: docs/OPERATIONS.md.
        """
    )

    @Option(name: .long, help: "Folder of the CA (from `certs init`).") var dir: String
    @Option(name: .long, help: "Extra DNS name for the server certificate (repeatable).") var name: [String] = []
    @Option(name: .long, help: "Extra IP address for the server certificate (repeatable).") var ip: [String] = []
    @Option(name: .long, help: "File name without extension (default server: replaces <dir>/server.pem and .key).") var file = "server"
    @Option(name: .long, help: "Days the certificate is valid.") var days = 825
    @Flag(name: .long, help: "Print JSON.") var json = false

    func validate() throws {
      guard (1...3650).contains(self.days) else { throw ValidationError("--days must be 1...3650") }
      guard !self.file.isEmpty, !self.file.contains("/"), self.file != "ca" else {
        throw ValidationError("--file must be a plain name other than ca")
      }
    }

    func run() async throws {
      let ca: CertificateAuthority
      do {
        ca = try CertificateAuthority.load(directory: self.dir)
      } catch {
        throw CLIError(
          exitCode: 1, message: "cannot load the CA from \(self.dir) (run `banjie certs init --dir \(self.dir)` first): \(error)")
      }
      let issued: (certificateFile: String, privateKeyFile: String)
      let certificate: PeerCertificate
      do {
        issued = try ca.issueServerCertificate(
          name: self.file, dnsNames: ["localhost"] + self.name, ipAddresses: ["127.0.0.1"] + self.ip, validityDays: self.days)
        certificate = try PeerCertificate(pemFile: issued.certificateFile)
      } catch {
        throw CLIError(exitCode: 1, message: "cannot issue the server certificate: \(error)")
      }
      if self.json {
        try printJSON([
          "certificate": issued.certificateFile, "key": issued.privateKeyFile, "serial": certificate.serialNumber,
          "notAfter": ISO8601DateFormatter().string(from: certificate.notAfter),
        ])
      } else {
        print("certificate  \(issued.certificateFile)")
        print("key          \(issued.privateKeyFile)")
        print("serial       \(certificate.serialNumber)")
        print("valid until  \(ISO8601DateFormatter().string(from: certificate.notAfter))")
        print("next: put them where banjied's tls.certificate and tls.private_key point, then kill -HUP banjied")
      }
    }
  }
}
