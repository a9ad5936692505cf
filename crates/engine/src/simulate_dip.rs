//! Simulation of a DIP proposal (方案测算 for a DIP region, `payment-model.md` §9 over §3–§4):
//! the same cases scored under a baseline DIP region and under a proposal (another parameter
//! file, another disease library, or both), each side paid at its own point value, per
//! hospital and per DIP group, in the shapes of the DRG simulation ([`Simulation`]:
//! `hospitals.csv`, `groups.csv`, the page).
//!
//! Choices (documented in `docs/simulation.md`):
//! - the case file is read and validated once; each valid record is scored under each side
//!   ([`score_record`]: its DRG grouping for the severity, its library, its parameters, the
//!   exclusion catalogue as extra points);
//! - each side's point value is its parameters': a fixed `dip.point_value` is honoured as it
//!   is; `"budget"` is solved over the side's local and in-province cases so that Σ fund due
//!   is the side's DIP budget (`drgdip_dip::year_point_value`, as `drgdip dip score` does);
//! - a case is paid as `drgdip dip score` pays it: `payment = case score × pv` and
//!   `fund_due = max(0, payment − own)`, each to the fen; cross-province cases per item
//!   (outside the point value); an approved special case (特例单议, `--special`) per item or
//!   with its extra points, as a settlement pays it (the point value is solved over the
//!   ordinary scores, as `drgdip settle` does);
//! - the group key is the pair (baseline DIP group, proposal DIP group), `-` for a case
//!   scored by no group (the average-case fallback), so that the rows add up to the totals;
//! - budget-neutral (预算中性): the proposal's point value is solved so that Σ fund due of the
//!   proposal equals the baseline's: the exact solver of §4 with the budget `B` = the
//!   baseline's Σ fund due less the proposal's fund due outside the point value
//!   (cross-province, special cases per item), then, the published amounts being rounded to
//!   the fen case by case, the point value is moved by steps of 0.000001 (its last decimal)
//!   while that brings Σ fund due closer to the target (at most [`NEUTRAL_MAX_STEPS`]). A
//!   proposal with a fixed point value is refused (the fixed value would be overridden);
//! - the floor and ceiling per hospital are those of the DRG simulation
//!   (`simulate::apply_bounds`);
//! - no CMI: a DIP case has a score, not a DRG weight (the CMI columns stay empty).

