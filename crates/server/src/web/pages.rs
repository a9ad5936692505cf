//! The pages. Each is allowed by its API route's roles (the [`Permitted`] extractor and the
//! form extractors, through [`super::PAGES`]) and gets its data from the API's handler with
//! the session's actor, so a page shows what the API would give.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use drgdip_drg::Lang;
use maud::{html, Markup};
use serde_json::{json, Map, Value};

use super::jobs::{Job, Outcome, PricedCase};
use super::{
    csrf_field, error_page, page, raw, session, value_table, CsrfForm, CsrfMultipart, Permitted,
    SignedIn,
};
use crate::auth::{refuse, Caller};
use crate::engine::CaseFields;
use crate::error::ApiError;
use crate::extract::{JsonBody, QueryOf};
use crate::AppState;

type App = State<Arc<AppState>>;
type Params = Query<HashMap<String, String>>;

/// What priced a figure: the parameter file and its SHA-256.
fn version(app: &AppState) -> String {
    let r = app.engine.region();
    let name = r
        .params_path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!(
        "{name} (SHA-256 {}…)",
        r.params_sha256.get(..12).unwrap_or("")
    )
}

fn param(q: &HashMap<String, String>, k: &str) -> Option<String> {
    q.get(k)
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

fn to_value<T: serde::Serialize>(t: &T) -> Value {
    serde_json::to_value(t).unwrap_or(Value::Null)
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v.get(k).and_then(Value::as_str).unwrap_or("")
}

// ---------------------------------------------------------------------------------------
// Sign-in

pub async fn home(State(app): App, signed: SignedIn) -> Response {
    let kind = signed.actor.role.kind();
    let body = html! {
        h1 { "欢迎 Welcome" }
        p { "已登录为 Signed in as " strong { (crate::auth::role_text(&signed.actor.role)) } " (" (signed.actor.id) ")。" }
        @match kind {
            "hospital" => ul.cards {
                li { a href="/cases" { "病例测算：上传月度病例或录入单个病例 — price a month's cases or one case" } }
                li { a href="/statements" { "月结算单 — monthly statements" } }
                li { a href="/arrears" { "拨付与欠款 — payments received and arrears" } }
                li { a href="/special-cases" { "特例单议申请 — special-case applications" } }
                li { a href="/opinions" { "意见与答复 — opinions and answers" } }
            },
            "reviewer" => ul.cards {
                li { a href="/special-cases" { "待审队列 — the applications assigned to you (blind: no hospital)" } }
            },
            _ => ul.cards {
                li { a href="/settle" { "月结算 — settle a month" } }
                li { a href="/statements" { "月结算单 — statements" } }
                li { a href="/special-cases" { "特例单议 — applications, assign reviewers" } }
                li { a href="/audit" { "审计日志 — the audit log" } }
            },
        }
        p.muted { "地区参数 Region parameters: " (version(&app)) }
    };
    page(Some(&signed), "首页 Home", body)
}

pub async fn login_form(State(app): App) -> Response {
    let s = app.web.sessions.open(None);
    let body = html! {
        h1 { "登录 Sign in" }
        form method="post" action="/login" {
            (csrf_field(&s))
            label for="token" { "访问令牌 Access token" }
            input #token type="password" name="token" autocomplete="off" required;
            button type="submit" { "登录 Sign in" }
        }
        p.muted { "令牌来自服务器的令牌文件（与 API 相同）。The token of the tokens file, as for the API." }
    };
    let mut r = page(None, "登录 Sign in", body);
    set_cookie(&mut r, &session::set_cookie(&s.id));
    r
}

fn set_cookie(r: &mut Response, v: &str) {
    if let Ok(h) = v.parse() {
        r.headers_mut().insert(header::SET_COOKIE, h);
    }
}

pub async fn login(State(app): App, form: CsrfForm) -> Response {
    let token = form.one("token").unwrap_or("").trim();
    let Some(actor) = app.tokens.actor(token).cloned() else {
        let mut r = error_page(
            None,
            &ApiError::unauthorized("未知令牌 unknown token: see the tokens file"),
        );
        *r.status_mut() = StatusCode::UNAUTHORIZED;
        return r;
    };
    // a new id at sign-in: the sign-in form's session id never becomes a signed-in one
    app.web.sessions.close(&form.session.id);
    let s = app.web.sessions.open(Some(actor));
    let mut r = Redirect::to("/").into_response();
    set_cookie(&mut r, &session::set_cookie(&s.id));
    r
}

pub async fn logout(State(app): App, form: CsrfForm) -> Response {
    app.web.sessions.close(&form.session.id);
    let mut r = Redirect::to("/login").into_response();
    set_cookie(&mut r, &session::clear_cookie());
    r
}

// ---------------------------------------------------------------------------------------
// Cases: upload a month, type one

const ONE_CASE: &[(&str, &str, &str)] = &[
    ("case_id", "病案号 Case id", "W0001"),
    ("gender", "性别 Gender (1 男 / 2 女)", "1"),
    ("age", "年龄 Age", "63"),
    (
        "diagnoses",
        "诊断 Diagnoses (主诊断在前，| 分隔)",
        "I21.000|I10.x00",
    ),
    ("procedures", "手术操作 Procedures (| 分隔)", ""),
    ("los", "住院天数 Length of stay", "8"),
    ("discharge_way", "离院方式 Discharge way", "1"),
    ("discharge_date", "出院日期 Discharge date", "2025-06-15"),
    ("total_cost", "总费用 Total cost", "23000.00"),
    ("fund_paid", "统筹支付 Fund paid", "15000.00"),
];

pub async fn cases_form(Permitted(signed): Permitted) -> Response {
    let body = html! {
        h1 { "病例测算 Price cases" }
        section {
            h2 { "上传月度病例文件 Upload a month's case file" }
            form method="post" action="/cases/upload" enctype="multipart/form-data" {
                (csrf_field(&signed.session))
                label for="month" { "出院月份 Discharge month (YYYY-MM，留空为全部)" }
                input #month name="month" pattern="[0-9]{4}-[0-9]{2}" placeholder="2025-06";
                label for="file" { "病例文件 Case file (CSV)" }
                input #file type="file" name="file" accept=".csv,text/csv" required;
                button type="submit" { "上传并测算 Upload and price" }
            }
            @if let Some(h) = signed.actor.hospital_id() {
                p.muted { "只测算本院 (" (h) ") 的病例；其他医院的行跳过并计数。Only this hospital's rows are priced." }
            }
        }
        section {
            h2 { "录入单个病例 Type one case" }
            form.grid method="post" action="/cases/one" {
                (csrf_field(&signed.session))
                @for (name, label, example) in ONE_CASE {
                    div {
                        label for=(name) { (label) }
                        input id=(name) name=(name) value=(example);
                    }
                }
                div { button type="submit" { "测算 Price" } }
            }
        }
    };
    page(Some(&signed), "病例测算 Cases", body)
}

/// The row as the API's case fields: the known columns, non-empty, the hospital's own id.
fn case_row(cols: &[(String, String)], own: Option<&str>) -> Value {
    let mut m = Map::new();
    for (k, v) in cols {
        if CaseFields::NAMES.contains(&k.as_str()) && !v.trim().is_empty() {
            m.insert(k.clone(), Value::String(v.trim().to_string()));
        }
    }
    if let Some(h) = own {
        m.insert("hospital_id".into(), Value::String(h.into()));
    }
    Value::Object(m)
}

fn fields_of(row: &Value) -> Result<CaseFields, ApiError> {
    serde_json::from_value(row.clone()).map_err(|e| ApiError::bad_request("", e.to_string()))
}

/// Prices one row: the summary line of the list.
fn price(app: &AppState, row: Value) -> PricedCase {
    let case_id = s(&row, "case_id").to_string();
    let empty = |status: &str, msg: String| PricedCase {
        case_id: case_id.clone(),
        status: status.into(),
        status_zh: "信息校验不通过".into(),
        drg: String::new(),
        category: "invalid".into(),
        payment: msg,
        fund_due: String::new(),
        row: row.clone(),
    };
    let fields = match fields_of(&row) {
        Ok(f) => f,
        Err(e) => return empty("invalid", e.message),
    };
    let g = match app.engine.group(&fields, None, Lang::Zh) {
        Ok(g) => g,
        Err(e) => return empty("invalid", e.message),
    };
    let (category, payment, fund_due) = match app.engine.pay(&fields) {
        Ok(p) => (p.category, p.payment, p.fund_due),
        Err(e) => ("—".into(), e.message, String::new()),
    };
    PricedCase {
        case_id,
        status: g.status,
        status_zh: g.status_zh,
        drg: g.drg,
        category,
        payment,
        fund_due,
        row,
    }
}

pub async fn upload(State(app): App, form: CsrfMultipart) -> Response {
    let CsrfMultipart { signed, mut rest } = form;
    let (month, bytes) = match read_upload(&mut rest).await {
        Ok(x) => x,
        Err(e) => return error_page(Some(&signed), &e),
    };
    let own = signed.actor.hospital_id().map(str::to_string);
    let what = format!(
        "测算 pricing {}",
        month.as_deref().unwrap_or("全部 all months")
    );
    let (id, job) = app.web.jobs.start(&signed.actor.id, what);
    let app2 = app.clone();
    tokio::task::spawn_blocking(move || {
        let o = price_file(&app2, &job, &bytes, month.as_deref(), own.as_deref());
        job.finish(o);
    });
    Redirect::to(&format!("/jobs/{id}")).into_response()
}

/// The `month` and `file` fields of a multipart form (after `csrf`).
async fn read_upload(
    form: &mut axum::extract::Multipart,
) -> Result<(Option<String>, Bytes), ApiError> {
    let mut month = None;
    let mut file = None;
    while let Some(f) = form
        .next_field()
        .await
        .map_err(|e| ApiError::bad_request("file", e.to_string()))?
    {
        match f.name() {
            Some("month") => {
                let t = f.text().await.unwrap_or_default().trim().to_string();
                if !t.is_empty() {
                    crate::routes::parse_month(Some(&t))?;
                    month = Some(t);
                }
            }
            Some("file") => {
                file = Some(
                    f.bytes()
                        .await
                        .map_err(|e| ApiError::bad_request("file", e.to_string()))?,
                )
            }
            _ => {}
        }
    }
    let file = file
        .filter(|b| !b.is_empty())
        .ok_or_else(|| ApiError::bad_request("file", "no case file: choose a CSV file"))?;
    Ok((month, file))
}

fn price_file(
    app: &AppState,
    job: &Job,
    bytes: &[u8],
    month: Option<&str>,
    own: Option<&str>,
) -> Outcome {
    let lines = bytes.iter().filter(|b| **b == b'\n').count() as u64;
    job.total.store(lines.saturating_sub(1), Ordering::Relaxed);
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.trim().to_string()).collect(),
        Err(e) => return Outcome::Failed(format!("cannot read the header: {e}")),
    };
    let date_col = header.iter().position(|h| h == "discharge_date");
    let hosp_col = header.iter().position(|h| h == "hospital_id");
    if month.is_some() && date_col.is_none() {
        return Outcome::Failed(
            "a month was given but the file has no discharge_date column".into(),
        );
    }
    let (mut cases, mut other_month, mut other_hospital) = (Vec::new(), 0, 0);
    for (i, rec) in reader.records().enumerate() {
        job.done.store(i as u64 + 1, Ordering::Relaxed);
        let rec = match rec {
            Ok(r) => r,
            Err(e) => return Outcome::Failed(format!("line {}: {e}", i + 2)),
        };
        if let (Some(m), Some(c)) = (month, date_col) {
            if !rec.get(c).unwrap_or("").trim().starts_with(m) {
                other_month += 1;
                continue;
            }
        }
        if let (Some(h), Some(c)) = (own, hosp_col) {
            let given = rec.get(c).unwrap_or("").trim();
            if !given.is_empty() && given != h {
                other_hospital += 1;
                continue;
            }
        }
        let cols: Vec<(String, String)> = header
            .iter()
            .cloned()
            .zip(rec.iter().map(str::to_string))
            .collect();
        cases.push(price(app, case_row(&cols, own)));
    }
    Outcome::Priced {
        cases,
        other_month,
        other_hospital,
    }
}

