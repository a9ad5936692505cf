//! Negotiation rounds (谈判协商, `payment-model.md` §9): the round, its parties, its proposals
//! with their texts and simulations, its outcome and its minutes. Every table is insert-only
//! (migration 0010's triggers refuse updates and deletes): nothing is rewritten, a round's
//! state is what its rows say. Each write goes with its audit events in one transaction. The
//! bodies are the engine's JSON; the store checks only what a concurrent writer could break
//! (no proposal or party after the outcome, the next proposal number, an agreed proposal that
//! exists with that SHA-256) and computes nothing.

use rust_decimal::Decimal;

use drgdip_settle::AuditEvent;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::{decimal, insert_sql, int, opt_decimal, opt_text, text, Result, Store, StoreError};
use crate::{Tx, INSERT_CHUNK};

/// One hospital's line of a proposal's simulation (the columns of `drgdip simulate`'s
/// `hospitals.csv`; amounts to the fen).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimHospitalRow {
    /// The hospital.
    pub hospital_id: String,
    /// Its cases.
    pub cases: u64,
    /// Payment under the baseline.
    pub payment_baseline: Decimal,
    /// Payment under the proposal (after the bounds).
    pub payment_proposal: Decimal,
    /// Fund due under the baseline.
    pub fund_due_baseline: Decimal,
    /// Fund due under the proposal (after the bounds).
    pub fund_due_proposal: Decimal,
    /// Proposal − baseline.
    pub difference: Decimal,
    /// difference / baseline (4 decimals), when the baseline pays anything.
    pub relative_change: Option<Decimal>,
    /// CMI under the baseline (4 decimals).
    pub cmi_baseline: Option<Decimal>,
    /// CMI under the proposal (4 decimals).
    pub cmi_proposal: Option<Decimal>,
    /// `floor` or `ceiling` when held at a bound.
    pub bound: Option<String>,
    /// The bound's adjustment.
    pub adjustment: Decimal,
}

/// One group key's line of a proposal's simulation (`groups.csv`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimGroupRow {
    /// The DRG under the baseline's scheme.
    pub drg_baseline: String,
    /// The DRG under the proposal's scheme.
    pub drg_proposal: String,
    /// Its cases.
    pub cases: u64,
    /// Payment under the baseline.
    pub payment_baseline: Decimal,
    /// Payment under the proposal (before the hospitals' bounds).
    pub payment_proposal: Decimal,
    /// Fund due under the baseline.
    pub fund_due_baseline: Decimal,
    /// Fund due under the proposal.
    pub fund_due_proposal: Decimal,
    /// Proposal − baseline.
    pub difference: Decimal,
}

/// A stored round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRound {
    /// Its number.
    pub id: u64,
    /// The region.
    pub region: String,
    /// The year negotiated.
    pub year: i32,
    /// When it was opened.
    pub opened_at: String,
    /// Who opened it.
    pub actor: String,
    /// The baseline parameter file's full text.
    pub baseline_text: String,
    /// Its SHA-256.
    pub baseline_sha256: String,
    /// The baseline weights file's full text.
    pub weights_text: String,
    /// Its SHA-256.
    pub weights_sha256: String,
    /// The header (JSON).
    pub body: String,
}

/// A stored party.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredParty {
    /// Its place in the list (1, 2, …).
    pub seq: u32,
    /// Its id in the round.
    pub party_id: String,
    /// When it was listed.
    pub added_at: String,
    /// Who listed it.
    pub actor: String,
    /// The party (JSON).
    pub body: String,
}

/// A stored proposal (its simulation's lines apart: [`Store::negotiation_simulation`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredProposal {
    /// Its number in the round.
    pub number: u32,
    /// The party that made it.
    pub party_id: String,
    /// When it was recorded.
    pub submitted_at: String,
    /// Who recorded it.
    pub actor: String,
    /// The parameter file's full text.
    pub params_text: String,
    /// Its SHA-256.
    pub params_sha256: String,
    /// Its own weights file's text, if any.
    pub weights_text: Option<String>,
    /// Its SHA-256.
    pub weights_sha256: Option<String>,
    /// The head, options and simulation summary (JSON).
    pub body: String,
}

