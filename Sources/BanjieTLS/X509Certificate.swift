import COpenSSL
import Foundation

/// Owns one `X509*`; freed on deinit.
final class X509Certificate {
  let pointer: OpaquePointer

  /// Takes ownership of `pointer` (one reference).
  init(taking pointer: OpaquePointer) {
    self.pointer = pointer
  }

  deinit {
    X509_free(self.pointer)
  }

  /// Reads the first certificate of a PEM file.
  convenience init(pemFile: String) throws {
    let bytes = try readFile(pemFile, what: "certificate")
    ERR_clear_error()
    let certificate: OpaquePointer? = try withMemoryBIO(bytes) { bio in
      PEM_read_bio_X509(bio, nil, nil, nil)
    }
    guard let certificate else {
      throw TLSError.openSSL(.invalidConfiguration, "'\(pemFile)' holds no PEM certificate")
    }
    self.init(taking: certificate)
  }

  func pem() throws -> [UInt8] {
    try pemBytes(what: "certificate") { PEM_write_bio_X509($0, self.pointer) }
  }

  func serialNumber() throws -> String {
    try Self.serialNumber(of: self.pointer)
  }

  func peerCertificate() throws -> PeerCertificate {
    try Self.peerCertificate(of: self.pointer)
  }

  /// Whether the serial is above zero (`hasPositiveSerial(_:)`).
  var serialIsPositive: Bool {
    Self.hasPositiveSerial(self.pointer)
  }

  /// Upper-case hex, no leading zeros; a negative serial keeps its sign ("-5"), so that it
  /// never reads as "0" (nor as the positive serial of another certificate). `certificate` is borrowed.
  static func serialNumber(of certificate: OpaquePointer) throws -> String {
    guard let integer = X509_get0_serialNumber(certificate),
      let number = ASN1_INTEGER_to_BN(integer, nil)
    else {
      throw TLSError.openSSL(.certificateTooling, "cannot read the certificate serial number")
    }
    defer { BN_free(number) }
    guard let hex = BN_bn2hex(number) else {
      throw TLSError.openSSL(.certificateTooling, "cannot render the certificate serial number")
    }
    defer { banjie_OPENSSL_free(hex) }
    let text = String(cString: hex)
    if text.hasPrefix("-") {
      guard let magnitude = RevocationList.normalise(String(text.dropFirst())) else {
        throw TLSError(code: .certificateTooling, message: "cannot render the certificate serial number '\(text)'")
      }
      return "-" + magnitude
    }
    guard let normalised = RevocationList.normalise(text) else {
      throw TLSError(code: .certificateTooling, message: "cannot render the certificate serial number '\(text)'")
    }
    return normalised
  }

  /// Whether the serial is above zero (RFC 5280 §4.1.2.2). A zero or negative serial cannot be
  /// told apart from others once normalised, so it could not be revoked on its own: the server
  /// refuses such a client certificate at the handshake. `certificate` is borrowed.
  static func hasPositiveSerial(_ certificate: OpaquePointer) -> Bool {
    guard let integer = X509_get0_serialNumber(certificate),
      let number = ASN1_INTEGER_to_BN(integer, nil)
    else { return false }
    defer { BN_free(number) }
    return BN_is_zero(number) == 0 && BN_is_negative(number) == 0
  }

  /// Lower-case hex SHA-256 over the DER. `certificate` is borrowed.
  static func sha256Fingerprint(of certificate: OpaquePointer) throws -> String {
    var digest = [UInt8](repeating: 0, count: 64)
    var length: UInt32 = 0
    guard X509_digest(certificate, EVP_sha256(), &digest, &length) == 1 else {
      throw TLSError.openSSL(.certificateTooling, "cannot hash the certificate")
    }
    return digest.prefix(Int(length)).map { byte in
      let hex = String(byte, radix: 16)
      return byte < 16 ? "0" + hex : hex
    }.joined()
  }

  /// `certificate` is borrowed.
  static func peerCertificate(of certificate: OpaquePointer) throws -> PeerCertificate {
    let subject = X509_get_subject_name(certificate)
    return PeerCertificate(
      commonNames: subject.map { nameEntries($0, nid: NID_commonName) } ?? [],
      organizations: subject.map { nameEntries($0, nid: NID_organizationName) } ?? [],
      organizationalUnits: subject.map { nameEntries($0, nid: NID_organizationalUnitName) } ?? [],
      serialNumber: try serialNumber(of: certificate),
      sha256Fingerprint: try sha256Fingerprint(of: certificate),
      notBefore: try date(X509_get0_notBefore(certificate)),
      notAfter: try date(X509_get0_notAfter(certificate))
    )
  }
}

/// Owns one `EVP_PKEY*`; freed on deinit.
final class PrivateKey {
  let pointer: OpaquePointer

  init(taking pointer: OpaquePointer) {
    self.pointer = pointer
  }

