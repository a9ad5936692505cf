//! 除外机制 in DIP: the province's approved catalogue (`payment-model.md` §2 rule 4, read
//! and checked by `drgdip-pay`) applied to a case's DIP score as extra points.
//!
//! The same items apply as in DRG payment (code listed, discharge date in `[valid_from,
//! valid_to]`, the case's ADRG — from the DRG grouping that gives its severity — in scope),
//! and the same item decides (the first applicable `per_item` item, else the first
//! applicable item). A DIP case is paid `case score × point value`, so each form becomes
//! points, and money becomes points at the **point basis** `b` (CNY per point; see
//! [`point_basis`]):
//! - `per_item` (按项目): the case scores its whole cost, `total_cost / b`;
//! - `item_cost` (除外支付): the rest of the cost, `total_cost − item cost`, is scored as an
//!   ordinary case (deviation checked on the rest, × the level coefficient), plus
//!   `item cost / b` points;
//! - `weight_bonus` (分值加成): the ordinary score plus `bonus × group score × level
//!   coefficient` (the DRG form adds `bonus × standard`, the standard being the group's
//!   weight at the hospital's coefficient).
//!
//! `case score = max(ordinary score, exclusion score)`, each half-up to 4 decimals: at the same
//! point value the case is never paid less than without the exclusion. The points are part of
//! Σ scores like any other, so the budget point value still spends the budget exactly: the
//! exclusion is shared by the region's DIP cases, not paid on top of the budget. Item points
//! and per-item points do not take the level coefficient (an item costs what it costs, as in
//! DRG payment, where the item cost and the per-item payment do not either).

use std::fmt;

use drgdip_pay::exclusion::{CatalogueItem, ExclusionForm, ItemChecks, ItemFailure};
use rust_decimal::Decimal;
use serde::{Serialize, Serializer};

use crate::case::DipCase;
use crate::library::Library;
use crate::params::{DipParams, PointValueSource};
use crate::round::{fmt4, fmt_money, round4};
use crate::score::{deviation_score, DipScore, ScoreReason};

/// The point basis: CNY per point used to turn an item's money into points. The region's
/// fixed point value when it sets one (then a per-item case is paid exactly its cost), else
/// the library's `mean_all / score_scale` (what one point cost in the history the scores came
/// from). `None` when neither gives a positive value.
pub fn point_basis(library: &Library, params: &DipParams) -> Option<Decimal> {
    match params.point_value {
        PointValueSource::Fixed(v) if v > Decimal::ZERO => Some(v),
        _ => {
            let s = library.summary();
            s.mean_all
                .checked_div(s.score_scale)
                .filter(|b| *b > Decimal::ZERO)
        }
    }
}

/// What scoring needs to apply the catalogue to one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExclusionInput {
    /// The catalogue's check of every item the case names, in the case's order.
    pub checks: ItemChecks,
    /// CNY per point ([`point_basis`]); `None`: no basis, money cannot become points.
    pub basis: Option<Decimal>,
}

fn form_str<S: Serializer>(form: &ExclusionForm, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(form.as_str())
}

/// The item that decided a case's exclusion, with both scores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DipExclusion {
    /// The item's code.
    pub item: String,
    /// Its form.
    #[serde(serialize_with = "form_str")]
    pub form: ExclusionForm,
    /// The score without the exclusion.
    pub ordinary_score: Decimal,
    /// The score by the item's form.
    pub exclusion_score: Decimal,
}

impl DipExclusion {
    /// Whether the exclusion score was the larger.
    pub fn exclusion_larger(&self) -> bool {
        self.exclusion_score > self.ordinary_score
    }
}

