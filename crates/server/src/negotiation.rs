//! Negotiation rounds over HTTP (谈判协商, `payment-model.md` §9; `drgdip_engine::negotiation`).
//! The bureau reads every round and writes the steps that need no files: list a party, append
//! to the minutes, agree a proposal, close a round. Opening a round and submitting a proposal
//! read the case file and run the simulation on the bureau's machine: `drgdip negotiate open`
//! and `propose`. A hospital reads the rounds where a representative speaks for it, and in them
//! the simulation lines of the hospitals those representatives speak for, the region's totals
//! and the groups' lines; another round is refused (403, audited), a write by a hospital is
//! refused by the route's roles (403, audited).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::Json;
use drgdip_engine::negotiation::{
    add_party, agree, append_minutes, close, round_for, rounds_for, simulation_for, Mover,
    NegotiationFailure, RoundView, SimSummary,
};
use drgdip_governance::negotiation::{NegotiationError, Outcome, Party, PartyKind};
use drgdip_pay::money::{Fen, W4};
use drgdip_settle::Actor;
use drgdip_store::{SimGroupRow, SimHospitalRow};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::{refuse, Caller};
use crate::contract;
use crate::error::{ApiError, ErrorBody};
use crate::extract::JsonBody;
use crate::ledger::{chain, no_ledger};
use crate::AppState;

type App = State<Arc<AppState>>;

/// A round's number in a path.
pub const ROUND_PATTERN: &str = "^[1-9][0-9]{0,11}$";
/// A proposal's number in a path or a body.
pub const NUMBER_PATTERN: &str = "^[1-9][0-9]{0,8}$";
const ROUND_DIGITS: usize = 12;
const NUMBER_DIGITS: usize = 9;
/// A SHA-256 in hex.
pub const SHA256_PATTERN: &str = "^[0-9a-fA-F]{64}$";
/// The most parties named in an agreement, the most hospitals of a representative.
pub const LIST_MAX: usize = 200;

/// A number of at most `digits` digits, not starting with 0 ([`ROUND_PATTERN`],
/// [`NUMBER_PATTERN`]); else 400 naming `field`.
fn number<T: std::str::FromStr>(field: &str, text: &str, digits: usize) -> Result<T, ApiError> {
    let ok = text.chars().next().is_some_and(|c| c != '0')
        && text.chars().all(|c| c.is_ascii_digit())
        && text.len() <= digits;
    ok.then(|| text.parse::<T>().ok())
        .flatten()
        .ok_or_else(|| ApiError::bad_request(field, format!("{field} {text:?}: expected 1, 2, …")))
}

/// Ids named once each (`uniqueItems` in the document); else 400 naming `field`.
fn distinct(field: &str, ids: &[String]) -> Result<(), ApiError> {
    let mut seen = std::collections::BTreeSet::new();
    match ids.iter().find(|id| !seen.insert(id.as_str())) {
        Some(id) => Err(ApiError::bad_request(
            field,
            format!("{field}: {id:?} is named twice"),
        )),
        None => Ok(()),
    }
}

fn text_field(field: &str, value: &str, required: bool) -> Result<(), ApiError> {
    drgdip_governance::negotiation::check_text(field, value, required)
        .map_err(|e| ApiError::bad_request(field, e.to_string()))
}

/// A file a round is simulated on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct NegotiationFileJson {
    /// Where the bureau read it.
    pub path: String,
    /// Its SHA-256.
    pub sha256: String,
}

/// A party of a round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct NegotiationPartyJson {
    /// Its id in the round.
    pub party_id: String,
    /// bureau, hospital_representative, association or insured_representative.
    pub kind: String,
    /// Its name.
    pub name: String,
    /// The hospitals a representative speaks for.
    pub hospital_ids: Vec<String>,
    /// When it was listed.
    pub added_at: String,
}

/// A hospital that gains or loses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct NegotiationMoverJson {
    /// The hospital.
    pub hospital_id: String,
    /// Payment: proposal − baseline, CNY.
    pub difference: String,
    /// The relative change (4 decimals), when the baseline pays anything.
    pub relative_change: Option<String>,
}

impl From<&Mover> for NegotiationMoverJson {
    fn from(m: &Mover) -> NegotiationMoverJson {
        NegotiationMoverJson {
            hospital_id: m.hospital_id.clone(),
            difference: Fen(m.difference).to_string(),
            relative_change: m.relative.map(|r| W4(r).to_string()),
        }
    }
}

