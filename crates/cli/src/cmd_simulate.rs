//! `drgdip simulate`, `drgdip compare-schemes` and `drgdip weights-compare`: the figures of a
//! negotiation (谈判协商, `payment-model.md` §9–§10). The engine computes
//! ([`drgdip_engine::simulate`], [`drgdip_engine::compare`]); this module parses, calls, writes
//! the files and prints a summary. See `docs/simulation.md`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use anyhow::{bail, Context, Result};
use drgdip_drg::Lang;
use drgdip_engine::compare::{
    adrg_changes_csv, compare_schemes, compare_weights, crosswalk_csv, read_reference,
    weights_comparison_csv, SchemeComparison,
};
use drgdip_engine::pricing::SpecialCases;
use drgdip_engine::simulate::{
    groups_csv, hospitals_csv, simulate, Bounds, SimOptions, SimStep, Simulation, Sums,
};
use drgdip_engine::{Region, RegionFiles, WeightsFrom};
use drgdip_io::Purpose;
use drgdip_pay::money::{Fen, W4};
use drgdip_report::{
    scheme_change_page, simulation_page, ImpactRow, SchemeAdrgCase, SchemeChangeView,
    SchemeHospital, SchemePair, SimulationView,
};
use rust_decimal::Decimal;

use crate::progress::Progress;
use crate::shared::{open_errors, open_input, parse_lang, read_special, InputOpts, SharedOpts};

mod dip;

#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// The cases (a year of them, CSV with a header).
    #[arg(long)]
    pub cases: PathBuf,
    /// The parameters in force (TOML).
    #[arg(long)]
    pub baseline: PathBuf,
    /// The proposal: a complete parameter file (TOML).
    #[arg(long)]
    pub proposal: PathBuf,
    /// The hospitals (levels), for both sides.
    #[arg(long)]
    pub hospitals: PathBuf,
    /// The baseline's weights (`drg,weight`…); default `drg.weights` of the baseline, or the
    /// weights computed from `--history`.
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// The proposal's weights; default the same source as the baseline's.
    #[arg(long)]
    pub weights2: Option<PathBuf>,
    /// A history to compute the weights from (each side with its own scheme and parameters)
    /// where no weights file is given.
    #[arg(long)]
    pub history: Option<PathBuf>,
    /// Approved special cases (特例单议), `[hospital_id,]case_id,outcome,points`, for both sides.
    #[arg(long)]
    pub special: Option<PathBuf>,
    /// DIP (`region.method = "dip"`): the baseline's disease library (made by `drgdip dip build`).
    #[arg(long)]
    pub library: Option<PathBuf>,
    /// DIP: the proposal's disease library; default the baseline's.
    #[arg(long)]
    pub library2: Option<PathBuf>,
    /// Rescale the proposal's weights so that Σ payment equals the baseline's (within a yuan);
    /// DIP: solve the proposal's point value so that Σ fund due equals the baseline's.
    #[arg(long)]
    pub budget_neutral: bool,
    /// The lowest relative change of any hospital's payment (e.g. -0.05).
    #[arg(long, allow_hyphen_values = true)]
    pub floor: Option<String>,
    /// The highest relative change of any hospital's payment (e.g. 0.05).
    #[arg(long, allow_hyphen_values = true)]
    pub ceiling: Option<String>,
    /// The directory for hospitals.csv, groups.csv and simulation.html (created).
    #[arg(long, short)]
    pub output: PathBuf,
    /// The errors file: one line per problem of the case file.
    #[arg(long, short)]
    pub errors: Option<PathBuf>,
    /// No progress bar and no summary.
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub input_opts: InputOpts,
    #[command(flatten)]
    pub shared: SharedOpts,
}

fn parse_rate(flag: &str, text: Option<&str>) -> Result<Option<Decimal>> {
    text.map(|t| {
        Decimal::from_str(t.trim())
            .map_err(|_| anyhow::anyhow!("{flag} {t:?}: expected a relative change such as -0.05"))
    })
    .transpose()
}

