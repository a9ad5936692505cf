//! End-to-end tests of `drgdip simulate`, `drgdip compare-schemes` and
//! `drgdip weights-compare` on the shipped data: the simulation's files add up to two `pay`
//! runs, budget-neutral keeps Σ payment within a yuan and the bounds hold every hospital, the
//! crosswalk is the join of two `group` runs, and the weights comparison flags the groups on
//! few cases. Every test passes with a note when the shared directory is absent.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use rust_decimal::Decimal;

mod common;

use common::{drgdip, fixture, read_csv, shared, tempdir};

fn run_ok(shared: &Path, args: &[&str]) -> String {
    let out = drgdip(shared, args);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "drgdip {args:?} failed:\n{stderr}");
    stderr
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn dec(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap_or_else(|_| panic!("not a decimal: {text:?}"))
}

struct Inputs {
    params: PathBuf,
    hospitals: PathBuf,
    weights: PathBuf,
    dev: PathBuf,
    history: PathBuf,
}

fn inputs(shared: &Path, dir: &Path) -> Inputs {
    let t = shared.join("testdata/chs-drg-2.0");
    let params = fixture::params(shared, dir, "params.toml");
    let hospitals = fixture::hospitals(shared, dir);
    let history = t.join("history-2024/cases.csv");
    let weights = dir.join("weights.csv");
    run_ok(
        shared,
        &[
            "weights",
            "-q",
            "--history",
            s(&history),
            "--params",
            s(&params),
            "-o",
            s(&weights),
        ],
    );
    Inputs {
        params,
        hospitals,
        weights,
        dev: t.join("dev/cases.csv"),
        history,
    }
}

