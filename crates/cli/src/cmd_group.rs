//! `drgdip group`: a case file in, one result row per input row out.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use drgdip_drg::{explain, Grouping, Lang, Trace};
use drgdip_io::{
    problems_text, push_csv_field, run_batch_with, Columns, Problem, Purpose, RowIn, RowOutcome,
};
use drgdip_scheme::Scheme;

use crate::progress::Progress;
use crate::shared::{
    create_output_as, open_errors, open_input, parse_lang, read_text, InputOpts, Schemes,
    SharedOpts,
};
use drgdip_pay::Params;

/// Output format of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Csv,
    Jsonl,
    /// The CSV's columns, every one a string (docs/input.md).
    Parquet,
}

#[derive(Debug, clap::Args)]
pub struct GroupArgs {
    /// The case file (CSV with a header; `-` for standard input).
    #[arg(long, short)]
    pub input: PathBuf,
    /// The results (`-` for standard output).
    #[arg(long, short)]
    pub output: PathBuf,
    /// The errors file: `line,case_id,field,value,message` per problem.
    #[arg(long, short)]
    pub errors: Option<PathBuf>,
    /// The scheme: chs-drg-2.0, fujian-2024, … or `auto` (by the treating region and the
    /// discharge date). Default: the `region.scheme` of `--params`, else chs-drg-2.0.
    #[arg(long)]
    pub scheme: Option<String>,
    /// With `--scheme auto`: the treating pooling region (就医地) for every row. Default: the
    /// `region.code` of `--params`; without either, each row's insured_region stands in for
    /// it (with a warning).
    #[arg(long)]
    pub region: Option<String>,
    /// The treating region's parameter file (TOML): its `region.scheme` groups every row,
    /// in-province and cross-province alike (payment-model §2 rule 2, dip-and-payment §21);
    /// with `--scheme auto`, its `region.code` is the treating region.
    #[arg(long)]
    pub params: Option<PathBuf>,
    /// Add the explanation of every result.
    #[arg(long)]
    pub trace: bool,
    /// Language of the trace and of the row problems (the `problems` column, the errors
    /// file): zh or en. Without it the trace is in Chinese and the problems in English.
    #[arg(long)]
    pub lang: Option<String>,
    /// The results' format. Default: by the output's extension (`.jsonl`, `.parquet`), else
    /// csv.
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// No progress bar and no summary.
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub input_opts: InputOpts,
    #[command(flatten)]
    pub shared: SharedOpts,
}

pub use drgdip_engine::batch::{
    bucket, diagnosis_codes, group_record, write_diagnosis_codes, STATUS_NAMES,
};

struct Ctx<'a> {
    schemes: &'a Schemes,
    trace: bool,
    lang: Lang,
    /// The language of the row problems.
    problems_lang: Lang,
    format: Format,
}

fn write_row(
    ctx: &Ctx,
    out: &mut Vec<u8>,
    case_id: &str,
    result: Option<(&Scheme, &Grouping, &Trace)>,
    repairs: &str,
    problems: &str,
) {
    let trace_lines: Vec<String> = match result {
        Some((s, g, t)) if ctx.trace => explain(s, g, t, ctx.lang),
        _ => Vec::new(),
    };
    match ctx.format {
        Format::Csv | Format::Parquet => {
            // straight into the output buffer: codes and names need no quoting
            push_csv_field(out, case_id);
            match result {
                Some((s, g, _)) => {
                    for part in [
                        g.status.as_str(),
                        g.mdc_code(s),
                        g.adrg_code(s),
                        g.drg_code(s),
                    ] {
                        out.push(b',');
                        out.extend_from_slice(part.as_bytes());
                    }
                    out.push(b',');
                    write_diagnosis_codes(out, s, &g.mcc);
                    out.push(b',');
                    write_diagnosis_codes(out, s, &g.cc);
                    out.push(b',');
                    out.extend_from_slice(s.name.as_bytes());
                }
                None => out.extend_from_slice(b",invalid,,,,,,"),
            }
            out.push(b',');
            push_csv_field(out, repairs);
            out.push(b',');
            push_csv_field(out, problems);
            if ctx.trace {
                out.push(b',');
                push_csv_field(out, &trace_lines.join(" | "));
            }
            out.push(b'\n');
        }
        Format::Jsonl => {
            let (status, mdc, adrg, drg, mcc, cc, scheme) = match result {
                Some((s, g, _)) => (
                    g.status.as_str(),
                    g.mdc_code(s),
                    g.adrg_code(s),
                    g.drg_code(s),
                    diagnosis_codes(s, &g.mcc),
                    diagnosis_codes(s, &g.cc),
                    s.name.as_str(),
                ),
                None => ("invalid", "", "", "", String::new(), String::new(), ""),
            };
            let mut v = serde_json::json!({
                "case_id": case_id, "status": status, "mdc": mdc, "adrg": adrg, "drg": drg,
                "mcc": mcc, "cc": cc, "scheme": scheme, "repairs": repairs, "problems": problems,
            });
            if ctx.trace {
                v["trace"] = serde_json::json!(trace_lines);
            }
            let _ = serde_json::to_writer(&mut *out, &v);
            out.push(b'\n');
        }
    }
}

