//! The budget over HTTP (总额预算) on the real store (SQLite in memory): the versions for the
//! bureau, the execution per month with every line naming its budget version and its figures
//! recomputed here from the statements; a hospital sees its own lines, another hospital's is
//! 403 (audited), a year without a budget 409, a malformed version 400.

mod common;

use std::sync::Arc;

use axum::http::StatusCode;
use common::*;
use drgdip_server::Backend;
use drgdip_settle::{Actor, YearMonth};
use drgdip_store::{Replace, RunInputs, Store};
use rust_decimal::Decimal;

#[tokio::test]
async fn budget_versions_and_execution_over_http() {
    let Some(engine) = engine() else { return };
    let store = Store::open("sqlite::memory:").await.unwrap();
    let (cases, statements) = seed_data();
    let june: YearMonth = "2025-06".parse().unwrap();
    let of_june: Vec<_> = cases
        .into_iter()
        .filter(|c| c.discharge_month == june)
        .collect();
    let inputs = RunInputs {
        method: "drg".into(),
        ..RunInputs::default()
    };
    store
        .settle_month_run(june, &of_june, &statements, &[], Replace::Guarded, &inputs)
        .await
        .unwrap();
    let registered = drgdip_engine::budget::register(
        &store,
        &Actor::bureau("test"),
        engine.params(),
        "sha-of-the-test",
    )
    .await
    .unwrap();
    assert!(registered.new);
    let backend: Arc<dyn Backend> = Arc::new(store.clone());
    let app = app_with(backend).unwrap();
    let get = |token: &'static str, uri: &'static str| {
        let app = app.clone();
        async move { call(&app, "GET", uri, Some(token), None).await }
    };

    let v = get(BUREAU, "/v1/budget/versions?year=2025").await;
    assert_eq!(v.status, StatusCode::OK, "{}", v.text);
    assert_eq!(v.json["versions"][0]["version"], 1);
    assert_eq!(v.json["versions"][0]["drg"], "480000000.00");
    assert_eq!(v.json["versions"][0]["document"], "示医保〔2025〕1号");
    // a hospital does not read the versions (the roles' layer, audited)
    assert_eq!(
        get(H001, "/v1/budget/versions?year=2025").await.status,
        StatusCode::FORBIDDEN
    );

    let e = get(BUREAU, "/v1/budget/execution?year=2025").await;
    assert_eq!(e.status, StatusCode::OK, "{}", e.text);
    assert_eq!(e.json["budget_version"], 1);
    let lines = e.json["lines"].as_array().unwrap();
    assert!(lines.iter().all(|l| l["budget_version"] == 1), "{}", e.text);
    let settled: Decimal = statements
        .iter()
        .map(|s| s.fund_due_total + s.adjustments_total)
        .sum();
    let region = &lines[0];
    assert_eq!(region["hospital_id"], "*");
    assert_eq!(region["month"], "2025-06");
    assert_eq!(region["settled"], format!("{:.2}", settled));
    assert_eq!(region["budget_share"], "40000000.00");
    assert_eq!(lines.len(), 1 + statements.len());
    for s in &statements {
        let line = lines
            .iter()
            .find(|l| l["hospital_id"] == s.hospital_id.as_str())
            .unwrap();
        assert_eq!(
            line["settled"],
            format!("{:.2}", s.fund_due_total + s.adjustments_total)
        );
    }

    // H001 sees its own lines only; H002's is refused
    let own = get(H001, "/v1/budget/execution?year=2025").await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.text);
    let own_lines = own.json["lines"].as_array().unwrap();
    assert_eq!(own_lines.len(), 1, "{}", own.text);
    assert_eq!(own_lines[0]["hospital_id"], "H001");
    let other = get(H001, "/v1/budget/execution?year=2025&hospital=H002").await;
    assert_eq!(other.status, StatusCode::FORBIDDEN, "{}", other.text);
    let audit = store.audit_log(100).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.event.action.as_str() == "api.access_refused"
                && a.event.subject == "budget 2025 of H002"),
        "{audit:?}"
    );

    // no budget of 2024, no version 7, a malformed version
    assert_eq!(
        get(BUREAU, "/v1/budget/execution?year=2024").await.status,
        StatusCode::CONFLICT
    );
    assert_eq!(
        get(BUREAU, "/v1/budget/execution?year=2025&version=7")
            .await
            .status,
        StatusCode::CONFLICT
    );
    let bad = get(BUREAU, "/v1/budget/execution?year=2025&version=0x1").await;
    assert_eq!(
        (bad.status, bad.json["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("version"))
    );
}
