//! The ledger over HTTP: a month's case file uploaded and settled (月结算), a year cleared
//! (年度清算), the book of record read back — the engine's use cases
//! (`drgdip_engine::settle::{settle_month, clear_year}`, `drgdip_engine::ledger`), the same
//! functions `drgdip settle`, `drgdip clear` and `drgdip ledger` call.
//!
//! Settling and clearing are the bureau's (`auth::ROUTES`); a hospital reads the ledger's
//! cases of its own hospital only (another is refused, 403, audited). The ledger's writes
//! audit a settlement, a clearing and a refused truncated upload; the API audits its own
//! refusals (a role, another hospital, a year with nothing to clear). Pricing a month is
//! CPU-bound: it runs on a blocking thread, so that the server keeps answering; one
//! settlement or clearing runs at a time per server.

use std::error::Error as _;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use drgdip_engine::ledger::{case_row, run_row, CASE_COLUMNS, RUN_COLUMNS};
use drgdip_engine::settle::{
    clear_year, run_calendar, settle_month, CaseInput, ClearOutcome, ClearRequest, SettleOutcome,
    SettleRequest,
};
use drgdip_engine::EngineError;
use drgdip_io::BatchOptions;
use drgdip_pay::money::Fen;
use drgdip_settle::{Balance, ClearingStatement, Date, FinalPricing, Period, YearMonth};
use drgdip_store::{Replace, Store};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{refuse, Caller};
use crate::backend::Refusal;
use crate::contract;
use crate::error::{ApiError, ErrorBody};
use crate::extract::QueryOf;
use crate::routes::{hospital_param, parse_month};
use crate::AppState;

type App = State<Arc<AppState>>;

/// The most row problems a settlement answer lists (`problems_total` counts them all).
pub const PROBLEMS_MAX: usize = 1000;

/// An error and its causes, joined by `: ` (`the case file upload …: line 3: …`).
pub(crate) fn chain(e: &EngineError) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let next = s.to_string();
        if !text.ends_with(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = s.source();
    }
    text
}

/// The innermost engine error of a chain.
fn root(e: &EngineError) -> &EngineError {
    match e {
        EngineError::Context { source, .. } => root(source),
        e => e,
    }
}

/// What the API answers to an engine error: 400 for a case file that cannot be read (no
/// header, a required column missing: outside the document's pattern), 409 for a refusal
/// that protects the ledger (a truncated upload, nothing to clear) or what the region's
/// parameters or the ledger's state do not allow, 500 for a failure of the store or the
/// disk.
fn engine_error(what: &str, e: &EngineError) -> ApiError {
    let text = chain(e);
    if e.is_refusal() {
        return ApiError::conflict(text);
    }
    match root(e) {
        EngineError::Batch(_) | EngineError::Csv(_) => ApiError::bad_request("", text),
        EngineError::Invalid(_) | EngineError::Refused(_) => ApiError::conflict(text),
        _ => ApiError::internal(what, text),
    }
}

/// 503: the server's store is not the ledger (a test double): no settlement, clearing or
/// payment.
pub(crate) fn no_ledger() -> ApiError {
    ApiError {
        status: StatusCode::SERVICE_UNAVAILABLE,
        code: "unavailable",
        message: "this server's store is not a ledger: it cannot settle, clear or keep payments"
            .into(),
        field: None,
    }
}

fn store_error(what: &str) -> impl FnOnce(crate::backend::BackendError) -> ApiError + '_ {
    move |e| ApiError::internal(what, e)
}

/// Today, by the server's clock.
pub(crate) fn today() -> Result<Date, ApiError> {
    drgdip_store::rfc3339(SystemTime::now())[..10]
        .parse()
        .map_err(|e| ApiError::internal("reading the system date", e))
}

// ---------------------------------------------------------------------------------------
// POST /v1/settlements

/// Query of `POST /v1/settlements`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SettleQuery {
    /// The discharge month to settle, `YYYY-MM`: the rows of the case file discharged in it
    /// are settled, the others counted and skipped.
    pub month: String,
    /// `true`: replace the month even where a hospital's settled month would keep fewer
    /// than half of its cases (refused otherwise, 409: a truncated upload must not replace a
    /// month); the forced replacement is audited. Default `false`.
    #[param(value_type = Option<bool>)]
    pub force: Option<String>,
}

