//! Helpers of the ledger tests (settle, arrears, DIP year): the shipped files, running the
//! binary and expecting success, a runtime for the store.

use std::path::{Path, PathBuf};

use super::{drgdip, shared};

/// The shipped files the ledger tests read.
pub struct Data {
    pub shared: PathBuf,
    pub params: PathBuf,
    pub hospitals: PathBuf,
    pub cases: PathBuf,
    pub history: PathBuf,
}

/// The shipped DRG region's files, or `None` (with a note) without the shared directory.
pub fn data() -> Option<Data> {
    let shared = shared()?;
    let t = shared.join("testdata/chs-drg-2.0");
    Some(Data {
        params: shared.join("params/region-350100-2025.toml"),
        hospitals: t.join("hospitals.csv"),
        cases: t.join("dev/cases.csv"),
        history: t.join("history-2024/cases.csv"),
        shared,
    })
}

/// A path as an argument.
pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Runs drgdip and expects exit status 0; (stdout, stderr).
pub fn run_ok(shared: &Path, args: &[&str]) -> (String, String) {
    let out = drgdip(shared, args);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        out.status.success(),
        "drgdip {args:?} failed:\n{stderr}\n{stdout}"
    );
    (stdout, stderr)
}

/// Runs `fut` on a runtime of its own.
pub fn block_on<T>(fut: impl std::future::Future<Output = T>) -> T {
    drgdip_store::tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(fut)
}

/// The twelve months of the dev year, `2025-01` … `2025-12`.
pub fn dev_months() -> Vec<String> {
    (1..=12).map(|m| format!("2025-{m:02}")).collect()
}

/// The arguments of `drgdip settle --month M` of `input` into `db`, priced with `params`,
/// the shipped hospitals and `weights`.
pub fn settle_args(
    d: &Data,
    params: &Path,
    weights: &Path,
    db: &str,
    month: &str,
    input: &Path,
) -> Vec<String> {
    [
        "settle",
        "--month",
        month,
        "--db",
        db,
        "--params",
        s(params),
        "--hospitals",
        s(&d.hospitals),
        "--weights",
        s(weights),
        "--input",
        s(input),
    ]
    .iter()
    .map(|a| a.to_string())
    .collect()
}

/// Runs `drgdip settle` with [`settle_args`] and expects success; its stdout (the summary).
pub fn settle_month(
    d: &Data,
    params: &Path,
    weights: &Path,
    db: &str,
    month: &str,
    input: &Path,
) -> String {
    let args = settle_args(d, params, weights, db, month, input);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run_ok(&d.shared, &args).0
}
