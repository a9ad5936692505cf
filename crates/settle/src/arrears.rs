//! 应付未付 — what the fund paid against the monthly statements, and the arrears.
//!
//! `payment-model.md` §6: each payment the fund makes to a hospital (拨付: date, amount,
//! reference) is recorded against one of its monthly statements; `outstanding = amount_due −
//! paid`; a statement past its due date with anything outstanding is overdue, and the arrears
//! report lists it with the days overdue, by hospital and month, with aging bands.
//!
//! Choices made here (and documented in `docs/settlement.md`):
//! - **an amount** is a plain decimal (`12345.6`, `12345.67`), greater than zero, with at most
//!   two decimals (the fen): no sign, exponent, thousands separator or currency
//!   ([`parse_amount`]);
//! - **a payment pays one statement**, `(hospital, month)`, and is refused
//!   ([`PaymentRefusal`]) when the statement is not in the ledger, when the hospital already
//!   used its reference (re-recording a file never pays twice), when it is dated on or before
//!   the last day of the month it pays (the statement cannot exist yet), or when it would
//!   make what is paid exceed the amount due: **an overpayment is refused** (the refusal says
//!   the outstanding amount), never carried, so nothing paid is ever lost in a credit nobody
//!   reads; every payment recorded, whatever its date, counts towards that limit;
//! - **as of a date**: the payments dated on or before `as_of` count; a statement is due on
//!   its `due_by` (the 30th working day after the declaration deadline, computed on the
//!   official calendar when the month was settled); `days_overdue` is the number of calendar
//!   days from `due_by` to `as_of`, 0 when `as_of ≤ due_by`;
//! - **bands** ([`Band`]): `not_due` (not yet due), `1-30`, `31-90`, `91-180`, `>180` days
//!   overdue; `paid` for a statement with nothing outstanding; `credit` for a statement paid
//!   more than it is now due (only when a re-run of its month lowered the amount after it was
//!   paid: the difference is shown, never dropped);
//! - a payment whose statement is no longer in the ledger (a re-run withdrew it) is reported
//!   as unmatched ([`ArrearsReport::unmatched`]), never dropped;
//! - every sum is checked ([`ArrearsError::Overflow`]); no amount is rounded (the amounts
//!   due are published to the fen, and payments have at most two decimals).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use drgdip_pay::money::Fen;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::audit::{Action, Actor, AuditEvent};
use crate::calendar::{Date, YearMonth};
use crate::monthly::MonthlyStatement;

// -------------------------------------------------------------------------------------------
// Payments

/// An amount that is not a plain decimal of at most two decimals greater than zero.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("amount {text:?}: expected a plain decimal greater than zero with at most two decimals, such as 12345.67")]
pub struct AmountError {
    /// The text (or the number) given.
    pub text: String,
}

/// Parses a payment amount: ASCII digits, optionally `.` and one or two digits; greater
/// than zero. `"1e5"`, `"+5"`, `"-5"`, `"1,000"`, `" 5"`, `"5."`, `".5"` and `"1.234"` are
/// refused.
pub fn parse_amount(text: &str) -> Result<Decimal, AmountError> {
    let refuse = || AmountError {
        text: text.to_string(),
    };
    let (whole, fraction) = match text.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (text, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || whole.len() > 15 || fraction.is_some_and(|f| !digits(f) || f.len() > 2) {
        return Err(refuse());
    }
    let amount: Decimal = text.parse().map_err(|_| refuse())?;
    check_amount(amount).map_err(|_| refuse())
}

/// Checks an amount already read as a number (a JSON body): greater than zero, at most two
/// decimals (after trailing zeros are dropped: `100.50` is fine, `100.005` is not).
pub fn check_amount(amount: Decimal) -> Result<Decimal, AmountError> {
    if amount > Decimal::ZERO && amount.normalize().scale() <= 2 {
        Ok(amount)
    } else {
        Err(AmountError {
            text: amount.to_string(),
        })
    }
}

/// One payment of the fund to a hospital (拨付), against the statement of `month`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FundPayment {
    /// The hospital paid.
    pub hospital_id: String,
    /// The month of the statement paid (月结算单).
    pub month: YearMonth,
    /// The day the money went out.
    pub date: Date,
    /// The amount, exact (> 0, at most two decimals).
    pub amount: Decimal,
    /// The bank or treasury reference; unique per hospital.
    pub reference: String,
}

