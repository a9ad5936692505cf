//! Audit events (审计日志): who changed what, why, and the state before and after.
//!
//! Every function of this crate that changes a state — issuing monthly statements, issuing
//! clearing statements, deciding a prepayment, every step of a special-case review — returns
//! its [`AuditEvent`]s with its result ([`Audited`]). The events are values: this crate
//! neither stores them nor stamps them with a time (it reads no clock); the store appends
//! them to its log with the time of the write.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The role an actor acts in. A hospital user acts for one hospital.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Role {
    /// 定点医疗机构 — a user of one hospital.
    Hospital {
        /// The hospital the user acts for.
        hospital_id: String,
    },
    /// 评审专家 — a reviewer of special cases.
    Reviewer,
    /// 医保经办机构 — the bureau (settles, clears, assigns reviewers).
    Bureau,
    /// A scheduled or automatic run on behalf of the bureau.
    System,
}

impl Role {
    /// The role's name without its hospital: `hospital`, `reviewer`, `bureau`, `system`.
    pub fn kind(&self) -> &'static str {
        match self {
            Role::Hospital { .. } => "hospital",
            Role::Reviewer => "reviewer",
            Role::Bureau => "bureau",
            Role::System => "system",
        }
    }

    /// Whether the role acts for the bureau (the bureau itself or a system run).
    pub fn is_bureau(&self) -> bool {
        matches!(self, Role::Bureau | Role::System)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Role::Hospital { hospital_id } => write!(f, "hospital {hospital_id}"),
            other => f.write_str(other.kind()),
        }
    }
}

/// Who acts: a user or run id and its role.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Actor {
    /// The user's (or run's) identifier.
    pub id: String,
    /// The role the user acts in.
    pub role: Role,
}

impl Actor {
    /// A bureau user.
    pub fn bureau(id: impl Into<String>) -> Actor {
        Actor {
            id: id.into(),
            role: Role::Bureau,
        }
    }

    /// A system run acting for the bureau.
    pub fn system(id: impl Into<String>) -> Actor {
        Actor {
            id: id.into(),
            role: Role::System,
        }
    }

    /// A reviewer.
    pub fn reviewer(id: impl Into<String>) -> Actor {
        Actor {
            id: id.into(),
            role: Role::Reviewer,
        }
    }

    /// A user of hospital `hospital_id`.
    pub fn hospital(id: impl Into<String>, hospital_id: impl Into<String>) -> Actor {
        Actor {
            id: id.into(),
            role: Role::Hospital {
                hospital_id: hospital_id.into(),
            },
        }
    }

