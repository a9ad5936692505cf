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
    /// Also write the pack as a PDF (A4, the Chinese font embedded as a subset).
    #[arg(long)]
    pub pdf: bool,
    /// The font of the PDF: a TrueType/OpenType font or collection with Chinese glyphs
    /// (default: the first of the standard Debian paths that exists, see `FONT_PATHS`).
    #[arg(long, env = "DRGDIP_FONT")]
    pub font: Option<PathBuf>,
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
    write(&a.output, &pack.files())?;
    if a.pdf {
        let font = find_font(a.font.as_deref())?;
        let bytes = std::fs::read(&font)
            .with_context(|| format!("cannot read the font {}", font.display()))?;
        let pdf = pack
            .pdf(bytes, 0)
            .with_context(|| format!("the PDF with the font {}", font.display()))?;
        let path = a.output.join(format!("{}.pdf", pack.stem()));
        std::fs::write(&path, pdf).with_context(|| format!("cannot write {}", path.display()))?;
        println!("{}", path.display());
    }
    Ok(())
}

/// Where a CJK font is looked for when neither `--font` nor `DRGDIP_FONT` names one: the
/// Debian packages fonts-wqy-microhei, fonts-wqy-zenhei, fonts-noto-cjk, fonts-arphic-*.
pub const FONT_PATHS: &[&str] = &[
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/arphic/ukai.ttc",
    "/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf",
    "/usr/share/fonts/truetype/arphic-gkai00mp/gkai00mp.ttf",
];

/// The font of the PDF: the one given (it must exist), else the first standard path that
/// exists, else an error naming what to install.
fn find_font(given: Option<&Path>) -> Result<PathBuf> {
    if let Some(path) = given {
        if !path.is_file() {
            bail!("--font / DRGDIP_FONT {}: no such file", path.display());
        }
        return Ok(path.to_path_buf());
    }
    FONT_PATHS
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
        .ok_or_else(|| {
            anyhow::anyhow!(
                "no Chinese font for the PDF: install one (Debian: `apt-get install fonts-wqy-microhei`, or fonts-noto-cjk) or name a TrueType/OpenType font with --font FILE or DRGDIP_FONT; looked in {}",
                FONT_PATHS.join(", ")
            )
        })
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
