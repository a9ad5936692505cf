//! 特例单议 — special-case review: application, quota, double-blind review by the experts
//! (专家组), spot checks (抽查复核) and the half-yearly notice.
//!
//! `payment-model.md` §5. A hospital applies with cases of one review period
//! (`special_case.review_period`, a quarter by default) and a reason ([`ReasonKind`]).
//!
//! **Quota** ([`check_quota`]): the cap is the region's. `allocation = "pooled"`: at most
//! `floor(max_share × the region's settled cases of the period so far)` cases, shared first
//! come first served by every hospital's earlier applications of the period (withdrawn ones
//! excluded); `"per_hospital"`: each hospital `floor(max_share × its own settled cases)`, at
//! least `min_per_hospital` when it settled any case. The share is `max_share_drg` (5%) in a
//! DRG region, `max_share_dip` (5‰) on the DIP-settled cases of a DIP region. A refusal gives
//! the cap, the cases used, the remaining and the requested.
//!
//! **Review** ([`Application::apply`]), double-blind: reviewers never see the hospital
//! ([`ReviewerView`]: the cases under the application's own tokens `SC-000001-01`, with the
//! record captured at submission), the hospital never sees the reviewers ([`HospitalView`]).
//!
//! ```text
//! submitted ──assign first reviewers (bureau)──► first_review ──each records its review──►
//! first_reviewed ──assign second reviewer (bureau)──► second_review
//! ──record second review (that reviewer)──► decided
//! submitted | first_review ──withdraw (the hospital)──► withdrawn
//! ```
//! Reviewers are registered experts ([`Experts`]); the bureau assigns exactly
//! `first_review_experts` distinct experts to the first review (初审) and one other to the
//! second (复审). Conflicts of interest are refused ([`SpecialCaseError::OwnHospital`],
//! [`SpecialCaseError::BothStages`], [`SpecialCaseError::DuplicateReviewer`],
//! [`SpecialCaseError::WrongReviewerCount`], [`SpecialCaseError::SpotCheckConflict`]): nobody
//! reviews a case of the hospital they work at, nobody reviews both stages, nobody re-reviews
//! a case they took part in. Each review gives one [`CaseOpinion`] per case: approved per
//! item, approved with extra points (`0 < points ≤ max_extra_points`), or rejected, each with
//! the experts' reason. The second review decides, whether the first reviewers agreed or not;
//! the first reviews are shown to the second reviewer (without their authors) with the cases
//! on which they disagree. Anything else is an error ([`SpecialCaseError`]) that leaves the
//! application unchanged; every change returns its [`AuditEvent`].
//!
//! **Spot checks** ([`spot_check`]): a drawn decided case is re-reviewed by an expert who
//! took no part in its review and has no conflict; the re-review's outcome is the case's
//! final outcome ([`Application::final_outcome`]); a different outcome is a reversal, which
//! the ledger carries onto the hospital's next statement as an adjustment.
//!
//! **Notice** ([`half_year_notice`]): per hospital and half-year (January–June, July–December;
//! the first notice, in July 2025, covers 2025H1), the cases applied for, approved, rejected,
//! withdrawn and pending, with the region's totals and the spot-check results. An
//! application counts in the half-year in which its review period ends (a yearly period
//! counts in the second half).

pub mod experts;
pub mod rounds;
pub mod spot_check;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use drgdip_pay::params::{Method, QuotaAllocation, ReviewPeriod};
use drgdip_pay::{Category, Params, SpecialApproval};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use thiserror::Error;

pub use experts::{Expert, Experts, ExpertsError};
pub use rounds::{next_round, review_rounds, ReviewRound};
pub use spot_check::{draw_spot_checks, DrawnCase, SpotCheckDraw};

use crate::audit::{Action, Actor, AuditEvent, Audited, Role};
use crate::calendar::{HalfYear, Period, YearMonth};
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

/// What the quota is computed from: the settled cases of the period so far and the cases
/// of the earlier applications of the period (withdrawn ones excluded), of the region and of
/// the applying hospital.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotaBase {
    /// DRG or DIP: selects `max_share_drg` or `max_share_dip`.
    pub method: Method,
    /// The region's settled cases of the period ([`settled_cases_in_period`]).
    pub region_settled: u64,
    /// The applying hospital's settled cases of the period.
    pub hospital_settled: u64,
    /// Cases of the region's earlier applications of the period.
    pub region_applied: u64,
    /// Cases of the hospital's earlier applications of the period.
    pub hospital_applied: u64,
}

/// A quota check that passed (or the arithmetic of one that did not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quota {
    /// DRG or DIP.
    pub method: Method,
    /// Pooled (the region's cap) or per hospital.
    pub allocation: QuotaAllocation,
    /// The share applied.
    pub share: Decimal,
    /// The settled cases the cap is computed on (the region's, or the hospital's).
    pub settled_cases: u64,
    /// The cap: `floor(share × settled_cases)` (per hospital: at least `min_per_hospital`
    /// when the hospital settled any case).
    pub cap: u64,
    /// Cases already applied for against the cap.
    pub used: u64,
    /// Cases of this application.
    pub requested: u64,
}

impl Quota {
    /// What the cap leaves before this application.
    pub fn remaining(&self) -> u64 {
        self.cap.saturating_sub(self.used)
    }
}

