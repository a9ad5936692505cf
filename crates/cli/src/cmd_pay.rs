//! `drgdip weights` and `drgdip pay`: DRG weights from a year of history, and the payment of
//! each case (`payment-model.md` §1–§2, computed by the `drgdip-pay` crate).
//!
//! Both commands group their case file with the region's scheme (`[region].scheme` of the
//! parameter file) through the same streaming, parallel batch runner as `drgdip group`: rows
//! are read in chunks, grouped and paid on every core, and written in input order; invalid
//! rows go to the errors file and are never counted nor paid.
//!
//! Choices made here (the library documents its own):
//! - the weight table lists every DRG of the scheme that belongs to an ADRG (the `<L>QY`
//!   and `0000` codes, and codes of no ADRG, are not DRGs that carry a weight);
//! - the hospital level comes from the hospitals file by `hospital_id`, else from the row's
//!   `hospital_level` (a rule line says which); a case with neither is not paid;
//! - a case whose `total_cost` or `fund_paid` is empty cannot be paid (its own share is
//!   unknown): the reader reports it (`drgdip_io::Purpose::Pay`) and it is written as
//!   `invalid`; a file without those columns is refused at its header;
//! - special-case approvals (特例单议) come from `--special` (or, in `drgdip settle`, from the
//!   ledger's reviewed applications); without them no case is `special`;
//! - the exclusion catalogue (除外目录) is the file `exclusion.catalogue` of the parameters
//!   names (relative to the parameter file); it is validated whole, its ADRG codes against the
//!   region's scheme, before the first case is paid (see `cmd_exclusions`);
//! - the summary is accumulated per worker thread and merged at the end (exact decimals, so
//!   the totals do not depend on the order in which the rows were paid).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{anyhow, bail, Context, Result};
use drgdip_drg::{Lang, Status, Trace};
use drgdip_io::{
    csv_field, problems_text, run_batch_with, BatchOptions, BatchStats, CaseRecord, Columns,
    Problem, ProblemKind, Purpose, RowIn, RowOutcome,
};
use drgdip_pay::money::{Fen, W4};
use drgdip_pay::params::{Method, WeightsSource};
use drgdip_pay::weights::WeightOptions;
use drgdip_pay::{
    pay_case, Category, Date, GroupStatus, HistoryCase, Hospitals, ItemUse, Params, PayInput,
    PaySummary, Payment, RuleLine, SpecialApproval, Tariff, WeightSource, WeightTable,
};
use drgdip_scheme::Scheme;
use rust_decimal::Decimal;
use rustc_hash::FxHashMap;

use crate::cmd_exclusions::{exclusion_summary, tariff_for};
use crate::cmd_group::{bucket, group_record};
use crate::progress::Progress;
use crate::shared::{
    create_output, open_errors, open_input, parse_lang, read_hospitals, read_text, Env, InputOpts,
    SharedOpts,
};

#[derive(Debug, clap::Args)]
pub struct WeightsArgs {
    /// The history cases (CSV with a header, the case-file columns), e.g. the previous year.
    #[arg(long)]
    pub history: PathBuf,
    /// The region's parameter file (TOML): scheme, trimming, min_cases_for_own_weight.
    #[arg(long)]
    pub params: PathBuf,
    /// The weights (`drg,adrg,cases,mean_cost,weight,source`; `-` for standard output).
    #[arg(long, short)]
    pub output: PathBuf,
    /// The errors file: `line,case_id,field,value,message` per problem of the history.
    #[arg(long, short)]
    pub errors: Option<PathBuf>,
    /// Group the history with this scheme instead of the parameters' `region.scheme`.
    #[arg(long)]
    pub scheme: Option<String>,
    /// Language of the row problems (the errors file): en (default) or zh.
    #[arg(long)]
    pub lang: Option<String>,
    /// No progress bar and no summary.
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub input_opts: InputOpts,
    #[command(flatten)]
    pub shared: SharedOpts,
}

