public import BanjieCore
import BanjieCrypto
import Foundation
public import GRDB

/// The append-only, hash-chained record of every mutation.
public enum AuditLog {
  static let genesis = String(repeating: "0", count: 64)

  /// Appends one row inside the caller's transaction.
  public static func append(
    _ db: Database, at: Date, actor: Actor, action: String, entity: String, entityID: String, detail: [String: String] = [:]
  ) throws {
    try Self.append(SQLiteSQLConnection(db), at: at, actor: actor, action: action, entity: entity, entityID: entityID, detail: detail)
  }

  /// `append` on either engine. On PostgreSQL the caller's transaction holds the nodes' write
  /// lock (PostgresDatabase), so the head read here is the chain's head across every node.
  static func append(
    _ sql: any SQLConnection, at: Date, actor: Actor, action: String, entity: String, entityID: String, detail: [String: String] = [:]
  ) throws {
    // The chain's head: the last row's id and hash, one indexed step from the end.
    let head = try sql.fetchOne("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1")
    let prev = try head?.decode(String.self, at: 1) ?? genesis
    let id = (try head?.decode(Int64.self, at: 0) ?? 0) + 1
    let atText = Self.timestamp(at)
    let detailText = Self.canonicalJSON(detail)
    let hash = Self.hash(
      id: id, at: atText, actor: actor, action: action, entity: entity, entityID: entityID, detail: detailText, prev: prev)
    try sql.execute(
      """
      INSERT INTO audit_log (id, at, actor_role, actor_organization, actor_person, actor_serial, action, entity, entity_id, detail, prev_hash, hash)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
      """,
      [
        .integer(id), .text(atText), .text(actor.role.rawValue), .text(actor.organization), .text(actor.person),
        .text(actor.certificateSerial), .text(action), .text(entity), .text(entityID), .text(detailText), .text(prev), .text(hash),
      ])
  }

  public struct Verification: Sendable, Equatable {
    public var ok: Bool
    public var rows: Int64
    public var firstBrokenID: Int64?
    public var reason: String
  }

  /// Recomputes the chain from the first row and names the first row that does not match.
  public static func verify(_ db: Database) throws -> Verification {
    try Self.verify(SQLiteSQLConnection(db))
  }

  /// `verify` on either engine: walks the chain row by row without holding it whole.
  static func verify(_ sql: any SQLConnection) throws -> Verification {
    var prev = genesis
    var count: Int64 = 0
    var expectedID: Int64 = 1
    var broken: Verification?
    try sql.forEach(
      "SELECT id, at, actor_role, actor_organization, actor_person, actor_serial, action, entity, entity_id, detail, prev_hash, hash FROM audit_log ORDER BY id",
      []
    ) { row in
      guard broken == nil else { return }
      let id = try row.decode(Int64.self, at: 0)
      count += 1
      guard id == expectedID else {
        broken = Verification(ok: false, rows: count, firstBrokenID: id, reason: "row \(expectedID) is missing (found \(id))")
        return
      }
      expectedID += 1
      guard let role = Actor.Role(rawValue: try row.decode(String.self, at: 2)) else {
        broken = Verification(ok: false, rows: count, firstBrokenID: id, reason: "row \(id) has an unknown actor role")
        return
      }
      let actor = Actor(
        role: role, organization: try row.decode(at: 3), person: try row.decode(at: 4), certificateSerial: try row.decode(at: 5))
      let storedPrev = try row.decode(String.self, at: 10)
      guard storedPrev == prev else {
        broken = Verification(
          ok: false, rows: count, firstBrokenID: id, reason: "row \(id) does not follow row \(id - 1): its prev_hash differs")
        return
      }
      let expected = Self.hash(
        id: id, at: try row.decode(at: 1), actor: actor, action: try row.decode(at: 6), entity: try row.decode(at: 7),
        entityID: try row.decode(at: 8), detail: try row.decode(at: 9), prev: prev)
      let stored = try row.decode(String.self, at: 11)
      guard stored == expected else {
        broken = Verification(
          ok: false, rows: count, firstBrokenID: id, reason: "row \(id) was altered: its content no longer matches its hash")
        return
      }
      prev = stored
    }
    return broken ?? Verification(ok: true, rows: count, firstBrokenID: nil, reason: "")
  }

  static func hash(id: Int64, at: String, actor: Actor, action: String, entity: String, entityID: String, detail: String, prev: String)
    -> String
  {
    // Fields are length-prefixed so that no two different rows serialise alike.
    var bytes: [UInt8] = []
    for field in [
      String(id), at, actor.role.rawValue, actor.organization, actor.person, actor.certificateSerial, action, entity, entityID, detail,
      prev,
    ] {
      let utf8 = Array(field.utf8)
      bytes.append(contentsOf: Array(String(utf8.count).utf8))
      bytes.append(0x3A)
      bytes.append(contentsOf: utf8)
    }
    return SHA256.hex(bytes)
  }

