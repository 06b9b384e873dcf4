public import BanjieCore
public import Foundation

/// 千企评议: the office's review campaigns and the invited enterprises' reviews.
extension BanjieStore {
  public func createReviewCampaign(_ new: NewReviewCampaign, actor: Actor, now: Date, key: IdempotencyKey?) async throws
    -> ReviewCampaignView
  {
    try await self.mutate(idempotency: key, method: "CreateCampaign", encode: Self.encoded, decode: Self.decoded, now: now) { sql in
      for (i, code) in new.departments.enumerated() where try !sql.present("departments", "code", .text(code)) {
        throw DomainError.invalidArgument("campaign.unknown_department", arguments: [code], field: "department_codes[\(i)]")
      }
      var record = ReviewCampaignRecord(
        id: nil, name: new.name, periodFrom: new.from.description, periodTo: new.to.description,
        departments: new.departments, dimensions: new.dimensions, state: .draft, createdAt: now, createdBy: actor.person,
        openedAt: nil, closedAt: nil, publishedAt: nil)
      try record.insert(sql)
      for uscc in new.invited {
        try sql.execute("INSERT INTO campaign_invitations (campaign_id, uscc) VALUES (?, ?)", [record.id.sqlValue, .text(uscc)])
      }
      try AuditLog.append(
        sql, at: now, actor: actor, action: "campaign.create", entity: "review_campaign", entityID: String(record.id ?? 0),
        detail: [
          "name": new.name, "departments": new.departments.joined(separator: ","), "invited": String(new.invited.count),
          "dimensions": new.dimensions.map { "\($0.name):\($0.weightPercent)" }.joined(separator: ","),
        ])
      return try Self.campaignView(sql, record, caller: nil)
    }
  }

  /// DRAFT → OPEN → CLOSED → PUBLISHED, one step at a time.
  public func advanceReviewCampaign(id: Int64, to target: CampaignState, actor: Actor, now: Date, key: IdempotencyKey?) async throws
    -> ReviewCampaignView
  {
    try await self.mutate(idempotency: key, method: "campaign.\(target.rawValue)", encode: Self.encoded, decode: Self.decoded, now: now) {
      sql in
      var record = try Self.campaign(sql, id)
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
      try record.updateState(sql)
      try AuditLog.append(
        sql, at: now, actor: actor, action: "campaign.\(target.rawValue.lowercased())", entity: "review_campaign", entityID: String(id),
        detail: ["from": from.rawValue, "to": target.rawValue])
      return try Self.campaignView(sql, record, caller: nil)
    }
  }

  /// Campaigns, newest first; an enterprise sees those it is invited to.
  public func reviewCampaigns(invitedUSCC: String?) async throws -> [ReviewCampaignView] {
    try await self.read { sql in
      let rows: [SQLRow]
      if let uscc = invitedUSCC {
        rows = try sql.fetchAll(
          """
          SELECT \(ReviewCampaignRecord.qualifiedColumns) FROM review_campaigns c JOIN campaign_invitations i ON i.campaign_id = c.id
          WHERE i.uscc = ? ORDER BY c.id DESC
          """, [.text(uscc)])
      } else {
        rows = try sql.fetchAll("SELECT \(ReviewCampaignRecord.columns) FROM review_campaigns ORDER BY id DESC")
      }
      return try rows.map { try Self.campaignView(sql, ReviewCampaignRecord(sqlRow: $0), caller: invitedUSCC) }
    }
  }

