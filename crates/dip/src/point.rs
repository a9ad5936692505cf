//! 点值 and DIP payment (`payment-model.md` §4, revision 2).
//!
//! The year's point value is the `pv` at which the fund spends the DIP budget `B` exactly:
//! `Σ_i max(0, s_i × pv − own_i) = B` (`s_i` the case score, `own_i` the patient's share).
//! The left side `f(pv)` is continuous, piecewise linear and non-decreasing; it bends at the
//! break points `own_i / s_i`, where case `i` stops being clamped to 0. [`solve`] sorts the
//! break points (compared exactly, by cross-multiplication), walks the pieces from 0 upwards
//! keeping Σ s and Σ own of the unclamped cases, and takes on the first piece that reaches
//! `B` the exact solution `(B + Σ own) / Σ s` of that piece — a ratio of two decimals, no
//! iteration, no float. With `B > 0` the solution is unique (f is strictly increasing where
//! it is positive), so "the smallest solution on a flat piece" never has to choose. When no
//! case is clamped the solution is `(B + Σ own) / Σ s` over all cases, the first reading's
//! formula.
//!
//! The published value is that ratio rounded half-up to 6 decimals (exactly: the rounding
//! is checked against the ratio by multiplication). [`PointValueComputation`] reports Σ
//! fund_due at the published value against `B`: the difference comes from that rounding
//! alone and is at most Σ s × 0.0000005 in size. Cases with score 0 never count; a negative
//! score, `B ≤ 0` or no positive score is an error. All arithmetic is checked.

use std::fmt;

use rust_decimal::Decimal;
use serde::Serialize;
use thiserror::Error;

use crate::params::{DipParams, PointValueSource};
use crate::round::{fmt_money, round_half_up};

/// Decimals of a published point value.
pub const POINT_VALUE_DECIMALS: u32 = 6;

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
    /// The annual DIP budget (0 for a fixed value).
    pub annual_budget: Decimal,
    /// The budget of the period: the annual budget, or a twelfth of it (0 for a fixed value).
    pub period_budget: Decimal,
    /// Number of cases counted (score > 0).
    pub cases: u64,
    /// Σ own (patients' shares) of the counted cases.
    pub own_total: Decimal,
    /// Σ case scores of the counted cases.
    pub score_total: Decimal,
    /// CNY per point, rounded half-up to 6 decimals.
    pub point_value: Decimal,
    /// Σ fund_due = Σ max(0, s × point_value − own) at the published point value, exact.
    pub fund_due_total: Decimal,
    /// Cases clamped at the published point value: `s × point_value < own` (fund_due 0).
    pub clamped: u64,
    /// `fund_due_total − period_budget`: rounding of the point value alone (for a fixed
    /// value, against a period budget of 0, i.e. Σ fund_due).
    pub difference: Decimal,
}

/// Why a point value cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PointValueError {
    /// No case with a score > 0 to share the budget over.
    #[error("Σ case scores = {score_total}: expected at least one case with a score > 0 to share the budget over")]
    NoScores {
        /// The total found.
        score_total: Decimal,
    },
    /// The budget is 0 or negative.
    #[error("DIP budget {budget}: expected an amount > 0 for the point value to spend")]
    BudgetNotPositive {
        /// The period's budget.
        budget: Decimal,
    },
    /// A case with a negative score.
    #[error("case {index} (0-based) has score {score}: expected a score ≥ 0")]
    NegativeScore {
        /// The position of the case in the cases given.
        index: usize,
        /// Its score.
        score: Decimal,
    },
    /// The negative own shares alone (patients who paid less than nothing) exceed the budget:
    /// no point value > 0 spends it.
    #[error("at point value 0 the fund already owes {at_zero} (cases with a negative own share), at least the budget {budget}: no point value > 0 spends it")]
    NoPositiveSolution {
        /// The period's budget.
        budget: Decimal,
        /// Σ max(0, −own) over the cases.
        at_zero: Decimal,
    },
    /// A sum or product leaves the decimal range: the inputs cannot be real.
    #[error("{what} overflows the decimal range (±7.9e28)")]
    Overflow {
        /// What overflowed.
        what: &'static str,
    },
}

