//! 年度清算 — annual clearing: 结余留用, 合理超支分担, performance, deposits, prepayment.
//!
//! `payment-model.md` §6, per hospital and year:
//! 1. **entitled** = Σ fund_due of the year's cases at the final values: DIP cases (those
//!    with a [`SettledCase::dip_score`]) are repriced at the final point value when one is
//!    given ([`FinalPricing::DipPointValue`]); every other case (DRG, per item) is taken as
//!    the caller priced it. **item_fund** = Σ fund_paid (what per-item payment would have
//!    cost the fund).
//! 2. **Surplus** (entitled > item_fund): the hospital keeps
//!    `min(surplus_retained_share × surplus, surplus_cap_rate × item_fund)`.
//! 3. **Overspend** (entitled < item_fund): the fund carries the gap band by band — see
//!    [the banding](#overspend-bands).
//! 4. **Performance**: with `performance_weight`, the kept surplus and the fund's share of
//!    the overspend are multiplied by `performance_score / 100` (after the share and cap).
//! 5. `final = entitled + retained_or_shared − paid_monthly − prepayment_outstanding`;
//!    positive: the fund pays the hospital; negative: the hospital pays back.
//!
//! ## The sign of `retained_or_shared`
//! `retained_or_shared` is the clearing's adjustment *to entitled*, so that the year's
//! settled amount is `entitled + retained_or_shared`:
//! - overspend: `+ fund's share` (the hospital gets entitled plus what the fund carries);
//! - surplus: `kept − surplus` (≤ 0): the hospital gets `item_fund + kept`, and the part of
//!   the surplus it does not keep stays with the fund. Reading the formula with `+ kept`
//!   instead would pay the surplus twice (entitled already contains all of it);
//!   `dip-and-payment.md` §19 reads it the same way ("the fund pays 8,800,000 + 1,100,000").
//!
//! ## Overspend bands
//! The gap is measured as a rate of item_fund, and the bands apply *marginally* (累进, like
//! tax brackets): each band's fund share applies only to the slice of the gap that lies
//! between the band's lower and upper bound. With the bands `10% → 0.70`, `20% → 0.50`,
//! `rest → 0.00` and a gap of 15% of item_fund, the fund carries 70% of the first 10 points
//! and 50% of the next 5, i.e. `0.70 × 10% + 0.50 × 5%` of item_fund. (Applying the share
//! of the band the whole rate falls in — `drgdip_pay::params::Clearing::overspend_fund_share`
//! — to the whole gap would make the fund's share fall when the gap grows across a bound.)
//! The bands' bounds are turned into amounts (`round_fen(up_to_rate × item_fund)`, published)
//! and the slices are taken between them, so the slices add up to the gap exactly.
//!
//! ## Deposits
//! `paid_monthly` is Σ of what was actually paid on the monthly statements: the deposits
//! withheld there (质量保证金) were never paid. `clearing.deposit_release` says how they are
//! released: `full` (the default) releases every deposit withheld; `performance` releases
//! `round_fen(withheld × performance_score / 100)` and the fund keeps the rest
//! (`deposits_kept = withheld − released`, shown on the statement). So
//! `final = settled − paid_monthly − prepayment_outstanding − deposits_kept`, and the
//! statement shows it as a reconciliation: `final = deposits_released + unpaid_monthly +
//! year_end_difference − prepayment_outstanding`, where `unpaid_monthly = Σ amount_due −
//! paid_monthly` and `year_end_difference = settled − Σ monthly fund_due`. The performance
//! release is independent of `performance_weight` (which weights the surplus kept and the
//! overspend shared); both may apply.
//!
//! ## Cross-province cases
//! Cases of patients insured in another province (跨省异地) are settled as they were priced
//! (per item by default, `cross_region.cross_province`), are in `entitled` as settled, and
//! are outside the balance of surplus and overspend; the statement reports them apart
//! ([`ClearingStatement::cross_province`]: cases, per-item cost, fund due).
//!
//! ## Rounding
//! Every figure the statement publishes is rounded half-up to the fen where it is computed
//! from exact inputs: each case's fund_due and fund_paid (published case lines), each band
//! bound and band share, the surplus share, the cap, the performance-weighted amounts. Every
//! later figure is computed from published figures, so the statement adds up to the fen.

use std::collections::BTreeSet;
use std::fmt;

use drgdip_pay::money::{round_fen, Fen};
use drgdip_pay::params::DepositRelease;
use drgdip_pay::{Hospital, Params};
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::audit::{Action, Actor, AuditEvent, Audited};
use crate::calendar::YearMonth;
use crate::monthly::{MonthlyStatement, SettledCase};
use crate::percent;

/// What was actually paid on one monthly statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthlyRecord {
    /// The month.
    pub month: YearMonth,
    /// The statement's fund_due_total (provisional).
    pub fund_due_total: Decimal,
    /// The deposit withheld on it.
    pub deposit_withheld: Decimal,
    /// What the fund actually paid on it (normally its amount_due).
    pub amount_paid: Decimal,
}

impl From<&MonthlyStatement> for MonthlyRecord {
    /// A statement paid in full (`amount_paid = amount_due`); its fund due includes the
    /// adjustments (补差) carried onto it.
    fn from(statement: &MonthlyStatement) -> MonthlyRecord {
        MonthlyRecord {
            month: statement.month,
            fund_due_total: statement
                .fund_due_total
                .saturating_add(statement.adjustments_total),
            deposit_withheld: statement.deposit_withheld,
            amount_paid: statement.amount_due,
        }
    }
}

