//! The handlers. Role checks by route are done before a handler runs (`auth::authorize`);
//! what depends on the data (whose application, which reviewer) is checked here and refused
//! through `auth::refuse`, which audits the refusal.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use drgdip_engine::payments::statements_as_of;
use drgdip_settle::{
    settled_cases_in_period, Actor, Application, ApplicationRequest, Command, Period, QuotaBase,
    ReasonKind, ReviewState, SettledCase, SpecialCaseError, YearMonth,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{refuse, Caller, ROUTES};
use crate::contract;
use crate::engine::{lang, CaseFields, GroupResult, PayResult};
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, QueryOf};
use crate::views::{
    ApplicationList, ApplicationView, BureauApplication, HospitalApplication, OpinionJson,
    ReviewerApplication, StandingJson, StatementJson,
};
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
    ApiError::not_found("no such endpoint: see / or /openapi.json")
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

fn parse_period(field: &str, text: &str) -> Result<Period, ApiError> {
    contract::check_period(field, text)?;
    text.parse::<Period>()
        .map_err(|e| ApiError::bad_request(field, format!("{field} {text:?}: {e}")))
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
// Special cases (特例单议)

/// A hospital's application.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitBody {
    /// The review period of the cases, of the kind `special_case.review_period` of the
    /// parameters says (`2025Q2` for a quarter; `2025-06`, `2025H1`, `2025` for the others).
    pub period: String,
    /// The cases: settled cases of the hospital discharged in the period, each once.
    pub case_ids: Vec<String>,
    /// long_stay, high_cost, new_technology, complex_critical or multidisciplinary.
    pub reason: String,
    /// The reason in words.
    pub text: String,
    /// The applying hospital: if given, it must be the token's own.
    #[serde(default)]
    pub hospital_id: Option<String>,
}

/// What the API answers to an error of the special-case review: 403 (audited) for a role or
/// assignment refusal; 409 for what the application does not allow (its state, the same
/// reviewer twice, opinions that do not name its cases one to one); 422 beyond the quota;
/// 400 naming the field otherwise.
async fn special_error(
    app: &AppState,
    actor: &Actor,
    action: &str,
    subject: &str,
    opinions: &[OpinionJson],
    e: SpecialCaseError,
) -> ApiError {
    let opinion_field =
        |case_id: &str, rest: &str| match opinions.iter().rposition(|o| o.case_id == case_id) {
            Some(i) => format!("opinions[{i}]{rest}"),
            None => "opinions".to_string(),
        };
    let message = e.to_string();
    match e {
        SpecialCaseError::NotAllowed { .. } | SpecialCaseError::NotAssigned { .. } => {
            refuse(app, actor, action, subject, message).await
        }
        SpecialCaseError::IllegalTransition { .. } => ApiError::conflict(message),
        SpecialCaseError::QuotaExceeded { .. } => ApiError::quota(message),
        SpecialCaseError::SameReviewer { .. } => {
            ApiError::conflict(message).with_field("reviewer_id")
        }
        SpecialCaseError::EmptyReviewer { .. } => ApiError::bad_request("reviewer_id", message),
        SpecialCaseError::WrongPeriodKind { .. } => ApiError::bad_request("period", message),
        SpecialCaseError::NoCases { .. } | SpecialCaseError::DuplicateCase { .. } => {
            ApiError::bad_request("case_ids", message)
        }
        SpecialCaseError::MissingText { .. } => ApiError::bad_request("text", message),
        // the opinions must name the application's cases, each once: what they do not
        // match is the application, not the form of the request
        SpecialCaseError::MissingOpinion { .. } => {
            ApiError::conflict(message).with_field("opinions")
        }
        SpecialCaseError::UnknownCase { ref case_id, .. }
        | SpecialCaseError::DuplicateOpinion { ref case_id, .. } => {
            ApiError::conflict(message).with_field(opinion_field(case_id, ".case_id"))
        }
        SpecialCaseError::MissingReason { ref case_id, .. } => {
            ApiError::bad_request(opinion_field(case_id, ".reason"), message)
        }
        SpecialCaseError::NonPositivePoints { ref case_id, .. } => {
            ApiError::bad_request(opinion_field(case_id, ".outcome.points"), message)
        }
        SpecialCaseError::BeforeFirstNotice { .. } => ApiError::bad_request("", message),
    }
}

