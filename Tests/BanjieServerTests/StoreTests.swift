import BanjieCore
import Foundation
import GRDB
import Testing

@testable import BanjieStore

@Suite("Store")
struct StoreTests {
  static func withStore(_ body: (BanjieStore) async throws -> Void) async throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("banjie-store-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try await body(try BanjieStore(path: dir + "/banjie.sqlite"))
  }

  @Test("the audit log refuses UPDATE and DELETE")
  func appendOnly() async throws {
    try await Self.withStore { store in
      _ = try await store.importCatalog(departments: [DepartmentRecord(code: "D1", name: "一局")], items: [], actor: .system, now: Date())
      #expect(throws: DatabaseError.self) { try store.pool.write { try $0.execute(sql: "UPDATE audit_log SET action = 'x'") } }
      #expect(throws: DatabaseError.self) { try store.pool.write { try $0.execute(sql: "DELETE FROM audit_log") } }
      #expect(try await store.verifyAudit().ok)
    }
  }

  @Test("tampering is found and the first broken row named")
  func tamperDetected() async throws {
    try await Self.withStore { store in
      let departments = (1...5).map { DepartmentRecord(code: "D\($0)", name: "局\($0)") }
      _ = try await store.importCatalog(departments: departments, items: [], actor: .system, now: Date())
      let before = try await store.verifyAudit()
      #expect(before.ok)
      #expect(before.rows == 5)
      // Someone with file access drops the guard and edits row 3.
      try await store.pool.write { db in
        try db.execute(sql: "DROP TRIGGER audit_log_no_update")
        try db.execute(sql: "UPDATE audit_log SET entity_id = 'D9' WHERE id = 3")
      }
      let result = try await store.verifyAudit()
      #expect(!result.ok)
      #expect(result.firstBrokenID == 3)
    }
  }

  /// The chain's bytes must never change: databases written by earlier builds have to verify.
  /// The expected hashes were computed outside Swift (Python's hashlib) over the canonical form
  /// AuditLog hashes: each field as its UTF-8 byte count, ":", its bytes, in the order id, at,
  /// role, organization, person, serial, action, entity, entity_id, detail, prev_hash.
  @Test("the audit chain hashes fixed rows exactly as earlier builds did")
  func auditChainGolden() async throws {
    try await Self.withStore { store in
      let office = Actor(role: .office, organization: "县政务服务中心", person: "张三", certificateSerial: "0A1B")
      let start = Date(timeIntervalSince1970: 1_767_225_600)  // 2026-01-01T00:00:00Z
      try store.pool.write { db in
        try AuditLog.append(
          db, at: start, actor: office, action: "catalog.import", entity: "department", entityID: "D1",
          detail: ["reason": "a b", "code": "D1"])
        try AuditLog.append(db, at: start.addingTimeInterval(60), actor: .system, action: "case.sweep", entity: "case", entityID: "42")
      }
      let rows = try store.pool.read { db in
        try Row.fetchAll(db, sql: "SELECT id, at, detail, prev_hash, hash FROM audit_log ORDER BY id")
      }
      try #require(rows.count == 2)
      let first = "9670565a1404c3e271125fd3f330cfee62cfbddcc4efbd1e4427ab80ad00df73"
      #expect(rows[0]["at"] as String == "2026-01-01T00:00:00.000Z")
      #expect(rows[0]["detail"] as String == #"{"code":"D1","reason":"a b"}"#)
      #expect(rows[0]["prev_hash"] as String == String(repeating: "0", count: 64))
      #expect(rows[0]["hash"] as String == first)
      #expect(rows[1]["at"] as String == "2026-01-01T00:01:00.000Z")
      #expect(rows[1]["detail"] as String == "{}")
      #expect(rows[1]["prev_hash"] as String == first)
      #expect(rows[1]["hash"] as String == "695d1e55ec87bd7b3d179d10a20ccbacff08061da7899f9bbe58a3de80260225")
      let verification = try store.pool.read { db in try AuditLog.verify(db) }
      #expect(verification.ok && verification.rows == 2)
    }
  }
}
