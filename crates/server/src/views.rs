//! The JSON the API answers with, built from the settlement types field by field (each
//! conversion destructures its source, so a new field there is a compile error here rather
//! than a silent gap in the documented schema). Money is text, exact (`"1234.56"`).

use std::collections::BTreeMap;
use std::str::FromStr;

use drgdip_pay::money::Fen;
use drgdip_settle::arrears::ArrearsRow;
use drgdip_settle::{
    Application, CaseOpinion, CaseRecordView, CategoryTotals, CodeName, Date, HospitalView,
    MonthlyStatement, Notice, NoticeRow, Outcome, ReviewRound, ReviewState, ReviewerView,
    SpotCheckDraw,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::contract;
use crate::error::ApiError;

/// Every state of an application, in the order of the review.
pub const STATES: [ReviewState; 6] = [
    ReviewState::Submitted,
    ReviewState::FirstReview,
    ReviewState::FirstReviewed,
    ReviewState::SecondReview,
    ReviewState::Decided,
    ReviewState::Withdrawn,
];

/// A state added to `drgdip-settle` is a compile error here until [`STATES`] has it.
const _: fn(ReviewState) = |s| match s {
    ReviewState::Submitted
    | ReviewState::FirstReview
    | ReviewState::FirstReviewed
    | ReviewState::SecondReview
    | ReviewState::Decided
    | ReviewState::Withdrawn => {}
};

/// The experts' outcome for one case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum OutcomeJson {
    /// Approved, paid per item (按项目).
    // a struct variant (not a unit one): serde then refuses other fields, as the
    // document says
    ApprovedPerItem {},
    /// Approved, paid the standard plus extra points (追加点数): above zero and at most
    /// `special_case.max_extra_points`.
    ApprovedExtraPoints {
        /// The points approved, as text (`"12.5"`): a decimal number above zero.
        points: String,
    },
    /// Rejected.
    Rejected {},
}

impl From<Outcome> for OutcomeJson {
    fn from(o: Outcome) -> OutcomeJson {
        match o {
            Outcome::ApprovedPerItem => OutcomeJson::ApprovedPerItem {},
            Outcome::ApprovedExtraPoints { points } => OutcomeJson::ApprovedExtraPoints {
                points: points.to_string(),
            },
            Outcome::Rejected => OutcomeJson::Rejected {},
        }
    }
}

/// An outcome for one case, with the experts' reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpinionJson {
    /// The case: its token in the application (`SC-000001-01`) in what a reviewer sends and
    /// sees; its case id in the hospital's and the bureau's outcomes.
    pub case: String,
    /// The outcome.
    pub outcome: OutcomeJson,
    /// The experts' reason (required).
    pub reason: String,
}

impl OpinionJson {
    /// The opinion, checked as the document states it (the token, the reason, the points);
    /// `at` is its field in the request (`opinions[2]`).
    pub fn to_opinion(&self, at: &str) -> Result<CaseOpinion, ApiError> {
        let OpinionJson {
            case,
            outcome,
            reason,
        } = self;
        contract::check_token(&format!("{at}.case"), case)?;
        contract::check_text(&format!("{at}.reason"), reason)?;
        let outcome = match outcome {
            OutcomeJson::ApprovedPerItem {} => Outcome::ApprovedPerItem,
            OutcomeJson::ApprovedExtraPoints { points } => {
                let field = format!("{at}.outcome.points");
                let parsed = contract::is_points(points)
                    .then(|| Decimal::from_str(points).ok())
                    .flatten()
                    .ok_or_else(|| {
                        ApiError::bad_request(
                            &field,
                            format!(
                                "{field} {points:?}: expected a number above zero such as \"35\" or \"12.5\" (digits and one point, at most {} characters)",
                                contract::POINTS_MAX
                            ),
                        )
                    })?;
                Outcome::ApprovedExtraPoints { points: parsed }
            }
            OutcomeJson::Rejected {} => Outcome::Rejected,
        };
        Ok(CaseOpinion {
            case: case.clone(),
            outcome,
            reason: reason.clone(),
        })
    }
}

impl From<&CaseOpinion> for OpinionJson {
    fn from(o: &CaseOpinion) -> OpinionJson {
        let CaseOpinion {
            case,
            outcome,
            reason,
        } = o;
        OpinionJson {
            case: case.clone(),
            outcome: (*outcome).into(),
            reason: reason.clone(),
        }
    }
}

