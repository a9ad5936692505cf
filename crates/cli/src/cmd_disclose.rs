//! `drgdip disclose`: the 亮家底 disclosure pack (`payment-model.md` §11) of a month (月告知, one
//! hospital with `--hospital`), a quarter (季公布) or a year (年通报), from the ledger (`--db`),
//! the fund file (`--fund`), the parameters (`--params`, the `[budget]` plan) and the hospitals
//! (`--hospitals`, level and kind), written into `--output` as CSV files and one HTML page
//! (and a PDF with `--pdf`). The figures are gathered by `drgdip_engine::disclose` and made into
//! files by `drgdip_report`; this module parses, reads and writes.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use drgdip_engine::digest::sha256_hex;
use drgdip_engine::disclose::{gather, FundBook, Inputs};
use drgdip_report::OutputFile;
use drgdip_settle::{Period, YearMonth};

use crate::ledger::{block_on, open_store, shown_url, DbOpts};
use crate::shared::{read_hospitals, read_text, SharedOpts};

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("period").required(true).args(["month", "quarter", "year"])))]
pub struct DiscloseArgs {
    /// A month, `2025-06` (月告知; with `--hospital`, that hospital's notice).
    #[arg(long)]
    pub month: Option<YearMonth>,
    /// A quarter, `2025-Q2` or `2025Q2` (季公布).
    #[arg(long, value_parser = parse_quarter)]
    pub quarter: Option<Period>,
    /// A year, `2025` (年通报).
    #[arg(long)]
    pub year: Option<i32>,
    /// One hospital's pack: its own figures and the region's aggregates, no other hospital's.
    #[arg(long)]
    pub hospital: Option<String>,
    #[command(flatten)]
    pub db: DbOpts,
    /// The fund file (`month,direction,item,name,amount`), such as `fund-2025.csv`.
    #[arg(long)]
    pub fund: PathBuf,
    /// The region's parameters (their `[budget]` plan is the budget executed).
    #[arg(long)]
    pub params: PathBuf,
    /// The hospitals file (level and kind, names).
    #[arg(long)]
    pub hospitals: PathBuf,
    /// The directory to write the files into (created if needed).
    #[arg(long)]
    pub output: PathBuf,
    /// Accepted like every command's (`--shared`, `--config`); the pack needs no scheme.
    #[allow(dead_code)]
    #[command(flatten)]
    pub shared: SharedOpts,
}

fn parse_quarter(text: &str) -> Result<Period, String> {
    match text.replacen("-Q", "Q", 1).parse::<Period>() {
        Ok(p @ Period::Quarter { .. }) => Ok(p),
        _ => Err(format!(
            "expected a quarter such as 2025-Q2 (or 2025Q2), found \"{text}\""
        )),
    }
}

pub fn run(a: DiscloseArgs) -> Result<()> {
    let period = match (a.month, a.quarter, a.year) {
        (Some(m), None, None) => Period::Month(m),
        (None, Some(q), None) => q,
        (None, None, Some(y)) => Period::Year(y),
        _ => bail!("give one of --month, --quarter and --year"),
    };
    let params_text = read_text(&a.params, "parameter file")?;
    let params = drgdip_pay::Params::from_toml_str(&params_text)
        .with_context(|| format!("parameter file {}", a.params.display()))?;
    let hospitals = read_hospitals(&a.hospitals)?;
    let fund_text = read_text(&a.fund, "fund file")?;
    let fund = FundBook::from_csv_str(&fund_text)
        .with_context(|| format!("fund file {}", a.fund.display()))?;
    let params_label = label(&a.params, params_text.as_bytes());
    let fund_label = label(&a.fund, fund_text.as_bytes());
    if let Some(path) = sqlite_file(&a.db.db) {
        if !Path::new(path).is_file() {
            bail!(
                "no ledger at {path} (from --db {}): settle the months first with `drgdip settle`",
                shown_url(&a.db.db)
            );
        }
    }
    let pack = block_on(async {
        let store = open_store(&a.db).await?;
        let pack = gather(
            &store,
            period,
            a.hospital.as_deref(),
            Inputs {
                params: &params,
                params_label: &params_label,
                hospitals: &hospitals,
                fund: &fund,
                fund_label: &fund_label,
            },
        )
        .await;
        store.close().await;
        Ok(pack?)
    })?;
    write(&a.output, &pack.files())
}

/// `name (sha256 …)`.
fn label(path: &Path, bytes: &[u8]) -> String {
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().to_string(),
    );
    format!("{name} (sha256 {})", sha256_hex(bytes))
}

/// The file of a `sqlite://PATH` or `sqlite:PATH` URL (not of an in-memory database).
fn sqlite_file(url: &str) -> Option<&str> {
    let rest = url.trim().strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or(rest);
    (!path.is_empty() && !path.contains(":memory:")).then_some(path)
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
    fn a_quarter_is_written_either_way() {
        assert_eq!(parse_quarter("2025-Q2"), parse_quarter("2025Q2"));
        assert!(parse_quarter("2025-Q2").is_ok());
        assert!(parse_quarter("2025-06").is_err());
        assert!(parse_quarter("2025-Q5").is_err());
    }
}
