//! Negotiation rounds (谈判协商, `payment-model.md` §9) over the ledger: a round is opened on
//! a year of cases, the parameters in force (the baseline) and their weights; the bureau lists
//! the parties and records their proposals and counter-proposals, each simulated at once with
//! [`crate::simulate`] on the round's cases against the round's baseline and stored with its
//! simulation's lines; the round ends agreed (one of its proposals: the parameter version the
//! region settles with, named by its SHA-256) or closed without agreement; the minutes are
//! appended. The rules are `drgdip_governance::negotiation`'s; the ledger's tables are
//! insert-only. See `docs/negotiation.md`.
//!
//! Choices:
//! - the round keeps the full text of the baseline parameter file and of the weights; every
//!   proposal is simulated against that stored text (relative paths in it, the exclusion
//!   catalogue, resolved against the file it was read from), so a later edit of the baseline
//!   file changes no simulation of the round;
//! - the case file and the hospitals file are named by path and SHA-256: a proposal is refused
//!   when either differs from what the round was opened on (every proposal of a round is
//!   simulated on the same cases); the case file is read into memory once and the SHA-256 is
//!   of the bytes simulated;
//! - a proposal is a complete parameter file (its text and SHA-256 stored), with its own
//!   weights file or the round's; no approved special cases are applied on either side;
//! - who sees what: the bureau every round and every line; a hospital's user the rounds where
//!   a hospital representative speaks for its hospital, and in them the lines of the
//!   hospitals those representatives speak for, the region's totals and the groups' lines
//!   (region-wide sums), and the top gainers and losers among the hospitals it sees.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use drgdip_governance::negotiation::FileRef;
use drgdip_governance::negotiation::{
    Element, NegotiationError, Outcome, Party, ProposalHead, ProposalOptions, Round, RoundHeader,
    State,
};
use drgdip_io::BatchOptions;
use drgdip_pay::money::{Fen, W4};
use drgdip_pay::params::Method;
use drgdip_scheme::Registry;
use drgdip_settle::Actor;
use drgdip_store::{
    NegotiationRecord, SimGroupRow, SimHospitalRow, Store, StoredMinute, StoredProposal,
};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::digest::sha256_hex;
use crate::error::{Context as _, EngineError};
use crate::pricing::SpecialCases;
use crate::region::{read_text, Region};
use crate::simulate::{simulate, Bounds, SimOptions, Simulation, GROUPS_HEADER, HOSPITALS_HEADER};

/// How many gainers and losers a proposal's summary names.
pub const MOVERS: usize = 5;

/// Why a negotiation use case failed.
#[derive(Debug, Error)]
pub enum NegotiationFailure {
    /// No such round (or no such proposal in it).
    #[error("{0}")]
    NotFound(String),
    /// The round's rules refuse (a role, a state, a party, a field).
    #[error(transparent)]
    Rules(#[from] NegotiationError),
    /// A file, the simulation or the ledger failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl From<drgdip_store::StoreError> for NegotiationFailure {
    fn from(e: drgdip_store::StoreError) -> NegotiationFailure {
        NegotiationFailure::Engine(EngineError::Store(e))
    }
}

/// The results of these use cases.
pub type Result<T> = std::result::Result<T, NegotiationFailure>;

fn corrupt(what: &str, e: serde_json::Error) -> NegotiationFailure {
    NegotiationFailure::Engine(crate::invalid!("the ledger's {what} does not read: {e}"))
}

fn to_json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v)
        .map_err(|e| NegotiationFailure::Engine(crate::invalid!("cannot encode: {e}")))
}

/// What opening a round needs: the files it is simulated on.
#[derive(Debug, Clone)]
pub struct OpenRound {
    /// What the round is about.
    pub title: String,
    /// The elements under negotiation.
    pub elements: Vec<Element>,
    /// The year of cases.
    pub cases: PathBuf,
    /// The parameters in force.
    pub baseline: PathBuf,
    /// The hospitals (levels).
    pub hospitals: PathBuf,
    /// The baseline's DRG weights (`drgdip weights`).
    pub weights: PathBuf,
}

