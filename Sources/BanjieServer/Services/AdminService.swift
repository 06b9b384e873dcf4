import BanjieProto
import BanjieStore
import GRPCCore

/// The office's housekeeping.
struct AdminService: Banjie_V1_AdminService.SimpleServiceProtocol {
  let env: ServerEnvironment

  func verifyAudit(request: Banjie_V1_VerifyAuditRequest, context: ServerContext) async throws -> Banjie_V1_VerifyAuditResponse {
    let caller = try Caller.of(context)
    try caller.require(.office, action: "verify the audit log")
    let result = try await self.env.store.verifyAudit()
    return .with {
      $0.ok = result.ok
      $0.rows = result.rows
      $0.firstBrokenID = result.firstBrokenID ?? 0
      $0.reason = result.reason
    }
  }
}