impl FundPayment {
    /// The statement paid, as the audit log names it: `H001/2025-06`.
    pub fn subject(&self) -> String {
        format!("{}/{}", self.hospital_id, self.month)
    }
}

/// What is known of a statement when a payment against it is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Balance {
    /// The statement's amount due.
    pub amount_due: Decimal,
    /// Σ of the payments recorded against it so far (whatever their dates).
    pub paid: Decimal,
}

impl Balance {
    /// `amount_due − paid`.
    pub fn outstanding(&self) -> Decimal {
        self.amount_due - self.paid
    }

    fn state(&self) -> String {
        format!(
            "paid={} outstanding={}",
            Fen(self.paid),
            Fen(self.outstanding())
        )
    }
}

/// Why a payment is not recorded.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PaymentRefusal {
    /// The amount is not > 0 with at most two decimals.
    #[error("amount {amount}: expected greater than zero with at most two decimals")]
    BadAmount {
        /// The amount.
        amount: String,
    },
    /// No statement of that hospital and month in the ledger.
    #[error("no statement {subject} in the ledger (is the month settled, the hospital right?)")]
    UnknownStatement {
        /// `H001/2025-06`.
        subject: String,
    },
    /// The hospital already used the reference.
    #[error("reference {reference:?} of {hospital_id} is already recorded ({previous}): a payment is recorded once")]
    DuplicateReference {
        /// The hospital.
        hospital_id: String,
        /// The reference.
        reference: String,
        /// Where: `payment 12 of 2025-07-20` or `earlier in this batch`.
        previous: String,
    },
    /// Dated before the statement can exist.
    #[error("date {date} is not after the month {month} it pays (a statement is issued after its month ends)")]
    TooEarly {
        /// The payment's date.
        date: Date,
        /// The statement's month.
        month: YearMonth,
    },
    /// The payment would make paid > amount due.
    #[error("amount {amount} exceeds what is outstanding on {subject}: {outstanding} (amount due {amount_due}, paid {paid}); an overpayment is refused")]
    Overpayment {
        /// `H001/2025-06`.
        subject: String,
        /// The payment's amount.
        amount: String,
        /// The statement's amount due.
        amount_due: String,
        /// Paid so far.
        paid: String,
        /// What may still be paid.
        outstanding: String,
    },
}

/// Checks `payment` against its statement's `balance` (`None`: no such statement) and the
/// payment already recorded with its reference (`previous`, described), and returns the
/// balance after it. Pure: the store supplies the facts.
pub fn check_payment(
    payment: &FundPayment,
    balance: Option<Balance>,
    previous: Option<String>,
) -> Result<Balance, PaymentRefusal> {
    if check_amount(payment.amount).is_err() {
        return Err(PaymentRefusal::BadAmount {
            amount: payment.amount.to_string(),
        });
    }
    let Some(balance) = balance else {
        return Err(PaymentRefusal::UnknownStatement {
            subject: payment.subject(),
        });
    };
    if let Some(previous) = previous {
        return Err(PaymentRefusal::DuplicateReference {
            hospital_id: payment.hospital_id.clone(),
            reference: payment.reference.clone(),
            previous,
        });
    }
    if payment.date <= payment.month.last_day() {
        return Err(PaymentRefusal::TooEarly {
            date: payment.date,
            month: payment.month,
        });
    }
    let after = balance.paid.checked_add(payment.amount);
    match after {
        Some(paid) if paid <= balance.amount_due => Ok(Balance {
            amount_due: balance.amount_due,
            paid,
        }),
        _ => Err(PaymentRefusal::Overpayment {
            subject: payment.subject(),
            amount: Fen(payment.amount).to_string(),
            amount_due: Fen(balance.amount_due).to_string(),
            paid: Fen(balance.paid).to_string(),
            outstanding: Fen(balance.outstanding().max(Decimal::ZERO)).to_string(),
        }),
    }
}

/// The audit event of a recorded payment ([`Action::PaymentRecorded`]): the statement's
/// paid and outstanding before and after.
pub fn payment_recorded_event(
    actor: &Actor,
    payment: &FundPayment,
    id: i64,
    before: Balance,
    after: Balance,
) -> AuditEvent {
    AuditEvent::new(
        actor,
        Action::PaymentRecorded,
        payment.subject(),
        format!(
            "payment {id} (拨付) reference {:?} dated {}: {}",
            payment.reference,
            payment.date,
            Fen(payment.amount)
        ),
    )
    .before(before.state())
    .after(after.state())
}

