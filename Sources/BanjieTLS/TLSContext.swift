import COpenSSL
import Foundation

/// One `SSL_CTX` built from a `TLSConfiguration`. Loading certificates and keys is slow;
/// creating a connection (`OpenSSLHandler`) from a context is cheap: build once, share.
///
/// `@unchecked Sendable`: the `SSL_CTX` is fully configured in `init` and afterwards only used
/// through OpenSSL's thread-safe `SSL_new` and read-only callbacks.
public final class TLSContext: @unchecked Sendable {
  public let configuration: TLSConfiguration
  let sslContext: OpaquePointer
  /// Reachable from OpenSSL's C callbacks through the `SSL_CTX` ex-data; kept alive by `self`,
  /// and every `OpenSSLHandler` keeps its context alive.
  private let callbacks: ContextCallbacks

  /// Throws `TLSError` with code `.invalidConfiguration` naming the file or setting at fault.
  public init(configuration: TLSConfiguration) throws {
    try Self.validate(configuration)
    ERR_clear_error()
    guard let context = SSL_CTX_new(TLS_method()) else {
      throw TLSError.openSSL(.invalidConfiguration, "cannot create an SSL_CTX")
    }
    let callbacks = ContextCallbacks(
      applicationProtocols: configuration.applicationProtocols.map { Array($0.utf8) },
      revocations: configuration.revocations
    )
    do {
      try Self.configure(context, configuration, callbacks)
    } catch {
      SSL_CTX_free(context)
      throw error
    }
    self.configuration = configuration
    self.sslContext = context
    self.callbacks = callbacks
  }

  deinit {
    SSL_CTX_free(self.sslContext)
  }

  private static func validate(_ configuration: TLSConfiguration) throws {
    func invalid(_ message: String) -> TLSError {
      TLSError(code: .invalidConfiguration, message: message)
    }
    switch configuration.role {
    case .server:
      guard configuration.certificateChainFile != nil, configuration.privateKeyFile != nil else {
        throw invalid("a server needs certificateChainFile and privateKeyFile")
      }
      if configuration.requireClientCertificate && configuration.trustRootsFile == nil {
        throw invalid("requireClientCertificate needs trustRootsFile (the CA that issues client certificates)")
      }
    case .client:
      guard configuration.trustRootsFile != nil else {
        throw invalid("a client needs trustRootsFile: only those roots are trusted, never the system store")
      }
      guard (configuration.certificateChainFile == nil) == (configuration.privateKeyFile == nil) else {
        throw invalid("certificateChainFile and privateKeyFile must be given together")
      }
    }
    for name in configuration.applicationProtocols where name.utf8.isEmpty || name.utf8.count > 255 {
      throw invalid("ALPN protocol name '\(name)' must be 1 to 255 bytes")
    }
    if configuration.minimumVersion == .tls13 && configuration.maximumVersion == .tls12 {
      throw invalid("minimum TLS version 1.3 is above the maximum 1.2")
    }
    guard configuration.handshakeTimeout.nanoseconds > 0, configuration.closeNotifyTimeout.nanoseconds >= 0 else {
      throw invalid("handshakeTimeout must be positive and closeNotifyTimeout not negative")
    }
    for (what, path) in [
      ("certificate chain", configuration.certificateChainFile),
      ("private key", configuration.privateKeyFile),
      ("trust roots", configuration.trustRootsFile),
    ] {
      if let path { _ = try readFile(path, what: what) }
    }
  }

