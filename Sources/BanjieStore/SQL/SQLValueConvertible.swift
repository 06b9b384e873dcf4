import BanjieCore
import Foundation

/// A Swift value that binds to a statement and reads back from a column.
///
/// `init?(sqlValue:)` answers nil for NULL and for a value of a kind the type cannot hold; the
/// reader (`SQLRow.decode`) turns that nil into an `SQLDecodingError` naming the column, so the
/// conversions themselves stay small. They accept what GRDB's conversions accept (an integer
/// from an integral real, text from a UTF-8 blob and back), so that a row reads the same through
/// this layer as through GRDB.
protocol SQLValueConvertible {
  var sqlValue: SQLValue { get }
  init?(sqlValue: SQLValue)
}

extension SQLValue: SQLValueConvertible {
  var sqlValue: SQLValue { self }
  init?(sqlValue: SQLValue) { self = sqlValue }
}

extension Int64: SQLValueConvertible {
  var sqlValue: SQLValue { .integer(self) }
  init?(sqlValue: SQLValue) {
    switch sqlValue {
    case .integer(let value): self = value
    // GRDB's rule: a real in range converts, rounding toward zero.
    case .real(let value) where value >= Double(Int64.min) && value < Double(Int64.max): self = Int64(value)
    default: return nil
    }
  }
}

extension Int: SQLValueConvertible {
  var sqlValue: SQLValue { .integer(Int64(self)) }
  init?(sqlValue: SQLValue) {
    guard let value = Int64(sqlValue: sqlValue), let int = Int(exactly: value) else { return nil }
    self = int
  }
}

/// Stored as 0/1 (the schema's INTEGER flags); any non-zero number reads as true, as in GRDB.
/// On PostgreSQL a boolean cell (`SELECT EXISTS …`) arrives as an integer too.
extension Bool: SQLValueConvertible {
  var sqlValue: SQLValue { .integer(self ? 1 : 0) }
  init?(sqlValue: SQLValue) {
    switch sqlValue {
    case .integer(let value): self = value != 0
    case .real(let value): self = value != 0
    default: return nil
    }
  }
}

extension Double: SQLValueConvertible {
  var sqlValue: SQLValue { .real(self) }
  init?(sqlValue: SQLValue) {
    switch sqlValue {
    case .integer(let value): self = Double(value)
    case .real(let value): self = value
    default: return nil
    }
  }
}

extension String: SQLValueConvertible {
  var sqlValue: SQLValue { .text(self) }
  init?(sqlValue: SQLValue) {
    switch sqlValue {
    case .text(let text): self = text
    // SQLite's implicit conversion (and GRDB's): a blob reads as text when it is valid UTF-8.
    case .blob(let bytes):
      guard let text = String(validating: bytes, as: UTF8.self) else { return nil }
      self = text
    default: return nil
    }
  }
}

extension Data: SQLValueConvertible {
  var sqlValue: SQLValue { .blob(Array(self)) }
  init?(sqlValue: SQLValue) {
    switch sqlValue {
    case .blob(let bytes): self = Data(bytes)
    case .text(let text): self = Data(text.utf8)
    default: return nil
    }
  }
}

extension [UInt8]: SQLValueConvertible {
  var sqlValue: SQLValue { .blob(self) }
  init?(sqlValue: SQLValue) {
    switch sqlValue {
    case .blob(let bytes): self = bytes
    case .text(let text): self = Array(text.utf8)
    default: return nil
    }
  }
}

/// NULL binds `nil` and reads back as `nil`; any other value must convert to `Wrapped`.
extension Optional: SQLValueConvertible where Wrapped: SQLValueConvertible {
  var sqlValue: SQLValue { self?.sqlValue ?? .null }
  init?(sqlValue: SQLValue) {
    if case .null = sqlValue {
      self = .none
      return
    }
    guard let value = Wrapped(sqlValue: sqlValue) else { return nil }
    self = .some(value)
  }
}

/// The store's enumerations are stored as their raw text. A type opts in with an empty
/// extension; an unknown text reads as a mismatch naming the column and the text.
extension SQLValueConvertible where Self: RawRepresentable, Self.RawValue == String {
  var sqlValue: SQLValue { .text(self.rawValue) }
  init?(sqlValue: SQLValue) {
    guard case .text(let raw) = sqlValue, let value = Self(rawValue: raw) else { return nil }
    self = value
  }
}

extension SLAColour: SQLValueConvertible {}
extension CaseState: SQLValueConvertible {}
extension CaseOutcome: SQLValueConvertible {}
extension ProxyStep: SQLValueConvertible {}
extension ServiceItemRecord.Kind: SQLValueConvertible {}
extension ServiceItemRecord.LimitUnit: SQLValueConvertible {}