fn group_row(
    ctx: &Ctx,
    cols: &Columns,
    row: &RowIn,
    out: &mut Vec<u8>,
    probs: &mut Vec<Problem>,
) -> usize {
    match row.read(cols, ctx.schemes.catalog()) {
        RowOutcome::Invalid { case_id, problems } => {
            let text = problems_text(&problems, ctx.problems_lang);
            write_row(ctx, out, &case_id, None, "", &text);
            probs.extend(problems);
            3
        }
        RowOutcome::Valid(r) => {
            let s = ctx.schemes.pick(&r.insured_region, &r.discharge_date);
            let mut trace = if ctx.trace {
                Trace::enabled()
            } else {
                Trace::disabled()
            };
            let g = group_record(s, &r, &mut trace);
            let repairs = if r.repairs.is_empty() {
                String::new()
            } else {
                r.repairs_text()
            };
            write_row(ctx, out, &r.case_id, Some((s, &g, &trace)), &repairs, "");
            bucket(g.status)
        }
    }
}

/// The scheme of a run and, for `auto`, the treating region (就医地): cases are grouped by
/// the treating region's scheme, in-province and cross-province alike (payment-model §2
/// rule 2, dip-and-payment §21). `--scheme` wins, else the parameters' `region.scheme`, else
/// the national scheme; the treating region is `--region`, else the parameters'
/// `region.code`.
fn treating_scheme(
    scheme: Option<&str>,
    region: Option<&str>,
    params: Option<&drgdip_pay::params::Region>,
) -> (String, Option<String>) {
    let name = scheme
        .map(str::to_string)
        .or_else(|| params.map(|p| p.scheme.clone()))
        .unwrap_or_else(|| "chs-drg-2.0".to_string());
    let treating = region
        .map(str::to_string)
        .or_else(|| params.map(|p| p.code.clone()));
    // a fixed scheme needs no region: --region alone is refused by Schemes::load
    let treating = if name == "auto" || region.is_some() {
        treating
    } else {
        None
    };
    (name, treating)
}