/// A proposal's simulation summary: the region's totals. Amounts in CNY as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct NegotiationSummaryJson {
    /// The baseline's scheme.
    pub scheme_baseline: String,
    /// The proposal's scheme.
    pub scheme_proposal: String,
    /// Cases priced on both sides.
    pub cases: u64,
    /// Invalid rows (priced on neither side).
    pub invalid: u64,
    /// Σ payment, baseline.
    pub payment_baseline: String,
    /// Σ payment, proposal (after the bounds).
    pub payment_proposal: String,
    /// Σ payment: proposal − baseline.
    pub difference: String,
    /// Σ fund due, baseline.
    pub fund_due_baseline: String,
    /// Σ fund due, proposal.
    pub fund_due_proposal: String,
    /// The DRG budget of the baseline.
    pub budget_baseline: String,
    /// The DRG budget of the proposal.
    pub budget_proposal: String,
    /// The budget balance under the baseline: budget − Σ fund due.
    pub balance_baseline: String,
    /// The budget balance under the proposal.
    pub balance_proposal: String,
    /// The budget-neutral factor of the proposal's weights, if asked for.
    pub neutral_factor: Option<String>,
    /// Hospitals held at a bound (among those the caller sees).
    pub bound: Vec<String>,
    /// The hospitals that gain most (among those the caller sees).
    pub gainers: Vec<NegotiationMoverJson>,
    /// The hospitals that lose most (among those the caller sees).
    pub losers: Vec<NegotiationMoverJson>,
}

fn summary_json(s: &SimSummary, visible: Option<&[String]>) -> NegotiationSummaryJson {
    let seen = |h: &String| visible.is_none_or(|v| v.contains(h));
    NegotiationSummaryJson {
        scheme_baseline: s.scheme_baseline.clone(),
        scheme_proposal: s.scheme_proposal.clone(),
        cases: s.cases,
        invalid: s.invalid,
        payment_baseline: Fen(s.payment_baseline).to_string(),
        payment_proposal: Fen(s.payment_proposal).to_string(),
        difference: Fen(s.difference()).to_string(),
        fund_due_baseline: Fen(s.fund_due_baseline).to_string(),
        fund_due_proposal: Fen(s.fund_due_proposal).to_string(),
        budget_baseline: Fen(s.budget_baseline).to_string(),
        budget_proposal: Fen(s.budget_proposal).to_string(),
        balance_baseline: Fen(s.balance_baseline()).to_string(),
        balance_proposal: Fen(s.balance_proposal()).to_string(),
        neutral_factor: s.neutral_factor.map(|f| f.to_string()),
        bound: s.bound.iter().filter(|h| seen(h)).cloned().collect(),
        gainers: s.gainers.iter().map(NegotiationMoverJson::from).collect(),
        losers: s.losers.iter().map(NegotiationMoverJson::from).collect(),
    }
}

/// A proposal of a round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct NegotiationProposalJson {
    /// Its number.
    pub number: u32,
    /// The party that made it.
    pub party_id: String,
    /// The proposal it answers, for a counter-proposal.
    pub counter_to: Option<u32>,
    /// The parameter file's SHA-256.
    pub params_sha256: String,
    /// Its own weights' SHA-256, if any.
    pub weights_sha256: Option<String>,
    /// Why.
    pub note: String,
    /// Simulated with the weights rescaled budget-neutral.
    pub budget_neutral: bool,
    /// The floor on a hospital's relative change, if any.
    pub floor: Option<String>,
    /// The ceiling, if any.
    pub ceiling: Option<String>,
    /// When it was recorded.
    pub submitted_at: String,
    /// Who recorded it.
    pub submitted_by: String,
    /// Its simulation's totals.
    pub summary: NegotiationSummaryJson,
}

/// An entry of the minutes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct NegotiationMinuteJson {
    /// Its place.
    pub seq: u32,
    /// When.
    pub at: String,
    /// Who.
    pub by: String,
    /// The text.
    pub text: String,
}

