import Foundation

/// CSV for ledgers (台账) kept in Excel: RFC 4180 (CRLF line ends; a field with a comma, quote,
/// CR or LF is quoted, quotes doubled), preceded by a UTF-8 byte order mark so that Excel on a
/// Chinese Windows desktop reads UTF-8 instead of GBK. Column keys are stable English machine
/// keys, whatever the language.
struct CSVTable {
  static let byteOrderMark = "\u{FEFF}"

  var columns: [String]
  var rows: [[String]] = []

  init(_ columns: [String]) { self.columns = columns }

  mutating func add(_ cells: [String]) {
    precondition(cells.count == self.columns.count, "a CSV row has as many cells as the header")
    self.rows.append(cells)
  }

  static func field(_ value: String) -> String {
    // A cell an applicant or enterprise typed that starts like a formula (=, +, -, @, tab, CR)
    // would run as one in Excel: it is written as text, with a leading apostrophe.
    var text = value
    if let first = text.unicodeScalars.first, ["=", "+", "-", "@", "\t", "\r"].contains(first), Double(text) == nil {
      text = "'" + text
    }
    guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }) else { return text }
    return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
  }

  /// The whole file: BOM, header, rows, each line ended by CRLF.
  func render() -> String {
    ([self.columns] + self.rows).map { $0.map(Self.field).joined(separator: ",") + "\r\n" }.joined()
      .withBOM
  }

  /// Prints the file to standard output.
  func print() {
    FileHandle.standardOutput.write(Data(self.render().utf8))
  }
}

extension String {
  fileprivate var withBOM: String { CSVTable.byteOrderMark + self }
}
