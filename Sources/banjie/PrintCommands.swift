import ArgumentParser
import BanjieConfig
import BanjieProto
import Foundation
import GRPCCore
import SwiftProtobuf

extension CaseCommand {
  /// `banjie case print`: one of the four documents a service hall hands the applicant
  /// (受理通知书, 一次性告知书, 不予受理决定书, 办结通知书) as one self-contained A4 HTML page
  /// and, through headless Chromium, a PDF. The document must fit the case's state (exit 65);
  /// files are replaced atomically (exit 73 when they cannot be); no Chromium for --pdf exits 72.
  struct Print: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "print", abstract: t("print.abstract"), discussion: t("print.discussion"))

    /// The documents, by their `--document` values.
    enum Document: String, CaseIterable, ExpressibleByArgument {
      case receipt, notice, refusal, completion
    }

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: ArgumentHelp(t("print.help.number")), transform: { Normalize.number($0) }) var number: String
    @Option(name: .long, help: ArgumentHelp(t("print.help.document"))) var document: Document
    @Option(name: .long, help: ArgumentHelp(t("print.help.html"), valueName: "FILE"), completion: .file(extensions: ["html"]))
    var html: String?
    @Option(name: .long, help: ArgumentHelp(t("print.help.pdf"), valueName: "FILE"), completion: .file(extensions: ["pdf"]))
    var pdf: String?
    @Option(name: .long, help: ArgumentHelp(t("print.help.issuer"), valueName: "NAME")) var issuer: String?

    func validate() throws {
      guard self.html != nil || self.pdf != nil else { throw ValidationError(t("print.error.noOutput")) }
      if let html = self.html, let pdf = self.pdf,
        URL(fileURLWithPath: html).standardizedFileURL == URL(fileURLWithPath: pdf).standardizedFileURL
      {
        throw ValidationError(t("print.error.samePath"))
      }
      if let issuer = self.issuer, Normalize.text(issuer).isEmpty { throw ValidationError(t("print.error.emptyIssuer")) }
    }

    func run() async throws {
      // Everything that can fail locally fails before the call: the files' folders, Chromium.
      for path in [self.html, self.pdf].compactMap({ $0 }) { try PrintFile.checkWritable(path) }
      var browser: String?
      if self.pdf != nil {
        guard let found = Chromium.find() else { throw CLIError(exitCode: 72, message: t("print.error.noChromium")) }
        browser = found
      }
      let (record, history) = try await self.connection.withClient { (client, _, _) -> (Banjie_V1_Case, Banjie_V1_GetCaseHistoryResponse) in
        let cases = Banjie_V1_CaseService.Client(wrapping: client)
        let record = try await cases.getCase(.with { $0.number = self.number }, options: self.connection.callOptions)
        let history = try await cases.getCaseHistory(.with { $0.number = self.number }, options: self.connection.callOptions)
        return (record, history)
      }
      try Self.checkFits(self.document, record)
      var printed = record
      if self.document == .receipt {
        // 评价码 (docs/DOMAIN.md §21): read for the receipt only, and audited; a caller who may not
        // read it gets a receipt without it.
        do {
          printed.ratingCode = try await self.connection.withClient { client, _, _ in
            try await Banjie_V1_CaseService.Client(wrapping: client).getRatingCode(
              .with { $0.number = self.number }, options: self.connection.callOptions
            ).ratingCode
          }
        } catch let error as RPCError where error.code == .permissionDenied {}
      }
      let page = CaseDocumentPage(
        document: self.document, record: printed, events: history.events, issuer: self.resolvedIssuer(), printedAt: Date()
      ).html()
      var pdfData: Data?
      if let browser { pdfData = try await Chromium.pdf(of: page, browser: browser) }
      if let html = self.html {
        try PrintFile.write(Data(page.utf8), to: html)
        print(t("print.wrote", html))
      }
      if let pdf = self.pdf, let pdfData {
        try PrintFile.write(pdfData, to: pdf)
        print(t("print.wrote", pdf))
      }
    }

    /// `--issuer`, else the profile's `issuer` key, else the county's service centre.
    func resolvedIssuer() -> String {
      if let issuer = self.issuer { return Normalize.text(issuer) }
      if let profile = self.connection.profile ?? ProcessInfo.processInfo.environment["BANJIE_PROFILE"],
        let text = try? String(contentsOfFile: ConnectionOptions.profilePath(profile), encoding: .utf8),
        let file = try? ConfigurationFile(parsing: text), case .string(let value)? = file.values["issuer"],
        !Normalize.text(value).isEmpty
      {
        return Normalize.text(value)
      }
      return t("print.defaultIssuer")
    }

    /// Whether `document` may be issued for a case in its present state.
    static func fits(_ document: Document, _ record: Banjie_V1_Case) -> Bool {
      switch document {
      case .receipt: return [.accepted, .suspended, .completed, .delivered].contains(record.state)
      case .notice: return record.state == .supplementRequested && !record.missingMaterials.isEmpty
      case .refusal: return record.state == .notAccepted
      case .completion: return record.state == .completed || record.state == .delivered
      }
    }

    /// Throws the usage-style refusal (exit 65) when the document does not fit the case,
    /// naming the documents that do.
    static func checkFits(_ document: Document, _ record: Banjie_V1_Case) throws {
      guard !Self.fits(document, record) else { return }
      let requirement: String
      switch document {
      case .receipt: requirement = t("print.require.receipt")
      case .notice: requirement = t("print.require.notice")
      case .refusal: requirement = t("print.require.refusal")
      case .completion: requirement = t("print.require.completion")
      }
      let fitting = Document.allCases.filter { Self.fits($0, record) }.map(\.rawValue)
      let hint = fitting.isEmpty ? t("print.error.nothingFits") : t("print.error.fits", fitting.joined(separator: " / "))
      let state = t("state.\(CaseOutput.stateName(record.state))")
      throw CLIError(exitCode: 65, message: t("print.error.wrongState", record.number, state, requirement, hint))
    }
  }
}

