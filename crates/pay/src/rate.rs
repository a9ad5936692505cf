//! The DRG rate derived from the budget (由预算测算费率, `payment-model.md` §8):
//! `[drg].base_rate = "budget"`.
//!
//! ```text
//! total-cost budget = DRG fund budget × Σ total_cost / Σ fund_paid     (history)
//! base_rate         = total-cost budget / Σ expected weights
//! expected weight   = RW_g × level_coefficient[h.level]                (one per history case)
//! ```
//!
//! Choices (documented in `docs/budget.md`):
//! - **Total-cost basis.** The DRG budget of `[budget.inpatient].drg` is a fund budget
//!   (统筹基金支出预算), while a standard is on the total-cost basis (what the whole stay is
//!   worth, fund and patient: `dip-and-payment.md` §0). The bridge is the rate method's of
//!   `dip-and-payment.md` §6: `total_cost_budget = DRG_fund_budget / reimbursement_ratio`, the
//!   ratio being the history's fund share `Σ fund_paid / Σ total_cost` over the same cases
//!   whose weights are counted. It is a ratio, so it does not depend on how many cases the
//!   history holds (adding the history's `Σ own` instead would).
//! - **Expected weights.** Each counted history case contributes its DRG's weight × its
//!   hospital's level coefficient, because that is what the rate multiplies
//!   (`standard = RW × base_rate × coefficient`, §1): with the coefficient, Σ over the history
//!   of the standards at the derived rate is the total-cost budget. Which cases count is the
//!   caller's (the engine: grouped cases with a weight and a level, cross-province cases
//!   paid per item left out).
//! - **Rounding.** Σ expected weights is exact (4-decimal weights × coefficients); the
//!   total-cost budget is rounded half-up to the fen, then the rate, half-up to the fen. So
//!   `|Σ expected weights × base_rate − total-cost budget| ≤ Σ expected weights × 0.005`.
//! - Checked arithmetic throughout: an overflow is an error, never a wrong figure.

use std::fmt;

use rust_decimal::Decimal;
use thiserror::Error;

use crate::money::{round_fen, Fen};

/// One history case as the derivation counts it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpectedCase {
    /// Its DRG's weight (4 decimals).
    pub weight: Decimal,
    /// Its hospital's level coefficient.
    pub coefficient: Decimal,
    /// 按项目 total cost.
    pub total_cost: Decimal,
    /// What the fund paid per item.
    pub fund_paid: Decimal,
}

/// A rate derived from the budget, with every figure it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateDerivation {
    /// `budget.version` of the parameter file (`None`: a file without the versioned plan,
    /// whose DRG budget is `inpatient_fund_budget`).
    pub budget_version: Option<u32>,
    /// The year of the budget (`region.year`).
    pub year: u16,
    /// The DRG fund budget, CNY.
    pub fund_budget: Decimal,
    /// Σ total_cost of the counted history cases.
    pub history_total_cost: Decimal,
    /// Σ fund_paid of the counted history cases.
    pub history_fund_paid: Decimal,
    /// The budget on the total-cost basis (to the fen).
    pub total_cost_budget: Decimal,
    /// Σ weight × level coefficient over the counted cases (exact).
    pub expected_weights: Decimal,
    /// The counted cases.
    pub cases: u64,
    /// The rate, CNY per unit of weight (to the fen).
    pub rate: Decimal,
}

impl RateDerivation {
    /// The history's fund share `Σ fund_paid / Σ total_cost` (the reimbursement ratio).
    pub fn fund_share(&self) -> Decimal {
        self.history_fund_paid
            .checked_div(self.history_total_cost)
            .unwrap_or_default()
    }

    /// `budget 2025 version 1` (or `budget 2025 (no version: inpatient_fund_budget)`).
    pub fn budget_name(&self) -> String {
        match self.budget_version {
            Some(v) => format!("budget {} version {v}", self.year),
            None => format!(
                "budget {} (inpatient_fund_budget, no versioned plan)",
                self.year
            ),
        }
    }
}

