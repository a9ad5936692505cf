//! `drgdip dip build|score|point-value`: the region's DIP 2.0 library (病种库) built from a year
//! of history, the score (病例分值) and payment of each case, and the year's point value (点值),
//! as `payment-model.md` §3–§4 fixes them. The formulas live in `drgdip-dip`; this module reads
//! and writes the files.
//!
//! Every case is read and validated as `drgdip group` reads it ([`RowIn::read`]), then grouped
//! with the DRG scheme of the region (`[region].scheme` of the parameter file, or `--scheme`)
//! for its severity (MCC 3 / CC 2 / neither 1). DIP also needs `total_cost` (and, to score,
//! `fund_paid` and the hospital's level): a row without them is invalid, reported, never used.
//!
//! `score` with the budget point value needs every case's (score, own) before the first
//! payment (`drgdip_dip::point_value` solves `Σ max(0, s × pv − own) = B` exactly over them):
//! the rows are scored once, streamed to a temporary file next to the output (the system's
//! temporary directory for standard output) while the (score, own) pairs are kept in memory
//! (32 bytes a case), then copied to the output with their payments. Standard input works.
//!
//! Cross-province cases (跨省异地: the insured region outside `[region].province_prefix`) are
//! outside the point value (`payment-model.md` §4 Scope): they are scored, written with the
//! status `cross_province` and paid per item (payment = total_cost, fund_due = max(0,
//! payment − own)), and left out of the point value and of its sums.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use drgdip_dip::files::{AUX_FILE, GROUPS_FILE, SUMMARY_FILE};
use drgdip_dip::round::{fmt4, fmt_money, round_fen};
use drgdip_dip::{
    build_library, dip_payment, fixed_point_value, monthly_point_value, point_basis,
    year_point_value, Deviation, DipCase, DipParams, DipScore, Fallback, GroupKind, Library,
    PointValueBasis, PointValueSource, ProcedureSets,
};
use drgdip_drg::Lang;
use drgdip_drg::Trace;
use drgdip_engine::batch::group_record;
use drgdip_engine::dip::{
    procedure_sets, score_row, severity_of, DipRow, DipScored, DipScorer, InsuredRule,
};
use drgdip_engine::region::{read_catalogue, relative_to as catalogue_path};
use drgdip_io::{
    csv_field, problems_text, run_batch_with, BatchOptions, CaseRecord, Columns, Problem,
    ProblemKind, Purpose, RowIn, RowOutcome,
};
use drgdip_pay::exclusion::Catalogue;
use drgdip_pay::params::Exclusion;
use drgdip_pay::Hospitals;
use drgdip_scheme::Scheme;
use rust_decimal::Decimal;

use crate::progress::Progress;
use crate::shared::{
    create_output, open_errors, open_input, parse_lang, read_hospitals, InputOpts, Schemes,
    SharedOpts,
};

#[derive(Debug, clap::Args)]
pub struct DipArgs {
    #[command(subcommand)]
    pub command: DipCommand,
    #[command(flatten)]
    pub shared: SharedOpts,
}

#[derive(Debug, clap::Subcommand)]
pub enum DipCommand {
    /// Build the disease library (病种库) from a year of history cases.
    Build(BuildArgs),
    /// Score every case of a file against the library, with its payment.
    Score(ScoreArgs),
    /// Print the point value (点值) of a case file and how it was computed.
    PointValue(PointValueArgs),
}

/// Options of every `dip` subcommand.
#[derive(Debug, clap::Args)]
pub struct DipCommon {
    /// The region's parameter file (`[dip]`, `[dip.hospital_level_coefficient]`, `[budget]`).
    #[arg(long, short)]
    pub params: PathBuf,
    /// The DRG scheme that gives each case its severity (default: `[region].scheme` of the
    /// parameter file, else chs-drg-2.0).
    #[arg(long)]
    pub scheme: Option<String>,
    /// Language of the row problems (the errors file, the `reasons` of an invalid row): en
    /// (default) or zh.
    #[arg(long)]
    pub lang: Option<String>,
    /// No progress bar and no summary.
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub input_opts: InputOpts,
}

impl DipCommon {
    /// How the case file is read for `purpose`.
    fn batch(&self, purpose: Purpose) -> Result<BatchOptions> {
        let lang = parse_lang(self.lang.as_deref(), Lang::En)?;
        Ok(self.input_opts.batch(purpose, lang))
    }
}

#[derive(Debug, clap::Args)]
pub struct BuildArgs {
    /// The history cases (CSV with a header; `-` for standard input).
    #[arg(long)]
    pub history: PathBuf,
    /// The library directory (created): groups.csv, aux_coefficients.csv, summary.csv.
    #[arg(long, short)]
    pub output: PathBuf,
    /// The errors file: `line,case_id,field,value,message` per problem.
    #[arg(long, short)]
    pub errors: Option<PathBuf>,
    #[command(flatten)]
    pub common: DipCommon,
}

