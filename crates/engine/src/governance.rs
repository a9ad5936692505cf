//! Governance use cases (`payment-model.md` §11): the opinions channel (意见收集反馈) and the
//! data working group's roster (医保数据工作组), over the ledger. The rules are
//! `drgdip_governance`'s; here each change is loaded, checked for the actor, applied and saved
//! with its audit event.

use drgdip_governance::{
    check, Counts, Opinion, OpinionError, Roster, RosterCheck, Step, Submission,
};
use drgdip_pay::Hospitals;
use drgdip_settle::{Action, Actor, AuditEvent, Date};
use drgdip_store::Store;
use thiserror::Error;

use crate::error::EngineError;

/// Why a governance use case failed: the record is not there, the rules refuse, or the
/// ledger failed.
#[derive(Debug, Error)]
pub enum GovernanceError {
    /// No such opinion.
    #[error("no opinion {0}")]
    NotFound(String),
    /// The opinions' rules refuse (a role, a state, a field, another hospital's opinion).
    #[error(transparent)]
    Opinion(#[from] OpinionError),
    /// The roster does not meet the notices: nothing recorded.
    #[error("the roster of {year} is not recorded: {}", errors.join("; "))]
    Roster {
        /// The year.
        year: i32,
        /// What falls short.
        errors: Vec<String>,
    },
    /// The ledger failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl From<drgdip_store::StoreError> for GovernanceError {
    fn from(e: drgdip_store::StoreError) -> GovernanceError {
        GovernanceError::Engine(EngineError::Store(e))
    }
}

/// The results of these use cases.
pub type Result<T> = std::result::Result<T, GovernanceError>;

/// A hospital submits an opinion on `today`; recorded with its audit event.
pub async fn submit_opinion(
    store: &Store,
    actor: &Actor,
    today: Date,
    submission: Submission,
) -> Result<Opinion> {
    // the rules first, so that a refused submission uses no id
    Opinion::submit("OP-000000".into(), actor, today, submission.clone())?;
    let id = store.next_opinion_id().await?;
    let (opinion, event) = Opinion::submit(id, actor, today, submission)?;
    store.save_opinion(&opinion, &[event]).await?;
    Ok(opinion)
}

/// The bureau takes `step` on the opinion `id` on `today`; saved with its audit event.
pub async fn take_step(
    store: &Store,
    actor: &Actor,
    today: Date,
    id: &str,
    step: Step,
) -> Result<Opinion> {
    let mut opinion = opinion_for(store, actor, id).await?;
    let event = opinion.take(actor, today, step)?;
    store.save_opinion(&opinion, &[event]).await?;
    Ok(opinion)
}

/// The opinion `id` as `actor` may see it: the bureau any, a hospital its own (another
/// hospital's is [`OpinionError::NotYours`]), a reviewer none.
pub async fn opinion_for(store: &Store, actor: &Actor, id: &str) -> Result<Opinion> {
    let opinion = store
        .opinion(id)
        .await?
        .ok_or_else(|| GovernanceError::NotFound(id.to_string()))?;
    if !opinion.visible_to(actor) {
        return Err(not_yours(actor, id));
    }
    Ok(opinion)
}

fn not_yours(actor: &Actor, id: &str) -> GovernanceError {
    match actor.hospital_id() {
        Some(h) => GovernanceError::Opinion(OpinionError::NotYours {
            id: id.to_string(),
            hospital_id: h.to_string(),
        }),
        None => GovernanceError::Opinion(OpinionError::Role {
            actor: actor.id.clone(),
            role: actor.role.kind().to_string(),
            what: format!("see opinion {id}"),
            why: "the bureau and the submitting hospital see an opinion".into(),
        }),
    }
}

/// The opinions `actor` may see, optionally of one hospital (a hospital: only its own) and
/// submitted in `[from, to]`.
pub async fn opinions_for(
    store: &Store,
    actor: &Actor,
    hospital: Option<&str>,
    dates: Option<(Date, Date)>,
) -> Result<Vec<Opinion>> {
    let hospital = match (actor.hospital_id(), hospital) {
        (Some(own), Some(asked)) if asked != own => {
            return Err(GovernanceError::Opinion(OpinionError::NotYours {
                id: format!("the opinions of {asked}"),
                hospital_id: own.to_string(),
            }))
        }
        (Some(own), _) => Some(own),
        (None, _) if !actor.role.is_bureau() => return Err(not_yours(actor, "the opinions")),
        (None, asked) => asked,
    };
    Ok(store.opinions(hospital, dates).await?)
}

/// The counts of the opinions submitted in `[from, to]` (the quarterly and yearly reports).
pub async fn opinion_counts(store: &Store, from: Date, to: Date) -> Result<Counts> {
    let all = store.opinions(None, Some((from, to))).await?;
    Ok(drgdip_governance::opinion::counts(&all, from, to))
}

/// Checks `roster` against the hospitals and the previous year's roster in the ledger.
pub async fn check_roster(
    store: &Store,
    roster: &Roster,
    hospitals: &Hospitals,
) -> Result<RosterCheck> {
    let previous = store.roster(roster.year - 1).await?;
    Ok(check(roster, hospitals, previous.as_ref()))
}

/// Records the roster of its year when it meets the notices (a roster with errors is
/// refused, nothing recorded), with its audit event; returns the checks (warnings included).
pub async fn record_roster(
    store: &Store,
    actor: &Actor,
    roster: &Roster,
    hospitals: &Hospitals,
) -> Result<RosterCheck> {
    let checked = check_roster(store, roster, hospitals).await?;
    if !checked.passed() {
        return Err(GovernanceError::Roster {
            year: roster.year,
            errors: checked.errors,
        });
    }
    let event = AuditEvent::new(
        actor,
        Action::RosterRecorded,
        format!("working group {}", roster.year),
        format!(
            "{} members; {} warning(s)",
            roster.members.len(),
            checked.warnings.len()
        ),
    )
    .after(
        roster
            .members
            .iter()
            .map(|m| format!("{}@{}", m.member_id, m.hospital_id))
            .collect::<Vec<_>>()
            .join(" "),
    );
    store.save_roster(roster, &[event]).await?;
    Ok(checked)
}
