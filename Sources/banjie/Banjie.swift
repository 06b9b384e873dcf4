import ArgumentParser
import BanjieCore
import Foundation
import GRPCCore

@main
struct Banjie: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "banjie",
    abstract: "banjie's command-line client: service-hall windows, enterprises, liaison officials and the office.",
    discussion: """
      Connection: --server/--ca/--cert/--key, or BANJIE_SERVER, BANJIE_CA, BANJIE_CERT, BANJIE_KEY,
      or --profile NAME (a file ~/.config/banjie/NAME.profile, or a path).

      Exit codes: 0 success · 64 bad usage · 65 the server refused the request (invalid argument,
      failed precondition, not found, already exists, stale version) · 69 server unreachable or
      deadline exceeded · 70 internal error · 77 permission denied or not authenticated.
      """,
    version: BanjieVersion.current,
    subcommands: [
      Health.self, CaseCommand.self, AlertsCommand.self, CatalogCommand.self, CalendarCommand.self, AdminCommand.self,
      EnterpriseCommand.self, VisitCommand.self, DemandCommand.self, PolicyCommand.self, CoverageCommand.self,
      RateCommand.self, RatingCommand.self, RectificationCommand.self, ReviewCampaignCommand.self, AwardCommand.self, ExemplaryCommand.self,
      DashboardCommand.self, ReportCommand.self, Certs.self,
    ]
  )

  /// The one place errors become output: a `CLIError` (or an `RPCError`, converted to one) is
  /// printed as "banjie: <message>" on standard error and exits with its documented code;
  /// anything else (usage errors, `ExitCode`, help requests) goes to ArgumentParser as usual.
  static func main() async {
    do {
      // As ArgumentParser's own `main()`: the async parse also serves async shell completions.
      var command = try await Self.asyncParseAsRoot()
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
      Self.exit(withError: error)
    }
  }

  private static func fail(_ error: CLIError) -> Never {
    FileHandle.standardError.write(Data("banjie: \(error.message)\n".utf8))
    Self.exit(withError: ExitCode(error.exitCode))
  }
}
