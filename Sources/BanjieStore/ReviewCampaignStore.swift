public import BanjieCore
public import Foundation
import GRDB

/// 千企评议: the office's review campaigns and the invited enterprises' reviews.
extension BanjieStore {
  public func createReviewCampaign(_ new: NewReviewCampaign, actor: Actor, now: Date, key: IdempotencyKey?) async throws
    -> ReviewCampaignView
  {
    try await self.write(idempotency: key, method: "CreateCampaign", encode: Self.encoded, decode: Self.decoded, now: now) { db in
      for (i, code) in new.departments.enumerated() where try !DepartmentRecord.present(db, "code", code) {
        throw DomainError.invalidArgument("campaign.unknown_department", arguments: [code], field: "department_codes[\(i)]")
      }
      var record = ReviewCampaignRecord(
        id: nil, name: new.name, periodFrom: new.from.description, periodTo: new.to.description,
        departments: new.departments, dimensions: new.dimensions, state: .draft, createdAt: now, createdBy: actor.person,
        openedAt: nil, closedAt: nil, publishedAt: nil)
      try record.insert(db)
      for uscc in new.invited {
        try db.cachedStatement(sql: "INSERT INTO campaign_invitations (campaign_id, uscc) VALUES (?, ?)").execute(arguments: [
          record.id, uscc,
        ])
      }
      try AuditLog.append(
        db, at: now, actor: actor, action: "campaign.create", entity: "review_campaign", entityID: String(record.id ?? 0),
        detail: [
          "name": new.name, "departments": new.departments.joined(separator: ","), "invited": String(new.invited.count),
          "dimensions": new.dimensions.map { "\($0.name):\($0.weightPercent)" }.joined(separator: ","),
        ])
      return try Self.campaignView(db, record, caller: nil)
    }
  }

  /// DRAFT → OPEN → CLOSED → PUBLISHED, one step at a time.
  public func advanceReviewCampaign(id: Int64, to target: CampaignState, actor: Actor, now: Date, key: IdempotencyKey?) async throws
    -> ReviewCampaignView
  {
    try await self.write(idempotency: key, method: "campaign.\(target.rawValue)", encode: Self.encoded, decode: Self.decoded, now: now) {
      db in
      var record = try Self.campaign(db, id)
      let required: CampaignState
      switch target {
      case .open:
        required = .draft
        record.openedAt = now
      case .closed:
        required = .open
        record.closedAt = now
      case .published:
        required = .closed
        record.publishedAt = now
      case .draft:
        throw DomainError.failedPrecondition("campaign.illegal_transition", messageKey: "campaign.illegal_transition#draft", field: "state")
      }
      guard record.state == required else {
        throw DomainError.failedPrecondition(
          "campaign.illegal_transition", arguments: ["\(id)", record.state.rawValue, required.rawValue, target.rawValue], field: "state")
      }
      let from = record.state
      record.state = target
      try record.update(db)
      try AuditLog.append(
        db, at: now, actor: actor, action: "campaign.\(target.rawValue.lowercased())", entity: "review_campaign", entityID: String(id),
        detail: ["from": from.rawValue, "to": target.rawValue])
      return try Self.campaignView(db, record, caller: nil)
    }
  }

  /// Campaigns, newest first; an enterprise sees those it is invited to.
  public func reviewCampaigns(invitedUSCC: String?) async throws -> [ReviewCampaignView] {
    try await self.pool.read { db in
      let records: [ReviewCampaignRecord]
      if let uscc = invitedUSCC {
        records = try ReviewCampaignRecord.fetchAll(
          db.cachedStatement(
            sql: """
              SELECT c.* FROM review_campaigns c JOIN campaign_invitations i ON i.campaign_id = c.id WHERE i.uscc = ? ORDER BY c.id DESC
              """), arguments: [uscc])
      } else {
        records = try ReviewCampaignRecord.fetchAll(db.cachedStatement(sql: "SELECT * FROM review_campaigns ORDER BY id DESC"))
      }
      return try records.map { try Self.campaignView(db, $0, caller: invitedUSCC) }
    }
  }