fn opinions(v: Option<&[CaseOpinion]>) -> Option<Vec<OpinionJson>> {
    v.map(|v| v.iter().map(OpinionJson::from).collect())
}

/// A code with its catalog name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CodeNameJson {
    /// The code.
    pub code: String,
    /// Its name in the scheme's catalog.
    pub name: String,
}

/// The case as a reviewer judges it, captured from the settled month's row at submission:
/// nothing in it names the hospital or a doctor. Money is text, exact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CaseRecordJson {
    /// The discharge month.
    pub discharge_month: String,
    /// Age in years.
    pub age_years: u32,
    /// Age in days (infants), if given.
    pub age_days: Option<u32>,
    /// `male`, `female` or empty.
    pub sex: String,
    /// Length of stay in days.
    pub stay_days: Option<u32>,
    /// 离院方式, as the case file codes it.
    pub discharge_kind: String,
    /// Hours of mechanical ventilation.
    pub ventilation_hours: Option<String>,
    /// Diagnoses, principal first.
    pub diagnoses: Vec<CodeNameJson>,
    /// Procedures, principal first.
    pub procedures: Vec<CodeNameJson>,
    /// Total cost (按项目).
    pub total_cost: String,
    /// Drug cost, if given.
    pub drug_cost: Option<String>,
    /// Material cost, if given.
    pub material_cost: Option<String>,
    /// What the fund pays per item.
    pub fund_paid: String,
    /// The group (DRG or DIP group).
    pub group: String,
    /// Its name.
    pub group_name: String,
    /// Its weight (DRG) or the case's score (DIP).
    pub weight: Option<String>,
    /// The standard: what the weight or score is worth.
    pub standard: Option<String>,
    /// The category under the ordinary rules.
    pub category: String,
    /// The payment under the ordinary rules.
    pub ordinary_payment: String,
    /// total_cost / standard, four places.
    pub cost_ratio: Option<String>,
}

impl From<&CaseRecordView> for CaseRecordJson {
    fn from(r: &CaseRecordView) -> CaseRecordJson {
        let text = |d: &Option<Decimal>| d.map(|d| d.to_string());
        let names = |v: &[CodeName]| {
            v.iter()
                .map(|c| CodeNameJson {
                    code: c.code.clone(),
                    name: c.name.clone(),
                })
                .collect()
        };
        CaseRecordJson {
            discharge_month: r.discharge_month.to_string(),
            age_years: r.age_years,
            age_days: r.age_days,
            sex: r.sex.clone(),
            stay_days: r.stay_days,
            discharge_kind: r.discharge_kind.clone(),
            ventilation_hours: text(&r.ventilation_hours),
            diagnoses: names(&r.diagnoses),
            procedures: names(&r.procedures),
            total_cost: r.total_cost.to_string(),
            drug_cost: text(&r.drug_cost),
            material_cost: text(&r.material_cost),
            fund_paid: r.fund_paid.to_string(),
            group: r.group.clone(),
            group_name: r.group_name.clone(),
            weight: text(&r.weight),
            standard: text(&r.standard),
            category: r.category.as_str().to_string(),
            ordinary_payment: r.ordinary_payment.to_string(),
            cost_ratio: text(&r.cost_ratio),
        }
    }
}

/// An application as its hospital sees it: never a reviewer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct HospitalApplication {
    /// Always `hospital`.
    pub view: String,
    /// The application.
    pub application_id: String,
    /// The hospital.
    pub hospital_id: String,
    /// The review period (`2025Q2`).
    pub period: String,
    /// The kind of reason: long_stay, high_cost, new_technology, complex_critical,
    /// multidisciplinary.
    pub reason: String,
    /// The reason in words.
    pub text: String,
    /// The cases, sorted.
    pub case_ids: Vec<String>,
    /// submitted, first_review, first_reviewed, second_review, decided, withdrawn.
    pub state: String,
    /// The final outcome per case (by case id) with the experts' reason, once decided (a
    /// spot check's re-review replaces the decision).
    pub outcomes: Option<Vec<OpinionJson>>,
}

impl From<HospitalView> for HospitalApplication {
    fn from(v: HospitalView) -> HospitalApplication {
        let HospitalView {
            application_id,
            hospital_id,
            period,
            reason,
            text,
            case_ids,
            state,
            outcomes,
        } = v;
        HospitalApplication {
            view: "hospital".into(),
            application_id,
            hospital_id,
            period: period.to_string(),
            reason: reason.to_string(),
            text,
            case_ids,
            state: state.to_string(),
            outcomes: opinions(outcomes.as_deref()),
        }
    }
}

