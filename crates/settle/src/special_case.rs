//! 特例单议 — special-case review: application, quota, double-blind review, half-yearly notice.
//!
//! `payment-model.md` §5. A hospital applies with cases of one review period
//! (`special_case.review_period`, a quarter by default) and a reason ([`ReasonKind`]).
//!
//! **Quota.** At most `floor(max_share × settled cases)` cases per hospital and period, where
//! the settled cases are the hospital's DRG-settled cases (`max_share_drg`) or DIP-settled
//! cases (`max_share_dip`) of the period, and the cases of its earlier applications of the
//! period count against it. The quota rounds *down*: 5% of 119 cases is 5.95, so 5 cases;
//! 5‰ of 1,000 DIP cases is exactly 5. Beyond it the application is refused with the counts.
//!
//! **Review** ([`Application::apply`]), double-blind: reviewers never see the hospital
//! ([`ReviewerView`]), the hospital never sees the reviewers ([`HospitalView`]).
//!
//! ```text
//! submitted ──assign first reviewer (bureau)──► first_review ──record first review (that reviewer)──►
//! first_reviewed ──assign second reviewer (bureau, another reviewer)──► second_review
//! ──record second review (that reviewer)──► decided
//! submitted | first_review ──withdraw (the hospital)──► withdrawn
//! ```
//! Each review gives one [`CaseOpinion`] per case of the application: approved per item,
//! approved with extra points, or rejected, each with the experts' reason. The second review
//! (复审) decides; the first review (初审) is kept and shown to the second reviewer. Anything
//! else is an error ([`SpecialCaseError`]) that leaves the application unchanged; every
//! change returns its [`AuditEvent`].
//!
//! **Notice** ([`half_year_notice`]): per hospital and half-year (January–June, July–December;
//! the first notice, in July 2025, covers 2025H1), the cases applied for, approved, rejected,
//! withdrawn and pending. An application counts in the half-year in which its review period
//! ends (a yearly period counts in the second half).
//!
//! Free text and case ids travel as the hospital wrote them: the store must give reviewers
//! case ids that do not encode the hospital.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use drgdip_pay::params::{Method, ReviewPeriod};
use drgdip_pay::{Category, Params, SpecialApproval};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::audit::{Action, Actor, AuditEvent, Audited, Role};
use crate::calendar::{HalfYear, Period};
use crate::monthly::SettledCase;
use crate::percent;

/// The reason a hospital gives for a special case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonKind {
    /// 住院时间长 — a long stay.
    LongStay,
    /// 医疗费用高 — a high cost.
    HighCost,
    /// 新药耗新技术 — a new drug, device or technique.
    NewTechnology,
    /// 复杂危重症 — a complex critical illness.
    ComplexCritical,
    /// 多学科联合诊疗 — multi-disciplinary treatment.
    Multidisciplinary,
}

impl ReasonKind {
    /// Every reason, in order.
    pub const ALL: [ReasonKind; 5] = [
        ReasonKind::LongStay,
        ReasonKind::HighCost,
        ReasonKind::NewTechnology,
        ReasonKind::ComplexCritical,
        ReasonKind::Multidisciplinary,
    ];

    /// The reason's name in files: `long_stay`, `high_cost`, `new_technology`,
    /// `complex_critical`, `multidisciplinary`.
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonKind::LongStay => "long_stay",
            ReasonKind::HighCost => "high_cost",
            ReasonKind::NewTechnology => "new_technology",
            ReasonKind::ComplexCritical => "complex_critical",
            ReasonKind::Multidisciplinary => "multidisciplinary",
        }
    }

    /// The reason named `text`, if any.
    pub fn parse(text: &str) -> Option<ReasonKind> {
        Self::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

impl fmt::Display for ReasonKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the quota is computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaBase {
    /// DRG or DIP: selects `max_share_drg` or `max_share_dip`.
    pub method: Method,
    /// The hospital's settled cases of the period ([`settled_cases_in_period`]).
    pub settled_cases: u64,
    /// Cases of the hospital's earlier applications of the period (withdrawn ones excluded).
    pub already_applied: u64,
}

/// A quota check that passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quota {
    /// DRG or DIP.
    pub method: Method,
    /// The share applied.
    pub share: Decimal,
    /// The hospital's settled cases of the period.
    pub settled_cases: u64,
    /// `floor(share × settled_cases)`.
    pub limit: u64,
    /// Cases already applied for in the period.
    pub already_applied: u64,
    /// Cases of this application.
    pub requested: u64,
}

