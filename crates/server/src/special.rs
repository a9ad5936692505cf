//! The special-case review (特例单议) over HTTP: each handler checks the form of the request
//! (400 naming the field, as the document states it) and calls the engine's use case
//! (`drgdip_engine::special_case::Desk`), the same functions `drgdip special-cases` calls.
//! The reads (list, one application) are the views of `drgdip-settle` over the backend;
//! the writes need the ledger (`Backend::ledger`; 503 without one).

use std::sync::Arc;
use std::time::SystemTime;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use drgdip_engine::special_case::{Desk, Pricing, ReviewError, SubmitRequest};
use drgdip_engine::Region;
use drgdip_settle::{Actor, Application, Date, HalfYear, Period, ReasonKind, SpecialCaseError};
use drgdip_store::Store;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::auth::{refuse, Caller};
use crate::contract;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, QueryOf};
use crate::routes::hospital_param;
use crate::views::{
    ApplicationList, ApplicationView, BureauApplication, DrawJson, HospitalApplication, NoticeJson,
    OpinionJson, ReviewerApplication, RoundJson,
};
use crate::AppState;

type App = State<Arc<AppState>>;

fn no_ledger() -> ApiError {
    ApiError {
        status: StatusCode::SERVICE_UNAVAILABLE,
        code: "unavailable",
        message: "this server's store is not a ledger: the special-case review needs one".into(),
        field: None,
    }
}

fn today() -> Result<Date, ApiError> {
    drgdip_store::rfc3339(SystemTime::now())[..10]
        .parse()
        .map_err(|e| ApiError::internal("reading the system date", e))
}

fn parse_period(field: &str, text: &str) -> Result<Period, ApiError> {
    contract::check_period(field, text)?;
    text.parse::<Period>()
        .map_err(|e| ApiError::bad_request(field, format!("{field} {text:?}: {e}")))
}

/// The engine's desk over the ledger, or 503 without one.
fn ledger(app: &AppState) -> Result<(Store, Arc<Region>), ApiError> {
    let store = app.backend.ledger().ok_or_else(no_ledger)?;
    Ok((store, app.engine.region().clone()))
}

fn desk<'a>(app: &'a AppState, store: &'a Store, region: &'a Region) -> Desk<'a> {
    Desk {
        store,
        pricing: Pricing::Drg(region),
        experts: &app.experts,
    }
}

/// What the API answers to a refusal of the review: 403 (audited) for a role or
/// assignment refusal; 404 for an unknown application, case or expert; 409 for what the
/// application or the ledger does not allow (its state, a conflict of interest — audited —,
/// opinions that do not name its cases one to one, a case already applied for); 422 beyond
/// the quota; 400 naming the field otherwise.
async fn review_error(
    app: &AppState,
    actor: &Actor,
    action: &str,
    subject: &str,
    opinions: &[OpinionJson],
    e: ReviewError,
) -> ApiError {
    let opinion_field = |case: &str, rest: &str| match opinions.iter().rposition(|o| o.case == case)
    {
        Some(i) => format!("opinions[{i}]{rest}"),
        None => "opinions".to_string(),
    };
    let message = e.to_string();
    let rule = match e {
        ReviewError::Rule(rule) => rule,
        ReviewError::NotFound { field, .. } => {
            let e = ApiError::not_found(message);
            return match field {
                Some(f) => e.with_field(f),
                None => e,
            };
        }
        ReviewError::Forbidden { .. } => return ApiError::forbidden(message),
        ReviewError::Conflict { field, .. } => {
            let e = ApiError::conflict(message);
            return match field {
                Some(f) => e.with_field(f),
                None => e,
            };
        }
        ReviewError::BadInput { field, message } => return ApiError::bad_request(field, message),
        ReviewError::Engine(e) => return ApiError::internal(action, e),
    };
    use SpecialCaseError as E;
    match rule {
        E::NotAllowed { .. } | E::NotAssigned { .. } => {
            refuse(app, actor, action, subject, message).await
        }
        E::IllegalTransition { .. }
        | E::AlreadyReviewed { .. }
        | E::NoSpotCheck { .. }
        | E::AlreadyDrawn { .. } => ApiError::conflict(message),
        E::QuotaExceeded { .. } => ApiError::quota(message),
        E::UnknownExpert { .. } => ApiError::not_found(message).with_field("reviewer_ids"),
        E::OwnHospital { .. }
        | E::BothStages { .. }
        | E::DuplicateReviewer { .. }
        | E::SpotCheckConflict { .. } => ApiError::conflict(message).with_field("reviewer_ids"),
        E::WrongReviewerCount { .. } => ApiError::bad_request("reviewer_ids", message),
        E::WrongPeriodKind { .. } => ApiError::bad_request("period", message),
        E::NoCases { .. } | E::DuplicateCase { .. } => ApiError::bad_request("case_ids", message),
        E::MissingText { .. } => ApiError::bad_request("text", message),
        // the opinions must name the application's cases, each once: what they do not
        // match is the application, not the form of the request
        E::MissingOpinion { .. } => ApiError::conflict(message).with_field("opinions"),
        E::UnknownCase { ref case, .. } | E::DuplicateOpinion { ref case, .. } => {
            ApiError::conflict(message).with_field(opinion_field(case, ".case"))
        }
        E::MissingReason { ref case, .. } => {
            ApiError::bad_request(opinion_field(case, ".reason"), message)
        }
        E::PointsOutOfRange { ref case, .. } => {
            ApiError::bad_request(opinion_field(case, ".outcome.points"), message)
        }
        E::BeforeFirstNotice { .. } => ApiError::not_found(message).with_field("half"),
    }
}