  /// One review by an invited enterprise of one department of an OPEN campaign.
  public func submitReview(
    campaignID: Int64, uscc: String, departmentCode: String, scores: [String: Int], comment: String, actor: Actor, now: Date,
    key: IdempotencyKey?
  ) async throws -> CampaignReviewView {
    try await self.write(idempotency: key, method: "SubmitReview", encode: Self.encoded, decode: Self.decoded, now: now) { db in
      let record = try Self.campaign(db, campaignID)
      let invited =
        try Bool.fetchOne(
          db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM campaign_invitations WHERE campaign_id = ? AND uscc = ?)"),
          arguments: [campaignID, uscc]) ?? false
      guard invited else {
        throw DomainError(kind: .permissionDenied, code: "campaign.not_invited", arguments: [uscc, "\(campaignID)", record.name])
      }
      guard record.state == .open else {
        throw DomainError.failedPrecondition(
          "campaign.not_open", arguments: ["\(campaignID)", record.name, record.state.rawValue], field: "campaign_id")
      }
      guard record.departments.contains(departmentCode) else {
        throw DomainError.invalidArgument(
          "campaign.department_not_reviewed", arguments: [departmentCode, "\(campaignID)", record.departments.joined(separator: ", ")],
          field: "department_code")
      }
      let names = Set(record.dimensions.map(\.name))
      if let unknown = scores.keys.sorted().first(where: { !names.contains($0) }) {
        throw DomainError.invalidArgument(
          "campaign.unknown_dimension", arguments: ["\(campaignID)", unknown, record.dimensions.map(\.name).joined(separator: ", ")],
          field: "scores")
      }
      if let missing = record.dimensions.first(where: { scores[$0.name] == nil }) {
        throw DomainError.invalidArgument("campaign.missing_score", arguments: [missing.name], field: "scores")
      }
      let exists =
        try Bool.fetchOne(
          db.cachedStatement(
            sql: "SELECT EXISTS (SELECT 1 FROM campaign_reviews WHERE campaign_id = ? AND uscc = ? AND department_code = ?)"),
          arguments: [campaignID, uscc, departmentCode]) ?? false
      guard !exists else {
        throw DomainError(
          kind: .alreadyExists, code: "campaign.already_reviewed", arguments: [uscc, departmentCode, "\(campaignID)"],
          field: "department_code")
      }
      let weighted = CampaignDimension.weightedHundredths(record.dimensions, scores: scores)
      try db.cachedStatement(
        sql: """
          INSERT INTO campaign_reviews (campaign_id, uscc, department_code, scores, weighted_hundredths, comment, submitted_at)
          VALUES (?, ?, ?, ?, ?, ?, ?)
          """
      ).execute(arguments: [
        campaignID, uscc, departmentCode, String(decoding: try Self.encoded(scores), as: UTF8.self), weighted, comment, now,
      ])
      try AuditLog.append(
        db, at: now, actor: actor, action: "campaign.review", entity: "review_campaign", entityID: String(campaignID),
        detail: ["uscc": uscc, "department": departmentCode, "weighted_hundredths": String(weighted)])
      return CampaignReviewView(
        campaignId: campaignID, uscc: uscc, departmentCode: departmentCode, scores: scores,
        weightedHundredths: weighted, comment: comment, submittedAt: now)
    }
  }

  /// The campaign and its departments by competition rank.
  public func campaignResults(id: Int64) async throws -> (ReviewCampaignView, [DepartmentResultRow]) {
    try await self.pool.read { db in
      let record = try Self.campaign(db, id)
      let invited =
        try Int.fetchOne(db.cachedStatement(sql: "SELECT COUNT(*) FROM campaign_invitations WHERE campaign_id = ?"), arguments: [id]) ?? 0
      var rows: [DepartmentResultRow] = []
      for code in record.departments {
        let row = try Row.fetchOne(
          db.cachedStatement(
            sql: """
              SELECT COUNT(*) AS n, COALESCE(SUM(weighted_hundredths), 0) AS s FROM campaign_reviews WHERE campaign_id = ? AND department_code = ?
              """), arguments: [id, code])
        let name = try String.fetchOne(db.cachedStatement(sql: "SELECT name FROM departments WHERE code = ?"), arguments: [code]) ?? code
        rows.append(
          DepartmentResultRow(
            departmentCode: code, departmentName: name, weightedSum: row?["s"] ?? 0, reviews: row?["n"] ?? 0, invited: invited, rank: 0))
      }
      // Means compared exactly: a/n > b/m ⇔ a·m > b·n.
      let reviewed = rows.indices.filter { rows[$0].reviews > 0 }
      let ranks = CompetitionRanking.ranks(reviewed.map { rows[$0] }) { a, b in a.weightedSum * b.reviews > b.weightedSum * a.reviews }
      for (i, index) in reviewed.enumerated() { rows[index].rank = ranks[i] }
      rows.sort { a, b in
        switch (a.rank, b.rank) {
        case (0, 0): return a.departmentCode < b.departmentCode
        case (0, _): return false
        case (_, 0): return true
        default: return a.rank != b.rank ? a.rank < b.rank : a.departmentCode < b.departmentCode
        }
      }
      return (try Self.campaignView(db, record, caller: nil), rows)
    }
  }

  public func reviewCampaign(id: Int64, caller uscc: String?) async throws -> ReviewCampaignView {
    try await self.pool.read { db in try Self.campaignView(db, try Self.campaign(db, id), caller: uscc) }
  }

  static func campaign(_ db: Database, _ id: Int64) throws -> ReviewCampaignRecord {
    guard let record = try ReviewCampaignRecord.fetchOne(db, key: id) else {
      throw DomainError(kind: .notFound, code: "campaign.not_found", arguments: ["\(id)"], field: "campaign_id")
    }
    return record
  }

  static func campaignView(_ db: Database, _ record: ReviewCampaignRecord, caller uscc: String?) throws -> ReviewCampaignView {
    let invited = try String.fetchAll(
      db.cachedStatement(sql: "SELECT uscc FROM campaign_invitations WHERE campaign_id = ? ORDER BY uscc"), arguments: [record.id])
    let reviews =
      try Int.fetchOne(db.cachedStatement(sql: "SELECT COUNT(*) FROM campaign_reviews WHERE campaign_id = ?"), arguments: [record.id]) ?? 0
    let mine =
      try uscc.map {
        try String.fetchAll(
          db.cachedStatement(
            sql: "SELECT department_code FROM campaign_reviews WHERE campaign_id = ? AND uscc = ? ORDER BY department_code"),
          arguments: [record.id, $0])
      } ?? []
    return ReviewCampaignView(record: record, invited: invited, reviews: reviews, reviewedByCaller: mine)
  }
}
