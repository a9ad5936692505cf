//! 预付金 — prepayment: eligibility, amount, recovery at clearing, and the yearly public list.
//!
//! `payment-model.md` §6: a hospital that applies and meets `prepayment.eligible_credit` and
//! `prepayment.min_agreement_years` receives `months × its average monthly fund payment of
//! the previous year`; the prepayment is recovered at the annual clearing
//! ([`crate::clearing::ClearingInput::prepayment_outstanding`]); the amounts are published
//! once a year ([`public_list`]).
//!
//! Only hospitals that applied are decided ([`decide_applications`]: one run of
//! applications, [`PrepaymentApplication`]); the notices' preferences are parameters: the
//! traceability-code upload may be a condition (`require_traceability_upload`), and when the
//! fund cannot spare every amount (`cap_amount`, `cap_share_of_balance` × the fund's opening
//! balance, [`PrepaymentCap`]) the eligible applicants are served in the order of
//! `prepayment.priority` (traceability code upload, credit rating, agreement years by
//! default). The notices' other preferences (policy implementation, enrolment, anti-fraud)
//! have no standard column: `"column:NAME"` names another numeric column of the hospitals file
//! (higher first), skipped — and said so on each decision — when the file has no such column
//! (the shipped `hospitals.csv` has none). Fujian's approved uplift
//! ([`Uplift`]) is recorded with who approved it, when and the reference. Every decision
//! carries its reasons ([`PrepaymentDecision::reason`]).
//!
//! Choices where the model is silent:
//! - the monthly fund payment is a month's `fund_due_total` (the fund's obligation, deposit
//!   included — the deposit is the hospital's money, only held back);
//! - the average is over the months the caller passes: pass all twelve months of the previous
//!   year, a month without cases as zero; a hospital with no fund payment in the previous year
//!   is refused (there is nothing to average);
//! - the average and the amount are published figures, each rounded half-up to the fen:
//!   `average = round_fen(Σ / months of data)`, `amount = round_fen(months × average)`.

use std::fmt;

use drgdip_pay::money::{round_fen, Fen};
use drgdip_pay::params::Prepayment as PrepaymentRules;
use drgdip_pay::{Hospital, Params};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use drgdip_pay::params::{PriorityCriterion, PriorityKey};

use crate::audit::{Action, Actor, AuditEvent, Audited};
use crate::calendar::{Date, YearMonth};
use crate::monthly::MonthlyStatement;

/// Why a hospital may not receive a prepayment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Refusal {
    /// Its credit rating (信用等级) is not one of `eligible_credit`.
    CreditRating {
        /// The hospital's rating.
        rating: String,
        /// The eligible ratings.
        eligible: Vec<String>,
    },
    /// Fewer years under agreement (协议年限) than required.
    AgreementYears {
        /// The hospital's years.
        years: u32,
        /// The minimum.
        min: u32,
    },
    /// No fund payment in the previous year to average.
    NoPreviousYearPayments {
        /// The previous year.
        previous_year: i32,
    },
    /// It does not upload drug traceability codes (追溯码), and
    /// `prepayment.require_traceability_upload` makes that a condition.
    TraceabilityNotUploaded,
    /// What the fund can spare was spent on applicants of higher priority.
    CapExhausted {
        /// The cap.
        cap: Decimal,
        /// How the cap was reached.
        basis: String,
    },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::CreditRating { rating, eligible } => write!(
                f,
                "credit rating {rating} is not one of {}",
                eligible.join(", ")
            ),
            Refusal::AgreementYears { years, min } => {
                write!(f, "{years} years under agreement, {min} required")
            }
            Refusal::NoPreviousYearPayments { previous_year } => {
                write!(f, "no fund payment in {previous_year} to average")
            }
            Refusal::TraceabilityNotUploaded => write!(
                f,
                "no traceability-code upload (prepayment.require_traceability_upload)"
            ),
            Refusal::CapExhausted { cap, basis } => write!(
                f,
                "what the fund can spare ({} = {basis}) went to applicants of higher priority",
                Fen(*cap)
            ),
        }
    }
}

/// The eligibility check of one hospital.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Eligibility {
    /// The hospital.
    pub hospital_id: String,
    /// Its credit rating.
    pub credit_rating: String,
    /// Its years under agreement.
    pub agreement_years: u32,
    /// Whether it uploads drug traceability codes.
    #[serde(default)]
    pub traceability_code_upload: bool,
    /// Every reason to refuse; empty when eligible.
    pub refusals: Vec<Refusal>,
}

impl Eligibility {
    /// Whether no reason to refuse was found.
    pub fn is_eligible(&self) -> bool {
        self.refusals.is_empty()
    }
}

/// Checks the credit rating (exact match with one of `eligible_credit`), the years under
/// agreement (≥ `min_agreement_years`) and, with `require_traceability_upload`, the
/// traceability-code upload; every failing condition is listed.
pub fn eligibility(hospital: &Hospital, params: &PrepaymentRules) -> Eligibility {
    let mut refusals = Vec::new();
    if !params
        .eligible_credit
        .iter()
        .any(|rating| rating == &hospital.credit_rating)
    {
        refusals.push(Refusal::CreditRating {
            rating: hospital.credit_rating.clone(),
            eligible: params.eligible_credit.clone(),
        });
    }
    if hospital.agreement_years < params.min_agreement_years {
        refusals.push(Refusal::AgreementYears {
            years: hospital.agreement_years,
            min: params.min_agreement_years,
        });
    }
    if params.require_traceability_upload && !hospital.traceability_code_upload {
        refusals.push(Refusal::TraceabilityNotUploaded);
    }
    Eligibility {
        hospital_id: hospital.hospital_id.clone(),
        credit_rating: hospital.credit_rating.clone(),
        agreement_years: hospital.agreement_years,
        traceability_code_upload: hospital.traceability_code_upload,
        refusals,
    }
}

/// The amount arithmetic: `months × average monthly fund payment of the previous year`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrepaymentAmount {
    /// The year averaged.
    pub previous_year: i32,
    /// Months of data averaged.
    pub months_of_data: u32,
    /// Σ monthly fund payments of the previous year.
    pub previous_year_total: Decimal,
    /// `round_fen(previous_year_total / months_of_data)` (0 without data).
    pub average_monthly: Decimal,
    /// `prepayment.months`.
    pub months: Decimal,
    /// `round_fen(months × average_monthly)`.
    pub amount: Decimal,
}

impl fmt::Display for PrepaymentAmount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} months × average monthly fund payment of {} ({} / {} months = {}) = {}",
            self.months,
            self.previous_year,
            Fen(self.previous_year_total),
            self.months_of_data,
            Fen(self.average_monthly),
            Fen(self.amount)
        )
    }
}

