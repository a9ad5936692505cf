//! `drgdip settle`, `drgdip clear`, `drgdip prepay`: the ledger commands (`payment-model.md` §6).
//!
//! - `settle --month M` takes the rows of the case file discharged in `M`, groups and pays
//!   them exactly as `drgdip pay` does (it runs `drgdip pay` on them), settles them with
//!   `drgdip_settle::settle_month` and replaces the month in the ledger in one transaction;
//! - `clear --year Y` reads the year's settled cases, statements and prepayments from the
//!   ledger, clears the year (`clear_year`), replaces the year's clearing and prints every
//!   step of the arithmetic;
//! - `prepay decide|list` decides the year's prepayments from the previous year (a case file
//!   or the ledger) and prints the yearly public list.
//!
//! The arithmetic is `drgdip-settle`'s and the storage `drgdip-store`'s: this module reads
//! files, runs the store on a tokio runtime of its own, and prints.
//!
//! Choices made here:
//! - a paid case is stored with the amounts `drgdip pay` publishes (rounded to the fen, as the
//!   statement's case lines are); `fund_paid = total_cost − own`;
//! - rows that `drgdip pay` reports as invalid are not settled (they are in `--errors`);
//! - the declaration deadline (申报截止日) defaults to the 10th of the following month;
//! - the working-day calendar is Monday–Friday, minus the holidays of `--holidays` (one date
//!   a line, `YYYY-MM-DD`; a line `YYYY-MM-DD work` is a weekend make-up working day, 调休).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use drgdip_drg::Lang;
use drgdip_engine::dip::{clear_dip_year, settle_dip_month, DipFiles, DipRegion};
use drgdip_engine::prepay::{
    decide_prepayments, fund_opening_balance, parse_applications, PrepayRequest, PrepaySource,
};
use drgdip_engine::settle::{
    clear_year, run_calendar, settle_month, CaseInput, ClearRequest, SettleRequest, SettleStep,
};
use drgdip_engine::{Region, RegionFiles};
use drgdip_io::{Problem, Purpose};
use drgdip_pay::money::Fen;
use drgdip_pay::params::Method;
use drgdip_pay::Params;
use drgdip_settle::Actor;
use drgdip_settle::{
    public_list, ClearingStatement, Date, FinalPricing, MonthlyStatement, OutsideTotals,
    PrepaymentDecision, YearMonth,
};
use rust_decimal::Decimal;

use crate::ledger::{block_on, open_store, shown_url, DbOpts};
use crate::progress::Progress;
use crate::shared::{
    parse_lang, parse_point_value, read_hospitals, read_text, weights_from, InputOpts, SharedOpts,
};

// ---------------------------------------------------------------------------------------
// Arguments

/// How the cases are paid: as `drgdip pay` pays them.
#[derive(Debug, Clone, clap::Args)]
pub struct PayOpts {
    /// The region's parameter file (TOML).
    #[arg(long)]
    pub params: PathBuf,
    /// The hospitals (CSV `hospital_id,name,level,credit_rating,performance_score,…`).
    #[arg(long)]
    pub hospitals: PathBuf,
    /// The DRG weights (CSV `drg,weight`, e.g. made by `drgdip weights`). Default: the
    /// parameters' `drg.weights`.
    #[arg(long, conflicts_with = "history")]
    pub weights: Option<PathBuf>,
    /// History cases to compute the weights from on the fly (slower: once per run).
    #[arg(long)]
    pub history: Option<PathBuf>,
    /// CNY per point, when `drg.payment = "point"`.
    #[arg(long)]
    pub point_value: Option<String>,
    #[command(flatten)]
    pub input_opts: InputOpts,
}