fn overflow(what: &'static str) -> PointValueError {
    PointValueError::Overflow { what }
}

/// The exact solution `numerator / denominator` (both > 0) of
/// `Σ max(0, s × pv − own) = budget / parts`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Solution {
    pub(crate) numerator: Decimal,
    pub(crate) denominator: Decimal,
}

/// The counted cases (score > 0) and their totals.
struct Counted {
    cases: Vec<(Decimal, Decimal)>,
    score_total: Decimal,
    own_total: Decimal,
}

fn counted(cases: &[(Decimal, Decimal)]) -> Result<Counted, PointValueError> {
    let mut kept = Vec::with_capacity(cases.len());
    let (mut score_total, mut own_total) = (Decimal::ZERO, Decimal::ZERO);
    for (index, &(score, own)) in cases.iter().enumerate() {
        if score.is_sign_negative() && !score.is_zero() {
            return Err(PointValueError::NegativeScore { index, score });
        }
        if score.is_zero() {
            continue;
        }
        score_total = score_total
            .checked_add(score)
            .ok_or(overflow("Σ case scores"))?;
        own_total = own_total.checked_add(own).ok_or(overflow("Σ own"))?;
        kept.push((score, own));
    }
    if kept.is_empty() {
        return Err(PointValueError::NoScores { score_total });
    }
    Ok(Counted {
        cases: kept,
        score_total,
        own_total,
    })
}

/// Solves `Σ max(0, s_i × pv − own_i) = budget / parts` exactly over the counted cases
/// (score > 0, sorted here by break point).
fn solve_counted(
    cases: &mut [(Decimal, Decimal)],
    budget: Decimal,
    parts: Decimal,
) -> Result<Solution, PointValueError> {
    if budget <= Decimal::ZERO {
        return Err(PointValueError::BudgetNotPositive { budget });
    }
    // Every cross product own_i × s_j below fits when the largest does.
    let max_score = cases.iter().map(|c| c.0).max().unwrap_or_default();
    let max_own = cases.iter().map(|c| c.1.abs()).max().unwrap_or_default();
    max_own
        .checked_mul(max_score)
        .ok_or(overflow("own × score (comparing break points)"))?;
    // own_a / s_a against own_b / s_b, both scores > 0.
    cases.sort_by(|a, b| (a.1 * b.0).cmp(&(b.1 * a.0)));

    // The cases with own ≤ 0 are unclamped from pv = 0 on.
    let first_positive = cases.partition_point(|c| c.1 <= Decimal::ZERO);
    let (mut score_sum, mut own_sum) = (Decimal::ZERO, Decimal::ZERO);
    for &(s, own) in &cases[..first_positive] {
        score_sum = score_sum.checked_add(s).ok_or(overflow("Σ case scores"))?;
        own_sum = own_sum.checked_add(own).ok_or(overflow("Σ own"))?;
    }
    // f(0) = −Σ own (own ≤ 0): parts × f(0) must stay below the budget.
    let at_zero = -own_sum;
    if at_zero.checked_mul(parts).ok_or(overflow("Σ −own × 12"))? >= budget {
        return Err(PointValueError::NoPositiveSolution { budget, at_zero });
    }
    let mut next = first_positive;
    loop {
        // On this piece f(pv) = score_sum × pv − own_sum; f(start of piece) < budget / parts.
        if score_sum > Decimal::ZERO {
            let numerator = parts
                .checked_mul(own_sum)
                .and_then(|o| budget.checked_add(o))
                .ok_or(overflow("budget + Σ own"))?;
            let denominator = parts
                .checked_mul(score_sum)
                .ok_or(overflow("Σ case scores × 12"))?;
            let within = match cases.get(next) {
                None => true,
                // numerator / denominator ≤ own / s
                Some(&(s, own)) => {
                    let lhs = numerator
                        .checked_mul(s)
                        .ok_or(overflow("point value × score"))?;
                    let rhs = own
                        .checked_mul(denominator)
                        .ok_or(overflow("own × Σ case scores"))?;
                    lhs <= rhs
                }
            };
            if within {
                return Ok(Solution {
                    numerator,
                    denominator,
                });
            }
        }
        // Past the last break point score_sum > 0 (the cases are not empty), so the piece
        // above returned; this is only a guard.
        let Some(&(s, own)) = cases.get(next) else {
            return Err(PointValueError::NoScores {
                score_total: score_sum,
            });
        };
        score_sum = score_sum.checked_add(s).ok_or(overflow("Σ case scores"))?;
        own_sum = own_sum.checked_add(own).ok_or(overflow("Σ own"))?;
        next += 1;
    }
}

