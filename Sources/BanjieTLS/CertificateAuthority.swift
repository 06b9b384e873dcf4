import COpenSSL
import Foundation

/// The county's private certificate authority: a directory holding `ca.pem` and `ca.key`
/// (mode 0600), and the certificates it issues. Used by `banjie certs init/issue`.
///
/// Keys are ECDSA P-256, signatures ECDSA-SHA256, serials random positive 128-bit numbers.
public struct CertificateAuthority: Sendable {
  public let directory: String
  /// `<directory>/ca.pem`: the trust roots file for servers and clients.
  public var certificateFile: String { self.directory + "/ca.pem" }
  /// `<directory>/ca.key`
  public var privateKeyFile: String { self.directory + "/ca.key" }

  private init(directory: String) {
    self.directory = directory
  }

  /// Creates a self-signed CA in `directory` (created with mode 0700 when missing).
  /// Refuses to overwrite an existing `ca.pem` or `ca.key`, and a `commonName` with a NUL or
  /// another control character.
  public static func create(
    directory: String,
    commonName: String = "banjie county CA",
    validityDays: Int = 3650,
    notBefore: Date? = nil
  ) throws -> CertificateAuthority {
    try checkSubjectValue(commonName, "the CA name (--ca-name, CN)")
    let authority = CertificateAuthority(directory: directory)
    let fileManager = FileManager.default
    for file in [authority.certificateFile, authority.privateKeyFile] where fileManager.fileExists(atPath: file) {
      throw TLSError(code: .certificateTooling, message: "refusing to overwrite the existing CA file '\(file)'")
    }
    try createDirectory(directory)

    let key = try PrivateKey.generateP256()
    let certificate = try makeCertificate(
      subject: [(NID_commonName, commonName)],
      publicKey: key,
      validityDays: validityDays,
      notBefore: notBefore
    )
    try setIssuerAndExtensions(
      certificate,
      issuer: certificate,
      extensions: [
        (NID_basic_constraints, "critical,CA:TRUE,pathlen:0"),
        (NID_key_usage, "critical,keyCertSign,cRLSign"),
        (NID_subject_key_identifier, "hash"),
        (NID_authority_key_identifier, "keyid:always"),
      ]
    )
    try sign(certificate, with: key)

    // The key first and exclusively: a crash in between leaves no certificate without a key.
    try writeFile(authority.privateKeyFile, try key.pem(), mode: 0o600, exclusive: true)
    try writeFile(authority.certificateFile, try certificate.pem(), mode: 0o644, exclusive: true)
    return authority
  }

  /// Opens an existing CA, checking that its key matches its certificate.
  public static func load(directory: String) throws -> CertificateAuthority {
    let authority = CertificateAuthority(directory: directory)
    _ = try authority.loadSigner()
    return authority
  }

  /// Issues a server certificate (EKU serverAuth) for the given DNS names and IP addresses,
  /// written to `<name>.pem` / `<name>.key`, replacing earlier ones of that name atomically.
  public func issueServerCertificate(
    name: String = "server",
    dnsNames: [String],
    ipAddresses: [String],
    validityDays: Int = 825,
    notBefore: Date? = nil
  ) throws -> (certificateFile: String, privateKeyFile: String) {
    guard !dnsNames.isEmpty || !ipAddresses.isEmpty else {
      throw TLSError(code: .certificateTooling, message: "a server certificate needs at least one DNS name or IP address")
    }
    guard !name.isEmpty, !name.contains("/") else {
      throw TLSError(code: .certificateTooling, message: "invalid certificate file name '\(name)'")
    }
    var alternativeNames: [String] = []
    for dnsName in dnsNames {
      guard !dnsName.isEmpty, dnsName.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-.*".contains($0)) }) else {
        throw TLSError(code: .certificateTooling, message: "invalid DNS name '\(dnsName)'")
      }
      alternativeNames.append("DNS:" + dnsName)
    }
    for address in ipAddresses {
      guard IPAddress.isLiteral(address) else {
        throw TLSError(code: .certificateTooling, message: "invalid IP address '\(address)'")
      }
      alternativeNames.append("IP:" + address)
    }

    let (caCertificate, caKey) = try self.loadSigner()
    let key = try PrivateKey.generateP256()
    let certificate = try makeCertificate(
      subject: [(NID_commonName, dnsNames.first ?? ipAddresses[0])],
      publicKey: key,
      validityDays: validityDays,
      notBefore: notBefore
    )
    try setIssuerAndExtensions(
      certificate,
      issuer: caCertificate,
      extensions: [
        (NID_basic_constraints, "critical,CA:FALSE"),
        (NID_key_usage, "critical,digitalSignature"),
        (NID_ext_key_usage, "serverAuth"),
        (NID_subject_key_identifier, "hash"),
        (NID_authority_key_identifier, "keyid:always"),
        (NID_subject_alt_name, alternativeNames.joined(separator: ",")),
      ]
    )
    try sign(certificate, with: caKey)

