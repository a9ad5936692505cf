//! The web app in a real headless Chromium, driven over WebDriver (fantoccini, chromedriver
//! started on a free port): the bureau settles a month from the page and the statements
//! appear; a hospital signs in, uploads the dev cases of that month, opens a case and reads
//! its explanation, cannot open another hospital's statement by editing the URL (403 page,
//! audited), and a form posted without its CSRF token is refused; a reviewer's queue and
//! case view never show a hospital id or name. Screenshots of the pages go to
//! `$CARGO_TARGET_TMPDIR/screenshots`, or to `docs/screenshots` with
//! `DRGDIP_UPDATE_SCREENSHOTS=1`.
//!
//! Without chromedriver the test is skipped with a note, unless `DRGDIP_REQUIRE_BROWSER` is
//! set (CI), where it fails.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use common::{engine, shared};
use drgdip_server::{router, AppState, Backend, Limits, Tokens};
use drgdip_settle::Experts;
use drgdip_store::Store;
use fantoccini::{Client, ClientBuilder, Locator};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

const BUREAU: &str = "bureau-token-0123456789";
const H001: &str = "h001-token-0123456789";
const E001: &str = "e001-token-0123456789";

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
"#;

/// chromedriver, killed when dropped.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// chromedriver on a free port, or `None` (with a note) when it is not installed and
/// `DRGDIP_REQUIRE_BROWSER` is not set.
fn start_driver() -> Option<(Driver, u16)> {
    let required = std::env::var_os("DRGDIP_REQUIRE_BROWSER").is_some();
    let installed = Command::new("chromedriver")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !installed {
        assert!(!required, "DRGDIP_REQUIRE_BROWSER is set but chromedriver is not installed (apt-get install chromium chromium-driver)");
        eprintln!("note: chromedriver not found: browser test skipped (apt-get install chromium chromium-driver)");
        return None;
    }
    let port = free_port();
    let child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver starts");
    let driver = Driver(child);
    // wait until it listens (readiness, not a timed assertion)
    for _ in 0..300 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some((driver, port));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("chromedriver did not listen on port {port}");
}

fn month_rows(month: &str, n: usize) -> String {
    let text =
        std::fs::read_to_string(shared().unwrap().join("testdata/chs-drg-2.0/dev/cases.csv"))
            .unwrap();
    let mut lines = text.lines();
    let mut out = format!("{}\n", lines.next().unwrap());
    let tag = format!(",{month}-");
    for l in lines.filter(|l| l.contains(&tag)).take(n) {
        out.push_str(l);
        out.push('\n');
    }
    out
}

fn rows_of(text: &str, ids: &[&str]) -> String {
    let mut lines = text.lines();
    let mut out = format!("{}\n", lines.next().unwrap());
    for l in lines.filter(|l| ids.iter().any(|id| l.starts_with(&format!("{id},")))) {
        out.push_str(l);
        out.push('\n');
    }
    out
}

async fn api(
    app: &axum::Router,
    method: &str,
    uri: &str,
    token: &str,
    body: String,
    ctype: &str,
) -> (StatusCode, Value) {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, ctype)
        .body(Body::from(body))
        .unwrap();
    let r = app.clone().oneshot(req).await.unwrap();
    let status = r.status();
    let bytes = r.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// An application of H001 for two April cases, assigned to E001 and E003 (through the API).