/// The audit event of a refused payment ([`Action::PaymentRefused`]): nothing changed.
pub fn payment_refused_event(
    actor: &Actor,
    payment: &FundPayment,
    refusal: &PaymentRefusal,
) -> AuditEvent {
    AuditEvent::new(
        actor,
        Action::PaymentRefused,
        payment.subject(),
        format!(
            "payment reference {:?} dated {} of {} refused: {refusal}",
            payment.reference, payment.date, payment.amount
        ),
    )
}

// -------------------------------------------------------------------------------------------
// Arrears

/// What a statement asks of the fund: the amount and the last day to pay it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementDue {
    /// The hospital.
    pub hospital_id: String,
    /// The month settled.
    pub month: YearMonth,
    /// What the fund pays (`fund_due_total − deposit_withheld`).
    pub amount_due: Decimal,
    /// The last day to pay.
    pub due_by: Date,
}

impl From<&MonthlyStatement> for StatementDue {
    fn from(s: &MonthlyStatement) -> StatementDue {
        StatementDue {
            hospital_id: s.hospital_id.clone(),
            month: s.month,
            amount_due: s.amount_due,
            due_by: s.due_by,
        }
    }
}

/// The aging band of a statement (账龄).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Band {
    /// Something outstanding, not yet due (`as_of ≤ due_by`).
    #[serde(rename = "not_due")]
    NotDue,
    /// 1 to 30 days overdue.
    #[serde(rename = "1-30")]
    UpTo30,
    /// 31 to 90 days overdue.
    #[serde(rename = "31-90")]
    UpTo90,
    /// 91 to 180 days overdue.
    #[serde(rename = "91-180")]
    UpTo180,
    /// More than 180 days overdue.
    #[serde(rename = ">180")]
    Over180,
    /// Nothing outstanding.
    #[serde(rename = "paid")]
    Paid,
    /// Paid more than is now due (a re-run lowered the amount after it was paid).
    #[serde(rename = "credit")]
    Credit,
}

impl Band {
    /// Every band, in the order of the report.
    pub const ALL: [Band; 7] = [
        Band::NotDue,
        Band::UpTo30,
        Band::UpTo90,
        Band::UpTo180,
        Band::Over180,
        Band::Paid,
        Band::Credit,
    ];

    /// The bands of money owed (the columns of the totals).
    pub const OWED: [Band; 5] = [
        Band::NotDue,
        Band::UpTo30,
        Band::UpTo90,
        Band::UpTo180,
        Band::Over180,
    ];

    /// The band's name: `not_due`, `1-30`, `31-90`, `91-180`, `>180`, `paid`, `credit`.
    pub fn as_str(self) -> &'static str {
        match self {
            Band::NotDue => "not_due",
            Band::UpTo30 => "1-30",
            Band::UpTo90 => "31-90",
            Band::UpTo180 => "91-180",
            Band::Over180 => ">180",
            Band::Paid => "paid",
            Band::Credit => "credit",
        }
    }

    /// The band of a statement with `outstanding` left, `days_overdue` days after its due
    /// date.
    pub fn of(outstanding: Decimal, days_overdue: i64) -> Band {
        if outstanding.is_zero() {
            Band::Paid
        } else if outstanding < Decimal::ZERO {
            Band::Credit
        } else {
            match days_overdue {
                i64::MIN..=0 => Band::NotDue,
                1..=30 => Band::UpTo30,
                31..=90 => Band::UpTo90,
                91..=180 => Band::UpTo180,
                _ => Band::Over180,
            }
        }
    }
}

impl fmt::Display for Band {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// One statement as of a date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArrearsRow {
    /// The hospital.
    pub hospital_id: String,
    /// The statement's month.
    pub month: YearMonth,
    /// The amount due.
    pub amount_due: Decimal,
    /// Σ of its payments dated on or before `as_of`.
    pub paid: Decimal,
    /// `amount_due − paid`.
    pub outstanding: Decimal,
    /// The last day to pay (`due_by`).
    pub due_date: Date,
    /// Calendar days from `due_date` to `as_of`; 0 when not yet due or nothing is
    /// outstanding.
    pub days_overdue: i64,
    /// The aging band.
    pub band: Band,
}

