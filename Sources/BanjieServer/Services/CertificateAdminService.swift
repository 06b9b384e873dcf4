import BanjieCore
import BanjieCrypto
import BanjieProto
import BanjieStore
import BanjieTLS
import Foundation
import GRPCCore
import SwiftProtobuf

/// Revocation, backup and certificate reload: the office's operational controls.
struct CertificateAdminService: Banjie_V1_CertificateAdminService.SimpleServiceProtocol {
  let env: ServerEnvironment
  let tlsReloader: TLSReloader

  func reloadTLS(request: Banjie_V1_ReloadTLSRequest, context: ServerContext) async throws -> Banjie_V1_ReloadTLSResponse {
    let caller = try Caller.of(context)
    try caller.require(.office, action: "reload the server certificate")
    let report: TLSReloadReport
    do {
      report = try await self.tlsReloader.reload(trigger: "ReloadTLS by \(caller.person)")
    } catch let error as TLSReloadError {
      throw RPCError(code: .failedPrecondition, message: error.description)
    }
    return .with {
      $0.certificateSerial = report.certificate.serialNumber
      $0.certificateSubject = report.certificate.commonName ?? ""
      $0.notBefore = Google_Protobuf_Timestamp(milliseconds: report.certificate.notBefore)
      $0.notAfter = Google_Protobuf_Timestamp(milliseconds: report.certificate.notAfter)
      $0.revocationsListed = UInt32(report.listedRevocations)
      $0.connectionsClosed = UInt32(report.connectionsClosed)
    }
  }

  func revokeCertificate(request: Banjie_V1_RevokeCertificateRequest, context: ServerContext) async throws -> Banjie_V1_Revocation {
    let caller = try Caller.of(context)
    try caller.require(.office, action: "revoke certificates")
    let env = self.env
    let serial = request.serial
    let reason = request.reason
    let record = try await env.store.revoke(serial: serial, reason: reason, actor: caller.actor, now: env.now.now)
    // New handshakes are refused from now on; open connections are closed at once.
    env.revocations.revoke(record.serial)
    let closed = env.closeConnections(serial: record.serial)
    env.logger.notice("certificate revoked", metadata: ["serial": "\(record.serial)", "connections.closed": "\(closed)"])
    return Self.proto(record, closed: closed)
  }

  func listRevocations(request: Banjie_V1_ListRevocationsRequest, context: ServerContext) async throws -> Banjie_V1_ListRevocationsResponse
  {
    let caller = try Caller.of(context)
    try caller.require(.office, action: "list revocations")
    let records = try await self.env.store.revocations()
    return .with { $0.revocations = records.map { Self.proto($0, closed: 0) } }
  }

  func backup(request: Banjie_V1_BackupRequest, response: RPCWriter<Banjie_V1_BackupChunk>, context: ServerContext) async throws {
    let caller = try Caller.of(context)
    try caller.require(.office, action: "back up the database")
    let env = self.env
    // File work blocks its thread: it runs on a serial queue of its own, never on the
    // cooperative pool; only the writes to the caller are awaited here.
    let queue = DispatchQueue(label: "banjie.backup")
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("banjie-backup-\(UUID().uuidString)").path
    try await runBlockingIO(on: queue) { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
    do {
      let path = directory + "/backup.sqlite"
      try await env.store.backup(to: path, actor: caller.actor, now: env.now.now)
      guard let handle = try await runBlockingIO(on: queue, { FileHandle(forReadingAtPath: path) }) else {
        throw RPCError(code: .internalError, message: "the backup file could not be read")
      }
      var digest = SHA256.Hasher()
      var total: UInt64 = 0
      do {
        while true {
          let data = try await runBlockingIO(on: queue) { try handle.read(upToCount: 1 << 20) ?? Data() }
          if data.isEmpty { break }
          digest.update(data)
          total += UInt64(data.count)
          try await response.write(.with { $0.data = data })
        }
      } catch {
        try? handle.close()
        throw error
      }
      try? handle.close()
      let hex = SHA256.hex(&digest)
      try await response.write(
        .with {
          $0.last = true
          $0.totalBytes = total
          $0.sha256 = hex
        })
    } catch {
      _ = try? await runBlockingIO(on: queue) { try FileManager.default.removeItem(atPath: directory) }
      throw error
    }
    _ = try? await runBlockingIO(on: queue) { try FileManager.default.removeItem(atPath: directory) }
  }

  static func proto(_ record: RevocationRecord, closed: Int) -> Banjie_V1_Revocation {
    .with {
      $0.serial = record.serial
      $0.reason = record.reason
      $0.revokedAt = Google_Protobuf_Timestamp(milliseconds: record.revokedAt)
      $0.revokedBy = record.revokedBy
      $0.connectionsClosed = UInt32(closed)
    }
  }
}
