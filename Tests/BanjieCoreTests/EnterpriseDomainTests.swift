import Testing

@testable import BanjieCore

@Suite("Warm-enterprise domain")
struct EnterpriseDomainTests {
  static let valid = "91350100M000100Y43"

  @Test("a good code is admitted; a wrong check character only with a reason; a malformed code never")
  func admission() throws {
    #expect(try USCCAdmission.admit(Self.valid, overrideReason: nil) == .valid(try USCC.validate(Self.valid)))
    let wrong = "91350100M000100Y44"
    #expect {
      _ = try USCCAdmission.admit(wrong, overrideReason: nil)
    } throws: { error in
      let e = error as? DomainError
      return e?.field == "uscc" && e?.code == "uscc.wrong_check_character" && e?.message.contains("'3'") == true
    }
    #expect(throws: DomainError.self) { _ = try USCCAdmission.admit(wrong, overrideReason: "   ") }
    #expect(try USCCAdmission.admit(" \(wrong.lowercased()) ", overrideReason: "执照如此") == .overridden(code: wrong, reason: "执照如此"))
    #expect(throws: DomainError.self) { _ = try USCCAdmission.admit("91350100M000100", overrideReason: "执照如此") }
    #expect(throws: DomainError.self) { _ = try USCCAdmission.admit("91350100M00010OY43", overrideReason: "执照如此") }
  }

  @Test("industry sections A–T, scales in English or Chinese")
  func vocabulary() throws {
    #expect(try IndustrySection.parse(" c ") == .c)
    #expect(IndustrySection.c.chineseName == "制造业")
    #expect(IndustrySection.allCases.count == 20)
    #expect(throws: DomainError.self) { _ = try IndustrySection.parse("U") }
    #expect(throws: DomainError.self) { _ = try IndustrySection.parse("CC") }
    #expect(try EnterpriseScale.parse("Micro") == .micro)
    #expect(try EnterpriseScale.parse("中型") == .medium)
    #expect(throws: DomainError.self) { _ = try EnterpriseScale.parse("huge") }
    #expect(try DemandCategory.parse("labor") == .labour)
    #expect(try DemandCategory.parse("融资") == .financing)
    #expect(Township.sampleCounty.count >= 10)
    #expect(Set(Township.sampleCounty.map(\.name)).count == Township.sampleCounty.count)
  }

  @Test("demand transitions: only the legal ones, satisfaction 1–5")
  func demandMachine() throws {
    #expect(try DemandStateMachine.apply(.assign, to: .open, number: "d") == .assigned)
    #expect(try DemandStateMachine.apply(.answer, to: .assigned, number: "d") == .answered)
    #expect(try DemandStateMachine.apply(.close(satisfaction: 5), to: .answered, number: "d") == .closed)
    #expect(try DemandStateMachine.apply(.reopen, to: .answered, number: "d") == .reopened)
    #expect(try DemandStateMachine.apply(.answer, to: .reopened, number: "d") == .answered)
    for (action, state) in [
      (DemandAction.answer, DemandState.open), (.close(satisfaction: 3), .assigned), (.reopen, .closed), (.assign, .closed),
      (.assign, .answered),
    ] {
      #expect(throws: DomainError.self) { _ = try DemandStateMachine.apply(action, to: state, number: "d") }
    }
    #expect { _ = try DemandStateMachine.apply(.close(satisfaction: 0), to: .answered, number: "d") } throws: {
      ($0 as? DomainError)?.field == "satisfaction"
    }
    #expect(DemandState.reopened.awaitsDepartment)
    #expect(!DemandState.answered.awaitsDepartment)
  }

  @Test("policy eligibility: empty lists admit anyone")
  func eligibility() {
    let any = PolicyEligibility()
    #expect(any.admits(industry: .a, scale: .large, township: "南旺镇"))
    let smallManufacturing = PolicyEligibility(industries: [.c], scales: [.small, .micro], townships: ["南旺镇"])
    #expect(smallManufacturing.admits(industry: .c, scale: .micro, township: "南旺镇"))
    #expect(!smallManufacturing.admits(industry: .c, scale: .large, township: "南旺镇"))
    #expect(!smallManufacturing.admits(industry: .h, scale: .small, township: "南旺镇"))
    #expect(!smallManufacturing.admits(industry: .c, scale: .small, township: "康驿镇"))
  }

  @Test("CSV: quotes, doubled quotes, embedded newlines, CRLF, BOM and line numbers")
  func csv() {
    let text = "\u{FEFF}uscc,name\r\nA,\"甲,有限公司\"\r\n\r\nB,\"说\"\"好\"\"的\nC\"\nD,\"unterminated\n"
    let records = CSVReader.records(text)
    #expect(records.map(\.line) == [1, 2, 4, 6])
    #expect(records[0].fields == ["uscc", "name"])
    #expect(records[1].fields == ["A", "甲,有限公司"])
    #expect(records[2].fields == ["B", "说\"好\"的\nC"])
    #expect(records[2].problem == nil)
    #expect(records[3].problem != nil)
  }
}
