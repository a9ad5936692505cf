//! Simulation of a proposal (方案测算, `payment-model.md` §9): the same cases priced under a
//! baseline parameter set and under a proposal, per hospital and per group, with the budget
//! balance of each; optionally the proposal's weights rescaled so that the total payment is
//! unchanged (budget-neutral, 预算中性), and a floor and a ceiling on any hospital's change.
//!
//! Choices (documented in `docs/simulation.md`):
//! - the case file is read, validated and grouped once per scheme; every re-pricing (the
//!   budget-neutral search) only pays the grouped cases again, on every core;
//! - the two sides share the hospitals (levels) of the baseline region and the approved
//!   special cases; each side has its own parameters, scheme and weights;
//! - a case's group key is the pair (baseline DRG, proposal DRG): with one scheme the two are
//!   the same code, with two schemes each row of `groups.csv` is one cell of the crosswalk, so
//!   that every amount is in exactly one row and the rows add up to the totals;
//! - amounts are summed as published, each case's payment and fund due rounded half-up to the
//!   fen first (as `drgdip pay` sums them), with checked arithmetic;
//! - budget-neutral: every weight of the proposal (own, ADRG and default ones) is multiplied
//!   by one factor `k`, kept exact (not rounded to 4 decimals: a rounded weight moves in steps
//!   of 0.0001 and the total could not be met within a yuan); `k` is found by the secant
//!   method over full re-pricing, safeguarded by bisection once the target is bracketed,
//!   until |Σ payment(k) − Σ payment(baseline)| ≤ 1 yuan. The low-cost rule makes the total
//!   jump where a case crosses `low_multiple × standard`, and where a DRG's scaled weight
//!   crosses a band of the high multiple (every case of that DRG between the two multiples
//!   changes category); if the target falls inside such a jump the search says so and keeps
//!   the nearest factor found;
//! - floor and ceiling bound each hospital's relative change of payment
//!   `(proposal − baseline) / baseline`: a hospital outside the band is set to its bound (保底 /
//!   封顶), and the net of these adjustments is redistributed over the hospitals within the
//!   band in proportion to their proposal payment (every one of them multiplied by one common
//!   factor, found by bisection so that no hospital leaves the band), so that the proposal's
//!   total is unchanged; when the band cannot hold the total (every hospital at one bound),
//!   the remainder is not redistributed and is reported. The adjustment is a hospital-level transfer paid by the
//!   fund: it is added to the hospital's payment and fund due (patients' shares are
//!   unchanged); the per-group figures are before it. Hospitals with no baseline payment are
//!   not bounded (their relative change is undefined).

use std::io::{Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use drgdip_drg::Trace;
use drgdip_io::{run_batch_with, BatchOptions, BatchStats, RowOutcome};
use drgdip_pay::money::round_fen;
use drgdip_pay::{pay_case, GroupStatus, PayInput, Tariff, WeightRow, WeightTable};
use rayon::prelude::*;
use rust_decimal::Decimal;
use rustc_hash::FxHashMap;

use crate::batch::{group_record, group_status, Shards};
use crate::error::{EngineError, Result};
use crate::pricing::{pay_input, SpecialCases};
use crate::region::{tariff_for, Region};

/// The tolerance of the budget-neutral search: one yuan.
pub const NEUTRAL_TOLERANCE: Decimal = Decimal::ONE;
/// At most this many re-pricings in the budget-neutral search.
pub const NEUTRAL_MAX_ITERATIONS: u32 = 60;
/// Decimals of the budget-neutral factor.
pub const FACTOR_DECIMALS: u32 = 12;

/// One valid case, grouped under both sides, ready to be paid again and again.
#[derive(Debug, Clone)]
pub struct SimCase {
    /// Its line in the case file.
    pub line: u64,
    /// Index into [`CaseSet::hospitals`].
    pub hospital: u32,
    /// Index into [`CaseSet::groups`].
    pub group: u32,
    /// The payment input under the baseline's scheme.
    pub baseline: PayInput,
    /// The payment input under the proposal's scheme, when it groups differently (another
    /// scheme); `None`: the baseline's.
    pub proposal: Option<PayInput>,
}

impl SimCase {
    fn input(&self, side: Side) -> &PayInput {
        match side {
            Side::Baseline => &self.baseline,
            Side::Proposal => self.proposal.as_ref().unwrap_or(&self.baseline),
        }
    }
}

/// Which parameter set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The parameters in force (or the first of the two compared).
    Baseline,
    /// The proposal (or the second).
    Proposal,
}