/// A row problem of the case file: its line (the header is line 1), case id, field, value
/// and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RowProblem {
    /// The line of the case file.
    pub line: u64,
    /// The case id as read.
    pub case_id: String,
    /// The column, or `row`.
    pub field: String,
    /// The value given.
    pub value: String,
    /// What is wrong.
    pub message: String,
}

/// What became of the case file's rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SettlementCounts {
    /// Rows read (blank lines excluded).
    pub read: u64,
    /// Rows discharged in another month (skipped).
    pub other_months: u64,
    /// Rows without a readable discharge date (not settled; in `problems`).
    pub undated: u64,
    /// Rows of the month that are invalid (not settled; in `problems`).
    pub invalid: u64,
    /// Cases settled.
    pub settled: u64,
    /// Of those, paid as special after an approved special-case application (特例单议).
    pub special: u64,
}

/// A hospital's monthly statement (月结算单), its totals. Amounts in CNY as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct StatementTotals {
    /// The hospital.
    pub hospital_id: String,
    /// Cases settled.
    pub cases: u64,
    /// Σ payment.
    pub payment: String,
    /// Σ fund_due.
    pub fund_due_total: String,
    /// 质量保证金 withheld, released at clearing.
    pub deposit_withheld: String,
    /// What the fund pays now: fund_due_total − deposit_withheld.
    pub amount_due: String,
    /// The last day to pay (`YYYY-MM-DD`).
    pub due_by: String,
}

/// The month's totals over every statement. Amounts in CNY as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SettlementTotals {
    /// Statements issued (one per hospital with cases).
    pub hospitals: u64,
    /// Cases settled.
    pub cases: u64,
    /// Σ payment.
    pub payment: String,
    /// Σ fund_due_total.
    pub fund_due_total: String,
    /// Σ deposit_withheld.
    pub deposit_withheld: String,
    /// Σ amount_due.
    pub amount_due: String,
}

/// A monthly settlement committed to the ledger.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SettlementResult {
    /// The run's number in the ledger (`GET /v1/ledger/runs`).
    pub run_id: i64,
    /// The month settled.
    pub month: String,
    /// The name the run records for the upload.
    pub case_file: String,
    /// The SHA-256 of the uploaded bytes.
    pub case_file_sha256: String,
    /// 申报截止日 used (`YYYY-MM-DD`).
    pub declaration_deadline: String,
    /// What became of the rows.
    pub counts: SettlementCounts,
    /// The statements, by hospital.
    pub statements: Vec<StatementTotals>,
    /// Their totals.
    pub totals: SettlementTotals,
    /// The problems of the month's rows and of the undated rows, by line (at most
    /// [`PROBLEMS_MAX`]).
    pub problems: Vec<RowProblem>,
    /// All the problems, listed or not.
    pub problems_total: u64,
    /// Milliseconds from the upload read to the run committed.
    pub elapsed_ms: u64,
}

fn add(a: Decimal, b: Decimal) -> Result<Decimal, ApiError> {
    a.checked_add(b)
        .ok_or_else(|| ApiError::internal("adding the statements' totals", "overflow"))
}