/// A round's outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct NegotiationOutcomeJson {
    /// agreed or closed.
    pub kind: String,
    /// The agreed proposal.
    pub proposal: Option<u32>,
    /// Its parameter file's SHA-256: the agreed parameter version.
    pub params_sha256: Option<String>,
    /// The parties that agreed.
    pub parties: Vec<String>,
    /// The note, or why it closed.
    pub text: String,
    /// When it was recorded.
    pub decided_at: String,
    /// Who recorded it.
    pub decided_by: String,
}

/// A round as the caller may see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct NegotiationRoundJson {
    /// Its number.
    pub id: u64,
    /// The region.
    pub region: String,
    /// The year negotiated.
    pub year: i32,
    /// What it is about.
    pub title: String,
    /// The elements under negotiation.
    pub elements: Vec<String>,
    /// open, proposals, agreed or closed.
    pub state: String,
    /// When it was opened.
    pub opened_at: String,
    /// Who opened it.
    pub opened_by: String,
    /// The year of cases.
    pub cases: NegotiationFileJson,
    /// The parameters in force.
    pub baseline: NegotiationFileJson,
    /// The hospitals file.
    pub hospitals: NegotiationFileJson,
    /// The baseline weights.
    pub weights: NegotiationFileJson,
    /// The parties.
    pub parties: Vec<NegotiationPartyJson>,
    /// The proposals.
    pub proposals: Vec<NegotiationProposalJson>,
    /// The outcome.
    pub outcome: Option<NegotiationOutcomeJson>,
    /// The minutes.
    pub minutes: Vec<NegotiationMinuteJson>,
    /// The hospitals whose lines the caller sees (absent: every one).
    pub visible_hospitals: Option<Vec<String>>,
}

impl From<&RoundView> for NegotiationRoundJson {
    fn from(v: &RoundView) -> NegotiationRoundJson {
        let h = &v.header;
        let file = |f: &drgdip_governance::negotiation::FileRef| NegotiationFileJson {
            path: f.path.clone(),
            sha256: f.sha256.clone(),
        };
        let visible = v.visible_hospitals.as_deref();
        NegotiationRoundJson {
            id: h.id,
            region: h.region.clone(),
            year: h.year,
            title: h.title.clone(),
            elements: h.elements.iter().map(|e| e.as_str().to_string()).collect(),
            state: v.state.as_str().to_string(),
            opened_at: v.opened_at.clone(),
            opened_by: v.opened_by.clone(),
            cases: file(&h.cases),
            baseline: file(&h.baseline),
            hospitals: file(&h.hospitals),
            weights: file(&h.weights),
            parties: v
                .parties
                .iter()
                .map(|p| NegotiationPartyJson {
                    party_id: p.party.party_id.clone(),
                    kind: p.party.kind.as_str().to_string(),
                    name: p.party.name.clone(),
                    hospital_ids: p.party.hospital_ids.clone(),
                    added_at: p.added_at.clone(),
                })
                .collect(),
            proposals: v
                .proposals
                .iter()
                .map(|p| NegotiationProposalJson {
                    number: p.head.number,
                    party_id: p.head.party_id.clone(),
                    counter_to: p.head.counter_to,
                    params_sha256: p.head.params_sha256.clone(),
                    weights_sha256: p.head.weights_sha256.clone(),
                    note: p.head.note.clone(),
                    budget_neutral: p.head.options.budget_neutral,
                    floor: p.head.options.floor.clone(),
                    ceiling: p.head.options.ceiling.clone(),
                    submitted_at: p.submitted_at.clone(),
                    submitted_by: p.submitted_by.clone(),
                    summary: summary_json(&p.summary, visible),
                })
                .collect(),
            outcome: v.outcome.as_ref().map(|o| {
                let (kind, proposal, sha, parties, text) = match o {
                    Outcome::Agreed {
                        proposal,
                        params_sha256,
                        parties,
                        note,
                    } => (
                        "agreed",
                        Some(*proposal),
                        Some(params_sha256.clone()),
                        parties.clone(),
                        note.clone(),
                    ),
                    Outcome::Closed { reason } => {
                        ("closed", None, None, Vec::new(), reason.clone())
                    }
                };
                NegotiationOutcomeJson {
                    kind: kind.into(),
                    proposal,
                    params_sha256: sha,
                    parties,
                    text,
                    decided_at: v.decided_at.clone().unwrap_or_default(),
                    decided_by: v.decided_by.clone().unwrap_or_default(),
                }
            }),
            minutes: v
                .minutes
                .iter()
                .map(|m| NegotiationMinuteJson {
                    seq: m.seq,
                    at: m.at.clone(),
                    by: m.by.clone(),
                    text: m.text.clone(),
                })
                .collect(),
            visible_hospitals: v.visible_hospitals.clone(),
        }
    }
}