/// The cases of a simulation, read and grouped once.
#[derive(Debug, Clone, Default)]
pub struct CaseSet {
    /// The valid cases, in input order.
    pub cases: Vec<SimCase>,
    /// Hospital ids, sorted.
    pub hospitals: Vec<String>,
    /// Group keys `(baseline DRG, proposal DRG)`, sorted.
    pub groups: Vec<(String, String)>,
    /// The batch's counts (bucket 0 valid, 1 invalid).
    pub stats: BatchStats,
    /// Rows not valid (not priced on either side; listed in the errors file).
    pub invalid: u64,
}

/// Reads the case file once, validates it and groups every valid row under the baseline's
/// scheme and, when it is another one, under the proposal's. Problems go to `errors`.
pub fn load_cases<R: Read + Send>(
    baseline: &Region,
    proposal: &Region,
    special: &SpecialCases,
    input: R,
    options: BatchOptions,
    errors: Option<&mut dyn Write>,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<CaseSet> {
    let two_schemes = baseline.scheme.name != proposal.scheme.name;
    let shards: Shards<Vec<(String, SimCase)>> = Shards::new();
    let invalid = AtomicU64::new(0);
    let (sa, sb) = (&*baseline.scheme, &*proposal.scheme);
    let stats = run_batch_with(
        input,
        &options,
        b"",
        &mut std::io::sink(),
        errors,
        |cols, row, _buf, probs| {
            let r = match row.read(cols, &sa.catalog) {
                RowOutcome::Invalid { problems, .. } => {
                    probs.extend(problems);
                    invalid.fetch_add(1, Ordering::Relaxed);
                    return 1;
                }
                RowOutcome::Valid(r) => *r,
            };
            let level = baseline
                .hospitals
                .get(&r.hospital_id)
                .map(|h| h.level)
                .or(r.hospital_level);
            let missing = crate::pricing::missing_for_pay(&r, level.is_some());
            let (Some(total_cost), Some(fund_paid), Some(level)) =
                (r.total_cost, r.fund_paid, level)
            else {
                probs.extend(missing);
                invalid.fetch_add(1, Ordering::Relaxed);
                return 1;
            };
            let ga = group_record(sa, &r, &mut Trace::disabled());
            let gb = two_schemes.then(|| group_record(sb, &r, &mut Trace::disabled()));
            let spec = special.get(&r.hospital_id, &r.case_id);
            let (line, hospital_id) = (r.line, r.hospital_id.clone());
            let proposal_input = gb.map(|g| {
                let mut p = pay_input(
                    r.clone(),
                    level,
                    total_cost,
                    fund_paid,
                    group_status(g.status),
                    (g.mdc_code(sb), g.adrg_code(sb), g.drg_code(sb)),
                    spec,
                );
                p.case_id = String::new(); // not used in the computation
                p
            });
            let base_input = pay_input(
                r,
                level,
                total_cost,
                fund_paid,
                group_status(ga.status),
                (ga.mdc_code(sa), ga.adrg_code(sa), ga.drg_code(sa)),
                spec,
            );
            let mut base_input = base_input;
            base_input.case_id = String::new(); // not used in the computation
            shards.with(|v| {
                v.push((
                    hospital_id,
                    SimCase {
                        line,
                        hospital: 0,
                        group: 0,
                        baseline: base_input,
                        proposal: proposal_input,
                    },
                ))
            });
            0
        },
        progress,
    )?;
    let mut rows: Vec<(String, SimCase)> = shards.into_vec().into_iter().flatten().collect();
    rows.sort_unstable_by_key(|(_, c)| c.line);
    // hospitals and group keys interned without a copy per case, then numbered in sorted order
    let mut h_seen: FxHashMap<&str, u32> = FxHashMap::default();
    let mut g_seen: FxHashMap<(&str, &str), u32> = FxHashMap::default();
    let mut ids: Vec<(u32, u32)> = Vec::with_capacity(rows.len());
    for (h, c) in &rows {
        let n = h_seen.len() as u32;
        let hi = *h_seen.entry(h.as_str()).or_insert(n);
        let n = g_seen.len() as u32;
        let key = (
            c.baseline.drg.as_str(),
            c.input(Side::Proposal).drg.as_str(),
        );
        let gi = *g_seen.entry(key).or_insert(n);
        ids.push((hi, gi));
    }
    let mut hospitals: Vec<(&str, u32)> = h_seen.into_iter().collect();
    hospitals.sort_unstable();
    let mut h_rank = vec![0u32; hospitals.len()];
    for (rank, (_, first)) in hospitals.iter().enumerate() {
        h_rank[*first as usize] = rank as u32;
    }
    let mut groups: Vec<((&str, &str), u32)> = g_seen.into_iter().collect();
    groups.sort_unstable();
    let mut g_rank = vec![0u32; groups.len()];
    for (rank, (_, first)) in groups.iter().enumerate() {
        g_rank[*first as usize] = rank as u32;
    }
    let hospitals: Vec<String> = hospitals.into_iter().map(|(h, _)| h.to_string()).collect();
    let groups: Vec<(String, String)> = groups
        .into_iter()
        .map(|((a, b), _)| (a.to_string(), b.to_string()))
        .collect();
    let cases: Vec<SimCase> = rows
        .into_iter()
        .zip(ids)
        .map(|((_, mut c), (hi, gi))| {
            c.hospital = h_rank[hi as usize];
            c.group = g_rank[gi as usize];
            c
        })
        .collect();
    Ok(CaseSet {
        cases,
        hospitals,
        groups,
        stats,
        invalid: invalid.load(Ordering::Relaxed),
    })
}

/// Sums over a set of cases on one side, as published (each amount rounded to the fen).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sums {
    /// Cases.
    pub cases: u64,
    /// Σ payment.
    pub payment: Decimal,
    /// Σ fund due.
    pub fund_due: Decimal,
    /// Cases counted in the CMI: grouped, with a weight (as `PaySummary` counts them).
    pub cmi_cases: u64,
    /// Σ weight of those cases.
    pub weight_sum: Decimal,
}

