//! `drgdip weights` and `drgdip pay`: DRG weights from a year of history, and the payment of
//! each case (`payment-model.md` §1–§2, computed by the `drgdip-pay` crate).
//!
//! Both commands group their case file with the region's scheme (`[region].scheme` of the
//! parameter file) through the same streaming, parallel batch runner as `drgdip group`: rows
//! are read in chunks, grouped and paid on every core, and written in input order; invalid
//! rows go to the errors file and are never counted nor paid.
//!
//! Choices made here (the library documents its own):
//! - the weight table lists every DRG of the scheme that belongs to an ADRG (the `<L>QY`
//!   and `0000` codes, and codes of no ADRG, are not DRGs that carry a weight);
//! - the hospital level comes from the hospitals file by `hospital_id`, else from the row's
//!   `hospital_level` (a rule line says which); a case with neither is not paid;
//! - a case whose `total_cost` or `fund_paid` is empty cannot be paid (its own share is
//!   unknown): the reader reports it (`drgdip_io::Purpose::Pay`) and it is written as
//!   `invalid`; a file without those columns is refused at its header;
//! - special-case approvals (特例单议) come from `--special` (or, in `drgdip settle`, from the
//!   ledger's reviewed applications); without them no case is `special`;
//! - the exclusion catalogue (除外目录) is the file `exclusion.catalogue` of the parameters
//!   names (relative to the parameter file); it is validated whole, its ADRG codes against the
//!   region's scheme, before the first case is paid (see `cmd_exclusions`);
//! - the summary is accumulated per worker thread and merged at the end (exact decimals, so
//!   the totals do not depend on the order in which the rows were paid).

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result};
use drgdip_drg::Lang;
use drgdip_engine::pricing::{pay_file, PayOptions, SpecialCases};
use drgdip_engine::weights::weights_from_history;
use drgdip_engine::{Region, RegionFiles};
use drgdip_io::Purpose;
use drgdip_pay::money::{Fen, W4};
use drgdip_pay::params::Method;
use drgdip_pay::Category;

use crate::progress::Progress;
use crate::shared::{
    create_output, create_output_as, load_params, open_errors, open_input, parse_lang,
    parse_point_value, read_special, weights_from, InputOpts, SharedOpts,
};

#[derive(Debug, clap::Args)]
pub struct WeightsArgs {
    /// The history cases (CSV with a header, the case-file columns), e.g. the previous year.
    #[arg(long)]
    pub history: PathBuf,
    /// The region's parameter file (TOML): scheme, trimming, min_cases_for_own_weight.
    #[arg(long)]
    pub params: PathBuf,
    /// The weights (`drg,adrg,cases,mean_cost,weight,source`; `-` for standard output).
    #[arg(long, short)]
    pub output: PathBuf,
    /// The errors file: `line,case_id,field,value,message` per problem of the history.
    #[arg(long, short)]
    pub errors: Option<PathBuf>,
    /// Group the history with this scheme instead of the parameters' `region.scheme`.
    #[arg(long)]
    pub scheme: Option<String>,
    /// Language of the row problems (the errors file): en (default) or zh.
    #[arg(long)]
    pub lang: Option<String>,
    /// No progress bar and no summary.
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub input_opts: InputOpts,
    #[command(flatten)]
    pub shared: SharedOpts,
}

#[derive(Debug, clap::Args)]
pub struct PayArgs {
    /// The region's parameter file (TOML).
    #[arg(long)]
    pub params: PathBuf,
    /// The hospitals (CSV `hospital_id,name,level,credit_rating,performance_score,…`).
    #[arg(long)]
    pub hospitals: PathBuf,
    /// The DRG weights (CSV with at least `drg,weight`, e.g. made by `drgdip weights`).
    /// Default: the path given by `drg.weights` in the parameters (relative to the parameter
    /// file), or, with `drg.weights = "history"`, the weights computed from `--history`.
    #[arg(long, conflicts_with = "history")]
    pub weights: Option<PathBuf>,
    /// History cases to compute the weights from on the fly (as `drgdip weights` would).
    #[arg(long)]
    pub history: Option<PathBuf>,
    /// The cases to pay (CSV with a header; `-` for standard input).
    #[arg(long, short)]
    pub input: PathBuf,
    /// One payment row per input row, in order (`-` for standard output).
    #[arg(long, short)]
    pub output: PathBuf,
    /// The errors file: `line,case_id,field,value,message` per problem.
    #[arg(long, short)]
    pub errors: Option<PathBuf>,
    /// CNY per point, required when `drg.payment = "point"` (the year's provisional or final
    /// point value).
    #[arg(long)]
    pub point_value: Option<String>,
    /// Approved special cases (特例单议): a CSV `[hospital_id,]case_id,outcome,points` (with
    /// `hospital_id`: that hospital's case; without: the case id at any hospital), outcome
    /// `per_item` or `extra_points` (points then required); those cases are paid as `special`.
    #[arg(long)]
    pub special: Option<PathBuf>,
    /// Add a `rules` column: how each payment was reached, the lines joined with " | ".
    #[arg(long)]
    pub trace: bool,
    /// Language of the row problems (the errors file, the `rules` of an invalid row): en
    /// (default) or zh.
    #[arg(long)]
    pub lang: Option<String>,
    /// No progress bar, no parameters echo and no summary (warnings are still printed).
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub input_opts: InputOpts,
    #[command(flatten)]
    pub shared: SharedOpts,
}