/// One case as a reviewer sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ReviewerCaseJson {
    /// The case's token (`SC-000001-01`): what the opinions name.
    pub case: String,
    /// The record captured at submission.
    pub record: Option<CaseRecordJson>,
}

/// An application as an assigned reviewer sees it: never the hospital, never a case id,
/// never another reviewer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ReviewerApplication {
    /// Always `reviewer`.
    pub view: String,
    /// The application.
    pub application_id: String,
    /// The review period.
    pub period: String,
    /// The kind of reason.
    pub reason: String,
    /// The reason in words.
    pub text: String,
    /// The cases, by token (a spot-check expert: only those drawn for it).
    pub cases: Vec<ReviewerCaseJson>,
    /// The state.
    pub state: String,
    /// The reviewer's stage: `first`, `second` or `spot_check`.
    pub stage: String,
    /// For the second reviewer: the first reviews' opinions, one list per first reviewer
    /// (without their authors).
    pub first_reviews: Option<Vec<Vec<OpinionJson>>>,
    /// For the second reviewer: the tokens of the cases on which the first reviewers
    /// disagree (the second review decides them).
    pub disagreements: Option<Vec<String>>,
}

impl From<ReviewerView> for ReviewerApplication {
    fn from(v: ReviewerView) -> ReviewerApplication {
        let ReviewerView {
            application_id,
            period,
            reason,
            text,
            cases,
            state,
            stage,
            first_reviews,
            disagreements,
        } = v;
        ReviewerApplication {
            view: "reviewer".into(),
            application_id,
            period: period.to_string(),
            reason: reason.to_string(),
            text,
            cases: cases
                .iter()
                .map(|c| ReviewerCaseJson {
                    case: c.case.clone(),
                    record: c.record.as_ref().map(CaseRecordJson::from),
                })
                .collect(),
            state: state.to_string(),
            stage,
            first_reviews: first_reviews.map(|r| {
                r.iter()
                    .map(|o| o.iter().map(OpinionJson::from).collect())
                    .collect()
            }),
            disagreements,
        }
    }
}

/// One case of an application, as the bureau sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct BureauCaseJson {
    /// The token reviewers see.
    pub token: String,
    /// The case id.
    pub case_id: String,
    /// The record captured at submission.
    pub record: Option<CaseRecordJson>,
    /// The final outcome (after any spot check), once decided.
    pub outcome: Option<OpinionJson>,
}

/// One reviewer's review, for the bureau.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ReviewJson {
    /// The expert.
    pub reviewer: String,
    /// One opinion per case, by token.
    pub opinions: Vec<OpinionJson>,
}

/// A spot check (抽查复核) of one case, for the bureau.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SpotCheckJson {
    /// The case's token.
    pub case: String,
    /// The half-year of the draw.
    pub half: String,
    /// The draw's seed.
    pub seed: u64,
    /// The decision checked.
    pub decided: OutcomeJson,
    /// The expert assigned.
    pub reviewer: Option<String>,
    /// The re-review, once recorded.
    pub opinion: Option<OpinionJson>,
    /// Whether the re-review changed the outcome.
    pub reversed: bool,
}

/// An application as the bureau sees it: everything.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct BureauApplication {
    /// Always `bureau`.
    pub view: String,
    /// The application.
    pub application_id: String,
    /// The hospital.
    pub hospital_id: String,
    /// The review period.
    pub period: String,
    /// The kind of reason.
    pub reason: String,
    /// The reason in words.
    pub text: String,
    /// The cases, by case id, with their tokens.
    pub cases: Vec<BureauCaseJson>,
    /// The state.
    pub state: String,
    /// The first reviewers (初审), once assigned.
    pub first_reviewers: Vec<String>,
    /// The first reviews recorded so far.
    pub first_reviews: Vec<ReviewJson>,
    /// The tokens of the cases on which the first reviews disagree.
    pub disagreements: Vec<String>,
    /// The second reviewer (复审), once assigned.
    pub second_reviewer: Option<String>,
    /// The decision per case (the second review, by token), once decided.
    pub decisions: Option<Vec<OpinionJson>>,
    /// The spot checks of its cases.
    pub spot_checks: Vec<SpotCheckJson>,
}