impl Sums {
    fn checked_merge(&self, o: &Sums) -> Option<Sums> {
        Some(Sums {
            cases: self.cases.checked_add(o.cases)?,
            payment: self.payment.checked_add(o.payment)?,
            fund_due: self.fund_due.checked_add(o.fund_due)?,
            cmi_cases: self.cmi_cases.checked_add(o.cmi_cases)?,
            weight_sum: self.weight_sum.checked_add(o.weight_sum)?,
        })
    }

    /// 病例组合指数 — the CMI: mean weight of the grouped cases with a weight.
    pub fn cmi(&self) -> Option<Decimal> {
        (self.cmi_cases > 0).then(|| self.weight_sum / Decimal::from(self.cmi_cases))
    }
}

/// Sums per hospital and per group on one side.
#[derive(Debug, Clone)]
struct Tally {
    hospitals: Vec<Sums>,
    groups: Vec<Sums>,
    total: Sums,
}

impl Tally {
    fn new(h: usize, g: usize) -> Tally {
        Tally {
            hospitals: vec![Sums::default(); h],
            groups: vec![Sums::default(); g],
            total: Sums::default(),
        }
    }

    fn add(mut self, c: &SimCase, one: &Sums) -> Option<Tally> {
        let h = &mut self.hospitals[c.hospital as usize];
        *h = h.checked_merge(one)?;
        let g = &mut self.groups[c.group as usize];
        *g = g.checked_merge(one)?;
        self.total = self.total.checked_merge(one)?;
        Some(self)
    }

    fn merge(mut self, o: Tally) -> Option<Tally> {
        for (a, b) in self.hospitals.iter_mut().zip(&o.hospitals) {
            *a = a.checked_merge(b)?;
        }
        for (a, b) in self.groups.iter_mut().zip(&o.groups) {
            *a = a.checked_merge(b)?;
        }
        self.total = self.total.checked_merge(&o.total)?;
        Some(self)
    }
}

fn overflow() -> EngineError {
    EngineError::Refused(
        "the simulation's totals overflowed (amounts beyond what can be added)".to_string(),
    )
}