/// The summary of a proposal's simulation, stored with it (the lines apart).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimSummary {
    /// The baseline's scheme.
    pub scheme_baseline: String,
    /// The proposal's scheme.
    pub scheme_proposal: String,
    /// Valid cases priced on both sides.
    pub cases: u64,
    /// Invalid rows (priced on neither side).
    pub invalid: u64,
    /// Σ payment under the baseline.
    pub payment_baseline: Decimal,
    /// Σ payment under the proposal (after the bounds).
    pub payment_proposal: Decimal,
    /// Σ fund due under the baseline.
    pub fund_due_baseline: Decimal,
    /// Σ fund due under the proposal (after the bounds).
    pub fund_due_proposal: Decimal,
    /// The DRG budget of the baseline's parameters.
    pub budget_baseline: Decimal,
    /// The DRG budget of the proposal's parameters.
    pub budget_proposal: Decimal,
    /// The budget-neutral factor of the proposal's weights, when asked for.
    pub neutral_factor: Option<Decimal>,
    /// Σ payment(proposal) − Σ payment(baseline) at that factor.
    pub neutral_residual: Option<Decimal>,
    /// Whether the factor keeps Σ payment within a yuan.
    pub neutral_reached: Option<bool>,
    /// Hospitals held at a bound.
    pub bound: Vec<String>,
    /// Σ of their adjustments.
    pub bound_held: Decimal,
    /// What the bounds could not redistribute.
    pub not_redistributed: Decimal,
    /// The hospitals that gain most (by difference of payment), at most [`MOVERS`].
    pub gainers: Vec<Mover>,
    /// The hospitals that lose most, at most [`MOVERS`].
    pub losers: Vec<Mover>,
}

impl SimSummary {
    /// Σ payment: proposal − baseline.
    pub fn difference(&self) -> Decimal {
        self.payment_proposal - self.payment_baseline
    }
    /// Σ fund due: proposal − baseline.
    pub fn fund_due_difference(&self) -> Decimal {
        self.fund_due_proposal - self.fund_due_baseline
    }
    /// The budget balance under the baseline: DRG budget − Σ fund due.
    pub fn balance_baseline(&self) -> Decimal {
        self.budget_baseline - self.fund_due_baseline
    }
    /// The budget balance under the proposal.
    pub fn balance_proposal(&self) -> Decimal {
        self.budget_proposal - self.fund_due_proposal
    }

    /// One line: the totals, as the audit log and the CLI show them.
    pub fn line(&self) -> String {
        format!(
            "cases={} payment {} → {} ({}) fund_due {} → {} ({})",
            self.cases,
            Fen(self.payment_baseline),
            Fen(self.payment_proposal),
            Fen(self.difference()),
            Fen(self.fund_due_baseline),
            Fen(self.fund_due_proposal),
            Fen(self.fund_due_difference())
        )
    }
}

/// A hospital that gains or loses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mover {
    /// The hospital.
    pub hospital_id: String,
    /// Payment: proposal − baseline.
    pub difference: Decimal,
    /// The relative change, when the baseline pays anything.
    pub relative: Option<Decimal>,
}

/// What a proposal's row keeps besides its texts: its head and its simulation's summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProposalBody {
    /// Number, party, counter-proposal, SHA-256, note, options.
    pub head: ProposalHead,
    /// The simulation's summary.
    pub summary: SimSummary,
}

/// A round read from the ledger: the rules' view and what the ledger adds.
#[derive(Debug, Clone)]
pub struct RoundRecord {
    /// The rules' view.
    pub round: Round,
    /// The stored rows.
    pub stored: NegotiationRecord,
    /// The proposals' bodies, by number.
    pub bodies: Vec<ProposalBody>,
}

/// Reads round `id` from the ledger.
pub async fn load_round(store: &Store, id: u64) -> Result<RoundRecord> {
    let stored = store
        .negotiation(id)
        .await?
        .ok_or_else(|| NegotiationFailure::NotFound(format!("no negotiation round {id}")))?;
    record_of(stored)
}

fn record_of(stored: NegotiationRecord) -> Result<RoundRecord> {
    let header: RoundHeader =
        serde_json::from_str(&stored.round.body).map_err(|e| corrupt("round", e))?;
    let parties = stored
        .parties
        .iter()
        .map(|p| serde_json::from_str::<Party>(&p.body).map_err(|e| corrupt("party", e)))
        .collect::<Result<Vec<_>>>()?;
    let bodies = stored
        .proposals
        .iter()
        .map(|p| serde_json::from_str::<ProposalBody>(&p.body).map_err(|e| corrupt("proposal", e)))
        .collect::<Result<Vec<_>>>()?;
    let outcome = stored
        .outcome
        .as_ref()
        .map(|o| serde_json::from_str::<Outcome>(&o.body).map_err(|e| corrupt("outcome", e)))
        .transpose()?;
    Ok(RoundRecord {
        round: Round {
            header,
            parties,
            proposals: bodies.iter().map(|b| b.head.clone()).collect(),
            outcome,
        },
        stored,
        bodies,
    })
}

