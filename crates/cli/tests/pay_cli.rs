//! End-to-end tests of `drgdip weights` and `drgdip pay`: the built binary on the shipped data
//! (read at run time from `$DRGDIP_SHARED`, default `../shared` beside the repository, i.e.
//! `../../../shared` from this crate, as the other crates' tests and benches do) and on a
//! small hand-made case file whose payments are recomputed by hand.
//!
//! Every test prints a note and passes when the shared directory is absent.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use rust_decimal::{Decimal, RoundingStrategy};

mod common;

use common::{drgdip, fixture, shared, tempdir};

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

fn fen(x: Decimal) -> Decimal {
    x.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

fn w4(x: Decimal) -> Decimal {
    x.round_dp_with_strategy(4, RoundingStrategy::MidpointAwayFromZero)
}

/// A CSV file as a header and rows of named fields.
fn read_csv(path: &Path) -> (Vec<String>, Vec<HashMap<String, String>>) {
    let mut rdr = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    let rows = rdr
        .records()
        .map(|r| {
            let r = r.unwrap();
            header
                .iter()
                .cloned()
                .zip(r.iter().map(String::from))
                .collect()
        })
        .collect();
    (header, rows)
}

/// The number after `label` in a summary text (`mean_all 37920.36`, `12 grouped rows used`).
fn number_after(text: &str, label: &str) -> Decimal {
    let at = text
        .find(label)
        .unwrap_or_else(|| panic!("no {label:?} in:\n{text}"));
    let rest = &text[at + label.len()..];
    dec(rest
        .split_whitespace()
        .next()
        .unwrap()
        .trim_end_matches([',', ';']))
}

fn number_before(text: &str, label: &str) -> Decimal {
    let at = text
        .find(label)
        .unwrap_or_else(|| panic!("no {label:?} in:\n{text}"));
    dec(text[..at].split_whitespace().last().unwrap())
}

/// The summary table of `drgdip pay`: category → [cases, payment, total_cost, own, fund_due].
fn summary_table(stderr: &str) -> BTreeMap<String, [Decimal; 5]> {
    let mut lines = stderr.lines().skip_while(|l| !l.starts_with("category "));
    lines.next().expect("summary header");
    lines
        .take_while(|l| !l.starts_with("CMI"))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(f.len(), 6, "summary line {l:?}");
            (
                f[0].to_string(),
                [dec(f[1]), dec(f[2]), dec(f[3]), dec(f[4]), dec(f[5])],
            )
        })
        .collect()
}

const PAY_HEADER: [&str; 12] = [
    "case_id",
    "status",
    "mdc",
    "adrg",
    "drg",
    "category",
    "weight",
    "standard",
    "total_cost",
    "payment",
    "own",
    "fund_due",
];

/// The DRGs of a scheme that belong to an ADRG, with their ADRG.
fn scheme_drgs(shared: &Path, name: &str) -> Vec<(String, String)> {
    let files = drgdip_scheme::DirFiles::new(shared).unwrap();
    let mut registry = drgdip_scheme::Registry::new(&files).unwrap();
    let scheme = registry.get(name).unwrap();
    scheme
        .drgs
        .iter()
        .filter_map(|d| {
            d.adrg
                .map(|a| (d.code.clone(), scheme.adrgs[usize::from(a)].code.clone()))
        })
        .collect()
}

struct Paths {
    params: PathBuf,
    hospitals: PathBuf,
    history: PathBuf,
    dev: PathBuf,
}

/// The shipped data, the parameter and hospitals files as copies this build reads (see
/// `common::fixture`) in `dir`.
fn paths(shared: &Path, dir: &Path) -> Paths {
    let t = shared.join("testdata/chs-drg-2.0");
    Paths {
        params: fixture::params(shared, dir, "params.toml"),
        hospitals: fixture::hospitals(shared, dir),
        history: t.join("history-2024/cases.csv"),
        dev: t.join("dev/cases.csv"),
    }
}

