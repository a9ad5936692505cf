//! `drgdip negotiate …` (谈判协商, `payment-model.md` §9): negotiation rounds over the ledger
//! (`--db`). The rules and the use cases are `drgdip_governance::negotiation` and
//! `drgdip_engine::negotiation`; this module parses, calls and prints. The CLI acts for the
//! bureau (`--actor`); the hospitals' representatives read their rounds through the API.
//!
//! - `negotiate open --title T --elements rates,weights --cases F --baseline P --hospitals H
//!   --weights W`: a round on a year of cases and the parameters in force;
//! - `negotiate party --round N --id ID --kind K --name NAME [--hospitals H001,H002]`;
//! - `negotiate propose --round N --party ID --params F [--weights W] [--counter-to K]
//!   [--note …] [--budget-neutral] [--floor R] [--ceiling R] [--output DIR]`: simulated at
//!   once, stored with its lines;
//! - `negotiate agree --round N --proposal K --sha256 S --parties bureau,rep-a [--note …]`,
//!   `negotiate close --round N --reason …`, `negotiate minutes --round N --text …`;
//! - `negotiate show --round N [--proposal K --output DIR] [--json]`, `negotiate list`;
//! - `negotiate export --round N --output params.toml`: the agreed parameter text, byte for
//!   byte, its SHA-256 checked.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use drgdip_drg::Lang;
use drgdip_engine::digest::sha256_hex;
use drgdip_engine::negotiation::{
    add_party, agree, agreed_parameters, append_minutes, close, groups_csv_of, hospitals_csv_of,
    load_round, open_round, record_proposal, round_for, rounds_for, simulate_proposal,
    simulation_for, NegotiationFailure, OpenRound, ProposalInput, RoundView, SimSummary,
};
use drgdip_governance::negotiation::{Element, Outcome, Party, PartyKind, ProposalOptions};
use drgdip_io::{BatchOptions, Purpose, ReadOptions};
use drgdip_pay::money::{Fen, W4};
use drgdip_settle::Actor;

use crate::ledger::{block_on, open_store, DbOpts};
use crate::shared::{open_errors, read_text, SharedOpts};

#[derive(Debug, clap::Args)]
pub struct NegotiateArgs {
    #[command(subcommand)]
    pub command: NegotiateCommand,
    /// The ledger: `sqlite://PATH` (a file, created on first use) or `postgres://…`.
    #[arg(
        long,
        env = "DRGDIP_DB",
        default_value = "sqlite://drgdip.db",
        global = true
    )]
    pub db: String,
    /// Who acts (the audit log's actor, role bureau).
    #[arg(long, default_value = "drgdip-negotiate", global = true)]
    pub actor: String,
    #[command(flatten)]
    pub shared: SharedOpts,
}

#[derive(Debug, clap::Subcommand)]
pub enum NegotiateCommand {
    /// Open a round on a year of cases and the parameters in force.
    Open(OpenArgs),
    /// List a party of a round.
    Party(PartyArgs),
    /// Record a proposal or counter-proposal (simulated at once, stored with its lines).
    Propose(ProposeArgs),
    /// Agree a proposal: the parameter version the region settles with.
    Agree(AgreeArgs),
    /// Close a round without agreement.
    Close(CloseArgs),
    /// Append to a round's minutes.
    Minutes(MinutesArgs),
    /// A round: parties, proposals with their totals, outcome, minutes; or one proposal's lines.
    Show(ShowArgs),
    /// The rounds.
    List,
    /// Write the agreed parameter file of a round, byte for byte (SHA-256 checked).
    Export(ExportArgs),
}

