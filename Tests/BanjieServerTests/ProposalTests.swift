import BanjieCore
import BanjieProto
import BanjieServer
import BanjieStore
import BanjieTLS
import BanjieTransport
import Foundation
import GRDB
import GRPCCore
import SwiftProtobuf
import Testing

extension ServerHarness {
  func proposals<R: Sendable>(
    _ role: PeerIdentity.Role = .office, _ org: String = "YSB", _ person: String = "李明",
    _ body: (Banjie_V1_ProposalService.Client<BanjieClientTransport>) async throws -> R
  ) async throws -> R {
    try await self.as_(role, org, person) { try await body(Banjie_V1_ProposalService.Client(wrapping: $0)) }
  }
}

extension Banjie_V1_RegisterProposalRequest {
  static func of(
    _ kind: Banjie_V1_ProposalKind = .deputySuggestion, lead: String = "ZJJ", co: [String] = ["ZRZYJ"],
    title: String = "关于加快老旧小区雨污分流改造的建议"
  ) -> Self {
    .with {
      $0.kind = kind
      $0.title = title
      $0.proposer = "王建国"
      $0.proposerContact = "13800000000"
      $0.session = "县十九届人大三次会议"
      $0.leadDepartment = lead
      $0.coDepartments = co
    }
  }
}

/// 人大代表建议和政协提案 (docs/DOMAIN.md §25) over real TLS, on a manual clock.
@Suite("Deputies' suggestions and CPPCC proposals (建议/提案) end to end over real TLS", .timeLimit(.minutes(10)))
struct ProposalTests {
  /// Milliseconds since 1970 of a timestamp or a date, for exact comparisons.
  static func millis(_ t: Google_Protobuf_Timestamp) -> Int64 { t.seconds * 1000 + Int64(t.nanos / 1_000_000) }
  static func millis(_ d: Date) -> Int64 { Int64((d.timeIntervalSince1970 * 1000).rounded()) }
  /// The last millisecond of a county day: its deadline "by the end of the day".
  static func endOf(_ day: String) -> Int64 { Self.millis(shanghai("\(day)T23:59:59")) + 999 }

  static func consult(
    _ n: String, _ method: Banjie_V1_ProposalContactMethod = .faceToFace, note: String = "就改造方案当面听取意见"
  ) -> Banjie_V1_RecordConsultationRequest {
    .with {
      $0.number = n
      $0.method = method
      $0.note = note
    }
  }

  static func reply(_ n: String, _ resultClass: Banjie_V1_ProposalResultClass = .a, version: Int64 = 0) -> Banjie_V1_ReplyProposalRequest {
    .with {
      $0.number = n
      $0.text = "已将该小区纳入2027年改造计划，汛期前完成雨污分流。"
      $0.resultClass = resultClass
      $0.expectedVersion = version
    }
  }

  static func assess(_ n: String, _ assessment: Banjie_V1_ProposalAssessment) -> Banjie_V1_RecordAssessmentRequest {
    .with {
      $0.number = n
      $0.assessment = assessment
    }
  }

  static func extend(_ n: String, months: UInt32, reason: String = "涉及跨年度财政资金安排") -> Banjie_V1_ExtendProposalRequest {
    .with {
      $0.number = n
      $0.months = months
      $0.reason = reason
    }
  }