#[test]
fn weights_from_the_2024_history_cover_every_drg_of_the_scheme() {
    let Some(shared) = shared() else { return };
    let dir = tempdir("weights");
    let p = paths(&shared, &dir);
    let weights = dir.join("weights.csv");
    let errors = dir.join("errors.csv");
    let stderr = run_ok(
        &shared,
        &[
            "weights",
            "--history",
            s(&p.history),
            "--params",
            s(&p.params),
            "--output",
            s(&weights),
            "--errors",
            s(&errors),
        ],
    );
    let (header, rows) = read_csv(&weights);
    assert_eq!(
        header,
        ["drg", "adrg", "cases", "mean_cost", "weight", "source"]
    );
    // The example parameters name fujian-2024: every DRG of it has exactly one row.
    let drgs = scheme_drgs(&shared, "fujian-2024");
    assert_eq!(rows.len(), drgs.len(), "{stderr}");
    let by_drg: HashMap<&str, &HashMap<String, String>> =
        rows.iter().map(|r| (r["drg"].as_str(), r)).collect();
    for (drg, adrg) in &drgs {
        let row = by_drg
            .get(drg.as_str())
            .unwrap_or_else(|| panic!("no row for {drg}"));
        assert_eq!(&row["adrg"], adrg, "{drg}");
    }
    assert!(!by_drg.keys().any(|d| d.ends_with("QY") || *d == "0000"));

    assert_eq!(
        number_before(&stderr, "rows read"),
        Decimal::from(100_000),
        "{stderr}"
    );
    let used = number_before(&stderr, "grouped rows used");
    let mean_all = number_after(&stderr, "mean_all");
    let min_cases = Decimal::from(5); // drg.min_cases_for_own_weight of the example
    let mut cases_sum = Decimal::ZERO;
    // Per ADRG: Σ cases × own weight, Σ cases over the groups with an own weight.
    let mut adrg_own: HashMap<&str, (Decimal, Decimal)> = HashMap::new();
    let mut sources: HashMap<&str, usize> = HashMap::new();
    for r in &rows {
        let (cases, weight) = (dec(&r["cases"]), dec(&r["weight"]));
        cases_sum += cases;
        assert!(weight > Decimal::ZERO, "{r:?}");
        assert_eq!(weight.scale(), 4, "weights have 4 decimals: {r:?}");
        *sources.entry(r["source"].as_str()).or_default() += 1;
        match r["source"].as_str() {
            "own" => {
                assert!(cases >= min_cases, "{r:?}");
                // RW = mean_g / mean_all (both written rounded to the fen).
                let expected = dec(&r["mean_cost"]) / mean_all;
                assert!(
                    (weight - expected).abs() <= dec("0.00006"),
                    "{r:?}: expected about {expected}"
                );
                let e = adrg_own.entry(r["adrg"].as_str()).or_default();
                e.0 += cases * weight;
                e.1 += cases;
            }
            "adrg" | "default" => assert!(cases < min_cases, "{r:?}"),
            other => panic!("unknown source {other}"),
        }
    }
    // Every grouped history case is in exactly one row.
    assert_eq!(cases_sum, used, "{stderr}");
    for r in &rows {
        let weight = dec(&r["weight"]);
        match (r["source"].as_str(), adrg_own.get(r["adrg"].as_str())) {
            ("adrg", Some((sum, n))) => assert_eq!(weight, w4(sum / n), "{r:?}"),
            ("adrg", None) => panic!("an adrg weight without own weights in its ADRG: {r:?}"),
            ("default", own) => {
                assert!(own.is_none(), "{r:?}");
                assert_eq!(weight, Decimal::ONE);
            }
            _ => {}
        }
    }
    // The 2024 history is large: most DRGs have their own weight, some take the ADRG's.
    assert!(sources["own"] > rows.len() * 9 / 10, "{sources:?}");
    assert!(sources.get("adrg").copied().unwrap_or(0) > 0, "{sources:?}");
    // The history has no invalid row: the errors file is only its header.
    let errors = std::fs::read_to_string(&errors).unwrap();
    assert_eq!(errors, "line,case_id,field,value,message\n");
    let _ = std::fs::remove_dir_all(&dir);
}

/// One input row of the dev cases, with the fields the checks use.
struct Input {
    case_id: String,
    hospital_id: String,
    insured_region: String,
    /// `new_tech_items` as written.
    items: String,
    discharge_date: String,
    total_cost: Decimal,
    fund_paid: Decimal,
}

/// One item of the shipped exclusion catalogue, read here independently of drgdip-pay.
struct Listed {
    form: String,
    bonus: Decimal,
    valid_from: String,
    valid_to: String,
    adrgs: Vec<String>,
}

fn shipped_catalogue(shared: &Path) -> HashMap<String, Listed> {
    let (_, rows) = read_csv(&shared.join("params/fujian-exclusion-catalogue-2025.csv"));
    rows.into_iter()
        .map(|r| {
            let listed = Listed {
                form: r["form"].clone(),
                bonus: if r["bonus"].is_empty() {
                    Decimal::ZERO
                } else {
                    dec(&r["bonus"])
                },
                valid_from: r["valid_from"].clone(),
                valid_to: r["valid_to"].clone(),
                adrgs: r["adrgs"]
                    .split('|')
                    .filter(|a| !a.is_empty())
                    .map(String::from)
                    .collect(),
            };
            (r["code"].clone(), listed)
        })
        .collect()
}

/// §2 rule 4 read from the text: the item that decides (form, item cost, bonus) — the first
/// applicable per_item item, else the first applicable one — if any applies.
fn deciding_item<'c>(
    catalogue: &'c HashMap<String, Listed>,
    items: &str,
    discharge_date: &str,
    adrg: &str,
) -> Option<(&'c Listed, Decimal)> {
    let applicable: Vec<(&Listed, Decimal)> = items
        .split('|')
        .filter(|e| !e.is_empty())
        .filter_map(|e| {
            let (code, cost) = e.split_once(':').unwrap();
            let l = catalogue.get(code)?;
            // ISO dates compare as text; both bounds inclusive.
            let valid =
                l.valid_from.as_str() <= discharge_date && discharge_date <= l.valid_to.as_str();
            let in_scope = l.adrgs.is_empty() || l.adrgs.iter().any(|a| a == adrg);
            (valid && in_scope).then(|| (l, dec(cost)))
        })
        .collect();
    applicable
        .iter()
        .find(|(l, _)| l.form == "per_item")
        .or(applicable.first())
        .copied()
}

