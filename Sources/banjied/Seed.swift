import ArgumentParser
import BanjieCore
import BanjieServer
import BanjieStore
import Foundation
import Synchronization

/// `banjied seed`: fills a database file with a generated county year. Local: it opens the file
/// itself, so run it with the server stopped.
struct Seed: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "seed", abstract: "Generate a realistic county year of cases, ratings, visits and demands into a database file.",
    discussion: """
      A local tool for demos and for measuring the dashboard at scale: it writes the SQLite file
      directly (stop banjied first). The year ends at --until (default: now). The same --seed
      gives the same data. Example: banjied seed --database /tmp/year.sqlite --cases 1000000
      """)

  @Option(name: .long, help: "The SQLite database file (created when missing).") var database: String
  @Option(name: .long, help: "How many cases.") var cases: Int = 10_000
  @Option(name: .long, help: "Enterprises in the registry (default: one per 200 cases, 50 to 20,000).") var enterprises: Int?
  @Option(name: .long, help: "The end of the generated year, e.g. 2026-11-30T17:30:00+08:00 (default: now).") var until: String?
  @Option(name: .long, help: "The random seed.") var seed: UInt64 = 1
  @Option(name: .long, help: "The catalog to import when the file has none.") var catalog: String = "catalog/sample-county.json"

  func validate() throws {
    guard (1...20_000_000).contains(self.cases) else { throw ValidationError("--cases must be between 1 and 20,000,000") }
    if let n = self.enterprises, !(1...1_000_000).contains(n) { throw ValidationError("--enterprises must be between 1 and 1,000,000") }
  }

  func run() async throws {
    var until = Date()
    if let text = self.until {
      do { until = try ISO8601Instant.parse(text, field: "until") } catch {
        throw ValidationError("--until must be an ISO 8601 instant with an offset, such as 2026-11-30T17:30:00+08:00, not \(text)")
      }
    }
    let catalogJSON = try? String(contentsOfFile: self.catalog, encoding: .utf8)
    let progress = SeedProgress(label: "seeding")
    let started = Date()
    let summary: SeedSummary
    do {
      summary = try await Seeding.run(
        databasePath: self.database, catalogJSON: catalogJSON,
        options: SeedOptions(cases: self.cases, until: until, seed: self.seed, enterprises: self.enterprises)
      ) { done, total in
        progress.update(done, of: total)
      }
    } catch let error as DomainError {
      FileHandle.standardError.write(Data("banjied seed: \(error.message)\n".utf8))
      throw ExitCode(1)
    }
    let seconds = Date().timeIntervalSince(started)
    print(
      """
      seeded \(self.database) in \(String(format: "%.1f", seconds)) s:
        cases \(summary.cases) (\(summary.openCases) open), enterprises \(summary.enterprises), ratings \(summary.ratings), \
      rectifications \(summary.rectifications), visits \(summary.visits), demands \(summary.demands)
      """)
  }
}

/// Seeding progress as one line on standard error per tenth done ("seeding: 40% (400000/1000000
/// cases)"), written only when standard error is a terminal, so that scripts stay quiet.
final class SeedProgress: Sendable {
  private let label: String
  private let enabled: Bool
  /// The last tenth reported.
  private let lastTenth = Mutex<Int>(0)

  init(label: String) {
    self.label = label
    self.enabled = isatty(STDERR_FILENO) != 0
  }

  func update(_ done: Int, of total: Int) {
    guard self.enabled, total > 0 else { return }
    let tenth = min(10, max(0, done * 10 / total))
    self.lastTenth.withLock { lastTenth in
      guard tenth > lastTenth else { return }
      lastTenth = tenth
      FileHandle.standardError.write(Data("\(self.label): \(tenth * 10)% (\(done)/\(total) cases)\n".utf8))
    }
  }
}
