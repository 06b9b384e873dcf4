import Foundation

/// JSON for the answers the idempotency table keeps (docs/ARCHITECTURE.md, "The write path"),
/// written as the value's `encode(to:)` goes, with no intermediate tree: JSONEncoder spent a
/// quarter of the writer's time on a case's answer. What it writes decodes with the JSONDecoder
/// that reads the table (dates as milliseconds since 1970, `dateDecodingStrategy =
/// .millisecondsSince1970`) to the same value as JSONEncoder's text does (StreamingJSONTests);
/// the bytes differ (key order, number spelling), which nothing depends on.
///
/// A container is closed when a value is next written to a container further out (or at the
/// end): `encode(to:)` implementations write their values in order and do not go back to a
/// container after opening another beside it, as Swift's synthesized ones and the standard
/// library's do.
enum StreamingJSON {
  static func encode<T: Encodable>(_ value: T) throws -> Data {
    let writer = StreamingJSONWriter()
    try writer.value(value)
    writer.close(above: -1)
    return Data(writer.bytes)
  }
}

final class StreamingJSONWriter: Encoder {
  enum Kind { case object, array }
  struct Frame {
    var kind: Kind
    var count = 0
  }

  var bytes: [UInt8] = []
  var frames: [Frame] = []
  var codingPath: [any CodingKey] = []
  var userInfo: [CodingUserInfoKey: Any] = [:]

  init() { self.bytes.reserveCapacity(2048) }

  /// Closes the containers deeper than `depth`.
  func close(above depth: Int) {
    while self.frames.count - 1 > depth, let frame = self.frames.popLast() {
      self.bytes.append(frame.kind == .object ? UInt8(ascii: "}") : UInt8(ascii: "]"))
    }
  }

  /// Starts the next member of the container at `depth` (a key for an object).
  func member(depth: Int, key: String?) {
    self.close(above: depth)
    guard depth >= 0, depth < self.frames.count else { return }
    if self.frames[depth].count > 0 { self.bytes.append(UInt8(ascii: ",")) }
    self.frames[depth].count += 1
    if let key {
      AuditLog.appendJSONString(key, to: &self.bytes)
      self.bytes.append(UInt8(ascii: ":"))
    }
  }

  func open(_ kind: Kind) {
    self.bytes.append(kind == .object ? UInt8(ascii: "{") : UInt8(ascii: "["))
    self.frames.append(Frame(kind: kind))
  }

  func raw(_ text: String) { self.bytes.append(contentsOf: text.utf8) }

  func string(_ text: String) { AuditLog.appendJSONString(text, to: &self.bytes) }

  func double(_ value: Double) throws {
    guard value.isFinite else {
      throw EncodingError.invalidValue(value, .init(codingPath: self.codingPath, debugDescription: "not a finite number"))
    }
    self.raw("\(value)")
  }

  /// Writes a value into the member slot just started (or at the top).
  func value<T: Encodable>(_ value: T) throws {
    // Metatypes are compared first: a dynamic cast of every value cost more than writing it.
    if T.self == Date.self, let date = value as? Date {
      try self.double(date.timeIntervalSince1970 * 1000)
      return
    }
    if T.self == Data.self || T.self == URL.self || T.self == Decimal.self {
      throw EncodingError.invalidValue(
        value, .init(codingPath: self.codingPath, debugDescription: "StreamingJSON does not write \(T.self)"))
    }
    let written = self.bytes.count
    try value.encode(to: self)
    // A value that wrote nothing at all (no container, no single value) is written as null.
    if self.bytes.count == written { self.raw("null") }
  }

