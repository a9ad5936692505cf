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

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};
use drgdip_drg::Lang;
use drgdip_io::{csv_field, CaseReader, Problem, ProblemKind, Purpose, ReadOptions};
use drgdip_pay::money::{round_fen, Fen};
use drgdip_pay::params::Method;
use drgdip_pay::{Category, Hospital, Hospitals, Params};
use drgdip_settle::Actor;
use drgdip_settle::{
    clear_year, decide_prepayment, public_list, settle_month, ClearingInput, ClearingStatement,
    Date, FinalPricing, MonthlyRecord, MonthlyStatement, Period, PrepaymentDecision, SettledCase,
    WorkCalendar, YearMonth,
};
use rust_decimal::Decimal;

use crate::cmd_pay::{run_pay, PayArgs};
use crate::ledger::{block_on, open_store, shown_url, DbOpts};
use crate::shared::{parse_lang, read_hospitals, read_text, InputOpts, SharedOpts};

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
    /// as settled.
    #[arg(long)]
    pub point_value: Option<String>,
    #[command(flatten)]
    pub db: DbOpts,
    /// Write the report (every step of every hospital) to this file too.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Write one CSV row per hospital (the clearing's figures) to this file.
    #[arg(long)]
    pub csv: Option<PathBuf>,
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
    /// The hospitals that applied (repeatable). Default: every hospital of the file.
    #[arg(long = "hospital")]
    pub hospital: Vec<String>,
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

/// A work directory removed when dropped (a killed run leaves it in the system's temporary
/// directory, named after its process).
struct WorkDir(PathBuf);