impl fmt::Display for Quota {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "quota floor({}% × {} {}-settled cases) = {}; {} already applied + {} requested",
            percent(self.share),
            self.settled_cases,
            self.method.as_str().to_uppercase(),
            self.limit,
            self.already_applied,
            self.requested
        )
    }
}

/// Checks `requested` more cases against the quota of `base` (see the module documentation).
pub fn check_quota(
    params: &Params,
    base: QuotaBase,
    requested: u64,
) -> Result<Quota, SpecialCaseError> {
    let share = match base.method {
        Method::Drg => params.special_case.max_share_drg,
        Method::Dip => params.special_case.max_share_dip,
    };
    let limit = (share * Decimal::from(base.settled_cases))
        .floor()
        .try_into()
        .unwrap_or(u64::MAX);
    let quota = Quota {
        method: base.method,
        share,
        settled_cases: base.settled_cases,
        limit,
        already_applied: base.already_applied,
        requested,
    };
    let total = base.already_applied.saturating_add(requested);
    if total > limit {
        return Err(SpecialCaseError::QuotaExceeded {
            over: total - limit,
            quota: quota.to_string(),
        });
    }
    Ok(quota)
}

/// The settled cases of `hospital_id` discharged in `period` (invalid cases, which are not
/// paid, excluded): the base of the quota.
pub fn settled_cases_in_period<'a>(
    cases: impl IntoIterator<Item = &'a SettledCase>,
    hospital_id: &str,
    period: Period,
) -> u64 {
    cases
        .into_iter()
        .filter(|c| {
            c.hospital_id == hospital_id
                && period.contains(c.discharge_month)
                && c.category != Category::Invalid
        })
        .count() as u64
}

/// The experts' outcome for one case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Outcome {
    /// Approved, paid per item (按项目).
    ApprovedPerItem,
    /// Approved, paid the standard plus extra points (追加点数), > 0.
    ApprovedExtraPoints {
        /// The points approved.
        points: Decimal,
    },
    /// Rejected.
    Rejected,
}

impl Outcome {
    /// Whether the case is approved.
    pub fn is_approved(self) -> bool {
        !matches!(self, Outcome::Rejected)
    }

    /// The approval to pay the case with ([`drgdip_pay::pay_case`]), if approved.
    pub fn approval(self) -> Option<SpecialApproval> {
        match self {
            Outcome::ApprovedPerItem => Some(SpecialApproval::PerItem),
            Outcome::ApprovedExtraPoints { points } => Some(SpecialApproval::ExtraPoints(points)),
            Outcome::Rejected => None,
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::ApprovedPerItem => f.write_str("approved per item"),
            Outcome::ApprovedExtraPoints { points } => {
                write!(f, "approved with {points} extra points")
            }
            Outcome::Rejected => f.write_str("rejected"),
        }
    }
}

/// A reviewer's outcome for one case, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseOpinion {
    /// The case.
    pub case_id: String,
    /// The outcome.
    pub outcome: Outcome,
    /// The experts' reason (required).
    pub reason: String,
}

/// A review by one reviewer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Review {
    reviewer: String,
    /// One per case, sorted by case id.
    opinions: Vec<CaseOpinion>,
}

/// The state of an application, with what each state knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
enum Stage {
    Submitted,
    FirstReview {
        first_reviewer: String,
    },
    FirstReviewed {
        first: Review,
    },
    SecondReview {
        first: Review,
        second_reviewer: String,
    },
    Decided {
        first: Review,
        second: Review,
    },
    Withdrawn {
        reason: String,
    },
}

/// The state of an application (without its data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewState {
    /// Submitted, waiting for a first reviewer.
    Submitted,
    /// 初审 — with the first reviewer.
    FirstReview,
    /// First review done, waiting for a second reviewer.
    FirstReviewed,
    /// 复审 — with the second reviewer.
    SecondReview,
    /// Decided by the second review.
    Decided,
    /// Withdrawn by the hospital.
    Withdrawn,
}

