//! The router over the real store (`drgdip_store::Store`, SQLite in memory): statements,
//! the special-case review and the audit log as the shipped server keeps them.

mod common;

use std::sync::Arc;

use axum::http::StatusCode;
use common::*;
use drgdip_server::Backend;
use drgdip_settle::{Action, YearMonth};
use drgdip_store::Store;
use serde_json::json;

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
async fn the_review_statements_and_refusals_on_the_real_store() {
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

    let body = json!({"period": "2025Q2", "case_ids": ["A06-0001", "A04-0002"], "reason": "long_stay", "text": "62 days in ICU"});
    let a = call(
        &app,
        "POST",
        "/v1/special-cases",
        Some(H001),
        Some(&body.to_string()),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    assert_eq!(a.json["application_id"], "SC-000001");
    let body = json!({"period": "2025Q2", "case_ids": ["A06-0002", "A06-0003", "A06-0004", "A06-0005"], "reason": "long_stay", "text": "x"});
    let a = call(
        &app,
        "POST",
        "/v1/special-cases",
        Some(H001),
        Some(&body.to_string()),
    )
    .await;
    assert_eq!(
        a.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "2 + 4 > 5: {}",
        a.text
    );

    let a = call(
        &app,
        "POST",
        "/v1/special-cases/SC-000001/assign",
        Some(BUREAU),
        Some(r#"{"reviewer_id":"R2"}"#),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let a = call(&app, "GET", "/v1/special-cases", Some(R2), None).await;
    assert_eq!(a.json["applications"][0]["application_id"], "SC-000001");
    assert!(
        !a.text.contains("H001") && !a.text.contains("hospital"),
        "{}",
        a.text
    );

    // refusals
    let a = call(&app, "GET", "/v1/special-cases/SC-000001", Some(H002), None).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = call(&app, "GET", "/v1/special-cases/SC-000001", Some(R1), None).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = call(&app, "POST", "/v1/special-cases", Some(H001), Some(&json!({"period": "2025Q2", "case_ids": ["B06-0009"], "reason": "high_cost", "text": "x"}).to_string())).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);

    let log = store.audit_log(100).await.unwrap();
    let actions: Vec<&str> = log.iter().rev().map(|r| r.event.action.as_str()).collect();
    assert_eq!(
        &actions[..2],
        [
            "special_case.submitted",
            "special_case.first_reviewer_assigned"
        ]
    );
    let a = call(&app, "GET", "/v1/audit?limit=2", Some(BUREAU), None).await;
    assert_eq!(a.json.as_array().unwrap().len(), 2);
    if refusals_are_audited() {
        let refused: Vec<_> = log
            .iter()
            .rev()
            .filter(|r| {
                r.event.action.as_str() != "special_case.submitted"
                    && r.event.action.as_str() != "special_case.first_reviewer_assigned"
            })
            .collect();
        assert_eq!(refused.len(), 3, "{log:?}");
        assert_eq!(
            (
                refused[0].event.actor.as_str(),
                refused[0].event.subject.as_str()
            ),
            ("H002", "SC-000001")
        );
        assert_eq!(
            (
                refused[1].event.actor.as_str(),
                refused[1].event.subject.as_str()
            ),
            ("R1", "SC-000001")
        );
        assert_eq!(
            (
                refused[2].event.actor.as_str(),
                refused[2].event.subject.as_str()
            ),
            ("h001-clerk", "case B06-0009")
        );
        assert!(refused[2].event.reason.contains("H002"));
    } else {
        eprintln!("note: drgdip_settle::Action has no access_refused variant yet: refusals are not in the store's audit log");
        assert_eq!(log.len(), 2);
    }
}
