//! `drgdip simulate` for a DIP region (`region.method = "dip"` in both parameter files): the
//! same cases scored under the baseline's and the proposal's disease library and parameters,
//! each paid at its point value (`drgdip_engine::simulate_dip`); the same files as the DRG
//! simulation (`hospitals.csv`, `groups.csv` keyed by the DIP groups, `simulation.html`).

use std::io::Write;
use std::path::Path;

use anyhow::{bail, Context, Result};
use drgdip_engine::dip::{DipFiles, DipRegion};
use drgdip_engine::pricing::SpecialCases;
use drgdip_engine::simulate::{groups_csv, hospitals_csv, Bounds, SimOptions};
use drgdip_engine::simulate_dip::{simulate_dip, DipSimulation};
use drgdip_io::Purpose;
use drgdip_pay::money::Fen;
use drgdip_pay::params::Method;
use drgdip_pay::Params;
use drgdip_report::{simulation_page, ImpactRow, SimulationView};

use super::{
    hospital_rows, option_lines, parse_rate, print_movers, row, total_row, write_file, SimulateArgs,
};
use crate::progress::Progress;
use crate::shared::{open_errors, open_input, read_special, read_text};

fn method_of(path: &Path) -> Result<Method> {
    let params = Params::from_toml_str(&read_text(path, "parameter file")?)
        .map_err(|e| anyhow::anyhow!("parameter file {}: {e}", path.display()))?;
    Ok(params.region.method)
}

/// Whether the simulation is a DIP one: both parameter files DIP (one of each is refused).
pub fn is_dip(a: &SimulateArgs) -> Result<bool> {
    match (method_of(&a.baseline)?, method_of(&a.proposal)?) {
        (Method::Dip, Method::Dip) => Ok(true),
        (Method::Drg, Method::Drg) => {
            if a.library.is_some() || a.library2.is_some() {
                bail!("--library/--library2 are for DIP parameter files (region.method = \"dip\"); these are DRG ones");
            }
            Ok(false)
        }
        (b, p) => bail!(
            "{} is region.method = \"{b}\" and {} \"{p}\": a simulation compares two parameter sets of one payment method",
            a.baseline.display(),
            a.proposal.display()
        ),
    }
}

/// Runs `drgdip simulate` on two DIP parameter files.
pub fn run_simulate_dip(a: SimulateArgs) -> Result<()> {
    let env = a.shared.resolve()?;
    if a.weights.is_some() || a.weights2.is_some() || a.history.is_some() {
        bail!("--weights, --weights2 and --history are DRG weights; a DIP simulation takes --library (and --library2), made by `drgdip dip build`");
    }
    let Some(library) = &a.library else {
        bail!("region.method = \"dip\": give --library DIR (the baseline's disease library, made by `drgdip dip build`), and --library2 for the proposal's if it differs");
    };
    let bounds = Bounds {
        floor: parse_rate("--floor", a.floor.as_deref())?,
        ceiling: parse_rate("--ceiling", a.ceiling.as_deref())?,
    };
    bounds.check()?;
    let mut registry = env.registry()?;
    let mut load = |params: &Path, library: &Path| -> Result<DipRegion> {
        let files = DipFiles {
            params: params.to_path_buf(),
            hospitals: a.hospitals.clone(),
            library: library.to_path_buf(),
        };
        DipRegion::load(&mut registry, &files)
            .with_context(|| format!("the parameter file {}", params.display()))
    };
    let baseline = load(&a.baseline, library)?;
    let proposal = load(&a.proposal, a.library2.as_deref().unwrap_or(library))?;
    let special = match &a.special {
        Some(p) => read_special(p)?,
        None => SpecialCases::default(),
    };
    let mut errors = open_errors(a.errors.as_deref())?;
    let progress = Progress::new(a.quiet);
    let batch = a.input_opts.batch(Purpose::DipScore, drgdip_drg::Lang::En);
    let sim = simulate_dip(
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
        &|n| progress.set(n),
    )
    .with_context(|| format!("the case file {}", a.cases.display()))?;
    progress.finish();
    if let Some(mut e) = errors {
        e.flush()?;
    }
    std::fs::create_dir_all(&a.output)
        .with_context(|| format!("cannot create {}", a.output.display()))?;
    let s = &sim.sim;
    write_file(&a.output, "hospitals.csv", &hospitals_csv(s))?;
    write_file(&a.output, "groups.csv", &groups_csv(s))?;
    let notes = notes(&sim);
    let meta = format!(
        "{} cases of {} · baseline {} ({}, point value {:.6}) · proposal {} ({}, point value {:.6})",
        s.total_baseline.cases,
        a.cases.display(),
        a.baseline.display(),
        s.scheme_baseline,
        sim.point_value_baseline.point_value,
        a.proposal.display(),
        s.scheme_proposal,
        sim.proposal_point_value()
    );
    let mut groups: Vec<ImpactRow> = s
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
        hospitals: hospital_rows(s),
        groups,
        total: total_row(s),
        budget_baseline: s.budget_baseline,
        budget_proposal: s.budget_proposal,
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

/// What the point values and the options did.
fn notes(sim: &DipSimulation) -> Vec<String> {
    let mut lines = vec![
        format!("baseline: {}", sim.point_value_baseline),
        format!("proposal: {}", sim.point_value_proposal),
    ];
    if let Some(n) = &sim.neutral {
        lines.push(format!(
            "budget-neutral (预算中性): the proposal's point value {:.6} (the exact solution {:.6} for the budget {} = the baseline's Σ fund due {} less the proposal's fund due outside the point value, then {} step(s) of 0.000001 for the rounding of each case to the fen): Σ fund due {} vs the baseline's {}: {} {}",
            n.point_value,
            n.solved,
            Fen(n.pool_budget),
            Fen(n.target),
            n.steps,
            Fen(n.target + n.residual),
            Fen(n.target),
            Fen(n.residual),
            if n.reached { "(within a yuan)" } else { "(NOT within a yuan: one step of the point value moves Σ fund due by more than a yuan)" }
        ));
    }
    lines.extend(option_lines(&sim.sim));
    lines
}

fn print_summary(sim: &DipSimulation, notes: &[String]) {
    let s = &sim.sim;
    let (b, p) = (&s.total_baseline, &s.total_proposal);
    eprintln!(
        "{} rows: {} cases scored on both sides, {} invalid (not priced); read and scored in {:.2} s, priced in {:.2} s",
        s.stats.rows,
        b.cases,
        s.invalid,
        s.read_time.as_secs_f64(),
        s.price_time.as_secs_f64()
    );
    eprintln!(
        "baseline ({}): point value {:.6}, payment {}, fund due {} of the DIP budget {}",
        s.scheme_baseline,
        sim.point_value_baseline.point_value,
        Fen(b.payment),
        Fen(b.fund_due),
        Fen(s.budget_baseline)
    );
    eprintln!(
        "proposal ({}): point value {:.6}, payment {}, fund due {} of the DIP budget {}",
        s.scheme_proposal,
        sim.proposal_point_value(),
        Fen(p.payment),
        Fen(p.fund_due),
        Fen(s.budget_proposal)
    );
    print_movers(s, notes);
}
