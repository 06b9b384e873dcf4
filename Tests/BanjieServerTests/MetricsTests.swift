import BanjieConfig
import BanjieCore
import BanjieProto
import BanjieServer
import Dispatch
import Foundation
import GRPCCore
import Prometheus
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

@Suite("Metrics endpoint (Prometheus)", .timeLimit(.minutes(10)))
struct MetricsTests {
  @Test("calls by method and status, latency by method, open connections and open cases by colour")
  func scrape() async throws {
    try await ServerHarness.run(metricsRegistry: PrometheusCollectorRegistry()) { h in
      let port = try #require(h.metricsPort)
      try await h.cases { cases in
        // Monday 09:30, one working day: yellow by Tuesday 15:30.
        let first = try await cases.submitCase(.sample(item: "SCJGJ-002")).number
        _ = try await cases.acceptCase(.number(first))
        h.clock.set(shanghai("2026-12-01T15:30:00"))
        try await h.environment.sweep()
        let second = try await cases.submitCase(.sample(item: "SCJGJ-002")).number
        _ = try await cases.acceptCase(.number(second))
        _ = try await cases.submitCase(.sample())  // received, not yet on the clock
        let missing = await rpcError { _ = try await cases.getCase(.with { $0.number = "370830-20261130-99999" }) }
        #expect(missing?.code == .notFound)

        let metrics = try await Self.get(port: port, path: "/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.headers["content-type"]?.hasPrefix("text/plain; version=0.0.4") == true)
        let samples = PrometheusText(metrics.body)
        let calls = "banjie_rpc_calls_total"
        #expect(samples[calls, ["method": "banjie.v1.CaseService/SubmitCase", "code": "OK"]] == 3)
        #expect(samples[calls, ["method": "banjie.v1.CaseService/AcceptCase", "code": "OK"]] == 2)
        #expect(samples[calls, ["method": "banjie.v1.CaseService/GetCase", "code": "NOT_FOUND"]] == 1)
        #expect(samples[calls, ["method": "banjie.v1.CaseService/GetCase", "code": "OK"]] == nil)
        #expect(samples[calls, ["method": "banjie.v1.CatalogService/ImportCatalog", "code": "OK"]] == 1)
        let latency = "banjie_rpc_duration_seconds"
        #expect(samples[latency + "_count", ["method": "banjie.v1.CaseService/SubmitCase"]] == 3)
        #expect(samples[latency + "_bucket", ["method": "banjie.v1.CaseService/SubmitCase", "le": "+Inf"]] == 3)
        #expect(samples[latency + "_count", ["method": "banjie.v1.CaseService/GetCase"]] == 1)
        #expect((samples[latency + "_sum", ["method": "banjie.v1.CaseService/AcceptCase"]] ?? 0) > 0)
        #expect(samples["banjie_open_cases", ["colour": "green"]] == 1)
        #expect(samples["banjie_open_cases", ["colour": "yellow"]] == 1)
        #expect(samples["banjie_open_cases", ["colour": "red"]] == 0)
        // This test's connection is open while it scrapes.
        #expect((samples["banjie_open_connections", [:]] ?? 0) >= 1)
        #expect((samples["banjie_tls_certificate_expiry_timestamp_seconds", [:]] ?? 0) > Date().timeIntervalSince1970)
      }
      // An office-only call refused for a clerk is counted under its own status.
      try await h.as_(.clerk, "SCJGJ", "张伟") { client in
        let refused = await rpcError { _ = try await Banjie_V1_AdminService.Client(wrapping: client).verifyAudit(.init()) }
        #expect(refused?.code == .permissionDenied)
      }
      let after = PrometheusText(try await Self.get(port: port, path: "/metrics").body)
      #expect(after["banjie_rpc_calls_total", ["method": "banjie.v1.AdminService/VerifyAudit", "code": "PERMISSION_DENIED"]] == 1)
      // Every client has gone: the gauge follows (connections close asynchronously).
      var open = after["banjie_open_connections", [:]]
      let deadline = ContinuousClock.now + .seconds(60)
      while open != 0 && ContinuousClock.now < deadline {
        try await Task.sleep(for: .milliseconds(20))
        open = PrometheusText(try await Self.get(port: port, path: "/metrics").body)["banjie_open_connections", [:]]
      }
      #expect(open == 0)
    }
  }

  @Test("anything but GET /metrics is 404")
  func notFound() async throws {
    try await ServerHarness.run(catalog: false, metricsRegistry: PrometheusCollectorRegistry()) { h in
      let port = try #require(h.metricsPort)
      #expect(try await Self.get(port: port, path: "/").status == 404)
      #expect(try await Self.get(port: port, path: "/metrics/x").status == 404)
      #expect(try await Self.get(port: port, path: "/metrics", method: "POST").status == 404)
      #expect(try await Self.get(port: port, path: "/metrics?format=text").status == 200)
    }
  }

  @Test("metrics.listen: host:port, or off / empty to turn it off")
  func configuration() throws {
    var configuration = ServerConfiguration()
    #expect(configuration.metricsHost == "127.0.0.1" && configuration.metricsPort == 9464)
    try configuration.apply(ConfigurationFile(parsing: "[metrics]\nlisten = \"127.0.0.2:9999\"\n"))
    #expect(configuration.metricsHost == "127.0.0.2" && configuration.metricsPort == 9999)
    try configuration.setMetricsListen("off")
    #expect(configuration.metricsHost == nil)
    try configuration.setMetricsListen("[::1]:9465")
    #expect(configuration.metricsHost == "::1" && configuration.metricsPort == 9465)
    try configuration.apply(ConfigurationFile(parsing: "[metrics]\nlisten = \"\"\n"))
    #expect(configuration.metricsHost == nil)
    #expect(throws: ConfigurationFile.ParseError.self) { try configuration.setMetricsListen("nowhere") }
  }

  // MARK: - A raw-socket HTTP/1.1 client

  struct HTTPResponse {
    var status: Int
    var headers: [String: String]
    var body: String
  }

  /// One request over a plain socket, read to the end (the endpoint closes after answering).
  static func get(port: Int, path: String, method: String = "GET") async throws -> HTTPResponse {
    let request = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nContent-Length: 0\r\n\r\n"
    let raw = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<[UInt8], any Error>) in
      DispatchQueue.global().async { continuation.resume(with: Result { try Self.exchange(port: port, request: Array(request.utf8)) }) }
    }
    let text = String(decoding: raw, as: UTF8.self)
    guard let split = text.range(of: "\r\n\r\n") else { throw SocketError("no end of headers in \(text.prefix(200))") }
    let lines = text[..<split.lowerBound].components(separatedBy: "\r\n")
    let statusParts = lines[0].split(separator: " ")
    guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw SocketError("bad status line \(lines[0])") }
    var headers: [String: String] = [:]
    for line in lines.dropFirst() {
      guard let colon = line.firstIndex(of: ":") else { continue }
      headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    return HTTPResponse(status: status, headers: headers, body: String(text[split.upperBound...]))
  }

  struct SocketError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
  }

  private static func exchange(port: Int, request: [UInt8]) throws -> [UInt8] {
    #if canImport(Glibc)
      let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #else
      let fd = socket(AF_INET, SOCK_STREAM, 0)
    #endif
    guard fd >= 0 else { throw SocketError("socket: errno \(errno)") }
    defer { close(fd) }
    var timeout = timeval(tv_sec: 10, tv_usec: 0)
    _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { throw SocketError("connect to 127.0.0.1:\(port): errno \(errno)") }
    var sent = 0
    while sent < request.count {
      let n = request[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
      guard n > 0 else { throw SocketError("send: errno \(errno)") }
      sent += n
    }
    var received: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 16384)
    while true {
      let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
      if n == 0 { break }
      guard n > 0 else { throw SocketError("recv: errno \(errno)") }
      received += buffer[0..<n]
    }
    return received
  }
}

/// Samples of Prometheus' text format: `name{label="value",...} number`, comments skipped.
struct PrometheusText {
  struct Sample {
    var name: String
    var labels: [String: String]
    var value: Double
  }
  var samples: [Sample] = []

  init(_ text: String) {
    for line in text.split(separator: "\n") where !line.hasPrefix("#") {
      guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
      let series = line[..<space]
      guard let brace = series.firstIndex(of: "{") else {
        self.samples.append(Sample(name: String(series), labels: [:], value: value))
        continue
      }
      var labels: [String: String] = [:]
      // Label values here hold no quotes or commas.
      for pair in series[series.index(after: brace)...].dropLast().split(separator: ",") {
        guard let equals = pair.firstIndex(of: "=") else { continue }
        labels[String(pair[..<equals])] = String(pair[pair.index(after: equals)...].dropFirst().dropLast())
      }
      self.samples.append(Sample(name: String(series[..<brace]), labels: labels, value: value))
    }
  }

  /// The value of the series with exactly these labels; nil when there is none.
  subscript(name: String, labels: [String: String]) -> Double? {
    self.samples.first { $0.name == name && $0.labels == labels }?.value
  }
}