// ---------------------------------------------------------------------------------------
// Submit

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
    /// The reason in words (shown to the reviewers as written: do not name the hospital).
    pub text: String,
    /// The settled month's case file rows of the cases: its header and one row per case.
    /// Each row is priced again and must give the ledger's total cost and fund_due; the
    /// reviewers see the record it gives (codes with names, age, sex, stay, costs, group).
    pub records: String,
    /// The applying hospital: if given, it must be the token's own.
    #[serde(default)]
    pub hospital_id: Option<String>,
}

/// A hospital applies for special cases (特例单议): settled cases of its own, discharged in
/// the review period, within the region's quota (pooled: `floor(share × the region's settled
/// cases of the period)` shared first come first served; per hospital: of its own), with
/// their case rows. Another hospital's case, or another `hospital_id`, is refused (403,
/// audited).
#[utoipa::path(post, path = "/v1/special-cases", tag = "special cases",
    security(("bearer" = [])), request_body = SubmitBody,
    responses((status = 201, body = HospitalApplication,
            headers(("Location" = String, description = "the application: /v1/special-cases/{id}"))),
        (status = 400, body = ErrorBody, description = "a value of the wrong form, or records that are not the settled rows of the cases; the field is named"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "not a hospital token, another hospital_id, or another hospital's case (audited)"),
        (status = 404, body = ErrorBody, description = "a case that is not a settled case discharged in the period (`case_ids[i]`)"),
        (status = 409, body = ErrorBody, description = "a case already in an application of the period, or a case that was not paid"),
        (status = 422, body = ErrorBody, description = "beyond the quota: the cap, the cases used, the remaining and the requested"),
        (status = 503, body = ErrorBody, description = "the server's store is not a ledger")))]
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
    contract::check_records("records", &body.records)?;
    let request = SubmitRequest {
        period,
        case_ids: body.case_ids,
        reason,
        text: body.text,
        records: body.records,
    };
    // one submission at a time: the quota counts the earlier applications
    let _writing = app.writes.lock().await;
    let submitted = {
        let (store, region) = ledger(&app)?;
        desk(&app, &store, &region).submit(&actor, request).await
    };
    let submitted = match submitted {
        Ok(s) => s,
        Err(e) => {
            return Err(review_error(
                &app,
                &actor,
                "submit special cases",
                "special cases",
                &[],
                e,
            )
            .await)
        }
    };
    let a = submitted.application;
    let view = a
        .hospital_view(&actor)
        .map(HospitalApplication::from)
        .map_err(|e| ApiError::internal("the hospital view", e))?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/v1/special-cases/{}", a.id()))],
        Json(view),
    )
        .into_response())
}