pub async fn one_case(State(app): App, form: CsrfForm) -> Response {
    let signed = match form.permitted(&app).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let cols: Vec<(String, String)> = form
        .all
        .iter()
        .filter(|(k, _)| k != "csrf" && k != "hospital_id")
        .cloned()
        .collect();
    let row = case_row(&cols, signed.actor.hospital_id());
    let lang = if form.one("lang") == Some("en") {
        Lang::En
    } else {
        Lang::Zh
    };
    let body = case_view(&app, &row, lang, None);
    page(Some(&signed), "病例 Case", body)
}

/// One case: group, status, payment and the step-by-step explanation.
fn case_view(app: &AppState, row: &Value, lang: Lang, link: Option<&str>) -> Markup {
    let fields = match fields_of(row) {
        Ok(f) => f,
        Err(e) => return html! { p.error role="alert" { (e.message) } },
    };
    let group = app.engine.group(&fields, None, lang);
    let pay = app.engine.pay(&fields);
    html! {
        h1 { "病例 Case " (s(row, "case_id")) }
        @if let Some(l) = link {
            p { "语言 Language: " a href=(format!("{l}?lang=zh")) lang="zh" { "中文" } " · " a href=(format!("{l}?lang=en")) lang="en" { "English" } }
        }
        @match &group {
            Err(e) => p.error role="alert" { (e.message) },
            Ok(g) => {
                table.kv aria-label="分组结果 Grouping" {
                    tr { th scope="row" { "状态 Status" } td.status { (g.status_zh) " (" (g.status) ")" } }
                    tr { th scope="row" { "MDC" } td { (g.mdc) } }
                    tr { th scope="row" { "ADRG" } td { (g.adrg) } }
                    tr { th scope="row" { "DRG" } td.drg { (g.drg) } }
                    tr { th scope="row" { "MCC / CC" } td { (g.mcc.join(", ")) " / " (g.cc.join(", ")) } }
                    tr { th scope="row" { "方案 Scheme" } td { (g.scheme) } }
                }
                @if !g.problems.is_empty() {
                    h2 { "校验问题 Problems" }
                    ul { @for p in &g.problems { li { (p.field) " = " (p.value) ": " (p.message) } } }
                }
                h2 { "分组说明 Explanation" }
                ol.explanation { @for line in &g.explanation { li { (line) } } }
            }
        }
        h2 { "支付 Payment" }
        @match &pay {
            Err(e) => p.error role="alert" { (e.message) },
            Ok(p) => {
                table.kv aria-label="支付 Payment" {
                    tr { th scope="row" { "支付类别 Category" } td { (p.category) } }
                    tr { th scope="row" { "权重 Weight" } td { (p.weight.clone().unwrap_or_default()) } }
                    tr { th scope="row" { "总费用 Total cost" } td.num { (p.total_cost) } }
                    tr { th scope="row" { "DRG 支付 Payment" } td.num.payment { (p.payment) } }
                    tr { th scope="row" { "个人负担 Own" } td.num { (p.own) } }
                    tr { th scope="row" { "基金应付 Fund due" } td.num { (p.fund_due) } }
                }
                h3 { "支付规则 How the payment was reached" }
                ol.rules { @for r in &p.rules { li { (r) } } }
            }
        }
        p.muted { "参数 Parameters: " (version(app)) }
    }
}

