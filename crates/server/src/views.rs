//! The JSON the API answers with, built from the settlement types field by field (each
//! conversion destructures its source, so a new field there is a compile error here rather
//! than a silent gap in the documented schema). Money is text, exact (`"1234.56"`).

use std::collections::BTreeMap;
use std::str::FromStr;

use drgdip_pay::money::Fen;
use drgdip_settle::arrears::ArrearsRow;
use drgdip_settle::{
    Application, CaseOpinion, CategoryTotals, Date, HospitalView, MonthlyStatement, Outcome,
    ReviewState, ReviewerView,
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
    /// Approved, paid the standard plus extra points (追加点数), > 0.
    ApprovedExtraPoints {
        /// The points approved, as text (`"12.5"`): a decimal number above zero.
        points: String,
    },
    /// Rejected.
    Rejected {},
}

/// A reviewer's outcome for one case, with the experts' reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpinionJson {
    /// The case.
    pub case_id: String,
    /// The outcome.
    pub outcome: OutcomeJson,
    /// The experts' reason (required).
    pub reason: String,
}

impl OpinionJson {
    /// The opinion, checked as the document states it (the case id, the reason, the
    /// points); `at` is its field in the request (`opinions[2]`).
    pub fn to_opinion(&self, at: &str) -> Result<CaseOpinion, ApiError> {
        let OpinionJson {
            case_id,
            outcome,
            reason,
        } = self;
        contract::check_case_id(&format!("{at}.case_id"), case_id)?;
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
            case_id: case_id.clone(),
            outcome,
            reason: reason.clone(),
        })
    }
}

impl From<&CaseOpinion> for OpinionJson {
    fn from(o: &CaseOpinion) -> OpinionJson {
        let CaseOpinion {
            case_id,
            outcome,
            reason,
        } = o;
        OpinionJson {
            case_id: case_id.clone(),
            outcome: match *outcome {
                Outcome::ApprovedPerItem => OutcomeJson::ApprovedPerItem {},
                Outcome::ApprovedExtraPoints { points } => OutcomeJson::ApprovedExtraPoints {
                    points: points.to_string(),
                },
                Outcome::Rejected => OutcomeJson::Rejected {},
            },
            reason: reason.clone(),
        }
    }
}

fn opinions(v: Option<&[CaseOpinion]>) -> Option<Vec<OpinionJson>> {
    v.map(|v| v.iter().map(OpinionJson::from).collect())
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
    /// The decision per case with the experts' reason, once decided.
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

/// An application as an assigned reviewer sees it: never the hospital, never the other
/// reviewer.
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
    /// The cases, sorted.
    pub case_ids: Vec<String>,
    /// The state.
    pub state: String,
    /// For the second reviewer: the first review's opinions (without the first reviewer).
    pub first_review: Option<Vec<OpinionJson>>,
}

impl From<ReviewerView> for ReviewerApplication {
    fn from(v: ReviewerView) -> ReviewerApplication {
        let ReviewerView {
            application_id,
            period,
            reason,
            text,
            case_ids,
            state,
            first_review,
        } = v;
        ReviewerApplication {
            view: "reviewer".into(),
            application_id,
            period: period.to_string(),
            reason: reason.to_string(),
            text,
            case_ids,
            state: state.to_string(),
            first_review: opinions(first_review.as_deref()),
        }
    }
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
    /// The cases, sorted.
    pub case_ids: Vec<String>,
    /// The state.
    pub state: String,
    /// The first reviewer (初审), once assigned.
    pub first_reviewer: Option<String>,
    /// The second reviewer (复审), once assigned.
    pub second_reviewer: Option<String>,
    /// The first review's opinions, once recorded.
    pub first_review: Option<Vec<OpinionJson>>,
    /// The decision per case (the second review), once decided.
    pub decisions: Option<Vec<OpinionJson>>,
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
            case_ids: a.case_ids().to_vec(),
            state: a.state().to_string(),
            first_reviewer: a.first_reviewer().map(str::to_string),
            second_reviewer: a.second_reviewer().map(str::to_string),
            first_review: opinions(a.first_review()),
            decisions: opinions(a.decisions()),
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

/// Applications in the caller's view.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ApplicationList {
    /// `hospital`, `reviewer` or `bureau`.
    pub view: String,
    /// The applications, by id.
    pub applications: Vec<ApplicationView>,
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
        let o = |case_id: &str, points: &str, reason: &str| OpinionJson {
            case_id: case_id.into(),
            outcome: OutcomeJson::ApprovedExtraPoints {
                points: points.into(),
            },
            reason: reason.into(),
        };
        let c = o("C1", "12.50", "ok").to_opinion("opinions[0]").unwrap();
        assert_eq!(
            c.outcome,
            Outcome::ApprovedExtraPoints {
                points: Decimal::new(1250, 2)
            }
        );
        for (bad, field) in [
            (o("C 1", "1", "ok"), "opinions[0].case_id"),
            (o("C1", "0", "ok"), "opinions[0].outcome.points"),
            (o("C1", "+1", "ok"), "opinions[0].outcome.points"),
            (o("C1", "1", "\u{3000}"), "opinions[0].reason"),
        ] {
            let e = bad.to_opinion("opinions[0]").unwrap_err();
            assert_eq!(e.field.as_deref(), Some(field));
        }
    }
}
