import ArgumentParser
import BanjieCore
import BanjieProto
import BanjieTLS
import Foundation

struct Certs: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: t("certs.abstract"),
    subcommands: [Init.self, Issue.self, Server.self]
  )

  struct Init: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: t("certs.init.abstract"),
      discussion: t("certs.init.discussion")
    )

    @Option(name: .long, help: ArgumentHelp(t("certs.help.initDir"))) var dir: String
    @Option(name: .long, help: ArgumentHelp(t("certs.help.name"))) var name: [String] = []
    @Option(name: .long, help: ArgumentHelp(t("certs.help.ip"))) var ip: [String] = []
    @Option(name: .long, help: ArgumentHelp(t("certs.help.caName"))) var caName = "banjie county CA"
    @Flag(name: .long, help: ArgumentHelp(t("certs.help.json"))) var json = false

    func run() async throws {
      try FileManager.default.createDirectory(atPath: self.dir, withIntermediateDirectories: true)
      let ca: CertificateAuthority
      do {
        ca = try CertificateAuthority.create(directory: self.dir, commonName: self.caName)
      } catch {
        throw CLIError(exitCode: 1, message: t("certs.error.create", self.dir, "\(error)"))
      }
      let server = try ca.issueServerCertificate(dnsNames: ["localhost"] + self.name, ipAddresses: ["127.0.0.1"] + self.ip)
      if self.json {
        try printJSON([
          "ca": ca.certificateFile, "caKey": ca.privateKeyFile, "serverCertificate": server.certificateFile,
          "serverKey": server.privateKeyFile,
        ])
      } else {
        print(t("certs.init.ca", ca.certificateFile, ca.privateKeyFile))
        print(t("certs.init.server", server.certificateFile, server.privateKeyFile))
        print(t("certs.init.next", self.dir))
      }
    }
  }

  struct Issue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: t("certs.issue.abstract"),
      discussion: t("certs.issue.discussion")
    )

    @Option(name: .long, help: ArgumentHelp(t("certs.help.dir"))) var dir: String
    @Option(name: .long, help: ArgumentHelp(t("certs.help.role"))) var role: String
    @Option(name: .long, help: ArgumentHelp(t("certs.help.org"))) var org: String
    @Option(name: .long, help: ArgumentHelp(t("certs.help.person"))) var name: String
    @Option(name: .long, help: ArgumentHelp(t("certs.help.days"))) var days = 365
    @Option(name: .long, help: ArgumentHelp(t("certs.help.catalog"))) var catalog: String?
    @Flag(name: .long, help: ArgumentHelp(t("certs.help.force"))) var force = false
    @Option(name: .long, help: ArgumentHelp(t("certs.help.reason")), transform: Normalize.text) var reason: String?
    @Flag(name: .long, help: ArgumentHelp(t("certs.help.json"))) var json = false

    /// The catalog a clerk's department is checked against when `--catalog` is not given.
    static let defaultCatalog = "catalog/sample-county.json"

    func validate() throws {
      guard PeerIdentity.Role(rawValue: self.role) != nil else {
        throw ValidationError(t("certs.error.role"))
      }
      guard !self.org.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError(t("certs.error.org")) }
      guard !self.name.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError(t("certs.error.name")) }
      // Such a certificate would carry no identity (docs/SECURITY.md); a usage error before the CA is touched.
      guard !PeerIdentity.containsControlCharacter(self.org) else { throw ValidationError(t("certs.error.orgControl")) }
      guard !PeerIdentity.containsControlCharacter(self.name) else { throw ValidationError(t("certs.error.nameControl")) }
      guard (1...3650).contains(self.days) else { throw ValidationError(t("certs.error.days")) }
      if self.force && (self.reason ?? "").isEmpty { throw ValidationError(t("certs.error.forceNeedsReason")) }
      if !self.force && self.reason != nil { throw ValidationError(t("certs.error.reasonNeedsForce")) }
    }

    /// The organisation the certificate will name: a clerk's department code, an enterprise's
    /// USCC and a rating pad's window code as Chinese keyboards type them (NFKC, trimmed, upper
    /// case); others as given.
    var organization: String {
      switch PeerIdentity.Role(rawValue: self.role) {
      case .clerk?, .enterprise?, .pad?: Normalize.code(self.org)
      default: self.org
      }
    }

    /// The person the certificate will name: a rating pad's device id normalised like its window
    /// code (the server compares both as the office registered them); others as given.
    var person: String {
      PeerIdentity.Role(rawValue: self.role) == .pad ? Normalize.code(self.name) : self.name
    }

    /// Why the organisation is refused, or nil: a clerk's must be a department code of the
    /// catalog file, an enterprise's a USCC with the right check character (docs/DOMAIN.md §18),
    /// a rating pad's a well-formed window code and its name a well-formed device id (§21; whether
    /// they are registered only the server knows).
    func organizationProblem(_ role: PeerIdentity.Role) -> String? {
      switch role {
      case .clerk:
        let path = self.catalog ?? (FileManager.default.fileExists(atPath: Self.defaultCatalog) ? Self.defaultCatalog : nil)
        guard let path else { return t("certs.check.noCatalog", self.organization, Self.defaultCatalog) }
        let departments: [String]
        do {
          let text = try String(contentsOfFile: path, encoding: .utf8)
          departments = try Banjie_V1_ImportCatalogRequest(jsonString: text).departments.map(\.code)
        } catch {
          return t("certs.check.badCatalog", path, "\(error)")
        }
        guard departments.contains(self.organization) else {
          return t("certs.check.unknownDepartment", self.organization, path, departments.sorted().joined(separator: ", "))
        }
        return nil
      case .enterprise:
        do {
          _ = try USCC.validate(self.organization)
          return nil
        } catch {
          let language = MessageLanguage(rawValue: Language.current.rawValue) ?? .en
          return t("certs.check.badUSCC", self.organization, error.localizedMessage(language))
        }
      case .pad:
        let language = MessageLanguage(rawValue: Language.current.rawValue) ?? .en
        do {
          _ = try WindowCode.parse(self.organization, field: "--org")
          _ = try RatingDeviceID.parse(self.person, field: "--name")
          return nil
        } catch {
          return t("certs.check.badPad", self.organization, self.person, error.localizedMessage(language))
        }
      default:
        return nil
      }
    }

    func run() async throws {
      guard let role = PeerIdentity.Role(rawValue: self.role) else { throw ExitCode(64) }
      // Checked before the CA is touched, so a refusal writes nothing.
      if let problem = self.organizationProblem(role) {
        guard self.force, let reason = self.reason else {
          throw CLIError(exitCode: 64, message: t("certs.error.refused", problem))
        }
        FileHandle.standardError.write(Data((t("certs.warning.forced", problem, reason) + "\n").utf8))
      }
      let ca: CertificateAuthority
      do {
        ca = try CertificateAuthority.load(directory: self.dir)
      } catch {
        throw CLIError(
          exitCode: 1, message: t("certs.error.load", self.dir, "\(error)"))
      }
      let issued = try ca.issueClientCertificate(
        role: role, organization: self.organization, person: self.person, validityDays: self.days)
      // The profile the holder would use: `banjie profile init` with these files.
      let name = URL(fileURLWithPath: issued.certificateFile).deletingPathExtension().lastPathComponent
      let profile = [
        "banjie", "profile", "init", "--name", name, "--ca", self.dir + "/ca.pem", "--cert", issued.certificateFile, "--key",
        issued.privateKeyFile,
      ].map { $0.contains(" ") ? "'\($0)'" : $0 }.joined(separator: " ")
      if self.json {
        try printJSON([
          "certificate": issued.certificateFile, "key": issued.privateKeyFile, "serial": issued.serialNumber, "profile_command": profile,
        ])
      } else {
        print(t("certs.out.certificate", issued.certificateFile))
        print(t("certs.out.key", issued.privateKeyFile))
        print(t("certs.out.serial", issued.serialNumber))
        print(t("certs.out.profile", profile))
      }
    }
  }
}

