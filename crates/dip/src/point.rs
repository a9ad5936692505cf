//! 点值 and DIP payment (`payment-model.md` §4).
//!
//! The point value is kept exact (no rounding): it is a rate, not an amount, and rounding it
//! would make Σ payments drift from the budget. It is shown with 6 decimals when rendered;
//! payments are rounded to the fen only when written out.

use std::fmt;

use rust_decimal::Decimal;
use serde::Serialize;
use thiserror::Error;

use crate::params::{DipParams, PointValueSource};
use crate::round::fmt_money;

/// How a point value was set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PointValueBasis {
    /// 年度结算点值 — the year's budget.
    Annual,
    /// 月度预结算点值 — a month's share of the budget (budget / 12).
    MonthlyProvisional,
    /// A fixed value from the parameters.
    Fixed,
}

/// A point value with the figures it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PointValueComputation {
    /// How it was set.
    pub basis: PointValueBasis,
    /// The annual inpatient fund budget (0 for a fixed value).
    pub annual_budget: Decimal,
    /// The budget of the period: the annual budget, or a twelfth of it.
    pub period_budget: Decimal,
    /// Σ own (patients' shares) of the period's DIP cases.
    pub own_total: Decimal,
    /// Σ case scores of the period.
    pub score_total: Decimal,
    /// CNY per point, exact.
    pub point_value: Decimal,
}

/// Why a point value cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PointValueError {
    /// No scores to share the budget over.
    #[error("Σ case scores = {score_total}: expected a total > 0 to divide the budget by")]
    NoScores {
        /// The total found.
        score_total: Decimal,
    },
    /// Budget + Σ own is negative.
    #[error("budget {budget} + Σ own {own_total} is negative: expected an amount ≥ 0")]
    NegativeAmount {
        /// The period's budget.
        budget: Decimal,
        /// Σ own.
        own_total: Decimal,
    },
}

fn compute(
    basis: PointValueBasis,
    annual_budget: Decimal,
    period_budget: Decimal,
    own_total: Decimal,
    score_total: Decimal,
) -> Result<PointValueComputation, PointValueError> {
    if score_total <= Decimal::ZERO {
        return Err(PointValueError::NoScores { score_total });
    }
    let amount = period_budget + own_total;
    if amount < Decimal::ZERO {
        return Err(PointValueError::NegativeAmount {
            budget: period_budget,
            own_total,
        });
    }
    Ok(PointValueComputation {
        basis,
        annual_budget,
        period_budget,
        own_total,
        score_total,
        point_value: amount / score_total,
    })
}

/// 结算点值 — the year's point value: `(budget + Σ own) / Σ case scores`.
pub fn point_value(
    budget: Decimal,
    own_total: Decimal,
    score_total: Decimal,
) -> Result<PointValueComputation, PointValueError> {
    compute(
        PointValueBasis::Annual,
        budget,
        budget,
        own_total,
        score_total,
    )
}

/// 月度预结算点值 — a month's provisional point value: `(budget / 12 + Σ own of the month) /
/// Σ case scores of the month`.
pub fn monthly_point_value(
    annual_budget: Decimal,
    month_own_total: Decimal,
    month_score_total: Decimal,
) -> Result<PointValueComputation, PointValueError> {
    compute(
        PointValueBasis::MonthlyProvisional,
        annual_budget,
        annual_budget / Decimal::from(12),
        month_own_total,
        month_score_total,
    )
}

/// The year's point value as the parameters say: from `[budget].inpatient_fund_budget`
/// (`point_value = "budget"`) or the fixed value.
pub fn year_point_value(
    params: &DipParams,
    own_total: Decimal,
    score_total: Decimal,
) -> Result<PointValueComputation, PointValueError> {
    match params.point_value {
        PointValueSource::Budget => {
            point_value(params.inpatient_fund_budget, own_total, score_total)
        }
        PointValueSource::Fixed(v) => Ok(PointValueComputation {
            basis: PointValueBasis::Fixed,
            annual_budget: Decimal::ZERO,
            period_budget: Decimal::ZERO,
            own_total,
            score_total,
            point_value: v,
        }),
    }
}