#[derive(Debug, clap::Args)]
pub struct PayArgs {
    /// The region's parameter file (TOML).
    #[arg(long)]
    pub params: PathBuf,
    /// The hospitals (CSV `hospital_id,name,level,credit_rating,performance_score,…`).
    #[arg(long)]
    pub hospitals: PathBuf,
    /// The DRG weights (CSV with at least `drg,weight`, e.g. made by `drgdip weights`).
    /// Default: the path given by `drg.weights` in the parameters (relative to the parameter
    /// file), or, with `drg.weights = "history"`, the weights computed from `--history`.
    #[arg(long, conflicts_with = "history")]
    pub weights: Option<PathBuf>,
    /// History cases to compute the weights from on the fly (as `drgdip weights` would).
    #[arg(long)]
    pub history: Option<PathBuf>,
    /// The cases to pay (CSV with a header; `-` for standard input).
    #[arg(long, short)]
    pub input: PathBuf,
    /// One payment row per input row, in order (`-` for standard output).
    #[arg(long, short)]
    pub output: PathBuf,
    /// The errors file: `line,case_id,field,value,message` per problem.
    #[arg(long, short)]
    pub errors: Option<PathBuf>,
    /// CNY per point, required when `drg.payment = "point"` (the year's provisional or final
    /// point value).
    #[arg(long)]
    pub point_value: Option<String>,
    /// Approved special cases (特例单议): a CSV `case_id,outcome,points` with outcome
    /// `per_item` or `extra_points` (points then required); those cases are paid as `special`.
    #[arg(long)]
    pub special: Option<PathBuf>,
    /// Add a `rules` column: how each payment was reached, the lines joined with " | ".
    #[arg(long)]
    pub trace: bool,
    /// Language of the row problems (the errors file, the `rules` of an invalid row): en
    /// (default) or zh.
    #[arg(long)]
    pub lang: Option<String>,
    /// No progress bar, no parameters echo and no summary (warnings are still printed).
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub input_opts: InputOpts,
    #[command(flatten)]
    pub shared: SharedOpts,
}

// ---------------------------------------------------------------------------------------
// Loading

/// Reads and validates the parameters (the scheme must be a known one), then loads the
/// scheme: the parameters' `region.scheme`, or `scheme` when given.
pub(crate) fn load_params(
    env: &Env,
    path: &Path,
    scheme: Option<&str>,
) -> Result<(Params, Arc<Scheme>)> {
    let text = read_text(path, "parameter file")?;
    let mut registry = env.registry()?;
    let names = registry.names();
    let known: Vec<&str> = names.iter().map(String::as_str).collect();
    let params = Params::from_toml_str_with_schemes(&text, &known)
        .map_err(|e| anyhow!("parameter file {}: {e}", path.display()))?;
    let name = scheme.unwrap_or(&params.region.scheme);
    let scheme = registry
        .get(name)
        .with_context(|| format!("cannot load the scheme {name:?}"))?;
    Ok((params, scheme))
}

pub(crate) fn group_status(s: Status) -> GroupStatus {
    match s {
        Status::Grouped => GroupStatus::Grouped,
        Status::Ambiguous => GroupStatus::Ambiguous,
        Status::Ungroupable => GroupStatus::Ungroupable,
    }
}

/// The summary bucket of an invalid row (as in `drgdip group`'s [`STATUS_NAMES`]).
///
/// [`STATUS_NAMES`]: crate::cmd_group::STATUS_NAMES
const INVALID: usize = 3;

/// One accumulator per rayon worker (plus one for any other thread): each row locks only
/// its own worker's, so the lock is never contended.
pub(crate) struct Shards<T>(Vec<Mutex<T>>);

impl<T: Default> Shards<T> {
    pub(crate) fn new() -> Self {
        Shards(
            (0..rayon::current_num_threads() + 1)
                .map(|_| Mutex::default())
                .collect(),
        )
    }

    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        let last = self.0.len() - 1;
        let i = rayon::current_thread_index().map_or(last, |i| i.min(last));
        let mut guard = self.0[i].lock().unwrap_or_else(|e| e.into_inner());
        f(&mut guard)
    }

    pub(crate) fn into_vec(self) -> Vec<T> {
        self.0
            .into_iter()
            .map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()))
            .collect()
    }
}

pub(crate) fn problem(r: &CaseRecord, field: &str, value: &str, kind: ProblemKind) -> Problem {
    Problem::new(r.line, r.case_id.as_str(), field, value, kind)
}

// ---------------------------------------------------------------------------------------
// Weights

/// The weights computed from a history file, with what the run saw.
struct History {
    table: WeightTable,
    stats: BatchStats,
    /// Grouped history cases with a cost (the ones the weights use).
    used: u64,
    /// The mean cost of all trimmed cases of all groups (the denominator of every weight).
    mean_all: Option<Decimal>,
}

