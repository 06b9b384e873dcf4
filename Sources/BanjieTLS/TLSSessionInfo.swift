import Foundation

/// Events `OpenSSLHandler` fires inbound with `fireUserInboundEventTriggered`.
public enum TLSEvent: Sendable {
  /// The handshake finished and the peer is verified; application data may flow.
  ///
  /// On a TLS 1.3 client this fires before the server has judged the client certificate:
  /// a refusal arrives afterwards as an error (`.connectionFailed`, "certificate required" or
  /// "bad certificate" in `openSSLErrors`) and the channel closes.
  case handshakeCompleted(TLSSessionInfo)
}

/// What a finished handshake negotiated.
public struct TLSSessionInfo: Sendable, Hashable {
  /// e.g. "TLSv1.3"
  public var protocolVersion: String
  /// IANA name, e.g. "TLS_AES_128_GCM_SHA256"
  public var cipherSuite: String
  public var alpnProtocol: String?
  /// The verified peer certificate: the client's on a server, the server's on a client.
  public var peerCertificate: PeerCertificate?

  public init(
    protocolVersion: String,
    cipherSuite: String,
    alpnProtocol: String?,
    peerCertificate: PeerCertificate?
  ) {
    self.protocolVersion = protocolVersion
    self.cipherSuite = cipherSuite
    self.alpnProtocol = alpnProtocol
    self.peerCertificate = peerCertificate
  }
}

/// The parts of an X.509 certificate banjie looks at.
public struct PeerCertificate: Sendable, Hashable {
  public var commonName: String?
  public var organization: String?
  public var organizationalUnit: String?
  /// Upper-case hex without leading zeros (the `RevocationList` form).
  public var serialNumber: String
  /// Lower-case hex of SHA-256 over the DER encoding.
  public var sha256Fingerprint: String
  public var notBefore: Date
  public var notAfter: Date

  public init(
    commonName: String?,
    organization: String?,
    organizationalUnit: String?,
    serialNumber: String,
    sha256Fingerprint: String,
    notBefore: Date,
    notAfter: Date
  ) {
    self.commonName = commonName
    self.organization = organization
    self.organizationalUnit = organizationalUnit
    self.serialNumber = serialNumber
    self.sha256Fingerprint = sha256Fingerprint
    self.notBefore = notBefore
    self.notAfter = notAfter
  }

  /// Reads the first certificate of a PEM file (e.g. to show or revoke an issued certificate).
  public init(pemFile: String) throws {
    let certificate = try X509Certificate(pemFile: pemFile)
    self = try certificate.peerCertificate()
  }
}

/// How banjie reads a client certificate: OU = role, O = organisation, CN = person.
public struct PeerIdentity: Sendable, Hashable {
  public enum Role: String, Sendable, CaseIterable {
    case clerk
    case enterprise
    case liaison
    case office
    /// A window's rating pad (评价器): O is the window code, CN the device id (docs/DOMAIN.md §21).
    case pad
    /// The 12345 centre's dispatcher (话务调度): O is the centre's code, CN the person (docs/DOMAIN.md §24).
    case dispatcher
  }

  public var role: Role
  /// A department code for clerks, the enterprise's USCC for enterprises, the window code for pads.
  public var organization: String
  public var person: String
  public var serialNumber: String
  public var sha256Fingerprint: String

  public init(role: Role, organization: String, person: String, serialNumber: String, sha256Fingerprint: String) {
    self.role = role
    self.organization = organization
    self.person = person
    self.serialNumber = serialNumber
    self.sha256Fingerprint = sha256Fingerprint
  }

  /// nil when OU is not exactly a known role or O / CN is missing or empty.
  public init?(certificate: PeerCertificate) {
    guard let unit = certificate.organizationalUnit, let role = Role(rawValue: unit),
      let organization = certificate.organization, !organization.isEmpty,
      let person = certificate.commonName, !person.isEmpty
    else { return nil }
    self.init(
      role: role,
      organization: organization,
      person: person,
      serialNumber: certificate.serialNumber,
      sha256Fingerprint: certificate.sha256Fingerprint
    )
  }
}