fn file_ref(path: &Path, bytes: &[u8]) -> FileRef {
    FileRef {
        path: path.display().to_string(),
        sha256: sha256_hex(bytes),
    }
}

fn read_bytes(path: &Path, what: &str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| {
        NegotiationFailure::Engine(EngineError::Context {
            context: format!("cannot read the {what} {}", path.display()),
            source: Box::new(EngineError::Io(source)),
        })
    })
}

/// Opens a round (the bureau): the baseline is loaded and checked as a region (a DRG region:
/// the simulation prices DRG), the files named by their absolute paths and SHA-256, the
/// baseline's and the weights' texts stored; recorded with its audit event.
pub async fn open_round(
    store: &Store,
    registry: &mut Registry<'_>,
    actor: &Actor,
    open: &OpenRound,
) -> Result<RoundRecord> {
    // absolute paths: a proposal may be recorded from another working directory
    let absolute = |p: &Path, what: &str| -> Result<PathBuf> {
        std::fs::canonicalize(p).map_err(|source| {
            NegotiationFailure::Engine(EngineError::Context {
                context: format!("cannot find the {what} {}", p.display()),
                source: Box::new(EngineError::Io(source)),
            })
        })
    };
    let open = OpenRound {
        cases: absolute(&open.cases, "case file")?,
        baseline: absolute(&open.baseline, "parameter file")?,
        hospitals: absolute(&open.hospitals, "hospitals file")?,
        weights: absolute(&open.weights, "weights file")?,
        ..open.clone()
    };
    let open = &open;
    let baseline_text = read_text(&open.baseline, "parameter file")?;
    let weights_text = read_text(&open.weights, "weights file")?;
    let hospitals_text = read_text(&open.hospitals, "hospitals file")?;
    let region = Region::from_texts(
        registry,
        &baseline_text,
        &open.baseline,
        (&hospitals_text, &open.hospitals),
        (&weights_text, &open.weights),
    )?;
    if region.params.region.method == Method::Dip {
        return Err(NegotiationFailure::Engine(crate::invalid!(
            "{}: region.method = \"dip\": a round simulates its proposals, and the simulation prices DRG regions",
            open.baseline.display()
        )));
    }
    let cases = read_bytes(&open.cases, "case file")?;
    let mut header = RoundHeader {
        id: 0,
        region: region.params.region.code.clone(),
        year: i32::from(region.params.region.year),
        title: open.title.clone(),
        elements: open.elements.clone(),
        cases: file_ref(&open.cases, &cases),
        baseline: file_ref(&open.baseline, baseline_text.as_bytes()),
        hospitals: file_ref(&open.hospitals, hospitals_text.as_bytes()),
        weights: file_ref(&open.weights, weights_text.as_bytes()),
    };
    header.check(actor)?;
    header.id = store.next_negotiation_id().await?;
    let event = header.opened(actor);
    store
        .open_negotiation(
            header.id,
            &header.region,
            header.year,
            (&baseline_text, &header.baseline.sha256),
            (&weights_text, &header.weights.sha256),
            &to_json(&header)?,
            &[event],
        )
        .await?;
    load_round(store, header.id).await
}

/// Lists `party` in round `id` (the bureau), with its audit event.
pub async fn add_party(store: &Store, actor: &Actor, id: u64, party: &Party) -> Result<()> {
    let record = load_round(store, id).await?;
    let event = record.round.add_party(actor, party)?;
    store
        .add_negotiation_party(id, &party.party_id, &to_json(party)?, &[event])
        .await?;
    Ok(())
}

/// A proposal as submitted: who, the parameter file's text, its own weights if any, the
/// options it is simulated with.
#[derive(Debug, Clone)]
pub struct ProposalInput {
    /// The listed party that proposes.
    pub party_id: String,
    /// The proposal it answers, for a counter-proposal.
    pub counter_to: Option<u32>,
    /// The parameter file's full text.
    pub params_text: String,
    /// Where it was read (paths written in it are relative to it).
    pub params_origin: PathBuf,
    /// Its own weights: the text and where it was read; `None`: the round's.
    pub weights: Option<(String, PathBuf)>,
    /// Why, in words.
    pub note: String,
    /// Budget-neutral, floor, ceiling.
    pub options: ProposalOptions,
}