// ---------------------------------------------------------------------------------------
// Jobs

async fn own_job(app: &AppState, signed: &SignedIn, id: &str) -> Result<Arc<Job>, Response> {
    match app.web.jobs.get(id) {
        Some(j) if j.owner == signed.actor.id => Ok(j),
        Some(_) => {
            let e = refuse(
                app,
                &signed.actor,
                "GET /jobs",
                format!("job {id}"),
                "a job is seen only by the user who started it",
            )
            .await;
            Err(error_page(Some(signed), &e))
        }
        None => Err(error_page(
            Some(signed),
            &ApiError::not_found("no such job (a restart forgets them)"),
        )),
    }
}

pub async fn job_status(State(app): App, signed: SignedIn, Path(id): Path<String>) -> Response {
    match own_job(&app, &signed, &id).await {
        Ok(j) => {
            let (done, total, finished) = j.progress();
            Json(json!({"done": done, "total": total, "finished": finished})).into_response()
        }
        Err(r) => r,
    }
}

pub async fn job(State(app): App, signed: SignedIn, Path(id): Path<String>) -> Response {
    let job = match own_job(&app, &signed, &id).await {
        Ok(j) => j,
        Err(r) => return r,
    };
    let (done, total, _) = job.progress();
    let outcome = job.outcome().clone();
    let body = match outcome {
        Outcome::Running => html! {
            h1 { (job.what) }
            div #progress data-status=(format!("/jobs/{id}/status")) {
                label for="bar" { "进度 Progress" }
                progress #bar max=(total.max(1)) value=(done) {}
                p #progress-text aria-live="polite" { (done) " / " (total) }
            }
            noscript { p { a href=(format!("/jobs/{id}")) { "刷新 Refresh" } } }
        },
        Outcome::Failed(why) => html! {
            h1 { (job.what) }
            p.error role="alert" { "失败 Failed: " (why) }
        },
        Outcome::Priced {
            cases,
            other_month,
            other_hospital,
        } => priced(&id, &job.what, &cases, other_month, other_hospital),
        Outcome::Settled(v) => settled(&v),
    };
    page(Some(&signed), &job.what, body)
}

