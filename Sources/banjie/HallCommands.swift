import ArgumentParser
import BanjieProto
import Foundation

/// 受理渠道 and 出件方式 as typed and shown: `window`, `online`, `mail`, `self-service`, or their
/// names in either language (窗口, 网上, 邮寄, 自助).
enum ChannelText {
  static let names: [(String, Banjie_V1_Channel)] = [
    ("window", .window), ("online", .online), ("mail", .mail), ("self-service", .selfService),
  ]

  static func parse(_ text: String) -> Banjie_V1_Channel? {
    let wanted = Normalize.text(text).lowercased().replacingOccurrences(of: "_", with: "-")
    for (name, channel) in Self.names
    where wanted == name || Language.allCases.contains(where: { Catalogue.text("channel.\(name)", [], language: $0) == wanted }) {
      return channel
    }
    return nil
  }

  static func name(_ channel: Banjie_V1_Channel) -> String {
    guard let name = Self.names.first(where: { $0.1 == channel })?.0 else { return "—" }
    return t("channel.\(name)")
  }
}

extension CaseCommand {
  /// 首问负责: the responsible clerk (or the office) hands the matter over to a registered staff member.
  struct HandOver: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "hand-over", abstract: t("case.handOver.abstract"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: CaseTarget
    @Option(name: .long, help: ArgumentHelp(t("case.help.handOverDepartment")), transform: Normalize.code) var department: String
    @Option(name: .long, help: ArgumentHelp(t("case.help.handOverPerson")), transform: Normalize.text) var person: String
    @Option(name: .long, help: ArgumentHelp(t("case.help.handOverNote")), transform: Normalize.text) var note: String

    func run() async throws {
      let request = Banjie_V1_HandOverRequest.with {
        $0.number = self.target.number
        $0.expectedVersion = self.target.ifVersion ?? 0
        $0.to = .with {
          $0.organization = self.department
          $0.person = self.person
        }
        $0.note = self.note
      }
      let result = try await self.connection.withClient { client, _, _ in
        try await Banjie_V1_CaseService.Client(wrapping: client).handOverCase(
          request, metadata: self.mutation.metadata, options: self.connection.callOptions)
      }
      try CaseOutput.printCase(result, json: self.mutation.json)
    }
  }

  /// 帮办代办: assigns a registered staff member to help an enterprise applicant, or removes them.
  struct Helper: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("case.helper.abstract"), discussion: t("case.helper.discussion"))
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var mutation: MutationOptions
    @OptionGroup var target: CaseTarget
    @Option(name: .long, help: ArgumentHelp(t("case.help.helperDepartment")), transform: Normalize.code) var department: String?
    @Option(name: .long, help: ArgumentHelp(t("case.help.helperPerson")), transform: Normalize.text) var person: String?
    @Flag(name: .long, help: ArgumentHelp(t("case.help.helperRemove"))) var remove = false
    @Option(name: .long, help: ArgumentHelp(t("case.help.note")), transform: Normalize.text) var note: String = ""

    func validate() throws {
      if self.remove {
        guard self.department == nil && self.person == nil else { throw ValidationError(t("case.error.helperRemoveWithPerson")) }
      } else {
        guard self.department != nil && self.person != nil else { throw ValidationError(t("case.error.helperPersonRequired")) }
      }
    }

    func run() async throws {
      let request = Banjie_V1_AssignHelperRequest.with {
        $0.number = self.target.number
        $0.expectedVersion = self.target.ifVersion ?? 0
        if !self.remove {
          $0.helper = .with {
            $0.organization = self.department ?? ""
            $0.person = self.person ?? ""
          }
        }
        $0.note = self.note
      }
      let result = try await self.connection.withClient { client, _, _ in
        try await Banjie_V1_CaseService.Client(wrapping: client).assignHelper(
          request, metadata: self.mutation.metadata, options: self.connection.callOptions)
      }
      try CaseOutput.printCase(result, json: self.mutation.json)
    }
  }
}
