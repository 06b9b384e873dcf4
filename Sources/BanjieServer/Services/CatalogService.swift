import BanjieCore
import BanjieProto
import BanjieStore
import GRPCCore
import SwiftProtobuf

/// Departments and service items, and the hall's registry (windows, staff, liaison units, rating
/// pads, department heads): anyone reads (staff, pads and heads: clerks and the office); the
/// office manages.
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

  // MARK: Rating pads and department heads (docs/DOMAIN.md §21)

  func registerRatingDevice(request: Banjie_V1_RegisterRatingDeviceRequest, context: ServerContext) async throws
    -> Banjie_V1_RatingDevice
  {
    let caller = try Caller.of(context)
    try caller.require(.office, action: "register rating pads")
    let env = self.env
    let key = caller.idempotencyKey
    let device = try await env.store.registerRatingDevice(
      id: request.deviceID, window: request.windowCode, actor: caller.actor, now: env.now.now, key: key)
    env.logger.info("rating pad registered", metadata: ["device": "\(device.id)", "window": "\(device.windowCode)"])
    return device.proto
  }

  func retireRatingDevice(request: Banjie_V1_RetireRatingDeviceRequest, context: ServerContext) async throws -> Banjie_V1_RatingDevice {
    let caller = try Caller.of(context)
    try caller.require(.office, action: "retire rating pads")
    let env = self.env
    let key = caller.idempotencyKey
    let device = try await env.store.retireRatingDevice(id: request.deviceID, actor: caller.actor, now: env.now.now, key: key)
    env.logger.info("rating pad retired", metadata: ["device": "\(device.id)", "window": "\(device.windowCode)"])
    return device.proto
  }

  func listRatingDevices(request: Banjie_V1_ListRatingDevicesRequest, context: ServerContext) async throws
    -> Banjie_V1_ListRatingDevicesResponse
  {
    let caller = try Caller.of(context)
    try caller.require(.clerk, .office, action: "list rating pads")
    let window = request.windowCode.isEmpty ? nil : WindowCode.normalize(request.windowCode)
    let devices = try await self.env.store.ratingDevices(window: window, includeRetired: request.includeRetired)
    return .with { $0.devices = devices.map(\.proto) }
  }

  func assignDepartmentHead(request: Banjie_V1_AssignDepartmentHeadRequest, context: ServerContext) async throws
    -> Banjie_V1_DepartmentHead
  {
    let caller = try Caller.of(context)
    try caller.require(.office, action: "assign department heads")
    let env = self.env
    let key = caller.idempotencyKey
    return try await env.store.assignDepartmentHead(
      department: String(request.departmentCode.trimmingWhitespace()), person: String(request.person.trimmingWhitespace()),
      remove: request.remove, actor: caller.actor, now: env.now.now, key: key
    ).proto
  }

  func listDepartmentHeads(request: Banjie_V1_ListDepartmentHeadsRequest, context: ServerContext) async throws
    -> Banjie_V1_ListDepartmentHeadsResponse
  {
    let caller = try Caller.of(context)
    try caller.require(.clerk, .office, action: "list department heads")
    let department = String(request.departmentCode.trimmingWhitespace())
    let heads = try await self.env.store.departmentHeads(department: department.isEmpty ? nil : department)
    return .with { $0.heads = heads.map(\.proto) }
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

extension RatingDeviceRecord {
  var proto: Banjie_V1_RatingDevice {
    .with {
      $0.deviceID = self.id
      $0.windowCode = self.windowCode
      $0.registeredAt = Google_Protobuf_Timestamp(milliseconds: self.registeredAt)
      if let t = Google_Protobuf_Timestamp(self.retiredAt) { $0.retiredAt = t }
    }
  }
}

extension DepartmentHeadRecord {
  var proto: Banjie_V1_DepartmentHead {
    .with {
      $0.departmentCode = self.departmentCode
      $0.person = self.person
      $0.assignedAt = Google_Protobuf_Timestamp(milliseconds: self.assignedAt)
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