/// One step of the exclusion in a DIP score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "step")]
pub enum ExclusionReason {
    /// A named item does not apply.
    ItemFails {
        /// The code named.
        code: String,
        /// Why (`unlisted`, `expired`, …, as a sentence).
        why: String,
    },
    /// No named item applies: the ordinary score stands.
    NoApplicableItem,
    /// The item that decides.
    ItemApplies {
        /// Its code.
        code: String,
        /// Its form.
        form: String,
        /// `valid_from to valid_to`.
        validity: String,
        /// Its ADRGs, or `every group`.
        scope: String,
        /// The item's cost as the case gives it.
        cost: Decimal,
    },
    /// Another applicable item, which does not decide.
    ItemNotDeciding {
        /// Its code.
        code: String,
        /// The deciding item's code.
        decisive: String,
    },
    /// `per_item`: the whole cost in points.
    PerItem {
        /// The case's cost.
        total_cost: Decimal,
        /// CNY per point.
        basis: Decimal,
        /// The exclusion score.
        score: Decimal,
    },
    /// `item_cost`: the rest scored as an ordinary case plus the item's points.
    ItemCost {
        /// total_cost − item cost.
        remaining: Decimal,
        /// The deviation class of the rest (`normal`, `high`, `low`).
        deviation: String,
        /// The rest's score, × the level coefficient.
        rest_score: Decimal,
        /// The item cost.
        item_cost: Decimal,
        /// CNY per point.
        basis: Decimal,
        /// The exclusion score.
        score: Decimal,
    },
    /// `weight_bonus`: the ordinary score plus bonus × group score × level coefficient.
    WeightBonus {
        /// The ordinary score.
        ordinary: Decimal,
        /// The bonus share.
        bonus: Decimal,
        /// The group score.
        base_score: Decimal,
        /// The level coefficient.
        level_coefficient: Decimal,
        /// The exclusion score.
        score: Decimal,
    },
    /// No point basis: the item's money cannot become points; the ordinary score stands.
    NoPointBasis,
    /// `case score = max(ordinary, exclusion)`.
    Compared {
        /// The ordinary score.
        ordinary: Decimal,
        /// The exclusion score.
        exclusion: Decimal,
    },
}

impl fmt::Display for ExclusionReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExclusionReason::ItemFails { code, why } => {
                write!(f, "exclusion item {code} does not apply: {why}")
            }
            ExclusionReason::NoApplicableItem => {
                f.write_str("no named exclusion item applies: the ordinary score stands")
            }
            ExclusionReason::ItemApplies {
                code,
                form,
                validity,
                scope,
                cost,
            } => write!(
                f,
                "exclusion item {code} (form {form}; valid {validity}; scope {scope}) applies: item cost {}",
                fmt_money(*cost)
            ),
            ExclusionReason::ItemNotDeciding { code, decisive } => write!(
                f,
                "exclusion item {code} also applies but does not decide: {decisive} does"
            ),
            ExclusionReason::PerItem {
                total_cost,
                basis,
                score,
            } => write!(
                f,
                "exclusion per_item (按项目): {} / point basis {} = {} points",
                fmt_money(*total_cost),
                fmt_point(*basis),
                fmt4(*score)
            ),
            ExclusionReason::ItemCost {
                remaining,
                deviation,
                rest_score,
                item_cost,
                basis,
                score,
            } => write!(
                f,
                "exclusion item_cost (除外支付): the rest {} scores {} ({deviation}) + item {} / point basis {} = {} points",
                fmt_money(*remaining),
                fmt4(*rest_score),
                fmt_money(*item_cost),
                fmt_point(*basis),
                fmt4(*score)
            ),
            ExclusionReason::WeightBonus {
                ordinary,
                bonus,
                base_score,
                level_coefficient,
                score,
            } => write!(
                f,
                "exclusion weight_bonus (分值加成): {} + {bonus} × {} × {level_coefficient} = {} points",
                fmt4(*ordinary),
                fmt4(*base_score),
                fmt4(*score)
            ),
            ExclusionReason::NoPointBasis => f.write_str(
                "exclusion: no point basis to turn the item's money into points; the ordinary score stands",
            ),
            ExclusionReason::Compared {
                ordinary,
                exclusion,
            } => {
                let larger = if exclusion > ordinary {
                    "the exclusion score is larger"
                } else {
                    "the ordinary score is not smaller"
                };
                write!(
                    f,
                    "excluded: case score = max(ordinary {}, exclusion {}) = {}, {larger}",
                    fmt4(*ordinary),
                    fmt4(*exclusion),
                    fmt4((*ordinary).max(*exclusion))
                )
            }
        }
    }
}

/// A point basis with 6 decimals, as point values are shown.
fn fmt_point(basis: Decimal) -> String {
    format!("{:.6}", basis)
}

fn failure(code: &str, why: &ItemFailure) -> ScoreReason {
    ScoreReason::Exclusion(ExclusionReason::ItemFails {
        code: code.to_string(),
        why: why.to_string(),
    })
}

