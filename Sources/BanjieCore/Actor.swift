import Foundation

/// Who did something: recorded on every event and audit row.
public struct Actor: Sendable, Hashable, Codable {
  public enum Role: String, Sendable, Hashable, Codable, CaseIterable {
    /// `pad` is a window's rating pad (评价器), named by its device id (docs/DOMAIN.md §21);
    /// `dispatcher` the 12345 centre's dispatcher (docs/DOMAIN.md §24).
    /// `monitor` a load balancer's or monitoring system's health probe (docs/DOMAIN.md §11).
    case clerk, enterprise, liaison, office, system, pad, dispatcher, monitor
  }
  public var role: Role
  public var organization: String
  public var person: String
  public var certificateSerial: String

  public init(role: Role, organization: String, person: String, certificateSerial: String = "") {
    self.role = role
    self.organization = organization
    self.person = person
    self.certificateSerial = certificateSerial
  }

  /// The server itself (sweeper, deemed acceptance).
  public static let system = Actor(role: .system, organization: "banjied", person: "system")
}

/// Where "now" comes from. Production uses the system clock; tests move time by hand.
public protocol NowProvider: Sendable {
  var now: Date { get }
}

public struct SystemNow: NowProvider {
  public init() {}
  public var now: Date { Date() }
}
