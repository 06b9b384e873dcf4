import BanjieCore
import BanjieTransport
import CoreMetrics
import Foundation
import GRPCCore
public import Prometheus
import Synchronization

/// banjied's metrics, kept in one Prometheus registry through swift-metrics.
///
/// The registry is passed in rather than taken from the global `MetricsSystem`: banjied
/// bootstraps the global system once with a factory over the same registry, and each test
/// server gets a registry of its own.
///
/// | metric | type | labels |
/// |---|---|---|
/// | `banjie_rpc_calls_total` | counter | `method`, `code` (gRPC status name, `OK` for success) |
/// | `banjie_rpc_duration_seconds` | histogram | `method` |
/// | `banjie_open_connections` | gauge | |
/// | `banjie_open_cases` | gauge | `colour` (`green`, `yellow`, `red`) |
/// | `banjie_tls_certificate_expiry_timestamp_seconds` | gauge | |
/// | `banjie_tls_reloads_total` | counter | `result` (`ok`, `refused`) |
public final class ServerMetrics: Sendable {
  public let registry: PrometheusCollectorRegistry
  private let factory: PrometheusMetricsFactory
  private let calls = Mutex<[CallKey: CoreMetrics.Counter]>([:])
  private let durations = Mutex<[String: CoreMetrics.Timer]>([:])
  private let openConnections: CoreMetrics.Gauge
  private let openCases: [SLAColour: CoreMetrics.Gauge]
  private let certificateExpiry: CoreMetrics.Gauge
  private let reloadsOK: CoreMetrics.Counter
  private let reloadsRefused: CoreMetrics.Counter

  static let durationName = "banjie_rpc_duration_seconds"

  private struct CallKey: Hashable {
    var method: String
    var code: Int
  }

  public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) {
    self.registry = registry
    var factory = PrometheusMetricsFactory(registry: registry)
    // Most calls are one SQLite transaction: finer buckets below 10 ms than the default.
    factory.durationHistogramBuckets[Self.durationName] = [
      .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
      .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
      .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    ]
    self.factory = factory
    self.openConnections = CoreMetrics.Gauge(label: "banjie_open_connections", factory: factory)
    var openCases: [SLAColour: CoreMetrics.Gauge] = [:]
    for colour in SLAColour.allCases {
      let gauge = CoreMetrics.Gauge(label: "banjie_open_cases", dimensions: [("colour", colour.rawValue)], factory: factory)
      gauge.record(0)
      openCases[colour] = gauge
    }
    self.openCases = openCases
    self.certificateExpiry = CoreMetrics.Gauge(label: "banjie_tls_certificate_expiry_timestamp_seconds", factory: factory)
    self.reloadsOK = CoreMetrics.Counter(label: "banjie_tls_reloads_total", dimensions: [("result", "ok")], factory: factory)
    self.reloadsRefused = CoreMetrics.Counter(label: "banjie_tls_reloads_total", dimensions: [("result", "refused")], factory: factory)
  }

  /// One finished call: its method ("banjie.v1.CaseService/SubmitCase"), status and duration.
  /// The method is escaped (`LogEscaping`) before it becomes a label, like every logged value.
  func recordCall(method: String, code: Status.Code, duration: Duration) {
    let method = LogEscaping.escape(method)
    let key = CallKey(method: method, code: code.rawValue)
    let factory = self.factory
    let counter = self.calls.withLock { calls in
      if let found = calls[key] { return found }
      let made = CoreMetrics.Counter(
        label: "banjie_rpc_calls_total", dimensions: [("method", method), ("code", Self.name(of: code))], factory: factory)
      calls[key] = made
      return made
    }
    counter.increment()
    let timer = self.durations.withLock { durations in
      if let found = durations[method] { return found }
      let made = CoreMetrics.Timer(label: Self.durationName, dimensions: [("method", method)], factory: factory)
      durations[method] = made
      return made
    }
    let (seconds, attoseconds) = duration.components
    timer.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
  }

  func setOpenConnections(_ count: Int) {
    self.openConnections.record(count)
  }

  /// Colours missing from `counts` are set to 0.
  func setOpenCases(_ counts: [SLAColour: Int]) {
    for (colour, gauge) in self.openCases { gauge.record(counts[colour] ?? 0) }
  }

  func setCertificateExpiry(_ notAfter: Date) {
    self.certificateExpiry.record(notAfter.timeIntervalSince1970.rounded(.down))
  }

  func recordTLSReload(succeeded: Bool) {
    (succeeded ? self.reloadsOK : self.reloadsRefused).increment()
  }

  /// The registry in Prometheus' text format (version 0.0.4).
  func render() -> [UInt8] {
    self.registry.emitToBuffer()
  }

  /// The canonical upper-case name gRPC documents for each status code.
  static func name(of code: Status.Code) -> String {
    let names = [
      "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS",
      "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
      "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
    ]
    return names.indices.contains(code.rawValue) ? names[code.rawValue] : "CODE_\(code.rawValue)"
  }
}
