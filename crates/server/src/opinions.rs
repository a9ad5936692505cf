//! The opinions channel over HTTP (意见收集反馈, `payment-model.md` §11): a hospital submits
//! and reads its own opinions and their answers; the bureau lists, classifies, forwards,
//! answers and closes them (`drgdip_engine::governance`). Another hospital's opinion, or a
//! step by a hospital, is refused (403, audited).

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use drgdip_engine::governance::{
    opinion_for, opinions_for, submit_opinion, take_step, GovernanceError,
};
use drgdip_governance::{Level, Opinion, OpinionError, Step, Submission, Topic};
use drgdip_settle::{Actor, Date};
use regex::Regex;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{refuse, Caller};
use crate::contract;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, QueryOf};
use crate::ledger::{chain, no_ledger, today};
use crate::payments::parse_date;
use crate::AppState;

type App = State<Arc<AppState>>;

/// Free text of the opinions: no control character but the tab and the line feed.
pub const CLEAN_TEXT_PATTERN: &str = "^[^\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F]*$";
/// The longest `about` (a group or a case id) and `author`.
pub const SHORT_MAX: usize = 64;

static CLEAN: LazyLock<Regex> = LazyLock::new(|| {
    // a constant of this file, compiled by its tests
    Regex::new(CLEAN_TEXT_PATTERN).unwrap_or_else(|e| unreachable!("{e}"))
});

/// Text the document allows: no control character but tab and line feed, at most `max`
/// characters, not blank when `required`; else 400 naming `field`.
fn check(field: &str, value: &str, max: usize, required: bool) -> Result<(), ApiError> {
    if required && contract::is_blank(value) {
        return Err(ApiError::bad_request(
            field,
            format!("{field}: expected text, found none or only white space"),
        ));
    }
    let n = value.chars().count();
    if n > max {
        return Err(ApiError::bad_request(
            field,
            format!("{field}: {n} characters, at most {max}"),
        ));
    }
    if !CLEAN.is_match(value) {
        return Err(ApiError::bad_request(
            field,
            format!("{field}: a control character (only tab and line feed are kept)"),
        ));
    }
    Ok(())
}

/// One opinion as the API shows it (the same to the bureau and to its hospital).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct OpinionView {
    /// `OP-000001`.
    pub id: String,
    /// The submitting hospital.
    pub hospital_id: String,
    /// The account that submitted it.
    pub submitted_by: String,
    /// The medical worker it comes from (may be empty).
    pub author: String,
    /// `YYYY-MM-DD`.
    pub submitted_on: String,
    /// The topic as submitted: grouping, technical, pricing or other.
    pub topic: String,
    /// The group or case concerned.
    pub about: String,
    /// The opinion.
    pub text: String,
    /// submitted, classified, forwarded, answered or closed.
    pub status: String,
    /// The bureau's topic, if classified.
    pub classified_topic: Option<String>,
    /// Whose business it is (local, provincial, national), if classified.
    pub level: Option<String>,
    /// To whom it was forwarded (provincial, national).
    pub forwarded_to: Option<String>,
    /// When (`YYYY-MM-DD`).
    pub forwarded_on: Option<String>,
    /// How it was sent.
    pub forwarded_channel: Option<String>,
    /// The answer.
    pub answer: Option<String>,
    /// Whose answer it is (local, provincial, national).
    pub answer_from: Option<String>,
    /// When it was answered.
    pub answered_on: Option<String>,
    /// When it was closed.
    pub closed_on: Option<String>,
}

impl From<&Opinion> for OpinionView {
    fn from(o: &Opinion) -> OpinionView {
        OpinionView {
            id: o.id.clone(),
            hospital_id: o.hospital_id.clone(),
            submitted_by: o.submitted_by.clone(),
            author: o.author.clone(),
            submitted_on: o.submitted_on.to_string(),
            topic: o.topic.as_str().into(),
            about: o.about.clone(),
            text: o.text.clone(),
            status: o.status.as_str().into(),
            classified_topic: o.classification.as_ref().map(|c| c.topic.as_str().into()),
            level: o.classification.as_ref().map(|c| c.level.as_str().into()),
            forwarded_to: o.forwarding.as_ref().map(|f| f.to.as_str().into()),
            forwarded_on: o.forwarding.as_ref().map(|f| f.on.to_string()),
            forwarded_channel: o.forwarding.as_ref().map(|f| f.channel.clone()),
            answer: o.answer.as_ref().map(|a| a.text.clone()),
            answer_from: o.answer.as_ref().map(|a| a.from.as_str().into()),
            answered_on: o.answer.as_ref().map(|a| a.on.to_string()),
            closed_on: o.closing.as_ref().map(|c| c.on.to_string()),
        }
    }
}

/// A hospital's opinion.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpinionBody {
    /// grouping, technical, pricing or other.
    pub topic: String,
    /// The group or case concerned (required for grouping).
    #[serde(default)]
    pub about: String,
    /// The opinion.
    pub text: String,
    /// The medical worker it comes from.
    #[serde(default)]
    pub author: String,
}

