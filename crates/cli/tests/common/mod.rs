//! Helpers shared by the end-to-end tests: where the shared data is, running the binary.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

pub mod fixture;

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
