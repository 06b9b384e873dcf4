public import BanjieCore
public import BanjieStore
public import BanjieTLS
import BanjieTransport
import Foundation
import Logging
import Synchronization

/// What every service shares: the store, the clock, the working calendar and the alert hub.
public final class ServerEnvironment: Sendable {
  public let store: BanjieStore
  public let now: any NowProvider
  public let regionCode: String
  /// Sweeper alerts for `WatchAlerts`; a watcher that falls 1,000 alerts behind loses the oldest.
  public let alerts = Broadcaster<AlertRecord>(bufferingNewest: 1000)
  /// Told of every change a dashboard could show (mutations and sweeper alerts); a slow watcher
  /// keeps only the latest wake-up.
  public let changes = Broadcaster<Void>(bufferingNewest: 1)
  /// Certificates refused at the handshake; shared with the TLS context.
  public let revocations: RevocationList
  /// The ids of the alerts published lately (at most `publishedLimit`), so that an alert this node
  /// raised and then heard of again from the database (PostgreSQL's notifications reach every
  /// listening node, the sender's too) is published once.
  private let published = Mutex<(ids: Set<Int64>, order: [Int64])>(([], []))
  static let publishedLimit = 10_000
  /// Closes the open connections of a certificate serial; set once the transport exists.
  private let connectionCloser = Mutex<(@Sendable (String) -> Int)?>(nil)
  private let baseLogger: Logger
  /// The current call's logger (its lines carry the request id, method and caller), or the
  /// server's outside a call (the sweeper).
  var logger: Logger { RequestInfo.current.logger ?? self.baseLogger }
  private let calendarState: Mutex<SLAClock>
  /// What each county setting is while the office has not set it (docs/DOMAIN.md §17): the
  /// configured yellow threshold, the standard office day and the shipped limits.
  public let defaultSettings: CountySettings
  /// Wrong rating codes (评价码) per caller, newest last: a caller with `codeFailureLimit` of them
  /// within `codeFailureWindow` is refused further codes until the oldest ages out
  /// (docs/SECURITY.md). In memory: a restart forgets them, which a guesser gains nothing from.
  private let codeFailures = Mutex<[String: [Date]]>([:])
  static let codeFailureLimit = 10
  static let codeFailureWindow: TimeInterval = 600

  public init(
    store: BanjieStore, now: any NowProvider = SystemNow(), regionCode: String = "370830", yellowThreshold: Double = 0.8,
    intakeLimitWorkingDays: Int = 5, revocations: RevocationList = RevocationList(), logger: Logger = Logger(label: "banjie.server")
  ) async throws {
    self.store = store
    self.revocations = revocations
    self.now = MillisecondNow(base: now)
    self.regionCode = regionCode
    // Escaped like the server's (a no-op when BanjieServerApp already did it).
    let logger = logger.escapingValues()
    self.baseLogger = logger
    let defaults = CountySettings(yellowThreshold: yellowThreshold)
    self.defaultSettings = defaults
    // The yellow threshold and office hours the office has set, if any, over the configured ones.
    let settings = try await store.settings(defaults: defaults).settings
    let calendar = try await store.loadCalendar().withOfficeHours(settings.officeHours)
    let clock = try SLAClock(calendar: calendar, yellowThreshold: settings.yellowThreshold, intakeLimitWorkingDays: intakeLimitWorkingDays)
    self.calendarState = Mutex(clock)
    // Cases stored before provisional years had statutory holidays carry deadlines counted on
    // plain Monday–Friday: recompute them once (docs/DOMAIN.md §3).
    if let recomputed = try await store.adoptCalendarRule(Self.calendarRule, clock: clock, now: self.now.now), recomputed > 0 {
      logger.info("open cases recomputed for the calendar rule", metadata: ["rule": "\(Self.calendarRule)", "cases": "\(recomputed)"])
    }
  }

  /// The calendar's counting rule this release follows; a store that followed another has its open
  /// cases recomputed at start-up.
  public static let calendarRule = "statutory-holidays-2024"

  public var sla: SLAClock { self.calendarState.withLock { $0 } }

  /// When `caller` may try a rating code again, or nil when it may now.
  func codeRetryAt(caller: String, now: Date) -> Date? {
    self.codeFailures.withLock { failures in
      let recent = (failures[caller] ?? []).filter { now.timeIntervalSince($0) < Self.codeFailureWindow }
      failures[caller] = recent.isEmpty ? nil : recent
      guard recent.count >= Self.codeFailureLimit, let oldest = recent.first else { return nil }
      return oldest.addingTimeInterval(Self.codeFailureWindow)
    }
  }

  func recordCodeFailure(caller: String, now: Date) {
    self.codeFailures.withLock { failures in
      var recent = (failures[caller] ?? []).filter { now.timeIntervalSince($0) < Self.codeFailureWindow }
      recent.append(now)
      failures[caller] = Array(recent.suffix(Self.codeFailureLimit))
    }
  }

  func setConnectionCloser(_ closer: @escaping @Sendable (String) -> Int) {
    self.connectionCloser.withLock { $0 = closer }
  }

  /// Closes every open connection whose client certificate has this serial.
  func closeConnections(serial: String) -> Int {
    self.connectionCloser.withLock { $0 }?(serial) ?? 0
  }

