import BanjieCore
import BanjieProto
public import BanjieStore
import Foundation
import GRDB

/// `banjie seed`: a local tool that fills a database file with a generated county year, for
/// demos and for measuring the dashboard at scale. It imports the catalog first when the file has
/// none, and works on the same calendar the server would use.
public enum Seeding {
  public static func run(
    databasePath: String, catalogJSON: String?, options: SeedOptions, regionCode: String = "370830",
    progress: @escaping @Sendable (Int, Int) -> Void
  ) throws -> SeedSummary {
    let store = try BanjieStore(path: databasePath)
    let hasCatalog = try store.pool.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM service_items") ?? 0 } > 0
    if !hasCatalog {
      guard let catalogJSON else {
        throw DomainError(kind: .failedPrecondition, code: "seed.no_catalog", message: "the database has no catalog: give --catalog FILE")
      }
      let request = try Banjie_V1_ImportCatalogRequest(jsonString: catalogJSON)
      let items = try request.items.map { try ServiceItemRecord(proto: $0) }
      _ = try store.importCatalog(departments: request.departments.map { DepartmentRecord(code: $0.code, name: $0.name) }, items: items,
        actor: Actor(role: .system, organization: "seed", person: "banjie seed"), now: options.until)
    }
    let environment = try ServerEnvironment(store: store, regionCode: regionCode)
    return try store.seed(options, clock: environment.sla, regionCode: regionCode, progress: progress)
  }
}
