//! The simulation of a proposal (payment-model §9) and the scheme-change impact (§10), on the
//! shipped data: the simulation's totals are two `pay` runs, budget-neutral keeps Σ payment
//! within a yuan, the bounds hold every hospital within the band, and the crosswalk counts
//! every valid case once.

use std::path::{Path, PathBuf};

use drgdip_engine::compare::{compare_schemes, compare_weights, read_reference};
use drgdip_engine::pricing::{pay_file, PayOptions, SpecialCases};
use drgdip_engine::simulate::{load_cases, simulate, simulate_set, Bounds, SimOptions, Simulation};
use drgdip_engine::weights::weights_from_history;
use drgdip_engine::{Region, RegionFiles, WeightsFrom};
use drgdip_io::{BatchOptions, Purpose};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

fn shared() -> Option<PathBuf> {
    let dir = std::env::var_os("DRGDIP_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    if dir.join("params/region-350100-2025.toml").exists() {
        Some(dir)
    } else {
        eprintln!("note: no shared data at {}: skipped", dir.display());
        None
    }
}

fn batch(purpose: Purpose) -> BatchOptions {
    let mut b = BatchOptions::default();
    b.read.purpose = purpose;
    b
}

struct Fixture {
    shared: PathBuf,
    dir: PathBuf,
    weights: PathBuf,
    cases: PathBuf,
}

