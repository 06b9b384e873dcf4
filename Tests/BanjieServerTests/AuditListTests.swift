import BanjieCore
import BanjieProto
import BanjieServer
import BanjieTLS
import BanjieTransport
import Foundation
import GRDB
import GRPCCore
import Testing

@testable import BanjieStore

extension ServerHarness {
  func admin<R: Sendable>(
    _ role: PeerIdentity.Role = .office, _ org: String = "YSB", _ person: String = "李明",
    _ body: (Banjie_V1_AdminService.Client<BanjieClientTransport>) async throws -> R
  ) async throws -> R {
    try await self.as_(role, org, person) { try await body(Banjie_V1_AdminService.Client(wrapping: $0)) }
  }

  /// Every audit row the office can list with `filter`, page by page (`size` rows a page).
  func allAuditRows(_ filter: Banjie_V1_ListAuditRowsRequest, size: UInt32 = 500) async throws -> [Banjie_V1_AuditRow] {
    var rows: [Banjie_V1_AuditRow] = []
    var request = filter
    request.page.pageSize = size
    while true {
      let current = request
      let page = try await self.admin { try await $0.listAuditRows(current) }
      #expect(page.rows.count <= Int(size))
      rows += page.rows
      if page.nextPageToken.isEmpty { return rows }
      request.page.pageToken = page.nextPageToken
    }
  }
}

extension Banjie_V1_ListAuditRowsRequest {
  static func of(
    entity: String = "", entityID: String = "", actor: String = "", action: String = "", from: String = "", to: String = ""
  ) -> Self {
    .with {
      $0.entity = entity
      $0.entityID = entityID
      $0.actor = actor
      $0.action = action
      $0.from = from
      $0.to = to
    }
  }
}

/// Accountability reads: the office lists and shows audit rows; nobody else can.
@Suite("Audit log reads (office) over real TLS", .timeLimit(.minutes(10)))
struct AuditListTests {
  static let serial = "DEADBEEF01"

  /// Three days of work, each row's time known:
  ///   Mon 11-30 09:30  catalog import (office 李明, YSB); 张伟 (SCJGJ) receives and accepts A
  ///   Tue 12-01 07:30  the office revokes certificate DEADBEEF01 — Monday 23:30 in UTC
  ///   Tue 12-01 10:00  王芳 (SCJGJ) receives and accepts B, completes A
  ///   Wed 12-02 11:00  张伟 receives C
  /// Returns the case numbers A, B, C.
  static func seed(_ h: ServerHarness) async throws -> (String, String, String) {
    let a = try await h.cases(.clerk, "SCJGJ", "张伟") { cases in
      let n = try await cases.submitCase(.sample()).number
      _ = try await cases.acceptCase(.number(n))
      return n
    }
    h.clock.set(shanghai("2026-12-01T07:30:00"))
    _ = try await h.as_(.office, "YSB", "李明") { client in
      try await Banjie_V1_CertificateAdminService.Client(wrapping: client).revokeCertificate(
        .with {
          $0.serial = Self.serial
          $0.reason = "证书遗失"
        })
    }
    h.clock.set(shanghai("2026-12-01T10:00:00"))
    let b = try await h.cases(.clerk, "SCJGJ", "王芳") { cases in
      let n = try await cases.submitCase(.sample(applicant: "李四")).number
      _ = try await cases.acceptCase(.number(n))
      _ = try await cases.completeCase(.number(a) { $0.outcome = "approved" })
      return n
    }
    h.clock.set(shanghai("2026-12-02T11:00:00"))
    let c = try await h.cases(.clerk, "SCJGJ", "张伟") { try await $0.submitCase(.sample(applicant: "赵五")).number }
    return (a, b, c)
  }

  /// What the sweeper might add (colour changes) is left out: the rows people wrote.
  static func people(_ rows: [Banjie_V1_AuditRow]) -> [Banjie_V1_AuditRow] { rows.filter { $0.actorRole != "system" } }