/// Monthly fund payments that cannot be averaged.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PrepaymentError {
    /// A month outside the previous year.
    #[error("monthly fund payment of {month}: expected a month of {previous_year}")]
    MonthOfOtherYear {
        /// The month given.
        month: YearMonth,
        /// The previous year.
        previous_year: i32,
    },
    /// The same month twice.
    #[error("monthly fund payment of {month} appears more than once")]
    DuplicateMonth {
        /// The month.
        month: YearMonth,
    },
    /// A negative monthly amount.
    #[error("monthly fund payment of {month}: {amount}, expected an amount ≥ 0")]
    NegativeAmount {
        /// The month.
        month: YearMonth,
        /// The amount.
        amount: Decimal,
    },
    /// `cap_share_of_balance` is set but no fund balance was given.
    #[error("prepayment.cap_share_of_balance is set: the fund's opening balance is needed (the fund file, with its balance row)")]
    BalanceNeeded,
    /// The cap overflows.
    #[error("prepayment cap: share × balance overflows")]
    CapOverflow,
    /// An application given with another hospital.
    #[error("the application of {application_hospital_id} was given for hospital {hospital_id}")]
    ApplicationOfOtherHospital {
        /// The hospital decided.
        hospital_id: String,
        /// The application's hospital.
        application_hospital_id: String,
    },
    /// A `column:NAME` priority criterion whose value is not a number.
    #[error("prepayment.priority column:{column}: hospital {hospital_id} has {value:?}, expected a number")]
    PriorityColumn {
        /// The hospital.
        hospital_id: String,
        /// The column.
        column: String,
        /// The value found.
        value: String,
    },
    /// A hospital twice in one run.
    #[error("hospital {hospital_id} applies twice in one run")]
    DuplicateApplicant {
        /// The hospital.
        hospital_id: String,
    },
}

/// The amount from the previous year's monthly fund payments (`fund_due_total` per month).
pub fn prepayment_amount(
    previous_year: i32,
    monthly_fund_due: &[(YearMonth, Decimal)],
    months: Decimal,
) -> Result<PrepaymentAmount, PrepaymentError> {
    let mut sorted: Vec<(YearMonth, Decimal)> = monthly_fund_due.to_vec();
    sorted.sort();
    for (i, (month, amount)) in sorted.iter().enumerate() {
        if month.year() != previous_year {
            return Err(PrepaymentError::MonthOfOtherYear {
                month: *month,
                previous_year,
            });
        }
        if i > 0 && sorted[i - 1].0 == *month {
            return Err(PrepaymentError::DuplicateMonth { month: *month });
        }
        if amount.is_sign_negative() && !amount.is_zero() {
            return Err(PrepaymentError::NegativeAmount {
                month: *month,
                amount: *amount,
            });
        }
    }
    let total: Decimal = sorted.iter().map(|(_, amount)| *amount).sum();
    let months_of_data = sorted.len() as u32;
    let average_monthly = if months_of_data == 0 {
        Decimal::ZERO
    } else {
        round_fen(total / Decimal::from(months_of_data))
    };
    Ok(PrepaymentAmount {
        previous_year,
        months_of_data,
        previous_year_total: total,
        average_monthly,
        months,
        amount: round_fen(months * average_monthly),
    })
}

/// The previous year's monthly fund payments of `hospital_id`, from its monthly statements.
pub fn monthly_fund_due(
    statements: &[MonthlyStatement],
    hospital_id: &str,
) -> Vec<(YearMonth, Decimal)> {
    statements
        .iter()
        .filter(|s| s.hospital_id == hospital_id)
        .map(|s| (s.month, s.fund_due_total))
        .collect()
}

/// The decision on one hospital's application for `year`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrepaymentDecision {
    /// The year the prepayment is for.
    pub year: i32,
    /// The hospital.
    pub hospital_id: String,
    /// Its name, for the public list.
    pub hospital_name: String,
    /// The eligibility check (with the no-payment refusal, if any).
    pub eligibility: Eligibility,
    /// The amount arithmetic (computed for a refused hospital too, for the record).
    pub computation: PrepaymentAmount,
    /// The amount granted: `computation.amount` (at most the amount requested, at most
    /// what was left of the cap) when eligible, else 0.
    pub amount: Decimal,
    /// The application (a decision of a run of applications; `None` for a decision made
    /// without one, [`decide_prepayment`]).
    #[serde(default)]
    pub application: Option<ApplicationRecord>,
    /// The rank among the run's eligible applicants (`prepayment.priority`).
    #[serde(default)]
    pub priority: Option<Priority>,
    /// How the fund's cap reduced the amount, if it did.
    #[serde(default)]
    pub cap: Option<CapShare>,
}

/// The application as the decision records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationRecord {
    /// The day the hospital applied.
    pub applied_on: Date,
    /// The amount it asked for, if any.
    pub requested_amount: Option<Decimal>,
    /// The uplift asked for with its approval, and whether the rules allowed it.
    pub uplift: Option<UpliftDecision>,
}

/// An approved uplift and what the rules made of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpliftDecision {
    /// The uplift with its approval.
    pub uplift: Uplift,
    /// Why it was not applied (the ordinary months then apply); `None`: applied.
    pub refused: Option<String>,
}

impl PrepaymentDecision {
    /// Whether the prepayment is granted.
    pub fn is_granted(&self) -> bool {
        self.eligibility.is_eligible()
    }

    /// What the clearing of `year` recovers: the amount granted less what was already
    /// recovered, never below zero.
    pub fn outstanding(&self, recovered_before: Decimal) -> Decimal {
        (self.amount - recovered_before).max(Decimal::ZERO)
    }

    /// The reason written on the public list: the conditions met and the arithmetic (with
    /// the uplift, the request, the priority and the cap where they mattered), or every
    /// condition that failed.
    pub fn reason(&self) -> String {
        if self.is_granted() {
            let mut parts = vec![format!(
                "credit {}, {} years under agreement{}",
                self.eligibility.credit_rating,
                self.eligibility.agreement_years,
                if self.eligibility.traceability_code_upload {
                    ", uploads traceability codes"
                } else {
                    ""
                }
            )];
            if let Some(u) = self.application.as_ref().and_then(|a| a.uplift.as_ref()) {
                parts.push(match &u.refused {
                    None => format!("uplift (经批准提高): {}", u.uplift),
                    Some(why) => format!("uplift of {} refused: {why}", u.uplift),
                });
            }
            parts.push(self.computation.to_string());
            if let Some(r) = self.application.as_ref().and_then(|a| a.requested_amount) {
                if r < self.computation.amount {
                    parts.push(format!("requested {}", Fen(r)));
                }
            }
            if let Some(p) = &self.priority {
                parts.push(format!(
                    "priority {} of {} ({})",
                    p.rank,
                    p.of,
                    p.criteria.join(", ")
                ));
            }
            if let Some(c) = &self.cap {
                parts.push(format!(
                    "cap {}: {} left of it, granted {} of {}",
                    Fen(c.cap),
                    Fen(c.remaining_before),
                    Fen(self.amount),
                    Fen(c.before_cap)
                ));
            }
            parts.join("; ")
        } else {
            let reasons: Vec<String> = self
                .eligibility
                .refusals
                .iter()
                .map(ToString::to_string)
                .collect();
            reasons.join("; ")
        }
    }
}

