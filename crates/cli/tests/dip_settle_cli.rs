//! A DIP region's year end to end on the shipped data: the library built from the 2024
//! history, the twelve months of the dev cases settled at their provisional point values
//! (`drgdip settle --library`), a payment and the arrears, the year cleared at its solved point
//! value — the local and in-province cases spend the DIP budget within a yuan, cross-province
//! cases stay per item, outside it — and the same year in a second fresh ledger gives the same
//! books. Passes with a note when the shared directory is absent.

use std::path::{Path, PathBuf};

use drgdip_store::Store;
use rust_decimal::Decimal;

mod common;

use common::ledger::{block_on, run_ok, s};
use common::{shared, tempdir};

struct Year {
    cases: Vec<drgdip_settle::SettledCase>,
    statements: Vec<drgdip_settle::MonthlyStatement>,
    clearings: Vec<drgdip_settle::ClearingStatement>,
}

/// Settles the twelve months into `db` and clears the year; returns the books.
fn dip_year(shared: &Path, library: &Path, db: &str) -> (Year, String) {
    let data = shared.join("testdata/chs-drg-2.0");
    let params = shared.join("params/region-350100-2025-dip.toml");
    let hospitals = data.join("hospitals.csv");
    let cases = data.join("dev/cases.csv");
    for m in 1..=12 {
        let month = format!("2025-{m:02}");
        let (_, err) = run_ok(
            shared,
            &[
                "settle",
                "--month",
                &month,
                "--params",
                s(&params),
                "--hospitals",
                s(&hospitals),
                "--library",
                s(library),
                "--input",
                s(&cases),
                "--db",
                db,
            ],
        );
        assert!(
            err.contains("DIP: monthly provisional point value"),
            "{err}"
        );
    }
    let (out, _) = run_ok(
        shared,
        &[
            "clear",
            "--year",
            "2025",
            "--params",
            s(&params),
            "--hospitals",
            s(&hospitals),
            "--library",
            s(library),
            "--db",
            db,
            "--today",
            "2026-03-31",
            "-q",
        ],
    );
    let year = block_on(async {
        let store = Store::open(db).await.unwrap();
        let y = Year {
            cases: store.settled_cases(None, None).await.unwrap(),
            statements: store.statements(None, None).await.unwrap(),
            clearings: store.clearings(2025, None).await.unwrap(),
        };
        store.close().await;
        y
    });
    (year, out)
}

#[test]
fn a_dip_year_settles_monthly_and_clears_spending_its_budget_within_a_yuan() {
    let Some(shared) = shared() else { return };
    let dir = tempdir("dip-year");
    let library: PathBuf = dir.join("lib-2025");
    let params = shared.join("params/region-350100-2025-dip.toml");
    run_ok(
        &shared,
        &[
            "dip",
            "build",
            "--history",
            s(&shared.join("testdata/chs-drg-2.0/history-2024/cases.csv")),
            "--params",
            s(&params),
            "--output",
            s(&library),
            "-q",
        ],
    );
    let db1 = format!("sqlite://{}", dir.join("one.db").display());
    let (one, out) = dip_year(&shared, &library, &db1);
    assert!(out.contains("DIP: year's point value"), "{out}");
    assert!(!out.contains("DOES NOT BALANCE"), "{out}");
    assert_eq!(out.matches(": ok\n").count(), 3, "{out}");

    // every month's statements are the sums of their published case lines
    assert_eq!(one.statements.len(), 12 * 40);
    for st in &one.statements {
        let lines: Decimal = one
            .cases
            .iter()
            .filter(|c| c.hospital_id == st.hospital_id && c.discharge_month == st.month)
            .map(|c| c.fund_due)
            .sum();
        assert_eq!(st.fund_due_total, lines, "{}", st.subject());
    }
    // what priced each case: DIP groups, insured classes; cross-province per item, no score
    assert!(one.cases.iter().all(|c| !c.pricing.scheme.is_empty()));
    let cross: Vec<_> = one
        .cases
        .iter()
        .filter(|c| c.pricing.insured.as_str() == "cross_province")
        .collect();
    assert!(!cross.is_empty());
    assert!(cross
        .iter()
        .all(|c| c.dip_score.is_none() && c.payment == c.total_cost));
    // the year spends the DIP budget: Σ entitled of the local and in-province cases (every
    // hospital's entitled minus its cross-province cases, which are cleared as settled)
    let budget: Decimal = "480000000.00".parse().unwrap();
    let entitled: Decimal = one.clearings.iter().map(|c| c.entitled).sum();
    let cross_due: Decimal = cross.iter().map(|c| c.fund_due).sum();
    let spent = entitled - cross_due;
    assert!(
        (spent - budget).abs() <= Decimal::ONE,
        "Σ fund_due of the pool {spent} vs the budget {budget}"
    );

    // the same year into a second fresh ledger: identical books
    let db2 = format!("sqlite://{}", dir.join("two.db").display());
    let (two, _) = dip_year(&shared, &library, &db2);
    assert_eq!(one.cases, two.cases);
    assert_eq!(one.statements, two.statements);
    let strip = |v: &[drgdip_settle::ClearingStatement]| -> Vec<String> {
        v.iter().map(|c| c.summary()).collect()
    };
    assert_eq!(strip(&one.clearings), strip(&two.clearings));
    std::fs::remove_dir_all(&dir).ok();
}