fn priced(
    id: &str,
    what: &str,
    cases: &[PricedCase],
    other_month: u64,
    other_hospital: u64,
) -> Markup {
    let mut by: BTreeMap<String, (u64, rust_decimal::Decimal)> = BTreeMap::new();
    for c in cases {
        let e = by.entry(c.category.clone()).or_default();
        e.0 += 1;
        if let Ok(d) = c.payment.parse::<rust_decimal::Decimal>() {
            e.1 = e.1.checked_add(d).unwrap_or(e.1);
        }
    }
    let total = by.values().fold(rust_decimal::Decimal::ZERO, |a, (_, d)| {
        a.checked_add(*d).unwrap_or(a)
    });
    let labels: Vec<String> = by.keys().cloned().collect();
    let counts = [drgdip_report::svg::Series {
        name: "病例 Cases",
        color: drgdip_report::svg::PAYMENT,
        values: by.values().map(|(n, _)| (*n).into()).collect(),
    }];
    let chart = drgdip_report::svg::bars(
        "各支付类别病例数 Cases by payment category",
        &labels,
        &counts,
        drgdip_report::format::axis,
        |n| n.normalize().to_string(),
    );
    html! {
        h1 { (what) }
        p.summary {
            "已测算 Priced " strong #priced-count { (cases.len()) } " 例；其他月份 other months " (other_month)
            "，其他医院 other hospitals " (other_hospital) "。DRG 支付合计 Payment total: " strong { (total.round_dp(2)) }
        }
        figure {
            (raw(chart))
            figcaption { "各支付类别病例数 Cases by payment category" }
        }
        table.list aria-label="病例 Cases" {
            thead { tr { th { "病案号 Case" } th { "状态 Status" } th { "DRG" } th { "类别 Category" } th.num { "支付 Payment" } th.num { "基金应付 Fund due" } } }
            tbody {
                @for (n, c) in cases.iter().enumerate().take(2000) {
                    tr {
                        td { a href=(format!("/jobs/{id}/cases/{n}")) { (c.case_id) } }
                        td { (c.status_zh) }
                        td { (c.drg) }
                        td { (c.category) }
                        td.num { (c.payment) }
                        td.num { (c.fund_due) }
                    }
                }
            }
        }
        @if cases.len() > 2000 { p.muted { "只列出前 2000 例 The first 2,000 cases are listed." } }
    }
}

/// A horizontal bar chart as inline SVG (f64 only for the geometry).
fn settled(v: &Value) -> Markup {
    let month = s(v, "month");
    let empty = vec![];
    let rows = v
        .get("statements")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    let totals = v.get("totals").cloned().unwrap_or(Value::Null);
    html! {
        h1 { "已结算 Settled " (month) }
        p.summary { "运行 Run #" (v.get("run_id").map(|x| x.to_string()).unwrap_or_default())
            "，文件 SHA-256 " code { (s(v, "case_file_sha256").get(..16).unwrap_or("")) "…" }
            "，申报截止 deadline " (s(v, "declaration_deadline")) }
        h2 { "结算单 Statements" }
        table.list #statements aria-label="结算单 Statements" {
            thead { tr { th { "医院 Hospital" } th.num { "病例 Cases" } th.num { "DRG 支付 Payment" } th.num { "基金应付 Fund due" } th.num { "保证金 Deposit" } th.num { "应拨付 Amount due" } th { "拨付期限 Due by" } } }
            tbody {
                @for r in rows {
                    tr {
                        td { a href=(format!("/statements?month={month}&hospital={}", s(r, "hospital_id"))) { (s(r, "hospital_id")) } }
                        td.num { (r.get("cases").map(|x| x.to_string()).unwrap_or_default()) }
                        td.num { (s(r, "payment")) }
                        td.num { (s(r, "fund_due_total")) }
                        td.num { (s(r, "deposit_withheld")) }
                        td.num { (s(r, "amount_due")) }
                        td { (s(r, "due_by")) }
                    }
                }
            }
        }
        h2 { "合计与计数 Totals and counts" }
        (value_table(&totals))
        (value_table(v.get("counts").unwrap_or(&Value::Null)))
        p { a href=(format!("/statements?month={month}")) { "查看本月结算单 The month's statements" } }
    }
}

