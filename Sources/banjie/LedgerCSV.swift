import BanjieProto
import Foundation
import SwiftProtobuf

/// The ledgers (台账) the list commands print with `--csv`: one row per item the same call's
/// JSON lists, stable lower_snake English column keys whatever the language, times in
/// Asia/Shanghai with their offset (`isoShanghai`), enums by their English machine names,
/// booleans as 1/0, an absent value as an empty cell. Lists inside one item (liaisons,
/// materials, …) are joined with "; ", parallel columns in the same order.
enum LedgerCSV {
  static let listSeparator = "; "

  /// A timestamp, or "" when the field is absent.
  static func time(_ present: Bool, _ timestamp: Google_Protobuf_Timestamp) -> String {
    present ? isoShanghai(timestamp.date) : ""
  }

  static func flag(_ value: Bool) -> String { value ? "1" : "0" }

  /// A share 0–1 with four decimals (as the dashboard's), or "" when there is nothing to share.
  static func share(_ value: Double, of whole: UInt32) -> String { whole == 0 ? "" : String(format: "%.4f", value) }

  /// A machine name, "" for the unset value ("-" or "?" from the name helpers).
  static func machine(_ name: String) -> String { name == "-" || name == "?" ? "" : name }

  /// A number that is 0 only when absent (an id, a satisfaction score, a rank).
  static func nonZero<N: BinaryInteger>(_ n: N) -> String { n == 0 ? "" : String(n) }

  static func joined(_ values: [String]) -> String { values.joined(separator: Self.listSeparator) }

  // MARK: case

  /// `case history`: one row per event.
  static func caseEvents(number: String, _ events: [Banjie_V1_CaseEvent]) -> CSVTable {
    var table = CSVTable([
      "number", "seq", "at", "action", "from_state", "to_state", "actor_role", "actor_organization", "actor_person", "note",
    ])
    for e in events {
      table.add([
        number, String(e.seq), time(e.hasAt, e.at), e.action, machine(CaseOutput.stateName(e.fromState)),
        machine(CaseOutput.stateName(e.toState)), e.actorRole, e.actorOrganization, e.actorPerson, e.note,
      ])
    }
    return table
  }

  // MARK: catalog

  static func departments(_ departments: [Banjie_V1_Department]) -> CSVTable {
    var table = CSVTable(["code", "name"])
    for d in departments { table.add([d.code, d.name]) }
    return table
  }

  static func itemKindName(_ kind: Banjie_V1_ItemKind) -> String {
    switch kind {
    case .instant: "instant"
    case .promised: "promised"
    default: ""
    }
  }

  static func limitUnitName(_ unit: Banjie_V1_LimitUnit) -> String {
    switch unit {
    case .workingDays: "working_days"
    case .workingHours: "working_hours"
    default: ""
    }
  }

  static func serviceItems(_ items: [Banjie_V1_ServiceItem]) -> CSVTable {
    var table = CSVTable([
      "code", "name", "department_code", "kind", "promised_limit", "limit_unit", "legal_limit_days", "allows_minor_pending", "materials",
    ])
    for i in items {
      table.add([
        i.code, i.name, i.departmentCode, itemKindName(i.kind), String(i.promisedLimit), limitUnitName(i.limitUnit),
        String(i.legalLimitDays), flag(i.allowsMinorPending), joined(i.materials),
      ])
    }
    return table
  }

  // MARK: calendar

  static func dayKindName(_ kind: Banjie_V1_DayKind) -> String {
    switch kind {
    case .workday: "workday"
    case .weekend: "weekend"
    case .holiday: "holiday"
    case .makeUpWorkday: "make_up_workday"
    default: ""
    }
  }

  /// `calendar show`: one row per day of the month.
  static func calendarDays(_ month: Banjie_V1_CalendarMonth) -> CSVTable {
    var table = CSVTable(["date", "kind", "provisional"])
    for day in month.days { table.add([day.date, dayKindName(day.kind), flag(month.provisional)]) }
    return table
  }

  // MARK: admin

  static func revocations(_ revocations: [Banjie_V1_Revocation]) -> CSVTable {
    var table = CSVTable(["serial", "revoked_at", "revoked_by", "reason"])
    for r in revocations { table.add([r.serial, time(r.hasRevokedAt, r.revokedAt), r.revokedBy, r.reason]) }
    return table
  }

  // MARK: enterprise

