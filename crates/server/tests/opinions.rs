//! The opinions channel over HTTP (意见收集反馈) on the real store (SQLite in memory): a
//! hospital submits, the bureau classifies, forwards, answers and closes, the submitter reads
//! the answer, another hospital and a reviewer are refused (403, audited), a step the status
//! does not allow is 409, a malformed field 400.

mod common;

use std::sync::Arc;

use axum::http::StatusCode;
use common::*;
use drgdip_server::Backend;
use drgdip_store::Store;
use serde_json::json;

#[tokio::test]
async fn an_opinion_s_life_over_http() {
    if engine().is_none() {
        return;
    }
    let store = Store::open("sqlite::memory:").await.unwrap();
    let backend: Arc<dyn Backend> = Arc::new(store.clone());
    let app = app_with(backend).unwrap();
    let post = |token: &'static str, uri: String, body: serde_json::Value| {
        let app = app.clone();
        async move { call(&app, "POST", &uri, Some(token), Some(&body.to_string())).await }
    };
    let get = |token: &'static str, uri: String| {
        let app = app.clone();
        async move { call(&app, "GET", &uri, Some(token), None).await }
    };

    // H001 submits; a grouping opinion names its group
    let a = post(
        H001,
        "/v1/opinions".into(),
        json!({"topic": "grouping", "about": "GB25", "text": "胃切除术病例多入组GB25", "author": "林医生"}),
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{}", a.text);
    let id = a.json["id"].as_str().unwrap().to_string();
    assert_eq!(id, "OP-000001");
    assert_eq!(a.headers["location"], "/v1/opinions/OP-000001");
    assert_eq!(a.json["submitted_by"], "h001-clerk");
    assert_eq!(a.json["status"], "submitted");
    let bad = post(
        H001,
        "/v1/opinions".into(),
        json!({"topic": "grouping", "text": "x"}),
    )
    .await;
    assert_eq!(
        (bad.status, bad.json["field"].as_str()),
        (StatusCode::CONFLICT, Some("about"))
    );
    let bad = post(
        H001,
        "/v1/opinions".into(),
        json!({"topic": "prices", "text": "x"}),
    )
    .await;
    assert_eq!(
        (bad.status, bad.json["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("topic"))
    );
    let bad = post(
        H001,
        "/v1/opinions".into(),
        json!({"topic": "other", "text": "a\u{0}b"}),
    )
    .await;
    assert_eq!(
        (bad.status, bad.json["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("text"))
    );
    // the bureau does not submit (403, audited)
    let r = post(
        BUREAU,
        "/v1/opinions".into(),
        json!({"topic": "other", "text": "x"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);

    // another hospital and a reviewer cannot read it; H001 can
    assert_eq!(
        get(H002, format!("/v1/opinions/{id}")).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get(R1, format!("/v1/opinions/{id}")).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        get(H001, format!("/v1/opinions/{id}")).await.status,
        StatusCode::OK
    );
    assert_eq!(
        get(H001, "/v1/opinions/OP-999999".into()).await.status,
        StatusCode::NOT_FOUND
    );
    let list = get(H002, "/v1/opinions?hospital=H001".into()).await;
    assert_eq!(list.status, StatusCode::FORBIDDEN);
    let list = get(H002, "/v1/opinions".into()).await;
    assert_eq!(list.json["opinions"].as_array().map(Vec::len), Some(0));

    // the bureau's steps; a hospital takes none
    let steps = format!("/v1/opinions/{id}/steps");
    let r = post(H001, steps.clone(), json!({"step": "close"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = post(
        BUREAU,
        steps.clone(),
        json!({"step": "classify", "topic": "grouping", "level": "provincial"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(
        (r.json["status"].as_str(), r.json["level"].as_str()),
        (Some("classified"), Some("provincial"))
    );
    let r = post(
        BUREAU,
        steps.clone(),
        json!({"step": "answer", "text": "no"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text);
    let r = post(BUREAU, steps.clone(), json!({"step": "forward"})).await;
    assert_eq!(
        (r.status, r.json["field"].as_str()),
        (StatusCode::CONFLICT, Some("channel"))
    );
    let r = post(
        BUREAU,
        steps.clone(),
        json!({"step": "forward", "channel": "闽医保函〔2025〕12号"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert_eq!(r.json["forwarded_to"], "provincial");
    let r = post(
        BUREAU,
        steps.clone(),
        json!({"step": "answer", "text": "省局答复"}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = post(
        BUREAU,
        steps.clone(),
        json!({"step": "close", "text": "已答复"}),
    )
    .await;
    assert_eq!(r.json["status"], "closed");
    assert_eq!(
        post(
            BUREAU,
            "/v1/opinions/OP-000404/steps".into(),
            json!({"step": "close"})
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );

    // the submitter reads the answer
    let mine = get(H001, "/v1/opinions".into()).await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.text);
    let o = &mine.json["opinions"][0];
    assert_eq!(
        (o["answer"].as_str(), o["answer_from"].as_str()),
        (Some("省局答复"), Some("provincial"))
    );
    assert_eq!(mine.json["by_status"]["closed"], 1);
    let dated = get(BUREAU, "/v1/opinions?from=2000-01-01&to=2000-12-31".into()).await;
    assert_eq!(dated.json["opinions"].as_array().map(Vec::len), Some(0));
    let since = get(BUREAU, "/v1/opinions?from=2000-01-01".into()).await;
    assert_eq!(since.json["opinions"].as_array().map(Vec::len), Some(1));
    let bad = get(BUREAU, "/v1/opinions?to=2025-02-30".into()).await;
    assert_eq!(
        (bad.status, bad.json["field"].as_str()),
        (StatusCode::BAD_REQUEST, Some("to"))
    );

    // the audit log: every step, every refusal
    let log = store.audit_log(100).await.unwrap();
    let actions: Vec<&str> = log.iter().map(|r| r.event.action.as_str()).collect();
    for a in [
        "opinion.submitted",
        "opinion.classified",
        "opinion.forwarded",
        "opinion.answered",
        "opinion.closed",
    ] {
        assert!(actions.contains(&a), "{a}: {actions:?}");
    }
    assert!(
        log.iter()
            .filter(|r| r.event.action.as_str() == "api.access_refused")
            .count()
            >= 5
    );
}