/// One hospital's year, as clearing needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClearingInput {
    /// The hospital (its performance score weights the sharing).
    pub hospital: Hospital,
    /// Every case of the year.
    pub cases: Vec<SettledCase>,
    /// Every monthly statement of the year, with what was paid on it.
    pub monthly: Vec<MonthlyRecord>,
    /// Prepayment still outstanding, recovered at this clearing (≥ 0).
    pub prepayment_outstanding: Decimal,
}

/// How the year's cases are priced at clearing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "point_value", rename_all = "snake_case")]
pub enum FinalPricing {
    /// Every case as given (DRG cases, or cases the caller already repriced).
    AsGiven,
    /// DIP cases (with a score) repriced at this final point value (结算点值); the others
    /// as given.
    DipPointValue(Decimal),
}

/// Surplus, overspend or neither.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Balance {
    /// entitled > item_fund (结余).
    Surplus,
    /// entitled < item_fund (超支).
    Overspend,
    /// entitled = item_fund.
    Even,
}

/// The surplus kept (结余留用).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurplusSharing {
    /// entitled − item_fund.
    pub surplus: Decimal,
    /// `clearing.surplus_retained_share`.
    pub retained_share: Decimal,
    /// `round_fen(retained_share × surplus)`.
    pub share_amount: Decimal,
    /// `clearing.surplus_cap_rate`.
    pub cap_rate: Decimal,
    /// `round_fen(cap_rate × item_fund)`.
    pub cap: Decimal,
    /// `min(share_amount, cap)`, before performance.
    pub kept_before_performance: Decimal,
}

/// One band of an overspend (合理超支分担).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BandShare {
    /// 1-based band number.
    pub band: usize,
    /// The band's lower bound, as a rate of item_fund (the previous band's upper bound).
    pub from_rate: Decimal,
    /// The band's upper bound (`up_to_rate`); `None` for the open last band.
    pub to_rate: Option<Decimal>,
    /// `round_fen(from_rate × item_fund)`.
    pub from_amount: Decimal,
    /// `round_fen(to_rate × item_fund)`.
    pub to_amount: Option<Decimal>,
    /// The slice of the gap in this band.
    pub slice: Decimal,
    /// The band's `fund_share`.
    pub fund_share: Decimal,
    /// `round_fen(slice × fund_share)`.
    pub fund_amount: Decimal,
}

/// The overspend shared band by band.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OverspendSharing {
    /// item_fund − entitled.
    pub gap: Decimal,
    /// Every band, in order (slices of zero included).
    pub bands: Vec<BandShare>,
    /// Σ band fund amounts, before performance.
    pub shared_before_performance: Decimal,
}

/// One step of the clearing arithmetic, rendered with its numbers (published by the bureau).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum ClearingStep {
    /// The cross-province cases (跨省异地): settled per item, kept as settled, outside the
    /// balance of local and in-province cases.
    OutsidePool {
        /// Cases.
        cases: u64,
        /// Their Σ fund_due (in entitled).
        fund_due: Decimal,
        /// Their Σ total_cost (per-item cost).
        #[serde(default)]
        total_cost: Decimal,
    },
    /// entitled = Σ fund_due at the final values.
    Entitled {
        /// Cases of the year.
        cases: u64,
        /// Cases repriced at the point value.
        repriced: u64,
        /// The final point value, if DIP cases were repriced.
        point_value: Option<Decimal>,
        /// Σ fund_due.
        entitled: Decimal,
    },
    /// item_fund = Σ fund_paid.
    ItemFund {
        /// Cases of the year.
        cases: u64,
        /// Σ fund_paid.
        item_fund: Decimal,
    },
    /// Surplus, overspend or even.
    Balance {
        /// Σ fund_due.
        entitled: Decimal,
        /// Σ fund_paid.
        item_fund: Decimal,
        /// Which.
        balance: Balance,
        /// |entitled − item_fund|.
        gap: Decimal,
        /// gap / item_fund (exact; `None` when item_fund is 0).
        rate: Option<Decimal>,
    },
    /// The surplus share and its cap.
    SurplusKept(SurplusSharing),
    /// One overspend band.
    OverspendBand(BandShare),
    /// The fund's share of the overspend, summed.
    OverspendShared {
        /// The gap.
        gap: Decimal,
        /// Σ band amounts.
        shared: Decimal,
    },
    /// Performance weighting of the kept surplus or shared overspend.
    Performance {
        /// Surplus or overspend.
        balance: Balance,
        /// The amount before weighting.
        before: Decimal,
        /// Whether `performance_weight` is on.
        weighted: bool,
        /// The hospital's score.
        score: Decimal,
        /// The amount after weighting.
        after: Decimal,
    },
    /// The settled amount of the year.
    Settled {
        /// Which.
        balance: Balance,
        /// Σ fund_due.
        entitled: Decimal,
        /// The surplus (for a surplus), else 0.
        surplus: Decimal,
        /// The amount kept or shared after performance.
        kept_or_shared: Decimal,
        /// The adjustment to entitled.
        retained_or_shared: Decimal,
        /// entitled + retained_or_shared.
        settled: Decimal,
    },
    /// What the monthly statements provided and what was paid.
    Monthly {
        /// Number of statements.
        statements: u64,
        /// Σ fund_due_total.
        fund_due: Decimal,
        /// Σ deposit_withheld.
        deposits_withheld: Decimal,
        /// Σ amount_paid.
        paid: Decimal,
        /// Σ (fund_due_total − deposit_withheld) − paid.
        unpaid: Decimal,
    },
    /// The deposits released (质量保证金返还).
    DepositsReleased {
        /// The deposits released.
        amount: Decimal,
        /// Σ deposit_withheld.
        #[serde(default)]
        withheld: Decimal,
        /// The performance score the release was weighted by (`deposit_release =
        /// "performance"`); `None`: released in full.
        #[serde(default)]
        performance_score: Option<Decimal>,
        /// withheld − released: kept by the fund.
        #[serde(default)]
        kept: Decimal,
    },
    /// The prepayment recovered.
    PrepaymentRecovered {
        /// The outstanding prepayment.
        amount: Decimal,
    },
    /// The final amount.
    Final {
        /// Σ fund_due.
        entitled: Decimal,
        /// The adjustment.
        retained_or_shared: Decimal,
        /// Σ amount_paid.
        paid_monthly: Decimal,
        /// The prepayment recovered.
        prepayment: Decimal,
        /// The deposits kept by the fund.
        #[serde(default)]
        deposits_kept: Decimal,
        /// The result.
        final_amount: Decimal,
    },
    /// The final amount again, from what it pays: deposits, unpaid months, the year-end
    /// difference, less the prepayment.
    Reconciliation {
        /// Deposits released.
        deposits_released: Decimal,
        /// Unpaid monthly amounts.
        unpaid_monthly: Decimal,
        /// settled − Σ monthly fund_due.
        year_end_difference: Decimal,
        /// The settled amount.
        settled: Decimal,
        /// Σ monthly fund_due.
        monthly_fund_due: Decimal,
        /// The prepayment recovered.
        prepayment: Decimal,
        /// The result.
        final_amount: Decimal,
    },
}