/// `numerator / denominator` (both > 0) rounded half-up to 6 decimals, exactly: the quotient
/// is checked by multiplication, so no digit beyond the 28th can tip the rounding.
fn round_ratio(sol: Solution) -> Result<Decimal, PointValueError> {
    let Solution {
        numerator: n,
        denominator: d,
    } = sol;
    let step = Decimal::new(1, POINT_VALUE_DECIMALS);
    let half = Decimal::new(5, POINT_VALUE_DECIMALS + 1);
    let q = n.checked_div(d).ok_or(overflow("point value"))?;
    let mut k = round_half_up(q, POINT_VALUE_DECIMALS);
    let bound = |k: Decimal, h: Decimal| {
        k.checked_add(h)
            .and_then(|x| x.checked_mul(d))
            .ok_or(overflow("point value × Σ case scores"))
    };
    // k is right when (k − half) × d ≤ n < (k + half) × d; at most one step off.
    for _ in 0..4 {
        if bound(k, -half)? > n {
            k -= step;
        } else if bound(k, half)? <= n {
            k += step;
        } else {
            return Ok(k);
        }
    }
    Ok(k)
}

/// Σ max(0, s × pv − own) and the clamped cases (s × pv < own), exact.
fn fund_due_at(
    cases: &[(Decimal, Decimal)],
    pv: Decimal,
) -> Result<(Decimal, u64), PointValueError> {
    let mut total = Decimal::ZERO;
    let mut clamped = 0u64;
    for &(s, own) in cases {
        let (payment, fund_due) =
            checked_dip_payment(s, pv, own).ok_or(overflow("score × point value"))?;
        if payment < own {
            clamped += 1;
        }
        total = total.checked_add(fund_due).ok_or(overflow("Σ fund_due"))?;
    }
    Ok((total, clamped))
}

/// 结算点值 — the point value that spends `budget` exactly over `cases` (score, own), rounded
/// half-up to 6 decimals. Cases with score 0 do not count.
pub fn solve_point_value(
    cases: &[(Decimal, Decimal)],
    budget: Decimal,
) -> Result<Decimal, PointValueError> {
    let mut c = counted(cases)?;
    round_ratio(solve_counted(&mut c.cases, budget, Decimal::ONE)?)
}

/// The exact (unrounded) solution, for the tests.
#[cfg(test)]
pub(crate) fn solve_exact(
    cases: &[(Decimal, Decimal)],
    budget: Decimal,
) -> Result<Solution, PointValueError> {
    let mut c = counted(cases)?;
    solve_counted(&mut c.cases, budget, Decimal::ONE)
}