/// One document as a print-ready page: inline CSS, nothing outside itself, A4 with 20 mm
/// margins, every value escaped. The case number is printed large in a monospaced font
/// (there is no barcode or QR code).
private struct CaseDocumentPage {
  var document: CaseCommand.Print.Document
  var record: Banjie_V1_Case
  var events: [Banjie_V1_CaseEvent]
  var issuer: String
  var printedAt: Date

  func html() -> String {
    let c = self.record
    var body: [String] = []
    body.append("<header>")
    body.append("<div class=\"issuer\">\(esc(self.issuer))</div>")
    body.append("<h1>\(esc(self.title))</h1>")
    if let subtitle = self.subtitle { body.append("<div class=\"subtitle\">\(esc(subtitle))</div>") }
    body.append("<div class=\"docno\">\(esc(self.documentNumber))</div>")
    body.append("</header>")
    body.append(
      "<div class=\"number\"><span class=\"label\">\(esc(t("print.field.caseNumber")))</span>"
        + "<span class=\"value\">\(esc(c.number))</span></div>")
    body.append("<p class=\"to\">\(esc(t("print.to", c.applicant)))</p>")
    switch self.document {
    case .receipt: body.append(contentsOf: self.receiptBody())
    case .notice: body.append(contentsOf: self.noticeBody())
    case .refusal: body.append(contentsOf: self.refusalBody())
    case .completion: body.append(contentsOf: self.completionBody())
    }
    body.append(self.signatures())
    body.append(
      "<footer><span>\(esc(t("print.footer", self.issuer)))</span>"
        + "<span>\(esc(t("print.printedAt", Self.time(self.printedAt))))</span></footer>")
    return """
      <!DOCTYPE html>
      <html lang="\(esc(t("print.htmlLang")))"><head><meta charset="utf-8">
      <meta name="viewport" content="width=device-width, initial-scale=1">
      <title>\(esc(self.title)) \(esc(c.number))</title>
      <style>\(Self.css)</style>
      </head><body><div class="page">
      \(body.joined(separator: "\n"))
      </div></body></html>

      """
  }

