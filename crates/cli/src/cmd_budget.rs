//! `drgdip budget …` (总额预算, `payment-model.md` §8) over the ledger (`--db`). The use
//! cases are `drgdip_engine::budget`; this module parses, calls and prints.
//!
//! - `budget register --params F` stores the parameter file's `[budget]` plan as its version
//!   of the year (again with the same figures: nothing changes; other figures under a stored
//!   version: refused);
//! - `budget adjust --year Y --reason … --approved-by … --approved-on D --document N
//!   [--total X] [--drg X] …` stores the next version;
//! - `budget show --year Y [--version N]`: the versions;
//! - `budget execution --year Y [--version N] [--hospital H] [--format table|csv]`: per
//!   month, the budget share against what the statements settled, cumulative, by hospital;
//! - `budget forecast --year Y [--version N]`: the year-end forecast (run rate).

use std::path::PathBuf;

use anyhow::{anyhow, bail, Result};
use drgdip_engine::budget::{
    adjust, execution, forecast, register, version_of, versions, Approval, BudgetChange,
    BudgetVersion, Execution,
};
use drgdip_engine::digest::sha256_hex;
use drgdip_pay::money::Fen;
use drgdip_pay::Params;
use drgdip_settle::{Actor, Date};
use rust_decimal::Decimal;

use crate::ledger::{block_on, open_store, DbOpts};
use crate::shared::{read_text, SharedOpts};

#[derive(Debug, clap::Args)]
pub struct BudgetArgs {
    #[command(subcommand)]
    pub command: BudgetCommand,
    /// The ledger: `sqlite://PATH` (a file, created on first use) or `postgres://…`.
    #[arg(
        long,
        env = "DRGDIP_DB",
        default_value = "sqlite://drgdip.db",
        global = true
    )]
    pub db: String,
    /// Who acts (the audit log's actor, role bureau).
    #[arg(long, default_value = "drgdip-budget", global = true)]
    pub actor: String,
    /// Accepted as by every command (the budget reads no scheme).
    #[command(flatten)]
    pub shared: SharedOpts,
}

#[derive(Debug, clap::Subcommand)]
pub enum BudgetCommand {
    /// Register a parameter file's budget as its version of the year.
    Register(RegisterArgs),
    /// Adjust a year's budget: a new version with its reason and approval.
    Adjust(Box<AdjustArgs>),
    /// The versions of a year's budget.
    Show(YearArgs),
    /// Budget share against settled, per month, cumulative, by hospital.
    Execution(ExecutionArgs),
    /// The year-end forecast from the months settled so far.
    Forecast(YearArgs),
}

