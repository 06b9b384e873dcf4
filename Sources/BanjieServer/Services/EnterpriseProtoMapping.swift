import BanjieCore
import BanjieProto
import BanjieStore
import Foundation
import SwiftProtobuf

extension LiaisonRef {
  var proto: Banjie_V1_LiaisonOfficial {
    .with {
      $0.organization = self.organization
      $0.person = self.person
    }
  }
  init(proto: Banjie_V1_LiaisonOfficial) { self.init(organization: proto.organization, person: proto.person) }
}

extension ContactRecord {
  var proto: Banjie_V1_Contact {
    .with {
      $0.name = self.name
      $0.phone = self.phone
      $0.title = self.title
    }
  }
  init(proto: Banjie_V1_Contact) { self.init(name: proto.name, phone: proto.phone, title: proto.title) }
}

extension EnterpriseView {
  var proto: Banjie_V1_Enterprise {
    .with {
      let r = self.record
      $0.uscc = r.uscc
      $0.name = r.name
      $0.industry = r.industry.rawValue
      $0.industryName = r.industry.chineseName
      $0.scale = r.scale.rawValue
      $0.township = r.township
      $0.contacts = r.contacts.map(\.proto)
      $0.liaisons = self.liaisons.map(\.proto)
      $0.checkOverrideReason = r.checkOverrideReason ?? ""
      $0.registeredAt = Google_Protobuf_Timestamp(milliseconds: r.registeredAt)
      $0.lastVisitedOn = self.lastVisitedOn ?? ""
      $0.version = r.version
    }
  }
}

extension VisitView {
  var proto: Banjie_V1_Visit {
    .with {
      $0.id = self.record.id ?? 0
      $0.uscc = self.record.uscc
      $0.enterpriseName = self.enterpriseName
      $0.liaison = .with {
        $0.organization = self.record.liaisonOrganization
        $0.person = self.record.liaisonPerson
      }
      $0.visitedOn = self.record.visitedOn
      $0.notes = self.record.notes
      $0.demandNumbers = self.demandNumbers
      $0.recordedAt = Google_Protobuf_Timestamp(milliseconds: self.record.recordedAt)
    }
  }
}

extension DemandState {
  var proto: Banjie_V1_DemandState {
    switch self {
    case .open: return .open
    case .assigned: return .assigned
    case .answered: return .answered
    case .closed: return .closed
    case .reopened: return .reopened
    }
  }

  init?(proto: Banjie_V1_DemandState) {
    switch proto {
    case .open: self = .open
    case .assigned: self = .assigned
    case .answered: self = .answered
    case .closed: self = .closed
    case .reopened: self = .reopened
    default: return nil
    }
  }
}

extension DemandView {
  var proto: Banjie_V1_Demand {
    .with {
      let r = self.record
      $0.number = r.number
      $0.uscc = r.uscc
      $0.enterpriseName = self.enterpriseName
      $0.category = r.category.rawValue
      $0.description_p = r.description
      $0.departmentCode = r.departmentCode
      $0.departmentName = self.departmentName
      $0.limitWorkingDays = UInt32(r.limitWorkingDays)
      $0.state = r.state.proto
      $0.handler = r.handler
      $0.answer = r.answer
      $0.reopenReason = r.reopenReason
      $0.satisfaction = UInt32(r.satisfaction ?? 0)
      $0.closeComment = r.closeComment
      $0.raisedBy = r.raisedBy
      $0.visitID = r.visitId ?? 0
      $0.raisedAt = Google_Protobuf_Timestamp(milliseconds: r.raisedAt)
      if let t = Google_Protobuf_Timestamp(r.answeredAt) { $0.answeredAt = t }
      if let t = Google_Protobuf_Timestamp(r.closedAt) { $0.closedAt = t }
      if let sla = self.sla { $0.sla = sla.proto }
      $0.version = r.version
    }
  }
}

extension PolicyView {
  var proto: Banjie_V1_Policy {
    .with {
      let r = self.record
      $0.id = r.id ?? 0
      $0.title = r.title
      $0.summary = r.summary
      $0.industries = r.eligibility.industries.map(\.rawValue).sorted()
      $0.scales = EnterpriseScale.allCases.filter { r.eligibility.scales.contains($0) }.map(\.rawValue)
      $0.townships = r.eligibility.townships.sorted()
      $0.createdAt = Google_Protobuf_Timestamp(milliseconds: r.createdAt)
      $0.pushed = UInt32(self.pushed)
      $0.acknowledged = UInt32(self.acknowledged)
      $0.acknowledgedByMe = self.acknowledgedByCaller
    }
  }
}
