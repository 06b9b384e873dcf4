import BanjieCore
import BanjieProto
import BanjieStore
import BanjieTLS
import Foundation
import GRPCCore
import SwiftProtobuf

/// The warm-enterprise campaign (暖企行动): the office keeps the registry and policies; liaison
/// officials visit the enterprises assigned to them; departments answer demands; enterprises
/// close or reopen their own demands and acknowledge policies.
struct EnterpriseService: Banjie_V1_EnterpriseService.SimpleServiceProtocol {
  let env: ServerEnvironment

  /// Rows written per transaction by an import: few transactions keep 10,000 rows fast.
  static let importBatchSize = 2_000
  static let importMaxRows = 200_000

  // MARK: Authorization

  /// A liaison official acts only on the enterprises assigned to them, by (unit, name).
  static func assignedLiaison(_ caller: Caller) -> @Sendable (EnterpriseAccess) throws -> Void {
    { access in
      guard caller.role == .liaison, access.liaisons.contains(caller.liaisonRef) else {
        throw DomainError(
          kind: .permissionDenied, code: "enterprise.not_assigned",
          arguments: [caller.role.rawValue, caller.person, caller.organization, access.uscc])
      }
    }
  }

  /// Office, an assigned liaison, or the enterprise itself.
  static func mayRead(_ caller: Caller, _ access: EnterpriseAccess) throws {
    switch caller.role {
    case .office: return
    case .liaison where access.liaisons.contains(caller.liaisonRef): return
    case .enterprise where caller.organization.uppercased() == access.uscc: return
    default:
      throw DomainError(
        kind: .permissionDenied, code: "enterprise.not_visible",
        arguments: [caller.role.rawValue, caller.person, caller.organization, access.uscc])
    }
  }

  static func normalizedUSCC(_ text: String) -> String { text.trimmingCharacters(in: .whitespaces).uppercased() }

  func townshipNames() async throws -> Set<String> {
    Set(try await self.env.store.townships().map(\.name))
  }

  // MARK: Registry

  func registerEnterprise(request: Banjie_V1_RegisterEnterpriseRequest, context: ServerContext) async throws -> Banjie_V1_Enterprise {
    let caller = try Caller.of(context)
    try caller.require(.office, action: "register enterprises")
    let new = try NewEnterprise.parse(
      uscc: request.uscc, name: request.name, industry: request.industry, scale: request.scale, township: request.township,
      contacts: request.contacts.map(ContactRecord.init(proto:)), liaisons: request.liaisons.map(LiaisonRef.init(proto:)),
      checkOverrideReason: request.checkOverrideReason.isEmpty ? nil : request.checkOverrideReason,
      townships: try await self.townshipNames())
    let env = self.env
    let key = caller.idempotencyKey
    let view = try await env.store.registerEnterprise(new, actor: caller.actor, now: env.now.now, key: key)
    return view.proto
  }

  func getEnterprise(request: Banjie_V1_GetEnterpriseRequest, context: ServerContext) async throws -> Banjie_V1_Enterprise {
    let caller = try Caller.of(context)
    let uscc = Self.normalizedUSCC(request.uscc)
    guard let view = try await self.env.store.enterprise(uscc: uscc) else {
      throw DomainError(kind: .notFound, code: "enterprise.not_found", arguments: [String(uscc.prefix(40))], field: "uscc")
    }
    try Self.mayRead(caller, EnterpriseAccess(uscc: view.record.uscc, liaisons: view.liaisons))
    return view.proto
  }

  func listEnterprises(request: Banjie_V1_ListEnterprisesRequest, context: ServerContext) async throws -> Banjie_V1_ListEnterprisesResponse
  {
    let caller = try Caller.of(context)
    var filter = BanjieStore.EnterpriseFilter()
    filter.township = request.township.isEmpty ? nil : request.township
    filter.industry = request.industry.isEmpty ? nil : try IndustrySection.parse(request.industry)
    filter.scale = request.scale.isEmpty ? nil : try EnterpriseScale.parse(request.scale)
    filter.liaison = request.hasLiaison ? LiaisonRef(proto: request.liaison) : nil
    (filter.pageSize, filter.after) = try Self.page(request.page)
    switch caller.role {
    case .office: break
    case .liaison:
      if let asked = filter.liaison, asked != caller.liaisonRef {
        throw DomainError(kind: .permissionDenied, code: "enterprise.not_visible", messageKey: "enterprise.not_visible#liaison")
      }
      filter.liaison = caller.liaisonRef
    case .enterprise:
      filter.uscc = caller.organization.uppercased()
    case .clerk:
      throw DomainError(kind: .permissionDenied, code: "enterprise.not_visible", messageKey: "enterprise.not_visible#clerk")
    case .pad: throw Caller.padRefused("ListEnterprises")
    case .dispatcher: throw Caller.dispatcherRefused("ListEnterprises")
    case .monitor: throw Caller.monitorRefused("ListEnterprises")
    }
    let (views, total, next) = try await self.env.store.listEnterprises(filter)
    return .with {
      $0.enterprises = views.map(\.proto)
      $0.total = UInt32(total)
      $0.nextPageToken = next ?? ""
    }
  }

