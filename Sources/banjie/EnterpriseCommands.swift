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
    abstract: "The enterprise registry (暖企行动): register, assign liaison officials, import from CSV.",
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
      throw ValidationError("a liaison official is UNIT/NAME as on their certificate, e.g. 南旺镇人民政府/王强; got \"\(text)\"")
    }
    return .with {
      $0.organization = parts[0]
      $0.person = parts[1]
    }
  }

  struct Register: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Register an enterprise (office).")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Argument(help: "Unified social credit code (18 characters).") var uscc: String
    @Option(name: .long, help: "Registered name.") var name: String
    @Option(name: .long, help: "GB/T 4754 section, A–T (C is 制造业).") var industry: String
    @Option(name: .long, help: "large, medium, small or micro.") var scale: String
    @Option(name: .long, help: "Township (see `banjie enterprise townships`).") var township: String
    @Option(name: .long, help: "Contact as NAME:PHONE[:TITLE] (repeatable).") var contact: [String] = []
    @Option(name: .long, help: "Liaison official as UNIT/NAME (repeatable).") var liaison: [String] = []
    @Option(name: .long, help: "Register although the check character is wrong, for this written reason (audited).")
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
    static let configuration = CommandConfiguration(abstract: "Show an enterprise with its liaison officials and last visit.")
    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "USCC.") var uscc: String
    @Flag(name: .long, help: "Print JSON.") var json = false
    func run() async throws {
      let result = try await EnterpriseCommand.call(self.connection) {
        try await $0.getEnterprise(.with { $0.uscc = self.uscc }, options: self.connection.callOptions)
      }
      try EnterpriseOutput.printEnterprise(result, json: self.json)
    }
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List enterprises (liaisons see their own, enterprises themselves).")
    @OptionGroup var connection: ConnectionOptions
    @Option(name: .long, help: "Township.") var township: String?
    @Option(name: .long, help: "GB/T 4754 section.") var industry: String?
    @Option(name: .long, help: "Scale.") var scale: String?
    @Option(name: .long, help: "Only those assigned to UNIT/NAME.") var liaison: String?
    @Option(name: .long, help: "Enterprises per page (1-500).") var pageSize: UInt32 = 50
    @Option(name: .long, help: "Continue from a previous page's token.") var pageToken: String?
    @Flag(name: .long, help: "Print JSON.") var json = false
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
      var table = TextTable("uscc", "name", "industry", "scale", "township", "liaisons", "last visit")
      for e in result.enterprises {
        table.add([
          e.uscc, e.name, e.industry, e.scale, e.township, e.liaisons.map { "\($0.person)(\($0.organization))" }.joined(separator: "、"),
          e.lastVisitedOn.isEmpty ? "-" : e.lastVisitedOn,
        ])
      }
      print(table.render())
      print(
        Terminal.paint(
          "\(result.enterprises.count) of \(result.total) enterprises"
            + (result.nextPageToken.isEmpty ? "" : "; next page: --page-token \(result.nextPageToken)"), Terminal.dim))
    }
  }

  struct Assign: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Assign a liaison official (包保干部) to an enterprise, or --remove one (office).")
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Argument(help: "USCC.") var uscc: String
    @Option(name: .long, help: "Liaison official as UNIT/NAME, as on their certificate.") var liaison: String
    @Flag(name: .long, help: "Unassign instead.") var remove = false
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
    static let configuration = CommandConfiguration(abstract: "List the county's townships, or --add one (office).")
    @OptionGroup var connection: ConnectionOptions
    @Option(name: .long, help: "Add a township with this name.") var add: String?
    @Option(name: .long, help: "Its township code (with --add).") var code: String?
    @Flag(name: .long, help: "Print JSON.") var json = false
    func run() async throws {
      if let name = self.add {
        guard let code = self.code else { throw CLIError(exitCode: 64, message: "--add needs --code") }
        let added = try await EnterpriseCommand.call(self.connection) {
          try await $0.addTownship(
            .with {
              $0.name = name
              $0.code = code
            }, options: self.connection.callOptions)
        }
        print("added \(added.name) (\(added.code))")
        return
      }
      let result = try await EnterpriseCommand.call(self.connection) {
        try await $0.listTownships(.init(), options: self.connection.callOptions)
      }
      if self.json {
        print(try result.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      var table = TextTable("code", "township")
      for t in result.townships { table.add([t.code, t.name]) }
      print(table.render())
    }
  }

  struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Import enterprises from a CSV file in one streaming call (office).",
      discussion: """
        Header row, then one enterprise per row:
          uscc,name,industry,scale,township,contact_name,contact_phone,liaison_organization,liaison_person
        Good rows are kept and bad rows reported with their line numbers; a row identical to what
        is stored is "unchanged", so importing the same file twice changes nothing.
        """
    )
    @OptionGroup var connection: ConnectionOptions
    @Flag(name: .long, help: "Print JSON.") var json = false
    @Argument(help: "CSV file (UTF-8).") var file: String

    static let columns = [
      "uscc", "name", "industry", "scale", "township", "contact_name", "contact_phone", "liaison_organization", "liaison_person",
    ]

    func run() async throws {
      let text: String
      do { text = try String(contentsOfFile: self.file, encoding: .utf8) } catch {
        throw CLIError(exitCode: 64, message: "cannot read \(self.file): \(error.localizedDescription)")
      }
      var records = CSVReader.records(text)
      guard let header = records.first else { throw CLIError(exitCode: 64, message: "\(self.file) is empty") }
      records.removeFirst()
      let names = header.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
      var index: [String: Int] = [:]
      for column in Self.columns {
        if let i = names.firstIndex(of: column) { index[column] = i }
      }
      for required in ["uscc", "name", "industry", "scale", "township"] where index[required] == nil {
        throw CLIError(
          exitCode: 64, message: "\(self.file): the header has no \(required) column (expected \(Self.columns.joined(separator: ",")))")
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
            $0.parseError = "\(record.fields.count) fields where the header has \(names.count)"
          }
        }
      }
      let progress = ProgressBar(total: rows.count, label: "importing")
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
      print(
        "\(result.rows) rows: \(result.created) created, \(result.updated) updated, \(result.unchanged) unchanged, \(result.rejected) rejected"
      )
      if !result.problems.isEmpty {
        var table = TextTable("line", "field", "uscc", "reason")
        for p in result.problems { table.add([String(p.line), p.field, p.uscc, p.reason]) }
        print(table.render())
      }
      if result.rejected > 0 { throw ExitCode(65) }
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
      ("enterprise", "\(e.name) · \(e.uscc)"),
      ("industry", "\(e.industry) \(e.industryName)"),
      ("scale", e.scale),
      ("township", e.township),
      ("liaisons", e.liaisons.isEmpty ? "-" : e.liaisons.map { "\($0.person) (\($0.organization))" }.joined(separator: "、")),
      (
        "contacts",
        e.contacts.isEmpty
          ? "-" : e.contacts.map { "\($0.name) \($0.phone)" + ($0.title.isEmpty ? "" : " \($0.title)") }.joined(separator: "、")
      ),
      ("registered", CaseOutput.shortTime(e.registeredAt)),
      ("last visit", e.lastVisitedOn.isEmpty ? "never" : e.lastVisitedOn),
    ]
    if !e.checkOverrideReason.isEmpty { lines.append(("override", "check character not verified: \(e.checkOverrideReason)")) }
    for (label, value) in lines { print(pad(label, to: 11) + value) }
  }
}
