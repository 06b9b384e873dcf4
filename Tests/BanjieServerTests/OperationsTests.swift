import BanjieCore
import BanjieCrypto
import BanjieProto
import BanjieServer
import BanjieTLS
import Foundation
import GRDB
import GRPCCore
import Testing

@Suite("Operations: revocation and backup", .timeLimit(.minutes(10)))
struct OperationsTests {
  @Test("a revoked certificate's open connection is closed and it cannot connect again; others go on")
  func revocation() async throws {
    try await ServerHarness.run { h in
      let (certificate, _) = try ServerPKI.shared.client(.clerk, "SCJGJ", "将被吊销")
      let serial = try PeerCertificate(pemFile: certificate).serialNumber
      try await h.cases(.clerk, "SCJGJ", "将被吊销") { cases in
        _ = try await cases.submitCase(.sample())
        try await h.as_(.office, "YSB", "李明") { client in
          let admin = Banjie_V1_CertificateAdminService.Client(wrapping: client)
          let revoked = try await admin.revokeCertificate(
            .with {
              $0.serial = serial
              $0.reason = "证书遗失"
            })
          #expect(revoked.serial == serial.uppercased())
          #expect(revoked.connectionsClosed == 1)
          let listed = try await admin.listRevocations(.init())
          #expect(listed.revocations.map(\.serial) == [serial.uppercased()])
        }
        let error = await rpcError { _ = try await cases.submitCase(.sample()) }
        #expect(error?.code == .unavailable)
      }
      // Someone else is unaffected.
      let other = try await h.cases(.clerk, "SCJGJ", "张伟") { try await $0.submitCase(.sample()) }
      #expect(other.state == .received)
    }
  }

  @Test("a new connection with a revoked certificate is refused in the handshake; another certificate connects")
  func revokedNewConnection() async throws {
    try await ServerHarness.run { h in
      let (certificate, _) = try ServerPKI.shared.client(.clerk, "SCJGJ", "证书已吊销")
      let serial = try PeerCertificate(pemFile: certificate).serialNumber
      // It works before the revocation.
      let before = try await h.cases(.clerk, "SCJGJ", "证书已吊销") { try await $0.submitCase(.sample()) }
      #expect(before.state == .received)
      try await h.as_(.office, "YSB", "李明") { client in
        let revoked = try await Banjie_V1_CertificateAdminService.Client(wrapping: client)
          .revokeCertificate(
            .with {
              $0.serial = serial
              $0.reason = "离职收回"
            })
        // The client above has closed its connection: nothing was open to close.
        #expect(revoked.connectionsClosed == 0)
      }
      // A fresh connection: the server refuses the certificate during the TLS handshake with a
      // certificate_revoked alert (TLS 1.3: the client reads it instead of the server's preface),
      // so no call is ever read, let alone run.
      let error = await rpcError { _ = try await h.cases(.clerk, "SCJGJ", "证书已吊销") { try await $0.submitCase(.sample()) } }
      #expect(error?.code == .unavailable)
      #expect(error?.message.contains("alert certificate revoked") == true, "\(String(describing: error))")
      // Nothing was written for it: the one case is the one submitted before the revocation.
      let listed = try await h.cases(.office, "YSB", "李明") { try await $0.listCases(.init()) }
      #expect(listed.cases.map(\.number) == [before.number])
      // Another certificate of the same department connects and works.
      let other = try await h.cases(.clerk, "SCJGJ", "张伟") { try await $0.submitCase(.sample()) }
      #expect(other.state == .received)
    }
  }

  @Test("only the office revokes, and a serial must be hexadecimal")
  func revocationRules() async throws {
    try await ServerHarness.run { h in
      try await h.as_(.clerk, "SCJGJ", "张伟") { client in
        let error = await rpcError {
          _ = try await Banjie_V1_CertificateAdminService.Client(wrapping: client).revokeCertificate(
            .with {
              $0.serial = "0A"
              $0.reason = "x"
            })
        }
        #expect(error?.code == .permissionDenied)
      }
      try await h.as_(.office, "YSB", "李明") { client in
        let admin = Banjie_V1_CertificateAdminService.Client(wrapping: client)
        for bad in ["", "xyz", String(repeating: "A", count: 65)] {
          let error = await rpcError {
            _ = try await admin.revokeCertificate(
              .with {
                $0.serial = bad
                $0.reason = "lost"
              })
          }
          #expect(error?.code == .invalidArgument, "\(bad)")
        }
        let noReason = await rpcError {
          _ = try await admin.revokeCertificate(
            .with {
              $0.serial = "0A1B"
              $0.reason = " "
            })
        }
        #expect(noReason?.code == .invalidArgument)
        let remaining = try await admin.listRevocations(.init()).revocations
        #expect(remaining.isEmpty)
      }
    }
  }

  @Test("an online backup streams a consistent copy with a matching digest")
  func backup() async throws {
    try await ServerHarness.run { h in
      try await h.cases { cases in
        for _ in 0..<5 { _ = try await cases.submitCase(.sample()) }
      }
      let file = FileManager.default.temporaryDirectory.appendingPathComponent("banjie-backup-test-\(UUID().uuidString).sqlite").path
      defer { try? FileManager.default.removeItem(atPath: file) }
      if h.postgres != nil {
        // A PostgreSQL store is backed up with PostgreSQL's own tools: the call says so, in the
        // caller's language, and writes nothing (no audit row).
        let refused = await rpcError {
          try await h.as_(.office, "YSB", "李明") { client in
            try await Banjie_V1_CertificateAdminService.Client(wrapping: client).backup(.init()) { response in
              for try await _ in response.messages {}
            }
          }
        }
        #expect(refused?.code == .failedPrecondition)
        #expect(refused?.message.contains("pg_dump") == true)
        let audited = try h.database { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM audit_log WHERE action = 'database.backup'") }
        #expect(audited == 0)
        return
      }
      let digest = try await h.as_(.office, "YSB", "李明") { client -> String in
        try await Banjie_V1_CertificateAdminService.Client(wrapping: client).backup(.init()) { response in
          var data = Data()
          var digest = ""
          for try await chunk in response.messages {
            data.append(chunk.data)
            if chunk.last {
              #expect(chunk.totalBytes == UInt64(data.count))
              digest = chunk.sha256
            }
          }
          try data.write(to: URL(fileURLWithPath: file))
          #expect(SHA256.hex(Array(data)) == digest)
          return digest
        }
      }
      #expect(digest.count == 64)
      let copy = try DatabaseQueue(path: file)
      let (count, integrity) = try await copy.read { db in
        (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM cases") ?? -1, try String.fetchOne(db, sql: "PRAGMA integrity_check") ?? "")
      }
      #expect(count == 5)
      #expect(integrity == "ok")
      try await h.as_(.clerk, "SCJGJ", "张伟") { client in
        #expect(
          await rpcError {
            _ = try await Banjie_V1_CertificateAdminService.Client(wrapping: client).backup(.init()) { response in
              for try await _ in response.messages {}
            }
          }?.code == .permissionDenied)
      }
    }
  }

  @Test("incremental SHA-256 equals the one-shot digest for every split")
  func incrementalSHA() {
    let message = Array((0..<1000).map { UInt8($0 % 251) })
    let expected = SHA256.hex(message)
    for split in [0, 1, 55, 56, 63, 64, 65, 500, 999, 1000] {
      var hasher = SHA256.Hasher()
      hasher.update(message[0..<split])
      hasher.update(message[split...])
      #expect(SHA256.hex(&hasher) == expected)
    }
  }
}