// ---------------------------------------------------------------------------------------
// Weights

/// Runs `drgdip weights`.
pub fn run_weights(a: WeightsArgs) -> Result<()> {
    let env = a.shared.resolve()?;
    let lang = parse_lang(a.lang.as_deref(), Lang::En)?;
    let (params, scheme) = load_params(&env, &a.params, a.scheme.as_deref())?;
    let mut errors = open_errors(a.errors.as_deref())?;
    let progress = Progress::new(a.quiet);
    let history = weights_from_history(
        &scheme,
        &params,
        open_input(&a.history)?,
        a.input_opts
            .batch_limited(Purpose::Weights, lang, params.limits.max_case_cost),
        errors.as_mut().map(|w| w.as_mut() as &mut dyn Write),
        &|n| progress.set(n),
    )
    .with_context(|| format!("history {}", a.history.display()))?;
    progress.finish();
    if let Some(mut e) = errors {
        e.flush()?;
    }
    let mut out = create_output(&a.output)?;
    out.write_all(history.table.to_csv_string().as_bytes())?;
    out.flush()?;
    if !a.quiet {
        eprintln!("{}", history.text(&params, &scheme));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Pay

/// Runs `drgdip pay`.
pub fn run_pay(a: PayArgs) -> Result<()> {
    let env = a.shared.resolve()?;
    let lang = parse_lang(a.lang.as_deref(), Lang::En)?;
    let mut registry = env.registry()?;
    let files = RegionFiles {
        params: a.params.clone(),
        hospitals: a.hospitals.clone(),
        weights: weights_from(a.weights.as_deref(), a.history.as_deref()),
        point_value: parse_point_value(a.point_value.as_deref())?,
    };
    let region = Region::load(
        &mut registry,
        &files,
        a.input_opts.batch(Purpose::Weights, Lang::En),
    )?;
    if region.params.region.method == Method::Dip {
        eprintln!(
            "drgdip: warning: region.method = \"dip\": this region pays by DIP; paying by DRG anyway"
        );
    }
    for w in &region.warnings {
        eprintln!("drgdip: warning: {w}");
    }

    let input = open_input(&a.input)?;
    let mut out = create_output_as(&a.output, drgdip_io::OutputFormat::from_path(&a.output))?;
    let mut errors = open_errors(a.errors.as_deref())?;
    let special = match &a.special {
        Some(p) => read_special(p)?,
        None => SpecialCases::default(),
    };
    let progress = Progress::new(a.quiet);
    let options = PayOptions {
        batch: a
            .input_opts
            .batch_limited(Purpose::Pay, lang, region.params.limits.max_case_cost)
            .with_source(&a.input),
        trace: a.trace,
    };
    let run = pay_file(
        &region,
        &special,
        input,
        out.writer(),
        errors.as_mut().map(|w| w.as_mut() as &mut dyn Write),
        options,
        &|n| progress.set(n),
    )
    .with_context(|| format!("the case file {}", a.input.display()))?;
    progress.finish();
    out.finish()?;
    if let Some(mut e) = errors {
        e.flush()?;
    }
    if !a.quiet {
        let (summary, stats) = (&run.summary, &run.stats);
        eprintln!("parameters ({}):", a.params.display());
        for line in region.params.summary_lines() {
            eprintln!("  {line}");
        }
        eprintln!("scheme: {}", region.scheme.label());
        eprintln!("weights: {}", region.weights.desc);
        for line in region.base_rate_lines() {
            eprintln!("{line}");
        }
        eprintln!(
            "hospitals: {} in {}; {} case(s) took the level of their row (hospital not in the file)",
            region.hospitals.len(),
            a.hospitals.display(),
            run.level_from_row
        );
        eprint!("{}", summary.render_text());
        let total = summary.total();
        let paid = total.cases - summary.category(Category::Invalid).cases;
        let ratio = if total.total_cost.is_zero() {
            "—".to_string()
        } else {
            W4(total.payment / total.total_cost).to_string()
        };
        eprintln!(
            "payment {} vs per-item cost {} over {paid} paid case(s): ratio {ratio}, difference {}",
            Fen(total.payment),
            Fen(total.total_cost),
            Fen(total.payment - total.total_cost)
        );
        eprintln!("{}", run.exclusions.summary(&region.catalogue_desc));
        eprintln!(
            "special-case approvals (特例单议): {} case(s) given{}",
            special.len(),
            if a.special.is_none() {
                " (none: --special not given)"
            } else {
                ""
            }
        );
        eprintln!(
            "{} rows; {} problem(s); {:.2} s, {:.0} rows/s",
            stats.rows,
            stats.problems,
            stats.elapsed.as_secs_f64(),
            stats.rows_per_sec()
        );
    }
    Ok(())
}
