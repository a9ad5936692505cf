//! The corrupted upload: every cosmetic row is repaired and grouped as its clean twin, every
//! reject row is `invalid` and named in the errors file by line and field, and no row is lost.
//! An empty `total_cost` (a `bad_cost` reject) is absent, not invalid, for grouping: `group`
//! groups those rows as their clean twins, and `pay`, which needs the cost, rejects them.

mod common;

use std::collections::{HashMap, HashSet};

use common::*;

/// The field each kind of defect must be reported under.
fn field_of(defect: &str) -> &'static str {
    match defect {
        "bad_age" => "age",
        "bad_cost" => "total_cost",
        "bad_gender" => "gender",
        "duplicate_case_id" => "case_id",
        "empty_principal" | "truncated_code" | "unknown_dx" => "diagnoses",
        "unknown_px" => "procedures",
        "extra_columns" | "missing_columns" => "row",
        "garbage_date" => "discharge_date",
        "infant_no_days" => "age_days",
        "neg_los" => "los",
        "not_utf8" => "case_id",
        other => panic!("a defect kind this test does not know: {other}"),
    }
}

#[test]
fn cosmetic_rows_are_repaired_and_reject_rows_reported() {
    let Some(shared) = shared() else { return };
    let dir = shared.join("testdata/chs-drg-2.0/adversarial");
    let out = tempdir("adversarial");
    let (res, err) = (out.join("r.csv"), out.join("e.csv"));
    let o = drgdip(
        &shared,
        &[
            "group",
            "-q",
            "-i",
            dir.join("cases.csv").to_str().unwrap(),
            "-o",
            res.to_str().unwrap(),
            "-e",
            err.to_str().unwrap(),
        ],
    );
    assert!(
        o.status.success(),
        "a file with bad rows is still processed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let expected = read_csv(&dir.join("expected_if_repaired.csv"));
    let got = read_csv(&res);
    // whether each input row's total_cost is empty (some rows are not UTF-8 or have the wrong
    // number of fields: read as bytes)
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(dir.join("cases.csv"))
        .unwrap();
    let at = rdr
        .byte_headers()
        .unwrap()
        .iter()
        .position(|h| h == b"total_cost")
        .unwrap();
    let cost_empty: Vec<bool> = rdr
        .byte_records()
        .map(|r| r.unwrap().get(at).is_some_and(|c| c.is_empty()))
        .collect();
    assert_eq!(cost_empty.len(), expected.len());
    assert_eq!(got.len(), expected.len(), "row count preserved");
    // the manifest names rows by their original case id: row i is A{i:07}
    let manifest: HashMap<String, (String, String)> = read_csv(&dir.join("manifest.csv"))
        .into_iter()
        .map(|r| {
            (
                r["case_id"].clone(),
                (r["defect"].clone(), r["kind"].clone()),
            )
        })
        .collect();
    let mut reported: HashMap<u64, HashSet<String>> = HashMap::new();
    for e in read_csv(&err) {
        reported
            .entry(e["line"].parse().unwrap())
            .or_default()
            .insert(e["field"].clone());
    }
    let (mut cosmetic, mut rejected, mut absent) = (0, 0, 0);
    for (i, (e, g)) in expected.iter().zip(&got).enumerate() {
        let id = format!("A{:07}", i + 1);
        let line = i as u64 + 2;
        // grouping does without the cost: an empty one is no defect of the row for `group`
        let cost_absent = cost_empty[i];
        match manifest.get(&id) {
            Some((defect, kind)) if kind == "reject" && !(defect == "bad_cost" && cost_absent) => {
                rejected += 1;
                assert_eq!(g["status"], "invalid", "{id} ({defect}) must be invalid");
                let fields = reported
                    .get(&line)
                    .unwrap_or_else(|| panic!("{id} ({defect}) not in the errors file"));
                assert!(
                    fields.contains(field_of(defect)),
                    "{id} ({defect}) reported under {fields:?}"
                );
            }
            other => {
                match other {
                    Some((_, kind)) if kind == "reject" => absent += 1,
                    Some(_) => cosmetic += 1,
                    None => {}
                }
                assert!(
                    !reported.contains_key(&line),
                    "{id} is clean or cosmetic but was reported"
                );
                // documented divergence (docs/divergences.md §1): principal procedure 58.5x01 in PJ1
                if e["drg"] == "PQY" && g["drg"] == "PJ19" {
                    continue;
                }
                assert_eq!(
                    (status_en(&e["status"]), e["drg"].as_str()),
                    (g["status"].as_str(), g["drg"].as_str()),
                    "{id} {other:?}"
                );
            }
        }
    }
    assert!(
        cosmetic > 400 && rejected + absent > 600 && absent > 10,
        "{cosmetic} cosmetic, {rejected} rejected, {absent} without a cost"
    );

    // pay needs the cost: every bad_cost row, the empty ones included, is invalid there and
    // reported under total_cost; pay writes one row per input row too
    let (params, hospitals, weights) = pay_inputs(&shared, &out);
    let (paid, pay_err) = (out.join("pay.csv"), out.join("pay-e.csv"));
    let o = drgdip(
        &shared,
        &[
            "pay",
            "-q",
            "--params",
            params.to_str().unwrap(),
            "--hospitals",
            hospitals.to_str().unwrap(),
            "--weights",
            weights.to_str().unwrap(),
            "-i",
            dir.join("cases.csv").to_str().unwrap(),
            "-o",
            paid.to_str().unwrap(),
            "-e",
            pay_err.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let paid = read_csv(&paid);
    assert_eq!(paid.len(), expected.len(), "row count preserved");
    let mut cost_problems: HashMap<u64, String> = HashMap::new();
    for e in read_csv(&pay_err) {
        if e["field"] == "total_cost" {
            cost_problems.insert(e["line"].parse().unwrap(), e["message"].clone());
        }
    }
    let mut empty = 0;
    for (i, row) in paid.iter().enumerate() {
        let id = format!("A{:07}", i + 1);
        if manifest.get(&id).is_some_and(|(d, _)| d == "bad_cost") {
            assert_eq!(row["category"], "invalid", "{id}");
            let message = &cost_problems[&(i as u64 + 2)];
            if cost_empty[i] {
                empty += 1;
                assert_eq!(message, "missing: pay needs the case's per-item cost");
            }
        }
    }
    assert!(empty > 10, "{empty} empty costs");
}

#[test]
fn a_missing_input_file_is_a_clear_error() {
    let Some(shared) = shared() else { return };
    let o = drgdip(
        &shared,
        &["group", "-i", "/nonexistent/cases.csv", "-o", "-"],
    );
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr)
        .contains("cannot open the input file /nonexistent/cases.csv"));
}

#[test]
fn a_missing_shared_directory_is_a_clear_error() {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_drgdip"))
        .args([
            "group",
            "-i",
            "x.csv",
            "-o",
            "-",
            "--shared",
            "/nonexistent/shared",
        ])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("\"/nonexistent/shared\" does not exist"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn an_unknown_scheme_is_a_clear_error() {
    let Some(shared) = shared() else { return };
    let o = drgdip(
        &shared,
        &["group", "-i", "-", "-o", "-", "--scheme", "nowhere-2099"],
    );
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("unknown scheme \"nowhere-2099\"") && e.contains("fujian-2024"),
        "{e}"
    );
}
