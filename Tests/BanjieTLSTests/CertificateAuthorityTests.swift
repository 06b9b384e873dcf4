import Foundation
import Testing

@testable import BanjieTLS

@Suite("County CA tooling and TLS contexts", .timeLimit(.minutes(10)))
struct CertificateAuthorityTests {
  @Test("create writes ca.pem and an owner-only ca.key, and refuses to overwrite them")
  func createAndRefuseOverwrite() async throws {
    try await withPKI { pki in
      let attributes = try FileManager.default.attributesOfItem(atPath: pki.authority.privateKeyFile)
      #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
      let clerkKey = try FileManager.default.attributesOfItem(atPath: pki.clerk.privateKeyFile)
      #expect((clerkKey[.posixPermissions] as? NSNumber)?.intValue == 0o600)

      let original = try Data(contentsOf: URL(fileURLWithPath: pki.caFile))
      #expect(throws: TLSError.self) { try CertificateAuthority.create(directory: pki.authority.directory) }
      #expect(try Data(contentsOf: URL(fileURLWithPath: pki.caFile)) == original)

      let loaded = try CertificateAuthority.load(directory: pki.authority.directory)
      let issued = try loaded.issueClientCertificate(role: .office, organization: "营商办", person: "Li Si")
      #expect(issued.certificateFile.hasSuffix("/office-li-si.pem"))
    }
  }

  @Test("load refuses a CA whose key does not match its certificate")
  func loadChecksKey() async throws {
    try await withPKI { pki in
      let other = try pki.otherAuthority()
      try FileManager.default.removeItem(atPath: pki.authority.privateKeyFile)
      try FileManager.default.copyItem(atPath: other.privateKeyFile, toPath: pki.authority.privateKeyFile)
      let error = try #require(throws: TLSError.self) { try CertificateAuthority.load(directory: pki.authority.directory) }
      #expect(error.message.contains("does not match"))
    }
  }

  @Test("a server certificate needs a name, and IP addresses must be literals")
  func serverCertificateArguments() async throws {
    try await withPKI { pki in
      #expect(throws: TLSError.self) { try pki.authority.issueServerCertificate(dnsNames: [], ipAddresses: []) }
      #expect(throws: TLSError.self) { try pki.authority.issueServerCertificate(dnsNames: [], ipAddresses: ["300.1.1.1"]) }
      #expect(throws: TLSError.self) { try pki.authority.issueServerCertificate(dnsNames: ["bad name"], ipAddresses: []) }
    }
  }

  @Test("issued certificates verify with openssl for their purpose only", .enabled(if: opensslAvailable))
  func opensslVerifiesPurposes() async throws {
    try await withPKI { pki in
      let serverAsServer = try await runOpenSSL([
        "verify", "-CAfile", pki.caFile, "-purpose", "sslserver", "-x509_strict", pki.server.certificateFile,
      ])
      #expect(serverAsServer.status == 0, "\(serverAsServer.output)")
      let clerkAsClient = try await runOpenSSL([
        "verify", "-CAfile", pki.caFile, "-purpose", "sslclient", "-x509_strict", pki.clerk.certificateFile,
      ])
      #expect(clerkAsClient.status == 0, "\(clerkAsClient.output)")
      let clerkAsServer = try await runOpenSSL(["verify", "-CAfile", pki.caFile, "-purpose", "sslserver", pki.clerk.certificateFile])
      #expect(clerkAsServer.status != 0)

      let text = try await runOpenSSL(["x509", "-in", pki.caFile, "-noout", "-text"])
      #expect(text.output.contains("CA:TRUE"))
      #expect(text.output.contains("Certificate Sign, CRL Sign"))
      #expect(text.output.contains("ecdsa-with-SHA256"))
      #expect(text.output.contains("prime256v1"))
      let server = try await runOpenSSL(["x509", "-in", pki.server.certificateFile, "-noout", "-text"])
      #expect(server.output.contains("DNS:localhost, DNS:banjie.test, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1"))
      #expect(server.output.contains("CA:FALSE"))
      #expect(server.output.contains("TLS Web Server Authentication"))
      #expect(server.output.contains("X509v3 Authority Key Identifier"))
    }
  }

  @Test("serials are random, positive and 128 bits")
  func serials() async throws {
    try await withPKI { pki in
      let a = try pki.authority.issueClientCertificate(role: .clerk, organization: "X", person: "A")
      let b = try pki.authority.issueClientCertificate(role: .clerk, organization: "X", person: "B")
      #expect(a.serialNumber != b.serialNumber)
      #expect(a.serialNumber.count == 32)
      #expect(a.serialNumber.allSatisfy { $0.isHexDigit && !$0.isLowercase })
      #expect(try PeerCertificate(pemFile: a.certificateFile).serialNumber == a.serialNumber)
    }
  }

  @Test("TLSContext errors name the file or setting at fault")
  func contextErrors() async throws {
    try await withPKI { pki in
      var missing = pki.serverConfiguration()
      missing.privateKeyFile = pki.directory + "/nope.key"
      let notFound = try #require(throws: TLSError.self) { try TLSContext(configuration: missing) }
      #expect(notFound.code == .invalidConfiguration)
      #expect(notFound.message.contains("nope.key"))

      var mismatched = pki.serverConfiguration()
      mismatched.privateKeyFile = pki.clerk.privateKeyFile
      let mismatch = try #require(throws: TLSError.self) { try TLSContext(configuration: mismatched) }
      #expect("\(mismatch)".contains("key values mismatch"))

      var notPEM = pki.serverConfiguration()
      let garbage = pki.directory + "/garbage.pem"
      try Data("not a certificate".utf8).write(to: URL(fileURLWithPath: garbage))
      notPEM.trustRootsFile = garbage
      let badRoots = try #require(throws: TLSError.self) { try TLSContext(configuration: notPEM) }
      #expect(badRoots.message.contains("garbage.pem"))

      var noRoots = pki.clientConfiguration()
      noRoots.trustRootsFile = nil
      #expect(throws: TLSError.self) { try TLSContext(configuration: noRoots) }

      let context = try TLSContext(configuration: pki.clientConfiguration())
      #expect(throws: TLSError.self) { try OpenSSLHandler(context: context, serverHostname: "") }
    }
  }

  @Test("revocation lists normalise serial spellings")
  func revocationNormalisation() {
    let list = RevocationList(["0a:1b", "00FF"])
    #expect(list.serials == ["A1B", "FF"])
    #expect(list.isRevoked("0x0A1B"))
    #expect(list.isRevoked("a1b"))
    #expect(!list.isRevoked("A1C"))
    list.revoke("not hex")
    list.revoke("00:00")
    #expect(list.serials == ["A1B", "FF", "0"])
  }

  @Test("PeerIdentity needs a known role and both names")
  func peerIdentityParsing() {
    let base = PeerCertificate(
      commonName: "张三", organization: "330110-SPJ", organizationalUnit: "clerk",
      serialNumber: "AB", sha256Fingerprint: "00", notBefore: Date(), notAfter: Date()
    )
    #expect(PeerIdentity(certificate: base)?.role == .clerk)
    var unknownRole = base
    unknownRole.organizationalUnit = "admin"
    #expect(PeerIdentity(certificate: unknownRole) == nil)
    var noPerson = base
    noPerson.commonName = nil
    #expect(PeerIdentity(certificate: noPerson) == nil)
    var emptyOrganization = base
    emptyOrganization.organization = ""
    #expect(PeerIdentity(certificate: emptyOrganization) == nil)
  }
}