/// Decides `hospital`'s application for a prepayment in `year` from its monthly fund
/// payments of `year − 1`, with the audit event ([`Action::PrepaymentGranted`] or
/// [`Action::PrepaymentRefused`]).
pub fn decide_prepayment(
    year: i32,
    hospital: &Hospital,
    previous_year_monthly: &[(YearMonth, Decimal)],
    params: &Params,
    actor: &Actor,
) -> Result<Audited<PrepaymentDecision>, PrepaymentError> {
    let rules = &params.prepayment;
    let computation = prepayment_amount(year - 1, previous_year_monthly, rules.months)?;
    let mut eligibility = eligibility(hospital, rules);
    if computation.previous_year_total <= Decimal::ZERO {
        eligibility.refusals.push(Refusal::NoPreviousYearPayments {
            previous_year: year - 1,
        });
    }
    let amount = if eligibility.is_eligible() {
        computation.amount
    } else {
        Decimal::ZERO
    };
    let decision = PrepaymentDecision {
        year,
        hospital_id: hospital.hospital_id.clone(),
        hospital_name: hospital.name.clone(),
        eligibility,
        computation,
        amount,
        application: None,
        priority: None,
        cap: None,
    };
    let event = decision_event(&decision, actor);
    Ok(Audited {
        value: decision,
        events: vec![event],
    })
}

/// The audit event of a decision ([`Action::PrepaymentGranted`] or
/// [`Action::PrepaymentRefused`]) with its reasons.
fn decision_event(decision: &PrepaymentDecision, actor: &Actor) -> AuditEvent {
    let action = if decision.is_granted() {
        Action::PrepaymentGranted
    } else {
        Action::PrepaymentRefused
    };
    AuditEvent::new(
        actor,
        action,
        format!("{}/{}", decision.hospital_id, decision.year),
        decision.reason(),
    )
    .after(format!(
        "eligible={} amount={}",
        decision.is_granted(),
        Fen(decision.amount)
    ))
}

/// One row of the yearly public list of prepayments (预付金公示).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicListRow {
    /// The year.
    pub year: i32,
    /// The hospital.
    pub hospital_id: String,
    /// Its name.
    pub hospital_name: String,
    /// Whether the prepayment was granted.
    pub eligible: bool,
    /// The amount granted (0 when refused), rounded to the fen.
    pub amount: Decimal,
    /// The day it applied, when the decision came from an application.
    pub applied_on: Option<Date>,
    /// The uplift applied, with its approval (`None`: none, or refused — see the reason).
    pub uplift: Option<Uplift>,
    /// What the year's clearing recovered (`None`: the year is not cleared).
    pub recovered: Option<Decimal>,
    /// Why: the arithmetic, or the reasons of the refusal.
    pub reason: String,
}

impl PublicListRow {
    /// Granted − recovered (`None` before the clearing).
    pub fn outstanding(&self) -> Option<Decimal> {
        self.recovered.map(|r| self.amount - r)
    }
}

/// The public list of `decisions`, sorted by hospital id, with what the year's clearing
/// recovered from each hospital (`recovered`: the clearing's `prepayment_outstanding` by
/// hospital; `None` before the clearing; a hospital without a clearing statement: 0).
pub fn public_list(
    decisions: &[PrepaymentDecision],
    recovered: Option<&std::collections::BTreeMap<String, Decimal>>,
) -> Vec<PublicListRow> {
    let mut rows: Vec<PublicListRow> = decisions
        .iter()
        .map(|d| {
            let application = d.application.as_ref();
            PublicListRow {
                year: d.year,
                hospital_id: d.hospital_id.clone(),
                hospital_name: d.hospital_name.clone(),
                eligible: d.is_granted(),
                amount: d.amount,
                applied_on: application.map(|a| a.applied_on),
                uplift: application
                    .and_then(|a| a.uplift.as_ref())
                    .filter(|u| u.refused.is_none() && d.is_granted())
                    .map(|u| u.uplift.clone()),
                recovered: recovered
                    .map(|r| r.get(&d.hospital_id).copied().unwrap_or(Decimal::ZERO)),
                reason: d.reason(),
            }
        })
        .collect();
    rows.sort_by(|a, b| (a.year, &a.hospital_id).cmp(&(b.year, &b.hospital_id)));
    rows
}

// ---------------------------------------------------------------------------------------
// Applications, the notices' preferences, the fund's cap and the approved uplift

/// 经批准提高 — an approved uplift of the prepayment (Fujian: hospitals with notable
/// management results may, after approval, get a higher amount), with its approval.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Uplift {
    /// The months approved instead of `prepayment.months`.
    pub months: Decimal,
    /// Who approved it.
    pub approved_by: String,
    /// When.
    pub approved_on: Date,
    /// The approval's document number or reference.
    pub reference: String,
}

impl fmt::Display for Uplift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} months approved by {} on {} ({})",
            self.months, self.approved_by, self.approved_on, self.reference
        )
    }
}

/// One hospital's application for a prepayment (预付金申请: hospitals apply voluntarily).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrepaymentApplication {
    /// The hospital.
    pub hospital_id: String,
    /// The day it applied.
    pub applied_on: Date,
    /// The amount it asks for, if less than the rule gives (`None`: what the rule gives).
    pub requested_amount: Option<Decimal>,
    /// An approved uplift, if any.
    pub uplift: Option<Uplift>,
}

/// What the fund can spare for the year's prepayments (`prepayment.cap_amount`,
/// `prepayment.cap_share_of_balance` × the fund's opening balance; the smaller of the two).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrepaymentCap {
    /// The cap, CNY (to the fen).
    pub amount: Decimal,
    /// How it was reached, in words.
    pub basis: String,
    /// Granted to other hospitals of the year before this run (they count against the cap).
    pub granted_before: Decimal,
}