  // MARK: The four documents

  private func receiptBody() -> [String] {
    let c = self.record
    let accepted = c.hasAcceptedAt ? Self.time(c.acceptedAt.date) : Self.time(self.issuedAt)
    let limit = Self.limit(c.limit)
    var out: [String] = []
    if c.hasSla && c.sla.hasDueAt {
      let due = Self.time(c.sla.dueAt.date)
      out.append(paragraph(t("print.receipt.body", Self.time(c.receivedAt.date), c.itemName, c.departmentName, accepted, limit, due)))
    } else {
      out.append(paragraph(t("print.receipt.bodyNoDue", Self.time(c.receivedAt.date), c.itemName, c.departmentName, accepted, limit)))
    }
    if c.deemedAccepted { out.append(paragraph(t("print.receipt.deemed"))) }
    if c.state == .suspended || (c.hasSla && c.sla.suspended) { out.append(paragraph(t("print.receipt.suspended"))) }
    var rows = self.commonRows()
    rows.append((t("print.field.received"), Self.time(c.receivedAt.date)))
    rows.append((t("print.field.accepted"), accepted))
    rows.append((t("print.field.limit"), limit))
    if c.hasSla && c.sla.hasDueAt { rows.append((t("print.field.due"), Self.time(c.sla.dueAt.date))) }
    if !c.ratingCode.isEmpty { rows.append((t("print.field.ratingCode"), c.ratingCode)) }
    out.append(Self.table(rows))
    out.append(paragraph(t("print.receipt.keep")))
    // 评价码 (docs/DOMAIN.md §21): the applicant rates later, once, at a rating pad or online.
    if !c.ratingCode.isEmpty { out.append(paragraph(t("print.receipt.ratingCode", c.ratingCode))) }
    return out
  }

  private func noticeBody() -> [String] {
    let c = self.record
    var out = [paragraph(t("print.notice.body", Self.time(c.receivedAt.date), c.itemName))]
    out.append("<div class=\"heading\">\(esc(t("print.field.missing")))</div>")
    out.append("<ol class=\"materials\">" + c.missingMaterials.map { "<li>\(esc($0))</li>" }.joined() + "</ol>")
    out.append(paragraph(t("print.notice.bring")))
    out.append(paragraph(t("print.notice.where", self.issuer, t("print.window", c.window), c.departmentName)))
    out.append(paragraph(t("print.notice.after")))
    var rows = self.commonRows()
    rows.append((t("print.field.received"), Self.time(c.receivedAt.date)))
    rows.append((t("print.field.noticed"), Self.time(self.issuedAt)))
    out.append(Self.table(rows))
    return out
  }

  private func refusalBody() -> [String] {
    let c = self.record
    var out = [paragraph(t("print.refusal.body", Self.time(c.receivedAt.date), c.itemName))]
    out.append(
      "<div class=\"reason\"><div class=\"heading\">\(esc(t("print.field.reason")))</div>"
        + "<div>\(esc(c.lastNote.isEmpty ? t("common.none") : c.lastNote))</div></div>")
    var rows = self.commonRows()
    rows.append((t("print.field.received"), Self.time(c.receivedAt.date)))
    rows.append((t("print.field.decided"), Self.time(self.issuedAt)))
    out.append(Self.table(rows))
    out.append("<p class=\"remedy\">\(esc(t("print.remedy")))</p>")
    return out
  }