impl WorkDir {
    fn new(what: &str) -> Result<WorkDir> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir =
            std::env::temp_dir().join(format!("drgdip-{what}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create the work directory {}", dir.display()))?;
        Ok(WorkDir(dir))
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A row of the input kept for a run.
struct KeptRow {
    case_id: String,
    hospital_id: String,
    month: YearMonth,
    /// Its line in the input file.
    line: u64,
    /// Its line in the work file.
    work_line: u64,
}

/// The input rows of the months a run wants, copied to a work file.
struct Selection {
    path: PathBuf,
    rows: Vec<KeptRow>,
    /// Rows read (blank lines excluded).
    read: u64,
    /// Rows discharged in another month.
    other: u64,
    /// Rows without a readable discharge month (not settled), as problems: the date is not
    /// a real one, or a quote left open on the line hides it.
    undated: Vec<Problem>,
    /// The work file has quoted line breaks (the input was read with `--multiline`).
    multiline: bool,
}

/// Copies the rows of `input` whose discharge month passes `keep` to `work/name`. The input
/// is read as `drgdip pay` reads it (`multiline`), and its header must have what paying
/// needs.
fn select_rows(
    input: &Path,
    multiline: bool,
    keep: impl Fn(YearMonth) -> bool,
    work: &WorkDir,
    name: &str,
) -> Result<Selection> {
    let file = std::fs::File::open(input)
        .with_context(|| format!("cannot open the input file {}", input.display()))?;
    let mut rdr = CaseReader::new(std::io::BufReader::with_capacity(1 << 20, file), multiline);
    let cols = rdr
        .columns(ReadOptions::for_purpose(Purpose::Pay))
        .with_context(|| format!("the case file {}", input.display()))?;
    let pos = |name: &str| {
        cols.pos(name)
            .ok_or_else(|| anyhow!("{}: no column {name:?} in the header", input.display()))
    };
    let (date_at, case_at, hospital_at) =
        (pos("discharge_date")?, pos("case_id")?, pos("hospital_id")?);
    let path = work.path(name);
    let out = std::fs::File::create(&path)
        .with_context(|| format!("cannot create the work file {}", path.display()))?;
    let mut w = std::io::BufWriter::with_capacity(1 << 20, out);
    let header: Vec<String> = cols
        .names
        .iter()
        .map(|n| csv_field(n).into_owned())
        .collect();
    let header = header.join(",");
    writeln!(w, "{header}")?;
    let newlines = |b: &[u8]| b.iter().filter(|&&c| c == b'\n').count() as u64;
    // the number of the next line of the work file
    let mut work_line = 2 + newlines(header.as_bytes());
    let mut sel = Selection {
        path: path.clone(),
        rows: Vec::new(),
        read: 0,
        other: 0,
        undated: Vec::new(),
        multiline,
    };
    while let Some(row) = rdr
        .next_row()
        .with_context(|| format!("cannot read {}", input.display()))?
    {
        sel.read += 1;
        let field =
            |i: usize| String::from_utf8_lossy(row.record.get(i).unwrap_or_default()).into_owned();
        let case_id = || drgdip_io::escape_control(field(case_at).trim().trim_start_matches('"'));
        let date = field(date_at);
        let month = drgdip_io::parse_date(&date).and_then(|iso| iso[..7].parse::<YearMonth>().ok());
        match month {
            None => sel.undated.push(match row.open_quote {
                Some(k) => {
                    let name = cols
                        .names
                        .get(k)
                        .cloned()
                        .unwrap_or_else(|| format!("field {}", k + 1));
                    let kind = ProblemKind::UnbalancedQuote {
                        field: name.clone(),
                    };
                    Problem::new(row.line, case_id(), name, row.lossy(k), kind)
                }
                None => Problem::new(
                    row.line,
                    case_id(),
                    "discharge_date",
                    drgdip_io::escape_control(&date),
                    ProblemKind::NoDischargeMonth,
                ),
            }),
            Some(m) if !keep(m) => sel.other += 1,
            Some(m) => {
                // a row with a quote left open is copied as it was: pay reports it
                let bytes = row.to_line();
                w.write_all(&bytes)?;
                w.write_all(b"\n")?;
                sel.rows.push(KeptRow {
                    case_id: field(case_at).trim().to_string(),
                    hospital_id: field(hospital_at).trim().to_string(),
                    month: m,
                    line: row.line,
                    work_line,
                });
                work_line += 1 + newlines(&bytes);
            }
        }
    }
    w.flush()?;
    Ok(sel)
}

/// The paid cases of a selection.
struct Paid {
    cases: Vec<SettledCase>,
    /// Rows `drgdip pay` could not pay (invalid).
    invalid: u64,
}

/// Pays the selected rows with `drgdip pay` and reads its output back. With `errors`, writes
/// the problems of the selected rows (input lines) and of the undated rows there.
fn pay_selection(
    shared: &SharedOpts,
    pay: &PayOpts,
    sel: &Selection,
    work: &WorkDir,
    errors: Option<&Path>,
    lang: Lang,
    special: Option<&Path>,
) -> Result<Paid> {
    let output = work.path("paid.csv");
    let work_errors = errors.map(|_| work.path("errors.csv"));
    run_pay(PayArgs {
        params: pay.params.clone(),
        hospitals: pay.hospitals.clone(),
        weights: pay.weights.clone(),
        history: pay.history.clone(),
        input: sel.path.clone(),
        output: output.clone(),
        errors: work_errors.clone(),
        point_value: pay.point_value.clone(),
        special: special.map(Path::to_path_buf),
        trace: false,
        lang: Some(if lang == Lang::Zh { "zh" } else { "en" }.to_string()),
        quiet: true,
        input_opts: InputOpts {
            multiline: sel.multiline,
        },
        shared: shared.clone(),
    })?;

    let mut rdr = csv::Reader::from_path(&output)
        .with_context(|| format!("cannot read the payments {}", output.display()))?;
    let header = rdr.headers()?.clone();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| anyhow!("the payments have no column {name:?}"))
    };
    let (c_id, c_cat, c_weight, c_cost, c_pay, c_own, c_due) = (
        col("case_id")?,
        col("category")?,
        col("weight")?,
        col("total_cost")?,
        col("payment")?,
        col("own")?,
        col("fund_due")?,
    );
    let mut paid = Paid {
        cases: Vec::with_capacity(sel.rows.len()),
        invalid: 0,
    };
    let mut n = 0usize;
    for rec in rdr.records() {
        let rec = rec?;
        let Some(row) = sel.rows.get(n) else {
            bail!(
                "drgdip pay wrote more rows than it was given ({})",
                sel.rows.len()
            );
        };
        n += 1;
        let get = |i: usize| rec.get(i).unwrap_or("");
        let category = Category::parse(get(c_cat)).ok_or_else(|| {
            anyhow!(
                "payment of case {}: unknown category {:?}",
                row.case_id,
                get(c_cat)
            )
        })?;
        if category == Category::Invalid {
            paid.invalid += 1;
            continue;
        }
        if get(c_id) != row.case_id {
            bail!(
                "payment row {n} is of case {:?}, expected {:?} (line {})",
                get(c_id),
                row.case_id,
                row.line
            );
        }
        let amount =
            |i: usize, what: &str| parse_decimal(get(i), &format!("case {} {what}", row.case_id));
        let total_cost = amount(c_cost, "total_cost")?;
        let own = amount(c_own, "own")?;
        paid.cases.push(SettledCase {
            case_id: row.case_id.clone(),
            hospital_id: row.hospital_id.clone(),
            discharge_month: row.month,
            category,
            payment: amount(c_pay, "payment")?,
            own,
            fund_due: amount(c_due, "fund_due")?,
            fund_paid: total_cost - own,
            total_cost,
            weight: match get(c_weight) {
                "" => None,
                w => Some(amount(c_weight, "weight").map_err(|_| anyhow!("weight {w:?}"))?),
            },
            dip_score: None,
        });
    }
    if n != sel.rows.len() {
        bail!(
            "drgdip pay wrote {n} rows for the {} rows it was given",
            sel.rows.len()
        );
    }
    if let (Some(path), Some(work_errors)) = (errors, work_errors) {
        let lines: HashMap<u64, u64> = sel.rows.iter().map(|r| (r.work_line, r.line)).collect();
        let mut w = csv::Writer::from_path(path)
            .with_context(|| format!("cannot create the errors file {}", path.display()))?;
        w.write_record(["line", "case_id", "field", "value", "message"])?;
        let mut problems: Vec<(u64, Vec<String>)> = Vec::new();
        for p in &sel.undated {
            problems.push((
                p.line,
                vec![
                    p.line.to_string(),
                    p.case_id.clone(),
                    p.field.clone(),
                    p.value.clone(),
                    p.message(lang),
                ],
            ));
        }
        let mut r = csv::Reader::from_path(&work_errors)?;
        for rec in r.records() {
            let rec = rec?;
            let work_line: u64 = rec.get(0).unwrap_or("0").parse().unwrap_or(0);
            let line = lines.get(&work_line).copied().unwrap_or(0);
            let mut fields: Vec<String> = rec.iter().map(String::from).collect();
            if let Some(first) = fields.first_mut() {
                *first = line.to_string();
            }
            problems.push((line, fields));
        }
        problems.sort_by_key(|p| p.0);
        for (_, fields) in problems {
            w.write_record(&fields)?;
        }
        w.flush()?;
    }
    Ok(paid)
}