/// The shared directory as `SharedOpts::resolve` finds it (flag, configuration, `../shared`).
fn shared_dir(opts: &SharedOpts, env: &crate::shared::Env) -> PathBuf {
    opts.shared
        .clone()
        .or_else(|| env.config.shared.clone())
        .unwrap_or_else(|| PathBuf::from("../shared"))
}

fn weights_of(file: Option<&Path>, history: Option<&Path>) -> WeightsFrom {
    crate::shared::weights_from(file, history)
}

fn write_file(dir: &Path, name: &str, text: &str) -> Result<()> {
    let p = dir.join(name);
    std::fs::write(&p, text).with_context(|| format!("cannot write {}", p.display()))
}

fn row(label: String, b: &Sums, p: &Sums, payment_p: Decimal, fund_p: Decimal) -> ImpactRow {
    ImpactRow {
        label,
        cases: b.cases,
        payment_baseline: b.payment,
        payment_proposal: payment_p,
        fund_due_baseline: b.fund_due,
        fund_due_proposal: fund_p,
        cmi_baseline: b.cmi(),
        cmi_proposal: p.cmi(),
        note: String::new(),
    }
}

/// The hospitals of a simulation as page rows.
fn hospital_rows(sim: &Simulation) -> Vec<ImpactRow> {
    sim.hospitals
        .iter()
        .map(|h| {
            let mut r = row(
                h.hospital_id.clone(),
                &h.baseline,
                &h.proposal,
                h.payment_proposal(),
                h.fund_due_proposal(),
            );
            if let Some(b) = h.bound {
                r.note = format!("{} (adjustment {})", b.as_str(), Fen(h.adjustment));
            }
            r
        })
        .collect()
}

fn total_row(sim: &Simulation) -> ImpactRow {
    row(
        "合计 total".to_string(),
        &sim.total_baseline,
        &sim.total_proposal,
        sim.total_proposal.payment,
        sim.total_proposal.fund_due,
    )
}

/// The lines that say what the options did.
pub fn option_lines(sim: &Simulation) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(n) = &sim.neutral {
        lines.push(format!(
            "budget-neutral (预算中性): the proposal's weights × {} ({} re-pricings), Σ payment {} vs the baseline's {}: {} {}",
            n.factor,
            n.iterations(),
            Fen(n.target + n.residual),
            Fen(n.target),
            Fen(n.residual),
            if n.reached { "(within a yuan)" } else { "(NOT within a yuan: the target lies in a jump of the total — cases crossing the low-cost threshold or a DRG crossing a weight band of the high multiple — the nearest factor is kept)" }
        ));
        for (i, s) in n.steps.iter().enumerate() {
            lines.push(format!(
                "  step {}: factor {} → Σ payment {}",
                i + 1,
                s.factor,
                Fen(s.total)
            ));
        }
    }
    if let Some(b) = &sim.bounds {
        let show = |d: Option<Decimal>| d.map(|d| d.to_string()).unwrap_or_else(|| "none".into());
        lines.push(format!(
            "bounds (保底/封顶): floor {}, ceiling {}: {} hospital(s) held at a bound ({}), Σ of their adjustments {}, redistributed over the others in proportion to their proposal payment; not redistributed {}",
            show(b.bounds.floor),
            show(b.bounds.ceiling),
            b.bound.len(),
            if b.bound.is_empty() { "none".to_string() } else { b.bound.join(" ") },
            Fen(b.held),
            Fen(b.not_redistributed)
        ));
    }
    lines
}

