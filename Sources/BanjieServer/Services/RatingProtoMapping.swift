import BanjieCore
import BanjieProto
import BanjieStore
import Foundation
import SwiftProtobuf

extension RatingView {
  var proto: Banjie_V1_Rating {
    let r = self.record
    return .with {
      $0.caseNumber = r.caseNumber
      $0.uscc = r.uscc
      $0.departmentCode = self.departmentCode
      $0.window = self.window
      $0.itemCode = self.itemCode
      $0.level = UInt32(r.level)
      $0.levelName = RatingLevel(rawValue: r.level)?.chineseName ?? ""
      $0.bad = r.isBad
      $0.comment = r.comment
      $0.tags = r.tags
      $0.ratedAt = Google_Protobuf_Timestamp(milliseconds: r.ratedAt)
      $0.excluded = r.excluded
      $0.excludedReason = r.excludedReason
      if let t = Google_Protobuf_Timestamp(r.excludedAt) { $0.excludedAt = t }
      $0.rectificationNumber = self.rectificationNumber ?? ""
      // Ratings stored before `via` existed were all given by an enterprise.
      $0.via = (r.via ?? .enterprise).proto
      $0.device = r.device ?? ""
    }
  }
}

extension RatingVia {
  var proto: Banjie_V1_RatingVia {
    switch self {
    case .enterprise: .enterprise
    case .pad: .pad
    case .code: .code
    }
  }
}

extension RectificationConfirmation {
  var proto: Banjie_V1_RectificationConfirmation {
    switch self {
    case .unconfirmed: .unspecified
    case .followUp: .followUp
    case .rater: .rater
    case .office: .office
    }
  }
}

extension RectificationState {
  var proto: Banjie_V1_RectificationState {
    switch self {
    case .open: .open
    case .verified: .verified
    case .rectified: .rectified
    case .followedUp: .followedUp
    case .closed: .closed
    }
  }

  init?(proto: Banjie_V1_RectificationState) {
    switch proto {
    case .open: self = .open
    case .verified: self = .verified
    case .rectified: self = .rectified
    case .followedUp: self = .followedUp
    case .closed: self = .closed
    default: return nil
    }
  }
}

extension AppealState {
  var proto: Banjie_V1_AppealState {
    switch self {
    case .none: .none
    case .pending: .pending
    case .upheld: .upheld
    case .rejected: .rejected
    }
  }
}

extension RectificationView {
  var proto: Banjie_V1_Rectification {
    let r = self.record
    return .with {
      $0.number = r.number
      $0.caseNumber = r.caseNumber
      $0.departmentCode = r.departmentCode
      $0.departmentName = self.departmentName
      $0.state = r.state.proto
      $0.limitWorkingDays = UInt32(r.limitWorkingDays)
      $0.openedAt = Google_Protobuf_Timestamp(milliseconds: r.openedAt)
      $0.verifiedValid = r.verifiedValid ?? false
      $0.verificationEvidence = r.verificationEvidence
      $0.verifiedBy = r.verifiedBy
      if let t = Google_Protobuf_Timestamp(r.verifiedAt) { $0.verifiedAt = t }
      $0.measures = r.measures
      if let t = Google_Protobuf_Timestamp(r.rectifiedAt) { $0.rectifiedAt = t }
      if let t = Google_Protobuf_Timestamp(r.completedAt) { $0.completedAt = t }
      $0.followUpResult = r.followUpResult
      $0.followUpSatisfied = r.followUpSatisfied ?? false
      if let t = Google_Protobuf_Timestamp(r.followedUpAt) { $0.followedUpAt = t }
      if let t = Google_Protobuf_Timestamp(r.closedAt) { $0.closedAt = t }
      $0.appealState = r.appealState.proto
      $0.appealReason = r.appealReason
      $0.appealDecision = r.appealDecision
      if let t = Google_Protobuf_Timestamp(r.appealedAt) { $0.appealedAt = t }
      if let t = Google_Protobuf_Timestamp(r.appealDecidedAt) { $0.appealDecidedAt = t }
      if let sla = self.sla { $0.sla = sla.proto }
      $0.completedOnTime = r.completedAt.map { $0 <= r.dueAt } ?? false
      $0.rating = self.rating.proto
      $0.version = r.version
      $0.ratedOrganization = r.ratedOrg ?? ""
      $0.ratedPerson = r.ratedPerson ?? ""
      $0.confirmation = (r.confirmation ?? .unconfirmed).proto
      $0.confirmationNote = r.confirmationNote ?? ""
      $0.confirmedBy = r.confirmedBy ?? ""
      if let t = Google_Protobuf_Timestamp(r.confirmedAt) { $0.confirmedAt = t }
    }
  }
}

