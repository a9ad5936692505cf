//! The budget over HTTP (总额预算, `payment-model.md` §8), read only: the versions of a year's
//! budget (bureau) and its execution per month (`drgdip_engine::budget`): the bureau sees the
//! region's lines and every hospital's, a hospital its own lines only; another hospital's is
//! refused (403, audited). Every figure names its budget version.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use drgdip_engine::budget::{execution, versions, BudgetVersion, Execution};
use drgdip_pay::money::Fen;
use drgdip_settle::Role;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{refuse, Caller};
use crate::contract;
use crate::error::{ApiError, ErrorBody};
use crate::extract::QueryOf;
use crate::ledger::{chain, no_ledger};
use crate::AppState;

type App = State<Arc<AppState>>;

/// A version number: 1 to 999,999,999.
pub const VERSION_PATTERN: &str = "^[1-9][0-9]{0,8}$";

/// `?year=YYYY[&version=N][&hospital=H]`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BudgetQuery {
    /// The budget year, `YYYY`.
    pub year: String,
    /// The version (default: the last); execution only.
    pub version: Option<String>,
    /// One hospital's lines (a hospital token: its own, the default); execution only.
    pub hospital: Option<String>,
}

/// One version of a year's budget. Amounts in CNY as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct BudgetVersionJson {
    /// The year.
    pub year: i32,
    /// The version.
    pub version: u32,
    /// The version it adjusts, if an adjustment.
    pub adjusts: Option<u32>,
    /// Why.
    pub reason: String,
    /// Who approved it.
    pub approved_by: String,
    /// When (`YYYY-MM-DD`), if known.
    pub approved_on: Option<String>,
    /// The document number.
    pub document: String,
    /// The whole budget.
    pub total: String,
    /// Outpatient.
    pub outpatient: String,
    /// The reserve share (调剂金), 0..1.
    pub reserve_share: String,
    /// DRG.
    pub drg: String,
    /// DIP.
    pub dip: String,
    /// Per diem.
    pub per_diem: String,
    /// Per item.
    pub per_item: String,
    /// Other methods.
    pub other: String,
}

impl From<&BudgetVersion> for BudgetVersionJson {
    fn from(v: &BudgetVersion) -> BudgetVersionJson {
        BudgetVersionJson {
            year: v.year,
            version: v.version,
            adjusts: v.adjusts,
            reason: v.reason.clone(),
            approved_by: v.approval.by.clone(),
            approved_on: v.approval.on.map(|d| d.to_string()),
            document: v.approval.document.clone(),
            total: Fen(v.total).to_string(),
            outpatient: Fen(v.outpatient).to_string(),
            reserve_share: v.reserve_share.to_string(),
            drg: Fen(v.inpatient.drg).to_string(),
            dip: Fen(v.inpatient.dip).to_string(),
            per_diem: Fen(v.inpatient.per_diem).to_string(),
            per_item: Fen(v.inpatient.per_item).to_string(),
            other: Fen(v.inpatient.other).to_string(),
        }
    }
}

/// The versions of a year's budget, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct BudgetVersionsJson {
    /// The versions.
    pub versions: Vec<BudgetVersionJson>,
}

/// One line of the execution: the region's (hospital `*`) or a hospital's month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ExecutionLineJson {
    /// The budget version of the figures.
    pub budget_version: u32,
    /// `YYYY-MM`.
    pub month: String,
    /// `drg` or `dip`.
    pub method: String,
    /// The hospital, `*` for the region.
    pub hospital_id: String,
    /// 1/12 of the method's budget (the region's lines).
    pub budget_share: Option<String>,
    /// What the month's statements settled.
    pub settled: String,
    /// Cumulative budget share (the region's lines).
    pub cumulative_share: Option<String>,
    /// Cumulative settled.
    pub cumulative_settled: String,
    /// Cumulative settled / the method's budget (the region's lines).
    pub budget_used: Option<String>,
    /// settled / the region's settled of the month (the hospitals' lines).
    pub share_of_region: Option<String>,
}

/// The execution of a year's budget.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ExecutionJson {
    /// The year.
    pub year: i32,
    /// The version the figures are computed against.
    pub budget_version: u32,
    /// The region's lines then the hospitals'.
    pub lines: Vec<ExecutionLineJson>,
    /// How the figures were computed.
    pub reasons: Vec<String>,
}

