import BanjieWire
import GRPCCore

extension Metadata {
  /// The key GRPCCore uses for a call's timeout; on banjie's wire the timeout has its own field.
  static let timeoutKey = "grpc-timeout"

  /// Metadata as it travels. Keys are lower-cased; keys the wire cannot carry are dropped.
  func wireEntries(excludingTimeout: Bool = true) -> [WireMetadataEntry] {
    var entries: [WireMetadataEntry] = []
    entries.reserveCapacity(self.count)
    for (key, value) in self {
      let lowered = key.lowercased()
      if excludingTimeout && lowered == Self.timeoutKey { continue }
      guard FrameDecoderKeyCheck.isValid(lowered) else { continue }
      switch value {
      case .string(let s):
        entries.append(WireMetadataEntry(key: lowered, value: .string(s)))
      case .binary(let bytes):
        entries.append(WireMetadataEntry(key: lowered.hasSuffix("-bin") ? lowered : lowered + "-bin", value: .binary(bytes)))
      }
    }
    return entries
  }

  init(wireEntries: [WireMetadataEntry]) {
    self.init()
    for entry in wireEntries {
      switch entry.value {
      case .string(let s): self.addString(s, forKey: entry.key)
      case .binary(let b): self.addBinary(b, forKey: entry.key)
      }
    }
  }

  /// The timeout GRPCCore put in the metadata, in microseconds.
  var timeoutMicroseconds: UInt64? {
    guard let text = self[stringValues: Self.timeoutKey].first(where: { _ in true }) else { return nil }
    return GRPCTimeoutText.microseconds(text)
  }
}

/// Key validity as the decoder checks it, so that we never send what the peer refuses, and no
/// longer than banjie's senders allow (docs/PROTOCOL.md §4).
enum FrameDecoderKeyCheck {
  /// The longest key banjied and the Swift client send, in UTF-8 bytes.
  static let maxKeyLength = 255

  static func isValid(_ key: String) -> Bool {
    key.utf8.count <= Self.maxKeyLength && FrameDecoder.isValidKey(key)
  }
}

/// gRPC's textual timeout ("100m", "5S"): up to 8 digits and a unit.
enum GRPCTimeoutText {
  static func microseconds(_ text: String) -> UInt64? {
    guard let unit = text.last, text.count >= 2, text.count <= 9, let value = UInt64(text.dropLast()) else { return nil }
    switch unit {
    case "H": return value * 3_600_000_000
    case "M": return value * 60_000_000
    case "S": return value * 1_000_000
    case "m": return value * 1_000
    case "u": return value
    case "n": return max(1, value / 1_000)
    default: return nil
    }
  }
}

extension Status.Code {
  init(wireCode: UInt32) {
    // 0 on RST_STREAM and anything above 16 mean nothing more specific than UNKNOWN.
    self = wireCode <= UInt32(WireStatus.maxCode) ? (Status.Code(rawValue: Int(wireCode)) ?? .unknown) : .unknown
  }
}
