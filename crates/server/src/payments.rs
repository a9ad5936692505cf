//! `POST /v1/payments` — the bureau records what the fund paid against the monthly
//! statements — and `GET /v1/arrears` — what the fund still owes as of a date (应付未付,
//! `payment-model.md` §6); a hospital sees its own arrears only.
//!
//! The checks and the arithmetic are those of `drgdip payments record` and `drgdip
//! arrears`: a value of the wrong form is a 400 naming the field (`payments[2].amount`) and
//! nothing is recorded; each well-formed payment is then checked by the store against the
//! ledger (statement exists, reference new for the hospital, dated after its month, not more
//! than is outstanding) and recorded or refused on its own, with its audit event; the answer
//! lists each payment's outcome.

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use axum::extract::State;
use axum::Json;
use drgdip_engine::payments::{self as engine_payments, record_payments};
use drgdip_pay::money::Fen;
use drgdip_settle::{
    ArrearsRow, ArrearsTotals, Band, Date, FundPayment, Listing, PaymentRefusal, YearMonth,
};
use drgdip_store::PaymentOutcome;
use regex::Regex;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::{refuse, Caller};
use crate::contract;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{JsonBody, QueryOf};
use crate::ledger::{chain, no_ledger};
use crate::AppState;

/// An amount as the API takes it: digits, then optionally `.` and one or two digits (the
/// fen). Zero has the form, and is refused by the store (an outcome, not a 400).
pub const AMOUNT_PATTERN: &str = "^[0-9]{1,15}([.][0-9]{1,2})?$";
/// A payment's reference: 1–64 visible ASCII characters, no space.
pub const REFERENCE_PATTERN: &str = "^[!-~]{1,64}$";
/// A date `YYYY-MM-DD` (and it must exist: `format: date`).
pub const DATE_PATTERN: &str = "^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$";
/// The most payments in one request.
pub const PAYMENTS_MAX: usize = contract::CASES_MAX;

fn compiled(pattern: &'static str) -> Regex {
    // the patterns are constants of this file, compiled by its tests
    Regex::new(pattern).unwrap_or_else(|e| unreachable!("{pattern}: {e}"))
}

static AMOUNT: LazyLock<Regex> = LazyLock::new(|| compiled(AMOUNT_PATTERN));
static REFERENCE: LazyLock<Regex> = LazyLock::new(|| compiled(REFERENCE_PATTERN));
static DATE: LazyLock<Regex> = LazyLock::new(|| compiled(DATE_PATTERN));

type App = State<Arc<AppState>>;

pub(crate) fn parse_date(field: &str, text: &str) -> Result<Date, ApiError> {
    if !DATE.is_match(text) {
        return Err(ApiError::bad_request(
            field,
            format!("{field} {text:?}: expected a date YYYY-MM-DD"),
        ));
    }
    text.parse()
        .map_err(|e| ApiError::bad_request(field, format!("{field} {text:?}: {e}")))
}

fn parse_month(field: &str, text: &str) -> Result<YearMonth, ApiError> {
    contract::check_month(field, text)?;
    text.parse()
        .map_err(|e| ApiError::bad_request(field, format!("{field} {text:?}: {e}")))
}

// ---------------------------------------------------------------------------------------
// POST /v1/payments

/// One payment of the fund to a hospital (拨付), against the statement of `month`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentJson {
    /// The hospital paid.
    pub hospital_id: String,
    /// The month of the statement paid (`2025-06`).
    pub month: String,
    /// The day the money went out (`2025-08-20`).
    pub date: String,
    /// The amount, exact: `12345.67` (greater than zero, at most two decimals).
    pub amount: String,
    /// The bank or treasury reference; a hospital's reference is recorded once.
    pub reference: String,
}

impl From<&FundPayment> for PaymentJson {
    fn from(p: &FundPayment) -> PaymentJson {
        PaymentJson {
            hospital_id: p.hospital_id.clone(),
            month: p.month.to_string(),
            date: p.date.to_string(),
            amount: Fen(p.amount).to_string(),
            reference: p.reference.clone(),
        }
    }
}

/// Payments to record, in order.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentsBody {
    /// The payments (1 to 1000).
    pub payments: Vec<PaymentJson>,
}