  /// The enterprise registry; its first columns are those `enterprise import` reads, so the
  /// file goes back in as it is (an enterprise with one contact and one liaison exactly).
  static func enterprises(_ enterprises: [Banjie_V1_Enterprise]) -> CSVTable {
    var table = CSVTable([
      "uscc", "name", "industry", "scale", "township", "contact_name", "contact_phone", "liaison_organization", "liaison_person",
      "industry_name", "contact_title", "registered_at", "last_visited_on", "check_override_reason", "version",
    ])
    for e in enterprises {
      table.add([
        e.uscc, e.name, e.industry, e.scale, e.township, joined(e.contacts.map(\.name)), joined(e.contacts.map(\.phone)),
        joined(e.liaisons.map(\.organization)), joined(e.liaisons.map(\.person)), e.industryName, joined(e.contacts.map(\.title)),
        time(e.hasRegisteredAt, e.registeredAt), e.lastVisitedOn, e.checkOverrideReason, String(e.version),
      ])
    }
    return table
  }

  static func townships(_ townships: [Banjie_V1_Township]) -> CSVTable {
    var table = CSVTable(["code", "name"])
    for township in townships { table.add([township.code, township.name]) }
    return table
  }

  // MARK: visit

  static func visits(_ visits: [Banjie_V1_Visit]) -> CSVTable {
    var table = CSVTable([
      "id", "visited_on", "uscc", "enterprise_name", "liaison_organization", "liaison_person", "demand_count", "demand_numbers",
      "notes", "recorded_at",
    ])
    for v in visits {
      table.add([
        String(v.id), v.visitedOn, v.uscc, v.enterpriseName, v.liaison.organization, v.liaison.person, String(v.demandNumbers.count),
        joined(v.demandNumbers), v.notes, time(v.hasRecordedAt, v.recordedAt),
      ])
    }
    return table
  }

  // MARK: demand

  static func demands(_ demands: [Banjie_V1_Demand]) -> CSVTable {
    var table = CSVTable([
      "number", "uscc", "enterprise_name", "category", "department_code", "department_name", "state", "handler", "limit_working_days",
      "raised_by", "raised_at", "visit_id", "due_at", "colour", "answered_at", "answer", "reopen_reason", "closed_at", "on_time",
      "satisfaction", "close_comment", "description", "version",
    ])
    for d in demands {
      let done = d.hasSla && d.sla.completed
      table.add([
        d.number, d.uscc, d.enterpriseName, d.category, d.departmentCode, d.departmentName, machine(DemandOutput.stateName(d.state)),
        d.handler, String(d.limitWorkingDays), d.raisedBy, time(d.hasRaisedAt, d.raisedAt), nonZero(d.visitID),
        time(d.hasSla, d.sla.dueAt), d.hasSla ? machine(CaseOutput.colourName(d.sla.colour)) : "", time(d.hasAnsweredAt, d.answeredAt),
        d.answer, d.reopenReason, time(d.hasClosedAt, d.closedAt), done ? flag(d.sla.completedOnTime) : "", nonZero(d.satisfaction),
        d.closeComment, d.description_p, String(d.version),
      ])
    }
    return table
  }

  // MARK: policy

  static func policies(_ policies: [Banjie_V1_Policy]) -> CSVTable {
    var table = CSVTable([
      "id", "title", "summary", "industries", "scales", "townships", "created_at", "pushed", "acknowledged", "acknowledged_by_me",
    ])
    for p in policies {
      table.add([
        String(p.id), p.title, p.summary, joined(p.industries), joined(p.scales), joined(p.townships), time(p.hasCreatedAt, p.createdAt),
        String(p.pushed), String(p.acknowledged), flag(p.acknowledgedByMe),
      ])
    }
    return table
  }

  // MARK: coverage

