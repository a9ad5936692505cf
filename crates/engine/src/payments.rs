//! 应付未付 — what the fund paid against the monthly statements, and what it still owes
//! (`payment-model.md` §6): a payments file read row by row, the payments recorded in the
//! ledger (each recorded or refused on its own, with its audit event), and the standing of
//! every statement as of a date (paid, outstanding, due date on the official calendar, days
//! overdue, aging band).
//!
//! The arithmetic is `drgdip_settle::arrears`; the checks against the ledger (the statement
//! exists, the reference is new for the hospital, the date is after the month, the amount
//! does not exceed what is outstanding) are `drgdip_store::Store::record_payments`, in one
//! transaction. Every front end (the CLI's `payments record` and `arrears`, the server's
//! `POST /v1/payments`, `GET /v1/arrears` and `GET /v1/statements`) calls these functions.

use std::collections::HashMap;
use std::io::Read;

use drgdip_settle::arrears::{
    arrears, parse_amount, ArrearsReport, ArrearsRow, FundPayment, Listing, PaymentRefusal,
    StatementDue,
};
use drgdip_settle::{Actor, Date, MonthlyStatement, YearMonth};
use drgdip_store::{PaymentOutcome, Store};
use rust_decimal::Decimal;

use crate::error::{Context, Result};

/// The columns of a payments file (a header naming them, in any order; others ignored).
pub const PAYMENT_COLUMNS: [&str; 5] = ["hospital_id", "month", "date", "amount", "reference"];

/// A row of a payments file that is not recorded: malformed, or refused by the ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentProblem {
    /// Its line in the file (the header is line 1; 0 for a payment given as a value).
    pub line: u64,
    /// The hospital the row names.
    pub hospital_id: String,
    /// The field at fault.
    pub field: &'static str,
    /// Its value as written.
    pub value: String,
    /// Why.
    pub message: String,
    /// The ledger's refusal, when the row was well formed but refused.
    pub refusal: Option<PaymentRefusal>,
}

/// A payments file read: the rows read, the well-formed payments with their lines, and the
/// problems of the other rows.
#[derive(Debug, Clone, Default)]
pub struct PaymentsFile {
    /// Rows read (blank lines skipped).
    pub rows: u64,
    /// The well-formed payments, with their lines.
    pub payments: Vec<(u64, FundPayment)>,
    /// The malformed rows' problems (one per field at fault).
    pub problems: Vec<PaymentProblem>,
}

/// Reads a payments file (CSV, a header naming [`PAYMENT_COLUMNS`] in any order, fields
/// trimmed); every malformed row gives one problem per field at fault, and reading goes on.
/// `name` names the file in errors. A missing column is an error of the file.
pub fn read_payments<R: Read>(mut input: R, name: &str) -> Result<PaymentsFile> {
    // a payments file is small: read whole, so that a row's line counts the blank lines
    // before it (the CSV reader skips them without counting)
    let mut bytes = Vec::new();
    input
        .read_to_end(&mut bytes)
        .with_context(|| format!("cannot read {name}"))?;
    let line_ends: Vec<u64> = bytes
        .iter()
        .enumerate()
        .filter(|(_, &b)| b == b'\n')
        .map(|(i, _)| i as u64)
        .collect();
    // a record's position is where the reader started on it: blank lines before it included
    let line_at = |byte: u64| {
        let mut at = usize::try_from(byte).unwrap_or(usize::MAX).min(bytes.len());
        while at < bytes.len() && matches!(bytes[at], b'\n' | b'\r') {
            at += 1;
        }
        1 + line_ends.partition_point(|&end| end < at as u64) as u64
    };
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(bytes.as_slice());
    let header = rdr
        .headers()
        .with_context(|| format!("cannot read the header of {name}"))?
        .clone();
    let mut pos = HashMap::new();
    for column in PAYMENT_COLUMNS {
        let at = header.iter().position(|h| h == column).ok_or_else(|| {
            crate::invalid!(
                "{name}: no column {column:?} in the header (expected {})",
                PAYMENT_COLUMNS.join(",")
            )
        })?;
        pos.insert(column, at);
    }
    let mut file = PaymentsFile::default();
    for rec in rdr.records() {
        let rec = rec.with_context(|| format!("cannot read {name}"))?;
        let line = rec.position().map_or(0, |p| line_at(p.byte()));
        if rec.iter().all(str::is_empty) {
            continue;
        }
        file.rows += 1;
        let get = |column: &str| rec.get(pos[column]).unwrap_or("").to_string();
        match read_row(&get) {
            Ok(p) => file.payments.push((line, p)),
            Err((hospital_id, faults)) => {
                file.problems
                    .extend(
                        faults
                            .into_iter()
                            .map(|(field, value, message)| PaymentProblem {
                                line,
                                hospital_id: hospital_id.clone(),
                                field,
                                value,
                                message,
                                refusal: None,
                            }),
                    )
            }
        }
    }
    Ok(file)
}

