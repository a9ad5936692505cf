//! The handlers. Role checks by route are done before a handler runs (`auth::authorize`);
//! what depends on the data (whose application, which reviewer) is checked here and refused
//! through `auth::refuse`, which audits the refusal.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use drgdip_engine::payments::statements_as_of;
use drgdip_settle::YearMonth;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{refuse, Caller, ROUTES};
use crate::contract;
use crate::engine::{lang, CaseFields, GroupResult, PayResult};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, QueryOf};
use crate::views::{StandingJson, StatementJson};
use crate::AppState;

type App = State<Arc<AppState>>;

fn store_error(what: &str) -> impl FnOnce(crate::backend::BackendError) -> ApiError + '_ {
    move |e| ApiError::internal(what, e)
}

// ---------------------------------------------------------------------------------------
// Public: index, OpenAPI, health

/// A minimal page listing the endpoints.
pub async fn index() -> Html<String> {
    let mut rows = String::new();
    for r in ROUTES {
        rows.push_str(&format!(
            "<tr><td><code>{}</code></td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>\n",
            r.method,
            html_escape(r.path),
            r.roles.join(", "),
            html_escape(r.summary)
        ));
    }
    Html(format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>drgdip API</title>\
<style>body{{font-family:sans-serif;margin:2em;max-width:70em}}td,th{{padding:.3em .8em;text-align:left;border-bottom:1px solid #ddd}}</style></head>\n\
<body><h1>drgdip API</h1>\n\
<p>CHS-DRG grouping and payment of one case, monthly statements, the special-case review (特例单议) and the audit log. \
Every <code>/v1</code> call needs <code>Authorization: Bearer TOKEN</code>; the token's role decides what it may do. \
The OpenAPI document is at <a href=\"/openapi.json\">/openapi.json</a>; <a href=\"/health\">/health</a> answers <code>ok</code>.</p>\n\
<table><tr><th>method</th><th>path</th><th>roles</th><th>what</th></tr>\n{rows}</table>\n</body></html>\n"
    ))
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The OpenAPI document.
pub async fn openapi(State(app): App) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        app.openapi.clone(),
    )
        .into_response()
}

/// Liveness.
pub async fn health() -> &'static str {
    "ok"
}

/// Unknown paths.
pub async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint: see /api or /openapi.json")
}

/// A known path with another method.
pub async fn method_not_allowed() -> Response {
    let e = ApiError {
        status: StatusCode::METHOD_NOT_ALLOWED,
        code: "method_not_allowed",
        message: "this endpoint does not take that method: see /openapi.json".into(),
        field: None,
    };
    e.into_response()
}

// ---------------------------------------------------------------------------------------
// Who am I

/// The caller.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WhoAmI {
    /// The user id in the audit log.
    pub actor: String,
    /// `bureau`, `hospital` or `reviewer`.
    pub role: String,
    /// The hospital, for a hospital token.
    pub hospital_id: Option<String>,
}

/// Who the token is.
#[utoipa::path(get, path = "/v1/whoami", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = WhoAmI), (status = 401, body = ErrorBody)))]
pub async fn whoami(Caller(actor): Caller) -> Json<WhoAmI> {
    Json(WhoAmI {
        role: actor.role.kind().to_string(),
        hospital_id: actor.hospital_id().map(str::to_string),
        actor: actor.id,
    })
}

// ---------------------------------------------------------------------------------------
// Group and pay one case

/// Query of `POST /v1/group`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct GroupQuery {
    /// Language of the explanation: `zh` (default) or `en`.
    pub lang: Option<String>,
    /// The scheme: a scheme name, or `auto` (by the case's insured region and discharge
    /// date); default: the region's scheme (`region.scheme` of the parameters).
    pub scheme: Option<String>,
}

/// Groups one case and explains the result. A case that fails validation is a result
/// (`status: invalid`, with its problems), not an error.
#[utoipa::path(post, path = "/v1/group", tag = "cases", security(("bearer" = [])),
    params(GroupQuery), request_body = CaseFields,
    responses((status = 200, body = GroupResult), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody)))]
pub async fn group_case(
    State(app): App,
    _caller: Caller,
    QueryOf(q): QueryOf<GroupQuery>,
    JsonBody(case): JsonBody<CaseFields>,
) -> Result<Json<GroupResult>, ApiError> {
    let lang = lang(q.lang.as_deref())?;
    app.engine.group(&case, q.scheme.as_deref(), lang).map(Json)
}

/// Pays one case under the region's DRG parameters (weights, standards, outliers,
/// special groups, cross-region rules) with the rule lines. A case that fails validation is
/// a result (`category: invalid`); a case without `total_cost`, `fund_paid` or a hospital
/// level is a 400.
#[utoipa::path(post, path = "/v1/pay", tag = "cases", security(("bearer" = [])),
    request_body = CaseFields,
    responses((status = 200, body = PayResult), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody)))]
