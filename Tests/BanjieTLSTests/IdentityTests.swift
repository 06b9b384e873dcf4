import COpenSSL
import Foundation
import Testing

@testable import BanjieTLS

/// Identity exactly as docs/SECURITY.md describes it: exactly one OU, O and CN, clean values,
/// a positive serial; and the CA tooling that never issues anything else.
@Suite("Identity from client certificates", .timeLimit(.minutes(10)))
struct IdentityTests {
  static let clerkSubject: [SubjectEntry] = [.o("330110-SPJ"), .ou("clerk"), .cn("Test Clerk")]

  @Test("a certificate with one OU, O and CN built by the test builder names its holder")
  func wellFormedSubject() async throws {
    try await withPKI { pki in
      let issued = try OddCertificate.issue(by: pki.authority, file: "good", subject: Self.clerkSubject, serial: 0x1234)
      let certificate = try PeerCertificate(pemFile: issued.certificateFile)
      #expect(certificate.organizationalUnits == ["clerk"])
      #expect(certificate.organizations == ["330110-SPJ"])
      #expect(certificate.commonNames == ["Test Clerk"])
      #expect(certificate.serialNumber == "1234")
      let identity = try #require(PeerIdentity(certificate: certificate))
      #expect(identity.role == .clerk)
      #expect(identity.organization == "330110-SPJ")
      #expect(identity.person == "Test Clerk")
    }
  }

  @Test("a repeated OU, O or CN, also in one multi-valued RDN, carries no identity")
  func repeatedAttributes() async throws {
    try await withPKI { pki in
      let cases: [(label: String, subject: [SubjectEntry])] = [
        ("OU=office, OU=clerk", [.o("330110-SPJ"), .ou("office"), .ou("clerk"), .cn("Mallory")]),
        ("OU=clerk, OU=office", [.o("330110-SPJ"), .ou("clerk"), .ou("office"), .cn("Mallory")]),
        ("OU=clerk, OU=clerk", [.o("330110-SPJ"), .ou("clerk"), .ou("clerk"), .cn("Mallory")]),
        ("OU=clerk+OU=office in one RDN", [.o("330110-SPJ"), .ou("clerk"), .ou("office", set: -1), .cn("Mallory")]),
        ("two O", [.o("330110-SPJ"), .o("370830-YSB"), .ou("clerk"), .cn("Mallory")]),
        ("two CN", [.o("330110-SPJ"), .ou("clerk"), .cn("Mallory"), .cn("Test Clerk")]),
        ("no OU", [.o("330110-SPJ"), .cn("Mallory")]),
      ]
      for (index, (label, subject)) in cases.enumerated() {
        let issued = try OddCertificate.issue(by: pki.authority, file: "repeated-\(index)", subject: subject)
        let certificate = try PeerCertificate(pemFile: issued.certificateFile)
        #expect(PeerIdentity(certificate: certificate) == nil, "\(label) must carry no identity")
      }

      // Every value is read, in order (the first of two OUs used to win), and the single-value
      // properties say "none" rather than pick one.
      let twoUnits = try PeerCertificate(
        pemFile: try OddCertificate.issue(by: pki.authority, file: "two-ou", subject: cases[0].subject).certificateFile)
      #expect(twoUnits.organizationalUnits == ["office", "clerk"])
      #expect(twoUnits.organizationalUnit == nil)
      #expect(twoUnits.commonName == "Mallory")

      let oneRDN = try PeerCertificate(
        pemFile: try OddCertificate.issue(by: pki.authority, file: "one-rdn", subject: cases[3].subject).certificateFile)
      #expect(oneRDN.organizationalUnits.sorted() == ["clerk", "office"])
      #expect(oneRDN.organizationalUnit == nil)

      let twoNames = try PeerCertificate(
        pemFile: try OddCertificate.issue(by: pki.authority, file: "two-cn", subject: cases[5].subject).certificateFile)
      #expect(twoNames.commonNames == ["Mallory", "Test Clerk"])
      #expect(twoNames.commonName == nil)
    }
  }

