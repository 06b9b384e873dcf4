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
///
/// The subject is kept whole: every OU, O and CN value in the order the certificate lists them
/// (each value of a multi-valued RDN such as `OU=clerk+OU=office` counts), converted to UTF-8
/// with nothing cut off: an embedded NUL stays in the string as U+0000, and a value that cannot
/// be converted reads as U+FFFD. `PeerIdentity` decides what of it names a caller.
public struct PeerCertificate: Sendable, Hashable {
  /// Every CN of the subject.
  public var commonNames: [String]
  /// Every O of the subject.
  public var organizations: [String]
  /// Every OU of the subject.
  public var organizationalUnits: [String]
  /// Upper-case hex without leading zeros (the `RevocationList` form); a negative serial keeps
  /// its sign ("-5"), so it never reads as "0".
  public var serialNumber: String
  /// Lower-case hex of SHA-256 over the DER encoding.
  public var sha256Fingerprint: String
  public var notBefore: Date
  public var notAfter: Date

  /// The CN when the subject has exactly one; nil when it has none or several. Setting it
  /// replaces `commonNames` (nil: none).
  public var commonName: String? {
    get { Self.single(self.commonNames) }
    set { self.commonNames = newValue.map { [$0] } ?? [] }
  }

  /// The O when the subject has exactly one; nil when it has none or several.
  public var organization: String? {
    get { Self.single(self.organizations) }
    set { self.organizations = newValue.map { [$0] } ?? [] }
  }

  /// The OU when the subject has exactly one; nil when it has none or several.
  public var organizationalUnit: String? {
    get { Self.single(self.organizationalUnits) }
    set { self.organizationalUnits = newValue.map { [$0] } ?? [] }
  }

  public init(
    commonName: String?,
    organization: String?,
    organizationalUnit: String?,
    serialNumber: String,
    sha256Fingerprint: String,
    notBefore: Date,
    notAfter: Date
  ) {
    self.init(
      commonNames: commonName.map { [$0] } ?? [],
      organizations: organization.map { [$0] } ?? [],
      organizationalUnits: organizationalUnit.map { [$0] } ?? [],
      serialNumber: serialNumber,
      sha256Fingerprint: sha256Fingerprint,
      notBefore: notBefore,
      notAfter: notAfter
    )
  }

  public init(
    commonNames: [String],
    organizations: [String],
    organizationalUnits: [String],
    serialNumber: String,
    sha256Fingerprint: String,
    notBefore: Date,
    notAfter: Date
  ) {
    self.commonNames = commonNames
    self.organizations = organizations
    self.organizationalUnits = organizationalUnits
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

  private static func single(_ values: [String]) -> String? {
    values.count == 1 ? values[0] : nil
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
    /// A monitor (监控探针): a load balancer's or a monitoring system's health check; O is the
    /// organisation running it, CN the probe's name. It may ask for health and the server's own
    /// description, nothing else (docs/DOMAIN.md §11).
    case monitor
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

  /// nil unless the subject has exactly one OU, one O and one CN (a repeated attribute, also
  /// inside one multi-valued RDN, names nobody: which one would count is the attacker's choice),
  /// the OU is exactly a known role, O and CN are acceptable names (`isAcceptableName`) and the
  /// serial is positive (the handshake refuses others; this is the second line).
  public init?(certificate: PeerCertificate) {
    guard certificate.organizationalUnits.count == 1, certificate.organizations.count == 1,
      certificate.commonNames.count == 1,
      let role = Role(rawValue: certificate.organizationalUnits[0]),
      Self.isAcceptableName(certificate.organizations[0]),
      Self.isAcceptableName(certificate.commonNames[0]),
      Self.isPositiveSerial(certificate.serialNumber)
    else { return nil }
    self.init(
      role: role,
      organization: certificate.organizations[0],
      person: certificate.commonNames[0],
      serialNumber: certificate.serialNumber,
      sha256Fingerprint: certificate.sha256Fingerprint
    )
  }

  /// Whether `value` may stand for an organisation or a person: not empty, not only whitespace,
  /// no control character (`containsControlCharacter`) and no U+FFFD (a value that was not text).
  public static func isAcceptableName(_ value: String) -> Bool {
    !value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
      && !Self.containsControlCharacter(value)
      && !value.unicodeScalars.contains("\u{FFFD}")
  }

  /// Whether `value` holds a control character: Unicode general category Cc (NUL, tab, newline,
  /// ESC and the rest of U+0000–U+001F, DEL, U+0080–U+009F) or Cf, the invisible format
  /// characters (bidi overrides such as U+202E, zero-width spaces and joiners, U+FEFF), which no
  /// department code, USCC, unit or person's name needs and which can make a name read as another.
  public static func containsControlCharacter(_ value: String) -> Bool {
    value.unicodeScalars.contains { $0.properties.generalCategory == .control || $0.properties.generalCategory == .format }
  }

  /// "0" and "-…" (the `PeerCertificate.serialNumber` forms of zero and negative serials) are not positive.
  static func isPositiveSerial(_ serial: String) -> Bool {
    !serial.isEmpty && serial != "0" && !serial.hasPrefix("-")
  }
}
