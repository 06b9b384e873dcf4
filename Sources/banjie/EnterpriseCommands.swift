import ArgumentParser
import BanjieCore
import BanjieProto
import BanjieTransport
import Foundation
import GRPCCore
import SwiftProtobuf
import Synchronization

/// The enterprise registry of the warm-enterprise campaign (暖企行动).
struct EnterpriseCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "enterprise",
    abstract: t("enterprise.abstract"),
    subcommands: [Register.self, Show.self, List.self, Assign.self, Import.self, Townships.self]
  )

  typealias Client = Banjie_V1_EnterpriseService.Client<BanjieClientTransport>

  static func call<R: Sendable>(_ connection: ConnectionOptions, _ body: (Client) async throws -> R) async throws -> R {
    try await connection.withClient { client, _, _ in try await body(Client(wrapping: client)) }
  }

  /// "单位/姓名" → (unit, name).
  static func liaison(_ text: String) throws -> Banjie_V1_LiaisonOfficial {
    let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
    guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
      throw ValidationError(t("enterprise.error.liaison", text))
    }
    return .with {
      $0.organization = parts[0]
      $0.person = parts[1]
    }
  }

  struct Register: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("enterprise.register.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Argument(help: ArgumentHelp(t("enterprise.help.uscc")), transform: Normalize.code) var uscc: String
    @Option(name: .long, help: ArgumentHelp(t("enterprise.help.name")), transform: Normalize.text) var name: String
    @Option(name: .long, help: ArgumentHelp(t("enterprise.help.industry")), transform: Normalize.code) var industry: String
    @Option(name: .long, help: ArgumentHelp(t("enterprise.help.scale"))) var scale: String
    @Option(name: .long, help: ArgumentHelp(t("enterprise.help.township")), transform: Normalize.text) var township: String
    @Option(name: .long, help: ArgumentHelp(t("enterprise.help.contact"))) var contact: [String] = []
    @Option(name: .long, help: ArgumentHelp(t("enterprise.help.liaison"))) var liaison: [String] = []
    @Option(name: .long, help: ArgumentHelp(t("enterprise.help.checkOverrideReason")))
    var checkOverrideReason: String?

    func run() async throws {
      let liaisons = try self.liaison.map(EnterpriseCommand.liaison)
      let contacts: [Banjie_V1_Contact] = self.contact.map { text in
        let parts = text.split(separator: ":", maxSplits: 2).map(String.init)
        return .with {
          $0.name = parts[0]
          $0.phone = parts.count > 1 ? parts[1] : ""
          $0.title = parts.count > 2 ? parts[2] : ""
        }
      }
      let request = Banjie_V1_RegisterEnterpriseRequest.with {
        $0.uscc = self.uscc
        $0.name = self.name
        $0.industry = self.industry
        $0.scale = self.scale
        $0.township = self.township
        $0.contacts = contacts
        $0.liaisons = liaisons
        $0.checkOverrideReason = self.checkOverrideReason ?? ""
      }
      let result = try await EnterpriseCommand.call(self.connection) {
        try await $0.registerEnterprise(request, metadata: self.mutation.metadata, options: self.connection.callOptions)
      }
      try EnterpriseOutput.printEnterprise(result, json: self.mutation.json)
    }
  }

  struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("enterprise.show.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: ArgumentHelp(t("enterprise.help.usccShort")), transform: Normalize.code) var uscc: String
    @Flag(name: .long, help: ArgumentHelp(t("enterprise.help.json"))) var json = false
    func run() async throws {
      let result = try await EnterpriseCommand.call(self.connection) {
        try await $0.getEnterprise(.with { $0.uscc = self.uscc }, options: self.connection.callOptions)
      }
      try EnterpriseOutput.printEnterprise(result, json: self.json)
    }
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("enterprise.list.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @Option(name: .long, help: ArgumentHelp(t("enterprise.help.filterTownship"))) var township: String?
    @Option(name: .long, help: ArgumentHelp(t("enterprise.help.filterIndustry"))) var industry: String?
    @Option(name: .long, help: ArgumentHelp(t("enterprise.help.filterScale"))) var scale: String?
    @Option(name: .long, help: ArgumentHelp(t("enterprise.help.filterLiaison"))) var liaison: String?
    @Option(name: .long, help: ArgumentHelp(t("enterprise.help.pageSize"))) var pageSize: UInt32 = 50
    @Option(name: .long, help: ArgumentHelp(t("enterprise.help.pageToken"))) var pageToken: String?
    @Flag(name: .long, help: ArgumentHelp(t("enterprise.help.json"))) var json = false
    @Flag(name: .long, help: ArgumentHelp(t("output.help.csv"))) var csv = false
    func validate() throws {
      if self.json && self.csv { throw ValidationError(t("output.error.jsonAndCSV")) }
    }
    func run() async throws {
      var request = Banjie_V1_ListEnterprisesRequest()
      request.township = self.township ?? ""
      request.industry = self.industry ?? ""
      request.scale = self.scale ?? ""
      if let liaison = self.liaison { request.liaison = try EnterpriseCommand.liaison(liaison) }
      request.page = .with {
        $0.pageSize = self.pageSize
        $0.pageToken = self.pageToken ?? ""
      }
      let finalRequest = request
      let result = try await EnterpriseCommand.call(self.connection) {
        try await $0.listEnterprises(finalRequest, options: self.connection.callOptions)
      }
      if self.json {
        print(try result.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      if self.csv {
        LedgerCSV.enterprises(result.enterprises).print()
        return
      }
      var table = TextTable(
        t("enterprise.col.uscc"), t("enterprise.col.name"), t("enterprise.col.industry"), t("enterprise.col.scale"),
        t("enterprise.col.township"), t("enterprise.col.liaisons"), t("enterprise.col.lastVisit"))
      for e in result.enterprises {
        table.add([
          e.uscc, e.name, e.industry, EnterpriseOutput.scaleName(e.scale), e.township,
          e.liaisons.map { "\($0.person)(\($0.organization))" }.joined(separator: "、"),
          e.lastVisitedOn.isEmpty ? "-" : e.lastVisitedOn,
        ])
      }
      print(table.render())
      print(
        Terminal.paint(
          t("enterprise.list.count", result.enterprises.count, result.total)
            + (result.nextPageToken.isEmpty ? "" : t("enterprise.nextPage", result.nextPageToken)), Terminal.dim))
    }
  }

  struct Assign: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: t("enterprise.assign.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Argument(help: ArgumentHelp(t("enterprise.help.usccShort")), transform: Normalize.code) var uscc: String
    @Option(name: .long, help: ArgumentHelp(t("enterprise.help.assignLiaison"))) var liaison: String
    @Flag(name: .long, help: ArgumentHelp(t("enterprise.help.remove"))) var remove = false
    func run() async throws {
      let official = try EnterpriseCommand.liaison(self.liaison)
      let result = try await EnterpriseCommand.call(self.connection) {
        try await $0.assignLiaison(
          .with {
            $0.uscc = self.uscc
            $0.liaison = official
            $0.remove = self.remove
          }, metadata: self.mutation.metadata, options: self.connection.callOptions)
      }
      try EnterpriseOutput.printEnterprise(result, json: self.mutation.json)
    }
  }

  struct Townships: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("enterprise.townships.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @Option(name: .long, help: ArgumentHelp(t("enterprise.help.add"))) var add: String?
    @Option(name: .long, help: ArgumentHelp(t("enterprise.help.code"))) var code: String?
    @Flag(name: .long, help: ArgumentHelp(t("enterprise.help.json"))) var json = false
    @Flag(name: .long, help: ArgumentHelp(t("output.help.csv"))) var csv = false
    func validate() throws {
      if self.json && self.csv { throw ValidationError(t("output.error.jsonAndCSV")) }
    }
    func run() async throws {
      if let name = self.add {
        guard let code = self.code else { throw CLIError(exitCode: 64, message: t("enterprise.error.addNeedsCode")) }
        let added = try await EnterpriseCommand.call(self.connection) {
          try await $0.addTownship(
            .with {
              $0.name = name
              $0.code = code
            }, options: self.connection.callOptions)
        }
        print(t("enterprise.townships.added", added.name, added.code))
        return
      }
      let result = try await EnterpriseCommand.call(self.connection) {
        try await $0.listTownships(.init(), options: self.connection.callOptions)
      }
      if self.json {
        print(try result.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      if self.csv {
        LedgerCSV.townships(result.townships).print()
        return
      }
      var table = TextTable(t("enterprise.col.code"), t("enterprise.col.township"))
      for township in result.townships { table.add([township.code.isEmpty ? "—" : township.code, township.name]) }
      print(table.render())
    }
  }

  struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: t("enterprise.import.abstract"),
      discussion: t("enterprise.import.discussion")
    )
    @OptionGroup var connection: ConnectionOptions
    @Flag(name: .long, help: ArgumentHelp(t("enterprise.help.json"))) var json = false
    @Argument(help: ArgumentHelp(t("enterprise.help.file"))) var file: String

    static let columns = [
      "uscc", "name", "industry", "scale", "township", "contact_name", "contact_phone", "liaison_organization", "liaison_person",
    ]

    func run() async throws {
      let text: String
      do { text = try String(contentsOfFile: self.file, encoding: .utf8) } catch {
        throw CLIError(exitCode: 64, message: t("enterprise.error.cannotRead", self.file, error.localizedDescription))
      }
      var records = CSVReader.records(text)
      guard let header = records.first else { throw CLIError(exitCode: 64, message: t("enterprise.error.emptyFile", self.file)) }
      records.removeFirst()
      let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
      var index: [String: Int] = [:]
      for column in Self.columns {
        if let i = names.firstIndex(of: column) { index[column] = i }
      }
      for required in ["uscc", "name", "industry", "scale", "township"] where index[required] == nil {
        throw CLIError(
          exitCode: 64, message: t("enterprise.error.missingColumn", self.file, required, Self.columns.joined(separator: ",")))
      }
      let rows: [Banjie_V1_ImportEnterpriseRow] = records.map { record in
        func field(_ column: String) -> String {
          guard let i = index[column], i < record.fields.count else { return "" }
          return record.fields[i].trimmingCharacters(in: .whitespaces)
        }
        return .with {
          $0.line = UInt32(record.line)
          $0.uscc = field("uscc")
          $0.name = field("name")
          $0.industry = field("industry")
          $0.scale = field("scale")
          $0.township = field("township")
          $0.contactName = field("contact_name")
          $0.contactPhone = field("contact_phone")
          $0.liaisonOrganization = field("liaison_organization")
          $0.liaisonPerson = field("liaison_person")
          if let problem = record.problem {
            $0.parseError = problem
          } else if record.fields.count != names.count {
            $0.parseError = t("enterprise.import.fieldCount", record.fields.count, names.count)
          }
        }
      }
      let progress = ProgressBar(total: rows.count, label: t("enterprise.import.progress"))
      let result = try await EnterpriseCommand.call(self.connection) { client in
        try await client.importEnterprises(
          request: StreamingClientRequest { writer in
            for (i, row) in rows.enumerated() {
              try await writer.write(row)
              progress.update(i + 1)
            }
          }, options: self.connection.callOptions)
      }
      progress.finish()
      if self.json {
        print(try result.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      print(t("enterprise.import.summary", result.rows, result.created, result.updated, result.unchanged, result.rejected))
      if !result.problems.isEmpty {
        var table = TextTable(t("enterprise.col.line"), t("enterprise.col.field"), t("enterprise.col.uscc"), t("enterprise.col.reason"))
        for p in result.problems { table.add([String(p.line), p.field, p.uscc, p.reason]) }
        print(table.render())
      }
      // Rows that were stored are stored: a partial import succeeds (exit 0) and lists the
      // rejected lines above; only an import that stored nothing is refused (exit 65).
      if result.rejected > 0 && result.created + result.updated + result.unchanged == 0 { throw ExitCode(65) }
    }
  }
}

/// A progress bar on standard error, drawn only when it is a terminal.
final class ProgressBar: Sendable {
  private let total: Int
  private let label: String
  private let enabled: Bool
  /// The percentage last drawn; the lock also keeps two updates from interleaving their writes.
  private let lastDrawn = Mutex<Int>(-1)

  init(total: Int, label: String) {
    self.total = max(total, 1)
    self.label = label
    self.enabled = isatty(STDERR_FILENO) != 0
  }

  func update(_ done: Int) {
    guard self.enabled else { return }
    let percent = done * 100 / self.total
    self.lastDrawn.withLock { lastDrawn in
      guard percent != lastDrawn else { return }
      lastDrawn = percent
      let width = 30
      let filled = max(0, min(width, width * done / self.total))
      let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
      FileHandle.standardError.write(Data("\r\(self.label) \(bar) \(percent)% (\(done)/\(self.total))".utf8))
    }
  }

  func finish() {
    guard self.enabled else { return }
    FileHandle.standardError.write(Data("\n".utf8))
  }
}

enum EnterpriseOutput {
  static func printEnterprise(_ e: Banjie_V1_Enterprise, json: Bool) throws {
    if json {
      print(try e.jsonString(options: CaseOutput.jsonOptions))
      return
    }
    var lines: [(String, String)] = [
      (t("enterprise.field.enterprise"), "\(e.name) · \(e.uscc)"),
      (t("enterprise.field.industry"), "\(e.industry) \(e.industryName)"),
      (t("enterprise.field.scale"), scaleName(e.scale)),
      (t("enterprise.field.township"), e.township),
      (
        t("enterprise.field.liaisons"),
        e.liaisons.isEmpty ? "-" : e.liaisons.map { "\($0.person) (\($0.organization))" }.joined(separator: "、")
      ),
      (
        t("enterprise.field.contacts"),
        e.contacts.isEmpty
          ? "-" : e.contacts.map { "\($0.name) \($0.phone)" + ($0.title.isEmpty ? "" : " \($0.title)") }.joined(separator: "、")
      ),
      (t("enterprise.field.registered"), CaseOutput.shortTime(e.registeredAt)),
      (t("enterprise.field.lastVisit"), e.lastVisitedOn.isEmpty ? t("enterprise.never") : e.lastVisitedOn),
    ]
    if !e.checkOverrideReason.isEmpty {
      lines.append((t("enterprise.field.override"), t("enterprise.overrideValue", e.checkOverrideReason)))
    }
    printLabelled(lines, width: 11)
  }

  /// Label–value lines, the values aligned at `width` columns or one past the widest label.
  static func printLabelled(_ lines: [(String, String)], width: Int) {
    let column = max(width, (lines.map { displayWidth($0.0) }.max() ?? 0) + 1)
    for (label, value) in lines { print(pad(label, to: column) + value) }
  }

  /// The catalogue's text for `key`, or `fallback` for a value the catalogue does not know.
  static func label(_ key: String, or fallback: String) -> String {
    Catalogue.en[key] == nil ? fallback : t(key)
  }

  /// "small" → 小型 (or "small" in English); an unknown scale as it is.
  static func scaleName(_ scale: String) -> String { label("enterprise.scale.\(scale)", or: scale) }

  /// A colour as people read it (绿/黄/红), "-" for none.
  static func colourName(_ colour: Banjie_V1_Colour) -> String {
    switch colour {
    case .green: t("colour.green")
    case .yellow: t("colour.yellow")
    case .red: t("colour.red")
    default: "-"
    }
  }
}
