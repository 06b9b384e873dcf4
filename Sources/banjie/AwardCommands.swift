import ArgumentParser
import BanjieProto
import BanjieTransport
import Foundation
import GRPCCore
import SwiftProtobuf

/// 星级服务: `banjie award preview|publish|revoke|list|show|certificate|rules show|rules set`.
struct AwardCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "award", abstract: "Star-service awards (星级服务): preview, publish and revoke a period's stars; rule sets.",
    discussion: "A period is a month (2026-11), a quarter (2026-Q4) or a year (2026), in Asia/Shanghai days. Rules: docs/AWARDS.md.",
    subcommands: [Preview.self, Publish.self, Revoke.self, List.self, Show.self, Certificate.self, Rules.self])

  typealias Client = Banjie_V1_AwardService.Client<BanjieClientTransport>

  static func call<R: Sendable>(_ connection: ConnectionOptions, _ body: (Client) async throws -> R) async throws -> R {
    try await connection.withClient { client, _, _ in try await body(Client(wrapping: client)) }
  }

  static func stars(_ n: UInt32) -> String { String(repeating: "★", count: Int(n)) + String(repeating: "☆", count: max(0, 5 - Int(n))) }

  static func percent(_ share: Double, of whole: UInt32) -> String { whole == 0 ? "-" : String(format: "%.1f", share * 100) }

  static func table(_ entries: [Banjie_V1_AwardScores]) -> String {
    var table = TextTable(
      "unit", "key", "name", "stars", "handled", "on time %", "one-day %", "good %", "unrated %", "差评", "unrectified", "overdue demands",
      "short of next")
    for e in entries {
      table.add([
        e.kind, e.key, e.name, stars(e.stars), String(e.handled), percent(e.onTimeShare, of: e.handled),
        percent(e.oneDayShare, of: e.handled),
        percent(e.goodShare, of: e.rated), percent(e.unratedShare, of: e.handled), String(e.bad), String(e.unrectifiedBad),
        e.kind == "department" ? String(e.overdueDemands) : "-", e.shortOfNext,
      ])
    }
    return table.render()
  }

  static func printAward(_ a: Banjie_V1_Award, json: Bool) throws {
    if json {
      print(try a.jsonString(options: CaseOutput.jsonOptions))
      return
    }
    print("award \(a.id) · period \(a.period) (\(a.from) to \(a.to)) · rule set v\(a.ruleSetVersion)")
    print("published \(CaseOutput.shortTime(a.publishedAt)) by \(a.publishedBy) · sha256 \(a.digest)")
    if a.revoked {
      print(Terminal.paint("REVOKED \(CaseOutput.shortTime(a.revokedAt)) by \(a.revokedBy): \(a.revokeReason)", Terminal.dim))
    }
    if !a.entries.isEmpty { print(table(a.entries)) }
  }

  struct Preview: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Compute a period's stars under the current rule set, without storing them (office).")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "Period: 2026-11, 2026-Q4 or 2026.") var period: String
    @Flag(name: .long, help: "Print JSON.") var json = false
    func run() async throws {
      let p = try await AwardCommand.call(self.connection) {
        try await $0.previewAwards(.with { $0.period = self.period }, options: self.connection.callOptions)
      }
      if self.json {
        print(try p.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      print(AwardCommand.table(p.entries))
      print(
        Terminal.paint(
          "preview of \(p.period) (\(p.from) to \(p.to)) under rule set v\(p.rules.version) \(p.rules.name); not published", Terminal.dim))
    }
  }

  struct Publish: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Publish an immutable snapshot of a period's stars (office).")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Argument(help: "Period: 2026-11, 2026-Q4 or 2026.") var period: String
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
      abstract: "Revoke a published award with a reason, so the period can be published again (office).")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Argument(help: "Award id.") var id: Int64
    @Option(name: .long, help: "Why it is revoked.") var reason: String
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
    static let configuration = CommandConfiguration(abstract: "The history of published awards, newest first.")
    @OptionGroup var connection: ConnectionOptions
    @Flag(name: .long, help: "Print JSON.") var json = false
    func run() async throws {
      let r = try await AwardCommand.call(self.connection) { try await $0.listAwards(.init(), options: self.connection.callOptions) }
      if self.json {
        print(try r.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      var table = TextTable("id", "period", "rules", "published", "by", "state", "sha256")
      for a in r.awards {
        table.add([
          String(a.id), a.period, "v\(a.ruleSetVersion)", CaseOutput.shortTime(a.publishedAt), a.publishedBy,
          a.revoked ? "revoked: \(a.revokeReason)" : "live", String(a.digest.prefix(16)),
        ])
      }
      print(table.render())
    }
  }

  struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show a published award with its scores and stars.")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "Award id.") var id: Int64
    @Flag(name: .long, help: "Print JSON.") var json = false
    func run() async throws {
      let a = try await AwardCommand.call(self.connection) {
        try await $0.getAward(.with { $0.id = self.id }, options: self.connection.callOptions)
      }
      try AwardCommand.printAward(a, json: self.json)
    }
  }

  struct Certificate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print an award's certificate as text; --html writes a self-contained page.")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "Award id.") var id: Int64
    @Option(name: .long, help: "Write the certificate as one HTML file (inline CSS, no external assets).") var html: String?
    func run() async throws {
      let a = try await AwardCommand.call(self.connection) {
        try await $0.getAward(.with { $0.id = self.id }, options: self.connection.callOptions)
      }
      print(AwardCertificate.text(a))
      if let html = self.html {
        do { try Data(AwardCertificate.html(a).utf8).write(to: URL(fileURLWithPath: html)) } catch {
          throw CLIError(exitCode: 64, message: "cannot write \(html): \(error.localizedDescription)")
        }
        print(Terminal.paint("wrote \(html)", Terminal.dim))
      }
    }
  }

  struct Rules: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Award rule sets: show the current (or a given) version; set a new version from a JSON file.",
      subcommands: [ShowRules.self, SetRules.self])

    struct ShowRules: AsyncParsableCommand {
      static let configuration = CommandConfiguration(commandName: "show", abstract: "Show a rule set (default: the current one).")
      @OptionGroup var connection: ConnectionOptions
      @Option(name: .long, help: "Rule set version.") var version: Int64 = 0
      @Flag(name: .long, help: "Print JSON (usable as input to `rules set`).") var json = false
      func run() async throws {
        let r = try await AwardCommand.call(self.connection) {
          try await $0.getAwardRules(.with { $0.version = self.version }, options: self.connection.callOptions)
        }
        try AwardCommand.printRules(r, json: self.json)
      }
    }

    struct SetRules: AsyncParsableCommand {
      static let configuration = CommandConfiguration(
        commandName: "set", abstract: "Store a new rule set version from FILE (office).",
        discussion:
          "FILE is JSON: {\"name\": \"…\", \"levels\": [{\"stars\": 5, \"minHandled\": 30, \"minOnTimePercent\": 98, …}, …]}; -1 means no limit for the maxima."
      )
      @OptionGroup var connection: ConnectionOptions
      @OptionGroup var mutation: MutationOptions
      @Argument(help: "JSON file.") var file: String
      func run() async throws {
        let text: String
        do { text = try String(contentsOfFile: self.file, encoding: .utf8) } catch {
          throw CLIError(exitCode: 64, message: "cannot read \(self.file)")
        }
        var options = JSONDecodingOptions()
        options.ignoreUnknownFields = true
        let request: Banjie_V1_SetAwardRulesRequest
        do { request = try Banjie_V1_SetAwardRulesRequest(jsonString: text, options: options) } catch {
          throw CLIError(exitCode: 65, message: "\(self.file) is not a rule set: \(error)")
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
    print("rule set v\(r.version) · \(r.name) · \(CaseOutput.shortTime(r.createdAt)) by \(r.createdBy)")
    var table = TextTable(
      "stars", "handled ≥", "on time ≥ %", "one-day ≥ %", "good ≥ %", "unrated ≤ %", "unrectified 差评 ≤", "overdue demands ≤")
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
      "星级服务证书 · Star-service certificate", "period \(a.period) (\(a.from) to \(a.to)) · rule set v\(a.ruleSetVersion)",
      "published \(CaseOutput.shortTime(a.publishedAt)) by \(a.publishedBy)",
    ]
    if a.revoked { lines.append("REVOKED: \(a.revokeReason)") }
    for e in a.entries.sorted(by: { ($0.stars, $1.key) > ($1.stars, $0.key) }) {
      lines.append("  \(AwardCommand.stars(e.stars))  \(e.kind) \(e.name)\(e.name == e.key ? "" : " (\(e.key))") · \(e.handled) cases")
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
      "<tr><td class=\"s\">\(AwardCommand.stars(e.stars))</td><td>\(escape(e.kind))</td><td>\(escape(e.name))</td><td>\(escape(e.key))</td><td>\(e.handled)</td></tr>"
    }.joined(separator: "\n")
    return """
      <!DOCTYPE html>
      <html lang="zh-CN"><head><meta charset="utf-8"><title>星级服务证书 \(escape(a.period))</title>
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
      <h1>星级服务证书</h1>
      <p class="meta">\(escape(a.period)) (\(escape(a.from)) – \(escape(a.to))) · rule set v\(a.ruleSetVersion) · published \(escape(CaseOutput.shortTime(a.publishedAt))) by \(escape(a.publishedBy))</p>
      \(a.revoked ? "<p class=\"revoked\">REVOKED: \(escape(a.revokeReason))</p>" : "")
      <table><tr><th>stars</th><th>unit</th><th>name</th><th>key</th><th>cases</th></tr>
      \(rows)
      </table>
      <p class="digest">award \(a.id) · SHA-256 \(escape(a.digest))</p>
      </div></body></html>

      """
  }
}
