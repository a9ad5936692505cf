//! The exclusion catalogue (除外目录, `payment-model.md` §2 rule 4) as the commands read it,
//! and `drgdip exclusions check`.
//!
//! The catalogue is the file `exclusion.catalogue` of the parameters names, relative to the
//! parameter file; it is parsed and validated by `drgdip-pay` (every problem named by line,
//! field and value) and its ADRG codes are checked here against the scheme the cases are
//! grouped with. A catalogue with any problem stops the run: it is the province's rule book.
//!
//! `check` validates a catalogue and, given a case file, pays every case with it (as `pay`
//! does) and reports per item: the cases that named it, the cases it decided (and how many
//! were paid the exclusion payment rather than the ordinary one), the cases where it applied
//! but another item decided, the cases where it failed (by reason), the cases decided by an
//! earlier rule (invalid, cross-province, 0000, QY) and what it cost the fund:
//! Σ (payment − ordinary payment) and Σ (fund_due − the ordinary fund_due) over the cases it
//! decided.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;

use anyhow::{anyhow, bail, Context, Result};
use drgdip_drg::Trace;
use drgdip_io::{csv_field, run_batch, Columns, Problem, ProblemKind, Purpose, RowIn, RowOutcome};
use drgdip_pay::exclusion::{Catalogue, CatalogueItem, CatalogueProblem, ItemFailure};
use drgdip_pay::money::Fen;
use drgdip_pay::{pay_case, Category, GroupStatus, Params, Tariff, WeightTable};
use drgdip_scheme::Scheme;
use rust_decimal::Decimal;

use drgdip_engine::batch::{group_record, group_status, Shards};
use drgdip_engine::pricing::{pay_input, ExclusionTally};

use crate::progress::Progress;
use crate::shared::{
    create_output, load_params, open_errors, open_input, read_hospitals, read_text, SharedOpts,
};

// ---------------------------------------------------------------------------------------
// The catalogue as pay, serve, settle and dip read it

pub(crate) use drgdip_engine::region::{forms_text, parse_catalogue};

// ---------------------------------------------------------------------------------------
// drgdip exclusions check

#[derive(Debug, clap::Args)]
pub struct ExclusionsArgs {
    #[command(subcommand)]
    pub command: ExclusionsCommand,
    #[command(flatten)]
    pub shared: SharedOpts,
}