fn case_sums(tariff: &Tariff, input: &PayInput) -> Sums {
    let p = pay_case(tariff, input);
    let weight = match (p.status, p.weight) {
        (GroupStatus::Grouped, Some(w)) => Some(w),
        _ => None,
    };
    Sums {
        cases: 1,
        payment: round_fen(p.payment),
        fund_due: round_fen(p.fund_due),
        cmi_cases: u64::from(weight.is_some()),
        weight_sum: weight.unwrap_or_default(),
    }
}

fn tally(tariff: &Tariff, set: &CaseSet, side: Side) -> Result<Tally> {
    let (h, g) = (set.hospitals.len(), set.groups.len());
    set.cases
        .par_iter()
        .try_fold(
            || Tally::new(h, g),
            |acc, c| acc.add(c, &case_sums(tariff, c.input(side))),
        )
        .try_reduce(|| Tally::new(h, g), Tally::merge)
        .ok_or_else(overflow)
}

/// Σ payment (as published) of every case on one side under `tariff`.
pub fn total_payment(tariff: &Tariff, set: &CaseSet, side: Side) -> Result<Decimal> {
    set.cases
        .par_iter()
        .map(|c| Some(round_fen(pay_case(tariff, c.input(side)).payment)))
        .try_reduce(|| Decimal::ZERO, |a, b| a.checked_add(b))
        .ok_or_else(overflow)
}

/// The region's tariff with every weight multiplied by `factor` (exact).
pub fn scaled_tariff(region: &Region, factor: Decimal) -> Result<Tariff> {
    let rows: Vec<WeightRow> = region
        .weights
        .table
        .rows()
        .iter()
        .map(|r| {
            let weight = r
                .weight
                .checked_mul(factor)
                .ok_or_else(|| crate::invalid!("weight {} × {factor} overflows", r.drg))?;
            Ok(WeightRow {
                weight,
                ..r.clone()
            })
        })
        .collect::<Result<_>>()?;
    let table = WeightTable::from_rows(rows).map_err(|e| crate::invalid!("scaled weights: {e}"))?;
    let (tariff, _) = tariff_for(
        &region.params_path,
        &region.params,
        &region.scheme,
        &table,
        region.point_value,
    )?;
    Ok(tariff)
}

/// One step of the budget-neutral search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NeutralStep {
    /// The factor tried.
    pub factor: Decimal,
    /// Σ payment of the proposal at that factor.
    pub total: Decimal,
}

/// What the budget-neutral search found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Neutral {
    /// Σ payment of the baseline (the target).
    pub target: Decimal,
    /// The factor the proposal's weights were multiplied by.
    pub factor: Decimal,
    /// Σ payment of the proposal at that factor − the target.
    pub residual: Decimal,
    /// Whether |residual| ≤ 1 yuan.
    pub reached: bool,
    /// Every re-pricing, in order (the first is the proposal as given, factor 1).
    pub steps: Vec<NeutralStep>,
}

impl Neutral {
    /// The number of re-pricings.
    pub fn iterations(&self) -> usize {
        self.steps.len()
    }
}

fn round_factor(k: Decimal) -> Decimal {
    k.round_dp(FACTOR_DECIMALS)
}