/// The parameters with one text replaced, as a new file.
fn edited(params: &Path, name: &str, edits: &[(&str, &str)]) -> PathBuf {
    let mut text = std::fs::read_to_string(params).unwrap();
    for (a, b) in edits {
        assert!(text.contains(a), "{a} in the parameters");
        text = text.replace(a, b);
    }
    let p = params.with_file_name(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn sum(rows: &[HashMap<String, String>], col: &str) -> Decimal {
    rows.iter().map(|r| dec(&r[col])).sum()
}

fn pay(shared: &Path, i: &Inputs, params: &Path, out: &Path) -> Vec<HashMap<String, String>> {
    run_ok(
        shared,
        &[
            "pay",
            "-q",
            "--params",
            s(params),
            "--hospitals",
            s(&i.hospitals),
            "--weights",
            s(&i.weights),
            "-i",
            s(&i.dev),
            "-o",
            s(out),
        ],
    );
    read_csv(out)
}

#[test]
fn simulate_writes_hospitals_and_groups_that_add_up_to_two_pay_runs() {
    let Some(shared) = shared() else { return };
    let dir = tempdir("simulate");
    let i = inputs(&shared, &dir);
    let proposal = edited(
        &i.params,
        "proposal.toml",
        &[("base_rate = \"38000.00\"", "base_rate = \"39500.00\"")],
    );
    let out = dir.join("out");
    let stderr = run_ok(
        &shared,
        &[
            "simulate",
            "--cases",
            s(&i.dev),
            "--baseline",
            s(&i.params),
            "--proposal",
            s(&proposal),
            "--hospitals",
            s(&i.hospitals),
            "--weights",
            s(&i.weights),
            "-o",
            s(&out),
        ],
    );
    assert!(
        stderr.contains("20000 cases priced on both sides"),
        "{stderr}"
    );
    let hospitals = read_csv(&out.join("hospitals.csv"));
    let groups = read_csv(&out.join("groups.csv"));
    let html = std::fs::read_to_string(out.join("simulation.html")).unwrap();
    assert!(html.contains("<svg") && html.contains("Budget balance") && html.contains("H001"));

    let base = pay(&shared, &i, &i.params, &dir.join("pay-base.csv"));
    let prop = pay(&shared, &i, &proposal, &dir.join("pay-prop.csv"));
    for (side, paid) in [("baseline", &base), ("proposal", &prop)] {
        for what in ["payment", "fund_due"] {
            let col = format!("{what}_{side}");
            assert_eq!(sum(&hospitals, &col), sum(paid, what), "{col} per hospital");
            assert_eq!(sum(&groups, &col), sum(paid, what), "{col} per group");
        }
        // per DRG, the pay run's sums
        let mut by_drg: BTreeMap<String, Decimal> = BTreeMap::new();
        for r in paid.iter() {
            *by_drg.entry(r["drg"].clone()).or_default() += dec(&r["payment"]);
        }
        for g in &groups {
            assert_eq!(g["drg_baseline"], g["drg_proposal"], "one scheme: one DRG");
            assert_eq!(
                dec(&g[&format!("payment_{side}")]),
                by_drg[&g["drg_baseline"]],
                "{side} {}",
                g["drg_baseline"]
            );
        }
    }
    let cases: u64 = hospitals
        .iter()
        .map(|h| h["cases"].parse::<u64>().unwrap())
        .sum();
    assert_eq!(cases, 20000);
    for h in &hospitals {
        assert_eq!(
            dec(&h["difference"]),
            dec(&h["payment_proposal"]) - dec(&h["payment_baseline"])
        );
    }
    // a higher rate pays more in total (not every hospital: a case whose cost falls below
    // low_multiple × the higher standard is paid its cost instead)
    assert!(sum(&hospitals, "difference") > Decimal::ZERO);
}

#[test]
fn simulate_budget_neutral_keeps_the_total_and_the_bounds_hold_every_hospital() {
    let Some(shared) = shared() else { return };
    let dir = tempdir("simulate-neutral");
    let i = inputs(&shared, &dir);
    let proposal = edited(
        &i.params,
        "proposal.toml",
        &[
            ("base_rate = \"38000.00\"", "base_rate = \"40000.00\""),
            (
                "\"1\" = \"0.80\"\n\n[drg.outliers]",
                "\"1\" = \"0.92\"\n\n[drg.outliers]",
            ),
        ],
    );
    let out = dir.join("out");
    let args = |extra: &[&'static str]| {
        let mut v: Vec<String> = [
            "simulate",
            "--cases",
            s(&i.dev),
            "--baseline",
            s(&i.params),
            "--proposal",
            s(&proposal),
            "--hospitals",
            s(&i.hospitals),
            "--weights",
            s(&i.weights),
            "-o",
            s(&out),
        ]
        .iter()
        .map(|x| x.to_string())
        .collect();
        v.extend(extra.iter().map(|x| x.to_string()));
        v
    };
    let a = args(&["--budget-neutral", "--floor", "-0.02", "--ceiling", "0.02"]);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let stderr = run_ok(&shared, &a);
    assert!(stderr.contains("(within a yuan)"), "{stderr}");
    assert!(
        stderr.contains("budget-neutral (预算中性): the proposal's weights × 0.9"),
        "{stderr}"
    );
    let hospitals = read_csv(&out.join("hospitals.csv"));
    let gap = sum(&hospitals, "payment_proposal") - sum(&hospitals, "payment_baseline");
    assert!(gap.abs() <= Decimal::ONE, "Σ payment moved by {gap}");
    let mut bound = 0;
    for h in &hospitals {
        let b = dec(&h["payment_baseline"]);
        let r = (dec(&h["payment_proposal"]) - b) / b;
        let tol = dec("0.01") / b;
        assert!(
            r.abs() <= dec("0.02") + tol,
            "{} moves {r}",
            h["hospital_id"]
        );
        if !h["bound"].is_empty() {
            bound += 1;
            assert!(["floor", "ceiling"].contains(&h["bound"].as_str()));
        }
    }
    assert!(
        bound > 0,
        "the level-1 coefficient moves some hospital by more than 2%"
    );
    assert!(
        stderr.contains(&format!("{bound} hospital(s) held at a bound")),
        "{stderr}"
    );

    // a bad bound names the flag
    let a = args(&["--floor", "-1.5"]);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let o = drgdip(&shared, &a);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--floor -1.5"));
    let a = args(&["--ceiling", "a lot"]);
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let o = drgdip(&shared, &a);
    assert!(String::from_utf8_lossy(&o.stderr).contains("--ceiling \"a lot\""));
}

#[test]
fn compare_schemes_gives_the_join_of_two_group_runs() {
    let Some(shared) = shared() else { return };
    let dir = tempdir("compare-schemes");
    let dev = shared.join("testdata/chs-drg-2.0/dev/cases.csv");
    let mut runs = Vec::new();
    for scheme in ["chs-drg-2.0", "fujian-2024"] {
        let out = dir.join(format!("{scheme}.csv"));
        run_ok(
            &shared,
            &["group", "--scheme", scheme, "-i", s(&dev), "-o", s(&out)],
        );
        runs.push(read_csv(&out));
    }
    let to: HashMap<&str, &HashMap<String, String>> =
        runs[1].iter().map(|r| (r["case_id"].as_str(), r)).collect();
    let mut join: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut adrg_changed = 0;
    for a in runs[0].iter().filter(|r| r["status"] != "invalid") {
        let b = to[a["case_id"].as_str()];
        *join
            .entry((a["drg"].clone(), b["drg"].clone()))
            .or_default() += 1;
        adrg_changed += usize::from(a["adrg"] != b["adrg"]);
    }
    let out = dir.join("out");
    let stderr = run_ok(
        &shared,
        &[
            "compare-schemes",
            "--from",
            "chs-drg-2.0",
            "--to",
            "fujian-2024",
            "--input",
            s(&dev),
            "-o",
            s(&out),
        ],
    );
    assert!(stderr.contains("grouping only"), "{stderr}");
    let crosswalk: BTreeMap<(String, String), u64> = read_csv(&out.join("crosswalk.csv"))
        .into_iter()
        .map(|r| {
            (
                (r["from_drg"].clone(), r["to_drg"].clone()),
                r["cases"].parse().unwrap(),
            )
        })
        .collect();
    assert_eq!(crosswalk, join);
    let changes = read_csv(&out.join("adrg_changes.csv"));
    assert_eq!(changes.len(), adrg_changed);
    assert!(changes.iter().all(|c| !c["rule_to"].is_empty()));
    for r in read_csv(&out.join("crosswalk.csv")) {
        assert_eq!(r["changed"] == "1", r["from_drg"] != r["to_drg"]);
        assert_eq!(r["rule"].is_empty(), r["from_drg"] == r["to_drg"], "{r:?}");
    }
    assert!(
        !out.join("groups.csv").exists(),
        "no payment without parameters"
    );
    let html = std::fs::read_to_string(out.join("scheme-change.html")).unwrap();
    assert!(html.contains("Where the groups go") && html.contains("<svg"));

    // with parameters and a history: CMI and payment under both
    let i_dir = tempdir("compare-schemes-money");
    let params = fixture::params(&shared, &i_dir, "params.toml");
    let hospitals = fixture::hospitals(&shared, &i_dir);
    let history = shared.join("testdata/chs-drg-2.0/history-2024/cases.csv");
    let out = i_dir.join("out");
    let stderr = run_ok(
        &shared,
        &[
            "compare-schemes",
            "--from",
            "chs-drg-2.0",
            "--to",
            "fujian-2024",
            "--input",
            s(&dev),
            "--params",
            s(&params),
            "--history",
            s(&history),
            "--hospitals",
            s(&hospitals),
            "-o",
            s(&out),
        ],
    );
    assert!(stderr.contains("CMI "), "{stderr}");
    let h = read_csv(&out.join("hospitals.csv"));
    assert!(h
        .iter()
        .all(|r| !r["cmi_from"].is_empty() && !r["payment_to"].is_empty()));
    let groups = read_csv(&out.join("groups.csv"));
    let g: BTreeMap<(String, String), u64> = groups
        .iter()
        .map(|r| {
            (
                (r["drg_baseline"].clone(), r["drg_proposal"].clone()),
                r["cases"].parse().unwrap(),
            )
        })
        .collect();
    assert_eq!(g, join, "groups.csv is keyed by the crosswalk's pairs");
    assert_eq!(sum(&groups, "payment_proposal"), sum(&h, "payment_to"));
}

#[test]
fn weights_compare_flags_the_groups_on_few_cases() {
    let Some(shared) = shared() else { return };
    let dir = tempdir("weights-compare");
    let i = inputs(&shared, &dir);
    let local = dir.join("local-chs.csv");
    run_ok(
        &shared,
        &[
            "weights",
            "-q",
            "--scheme",
            "chs-drg-2.0",
            "--history",
            s(&i.history),
            "--params",
            s(&i.params),
            "-o",
            s(&local),
        ],
    );
    let cases: HashMap<String, u32> = read_csv(&local)
        .into_iter()
        .map(|r| (r["drg"].clone(), r["cases"].parse().unwrap()))
        .collect();
    for min in ["30", "100"] {
        let out = dir.join(format!("cmp-{min}.csv"));
        let stderr = run_ok(
            &shared,
            &[
                "weights-compare",
                "--weights",
                s(&local),
                "--min-cases",
                min,
                "-o",
                s(&out),
            ],
        );
        let rows = read_csv(&out);
        let n: u32 = min.parse().unwrap();
        let flagged = rows
            .iter()
            .filter(|r| r["flag"].contains("few_cases"))
            .count();
        let expected = cases.values().filter(|&&c| c < n).count();
        assert_eq!(flagged, expected, "threshold {min}");
        assert!(
            stderr.contains(&format!("{expected} flagged: fewer than {min}")),
            "{stderr}"
        );
        for r in &rows {
            if let (Ok(l), Ok(f)) = (dec_opt(&r["local_weight"]), dec_opt(&r["reference_weight"])) {
                assert_eq!(dec(&r["ratio"]), (l / f).round_dp(4), "{r:?}");
            }
        }
    }
    // the history route groups with chs-drg-2.0 by default, as the file above
    let out = dir.join("cmp-history.csv");
    run_ok(
        &shared,
        &[
            "weights-compare",
            "-q",
            "--history",
            s(&i.history),
            "--params",
            s(&i.params),
            "-o",
            s(&out),
        ],
    );
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        std::fs::read_to_string(dir.join("cmp-30.csv")).unwrap()
    );
}

fn dec_opt(text: &str) -> Result<Decimal, ()> {
    Decimal::from_str(text).map_err(|_| ())
}