/// The rounds the caller may see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct NegotiationRoundList {
    /// By number.
    pub rounds: Vec<NegotiationRoundJson>,
}

/// One hospital's line of a simulation (the columns of `hospitals.csv`). Amounts in CNY as
/// text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct NegotiationSimHospitalJson {
    /// The hospital.
    pub hospital_id: String,
    /// Its cases.
    pub cases: u64,
    /// Payment, baseline.
    pub payment_baseline: String,
    /// Payment, proposal (after the bounds).
    pub payment_proposal: String,
    /// Fund due, baseline.
    pub fund_due_baseline: String,
    /// Fund due, proposal.
    pub fund_due_proposal: String,
    /// Payment: proposal − baseline.
    pub difference: String,
    /// difference / baseline (4 decimals).
    pub relative_change: Option<String>,
    /// CMI, baseline.
    pub cmi_baseline: Option<String>,
    /// CMI, proposal.
    pub cmi_proposal: Option<String>,
    /// floor or ceiling, when held at a bound.
    pub bound: Option<String>,
    /// The bound's adjustment.
    pub adjustment: String,
}

impl From<&SimHospitalRow> for NegotiationSimHospitalJson {
    fn from(h: &SimHospitalRow) -> NegotiationSimHospitalJson {
        let w4 = |d: Option<rust_decimal::Decimal>| d.map(|d| W4(d).to_string());
        NegotiationSimHospitalJson {
            hospital_id: h.hospital_id.clone(),
            cases: h.cases,
            payment_baseline: Fen(h.payment_baseline).to_string(),
            payment_proposal: Fen(h.payment_proposal).to_string(),
            fund_due_baseline: Fen(h.fund_due_baseline).to_string(),
            fund_due_proposal: Fen(h.fund_due_proposal).to_string(),
            difference: Fen(h.difference).to_string(),
            relative_change: w4(h.relative_change),
            cmi_baseline: w4(h.cmi_baseline),
            cmi_proposal: w4(h.cmi_proposal),
            bound: h.bound.clone(),
            adjustment: Fen(h.adjustment).to_string(),
        }
    }
}

/// One group key's line (`groups.csv`): region-wide.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct NegotiationSimGroupJson {
    /// The DRG under the baseline's scheme.
    pub drg_baseline: String,
    /// The DRG under the proposal's.
    pub drg_proposal: String,
    /// Its cases.
    pub cases: u64,
    /// Payment, baseline.
    pub payment_baseline: String,
    /// Payment, proposal (before the hospitals' bounds).
    pub payment_proposal: String,
    /// Fund due, baseline.
    pub fund_due_baseline: String,
    /// Fund due, proposal.
    pub fund_due_proposal: String,
    /// Payment: proposal − baseline.
    pub difference: String,
}

impl From<&SimGroupRow> for NegotiationSimGroupJson {
    fn from(g: &SimGroupRow) -> NegotiationSimGroupJson {
        NegotiationSimGroupJson {
            drg_baseline: g.drg_baseline.clone(),
            drg_proposal: g.drg_proposal.clone(),
            cases: g.cases,
            payment_baseline: Fen(g.payment_baseline).to_string(),
            payment_proposal: Fen(g.payment_proposal).to_string(),
            fund_due_baseline: Fen(g.fund_due_baseline).to_string(),
            fund_due_proposal: Fen(g.fund_due_proposal).to_string(),
            difference: Fen(g.difference).to_string(),
        }
    }
}

/// A proposal's stored simulation as the caller may see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct NegotiationSimulationJson {
    /// The round.
    pub round: u64,
    /// The proposal.
    pub proposal: u32,
    /// The region's totals.
    pub summary: NegotiationSummaryJson,
    /// The hospitals' lines the caller sees.
    pub hospitals: Vec<NegotiationSimHospitalJson>,
    /// The groups' lines (region-wide sums).
    pub groups: Vec<NegotiationSimGroupJson>,
    /// The hospitals the caller sees (absent: every one).
    pub visible_hospitals: Option<Vec<String>>,
}