pub async fn job_case(
    State(app): App,
    signed: SignedIn,
    Path((id, n)): Path<(String, usize)>,
    Query(q): Params,
) -> Response {
    let job = match own_job(&app, &signed, &id).await {
        Ok(j) => j,
        Err(r) => return r,
    };
    let row = match &*job.outcome() {
        Outcome::Priced { cases, .. } => cases.get(n).map(|c| c.row.clone()),
        _ => None,
    };
    let Some(row) = row else {
        return error_page(
            Some(&signed),
            &ApiError::not_found("no such case in this upload"),
        );
    };
    let lang = if param(&q, "lang").as_deref() == Some("en") {
        Lang::En
    } else {
        Lang::Zh
    };
    let link = format!("/jobs/{id}/cases/{n}");
    let body = html! {
        p { a href=(format!("/jobs/{id}")) { "← 返回列表 Back to the list" } }
        (case_view(&app, &row, lang, Some(&link)))
    };
    page(Some(&signed), "病例 Case", body)
}

// ---------------------------------------------------------------------------------------
// Statements, arrears, opinions

pub async fn statements(
    State(app): App,
    Permitted(signed): Permitted,
    Query(q): Params,
) -> Response {
    let query = crate::routes::StatementsQuery {
        month: param(&q, "month"),
        hospital: param(&q, "hospital"),
        as_of: param(&q, "as_of"),
    };
    let list = match crate::routes::statements(
        State(app.clone()),
        Caller(signed.actor.clone()),
        QueryOf(query),
    )
    .await
    {
        Ok(Json(l)) => l,
        Err(e) => return error_page(Some(&signed), &e),
    };
    let body = html! {
        h1 { "月结算单 Monthly statements" }
        form.filters method="get" action="/statements" {
            label for="m" { "月份 Month" } input #m name="month" value=(param(&q, "month").unwrap_or_default()) placeholder="2025-06";
            @if signed.actor.hospital_id().is_none() {
                label for="h" { "医院 Hospital" } input #h name="hospital" value=(param(&q, "hospital").unwrap_or_default());
            }
            button type="submit" { "查询 Show" }
        }
        @if list.is_empty() { p #no-statements { "暂无结算单 No statement." } }
        table.list #statements aria-label="结算单 Statements" {
            thead { tr { th { "医院 Hospital" } th { "月份 Month" } th.num { "病例 Cases" } th.num { "DRG 支付 Payment" } th.num { "基金应付 Fund due" } th.num { "保证金 Deposit" } th.num { "应拨付 Amount due" } th { "拨付期限 Due by" } th.num { "已拨付 Paid" } th.num { "未付 Outstanding" } } }
            tbody {
                @for st in &list {
                    @let v = to_value(st);
                    @let standing = v.get("standing").cloned().unwrap_or(Value::Null);
                    tr {
                        td { (st.hospital_id) } td { (st.month) } td.num { (st.cases) }
                        td.num { (st.totals.payment) } td.num { (st.fund_due_total) } td.num { (st.deposit_withheld) }
                        td.num { (st.amount_due) } td { (st.due_by) }
                        td.num { (s(&standing, "paid")) } td.num { (s(&standing, "outstanding")) }
                    }
                }
            }
        }
    };
    page(Some(&signed), "月结算单 Statements", body)
}

pub async fn arrears(State(app): App, Permitted(signed): Permitted, Query(q): Params) -> Response {
    let as_of = match param(&q, "as_of") {
        Some(d) => d,
        None => match crate::ledger::today() {
            Ok(d) => d.to_string(),
            Err(e) => return error_page(Some(&signed), &e),
        },
    };
    let query = crate::payments::ArrearsQuery {
        as_of: Some(as_of.clone()),
        hospital: param(&q, "hospital"),
        all: Some("true".into()),
    };
    match crate::payments::arrears_as_of(
        State(app.clone()),
        Caller(signed.actor.clone()),
        QueryOf(query),
    )
    .await
    {
        Ok(Json(a)) => {
            let body = html! {
                h1 { "拨付与欠款 Payments and arrears" }
                p { "截至 As of " (as_of) }
                (value_table(&to_value(&a)))
            };
            page(Some(&signed), "拨付与欠款 Arrears", body)
        }
        Err(e) => error_page(Some(&signed), &e),
    }
}

pub async fn opinions(State(app): App, Permitted(signed): Permitted, Query(q): Params) -> Response {
    let query = crate::opinions::OpinionsQuery {
        hospital: param(&q, "hospital"),
        from: None,
        to: None,
    };
    match crate::opinions::list(
        State(app.clone()),
        Caller(signed.actor.clone()),
        QueryOf(query),
    )
    .await
    {
        Ok(Json(l)) => page(
            Some(&signed),
            "意见 Opinions",
            html! { h1 { "意见与答复 Opinions and answers" } (value_table(&to_value(&l))) },
        ),
        Err(e) => error_page(Some(&signed), &e),
    }
}

// ---------------------------------------------------------------------------------------
// Special cases: the list, one application (blind for a reviewer), review, assign

pub async fn special_cases(State(app): App, Permitted(signed): Permitted) -> Response {
    let query = crate::special::ListQuery {
        period: None,
        hospital: None,
    };
    let list = match crate::special::list(
        State(app.clone()),
        Caller(signed.actor.clone()),
        QueryOf(query),
    )
    .await
    {
        Ok(Json(l)) => to_value(&l),
        Err(e) => return error_page(Some(&signed), &e),
    };
    let empty = vec![];
    let apps = list
        .get("applications")
        .and_then(Value::as_array)
        .unwrap_or(&empty);
    let title = if signed.actor.role.kind() == "reviewer" {
        "待审队列 Review queue"
    } else {
        "特例单议 Special cases"
    };
    let body = html! {
        h1 { (title) }
        @if apps.is_empty() { p { "暂无申请 No application." } }
        table.list #applications aria-label=(title) {
            thead { tr { th { "申请 Application" } th { "周期 Period" } th { "理由 Reason" } th { "状态 State" } th { "病例数 Cases" } } }
            tbody {
                @for a in apps {
                    tr {
                        td { a href=(format!("/special-cases/{}", s(a, "application_id"))) { (s(a, "application_id")) } }
                        td { (s(a, "period")) } td { (s(a, "reason")) } td { (s(a, "state")) }
                        td.num { (a.get("cases").and_then(Value::as_array).map(Vec::len).unwrap_or(0)) }
                    }
                }
            }
        }
        h2 { "评审轮次 Review rounds" }
        (value_table(list.get("next_round").unwrap_or(&Value::Null)))
    };
    page(Some(&signed), title, body)
}