/// A hospital applies for special cases (特例单议): settled cases of its own, discharged in
/// the review period, within the quota (`floor(share × settled cases)` minus the cases of
/// its earlier applications of the period). Another hospital's case, or another
/// `hospital_id`, is refused (403, audited).
#[utoipa::path(post, path = "/v1/special-cases", tag = "special cases",
    security(("bearer" = [])), request_body = SubmitBody,
    responses((status = 201, body = HospitalApplication,
            headers(("Location" = String, description = "the application: /v1/special-cases/{id}"))),
        (status = 400, body = ErrorBody, description = "a value of the wrong form; the field is named"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "not a hospital token, another hospital_id, or another hospital's case (audited)"),
        (status = 404, body = ErrorBody, description = "a case that is not a settled case discharged in the period (`case_ids[i]`)"),
        (status = 409, body = ErrorBody, description = "a case already in an application of the period, or a case that was not paid"),
        (status = 422, body = ErrorBody, description = "beyond the quota")))]
pub async fn submit(
    State(app): App,
    Caller(actor): Caller,
    JsonBody(body): JsonBody<SubmitBody>,
) -> Result<Response, ApiError> {
    let Some(own) = actor.hospital_id().map(str::to_string) else {
        return Err(refuse(
            &app,
            &actor,
            "submit special cases",
            "special cases",
            "only a hospital applies",
        )
        .await);
    };
    if let Some(h) = body.hospital_id.as_deref() {
        contract::check_id("hospital_id", h)?;
    }
    if let Some(other) = body.hospital_id.as_deref().filter(|h| *h != own) {
        return Err(refuse(
            &app,
            &actor,
            "submit special cases",
            format!("special cases of {other}"),
            format!("hospital {own} may only apply for its own cases"),
        )
        .await);
    }
    // the form, as the document states it (400)
    contract::check_period_of(
        "period",
        &body.period,
        app.engine.params().special_case.review_period,
    )?;
    let period = parse_period("period", &body.period)?;
    contract::check_count("case_ids", body.case_ids.len())?;
    for (i, c) in body.case_ids.iter().enumerate() {
        contract::check_case_id(&format!("case_ids[{i}]"), c)?;
        if let Some(j) = body.case_ids[..i].iter().position(|d| d == c) {
            return Err(ApiError::bad_request(
                format!("case_ids[{i}]"),
                format!("case {c} is already case_ids[{j}]: each case once"),
            ));
        }
    }
    let reason = ReasonKind::parse(&body.reason).ok_or_else(|| {
        ApiError::bad_request(
            "reason",
            format!(
                "reason {:?}: expected one of {}",
                body.reason,
                ReasonKind::ALL.map(ReasonKind::as_str).join(", ")
            ),
        )
    })?;
    contract::check_text("text", &body.text)?;
    let case_ids: Vec<String> = body.case_ids.clone();

    // one submission at a time: the quota counts the earlier applications
    let _writing = app.writes.lock().await;
    // the hospital's own cases of the period; the others' only when a case is not among them
    let own_cases = app
        .backend
        .settled_cases_in(period, Some(&own))
        .await
        .map_err(store_error("reading the settled cases"))?;
    let mut settled: HashMap<&str, &SettledCase> =
        own_cases.iter().map(|c| (c.case_id.as_str(), c)).collect();
    let others = if case_ids.iter().all(|id| settled.contains_key(id.as_str())) {
        Vec::new()
    } else {
        app.backend
            .settled_cases_in(period, None)
            .await
            .map_err(store_error("reading the settled cases"))?
    };
    for c in others.iter().filter(|c| c.hospital_id != own) {
        settled.insert(c.case_id.as_str(), c);
    }
    for (i, id) in case_ids.iter().enumerate() {
        match settled.get(id.as_str()).copied() {
            None => {
                return Err(ApiError::not_found(format!(
                    "case {id} is not a settled case discharged in {period}"
                ))
                .with_field(format!("case_ids[{i}]")))
            }
            Some(c) if c.hospital_id != own => {
                return Err(refuse(
                    &app,
                    &actor,
                    "submit special cases",
                    format!("case {id}"),
                    format!(
                        "case {id} is not a case of hospital {own} (it belongs to {}); a hospital applies only for its own cases",
                        c.hospital_id
                    ),
                )
                .await
                // the answer does not name the other hospital
                .with_message(format!("case {id} is not a case of hospital {own}")));
            }
            Some(c) if c.category == drgdip_pay::Category::Invalid => {
                return Err(ApiError::conflict(format!(
                    "case {id} failed validation and was not paid"
                ))
                .with_field(format!("case_ids[{i}]")))
            }
            Some(_) => {}
        }
    }
    let earlier = app
        .backend
        .applications(Some(&own), Some(period))
        .await
        .map_err(store_error("reading the applications"))?;
    let mut already_applied = 0u64;
    for a in earlier
        .iter()
        .filter(|a| a.state() != ReviewState::Withdrawn)
    {
        already_applied += a.case_ids().len() as u64;
        if let Some(i) = case_ids
            .iter()
            .position(|c| a.case_ids().binary_search(c).is_ok())
        {
            return Err(ApiError::conflict(format!(
                "case {} is already in application {} of {period}",
                case_ids[i],
                a.id()
            ))
            .with_field(format!("case_ids[{i}]")));
        }
    }
    let base = QuotaBase {
        method: app.engine.params().region.method,
        settled_cases: settled_cases_in_period(&own_cases, &own, period),
        already_applied,
    };
    let id = app
        .backend
        .next_application_id()
        .await
        .map_err(store_error("issuing an application id"))?;
    let request = ApplicationRequest {
        id: id.clone(),
        hospital_id: own,
        period,
        case_ids,
        reason,
        text: body.text,
    };
    let audited = match Application::submit(&actor, request, app.engine.params(), base) {
        Ok(a) => a,
        Err(e) => {
            return Err(special_error(&app, &actor, "submit special cases", &id, &[], e).await)
        }
    };
    app.backend
        .save_application(&audited.value, &audited.events)
        .await
        .map_err(store_error("saving the application"))?;
    let view = audited
        .value
        .hospital_view(&actor)
        .map(HospitalApplication::from)
        .map_err(|e| ApiError::internal("the hospital view", e))?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/v1/special-cases/{id}"))],
        Json(view),
    )
        .into_response())
}

