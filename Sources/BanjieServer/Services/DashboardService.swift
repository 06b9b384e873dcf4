import BanjieCore
import BanjieProto
import BanjieStore
import BanjieTLS
import Foundation
import GRPCCore
import SwiftProtobuf

/// The SLA dashboard (issue 7, first part): the office sees every department, a clerk only its
/// own (forced, whatever it asks for); enterprises and liaison officials see none of it.
struct DashboardService: Banjie_V1_DashboardService.SimpleServiceProtocol {
  let env: ServerEnvironment

  func getDashboard(request: Banjie_V1_DashboardRequest, context: ServerContext) async throws -> Banjie_V1_Dashboard {
    let caller = try Caller.of(context)
    try caller.require(.office, .clerk, action: "read the dashboard")
    return try await self.compute(request, caller: caller)
  }

  func watchDashboard(request: Banjie_V1_DashboardRequest, response: RPCWriter<Banjie_V1_Dashboard>, context: ServerContext) async throws {
    let caller = try Caller.of(context)
    try caller.require(.office, .clerk, action: "read the dashboard")
    let (id, changes) = self.env.changes.subscribe()
    defer { self.env.changes.unsubscribe(id) }
    var last: Banjie_V1_Dashboard?
    try await withRPCCancellationHandler {
      var iterator = changes.makeAsyncIterator()
      while !context.cancellation.isCancelled {
        var current = try await self.compute(request, caller: caller)
        let stamp = current.computedAt
        current.clearComputedAt()
        if current != last {
          last = current
          current.computedAt = stamp
          try await response.write(current)
        }
        // The next change (or the caller hanging up); a burst of changes is taken as one.
        guard await iterator.next() != nil else { return }
        try await Task.sleep(for: .milliseconds(100))
      }
    } onCancelRPC: {
      self.env.changes.unsubscribe(id)
    }
  }

