//! Helpers shared by the end-to-end tests: where the shared data is, running the binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub mod fixture;
pub mod ledger;
pub mod pg;

/// The shared directory (`DRGDIP_SHARED`, else `../shared` beside the repository), or `None`
/// (with a note) when it is absent, so that the tests skip rather than fail on a machine
/// without the data.
pub fn shared() -> Option<PathBuf> {
    let p = std::env::var_os("DRGDIP_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    if p.join("schemes").is_dir() && p.join("testdata/chs-drg-2.0/dev/cases.csv").is_file() {
        Some(p)
    } else {
        eprintln!(
            "note: shared data not found at {}: test skipped",
            p.display()
        );
        None
    }
}

/// Runs `drgdip ARGS` with `--shared`.
pub fn drgdip(shared: &std::path::Path, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_drgdip"))
        .args(args)
        .arg("--shared")
        .arg(shared)
        .output()
        .expect("run drgdip");
    out
}

/// A fresh temporary directory for one test.
pub fn tempdir(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("drgdip-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Reads a CSV into header-keyed rows.
pub fn read_csv(path: &std::path::Path) -> Vec<std::collections::HashMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let h = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            h.iter()
                .zip(rec.iter())
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        })
        .collect()
}

/// The official status words to ours.
pub fn status_en(zh: &str) -> &'static str {
    match zh {
        "分组成功" => "grouped",
        "歧义病案" => "ambiguous",
        "无法入组" => "ungroupable",
        "信息校验不通过" => "invalid",
        _ => "?",
    }
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A CSV file as rows of fields (the header first).
pub fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    r.records()
        .map(|rec| rec.unwrap().iter().map(String::from).collect())
        .collect()
}

/// The removal of `key` (a dotted path) from a TOML table; whether it was there.
fn remove_key(table: &mut toml::Table, key: &str) -> bool {
    let mut parts: Vec<&str> = key.split('.').collect();
    let Some(last) = parts.pop() else {
        return false;
    };
    let mut t = table;
    for p in parts {
        match t.get_mut(p) {
            Some(toml::Value::Table(inner)) => t = inner,
            _ => return false,
        }
    }
    t.remove(last).is_some()
}

/// The shared parameter and hospitals files as this build's readers take them, for `pay`
/// and `settle`. The shared data gained keys and a hospitals column that the readers on
/// this branch do not know yet (another change in flight): while they refuse them, a copy
/// without what they refuse (keys and columns they would not use anyway); once they take
/// the files, the files themselves.
pub fn pay_inputs(shared: &Path, dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let mut params = shared.join("params/region-350100-2025.toml");
    let mut hospitals = shared.join("testdata/chs-drg-2.0/hospitals.csv");
    let weights = dir.join("weights.csv");
    std::fs::write(&weights, "drg,weight\nFR59,1.0000\n").unwrap();
    let probe = dir.join("probe.csv");
    std::fs::write(
        &probe,
        "case_id,hospital_id,gender,age,diagnoses,discharge_date,total_cost,fund_paid\n\
         P1,H001,1,38,I24.001,2025-06-01,100.00,50.00\n",
    )
    .unwrap();
    let out = dir.join("probe-out.csv");
    for _ in 0..60 {
        let o = drgdip(
            shared,
            &[
                "pay",
                "-q",
                "--params",
                p(&params),
                "--hospitals",
                p(&hospitals),
                "--weights",
                p(&weights),
                "-i",
                p(&probe),
                "-o",
                p(&out),
            ],
        );
        if o.status.success() {
            return (params, hospitals, weights);
        }
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        if let Some(at) = err.find(": unknown key") {
            let key = err[..at].rsplit(": ").next().unwrap().to_string();
            let mut table: toml::Table = std::fs::read_to_string(&params).unwrap().parse().unwrap();
            assert!(remove_key(&mut table, &key), "cannot remove {key}: {err}");
            params = dir.join("params.toml");
            std::fs::write(&params, toml::to_string(&table).unwrap()).unwrap();
        } else if let Some(at) = err.find("unknown field `") {
            let rest = &err[at + "unknown field `".len()..];
            let column = &rest[..rest.find('`').unwrap()];
            let table = csv_rows(&hospitals);
            let Some(i) = table[0].iter().position(|h| h == column) else {
                panic!("{err}")
            };
            let mut w = csv::Writer::from_path(dir.join("hospitals.csv")).unwrap();
            for r in &table {
                let kept: Vec<&String> = r
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .map(|(_, f)| f)
                    .collect();
                w.write_record(kept).unwrap();
            }
            w.flush().unwrap();
            hospitals = dir.join("hospitals.csv");
        } else {
            panic!("pay refuses the shared data for another reason:\n{err}");
        }
    }
    panic!("pay still refuses the shared data")
}