/// Every DRG of the scheme that belongs to an ADRG, with its ADRG: the rows of the table.
fn scheme_drgs(scheme: &Scheme) -> Vec<(&str, &str)> {
    scheme
        .drgs
        .iter()
        .filter_map(|d| {
            d.adrg
                .map(|a| (d.code.as_str(), scheme.adrgs[usize::from(a)].code.as_str()))
        })
        .collect()
}

/// Groups the history and computes the weights of §1 over every DRG of the scheme.
/// `options`: how the history is read (its purpose is set here).
fn weights_from_history(
    scheme: &Scheme,
    params: &Params,
    path: &Path,
    options: BatchOptions,
    errors: Option<&mut dyn Write>,
    quiet: bool,
) -> Result<History> {
    let input = open_input(path)?;
    let shards: Shards<Vec<(u64, &str, &str, Decimal)>> = Shards::new();
    let progress = Progress::new(quiet);
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
                let case = (r.line, g.drg_code(scheme), g.adrg_code(scheme), cost);
                shards.with(|v| v.push(case));
            }
            bucket(g.status)
        },
        |n| progress.set(n),
    )
    .with_context(|| format!("history {}", path.display()))?;
    progress.finish();

    // Input order, so that nothing depends on how the rows were spread over the workers.
    let mut grouped: Vec<(u64, &str, &str, Decimal)> =
        shards.into_vec().into_iter().flatten().collect();
    grouped.sort_unstable_by_key(|c| c.0);
    let options = WeightOptions::from(&params.drg);
    let history: Vec<HistoryCase> = grouped
        .iter()
        .map(|&(_, drg, adrg, total_cost)| HistoryCase {
            drg: drg.to_string(),
            adrg: adrg.to_string(),
            status: GroupStatus::Grouped,
            total_cost,
        })
        .collect();
    let table = WeightTable::from_history(&history, &scheme_drgs(scheme), options);
    Ok(History {
        mean_all: table.mean_all(),
        table,
        stats,
        used: grouped.len() as u64,
    })
}

/// `N DRGs: a own, b adrg, c default`.
fn sources_text(table: &WeightTable) -> String {
    let count = |s: WeightSource| table.rows().iter().filter(|r| r.source == s).count();
    format!(
        "{} DRGs: {} own, {} adrg, {} default",
        table.len(),
        count(WeightSource::Own),
        count(WeightSource::Adrg),
        count(WeightSource::Default)
    )
}

fn history_text(h: &History, params: &Params, scheme: &Scheme) -> String {
    let b = &h.stats.by_status;
    format!(
        "history: {} rows read; {} grouped rows used; not used: {} ambiguous, {} ungroupable, {} invalid ({} problem(s)); {:.2} s\n\
         weights: {}; mean_all {} (trim {}, min_cases_for_own_weight {}); scheme {}",
        h.stats.rows,
        h.used,
        b[1],
        b[2],
        b[INVALID],
        h.stats.problems,
        h.stats.elapsed.as_secs_f64(),
        sources_text(&h.table),
        h.mean_all.map_or("none".to_string(), |m| Fen(m).to_string()),
        params.drg.trim,
        params.drg.min_cases_for_own_weight,
        scheme.label()
    )
}