/// Runs `drgdip group`.
pub fn run(a: GroupArgs) -> Result<()> {
    let env = a.shared.resolve()?;
    let region_params = match &a.params {
        Some(path) => Some(
            Params::from_toml_str(&read_text(path, "parameter file")?)
                .map_err(|e| anyhow::anyhow!("parameter file {}: {e}", path.display()))?,
        ),
        None => None,
    };
    let (scheme, treating) = treating_scheme(
        a.scheme.as_deref(),
        a.region.as_deref(),
        region_params.as_ref().map(|p| &p.region),
    );
    if scheme == "auto" && treating.is_none() && !a.quiet {
        eprintln!(
            "drgdip: warning: --scheme auto without --region or --params: each row's insured_region stands in for the treating region (the treating region's scheme applies to every case: give --region CODE or --params FILE)"
        );
    }
    let schemes = Schemes::load(&env, &scheme, treating)?;
    let lang = parse_lang(a.lang.as_deref(), Lang::Zh)?;
    let problems_lang = parse_lang(a.lang.as_deref(), Lang::En)?;
    let format = a
        .format
        .unwrap_or(match drgdip_io::OutputFormat::from_path(&a.output) {
            drgdip_io::OutputFormat::Csv => Format::Csv,
            drgdip_io::OutputFormat::Jsonl => Format::Jsonl,
            drgdip_io::OutputFormat::Parquet => Format::Parquet,
        });
    // Parquet is made from the CSV rows
    let row_format = match format {
        Format::Parquet => Format::Csv,
        f => f,
    };
    let ctx = Ctx {
        schemes: &schemes,
        trace: a.trace,
        lang,
        problems_lang,
        format: row_format,
    };
    let input = open_input(&a.input)?;
    let mut out = create_output_as(
        &a.output,
        match format {
            Format::Parquet => drgdip_io::OutputFormat::Parquet,
            _ => drgdip_io::OutputFormat::Csv,
        },
    )?;
    let mut errors = open_errors(a.errors.as_deref())?;
    let header: &[u8] = match (row_format, a.trace) {
        (Format::Jsonl | Format::Parquet, _) => b"",
        (Format::Csv, false) => b"case_id,status,mdc,adrg,drg,mcc,cc,scheme,repairs,problems\n",
        (Format::Csv, true) => {
            b"case_id,status,mdc,adrg,drg,mcc,cc,scheme,repairs,problems,trace\n"
        }
    };
    let progress = Progress::new(a.quiet);
    let options = a
        .input_opts
        .batch(Purpose::Group, problems_lang)
        .with_source(&a.input);
    let stats = run_batch_with(
        input,
        &options,
        header,
        out.writer(),
        errors.as_mut().map(|w| w.as_mut() as &mut dyn Write),
        |cols, row, buf, probs| group_row(&ctx, cols, row, buf, probs),
        |n| progress.set(n),
    )?;
    out.finish()?;
    progress.finish();
    if !a.quiet {
        let mut line = format!("{} rows", stats.rows);
        for (i, name) in STATUS_NAMES.iter().enumerate() {
            line.push_str(&format!(", {} {name}", stats.by_status[i]));
        }
        eprintln!(
            "{line}; {} problem(s); {:.2} s, {:.0} rows/s; scheme {}",
            stats.problems,
            stats.elapsed.as_secs_f64(),
            stats.rows_per_sec(),
            schemes
                .list
                .iter()
                .map(|s| s.label())
                .collect::<Vec<_>>()
                .join(" + ")
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region() -> drgdip_pay::params::Region {
        drgdip_pay::params::Region {
            code: "350100".into(),
            name: "r".into(),
            province_prefix: "35".into(),
            year: 2025,
            method: drgdip_pay::params::Method::Drg,
            scheme: "fujian-2024".into(),
        }
    }

    #[test]
    fn the_treating_regions_scheme_applies_to_every_row() {
        let r = region();
        // the parameters name the scheme: every row, whatever its insured region
        assert_eq!(
            treating_scheme(None, None, Some(&r)),
            ("fujian-2024".to_string(), None)
        );
        // auto with the parameters: the treating region is the parameters' code
        assert_eq!(
            treating_scheme(Some("auto"), None, Some(&r)),
            ("auto".to_string(), Some("350100".to_string()))
        );
        // --region wins over the parameters' code
        assert_eq!(
            treating_scheme(Some("auto"), Some("350200"), Some(&r)),
            ("auto".to_string(), Some("350200".to_string()))
        );
        // no region known: the national scheme, or auto by each row's insured region
        assert_eq!(
            treating_scheme(None, None, None),
            ("chs-drg-2.0".to_string(), None)
        );
        assert_eq!(
            treating_scheme(Some("auto"), None, None),
            ("auto".to_string(), None)
        );
        // a fixed scheme with --region stays an error (Schemes::load says so)
        assert_eq!(
            treating_scheme(Some("chs-drg-2.0"), Some("350100"), None).1,
            Some("350100".to_string())
        );
    }
}
