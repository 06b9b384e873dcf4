import COpenSSL
import Foundation
import NIOCore

/// One `SSL*` between two memory BIOs: ciphertext from the network is written into the read
/// BIO, ciphertext for the network is drained from the write BIO. Every OpenSSL call is
/// preceded by `ERR_clear_error()`, so `SSL_get_error` sees only this call's errors.
///
/// Not thread-safe: owned by one `OpenSSLHandler` on its event loop.
final class SSLConnection {
  enum StepResult {
    /// Done.
    case complete
    /// WANT_READ / WANT_WRITE: "not yet"; retry when more bytes arrived.
    case incomplete
    case failed(TLSError)
  }

  enum ReadResult {
    /// Some plaintext was appended; there may be more.
    case readSome
    /// No more plaintext until more ciphertext arrives.
    case wantMore
    /// The peer sent close_notify.
    case closeNotify
    case failed(TLSError)
  }

  enum ShutdownResult {
    /// Our close_notify is queued; the peer's has not arrived yet.
    case sent
    /// Both close_notify alerts are done.
    case complete
    case failed(TLSError)
  }

  let tlsContext: TLSContext
  /// nil once freed.
  private var ssl: OpaquePointer?
  /// Borrowed: owned by `ssl` (SSL_set_bio / SSL_set0_*bio).
  private var readBIO: OpaquePointer?
  private var writeBIO: OpaquePointer?

  /// A memory BIO keeps the largest buffer it ever needed; above this we swap in a fresh one
  /// once it is empty, so a connection that once moved a 4 MiB message does not keep 4 MiB.
  private static let retainedBIOCapacity = 256 * 1024

  init(context: TLSContext, serverHostname: String?) throws {
    self.tlsContext = context
    ERR_clear_error()
    guard let ssl = SSL_new(context.sslContext) else {
      throw TLSError.openSSL(.invalidConfiguration, "cannot create an SSL connection")
    }
    self.ssl = ssl
    // From here on `deinit` frees `ssl` if a later step throws.
    guard let readBIO = BIO_new(BIO_s_mem()) else {
      throw TLSError.openSSL(.invalidConfiguration, "cannot allocate a memory BIO")
    }
    guard let writeBIO = BIO_new(BIO_s_mem()) else {
      BIO_free(readBIO)
      throw TLSError.openSSL(.invalidConfiguration, "cannot allocate a memory BIO")
    }
    SSL_set_bio(ssl, readBIO, writeBIO)
    self.readBIO = readBIO
    self.writeBIO = writeBIO

    switch context.configuration.role {
    case .server:
      SSL_set_accept_state(ssl)
    case .client:
      SSL_set_connect_state(ssl)
      if let serverHostname {
        try Self.setExpectedPeer(ssl, serverHostname)
      }
    }
  }

  deinit {
    self.free()
  }

  /// Chooses what the server certificate must name: an IP literal is checked against IP SANs
  /// and never sent as SNI; a DNS name is checked by OpenSSL and sent as SNI.
  private static func setExpectedPeer(_ ssl: OpaquePointer, _ hostname: String) throws {
    var host = hostname
    if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
    guard !host.isEmpty else {
      throw TLSError(code: .invalidConfiguration, message: "empty server hostname")
    }
    ERR_clear_error()
    if IPAddress.isLiteral(host) {
      guard let parameters = SSL_get0_param(ssl), X509_VERIFY_PARAM_set1_ip_asc(parameters, host) == 1 else {
        throw TLSError.openSSL(.invalidConfiguration, "cannot expect the server IP address '\(host)'")
      }
    } else {
      SSL_set_hostflags(ssl, UInt32(X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS))
      guard SSL_set1_host(ssl, host) == 1, banjie_SSL_set_tlsext_host_name(ssl, host) == 1 else {
        throw TLSError.openSSL(.invalidConfiguration, "cannot expect the server name '\(host)'")
      }
    }
  }

  /// Frees the `SSL*` and both BIOs. Idempotent; afterwards every call reports failure.
  func free() {
    if let ssl = self.ssl {
      SSL_free(ssl)
      self.ssl = nil
      self.readBIO = nil
      self.writeBIO = nil
    }
  }

  private static let freedError = TLSError(code: .connectionFailed, message: "the TLS connection is already released")

  // MARK: - Ciphertext in and out

  /// Hands ciphertext from the network to OpenSSL.
  func consume(_ buffer: ByteBuffer) {
    guard let readBIO = self.readBIO else { return }
    buffer.withUnsafeReadableBytes { bytes in
      var offset = 0
      while offset < bytes.count, let base = bytes.baseAddress {
        let chunk = Int32(clamping: bytes.count - offset)
        ERR_clear_error()
        let written = BIO_write(readBIO, base + offset, chunk)
        // A memory BIO only fails to grow when out of memory.
        guard written > 0 else { return }
        offset += Int(written)
      }
    }
  }

