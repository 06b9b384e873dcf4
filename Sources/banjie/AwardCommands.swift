import ArgumentParser
import BanjieProto
import BanjieTransport
import Foundation
import GRPCCore
import SwiftProtobuf

/// 星级服务: `banjie award preview|publish|revoke|list|show|certificate|rules show|rules set`.
struct AwardCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "award", abstract: t("award.abstract"),
    discussion: t("award.discussion"),
    subcommands: [Preview.self, Publish.self, Revoke.self, List.self, Show.self, Certificate.self, Rules.self])

  typealias Client = Banjie_V1_AwardService.Client<BanjieClientTransport>

  static func call<R: Sendable>(_ connection: ConnectionOptions, _ body: (Client) async throws -> R) async throws -> R {
    try await connection.withClient { client, _, _ in try await body(Client(wrapping: client)) }
  }

  static func stars(_ n: UInt32) -> String { String(repeating: "★", count: Int(n)) + String(repeating: "☆", count: max(0, 5 - Int(n))) }

  static func percent(_ share: Double, of whole: UInt32) -> String { whole == 0 ? "-" : String(format: "%.1f", share * 100) }

  /// The requirements the server names in `short_of_next` ("2★ needs on-time ≥ 80 %",
  /// BanjieCore's StarLevel.shortfall), and their texts' keys.
  static let requirements: [(name: String, key: String)] = [
    ("handled", "award.need.handled"), ("on-time", "award.need.onTime"), ("one-day", "award.need.oneDay"),
    ("good", "award.need.good"), ("unrated", "award.need.unrated"), ("unrectified 差评", "award.need.unrectified"),
    ("overdue demands", "award.need.overdueDemands"),
  ]

  /// `short_of_next` as the reader's language says it; a text of another shape as it came.
  static func shortOfNext(_ text: String, language: Language = Language.current) -> String {
    guard let star = text.range(of: "★ needs "), let stars = Int(text[..<star.lowerBound]) else { return text }
    let rest = text[star.upperBound...]
    for requirement in Self.requirements where rest.hasPrefix(requirement.name + " ") {
      let bound = rest.dropFirst(requirement.name.count + 1)
      guard let first = bound.first, first == "≥" || first == "≤" else { return text }
      let name = Catalogue.text(requirement.key, [], language: language)
      return Catalogue.text("award.shortOfNext", [String(stars), name, String(bound)], language: language)
    }
    return text
  }

  /// A unit kind ("window", "staff", "department") as people read it; an unknown kind as it is.
  static func kindName(_ kind: String) -> String {
    let key = "award.kind.\(kind)"
    let text = t(key)
    return text == key ? kind : text
  }

  static func table(_ entries: [Banjie_V1_AwardScores]) -> String {
    var table = TextTable(
      t("award.col.unit"), t("award.col.key"), t("award.col.name"), t("award.col.stars"), t("award.col.handled"),
      t("award.col.onTime"), t("award.col.oneDay"), t("award.col.good"), t("award.col.unrated"), t("award.col.bad"),
      t("award.col.unrectified"), t("award.col.overdueDemands"), t("award.col.shortOfNext"))
    for e in entries {
      table.add([
        kindName(e.kind), e.key, e.name, stars(e.stars), String(e.handled), percent(e.onTimeShare, of: e.handled),
        percent(e.oneDayShare, of: e.handled),
        percent(e.goodShare, of: e.rated), percent(e.unratedShare, of: e.handled), String(e.bad), String(e.unrectifiedBad),
        e.kind == "department" ? String(e.overdueDemands) : "-", shortOfNext(e.shortOfNext),
      ])
    }
    return table.render()
  }

  static func printAward(_ a: Banjie_V1_Award, json: Bool) throws {
    if json {
      print(try a.jsonString(options: CaseOutput.jsonOptions))
      return
    }
    print(t("award.header", a.id, a.period, a.from, a.to, a.ruleSetVersion))
    print(t("award.published", CaseOutput.shortTime(a.publishedAt), HumanText.by(a.publishedBy), a.digest))
    if a.revoked {
      print(
        Terminal.paint(t("award.revokedLine", CaseOutput.shortTime(a.revokedAt), HumanText.by(a.revokedBy), a.revokeReason), Terminal.dim))
    }
    if !a.entries.isEmpty { print(table(a.entries)) }
  }

  struct Preview: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: t("award.preview.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: ArgumentHelp(t("award.help.period")), transform: Normalize.month) var period: String
    @Flag(name: .long, help: ArgumentHelp(t("award.help.json"))) var json = false
    @Flag(name: .long, help: ArgumentHelp(t("output.help.csv"))) var csv = false
    func validate() throws {
      if self.json && self.csv { throw ValidationError(t("output.error.jsonAndCSV")) }
    }
    func run() async throws {
      let p = try await AwardCommand.call(self.connection) {
        try await $0.previewAwards(.with { $0.period = self.period }, options: self.connection.callOptions)
      }
      if self.json {
        print(try p.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      if self.csv {
        LedgerCSV.awardScores(p.entries).print()
        return
      }
      print(AwardCommand.table(p.entries))
      print(
        Terminal.paint(t("award.preview.note", p.period, p.from, p.to, p.rules.version, p.rules.name), Terminal.dim))
    }
  }

  struct Publish: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("award.publish.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Argument(help: ArgumentHelp(t("award.help.period")), transform: Normalize.month) var period: String
    func run() async throws {
      let a = try await AwardCommand.call(self.connection) {
        try await $0.publishAwards(
          .with { $0.period = self.period }, metadata: self.mutation.metadata, options: self.connection.callOptions)
      }
      try AwardCommand.printAward(a, json: self.mutation.json)
    }
  }

  struct Revoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: t("award.revoke.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Argument(help: ArgumentHelp(t("award.help.id"))) var id: Int64
    @Option(name: .long, help: ArgumentHelp(t("award.help.reason"))) var reason: String
    func run() async throws {
      let a = try await AwardCommand.call(self.connection) {
        try await $0.revokeAward(
          .with {
            $0.id = self.id
            $0.reason = self.reason
          }, metadata: self.mutation.metadata, options: self.connection.callOptions)
      }
      try AwardCommand.printAward(a, json: self.mutation.json)
    }
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("award.list.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @Flag(name: .long, help: ArgumentHelp(t("award.help.json"))) var json = false
    @Flag(name: .long, help: ArgumentHelp(t("output.help.csv"))) var csv = false
    func validate() throws {
      if self.json && self.csv { throw ValidationError(t("output.error.jsonAndCSV")) }
    }
    func run() async throws {
      let r = try await AwardCommand.call(self.connection) { try await $0.listAwards(.init(), options: self.connection.callOptions) }
      if self.json {
        print(try r.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      if self.csv {
        LedgerCSV.awards(r.awards).print()
        return
      }
      var table = TextTable(
        t("award.list.col.id"), t("award.list.col.period"), t("award.list.col.rules"), t("award.list.col.published"),
        t("award.list.col.by"), t("award.list.col.state"), "sha256")
      for a in r.awards {
        table.add([
          String(a.id), a.period, "v\(a.ruleSetVersion)", CaseOutput.shortTime(a.publishedAt), HumanText.by(a.publishedBy),
          a.revoked ? t("award.list.revoked", a.revokeReason) : t("award.list.live"), String(a.digest.prefix(16)),
        ])
      }
      print(table.render())
    }
  }

  struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("award.show.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: ArgumentHelp(t("award.help.id"))) var id: Int64
    @Flag(name: .long, help: ArgumentHelp(t("award.help.json"))) var json = false
    func run() async throws {
      let a = try await AwardCommand.call(self.connection) {
        try await $0.getAward(.with { $0.id = self.id }, options: self.connection.callOptions)
      }
      try AwardCommand.printAward(a, json: self.json)
    }
  }

  struct Certificate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("award.certificate.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: ArgumentHelp(t("award.help.id"))) var id: Int64
    @Option(name: .long, help: ArgumentHelp(t("award.help.html"))) var html: String?
    func run() async throws {
      let a = try await AwardCommand.call(self.connection) {
        try await $0.getAward(.with { $0.id = self.id }, options: self.connection.callOptions)
      }
      print(AwardCertificate.text(a))
      if let html = self.html {
        // Written beside the target and renamed into place: never half a file (exit 73).
        try FileOutput.write(AwardCertificate.html(a), to: html)
        print(Terminal.paint(t("award.wrote", html), Terminal.dim))
      }
    }
  }

  struct Rules: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: t("award.rules.abstract"),
      subcommands: [ShowRules.self, SetRules.self])

    struct ShowRules: AsyncParsableCommand {
      static let configuration = CommandConfiguration(commandName: "show", abstract: t("award.rules.show.abstract"))
      @OptionGroup var connection: ConnectionOptions
      @Option(name: .long, help: ArgumentHelp(t("award.help.version"))) var version: Int64 = 0
      @Flag(name: .long, help: ArgumentHelp(t("award.help.rulesJSON"))) var json = false
      func run() async throws {
        let r = try await AwardCommand.call(self.connection) {
          try await $0.getAwardRules(.with { $0.version = self.version }, options: self.connection.callOptions)
        }
        try AwardCommand.printRules(r, json: self.json)
      }
    }

    struct SetRules: AsyncParsableCommand {
      static let configuration = CommandConfiguration(
        commandName: "set", abstract: t("award.rules.set.abstract"),
        discussion: t("award.rules.set.discussion")
      )
      @OptionGroup var connection: ConnectionOptions
      @OptionGroup var mutation: MutationOptions
      @Argument(help: ArgumentHelp(t("award.help.file"))) var file: String
      func run() async throws {
        let text: String
        do { text = try String(contentsOfFile: self.file, encoding: .utf8) } catch {
          throw CLIError(exitCode: 64, message: t("award.error.read", self.file))
        }
        var options = JSONDecodingOptions()
        options.ignoreUnknownFields = true
        let request: Banjie_V1_SetAwardRulesRequest
        do { request = try Banjie_V1_SetAwardRulesRequest(jsonString: text, options: options) } catch {
          throw CLIError(exitCode: 65, message: t("award.error.notRules", self.file, "\(error)"))
        }
        let r = try await AwardCommand.call(self.connection) {
          try await $0.setAwardRules(request, metadata: self.mutation.metadata, options: self.connection.callOptions)
        }
        try AwardCommand.printRules(r, json: self.mutation.json)
      }
    }
  }

  static func printRules(_ r: Banjie_V1_AwardRuleSet, json: Bool) throws {
    if json {
      print(try r.jsonString(options: CaseOutput.jsonOptions))
      return
    }
    print(t("award.rules.header", r.version, r.name, CaseOutput.shortTime(r.createdAt), HumanText.by(r.createdBy)))
    var table = TextTable(
      t("award.rules.col.stars"), t("award.rules.col.handled"), t("award.rules.col.onTime"), t("award.rules.col.oneDay"),
      t("award.rules.col.good"), t("award.rules.col.unrated"), t("award.rules.col.unrectified"), t("award.rules.col.overdueDemands"))
    func limit(_ v: Int32) -> String { v < 0 ? "-" : String(v) }
    for l in r.levels {
      table.add([
        stars(l.stars), String(l.minHandled), String(l.minOnTimePercent), String(l.minOneDayPercent), String(l.minGoodPercent),
        String(l.maxUnratedPercent), limit(l.maxUnrectifiedBad), limit(l.maxOverdueDemands),
      ])
    }
    print(table.render())
  }
}

/// The certificate of a published award, as text and as one self-contained HTML page.
enum AwardCertificate {
  static func text(_ a: Banjie_V1_Award) -> String {
    var lines = [
      t("award.cert.heading"), t("award.cert.period", a.period, a.from, a.to, a.ruleSetVersion),
      t("award.cert.published", CaseOutput.shortTime(a.publishedAt), HumanText.by(a.publishedBy)),
    ]
    if a.revoked { lines.append(t("award.cert.revoked", a.revokeReason)) }
    for e in a.entries.sorted(by: { ($0.stars, $1.key) > ($1.stars, $0.key) }) {
      lines.append(
        t(
          "award.cert.entry", AwardCommand.stars(e.stars), AwardCommand.kindName(e.kind), e.name,
          e.name == e.key ? "" : t("award.cert.key", e.key), e.handled))
    }
    lines.append("sha256 \(a.digest)")
    return lines.joined(separator: "\n")
  }

  static func escape(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
      .replacingOccurrences(of: "\"", with: "&quot;")
  }

  static func html(_ a: Banjie_V1_Award) -> String {
    let rows = a.entries.sorted(by: { ($0.stars, $1.key) > ($1.stars, $0.key) }).map { e in
      "<tr><td class=\"s\">\(AwardCommand.stars(e.stars))</td><td>\(escape(AwardCommand.kindName(e.kind)))</td><td>\(escape(e.name))</td><td>\(escape(e.key))</td><td>\(e.handled)</td></tr>"
    }.joined(separator: "\n")
    let lang = Language.current == .zh ? "zh-CN" : "en"
    let title = t("award.cert.title")
    let meta = t(
      "award.html.meta", a.period, a.from, a.to, a.ruleSetVersion, CaseOutput.shortTime(a.publishedAt), HumanText.by(a.publishedBy))
    let revoked = a.revoked ? "<p class=\"revoked\">\(escape(t("award.cert.revoked", a.revokeReason)))</p>" : ""
    let headings = [
      t("award.col.stars"), t("award.col.unit"), t("award.col.name"), t("award.col.key"), t("award.html.cases"),
    ].map { "<th>\(escape($0))</th>" }.joined()
    return """
      <!DOCTYPE html>
      <html lang="\(lang)"><head><meta charset="utf-8"><title>\(escape(title)) \(escape(a.period))</title>
      <style>
      body{font-family:serif;background:#fdf8ee;margin:0;padding:2em}
      .cert{max-width:52em;margin:auto;border:6px double #a0522d;padding:2em;background:#fff}
      h1{text-align:center;color:#a0522d;letter-spacing:.3em}
      .meta{text-align:center;color:#555}
      table{width:100%;border-collapse:collapse;margin-top:1em}
      td,th{border-bottom:1px solid #ddd;padding:.3em .5em;text-align:left}
      .s{color:#c8102e;font-size:1.2em;white-space:nowrap}
      .revoked{color:#c8102e;font-weight:bold;text-align:center}
      .digest{font-family:monospace;font-size:.8em;color:#777;word-break:break-all;margin-top:1.5em}
      </style></head><body><div class="cert">
      <h1>\(escape(title))</h1>
      <p class="meta">\(escape(meta))</p>
      \(revoked)
      <table><tr>\(headings)</tr>
      \(rows)
      </table>
      <p class="digest">\(escape(t("award.html.digest", a.id, a.digest)))</p>
      </div></body></html>

      """
  }
}
