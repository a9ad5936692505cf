//! DRG weights from a year of history (`payment-model.md` §1): the history is grouped with
//! the region's scheme through the streaming batch runner, and the weights computed over
//! every DRG of the scheme.

use std::io::{Read, Write};

use drgdip_drg::{Status, Trace};
use drgdip_io::{
    run_batch_with, BatchOptions, BatchStats, Columns, Problem, ProblemKind, Purpose, RowIn,
    RowOutcome,
};
use drgdip_pay::money::Fen;
use drgdip_pay::weights::WeightOptions;
use drgdip_pay::{
    ExpectedCase, GroupStatus, HistoryCase, Hospitals, InsuredClass, Params, WeightSource,
    WeightTable,
};
use drgdip_scheme::Scheme;
use rust_decimal::Decimal;

use crate::batch::{bucket, group_record, problem, Shards, INVALID};
use crate::error::Result;

/// The weights computed from a history file, with what the run saw.
pub struct History {
    /// The weights.
    pub table: WeightTable,
    /// The batch's counts.
    pub stats: BatchStats,
    /// Grouped history cases with a cost (the ones the weights use).
    pub used: u64,
    /// The mean cost of all trimmed cases of all groups (the denominator of every weight).
    pub mean_all: Option<Decimal>,
    /// The grouped cases, in input order, with what the budget-derived rate counts of them
    /// (`drg.base_rate = "budget"`, [`expected_cases`]).
    pub cases: Vec<GroupedCase>,
}

/// One grouped history case, as the budget-derived rate counts it.
#[derive(Debug, Clone)]
pub struct GroupedCase {
    /// Its DRG.
    pub drg: String,
    /// Its hospital.
    pub hospital_id: String,
    /// The row's `hospital_level`, if any.
    pub row_level: Option<u8>,
    /// 按项目 total cost.
    pub total_cost: Decimal,
    /// What the fund paid per item (empty in the row: `None`).
    pub fund_paid: Option<Decimal>,
    /// 参保地 class.
    pub insured: InsuredClass,
}

/// The history cases the budget-derived rate counts, and why the others do not count.
#[derive(Debug, Clone, Default)]
pub struct ExpectedCases {
    /// The counted cases: weight, level coefficient, cost, fund paid.
    pub cases: Vec<ExpectedCase>,
    /// Grouped cases whose DRG has no weight in the table (paid per item).
    pub no_weight: u64,
    /// Grouped cases with no hospital level (not in the hospitals file, none in the row).
    pub no_level: u64,
    /// Grouped cases with an empty fund_paid.
    pub no_fund_paid: u64,
    /// Cross-province cases paid per item (`cross_region.cross_province = "per_item"`).
    pub cross_province: u64,
}

impl ExpectedCases {
    /// `N cases counted; not counted: …`.
    pub fn text(&self) -> String {
        format!(
            "{} grouped history cases counted in Σ expected weights; not counted: {} whose DRG has no weight, {} without a hospital level, {} without fund_paid, {} cross-province paid per item",
            self.cases.len(),
            self.no_weight,
            self.no_level,
            self.no_fund_paid,
            self.cross_province
        )
    }
}

/// The grouped cases the budget-derived rate counts (`payment-model.md` §8, see
/// `drgdip_pay::rate`): each with its DRG's weight in `table` and its hospital's level
/// coefficient (the level from `hospitals`, else the row's, as a pay run takes it); not
/// counted: a DRG without a weight (paid per item), no level, an empty fund_paid, and a
/// cross-province case when the region pays those per item (they are not paid by the rate).
pub fn expected_cases(
    cases: &[GroupedCase],
    table: &WeightTable,
    hospitals: &Hospitals,
    params: &Params,
) -> ExpectedCases {
    let per_item_cross =
        params.cross_region.cross_province == drgdip_pay::params::CrossRegionRule::PerItem;
    let coefficients = &params.drg.hospital_level_coefficient;
    let mut out = ExpectedCases::default();
    for c in cases {
        if per_item_cross && c.insured == InsuredClass::CrossProvince {
            out.cross_province += 1;
            continue;
        }
        let Some(weight) = table.get(&c.drg).map(|r| r.weight) else {
            out.no_weight += 1;
            continue;
        };
        let level = hospitals
            .get(&c.hospital_id)
            .map(|h| h.level)
            .or(c.row_level);
        let Some(coefficient) = level.and_then(|l| coefficients.get(&l)).copied() else {
            out.no_level += 1;
            continue;
        };
        let Some(fund_paid) = c.fund_paid else {
            out.no_fund_paid += 1;
            continue;
        };
        out.cases.push(ExpectedCase {
            weight,
            coefficient,
            total_cost: c.total_cost,
            fund_paid,
        });
    }
    out
}

