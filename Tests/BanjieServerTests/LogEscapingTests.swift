import BanjieCore
import BanjieProto
import BanjieTLS
import BanjieTransport
import Foundation
import GRPCCore
import Logging
import Prometheus
import Testing

@testable import BanjieServer

/// Logs that cannot be forged: whatever a peer sends (a certificate's CN, a case number, an
/// error message quoting either) reaches the log escaped (`LogEscaping`), one line per event.
@Suite("Log escaping: peer values cannot start a log line", .timeLimit(.minutes(10)))
struct LogEscapingTests {
  /// A CN that would start a new line and turn an operator's terminal red.
  static let forgedCN = "张\n伟\u{1B}[31m"
  static let escapedCN = #"张\n伟\u{1B}[31m"#
  /// A case number that would write a line of its own.
  static let forgedNumber = "370830-20261130-000001\nINJECTED level=critical"
  static let escapedNumber = #"370830-20261130-000001\nINJECTED level=critical"#

  @Test("the rules: backslash, newline, CR, tab, other controls, separators and bidi controls escaped; text unchanged; long values cut")
  func rules() {
    #expect(LogEscaping.escape("370830-20261130-000001") == "370830-20261130-000001")
    #expect(LogEscaping.escape("a\nb") == #"a\nb"#)
    #expect(LogEscaping.escape("a\r\nb\tc") == #"a\r\nb\tc"#)
    #expect(LogEscaping.escape("\u{1B}[31mred\u{1B}[0m") == #"\u{1B}[31mred\u{1B}[0m"#)
    #expect(LogEscaping.escape("nul\u{0}del\u{7F}nel\u{85}bell\u{7}") == #"nul\u{00}del\u{7F}nel\u{85}bell\u{07}"#)
    #expect(LogEscaping.escape("a\u{2028}b\u{2029}c") == #"a\u{2028}b\u{2029}c"#)
    let bidi = "\u{202E}gpj.exe\u{202C}\u{2066}x\u{2069}\u{200F}\u{61C}"
    #expect(LogEscaping.escape(bidi) == #"\u{202E}gpj.exe\u{202C}\u{2066}x\u{2069}\u{200F}\u{61C}"#)
    // A backslash is doubled, so a written `\n` is never mistaken for an escaped newline.
    #expect(LogEscaping.escape(#"C:\temp\n"#) == #"C:\\temp\\n"#)
    #expect(LogEscaping.escape("张伟 市场监管局 (SCJGJ) 🙂 café «ok» ‘q’") == "张伟 市场监管局 (SCJGJ) 🙂 café «ok» ‘q’")
    #expect(LogEscaping.escape("") == "")

    // Long values: cut at the limit (in Unicode scalars of the input) with the whole size named.
    let long = String(repeating: "张", count: 5000)
    #expect(LogEscaping.escape(long) == String(repeating: "张", count: LogEscaping.defaultLimit) + "…[truncated, 15000 bytes]")
    #expect(LogEscaping.escape(String(repeating: "a", count: LogEscaping.defaultLimit)) == String(repeating: "a", count: 4096))
    #expect(LogEscaping.escape("abcdef", limit: 3) == "abc…[truncated, 6 bytes]")
    #expect(LogEscaping.escape("a\nb", limit: 3) == #"a\nb"#)
    #expect(LogEscaping.escape("a\nbc", limit: 3) == #"a\nb…[truncated, 4 bytes]"#)
  }

