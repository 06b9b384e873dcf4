import ArgumentParser
import BanjieProto
import BanjieTransport
import Foundation
import GRPCCore
import SwiftProtobuf

/// The hall's registry (docs/DOMAIN.md §18), served by CatalogService: the office registers
/// windows (窗口), their staff (工作人员) and liaison units (包保单位); anyone lists windows and
/// liaison units, clerks and the office list staff.
enum Registry {
  typealias Client = Banjie_V1_CatalogService.Client<BanjieClientTransport>

  static func call<R: Sendable>(_ connection: ConnectionOptions, _ body: (Client) async throws -> R) async throws -> R {
    try await connection.withClient { client, _, _ in try await body(Client(wrapping: client)) }
  }

  static func windowsTable(_ windows: [Banjie_V1_ServiceWindow]) -> TextTable {
    var table = TextTable(
      t("registry.col.code"), t("registry.col.name"), t("registry.col.hall"), t("registry.col.comprehensive"),
      t("registry.col.departments"))
    for w in windows {
      table.add([
        w.code, w.name, w.hall, t(w.comprehensive ? "common.yes" : "common.no"),
        w.departmentCodes.isEmpty ? "—" : w.departmentCodes.joined(separator: ", "),
      ])
    }
    return table
  }

  static func windowsCSV(_ windows: [Banjie_V1_ServiceWindow]) -> CSVTable {
    var table = CSVTable(["code", "name", "hall", "comprehensive", "department_codes"])
    for w in windows {
      table.add([w.code, w.name, w.hall, LedgerCSV.flag(w.comprehensive), LedgerCSV.joined(w.departmentCodes)])
    }
    return table
  }

  static func staffCSV(_ staff: [Banjie_V1_StaffMember]) -> CSVTable {
    var table = CSVTable(["organization", "person", "window_codes"])
    for s in staff { table.add([s.organization, s.person, LedgerCSV.joined(s.windowCodes)]) }
    return table
  }

  static func liaisonUnitsCSV(_ units: [Banjie_V1_LiaisonUnit]) -> CSVTable {
    var table = CSVTable(["name", "township"])
    for u in units { table.add([u.name, u.township]) }
    return table
  }
}

// MARK: window

