//! The web app (网页端) at `/`: server-rendered pages (maud) over the same engine, store and
//! authorization as the API. A page is allowed to a role exactly when its API route is
//! ([`PAGES`] names it, [`permit`] reads [`crate::auth::ROUTES`]), and its data comes from
//! the API's own handlers called with the session's actor, so what depends on the data
//! (another hospital's
//! statement, an application the reviewer is not assigned to) is refused by the same code,
//! audited through [`crate::auth::refuse`], and shown as a 403 page.
//!
//! Sessions ([`session`]): sign-in with a token of the tokens file gives a random session
//! id in an `HttpOnly; SameSite=Strict` cookie; every POST form carries the session's CSRF
//! token, checked by the form extractors ([`CsrfForm`], [`CsrfMultipart`]) through
//! [`check_csrf`]: without it, 403 and audited. Long work (pricing an uploaded month,
//! settling a month) runs off the request threads as a [`jobs::Job`] whose page polls.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRequest, FromRequestParts, MatchedPath, Multipart, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use drgdip_settle::Actor;
use maud::{html, Markup, PreEscaped, DOCTYPE};

use crate::auth::{refuse, role_text, ROUTES};
use crate::error::ApiError;
use crate::AppState;

pub mod jobs;
mod pages;
pub mod session;

pub use session::{Session, Sessions};

/// What the web app keeps: the sessions and the background jobs.
#[derive(Debug, Default)]
pub struct WebState {
    /// The sessions.
    pub sessions: Sessions,
    /// The jobs (uploads being priced, settlements running).
    pub jobs: jobs::Jobs,
}

const CSS: &str = include_str!("app.css");
const JS: &str = include_str!("app.js");

/// The pages, for [`crate::router`].
pub fn routes(state: &Arc<AppState>) -> Router<Arc<AppState>> {
    let upload = axum::extract::DefaultBodyLimit::max(state.limits().max_upload);
    Router::new()
        .route("/", get(pages::home))
        .route("/login", get(pages::login_form).post(pages::login))
        .route("/logout", post(pages::logout))
        .route("/cases", get(pages::cases_form))
        .route("/cases/upload", post(pages::upload).layer(upload))
        .route("/cases/one", post(pages::one_case))
        .route("/jobs/{id}", get(pages::job))
        .route("/jobs/{id}/status", get(pages::job_status))
        .route("/jobs/{id}/cases/{n}", get(pages::job_case))
        .route("/statements", get(pages::statements))
        .route("/arrears", get(pages::arrears))
        .route("/special-cases", get(pages::special_cases))
        .route("/special-cases/{id}", get(pages::special_case))
        .route("/special-cases/{id}/assign", post(pages::assign))
        .route("/special-cases/{id}/review", post(pages::review))
        .route("/opinions", get(pages::opinions))
        .route(
            "/settle",
            get(pages::settle_form).post(pages::settle).layer(upload),
        )
        .route("/audit", get(pages::audit))
        .route("/budget", get(pages::budget))
        .route("/feedback", get(pages::feedback))
        .route("/assets/app.css", get(css))
        .route("/assets/app.js", get(js))
}

async fn css() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], CSS).into_response()
}

async fn js() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        JS,
    )
        .into_response()
}

/// A signed-in session; a request without one is sent to the sign-in page.
pub struct SignedIn {
    /// The session.
    pub session: Session,
    /// Its actor.
    pub actor: Actor,
}

impl FromRequestParts<Arc<AppState>> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<AppState>,
    ) -> Result<SignedIn, Response> {
        let session = app.web.sessions.get(&parts.headers);
        match session {
            Some(s) if s.actor.is_some() => {
                let actor = s.actor.clone().expect("checked");
                Ok(SignedIn { session: s, actor })
            }
            _ => Err(Redirect::to("/login").into_response()),
        }
    }
}

/// One page and the API route it stands on (页面与接口): the page is allowed to a role exactly
/// when that route is, and its data comes from that route's handler.
#[derive(Debug, Clone, Copy)]
pub struct PageRoute {
    /// The page's method.
    pub method: &'static str,
    /// The page's path, as routed (`{id}` for a parameter).
    pub page: &'static str,
    /// The API route's method.
    pub api_method: &'static str,
    /// The API route's path, as in [`ROUTES`].
    pub api: &'static str,
}