pub async fn special_case(
    State(app): App,
    Permitted(signed): Permitted,
    Path(id): Path<String>,
) -> Response {
    let v = match crate::special::get_one(
        State(app.clone()),
        Caller(signed.actor.clone()),
        Path(id.clone()),
    )
    .await
    {
        Ok(Json(a)) => to_value(&a),
        Err(e) => return error_page(Some(&signed), &e),
    };
    let view = s(&v, "view").to_string();
    let empty = vec![];
    let cases = v.get("cases").and_then(Value::as_array).unwrap_or(&empty);
    let body = html! {
        h1 { "特例单议申请 Application " (id) }
        (value_table(&v))
        @if view == "reviewer" && !cases.is_empty() {
            h2 { "评审意见 Review (" (s(&v, "stage")) ")" }
            form.review method="post" action=(format!("/special-cases/{id}/review")) {
                (csrf_field(&signed.session))
                @for (i, c) in cases.iter().enumerate() {
                    fieldset {
                        legend { "病例 Case " (s(c, "case")) }
                        input type="hidden" name=(format!("case_{i}")) value=(s(c, "case"));
                        label for=(format!("outcome_{i}")) { "结论 Outcome" }
                        select id=(format!("outcome_{i}")) name=(format!("outcome_{i}")) {
                            option value="approved_per_item" { "同意按项目付费 Approved per item" }
                            option value="approved_extra_points" { "同意追加点数 Approved, extra points" }
                            option value="rejected" { "不同意 Rejected" }
                        }
                        label for=(format!("points_{i}")) { "追加点数 Points (if extra points)" }
                        input id=(format!("points_{i}")) name=(format!("points_{i}"));
                        label for=(format!("reason_{i}")) { "理由 Reason" }
                        textarea id=(format!("reason_{i}")) name=(format!("reason_{i}")) required {}
                    }
                }
                button type="submit" { "提交评审 Submit the review" }
            }
        }
        @if view == "bureau" && matches!(s(&v, "state"), "submitted" | "first_reviewed") {
            h2 { "指派专家 Assign reviewers" }
            form method="post" action=(format!("/special-cases/{id}/assign")) {
                (csrf_field(&signed.session))
                label for="reviewers" { "专家编号，逗号分隔 Expert ids, comma-separated" }
                input #reviewers name="reviewer_ids" required;
                button type="submit" { "指派 Assign" }
            }
        }
    };
    page(Some(&signed), "特例单议 Application", body)
}

pub async fn review(State(app): App, Path(id): Path<String>, form: CsrfForm) -> Response {
    let signed = match form.permitted(&app).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let mut opinions = Vec::new();
    for i in 0.. {
        let Some(case) = form.one(&format!("case_{i}")) else {
            break;
        };
        let kind = form.one(&format!("outcome_{i}")).unwrap_or("rejected");
        let outcome = match kind {
            "approved_extra_points" => {
                json!({"kind": kind, "points": form.one(&format!("points_{i}")).unwrap_or("")})
            }
            k => json!({"kind": k}),
        };
        opinions.push(json!({"case": case, "outcome": outcome, "reason": form.one(&format!("reason_{i}")).unwrap_or("")}));
    }
    let body: crate::special::ReviewBody =
        match serde_json::from_value(json!({"opinions": opinions})) {
            Ok(b) => b,
            Err(e) => {
                return error_page(
                    Some(&signed),
                    &ApiError::bad_request("opinions", e.to_string()),
                )
            }
        };
    match crate::special::review(
        State(app.clone()),
        Caller(signed.actor.clone()),
        Path(id.clone()),
        JsonBody(body),
    )
    .await
    {
        Ok(_) => Redirect::to(&format!("/special-cases/{id}")).into_response(),
        Err(e) => error_page(Some(&signed), &e),
    }
}

pub async fn assign(State(app): App, Path(id): Path<String>, form: CsrfForm) -> Response {
    let signed = match form.permitted(&app).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let ids: Vec<String> = form
        .one("reviewer_ids")
        .unwrap_or("")
        .split([',', ' ', '，'])
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let body = crate::special::AssignBody { reviewer_ids: ids };
    match crate::special::assign(
        State(app.clone()),
        Caller(signed.actor.clone()),
        Path(id.clone()),
        JsonBody(body),
    )
    .await
    {
        Ok(_) => Redirect::to(&format!("/special-cases/{id}")).into_response(),
        Err(e) => error_page(Some(&signed), &e),
    }
}

// ---------------------------------------------------------------------------------------
// Bureau: settle a month, the audit log

