import BanjieCore
import BanjieProto
import Foundation
import GRPCCore
import Testing

@Suite("Error messages in the caller's language", .timeLimit(.minutes(10)))
struct MessageLanguageTests {
  @Test("banjie-lang: zh gets the Chinese text; status, code and field are the same as in English")
  func chinese() async throws {
    try await ServerHarness.run { h in
      try await h.cases { cases in
        let n = try await cases.submitCase(.sample()).number
        let request = Banjie_V1_CaseActionRequest.number(n) { $0.outcome = "approved" }
        let english = await rpcError { _ = try await cases.completeCase(request) }
        let chinese = await rpcError { _ = try await cases.completeCase(request, metadata: ["banjie-lang": "zh"]) }
        let unknown = await rpcError { _ = try await cases.completeCase(request, metadata: ["banjie-lang": "fr"]) }
        #expect(english?.message == "cannot complete a case in state RECEIVED")
        #expect(chinese?.message == "办件当前状态为“已收件”，不能办结")
        #expect(unknown?.message == english?.message, "an unknown language is English")
        #expect(chinese?.code == .failedPrecondition && english?.code == .failedPrecondition)
        let code = chinese?.metadata[stringValues: "banjie-error-code"].first(where: { _ in true })
        #expect(code == "case.illegal_transition")

        let missing = await rpcError {
          _ = try await cases.getCase(.with { $0.number = "370830-20990101-000001" }, metadata: ["banjie-lang": "zh-CN"])
        }
        #expect(missing?.code == .notFound)
        #expect(missing?.message == "办件 370830-20990101-000001 不存在")
        #expect(errorField(missing) == "number")
      }
    }
  }
}