type Fault = (&'static str, String, String);

/// One row's payment, or its hospital and every field at fault.
fn read_row(get: &dyn Fn(&str) -> String) -> Result<FundPayment, (String, Vec<Fault>)> {
    let hospital_id = get("hospital_id");
    let mut faults: Vec<Fault> = Vec::new();
    if hospital_id.is_empty() {
        faults.push((
            "hospital_id",
            String::new(),
            "empty: expected the hospital paid".into(),
        ));
    }
    let text = get("month");
    let month = text
        .parse::<YearMonth>()
        .map_err(|e| {
            faults.push((
                "month",
                text.clone(),
                format!("{e} (the month of the statement paid)"),
            ))
        })
        .ok();
    let text = get("date");
    let date = text
        .parse::<Date>()
        .map_err(|e| {
            faults.push((
                "date",
                text.clone(),
                format!("{e} (the day the money went out)"),
            ))
        })
        .ok();
    let text = get("amount");
    let amount = parse_amount(&text)
        .map_err(|e| faults.push(("amount", text.clone(), e.to_string())))
        .ok();
    let reference = get("reference");
    if reference.is_empty() {
        faults.push((
            "reference",
            String::new(),
            "empty: expected the bank reference of the payment".into(),
        ));
    }
    match (faults.is_empty(), month, date, amount) {
        (true, Some(month), Some(date), Some(amount)) => Ok(FundPayment {
            hospital_id,
            month,
            date,
            amount,
            reference,
        }),
        _ => Err((hospital_id, faults)),
    }
}

/// The field a ledger refusal is about, and the payment's value of it.
pub fn refused_field(refusal: &PaymentRefusal, p: &FundPayment) -> (&'static str, String) {
    match refusal {
        PaymentRefusal::BadAmount { .. } | PaymentRefusal::Overpayment { .. } => {
            ("amount", p.amount.to_string())
        }
        PaymentRefusal::UnknownStatement { .. } => ("month", p.month.to_string()),
        PaymentRefusal::DuplicateReference { .. } => ("reference", p.reference.clone()),
        PaymentRefusal::TooEarly { .. } => ("date", p.date.to_string()),
    }
}

/// What recording a batch of payments did.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// One outcome per payment given, in order.
    pub outcomes: Vec<PaymentOutcome>,
    /// Payments recorded.
    pub recorded: u64,
    /// Payments refused.
    pub refused: u64,
    /// Σ of the amounts recorded (checked).
    pub recorded_amount: Decimal,
    /// The refused payments as problems (line, field, value, why), in order.
    pub problems: Vec<PaymentProblem>,
}

/// Records `payments` (each with its line in the file it came from, 0 for none) in the
/// ledger, in one transaction: each recorded or refused on its own, with its audit event
/// (role `bureau`: the bureau records what the fund paid).
pub async fn record_payments(
    store: &Store,
    payments: &[(u64, FundPayment)],
    actor: &Actor,
) -> Result<Recorded> {
    let list: Vec<FundPayment> = payments.iter().map(|(_, p)| p.clone()).collect();
    let outcomes = store
        .record_payments(&list, actor)
        .await
        .context("cannot record the payments in the ledger")?;
    let mut done = Recorded {
        outcomes: Vec::new(),
        recorded: 0,
        refused: 0,
        recorded_amount: Decimal::ZERO,
        problems: Vec::new(),
    };
    for ((line, p), outcome) in payments.iter().zip(&outcomes) {
        match outcome {
            PaymentOutcome::Recorded { .. } => {
                done.recorded += 1;
                done.recorded_amount = done
                    .recorded_amount
                    .checked_add(p.amount)
                    .ok_or_else(|| crate::invalid!("the sum of the payments recorded overflows"))?;
            }
            PaymentOutcome::Refused { refusal } => {
                done.refused += 1;
                let (field, value) = refused_field(refusal, p);
                done.problems.push(PaymentProblem {
                    line: *line,
                    hospital_id: p.hospital_id.clone(),
                    field,
                    value,
                    message: refusal.to_string(),
                    refusal: Some(refusal.clone()),
                });
            }
        }
    }
    done.outcomes = outcomes;
    Ok(done)
}