/// `+12.30` / `−12.30`: an adjustment with its sign.
struct Signed(Decimal);

impl fmt::Display for Signed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_sign_negative() && !self.0.is_zero() {
            write!(f, "− {}", Fen(-self.0))
        } else {
            write!(f, "+ {}", Fen(self.0))
        }
    }
}

/// A rate as a percentage with two decimals (display only): `0.151515…` → `15.15%`.
fn rate_percent(rate: Decimal) -> String {
    match rate.checked_mul(Decimal::ONE_HUNDRED) {
        Some(p) => {
            let p = p.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
            format!("{p:.2}%")
        }
        None => format!("{rate} × 100%"),
    }
}

impl fmt::Display for ClearingStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClearingStep::Entitled {
                cases,
                repriced,
                point_value,
                entitled,
            } => match point_value {
                Some(pv) => write!(
                    f,
                    "entitled = Σ fund_due of {cases} cases at the final values ({repriced} DIP cases repriced at point value {pv}) = {}",
                    Fen(*entitled)
                ),
                None => write!(
                    f,
                    "entitled = Σ fund_due of {cases} cases at the final values = {}",
                    Fen(*entitled)
                ),
            },
            ClearingStep::OutsidePool {
                cases,
                fund_due,
                total_cost,
            } => write!(
                f,
                "cross-province (跨省异地): {cases} cases, per-item cost {}, Σ fund_due {} in entitled as settled, outside the balance below",
                Fen(*total_cost),
                Fen(*fund_due)
            ),
            ClearingStep::ItemFund { cases, item_fund } => write!(
                f,
                "item_fund = Σ fund_paid (per-item fund cost) of {cases} cases = {}",
                Fen(*item_fund)
            ),
            ClearingStep::Balance {
                entitled,
                item_fund,
                balance,
                gap,
                rate,
            } => {
                let rate = rate.map_or_else(String::new, |r| {
                    format!(" ({} of item_fund)", rate_percent(r))
                });
                match balance {
                    Balance::Surplus => write!(
                        f,
                        "surplus (结余) = entitled {} − item_fund {} = {}{rate}",
                        Fen(*entitled),
                        Fen(*item_fund),
                        Fen(*gap)
                    ),
                    Balance::Overspend => write!(
                        f,
                        "overspend (超支) = item_fund {} − entitled {} = {}{rate}",
                        Fen(*item_fund),
                        Fen(*entitled),
                        Fen(*gap)
                    ),
                    Balance::Even => write!(
                        f,
                        "entitled {} = item_fund {}: no surplus, no overspend",
                        Fen(*entitled),
                        Fen(*item_fund)
                    ),
                }
            }
            ClearingStep::SurplusKept(s) => write!(
                f,
                "surplus kept (结余留用) = min(surplus {} × retained share {} = {}, cap item_fund × {}% = {}) = {}",
                Fen(s.surplus),
                s.retained_share,
                Fen(s.share_amount),
                percent(s.cap_rate),
                Fen(s.cap),
                Fen(s.kept_before_performance)
            ),
            ClearingStep::OverspendBand(b) => {
                let to = match (b.to_rate, b.to_amount) {
                    (Some(rate), Some(amount)) => {
                        format!("{}%] = ({}, {}]", percent(rate), Fen(b.from_amount), Fen(amount))
                    }
                    _ => format!("…) = ({}, …)", Fen(b.from_amount)),
                };
                write!(
                    f,
                    "band {} (gap in ({}%, {to}): slice {} × fund share {} = {}",
                    b.band,
                    percent(b.from_rate),
                    Fen(b.slice),
                    b.fund_share,
                    Fen(b.fund_amount)
                )
            }
            ClearingStep::OverspendShared { gap, shared } => write!(
                f,
                "fund's share of the overspend (合理超支分担) = Σ bands = {}; the hospital bears {} − {} = {}",
                Fen(*shared),
                Fen(*gap),
                Fen(*shared),
                Fen(*gap - *shared)
            ),
            ClearingStep::Performance {
                balance,
                before,
                weighted,
                score,
                after,
            } => {
                let what = match balance {
                    Balance::Surplus => "surplus kept",
                    _ => "fund's share",
                };
                if *weighted {
                    write!(
                        f,
                        "performance: {what} {} × score {score} / 100 = {}",
                        Fen(*before),
                        Fen(*after)
                    )
                } else {
                    write!(
                        f,
                        "performance weighting off: {what} stays {}",
                        Fen(*after)
                    )
                }
            }
            ClearingStep::Settled {
                balance,
                entitled,
                surplus,
                kept_or_shared,
                retained_or_shared,
                settled,
            } => match balance {
                Balance::Surplus => write!(
                    f,
                    "retained_or_shared = kept {} − surplus {} = {} (the surplus not kept stays with the fund); settled = entitled {} {} = {}",
                    Fen(*kept_or_shared),
                    Fen(*surplus),
                    Fen(*retained_or_shared),
                    Fen(*entitled),
                    Signed(*retained_or_shared),
                    Fen(*settled)
                ),
                Balance::Overspend => write!(
                    f,
                    "retained_or_shared = fund's share {}; settled = entitled {} {} = {}",
                    Fen(*kept_or_shared),
                    Fen(*entitled),
                    Signed(*retained_or_shared),
                    Fen(*settled)
                ),
                Balance::Even => write!(
                    f,
                    "retained_or_shared = 0.00; settled = entitled = {}",
                    Fen(*settled)
                ),
            },
            ClearingStep::Monthly {
                statements,
                fund_due,
                deposits_withheld,
                paid,
                unpaid,
            } => write!(
                f,
                "monthly settlement (statements: {statements}): fund_due {} = amounts due {} + deposits withheld {}; paid {} (unpaid {})",
                Fen(*fund_due),
                Fen(*fund_due - *deposits_withheld),
                Fen(*deposits_withheld),
                Fen(*paid),
                Fen(*unpaid)
            ),
            ClearingStep::DepositsReleased {
                amount,
                withheld,
                performance_score,
                kept,
            } => match performance_score {
                Some(score) => write!(
                    f,
                    "deposits released (质量保证金返还) by performance = withheld {} × score {score} / 100 = {}; kept by the fund {} − {} = {}",
                    Fen(*withheld),
                    Fen(*amount),
                    Fen(*withheld),
                    Fen(*amount),
                    Fen(*kept)
                ),
                None => write!(
                    f,
                    "deposits released (质量保证金返还) in full = withheld {} (paid in the final amount); kept 0.00",
                    Fen(*amount)
                ),
            },
            ClearingStep::PrepaymentRecovered { amount } => {
                write!(f, "prepayment recovered (预付金收回) = {}", Fen(*amount))
            }
            ClearingStep::Final {
                entitled,
                retained_or_shared,
                paid_monthly,
                prepayment,
                deposits_kept,
                final_amount,
            } => {
                let outcome = if final_amount.is_sign_negative() && !final_amount.is_zero() {
                    format!("the hospital pays back {}", Fen(-*final_amount))
                } else if final_amount.is_zero() {
                    "nothing to pay".to_string()
                } else {
                    format!("the fund pays the hospital {}", Fen(*final_amount))
                };
                let kept = if deposits_kept.is_zero() {
                    String::new()
                } else {
                    format!(" − deposits kept {}", Fen(*deposits_kept))
                };
                write!(
                    f,
                    "final = entitled {} {} − paid monthly {} − prepayment {}{kept} = {}: {outcome}",
                    Fen(*entitled),
                    Signed(*retained_or_shared),
                    Fen(*paid_monthly),
                    Fen(*prepayment),
                    Fen(*final_amount)
                )
            }
            ClearingStep::Reconciliation {
                deposits_released,
                unpaid_monthly,
                year_end_difference,
                settled,
                monthly_fund_due,
                prepayment,
                final_amount,
            } => write!(
                f,
                "check: deposits released {} + unpaid monthly {} + year-end difference (settled {} − monthly fund_due {} = {}) − prepayment {} = {}",
                Fen(*deposits_released),
                Fen(*unpaid_monthly),
                Fen(*settled),
                Fen(*monthly_fund_due),
                Fen(*year_end_difference),
                Fen(*prepayment),
                Fen(*final_amount)
            ),
        }
    }
}