/// A proposal simulated, ready to be recorded ([`record_proposal`]).
#[derive(Debug, Clone)]
pub struct SimulatedProposal {
    /// The round's number.
    pub round: u64,
    /// Its head.
    pub head: ProposalHead,
    /// The simulation (its timings and options' steps, for the front end to print).
    pub simulation: Simulation,
    /// The summary stored with it.
    pub summary: SimSummary,
    /// The hospitals' lines.
    pub hospitals: Vec<SimHospitalRow>,
    /// The groups' lines.
    pub groups: Vec<SimGroupRow>,
    /// Warnings about the parameters or weights (nothing refused).
    pub warnings: Vec<String>,
    params_text: String,
    weights: Option<(String, String)>,
}

fn rate(field: &str, text: Option<&str>) -> Result<Option<Decimal>> {
    text.map(|t| {
        Decimal::from_str(t.trim()).map_err(|_| {
            NegotiationFailure::Rules(NegotiationError::Field {
                field: field.into(),
                message: format!("{t:?}: expected a relative change such as -0.05"),
            })
        })
    })
    .transpose()
}

/// Checks and simulates a proposal to round `record` (pure of the ledger: CPU only): the
/// rules first (a listed party, before the outcome, a counter to a proposal of the round),
/// then the round's case and hospitals files against their SHA-256, then the simulation of
/// the proposal against the stored baseline on those cases.
pub fn simulate_proposal(
    registry: &mut Registry<'_>,
    actor: &Actor,
    record: &RoundRecord,
    input: &ProposalInput,
    batch: BatchOptions,
    errors: Option<&mut dyn Write>,
) -> Result<SimulatedProposal> {
    let header = &record.round.header;
    let mut head = ProposalHead {
        number: record.round.next_number(),
        party_id: input.party_id.clone(),
        counter_to: input.counter_to,
        params_sha256: sha256_hex(input.params_text.as_bytes()),
        weights_sha256: input
            .weights
            .as_ref()
            .map(|(t, _)| sha256_hex(t.as_bytes())),
        note: input.note.clone(),
        options: input.options.clone(),
    };
    record.round.check_proposal(actor, &head)?;
    let bounds = Bounds {
        floor: rate("floor", input.options.floor.as_deref())?,
        ceiling: rate("ceiling", input.options.ceiling.as_deref())?,
    };
    bounds.check()?;
    let same = |what: &str, file: &FileRef, bytes: &[u8]| -> Result<()> {
        let now = sha256_hex(bytes);
        if now == file.sha256 {
            Ok(())
        } else {
            Err(NegotiationFailure::Engine(EngineError::Refused(format!(
                "the {what} {} is not the one round {} was opened on (SHA-256 {now}, the round's {}): every proposal of a round is simulated on the same files",
                file.path, header.id, file.sha256
            ))))
        }
    };
    let cases = read_bytes(Path::new(&header.cases.path), "case file")?;
    same("case file", &header.cases, &cases)?;
    let hospitals_path = PathBuf::from(&header.hospitals.path);
    let hospitals_text = read_text(&hospitals_path, "hospitals file")?;
    same(
        "hospitals file",
        &header.hospitals,
        hospitals_text.as_bytes(),
    )?;
    let weights_path = PathBuf::from(&header.weights.path);
    let baseline = Region::from_texts(
        registry,
        &record.stored.round.baseline_text,
        Path::new(&header.baseline.path),
        (&hospitals_text, &hospitals_path),
        (&record.stored.round.weights_text, &weights_path),
    )
    .context("the round's baseline")?;
    let (weights_text, weights_origin) = match &input.weights {
        Some((t, p)) => (t.as_str(), p.as_path()),
        None => (
            record.stored.round.weights_text.as_str(),
            weights_path.as_path(),
        ),
    };
    let proposal = Region::from_texts(
        registry,
        &input.params_text,
        &input.params_origin,
        (&hospitals_text, &hospitals_path),
        (weights_text, weights_origin),
    )
    .context("the proposal")?;
    if proposal.params.region.method == Method::Dip {
        return Err(NegotiationFailure::Engine(crate::invalid!(
            "{}: region.method = \"dip\": the simulation prices DRG regions",
            input.params_origin.display()
        )));
    }
    if proposal.params.region.code != header.region
        || i32::from(proposal.params.region.year) != header.year
    {
        return Err(NegotiationFailure::Rules(NegotiationError::Field {
            field: "params".into(),
            message: format!(
                "the proposal is for region {} {}, the round for {} {}",
                proposal.params.region.code,
                proposal.params.region.year,
                header.region,
                header.year
            ),
        }));
    }
    let mut batch = batch;
    batch.read.limits.max_case_cost = baseline.params.limits.max_case_cost;
    let sim = simulate(
        &baseline,
        &proposal,
        &SpecialCases::default(),
        std::io::Cursor::new(cases),
        batch,
        errors,
        SimOptions {
            budget_neutral: input.options.budget_neutral,
            bounds,
        },
        &|_| {},
    )
    .with_context(|| format!("the case file {}", header.cases.path))?;
    let (hospitals, groups) = lines_of(&sim);
    let summary = summary_of(&sim);
    head.params_sha256 = proposal.params_sha256.clone();
    let mut warnings = baseline.warnings.clone();
    warnings.extend(proposal.warnings.iter().cloned());
    Ok(SimulatedProposal {
        round: header.id,
        head,
        simulation: sim,
        summary,
        hospitals,
        groups,
        warnings,
        params_text: input.params_text.clone(),
        weights: input
            .weights
            .as_ref()
            .map(|(t, _)| (t.clone(), sha256_hex(t.as_bytes()))),
    })
}

