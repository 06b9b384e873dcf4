/// RFC 4180 CSV: comma-separated fields, double-quoted fields may hold commas, quotes ("")
/// and line breaks. Yields each record with the line number it starts on (1-based).
public struct CSVReader: Sendable {
  public struct Record: Sendable, Hashable {
    public var line: Int
    public var fields: [String]
    /// Set when the record is malformed (an unterminated quote); `fields` then holds what was read.
    public var problem: String?
  }

  public static func records(_ text: String) -> [Record] {
    var records: [Record] = []
    var fields: [String] = []
    var field = ""
    var line = 1
    var recordLine = 1
    var inQuotes = false
    var afterQuote = false
    var problem: String?
    var scalars = Array(text.unicodeScalars)
    if scalars.first == "\u{FEFF}" { scalars.removeFirst() }
    var index = 0
    func endRecord() {
      fields.append(field)
      if !(fields.count == 1 && fields[0].isEmpty) {
        records.append(Record(line: recordLine, fields: fields, problem: problem))
      }
      fields = []
      field = ""
      problem = nil
      afterQuote = false
    }
    while index < scalars.count {
      let c = scalars[index]
      index += 1
      if inQuotes {
        if c == "\"" {
          if index < scalars.count && scalars[index] == "\"" {
            field.unicodeScalars.append("\"")
            index += 1
          } else {
            inQuotes = false
            afterQuote = true
          }
        } else {
          if c == "\n" { line += 1 }
          field.unicodeScalars.append(c)
        }
        continue
      }
      switch c {
      case ",":
        fields.append(field)
        field = ""
        afterQuote = false
      case "\r":
        continue
      case "\n":
        endRecord()
        line += 1
        recordLine = line
      case "\"" where field.isEmpty && !afterQuote:
        inQuotes = true
      default:
        if afterQuote && problem == nil { problem = "text after a closing quote" }
        field.unicodeScalars.append(c)
      }
    }
    if inQuotes { problem = "a quoted field is not closed" }
    if !field.isEmpty || !fields.isEmpty || inQuotes { endRecord() }
    return records
  }
}
