import BanjieCore
import Testing

@testable import banjie

/// 星级服务 tables: the server's `short_of_next` ("2★ needs on-time ≥ 80 %") in the reader's
/// language.
@Suite("award texts")
struct AwardTextTests {
  @Test("every requirement the rules can name reads in Chinese, and as it came in English")
  func everyRequirement() {
    let cases: [(String, String)] = [
      ("2★ needs handled ≥ 5", "升2★需办件量 ≥ 5"),
      ("2★ needs on-time ≥ 80 %", "升2★需按时办结率 ≥ 80 %"),
      ("3★ needs one-day ≥ 30 %", "升3★需一日办结率 ≥ 30 %"),
      ("2★ needs good ≥ 60 %", "升2★需好评率 ≥ 60 %"),
      ("4★ needs unrated ≤ 50 %", "升4★需未评价率 ≤ 50 %"),
      ("5★ needs unrectified 差评 ≤ 0", "升5★需未整改差评 ≤ 0"),
      ("5★ needs overdue demands ≤ 0", "升5★需超期诉求 ≤ 0"),
    ]
    for (server, chinese) in cases {
      #expect(AwardCommand.shortOfNext(server, language: .zh) == chinese)
      #expect(AwardCommand.shortOfNext(server, language: .en) == server)
    }
    // Anything else (an empty cell, a later server's new requirement) is shown as it came.
    for other in ["", "5★ needs calm ≥ 3", "needs on-time ≥ 80 %", "2★ needs on-time = 80 %"] {
      #expect(AwardCommand.shortOfNext(other, language: .zh) == other)
    }
  }

  @Test("what the shipped rules say is one of the requirements the CLI reads")
  func theRulesSayWhatTheCLIReads() {
    // Scores that miss each requirement of the next level in turn.
    let rules = AwardRuleSet.standard
    var scores = AwardScores(unit: .department, key: "SCJGJ", name: "市场监管局")
    scores.handled = 1
    let (_, short) = rules.stars(for: scores)
    #expect(!short.isEmpty)
    #expect(AwardCommand.shortOfNext(short, language: .zh) != short, "\(short)")
  }
}

/// Who did something, as the server records it: the role in the reader's language.
@Suite("who did it")
struct ActorTextTests {
  @Test("the role of 'person (role, organization)' reads in Chinese; other texts as they came")
  func roles() {
    #expect(HumanText.by("刘红 (dispatcher, 12345)", language: .zh) == "刘红 (12345 话务调度, 12345)")
    #expect(HumanText.by("李明 (office, YSB)", language: .zh) == "李明 (营商办, YSB)")
    #expect(HumanText.by("张伟 (clerk, SCJGJ)", language: .en) == "张伟 (clerk, SCJGJ)")
    // A name with parentheses of its own: the last pair is the role's.
    #expect(HumanText.by("王五 (代) (clerk, SCJGJ)", language: .zh) == "王五 (代) (窗口工作人员, SCJGJ)")
    for other in ["", "system", "赵六 (unknown-role, X)", "赵六 (clerk)", "赵六 (clerk, SCJGJ) 备注"] {
      #expect(HumanText.by(other, language: .zh) == other)
    }
  }
}

/// The notes the server writes into a case's history (in English, as data) in the reader's
/// language; people's notes as they were typed.
@Suite("case notes")
struct CaseNoteTextTests {
  @Test("every note the server writes reads in Chinese and in English; people's notes are kept")
  func notes() {
    let cases: [(String, String, String)] = [
      ("missing: 营业执照, 身份证", "需补正：营业执照, 身份证", "missing: 营业执照, 身份证"),
      ("materials supplied", "材料已补正", "materials supplied"),
      ("withdrawn", "申请人已撤回", "withdrawn"),
      ("APPROVED", "办结：准予", "concluded: approved"),
      ("WINDOW A03", "已在窗口 A03 出件", "delivered at the window A03"),
      ("MAIL", "已送达（邮寄）", "delivered by mail"),
      ("from SCJGJ to ZJJ: 属住建局事项", "由 SCJGJ 转至 ZJJ：属住建局事项", "transferred from SCJGJ to ZJJ: 属住建局事项"),
      ("on behalf of 王小二", "代 王小二 办理", "on behalf of 王小二"),
      ("materials supplied (on behalf of 王小二)", "材料已补正（代 王小二 办理）", "materials supplied (on behalf of 王小二)"),
      ("pending: 施工合同", "容缺受理，容缺材料：施工合同", "accepted with materials pending (容缺受理): 施工合同"),
    ]
    for (server, chinese, english) in cases {
      #expect(CaseOutput.noteText(server, language: .zh) == chinese)
      #expect(CaseOutput.noteText(server, language: .en) == english)
    }
    for typed in ["专家评审", "from now on", "申请人要求暂缓", "MAILBOX full", ""] {
      #expect(CaseOutput.noteText(typed, language: .zh) == typed)
    }
  }
}