/// Sums of rows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArrearsTotals {
    /// Rows summed.
    pub statements: u64,
    /// Σ amount_due.
    pub amount_due: Decimal,
    /// Σ paid.
    pub paid: Decimal,
    /// Σ outstanding.
    pub outstanding: Decimal,
    /// Σ outstanding by band (only the bands that occur).
    pub by_band: BTreeMap<Band, Decimal>,
}

impl ArrearsTotals {
    /// Adds a row (checked).
    pub fn add(&mut self, row: &ArrearsRow) -> Result<(), ArrearsError> {
        let add = |a: Decimal, b: Decimal, what: &str| {
            a.checked_add(b).ok_or_else(|| ArrearsError::Overflow {
                what: format!("Σ {what} ({} {})", row.hospital_id, row.month),
            })
        };
        self.statements += 1;
        self.amount_due = add(self.amount_due, row.amount_due, "amount_due")?;
        self.paid = add(self.paid, row.paid, "paid")?;
        self.outstanding = add(self.outstanding, row.outstanding, "outstanding")?;
        let band = self.by_band.entry(row.band).or_default();
        *band = add(*band, row.outstanding, "outstanding by band")?;
        Ok(())
    }

    /// The sums of `rows`.
    pub fn of<'a>(
        rows: impl IntoIterator<Item = &'a ArrearsRow>,
    ) -> Result<ArrearsTotals, ArrearsError> {
        let mut t = ArrearsTotals::default();
        for r in rows {
            t.add(r)?;
        }
        Ok(t)
    }

    /// Σ outstanding of `band` (zero when none).
    pub fn band(&self, band: Band) -> Decimal {
        self.by_band.get(&band).copied().unwrap_or_default()
    }
}

/// Which statements a report lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listing {
    /// Those with anything outstanding (owed, or a credit): the arrears list.
    Outstanding,
    /// Every statement, fully paid ones included.
    Every,
}

/// The arrears as of a date: the rows, by hospital and month; the totals of each hospital
/// and overall, over the rows listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArrearsReport {
    /// The date the report is as of.
    pub as_of: Date,
    /// The rows listed, by hospital then month.
    pub rows: Vec<ArrearsRow>,
    /// The totals of each hospital with a row, by hospital.
    pub hospitals: Vec<(String, ArrearsTotals)>,
    /// The totals of all rows.
    pub total: ArrearsTotals,
    /// Payments dated on or before `as_of` whose statement is not among the statements (a
    /// re-run withdrew it): money paid that no statement accounts for.
    pub unmatched: Vec<FundPayment>,
}

/// Why a report cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ArrearsError {
    /// Two statements of one hospital and month.
    #[error("two statements {subject}")]
    DuplicateStatement {
        /// `H001/2025-06`.
        subject: String,
    },
    /// A sum beyond the range of a decimal.
    #[error("{what}: beyond the range of an exact decimal")]
    Overflow {
        /// Which sum.
        what: String,
    },
}