/// A hospital's clearing statement of one year, with every intermediate figure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClearingStatement {
    /// The hospital.
    pub hospital_id: String,
    /// The year cleared.
    pub year: i32,
    /// Cases of the year.
    pub cases: u64,
    /// Cases repriced at the final point value.
    pub repriced_cases: u64,
    /// The final point value used, if any.
    pub point_value: Option<Decimal>,
    /// Σ fund_due at the final values.
    pub entitled: Decimal,
    /// Σ fund_paid (per-item fund cost).
    pub item_fund: Decimal,
    /// Surplus, overspend or even.
    pub balance: Balance,
    /// |entitled − item_fund| / item_fund, exact (`None` when item_fund is 0).
    pub gap_rate: Option<Decimal>,
    /// The surplus arithmetic, for a surplus.
    pub surplus: Option<SurplusSharing>,
    /// The overspend arithmetic, for an overspend.
    pub overspend: Option<OverspendSharing>,
    /// The hospital's performance score (0..100).
    pub performance_score: Decimal,
    /// Whether the score weighted the sharing (`clearing.performance_weight`).
    pub performance_weighted: bool,
    /// The surplus kept after performance (0 unless a surplus).
    pub surplus_kept: Decimal,
    /// The fund's share of the overspend after performance (0 unless an overspend).
    pub overspend_shared: Decimal,
    /// The adjustment to entitled: `surplus_kept − surplus` or `+overspend_shared` (see the
    /// module documentation for the sign).
    pub retained_or_shared: Decimal,
    /// entitled + retained_or_shared: what the year is worth to the hospital.
    pub settled: Decimal,
    /// Number of monthly statements.
    pub monthly_statements: u64,
    /// Σ monthly fund_due_total (provisional).
    pub monthly_fund_due: Decimal,
    /// Σ deposits withheld.
    pub deposits_withheld: Decimal,
    /// Σ amounts actually paid on the monthly statements.
    pub paid_monthly: Decimal,
    /// Σ (fund_due_total − deposit_withheld) − paid_monthly.
    pub unpaid_monthly: Decimal,
    /// The deposits released: deposits_withheld in full, or × performance_score / 100
    /// (`clearing.deposit_release`).
    pub deposits_released: Decimal,
    /// deposits_withheld − deposits_released: kept by the fund (0 when released in full).
    #[serde(default)]
    pub deposits_kept: Decimal,
    /// settled − monthly_fund_due.
    pub year_end_difference: Decimal,
    /// The prepayment recovered.
    pub prepayment_outstanding: Decimal,
    /// entitled + retained_or_shared − paid_monthly − prepayment_outstanding − deposits_kept.
    pub final_amount: Decimal,
    /// The cross-province cases (跨省异地), reported apart: in entitled as settled, outside
    /// the balance.
    #[serde(default)]
    pub cross_province: OutsideTotals,
    /// Every step of the arithmetic.
    pub steps: Vec<ClearingStep>,
}