#[test]
fn paying_the_dev_cases_balances() {
    let Some(shared) = shared() else { return };
    let dir = tempdir("dev");
    let p = paths(&shared, &dir);
    let weights = dir.join("weights.csv");
    let pay = dir.join("pay.csv");
    let errors = dir.join("errors.csv");
    run_ok(
        &shared,
        &[
            "weights",
            "--history",
            s(&p.history),
            "--params",
            s(&p.params),
            "-o",
            s(&weights),
            "-q",
        ],
    );
    let stderr = run_ok(
        &shared,
        &[
            "pay",
            "--params",
            s(&p.params),
            "--hospitals",
            s(&p.hospitals),
            "--weights",
            s(&weights),
            "--input",
            s(&p.dev),
            "--output",
            s(&pay),
            "--errors",
            s(&errors),
        ],
    );

    // The loaded parameters are echoed.
    assert!(stderr.contains("drg.base_rate = 38000.00"), "{stderr}");
    assert!(stderr.contains("region.scheme = fujian-2024"), "{stderr}");

    let (_, input_rows) = read_csv(&p.dev);
    let inputs: Vec<Input> = input_rows
        .iter()
        .map(|r| Input {
            case_id: r["case_id"].clone(),
            hospital_id: r["hospital_id"].clone(),
            insured_region: r["insured_region"].clone(),
            items: r["new_tech_items"].clone(),
            discharge_date: r["discharge_date"].clone(),
            total_cost: dec(&r["total_cost"]),
            fund_paid: dec(&r["fund_paid"]),
        })
        .collect();
    let (_, hospital_rows) = read_csv(&p.hospitals);
    let level: HashMap<String, String> = hospital_rows
        .iter()
        .map(|h| (h["hospital_id"].clone(), h["level"].clone()))
        .collect();
    let coefficient = |hospital: &str| match level[hospital].as_str() {
        "3" => dec("1.00"),
        "2" => dec("0.90"),
        "1" => dec("0.80"),
        other => panic!("level {other}"),
    };
    let (_, weight_rows) = read_csv(&weights);
    let own_weights: Vec<(String, Decimal)> = weight_rows
        .iter()
        .filter(|r| r["source"] == "own")
        .map(|r| (r["drg"].clone(), dec(&r["weight"])))
        .collect();
    let lowest_in = |letter: char| {
        own_weights
            .iter()
            .filter(|(d, _)| d.starts_with(letter))
            .map(|(_, w)| *w)
            .min()
            .unwrap()
    };

    let (header, rows) = read_csv(&pay);
    assert_eq!(header, PAY_HEADER);
    assert_eq!(rows.len(), inputs.len(), "one output row per input row");
    let catalogue = shipped_catalogue(&shared);
    let mut excluded = 0;
    let base_rate = dec("38000");
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut sums: BTreeMap<String, [Decimal; 4]> = BTreeMap::new();
    let (mut cmi_sum, mut cmi_n) = (Decimal::ZERO, 0u64);
    let mut own_covered = Decimal::ZERO;
    for (row, input) in rows.iter().zip(&inputs) {
        assert_eq!(row["case_id"], input.case_id, "input order kept");
        let category = row["category"].as_str();
        assert_ne!(category, "invalid", "the dev cases are all valid: {row:?}");
        let (total, payment, own, fund_due) = (
            dec(&row["total_cost"]),
            dec(&row["payment"]),
            dec(&row["own"]),
            dec(&row["fund_due"]),
        );
        assert_eq!(total, input.total_cost, "{row:?}");
        assert_eq!(own, input.total_cost - input.fund_paid, "{row:?}");
        assert!(
            payment >= Decimal::ZERO && fund_due >= Decimal::ZERO,
            "{row:?}"
        );
        // own has two decimals, so rounding commutes with the subtraction.
        assert_eq!(fund_due, (payment - own).max(Decimal::ZERO), "{row:?}");
        own_covered += payment.min(own);
        *counts.entry(category.to_string()).or_default() += 1;
        let e = sums.entry(category.to_string()).or_default();
        for (slot, x) in e.iter_mut().zip([payment, total, own, fund_due]) {
            *slot += x;
        }
        if row["status"] == "grouped" && !row["weight"].is_empty() {
            cmi_sum += dec(&row["weight"]);
            cmi_n += 1;
        }

        // Category by category, the rule of §2 that decided it.
        let local = input.insured_region.starts_with("35");
        assert_eq!(category == "cross_province", !local, "{row:?}");
        assert_eq!(
            row["status"] == "ambiguous",
            row["drg"].ends_with("QY"),
            "{row:?}"
        );
        if !local {
            assert_eq!(payment, total, "cross-province is paid per item: {row:?}");
            continue;
        }
        let coefficient = coefficient(&input.hospital_id);
        let weight = dec(&row["weight"]);
        let standard = dec(&row["standard"]);
        assert_eq!(standard, fen(weight * base_rate * coefficient), "{row:?}");
        let multiple = if weight <= Decimal::ONE {
            dec("3.0")
        } else if weight <= dec("2.0") {
            dec("2.5")
        } else {
            dec("2.0")
        };
        match row["status"].as_str() {
            "ambiguous" => {
                assert_eq!(category, "ambiguous", "{row:?}");
                let letter = row["mdc"].chars().last().unwrap();
                assert_eq!(weight, lowest_in(letter), "{row:?}");
                assert_eq!(payment, standard, "{row:?}");
                continue;
            }
            "grouped" => {}
            other => panic!("status {other} in the dev set: {row:?}"),
        }
        let decides = deciding_item(
            &catalogue,
            &input.items,
            &input.discharge_date,
            &row["adrg"],
        );
        assert_eq!(category == "excluded", decides.is_some(), "{row:?}");
        // Rule 6 for a cost (standards are exact at the fen: weight × 38000 × coefficient).
        let rule_6 = |cost: Decimal| {
            if cost > multiple * standard {
                standard + (cost - multiple * standard) * dec("0.90")
            } else if cost < dec("0.4") * standard {
                cost
            } else {
                standard
            }
        };
        match category {
            "excluded" => {
                let (item, item_cost) = decides.unwrap();
                let ordinary = rule_6(total);
                let exclusion = match item.form.as_str() {
                    "per_item" => total,
                    "item_cost" => rule_6(total - item_cost) + item_cost,
                    "weight_bonus" => ordinary + item.bonus * standard,
                    other => panic!("form {other}"),
                };
                let expected = ordinary.max(exclusion);
                assert!(
                    (payment - expected).abs() <= dec("0.01"),
                    "{row:?}: {expected}"
                );
                excluded += 1;
            }
            "normal" => {
                assert_eq!(payment, standard, "{row:?}");
                assert!(total <= multiple * standard, "{row:?}");
                assert!(total >= dec("0.4") * standard, "{row:?}");
            }
            "high" => {
                assert!(total > multiple * standard, "{row:?}");
                let expected = standard + (total - multiple * standard) * dec("0.90");
                assert!((payment - expected).abs() <= dec("0.01"), "{row:?}");
            }
            "low" => {
                assert!(total < dec("0.4") * standard, "{row:?}");
                assert_eq!(payment, total, "low cases are paid per item: {row:?}");
            }
            other => panic!("category {other}: {row:?}"),
        }
    }
    // 110 dev cases name an item that applies (203 are flagged new_tech_flag = 1).
    assert_eq!(excluded, 110);
    assert!(
        stderr.contains("exclusions (除外): 110 case(s) excluded"),
        "{stderr}"
    );
    // Every category of a realistic year shows up (the dev set has no 0000 case).
    for c in [
        "normal",
        "high",
        "low",
        "ambiguous",
        "excluded",
        "cross_province",
    ] {
        assert!(counts.get(c).copied().unwrap_or(0) > 0, "{c}: {counts:?}");
    }

    // The summary: per category as the rows say, and the categories add up to the total.
    let table = summary_table(&stderr);
    let mut by_category = [Decimal::ZERO; 5];
    for (name, t) in &table {
        if name == "total" {
            continue;
        }
        let n = Decimal::from(counts.get(name).copied().unwrap_or(0));
        assert_eq!(t[0], n, "{name} cases");
        let rows_sum = sums.get(name).copied().unwrap_or_default();
        for (i, x) in rows_sum.iter().enumerate() {
            // The rows are rounded one by one, the summary once.
            assert!(
                (t[i + 1] - x).abs() <= dec("0.005") * n,
                "{name}: column {i}: {} vs {x}",
                t[i + 1]
            );
        }
        for (acc, x) in by_category.iter_mut().zip(t) {
            *acc += x;
        }
    }
    let total = table["total"];
    assert_eq!(total[0], Decimal::from(20_000));
    for i in 1..5 {
        assert!(
            (total[i] - by_category[i]).abs() <= dec("0.05"),
            "column {i}"
        );
    }
    // Inputs have two decimals: cost and own totals are exact.
    let cost: Decimal = inputs.iter().map(|i| i.total_cost).sum();
    let own: Decimal = inputs.iter().map(|i| i.total_cost - i.fund_paid).sum();
    assert_eq!(total[2], cost);
    assert_eq!(total[3], own);
    // Every yuan of payment is the fund's or the patient's: Σ fund_due + Σ min(payment, own)
    // = Σ payment, and the fund never owes more than the payment.
    let paid: Decimal = sums.values().map(|s| s[0]).sum();
    let due: Decimal = sums.values().map(|s| s[3]).sum();
    assert_eq!(due + own_covered, paid);
    assert!(total[4] <= total[1]);
    assert!(stderr.contains(&format!(
        "payment {} vs per-item cost {}",
        total[1], total[2]
    )));
    // CMI: the mean weight of the grouped cases.
    assert_eq!(
        number_after(&stderr, "CMI"),
        w4(cmi_sum / Decimal::from(cmi_n)),
        "{stderr}"
    );
    assert!(stderr.contains(&format!("over {cmi_n} grouped cases")));
    assert_eq!(
        std::fs::read_to_string(&errors).unwrap(),
        "line,case_id,field,value,message\n"
    );

    // Weights computed on the fly from the history give the same payments.
    let on_the_fly = dir.join("pay-history.csv");
    run_ok(
        &shared,
        &[
            "pay",
            "--params",
            s(&p.params),
            "--hospitals",
            s(&p.hospitals),
            "--history",
            s(&p.history),
            "-i",
            s(&p.dev),
            "-o",
            s(&on_the_fly),
            "-q",
        ],
    );
    assert!(
        std::fs::read(&pay).unwrap() == std::fs::read(&on_the_fly).unwrap(),
        "--history and --weights from `drgdip weights` differ"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_parameters_and_missing_files_stop_the_run_with_the_key() {
    let Some(shared) = shared() else { return };
    let dir = tempdir("bad");
    let p = paths(&shared, &dir);
    let text = std::fs::read_to_string(&p.params).unwrap();
    let weights = dir.join("w.csv");
    std::fs::write(&weights, "drg,weight\nFR59,1.0000\n").unwrap();
    let out = dir.join("out.csv");
    let pay = |params: &Path, hospitals: &Path| {
        drgdip(
            &shared,
            &[
                "pay",
                "--params",
                s(params),
                "--hospitals",
                s(hospitals),
                "--weights",
                s(&weights),
                "-i",
                s(&p.dev),
                "-o",
                s(&out),
                "-q",
            ],
        )
    };
    let cases = [
        (
            "negative-rate",
            text.replace("base_rate = \"38000.00\"", "base_rate = \"-38000.00\""),
            "drg.base_rate",
        ),
        (
            "overlapping-bands",
            text.replace(
                "{ max_weight = \"2.0\", multiple = \"2.5\" }",
                "{ max_weight = \"0.5\", multiple = \"2.5\" }",
            ),
            "drg.outliers.high_multiple_bands[1].max_weight",
        ),
        (
            "unknown-scheme",
            text.replace("scheme = \"fujian-2024\"", "scheme = \"fujian-2099\""),
            "region.scheme",
        ),
        (
            "unknown-key",
            text.replace(
                "low_multiple = \"0.4\"",
                "low_multiple = \"0.4\"\nlow_multiplier = \"1\"",
            ),
            "drg.outliers.low_multiplier",
        ),
    ];
    for (name, bad, key) in cases {
        assert_ne!(bad, text, "{name}: the replacement did not apply");
        let path = dir.join(format!("{name}.toml"));
        std::fs::write(&path, bad).unwrap();
        let o = pay(&path, &p.hospitals);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{name}: accepted");
        assert!(stderr.contains(key), "{name}: {stderr}");
    }
    // Missing files are named.
    let missing = dir.join("no-such-hospitals.csv");
    let o = pay(&p.params, &missing);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("no-such-hospitals.csv"));
    // drg.weights = "history" without --weights nor --history.
    let o = drgdip(
        &shared,
        &[
            "pay",
            "--params",
            s(&p.params),
            "--hospitals",
            s(&p.hospitals),
            "-i",
            s(&p.dev),
            "-o",
            s(&out),
        ],
    );
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("--history"));
    // An unknown scheme for `weights --scheme`.
    let o = drgdip(
        &shared,
        &[
            "weights",
            "--history",
            s(&p.dev),
            "--params",
            s(&p.params),
            "-o",
            s(&out),
            "--scheme",
            "nope-1.0",
        ],
    );
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("nope-1.0"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The hand-made weights: FR59 1.0; in MDC B the lowest own weight is BB35 0.5 (BE19 0.1 is an
/// ADRG weight and does not count); overall the lowest own weight is TT29 0.25 (US19 0.1 is a
/// default weight and does not count).
const HAND_WEIGHTS: &str = "drg,adrg,cases,mean_cost,weight,source
FR59,FR5,100,38000.00,1.0000,own
BB35,BB3,50,19000.00,0.5000,own
BD29,BD2,50,30400.00,0.8000,own
TT29,TT2,80,9500.00,0.2500,own
BE19,BE1,3,,0.1000,adrg
US19,US1,1,,0.1000,default
";

const CASE_HEADER: &str = "case_id,hospital_id,hospital_level,gender,age,age_days,birth_weight,admission_weight,dept,los,discharge_way,diagnoses,procedures,vent_hours,discharge_date,insured_region,insurance_type,new_tech_flag,new_tech_items,total_cost,fund_paid,drug_cost,material_cost";

/// A case row: FR59 (acute coronary syndrome, male 38), 0000 (Z91.700) or BQY (MDCB with a
/// procedure that makes it ambiguous).
/// id, hospital, row level, group, insured region, new tech flag, total_cost, fund_paid.
type HandCase<'a> = (
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
);

fn case(row: HandCase<'_>) -> String {
    case_naming(row, "")
}

/// A case row naming exclusion items (`new_tech_items`), discharged 2025-03-01.
fn case_naming(
    (id, hospital, level, group, region, new_tech, cost, fund): HandCase<'_>,
    items: &str,
) -> String {
    let (gender, age, dx, px) = match group {
        "FR59" => ("1", "38", "I24.001", ""),
        "0000" => ("1", "44", "Z91.700", ""),
        "BQY" => ("1", "2", "G35.x05|O35.700x001", "27.4902"),
        "bad" => ("9", "38", "I24.001", ""),
        other => panic!("{other}"),
    };
    format!("{id},{hospital},{level},{gender},{age},,,,,5,1,{dx},{px},,2025-03-01,{region},employee,{new_tech},{items},{cost},{fund},,\n")
}

#[test]
fn hand_made_cases_are_paid_as_recomputed_by_hand() {
    let Some(shared) = shared() else { return };
    let dir = tempdir("hand");
    let p = paths(&shared, &dir);
    let weights = dir.join("hand-weights.csv");
    std::fs::write(&weights, HAND_WEIGHTS).unwrap();
    // The parameters point at the weights file (relative to the parameter file).
    let params = dir.join("params.toml");
    let text = std::fs::read_to_string(&p.params).unwrap();
    let with_path = text.replace("weights = \"history\"", "weights = \"hand-weights.csv\"");
    assert_ne!(with_path, text);
    std::fs::write(&params, with_path).unwrap();

    let local = "350100";
    let rows: [HandCase<'_>; 17] = [
        (
            "N1", "H001", "3", "FR59", local, "0", "30000.00", "20000.00",
        ),
        (
            "N2", "H025", "3", "FR59", local, "0", "20000.00", "14000.00",
        ),
        (
            "H0",
            "H001",
            "3",
            "FR59",
            local,
            "0",
            "114000.00",
            "80000.00",
        ),
        (
            "H1",
            "H001",
            "3",
            "FR59",
            local,
            "0",
            "120000.00",
            "90000.00",
        ),
        (
            "H2",
            "H009",
            "2",
            "FR59",
            local,
            "0",
            "102601.11",
            "70000.00",
        ),
        ("L1", "H001", "3", "FR59", local, "0", "10000.00", "8000.00"),
        (
            "L0", "H001", "3", "FR59", local, "0", "15200.00", "10000.00",
        ),
        ("U1", "H009", "2", "0000", local, "0", "5000.00", "3000.00"),
        ("Q1", "H001", "3", "BQY", local, "0", "40000.00", "30000.00"),
        ("Q2", "H001", "3", "BQY", local, "1", "40000.00", "30000.00"),
        (
            "X1",
            "H001",
            "3",
            "FR59",
            local,
            "1",
            "200000.00",
            "150000.00",
        ),
        (
            "C1", "H001", "3", "FR59", "110000", "0", "30000.00", "21000.00",
        ),
        (
            "C2", "H009", "2", "0000", "440100", "0", "5000.00", "3000.00",
        ),
        (
            "P1", "H001", "3", "FR59", "350200", "0", "30000.00", "20000.00",
        ),
        (
            "R1", "H999", "2", "FR59", local, "0", "30000.00", "20000.00",
        ),
        ("I1", "H001", "3", "bad", local, "0", "30000.00", "20000.00"),
        ("I2", "H998", "", "FR59", local, "0", "30000.00", "20000.00"),
    ];
    let mut csv_text = format!("{CASE_HEADER}\n");
    for row in rows {
        csv_text.push_str(&case(row));
    }
    // Cases naming items of the shipped catalogue (discharged 2025-03-01, FR59 of ADRG FR5).
    let named: [(HandCase<'_>, &str); 6] = [
        (
            (
                "E1", "H001", "3", "FR59", local, "1", "30000.00", "20000.00",
            ),
            "T-EX006:5000.00",
        ),
        (
            (
                "E2", "H001", "3", "FR59", local, "1", "60000.00", "45000.00",
            ),
            "XL04AX-EX008:20000.00",
        ),
        (
            (
                "E3", "H001", "3", "FR59", local, "1", "30000.00", "20000.00",
            ),
            "C0301-EX003:10000.00",
        ),
        (
            (
                "E4",
                "H001",
                "3",
                "FR59",
                local,
                "1",
                "150000.00",
                "100000.00",
            ),
            "C0302-EX004:50000.00",
        ),
        (
            (
                "E5", "H001", "3", "FR59", local, "0", "30000.00", "20000.00",
            ),
            "C0304-EX009:3000.00|XL01XX-ZZ901:1000.00",
        ),
        (
            (
                "E6", "H001", "3", "FR59", local, "1", "30000.00", "20000.00",
            ),
            "T-EX007:9000.00|XB01AX-EX010:100.00",
        ),
    ];
    for (row, items) in named {
        csv_text.push_str(&case_naming(row, items));
    }
    let cases = dir.join("cases.csv");
    std::fs::write(&cases, csv_text).unwrap();
    let out = dir.join("pay.csv");
    let errors = dir.join("errors.csv");
    let stderr = run_ok(
        &shared,
        &[
            "pay",
            "--params",
            s(&params),
            "--hospitals",
            s(&p.hospitals),
            "-i",
            s(&cases),
            "-o",
            s(&out),
            "-e",
            s(&errors),
            "--trace",
        ],
    );
    let (header, got) = read_csv(&out);
    assert_eq!(header[..12], PAY_HEADER);
    assert_eq!(header[12], "rules");
    assert_eq!(got.len(), rows.len() + 6);
    let by_id: HashMap<&str, &HashMap<String, String>> =
        got.iter().map(|r| (r["case_id"].as_str(), r)).collect();
    // id → status, drg, category, weight, standard, payment, own, fund_due (by hand).
    let expected = [
        // FR59 at level 3: 1.0 × 38000 × 1.00 = 38000; 30000 is within [15200, 114000].
        (
            "N1", "grouped", "FR59", "normal", "1.0000", "38000.00", "38000.00", "10000.00",
            "28000.00",
        ),
        // H025 is level 1 in the hospitals file (the row says 3): 38000 × 0.80 = 30400.
        (
            "N2", "grouped", "FR59", "normal", "1.0000", "30400.00", "30400.00", "6000.00",
            "24400.00",
        ),
        // Exactly 3 × 38000 is not above the threshold.
        (
            "H0", "grouped", "FR59", "normal", "1.0000", "38000.00", "38000.00", "34000.00",
            "4000.00",
        ),
        // 120000 > 114000: 38000 + 6000 × 0.90 = 43400; own 30000.
        (
            "H1", "grouped", "FR59", "high", "1.0000", "38000.00", "43400.00", "30000.00",
            "13400.00",
        ),
        // Level 2: 34200; 102601.11 > 102600: 34200 + 1.11 × 0.9 = 34200.999 → 34201.00.
        (
            "H2", "grouped", "FR59", "high", "1.0000", "34200.00", "34201.00", "32601.11",
            "1599.89",
        ),
        // 10000 < 0.4 × 38000 = 15200: per item.
        (
            "L1", "grouped", "FR59", "low", "1.0000", "38000.00", "10000.00", "2000.00", "8000.00",
        ),
        // Exactly 15200 is not below.
        (
            "L0", "grouped", "FR59", "normal", "1.0000", "38000.00", "38000.00", "5200.00",
            "32800.00",
        ),
        // 0000: the lowest own weight of all MDCs (TT29 0.25) at level 2: 0.25 × 38000 × 0.9.
        (
            "U1",
            "ungroupable",
            "0000",
            "ungroupable",
            "0.2500",
            "8550.00",
            "8550.00",
            "2000.00",
            "6550.00",
        ),
        // BQY: the lowest own weight in MDC B (BB35 0.5) at level 3.
        (
            "Q1",
            "ambiguous",
            "BQY",
            "ambiguous",
            "0.5000",
            "19000.00",
            "19000.00",
            "10000.00",
            "9000.00",
        ),
        // Ambiguous comes before the exclusion rule.
        (
            "Q2",
            "ambiguous",
            "BQY",
            "ambiguous",
            "0.5000",
            "19000.00",
            "19000.00",
            "10000.00",
            "9000.00",
        ),
        // Flagged without an item: no exclusion (the flag alone gives nothing with the
        // catalogue); 200000 > 114000 is high: 38000 + 86000 × 0.90 = 115400.
        (
            "X1",
            "grouped",
            "FR59",
            "high",
            "1.0000",
            "38000.00",
            "115400.00",
            "50000.00",
            "65400.00",
        ),
        // T-EX006 weight_bonus 0.20: the ordinary 38000 + 0.20 × 38000 = 45600.
        (
            "E1", "grouped", "FR59", "excluded", "1.0000", "38000.00", "45600.00", "10000.00",
            "35600.00",
        ),
        // XL04AX-EX008 per_item, valid to 2025-06-30: max(38000, 60000) = 60000.
        (
            "E2", "grouped", "FR59", "excluded", "1.0000", "38000.00", "60000.00", "15000.00",
            "45000.00",
        ),
        // C0301-EX003 is for FM1|FM2|FL1|FB1|FB2|FC1, not FR5: the ordinary rules, normal.
        (
            "E3", "grouped", "FR59", "normal", "1.0000", "38000.00", "38000.00", "10000.00",
            "28000.00",
        ),
        // C0302-EX004 item_cost: ordinary high 38000 + 36000 × 0.90 = 70400; the rest 100000
        // is normal: 38000 + 50000 = 88000.
        (
            "E4", "grouped", "FR59", "excluded", "1.0000", "38000.00", "88000.00", "50000.00",
            "38000.00",
        ),
        // C0304-EX009 is valid from 2025-07-01, XL01XX-ZZ901 is not listed: normal.
        (
            "E5", "grouped", "FR59", "normal", "1.0000", "38000.00", "38000.00", "10000.00",
            "28000.00",
        ),
        // T-EX007 per_item: 30000 per item < the standard 38000: the ordinary payment, still
        // excluded (XB01AX-EX010 is not for FR5).
        (
            "E6", "grouped", "FR59", "excluded", "1.0000", "38000.00", "38000.00", "10000.00",
            "28000.00",
        ),
        // Cross-province: per item, weight and standard reported.
        (
            "C1",
            "grouped",
            "FR59",
            "cross_province",
            "1.0000",
            "38000.00",
            "30000.00",
            "9000.00",
            "21000.00",
        ),
        // Cross-province comes before the 0000 rule.
        (
            "C2",
            "ungroupable",
            "0000",
            "cross_province",
            "",
            "",
            "5000.00",
            "2000.00",
            "3000.00",
        ),
        // In-province cross-region: paid by the local standard.
        (
            "P1", "grouped", "FR59", "normal", "1.0000", "38000.00", "38000.00", "10000.00",
            "28000.00",
        ),
        // H999 is not in the hospitals file: level 2 from the row, 34200.
        (
            "R1", "grouped", "FR59", "normal", "1.0000", "34200.00", "34200.00", "10000.00",
            "24200.00",
        ),
    ];
    let mut paid = Decimal::ZERO;
    let mut due = Decimal::ZERO;
    for (id, status, drg, category, weight, standard, payment, own, fund_due) in expected {
        let r = by_id[id];
        let got = [
            r["status"].as_str(),
            r["drg"].as_str(),
            r["category"].as_str(),
            r["weight"].as_str(),
            r["standard"].as_str(),
            r["payment"].as_str(),
            r["own"].as_str(),
            r["fund_due"].as_str(),
        ];
        assert_eq!(
            got,
            [status, drg, category, weight, standard, payment, own, fund_due],
            "{id}: {}",
            r["rules"]
        );
        paid += dec(payment);
        due += dec(fund_due);
    }
    // Invalid rows: category invalid, no amount, reported.
    for id in ["I1", "I2"] {
        let r = by_id[id];
        assert_eq!(r["category"], "invalid", "{r:?}");
        for c in [
            "weight",
            "standard",
            "total_cost",
            "payment",
            "own",
            "fund_due",
        ] {
            assert_eq!(r[c], "", "{id} {c}");
        }
    }
    let (_, problems) = read_csv(&errors);
    let fields: Vec<(&str, &str)> = problems
        .iter()
        .map(|p| (p["case_id"].as_str(), p["field"].as_str()))
        .collect();
    assert_eq!(fields, [("I1", "gender"), ("I2", "hospital_level")]);
    assert_eq!(problems[0]["line"], "17");

    // The rules say where the level came from.
    assert!(by_id["N2"]["rules"].contains("level 1 from the hospitals file (the row says 3)"));
    assert!(by_id["R1"]["rules"].contains("not in the hospitals file: level 2 from the row"));
    assert!(
        by_id["H1"]["rules"].contains("high-cost"),
        "{}",
        by_id["H1"]["rules"]
    );
    // The rules of the exclusion name the item, its form, validity, both amounts, and why an
    // item failed.
    let rules = |id: &str| by_id[id]["rules"].clone();
    assert!(rules("X1").contains("new_tech_flag = 1 but the case names no item"));
    assert!(
        rules("E2").contains("exclusion item XL04AX-EX008 (drug 罕见病用药（示例，2025-06-30 到期）; form per_item; valid 2024-01-01 to 2025-06-30; scope every group) applies"),
        "{}",
        rules("E2")
    );
    assert!(rules("E2").contains(
        "payment = max(ordinary 38000.00, exclusion 60000.00) = 60000.00, the exclusion payment is larger"
    ));
    assert!(rules("E3").contains(
        "exclusion item C0301-EX003 (item cost 10000.00) does not apply: outside its scope: ADRG FR5 is not in FM1|FM2|FL1|FB1|FB2|FC1"
    ));
    assert!(rules("E4").contains("on the remaining cost: normal: paid the standard 38000.00"));
    assert!(rules("E5").contains("not yet valid: valid from 2025-07-01, discharged 2025-03-01"));
    assert!(rules("E5").contains(
        "XL01XX-ZZ901 (item cost 1000.00) does not apply: not in the approved catalogue (unlisted)"
    ));
    assert!(rules("E6")
        .contains("the ordinary payment is not smaller (category excluded all the same)"));

    // The summary agrees with the rows.
    let table = summary_table(&stderr);
    assert_eq!(table["total"][0], Decimal::from(23));
    assert_eq!(table["invalid"][0], Decimal::from(2));
    assert_eq!(table["invalid"][1], Decimal::ZERO);
    assert_eq!(table["high"][0], Decimal::from(3));
    assert_eq!(table["excluded"][0], Decimal::from(4));
    assert_eq!(table["total"][1], paid);
    assert_eq!(table["total"][4], due);
    assert!(
        stderr.contains("1 case(s) took the level of their row"),
        "{stderr}"
    );
    // The hand-made weights lack most DRGs of the scheme: a warning says so.
    assert!(stderr.contains("have no weight"), "{stderr}");
    let _ = std::fs::remove_dir_all(&dir);
}