/// A party to list.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NegotiationPartyBody {
    /// Its id in the round.
    pub party_id: String,
    /// bureau, hospital_representative, association or insured_representative.
    pub kind: String,
    /// Its name.
    pub name: String,
    /// A hospital representative: the hospitals it speaks for (at least one); the others none.
    #[serde(default)]
    pub hospital_ids: Vec<String>,
}

/// An entry of the minutes.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NegotiationMinutesBody {
    /// The text appended.
    pub text: String,
}

/// An agreement.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NegotiationAgreeBody {
    /// The agreed proposal's number.
    pub proposal: String,
    /// Its parameter file's SHA-256 (a check).
    pub sha256: String,
    /// The listed parties that agree (the bureau's among them).
    pub parties: Vec<String>,
    /// A note.
    #[serde(default)]
    pub note: String,
}

/// A closing without agreement.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NegotiationCloseBody {
    /// Why.
    pub reason: String,
}

/// What the API answers to a failure: 404 no such round or proposal, 403 (audited) a role or
/// another hospital's round, 409 a state or a rule of the round, 400 a field.
async fn refused(
    app: &AppState,
    actor: &Actor,
    what: &str,
    subject: &str,
    e: NegotiationFailure,
) -> ApiError {
    match e {
        NegotiationFailure::NotFound(m) => ApiError::not_found(m),
        NegotiationFailure::Rules(
            e @ (NegotiationError::Role { .. } | NegotiationError::NotYours { .. }),
        ) => refuse(app, actor, what, subject, e.to_string()).await,
        NegotiationFailure::Rules(e @ NegotiationError::State { .. }) => {
            ApiError::conflict(e.to_string())
        }
        NegotiationFailure::Rules(NegotiationError::Field { field, message }) => {
            ApiError::conflict(format!("{field}: {message}")).with_field(field)
        }
        NegotiationFailure::Engine(drgdip_engine::EngineError::Store(
            drgdip_store::StoreError::Invalid(m),
        )) => ApiError::conflict(m),
        NegotiationFailure::Engine(e) => ApiError::internal(what, chain(&e)),
    }
}

/// The rounds: the bureau's all, a hospital's those where a representative speaks for it.
#[utoipa::path(get, path = "/v1/negotiations", tag = "negotiations", security(("bearer" = [])),
    responses((status = 200, body = NegotiationRoundList), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "a reviewer (audited)"),
        (status = 503, body = ErrorBody, description = "the server's store is not a ledger")))]
pub async fn list(
    State(app): App,
    Caller(actor): Caller,
) -> Result<Json<NegotiationRoundList>, ApiError> {
    let store = app.backend.ledger().ok_or_else(no_ledger)?;
    match rounds_for(&store, &actor).await {
        Ok(all) => Ok(Json(NegotiationRoundList {
            rounds: all.iter().map(NegotiationRoundJson::from).collect(),
        })),
        Err(e) => Err(refused(&app, &actor, "list negotiation rounds", "negotiations", e).await),
    }
}

/// One round: parties, proposals with their totals, outcome, minutes (a hospital: a round
/// where a representative speaks for it; another is refused, audited).
#[utoipa::path(get, path = "/v1/negotiations/{id}", tag = "negotiations", security(("bearer" = [])),
    params(("id" = String, Path, description = "the round's number")),
    responses((status = 200, body = NegotiationRoundJson), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "a round no representative of the caller's hospital is party to (audited)"),
        (status = 404, body = ErrorBody, description = "no such round"),
        (status = 503, body = ErrorBody)))]
pub async fn get_one(
    State(app): App,
    Caller(actor): Caller,
    Path(id): Path<String>,
) -> Result<Json<NegotiationRoundJson>, ApiError> {
    let round: u64 = number("id", &id, ROUND_DIGITS)?;
    let store = app.backend.ledger().ok_or_else(no_ledger)?;
    match round_for(&store, &actor, round).await {
        Ok(v) => Ok(Json(NegotiationRoundJson::from(&v))),
        Err(e) => Err(refused(
            &app,
            &actor,
            "view negotiation round",
            &format!("negotiation {round}"),
            e,
        )
        .await),
    }
}