/// The lines of a simulation as stored (the columns of `hospitals.csv` and `groups.csv`).
pub fn lines_of(sim: &Simulation) -> (Vec<SimHospitalRow>, Vec<SimGroupRow>) {
    let hospitals = sim
        .hospitals
        .iter()
        .map(|h| SimHospitalRow {
            hospital_id: h.hospital_id.clone(),
            cases: h.baseline.cases,
            payment_baseline: h.baseline.payment,
            payment_proposal: h.payment_proposal(),
            fund_due_baseline: h.baseline.fund_due,
            fund_due_proposal: h.fund_due_proposal(),
            difference: h.difference(),
            relative_change: h.relative(),
            cmi_baseline: h.baseline.cmi(),
            cmi_proposal: h.proposal.cmi(),
            bound: h.bound.map(|b| b.as_str().to_string()),
            adjustment: h.adjustment,
        })
        .collect();
    let groups = sim
        .groups
        .iter()
        .map(|g| SimGroupRow {
            drg_baseline: g.drg_baseline.clone(),
            drg_proposal: g.drg_proposal.clone(),
            cases: g.baseline.cases,
            payment_baseline: g.baseline.payment,
            payment_proposal: g.proposal.payment,
            fund_due_baseline: g.baseline.fund_due,
            fund_due_proposal: g.proposal.fund_due,
            difference: g.difference(),
        })
        .collect();
    (hospitals, groups)
}

fn movers(sim: &Simulation) -> (Vec<Mover>, Vec<Mover>) {
    let mut all: Vec<Mover> = sim
        .hospitals
        .iter()
        .map(|h| Mover {
            hospital_id: h.hospital_id.clone(),
            difference: h.difference(),
            relative: h.relative(),
        })
        .collect();
    all.sort_by(|a, b| {
        b.difference
            .cmp(&a.difference)
            .then(a.hospital_id.cmp(&b.hospital_id))
    });
    let gainers = all
        .iter()
        .filter(|m| m.difference > Decimal::ZERO)
        .take(MOVERS)
        .cloned()
        .collect();
    let losers = all
        .iter()
        .rev()
        .filter(|m| m.difference < Decimal::ZERO)
        .take(MOVERS)
        .cloned()
        .collect();
    (gainers, losers)
}

/// The summary of a simulation.
pub fn summary_of(sim: &Simulation) -> SimSummary {
    let (gainers, losers) = movers(sim);
    SimSummary {
        scheme_baseline: sim.scheme_baseline.clone(),
        scheme_proposal: sim.scheme_proposal.clone(),
        cases: sim.total_baseline.cases,
        invalid: sim.invalid,
        payment_baseline: sim.total_baseline.payment,
        payment_proposal: sim.total_proposal.payment,
        fund_due_baseline: sim.total_baseline.fund_due,
        fund_due_proposal: sim.total_proposal.fund_due,
        budget_baseline: sim.budget_baseline,
        budget_proposal: sim.budget_proposal,
        neutral_factor: sim.neutral.as_ref().map(|n| n.factor),
        neutral_residual: sim.neutral.as_ref().map(|n| n.residual),
        neutral_reached: sim.neutral.as_ref().map(|n| n.reached),
        bound: sim
            .bounds
            .as_ref()
            .map(|b| b.bound.clone())
            .unwrap_or_default(),
        bound_held: sim.bounds.as_ref().map_or(Decimal::ZERO, |b| b.held),
        not_redistributed: sim
            .bounds
            .as_ref()
            .map_or(Decimal::ZERO, |b| b.not_redistributed),
        gainers,
        losers,
    }
}