/// Reads a holidays file (see the module documentation).
fn read_calendar(path: Option<&Path>) -> Result<WorkCalendar> {
    let mut calendar = WorkCalendar::weekdays_only();
    let Some(path) = path else {
        return Ok(calendar);
    };
    let text = read_text(path, "holidays file")?;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let mut parts = line
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|p| !p.is_empty());
        let first = parts.next().unwrap_or("");
        let Ok(date) = first.parse::<Date>() else {
            if i == 0 && first.eq_ignore_ascii_case("date") {
                continue; // a header
            }
            bail!(
                "{} line {}: {first:?} is not a date YYYY-MM-DD",
                path.display(),
                i + 1
            );
        };
        match parts.next().map(str::to_ascii_lowercase).as_deref() {
            None | Some("holiday") => {
                calendar.holidays.insert(date);
            }
            Some("work" | "workday" | "make-up" | "makeup") => {
                calendar.make_up_days.insert(date);
            }
            Some(other) => bail!(
                "{} line {}: {other:?}: expected nothing (a holiday), `holiday` or `work` (a make-up working day)",
                path.display(),
                i + 1
            ),
        }
    }
    Ok(calendar)
}

/// The `day`th of the month after `month` (申报截止日).
fn default_deadline(month: YearMonth, day: u8) -> Date {
    let next = month.last_day().succ();
    Date::new(next.year(), next.month(), day).unwrap_or(next)
}