  private static func configure(
    _ context: OpaquePointer,
    _ configuration: TLSConfiguration,
    _ callbacks: ContextCallbacks
  ) throws {
    func check(_ ok: Bool, _ message: @autoclosure () -> String) throws {
      if !ok { throw TLSError.openSSL(.invalidConfiguration, message()) }
    }

    let minimum = configuration.minimumVersion == .tls13 ? TLS1_3_VERSION : TLS1_2_VERSION
    let maximum = configuration.maximumVersion == .tls12 ? TLS1_2_VERSION : TLS1_3_VERSION
    try check(banjie_SSL_CTX_set_min_proto_version(context, minimum) == 1, "cannot set the minimum TLS version")
    try check(banjie_SSL_CTX_set_max_proto_version(context, maximum) == 1, "cannot set the maximum TLS version")
    _ = banjie_SSL_CTX_set_hardening_options(context)
    // AUTO_RETRY: SSL_read must not report WANT_READ while data waits behind a non-data record.
    // RELEASE_BUFFERS: idle connections hold no record buffers; a server keeps many.
    _ = banjie_SSL_CTX_set_mode(
      context,
      Int(SSL_MODE_AUTO_RETRY | SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER)
    )
    // No resumption: connections are long-lived and multiplexed; tickets are wasted bytes.
    _ = banjie_SSL_CTX_set_session_cache_mode(context, Int(SSL_SESS_CACHE_OFF))
    _ = SSL_CTX_set_num_tickets(context, 0)
    SSL_CTX_set_security_level(context, 2)
    try check(
      SSL_CTX_set_cipher_list(context, "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL") == 1,
      "cannot set the TLS 1.2 cipher list"
    )

    if let chain = configuration.certificateChainFile, let key = configuration.privateKeyFile {
      try check(
        SSL_CTX_use_certificate_chain_file(context, chain) == 1,
        "cannot load the certificate chain file '\(chain)'"
      )
      try check(
        SSL_CTX_use_PrivateKey_file(context, key, SSL_FILETYPE_PEM) == 1,
        "cannot load the private key file '\(key)'"
      )
      try check(
        SSL_CTX_check_private_key(context) == 1,
        "the private key '\(key)' does not match the certificate '\(chain)'"
      )
    }

    // Expiry and not-yet-valid are checked (NO_CHECK_TIME cleared); no partial chains: only a
    // chain ending in a trusted root verifies.
    if let parameters = SSL_CTX_get0_param(context) {
      _ = X509_VERIFY_PARAM_clear_flags(
        parameters,
        UInt(X509_V_FLAG_NO_CHECK_TIME | X509_V_FLAG_PARTIAL_CHAIN)
      )
      _ = X509_VERIFY_PARAM_set_flags(parameters, UInt(X509_V_FLAG_X509_STRICT))
    }
    SSL_CTX_set_verify_depth(context, 4)

    var verifyMode = SSL_VERIFY_NONE
    if let roots = configuration.trustRootsFile {
      try check(SSL_CTX_load_verify_file(context, roots) == 1, "cannot load the trust roots file '\(roots)'")
      switch configuration.role {
      case .client:
        verifyMode = SSL_VERIFY_PEER
      case .server:
        verifyMode = SSL_VERIFY_PEER
        if configuration.requireClientCertificate { verifyMode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT }
        // Names the acceptable CA to the client, so tools pick the right certificate.
        if let names = SSL_load_client_CA_file(roots) { SSL_CTX_set_client_CA_list(context, names) }
      }
    }

    try check(
      SSL_CTX_set_ex_data(context, contextCallbacksIndex, Unmanaged.passUnretained(callbacks).toOpaque()) == 1,
      "cannot attach callback data to the SSL_CTX"
    )
    SSL_CTX_set_verify(context, verifyMode) { preverified, store in
      verifyPeer(preverified: preverified, store: store)
    }

    if !configuration.applicationProtocols.isEmpty {
      switch configuration.role {
      case .client:
        let wire = callbacks.applicationProtocols.flatMap { [UInt8($0.count)] + $0 }
        // Returns 0 on success, unlike most of OpenSSL.
        try check(SSL_CTX_set_alpn_protos(context, wire, UInt32(wire.count)) == 0, "cannot set the ALPN protocols")
      case .server:
        SSL_CTX_set_alpn_select_cb(
          context,
          { _, selected, selectedLength, offered, offeredLength, argument in
            guard let argument, let selected, let selectedLength, let offered else {
              return SSL_TLSEXT_ERR_ALERT_FATAL
            }
            let callbacks = Unmanaged<ContextCallbacks>.fromOpaque(argument).takeUnretainedValue()
            let list = UnsafeBufferPointer(start: offered, count: Int(offeredLength))
            guard let (offset, length) = callbacks.selectApplicationProtocol(offered: list) else {
              // OpenSSL answers ALERT_FATAL from this callback with no_application_protocol.
              return SSL_TLSEXT_ERR_ALERT_FATAL
            }
            selected.pointee = offered + offset
            selectedLength.pointee = UInt8(length)
            return SSL_TLSEXT_ERR_OK
          },
          Unmanaged.passUnretained(callbacks).toOpaque()
        )
      }
    }
  }
}