  private func completionBody() -> [String] {
    let c = self.record
    let completed = c.hasCompletedAt ? Self.time(c.completedAt.date) : Self.time(self.issuedAt)
    let denied = c.outcome.lowercased() == "denied"
    var out = [paragraph(t("print.completion.body", c.itemName, completed, self.outcome))]
    var timeliness: [String] = []
    if c.hasSla && c.sla.completed {
      out.append(paragraph(c.sla.completedOnTime ? t("print.completion.onTime") : t("print.completion.late")))
      timeliness.append(c.sla.completedOnTime ? t("print.onTime") : t("print.late"))
      if c.sla.oneDayCompletion {
        out.append(paragraph(t("print.completion.oneDay")))
        timeliness.append(t("print.oneDay"))
      }
    }
    if c.state == .delivered && c.hasDeliveredAt {
      out.append(paragraph(t("print.completion.delivered", Self.time(c.deliveredAt.date))))
    } else {
      out.append(paragraph(t("print.completion.collect", self.issuer, t("print.window", c.window))))
    }
    var rows = self.commonRows()
    if c.hasAcceptedAt { rows.append((t("print.field.accepted"), Self.time(c.acceptedAt.date))) }
    rows.append((t("print.field.completed"), completed))
    rows.append((t("print.field.limit"), Self.limit(c.limit)))
    rows.append((t("print.field.outcome"), self.outcome))
    if !timeliness.isEmpty { rows.append((t("print.field.timeliness"), timeliness.joined(separator: " · "))) }
    rows.append((t("print.field.collect"), t("print.window", c.window)))
    if c.hasDeliveredAt { rows.append((t("print.field.delivered"), Self.time(c.deliveredAt.date))) }
    out.append(Self.table(rows))
    if denied { out.append("<p class=\"remedy\">\(esc(t("print.remedy")))</p>") }
    return out
  }

  // MARK: Parts

  private var title: String {
    switch self.document {
    case .receipt: return t("print.receipt.title")
    case .notice: return t("print.notice.title")
    case .refusal: return t("print.refusal.title")
    case .completion: return t("print.completion.title")
    }
  }

  private var subtitle: String? {
    switch self.document {
    case .receipt: return t("print.receipt.subtitle")
    case .notice: return t("print.notice.subtitle")
    case .refusal, .completion: return nil
    }
  }

  /// Fixed for a case and document: the year of the event the document records.
  private var documentNumber: String {
    let year = Self.format(self.issuedAt, "yyyy")
    switch self.document {
    case .receipt: return t("print.docno.receipt", year, self.record.number)
    case .notice: return t("print.docno.notice", year, self.record.number)
    case .refusal: return t("print.docno.refusal", year, self.record.number)
    case .completion: return t("print.docno.completion", year, self.record.number)
    }
  }

  /// The history action the document records.
  private var action: String {
    switch self.document {
    case .receipt: return "accept"
    case .notice: return "requestSupplement"
    case .refusal: return "refuse"
    case .completion: return "complete"
    }
  }

  private var event: Banjie_V1_CaseEvent? { self.events.last { $0.action == self.action && $0.hasAt } }

  /// When the recorded event happened: the document's date.
  private var issuedAt: Date {
    if self.document == .receipt && self.record.hasAcceptedAt { return self.record.acceptedAt.date }
    if self.document == .completion && self.record.hasCompletedAt { return self.record.completedAt.date }
    return self.event?.at.date ?? self.printedAt
  }

  private var outcome: String {
    switch self.record.outcome.lowercased() {
    case "approved": return t("outcome.APPROVED")
    case "denied": return t("outcome.DENIED")
    default: return self.record.outcome
    }
  }

  /// Item, department, applicant (and USCC), window: every document's first rows.
  private func commonRows() -> [(String, String)] {
    let c = self.record
    var rows: [(String, String)] = [
      (t("print.field.item"), c.itemCode.isEmpty ? c.itemName : t("print.itemWithCode", c.itemName, c.itemCode)),
      (t("print.field.department"), c.departmentName),
      (t("print.field.applicant"), c.applicant),
    ]
    if !c.enterpriseUscc.isEmpty { rows.append((t("print.field.uscc"), c.enterpriseUscc)) }
    rows.append((t("print.field.window"), t("print.window", c.window)))
    return rows
  }

