import ArgumentParser

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
    version: "0.1.0",
    subcommands: [Health.self, CaseCommand.self, AlertsCommand.self, CatalogCommand.self, CalendarCommand.self, AdminCommand.self,
      EnterpriseCommand.self, VisitCommand.self, DemandCommand.self, PolicyCommand.self, CoverageCommand.self,
      RateCommand.self, RatingCommand.self, RectificationCommand.self, ReviewCampaignCommand.self, AwardCommand.self, ExemplaryCommand.self, DashboardCommand.self, ReportCommand.self, SeedCommand.self, Certs.self]
  )
}