/// Runs `drgdip simulate`.
pub fn run_simulate(a: SimulateArgs) -> Result<()> {
    if dip::is_dip(&a)? {
        return dip::run_simulate_dip(a);
    }
    let env = a.shared.resolve()?;
    let bounds = Bounds {
        floor: parse_rate("--floor", a.floor.as_deref())?,
        ceiling: parse_rate("--ceiling", a.ceiling.as_deref())?,
    };
    bounds.check()?;
    let hospitals = a.hospitals.clone();
    let mut registry = env.registry()?;
    let history_opts = a.input_opts.batch(Purpose::Weights, Lang::En);
    let load = |registry: &mut drgdip_scheme::Registry<'_>, params: &Path, w: WeightsFrom| {
        Region::load(
            registry,
            &RegionFiles {
                params: params.to_path_buf(),
                hospitals: hospitals.clone(),
                weights: w,
                point_value: None,
            },
            history_opts.clone(),
        )
        .with_context(|| format!("the parameter file {}", params.display()))
    };
    let baseline = load(
        &mut registry,
        &a.baseline,
        weights_of(a.weights.as_deref(), a.history.as_deref()),
    )?;
    let proposal = load(
        &mut registry,
        &a.proposal,
        weights_of(
            a.weights2
                .as_deref()
                .or(a.weights.as_deref().filter(|_| a.history.is_none())),
            a.history.as_deref(),
        ),
    )?;
    for r in [&baseline, &proposal] {
        for w in &r.warnings {
            eprintln!("drgdip: warning: {w}");
        }
    }
    let special = match &a.special {
        Some(p) => read_special(p)?,
        None => SpecialCases::default(),
    };
    let mut errors = open_errors(a.errors.as_deref())?;
    let progress = Progress::new(a.quiet);
    let batch =
        a.input_opts
            .batch_limited(Purpose::Pay, Lang::En, baseline.params.limits.max_case_cost);
    let sim = simulate(
        &baseline,
        &proposal,
        &special,
        open_input(&a.cases)?,
        batch,
        errors.as_mut().map(|w| w.as_mut() as &mut dyn Write),
        SimOptions {
            budget_neutral: a.budget_neutral,
            bounds,
        },
        &|s| {
            if let SimStep::Read(n) = s {
                progress.set(n)
            }
        },
    )
    .with_context(|| format!("the case file {}", a.cases.display()))?;
    progress.finish();
    if let Some(mut e) = errors {
        e.flush()?;
    }
    std::fs::create_dir_all(&a.output)
        .with_context(|| format!("cannot create {}", a.output.display()))?;
    write_file(&a.output, "hospitals.csv", &hospitals_csv(&sim))?;
    write_file(&a.output, "groups.csv", &groups_csv(&sim))?;
    let notes = option_lines(&sim);
    let meta = format!(
        "{} cases of {} · baseline {} ({}, weights {}) · proposal {} ({}, weights {})",
        sim.total_baseline.cases,
        a.cases.display(),
        a.baseline.display(),
        sim.scheme_baseline,
        baseline.weights.file.display(),
        a.proposal.display(),
        sim.scheme_proposal,
        proposal.weights.file.display()
    );
    let mut groups: Vec<ImpactRow> = sim
        .groups
        .iter()
        .map(|g| {
            let label = if g.drg_baseline == g.drg_proposal {
                g.drg_baseline.clone()
            } else {
                format!("{} → {}", g.drg_baseline, g.drg_proposal)
            };
            row(
                label,
                &g.baseline,
                &g.proposal,
                g.proposal.payment,
                g.proposal.fund_due,
            )
        })
        .collect();
    groups.sort_by(|x, y| x.label.cmp(&y.label));
    let view = SimulationView {
        baseline: a.baseline.display().to_string(),
        proposal: a.proposal.display().to_string(),
        meta,
        hospitals: hospital_rows(&sim),
        groups,
        total: total_row(&sim),
        budget_baseline: sim.budget_baseline,
        budget_proposal: sim.budget_proposal,
        notes: notes.clone(),
    };
    write_file(&a.output, "simulation.html", &simulation_page(&view))?;
    if !a.quiet {
        print_summary(&sim, &notes);
        eprintln!(
            "wrote {}/hospitals.csv, groups.csv, simulation.html",
            a.output.display()
        );
    }
    Ok(())
}

fn print_summary(sim: &Simulation, notes: &[String]) {
    let (b, p) = (&sim.total_baseline, &sim.total_proposal);
    eprintln!(
        "{} rows: {} cases priced on both sides, {} invalid (not priced); read and grouped in {:.2} s, priced in {:.2} s",
        sim.stats.rows,
        b.cases,
        sim.invalid,
        sim.read_time.as_secs_f64(),
        sim.price_time.as_secs_f64()
    );
    eprintln!(
        "baseline ({}): payment {}, fund due {} of the DRG budget {}",
        sim.scheme_baseline,
        Fen(b.payment),
        Fen(b.fund_due),
        Fen(sim.budget_baseline)
    );
    eprintln!(
        "proposal ({}): payment {}, fund due {} of the DRG budget {}",
        sim.scheme_proposal,
        Fen(p.payment),
        Fen(p.fund_due),
        Fen(sim.budget_proposal)
    );
    print_movers(sim, notes);
}