  private func compute(_ request: Banjie_V1_DashboardRequest, caller: Caller) async throws -> Banjie_V1_Dashboard {
    let from = try EnterpriseService.date(request.from, field: "from")
    let to = try EnterpriseService.date(request.to, field: "to")
    let env = self.env
    let now = env.now.now
    let today = env.sla.calendar.localDate(of: now)
    guard from <= today else {
      throw DomainError(kind: .invalidArgument, code: "dashboard.future_period", arguments: ["\(from)", "\(today)"], field: "from")
    }
    guard from <= to else {
      throw DomainError(kind: .invalidArgument, code: "dashboard.reversed_dates", arguments: ["\(from)", "\(to)"], field: "to")
    }
    guard to.dayNumber - from.dayNumber < 366 else {
      throw DomainError(kind: .invalidArgument, code: "dashboard.period_too_long", field: "to")
    }
    let grouping: DashboardGrouping?
    if request.by.isEmpty {
      grouping = nil
    } else if let g = DashboardGrouping(rawValue: request.by.lowercased()) {
      grouping = g
    } else {
      throw DomainError(kind: .invalidArgument, code: "dashboard.bad_grouping", arguments: [String(request.by.prefix(20))], field: "by")
    }
    var department: String? = request.departmentCode.isEmpty ? nil : request.departmentCode
    if caller.role == .clerk { department = caller.organization }
    let scope = department
    if let scope, try await !env.store.departmentExists(scope) {
      throw DomainError(
        kind: .invalidArgument, code: "dashboard.unknown_department", arguments: [String(scope.prefix(32))], field: "department_code")
    }
    let report = try await env.store.dashboard(from: from, to: to, department: scope, by: grouping, clock: env.sla, now: now)
    // 年度目标 (docs/DOMAIN.md §26) of the year the period ends in.
    let targets =
      AnnualTargetRules.years.contains(to.year)
      ? try await env.store.targetProgress(year: to.year, unit: scope, clock: env.sla, now: now) : nil
    return .with {
      $0.from = report.from.description
      $0.to = report.to.description
      $0.departmentCode = report.department ?? ""
      $0.by = report.by?.rawValue ?? ""
      $0.hasData_p = report.hasData
      $0.summary = report.summary.proto
      $0.goodShare = report.goodShare
      $0.unratedShare = report.unratedShare
      $0.openRectifications = UInt32(report.openRectifications)
      $0.overdueRectifications = UInt32(report.overdueRectifications)
      $0.openDemands = UInt32(report.openDemands)
      $0.overdueDemands = UInt32(report.overdueDemands)
      $0.openSupervisions = UInt32(report.openSupervisions)
      $0.overdueSupervisions = UInt32(report.overdueSupervisions)
      $0.zeroTrip = UInt32(report.zeroTrip)
      $0.zeroTripRate = report.zeroTripRate
      $0.appeals = report.appeals.map { f in
        .with {
          $0.department = f.department
          $0.departmentName = f.departmentName
          $0.channel = f.channel.rawValue
          $0.assigned = UInt32(f.assigned)
          $0.responded = UInt32(f.responded)
          $0.respondedOnTime = UInt32(f.respondedOnTime)
          $0.responseRate = f.responseRate
          $0.resolved = UInt32(f.resolved)
          $0.resolvedOnTime = UInt32(f.resolvedOnTime)
          $0.resolutionRate = f.resolutionRate
          $0.waiting = UInt32(f.waiting)
          $0.overdue = UInt32(f.overdue)
          $0.callBacks = UInt32(f.callBacks)
          $0.satisfied = UInt32(f.satisfied)
          $0.satisfactionRate = f.satisfactionRate
        }
      }
      $0.countersigns = report.countersigns.map { f in
        .with {
          $0.unit = f.unit
          $0.name = f.name
          $0.answered = UInt32(f.answered)
          $0.onTime = UInt32(f.onTime)
          $0.onTimeRate = f.onTimeRate
          $0.waiting = UInt32(f.waiting)
          $0.overdue = UInt32(f.overdue)
        }
      }
      $0.proposals = report.proposals.map { f in
        .with {
          $0.department = f.department
          $0.name = f.name
          $0.assigned = UInt32(f.assigned)
          $0.replied = UInt32(f.replied)
          $0.repliedOnTime = UInt32(f.repliedOnTime)
          $0.onTimeRate = f.onTimeRate
          $0.waiting = UInt32(f.waiting)
          $0.overdue = UInt32(f.overdue)
          $0.satisfied = UInt32(f.satisfied)
          $0.basicallySatisfied = UInt32(f.basicallySatisfied)
          $0.dissatisfied = UInt32(f.dissatisfied)
          $0.satisfactionRate = f.satisfactionRate
        }
      }
      $0.rows = report.rows.map(\.proto)
      if let targets { $0.targets = TargetService.proto(targets.0, targets.1) }
      $0.computedAt = Google_Protobuf_Timestamp(milliseconds: now)
      $0.trend = report.trend.map { day in
        .with {
          $0.day = day.day.description
          $0.received = UInt32(day.received)
          $0.accepted = UInt32(day.accepted)
          $0.completed = UInt32(day.completed)
          $0.onTime = UInt32(day.onTime)
          $0.oneDay = UInt32(day.oneDay)
          $0.onTimeRate = day.onTimeRate
        }
      }
      $0.overdue = report.overdue.map { c in
        .with {
          $0.number = c.number
          $0.itemCode = c.itemCode
          $0.itemName = c.itemName
          $0.departmentCode = c.departmentCode
          $0.window = c.window
          $0.suspended = c.suspended
          $0.dueAt = Google_Protobuf_Timestamp(milliseconds: c.dueAt)
          $0.overdueHours = Double(c.overdueSeconds) / 3600
        }
      }
      $0.visitedEnterprises = UInt32(report.visitedEnterprises)
      $0.enterprises = UInt32(report.enterprises)
      $0.visitCoverage = report.visitCoverage
    }
  }
}

extension DashboardFigures {
  var proto: Banjie_V1_DashboardFigures {
    .with {
      $0.key = self.key
      $0.name = self.name
      $0.received = UInt32(self.received)
      $0.accepted = UInt32(self.accepted)
      $0.completed = UInt32(self.completed)
      $0.onTime = UInt32(self.onTime)
      $0.oneDay = UInt32(self.oneDay)
      $0.onTimeRate = self.onTimeRate
      $0.oneDayRate = self.oneDayRate
      $0.openGreen = UInt32(self.openGreen)
      $0.openYellow = UInt32(self.openYellow)
      $0.openRed = UInt32(self.openRed)
      $0.handlingHoursMean = self.handlingHoursMean
      $0.handlingHoursP50 = self.handlingHoursP50
      $0.handlingHoursP90 = self.handlingHoursP90
      $0.rated = UInt32(self.rated)
      $0.good = UInt32(self.good)
      $0.goodShare = self.goodShare
      $0.unratedShare = self.unratedShare
    }
  }
}