fn settlement_result(
    month: YearMonth,
    o: SettleOutcome,
    elapsed_ms: u64,
) -> Result<SettlementResult, ApiError> {
    let p = &o.pricing;
    let (mut payment, mut fund_due, mut deposit, mut due) =
        (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
    let mut cases = 0u64;
    let mut statements = Vec::with_capacity(o.statements.len());
    for s in &o.statements {
        cases += s.cases;
        payment = add(payment, s.totals.payment)?;
        fund_due = add(fund_due, s.fund_due_total)?;
        deposit = add(deposit, s.deposit_withheld)?;
        due = add(due, s.amount_due)?;
        statements.push(StatementTotals {
            hospital_id: s.hospital_id.clone(),
            cases: s.cases,
            payment: Fen(s.totals.payment).to_string(),
            fund_due_total: Fen(s.fund_due_total).to_string(),
            deposit_withheld: Fen(s.deposit_withheld).to_string(),
            amount_due: Fen(s.amount_due).to_string(),
            due_by: s.due_by.to_string(),
        });
    }
    let lang = drgdip_drg::Lang::En;
    Ok(SettlementResult {
        run_id: o.run_id,
        month: month.to_string(),
        case_file: o.inputs.case_file.clone(),
        case_file_sha256: o.inputs.case_file_sha256.clone(),
        declaration_deadline: o.deadline.to_string(),
        counts: SettlementCounts {
            read: p.read,
            other_months: p.other,
            undated: p.undated,
            invalid: p.invalid,
            settled: p.cases.len() as u64,
            special: o.special as u64,
        },
        totals: SettlementTotals {
            hospitals: statements.len() as u64,
            cases,
            payment: Fen(payment).to_string(),
            fund_due_total: Fen(fund_due).to_string(),
            deposit_withheld: Fen(deposit).to_string(),
            amount_due: Fen(due).to_string(),
        },
        statements,
        problems: p
            .problems
            .iter()
            .take(PROBLEMS_MAX)
            .map(|q| RowProblem {
                line: q.line,
                case_id: q.case_id.clone(),
                field: q.field.clone(),
                value: q.value.clone(),
                message: q.message(lang),
            })
            .collect(),
        problems_total: p.problems.len() as u64,
        elapsed_ms,
    })
}

/// The month's case file (CSV with a header, as `drgdip settle --input` reads it) is priced
/// in process with the region's parameters and weights, settled and written to the ledger in
/// one transaction (`drgdip settle`): the month's cases with what priced them, the
/// statements, the run with the upload's SHA-256, the audit events under the token's actor.
/// Bureau only. A re-run that would leave a hospital fewer than half of its settled cases of
/// the month is refused (409, with the numbers; audited) unless `force=true`.
#[utoipa::path(post, path = "/v1/settlements", tag = "ledger", security(("bearer" = [])),
    params(SettleQuery),
    request_body(content = String, content_type = "text/csv",
        description = "the case file: the columns of the case file (shared/README.md), a header first; rows of other months are skipped"),
    responses((status = 200, body = SettlementResult),
        (status = 400, body = ErrorBody, description = "a month of the wrong form, or a case file that cannot be read (no header, a required column missing)"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "not a bureau token (audited)"),
        (status = 409, body = ErrorBody, description = "a re-run that would shrink a hospital's settled month below half (a truncated upload?): refused with the numbers, audited; force=true replaces it. Also a settlement the region's parameters do not allow (region.method = dip)"),
        (status = 413, body = ErrorBody, description = "a case file larger than the server's upload limit (--max-upload)"),
        (status = 503, body = ErrorBody, description = "the server's store is not a ledger, or its limit of open connections is reached")))]
pub async fn settle(
    State(app): App,
    Caller(actor): Caller,
    QueryOf(q): QueryOf<SettleQuery>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<SettlementResult>, ApiError> {
    contract::check_month("month", &q.month)?;
    let month = parse_month(Some(&q.month))?
        .ok_or_else(|| ApiError::bad_request("month", "month: expected YYYY-MM"))?;
    let force = match q.force.as_deref() {
        Some(f) => contract::check_flag("force", f)?,
        None => false,
    };
    let max = app.limits().max_upload;
    let bytes = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::payload_too_large(format!(
                "the case file is larger than the server's upload limit of {max} bytes (--max-upload)"
            ))
        } else {
            ApiError::bad_request("", format!("cannot read the case file: {e}"))
        }
    })?;
    let store = app.backend.ledger().ok_or_else(no_ledger)?;
    let region = app.engine.region().clone();
    let calendar = run_calendar(None, &region.params, &region.params_path)
        .map_err(|e| ApiError::internal("reading the settlement calendar", chain(&e)))?;
    // one settlement or clearing at a time; held by the run itself, so that a request that
    // times out does not let another run start beside it
    let one_at_a_time = app.ledger_writes.clone().lock_owned().await;
    let name = format!("upload {month} ({} bytes, {})", bytes.len(), actor.id);
    let mode = if force {
        Replace::Forced
    } else {
        Replace::Guarded
    };
    let handle = tokio::runtime::Handle::current();
    let started = Instant::now();
    let outcome = tokio::task::spawn_blocking(move || {
        let _one = one_at_a_time;
        let request = SettleRequest {
            month,
            case_file: CaseInput::Bytes {
                name: &name,
                bytes: &bytes,
            },
            batch: BatchOptions::default(),
            deadline: None,
            calendar,
            mode,
            actor,
        };
        handle.block_on(settle_month(&store, &region, request, &|_| {}))
    })
    .await
    .map_err(|e| ApiError::internal("the settlement", e))?;
    let elapsed_ms = started.elapsed().as_millis() as u64;
    let outcome = outcome.map_err(|e| {
        let refused = engine_error("the settlement", &e);
        // the store's refusal names the CLI's flag
        let message = refused
            .message
            .replace("re-run with --force", "send it again with force=true");
        refused.with_message(message)
    })?;
    settlement_result(month, outcome, elapsed_ms).map(Json)
}