/// What became of one payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PaymentOutcomeJson {
    /// Its index in the request.
    pub index: usize,
    /// `recorded` or `refused`.
    pub outcome: String,
    /// The statement: `H001/2025-06`.
    pub subject: String,
    /// The payment's reference.
    pub reference: String,
    /// The payment's id, when recorded.
    pub id: Option<i64>,
    /// What is left to pay on the statement after it, when recorded.
    pub outstanding: Option<String>,
    /// Why it was refused: `unknown_statement`, `duplicate_reference`, `too_early`,
    /// `overpayment`, `bad_amount`.
    pub refusal: Option<String>,
    /// The field the refusal is about.
    pub field: Option<String>,
    /// The refusal in words (an overpayment says what is outstanding).
    pub message: Option<String>,
}

/// The outcomes of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PaymentsAnswer {
    /// Payments recorded.
    pub recorded: usize,
    /// Payments refused.
    pub refused: usize,
    /// Σ of the amounts recorded.
    pub recorded_amount: String,
    /// One outcome per payment, in order.
    pub outcomes: Vec<PaymentOutcomeJson>,
}

/// The kind and field of a refusal.
pub fn refusal_kind(r: &PaymentRefusal) -> (&'static str, &'static str) {
    match r {
        PaymentRefusal::BadAmount { .. } => ("bad_amount", "amount"),
        PaymentRefusal::UnknownStatement { .. } => ("unknown_statement", "month"),
        PaymentRefusal::DuplicateReference { .. } => ("duplicate_reference", "reference"),
        PaymentRefusal::TooEarly { .. } => ("too_early", "date"),
        PaymentRefusal::Overpayment { .. } => ("overpayment", "amount"),
    }
}

fn read_payment(i: usize, p: &PaymentJson) -> Result<FundPayment, ApiError> {
    let field = |name: &str| format!("payments[{i}].{name}");
    contract::check_id(&field("hospital_id"), &p.hospital_id)?;
    let month = parse_month(&field("month"), &p.month)?;
    let date = parse_date(&field("date"), &p.date)?;
    if !AMOUNT.is_match(&p.amount) {
        return Err(ApiError::bad_request(
            field("amount"),
            format!(
                "{} {:?}: expected a plain decimal with at most two decimals, such as 12345.67",
                field("amount"),
                p.amount
            ),
        ));
    }
    let amount: Decimal = p.amount.parse().map_err(|e| {
        ApiError::bad_request(
            field("amount"),
            format!("{} {:?}: {e}", field("amount"), p.amount),
        )
    })?;
    if !REFERENCE.is_match(&p.reference) {
        return Err(ApiError::bad_request(
            field("reference"),
            format!(
                "{} {:?}: expected 1 to 64 visible ASCII characters",
                field("reference"),
                p.reference
            ),
        ));
    }
    Ok(FundPayment {
        hospital_id: p.hospital_id.clone(),
        month,
        date,
        amount,
        reference: p.reference.clone(),
    })
}

/// The bureau records payments of the fund against monthly statements (拨付). A malformed
/// value is a 400 naming it and nothing is recorded; otherwise each payment is recorded or
/// refused on its own (unknown statement, reference already used by the hospital, dated
/// within the month it pays, more than is outstanding: an overpayment is refused, never
/// carried), each with its audit event, and the answer lists the outcomes.
#[utoipa::path(post, path = "/v1/payments", tag = "payments", security(("bearer" = [])),
    request_body = PaymentsBody,
    responses((status = 200, body = PaymentsAnswer, description = "each payment recorded or refused (see `outcomes`)"),
        (status = 400, body = ErrorBody, description = "a value of the wrong form; the field is named (`payments[i].amount`); nothing recorded"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "not a bureau token (audited)")))]