// ---------------------------------------------------------------------------------------
// Read

/// Query of `GET /v1/special-cases`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// The review period (`2025Q2`), default: all (the rounds: of the next round's period).
    pub period: Option<String>,
    /// The hospital (bureau only; a hospital may name only itself; a reviewer none).
    pub hospital: Option<String>,
}

fn is_assigned(a: &Application, reviewer: &str) -> bool {
    a.first_reviewers().contains(&reviewer)
        || a.second_reviewer() == Some(reviewer)
        || a.spot_checks()
            .iter()
            .any(|s| s.reviewer.as_deref() == Some(reviewer))
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
            Err(e) => {
                Err(review_error(app, actor, "view special case", a.id(), &[], e.into()).await)
            }
        },
    }
}

/// Applications in the caller's view: a hospital its own (never a reviewer), a reviewer
/// those assigned to it (never the hospital), the bureau all; with the review rounds of the
/// period and the next round (at least one a quarter).
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
        .map_err(|e| ApiError::internal("reading the applications", e))?;
    let mut out = Vec::new();
    for a in &apps {
        if kind == "reviewer" && !is_assigned(a, &actor.id) {
            continue;
        }
        out.push(view_of(&app, &actor, a).await?);
    }
    let params = app.engine.params();
    let s = &params.special_case;
    let day = params.settlement.declaration_day;
    let next = drgdip_settle::next_round(s.review_period, today()?, day);
    let rounds_of = period
        .filter(|p| p.kind() == s.review_period)
        .unwrap_or(next.period);
    let rounds = drgdip_settle::review_rounds(s.review_period, rounds_of, day);
    Ok(Json(ApplicationList {
        view: if kind == "system" { "bureau" } else { kind }.to_string(),
        applications: out,
        rounds: rounds.iter().map(RoundJson::from).collect(),
        next_round: RoundJson::from(&next),
    }))
}

async fn load(app: &AppState, id: &str) -> Result<Application, ApiError> {
    app.backend
        .application(id)
        .await
        .map_err(|e| ApiError::internal("reading the application", e))?
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

// ---------------------------------------------------------------------------------------
// Assign, review, withdraw

/// The bureau assigns reviewers.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    /// Experts of the registry, each a reviewer of the tokens file (the reviewer's id is the
    /// expert id). A `submitted` application gets its `first_review_experts` distinct first
    /// reviewers (初审); a `first_reviewed` one its second reviewer (复审), exactly one, who
    /// took no part in the first review. Nobody reviews a case of the hospital they work at.
    pub reviewer_ids: Vec<String>,
}

/// Assigns the first or the second reviewers (by the application's state). A conflict of
/// interest is refused (409, audited).
#[utoipa::path(post, path = "/v1/special-cases/{id}/assign", tag = "special cases",
    security(("bearer" = [])), params(("id" = String, Path, description = "the application id")),
    request_body = AssignBody,
    responses((status = 200, body = BureauApplication),
        (status = 400, body = ErrorBody, description = "a value of the wrong form, or not as many reviewers as the stage takes"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "no such application, or a reviewer that is not a reviewer of the tokens file or not an expert of the registry"),
        (status = 409, body = ErrorBody, description = "the state does not allow an assignment, or a conflict of interest (own hospital, both stages, the same expert twice; audited)"),
        (status = 503, body = ErrorBody, description = "the server's store is not a ledger")))]
pub async fn assign(
    State(app): App,
    Caller(actor): Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<AssignBody>,
) -> Result<Json<BureauApplication>, ApiError> {
    contract::check_count("reviewer_ids", body.reviewer_ids.len())?;
    for (i, r) in body.reviewer_ids.iter().enumerate() {
        let field = format!("reviewer_ids[{i}]");
        contract::check_id(&field, r)?;
        if !app.tokens.is_reviewer(r) {
            return Err(
                ApiError::not_found(format!("no reviewer {r:?} in the tokens file"))
                    .with_field(field),
            );
        }
    }
    let _writing = app.writes.lock().await;
    load(&app, &id).await?;
    let done = {
        let (store, region) = ledger(&app)?;
        desk(&app, &store, &region)
            .assign(&actor, &id, &body.reviewer_ids)
            .await
    };
    match done {
        Ok(a) => Ok(Json(BureauApplication::from(&a))),
        Err(e) => Err(review_error(&app, &actor, "assign reviewer", &id, &[], e).await),
    }
}