  deinit {
    EVP_PKEY_free(self.pointer)
  }

  static func generateP256() throws -> PrivateKey {
    ERR_clear_error()
    guard let key = banjie_EVP_EC_gen_P256() else {
      throw TLSError.openSSL(.certificateTooling, "cannot generate an ECDSA P-256 key")
    }
    return PrivateKey(taking: key)
  }

  convenience init(pemFile: String) throws {
    let bytes = try readFile(pemFile, what: "private key")
    ERR_clear_error()
    let key: OpaquePointer? = try withMemoryBIO(bytes) { bio in
      PEM_read_bio_PrivateKey(bio, nil, nil, nil)
    }
    guard let key else {
      throw TLSError.openSSL(.invalidConfiguration, "'\(pemFile)' holds no unencrypted PEM private key")
    }
    self.init(taking: key)
  }

  /// PKCS#8, unencrypted: the file's 0600 mode is its protection.
  func pem() throws -> [UInt8] {
    try pemBytes(what: "private key") { PEM_write_bio_PrivateKey($0, self.pointer, nil, nil, 0, nil, nil) }
  }
}

// MARK: - Helpers

func readFile(_ path: String, what: String) throws -> [UInt8] {
  guard FileManager.default.fileExists(atPath: path) else {
    throw TLSError(code: .invalidConfiguration, message: "\(what) file '\(path)' does not exist")
  }
  guard let data = FileManager.default.contents(atPath: path) else {
    throw TLSError(code: .invalidConfiguration, message: "\(what) file '\(path)' is not readable")
  }
  return [UInt8](data)
}

/// Runs `body` with a read-only memory BIO over `bytes`.
func withMemoryBIO<Result>(_ bytes: [UInt8], _ body: (OpaquePointer) throws -> Result) throws -> Result {
  try bytes.withUnsafeBytes { raw in
    guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(raw.count)) else {
      throw TLSError.openSSL(.certificateTooling, "cannot allocate a memory BIO")
    }
    defer { BIO_free(bio) }
    return try body(bio)
  }
}

/// Renders PEM into a fresh memory BIO with `write` and returns the bytes.
func pemBytes(what: String, _ write: (OpaquePointer) -> Int32) throws -> [UInt8] {
  ERR_clear_error()
  guard let bio = BIO_new(BIO_s_mem()) else {
    throw TLSError.openSSL(.certificateTooling, "cannot allocate a memory BIO")
  }
  defer { BIO_free(bio) }
  guard write(bio) == 1 else {
    throw TLSError.openSSL(.certificateTooling, "cannot encode the \(what) as PEM")
  }
  let count = Int(BIO_ctrl_pending(bio))
  var bytes = [UInt8](repeating: 0, count: count)
  let read = bytes.withUnsafeMutableBytes { BIO_read(bio, $0.baseAddress, Int32(count)) }
  guard read == count else {
    throw TLSError.openSSL(.certificateTooling, "cannot read the PEM-encoded \(what)")
  }
  return bytes
}

/// Every value of attribute `nid` in `name`, in order: repeated attributes and each value of a
/// multi-valued RDN (`OU=clerk+OU=office`) are all there, so that a caller can tell one from many.
private func nameEntries(_ name: OpaquePointer, nid: Int32) -> [String] {
  var values: [String] = []
  var index = X509_NAME_get_index_by_NID(name, nid, -1)
  while index >= 0 {
    values.append(nameEntryValue(name, at: index))
    index = X509_NAME_get_index_by_NID(name, nid, index)
  }
  return values
}

/// The entry's value converted to UTF-8 with its full length: an embedded NUL stays in the
/// string as U+0000 (where a C string would end early and hide what follows), so the identity
/// checks see it. A value OpenSSL cannot convert (e.g. a UTF8String that is not UTF-8) reads as
/// U+FFFD, which the identity checks refuse as well: it still counts as a value.
private func nameEntryValue(_ name: OpaquePointer, at index: Int32) -> String {
  let unreadable = "\u{FFFD}"
  guard let entry = X509_NAME_get_entry(name, index), let data = X509_NAME_ENTRY_get_data(entry) else {
    return unreadable
  }
  var utf8: UnsafeMutablePointer<UInt8>?
  let length = ASN1_STRING_to_UTF8(&utf8, data)
  guard length >= 0, let utf8 else {
    ERR_clear_error()
    return unreadable
  }
  defer { banjie_OPENSSL_free(utf8) }
  return String(decoding: UnsafeBufferPointer(start: utf8, count: Int(length)), as: UTF8.self)
}

private func date(_ time: UnsafePointer<ASN1_TIME>?) throws -> Date {
  var parts = tm()
  guard let time, ASN1_TIME_to_tm(time, &parts) == 1 else {
    throw TLSError.openSSL(.certificateTooling, "cannot read a certificate validity date")
  }
  return Date(timeIntervalSince1970: TimeInterval(timegm(&parts)))
}