impl ReviewState {
    /// The state's name: `submitted`, `first_review`, …
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewState::Submitted => "submitted",
            ReviewState::FirstReview => "first_review",
            ReviewState::FirstReviewed => "first_reviewed",
            ReviewState::SecondReview => "second_review",
            ReviewState::Decided => "decided",
            ReviewState::Withdrawn => "withdrawn",
        }
    }
}

impl fmt::Display for ReviewState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A step of the review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    /// The bureau assigns the first reviewer (submitted → first_review).
    AssignFirstReviewer {
        /// The reviewer.
        reviewer_id: String,
    },
    /// The first reviewer records an opinion per case (first_review → first_reviewed).
    RecordFirstReview {
        /// One per case.
        opinions: Vec<CaseOpinion>,
    },
    /// The bureau assigns a second, different reviewer (first_reviewed → second_review).
    AssignSecondReviewer {
        /// The reviewer.
        reviewer_id: String,
    },
    /// The second reviewer decides each case (second_review → decided).
    RecordSecondReview {
        /// One per case.
        decisions: Vec<CaseOpinion>,
    },
    /// The hospital withdraws its application (submitted | first_review → withdrawn).
    Withdraw {
        /// Why.
        reason: String,
    },
}

impl Command {
    /// The command's name: `assign_first_reviewer`, …
    pub fn name(&self) -> &'static str {
        match self {
            Command::AssignFirstReviewer { .. } => "assign_first_reviewer",
            Command::RecordFirstReview { .. } => "record_first_review",
            Command::AssignSecondReviewer { .. } => "assign_second_reviewer",
            Command::RecordSecondReview { .. } => "record_second_review",
            Command::Withdraw { .. } => "withdraw",
        }
    }

    /// Whether an actor of `role` may give this command at all.
    fn allowed_for(&self, role: &Role) -> bool {
        match self {
            Command::AssignFirstReviewer { .. } | Command::AssignSecondReviewer { .. } => {
                matches!(role, Role::Bureau)
            }
            Command::RecordFirstReview { .. } | Command::RecordSecondReview { .. } => {
                matches!(role, Role::Reviewer)
            }
            Command::Withdraw { .. } => matches!(role, Role::Hospital { .. }),
        }
    }
}

/// Why an application, a review step, a view or a notice is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SpecialCaseError {
    /// The actor's role may not do this (or it is another hospital's application).
    #[error("{actor} may not {what} on application {application_id}")]
    NotAllowed {
        /// The actor, with the role.
        actor: String,
        /// What was attempted.
        what: &'static str,
        /// The application.
        application_id: String,
    },
    /// A reviewer who is not the one assigned.
    #[error("{actor} is not the reviewer assigned to {what} on application {application_id}")]
    NotAssigned {
        /// The actor.
        actor: String,
        /// What was attempted.
        what: &'static str,
        /// The application.
        application_id: String,
    },
    /// The command is not possible in the application's state.
    #[error("application {application_id} is {from}: {command} is not possible")]
    IllegalTransition {
        /// The application.
        application_id: String,
        /// Its state.
        from: ReviewState,
        /// The command.
        command: &'static str,
    },
    /// The second reviewer is the first reviewer.
    #[error("application {application_id}: the second reviewer must not be the first reviewer {reviewer_id}")]
    SameReviewer {
        /// The application.
        application_id: String,
        /// The reviewer.
        reviewer_id: String,
    },
    /// An empty reviewer id.
    #[error("application {application_id}: expected a reviewer id, found an empty one")]
    EmptyReviewer {
        /// The application.
        application_id: String,
    },
    /// A period of the wrong kind.
    #[error("review period {period}: expected a {expected} period (special_case.review_period)")]
    WrongPeriodKind {
        /// The period given.
        period: Period,
        /// The kind the parameters ask for.
        expected: ReviewPeriod,
    },
    /// An application without cases.
    #[error("application {application_id}: expected at least one case")]
    NoCases {
        /// The application.
        application_id: String,
    },
    /// A case twice in an application.
    #[error("application {application_id}: case {case_id} appears more than once")]
    DuplicateCase {
        /// The application.
        application_id: String,
        /// The case.
        case_id: String,
    },
    /// An application without its text.
    #[error("application {application_id}: expected the reason in words, found an empty text")]
    MissingText {
        /// The application.
        application_id: String,
    },
    /// Beyond the quota.
    #[error("quota exceeded by {over} cases: {quota}")]
    QuotaExceeded {
        /// Cases over the limit.
        over: u64,
        /// The quota arithmetic.
        quota: String,
    },
    /// A case of the application without an opinion.
    #[error("application {application_id}: no opinion on case {case_id}")]
    MissingOpinion {
        /// The application.
        application_id: String,
        /// The case.
        case_id: String,
    },
    /// An opinion on a case that is not in the application.
    #[error("application {application_id}: case {case_id} is not in the application")]
    UnknownCase {
        /// The application.
        application_id: String,
        /// The case.
        case_id: String,
    },
    /// Two opinions on one case.
    #[error("application {application_id}: more than one opinion on case {case_id}")]
    DuplicateOpinion {
        /// The application.
        application_id: String,
        /// The case.
        case_id: String,
    },
    /// An opinion without the experts' reason.
    #[error("application {application_id}: the opinion on case {case_id} has no reason")]
    MissingReason {
        /// The application.
        application_id: String,
        /// The case.
        case_id: String,
    },
    /// Extra points that are not positive.
    #[error("application {application_id}: case {case_id} approved with {points} extra points, expected points > 0")]
    NonPositivePoints {
        /// The application.
        application_id: String,
        /// The case.
        case_id: String,
        /// The points given.
        points: Decimal,
    },
    /// A notice before the first one (2025H1).
    #[error("half-year {half}: the first special-case notice covers 2025H1")]
    BeforeFirstNotice {
        /// The half-year asked for.
        half: HalfYear,
    },
}