impl fmt::Display for RateDerivation {
    /// `base rate 8123.45 derived from budget 2025 version 1: budget / Σ expected weights
    /// (n cases): …`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "base rate {} derived from {}: budget / Σ expected weights ({} cases): total-cost budget {} (DRG fund budget {} / the history's fund share {:.4}) / Σ expected weights {}",
            Fen(self.rate),
            self.budget_name(),
            self.cases,
            Fen(self.total_cost_budget),
            Fen(self.fund_budget),
            self.fund_share(),
            self.expected_weights.normalize()
        )
    }
}

/// Why no rate can be derived.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RateError {
    /// The DRG budget is zero or negative.
    #[error("drg.base_rate = \"budget\": the DRG budget is {0}; a rate needs a budget > 0")]
    BudgetNotPositive(Decimal),
    /// No history case counts (or their weights add up to zero).
    #[error("drg.base_rate = \"budget\": no history case with a weight counts (Σ expected weights is 0 over {0} case(s)); the rate cannot be derived")]
    NoExpectedWeight(u64),
    /// The counted cases' fund paid (or total cost) add up to zero.
    #[error("drg.base_rate = \"budget\": the history's Σ fund_paid is {fund_paid} and Σ total_cost {total_cost}: no fund share to turn the fund budget into a total-cost budget")]
    NoFundShare {
        /// Σ fund_paid.
        fund_paid: Decimal,
        /// Σ total_cost.
        total_cost: Decimal,
    },
    /// A sum or product left the range of a decimal.
    #[error("drg.base_rate = \"budget\": the derivation overflowed ({0})")]
    Overflow(&'static str),
}