impl From<&Application> for BureauApplication {
    fn from(a: &Application) -> BureauApplication {
        BureauApplication {
            view: "bureau".into(),
            application_id: a.id().to_string(),
            hospital_id: a.hospital_id().to_string(),
            period: a.period().to_string(),
            reason: a.reason().to_string(),
            text: a.text().to_string(),
            cases: a
                .cases()
                .iter()
                .map(|c| BureauCaseJson {
                    token: c.token.clone(),
                    case_id: c.case_id.clone(),
                    record: c.record.as_ref().map(CaseRecordJson::from),
                    outcome: a.final_opinion(&c.token).map(|o| OpinionJson {
                        case: c.case_id.clone(),
                        outcome: o.outcome.into(),
                        reason: o.reason.clone(),
                    }),
                })
                .collect(),
            state: a.state().to_string(),
            first_reviewers: a.first_reviewers().iter().map(|r| r.to_string()).collect(),
            first_reviews: a
                .first_reviews()
                .into_iter()
                .map(|(reviewer, o)| ReviewJson {
                    reviewer: reviewer.to_string(),
                    opinions: o.iter().map(OpinionJson::from).collect(),
                })
                .collect(),
            disagreements: a.disagreements(),
            second_reviewer: a.second_reviewer().map(str::to_string),
            decisions: opinions(a.decisions()),
            spot_checks: a
                .spot_checks()
                .iter()
                .map(|s| SpotCheckJson {
                    case: s.case.clone(),
                    half: s.half.to_string(),
                    seed: s.seed,
                    decided: s.decided.into(),
                    reviewer: s.reviewer.clone(),
                    opinion: s.opinion.as_ref().map(OpinionJson::from),
                    reversed: s.is_reversal(),
                })
                .collect(),
        }
    }
}

/// An application in the caller's view (`view` says which).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ApplicationView {
    /// The applying hospital's view.
    Hospital(HospitalApplication),
    /// An assigned reviewer's view.
    Reviewer(ReviewerApplication),
    /// The bureau's view.
    Bureau(BureauApplication),
}

/// A review round (评审轮次).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RoundJson {
    /// The review period whose cases it takes.
    pub period: String,
    /// The last discharge month of its cases.
    pub cases_through: String,
    /// The first day applications are taken.
    pub applications_open: String,
    /// The last day applications are taken.
    pub applications_close: String,
    /// The day by which both reviews are done.
    pub review_by: String,
}

impl From<&ReviewRound> for RoundJson {
    fn from(r: &ReviewRound) -> RoundJson {
        RoundJson {
            period: r.period.to_string(),
            cases_through: r.cases_through.to_string(),
            applications_open: r.applications_open.to_string(),
            applications_close: r.applications_close.to_string(),
            review_by: r.review_by.to_string(),
        }
    }
}

/// Applications in the caller's view, with the review rounds.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApplicationList {
    /// `hospital`, `reviewer` or `bureau`.
    pub view: String,
    /// The applications, by id.
    pub applications: Vec<ApplicationView>,
    /// The review rounds of the period asked for (default: of the next round's period).
    pub rounds: Vec<RoundJson>,
    /// The next review round as of today.
    pub next_round: RoundJson,
}

/// One hospital's line of the half-yearly notice (or the region's totals).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct NoticeRowJson {
    /// The hospital (empty for the region's totals).
    pub hospital_id: String,
    /// Applications.
    pub applications: u64,
    /// Cases applied for (withdrawn ones included).
    pub cases_applied: u64,
    /// Cases approved, after the spot checks.
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
    /// Of those, reversed.
    pub spot_reversed: u64,
}

impl From<&NoticeRow> for NoticeRowJson {
    fn from(r: &NoticeRow) -> NoticeRowJson {
        NoticeRowJson {
            hospital_id: r.hospital_id.clone(),
            applications: r.applications,
            cases_applied: r.cases_applied,
            cases_approved: r.cases_approved,
            cases_rejected: r.cases_rejected,
            cases_withdrawn: r.cases_withdrawn,
            cases_pending: r.cases_pending,
            spot_checked: r.spot_checked,
            spot_reviewed: r.spot_reviewed,
            spot_reversed: r.spot_reversed,
        }
    }
}

/// The half-yearly special-case notice (特例单议公示).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct NoticeJson {
    /// The half-year.
    pub half: String,
    /// Per hospital, by id.
    pub hospitals: Vec<NoticeRowJson>,
    /// The region's totals.
    pub totals: NoticeRowJson,
    /// The seeds of the half-year's spot-check draws.
    pub spot_check_seeds: Vec<u64>,
}