/// A stored outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredOutcome {
    /// `agreed` or `closed`.
    pub kind: String,
    /// The agreed proposal.
    pub proposal: Option<u32>,
    /// Its SHA-256.
    pub params_sha256: Option<String>,
    /// When it was recorded.
    pub decided_at: String,
    /// Who recorded it.
    pub actor: String,
    /// The outcome (JSON).
    pub body: String,
}

/// An entry of the minutes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredMinute {
    /// Its place (1, 2, …).
    pub seq: u32,
    /// When it was appended.
    pub at: String,
    /// Who appended it.
    pub actor: String,
    /// The text.
    pub text: String,
}

/// A round with everything recorded on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegotiationRecord {
    /// The round.
    pub round: StoredRound,
    /// Its parties, in the order listed.
    pub parties: Vec<StoredParty>,
    /// Its proposals, by number.
    pub proposals: Vec<StoredProposal>,
    /// Its outcome.
    pub outcome: Option<StoredOutcome>,
    /// Its minutes, in order.
    pub minutes: Vec<StoredMinute>,
}

fn u32_of(row: &AnyRow, column: &str) -> Result<u32> {
    let v = int(row, column)?;
    u32::try_from(v)
        .map_err(|_| StoreError::Invalid(format!("stored {column} {v} is out of range")))
}

fn actor_of(audit: &[AuditEvent]) -> String {
    audit
        .first()
        .map_or("system", |e| e.actor.as_str())
        .to_string()
}