  func assignLiaison(request: Banjie_V1_AssignLiaisonRequest, context: ServerContext) async throws -> Banjie_V1_Enterprise {
    let caller = try Caller.of(context)
    try caller.require(.office, action: "assign liaison officials")
    let liaison = LiaisonRef(proto: request.liaison)
    try FieldRules.text(liaison.organization, field: "liaison.organization", max: 100)
    try FieldRules.text(liaison.person, field: "liaison.person", max: 50)
    let uscc = Self.normalizedUSCC(request.uscc)
    let env = self.env
    let key = caller.idempotencyKey
    let remove = request.remove
    return try await env.store.assignLiaison(uscc: uscc, liaison: liaison, remove: remove, actor: caller.actor, now: env.now.now, key: key)
      .proto
  }

  func importEnterprises(request: RPCAsyncSequence<Banjie_V1_ImportEnterpriseRow, any Error>, context: ServerContext) async throws
    -> Banjie_V1_ImportEnterprisesResponse
  {
    let caller = try Caller.of(context)
    try caller.require(.office, action: "import enterprises")
    let townships = try await self.townshipNames()
    let env = self.env
    let actor = caller.actor
    // Rejected rows are reported in the response, so their reasons speak the caller's language.
    let language = RequestInfo.current.language
    var response = Banjie_V1_ImportEnterprisesResponse()
    var firstLine: [String: UInt32] = [:]
    var batch: [NewEnterprise] = []
    func flush() async throws {
      guard !batch.isEmpty else { return }
      let rows = batch
      batch.removeAll(keepingCapacity: true)
      let outcomes = try await env.store.importEnterprises(rows, actor: actor, now: env.now.now)
      for outcome in outcomes {
        switch outcome {
        case .created: response.created += 1
        case .updated: response.updated += 1
        case .unchanged: response.unchanged += 1
        }
      }
    }
    for try await row in request {
      response.rows += 1
      guard response.rows <= Self.importMaxRows else {
        throw DomainError(kind: .resourceExhausted, code: "import.too_many_rows", arguments: ["\(Self.importMaxRows)"])
      }
      do {
        let new = try Self.parse(row, townships: townships)
        if let first = firstLine[new.uscc] {
          throw DomainError(kind: .alreadyExists, code: "import.duplicate_row", arguments: [new.uscc, "\(first)"], field: "uscc")
        }
        firstLine[new.uscc] = row.line
        batch.append(new)
      } catch let error as DomainError {
        response.rejected += 1
        response.problems.append(
          .with {
            $0.line = row.line
            $0.field = error.field ?? ""
            $0.reason = error.localizedMessage(language)
            $0.uscc = String(row.uscc.prefix(40))
          })
      }
      if batch.count >= Self.importBatchSize { try await flush() }
    }
    try await flush()
    response.problems.sort { $0.line < $1.line }
    return response
  }

