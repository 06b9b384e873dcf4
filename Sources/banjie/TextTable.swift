import Foundation

/// Terminal width of text: East Asian wide and full-width characters take two columns,
/// combining marks none, so that Chinese names line up in tables.
func displayWidth(_ text: String) -> Int {
  var width = 0
  for scalar in text.unicodeScalars {
    let v = scalar.value
    switch scalar.properties.generalCategory {
    case .nonspacingMark, .enclosingMark, .format: continue
    default: break
    }
    if (0x1100...0x115F).contains(v) || (0x2E80...0x303E).contains(v) || (0x3041...0x33FF).contains(v)
      || (0x3400...0x4DBF).contains(v) || (0x4E00...0x9FFF).contains(v) || (0xA000...0xA4CF).contains(v)
      || (0xAC00...0xD7A3).contains(v) || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v)
      || (0xFF00...0xFF60).contains(v) || (0xFFE0...0xFFE6).contains(v) || (0x1F300...0x1F64F).contains(v)
      || (0x1F900...0x1F9FF).contains(v) || (0x20000...0x3FFFD).contains(v)
    {
      width += 2
    } else {
      width += 1
    }
  }
  return width
}

/// Pads to a display width (never cuts).
func pad(_ text: String, to width: Int) -> String {
  let missing = width - displayWidth(text)
  return missing > 0 ? text + String(repeating: " ", count: missing) : text
}

/// A plain table: a header row, aligned columns, two spaces between them.
struct TextTable {
  var headers: [String]
  var rows: [[String]] = []
  /// Per row, an optional colour for the whole row (ANSI code), used only on terminals.
  var rowColours: [String?] = []

  init(_ headers: String...) { self.headers = headers }

  /// A cell stays on its line: line breaks and tabs in a value (an applicant's name typed with
  /// Enter, a pasted note) are shown as " ⏎ " and a space.
  mutating func add(_ cells: [String], colour: String? = nil) {
    self.rows.append(
      cells.map {
        $0.replacingOccurrences(of: "\r\n", with: " ⏎ ").replacingOccurrences(of: "\n", with: " ⏎ ").replacingOccurrences(
          of: "\r", with: " ⏎ "
        )
        .replacingOccurrences(of: "\t", with: " ")
      })
    self.rowColours.append(colour)
  }

  func render() -> String {
    var widths = self.headers.map(displayWidth)
    for row in self.rows {
      for (i, cell) in row.enumerated() where i < widths.count { widths[i] = max(widths[i], displayWidth(cell)) }
    }
    func line(_ cells: [String]) -> String {
      cells.enumerated().map { i, cell in i == cells.count - 1 ? cell : pad(cell, to: widths[i]) }.joined(separator: "  ")
    }
    var out = [Terminal.bold(line(self.headers))]
    for (row, colour) in zip(self.rows, self.rowColours) {
      out.append(Terminal.paint(line(row), colour))
    }
    return out.joined(separator: "\n")
  }
}

/// Colour only on a terminal, and never when NO_COLOR is set.
enum Terminal {
  static let useColour: Bool = {
    ProcessInfo.processInfo.environment["NO_COLOR"] == nil && isatty(STDOUT_FILENO) != 0
  }()
  static func paint(_ text: String, _ code: String?) -> String {
    guard let code, useColour else { return text }
    return "\u{1B}[\(code)m\(text)\u{1B}[0m"
  }
  static func bold(_ text: String) -> String { paint(text, "1") }
  static let green = "32", yellow = "33", red = "31", dim = "2"
}