const fn on(
    method: &'static str,
    page: &'static str,
    api_method: &'static str,
    api: &'static str,
) -> PageRoute {
    PageRoute {
        method,
        page,
        api_method,
        api,
    }
}

/// Every page behind a role, with its API route. A page missing here is refused to
/// everyone (a test checks that every routed page is listed and every route exists).
pub const PAGES: &[PageRoute] = &[
    on("GET", "/cases", "POST", "/v1/pay"),
    on("POST", "/cases/upload", "POST", "/v1/pay"),
    on("POST", "/cases/one", "POST", "/v1/pay"),
    on("GET", "/statements", "GET", "/v1/statements"),
    on("GET", "/arrears", "GET", "/v1/arrears"),
    on("GET", "/opinions", "GET", "/v1/opinions"),
    on("GET", "/special-cases", "GET", "/v1/special-cases"),
    on(
        "GET",
        "/special-cases/{id}",
        "GET",
        "/v1/special-cases/{id}",
    ),
    on(
        "POST",
        "/special-cases/{id}/assign",
        "POST",
        "/v1/special-cases/{id}/assign",
    ),
    on(
        "POST",
        "/special-cases/{id}/review",
        "POST",
        "/v1/special-cases/{id}/review",
    ),
    on("GET", "/settle", "POST", "/v1/settlements"),
    on("POST", "/settle", "POST", "/v1/settlements"),
    on("GET", "/audit", "GET", "/v1/audit"),
    on("GET", "/budget", "GET", "/v1/budget/execution"),
    on("GET", "/feedback", "GET", "/v1/reports/monthly"),
];

/// The method and routed path of a request, to find its [`PageRoute`].
#[derive(Debug, Clone)]
struct PageKey {
    method: String,
    routed: String,
    path: String,
}

impl PageKey {
    fn of(parts: &Parts) -> PageKey {
        PageKey {
            method: parts.method.as_str().to_string(),
            routed: parts
                .extensions
                .get::<MatchedPath>()
                .map(|m| m.as_str().to_string())
                .unwrap_or_default(),
            path: parts.uri.path().to_string(),
        }
    }

    /// [`permit`] with the API route of this page (none: refused, "no access rule").
    async fn permit(&self, app: &AppState, signed: &SignedIn) -> Result<(), Response> {
        let route = PAGES
            .iter()
            .find(|p| p.method == self.method && p.page == self.routed);
        let (method, api) = route.map_or(("", self.routed.as_str()), |p| (p.api_method, p.api));
        permit(app, signed, method, api, &self.path).await
    }
}

/// A signed-in session whose role may use the page's API route ([`PAGES`]); else the
/// sign-in page, or the audited 403 page of [`permit`].
pub struct Permitted(pub SignedIn);

impl FromRequestParts<Arc<AppState>> for Permitted {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        app: &Arc<AppState>,
    ) -> Result<Permitted, Response> {
        let signed = SignedIn::from_request_parts(parts, app).await?;
        PageKey::of(parts).permit(app, &signed).await?;
        Ok(Permitted(signed))
    }
}

/// Refuses a POST whose CSRF token is not the session's: 403, written to the audit log
/// (through [`refuse`]) when the session is signed in. The one CSRF check of the web app.
pub async fn check_csrf(
    app: &AppState,
    session: Option<&Session>,
    given: Option<&str>,
    path: &str,
) -> Result<(), Response> {
    if let Some(s) = session {
        if session::csrf_matches(s, given) {
            return Ok(());
        }
    }
    let reason = "the form has no valid CSRF token (跨站请求伪造防护)";
    match session.and_then(|s| s.actor.as_ref()) {
        Some(actor) => {
            let e = refuse(app, actor, format!("POST {path}"), path, reason).await;
            let signed = session.map(|s| SignedIn {
                session: s.clone(),
                actor: actor.clone(),
            });
            Err(error_page(signed.as_ref(), &e))
        }
        None => {
            eprintln!("drgdip serve: refused POST {path} without a session's CSRF token");
            Err(error_page(None, &ApiError::forbidden(reason)))
        }
    }
}