/// The holiday calendar of a run: `--holidays`, else the parameters' `[settlement].calendar`
/// (relative to the parameter file), else Monday to Friday.
fn run_calendar(
    holidays: Option<&Path>,
    params: &Params,
    params_path: &Path,
) -> Result<WorkCalendar> {
    match (holidays, &params.settlement.calendar) {
        (Some(path), _) => read_calendar(Some(path)),
        (None, Some(relative)) => {
            let base = params_path.parent().unwrap_or(Path::new("."));
            read_calendar(Some(&base.join(relative))).with_context(|| {
                format!(
                    "settlement.calendar of {} (relative to the parameter file)",
                    params_path.display()
                )
            })
        }
        (None, None) => read_calendar(None),
    }
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
    let params = read_params(&a.pay.params)?;
    let deadline = match &a.deadline {
        Some(d) => d.parse().map_err(|e| anyhow!("--deadline {d:?}: {e}"))?,
        None => default_deadline(month, params.settlement.declaration_day),
    };
    let calendar = run_calendar(a.holidays.as_deref(), &params, &a.pay.params)?;
    if params.region.method == Method::Dip {
        bail!(
            "{}: region.method = \"dip\": `drgdip settle` settles DRG-paid cases; score DIP cases with `drgdip dip score`",
            a.pay.params.display()
        );
    }

    let work = WorkDir::new("settle")?;
    let lang = parse_lang(a.lang.as_deref(), Lang::En)?;
    let sel = select_rows(
        &a.input,
        a.pay.input_opts.multiline,
        |m| m == month,
        &work,
        "month.csv",
    )?;
    // 特例单议: the cases approved in reviewed applications are paid as special
    let special = work.path("special.csv");
    let approved = block_on(async {
        let store = open_store(&a.db).await?;
        let apps = store.applications(None, None).await?;
        store.close().await;
        Ok(apps)
    })?;
    let mut text = String::from("case_id,outcome,points\n");
    let mut n_special = 0;
    for app in &approved {
        for (case_id, approval) in app.approvals() {
            n_special += 1;
            let (outcome, points) = match approval {
                drgdip_pay::SpecialApproval::PerItem => ("per_item", String::new()),
                drgdip_pay::SpecialApproval::ExtraPoints(p) => ("extra_points", p.to_string()),
            };
            text.push_str(&format!("{},{outcome},{points}\n", csv_field(case_id)));
        }
    }
    std::fs::write(&special, text)
        .with_context(|| format!("cannot write {}", special.display()))?;
    if n_special > 0 && !a.quiet {
        eprintln!(
            "{n_special} case(s) approved in special-case review (特例单议) are paid as special"
        );
    }
    let paid = pay_selection(
        &a.shared,
        &a.pay,
        &sel,
        &work,
        a.errors.as_deref(),
        lang,
        Some(&special),
    )?;
    let paid_at = start.elapsed();
    let actor = Actor::system(a.actor.clone());
    let run = settle_month(&paid.cases, &params, month, deadline, &calendar, &actor)
        .map_err(|e| anyhow!("settlement of {month}: {e}"))?;
    let statements = run.value;

    let write_start = Instant::now();
    // A mark for the operator (and the crash test): from here on the ledger is being written.
    eprintln!(
        "writing {} cases and {} statements of {month} to the ledger…",
        paid.cases.len(),
        statements.len()
    );
    let backend = block_on(async {
        let store = open_store(&a.db).await?;
        let mode = if a.force {
            drgdip_store::Replace::Forced
        } else {
            drgdip_store::Replace::Guarded
        };
        let written = store
            .replace_month_with(month, &paid.cases, &statements, &run.events, mode)
            .await;
        if let Err(e @ drgdip_store::StoreError::Shrink { .. }) = written {
            store.close().await;
            bail!("{e}");
        }
        written.with_context(|| format!("cannot write the settlement of {month}"))?;
        let backend = store.backend();
        store.close().await;
        Ok(backend)
    })?;
    let written = write_start.elapsed();

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
    for s in &statements {
        total.cases += s.cases;
        total.payment += s.totals.payment;
        total.fund_due += s.fund_due_total;
        deposit += s.deposit_withheld;
        due += s.amount_due;
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
            sel.rows.len(),
            sel.other,
            sel.undated.len(),
            paid.invalid,
            if a.errors.is_some() { ", see the errors file" } else { "; list them with --errors" }
        )?;
        writeln!(
            out,
            "declaration deadline {deadline}; deposit rate {}; ledger {} ({})",
            params.budget.monthly_quality_deposit_rate,
            shown_url(&a.db.db),
            backend
        )?;
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
        "time: {:.2} s (select and pay {:.2} s, write {:.2} s)",
        start.elapsed().as_secs_f64(),
        paid_at.as_secs_f64(),
        written.as_secs_f64()
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
    let actor = Actor::system(a.actor.clone());
    let (statements, monthly) = block_on(async {
        let store = open_store(&a.db).await?;
        let cases = store.settled_cases_in(Period::Year(year), None).await?;
        let monthly = store.statements_in(Period::Year(year), None).await?;
        let prepayments = store.prepayments(year).await?;
        let inputs = clearing_inputs(&hospitals, cases, &monthly, &prepayments)?;
        if inputs.is_empty() {
            bail!(
                "nothing to clear for {year} in {}: settle its months first (drgdip settle --month {year}-01 …)",
                shown_url(&a.db.db)
            );
        }
        let run = clear_year(year, &inputs, &params, pricing, &actor)
            .map_err(|e| anyhow!("clearing of {year}: {e}"))?;
        store
            .replace_clearing(year, &run.value, &run.events)
            .await
            .with_context(|| format!("cannot write the clearing of {year}"))?;
        store.close().await;
        Ok((run.value, monthly))
    })?;

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

/// One [`ClearingInput`] per hospital with cases, statements or a prepayment of the year.
fn clearing_inputs(
    hospitals: &Hospitals,
    cases: Vec<SettledCase>,
    monthly: &[MonthlyStatement],
    prepayments: &[PrepaymentDecision],
) -> Result<Vec<ClearingInput>> {
    let mut by_hospital: BTreeMap<String, ClearingInput> = BTreeMap::new();
    let mut unknown = BTreeSet::new();
    fn entry<'m>(
        by_hospital: &'m mut BTreeMap<String, ClearingInput>,
        unknown: &mut BTreeSet<String>,
        hospitals: &Hospitals,
        id: &str,
    ) -> Option<&'m mut ClearingInput> {
        let Some(h) = hospitals.get(id) else {
            unknown.insert(id.to_string());
            return None;
        };
        Some(
            by_hospital
                .entry(id.to_string())
                .or_insert_with(|| ClearingInput {
                    hospital: h.clone(),
                    cases: Vec::new(),
                    monthly: Vec::new(),
                    prepayment_outstanding: Decimal::ZERO,
                }),
        )
    }
    for c in cases {
        if let Some(input) = entry(&mut by_hospital, &mut unknown, hospitals, &c.hospital_id) {
            input.cases.push(c);
        }
    }
    for s in monthly {
        if let Some(input) = entry(&mut by_hospital, &mut unknown, hospitals, &s.hospital_id) {
            input.monthly.push(MonthlyRecord::from(s));
        }
    }
    for p in prepayments {
        if let Some(input) = entry(&mut by_hospital, &mut unknown, hospitals, &p.hospital_id) {
            input.prepayment_outstanding = p.outstanding(Decimal::ZERO);
        }
    }
    if !unknown.is_empty() {
        bail!(
            "hospital(s) of the ledger not in the hospitals file (their performance score is needed): {}",
            unknown.into_iter().collect::<Vec<_>>().join(" ")
        );
    }
    Ok(by_hospital.into_values().collect())
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
            Fen(s.prepayment_outstanding).to_string(),
            Fen(s.final_amount).to_string(),
        ]);
    }
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
    let ok = |b: bool| if b { "ok" } else { "DOES NOT BALANCE" };
    let _ = writeln!(
        out,
        "books: Σ final {} = Σ entitled {} + Σ retained_or_shared {} − Σ paid monthly {} − Σ prepayment {}: {}",
        Fen(fin),
        Fen(entitled),
        Fen(ros),
        Fen(paid),
        Fen(prepay),
        ok(fin == entitled + ros - paid - prepay)
    );
    let _ = writeln!(
        out,
        "books: {} monthly statements: Σ fund_due {} = Σ amount_due {} + Σ deposits {}; deposits released {}: {}",
        monthly.len(),
        Fen(monthly_due),
        Fen(monthly_amount),
        Fen(monthly_deposits),
        Fen(deposits),
        ok(monthly_due == monthly_amount + monthly_deposits && deposits == monthly_deposits)
    );
    let _ = writeln!(
        out,
        "the fund pays in all for {year}: Σ paid monthly {} + Σ final {} + Σ prepayment {} = Σ settled {}: {}",
        Fen(paid),
        Fen(fin),
        Fen(prepay),
        Fen(settled),
        ok(paid + fin + prepay == settled)
    );
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
        "prepayment_recovered",
        "final",
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
            Fen(s.prepayment_outstanding).to_string(),
            Fen(s.final_amount).to_string(),
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