#[derive(Debug, clap::Args)]
pub struct OpenArgs {
    /// What the round is about.
    #[arg(long)]
    pub title: String,
    /// The elements under negotiation: budget, weights, rates, coefficients (comma-separated).
    #[arg(long, value_delimiter = ',', required = true)]
    pub elements: Vec<String>,
    /// The year of cases every proposal is simulated on.
    #[arg(long)]
    pub cases: PathBuf,
    /// The parameters in force (TOML).
    #[arg(long)]
    pub baseline: PathBuf,
    /// The hospitals (levels).
    #[arg(long)]
    pub hospitals: PathBuf,
    /// The baseline's DRG weights (made by `drgdip weights`).
    #[arg(long)]
    pub weights: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct RoundArg {
    /// The round's number.
    #[arg(long)]
    pub round: u64,
}

#[derive(Debug, clap::Args)]
pub struct PartyArgs {
    #[command(flatten)]
    pub round: RoundArg,
    /// The party's id in the round (letters, digits, '-', '_', '.').
    #[arg(long)]
    pub id: String,
    /// bureau, hospital_representative, association or insured_representative.
    #[arg(long)]
    pub kind: String,
    /// Its name.
    #[arg(long)]
    pub name: String,
    /// A hospital representative: the hospitals it speaks for (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub hospitals: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct ProposeArgs {
    #[command(flatten)]
    pub round: RoundArg,
    /// The listed party that proposes.
    #[arg(long)]
    pub party: String,
    /// The proposal: a complete parameter file (TOML).
    #[arg(long)]
    pub params: PathBuf,
    /// Its own DRG weights; default the round's.
    #[arg(long)]
    pub weights: Option<PathBuf>,
    /// The proposal this one answers (a counter-proposal).
    #[arg(long)]
    pub counter_to: Option<u32>,
    /// Why, in words.
    #[arg(long, default_value = "")]
    pub note: String,
    /// Rescale the proposal's weights so that Σ payment equals the baseline's.
    #[arg(long)]
    pub budget_neutral: bool,
    /// The lowest relative change of any hospital's payment (e.g. -0.03).
    #[arg(long, allow_hyphen_values = true)]
    pub floor: Option<String>,
    /// The highest relative change of any hospital's payment (e.g. 0.03).
    #[arg(long, allow_hyphen_values = true)]
    pub ceiling: Option<String>,
    /// Also write the simulation's hospitals.csv and groups.csv here.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// The errors file of the case file's invalid rows.
    #[arg(long, short)]
    pub errors: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct AgreeArgs {
    #[command(flatten)]
    pub round: RoundArg,
    /// The agreed proposal.
    #[arg(long)]
    pub proposal: u32,
    /// Its parameter file's SHA-256 (as `negotiate show` prints it), a check.
    #[arg(long)]
    pub sha256: String,
    /// The parties that agree (comma-separated; the bureau's among them).
    #[arg(long, value_delimiter = ',', required = true)]
    pub parties: Vec<String>,
    /// A note.
    #[arg(long, default_value = "")]
    pub note: String,
}

#[derive(Debug, clap::Args)]
pub struct CloseArgs {
    #[command(flatten)]
    pub round: RoundArg,
    /// Why the round closes without agreement.
    #[arg(long)]
    pub reason: String,
}

#[derive(Debug, clap::Args)]
pub struct MinutesArgs {
    #[command(flatten)]
    pub round: RoundArg,
    /// The text to append.
    #[arg(long, conflicts_with = "file", required_unless_present = "file")]
    pub text: Option<String>,
    /// A file whose text is appended.
    #[arg(long)]
    pub file: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    #[command(flatten)]
    pub round: RoundArg,
    /// One proposal's stored simulation.
    #[arg(long)]
    pub proposal: Option<u32>,
    /// With --proposal: write its hospitals.csv and groups.csv here (as `drgdip simulate`).
    #[arg(long, short, requires = "proposal")]
    pub output: Option<PathBuf>,
    /// The round as JSON.
    #[arg(long, conflicts_with = "proposal")]
    pub json: bool,
}

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub round: RoundArg,
    /// The parameter file to write.
    #[arg(long, short)]
    pub output: PathBuf,
}

fn failure(e: NegotiationFailure) -> anyhow::Error {
    match e {
        NegotiationFailure::Engine(e) => anyhow::Error::new(e),
        other => anyhow!("{other}"),
    }
}

fn elements(names: &[String]) -> Result<Vec<Element>> {
    names
        .iter()
        .map(|n| {
            Element::parse(n.trim())
                .ok_or_else(|| anyhow!("--elements {n:?}: expected one of {}", Element::names()))
        })
        .collect()
}

fn write_file(dir: &Path, name: &str, text: &str) -> Result<()> {
    let p = dir.join(name);
    std::fs::write(&p, text).with_context(|| format!("cannot write {}", p.display()))
}

fn summary_lines(s: &SimSummary) -> Vec<String> {
    let mut lines = vec![
        format!(
            "  {} cases ({} invalid, priced on neither side); baseline {}, proposal {}",
            s.cases, s.invalid, s.scheme_baseline, s.scheme_proposal
        ),
        format!(
            "  payment {} → {} ({}); fund due {} → {} ({})",
            Fen(s.payment_baseline),
            Fen(s.payment_proposal),
            Fen(s.difference()),
            Fen(s.fund_due_baseline),
            Fen(s.fund_due_proposal),
            Fen(s.fund_due_difference())
        ),
        format!(
            "  budget balance (DRG budget − fund due): baseline {} of {}, proposal {} of {}",
            Fen(s.balance_baseline()),
            Fen(s.budget_baseline),
            Fen(s.balance_proposal()),
            Fen(s.budget_proposal)
        ),
    ];
    if let (Some(f), Some(r), Some(ok)) = (s.neutral_factor, s.neutral_residual, s.neutral_reached)
    {
        lines.push(format!(
            "  budget-neutral: weights × {f}, Σ payment off by {} ({})",
            Fen(r),
            if ok {
                "within a yuan"
            } else {
                "NOT within a yuan"
            }
        ));
    }
    if !s.bound.is_empty() {
        lines.push(format!(
            "  held at a bound: {} (Σ adjustments {}, not redistributed {})",
            s.bound.join(" "),
            Fen(s.bound_held),
            Fen(s.not_redistributed)
        ));
    }
    let movers = |m: &[drgdip_engine::negotiation::Mover]| {
        if m.is_empty() {
            return "none".to_string();
        }
        m.iter()
            .map(|m| {
                let r = m
                    .relative
                    .map(|r| format!(" ({})", W4(r)))
                    .unwrap_or_default();
                format!("{} {}{r}", m.hospital_id, Fen(m.difference))
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    lines.push(format!("  gain most: {}", movers(&s.gainers)));
    lines.push(format!("  lose most: {}", movers(&s.losers)));
    lines
}

fn print_round(v: &RoundView) {
    let h = &v.header;
    println!(
        "round {}: {} — region {} year {} — {}",
        h.id, h.title, h.region, h.year, v.state
    );
    println!(
        "  opened {} by {}; elements {}",
        v.opened_at,
        v.opened_by,
        h.elements
            .iter()
            .map(|e| e.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!("  cases     {} sha256 {}", h.cases.path, h.cases.sha256);
    println!(
        "  baseline  {} sha256 {}",
        h.baseline.path, h.baseline.sha256
    );
    println!(
        "  hospitals {} sha256 {}",
        h.hospitals.path, h.hospitals.sha256
    );
    println!("  weights   {} sha256 {}", h.weights.path, h.weights.sha256);
    println!("parties:");
    for p in &v.parties {
        let hospitals = if p.party.hospital_ids.is_empty() {
            String::new()
        } else {
            format!(" for {}", p.party.hospital_ids.join(","))
        };
        println!(
            "  {} ({}) {}{hospitals}",
            p.party.party_id, p.party.kind, p.party.name
        );
    }
    println!("proposals:");
    for p in &v.proposals {
        let counter = p
            .head
            .counter_to
            .map(|c| format!(" (counter to {c})"))
            .unwrap_or_default();
        println!(
            "  {}{counter} by {}, {} by {}: {}",
            p.head.number, p.head.party_id, p.submitted_at, p.submitted_by, p.head.note
        );
        println!("    params sha256 {}", p.head.params_sha256);
        if let Some(w) = &p.head.weights_sha256 {
            println!("    weights sha256 {w}");
        }
        let o = &p.head.options;
        if o.budget_neutral || o.floor.is_some() || o.ceiling.is_some() {
            println!(
                "    options: budget-neutral {}, floor {}, ceiling {}",
                o.budget_neutral,
                o.floor.as_deref().unwrap_or("none"),
                o.ceiling.as_deref().unwrap_or("none")
            );
        }
        for l in summary_lines(&p.summary) {
            println!("  {l}");
        }
    }
    match &v.outcome {
        Some(Outcome::Agreed {
            proposal,
            params_sha256,
            parties,
            note,
        }) => println!(
            "outcome: proposal {proposal} agreed by {} ({} by {}): params sha256 {params_sha256} {note}",
            parties.join(","),
            v.decided_at.as_deref().unwrap_or(""),
            v.decided_by.as_deref().unwrap_or("")
        ),
        Some(Outcome::Closed { reason }) => println!(
            "outcome: closed without agreement ({} by {}): {reason}",
            v.decided_at.as_deref().unwrap_or(""),
            v.decided_by.as_deref().unwrap_or("")
        ),
        None => println!("outcome: none yet"),
    }
    println!("minutes:");
    for m in &v.minutes {
        println!("  [{}] {} {}: {}", m.seq, m.at, m.by, m.text);
    }
}

/// Runs `drgdip negotiate`.
pub fn run(a: NegotiateArgs) -> Result<()> {
    let db = DbOpts { db: a.db.clone() };
    let actor = Actor::bureau(a.actor.clone());
    match a.command {
        NegotiateCommand::Open(o) => {
            let env = a.shared.resolve()?;
            let mut registry = env.registry()?;
            let open = OpenRound {
                title: o.title,
                elements: elements(&o.elements)?,
                cases: o.cases,
                baseline: o.baseline,
                hospitals: o.hospitals,
                weights: o.weights,
            };
            let record = block_on(async {
                let store = open_store(&db).await?;
                let r = open_round(&store, &mut registry, &actor, &open).await;
                store.close().await;
                r.map_err(failure)
            })?;
            let h = &record.round.header;
            println!(
                "opened round {} ({} {}): {}",
                h.id, h.region, h.year, h.title
            );
            println!("  cases    {} sha256 {}", h.cases.path, h.cases.sha256);
            println!(
                "  baseline {} sha256 {}",
                h.baseline.path, h.baseline.sha256
            );
        }
        NegotiateCommand::Party(p) => {
            let kind = PartyKind::parse(p.kind.trim()).ok_or_else(|| {
                anyhow!(
                    "--kind {:?}: expected one of {}",
                    p.kind,
                    PartyKind::names()
                )
            })?;
            let party = Party {
                party_id: p.id.clone(),
                kind,
                name: p.name,
                hospital_ids: p.hospitals.iter().map(|h| h.trim().to_string()).collect(),
            };
            block_on(async {
                let store = open_store(&db).await?;
                let r = add_party(&store, &actor, p.round.round, &party).await;
                store.close().await;
                r.map_err(failure)
            })?;
            println!("round {}: listed {} ({kind})", p.round.round, p.id);
        }
        NegotiateCommand::Propose(p) => {
            let env = a.shared.resolve()?;
            let mut registry = env.registry()?;
            let params_text = read_text(&p.params, "parameter file")?;
            let weights = p
                .weights
                .as_ref()
                .map(|w| Ok::<_, anyhow::Error>((read_text(w, "weights file")?, w.clone())))
                .transpose()?;
            let input = ProposalInput {
                party_id: p.party.clone(),
                counter_to: p.counter_to,
                params_text,
                params_origin: p.params.clone(),
                weights,
                note: p.note.clone(),
                options: ProposalOptions {
                    budget_neutral: p.budget_neutral,
                    floor: p.floor.clone(),
                    ceiling: p.ceiling.clone(),
                },
            };
            let mut errors = open_errors(p.errors.as_deref())?;
            let db2 = db.clone();
            let round = p.round.round;
            let record = block_on(async move {
                let store = open_store(&db2).await?;
                let r = load_round(&store, round).await;
                store.close().await;
                r.map_err(failure)
            })?;
            let batch = BatchOptions {
                read: ReadOptions::for_purpose(Purpose::Pay),
                lang: Lang::En,
                ..BatchOptions::default()
            };
            let simulated = simulate_proposal(
                &mut registry,
                &actor,
                &record,
                &input,
                batch,
                errors
                    .as_mut()
                    .map(|w| w.as_mut() as &mut dyn std::io::Write),
            )
            .map_err(failure)?;
            if let Some(mut e) = errors {
                e.flush()?;
            }
            for w in &simulated.warnings {
                eprintln!("drgdip: warning: {w}");
            }
            block_on(async {
                let store = open_store(&db).await?;
                let r = record_proposal(&store, &actor, &simulated).await;
                store.close().await;
                r.map_err(failure)
            })?;
            let sim = &simulated.simulation;
            println!(
                "round {round}: proposal {} by {} recorded (params sha256 {}); simulated in {:.2} s (read and grouped {:.2} s, priced {:.2} s)",
                simulated.head.number,
                simulated.head.party_id,
                simulated.head.params_sha256,
                (sim.read_time + sim.price_time).as_secs_f64(),
                sim.read_time.as_secs_f64(),
                sim.price_time.as_secs_f64()
            );
            for l in summary_lines(&simulated.summary) {
                println!("{l}");
            }
            if let Some(dir) = &p.output {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
                write_file(
                    dir,
                    "hospitals.csv",
                    &hospitals_csv_of(&simulated.hospitals),
                )?;
                write_file(dir, "groups.csv", &groups_csv_of(&simulated.groups))?;
                println!("wrote {}/hospitals.csv, groups.csv", dir.display());
            }
        }
        NegotiateCommand::Agree(g) => {
            let record = block_on(async {
                let store = open_store(&db).await?;
                let r = agree(
                    &store,
                    &actor,
                    g.round.round,
                    g.proposal,
                    &g.sha256,
                    &g.parties,
                    &g.note,
                )
                .await;
                store.close().await;
                r.map_err(failure)
            })?;
            println!(
                "round {}: proposal {} agreed by {} — {}",
                g.round.round,
                g.proposal,
                g.parties.join(","),
                record.round.state()
            );
        }
        NegotiateCommand::Close(c) => {
            block_on(async {
                let store = open_store(&db).await?;
                let r = close(&store, &actor, c.round.round, &c.reason).await;
                store.close().await;
                r.map_err(failure)
            })?;
            println!("round {}: closed without agreement", c.round.round);
        }
        NegotiateCommand::Minutes(m) => {
            let text = match (&m.text, &m.file) {
                (Some(t), _) => t.clone(),
                (None, Some(f)) => read_text(f, "minutes file")?,
                (None, None) => bail!("--text or --file"),
            };
            let seq = block_on(async {
                let store = open_store(&db).await?;
                let r = append_minutes(&store, &actor, m.round.round, &text).await;
                store.close().await;
                r.map_err(failure)
            })?;
            println!("round {}: minutes entry {seq} appended", m.round.round);
        }
        NegotiateCommand::Show(s) => {
            let round = s.round.round;
            match s.proposal {
                None => {
                    let view = block_on(async {
                        let store = open_store(&db).await?;
                        let r = round_for(&store, &actor, round).await;
                        store.close().await;
                        r.map_err(failure)
                    })?;
                    if s.json {
                        println!("{}", serde_json::to_string_pretty(&view)?);
                    } else {
                        print_round(&view);
                    }
                }
                Some(number) => {
                    let lines = block_on(async {
                        let store = open_store(&db).await?;
                        let r = simulation_for(&store, &actor, round, number).await;
                        store.close().await;
                        r.map_err(failure)
                    })?;
                    println!("round {round} proposal {number}:");
                    for l in summary_lines(&lines.summary) {
                        println!("{l}");
                    }
                    match &s.output {
                        Some(dir) => {
                            std::fs::create_dir_all(dir)
                                .with_context(|| format!("cannot create {}", dir.display()))?;
                            write_file(dir, "hospitals.csv", &hospitals_csv_of(&lines.hospitals))?;
                            write_file(dir, "groups.csv", &groups_csv_of(&lines.groups))?;
                            println!("wrote {}/hospitals.csv, groups.csv", dir.display());
                        }
                        None => print!("{}", hospitals_csv_of(&lines.hospitals)),
                    }
                }
            }
        }
        NegotiateCommand::List => {
            let views = block_on(async {
                let store = open_store(&db).await?;
                let r = rounds_for(&store, &actor).await;
                store.close().await;
                r.map_err(failure)
            })?;
            println!("round,region,year,state,proposals,agreed_proposal,title");
            for v in &views {
                let agreed = match &v.outcome {
                    Some(Outcome::Agreed { proposal, .. }) => proposal.to_string(),
                    _ => String::new(),
                };
                println!(
                    "{},{},{},{},{},{},{}",
                    v.header.id,
                    v.header.region,
                    v.header.year,
                    v.state,
                    v.proposals.len(),
                    agreed,
                    drgdip_io::csv_field(&v.header.title)
                );
            }
        }
        NegotiateCommand::Export(e) => {
            let (number, text, sha) = block_on(async {
                let store = open_store(&db).await?;
                let r = agreed_parameters(&store, &actor, e.round.round).await;
                store.close().await;
                r.map_err(failure)
            })?;
            std::fs::write(&e.output, text.as_bytes())
                .with_context(|| format!("cannot write {}", e.output.display()))?;
            let written = std::fs::read(&e.output)
                .with_context(|| format!("cannot read back {}", e.output.display()))?;
            let check = sha256_hex(&written);
            if check != sha {
                bail!(
                    "{} reads back with SHA-256 {check}, not the agreed {sha}",
                    e.output.display()
                );
            }
            println!(
                "round {}: wrote the agreed parameters (proposal {number}) to {}, sha256 {sha}",
                e.round.round,
                e.output.display()
            );
        }
    }
    Ok(())
}