/// A urlencoded form whose `csrf` field was checked, and the session it belongs to.
pub struct CsrfForm {
    /// The session (signed in or the sign-in form's).
    pub session: Session,
    /// The fields (the last value of a repeated name in `one`, all in `all`).
    pub all: Vec<(String, String)>,
    key: PageKey,
}

impl CsrfForm {
    /// The last value of a field.
    pub fn one(&self, name: &str) -> Option<&str> {
        self.all
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The signed-in session, if its role may use the page's API route ([`PAGES`]); else
    /// the sign-in page or the audited 403 page.
    pub async fn permitted(&self, app: &AppState) -> Result<SignedIn, Response> {
        let Some(actor) = self.session.actor.clone() else {
            return Err(Redirect::to("/login").into_response());
        };
        let signed = SignedIn {
            session: self.session.clone(),
            actor,
        };
        self.key.permit(app, &signed).await?;
        Ok(signed)
    }
}

impl FromRequest<Arc<AppState>> for CsrfForm {
    type Rejection = Response;

    async fn from_request(req: Request, app: &Arc<AppState>) -> Result<CsrfForm, Response> {
        let (parts, body) = req.into_parts();
        let key = PageKey::of(&parts);
        let path = key.path.clone();
        let session = app.web.sessions.get(&parts.headers);
        let req = Request::from_parts(parts, body);
        let bytes = axum::body::Bytes::from_request(req, app)
            .await
            .map_err(IntoResponse::into_response)?;
        let all: Vec<(String, String)> = form_urlencoded::parse(&bytes).into_owned().collect();
        let given = all
            .iter()
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v.as_str());
        check_csrf(app, session.as_ref(), given, &path).await?;
        Ok(CsrfForm {
            session: session.expect("checked"),
            all,
            key,
        })
    }
}

/// A multipart form whose first field, `csrf`, was checked (before any file is read), sent
/// by a session whose role may use the page's API route ([`PAGES`]).
pub struct CsrfMultipart {
    /// The signed-in, permitted session.
    pub signed: SignedIn,
    /// The fields after `csrf`.
    pub rest: Multipart,
}

impl FromRequest<Arc<AppState>> for CsrfMultipart {
    type Rejection = Response;

    async fn from_request(req: Request, app: &Arc<AppState>) -> Result<CsrfMultipart, Response> {
        let (mut parts, body) = req.into_parts();
        let key = PageKey::of(&parts);
        let path = key.path.clone();
        let signed = SignedIn::from_request_parts(&mut parts, app).await?;
        let req = Request::from_parts(parts, body);
        let mut form = Multipart::from_request(req, app)
            .await
            .map_err(IntoResponse::into_response)?;
        let first = form.next_field().await.ok().flatten();
        let given = match first {
            Some(f) if f.name() == Some("csrf") => f.text().await.ok(),
            _ => None,
        };
        check_csrf(app, Some(&signed.session), given.as_deref(), &path).await?;
        key.permit(app, &signed).await?;
        Ok(CsrfMultipart { signed, rest: form })
    }
}

/// Whether `actor` may call API route `method path` (a page's, see [`PAGES`]); if not, the
/// refusal of [`crate::auth::authorize`] (same reason, audited) as a 403 page.
async fn permit(
    app: &AppState,
    signed: &SignedIn,
    method: &str,
    path: &str,
    page: &str,
) -> Result<(), Response> {
    let actor = &signed.actor;
    let route = ROUTES.iter().find(|r| r.method == method && r.path == path);
    if route.is_some_and(|r| r.roles.contains(&actor.role.kind())) {
        return Ok(());
    }
    let reason = match route {
        Some(r) => format!(
            "{method} {} is for the role(s) {}; the caller acts as {}",
            r.path,
            r.roles.join(", "),
            role_text(&actor.role)
        ),
        None => format!("{method} {path} has no access rule"),
    };
    let e = refuse(app, actor, format!("GET {page}"), page, reason).await;
    Err(error_page(Some(signed), &e))
}