/// What a hospital submits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationRequest {
    /// The application's id, issued by the store (must not encode the hospital).
    pub id: String,
    /// The applying hospital.
    pub hospital_id: String,
    /// The review period the cases belong to.
    pub period: Period,
    /// The cases.
    pub case_ids: Vec<String>,
    /// The kind of reason.
    pub reason: ReasonKind,
    /// The reason in words.
    pub text: String,
}

/// A special-case application and its review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Application {
    id: String,
    hospital_id: String,
    period: Period,
    /// Sorted, unique.
    case_ids: Vec<String>,
    reason: ReasonKind,
    text: String,
    stage: Stage,
}

/// What a reviewer sees: no hospital, no other reviewer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewerView {
    /// The application.
    pub application_id: String,
    /// The review period.
    pub period: Period,
    /// The kind of reason.
    pub reason: ReasonKind,
    /// The reason in words.
    pub text: String,
    /// The cases.
    pub case_ids: Vec<String>,
    /// The application's state.
    pub state: ReviewState,
    /// The first review's opinions, for the second reviewer (without the first reviewer).
    pub first_review: Option<Vec<CaseOpinion>>,
}

/// What the hospital sees: no reviewer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HospitalView {
    /// The application.
    pub application_id: String,
    /// The hospital.
    pub hospital_id: String,
    /// The review period.
    pub period: Period,
    /// The kind of reason.
    pub reason: ReasonKind,
    /// The reason in words.
    pub text: String,
    /// The cases.
    pub case_ids: Vec<String>,
    /// The application's state.
    pub state: ReviewState,
    /// The decision per case with the experts' reason, once decided.
    pub outcomes: Option<Vec<CaseOpinion>>,
}

