internal import COpenSSL

/// SHA-256 through libcrypto's EVP interface: the audit log's hash chain, published awards'
/// digests and database backups. Hex is lower case, as the audit chain has always stored it.
/// BanjieCore stays free of OpenSSL; this small module is the one place the store hashes.
public enum SHA256 {
  /// The length of a digest in bytes.
  public static let byteCount = 32

  /// The 32-byte digest of `message`.
  public static func digest(_ message: some Collection<UInt8>) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: Self.byteCount)
    var length: UInt32 = 0
    let result = withContiguousBytes(of: message) { buffer in
      EVP_Digest(buffer.baseAddress, buffer.count, &out, &length, EVP_sha256(), nil)
    }
    Self.check(result, "EVP_Digest")
    precondition(Int(length) == Self.byteCount, "libcrypto returned a \(length)-byte SHA-256 digest")
    return out
  }

  /// The digest of `message` as 64 lower-case hex digits.
  public static func hex(_ message: some Collection<UInt8>) -> String { Self.hexString(Self.digest(message)) }

  /// Finishes `hasher` and returns its digest as 64 lower-case hex digits; `hasher` starts over.
  public static func hex(_ hasher: inout Hasher) -> String { Self.hexString(hasher.finalize()) }

  /// Incremental hashing, for input that arrives in pieces (a database backup).
  /// A value type: a copy hashes on independently of the original.
  public struct Hasher: Sendable {
    private var context: DigestContext

    public init() {
      self.context = DigestContext()
    }

    public mutating func update(_ bytes: some Collection<UInt8>) {
      self.makeUnique()
      self.context.update(bytes)
    }

    /// The digest of everything given so far; the hasher then starts over with no input.
    public mutating func finalize() -> [UInt8] {
      self.makeUnique()
      return self.context.finalize()
    }

    private mutating func makeUnique() {
      if !isKnownUniquelyReferenced(&self.context) {
        self.context = self.context.copy()
      }
    }
  }

  static func hexString(_ digest: [UInt8]) -> String {
    let table = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(digest.count * 2)
    for byte in digest {
      out.append(table[Int(byte >> 4)])
      out.append(table[Int(byte & 0xF)])
    }
    return String(decoding: out, as: UTF8.self)
  }

  /// libcrypto's digest calls return 1 on success. SHA-256 from the default provider fails only
  /// when the library itself is broken (no memory, no provider), which nothing here can recover from.
  static func check(_ result: Int32, _ function: String) {
    precondition(result == 1, "libcrypto \(function) failed for SHA-256")
  }
}

/// Calls `body` with `bytes` as one contiguous buffer, copying only when the collection is not
/// contiguous already.
private func withContiguousBytes<R>(of bytes: some Collection<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
  if let result = bytes.withContiguousStorageIfAvailable(body) {
    return result
  }
  return Array(bytes).withUnsafeBufferPointer(body)
}

/// One EVP_MD_CTX, owned. `Hasher` copies it before mutating whenever it is shared, so no two
/// threads ever touch the same context: hence `@unchecked Sendable`.
private final class DigestContext: @unchecked Sendable {
  private let pointer: OpaquePointer

  init() {
    guard let pointer = EVP_MD_CTX_new() else {
      fatalError("libcrypto could not allocate a digest context")
    }
    self.pointer = pointer
    self.start()
  }

  private init(copying other: DigestContext) {
    guard let pointer = EVP_MD_CTX_new() else {
      fatalError("libcrypto could not allocate a digest context")
    }
    self.pointer = pointer
    SHA256.check(EVP_MD_CTX_copy_ex(pointer, other.pointer), "EVP_MD_CTX_copy_ex")
  }

  deinit {
    EVP_MD_CTX_free(self.pointer)
  }

  func copy() -> DigestContext {
    DigestContext(copying: self)
  }

  func update(_ bytes: some Collection<UInt8>) {
    let result = withContiguousBytes(of: bytes) { buffer -> Int32 in
      guard buffer.count > 0 else { return 1 }
      return EVP_DigestUpdate(self.pointer, buffer.baseAddress, buffer.count)
    }
    SHA256.check(result, "EVP_DigestUpdate")
  }

  func finalize() -> [UInt8] {
    var out = [UInt8](repeating: 0, count: SHA256.byteCount)
    var length: UInt32 = 0
    SHA256.check(EVP_DigestFinal_ex(self.pointer, &out, &length), "EVP_DigestFinal_ex")
    precondition(Int(length) == SHA256.byteCount, "libcrypto returned a \(length)-byte SHA-256 digest")
    self.start()
    return out
  }

  private func start() {
    SHA256.check(EVP_DigestInit_ex(self.pointer, EVP_sha256(), nil), "EVP_DigestInit_ex")
  }
}