  /// One review by an invited enterprise of one department of an OPEN campaign.
  public func submitReview(
    campaignID: Int64, uscc: String, departmentCode: String, scores: [String: Int], comment: String, actor: Actor, now: Date,
    key: IdempotencyKey?
  ) async throws -> CampaignReviewView {
    try await self.mutate(idempotency: key, method: "SubmitReview", encode: Self.encoded, decode: Self.decoded, now: now) { sql in
      let record = try Self.campaign(sql, campaignID)
      let invited =
        try sql.fetchOne(
          Bool.self, "SELECT EXISTS (SELECT 1 FROM campaign_invitations WHERE campaign_id = ? AND uscc = ?)",
          [.integer(campaignID), .text(uscc)]) ?? false
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
        try sql.fetchOne(
          Bool.self, "SELECT EXISTS (SELECT 1 FROM campaign_reviews WHERE campaign_id = ? AND uscc = ? AND department_code = ?)",
          [.integer(campaignID), .text(uscc), .text(departmentCode)]) ?? false
      guard !exists else {
        throw DomainError(
          kind: .alreadyExists, code: "campaign.already_reviewed", arguments: [uscc, departmentCode, "\(campaignID)"],
          field: "department_code")
      }
      let weighted = CampaignDimension.weightedHundredths(record.dimensions, scores: scores)
      try sql.execute(
        """
        INSERT INTO campaign_reviews (campaign_id, uscc, department_code, scores, weighted_hundredths, comment, submitted_at)
        VALUES (?, ?, ?, ?, ?, ?, ?)
        """,
        [
          .integer(campaignID), .text(uscc), .text(departmentCode), .text(String(decoding: try Self.encoded(scores), as: UTF8.self)),
          weighted.sqlValue, .text(comment), StoredDate(now).sqlValue,
        ])
      try AuditLog.append(
        sql, at: now, actor: actor, action: "campaign.review", entity: "review_campaign", entityID: String(campaignID),
        detail: ["uscc": uscc, "department": departmentCode, "weighted_hundredths": String(weighted)])
      return CampaignReviewView(
        campaignId: campaignID, uscc: uscc, departmentCode: departmentCode, scores: scores,
        weightedHundredths: weighted, comment: comment, submittedAt: now)
    }
  }

  /// The campaign and its departments by competition rank.
  public func campaignResults(id: Int64) async throws -> (ReviewCampaignView, [DepartmentResultRow]) {
    try await self.read { sql in
      let record = try Self.campaign(sql, id)
      let invited = try sql.fetchOne(Int.self, "SELECT COUNT(*) FROM campaign_invitations WHERE campaign_id = ?", [.integer(id)]) ?? 0
      var rows: [DepartmentResultRow] = []
      for code in record.departments {
        // SUM of a BIGINT is numeric on PostgreSQL: cast back so both engines answer an integer.
        let row = try sql.fetchOne(
          """
          SELECT COUNT(*) AS n, CAST(COALESCE(SUM(weighted_hundredths), 0) AS BIGINT) AS s FROM campaign_reviews
          WHERE campaign_id = ? AND department_code = ?
          """, [.integer(id), .text(code)])
        let name = try sql.fetchOne(String.self, "SELECT name FROM departments WHERE code = ?", [.text(code)]) ?? code
        rows.append(
          DepartmentResultRow(
            departmentCode: code, departmentName: name, weightedSum: try row?.decode(Int.self, "s") ?? 0,
            reviews: try row?.decode(Int.self, "n") ?? 0, invited: invited, rank: 0))
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
      return (try Self.campaignView(sql, record, caller: nil), rows)
    }
  }

  public func reviewCampaign(id: Int64, caller uscc: String?) async throws -> ReviewCampaignView {
    try await self.read { sql in try Self.campaignView(sql, try Self.campaign(sql, id), caller: uscc) }
  }

  static func campaign(_ sql: some SQLConnection, _ id: Int64) throws -> ReviewCampaignRecord {
    guard
      let record = try sql.fetchOne("SELECT \(ReviewCampaignRecord.columns) FROM review_campaigns WHERE id = ?", [.integer(id)])
        .map(ReviewCampaignRecord.init(sqlRow:))
    else {
      throw DomainError(kind: .notFound, code: "campaign.not_found", arguments: ["\(id)"], field: "campaign_id")
    }
    return record
  }

  static func campaignView(_ sql: some SQLConnection, _ record: ReviewCampaignRecord, caller uscc: String?) throws -> ReviewCampaignView {
    let invited = try sql.fetchAll(
      String.self, "SELECT uscc FROM campaign_invitations WHERE campaign_id = ? ORDER BY uscc", [record.id.sqlValue])
    let reviews = try sql.fetchOne(Int.self, "SELECT COUNT(*) FROM campaign_reviews WHERE campaign_id = ?", [record.id.sqlValue]) ?? 0
    let mine =
      try uscc.map {
        try sql.fetchAll(
          String.self, "SELECT department_code FROM campaign_reviews WHERE campaign_id = ? AND uscc = ? ORDER BY department_code",
          [record.id.sqlValue, .text($0)])
      } ?? []
    return ReviewCampaignView(record: record, invited: invited, reviews: reviews, reviewedByCaller: mine)
  }
}

extension CampaignState: SQLValueConvertible {}

extension ReviewCampaignRecord {
  /// The columns `init(sqlRow:)` reads, named rather than `*` so that a column added later
  /// changes no result.
  static let columnList = [
    "id", "name", "period_from", "period_to", "departments", "dimensions", "state", "created_at", "created_by", "opened_at",
    "closed_at", "published_at",
  ]
  static let columns = Self.columnList.joined(separator: ", ")
  /// `columns` of the table aliased `c`.
  static let qualifiedColumns = Self.columnList.map { "c.\($0)" }.joined(separator: ", ")