  /// 经办人签字 and 申请人签字 with their date lines; 单位（盖章） with the issuer and the date.
  private func signatures() -> String {
    let officer = self.event.map(\.actorPerson) ?? ""
    let officerName = officer.isEmpty ? "" : "<div class=\"name\">\(esc(t("print.sign.officerName", officer)))</div>"
    return """
      <div class="signatures">
      <div class="signers">
      <div class="sign"><span>\(esc(t("print.sign.officer")))</span><span class="line"></span></div>\(officerName)
      <div class="date">\(esc(t("print.sign.date")))</div>
      <div class="sign"><span>\(esc(t("print.sign.applicant")))</span><span class="line"></span></div>
      <div class="date">\(esc(t("print.sign.date")))</div>
      </div>
      <div class="seal">
      <div class="stamp">\(esc(t("print.sign.stamp")))</div>
      <div class="body">\(esc(self.issuer))</div>
      <div>\(esc(t("print.sign.seal")))</div>
      <div>\(esc(Self.format(self.issuedAt, t("print.format.date"))))</div>
      </div>
      </div>
      """
  }

  private func paragraph(_ text: String) -> String { "<p>\(esc(text))</p>" }

  /// Label and value pairs, two to a line; the first `wide` pairs (item, department) take a
  /// whole line each.
  private static func table(_ rows: [(String, String)], wide: Int = 2) -> String {
    func cells(_ row: (String, String), span: Bool) -> String {
      "<th>\(esc(row.0))</th><td\(span ? " colspan=\"3\"" : "")>\(esc(row.1))</td>"
    }
    var lines = rows.prefix(wide).map { "<tr>\(cells($0, span: true))</tr>" }
    let rest = Array(rows.dropFirst(wide))
    for index in stride(from: 0, to: rest.count, by: 2) {
      let pair = index + 1 < rest.count ? cells(rest[index + 1], span: false) : "<th></th><td></td>"
      lines.append("<tr>\(cells(rest[index], span: false))\(pair)</tr>")
    }
    return "<table class=\"fields\">" + lines.joined() + "</table>"
  }

  /// "5 working days" (the server's English) in the document's language.
  static func limit(_ text: String) -> String {
    let parts = text.split(separator: " ")
    guard parts.count == 3, let count = Int(parts[0]), parts[1] == "working" else { return text }
    switch parts[2] {
    case "day", "days": return count == 1 ? t("print.limit.day") : t("print.limit.days", count)
    case "hour", "hours": return count == 1 ? t("print.limit.hour") : t("print.limit.hours", count)
    default: return text
    }
  }

  /// A time as the document prints it, in Asia/Shanghai.
  static func time(_ date: Date) -> String { Self.format(date, t("print.format.time")) }

  static func format(_ date: Date, _ pattern: String) -> String {
    let formatter = DateFormatter()
    formatter.timeZone = TimeZone(identifier: "Asia/Shanghai")
    formatter.locale = Locale(identifier: "en_US_POSIX")
    formatter.dateFormat = pattern
    return formatter.string(from: date)
  }

  /// A4, 20 mm margins; on screen the same page with its margins as padding (794 px wide).
  static let css = """
    @page { size: A4; margin: 20mm; }
    * { box-sizing: border-box; }
    html, body { margin: 0; padding: 0; background: #fff; color: #111; }
    body { font-family: "SimSun", "Songti SC", "Noto Serif CJK SC", "Source Han Serif SC", "WenQuanYi Micro Hei",
      "Noto Sans CJK SC", serif; font-size: 11pt; line-height: 1.5; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
    .page { width: 170mm; margin: 0 auto; }
    @media screen { .page { width: 210mm; padding: 20mm; } }
    header { text-align: center; border-bottom: 1.5pt solid #b3121a; padding-bottom: 2mm; margin-bottom: 3mm; }
    .issuer { color: #b3121a; font-size: 14pt; font-weight: bold; }
    h1 { font-family: "SimHei", "Noto Sans CJK SC", "WenQuanYi Micro Hei", sans-serif; font-size: 20pt; line-height: 1.3; margin: 1mm 0 0; }
    .subtitle { font-size: 11pt; }
    .docno { font-size: 10pt; margin-top: 1mm; }
    .number { display: flex; justify-content: space-between; align-items: center; border: 1.5pt solid #111; padding: 1.5mm 4mm;
      margin: 0 0 3mm; }
    .number .label { font-size: 10.5pt; }
    .number .value { font-family: "DejaVu Sans Mono", "Liberation Mono", "Noto Sans Mono", monospace; font-size: 22pt; line-height: 1.2;
      font-weight: bold; white-space: nowrap; }
    p { margin: 0 0 1.5mm; }
    html[lang="zh-CN"] p { text-indent: 2em; }
    p.to { text-indent: 0; font-weight: bold; }
    p.remedy { font-weight: bold; }
    .heading { font-weight: bold; margin: 1mm 0 0.5mm; }
    ol.materials { margin: 0 0 2mm; padding-left: 10mm; }
    .reason { border-left: 3pt solid #555; background: #f4f4f4; padding: 1.5mm 4mm; margin: 0 0 2mm; }
    table.fields { width: 100%; border-collapse: collapse; margin: 2mm 0; font-size: 10pt; line-height: 1.35; }
    table.fields th, table.fields td { border: 0.75pt solid #666; padding: 1mm 2mm; text-align: left; vertical-align: top; }
    table.fields th { width: 19%; background: #f2f2f2; font-weight: normal; }
    table.fields td { width: 31%; }
    .signatures { display: flex; justify-content: space-between; align-items: flex-end; margin-top: 4mm;
      break-inside: avoid; page-break-inside: avoid; }
    .signers { width: 55%; font-size: 10.5pt; }
    .sign { display: flex; align-items: flex-end; margin-top: 3mm; }
    .sign .line { flex: 1; border-bottom: 0.75pt solid #111; height: 6mm; margin-left: 2mm; }
    .name { font-size: 9pt; color: #444; }
    .date { margin-top: 1mm; }
    .seal { width: 40%; text-align: center; font-size: 10.5pt; line-height: 1.4; }
    .seal .stamp { width: 24mm; height: 24mm; margin: 0 auto 1mm; border: 1pt dashed #999; border-radius: 50%; color: #999;
      font-size: 9pt; display: flex; align-items: center; justify-content: center; }
    .seal .body { font-weight: bold; }
    footer { display: flex; justify-content: space-between; gap: 4mm; margin-top: 4mm; padding-top: 1mm;
      border-top: 0.5pt solid #999; font-size: 8.5pt; color: #444; }
    footer span:last-child { white-space: nowrap; }
    """
}