pub async fn record(
    State(app): App,
    Caller(actor): Caller,
    JsonBody(body): JsonBody<PaymentsBody>,
) -> Result<Json<PaymentsAnswer>, ApiError> {
    contract::check_count("payments", body.payments.len())?;
    let payments = body
        .payments
        .iter()
        .enumerate()
        .map(|(i, p)| read_payment(i, p))
        .collect::<Result<Vec<_>, _>>()?;
    let store = app.backend.ledger().ok_or_else(no_ledger)?;
    let lined: Vec<(u64, FundPayment)> = payments.iter().cloned().map(|p| (0, p)).collect();
    let done = record_payments(&store, &lined, &actor)
        .await
        .map_err(|e| ApiError::internal("recording the payments", chain(&e)))?;
    let outcomes = done.outcomes;
    let mut answer = PaymentsAnswer {
        recorded: 0,
        refused: 0,
        recorded_amount: String::new(),
        outcomes: Vec::with_capacity(outcomes.len()),
    };
    let mut sum = Decimal::ZERO;
    for (index, (p, o)) in payments.iter().zip(&outcomes).enumerate() {
        let mut out = PaymentOutcomeJson {
            index,
            outcome: String::new(),
            subject: p.subject(),
            reference: p.reference.clone(),
            id: None,
            outstanding: None,
            refusal: None,
            field: None,
            message: None,
        };
        match o {
            PaymentOutcome::Recorded {
                record,
                outstanding,
            } => {
                answer.recorded += 1;
                sum += p.amount;
                out.outcome = "recorded".into();
                out.id = Some(record.id);
                out.outstanding = Some(Fen(*outstanding).to_string());
            }
            PaymentOutcome::Refused { refusal } => {
                answer.refused += 1;
                let (kind, field) = refusal_kind(refusal);
                out.outcome = "refused".into();
                out.refusal = Some(kind.into());
                out.field = Some(format!("payments[{index}].{field}"));
                out.message = Some(refusal.to_string());
            }
        }
        answer.outcomes.push(out);
    }
    answer.recorded_amount = Fen(sum).to_string();
    Ok(Json(answer))
}

// ---------------------------------------------------------------------------------------
// GET /v1/arrears

/// `?as_of=&hospital=&all=`.
#[derive(Debug, Clone, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ArrearsQuery {
    /// The date of the report (`YYYY-MM-DD`): payments dated after it do not count.
    #[param(required = true)]
    pub as_of: Option<String>,
    /// Only this hospital (a hospital token: its own, the default).
    pub hospital: Option<String>,
    /// `true`: every statement, fully paid ones too (band `paid`).
    pub all: Option<String>,
}

/// One statement as of the date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ArrearsRowJson {
    /// The hospital.
    pub hospital_id: String,
    /// The statement's month.
    pub month: String,
    /// The amount due.
    pub amount_due: String,
    /// Σ of its payments dated on or before `as_of`.
    pub paid: String,
    /// `amount_due − paid`.
    pub outstanding: String,
    /// The last day to pay (official calendar).
    pub due_date: String,
    /// Calendar days after `due_date`; 0 when not yet due or nothing is outstanding.
    pub days_overdue: i64,
    /// `not_due`, `1-30`, `31-90`, `91-180`, `>180`, `paid`, `credit`.
    pub band: String,
}

impl From<&ArrearsRow> for ArrearsRowJson {
    fn from(r: &ArrearsRow) -> ArrearsRowJson {
        ArrearsRowJson {
            hospital_id: r.hospital_id.clone(),
            month: r.month.to_string(),
            amount_due: Fen(r.amount_due).to_string(),
            paid: Fen(r.paid).to_string(),
            outstanding: Fen(r.outstanding).to_string(),
            due_date: r.due_date.to_string(),
            days_overdue: r.days_overdue,
            band: r.band.as_str().into(),
        }
    }
}

/// Sums of rows (a hospital's, or all).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ArrearsTotalsJson {
    /// The hospital (none for the overall total).
    pub hospital_id: Option<String>,
    /// Rows summed.
    pub statements: u64,
    /// Σ amount_due.
    pub amount_due: String,
    /// Σ paid.
    pub paid: String,
    /// Σ outstanding.
    pub outstanding: String,
    /// Σ outstanding by band (the bands that occur).
    pub by_band: BTreeMap<String, String>,
}

impl ArrearsTotalsJson {
    fn of(hospital_id: Option<&str>, t: &ArrearsTotals) -> ArrearsTotalsJson {
        ArrearsTotalsJson {
            hospital_id: hospital_id.map(str::to_string),
            statements: t.statements,
            amount_due: Fen(t.amount_due).to_string(),
            paid: Fen(t.paid).to_string(),
            outstanding: Fen(t.outstanding).to_string(),
            by_band: Band::ALL
                .iter()
                .filter(|b| t.by_band.contains_key(b))
                .map(|b| (b.as_str().to_string(), Fen(t.band(*b)).to_string()))
                .collect(),
        }
    }
}

