//! `drgdip payments record|list` and `drgdip arrears`: what the fund paid against the monthly
//! statements, and what it still owes (应付未付, `payment-model.md` §6).
//!
//! - `payments record --file F` reads a CSV `hospital_id,month,date,amount,reference` (a
//!   header naming those columns, in any order; fields trimmed), checks the form of every
//!   row here and the rest in the store (`Store::record_payments`: the statement exists, the
//!   reference is new for the hospital, the date is after the month, the amount does not
//!   exceed what is outstanding), records the valid rows in one transaction with their audit
//!   events, names every refused row (line, field, value, why) on standard error and in
//!   `--errors`, prints a summary line, and exits 2 when a row was refused;
//! - `payments list` prints the recorded payments;
//! - `arrears --as-of D` prints each statement with anything outstanding as of `D` (the
//!   arithmetic is `drgdip_settle::arrears`): the CSV has exactly the columns
//!   `hospital_id,month,amount_due,paid,outstanding,due_date,days_overdue,band`; the table
//!   adds each hospital's totals and the overall total, with the outstanding by band.
//!
//! The recorder's role is `bureau` (医保经办机构: the bureau records what the fund paid).

use std::io::Write;
use std::path::PathBuf;

use anyhow::{anyhow, bail, Context, Result};
use drgdip_engine::payments::{arrears_as_of, read_payments, record_payments, PaymentsFile};
use drgdip_pay::money::Fen;
use drgdip_settle::arrears::{ArrearsReport, ArrearsTotals, Band, Listing};
use drgdip_settle::{Actor, Date, YearMonth};

use crate::ledger::{block_on, open_store, shown_url, DbOpts};
use crate::shared::SharedOpts;

/// The columns of the arrears CSV.
pub const ARREARS_COLUMNS: [&str; 8] = [
    "hospital_id",
    "month",
    "amount_due",
    "paid",
    "outstanding",
    "due_date",
    "days_overdue",
    "band",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for a person, with totals.
    Table,
    /// CSV with a header.
    Csv,
}

#[derive(Debug, clap::Args)]
pub struct PaymentsArgs {
    #[command(subcommand)]
    pub command: PaymentsCommand,
    #[command(flatten)]
    pub shared: SharedOpts,
}

#[derive(Debug, clap::Subcommand)]
pub enum PaymentsCommand {
    /// Record what the fund paid (CSV `hospital_id,month,date,amount,reference`).
    Record(RecordArgs),
    /// The recorded payments.
    List(ListArgs),
}

#[derive(Debug, clap::Args)]
pub struct RecordArgs {
    /// The payments: CSV with a header `hospital_id,month,date,amount,reference` (any order):
    /// the statement paid (hospital, `YYYY-MM`), the day the money went out (`YYYY-MM-DD`),
    /// the amount (plain decimal, > 0, at most two decimals), the bank reference (unique per
    /// hospital).
    #[arg(long)]
    pub file: PathBuf,
    /// The errors file: `line,hospital_id,field,value,message` per refused row.
    #[arg(long, short)]
    pub errors: Option<PathBuf>,
    /// Who records (the audit log's actor; role `bureau`).
    #[arg(long, default_value = "drgdip-payments")]
    pub actor: String,
    #[command(flatten)]
    pub db: DbOpts,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Only this hospital's payments.
    #[arg(long)]
    pub hospital: Option<String>,
    /// Only the payments of this statement month, `YYYY-MM`.
    #[arg(long)]
    pub month: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    #[command(flatten)]
    pub db: DbOpts,
}

#[derive(Debug, clap::Args)]
pub struct ArrearsArgs {
    /// The date of the report, `YYYY-MM-DD`: payments dated after it do not count.
    #[arg(long)]
    pub as_of: String,
    /// Only this hospital's statements.
    #[arg(long)]
    pub hospital: Option<String>,
    /// Output format: the CSV has exactly the columns
    /// `hospital_id,month,amount_due,paid,outstanding,due_date,days_overdue,band`.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// List every statement, fully paid ones too (band `paid`).
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub db: DbOpts,
    #[command(flatten)]
    pub shared: SharedOpts,
}

pub fn run_payments(a: PaymentsArgs) -> Result<()> {
    match a.command {
        PaymentsCommand::Record(r) => run_record(r),
        PaymentsCommand::List(l) => run_list(l),
    }
}

// -------------------------------------------------------------------------------------------
// payments record