struct WindowCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "window",
    abstract: t("registry.window.abstract"),
    subcommands: [Add.self, List.self]
  )

  struct Add: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: t("registry.window.add.abstract"),
      discussion: t("registry.window.add.discussion"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Argument(help: ArgumentHelp(t("registry.help.windowCode")), transform: Normalize.code) var code: String
    @Option(name: .long, help: ArgumentHelp(t("registry.help.windowName")), transform: Normalize.text) var name: String
    @Option(name: .long, help: ArgumentHelp(t("registry.help.hall")), transform: Normalize.text) var hall: String
    @Flag(name: .long, help: ArgumentHelp(t("registry.help.comprehensive"))) var comprehensive = false
    @Option(name: .long, help: ArgumentHelp(t("registry.help.department")), transform: Normalize.code) var department: [String] = []
    func validate() throws {
      if !self.comprehensive && self.department.isEmpty { throw ValidationError(t("registry.error.needsDepartment")) }
    }
    func run() async throws {
      let result = try await Registry.call(self.connection) {
        try await $0.upsertWindow(
          .with {
            $0.code = self.code
            $0.name = self.name
            $0.hall = self.hall
            $0.comprehensive = self.comprehensive
            $0.departmentCodes = self.department
          }, metadata: self.mutation.metadata, options: self.connection.callOptions)
      }
      if self.mutation.json {
        print(try result.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      print(t(result.version == 1 ? "registry.window.added" : "registry.window.updated", result.code, result.name, result.version))
      print(Registry.windowsTable([result]).render())
    }
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("registry.window.list.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @Flag(name: .long, help: ArgumentHelp(t("output.help.json"))) var json = false
    @Flag(name: .long, help: ArgumentHelp(t("output.help.csv"))) var csv = false
    func validate() throws {
      if self.json && self.csv { throw ValidationError(t("output.error.jsonAndCSV")) }
    }
    func run() async throws {
      let result = try await Registry.call(self.connection) {
        try await $0.listWindows(.init(), options: self.connection.callOptions)
      }
      if self.json {
        print(try result.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      if self.csv {
        Registry.windowsCSV(result.windows).print()
        return
      }
      if result.windows.isEmpty {
        print(t("registry.window.none"))
        return
      }
      print(Registry.windowsTable(result.windows).render())
    }
  }
}

// MARK: staff

struct StaffCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "staff",
    abstract: t("registry.staff.abstract"),
    subcommands: [Assign.self, List.self]
  )

  struct Assign: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: t("registry.staff.assign.abstract"),
      discussion: t("registry.staff.assign.discussion"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Option(name: .long, help: ArgumentHelp(t("registry.help.org")), transform: Normalize.code) var org: String
    @Option(name: .long, help: ArgumentHelp(t("registry.help.person")), transform: Normalize.text) var person: String
    @Option(name: .long, help: ArgumentHelp(t("registry.help.window")), transform: Normalize.code) var window: String
    @Flag(name: .long, help: ArgumentHelp(t("registry.help.remove"))) var remove = false
    func run() async throws {
      let result = try await Registry.call(self.connection) {
        try await $0.assignStaff(
          .with {
            $0.organization = self.org
            $0.person = self.person
            $0.windowCode = self.window
            $0.remove = self.remove
          }, metadata: self.mutation.metadata, options: self.connection.callOptions)
      }
      if self.mutation.json {
        print(try result.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      print(t(self.remove ? "registry.staff.removed" : "registry.staff.assigned", result.person, result.organization, self.window))
      let windows = result.windowCodes.isEmpty ? t("common.none") : result.windowCodes.joined(separator: ", ")
      print(t("registry.staff.windows", windows))
    }
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("registry.staff.list.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @Option(name: .long, help: ArgumentHelp(t("registry.help.windowFilter")), transform: Normalize.code) var window: String?
    @Option(name: .long, help: ArgumentHelp(t("registry.help.orgFilter")), transform: Normalize.code) var org: String?
    @Flag(name: .long, help: ArgumentHelp(t("output.help.json"))) var json = false
    @Flag(name: .long, help: ArgumentHelp(t("output.help.csv"))) var csv = false
    func validate() throws {
      if self.json && self.csv { throw ValidationError(t("output.error.jsonAndCSV")) }
    }
    func run() async throws {
      let result = try await Registry.call(self.connection) {
        try await $0.listStaff(
          .with {
            $0.windowCode = self.window ?? ""
            $0.organization = self.org ?? ""
          }, options: self.connection.callOptions)
      }
      if self.json {
        print(try result.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      if self.csv {
        Registry.staffCSV(result.staff).print()
        return
      }
      if result.staff.isEmpty {
        print(t("registry.staff.none"))
        return
      }
      var table = TextTable(t("registry.col.department"), t("registry.col.person"), t("registry.col.windows"))
      for s in result.staff { table.add([s.organization, s.person, s.windowCodes.joined(separator: ", ")]) }
      print(table.render())
    }
  }
}

// MARK: liaison units

struct LiaisonUnitCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "liaison-unit",
    abstract: t("registry.liaisonUnit.abstract"),
    subcommands: [Add.self, List.self]
  )

  struct Add: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("registry.liaisonUnit.add.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Argument(help: ArgumentHelp(t("registry.help.unitName")), transform: Normalize.text) var name: String
    @Option(name: .long, help: ArgumentHelp(t("registry.help.township")), transform: Normalize.text) var township: String
    func run() async throws {
      let result = try await Registry.call(self.connection) {
        try await $0.upsertLiaisonUnit(
          .with {
            $0.name = self.name
            $0.township = self.township
          }, metadata: self.mutation.metadata, options: self.connection.callOptions)
      }
      if self.mutation.json {
        print(try result.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      print(t("registry.liaisonUnit.added", result.name, result.township))
    }
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("registry.liaisonUnit.list.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @Flag(name: .long, help: ArgumentHelp(t("output.help.json"))) var json = false
    @Flag(name: .long, help: ArgumentHelp(t("output.help.csv"))) var csv = false
    func validate() throws {
      if self.json && self.csv { throw ValidationError(t("output.error.jsonAndCSV")) }
    }
    func run() async throws {
      let result = try await Registry.call(self.connection) {
        try await $0.listLiaisonUnits(.init(), options: self.connection.callOptions)
      }
      if self.json {
        print(try result.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      if self.csv {
        Registry.liaisonUnitsCSV(result.units).print()
        return
      }
      if result.units.isEmpty {
        print(t("registry.liaisonUnit.none"))
        return
      }
      var table = TextTable(t("registry.col.unit"), t("registry.col.township"))
      for u in result.units { table.add([u.name, u.township]) }
      print(table.render())
    }
  }
}

// MARK: registry: rating pads and department heads (docs/DOMAIN.md §21)

struct RegistryCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "registry",
    abstract: t("registry.abstract"),
    discussion: t("registry.discussion"),
    subcommands: [DeviceCommand.self, HeadCommand.self]
  )
}

extension Registry {
  static func devicesTable(_ devices: [Banjie_V1_RatingDevice]) -> TextTable {
    var table = TextTable(t("registry.col.device"), t("registry.col.window"), t("registry.col.registered"), t("registry.col.retired"))
    for d in devices {
      table.add([
        d.deviceID, d.windowCode, CaseOutput.shortTime(d.registeredAt), d.hasRetiredAt ? CaseOutput.shortTime(d.retiredAt) : "—",
      ])
    }
    return table
  }

  static func devicesCSV(_ devices: [Banjie_V1_RatingDevice]) -> CSVTable {
    var table = CSVTable(["device_id", "window_code", "registered_at", "retired_at"])
    for d in devices {
      table.add([d.deviceID, d.windowCode, LedgerCSV.time(d.hasRegisteredAt, d.registeredAt), LedgerCSV.time(d.hasRetiredAt, d.retiredAt)])
    }
    return table
  }

  static func headsCSV(_ heads: [Banjie_V1_DepartmentHead]) -> CSVTable {
    var table = CSVTable(["department_code", "person", "assigned_at"])
    for h in heads { table.add([h.departmentCode, h.person, LedgerCSV.time(h.hasAssignedAt, h.assignedAt)]) }
    return table
  }
}

struct DeviceCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "device",
    abstract: t("registry.device.abstract"),
    discussion: t("registry.device.discussion"),
    subcommands: [Add.self, Retire.self, List.self]
  )

  struct Add: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("registry.device.add.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Argument(help: ArgumentHelp(t("registry.help.deviceID")), transform: Normalize.code) var id: String
    @Option(name: .long, help: ArgumentHelp(t("registry.help.deviceWindow")), transform: Normalize.code) var window: String
    func run() async throws {
      let result = try await Registry.call(self.connection) {
        try await $0.registerRatingDevice(
          .with {
            $0.deviceID = self.id
            $0.windowCode = self.window
          }, metadata: self.mutation.metadata, options: self.connection.callOptions)
      }
      if self.mutation.json {
        print(try result.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      print(t("registry.device.added", result.deviceID, result.windowCode))
      print(t("registry.device.certificate", result.windowCode, result.deviceID))
    }
  }

  struct Retire: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("registry.device.retire.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Argument(help: ArgumentHelp(t("registry.help.deviceID")), transform: Normalize.code) var id: String
    func run() async throws {
      let result = try await Registry.call(self.connection) {
        try await $0.retireRatingDevice(
          .with { $0.deviceID = self.id }, metadata: self.mutation.metadata, options: self.connection.callOptions)
      }
      if self.mutation.json {
        print(try result.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      print(t("registry.device.retired", result.deviceID, result.windowCode, CaseOutput.shortTime(result.retiredAt)))
    }
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("registry.device.list.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @Option(name: .long, help: ArgumentHelp(t("registry.help.deviceWindowFilter")), transform: Normalize.code) var window: String?
    @Flag(name: .long, help: ArgumentHelp(t("registry.help.deviceAll"))) var all = false
    @Flag(name: .long, help: ArgumentHelp(t("output.help.json"))) var json = false
    @Flag(name: .long, help: ArgumentHelp(t("output.help.csv"))) var csv = false
    func validate() throws {
      if self.json && self.csv { throw ValidationError(t("output.error.jsonAndCSV")) }
    }
    func run() async throws {
      let result = try await Registry.call(self.connection) {
        try await $0.listRatingDevices(
          .with {
            $0.windowCode = self.window ?? ""
            $0.includeRetired = self.all
          }, options: self.connection.callOptions)
      }
      if self.json {
        print(try result.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      if self.csv {
        Registry.devicesCSV(result.devices).print()
        return
      }
      if result.devices.isEmpty {
        print(t("registry.device.none"))
        return
      }
      print(Registry.devicesTable(result.devices).render())
    }
  }
}

struct HeadCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "head",
    abstract: t("registry.head.abstract"),
    discussion: t("registry.head.discussion"),
    subcommands: [Add.self, Remove.self, List.self]
  )

  /// Assigns or removes a head and prints what changed.
  static func assign(_ connection: ConnectionOptions, _ mutation: MutationOptions, department: String, person: String, remove: Bool)
    async throws
  {
    let result = try await Registry.call(connection) {
      try await $0.assignDepartmentHead(
        .with {
          $0.departmentCode = department
          $0.person = person
          $0.remove = remove
        }, metadata: mutation.metadata, options: connection.callOptions)
    }
    if mutation.json {
      print(try result.jsonString(options: CaseOutput.jsonOptions))
      return
    }
    print(t(remove ? "registry.head.removed" : "registry.head.added", result.person, result.departmentCode))
  }

  struct Add: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("registry.head.add.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Option(name: .long, help: ArgumentHelp(t("registry.help.headDepartment")), transform: Normalize.code) var department: String
    @Option(name: .long, help: ArgumentHelp(t("registry.help.headPerson")), transform: Normalize.text) var person: String
    func run() async throws {
      try await HeadCommand.assign(self.connection, self.mutation, department: self.department, person: self.person, remove: false)
    }
  }

  struct Remove: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("registry.head.remove.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @Option(name: .long, help: ArgumentHelp(t("registry.help.headDepartment")), transform: Normalize.code) var department: String
    @Option(name: .long, help: ArgumentHelp(t("registry.help.headPerson")), transform: Normalize.text) var person: String
    func run() async throws {
      try await HeadCommand.assign(self.connection, self.mutation, department: self.department, person: self.person, remove: true)
    }
  }

  struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("registry.head.list.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @Option(name: .long, help: ArgumentHelp(t("registry.help.headDepartmentFilter")), transform: Normalize.code) var department: String?
    @Flag(name: .long, help: ArgumentHelp(t("output.help.json"))) var json = false
    @Flag(name: .long, help: ArgumentHelp(t("output.help.csv"))) var csv = false
    func validate() throws {
      if self.json && self.csv { throw ValidationError(t("output.error.jsonAndCSV")) }
    }
    func run() async throws {
      let result = try await Registry.call(self.connection) {
        try await $0.listDepartmentHeads(.with { $0.departmentCode = self.department ?? "" }, options: self.connection.callOptions)
      }
      if self.json {
        print(try result.jsonString(options: CaseOutput.jsonOptions))
        return
      }
      if self.csv {
        Registry.headsCSV(result.heads).print()
        return
      }
      if result.heads.isEmpty {
        print(t("registry.head.none"))
        return
      }
      var table = TextTable(t("registry.col.department"), t("registry.col.head"), t("registry.col.assigned"))
      for h in result.heads { table.add([h.departmentCode, h.person, CaseOutput.shortTime(h.assignedAt)]) }
      print(table.render())
    }
  }
}
