import BanjieCore
import BanjieStore
import Foundation
import GRDB
import Testing

@Suite("Store")
struct StoreTests {
  static func withStore(_ body: (BanjieStore) throws -> Void) throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("banjie-store-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try body(try BanjieStore(path: dir + "/banjie.sqlite"))
  }

  @Test("the audit log refuses UPDATE and DELETE")
  func appendOnly() throws {
    try Self.withStore { store in
      _ = try store.importCatalog(departments: [DepartmentRecord(code: "D1", name: "一局")], items: [], actor: .system, now: Date())
      #expect(throws: DatabaseError.self) { try store.pool.write { try $0.execute(sql: "UPDATE audit_log SET action = 'x'") } }
      #expect(throws: DatabaseError.self) { try store.pool.write { try $0.execute(sql: "DELETE FROM audit_log") } }
      #expect(try store.verifyAudit().ok)
    }
  }

  @Test("tampering is found and the first broken row named")
  func tamperDetected() throws {
    try Self.withStore { store in
      let departments = (1...5).map { DepartmentRecord(code: "D\($0)", name: "局\($0)") }
      _ = try store.importCatalog(departments: departments, items: [], actor: .system, now: Date())
      let before = try store.verifyAudit()
      #expect(before.ok)
      #expect(before.rows == 5)
      // Someone with file access drops the guard and edits row 3.
      try store.pool.write { db in
        try db.execute(sql: "DROP TRIGGER audit_log_no_update")
        try db.execute(sql: "UPDATE audit_log SET entity_id = 'D9' WHERE id = 3")
      }
      let result = try store.verifyAudit()
      #expect(!result.ok)
      #expect(result.firstBrokenID == 3)
    }
  }

  @Test("SHA-256 matches the FIPS 180-4 examples")
  func sha256() {
    #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    #expect(SHA256.hex([UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    #expect(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
  }
}