fn fixture(shared: &Path, name: &str) -> Fixture {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("simulate-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let files = drgdip_scheme::DirFiles::new(shared).unwrap();
    let mut registry = drgdip_scheme::Registry::new(&files).unwrap();
    let scheme = registry.get("fujian-2024").unwrap();
    let params_text =
        std::fs::read_to_string(shared.join("params/region-350100-2025.toml")).unwrap();
    let params = drgdip_pay::Params::from_toml_str(&params_text).unwrap();
    let history = weights_from_history(
        &scheme,
        &params,
        std::fs::File::open(shared.join("testdata/chs-drg-2.0/history-2024/cases.csv")).unwrap(),
        batch(Purpose::Weights),
        None,
        &|_| {},
    )
    .unwrap();
    let weights = dir.join("weights.csv");
    std::fs::write(&weights, history.table.to_csv_string()).unwrap();
    Fixture {
        shared: shared.to_path_buf(),
        dir,
        weights,
        cases: shared.join("testdata/chs-drg-2.0/dev/cases.csv"),
    }
}

/// The shipped parameters with `edits` applied (the catalogue made absolute), in a temp file.
fn params_with(f: &Fixture, name: &str, edits: &[(&str, &str)]) -> PathBuf {
    let shipped = f.shared.join("params/region-350100-2025.toml");
    let mut text = std::fs::read_to_string(&shipped).unwrap();
    let catalogue = f.shared.join("params/fujian-exclusion-catalogue-2025.csv");
    text = text.replace(
        "catalogue = \"fujian-exclusion-catalogue-2025.csv\"",
        &format!("catalogue = \"{}\"", catalogue.display()),
    );
    for (from, to) in edits {
        assert!(text.contains(from), "{from} is in the shipped parameters");
        text = text.replace(from, to);
    }
    let p = f.dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn region(f: &Fixture, params: &Path) -> Region {
    let files = drgdip_scheme::DirFiles::new(&f.shared).unwrap();
    let mut registry = drgdip_scheme::Registry::new(&files).unwrap();
    Region::load(
        &mut registry,
        &RegionFiles {
            params: params.to_path_buf(),
            hospitals: f.shared.join("testdata/chs-drg-2.0/hospitals.csv"),
            weights: WeightsFrom::File(f.weights.clone()),
            point_value: None,
        },
        batch(Purpose::Weights),
    )
    .unwrap()
}

fn pay_totals(region: &Region, cases: &Path) -> drgdip_pay::Totals {
    let run = pay_file(
        region,
        &SpecialCases::default(),
        std::fs::File::open(cases).unwrap(),
        &mut std::io::sink(),
        None,
        PayOptions {
            batch: batch(Purpose::Pay),
            trace: false,
        },
        &|_| {},
    )
    .unwrap();
    run.summary.total()
}

fn sum_hospitals(sim: &Simulation) -> (Decimal, Decimal, Decimal, Decimal) {
    sim.hospitals.iter().fold(Default::default(), |a, h| {
        (
            a.0 + h.baseline.payment,
            a.1 + h.payment_proposal(),
            a.2 + h.baseline.fund_due,
            a.3 + h.fund_due_proposal(),
        )
    })
}

#[test]
fn the_simulation_totals_are_two_separate_pay_runs() {
    let Some(shared) = shared() else { return };
    let f = fixture(&shared, "totals");
    let shipped = params_with(&f, "baseline.toml", &[]);
    let proposal = params_with(
        &f,
        "proposal.toml",
        &[("base_rate = \"38000.00\"", "base_rate = \"40000.00\"")],
    );
    let (rb, rp) = (region(&f, &shipped), region(&f, &proposal));
    let sim = simulate(
        &rb,
        &rp,
        &SpecialCases::default(),
        std::fs::File::open(&f.cases).unwrap(),
        batch(Purpose::Pay),
        None,
        SimOptions::default(),
        &|_| {},
    )
    .unwrap();
    let (tb, tp) = (pay_totals(&rb, &f.cases), pay_totals(&rp, &f.cases));
    assert_eq!(sim.total_baseline.payment, tb.payment);
    assert_eq!(sim.total_baseline.fund_due, tb.fund_due);
    assert_eq!(sim.total_proposal.payment, tp.payment);
    assert_eq!(sim.total_proposal.fund_due, tp.fund_due);
    assert!(tp.payment > tb.payment, "a higher base rate pays more");
    // every case in one hospital and one group; the rows add up to the totals
    let (pb, pp, fb, fp) = sum_hospitals(&sim);
    assert_eq!(
        (pb, pp, fb, fp),
        (tb.payment, tp.payment, tb.fund_due, tp.fund_due)
    );
    let g: Decimal = sim.groups.iter().map(|g| g.proposal.payment).sum();
    assert_eq!(g, tp.payment);
    let cases: u64 = sim.hospitals.iter().map(|h| h.baseline.cases).sum();
    assert_eq!(cases + sim.invalid, sim.stats.rows);
    // one scheme: the group key is one DRG twice
    assert!(sim.groups.iter().all(|g| g.drg_baseline == g.drg_proposal));
    assert_eq!(sim.budget_baseline, dec!(480000000.00));
}

#[test]
fn budget_neutral_keeps_the_total_payment_within_a_yuan_and_bounds_hold_every_hospital() {
    let Some(shared) = shared() else { return };
    let f = fixture(&shared, "neutral");
    let shipped = params_with(&f, "baseline.toml", &[]);
    // a proposal that pays more and shifts money between levels
    let proposal = params_with(
        &f,
        "proposal.toml",
        &[
            ("base_rate = \"38000.00\"", "base_rate = \"41500.00\""),
            (
                "\"1\" = \"0.80\"\n\n[drg.outliers]",
                "\"1\" = \"0.95\"\n\n[drg.outliers]",
            ),
            ("high_extra_share = \"0.90\"", "high_extra_share = \"0.70\""),
        ],
    );
    let (rb, rp) = (region(&f, &shipped), region(&f, &proposal));
    let set = load_cases(
        &rb,
        &rp,
        &SpecialCases::default(),
        std::fs::File::open(&f.cases).unwrap(),
        batch(Purpose::Pay),
        None,
        &|_| {},
    )
    .unwrap();
    let plain = simulate_set(&rb, &rp, &set, SimOptions::default(), &|_| {}).unwrap();
    assert!(plain.total_proposal.payment > plain.total_baseline.payment + dec!(1000000));

    let neutral = SimOptions {
        budget_neutral: true,
        ..SimOptions::default()
    };
    let sim = simulate_set(&rb, &rp, &set, neutral, &|_| {}).unwrap();
    let n = sim.neutral.as_ref().unwrap();
    assert!(n.reached, "{n:?}");
    let gap = sim.total_proposal.payment - sim.total_baseline.payment;
    assert!(gap.abs() <= dec!(1), "Σ payment differs by {gap}");
    assert_eq!(gap, n.residual);
    assert!(n.factor < dec!(1) && n.factor > dec!(0.8), "{}", n.factor);
    assert!(n.iterations() >= 2 && n.iterations() <= 60, "{n:?}");
    // the proposal still moves money between hospitals
    assert!(sim.hospitals.iter().any(|h| h.difference() > dec!(10000)));
    assert!(sim.hospitals.iter().any(|h| h.difference() < dec!(-10000)));

    let bounded = SimOptions {
        budget_neutral: true,
        bounds: Bounds {
            floor: Some(dec!(-0.01)),
            ceiling: Some(dec!(0.01)),
        },
    };
    let sim = simulate_set(&rb, &rp, &set, bounded, &|_| {}).unwrap();
    let b = sim.bounds.as_ref().unwrap();
    assert!(!b.bound.is_empty(), "some hospital moves by more than 1%");
    assert_eq!(b.not_redistributed, Decimal::ZERO);
    for h in &sim.hospitals {
        let r = h.relative().unwrap();
        // the bound itself is rounded to the fen
        let tol = dec!(0.01) / h.baseline.payment;
        assert!(
            r >= dec!(-0.01) - tol && r <= dec!(0.01) + tol,
            "{} moves {r}",
            h.hospital_id
        );
        assert_eq!(h.bound.is_some(), b.bound.contains(&h.hospital_id));
    }
    let gap = sim.total_proposal.payment - sim.total_baseline.payment;
    assert!(gap.abs() <= dec!(1), "the bounds keep the total: {gap}");
    let (_, pp, _, _) = sum_hospitals(&sim);
    assert_eq!(pp, sim.total_proposal.payment);
}

#[test]
fn the_crosswalk_counts_every_valid_case_once_and_names_the_rule_of_each_change() {
    let Some(shared) = shared() else { return };
    let files = drgdip_scheme::DirFiles::new(&shared).unwrap();
    let mut registry = drgdip_scheme::Registry::new(&files).unwrap();
    let (a, b) = (
        registry.get("chs-drg-2.0").unwrap(),
        registry.get("fujian-2024").unwrap(),
    );
    let cases = shared.join("testdata/chs-drg-2.0/dev/cases.csv");
    let c = compare_schemes(
        &a,
        &b,
        std::fs::File::open(&cases).unwrap(),
        BatchOptions::default(),
        None,
        drgdip_drg::Lang::En,
        &|_| {},
    )
    .unwrap();
    assert_eq!(c.cases() + c.invalid, c.stats.rows);
    assert!(c.drg_changed() > 0);
    for p in c.pairs.iter().filter(|p| p.from_drg != p.to_drg) {
        let n: u64 = p.rules.iter().map(|r| r.1).sum();
        assert_eq!(n, p.cases, "every moved case has its rule: {p:?}");
        assert!(p.rules.iter().all(|r| !r.0.is_empty()));
    }
    for x in &c.adrg_changes {
        assert_ne!(x.from.0, x.to.0);
        assert!(!x.rule_to.is_empty() && !x.rule_from.is_empty());
    }
    let h: u64 = c.hospitals.values().map(|h| h.cases).sum();
    assert_eq!(h, c.cases());
}

#[test]
fn local_weights_against_the_reference_flag_groups_on_few_cases() {
    let Some(shared) = shared() else { return };
    let reference =
        read_reference(&shared.join("schemes/chs-drg-2.0-reference-weights.csv")).unwrap();
    // the shared README says 629 of 634; the file has 628 weights (AA19 AC19 AD19 AF19 NG19
    // PB19 empty) and the 20 QY codes, empty too
    assert_eq!(reference.iter().filter(|r| r.weight.is_some()).count(), 628);
    let table = drgdip_pay::WeightTable::from_csv_str(
        "drg,adrg,cases,mean_cost,weight,source\nAA29,AA2,3,,20.0000,own\nZZ99,ZZ9,50,,1.0000,own\n",
    )
    .unwrap();
    let c = compare_weights(&table, &reference, 30);
    let aa29 = c.rows.iter().find(|r| r.drg == "AA29").unwrap();
    assert_eq!(aa29.reference, Some(dec!(26.7759)));
    assert_eq!(aa29.ratio, Some((dec!(20) / dec!(26.7759)).round_dp(4)));
    assert!(aa29.few_cases);
    let zz = c.rows.iter().find(|r| r.drg == "ZZ99").unwrap();
    assert!(zz.reference.is_none() && !zz.few_cases);
    assert_eq!(c.both(), 1);
    assert_eq!(c.flagged(), 1);
}
