import ArgumentParser
import BanjieCore
import Foundation
import GRPCCore

@main
struct Banjie: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "banjie",
    abstract: t("root.abstract"),
    discussion: t("root.discussion"),
    version: BanjieVersion.current,
    subcommands: [
      Health.self, CaseCommand.self, AlertsCommand.self, CatalogCommand.self, CalendarCommand.self, AdminCommand.self,
      EnterpriseCommand.self, VisitCommand.self, DemandCommand.self, PolicyCommand.self, CoverageCommand.self,
      RateCommand.self, RatingCommand.self, RectificationCommand.self, ReviewCampaignCommand.self, AwardCommand.self, ExemplaryCommand.self,
      DashboardCommand.self, ReportCommand.self, Certs.self, ProfileCommand.self, SettingsCommand.self, SuperviseCommand.self,
      CountersignCommand.self,
      AppealCommand.self,
      ProposalCommand.self,
      TargetsCommand.self,
      WindowCommand.self, StaffCommand.self, LiaisonUnitCommand.self, RegistryCommand.self,
    ]
  )

  /// The one place errors become output: a `CLIError` (or an `RPCError`, converted to one) is
  /// printed as "banjie: <message>" on standard error and exits with its documented code;
  /// anything else (usage errors, `ExitCode`, help requests) is ArgumentParser's, with its
  /// headings in the user's language.
  static func main() async {
    let arguments: [String]
    do {
      let (language, rest) = try Language.resolve(
        arguments: Array(CommandLine.arguments.dropFirst()), environment: ProcessInfo.processInfo.environment,
        profileLang: ConnectionOptions.profileLanguage)
      Language.current = language
      arguments = rest
    } catch let error as LanguageError {
      FileHandle.standardError.write(Data("banjie: \(error.message)\n".utf8))
      Self.exit(withError: ExitCode(64))
    } catch {
      Self.exit(withError: error)
    }
    do {
      // As ArgumentParser's own `main()`: the async parse also serves async shell completions.
      var command = try await Self.asyncParseAsRoot(arguments)
      if var asyncCommand = command as? any AsyncParsableCommand {
        try await asyncCommand.run()
      } else {
        try command.run()
      }
    } catch let error as CLIError {
      Self.fail(error)
    } catch let error as RPCError {
      Self.fail(CLIError(rpc: error))
    } catch {
      Self.finish(error)
    }
  }

  private static func fail(_ error: CLIError) -> Never {
    FileHandle.standardError.write(Data("\(t("error.prefix"))\(error.message)\n".utf8))
    Self.exit(withError: ExitCode(error.exitCode))
  }

  /// ArgumentParser's own ending (help, version, usage errors), its fixed English headings put
  /// into the user's language.
  private static func finish(_ error: any Error) -> Never {
    let code = Self.exitCode(for: error)
    var message = Self.fullMessage(for: error)
    if Language.current != .en, !message.isEmpty {
      message = Self.localizeHelp(message)
    }
    if !message.isEmpty {
      let text = message + (message.hasSuffix("\n") ? "" : "\n")
      if code == .success {
        print(text, terminator: "")
      } else {
        FileHandle.standardError.write(Data(text.utf8))
      }
    }
    Foundation.exit(code.rawValue)
  }

  /// Replaces ArgumentParser's headings and fixed sentences with the catalogue's.
  static func localizeHelp(_ text: String) -> String {
    var text = text
    for heading in ["OVERVIEW", "USAGE", "ARGUMENTS", "OPTIONS", "SUBCOMMANDS"] {
      text = text.replacingOccurrences(of: "\(heading): ", with: t("help.\(heading)"))
      text = text.replacingOccurrences(of: "\(heading):", with: t("help.\(heading)"))
    }
    text = text.replacingOccurrences(of: "Show help information.", with: t("help.helpFlag"))
    text = text.replacingOccurrences(of: "Show the version.", with: t("help.versionFlag"))
    // "See 'banjie help case <subcommand>' for detailed help."
    if let start = text.range(of: "See '"), let end = text.range(of: "' for detailed help.", range: start.upperBound..<text.endIndex) {
      text.replaceSubrange(start.lowerBound..<end.upperBound, with: t("help.seeHelp", String(text[start.upperBound..<end.lowerBound])))
    }
    text = Self.replacing(text, #"The value '(.*?)' is invalid for '(.*?)': "#) { t("help.invalidValue", $0[0], $0[1], "") }
    text = Self.replacing(text, #"Missing expected argument '(.*?)'"#) { t("help.missingArgument", $0[0]) }
    text = Self.replacing(text, #"Missing expected option '(.*?)'"#) { t("help.missingOption", $0[0]) }
    text = Self.replacing(text, #"Unknown option '(.*?)'"#) { t("help.unknownOption", $0[0]) }
    text = Self.replacing(text, #"\. Did you mean '(.*?)'\?"#) { t("help.didYouMean", $0[0]) }
    text = Self.replacing(text, #"  See '(.*?)' for more information\."#) { t("help.seeMore", $0[0]) }
    text = text.replacingOccurrences(of: "\nHelp:  ", with: "\n" + t("help.short"))
    text = text.replacingOccurrences(of: "\nUsage: ", with: "\n" + t("help.usageShort"))
    if text.hasPrefix("Error: ") { text = t("error.usage", String(text.dropFirst("Error: ".count))) }
    return text
  }

  /// Replaces every match of `pattern` with `replacement(captures)`.
  private static func replacing(_ text: String, _ pattern: String, _ replacement: ([String]) -> String) -> String {
    guard let regex = try? NSRegularExpression(pattern: pattern) else { return text }
    var result = text
    for match in regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).reversed() {
      guard let whole = Range(match.range, in: result) else { continue }
      let captures = (1..<match.numberOfRanges).map { index in
        Range(match.range(at: index), in: text).map { String(text[$0]) } ?? ""
      }
      result.replaceSubrange(whole, with: replacement(captures))
    }
    return result
  }
}