  @Test("assign → 面商 → reply → 不满意 → second reply → 基本满意: authorization, deadlines, audit rows; bad input writes nothing")
  func lifecycle() async throws {
    try await ServerHarness.run { h in
      // Mon 2026-11-30 09:30: three months end on Sun 2027-02-28 at 24:00, Asia/Shanghai.
      let p = try await h.proposals { try await $0.registerProposal(.of(), metadata: ["idempotency-key": "jy-1"]) }
      let n = p.number
      #expect(n == "JY-370830-20261130-0001")
      #expect(p.state == "ASSIGNED" && p.round == 1 && p.kind == .deputySuggestion)
      #expect(p.replyMonths == 3 && p.maxMonths == 6 && p.months == 3)
      #expect(Self.millis(p.dueAt) == Self.endOf("2027-02-28"))
      #expect(p.colour == .green && !p.overdue && p.fractionUsed == 0)
      #expect(p.leadDepartment == "ZJJ" && p.leadDepartmentName == "县住房和城乡建设局")
      #expect(p.coDepartments.map(\.department) == ["ZRZYJ"] && p.coDepartments.first?.opinions.isEmpty == true)
      // A retry with the same key is the same proposal.
      let again = try await h.proposals { try await $0.registerProposal(.of(), metadata: ["idempotency-key": "jy-1"]) }
      #expect(again.number == n)
      #expect(try h.rows("proposals") == 1)
      // A CPPCC proposal is numbered TA-.
      let ta = try await h.proposals { try await $0.registerProposal(.of(.cppccProposal, lead: "GAJ", co: [])) }
      #expect(ta.number == "TA-370830-20261130-0001" && ta.coDepartments.isEmpty)

      // Bad assignments: each names its field, and nothing is written.
      let before = try h.rows("proposals")
      let audit = try h.auditCount()
      let bad: [(Banjie_V1_RegisterProposalRequest, String, String)] = [
        (.of(co: ["ZJJ"]), "co_departments", "proposal.lead_listed_as_co"),
        (.of(co: ["ZRZYJ", "XYZ"]), "co_departments", "proposal.unknown_department"),
        (.of(co: ["ZRZYJ", "ZRZYJ"]), "co_departments", "proposal.repeated_co_department"),
        (.of(lead: "XYZ"), "lead_department", "proposal.unknown_department"),
        (.of(.unspecified), "kind", "proposal.kind_required"),
        (.of(title: " "), "title", "field.empty"),
      ]
      for (request, field, code) in bad {
        let refused = await rpcError { _ = try await h.proposals { try await $0.registerProposal(request) } }
        #expect(refused?.code == .invalidArgument && errorField(refused) == field, "\(code)")
        #expect(RatingPadTests.code(refused) == code)
      }
      var nameless = Banjie_V1_RegisterProposalRequest.of()
      nameless.proposer = ""
      let noProposer = await rpcError { _ = try await h.proposals { try await $0.registerProposal(nameless) } }
      #expect(errorField(noProposer) == "proposer")
      // Only the office assigns.
      for (role, org) in [(PeerIdentity.Role.clerk, "ZJJ"), (.enterprise, testUSCC(1)), (.liaison, "南旺镇人民政府"), (.dispatcher, "12345")] {
        let denied = await rpcError { _ = try await h.proposals(role, org, "某人") { try await $0.registerProposal(.of()) } }
        #expect(denied?.code == .permissionDenied, "\(role)")
      }
      #expect(try h.rows("proposals") == before)
      #expect(try h.auditCount() == audit)

      // A reply without 面商: refused naming `consultation`, nothing written.
      let unconsulted = await rpcError { _ = try await h.proposals(.clerk, "ZJJ", "赵建") { try await $0.replyProposal(Self.reply(n)) } }
      #expect(unconsulted?.code == .failedPrecondition && errorField(unconsulted) == "consultation")
      #expect(RatingPadTests.code(unconsulted) == "proposal.consultation_required")
      #expect(unconsulted?.message.contains("面商") == true)
      #expect(try h.rows("proposal_replies") == 0)
      #expect(try h.auditCount() == audit)
      #expect(try await h.proposals { try await $0.getProposal(.with { $0.number = n }) }.version == 1)

      // Who may record a contact: the lead department's clerk only; a stranger is refused before its version is looked at.
      for (role, org) in [(PeerIdentity.Role.clerk, "GAJ"), (.clerk, "ZRZYJ"), (.office, "YSB"), (.enterprise, testUSCC(1))] {
        let denied = await rpcError {
          _ = try await h.proposals(role, org, "某人") { client in
            var request = Self.consult(n)
            request.expectedVersion = 99
            return try await client.recordConsultation(request)
          }
        }
        #expect(denied?.code == .permissionDenied, "\(role) \(org)")
      }
      let noNote = await rpcError {
        _ = try await h.proposals(.clerk, "ZJJ", "赵建") { try await $0.recordConsultation(Self.consult(n, .other, note: "")) }
      }
      #expect(noNote?.code == .invalidArgument && errorField(noNote) == "note")
      let noMethod = await rpcError {
        _ = try await h.proposals(.clerk, "ZJJ", "赵建") { try await $0.recordConsultation(Self.consult(n, .unspecified)) }
      }
      #expect(noMethod?.code == .invalidArgument && errorField(noMethod) == "method")
      let future = await rpcError {
        _ = try await h.proposals(.clerk, "ZJJ", "赵建") { client in
          var request = Self.consult(n)
          request.contactedAt = Google_Protobuf_Timestamp(date: shanghai("2026-12-30T10:00:00"))
          return try await client.recordConsultation(request)
        }
      }
      #expect(future?.code == .invalidArgument && errorField(future) == "contacted_at")
      #expect(try h.rows("proposal_contacts") == 0)

      // Reading: the office, the lead and the co-handling department; another department learns nothing.
      let unseen = await rpcError { _ = try await h.proposals(.clerk, "GAJ", "路人") { try await $0.getProposal(.with { $0.number = n }) } }
      #expect(unseen?.code == .permissionDenied && unseen?.message.contains("雨污") == false)
      #expect(try await h.proposals(.clerk, "ZRZYJ", "孙丽") { try await $0.getProposal(.with { $0.number = n }) }.title == p.title)
      #expect(try await h.proposals(.clerk, "ZRZYJ", "孙丽") { try await $0.listProposals(.with { _ in }) }.total == 1)
      let gaj = try await h.proposals(.clerk, "GAJ", "路人") { try await $0.listProposals(.with { _ in }) }
      #expect(gaj.proposals.map(\.number) == [ta.number])
      #expect(try await h.proposals(.clerk, "SCJGJ", "张伟") { try await $0.listProposals(.with { _ in }) }.total == 0)
      let enterprise = await rpcError {
        _ = try await h.proposals(.enterprise, testUSCC(1), "张总") { try await $0.listProposals(.with { _ in }) }
      }
      #expect(enterprise?.code == .permissionDenied)

      // 协办意见: the co-handling department, once a round; the lead is no co-handling department.
      h.clock.set(shanghai("2026-12-02T10:00:00"))
      let opinion = try await h.proposals(.clerk, "ZRZYJ", "孙丽") { client in
        try await client.recordCoOpinion(
          .with {
            $0.number = n
            $0.opinion = "涉及地下管线的，由我局提供规划资料"
          })
      }
      let firstOpinions = try #require(opinion.coDepartments.first).opinions
      #expect(firstOpinions.map(\.round) == [1] && firstOpinions.first?.text.contains("规划") == true)
      #expect(firstOpinions.first?.givenBy.contains("孙丽") == true)
      #expect(firstOpinions.first.map { Self.millis($0.givenAt) } == Self.millis(shanghai("2026-12-02T10:00:00")))
      for org in ["ZRZYJ", "ZJJ"] {
        let refused = await rpcError {
          _ = try await h.proposals(.clerk, org, "经办人") { client in
            try await client.recordCoOpinion(
              .with {
                $0.number = n
                $0.opinion = "再次意见"
              })
          }
        }
        let expected: RPCError.Code = org == "ZJJ" ? .permissionDenied : .failedPrecondition
        #expect(refused?.code == expected, "\(org)")
      }

      // 面商, then a stale version is ABORTED, then the reply.
      h.clock.set(shanghai("2026-12-05T15:00:00"))
      let consulted = try await h.proposals(.clerk, "ZJJ", "赵建") { client in
        var request = Self.consult(n)
        request.contactedAt = Google_Protobuf_Timestamp(date: shanghai("2026-12-04T10:00:00"))
        return try await client.recordConsultation(request)
      }
      #expect(consulted.contacts.map(\.round) == [1] && consulted.contacts.first?.method == .faceToFace)
      #expect(Self.millis(consulted.contacts[0].contactedAt) == Self.millis(shanghai("2026-12-04T10:00:00")))
      let stale = await rpcError {
        _ = try await h.proposals(.clerk, "ZJJ", "赵建") { try await $0.replyProposal(Self.reply(n, version: consulted.version - 1)) }
      }
      #expect(stale?.code == .aborted)
      let notLead = await rpcError { _ = try await h.proposals(.clerk, "ZRZYJ", "孙丽") { try await $0.replyProposal(Self.reply(n)) } }
      #expect(notLead?.code == .permissionDenied)
      let noClass = await rpcError {
        _ = try await h.proposals(.clerk, "ZJJ", "赵建") { try await $0.replyProposal(Self.reply(n, .unspecified)) }
      }
      #expect(errorField(noClass) == "result_class")
      h.clock.set(shanghai("2026-12-10T09:30:00"))
      let replied = try await h.proposals(.clerk, "ZJJ", "赵建") { try await $0.replyProposal(Self.reply(n, version: consulted.version)) }
      #expect(replied.state == "REPLIED" && replied.replies.count == 1 && replied.colour == .green)
      #expect(replied.replies[0].onTime && replied.replies[0].resultClass == .a && replied.replies[0].round == 1)
      #expect(Self.millis(replied.replies[0].dueAt) == Self.endOf("2027-02-28"))
      let twice = await rpcError { _ = try await h.proposals(.clerk, "ZJJ", "赵建") { try await $0.replyProposal(Self.reply(n)) } }
      #expect(twice?.code == .failedPrecondition && errorField(twice) == "number")

      // The assessment: the office only. The first 不满意 reopens it, due one month after the reopening.
      let clerkAssess = await rpcError {
        _ = try await h.proposals(.clerk, "ZJJ", "赵建") { try await $0.recordAssessment(Self.assess(n, .satisfied)) }
      }
      #expect(clerkAssess?.code == .permissionDenied)
      let noAssessment = await rpcError { _ = try await h.proposals { try await $0.recordAssessment(Self.assess(n, .unspecified)) } }
      #expect(errorField(noAssessment) == "assessment")
      let reopened = try await h.proposals { try await $0.recordAssessment(Self.assess(n, .dissatisfied)) }
      #expect(reopened.state == "REOPENED" && reopened.round == 2 && reopened.replies[0].assessment == .dissatisfied)
      #expect(Self.millis(reopened.roundStartedAt) == Self.millis(shanghai("2026-12-10T09:30:00")))
      #expect(Self.millis(reopened.dueAt) == Self.endOf("2027-01-10"))
      // The first round's 面商 does not count for the second reply; no extension of the second reply.
      let again2 = await rpcError { _ = try await h.proposals(.clerk, "ZJJ", "赵建") { try await $0.replyProposal(Self.reply(n)) } }
      #expect(errorField(again2) == "consultation")
      let extendSecond = await rpcError { _ = try await h.proposals { try await $0.extendProposal(Self.extend(n, months: 6)) } }
      #expect(extendSecond?.code == .failedPrecondition)
      // Round 2 takes a new 协办意见, once; the first round's is kept next to it, in the answer and in the table.
      h.clock.set(shanghai("2026-12-15T10:00:00"))
      func coOpinion(_ text: String) async throws -> Banjie_V1_Proposal {
        try await h.proposals(.clerk, "ZRZYJ", "孙丽") { client in
          try await client.recordCoOpinion(
            .with {
              $0.number = n
              $0.opinion = text
            })
        }
      }
      let secondOpinion = try await coOpinion("管线资料已更新，请按新图纸施工")
      let bothOpinions = try #require(secondOpinion.coDepartments.first).opinions
      #expect(bothOpinions.map(\.round) == [1, 2])
      #expect(bothOpinions.first?.text.contains("规划") == true && bothOpinions.last?.text == "管线资料已更新，请按新图纸施工")
      let givenTimes = [shanghai("2026-12-02T10:00:00"), shanghai("2026-12-15T10:00:00")].map { Self.millis($0) }
      #expect(bothOpinions.map { Self.millis($0.givenAt) } == givenTimes)
      let secondTwice = await rpcError { _ = try await coOpinion("再次意见") }
      #expect(secondTwice?.code == .failedPrecondition && RatingPadTests.code(secondTwice) == "proposal.co_opinion_given")
      let storedOpinions = try h.database { db in
        try Row.fetchAll(
          db,
          sql: """
            SELECT o.department, o.round, o.opinion, o.given_at FROM proposal_co_opinions o JOIN proposals p ON p.id = o.proposal_id
            WHERE p.number = ? ORDER BY o.round
            """, arguments: [n])
      }
      #expect(storedOpinions.map { $0["department"] as String } == ["ZRZYJ", "ZRZYJ"])
      #expect(storedOpinions.map { $0["round"] as Int } == [1, 2])
      #expect(storedOpinions.map { $0["opinion"] as String } == ["涉及地下管线的，由我局提供规划资料", "管线资料已更新，请按新图纸施工"])
      #expect(storedOpinions.map { Self.millis($0["given_at"] as Date) } == bothOpinions.map { Self.millis($0.givenAt) })
      h.clock.set(shanghai("2026-12-20T10:00:00"))
      _ = try await h.proposals(.clerk, "ZJJ", "赵建") { try await $0.recordConsultation(Self.consult(n, .phone, note: "电话沟通整改进度")) }
      let second = try await h.proposals(.clerk, "ZJJ", "赵建") { try await $0.replyProposal(Self.reply(n, .b)) }
      #expect(second.state == "REPLIED" && second.round == 2 && second.replies.map(\.round) == [1, 2] && second.replies[1].onTime)
      let closed = try await h.proposals { try await $0.recordAssessment(Self.assess(n, .basicallySatisfied)) }
      #expect(closed.state == "CLOSED" && closed.assessment == .basicallySatisfied && closed.hasClosedAt)
      #expect(closed.coDepartments.first?.opinions.map(\.round) == [1, 2])
      let after = await rpcError { _ = try await h.proposals(.clerk, "ZJJ", "赵建") { try await $0.recordConsultation(Self.consult(n)) } }
      #expect(after?.code == .failedPrecondition)

      // Filters and pages.
      let closedOnes = try await h.proposals { try await $0.listProposals(.with { $0.states = ["closed"] }) }
      #expect(closedOnes.proposals.map(\.number) == [n])
      let cppcc = try await h.proposals { try await $0.listProposals(.with { $0.kind = .cppccProposal }) }
      #expect(cppcc.proposals.map(\.number) == [ta.number])
      let first = try await h.proposals { client in try await client.listProposals(.with { $0.page = .with { $0.pageSize = 1 } }) }
      #expect(first.proposals.map(\.number) == [ta.number] && first.total == 2 && !first.nextPageToken.isEmpty)
      let next = try await h.proposals { client in
        try await client.listProposals(
          .with {
            $0.page = .with {
              $0.pageSize = 1
              $0.pageToken = first.nextPageToken
            }
          })
      }
      #expect(next.proposals.map(\.number) == [n])

      // Every step has its audit row, in order, in the same transaction as the change.
      let actions = try h.database {
        try String.fetchAll($0, sql: "SELECT action FROM audit_log WHERE entity = 'proposal' AND entity_id = ? ORDER BY id", arguments: [n])
      }
      #expect(
        actions == [
          "proposal.register", "proposal.co_opinion", "proposal.consult", "proposal.reply", "proposal.assess", "proposal.co_opinion",
          "proposal.consult", "proposal.reply", "proposal.assess",
        ])
      let versions = try h.database { try Int64.fetchOne($0, sql: "SELECT version FROM proposals WHERE number = ?", arguments: [n]) }
      #expect(versions == Int64(actions.count))
      #expect(try await h.environment.store.verifyAudit().ok)
    }
  }

  @Test("the 3-month limit, extended with a reason up to 6 months and no further; the settings apply to later assignments")
  func limits() async throws {
    try await ServerHarness.run { h in
      let n = try await h.proposals { try await $0.registerProposal(.of()) }.number
      func extend(_ role: PeerIdentity.Role, _ org: String, months: UInt32, reason: String = "涉及跨年度财政资金安排") async -> RPCError? {
        await rpcError {
          _ = try await h.proposals(role, org, "经办人") { try await $0.extendProposal(Self.extend(n, months: months, reason: reason)) }
        }
      }
      let audit = try h.auditCount()
      for org in ["GAJ", "ZRZYJ"] { #expect(await extend(.clerk, org, months: 4)?.code == .permissionDenied, "\(org)") }
      #expect(await extend(.enterprise, testUSCC(1), months: 4)?.code == .permissionDenied)
      let beyond = await extend(.clerk, "ZJJ", months: 7)
      #expect(beyond?.code == .invalidArgument && errorField(beyond) == "months")
      #expect(RatingPadTests.code(beyond) == "proposal.extension_beyond_max")
      let notLonger = await extend(.office, "YSB", months: 3)
      #expect(notLonger?.code == .invalidArgument && errorField(notLonger) == "months")
      let noReason = await extend(.clerk, "ZJJ", months: 5, reason: " ")
      #expect(noReason?.code == .invalidArgument && errorField(noReason) == "reason")
      #expect(try h.auditCount() == audit)

      // The lead extends to 5 months, the office to 6: each from the day of assignment.
      let five = try await h.proposals(.clerk, "ZJJ", "赵建") { try await $0.extendProposal(Self.extend(n, months: 5)) }
      #expect(five.months == 5 && five.extensionReason == "涉及跨年度财政资金安排")
      #expect(Self.millis(five.dueAt) == Self.endOf("2027-04-30"))
      let six = try await h.proposals { try await $0.extendProposal(Self.extend(n, months: 6, reason: "需统筹两个年度的改造资金")) }
      #expect(six.months == 6 && Self.millis(six.dueAt) == Self.endOf("2027-05-30") && six.replyMonths == 3)
      #expect(errorField(await extend(.office, "YSB", months: 7)) == "months")
      let details = try h.database {
        try String.fetchAll(
          $0, sql: "SELECT detail FROM audit_log WHERE action = 'proposal.extend' AND entity_id = ? ORDER BY id", arguments: [n])
      }
      #expect(details.count == 2 && details[0].contains("跨年度") && details[1].contains(#""months":"6""#))

      // The settings: the longest limit never below the reply limit; each refusal names the key.
      func set(_ key: String, _ value: String) async -> RPCError? {
        await rpcError { _ = try await h.settings { try await $0.setSetting(.of(key, value)) } }
      }
      #expect(errorField(await set("proposal_max_months", "2")) == "proposal_max_months")
      #expect(errorField(await set("proposal_reply_months", "7")) == "proposal_reply_months")
      #expect(errorField(await set("proposal_reply_months", "13")) == "proposal_reply_months")
      #expect(await set("proposal_max_months", "12") == nil)
      #expect(await set("proposal_reply_months", "4") == nil)
      let settings = try await h.settings(.clerk, "ZJJ", "赵建") { try await $0.getSettings(.init()) }
      #expect(settings.proposalReplyMonths == 4 && settings.proposalMaxMonths == 12)
      #expect(Set(settings.changes.keys) == ["proposal_max_months", "proposal_reply_months"])
      let later = try await h.proposals { try await $0.registerProposal(.of(.cppccProposal)) }
      #expect(later.replyMonths == 4 && later.maxMonths == 12 && Self.millis(later.dueAt) == Self.endOf("2027-03-30"))
      // The one assigned before keeps its limits.
      let kept = try await h.proposals { try await $0.getProposal(.with { $0.number = n }) }
      #expect(kept.months == 6 && kept.maxMonths == 6)

      // An extension is asked for before the deadline.
      h.clock.set(shanghai("2027-03-31T00:00:00"))
      let late = await rpcError {
        _ = try await h.proposals(.clerk, "ZJJ", "赵建") { try await $0.extendProposal(Self.extend(later.number, months: 6)) }
      }
      #expect(late?.code == .failedPrecondition && errorField(late) == "months")
    }
  }

  @Test("a reply awaited turns yellow and red with alerts to the lead; the dashboard's figures equal the rows'")
  func clockAlertsAndDashboard() async throws {
    try await ServerHarness.run { h in
      let a = try await h.proposals { try await $0.registerProposal(.of()) }
      func alerts() async throws -> [AlertRecord] { try await h.environment.sweep().filter { $0.kind.hasPrefix("proposal.") } }
      #expect(try await alerts().isEmpty)
      // B, led by ZRZYJ, is replied to on time and found satisfying.
      h.clock.set(shanghai("2026-12-10T09:30:00"))
      let b = try await h.proposals { try await $0.registerProposal(.of(.cppccProposal, lead: "ZRZYJ", co: [])) }.number
      h.clock.set(shanghai("2026-12-11T10:00:00"))
      _ = try await h.proposals(.clerk, "ZRZYJ", "孙丽") { try await $0.recordConsultation(Self.consult(b)) }
      _ = try await h.proposals(.clerk, "ZRZYJ", "孙丽") { try await $0.replyProposal(Self.reply(b)) }
      h.clock.set(shanghai("2026-12-12T10:00:00"))
      _ = try await h.proposals { try await $0.recordAssessment(Self.assess(b, .satisfied)) }
      #expect(try await alerts().isEmpty)

      // A turns yellow when 80 % of its calendar time is used (the evening of 10 February 2027), red after 28 February.
      let start = shanghai("2026-11-30T09:30:00")
      let due = a.dueAt.date
      h.clock.set(start.addingTimeInterval(0.8 * due.timeIntervalSince(start) - 60))
      #expect(try await alerts().isEmpty)
      h.clock.set(start.addingTimeInterval(0.8 * due.timeIntervalSince(start) + 60))
      let yellow = try await alerts()
      #expect(yellow.map(\.kind) == ["proposal.yellow"] && yellow.first?.departmentCode == "ZJJ")
      #expect(yellow.first?.subject == "proposal \(a.number)" && yellow.first?.message.contains("awaits the reply of ZJJ, 80 %") == true)
      #expect(try await alerts().isEmpty)
      h.clock.set(shanghai("2027-02-28T23:59:59"))
      #expect(try await alerts().isEmpty, "not yet overdue on its last day")
      h.clock.set(shanghai("2027-03-01T00:00:00"))
      let red = try await alerts()
      #expect(red.map(\.kind) == ["proposal.red"] && red.first?.departmentCode == "ZJJ" && red.first?.colour == .red)
      #expect(try await h.environment.store.alerts(afterID: 0, department: "ZJJ").map(\.kind) == ["proposal.yellow", "proposal.red"])
      #expect(try await h.environment.store.alerts(afterID: 0, department: "ZRZYJ").filter { $0.kind.hasPrefix("proposal.") }.isEmpty)
      let colours = try h.database {
        try Row.fetchAll(
          $0, sql: "SELECT actor_role, detail FROM audit_log WHERE action = 'proposal.colour' AND entity_id = ? ORDER BY id",
          arguments: [a.number]
        ).map { ($0["actor_role"] as String, $0["detail"] as String) }
      }
      #expect(colours.map(\.0) == ["system", "system"] && colours.last?.1.contains(#""to":"red""#) == true)
      let shown = try await h.proposals(.clerk, "ZJJ", "赵建") { try await $0.getProposal(.with { $0.number = a.number }) }
      #expect(shown.colour == .red && shown.overdue && shown.fractionUsed > 1)
      let tooLate = await rpcError {
        _ = try await h.proposals(.clerk, "ZJJ", "赵建") { try await $0.extendProposal(Self.extend(a.number, months: 6)) }
      }
      #expect(tooLate?.code == .failedPrecondition)

      // The dashboard against the rows, computed here from the raw tables.
      func check(_ from: String, _ to: String) async throws {
        let board = try await h.dashboard { try await $0.getDashboard(DashboardTests.request(from, to)) }
        let figures = Dictionary(uniqueKeysWithValues: board.proposals.map { ($0.department, $0) })
        let lo = shanghai("\(from)T00:00:00")
        let hi = shanghai("\(to)T00:00:00").addingTimeInterval(86_400)
        func inPeriod(_ date: Date?) -> Bool { date.map { $0 >= lo && $0 < hi } ?? false }
        let now = h.clock.now
        let (proposals, replies) = try h.database { db in
          (
            try Row.fetchAll(db, sql: "SELECT id, lead_department, assigned_at, state, due_at FROM proposals"),
            try Row.fetchAll(
              db,
              sql: """
                SELECT p.lead_department, r.replied_at, r.on_time, r.assessment, r.assessed_at FROM proposal_replies r
                JOIN proposals p ON p.id = r.proposal_id
                """)
          )
        }
        let departments = Set(proposals.map { $0["lead_department"] as String })
        #expect(Set(figures.keys) == departments)
        for department in departments {
          let mine = proposals.filter { ($0["lead_department"] as String) == department }
          let answers = replies.filter { ($0["lead_department"] as String) == department }
          let f = try #require(figures[department])
          #expect(f.assigned == UInt32(mine.filter { inPeriod($0["assigned_at"] as Date?) }.count), "\(department)")
          let replied = answers.filter { inPeriod($0["replied_at"] as Date?) }
          #expect(f.replied == UInt32(replied.count), "\(department)")
          #expect(f.repliedOnTime == UInt32(replied.filter { $0["on_time"] as Bool }.count), "\(department)")
          let waiting = mine.filter { ["ASSIGNED", "REOPENED"].contains($0["state"] as String) }
          #expect(f.waiting == UInt32(waiting.count), "\(department)")
          #expect(f.overdue == UInt32(waiting.filter { ($0["due_at"] as Date) < now }.count), "\(department)")
          let assessed = answers.filter { inPeriod($0["assessed_at"] as Date?) }
          func count(_ a: String) -> UInt32 { UInt32(assessed.filter { ($0["assessment"] as String?) == a }.count) }
          #expect(f.satisfied == count("SATISFIED") && f.basicallySatisfied == count("BASICALLY_SATISFIED"), "\(department)")
          #expect(f.dissatisfied == count("DISSATISFIED"), "\(department)")
        }
      }
      try await check("2026-11-30", "2027-03-01")
      try await check("2026-12-11", "2026-12-11")
      let board = try await h.dashboard { try await $0.getDashboard(DashboardTests.request("2026-11-30", "2027-03-01")) }
      let zjj = try #require(board.proposals.first { $0.department == "ZJJ" })
      #expect(zjj.assigned == 1 && zjj.replied == 0 && zjj.waiting == 1 && zjj.overdue == 1 && zjj.name == "县住房和城乡建设局")
      let zrzyj = try #require(board.proposals.first { $0.department == "ZRZYJ" })
      #expect(zrzyj.replied == 1 && zrzyj.repliedOnTime == 1 && zrzyj.onTimeRate == 1 && zrzyj.satisfied == 1)
      #expect(zrzyj.satisfactionRate == 1 && zrzyj.waiting == 0)
      // A clerk sees its own department's row only.
      let scoped = try await h.dashboard(.clerk, "ZJJ", "赵建") {
        try await $0.getDashboard(DashboardTests.request("2026-11-30", "2027-03-01"))
      }
      #expect(scoped.proposals.map(\.department) == ["ZJJ"])

      // A late reply counts as replied, not on time, and no longer waits.
      h.clock.set(shanghai("2027-03-01T10:00:00"))
      _ = try await h.proposals(.clerk, "ZJJ", "赵建") { try await $0.recordConsultation(Self.consult(a.number)) }
      let late = try await h.proposals(.clerk, "ZJJ", "赵建") { try await $0.replyProposal(Self.reply(a.number, .c)) }
      #expect(late.replies.first?.onTime == false && late.colour == .green)
      try await check("2026-11-30", "2027-03-01")
      let afterLate = try await h.dashboard { try await $0.getDashboard(DashboardTests.request("2027-03-01", "2027-03-01")) }
      let zjjLate = try #require(afterLate.proposals.first { $0.department == "ZJJ" })
      #expect(zjjLate.replied == 1 && zjjLate.repliedOnTime == 0 && zjjLate.onTimeRate == 0 && zjjLate.waiting == 0)
      #expect(try await alerts().isEmpty)
      #expect(try await h.environment.store.verifyAudit().ok)
    }
  }
}