#[derive(Debug, clap::Args)]
pub struct ScoreArgs {
    /// The library directory written by `drgdip dip build`.
    #[arg(long, short)]
    pub library: PathBuf,
    /// The hospitals file (`hospital_id,name,level,…`): the level coefficient of each case.
    #[arg(long)]
    pub hospitals: PathBuf,
    /// The cases (CSV with a header; `-` for standard input).
    #[arg(long, short)]
    pub input: PathBuf,
    /// The scores, one row per input row in input order (`-` for standard output).
    #[arg(long, short)]
    pub output: PathBuf,
    /// The errors file: `line,case_id,field,value,message` per problem.
    #[arg(long, short)]
    pub errors: Option<PathBuf>,
    /// The point value (CNY per point); default: the parameters' `point_value` (a fixed value,
    /// or "budget": the value at which Σ max(0, score × pv − own) over the whole input's local
    /// and in-province cases is the DIP budget).
    #[arg(long)]
    pub point_value: Option<Decimal>,
    /// Add a `reasons` column: how each score was reached.
    #[arg(long)]
    pub trace: bool,
    #[command(flatten)]
    pub common: DipCommon,
}

#[derive(Debug, clap::Args)]
pub struct PointValueArgs {
    /// The library directory written by `drgdip dip build`.
    #[arg(long, short)]
    pub library: PathBuf,
    /// The hospitals file (`hospital_id,name,level,…`).
    #[arg(long)]
    pub hospitals: PathBuf,
    /// The cases of the period (CSV with a header; `-` for standard input).
    #[arg(long, short)]
    pub input: PathBuf,
    /// The errors file: `line,case_id,field,value,message` per problem.
    #[arg(long, short)]
    pub errors: Option<PathBuf>,
    /// One provisional point value per discharge month (the same equation over the month's
    /// cases with budget / 12) instead of the year's.
    #[arg(long)]
    pub monthly: bool,
    #[command(flatten)]
    pub common: DipCommon,
}

/// Runs `drgdip dip …`.
pub fn run(a: DipArgs) -> Result<()> {
    match a.command {
        DipCommand::Build(b) => run_build(&a.shared, b),
        DipCommand::Score(s) => run_score(&a.shared, s),
        DipCommand::PointValue(p) => run_point_value(&a.shared, p),
    }
}

// ---------------------------------------------------------------------------------------------
// Shared pieces

/// What a run needs from the parameter file and the scheme.
struct Setup {
    params: DipParams,
    schemes: Schemes,
    sets: ProcedureSets,
    /// The approved exclusion catalogue (`[exclusion].catalogue`), if the parameters name one.
    catalogue: Option<Catalogue>,
    /// What the exclusion does in this run, for the summary.
    exclusion_desc: String,
}

impl Setup {
    fn scheme(&self) -> &Scheme {
        &self.schemes.list[0]
    }
}

/// Reads the parameters and loads the DRG scheme (`--scheme`, else `[region].scheme`); with
/// `exclusions`, the exclusion catalogue too (scoring needs it, building the library not).
fn setup(shared: &SharedOpts, c: &DipCommon, exclusions: bool) -> Result<Setup> {
    let path = &c.params;
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the parameter file {}", path.display()))?;
    let params = DipParams::from_toml_str(&text)
        .with_context(|| format!("parameter file {}", path.display()))?;
    let name = match &c.scheme {
        Some(s) => s.clone(),
        None => region_scheme(&text)
            .with_context(|| format!("parameter file {}", path.display()))?
            .unwrap_or_else(|| "chs-drg-2.0".to_owned()),
    };
    let env = shared.resolve()?;
    let schemes = Schemes::load(&env, &name, None)
        .with_context(|| format!("the DRG scheme {name:?} (severity of each case)"))?;
    let sets = procedure_sets(&schemes.list[0]);
    let (catalogue, exclusion_desc) = if exclusions {
        dip_catalogue(path, &text, &schemes.list[0])?
    } else {
        (None, String::new())
    };
    Ok(Setup {
        params,
        schemes,
        sets,
        catalogue,
        exclusion_desc,
    })
}

/// The exclusion catalogue of the parameters (`[exclusion].catalogue`, relative to the file),
/// validated with its ADRG codes against the scheme. A file without `[exclusion]`, or with only
/// the legacy keys (which DIP never had), gives no exclusion.
fn dip_catalogue(path: &Path, text: &str, scheme: &Scheme) -> Result<(Option<Catalogue>, String)> {
    let root: toml::Table = text
        .parse()
        .with_context(|| format!("parameter file {}", path.display()))?;
    if !root.contains_key("exclusion") {
        return Ok((None, "exclusion: none ([exclusion] absent)".to_owned()));
    }
    let exclusion = Exclusion::from_params_toml(text)
        .map_err(|e| anyhow::anyhow!("parameter file {}: {e}", path.display()))?;
    match exclusion.catalogue {
        Some(written) => {
            let file = catalogue_path(path, &written);
            let catalogue = read_catalogue(&file, scheme).context("exclusion.catalogue")?;
            let desc = format!(
                "exclusion catalogue {} ({} items) as extra points",
                file.display(),
                catalogue.len()
            );
            Ok((Some(catalogue), desc))
        }
        None => Ok((
            None,
            "exclusion: no catalogue (the legacy exclusion.mode is not used by DIP)".to_owned(),
        )),
    }
}

