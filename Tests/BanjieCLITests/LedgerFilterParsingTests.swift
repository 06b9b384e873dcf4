import Testing

@testable import banjie

/// `demand list` and `rectification list` take states, colours and categories in English or
/// Chinese, whatever language the CLI speaks. (Compared by their stable names, so this target
/// needs no import of the generated code.)
@Suite("ledger filters as typed")
struct LedgerFilterParsingTests {
  @Test(
    "demand states",
    arguments: [
      ("open", "OPEN"), ("ASSIGNED", "ASSIGNED"), ("待分派", "OPEN"), ("办理中", "ASSIGNED"), ("已答复", "ANSWERED"),
      ("已办结", "CLOSED"), ("重新办理", "REOPENED"), ("reopened", "REOPENED"),
    ])
  func demandStates(text: String, expected: String) {
    #expect(DemandOutput.parseState(text).map(DemandOutput.stateName) == expected)
  }

  @Test(
    "rectification states",
    arguments: [
      ("open", "OPEN"), ("followed-up", "FOLLOWED_UP"), ("FOLLOWED_UP", "FOLLOWED_UP"), ("followed up", "FOLLOWED_UP"),
      ("待核实", "OPEN"), ("已核实", "VERIFIED"), ("已整改", "RECTIFIED"), ("已回访", "FOLLOWED_UP"), ("已办结", "CLOSED"),
    ])
  func rectificationStates(text: String, expected: String) {
    #expect(RatingOutput.parseState(text).map(RatingOutput.stateName) == expected)
  }

  @Test("colours", arguments: [("red", "red"), ("红", "red"), ("黄色", "yellow"), ("Green", "green")])
  func colours(text: String, expected: String) {
    #expect(CaseOutput.parseColour(text).map(CaseOutput.colourName) == expected)
  }

  @Test(
    "demand categories",
    arguments: [
      ("land", "land"), ("土地", "land"), ("用地", "land"), ("Labor", "labour"), ("水电气", "utilities"), ("水电气暖", "utilities"),
      ("政策", "policy"), ("FINANCING", "financing"),
    ])
  func categories(text: String, expected: String) {
    #expect(DemandOutput.parseCategory(text) == expected)
  }

  @Test("what names nothing is refused", arguments: ["", "pending", "蓝", "食品"])
  func unknown(text: String) {
    #expect(DemandOutput.parseState(text) == nil)
    #expect(RatingOutput.parseState(text) == nil)
    #expect(CaseOutput.parseColour(text) == nil)
    #expect(DemandOutput.parseCategory(text) == nil)
  }
}