impl From<&Execution> for ExecutionJson {
    fn from(e: &Execution) -> ExecutionJson {
        let mut lines: Vec<ExecutionLineJson> = e
            .months
            .iter()
            .map(|m| ExecutionLineJson {
                budget_version: m.budget_version,
                month: m.month.to_string(),
                method: m.method.as_str().into(),
                hospital_id: "*".into(),
                budget_share: Some(Fen(m.budget_share).to_string()),
                settled: Fen(m.settled).to_string(),
                cumulative_share: Some(Fen(m.cumulative_share).to_string()),
                cumulative_settled: Fen(m.cumulative_settled).to_string(),
                budget_used: m.budget_used.map(|u| u.to_string()),
                share_of_region: None,
            })
            .collect();
        lines.extend(e.hospitals.iter().map(|h| ExecutionLineJson {
            budget_version: h.budget_version,
            month: h.month.to_string(),
            method: h.method.as_str().into(),
            hospital_id: h.hospital_id.clone(),
            budget_share: None,
            settled: Fen(h.settled).to_string(),
            cumulative_share: None,
            cumulative_settled: Fen(h.cumulative_settled).to_string(),
            budget_used: None,
            share_of_region: h.share_of_region.map(|r| r.to_string()),
        }));
        ExecutionJson {
            year: e.year,
            budget_version: e.budget.version,
            lines,
            reasons: e.reasons.clone(),
        }
    }
}

/// What [`VERSION_PATTERN`] matches.
fn is_version(v: &str) -> bool {
    (1..=9).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_digit()) && !v.starts_with('0')
}

fn year_of(q: &BudgetQuery) -> Result<i32, ApiError> {
    contract::check_year("year", &q.year)?;
    q.year
        .parse()
        .map_err(|_| ApiError::bad_request("year", format!("year {:?}: expected YYYY", q.year)))
}

/// The versions of a year's budget, oldest first (none registered: an empty list). Bureau
/// only.
#[utoipa::path(get, path = "/v1/budget/versions", tag = "ledger", security(("bearer" = [])),
    params(BudgetQuery),
    responses((status = 200, body = BudgetVersionsJson),
        (status = 400, body = ErrorBody, description = "a year of the wrong form"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "not a bureau token (audited)"),
        (status = 503, body = ErrorBody, description = "the server's store is not a ledger")))]
pub async fn list_versions(
    State(app): App,
    Caller(_actor): Caller,
    QueryOf(q): QueryOf<BudgetQuery>,
) -> Result<Json<BudgetVersionsJson>, ApiError> {
    let year = year_of(&q)?;
    let store = app.backend.ledger().ok_or_else(no_ledger)?;
    let all = versions(&store, year)
        .await
        .map_err(|e| ApiError::internal("the budget's versions", chain(&e)))?;
    Ok(Json(BudgetVersionsJson {
        versions: all.iter().map(BudgetVersionJson::from).collect(),
    }))
}

/// The execution of a year's budget per month against a version (default: the last): the
/// region's lines and every hospital's for the bureau, a hospital's own lines for a hospital
/// (another hospital's: 403, audited). No version registered, or no such version: 409.
#[utoipa::path(get, path = "/v1/budget/execution", tag = "ledger", security(("bearer" = [])),
    params(BudgetQuery),
    responses((status = 200, body = ExecutionJson),
        (status = 400, body = ErrorBody, description = "a year, version or hospital of the wrong form"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "another hospital's lines (audited)"),
        (status = 409, body = ErrorBody, description = "no budget of the year registered, or no such version"),
        (status = 503, body = ErrorBody, description = "the server's store is not a ledger")))]
pub async fn get_execution(
    State(app): App,
    Caller(actor): Caller,
    QueryOf(q): QueryOf<BudgetQuery>,
) -> Result<Json<ExecutionJson>, ApiError> {
    let year = year_of(&q)?;
    let version = match q.version.as_deref() {
        None => None,
        Some(v) if is_version(v) => Some(v.parse::<u32>().map_err(|_| {
            ApiError::bad_request("version", format!("version {v:?}: expected 1, 2, …"))
        })?),
        Some(v) => {
            return Err(ApiError::bad_request(
                "version",
                format!("version {v:?}: expected 1, 2, …"),
            ))
        }
    };
    if let Some(h) = q.hospital.as_deref() {
        contract::check_id("hospital", h)?;
    }
    let hospital = match (&actor.role, q.hospital.as_deref()) {
        (Role::Hospital { hospital_id }, Some(h)) if h != hospital_id => {
            return Err(refuse(
                &app,
                &actor,
                "GET /v1/budget/execution",
                format!("budget {year} of {h}"),
                format!("a hospital sees its own budget execution only, not {h}'s"),
            )
            .await)
        }
        (Role::Hospital { hospital_id }, _) => Some(hospital_id.clone()),
        (_, h) => h.map(String::from),
    };
    let store = app.backend.ledger().ok_or_else(no_ledger)?;
    let e = execution(&store, year, version, hospital.as_deref())
        .await
        .map_err(|e| match e {
            drgdip_engine::EngineError::Refused(m) | drgdip_engine::EngineError::Invalid(m) => {
                ApiError::conflict(m)
            }
            e => ApiError::internal("the budget's execution", chain(&e)),
        })?;
    Ok(Json(ExecutionJson::from(&e)))
}