/// A reviewer's opinions.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    /// One opinion per case of the application (a spot-check expert: per case drawn for
    /// it), each naming the case by its token, with the experts' reason.
    pub opinions: Vec<OpinionJson>,
}

/// The assigned reviewer records its review: a first reviewer its first review (初审), the
/// second reviewer the decision (复审, which decides whatever the first reviews said), a
/// spot-check expert the re-review (抽查复核; a reversal becomes an adjustment on the
/// hospital's next statement). Anyone else is refused (403, audited).
#[utoipa::path(post, path = "/v1/special-cases/{id}/review", tag = "special cases",
    security(("bearer" = [])), params(("id" = String, Path, description = "the application id")),
    request_body = ReviewBody,
    responses((status = 200, body = ReviewerApplication),
        (status = 400, body = ErrorBody, description = "a value of the wrong form, a blank reason, or extra points above special_case.max_extra_points"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "the state does not allow this review, the reviewer has already recorded it, or the opinions do not name the application's cases one to one"),
        (status = 503, body = ErrorBody, description = "the server's store is not a ledger")))]
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
    load(&app, &id).await?;
    let done = {
        let (store, region) = ledger(&app)?;
        desk(&app, &store, &region)
            .review(&actor, &id, opinions)
            .await
    };
    let a = match done {
        Ok(r) => r.application,
        Err(e) => {
            return Err(
                review_error(&app, &actor, "review special case", &id, &body.opinions, e).await,
            )
        }
    };
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
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 503, body = ErrorBody, description = "the server's store is not a ledger")))]
pub async fn withdraw(
    State(app): App,
    Caller(actor): Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<WithdrawBody>,
) -> Result<Json<HospitalApplication>, ApiError> {
    contract::check_text("reason", &body.reason)?;
    let _writing = app.writes.lock().await;
    let a = load(&app, &id).await?;
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
    let done = {
        let (store, region) = ledger(&app)?;
        desk(&app, &store, &region)
            .withdraw(&actor, &id, &body.reason)
            .await
    };
    let a = match done {
        Ok(a) => a,
        Err(e) => {
            return Err(review_error(&app, &actor, "withdraw special case", &id, &[], e).await)
        }
    };
    let view = a
        .hospital_view(&actor)
        .map_err(|e| ApiError::internal("the hospital view", e))?;
    Ok(Json(view.into()))
}

// ---------------------------------------------------------------------------------------
// Spot checks and the notice

/// The bureau draws the half-year's spot checks.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DrawBody {
    /// The half-year (`2025H1`).
    pub half: String,
    /// The seed of the draw, as text: 1 to 18 digits (recorded; the same seed draws the
    /// same cases).
    pub seed: String,
}

/// Draws `special_case.spot_check_share` of the half-year's decided cases (抽查复核), once
/// per half-year, with the recorded seed; each drawn case is marked on its application
/// (audited).
#[utoipa::path(post, path = "/v1/special-cases/spot-checks", tag = "special cases",
    security(("bearer" = [])), request_body = DrawBody,
    responses((status = 200, body = DrawJson),
        (status = 400, body = ErrorBody, description = "a value of the wrong form"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "not a bureau token (audited)"),
        (status = 409, body = ErrorBody, description = "the half-year was already drawn"),
        (status = 503, body = ErrorBody, description = "the server's store is not a ledger")))]