/// Applies the catalogue's decision to an ordinary score (see the module documentation).
pub(crate) fn apply(
    mut score: DipScore,
    params: &DipParams,
    case: &DipCase,
    input: &ExclusionInput,
) -> DipScore {
    let checks = &input.checks;
    for c in &checks.0 {
        if let Err(why) = &c.outcome {
            score.reasons.push(failure(&c.code, why));
        }
    }
    let Some(index) = checks.decisive() else {
        if !checks.is_empty() {
            score
                .reasons
                .push(ScoreReason::Exclusion(ExclusionReason::NoApplicableItem));
        }
        return score;
    };
    let check = &checks.0[index];
    let Ok(item) = &check.outcome else {
        return score;
    };
    for (i, other) in checks.0.iter().enumerate() {
        if i != index && other.outcome.is_ok() {
            score
                .reasons
                .push(ScoreReason::Exclusion(ExclusionReason::ItemNotDeciding {
                    code: other.code.clone(),
                    decisive: item.code.clone(),
                }));
        }
    }
    score
        .reasons
        .push(ScoreReason::Exclusion(applies(item, check.cost)));
    let ordinary = score.case_score;
    let exclusion = match exclusion_score(&score, params, case, item, check.cost, input.basis) {
        Some((value, reason)) => {
            score.reasons.push(ScoreReason::Exclusion(reason));
            value
        }
        None => {
            score
                .reasons
                .push(ScoreReason::Exclusion(ExclusionReason::NoPointBasis));
            ordinary
        }
    };
    score
        .reasons
        .push(ScoreReason::Exclusion(ExclusionReason::Compared {
            ordinary,
            exclusion,
        }));
    score.case_score = ordinary.max(exclusion);
    score.exclusion = Some(DipExclusion {
        item: item.code.clone(),
        form: item.form,
        ordinary_score: ordinary,
        exclusion_score: exclusion,
    });
    score
}

fn applies(item: &CatalogueItem, cost: Decimal) -> ExclusionReason {
    ExclusionReason::ItemApplies {
        code: item.code.clone(),
        form: item.form.as_str().to_string(),
        validity: format!("{} to {}", item.valid_from, item.valid_to),
        scope: item.scope_text(),
        cost,
    }
}

/// The score by the item's form, with its reason; `None` when money must become points and
/// there is no basis.
fn exclusion_score(
    score: &DipScore,
    params: &DipParams,
    case: &DipCase,
    item: &CatalogueItem,
    cost: Decimal,
    basis: Option<Decimal>,
) -> Option<(Decimal, ExclusionReason)> {
    let total = case.total_cost;
    match item.form {
        ExclusionForm::PerItem => {
            let basis = basis?;
            let value = round4(total.checked_div(basis)?).max(Decimal::ZERO);
            Some((
                value,
                ExclusionReason::PerItem {
                    total_cost: total,
                    basis,
                    score: value,
                },
            ))
        }
        ExclusionForm::ItemCost => {
            let basis = basis?;
            // An item cannot cost more than the whole case.
            let item_cost = cost.clamp(Decimal::ZERO, total.max(Decimal::ZERO));
            let remaining = total - item_cost;
            let (deviation, rest) = deviation_score(
                params,
                score.base_score,
                score.aux_coefficient,
                score.reference_cost,
                remaining,
            );
            let rest_score = round4(rest * score.level_coefficient).max(Decimal::ZERO);
            let value = round4(rest_score + item_cost.checked_div(basis)?);
            Some((
                value,
                ExclusionReason::ItemCost {
                    remaining,
                    deviation: deviation.as_str().to_string(),
                    rest_score,
                    item_cost,
                    basis,
                    score: value,
                },
            ))
        }
        ExclusionForm::WeightBonus => {
            let bonus = item.bonus.unwrap_or_default();
            let value =
                round4(score.case_score + bonus * score.base_score * score.level_coefficient);
            Some((
                value,
                ExclusionReason::WeightBonus {
                    ordinary: score.case_score,
                    bonus,
                    base_score: score.base_score,
                    level_coefficient: score.level_coefficient,
                    score: value,
                },
            ))
        }
    }
}

#[cfg(test)]
mod tests;