impl From<&Notice> for NoticeJson {
    fn from(n: &Notice) -> NoticeJson {
        NoticeJson {
            half: n.half.to_string(),
            hospitals: n.rows.iter().map(NoticeRowJson::from).collect(),
            totals: (&n.totals).into(),
            spot_check_seeds: n.spot_check_seeds.clone(),
        }
    }
}

/// A spot-check draw (抽查复核).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DrawJson {
    /// The half-year.
    pub half: String,
    /// The seed (the same seed draws the same cases).
    pub seed: u64,
    /// `special_case.spot_check_share`.
    pub share: String,
    /// The decided cases of the half-year.
    pub decided_cases: u64,
    /// The cases drawn: application and token.
    pub drawn: Vec<DrawnJson>,
}

/// A drawn case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct DrawnJson {
    /// The application.
    pub application_id: String,
    /// The case's token.
    pub case: String,
}

impl From<&SpotCheckDraw> for DrawJson {
    fn from(d: &SpotCheckDraw) -> DrawJson {
        DrawJson {
            half: d.half.to_string(),
            seed: d.seed,
            share: d.share.to_string(),
            decided_cases: d.decided_cases,
            drawn: d
                .drawn
                .iter()
                .map(|c| DrawnJson {
                    application_id: c.application_id.clone(),
                    case: c.case.clone(),
                })
                .collect(),
        }
    }
}

/// Totals of a group of cases (each amount the sum of fen-rounded case lines).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TotalsJson {
    /// Number of cases.
    pub cases: u64,
    /// Σ total_cost.
    pub total_cost: String,
    /// Σ fund_paid (per-item fund cost).
    pub fund_paid: String,
    /// Σ own.
    pub own: String,
    /// Σ payment.
    pub payment: String,
    /// Σ fund_due.
    pub fund_due: String,
}

impl From<&CategoryTotals> for TotalsJson {
    fn from(t: &CategoryTotals) -> TotalsJson {
        let CategoryTotals {
            cases,
            total_cost,
            fund_paid,
            own,
            payment,
            fund_due,
        } = t;
        TotalsJson {
            cases: *cases,
            total_cost: total_cost.to_string(),
            fund_paid: fund_paid.to_string(),
            own: own.to_string(),
            payment: payment.to_string(),
            fund_due: fund_due.to_string(),
        }
    }
}

/// A hospital's statement of one month (月结算单).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct StatementJson {
    /// The hospital.
    pub hospital_id: String,
    /// The discharge month settled (`2025-06`).
    pub month: String,
    /// Number of cases.
    pub cases: u64,
    /// The cases settled, sorted.
    pub case_ids: Vec<String>,
    /// Totals by payment category (`normal`, `high`, …).
    pub by_category: BTreeMap<String, TotalsJson>,
    /// Totals of all cases.
    pub totals: TotalsJson,
    /// Σ fund_due of the month.
    pub fund_due_total: String,
    /// The deposit rate applied.
    pub deposit_rate: String,
    /// 质量保证金 withheld, released at clearing.
    pub deposit_withheld: String,
    /// What the fund pays now: fund_due_total − deposit_withheld.
    pub amount_due: String,
    /// 申报截止日 (`YYYY-MM-DD`).
    pub declaration_deadline: String,
    /// The last day to pay (`YYYY-MM-DD`).
    pub due_by: String,
    /// The differences (补差) of cases on earlier, paid statements that a re-run found,
    /// carried onto this one; `amount_due` includes them.
    pub adjustments: Vec<AdjustmentJson>,
    /// Σ of the adjustments.
    pub adjustments_total: String,
    /// What was paid against it, what is outstanding and how late it is, as of `as_of`
    /// (absent when the server's store keeps no payments).
    pub standing: Option<StandingJson>,
}

/// A difference carried onto a statement (补差): a case of an earlier, paid statement that a
/// re-run priced differently.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AdjustmentJson {
    /// The ledger's number of the adjustment.
    pub id: i64,
    /// The case corrected.
    pub case_id: String,
    /// The month of the paid statement the case was on.
    pub case_month: String,
    /// Its fund_due on the paid statement.
    pub old_fund_due: String,
    /// Its fund_due in the re-run.
    pub new_fund_due: String,
    /// new − old.
    pub difference: String,
    /// The run that found the difference.
    pub run_id: i64,
}

