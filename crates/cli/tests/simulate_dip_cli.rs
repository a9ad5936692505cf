//! End-to-end tests of `drgdip simulate` on DIP parameter files (`region.method = "dip"`): the
//! simulation's totals, per hospital and per DIP group, are two separate `drgdip dip score`
//! runs (one per parameter file); budget-neutral solves the proposal's point value so that Σ
//! fund due is the baseline's within a yuan; a fixed point value is honoured. The proposals
//! are temporary copies of the shipped DIP parameters (written in the test's directory). Every
//! test passes with a note when the shared directory is absent.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::OnceLock;

use rust_decimal::Decimal;

mod common;

use common::{drgdip, read_csv, shared, tempdir};

type Row = HashMap<String, String>;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn dec(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap_or_else(|_| panic!("not a decimal: {text:?}"))
}

fn run_ok(shared: &Path, args: &[&str]) -> String {
    let out = drgdip(shared, args);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "drgdip {args:?} failed:\n{stderr}");
    stderr
}

fn data(shared: &Path, rel: &str) -> PathBuf {
    shared.join("testdata/chs-drg-2.0").join(rel)
}

fn dip_params(shared: &Path) -> PathBuf {
    shared.join("params/region-350100-2025-dip.toml")
}

/// The library built once from the 2024 history, shared by the tests.
fn library(shared: &Path) -> &'static Path {
    static LIB: OnceLock<PathBuf> = OnceLock::new();
    LIB.get_or_init(|| {
        let dir = tempdir("simulate-dip-lib");
        run_ok(
            shared,
            &[
                "dip",
                "build",
                "-q",
                "--history",
                s(&data(shared, "history-2024/cases.csv")),
                "--params",
                s(&dip_params(shared)),
                "--output",
                s(&dir),
            ],
        );
        dir
    })
}

