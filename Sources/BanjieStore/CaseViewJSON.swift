import BanjieCore
import Foundation

/// A case's answer as the idempotency table keeps it, written member by member
/// (docs/ARCHITECTURE.md, "The write path"). Every case mutation stores its answer on the writer,
/// and going through `Encodable` (boxed keyed containers, a metatype check per value) cost about a
/// third of SubmitCase's time there. The bytes are exactly those StreamingJSON writes for the
/// same value through the synthesized `encode(to:)`: members in declaration order, nil optionals
/// left out, dates as milliseconds since 1970, enums by their raw values, a dictionary in its own
/// order. StreamingJSONTests compares the two byte for byte, so a property added to one of these
/// types and not here fails there.
struct JSONBytes {
  var bytes: [UInt8] = []
  /// Whether the innermost open object or array has no member yet.
  private var empty = true

  init() { self.bytes.reserveCapacity(2048) }

  mutating func openObject() { self.open(UInt8(ascii: "{")) }
  mutating func openArray() { self.open(UInt8(ascii: "[")) }
  /// Closes the innermost container; the one around it holds at least this one.
  mutating func closeObject() { self.close(UInt8(ascii: "}")) }
  mutating func closeArray() { self.close(UInt8(ascii: "]")) }

  private mutating func open(_ bracket: UInt8) {
    self.bytes.append(bracket)
    self.empty = true
  }

  private mutating func close(_ bracket: UInt8) {
    self.bytes.append(bracket)
    self.empty = false
  }

  /// Starts an array element.
  mutating func element() {
    if !self.empty { self.bytes.append(UInt8(ascii: ",")) }
    self.empty = false
  }

  /// Starts an object member. Keys are written in the source, plain ASCII.
  mutating func key(_ key: StaticString) {
    self.element()
    self.bytes.append(UInt8(ascii: "\""))
    key.withUTF8Buffer { self.bytes.append(contentsOf: $0) }
    self.bytes.append(UInt8(ascii: "\""))
    self.bytes.append(UInt8(ascii: ":"))
  }

  /// A dictionary's key (any text, escaped).
  mutating func key(text: String) {
    self.element()
    AuditLog.appendJSONString(text, to: &self.bytes)
    self.bytes.append(UInt8(ascii: ":"))
  }

  mutating func string(_ value: String) { AuditLog.appendJSONString(value, to: &self.bytes) }
  mutating func integer(_ value: some BinaryInteger) { self.bytes.append(contentsOf: String(value).utf8) }
  mutating func bool(_ value: Bool) { self.bytes.append(contentsOf: (value ? "true" : "false").utf8) }

  /// As StreamingJSONWriter spells a double (Swift's shortest round-trip description).
  mutating func double(_ value: Double) throws {
    guard value.isFinite else {
      throw EncodingError.invalidValue(value, .init(codingPath: [], debugDescription: "not a finite number"))
    }
    self.bytes.append(contentsOf: "\(value)".utf8)
  }

  mutating func date(_ value: Date) throws { try self.double(value.timeIntervalSince1970 * 1000) }

  mutating func string(_ key: StaticString, _ value: String) {
    self.key(key)
    self.string(value)
  }
  mutating func integer(_ key: StaticString, _ value: some BinaryInteger) {
    self.key(key)
    self.integer(value)
  }
  mutating func bool(_ key: StaticString, _ value: Bool) {
    self.key(key)
    self.bool(value)
  }
  mutating func date(_ key: StaticString, _ value: Date) throws {
    self.key(key)
    try self.date(value)
  }
  mutating func string(_ key: StaticString, ifPresent value: String?) { if let value { self.string(key, value) } }
  mutating func integer(_ key: StaticString, ifPresent value: (some BinaryInteger)?) { if let value { self.integer(key, value) } }
  mutating func bool(_ key: StaticString, ifPresent value: Bool?) { if let value { self.bool(key, value) } }
  mutating func date(_ key: StaticString, ifPresent value: Date?) throws { if let value { try self.date(key, value) } }
}

extension CaseView {
  /// The bytes StreamingJSON writes for this value (see JSONBytes).
  func json() throws -> Data {
    var out = JSONBytes()
    try self.write(to: &out)
    return Data(out.bytes)
  }

  func write(to out: inout JSONBytes) throws {
    out.openObject()
    out.key("record")
    try self.record.write(to: &out)
    out.string("itemName", self.itemName)
    out.string("departmentName", self.departmentName)
    if let sla = self.sla {
      out.key("sla")
      try sla.write(to: &out)
    }
    if let pending = self.pending {
      out.key("pending")
      out.openArray()
      for material in pending {
        out.element()
        try material.write(to: &out)
      }
      out.closeArray()
    }
    if let hall = self.hall {
      out.key("hall")
      try hall.write(to: &out)
    }
    out.closeObject()
  }
}

