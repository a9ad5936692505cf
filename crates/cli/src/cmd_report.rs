//! `drgdip report`: the published reports, read from the ledger and written as CSV and HTML.
//!
//! - `report monthly --month 2025-06 [--hospital H001]` — 月告知, the hospital monthly feedback;
//! - `report quarter --quarter 2025Q2` — 季公布, the region's quarter;
//! - `report year --year 2025` — 年通报, the region's year;
//! - `report special-cases --half 2025H1` — the half-yearly special-case notice.
//!
//! Each reads the store (`--db`) and hospital names (`--hospitals`); the ledger keeps what
//! priced each case (its status and group), so the reports need nothing else. `--groups`
//! (the output of `drgdip group` or `drgdip pay`) overrides the ledger's grouping, for cases
//! settled before the ledger kept it. Each writes its files into `--out` and prints their
//! paths. The figures and the files are made by `drgdip-report`; this is I/O only.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use drgdip_pay::GroupStatus;
use drgdip_report::{region_report, special_case_notice, Groups, HospitalNames, OutputFile};
use drgdip_settle::{HalfYear, Period, YearMonth};
use drgdip_store::Store;

use crate::shared::SharedOpts;

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    #[command(subcommand)]
    pub report: ReportKind,
    /// Accepted like every command's (`--shared`, `--config`); the reports need no scheme.
    #[allow(dead_code)]
    #[command(flatten)]
    pub shared: SharedOpts,
}

/// Where the data comes from and where the files go.
#[derive(Debug, Clone, clap::Args)]
pub struct Common {
    /// The ledger: `sqlite://PATH` or `postgres://…` (as for `drgdip settle`).
    #[arg(long, env = "DRGDIP_DB", default_value = "sqlite://drgdip.db")]
    pub db: String,
    /// The hospitals file (CSV `hospital_id,name,level,…`), for the names; without it the
    /// reports show ids alone.
    #[arg(long)]
    pub hospitals: Option<PathBuf>,
    /// The directory to write the files into (created if needed).
    #[arg(long)]
    pub out: PathBuf,
}

/// The grouping of the cases.
#[derive(Debug, Clone, clap::Args)]
pub struct GroupsOpt {
    /// Each case's grouping: a CSV with `case_id`, `status` and `drg` (or `group`) columns,
    /// such as the output of `drgdip group` or `drgdip pay`. Without it the grouping the
    /// ledger kept with each case is used (a case settled before the ledger kept it takes its
    /// status from its payment category, its DRG unknown, `?`).
    #[arg(long)]
    pub groups: Option<PathBuf>,
}

#[derive(Debug, clap::Subcommand)]
pub enum ReportKind {
    /// 月告知 — hospital monthly feedback: 入组率, CMI, high/low cases, payment vs cost by group.
    Monthly {
        /// The discharge month, `2025-06`.
        #[arg(long)]
        month: YearMonth,
        /// One hospital only (default: every hospital of the month, and an index page).
        #[arg(long)]
        hospital: Option<String>,
        #[command(flatten)]
        groups: GroupsOpt,
        #[command(flatten)]
        common: Common,
    },
    /// 季公布 — the region's quarter: per hospital and in total, categories, trend by month.
    Quarter {
        /// The quarter, `2025Q2`.
        #[arg(long, value_parser = parse_quarter)]
        quarter: Period,
        #[command(flatten)]
        groups: GroupsOpt,
        #[command(flatten)]
        common: Common,
    },
    /// 年通报 — the region's year: per hospital and in total, categories, trend by month.
    Year {
        /// The year, `2025`.
        #[arg(long)]
        year: i32,
        #[command(flatten)]
        groups: GroupsOpt,
        #[command(flatten)]
        common: Common,
    },
    /// 特例单议公示 — per hospital, special cases applied for and approved in a half-year.
    SpecialCases {
        /// The half-year, `2025H1`.
        #[arg(long)]
        half: HalfYear,
        #[command(flatten)]
        common: Common,
    },
}

fn parse_quarter(text: &str) -> Result<Period, String> {
    match text.parse::<Period>() {
        Ok(p @ Period::Quarter { .. }) => Ok(p),
        _ => Err(format!(
            "expected a quarter such as 2025Q2, found \"{text}\""
        )),
    }
}

pub fn run(a: ReportArgs) -> Result<()> {
    let runtime = drgdip_store::tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(make(a.report))
}