use std::io::{Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use drgdip_dip::{
    dip_payment, point_value, year_point_value, PointValueComputation, PointValueError,
    PointValueSource,
};
use drgdip_io::{run_batch_with, BatchOptions, RowOutcome};
use drgdip_pay::money::round_fen;
use drgdip_pay::SpecialApproval;
use rust_decimal::Decimal;
use rustc_hash::FxHashMap;

use crate::batch::Shards;
use crate::dip::{score_record, DipRegion, DipRow, DipScored};
use crate::error::{EngineError, Result};
use crate::pricing::SpecialCases;
use crate::simulate::{
    apply_bounds, GroupImpact, HospitalImpact, SimOptions, Simulation, Sums, NEUTRAL_TOLERANCE,
};

/// At most this many steps of 0.000001 after the exact solution (budget-neutral).
pub const NEUTRAL_MAX_STEPS: u32 = 200;

/// One side of a case: what its payment at a point value needs.
#[derive(Debug, Clone, Copy)]
struct Side {
    /// The score the point value multiplies (with approved extra points); `None`: paid per
    /// item (cross-province, or a special case approved per item).
    score: Option<Decimal>,
    /// The ordinary score, for the point value's equation; `None`: outside the point value.
    pool_score: Option<Decimal>,
}

#[derive(Debug, Clone)]
struct DipSimCase {
    line: u64,
    hospital: u32,
    group: u32,
    total_cost: Decimal,
    own: Decimal,
    baseline: Side,
    proposal: Side,
}

/// A side's payment of a case at `pv`, as published: (payment, fund due), each to the fen.
fn pay(c: &DipSimCase, side: &Side, pv: Decimal) -> (Decimal, Decimal) {
    let own = round_fen(c.own);
    let payment = match side.score {
        Some(score) => round_fen(dip_payment(score, pv, c.own).0),
        None => round_fen(c.total_cost),
    };
    (payment, (payment - own).max(Decimal::ZERO))
}

fn side_of(s: &DipScored, special: Option<SpecialApproval>) -> Side {
    if !s.in_pool() {
        return Side {
            score: None,
            pool_score: None,
        };
    }
    let score = s.score.case_score;
    match special {
        Some(SpecialApproval::PerItem) => Side {
            score: None,
            pool_score: Some(score),
        },
        Some(SpecialApproval::ExtraPoints(points)) => Side {
            score: Some(score + points),
            pool_score: Some(score),
        },
        None => Side {
            score: Some(score),
            pool_score: Some(score),
        },
    }
}

/// A scored case before the numbering: its hospital, its group key, the case.
type Keyed = (String, (String, String), DipSimCase);

/// The cases of a DIP simulation, read once and scored under both sides.
struct DipCaseSet {
    cases: Vec<DipSimCase>,
    hospitals: Vec<String>,
    groups: Vec<(String, String)>,
    stats: drgdip_io::BatchStats,
    invalid: u64,
}

fn group_label(s: &DipScored) -> String {
    s.score.group_id.clone().unwrap_or_else(|| "-".to_string())
}

fn load_dip_cases<R: Read + Send>(
    baseline: &DipRegion,
    proposal: &DipRegion,
    special: &SpecialCases,
    input: R,
    options: BatchOptions,
    errors: Option<&mut dyn Write>,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<DipCaseSet> {
    let (sa, sb) = (baseline.scorer(), proposal.scorer());
    let shards: Shards<Vec<Keyed>> = Shards::new();
    let invalid = AtomicU64::new(0);
    let mut options = options;
    options.read.purpose = drgdip_io::Purpose::DipScore;
    options.read.limits.max_case_cost = baseline.params.limits.max_case_cost;
    let stats = run_batch_with(
        input,
        &options,
        b"",
        &mut std::io::sink(),
        errors,
        |cols, row, _buf, probs| {
            let r = match row.read(cols, &baseline.scheme.catalog) {
                RowOutcome::Invalid { problems, .. } => {
                    probs.extend(problems);
                    invalid.fetch_add(1, Ordering::Relaxed);
                    return 1;
                }
                RowOutcome::Valid(r) => r,
            };
            let (a, b) = match (score_record(&sa, &r), score_record(&sb, &r)) {
                (DipRow::Scored(a), DipRow::Scored(b)) => (a, b),
                (DipRow::Invalid { problems, .. }, _) | (_, DipRow::Invalid { problems, .. }) => {
                    probs.extend(problems);
                    invalid.fetch_add(1, Ordering::Relaxed);
                    return 1;
                }
            };
            let approval = special.get(&a.hospital_id, &a.case_id);
            let case = DipSimCase {
                line: a.line,
                hospital: 0,
                group: 0,
                total_cost: a.total_cost,
                own: a.own(),
                baseline: side_of(&a, approval),
                proposal: side_of(&b, approval),
            };
            let key = (group_label(&a), group_label(&b));
            shards.with(|v| v.push((a.hospital_id.clone(), key, case)));
            0
        },
        progress,
    )?;
    let mut rows: Vec<Keyed> = shards.into_vec().into_iter().flatten().collect();
    rows.sort_unstable_by_key(|(_, _, c)| c.line);
    let mut hospitals: Vec<String> = rows.iter().map(|(h, _, _)| h.clone()).collect();
    hospitals.sort_unstable();
    hospitals.dedup();
    let mut groups: Vec<(String, String)> = rows.iter().map(|(_, g, _)| g.clone()).collect();
    groups.sort_unstable();
    groups.dedup();
    let h_index: FxHashMap<&str, u32> = hospitals
        .iter()
        .enumerate()
        .map(|(i, h)| (h.as_str(), i as u32))
        .collect();
    let g_index: FxHashMap<&(String, String), u32> = groups
        .iter()
        .enumerate()
        .map(|(i, g)| (g, i as u32))
        .collect();
    let cases = rows
        .iter()
        .map(|(h, g, c)| DipSimCase {
            hospital: h_index[h.as_str()],
            group: g_index[g],
            ..c.clone()
        })
        .collect();
    Ok(DipCaseSet {
        cases,
        hospitals: hospitals.clone(),
        groups: groups.clone(),
        stats,
        invalid: invalid.load(Ordering::Relaxed),
    })
}

/// (score, own) of a side's cases in the point value.
fn pool(set: &DipCaseSet, proposal: bool) -> Vec<(Decimal, Decimal)> {
    set.cases
        .iter()
        .filter_map(|c| {
            let side = if proposal { &c.proposal } else { &c.baseline };
            side.pool_score.map(|s| (s, c.own))
        })
        .collect()
}

fn overflow() -> EngineError {
    EngineError::Refused(
        "the DIP simulation's totals overflowed (amounts beyond what can be added)".to_string(),
    )
}

fn add(a: &mut Sums, payment: Decimal, fund_due: Decimal) -> Result<()> {
    a.cases += 1;
    a.payment = a.payment.checked_add(payment).ok_or_else(overflow)?;
    a.fund_due = a.fund_due.checked_add(fund_due).ok_or_else(overflow)?;
    Ok(())
}

/// Per hospital, per group and in total, one side at `pv`.
fn tally(set: &DipCaseSet, proposal: bool, pv: Decimal) -> Result<(Vec<Sums>, Vec<Sums>, Sums)> {
    let mut hospitals = vec![Sums::default(); set.hospitals.len()];
    let mut groups = vec![Sums::default(); set.groups.len()];
    let mut total = Sums::default();
    for c in &set.cases {
        let side = if proposal { &c.proposal } else { &c.baseline };
        let (payment, fund_due) = pay(c, side, pv);
        add(&mut hospitals[c.hospital as usize], payment, fund_due)?;
        add(&mut groups[c.group as usize], payment, fund_due)?;
        add(&mut total, payment, fund_due)?;
    }
    Ok((hospitals, groups, total))
}

/// Σ fund due of the proposal at `pv`, as published.
fn proposal_fund_due(set: &DipCaseSet, pv: Decimal) -> Result<Decimal> {
    set.cases
        .iter()
        .try_fold(Decimal::ZERO, |acc, c| {
            acc.checked_add(pay(c, &c.proposal, pv).1)
        })
        .ok_or_else(overflow)
}

/// What the budget-neutral solve found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DipNeutral {
    /// Σ fund due of the baseline (the target).
    pub target: Decimal,
    /// The budget the point value's equation was solved for: the target less the proposal's
    /// fund due outside the point value.
    pub pool_budget: Decimal,
    /// The exact solver's point value (6 decimals).
    pub solved: Decimal,
    /// The point value kept after the steps of 0.000001.
    pub point_value: Decimal,
    /// Σ fund due of the proposal at it − the target.
    pub residual: Decimal,
    /// Whether |residual| ≤ 1 yuan.
    pub reached: bool,
    /// The steps of 0.000001 taken after the exact solution.
    pub steps: u32,
}

/// The result of a DIP simulation.
#[derive(Debug, Clone)]
pub struct DipSimulation {
    /// The figures in the DRG simulation's shape (`neutral` none: see [`DipSimulation::neutral`]).
    pub sim: Simulation,
    /// The baseline's point value, with what it came from.
    pub point_value_baseline: PointValueComputation,
    /// The proposal's point value as its parameters set it (before a budget-neutral solve).
    pub point_value_proposal: PointValueComputation,
    /// The budget-neutral solve, when asked for.
    pub neutral: Option<DipNeutral>,
}

impl DipSimulation {
    /// The point value the proposal was paid at.
    pub fn proposal_point_value(&self) -> Decimal {
        self.neutral
            .as_ref()
            .map_or(self.point_value_proposal.point_value, |n| n.point_value)
    }
}

fn pv_error<'a>(
    side: &'a str,
    region: &'a DipRegion,
) -> impl Fn(PointValueError) -> EngineError + 'a {
    move |e| {
        crate::invalid!(
            "the {side}'s point value ({}): {e}",
            region.params_path.display()
        )
    }
}