/// `[region].scheme` of a parameter file, if set.
fn region_scheme(text: &str) -> Result<Option<String>> {
    let root: toml::Table = text.parse()?;
    match root.get("region").and_then(|r| r.get("scheme")) {
        None => Ok(None),
        Some(toml::Value::String(s)) => Ok(Some(s.clone())),
        Some(v) => bail!("`region.scheme` = {v}: expected a scheme name, e.g. \"fujian-2024\""),
    }
}

fn problem(r: &CaseRecord, field: &str, value: &str, kind: ProblemKind) -> Problem {
    Problem::new(r.line, r.case_id.as_str(), field, value, kind)
}

/// The DIP view of a valid record, with the ADRG of its DRG grouping (the scope of the
/// exclusion items). DIP keys read only the principal diagnosis, so only it is kept; the case
/// id is not needed either (the caller writes it).
fn dip_case(
    s: &Scheme,
    r: &CaseRecord,
    total_cost: Decimal,
    fund_paid: Decimal,
    hospital_level: u8,
) -> (DipCase, String) {
    let dx = &s.catalog.diagnoses;
    let px = &s.catalog.procedures;
    let grouping = group_record(s, r, &mut Trace::disabled());
    let severity = severity_of(grouping.severity());
    let adrg = grouping.adrg_code(s).to_owned();
    let case = DipCase {
        case_id: String::new(),
        diagnoses: r
            .diagnoses
            .first()
            .map(|&d| vec![dx.code(d).to_owned()])
            .unwrap_or_default(),
        procedures: r
            .procedures
            .iter()
            .map(|&p| px.code(p).to_owned())
            .collect(),
        severity,
        age_years: r.age_years,
        discharge_way: r.discharge_way.clone(),
        total_cost,
        fund_paid,
        hospital_level,
    };
    (case, adrg)
}

/// Opens the errors file with its header.
fn read_library(dir: &Path) -> Result<Library> {
    let mut files = Vec::new();
    for name in [GROUPS_FILE, AUX_FILE, SUMMARY_FILE] {
        let p = dir.join(name);
        let text = std::fs::read_to_string(&p)
            .with_context(|| format!("cannot read the library file {}", p.display()))?;
        files.push((name.to_owned(), text));
    }
    Library::from_files(&files).with_context(|| format!("the library {}", dir.display()))
}

/// Warns when the library was built with other parameters than the ones given.
fn check_library(library: &Library, params: &DipParams, quiet: bool) {
    let s = library.summary();
    let mut diffs = Vec::new();
    if s.score_scale != params.score_scale {
        diffs.push(format!(
            "score_scale {} (parameters {})",
            s.score_scale, params.score_scale
        ));
    }
    if s.core_min_cases != params.core_min_cases {
        diffs.push(format!(
            "core_min_cases {} (parameters {})",
            s.core_min_cases, params.core_min_cases
        ));
    }
    if s.trim != params.trim {
        diffs.push(format!(
            "trim {} (parameters {})",
            s.trim.as_str(),
            params.trim.as_str()
        ));
    }
    if !diffs.is_empty() && !quiet {
        eprintln!(
            "drgdip: warning: the library was built with {}",
            diffs.join(", ")
        );
    }
}

fn pct(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        100.0 * part as f64 / whole as f64
    }
}

// ---------------------------------------------------------------------------------------------
// dip build