/// Each hospital's monthly fund payments (Σ fund_due of the month, rounded per case as the
/// statements are), all twelve months of `year`, a month without cases as zero.
fn twelve_months(year: i32, sums: &BTreeMap<YearMonth, Decimal>) -> Vec<(YearMonth, Decimal)> {
    (1..=12)
        .filter_map(|m| YearMonth::new(year, m))
        .map(|m| (m, sums.get(&m).copied().unwrap_or(Decimal::ZERO)))
        .collect()
}

fn run_decide(shared: &SharedOpts, a: DecideArgs) -> Result<()> {
    let params = read_params(&a.pay.params)?;
    let hospitals = read_hospitals(&a.pay.hospitals)?;
    let previous = a.year - 1;
    let applicants: Vec<&Hospital> = if a.hospital.is_empty() {
        hospitals.iter().collect()
    } else {
        a.hospital
            .iter()
            .map(|id| {
                hospitals
                    .get(id)
                    .ok_or_else(|| anyhow!("--hospital {id}: not in {}", a.pay.hospitals.display()))
            })
            .collect::<Result<_>>()?
    };
    let actor = Actor::system(a.actor.clone());

    // Σ fund_due per hospital and month of the previous year.
    let mut sums: BTreeMap<String, BTreeMap<YearMonth, Decimal>> = BTreeMap::new();
    let source = match (&a.previous_year, a.from_store) {
        (Some(path), _) => {
            let work = WorkDir::new("prepay")?;
            let sel = select_rows(
                path,
                a.pay.input_opts.multiline,
                |m| m.year() == previous,
                &work,
                "previous.csv",
            )?;
            let paid = pay_selection(shared, &a.pay, &sel, &work, None, Lang::En, None)?;
            for c in &paid.cases {
                *sums
                    .entry(c.hospital_id.clone())
                    .or_default()
                    .entry(c.discharge_month)
                    .or_default() += round_fen(c.fund_due);
            }
            format!(
                "{}: {} cases of {previous} paid ({} rows of other years, {} invalid, not counted)",
                path.display(),
                paid.cases.len(),
                sel.other + sel.undated.len() as u64,
                paid.invalid
            )
        }
        (None, Some(y)) => {
            if y != previous {
                bail!(
                    "--from-store {y}: a prepayment for {} is computed from {previous}",
                    a.year
                );
            }
            String::new()
        }
        (None, None) => bail!("give --previous-year CASES.csv or --from-store {previous}"),
    };

    let rows = block_on(async {
        let store = open_store(&a.db).await?;
        let mut source = source;
        if a.previous_year.is_none() {
            let statements = store.statements_in(Period::Year(previous), None).await?;
            for s in &statements {
                *sums
                    .entry(s.hospital_id.clone())
                    .or_default()
                    .entry(s.month)
                    .or_default() += s.fund_due_total;
            }
            source = format!(
                "the ledger: {} monthly statements of {previous}",
                statements.len()
            );
        }
        let mut decisions = Vec::new();
        for h in &applicants {
            let months = twelve_months(
                previous,
                sums.get(&h.hospital_id).unwrap_or(&BTreeMap::new()),
            );
            let decided = decide_prepayment(a.year, h, &months, &params, &actor)
                .map_err(|e| anyhow!("prepayment of {}: {e}", h.hospital_id))?;
            store
                .save_prepayment(a.year, &decided.value, &decided.events)
                .await
                .with_context(|| format!("cannot save the prepayment of {}", h.hospital_id))?;
            decisions.push(decided.value);
        }
        let all = store.prepayments(a.year).await?;
        store.close().await;
        println!(
            "prepayment (预付金) {}: {} applications decided from {source}",
            a.year,
            decisions.len()
        );
        Ok(all)
    })?;
    print_public_list(a.year, &rows, a.output.as_deref())
}