impl Application {
    /// A hospital submits an application: the actor must act for the applying hospital, the
    /// period must be of the kind `special_case.review_period`, the cases unique and not
    /// empty, the text not empty, and the cases within the quota of `base`. Returns the
    /// application (state `submitted`) and its audit event.
    pub fn submit(
        actor: &Actor,
        request: ApplicationRequest,
        params: &Params,
        base: QuotaBase,
    ) -> Result<Audited<Application>, SpecialCaseError> {
        let id = request.id;
        if actor.hospital_id() != Some(request.hospital_id.as_str()) {
            return Err(SpecialCaseError::NotAllowed {
                actor: actor.to_string(),
                what: "submit",
                application_id: id,
            });
        }
        let expected = params.special_case.review_period;
        if request.period.kind() != expected {
            return Err(SpecialCaseError::WrongPeriodKind {
                period: request.period,
                expected,
            });
        }
        if request.case_ids.is_empty() {
            return Err(SpecialCaseError::NoCases { application_id: id });
        }
        let mut case_ids = request.case_ids;
        case_ids.sort();
        if let Some(pair) = case_ids.windows(2).find(|pair| pair[0] == pair[1]) {
            return Err(SpecialCaseError::DuplicateCase {
                case_id: pair[0].clone(),
                application_id: id,
            });
        }
        if request.text.trim().is_empty() {
            return Err(SpecialCaseError::MissingText { application_id: id });
        }
        let quota = check_quota(params, base, case_ids.len() as u64)?;
        let application = Application {
            id,
            hospital_id: request.hospital_id,
            period: request.period,
            case_ids,
            reason: request.reason,
            text: request.text,
            stage: Stage::Submitted,
        };
        let event = AuditEvent::new(
            actor,
            Action::SpecialCaseSubmitted,
            application.id.clone(),
            format!(
                "{}: {} cases of {}; {quota}",
                application.reason,
                application.case_ids.len(),
                application.period
            ),
        )
        .after(ReviewState::Submitted.as_str());
        Ok(Audited {
            value: application,
            events: vec![event],
        })
    }

    /// The application's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The applying hospital (for the bureau and the store; never in a [`ReviewerView`]).
    pub fn hospital_id(&self) -> &str {
        &self.hospital_id
    }

    /// The review period.
    pub fn period(&self) -> Period {
        self.period
    }

    /// The cases, sorted.
    pub fn case_ids(&self) -> &[String] {
        &self.case_ids
    }

    /// The kind of reason.
    pub fn reason(&self) -> ReasonKind {
        self.reason
    }

    /// The reason in words.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The state.
    pub fn state(&self) -> ReviewState {
        match self.stage {
            Stage::Submitted => ReviewState::Submitted,
            Stage::FirstReview { .. } => ReviewState::FirstReview,
            Stage::FirstReviewed { .. } => ReviewState::FirstReviewed,
            Stage::SecondReview { .. } => ReviewState::SecondReview,
            Stage::Decided { .. } => ReviewState::Decided,
            Stage::Withdrawn { .. } => ReviewState::Withdrawn,
        }
    }

    /// The first reviewer, once assigned (for the bureau; never in a [`HospitalView`]).
    pub fn first_reviewer(&self) -> Option<&str> {
        match &self.stage {
            Stage::FirstReview { first_reviewer } => Some(first_reviewer),
            Stage::FirstReviewed { first }
            | Stage::SecondReview { first, .. }
            | Stage::Decided { first, .. } => Some(&first.reviewer),
            Stage::Submitted | Stage::Withdrawn { .. } => None,
        }
    }

    /// The second reviewer, once assigned (for the bureau).
    pub fn second_reviewer(&self) -> Option<&str> {
        match &self.stage {
            Stage::SecondReview {
                second_reviewer, ..
            } => Some(second_reviewer),
            Stage::Decided { second, .. } => Some(&second.reviewer),
            _ => None,
        }
    }

    /// The first review's opinions, once recorded.
    pub fn first_review(&self) -> Option<&[CaseOpinion]> {
        match &self.stage {
            Stage::FirstReviewed { first }
            | Stage::SecondReview { first, .. }
            | Stage::Decided { first, .. } => Some(&first.opinions),
            _ => None,
        }
    }

    /// The decision per case (the second review), once decided.
    pub fn decisions(&self) -> Option<&[CaseOpinion]> {
        match &self.stage {
            Stage::Decided { second, .. } => Some(&second.opinions),
            _ => None,
        }
    }

    /// The approved cases and how to pay them ([`drgdip_pay::PayInput::special`]).
    pub fn approvals(&self) -> Vec<(&str, SpecialApproval)> {
        self.decisions()
            .unwrap_or_default()
            .iter()
            .filter_map(|o| o.outcome.approval().map(|a| (o.case_id.as_str(), a)))
            .collect()
    }

    fn not_allowed(&self, actor: &Actor, what: &'static str) -> SpecialCaseError {
        SpecialCaseError::NotAllowed {
            actor: actor.to_string(),
            what,
            application_id: self.id.clone(),
        }
    }