impl fmt::Display for PointValueComputation {
    /// One line saying how the value was computed.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pv = format!("{:.6}", self.point_value);
        match self.basis {
            PointValueBasis::Fixed => write!(f, "point value {pv} (fixed by the region)"),
            PointValueBasis::Annual => write!(
                f,
                "year's point value = (budget {} + Σ own {}) / Σ case scores {} = {pv}",
                fmt_money(self.period_budget),
                fmt_money(self.own_total),
                self.score_total,
            ),
            PointValueBasis::MonthlyProvisional => write!(
                f,
                "monthly provisional point value = (budget {} / 12 = {} + Σ own {}) / Σ case scores {} = {pv}",
                fmt_money(self.annual_budget),
                fmt_money(self.period_budget),
                fmt_money(self.own_total),
                self.score_total,
            ),
        }
    }
}

/// DIP payment of a case: `payment = case_score × point_value` and
/// `fund_due = max(0, payment − own)`. Both exact: round to the fen when writing them out.
pub fn dip_payment(case_score: Decimal, point_value: Decimal, own: Decimal) -> (Decimal, Decimal) {
    let payment = case_score * point_value;
    let fund_due = (payment - own).max(Decimal::ZERO);
    (payment, fund_due)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::library::tests::params;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    #[test]
    fn the_year_point_value_shares_budget_and_own_over_the_scores() {
        let pv = point_value(dec!(1000), dec!(200), dec!(60)).unwrap();
        assert_eq!(pv.point_value, dec!(20));
        assert_eq!(
            pv.to_string(),
            "year's point value = (budget 1000.00 + Σ own 200.00) / Σ case scores 60 = 20.000000"
        );
    }

    #[test]
    fn the_monthly_value_uses_a_twelfth_of_the_budget() {
        let pv = monthly_point_value(dec!(12000), dec!(200), dec!(60)).unwrap();
        assert_eq!(pv.period_budget, dec!(1000));
        assert_eq!(pv.point_value, dec!(20));
        assert!(pv
            .to_string()
            .starts_with("monthly provisional point value = (budget 12000.00 / 12 = 1000.00"));
    }

    #[test]
    fn the_point_value_is_not_rounded() {
        let pv = point_value(dec!(100), Decimal::ZERO, dec!(3)).unwrap();
        assert!(pv.point_value.scale() > 20, "{}", pv.point_value);
        assert_eq!(crate::round::round_fen(pv.point_value * dec!(3)), dec!(100));
    }

    #[test]
    fn no_scores_is_an_error() {
        assert_eq!(
            point_value(dec!(1), dec!(1), Decimal::ZERO),
            Err(PointValueError::NoScores {
                score_total: Decimal::ZERO
            })
        );
        assert!(point_value(dec!(1), dec!(-2), dec!(1)).is_err());
    }

    #[test]
    fn the_parameters_choose_budget_or_fixed() {
        let p = params(15);
        let pv = year_point_value(&p, dec!(20000000), dec!(5000000)).unwrap();
        assert_eq!(pv.point_value, dec!(100));
        let fixed = DipParams {
            point_value: PointValueSource::Fixed(dec!(12.34)),
            ..p
        };
        let pv = year_point_value(&fixed, dec!(1), dec!(1)).unwrap();
        assert_eq!(
            (pv.basis, pv.point_value),
            (PointValueBasis::Fixed, dec!(12.34))
        );
        assert_eq!(
            pv.to_string(),
            "point value 12.340000 (fixed by the region)"
        );
    }

    #[test]
    fn the_fund_owes_the_payment_less_the_patients_share_but_never_less_than_zero() {
        assert_eq!(
            dip_payment(dec!(140), dec!(70.9939), dec!(2000)),
            (dec!(9939.146), dec!(7939.146))
        );
        assert_eq!(
            dip_payment(dec!(10), dec!(10), dec!(150)),
            (dec!(100), Decimal::ZERO)
        );
    }

    fn decimal(max_units: i64, scale: u32) -> impl Strategy<Value = Decimal> {
        (0..=max_units).prop_map(move |n| Decimal::new(n, scale))
    }

    fn signed_decimal(max_units: i64, scale: u32) -> impl Strategy<Value = Decimal> {
        (-max_units..=max_units).prop_map(move |n| Decimal::new(n, scale))
    }

    proptest! {
        #[test]
        fn payments_and_fund_due_are_never_negative(
            score in decimal(10_000_000_000, 4),
            pv in decimal(100_000_000, 4),
            own in signed_decimal(10_000_000_000, 2),
        ) {
            let (payment, fund_due) = dip_payment(score, pv, own);
            prop_assert!(payment >= Decimal::ZERO);
            prop_assert!(fund_due >= Decimal::ZERO);
            prop_assert_eq!(fund_due, (payment - own).max(Decimal::ZERO));
            prop_assert!(fund_due >= payment - own);
        }
    }
}