#[derive(Debug, clap::Args)]
pub struct SettleArgs {
    /// The month to settle (discharge month), `YYYY-MM`.
    #[arg(long)]
    pub month: String,
    /// The case file (CSV with a header): only the rows discharged in the month are settled.
    #[arg(long, short)]
    pub input: PathBuf,
    #[command(flatten)]
    pub pay: PayOpts,
    /// The region's DIP library (the directory `drgdip dip build` wrote): required when the
    /// parameters say `region.method = "dip"`; the month is then settled at its provisional
    /// point value.
    #[arg(long)]
    pub library: Option<PathBuf>,
    #[command(flatten)]
    pub db: DbOpts,
    /// The errors file: `line,case_id,field,value,message` per problem of the month's rows
    /// (lines of the input file).
    #[arg(long, short)]
    pub errors: Option<PathBuf>,
    /// Language of the row problems (the errors file): en (default) or zh.
    #[arg(long)]
    pub lang: Option<String>,
    /// The declaration deadline (申报截止日), `YYYY-MM-DD`; payment is due
    /// `[settlement].due_working_days` (30) working days after it. Default: the parameters'
    /// `[settlement].declaration_day` (the 10th) of the following month.
    #[arg(long)]
    pub deadline: Option<String>,
    /// Holidays (one `YYYY-MM-DD` a line; `YYYY-MM-DD work` for a make-up working day).
    /// Default: the parameters' `[settlement].calendar`.
    #[arg(long)]
    pub holidays: Option<PathBuf>,
    /// Replace the month even where a hospital's settled month would keep fewer than half of
    /// its cases (refused otherwise: a truncated upload must not replace a month). Audited.
    #[arg(long)]
    pub force: bool,
    /// Who runs the settlement (the audit log's actor; role `system`).
    #[arg(long, default_value = "drgdip-settle")]
    pub actor: String,
    /// Print only the totals line.
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub shared: SharedOpts,
}

#[derive(Debug, clap::Args)]
pub struct ClearArgs {
    /// The year to clear.
    #[arg(long)]
    pub year: i32,
    /// The region's parameter file (TOML): `[clearing]`.
    #[arg(long)]
    pub params: PathBuf,
    /// The hospitals (performance scores).
    #[arg(long)]
    pub hospitals: PathBuf,
    /// The final point value (结算点值): DIP cases are repriced at it; DRG cases are cleared
    /// as settled. A DIP region without it solves the year's value (`--library`).
    #[arg(long)]
    pub point_value: Option<String>,
    /// The region's DIP library (a DIP region: the year's point value is solved over the
    /// year's settled cases with it).
    #[arg(long)]
    pub library: Option<PathBuf>,
    #[command(flatten)]
    pub db: DbOpts,
    /// Write the report (every step of every hospital) to this file too.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Write one CSV row per hospital (the clearing's figures) to this file.
    #[arg(long)]
    pub csv: Option<PathBuf>,
    /// The date of the run (the clearing is due by 30 June of the next year), `YYYY-MM-DD`.
    /// Default: today.
    #[arg(long)]
    pub today: Option<String>,
    /// Who runs the clearing (the audit log's actor; role `system`).
    #[arg(long, default_value = "drgdip-clear")]
    pub actor: String,
    /// Print only the summary table, not the steps.
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub shared: SharedOpts,
}

#[derive(Debug, clap::Args)]
pub struct PrepayArgs {
    #[command(subcommand)]
    pub command: PrepayCommand,
    #[command(flatten)]
    pub shared: SharedOpts,
}

#[derive(Debug, clap::Subcommand)]
pub enum PrepayCommand {
    /// Decide the year's prepayments from the previous year's monthly fund payments.
    Decide(Box<DecideArgs>),
    /// The yearly public list of prepayments (预付金公示).
    List(ListArgs),
}

#[derive(Debug, clap::Args)]
pub struct DecideArgs {
    /// The year the prepayments are for.
    #[arg(long)]
    pub year: i32,
    /// The previous year's cases (CSV), paid as `drgdip pay` pays them.
    #[arg(
        long,
        required_unless_present = "from_store",
        conflicts_with = "from_store"
    )]
    pub previous_year: Option<PathBuf>,
    /// The previous year's monthly statements from the ledger (the year before `--year`).
    #[arg(long)]
    pub from_store: Option<i32>,
    /// The applications (CSV `hospital_id,applied_on` and, optional, `requested_amount`,
    /// and an approved uplift `uplift_months,approved_by,approved_on,approval_reference`):
    /// only the hospitals that applied are decided.
    #[arg(long)]
    pub applications: PathBuf,
    /// The fund's operation of the year (CSV `month,direction,item,name,amount`): its
    /// `balance` row is the opening balance that `prepayment.cap_share_of_balance` takes a
    /// share of.
    #[arg(long)]
    pub fund: Option<PathBuf>,
    #[command(flatten)]
    pub pay: PayOpts,
    #[command(flatten)]
    pub db: DbOpts,
    /// Who decides (the audit log's actor; role `system`).
    #[arg(long, default_value = "drgdip-prepay")]
    pub actor: String,
    /// The public list as CSV to this file.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// The year.
    #[arg(long)]
    pub year: i32,
    #[command(flatten)]
    pub db: DbOpts,
    /// The list as CSV to this file (`-` for standard output).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

// ---------------------------------------------------------------------------------------
// Shared pieces