/// The shipped DIP parameters with the edits, as `dir/name` (relative paths made absolute).
fn proposal(shared: &Path, dir: &Path, name: &str, edits: &[(&str, &str)]) -> PathBuf {
    let mut text = std::fs::read_to_string(dip_params(shared)).unwrap();
    let params_dir = shared.join("params");
    text = text
        .replace(
            "catalogue = \"fujian-exclusion-catalogue-2025.csv\"",
            &format!(
                "catalogue = \"{}\"",
                params_dir
                    .join("fujian-exclusion-catalogue-2025.csv")
                    .display()
            ),
        )
        .replace(
            "calendar = \"../calendar/",
            &format!("calendar = \"{}/", shared.join("calendar").display()),
        );
    for (a, b) in edits {
        assert!(text.contains(a), "{a} in the parameters");
        text = text.replace(a, b);
    }
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// The level-1 coefficient of `[dip.hospital_level_coefficient]` raised from 0.80 to 0.85.
fn level_edit(text: &str) -> String {
    let (head, tail) = text.split_once("[dip.hospital_level_coefficient]").unwrap();
    format!(
        "{head}[dip.hospital_level_coefficient]{}",
        tail.replacen("\"1\" = \"0.80\"", "\"1\" = \"0.85\"", 1)
    )
}

fn with_level_edit(path: &Path) -> PathBuf {
    let text = std::fs::read_to_string(path).unwrap();
    let edited = level_edit(&text);
    assert_ne!(edited, text);
    std::fs::write(path, edited).unwrap();
    path.to_path_buf()
}

fn simulate(shared: &Path, baseline: &Path, proposal: &Path, out: &Path, extra: &[&str]) -> String {
    let (cases, hospitals) = (data(shared, "dev/cases.csv"), data(shared, "hospitals.csv"));
    let mut args = vec![
        "simulate",
        "--cases",
        s(&cases),
        "--baseline",
        s(baseline),
        "--proposal",
        s(proposal),
        "--hospitals",
        s(&hospitals),
        "--library",
        s(library(shared)),
        "-o",
        s(out),
    ];
    args.extend_from_slice(extra);
    run_ok(shared, &args)
}

fn score(shared: &Path, params: &Path, out: &Path) -> Vec<Row> {
    run_ok(
        shared,
        &[
            "dip",
            "score",
            "-q",
            "--library",
            s(library(shared)),
            "--params",
            s(params),
            "--hospitals",
            s(&data(shared, "hospitals.csv")),
            "--input",
            s(&data(shared, "dev/cases.csv")),
            "--output",
            s(out),
        ],
    );
    read_csv(out)
}

fn sum(rows: &[Row], col: &str) -> Decimal {
    rows.iter()
        .filter(|r| !r[col].is_empty())
        .map(|r| dec(&r[col]))
        .sum()
}

#[test]
fn a_dip_simulation_adds_up_to_two_dip_score_runs_per_hospital_and_per_group() {
    let Some(shared) = shared() else { return };
    let dir = tempdir("simulate-dip");
    let baseline = dip_params(&shared);
    let prop = with_level_edit(&proposal(&shared, &dir, "proposal.toml", &[]));
    let out = dir.join("out");
    let stderr = simulate(&shared, &baseline, &prop, &out, &[]);
    assert!(
        stderr.contains("20000 cases scored on both sides"),
        "{stderr}"
    );
    let hospitals = read_csv(&out.join("hospitals.csv"));
    let groups = read_csv(&out.join("groups.csv"));
    let html = std::fs::read_to_string(out.join("simulation.html")).unwrap();
    assert!(html.contains("<svg") && html.contains("H001"));

    let base = score(&shared, &baseline, &dir.join("score-base.csv"));
    let propd = score(&shared, &prop, &dir.join("score-prop.csv"));
    for (side, scored) in [("baseline", &base), ("proposal", &propd)] {
        for what in ["payment", "fund_due"] {
            let col = format!("{what}_{side}");
            assert_eq!(
                sum(&hospitals, &col),
                sum(scored, what),
                "{col} per hospital"
            );
            assert_eq!(sum(&groups, &col), sum(scored, what), "{col} per group");
        }
    }
    // per DIP group (one library: the two key columns agree), the score run's sums
    let mut by_group: BTreeMap<String, Decimal> = BTreeMap::new();
    for r in &base {
        let g = if r["group_id"].is_empty() {
            "-".to_string()
        } else {
            r["group_id"].clone()
        };
        *by_group.entry(g).or_default() += dec(&r["payment"]);
    }
    assert_eq!(by_group.len(), groups.len());
    for g in &groups {
        assert_eq!(g["drg_baseline"], g["drg_proposal"], "one library");
        assert_eq!(dec(&g["payment_baseline"]), by_group[&g["drg_baseline"]]);
    }
    // per hospital: the level-1 hospitals gain (their coefficient rose) and the budget point
    // value takes it from the others
    let levels: HashMap<String, String> = read_csv(&data(&shared, "hospitals.csv"))
        .into_iter()
        .map(|h| (h["hospital_id"].clone(), h["level"].clone()))
        .collect();
    for h in &hospitals {
        let d = dec(&h["difference"]);
        assert_eq!(d, dec(&h["payment_proposal"]) - dec(&h["payment_baseline"]));
        if levels[&h["hospital_id"]] == "1" {
            assert!(d > Decimal::ZERO, "{h:?}");
        }
    }
}

#[test]
fn budget_neutral_solves_the_proposal_s_point_value_to_the_baseline_s_fund_due() {
    let Some(shared) = shared() else { return };
    let dir = tempdir("simulate-dip-neutral");
    let baseline = dip_params(&shared);
    // a proposal with a larger DIP budget: its own point value spends 500,000,000
    let prop = with_level_edit(&proposal(
        &shared,
        &dir,
        "proposal.toml",
        &[("dip = \"480000000.00\"", "dip = \"500000000.00\"")],
    ));
    let plain = dir.join("plain");
    simulate(&shared, &baseline, &prop, &plain, &[]);
    let h = read_csv(&plain.join("hospitals.csv"));
    let gap = sum(&h, "fund_due_proposal") - sum(&h, "fund_due_baseline");
    assert!(
        gap > dec("19000000"),
        "the larger budget spends more: {gap}"
    );

    let out = dir.join("neutral");
    let stderr = simulate(
        &shared,
        &baseline,
        &prop,
        &out,
        &["--budget-neutral", "--floor", "-0.02", "--ceiling", "0.02"],
    );
    assert!(stderr.contains("(within a yuan)"), "{stderr}");
    let h = read_csv(&out.join("hospitals.csv"));
    let residual = sum(&h, "fund_due_proposal") - sum(&h, "fund_due_baseline");
    assert!(
        residual.abs() <= Decimal::ONE,
        "Σ fund due differs by {residual}"
    );
    for r in &h {
        let rel = dec(&r["relative_change"]);
        assert!(rel >= dec("-0.0200") && rel <= dec("0.0200"), "{r:?}");
    }

    // a fixed point value is honoured, and budget-neutral refuses to override it
    let fixed = proposal(
        &shared,
        &dir,
        "fixed.toml",
        &[("point_value = \"budget\"", "point_value = \"500.00\"")],
    );
    let out = dir.join("fixed");
    let stderr = simulate(&shared, &baseline, &fixed, &out, &[]);
    assert!(stderr.contains("point value 500.000000"), "{stderr}");
    let scored = score(&shared, &fixed, &dir.join("score-fixed.csv"));
    let h = read_csv(&out.join("hospitals.csv"));
    assert_eq!(sum(&h, "payment_proposal"), sum(&scored, "payment"));
    let refused = drgdip(
        &shared,
        &[
            "simulate",
            "--cases",
            s(&data(&shared, "dev/cases.csv")),
            "--baseline",
            s(&baseline),
            "--proposal",
            s(&fixed),
            "--hospitals",
            s(&data(&shared, "hospitals.csv")),
            "--library",
            s(library(&shared)),
            "--budget-neutral",
            "-o",
            s(&dir.join("refused")),
        ],
    );
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(stderr.contains("dip.point_value = 500.00"), "{stderr}");
}
