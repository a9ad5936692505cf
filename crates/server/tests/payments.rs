//! `POST /v1/payments` and `GET /v1/arrears` over the real store (`drgdip_store::Store`,
//! SQLite in memory): the bureau records payments (recorded, refused one by one, malformed
//! requests refused whole), the arrears answer to the fen, a hospital sees its own only.

mod common;

use std::sync::Arc;

use axum::http::StatusCode;
use common::*;
use drgdip_server::Backend;
use drgdip_settle::YearMonth;
use drgdip_store::Store;
use rust_decimal::Decimal;
use serde_json::{json, Value};

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

fn dec(v: &Value) -> Decimal {
    v.as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn payments_are_recorded_by_the_bureau_and_the_arrears_answer_to_the_fen() {
    if engine().is_none() {
        return;
    }
    let store = store().await;
    let backend: Arc<dyn Backend> = Arc::new(store.clone());
    let app = app_with(backend).unwrap();
    let statements = store.statements(None, None).await.unwrap();
    let h1 = statements.iter().find(|s| s.hospital_id == "H001").unwrap();
    let h2 = statements.iter().find(|s| s.hospital_id == "H002").unwrap();
    let month = h1.month.to_string();
    let due = h1.due_by.to_string();
    let partial = h1.amount_due - Decimal::new(100_050, 2); // 1000.50 short
    let body = json!({"payments": [
        {"hospital_id": "H001", "month": month, "date": due, "amount": format!("{partial:.2}"), "reference": "TR-1"},
        {"hospital_id": "H001", "month": month, "date": due, "amount": "1000.51", "reference": "TR-2"},
        {"hospital_id": "H001", "month": "2024-01", "date": "2024-03-01", "amount": "5.00", "reference": "TR-3"},
        {"hospital_id": "H001", "month": month, "date": due, "amount": "1.00", "reference": "TR-1"},
        {"hospital_id": "H002", "month": month, "date": "2030-01-01", "amount": "7", "reference": "TR-1"},
    ]});
    let a = call(
        &app,
        "POST",
        "/v1/payments",
        Some(BUREAU),
        Some(&body.to_string()),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(
        (a.json["recorded"].as_u64(), a.json["refused"].as_u64()),
        (Some(2), Some(3))
    );
    let outcomes = a.json["outcomes"].as_array().unwrap();
    let kinds: Vec<&str> = outcomes
        .iter()
        .map(|o| {
            o["refusal"]
                .as_str()
                .unwrap_or(o["outcome"].as_str().unwrap())
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "recorded",
            "overpayment",
            "unknown_statement",
            "duplicate_reference",
            "recorded"
        ]
    );
    assert_eq!(outcomes[0]["outstanding"], "1000.50");
    assert_eq!(outcomes[1]["field"], "payments[1].amount");
    assert!(
        outcomes[1]["message"]
            .as_str()
            .unwrap()
            .contains("what is outstanding on H001/"),
        "{}",
        outcomes[1]
    );
    // TR-1 of H002 is another hospital's reference: fine
    assert_eq!(outcomes[4]["id"], 2);

    // malformed: 400 naming the field, nothing recorded
    for (bad, field) in [
        (
            json!({"payments": [{"hospital_id": "H001", "month": month, "date": due, "amount": "1.234", "reference": "X"}]}),
            "payments[0].amount",
        ),
        (
            json!({"payments": [{"hospital_id": "H001", "month": month, "date": "2025-02-30", "amount": "1", "reference": "X"}]}),
            "payments[0].date",
        ),
        (
            json!({"payments": [{"hospital_id": "H001", "month": "2025-13", "date": due, "amount": "1", "reference": "X"}]}),
            "payments[0].month",
        ),
        (
            json!({"payments": [{"hospital_id": "H001", "month": month, "date": due, "amount": "1", "reference": "a b"}]}),
            "payments[0].reference",
        ),
        (
            json!({"payments": [{"hospital_id": "H001", "month": month, "date": due, "amount": "1", "reference": "X", "extra": 1}]}),
            "payments[0].extra",
        ),
        (json!({"payments": []}), "payments"),
    ] {
        let a = call(
            &app,
            "POST",
            "/v1/payments",
            Some(BUREAU),
            Some(&bad.to_string()),
        )
        .await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.text);
        assert_eq!(a.json["field"], field, "{}", a.text);
    }
    assert_eq!(store.payments(None, None).await.unwrap().len(), 2);

    // only the bureau records
    let a = call(
        &app,
        "POST",
        "/v1/payments",
        Some(H001),
        Some(&body.to_string()),
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);

    // the arrears as of the due date: H001 owes 1000.50 (not yet due), H002 everything; the
    // H002 payment dated 2030 does not count yet
    let a = call(
        &app,
        "GET",
        &format!("/v1/arrears?as_of={due}"),
        Some(BUREAU),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let rows = a.json["rows"].as_array().unwrap();
    let mine = rows.iter().find(|r| r["hospital_id"] == "H001").unwrap();
    assert_eq!(mine["outstanding"], "1000.50");
    assert_eq!(
        (mine["days_overdue"].as_i64(), mine["band"].as_str()),
        (Some(0), Some("not_due"))
    );
    let theirs = rows.iter().find(|r| r["hospital_id"] == "H002").unwrap();
    assert_eq!(dec(&theirs["outstanding"]), h2.amount_due);
    assert_eq!(theirs["paid"], "0.00");
    let total: Decimal = rows.iter().map(|r| dec(&r["outstanding"])).sum();
    assert_eq!(dec(&a.json["total"]["outstanding"]), total);
    assert_eq!(a.json["hospitals"].as_array().unwrap().len(), rows.len());

    // 40 days later, in the 31-90 band; in 2030 H002 is paid 7.00
    let later = h1.due_by.succ();
    let later = (0..39).fold(later, |d, _| d.succ());
    let a = call(
        &app,
        "GET",
        &format!("/v1/arrears?as_of={later}&hospital=H001"),
        Some(BUREAU),
        None,
    )
    .await;
    assert_eq!(a.json["rows"][0]["days_overdue"], 40);
    assert_eq!(a.json["rows"][0]["band"], "31-90");
    assert_eq!(a.json["total"]["by_band"]["31-90"], "1000.50");
    let a = call(
        &app,
        "GET",
        "/v1/arrears?as_of=2030-01-01&hospital=H002",
        Some(BUREAU),
        None,
    )
    .await;
    assert_eq!(a.json["rows"][0]["paid"], "7.00");

    // a hospital: its own only; another's is 403 (audited); a reviewer none
    let a = call(
        &app,
        "GET",
        &format!("/v1/arrears?as_of={due}"),
        Some(H001),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(a.json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["hospital_id"] == "H001"));
    let a = call(
        &app,
        "GET",
        &format!("/v1/arrears?as_of={due}&hospital=H002"),
        Some(H001),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = call(
        &app,
        "GET",
        &format!("/v1/arrears?as_of={due}"),
        Some(R1),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    for (uri, field) in [
        ("/v1/arrears", "as_of"),
        ("/v1/arrears?as_of=2025-02-30", "as_of"),
        ("/v1/arrears?as_of=2025-08-01&all=yes", "all"),
    ] {
        let a = call(&app, "GET", uri, Some(BUREAU), None).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{uri}");
        assert_eq!(a.json["field"], field, "{uri}");
    }
    // every statement with all=true
    let a = call(
        &app,
        "GET",
        "/v1/arrears?as_of=2030-12-31&all=true",
        Some(BUREAU),
        None,
    )
    .await;
    assert_eq!(a.json["rows"].as_array().unwrap().len(), statements.len());

    // the statements show the same standing: H001's statement paid but for 1000.50
    let uri = format!("/v1/statements?month={month}&as_of=2030-12-31");
    let a = call(&app, "GET", &uri, Some(H001), None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let list = a.json.as_array().unwrap();
    assert_eq!(list.len(), 1);
    let standing = &list[0]["standing"];
    assert_eq!(standing["as_of"], "2030-12-31");
    assert_eq!(standing["paid"], format!("{partial:.2}"));
    assert_eq!(standing["outstanding"], "1000.50");
    assert_eq!(standing["band"], ">180");
    assert_eq!(list[0]["adjustments_total"], "0.00");
    assert_eq!(list[0]["adjustments"].as_array().map(Vec::len), Some(0));
    let a = call(
        &app,
        "GET",
        &format!("/v1/statements?month={month}&as_of=2025-02-30"),
        Some(H001),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.text);
    assert_eq!(a.json["field"], "as_of");

    // the audit log: recorded and refused payments, the hospital's refusal
    let log = store.audit_log(100).await.unwrap();
    let actions: Vec<&str> = log.iter().map(|r| r.event.action.as_str()).collect();
    assert_eq!(
        actions.iter().filter(|a| **a == "payment.recorded").count(),
        2
    );
    assert_eq!(
        actions.iter().filter(|a| **a == "payment.refused").count(),
        3
    );
    assert!(log.iter().any(|r| r.event.subject == "arrears of H002"));
}