/// Records a simulated proposal with its lines and its audit event. Refused when the round
/// changed meanwhile (an outcome, another proposal took the number).
pub async fn record_proposal(
    store: &Store,
    actor: &Actor,
    simulated: &SimulatedProposal,
) -> Result<RoundRecord> {
    let record = load_round(store, simulated.round).await?;
    record.round.check_proposal(actor, &simulated.head)?;
    let event = record
        .round
        .proposed(actor, &simulated.head, &simulated.summary.line());
    let body = ProposalBody {
        head: simulated.head.clone(),
        summary: simulated.summary.clone(),
    };
    let stored = StoredProposal {
        number: simulated.head.number,
        party_id: simulated.head.party_id.clone(),
        submitted_at: String::new(),
        actor: actor.id.clone(),
        params_text: simulated.params_text.clone(),
        params_sha256: simulated.head.params_sha256.clone(),
        weights_text: simulated.weights.as_ref().map(|(t, _)| t.clone()),
        weights_sha256: simulated.weights.as_ref().map(|(_, s)| s.clone()),
        body: to_json(&body)?,
    };
    store
        .add_negotiation_proposal(
            simulated.round,
            &stored,
            &simulated.hospitals,
            &simulated.groups,
            &[event],
        )
        .await?;
    load_round(store, simulated.round).await
}

/// Agrees proposal `number` of round `id` (its SHA-256 given again, as a check) by `parties`.
pub async fn agree(
    store: &Store,
    actor: &Actor,
    id: u64,
    number: u32,
    sha256: &str,
    parties: &[String],
    note: &str,
) -> Result<RoundRecord> {
    let record = load_round(store, id).await?;
    let (outcome, event) = record.round.agree(actor, number, sha256, parties, note)?;
    let Outcome::Agreed { params_sha256, .. } = &outcome else {
        return Err(NegotiationFailure::Engine(crate::invalid!(
            "an agreement without its proposal"
        )));
    };
    store
        .record_negotiation_outcome(
            id,
            Some((number, params_sha256)),
            &to_json(&outcome)?,
            &[event],
        )
        .await?;
    load_round(store, id).await
}

/// Closes round `id` without agreement.
pub async fn close(store: &Store, actor: &Actor, id: u64, reason: &str) -> Result<RoundRecord> {
    let record = load_round(store, id).await?;
    let (outcome, event) = record.round.close(actor, reason)?;
    store
        .record_negotiation_outcome(id, None, &to_json(&outcome)?, &[event])
        .await?;
    load_round(store, id).await
}

/// Appends `text` to the minutes of round `id`; the entry's number.
pub async fn append_minutes(store: &Store, actor: &Actor, id: u64, text: &str) -> Result<u32> {
    let record = load_round(store, id).await?;
    let event = record.round.minutes(actor, text)?;
    Ok(store.append_negotiation_minutes(id, text, &[event]).await?)
}

/// The agreed parameter text of round `id`, checked: its SHA-256 is the outcome's and the
/// proposal's. Returns (proposal number, text, SHA-256).
pub async fn agreed_parameters(
    store: &Store,
    actor: &Actor,
    id: u64,
) -> Result<(u32, String, String)> {
    let record = load_round(store, id).await?;
    record.round.visible_hospitals(actor)?;
    let Some(Outcome::Agreed {
        proposal,
        params_sha256,
        ..
    }) = &record.round.outcome
    else {
        return Err(NegotiationFailure::Rules(NegotiationError::State {
            round: id,
            state: record.round.state(),
            why: "no agreed parameter version to export".into(),
        }));
    };
    let stored = record
        .stored
        .proposals
        .iter()
        .find(|p| p.number == *proposal)
        .ok_or_else(|| {
            NegotiationFailure::NotFound(format!("round {id}: no proposal {proposal}"))
        })?;
    let sha = sha256_hex(stored.params_text.as_bytes());
    if sha != *params_sha256 || sha != stored.params_sha256 {
        return Err(NegotiationFailure::Engine(EngineError::Refused(format!(
            "round {id}: the stored text of proposal {proposal} has SHA-256 {sha}, the agreement names {params_sha256}: the ledger is damaged, nothing exported"
        ))));
    }
    Ok((*proposal, stored.params_text.clone(), sha))
}

// ---------------------------------------------------------------------------------------
// What a reader sees

/// A party as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartyView {
    /// The party.
    #[serde(flatten)]
    pub party: Party,
    /// When it was listed.
    pub added_at: String,
}

