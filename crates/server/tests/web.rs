//! The web app's rules over plain HTTP (no browser): sign-in gives an `HttpOnly;
//! SameSite=Strict` session cookie with a new id, sign-out ends it; a POST without the
//! session's CSRF token is 403 and audited; another hospital's statement, a page of another
//! role and another user's job are 403 pages, audited through the API's refusal.

mod common;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use common::{engine, TOKENS};
use drgdip_server::{router, AppState, Backend, Limits, Tokens};
use drgdip_store::Store;
use http_body_util::BodyExt;
use tower::ServiceExt;

async fn setup() -> Option<(Router, Store)> {
    let engine = engine()?;
    let store = Store::open("sqlite::memory:").await.unwrap();
    let backend: Arc<dyn Backend> = Arc::new(store.clone());
    let state = AppState::new(
        engine,
        Tokens::from_toml_str(TOKENS).unwrap(),
        backend,
        Limits::default().without_rate_limit(),
    );
    Some((router(Arc::new(state)), store))
}

struct Page {
    status: StatusCode,
    cookie: Option<String>,
    location: Option<String>,
    text: String,
}

async fn send(
    app: &Router,
    method: &str,
    uri: &str,
    cookie: Option<&str>,
    form: Option<&str>,
) -> Page {
    let mut b = Request::builder().method(method).uri(uri);
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, format!("drgdip_session={c}"));
    }
    if form.is_some() {
        b = b.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    }
    let req = b.body(Body::from(form.unwrap_or("").to_string())).unwrap();
    let r = app.clone().oneshot(req).await.unwrap();
    let h = |n| {
        r.headers()
            .get(n)
            .map(|v: &header::HeaderValue| v.to_str().unwrap().to_string())
    };
    let (cookie, location) = (h(header::SET_COOKIE), h(header::LOCATION));
    let status = r.status();
    let text =
        String::from_utf8(r.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    Page {
        status,
        cookie,
        location,
        text,
    }
}

fn session_of(set_cookie: &str) -> String {
    set_cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("drgdip_session=")
        .to_string()
}

fn csrf_of(text: &str) -> String {
    let at = text.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    text[at..at + 64].to_string()
}