/// A proposal's stored simulation: the region's totals, the groups' lines, and the hospitals'
/// lines the caller sees (a hospital: those its round's representatives speak for).
#[utoipa::path(get, path = "/v1/negotiations/{id}/proposals/{number}/simulation", tag = "negotiations",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "the round's number"),
        ("number" = String, Path, description = "the proposal's number")),
    responses((status = 200, body = NegotiationSimulationJson), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "another hospital's round (audited)"),
        (status = 404, body = ErrorBody, description = "no such round or proposal"),
        (status = 503, body = ErrorBody)))]
pub async fn simulation(
    State(app): App,
    Caller(actor): Caller,
    Path((id, n)): Path<(String, String)>,
) -> Result<Json<NegotiationSimulationJson>, ApiError> {
    let round: u64 = number("id", &id, ROUND_DIGITS)?;
    let proposal: u32 = number("number", &n, NUMBER_DIGITS)?;
    let store = app.backend.ledger().ok_or_else(no_ledger)?;
    match simulation_for(&store, &actor, round, proposal).await {
        Ok(s) => Ok(Json(NegotiationSimulationJson {
            round: s.round,
            proposal: s.proposal,
            summary: summary_json(&s.summary, s.visible_hospitals.as_deref()),
            hospitals: s
                .hospitals
                .iter()
                .map(NegotiationSimHospitalJson::from)
                .collect(),
            groups: s.groups.iter().map(NegotiationSimGroupJson::from).collect(),
            visible_hospitals: s.visible_hospitals,
        })),
        Err(e) => Err(refused(
            &app,
            &actor,
            "view a proposal's simulation",
            &format!("negotiation {round}"),
            e,
        )
        .await),
    }
}

async fn round_after(
    app: &AppState,
    actor: &Actor,
    round: u64,
) -> Result<Json<NegotiationRoundJson>, ApiError> {
    let store = app.backend.ledger().ok_or_else(no_ledger)?;
    match round_for(&store, actor, round).await {
        Ok(v) => Ok(Json(NegotiationRoundJson::from(&v))),
        Err(e) => Err(refused(app, actor, "view negotiation round", "negotiations", e).await),
    }
}

/// One of the bureau's writes on `round`, run under the server's write lock: its refusal
/// (audited by [`refused`] where it is one of access), else the round as the caller sees it.
async fn write_round<T>(
    app: &AppState,
    actor: &Actor,
    round: u64,
    what: &str,
    write: impl std::future::Future<Output = Result<T, NegotiationFailure>>,
) -> Result<Json<NegotiationRoundJson>, ApiError> {
    {
        let _writing = app.writes.lock().await;
        if let Err(e) = write.await {
            return Err(refused(app, actor, what, &format!("negotiation {round}"), e).await);
        }
    }
    round_after(app, actor, round).await
}

/// The bureau lists a party (before the outcome; a hospital representative with its hospitals).
#[utoipa::path(post, path = "/v1/negotiations/{id}/parties", tag = "negotiations", security(("bearer" = [])),
    params(("id" = String, Path, description = "the round's number")),
    request_body = NegotiationPartyBody,
    responses((status = 200, body = NegotiationRoundJson), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "not a bureau token (audited)"),
        (status = 404, body = ErrorBody, description = "no such round"),
        (status = 409, body = ErrorBody, description = "the round has its outcome, the party is listed already, or its hospitals do not fit its kind"),
        (status = 503, body = ErrorBody)))]
pub async fn add_party_to(
    State(app): App,
    Caller(actor): Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<NegotiationPartyBody>,
) -> Result<Json<NegotiationRoundJson>, ApiError> {
    let round: u64 = number("id", &id, ROUND_DIGITS)?;
    contract::check_id("party_id", &body.party_id)?;
    let kind = PartyKind::parse(&body.kind).ok_or_else(|| {
        ApiError::bad_request(
            "kind",
            format!(
                "kind {:?}: expected one of {}",
                body.kind,
                PartyKind::names()
            ),
        )
    })?;
    text_field("name", &body.name, true)?;
    if body.hospital_ids.len() > LIST_MAX {
        return Err(ApiError::bad_request(
            "hospital_ids",
            format!(
                "hospital_ids: {} ids, at most {LIST_MAX}",
                body.hospital_ids.len()
            ),
        ));
    }
    for h in &body.hospital_ids {
        contract::check_id("hospital_ids", h)?;
    }
    distinct("hospital_ids", &body.hospital_ids)?;
    let party = Party {
        party_id: body.party_id,
        kind,
        name: body.name,
        hospital_ids: body.hospital_ids,
    };
    let store = app.backend.ledger().ok_or_else(no_ledger)?;
    write_round(
        &app,
        &actor,
        round,
        "list a party",
        add_party(&store, &actor, round, &party),
    )
    .await
}