impl Store {
    /// A new round number: never reused.
    pub async fn next_negotiation_id(&self) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let n = Self::bump(&mut tx, "negotiation", 1).await?;
        tx.commit().await?;
        u64::try_from(n).map_err(|_| StoreError::Invalid(format!("round number {n}")))
    }

    /// Stores round `id` (a number from [`Store::next_negotiation_id`]) with its audit events.
    #[allow(clippy::too_many_arguments)]
    pub async fn open_negotiation(
        &self,
        id: u64,
        region: &str,
        year: i32,
        baseline: (&str, &str),
        weights: (&str, &str),
        body: &str,
        audit: &[AuditEvent],
    ) -> Result<(), StoreError> {
        let at = self.now();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO negotiation_rounds (id, region, year, opened_at, actor, baseline_text, \
             baseline_sha256, weights_text, weights_sha256, body) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(id as i64)
        .bind(region)
        .bind(i64::from(year))
        .bind(at.as_str())
        .bind(actor_of(audit))
        .bind(baseline.0)
        .bind(baseline.1)
        .bind(weights.0)
        .bind(weights.1)
        .bind(body)
        .execute(&mut *tx)
        .await?;
        Self::append_in(self.backend, &mut tx, &at, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn round_open_in(tx: &mut Tx, round: u64, what: &str) -> Result<()> {
        let exists = sqlx::query("SELECT id FROM negotiation_rounds WHERE id = $1")
            .bind(round as i64)
            .fetch_optional(&mut **tx)
            .await?;
        if exists.is_none() {
            return Err(StoreError::Invalid(format!("no negotiation round {round}")));
        }
        let outcome = sqlx::query("SELECT kind FROM negotiation_outcomes WHERE round_id = $1")
            .bind(round as i64)
            .fetch_optional(&mut **tx)
            .await?;
        if let Some(row) = outcome {
            return Err(StoreError::Invalid(format!(
                "negotiation round {round} is {}: no {what} after the outcome",
                text(&row, "kind")?
            )));
        }
        Ok(())
    }

    /// Lists a party of `round` (before the outcome; a party id once) with its audit events.
    pub async fn add_negotiation_party(
        &self,
        round: u64,
        party_id: &str,
        body: &str,
        audit: &[AuditEvent],
    ) -> Result<u32, StoreError> {
        let at = self.now();
        let mut tx = self.begin_write().await?;
        Self::round_open_in(&mut tx, round, "new party").await?;
        let dup = sqlx::query(
            "SELECT seq FROM negotiation_parties WHERE round_id = $1 AND party_id = $2",
        )
        .bind(round as i64)
        .bind(party_id)
        .fetch_optional(&mut *tx)
        .await?;
        if dup.is_some() {
            return Err(StoreError::Invalid(format!(
                "party {party_id:?} is listed in round {round} already"
            )));
        }
        let last = sqlx::query(
            "SELECT COALESCE(MAX(seq), 0) AS last FROM negotiation_parties WHERE round_id = $1",
        )
        .bind(round as i64)
        .fetch_one(&mut *tx)
        .await?;
        let seq = int(&last, "last")? + 1;
        sqlx::query(
            "INSERT INTO negotiation_parties (round_id, seq, party_id, added_at, actor, body) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(round as i64)
        .bind(seq)
        .bind(party_id)
        .bind(at.as_str())
        .bind(actor_of(audit))
        .bind(body)
        .execute(&mut *tx)
        .await?;
        Self::append_in(self.backend, &mut tx, &at, audit).await?;
        tx.commit().await?;
        u32::try_from(seq).map_err(|_| StoreError::Invalid(format!("party number {seq}")))
    }

    /// Stores proposal `proposal.number` of `round` (the next number, before the outcome)
    /// with its simulation's lines and its audit events, in one transaction.
    pub async fn add_negotiation_proposal(
        &self,
        round: u64,
        proposal: &StoredProposal,
        hospitals: &[SimHospitalRow],
        groups: &[SimGroupRow],
        audit: &[AuditEvent],
    ) -> Result<(), StoreError> {
        let at = self.now();
        let mut tx = self.begin_write().await?;
        Self::round_open_in(&mut tx, round, "proposal").await?;
        let last = sqlx::query(
            "SELECT COALESCE(MAX(number), 0) AS last FROM negotiation_proposals WHERE round_id = $1",
        )
        .bind(round as i64)
        .fetch_one(&mut *tx)
        .await?;
        let next = int(&last, "last")? + 1;
        if i64::from(proposal.number) != next {
            return Err(StoreError::Invalid(format!(
                "round {round}: the next proposal is {next}, not {} (another was recorded meanwhile)",
                proposal.number
            )));
        }
        sqlx::query(
            "INSERT INTO negotiation_proposals (round_id, number, party_id, submitted_at, actor, \
             params_text, params_sha256, weights_text, weights_sha256, body) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(round as i64)
        .bind(i64::from(proposal.number))
        .bind(proposal.party_id.as_str())
        .bind(at.as_str())
        .bind(actor_of(audit))
        .bind(proposal.params_text.as_str())
        .bind(proposal.params_sha256.as_str())
        .bind(proposal.weights_text.clone())
        .bind(proposal.weights_sha256.clone())
        .bind(proposal.body.as_str())
        .execute(&mut *tx)
        .await?;
        let opt = |d: Option<Decimal>| d.map(|d| d.to_string()).unwrap_or_default();
        const HOSPITAL_COLUMNS: [&str; 14] = [
            "round_id",
            "proposal",
            "hospital_id",
            "cases",
            "payment_baseline",
            "payment_proposal",
            "fund_due_baseline",
            "fund_due_proposal",
            "difference",
            "relative_change",
            "cmi_baseline",
            "cmi_proposal",
            "bound",
            "adjustment",
        ];
        for chunk in hospitals.chunks(INSERT_CHUNK / 2) {
            let sql = insert_sql(
                self.backend,
                "negotiation_sim_hospitals",
                &HOSPITAL_COLUMNS,
                chunk.len(),
            );
            let mut q = sqlx::query(&sql);
            for h in chunk {
                q = q
                    .bind(round as i64)
                    .bind(i64::from(proposal.number))
                    .bind(h.hospital_id.clone())
                    .bind(h.cases as i64)
                    .bind(h.payment_baseline.to_string())
                    .bind(h.payment_proposal.to_string())
                    .bind(h.fund_due_baseline.to_string())
                    .bind(h.fund_due_proposal.to_string())
                    .bind(h.difference.to_string())
                    .bind(opt(h.relative_change))
                    .bind(opt(h.cmi_baseline))
                    .bind(opt(h.cmi_proposal))
                    .bind(h.bound.clone().unwrap_or_default())
                    .bind(h.adjustment.to_string());
            }
            q.execute(&mut *tx).await?;
        }
        const GROUP_COLUMNS: [&str; 10] = [
            "round_id",
            "proposal",
            "drg_baseline",
            "drg_proposal",
            "cases",
            "payment_baseline",
            "payment_proposal",
            "fund_due_baseline",
            "fund_due_proposal",
            "difference",
        ];
        for chunk in groups.chunks(INSERT_CHUNK) {
            let sql = insert_sql(
                self.backend,
                "negotiation_sim_groups",
                &GROUP_COLUMNS,
                chunk.len(),
            );
            let mut q = sqlx::query(&sql);
            for g in chunk {
                q = q
                    .bind(round as i64)
                    .bind(i64::from(proposal.number))
                    .bind(g.drg_baseline.clone())
                    .bind(g.drg_proposal.clone())
                    .bind(g.cases as i64)
                    .bind(g.payment_baseline.to_string())
                    .bind(g.payment_proposal.to_string())
                    .bind(g.fund_due_baseline.to_string())
                    .bind(g.fund_due_proposal.to_string())
                    .bind(g.difference.to_string());
            }
            q.execute(&mut *tx).await?;
        }
        Self::append_in(self.backend, &mut tx, &at, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Stores the outcome of `round` (one per round, before which there is none): `agreed`
    /// names a proposal of the round with its SHA-256; `closed` none.
    pub async fn record_negotiation_outcome(
        &self,
        round: u64,
        agreed: Option<(u32, &str)>,
        body: &str,
        audit: &[AuditEvent],
    ) -> Result<(), StoreError> {
        let at = self.now();
        let mut tx = self.begin_write().await?;
        Self::round_open_in(&mut tx, round, "second outcome").await?;
        if let Some((number, sha)) = agreed {
            let row = sqlx::query(
                "SELECT params_sha256 FROM negotiation_proposals WHERE round_id = $1 AND number = $2",
            )
            .bind(round as i64)
            .bind(i64::from(number))
            .fetch_optional(&mut *tx)
            .await?;
            match row {
                Some(r) if text(&r, "params_sha256")? == sha => {}
                _ => {
                    return Err(StoreError::Invalid(format!(
                        "round {round} has no proposal {number} with the SHA-256 {sha}"
                    )))
                }
            }
        }
        sqlx::query(
            "INSERT INTO negotiation_outcomes (round_id, kind, proposal, params_sha256, \
             decided_at, actor, body) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(round as i64)
        .bind(if agreed.is_some() { "agreed" } else { "closed" })
        .bind(agreed.map(|(n, _)| i64::from(n)))
        .bind(agreed.map(|(_, s)| s.to_string()))
        .bind(at.as_str())
        .bind(actor_of(audit))
        .bind(body)
        .execute(&mut *tx)
        .await?;
        Self::append_in(self.backend, &mut tx, &at, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Appends `text` to the minutes of `round`, with its audit events; its place.
    pub async fn append_negotiation_minutes(
        &self,
        round: u64,
        text_: &str,
        audit: &[AuditEvent],
    ) -> Result<u32, StoreError> {
        let at = self.now();
        let mut tx = self.begin_write().await?;
        let last = sqlx::query(
            "SELECT COALESCE(MAX(seq), 0) AS last FROM negotiation_minutes WHERE round_id = $1",
        )
        .bind(round as i64)
        .fetch_one(&mut *tx)
        .await?;
        let seq = int(&last, "last")? + 1;
        sqlx::query(
            "INSERT INTO negotiation_minutes (round_id, seq, at, actor, text) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(round as i64)
        .bind(seq)
        .bind(at.as_str())
        .bind(actor_of(audit))
        .bind(text_)
        .execute(&mut *tx)
        .await?;
        Self::append_in(self.backend, &mut tx, &at, audit).await?;
        tx.commit().await?;
        u32::try_from(seq).map_err(|_| StoreError::Invalid(format!("minutes entry {seq}")))
    }

    /// The numbers of the stored rounds, in order.
    pub async fn negotiation_ids(&self) -> Result<Vec<u64>, StoreError> {
        let rows = sqlx::query("SELECT id FROM negotiation_rounds ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok(int(r, "id")? as u64)).collect()
    }

    /// Round `id` with its parties, proposals, outcome and minutes, if there is one.
    pub async fn negotiation(&self, id: u64) -> Result<Option<NegotiationRecord>, StoreError> {
        let Some(r) = sqlx::query(
            "SELECT id, region, year, opened_at, actor, baseline_text, baseline_sha256, \
             weights_text, weights_sha256, body FROM negotiation_rounds WHERE id = $1",
        )
        .bind(id as i64)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let round = StoredRound {
            id,
            region: text(&r, "region")?,
            year: i32::try_from(int(&r, "year")?)
                .map_err(|_| StoreError::Invalid("stored year out of range".into()))?,
            opened_at: text(&r, "opened_at")?,
            actor: text(&r, "actor")?,
            baseline_text: text(&r, "baseline_text")?,
            baseline_sha256: text(&r, "baseline_sha256")?,
            weights_text: text(&r, "weights_text")?,
            weights_sha256: text(&r, "weights_sha256")?,
            body: text(&r, "body")?,
        };
        let parties = sqlx::query(
            "SELECT seq, party_id, added_at, actor, body FROM negotiation_parties \
             WHERE round_id = $1 ORDER BY seq",
        )
        .bind(id as i64)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(StoredParty {
                seq: u32_of(r, "seq")?,
                party_id: text(r, "party_id")?,
                added_at: text(r, "added_at")?,
                actor: text(r, "actor")?,
                body: text(r, "body")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        let proposals = sqlx::query(
            "SELECT number, party_id, submitted_at, actor, params_text, params_sha256, \
             weights_text, weights_sha256, body FROM negotiation_proposals \
             WHERE round_id = $1 ORDER BY number",
        )
        .bind(id as i64)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(StoredProposal {
                number: u32_of(r, "number")?,
                party_id: text(r, "party_id")?,
                submitted_at: text(r, "submitted_at")?,
                actor: text(r, "actor")?,
                params_text: text(r, "params_text")?,
                params_sha256: text(r, "params_sha256")?,
                weights_text: opt_text(r, "weights_text")?,
                weights_sha256: opt_text(r, "weights_sha256")?,
                body: text(r, "body")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        let outcome = sqlx::query(
            "SELECT kind, proposal, params_sha256, decided_at, actor, body \
             FROM negotiation_outcomes WHERE round_id = $1",
        )
        .bind(id as i64)
        .fetch_optional(&self.pool)
        .await?
        .map(|r| {
            let proposal = r
                .try_get::<Option<i64>, _>("proposal")
                .map_err(|e| StoreError::corrupt("column proposal", e))?
                .map(|n| {
                    u32::try_from(n)
                        .map_err(|_| StoreError::Invalid(format!("stored proposal {n}")))
                })
                .transpose()?;
            Ok::<_, StoreError>(StoredOutcome {
                kind: text(&r, "kind")?,
                proposal,
                params_sha256: opt_text(&r, "params_sha256")?,
                decided_at: text(&r, "decided_at")?,
                actor: text(&r, "actor")?,
                body: text(&r, "body")?,
            })
        })
        .transpose()?;
        let minutes = sqlx::query(
            "SELECT seq, at, actor, text FROM negotiation_minutes WHERE round_id = $1 ORDER BY seq",
        )
        .bind(id as i64)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(StoredMinute {
                seq: u32_of(r, "seq")?,
                at: text(r, "at")?,
                actor: text(r, "actor")?,
                text: text(r, "text")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        Ok(Some(NegotiationRecord {
            round,
            parties,
            proposals,
            outcome,
            minutes,
        }))
    }

    /// The stored lines of proposal `number`'s simulation: hospitals by id, group keys in
    /// order.
    pub async fn negotiation_simulation(
        &self,
        round: u64,
        number: u32,
    ) -> Result<(Vec<SimHospitalRow>, Vec<SimGroupRow>), StoreError> {
        let hospitals = sqlx::query(
            "SELECT hospital_id, cases, payment_baseline, payment_proposal, fund_due_baseline, \
             fund_due_proposal, difference, relative_change, cmi_baseline, cmi_proposal, bound, \
             adjustment FROM negotiation_sim_hospitals WHERE round_id = $1 AND proposal = $2 \
             ORDER BY hospital_id",
        )
        .bind(round as i64)
        .bind(i64::from(number))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            let empty_none = |c: &str| -> Result<Option<Decimal>> {
                match text(r, c)?.as_str() {
                    "" => Ok(None),
                    _ => opt_decimal(r, c),
                }
            };
            let bound = text(r, "bound")?;
            Ok(SimHospitalRow {
                hospital_id: text(r, "hospital_id")?,
                cases: int(r, "cases")? as u64,
                payment_baseline: decimal(r, "payment_baseline")?,
                payment_proposal: decimal(r, "payment_proposal")?,
                fund_due_baseline: decimal(r, "fund_due_baseline")?,
                fund_due_proposal: decimal(r, "fund_due_proposal")?,
                difference: decimal(r, "difference")?,
                relative_change: empty_none("relative_change")?,
                cmi_baseline: empty_none("cmi_baseline")?,
                cmi_proposal: empty_none("cmi_proposal")?,
                bound: (!bound.is_empty()).then_some(bound),
                adjustment: decimal(r, "adjustment")?,
            })
        })
        .collect::<Result<Vec<SimHospitalRow>>>()?;
        let mut hospitals = hospitals;
        // in Rust's order (a database's collation may differ), as the simulation sorts them
        hospitals.sort_by(|a, b| a.hospital_id.cmp(&b.hospital_id));
        let groups = sqlx::query(
            "SELECT drg_baseline, drg_proposal, cases, payment_baseline, payment_proposal, \
             fund_due_baseline, fund_due_proposal, difference FROM negotiation_sim_groups \
             WHERE round_id = $1 AND proposal = $2 ORDER BY drg_baseline, drg_proposal",
        )
        .bind(round as i64)
        .bind(i64::from(number))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| {
            Ok(SimGroupRow {
                drg_baseline: text(r, "drg_baseline")?,
                drg_proposal: text(r, "drg_proposal")?,
                cases: int(r, "cases")? as u64,
                payment_baseline: decimal(r, "payment_baseline")?,
                payment_proposal: decimal(r, "payment_proposal")?,
                fund_due_baseline: decimal(r, "fund_due_baseline")?,
                fund_due_proposal: decimal(r, "fund_due_proposal")?,
                difference: decimal(r, "difference")?,
            })
        })
        .collect::<Result<Vec<SimGroupRow>>>()?;
        let mut groups = groups;
        groups.sort_by(|a, b| {
            (&a.drg_baseline, &a.drg_proposal).cmp(&(&b.drg_baseline, &b.drg_proposal))
        });
        Ok((hospitals, groups))
    }
}