/// Reads what the report needs, makes it, writes it.
async fn make(kind: ReportKind) -> Result<()> {
    match kind {
        ReportKind::Monthly {
            month,
            hospital,
            groups,
            common,
        } => {
            let (store, names) = open(&common).await?;
            let groups = read_groups(groups.groups.as_deref())?;
            let report =
                drgdip_engine::report::monthly(&store, month, hospital.as_deref(), &groups, &names)
                    .await
                    .with_context(|| format!("the ledger {}", common.db));
            store.close().await;
            let report = report?;
            write(&common.out, &report.files())
        }
        ReportKind::Quarter {
            quarter,
            groups,
            common,
        } => region(quarter, groups, common).await,
        ReportKind::Year {
            year,
            groups,
            common,
        } => region(Period::Year(year), groups, common).await,
        ReportKind::SpecialCases { half, common } => {
            let (store, names) = open(&common).await?;
            let applications = store.applications(None, None).await?;
            store.close().await;
            let notice = special_case_notice(half, &applications, &names)?;
            write(&common.out, &notice.files())
        }
    }
}

async fn region(period: Period, groups: GroupsOpt, common: Common) -> Result<()> {
    let (store, names) = open(&common).await?;
    let groups = read_groups(groups.groups.as_deref())?;
    let cases = store.settled_cases_in(period, None).await?;
    let statements = store.statements_in(period, None).await?;
    let opinions = drgdip_engine::governance::opinion_counts(
        &store,
        period.first_month().first_day(),
        period.last_month().last_day(),
    )
    .await;
    store.close().await;
    if cases.is_empty() && statements.is_empty() {
        bail!(
            "no settled case and no statement of {period} in {}",
            common.db
        );
    }
    let report = region_report(period, &cases, &statements, &groups, &names)?
        .with_opinions(opinions.context("the opinions' counts")?);
    write(&common.out, &report.files())
}

/// Opens the store (refusing to create a SQLite file that is not there: a report reads)
/// and reads the hospital names.
async fn open(common: &Common) -> Result<(Store, HospitalNames)> {
    if let Some(path) = sqlite_file(&common.db) {
        if !Path::new(path).is_file() {
            bail!(
                "no ledger at {path} (from --db {}): settle a month first with `drgdip settle`",
                common.db
            );
        }
    }
    let names = match &common.hospitals {
        Some(path) => HospitalNames::from_hospitals(&crate::shared::read_hospitals(path)?),
        None => HospitalNames::new(),
    };
    let store = Store::open(&common.db)
        .await
        .with_context(|| format!("cannot open the ledger {}", common.db))?;
    Ok((store, names))
}

/// The file of a `sqlite://PATH` or `sqlite:PATH` URL (not of an in-memory database).
fn sqlite_file(url: &str) -> Option<&str> {
    let rest = url.trim().strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && !path.contains(":memory:")).then_some(path)
}

/// Reads `case_id`, `status` and `drg` (or `group`) of a grouping CSV.
fn read_groups(path: Option<&Path>) -> Result<Groups> {
    let Some(path) = path else {
        return Ok(Groups::new());
    };
    let mut reader = csv::Reader::from_path(path)
        .with_context(|| format!("cannot read the groups file {}", path.display()))?;
    let header = reader
        .headers()
        .with_context(|| format!("groups file {}", path.display()))?
        .clone();
    let col = |names: &[&str]| header.iter().position(|h| names.contains(&h.trim()));
    let (Some(id), Some(status), Some(group)) =
        (col(&["case_id"]), col(&["status"]), col(&["drg", "group"]))
    else {
        bail!(
            "groups file {}: expected the columns case_id, status and drg (or group), found {}",
            path.display(),
            header.iter().collect::<Vec<_>>().join(",")
        );
    };
    let mut groups = Groups::new();
    for (i, record) in reader.records().enumerate() {
        let line = i + 2;
        let record =
            record.with_context(|| format!("groups file {}, line {line}", path.display()))?;
        let field = |k: usize| record.get(k).unwrap_or("").trim();
        let s = field(status);
        let Some(s) = GroupStatus::from_label(s) else {
            bail!(
                "groups file {}, line {line}, field status: expected grouped, ambiguous, ungroupable or invalid (or 分组成功, …), found \"{s}\"",
                path.display()
            );
        };
        groups.insert(field(id), s, field(group));
    }
    Ok(groups)
}

/// Writes the files into `dir` and prints their paths.
fn write(dir: &Path, files: &[OutputFile]) -> Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the directory {}", dir.display()))?;
    for f in files {
        let path = dir.join(&f.name);
        std::fs::write(&path, &f.contents)
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!("{}", path.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_of_a_sqlite_url() {
        assert_eq!(sqlite_file("sqlite://a/b.db"), Some("a/b.db"));
        assert_eq!(
            sqlite_file("sqlite:///tmp/x.db?mode=rwc"),
            Some("/tmp/x.db")
        );
        assert_eq!(sqlite_file("sqlite:x.db"), Some("x.db"));
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("postgres://u@h/db"), None);
    }

    #[test]
    fn only_a_quarter_is_a_quarter() {
        assert!(parse_quarter("2025Q2").is_ok());
        assert!(parse_quarter("2025").is_err());
        assert!(parse_quarter("2025H1").is_err());
    }
}
