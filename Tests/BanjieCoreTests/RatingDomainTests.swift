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
    typealias M = RectificationStateMachine
    #expect(try M.apply(.verify(valid: true), state: .open, appeal: .none, verifiedValid: nil, number: "Z") == (.verified, .none))
    #expect(try M.apply(.rectify, state: .verified, appeal: .none, verifiedValid: true, number: "Z") == (.rectified, .none))
    #expect(throws: DomainError.self) { try M.apply(.rectify, state: .verified, appeal: .none, verifiedValid: false, number: "Z") }
    #expect(
      try M.apply(.followUp(satisfied: true), state: .verified, appeal: .none, verifiedValid: false, number: "Z") == (.followedUp, .none))
    #expect(throws: DomainError.self) {
      try M.apply(.followUp(satisfied: true), state: .open, appeal: .none, verifiedValid: nil, number: "Z")
    }
    #expect(try M.apply(.close, state: .followedUp, appeal: .rejected, verifiedValid: true, number: "Z") == (.closed, .rejected))
    #expect(throws: DomainError.self) { try M.apply(.close, state: .followedUp, appeal: .pending, verifiedValid: true, number: "Z") }
    #expect(try M.apply(.appeal, state: .open, appeal: .none, verifiedValid: nil, number: "Z") == (.open, .pending))
    #expect(throws: DomainError.self) { try M.apply(.appeal, state: .open, appeal: .rejected, verifiedValid: nil, number: "Z") }
    #expect(throws: DomainError.self) { try M.apply(.decide(uphold: true), state: .open, appeal: .none, verifiedValid: nil, number: "Z") }
    #expect(try M.apply(.decide(uphold: true), state: .verified, appeal: .pending, verifiedValid: true, number: "Z") == (.closed, .upheld))
    #expect(
      try M.apply(.decide(uphold: false), state: .verified, appeal: .pending, verifiedValid: true, number: "Z") == (.verified, .rejected))
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