fn read_params(path: &Path) -> Result<Params> {
    Params::from_toml_str(&read_text(path, "parameter file")?)
        .map_err(|e| anyhow!("parameter file {}: {e}", path.display()))
}

fn parse_decimal(text: &str, what: &str) -> Result<Decimal> {
    Decimal::from_str(text.trim())
        .map_err(|_| anyhow!("{what} {text:?}: expected a decimal such as 12.34"))
}

/// The region a ledger command prices with, loaded by the engine.
fn load_region(shared: &SharedOpts, pay: &PayOpts) -> Result<Region> {
    let env = shared.resolve()?;
    let mut registry = env.registry()?;
    let files = RegionFiles {
        params: pay.params.clone(),
        hospitals: pay.hospitals.clone(),
        weights: weights_from(pay.weights.as_deref(), pay.history.as_deref()),
        point_value: parse_point_value(pay.point_value.as_deref())?,
    };
    Ok(Region::load(
        &mut registry,
        &files,
        pay.input_opts.batch(Purpose::Weights, Lang::En),
    )?)
}

/// The DIP region a ledger command settles or clears.
fn load_dip_region(shared: &SharedOpts, pay: &PayOpts, library: &Path) -> Result<DipRegion> {
    let env = shared.resolve()?;
    let mut registry = env.registry()?;
    let files = DipFiles {
        params: pay.params.clone(),
        hospitals: pay.hospitals.clone(),
        library: library.to_path_buf(),
    };
    Ok(DipRegion::load(&mut registry, &files)?)
}

/// A region loaded for a settlement: DRG or DIP.
enum Loaded {
    Drg(Box<Region>),
    Dip(Box<DipRegion>),
}

impl Loaded {
    fn params(&self) -> &Params {
        match self {
            Loaded::Drg(r) => &r.params,
            Loaded::Dip(r) => &r.params,
        }
    }
}