/// The arrears (应付未付) of the ledger as of `as_of`: every statement with anything
/// outstanding (every statement with [`Listing::Every`]), optionally of one hospital, with
/// the payments dated on or before `as_of`.
pub async fn arrears_as_of(
    store: &Store,
    hospital: Option<&str>,
    as_of: Date,
    listing: Listing,
) -> Result<ArrearsReport> {
    let statements: Vec<StatementDue> = store
        .statements(None, hospital)
        .await?
        .iter()
        .map(StatementDue::from)
        .collect();
    let payments: Vec<FundPayment> = store
        .payments(hospital, None)
        .await?
        .into_iter()
        .map(|r| r.payment)
        .collect();
    arrears(&statements, &payments, as_of, listing)
        .map_err(|e| crate::invalid!("the arrears as of {as_of}: {e}"))
}

/// A monthly statement with its standing as of a date: what was paid against it, what is
/// outstanding, its due date and how late it is.
#[derive(Debug, Clone)]
pub struct Standing {
    /// The statement.
    pub statement: MonthlyStatement,
    /// Paid, outstanding, due date, days overdue and band as of the date.
    pub as_of: ArrearsRow,
}

/// The statements of the ledger (optionally of one month and/or one hospital), each with its
/// standing as of `as_of`.
pub async fn statements_as_of(
    store: &Store,
    month: Option<YearMonth>,
    hospital: Option<&str>,
    as_of: Date,
) -> Result<Vec<Standing>> {
    let statements = store.statements(month, hospital).await?;
    let report = arrears_as_of(store, hospital, as_of, Listing::Every).await?;
    let mut rows: HashMap<(String, YearMonth), ArrearsRow> = report
        .rows
        .into_iter()
        .map(|r| ((r.hospital_id.clone(), r.month), r))
        .collect();
    statements
        .into_iter()
        .map(|s| {
            let row = rows
                .remove(&(s.hospital_id.clone(), s.month))
                .ok_or_else(|| {
                    crate::invalid!(
                        "the statement {}/{} has no standing as of {as_of}",
                        s.hospital_id,
                        s.month
                    )
                })?;
            Ok(Standing {
                statement: s,
                as_of: row,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> PaymentsFile {
        read_payments(text.as_bytes(), "payments.csv").unwrap()
    }

    #[test]
    fn a_payments_file_is_read_in_any_column_order_and_extra_columns_are_ignored() {
        let f = read(
            "reference,amount,note,date,month,hospital_id\n\
             B-1,100.50,x,2025-07-20,2025-06,H001\n\
             \n\
             B-2,7,,2025-08-01,2025-06,H002\n",
        );
        assert_eq!(f.rows, 2);
        assert!(f.problems.is_empty(), "{:?}", f.problems);
        let (line, p) = &f.payments[1];
        assert_eq!(*line, 4);
        assert_eq!(p.hospital_id, "H002");
        assert_eq!(p.amount, Decimal::from(7));
        assert_eq!(p.month.to_string(), "2025-06");
    }

    #[test]
    fn every_field_at_fault_is_a_problem_naming_line_field_and_value() {
        let f = read(
            "hospital_id,month,date,amount,reference\n\
             H001,2025-13,2025-07-20,1e5,\n\
             H002,2025-06,2025-07-20,12.5,B-9\n",
        );
        assert_eq!(f.rows, 2);
        assert_eq!(f.payments.len(), 1);
        let fields: Vec<(u64, &str, &str)> = f
            .problems
            .iter()
            .map(|p| (p.line, p.field, p.value.as_str()))
            .collect();
        assert_eq!(
            fields,
            [
                (2, "month", "2025-13"),
                (2, "amount", "1e5"),
                (2, "reference", "")
            ]
        );
        assert!(f.problems.iter().all(|p| p.hospital_id == "H001"));
    }

    #[test]
    fn a_missing_column_is_an_error_of_the_file() {
        let e = read_payments("hospital_id,month,date,amount\n".as_bytes(), "p.csv").unwrap_err();
        assert!(e.to_string().contains("no column \"reference\""), "{e}");
    }
}
