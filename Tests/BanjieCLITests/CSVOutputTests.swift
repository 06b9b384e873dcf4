import Testing

@testable import banjie

@Suite("CSV ledgers")
struct CSVOutputTests {
  @Test(
    "fields are quoted per RFC 4180 and formulas typed by outsiders stay text",
    arguments: [
      ("王小二", "王小二"), ("a,b", "\"a,b\""), ("say \"hi\"", "\"say \"\"hi\"\"\""), ("两行\n文字", "\"两行\n文字\""),
      ("=HYPERLINK(\"x\")", "\"'=HYPERLINK(\"\"x\"\")\""), ("+86 537", "'+86 537"), ("@SUM(A1)", "'@SUM(A1)"), ("-5", "-5"),
      ("-1.25", "-1.25"), ("- 开头的说明", "'- 开头的说明"),
    ])
  func field(input: String, expected: String) {
    #expect(CSVTable.field(input) == expected)
  }

  @Test("a file starts with the UTF-8 byte order mark and ends its lines with CRLF")
  func file() {
    var table = CSVTable(["number", "applicant"])
    table.add(["1", "王小二"])
    #expect(table.render() == "\u{FEFF}number,applicant\r\n1,王小二\r\n")
  }
}