/// The arrears of `statements` as of `as_of`, given the `payments` recorded (those dated
/// after `as_of` do not count). The result does not depend on the order of the inputs.
pub fn arrears(
    statements: &[StatementDue],
    payments: &[FundPayment],
    as_of: Date,
    listing: Listing,
) -> Result<ArrearsReport, ArrearsError> {
    let mut paid: BTreeMap<(&str, YearMonth), Decimal> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    for s in statements {
        if !seen.insert((s.hospital_id.as_str(), s.month)) {
            return Err(ArrearsError::DuplicateStatement {
                subject: format!("{}/{}", s.hospital_id, s.month),
            });
        }
    }
    let mut unmatched = Vec::new();
    for p in payments.iter().filter(|p| p.date <= as_of) {
        let key = (p.hospital_id.as_str(), p.month);
        if !seen.contains(&key) {
            unmatched.push(p.clone());
            continue;
        }
        let sum = paid.entry(key).or_default();
        *sum = sum
            .checked_add(p.amount)
            .ok_or_else(|| ArrearsError::Overflow {
                what: format!("Σ paid ({})", p.subject()),
            })?;
    }
    unmatched.sort_by(|a, b| {
        (&a.hospital_id, a.month, a.date, &a.reference).cmp(&(
            &b.hospital_id,
            b.month,
            b.date,
            &b.reference,
        ))
    });
    let mut rows = Vec::with_capacity(statements.len());
    for s in statements {
        let p = paid
            .get(&(s.hospital_id.as_str(), s.month))
            .copied()
            .unwrap_or_default();
        let outstanding = s
            .amount_due
            .checked_sub(p)
            .ok_or_else(|| ArrearsError::Overflow {
                what: format!("outstanding ({}/{})", s.hospital_id, s.month),
            })?;
        let late = as_of.days_since(s.due_by).max(0);
        let band = Band::of(outstanding, late);
        let days_overdue = if outstanding > Decimal::ZERO { late } else { 0 };
        let row = ArrearsRow {
            hospital_id: s.hospital_id.clone(),
            month: s.month,
            amount_due: s.amount_due,
            paid: p,
            outstanding,
            due_date: s.due_by,
            days_overdue,
            band,
        };
        if listing == Listing::Every || !outstanding.is_zero() {
            rows.push(row);
        }
    }
    rows.sort_by(|a, b| (&a.hospital_id, a.month).cmp(&(&b.hospital_id, b.month)));
    let mut hospitals: Vec<(String, ArrearsTotals)> = Vec::new();
    for r in &rows {
        match hospitals.last_mut() {
            Some((h, t)) if *h == r.hospital_id => t.add(r)?,
            _ => {
                let mut t = ArrearsTotals::default();
                t.add(r)?;
                hospitals.push((r.hospital_id.clone(), t));
            }
        }
    }
    let total = ArrearsTotals::of(&rows)?;
    Ok(ArrearsReport {
        as_of,
        rows,
        hospitals,
        total,
        unmatched,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn d(text: &str) -> Date {
        text.parse().unwrap()
    }

    fn ym(text: &str) -> YearMonth {
        text.parse().unwrap()
    }

    fn statement(h: &str, m: &str, due: Decimal, by: &str) -> StatementDue {
        StatementDue {
            hospital_id: h.into(),
            month: ym(m),
            amount_due: due,
            due_by: d(by),
        }
    }

    fn pay(h: &str, m: &str, date: &str, amount: Decimal, reference: &str) -> FundPayment {
        FundPayment {
            hospital_id: h.into(),
            month: ym(m),
            date: d(date),
            amount,
            reference: reference.into(),
        }
    }

    #[test]
    fn amounts_are_plain_decimals_of_at_most_two_places_above_zero() {
        assert_eq!(parse_amount("12345.67"), Ok(dec!(12345.67)));
        assert_eq!(parse_amount("12345.6"), Ok(dec!(12345.6)));
        assert_eq!(parse_amount("7"), Ok(dec!(7)));
        assert_eq!(parse_amount("0.01"), Ok(dec!(0.01)));
        for bad in [
            "",
            "0",
            "0.00",
            "-5",
            "+5",
            "1e5",
            "1,000",
            " 5",
            "5 ",
            "5.",
            ".5",
            "1.234",
            "¥5",
            "NaN",
            "1.2.3",
            "9999999999999999",
        ] {
            let e = parse_amount(bad).unwrap_err();
            assert_eq!(e.text, bad);
            assert!(e.to_string().contains("at most two decimals"), "{e}");
        }
        assert!(check_amount(dec!(100.50)).is_ok());
        assert!(check_amount(dec!(100.005)).is_err());
        assert!(check_amount(dec!(-1)).is_err());
    }

    #[test]
    fn a_payment_is_checked_against_its_statement() {
        let p = pay("H001", "2025-06", "2025-08-01", dec!(600.00), "R1");
        let open = Balance {
            amount_due: dec!(1000.00),
            paid: dec!(300.00),
        };
        let after = check_payment(&p, Some(open), None).unwrap();
        assert_eq!(after.paid, dec!(900.00));
        assert_eq!(after.outstanding(), dec!(100.00));

        assert_eq!(
            check_payment(&p, None, None),
            Err(PaymentRefusal::UnknownStatement {
                subject: "H001/2025-06".into()
            })
        );
        let dup =
            check_payment(&p, Some(open), Some("payment 4 dated 2025-07-30".into())).unwrap_err();
        assert!(
            dup.to_string()
                .contains("reference \"R1\" of H001 is already recorded (payment 4"),
            "{dup}"
        );
        let over = check_payment(
            &p,
            Some(Balance {
                amount_due: dec!(1000.00),
                paid: dec!(400.01),
            }),
            None,
        )
        .unwrap_err();
        assert_eq!(
            over.to_string(),
            "amount 600.00 exceeds what is outstanding on H001/2025-06: 599.99 (amount due 1000.00, paid 400.01); an overpayment is refused"
        );
        // exactly the outstanding amount is fine
        let exact = Balance {
            amount_due: dec!(1000.00),
            paid: dec!(400.00),
        };
        assert_eq!(
            check_payment(&p, Some(exact), None).unwrap().outstanding(),
            dec!(0)
        );
        let early = pay("H001", "2025-06", "2025-06-30", dec!(1), "R2");
        assert!(matches!(
            check_payment(&early, Some(open), None),
            Err(PaymentRefusal::TooEarly { .. })
        ));
        let zero = pay("H001", "2025-06", "2025-08-01", dec!(0), "R3");
        assert!(matches!(
            check_payment(&zero, Some(open), None),
            Err(PaymentRefusal::BadAmount { .. })
        ));
    }

    #[test]
    fn the_events_say_what_was_paid_and_what_is_left() {
        let p = pay("H001", "2025-06", "2025-08-01", dec!(600), "R1");
        let before = Balance {
            amount_due: dec!(1000),
            paid: dec!(0),
        };
        let after = check_payment(&p, Some(before), None).unwrap();
        let e = payment_recorded_event(&Actor::bureau("b-1"), &p, 7, before, after);
        assert_eq!(
            e.to_string(),
            "b-1 (bureau) payment.recorded H001/2025-06: paid=0.00 outstanding=1000.00 → paid=600.00 outstanding=400.00 (payment 7 (拨付) reference \"R1\" dated 2025-08-01: 600.00)"
        );
        let r = payment_refused_event(
            &Actor::bureau("b-1"),
            &p,
            &PaymentRefusal::UnknownStatement {
                subject: p.subject(),
            },
        );
        assert_eq!(r.action, Action::PaymentRefused);
        assert!(
            r.reason.contains("no statement H001/2025-06"),
            "{}",
            r.reason
        );
    }

    #[test]
    fn days_overdue_and_bands() {
        assert_eq!(Band::of(dec!(1), -3), Band::NotDue);
        assert_eq!(Band::of(dec!(1), 0), Band::NotDue);
        assert_eq!(Band::of(dec!(1), 1), Band::UpTo30);
        assert_eq!(Band::of(dec!(1), 30), Band::UpTo30);
        assert_eq!(Band::of(dec!(1), 31), Band::UpTo90);
        assert_eq!(Band::of(dec!(1), 90), Band::UpTo90);
        assert_eq!(Band::of(dec!(1), 91), Band::UpTo180);
        assert_eq!(Band::of(dec!(1), 180), Band::UpTo180);
        assert_eq!(Band::of(dec!(1), 181), Band::Over180);
        assert_eq!(Band::of(dec!(0), 400), Band::Paid);
        assert_eq!(Band::of(dec!(-0.01), 400), Band::Credit);
        let names: Vec<&str> = Band::ALL.iter().map(|b| b.as_str()).collect();
        assert_eq!(
            names,
            ["not_due", "1-30", "31-90", "91-180", ">180", "paid", "credit"]
        );
    }

    #[test]
    fn full_partial_late_missing_and_future_payments() {
        let statements = [
            statement("H001", "2025-05", dec!(1000.00), "2025-07-22"),
            statement("H001", "2025-06", dec!(2000.00), "2025-08-21"),
            statement("H002", "2025-06", dec!(500.55), "2025-08-21"),
            statement("H002", "2025-12", dec!(800.00), "2026-03-04"),
        ];
        let payments = [
            pay("H001", "2025-05", "2025-07-20", dec!(1000.00), "full"),
            pay("H001", "2025-06", "2025-08-20", dec!(1500.00), "partial"),
            pay("H002", "2025-06", "2025-09-30", dec!(500.55), "late"),
            // after as_of: not counted
            pay("H001", "2025-06", "2026-01-15", dec!(500.00), "future"),
            // a statement a re-run withdrew
            pay("H003", "2025-06", "2025-08-01", dec!(10.00), "orphan"),
        ];
        let as_of = d("2025-12-31");
        let r = arrears(&statements, &payments, as_of, Listing::Outstanding).unwrap();
        let rows: Vec<(&str, String, Decimal, i64, Band)> = r
            .rows
            .iter()
            .map(|r| {
                (
                    r.hospital_id.as_str(),
                    r.month.to_string(),
                    r.outstanding,
                    r.days_overdue,
                    r.band,
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                (
                    "H001",
                    "2025-06".to_string(),
                    dec!(500.00),
                    132,
                    Band::UpTo180
                ),
                ("H002", "2025-12".to_string(), dec!(800.00), 0, Band::NotDue),
            ]
        );
        assert_eq!(r.hospitals.len(), 2);
        assert_eq!(r.total.outstanding, dec!(1300.00));
        assert_eq!(r.total.band(Band::UpTo180), dec!(500.00));
        assert_eq!(r.unmatched.len(), 1);
        assert_eq!(r.unmatched[0].reference, "orphan");

        let every = arrears(&statements, &payments, as_of, Listing::Every).unwrap();
        assert_eq!(every.rows.len(), 4);
        assert_eq!(every.rows[0].band, Band::Paid);
        assert_eq!(every.rows[0].days_overdue, 0);
        assert_eq!(every.total.paid, dec!(3000.55));

        // a year later, the future payment counts; the December statement is >180 days late
        let later = arrears(
            &statements,
            &payments,
            d("2026-09-01"),
            Listing::Outstanding,
        )
        .unwrap();
        assert_eq!(later.rows.len(), 1);
        assert_eq!(later.rows[0].month, ym("2025-12"));
        assert_eq!(later.rows[0].days_overdue, 181);
        assert_eq!(later.rows[0].band, Band::Over180);

        // a credit (a re-run lowered the amount below what was paid) is listed, never lost
        let lowered = [statement("H001", "2025-05", dec!(900.00), "2025-07-22")];
        let c = arrears(&lowered, &payments, as_of, Listing::Outstanding).unwrap();
        assert_eq!(c.rows[0].outstanding, dec!(-100.00));
        assert_eq!(c.rows[0].band, Band::Credit);

        let dup = [statements[0].clone(), statements[0].clone()];
        assert_eq!(
            arrears(&dup, &[], as_of, Listing::Every),
            Err(ArrearsError::DuplicateStatement {
                subject: "H001/2025-05".into()
            })
        );
    }

    #[test]
    fn sums_beyond_a_decimal_are_errors() {
        let huge = Decimal::MAX;
        let statements = [
            statement("H001", "2025-05", huge, "2025-07-22"),
            statement("H001", "2025-06", huge, "2025-08-21"),
        ];
        let e = arrears(&statements, &[], d("2025-12-31"), Listing::Every).unwrap_err();
        assert!(matches!(e, ArrearsError::Overflow { .. }), "{e}");
        let payments = [
            pay("H001", "2025-05", "2025-07-01", huge, "a"),
            pay("H001", "2025-05", "2025-07-02", huge, "b"),
        ];
        assert!(arrears(&statements[..1], &payments, d("2025-12-31"), Listing::Every).is_err());
        let p = pay("H001", "2025-05", "2025-07-01", dec!(1), "c");
        let full = Balance {
            amount_due: huge,
            paid: huge,
        };
        assert!(matches!(
            check_payment(&p, Some(full), None),
            Err(PaymentRefusal::Overpayment { .. })
        ));
    }

    fn arb_input() -> impl Strategy<Value = (Vec<StatementDue>, Vec<FundPayment>, Date)> {
        let statements = proptest::collection::btree_map(
            (0u8..4, 1u8..=12),
            (0i64..10_000_000, 0i64..400),
            0..12,
        );
        statements.prop_flat_map(|map| {
            let keys: Vec<(u8, u8)> = map.keys().copied().collect();
            let statements: Vec<StatementDue> = map
                .iter()
                .map(|(&(h, m), &(fen, due_offset))| {
                    let month = YearMonth::new(2025, m).unwrap();
                    let mut due_by = month.last_day();
                    for _ in 0..due_offset {
                        due_by = due_by.succ();
                    }
                    StatementDue {
                        hospital_id: format!("H{h:03}"),
                        month,
                        amount_due: Decimal::new(fen, 2),
                        due_by,
                    }
                })
                .collect();
            let payment = (0usize..keys.len().max(1) + 1, 1i64..5_000_000, 0u32..500);
            (
                Just(statements),
                proptest::collection::vec(payment, 0..30),
                0u32..800,
                Just(keys),
            )
                .prop_map(|(statements, raw, as_of, keys)| {
                    let start = Date::new(2025, 1, 1).unwrap();
                    let after = |n: u32| (0..n).fold(start, |d, _| d.succ());
                    let payments = raw
                        .into_iter()
                        .enumerate()
                        .map(|(i, (k, fen, day))| {
                            // an index past the keys is a payment of an unknown statement
                            let (h, m) = keys.get(k).copied().unwrap_or((9, 6));
                            FundPayment {
                                hospital_id: format!("H{h:03}"),
                                month: YearMonth::new(2025, m).unwrap(),
                                date: after(day),
                                amount: Decimal::new(fen, 2),
                                reference: format!("R{i}"),
                            }
                        })
                        .collect();
                    (statements, payments, after(as_of))
                })
        })
    }

    proptest! {
        #[test]
        fn outstanding_is_due_minus_paid_and_totals_are_sums_of_rows(
            (statements, payments, as_of) in arb_input()
        ) {
            let every = arrears(&statements, &payments, as_of, Listing::Every).unwrap();
            prop_assert_eq!(every.rows.len(), statements.len());
            for r in &every.rows {
                let s = statements
                    .iter()
                    .find(|s| s.hospital_id == r.hospital_id && s.month == r.month)
                    .unwrap();
                let paid: Decimal = payments
                    .iter()
                    .filter(|p| p.hospital_id == r.hospital_id && p.month == r.month && p.date <= as_of)
                    .map(|p| p.amount)
                    .sum();
                prop_assert_eq!(r.amount_due, s.amount_due);
                prop_assert_eq!(r.paid, paid);
                prop_assert_eq!(r.outstanding, s.amount_due - paid);
                prop_assert_eq!(r.due_date, s.due_by);
                let late = as_of.days_since(s.due_by);
                if r.outstanding > Decimal::ZERO {
                    prop_assert_eq!(r.days_overdue, late.max(0));
                } else {
                    prop_assert_eq!(r.days_overdue, 0);
                }
                prop_assert_eq!(r.band, Band::of(r.outstanding, late));
            }
            let unmatched: Vec<&FundPayment> = payments
                .iter()
                .filter(|p| p.date <= as_of && !statements.iter().any(|s| s.hospital_id == p.hospital_id && s.month == p.month))
                .collect();
            prop_assert_eq!(every.unmatched.len(), unmatched.len());

            let listed = arrears(&statements, &payments, as_of, Listing::Outstanding).unwrap();
            let expected: Vec<&ArrearsRow> = every.rows.iter().filter(|r| !r.outstanding.is_zero()).collect();
            prop_assert_eq!(listed.rows.iter().collect::<Vec<_>>(), expected);
            for report in [&every, &listed] {
                let mut n = 0;
                let mut outstanding = Decimal::ZERO;
                for (h, t) in &report.hospitals {
                    let mine: Vec<&ArrearsRow> = report.rows.iter().filter(|r| &r.hospital_id == h).collect();
                    prop_assert_eq!(t.statements as usize, mine.len());
                    prop_assert_eq!(t.amount_due, mine.iter().map(|r| r.amount_due).sum::<Decimal>());
                    prop_assert_eq!(t.paid, mine.iter().map(|r| r.paid).sum::<Decimal>());
                    prop_assert_eq!(t.outstanding, mine.iter().map(|r| r.outstanding).sum::<Decimal>());
                    prop_assert_eq!(t.outstanding, t.by_band.values().copied().sum::<Decimal>());
                    n += mine.len();
                    outstanding += t.outstanding;
                }
                prop_assert_eq!(n, report.rows.len());
                prop_assert_eq!(report.total.outstanding, outstanding);
                prop_assert_eq!(report.total.outstanding, report.total.amount_due - report.total.paid);
            }

            // the order of the inputs does not matter
            let mut s2 = statements.clone();
            s2.reverse();
            let mut p2 = payments.clone();
            p2.reverse();
            prop_assert_eq!(arrears(&s2, &p2, as_of, Listing::Every).unwrap(), every);
        }
    }
}