fn solve_neutral(set: &DipCaseSet, target: Decimal) -> Result<DipNeutral> {
    let outside = set
        .cases
        .iter()
        .filter(|c| c.proposal.score.is_none())
        .try_fold(Decimal::ZERO, |acc, c| {
            acc.checked_add(pay(c, &c.proposal, Decimal::ZERO).1)
        })
        .ok_or_else(overflow)?;
    let pool_budget = target - outside;
    // the equation over the cases the point value pays (extra points included)
    let pairs: Vec<(Decimal, Decimal)> = set
        .cases
        .iter()
        .filter_map(|c| c.proposal.score.map(|s| (s, c.own)))
        .collect();
    let solved = point_value(pool_budget, &pairs)
        .map_err(|e| crate::invalid!("budget-neutral: the proposal's point value: {e}"))?
        .point_value;
    let step = Decimal::new(1, drgdip_dip::point::POINT_VALUE_DECIMALS);
    let mut pv = solved;
    let mut residual = proposal_fund_due(set, pv)? - target;
    let mut steps = 0u32;
    while residual.abs() > Decimal::ZERO && steps < NEUTRAL_MAX_STEPS {
        let next = if residual > Decimal::ZERO {
            pv - step
        } else {
            pv + step
        };
        if next <= Decimal::ZERO {
            break;
        }
        let r = proposal_fund_due(set, next)? - target;
        if r.abs() >= residual.abs() {
            break;
        }
        (pv, residual) = (next, r);
        steps += 1;
    }
    Ok(DipNeutral {
        target,
        pool_budget,
        solved,
        point_value: pv,
        residual,
        reached: residual.abs() <= NEUTRAL_TOLERANCE,
        steps,
    })
}

