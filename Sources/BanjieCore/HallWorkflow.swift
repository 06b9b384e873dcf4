import Foundation

/// The service hall's own workflows around a case (docs/DOMAIN.md §22): how it came in and went
/// back (受理渠道, 出件), 一窗受理, 首问负责 and 帮办代办.

/// How a case came in (受理渠道), or how its result went back to the applicant (出件方式).
public enum CaseChannel: String, Sendable, Hashable, Codable, CaseIterable {
  /// At a service-hall window.
  case window = "WINDOW"
  /// 一网通办: the online portal.
  case online = "ONLINE"
  /// By post (邮寄).
  case mail = "MAIL"
  /// A self-service terminal (自助终端) in the hall.
  case selfService = "SELF_SERVICE"

  /// The channels a result can be delivered through.
  public static let deliveries: [CaseChannel] = [.window, .mail, .online]

  /// Whether a case needs a registered window to come in through this channel: window and
  /// self-service cases are received at a hall, online and mail cases by a back office.
  public var needsWindow: Bool { self == .window || self == .selfService }

  /// 零跑腿: the applicant never came to the hall — the case came in online or by post and its
  /// result went back online or by post. Undelivered cases are not (yet) counted.
  public static func isZeroTrip(received: CaseChannel, delivered: CaseChannel?) -> Bool {
    guard let delivered else { return false }
    return (received == .online || received == .mail) && (delivered == .online || delivered == .mail)
  }
}

/// A step of the applicant's that a 帮办代办 helper may take on the applicant's behalf, when the
/// item's catalog entry allows it.
public enum ProxyStep: String, Sendable, Hashable, Codable, CaseIterable {
  /// Hands in the materials a 一次性告知 asked for (SupplementReceived).
  case supplement = "SUPPLEMENT"
  /// Withdraws the application (WithdrawCase).
  case withdraw = "WITHDRAW"
  /// Collects the result (DeliverCase, 出件 to the helper).
  case collect = "COLLECT"

  /// The step a case action is, when it is one an applicant takes.
  public init?(action: CaseAction.Name) {
    switch action {
    case .supplementReceived: self = .supplement
    case .withdraw: self = .withdraw
    case .deliver: self = .collect
    default: return nil
    }
  }
}

/// A registered staff member named on a case: 首问责任人, the responsible clerk, the helper.
public struct StaffRef: Sendable, Hashable, Codable {
  public var organization: String
  public var person: String
  public init(organization: String, person: String) {
    self.organization = organization
    self.person = person
  }
  public var isEmpty: Bool { self.organization.isEmpty && self.person.isEmpty }
}

/// Why a department other than the handling one may read a case.
public enum CaseReaderReason: String, Sendable, Hashable, Codable {
  /// Its comprehensive window received the case (一窗受理); it may also deliver the result there.
  case receiving = "RECEIVING"
  /// A transfer moved the case away from it.
  case transfer = "TRANSFER"
}

/// In what capacity a clerk takes a step on a case.
public enum CaseAuthority: String, Sendable, Hashable, Codable {
  /// A clerk of the handling department.
  case handler
  /// A clerk of the department whose comprehensive window received it, delivering the result there.
  case receivingWindow
  /// The case's 帮办代办 helper, on the applicant's behalf.
  case helper
}

/// Who besides the handling department takes part in a case.
public struct CaseParties: Sendable, Hashable {
  public var department: String
  public var readers: [String: CaseReaderReason]
  public var helper: StaffRef?
  public var proxySteps: Set<ProxyStep>
  /// The clerk responsible now (首问负责), who reads the case wherever they work.
  public var responsible: StaffRef?
  public init(
    department: String, readers: [String: CaseReaderReason], helper: StaffRef?, proxySteps: Set<ProxyStep>, responsible: StaffRef? = nil
  ) {
    self.department = department
    self.readers = readers
    self.helper = helper
    self.proxySteps = proxySteps
    self.responsible = responsible
  }

  /// The capacity in which a clerk (`organization`, `person`) may take `action`, or nil when it
  /// may not: the handling department's clerks take every step; the receiving comprehensive
  /// window's department delivers; the helper takes the applicant's steps the item allows.
  public func authority(organization: String, person: String, action: CaseAction.Name) -> CaseAuthority? {
    if organization == self.department { return .handler }
    if action == .deliver, self.readers[organization] == .receiving { return .receivingWindow }
    if let helper = self.helper, helper.organization == organization, helper.person == person,
      let step = ProxyStep(action: action), self.proxySteps.contains(step)
    {
      return .helper
    }
    return nil
  }

  /// Whether a clerk of `organization` (`person`) may read the case: the handling department, a
  /// reader department, the helper and the responsible clerk.
  public func mayRead(organization: String, person: String) -> Bool {
    if organization == self.department || self.readers[organization] != nil { return true }
    if let helper = self.helper, helper.organization == organization, helper.person == person { return true }
    if let responsible = self.responsible, responsible.organization == organization, responsible.person == person { return true }
    return false
  }
}