  @Test("the escaping handler escapes message, logger metadata, provider metadata, event metadata and error, once")
  func handler() throws {
    let capture = LogCapture()
    var inner = LogCapture.Handler(capture: capture)
    inner.metadata = ["set.before": "p\nq"]
    inner.metadataProvider = Logger.MetadataProvider { ["provided": "t\u{1B}u"] }
    let wrappedHandler = inner
    var logger = Logger(label: "t") { _ in wrappedHandler }.escapingValues()
    logger[metadataKey: "caller"] = "clerk:SCJGJ:\(Self.forgedCN)"
    // Already escaping: wrapping again changes nothing, so nothing is escaped twice; nor is a
    // value read back and set again (the handler escapes when it writes, not when it is given).
    logger = logger.escapingValues()
    logger[metadataKey: "again"] = logger[metadataKey: "caller"]
    #expect(logger.handler is EscapingLogHandler)
    #expect(logger.logLevel == .trace)

    struct Forged: Error, CustomStringConvertible {
      var description: String { "bad\nINJECTED" }
    }
    logger.info(
      "case \(Self.forgedNumber) refused", error: Forged(),
      metadata: [
        "reason": "\u{202E}x", "list": .array([.string("a\nb"), .dictionary(["k\n": .string("v\r")])]), "\u{7}key": "\\",
      ])
    let lines = capture.take()
    #expect(lines.count == 1)
    let line = try #require(lines.first)
    #expect(line.message == "case \(Self.escapedNumber) refused")
    #expect(line.metadata["caller"] == #"clerk:SCJGJ:"# + Self.escapedCN)
    #expect(line.metadata["set.before"] == #"p\nq"#)
    #expect(line.metadata["provided"] == #"t\u{1B}u"#)
    #expect(line.metadata["again"] == #"clerk:SCJGJ:"# + Self.escapedCN)
    #expect(line.metadata["reason"] == #"\u{202E}x"#)
    #expect(line.metadata["error.message"] == #"bad\nINJECTED"#)
    #expect(line.metadata[#"\u{07}key"#] == #"\\"#)
    let list = Logger.Metadata.Value.array([.string(#"a\nb"#), .dictionary([#"k\n"#: .string(#"v\r"#)])])
    #expect(line.metadata["list"] == "\(list)")
    Self.expectSingleLines(lines)
  }

  @Test(
    "a certificate subject with a newline and an escape sequence reaches the interceptor's lines escaped",
    arguments: ["clerk", "clerk\n"])
  func craftedSubject(unit: String) async throws {
    let capture = LogCapture()
    let certificate = PeerCertificate(
      commonName: Self.forgedCN, organization: "SCJGJ", organizationalUnit: unit, serialNumber: "1A2B3C4D",
      sha256Fingerprint: String(repeating: "ab", count: 32), notBefore: Date(timeIntervalSince1970: 1_700_000_000),
      notAfter: Date(timeIntervalSince1970: 1_900_000_000))
    let session = TLSSessionInfo(
      protocolVersion: "TLSv1.3", cipherSuite: "TLS_AES_128_GCM_SHA256", alpnProtocol: "banjie/1", peerCertificate: certificate)
    // Given the capture's logger as it is: the interceptor escapes by itself.
    let interceptor = RequestInterceptor(logger: capture.logger)
    let error = await withServerContextRPCCancellationHandle { (handle: ServerContext.RPCCancellationHandle) async -> RPCError? in
      var context = ServerContext(
        descriptor: Banjie_V1_CaseService.Method.GetCase.descriptor, remotePeer: "ipv4:127.0.0.1:50000",
        localPeer: "ipv4:127.0.0.1:7443", cancellation: handle)
      context.transportSpecific = BanjiePeer(session: session, remoteAddress: "127.0.0.1:50000")
      let request = StreamingServerRequest(single: ServerRequest(metadata: [:], message: 0))
      do {
        _ = try await interceptor.intercept(request: request, context: context) {
          (_: StreamingServerRequest<Int>, context: ServerContext) async throws -> StreamingServerResponse<Int> in
          _ = try Caller.of(context)
          throw DomainError(kind: .notFound, code: "case.not_found", arguments: [Self.forgedNumber], field: "number")
        }
        return nil
      } catch {
        return error as? RPCError
      }
    }
    // No banjie role (an OU with a newline, or a CN with control characters once names refuse them),
    // or a clerk whose case does not exist.
    let code = try #require(error?.code)
    #expect(code == .permissionDenied || code == .notFound)
    if unit != "clerk" { #expect(code == .permissionDenied) }
    let lines = capture.take()
    #expect(lines.contains { $0.message == "call failed" || $0.message == "call refused" })
    Self.expectSingleLines(lines)
    // The CN is quoted: as the caller's name on every line, or in the refusal's reason.
    #expect(lines.contains { line in line.metadata.values.contains { $0.contains(Self.escapedCN) } })
    if code == .notFound {
      #expect(lines.contains { $0.metadata["reason"]?.contains(Self.escapedNumber) == true })
    }
  }

  @Test("a case number with a newline is refused, and every line the call logs is one line with the number escaped")
  func caseNumberWithNewline() async throws {
    let capture = LogCapture()
    try await ServerHarness.run(logger: capture.logger) { h in
      try await h.cases { cases in
        _ = capture.take()
        // GetCase quotes the number it did not find.
        let read = await rpcError { _ = try await cases.getCase(.with { $0.number = Self.forgedNumber }) }
        #expect(read?.code == .notFound)
        let readLines = capture.take()
        #expect(readLines.contains { $0.message == "call refused" })
        Self.expectSingleLines(readLines)
        #expect(readLines.contains { $0.metadata["reason"]?.contains(Self.escapedNumber) == true })

        let accept = await rpcError { _ = try await cases.acceptCase(.number(Self.forgedNumber)) }
        #expect(accept?.code == .notFound || accept?.code == .invalidArgument)
        let acceptLines = capture.take()
        #expect(acceptLines.contains { $0.message == "call refused" })
        Self.expectSingleLines(acceptLines)
        if accept?.code == .notFound {
          #expect(acceptLines.contains { $0.metadata["reason"]?.contains(Self.escapedNumber) == true })
        }

        // A limit crossed with a newline in the value: refused, and still one line.
        let applicant = String(repeating: "王小二\n", count: 60)
        let tooLong = await rpcError { _ = try await cases.submitCase(.sample(applicant: applicant)) }
        #expect(tooLong?.code == .invalidArgument)
        let tooLongLines = capture.take()
        #expect(tooLongLines.contains { $0.message == "call refused" })
        Self.expectSingleLines(tooLongLines)
      }
    }
  }

  @Test(
    "over TLS, a client certificate whose CN holds a newline and an escape sequence: every line stays one line, the CN escaped")
  func forgedCommonNameOverTLS() async throws {
    // The CA tooling refuses such names, so the openssl command line signs it with the test CA.
    let (certificate, key) = try await Self.clientCertificate(commonName: Self.forgedCN)
    let capture = LogCapture()
    try await ServerHarness.run(catalog: false, logger: capture.logger) { h in
      _ = capture.take()
      let error = await rpcError {
        try await Self.connect(h, certificate: certificate, key: key) { client in
          _ = try await Banjie_V1_CaseService.Client(wrapping: client).getCase(.with { $0.number = "370830-20261130-000001" })
        }
      }
      // No identity (a name with control characters names nobody), or a clerk whose case does not exist.
      #expect(error?.code == .permissionDenied || error?.code == .notFound)
      let lines = capture.take()
      #expect(lines.contains { $0.message == "call failed" || $0.message == "call refused" })
      Self.expectSingleLines(lines)
      #expect(lines.contains { line in line.metadata.values.contains { $0.contains(Self.escapedCN) } })
    }
  }

  @Test("a method label is escaped like a log value")
  func metricLabel() {
    let metrics = ServerMetrics(registry: PrometheusCollectorRegistry())
    metrics.recordCall(method: "banjie.v1.CaseService/GetCase\nforged\u{1B}[2J\r", code: .notFound, duration: .milliseconds(1))
    let text = String(decoding: metrics.render(), as: UTF8.self)
    // Ours (`\n`, `\u{1B}`, `\r`), then Prometheus' own escaping of the backslashes.
    #expect(text.contains(#"method="banjie.v1.CaseService/GetCase\\nforged\\u{1B}[2J\\r""#))
    #expect(!text.unicodeScalars.contains { $0 == "\u{1B}" || $0 == "\r" })
    for line in text.split(separator: "\n") {
      #expect(line.hasPrefix("#") || line.hasPrefix("banjie_"), "\(line)")
    }
  }

  // MARK: - Helpers

  /// Whether `scalar` would break a line or change how it reads if written raw.
  static func isRaw(_ scalar: Unicode.Scalar) -> Bool {
    let category = scalar.properties.generalCategory
    return category == .control || category == .lineSeparator || category == .paragraphSeparator || scalar.properties.isBidiControl
  }

  /// Every message and metadata key and value of `lines` holds nothing that `isRaw`.
  static func expectSingleLines(_ lines: [LogCapture.Line], sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(!lines.isEmpty, sourceLocation: sourceLocation)
    for line in lines {
      var texts = [line.message]
      texts += line.metadata.keys
      texts += line.metadata.values
      for text in texts {
        #expect(
          !text.unicodeScalars.contains(where: Self.isRaw), "\(line.message): \(text.debugDescription)", sourceLocation: sourceLocation)
      }
    }
  }

  static let opensslPath = "/usr/bin/openssl"

  struct OpenSSLFailed: Error, CustomStringConvertible {
    var description: String
  }

  /// A clerk certificate (OU=clerk, O=SCJGJ) from the test CA whose CN is `commonName` as given.
  static func clientCertificate(commonName: String) async throws -> (certificate: String, key: String) {
    let pki = ServerPKI.shared
    let directory = pki.directory + "/forged-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let extensions = directory + "/client.cnf"
    let sections = "[client]\nbasicConstraints = CA:FALSE\nextendedKeyUsage = clientAuth\n"
    try sections.write(toFile: extensions, atomically: true, encoding: .utf8)
    try await Self.openssl([
      "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-utf8",
      "-subj", "/OU=clerk/O=SCJGJ/CN=\(commonName)", "-keyout", directory + "/client.key", "-out", directory + "/client.csr",
    ])
    try await Self.openssl([
      "x509", "-req", "-in", directory + "/client.csr", "-CA", pki.ca.certificateFile, "-CAkey", pki.ca.privateKeyFile,
      "-days", "30", "-sha256", "-extfile", extensions, "-extensions", "client", "-out", directory + "/client.pem",
    ])
    return (directory + "/client.pem", directory + "/client.key")
  }

  /// Runs `openssl` (stdin and stdout empty); throws with its stderr unless it exits 0 within 30 s.
  static func openssl(_ arguments: [String]) async throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: Self.opensslPath)
    process.arguments = arguments
    let errors = Pipe()
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = FileHandle.nullDevice
    process.standardError = errors
    try process.run()
    let deadline = ContinuousClock.now + .seconds(30)
    while process.isRunning, ContinuousClock.now < deadline {
      try await Task.sleep(for: .milliseconds(10))
    }
    if process.isRunning { process.terminate() }
    process.waitUntilExit()
    let output = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    guard process.terminationReason == .exit, process.terminationStatus == 0 else {
      throw OpenSSLFailed(description: "openssl \(arguments.first ?? "") failed (\(process.terminationStatus)): \(output)")
    }
  }

  /// Runs `body` with a client presenting `certificate` and `key` to the harness's server.
  static func connect<R: Sendable>(
    _ h: ServerHarness, certificate: String, key: String, _ body: (GRPCClient<BanjieClientTransport>) async throws -> R
  ) async throws -> R {
    let tls = try TLSContext(
      configuration: .client(certificateChainFile: certificate, privateKeyFile: key, trustRootsFile: ServerPKI.shared.ca.certificateFile))
    var config = BanjieClientTransport.Config(host: "127.0.0.1", port: h.port, tls: tls)
    config.logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
    return try await withGRPCClient(transport: BanjieClientTransport(config: config)) { client in
      try await body(client)
    }
  }
}