    fn not_assigned(&self, actor: &Actor, what: &'static str) -> SpecialCaseError {
        SpecialCaseError::NotAssigned {
            actor: actor.to_string(),
            what,
            application_id: self.id.clone(),
        }
    }

    fn illegal(&self, command: &'static str) -> SpecialCaseError {
        SpecialCaseError::IllegalTransition {
            application_id: self.id.clone(),
            from: self.state(),
            command,
        }
    }

    /// Checks one opinion per case of the application, each with a reason, extra points > 0;
    /// returns them sorted by case id.
    fn checked_opinions(
        &self,
        opinions: Vec<CaseOpinion>,
    ) -> Result<Vec<CaseOpinion>, SpecialCaseError> {
        let id = || self.id.clone();
        let mut by_case: BTreeMap<String, CaseOpinion> = BTreeMap::new();
        for opinion in opinions {
            if self.case_ids.binary_search(&opinion.case_id).is_err() {
                return Err(SpecialCaseError::UnknownCase {
                    application_id: id(),
                    case_id: opinion.case_id,
                });
            }
            if opinion.reason.trim().is_empty() {
                return Err(SpecialCaseError::MissingReason {
                    application_id: id(),
                    case_id: opinion.case_id,
                });
            }
            if let Outcome::ApprovedExtraPoints { points } = opinion.outcome {
                if points <= Decimal::ZERO {
                    return Err(SpecialCaseError::NonPositivePoints {
                        application_id: id(),
                        case_id: opinion.case_id,
                        points,
                    });
                }
            }
            if by_case.contains_key(&opinion.case_id) {
                return Err(SpecialCaseError::DuplicateOpinion {
                    application_id: id(),
                    case_id: opinion.case_id,
                });
            }
            by_case.insert(opinion.case_id.clone(), opinion);
        }
        if let Some(missing) = self.case_ids.iter().find(|c| !by_case.contains_key(*c)) {
            return Err(SpecialCaseError::MissingOpinion {
                application_id: id(),
                case_id: missing.clone(),
            });
        }
        Ok(by_case.into_values().collect())
    }

    /// Applies one review step by `actor`. Checks, in order: the actor's role may give the
    /// command at all; the state allows it; the actor is the assigned reviewer (or the
    /// applying hospital, for a withdrawal); the command's content. On any error the
    /// application is unchanged; on success the audit event of the change is returned.
    pub fn apply(
        &mut self,
        actor: &Actor,
        command: Command,
    ) -> Result<AuditEvent, SpecialCaseError> {
        let name = command.name();
        if !command.allowed_for(&actor.role) {
            return Err(self.not_allowed(actor, name));
        }
        let before = self.state();
        let (stage, action, reason) = match (command, &self.stage) {
            (Command::AssignFirstReviewer { reviewer_id }, Stage::Submitted) => {
                if reviewer_id.trim().is_empty() {
                    return Err(SpecialCaseError::EmptyReviewer {
                        application_id: self.id.clone(),
                    });
                }
                (
                    Stage::FirstReview {
                        first_reviewer: reviewer_id.clone(),
                    },
                    Action::FirstReviewerAssigned,
                    format!("first reviewer (初审) {reviewer_id} assigned"),
                )
            }
            (Command::RecordFirstReview { opinions }, Stage::FirstReview { first_reviewer }) => {
                if &actor.id != first_reviewer {
                    return Err(self.not_assigned(actor, name));
                }
                let opinions = self.checked_opinions(opinions)?;
                let reason = format!("first review (初审): {}", tally(&opinions));
                (
                    Stage::FirstReviewed {
                        first: Review {
                            reviewer: first_reviewer.clone(),
                            opinions,
                        },
                    },
                    Action::FirstReviewRecorded,
                    reason,
                )
            }
            (Command::AssignSecondReviewer { reviewer_id }, Stage::FirstReviewed { first }) => {
                if reviewer_id.trim().is_empty() {
                    return Err(SpecialCaseError::EmptyReviewer {
                        application_id: self.id.clone(),
                    });
                }
                if reviewer_id == first.reviewer {
                    return Err(SpecialCaseError::SameReviewer {
                        application_id: self.id.clone(),
                        reviewer_id,
                    });
                }
                (
                    Stage::SecondReview {
                        first: first.clone(),
                        second_reviewer: reviewer_id.clone(),
                    },
                    Action::SecondReviewerAssigned,
                    format!("second reviewer (复审) {reviewer_id} assigned"),
                )
            }
            (
                Command::RecordSecondReview { decisions },
                Stage::SecondReview {
                    first,
                    second_reviewer,
                },
            ) => {
                if &actor.id != second_reviewer {
                    return Err(self.not_assigned(actor, name));
                }
                let opinions = self.checked_opinions(decisions)?;
                let reason = format!("second review (复审): {}", tally(&opinions));
                (
                    Stage::Decided {
                        first: first.clone(),
                        second: Review {
                            reviewer: second_reviewer.clone(),
                            opinions,
                        },
                    },
                    Action::SecondReviewRecorded,
                    reason,
                )
            }
            (Command::Withdraw { reason }, Stage::Submitted | Stage::FirstReview { .. }) => {
                if actor.hospital_id() != Some(self.hospital_id.as_str()) {
                    return Err(self.not_allowed(actor, name));
                }
                (
                    Stage::Withdrawn {
                        reason: reason.clone(),
                    },
                    Action::SpecialCaseWithdrawn,
                    format!("withdrawn by the hospital: {reason}"),
                )
            }
            _ => return Err(self.illegal(name)),
        };
        self.stage = stage;
        Ok(AuditEvent::new(actor, action, self.id.clone(), reason)
            .before(before.as_str())
            .after(self.state().as_str()))
    }