fn run_build(shared: &SharedOpts, a: BuildArgs) -> Result<()> {
    let start = Instant::now();
    let setup = setup(shared, &a.common, false)?;
    let scheme = setup.scheme();
    let catalog = setup.schemes.catalog();
    let input = open_input(&a.history)?;
    let mut errors = open_errors(a.errors.as_deref())?;
    let history: Mutex<Vec<(u64, DipCase)>> = Mutex::new(Vec::new());
    let progress = Progress::new(a.common.quiet);
    let row_fn = |cols: &Columns, row: &RowIn, _: &mut Vec<u8>, probs: &mut Vec<Problem>| {
        let r = match row.read(cols, catalog) {
            RowOutcome::Valid(r) => r,
            RowOutcome::Invalid { problems, .. } => {
                probs.extend(problems);
                return 1;
            }
        };
        // the reader reports an empty total_cost (Purpose::DipLibrary)
        let Some(total_cost) = r.total_cost else {
            let kind = ProblemKind::CostMissing {
                purpose: Purpose::DipLibrary,
            };
            probs.push(problem(&r, "total_cost", "", kind));
            return 1;
        };
        // fund_paid and the hospital level take no part in the library.
        let (case, _) = dip_case(
            scheme,
            &r,
            total_cost,
            r.fund_paid.unwrap_or(Decimal::ZERO),
            r.hospital_level.unwrap_or(0),
        );
        history
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((r.line, case));
        0
    };
    let options = a.common.batch(Purpose::DipLibrary)?;
    let stats = run_batch_with(
        input,
        &options,
        b"",
        &mut std::io::sink(),
        errors.as_mut().map(|w| w.as_mut() as &mut dyn Write),
        row_fn,
        |n| progress.set(n),
    )
    .with_context(|| format!("the history {}", a.history.display()))?;
    progress.finish();
    let mut history = history.into_inner().unwrap_or_else(|e| e.into_inner());
    // Input order (the build does not depend on it, but a stable order costs little).
    history.sort_unstable_by_key(|(line, _)| *line);
    let history: Vec<DipCase> = history.into_iter().map(|(_, c)| c).collect();
    let read_secs = start.elapsed().as_secs_f64();

    let library = build_library(&history, &setup.params, &setup.sets);
    drop(history);
    std::fs::create_dir_all(&a.output)
        .with_context(|| format!("cannot create the library directory {}", a.output.display()))?;
    for (name, contents) in library.to_files() {
        let p = a.output.join(&name);
        std::fs::write(&p, contents)
            .with_context(|| format!("cannot write the library file {}", p.display()))?;
    }
    if a.common.quiet {
        return Ok(());
    }
    let s = library.summary();
    let n = s.history_cases;
    let kind = |k: GroupKind| (library.count(k), library.cases(k));
    let (core, core_cases) = kind(GroupKind::Core);
    let (comp, comp_cases) = kind(GroupKind::Comprehensive);
    let (chap, chap_cases) = kind(GroupKind::Chapter);
    println!("library {}", a.output.display());
    println!(
        "history: {} rows, {} used, {} invalid ({} problem(s)), {} without a principal diagnosis",
        stats.rows, n, stats.by_status[1], stats.problems, s.skipped_cases
    );
    println!(
        "core groups (核心病种): {core}, covering {core_cases} cases = {:.2}% (core_share {})",
        pct(core_cases, n),
        fmt4(library.core_share())
    );
    println!(
        "comprehensive groups (综合病种): {comp} ({comp_cases} cases = {:.2}%)",
        pct(comp_cases, n)
    );
    println!(
        "chapter groups: {chap} ({chap_cases} cases = {:.2}%)",
        pct(chap_cases, n)
    );
    println!(
        "region class groups (fallback only): {}",
        library.count(GroupKind::Region)
    );
    println!(
        "mean_all {}; score_scale {}, core_min_cases {}, trim {}; scheme {}",
        fmt_money(s.mean_all),
        s.score_scale,
        s.core_min_cases,
        s.trim.as_str(),
        setup.scheme().label()
    );
    println!(
        "{:.2} s ({:.2} s reading and grouping, {:.0} rows/s)",
        start.elapsed().as_secs_f64(),
        read_secs,
        stats.rows as f64 / read_secs.max(1e-9)
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Scoring, shared by `score` and `point-value`

/// The engine's scorer over what the run loaded: the scheme, the parameters (their province
/// prefix tells cross-province cases), the catalogue, the library and the hospitals.
fn scorer<'a>(
    setup: &'a Setup,
    library: &'a Library,
    hospitals: &'a Hospitals,
    basis: Option<Decimal>,
) -> DipScorer<'a> {
    DipScorer {
        scheme: setup.scheme(),
        dip: &setup.params,
        sets: &setup.sets,
        catalogue: setup.catalogue.as_ref(),
        library,
        hospitals,
        basis,
        insured: InsuredRule::Province(&setup.params),
    }
}

/// 跨省异地: outside the point value, paid per item.
fn cross_province(s: &DipScored) -> bool {
    !s.in_pool()
}

/// Counts and sums of a run.
#[derive(Default)]
struct Totals {
    scored: u64,
    invalid: u64,
    /// Core, comprehensive, chapter, region, no group (average).
    kind: [u64; 5],
    /// As [`FALLBACKS`].
    fallback: [u64; 5],
    /// Normal, high, low.
    deviation: [u64; 3],
    /// Σ case scores and Σ own of the cases in the point value (local and in-province).
    score: Decimal,
    own: Decimal,
    /// Σ payment and Σ fund_due as written, of the cases in the point value.
    payment: Decimal,
    fund_due: Decimal,
    /// (case score, own) of every case in the point value.
    cases: Vec<(Decimal, Decimal)>,
    /// Cross-province cases (outside the point value, per item): count, Σ payment, Σ fund_due
    /// as written.
    cross_province: u64,
    cross_payment: Decimal,
    cross_fund_due: Decimal,
    /// Cases with an applicable exclusion item; of those, scored above their ordinary score.
    excluded: u64,
    excluded_larger: u64,
    /// Σ (case score − ordinary score) of the excluded cases.
    extra_points: Decimal,
    /// Per discharge month (`YYYY-MM`, empty when the row has no date): (case score, own) of
    /// the month's cases in the point value.
    months: BTreeMap<String, Vec<(Decimal, Decimal)>>,
}

const FALLBACKS: [Fallback; 5] = [
    Fallback::None,
    Fallback::Comprehensive,
    Fallback::Chapter,
    Fallback::RegionClass,
    Fallback::Average,
];
const KINDS: [&str; 5] = [
    "core",
    "comprehensive",
    "chapter",
    "region",
    "none (average)",
];
const DEVIATIONS: [&str; 3] = ["normal", "high", "low"];