/// A proposal as shown (its lines apart: [`simulation_for`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProposalView {
    /// Number, party, counter-proposal, SHA-256, note, options.
    #[serde(flatten)]
    pub head: ProposalHead,
    /// When it was recorded.
    pub submitted_at: String,
    /// Who recorded it.
    pub submitted_by: String,
    /// The simulation's summary (the movers among the hospitals the reader sees).
    pub summary: SimSummary,
}

/// A round as `actor` may see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoundView {
    /// The header.
    #[serde(flatten)]
    pub header: RoundHeader,
    /// open, proposals, agreed or closed.
    pub state: State,
    /// When it was opened.
    pub opened_at: String,
    /// Who opened it.
    pub opened_by: String,
    /// The parties.
    pub parties: Vec<PartyView>,
    /// The proposals.
    pub proposals: Vec<ProposalView>,
    /// The outcome, with when and who.
    pub outcome: Option<Outcome>,
    /// When the outcome was recorded.
    pub decided_at: Option<String>,
    /// Who recorded it.
    pub decided_by: Option<String>,
    /// The minutes.
    pub minutes: Vec<MinuteView>,
    /// The hospitals whose lines the reader sees (`None`: every one).
    pub visible_hospitals: Option<Vec<String>>,
}

/// An entry of the minutes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MinuteView {
    /// Its place.
    pub seq: u32,
    /// When.
    pub at: String,
    /// Who.
    pub by: String,
    /// The text.
    pub text: String,
}

impl From<&StoredMinute> for MinuteView {
    fn from(m: &StoredMinute) -> MinuteView {
        MinuteView {
            seq: m.seq,
            at: m.at.clone(),
            by: m.actor.clone(),
            text: m.text.clone(),
        }
    }
}

fn view_of(record: &RoundRecord, visible: Option<&BTreeSet<String>>) -> RoundView {
    let keep = |m: &Mover| visible.is_none_or(|v| v.contains(&m.hospital_id));
    RoundView {
        header: record.round.header.clone(),
        state: record.round.state(),
        opened_at: record.stored.round.opened_at.clone(),
        opened_by: record.stored.round.actor.clone(),
        parties: record
            .round
            .parties
            .iter()
            .zip(&record.stored.parties)
            .map(|(p, s)| PartyView {
                party: p.clone(),
                added_at: s.added_at.clone(),
            })
            .collect(),
        proposals: record
            .bodies
            .iter()
            .zip(&record.stored.proposals)
            .map(|(b, s)| {
                let mut summary = b.summary.clone();
                summary.gainers.retain(keep);
                summary.losers.retain(keep);
                ProposalView {
                    head: b.head.clone(),
                    submitted_at: s.submitted_at.clone(),
                    submitted_by: s.actor.clone(),
                    summary,
                }
            })
            .collect(),
        outcome: record.round.outcome.clone(),
        decided_at: record.stored.outcome.as_ref().map(|o| o.decided_at.clone()),
        decided_by: record.stored.outcome.as_ref().map(|o| o.actor.clone()),
        minutes: record.stored.minutes.iter().map(MinuteView::from).collect(),
        visible_hospitals: visible.map(|v| v.iter().cloned().collect()),
    }
}

/// Round `id` as `actor` may see it (a hospital no representative of the round speaks for:
/// [`NegotiationError::NotYours`]).
pub async fn round_for(store: &Store, actor: &Actor, id: u64) -> Result<RoundView> {
    let record = load_round(store, id).await?;
    let visible = record.round.visible_hospitals(actor)?;
    Ok(view_of(&record, visible.as_ref()))
}

/// The rounds `actor` may see, by number (a reviewer: refused).
pub async fn rounds_for(store: &Store, actor: &Actor) -> Result<Vec<RoundView>> {
    if !actor.role.is_bureau() && actor.hospital_id().is_none() {
        return Err(NegotiationFailure::Rules(NegotiationError::Role {
            actor: actor.id.clone(),
            role: actor.role.kind().to_string(),
            what: "list the negotiation rounds".into(),
            why: "the bureau and the hospitals a representative speaks for see the rounds".into(),
        }));
    }
    let mut out = Vec::new();
    for id in store.negotiation_ids().await? {
        let record = load_round(store, id).await?;
        if let Ok(visible) = record.round.visible_hospitals(actor) {
            out.push(view_of(&record, visible.as_ref()));
        }
    }
    Ok(out)
}

/// A proposal's simulation as `actor` may see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimulationLines {
    /// The round.
    pub round: u64,
    /// The proposal.
    pub proposal: u32,
    /// The summary (the region's totals; movers among the hospitals seen).
    pub summary: SimSummary,
    /// The hospitals' lines the reader sees.
    pub hospitals: Vec<SimHospitalRow>,
    /// The groups' lines (region-wide).
    pub groups: Vec<SimGroupRow>,
    /// The hospitals the reader sees (`None`: every one).
    pub visible_hospitals: Option<Vec<String>>,
}

