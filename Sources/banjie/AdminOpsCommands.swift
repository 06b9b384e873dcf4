import ArgumentParser
import BanjieCrypto
import BanjieProto
import Foundation
import GRPCCore

extension AdminCommand {
  struct Revoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: t("admin.revoke.abstract")
    )
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: ArgumentHelp(t("admin.revoke.help.serial"))) var serial: String
    @Option(name: .long, help: ArgumentHelp(t("admin.revoke.help.reason"))) var reason: String
    @Flag(name: .long, help: ArgumentHelp(t("admin.help.json"))) var json = false
    func run() async throws {
      let result = try await self.connection.withClient { client, _, _ in
        try await Banjie_V1_CertificateAdminService.Client(wrapping: client).revokeCertificate(
          .with {
            $0.serial = self.serial
            $0.reason = self.reason
          }, options: self.connection.callOptions)
      }
      if self.json {
        print(try result.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      print(t("admin.revoke.done", result.serial, result.reason, HumanText.by(result.revokedBy), result.connectionsClosed))
    }
  }

  struct ReloadTLS: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "reload-tls",
      abstract: t("admin.reloadTLS.abstract"),
      discussion: t("admin.reloadTLS.discussion")
    )
    @OptionGroup var connection: ConnectionOptions
    @Flag(name: .long, help: ArgumentHelp(t("admin.help.json"))) var json = false
    func run() async throws {
      let result = try await self.connection.withClient { client, _, _ in
        try await Banjie_V1_CertificateAdminService.Client(wrapping: client).reloadTLS(.init(), options: self.connection.callOptions)
      }
      if self.json {
        print(try result.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      print(
        t(
          "admin.reloadTLS.done", result.certificateSerial, result.certificateSubject, CaseOutput.shortTime(result.notAfter),
          result.revocationsListed, result.connectionsClosed))
    }
  }

  struct Revocations: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("admin.revocations.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @Flag(name: .long, help: ArgumentHelp(t("admin.help.json"))) var json = false
    @Flag(name: .long, help: ArgumentHelp(t("output.help.csv"))) var csv = false
    func validate() throws {
      if self.json && self.csv { throw ValidationError(t("output.error.jsonAndCSV")) }
    }
    func run() async throws {
      let result = try await self.connection.withClient { client, _, _ in
        try await Banjie_V1_CertificateAdminService.Client(wrapping: client).listRevocations(.init(), options: self.connection.callOptions)
      }
      if self.json {
        print(try result.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      if self.csv {
        LedgerCSV.revocations(result.revocations).print()
        return
      }
      var table = TextTable(
        t("admin.revocations.col.serial"), t("admin.revocations.col.revoked"), t("admin.revocations.col.by"),
        t("admin.revocations.col.reason"))
      for r in result.revocations { table.add([r.serial, CaseOutput.shortTime(r.revokedAt), HumanText.by(r.revokedBy), r.reason]) }
      print(table.render())
    }
  }

  struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: t("admin.backup.abstract"),
      discussion: t("admin.backup.discussion")
    )
    @OptionGroup var connection: ConnectionOptions
    @Option(name: .long, help: ArgumentHelp(t("admin.backup.help.out"))) var out: String
    func run() async throws {
      guard !FileManager.default.fileExists(atPath: self.out) else {
        throw CLIError(exitCode: 64, message: t("admin.backup.error.exists", self.out))
      }
      let partial = self.out + ".partial"
      guard FileManager.default.createFile(atPath: partial, contents: nil), let handle = FileHandle(forWritingAtPath: partial) else {
        throw CLIError(exitCode: 64, message: t("admin.backup.error.write", partial))
      }
      var options = self.connection.callOptions
      options.timeout = nil
      let (bytes, expected, hash) = try await self.connection.withClient { client, _, _ in
        // From the first byte again: after a lost connection the next server of a list sends
        // the whole backup anew.
        try handle.truncate(atOffset: 0)
        return try await Banjie_V1_CertificateAdminService.Client(wrapping: client).backup(.init(), options: options) { response in
          var hasher = SHA256.Hasher()
          var written: UInt64 = 0
          var expected: (UInt64, String)?
          for try await chunk in response.messages {
            if !chunk.data.isEmpty {
              try handle.write(contentsOf: chunk.data)
              hasher.update(chunk.data)
              written += UInt64(chunk.data.count)
            }
            if chunk.last { expected = (chunk.totalBytes, chunk.sha256) }
          }
          return (written, expected, SHA256.hex(&hasher))
        }
      }
      try handle.close()
      guard let expected, expected.0 == bytes, expected.1 == hash else {
        try? FileManager.default.removeItem(atPath: partial)
        throw CLIError(exitCode: 70, message: t("admin.backup.error.damaged", bytes))
      }
      try FileManager.default.moveItem(atPath: partial, toPath: self.out)
      print(t("admin.backup.done", self.out, bytes, hash))
    }
  }
}
