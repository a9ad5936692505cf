//! Payments (拨付) against the monthly statements: recorded in batches, append-only, each
//! with its audit event in the same transaction (`payment-model.md` §6, 应付未付).
//!
//! The checks are `drgdip-settle`'s ([`check_payment`]); the store supplies the facts — the
//! statement's amount due, what is already recorded against it, whether the hospital used the
//! reference — and does the check and the write in one transaction, so two recorders never
//! both pay the last yuan of a statement.

use std::collections::{BTreeMap, HashMap};

use drgdip_settle::arrears::{
    check_payment, payment_recorded_event, payment_refused_event, Balance, FundPayment,
    PaymentRefusal,
};
use drgdip_settle::Date;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;

use crate::{decimal, insert_sql, int, month_of, text, Arg, Result, Select, Store, Tx};
use crate::{Actor, StoreError, YearMonth, INSERT_CHUNK};

/// A recorded payment: its id (`payment` counter), the payment, when and by whom it was
/// recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentRecord {
    /// The payment's number, 1, 2, 3, … in the order recorded.
    pub id: i64,
    /// The payment.
    #[serde(flatten)]
    pub payment: FundPayment,
    /// When it was recorded (RFC 3339, UTC).
    pub recorded_at: String,
    /// Who recorded it.
    pub actor: String,
}

/// What became of one payment of a batch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum PaymentOutcome {
    /// Recorded.
    Recorded {
        /// The record.
        record: PaymentRecord,
        /// What is left to pay on the statement after it.
        outstanding: Decimal,
    },
    /// Refused: nothing of it was written (its refusal is in the audit log).
    Refused {
        /// Why.
        refusal: PaymentRefusal,
    },
}

const COLUMNS: [&str; 8] = [
    "id",
    "hospital_id",
    "month",
    "date",
    "amount",
    "reference",
    "recorded_at",
    "actor",
];

fn record_of(row: &AnyRow) -> Result<PaymentRecord> {
    let date = text(row, "date")?;
    Ok(PaymentRecord {
        id: int(row, "id")?,
        payment: FundPayment {
            hospital_id: text(row, "hospital_id")?,
            month: month_of(row, "month")?,
            date: date
                .parse()
                .map_err(|e| StoreError::corrupt(format!("payment date {date:?}"), e))?,
            amount: decimal(row, "amount")?,
            reference: text(row, "reference")?,
        },
        recorded_at: text(row, "recorded_at")?,
        actor: text(row, "actor")?,
    })
}