impl Totals {
    fn add(&mut self, s: &DipScored, months: bool) {
        let sc = &s.score;
        self.scored += 1;
        let k = sc
            .kind
            .and_then(|k| GroupKind::ALL.iter().position(|&x| x == k))
            .unwrap_or(4);
        self.kind[k] += 1;
        let f = FALLBACKS
            .iter()
            .position(|&x| x == sc.fallback)
            .unwrap_or(4);
        self.fallback[f] += 1;
        self.deviation[match sc.deviation {
            Deviation::Normal => 0,
            Deviation::High => 1,
            Deviation::Low => 2,
        }] += 1;
        if let Some(e) = &sc.exclusion {
            self.excluded += 1;
            self.excluded_larger += u64::from(e.exclusion_larger());
            self.extra_points += sc.case_score - e.ordinary_score;
        }
        if cross_province(s) {
            self.cross_province += 1;
            return;
        }
        let own = s.own();
        self.score += sc.case_score;
        self.own += own;
        self.cases.push((sc.case_score, own));
        if months {
            let month = s.month.map(|m| m.to_string()).unwrap_or_default();
            self.months
                .entry(month)
                .or_default()
                .push((sc.case_score, own));
        }
    }
}

fn lock(t: &Mutex<Totals>) -> std::sync::MutexGuard<'_, Totals> {
    t.lock().unwrap_or_else(|e| e.into_inner())
}

/// Payment, own and fund_due as written: payment and own half-up to the fen, then
/// `fund_due = max(0, payment − own)` of the written amounts (so that the row adds up).
fn pay(case_score: Decimal, point_value: Decimal, own: Decimal) -> (Decimal, Decimal, Decimal) {
    let (payment, _) = dip_payment(case_score, point_value, own);
    let payment = round_fen(payment);
    let own = round_fen(own);
    (payment, own, (payment - own).max(Decimal::ZERO))
}

fn fmt_point_value(pv: Decimal) -> String {
    format!("{pv:.6}")
}

fn reasons_text(s: &DipScored) -> String {
    let mut parts: Vec<String> = Vec::with_capacity(s.score.reasons.len() + 4);
    let mut aux_done = false;
    for r in &s.score.reasons {
        parts.push(r.to_string());
        // The auxiliary levels right after the group was found.
        if !aux_done && !s.score.aux_reasons.is_empty() {
            if let drgdip_dip::ScoreReason::CoreGroup { .. } = r {
                parts.extend(s.score.aux_reasons.iter().map(|a| format!("aux {a}")));
                aux_done = true;
            }
        }
    }
    if s.level_from_row {
        parts.push("hospital not in the hospitals file: level from the row".to_owned());
    }
    parts.join(" | ")
}

const SCORE_HEADER: &str = "case_id,status,group_id,kind,fallback,base_score,aux_coefficient,deviation,case_score,point_value,payment,own,fund_due";

/// The status of a scored case: `scored`, or `cross_province` (outside the point value).
const CROSS_PROVINCE: &str = "cross_province";

/// The first nine columns of a score row (through `case_score`), without a line end; `status`
/// is `scored` or [`CROSS_PROVINCE`].
fn write_head(out: &mut Vec<u8>, case_id: &str, s: Option<(&DipScore, &str)>) {
    out.extend_from_slice(csv_field(case_id).as_bytes());
    match s {
        None => out.extend_from_slice(b",invalid,,,,,,,"),
        Some((s, status)) => {
            let _ = write!(
                out,
                ",{status},{},{},{},{},{},{},{}",
                csv_field(s.group_id.as_deref().unwrap_or("")),
                s.kind.map_or("", GroupKind::as_str),
                s.fallback.as_str(),
                fmt4(s.base_score),
                fmt4(s.aux_coefficient),
                s.deviation.as_str(),
                fmt4(s.case_score),
            );
        }
    }
}

/// The payment columns (`,point_value,payment,own,fund_due`) of a scored row; sums them.
fn write_payment(
    out: &mut Vec<u8>,
    case_score: Decimal,
    own: Decimal,
    pv: Decimal,
) -> (Decimal, Decimal) {
    let (payment, own, fund_due) = pay(case_score, pv, own);
    let _ = write!(
        out,
        ",{},{},{},{}",
        fmt_point_value(pv),
        fmt_money(payment),
        fmt_money(own),
        fmt_money(fund_due)
    );
    (payment, fund_due)
}

/// The payment columns of a cross-province case, paid per item: no point value, payment =
/// total_cost, fund_due = max(0, payment − own) of the written amounts. Returns (payment,
/// fund_due).
fn write_per_item(out: &mut Vec<u8>, total_cost: Decimal, own: Decimal) -> (Decimal, Decimal) {
    let (payment, own) = (round_fen(total_cost), round_fen(own));
    let fund_due = (payment - own).max(Decimal::ZERO);
    let _ = write!(
        out,
        ",,{},{},{}",
        fmt_money(payment),
        fmt_money(own),
        fmt_money(fund_due)
    );
    (payment, fund_due)
}

/// The line of a run's summary on the cross-province cases.
fn cross_province_line(t: &Totals) -> String {
    format!(
        "cross-province (跨省异地, outside the point value, paid per item): {} case(s), Σ payment {}, Σ fund_due {}",
        t.cross_province,
        fmt_money(t.cross_payment),
        fmt_money(t.cross_fund_due)
    )
}

