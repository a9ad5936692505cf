//! The published reports over HTTP: the monthly feedback (月告知) of one hospital's month as
//! the same printable HTML document that `drgdip report monthly` writes
//! (`drgdip_engine::report::monthly`, from the ledger, with the grouping it kept). A hospital
//! reads its own; another hospital's is refused (403, audited); the bureau reads any, and
//! without a hospital the index page of all of them, each linking to its page.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use drgdip_report::{Groups, HospitalNames};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::auth::{refuse, Caller};
use crate::error::{ApiError, ErrorBody};
use crate::extract::QueryOf;
use crate::ledger::{chain, no_ledger};
use crate::routes::{hospital_param, parse_month};
use crate::AppState;

type App = State<Arc<AppState>>;

/// `?month=YYYY-MM[&hospital=H]`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MonthlyQuery {
    /// The discharge month, `YYYY-MM`.
    pub month: String,
    /// The hospital (a hospital token: its own, the default; the bureau: without one, the
    /// index page of all hospitals).
    pub hospital: Option<String>,
}

/// The document's own policy: it carries its style inline and nothing else.
const DOCUMENT_CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'";

/// One hospital's monthly feedback (月告知) of a discharge month: 入组率, CMI, payment
/// against cost by category and group, the statement's deposit and amount due, with charts;
/// the same document as `drgdip report monthly --month M --hospital H`. The bureau without a
/// hospital gets the index page of the month's hospitals, each linking to
/// `?month=M&hospital=H`. Nothing settled (for the hospital) in the month: 404.
#[utoipa::path(get, path = "/v1/reports/monthly", tag = "ledger", security(("bearer" = [])),
    params(MonthlyQuery),
    responses((status = 200, content_type = "text/html", body = String,
            description = "the printable HTML document"),
        (status = 400, body = ErrorBody, description = "a month or hospital of the wrong form"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "another hospital's month (audited)"),
        (status = 404, body = ErrorBody, description = "nothing settled for the hospital in the month"),
        (status = 503, body = ErrorBody, description = "the server's store is not a ledger")))]
pub async fn monthly(
    State(app): App,
    Caller(actor): Caller,
    QueryOf(q): QueryOf<MonthlyQuery>,
) -> Result<Response, ApiError> {
    let Some(month) = parse_month(Some(&q.month))? else {
        return Err(ApiError::bad_request("month", "month: expected YYYY-MM"));
    };
    let asked = hospital_param(q.hospital.as_deref())?;
    let hospital = match (actor.hospital_id(), asked) {
        (Some(own), Some(other)) if other != own => {
            return Err(refuse(
                &app,
                &actor,
                "GET /v1/reports/monthly",
                format!("monthly feedback {month} of {other}"),
                format!("hospital {own} reads its own monthly feedback only, not {other}'s"),
            )
            .await)
        }
        (Some(own), _) => Some(own.to_string()),
        (None, asked) => asked.map(str::to_string),
    };
    let store = app.backend.ledger().ok_or_else(no_ledger)?;
    let names = HospitalNames::from_hospitals(app.engine.hospitals());
    let report =
        drgdip_engine::report::monthly(&store, month, hospital.as_deref(), &Groups::new(), &names)
            .await
            .map_err(|e| match e {
                drgdip_engine::EngineError::Invalid(m) => ApiError::not_found(m),
                e => ApiError::internal("the monthly feedback", chain(&e)),
            })?;
    let document = match &hospital {
        None => report.index_page_with(|h| format!("?month={month}&hospital={h}")),
        Some(hospital) => {
            let Some(h) = report.hospitals.iter().find(|h| &h.hospital_id == hospital) else {
                return Err(ApiError::not_found(format!(
                    "no settled case and no statement of hospital {hospital} in {month}"
                )));
            };
            report.hospital_page(h)
        }
    };
    let mut r = document.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r.headers_mut().insert(
        "content-security-policy",
        HeaderValue::from_static(DOCUMENT_CSP),
    );
    Ok(r)
}