fn compute(
    basis: PointValueBasis,
    annual_budget: Decimal,
    parts: u32,
    cases: &[(Decimal, Decimal)],
) -> Result<PointValueComputation, PointValueError> {
    let parts = Decimal::from(parts);
    if annual_budget <= Decimal::ZERO {
        return Err(PointValueError::BudgetNotPositive {
            budget: annual_budget,
        });
    }
    let mut c = counted(cases)?;
    let point_value = round_ratio(solve_counted(&mut c.cases, annual_budget, parts)?)?;
    let (fund_due_total, clamped) = fund_due_at(&c.cases, point_value)?;
    let period_budget = annual_budget / parts;
    Ok(PointValueComputation {
        basis,
        annual_budget,
        period_budget,
        cases: c.cases.len() as u64,
        own_total: c.own_total,
        score_total: c.score_total,
        point_value,
        fund_due_total,
        clamped,
        difference: fund_due_total
            .checked_sub(period_budget)
            .ok_or(overflow("Σ fund_due − budget"))?,
    })
}

/// 结算点值 — the year's point value: the `pv` with `Σ max(0, s × pv − own) = budget` over the
/// year's cases `(score, own)`, to 6 decimals.
pub fn point_value(
    budget: Decimal,
    cases: &[(Decimal, Decimal)],
) -> Result<PointValueComputation, PointValueError> {
    compute(PointValueBasis::Annual, budget, 1, cases)
}

/// 月度预结算点值 — a month's provisional point value: the same equation over the month's
/// cases with `budget / 12` (solved exactly: the twelfth is not rounded first).
pub fn monthly_point_value(
    annual_budget: Decimal,
    month_cases: &[(Decimal, Decimal)],
) -> Result<PointValueComputation, PointValueError> {
    compute(
        PointValueBasis::MonthlyProvisional,
        annual_budget,
        12,
        month_cases,
    )
}

/// The year's point value as the parameters say: solved for the DIP budget
/// (`point_value = "budget"`), or the fixed value (with Σ fund_due at it).
pub fn year_point_value(
    params: &DipParams,
    cases: &[(Decimal, Decimal)],
) -> Result<PointValueComputation, PointValueError> {
    match params.point_value {
        PointValueSource::Budget => point_value(params.inpatient_fund_budget, cases),
        PointValueSource::Fixed(v) => fixed_point_value(v, cases),
    }
}

/// A point value given in advance (fixed by the region or on the command line), with the
/// figures of `cases` at it. No case is required.
pub fn fixed_point_value(
    point_value: Decimal,
    cases: &[(Decimal, Decimal)],
) -> Result<PointValueComputation, PointValueError> {
    let (mut score_total, mut own_total, mut n) = (Decimal::ZERO, Decimal::ZERO, 0u64);
    let mut kept = Vec::with_capacity(cases.len());
    for (index, &(score, own)) in cases.iter().enumerate() {
        if score.is_sign_negative() && !score.is_zero() {
            return Err(PointValueError::NegativeScore { index, score });
        }
        if score.is_zero() {
            continue;
        }
        score_total = score_total
            .checked_add(score)
            .ok_or(overflow("Σ case scores"))?;
        own_total = own_total.checked_add(own).ok_or(overflow("Σ own"))?;
        n += 1;
        kept.push((score, own));
    }
    let (fund_due_total, clamped) = fund_due_at(&kept, point_value)?;
    Ok(PointValueComputation {
        basis: PointValueBasis::Fixed,
        annual_budget: Decimal::ZERO,
        period_budget: Decimal::ZERO,
        cases: n,
        own_total,
        score_total,
        point_value,
        fund_due_total,
        clamped,
        difference: fund_due_total,
    })
}

/// `+0.123456` / `-0.000001`: a difference, half-up to 6 decimals, with its sign.
fn signed6(d: Decimal) -> String {
    let d = round_half_up(d, 6);
    if d.is_sign_negative() && !d.is_zero() {
        format!("{d:.6}")
    } else {
        format!("+{:.6}", d.abs())
    }
}

