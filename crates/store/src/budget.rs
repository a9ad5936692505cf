//! The budget's versions (总额预算, `payment-model.md` §8): one row per version of a year's
//! budget, stored once and never changed (an adjustment is the next version), each with its
//! audit event in the same transaction. The body is the engine's JSON; the ledger compares
//! and keeps it, it computes nothing.

use drgdip_settle::AuditEvent;

use crate::{int, text, Result, Store, StoreError};

/// One stored version of a year's budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBudget {
    /// The budget year.
    pub year: i32,
    /// The version (1, 2, …).
    pub version: u32,
    /// When it was stored.
    pub recorded_at: String,
    /// Who stored it.
    pub actor: String,
    /// The version as JSON (the engine's `BudgetVersion`).
    pub body: String,
}

/// What storing a version did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetStored {
    /// The version is new: stored, with its audit events.
    New,
    /// The same version with the same body was stored before: nothing written.
    Unchanged,
}

/// How a version must relate to the year's stored versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BudgetSlot {
    /// Any version number (registering a parameter file's budget): a stored version of
    /// that number must have the same body.
    AsNumbered,
    /// The next number after the year's last stored version (an adjustment).
    Next,
}

impl Store {
    /// Stores `body` as `version` of `year`'s budget with `audit`, in one transaction. A
    /// version already stored with another body is refused: stored versions never change.
    /// With [`BudgetSlot::Next`], `version` must follow the year's last stored version.
    pub async fn store_budget_version(
        &self,
        year: i32,
        version: u32,
        body: &str,
        slot: BudgetSlot,
        audit: &[AuditEvent],
    ) -> Result<BudgetStored, StoreError> {
        let at = self.now();
        let actor = audit
            .first()
            .map_or("system", |e| e.actor.as_str())
            .to_string();
        let mut tx = self.begin_write().await?;
        let existing =
            sqlx::query("SELECT body FROM budget_versions WHERE year = $1 AND version = $2")
                .bind(i64::from(year))
                .bind(i64::from(version))
                .fetch_optional(&mut *tx)
                .await?;
        if let Some(row) = existing {
            let stored = text(&row, "body")?;
            if stored == body && slot == BudgetSlot::AsNumbered {
                return Ok(BudgetStored::Unchanged);
            }
            return Err(StoreError::Invalid(format!(
                "budget {year} version {version} is already stored with other figures or approval; a stored version never changes (an adjustment is a new version: drgdip budget adjust)"
            )));
        }
        if slot == BudgetSlot::Next {
            let last = sqlx::query(
                "SELECT COALESCE(MAX(version), 0) AS last FROM budget_versions WHERE year = $1",
            )
            .bind(i64::from(year))
            .fetch_one(&mut *tx)
            .await?;
            let last = int(&last, "last")?;
            if last == 0 {
                return Err(StoreError::Invalid(format!(
                    "no budget of {year} is registered: register the parameter file's budget first (drgdip budget register)"
                )));
            }
            if i64::from(version) != last + 1 {
                return Err(StoreError::Invalid(format!(
                    "budget {year}: the next version is {}, not {version}",
                    last + 1
                )));
            }
        }
        sqlx::query(
            "INSERT INTO budget_versions (year, version, recorded_at, actor, body) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(i64::from(year))
        .bind(i64::from(version))
        .bind(at.as_str())
        .bind(actor.as_str())
        .bind(body)
        .execute(&mut *tx)
        .await?;
        Self::append_in(self.backend, &mut tx, &at, audit).await?;
        tx.commit().await?;
        Ok(BudgetStored::New)
    }

    /// The stored versions of `year`'s budget, oldest first.
    pub async fn budget_versions(&self, year: i32) -> Result<Vec<StoredBudget>, StoreError> {
        let rows = sqlx::query(
            "SELECT year, version, recorded_at, actor, body FROM budget_versions \
             WHERE year = $1 ORDER BY version",
        )
        .bind(i64::from(year))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let version = int(r, "version")?;
                Ok(StoredBudget {
                    year,
                    version: u32::try_from(version).map_err(|_| {
                        StoreError::Invalid(format!(
                            "stored budget version {version} is out of range"
                        ))
                    })?,
                    recorded_at: text(r, "recorded_at")?,
                    actor: text(r, "actor")?,
                    body: text(r, "body")?,
                })
            })
            .collect()
    }
}