/// Simulates a DIP proposal: reads `input` once, scores it under both regions, pays each side
/// at its point value, and applies the options (budget-neutral: the proposal's point value
/// solved; floor and ceiling per hospital).
#[allow(clippy::too_many_arguments)]
pub fn simulate_dip<R: Read + Send>(
    baseline: &DipRegion,
    proposal: &DipRegion,
    special: &SpecialCases,
    input: R,
    batch: BatchOptions,
    errors: Option<&mut dyn Write>,
    options: SimOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<DipSimulation> {
    options.bounds.check()?;
    if options.budget_neutral {
        if let PointValueSource::Fixed(v) = proposal.dip.point_value {
            return Err(crate::invalid!(
                "--budget-neutral: the proposal {} fixes dip.point_value = {v}; budget-neutral solves the proposal's point value, which would override it (make it \"budget\", or leave out --budget-neutral)",
                proposal.params_path.display()
            ));
        }
    }
    let start = Instant::now();
    let set = load_dip_cases(baseline, proposal, special, input, batch, errors, progress)?;
    let read_time = start.elapsed();
    let start = Instant::now();
    let pv_base = year_point_value(&baseline.dip, &pool(&set, false))
        .map_err(pv_error("baseline", baseline))?;
    let pv_prop = year_point_value(&proposal.dip, &pool(&set, true))
        .map_err(pv_error("proposal", proposal))?;
    let (hb, gb, tb) = tally(&set, false, pv_base.point_value)?;
    let neutral = options
        .budget_neutral
        .then(|| solve_neutral(&set, tb.fund_due))
        .transpose()?;
    let pv = neutral
        .as_ref()
        .map_or(pv_prop.point_value, |n| n.point_value);
    let (hp, gp, tp) = tally(&set, true, pv)?;
    let mut hospitals: Vec<HospitalImpact> = set
        .hospitals
        .iter()
        .zip(hb.iter().zip(&hp))
        .map(|(id, (b, p))| HospitalImpact {
            hospital_id: id.clone(),
            baseline: *b,
            proposal: *p,
            adjustment: Decimal::ZERO,
            bound: None,
        })
        .collect();
    let bounds = options
        .bounds
        .any()
        .then(|| apply_bounds(&mut hospitals, options.bounds))
        .transpose()?;
    let adjustments = hospitals
        .iter()
        .try_fold(Decimal::ZERO, |a, h| a.checked_add(h.adjustment))
        .ok_or_else(overflow)?;
    let mut total_proposal = tp;
    total_proposal.payment = total_proposal
        .payment
        .checked_add(adjustments)
        .ok_or_else(overflow)?;
    total_proposal.fund_due = total_proposal
        .fund_due
        .checked_add(adjustments)
        .ok_or_else(overflow)?;
    let groups = set
        .groups
        .iter()
        .zip(gb.iter().zip(&gp))
        .map(|((a, b), (sb, sp))| GroupImpact {
            drg_baseline: a.clone(),
            drg_proposal: b.clone(),
            baseline: *sb,
            proposal: *sp,
        })
        .collect();
    let label = |r: &DipRegion| format!("DIP library {}", r.library_dir.display());
    let sim = Simulation {
        scheme_baseline: label(baseline),
        scheme_proposal: label(proposal),
        hospitals,
        groups,
        total_baseline: tb,
        total_proposal,
        budget_baseline: baseline.params.budget.dip(),
        budget_proposal: proposal.params.budget.dip(),
        neutral: None,
        bounds,
        stats: set.stats.clone(),
        invalid: set.invalid,
        read_time,
        price_time: start.elapsed(),
    };
    Ok(DipSimulation {
        sim,
        point_value_baseline: pv_base,
        point_value_proposal: pv_prop,
        neutral,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn case(own: Decimal, side: Side) -> DipSimCase {
        DipSimCase {
            line: 1,
            hospital: 0,
            group: 0,
            total_cost: dec!(1000.005),
            own,
            baseline: side,
            proposal: side,
        }
    }

    #[test]
    fn a_case_is_paid_as_dip_score_pays_it_and_per_item_outside_the_point_value() {
        let scored = Side {
            score: Some(dec!(10.5)),
            pool_score: Some(dec!(10.5)),
        };
        // payment = score × pv to the fen, fund due = max(0, payment − own to the fen)
        let c = case(dec!(300.004), scored);
        assert_eq!(
            pay(&c, &c.baseline, dec!(40.123457)),
            (dec!(421.30), dec!(121.30))
        );
        // clamped at zero
        let c = case(dec!(500), scored);
        assert_eq!(
            pay(&c, &c.baseline, dec!(40)),
            (dec!(420.00), Decimal::ZERO)
        );
        // per item: the total cost, whatever the point value
        let per_item = Side {
            score: None,
            pool_score: None,
        };
        let c = case(dec!(300), per_item);
        assert_eq!(
            pay(&c, &c.baseline, dec!(40)),
            (dec!(1000.01), dec!(700.01))
        );
        assert_eq!(
            pay(&c, &c.baseline, Decimal::ZERO),
            (dec!(1000.01), dec!(700.01))
        );
    }
}