extension CaseRecord {
  func write(to out: inout JSONBytes) throws {
    out.openObject()
    out.integer("id", ifPresent: self.id)
    out.string("number", self.number)
    out.string("itemCode", self.itemCode)
    out.string("departmentCode", self.departmentCode)
    out.string("window", self.window)
    out.string("applicant", self.applicant)
    out.string("enterpriseUscc", ifPresent: self.enterpriseUscc)
    out.string("state", self.state.rawValue)
    out.string("outcome", ifPresent: self.outcome?.rawValue)
    out.integer("version", self.version)
    try out.date("receivedAt", self.receivedAt)
    out.string("receivedDay", self.receivedDay)
    try out.date("intakeDueAt", ifPresent: self.intakeDueAt)
    try out.date("acceptedAt", ifPresent: self.acceptedAt)
    out.bool("deemedAccepted", self.deemedAccepted)
    out.integer("limitValue", self.limitValue)
    out.string("limitUnit", self.limitUnit.rawValue)
    try out.date("dueAt", ifPresent: self.dueAt)
    out.string("colour", ifPresent: self.colour?.rawValue)
    try out.date("suspendedSince", ifPresent: self.suspendedSince)
    try out.date("completedAt", ifPresent: self.completedAt)
    try out.date("deliveredAt", ifPresent: self.deliveredAt)
    out.key("missingMaterials")
    out.openArray()
    for material in self.missingMaterials {
      out.element()
      out.string(material)
    }
    out.closeArray()
    out.string("lastNote", self.lastNote)
    out.string("receivedBy", self.receivedBy)
    try out.date("updatedAt", self.updatedAt)
    out.bool("oneDay", ifPresent: self.oneDay)
    out.integer("handlingSeconds", ifPresent: self.handlingSeconds)
    out.integer("handlingBucket", ifPresent: self.handlingBucket)
    try out.date("colourChangesAt", ifPresent: self.colourChangesAt)
    out.string("township", self.township)
    out.closeObject()
  }
}

extension SLAStatusSnapshot {
  func write(to out: inout JSONBytes) throws {
    out.openObject()
    out.string("colour", self.colour.rawValue)
    try out.date("due", self.due)
    out.integer("budgetSeconds", self.budgetSeconds)
    out.integer("usedSeconds", self.usedSeconds)
    out.key("fractionUsed")
    try out.double(self.fractionUsed)
    out.bool("isOverdue", self.isOverdue)
    out.bool("isSuspended", self.isSuspended)
    out.bool("isCompleted", self.isCompleted)
    out.bool("completedOnTime", ifPresent: self.completedOnTime)
    out.bool("isOneDayCompletion", ifPresent: self.isOneDayCompletion)
    out.bool("isProvisional", self.isProvisional)
    try out.date("computedAt", self.computedAt)
    out.closeObject()
  }
}

extension PendingMaterialRecord {
  func write(to out: inout JSONBytes) throws {
    out.openObject()
    out.integer("id", ifPresent: self.id)
    out.integer("caseId", self.caseId)
    out.string("material", self.material)
    try out.date("pendingSince", self.pendingSince)
    out.integer("workingDays", self.workingDays)
    try out.date("promisedBy", self.promisedBy)
    out.string("colour", self.colour.rawValue)
    out.string("state", self.state.rawValue)
    try out.date("resolvedAt", ifPresent: self.resolvedAt)
    out.string("resolvedBy", self.resolvedBy)
    out.string("waiveReason", self.waiveReason)
    out.closeObject()
  }
}

extension CaseHall {
  func write(to out: inout JSONBytes) throws {
    out.openObject()
    out.string("channel", self.channel.rawValue)
    out.string("deliveryChannel", ifPresent: self.deliveryChannel?.rawValue)
    out.string("deliveryWindow", self.deliveryWindow)
    out.string("servedWindow", self.servedWindow)
    try out.date("servedAt", ifPresent: self.servedAt)
    out.key("firstResponder")
    self.firstResponder.write(to: &out)
    out.key("responsible")
    self.responsible.write(to: &out)
    if let helper = self.helper {
      out.key("helper")
      helper.write(to: &out)
    }
    out.string("ratingCode", self.ratingCode)
    out.key("readers")
    out.openObject()
    for (department, reason) in self.readers { out.string(department: department, reason.rawValue) }
    out.closeObject()
    out.closeObject()
  }
}

extension JSONBytes {
  fileprivate mutating func string(department: String, _ value: String) {
    self.key(text: department)
    self.string(value)
  }
}

extension StaffRef {
  func write(to out: inout JSONBytes) {
    out.openObject()
    out.string("organization", self.organization)
    out.string("person", self.person)
    out.closeObject()
  }
}