/// The summary's last lines, DRG or DIP: the difference, the hospitals that gain and lose
/// most, the notes.
fn print_movers(sim: &Simulation, notes: &[String]) {
    let (b, p) = (&sim.total_baseline, &sim.total_proposal);
    eprintln!(
        "difference: payment {}, fund due {}",
        Fen(p.payment - b.payment),
        Fen(p.fund_due - b.fund_due)
    );
    let mut hs: Vec<_> = sim.hospitals.iter().collect();
    hs.sort_by_key(|h| std::cmp::Reverse(h.difference()));
    let show = |h: &drgdip_engine::simulate::HospitalImpact| {
        format!(
            "{} {} ({})",
            h.hospital_id,
            Fen(h.difference()),
            h.relative().map(|r| W4(r).to_string()).unwrap_or_default()
        )
    };
    let top: Vec<String> = hs.iter().take(3).map(|h| show(h)).collect();
    let bottom: Vec<String> = hs.iter().rev().take(3).map(|h| show(h)).collect();
    eprintln!("gain most: {}", top.join(", "));
    eprintln!("lose most: {}", bottom.join(", "));
    for n in notes {
        eprintln!("{n}");
    }
}

// ---------------------------------------------------------------------------------------
// compare-schemes

#[derive(Debug, clap::Args)]
pub struct CompareSchemesArgs {
    /// The scheme in force (e.g. chs-drg-2.0).
    #[arg(long)]
    pub from: String,
    /// The scheme compared (e.g. fujian-2024).
    #[arg(long)]
    pub to: String,
    /// The cases (CSV with a header).
    #[arg(long, short)]
    pub input: PathBuf,
    /// The directory for crosswalk.csv, adrg_changes.csv, hospitals.csv and
    /// scheme-change.html (created).
    #[arg(long, short)]
    pub output: PathBuf,
    /// A parameter file: with weights, the CMI and the payment under both schemes (the same
    /// parameters, each scheme with its own weights). Without it only the grouping is compared.
    #[arg(long)]
    pub params: Option<PathBuf>,
    /// The weights under `--from` (`drg,weight`…).
    #[arg(long, conflicts_with = "history")]
    pub weights: Option<PathBuf>,
    /// The weights under `--to`.
    #[arg(long, conflicts_with = "history")]
    pub weights2: Option<PathBuf>,
    /// A history to compute both schemes' weights from (each grouped with its scheme).
    #[arg(long)]
    pub history: Option<PathBuf>,
    /// The hospitals (levels), needed with `--params`.
    #[arg(long)]
    pub hospitals: Option<PathBuf>,
    /// Language of the rule lines: en (default) or zh.
    #[arg(long)]
    pub lang: Option<String>,
    /// The errors file.
    #[arg(long, short)]
    pub errors: Option<PathBuf>,
    /// No progress bar and no summary.
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub input_opts: InputOpts,
    #[command(flatten)]
    pub shared: SharedOpts,
}

