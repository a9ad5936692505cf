//! `drgdip ledger cases|runs`: the book of record as tables — every settled case with what
//! priced it and the run that settled it, and every run with what it read (the digests of its
//! case file, parameter file and weights), as CSV, JSON lines or a table.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{anyhow, Result};
use drgdip_engine::ledger::{case_row, json_object, run_row, CASE_COLUMNS, RUN_COLUMNS};
use drgdip_settle::{Period, YearMonth};

use crate::ledger::{block_on, open_store, DbOpts};
use crate::shared::{create_output, SharedOpts};

#[derive(Debug, clap::Args)]
pub struct LedgerArgs {
    #[command(subcommand)]
    pub command: LedgerCommand,
    /// Accepted like every command's; the ledger needs no scheme.
    #[allow(dead_code)]
    #[command(flatten)]
    pub shared: SharedOpts,
}

#[derive(Debug, clap::Subcommand)]
pub enum LedgerCommand {
    /// The settled cases, with what priced each and the run that settled it.
    Cases(CasesArgs),
    /// The settlement runs, with who ran them and what they read.
    Runs(RunsArgs),
    /// The adjustments (补差): differences a re-run found on paid statements, with the
    /// statement that carries each (empty: pending).
    Adjustments(AdjustmentsArgs),
    /// Reopen a cleared (closed) year so that its months may be re-settled and its clearing
    /// re-run; audited with the reason.
    Reopen(ReopenArgs),
}

#[derive(Debug, clap::Args)]
pub struct AdjustmentsArgs {
    /// Only this hospital.
    #[arg(long)]
    pub hospital: Option<String>,
    /// csv (default) or jsonl.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: Format,
    /// Where to write (`-`, the default, for standard output).
    #[arg(long, short, default_value = "-")]
    pub output: PathBuf,
    #[command(flatten)]
    pub db: DbOpts,
}

/// The columns of `ledger adjustments`.
const ADJUSTMENT_COLUMNS: [&str; 9] = [
    "id",
    "hospital_id",
    "case_id",
    "case_month",
    "old_fund_due",
    "new_fund_due",
    "difference",
    "run_id",
    "statement_month",
];

#[derive(Debug, clap::Args)]
pub struct ReopenArgs {
    /// The year to reopen.
    #[arg(long)]
    pub year: i32,
    /// Why (kept in the audit log).
    #[arg(long)]
    pub reason: String,
    /// Who reopens (the audit log's actor; role `system`).
    #[arg(long, default_value = "drgdip-ledger")]
    pub actor: String,
    #[command(flatten)]
    pub db: DbOpts,
}

/// How rows are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// CSV with a header.
    Csv,
    /// One JSON object a line.
    Jsonl,
}

#[derive(Debug, clap::Args)]
pub struct CasesArgs {
    /// Only this discharge month (`YYYY-MM`).
    #[arg(long, conflicts_with = "year")]
    pub month: Option<String>,
    /// Only this year.
    #[arg(long)]
    pub year: Option<i32>,
    /// Only this hospital.
    #[arg(long)]
    pub hospital: Option<String>,
    /// csv (default) or jsonl.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: Format,
    /// Where to write (`-`, the default, for standard output).
    #[arg(long, short, default_value = "-")]
    pub output: PathBuf,
    #[command(flatten)]
    pub db: DbOpts,
}

#[derive(Debug, clap::Args)]
pub struct RunsArgs {
    /// Only the runs of this month (`YYYY-MM`).
    #[arg(long)]
    pub month: Option<String>,
    /// csv (default) or jsonl.
    #[arg(long, value_enum, default_value = "csv")]
    pub format: Format,
    /// Where to write (`-`, the default, for standard output).
    #[arg(long, short, default_value = "-")]
    pub output: PathBuf,
    #[command(flatten)]
    pub db: DbOpts,
}

fn parse_month(text: &str) -> Result<YearMonth> {
    text.parse().map_err(|e| anyhow!("--month {text:?}: {e}"))
}

fn write_rows(
    output: &std::path::Path,
    format: Format,
    columns: &[&str],
    rows: impl Iterator<Item = Vec<String>>,
) -> Result<u64> {
    let out = create_output(output)?;
    let mut n = 0;
    match format {
        Format::Csv => {
            let mut w = csv::Writer::from_writer(out);
            w.write_record(columns)?;
            for row in rows {
                w.write_record(&row)?;
                n += 1;
            }
            w.flush()?;
        }
        Format::Jsonl => {
            let mut out = out;
            for row in rows {
                writeln!(out, "{}", json_object(columns, &row))?;
                n += 1;
            }
            out.flush()?;
        }
    }
    Ok(n)
}

/// Runs `drgdip ledger`.
pub fn run(a: LedgerArgs) -> Result<()> {
    match a.command {
        LedgerCommand::Cases(c) => {
            let period = match (&c.month, c.year) {
                (Some(m), _) => {
                    let m = parse_month(m)?;
                    Some(Period::Month(m))
                }
                (None, Some(y)) => Some(Period::Year(y)),
                (None, None) => None,
            };
            let cases = block_on(async {
                let store = open_store(&c.db).await?;
                let cases = store.ledger_cases(period, c.hospital.as_deref()).await?;
                store.close().await;
                Ok(cases)
            })?;
            write_rows(
                &c.output,
                c.format,
                &CASE_COLUMNS,
                cases.iter().map(case_row),
            )?;
        }
        LedgerCommand::Runs(r) => {
            let month = r.month.as_deref().map(parse_month).transpose()?;
            let runs = block_on(async {
                let store = open_store(&r.db).await?;
                let runs = store.settlement_runs(month).await?;
                store.close().await;
                Ok(runs)
            })?;
            write_rows(&r.output, r.format, &RUN_COLUMNS, runs.iter().map(run_row))?;
        }
        LedgerCommand::Adjustments(j) => {
            let rows = block_on(async {
                let store = open_store(&j.db).await?;
                let rows = store.adjustments(j.hospital.as_deref()).await?;
                store.close().await;
                Ok(rows)
            })?;
            let fen = |d: rust_decimal::Decimal| drgdip_pay::money::Fen(d).to_string();
            write_rows(
                &j.output,
                j.format,
                &ADJUSTMENT_COLUMNS,
                rows.iter().map(|(a, carried)| {
                    vec![
                        a.id.to_string(),
                        a.hospital_id.clone(),
                        a.case_id.clone(),
                        a.case_month.to_string(),
                        fen(a.old_fund_due),
                        fen(a.new_fund_due),
                        fen(a.difference),
                        a.run_id.to_string(),
                        carried.map(|m| m.to_string()).unwrap_or_default(),
                    ]
                }),
            )?;
        }
        LedgerCommand::Reopen(r) => {
            let closed = block_on(async {
                let store = open_store(&r.db).await?;
                let actor = drgdip_settle::Actor::system(r.actor.clone());
                let closed = store.reopen_year(r.year, &actor, &r.reason).await;
                store.close().await;
                Ok(closed?)
            })?;
            println!(
                "reopened {} (closed {} by {}); its months may be re-settled and its clearing re-run",
                closed.year, closed.at, closed.actor
            );
        }
    }
    Ok(())
}