  @Test("an O or CN with a NUL or another control character, or blank, carries no identity")
  func uncleanValues() async throws {
    try await withPKI { pki in
      let cases: [(label: String, subject: [SubjectEntry])] = [
        ("CN with an embedded NUL", [.o("330110-SPJ"), .ou("clerk"), .cn("Mallory\u{0}Test Clerk")]),
        ("CN with a newline", [.o("330110-SPJ"), .ou("clerk"), .cn("Mallory\nrole=office")]),
        ("CN with an ANSI escape", [.o("330110-SPJ"), .ou("clerk"), .cn("\u{1B}[31mMallory")]),
        ("CN with DEL", [.o("330110-SPJ"), .ou("clerk"), .cn("Mallory\u{7F}")]),
        ("CN with a tab", [.o("330110-SPJ"), .ou("clerk"), .cn("Mal\tlory")]),
        ("empty CN", [.o("330110-SPJ"), .ou("clerk"), .cn("")]),
        ("O with a C1 control (NEL)", [.o("330110\u{85}SPJ"), .ou("clerk"), .cn("Mallory")]),
        ("O with a NUL", [.o("330110-SPJ\u{0}"), .ou("clerk"), .cn("Mallory")]),
        ("whitespace-only O", [.o("   "), .ou("clerk"), .cn("Mallory")]),
        ("O of an ideographic space", [.o("\u{3000}"), .ou("clerk"), .cn("Mallory")]),
      ]
      for (index, (label, subject)) in cases.enumerated() {
        let issued = try OddCertificate.issue(by: pki.authority, file: "unclean-\(index)", subject: subject)
        let certificate = try PeerCertificate(pemFile: issued.certificateFile)
        #expect(PeerIdentity(certificate: certificate) == nil, "\(label) must carry no identity")
      }

      // The NUL is read, not cut at: what follows it is there too.
      let withNUL = try PeerCertificate(
        pemFile: try OddCertificate.issue(by: pki.authority, file: "nul", subject: cases[0].subject).certificateFile)
      #expect(withNUL.commonNames == ["Mallory\u{0}Test Clerk"])
      #expect(withNUL.commonName?.utf8.count == "Mallory\u{0}Test Clerk".utf8.count)
    }
  }

  @Test("the identity rules on values, without certificates")
  func valueRules() {
    #expect(PeerIdentity.isAcceptableName("张三"))
    #expect(PeerIdentity.isAcceptableName("91330110MA2XXXXX0X"))
    #expect(!PeerIdentity.isAcceptableName(""))
    #expect(!PeerIdentity.isAcceptableName(" \u{3000}\n"))
    #expect(!PeerIdentity.isAcceptableName("a\u{0}b"))
    #expect(!PeerIdentity.isAcceptableName("a\u{1B}[0m"))
    #expect(!PeerIdentity.isAcceptableName("a\u{9F}"))
    #expect(!PeerIdentity.isAcceptableName("a\u{FFFD}"))

    let base = PeerCertificate(
      commonNames: ["张三"], organizations: ["330110-SPJ"], organizationalUnits: ["clerk"],
      serialNumber: "AB", sha256Fingerprint: "00", notBefore: Date(), notAfter: Date()
    )
    #expect(PeerIdentity(certificate: base)?.person == "张三")
    var twoUnits = base
    twoUnits.organizationalUnits = ["office", "clerk"]
    #expect(twoUnits.organizationalUnit == nil)
    #expect(PeerIdentity(certificate: twoUnits) == nil)
    twoUnits.organizationalUnit = "office"
    #expect(twoUnits.organizationalUnits == ["office"])
    #expect(PeerIdentity(certificate: twoUnits)?.role == .office)
    for serial in ["0", "-5", ""] {
      var odd = base
      odd.serialNumber = serial
      #expect(PeerIdentity(certificate: odd) == nil, "serial \(serial)")
    }
  }