    let certificateFile = self.directory + "/" + name + ".pem"
    let keyFile = self.directory + "/" + name + ".key"
    try writeFile(keyFile, try key.pem(), mode: 0o600, exclusive: false)
    try writeFile(certificateFile, try certificate.pem(), mode: 0o644, exclusive: false)
    return (certificateFile, keyFile)
  }

  /// Issues a client certificate (EKU clientAuth) with subject OU=role, O=organisation,
  /// CN=person (UTF-8). Files are `<role>-<person-slug>.pem/.key`; the slug is the person's
  /// name in Latin letters ("张三" → "zhang-san"), with "-2", "-3", ... appended rather than
  /// overwriting an earlier certificate. An organisation or person that is blank or holds a NUL
  /// or another control character (newline, ESC, ...) is refused: such a certificate would carry
  /// no identity (`PeerIdentity`).
  public func issueClientCertificate(
    role: PeerIdentity.Role,
    organization: String,
    person: String,
    validityDays: Int = 365,
    notBefore: Date? = nil
  ) throws -> (certificateFile: String, privateKeyFile: String, serialNumber: String) {
    try checkSubjectValue(organization, "the organisation (--org, O)")
    try checkSubjectValue(person, "the person (--name, CN)")
    let organization = organization.trimmingCharacters(in: .whitespacesAndNewlines)
    let person = person.trimmingCharacters(in: .whitespacesAndNewlines)
    guard !organization.isEmpty, !person.isEmpty else {
      throw TLSError(code: .certificateTooling, message: "a client certificate needs an organisation and a person")
    }

    let (caCertificate, caKey) = try self.loadSigner()
    let key = try PrivateKey.generateP256()
    let certificate = try makeCertificate(
      subject: [
        (NID_organizationName, organization),
        (NID_organizationalUnitName, role.rawValue),
        (NID_commonName, person),
      ],
      publicKey: key,
      validityDays: validityDays,
      notBefore: notBefore
    )
    try setIssuerAndExtensions(
      certificate,
      issuer: caCertificate,
      extensions: [
        (NID_basic_constraints, "critical,CA:FALSE"),
        (NID_key_usage, "critical,digitalSignature"),
        (NID_ext_key_usage, "clientAuth"),
        (NID_subject_key_identifier, "hash"),
        (NID_authority_key_identifier, "keyid:always"),
      ]
    )
    try sign(certificate, with: caKey)

    let base = "\(role.rawValue)-\(slug(person))"
    var suffix = 1
    while true {
      let stem = self.directory + "/" + (suffix == 1 ? base : "\(base)-\(suffix)")
      do {
        try writeFile(stem + ".key", try key.pem(), mode: 0o600, exclusive: true)
      } catch is FileExists {
        suffix += 1
        continue
      }
      do {
        try writeFile(stem + ".pem", try certificate.pem(), mode: 0o644, exclusive: true)
      } catch {
        try? FileManager.default.removeItem(atPath: stem + ".key")
        if error is FileExists {
          suffix += 1
          continue
        }
        throw error
      }
      return (stem + ".pem", stem + ".key", try certificate.serialNumber())
    }
  }

  /// The CA certificate and key, after checking that they belong together.
  private func loadSigner() throws -> (X509Certificate, PrivateKey) {
    let certificate = try X509Certificate(pemFile: self.certificateFile)
    let key = try PrivateKey(pemFile: self.privateKeyFile)
    ERR_clear_error()
    guard X509_check_private_key(certificate.pointer, key.pointer) == 1 else {
      throw TLSError.openSSL(
        .certificateTooling,
        "the CA key '\(self.privateKeyFile)' does not match the CA certificate '\(self.certificateFile)'"
      )
    }
    return (certificate, key)
  }
}

// MARK: - Building certificates