    /// The hospital this actor acts for, if it is a hospital user.
    pub fn hospital_id(&self) -> Option<&str> {
        match &self.role {
            Role::Hospital { hospital_id } => Some(hospital_id),
            _ => None,
        }
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.id, self.role)
    }
}

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// 月结算 — a hospital's statement of a month was issued (or re-issued, replacing it).
    MonthlyStatementIssued,
    /// 年度清算 — a hospital's clearing statement of a year was issued.
    ClearingStatementIssued,
    /// 预付金 — a prepayment application was granted.
    PrepaymentGranted,
    /// 预付金 — a prepayment application was refused.
    PrepaymentRefused,
    /// 特例单议 — a hospital submitted an application.
    SpecialCaseSubmitted,
    /// The bureau assigned the first reviewer (初审).
    FirstReviewerAssigned,
    /// The first reviewer recorded the first review.
    FirstReviewRecorded,
    /// The bureau assigned the second reviewer (复审).
    SecondReviewerAssigned,
    /// The second reviewer recorded the decision.
    SecondReviewRecorded,
    /// The hospital withdrew its application.
    SpecialCaseWithdrawn,
    /// 抽查复核 — a decided case was drawn for a spot check (the seed in the reason).
    SpotCheckDrawn,
    /// The bureau assigned a spot check's re-review to an expert.
    SpotCheckAssigned,
    /// The expert recorded the re-review (confirmed or reversed).
    SpotCheckRecorded,
    /// A reversal of a spot check on a case of a settled month became an adjustment (补差)
    /// for the hospital's next statement.
    SpotCheckAdjustment,
    /// An assignment refused for a conflict of interest (own hospital, both stages, a
    /// spot check by a reviewer of the case, an unregistered or repeated expert).
    ConflictOfInterestRefused,
    /// The API refused a request (403): who asked, for what (in the reason), on what.
    AccessRefused,
    /// A re-run of a month was refused: it would have replaced a hospital's settled month
    /// with fewer than half as many cases (a truncated upload).
    MonthReplacementRefused,
    /// A re-run of a month replaced a hospital's settled month with fewer than half as many
    /// cases because the operator forced it (`--force`).
    MonthReplacementForced,
    /// 补差 — a re-run of a month found differences on a paid statement: the statement stays
    /// as it was, the differences go onto the hospital's next statement.
    AdjustmentRecorded,
    /// 年度清算 — the year was cleared: its months are closed to re-settlement.
    YearClosed,
    /// A closed year was reopened (its months may be re-settled, its clearing re-run).
    YearReopened,
    /// 拨付 — a payment of the fund against a monthly statement was recorded (before and
    /// after: the statement's paid and outstanding).
    PaymentRecorded,
    /// A payment was refused (unknown statement, reference already used, dated within the
    /// month it pays, or more than is outstanding); nothing was recorded.
    PaymentRefused,
    /// An opinion submitted (意见收集).
    OpinionSubmitted,
    /// An opinion classified by the bureau.
    OpinionClassified,
    /// An opinion forwarded to the provincial or national bureau.
    OpinionForwarded,
    /// An opinion answered.
    OpinionAnswered,
    /// An opinion closed.
    OpinionClosed,
    /// The data working group's roster of a year recorded (医保数据工作组).
    RosterRecorded,
    /// A version of a year's budget registered from a parameter file (总额预算).
    BudgetRegistered,
    /// A year's budget adjusted: a new version with its reason and approval (预算调整).
    BudgetAdjusted,
    /// A negotiation round opened (谈判协商).
    NegotiationOpened,
    /// A party listed in a negotiation round.
    NegotiationPartyAdded,
    /// A proposal or counter-proposal submitted to a round, with its simulation.
    NegotiationProposed,
    /// A round's outcome: a proposal agreed as the parameter version the region settles with.
    NegotiationAgreed,
    /// A round closed without agreement.
    NegotiationClosed,
    /// Minutes appended to a round.
    NegotiationMinutes,
}

