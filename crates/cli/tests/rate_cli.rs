//! End-to-end tests of `[drg].base_rate = "budget"` (payment-model §8): the rate derived from
//! the DRG budget and the history's expected weights. A temporary copy of the shipped
//! parameters with `base_rate = "budget"` (written in the test's directory, never in the
//! repository) is paid over the history itself: Σ of the standards of the counted cases is the
//! total-cost budget within rounding, the total-cost budget is the fund budget over the
//! history's fund share, and every figure says where the rate came from. Every test passes
//! with a note when the shared directory is absent.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use rust_decimal::Decimal;

mod common;

use common::{drgdip, fixture, read_csv, shared, tempdir};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn dec(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap_or_else(|_| panic!("not a decimal: {text:?}"))
}

fn budget_params(shared: &Path, dir: &Path) -> PathBuf {
    let p = fixture::params(shared, dir, "params.toml");
    let text = std::fs::read_to_string(&p).unwrap();
    assert!(text.contains("base_rate = \"38000.00\""));
    let budget = dir.join("budget.toml");
    std::fs::write(
        &budget,
        text.replace("base_rate = \"38000.00\"", "base_rate = \"budget\""),
    )
    .unwrap();
    budget
}

/// The figure after `label` in `text` (up to the next space, comma, parenthesis or colon).
fn figure_after(text: &str, label: &str) -> String {
    let at = text
        .find(label)
        .unwrap_or_else(|| panic!("{label:?} in {text}"));
    text[at + label.len()..]
        .chars()
        .take_while(|c| !matches!(c, ' ' | ',' | '(' | ')' | ':' | '\n'))
        .collect()
}

#[test]
fn a_rate_derived_from_the_budget_spends_the_total_cost_budget_over_the_history() {
    let Some(shared) = shared() else { return };
    let dir = tempdir("rate-budget");
    let params = budget_params(&shared, &dir);
    let hospitals = fixture::hospitals(&shared, &dir);
    let history = shared.join("testdata/chs-drg-2.0/history-2024/cases.csv");
    let out = dir.join("pay.csv");
    let run = drgdip(
        &shared,
        &[
            "pay",
            "--params",
            s(&params),
            "--hospitals",
            s(&hospitals),
            "--history",
            s(&history),
            "-i",
            s(&history),
            "-o",
            s(&out),
            "--trace",
        ],
    );
    let stderr = String::from_utf8_lossy(&run.stderr).to_string();
    assert!(run.status.success(), "{stderr}");
    // the summary names the budget version and the formula
    assert!(
        stderr.contains("derived from budget 2025 version 1: budget / Σ expected weights ("),
        "{stderr}"
    );
    let rate = dec(&figure_after(&stderr, "\nbase rate "));
    let cases: u64 = figure_after(&stderr, "budget / Σ expected weights (")
        .parse()
        .unwrap();
    let total_cost_budget = dec(&figure_after(&stderr, "total-cost budget "));
    let expected_weights = dec(&figure_after(&stderr, ") / Σ expected weights "));
    assert!(rate > Decimal::ZERO);
    assert_eq!(
        rate,
        (total_cost_budget / expected_weights)
            .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
    );

    // the counted cases: grouped, with a weight, not cross-province (paid per item)
    let rows = read_csv(&out);
    let counted: Vec<_> = rows
        .iter()
        .filter(|r| r["status"] == "grouped" && !r["weight"].is_empty())
        .filter(|r| r["category"] != "cross_province")
        .collect();
    assert_eq!(counted.len() as u64, cases);
    // Σ standards = the total-cost budget, within the rounding of the rate (Σ weights × ½ fen)
    // and of each standard (½ fen a case)
    let standards: Decimal = counted.iter().map(|r| dec(&r["standard"])).sum();
    let tolerance = (expected_weights + Decimal::from(cases)) * dec("0.005");
    assert!(
        (standards - total_cost_budget).abs() <= tolerance,
        "Σ standards {standards} vs the total-cost budget {total_cost_budget} (± {tolerance})"
    );
    // the total-cost budget = the DRG fund budget / the history's fund share
    let total: Decimal = counted.iter().map(|r| dec(&r["total_cost"])).sum();
    let own: Decimal = counted.iter().map(|r| dec(&r["own"])).sum();
    let fund_budget = dec("480000000.00");
    assert_eq!(
        total_cost_budget,
        (fund_budget * total / (total - own))
            .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
    );
    // the explanation of a case says the rate was derived
    let rules = &counted[0]["rules"];
    assert!(
        rules.contains(&format!(
            "base rate {rate} (derived from the budget: budget / Σ expected weights)"
        )),
        "{rules}"
    );
}

#[test]
fn base_rate_budget_without_a_history_is_refused_naming_the_key() {
    let Some(shared) = shared() else { return };
    let dir = tempdir("rate-no-history");
    let params = budget_params(&shared, &dir);
    let hospitals = fixture::hospitals(&shared, &dir);
    let weights = dir.join("weights.csv");
    let dev = shared.join("testdata/chs-drg-2.0/dev/cases.csv");
    let history = shared.join("testdata/chs-drg-2.0/history-2024/cases.csv");
    let w = drgdip(
        &shared,
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
    assert!(w.status.success(), "{}", String::from_utf8_lossy(&w.stderr));
    let run = drgdip(
        &shared,
        &[
            "pay",
            "--params",
            s(&params),
            "--hospitals",
            s(&hospitals),
            "--weights",
            s(&weights),
            "-i",
            s(&dev),
            "-o",
            s(&dir.join("pay.csv")),
        ],
    );
    let stderr = String::from_utf8_lossy(&run.stderr).to_string();
    assert!(!run.status.success());
    assert!(
        stderr.contains("drg.base_rate = \"budget\"") && stderr.contains("--history"),
        "{stderr}"
    );
    // any other word is refused naming the key and both forms
    let text = std::fs::read_to_string(&params).unwrap();
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        text.replace("base_rate = \"budget\"", "base_rate = \"from-budget\""),
    )
    .unwrap();
    let run = drgdip(
        &shared,
        &[
            "pay",
            "--params",
            s(&bad),
            "--hospitals",
            s(&hospitals),
            "--history",
            s(&history),
            "-i",
            s(&dev),
            "-o",
            s(&dir.join("pay2.csv")),
        ],
    );
    let stderr = String::from_utf8_lossy(&run.stderr).to_string();
    assert!(!run.status.success());
    assert!(
        stderr.contains("drg.base_rate: expected \"budget\"") && stderr.contains("from-budget"),
        "{stderr}"
    );
}