/// Runs `drgdip weights`.
pub fn run_weights(a: WeightsArgs) -> Result<()> {
    let env = a.shared.resolve()?;
    let lang = parse_lang(a.lang.as_deref(), Lang::En)?;
    let (params, scheme) = load_params(&env, &a.params, a.scheme.as_deref())?;
    let mut errors = open_errors(a.errors.as_deref())?;
    let history = weights_from_history(
        &scheme,
        &params,
        &a.history,
        a.input_opts
            .batch_limited(Purpose::Weights, lang, params.limits.max_case_cost),
        errors.as_mut().map(|w| w.as_mut() as &mut dyn Write),
        a.quiet,
    )?;
    if let Some(mut e) = errors {
        e.flush()?;
    }
    let mut out = create_output(&a.output)?;
    out.write_all(history.table.to_csv_string().as_bytes())?;
    out.flush()?;
    if !a.quiet {
        eprintln!("{}", history_text(&history, &params, &scheme));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Pay

/// The header of `drgdip pay`'s output.
const PAY_HEADER: &str =
    "case_id,status,mdc,adrg,drg,category,weight,standard,total_cost,payment,own,fund_due";

/// Where a case's hospital level came from.
enum LevelFrom {
    /// The hospitals file.
    File,
    /// The row's `hospital_level` (the hospital is not in the file).
    Row,
}

struct PayCtx<'a> {
    scheme: &'a Scheme,
    tariff: &'a Tariff,
    special: &'a FxHashMap<String, SpecialApproval>,
    hospitals: &'a Hospitals,
    trace: bool,
    /// The language of the row problems.
    lang: Lang,
    summary: Shards<PaySummary>,
    exclusions: Shards<ExclusionTally>,
    level_from_row: AtomicU64,
}

/// What rule 4 did over a run, for the summary.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct ExclusionTally {
    /// Cases paid as `excluded`.
    pub excluded: u64,
    /// Of those, paid the exclusion payment (it was larger than the ordinary one).
    pub exclusion_larger: u64,
    /// Σ (payment − ordinary payment) of the excluded cases.
    pub extra_payment: Decimal,
    /// Cases that named items, none of which applied.
    pub no_applicable_item: u64,
    /// Cases flagged `new_tech_flag = 1` that named no item (catalogue in force).
    pub flag_without_item: u64,
}

impl ExclusionTally {
    pub(crate) fn add(&mut self, p: &Payment) {
        if let Some(e) = &p.exclusion {
            self.excluded += 1;
            self.exclusion_larger += u64::from(e.exclusion_larger());
            self.extra_payment += p.payment - e.ordinary;
        }
        for rule in &p.rules {
            match rule {
                RuleLine::ExclusionNoApplicableItem => self.no_applicable_item += 1,
                RuleLine::ExclusionFlagWithoutItem => self.flag_without_item += 1,
                _ => {}
            }
        }
    }

    pub(crate) fn merge(&mut self, o: &ExclusionTally) {
        self.excluded += o.excluded;
        self.exclusion_larger += o.exclusion_larger;
        self.extra_payment += o.extra_payment;
        self.no_applicable_item += o.no_applicable_item;
        self.flag_without_item += o.flag_without_item;
    }
}

/// The payment input of a valid record, grouped: the record's money, region, flags, items
/// and discharge date.
#[allow(clippy::too_many_arguments)]
pub(crate) fn pay_input(
    r: CaseRecord,
    hospital_level: u8,
    total_cost: Decimal,
    fund_paid: Decimal,
    status: GroupStatus,
    (mdc, adrg, drg): (&str, &str, &str),
    special: Option<SpecialApproval>,
) -> PayInput {
    PayInput {
        discharge_date: Date::parse(&r.discharge_date),
        new_tech_items: r
            .new_tech_items
            .into_iter()
            .map(|i| ItemUse {
                code: i.code,
                cost: i.cost,
            })
            .collect(),
        case_id: r.case_id,
        hospital_level,
        insured_region: r.insured_region,
        new_tech_flag: r.new_tech_flag,
        los: r.los,
        total_cost,
        fund_paid,
        status,
        mdc: mdc.to_string(),
        adrg: adrg.to_string(),
        drg: drg.to_string(),
        special,
    }
}

/// An unpaid (invalid) row, as the summary counts it: no amount.
fn unpaid() -> Payment {
    Payment {
        category: Category::Invalid,
        status: GroupStatus::Invalid,
        weight: None,
        standard: None,
        total_cost: Decimal::ZERO,
        payment: Decimal::ZERO,
        own: Decimal::ZERO,
        fund_due: Decimal::ZERO,
        rules: Vec::new(),
        exclusion: None,
    }
}