impl PrepaymentCap {
    /// The cap of `rules` with the fund's opening balance `balance` (needed only when
    /// `cap_share_of_balance` is set); `Ok(None)`: no cap. The error names the key.
    pub fn of(
        rules: &PrepaymentRules,
        balance: Option<Decimal>,
        granted_before: Decimal,
    ) -> Result<Option<PrepaymentCap>, PrepaymentError> {
        let by_share = match (rules.cap_share_of_balance, balance) {
            (None, _) => None,
            (Some(_), None) => return Err(PrepaymentError::BalanceNeeded),
            (Some(share), Some(balance)) => {
                let amount = share
                    .checked_mul(balance)
                    .map(round_fen)
                    .ok_or(PrepaymentError::CapOverflow)?;
                Some((
                    amount,
                    format!(
                        "prepayment.cap_share_of_balance {share} × the fund's opening balance {} = {}",
                        Fen(balance),
                        Fen(amount)
                    ),
                ))
            }
        };
        let by_amount = rules
            .cap_amount
            .map(|a| (a, format!("prepayment.cap_amount {}", Fen(a))));
        let chosen = match (by_amount, by_share) {
            (None, None) => return Ok(None),
            (Some(a), None) | (None, Some(a)) => a,
            (Some(a), Some(b)) => {
                let (low, high) = if a.0 <= b.0 { (a, b) } else { (b, a) };
                (
                    low.0,
                    format!("{} (the smaller of it and {})", low.1, high.1),
                )
            }
        };
        Ok(Some(PrepaymentCap {
            amount: chosen.0,
            basis: chosen.1,
            granted_before,
        }))
    }

    /// What is left for this run: cap − granted before, never below zero.
    pub fn remaining(&self) -> Decimal {
        (self.amount - self.granted_before).max(Decimal::ZERO)
    }
}

/// How the cap touched one decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapShare {
    /// The cap.
    pub cap: Decimal,
    /// What was left of it when this hospital's turn came.
    pub remaining_before: Decimal,
    /// The amount before the cap.
    pub before_cap: Decimal,
}

/// The priority of one eligible applicant: its rank and the criteria that ordered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Priority {
    /// 1-based rank among the eligible applicants of the run.
    pub rank: u32,
    /// Eligible applicants of the run.
    pub of: u32,
    /// The criteria (`prepayment.priority`), in order.
    pub criteria: Vec<String>,
}