  /// `coverage`: the three lists of the answer in one sheet, told apart by `section`
  /// (`liaison`, `township`, `not_visited`), then the `total` row of the period.
  static func coverage(_ r: Banjie_V1_CoverageResponse) -> CSVTable {
    var table = CSVTable([
      "section", "liaison_organization", "liaison_person", "township", "uscc", "name", "enterprises", "assigned", "visited",
      "visit_rate",
    ])
    for l in r.liaisons {
      table.add([
        "liaison", l.liaison.organization, l.liaison.person, "", "", "", "", String(l.assigned), String(l.visited),
        share(Double(l.visited) / Double(max(l.assigned, 1)), of: l.assigned),
      ])
    }
    for row in r.townships {
      table.add([
        "township", "", "", row.township, "", "", String(row.enterprises), String(row.assigned), String(row.visited),
        share(Double(row.visited) / Double(max(row.assigned, 1)), of: row.assigned),
      ])
    }
    for e in r.notVisitedThisYear {
      table.add([
        "not_visited", joined(e.liaisons.map(\.organization)), joined(e.liaisons.map(\.person)), e.township, e.uscc, e.name, "", "", "",
        "",
      ])
    }
    table.add([
      "total", "", "", "", "", "", "", String(r.assigned), String(r.visited),
      share(Double(r.visited) / Double(max(r.assigned, 1)), of: r.assigned),
    ])
    return table
  }

  // MARK: rating

  /// `rating measures`: the groups, then the summary row keyed `total`; a group whose key is
  /// empty (cases without a window, say) keeps the empty key and is named "(none)".
  static func ratingMeasures(_ r: Banjie_V1_RatingMeasuresResponse) -> CSVTable {
    var table = CSVTable([
      "key", "name", "completed", "rated", "excluded", "good", "good_share", "unrated", "unrated_share", "bad", "rectified_on_time",
      "rectified_on_time_share", "followed_up", "follow_up_share",
    ])
    func add(_ m: Banjie_V1_RatingMeasures, key: String, name: String) {
      table.add([
        key, name, String(m.completed), String(m.rated), String(m.excluded), String(m.good), share(m.goodShare, of: m.rated),
        String(m.unrated), share(m.unratedShare, of: m.completed), String(m.bad), String(m.rectifiedOnTime),
        share(m.rectifiedOnTimeShare, of: m.bad), String(m.followedUp), share(m.followUpShare, of: m.bad),
      ])
    }
    for m in r.groups { add(m, key: m.key, name: m.key.isEmpty ? "(none)" : m.name) }
    add(r.total, key: "total", name: r.total.name.isEmpty ? "total" : r.total.name)
    return table
  }

  // MARK: rectification

  static func appealStateName(_ state: Banjie_V1_AppealState) -> String {
    switch state {
    case .pending: "PENDING"
    case .upheld: "UPHELD"
    case .rejected: "REJECTED"
    default: ""
    }
  }

  static func rectifications(_ rectifications: [Banjie_V1_Rectification]) -> CSVTable {
    var table = CSVTable([
      "number", "case_number", "department_code", "department_name", "state", "level", "level_name", "rating_comment", "excluded",
      "limit_working_days", "opened_at", "due_at", "colour", "verified_at", "verified_valid", "rectified_at", "measures", "completed_at",
      "on_time", "followed_up_at", "follow_up_satisfied", "follow_up_result", "closed_at", "appeal_state", "appeal_reason",
      "appeal_decision", "version", "rated_organization", "rated_person", "rating_via", "rating_device", "confirmation", "confirmed_by",
      "confirmed_at", "confirmation_note",
    ])
    for r in rectifications {
      table.add([
        r.number, r.caseNumber, r.departmentCode, r.departmentName, machine(RatingOutput.stateName(r.state)),
        r.hasRating ? String(r.rating.level) : "", r.rating.levelName, r.rating.comment, r.hasRating ? flag(r.rating.excluded) : "",
        String(r.limitWorkingDays), time(r.hasOpenedAt, r.openedAt), time(r.hasSla, r.sla.dueAt),
        r.hasSla ? machine(CaseOutput.colourName(r.sla.colour)) : "", time(r.hasVerifiedAt, r.verifiedAt),
        r.hasVerifiedAt ? flag(r.verifiedValid) : "", time(r.hasRectifiedAt, r.rectifiedAt), r.measures,
        time(r.hasCompletedAt, r.completedAt), r.hasCompletedAt ? flag(r.completedOnTime) : "", time(r.hasFollowedUpAt, r.followedUpAt),
        r.hasFollowedUpAt ? flag(r.followUpSatisfied) : "", r.followUpResult, time(r.hasClosedAt, r.closedAt),
        appealStateName(r.appealState), r.appealReason, r.appealDecision, String(r.version), r.ratedOrganization, r.ratedPerson,
        r.hasRating ? ratingViaName(r.rating.via) : "", r.rating.device, RatingOutput.confirmationName(r.confirmation), r.confirmedBy,
        time(r.hasConfirmedAt, r.confirmedAt), r.confirmationNote,
      ])
    }
    return table
  }