  static func parse(_ row: Banjie_V1_ImportEnterpriseRow, townships: Set<String>) throws -> NewEnterprise {
    if !row.parseError.isEmpty {
      // The client's own parse error, already in its language: the template is just "{0}".
      throw DomainError(kind: .invalidArgument, code: "import.unreadable_line", arguments: [row.parseError], field: "line")
    }
    let contacts =
      row.contactName.isEmpty && row.contactPhone.isEmpty ? [] : [ContactRecord(name: row.contactName, phone: row.contactPhone)]
    var liaisons: [LiaisonRef] = []
    switch (row.liaisonOrganization.isEmpty, row.liaisonPerson.isEmpty) {
    case (true, true): break
    case (false, false): liaisons = [LiaisonRef(organization: row.liaisonOrganization, person: row.liaisonPerson)]
    case (true, false):
      throw DomainError(kind: .invalidArgument, code: "import.liaison_incomplete", field: "liaison_organization")
    case (false, true):
      throw DomainError(
        kind: .invalidArgument, code: "import.liaison_incomplete", messageKey: "import.liaison_incomplete#person", field: "liaison_person")
    }
    // An import never overrides a wrong check character: that takes the office's written reason.
    return try NewEnterprise.parse(
      uscc: row.uscc, name: row.name, industry: row.industry, scale: row.scale, township: row.township,
      contacts: contacts, liaisons: liaisons, checkOverrideReason: nil, townships: townships)
  }

  func listTownships(request: Banjie_V1_ListTownshipsRequest, context: ServerContext) async throws -> Banjie_V1_ListTownshipsResponse {
    _ = try Caller.of(context)
    let townships = try await self.env.store.townships()
    return .with {
      $0.townships = townships.map { t in
        .with {
          $0.name = t.name
          $0.code = t.code
        }
      }
    }
  }

  func addTownship(request: Banjie_V1_Township, context: ServerContext) async throws -> Banjie_V1_Township {
    let caller = try Caller.of(context)
    try caller.require(.office, action: "extend the township list")
    let township = Township(name: request.name.trimmingCharacters(in: .whitespaces), code: request.code)
    let env = self.env
    let key = caller.idempotencyKey
    let added = try await env.store.addTownship(township, actor: caller.actor, now: env.now.now, key: key)
    return .with {
      $0.name = added.name
      $0.code = added.code
    }
  }

  // MARK: Coverage

  func getCoverage(request: Banjie_V1_CoverageRequest, context: ServerContext) async throws -> Banjie_V1_CoverageResponse {
    let caller = try Caller.of(context)
    try caller.require(.office, action: "see visit coverage")
    let today = self.env.sla.calendar.localDate(of: self.env.now.now)
    let to = request.to.isEmpty ? today : try Self.date(request.to, field: "to")
    let from = request.from.isEmpty ? try LocalDate(year: to.year, month: 1, day: 1) : try Self.date(request.from, field: "from")
    guard from <= to else {
      throw DomainError(kind: .invalidArgument, code: "coverage.reversed_dates", arguments: ["\(from)", "\(to)"], field: "from")
    }
    guard to.dayNumber - from.dayNumber <= 3660 else {
      throw DomainError(kind: .invalidArgument, code: "coverage.period_too_long", field: "from")
    }
    let report = try await self.env.store.coverage(from: from, to: to)
    return .with {
      $0.from = report.from.description
      $0.to = report.to.description
      $0.assigned = UInt32(report.assigned)
      $0.visited = UInt32(report.visited)
      $0.year = UInt32(report.to.year)
      $0.liaisons = report.liaisons.map { row in
        .with {
          $0.liaison = row.liaison.proto
          $0.assigned = UInt32(row.assigned)
          $0.visited = UInt32(row.visited)
        }
      }
      $0.townships = report.townships.map { row in
        .with {
          $0.township = row.township
          $0.enterprises = UInt32(row.enterprises)
          $0.assigned = UInt32(row.assigned)
          $0.visited = UInt32(row.visited)
        }
      }
      $0.notVisitedThisYear = report.notVisitedThisYear.map(\.proto)
    }
  }

  // MARK: Shared checks

  static func date(_ text: String, field: String) throws(DomainError) -> LocalDate {
    do {
      return try LocalDate(parsing: text)
    } catch {
      throw DomainError(
        kind: .invalidArgument, code: error.code, messageKey: "field.wrapped", arguments: [field], cause: error, field: field)
    }
  }

  static func page(_ page: Banjie_V1_PageRequest) throws(DomainError) -> (Int, String?) {
    let size = page.pageSize == 0 ? 50 : Int(page.pageSize)
    guard (1...500).contains(size) else {
      throw DomainError(kind: .invalidArgument, code: "page.size", field: "page.page_size")
    }
    return (size, page.pageToken.isEmpty ? nil : page.pageToken)
  }
}

extension Caller {
  /// The liaison official this caller is, as assignments name them.
  var liaisonRef: LiaisonRef { LiaisonRef(organization: self.organization, person: self.person) }
}