private func makeCertificate(
  subject: [(Int32, String)],
  publicKey: PrivateKey,
  validityDays: Int,
  notBefore: Date?
) throws -> X509Certificate {
  guard validityDays > 0 else {
    throw TLSError(code: .certificateTooling, message: "validity must be at least one day, not \(validityDays)")
  }
  ERR_clear_error()
  guard let pointer = X509_new() else {
    throw TLSError.openSSL(.certificateTooling, "cannot allocate a certificate")
  }
  let certificate = X509Certificate(taking: pointer)
  guard X509_set_version(pointer, 2) == 1 else {  // 2 means X.509 v3
    throw TLSError.openSSL(.certificateTooling, "cannot set the certificate version")
  }
  try setRandomSerial(pointer)

  // Backdated a little by default so a peer whose clock runs slightly behind accepts it.
  let start = notBefore ?? Date().addingTimeInterval(-300)
  let end = start.addingTimeInterval(TimeInterval(validityDays) * 86_400)
  guard ASN1_TIME_set(X509_getm_notBefore(pointer), time_t(start.timeIntervalSince1970)) != nil,
    ASN1_TIME_set(X509_getm_notAfter(pointer), time_t(end.timeIntervalSince1970)) != nil
  else {
    throw TLSError.openSSL(.certificateTooling, "cannot set the certificate validity")
  }

  guard let name = X509_get_subject_name(pointer) else {
    throw TLSError.openSSL(.certificateTooling, "cannot read the certificate subject")
  }
  for (nid, value) in subject {
    // Checked again here for every caller; with the length given, nothing is cut at a NUL.
    try checkSubjectValue(value, "a certificate subject value")
    let bytes = Array(value.utf8)
    let added = bytes.withUnsafeBufferPointer { buffer in
      X509_NAME_add_entry_by_NID(name, nid, MBSTRING_UTF8, buffer.baseAddress, Int32(buffer.count), -1, 0)
    }
    guard added == 1 else {
      throw TLSError.openSSL(.certificateTooling, "cannot put '\(value)' into the certificate subject")
    }
  }
  guard X509_set_pubkey(pointer, publicKey.pointer) == 1 else {
    throw TLSError.openSSL(.certificateTooling, "cannot set the certificate public key")
  }
  return certificate
}

/// A random positive 128-bit serial (top bit cleared so DER needs no sign byte, never zero).
private func setRandomSerial(_ certificate: OpaquePointer) throws {
  var bytes = [UInt8](repeating: 0, count: 16)
  guard RAND_bytes(&bytes, Int32(bytes.count)) == 1 else {
    throw TLSError.openSSL(.certificateTooling, "cannot draw a random serial number")
  }
  bytes[0] = (bytes[0] & 0x7F) | 0x40
  guard let number = BN_bin2bn(bytes, Int32(bytes.count), nil) else {
    throw TLSError.openSSL(.certificateTooling, "cannot build the serial number")
  }
  defer { BN_free(number) }
  guard BN_to_ASN1_INTEGER(number, X509_get_serialNumber(certificate)) != nil else {
    throw TLSError.openSSL(.certificateTooling, "cannot set the serial number")
  }
}

/// Refuses a subject value with a NUL or another control character (Unicode Cc: newline, ESC,
/// DEL, ...) or U+FFFD (text that was decoded wrongly somewhere), naming `what`: a certificate
/// with one would carry no identity (`PeerIdentity`). A NUL would once have cut the value short.
private func checkSubjectValue(_ value: String, _ what: String) throws {
  if value.unicodeScalars.contains("\u{0}") {
    throw TLSError(code: .certificateTooling, message: "\(what) must not contain a NUL character")
  }
  if PeerIdentity.containsControlCharacter(value) {
    throw TLSError(
      code: .certificateTooling,
      message: "\(what) must not contain control characters (newline, tab, escape, ...): \(value.debugDescription)"
    )
  }
  if value.unicodeScalars.contains("\u{FFFD}") {
    throw TLSError(code: .certificateTooling, message: "\(what) must not contain U+FFFD (text decoded wrongly): \(value)")
  }
}

private func setIssuerAndExtensions(
  _ certificate: X509Certificate,
  issuer: X509Certificate,
  extensions: [(Int32, String)]
) throws {
  ERR_clear_error()
  guard X509_set_issuer_name(certificate.pointer, X509_get_subject_name(issuer.pointer)) == 1 else {
    throw TLSError.openSSL(.certificateTooling, "cannot set the certificate issuer")
  }
  for (nid, value) in extensions {
    guard banjie_X509_add_ext_conf(certificate.pointer, issuer.pointer, nid, value) == 1 else {
      throw TLSError.openSSL(.certificateTooling, "cannot add the certificate extension '\(value)'")
    }
  }
}

private func sign(_ certificate: X509Certificate, with key: PrivateKey) throws {
  ERR_clear_error()
  guard X509_sign(certificate.pointer, key.pointer, EVP_sha256()) > 0 else {
    throw TLSError.openSSL(.certificateTooling, "cannot sign the certificate")
  }
}

// MARK: - Files