/// Cases outside the local clearing (跨省异地), summed: count, per-item cost, fund due.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutsideTotals {
    /// Cases.
    pub cases: u64,
    /// Σ total_cost (per-item cost, 按项目费用).
    pub total_cost: Decimal,
    /// Σ fund_due as settled (to the fen).
    pub fund_due: Decimal,
}

impl OutsideTotals {
    /// The sum of two totals (checked; `None` on overflow).
    pub fn checked_add(&self, other: &OutsideTotals) -> Option<OutsideTotals> {
        Some(OutsideTotals {
            cases: self.cases.checked_add(other.cases)?,
            total_cost: self.total_cost.checked_add(other.total_cost)?,
            fund_due: self.fund_due.checked_add(other.fund_due)?,
        })
    }
}

impl ClearingStatement {
    /// The subject of the statement's audit event: `H001/2025`.
    pub fn subject(&self) -> String {
        format!("{}/{}", self.hospital_id, self.year)
    }

    /// The statement as one `key=value` line, for audit events.
    pub fn summary(&self) -> String {
        format!(
            "entitled={} item_fund={} retained_or_shared={} paid_monthly={} deposits_released={} deposits_kept={} prepayment_recovered={} final={}",
            Fen(self.entitled),
            Fen(self.item_fund),
            Fen(self.retained_or_shared),
            Fen(self.paid_monthly),
            Fen(self.deposits_released),
            Fen(self.deposits_kept),
            Fen(self.prepayment_outstanding),
            Fen(self.final_amount)
        )
    }
}

impl fmt::Display for ClearingStatement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "annual clearing (年度清算) {} {}",
            self.hospital_id, self.year
        )?;
        for (i, step) in self.steps.iter().enumerate() {
            write!(f, "\n{:>2}. {step}", i + 1)?;
        }
        Ok(())
    }
}

/// Why a hospital's year cannot be cleared.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ClearingError {
    /// A case of another hospital.
    #[error("hospital {hospital_id}: case {case_id} belongs to hospital {case_hospital_id}")]
    CaseOfOtherHospital {
        /// The hospital being cleared.
        hospital_id: String,
        /// The case.
        case_id: String,
        /// Its hospital.
        case_hospital_id: String,
    },
    /// A case discharged in another year.
    #[error("hospital {hospital_id}: case {case_id} discharged {discharge_month}, expected a month of {year}")]
    CaseOfOtherYear {
        /// The hospital.
        hospital_id: String,
        /// The case.
        case_id: String,
        /// Its discharge month.
        discharge_month: YearMonth,
        /// The year cleared.
        year: i32,
    },
    /// The same case twice.
    #[error("hospital {hospital_id}: case {case_id} appears more than once")]
    DuplicateCase {
        /// The hospital.
        hospital_id: String,
        /// The case.
        case_id: String,
    },
    /// A monthly statement of another year.
    #[error("hospital {hospital_id}: monthly statement {month}, expected a month of {year}")]
    MonthOfOtherYear {
        /// The hospital.
        hospital_id: String,
        /// The statement's month.
        month: YearMonth,
        /// The year cleared.
        year: i32,
    },
    /// Two statements of the same month.
    #[error("hospital {hospital_id}: monthly statement {month} appears more than once")]
    DuplicateMonth {
        /// The hospital.
        hospital_id: String,
        /// The month.
        month: YearMonth,
    },
    /// A negative outstanding prepayment.
    #[error("hospital {hospital_id}: prepayment outstanding {amount}, expected an amount ≥ 0")]
    NegativePrepayment {
        /// The hospital.
        hospital_id: String,
        /// The amount given.
        amount: Decimal,
    },
    /// A performance score outside 0..100.
    #[error("hospital {hospital_id}: performance score {score}, expected 0..100")]
    PerformanceScore {
        /// The hospital.
        hospital_id: String,
        /// The score.
        score: Decimal,
    },
    /// A negative point value.
    #[error("final point value {point_value}: expected a value ≥ 0")]
    NegativePointValue {
        /// The value given.
        point_value: Decimal,
    },
    /// The same hospital twice in one clearing run.
    #[error("hospital {hospital_id} appears more than once in the clearing run")]
    DuplicateHospital {
        /// The hospital.
        hospital_id: String,
    },
    /// A figure of a hospital's clearing leaves the range of a decimal (±7.9 × 10²⁸): the
    /// amounts it was computed from cannot be real.
    #[error("hospital {hospital_id}, year {year}: {what} overflows the decimal range (±7.9e28): the amounts cannot be real")]
    Overflow {
        /// The hospital being cleared.
        hospital_id: String,
        /// The year cleared.
        year: i32,
        /// What overflowed, e.g. `entitled (Σ fund_due)` or `Σ monthly fund_due`.
        what: String,
    },
}

