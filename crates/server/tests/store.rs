//! The router over the real store (`drgdip_store::Store`, SQLite in memory): statements,
//! the special-case review and the audit log as the shipped server keeps them.

mod common;

use std::sync::Arc;

use axum::http::StatusCode;
use common::*;
use drgdip_server::{Backend, Limits};
use drgdip_settle::{Action, YearMonth};
use drgdip_store::Store;

/// Whether `drgdip_settle::Action` has the `access_refused` variant the refusals are
/// written with.
fn refusals_are_audited() -> bool {
    serde_json::from_str::<Action>("\"access_refused\"").is_ok()
}

async fn store() -> Store {
    let store = Store::open("sqlite::memory:").await.unwrap();
    let (cases, statements) = seed_data();
    let mut months: Vec<YearMonth> = cases.iter().map(|c| c.discharge_month).collect();
    months.sort();
    months.dedup();
    for m in months {
        let of_month: Vec<_> = cases
            .iter()
            .filter(|c| c.discharge_month == m)
            .cloned()
            .collect();
        let st: Vec<_> = statements
            .iter()
            .filter(|s| s.month == m)
            .cloned()
            .collect();
        store.replace_month(m, &of_month, &st, &[]).await.unwrap();
    }
    store
}

#[tokio::test]
async fn the_statements_and_the_applications_on_the_real_store() {
    if engine().is_none() {
        return;
    }
    let store = store().await;
    let backend: Arc<dyn Backend> = Arc::new(store.clone());
    let app = app_with(backend).unwrap();

    let a = call(
        &app,
        "GET",
        "/v1/statements?month=2025-06",
        Some(H002),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json.as_array().unwrap().len(), 1);
    assert_eq!(a.json[0]["hospital_id"], "H002");
    assert_eq!(a.json[0]["cases"], 40);

    // the special-case review on the real store: tests/special_cases.rs
    let a = call(&app, "GET", "/v1/special-cases", Some(R2), None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert!(a.json["applications"].as_array().unwrap().is_empty());
    let a = call(&app, "GET", "/v1/special-cases/SC-000001", Some(H002), None).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", a.text);
    assert!(refusals_are_audited());
    assert!(store.audit_log(100).await.unwrap().is_empty());
}

/// The header and the first `n` rows of the dev cases discharged in June 2025.
fn june_rows(n: usize) -> String {
    let shared = shared().unwrap();
    let text = std::fs::read_to_string(shared.join("testdata/chs-drg-2.0/dev/cases.csv")).unwrap();
    let mut lines = text.lines();
    let mut out = format!("{}\n", lines.next().unwrap());
    for l in lines.filter(|l| l.contains(",2025-06-")).take(n) {
        out.push_str(l);
        out.push('\n');
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bureau_settles_and_clears_on_the_real_store_and_a_truncated_upload_is_refused() {
    if engine().is_none() {
        return;
    }
    let store = Store::open("sqlite::memory:").await.unwrap();
    let app = app_with(Arc::new(store.clone())).unwrap();
    let month = june_rows(400);

    let a = call(
        &app,
        "POST",
        "/v1/settlements?month=2025-06",
        Some(BUREAU),
        Some(&month),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let j = &a.json;
    assert_eq!(j["month"], "2025-06");
    assert_eq!(j["counts"]["read"], 400);
    assert_eq!(j["counts"]["other_months"], 0);
    let settled = j["counts"]["settled"].as_u64().unwrap();
    assert!(settled > 350, "{}", a.text);
    assert_eq!(j["totals"]["cases"].as_u64(), Some(settled));
    let sum = |key: &str| {
        j["statements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                s[key]
                    .as_str()
                    .unwrap()
                    .parse::<rust_decimal::Decimal>()
                    .unwrap()
            })
            .sum::<rust_decimal::Decimal>()
    };
    assert_eq!(
        sum("amount_due").to_string(),
        j["totals"]["amount_due"].as_str().unwrap()
    );
    assert_eq!(
        j["totals"]["hospitals"].as_u64(),
        Some(j["statements"].as_array().unwrap().len() as u64)
    );
    assert!(j["case_file"]
        .as_str()
        .unwrap()
        .starts_with("upload 2025-06 ("));
    // what the ledger keeps is what the answer says
    let kept = store
        .statements(Some("2025-06".parse().unwrap()), None)
        .await
        .unwrap();
    assert_eq!(kept.iter().map(|s| s.cases).sum::<u64>(), settled);

    // a re-run with a tenth of the rows: refused with the numbers, audited; forced: replaced
    let short = june_rows(40);
    let a = call(
        &app,
        "POST",
        "/v1/settlements?month=2025-06",
        Some(BUREAU),
        Some(&short),
    )
    .await;
    assert_eq!(a.status, StatusCode::CONFLICT, "{}", a.text);
    let message = a.json["message"].as_str().unwrap();
    assert!(message.contains("refused to replace 2025-06"), "{message}");
    assert!(message.contains("fewer than half"), "{message}");
    assert!(
        message.contains("force=true") && !message.contains("--force"),
        "{message}"
    );
    let a = call(
        &app,
        "POST",
        "/v1/settlements?month=2025-06&force=true",
        Some(BUREAU),
        Some(&short),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json["counts"]["read"], 40);
    let forced = a.json["counts"]["settled"].as_u64().unwrap();

    // a case file that cannot be read is a 400 that says why
    let a = call(
        &app,
        "POST",
        "/v1/settlements?month=2025-07",
        Some(BUREAU),
        Some("a,b\n1,2\n"),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.text);

    // the ledger: a hospital sees its own cases of the run
    let a = call(
        &app,
        "GET",
        "/v1/ledger/cases?month=2025-06",
        Some(BUREAU),
        None,
    )
    .await;
    let all = a.json.as_array().unwrap().clone();
    assert_eq!(all.len() as u64, forced);
    assert!(all.iter().all(|c| c["run_id"] == "2"), "{}", a.text);
    let h = all[0]["hospital_id"].as_str().unwrap().to_string();
    let token = match h.as_str() {
        "H001" => H001,
        "H002" => H002,
        _ => BUREAU,
    };
    if token != BUREAU {
        let a = call(&app, "GET", "/v1/ledger/cases?year=2025", Some(token), None).await;
        assert!(a
            .json
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["hospital_id"] == h.as_str()));
    }
    let a = call(&app, "GET", "/v1/ledger/runs", Some(BUREAU), None).await;
    let runs = a.json.as_array().unwrap();
    assert_eq!(runs.len(), 2, "{}", a.text);
    assert_eq!(
        runs[1]["replaced_cases"].as_str(),
        Some(settled.to_string().as_str())
    );
    assert_eq!(runs[1]["actor"], "chief");

    // the year cleared; a year without a settled month refused (409, audited)
    let a = call(&app, "POST", "/v1/clearings?year=2025", Some(BUREAU), None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert!(!a.json["statements"].as_array().unwrap().is_empty());
    assert_eq!(a.json["statements"][0]["year"], 2025);
    let a = call(&app, "POST", "/v1/clearings?year=2019", Some(BUREAU), None).await;
    assert_eq!(a.status, StatusCode::CONFLICT, "{}", a.text);

    let log = store.audit_log(10_000).await.unwrap();
    let has = |action: &str| {
        log.iter()
            .any(|r| r.event.action.as_str() == action && r.event.actor == "chief")
    };
    for action in [
        "settlement.monthly_statement_issued",
        "settlement.month_replacement_refused",
        "settlement.month_replacement_forced",
        "clearing.statement_issued",
        "api.access_refused",
    ] {
        assert!(has(action), "{action}: {log:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upload_limit_is_its_own() {
    if engine().is_none() {
        return;
    }
    let store = Store::open("sqlite::memory:").await.unwrap();
    let month = june_rows(100);
    assert!(month.len() > 4096);
    let limits = Limits {
        max_body: 1024,
        max_upload: 1 << 20,
        ..Limits::default().without_rate_limit()
    };
    let app = app_with_limits(Arc::new(store.clone()), limits.clone()).unwrap();
    let a = call(
        &app,
        "POST",
        "/v1/settlements?month=2025-06",
        Some(BUREAU),
        Some(&month),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let big_case = format!(
        "{{\"gender\":\"1\",\"age\":\"40\",\"diagnoses\":\"C71.003\",\"dept\":\"{}\"}}",
        "x".repeat(2000)
    );
    let a = call(&app, "POST", "/v1/pay", Some(BUREAU), Some(&big_case)).await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", a.text);
    let small = Limits {
        max_upload: 2048,
        ..limits
    };
    let app = app_with_limits(Arc::new(store), small).unwrap();
    let a = call(
        &app,
        "POST",
        "/v1/settlements?month=2025-06",
        Some(BUREAU),
        Some(&month),
    )
    .await;
    assert_eq!(a.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", a.text);
    assert!(
        a.json["message"].as_str().unwrap().contains("--max-upload"),
        "{}",
        a.text
    );
}