/// The bureau appends to the minutes (any time, after the outcome too).
#[utoipa::path(post, path = "/v1/negotiations/{id}/minutes", tag = "negotiations", security(("bearer" = [])),
    params(("id" = String, Path, description = "the round's number")),
    request_body = NegotiationMinutesBody,
    responses((status = 200, body = NegotiationRoundJson), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "not a bureau token (audited)"),
        (status = 404, body = ErrorBody, description = "no such round"),
        (status = 503, body = ErrorBody)))]
pub async fn add_minutes(
    State(app): App,
    Caller(actor): Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<NegotiationMinutesBody>,
) -> Result<Json<NegotiationRoundJson>, ApiError> {
    let round: u64 = number("id", &id, ROUND_DIGITS)?;
    text_field("text", &body.text, true)?;
    let store = app.backend.ledger().ok_or_else(no_ledger)?;
    write_round(
        &app,
        &actor,
        round,
        "append to the minutes",
        append_minutes(&store, &actor, round, &body.text),
    )
    .await
}

/// The bureau records the agreement: one of the round's proposals, its SHA-256 given again,
/// the listed parties that agree (the bureau's among them).
#[utoipa::path(post, path = "/v1/negotiations/{id}/agreement", tag = "negotiations", security(("bearer" = [])),
    params(("id" = String, Path, description = "the round's number")),
    request_body = NegotiationAgreeBody,
    responses((status = 200, body = NegotiationRoundJson), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "not a bureau token (audited)"),
        (status = 404, body = ErrorBody, description = "no such round"),
        (status = 409, body = ErrorBody, description = "the round has its outcome, no such proposal, another SHA-256, or a party not listed (named)"),
        (status = 503, body = ErrorBody)))]
pub async fn agree_on(
    State(app): App,
    Caller(actor): Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<NegotiationAgreeBody>,
) -> Result<Json<NegotiationRoundJson>, ApiError> {
    let round: u64 = number("id", &id, ROUND_DIGITS)?;
    let proposal: u32 = number("proposal", &body.proposal, NUMBER_DIGITS)?;
    if body.sha256.len() != 64 || !body.sha256.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(ApiError::bad_request(
            "sha256",
            format!("sha256 {:?}: expected 64 hexadecimal digits", body.sha256),
        ));
    }
    if body.parties.is_empty() || body.parties.len() > LIST_MAX {
        return Err(ApiError::bad_request(
            "parties",
            format!(
                "parties: {} ids, expected 1 to {LIST_MAX}",
                body.parties.len()
            ),
        ));
    }
    for p in &body.parties {
        contract::check_id("parties", p)?;
    }
    distinct("parties", &body.parties)?;
    text_field("note", &body.note, false)?;
    let store = app.backend.ledger().ok_or_else(no_ledger)?;
    let sha = body.sha256.to_ascii_lowercase();
    write_round(
        &app,
        &actor,
        round,
        "record an agreement",
        agree(
            &store,
            &actor,
            round,
            proposal,
            &sha,
            &body.parties,
            &body.note,
        ),
    )
    .await
}

/// The bureau closes a round without agreement.
#[utoipa::path(post, path = "/v1/negotiations/{id}/closing", tag = "negotiations", security(("bearer" = [])),
    params(("id" = String, Path, description = "the round's number")),
    request_body = NegotiationCloseBody,
    responses((status = 200, body = NegotiationRoundJson), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody, description = "not a bureau token (audited)"),
        (status = 404, body = ErrorBody, description = "no such round"),
        (status = 409, body = ErrorBody, description = "the round has its outcome"),
        (status = 503, body = ErrorBody)))]
pub async fn close_round(
    State(app): App,
    Caller(actor): Caller,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<NegotiationCloseBody>,
) -> Result<Json<NegotiationRoundJson>, ApiError> {
    let round: u64 = number("id", &id, ROUND_DIGITS)?;
    text_field("reason", &body.reason, true)?;
    let store = app.backend.ledger().ok_or_else(no_ledger)?;
    write_round(
        &app,
        &actor,
        round,
        "close a round",
        close(&store, &actor, round, &body.reason),
    )
    .await
}