/// Checked arithmetic for one hospital's clearing: every overflow becomes
/// [`ClearingError::Overflow`] naming the hospital, the year and the figure.
#[derive(Clone, Copy)]
struct Checked<'a> {
    hospital_id: &'a str,
    year: i32,
}

impl Checked<'_> {
    fn overflow(&self, what: &str) -> ClearingError {
        ClearingError::Overflow {
            hospital_id: self.hospital_id.to_string(),
            year: self.year,
            what: what.to_string(),
        }
    }

    fn add(&self, a: Decimal, b: Decimal, what: &str) -> Result<Decimal, ClearingError> {
        a.checked_add(b).ok_or_else(|| self.overflow(what))
    }

    fn sub(&self, a: Decimal, b: Decimal, what: &str) -> Result<Decimal, ClearingError> {
        a.checked_sub(b).ok_or_else(|| self.overflow(what))
    }

    fn mul(&self, a: Decimal, b: Decimal, what: &str) -> Result<Decimal, ClearingError> {
        a.checked_mul(b).ok_or_else(|| self.overflow(what))
    }

    fn sum(
        &self,
        amounts: impl IntoIterator<Item = Decimal>,
        what: &str,
    ) -> Result<Decimal, ClearingError> {
        amounts
            .into_iter()
            .try_fold(Decimal::ZERO, |sum, x| self.add(sum, x, what))
    }
}

/// Checks one hospital's input for `year`.
fn check_input(year: i32, input: &ClearingInput) -> Result<(), ClearingError> {
    let hospital_id = &input.hospital.hospital_id;
    let mut seen = BTreeSet::new();
    let mut cases: Vec<&SettledCase> = input.cases.iter().collect();
    cases.sort_by(|a, b| a.case_id.cmp(&b.case_id));
    for case in cases {
        if &case.hospital_id != hospital_id {
            return Err(ClearingError::CaseOfOtherHospital {
                hospital_id: hospital_id.clone(),
                case_id: case.case_id.clone(),
                case_hospital_id: case.hospital_id.clone(),
            });
        }
        if case.discharge_month.year() != year {
            return Err(ClearingError::CaseOfOtherYear {
                hospital_id: hospital_id.clone(),
                case_id: case.case_id.clone(),
                discharge_month: case.discharge_month,
                year,
            });
        }
        if !seen.insert(case.case_id.as_str()) {
            return Err(ClearingError::DuplicateCase {
                hospital_id: hospital_id.clone(),
                case_id: case.case_id.clone(),
            });
        }
    }
    let mut months: Vec<YearMonth> = input.monthly.iter().map(|m| m.month).collect();
    months.sort();
    for pair in months.windows(2) {
        if pair[0] == pair[1] {
            return Err(ClearingError::DuplicateMonth {
                hospital_id: hospital_id.clone(),
                month: pair[0],
            });
        }
    }
    if let Some(month) = months.iter().find(|m| m.year() != year) {
        return Err(ClearingError::MonthOfOtherYear {
            hospital_id: hospital_id.clone(),
            month: *month,
            year,
        });
    }
    if input.prepayment_outstanding.is_sign_negative() && !input.prepayment_outstanding.is_zero() {
        return Err(ClearingError::NegativePrepayment {
            hospital_id: hospital_id.clone(),
            amount: input.prepayment_outstanding,
        });
    }
    let score = input.hospital.performance_score;
    if score < Decimal::ZERO || score > Decimal::ONE_HUNDRED {
        return Err(ClearingError::PerformanceScore {
            hospital_id: hospital_id.clone(),
            score,
        });
    }
    Ok(())
}

/// The overspend shared band by band (see the module documentation).
fn share_overspend(
    gap: Decimal,
    item_fund: Decimal,
    params: &Params,
    c: Checked<'_>,
) -> Result<OverspendSharing, ClearingError> {
    let mut bands = Vec::with_capacity(params.clearing.overspend_bands.len());
    let mut from_rate = Decimal::ZERO;
    let mut from_amount = Decimal::ZERO;
    for (i, band) in params.clearing.overspend_bands.iter().enumerate() {
        let to_amount = match band.upper {
            Some(upper) => Some(round_fen(c.mul(
                upper,
                item_fund,
                &format!("overspend band {} bound × item_fund", i + 1),
            )?)),
            None => None,
        };
        let top = to_amount.map_or(gap, |to| gap.min(to));
        let slice = c
            .sub(top, from_amount, &format!("overspend band {} slice", i + 1))?
            .max(Decimal::ZERO);
        let fund_amount = round_fen(c.mul(
            slice,
            band.value,
            &format!("overspend band {} fund share", i + 1),
        )?);
        bands.push(BandShare {
            band: i + 1,
            from_rate,
            to_rate: band.upper,
            from_amount,
            to_amount,
            slice,
            fund_share: band.value,
            fund_amount,
        });
        if let (Some(rate), Some(amount)) = (band.upper, to_amount) {
            from_rate = rate;
            from_amount = from_amount.max(amount);
        }
    }
    let shared_before_performance = c.sum(
        bands.iter().map(|b| b.fund_amount),
        "Σ overspend band shares",
    )?;
    Ok(OverspendSharing {
        gap,
        bands,
        shared_before_performance,
    })
}