/// Query of `GET /v1/special-cases`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// The review period (`2025Q2`), default: all.
    pub period: Option<String>,
    /// The hospital (bureau only; a hospital may name only itself; a reviewer none).
    pub hospital: Option<String>,
}

/// The caller's view of one application, or a refusal (403, audited).
async fn view_of(
    app: &AppState,
    actor: &Actor,
    a: &Application,
) -> Result<ApplicationView, ApiError> {
    match actor.role.kind() {
        "bureau" | "system" => Ok(ApplicationView::Bureau(BureauApplication::from(a))),
        "hospital" => match a.hospital_view(actor) {
            Ok(v) => Ok(ApplicationView::Hospital(v.into())),
            Err(_) => Err(refuse(
                app,
                actor,
                "view special case",
                a.id(),
                format!(
                    "application {} is not of hospital {}",
                    a.id(),
                    actor.hospital_id().unwrap_or("?")
                ),
            )
            .await),
        },
        _ => match a.reviewer_view(actor) {
            Ok(v) => Ok(ApplicationView::Reviewer(v.into())),
            Err(e) => Err(special_error(app, actor, "view special case", a.id(), &[], e).await),
        },
    }
}

fn is_assigned(a: &Application, reviewer: &str) -> bool {
    a.first_reviewer() == Some(reviewer) || a.second_reviewer() == Some(reviewer)
}