impl fmt::Display for Quota {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let whose = match self.allocation {
            QuotaAllocation::Pooled => "the region's",
            QuotaAllocation::PerHospital => "the hospital's",
        };
        write!(
            f,
            "{} quota: cap floor({}% × {} {} {}-settled cases) = {}, used {}, remaining {}, requested {}",
            self.allocation,
            percent(self.share),
            whose,
            self.settled_cases,
            self.method.as_str().to_uppercase(),
            self.cap,
            self.used,
            self.remaining(),
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
    let s = &params.special_case;
    let share = match base.method {
        Method::Drg => s.max_share_drg,
        Method::Dip => s.max_share_dip,
    };
    let floor = |n: u64| -> u64 {
        share
            .checked_mul(Decimal::from(n))
            .map(|d| d.floor())
            .and_then(|d| u64::try_from(d).ok())
            .unwrap_or(n)
    };
    let (settled_cases, cap, used) = match s.allocation {
        QuotaAllocation::Pooled => (
            base.region_settled,
            floor(base.region_settled),
            base.region_applied,
        ),
        QuotaAllocation::PerHospital => {
            let mut cap = floor(base.hospital_settled);
            if base.hospital_settled > 0 {
                cap = cap.max(u64::from(s.min_per_hospital));
            }
            (base.hospital_settled, cap, base.hospital_applied)
        }
    };
    let quota = Quota {
        method: base.method,
        allocation: s.allocation,
        share,
        settled_cases,
        cap,
        used,
        requested,
    };
    if requested > quota.remaining() {
        return Err(SpecialCaseError::QuotaExceeded {
            cap,
            used,
            remaining: quota.remaining(),
            requested,
            quota: quota.to_string(),
        });
    }
    Ok(quota)
}

/// The settled cases discharged in `period` (invalid cases, which are not paid, excluded),
/// of one hospital or (`None`) of the region: the base of the quota.
pub fn settled_cases_in_period<'a>(
    cases: impl IntoIterator<Item = &'a SettledCase>,
    hospital_id: Option<&str>,
    period: Period,
) -> u64 {
    cases
        .into_iter()
        .filter(|c| {
            hospital_id.is_none_or(|h| c.hospital_id == h)
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
    /// Approved, paid the standard plus extra points (追加点数), `0 < points ≤
    /// max_extra_points`.
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
    /// The case's token in the application (`SC-000001-01`), never its case id.
    pub case: String,
    /// The outcome.
    pub outcome: Outcome,
    /// The experts' reason (required).
    pub reason: String,
}

/// A code with its name in the scheme's catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeName {
    /// The code (ICD-10 医保版 or ICD-9-CM-3 医保版).
    pub code: String,
    /// Its name.
    pub name: String,
}

/// The case as a reviewer judges it, captured from the settled month's case row when the
/// application is submitted (the ledger keeps the money of a case, not its codes): nothing
/// in it names the hospital or a doctor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseRecordView {
    /// The discharge month.
    pub discharge_month: YearMonth,
    /// Age in years.
    pub age_years: u32,
    /// Age in days (infants), if given.
    pub age_days: Option<u32>,
    /// `male`, `female`, or empty when not given.
    pub sex: String,
    /// Length of stay in days.
    pub stay_days: Option<u32>,
    /// 离院方式, as the case file codes it.
    pub discharge_kind: String,
    /// Hours of mechanical ventilation.
    pub ventilation_hours: Option<Decimal>,
    /// Diagnoses, principal first.
    pub diagnoses: Vec<CodeName>,
    /// Procedures, principal first.
    pub procedures: Vec<CodeName>,
    /// Total cost (按项目).
    pub total_cost: Decimal,
    /// Drug cost, if given.
    pub drug_cost: Option<Decimal>,
    /// Material (consumables) cost, if given.
    pub material_cost: Option<Decimal>,
    /// What the fund pays per item.
    pub fund_paid: Decimal,
    /// The group (DRG code, or DIP group key).
    pub group: String,
    /// Its name, if the scheme has one.
    pub group_name: String,
    /// The DRG weight or DIP score of the group.
    pub weight: Option<Decimal>,
    /// The group's standard (the money the weight or score is worth).
    pub standard: Option<Decimal>,
    /// The category under the ordinary rules.
    #[serde(with = "crate::category_text")]
    pub category: Category,
    /// The payment under the ordinary rules.
    pub ordinary_payment: Decimal,
    /// `total_cost / standard`, to four places.
    pub cost_ratio: Option<Decimal>,
}

/// One case of an application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedCase {
    /// The application's own token for the case (`SC-000001-01`): what reviewers see.
    pub token: String,
    /// The case id (病案号), for the bureau, the hospital and the ledger.
    pub case_id: String,
    /// The case as reviewers see it, when captured.
    pub record: Option<CaseRecordView>,
    /// The case file's header and row as submitted (for re-pricing a reversal); never shown
    /// to a reviewer.
    pub source: Option<String>,
}

/// A review by one reviewer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Review {
    reviewer: String,
    /// One per case, sorted by token.
    opinions: Vec<CaseOpinion>,
}

/// The state of an application, with what each state knows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
enum Stage {
    Submitted,
    FirstReview {
        reviewers: Vec<String>,
        reviews: Vec<Review>,
    },
    FirstReviewed {
        first: Vec<Review>,
    },
    SecondReview {
        first: Vec<Review>,
        second_reviewer: String,
    },
    Decided {
        first: Vec<Review>,
        second: Review,
    },
    Withdrawn {
        reason: String,
    },
}

/// A spot check (抽查复核) of one decided case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpotCheck {
    /// The case's token.
    pub case: String,
    /// The half-year of the draw.
    pub half: HalfYear,
    /// The draw's seed.
    pub seed: u64,
    /// The decision checked.
    pub decided: Outcome,
    /// The expert assigned to re-review it.
    pub reviewer: Option<String>,
    /// The re-review, once recorded.
    pub opinion: Option<CaseOpinion>,
}

impl SpotCheck {
    /// Whether the re-review changed the outcome.
    pub fn is_reversal(&self) -> bool {
        self.opinion
            .as_ref()
            .is_some_and(|o| o.outcome != self.decided)
    }
}

