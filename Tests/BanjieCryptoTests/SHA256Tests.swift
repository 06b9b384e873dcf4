import BanjieCrypto
import Foundation
import Testing

@Suite("SHA-256")
struct SHA256Tests {
  static let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
  static let empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
  static let message448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
  static let digest448 = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"

  @Test("the FIPS 180-2 examples: \"abc\", the empty message, the 448-bit message")
  func fips() {
    #expect(SHA256.hex(Array("abc".utf8)) == Self.abc)
    #expect(SHA256.hex([UInt8]()) == Self.empty)
    #expect(SHA256.hex(Array(Self.message448.utf8)) == Self.digest448)
    #expect(SHA256.digest(Array("abc".utf8)).count == 32)
  }

  @Test("one million 'a's (FIPS 180-2 appendix B.3)")
  func millionA() {
    let message = [UInt8](repeating: 0x61, count: 1_000_000)
    #expect(SHA256.hex(message) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
  }

  @Test("non-contiguous collections and Data hash like arrays")
  func collections() {
    #expect(SHA256.hex("abc".utf8) == Self.abc)
    #expect(SHA256.hex(Data("abc".utf8)) == Self.abc)
    let bytes = Array(Self.message448.utf8)
    #expect(SHA256.hex(bytes.lazy.map { $0 }) == Self.digest448)
    #expect(SHA256.hex(bytes[3...]) == SHA256.hex(Array(bytes.dropFirst(3))))
  }

  @Test("incremental hashing in uneven pieces matches one shot, and the hasher starts over")
  func incremental() {
    let message = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
    let expected = SHA256.hex(message)
    var hasher = SHA256.Hasher()
    var start = 0
    var size = 1
    while start < message.count {
      let end = min(start + size, message.count)
      hasher.update(message[start..<end])
      start = end
      size = size * 3 % 257 + 1
    }
    #expect(SHA256.hex(&hasher) == expected)
    hasher.update(Array("abc".utf8))
    #expect(SHA256.hex(&hasher) == Self.abc)
    #expect(SHA256.hex(&hasher) == Self.empty)
  }

  @Test("a copied hasher goes on independently")
  func copies() {
    var one = SHA256.Hasher()
    one.update(Array("ab".utf8))
    var two = one
    one.update(Array("c".utf8))
    two.update(Array("d".utf8))
    #expect(SHA256.hex(&one) == Self.abc)
    #expect(SHA256.hex(&two) == SHA256.hex(Array("abd".utf8)))
  }
}