#[derive(Debug, clap::Subcommand)]
pub enum ExclusionsCommand {
    /// Validate an exclusion catalogue and, given a case file, what each item did and cost.
    Check(CheckArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A readable table.
    Table,
    /// CSV, one row per item.
    Csv,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The catalogue (CSV `code,kind,name,valid_from,valid_to,form,bonus,adrgs`).
    #[arg(long)]
    pub catalogue: PathBuf,
    /// The region's parameter file: its `region.scheme` checks the ADRG codes; with
    /// `--input`, its rates and rules pay the cases.
    #[arg(long)]
    pub params: Option<PathBuf>,
    /// The scheme whose ADRGs the catalogue may name (default: `region.scheme` of the
    /// parameters, else chs-drg-2.0); with `--input`, the scheme the cases are grouped with.
    #[arg(long)]
    pub scheme: Option<String>,
    /// Cases to pay with the catalogue (needs --params, --hospitals and --weights).
    #[arg(long, short, requires_all = ["params", "hospitals", "weights"])]
    pub input: Option<PathBuf>,
    /// The hospitals file (the level of each case).
    #[arg(long)]
    pub hospitals: Option<PathBuf>,
    /// The DRG weights (CSV with at least `drg,weight`, e.g. made by `drgdip weights`).
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// CNY per point, when the parameters say `drg.payment = "point"`.
    #[arg(long)]
    pub point_value: Option<String>,
    /// `table` (default) or `csv`.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Where to write the report (default: standard output).
    #[arg(long, short, default_value = "-")]
    pub output: PathBuf,
    /// The errors file for the case file's invalid rows.
    #[arg(long, short)]
    pub errors: Option<PathBuf>,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Runs `drgdip exclusions …`.
pub fn run(a: ExclusionsArgs) -> Result<()> {
    match a.command {
        ExclusionsCommand::Check(c) => run_check(&a.shared, c),
    }
}

/// What one item did over the case file.
#[derive(Debug, Default, Clone)]
struct ItemStats {
    /// Cases naming the item.
    named: u64,
    /// Cases it decided.
    decided: u64,
    /// Of those, paid the exclusion payment (larger than the ordinary one).
    exclusion_larger: u64,
    /// Cases where it applied but another item decided.
    also_applicable: u64,
    /// Cases where it failed, by [`ItemFailure::NAMES`].
    failed: [u64; 5],
    /// Cases decided by an earlier rule (invalid, cross-province, 0000, QY).
    earlier_rule: u64,
    /// Σ (payment − ordinary payment) over the cases it decided.
    extra_payment: Decimal,
    /// Σ (fund_due − ordinary fund_due) over the cases it decided.
    extra_fund_due: Decimal,
}

impl ItemStats {
    fn merge(&mut self, o: &ItemStats) {
        self.named += o.named;
        self.decided += o.decided;
        self.exclusion_larger += o.exclusion_larger;
        self.also_applicable += o.also_applicable;
        for (a, b) in self.failed.iter_mut().zip(o.failed) {
            *a += b;
        }
        self.earlier_rule += o.earlier_rule;
        self.extra_payment += o.extra_payment;
        self.extra_fund_due += o.extra_fund_due;
    }
}

/// The per-worker accumulator of a check run.
#[derive(Debug, Default)]
struct CheckTally {
    items: BTreeMap<String, ItemStats>,
    cases: u64,
    invalid: u64,
    naming: u64,
    exclusions: ExclusionTally,
    extra_fund_due: Decimal,
}

/// `region.scheme` of a parameter file, read leniently (only that key).
fn region_scheme(text: &str) -> Option<String> {
    let root: toml::Table = text.parse().ok()?;
    match root.get("region")?.get("scheme")? {
        toml::Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

fn run_check(shared: &SharedOpts, a: CheckArgs) -> Result<()> {
    let env = shared.resolve()?;
    let params_text = a
        .params
        .as_deref()
        .map(|p| read_text(p, "parameter file"))
        .transpose()?;
    let scheme_name = a
        .scheme
        .clone()
        .or_else(|| params_text.as_deref().and_then(region_scheme))
        .unwrap_or_else(|| "chs-drg-2.0".to_string());
    let mut out = create_output(&a.output)?;

    let text = read_text(&a.catalogue, "exclusion catalogue")?;
    let (case_run, scheme) = match &a.input {
        Some(_) => {
            let (run, scheme) = case_run(&a, &env)?;
            (Some(run), scheme)
        }
        None => {
            let scheme = env
                .registry()?
                .get(&scheme_name)
                .with_context(|| format!("cannot load the scheme {scheme_name:?}"))?;
            (None, scheme)
        }
    };
    let catalogue = match parse_catalogue(&text, &scheme) {
        Ok(c) => c,
        Err(problems) => {
            write_problems(&mut *out, a.format, &a.catalogue, &problems)?;
            out.flush()?;
            bail!(
                "the exclusion catalogue {} has {} problem(s)",
                a.catalogue.display(),
                problems.len()
            );
        }
    };

    let tally = match (&case_run, &a.input) {
        (Some(run), Some(input)) => Some(check_cases(run, &catalogue, &scheme, input)?),
        _ => None,
    };
    match a.format {
        Format::Table => write_table(&mut *out, &a.catalogue, &catalogue, &scheme, tally.as_ref())?,
        Format::Csv => write_csv(&mut *out, &catalogue, tally.as_ref())?,
    }
    out.flush()?;
    Ok(())
}

/// The pieces a case run needs, from the arguments.
struct CaseRun<'a> {
    args: &'a CheckArgs,
    params: Params,
    weights: WeightTable,
    hospitals: drgdip_pay::Hospitals,
    point_value: Option<Decimal>,
}

/// The parameters (validated, their scheme loaded: `--scheme` or `region.scheme`), weights,
/// hospitals and point value of a case run.
fn case_run<'a>(a: &'a CheckArgs, env: &crate::shared::Env) -> Result<(CaseRun<'a>, Arc<Scheme>)> {
    let (Some(params_path), Some(hospitals), Some(weights)) = (&a.params, &a.hospitals, &a.weights)
    else {
        bail!("--input needs --params, --hospitals and --weights");
    };
    let (params, scheme) = load_params(env, params_path, a.scheme.as_deref())?;
    let text = read_text(weights, "weights file")?;
    let weights = WeightTable::from_csv_str(&text)
        .map_err(|e| anyhow!("weights file {}: {e}", weights.display()))?;
    let point_value = a
        .point_value
        .as_deref()
        .map(|v| {
            Decimal::from_str(v.trim())
                .map_err(|_| anyhow!("--point-value {v:?}: expected a decimal such as 12.34"))
        })
        .transpose()?;
    let run = CaseRun {
        args: a,
        params,
        weights,
        hospitals: read_hospitals(hospitals)?,
        point_value,
    };
    Ok((run, scheme))
}

/// Pays every case of `input` with `catalogue` and counts what each named item did.
fn check_cases(
    run: &CaseRun<'_>,
    catalogue: &Catalogue,
    scheme: &Scheme,
    input: &Path,
) -> Result<CheckTally> {
    let shared_catalogue = Arc::new(catalogue.clone());
    let tariff =
        Tariff::with_catalogue(&run.params, &run.weights, run.point_value, shared_catalogue)
            .map_err(|e| anyhow!("{e}"))?;
    let shards: Shards<CheckTally> = Shards::new();
    let mut errors = open_errors(run.args.errors.as_deref())?;
    let progress = Progress::new(run.args.quiet);
    run_batch(
        open_input(input)?,
        b"",
        &mut std::io::sink(),
        errors.as_mut().map(|w| w.as_mut() as &mut dyn Write),
        |cols: &Columns, row: &RowIn, _out: &mut Vec<u8>, probs: &mut Vec<Problem>| {
            let r = match row.read(cols, &scheme.catalog) {
                RowOutcome::Invalid { problems, .. } => {
                    probs.extend(problems);
                    shards.with(|t| {
                        t.cases += 1;
                        t.invalid += 1;
                    });
                    return 1;
                }
                RowOutcome::Valid(r) => *r,
            };
            let level = run
                .hospitals
                .get(&r.hospital_id)
                .map(|h| h.level)
                .or(r.hospital_level);
            let (Some(total_cost), Some(fund_paid), Some(level)) =
                (r.total_cost, r.fund_paid, level)
            else {
                let (field, value, kind) = match (r.total_cost, r.fund_paid) {
                    (None, _) => (
                        "total_cost",
                        String::new(),
                        ProblemKind::CostMissing {
                            purpose: Purpose::Pay,
                        },
                    ),
                    (_, None) => (
                        "fund_paid",
                        String::new(),
                        ProblemKind::FundPaidMissing {
                            purpose: Purpose::Pay,
                        },
                    ),
                    _ => (
                        "hospital_id",
                        r.hospital_id.clone(),
                        ProblemKind::HospitalUnknown {
                            hospital_id: r.hospital_id.clone(),
                        },
                    ),
                };
                probs.push(drgdip_engine::batch::problem(&r, field, &value, kind));
                shards.with(|t| {
                    t.cases += 1;
                    t.invalid += 1;
                });
                return 1;
            };
            let g = group_record(scheme, &r, &mut Trace::disabled());
            let status = group_status(g.status);
            let codes = (g.mdc_code(scheme), g.adrg_code(scheme), g.drg_code(scheme));
            let input = pay_input(r, level, total_cost, fund_paid, status, codes, None);
            let p = pay_case(&tariff, &input);
            // Rules 1–3 decide before the exclusion: invalid, cross-province, 0000, QY.
            let reached = status == GroupStatus::Grouped && p.category != Category::CrossProvince;
            let checks = catalogue.check(&input.new_tech_items, input.discharge_date, &input.adrg);
            let decided = p.exclusion.as_ref().and_then(|e| e.item.clone());
            shards.with(|t| {
                t.cases += 1;
                t.naming += u64::from(!input.new_tech_items.is_empty());
                t.exclusions.add(&p);
                if let Some(e) = &p.exclusion {
                    let ordinary_due = (e.ordinary - p.own).max(Decimal::ZERO);
                    t.extra_fund_due += p.fund_due - ordinary_due;
                }
                for c in &checks.0 {
                    let s = t.items.entry(c.code.clone()).or_default();
                    s.named += 1;
                    if !reached {
                        s.earlier_rule += 1;
                        continue;
                    }
                    match &c.outcome {
                        Err(f) => s.failed[failure_index(f)] += 1,
                        Ok(_) if decided.as_deref() == Some(c.code.as_str()) => {
                            s.decided += 1;
                            if let Some(e) = &p.exclusion {
                                s.exclusion_larger += u64::from(e.exclusion_larger());
                                s.extra_payment += p.payment - e.ordinary;
                                s.extra_fund_due +=
                                    p.fund_due - (e.ordinary - p.own).max(Decimal::ZERO);
                            }
                        }
                        Ok(_) => s.also_applicable += 1,
                    }
                }
            });
            0
        },
        |n| progress.set(n),
    )
    .with_context(|| format!("cases {}", input.display()))?;
    progress.finish();
    if let Some(mut e) = errors {
        e.flush()?;
    }
    let mut tally = CheckTally::default();
    for part in shards.into_vec() {
        for (code, s) in &part.items {
            tally.items.entry(code.clone()).or_default().merge(s);
        }
        tally.cases += part.cases;
        tally.invalid += part.invalid;
        tally.naming += part.naming;
        tally.exclusions.merge(&part.exclusions);
        tally.extra_fund_due += part.extra_fund_due;
    }
    Ok(tally)
}

fn failure_index(f: &ItemFailure) -> usize {
    ItemFailure::NAMES
        .iter()
        .position(|n| *n == f.as_str())
        .unwrap_or(0)
}

/// The rows of the report: the catalogue's items in file order, then the codes the cases
/// named that the catalogue does not list (sorted).
fn report_rows<'a>(
    catalogue: &'a Catalogue,
    tally: Option<&'a CheckTally>,
) -> Vec<(String, Option<&'a CatalogueItem>, ItemStats)> {
    let stats = |code: &str| {
        tally
            .and_then(|t| t.items.get(code).cloned())
            .unwrap_or_default()
    };
    let mut rows: Vec<_> = catalogue
        .items()
        .iter()
        .map(|i| (i.code.clone(), Some(i), stats(&i.code)))
        .collect();
    if let Some(t) = tally {
        for (code, s) in &t.items {
            if catalogue.get(code).is_none() {
                rows.push((code.clone(), None, s.clone()));
            }
        }
    }
    rows
}

const CSV_HEADER: &str = "code,kind,form,bonus,valid_from,valid_to,adrgs,named,decided,exclusion_larger,also_applicable,unlisted,expired,not_yet_valid,out_of_scope,no_discharge_date,earlier_rule,extra_payment,extra_fund_due";

fn write_csv(out: &mut dyn Write, catalogue: &Catalogue, tally: Option<&CheckTally>) -> Result<()> {
    writeln!(out, "{CSV_HEADER}")?;
    for (code, item, s) in report_rows(catalogue, tally) {
        match item {
            Some(i) => write!(
                out,
                "{},{},{},{},{},{},{}",
                csv_field(&code),
                i.kind,
                i.form,
                i.bonus.map(|b| b.to_string()).unwrap_or_default(),
                i.valid_from,
                i.valid_to,
                csv_field(&i.adrgs.join("|"))
            )?,
            None => write!(out, "{},,,,,,", csv_field(&code))?,
        }
        if tally.is_none() {
            writeln!(out, ",,,,,,,,,,,,")?;
            continue;
        }
        write!(
            out,
            ",{},{},{},{}",
            s.named, s.decided, s.exclusion_larger, s.also_applicable
        )?;
        for n in s.failed {
            write!(out, ",{n}")?;
        }
        writeln!(
            out,
            ",{},{},{}",
            s.earlier_rule,
            Fen(s.extra_payment),
            Fen(s.extra_fund_due)
        )?;
    }
    Ok(())
}

fn write_problems(
    out: &mut dyn Write,
    format: Format,
    path: &Path,
    problems: &[CatalogueProblem],
) -> Result<()> {
    match format {
        Format::Csv => {
            writeln!(out, "line,field,value,message")?;
            for p in problems {
                writeln!(
                    out,
                    "{},{},{},{}",
                    p.line,
                    csv_field(&p.field),
                    csv_field(&p.value),
                    csv_field(&p.message)
                )?;
            }
        }
        Format::Table => {
            writeln!(
                out,
                "exclusion catalogue {}: {} problem(s)",
                path.display(),
                problems.len()
            )?;
            for p in problems {
                writeln!(out, "  {p}")?;
            }
        }
    }
    Ok(())
}

/// Left-aligns the columns `left` and right-aligns the others.
fn aligned(rows: &[Vec<String>], left: &[usize]) -> String {
    let widths: Vec<usize> = (0..rows.first().map_or(0, Vec::len))
        .map(|c| {
            rows.iter()
                .map(|r| r.get(c).map_or(0, |s| s.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut text = String::new();
    for r in rows {
        let mut line = String::new();
        for (c, cell) in r.iter().enumerate() {
            let pad = widths[c].saturating_sub(cell.chars().count());
            if c > 0 {
                line.push_str("  ");
            }
            if left.contains(&c) {
                line.push_str(cell);
                line.push_str(&" ".repeat(pad));
            } else {
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            }
        }
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text
}

fn write_table(
    out: &mut dyn Write,
    path: &Path,
    catalogue: &Catalogue,
    scheme: &Scheme,
    tally: Option<&CheckTally>,
) -> Result<()> {
    writeln!(
        out,
        "exclusion catalogue {}: valid; {}; ADRG codes known to {}",
        path.display(),
        forms_text(catalogue),
        scheme.label()
    )?;
    let mut rows = vec![[
        "code",
        "kind",
        "form",
        "bonus",
        "valid_from",
        "valid_to",
        "scope",
        "name",
    ]
    .map(String::from)
    .to_vec()];
    for i in catalogue.items() {
        rows.push(vec![
            i.code.clone(),
            i.kind.to_string(),
            i.form.to_string(),
            i.bonus.map(|b| b.to_string()).unwrap_or_else(|| "-".into()),
            i.valid_from.to_string(),
            i.valid_to.to_string(),
            i.scope_text(),
            i.name.clone(),
        ]);
    }
    out.write_all(aligned(&rows, &[0, 1, 2, 4, 5, 6, 7]).as_bytes())?;
    let Some(t) = tally else {
        return Ok(());
    };
    writeln!(
        out,
        "\ncases: {} read, {} invalid (not paid), {} naming items; {} excluded ({} paid the exclusion payment, {} their ordinary payment), {} naming items none of which applied, {} flagged new_tech_flag = 1 without an item",
        t.cases,
        t.invalid,
        t.naming,
        t.exclusions.excluded,
        t.exclusions.exclusion_larger,
        t.exclusions.excluded - t.exclusions.exclusion_larger,
        t.exclusions.no_applicable_item,
        t.exclusions.flag_without_item
    )?;
    let mut rows = vec![[
        "code",
        "named",
        "decided",
        "excl>ord",
        "also",
        "unlisted",
        "expired",
        "not_yet",
        "scope",
        "no_date",
        "earlier",
        "payment − ordinary",
        "fund_due − ordinary",
    ]
    .map(String::from)
    .to_vec()];
    let mut total = ItemStats::default();
    for (code, _, s) in report_rows(catalogue, Some(t)) {
        let mut row = vec![
            code,
            s.named.to_string(),
            s.decided.to_string(),
            s.exclusion_larger.to_string(),
            s.also_applicable.to_string(),
        ];
        row.extend(s.failed.iter().map(u64::to_string));
        row.extend([
            s.earlier_rule.to_string(),
            Fen(s.extra_payment).to_string(),
            Fen(s.extra_fund_due).to_string(),
        ]);
        rows.push(row);
        total.merge(&s);
    }
    let mut row = vec![
        "total".to_string(),
        total.named.to_string(),
        total.decided.to_string(),
        total.exclusion_larger.to_string(),
        total.also_applicable.to_string(),
    ];
    row.extend(total.failed.iter().map(u64::to_string));
    row.extend([
        total.earlier_rule.to_string(),
        Fen(total.extra_payment).to_string(),
        Fen(total.extra_fund_due).to_string(),
    ]);
    rows.push(row);
    writeln!(
        out,
        "per item: named = cases naming it; decided = cases it decided (excl>ord: paid the exclusion payment); also = applied but another item decided; unlisted … no_date = failed, by reason; earlier = decided by rule 1–3 (invalid, cross-province, 0000, QY); the cost to the fund over the cases it decided"
    )?;
    out.write_all(aligned(&rows, &[0]).as_bytes())?;
    writeln!(
        out,
        "the exclusion cost the fund {} of payment and {} of fund_due over {} excluded case(s)",
        Fen(t.exclusions.extra_payment),
        Fen(t.extra_fund_due),
        t.exclusions.excluded
    )?;
    Ok(())
}