  func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
    self.open(.object)
    return KeyedEncodingContainer(KeyedWriter<Key>(writer: self, depth: self.frames.count - 1))
  }

  func unkeyedContainer() -> any UnkeyedEncodingContainer {
    self.open(.array)
    return UnkeyedWriter(writer: self, depth: self.frames.count - 1)
  }

  func singleValueContainer() -> any SingleValueEncodingContainer { SingleWriter(writer: self) }

  struct KeyedWriter<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let writer: StreamingJSONWriter
    let depth: Int
    var codingPath: [any CodingKey] { self.writer.codingPath }

    func encodeNil(forKey key: Key) throws {
      self.writer.member(depth: self.depth, key: key.stringValue)
      self.writer.raw("null")
    }
    func encode(_ value: Bool, forKey key: Key) throws { try self.number(value ? "true" : "false", key) }
    func encode(_ value: String, forKey key: Key) throws {
      self.writer.member(depth: self.depth, key: key.stringValue)
      self.writer.string(value)
    }
    func encode(_ value: Double, forKey key: Key) throws {
      self.writer.member(depth: self.depth, key: key.stringValue)
      try self.writer.double(value)
    }
    func encode(_ value: Float, forKey key: Key) throws { try self.encode(Double(value), forKey: key) }
    func encode(_ value: Int, forKey key: Key) throws { try self.number(String(value), key) }
    func encode(_ value: Int8, forKey key: Key) throws { try self.number(String(value), key) }
    func encode(_ value: Int16, forKey key: Key) throws { try self.number(String(value), key) }
    func encode(_ value: Int32, forKey key: Key) throws { try self.number(String(value), key) }
    func encode(_ value: Int64, forKey key: Key) throws { try self.number(String(value), key) }
    func encode<T: Encodable>(_ value: T, forKey key: Key) throws { try self.encode(value, key) }

    private func number(_ text: String, _ key: Key) throws {
      self.writer.member(depth: self.depth, key: key.stringValue)
      self.writer.raw(text)
    }

    private func encode<T: Encodable>(_ value: T, _ key: Key) throws {
      self.writer.member(depth: self.depth, key: key.stringValue)
      try self.writer.value(value)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
      self.writer.member(depth: self.depth, key: key.stringValue)
      return self.writer.container(keyedBy: keyType)
    }

    func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
      self.writer.member(depth: self.depth, key: key.stringValue)
      return self.writer.unkeyedContainer()
    }

    func superEncoder() -> any Encoder {
      self.writer.member(depth: self.depth, key: "super")
      return self.writer
    }

    func superEncoder(forKey key: Key) -> any Encoder {
      self.writer.member(depth: self.depth, key: key.stringValue)
      return self.writer
    }
  }

  struct UnkeyedWriter: UnkeyedEncodingContainer {
    let writer: StreamingJSONWriter
    let depth: Int
    var codingPath: [any CodingKey] { self.writer.codingPath }
    var count: Int { self.depth < self.writer.frames.count ? self.writer.frames[self.depth].count : 0 }

    mutating func encodeNil() throws {
      self.writer.member(depth: self.depth, key: nil)
      self.writer.raw("null")
    }
    mutating func encode<T: Encodable>(_ value: T) throws {
      self.writer.member(depth: self.depth, key: nil)
      try self.writer.value(value)
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
      self.writer.member(depth: self.depth, key: nil)
      return self.writer.container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
      self.writer.member(depth: self.depth, key: nil)
      return self.writer.unkeyedContainer()
    }
    mutating func superEncoder() -> any Encoder {
      self.writer.member(depth: self.depth, key: nil)
      return self.writer
    }
  }

  /// A single value goes into the slot its owner started (a key, an array element, the top).
  struct SingleWriter: SingleValueEncodingContainer {
    let writer: StreamingJSONWriter
    var codingPath: [any CodingKey] { self.writer.codingPath }

    mutating func encodeNil() throws { self.writer.raw("null") }
    mutating func encode(_ value: Bool) throws { self.writer.raw(value ? "true" : "false") }
    mutating func encode(_ value: String) throws { self.writer.string(value) }
    mutating func encode(_ value: Double) throws { try self.writer.double(value) }
    mutating func encode(_ value: Float) throws { try self.writer.double(Double(value)) }
    mutating func encode(_ value: Int) throws { self.writer.raw(String(value)) }
    mutating func encode(_ value: Int8) throws { self.writer.raw(String(value)) }
    mutating func encode(_ value: Int16) throws { self.writer.raw(String(value)) }
    mutating func encode(_ value: Int32) throws { self.writer.raw(String(value)) }
    mutating func encode(_ value: Int64) throws { self.writer.raw(String(value)) }
    mutating func encode(_ value: UInt) throws { self.writer.raw(String(value)) }
    mutating func encode(_ value: UInt8) throws { self.writer.raw(String(value)) }
    mutating func encode(_ value: UInt16) throws { self.writer.raw(String(value)) }
    mutating func encode(_ value: UInt32) throws { self.writer.raw(String(value)) }
    mutating func encode(_ value: UInt64) throws { self.writer.raw(String(value)) }
    mutating func encode<T: Encodable>(_ value: T) throws { try self.writer.value(value) }
  }
}