/// Clears one hospital's `year` (see the module documentation for every rule).
pub fn clear_hospital(
    year: i32,
    input: &ClearingInput,
    params: &Params,
    pricing: FinalPricing,
) -> Result<ClearingStatement, ClearingError> {
    check_input(year, input)?;
    let point_value = match pricing {
        FinalPricing::AsGiven => None,
        FinalPricing::DipPointValue(pv) if pv.is_sign_negative() && !pv.is_zero() => {
            return Err(ClearingError::NegativePointValue { point_value: pv })
        }
        FinalPricing::DipPointValue(pv) => Some(pv),
    };
    let c = Checked {
        hospital_id: &input.hospital.hospital_id,
        year,
    };
    let mut steps = Vec::new();

    // 1. entitled and item_fund, from the published case lines; the DIP cases repriced at
    // the final point value are summed exact and the sum rounded once (the year's value spends
    // the budget exactly: rounding each repriced case first would drift by up to half a fen a
    // case).
    let mut entitled = Decimal::ZERO;
    let mut repriced_exact = Decimal::ZERO;
    let mut item_fund = Decimal::ZERO;
    let mut repriced = 0u64;
    // 跨省异地: settled per item apart, outside the balance (§6); kept as settled
    let (mut outside, mut outside_cases) = (Decimal::ZERO, 0u64);
    let mut outside_cost = Decimal::ZERO;
    for case in &input.cases {
        if !case.in_local_pool() {
            let due = round_fen(case.fund_due);
            outside = c.add(outside, due, "Σ fund_due of the cross-province cases")?;
            outside_cost = c.add(
                outside_cost,
                round_fen(case.total_cost),
                "Σ total_cost of the cross-province cases",
            )?;
            entitled = c.add(entitled, due, "entitled (Σ fund_due)")?;
            outside_cases += 1;
            continue;
        }
        match (point_value, case.dip_score) {
            (Some(pv), Some(score)) => {
                repriced += 1;
                let fund_due = drgdip_dip::checked_dip_payment(score, pv, case.own)
                    .ok_or_else(|| {
                        c.overflow(&format!(
                            "case {}: score × final point value − own",
                            case.case_id
                        ))
                    })?
                    .1;
                repriced_exact = c.add(repriced_exact, fund_due, "entitled (Σ fund_due)")?;
            }
            _ => {
                entitled = c.add(entitled, round_fen(case.fund_due), "entitled (Σ fund_due)")?;
            }
        }
        item_fund = c.add(
            item_fund,
            round_fen(case.fund_paid),
            "item_fund (Σ fund_paid)",
        )?;
    }
    entitled = c.add(entitled, round_fen(repriced_exact), "entitled (Σ fund_due)")?;
    let cases = input.cases.len() as u64;
    steps.push(ClearingStep::Entitled {
        cases,
        repriced,
        point_value,
        entitled,
    });
    if outside_cases > 0 {
        steps.push(ClearingStep::OutsidePool {
            cases: outside_cases,
            fund_due: outside,
            total_cost: outside_cost,
        });
    }
    steps.push(ClearingStep::ItemFund {
        cases: cases - outside_cases,
        item_fund,
    });

    // 2.–4. surplus kept or overspend shared, weighted by performance, over the local and
    // in-province cases.
    let pool_entitled = c.sub(entitled, outside, "entitled of the pool")?;
    let balance = match pool_entitled.cmp(&item_fund) {
        std::cmp::Ordering::Greater => Balance::Surplus,
        std::cmp::Ordering::Less => Balance::Overspend,
        std::cmp::Ordering::Equal => Balance::Even,
    };
    let gap = c
        .sub(pool_entitled, item_fund, "entitled − item_fund")?
        .abs();
    // gap / item_fund for the display: beyond the decimal range only with an absurd item_fund
    // (a rate of 10²⁶ and more), shown then as no rate.
    let gap_rate = if item_fund.is_zero() {
        None
    } else {
        gap.checked_div(item_fund)
    };
    steps.push(ClearingStep::Balance {
        entitled: pool_entitled,
        item_fund,
        balance,
        gap,
        rate: gap_rate,
    });
    let score = input.hospital.performance_score;
    let weighted = params.clearing.performance_weight;
    // score ≤ 100 (checked above): the weighted amount is never larger than the amount.
    let weigh = |amount: Decimal| -> Result<Decimal, ClearingError> {
        if weighted {
            let weighted =
                c.mul(amount, score, "performance-weighted amount")? / Decimal::ONE_HUNDRED;
            Ok(round_fen(weighted))
        } else {
            Ok(amount)
        }
    };
    let mut surplus = None;
    let mut overspend = None;
    let (mut surplus_kept, mut overspend_shared) = (Decimal::ZERO, Decimal::ZERO);
    let retained_or_shared = match balance {
        Balance::Surplus => {
            let p = &params.clearing;
            let share_amount = round_fen(c.mul(
                p.surplus_retained_share,
                gap,
                "surplus retained share × surplus",
            )?);
            let cap = round_fen(c.mul(
                p.surplus_cap_rate,
                item_fund,
                "surplus cap rate × item_fund",
            )?);
            let sharing = SurplusSharing {
                surplus: gap,
                retained_share: p.surplus_retained_share,
                share_amount,
                cap_rate: p.surplus_cap_rate,
                cap,
                kept_before_performance: share_amount.min(cap),
            };
            surplus_kept = weigh(sharing.kept_before_performance)?;
            steps.push(ClearingStep::SurplusKept(sharing.clone()));
            steps.push(ClearingStep::Performance {
                balance,
                before: sharing.kept_before_performance,
                weighted,
                score,
                after: surplus_kept,
            });
            surplus = Some(sharing);
            c.sub(surplus_kept, gap, "surplus kept − surplus")?
        }
        Balance::Overspend => {
            let sharing = share_overspend(gap, item_fund, params, c)?;
            overspend_shared = weigh(sharing.shared_before_performance)?;
            steps.extend(
                sharing
                    .bands
                    .iter()
                    .cloned()
                    .map(ClearingStep::OverspendBand),
            );
            steps.push(ClearingStep::OverspendShared {
                gap,
                shared: sharing.shared_before_performance,
            });
            steps.push(ClearingStep::Performance {
                balance,
                before: sharing.shared_before_performance,
                weighted,
                score,
                after: overspend_shared,
            });
            overspend = Some(sharing);
            overspend_shared
        }
        Balance::Even => Decimal::ZERO,
    };
    let settled = c.add(
        entitled,
        retained_or_shared,
        "settled (entitled + retained_or_shared)",
    )?;
    steps.push(ClearingStep::Settled {
        balance,
        entitled,
        surplus: if balance == Balance::Surplus {
            gap
        } else {
            Decimal::ZERO
        },
        // one of the two is zero
        kept_or_shared: c.add(surplus_kept, overspend_shared, "kept or shared")?,
        retained_or_shared,
        settled,
    });

    // 5. monthly payments, deposits, prepayment, final.
    let monthly = &input.monthly;
    let monthly_fund_due = c.sum(
        monthly.iter().map(|m| m.fund_due_total),
        "Σ monthly fund_due",
    )?;
    let deposits_withheld = c.sum(
        monthly.iter().map(|m| m.deposit_withheld),
        "Σ deposits withheld",
    )?;
    let paid_monthly = c.sum(monthly.iter().map(|m| m.amount_paid), "Σ paid monthly")?;
    let what = "unpaid monthly (Σ fund_due − Σ deposits − Σ paid)";
    let unpaid_monthly = c.sub(
        c.sub(monthly_fund_due, deposits_withheld, what)?,
        paid_monthly,
        what,
    )?;
    // 质量保证金返还: in full, or by the performance score (score ≤ 100: released ≤ withheld)
    let (deposits_released, deposit_score) = match params.clearing.deposit_release {
        DepositRelease::Full => (deposits_withheld, None),
        DepositRelease::Performance => (
            round_fen(
                c.mul(
                    deposits_withheld,
                    score,
                    "deposits withheld × performance score",
                )? / Decimal::ONE_HUNDRED,
            ),
            Some(score),
        ),
    };
    let deposits_kept = c.sub(
        deposits_withheld,
        deposits_released,
        "deposits kept (withheld − released)",
    )?;
    let prepayment = input.prepayment_outstanding;
    let what = "final amount (settled − paid monthly − prepayment − deposits kept)";
    let final_amount = c.sub(
        c.sub(c.sub(settled, paid_monthly, what)?, prepayment, what)?,
        deposits_kept,
        what,
    )?;
    let year_end_difference = c.sub(
        settled,
        monthly_fund_due,
        "year-end difference (settled − Σ monthly fund_due)",
    )?;
    steps.push(ClearingStep::Monthly {
        statements: input.monthly.len() as u64,
        fund_due: monthly_fund_due,
        deposits_withheld,
        paid: paid_monthly,
        unpaid: unpaid_monthly,
    });
    steps.push(ClearingStep::DepositsReleased {
        amount: deposits_released,
        withheld: deposits_withheld,
        performance_score: deposit_score,
        kept: deposits_kept,
    });
    steps.push(ClearingStep::PrepaymentRecovered { amount: prepayment });
    steps.push(ClearingStep::Final {
        entitled,
        retained_or_shared,
        paid_monthly,
        prepayment,
        deposits_kept,
        final_amount,
    });
    steps.push(ClearingStep::Reconciliation {
        deposits_released,
        unpaid_monthly,
        year_end_difference,
        settled,
        monthly_fund_due,
        prepayment,
        final_amount,
    });

    Ok(ClearingStatement {
        hospital_id: input.hospital.hospital_id.clone(),
        year,
        cases,
        repriced_cases: repriced,
        point_value,
        entitled,
        item_fund,
        balance,
        gap_rate,
        surplus,
        overspend,
        performance_score: score,
        performance_weighted: weighted,
        surplus_kept,
        overspend_shared,
        retained_or_shared,
        settled,
        monthly_statements: input.monthly.len() as u64,
        monthly_fund_due,
        deposits_withheld,
        paid_monthly,
        unpaid_monthly,
        deposits_released,
        deposits_kept,
        year_end_difference,
        prepayment_outstanding: prepayment,
        final_amount,
        cross_province: OutsideTotals {
            cases: outside_cases,
            total_cost: outside_cost,
            fund_due: outside,
        },
        steps,
    })
}

