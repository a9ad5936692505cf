//! The largest and strangest figures a user can type, driven through `pay`, `settle` and
//! `clear` (payment-model §12): every run ends with exit status 0 (processed, bad rows
//! reported) or 2 (refused with a message), never 101 (a panic), and never an overflow.

use std::path::Path;
use std::sync::OnceLock;

use proptest::prelude::*;

mod common;

use common::{drgdip, shared, tempdir};

/// Money as a user might type it: bounds, just past them, forms the reader must refuse.
fn money() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("0".to_string()),
        Just("0.00".to_string()),
        Just("0.01".to_string()),
        Just("100000000.00".to_string()),
        Just("100000000.01".to_string()),
        Just("99999999.99".to_string()),
        Just("79228162514264337593543950335".to_string()),
        Just("-79228162514264337593543950335".to_string()),
        Just("1e3".to_string()),
        Just("+5".to_string()),
        Just("-5".to_string()),
        Just("0.001".to_string()),
        Just("".to_string()),
        Just("NaN".to_string()),
        (0u64..10_000_000_000).prop_map(|fen| format!("{}.{:02}", fen / 100, fen % 100)),
    ]
}

/// `new_tech_items` cells: none, listed items at extreme costs, garbage.
fn items() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        money().prop_map(|m| format!("XL01XX-EX001:{m}")),
        money().prop_map(|m| format!("C0302-EX004:{m}|XL01EX-EX002:{m}")),
        Just("UNLISTED:1.00".to_string()),
        Just(":::".to_string()),
    ]
}

struct Fixture {
    shared: std::path::PathBuf,
    params: std::path::PathBuf,
    /// The example parameters with the largest rates and coefficients the reader accepts.
    extreme_params: std::path::PathBuf,
    hospitals: std::path::PathBuf,
    weights: std::path::PathBuf,
    /// Header and the June rows of the dev cases (a template for generated rows).
    header: String,
    rows: Vec<Vec<String>>,
}

fn fixture() -> Option<&'static Fixture> {
    static FIXTURE: OnceLock<Option<Fixture>> = OnceLock::new();
    FIXTURE
        .get_or_init(|| {
            let shared = shared()?;
            let t = shared.join("testdata/chs-drg-2.0");
            let dir = tempdir("extremes");
            let params = shared.join("params/region-350100-2025.toml");
            let weights = dir.join("weights.csv");
            let out = drgdip(
                &shared,
                &[
                    "weights",
                    "--history",
                    t.join("history-2024/cases.csv").to_str()?,
                    "--params",
                    params.to_str()?,
                    "-o",
                    weights.to_str()?,
                    "-q",
                ],
            );
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            // The same region at the edges of the bounded parameters (its relative paths made
            // absolute).
            let text = std::fs::read_to_string(&params).ok()?;
            let extreme = text
                .replace(
                    "base_rate = \"38000.00\"",
                    "base_rate = \"1000000000000000\"",
                )
                .replace("\"3\" = \"1.00\"", "\"3\" = \"10\"")
                .replace("high_extra_share = \"0.90\"", "high_extra_share = \"1\"");
            assert_ne!(
                extreme, text,
                "the example parameters changed: update this test"
            );
            let extreme_params = dir.join("extreme.toml");
            let calendar = shared.join("calendar/cn-holidays.txt");
            let catalogue = shared.join("params/fujian-exclusion-catalogue-2025.csv");
            let extreme = extreme
                .replace(
                    "\"../calendar/cn-holidays.txt\"",
                    &format!("{:?}", calendar.display().to_string()),
                )
                .replace(
                    "\"fujian-exclusion-catalogue-2025.csv\"",
                    &format!("{:?}", catalogue.display().to_string()),
                );
            std::fs::write(&extreme_params, extreme).ok()?;
            let cases = std::fs::read_to_string(t.join("dev/cases.csv")).ok()?;
            let mut lines = cases.lines();
            let header = lines.next()?.to_string();
            let rows = lines
                .filter(|l| l.contains(",2025-06-"))
                .take(40)
                .map(|l| l.split(',').map(str::to_string).collect())
                .collect();
            Some(Fixture {
                shared: shared.clone(),
                params,
                extreme_params,
                hospitals: t.join("hospitals.csv"),
                weights,
                header,
                rows,
            })
        })
        .as_ref()
}

/// Runs drgdip and checks that it ended with 0 or 2 and printed no panic.
fn ends_cleanly(shared: &Path, args: &[&str]) -> i32 {
    let out = drgdip(shared, args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let code = out.status.code().unwrap_or(-1);
    assert!(
        code == 0 || code == 2,
        "drgdip {args:?} ended with {code}:\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "drgdip {args:?}:\n{stderr}");
    assert!(!stderr.contains("overflow"), "drgdip {args:?}:\n{stderr}");
    code
}

fn column(header: &str, name: &str) -> usize {
    header.split(',').position(|h| h == name).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 10, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_largest_values_never_crash_pay_settle_or_clear(
        amounts in proptest::collection::vec((money(), money(), money(), items()), 8..24),
        extreme in any::<bool>(),
    ) {
        let Some(f) = fixture() else { return Ok(()) };
        let dir = tempdir("extremes-run");
        let (c_total, c_fund, c_drug, c_items) = (
            column(&f.header, "total_cost"),
            column(&f.header, "fund_paid"),
            column(&f.header, "drug_cost"),
            column(&f.header, "new_tech_items"),
        );
        let mut text = format!("{}\n", f.header);
        for (i, (total, fund, drug, items)) in amounts.iter().enumerate() {
            let mut row = f.rows[i % f.rows.len()].clone();
            row[0] = format!("X{i:07}");
            row[c_total] = total.clone();
            row[c_fund] = fund.clone();
            row[c_drug] = drug.clone();
            row[c_items] = items.clone();
            text.push_str(&row.join(","));
            text.push('\n');
        }
        let input = dir.join("cases.csv");
        std::fs::write(&input, &text).unwrap();
        let params = if extreme { &f.extreme_params } else { &f.params };
        let s = |p: &Path| p.to_str().unwrap().to_string();
        let (input_s, params_s, hospitals_s, weights_s) =
            (s(&input), s(params), s(&f.hospitals), s(&f.weights));
        let out_s = s(&dir.join("pay.csv"));
        let code = ends_cleanly(&f.shared, &[
            "pay", "--params", &params_s, "--hospitals", &hospitals_s, "--weights", &weights_s,
            "--input", &input_s, "--output", &out_s, "-q",
        ]);
        if code == 0 {
            let paid = std::fs::read_to_string(dir.join("pay.csv")).unwrap();
            prop_assert_eq!(paid.lines().count(), amounts.len() + 1, "rows in = rows out");
        }
        let db = format!("sqlite://{}", dir.join("ledger.db").display());
        ends_cleanly(&f.shared, &[
            "settle", "--month", "2025-06", "--db", &db, "--params", &params_s,
            "--hospitals", &hospitals_s, "--weights", &weights_s, "--input", &input_s, "-q",
        ]);
        ends_cleanly(&f.shared, &[
            "clear", "--year", "2025", "--db", &db, "--params", &params_s,
            "--hospitals", &hospitals_s,
        ]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