/// The state of an application (without its data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewState {
    /// Submitted, waiting for its first reviewers.
    Submitted,
    /// 初审 — with the first reviewers.
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
    /// The bureau assigns the first reviewers, exactly `first_review_experts` distinct
    /// experts (submitted → first_review).
    AssignFirstReviewers {
        /// The experts.
        reviewer_ids: Vec<String>,
    },
    /// A first reviewer records an opinion per case (first_review → first_review, or
    /// first_reviewed once every first reviewer has).
    RecordFirstReview {
        /// One per case.
        opinions: Vec<CaseOpinion>,
    },
    /// The bureau assigns the second reviewer, an expert of neither the first review nor the
    /// hospital (first_reviewed → second_review).
    AssignSecondReviewer {
        /// The expert.
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
    /// The bureau assigns the re-review of a drawn case to an expert who took no part.
    AssignSpotCheck {
        /// The case's token.
        case: String,
        /// The expert.
        reviewer_id: String,
    },
    /// The assigned expert re-reviews the drawn case.
    RecordSpotCheck {
        /// The opinion on the case.
        opinion: CaseOpinion,
    },
}

impl Command {
    /// The command's name: `assign_first_reviewers`, …
    pub fn name(&self) -> &'static str {
        match self {
            Command::AssignFirstReviewers { .. } => "assign_first_reviewers",
            Command::RecordFirstReview { .. } => "record_first_review",
            Command::AssignSecondReviewer { .. } => "assign_second_reviewer",
            Command::RecordSecondReview { .. } => "record_second_review",
            Command::Withdraw { .. } => "withdraw",
            Command::AssignSpotCheck { .. } => "assign_spot_check",
            Command::RecordSpotCheck { .. } => "record_spot_check",
        }
    }

    /// Whether an actor of `role` may give this command at all.
    fn allowed_for(&self, role: &Role) -> bool {
        match self {
            Command::AssignFirstReviewers { .. }
            | Command::AssignSecondReviewer { .. }
            | Command::AssignSpotCheck { .. } => matches!(role, Role::Bureau),
            Command::RecordFirstReview { .. }
            | Command::RecordSecondReview { .. }
            | Command::RecordSpotCheck { .. } => matches!(role, Role::Reviewer),
            Command::Withdraw { .. } => matches!(role, Role::Hospital { .. }),
        }
    }
}

/// The rules a review step is checked against: the registry and the parameters.
#[derive(Debug, Clone, Copy)]
pub struct ReviewRules<'a> {
    /// The registered experts.
    pub experts: &'a Experts,
    /// `special_case.first_review_experts`.
    pub first_review_experts: u32,
    /// `special_case.max_extra_points`.
    pub max_extra_points: Decimal,
}

impl<'a> ReviewRules<'a> {
    /// The rules of `params` with `experts`.
    pub fn new(params: &Params, experts: &'a Experts) -> ReviewRules<'a> {
        ReviewRules {
            experts,
            first_review_experts: params.special_case.first_review_experts,
            max_extra_points: params.special_case.max_extra_points,
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
    /// A reviewer who is not a registered expert.
    #[error("application {application_id}: {reviewer_id:?} is not an expert of the registry")]
    UnknownExpert {
        /// The application.
        application_id: String,
        /// The reviewer.
        reviewer_id: String,
    },
    /// Conflict of interest: the expert works at the applying hospital.
    #[error("application {application_id}: expert {reviewer_id} works at the applying hospital and may not review its cases")]
    OwnHospital {
        /// The application.
        application_id: String,
        /// The expert.
        reviewer_id: String,
    },
    /// Conflict of interest: a first reviewer assigned to the second review.
    #[error("application {application_id}: expert {reviewer_id} did the first review (初审); nobody reviews both stages")]
    BothStages {
        /// The application.
        application_id: String,
        /// The expert.
        reviewer_id: String,
    },
    /// The same expert twice among the first reviewers.
    #[error("application {application_id}: expert {reviewer_id} is named more than once; the first review needs distinct experts")]
    DuplicateReviewer {
        /// The application.
        application_id: String,
        /// The expert.
        reviewer_id: String,
    },
    /// Not as many first reviewers as `first_review_experts`.
    #[error("application {application_id}: the first review (初审) needs {expected} experts (special_case.first_review_experts), found {found}")]
    WrongReviewerCount {
        /// The application.
        application_id: String,
        /// `first_review_experts`.
        expected: u32,
        /// How many were named.
        found: usize,
    },
    /// A first reviewer who has already recorded the review.
    #[error(
        "application {application_id}: expert {reviewer_id} has already recorded the first review"
    )]
    AlreadyReviewed {
        /// The application.
        application_id: String,
        /// The expert.
        reviewer_id: String,
    },
    /// Conflict of interest: a spot check by an expert who took part in the review.
    #[error("application {application_id}: expert {reviewer_id} took part in its review and may not re-review case {case}")]
    SpotCheckConflict {
        /// The application.
        application_id: String,
        /// The expert.
        reviewer_id: String,
        /// The case's token.
        case: String,
    },
    /// A spot check of a case that was not drawn (or is already re-reviewed).
    #[error("application {application_id}: case {case} has no open spot check")]
    NoSpotCheck {
        /// The application.
        application_id: String,
        /// The case's token.
        case: String,
    },
    /// A case drawn twice in a half-year.
    #[error("application {application_id}: case {case} was already drawn for a spot check")]
    AlreadyDrawn {
        /// The application.
        application_id: String,
        /// The case's token.
        case: String,
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
    #[error("quota exceeded: {requested} cases requested, {remaining} remaining of the cap {cap} ({used} used); {quota}")]
    QuotaExceeded {
        /// The cap.
        cap: u64,
        /// Cases used against it.
        used: u64,
        /// What it leaves.
        remaining: u64,
        /// Cases of the application.
        requested: u64,
        /// The quota arithmetic.
        quota: String,
    },
    /// A case of the application without an opinion.
    #[error("application {application_id}: no opinion on case {case}")]
    MissingOpinion {
        /// The application.
        application_id: String,
        /// The case's token.
        case: String,
    },
    /// An opinion on a case that is not in the application.
    #[error("application {application_id}: case {case} is not in the application (opinions name the cases by their tokens)")]
    UnknownCase {
        /// The application.
        application_id: String,
        /// The token given.
        case: String,
    },
    /// Two opinions on one case.
    #[error("application {application_id}: more than one opinion on case {case}")]
    DuplicateOpinion {
        /// The application.
        application_id: String,
        /// The case's token.
        case: String,
    },
    /// An opinion without the experts' reason.
    #[error("application {application_id}: the opinion on case {case} has no reason")]
    MissingReason {
        /// The application.
        application_id: String,
        /// The case's token.
        case: String,
    },
    /// Extra points outside `0 < points ≤ max_extra_points`.
    #[error("application {application_id}: case {case} approved with {points} extra points, expected 0 < points ≤ {max} (special_case.max_extra_points)")]
    PointsOutOfRange {
        /// The application.
        application_id: String,
        /// The case's token.
        case: String,
        /// The points given.
        points: Decimal,
        /// `max_extra_points`.
        max: Decimal,
    },
    /// A notice before the first one (2025H1).
    #[error("half-year {half}: the first special-case notice covers 2025H1")]
    BeforeFirstNotice {
        /// The half-year asked for.
        half: HalfYear,
    },
}

impl SpecialCaseError {
    /// Whether the error is a refused conflict of interest (audited by the front ends).
    pub fn is_conflict_of_interest(&self) -> bool {
        matches!(
            self,
            SpecialCaseError::OwnHospital { .. }
                | SpecialCaseError::BothStages { .. }
                | SpecialCaseError::DuplicateReviewer { .. }
                | SpecialCaseError::WrongReviewerCount { .. }
                | SpecialCaseError::SpotCheckConflict { .. }
                | SpecialCaseError::UnknownExpert { .. }
        )
    }
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
    /// Per case id: the record as reviewers see it and its source row (captured by the
    /// engine from the settled month's case file).
    pub records: BTreeMap<String, (CaseRecordView, String)>,
}

/// A special-case application and its review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Application {
    id: String,
    hospital_id: String,
    period: Period,
    /// Sorted by case id; tokens `{id}-01`, `{id}-02`, … in that order.
    cases: Vec<AppliedCase>,
    reason: ReasonKind,
    text: String,
    stage: Stage,
    /// The spot checks of the case drawn, in the order drawn.
    #[serde(default)]
    spot_checks: Vec<SpotCheck>,
}

/// One case as a reviewer sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewerCase {
    /// The case's token.
    pub case: String,
    /// The record captured at submission.
    pub record: Option<CaseRecordView>,
}

