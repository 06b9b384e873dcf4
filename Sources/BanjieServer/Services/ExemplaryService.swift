import BanjieCore
import BanjieProto
import BanjieStore
import BanjieTLS
import Foundation
import GRPCCore
import SwiftProtobuf

/// 优质案例: a department's clerk nominates its own completed case or closed demand; the office
/// selects or declines. The office lists every nomination, a clerk their department's.
struct ExemplaryService: Banjie_V1_ExemplaryService.SimpleServiceProtocol {
  let env: ServerEnvironment

  func nominate(request: Banjie_V1_NominateRequest, context: ServerContext) async throws -> Banjie_V1_Nomination {
    let caller = try Caller.of(context)
    try caller.require(.clerk, action: "nominate exemplary cases")
    let subject: BanjieStore.NominationSubject
    switch (request.caseNumber.isEmpty, request.demandNumber.isEmpty) {
    case (false, true):
      try FieldRules.text(request.caseNumber, field: "case_number", max: 64)
      subject = .caseNumber(request.caseNumber)
    case (true, false):
      try FieldRules.text(request.demandNumber, field: "demand_number", max: 64)
      subject = .demandNumber(request.demandNumber)
    default:
      throw DomainError.invalidArgument("exemplary.one_subject", field: "case_number")
    }
    try FieldRules.text(request.account, field: "account", max: 1000)
    let env = self.env
    let account = request.account
    let key = caller.idempotencyKey
    return try await env.store.nominate(
      subject, account: account, actor: caller.actor,
      authorize: { department in
        guard department == caller.organization else {
          throw DomainError(
            kind: .permissionDenied, code: "exemplary.not_your_department", arguments: [department, caller.person, caller.organization])
        }
      }, calendar: env.sla.calendar, now: env.now.now, key: key
    ).proto
  }

  func reviewNomination(request: Banjie_V1_ReviewNominationRequest, context: ServerContext) async throws -> Banjie_V1_Nomination {
    let caller = try Caller.of(context)
    try caller.require(.office, action: "select exemplary cases")
    try FieldRules.text(request.note, field: "note", max: 500, required: !request.select)
    let env = self.env
    let (id, select, note) = (request.id, request.select, request.note)
    let key = caller.idempotencyKey
    return try await env.store.reviewNomination(id: id, select: select, note: note, actor: caller.actor, now: env.now.now, key: key).proto
  }

  func listNominations(request: Banjie_V1_ListNominationsRequest, context: ServerContext) async throws -> Banjie_V1_ListNominationsResponse
  {
    let caller = try Caller.of(context)
    try caller.require(.office, .clerk, action: "list exemplary cases")
    let department = caller.role == .clerk ? caller.organization : nil
    let year = request.year > 0 ? Int(request.year) : nil
    let state: NominationView.State? =
      switch request.state {
      case .nominated: .nominated
      case .selected: .selected
      case .declined: .declined
      default: nil
      }
    let views = try await self.env.store.listNominations(year: year, state: state, department: department)
    return .with { $0.nominations = views.map(\.proto) }
  }
}

extension NominationView {
  var proto: Banjie_V1_Nomination {
    .with {
      $0.id = self.id
      $0.kind = self.kind
      $0.subject = self.subject
      $0.departmentCode = self.departmentCode
      $0.year = UInt32(clamping: self.year)
      $0.account = self.account
      $0.state =
        switch self.state {
        case .nominated: .nominated
        case .selected: .selected
        case .declined: .declined
        }
      $0.nominatedBy = self.nominatedBy
      $0.nominatedAt = Google_Protobuf_Timestamp(milliseconds: self.nominatedAt)
      $0.reviewNote = self.reviewNote
      $0.reviewedBy = self.reviewedBy
      if let t = Google_Protobuf_Timestamp(self.reviewedAt) { $0.reviewedAt = t }
    }
  }
}