impl PayCtx<'_> {
    fn level(&self, r: &CaseRecord) -> Option<(u8, LevelFrom)> {
        match self.hospitals.get(&r.hospital_id) {
            Some(h) => Some((h.level, LevelFrom::File)),
            None => r.hospital_level.map(|l| (l, LevelFrom::Row)),
        }
    }

    fn invalid(&self, out: &mut Vec<u8>, case_id: &str, problems: &[Problem]) -> usize {
        let _ = write!(out, "{},invalid,,,,invalid,,,,,,", csv_field(case_id));
        if self.trace {
            let text = problems_text(problems, self.lang);
            let _ = write!(
                out,
                ",{}",
                csv_field(&format!("invalid: not paid ({text})"))
            );
        }
        out.push(b'\n');
        self.summary.with(|s| s.add(&unpaid()));
        Category::Invalid as usize
    }

    fn row(
        &self,
        cols: &Columns,
        row: &RowIn,
        out: &mut Vec<u8>,
        probs: &mut Vec<Problem>,
    ) -> usize {
        let r = match row.read(cols, &self.scheme.catalog) {
            RowOutcome::Invalid { case_id, problems } => {
                let k = self.invalid(out, &case_id, &problems);
                probs.extend(problems);
                return k;
            }
            RowOutcome::Valid(r) => *r,
        };
        let level = self.level(&r);
        // the reader reports an empty total_cost or fund_paid (Purpose::Pay)
        let mut missing = Vec::new();
        if r.total_cost.is_none() {
            let kind = ProblemKind::CostMissing {
                purpose: Purpose::Pay,
            };
            missing.push(problem(&r, "total_cost", "", kind));
        }
        if r.fund_paid.is_none() {
            let kind = ProblemKind::FundPaidMissing {
                purpose: Purpose::Pay,
            };
            missing.push(problem(&r, "fund_paid", "", kind));
        }
        if level.is_none() {
            let kind = ProblemKind::HospitalUnknown {
                hospital_id: r.hospital_id.clone(),
            };
            missing.push(problem(&r, "hospital_level", &r.hospital_id, kind));
        }
        let (Some(total_cost), Some(fund_paid), Some((level, from))) =
            (r.total_cost, r.fund_paid, level)
        else {
            let k = self.invalid(out, &r.case_id, &missing);
            probs.extend(missing);
            return k;
        };

        let s = self.scheme;
        let g = group_record(s, &r, &mut Trace::disabled());
        let (mdc, adrg, drg) = (g.mdc_code(s), g.adrg_code(s), g.drg_code(s));
        let level_line = self.trace.then(|| match from {
            LevelFrom::File => match r.hospital_level {
                Some(l) if l != level => format!(
                    "hospital {}: level {level} from the hospitals file (the row says {l})",
                    r.hospital_id
                ),
                _ => format!("hospital {}: level {level} from the hospitals file", r.hospital_id),
            },
            LevelFrom::Row => format!(
                "hospital {} is not in the hospitals file: level {level} from the row's hospital_level",
                r.hospital_id
            ),
        });
        if let LevelFrom::Row = from {
            self.level_from_row.fetch_add(1, Ordering::Relaxed);
        }
        let special = self.special.get(&r.case_id).copied();
        let input = pay_input(
            r,
            level,
            total_cost,
            fund_paid,
            group_status(g.status),
            (mdc, adrg, drg),
            special,
        );
        let p = pay_case(self.tariff, &input);
        let _ = write!(
            out,
            "{},{},{mdc},{adrg},{drg},{}",
            csv_field(&input.case_id),
            g.status.as_str(),
            p.category
        );
        match p.weight {
            Some(w) => {
                let _ = write!(out, ",{}", W4(w));
            }
            None => out.push(b','),
        }
        match p.standard {
            Some(st) => {
                let _ = write!(out, ",{}", Fen(st));
            }
            None => out.push(b','),
        }
        let _ = write!(
            out,
            ",{},{},{},{}",
            Fen(p.total_cost),
            Fen(p.payment),
            Fen(p.own),
            Fen(p.fund_due)
        );
        if let Some(first) = level_line {
            let mut lines = vec![first];
            lines.extend(p.rules.iter().map(ToString::to_string));
            let _ = write!(out, ",{}", csv_field(&lines.join(" | ")));
        }
        out.push(b'\n');
        self.summary.with(|s| s.add(&p));
        self.exclusions.with(|t| t.add(&p));
        p.category as usize
    }
}

