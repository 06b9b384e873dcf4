import BanjieCore
import BanjieProto
import BanjieStore
import Foundation
import GRPCCore
import SwiftProtobuf

/// Deadlines as the server's calendar computes them; the office imports each year's notice.
/// A year without an imported notice counts its statutory holidays (docs/DOMAIN.md §3); a span
/// or month in a year the calendar cannot know is FAILED_PRECONDITION `calendar.year_not_computable`.
struct CalendarService: Banjie_V1_CalendarService.SimpleServiceProtocol {
  let env: ServerEnvironment

  func computeDue(request: Banjie_V1_ComputeDueRequest, context: ServerContext) async throws -> Banjie_V1_ComputeDueResponse {
    _ = try Caller.of(context)
    let from = try ISO8601Instant.parse(request.from, field: "from")
    let clock = self.env.sla
    let due: Date
    switch (request.workingDays, request.workingHours) {
    case (0, 0), (1..., 1...):
      throw DomainError(kind: .invalidArgument, code: "calendar.limit_required", field: "working_days")
    case (let days, 0):
      due = try clock.calendar.due(after: from, workingDays: Int(days))
    case (_, let hours):
      due = try clock.calendar.due(after: from, workingHours: Int(hours))
    }
    return .with {
      $0.due = Google_Protobuf_Timestamp(milliseconds: due)
      $0.dueLocal = Self.formatLocal(due)
      $0.provisional = clock.calendar.isProvisional(from: from, through: due)
    }
  }

  func getMonth(request: Banjie_V1_GetMonthRequest, context: ServerContext) async throws -> Banjie_V1_CalendarMonth {
    _ = try Caller.of(context)
    let month = try self.env.sla.calendar.month(Int(request.year), Int(request.month))
    return .with {
      $0.year = Int32(month.year)
      $0.month = Int32(month.month)
      $0.provisional = month.isProvisional
      $0.workingDays = UInt32(month.workingDayCount)
      $0.days = month.days.map { day in
        .with {
          $0.date = day.date.description
          switch day.kind {
          case .workday: $0.kind = .workday
          case .weekend: $0.kind = .weekend
          case .holiday: $0.kind = .holiday
          case .makeUpWorkday: $0.kind = .makeUpWorkday
          }
        }
      }
    }
  }

  func importYear(request: Banjie_V1_ImportYearRequest, context: ServerContext) async throws -> Banjie_V1_ImportYearResponse {
    let caller = try Caller.of(context)
    try caller.require(.office, action: "import calendar data")
    guard request.json.utf8.count <= 64 * 1024 else {
      throw DomainError(kind: .invalidArgument, code: "calendar.too_large", field: "json")
    }
    let data = try CalendarYearData(json: Data(request.json.utf8))
    // Implausible data (docs/DOMAIN.md §4) is refused unless forced; a reason without force changes nothing.
    let forceReason = request.force ? request.reason : nil
    let language = RequestInfo.current.language
    let env = self.env
    let result = try await env.importCalendarYear(data, forceReason: forceReason, actor: caller.actor)
    return .with {
      $0.year = Int32(data.year)
      $0.recomputed = UInt32(result.recomputed)
      $0.overridden = result.overridden.map { $0.localizedMessage(language) }
    }
  }

  static func formatLocal(_ date: Date) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.timeZone = WorkingCalendar.timeZone
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.string(from: date)
  }
}