  /// Everything OpenSSL has queued for the network, or nil when nothing is.
  func drainOutput(allocator: ByteBufferAllocator) -> ByteBuffer? {
    guard let ssl = self.ssl, let writeBIO = self.writeBIO else { return nil }
    let pending = Int(BIO_ctrl_pending(writeBIO))
    guard pending > 0 else { return nil }
    var buffer = allocator.buffer(capacity: pending)
    buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: pending) { bytes in
      ERR_clear_error()
      return max(0, Int(BIO_read(writeBIO, bytes.baseAddress, Int32(clamping: pending))))
    }
    if self.isOversized(writeBIO), let fresh = BIO_new(BIO_s_mem()) {
      SSL_set0_wbio(ssl, fresh)  // frees the old one
      self.writeBIO = fresh
    }
    return buffer
  }

  private func isOversized(_ bio: OpaquePointer) -> Bool {
    guard BIO_ctrl_pending(bio) == 0, let memory = banjie_BIO_get_mem_ptr(bio) else { return false }
    return memory.pointee.max > Self.retainedBIOCapacity
  }

  private func trimReadBIO() {
    guard let ssl = self.ssl, let readBIO = self.readBIO, self.isOversized(readBIO),
      let fresh = BIO_new(BIO_s_mem())
    else { return }
    SSL_set0_rbio(ssl, fresh)
    self.readBIO = fresh
  }

  // MARK: - TLS operations

  func doHandshake() -> StepResult {
    guard let ssl = self.ssl else { return .failed(Self.freedError) }
    ERR_clear_error()
    let result = SSL_do_handshake(ssl)
    if result == 1 { return .complete }
    switch SSL_get_error(ssl, result) {
    case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
      return .incomplete
    case SSL_ERROR_ZERO_RETURN:
      return .failed(TLSError.openSSL(.handshakeFailed, "the peer closed the connection during the TLS handshake"))
    default:
      return .failed(self.handshakeError(ssl))
    }
  }

  private func handshakeError(_ ssl: OpaquePointer) -> TLSError {
    let verifyResult = SSL_get_verify_result(ssl)
    guard verifyResult != Int(X509_V_OK) else {
      return TLSError.openSSL(.handshakeFailed, "TLS handshake failed")
    }
    if verifyResult == Int(nonPositiveSerialVerifyError) {
      return TLSError.openSSL(
        .handshakeFailed,
        "TLS handshake failed: client certificate refused: its serial number is zero or negative"
          + " (a certificate needs a positive serial to be revocable on its own)"
      )
    }
    let reason = String(cString: X509_verify_cert_error_string(verifyResult))
    let code: TLSError.Code = verifyResult == Int(X509_V_ERR_CERT_REVOKED) ? .certificateRevoked : .handshakeFailed
    return TLSError.openSSL(code, "TLS handshake failed: peer certificate rejected: \(reason)")
  }

  /// Appends decrypted bytes to `buffer`.
  func read(into buffer: inout ByteBuffer) -> ReadResult {
    guard let ssl = self.ssl else { return .failed(Self.freedError) }
    var result: Int32 = 0
    buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 16 * 1024) { bytes in
      ERR_clear_error()
      result = SSL_read(ssl, bytes.baseAddress, Int32(clamping: bytes.count))
      return max(0, Int(result))
    }
    if result > 0 { return .readSome }
    switch SSL_get_error(ssl, result) {
    case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
      self.trimReadBIO()
      return .wantMore
    case SSL_ERROR_ZERO_RETURN:
      return .closeNotify
    default:
      return .failed(TLSError.openSSL(.connectionFailed, "TLS read failed"))
    }
  }

  /// Encrypts all of `bytes` (non-empty) into the write BIO.
  func write(_ bytes: UnsafeRawBufferPointer) -> StepResult {
    guard let ssl = self.ssl else { return .failed(Self.freedError) }
    precondition(!bytes.isEmpty && bytes.count <= Int(Int32.max), "SSL_write needs 1...Int32.max bytes")
    ERR_clear_error()
    let result = SSL_write(ssl, bytes.baseAddress, Int32(bytes.count))
    if result > 0 { return .complete }  // without SSL_MODE_ENABLE_PARTIAL_WRITE: all of it
    switch SSL_get_error(ssl, result) {
    case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
      return .incomplete
    default:
      return .failed(TLSError.openSSL(.connectionFailed, "TLS write failed"))
    }
  }

  /// Queues our close_notify; reports `.complete` once the peer's has arrived as well.
  func shutdown() -> ShutdownResult {
    guard let ssl = self.ssl else { return .failed(Self.freedError) }
    ERR_clear_error()
    let result = SSL_shutdown(ssl)
    switch result {
    case 1:
      return .complete
    case 0:
      return .sent
    default:
      switch SSL_get_error(ssl, result) {
      case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
        return .sent
      default:
        return .failed(TLSError.openSSL(.connectionFailed, "TLS shutdown failed"))
      }
    }
  }

  // MARK: - Session facts

  func sessionInfo() throws -> TLSSessionInfo {
    guard let ssl = self.ssl else { throw Self.freedError }
    var alpn: UnsafePointer<UInt8>?
    var alpnLength: UInt32 = 0
    SSL_get0_alpn_selected(ssl, &alpn, &alpnLength)
    let alpnProtocol = alpn.flatMap { bytes in
      alpnLength > 0 ? String(decoding: UnsafeBufferPointer(start: bytes, count: Int(alpnLength)), as: UTF8.self) : nil
    }
    var cipherSuite = ""
    if let cipher = SSL_get_current_cipher(ssl), let name = SSL_CIPHER_standard_name(cipher) {
      cipherSuite = String(cString: name)
    }
    var peerCertificate: PeerCertificate?
    if let certificate = SSL_get1_peer_certificate(ssl) {
      defer { X509_free(certificate) }
      peerCertificate = try X509Certificate.peerCertificate(of: certificate)
    }
    return TLSSessionInfo(
      protocolVersion: String(cString: SSL_get_version(ssl)),
      cipherSuite: cipherSuite,
      alpnProtocol: alpnProtocol,
      peerCertificate: peerCertificate
    )
  }
}

enum IPAddress {
  /// True for an IPv4 or IPv6 literal (no brackets, no zone).
  static func isLiteral(_ text: String) -> Bool {
    var storage = in6_addr()
    return inet_pton(AF_INET, text, &storage) == 1 || inet_pton(AF_INET6, text, &storage) == 1
  }
}
