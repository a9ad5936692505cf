//! The special-case review (特例单议) over HTTP on the real store (`drgdip_store::Store`,
//! SQLite in memory), on months settled through the API from the shipped dev cases: a
//! hospital applies with the settled rows of its cases, a second application beyond the
//! region's quota is refused with the numbers, two experts of the registry review (one
//! refused for a conflict of interest, audited), they disagree, the second review decides,
//! the decided approvals flow into the month's settlement, a spot check reverses a case and
//! the reversal is an adjustment on the hospital's next statement (the paid month stays as it
//! was), and the half-yearly notice counts it all.

mod common;

use std::sync::Arc;

use axum::http::StatusCode;
use axum::Router;
use common::{call, engine, shared};
use drgdip_server::{router, AppState, Backend, Limits, Tokens};
use drgdip_settle::{Experts, YearMonth};
use drgdip_store::Store;
use rust_decimal::Decimal;
use serde_json::{json, Value};

const BUREAU: &str = "bureau-token-0123456789";
const H001: &str = "h001-token-0123456789";
const H002: &str = "h002-token-0123456789";
const E001: &str = "e001-token-0123456789"; // 心血管内科, works at H002
const E003: &str = "e003-token-0123456789"; // 普通外科, works at H020
const E009: &str = "e009-token-0123456789"; // 重症医学科, no hospital
const E020: &str = "e020-token-0123456789"; // works at H001
const E027: &str = "e027-token-0123456789"; // 普通外科, no hospital

const TOKENS: &str = r#"
[[token]]
token = "bureau-token-0123456789"
role = "bureau"
user = "chief"

[[token]]
token = "h001-token-0123456789"
role = "hospital"
hospital = "H001"
user = "h001-clerk"

[[token]]
token = "h002-token-0123456789"
role = "hospital"
hospital = "H002"

[[token]]
token = "e001-token-0123456789"
role = "reviewer"
reviewer = "E001"

[[token]]
token = "e003-token-0123456789"
role = "reviewer"
reviewer = "E003"

[[token]]
token = "e009-token-0123456789"
role = "reviewer"
reviewer = "E009"

[[token]]
token = "e020-token-0123456789"
role = "reviewer"
reviewer = "E020"

[[token]]
token = "e027-token-0123456789"
role = "reviewer"
reviewer = "E027"
"#;

/// The router over a fresh SQLite ledger with the shipped experts, or `None` without the
/// shared data.
async fn setup() -> Option<(Router, Store)> {
    let engine = engine()?;
    let shared = shared()?;
    let text = std::fs::read_to_string(shared.join("testdata/chs-drg-2.0/experts.csv")).unwrap();
    let experts = Experts::parse(&text).unwrap();
    let store = Store::open("sqlite::memory:").await.unwrap();
    let backend: Arc<dyn Backend> = Arc::new(store.clone());
    let state = AppState::new(
        engine,
        Tokens::from_toml_str(TOKENS).unwrap(),
        backend,
        Limits::default().without_rate_limit(),
    )
    .with_experts(experts);
    Some((router(Arc::new(state)), store))
}

/// The header and the first `n` rows of the dev cases discharged in `month`.
fn month_rows(month: &str, n: usize) -> String {
    let shared = shared().unwrap();
    let text = std::fs::read_to_string(shared.join("testdata/chs-drg-2.0/dev/cases.csv")).unwrap();
    let mut lines = text.lines();
    let mut out = format!("{}\n", lines.next().unwrap());
    let tag = format!(",{month}-");
    for l in lines.filter(|l| l.contains(&tag)).take(n) {
        out.push_str(l);
        out.push('\n');
    }
    out
}

/// The header and the rows of `ids` of a case file's text.
fn rows_of(text: &str, ids: &[&str]) -> String {
    let mut lines = text.lines();
    let mut out = format!("{}\n", lines.next().unwrap());
    for l in lines.filter(|l| ids.iter().any(|id| l.starts_with(&format!("{id},")))) {
        out.push_str(l);
        out.push('\n');
    }
    out
}