/// Applications in the caller's view: a hospital its own (never a reviewer), a reviewer
/// those assigned to it (never the hospital), the bureau all.
#[utoipa::path(get, path = "/v1/special-cases", tag = "special cases",
    security(("bearer" = [])), params(ListQuery),
    responses((status = 200, body = ApplicationList), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn list(
    State(app): App,
    Caller(actor): Caller,
    QueryOf(q): QueryOf<ListQuery>,
) -> Result<Json<ApplicationList>, ApiError> {
    let period = match q.period.as_deref() {
        None => None,
        Some(p) => Some(parse_period("period", p)?),
    };
    let asked = hospital_param(q.hospital.as_deref())?;
    let kind = actor.role.kind();
    let hospital = match (kind, actor.hospital_id(), asked) {
        ("hospital", Some(own), Some(other)) if other != own => {
            return Err(refuse(
                &app,
                &actor,
                "list special cases",
                format!("special cases of {other}"),
                format!("hospital {own} may only see its own applications"),
            )
            .await)
        }
        ("hospital", Some(own), _) => Some(own.to_string()),
        ("reviewer", _, Some(h)) => {
            return Err(refuse(
                &app,
                &actor,
                "list special cases",
                format!("special cases of {h}"),
                "a reviewer does not see which hospital applied",
            )
            .await)
        }
        (_, _, asked) => asked.map(str::to_string),
    };
    let apps = app
        .backend
        .applications(hospital.as_deref(), period)
        .await
        .map_err(store_error("reading the applications"))?;
    let mut out = Vec::new();
    for a in &apps {
        if kind == "reviewer" && !is_assigned(a, &actor.id) {
            continue;
        }
        out.push(view_of(&app, &actor, a).await?);
    }
    Ok(Json(ApplicationList {
        view: if kind == "system" { "bureau" } else { kind }.to_string(),
        applications: out,
    }))
}

async fn load(app: &AppState, id: &str) -> Result<Application, ApiError> {
    app.backend
        .application(id)
        .await
        .map_err(store_error("reading the application"))?
        .ok_or_else(|| ApiError::not_found(format!("no application {id:?}")))
}

/// One application in the caller's view; another hospital's, or one the reviewer is not
/// assigned to, is refused (403, audited).
#[utoipa::path(get, path = "/v1/special-cases/{id}", tag = "special cases",
    security(("bearer" = [])), params(("id" = String, Path, description = "the application id")),
    responses((status = 200, body = ApplicationView), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn get_one(
    State(app): App,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Json<ApplicationView>, ApiError> {
    let a = load(&app, &id).await?;
    view_of(&app, &actor, &a).await.map(Json)
}

/// The bureau assigns a reviewer.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    /// A reviewer of the tokens file. A `submitted` application gets its first reviewer
    /// (初审), a `first_reviewed` one its second (复审), who must be another reviewer.
    pub reviewer_id: String,
}

/// Assigns the first or the second reviewer (by the application's state).
#[utoipa::path(post, path = "/v1/special-cases/{id}/assign", tag = "special cases",
    security(("bearer" = [])), params(("id" = String, Path, description = "the application id")),
    request_body = AssignBody,
    responses((status = 200, body = BureauApplication), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "no such application, or `reviewer_id` is not a reviewer of the tokens file"),
        (status = 409, body = ErrorBody, description = "the state does not allow an assignment, or the second reviewer is the first")))]
pub async fn assign(
    State(app): App,
    Caller(actor): Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<AssignBody>,
) -> Result<Json<BureauApplication>, ApiError> {
    contract::check_id("reviewer_id", &body.reviewer_id)?;
    let reviewer = body.reviewer_id.clone();
    if !app.tokens.is_reviewer(&reviewer) {
        return Err(
            ApiError::not_found(format!("no reviewer {reviewer:?} in the tokens file"))
                .with_field("reviewer_id"),
        );
    }
    let _writing = app.writes.lock().await;
    let mut a = load(&app, &id).await?;
    let command = if a.state() == ReviewState::FirstReviewed {
        Command::AssignSecondReviewer {
            reviewer_id: reviewer,
        }
    } else {
        Command::AssignFirstReviewer {
            reviewer_id: reviewer,
        }
    };
    let event = match a.apply(&actor, command) {
        Ok(e) => e,
        Err(e) => return Err(special_error(&app, &actor, "assign reviewer", &id, &[], e).await),
    };
    app.backend
        .save_application(&a, &[event])
        .await
        .map_err(store_error("saving the application"))?;
    Ok(Json(BureauApplication::from(&a)))
}