  @Test("the office lists rows by entity, action, actor and Asia/Shanghai days, newest first, and pages through them")
  func filtersAndPages() async throws {
    try await ServerHarness.run(start: shanghai("2026-11-30T09:30:00")) { h in
      let (a, b, c) = try await Self.seed(h)

      // One case's history, newest first, with who and what.
      let caseA = try await Self.people(h.allAuditRows(.of(entity: "case", entityID: a)))
      #expect(caseA.map(\.action) == ["case.complete", "case.accept", "case.receive"])
      #expect(caseA.map(\.actorPerson) == ["王芳", "张伟", "张伟"])
      #expect(caseA.allSatisfy { $0.entity == "case" && $0.entityID == a && $0.actorRole == "clerk" && !$0.actorSerial.isEmpty })
      #expect(caseA.map(\.id) == caseA.map(\.id).sorted(by: >))
      #expect(caseA.first?.at.date == shanghai("2026-12-01T10:00:00") && caseA.last?.at.date == shanghai("2026-11-30T09:30:00"))
      let complete = try #require(caseA.first)
      let detail = try JSONDecoder().decode([String: String].self, from: Data(complete.detail.utf8))
      #expect(detail["from"] == "ACCEPTED" && detail["to"] == "COMPLETED" && detail["version"] != nil)

      // By action: every receipt.
      let received = try await h.allAuditRows(.of(action: "case.receive"))
      #expect(received.map(\.entityID) == [c, b, a])

      // By actor: a part of the person's name, or of the organisation's (any case of ASCII letters).
      let wang = try await h.allAuditRows(.of(actor: "芳"))
      #expect(wang.map(\.action) == ["case.complete", "case.accept", "case.receive"])
      #expect(wang.map(\.entityID) == [a, b, b])
      let clerks = try await h.allAuditRows(.of(actor: "scjgj"))
      #expect(clerks.count == 6 && clerks.allSatisfy { $0.actorOrganization == "SCJGJ" })
      let office = try await h.allAuditRows(.of(actor: "ysb"))
      #expect(office.first?.action == "certificate.revoke" && office.first?.entity == "certificate")
      #expect(office.first?.entityID == Self.serial && office.first?.detail == #"{"reason":"证书遗失"}"#)
      #expect(office.allSatisfy { $0.actorPerson == "李明" && $0.actorRole == "office" })
      #expect(office.count > 1, "the catalog import is the office's too")
      // Filters combine.
      #expect(try await h.allAuditRows(.of(entity: "case", entityID: a, actor: "王芳")).map(\.action) == ["case.complete"])
      #expect(try await h.allAuditRows(.of(actor: "nobody")).isEmpty)

      // By Asia/Shanghai day: the revocation at Tue 07:30 (Mon 23:30 UTC) belongs to Tuesday.
      let tuesday = try await Self.people(h.allAuditRows(.of(from: "2026-12-01", to: "2026-12-01")))
      #expect(tuesday.map(\.action) == ["case.complete", "case.accept", "case.receive", "certificate.revoke"])
      let monday = try await Self.people(h.allAuditRows(.of(to: "2026-11-30")))
      #expect(monday.allSatisfy { $0.at.date < shanghai("2026-12-01T00:00:00") })
      #expect(!monday.contains { $0.action == "certificate.revoke" })
      #expect(monday.prefix(2).map(\.action) == ["case.accept", "case.receive"])
      let wednesday = try await h.allAuditRows(.of(from: "2026-12-02"))
      #expect(Self.people(wednesday).map(\.entityID) == [c])
      // Every row of the log falls on exactly one side of midnight (newest first: Tuesday on, then Monday).
      let all = try await h.allAuditRows(.of())
      let split = try await h.allAuditRows(.of(from: "2026-12-01")) + h.allAuditRows(.of(to: "2026-11-30"))
      #expect(split.map(\.id) == all.map(\.id))

      // The whole log, paged by 4: the same rows, newest first, as the database holds them.
      let paged = try await h.allAuditRows(.of(), size: 4)
      let stored = try h.database { try Int64.fetchAll($0, sql: "SELECT id FROM audit_log ORDER BY id DESC") }
      #expect(paged.map(\.id) == stored)
      #expect(paged.count > 8)
      // Paged by 2 through a filter: three full pages, then an empty last one.
      var request = Banjie_V1_ListAuditRowsRequest.of(actor: "SCJGJ")
      request.page.pageSize = 2
      var pages: [[Int64]] = []
      while true {
        let current = request
        let page = try await h.admin { try await $0.listAuditRows(current) }
        pages.append(page.rows.map(\.id))
        if page.nextPageToken.isEmpty { break }
        #expect(page.nextPageToken == String(page.rows.last?.id ?? 0))
        request.page.pageToken = page.nextPageToken
      }
      #expect(pages.map(\.count) == [2, 2, 2, 0])
      #expect(pages.flatMap { $0 } == clerks.map(\.id))
    }
  }