async fn settle(app: &Router, month: &str, rows: &str) -> Value {
    let a = call(
        app,
        "POST",
        &format!("/v1/settlements?month={month}"),
        Some(BUREAU),
        Some(rows),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    a.json
}

fn submit(period: &str, cases: &[&str], records: &str) -> String {
    json!({"period": period, "case_ids": cases, "reason": "high_cost",
           "text": "ECMO for 21 days, costs far above the group", "records": records})
    .to_string()
}

fn opinions(list: &[(&str, Value)]) -> String {
    let list: Vec<Value> = list
        .iter()
        .map(|(c, o)| json!({"case": c, "outcome": o, "reason": "checked the records"}))
        .collect();
    json!({ "opinions": list }).to_string()
}

fn per_item() -> Value {
    json!({"kind": "approved_per_item"})
}

fn rejected() -> Value {
    json!({"kind": "rejected"})
}

fn points(p: &str) -> Value {
    json!({"kind": "approved_extra_points", "points": p})
}

async fn post(app: &Router, uri: &str, token: &str, body: &str) -> common::Answer {
    call(app, "POST", uri, Some(token), Some(body)).await
}

async fn audit_actions(store: &Store) -> Vec<String> {
    store
        .audit_log(10_000)
        .await
        .unwrap()
        .iter()
        .rev()
        .map(|r| r.event.action.as_str().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_review_round_over_http_from_application_to_the_notice() {
    let Some((app, store)) = setup().await else {
        return;
    };
    let april: YearMonth = "2025-04".parse().unwrap();
    let april_rows = month_rows("2025-04", 400);
    let settled = settle(&app, "2025-04", &april_rows).await;
    let region_settled = settled["counts"]["settled"].as_u64().unwrap();
    let mut h001: Vec<_> = store
        .settled_cases(Some(april), Some("H001"))
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.category == drgdip_pay::Category::Normal)
        .collect();
    h001.sort_by(|a, b| a.case_id.cmp(&b.case_id));
    let (k1, k2) = (h001[0].clone(), h001[1].clone());
    let ids = [k1.case_id.as_str(), k2.case_id.as_str()];

    // apply: the settled rows of the two cases
    let a = post(
        &app,
        "/v1/special-cases",
        H001,
        &submit("2025Q2", &ids, &rows_of(&april_rows, &ids)),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    assert_eq!(a.json["application_id"], "SC-000001");
    assert_eq!(a.json["case_ids"], json!(ids));

    // beyond the region's pooled quota: floor(5% × the region's April cases), 2 used
    let cap = region_settled * 5 / 100;
    let more: Vec<&str> = h001[2..]
        .iter()
        .map(|c| c.case_id.as_str())
        .take(cap as usize - 1)
        .collect();
    let a = post(
        &app,
        "/v1/special-cases",
        H001,
        &submit("2025Q2", &more, "case_id\n"),
    )
    .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text);
    let message = a.json["message"].as_str().unwrap();
    for part in [
        format!("{} cases requested", cap - 1),
        format!("{} remaining of the cap {cap}", cap - 2),
        "2 used".to_string(),
        format!("the region's {region_settled} DRG-settled cases"),
    ] {
        assert!(message.contains(&part), "{part}: {message}");
    }

    // the first reviewers: a conflict of interest is refused (409) and audited
    let uri = "/v1/special-cases/SC-000001/assign";
    let a = post(&app, uri, BUREAU, r#"{"reviewer_ids":["E020","E003"]}"#).await;
    assert_eq!(a.status, StatusCode::CONFLICT, "{}", a.text);
    assert!(a.json["message"]
        .as_str()
        .unwrap()
        .contains("works at the applying hospital"));
    assert!(audit_actions(&store)
        .await
        .contains(&"special_case.conflict_of_interest_refused".to_string()));
    let a = post(&app, uri, BUREAU, r#"{"reviewer_ids":["E001"]}"#).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.text);
    let a = post(&app, uri, BUREAU, r#"{"reviewer_ids":["E001","E003"]}"#).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json["first_reviewers"], json!(["E001", "E003"]));

    // the reviewer's view: the record, no hospital, no case id
    let a = call(&app, "GET", "/v1/special-cases/SC-000001", Some(E001), None).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json["view"], "reviewer");
    assert_eq!(a.json["stage"], "first");
    for hidden in ["H001", ids[0], ids[1], "E003", "hospital"] {
        assert!(!a.text.contains(hidden), "{hidden} in {}", a.text);
    }
    let record = &a.json["cases"][0]["record"];
    assert_eq!(a.json["cases"][0]["case"], "SC-000001-01");
    assert_eq!(record["total_cost"], k1.total_cost.to_string());
    assert!(
        !record["diagnoses"][0]["name"].as_str().unwrap().is_empty(),
        "{record}"
    );
    assert!(
        record["standard"].is_string() && record["cost_ratio"].is_string(),
        "{record}"
    );
    assert_eq!(record["ordinary_payment"], k1.payment.to_string());
    // an expert not assigned is refused (403, audited)
    for other in [E009, E020] {
        let a = call(
            &app,
            "GET",
            "/v1/special-cases/SC-000001",
            Some(other),
            None,
        )
        .await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.text);
    }

    // two first reviews that disagree on the second case
    let uri = "/v1/special-cases/SC-000001/review";
    let a = post(
        &app,
        uri,
        E001,
        &opinions(&[("SC-000001-01", per_item()), ("SC-000001-02", per_item())]),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json["state"], "first_review");
    let a = post(
        &app,
        uri,
        E003,
        &opinions(&[("SC-000001-01", per_item()), ("SC-000001-02", rejected())]),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json["state"], "first_reviewed");

    // the second reviewer: never a first reviewer; sees both first reviews, the disagreement
    let assign = "/v1/special-cases/SC-000001/assign";
    let a = post(&app, assign, BUREAU, r#"{"reviewer_ids":["E001"]}"#).await;
    assert_eq!(a.status, StatusCode::CONFLICT, "{}", a.text);
    assert!(a.json["message"]
        .as_str()
        .unwrap()
        .contains("nobody reviews both stages"));
    let a = post(&app, assign, BUREAU, r#"{"reviewer_ids":["E009"]}"#).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let a = call(&app, "GET", "/v1/special-cases/SC-000001", Some(E009), None).await;
    assert_eq!(a.json["stage"], "second");
    assert_eq!(a.json["first_reviews"].as_array().unwrap().len(), 2);
    assert_eq!(a.json["disagreements"], json!(["SC-000001-02"]));
    assert!(
        !a.text.contains("E001") && !a.text.contains("E003"),
        "{}",
        a.text
    );
    // points above max_extra_points (2000) are refused; the second review decides
    let a = post(
        &app,
        uri,
        E009,
        &opinions(&[
            ("SC-000001-01", per_item()),
            ("SC-000001-02", points("2001")),
        ]),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.text);
    assert_eq!(a.json["field"], "opinions[1].outcome.points");
    let a = post(
        &app,
        uri,
        E009,
        &opinions(&[("SC-000001-01", per_item()), ("SC-000001-02", points("50"))]),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json["state"], "decided");

    // the decided approvals flow into the month's settlement
    let again = settle(&app, "2025-04", &april_rows).await;
    assert_eq!(again["counts"]["special"], 2, "{again}");
    let cases = store
        .settled_cases(Some(april), Some("H001"))
        .await
        .unwrap();
    let line = |id: &str| cases.iter().find(|c| c.case_id == id).unwrap().clone();
    assert_eq!(line(ids[0]).category, drgdip_pay::Category::Special);
    assert_eq!(line(ids[1]).category, drgdip_pay::Category::Special);

    // April is paid
    let st = store.statements(Some(april), Some("H001")).await.unwrap()[0].clone();
    let pay = json!({"payments": [{"hospital_id": "H001", "month": "2025-04", "date": st.due_by.to_string(),
        "amount": st.amount_due.to_string(), "reference": "TR-0425"}]});
    let a = post(&app, "/v1/payments", BUREAU, &pay.to_string()).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json["recorded"], 1, "{}", a.text);

    // the spot check: 10% of the 2 decided cases, rounded up: one, drawn with the seed
    let draw = r#"{"half":"2025H1","seed":"20250701"}"#;
    let a = post(&app, "/v1/special-cases/spot-checks", BUREAU, draw).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json["decided_cases"], 2);
    let drawn = a.json["drawn"][0]["case"].as_str().unwrap().to_string();
    assert_eq!(a.json["drawn"].as_array().unwrap().len(), 1);
    let a = post(&app, "/v1/special-cases/spot-checks", BUREAU, draw).await;
    assert_eq!(a.status, StatusCode::CONFLICT, "drawn once: {}", a.text);
    // re-reviewed by an expert who took no part
    let uri = "/v1/special-cases/SC-000001/spot-check";
    let a = post(
        &app,
        uri,
        BUREAU,
        &json!({"case": drawn, "reviewer_id": "E003"}).to_string(),
    )
    .await;
    assert_eq!(a.status, StatusCode::CONFLICT, "{}", a.text);
    let a = post(
        &app,
        uri,
        BUREAU,
        &json!({"case": drawn, "reviewer_id": "E027"}).to_string(),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let a = call(&app, "GET", "/v1/special-cases/SC-000001", Some(E027), None).await;
    assert_eq!(a.json["stage"], "spot_check");
    assert_eq!(a.json["cases"].as_array().unwrap().len(), 1);
    assert!(a.json["first_reviews"].is_null());
    // the reversal: approved → rejected
    let a = post(
        &app,
        "/v1/special-cases/SC-000001/review",
        E027,
        &opinions(&[(drawn.as_str(), rejected())]),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let reversed = if drawn == "SC-000001-01" {
        ids[0]
    } else {
        ids[1]
    };
    let adjustments = store.adjustments(Some("H001")).await.unwrap();
    assert_eq!(adjustments.len(), 1, "{adjustments:?}");
    let (adj, carried) = &adjustments[0];
    assert_eq!(
        (adj.case_id.as_str(), adj.case_month, *carried),
        (reversed, april, None)
    );
    assert_eq!(adj.old_fund_due, line(reversed).fund_due);
    assert_eq!(adj.new_fund_due - adj.old_fund_due, adj.difference);
    assert_ne!(adj.difference, Decimal::ZERO);
    assert!(audit_actions(&store)
        .await
        .contains(&"special_case.spot_check_adjustment".to_string()));

    // the next month's settlement carries it; April stays as it was paid
    let may: YearMonth = "2025-05".parse().unwrap();
    settle(&app, "2025-05", &month_rows("2025-05", 300)).await;
    let st_may = store.statements(Some(may), Some("H001")).await.unwrap()[0].clone();
    assert!(
        st_may.adjustments.iter().any(|a| a.case_id == reversed),
        "{st_may:?}"
    );
    let adjustments = store.adjustments(Some("H001")).await.unwrap();
    assert_eq!(adjustments[0].1, Some(may));
    let st_after = store.statements(Some(april), Some("H001")).await.unwrap()[0].clone();
    assert_eq!(st_after.amount_due, st.amount_due);

    // the hospital sees the final outcome, never a reviewer
    let a = call(&app, "GET", "/v1/special-cases/SC-000001", Some(H001), None).await;
    assert!(!a.text.contains("E0"), "{}", a.text);
    let outcomes = a.json["outcomes"].as_array().unwrap();
    let of =
        |id: &str| outcomes.iter().find(|o| o["case"] == id).unwrap()["outcome"]["kind"].clone();
    assert_eq!(of(reversed), "rejected");

    // the notice: per hospital, the region's totals, the spot checks
    let a = call(
        &app,
        "GET",
        "/v1/special-cases/notice?half=2025H1",
        Some(BUREAU),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    let h1 = a.json["hospitals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["hospital_id"] == "H001")
        .unwrap()
        .clone();
    assert_eq!(
        (
            h1["applications"].as_u64(),
            h1["cases_applied"].as_u64(),
            h1["cases_approved"].as_u64(),
            h1["cases_rejected"].as_u64()
        ),
        (Some(1), Some(2), Some(1), Some(1))
    );
    assert_eq!(
        (h1["spot_checked"].as_u64(), h1["spot_reversed"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(a.json["totals"]["cases_applied"], 2);
    assert_eq!(a.json["spot_check_seeds"], json!([20250701]));
    let a = call(
        &app,
        "GET",
        "/v1/special-cases/notice?half=2025H1",
        Some(E001),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);

    // the listing shows the rounds of the period and the next round
    let a = call(
        &app,
        "GET",
        "/v1/special-cases?period=2025Q2",
        Some(BUREAU),
        None,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json["rounds"][0]["applications_open"], "2025-07-11");
    assert!(a.json["next_round"]["applications_close"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hospital_applies_only_for_its_own_settled_rows_within_the_quota() {
    let Some((app, store)) = setup().await else {
        return;
    };
    let april: YearMonth = "2025-04".parse().unwrap();
    let rows = month_rows("2025-04", 400);
    settle(&app, "2025-04", &rows).await;
    let of = |h: &'static str| {
        let store = store.clone();
        async move {
            let mut v: Vec<String> = store
                .settled_cases(Some(april), Some(h))
                .await
                .unwrap()
                .into_iter()
                .map(|c| c.case_id)
                .collect();
            v.sort();
            v
        }
    };
    let (mine, theirs) = (of("H001").await, of("H002").await);
    // another hospital's case: 403, audited, the answer does not name the other hospital
    let a = post(
        &app,
        "/v1/special-cases",
        H001,
        &submit("2025Q2", &[&theirs[0]], "case_id\n"),
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.text);
    assert!(!a.text.contains("H002"), "{}", a.text);
    let log = store.audit_log(10).await.unwrap();
    assert!(log[0].event.reason.contains("H002"), "{log:?}");
    // a case not settled in the period: 404 naming it
    let a = post(
        &app,
        "/v1/special-cases",
        H001,
        &submit("2025Q3", &[&mine[0]], "case_id\n"),
    )
    .await;
    assert_eq!(
        (a.status, a.json["field"].as_str()),
        (StatusCode::NOT_FOUND, Some("case_ids[0]")),
        "{}",
        a.text
    );
    // records that are not the settled row: 400 naming the line, field and value
    let row = rows_of(&rows, &[&mine[0]]);
    let mut lines: Vec<String> = row.lines().map(str::to_string).collect();
    let mut fields: Vec<String> = lines[1].split(',').map(str::to_string).collect();
    let total = fields.len() - 4; // total_cost,fund_paid,drug_cost,material_cost
    fields[total] = "99999.99".into();
    lines[1] = fields.join(",");
    let a = post(
        &app,
        "/v1/special-cases",
        H001,
        &submit("2025Q2", &[&mine[0]], &lines.join("\n")),
    )
    .await;
    assert_eq!(
        (a.status, a.json["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("records")),
        "{}",
        a.text
    );
    assert!(
        a.json["message"].as_str().unwrap().contains("line 2"),
        "{}",
        a.text
    );
    let a = post(
        &app,
        "/v1/special-cases",
        H001,
        &submit("2025Q2", &[&mine[0], &mine[1]], &row),
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.text);
    assert!(
        a.json["message"]
            .as_str()
            .unwrap()
            .contains(&format!("no row for case {}", mine[1])),
        "{}",
        a.text
    );
    // accepted; the same case again: 409
    let a = post(
        &app,
        "/v1/special-cases",
        H001,
        &submit("2025Q2", &[&mine[0]], &row),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let a = post(
        &app,
        "/v1/special-cases",
        H001,
        &submit("2025Q2", &[&mine[0]], &row),
    )
    .await;
    assert_eq!(
        (a.status, a.json["field"].as_str()),
        (StatusCode::CONFLICT, Some("case_ids[0]")),
        "{}",
        a.text
    );
    // H002 reads neither the application nor withdraws it
    let a = call(&app, "GET", "/v1/special-cases/SC-000001", Some(H002), None).await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = post(
        &app,
        "/v1/special-cases/SC-000001/withdraw",
        H002,
        r#"{"reason":"x"}"#,
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = post(
        &app,
        "/v1/special-cases/SC-000001/withdraw",
        H001,
        r#"{"reason":"not needed"}"#,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text);
    assert_eq!(a.json["state"], "withdrawn");
    // a withdrawn application frees its cases
    let a = post(
        &app,
        "/v1/special-cases",
        H001,
        &submit("2025Q2", &[&mine[0]], &row),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
}