/// Finds the factor `k` of the proposal's weights at which Σ payment equals `target` within
/// a yuan: secant steps, bisection inside the bracket once the target is bracketed.
pub fn solve_neutral(
    proposal: &Region,
    set: &CaseSet,
    target: Decimal,
    progress: &(dyn Fn(&NeutralStep) + Sync),
) -> Result<Neutral> {
    let steps = std::cell::RefCell::new(Vec::new());
    let eval = |k: Decimal| -> Result<Decimal> {
        let tariff = scaled_tariff(proposal, k)?;
        let total = total_payment(&tariff, set, Side::Proposal)?;
        let step = NeutralStep { factor: k, total };
        progress(&step);
        steps.borrow_mut().push(step);
        Ok(total - target)
    };
    let done = |k: Decimal, f: Decimal, steps: Vec<NeutralStep>| Neutral {
        target,
        factor: k,
        residual: f,
        reached: f.abs() <= NEUTRAL_TOLERANCE,
        steps,
    };
    let (mut k0, mut f0) = (Decimal::ONE, eval(Decimal::ONE)?);
    if f0.abs() <= NEUTRAL_TOLERANCE {
        return Ok(done(k0, f0, steps.take()));
    }
    let p1 = f0 + target;
    if p1 <= Decimal::ZERO {
        return Err(crate::invalid!(
            "budget-neutral: the proposal pays nothing (Σ payment {p1}); no factor of its weights can match the baseline"
        ));
    }
    // the linear guess: payment proportional to the weights
    let mut k1 = round_factor(target / p1);
    let mut f1 = eval(k1)?;
    // the best point so far, and a bracket [lo, hi] with f(lo) < 0 < f(hi) once known
    let mut best = if f1.abs() < f0.abs() {
        (k1, f1)
    } else {
        (k0, f0)
    };
    let mut lo: Option<(Decimal, Decimal)> = None;
    let mut hi: Option<(Decimal, Decimal)> = None;
    for (k, f) in [(k0, f0), (k1, f1)] {
        if f < Decimal::ZERO {
            lo = Some((k, f));
        } else {
            hi = Some((k, f));
        }
    }
    let min_width = Decimal::new(1, FACTOR_DECIMALS);
    while f1.abs() > NEUTRAL_TOLERANCE && steps.borrow().len() < NEUTRAL_MAX_ITERATIONS as usize {
        let secant = if f1 != f0 {
            (k1 - f1 * (k1 - k0) / (f1 - f0)).round_dp(FACTOR_DECIMALS)
        } else {
            k1
        };
        let next = match (lo, hi) {
            (Some((a, _)), Some((b, _))) => {
                let (l, h) = if a < b { (a, b) } else { (b, a) };
                if (h - l) < min_width {
                    break; // the target lies in a jump of the total (a case's low-cost rule)
                }
                if secant > l && secant < h && secant != k1 {
                    secant
                } else {
                    round_factor((l + h) / Decimal::TWO)
                }
            }
            _ if secant != k1 && secant > Decimal::ZERO => secant,
            _ => break,
        };
        if next == k1 || next == k0 {
            break;
        }
        (k0, f0) = (k1, f1);
        k1 = next;
        f1 = eval(k1)?;
        if f1.abs() < best.1.abs() {
            best = (k1, f1);
        }
        if f1 < Decimal::ZERO {
            lo = Some((k1, f1));
        } else {
            hi = Some((k1, f1));
        }
    }
    Ok(done(best.0, best.1, steps.take()))
}

/// Which bound a hospital was held at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// 保底 — raised to the floor.
    Floor,
    /// 封顶 — lowered to the ceiling.
    Ceiling,
}

impl Bound {
    /// `floor` / `ceiling`.
    pub fn as_str(self) -> &'static str {
        match self {
            Bound::Floor => "floor",
            Bound::Ceiling => "ceiling",
        }
    }
}

/// Bounds on each hospital's relative change of payment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Bounds {
    /// The lowest relative change allowed (e.g. −0.05), > −1.
    pub floor: Option<Decimal>,
    /// The highest relative change allowed (e.g. 0.05).
    pub ceiling: Option<Decimal>,
}

impl Bounds {
    /// Whether any bound is set.
    pub fn any(&self) -> bool {
        self.floor.is_some() || self.ceiling.is_some()
    }

    /// Refuses a floor ≤ −1 or a floor above the ceiling.
    pub fn check(&self) -> Result<()> {
        if let Some(f) = self.floor {
            if f <= -Decimal::ONE {
                return Err(crate::invalid!(
                    "--floor {f}: a relative change must be above −1 (−100%)"
                ));
            }
        }
        if let (Some(f), Some(c)) = (self.floor, self.ceiling) {
            if f > c {
                return Err(crate::invalid!("--floor {f} is above --ceiling {c}"));
            }
        }
        Ok(())
    }
}

/// What the simulation asks for.
#[derive(Debug, Clone, Copy, Default)]
pub struct SimOptions {
    /// Rescale the proposal's weights so that Σ payment is the baseline's.
    pub budget_neutral: bool,
    /// Bounds on each hospital's change.
    pub bounds: Bounds,
}