/// Runs `drgdip compare-schemes`.
pub fn run_compare_schemes(a: CompareSchemesArgs) -> Result<()> {
    let env = a.shared.resolve()?;
    let lang = parse_lang(a.lang.as_deref(), Lang::En)?;
    let mut registry = env.registry()?;
    let from = registry
        .get(&a.from)
        .with_context(|| format!("--from {}", a.from))?;
    let to = registry
        .get(&a.to)
        .with_context(|| format!("--to {}", a.to))?;
    let mut errors = open_errors(a.errors.as_deref())?;
    let progress = Progress::new(a.quiet);
    let cmp = compare_schemes(
        &from,
        &to,
        open_input(&a.input)?,
        a.input_opts
            .batch(Purpose::Group, Lang::En)
            .with_source(&a.input),
        errors.as_mut().map(|w| w.as_mut() as &mut dyn Write),
        lang,
        &|n| progress.set(n),
    )
    .with_context(|| format!("the case file {}", a.input.display()))?;
    progress.finish();
    if let Some(mut e) = errors {
        e.flush()?;
    }
    let weights_given = a.history.is_some() || (a.weights.is_some() && a.weights2.is_some());
    let sim = match (&a.params, weights_given) {
        (Some(params), true) => {
            let Some(hospitals) = a.hospitals.clone() else {
                bail!("--params needs --hospitals (the hospitals' levels)");
            };
            let history_opts = a.input_opts.batch(Purpose::Weights, Lang::En);
            let mut load = |scheme: &str, w: WeightsFrom| {
                Region::load_with_scheme(
                    &mut registry,
                    &RegionFiles {
                        params: params.clone(),
                        hospitals: hospitals.clone(),
                        weights: w,
                        point_value: None,
                    },
                    Some(scheme),
                    history_opts.clone(),
                )
                .with_context(|| format!("the parameters {} under {scheme}", params.display()))
            };
            let ra = load(&a.from, weights_of(a.weights.as_deref(), a.history.as_deref()))?;
            let rb = load(&a.to, weights_of(a.weights2.as_deref(), a.history.as_deref()))?;
            let batch = a
                .input_opts
                .batch_limited(Purpose::Pay, Lang::En, ra.params.limits.max_case_cost);
            Some(
                simulate(
                    &ra,
                    &rb,
                    &SpecialCases::default(),
                    open_input(&a.input)?,
                    batch,
                    None,
                    SimOptions::default(),
                    &|_| {},
                )
                .with_context(|| format!("the case file {}", a.input.display()))?,
            )
        }
        (Some(_), false) => bail!(
            "--params needs the weights of both schemes: --history H (both computed from it) or --weights W1 --weights2 W2"
        ),
        (None, true) => bail!("--history/--weights need --params (the rates and coefficients)"),
        (None, false) => None,
    };
    std::fs::create_dir_all(&a.output)
        .with_context(|| format!("cannot create {}", a.output.display()))?;
    write_file(&a.output, "crosswalk.csv", &crosswalk_csv(&cmp))?;
    write_file(&a.output, "adrg_changes.csv", &adrg_changes_csv(&cmp))?;
    write_file(
        &a.output,
        "hospitals.csv",
        &scheme_hospitals_csv(&cmp, sim.as_ref()),
    )?;
    if let Some(s) = &sim {
        write_file(&a.output, "groups.csv", &groups_csv(s))?;
    }
    let view = scheme_view(&cmp, sim.as_ref(), &a);
    write_file(&a.output, "scheme-change.html", &scheme_change_page(&view))?;
    if !a.quiet {
        eprintln!(
            "{} → {}: {} rows, {} valid cases ({} invalid); {} pairs of groups; {} cases change DRG, {} change ADRG",
            cmp.from,
            cmp.to,
            cmp.stats.rows,
            cmp.cases(),
            cmp.invalid,
            cmp.pairs.len(),
            cmp.drg_changed(),
            cmp.adrg_changes.len()
        );
        match &sim {
            Some(s) => eprintln!(
                "CMI {} → {}; payment {} → {} (difference {}); fund due {} → {}",
                s.total_baseline.cmi().map(|c| W4(c).to_string()).unwrap_or_default(),
                s.total_proposal.cmi().map(|c| W4(c).to_string()).unwrap_or_default(),
                Fen(s.total_baseline.payment),
                Fen(s.total_proposal.payment),
                Fen(s.total_proposal.payment - s.total_baseline.payment),
                Fen(s.total_baseline.fund_due),
                Fen(s.total_proposal.fund_due)
            ),
            None => eprintln!(
                "grouping only: give --params with --history (or --weights and --weights2) for the CMI and the payment under both"
            ),
        }
        eprintln!(
            "wrote {}/crosswalk.csv, adrg_changes.csv, hospitals.csv{}, scheme-change.html",
            a.output.display(),
            if sim.is_some() { ", groups.csv" } else { "" }
        );
    }
    Ok(())
}