struct FileExists: Error {}

private func createDirectory(_ directory: String) throws {
  var isDirectory: ObjCBool = false
  if FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) {
    guard isDirectory.boolValue else {
      throw TLSError(code: .certificateTooling, message: "'\(directory)' exists and is not a directory")
    }
    return
  }
  do {
    try FileManager.default.createDirectory(
      atPath: directory,
      withIntermediateDirectories: true,
      attributes: [.posixPermissions: 0o700]
    )
  } catch {
    throw TLSError(code: .certificateTooling, message: "cannot create '\(directory)': \(error)")
  }
}

/// Writes `bytes` to `path` atomically and durably: into a temporary file in the same directory,
/// created with `mode` from the start (a key is never briefly world-readable), fsync'ed, then
/// moved into place, and the directory fsync'ed, so a crash leaves the old file or the new one,
/// never a truncated one. `exclusive` fails with `FileExists` when `path` exists (the move is a
/// hard link, which never replaces a file); otherwise the file is replaced by rename.
func writeFile(_ path: String, _ bytes: [UInt8], mode: mode_t, exclusive: Bool) throws {
  let slash = path.lastIndex(of: "/")
  let directory = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
  let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
  let temporary = directory + "/." + name + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
  func failure(_ code: Int32, _ what: String) -> TLSError {
    TLSError(code: .certificateTooling, message: "cannot \(what) '\(path)': \(String(cString: strerror(code)))")
  }

  let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
  if descriptor < 0 {
    throw failure(errno, "create a temporary file for")
  }
  var error: Int32 = 0
  bytes.withUnsafeBytes { raw in
    guard let base = raw.baseAddress else { return }
    var written = 0
    while written < raw.count {
      let result = write(descriptor, base + written, raw.count - written)
      if result < 0 {
        if errno == EINTR { continue }
        error = errno
        return
      }
      written += result
    }
  }
  // The mode exactly as asked, whatever the umask.
  if error == 0 && fchmod(descriptor, mode) != 0 { error = errno }
  if error == 0 && fsync(descriptor) != 0 { error = errno }
  if close(descriptor) != 0 && error == 0 { error = errno }
  if error != 0 {
    unlink(temporary)
    throw failure(error, "write")
  }

  if exclusive {
    let linked = link(temporary, path) == 0
    let linkError = errno
    if !linked && [EPERM, EOPNOTSUPP, ENOTSUP, EMLINK].contains(linkError) {
      // A file system without hard links (an exFAT stick for an offline CA): a rename that
      // checks first; only one operator runs the CA tooling on a directory at a time.
      if access(path, F_OK) == 0 {
        unlink(temporary)
        throw FileExists()
      }
      if rename(temporary, path) != 0 {
        let renameError = errno
        unlink(temporary)
        throw failure(renameError, "create")
      }
    } else {
      unlink(temporary)
      if !linked {
        if linkError == EEXIST { throw FileExists() }
        throw failure(linkError, "create")
      }
    }
  } else if rename(temporary, path) != 0 {
    let renameError = errno
    unlink(temporary)
    throw failure(renameError, "replace")
  }
  // The file is in place; a directory that cannot be synced (some file systems refuse) only
  // weakens the guarantee against a crash in the next moments, so it does not undo the write.
  try? syncDirectory(directory, for: path)
}

/// fsync on the directory, so that the name `path` now has in it survives a crash.
private func syncDirectory(_ directory: String, for path: String) throws {
  let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
  if descriptor < 0 {
    let code = errno
    throw TLSError(
      code: .certificateTooling,
      message: "cannot open the directory of '\(path)' to sync it: \(String(cString: strerror(code)))"
    )
  }
  defer { close(descriptor) }
  if fsync(descriptor) != 0 {
    let code = errno
    throw TLSError(code: .certificateTooling, message: "cannot sync the directory of '\(path)': \(String(cString: strerror(code)))")
  }
}

/// ASCII file-name slug of a person's name: Chinese in pinyin without tones, lower-case,
/// runs of anything else turned into one "-".
func slug(_ person: String) -> String {
  let latin =
    person.applyingTransform(.toLatin, reverse: false)?
    .applyingTransform(.stripDiacritics, reverse: false) ?? person
  var result = ""
  var pendingDash = false
  for scalar in latin.lowercased().unicodeScalars {
    if scalar.isASCII, CharacterSet.alphanumerics.contains(scalar) {
      if pendingDash && !result.isEmpty { result.append("-") }
      pendingDash = false
      result.unicodeScalars.append(scalar)
    } else {
      pendingDash = true
    }
  }
  return result.isEmpty ? "person" : result
}
