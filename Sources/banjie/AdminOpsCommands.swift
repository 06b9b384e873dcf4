import ArgumentParser
import BanjieCrypto
import BanjieProto
import Foundation
import GRPCCore

extension AdminCommand {
  struct Revoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Revoke a client certificate by serial (office): its new connections are refused and open ones closed at once."
    )
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "Certificate serial (hex), as `banjie certs issue` printed it.") var serial: String
    @Option(name: .long, help: "Why (recorded in the audit log).") var reason: String
    @Flag(name: .long, help: "Print JSON.") var json = false
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
      print("revoked \(result.serial) (\(result.reason)) by \(result.revokedBy); \(result.connectionsClosed) open connection(s) closed")
    }
  }

  struct ReloadTLS: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      commandName: "reload-tls",
      abstract: "Make the server re-read its certificate, key, client CA and revocation file (office); the same as SIGHUP.",
      discussion:
        "New connections use the new files; open ones go on. Files that do not load are refused (exit 65) and the current certificate stays in use. Rotation: docs/OPERATIONS.md."
    )
    @OptionGroup var connection: ConnectionOptions
    @Flag(name: .long, help: "Print JSON.") var json = false
    func run() async throws {
      let result = try await self.connection.withClient { client, _, _ in
        try await Banjie_V1_CertificateAdminService.Client(wrapping: client).reloadTLS(.init(), options: self.connection.callOptions)
      }
      if self.json {
        print(try result.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      print(
        "new connections use certificate \(result.certificateSerial) (\(result.certificateSubject)), valid until \(CaseOutput.shortTime(result.notAfter)); \(result.revocationsListed) serial(s) in the revocation file, \(result.connectionsClosed) open connection(s) closed"
      )
    }
  }

  struct Revocations: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List revoked certificates (office).")
    @OptionGroup var connection: ConnectionOptions
    @Flag(name: .long, help: "Print JSON.") var json = false
    func run() async throws {
      let result = try await self.connection.withClient { client, _, _ in
        try await Banjie_V1_CertificateAdminService.Client(wrapping: client).listRevocations(.init(), options: self.connection.callOptions)
      }
      if self.json {
        print(try result.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      var table = TextTable("serial", "revoked", "by", "reason")
      for r in result.revocations { table.add([r.serial, CaseOutput.shortTime(r.revokedAt), r.revokedBy, r.reason]) }
      print(table.render())
    }
  }

  struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Take an online backup of the server's database into a local file (office).",
      discussion:
        "Consistent while the server keeps serving. The file is checked against the server's SHA-256 before it is kept. Restore: docs/OPERATIONS.md."
    )
    @OptionGroup var connection: ConnectionOptions
    @Option(name: .long, help: "File to write (must not exist).") var out: String
    func run() async throws {
      guard !FileManager.default.fileExists(atPath: self.out) else {
        throw CLIError(exitCode: 64, message: "\(self.out) exists; choose another file")
      }
      let partial = self.out + ".partial"
      guard FileManager.default.createFile(atPath: partial, contents: nil), let handle = FileHandle(forWritingAtPath: partial) else {
        throw CLIError(exitCode: 64, message: "cannot write \(partial)")
      }
      var options = self.connection.callOptions
      options.timeout = nil
      let (bytes, expected, hash) = try await self.connection.withClient { client, _, _ in
        try await Banjie_V1_CertificateAdminService.Client(wrapping: client).backup(.init(), options: options) { response in
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
        throw CLIError(exitCode: 70, message: "the backup arrived incomplete or damaged (got \(bytes) bytes); nothing was kept")
      }
      try FileManager.default.moveItem(atPath: partial, toPath: self.out)
      print("backup written to \(self.out): \(bytes) bytes, sha256 \(hash)")
    }
  }
}