  @Test("zero and negative serials read as themselves, never as another serial")
  func serialRendering() async throws {
    try await withPKI { pki in
      let negative = try OddCertificate.issue(by: pki.authority, file: "negative", subject: Self.clerkSubject, serial: -0x1234)
      let zero = try OddCertificate.issue(by: pki.authority, file: "zero", subject: Self.clerkSubject, serial: 0)
      let negativeCertificate = try PeerCertificate(pemFile: negative.certificateFile)
      #expect(negativeCertificate.serialNumber == "-1234")
      #expect(try PeerCertificate(pemFile: zero.certificateFile).serialNumber == "0")
      #expect(PeerIdentity(certificate: negativeCertificate) == nil)

      #expect(!(try X509Certificate(pemFile: negative.certificateFile).serialIsPositive))
      #expect(!(try X509Certificate(pemFile: zero.certificateFile).serialIsPositive))
      #expect(try X509Certificate(pemFile: pki.clerk.certificateFile).serialIsPositive)
    }
  }

  @Test("a client certificate with a zero or negative serial is refused at the handshake; a positive one gets in")
  func nonPositiveSerialRefused() async throws {
    try await withPKI { pki in
      let server = try await TestServer.start(configuration: pki.serverConfiguration())
      defer { Task { await server.stop() } }

      for serial: Int64 in [-5, 0] {
        let issued = try OddCertificate.issue(by: pki.authority, file: "serial\(serial)", subject: Self.clerkSubject, serial: serial)
        let before = server.recorder.snapshot.errors.count
        let client = try await TestClient.connect(
          port: server.port,
          configuration: pki.clientConfiguration(certificate: (issued.certificateFile, issued.privateKeyFile))
        )
        try await client.waitClosed()
        let seen = try await server.recorder.wait { $0.errors.count > before }
        #expect(seen.sessions.isEmpty, "serial \(serial)")
        let error = try #require(seen.errors[before] as? TLSError)
        #expect(error.code == .handshakeFailed)
        #expect(error.message.contains("serial number is zero or negative"), "\(error)")
        #expect(client.recorder.snapshot.received.isEmpty)
      }

      // The same subject, built the same way, with a positive serial: the refusal was the serial.
      let positive = try OddCertificate.issue(by: pki.authority, file: "serial-positive", subject: Self.clerkSubject, serial: 5)
      let client = try await TestClient.connect(
        port: server.port,
        configuration: pki.clientConfiguration(certificate: (positive.certificateFile, positive.privateKeyFile))
      )
      try await client.send(Array("ok".utf8))
      try await client.recorder.wait { $0.received == Array("ok".utf8) }
      let session = try #require(server.recorder.snapshot.sessions.last)
      #expect(session.peerCertificate?.serialNumber == "5")
      #expect(session.peerCertificate.flatMap { PeerIdentity(certificate: $0) }?.role == .clerk)
      try await client.channel.close()
    }
  }

  @Test("a certificate whose subject carries no identity still connects")
  func noIdentityStillConnects() async throws {
    try await withPKI { pki in
      let server = try await TestServer.start(configuration: pki.serverConfiguration())
      defer { Task { await server.stop() } }
      let issued = try OddCertificate.issue(
        by: pki.authority, file: "two-ou-connect", subject: [.o("330110-SPJ"), .ou("office"), .ou("clerk"), .cn("Mallory")])
      let client = try await TestClient.connect(
        port: server.port,
        configuration: pki.clientConfiguration(certificate: (issued.certificateFile, issued.privateKeyFile))
      )
      try await client.send(Array("hi".utf8))
      try await client.recorder.wait { $0.received == Array("hi".utf8) }
      let peer = try #require(server.recorder.snapshot.sessions.last?.peerCertificate)
      #expect(peer.organizationalUnits == ["office", "clerk"])
      #expect(PeerIdentity(certificate: peer) == nil)
      try await client.channel.close()
    }
  }