/// Derives the rate (see the module's documentation) from the DRG fund budget and the
/// counted history cases.
pub fn derive_base_rate(
    fund_budget: Decimal,
    budget_version: Option<u32>,
    year: u16,
    cases: impl IntoIterator<Item = ExpectedCase>,
) -> Result<RateDerivation, RateError> {
    if fund_budget <= Decimal::ZERO {
        return Err(RateError::BudgetNotPositive(fund_budget));
    }
    let (mut weights, mut total, mut fund, mut n) =
        (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO, 0u64);
    for c in cases {
        let w = c
            .weight
            .checked_mul(c.coefficient)
            .ok_or(RateError::Overflow("weight × coefficient"))?;
        weights = weights
            .checked_add(w)
            .ok_or(RateError::Overflow("Σ expected weights"))?;
        total = total
            .checked_add(c.total_cost)
            .ok_or(RateError::Overflow("Σ total_cost"))?;
        fund = fund
            .checked_add(c.fund_paid)
            .ok_or(RateError::Overflow("Σ fund_paid"))?;
        n += 1;
    }
    if weights <= Decimal::ZERO {
        return Err(RateError::NoExpectedWeight(n));
    }
    if fund <= Decimal::ZERO || total <= Decimal::ZERO {
        return Err(RateError::NoFundShare {
            fund_paid: fund,
            total_cost: total,
        });
    }
    // multiply first, divide once: the share is never rounded on its own
    let total_cost_budget = fund_budget
        .checked_mul(total)
        .and_then(|x| x.checked_div(fund))
        .map(round_fen)
        .ok_or(RateError::Overflow("the total-cost budget"))?;
    let rate = total_cost_budget
        .checked_div(weights)
        .map(round_fen)
        .ok_or(RateError::Overflow("the rate"))?;
    Ok(RateDerivation {
        budget_version,
        year,
        fund_budget,
        history_total_cost: total,
        history_fund_paid: fund,
        total_cost_budget,
        expected_weights: weights,
        cases: n,
        rate,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn case(weight: Decimal, coefficient: Decimal, cost: Decimal, fund: Decimal) -> ExpectedCase {
        ExpectedCase {
            weight,
            coefficient,
            total_cost: cost,
            fund_paid: fund,
        }
    }

    #[test]
    fn the_worked_example_of_the_rate_method() {
        // dip-and-payment.md §4–§6: fund budget 8,000,000, fund share 0.70, predicted weights
        // 630 A (0.5882), 315 B (1.1765), 105 C (2.9412) → rate 10,884.46.
        let mut cases = Vec::new();
        for (n, w) in [
            (630, dec!(0.5882)),
            (315, dec!(1.1765)),
            (105, dec!(2.9412)),
        ] {
            for _ in 0..n {
                cases.push(case(w, Decimal::ONE, dec!(1000), dec!(700)));
            }
        }
        let d = derive_base_rate(dec!(8000000), Some(1), 2025, cases).unwrap();
        assert_eq!(d.total_cost_budget, dec!(11428571.43));
        assert_eq!(d.expected_weights, dec!(1049.9895));
        assert_eq!(d.rate, dec!(10884.46));
        assert_eq!(d.cases, 1050);
        assert_eq!(d.fund_share(), dec!(0.7));
        let text = d.to_string();
        assert!(
            text.starts_with("base rate 10884.46 derived from budget 2025 version 1: budget / Σ expected weights (1050 cases)"),
            "{text}"
        );
    }

    #[test]
    fn the_level_coefficient_weighs_each_case_and_the_standards_add_up_to_the_budget() {
        let cases = [
            case(dec!(1.2000), dec!(1.00), dec!(12000), dec!(9000)),
            case(dec!(0.8000), dec!(0.90), dec!(7000.50), dec!(4000.25)),
            case(dec!(2.5000), dec!(0.80), dec!(31000), dec!(20000)),
        ];
        let d = derive_base_rate(dec!(480000000), None, 2025, cases).unwrap();
        assert_eq!(d.expected_weights, dec!(1.2) + dec!(0.72) + dec!(2.0));
        // fund share 33000.25 / 50000.50: budget × 50000.50 / 33000.25
        assert_eq!(
            d.total_cost_budget,
            round_fen(dec!(480000000) * dec!(50000.50) / dec!(33000.25))
        );
        assert_eq!(d.rate, round_fen(d.total_cost_budget / d.expected_weights));
        // Σ standards at the derived rate = the total-cost budget within the rate's rounding
        let standards: Decimal = cases
            .iter()
            .map(|c| c.weight * c.coefficient * d.rate)
            .sum();
        assert!(
            (standards - d.total_cost_budget).abs() <= d.expected_weights * dec!(0.005),
            "{standards} vs {}",
            d.total_cost_budget
        );
        assert!(d.budget_name().contains("no versioned plan"));
    }

    #[test]
    fn nothing_to_derive_from_is_an_error_never_a_rate() {
        let one = [case(dec!(1), dec!(1), dec!(100), dec!(60))];
        assert_eq!(
            derive_base_rate(Decimal::ZERO, Some(1), 2025, one),
            Err(RateError::BudgetNotPositive(Decimal::ZERO))
        );
        assert_eq!(
            derive_base_rate(dec!(1000), Some(1), 2025, []),
            Err(RateError::NoExpectedWeight(0))
        );
        let no_fund = [case(dec!(1), dec!(1), dec!(100), Decimal::ZERO)];
        assert!(matches!(
            derive_base_rate(dec!(1000), Some(1), 2025, no_fund),
            Err(RateError::NoFundShare { .. })
        ));
        let huge = [case(Decimal::MAX, dec!(2), dec!(100), dec!(60))];
        assert!(matches!(
            derive_base_rate(dec!(1000), Some(1), 2025, huge),
            Err(RateError::Overflow(_))
        ));
        let err = derive_base_rate(dec!(1000), Some(1), 2025, []).unwrap_err();
        assert!(
            err.to_string().starts_with("drg.base_rate = \"budget\""),
            "{err}"
        );
    }
}