/// Writes the problems of a run (`line,case_id,field,value,message`).
fn write_problems(path: &Path, problems: &[Problem], lang: Lang) -> Result<()> {
    let mut w = csv::Writer::from_path(path)
        .with_context(|| format!("cannot create the errors file {}", path.display()))?;
    w.write_record(["line", "case_id", "field", "value", "message"])?;
    for p in problems {
        w.write_record([
            p.line.to_string(),
            p.case_id.clone(),
            p.field.clone(),
            p.value.clone(),
            p.message(lang),
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// Columns a text takes in a terminal: CJK characters take two.
fn width(text: &str) -> usize {
    text.chars()
        .map(|c| {
            if ('\u{2e80}'..='\u{ffef}').contains(&c) {
                2
            } else {
                1
            }
        })
        .sum()
}

fn pad_table(rows: &[Vec<String>], right_from: usize) -> String {
    let n = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..n)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| width(s))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            if c > 0 {
                line.push_str("  ");
            }
            let pad = widths[c].saturating_sub(width(cell));
            if c >= right_from {
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.push_str(&" ".repeat(pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

// ---------------------------------------------------------------------------------------
// settle

/// Runs `drgdip settle`.
pub fn run_settle(a: SettleArgs) -> Result<()> {
    let start = Instant::now();
    let month: YearMonth = a
        .month
        .parse()
        .map_err(|e| anyhow!("--month {:?}: {e}", a.month))?;
    let lang = parse_lang(a.lang.as_deref(), Lang::En)?;
    // a DRG region prices with weights, a DIP region with its disease library
    let loaded = if read_params(&a.pay.params)?.region.method == Method::Dip {
        let Some(library) = &a.library else {
            bail!(
                "{}: region.method = \"dip\": give --library DIR (the region's DIP library, made by `drgdip dip build`)",
                a.pay.params.display()
            );
        };
        Loaded::Dip(Box::new(load_dip_region(&a.shared, &a.pay, library)?))
    } else {
        let region = load_region(&a.shared, &a.pay)?;
        for w in &region.warnings {
            eprintln!("drgdip: warning: {w}");
        }
        Loaded::Drg(Box::new(region))
    };
    let params = loaded.params();
    let rate_lines = match &loaded {
        Loaded::Drg(region) => region.base_rate_lines(),
        Loaded::Dip(_) => Vec::new(),
    };
    let deadline = a
        .deadline
        .as_deref()
        .map(|d| d.parse().map_err(|e| anyhow!("--deadline {d:?}: {e}")))
        .transpose()?;
    let calendar = run_calendar(a.holidays.as_deref(), params, &a.pay.params)?;
    let request = SettleRequest {
        month,
        case_file: CaseInput::File(&a.input),
        batch: a
            .pay
            .input_opts
            .batch_limited(Purpose::Pay, lang, params.limits.max_case_cost),
        deadline,
        calendar,
        mode: if a.force {
            drgdip_store::Replace::Forced
        } else {
            drgdip_store::Replace::Guarded
        },
        actor: Actor::system(a.actor.clone()),
    };
    let progress = Progress::new(a.quiet);
    let written_at = std::cell::Cell::new(None);
    let step = |s: SettleStep| match s {
        SettleStep::Rows(n) => progress.set(n),
        SettleStep::Writing { cases, statements } => {
            progress.finish();
            written_at.set(Some(Instant::now()));
            // A mark for the operator (and the crash test): from here on the ledger is
            // being written.
            eprintln!(
                "writing {cases} cases and {statements} statements of {month} to the ledger…"
            );
        }
    };
    let (outcome, backend) = block_on(async {
        let store = open_store(&a.db).await?;
        let outcome = match &loaded {
            Loaded::Drg(region) => settle_month(&store, region, request, &step)
                .await
                .map(|o| (o, None)),
            Loaded::Dip(region) => settle_dip_month(&store, region, request, &step)
                .await
                .map(|o| (o.settled, Some(o.point_value))),
        };
        let backend = store.backend();
        store.close().await;
        Ok((outcome, backend))
    })?;
    progress.finish();
    let (outcome, point_value) = match outcome {
        Ok(o) => o,
        Err(e) if e.is_refusal() => bail!("{e}"),
        Err(e) => return Err(anyhow::Error::from(e)),
    };
    if let Some(pv) = &point_value {
        if !a.quiet {
            eprintln!("DIP: {pv}");
        }
    }
    if let Some(path) = &a.errors {
        write_problems(path, &outcome.pricing.problems, lang)?;
    }
    if outcome.special > 0 && !a.quiet {
        eprintln!(
            "{} case(s) approved in special-case review (特例单议) are paid as special",
            outcome.special
        );
    }
    let statements = &outcome.statements;
    let sel = &outcome.pricing;
    let deadline = outcome.deadline;

    let mut total = drgdip_settle::CategoryTotals::default();
    let (mut deposit, mut due) = (Decimal::ZERO, Decimal::ZERO);
    let mut rows = vec![vec![
        "hospital".to_string(),
        "cases".into(),
        "payment".into(),
        "fund_due_total".into(),
        "deposit_withheld".into(),
        "amount_due".into(),
        "due_by".into(),
    ]];
    let add = |a: Decimal, b: Decimal| {
        a.checked_add(b)
            .ok_or_else(|| anyhow!("the totals of {month} overflow"))
    };
    for s in statements {
        total.cases += s.cases;
        total.payment = add(total.payment, s.totals.payment)?;
        total.fund_due = add(total.fund_due, s.fund_due_total)?;
        deposit = add(deposit, s.deposit_withheld)?;
        due = add(due, s.amount_due)?;
        rows.push(vec![
            s.hospital_id.clone(),
            s.cases.to_string(),
            Fen(s.totals.payment).to_string(),
            Fen(s.fund_due_total).to_string(),
            Fen(s.deposit_withheld).to_string(),
            Fen(s.amount_due).to_string(),
            s.due_by.to_string(),
        ]);
    }
    let due_by = statements
        .first()
        .map_or_else(|| "-".to_string(), |s| s.due_by.to_string());
    rows.push(vec![
        "total".into(),
        total.cases.to_string(),
        Fen(total.payment).to_string(),
        Fen(total.fund_due).to_string(),
        Fen(deposit).to_string(),
        Fen(due).to_string(),
        due_by,
    ]);
    let mut out = std::io::stdout().lock();
    if !a.quiet {
        writeln!(
            out,
            "monthly settlement (月结算) {month}: {} rows read; {} discharged in {month}, {} of other months and {} without a discharge date skipped; {} invalid (not paid{})",
            sel.read,
            sel.read - sel.other - sel.undated,
            sel.other,
            sel.undated,
            sel.invalid,
            if a.errors.is_some() { ", see the errors file" } else { "; list them with --errors" }
        )?;
        writeln!(
            out,
            "declaration deadline {deadline}; deposit rate {}; ledger {} ({})",
            params.budget.monthly_quality_deposit_rate,
            shown_url(&a.db.db),
            backend
        )?;
        for line in &rate_lines {
            writeln!(out, "{line}")?;
        }
        out.write_all(pad_table(&rows, 1).as_bytes())?;
    }
    writeln!(
        out,
        "settled {month}: {} hospitals, {} cases, fund_due_total {}, deposit_withheld {}, amount_due {}",
        statements.len(),
        total.cases,
        Fen(total.fund_due),
        Fen(deposit),
        Fen(due)
    )?;
    out.flush()?;
    eprintln!(
        "ledger run {} (list it with `drgdip ledger runs`, its cases with `drgdip ledger cases --month {month}`)",
        outcome.run_id
    );
    let total_time = start.elapsed();
    let write_time = written_at.get().map_or(Duration::ZERO, |t| t.elapsed());
    eprintln!(
        "time: {:.2} s (load, select and pay {:.2} s, write {:.2} s)",
        total_time.as_secs_f64(),
        (total_time - write_time).as_secs_f64(),
        write_time.as_secs_f64()
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// clear

/// Runs `drgdip clear`.
pub fn run_clear(a: ClearArgs) -> Result<()> {
    let params = read_params(&a.params)?;
    let hospitals = read_hospitals(&a.hospitals)?;
    let pricing = match &a.point_value {
        Some(v) => FinalPricing::DipPointValue(parse_decimal(v, "--point-value")?),
        None => FinalPricing::AsGiven,
    };
    let year = a.year;
    let today: Date = match &a.today {
        Some(d) => d.parse().map_err(|e| anyhow!("--today {d:?}: {e}"))?,
        None => drgdip_store::rfc3339(std::time::SystemTime::now())[..10]
            .parse()
            .map_err(|e| anyhow!("the system date: {e}"))?,
    };
    let request = ClearRequest {
        year,
        pricing,
        actor: Actor::system(a.actor.clone()),
        today,
    };
    // a DIP region's year is repriced at the year's point value, solved over its settled
    // cases (unless --point-value fixes it)
    let dip = match (&a.library, params.region.method, &a.point_value) {
        (Some(library), Method::Dip, None) => {
            let pay = PayOpts {
                params: a.params.clone(),
                hospitals: a.hospitals.clone(),
                weights: None,
                history: None,
                point_value: None,
                input_opts: InputOpts::default(),
            };
            Some(load_dip_region(&a.shared, &pay, library)?)
        }
        (None, Method::Dip, None) => bail!(
            "{}: region.method = \"dip\": give --library DIR to solve the year's point value (or --point-value to fix it)",
            a.params.display()
        ),
        _ => None,
    };
    let (outcome, point_value) = block_on(async {
        let store = open_store(&a.db).await?;
        let outcome = match &dip {
            Some(region) => clear_dip_year(&store, region, request)
                .await
                .map(|o| (o.cleared, Some(o.point_value))),
            None => clear_year(&store, &params, &hospitals, request)
                .await
                .map(|o| (o, None)),
        };
        store.close().await;
        match outcome {
            Err(e) if e.is_refusal() => bail!("{e}"),
            o => o.with_context(|| format!("the ledger {}", shown_url(&a.db.db))),
        }
    })?;
    if let Some(pv) = &point_value {
        println!("DIP: {pv}");
    }
    for w in &outcome.warnings {
        eprintln!("drgdip: warning: {w}");
    }
    println!("budget: {}", outcome.budget.reason);
    let (statements, monthly) = (outcome.statements, outcome.monthly);

    let report = clearing_report(year, &statements, &monthly, a.quiet);
    print!("{report}");
    if let Some(path) = &a.output {
        let full = clearing_report(year, &statements, &monthly, false);
        std::fs::write(path, full)
            .with_context(|| format!("cannot write the report {}", path.display()))?;
    }
    if let Some(path) = &a.csv {
        write_clearing_csv(path, &statements)?;
    }
    Ok(())
}

/// The clearing report: each hospital's steps (unless `quiet`), a summary table, and the
/// region's books.
fn clearing_report(
    year: i32,
    statements: &[ClearingStatement],
    monthly: &[MonthlyStatement],
    quiet: bool,
) -> String {
    let mut out = String::new();
    let mut rows = vec![vec![
        "hospital".to_string(),
        "cases".into(),
        "entitled".into(),
        "item_fund".into(),
        "balance".into(),
        "retained_or_shared".into(),
        "settled".into(),
        "paid_monthly".into(),
        "deposits_released".into(),
        "deposits_kept".into(),
        "prepayment".into(),
        "final".into(),
    ]];
    let sum = |f: fn(&ClearingStatement) -> Decimal| statements.iter().map(f).sum::<Decimal>();
    for s in statements {
        rows.push(vec![
            s.hospital_id.clone(),
            s.cases.to_string(),
            Fen(s.entitled).to_string(),
            Fen(s.item_fund).to_string(),
            format!("{:?}", s.balance).to_lowercase(),
            Fen(s.retained_or_shared).to_string(),
            Fen(s.settled).to_string(),
            Fen(s.paid_monthly).to_string(),
            Fen(s.deposits_released).to_string(),
            Fen(s.deposits_kept).to_string(),
            Fen(s.prepayment_outstanding).to_string(),
            Fen(s.final_amount).to_string(),
        ]);
    }
    let kept = sum(|s| s.deposits_kept);
    let (entitled, item_fund, ros, settled, paid, deposits, prepay, fin) = (
        sum(|s| s.entitled),
        sum(|s| s.item_fund),
        sum(|s| s.retained_or_shared),
        sum(|s| s.settled),
        sum(|s| s.paid_monthly),
        sum(|s| s.deposits_released),
        sum(|s| s.prepayment_outstanding),
        sum(|s| s.final_amount),
    );
    rows.push(vec![
        "total".into(),
        statements.iter().map(|s| s.cases).sum::<u64>().to_string(),
        Fen(entitled).to_string(),
        Fen(item_fund).to_string(),
        String::new(),
        Fen(ros).to_string(),
        Fen(settled).to_string(),
        Fen(paid).to_string(),
        Fen(deposits).to_string(),
        Fen(kept).to_string(),
        Fen(prepay).to_string(),
        Fen(fin).to_string(),
    ]);
    let _ = writeln!(
        out,
        "annual clearing (年度清算) {year}: {} hospitals",
        statements.len()
    );
    out.push_str(&pad_table(&rows, 1));
    let monthly_due: Decimal = monthly.iter().map(|s| s.fund_due_total).sum();
    let monthly_deposits: Decimal = monthly.iter().map(|s| s.deposit_withheld).sum();
    let monthly_amount: Decimal = monthly.iter().map(|s| s.amount_due).sum();
    let monthly_adjustments: Decimal = monthly.iter().map(|s| s.adjustments_total).sum();
    let ok = |b: bool| if b { "ok" } else { "DOES NOT BALANCE" };
    let _ = writeln!(
        out,
        "books: Σ final {} = Σ entitled {} + Σ retained_or_shared {} − Σ paid monthly {} − Σ prepayment {} − Σ deposits kept {}: {}",
        Fen(fin),
        Fen(entitled),
        Fen(ros),
        Fen(paid),
        Fen(prepay),
        Fen(kept),
        ok(fin == entitled + ros - paid - prepay - kept)
    );
    let _ = writeln!(
        out,
        "books: {} monthly statements: Σ fund_due {} + Σ adjustments (补差) {} = Σ amount_due {} + Σ deposits {}; deposits released {} + kept {}: {}",
        monthly.len(),
        Fen(monthly_due),
        Fen(monthly_adjustments),
        Fen(monthly_amount),
        Fen(monthly_deposits),
        Fen(deposits),
        Fen(kept),
        ok(monthly_due + monthly_adjustments == monthly_amount + monthly_deposits
            && deposits + kept == monthly_deposits)
    );
    let _ = writeln!(
        out,
        "the fund pays in all for {year}: Σ paid monthly {} + Σ final {} + Σ prepayment {} + Σ deposits kept {} = Σ settled {}: {}",
        Fen(paid),
        Fen(fin),
        Fen(prepay),
        Fen(kept),
        Fen(settled),
        ok(paid + fin + prepay + kept == settled)
    );
    let outside = statements
        .iter()
        .try_fold(OutsideTotals::default(), |acc, s| {
            acc.checked_add(&s.cross_province)
        });
    match outside {
        Some(o) => {
            let _ = writeln!(
                out,
                "cross-province (跨省异地), outside the local clearing: {} cases, per-item cost {}, fund due {} (in Σ entitled as settled, outside every balance)",
                o.cases,
                Fen(o.total_cost),
                Fen(o.fund_due)
            );
        }
        None => {
            let _ = writeln!(out, "cross-province (跨省异地): the totals overflow");
        }
    }
    if !quiet {
        for s in statements {
            let _ = write!(out, "\n{s}\n");
        }
    }
    out
}

fn write_clearing_csv(path: &Path, statements: &[ClearingStatement]) -> Result<()> {
    let mut w = csv::Writer::from_path(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    w.write_record([
        "hospital_id",
        "year",
        "cases",
        "entitled",
        "item_fund",
        "balance",
        "surplus_kept",
        "overspend_shared",
        "retained_or_shared",
        "settled",
        "monthly_fund_due",
        "deposits_withheld",
        "paid_monthly",
        "deposits_released",
        "deposits_kept",
        "prepayment_recovered",
        "final",
        "cross_province_cases",
        "cross_province_cost",
        "cross_province_fund_due",
    ])?;
    for s in statements {
        w.write_record([
            s.hospital_id.clone(),
            s.year.to_string(),
            s.cases.to_string(),
            Fen(s.entitled).to_string(),
            Fen(s.item_fund).to_string(),
            format!("{:?}", s.balance).to_lowercase(),
            Fen(s.surplus_kept).to_string(),
            Fen(s.overspend_shared).to_string(),
            Fen(s.retained_or_shared).to_string(),
            Fen(s.settled).to_string(),
            Fen(s.monthly_fund_due).to_string(),
            Fen(s.deposits_withheld).to_string(),
            Fen(s.paid_monthly).to_string(),
            Fen(s.deposits_released).to_string(),
            Fen(s.deposits_kept).to_string(),
            Fen(s.prepayment_outstanding).to_string(),
            Fen(s.final_amount).to_string(),
            s.cross_province.cases.to_string(),
            Fen(s.cross_province.total_cost).to_string(),
            Fen(s.cross_province.fund_due).to_string(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// prepay

/// Runs `drgdip prepay`.
pub fn run_prepay(a: PrepayArgs) -> Result<()> {
    match a.command {
        PrepayCommand::Decide(d) => run_decide(&a.shared, *d),
        PrepayCommand::List(l) => run_list(l),
    }
}

fn run_decide(shared: &SharedOpts, a: DecideArgs) -> Result<()> {
    let params = read_params(&a.pay.params)?;
    let hospitals = read_hospitals(&a.pay.hospitals)?;
    // the applications first: a bad file is named before any case is priced
    let applications = parse_applications(
        &read_text(&a.applications, "applications file")?,
        a.year,
        &hospitals,
    )
    .map_err(|problems| {
        let lines: Vec<String> = problems.iter().map(|p| format!("\n  {p}")).collect();
        anyhow!(
            "applications file {}: {} problem(s):{}",
            a.applications.display(),
            problems.len(),
            lines.concat()
        )
    })?;
    let previous = a.year - 1;
    let region = match &a.previous_year {
        Some(_) => Some(load_region(shared, &a.pay)?),
        None => None,
    };
    let source = match (&a.previous_year, a.from_store, &region) {
        (Some(path), _, Some(region)) => PrepaySource::Cases {
            region,
            input: CaseInput::File(path),
            batch: a.pay.input_opts.batch_limited(
                Purpose::Pay,
                Lang::En,
                region.params.limits.max_case_cost,
            ),
        },
        (None, Some(y), _) if y != previous => bail!(
            "--from-store {y}: a prepayment for {} is computed from {previous}",
            a.year
        ),
        (None, Some(_), _) => PrepaySource::Ledger,
        _ => bail!("give --previous-year CASES.csv or --from-store {previous}"),
    };
    let fund_balance = match &a.fund {
        Some(path) => Some(
            fund_opening_balance(&read_text(path, "fund file")?, a.year)
                .with_context(|| path.display().to_string())?,
        ),
        None => None,
    };
    let request = PrepayRequest {
        year: a.year,
        applications,
        fund_balance,
        source,
        actor: Actor::system(a.actor.clone()),
    };
    let outcome = block_on(async {
        let store = open_store(&a.db).await?;
        let outcome = decide_prepayments(&store, &params, &hospitals, request).await;
        store.close().await;
        Ok(outcome?)
    })?;
    println!(
        "prepayment (预付金) {}: {} applications decided from {}",
        a.year,
        outcome.decided.len(),
        outcome.source
    );
    match &outcome.cap {
        Some(cap) => {
            let granted: Decimal = outcome.decided.iter().map(|d| d.amount).sum();
            println!(
                "what the fund can spare: {} ({}); granted before this run {}, in this run {}, left {}",
                Fen(cap.amount),
                cap.basis,
                Fen(cap.granted_before),
                Fen(granted),
                Fen(cap.remaining() - granted)
            );
        }
        None => println!("what the fund can spare: no cap in the parameters (prepayment.cap_amount, cap_share_of_balance)"),
    }
    print_public_list(a.year, &outcome.all, None, a.output.as_deref())
}

fn run_list(a: ListArgs) -> Result<()> {
    let (rows, clearings) = block_on(async {
        let store = open_store(&a.db).await?;
        let rows = store.prepayments(a.year).await?;
        let clearings = store.clearings(a.year, None).await?;
        store.close().await;
        Ok((rows, clearings))
    })?;
    // what the year's clearing recovered, by hospital (none before the clearing)
    let recovered: Option<BTreeMap<String, Decimal>> = (!clearings.is_empty()).then(|| {
        clearings
            .iter()
            .map(|c| (c.hospital_id.clone(), c.prepayment_outstanding))
            .collect()
    });
    if rows.is_empty() {
        bail!(
            "no prepayment decided for {} in {}",
            a.year,
            shown_url(&a.db.db)
        );
    }
    print_public_list(a.year, &rows, recovered.as_ref(), a.output.as_deref())
}

fn print_public_list(
    year: i32,
    decisions: &[PrepaymentDecision],
    recovered: Option<&BTreeMap<String, Decimal>>,
    output: Option<&Path>,
) -> Result<()> {
    let list = public_list(decisions, recovered);
    let fen_or_empty = |d: Option<Decimal>| d.map_or_else(String::new, |d| Fen(d).to_string());
    if let Some(path) = output {
        let sink: Box<dyn Write> = if path == Path::new("-") {
            Box::new(std::io::stdout())
        } else {
            Box::new(
                std::fs::File::create(path)
                    .with_context(|| format!("cannot create {}", path.display()))?,
            )
        };
        let mut w = csv::Writer::from_writer(sink);
        w.write_record([
            "year",
            "hospital_id",
            "hospital_name",
            "applied_on",
            "eligible",
            "granted",
            "uplift_months",
            "uplift_approval",
            "recovered",
            "outstanding",
            "reason",
        ])?;
        for r in &list {
            w.write_record([
                r.year.to_string(),
                r.hospital_id.clone(),
                r.hospital_name.clone(),
                r.applied_on.map_or_else(String::new, |d| d.to_string()),
                r.eligible.to_string(),
                Fen(r.amount).to_string(),
                r.uplift
                    .as_ref()
                    .map_or_else(String::new, |u| u.months.to_string()),
                r.uplift.as_ref().map_or_else(String::new, |u| {
                    format!("{} {} {}", u.approved_by, u.approved_on, u.reference)
                }),
                fen_or_empty(r.recovered),
                fen_or_empty(r.outstanding()),
                r.reason.clone(),
            ])?;
        }
        w.flush()?;
        if path == Path::new("-") {
            return Ok(());
        }
    }
    let granted: Vec<_> = list.iter().filter(|r| r.eligible).collect();
    let total: Decimal = granted.iter().map(|r| r.amount).sum();
    println!(
        "public list of prepayments (预付金公示) {year}: {} granted, {} refused, total {}",
        granted.len(),
        list.len() - granted.len(),
        Fen(total)
    );
    match recovered {
        None => println!(
            "recovered: the clearing of {year} has not run yet (drgdip clear --year {year})"
        ),
        Some(_) => {
            let back: Decimal = list.iter().filter_map(|r| r.recovered).sum();
            let short: Vec<&str> = list
                .iter()
                .filter(|r| r.outstanding() != Some(Decimal::ZERO))
                .map(|r| r.hospital_id.as_str())
                .collect();
            println!(
                "recovered at the clearing of {year}: {} of {} granted: {}",
                Fen(back),
                Fen(total),
                if short.is_empty() {
                    "ties out".to_string()
                } else {
                    format!("DOES NOT TIE OUT for {}", short.join(" "))
                }
            );
        }
    }
    let mut rows = vec![vec![
        "hospital".to_string(),
        "name".into(),
        "applied".into(),
        "granted".into(),
        "amount".into(),
        "recovered".into(),
        "reason".into(),
    ]];
    for r in &list {
        rows.push(vec![
            r.hospital_id.clone(),
            r.hospital_name.clone(),
            r.applied_on
                .map_or_else(|| "-".to_string(), |d| d.to_string()),
            if r.eligible { "yes" } else { "no" }.into(),
            Fen(r.amount).to_string(),
            r.recovered
                .map_or_else(|| "-".to_string(), |d| Fen(d).to_string()),
            r.reason.clone(),
        ]);
    }
    print!("{}", pad_table(&rows, 99));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_shown_without_their_password() {
        assert_eq!(
            shown_url("postgres://u:secret@db:5432/x"),
            "postgres://…@db:5432/x"
        );
        assert_eq!(shown_url("sqlite://drgdip.db"), "sqlite://drgdip.db");
    }
}