/// Signs in with `token`: the session id and its CSRF token.
async fn sign_in(app: &Router, token: &str) -> (String, String) {
    let form = send(app, "GET", "/login", None, None).await;
    let anon = session_of(form.cookie.as_deref().unwrap());
    let csrf = csrf_of(&form.text);
    let body = format!("csrf={csrf}&token={token}");
    let r = send(app, "POST", "/login", Some(&anon), Some(&body)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let id = session_of(r.cookie.as_deref().unwrap());
    assert_ne!(id, anon, "sign-in gives a new session id");
    let home = send(app, "GET", "/", Some(&id), None).await;
    assert_eq!(home.status, StatusCode::OK);
    (id, csrf_of(&home.text))
}

async fn refusals(store: &Store) -> Vec<String> {
    store
        .audit_log(1000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| {
            format!(
                "{} | {} | {} | {}",
                e.event.actor,
                e.event.action.as_str(),
                e.event.subject,
                e.event.reason
            )
        })
        .collect()
}

#[tokio::test]
async fn sign_in_gives_a_strict_http_only_session_and_sign_out_ends_it() {
    let Some((app, _)) = setup().await else {
        return;
    };
    // without a session: the sign-in page
    let r = send(&app, "GET", "/", None, None).await;
    assert_eq!(
        (r.status, r.location.as_deref()),
        (StatusCode::SEE_OTHER, Some("/login"))
    );
    let form = send(&app, "GET", "/login", None, None).await;
    let set = form.cookie.clone().unwrap();
    for part in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(set.contains(part), "{part}: {set}");
    }
    // an unknown token
    let anon = session_of(&set);
    let body = format!("csrf={}&token=not-a-token-0123456789", csrf_of(&form.text));
    let r = send(&app, "POST", "/login", Some(&anon), Some(&body)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    let (id, csrf) = sign_in(&app, common::H001).await;
    let home = send(&app, "GET", "/", Some(&id), None).await;
    assert!(home.text.contains("hospital H001"), "{}", home.text);
    assert!(home.text.contains("/cases") && !home.text.contains("/audit"));
    // sign-out needs the CSRF token too
    let r = send(&app, "POST", "/logout", Some(&id), Some("")).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = send(
        &app,
        "POST",
        "/logout",
        Some(&id),
        Some(&format!("csrf={csrf}")),
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.cookie.unwrap().contains("Max-Age=0"));
    let r = send(&app, "GET", "/", Some(&id), None).await;
    assert_eq!(r.location.as_deref(), Some("/login"), "the session is gone");
}

#[tokio::test]
async fn a_post_without_its_csrf_token_is_refused_and_audited() {
    let Some((app, store)) = setup().await else {
        return;
    };
    // the sign-in form without its token
    let r = send(
        &app,
        "POST",
        "/login",
        None,
        Some(&format!("token={}", common::H001)),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let (id, csrf) = sign_in(&app, common::H001).await;
    let case =
        "case_id=W1&gender=1&age=63&diagnoses=I21.000&los=8&total_cost=23000&fund_paid=15000";
    for bad in [case.to_string(), format!("csrf={}&{case}", "0".repeat(64))] {
        let r = send(&app, "POST", "/cases/one", Some(&id), Some(&bad)).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
        assert!(r.text.contains("CSRF"), "{}", r.text);
    }
    let log = refusals(&store).await;
    let csrf_refusals = log
        .iter()
        .filter(|l| l.contains("POST /cases/one") && l.contains("CSRF"))
        .count();
    assert_eq!(csrf_refusals, 2, "{log:#?}");
    // with it: the case priced and explained
    let r = send(
        &app,
        "POST",
        "/cases/one",
        Some(&id),
        Some(&format!("csrf={csrf}&{case}")),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(
        r.text.contains("分组说明") && r.text.contains("class=\"drg\""),
        "{}",
        r.text
    );
}

#[tokio::test]
async fn another_hospitals_statement_another_roles_page_and_another_users_job_are_403_audited() {
    let Some((app, store)) = setup().await else {
        return;
    };
    let (h1, _) = sign_in(&app, common::H001).await;
    let r = send(&app, "GET", "/statements?hospital=H001", Some(&h1), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = send(&app, "GET", "/statements?hospital=H002", Some(&h1), None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(
        r.text.contains("无权访问") && r.text.contains("audit log"),
        "{}",
        r.text
    );
    let r = send(&app, "GET", "/audit", Some(&h1), None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let (rv, _) = sign_in(&app, common::R1).await;
    let r = send(&app, "GET", "/statements", Some(&rv), None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let log = refusals(&store).await;
    assert!(
        log.iter()
            .any(|l| l.starts_with("h001-clerk") && l.contains("statements of H002")),
        "{log:#?}"
    );
    assert!(
        log.iter()
            .any(|l| l.starts_with("h001-clerk") && l.contains("/audit")),
        "{log:#?}"
    );
    assert!(
        log.iter()
            .any(|l| l.starts_with("R1") && l.contains("/statements")),
        "{log:#?}"
    );

    // a job is its owner's
    let (b, csrf) = sign_in(&app, common::BUREAU).await;
    let boundary = "XyZ";
    let body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"month\"\r\n\r\n2025-06\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"c.csv\"\r\nContent-Type: text/csv\r\n\r\ncase_id,gender,age,diagnoses,discharge_date\r\nC1,1,50,I21.000,2025-06-03\r\n--{boundary}--\r\n"
    );
    let req = Request::builder()
        .method("POST")
        .uri("/cases/upload")
        .header(header::COOKIE, format!("drgdip_session={b}"))
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(Body::from(body))
        .unwrap();
    let r = app.clone().oneshot(req).await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let job = r.headers()[header::LOCATION].to_str().unwrap().to_string();
    let r = send(&app, "GET", &format!("{job}/status"), Some(&b), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let r = send(&app, "GET", &job, Some(&h1), None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(refusals(&store)
        .await
        .iter()
        .any(|l| l.starts_with("h001-clerk") && l.contains("job ")));
}

/// The budget page (预算执行) over the API's handler: the bureau sees the region and every
/// hospital against the registered version, with its chart; a hospital sees its own lines
/// only, another hospital's is a 403 page (audited), and a reviewer has no budget page.
#[tokio::test]
async fn the_budget_page_shows_the_version_s_execution_to_whom_the_api_shows_it() {
    let Some((app, store)) = setup().await else {
        return;
    };
    let Some(engine) = engine() else { return };
    let statements = settle_june(&store).await;
    drgdip_engine::budget::register(
        &store,
        &drgdip_settle::Actor::bureau("test"),
        engine.params(),
        "sha-of-the-test",
    )
    .await
    .unwrap();
    let hospitals: Vec<&str> = statements.iter().map(|s| s.hospital_id.as_str()).collect();
    assert!(
        hospitals.contains(&"H001") && hospitals.len() > 1,
        "{hospitals:?}"
    );

    let (b, _) = sign_in(&app, common::BUREAU).await;
    let r = send(&app, "GET", "/budget?year=2025", Some(&b), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains("Budget version 1"), "{}", r.text);
    assert!(r.text.contains("id=\"budget-region\""), "{}", r.text);
    assert!(
        r.text.contains("40000000.00"),
        "June's 1/12 of the DRG budget"
    );
    assert!(r.text.contains("<svg"), "the chart");
    for h in &hospitals {
        assert!(r.text.contains(&format!("<td>{h}</td>")), "{h} is listed");
    }

    let (h1, _) = sign_in(&app, common::H001).await;
    let r = send(&app, "GET", "/budget?year=2025", Some(&h1), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains("<td>H001</td>"), "{}", r.text);
    for h in hospitals.iter().filter(|h| **h != "H001") {
        assert!(
            !r.text.contains(&format!("<td>{h}</td>")),
            "{h} is not H001's"
        );
    }
    let r = send(
        &app,
        "GET",
        "/budget?year=2025&hospital=H002",
        Some(&h1),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let (rv, _) = sign_in(&app, common::R1).await;
    let r = send(&app, "GET", "/budget?year=2025", Some(&rv), None).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let log = refusals(&store).await;
    assert!(
        log.iter()
            .any(|l| l.starts_with("h001-clerk") && l.contains("budget 2025 of H002")),
        "{log:#?}"
    );
}

/// June of the seeded data settled into `store`; its statements.
async fn settle_june(store: &Store) -> Vec<drgdip_settle::MonthlyStatement> {
    let (cases, statements) = common::seed_data();
    let june: drgdip_settle::YearMonth = "2025-06".parse().unwrap();
    let of_june: Vec<_> = cases
        .into_iter()
        .filter(|c| c.discharge_month == june)
        .collect();
    let inputs = drgdip_store::RunInputs {
        method: "drg".into(),
        ..drgdip_store::RunInputs::default()
    };
    store
        .settle_month_run(
            june,
            &of_june,
            &statements,
            &[],
            drgdip_store::Replace::Guarded,
            &inputs,
        )
        .await
        .unwrap();
    statements
}

/// The monthly feedback (月告知) page: a hospital opens its month's printable document (the
/// report's, with its own style policy), another hospital's is a 403 page (audited), the
/// bureau reads any (without one, the index linking to each), and a month with nothing
/// settled is a 404 page.
#[tokio::test]
async fn the_monthly_feedback_is_the_hospital_s_own_printable_document() {
    let Some((app, store)) = setup().await else {
        return;
    };
    settle_june(&store).await;
    let (h1, _) = sign_in(&app, common::H001).await;
    let form = send(&app, "GET", "/feedback", Some(&h1), None).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.text);
    assert!(form.text.contains("name=\"month\""), "{}", form.text);
    assert!(
        !form.text.contains("name=\"hospital\""),
        "a hospital names no hospital"
    );
    let doc = send(&app, "GET", "/feedback?month=2025-06", Some(&h1), None).await;
    assert_eq!(doc.status, StatusCode::OK, "{}", doc.text);
    assert!(doc.text.contains("医院月度反馈（月告知）"), "{}", doc.text);
    assert!(
        doc.text.contains("H001") && !doc.text.contains("H002"),
        "{}",
        doc.text
    );
    assert!(doc.text.contains("<svg"), "its charts");
    let r = send(
        &app,
        "GET",
        "/feedback?month=2025-06&hospital=H002",
        Some(&h1),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.text);
    let r = send(&app, "GET", "/feedback?month=2025-01", Some(&h1), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.text);
    assert!(r
        .text
        .contains("no settled case and no statement of hospital H001 in 2025-01"));

    let (b, _) = sign_in(&app, common::BUREAU).await;
    let r = send(&app, "GET", "/feedback?month=2025-06", Some(&b), None).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains("汇总"), "the index page: {}", r.text);
    assert!(
        r.text.contains("href=\"?month=2025-06&amp;hospital=H001\"")
            || r.text.contains("href=\"?month=2025-06&hospital=H001\""),
        "each hospital links to its page here: {}",
        r.text
    );
    let r = send(
        &app,
        "GET",
        "/feedback?month=2025-06&hospital=H002",
        Some(&b),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    assert!(r.text.contains("H002"), "{}", r.text);
    let log = refusals(&store).await;
    assert!(
        log.iter()
            .any(|l| l.starts_with("h001-clerk") && l.contains("monthly feedback 2025-06 of H002")),
        "{log:#?}"
    );
}
