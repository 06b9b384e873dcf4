import BanjieCore
import Foundation
import Testing

@Suite("Ratings domain")
struct RatingDomainTests {
  @Test("levels: 1-2 are 差评 and need a comment; 4-5 are good", arguments: 1...5)
  func levels(level: Int) throws {
    let parsed = try #require(RatingLevel(rawValue: level))
    #expect(parsed.isBad == (level <= 2))
    #expect(parsed.isGood == (level >= 4))
    if parsed.isBad {
      #expect(throws: DomainError.self) { try RatingInput(level: level, comment: "  ", tags: []) }
    } else {
      #expect(try RatingInput(level: level, comment: "", tags: []).level == parsed)
    }
  }

  @Test(
    "out-of-range levels, long comments and bad tags name the field",
    arguments: [
      (0, "", [String](), "level"), (6, "", [], "level"), (-1, "", [], "level"),
      (5, String(repeating: "x", count: 1001), [], "comment"),
      (5, "", [String(repeating: "标", count: 21)], "tags[0]"),
      (5, "", (0..<11).map(String.init), "tags"),
    ])
  func refusals(level: Int, comment: String, tags: [String], field: String) {
    do {
      _ = try RatingInput(level: level, comment: comment, tags: tags)
      Issue.record("accepted level \(level)")
    } catch {
      #expect(error.kind == .invalidArgument)
      #expect(error.field == field)
    }
  }

  @Test("the rating window is calendar days after completion")
  func window() {
    let completed = Date(timeIntervalSince1970: 1_800_000_000)
    #expect(RatingInput.windowEnd(completedAt: completed, windowDays: 15) == completed.addingTimeInterval(15 * 86_400))
  }

  @Test("rectification steps: valid path, not-valid path, appeals")
  func stateMachine() throws {
    func apply(
      _ action: RectificationAction, _ state: RectificationState, _ appeal: AppealState, _ valid: Bool?,
      _ confirmation: RectificationConfirmation = .unconfirmed
    ) throws -> (RectificationState, AppealState) {
      try RectificationStateMachine.apply(
        action, state: state, appeal: appeal, verifiedValid: valid, confirmation: confirmation, number: "Z")
    }
    #expect(try apply(.verify(valid: true), .open, .none, nil) == (.verified, .none))
    #expect(try apply(.rectify, .verified, .none, true) == (.rectified, .none))
    #expect(throws: DomainError.self) { try apply(.rectify, .verified, .none, false) }
    #expect(try apply(.followUp(satisfied: true), .verified, .none, false) == (.followedUp, .none))
    #expect(throws: DomainError.self) { try apply(.followUp(satisfied: true), .open, .none, nil) }
    #expect(try apply(.close, .followedUp, .rejected, true, .followUp) == (.closed, .rejected))
    #expect(throws: DomainError.self) { try apply(.close, .followedUp, .pending, true, .followUp) }
    #expect(try apply(.appeal, .open, .none, nil) == (.open, .pending))
    #expect(throws: DomainError.self) { try apply(.appeal, .open, .rejected, nil) }
    #expect(throws: DomainError.self) { try apply(.decide(uphold: true), .open, .none, nil) }
    #expect(try apply(.decide(uphold: true), .verified, .pending, true) == (.closed, .upheld))
    #expect(try apply(.decide(uphold: false), .verified, .pending, true) == (.verified, .rejected))
  }

  @Test("closing needs the rater's confirmation, recorded once the department's part is done (docs/DOMAIN.md §21)")
  func confirmation() throws {
    func apply(
      _ action: RectificationAction, _ state: RectificationState, _ valid: Bool?, _ confirmation: RectificationConfirmation
    ) throws(DomainError) -> RectificationState {
      try RectificationStateMachine.apply(
        action, state: state, appeal: .none, verifiedValid: valid, confirmation: confirmation, number: "ZG-1"
      ).0
    }
    // A followed-up rectification without a confirmation (the rater was not satisfied) stays open.
    let missing = #expect(throws: DomainError.self) { try apply(.close, .followedUp, true, .unconfirmed) }
    #expect(missing?.kind == .failedPrecondition && missing?.code == "rectification.confirmation_missing")
    #expect(missing?.field == "confirmation")
    for confirmation in [RectificationConfirmation.followUp, .rater, .office] {
      #expect(try apply(.close, .followedUp, true, confirmation) == .closed)
    }
    // The rater or the office confirms after the measures, or after a 差评 found not valid; the state stays.
    #expect(try apply(.confirm, .rectified, true, .unconfirmed) == .rectified)
    #expect(try apply(.signOff, .verified, false, .unconfirmed) == .verified)
    #expect(try apply(.close, .rectified, true, .rater) == .closed)
    #expect(try apply(.close, .verified, false, .office) == .closed)
    // Not before the department's part is done, and only once.
    let early: [(RectificationState, Bool?)] = [(.open, nil), (.verified, true), (.closed, true)]
    for (state, valid) in early {
      let refused = #expect(throws: DomainError.self) { try apply(.confirm, state, valid, .unconfirmed) }
      #expect(refused?.code == "rectification.illegal_transition", "\(state)")
      #expect(throws: DomainError.self) { try apply(.close, state, valid, .rater) }
    }
    let twice = #expect(throws: DomainError.self) { try apply(.signOff, .followedUp, true, .followUp) }
    #expect(twice?.code == "rectification.already_confirmed")
  }