/// Where the weights of a pay run come from: `--weights`, `--history`, or the parameters.
fn pay_weights(a: &PayArgs, params: &Params, scheme: &Scheme) -> Result<(WeightTable, String)> {
    let read = |path: &Path| -> Result<(WeightTable, String)> {
        let text = read_text(path, "weights file")?;
        let table = WeightTable::from_csv_str(&text)
            .map_err(|e| anyhow!("weights file {}: {e}", path.display()))?;
        let desc = format!("{} ({})", path.display(), sources_text(&table));
        Ok((table, desc))
    };
    if let Some(w) = &a.weights {
        return read(w);
    }
    if let Some(h) = &a.history {
        let options =
            a.input_opts
                .batch_limited(Purpose::Weights, Lang::En, params.limits.max_case_cost);
        let history = weights_from_history(scheme, params, h, options, None, a.quiet)?;
        if history.stats.problems > 0 {
            eprintln!(
                "drgdip: warning: history {}: {} invalid row(s) not counted (list them with `drgdip weights --errors`)",
                h.display(),
                history.stats.by_status[INVALID]
            );
        }
        let desc = format!(
            "computed from the history {}\n{}",
            h.display(),
            history_text(&history, params, scheme)
        );
        return Ok((history.table, desc));
    }
    match &params.drg.weights {
        WeightsSource::File(p) => {
            let p = Path::new(p);
            let path = if p.is_relative() {
                a.params.parent().unwrap_or(Path::new("")).join(p)
            } else {
                p.to_path_buf()
            };
            read(&path).context("drg.weights in the parameter file")
        }
        WeightsSource::History => bail!(
            "drg.weights = \"history\" in {}: give --history CASES.csv to compute the weights \
             on the fly, or --weights W.csv (made by `drgdip weights`)",
            a.params.display()
        ),
    }
}

/// Warnings about a weight table that does not fit the scheme.
fn check_weights(table: &WeightTable, scheme: &Scheme) -> Vec<String> {
    let list = |codes: Vec<&str>| {
        let more = codes.len().saturating_sub(8);
        let mut text = codes.into_iter().take(8).collect::<Vec<_>>().join(" ");
        if more > 0 {
            text.push_str(&format!(" … (+{more})"));
        }
        text
    };
    let mut warnings = Vec::new();
    let missing: Vec<&str> = scheme_drgs(scheme)
        .into_iter()
        .map(|(d, _)| d)
        .filter(|d| table.get(d).is_none())
        .collect();
    if !missing.is_empty() {
        warnings.push(format!(
            "{} DRG(s) of {} have no weight (their cases are paid per item): {}",
            missing.len(),
            scheme.name,
            list(missing)
        ));
    }
    let unknown: Vec<&str> = table
        .rows()
        .iter()
        .map(|r| r.drg.as_str())
        .filter(|d| scheme.drg_by_code(d).is_none())
        .collect();
    if !unknown.is_empty() {
        warnings.push(format!(
            "{} weight(s) for codes that are not DRGs of {}: {}",
            unknown.len(),
            scheme.name,
            list(unknown)
        ));
    }
    warnings
}