// ---------------------------------------------------------------------------------------
// POST /v1/clearings

/// Query of `POST /v1/clearings`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ClearQuery {
    /// The year to clear, `YYYY`.
    pub year: String,
    /// The final point value (CNY per point) to reprice the year's DIP cases at; default:
    /// the amounts as settled.
    pub point_value: Option<String>,
}

/// One hospital's clearing statement (清算单). Amounts in CNY as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ClearingJson {
    /// The hospital.
    pub hospital_id: String,
    /// The year cleared.
    pub year: i32,
    /// Cases of the year.
    pub cases: u64,
    /// Cases repriced at the final point value.
    pub repriced_cases: u64,
    /// The final point value used, if any.
    pub point_value: Option<String>,
    /// Σ fund_due at the final values.
    pub entitled: String,
    /// Σ fund_paid (per-item fund cost).
    pub item_fund: String,
    /// `surplus` (结余), `overspend` (超支) or `even`.
    pub balance: String,
    /// The hospital's performance score (0..100).
    pub performance_score: String,
    /// The adjustment to entitled (surplus kept or overspend shared).
    pub retained_or_shared: String,
    /// entitled + retained_or_shared: what the year is worth to the hospital.
    pub settled: String,
    /// Monthly statements of the year.
    pub monthly_statements: u64,
    /// Σ monthly fund_due_total.
    pub monthly_fund_due: String,
    /// Σ amounts paid on the monthly statements.
    pub paid_monthly: String,
    /// Σ deposits withheld monthly (质量保证金).
    pub deposits_withheld: String,
    /// The deposits released (in full, or × performance score / 100).
    pub deposits_released: String,
    /// The deposits kept by the fund (withheld − released).
    pub deposits_kept: String,
    /// The prepayment recovered.
    pub prepayment_outstanding: String,
    /// What is still to pay (negative: to recover).
    pub final_amount: String,
    /// Cross-province cases (跨省异地), outside the local clearing.
    pub cross_province_cases: u64,
    /// Their per-item cost.
    pub cross_province_cost: String,
    /// Their fund due as settled (in entitled).
    pub cross_province_fund_due: String,
    /// Every step of the arithmetic, in words.
    pub steps: Vec<String>,
}

impl From<&ClearingStatement> for ClearingJson {
    fn from(s: &ClearingStatement) -> ClearingJson {
        let fen = |d: Decimal| Fen(d).to_string();
        ClearingJson {
            hospital_id: s.hospital_id.clone(),
            year: s.year,
            cases: s.cases,
            repriced_cases: s.repriced_cases,
            point_value: s.point_value.map(|v| v.to_string()),
            entitled: fen(s.entitled),
            item_fund: fen(s.item_fund),
            balance: match s.balance {
                Balance::Surplus => "surplus",
                Balance::Overspend => "overspend",
                Balance::Even => "even",
            }
            .into(),
            performance_score: s.performance_score.to_string(),
            retained_or_shared: fen(s.retained_or_shared),
            settled: fen(s.settled),
            monthly_statements: s.monthly_statements,
            monthly_fund_due: fen(s.monthly_fund_due),
            paid_monthly: fen(s.paid_monthly),
            deposits_withheld: fen(s.deposits_withheld),
            deposits_released: fen(s.deposits_released),
            deposits_kept: fen(s.deposits_kept),
            prepayment_outstanding: fen(s.prepayment_outstanding),
            final_amount: fen(s.final_amount),
            cross_province_cases: s.cross_province.cases,
            cross_province_cost: fen(s.cross_province.total_cost),
            cross_province_fund_due: fen(s.cross_province.fund_due),
            steps: s.steps.iter().map(ToString::to_string).collect(),
        }
    }
}