    /// The bureau assigns the first reviewer.
    pub fn assign_first_reviewer(
        &mut self,
        actor: &Actor,
        reviewer_id: impl Into<String>,
    ) -> Result<AuditEvent, SpecialCaseError> {
        self.apply(
            actor,
            Command::AssignFirstReviewer {
                reviewer_id: reviewer_id.into(),
            },
        )
    }

    /// The first reviewer records an opinion per case.
    pub fn record_first_review(
        &mut self,
        actor: &Actor,
        opinions: Vec<CaseOpinion>,
    ) -> Result<AuditEvent, SpecialCaseError> {
        self.apply(actor, Command::RecordFirstReview { opinions })
    }

    /// The bureau assigns the second reviewer.
    pub fn assign_second_reviewer(
        &mut self,
        actor: &Actor,
        reviewer_id: impl Into<String>,
    ) -> Result<AuditEvent, SpecialCaseError> {
        self.apply(
            actor,
            Command::AssignSecondReviewer {
                reviewer_id: reviewer_id.into(),
            },
        )
    }

    /// The second reviewer decides each case.
    pub fn record_second_review(
        &mut self,
        actor: &Actor,
        decisions: Vec<CaseOpinion>,
    ) -> Result<AuditEvent, SpecialCaseError> {
        self.apply(actor, Command::RecordSecondReview { decisions })
    }

    /// The hospital withdraws its application.
    pub fn withdraw(
        &mut self,
        actor: &Actor,
        reason: impl Into<String>,
    ) -> Result<AuditEvent, SpecialCaseError> {
        self.apply(
            actor,
            Command::Withdraw {
                reason: reason.into(),
            },
        )
    }

    /// What `actor`, a reviewer assigned to this application, sees: the cases and the
    /// hospital's reason, never the hospital; the second reviewer also sees the first
    /// review's opinions, never the first reviewer.
    pub fn reviewer_view(&self, actor: &Actor) -> Result<ReviewerView, SpecialCaseError> {
        const WHAT: &str = "view as reviewer";
        if actor.role != Role::Reviewer {
            return Err(self.not_allowed(actor, WHAT));
        }
        let is_second = self.second_reviewer() == Some(actor.id.as_str());
        if !is_second && self.first_reviewer() != Some(actor.id.as_str()) {
            return Err(self.not_assigned(actor, WHAT));
        }
        Ok(ReviewerView {
            application_id: self.id.clone(),
            period: self.period,
            reason: self.reason,
            text: self.text.clone(),
            case_ids: self.case_ids.clone(),
            state: self.state(),
            first_review: if is_second {
                self.first_review().map(<[CaseOpinion]>::to_vec)
            } else {
                None
            },
        })
    }