/// Runs `drgdip pay`.
pub fn run_pay(a: PayArgs) -> Result<()> {
    let env = a.shared.resolve()?;
    let lang = parse_lang(a.lang.as_deref(), Lang::En)?;
    let (params, scheme) = load_params(&env, &a.params, None)?;
    let hospitals = read_hospitals(&a.hospitals)?;
    let point_value = a
        .point_value
        .as_deref()
        .map(|v| {
            Decimal::from_str(v.trim())
                .map_err(|_| anyhow!("--point-value {v:?}: expected a decimal such as 12.34"))
        })
        .transpose()?;
    let (weights, weights_desc) = pay_weights(&a, &params, &scheme)?;
    let (tariff, catalogue_desc) = tariff_for(&a.params, &params, &scheme, &weights, point_value)?;
    if params.region.method == Method::Dip {
        eprintln!(
            "drgdip: warning: region.method = \"dip\": this region pays by DIP; paying by DRG anyway"
        );
    }
    for w in check_weights(&weights, &scheme) {
        eprintln!("drgdip: warning: weights: {w}");
    }
    for w in params.warnings() {
        eprintln!("drgdip: warning: {}: {w}", a.params.display());
    }

    let input = open_input(&a.input)?;
    let mut out = create_output(&a.output)?;
    let mut errors = open_errors(a.errors.as_deref())?;
    let header = if a.trace {
        format!("{PAY_HEADER},rules\n")
    } else {
        format!("{PAY_HEADER}\n")
    };
    let special = match &a.special {
        Some(p) => read_special(p)?,
        None => FxHashMap::default(),
    };
    let ctx = PayCtx {
        scheme: &scheme,
        tariff: &tariff,
        special: &special,
        hospitals: &hospitals,
        trace: a.trace,
        lang,
        summary: Shards::new(),
        exclusions: Shards::new(),
        level_from_row: AtomicU64::new(0),
    };
    let progress = Progress::new(a.quiet);
    let options = a
        .input_opts
        .batch_limited(Purpose::Pay, lang, params.limits.max_case_cost);
    let stats = run_batch_with(
        input,
        &options,
        header.as_bytes(),
        &mut out,
        errors.as_mut().map(|w| w.as_mut() as &mut dyn Write),
        |cols, row, buf, probs| ctx.row(cols, row, buf, probs),
        |n| progress.set(n),
    )
    .with_context(|| format!("the case file {}", a.input.display()))?;
    progress.finish();
    let level_from_row = ctx.level_from_row.load(Ordering::Relaxed);
    let mut summary = PaySummary::new();
    for part in ctx.summary.into_vec() {
        summary.merge(&part);
    }
    if summary.overflowed() {
        bail!(
            "the totals of {} overflowed (amounts beyond what can be added); the output file has every case, its totals are not valid",
            a.input.display()
        );
    }
    let mut exclusions = ExclusionTally::default();
    for part in ctx.exclusions.into_vec() {
        exclusions.merge(&part);
    }
    if !a.quiet {
        eprintln!("parameters ({}):", a.params.display());
        for line in params.summary_lines() {
            eprintln!("  {line}");
        }
        eprintln!("scheme: {}", scheme.label());
        eprintln!("weights: {weights_desc}");
        eprintln!(
            "hospitals: {} in {}; {level_from_row} case(s) took the level of their row (hospital not in the file)",
            hospitals.len(),
            a.hospitals.display()
        );
        eprint!("{}", summary.render_text());
        let total = summary.total();
        let paid = total.cases - summary.category(Category::Invalid).cases;
        let ratio = if total.total_cost.is_zero() {
            "—".to_string()
        } else {
            W4(total.payment / total.total_cost).to_string()
        };
        eprintln!(
            "payment {} vs per-item cost {} over {paid} paid case(s): ratio {ratio}, difference {}",
            Fen(total.payment),
            Fen(total.total_cost),
            Fen(total.payment - total.total_cost)
        );
        eprintln!("{}", exclusion_summary(&catalogue_desc, &exclusions));
        eprintln!(
            "special-case approvals (特例单议): {} case(s) given{}",
            special.len(),
            if a.special.is_none() {
                " (none: --special not given)"
            } else {
                ""
            }
        );
        eprintln!(
            "{} rows; {} problem(s); {:.2} s, {:.0} rows/s",
            stats.rows,
            stats.problems,
            stats.elapsed.as_secs_f64(),
            stats.rows_per_sec()
        );
    }
    Ok(())
}

/// Reads approved special cases: `case_id,outcome,points` (outcome `per_item` or
/// `extra_points`). A malformed row names its line and field.
pub(crate) fn read_special(path: &Path) -> Result<FxHashMap<String, SpecialApproval>> {
    let mut rdr = csv::Reader::from_path(path)
        .with_context(|| format!("cannot read the special cases {}", path.display()))?;
    let header = rdr.headers()?.clone();
    let pos = |name: &str| {
        header
            .iter()
            .position(|h| h.trim() == name)
            .ok_or_else(|| anyhow::anyhow!("{}: no column {name:?}", path.display()))
    };
    let (c_id, c_out, c_pts) = (pos("case_id")?, pos("outcome")?, pos("points").ok());
    let mut map = FxHashMap::default();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.with_context(|| format!("{}: line {}", path.display(), i + 2))?;
        let at = |field: &str, msg: String| {
            anyhow::anyhow!("{}: line {}, {field}: {msg}", path.display(), i + 2)
        };
        let id = rec.get(c_id).unwrap_or("").trim().to_string();
        if id.is_empty() {
            return Err(at("case_id", "empty".into()));
        }
        let approval = match rec.get(c_out).unwrap_or("").trim() {
            "per_item" => SpecialApproval::PerItem,
            "extra_points" => {
                let raw = c_pts.and_then(|c| rec.get(c)).unwrap_or("").trim();
                match Decimal::from_str(raw) {
                    Ok(p) if !p.is_sign_negative() => SpecialApproval::ExtraPoints(p),
                    _ => return Err(at("points", format!("{raw:?}: expected a number ≥ 0"))),
                }
            }
            other => {
                return Err(at(
                    "outcome",
                    format!("{other:?}: expected per_item or extra_points"),
                ))
            }
        };
        if map.insert(id.clone(), approval).is_some() {
            return Err(at("case_id", format!("{id} is listed twice")));
        }
    }
    Ok(map)
}