/// The stored simulation of proposal `number` of round `id`, as `actor` may see it.
pub async fn simulation_for(
    store: &Store,
    actor: &Actor,
    id: u64,
    number: u32,
) -> Result<SimulationLines> {
    let record = load_round(store, id).await?;
    let visible = record.round.visible_hospitals(actor)?;
    let view = view_of(&record, visible.as_ref());
    let proposal = view
        .proposals
        .into_iter()
        .find(|p| p.head.number == number)
        .ok_or_else(|| {
            NegotiationFailure::NotFound(format!("round {id} has no proposal {number}"))
        })?;
    let (mut hospitals, groups) = store.negotiation_simulation(id, number).await?;
    if let Some(v) = &visible {
        hospitals.retain(|h| v.contains(&h.hospital_id));
    }
    Ok(SimulationLines {
        round: id,
        proposal: number,
        summary: proposal.summary,
        hospitals,
        groups,
        visible_hospitals: view.visible_hospitals,
    })
}

/// `hospitals.csv` of stored lines: the header and the figures of `drgdip simulate`.
pub fn hospitals_csv_of(rows: &[SimHospitalRow]) -> String {
    use std::fmt::Write as _;
    let mut out = format!("{HOSPITALS_HEADER}\n");
    let opt = |d: Option<Decimal>| d.map(|d| W4(d).to_string()).unwrap_or_default();
    for h in rows {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{}",
            drgdip_io::csv_field(&h.hospital_id),
            h.cases,
            Fen(h.payment_baseline),
            Fen(h.payment_proposal),
            Fen(h.fund_due_baseline),
            Fen(h.fund_due_proposal),
            Fen(h.difference),
            opt(h.relative_change),
            opt(h.cmi_baseline),
            opt(h.cmi_proposal),
            h.bound.as_deref().unwrap_or(""),
            Fen(h.adjustment)
        );
    }
    out
}

/// `groups.csv` of stored lines.
pub fn groups_csv_of(rows: &[SimGroupRow]) -> String {
    use std::fmt::Write as _;
    let mut out = format!("{GROUPS_HEADER}\n");
    for g in rows {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{}",
            g.drg_baseline,
            g.drg_proposal,
            g.cases,
            Fen(g.payment_baseline),
            Fen(g.payment_proposal),
            Fen(g.fund_due_baseline),
            Fen(g.fund_due_proposal),
            Fen(g.difference)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn stored_lines_write_the_simulations_csv_columns() {
        let h = SimHospitalRow {
            hospital_id: "H001".into(),
            cases: 3,
            payment_baseline: dec!(100.004),
            payment_proposal: dec!(110),
            fund_due_baseline: dec!(80),
            fund_due_proposal: dec!(88),
            difference: dec!(10),
            relative_change: Some(dec!(0.099996)),
            cmi_baseline: None,
            cmi_proposal: Some(dec!(1.23456)),
            bound: Some("ceiling".into()),
            adjustment: dec!(-1.5),
        };
        assert_eq!(
            hospitals_csv_of(&[h]),
            format!("{HOSPITALS_HEADER}\nH001,3,100.00,110.00,80.00,88.00,10.00,0.1000,,1.2346,ceiling,-1.50\n")
        );
    }

    #[test]
    fn the_summary_names_the_balance_and_the_difference() {
        let s = SimSummary {
            scheme_baseline: "a".into(),
            scheme_proposal: "a".into(),
            cases: 2,
            invalid: 0,
            payment_baseline: dec!(100),
            payment_proposal: dec!(90),
            fund_due_baseline: dec!(60),
            fund_due_proposal: dec!(55),
            budget_baseline: dec!(70),
            budget_proposal: dec!(70),
            neutral_factor: None,
            neutral_residual: None,
            neutral_reached: None,
            bound: vec![],
            bound_held: Decimal::ZERO,
            not_redistributed: Decimal::ZERO,
            gainers: vec![],
            losers: vec![],
        };
        assert_eq!(s.difference(), dec!(-10));
        assert_eq!(s.balance_baseline(), dec!(10));
        assert_eq!(s.balance_proposal(), dec!(15));
        assert_eq!(
            s.line(),
            "cases=2 payment 100.00 → 90.00 (-10.00) fund_due 60.00 → 55.00 (-5.00)"
        );
    }
}