/// The balances a clearing statement may show.
pub const BALANCES: [&str; 3] = ["surplus", "overspend", "even"];

/// An annual clearing committed to the ledger.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClearingResult {
    /// The year cleared.
    pub year: i32,
    /// The day of the clearing (the server's date), `YYYY-MM-DD`.
    pub cleared_on: String,
    /// One statement per hospital.
    pub statements: Vec<ClearingJson>,
    /// The year's monthly statements read.
    pub monthly_statements: u64,
    /// Months not settled, a clearing after 30 June of the next year, … (nothing refused).
    pub warnings: Vec<String>,
    /// The share of the budget the clearing used, naming the budget version (payment-model §8).
    pub budget: String,
}

fn clearing_result(year: i32, today: Date, o: &ClearOutcome) -> ClearingResult {
    ClearingResult {
        year,
        cleared_on: today.to_string(),
        statements: o.statements.iter().map(ClearingJson::from).collect(),
        monthly_statements: o.monthly.len() as u64,
        warnings: o.warnings.clone(),
        budget: o.budget.reason.clone(),
    }
}

/// Clears a year from the ledger alone (`drgdip clear`): the year's settled cases,
/// monthly statements and prepayments, one clearing statement per hospital, replacing the
/// year's clearing; audited under the token's actor. Bureau only. A year with no settled
/// month is refused (409, audited).
#[utoipa::path(post, path = "/v1/clearings", tag = "ledger", security(("bearer" = [])),
    params(ClearQuery),
    responses((status = 200, body = ClearingResult),
        (status = 400, body = ErrorBody, description = "a year or point value of the wrong form"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "not a bureau token (audited)"),
        (status = 409, body = ErrorBody, description = "no month of the year is settled: nothing to clear (audited); or a ledger the clearing cannot take (a hospital not in the hospitals file)"),
        (status = 503, body = ErrorBody, description = "the server's store is not a ledger, or its limit of open connections is reached")))]
pub async fn clear(
    State(app): App,
    Caller(actor): Caller,
    QueryOf(q): QueryOf<ClearQuery>,
) -> Result<Json<ClearingResult>, ApiError> {
    contract::check_year("year", &q.year)?;
    let year: i32 = q
        .year
        .parse()
        .map_err(|_| ApiError::bad_request("year", format!("year {:?}: expected YYYY", q.year)))?;
    let pricing = match q.point_value.as_deref() {
        None => FinalPricing::AsGiven,
        Some(v) if contract::is_points(v) => FinalPricing::DipPointValue(v.parse().map_err(
            |_| ApiError::bad_request("point_value", format!("point_value {v:?}: not a number")),
        )?),
        Some(v) => {
            return Err(ApiError::bad_request(
                "point_value",
                format!(
                    "point_value {v:?}: expected a decimal number greater than 0 (digits and at most one point)"
                ),
            ))
        }
    };
    let store = app.backend.ledger().ok_or_else(no_ledger)?;
    let today = today()?;
    let region = app.engine.region().clone();
    let one_at_a_time = app.ledger_writes.clone().lock_owned().await;
    let request = ClearRequest {
        year,
        pricing,
        actor: actor.clone(),
        today,
    };
    let handle = tokio::runtime::Handle::current();
    let outcome = tokio::task::spawn_blocking(move || {
        let _one = one_at_a_time;
        handle.block_on(clear_on(&store, &region, request))
    })
    .await
    .map_err(|e| ApiError::internal("the clearing", e))?;
    match outcome {
        Ok(o) => Ok(Json(clearing_result(year, today, &o))),
        Err(e) if e.is_refusal() => {
            let refusal = Refusal {
                actor,
                action: "POST /v1/clearings".into(),
                subject: format!("clearing {year}"),
                reason: chain(&e),
            };
            if let Err(w) = app.backend.record_refusal(&refusal).await {
                eprintln!(
                    "drgdip serve: could not write a refusal to the audit log ({w}): {}",
                    refusal.reason
                );
            }
            Err(ApiError::conflict(refusal.reason))
        }
        Err(e) => Err(engine_error("the clearing", &e)),
    }
}