/// What a reviewer sees: no hospital, no case id, no other reviewer.
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
    /// The cases, by token.
    pub cases: Vec<ReviewerCase>,
    /// The application's state.
    pub state: ReviewState,
    /// `first` or `second` (the stage the reviewer is assigned to), or `spot_check`.
    pub stage: String,
    /// The first reviews' opinions, for the second reviewer (without their authors).
    pub first_reviews: Option<Vec<Vec<CaseOpinion>>>,
    /// The tokens of the cases on which the first reviewers disagree, for the second
    /// reviewer.
    pub disagreements: Option<Vec<String>>,
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
    /// The cases (case ids).
    pub case_ids: Vec<String>,
    /// The application's state.
    pub state: ReviewState,
    /// The final outcome per case (by case id) with the experts' reason, once decided (a
    /// spot check's re-review replaces the decision).
    pub outcomes: Option<Vec<CaseOpinion>>,
}

impl Application {
    /// A hospital submits an application: the actor must act for the applying hospital, the
    /// period must be of the kind `special_case.review_period`, the cases unique and not
    /// empty, the text not empty, and the cases within the quota of `base`. Returns the
    /// application (state `submitted`, each case with its token) and its audit event.
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
        let mut records = request.records;
        let cases = case_ids
            .into_iter()
            .enumerate()
            .map(|(i, case_id)| {
                let (record, source) = match records.remove(&case_id) {
                    Some((r, s)) => (Some(r), Some(s)),
                    None => (None, None),
                };
                AppliedCase {
                    token: format!("{id}-{:02}", i + 1),
                    case_id,
                    record,
                    source,
                }
            })
            .collect();
        let application = Application {
            id,
            hospital_id: request.hospital_id,
            period: request.period,
            cases,
            reason: request.reason,
            text: request.text,
            stage: Stage::Submitted,
            spot_checks: Vec::new(),
        };
        let event = AuditEvent::new(
            actor,
            Action::SpecialCaseSubmitted,
            application.id.clone(),
            format!(
                "{}: {} cases of {}; {quota}",
                application.reason,
                application.cases.len(),
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

    /// The cases, by case id, with their tokens.
    pub fn cases(&self) -> &[AppliedCase] {
        &self.cases
    }

    /// The case ids, sorted.
    pub fn case_ids(&self) -> impl Iterator<Item = &str> {
        self.cases.iter().map(|c| c.case_id.as_str())
    }

    /// The tokens, in the order of the case ids.
    pub fn tokens(&self) -> impl Iterator<Item = &str> {
        self.cases.iter().map(|c| c.token.as_str())
    }

    /// Whether `case_id` is a case of the application.
    pub fn contains_case(&self, case_id: &str) -> bool {
        self.cases.iter().any(|c| c.case_id == case_id)
    }

    /// The case of `token`.
    pub fn case_of(&self, token: &str) -> Option<&AppliedCase> {
        self.cases.iter().find(|c| c.token == token)
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

    /// The first reviewers, once assigned (for the bureau; never in a [`HospitalView`]).
    pub fn first_reviewers(&self) -> Vec<&str> {
        match &self.stage {
            Stage::FirstReview { reviewers, .. } => reviewers.iter().map(String::as_str).collect(),
            Stage::FirstReviewed { first }
            | Stage::SecondReview { first, .. }
            | Stage::Decided { first, .. } => first.iter().map(|r| r.reviewer.as_str()).collect(),
            Stage::Submitted | Stage::Withdrawn { .. } => Vec::new(),
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

    /// The first reviews recorded so far, each with its reviewer (for the bureau).
    pub fn first_reviews(&self) -> Vec<(&str, &[CaseOpinion])> {
        match &self.stage {
            Stage::FirstReview { reviews: first, .. }
            | Stage::FirstReviewed { first }
            | Stage::SecondReview { first, .. }
            | Stage::Decided { first, .. } => first
                .iter()
                .map(|r| (r.reviewer.as_str(), r.opinions.as_slice()))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The tokens of the cases on which the recorded first reviews do not all agree.
    pub fn disagreements(&self) -> Vec<String> {
        let reviews = self.first_reviews();
        self.tokens()
            .filter(|t| {
                let outcomes: BTreeSet<String> = reviews
                    .iter()
                    .filter_map(|(_, ops)| ops.iter().find(|o| o.case == *t))
                    .map(|o| o.outcome.to_string())
                    .collect();
                outcomes.len() > 1
            })
            .map(str::to_string)
            .collect()
    }

    /// The decision per case (the second review), once decided.
    pub fn decisions(&self) -> Option<&[CaseOpinion]> {
        match &self.stage {
            Stage::Decided { second, .. } => Some(&second.opinions),
            _ => None,
        }
    }

    /// The spot checks of the application's cases.
    pub fn spot_checks(&self) -> &[SpotCheck] {
        &self.spot_checks
    }

    /// The final opinion on the case `token`: the spot check's re-review if recorded, else
    /// the decision; `None` before the decision.
    pub fn final_opinion(&self, token: &str) -> Option<&CaseOpinion> {
        let checked = self
            .spot_checks
            .iter()
            .rev()
            .find(|s| s.case == token)
            .and_then(|s| s.opinion.as_ref());
        checked.or_else(|| self.decisions()?.iter().find(|o| o.case == token))
    }

    /// The final outcome of the case `token` ([`Application::final_opinion`]).
    pub fn final_outcome(&self, token: &str) -> Option<Outcome> {
        self.final_opinion(token).map(|o| o.outcome)
    }

    /// The approved cases (by case id) and how to pay them ([`drgdip_pay::PayInput::special`]),
    /// after any spot check.
    pub fn approvals(&self) -> Vec<(&str, SpecialApproval)> {
        self.cases
            .iter()
            .filter_map(|c| {
                let approval = self.final_outcome(&c.token)?.approval()?;
                Some((c.case_id.as_str(), approval))
            })
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

    /// A registered expert who does not work at the applying hospital.
    fn check_expert(&self, rules: &ReviewRules<'_>, id: &str) -> Result<(), SpecialCaseError> {
        let expert = rules
            .experts
            .get(id)
            .ok_or_else(|| SpecialCaseError::UnknownExpert {
                application_id: self.id.clone(),
                reviewer_id: id.to_string(),
            })?;
        if expert.hospital_id.as_deref() == Some(self.hospital_id.as_str()) {
            return Err(SpecialCaseError::OwnHospital {
                application_id: self.id.clone(),
                reviewer_id: id.to_string(),
            });
        }
        Ok(())
    }

    /// Whether `id` took part in the review (first or second).
    fn took_part(&self, id: &str) -> bool {
        self.first_reviewers().contains(&id) || self.second_reviewer() == Some(id)
    }

    /// Checks one opinion: a case of the application (by token), a reason, points in range.
    fn check_opinion(
        &self,
        opinion: &CaseOpinion,
        rules: &ReviewRules<'_>,
    ) -> Result<(), SpecialCaseError> {
        let id = || self.id.clone();
        if self.case_of(&opinion.case).is_none() {
            return Err(SpecialCaseError::UnknownCase {
                application_id: id(),
                case: opinion.case.clone(),
            });
        }
        if opinion.reason.trim().is_empty() {
            return Err(SpecialCaseError::MissingReason {
                application_id: id(),
                case: opinion.case.clone(),
            });
        }
        if let Outcome::ApprovedExtraPoints { points } = opinion.outcome {
            if points <= Decimal::ZERO || points > rules.max_extra_points {
                return Err(SpecialCaseError::PointsOutOfRange {
                    application_id: id(),
                    case: opinion.case.clone(),
                    points,
                    max: rules.max_extra_points,
                });
            }
        }
        Ok(())
    }

    /// Checks one opinion per case of the application; returns them sorted by token.
    fn checked_opinions(
        &self,
        opinions: Vec<CaseOpinion>,
        rules: &ReviewRules<'_>,
    ) -> Result<Vec<CaseOpinion>, SpecialCaseError> {
        let mut by_case: BTreeMap<String, CaseOpinion> = BTreeMap::new();
        for opinion in opinions {
            self.check_opinion(&opinion, rules)?;
            if by_case.contains_key(&opinion.case) {
                return Err(SpecialCaseError::DuplicateOpinion {
                    application_id: self.id.clone(),
                    case: opinion.case,
                });
            }
            by_case.insert(opinion.case.clone(), opinion);
        }
        if let Some(missing) = self.tokens().find(|t| !by_case.contains_key(*t)) {
            return Err(SpecialCaseError::MissingOpinion {
                application_id: self.id.clone(),
                case: missing.to_string(),
            });
        }
        Ok(by_case.into_values().collect())
    }

    /// Applies one review step by `actor` under `rules`. Checks, in order: the actor's role
    /// may give the command at all; the state allows it; the actor is an assigned reviewer
    /// (or the applying hospital, for a withdrawal); the command's content, with the
    /// conflicts of interest. On any error the application is unchanged; on success the
    /// audit event of the change is returned.
    pub fn apply(
        &mut self,
        actor: &Actor,
        command: Command,
        rules: &ReviewRules<'_>,
    ) -> Result<AuditEvent, SpecialCaseError> {
        let name = command.name();
        if !command.allowed_for(&actor.role) {
            return Err(self.not_allowed(actor, name));
        }
        let before = self.state();
        let app_id = || self.id.clone();
        let (stage, action, reason) = match (command, &self.stage) {
            (Command::AssignFirstReviewers { reviewer_ids }, Stage::Submitted) => {
                if reviewer_ids.len() != rules.first_review_experts as usize {
                    return Err(SpecialCaseError::WrongReviewerCount {
                        application_id: app_id(),
                        expected: rules.first_review_experts,
                        found: reviewer_ids.len(),
                    });
                }
                let mut seen = BTreeSet::new();
                for r in &reviewer_ids {
                    if !seen.insert(r.as_str()) {
                        return Err(SpecialCaseError::DuplicateReviewer {
                            application_id: app_id(),
                            reviewer_id: r.clone(),
                        });
                    }
                    self.check_expert(rules, r)?;
                }
                let reason = format!(
                    "first reviewers (初审) {} assigned",
                    reviewer_ids.join(", ")
                );
                (
                    Some(Stage::FirstReview {
                        reviewers: reviewer_ids,
                        reviews: Vec::new(),
                    }),
                    Action::FirstReviewerAssigned,
                    reason,
                )
            }
            (
                Command::RecordFirstReview { opinions },
                Stage::FirstReview { reviewers, reviews },
            ) => {
                if !reviewers.contains(&actor.id) {
                    return Err(self.not_assigned(actor, name));
                }
                if reviews.iter().any(|r| r.reviewer == actor.id) {
                    return Err(SpecialCaseError::AlreadyReviewed {
                        application_id: app_id(),
                        reviewer_id: actor.id.clone(),
                    });
                }
                let opinions = self.checked_opinions(opinions, rules)?;
                let mut reviews = reviews.clone();
                let tally = tally(&opinions);
                reviews.push(Review {
                    reviewer: actor.id.clone(),
                    opinions,
                });
                let done = reviews.len();
                if done == reviewers.len() {
                    // in the order of assignment
                    reviews.sort_by_key(|r| reviewers.iter().position(|x| *x == r.reviewer));
                    let stage = Stage::FirstReviewed { first: reviews };
                    (
                        Some(stage),
                        Action::FirstReviewRecorded,
                        format!("first review (初审) {done} of {}: {tally}", reviewers.len()),
                    )
                } else {
                    let stage = Stage::FirstReview {
                        reviewers: reviewers.clone(),
                        reviews,
                    };
                    (
                        Some(stage),
                        Action::FirstReviewRecorded,
                        format!("first review (初审) {done} of {}: {tally}", reviewers.len()),
                    )
                }
            }
            (Command::AssignSecondReviewer { reviewer_id }, Stage::FirstReviewed { first }) => {
                self.check_expert(rules, &reviewer_id)?;
                if first.iter().any(|r| r.reviewer == reviewer_id) {
                    return Err(SpecialCaseError::BothStages {
                        application_id: app_id(),
                        reviewer_id,
                    });
                }
                let reason = format!("second reviewer (复审) {reviewer_id} assigned");
                (
                    Some(Stage::SecondReview {
                        first: first.clone(),
                        second_reviewer: reviewer_id,
                    }),
                    Action::SecondReviewerAssigned,
                    reason,
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
                let opinions = self.checked_opinions(decisions, rules)?;
                let disagreed = self.disagreements().len();
                let reason = format!(
                    "second review (复审) decides: {}; the first reviewers disagreed on {disagreed} cases",
                    tally(&opinions)
                );
                (
                    Some(Stage::Decided {
                        first: first.clone(),
                        second: Review {
                            reviewer: second_reviewer.clone(),
                            opinions,
                        },
                    }),
                    Action::SecondReviewRecorded,
                    reason,
                )
            }
            (Command::Withdraw { reason }, Stage::Submitted | Stage::FirstReview { .. }) => {
                if actor.hospital_id() != Some(self.hospital_id.as_str()) {
                    return Err(self.not_allowed(actor, name));
                }
                (
                    Some(Stage::Withdrawn {
                        reason: reason.clone(),
                    }),
                    Action::SpecialCaseWithdrawn,
                    format!("withdrawn by the hospital: {reason}"),
                )
            }
            (Command::AssignSpotCheck { case, reviewer_id }, Stage::Decided { .. }) => {
                let Some(i) = self
                    .spot_checks
                    .iter()
                    .rposition(|s| s.case == case && s.opinion.is_none())
                else {
                    return Err(SpecialCaseError::NoSpotCheck {
                        application_id: app_id(),
                        case,
                    });
                };
                self.check_expert(rules, &reviewer_id)?;
                if self.took_part(&reviewer_id) {
                    return Err(SpecialCaseError::SpotCheckConflict {
                        application_id: app_id(),
                        reviewer_id,
                        case,
                    });
                }
                let reason =
                    format!("spot check (抽查复核) of case {case}: {reviewer_id} assigned");
                self.spot_checks[i].reviewer = Some(reviewer_id);
                (None, Action::SpotCheckAssigned, reason)
            }
            (Command::RecordSpotCheck { opinion }, Stage::Decided { .. }) => {
                let Some(i) = self.spot_checks.iter().rposition(|s| {
                    s.case == opinion.case
                        && s.opinion.is_none()
                        && s.reviewer.as_deref() == Some(actor.id.as_str())
                }) else {
                    return Err(self.not_assigned(actor, name));
                };
                self.check_opinion(&opinion, rules)?;
                let check = &mut self.spot_checks[i];
                let reason = format!(
                    "spot check (抽查复核) of case {}: decided {}, re-review {}: {}",
                    opinion.case,
                    check.decided,
                    opinion.outcome,
                    if opinion.outcome == check.decided {
                        "confirmed"
                    } else {
                        "reversed"
                    }
                );
                check.opinion = Some(opinion);
                (None, Action::SpotCheckRecorded, reason)
            }
            _ => return Err(self.illegal(name)),
        };
        if let Some(stage) = stage {
            self.stage = stage;
        }
        Ok(AuditEvent::new(actor, action, self.id.clone(), reason)
            .before(before.as_str())
            .after(self.state().as_str()))
    }

    /// The bureau marks the case `token` as drawn for a spot check of `half` (the draw's
    /// `seed` recorded with it). Only a decided case, once.
    pub fn draw_spot_check(
        &mut self,
        actor: &Actor,
        token: &str,
        half: HalfYear,
        seed: u64,
    ) -> Result<AuditEvent, SpecialCaseError> {
        const WHAT: &str = "draw_spot_check";
        if actor.role != Role::Bureau {
            return Err(self.not_allowed(actor, WHAT));
        }
        let Some(decided) = self
            .decisions()
            .and_then(|d| d.iter().find(|o| o.case == token))
        else {
            return Err(if self.decisions().is_none() {
                self.illegal(WHAT)
            } else {
                SpecialCaseError::UnknownCase {
                    application_id: self.id.clone(),
                    case: token.to_string(),
                }
            });
        };
        if self.spot_checks.iter().any(|s| s.case == token) {
            return Err(SpecialCaseError::AlreadyDrawn {
                application_id: self.id.clone(),
                case: token.to_string(),
            });
        }
        let decided = decided.outcome;
        self.spot_checks.push(SpotCheck {
            case: token.to_string(),
            half,
            seed,
            decided,
            reviewer: None,
            opinion: None,
        });
        Ok(AuditEvent::new(
            actor,
            Action::SpotCheckDrawn,
            self.id.clone(),
            format!("case {token} drawn for the spot check (抽查复核) of {half}, seed {seed}; decided {decided}"),
        )
        .before(self.state().as_str())
        .after(self.state().as_str()))
    }

    /// The first review experts.
    pub fn assign_first_reviewers(
        &mut self,
        actor: &Actor,
        reviewer_ids: &[&str],
        rules: &ReviewRules<'_>,
    ) -> Result<AuditEvent, SpecialCaseError> {
        let reviewer_ids = reviewer_ids.iter().map(|r| r.to_string()).collect();
        self.apply(actor, Command::AssignFirstReviewers { reviewer_ids }, rules)
    }

    /// A first reviewer records an opinion per case.
    pub fn record_first_review(
        &mut self,
        actor: &Actor,
        opinions: Vec<CaseOpinion>,
        rules: &ReviewRules<'_>,
    ) -> Result<AuditEvent, SpecialCaseError> {
        self.apply(actor, Command::RecordFirstReview { opinions }, rules)
    }

    /// The bureau assigns the second reviewer.
    pub fn assign_second_reviewer(
        &mut self,
        actor: &Actor,
        reviewer_id: impl Into<String>,
        rules: &ReviewRules<'_>,
    ) -> Result<AuditEvent, SpecialCaseError> {
        let reviewer_id = reviewer_id.into();
        self.apply(actor, Command::AssignSecondReviewer { reviewer_id }, rules)
    }

    /// The second reviewer decides each case.
    pub fn record_second_review(
        &mut self,
        actor: &Actor,
        decisions: Vec<CaseOpinion>,
        rules: &ReviewRules<'_>,
    ) -> Result<AuditEvent, SpecialCaseError> {
        self.apply(actor, Command::RecordSecondReview { decisions }, rules)
    }

    /// The hospital withdraws its application.
    pub fn withdraw(
        &mut self,
        actor: &Actor,
        reason: impl Into<String>,
        rules: &ReviewRules<'_>,
    ) -> Result<AuditEvent, SpecialCaseError> {
        let reason = reason.into();
        self.apply(actor, Command::Withdraw { reason }, rules)
    }

    /// What `actor`, a reviewer assigned to this application, sees: the cases by token with
    /// their records and the hospital's reason, never the hospital nor a case id; the second
    /// reviewer also sees the first reviews (without their authors) and the cases on which
    /// they disagree; a spot-check reviewer sees only the cases drawn for it, without the
    /// decision.
    pub fn reviewer_view(&self, actor: &Actor) -> Result<ReviewerView, SpecialCaseError> {
        const WHAT: &str = "view as reviewer";
        if actor.role != Role::Reviewer {
            return Err(self.not_allowed(actor, WHAT));
        }
        let me = actor.id.as_str();
        let spot: Vec<&str> = self
            .spot_checks
            .iter()
            .filter(|s| s.reviewer.as_deref() == Some(me))
            .map(|s| s.case.as_str())
            .collect();
        let stage = if self.second_reviewer() == Some(me) {
            "second"
        } else if self.first_reviewers().contains(&me) {
            "first"
        } else if !spot.is_empty() {
            "spot_check"
        } else {
            return Err(self.not_assigned(actor, WHAT));
        };
        let cases = self
            .cases
            .iter()
            .filter(|c| stage != "spot_check" || spot.contains(&c.token.as_str()))
            .map(|c| ReviewerCase {
                case: c.token.clone(),
                record: c.record.clone(),
            })
            .collect();
        let second = stage == "second";
        Ok(ReviewerView {
            application_id: self.id.clone(),
            period: self.period,
            reason: self.reason,
            text: self.text.clone(),
            cases,
            state: self.state(),
            stage: stage.to_string(),
            first_reviews: second.then(|| {
                self.first_reviews()
                    .into_iter()
                    .map(|(_, o)| o.to_vec())
                    .collect()
            }),
            disagreements: second.then(|| self.disagreements()),
        })
    }

    /// What the applying hospital sees: its application, its state and, once decided, the
    /// final outcome per case (by case id) with the experts' reasons — never a reviewer.
    pub fn hospital_view(&self, actor: &Actor) -> Result<HospitalView, SpecialCaseError> {
        if actor.hospital_id() != Some(self.hospital_id.as_str()) {
            return Err(self.not_allowed(actor, "view as hospital"));
        }
        let outcomes = self.decisions().map(|_| {
            self.cases
                .iter()
                .filter_map(|c| {
                    let o = self.final_opinion(&c.token)?;
                    Some(CaseOpinion {
                        case: c.case_id.clone(),
                        outcome: o.outcome,
                        reason: o.reason.clone(),
                    })
                })
                .collect()
        });
        Ok(HospitalView {
            application_id: self.id.clone(),
            hospital_id: self.hospital_id.clone(),
            period: self.period,
            reason: self.reason,
            text: self.text.clone(),
            case_ids: self.case_ids().map(str::to_string).collect(),
            state: self.state(),
            outcomes,
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

/// One hospital's line of the half-yearly special-case notice (特例单议公示), or the region's
/// totals (`hospital_id` empty).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeRow {
    /// The half-year.
    pub half: HalfYear,
    /// The hospital (empty for the region's totals).
    pub hospital_id: String,
    /// Applications.
    pub applications: u64,
    /// Cases applied for (withdrawn ones included).
    pub cases_applied: u64,
    /// Cases approved (per item or with extra points), after the spot checks.
    pub cases_approved: u64,
    /// Cases rejected, after the spot checks.
    pub cases_rejected: u64,
    /// Cases of withdrawn applications.
    pub cases_withdrawn: u64,
    /// Cases not yet decided.
    pub cases_pending: u64,
    /// Decided cases drawn for a spot check.
    pub spot_checked: u64,
    /// Of those, re-reviewed.
    pub spot_reviewed: u64,
    /// Of those, with a changed outcome.
    pub spot_reversed: u64,
}

impl NoticeRow {
    /// A row of zeros.
    pub fn zero(half: HalfYear, hospital_id: &str) -> NoticeRow {
        NoticeRow {
            half,
            hospital_id: hospital_id.to_string(),
            applications: 0,
            cases_applied: 0,
            cases_approved: 0,
            cases_rejected: 0,
            cases_withdrawn: 0,
            cases_pending: 0,
            spot_checked: 0,
            spot_reviewed: 0,
            spot_reversed: 0,
        }
    }

    fn add(&mut self, other: &NoticeRow) {
        self.applications += other.applications;
        self.cases_applied += other.cases_applied;
        self.cases_approved += other.cases_approved;
        self.cases_rejected += other.cases_rejected;
        self.cases_withdrawn += other.cases_withdrawn;
        self.cases_pending += other.cases_pending;
        self.spot_checked += other.spot_checked;
        self.spot_reviewed += other.spot_reviewed;
        self.spot_reversed += other.spot_reversed;
    }
}

impl fmt::Display for NoticeRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let who = if self.hospital_id.is_empty() {
            "region"
        } else {
            &self.hospital_id
        };
        write!(
            f,
            "{who} {}: {} cases applied for in {} applications; {} approved, {} rejected, {} withdrawn, {} pending; spot checks: {} drawn, {} re-reviewed, {} reversed",
            self.half,
            self.cases_applied,
            self.applications,
            self.cases_approved,
            self.cases_rejected,
            self.cases_withdrawn,
            self.cases_pending,
            self.spot_checked,
            self.spot_reviewed,
            self.spot_reversed
        )
    }
}

/// The half-yearly notice: one row per hospital, the region's totals, the spot-check seeds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    /// The half-year.
    pub half: HalfYear,
    /// Per hospital, by hospital id.
    pub rows: Vec<NoticeRow>,
    /// The region's totals.
    pub totals: NoticeRow,
    /// The seeds of the half-year's spot-check draws.
    pub spot_check_seeds: Vec<u64>,
}

/// The notice of `half`: one row per hospital of `hospital_ids` (zero rows included) and per
/// hospital with an application counted in the half-year, sorted by hospital id, and the
/// region's totals.
pub fn half_year_notice<'a>(
    applications: impl IntoIterator<Item = &'a Application>,
    half: HalfYear,
    hospital_ids: &[&str],
) -> Result<Notice, SpecialCaseError> {
    if half < FIRST_NOTICE {
        return Err(SpecialCaseError::BeforeFirstNotice { half });
    }
    let row = |hospital_id: &str| NoticeRow::zero(half, hospital_id);
    let mut rows: BTreeMap<String, NoticeRow> = hospital_ids
        .iter()
        .map(|id| (id.to_string(), row(id)))
        .collect();
    let mut seen = BTreeSet::new();
    let mut seeds = BTreeSet::new();
    for application in applications {
        if !half.contains(application.period.last_month()) || !seen.insert(&application.id) {
            continue;
        }
        let r = rows
            .entry(application.hospital_id.clone())
            .or_insert_with(|| row(&application.hospital_id));
        let cases = application.cases.len() as u64;
        r.applications += 1;
        r.cases_applied += cases;
        match (&application.stage, application.decisions()) {
            (_, Some(_)) => {
                let approved = application
                    .tokens()
                    .filter(|t| {
                        application
                            .final_outcome(t)
                            .is_some_and(Outcome::is_approved)
                    })
                    .count() as u64;
                r.cases_approved += approved;
                r.cases_rejected += cases - approved;
            }
            (Stage::Withdrawn { .. }, None) => r.cases_withdrawn += cases,
            (_, None) => r.cases_pending += cases,
        }
        for s in &application.spot_checks {
            seeds.insert(s.seed);
            r.spot_checked += 1;
            if s.opinion.is_some() {
                r.spot_reviewed += 1;
            }
            if s.is_reversal() {
                r.spot_reversed += 1;
            }
        }
    }
    let mut totals = NoticeRow::zero(half, "");
    for r in rows.values() {
        totals.add(r);
    }
    Ok(Notice {
        half,
        rows: rows.into_values().collect(),
        totals,
        spot_check_seeds: seeds.into_iter().collect(),
    })
}

#[cfg(test)]
mod tests;
