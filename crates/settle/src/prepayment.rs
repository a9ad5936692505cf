//! 预付金 — prepayment: eligibility, amount, recovery at clearing, and the yearly public list.
//!
//! `payment-model.md` §6: a hospital that applies and meets `prepayment.eligible_credit` and
//! `prepayment.min_agreement_years` receives `months × its average monthly fund payment of
//! the previous year`; the prepayment is recovered at the annual clearing
//! ([`crate::clearing::ClearingInput::prepayment_outstanding`]); the amounts are published
//! once a year ([`public_list`]).
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
use drgdip_pay::params::Prepayment;
use drgdip_pay::{Hospital, Params};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::audit::{Action, Actor, AuditEvent, Audited};
use crate::calendar::YearMonth;
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
    /// Every reason to refuse; empty when eligible.
    pub refusals: Vec<Refusal>,
}

impl Eligibility {
    /// Whether no reason to refuse was found.
    pub fn is_eligible(&self) -> bool {
        self.refusals.is_empty()
    }
}

/// Checks the credit rating (exact match with one of `eligible_credit`) and the years under
/// agreement (≥ `min_agreement_years`); every failing condition is listed.
pub fn eligibility(hospital: &Hospital, params: &Prepayment) -> Eligibility {
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
    Eligibility {
        hospital_id: hospital.hospital_id.clone(),
        credit_rating: hospital.credit_rating.clone(),
        agreement_years: hospital.agreement_years,
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
    /// The amount granted: `computation.amount` when eligible, else 0.
    pub amount: Decimal,
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

    /// The reason written on the public list.
    pub fn reason(&self) -> String {
        if self.is_granted() {
            format!(
                "credit {}, {} years under agreement; {}",
                self.eligibility.credit_rating, self.eligibility.agreement_years, self.computation
            )
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
    };
    let action = if decision.is_granted() {
        Action::PrepaymentGranted
    } else {
        Action::PrepaymentRefused
    };
    let event = AuditEvent::new(
        actor,
        action,
        format!("{}/{year}", decision.hospital_id),
        decision.reason(),
    )
    .after(format!(
        "eligible={} amount={}",
        decision.is_granted(),
        Fen(decision.amount)
    ));
    Ok(Audited {
        value: decision,
        events: vec![event],
    })
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
    /// Why: the arithmetic, or the reasons of the refusal.
    pub reason: String,
}

/// The public list of `decisions`, sorted by hospital id.
pub fn public_list(decisions: &[PrepaymentDecision]) -> Vec<PublicListRow> {
    let mut rows: Vec<PublicListRow> = decisions
        .iter()
        .map(|d| PublicListRow {
            year: d.year,
            hospital_id: d.hospital_id.clone(),
            hospital_name: d.hospital_name.clone(),
            eligible: d.is_granted(),
            amount: d.amount,
            reason: d.reason(),
        })
        .collect();
    rows.sort_by(|a, b| (a.year, &a.hospital_id).cmp(&(b.year, &b.hospital_id)));
    rows
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

        let list = public_list(&[granted.value, refused.value, new.value]);
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
                    "credit A, 7 years under agreement; 1.0 months × average monthly fund payment of 2024 (7200000.00 / 12 months = 600000.00) = 600000.00"
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
