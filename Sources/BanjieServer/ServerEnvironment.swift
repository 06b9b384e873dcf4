public import BanjieCore
public import BanjieStore
public import BanjieTLS
import Foundation
import Logging
import Synchronization

/// What every service shares: the store, the clock, the working calendar and the alert hub.
public final class ServerEnvironment: Sendable {
  public let store: BanjieStore
  public let now: any NowProvider
  public let regionCode: String
  public let alerts = AlertHub()
  /// Told of every change a dashboard could show (mutations and sweeper alerts).
  public let changes = ChangeFeed()
  /// Certificates refused at the handshake; shared with the TLS context.
  public let revocations: RevocationList
  /// Closes the open connections of a certificate serial; set once the transport exists.
  private let connectionCloser = Mutex<(@Sendable (String) -> Int)?>(nil)
  private let baseLogger: Logger
  /// The current call's logger (its lines carry the request id, method and caller), or the
  /// server's outside a call (the sweeper).
  var logger: Logger { RequestInfo.current.logger ?? self.baseLogger }
  private let calendarState: Mutex<SLAClock>

  public init(store: BanjieStore, now: any NowProvider = SystemNow(), regionCode: String = "370830", yellowThreshold: Double = 0.8, intakeLimitWorkingDays: Int = 5, revocations: RevocationList = RevocationList(), logger: Logger = Logger(label: "banjie.server")) throws {
    self.store = store
    self.revocations = revocations
    self.now = MillisecondNow(base: now)
    self.regionCode = regionCode
    self.baseLogger = logger
    let calendar = try store.loadCalendar()
    self.calendarState = Mutex(try SLAClock(calendar: calendar, yellowThreshold: yellowThreshold, intakeLimitWorkingDays: intakeLimitWorkingDays))
  }

  public var sla: SLAClock { self.calendarState.withLock { $0 } }

  func setConnectionCloser(_ closer: @escaping @Sendable (String) -> Int) {
    self.connectionCloser.withLock { $0 = closer }
  }

  /// Closes every open connection whose client certificate has this serial.
  func closeConnections(serial: String) -> Int {
    self.connectionCloser.withLock { $0 }?(serial) ?? 0
  }

  /// Installs an imported year for every later call.
  /// Held by a sweeper pass and by a calendar import (with the installing of its clock), so a
  /// pass never recolours cases with the calendar a committed import has just replaced.
  let calendarChange = Mutex(())

  /// Stores a year (BanjieStore.importCalendarYear) and installs it, as one step for sweepers.
  func importCalendarYear(_ data: CalendarYearData, actor: Actor) throws -> Int {
    try self.calendarChange.withLock { _ in
      let current = self.sla
      let newClock = try SLAClock(calendar: current.calendar.installing(data), yellowThreshold: current.yellowThreshold,
        intakeLimitWorkingDays: current.intakeLimitWorkingDays)
      let recomputed = try self.store.importCalendarYear(data, actor: actor, clock: newClock, now: self.now.now)
      try self.install(data)
      return recomputed
    }
  }

  func install(_ data: CalendarYearData) throws {
    try self.calendarState.withLock { clock in
      clock = try SLAClock(calendar: clock.calendar.installing(data), yellowThreshold: clock.yellowThreshold, intakeLimitWorkingDays: clock.intakeLimitWorkingDays)
    }
  }

  /// One pass of the SLA sweeper: stores and publishes what changed.
  @discardableResult
  /// `full: false` is the quick pass: only cases whose next colour change has come (see
  /// BanjieStore.sweep); demands and rectifications wait for the full pass.
  public func sweep(full: Bool = true) throws -> [AlertRecord] {
    try self.calendarChange.withLock { _ in try self.sweepUnderCalendar(full: full) }
  }

  private func sweepUnderCalendar(full: Bool) throws -> [AlertRecord] {
    let clock = self.sla, now = self.now.now
    let alerts = full
      ? try self.store.sweep(clock: clock, now: now) + self.store.sweepDemands(clock: clock, now: now)
        + self.store.sweepRectifications(clock: clock, now: now)
      : try self.store.sweep(clock: clock, now: now, full: false)
    if !alerts.isEmpty {
      self.logger.info("sweeper raised alerts", metadata: ["count": "\(alerts.count)"])
      self.alerts.publish(alerts)
      self.changes.signal()
    }
    return alerts
  }
}

/// Fans alerts out to every watcher. A watcher that falls 1,000 alerts behind loses the oldest.
public final class AlertHub: Sendable {
  private struct State {
    var next = 0
    var subscribers: [Int: AsyncStream<AlertRecord>.Continuation] = [:]
  }
  private let state = Mutex(State())

  public init() {}

  public func subscribe() -> (Int, AsyncStream<AlertRecord>) {
    let (stream, continuation) = AsyncStream<AlertRecord>.makeStream(bufferingPolicy: .bufferingNewest(1000))
    let id = self.state.withLock { state in
      state.next += 1
      state.subscribers[state.next] = continuation
      return state.next
    }
    return (id, stream)
  }

  public func unsubscribe(_ id: Int) {
    let continuation = self.state.withLock { $0.subscribers.removeValue(forKey: id) }
    continuation?.finish()
  }

  public var subscriberCount: Int { self.state.withLock { $0.subscribers.count } }

  func publish(_ alerts: [AlertRecord]) {
    let subscribers = self.state.withLock { Array($0.subscribers.values) }
    for subscriber in subscribers {
      for alert in alerts { subscriber.yield(alert) }
    }
  }
}

/// Times are stored to the millisecond; handing out only whole milliseconds keeps a value read
/// back from the database equal to the one written (a rounded-up stored time would otherwise
/// lie in the future of the `now` it came from).
struct MillisecondNow: NowProvider {
  let base: any NowProvider
  var now: Date {
    let t = self.base.now.timeIntervalSince1970
    return Date(timeIntervalSince1970: (t * 1000).rounded(.down) / 1000)
  }
}

/// Wakes watchers when something changed; a slow watcher keeps only the latest wake-up.
public final class ChangeFeed: Sendable {
  private struct State {
    var next = 0
    var subscribers: [Int: AsyncStream<Void>.Continuation] = [:]
  }
  private let state = Mutex(State())

  public init() {}

  public func subscribe() -> (Int, AsyncStream<Void>) {
    let (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    let id = self.state.withLock { state in
      state.next += 1
      state.subscribers[state.next] = continuation
      return state.next
    }
    return (id, stream)
  }

  public func unsubscribe(_ id: Int) {
    self.state.withLock { $0.subscribers.removeValue(forKey: id) }?.finish()
  }

  public var subscriberCount: Int { self.state.withLock { $0.subscribers.count } }

  public func signal() {
    for subscriber in self.state.withLock({ Array($0.subscribers.values) }) { subscriber.yield(()) }
  }
}
