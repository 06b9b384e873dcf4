import BanjieCore
import BanjieProto
import BanjieStore
import GRPCCore

/// Departments and service items: anyone reads; the office manages.
struct CatalogService: Banjie_V1_CatalogService.SimpleServiceProtocol {
  let env: ServerEnvironment

  func listDepartments(request: Banjie_V1_ListDepartmentsRequest, context: ServerContext) async throws -> Banjie_V1_ListDepartmentsResponse
  {
    _ = try Caller.of(context)
    let departments = try await self.env.store.departments()
    return .with {
      $0.departments = departments.map { d in
        .with {
          $0.code = d.code
          $0.name = d.name
        }
      }
    }
  }

  func listServiceItems(request: Banjie_V1_ListServiceItemsRequest, context: ServerContext) async throws
    -> Banjie_V1_ListServiceItemsResponse
  {
    _ = try Caller.of(context)
    let department = request.departmentCode
    let items = try await self.env.store.serviceItems(department: department)
    return .with { $0.items = items.map(\.proto) }
  }

  func upsertDepartment(request: Banjie_V1_Department, context: ServerContext) async throws -> Banjie_V1_Department {
    _ = try await self.importCatalog(request: .with { $0.departments = [request] }, context: context)
    return request
  }

  func upsertServiceItem(request: Banjie_V1_ServiceItem, context: ServerContext) async throws -> Banjie_V1_ServiceItem {
    _ = try await self.importCatalog(request: .with { $0.items = [request] }, context: context)
    return request
  }

  func importCatalog(request: Banjie_V1_ImportCatalogRequest, context: ServerContext) async throws -> Banjie_V1_ImportCatalogResponse {
    let caller = try Caller.of(context)
    try caller.require(.office, action: "change the catalog")
    guard request.departments.count + request.items.count <= 10_000 else {
      throw DomainError(kind: .invalidArgument, code: "catalog.too_large")
    }
    let departments = request.departments.map { DepartmentRecord(code: $0.code, name: $0.name) }
    let items = try request.items.map { try ServiceItemRecord(proto: $0) }
    let env = self.env
    let (d, i) = try await env.store.importCatalog(departments: departments, items: items, actor: caller.actor, now: env.now.now)
    return .with {
      $0.departmentsWritten = UInt32(d)
      $0.itemsWritten = UInt32(i)
    }
  }
}