pub async fn settle_form(Permitted(signed): Permitted) -> Response {
    let body = html! {
        h1 { "月结算 Settle a month" }
        form method="post" action="/settle" enctype="multipart/form-data" {
            (csrf_field(&signed.session))
            label for="month" { "结算月份 Month (YYYY-MM)" }
            input #month name="month" pattern="[0-9]{4}-[0-9]{2}" required placeholder="2025-06";
            label for="file" { "本月病例文件 The month's case file (CSV; other months are skipped)" }
            input #file type="file" name="file" accept=".csv,text/csv" required;
            label.inline { input type="checkbox" name="force" value="true"; " 强制替换 Replace even a shrinking month (force)" }
            button type="submit" { "结算 Settle" }
        }
        p.muted { "与 drgdip settle 和 POST /v1/settlements 相同的引擎函数 settle_month；写入账本并审计。" }
    };
    page(Some(&signed), "月结算 Settle", body)
}

pub async fn settle(State(app): App, form: CsrfMultipart) -> Response {
    let CsrfMultipart { signed, mut rest } = form;
    let mut month = String::new();
    let mut force = None;
    let mut file = None;
    loop {
        let f = match rest.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                return error_page(Some(&signed), &ApiError::bad_request("file", e.to_string()))
            }
        };
        match f.name() {
            Some("month") => month = f.text().await.unwrap_or_default().trim().to_string(),
            Some("force") => force = Some("true".to_string()),
            Some("file") => match f.bytes().await {
                Ok(b) => file = Some(b),
                Err(e) => {
                    return error_page(Some(&signed), &ApiError::bad_request("file", e.to_string()))
                }
            },
            _ => {}
        }
    }
    let Some(bytes) = file.filter(|b| !b.is_empty()) else {
        return error_page(
            Some(&signed),
            &ApiError::bad_request("file", "no case file: choose a CSV file"),
        );
    };
    if let Err(e) = crate::routes::parse_month(Some(&month)) {
        return error_page(Some(&signed), &e);
    }
    let (id, job) = app
        .web
        .jobs
        .start(&signed.actor.id, format!("结算 settling {month}"));
    job.total.store(
        bytes
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            .saturating_sub(1) as u64,
        Ordering::Relaxed,
    );
    let app2 = app.clone();
    let actor = signed.actor.clone();
    tokio::spawn(async move {
        let q = crate::ledger::SettleQuery { month, force };
        let r = crate::ledger::settle(State(app2), Caller(actor), QueryOf(q), Ok(bytes)).await;
        job.finish(match r {
            Ok(Json(v)) => Outcome::Settled(to_value(&v)),
            Err(e) => Outcome::Failed(e.message),
        });
    });
    Redirect::to(&format!("/jobs/{id}")).into_response()
}

pub async fn audit(State(app): App, Permitted(signed): Permitted, Query(q): Params) -> Response {
    let query = crate::routes::AuditQuery {
        limit: Some("1000".into()),
    };
    let entries = match crate::routes::audit(
        State(app.clone()),
        Caller(signed.actor.clone()),
        QueryOf(query),
    )
    .await
    {
        Ok(Json(e)) => e,
        Err(e) => return error_page(Some(&signed), &e),
    };
    let needle = param(&q, "q").unwrap_or_default().to_lowercase();
    let shown: Vec<_> = entries
        .iter()
        .filter(|e| {
            needle.is_empty()
                || [&e.actor, &e.action, &e.subject, &e.reason]
                    .iter()
                    .any(|t| t.to_lowercase().contains(&needle))
        })
        .collect();
    let body = html! {
        h1 { "审计日志 Audit log" }
        form.filters method="get" action="/audit" role="search" {
            label for="q" { "搜索 Search (操作人、操作、对象、理由)" }
            input #q type="search" name="q" value=(needle);
            button type="submit" { "搜索 Search" }
        }
        p { "最近 1000 条中匹配 " (shown.len()) " 条 Matching entries among the latest 1,000." }
        table.list #audit aria-label="审计日志 Audit log" {
            thead { tr { th { "#" } th { "时间 At" } th { "操作人 Actor" } th { "角色 Role" } th { "操作 Action" } th { "对象 Subject" } th { "理由 Reason" } } }
            tbody {
                @for e in &shown {
                    tr { td { (e.seq) } td { (e.at) } td { (e.actor) } td { (e.role) } td { (e.action) } td { (e.subject) } td { (e.reason) } }
                }
            }
        }
    };
    page(Some(&signed), "审计日志 Audit", body)
}

// ---------------------------------------------------------------------------------------
// Budget execution (预算执行): the bureau and a hospital

/// A figure of the API's JSON (a decimal as text) for a chart; what does not parse is 0.
fn decimal_of(v: Option<&str>) -> rust_decimal::Decimal {
    v.and_then(|t| t.parse().ok()).unwrap_or_default()
}

/// A ratio of the API (`0.831245`) as a percentage with two decimals (`83.12%`).
fn percent_of(v: Option<&str>) -> String {
    match v.and_then(|t| t.parse::<rust_decimal::Decimal>().ok()) {
        Some(r) => drgdip_report::format::pct(r),
        None => "—".into(),
    }
}