// ---------------------------------------------------------------------------------------------
// dip score

/// A temporary file removed when dropped.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn temp_path(output: &Path) -> PathBuf {
    let pid = std::process::id();
    if output == Path::new("-") {
        std::env::temp_dir().join(format!("drgdip-dip-score-{pid}.tmp"))
    } else {
        let name = output
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "scores".to_owned());
        output.with_file_name(format!(".{name}.{pid}.tmp"))
    }
}

fn run_score(shared: &SharedOpts, a: ScoreArgs) -> Result<()> {
    let start = Instant::now();
    let setup = setup(shared, &a.common, true)?;
    let library = read_library(&a.library)?;
    check_library(&library, &setup.params, a.common.quiet);
    let hospitals = read_hospitals(&a.hospitals)?;
    if let Some(pv) = a.point_value {
        if pv <= Decimal::ZERO {
            bail!("--point-value {pv}: expected a point value > 0");
        }
    }
    // The point value if it is known before the cases are scored.
    let known: Option<Decimal> = match (a.point_value, setup.params.point_value) {
        (Some(v), _) | (None, PointValueSource::Fixed(v)) => Some(v),
        (None, PointValueSource::Budget) => None,
    };
    // A point value known before scoring turns item money into points exactly.
    let basis = a
        .point_value
        .or_else(|| point_basis(&library, &setup.params));
    let ctx = scorer(&setup, &library, &hospitals, basis);
    let input = open_input(&a.input)?;
    let mut errors = open_errors(a.errors.as_deref())?;
    let totals = Mutex::new(Totals::default());
    let trace = a.trace;
    let pv_known = known;
    let options = a.common.batch(Purpose::DipScore)?.with_source(&a.input);
    let in_file = || format!("the case file {}", a.input.display());

    // Pass 1: score every row. With a known point value the rows are final; else the row ends
    // after `case_score` with the exact own share, for pass 2 to fill in the payment.
    let row_fn = |cols: &Columns, row: &RowIn, out: &mut Vec<u8>, probs: &mut Vec<Problem>| {
        let status = match score_row(&ctx, cols, row) {
            DipRow::Invalid { case_id, problems } => {
                write_head(out, &case_id, None);
                if pv_known.is_some() {
                    out.extend_from_slice(b",,,,");
                } else {
                    out.push(b',');
                }
                if trace {
                    let _ = write!(
                        out,
                        ",{}",
                        csv_field(&problems_text(&problems, options.lang))
                    );
                }
                probs.extend(problems);
                lock(&totals).invalid += 1;
                1
            }
            DipRow::Scored(s) if cross_province(&s) => {
                write_head(out, &s.case_id, Some((&s.score, CROSS_PROVINCE)));
                let (payment, fund_due) = write_per_item(out, s.total_cost, s.own());
                if trace {
                    let _ = write!(out, ",{}", csv_field(&reasons_text(&s)));
                }
                let mut t = lock(&totals);
                t.add(&s, false);
                t.cross_payment += payment;
                t.cross_fund_due += fund_due;
                0
            }
            DipRow::Scored(s) => {
                write_head(out, &s.case_id, Some((&s.score, "scored")));
                let paid = match pv_known {
                    Some(pv) => Some(write_payment(out, s.score.case_score, s.own(), pv)),
                    None => {
                        let _ = write!(out, ",{}", s.own());
                        None
                    }
                };
                if trace {
                    let _ = write!(out, ",{}", csv_field(&reasons_text(&s)));
                }
                let mut t = lock(&totals);
                t.add(&s, false);
                if let Some((payment, fund_due)) = paid {
                    t.payment += payment;
                    t.fund_due += fund_due;
                }
                0
            }
        };
        out.push(b'\n');
        status
    };
    let header = format!("{SCORE_HEADER}{}\n", if trace { ",reasons" } else { "" });
    let progress = Progress::new(a.common.quiet);
    let mut temp: Option<TempFile> = None;
    let stats = match pv_known {
        Some(_) => {
            let mut out = create_output(&a.output)?;
            run_batch_with(
                input,
                &options,
                header.as_bytes(),
                &mut out,
                errors.as_mut().map(|w| w.as_mut() as &mut dyn Write),
                row_fn,
                |n| progress.set(n),
            )
            .with_context(in_file)?
        }
        None => {
            let path = temp_path(&a.output);
            let mut out = create_output(&path)?;
            temp = Some(TempFile(path));
            let stats = run_batch_with(
                input,
                &options,
                b"",
                &mut out,
                errors.as_mut().map(|w| w.as_mut() as &mut dyn Write),
                row_fn,
                |n| progress.set(n),
            )
            .with_context(in_file)?;
            out.flush()?;
            stats
        }
    };
    let mut totals = totals.into_inner().unwrap_or_else(|e| e.into_inner());

    // The point value, then pass 2 when it was not known.
    let computation = match known {
        Some(v) => fixed_point_value(v, &totals.cases).map_err(anyhow::Error::from)?,
        None => {
            let c = year_point_value(&setup.params, &totals.cases)
                .map_err(anyhow::Error::from)
                .with_context(|| {
                    format!(
                        "the budget point value over {} scored case(s)",
                        totals.scored
                    )
                })?;
            let path = &temp.as_ref().expect("pass 1 wrote a temporary file").0;
            let mut out = create_output(&a.output)?;
            out.write_all(header.as_bytes())?;
            let (payment, fund_due) = fill_payments(path, &mut *out, c.point_value, trace)?;
            out.flush()?;
            totals.payment = payment;
            totals.fund_due = fund_due;
            c
        }
    };
    drop(temp);
    progress.finish();
    if a.common.quiet {
        return Ok(());
    }
    let how = match a.point_value {
        Some(v) => format!(
            "point value {} (given by --point-value); Σ fund_due {} over {} case(s), {} clamped (s × pv < own)",
            fmt_point_value(v),
            fmt_money(computation.fund_due_total),
            computation.cases,
            computation.clamped
        ),
        None => computation.to_string(),
    };
    eprintln!(
        "{} rows: {} scored, {} invalid; {} problem(s); scheme {}",
        stats.rows,
        totals.scored,
        totals.invalid,
        stats.problems,
        setup.scheme().label()
    );
    eprintln!("kind: {}", counts(&KINDS, &totals.kind));
    let fallback_names: Vec<&str> = FALLBACKS.iter().map(|f| f.as_str()).collect();
    eprintln!("fallback: {}", counts(&fallback_names, &totals.fallback));
    eprintln!("deviation: {}", counts(&DEVIATIONS, &totals.deviation));
    eprintln!(
        "Σ case scores {} over {} case(s) in the point value (local and in-province)",
        totals.score,
        totals.cases.len()
    );
    eprintln!("{}", exclusion_line(&setup, &totals, ctx.basis));
    eprintln!("{how}");
    let against = match computation.basis {
        PointValueBasis::Fixed => String::new(),
        _ => format!(
            " against the budget {} (difference {}: the rounding of pv and of each case to the fen)",
            fmt_money(computation.period_budget),
            fmt_money(totals.fund_due - computation.period_budget)
        ),
    };
    eprintln!(
        "as written: Σ payment {}, Σ own {}, Σ fund_due {}{against}",
        fmt_money(totals.payment),
        fmt_money(totals.own),
        fmt_money(totals.fund_due),
    );
    eprintln!("{}", cross_province_line(&totals));
    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "{:.2} s, {:.0} rows/s",
        secs,
        stats.rows as f64 / secs.max(1e-9)
    );
    Ok(())
}

