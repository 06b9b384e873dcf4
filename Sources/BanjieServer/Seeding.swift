import BanjieCore
import BanjieProto
public import BanjieStore
import Foundation

/// `banjied seed`: a local tool that fills a database file with a generated county year, for
/// demos and for measuring the dashboard at scale. It imports the catalog first when the file has
/// none, and works on the same calendar the server would use.
public enum Seeding {
  public static func run(
    databasePath: String, catalogJSON: String?, options: SeedOptions, regionCode: String = "370830",
    progress: @escaping @Sendable (Int, Int) -> Void
  ) async throws -> SeedSummary {
    let store = try BanjieStore(path: databasePath)
    if try await !store.hasCatalog() {
      guard let catalogJSON else {
        throw DomainError(kind: .failedPrecondition, code: "seed.no_catalog", messageKey: "seed.no_catalog#option")
      }
      let request = try Banjie_V1_ImportCatalogRequest(jsonString: catalogJSON)
      let items = try request.items.map { try ServiceItemRecord(proto: $0) }
      _ = try await store.importCatalog(
        departments: request.departments.map { DepartmentRecord(code: $0.code, name: $0.name) }, items: items,
        actor: Actor(role: .system, organization: "seed", person: "banjie seed"), now: options.until)
    }
    let environment = try await ServerEnvironment(store: store, regionCode: regionCode)
    let clock = environment.sla
    return try await runBlockingIO(on: DispatchQueue(label: "banjie.seed")) {
      try store.seed(options, clock: clock, regionCode: regionCode, progress: progress)
    }
  }
}