/// Clears `year` for every hospital of `inputs`: statements sorted by hospital id, each with
/// its audit event ([`Action::ClearingStatementIssued`]). A hospital may appear once.
pub fn clear_year(
    year: i32,
    inputs: &[ClearingInput],
    params: &Params,
    pricing: FinalPricing,
    actor: &Actor,
) -> Result<Audited<Vec<ClearingStatement>>, ClearingError> {
    let mut sorted: Vec<&ClearingInput> = inputs.iter().collect();
    sorted.sort_by(|a, b| a.hospital.hospital_id.cmp(&b.hospital.hospital_id));
    for pair in sorted.windows(2) {
        if pair[0].hospital.hospital_id == pair[1].hospital.hospital_id {
            return Err(ClearingError::DuplicateHospital {
                hospital_id: pair[0].hospital.hospital_id.clone(),
            });
        }
    }
    let mut statements = Vec::with_capacity(sorted.len());
    let mut events = Vec::with_capacity(sorted.len());
    for input in sorted {
        let statement = clear_hospital(year, input, params, pricing)?;
        events.push(
            AuditEvent::new(
                actor,
                Action::ClearingStatementIssued,
                statement.subject(),
                format!("annual clearing (年度清算) of {year}"),
            )
            .after(statement.summary()),
        );
        statements.push(statement);
    }
    Ok(Audited {
        value: statements,
        events,
    })
}

#[cfg(test)]
mod tests;