/// Text made safe to put into HTML, between tags or inside a quoted attribute.
private func esc(_ text: String) -> String {
  var out = ""
  out.reserveCapacity(text.count)
  for character in text {
    switch character {
    case "&": out += "&amp;"
    case "<": out += "&lt;"
    case ">": out += "&gt;"
    case "\"": out += "&quot;"
    case "'": out += "&#39;"
    default: out.append(character)
    }
  }
  return out
}

/// Headless Chromium, found on PATH, turning the page into a PDF.
private enum Chromium {
  static let timeoutSeconds = 120

  static func find() -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
    for name in ["chromium", "chromium-browser"] {
      for folder in path.split(separator: ":") where !folder.isEmpty {
        let candidate = "\(folder)/\(name)"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
      }
    }
    return nil
  }

  /// Renders `page` in a private temporary folder (its own profile too) and returns the PDF.
  static func pdf(of page: String, browser: String) async throws -> Data {
    let files = FileManager.default
    let work = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("banjie-print-\(UUID().uuidString)")
    let source = URL(fileURLWithPath: work.path + "/document.html")
    let output = URL(fileURLWithPath: work.path + "/document.pdf")
    let log = URL(fileURLWithPath: work.path + "/chromium.log")
    do {
      try files.createDirectory(at: work, withIntermediateDirectories: true)
      try Data(page.utf8).write(to: source)
      try Data().write(to: log)
    } catch {
      try? files.removeItem(at: work)
      throw CLIError(exitCode: 73, message: t("print.error.tempDir", error.localizedDescription))
    }
    defer { try? files.removeItem(at: work) }

    let process = Process()
    process.executableURL = URL(fileURLWithPath: browser)
    process.arguments = [
      "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer", "--print-to-pdf-no-header", "--no-first-run",
      "--no-default-browser-check", "--disable-extensions", "--user-data-dir=\(work.path)/profile",
      "--print-to-pdf=\(output.path)", source.absoluteString,
    ]
    let logHandle = try? FileHandle(forWritingTo: log)
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = logHandle ?? FileHandle.nullDevice
    process.standardError = logHandle ?? FileHandle.nullDevice
    defer { try? logHandle?.close() }

    // A hung browser is stopped after timeoutSeconds; the watchdog is cancelled once it ends.
    let watchdog = Task {
      try await Task.sleep(for: .seconds(Self.timeoutSeconds))
      if process.isRunning { process.terminate() }
    }
    let status: Int32
    do {
      status = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int32, any Error>) in
        process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
        do {
          try process.run()
        } catch {
          process.terminationHandler = nil
          continuation.resume(throwing: error)
        }
      }
    } catch {
      watchdog.cancel()
      throw CLIError(exitCode: 72, message: t("print.error.chromiumStart", browser, error.localizedDescription))
    }
    watchdog.cancel()
    if process.terminationReason == .uncaughtSignal {
      throw CLIError(exitCode: 70, message: t("print.error.chromiumKilled", Self.timeoutSeconds))
    }
    guard status == 0, let data = try? Data(contentsOf: output), data.starts(with: Array("%PDF".utf8)) else {
      throw CLIError(exitCode: 70, message: t("print.error.chromiumFailed", status, Self.lastLine(of: log)))
    }
    return data
  }

  /// The last line Chromium wrote, to say why it failed.
  static func lastLine(of log: URL) -> String {
    let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
    let line = text.split(whereSeparator: \.isNewline).last { !$0.allSatisfy(\.isWhitespace) }
    return line.map { String($0.prefix(300)) } ?? t("print.error.noDetail")
  }
}

