import BanjieProto
import BanjieTLS
import BanjieTransport
import Foundation
import GRPCCore
import Testing

/// Receives any message as its bytes.
struct RawBytesDeserializer: MessageDeserializer {
  func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> [UInt8] {
    serializedMessageBytes.withUnsafeBytes { Array($0) }
  }
}

/// docs/SECURITY.md's table of every RPC × every role, checked against the real server: a cell
/// "no" must be refused with PERMISSION_DENIED before anything else happens; "yes" and "scoped"
/// must not be refused for the role (scoped calls are then checked against the caller's
/// department, enterprise or assignment, which the other suites test). The rating pad's device is
/// registered at its window first, so that its certificate is one the server accepts for rating
/// (an unregistered pad is refused everything; RatingPadTests checks that).
@Suite("Authorization matrix (docs/SECURITY.md)", .timeLimit(.minutes(10)))
struct AuthorizationMatrixTests {
  static let roles: [(PeerIdentity.Role, String, String)] = [
    (.clerk, "SCJGJ", "矩阵窗口"),
    (.enterprise, "91370830000001001N", "矩阵企业"),
    (.liaison, "南旺镇人民政府", "矩阵干部"),
    (.office, "YSB", "矩阵营商办"),
    (.pad, "A03", "MATRIX-PAD"),
    (.dispatcher, "12345", "矩阵调度"),
    (.monitor, "LB01", "矩阵探针"),
  ]

  static var served: [MethodDescriptor] {
    Banjie_V1_SystemService.Method.descriptors + Grpc_Health_V1_Health.Method.descriptors
      + Banjie_V1_CaseService.Method.descriptors + Banjie_V1_CatalogService.Method.descriptors
      + Banjie_V1_CalendarService.Method.descriptors + Banjie_V1_AdminService.Method.descriptors
      + Banjie_V1_CertificateAdminService.Method.descriptors + Banjie_V1_EnterpriseService.Method.descriptors
      + Banjie_V1_RatingService.Method.descriptors + Banjie_V1_ReviewCampaignService.Method.descriptors
      + Banjie_V1_AwardService.Method.descriptors + Banjie_V1_ExemplaryService.Method.descriptors
      + Banjie_V1_DashboardService.Method.descriptors + Banjie_V1_SettingsService.Method.descriptors
      + Banjie_V1_SupervisionService.Method.descriptors + Banjie_V1_CountersignService.Method.descriptors
      + Banjie_V1_AppealService.Method.descriptors
      + Banjie_V1_TargetService.Method.descriptors
      + Banjie_V1_ProposalService.Method.descriptors
  }

  /// The table: method path → the cells in `roles` order.
  static func documentedMatrix() throws -> [String: [String]] {
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("docs/SECURITY.md")
    let text = try String(contentsOf: url, encoding: .utf8)
    var matrix: [String: [String]] = [:]
    for line in text.split(separator: "\n") where line.hasPrefix("| `/") {
      let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
      guard cells.count >= Self.roles.count + 1 else { continue }
      matrix[cells[0].trimmingCharacters(in: CharacterSet(charactersIn: "`"))] = Array(cells[1...Self.roles.count])
    }
    return matrix
  }

  @Test("every RPC, every role: the server's behaviour equals the documented table")
  func matrix() async throws {
    let documented = try Self.documentedMatrix()
    let paths = Set(Self.served.map { "/" + $0.fullyQualifiedMethod })
    #expect(Set(documented.keys) == paths, "docs/SECURITY.md must list exactly the served RPCs")
    try await ServerHarness.run { h in
      try await h.registerWindow("A03", ["SCJGJ"])
      try await h.registerPad("MATRIX-PAD", at: "A03")
      var observed: [String: [String]] = [:]
      for (index, (role, org, person)) in Self.roles.enumerated() {
        try await h.as_(role, org, person) { client in
          for descriptor in Self.served {
            let code = await Self.call(client, descriptor)
            let denied = code == .permissionDenied || code == .unauthenticated
            observed["/" + descriptor.fullyQualifiedMethod, default: Self.roles.map { _ in "" }][index] = denied ? "no" : "yes"
          }
        }
      }
      var mismatches: [String] = []
      for path in paths.sorted() {
        let doc = (documented[path] ?? []).map { $0 == "scoped" ? "yes" : $0 }
        if doc != observed[path] {
          mismatches.append("\(path): documented \(documented[path] ?? []), observed \(observed[path] ?? [])")
        }
      }
      #expect(mismatches.isEmpty, "\(mismatches.joined(separator: "\n"))")
      if !mismatches.isEmpty {
        for path in paths.sorted() { print("| `\(path)` | \((observed[path] ?? []).joined(separator: " | ")) |") }
      }
    }
  }

  /// One call with an empty request message; the status it ends with.
  static func call(_ client: GRPCClient<BanjieClientTransport>, _ descriptor: MethodDescriptor) async -> Status.Code {
    var options = CallOptions.defaults
    options.timeout = .seconds(2)
    do {
      try await client.bidirectionalStreaming(
        request: StreamingClientRequest<[UInt8]> { writer in try await writer.write([]) },
        descriptor: descriptor,
        serializer: RawBytesSerializer(),
        deserializer: RawBytesDeserializer(),
        options: options
      ) { response in
        for try await _ in response.messages {}
      }
      return .ok
    } catch let error as RPCError {
      return Status.Code(error.code)
    } catch {
      return .unknown
    }
  }
}