async fn clear_on(
    store: &Store,
    region: &drgdip_engine::Region,
    request: ClearRequest,
) -> Result<ClearOutcome, EngineError> {
    clear_year(store, &region.params, &region.hospitals, request).await
}

// ---------------------------------------------------------------------------------------
// GET /v1/ledger/cases, GET /v1/ledger/runs

/// Query of `GET /v1/ledger/cases`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LedgerCasesQuery {
    /// The discharge month, `YYYY-MM`.
    pub month: Option<String>,
    /// The discharge year, `YYYY` (with `month`: the month, if it is of the year; else
    /// nothing). Default, with neither: every month.
    pub year: Option<String>,
    /// The hospital (default: every hospital for the bureau; a hospital token may only
    /// name its own).
    pub hospital: Option<String>,
}

macro_rules! columns_schema {
    ($(#[$doc:meta])* $name:ident { $($(#[$fdoc:meta])* $field:ident),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Serialize, ToSchema)]
        pub struct $name {
            $( $(#[$fdoc])* pub $field: String, )+
        }

        impl $name {
            /// The keys of a row, in order.
            pub const KEYS: &'static [&'static str] = &[$(stringify!($field)),+];
        }
    };
}

columns_schema! {
    /// A settled case of the ledger with what priced it and the run that settled it: the
    /// columns of `drgdip ledger cases` (`drgdip_engine::ledger::CASE_COLUMNS`), every value
    /// text (amounts to the fen, weights to 4 decimals; empty when the case has none).
    LedgerCaseJson {
        /// 病案号.
        case_id,
        /// The hospital.
        hospital_id,
        /// The discharge month.
        month,
        /// The scheme that grouped the case.
        scheme,
        /// Its version.
        scheme_version,
        /// The grouping status.
        status,
        /// The MDC.
        mdc,
        /// The ADRG.
        adrg,
        /// The DRG (or DIP group).
        group,
        /// 参保地 class: local, in_province, cross_province.
        insured,
        /// The payment category.
        category,
        /// The relative weight.
        weight,
        /// The DIP score.
        dip_score,
        /// Per-item total cost.
        total_cost,
        /// The payment.
        payment,
        /// The patient's share.
        own,
        /// The fund's share.
        fund_due,
        /// What the fund paid per item.
        fund_paid,
        /// The settlement run.
        run_id,
    }
}

columns_schema! {
    /// A committed settlement run and what it read: the columns of `drgdip ledger runs`
    /// (`drgdip_engine::ledger::RUN_COLUMNS`), every value text.
    SettlementRunJson {
        /// The run's number.
        run_id,
        /// The month settled.
        month,
        /// When it was committed (RFC 3339, UTC).
        at,
        /// Who ran it.
        actor,
        /// In which role.
        role,
        /// Cases settled.
        cases,
        /// Statements issued.
        statements,
        /// Σ fund_due_total.
        fund_due_total,
        /// Σ amount_due.
        amount_due_total,
        /// Cases of the month it replaced.
        replaced_cases,
        /// Statements of the month it replaced.
        replaced_statements,
        /// The program that wrote it.
        program_version,
        /// `drg` or `dip`.
        method,
        /// The case file (an upload: `upload YYYY-MM (N bytes, actor)`).
        case_file,
        /// Its SHA-256.
        case_file_sha256,
        /// The parameter file.
        params_file,
        /// Its SHA-256.
        params_sha256,
        /// The weights file (or the history they were computed from).
        weights_file,
        /// Its SHA-256.
        weights_sha256,
    }
}

/// A row as a JSON object, the columns as keys.
fn object(columns: &[&str], row: Vec<String>) -> Map<String, Value> {
    columns
        .iter()
        .zip(row)
        .map(|(k, v)| (k.to_string(), Value::String(v)))
        .collect()
}

/// The settled cases of the ledger (the book of record), by month, hospital and case id:
/// of a month or a year, of a hospital. A hospital sees only its own: naming another is
/// refused (403, audited).
#[utoipa::path(get, path = "/v1/ledger/cases", tag = "ledger", security(("bearer" = [])),
    params(LedgerCasesQuery),
    responses((status = 200, body = Vec<LedgerCaseJson>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "a reviewer, or a hospital naming another hospital (audited)")))]
