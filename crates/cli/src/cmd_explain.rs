//! `drgdip explain`: one case, every rule that decided its group, in Chinese or English.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use drgdip_drg::{explain, Lang, Trace};
use drgdip_io::{CaseReader, Columns, ReadOptions, RowIn, RowOutcome};

use crate::shared::{open_input, parse_lang, InputOpts, Schemes, SharedOpts};
use drgdip_engine::batch::group_record;

#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    /// Take the case from this file (with --case-id).
    #[arg(long, short, requires = "case_id")]
    pub input: Option<PathBuf>,
    /// The case to explain from --input.
    #[arg(long)]
    pub case_id: Option<String>,
    /// Gender: 1 male, 2 female.
    #[arg(long, conflicts_with = "input")]
    pub gender: Option<String>,
    /// Age in years.
    #[arg(long, conflicts_with = "input")]
    pub age: Option<String>,
    /// Age in days (infants).
    #[arg(long, conflicts_with = "input")]
    pub age_days: Option<String>,
    /// Birth weight in grams (newborns).
    #[arg(long, conflicts_with = "input")]
    pub birth_weight: Option<String>,
    /// Diagnoses, principal first, `|`-separated.
    #[arg(long, conflicts_with = "input")]
    pub dx: Option<String>,
    /// Procedures, principal first, `|`-separated.
    #[arg(long, conflicts_with = "input")]
    pub px: Option<String>,
    /// Insured region and discharge date (for `--scheme auto`).
    #[arg(long, conflicts_with = "input")]
    pub insured_region: Option<String>,
    #[arg(long, conflicts_with = "input")]
    pub discharge_date: Option<String>,
    /// The scheme, or `auto`.
    #[arg(long, default_value = "chs-drg-2.0")]
    pub scheme: String,
    /// Language of the explanation and of the row problems: zh or en. Without it the
    /// explanation is in Chinese and the problems in English.
    #[arg(long)]
    pub lang: Option<String>,
    #[command(flatten)]
    pub input_opts: InputOpts,
    #[command(flatten)]
    pub shared: SharedOpts,
}

fn find_row(path: &Path, id: &str, spec: &drgdip_io::InputSpec) -> Result<(Columns, RowIn)> {
    let mut rdr = CaseReader::open(open_input(path)?, spec)
        .with_context(|| format!("the case file {}", path.display()))?;
    let cols = rdr
        .columns(ReadOptions::default())
        .with_context(|| format!("the case file {}", path.display()))?;
    let pos = cols.pos("case_id").unwrap_or(0);
    while let Some(row) = rdr.next_row()? {
        if row.record.get(pos).map(|f| f.trim_ascii()) == Some(id.as_bytes()) {
            return Ok((cols, row));
        }
    }
    bail!("case {id:?} is not in {}", path.display())
}

/// Runs `drgdip explain`.
pub fn run(a: ExplainArgs) -> Result<()> {
    let env = a.shared.resolve()?;
    let schemes = Schemes::load(&env, &a.scheme, None)?;
    let lang = parse_lang(a.lang.as_deref(), Lang::Zh)?;
    let problems_lang = parse_lang(a.lang.as_deref(), Lang::En)?;
    let (cols, row) = match (&a.input, &a.case_id) {
        (Some(p), Some(id)) => find_row(p, id, &a.input_opts.spec())?,
        _ => {
            if a.dx.is_none() || a.gender.is_none() || a.age.is_none() {
                bail!("give --input FILE --case-id ID, or at least --gender, --age and --dx");
            }
            // a one-row file holding only the columns given
            let given: Vec<(&str, String)> = [
                (
                    "case_id",
                    Some(a.case_id.clone().unwrap_or_else(|| "-".into())),
                ),
                ("gender", a.gender.clone()),
                ("age", a.age.clone()),
                ("age_days", a.age_days.clone()),
                ("birth_weight", a.birth_weight.clone()),
                ("diagnoses", a.dx.clone()),
                ("procedures", a.px.clone()),
                ("insured_region", a.insured_region.clone()),
                ("discharge_date", a.discharge_date.clone()),
            ]
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k, v)))
            .collect();
            let cols = Columns::from_header(given.iter().map(|(k, _)| *k))?;
            (
                cols,
                RowIn::from_fields(2, given.iter().map(|(_, v)| v.as_str())),
            )
        }
    };
    let zh = lang == Lang::Zh;
    match row.read(&cols, schemes.catalog()) {
        RowOutcome::Invalid { case_id, problems } => {
            println!(
                "{} {case_id}: {}",
                if zh { "病例" } else { "case" },
                if zh {
                    "信息校验不通过"
                } else {
                    "invalid"
                }
            );
            for p in problems {
                println!("  {} {:?}: {}", p.field, p.value, p.message(problems_lang));
            }
        }
        RowOutcome::Valid(r) => {
            let s = schemes.pick(&r.insured_region, &r.discharge_date);
            let mut trace = Trace::enabled();
            let g = group_record(s, &r, &mut trace);
            let lines = explain(s, &g, &trace, lang);
            println!(
                "{} {}: {}",
                if zh { "病例" } else { "case" },
                r.case_id,
                lines[0]
            );
            if !r.repairs.is_empty() {
                println!(
                    "  {} {}",
                    if zh { "已修复：" } else { "repaired:" },
                    r.repairs_text()
                );
            }
            for (i, l) in lines[1..].iter().enumerate() {
                println!("  {:>2}. {l}", i + 1);
            }
        }
    }
    Ok(())
}