/// One hospital under both sides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HospitalImpact {
    /// The hospital.
    pub hospital_id: String,
    /// Under the baseline.
    pub baseline: Sums,
    /// Under the proposal, before the bounds.
    pub proposal: Sums,
    /// The bound's adjustment (added to payment and fund due), zero when none.
    pub adjustment: Decimal,
    /// The bound that holds it, if any.
    pub bound: Option<Bound>,
}

impl HospitalImpact {
    /// The proposal's payment, after the bounds.
    pub fn payment_proposal(&self) -> Decimal {
        self.proposal.payment + self.adjustment
    }
    /// The proposal's fund due, after the bounds.
    pub fn fund_due_proposal(&self) -> Decimal {
        self.proposal.fund_due + self.adjustment
    }
    /// Payment: proposal (after the bounds) − baseline.
    pub fn difference(&self) -> Decimal {
        self.payment_proposal() - self.baseline.payment
    }
    /// The relative change of payment, when the baseline pays anything.
    pub fn relative(&self) -> Option<Decimal> {
        (!self.baseline.payment.is_zero()).then(|| self.difference() / self.baseline.payment)
    }
}

/// One group key under both sides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupImpact {
    /// The DRG under the baseline's scheme.
    pub drg_baseline: String,
    /// The DRG under the proposal's scheme.
    pub drg_proposal: String,
    /// Under the baseline.
    pub baseline: Sums,
    /// Under the proposal (before the hospitals' bounds).
    pub proposal: Sums,
}

impl GroupImpact {
    /// Payment: proposal − baseline.
    pub fn difference(&self) -> Decimal {
        self.proposal.payment - self.baseline.payment
    }
}

/// What the bounds did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoundsOutcome {
    /// The bounds.
    pub bounds: Bounds,
    /// Hospitals held at a bound.
    pub bound: Vec<String>,
    /// Σ of the bound hospitals' adjustments (what was redistributed over the others, with the
    /// opposite sign).
    pub held: Decimal,
    /// What could not be redistributed (every hospital bound): the proposal's total changes
    /// by this much.
    pub not_redistributed: Decimal,
    /// Placements tried in the search of the common factor.
    pub rounds: u32,
}

/// The result of a simulation.
#[derive(Debug, Clone)]
pub struct Simulation {
    /// The baseline's scheme.
    pub scheme_baseline: String,
    /// The proposal's scheme.
    pub scheme_proposal: String,
    /// Per hospital, sorted by id.
    pub hospitals: Vec<HospitalImpact>,
    /// Per group key, sorted.
    pub groups: Vec<GroupImpact>,
    /// Totals under the baseline.
    pub total_baseline: Sums,
    /// Totals under the proposal (after the bounds: payment and fund due include the
    /// adjustments).
    pub total_proposal: Sums,
    /// The DRG budget of the baseline's parameter file.
    pub budget_baseline: Decimal,
    /// The DRG budget of the proposal's parameter file.
    pub budget_proposal: Decimal,
    /// The budget-neutral search, when asked for.
    pub neutral: Option<Neutral>,
    /// The bounds, when asked for.
    pub bounds: Option<BoundsOutcome>,
    /// Rows read, valid and invalid.
    pub stats: BatchStats,
    /// Invalid rows (priced on neither side).
    pub invalid: u64,
    /// Time to read and group.
    pub read_time: Duration,
    /// Time to price (every re-pricing included).
    pub price_time: Duration,
}

/// Steps of a simulation, for progress.
#[derive(Debug, Clone, Copy)]
pub enum SimStep<'a> {
    /// Rows read so far.
    Read(u64),
    /// A budget-neutral re-pricing.
    Neutral(&'a NeutralStep),
}

/// Simulates: reads `input`, prices it under both regions, and applies the options.
#[allow(clippy::too_many_arguments)]
pub fn simulate<R: Read + Send>(
    baseline: &Region,
    proposal: &Region,
    special: &SpecialCases,
    input: R,
    batch: BatchOptions,
    errors: Option<&mut dyn Write>,
    options: SimOptions,
    progress: &(dyn Fn(SimStep) + Sync),
) -> Result<Simulation> {
    options.bounds.check()?;
    let start = Instant::now();
    let set = load_cases(baseline, proposal, special, input, batch, errors, &|n| {
        progress(SimStep::Read(n))
    })?;
    let read_time = start.elapsed();
    let start = Instant::now();
    let mut sim = simulate_set(baseline, proposal, &set, options, progress)?;
    sim.price_time = start.elapsed();
    sim.read_time = read_time;
    Ok(sim)
}

