//! `drgdip group`: a case file in, one result row per input row out.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use drgdip_drg::{explain, Grouping, Lang, Trace};
use drgdip_io::{
    csv_field, problems_text, run_batch_with, Columns, Problem, Purpose, RowIn, RowOutcome,
};
use drgdip_scheme::Scheme;

use crate::progress::Progress;
use crate::shared::{
    create_output, open_errors, open_input, parse_lang, InputOpts, Schemes, SharedOpts,
};

/// Output format of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Csv,
    Jsonl,
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
    /// The scheme: chs-drg-2.0, fujian-2024, … or `auto` (per row, by region and date).
    #[arg(long, default_value = "chs-drg-2.0")]
    pub scheme: String,
    /// With `--scheme auto`: the treating pooling region for every row (else each row's
    /// insured_region).
    #[arg(long)]
    pub region: Option<String>,
    /// Add the explanation of every result.
    #[arg(long)]
    pub trace: bool,
    /// Language of the trace and of the row problems (the `problems` column, the errors
    /// file): zh or en. Without it the trace is in Chinese and the problems in English.
    #[arg(long)]
    pub lang: Option<String>,
    #[arg(long, value_enum, default_value = "csv")]
    pub format: Format,
    /// No progress bar and no summary.
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub input_opts: InputOpts,
    #[command(flatten)]
    pub shared: SharedOpts,
}

pub use drgdip_engine::batch::{bucket, group_record, STATUS_NAMES};

fn codes(s: &Scheme, ids: &[u32]) -> String {
    let mut out = String::new();
    for (i, &d) in ids.iter().enumerate() {
        if i > 0 {
            out.push('|');
        }
        out.push_str(s.catalog.diagnoses.code(d));
    }
    out
}

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
    let (status, mdc, adrg, drg, mcc, cc, scheme) = match result {
        Some((s, g, _)) => (
            g.status.as_str(),
            g.mdc_code(s),
            g.adrg_code(s),
            g.drg_code(s),
            codes(s, &g.mcc),
            codes(s, &g.cc),
            s.name.as_str(),
        ),
        None => ("invalid", "", "", "", String::new(), String::new(), ""),
    };
    let trace_lines: Vec<String> = match result {
        Some((s, g, t)) if ctx.trace => explain(s, g, t, ctx.lang),
        _ => Vec::new(),
    };
    match ctx.format {
        Format::Csv => {
            let _ = write!(
                out,
                "{},{status},{mdc},{adrg},{drg},{mcc},{cc},{scheme},{},{}",
                csv_field(case_id),
                csv_field(repairs),
                csv_field(problems)
            );
            if ctx.trace {
                let _ = write!(out, ",{}", csv_field(&trace_lines.join(" | ")));
            }
            out.push(b'\n');
        }
        Format::Jsonl => {
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

/// Runs `drgdip group`.
pub fn run(a: GroupArgs) -> Result<()> {
    let env = a.shared.resolve()?;
    let schemes = Schemes::load(&env, &a.scheme, a.region.clone())?;
    let lang = parse_lang(a.lang.as_deref(), Lang::Zh)?;
    let problems_lang = parse_lang(a.lang.as_deref(), Lang::En)?;
    let ctx = Ctx {
        schemes: &schemes,
        trace: a.trace,
        lang,
        problems_lang,
        format: a.format,
    };
    let input = open_input(&a.input)?;
    let mut out = create_output(&a.output)?;
    let mut errors = open_errors(a.errors.as_deref())?;
    let header: &[u8] = match (a.format, a.trace) {
        (Format::Jsonl, _) => b"",
        (Format::Csv, false) => b"case_id,status,mdc,adrg,drg,mcc,cc,scheme,repairs,problems\n",
        (Format::Csv, true) => {
            b"case_id,status,mdc,adrg,drg,mcc,cc,scheme,repairs,problems,trace\n"
        }
    };
    let progress = Progress::new(a.quiet);
    let options = a.input_opts.batch(Purpose::Group, problems_lang);
    let stats = run_batch_with(
        input,
        &options,
        header,
        &mut out,
        errors.as_mut().map(|w| w.as_mut() as &mut dyn Write),
        |cols, row, buf, probs| group_row(&ctx, cols, row, buf, probs),
        |n| progress.set(n),
    )?;
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
