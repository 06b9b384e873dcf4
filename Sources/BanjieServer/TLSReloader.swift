public import BanjieTLS
import BanjieTransport
import Dispatch
import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// What a certificate reload put in place.
public struct TLSReloadReport: Sendable, Hashable {
  /// The new server certificate (the first in `tls.certificate`).
  public var certificate: PeerCertificate
  /// Serials the revocation file lists now.
  public var listedRevocations: Int
  /// Open connections closed because the file now revokes their certificate.
  public var connectionsClosed: Int
}

/// Why a reload was refused; the server goes on with the context it had.
public struct TLSReloadError: Error, CustomStringConvertible, Sendable {
  public var description: String
}

/// Server certificate rotation without dropping clients: re-reads the certificate, key, client
/// CA bundle and revocation file from the configured paths and, only when all of them load and
/// fit together, makes new connections handshake with a new `TLSContext`. Open connections
/// keep the context they were accepted with. Anything wrong (a missing or corrupt file, a key
/// that does not match, a certificate outside its validity) is refused with one log line and
/// the old context stays: the server is never left without TLS.
///
/// Triggered by SIGHUP (`TLSReloadSignalService`) and by the office's `ReloadTLS` call.
public final class TLSReloader: Sendable {
  private let configuration: ServerConfiguration
  private let transport: BanjieServerTransport
  private let environment: ServerEnvironment
  private let metrics: ServerMetrics
  private let baseLogger: Logger
  /// File reads and `SSL_CTX` set-up block: they run here, one reload at a time.
  private static let queue = DispatchQueue(label: "banjie.tls-reload")

  init(
    configuration: ServerConfiguration, transport: BanjieServerTransport, environment: ServerEnvironment, metrics: ServerMetrics,
    logger: Logger
  ) {
    self.configuration = configuration
    self.transport = transport
    self.environment = environment
    self.metrics = metrics
    self.baseLogger = logger
  }

  /// Reloads, or throws `TLSReloadError` and changes nothing. `trigger` is for the log line.
  @discardableResult
  public func reload(trigger: String) async throws -> TLSReloadReport {
    try await runBlockingIO(on: Self.queue) { try self.reloadNow(trigger: trigger) }
  }

  private func reloadNow(trigger: String) throws -> TLSReloadReport {
    let logger = RequestInfo.current.logger ?? self.baseLogger
    let files: Logger.Metadata = [
      "trigger": "\(trigger)", "tls.certificate": "\(self.configuration.certificateFile)",
      "tls.private_key": "\(self.configuration.privateKeyFile)", "tls.client_ca": "\(self.configuration.clientCAFile)",
      "tls.revoked_serials": "\(self.configuration.revokedSerialsFile ?? "none")",
    ]
    let listed: Set<String>
    let certificate: PeerCertificate
    let context: TLSContext
    do {
      listed = try self.configuration.fileRevocations()
      certificate = try PeerCertificate(pemFile: self.configuration.certificateFile)
      let now = Date()
      guard certificate.notBefore <= now else {
        throw TLSReloadError(
          description: "the certificate \(self.configuration.certificateFile) is not valid before \(certificate.notBefore)")
      }
      guard certificate.notAfter > now else {
        throw TLSReloadError(description: "the certificate \(self.configuration.certificateFile) expired at \(certificate.notAfter)")
      }
      context = try self.configuration.makeTLSContext(revocations: self.environment.revocations)
    } catch {
      self.metrics.recordTLSReload(succeeded: false)
      let reason = (error as? TLSReloadError)?.description ?? "\(error)"
      logger.error(
        "TLS reload refused; new connections keep the current certificate", metadata: files.merging(["reason": "\(reason)"]) { $1 })
      throw TLSReloadError(description: "TLS reload refused, the current certificate stays in use: \(reason)")
    }

    // Everything loaded: switch. The revocation list is shared with every context, so the
    // file's serials apply to new handshakes at once; open connections they revoke are closed.
    let added = self.environment.revocations.replaceListed(listed)
    self.transport.replaceTLSContext(context)
    var closed = 0
    for serial in added.sorted() { closed += self.environment.closeConnections(serial: serial) }
    self.metrics.setCertificateExpiry(certificate.notAfter)
    self.metrics.recordTLSReload(succeeded: true)
    logger.notice(
      "TLS reloaded: new connections use the new certificate",
      metadata: files.merging([
        "certificate.serial": "\(certificate.serialNumber)", "certificate.not_after": "\(certificate.notAfter)",
        "revocations.listed": "\(listed.count)", "connections.closed": "\(closed)",
      ]) { $1 })
    return TLSReloadReport(certificate: certificate, listedRevocations: listed.count, connectionsClosed: closed)
  }
}

/// Reloads TLS on every SIGHUP until shutdown. The signal arrives through a dispatch source
/// (swift-service-lifecycle's `UnixSignalsSequence`); the reload runs on its own queue.
struct TLSReloadSignalService: Service {
  let reloader: TLSReloader

  func run() async throws {
    let signals = await UnixSignalsSequence(trapping: .sighup)
    for await _ in signals.cancelOnGracefulShutdown() {
      // A refused reload is logged by the reloader; the server goes on as it was.
      _ = try? await self.reloader.reload(trigger: "SIGHUP")
    }
  }
}