  /// Stores a year (BanjieStore.importCalendarYear) and installs it, as one step in the store's
  /// serial writer: the new clock is made from the one current there and installed before the
  /// writer takes its next transaction, so a sweeper pass (which reads the clock inside its own
  /// write, see `sweep`) never recolours cases with the calendar a committed import replaced.
  /// Implausible data is refused unless `forceReason` is given (docs/DOMAIN.md §4).
  func importCalendarYear(_ data: CalendarYearData, forceReason: String?, actor: Actor) async throws -> CalendarImportResult {
    try await self.store.importCalendarYear(
      data, forceReason: forceReason, actor: actor, now: self.now.now,
      clock: {
        let current = self.sla
        return try SLAClock(
          calendar: current.calendar.installing(data), yellowThreshold: current.yellowThreshold,
          intakeLimitWorkingDays: current.intakeLimitWorkingDays)
      },
      install: { clock in self.calendarState.withLock { $0 = clock } })
  }

  /// The county settings in force.
  public func settings() async throws -> SettingsView {
    try await self.store.settings(defaults: self.defaultSettings)
  }

  /// Stores a setting (BanjieStore.setSetting). A new yellow threshold or office hours is a new
  /// clock, made from the current one and installed in the same serial step of the store's writer
  /// as the change, like a calendar import: open cases are recomputed with it in the change's
  /// transaction, and everything computed after the commit (new work, views, the sweeper) uses it.
  func setSetting(_ key: CountySettings.Key, to text: String, actor: Actor, idempotency: IdempotencyKey?) async throws -> SettingsView {
    try await self.store.setSetting(
      key, to: text, defaults: self.defaultSettings, actor: actor, now: self.now.now, idempotency: idempotency,
      clock: { settings in
        let current = self.sla
        return try SLAClock(
          calendar: current.calendar.withOfficeHours(settings.officeHours), yellowThreshold: settings.yellowThreshold,
          intakeLimitWorkingDays: current.intakeLimitWorkingDays)
      },
      install: { clock in self.calendarState.withLock { $0 = clock } })
  }

  /// Reads the calendar and the clock settings from the store again and puts the clock they make
  /// in force: what another node's calendar import or clock setting changed
  /// (OtherNodesService; docs/OPERATIONS.md, "Moving to PostgreSQL").
  func reloadClock() async throws {
    let settings = try await self.store.settings(defaults: self.defaultSettings).settings
    let calendar = try await self.store.loadCalendar().withOfficeHours(settings.officeHours)
    let intakeLimit = self.sla.intakeLimitWorkingDays
    let clock = try SLAClock(calendar: calendar, yellowThreshold: settings.yellowThreshold, intakeLimitWorkingDays: intakeLimit)
    self.calendarState.withLock { $0 = clock }
  }

  func install(_ data: CalendarYearData) throws {
    try self.calendarState.withLock { clock in
      clock = try SLAClock(
        calendar: clock.calendar.installing(data), yellowThreshold: clock.yellowThreshold,
        intakeLimitWorkingDays: clock.intakeLimitWorkingDays)
    }
  }

  /// One pass of the SLA sweeper: stores and publishes what changed.
  /// `full: false` is the quick pass: only cases whose next colour change has come (see
  /// BanjieStore.sweep); demands, rectifications, supervision orders (督办), 容缺 materials and
  /// countersigns (会签) wait for (so do proposals, 建议/提案, whose clock counts calendar months)
  /// the full pass. Each store sweep reads the clock inside its write transaction, after any calendar
  /// import the writer ran before it.
  @discardableResult
  public func sweep(full: Bool = true) async throws -> [AlertRecord] {
    let now = self.now.now
    var alerts = try await self.store.sweep(clock: self.sla, now: now, full: full)
    if full {
      alerts += try await self.store.sweepDemands(clock: self.sla, now: now)
      alerts += try await self.store.sweepRectifications(clock: self.sla, now: now)
      alerts += try await self.store.sweepSupervision(clock: self.sla, now: now)
      alerts += try await self.store.sweepPendingMaterials(clock: self.sla, now: now)
      alerts += try await self.store.sweepCountersign(clock: self.sla, now: now)
      alerts += try await self.store.sweepAppeals(clock: self.sla, now: now)
      alerts += try await self.store.sweepProposals(clock: self.sla, now: now)
      alerts += try await self.store.sweepTargets(clock: self.sla, now: now)
    }
    if !alerts.isEmpty {
      self.logger.info("sweeper raised alerts", metadata: ["count": "\(alerts.count)"])
      self.publish(alerts)
    }
    return alerts
  }

  /// Shows `alerts` to watchers, each once, whichever node raised it.
  func publish(_ alerts: [AlertRecord]) {
    let fresh = self.published.withLock { published -> [AlertRecord] in
      var fresh: [AlertRecord] = []
      for alert in alerts {
        guard let id = alert.id else {
          fresh.append(alert)
          continue
        }
        guard published.ids.insert(id).inserted else { continue }
        published.order.append(id)
        fresh.append(alert)
      }
      if published.order.count > Self.publishedLimit {
        let dropped = published.order.prefix(published.order.count - Self.publishedLimit)
        published.ids.subtract(dropped)
        published.order.removeFirst(dropped.count)
      }
      return fresh
    }
    guard !fresh.isEmpty else { return }
    self.alerts.publish(fresh)
    self.changes.signal()
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