/// Simulates over cases already read and grouped ([`load_cases`]).
pub fn simulate_set(
    baseline: &Region,
    proposal: &Region,
    set: &CaseSet,
    options: SimOptions,
    progress: &(dyn Fn(SimStep) + Sync),
) -> Result<Simulation> {
    options.bounds.check()?;
    let start = Instant::now();
    let base = tally(&baseline.tariff, set, Side::Baseline)?;
    let (prop, neutral) = if options.budget_neutral {
        let n = solve_neutral(proposal, set, base.total.payment, &|s| {
            progress(SimStep::Neutral(s))
        })?;
        let tariff = scaled_tariff(proposal, n.factor)?;
        (tally(&tariff, set, Side::Proposal)?, Some(n))
    } else {
        (tally(&proposal.tariff, set, Side::Proposal)?, None)
    };
    let mut hospitals: Vec<HospitalImpact> = set
        .hospitals
        .iter()
        .zip(base.hospitals.iter().zip(&prop.hospitals))
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
    let groups = set
        .groups
        .iter()
        .zip(base.groups.iter().zip(&prop.groups))
        .map(|((a, b), (sb, sp))| GroupImpact {
            drg_baseline: a.clone(),
            drg_proposal: b.clone(),
            baseline: *sb,
            proposal: *sp,
        })
        .collect();
    let mut total_proposal = prop.total;
    let adjustments = hospitals
        .iter()
        .try_fold(Decimal::ZERO, |a, h| a.checked_add(h.adjustment))
        .ok_or_else(overflow)?;
    total_proposal.payment = total_proposal
        .payment
        .checked_add(adjustments)
        .ok_or_else(overflow)?;
    total_proposal.fund_due = total_proposal
        .fund_due
        .checked_add(adjustments)
        .ok_or_else(overflow)?;
    Ok(Simulation {
        scheme_baseline: baseline.scheme.name.clone(),
        scheme_proposal: proposal.scheme.name.clone(),
        hospitals,
        groups,
        total_baseline: base.total,
        total_proposal,
        budget_baseline: baseline.params.budget.drg(),
        budget_proposal: proposal.params.budget.drg(),
        neutral,
        bounds,
        stats: set.stats.clone(),
        invalid: set.invalid,
        read_time: Duration::ZERO,
        price_time: start.elapsed(),
    })
}

