//! End-to-end tests of `drgdip budget …` (总额预算, payment-model §8) on the shipped parameter
//! file and two months of the dev cases settled into a fresh ledger: versions immutable once
//! stored, an adjustment a new version with its approval and audit events, and the execution
//! and forecast recomputed here from the ledger's statements, every line naming its version.
//! On SQLite, and on PostgreSQL when `DRGDIP_TEST_PG_URL` is set. Skipped with a note when
//! the shared directory is absent.

use std::collections::BTreeMap;
use std::path::Path;

use drgdip_store::Store;
use rust_decimal::Decimal;

mod common;

use common::ledger::{block_on, data, run_ok, s, settle_month, Data};
use common::pg::{drop_pg_schema, pg_schema};
use common::{drgdip, tempdir};

fn refused(shared: &Path, args: &[&str]) -> String {
    let out = drgdip(shared, args);
    assert!(!out.status.success(), "drgdip {args:?} succeeded");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn dec(t: &str) -> Decimal {
    t.parse().unwrap()
}

fn round_fen(x: Decimal) -> Decimal {
    x.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
}

/// The dev cases discharged in January and February 2025 (a short file: seconds, not minutes).
fn two_months(d: &Data, dir: &Path) -> std::path::PathBuf {
    let text = std::fs::read_to_string(&d.cases).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let at = header
        .split(',')
        .position(|c| c == "discharge_date")
        .unwrap();
    let mut out = format!("{header}\n");
    for l in lines {
        let f: Vec<&str> = l.split(',').collect();
        if f.get(at)
            .is_some_and(|v| v.starts_with("2025-01") || v.starts_with("2025-02"))
        {
            out.push_str(l);
            out.push('\n');
        }
    }
    let path = dir.join("cases-2025-01-02.csv");
    std::fs::write(&path, out).unwrap();
    path
}

fn budget_year(d: &Data, db: &str, dir: &Path, cases: &Path, weights: &Path) {
    let sh = d.shared.as_path();
    let p = s(&d.params);
    let out = run_ok(sh, &["budget", "register", "--params", p, "--db", db]).0;
    assert!(out.starts_with("registered budget 2025 version 1"), "{out}");
    assert!(
        out.contains("inpatient.drg              480000000.00"),
        "{out}"
    );
    // the same file again: nothing changes
    let out = run_ok(sh, &["budget", "register", "--params", p, "--db", db]).0;
    assert!(
        out.contains("already registered with these figures"),
        "{out}"
    );
    // other figures under the stored version number: refused
    let text = std::fs::read_to_string(&d.params).unwrap();
    let other = text
        .replace("drg = \"480000000.00\"", "drg = \"470000000.00\"")
        .replace("per_item = \"230000000.00\"", "per_item = \"240000000.00\"");
    assert_ne!(other, text);
    let other_path = dir.join("other-budget.toml");
    std::fs::write(&other_path, other).unwrap();
    let e = refused(
        sh,
        &["budget", "register", "--params", s(&other_path), "--db", db],
    );
    assert!(e.contains("budget 2025 version 1 is already stored"), "{e}");

    // an adjustment needs its approval and figures that add up
    let adjust = |extra: &[&str]| {
        let mut a = vec![
            "budget",
            "adjust",
            "--year",
            "2025",
            "--reason",
            "年中调整: 按床日转DRG",
            "--approved-by",
            "示例统筹区医保局",
            "--approved-on",
            "2025-07-01",
            "--db",
            db,
        ];
        a.extend_from_slice(extra);
        a.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let args = adjust(&["--document", "", "--drg", "500000000.00"]);
    let e = refused(sh, &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(e.contains("needs its approval"), "{e}");
    let args = adjust(&["--document", "示医保〔2025〕9号", "--drg", "500000000.00"]);
    let e = refused(sh, &args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(e.contains("differs from outpatient"), "{e}");
    let args = adjust(&[
        "--document",
        "示医保〔2025〕9号",
        "--drg",
        "500000000.00",
        "--per-diem",
        "70000000.00",
    ]);
    let out = run_ok(sh, &args.iter().map(String::as_str).collect::<Vec<_>>()).0;
    assert!(
        out.starts_with("adjusted budget 2025 to version 2 (from version 1)"),
        "{out}"
    );

    // every version stays readable
    let out = run_ok(sh, &["budget", "show", "--year", "2025", "--db", db]).0;
    assert!(out.contains("budget 2025 version 1\n"), "{out}");
    assert!(
        out.contains("budget 2025 version 2 (adjusts version 1)"),
        "{out}"
    );
    let v1 = run_ok(
        sh,
        &[
            "budget",
            "show",
            "--year",
            "2025",
            "--version",
            "1",
            "--db",
            db,
        ],
    )
    .0;
    assert!(
        v1.contains("inpatient.drg              480000000.00"),
        "{v1}"
    );
    assert!(!v1.contains("version 2"), "{v1}");

    // two months settled
    for m in ["2025-01", "2025-02"] {
        settle_month(d, Path::new(p), weights, db, m, cases);
    }
    // the execution, recomputed from the ledger's statements
    let statements = block_on(async {
        let store = Store::open(db).await.unwrap();
        let st = store.statements(None, None).await.unwrap();
        let audit = store.audit_log(1000).await.unwrap();
        store.close().await;
        (st, audit)
    });
    let (statements, audit) = statements;
    let actions: Vec<&str> = audit.iter().map(|a| a.event.action.as_str()).collect();
    assert_eq!(
        actions.iter().filter(|a| a.starts_with("budget.")).count(),
        2,
        "{actions:?}"
    );
    assert!(actions.contains(&"budget.registered") && actions.contains(&"budget.adjusted"));
    let mut by_month: BTreeMap<String, Decimal> = BTreeMap::new();
    let mut by_hospital: BTreeMap<(String, String), Decimal> = BTreeMap::new();
    for st in &statements {
        let x = st.fund_due_total + st.adjustments_total;
        *by_month.entry(st.month.to_string()).or_default() += x;
        by_hospital.insert((st.month.to_string(), st.hospital_id.clone()), x);
    }
    assert_eq!(by_month.len(), 2);
    for (version, drg) in [("2", dec("500000000.00")), ("1", dec("480000000.00"))] {
        let csv = run_ok(
            sh,
            &[
                "budget",
                "execution",
                "--year",
                "2025",
                "--version",
                version,
                "--format",
                "csv",
                "--db",
                db,
            ],
        )
        .0;
        let mut lines = csv.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
        let mut cum = Decimal::ZERO;
        let (mut regions, mut hospitals) = (0, 0);
        for (k, line) in lines.enumerate() {
            let f: Vec<&str> = line.split(',').collect();
            assert_eq!(f[col("budget_version")], version, "{line}");
            let month = f[col("month")].to_string();
            if f[col("hospital_id")] == "*" {
                regions += 1;
                let settled = by_month[&month];
                cum += settled;
                assert_eq!(dec(f[col("settled")]), round_fen(settled), "{line}");
                assert_eq!(
                    dec(f[col("budget_share")]),
                    round_fen(drg / dec("12")),
                    "{line}"
                );
                assert_eq!(
                    dec(f[col("cumulative_share")]),
                    round_fen(drg * Decimal::from(k as u32 + 1) / dec("12")),
                    "{line}"
                );
                assert_eq!(dec(f[col("cumulative_settled")]), round_fen(cum), "{line}");
            } else {
                hospitals += 1;
                let h = by_hospital[&(month, f[col("hospital_id")].to_string())];
                assert_eq!(dec(f[col("settled")]), round_fen(h), "{line}");
            }
        }
        assert_eq!((regions, hospitals), (2, by_hospital.len()));
        // the forecast: the run rate of the two months
        let out = run_ok(
            sh,
            &[
                "budget",
                "forecast",
                "--year",
                "2025",
                "--version",
                version,
                "--db",
                db,
            ],
        )
        .0;
        let year_end = round_fen(cum * dec("12") / dec("2"));
        assert!(
            out.contains(&format!(
                "2025 drg budget version {version}: 2 months settled {}, year-end forecast {year_end}, budget {drg}",
                round_fen(cum)
            )),
            "{out}"
        );
    }
    // a hospital's view: its lines only
    let csv = run_ok(
        sh,
        &[
            "budget",
            "execution",
            "--year",
            "2025",
            "--hospital",
            "H001",
            "--format",
            "csv",
            "--db",
            db,
        ],
    )
    .0;
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 2, "{csv}");
    assert!(rows.iter().all(|r| r.contains(",H001,")), "{csv}");
    // a version that was never stored
    let e = refused(
        sh,
        &[
            "budget",
            "show",
            "--year",
            "2025",
            "--version",
            "9",
            "--db",
            db,
        ],
    );
    assert!(e.contains("has no version 9"), "{e}");
}

#[test]
fn budget_versions_are_immutable_and_every_execution_figure_names_its_version() {
    let Some(d) = data() else { return };
    let dir = tempdir("budget");
    let cases = two_months(&d, &dir);
    let weights = dir.join("weights.csv");
    run_ok(
        &d.shared,
        &[
            "weights",
            "--history",
            s(&d.history),
            "--params",
            s(&d.params),
            "-o",
            s(&weights),
            "-q",
        ],
    );
    let lite = format!("sqlite://{}", dir.join("ledger.db").display());
    budget_year(&d, &lite, &dir, &cases, &weights);
    match std::env::var("DRGDIP_TEST_PG_URL") {
        Ok(base) if !base.is_empty() => {
            let (schema, pg) = pg_schema(&base, "budget");
            budget_year(&d, &pg, &dir, &cases, &weights);
            drop_pg_schema(&base, &schema);
        }
        _ => eprintln!("note: DRGDIP_TEST_PG_URL not set: the budget is not checked on PostgreSQL"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}