pub async fn cases(
    State(app): App,
    Caller(actor): Caller,
    QueryOf(q): QueryOf<LedgerCasesQuery>,
) -> Result<Json<Vec<Map<String, Value>>>, ApiError> {
    let month = parse_month(q.month.as_deref())?;
    let year =
        match q.year.as_deref() {
            None => None,
            Some(y) => {
                contract::check_year("year", y)?;
                Some(y.parse::<i32>().map_err(|_| {
                    ApiError::bad_request("year", format!("year {y:?}: expected YYYY"))
                })?)
            }
        };
    let asked = hospital_param(q.hospital.as_deref())?;
    let hospital = match actor.hospital_id() {
        Some(own) => {
            if let Some(other) = asked.filter(|h| *h != own) {
                return Err(refuse(
                    &app,
                    &actor,
                    "view ledger cases",
                    format!("ledger cases of {other}"),
                    format!("hospital {own} may only see its own cases"),
                )
                .await);
            }
            Some(own)
        }
        None => asked,
    };
    let period = match (month, year) {
        (Some(m), Some(y)) if m.year() != y => return Ok(Json(Vec::new())),
        (Some(m), _) => Some(Period::Month(m)),
        (None, Some(y)) => Some(Period::Year(y)),
        (None, None) => None,
    };
    let list = app
        .backend
        .ledger_cases(period, hospital)
        .await
        .map_err(store_error("reading the ledger's cases"))?;
    Ok(Json(
        list.iter()
            .map(|c| object(&CASE_COLUMNS, case_row(c)))
            .collect(),
    ))
}

/// Query of `GET /v1/ledger/runs`.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LedgerRunsQuery {
    /// The month, `YYYY-MM` (default: every month).
    pub month: Option<String>,
}

/// The committed settlement runs, oldest first, with what each read (the program, the case
/// file, the parameters and the weights, each with its SHA-256). Bureau only.
#[utoipa::path(get, path = "/v1/ledger/runs", tag = "ledger", security(("bearer" = [])),
    params(LedgerRunsQuery),
    responses((status = 200, body = Vec<SettlementRunJson>), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "not a bureau token (audited)")))]
pub async fn runs(
    State(app): App,
    _caller: Caller,
    QueryOf(q): QueryOf<LedgerRunsQuery>,
) -> Result<Json<Vec<Map<String, Value>>>, ApiError> {
    let month = parse_month(q.month.as_deref())?;
    let list = app
        .backend
        .settlement_runs(month)
        .await
        .map_err(store_error("reading the ledger's runs"))?;
    Ok(Json(
        list.iter()
            .map(|r| object(&RUN_COLUMNS, run_row(r)))
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_row_schemas_have_the_engine_s_columns_in_order() {
        assert_eq!(LedgerCaseJson::KEYS, CASE_COLUMNS);
        assert_eq!(SettlementRunJson::KEYS, RUN_COLUMNS);
    }

    #[test]
    fn an_engine_error_is_a_conflict_a_bad_request_or_internal() {
        let refused = EngineError::Refused("nothing to clear for 2030".into());
        let e = engine_error("x", &refused);
        assert_eq!((e.status.as_u16(), e.code), (409, "conflict"));
        let wrapped = EngineError::Context {
            context: "the case file upload 2025-06".into(),
            source: Box::new(EngineError::Batch(drgdip_io::BatchError::NoHeader)),
        };
        let e = engine_error("x", &wrapped);
        assert_eq!(e.status.as_u16(), 400);
        assert_eq!(
            e.message,
            "the case file upload 2025-06: the input has no header row"
        );
        let state =
            EngineError::Invalid("hospital(s) of the ledger not in the hospitals file".into());
        assert_eq!(engine_error("x", &state).status.as_u16(), 409);
        let io = EngineError::Io(std::io::Error::other("disk"));
        assert_eq!(engine_error("x", &io).status.as_u16(), 500);
    }
}
