//! Governance records (`payment-model.md` §11): the opinions channel (意见收集反馈) and the
//! data working group's rosters (医保数据工作组), each change with its audit event in the same
//! transaction.

use drgdip_governance::{Opinion, Roster};
use drgdip_settle::{AuditEvent, Date};

use crate::{json, text, to_json, Arg, Result, Select, Store, StoreError};

impl Store {
    /// A new opinion id, `OP-000001`, `OP-000002`, …: never reused.
    pub async fn next_opinion_id(&self) -> Result<String, StoreError> {
        let mut tx = self.begin_write().await?;
        let n = Self::bump(&mut tx, "opinion", 1).await?;
        tx.commit().await?;
        Ok(format!("OP-{n:06}"))
    }

    /// Saves `opinion` (inserted, or replacing the opinion of the same id) and appends
    /// `audit`, in one transaction. An opinion never changes hospital.
    pub async fn save_opinion(
        &self,
        opinion: &Opinion,
        audit: &[AuditEvent],
    ) -> Result<(), StoreError> {
        let at = self.now();
        let mut tx = self.begin_write().await?;
        let existing = sqlx::query("SELECT hospital_id FROM opinions WHERE id = $1")
            .bind(opinion.id.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(row) = existing {
            if text(&row, "hospital_id")? != opinion.hospital_id {
                return Err(StoreError::Invalid(format!(
                    "opinion {} belongs to another hospital",
                    opinion.id
                )));
            }
        }
        sqlx::query(
            "INSERT INTO opinions (id, hospital_id, submitted_on, status, updated_at, body) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (id) DO UPDATE SET status = excluded.status, \
             updated_at = excluded.updated_at, body = excluded.body",
        )
        .bind(opinion.id.as_str())
        .bind(opinion.hospital_id.as_str())
        .bind(opinion.submitted_on.to_string())
        .bind(opinion.status.as_str())
        .bind(at.as_str())
        .bind(to_json(opinion)?)
        .execute(&mut *tx)
        .await?;
        Self::append_in(self.backend, &mut tx, &at, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The opinion `id`, if there is one.
    pub async fn opinion(&self, id: &str) -> Result<Option<Opinion>, StoreError> {
        sqlx::query("SELECT body FROM opinions WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| json(&r, "opinion"))
            .transpose()
    }

    /// The opinions, by id, optionally of one hospital and/or submitted in `[from, to]`.
    pub async fn opinions(
        &self,
        hospital_id: Option<&str>,
        dates: Option<(Date, Date)>,
    ) -> Result<Vec<Opinion>, StoreError> {
        let mut q = Select::new("SELECT body FROM opinions");
        if let Some(h) = hospital_id {
            q.eq("hospital_id", Arg::Text(h.to_string()));
        }
        q.tail("ORDER BY id");
        let rows = q.query().fetch_all(&self.pool).await?;
        let all: Vec<Opinion> = rows
            .iter()
            .map(|r| json(r, "opinion"))
            .collect::<Result<_>>()?;
        Ok(match dates {
            Some((from, to)) => all
                .into_iter()
                .filter(|o| o.submitted_on >= from && o.submitted_on <= to)
                .collect(),
            None => all,
        })
    }

    /// Records the roster of its year (replacing an earlier one of the same year) with its
    /// audit event, in one transaction.
    pub async fn save_roster(
        &self,
        roster: &Roster,
        audit: &[AuditEvent],
    ) -> Result<(), StoreError> {
        let at = self.now();
        let actor = audit
            .first()
            .map_or("system", |e| e.actor.as_str())
            .to_string();
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM rosters WHERE year = $1")
            .bind(i64::from(roster.year))
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO rosters (year, recorded_at, actor, body) VALUES ($1, $2, $3, $4)")
            .bind(i64::from(roster.year))
            .bind(at.as_str())
            .bind(actor.as_str())
            .bind(to_json(roster)?)
            .execute(&mut *tx)
            .await?;
        Self::append_in(self.backend, &mut tx, &at, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The roster of `year`, if one is recorded.
    pub async fn roster(&self, year: i32) -> Result<Option<Roster>, StoreError> {
        sqlx::query("SELECT body FROM rosters WHERE year = $1")
            .bind(i64::from(year))
            .fetch_optional(&self.pool)
            .await?
            .map(|r| json(&r, "roster"))
            .transpose()
    }
}