fn run_record(a: RecordArgs) -> Result<()> {
    let name = a.file.display().to_string();
    let input = std::fs::File::open(&a.file)
        .with_context(|| format!("cannot open the payments file {name}"))?;
    let PaymentsFile {
        rows,
        payments,
        mut problems,
    } = read_payments(input, &name)?;
    let actor = Actor::bureau(a.actor.clone());
    let done = block_on(async {
        let store = open_store(&a.db).await?;
        let done = record_payments(&store, &payments, &actor)
            .await
            .with_context(|| format!("cannot record the payments in {}", shown_url(&a.db.db)))?;
        store.close().await;
        Ok(done)
    })?;
    let (recorded, sum) = (done.recorded, done.recorded_amount);
    problems.extend(done.problems);
    problems.sort_by_key(|p| p.line);
    let mut refused_lines: Vec<u64> = problems.iter().map(|p| p.line).collect();
    refused_lines.dedup();
    // on standard error the first rows refused; every one in `--errors`
    const SHOWN: usize = 20;
    for p in problems.iter().take(SHOWN) {
        eprintln!(
            "{}: line {}: {} {} {:?}: {}",
            a.file.display(),
            p.line,
            p.hospital_id,
            p.field,
            p.value,
            p.message
        );
    }
    if problems.len() > SHOWN {
        eprintln!(
            "… and {} more problem(s){}",
            problems.len() - SHOWN,
            a.errors.as_ref().map_or_else(
                || " (--errors FILE lists them all)".to_string(),
                |e| format!(", all in {}", e.display())
            )
        );
    }
    if let Some(path) = &a.errors {
        let mut w = csv::Writer::from_path(path)
            .with_context(|| format!("cannot create the errors file {}", path.display()))?;
        w.write_record(["line", "hospital_id", "field", "value", "message"])?;
        for p in &problems {
            w.write_record([
                p.line.to_string(),
                p.hospital_id.clone(),
                p.field.to_string(),
                p.value.clone(),
                p.message.clone(),
            ])?;
        }
        w.flush()?;
    }
    println!(
        "payments {}: {rows} rows read; {recorded} recorded ({}), {} refused",
        a.file.display(),
        Fen(sum),
        refused_lines.len()
    );
    if !refused_lines.is_empty() {
        bail!(
            "{} of {rows} payment rows refused (lines {}); the {recorded} others are recorded",
            refused_lines.len(),
            lines_text(&refused_lines)
        );
    }
    Ok(())
}

/// `6, 7, 8` — the first ten lines, then how many more.
fn lines_text(lines: &[u64]) -> String {
    let mut text = lines
        .iter()
        .take(10)
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    if lines.len() > 10 {
        text.push_str(&format!(" and {} more", lines.len() - 10));
    }
    text
}

// -------------------------------------------------------------------------------------------
// payments list

fn parse_month(text: &str, what: &str) -> Result<YearMonth> {
    text.trim().parse().map_err(|e| anyhow!("{what}: {e}"))
}

fn run_list(a: ListArgs) -> Result<()> {
    let month = a
        .month
        .as_deref()
        .map(|m| parse_month(m, "--month"))
        .transpose()?;
    let records = block_on(async {
        let store = open_store(&a.db).await?;
        let r = store.payments(a.hospital.as_deref(), month).await?;
        store.close().await;
        Ok(r)
    })?;
    let mut out = std::io::stdout().lock();
    match a.format {
        Format::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record([
                "id",
                "hospital_id",
                "month",
                "date",
                "amount",
                "reference",
                "recorded_at",
                "actor",
            ])?;
            for r in &records {
                w.write_record([
                    r.id.to_string(),
                    r.payment.hospital_id.clone(),
                    r.payment.month.to_string(),
                    r.payment.date.to_string(),
                    Fen(r.payment.amount).to_string(),
                    r.payment.reference.clone(),
                    r.recorded_at.clone(),
                    r.actor.clone(),
                ])?;
            }
            w.flush()?;
        }
        Format::Table => {
            writeln!(
                out,
                "{:>6}  {:<8}  {:<7}  {:<10}  {:>14}  {:<20}  recorded_at (actor)",
                "id", "hospital", "month", "date", "amount", "reference"
            )?;
            let mut sum = rust_decimal::Decimal::ZERO;
            for r in &records {
                sum += r.payment.amount;
                writeln!(
                    out,
                    "{:>6}  {:<8}  {:<7}  {:<10}  {:>14}  {:<20}  {} ({})",
                    r.id,
                    r.payment.hospital_id,
                    r.payment.month.to_string(),
                    r.payment.date.to_string(),
                    Fen(r.payment.amount),
                    r.payment.reference,
                    r.recorded_at,
                    r.actor
                )?;
            }
            writeln!(out, "{} payments, Σ amount {}", records.len(), Fen(sum))?;
        }
    }
    Ok(())
}