/// The arrears as of a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ArrearsJson {
    /// The date of the report.
    pub as_of: String,
    /// The statements with anything outstanding (all with `all=true`), by hospital and month.
    pub rows: Vec<ArrearsRowJson>,
    /// Each hospital's totals, by hospital.
    pub hospitals: Vec<ArrearsTotalsJson>,
    /// The totals of all rows.
    pub total: ArrearsTotalsJson,
    /// Payments (dated on or before `as_of`) that match no statement (a re-run withdrew it).
    pub unmatched: Vec<PaymentJson>,
}

/// What the fund owes (应付未付) as of a date: every statement with anything outstanding,
/// with its due date, days overdue and aging band, and totals per hospital. A hospital sees
/// its own only: naming another is refused (403, audited).
#[utoipa::path(get, path = "/v1/arrears", tag = "payments", security(("bearer" = [])),
    params(ArrearsQuery),
    responses((status = 200, body = ArrearsJson), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "a reviewer, or another hospital's arrears (audited)")))]
pub async fn arrears_as_of(
    State(app): App,
    Caller(actor): Caller,
    QueryOf(q): QueryOf<ArrearsQuery>,
) -> Result<Json<ArrearsJson>, ApiError> {
    let Some(as_of) = q.as_of.as_deref() else {
        return Err(ApiError::bad_request(
            "as_of",
            "as_of: expected the date of the report, YYYY-MM-DD",
        ));
    };
    let as_of = parse_date("as_of", as_of)?;
    let listing = match q.all.as_deref() {
        None | Some("false") => Listing::Outstanding,
        Some("true") => Listing::Every,
        Some(other) => {
            return Err(ApiError::bad_request(
                "all",
                format!("all {other:?}: expected true or false"),
            ))
        }
    };
    let asked = match q.hospital.as_deref() {
        None => None,
        Some(h) => {
            contract::check_id("hospital", h)?;
            Some(h)
        }
    };
    let hospital = match actor.hospital_id() {
        Some(own) => {
            if let Some(other) = asked.filter(|h| *h != own) {
                return Err(refuse(
                    &app,
                    &actor,
                    "view arrears",
                    format!("arrears of {other}"),
                    format!("hospital {own} may only see its own arrears"),
                )
                .await);
            }
            Some(own)
        }
        None => asked,
    };
    let store = app.backend.ledger().ok_or_else(no_ledger)?;
    let report = engine_payments::arrears_as_of(&store, hospital, as_of, listing)
        .await
        .map_err(|e| ApiError::internal("computing the arrears", chain(&e)))?;
    Ok(Json(ArrearsJson {
        as_of: report.as_of.to_string(),
        rows: report.rows.iter().map(ArrearsRowJson::from).collect(),
        hospitals: report
            .hospitals
            .iter()
            .map(|(h, t)| ArrearsTotalsJson::of(Some(h), t))
            .collect(),
        total: ArrearsTotalsJson::of(None, &report.total),
        unmatched: report.unmatched.iter().map(PaymentJson::from).collect(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_patterns_compile_and_say_what_the_handlers_take() {
        for ok in ["1", "0", "12345.6", "12345.67", "999999999999999.99"] {
            assert!(AMOUNT.is_match(ok), "{ok}");
        }
        for bad in [
            "",
            "1.234",
            "-1",
            "+1",
            "1e5",
            "1,000",
            " 1",
            "1.",
            ".5",
            "1000000000000000",
        ] {
            assert!(!AMOUNT.is_match(bad), "{bad}");
        }
        assert!(REFERENCE.is_match("TR-202506-H001") && !REFERENCE.is_match("a b"));
        assert!(!REFERENCE.is_match(&"x".repeat(65)));
        assert!(DATE.is_match("2025-08-20") && !DATE.is_match("2025-8-20"));
        assert!(
            parse_date("d", "2025-02-30").is_err(),
            "matches, but no such day"
        );
        assert!(parse_date("d", "2025-02-28").is_ok());
    }
}