/// The command's files: written to a temporary file in the same folder, flushed and renamed
/// over the target, so a reader sees the old file or the whole new one, never half of it.
/// Failures are one line in the user's language, exit 73 (EX_CANTCREAT).
private enum PrintFile {
  /// Fails early, before any call, when `path` is a folder or its folder is not writable.
  static func checkWritable(_ path: String) throws {
    let url = URL(fileURLWithPath: path)
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
      throw Self.failure(path, EISDIR)
    }
    if access(url.deletingLastPathComponent().path, W_OK) != 0 { throw Self.failure(path, errno) }
  }

  static func write(_ data: Data, to path: String) throws {
    let url = URL(fileURLWithPath: path)
    let temporary = url.deletingLastPathComponent().appendingPathComponent(
      ".\(url.lastPathComponent).\(UUID().uuidString.prefix(8).lowercased()).tmp"
    ).path
    let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    guard descriptor >= 0 else { throw Self.failure(path, errno) }
    var failure: Int32 = 0
    data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
      guard let base = raw.baseAddress else { return }
      var written = 0
      while written < raw.count {
        let result = Foundation.write(descriptor, base + written, raw.count - written)
        if result < 0 {
          if errno == EINTR { continue }
          failure = errno
          return
        }
        written += result
      }
    }
    if failure == 0 && fsync(descriptor) != 0 { failure = errno }
    if close(descriptor) != 0 && failure == 0 { failure = errno }
    if failure == 0 && rename(temporary, url.path) != 0 { failure = errno }
    if failure != 0 {
      unlink(temporary)
      throw Self.failure(path, failure)
    }
  }

  static func failure(_ path: String, _ code: Int32) -> CLIError {
    let reason: String
    switch code {
    case EACCES, EPERM: reason = t("print.errno.access")
    case ENOENT: reason = t("print.errno.noDirectory")
    case ENOTDIR: reason = t("print.errno.notDirectory")
    case EISDIR: reason = t("print.errno.isDirectory")
    case EROFS: reason = t("print.errno.readOnly")
    case ENOSPC, EDQUOT: reason = t("print.errno.noSpace")
    default: reason = String(cString: strerror(code))
    }
    return CLIError(exitCode: 73, message: t("print.error.cannotWrite", path, reason))
  }
}