  @Test("bad filters are INVALID_ARGUMENT naming the field; a clerk, an enterprise and a liaison are PERMISSION_DENIED")
  func refusals() async throws {
    try await ServerHarness.run { h in
      let bad: [(Banjie_V1_ListAuditRowsRequest, String)] = [
        (.of(from: "2026-12-02", to: "2026-12-01"), "from"),
        (.of(from: "2026-13-01"), "from"),
        (.of(to: "yesterday"), "to"),
        (.of(actor: String(repeating: "长", count: 201)), "actor"),
      ]
      for (request, field) in bad {
        let error = await rpcError { _ = try await h.admin { try await $0.listAuditRows(request) } }
        #expect(error?.code == .invalidArgument && errorField(error) == field, "\(field)")
      }
      let badToken = Banjie_V1_ListAuditRowsRequest.with { $0.page.pageToken = "abc" }
      let token = await rpcError { _ = try await h.admin { try await $0.listAuditRows(badToken) } }
      #expect(token?.code == .invalidArgument && errorField(token) == "page.page_token")
      let badSize = Banjie_V1_ListAuditRowsRequest.with { $0.page.pageSize = 501 }
      let size = await rpcError { _ = try await h.admin { try await $0.listAuditRows(badSize) } }
      #expect(size?.code == .invalidArgument && errorField(size) == "page.page_size")
      let missing = await rpcError { _ = try await h.admin { try await $0.getAuditRow(.with { $0.id = 999_999 }) } }
      #expect(missing?.code == .notFound && missing?.message == "audit row 999999 does not exist")

      let others: [(PeerIdentity.Role, String)] = [(.clerk, "SCJGJ"), (.enterprise, testUSCC(7001)), (.liaison, "南旺镇人民政府")]
      for (role, org) in others {
        let list = await rpcError { _ = try await h.admin(role, org, "某人") { try await $0.listAuditRows(.of()) } }
        #expect(list?.code == .permissionDenied, "\(role)")
        let show = await rpcError { _ = try await h.admin(role, org, "某人") { try await $0.getAuditRow(.with { $0.id = 1 }) } }
        #expect(show?.code == .permissionDenied, "\(role)")
      }
    }
  }

  @Test("show returns the row exactly as stored: the hash the chain verification recomputes, and its predecessor's")
  func show() async throws {
    try await ServerHarness.run(start: shanghai("2026-11-30T09:30:00")) { h in
      _ = try await Self.seed(h)
      let revocation = try #require(try await h.allAuditRows(.of(action: "certificate.revoke")).first)
      let row = try await h.admin { try await $0.getAuditRow(.with { $0.id = revocation.id }) }
      #expect(row == revocation, "show and list agree")
      #expect(row.at.date == shanghai("2026-12-01T07:30:00"))
      #expect(row.actorRole == "office" && row.actorOrganization == "YSB" && row.actorPerson == "李明")
      #expect(row.entity == "certificate" && row.entityID == Self.serial && row.detail == #"{"reason":"证书遗失"}"#)

      // The stored row, straight from the database file.
      let stored = try #require(
        try h.database { try Row.fetchOne($0, sql: "SELECT * FROM audit_log WHERE id = ?", arguments: [row.id]) })
      #expect(row.hash == stored["hash"] as String && row.prevHash == stored["prev_hash"] as String)
      #expect(row.actorSerial == stored["actor_serial"] as String && !row.actorSerial.isEmpty)
      #expect(AuditLog.timestamp(row.at.date) == stored["at"] as String)

      // The hash is the one verification recomputes from the fields shown…
      let actor = Actor(
        role: try #require(Actor.Role(rawValue: row.actorRole)), organization: row.actorOrganization, person: row.actorPerson,
        certificateSerial: row.actorSerial)
      let recomputed = AuditLog.hash(
        id: row.id, at: AuditLog.timestamp(row.at.date), actor: actor, action: row.action, entity: row.entity,
        entityID: row.entityID, detail: row.detail, prev: row.prevHash)
      #expect(row.hash == recomputed && row.hash.count == 64)
      // …and the chain links through it: the previous row's hash, the next row's prev_hash.
      let previous = try await h.admin { try await $0.getAuditRow(.with { $0.id = row.id - 1 }) }
      let next = try await h.admin { try await $0.getAuditRow(.with { $0.id = row.id + 1 }) }
      #expect(row.prevHash == previous.hash && next.prevHash == row.hash)
      let first = try await h.admin { try await $0.getAuditRow(.with { $0.id = 1 }) }
      #expect(first.prevHash == String(repeating: "0", count: 64))
      let verified = try await h.admin { try await $0.verifyAudit(.init()) }
      #expect(verified.ok && verified.rows >= row.id + 1)
    }
  }
}