#[derive(Debug, clap::Args)]
pub struct RegisterArgs {
    /// The parameter file whose `[budget]` plan is registered.
    #[arg(long)]
    pub params: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct AdjustArgs {
    /// The budget year.
    #[arg(long)]
    pub year: i32,
    /// Why the budget is adjusted.
    #[arg(long)]
    pub reason: String,
    /// Who approved the adjustment.
    #[arg(long)]
    pub approved_by: String,
    /// When it was approved (YYYY-MM-DD).
    #[arg(long)]
    pub approved_on: String,
    /// The approval's document number (文号).
    #[arg(long)]
    pub document: String,
    /// New total, CNY.
    #[arg(long)]
    pub total: Option<Decimal>,
    /// New outpatient part, CNY.
    #[arg(long)]
    pub outpatient: Option<Decimal>,
    /// New reserve share, 0..1.
    #[arg(long)]
    pub reserve_share: Option<Decimal>,
    /// New DRG budget, CNY.
    #[arg(long)]
    pub drg: Option<Decimal>,
    /// New DIP budget, CNY.
    #[arg(long)]
    pub dip: Option<Decimal>,
    /// New per-diem budget, CNY.
    #[arg(long)]
    pub per_diem: Option<Decimal>,
    /// New per-item budget, CNY.
    #[arg(long)]
    pub per_item: Option<Decimal>,
    /// New budget of the other methods, CNY.
    #[arg(long)]
    pub other: Option<Decimal>,
}

#[derive(Debug, clap::Args)]
pub struct YearArgs {
    /// The budget year.
    #[arg(long)]
    pub year: i32,
    /// The version (default: the last).
    #[arg(long)]
    pub version: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Csv,
}

#[derive(Debug, clap::Args)]
pub struct ExecutionArgs {
    #[command(flatten)]
    pub year: YearArgs,
    /// One hospital's lines only.
    #[arg(long)]
    pub hospital: Option<String>,
    /// table (default) or csv.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

pub fn run(a: BudgetArgs) -> Result<()> {
    let db = DbOpts { db: a.db.clone() };
    let actor = Actor::bureau(a.actor.clone());
    match a.command {
        BudgetCommand::Register(r) => {
            let text = read_text(&r.params, "parameter file")?;
            let params = Params::from_toml_str(&text)
                .map_err(|e| anyhow!("parameter file {}: {e}", r.params.display()))?;
            let sha = sha256_hex(text.as_bytes());
            let done = block_on(async {
                let store = open_store(&db).await?;
                let done = register(&store, &actor, &params, &sha).await;
                store.close().await;
                Ok(done?)
            })?;
            let v = &done.version;
            if done.new {
                println!("registered budget {} version {}", v.year, v.version);
            } else {
                println!(
                    "budget {} version {} is already registered with these figures: nothing changed",
                    v.year, v.version
                );
            }
            print!("{}", version_text(v));
        }
        BudgetCommand::Adjust(j) => {
            let on: Date = j
                .approved_on
                .trim()
                .parse()
                .map_err(|e| anyhow!("--approved-on {:?}: {e}", j.approved_on))?;
            let change = BudgetChange {
                total: j.total,
                outpatient: j.outpatient,
                reserve_share: j.reserve_share,
                drg: j.drg,
                dip: j.dip,
                per_diem: j.per_diem,
                per_item: j.per_item,
                other: j.other,
            };
            let approval = Approval {
                by: j.approved_by.clone(),
                on: Some(on),
                document: j.document.clone(),
            };
            let v = block_on(async {
                let store = open_store(&db).await?;
                let v = adjust(&store, &actor, j.year, &change, &j.reason, approval).await;
                store.close().await;
                Ok(v?)
            })?;
            println!(
                "adjusted budget {} to version {} (from version {})",
                v.year,
                v.version,
                v.adjusts.unwrap_or(0)
            );
            print!("{}", version_text(&v));
        }
        BudgetCommand::Show(y) => {
            let all = block_on(async {
                let store = open_store(&db).await?;
                let all = match y.version {
                    Some(_) => version_of(&store, y.year, y.version).await.map(|v| vec![v]),
                    None => versions(&store, y.year).await,
                };
                store.close().await;
                Ok(all?)
            })?;
            if all.is_empty() {
                bail!(
                    "no budget of {} is registered (drgdip budget register --params FILE)",
                    y.year
                );
            }
            for v in &all {
                print!("{}", version_text(v));
            }
        }
        BudgetCommand::Execution(e) => {
            let ex = block_on(async {
                let store = open_store(&db).await?;
                let ex =
                    execution(&store, e.year.year, e.year.version, e.hospital.as_deref()).await;
                store.close().await;
                Ok(ex?)
            })?;
            match e.format {
                Format::Table => print!("{}", execution_table(&ex)),
                Format::Csv => print!("{}", execution_csv(&ex)),
            }
        }
        BudgetCommand::Forecast(y) => {
            let ex = block_on(async {
                let store = open_store(&db).await?;
                let ex = execution(&store, y.year, y.version, None).await;
                store.close().await;
                Ok(ex?)
            })?;
            let f = forecast(&ex)?;
            if f.is_empty() {
                bail!(
                    "no month of {} is settled: nothing to forecast from",
                    y.year
                );
            }
            for line in f {
                println!(
                    "{} {} budget version {}: {} months settled {}, year-end forecast {}, budget {}, used {}, balance {}",
                    y.year,
                    line.method.as_str(),
                    line.budget_version,
                    line.months_settled,
                    Fen(line.settled_so_far),
                    Fen(line.year_end),
                    Fen(line.budget),
                    percent(line.budget_used),
                    Fen(line.balance)
                );
                println!("  {}", line.reason);
            }
        }
    }
    Ok(())
}

fn percent(r: Option<Decimal>) -> String {
    r.map_or("—".to_string(), |r| {
        format!("{:.2}%", (r * Decimal::from(100)).round_dp(2))
    })
}

fn version_text(v: &BudgetVersion) -> String {
    let mut out = format!(
        "budget {} version {}{}\n  approved: {}\n  reason: {}\n",
        v.year,
        v.version,
        v.adjusts
            .map_or(String::new(), |n| format!(" (adjusts version {n})")),
        v.approval,
        v.reason
    );
    for (k, x) in [
        ("total", v.total),
        ("outpatient", v.outpatient),
        ("inpatient.drg", v.inpatient.drg),
        ("inpatient.dip", v.inpatient.dip),
        ("inpatient.per_diem", v.inpatient.per_diem),
        ("inpatient.per_item", v.inpatient.per_item),
        ("inpatient.other", v.inpatient.other),
    ] {
        out.push_str(&format!("  {k:<20} {:>18}\n", Fen(x).to_string()));
    }
    out.push_str(&format!(
        "  {:<20} {:>18}\n",
        "reserve_share", v.reserve_share
    ));
    out
}

fn execution_table(ex: &Execution) -> String {
    let mut out = String::new();
    for r in &ex.reasons {
        out.push_str(&format!("# {r}\n"));
    }
    if !ex.months.is_empty() {
        out.push_str(&format!(
            "{:<8} {:<6} {:>3} {:>16} {:>16} {:>16} {:>16} {:>16} {:>8}\n",
            "month",
            "method",
            "ver",
            "budget_share",
            "settled",
            "difference",
            "cum_share",
            "cum_settled",
            "used"
        ));
        for m in &ex.months {
            out.push_str(&format!(
                "{:<8} {:<6} {:>3} {:>16} {:>16} {:>16} {:>16} {:>16} {:>8}\n",
                m.month.to_string(),
                m.method.as_str(),
                m.budget_version,
                Fen(m.budget_share).to_string(),
                Fen(m.settled).to_string(),
                Fen(m.difference).to_string(),
                Fen(m.cumulative_share).to_string(),
                Fen(m.cumulative_settled).to_string(),
                percent(m.budget_used)
            ));
        }
    }
    out.push_str(&format!(
        "{:<8} {:<10} {:<6} {:>3} {:>16} {:>16} {:>8}\n",
        "month", "hospital", "method", "ver", "settled", "cum_settled", "share"
    ));
    for h in &ex.hospitals {
        out.push_str(&format!(
            "{:<8} {:<10} {:<6} {:>3} {:>16} {:>16} {:>8}\n",
            h.month.to_string(),
            h.hospital_id,
            h.method.as_str(),
            h.budget_version,
            Fen(h.settled).to_string(),
            Fen(h.cumulative_settled).to_string(),
            percent(h.share_of_region)
        ));
    }
    out
}

/// One CSV: the region's lines (hospital `*`) then the hospitals', each naming its version.
fn execution_csv(ex: &Execution) -> String {
    let mut out = String::from(
        "year,budget_version,month,method,hospital_id,budget_share,settled,difference,cumulative_share,cumulative_settled,budget_used,share_of_region\n",
    );
    let opt = |r: Option<Decimal>| r.map_or(String::new(), |r| r.to_string());
    for m in &ex.months {
        out.push_str(&format!(
            "{},{},{},{},*,{},{},{},{},{},{},\n",
            ex.year,
            m.budget_version,
            m.month,
            m.method.as_str(),
            Fen(m.budget_share),
            Fen(m.settled),
            Fen(m.difference),
            Fen(m.cumulative_share),
            Fen(m.cumulative_settled),
            opt(m.budget_used)
        ));
    }
    for h in &ex.hospitals {
        out.push_str(&format!(
            "{},{},{},{},{},,{},,,{},,{}\n",
            ex.year,
            h.budget_version,
            h.month,
            h.method.as_str(),
            h.hospital_id,
            Fen(h.settled),
            Fen(h.cumulative_settled),
            opt(h.share_of_region)
        ));
    }
    out
}