pub async fn pay_case(
    State(app): App,
    _caller: Caller,
    JsonBody(case): JsonBody<CaseFields>,
) -> Result<Json<PayResult>, ApiError> {
    app.engine.pay(&case).map(Json)
}

// ---------------------------------------------------------------------------------------
// Statements

/// Query of `GET /v1/statements`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct StatementsQuery {
    /// The discharge month, `YYYY-MM` (default: every month).
    pub month: Option<String>,
    /// The hospital (default: every hospital for the bureau; a hospital token may only name
    /// its own).
    pub hospital: Option<String>,
    /// The date of each statement's standing (paid, outstanding, days overdue),
    /// `YYYY-MM-DD` (default: today).
    pub as_of: Option<String>,
}

pub(crate) fn parse_month(text: Option<&str>) -> Result<Option<YearMonth>, ApiError> {
    let Some(t) = text else {
        return Ok(None);
    };
    contract::check_month("month", t)?;
    t.parse::<YearMonth>()
        .map(Some)
        .map_err(|e| ApiError::bad_request("month", format!("month {t:?}: {e}")))
}

/// The hospital of `?hospital=`, checked.
pub(crate) fn hospital_param(text: Option<&str>) -> Result<Option<&str>, ApiError> {
    match text {
        None => Ok(None),
        Some(h) => contract::check_id("hospital", h).map(|()| Some(h)),
    }
}

/// Monthly statements (月结算单), by month and hospital. A hospital sees only its own: naming
/// another hospital is refused (403, audited).
#[utoipa::path(get, path = "/v1/statements", tag = "settlement", security(("bearer" = [])),
    params(StatementsQuery),
    responses((status = 200, body = Vec<StatementJson>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn statements(
    State(app): App,
    Caller(actor): Caller,
    QueryOf(q): QueryOf<StatementsQuery>,
) -> Result<Json<Vec<StatementJson>>, ApiError> {
    let month = parse_month(q.month.as_deref())?;
    let asked = hospital_param(q.hospital.as_deref())?;
    let hospital = match actor.hospital_id() {
        Some(own) => {
            if let Some(other) = asked.filter(|h| *h != own) {
                return Err(refuse(
                    &app,
                    &actor,
                    "view statements",
                    format!("statements of {other}"),
                    format!("hospital {own} may only see its own statements"),
                )
                .await);
            }
            Some(own)
        }
        None => asked,
    };
    let as_of = match q.as_of.as_deref() {
        Some(text) => crate::payments::parse_date("as_of", text)?,
        None => crate::ledger::today()?,
    };
    // the ledger gives each statement's standing; a store that keeps no payments (a test
    // double) gives the statements alone
    let Some(store) = app.backend.ledger() else {
        let list = app
            .backend
            .statements(month, hospital)
            .await
            .map_err(store_error("reading the statements"))?;
        return Ok(Json(list.iter().map(StatementJson::from).collect()));
    };
    let list = statements_as_of(&store, month, hospital, as_of)
        .await
        .map_err(|e| ApiError::internal("reading the statements", crate::ledger::chain(&e)))?;
    Ok(Json(
        list.iter()
            .map(|s| StatementJson {
                standing: Some(StandingJson::of(as_of, &s.as_of)),
                ..StatementJson::from(&s.statement)
            })
            .collect(),
    ))
}

// ---------------------------------------------------------------------------------------
// Audit

/// Query of `GET /v1/audit`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// How many entries, newest first: 1..=10000, default 100.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 10000)]
    pub limit: Option<String>,
}

/// The most entries `GET /v1/audit` returns.
pub const MAX_AUDIT: u32 = 10_000;

/// The audit log, newest first: every state change and every refusal.
#[utoipa::path(get, path = "/v1/audit", tag = "audit", security(("bearer" = [])),
    params(AuditQuery),
    responses((status = 200, body = Vec<crate::backend::AuditEntry>),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn audit(
    State(app): App,
    _caller: Caller,
    QueryOf(q): QueryOf<AuditQuery>,
) -> Result<Json<Vec<crate::backend::AuditEntry>>, ApiError> {
    let limit = match q.limit.as_deref() {
        None => 100,
        Some(t) => match t.parse::<u32>() {
            Ok(n @ 1..=MAX_AUDIT) if t.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => {
                return Err(ApiError::bad_request(
                    "limit",
                    format!("limit {t:?}: expected a whole number from 1 to {MAX_AUDIT}"),
                ))
            }
        },
    };
    app.backend
        .audit_log(limit)
        .await
        .map(Json)
        .map_err(store_error("reading the audit log"))
}