    /// What the applying hospital sees: its application, its state and, once decided, the
    /// decision per case with the experts' reasons — never a reviewer.
    pub fn hospital_view(&self, actor: &Actor) -> Result<HospitalView, SpecialCaseError> {
        if actor.hospital_id() != Some(self.hospital_id.as_str()) {
            return Err(self.not_allowed(actor, "view as hospital"));
        }
        Ok(HospitalView {
            application_id: self.id.clone(),
            hospital_id: self.hospital_id.clone(),
            period: self.period,
            reason: self.reason,
            text: self.text.clone(),
            case_ids: self.case_ids.clone(),
            state: self.state(),
            outcomes: self.decisions().map(<[CaseOpinion]>::to_vec),
        })
    }
}

/// `2 approved per item, 1 approved with extra points, 1 rejected`.
fn tally(opinions: &[CaseOpinion]) -> String {
    let count = |f: fn(&Outcome) -> bool| opinions.iter().filter(|o| f(&o.outcome)).count();
    format!(
        "{} approved per item, {} approved with extra points, {} rejected",
        count(|o| matches!(o, Outcome::ApprovedPerItem)),
        count(|o| matches!(o, Outcome::ApprovedExtraPoints { .. })),
        count(|o| matches!(o, Outcome::Rejected)),
    )
}

/// The first half-year with a notice (医保办发〔2024〕9号: first notice July 2025).
pub const FIRST_NOTICE: HalfYear = match HalfYear::new(2025, 1) {
    Some(half) => half,
    None => unreachable!(),
};

/// One hospital's line of the half-yearly special-case notice (特例单议公示).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeRow {
    /// The half-year.
    pub half: HalfYear,
    /// The hospital.
    pub hospital_id: String,
    /// Applications.
    pub applications: u64,
    /// Cases applied for (withdrawn ones included).
    pub cases_applied: u64,
    /// Cases approved (per item or with extra points).
    pub cases_approved: u64,
    /// Cases rejected.
    pub cases_rejected: u64,
    /// Cases of withdrawn applications.
    pub cases_withdrawn: u64,
    /// Cases not yet decided.
    pub cases_pending: u64,
}

impl fmt::Display for NoticeRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: {} cases applied for in {} applications; {} approved, {} rejected, {} withdrawn, {} pending",
            self.hospital_id,
            self.half,
            self.cases_applied,
            self.applications,
            self.cases_approved,
            self.cases_rejected,
            self.cases_withdrawn,
            self.cases_pending
        )
    }
}

/// The notice of `half`: one row per hospital of `hospital_ids` (zero rows included) and per
/// hospital with an application counted in the half-year, sorted by hospital id.
pub fn half_year_notice<'a>(
    applications: impl IntoIterator<Item = &'a Application>,
    half: HalfYear,
    hospital_ids: &[&str],
) -> Result<Vec<NoticeRow>, SpecialCaseError> {
    if half < FIRST_NOTICE {
        return Err(SpecialCaseError::BeforeFirstNotice { half });
    }
    let row = |hospital_id: &str| NoticeRow {
        half,
        hospital_id: hospital_id.to_string(),
        applications: 0,
        cases_applied: 0,
        cases_approved: 0,
        cases_rejected: 0,
        cases_withdrawn: 0,
        cases_pending: 0,
    };
    let mut rows: BTreeMap<String, NoticeRow> = hospital_ids
        .iter()
        .map(|id| (id.to_string(), row(id)))
        .collect();
    let mut seen = BTreeSet::new();
    for application in applications {
        if !half.contains(application.period.last_month()) || !seen.insert(&application.id) {
            continue;
        }
        let r = rows
            .entry(application.hospital_id.clone())
            .or_insert_with(|| row(&application.hospital_id));
        let cases = application.case_ids.len() as u64;
        r.applications += 1;
        r.cases_applied += cases;
        match (&application.stage, application.decisions()) {
            (_, Some(decisions)) => {
                let approved = decisions.iter().filter(|o| o.outcome.is_approved()).count() as u64;
                r.cases_approved += approved;
                r.cases_rejected += cases - approved;
            }
            (Stage::Withdrawn { .. }, None) => r.cases_withdrawn += cases,
            (_, None) => r.cases_pending += cases,
        }
    }
    Ok(rows.into_values().collect())
}

#[cfg(test)]
mod tests;