  @Test("the CA refuses a NUL or control character in --org, --name and the CA name, and writes nothing")
  func authorityRefusesControlCharacters() async throws {
    try await withPKI { pki in
      let before = try FileManager.default.contentsOfDirectory(atPath: pki.authority.directory).sorted()
      let refused: [(organization: String, person: String, expected: [String])] = [
        ("330110\u{0}SPJ", "Mallory", ["organisation", "--org", "NUL"]),
        ("330110-SPJ", "Mallory\u{0}Test Clerk", ["person", "--name", "NUL"]),
        ("330110-SPJ", "Mallory\nrole=office", ["person", "--name", "control characters"]),
        ("330110-SPJ", "\u{1B}[31mMallory", ["person", "--name", "control characters"]),
        ("330110-SPJ\u{7F}", "Mallory", ["organisation", "--org", "control characters"]),
        ("330110-SPJ\n", "Mallory", ["organisation", "--org", "control characters"]),
        ("330110-SPJ", "Mallory\u{FFFD}", ["person", "--name", "U+FFFD"]),
      ]
      for (organization, person, expected) in refused {
        let error = try #require(throws: TLSError.self) {
          try pki.authority.issueClientCertificate(role: .clerk, organization: organization, person: person)
        }
        #expect(error.code == .certificateTooling)
        for word in expected {
          #expect(error.message.contains(word), "\(error.message) should mention \(word)")
        }
      }
      #expect(try FileManager.default.contentsOfDirectory(atPath: pki.authority.directory).sorted() == before)

      let caDirectory = pki.directory + "/nul-ca"
      let error = try #require(throws: TLSError.self) {
        try CertificateAuthority.create(directory: caDirectory, commonName: "county CA\u{0}evil")
      }
      #expect(error.message.contains("NUL"))
      #expect(!FileManager.default.fileExists(atPath: caDirectory))
    }
  }

  @Test("keys and certificates are written atomically, with their modes, leaving no temporary files")
  func atomicWrites() async throws {
    try await withPKI { pki in
      let directory = pki.authority.directory
      // A replacement (rename) and a second certificate for the same person (exclusive link).
      let server = try pki.authority.issueServerCertificate(dnsNames: ["localhost"], ipAddresses: [])
      let again = try pki.authority.issueClientCertificate(role: .clerk, organization: "330110-SPJ", person: "Test Clerk")
      #expect(again.certificateFile.hasSuffix("/clerk-test-clerk-2.pem"))

      let names = try FileManager.default.contentsOfDirectory(atPath: directory)
      #expect(names.filter { $0.contains(".tmp-") } == [], "temporary files left: \(names)")
      func mode(_ path: String) throws -> Int? {
        (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue
      }
      for key in [pki.authority.privateKeyFile, server.privateKeyFile, pki.clerk.privateKeyFile, again.privateKeyFile] {
        #expect(try mode(key) == 0o600, "\(key)")
      }
      for certificate in [pki.caFile, server.certificateFile, pki.clerk.certificateFile, again.certificateFile] {
        #expect(try mode(certificate) == 0o644, "\(certificate)")
      }

      // writeFile itself: exclusive never replaces, otherwise the content is replaced whole.
      let path = directory + "/plain.txt"
      try writeFile(path, Array("first".utf8), mode: 0o600, exclusive: true)
      #expect(throws: FileExists.self) { try writeFile(path, Array("second".utf8), mode: 0o600, exclusive: true) }
      #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data("first".utf8))
      try writeFile(path, Array("third".utf8), mode: 0o644, exclusive: false)
      #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data("third".utf8))
      #expect(try mode(path) == 0o644)
      #expect(throws: TLSError.self) { try writeFile(directory + "/missing/file.txt", [1], mode: 0o600, exclusive: false) }

      let after = try FileManager.default.contentsOfDirectory(atPath: directory)
      #expect(after.filter { $0.contains(".tmp-") } == [], "temporary files left: \(after)")
    }
  }
}

// MARK: - Certificates the CA tooling refuses to make