  @Test("who may take which rectification step: heads verify, the clerk rated never, the rater confirms")
  func parties() throws {
    let parties = RectificationParties(
      number: "ZG-1", department: "SCJGJ", ratedOrganization: "SCJGJ", ratedPerson: "张伟", raterUSCC: "91370830000001001N",
      actorIsHead: true)
    let rated = Actor(role: .clerk, organization: "SCJGJ", person: "张伟")
    let colleague = Actor(role: .clerk, organization: "SCJGJ", person: "王芳")
    let other = Actor(role: .clerk, organization: "ZJJ", person: "赵敏")
    let office = Actor(role: .office, organization: "YSB", person: "李明")
    let firm = Actor(role: .enterprise, organization: "91370830000001001n", person: "张总")
    let pad = Actor(role: .pad, organization: "A03", person: "PAD-A03-1")
    func code(_ action: RectificationAction, _ actor: Actor, head: Bool = true) -> String? {
      var p = parties
      p.actorIsHead = head
      do {
        try p.authorize(action, by: actor)
        return nil
      } catch {
        #expect(error.kind == .permissionDenied)
        return error.code
      }
    }
    // Even as a head, the clerk rated neither verifies, follows up nor closes.
    #expect(code(.verify(valid: false), rated) == "rectification.rated_clerk")
    #expect(code(.close, rated) == "rectification.rated_clerk")
    #expect(code(.followUp(satisfied: true), rated) == "rectification.rated_clerk")
    #expect(code(.rectify, rated) == nil)
    #expect(code(.verify(valid: true), colleague) == nil)
    #expect(code(.verify(valid: true), colleague, head: false) == "rectification.not_head")
    #expect(code(.close, colleague, head: false) == nil)
    #expect(code(.verify(valid: true), other) == "rectification.not_your_department")
    #expect(code(.verify(valid: true), office, head: false) == nil)
    #expect(code(.confirm, firm) == nil)
    #expect(code(.confirm, colleague) == "rectification.not_the_rater")
    #expect(code(.signOff, office) == nil)
    #expect(code(.signOff, colleague) == "rectification.office_only")
    #expect(code(.rectify, pad) == "rectification.not_your_department")
    // A natural person's rating has no enterprise to confirm it; a rectification opened before
    // the clerk rated was recorded restricts no clerk.
    var natural = parties
    natural.raterUSCC = ""
    natural.ratedPerson = ""
    #expect(throws: DomainError.self) { try natural.authorize(.confirm, by: firm) }
    try natural.authorize(.verify(valid: true), by: rated)
  }

  @Test("rating codes: the alphabet, typing, and comparison")
  func ratingCodes() throws {
    for _ in 0..<50 {
      let code = RatingCode.generate()
      #expect(code.utf8.count == 8 && code.utf8.allSatisfy { RatingCode.alphabet.contains($0) })
      #expect(try RatingCode.parse(code, field: "rating_code") == code)
    }
    #expect(RatingCode.alphabet.count == 31)
    #expect(try RatingCode.parse(" ab2c-3d4e ", field: "rating_code") == "AB2C3D4E")
    #expect(try RatingCode.parse("ＡＢ２Ｃ３Ｄ４Ｅ", field: "rating_code") == "AB2C3D4E")
    for bad in ["AB2C3D4", "AB2C3D4E5", "AB2C3D4O", "AB1C3D4E", "评价码评价码评价"] {
      let error = #expect(throws: DomainError.self) { try RatingCode.parse(bad, field: "rating_code") }
      #expect(error?.code == "rating.code_malformed" && error?.field == "rating_code", "\(bad)")
    }
    #expect(RatingCode.matches("AB2C3D4E", "AB2C3D4E"))
    #expect(!RatingCode.matches("AB2C3D4F", "AB2C3D4E"))
    #expect(!RatingCode.matches("BB2C3D4E", "AB2C3D4E"))
    #expect(!RatingCode.matches("AB2C3D4E", ""))
    #expect(!RatingCode.matches("AB2C3D4EAB2C3D4E", "AB2C3D4E"))
    #expect(try RatingDeviceID.parse(" pad-ａ03-1 ", field: "device_id") == "PAD-A03-1")
    #expect(throws: DomainError.self) { try RatingDeviceID.parse("-PAD", field: "device_id") }
  }

  @Test("campaign weights sum to exactly 100 %")
  func weights() throws {
    let good = [
      CampaignDimension(name: "efficiency", weightPercent: 40), CampaignDimension(name: "attitude", weightPercent: 30),
      CampaignDimension(name: "transparency", weightPercent: 20), CampaignDimension(name: "integrity", weightPercent: 10),
    ]
    try CampaignDimension.check(good)
    #expect(CampaignDimension.weightedHundredths(good, scores: ["efficiency": 5, "attitude": 4, "transparency": 5, "integrity": 4]) == 460)
    var short = good
    short[3].weightPercent = 9
    #expect { try CampaignDimension.check(short) } throws: { ($0 as? DomainError)?.code == "campaign.weights_sum" }
    #expect { try CampaignDimension.check(good + [CampaignDimension(name: "efficiency", weightPercent: 0)]) } throws: {
      ($0 as? DomainError)?.field == "dimensions[4].name"
    }
    #expect { try CampaignDimension.check([]) } throws: { ($0 as? DomainError)?.field == "dimensions" }
  }

  @Test("competition ranking: ties share a rank and the next rank skips")
  func ranking() {
    #expect(CompetitionRanking.ranks([4.3, 4.3, 3.7]) { $0 > $1 } == [1, 1, 3])
    #expect(CompetitionRanking.ranks([1, 2, 2, 3]) { $0 > $1 } == [4, 2, 2, 1])
  }
}