/// Data OpenSSL's C callbacks need; immutable.
final class ContextCallbacks: Sendable {
  let applicationProtocols: [[UInt8]]
  let revocations: RevocationList?

  init(applicationProtocols: [[UInt8]], revocations: RevocationList?) {
    self.applicationProtocols = applicationProtocols
    self.revocations = revocations
  }

  /// Our first protocol (in our preference order) that the client offered, as offset and
  /// length into the client's length-prefixed list; nil when there is none or the list is malformed.
  func selectApplicationProtocol(offered: UnsafeBufferPointer<UInt8>) -> (Int, Int)? {
    var entries: [(Int, Int)] = []
    var index = 0
    while index < offered.count {
      let length = Int(offered[index])
      guard length > 0, index + 1 + length <= offered.count else { return nil }
      entries.append((index + 1, length))
      index += 1 + length
    }
    for ours in self.applicationProtocols {
      for (offset, length) in entries where length == ours.count {
        if ours.elementsEqual(offered[offset..<(offset + length)]) { return (offset, length) }
      }
    }
    return nil
  }
}

let contextCallbacksIndex: Int32 = banjie_SSL_CTX_get_ex_new_index()

/// The verify error a server sets for a client certificate whose serial is zero or negative;
/// `SSLConnection` turns it back into words. Nothing else in banjie sets it.
let nonPositiveSerialVerifyError = X509_V_ERR_APPLICATION_VERIFICATION

/// OpenSSL's verify callback: keeps OpenSSL's verdict; on a server, refuses a client leaf whose
/// serial is zero or negative (it could not be revoked on its own; the client gets a
/// handshake_failure alert); and refuses a leaf whose serial is revoked (the peer gets a
/// certificate_revoked alert during the handshake).
private func verifyPeer(preverified: Int32, store: OpaquePointer?) -> Int32 {
  guard preverified == 1, let store else { return preverified }
  guard X509_STORE_CTX_get_error_depth(store) == 0 else { return 1 }
  // Fail closed: without our callback data we cannot check revocations.
  guard let ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()),
    let context = SSL_get_SSL_CTX(OpaquePointer(ssl)),
    let argument = SSL_CTX_get_ex_data(context, contextCallbacksIndex),
    let certificate = X509_STORE_CTX_get_current_cert(store)
  else { return 0 }
  if SSL_is_server(OpaquePointer(ssl)) == 1 && !X509Certificate.hasPositiveSerial(certificate) {
    X509_STORE_CTX_set_error(store, nonPositiveSerialVerifyError)
    return 0
  }
  let callbacks = Unmanaged<ContextCallbacks>.fromOpaque(argument).takeUnretainedValue()
  guard let revocations = callbacks.revocations else { return 1 }
  guard let serial = try? X509Certificate.serialNumber(of: certificate) else { return 0 }
  if revocations.isRevoked(serial) {
    X509_STORE_CTX_set_error(store, X509_V_ERR_CERT_REVOKED)
    return 0
  }
  return 1
}