fn scheme_hospitals_csv(cmp: &SchemeComparison, sim: Option<&Simulation>) -> String {
    use std::fmt::Write as _;
    let mut out = String::from("hospital_id,cases,drg_changed,adrg_changed,cmi_from,cmi_to,payment_from,payment_to,fund_due_from,fund_due_to,difference\n");
    let opt = |d: Option<Decimal>| d.map(|d| W4(d).to_string()).unwrap_or_default();
    for (id, h) in &cmp.hospitals {
        let s = sim.and_then(|s| s.hospitals.iter().find(|x| &x.hospital_id == id));
        let money = |f: &dyn Fn(&drgdip_engine::simulate::HospitalImpact) -> Decimal| {
            s.map(|x| Fen(f(x)).to_string()).unwrap_or_default()
        };
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{}",
            drgdip_io::csv_field(id),
            h.cases,
            h.drg_changed,
            h.adrg_changed,
            opt(s.and_then(|x| x.baseline.cmi())),
            opt(s.and_then(|x| x.proposal.cmi())),
            money(&|x| x.baseline.payment),
            money(&|x| x.payment_proposal()),
            money(&|x| x.baseline.fund_due),
            money(&|x| x.fund_due_proposal()),
            money(&|x| x.difference()),
        );
    }
    out
}

fn scheme_view(
    cmp: &SchemeComparison,
    sim: Option<&Simulation>,
    a: &CompareSchemesArgs,
) -> SchemeChangeView {
    let mut changed: Vec<SchemePair> = cmp
        .pairs
        .iter()
        .filter(|p| p.from_drg != p.to_drg)
        .map(|p| SchemePair {
            from: p.from_drg.clone(),
            to: p.to_drg.clone(),
            cases: p.cases,
            rule: p
                .rules
                .first()
                .map(|(r, n)| {
                    if *n == p.cases {
                        r.clone()
                    } else {
                        format!("{r} ({n} of {} cases)", p.cases)
                    }
                })
                .unwrap_or_default(),
            example: p.example.clone(),
        })
        .collect();
    changed.sort_by(|x, y| y.cases.cmp(&x.cases).then(x.from.cmp(&y.from)));
    let hospitals = cmp
        .hospitals
        .iter()
        .map(|(id, h)| SchemeHospital {
            hospital_id: id.clone(),
            cases: h.cases,
            drg_changed: h.drg_changed,
            adrg_changed: h.adrg_changed,
            money: sim.and_then(|s| {
                s.hospitals.iter().find(|x| &x.hospital_id == id).map(|x| {
                    row(
                        id.clone(),
                        &x.baseline,
                        &x.proposal,
                        x.payment_proposal(),
                        x.fund_due_proposal(),
                    )
                })
            }),
        })
        .collect();
    let mut notes = vec![format!(
        "分组规则取自分组轨迹：ADRG 改变时为 ADRG 入组条件，否则为病组细分条件。 · The rule is the line of the grouping trace under {}: the ADRG decision when the ADRG changes, else the DRG split.",
        cmp.to
    )];
    notes.push(match sim {
        Some(_) => format!(
            "CMI 与支付：同一参数文件 {}，各方案用各自的权重。 · CMI and payment: the same parameters, each scheme with its own weights.",
            a.params.as_ref().map(|p| p.display().to_string()).unwrap_or_default()
        ),
        None => "未给参数与权重：只比较分组，不比较 CMI 与支付。 · No parameters and weights given: the grouping only, no CMI nor payment.".to_string(),
    });
    SchemeChangeView {
        from: cmp.from.clone(),
        to: cmp.to.clone(),
        meta: format!("{} · {} cases", a.input.display(), cmp.cases()),
        cases: cmp.cases(),
        drg_changed: cmp.drg_changed(),
        pairs: cmp.pairs.len() as u64,
        changed,
        adrg_cases: cmp
            .adrg_changes
            .iter()
            .map(|c| SchemeAdrgCase {
                case_id: c.case_id.clone(),
                from: format!("{} {}", c.from.0, c.from.1),
                to: format!("{} {}", c.to.0, c.to.1),
                rule_from: c.rule_from.clone(),
                rule_to: c.rule_to.clone(),
            })
            .collect(),
        hospitals,
        total: sim.map(total_row),
        notes,
    }
}

