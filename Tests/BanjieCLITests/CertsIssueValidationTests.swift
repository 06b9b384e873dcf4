import Testing

@testable import banjie

/// `banjie certs issue` refuses an organisation or name with control characters before the CA is
/// touched: such a certificate would carry no identity (docs/SECURITY.md).
@Suite("certs issue input")
struct CertsIssueValidationTests {
  static func arguments(org: String, name: String) -> [String] {
    ["--dir", "/nonexistent-ca", "--role", "clerk", "--org", org, "--name", name]
  }

  @Test("a clean organisation and name pass validation")
  func cleanInput() throws {
    let issue = try Certs.Issue.parse(Self.arguments(org: "370830-SCJGJ", name: "王芳"))
    #expect(issue.org == "370830-SCJGJ")
    #expect(issue.name == "王芳")
  }

  @Test(
    "control characters in --org are refused",
    arguments: ["370830\u{0}SCJGJ", "370830-SCJGJ\n", "\u{1B}[31m370830-SCJGJ", "370830\tSCJGJ", "370830-SCJGJ\u{7F}"])
  func controlInOrganization(org: String) {
    let error = #expect(throws: (any Error).self) { try Certs.Issue.parse(Self.arguments(org: org, name: "王芳")) }
    let message = error.map { Certs.Issue.message(for: $0) } ?? ""
    #expect(message.contains(t("certs.error.orgControl")), "\(message)")
  }

  @Test(
    "control characters in --name are refused",
    arguments: ["王\u{0}芳", "王芳\r\n", "\u{1B}]0;title\u{7}王芳", "王芳\u{85}"])
  func controlInName(name: String) {
    let error = #expect(throws: (any Error).self) { try Certs.Issue.parse(Self.arguments(org: "370830-SCJGJ", name: name)) }
    let message = error.map { Certs.Issue.message(for: $0) } ?? ""
    #expect(message.contains(t("certs.error.nameControl")), "\(message)")
  }
}