/// A step of the bureau on an opinion.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepBody {
    /// classify, forward, answer or close.
    pub step: String,
    /// classify: the topic.
    pub topic: Option<String>,
    /// classify: local, provincial or national.
    pub level: Option<String>,
    /// forward: how it was sent.
    pub channel: Option<String>,
    /// answer: the answer; close: a note (optional).
    pub text: Option<String>,
}

/// `?hospital=&from=&to=`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct OpinionsQuery {
    /// Only this hospital's (a hospital token: its own, the default).
    pub hospital: Option<String>,
    /// Submitted on or after (`YYYY-MM-DD`); with `to`.
    pub from: Option<String>,
    /// Submitted on or before (`YYYY-MM-DD`); with `from`.
    pub to: Option<String>,
}

/// The opinions of a list, with the counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct OpinionList {
    /// The opinions, by id.
    pub opinions: Vec<OpinionView>,
    /// Counts by status.
    pub by_status: BTreeMap<String, u64>,
}

/// What the API answers to a refusal of the opinions' rules: 403 (audited) for a role or
/// another hospital's opinion, 409 for a step the status does not allow, 400 for a field,
/// 404 when there is no such opinion.
async fn refused(
    app: &AppState,
    actor: &Actor,
    what: &str,
    subject: &str,
    e: GovernanceError,
) -> ApiError {
    match e {
        GovernanceError::NotFound(id) => ApiError::not_found(format!("no opinion {id:?}")),
        GovernanceError::Opinion(
            e @ (OpinionError::Role { .. } | OpinionError::NotYours { .. }),
        ) => refuse(app, actor, what, subject, e.to_string()).await,
        GovernanceError::Opinion(e @ OpinionError::State { .. }) => {
            ApiError::conflict(e.to_string())
        }
        GovernanceError::Opinion(OpinionError::Field { field, message }) => {
            ApiError::bad_request(field, format!("{field}: {message}"))
        }
        GovernanceError::Roster { .. } => ApiError::conflict(e.to_string()),
        GovernanceError::Engine(e) => ApiError::internal(what, chain(&e)),
    }
}

fn parse_topic(field: &str, text: &str) -> Result<Topic, ApiError> {
    Topic::parse(text).ok_or_else(|| {
        ApiError::bad_request(
            field,
            format!("{field} {text:?}: expected one of {}", Topic::names()),
        )
    })
}

fn parse_level(field: &str, text: &str) -> Result<Level, ApiError> {
    Level::parse(text).ok_or_else(|| {
        ApiError::bad_request(
            field,
            format!("{field} {text:?}: expected one of {}", Level::names()),
        )
    })
}

/// A hospital (or a medical worker through its account) submits an opinion on the grouping
/// (naming the group or case in `about`), the technical specification, pricing or other.
#[utoipa::path(post, path = "/v1/opinions", tag = "opinions", security(("bearer" = [])),
    request_body = OpinionBody,
    responses((status = 201, body = OpinionView,
            headers(("Location" = String, description = "the opinion: /v1/opinions/{id}"))),
        (status = 400, body = ErrorBody, description = "a field of the wrong form; the field is named"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "not a hospital token (audited)"),
        (status = 409, body = ErrorBody, description = "a grouping opinion without its group or case (`about`)")))]
pub async fn submit(
    State(app): App,
    Caller(actor): Caller,
    JsonBody(body): JsonBody<OpinionBody>,
) -> Result<impl IntoResponse, ApiError> {
    let topic = parse_topic("topic", &body.topic)?;
    check(
        "text",
        &body.text,
        drgdip_governance::opinion::MAX_TEXT,
        true,
    )?;
    check("about", &body.about, SHORT_MAX, false)?;
    check("author", &body.author, SHORT_MAX, false)?;
    if topic == Topic::Grouping && contract::is_blank(&body.about) {
        // the form is right; the rules of a grouping opinion want its group or case
        return Err(ApiError::conflict(
            "about: a grouping opinion names the group or the case it concerns",
        )
        .with_field("about"));
    }
    let store = app.backend.ledger().ok_or_else(no_ledger)?;
    let submission = Submission {
        topic,
        about: body.about,
        text: body.text,
        author: body.author,
    };
    let o = match submit_opinion(&store, &actor, today()?, submission).await {
        Ok(o) => o,
        Err(e) => return Err(refused(&app, &actor, "submit an opinion", "opinions", e).await),
    };
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/v1/opinions/{}", o.id))],
        Json(OpinionView::from(&o)),
    ))
}

/// The opinions: the bureau's all (or one hospital's), a hospital's its own; `from`/`to`
/// bound the submission date.
#[utoipa::path(get, path = "/v1/opinions", tag = "opinions", security(("bearer" = [])),
    params(OpinionsQuery),
    responses((status = 200, body = OpinionList), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "a reviewer, or another hospital's opinions (audited)")))]