/// An API error as a page with its status (403: 无权访问).
pub fn error_page(signed: Option<&SignedIn>, e: &ApiError) -> Response {
    let title = match e.status {
        StatusCode::FORBIDDEN => "无权访问 Forbidden",
        StatusCode::NOT_FOUND => "未找到 Not found",
        StatusCode::BAD_REQUEST => "输入有误 Bad request",
        StatusCode::CONFLICT => "被拒绝 Refused",
        _ => "出错 Error",
    };
    let body = html! {
        h1 { (title) " (" (e.status.as_u16()) ")" }
        p.error role="alert" { (e.message) }
        @if e.status == StatusCode::FORBIDDEN {
            p { "此次拒绝已记入审计日志。This refusal is written to the audit log." }
        }
        p { a href="/" { "返回首页 Home" } }
    };
    let mut r = page(signed, title, body).into_response();
    *r.status_mut() = e.status;
    r
}

/// The page layout: header with the role's navigation, the content.
pub fn page(signed: Option<&SignedIn>, title: &str, content: Markup) -> Response {
    let nav: Vec<(&str, &str)> = match signed.map(|s| s.actor.role.kind()) {
        Some("hospital") => vec![
            ("/cases", "病例测算 Cases"),
            ("/statements", "结算单 Statements"),
            ("/feedback", "月告知 Feedback"),
            ("/arrears", "拨付与欠款 Arrears"),
            ("/special-cases", "特例单议 Special cases"),
            ("/budget", "预算执行 Budget"),
            ("/opinions", "意见 Opinions"),
        ],
        Some("reviewer") => vec![("/special-cases", "待审队列 Review queue")],
        Some("bureau") => vec![
            ("/settle", "月结算 Settle"),
            ("/statements", "结算单 Statements"),
            ("/feedback", "月告知 Feedback"),
            ("/arrears", "拨付与欠款 Arrears"),
            ("/special-cases", "特例单议 Special cases"),
            ("/budget", "预算执行 Budget"),
            ("/opinions", "意见 Opinions"),
            ("/audit", "审计日志 Audit"),
        ],
        _ => vec![],
    };
    let markup = html! {
        (DOCTYPE)
        html lang="zh-CN" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · drgdip" }
                link rel="stylesheet" href="/assets/app.css";
                script src="/assets/app.js" defer {}
            }
            body {
                header {
                    a.brand href="/" { "drgdip 医保支付" }
                    @if !nav.is_empty() {
                        nav aria-label="主导航 Main" {
                            @for (href, label) in &nav { a href=(href) { (label) } }
                        }
                    }
                    @if let Some(s) = signed {
                        form.logout method="post" action="/logout" {
                            input type="hidden" name="csrf" value=(s.session.csrf);
                            span.who { (role_text(&s.actor.role)) " · " (s.actor.id) }
                            button type="submit" { "退出 Sign out" }
                        }
                    }
                }
                main { (content) }
            }
        }
    };
    let mut r = maud::Markup::into_string(markup).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r.headers_mut().insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
        ),
    );
    r
}

/// The CSRF hidden field of a form.
pub fn csrf_field(s: &Session) -> Markup {
    html! { input type="hidden" name="csrf" value=(s.csrf); }
}

/// A JSON value as nested tables (what the API returned, nothing more).
pub fn value_table(v: &serde_json::Value) -> Markup {
    use serde_json::Value;
    match v {
        Value::Object(m) => html! {
            table.kv { @for (k, x) in m { tr { th scope="row" { (k) } td { (value_table(x)) } } } }
        },
        Value::Array(a) if a.is_empty() => html! { "—" },
        Value::Array(a) => html! { ol { @for x in a { li { (value_table(x)) } } } },
        Value::Null => html! { "—" },
        Value::String(s) => html! { (s) },
        other => html! { (other.to_string()) },
    }
}

/// A query string's pairs.
pub fn query_pairs(q: Option<&str>) -> HashMap<String, String> {
    form_urlencoded::parse(q.unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

/// Raw HTML (an inline SVG built here).
pub fn raw(s: String) -> Markup {
    PreEscaped(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_stands_on_a_route_of_the_api_and_is_listed_once() {
        for p in PAGES {
            assert!(
                ROUTES
                    .iter()
                    .any(|r| r.method == p.api_method && r.path == p.api),
                "{} {} stands on {} {}, which is not in auth::ROUTES",
                p.method,
                p.page,
                p.api_method,
                p.api
            );
            let same = PAGES
                .iter()
                .filter(|q| q.method == p.method && q.page == p.page)
                .count();
            assert_eq!(same, 1, "{} {} is listed {same} times", p.method, p.page);
        }
    }
}