impl Store {
    /// Records `payments` by `actor`, in order and in ONE transaction with their audit
    /// events ([`drgdip_settle::Action::PaymentRecorded`], and
    /// [`drgdip_settle::Action::PaymentRefused`] for each refused one). Each payment is
    /// checked with [`check_payment`] against the ledger as it stands with the batch's
    /// earlier payments: a payment of a statement that does not exist, a reference the
    /// hospital already used (in the ledger or earlier in the batch), a date within the month
    /// paid, or an amount beyond what is outstanding is refused; the others are recorded.
    /// One outcome per payment, in order.
    pub async fn record_payments(
        &self,
        payments: &[FundPayment],
        actor: &Actor,
    ) -> Result<Vec<PaymentOutcome>, StoreError> {
        let at = self.now();
        let mut tx = self.begin_write().await?;
        // Bumping by zero takes the counter's row lock: on PostgreSQL recorders queue here, so
        // each one checks against what the one before it committed.
        let mut last_id = Self::bump(&mut tx, "payment", 0).await?;
        let first_id = last_id + 1;
        let mut balances: HashMap<(String, YearMonth), Option<Balance>> = HashMap::new();
        let mut batch_refs: HashMap<(String, String), String> = HashMap::new();
        let mut outcomes = Vec::with_capacity(payments.len());
        let mut records: Vec<PaymentRecord> = Vec::new();
        let mut events = Vec::with_capacity(payments.len());
        for p in payments {
            let key = (p.hospital_id.clone(), p.month);
            let balance = match balances.get(&key) {
                Some(b) => *b,
                None => {
                    let b = balance_in(&mut tx, &p.hospital_id, p.month).await?;
                    balances.insert(key.clone(), b);
                    b
                }
            };
            let ref_key = (p.hospital_id.clone(), p.reference.clone());
            let previous = match batch_refs.get(&ref_key) {
                Some(earlier) => Some(earlier.clone()),
                None => sqlx::query(
                    "SELECT id, date FROM payments WHERE hospital_id = $1 AND reference = $2",
                )
                .bind(p.hospital_id.as_str())
                .bind(p.reference.as_str())
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| -> Result<String> {
                    Ok(format!(
                        "payment {} dated {}",
                        int(&r, "id")?,
                        text(&r, "date")?
                    ))
                })
                .transpose()?,
            };
            match check_payment(p, balance, previous) {
                Ok(after) => {
                    last_id += 1;
                    let before = balance.unwrap_or(after);
                    events.push(payment_recorded_event(actor, p, last_id, before, after));
                    balances.insert(key, Some(after));
                    batch_refs.insert(
                        ref_key,
                        format!("payment {last_id} dated {}, earlier in this batch", p.date),
                    );
                    let record = PaymentRecord {
                        id: last_id,
                        payment: p.clone(),
                        recorded_at: at.clone(),
                        actor: actor.id.clone(),
                    };
                    records.push(record.clone());
                    outcomes.push(PaymentOutcome::Recorded {
                        record,
                        outstanding: after.outstanding(),
                    });
                }
                Err(refusal) => {
                    events.push(payment_refused_event(actor, p, &refusal));
                    outcomes.push(PaymentOutcome::Refused { refusal });
                }
            }
        }
        if !records.is_empty() {
            let bumped = Self::bump(&mut tx, "payment", records.len() as i64).await?;
            debug_assert_eq!(bumped, last_id);
            debug_assert_eq!(records[0].id, first_id);
            for chunk in records.chunks(INSERT_CHUNK) {
                let sql = insert_sql(self.backend, "payments", &COLUMNS, chunk.len());
                let mut q = sqlx::query(&sql);
                for r in chunk {
                    q = q
                        .bind(r.id)
                        .bind(r.payment.hospital_id.as_str())
                        .bind(r.payment.month.to_string())
                        .bind(r.payment.date.to_string())
                        .bind(r.payment.amount.to_string())
                        .bind(r.payment.reference.as_str())
                        .bind(r.recorded_at.as_str())
                        .bind(r.actor.as_str());
                }
                q.execute(&mut *tx).await?;
            }
        }
        Self::append_in(self.backend, &mut tx, &at, &events).await?;
        tx.commit().await?;
        Ok(outcomes)
    }

    /// The recorded payments, by id, optionally of one hospital and/or one statement month.
    pub async fn payments(
        &self,
        hospital_id: Option<&str>,
        month: Option<YearMonth>,
    ) -> Result<Vec<PaymentRecord>, StoreError> {
        let mut q = Select::new(&format!("SELECT {} FROM payments", COLUMNS.join(", ")));
        q.months_and_hospital(month.map(|m| (m, m)), hospital_id);
        q.tail("ORDER BY id");
        let rows = q.query().fetch_all(&self.pool).await?;
        rows.iter().map(record_of).collect()
    }

    /// Σ of the payments dated on or before `as_of` per statement `(hospital, month)`
    /// (statements without such a payment are absent), optionally of one hospital. Summed
    /// exactly in Rust (the amounts are decimal text).
    pub async fn paid_as_of(
        &self,
        as_of: Date,
        hospital_id: Option<&str>,
    ) -> Result<BTreeMap<(String, YearMonth), Decimal>, StoreError> {
        let mut q = Select::new("SELECT hospital_id, month, amount FROM payments");
        // ISO dates compare as text in date order
        q.cond("date", "<=", Arg::Text(as_of.to_string()));
        if let Some(h) = hospital_id {
            q.eq("hospital_id", Arg::Text(h.to_string()));
        }
        let rows = q.query().fetch_all(&self.pool).await?;
        let mut paid: BTreeMap<(String, YearMonth), Decimal> = BTreeMap::new();
        for r in &rows {
            let key = (text(r, "hospital_id")?, month_of(r, "month")?);
            let sum = paid.entry(key).or_default();
            *sum = sum.checked_add(decimal(r, "amount")?).ok_or_else(|| {
                StoreError::corrupt("payments", "their sum is beyond an exact decimal")
            })?;
        }
        Ok(paid)
    }
}

/// The statement's amount due and Σ of every payment recorded against it, or `None` when
/// the ledger has no such statement.
async fn balance_in(tx: &mut Tx, hospital_id: &str, month: YearMonth) -> Result<Option<Balance>> {
    let m = month.to_string();
    let Some(row) =
        sqlx::query("SELECT amount_due FROM statements WHERE month = $1 AND hospital_id = $2")
            .bind(m.as_str())
            .bind(hospital_id)
            .fetch_optional(&mut **tx)
            .await?
    else {
        return Ok(None);
    };
    let amount_due = decimal(&row, "amount_due")?;
    let rows = sqlx::query("SELECT amount FROM payments WHERE hospital_id = $1 AND month = $2")
        .bind(hospital_id)
        .bind(m.as_str())
        .fetch_all(&mut **tx)
        .await?;
    let mut paid = Decimal::ZERO;
    for r in &rows {
        paid = paid.checked_add(decimal(r, "amount")?).ok_or_else(|| {
            StoreError::corrupt("payments", "their sum is beyond an exact decimal")
        })?;
    }
    Ok(Some(Balance { amount_due, paid }))
}