impl fmt::Display for PointValueComputation {
    /// One line saying how the value was computed and what it spends.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pv = format!("{:.6}", self.point_value);
        let spent = format!(
            "Σ fund_due {} over {} case(s), {} clamped (s × pv < own)",
            fmt_money(self.fund_due_total),
            self.cases,
            self.clamped
        );
        match self.basis {
            PointValueBasis::Fixed => write!(f, "point value {pv} (fixed by the region); {spent}"),
            PointValueBasis::Annual => write!(
                f,
                "year's point value {pv}: Σ max(0, s × pv − own) = budget {} over Σ case scores {} (Σ own {}); {spent}; difference to the budget {} (rounding of pv)",
                fmt_money(self.period_budget),
                self.score_total,
                fmt_money(self.own_total),
                signed6(self.difference),
            ),
            PointValueBasis::MonthlyProvisional => write!(
                f,
                "monthly provisional point value {pv}: Σ max(0, s × pv − own) = budget {} / 12 = {} over Σ case scores {} (Σ own {}); {spent}; difference to the budget {} (rounding of pv)",
                fmt_money(self.annual_budget),
                fmt_money(self.period_budget),
                self.score_total,
                fmt_money(self.own_total),
                signed6(self.difference),
            ),
        }
    }
}

/// DIP payment of a case: `payment = case_score × point_value` and
/// `fund_due = max(0, payment − own)`. Both exact: round to the fen when writing them out.
/// `None` when the product or the difference leaves the decimal range.
pub fn checked_dip_payment(
    case_score: Decimal,
    point_value: Decimal,
    own: Decimal,
) -> Option<(Decimal, Decimal)> {
    let payment = case_score.checked_mul(point_value)?;
    let fund_due = payment.checked_sub(own)?.max(Decimal::ZERO);
    Some((payment, fund_due))
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

    /// `Σ max(0, s × N/D − own) = budget` checked exactly, multiplied out by D.
    fn spends_exactly(cases: &[(Decimal, Decimal)], sol: Solution, budget: Decimal) -> bool {
        let (n, d) = (sol.numerator, sol.denominator);
        let lhs: Decimal = cases
            .iter()
            .filter(|c| c.0 > Decimal::ZERO)
            .map(|&(s, own)| (s * n - own * d).max(Decimal::ZERO))
            .sum();
        lhs == budget * d
    }

    /// Σ max(0, s × pv − own) over the cases with a score (score 0 never counts).
    fn f(cases: &[(Decimal, Decimal)], pv: Decimal) -> Decimal {
        cases
            .iter()
            .filter(|c| !c.0.is_zero())
            .map(|&(s, own)| dip_payment(s, pv, own).1)
            .sum()
    }

    #[test]
    fn without_a_clamped_case_it_is_budget_plus_own_over_the_scores() {
        let cases = [
            (dec!(10), dec!(50)),
            (dec!(20), dec!(100)),
            (dec!(30), dec!(50)),
        ];
        let pv = point_value(dec!(1000), &cases).unwrap();
        assert_eq!(pv.point_value, dec!(20));
        assert_eq!(
            (pv.fund_due_total, pv.clamped, pv.difference),
            (dec!(1000), 0, dec!(0))
        );
        assert_eq!(
            (pv.score_total, pv.own_total, pv.cases),
            (dec!(60), dec!(200), 3)
        );
        assert_eq!(
            pv.to_string(),
            "year's point value 20.000000: Σ max(0, s × pv − own) = budget 1000.00 over Σ case scores 60 (Σ own 200.00); Σ fund_due 1000.00 over 3 case(s), 0 clamped (s × pv < own); difference to the budget +0.000000 (rounding of pv)"
        );
        assert_eq!(solve_point_value(&cases, dec!(1000)), Ok(dec!(20)));
    }

    #[test]
    fn a_clamped_case_is_left_out_and_the_others_spend_the_budget() {
        // The old formula: (1000 + 200 + 5000) / 70 = 88.57…, at which case 3 (score 10,
        // own 5000) is still clamped (885.7 < 5000). Without it: (1000 + 200) / 60 = 20.
        let cases = [
            (dec!(10), dec!(50)),
            (dec!(20), dec!(100)),
            (dec!(30), dec!(50)),
            (dec!(10), dec!(5000)),
        ];
        let pv = point_value(dec!(1000), &cases).unwrap();
        assert_eq!(pv.point_value, dec!(20));
        assert_eq!(
            (pv.fund_due_total, pv.clamped, pv.difference),
            (dec!(1000), 1, dec!(0))
        );
        assert_eq!(f(&cases, pv.point_value), dec!(1000));
        // A score of 0 never counts, whatever its own share.
        let mut with_zero = cases.to_vec();
        with_zero.push((Decimal::ZERO, dec!(-1000000)));
        assert_eq!(
            point_value(dec!(1000), &with_zero).unwrap().point_value,
            dec!(20)
        );
    }

    #[test]
    fn the_value_is_rounded_half_up_to_six_decimals_and_the_difference_reported() {
        // 100 / 3 = 33.333333…: Σ fund_due at 33.333333 is 99.999999, 0.000001 short.
        let pv = point_value(dec!(100), &[(dec!(3), Decimal::ZERO)]).unwrap();
        assert_eq!(pv.point_value, dec!(33.333333));
        assert_eq!(pv.fund_due_total, dec!(99.999999));
        assert_eq!(pv.difference, dec!(-0.000001));
        assert!(pv
            .to_string()
            .ends_with("difference to the budget -0.000001 (rounding of pv)"));
        // 2 / 3 = 0.6666666…: rounds up.
        assert_eq!(
            solve_point_value(&[(dec!(3), Decimal::ZERO)], dec!(2)),
            Ok(dec!(0.666667))
        );
        // an exact midpoint rounds up: 0.000003 / 2 = 0.0000015 → 0.000002
        assert_eq!(
            solve_point_value(&[(dec!(2), Decimal::ZERO)], dec!(0.000003)),
            Ok(dec!(0.000002))
        );
    }

    #[test]
    fn the_monthly_value_solves_with_a_twelfth_of_the_budget_unrounded() {
        let cases = [
            (dec!(10), dec!(50)),
            (dec!(20), dec!(100)),
            (dec!(30), dec!(50)),
        ];
        let pv = monthly_point_value(dec!(12000), &cases).unwrap();
        assert_eq!(pv.period_budget, dec!(1000));
        assert_eq!(pv.point_value, dec!(20));
        assert!(pv.to_string().starts_with(
            "monthly provisional point value 20.000000: Σ max(0, s × pv − own) = budget 12000.00 / 12 = 1000.00"
        ));
        // 100 / 12 = 8.333…: (100 / 12 + 0) / 1, solved as 100 / 12 exactly → 8.333333.
        let pv = monthly_point_value(dec!(100), &[(dec!(1), Decimal::ZERO)]).unwrap();
        assert_eq!(pv.point_value, dec!(8.333333));
    }

    #[test]
    fn no_scores_no_budget_and_negative_scores_are_errors() {
        assert_eq!(
            point_value(dec!(1), &[]),
            Err(PointValueError::NoScores {
                score_total: Decimal::ZERO
            })
        );
        assert_eq!(
            point_value(dec!(1), &[(Decimal::ZERO, dec!(5))]),
            Err(PointValueError::NoScores {
                score_total: Decimal::ZERO
            })
        );
        assert_eq!(
            point_value(Decimal::ZERO, &[(dec!(1), dec!(1))]),
            Err(PointValueError::BudgetNotPositive {
                budget: Decimal::ZERO
            })
        );
        assert_eq!(
            solve_point_value(&[(dec!(1), dec!(1))], dec!(-5))
                .unwrap_err()
                .to_string(),
            "DIP budget -5: expected an amount > 0 for the point value to spend"
        );
        assert_eq!(
            point_value(dec!(1), &[(dec!(1), dec!(1)), (dec!(-2), dec!(1))]),
            Err(PointValueError::NegativeScore {
                index: 1,
                score: dec!(-2)
            })
        );
        // Negative own shares alone owe more than the budget at pv = 0.
        assert_eq!(
            point_value(dec!(10), &[(dec!(1), dec!(-10))]),
            Err(PointValueError::NoPositiveSolution {
                budget: dec!(10),
                at_zero: dec!(10)
            })
        );
        // Below it, the budget is reached at a small positive value.
        assert_eq!(
            solve_point_value(&[(dec!(1), dec!(-10))], dec!(11)),
            Ok(dec!(1))
        );
        assert!(matches!(
            point_value(
                Decimal::MAX,
                &[(Decimal::MAX, Decimal::MAX), (dec!(1), dec!(1))]
            ),
            Err(PointValueError::Overflow { .. })
        ));
    }

    #[test]
    fn the_parameters_choose_budget_or_fixed() {
        let p = params(15);
        let cases = [(dec!(5000000), dec!(20000000))];
        let pv = year_point_value(&p, &cases).unwrap();
        assert_eq!(
            pv.point_value,
            (p.inpatient_fund_budget + dec!(20000000)) / dec!(5000000)
        );
        let fixed = DipParams {
            point_value: PointValueSource::Fixed(dec!(12.34)),
            ..p
        };
        let pv = year_point_value(&fixed, &[(dec!(10), dec!(100)), (dec!(1), dec!(100))]).unwrap();
        assert_eq!(
            (pv.basis, pv.point_value, pv.fund_due_total, pv.clamped),
            (PointValueBasis::Fixed, dec!(12.34), dec!(23.4), 1)
        );
        assert_eq!(
            pv.to_string(),
            "point value 12.340000 (fixed by the region); Σ fund_due 23.40 over 2 case(s), 1 clamped (s × pv < own)"
        );
        assert_eq!(fixed_point_value(dec!(1), &[]).unwrap().cases, 0);
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
        assert_eq!(
            checked_dip_payment(dec!(10), dec!(10), dec!(150)),
            Some((dec!(100), Decimal::ZERO))
        );
        assert_eq!(checked_dip_payment(Decimal::MAX, dec!(2), dec!(1)), None);
        assert_eq!(checked_dip_payment(dec!(1), dec!(1), Decimal::MIN), None);
    }

    fn decimal(max_units: i64, scale: u32) -> impl Strategy<Value = Decimal> {
        (0..=max_units).prop_map(move |n| Decimal::new(n, scale))
    }

    fn signed_decimal(max_units: i64, scale: u32) -> impl Strategy<Value = Decimal> {
        (-max_units..=max_units).prop_map(move |n| Decimal::new(n, scale))
    }

    /// Cases as scoring gives them: scores with 4 decimals (some 0), own shares in fen (a few
    /// large enough to be clamped, a few negative).
    fn arb_cases() -> impl Strategy<Value = Vec<(Decimal, Decimal)>> {
        let case = (
            prop_oneof![1 => Just(Decimal::ZERO), 9 => decimal(5_000_000, 4)],
            prop_oneof![
                8 => decimal(2_000_000, 2),
                2 => decimal(100_000_000, 2),
                1 => signed_decimal(10_000, 2),
            ],
        );
        prop::collection::vec(case, 1..40)
    }

    fn budget() -> impl Strategy<Value = Decimal> {
        (1i64..2_000_000_000).prop_map(|n| Decimal::new(n, 2))
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

        #[test]
        fn the_exact_solution_spends_the_budget_exactly(cases in arb_cases(), b in budget()) {
            match solve_exact(&cases, b) {
                Ok(sol) => {
                    prop_assert!(sol.numerator > Decimal::ZERO && sol.denominator > Decimal::ZERO);
                    prop_assert!(spends_exactly(&cases, sol, b), "{:?} {:?}", sol, cases);
                }
                Err(PointValueError::NoScores { .. }) => {
                    prop_assert!(cases.iter().all(|c| c.0.is_zero()));
                }
                Err(PointValueError::NoPositiveSolution { at_zero, .. }) => {
                    prop_assert!(at_zero >= b);
                    prop_assert_eq!(f(&cases, Decimal::ZERO), at_zero);
                }
                Err(e) => prop_assert!(false, "{}", e),
            }
        }

        #[test]
        fn the_rounded_value_misses_the_budget_by_rounding_alone(cases in arb_cases(), b in budget()) {
            if let Ok(c) = point_value(b, &cases) {
                prop_assert_eq!(c.point_value.scale() <= 6, true);
                prop_assert_eq!(c.fund_due_total, f(&cases, c.point_value));
                prop_assert_eq!(c.difference, c.fund_due_total - b);
                let bound = c.score_total * dec!(0.0000005);
                prop_assert!(c.difference.abs() <= bound, "{} > {}", c.difference, bound);
                let clamped = cases
                    .iter()
                    .filter(|&&(s, own)| s > Decimal::ZERO && s * c.point_value < own)
                    .count() as u64;
                prop_assert_eq!(c.clamped, clamped);
                // the rounding is half-up of the exact ratio
                let sol = solve_exact(&cases, b).unwrap();
                let half = dec!(0.0000005);
                prop_assert!((c.point_value - half) * sol.denominator <= sol.numerator);
                prop_assert!(sol.numerator < (c.point_value + half) * sol.denominator);
                prop_assert_eq!(solve_point_value(&cases, b), Ok(c.point_value));
            }
        }

        #[test]
        fn with_nothing_clamped_it_is_the_old_formula(
            scores in prop::collection::vec(decimal(5_000_000, 4), 1..30),
            b in budget(),
        ) {
            // own at most 1 CNY per point and a budget of at least 1 CNY per point: nothing
            // is clamped at pv ≥ 1.
            let cases: Vec<(Decimal, Decimal)> =
                scores.iter().map(|&s| (s, (s * dec!(0.7)).round_dp(2))).collect();
            let score_total: Decimal = scores.iter().sum();
            let b = b + score_total;
            if score_total > Decimal::ZERO {
                let own_total: Decimal = cases.iter().map(|c| c.1).sum();
                let sol = solve_exact(&cases, b).unwrap();
                // N / D = (B + Σ own) / Σ s, as ratios
                prop_assert_eq!(sol.numerator * score_total, (b + own_total) * sol.denominator);
                let c = point_value(b, &cases).unwrap();
                prop_assert_eq!(c.clamped, 0);
                prop_assert_eq!(c.point_value, round_half_up((b + own_total) / score_total, 6));
            }
        }

        #[test]
        fn it_is_the_smallest_solution(cases in arb_cases(), b in budget(), below in 1i64..1_000_000_000) {
            if let Ok(sol) = solve_exact(&cases, b) {
                // any pv' < N / D spends less than the budget: pv' = N / D − below × 10⁻⁶ × …
                let pv = sol.numerator / sol.denominator;
                let lower = (pv - Decimal::new(below, 6)).max(Decimal::ZERO);
                if lower < pv && lower * sol.denominator < sol.numerator {
                    prop_assert!(f(&cases, lower) < b, "f({}) ≥ {}", lower, b);
                }
                // and the flat start: at 0, f is below the budget
                prop_assert!(f(&cases, Decimal::ZERO) < b);
            }
        }

        #[test]
        fn the_order_of_the_cases_does_not_matter(
            (cases, shuffled) in arb_cases().prop_flat_map(|c| (Just(c.clone()), Just(c).prop_shuffle())),
            b in budget(),
        ) {
            prop_assert_eq!(point_value(b, &cases), point_value(b, &shuffled));
            prop_assert_eq!(monthly_point_value(b, &cases), monthly_point_value(b, &shuffled));
        }

        #[test]
        fn the_monthly_value_spends_a_twelfth_of_the_budget(cases in arb_cases(), b in budget()) {
            if let Ok(c) = monthly_point_value(b, &cases) {
                let spent_times_12 = f(&cases, c.point_value) * dec!(12);
                let bound = c.score_total * dec!(0.0000005) * dec!(12);
                prop_assert!((spent_times_12 - b).abs() <= bound);
            }
        }
    }
}