pub async fn draw(
    State(app): App,
    Caller(actor): Caller,
    JsonBody(body): JsonBody<DrawBody>,
) -> Result<Json<DrawJson>, ApiError> {
    contract::check_half("half", &body.half)?;
    let seed = contract::check_seed("seed", &body.seed)?;
    let half: HalfYear = body
        .half
        .parse()
        .map_err(|e| ApiError::bad_request("half", format!("half {:?}: {e}", body.half)))?;
    let _writing = app.writes.lock().await;
    let done = {
        let (store, region) = ledger(&app)?;
        desk(&app, &store, &region).draw(&actor, half, seed).await
    };
    match done {
        Ok(d) => Ok(Json(DrawJson::from(&d))),
        Err(e) => Err(review_error(&app, &actor, "draw spot checks", "spot checks", &[], e).await),
    }
}

/// The bureau assigns a drawn case's re-review.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SpotCheckBody {
    /// The drawn case's token.
    pub case: String,
    /// An expert who took no part in the case's review and has no conflict.
    pub reviewer_id: String,
}

/// Assigns the re-review of a drawn case to an expert who took no part in its review and
/// does not work at the hospital (a conflict: 409, audited).
#[utoipa::path(post, path = "/v1/special-cases/{id}/spot-check", tag = "special cases",
    security(("bearer" = [])), params(("id" = String, Path, description = "the application id")),
    request_body = SpotCheckBody,
    responses((status = 200, body = BureauApplication),
        (status = 400, body = ErrorBody, description = "a value of the wrong form"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "not a bureau token (audited)"),
        (status = 404, body = ErrorBody, description = "no such application, or a reviewer that is not a reviewer of the tokens file or not an expert of the registry"),
        (status = 409, body = ErrorBody, description = "the case has no open spot check, or a conflict of interest (audited)"),
        (status = 503, body = ErrorBody, description = "the server's store is not a ledger")))]
pub async fn assign_spot_check(
    State(app): App,
    Caller(actor): Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<SpotCheckBody>,
) -> Result<Json<BureauApplication>, ApiError> {
    contract::check_token("case", &body.case)?;
    contract::check_id("reviewer_id", &body.reviewer_id)?;
    if !app.tokens.is_reviewer(&body.reviewer_id) {
        return Err(ApiError::not_found(format!(
            "no reviewer {:?} in the tokens file",
            body.reviewer_id
        ))
        .with_field("reviewer_id"));
    }
    let _writing = app.writes.lock().await;
    load(&app, &id).await?;
    let done = {
        let (store, region) = ledger(&app)?;
        desk(&app, &store, &region)
            .assign_spot_check(&actor, &id, &body.case, &body.reviewer_id)
            .await
    };
    match done {
        Ok(a) => Ok(Json(BureauApplication::from(&a))),
        Err(e) => Err(review_error(&app, &actor, "assign spot check", &id, &[], e).await),
    }
}

/// Query of `GET /v1/special-cases/notice`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NoticeQuery {
    /// The half-year (`2025H1`; the first notice covers 2025H1).
    pub half: String,
}

/// The half-yearly notice (特例单议公示): per hospital the cases applied for, approved,
/// rejected, withdrawn and pending, the region's totals and the spot-check results.
#[utoipa::path(get, path = "/v1/special-cases/notice", tag = "special cases",
    security(("bearer" = [])), params(NoticeQuery),
    responses((status = 200, body = NoticeJson),
        (status = 400, body = ErrorBody, description = "a half-year of the wrong form"),
        (status = 404, body = ErrorBody, description = "no notice before the first one (2025H1)"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "a reviewer token (audited)"),
        (status = 503, body = ErrorBody, description = "the server's store is not a ledger")))]
pub async fn notice(
    State(app): App,
    Caller(actor): Caller,
    QueryOf(q): QueryOf<NoticeQuery>,
) -> Result<Json<NoticeJson>, ApiError> {
    contract::check_half("half", &q.half)?;
    let half: HalfYear = q
        .half
        .parse()
        .map_err(|e| ApiError::bad_request("half", format!("half {:?}: {e}", q.half)))?;
    let done = {
        let (store, region) = ledger(&app)?;
        desk(&app, &store, &region).notice(half).await
    };
    match done {
        Ok(n) => Ok(Json(NoticeJson::from(&n))),
        Err(e) => Err(review_error(&app, &actor, "special-case notice", "notice", &[], e).await),
    }
}