fn run_list(a: ListArgs) -> Result<()> {
    let rows = block_on(async {
        let store = open_store(&a.db).await?;
        let rows = store.prepayments(a.year).await?;
        store.close().await;
        Ok(rows)
    })?;
    if rows.is_empty() {
        bail!(
            "no prepayment decided for {} in {}",
            a.year,
            shown_url(&a.db.db)
        );
    }
    print_public_list(a.year, &rows, a.output.as_deref())
}

fn print_public_list(
    year: i32,
    decisions: &[PrepaymentDecision],
    output: Option<&Path>,
) -> Result<()> {
    let list = public_list(decisions);
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
            "eligible",
            "amount",
            "reason",
        ])?;
        for r in &list {
            w.write_record([
                r.year.to_string(),
                r.hospital_id.clone(),
                r.hospital_name.clone(),
                r.eligible.to_string(),
                Fen(r.amount).to_string(),
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
    let mut rows = vec![vec![
        "hospital".to_string(),
        "name".into(),
        "granted".into(),
        "amount".into(),
        "reason".into(),
    ]];
    for r in &list {
        rows.push(vec![
            r.hospital_id.clone(),
            r.hospital_name.clone(),
            if r.eligible { "yes" } else { "no" }.into(),
            Fen(r.amount).to_string(),
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
    fn the_default_deadline_is_the_tenth_of_the_next_month() {
        assert_eq!(
            default_deadline("2025-06".parse().unwrap(), 10).to_string(),
            "2025-07-10"
        );
        assert_eq!(
            default_deadline("2025-12".parse().unwrap(), 10).to_string(),
            "2026-01-10"
        );
    }

    #[test]
    fn urls_are_shown_without_their_password() {
        assert_eq!(
            shown_url("postgres://u:secret@db:5432/x"),
            "postgres://…@db:5432/x"
        );
        assert_eq!(shown_url("sqlite://drgdip.db"), "sqlite://drgdip.db");
    }
}