extension RatingMeasuresRow {
  var proto: Banjie_V1_RatingMeasures {
    .with {
      $0.key = self.key
      $0.name = self.name
      $0.completed = UInt32(self.completed)
      $0.rated = UInt32(self.rated)
      $0.excluded = UInt32(self.excluded)
      $0.good = UInt32(self.good)
      $0.goodShare = self.goodShare
      $0.unrated = UInt32(self.unrated)
      $0.unratedShare = self.unratedShare
      $0.bad = UInt32(self.bad)
      $0.rectifiedOnTime = UInt32(self.rectifiedOnTime)
      $0.rectifiedOnTimeShare = self.rectifiedOnTimeShare
      $0.followedUp = UInt32(self.followedUp)
      $0.followUpShare = self.followUpShare
    }
  }
}

extension CampaignState {
  var proto: Banjie_V1_CampaignState {
    switch self {
    case .draft: .draft
    case .open: .open
    case .closed: .closed
    case .published: .published
    }
  }
}

extension ReviewCampaignView {
  var proto: Banjie_V1_Campaign {
    let r = self.record
    return .with {
      $0.id = r.id ?? 0
      $0.name = r.name
      $0.periodFrom = r.periodFrom
      $0.periodTo = r.periodTo
      $0.departmentCodes = r.departments
      $0.dimensions = r.dimensions.map { d in
        .with {
          $0.name = d.name
          $0.weightPercent = UInt32(d.weightPercent)
        }
      }
      $0.invited = self.invited
      $0.state = r.state.proto
      $0.reviews = UInt32(self.reviews)
      $0.createdAt = Google_Protobuf_Timestamp(milliseconds: r.createdAt)
      if let t = Google_Protobuf_Timestamp(r.openedAt) { $0.openedAt = t }
      if let t = Google_Protobuf_Timestamp(r.closedAt) { $0.closedAt = t }
      if let t = Google_Protobuf_Timestamp(r.publishedAt) { $0.publishedAt = t }
      $0.reviewedByMe = self.reviewedByCaller
    }
  }
}

extension CampaignReviewView {
  var proto: Banjie_V1_Review {
    .with {
      $0.campaignID = self.campaignId
      $0.uscc = self.uscc
      $0.departmentCode = self.departmentCode
      $0.scores = self.scores.keys.sorted().map { name in
        .with {
          $0.dimension = name
          $0.score = UInt32(self.scores[name] ?? 0)
        }
      }
      $0.weightedScore = Double(self.weightedHundredths) / 100
      $0.comment = self.comment
      $0.submittedAt = Google_Protobuf_Timestamp(milliseconds: self.submittedAt)
    }
  }
}

extension DepartmentResultRow {
  var proto: Banjie_V1_DepartmentResult {
    .with {
      $0.departmentCode = self.departmentCode
      $0.departmentName = self.departmentName
      $0.score = self.score
      $0.reviews = UInt32(self.reviews)
      $0.invited = UInt32(self.invited)
      $0.responseRate = self.responseRate
      $0.rank = UInt32(self.rank)
    }
  }
}