pub async fn list(
    State(app): App,
    Caller(actor): Caller,
    QueryOf(q): QueryOf<OpinionsQuery>,
) -> Result<Json<OpinionList>, ApiError> {
    if let Some(h) = q.hospital.as_deref() {
        contract::check_id("hospital", h)?;
    }
    let from = q
        .from
        .as_deref()
        .map(|f| parse_date("from", f))
        .transpose()?;
    let to = q.to.as_deref().map(|t| parse_date("to", t)).transpose()?;
    let dates: Option<(Date, Date)> = match (from, to) {
        (None, None) => None,
        (f, t) => {
            let bound = |d: Option<Date>| {
                d.ok_or_else(|| ApiError::internal("the opinions' dates", "no date bound"))
            };
            Some((
                f.map_or_else(|| bound(Date::new(1000, 1, 1)), Ok)?,
                t.map_or_else(|| bound(Date::new(9999, 12, 31)), Ok)?,
            ))
        }
    };
    let store = app.backend.ledger().ok_or_else(no_ledger)?;
    let subject = format!(
        "opinions of {}",
        q.hospital.as_deref().unwrap_or("every hospital")
    );
    let list = match opinions_for(&store, &actor, q.hospital.as_deref(), dates).await {
        Ok(l) => l,
        Err(e) => return Err(refused(&app, &actor, "list opinions", &subject, e).await),
    };
    let mut by_status = BTreeMap::new();
    for o in &list {
        *by_status.entry(o.status.as_str().to_string()).or_default() += 1;
    }
    Ok(Json(OpinionList {
        opinions: list.iter().map(OpinionView::from).collect(),
        by_status,
    }))
}

/// One opinion: the bureau any, a hospital its own (another's is refused, audited).
#[utoipa::path(get, path = "/v1/opinions/{id}", tag = "opinions", security(("bearer" = [])),
    params(("id" = String, Path, description = "the opinion id (`OP-000001`)")),
    responses((status = 200, body = OpinionView),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "no such opinion")))]
pub async fn get_one(
    State(app): App,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Json<OpinionView>, ApiError> {
    let store = app.backend.ledger().ok_or_else(no_ledger)?;
    match opinion_for(&store, &actor, &id).await {
        Ok(o) => Ok(Json(OpinionView::from(&o))),
        Err(e) => Err(refused(&app, &actor, "view opinion", &id, e).await),
    }
}

/// The bureau's step on an opinion: `classify` (topic, level), `forward` (channel; a
/// provincial or national opinion), `answer` (text), `close` (text: an optional note).
#[utoipa::path(post, path = "/v1/opinions/{id}/steps", tag = "opinions", security(("bearer" = [])),
    params(("id" = String, Path, description = "the opinion id")),
    request_body = StepBody,
    responses((status = 200, body = OpinionView), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "not a bureau token (audited)"),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "the opinion's status does not allow the step, or the step's field is missing (named)")))]
pub async fn step(
    State(app): App,
    Caller(actor): Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<StepBody>,
) -> Result<Json<OpinionView>, ApiError> {
    // a field the step needs: its absence (or a blank answer) conflicts with the step's
    // rules, the form being right (409, naming the field)
    let need = |field: &'static str, v: &Option<String>| -> Result<String, ApiError> {
        match v {
            Some(v) if !contract::is_blank(v) => Ok(v.clone()),
            _ => Err(
                ApiError::conflict(format!("{field}: expected with step {:?}", body.step))
                    .with_field(field),
            ),
        }
    };
    let step = match body.step.as_str() {
        "classify" => Step::Classify {
            topic: parse_topic("topic", &need("topic", &body.topic)?)?,
            level: parse_level("level", &need("level", &body.level)?)?,
        },
        "forward" => {
            if let Some(c) = &body.channel {
                check("channel", c, SHORT_MAX, true)?;
            }
            Step::Forward {
                channel: need("channel", &body.channel)?,
            }
        }
        "answer" => {
            if let Some(t) = &body.text {
                check("text", t, drgdip_governance::opinion::MAX_TEXT, false)?;
            }
            Step::Answer {
                text: need("text", &body.text)?,
            }
        }
        "close" => {
            let note = body.text.clone().unwrap_or_default();
            check("text", &note, drgdip_governance::opinion::MAX_TEXT, false)?;
            Step::Close { note }
        }
        other => {
            return Err(ApiError::bad_request(
                "step",
                format!("step {other:?}: expected classify, forward, answer or close"),
            ))
        }
    };
    let store = app.backend.ledger().ok_or_else(no_ledger)?;
    let _writing = app.writes.lock().await;
    match take_step(&store, &actor, today()?, &id, step).await {
        Ok(o) => Ok(Json(OpinionView::from(&o))),
        Err(e) => Err(refused(&app, &actor, "take a step on an opinion", &id, e).await),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_patterns_compile_and_say_what_the_handlers_take() {
        assert!(CLEAN.is_match("a\tb\nc 字"));
        for bad in ["a\u{0}b", "a\rb", "\u{85}", "\u{7f}"] {
            assert!(!CLEAN.is_match(bad), "{bad:?}");
            assert!(check("text", bad, 10, false).is_err());
        }
        assert!(check("about", "", SHORT_MAX, false).is_ok());
        assert!(check("about", " ", SHORT_MAX, true).is_err());
    }
}