impl History {
    /// Two lines: what was read and used, and the weights made.
    pub fn text(&self, params: &Params, scheme: &Scheme) -> String {
        let b = &self.stats.by_status;
        format!(
            "history: {} rows read; {} grouped rows used; not used: {} ambiguous, {} ungroupable, {} invalid ({} problem(s)); {:.2} s\n\
             weights: {}; mean_all {} (trim {}, min_cases_for_own_weight {}); scheme {}",
            self.stats.rows,
            self.used,
            b[1],
            b[2],
            b[INVALID],
            self.stats.problems,
            self.stats.elapsed.as_secs_f64(),
            sources_text(&self.table),
            self.mean_all.map_or("none".to_string(), |m| Fen(m).to_string()),
            params.drg.trim,
            params.drg.min_cases_for_own_weight,
            scheme.label()
        )
    }
}

/// Every DRG of the scheme that belongs to an ADRG, with its ADRG: the rows of the table
/// (the `<L>QY` and `0000` codes, and codes of no ADRG, carry no weight).
pub fn scheme_drgs(scheme: &Scheme) -> Vec<(&str, &str)> {
    scheme
        .drgs
        .iter()
        .filter_map(|d| {
            d.adrg
                .map(|a| (d.code.as_str(), scheme.adrgs[usize::from(a)].code.as_str()))
        })
        .collect()
}

/// `N DRGs: a own, b adrg, c default`.
pub fn sources_text(table: &WeightTable) -> String {
    let count = |s: WeightSource| table.rows().iter().filter(|r| r.source == s).count();
    format!(
        "{} DRGs: {} own, {} adrg, {} default",
        table.len(),
        count(WeightSource::Own),
        count(WeightSource::Adrg),
        count(WeightSource::Default)
    )
}

/// Groups the history read from `input` and computes the weights of §1 over every DRG of
/// the scheme. `options`: how the history is read (its purpose is set here); problems go to
/// `errors`; `progress` gets the rows read so far.
pub fn weights_from_history<R: Read + Send>(
    scheme: &Scheme,
    params: &Params,
    input: R,
    options: BatchOptions,
    errors: Option<&mut dyn Write>,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<History> {
    let shards: Shards<Vec<(u64, &str, &str, GroupedCase)>> = Shards::new();
    let mut options = options;
    options.read.purpose = Purpose::Weights;
    let stats = run_batch_with(
        input,
        &options,
        b"",
        &mut std::io::sink(),
        errors,
        |cols: &Columns, row: &RowIn, _out: &mut Vec<u8>, probs: &mut Vec<Problem>| {
            let r = match row.read(cols, &scheme.catalog) {
                RowOutcome::Invalid { problems, .. } => {
                    probs.extend(problems);
                    return INVALID;
                }
                RowOutcome::Valid(r) => r,
            };
            // the reader reports an empty total_cost (Purpose::Weights)
            let Some(cost) = r.total_cost else {
                let kind = ProblemKind::CostMissing {
                    purpose: Purpose::Weights,
                };
                probs.push(problem(&r, "total_cost", "", kind));
                return INVALID;
            };
            let g = group_record(scheme, &r, &mut Trace::disabled());
            if g.status == Status::Grouped {
                let drg = g.drg_code(scheme);
                let case = GroupedCase {
                    drg: drg.to_string(),
                    hospital_id: r.hospital_id.clone(),
                    row_level: r.hospital_level,
                    total_cost: cost,
                    fund_paid: r.fund_paid,
                    insured: params.region.insured_class(&r.insured_region),
                };
                shards.with(|v| v.push((r.line, drg, g.adrg_code(scheme), case)));
            }
            bucket(g.status)
        },
        progress,
    )?;

    // Input order, so that nothing depends on how the rows were spread over the workers.
    let mut grouped: Vec<(u64, &str, &str, GroupedCase)> =
        shards.into_vec().into_iter().flatten().collect();
    grouped.sort_unstable_by_key(|c| c.0);
    let weight_options = WeightOptions::from(&params.drg);
    let history: Vec<HistoryCase> = grouped
        .iter()
        .map(|(_, drg, adrg, c)| HistoryCase {
            drg: drg.to_string(),
            adrg: adrg.to_string(),
            status: GroupStatus::Grouped,
            total_cost: c.total_cost,
        })
        .collect();
    let table = WeightTable::from_history(&history, &scheme_drgs(scheme), weight_options);
    Ok(History {
        mean_all: table.mean_all(),
        table,
        stats,
        used: grouped.len() as u64,
        cases: grouped.into_iter().map(|(_, _, _, c)| c).collect(),
    })
}
