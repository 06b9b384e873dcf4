import BanjieCore
import BanjieProto
import BanjieTransport
import Foundation
import GRPCCore
import SwiftProtobuf

/// Answers "who am I talking to, and who does it think I am" (`banjie health`).
struct SystemService: Banjie_V1_SystemService.SimpleServiceProtocol {
  let databaseDescription: @Sendable () async -> String
  /// The county settings in force as one line in a language (CountySettings.summary).
  var settingsSummary: @Sendable (MessageLanguage) async -> String = { _ in "" }

  func getServerInfo(request: Banjie_V1_GetServerInfoRequest, context: ServerContext) async throws -> Banjie_V1_ServerInfo {
    let caller = try Caller.of(context)
    var info = Banjie_V1_ServerInfo()
    info.version = BanjieVersion.current
    info.protocol = BanjieVersion.wireProtocol
    let session = context.banjiePeer?.session
    info.tlsVersion = session?.protocolVersion ?? ""
    info.tlsCipher = session?.cipherSuite ?? ""
    info.caller = .with {
      $0.role = caller.role.rawValue
      $0.organization = caller.organization
      $0.person = caller.person
      $0.certificateSerial = caller.identity.serialNumber
      $0.certificateSha256 = caller.identity.sha256Fingerprint
    }
    info.serverTime = Google_Protobuf_Timestamp(milliseconds: Date())
    info.timeZone = WorkingCalendar.timeZoneIdentifier
    info.database = await self.databaseDescription()
    info.settings = await self.settingsSummary(RequestInfo.current.language)
    return info
  }
}
