import BanjieCore
import BanjieProto
import BanjieStore
import GRPCCore

/// Departments and service items, and the hall's registry (windows, staff, liaison units):
/// anyone reads (staff: clerks and the office); the office manages.
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

  // MARK: Registry (docs/DOMAIN.md §18)

  func listWindows(request: Banjie_V1_ListWindowsRequest, context: ServerContext) async throws -> Banjie_V1_ListWindowsResponse {
    _ = try Caller.of(context)
    let windows = try await self.env.store.windows()
    return .with { $0.windows = windows.map(\.proto) }
  }

  func upsertWindow(request: Banjie_V1_ServiceWindow, context: ServerContext) async throws -> Banjie_V1_ServiceWindow {
    let caller = try Caller.of(context)
    try caller.require(.office, action: "register windows")
    let new = try NewWindow.parse(
      code: request.code, name: request.name, hall: request.hall, comprehensive: request.comprehensive,
      departments: request.departmentCodes)
    let env = self.env
    let key = caller.idempotencyKey
    let stored = try await env.store.upsertWindow(new, actor: caller.actor, now: env.now.now, key: key)
    env.logger.info("window registered", metadata: ["window": "\(stored.code)", "version": "\(stored.version)"])
    return stored.proto
  }

  func listStaff(request: Banjie_V1_ListStaffRequest, context: ServerContext) async throws -> Banjie_V1_ListStaffResponse {
    let caller = try Caller.of(context)
    try caller.require(.clerk, .office, action: "list window staff")
    let window = request.windowCode.isEmpty ? nil : WindowCode.normalize(request.windowCode)
    let organization = request.organization.isEmpty ? nil : request.organization
    let staff = try await self.env.store.staff(window: window, organization: organization)
    return .with { $0.staff = staff.map(\.proto) }
  }

  func assignStaff(request: Banjie_V1_AssignStaffRequest, context: ServerContext) async throws -> Banjie_V1_StaffMember {
    let caller = try Caller.of(context)
    try caller.require(.office, action: "assign window staff")
    let env = self.env
    let key = caller.idempotencyKey
    let member = try await env.store.assignStaff(
      organization: String(request.organization.trimmingWhitespace()), person: String(request.person.trimmingWhitespace()),
      window: request.windowCode, remove: request.remove, actor: caller.actor, now: env.now.now, key: key)
    return member.proto
  }

  func listLiaisonUnits(request: Banjie_V1_ListLiaisonUnitsRequest, context: ServerContext) async throws
    -> Banjie_V1_ListLiaisonUnitsResponse
  {
    _ = try Caller.of(context)
    let units = try await self.env.store.liaisonUnits()
    return .with { $0.units = units.map(\.proto) }
  }

  func upsertLiaisonUnit(request: Banjie_V1_LiaisonUnit, context: ServerContext) async throws -> Banjie_V1_LiaisonUnit {
    let caller = try Caller.of(context)
    try caller.require(.office, action: "register liaison units")
    let env = self.env
    let key = caller.idempotencyKey
    return try await env.store.upsertLiaisonUnit(
      name: request.name, township: request.township, actor: caller.actor, now: env.now.now, key: key
    ).proto
  }
}

extension WindowRecord {
  var proto: Banjie_V1_ServiceWindow {
    .with {
      $0.code = self.code
      $0.name = self.name
      $0.hall = self.hall
      $0.comprehensive = self.comprehensive
      $0.departmentCodes = self.departments
      $0.version = self.version
    }
  }
}

extension StaffMemberRecord {
  var proto: Banjie_V1_StaffMember {
    .with {
      $0.organization = self.organization
      $0.person = self.person
      $0.windowCodes = self.windows
    }
  }
}

extension LiaisonUnitRecord {
  var proto: Banjie_V1_LiaisonUnit {
    .with {
      $0.name = self.name
      $0.township = self.township
    }
  }
}