extension Certs {
  struct Server: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: t("certs.server.abstract"),
      discussion: t("certs.server.discussion")
    )

    @Option(name: .long, help: ArgumentHelp(t("certs.help.dir"))) var dir: String
    @Option(name: .long, help: ArgumentHelp(t("certs.help.name"))) var name: [String] = []
    @Option(name: .long, help: ArgumentHelp(t("certs.help.ip"))) var ip: [String] = []
    @Option(name: .long, help: ArgumentHelp(t("certs.help.file"))) var file = "server"
    @Option(name: .long, help: ArgumentHelp(t("certs.help.days"))) var days = 825
    @Flag(name: .long, help: ArgumentHelp(t("certs.help.json"))) var json = false

    func validate() throws {
      guard (1...3650).contains(self.days) else { throw ValidationError(t("certs.error.days")) }
      guard !self.file.isEmpty, !self.file.contains("/"), self.file != "ca" else {
        throw ValidationError(t("certs.error.file"))
      }
    }

    func run() async throws {
      let ca: CertificateAuthority
      do {
        ca = try CertificateAuthority.load(directory: self.dir)
      } catch {
        throw CLIError(
          exitCode: 1, message: t("certs.error.load", self.dir, "\(error)"))
      }
      let issued: (certificateFile: String, privateKeyFile: String)
      let certificate: PeerCertificate
      do {
        issued = try ca.issueServerCertificate(
          name: self.file, dnsNames: ["localhost"] + self.name, ipAddresses: ["127.0.0.1"] + self.ip, validityDays: self.days)
        certificate = try PeerCertificate(pemFile: issued.certificateFile)
      } catch {
        throw CLIError(exitCode: 1, message: t("certs.error.issueServer", "\(error)"))
      }
      if self.json {
        try printJSON([
          "certificate": issued.certificateFile, "key": issued.privateKeyFile, "serial": certificate.serialNumber,
          "notAfter": ISO8601DateFormatter().string(from: certificate.notAfter),
        ])
      } else {
        print(t("certs.out.certificate", issued.certificateFile))
        print(t("certs.out.key", issued.privateKeyFile))
        print(t("certs.out.serial", certificate.serialNumber))
        // A person reads it: Asia/Shanghai, as every time the CLI shows (the JSON keeps ISO 8601).
        let formatter = DateFormatter()
        formatter.timeZone = TimeZone(identifier: "Asia/Shanghai")
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        print(t("certs.out.validUntil", formatter.string(from: certificate.notAfter)))
        print(t("certs.server.next"))
      }
    }
  }
}