// ---------------------------------------------------------------------------------------
// weights-compare

#[derive(Debug, clap::Args)]
pub struct WeightsCompareArgs {
    /// The local weights (`drg,adrg,cases,…,weight,source`, made by `drgdip weights`).
    #[arg(long, conflicts_with = "history")]
    pub weights: Option<PathBuf>,
    /// Or a history to compute them from (with `--params`, grouped with `--scheme`).
    #[arg(long, requires = "params")]
    pub history: Option<PathBuf>,
    /// The parameters (trimming, min_cases_for_own_weight) for `--history`.
    #[arg(long)]
    pub params: Option<PathBuf>,
    /// The scheme to group the history with; default chs-drg-2.0, the reference's scheme.
    #[arg(long, default_value = "chs-drg-2.0")]
    pub scheme: String,
    /// The national reference weights (`drg,name,weight`); default
    /// `schemes/chs-drg-2.0-reference-weights.csv` of the shared directory.
    #[arg(long)]
    pub reference: Option<PathBuf>,
    /// Flag a DRG whose local weight rests on fewer history cases than this.
    #[arg(long, default_value_t = 30)]
    pub min_cases: u32,
    /// The comparison (CSV; `-` for standard output).
    #[arg(long, short)]
    pub output: PathBuf,
    /// No summary.
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub input_opts: InputOpts,
    #[command(flatten)]
    pub shared: SharedOpts,
}

/// Runs `drgdip weights-compare`.
pub fn run_weights_compare(a: WeightsCompareArgs) -> Result<()> {
    let env = a.shared.resolve()?;
    let (table, source) = match (&a.weights, &a.history, &a.params) {
        (Some(w), _, _) => {
            let text = crate::shared::read_text(w, "weights file")?;
            let t = drgdip_pay::WeightTable::from_csv_str(&text)
                .map_err(|e| anyhow::anyhow!("weights file {}: {e}", w.display()))?;
            (t, w.display().to_string())
        }
        (None, Some(h), Some(p)) => {
            let (params, scheme) = crate::shared::load_params(&env, p, Some(&a.scheme))?;
            let history = drgdip_engine::weights::weights_from_history(
                &scheme,
                &params,
                open_input(h)?,
                a.input_opts
                    .batch_limited(Purpose::Weights, Lang::En, params.limits.max_case_cost),
                None,
                &|_| {},
            )
            .with_context(|| format!("history {}", h.display()))?;
            (
                history.table,
                format!("computed from {} under {}", h.display(), a.scheme),
            )
        }
        _ => bail!("give --weights W.csv, or --history H.csv with --params P.toml"),
    };
    let reference_path = a.reference.clone().unwrap_or_else(|| {
        shared_dir(&a.shared, &env).join("schemes/chs-drg-2.0-reference-weights.csv")
    });
    let reference = read_reference(&reference_path)?;
    let c = compare_weights(&table, &reference, a.min_cases);
    let mut out = crate::shared::create_output(&a.output)?;
    out.write_all(weights_comparison_csv(&c).as_bytes())?;
    out.flush()?;
    if !a.quiet {
        let no_ref = c
            .rows
            .iter()
            .filter(|r| r.local.is_some() && r.reference.is_none())
            .count();
        let no_local = c.rows.iter().filter(|r| r.local.is_none()).count();
        eprintln!(
            "local weights {source} against {}: {} DRGs with both, {no_ref} local only (no reference), {no_local} reference only; {} flagged: fewer than {} history cases",
            reference_path.display(),
            c.both(),
            c.flagged(),
            c.min_cases
        );
        eprintln!(
            "level: Σ cases × local / Σ cases × reference = {} (1: the local case mix weighs as the national)",
            c.weighted_ratio.map(|r| W4(r).to_string()).unwrap_or_else(|| "—".into())
        );
    }
    Ok(())
}