  static func ratingViaName(_ via: Banjie_V1_RatingVia) -> String {
    switch via {
    case .enterprise: "ENTERPRISE"
    case .pad: "PAD"
    case .code: "CODE"
    default: ""
    }
  }

  // MARK: campaign

  static func campaigns(_ campaigns: [Banjie_V1_Campaign]) -> CSVTable {
    var table = CSVTable([
      "id", "name", "period_from", "period_to", "state", "department_codes", "dimensions", "invited", "reviews", "created_at",
      "opened_at", "closed_at", "published_at", "reviewed_by_me",
    ])
    for c in campaigns {
      table.add([
        String(c.id), c.name, c.periodFrom, c.periodTo, machine(ReviewCampaignCommand.stateName(c.state)), joined(c.departmentCodes),
        joined(c.dimensions.map { "\($0.name)=\($0.weightPercent)" }), String(c.invited.count), String(c.reviews),
        time(c.hasCreatedAt, c.createdAt), time(c.hasOpenedAt, c.openedAt), time(c.hasClosedAt, c.closedAt),
        time(c.hasPublishedAt, c.publishedAt), joined(c.reviewedByMe),
      ])
    }
    return table
  }

  /// `campaign results`: one row per department.
  static func campaignResults(_ r: Banjie_V1_CampaignResults) -> CSVTable {
    var table = CSVTable([
      "campaign_id", "rank", "department_code", "department_name", "score", "reviews", "invited", "response_rate",
    ])
    for d in r.departments {
      table.add([
        String(r.campaign.id), nonZero(d.rank), d.departmentCode, d.departmentName, d.reviews == 0 ? "" : String(format: "%.2f", d.score),
        String(d.reviews), String(d.invited), share(d.responseRate, of: d.invited),
      ])
    }
    return table
  }

  // MARK: award

  static func awards(_ awards: [Banjie_V1_Award]) -> CSVTable {
    var table = CSVTable([
      "id", "period", "from", "to", "rule_set_version", "published_at", "published_by", "revoked", "revoked_at", "revoked_by",
      "revoke_reason", "digest",
    ])
    for a in awards {
      table.add([
        String(a.id), a.period, a.from, a.to, String(a.ruleSetVersion), time(a.hasPublishedAt, a.publishedAt), a.publishedBy,
        flag(a.revoked), time(a.hasRevokedAt, a.revokedAt), a.revokedBy, a.revokeReason, a.digest,
      ])
    }
    return table
  }

  /// `award preview`: one row per unit scored.
  static func awardScores(_ entries: [Banjie_V1_AwardScores]) -> CSVTable {
    var table = CSVTable([
      "kind", "key", "name", "stars", "handled", "on_time", "on_time_share", "one_day", "one_day_share", "rated", "good", "good_share",
      "unrated", "unrated_share", "bad", "rectified_on_time", "rectified_on_time_share", "unrectified_bad", "overdue_demands",
      "short_of_next",
    ])
    for e in entries {
      table.add([
        e.kind, e.key, e.name, String(e.stars), String(e.handled), String(e.onTime), share(e.onTimeShare, of: e.handled),
        String(e.oneDay), share(e.oneDayShare, of: e.handled), String(e.rated), String(e.good), share(e.goodShare, of: e.rated),
        String(e.unrated), share(e.unratedShare, of: e.handled), String(e.bad), String(e.rectifiedOnTime),
        share(e.rectifiedOnTimeShare, of: e.bad), String(e.unrectifiedBad), e.kind == "department" ? String(e.overdueDemands) : "",
        e.shortOfNext,
      ])
    }
    return table
  }

  // MARK: exemplary

  static func nominations(_ nominations: [Banjie_V1_Nomination]) -> CSVTable {
    var table = CSVTable([
      "id", "year", "kind", "subject", "department_code", "state", "nominated_by", "nominated_at", "account", "reviewed_by",
      "reviewed_at", "review_note",
    ])
    for n in nominations {
      table.add([
        String(n.id), String(n.year), n.kind, n.subject, n.departmentCode, machine(ExemplaryCommand.stateName(n.state)), n.nominatedBy,
        time(n.hasNominatedAt, n.nominatedAt), n.account, n.reviewedBy, time(n.hasReviewedAt, n.reviewedAt), n.reviewNote,
      ])
    }
    return table
  }
}