/// Holds each hospital within the bounds and redistributes the net over the others (see the
/// module's documentation): every hospital's amount is `clamp(P_h × s, lo_h, hi_h)` with one
/// common factor `s`, found by bisection so that the amounts add up to Σ P_h; the hospitals
/// not clamped are the ones the net is redistributed over, in proportion to their proposal
/// payment. The last fen of rounding goes to the largest of them.
pub(crate) fn apply_bounds(
    hospitals: &mut [HospitalImpact],
    bounds: Bounds,
) -> Result<BoundsOutcome> {
    let target: Decimal = hospitals
        .iter()
        .try_fold(Decimal::ZERO, |a, h| a.checked_add(h.proposal.payment))
        .ok_or_else(overflow)?;
    // the band of each hospital, None: not bounded
    let band: Vec<(Option<Decimal>, Option<Decimal>)> = hospitals
        .iter()
        .map(|h| {
            let b = h.baseline.payment;
            if b <= Decimal::ZERO {
                return (None, None);
            }
            let at = |r: Decimal| b.checked_mul(Decimal::ONE + r).map(round_fen);
            (bounds.floor.and_then(at), bounds.ceiling.and_then(at))
        })
        .collect();
    let place = |s: Decimal| -> (Vec<Decimal>, Vec<Option<Bound>>, Decimal) {
        let mut sum = Decimal::ZERO;
        let mut amounts = Vec::with_capacity(hospitals.len());
        let mut held = Vec::with_capacity(hospitals.len());
        for (h, (lo, hi)) in hospitals.iter().zip(&band) {
            let mut a = round_fen(h.proposal.payment * s);
            let mut bound = None;
            if let Some(lo) = lo.filter(|lo| a < *lo) {
                (a, bound) = (lo, Some(Bound::Floor));
            } else if let Some(hi) = hi.filter(|hi| a > *hi) {
                (a, bound) = (hi, Some(Bound::Ceiling));
            }
            sum += a;
            amounts.push(a);
            held.push(bound);
        }
        (amounts, held, sum)
    };
    // Σ amounts is non-decreasing in s: bracket the target, then bisect
    let (mut lo, mut hi) = (Decimal::ZERO, Decimal::ONE);
    let mut rounds = 0u32;
    while place(hi).2 < target && hi < Decimal::from(1_000_000) {
        hi *= Decimal::TWO;
        rounds += 1;
    }
    let mut s = hi;
    for _ in 0..200 {
        rounds += 1;
        let mid = (lo + hi) / Decimal::TWO;
        let sum = place(mid).2;
        s = mid;
        if sum == target || hi - lo < Decimal::new(1, 24) {
            break;
        }
        if sum < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let (mut amounts, held, sum) = place(s);
    let mut not_redistributed = target - sum;
    if !not_redistributed.is_zero() {
        // the rounding remainder to the largest hospital within its band, if it stays there
        let free = (0..hospitals.len())
            .filter(|&i| held[i].is_none())
            .filter(|&i| {
                let a = amounts[i] + not_redistributed;
                !matches!(band[i].0, Some(lo) if a < lo) && !matches!(band[i].1, Some(hi) if a > hi)
            })
            .max_by_key(|&i| amounts[i]);
        if let Some(i) = free {
            amounts[i] += not_redistributed;
            not_redistributed = Decimal::ZERO;
        }
    }
    let mut total_held = Decimal::ZERO;
    let mut names = Vec::new();
    for (i, h) in hospitals.iter_mut().enumerate() {
        h.adjustment = amounts[i] - h.proposal.payment;
        h.bound = held[i];
        if held[i].is_some() {
            total_held += h.adjustment;
            names.push(h.hospital_id.clone());
        }
    }
    Ok(BoundsOutcome {
        bounds,
        bound: names,
        held: total_held,
        not_redistributed,
        rounds,
    })
}

/// The header of `hospitals.csv`.
pub const HOSPITALS_HEADER: &str = "hospital_id,cases,payment_baseline,payment_proposal,fund_due_baseline,fund_due_proposal,difference,relative_change,cmi_baseline,cmi_proposal,bound,adjustment";

/// The header of `groups.csv`.
pub const GROUPS_HEADER: &str = "drg_baseline,drg_proposal,cases,payment_baseline,payment_proposal,fund_due_baseline,fund_due_proposal,difference";

/// `hospitals.csv`: one row per hospital (amounts to the fen; relative change and CMI with 4
/// decimals, empty when undefined).
pub fn hospitals_csv(sim: &Simulation) -> String {
    use drgdip_pay::money::{Fen, W4};
    use std::fmt::Write as _;
    let mut out = format!("{HOSPITALS_HEADER}\n");
    let opt = |d: Option<Decimal>| d.map(|d| W4(d).to_string()).unwrap_or_default();
    for h in &sim.hospitals {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{}",
            drgdip_io::csv_field(&h.hospital_id),
            h.baseline.cases,
            Fen(h.baseline.payment),
            Fen(h.payment_proposal()),
            Fen(h.baseline.fund_due),
            Fen(h.fund_due_proposal()),
            Fen(h.difference()),
            opt(h.relative()),
            opt(h.baseline.cmi()),
            opt(h.proposal.cmi()),
            h.bound.map(Bound::as_str).unwrap_or(""),
            Fen(h.adjustment)
        );
    }
    out
}

/// `groups.csv`: one row per group key (before the hospitals' bounds).
pub fn groups_csv(sim: &Simulation) -> String {
    use drgdip_pay::money::Fen;
    use std::fmt::Write as _;
    let mut out = format!("{GROUPS_HEADER}\n");
    for g in &sim.groups {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{}",
            g.drg_baseline,
            g.drg_proposal,
            g.baseline.cases,
            Fen(g.baseline.payment),
            Fen(g.proposal.payment),
            Fen(g.baseline.fund_due),
            Fen(g.proposal.fund_due),
            Fen(g.difference())
        );
    }
    out
}