/// The value of a `column:NAME` criterion for each applicant (`None` for every applicant:
/// the hospitals file has no such column, and the criterion is skipped). A value that is not
/// a number is an error naming the hospital, the column and the value.
fn column_values(
    column: &str,
    applicants: &[Applicant<'_>],
) -> Result<Option<Vec<Decimal>>, PrepaymentError> {
    if !applicants
        .iter()
        .any(|a| a.hospital.extra_column(column).is_some())
    {
        return Ok(None);
    }
    applicants
        .iter()
        .map(|a| {
            let text = a.hospital.extra_column(column).unwrap_or("");
            text.parse::<Decimal>()
                .ok()
                .filter(|_| !text.contains(['e', 'E']))
                .ok_or_else(|| PrepaymentError::PriorityColumn {
                    hospital_id: a.hospital.hospital_id.clone(),
                    column: column.to_string(),
                    value: text.to_string(),
                })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// Orders eligible applicants `i` and `j` by the criteria (`columns[k]`: the values of the
/// k-th criterion when it is a column the file has); ties by the earlier application, then
/// the id.
fn priority_order(
    (i, j): (usize, usize),
    applicants: &[Applicant<'_>],
    columns: &[Option<Vec<Decimal>>],
    rules: &PrepaymentRules,
) -> std::cmp::Ordering {
    let a = (applicants[i].hospital, applicants[i].application);
    let b = (applicants[j].hospital, applicants[j].application);
    let credit_rank = |h: &Hospital| {
        rules
            .eligible_credit
            .iter()
            .position(|r| r == &h.credit_rating)
            .unwrap_or(usize::MAX)
    };
    for (k, criterion) in rules.priority.iter().enumerate() {
        let criterion = match criterion {
            PriorityKey::Known(c) => c,
            // higher first; a column the file lacks orders nothing
            PriorityKey::Column(_) => match &columns[k] {
                Some(values) => {
                    let o = values[j].cmp(&values[i]);
                    if o != std::cmp::Ordering::Equal {
                        return o;
                    }
                    continue;
                }
                None => continue,
            },
        };
        let o = match criterion {
            // uploaders first
            PriorityCriterion::TraceabilityCodeUpload => {
                b.0.traceability_code_upload
                    .cmp(&a.0.traceability_code_upload)
            }
            PriorityCriterion::CreditRating => credit_rank(a.0).cmp(&credit_rank(b.0)),
            PriorityCriterion::AgreementYears => b.0.agreement_years.cmp(&a.0.agreement_years),
            PriorityCriterion::PerformanceScore => {
                b.0.performance_score.cmp(&a.0.performance_score)
            }
            PriorityCriterion::AppliedOn => a.1.applied_on.cmp(&b.1.applied_on),
        };
        if o != std::cmp::Ordering::Equal {
            return o;
        }
    }
    (a.1.applied_on, &a.0.hospital_id).cmp(&(b.1.applied_on, &b.0.hospital_id))
}

/// One applicant of a run: the hospital, its application, its monthly fund payments of the
/// previous year.
#[derive(Debug, Clone)]
pub struct Applicant<'a> {
    /// The hospital.
    pub hospital: &'a Hospital,
    /// Its application.
    pub application: &'a PrepaymentApplication,
    /// Its monthly fund payments of `year − 1` (all twelve months, a month without cases 0).
    pub previous_year_monthly: Vec<(YearMonth, Decimal)>,
}

/// Decides the applications of one run for `year` (payment-model §6, dip-and-payment §20):
/// 1. each applicant's eligibility (`eligible_credit`, `min_agreement_years`, and with
///    `require_traceability_upload` the traceability-code upload; a previous year with fund
///    payments to average);
/// 2. its amount: `months × average monthly fund payment of year − 1`, with the approved
///    uplift's months instead when the uplift is within `max_uplift_months` and the hospital
///    meets `uplift_min_performance` (else the uplift is refused, with its reason, and the
///    ordinary months apply); at most the amount requested;
/// 3. the cap: eligible applicants are served in the order of `prepayment.priority` (ties:
///    the earlier application, then the hospital id) until what the fund can spare is spent;
///    the applicant that meets the end of it gets what is left, the later ones are refused.
///
/// Each decision carries its reasons and its audit event. An applicant twice, or an
/// application of another hospital, is an error.
pub fn decide_applications(
    year: i32,
    applicants: &[Applicant<'_>],
    params: &Params,
    cap: Option<&PrepaymentCap>,
    actor: &Actor,
) -> Result<Audited<Vec<PrepaymentDecision>>, PrepaymentError> {
    let rules = &params.prepayment;
    let mut seen = std::collections::BTreeSet::new();
    let mut decisions = Vec::with_capacity(applicants.len());
    for a in applicants {
        let id = &a.hospital.hospital_id;
        if &a.application.hospital_id != id {
            return Err(PrepaymentError::ApplicationOfOtherHospital {
                hospital_id: id.clone(),
                application_hospital_id: a.application.hospital_id.clone(),
            });
        }
        if !seen.insert(id.clone()) {
            return Err(PrepaymentError::DuplicateApplicant {
                hospital_id: id.clone(),
            });
        }
        // the uplift: approved months, within the bound, for a hospital that qualifies
        let (months, uplift) = match &a.application.uplift {
            None => (rules.months, None),
            Some(u) => {
                let refusal = if u.months <= rules.months {
                    Some(format!(
                        "not above prepayment.months {} (no uplift)",
                        rules.months
                    ))
                } else if u.months > rules.max_uplift_months {
                    Some(format!(
                        "above prepayment.max_uplift_months {}",
                        rules.max_uplift_months
                    ))
                } else {
                    match rules.uplift_min_performance {
                        Some(min) if a.hospital.performance_score < min => Some(format!(
                            "performance score {} below prepayment.uplift_min_performance {min}",
                            a.hospital.performance_score
                        )),
                        _ => None,
                    }
                };
                let months = if refusal.is_none() {
                    u.months
                } else {
                    rules.months
                };
                (
                    months,
                    Some(UpliftDecision {
                        uplift: u.clone(),
                        refused: refusal,
                    }),
                )
            }
        };
        let computation = prepayment_amount(year - 1, &a.previous_year_monthly, months)?;
        let mut eligibility = eligibility(a.hospital, rules);
        if computation.previous_year_total <= Decimal::ZERO {
            eligibility.refusals.push(Refusal::NoPreviousYearPayments {
                previous_year: year - 1,
            });
        }
        let mut amount = computation.amount;
        let requested = a.application.requested_amount;
        if let Some(r) = requested {
            amount = amount.min(r);
        }
        decisions.push(PrepaymentDecision {
            year,
            hospital_id: id.clone(),
            hospital_name: a.hospital.name.clone(),
            eligibility,
            computation,
            amount,
            application: Some(ApplicationRecord {
                applied_on: a.application.applied_on,
                requested_amount: requested,
                uplift,
            }),
            priority: None,
            cap: None,
        });
    }
    // priority among the eligible, then the cap
    let mut order: Vec<usize> = (0..decisions.len())
        .filter(|&i| decisions[i].eligibility.is_eligible())
        .collect();
    let columns: Vec<Option<Vec<Decimal>>> = rules
        .priority
        .iter()
        .map(|c| match c {
            PriorityKey::Column(name) => column_values(name, applicants),
            PriorityKey::Known(_) => Ok(None),
        })
        .collect::<Result<_, _>>()?;
    order.sort_by(|&i, &j| priority_order((i, j), applicants, &columns, rules));
    let criteria: Vec<String> = rules
        .priority
        .iter()
        .zip(&columns)
        .map(|(c, values)| match (c, values) {
            (PriorityKey::Column(name), None) => {
                format!("column:{name} (not in the hospitals file: skipped)")
            }
            (c, _) => c.to_string(),
        })
        .collect();
    let eligible = order.len() as u32;
    let mut remaining = cap.map(PrepaymentCap::remaining);
    for (rank, &i) in order.iter().enumerate() {
        let d = &mut decisions[i];
        d.priority = Some(Priority {
            rank: rank as u32 + 1,
            of: eligible,
            criteria: criteria.clone(),
        });
        if let (Some(cap), Some(left)) = (cap, remaining.as_mut()) {
            let before_cap = d.amount;
            let granted = before_cap.min(*left);
            if granted < before_cap {
                d.cap = Some(CapShare {
                    cap: cap.amount,
                    remaining_before: *left,
                    before_cap,
                });
            }
            if granted <= Decimal::ZERO {
                d.eligibility.refusals.push(Refusal::CapExhausted {
                    cap: cap.amount,
                    basis: cap.basis.clone(),
                });
            }
            *left -= granted;
            d.amount = granted;
        }
    }
    for d in &mut decisions {
        if !d.eligibility.is_eligible() {
            d.amount = Decimal::ZERO;
        }
    }
    let events = decisions.iter().map(|d| decision_event(d, actor)).collect();
    Ok(Audited {
        value: decisions,
        events,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clearing::{clear_hospital, ClearingInput, FinalPricing};
    use crate::testutil::{hospital, params};
    use rust_decimal_macros::dec;

    fn twelve_months(year: i32, amount: Decimal) -> Vec<(YearMonth, Decimal)> {
        (1..=12)
            .map(|m| (YearMonth::new(year, m).unwrap(), amount))
            .collect()
    }

    #[test]
    fn an_a_or_b_hospital_of_two_years_or_more_is_eligible() {
        let p = params().prepayment;
        assert!(eligibility(&hospital("H001", "A", dec!(85.9), 8), &p).is_eligible());
        assert!(eligibility(&hospital("H002", "B", dec!(70), 2), &p).is_eligible());
    }

    #[test]
    fn a_refusal_lists_every_failing_condition() {
        let p = params().prepayment;
        let e = eligibility(&hospital("H003", "A", dec!(76.8), 1), &p);
        assert_eq!(e.refusals, [Refusal::AgreementYears { years: 1, min: 2 }]);
        let e = eligibility(&hospital("H004", "C", dec!(60), 1), &p);
        let reasons: Vec<String> = e.refusals.iter().map(ToString::to_string).collect();
        assert_eq!(
            reasons,
            [
                "credit rating C is not one of A, B",
                "1 years under agreement, 2 required"
            ]
        );
    }

    #[test]
    fn the_amount_is_months_times_the_previous_years_average_monthly_payment() {
        // dip-and-payment.md §20: 12,000,000 over 2024 → 1,000,000 a month → 1,000,000;
        // × 1.5 → 1,500,000.
        let history = twelve_months(2024, dec!(1000000));
        let a = prepayment_amount(2024, &history, dec!(1.0)).unwrap();
        assert_eq!(
            (a.previous_year_total, a.average_monthly, a.amount),
            (dec!(12000000), dec!(1000000), dec!(1000000))
        );
        assert_eq!(
            a.to_string(),
            "1.0 months × average monthly fund payment of 2024 (12000000.00 / 12 months = 1000000.00) = 1000000.00"
        );
        assert_eq!(
            prepayment_amount(2024, &history, dec!(1.5)).unwrap().amount,
            dec!(1500000)
        );
        // 1000.00 / 12 = 83.333… → 83.33; × 1.5 = 124.995 → 125.00.
        let mut small = twelve_months(2024, dec!(0));
        small[0].1 = dec!(1000);
        let a = prepayment_amount(2024, &small, dec!(1.5)).unwrap();
        assert_eq!((a.average_monthly, a.amount), (dec!(83.33), dec!(125.00)));
    }

    #[test]
    fn months_of_another_year_duplicates_and_negative_amounts_are_refused() {
        let m = |t: &str| t.parse::<YearMonth>().unwrap();
        assert_eq!(
            prepayment_amount(2024, &[(m("2025-01"), dec!(1))], dec!(1)).unwrap_err(),
            PrepaymentError::MonthOfOtherYear {
                month: m("2025-01"),
                previous_year: 2024
            }
        );
        assert_eq!(
            prepayment_amount(
                2024,
                &[(m("2024-01"), dec!(1)), (m("2024-01"), dec!(2))],
                dec!(1)
            )
            .unwrap_err(),
            PrepaymentError::DuplicateMonth {
                month: m("2024-01")
            }
        );
        assert!(matches!(
            prepayment_amount(2024, &[(m("2024-01"), dec!(-1))], dec!(1)),
            Err(PrepaymentError::NegativeAmount { .. })
        ));
    }

    #[test]
    fn decisions_grant_or_refuse_with_their_audit_events_and_make_the_public_list() {
        let p = params();
        let bureau = Actor::bureau("b-1");
        let granted = decide_prepayment(
            2025,
            &hospital("H002", "A", dec!(75.7), 7),
            &twelve_months(2024, dec!(600000)),
            &p,
            &bureau,
        )
        .unwrap();
        assert!(granted.value.is_granted());
        assert_eq!(granted.value.amount, dec!(600000));
        assert_eq!(granted.events[0].action, Action::PrepaymentGranted);
        assert_eq!(
            granted.events[0].after.as_deref(),
            Some("eligible=true amount=600000.00")
        );

        let refused = decide_prepayment(
            2025,
            &hospital("H001", "C", dec!(60), 8),
            &twelve_months(2024, dec!(900000)),
            &p,
            &bureau,
        )
        .unwrap();
        assert_eq!(refused.value.amount, dec!(0));
        assert_eq!(refused.events[0].action, Action::PrepaymentRefused);

        let new =
            decide_prepayment(2025, &hospital("H003", "A", dec!(80), 3), &[], &p, &bureau).unwrap();
        assert_eq!(
            new.value.eligibility.refusals,
            [Refusal::NoPreviousYearPayments {
                previous_year: 2024
            }]
        );

        let list = public_list(&[granted.value, refused.value, new.value], None);
        let rows: Vec<(&str, bool, Decimal, &str)> = list
            .iter()
            .map(|r| {
                (
                    r.hospital_id.as_str(),
                    r.eligible,
                    r.amount,
                    r.reason.as_str(),
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                ("H001", false, dec!(0), "credit rating C is not one of A, B"),
                (
                    "H002",
                    true,
                    dec!(600000),
                    "credit A, 7 years under agreement, uploads traceability codes; 1.0 months × average monthly fund payment of 2024 (7200000.00 / 12 months = 600000.00) = 600000.00"
                ),
                ("H003", false, dec!(0), "no fund payment in 2024 to average"),
            ]
        );
    }

    #[test]
    fn a_granted_prepayment_is_recovered_at_clearing() {
        let p = params();
        let h = hospital("H002", "A", dec!(100), 7);
        let decision = decide_prepayment(
            2025,
            &h,
            &twelve_months(2024, dec!(50000)),
            &p,
            &Actor::bureau("b-1"),
        )
        .unwrap()
        .value;
        assert_eq!(decision.outstanding(dec!(20000)), dec!(30000));
        assert_eq!(decision.outstanding(dec!(80000)), dec!(0));
        let year = ClearingInput {
            hospital: h,
            cases: vec![],
            monthly: vec![],
            prepayment_outstanding: decision.outstanding(Decimal::ZERO),
        };
        let s = clear_hospital(2025, &year, &p, FinalPricing::AsGiven).unwrap();
        assert_eq!(s.final_amount, dec!(-50000));
    }
}

#[cfg(test)]
mod application_tests {
    use super::*;
    use crate::testutil::{hospital, params};
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn months(amount: Decimal) -> Vec<(YearMonth, Decimal)> {
        (1..=12)
            .map(|m| (YearMonth::new(2024, m).unwrap(), amount))
            .collect()
    }

    fn application(id: &str, day: &str) -> PrepaymentApplication {
        PrepaymentApplication {
            hospital_id: id.to_string(),
            applied_on: day.parse().unwrap(),
            requested_amount: None,
            uplift: None,
        }
    }

    fn uplift(months: Decimal) -> Uplift {
        Uplift {
            months,
            approved_by: "示例统筹区医保局 局务会".to_string(),
            approved_on: "2025-01-20".parse().unwrap(),
            reference: "示医保〔2025〕7号".to_string(),
        }
    }

    /// Decides `apps` (hospital, application, monthly payment) for 2025.
    fn decide(
        apps: &[(Hospital, PrepaymentApplication, Decimal)],
        p: &Params,
        cap: Option<&PrepaymentCap>,
    ) -> Vec<PrepaymentDecision> {
        let applicants: Vec<Applicant<'_>> = apps
            .iter()
            .map(|(h, a, m)| Applicant {
                hospital: h,
                application: a,
                previous_year_monthly: months(*m),
            })
            .collect();
        let run = decide_applications(2025, &applicants, p, cap, &Actor::bureau("b-1")).unwrap();
        assert_eq!(
            run.events.len(),
            run.value.len(),
            "one audit event a decision"
        );
        run.value
    }

    fn cap(amount: Decimal) -> PrepaymentCap {
        PrepaymentCap {
            amount,
            basis: format!("prepayment.cap_amount {}", Fen(amount)),
            granted_before: Decimal::ZERO,
        }
    }

    #[test]
    fn an_applicant_gets_months_times_its_average_and_the_decision_keeps_the_application() {
        // payment-model §6: months × average monthly fund payment of the previous year.
        let h = hospital("H001", "A", dec!(85.9), 8);
        let d = decide(
            &[(h, application("H001", "2025-01-05"), dec!(1000000))],
            &params(),
            None,
        );
        assert!(d[0].is_granted());
        assert_eq!(d[0].amount, dec!(1000000));
        let a = d[0].application.as_ref().unwrap();
        assert_eq!(a.applied_on.to_string(), "2025-01-05");
        assert_eq!(d[0].priority.as_ref().map(|p| (p.rank, p.of)), Some((1, 1)));
        assert!(
            d[0].reason().starts_with(
                "credit A, 8 years under agreement, uploads traceability codes; 1.0 months × average monthly fund payment of 2024"
            ),
            "{}",
            d[0].reason()
        );
    }

    #[test]
    fn the_traceability_upload_is_a_condition_only_when_the_parameters_say_so() {
        let mut h = hospital("H001", "A", dec!(85.9), 8);
        h.traceability_code_upload = false;
        let apps = [(h, application("H001", "2025-01-05"), dec!(1000))];
        let mut p = params();
        assert!(
            decide(&apps, &p, None)[0].is_granted(),
            "a preference by default"
        );
        p.prepayment.require_traceability_upload = true;
        let d = decide(&apps, &p, None);
        assert_eq!(
            d[0].eligibility.refusals,
            [Refusal::TraceabilityNotUploaded]
        );
        assert_eq!(d[0].amount, dec!(0));
        assert_eq!(
            d[0].reason(),
            "no traceability-code upload (prepayment.require_traceability_upload)"
        );
    }

    #[test]
    fn credit_and_agreement_years_refuse_with_every_reason() {
        let apps = [(
            hospital("H007", "C", dec!(85.6), 1),
            application("H007", "2025-01-05"),
            dec!(1000),
        )];
        let d = decide(&apps, &params(), None);
        assert_eq!(
            d[0].reason(),
            "credit rating C is not one of A, B; 1 years under agreement, 2 required"
        );
        assert_eq!(d[0].priority, None, "a refused applicant takes no rank");
    }

    #[test]
    fn an_approved_uplift_raises_the_months_within_the_bound_and_is_recorded() {
        // dip-and-payment §20: 1,000,000 a month × 1.5 after approval = 1,500,000.
        let mut a = application("H001", "2025-01-05");
        a.uplift = Some(uplift(dec!(1.5)));
        let apps = [(hospital("H001", "A", dec!(92), 8), a, dec!(1000000))];
        let d = decide(&apps, &params(), None);
        assert_eq!(d[0].amount, dec!(1500000));
        assert!(
            d[0].reason().contains(
                "uplift (经批准提高): 1.5 months approved by 示例统筹区医保局 局务会 on 2025-01-20 (示医保〔2025〕7号)"
            ),
            "{}",
            d[0].reason()
        );
        let list = public_list(&d, None);
        assert_eq!(
            list[0].uplift.as_ref().unwrap().reference,
            "示医保〔2025〕7号"
        );

        // above max_uplift_months (2.0): refused, the ordinary month applies
        let mut a = application("H001", "2025-01-05");
        a.uplift = Some(uplift(dec!(2.5)));
        let apps = [(hospital("H001", "A", dec!(92), 8), a, dec!(1000000))];
        let d = decide(&apps, &params(), None);
        assert_eq!(d[0].amount, dec!(1000000));
        assert!(d[0]
            .reason()
            .contains("refused: above prepayment.max_uplift_months 2.0"));
        assert_eq!(public_list(&d, None)[0].uplift, None);

        // a score below uplift_min_performance: refused
        let mut p = params();
        p.prepayment.uplift_min_performance = Some(dec!(90));
        let mut a = application("H001", "2025-01-05");
        a.uplift = Some(uplift(dec!(1.5)));
        let apps = [(hospital("H001", "A", dec!(85.9), 8), a, dec!(1000000))];
        let d = decide(&apps, &p, None);
        assert_eq!(d[0].amount, dec!(1000000));
        assert!(d[0].reason().contains(
            "refused: performance score 85.9 below prepayment.uplift_min_performance 90"
        ));
    }

    #[test]
    fn a_request_below_the_rule_is_granted_as_requested() {
        let mut a = application("H001", "2025-01-05");
        a.requested_amount = Some(dec!(400000));
        let d = decide(
            &[(hospital("H001", "A", dec!(90), 8), a, dec!(1000000))],
            &params(),
            None,
        );
        assert_eq!(d[0].amount, dec!(400000));
        assert!(d[0].reason().contains("requested 400000.00"));
    }

    #[test]
    fn the_cap_serves_applicants_in_the_order_of_the_priority() {
        // default priority: traceability upload, credit (A before B), agreement years
        let mut no_upload = hospital("H001", "A", dec!(90), 15);
        no_upload.traceability_code_upload = false;
        let apps = [
            (no_upload, application("H001", "2025-01-02"), dec!(100000)),
            (
                hospital("H002", "B", dec!(90), 15),
                application("H002", "2025-01-03"),
                dec!(100000),
            ),
            (
                hospital("H003", "A", dec!(90), 3),
                application("H003", "2025-01-04"),
                dec!(100000),
            ),
            (
                hospital("H004", "A", dec!(90), 9),
                application("H004", "2025-01-05"),
                dec!(100000),
            ),
        ];
        // 250,000 for four applications of 100,000: H004, H003 whole, H002 half, H001 none
        let c = cap(dec!(250000));
        let d = decide(&apps, &params(), Some(&c));
        let got: Vec<(&str, Option<u32>, Decimal, bool)> = d
            .iter()
            .map(|d| {
                (
                    d.hospital_id.as_str(),
                    d.priority.as_ref().map(|p| p.rank),
                    d.amount,
                    d.is_granted(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("H001", Some(4), dec!(0), false),
                ("H002", Some(3), dec!(50000), true),
                ("H003", Some(2), dec!(100000), true),
                ("H004", Some(1), dec!(100000), true),
            ]
        );
        assert!(d[1].reason().ends_with(
            "priority 3 of 4 (traceability_code_upload, credit_rating, agreement_years); cap 250000.00: 50000.00 left of it, granted 50000.00 of 100000.00"
        ), "{}", d[1].reason());
        assert_eq!(
            d[0].reason(),
            "what the fund can spare (250000.00 = prepayment.cap_amount 250000.00) went to applicants of higher priority"
        );
        // other criteria: the earlier application first
        let mut p = params();
        p.prepayment.priority = vec![PriorityKey::Known(PriorityCriterion::AppliedOn)];
        let d = decide(&apps, &p, Some(&cap(dec!(100000))));
        assert_eq!(d[0].amount, dec!(100000), "H001 applied first");
        // what was granted before this run counts against the cap
        let mut before = cap(dec!(250000));
        before.granted_before = dec!(200000);
        let d = decide(&apps, &params(), Some(&before));
        assert_eq!(d[3].amount, dec!(50000));
        assert_eq!(d.iter().filter(|d| d.is_granted()).count(), 1);
    }

    #[test]
    fn a_preference_in_another_column_orders_when_the_file_has_it_and_is_skipped_otherwise() {
        // the notices' anti-fraud preference has no standard column: column:NAME names one
        let with = |id: &str, score: Option<&str>| {
            let mut h = hospital(id, "A", dec!(90), 8);
            if let Some(s) = score {
                h.extra.insert("anti_fraud_score".into(), s.into());
            }
            h
        };
        let mut p = params();
        p.prepayment.priority = vec![PriorityKey::Column("anti_fraud_score".into())];
        let apps = [
            (
                with("H001", Some("70")),
                application("H001", "2025-01-02"),
                dec!(100000),
            ),
            (
                with("H002", Some("95.5")),
                application("H002", "2025-01-03"),
                dec!(100000),
            ),
        ];
        let d = decide(&apps, &p, Some(&cap(dec!(100000))));
        assert_eq!(
            (d[0].amount, d[1].amount),
            (dec!(0), dec!(100000)),
            "95.5 first"
        );
        assert_eq!(
            d[1].priority.as_ref().unwrap().criteria,
            ["column:anti_fraud_score"]
        );
        // a file without the column: skipped, said so; the earlier application first
        let apps = [
            (
                with("H001", None),
                application("H001", "2025-01-02"),
                dec!(100000),
            ),
            (
                with("H002", None),
                application("H002", "2025-01-03"),
                dec!(100000),
            ),
        ];
        let d = decide(&apps, &p, Some(&cap(dec!(100000))));
        assert_eq!((d[0].amount, d[1].amount), (dec!(100000), dec!(0)));
        assert!(d[0].reason().contains(
            "priority 1 of 2 (column:anti_fraud_score (not in the hospitals file: skipped))"
        ));
        // a value that is not a number is named
        let apps = [(
            with("H001", Some("high")),
            application("H001", "2025-01-02"),
            dec!(1),
        )];
        let h = &apps[0];
        let applicants = [Applicant {
            hospital: &h.0,
            application: &h.1,
            previous_year_monthly: months(h.2),
        }];
        assert_eq!(
            decide_applications(2025, &applicants, &p, None, &Actor::bureau("b"))
                .unwrap_err()
                .to_string(),
            "prepayment.priority column:anti_fraud_score: hospital H001 has \"high\", expected a number"
        );
    }

    #[test]
    fn the_cap_is_the_smaller_of_the_amount_and_the_share_of_the_balance() {
        let mut p = params().prepayment;
        assert_eq!(PrepaymentCap::of(&p, None, dec!(0)).unwrap(), None);
        p.cap_share_of_balance = Some(dec!(0.01));
        assert_eq!(
            PrepaymentCap::of(&p, None, dec!(0)).unwrap_err(),
            PrepaymentError::BalanceNeeded
        );
        // fund-2025.csv: opening balance 1,860,000,000.00 × 1% = 18,600,000.00
        let c = PrepaymentCap::of(&p, Some(dec!(1860000000.00)), dec!(0))
            .unwrap()
            .unwrap();
        assert_eq!(c.amount, dec!(18600000.00));
        assert_eq!(
            c.basis,
            "prepayment.cap_share_of_balance 0.01 × the fund's opening balance 1860000000.00 = 18600000.00"
        );
        p.cap_amount = Some(dec!(15000000));
        let c = PrepaymentCap::of(&p, Some(dec!(1860000000.00)), dec!(1000))
            .unwrap()
            .unwrap();
        assert_eq!((c.amount, c.remaining()), (dec!(15000000), dec!(14999000)));
        assert!(c
            .basis
            .starts_with("prepayment.cap_amount 15000000.00 (the smaller of it and"));
    }

    #[test]
    fn an_applicant_twice_or_a_foreign_application_is_an_error() {
        let h = hospital("H001", "A", dec!(90), 8);
        let a = application("H001", "2025-01-05");
        let twice = [
            Applicant {
                hospital: &h,
                application: &a,
                previous_year_monthly: months(dec!(1)),
            },
            Applicant {
                hospital: &h,
                application: &a,
                previous_year_monthly: months(dec!(1)),
            },
        ];
        let p = params();
        let actor = Actor::bureau("b");
        assert_eq!(
            decide_applications(2025, &twice, &p, None, &actor).unwrap_err(),
            PrepaymentError::DuplicateApplicant {
                hospital_id: "H001".into()
            }
        );
        let other = application("H002", "2025-01-05");
        let foreign = [Applicant {
            hospital: &h,
            application: &other,
            previous_year_monthly: months(dec!(1)),
        }];
        assert!(matches!(
            decide_applications(2025, &foreign, &p, None, &actor),
            Err(PrepaymentError::ApplicationOfOtherHospital { .. })
        ));
    }

    #[test]
    fn the_public_list_shows_what_the_clearing_recovered() {
        let d = decide(
            &[(
                hospital("H001", "A", dec!(90), 8),
                application("H001", "2025-01-05"),
                dec!(1000),
            )],
            &params(),
            None,
        );
        let before = public_list(&d, None);
        assert_eq!((before[0].recovered, before[0].outstanding()), (None, None));
        let recovered = std::collections::BTreeMap::from([("H001".to_string(), dec!(1000))]);
        let after = public_list(&d, Some(&recovered));
        assert_eq!(after[0].recovered, Some(dec!(1000)));
        assert_eq!(after[0].outstanding(), Some(dec!(0)));
    }

    proptest! {
        #[test]
        fn what_is_granted_never_exceeds_the_cap_nor_any_amount(
            amounts in prop::collection::vec(0i64..=5_000_000, 1..12),
            cap_cents in 0i64..=2_000_000_000,
            before_cents in 0i64..=1_000_000_000,
            uploads in prop::collection::vec(any::<bool>(), 12),
        ) {
            let hospitals: Vec<Hospital> = amounts
                .iter()
                .enumerate()
                .map(|(i, _)| {
                    let mut h = hospital(&format!("H{i:03}"), if i % 3 == 0 { "B" } else { "A" }, dec!(80), (i % 5) as u32);
                    h.traceability_code_upload = uploads[i];
                    h
                })
                .collect();
            let apps: Vec<PrepaymentApplication> = hospitals
                .iter()
                .map(|h| application(&h.hospital_id, "2025-01-05"))
                .collect();
            let applicants: Vec<Applicant<'_>> = hospitals
                .iter()
                .zip(&apps)
                .zip(&amounts)
                .map(|((h, a), m)| Applicant {
                    hospital: h,
                    application: a,
                    previous_year_monthly: months(Decimal::new(*m, 2)),
                })
                .collect();
            let c = PrepaymentCap {
                amount: Decimal::new(cap_cents, 2),
                basis: "test".into(),
                granted_before: Decimal::new(before_cents, 2),
            };
            let d = decide_applications(2025, &applicants, &params(), Some(&c), &Actor::bureau("b")).unwrap().value;
            let granted: Decimal = d.iter().map(|d| d.amount).sum();
            prop_assert!(granted <= c.remaining());
            for x in &d {
                prop_assert!(x.amount >= Decimal::ZERO);
                prop_assert!(x.amount <= x.computation.amount);
                prop_assert_eq!(x.is_granted(), x.amount > Decimal::ZERO);
                prop_assert_eq!(x.amount, round_fen(x.amount));
            }
            // the cap is spent unless every eligible applicant got its whole amount
            let whole = d.iter().filter(|x| x.priority.is_some()).all(|x| x.amount == x.computation.amount);
            prop_assert!(whole || granted == c.remaining());
        }
    }
}