/// One attribute of a test certificate's subject, as `X509_NAME_add_entry_by_NID` takes it.
struct SubjectEntry: Sendable {
  var nid: Int32
  /// Stored as a UTF8String exactly as given: NULs and control characters included.
  var bytes: [UInt8]
  /// 0: a new RDN; -1: joins the previous RDN, making it multi-valued (`OU=clerk+OU=office`).
  var set: Int32 = 0

  static func ou(_ value: String, set: Int32 = 0) -> SubjectEntry {
    SubjectEntry(nid: NID_organizationalUnitName, bytes: Array(value.utf8), set: set)
  }

  static func o(_ value: String, set: Int32 = 0) -> SubjectEntry {
    SubjectEntry(nid: NID_organizationName, bytes: Array(value.utf8), set: set)
  }

  static func cn(_ value: String, set: Int32 = 0) -> SubjectEntry {
    SubjectEntry(nid: NID_commonName, bytes: Array(value.utf8), set: set)
  }
}

/// Client certificates with any subject and serial, signed by a test CA with the extensions the
/// CA tooling gives a client certificate (so that only the subject or serial differs).
enum OddCertificate {
  struct Failure: Error, CustomStringConvertible {
    var description: String
  }

  /// Writes `<authority.directory>/<file>.pem` and `.key`, valid from five minutes ago for a day.
  static func issue(
    by authority: CertificateAuthority,
    file: String,
    subject: [SubjectEntry],
    serial: Int64 = Int64.random(in: 1...Int64.max)
  ) throws -> (certificateFile: String, privateKeyFile: String) {
    let issuer = try X509Certificate(pemFile: authority.certificateFile)
    let issuerKey = try PrivateKey(pemFile: authority.privateKeyFile)
    let key = try PrivateKey.generateP256()
    func check(_ ok: Bool, _ what: String) throws {
      if !ok { throw Failure(description: "cannot \(what): \(OpenSSLErrorQueue.drain())") }
    }

    ERR_clear_error()
    guard let pointer = X509_new() else { throw Failure(description: "cannot allocate a certificate") }
    let certificate = X509Certificate(taking: pointer)
    try check(X509_set_version(pointer, 2) == 1, "set the version")
    try check(ASN1_INTEGER_set_int64(X509_get_serialNumber(pointer), serial) == 1, "set the serial \(serial)")
    let now = time(nil)
    try check(
      ASN1_TIME_set(X509_getm_notBefore(pointer), now - 300) != nil
        && ASN1_TIME_set(X509_getm_notAfter(pointer), now + 86_400) != nil,
      "set the validity"
    )

    guard let name = X509_get_subject_name(pointer) else { throw Failure(description: "no subject name") }
    for entry in subject {
      let added = entry.bytes.withUnsafeBufferPointer { buffer in
        X509_NAME_add_entry_by_NID(name, entry.nid, V_ASN1_UTF8STRING, buffer.baseAddress, Int32(buffer.count), -1, entry.set)
      }
      try check(added == 1, "add the subject entry \(entry.bytes)")
    }
    try check(X509_set_issuer_name(pointer, X509_get_subject_name(issuer.pointer)) == 1, "set the issuer")
    try check(X509_set_pubkey(pointer, key.pointer) == 1, "set the public key")
    let extensions: [(Int32, String)] = [
      (NID_basic_constraints, "critical,CA:FALSE"),
      (NID_key_usage, "critical,digitalSignature"),
      (NID_ext_key_usage, "clientAuth"),
      (NID_subject_key_identifier, "hash"),
      (NID_authority_key_identifier, "keyid:always"),
    ]
    for (nid, value) in extensions {
      try check(banjie_X509_add_ext_conf(pointer, issuer.pointer, nid, value) == 1, "add the extension \(value)")
    }
    try check(X509_sign(pointer, issuerKey.pointer, EVP_sha256()) > 0, "sign the certificate")

    let stem = authority.directory + "/" + file
    try Data(try key.pem()).write(to: URL(fileURLWithPath: stem + ".key"))
    try Data(try certificate.pem()).write(to: URL(fileURLWithPath: stem + ".pem"))
    return (stem + ".pem", stem + ".key")
  }
}