/// A statement's standing as of a date (应付未付).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct StandingJson {
    /// The date (`YYYY-MM-DD`): payments dated after it do not count.
    pub as_of: String,
    /// Σ of the payments against the statement dated on or before `as_of`.
    pub paid: String,
    /// `amount_due − paid`.
    pub outstanding: String,
    /// Calendar days after `due_by`; 0 when not yet due or nothing is outstanding.
    pub days_overdue: i64,
    /// `not_due`, `1-30`, `31-90`, `91-180`, `>180`, `paid` or `credit`.
    pub band: String,
}

impl StandingJson {
    /// The standing of an arrears row as of `as_of`.
    pub fn of(as_of: Date, r: &ArrearsRow) -> StandingJson {
        StandingJson {
            as_of: as_of.to_string(),
            paid: Fen(r.paid).to_string(),
            outstanding: Fen(r.outstanding).to_string(),
            days_overdue: r.days_overdue,
            band: r.band.as_str().to_string(),
        }
    }
}

impl From<&MonthlyStatement> for StatementJson {
    fn from(s: &MonthlyStatement) -> StatementJson {
        let MonthlyStatement {
            hospital_id,
            month,
            cases,
            case_ids,
            by_category,
            totals,
            fund_due_total,
            deposit_rate,
            deposit_withheld,
            amount_due,
            declaration_deadline,
            due_by,
            due_working_days: _,
            adjustments,
            adjustments_total,
        } = s;
        StatementJson {
            hospital_id: hospital_id.clone(),
            month: month.to_string(),
            cases: *cases,
            case_ids: case_ids.clone(),
            by_category: by_category
                .iter()
                .map(|(k, v)| (k.clone(), TotalsJson::from(v)))
                .collect(),
            totals: TotalsJson::from(totals),
            fund_due_total: fund_due_total.to_string(),
            deposit_rate: deposit_rate.to_string(),
            deposit_withheld: deposit_withheld.to_string(),
            amount_due: amount_due.to_string(),
            declaration_deadline: declaration_deadline.to_string(),
            due_by: due_by.to_string(),
            adjustments: adjustments
                .iter()
                .map(|a| AdjustmentJson {
                    id: a.id,
                    case_id: a.case_id.clone(),
                    case_month: a.case_month.to_string(),
                    old_fund_due: Fen(a.old_fund_due).to_string(),
                    new_fund_due: Fen(a.new_fund_due).to_string(),
                    difference: Fen(a.difference).to_string(),
                    run_id: a.run_id,
                })
                .collect(),
            adjustments_total: Fen(*adjustments_total).to_string(),
            standing: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outcome_takes_its_own_fields_only() {
        for ok in [
            r#"{"kind":"rejected"}"#,
            r#"{"kind":"approved_per_item"}"#,
            r#"{"kind":"approved_extra_points","points":"35"}"#,
        ] {
            assert!(serde_json::from_str::<OutcomeJson>(ok).is_ok(), "{ok}");
        }
        for bad in [
            r#"{"kind":"rejected","points":"35"}"#,
            r#"{"kind":"approved_per_item","r":[]}"#,
            r#"{"kind":"approved_extra_points","points":"35","x":1}"#,
            r#"{"kind":"approved_extra_points"}"#,
            r#"{"kind":"maybe"}"#,
        ] {
            assert!(serde_json::from_str::<OutcomeJson>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_opinion_is_checked_as_the_document_states_it() {
        let o = |case: &str, points: &str, reason: &str| OpinionJson {
            case: case.into(),
            outcome: OutcomeJson::ApprovedExtraPoints {
                points: points.into(),
            },
            reason: reason.into(),
        };
        let c = o("SC-000001-01", "12.50", "ok")
            .to_opinion("opinions[0]")
            .unwrap();
        assert_eq!(
            c.outcome,
            Outcome::ApprovedExtraPoints {
                points: Decimal::new(1250, 2)
            }
        );
        for (bad, field) in [
            (o("C1", "1", "ok"), "opinions[0].case"),
            (o("SC-000001-01", "0", "ok"), "opinions[0].outcome.points"),
            (o("SC-000001-01", "+1", "ok"), "opinions[0].outcome.points"),
            (o("SC-000001-01", "1", "\u{3000}"), "opinions[0].reason"),
        ] {
            let e = bad.to_opinion("opinions[0]").unwrap_err();
            assert_eq!(e.field.as_deref(), Some(field));
        }
    }
}