async fn seed_application(app: &axum::Router, store: &Store) {
    let april = month_rows("2025-04", 400);
    let (s, v) = api(
        app,
        "POST",
        "/v1/settlements?month=2025-04",
        BUREAU,
        april.clone(),
        "text/csv",
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let mut h001: Vec<_> = store
        .settled_cases(Some("2025-04".parse().unwrap()), Some("H001"))
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.category == drgdip_pay::Category::Normal)
        .map(|c| c.case_id)
        .collect();
    h001.sort();
    let ids = [h001[0].as_str(), h001[1].as_str()];
    let body = json!({"period": "2025Q2", "case_ids": ids, "reason": "high_cost",
        "text": "ECMO for 21 days, costs far above the group", "records": rows_of(&april, &ids)});
    let (s, v) = api(
        app,
        "POST",
        "/v1/special-cases",
        H001,
        body.to_string(),
        "application/json",
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = api(
        app,
        "POST",
        "/v1/special-cases/SC-000001/assign",
        BUREAU,
        r#"{"reviewer_ids":["E001","E003"]}"#.into(),
        "application/json",
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
}

struct Shots(PathBuf);

impl Shots {
    fn new() -> Shots {
        let dir = if std::env::var_os("DRGDIP_UPDATE_SCREENSHOTS").is_some() {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots")
        } else {
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots")
        };
        std::fs::create_dir_all(&dir).unwrap();
        Shots(dir)
    }

    async fn take(&self, c: &Client, name: &str) {
        let png = c.screenshot().await.unwrap();
        std::fs::write(self.0.join(format!("{name}.png")), png).unwrap();
    }
}

async fn sign_in(c: &Client, base: &str, token: &str) {
    c.goto(&format!("{base}/login")).await.unwrap();
    c.find(Locator::Id("token"))
        .await
        .unwrap()
        .send_keys(token)
        .await
        .unwrap();
    c.find(Locator::Css("main form button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("form.logout"))
        .await
        .unwrap();
}

async fn sign_out(c: &Client) {
    c.find(Locator::Css("form.logout button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait().for_element(Locator::Id("token")).await.unwrap();
}

async fn refusals(store: &Store) -> Vec<String> {
    store
        .audit_log(1000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| {
            format!(
                "{} | {} | {}",
                e.event.actor, e.event.subject, e.event.reason
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_three_roles_in_a_real_browser() {
    let Some(engine) = engine() else { return };
    let Some((_driver, port)) = start_driver() else {
        return;
    };
    let shared = shared().unwrap();
    let experts = Experts::parse(
        &std::fs::read_to_string(shared.join("testdata/chs-drg-2.0/experts.csv")).unwrap(),
    )
    .unwrap();
    let store = Store::open("sqlite::memory:").await.unwrap();
    let backend: Arc<dyn Backend> = Arc::new(store.clone());
    let state = Arc::new(
        AppState::new(
            engine,
            Tokens::from_toml_str(TOKENS).unwrap(),
            backend,
            Limits::default().without_rate_limit(),
        )
        .with_experts(experts),
    );
    seed_application(&router(state.clone()), &store).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(drgdip_server::serve(listener, state, async {
        let _ = stopped.await;
    }));

    // the month's dev cases as a file the browser uploads
    let june = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser-cases-2025-06.csv");
    std::fs::write(&june, month_rows("2025-06", usize::MAX)).unwrap();
    let june = june.to_str().unwrap().to_string();

    let caps = serde_json::from_value(json!({
        "goog:chromeOptions": {"args": ["--headless=new", "--no-sandbox", "--disable-gpu",
            "--disable-dev-shm-usage", "--window-size=1280,900", "--lang=zh-CN"]}
    }))
    .unwrap();
    let c = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a WebDriver session");
    let shots = Shots::new();

    // the bureau settles June from the page; the statements appear
    sign_in(&c, &base, BUREAU).await;
    shots.take(&c, "bureau-home").await;
    c.goto(&format!("{base}/settle")).await.unwrap();
    c.find(Locator::Id("month"))
        .await
        .unwrap()
        .send_keys("2025-06")
        .await
        .unwrap();
    c.find(Locator::Id("file"))
        .await
        .unwrap()
        .send_keys(&june)
        .await
        .unwrap();
    c.find(Locator::Css("main form button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let table = c
        .wait()
        .at_most(Duration::from_secs(120))
        .for_element(Locator::Css("table#statements"))
        .await
        .unwrap();
    let text = table.text().await.unwrap();
    assert!(text.contains("H001") && text.contains("H002"), "{text}");
    shots.take(&c, "bureau-settled").await;
    c.goto(&format!("{base}/audit?q=special_case"))
        .await
        .unwrap();
    shots.take(&c, "bureau-audit").await;
    sign_out(&c).await;

    // a hospital uploads the month, opens a case and reads its explanation
    sign_in(&c, &base, H001).await;
    c.goto(&format!("{base}/cases")).await.unwrap();
    shots.take(&c, "hospital-cases").await;
    c.find(Locator::Id("month"))
        .await
        .unwrap()
        .send_keys("2025-06")
        .await
        .unwrap();
    c.find(Locator::Id("file"))
        .await
        .unwrap()
        .send_keys(&june)
        .await
        .unwrap();
    c.find(Locator::Css("form[action='/cases/upload'] button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let count = c
        .wait()
        .at_most(Duration::from_secs(120))
        .for_element(Locator::Id("priced-count"))
        .await
        .unwrap();
    let n: usize = count.text().await.unwrap().parse().unwrap();
    assert!(n > 0);
    let page = c.source().await.unwrap();
    assert!(
        page.contains("<svg") && !page.contains(">H002<"),
        "only its own cases are listed"
    );
    shots.take(&c, "hospital-upload").await;
    c.find(Locator::Css("table.list tbody a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let expl = c
        .wait()
        .for_element(Locator::Css("ol.explanation"))
        .await
        .unwrap();
    let zh = expl.text().await.unwrap();
    assert!(!zh.trim().is_empty());
    let drg = c
        .find(Locator::Css("td.drg"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        zh.contains(&drg),
        "the explanation names the DRG {drg}: {zh}"
    );
    shots.take(&c, "hospital-case").await;
    c.find(Locator::Css("a[lang=en]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let en = c
        .wait()
        .for_element(Locator::Css("ol.explanation"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_ne!(en, zh, "the English explanation");
    // its statements; another hospital's by editing the URL is a 403 page, audited
    c.goto(&format!("{base}/statements")).await.unwrap();
    let text = c
        .find(Locator::Css("table#statements"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("2025-06") && !text.contains("H002"), "{text}");
    shots.take(&c, "hospital-statements").await;
    c.goto(&format!("{base}/statements?month=2025-06&hospital=H002"))
        .await
        .unwrap();
    let h1 = c
        .find(Locator::Css("h1"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(h1.contains("无权访问") && h1.contains("403"), "{h1}");
    shots.take(&c, "hospital-403").await;
    assert!(refusals(&store)
        .await
        .iter()
        .any(|l| l.starts_with("h001-clerk") && l.contains("statements of H002")));
    // a form posted without its CSRF token is refused
    c.goto(&format!("{base}/cases")).await.unwrap();
    c.execute(
        "var f = document.querySelector(\"form[action='/cases/one']\"); f.querySelector(\"input[name=csrf]\").remove(); f.submit();",
        vec![],
    )
    .await
    .unwrap();
    let alert = c
        .wait()
        .for_element(Locator::Css("p.error"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(alert.contains("CSRF"), "{alert}");
    assert!(refusals(&store)
        .await
        .iter()
        .any(|l| l.starts_with("h001-clerk") && l.contains("CSRF")));
    sign_out(&c).await;

    // a reviewer: the queue and the blind case view never show a hospital
    let hospitals =
        std::fs::read_to_string(shared.join("testdata/chs-drg-2.0/hospitals.csv")).unwrap();
    let hidden: Vec<String> = hospitals
        .lines()
        .skip(1)
        .flat_map(|l| l.split(',').take(2).map(str::to_string).collect::<Vec<_>>())
        .collect();
    sign_in(&c, &base, E001).await;
    c.goto(&format!("{base}/special-cases")).await.unwrap();
    let queue = c.source().await.unwrap();
    assert!(
        queue.contains("SC-000001"),
        "the assigned application is in the queue"
    );
    shots.take(&c, "reviewer-queue").await;
    c.find(Locator::Css("table#applications a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("form.review"))
        .await
        .unwrap();
    let view = c.source().await.unwrap();
    shots.take(&c, "reviewer-case").await;
    for page in [&queue, &view] {
        for h in &hidden {
            assert!(!page.contains(h.as_str()), "the reviewer's page shows {h}");
        }
    }
    sign_out(&c).await;

    c.close().await.unwrap();
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}