/// A reviewer's opinions.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    /// One opinion per case of the application, each with the experts' reason.
    pub opinions: Vec<OpinionJson>,
}

/// The assigned reviewer records its review: the first review (初审) in `first_review`, the
/// decision (复审) in `second_review`. Anyone else is refused (403, audited).
#[utoipa::path(post, path = "/v1/special-cases/{id}/review", tag = "special cases",
    security(("bearer" = [])), params(("id" = String, Path, description = "the application id")),
    request_body = ReviewBody,
    responses((status = 200, body = ReviewerApplication), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "the state does not allow this review, or the opinions do not name the application's cases one to one")))]
pub async fn review(
    State(app): App,
    Caller(actor): Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ReviewBody>,
) -> Result<Json<ReviewerApplication>, ApiError> {
    contract::check_count("opinions", body.opinions.len())?;
    let opinions = body
        .opinions
        .iter()
        .enumerate()
        .map(|(i, o)| o.to_opinion(&format!("opinions[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    let _writing = app.writes.lock().await;
    let mut a = load(&app, &id).await?;
    if !is_assigned(&a, &actor.id) {
        return Err(refuse(
            &app,
            &actor,
            "review special case",
            &id,
            format!("{actor} is not a reviewer assigned to application {id}"),
        )
        .await);
    }
    let command = if a.state() == ReviewState::SecondReview
        && a.second_reviewer() == Some(actor.id.as_str())
    {
        Command::RecordSecondReview {
            decisions: opinions,
        }
    } else {
        Command::RecordFirstReview { opinions }
    };
    let event = match a.apply(&actor, command) {
        Ok(e) => e,
        Err(e) => {
            return Err(
                special_error(&app, &actor, "review special case", &id, &body.opinions, e).await,
            )
        }
    };
    app.backend
        .save_application(&a, &[event])
        .await
        .map_err(store_error("saving the application"))?;
    let view = a
        .reviewer_view(&actor)
        .map_err(|e| ApiError::internal("the reviewer view", e))?;
    Ok(Json(view.into()))
}

/// A hospital withdraws its application.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawBody {
    /// Why.
    pub reason: String,
}

/// The applying hospital withdraws its application (while `submitted` or in the first
/// review). Another hospital is refused (403, audited).
#[utoipa::path(post, path = "/v1/special-cases/{id}/withdraw", tag = "special cases",
    security(("bearer" = [])), params(("id" = String, Path, description = "the application id")),
    request_body = WithdrawBody,
    responses((status = 200, body = HospitalApplication), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn withdraw(
    State(app): App,
    Caller(actor): Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<WithdrawBody>,
) -> Result<Json<HospitalApplication>, ApiError> {
    contract::check_text("reason", &body.reason)?;
    let _writing = app.writes.lock().await;
    let mut a = load(&app, &id).await?;
    if actor.hospital_id() != Some(a.hospital_id()) {
        return Err(refuse(
            &app,
            &actor,
            "withdraw special case",
            &id,
            format!(
                "application {id} is not of hospital {}",
                actor.hospital_id().unwrap_or("?")
            ),
        )
        .await);
    }
    let event = match a.apply(
        &actor,
        Command::Withdraw {
            reason: body.reason.trim().to_string(),
        },
    ) {
        Ok(e) => e,
        Err(e) => {
            return Err(special_error(&app, &actor, "withdraw special case", &id, &[], e).await)
        }
    };
    app.backend
        .save_application(&a, &[event])
        .await
        .map_err(store_error("saving the application"))?;
    let view = a
        .hospital_view(&actor)
        .map_err(|e| ApiError::internal("the hospital view", e))?;
    Ok(Json(view.into()))
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