  /// Inserts the campaign and takes the id the database gave it. The row is what GRDB's Codable
  /// insert stored: the departments and dimensions as GRDB's JSON (sorted keys), dates as its text.
  mutating func insert(_ sql: some SQLConnection) throws {
    self.id = try sql.fetchOne(
      Int64.self,
      """
      INSERT INTO review_campaigns (name, period_from, period_to, departments, dimensions, state, created_at, created_by, opened_at,
        closed_at, published_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id
      """,
      [
        .text(self.name), .text(self.periodFrom), .text(self.periodTo), .text(try StoredJSON.text(self.departments)),
        .text(String(decoding: try StoredJSON.encoder.encode(self.dimensions), as: UTF8.self)), self.state.sqlValue,
        StoredDate(self.createdAt).sqlValue, .text(self.createdBy), self.openedAt.stored.sqlValue, self.closedAt.stored.sqlValue,
        self.publishedAt.stored.sqlValue,
      ])
  }

  /// Writes the state and the moments of its steps: all a transition changes.
  func updateState(_ sql: some SQLConnection) throws {
    try sql.execute(
      "UPDATE review_campaigns SET state = ?, opened_at = ?, closed_at = ?, published_at = ? WHERE id = ?",
      [
        self.state.sqlValue, self.openedAt.stored.sqlValue, self.closedAt.stored.sqlValue, self.publishedAt.stored.sqlValue,
        self.id.sqlValue,
      ])
  }

  /// Reads a row of `columns` as GRDB's Codable decoding read it (JSON by GRDB's decoder
  /// settings, from text or bytes).
  init(sqlRow row: SQLRow) throws {
    self.init(
      id: try row.decode("id"), name: try row.decode("name"), periodFrom: try row.decode("period_from"),
      periodTo: try row.decode("period_to"), departments: try StoredJSON.strings(row["departments"] ?? .null),
      dimensions: try StoredJSON.decoder.decode([CampaignDimension].self, from: try row.decode(Data.self, "dimensions")),
      state: try row.decode("state"), createdAt: try row.decode(StoredDate.self, "created_at").date,
      createdBy: try row.decode("created_by"), openedAt: try row.decode(StoredDate?.self, "opened_at")?.date,
      closedAt: try row.decode(StoredDate?.self, "closed_at")?.date, publishedAt: try row.decode(StoredDate?.self, "published_at")?.date)
  }
}