/// What the exclusion catalogue did in a run.
fn exclusion_line(setup: &Setup, t: &Totals, basis: Option<Decimal>) -> String {
    match &setup.catalogue {
        None => setup.exclusion_desc.clone(),
        Some(_) => format!(
            "{}: {} case(s) with an applicable item, {} scored above their ordinary score; Σ extra points {} (point basis {} CNY per point)",
            setup.exclusion_desc,
            t.excluded,
            t.excluded_larger,
            t.extra_points,
            basis.map_or("none".to_owned(), fmt_point_value)
        ),
    }
}

fn counts(names: &[&str], n: &[u64]) -> String {
    names
        .iter()
        .zip(n)
        .map(|(name, n)| format!("{name} {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Pass 2: copies the rows of pass 1 to `out` with their payment columns. Returns Σ payment
/// and Σ fund_due.
fn fill_payments(
    temp: &Path,
    out: &mut dyn Write,
    pv: Decimal,
    trace: bool,
) -> Result<(Decimal, Decimal)> {
    let f = std::fs::File::open(temp)
        .with_context(|| format!("cannot reopen the temporary file {}", temp.display()))?;
    // Rows of pass 1: invalid and scored rows end after `own` (10 fields), cross-province rows
    // are final (13 fields); then the reasons with --trace.
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(std::io::BufReader::with_capacity(1 << 20, f));
    let (mut payments, mut fund_dues) = (Decimal::ZERO, Decimal::ZERO);
    let mut rec = csv::StringRecord::new();
    let mut line = Vec::with_capacity(256);
    let bad = || anyhow::anyhow!("the temporary file {} is damaged", temp.display());
    while rdr.read_record(&mut rec)? {
        line.clear();
        for (i, field) in rec.iter().take(9).enumerate() {
            if i > 0 {
                line.push(b',');
            }
            line.extend_from_slice(csv_field(field).as_bytes());
        }
        let fields = match rec.get(1) {
            Some("scored") => {
                let score: Decimal = rec.get(8).and_then(|s| s.parse().ok()).ok_or_else(bad)?;
                let own: Decimal = rec.get(9).and_then(|s| s.parse().ok()).ok_or_else(bad)?;
                let (payment, fund_due) = write_payment(&mut line, score, own, pv);
                payments += payment;
                fund_dues += fund_due;
                10
            }
            Some(CROSS_PROVINCE) => {
                for i in 9..13 {
                    line.push(b',');
                    line.extend_from_slice(csv_field(rec.get(i).ok_or_else(bad)?).as_bytes());
                }
                13
            }
            _ => {
                line.extend_from_slice(b",,,,");
                10
            }
        };
        if rec.len() != fields + usize::from(trace) {
            return Err(bad());
        }
        if trace {
            line.push(b',');
            line.extend_from_slice(csv_field(rec.get(fields).ok_or_else(bad)?).as_bytes());
        }
        line.push(b'\n');
        out.write_all(&line)?;
    }
    Ok((payments, fund_dues))
}

// ---------------------------------------------------------------------------------------------
// dip point-value

fn run_point_value(shared: &SharedOpts, a: PointValueArgs) -> Result<()> {
    let setup = setup(shared, &a.common, true)?;
    let library = read_library(&a.library)?;
    check_library(&library, &setup.params, a.common.quiet);
    let hospitals = read_hospitals(&a.hospitals)?;
    let ctx = scorer(
        &setup,
        &library,
        &hospitals,
        point_basis(&library, &setup.params),
    );
    let input = open_input(&a.input)?;
    let mut errors = open_errors(a.errors.as_deref())?;
    let totals = Mutex::new(Totals::default());
    let monthly = a.monthly;
    let progress = Progress::new(a.common.quiet);
    let options = a.common.batch(Purpose::DipScore)?.with_source(&a.input);
    let stats = run_batch_with(
        input,
        &options,
        b"",
        &mut std::io::sink(),
        errors.as_mut().map(|w| w.as_mut() as &mut dyn Write),
        |cols, row, _, probs| match score_row(&ctx, cols, row) {
            DipRow::Invalid { problems: p, .. } => {
                probs.extend(p);
                lock(&totals).invalid += 1;
                1
            }
            DipRow::Scored(s) => {
                lock(&totals).add(&s, monthly);
                0
            }
        },
        |n| progress.set(n),
    )?;
    progress.finish();
    let totals = totals.into_inner().unwrap_or_else(|e| e.into_inner());
    let p = &setup.params;
    let mut stdout = std::io::stdout().lock();
    writeln!(
        stdout,
        "{} rows: {} scored, {} invalid (not counted); {} problem(s)",
        stats.rows, totals.scored, totals.invalid, stats.problems
    )?;
    writeln!(
        stdout,
        "cross-province (跨省异地): {} case(s), outside the point value (settled per item)",
        totals.cross_province
    )?;
    if !monthly {
        let c = year_point_value(p, &totals.cases)
            .map_err(anyhow::Error::from)
            .context("the year's point value")?;
        writeln!(stdout, "{c}")?;
        return Ok(());
    }
    if let PointValueSource::Fixed(_) = p.point_value {
        let c = year_point_value(p, &totals.cases).map_err(anyhow::Error::from)?;
        writeln!(
            stdout,
            "{c}: every month settles at it (dip.point_value is not \"budget\")"
        )?;
        return Ok(());
    }
    for (month, cases) in &totals.months {
        let label = if month.is_empty() {
            "(no discharge date)"
        } else {
            month.as_str()
        };
        let n = cases.len();
        match monthly_point_value(p.inpatient_fund_budget, cases) {
            Ok(c) => writeln!(stdout, "{label}: {n} cases: {c}")?,
            Err(e) => writeln!(stdout, "{label}: {n} cases: no point value: {e}")?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        s.parse().unwrap()
    }

    #[test]
    fn the_written_amounts_add_up() {
        let (score, pv) = (d("123.4567"), d("70.123456789"));
        let (payment, own, fund_due) = pay(score, pv, d("1000.10"));
        assert_eq!(payment, round_fen(score * pv));
        assert_eq!(own, d("1000.10"));
        assert_eq!(fund_due, payment - own);
        let (_, _, fund_due) = pay(d("1"), d("10"), d("50"));
        assert_eq!(fund_due, Decimal::ZERO);
    }

    #[test]
    fn the_temporary_file_becomes_the_output() {
        let t = std::env::temp_dir().join(format!("drgdip-dip-test-{}.csv", std::process::id()));
        std::fs::write(
            &t,
            "\"A,1\",scored,C:K80.1|51.23,core,none,140.0000,1.0000,normal,140.0000,100.5,\"r, 1\"\n\
             B,invalid,,,,,,,,,diagnoses: bad\n\
             X,cross_province,C:K80.1|51.23,core,none,140.0000,1.0000,normal,140.0000,,3000.00,100.50,2899.50,r\n",
        )
        .unwrap();
        let mut out = Vec::new();
        let sums = fill_payments(&t, &mut out, d("10"), true).unwrap();
        std::fs::remove_file(&t).unwrap();
        assert_eq!(sums, (d("1400.00"), d("1299.50")));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "\"A,1\",scored,C:K80.1|51.23,core,none,140.0000,1.0000,normal,140.0000,10.000000,1400.00,100.50,1299.50,\"r, 1\"\n\
             B,invalid,,,,,,,,,,,,diagnoses: bad\n\
             X,cross_province,C:K80.1|51.23,core,none,140.0000,1.0000,normal,140.0000,,3000.00,100.50,2899.50,r\n"
        );
        // a row cut short is refused
        std::fs::write(&t, "X,cross_province,C:K,core,none,1,1,normal,1,,3000.00\n").unwrap();
        let short = fill_payments(&t, &mut Vec::new(), d("10"), false);
        std::fs::remove_file(&t).unwrap();
        assert!(short.is_err());
    }
}