  /// UTC with milliseconds, e.g. 2026-11-30T01:15:48.894Z: the text of every `at` in the chain,
  /// exactly as ISO8601DateFormatter writes it (milliseconds rounded to the nearest), by
  /// arithmetic: a formatter made per row cost more than the row's SQL.
  public static func timestamp(_ date: Date) -> String {
    Self.utcText(milliseconds: Int64((date.timeIntervalSince1970 * 1000).rounded()), dateTimeSeparator: UInt8(ascii: "T"), zulu: true)
  }

  /// "YYYY-MM-DD" separator "HH:MM:SS.mmm", then "Z" when `zulu`, in UTC, of a count of
  /// milliseconds since 1970 (years 0…9999), written into the string's own storage: appending
  /// character by character cost more than the SQL of the row it goes into.
  static func utcText(milliseconds: Int64, dateTimeSeparator: UInt8, zulu: Bool) -> String {
    let (days, inDay) = Self.floorDivision(milliseconds, 86_400_000)
    let day = LocalDate(dayNumber: Int(days))
    let ms = Int(inDay)
    return String(unsafeUninitializedCapacity: 24) { buffer in
      var at = 0
      func put(_ byte: UInt8) {
        buffer[at] = byte
        at += 1
      }
      func put(_ value: Int, digits: Int) {
        var rest = value
        var index = at + digits - 1
        while index >= at {
          buffer[index] = UInt8(48 + abs(rest % 10))
          rest /= 10
          index -= 1
        }
        at += digits
      }
      put(day.year, digits: 4)
      put(UInt8(ascii: "-"))
      put(day.month, digits: 2)
      put(UInt8(ascii: "-"))
      put(day.day, digits: 2)
      put(dateTimeSeparator)
      put(ms / 3_600_000, digits: 2)
      put(UInt8(ascii: ":"))
      put(ms / 60_000 % 60, digits: 2)
      put(UInt8(ascii: ":"))
      put(ms / 1000 % 60, digits: 2)
      put(UInt8(ascii: "."))
      put(ms % 1000, digits: 3)
      if zulu { put(UInt8(ascii: "Z")) }
      return at
    }
  }

  static func floorDivision(_ a: Int64, _ b: Int64) -> (Int64, Int64) {
    let quotient = a / b
    let remainder = a % b
    return remainder < 0 ? (quotient - 1, remainder + b) : (quotient, remainder)
  }

  /// The detail as JSON with sorted keys and slashes as they are: byte for byte what
  /// JSONEncoder with `.sortedKeys` and `.withoutEscapingSlashes` writes (the chain hashes this
  /// text; GroupCommitTests compares the two), written directly because the encoder cost more
  /// than the row's SQL. Keys are written in the source (ASCII), so sorting by their UTF-8 bytes is
  /// the encoder's order.
  static func canonicalJSON(_ detail: [String: String]) -> String {
    if detail.isEmpty { return "{}" }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(160)
    bytes.append(UInt8(ascii: "{"))
    for (index, key) in detail.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).enumerated() {
      if index > 0 { bytes.append(UInt8(ascii: ",")) }
      Self.appendJSONString(key, to: &bytes)
      bytes.append(UInt8(ascii: ":"))
      Self.appendJSONString(detail[key] ?? "", to: &bytes)
    }
    bytes.append(UInt8(ascii: "}"))
    return String(decoding: bytes, as: UTF8.self)
  }

  /// A JSON string as JSONEncoder writes it: `"` and `\` escaped, control characters as \n, \r,
  /// \t, \b, \f or \u00xx (lowercase), everything else (slashes, non-ASCII) as its UTF-8 bytes.
  static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

  static func appendJSONString(_ value: String, to bytes: inout [UInt8]) {
    bytes.append(UInt8(ascii: "\""))
    for byte in value.utf8 {
      switch byte {
      case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), byte])
      case 0x0A: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
      case 0x0D: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
      case 0x09: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
      case 0x08: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "b")])
      case 0x0C: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "f")])
      case 0..<0x20:
        bytes.append(contentsOf: [
          UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), Self.hexDigits[Int(byte >> 4)],
          Self.hexDigits[Int(byte & 0x0F)],
        ])
      default: bytes.append(byte)
      }
    }
    bytes.append(UInt8(ascii: "\""))
  }
}

extension BanjieStore {
  public func verifyAudit() async throws -> AuditLog.Verification {
    try await self.read { sql in try AuditLog.verify(sql) }
  }
}