// -------------------------------------------------------------------------------------------
// arrears

/// The arrears of the ledger `db` as of `as_of`.
async fn arrears_of(
    db: &DbOpts,
    as_of: Date,
    hospital: Option<&str>,
    listing: Listing,
) -> Result<ArrearsReport> {
    let store = open_store(db).await?;
    let report = arrears_as_of(&store, hospital, as_of, listing).await?;
    store.close().await;
    Ok(report)
}

pub fn run_arrears(a: ArrearsArgs) -> Result<()> {
    let as_of: Date = a
        .as_of
        .trim()
        .parse()
        .map_err(|e| anyhow!("--as-of: {e}"))?;
    let listing = if a.all {
        Listing::Every
    } else {
        Listing::Outstanding
    };
    let report = block_on(arrears_of(&a.db, as_of, a.hospital.as_deref(), listing))?;
    if !report.unmatched.is_empty() {
        let sum: rust_decimal::Decimal = report.unmatched.iter().map(|p| p.amount).sum();
        eprintln!(
            "warning: {} payment(s) of {} match no statement in the ledger (a re-run withdrew it?): {}",
            report.unmatched.len(),
            Fen(sum),
            report
                .unmatched
                .iter()
                .map(|p| format!("{} reference {:?} {}", p.subject(), p.reference, Fen(p.amount)))
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
    let out = std::io::stdout().lock();
    match a.format {
        Format::Csv => write_arrears_csv(&report, out),
        Format::Table => write_arrears_table(&report, out),
    }
}

fn write_arrears_csv(report: &ArrearsReport, out: impl Write) -> Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(ARREARS_COLUMNS)?;
    for r in &report.rows {
        w.write_record([
            r.hospital_id.clone(),
            r.month.to_string(),
            Fen(r.amount_due).to_string(),
            Fen(r.paid).to_string(),
            Fen(r.outstanding).to_string(),
            r.due_date.to_string(),
            r.days_overdue.to_string(),
            r.band.as_str().to_string(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// `outstanding by band: 1-30 100.00, >180 5.00` (the bands that occur, in order).
fn bands(t: &ArrearsTotals) -> String {
    Band::ALL
        .iter()
        .filter(|b| t.by_band.contains_key(b))
        .map(|b| format!("{b} {}", Fen(t.band(*b))))
        .collect::<Vec<_>>()
        .join(", ")
}

fn write_arrears_table(report: &ArrearsReport, mut out: impl Write) -> Result<()> {
    writeln!(
        out,
        "arrears (应付未付) as of {}: {} statement(s) listed",
        report.as_of,
        report.rows.len()
    )?;
    writeln!(
        out,
        "{:<8}  {:<7}  {:>14}  {:>14}  {:>14}  {:<10}  {:>6}  band",
        "hospital", "month", "amount_due", "paid", "outstanding", "due_date", "days"
    )?;
    let totals_line = |out: &mut dyn Write, who: &str, t: &ArrearsTotals| -> std::io::Result<()> {
        writeln!(
            out,
            "{:<8}  {:<7}  {:>14}  {:>14}  {:>14}  {} statement(s); by band: {}",
            who,
            "total",
            Fen(t.amount_due),
            Fen(t.paid),
            Fen(t.outstanding),
            t.statements,
            bands(t)
        )
    };
    for (h, t) in &report.hospitals {
        for r in report.rows.iter().filter(|r| &r.hospital_id == h) {
            writeln!(
                out,
                "{:<8}  {:<7}  {:>14}  {:>14}  {:>14}  {:<10}  {:>6}  {}",
                r.hospital_id,
                r.month.to_string(),
                Fen(r.amount_due),
                Fen(r.paid),
                Fen(r.outstanding),
                r.due_date.to_string(),
                r.days_overdue,
                r.band
            )?;
        }
        totals_line(&mut out, h, t)?;
    }
    totals_line(&mut out, "ALL", &report.total)?;
    Ok(())
}