pub async fn budget(State(app): App, Permitted(signed): Permitted, Query(q): Params) -> Response {
    let year = param(&q, "year").unwrap_or_else(|| app.engine.params().region.year.to_string());
    let query = crate::budget::BudgetQuery {
        year: year.clone(),
        version: param(&q, "version"),
        hospital: param(&q, "hospital"),
    };
    let e = match crate::budget::get_execution(
        State(app.clone()),
        Caller(signed.actor.clone()),
        QueryOf(query),
    )
    .await
    {
        Ok(Json(e)) => e,
        Err(e) => return error_page(Some(&signed), &e),
    };
    let region: Vec<_> = e.lines.iter().filter(|l| l.hospital_id == "*").collect();
    let hospitals: Vec<_> = e.lines.iter().filter(|l| l.hospital_id != "*").collect();
    let mut methods: Vec<&str> = region.iter().map(|l| l.method.as_str()).collect();
    methods.dedup();
    let charts: Vec<String> = methods
        .iter()
        .map(|m| {
            let of: Vec<_> = region.iter().filter(|l| l.method == *m).collect();
            let labels: Vec<String> = of.iter().map(|l| l.month.clone()).collect();
            let series = [
                drgdip_report::svg::Series {
                    name: "累计预算 Budget to date",
                    color: drgdip_report::svg::COST,
                    values: of
                        .iter()
                        .map(|l| decimal_of(l.cumulative_share.as_deref()))
                        .collect(),
                },
                drgdip_report::svg::Series {
                    name: "累计结算 Settled to date",
                    color: drgdip_report::svg::PAYMENT,
                    values: of
                        .iter()
                        .map(|l| decimal_of(Some(&l.cumulative_settled)))
                        .collect(),
                },
            ];
            drgdip_report::svg::lines(
                &format!("{} 预算执行 Budget execution, {year}", m.to_uppercase()),
                &labels,
                &series,
                drgdip_report::format::axis,
                drgdip_report::format::money_grouped,
            )
        })
        .collect();
    let body = html! {
        h1 { "预算执行 Budget execution " (year) }
        form.filters method="get" action="/budget" {
            label for="y" { "年度 Year" } input #y name="year" value=(year) pattern="[0-9]{4}";
            label for="v" { "预算版本 Version (留空为最新 empty: the last)" } input #v name="version" value=(param(&q, "version").unwrap_or_default());
            @if signed.actor.hospital_id().is_none() {
                label for="h" { "医院 Hospital" } input #h name="hospital" value=(param(&q, "hospital").unwrap_or_default());
            }
            button type="submit" { "查询 Show" }
        }
        p.summary #budget-version { "预算版本 Budget version " (e.budget_version) "（每个数字均按此版本计算 every figure is against this version）" }
        @for c in &charts { (raw(c.clone())) }
        @if !region.is_empty() {
            h2 { "全区 The region, by month" }
            table.list #budget-region aria-label="全区预算执行 The region's budget execution" {
                thead { tr { th { "月份 Month" } th { "方式 Method" } th.num { "预算 Budget share" } th.num { "结算 Settled" } th.num { "累计预算 Budget to date" } th.num { "累计结算 Settled to date" } th.num { "使用率 Used" } } }
                tbody {
                    @for l in &region {
                        tr {
                            td { (l.month) } td { (l.method) }
                            td.num { (l.budget_share.clone().unwrap_or_default()) } td.num { (l.settled) }
                            td.num { (l.cumulative_share.clone().unwrap_or_default()) } td.num { (l.cumulative_settled) }
                            td.num { (percent_of(l.budget_used.as_deref())) }
                        }
                    }
                }
            }
        }
        h2 { "医院 Hospitals, by month" }
        @if hospitals.is_empty() { p #no-budget-lines { "暂无结算 Nothing settled yet." } }
        @else {
            table.list #budget-hospitals aria-label="医院预算执行 Hospitals' budget execution" {
                thead { tr { th { "月份 Month" } th { "方式 Method" } th { "医院 Hospital" } th.num { "结算 Settled" } th.num { "累计结算 Settled to date" } th.num { "占全区 Share of the region" } } }
                tbody {
                    @for l in &hospitals {
                        tr {
                            td { (l.month) } td { (l.method) } td { (l.hospital_id) }
                            td.num { (l.settled) } td.num { (l.cumulative_settled) }
                            td.num { (percent_of(l.share_of_region.as_deref())) }
                        }
                    }
                }
            }
        }
        h2 { "计算说明 How the figures were computed" }
        ul { @for r in &e.reasons { li { (r) } } }
        p.muted { "与 drgdip budget execution 和 GET /v1/budget/execution 相同的引擎函数 engine::budget::execution。" }
    };
    page(Some(&signed), "预算执行 Budget execution", body)
}

// ---------------------------------------------------------------------------------------
// Monthly feedback (月告知): a hospital's month as its printable document

pub async fn feedback(State(app): App, Permitted(signed): Permitted, Query(q): Params) -> Response {
    if let Some(month) = param(&q, "month") {
        let query = crate::reports::MonthlyQuery {
            month,
            hospital: param(&q, "hospital"),
        };
        return match crate::reports::monthly(
            State(app.clone()),
            Caller(signed.actor.clone()),
            QueryOf(query),
        )
        .await
        {
            Ok(document) => document,
            Err(e) => error_page(Some(&signed), &e),
        };
    }
    let body = html! {
        h1 { "医院月度反馈 Monthly feedback (月告知)" }
        p { "一个出院月份的入组率、CMI、按支付类别和病组的支付与费用、结算单的保证金与应拨付金额，附图表；与 drgdip report monthly 生成的文件相同，可打印。"
            " A discharge month's grouping rate, CMI, payment against cost by category and group, the statement's deposit and amount due, with charts: the document drgdip report monthly writes, printable." }
        form.filters method="get" action="/feedback" {
            label for="m" { "出院月份 Discharge month" } input #m name="month" required pattern="[0-9]{4}-[0-9]{2}" placeholder="2025-06";
            @if signed.actor.hospital_id().is_none() {
                label for="h" { "医院 Hospital (留空为全部医院 empty: all hospitals)" } input #h name="hospital" placeholder="H001";
            }
            button type="submit" { "查看 Open" }
        }
    };
    page(Some(&signed), "月告知 Monthly feedback", body)
}