impl Action {
    /// The action's name in the log (`special_case.first_review_recorded`).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::MonthlyStatementIssued => "settlement.monthly_statement_issued",
            Action::ClearingStatementIssued => "clearing.statement_issued",
            Action::PrepaymentGranted => "prepayment.granted",
            Action::PrepaymentRefused => "prepayment.refused",
            Action::SpecialCaseSubmitted => "special_case.submitted",
            Action::FirstReviewerAssigned => "special_case.first_reviewer_assigned",
            Action::FirstReviewRecorded => "special_case.first_review_recorded",
            Action::SecondReviewerAssigned => "special_case.second_reviewer_assigned",
            Action::SecondReviewRecorded => "special_case.second_review_recorded",
            Action::SpecialCaseWithdrawn => "special_case.withdrawn",
            Action::SpotCheckDrawn => "special_case.spot_check_drawn",
            Action::SpotCheckAssigned => "special_case.spot_check_assigned",
            Action::SpotCheckRecorded => "special_case.spot_check_recorded",
            Action::SpotCheckAdjustment => "special_case.spot_check_adjustment",
            Action::ConflictOfInterestRefused => "special_case.conflict_of_interest_refused",
            Action::AccessRefused => "api.access_refused",
            Action::MonthReplacementRefused => "settlement.month_replacement_refused",
            Action::MonthReplacementForced => "settlement.month_replacement_forced",
            Action::AdjustmentRecorded => "settlement.adjustment_recorded",
            Action::YearClosed => "clearing.year_closed",
            Action::YearReopened => "clearing.year_reopened",
            Action::PaymentRecorded => "payment.recorded",
            Action::PaymentRefused => "payment.refused",
            Action::OpinionSubmitted => "opinion.submitted",
            Action::OpinionClassified => "opinion.classified",
            Action::OpinionForwarded => "opinion.forwarded",
            Action::OpinionAnswered => "opinion.answered",
            Action::OpinionClosed => "opinion.closed",
            Action::RosterRecorded => "working_group.roster_recorded",
            Action::BudgetRegistered => "budget.registered",
            Action::BudgetAdjusted => "budget.adjusted",
            Action::NegotiationOpened => "negotiation.opened",
            Action::NegotiationPartyAdded => "negotiation.party_added",
            Action::NegotiationProposed => "negotiation.proposed",
            Action::NegotiationAgreed => "negotiation.agreed",
            Action::NegotiationClosed => "negotiation.closed",
            Action::NegotiationMinutes => "negotiation.minutes_appended",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One state change: who (`actor`, `role`), what (`action` on `subject`), why (`reason`),
/// and the state before and after, as short `key=value` text (`None` where there was no
/// state: `before` of a first issue, `after` of nothing). The time is the store's to add.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// The acting user's id.
    pub actor: String,
    /// The role the user acted in.
    pub role: Role,
    /// What was done.
    pub action: Action,
    /// What it was done to: `H001/2025-06`, `H001/2025`, an application id.
    pub subject: String,
    /// Why, in words.
    pub reason: String,
    /// The state before, if there was one.
    pub before: Option<String>,
    /// The state after.
    pub after: Option<String>,
}

impl AuditEvent {
    /// An event by `actor`.
    pub fn new(
        actor: &Actor,
        action: Action,
        subject: impl Into<String>,
        reason: impl Into<String>,
    ) -> AuditEvent {
        AuditEvent {
            actor: actor.id.clone(),
            role: actor.role.clone(),
            action,
            subject: subject.into(),
            reason: reason.into(),
            before: None,
            after: None,
        }
    }

    /// The same event with the state before.
    pub fn before(mut self, state: impl Into<String>) -> AuditEvent {
        self.before = Some(state.into());
        self
    }

    /// The same event with the state after.
    pub fn after(mut self, state: impl Into<String>) -> AuditEvent {
        self.after = Some(state.into());
        self
    }
}

impl fmt::Display for AuditEvent {
    /// `bureau-1 (bureau) special_case.first_reviewer_assigned A-7: submitted → first_review (reason)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}) {} {}: {} → {} ({})",
            self.actor,
            self.role,
            self.action,
            self.subject,
            self.before.as_deref().unwrap_or("-"),
            self.after.as_deref().unwrap_or("-"),
            self.reason
        )
    }
}

/// A result together with the audit events of the state changes that produced it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Audited<T> {
    /// The result.
    pub value: T,
    /// The events, in the order the changes happened.
    pub events: Vec<AuditEvent>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_renders_who_what_before_after_and_why() {
        let event = AuditEvent::new(
            &Actor::hospital("u-3", "H001"),
            Action::SpecialCaseWithdrawn,
            "A-7",
            "submitted in error",
        )
        .before("submitted")
        .after("withdrawn");
        assert_eq!(
            event.to_string(),
            "u-3 (hospital H001) special_case.withdrawn A-7: submitted → withdrawn (submitted in error)"
        );
        let issued = AuditEvent::new(
            &Actor::system("run-1"),
            Action::MonthlyStatementIssued,
            "H001/2025-06",
            "monthly settlement",
        );
        assert_eq!(
            issued.to_string(),
            "run-1 (system) settlement.monthly_statement_issued H001/2025-06: - → - (monthly settlement)"
        );
        assert!(Role::System.is_bureau() && !Role::Reviewer.is_bureau());
    }
}
