//! `drgdip opinions …` (意见收集反馈) and `drgdip working-group …` (医保数据工作组): the
//! governance records of `payment-model.md` §11, over the ledger (`--db`). The rules and the
//! use cases are `drgdip_governance` and `drgdip_engine::governance`; this module parses,
//! calls and prints.
//!
//! - `opinions submit --hospital H --topic T --text …` records a hospital's opinion (the
//!   CLI acts as the hospital's account, `--user`); hospitals normally use the API;
//! - `opinions classify|forward|answer|close ID …` are the bureau's steps (`--actor`);
//! - `opinions list [--hospital H] [--from D --to D] [--format table|csv]`, `opinions show
//!   ID`, `opinions counts --from D --to D`;
//! - `working-group check|record --year Y --roster F --hospitals F`, `working-group show
//!   --year Y`: the roster checked against the hospitals and the previous year's roster in
//!   the ledger (errors refuse `record`; warnings are printed).

use std::path::PathBuf;

use anyhow::{anyhow, bail, Context, Result};
use drgdip_engine::governance::{
    check_roster, opinion_counts, opinion_for, opinions_for, record_roster, submit_opinion,
    take_step, GovernanceError,
};
use drgdip_governance::{Level, Opinion, Roster, RosterCheck, Step, Submission, Topic};
use drgdip_settle::{Actor, Date};

use crate::ledger::{block_on, open_store, DbOpts};
use crate::shared::read_hospitals;

/// The ledger (`--db`), before or after the subcommand.
#[derive(Debug, Clone, clap::Args)]
pub struct GlobalDb {
    /// The ledger: `sqlite://PATH` (a file, created on first use) or `postgres://…`.
    #[arg(
        long,
        env = "DRGDIP_DB",
        default_value = "sqlite://drgdip.db",
        global = true
    )]
    pub db: String,
}

impl GlobalDb {
    fn opts(&self) -> DbOpts {
        DbOpts {
            db: self.db.clone(),
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct OpinionsArgs {
    #[command(subcommand)]
    pub command: OpinionsCommand,
    #[command(flatten)]
    pub db: GlobalDb,
}

#[derive(Debug, clap::Subcommand)]
pub enum OpinionsCommand {
    /// Record a hospital's opinion (as the hospital's account).
    Submit(SubmitArgs),
    /// Classify an opinion: its topic and whose business it is (bureau).
    Classify(ClassifyArgs),
    /// Forward a provincial or national opinion (bureau).
    Forward(ForwardArgs),
    /// Answer an opinion (bureau; a forwarded one: the reply relayed).
    Answer(AnswerArgs),
    /// Close an answered or forwarded opinion (bureau).
    Close(CloseArgs),
    /// The opinions.
    List(ListArgs),
    /// One opinion and its life.
    Show(ShowArgs),
    /// Counts by topic, level and status of the opinions submitted in a period.
    Counts(CountsArgs),
}

#[derive(Debug, clap::Args)]
pub struct SubmitArgs {
    /// The submitting hospital.
    #[arg(long)]
    pub hospital: String,
    /// The hospital account's user (the audit log's actor).
    #[arg(long)]
    pub user: Option<String>,
    /// grouping, technical, pricing or other.
    #[arg(long)]
    pub topic: String,
    /// The group or case concerned (required for grouping).
    #[arg(long, default_value = "")]
    pub about: String,
    /// The opinion.
    #[arg(long)]
    pub text: String,
    /// The medical worker it comes from.
    #[arg(long, default_value = "")]
    pub author: String,
    /// The day of submission (default: today).
    #[arg(long)]
    pub today: Option<String>,
}

/// The bureau's actor and the day of a step.
#[derive(Debug, clap::Args)]
pub struct StepOpts {
    /// Who takes the step (role bureau).
    #[arg(long, default_value = "bureau")]
    pub actor: String,
    /// The day (default: today).
    #[arg(long)]
    pub today: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct ClassifyArgs {
    /// The opinion.
    pub id: String,
    /// grouping, technical, pricing or other.
    #[arg(long)]
    pub topic: String,
    /// local, provincial or national.
    #[arg(long)]
    pub level: String,
    #[command(flatten)]
    pub step: StepOpts,
}

#[derive(Debug, clap::Args)]
pub struct ForwardArgs {
    /// The opinion.
    pub id: String,
    /// How it was sent (a document number, a system).
    #[arg(long)]
    pub channel: String,
    #[command(flatten)]
    pub step: StepOpts,
}

#[derive(Debug, clap::Args)]
pub struct AnswerArgs {
    /// The opinion.
    pub id: String,
    /// The answer.
    #[arg(long)]
    pub text: String,
    #[command(flatten)]
    pub step: StepOpts,
}

#[derive(Debug, clap::Args)]
pub struct CloseArgs {
    /// The opinion.
    pub id: String,
    /// Why (optional).
    #[arg(long, default_value = "")]
    pub note: String,
    #[command(flatten)]
    pub step: StepOpts,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for a person.
    Table,
    /// CSV with a header.
    Csv,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Only this hospital's opinions.
    #[arg(long)]
    pub hospital: Option<String>,
    /// Submitted on or after (YYYY-MM-DD).
    #[arg(long)]
    pub from: Option<String>,
    /// Submitted on or before (YYYY-MM-DD).
    #[arg(long)]
    pub to: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// The opinion.
    pub id: String,
}

#[derive(Debug, clap::Args)]
pub struct CountsArgs {
    /// Submitted on or after (YYYY-MM-DD).
    #[arg(long)]
    pub from: String,
    /// Submitted on or before (YYYY-MM-DD).
    #[arg(long)]
    pub to: String,
}

#[derive(Debug, clap::Args)]
pub struct WorkingGroupArgs {
    #[command(subcommand)]
    pub command: WorkingGroupCommand,
    #[command(flatten)]
    pub db: GlobalDb,
}

#[derive(Debug, clap::Subcommand)]
pub enum WorkingGroupCommand {
    /// Check a roster against the hospitals and last year's roster (nothing recorded).
    Check(RosterArgs),
    /// Check and record a roster (refused when it falls short of the notices).
    Record(RecordArgs),
    /// The recorded roster of a year.
    Show(ShowYearArgs),
}

#[derive(Debug, clap::Args)]
pub struct RosterArgs {
    /// The year of the roster.
    #[arg(long)]
    pub year: i32,
    /// The roster: CSV `member_id,name,hospital_id[,title]`.
    #[arg(long)]
    pub roster: PathBuf,
    /// The hospitals file (levels and kinds).
    #[arg(long)]
    pub hospitals: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct RecordArgs {
    #[command(flatten)]
    pub roster: RosterArgs,
    /// Who records (role bureau).
    #[arg(long, default_value = "bureau")]
    pub actor: String,
}

#[derive(Debug, clap::Args)]
pub struct ShowYearArgs {
    /// The year.
    #[arg(long)]
    pub year: i32,
}

fn today(text: Option<&str>) -> Result<Date> {
    match text {
        Some(d) => d.trim().parse().map_err(|e| anyhow!("--today {d:?}: {e}")),
        None => drgdip_store::rfc3339(std::time::SystemTime::now())[..10]
            .parse()
            .map_err(|e| anyhow!("the system date: {e}")),
    }
}

fn date(flag: &str, text: &str) -> Result<Date> {
    text.trim()
        .parse()
        .map_err(|e| anyhow!("--{flag} {text:?}: {e}"))
}

fn topic(text: &str) -> Result<Topic> {
    Topic::parse(text.trim())
        .ok_or_else(|| anyhow!("--topic {text:?}: expected one of {}", Topic::names()))
}

fn level(text: &str) -> Result<Level> {
    Level::parse(text.trim())
        .ok_or_else(|| anyhow!("--level {text:?}: expected one of {}", Level::names()))
}

fn fail(e: GovernanceError) -> anyhow::Error {
    anyhow!("{e}")
}

pub fn run_opinions(a: OpinionsArgs) -> Result<()> {
    let db = a.db.opts();
    match a.command {
        OpinionsCommand::Submit(s) => {
            let actor = Actor::hospital(
                s.user.clone().unwrap_or_else(|| s.hospital.clone()),
                &s.hospital,
            );
            let on = today(s.today.as_deref())?;
            let submission = Submission {
                topic: topic(&s.topic)?,
                about: s.about,
                text: s.text,
                author: s.author,
            };
            let o = block_on(async {
                let store = open_store(&db).await?;
                let o = submit_opinion(&store, &actor, on, submission)
                    .await
                    .map_err(fail);
                store.close().await;
                o
            })?;
            println!(
                "{} submitted by {} ({}) on {}",
                o.id, o.hospital_id, o.submitted_by, o.submitted_on
            );
            Ok(())
        }
        OpinionsCommand::Classify(c) => step(&db, &c.id, &c.step, || {
            Ok(Step::Classify {
                topic: topic(&c.topic)?,
                level: level(&c.level)?,
            })
        }),
        OpinionsCommand::Forward(f) => step(&db, &f.id, &f.step, || {
            Ok(Step::Forward {
                channel: f.channel.clone(),
            })
        }),
        OpinionsCommand::Answer(x) => step(&db, &x.id, &x.step, || {
            Ok(Step::Answer {
                text: x.text.clone(),
            })
        }),
        OpinionsCommand::Close(c) => step(&db, &c.id, &c.step, || {
            Ok(Step::Close {
                note: c.note.clone(),
            })
        }),
        OpinionsCommand::List(l) => {
            let dates = match (&l.from, &l.to) {
                (None, None) => None,
                (Some(f), Some(t)) => Some((date("from", f)?, date("to", t)?)),
                _ => bail!("--from and --to go together"),
            };
            let list = block_on(async {
                let store = open_store(&db).await?;
                let list = opinions_for(
                    &store,
                    &Actor::bureau("drgdip-opinions"),
                    l.hospital.as_deref(),
                    dates,
                )
                .await
                .map_err(fail);
                store.close().await;
                list
            })?;
            print_list(&list, l.format)
        }
        OpinionsCommand::Show(s) => {
            let o = block_on(async {
                let store = open_store(&db).await?;
                let o = opinion_for(&store, &Actor::bureau("drgdip-opinions"), &s.id)
                    .await
                    .map_err(fail);
                store.close().await;
                o
            })?;
            print!("{}", describe(&o));
            Ok(())
        }
        OpinionsCommand::Counts(c) => {
            let (from, to) = (date("from", &c.from)?, date("to", &c.to)?);
            let counts = block_on(async {
                let store = open_store(&db).await?;
                let c = opinion_counts(&store, from, to).await.map_err(fail);
                store.close().await;
                c
            })?;
            println!("opinions submitted {from} – {to}: {}", counts.total);
            let line =
                |what: &str, parts: Vec<String>| println!("  by {what}: {}", parts.join(", "));
            line(
                "topic",
                counts
                    .by_topic
                    .iter()
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect(),
            );
            line(
                "level",
                counts
                    .by_level
                    .iter()
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect(),
            );
            line(
                "status",
                counts
                    .by_status
                    .iter()
                    .map(|(k, v)| format!("{k} {v}"))
                    .collect(),
            );
            Ok(())
        }
    }
}

fn step(db: &DbOpts, id: &str, opts: &StepOpts, make: impl FnOnce() -> Result<Step>) -> Result<()> {
    let s = make()?;
    let name = s.name();
    let on = today(opts.today.as_deref())?;
    let actor = Actor::bureau(opts.actor.clone());
    let o = block_on(async {
        let store = open_store(db).await?;
        let o = take_step(&store, &actor, on, id, s).await.map_err(fail);
        store.close().await;
        o
    })?;
    println!("{}: {name} on {on}; now {}", o.id, o.status);
    Ok(())
}

fn print_list(list: &[Opinion], format: Format) -> Result<()> {
    match format {
        Format::Csv => {
            let mut w = csv::Writer::from_writer(std::io::stdout().lock());
            w.write_record([
                "id",
                "hospital_id",
                "submitted_on",
                "topic",
                "about",
                "status",
                "level",
                "forwarded_to",
                "forwarded_on",
                "answered_on",
                "text",
                "answer",
            ])?;
            for o in list {
                let level = o.classification.as_ref().map_or("", |c| c.level.as_str());
                let (to, on) = o
                    .forwarding
                    .as_ref()
                    .map_or(("", String::new()), |f| (f.to.as_str(), f.on.to_string()));
                let answered = o
                    .answer
                    .as_ref()
                    .map_or(String::new(), |a| a.on.to_string());
                let answer = o.answer.as_ref().map_or("", |a| a.text.as_str());
                w.write_record([
                    o.id.as_str(),
                    &o.hospital_id,
                    &o.submitted_on.to_string(),
                    o.counted_topic().as_str(),
                    &o.about,
                    o.status.as_str(),
                    level,
                    to,
                    &on,
                    &answered,
                    &o.text,
                    answer,
                ])?;
            }
            w.flush()?;
        }
        Format::Table => {
            println!(
                "{:<10}  {:<8}  {:<10}  {:<9}  {:<10}  {:<10}  about",
                "id", "hospital", "submitted", "topic", "level", "status"
            );
            for o in list {
                let level = o.classification.as_ref().map_or("-", |c| c.level.as_str());
                println!(
                    "{:<10}  {:<8}  {:<10}  {:<9}  {:<10}  {:<10}  {}",
                    o.id,
                    o.hospital_id,
                    o.submitted_on.to_string(),
                    o.counted_topic().as_str(),
                    level,
                    o.status.as_str(),
                    o.about
                );
            }
            println!("{} opinion(s)", list.len());
        }
    }
    Ok(())
}

fn describe(o: &Opinion) -> String {
    let mut s = format!(
        "{} — {} on {} by {}{} ({}): {}\n  about: {}\n  {}\n",
        o.id,
        o.topic,
        o.submitted_on,
        o.hospital_id,
        if o.author.is_empty() {
            String::new()
        } else {
            format!(" / {}", o.author)
        },
        o.submitted_by,
        o.status,
        if o.about.is_empty() { "-" } else { &o.about },
        o.text
    );
    if let Some(c) = &o.classification {
        s.push_str(&format!(
            "  classified {} / {} by {} on {}\n",
            c.topic, c.level, c.by, c.on
        ));
    }
    if let Some(f) = &o.forwarding {
        s.push_str(&format!(
            "  forwarded to the {} bureau on {} by {} ({})\n",
            f.to, f.on, f.by, f.channel
        ));
    }
    if let Some(a) = &o.answer {
        s.push_str(&format!(
            "  answered ({}) on {} by {}: {}\n",
            a.from, a.on, a.by, a.text
        ));
    }
    if let Some(c) = &o.closing {
        s.push_str(&format!("  closed on {} by {} {}\n", c.on, c.by, c.note));
    }
    s
}

fn read_roster(a: &RosterArgs) -> Result<Roster> {
    let text = std::fs::read_to_string(&a.roster)
        .with_context(|| format!("cannot read the roster {}", a.roster.display()))?;
    Roster::from_csv_str(a.year, &text, &a.roster.display().to_string()).map_err(|errors| {
        anyhow!(
            "{} problem(s) in the roster:\n  {}",
            errors.len(),
            errors
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("\n  ")
        )
    })
}

fn print_check(c: &RosterCheck) {
    println!(
        "working group {}: {} members; levels {}; kinds {}",
        c.year,
        c.members,
        c.by_level
            .iter()
            .map(|(l, n)| format!("{l}: {n}"))
            .collect::<Vec<_>>()
            .join(", "),
        c.by_kind
            .iter()
            .map(|(k, n)| format!("{k}: {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if !c.stayed.is_empty() {
        println!("  on last year's roster too: {}", c.stayed.join(", "));
    }
    for e in &c.errors {
        println!("  error: {e}");
    }
    for w in &c.warnings {
        println!("  warning: {w}");
    }
}

pub fn run_working_group(a: WorkingGroupArgs) -> Result<()> {
    let db = a.db.opts();
    match a.command {
        WorkingGroupCommand::Check(r) => {
            let roster = read_roster(&r)?;
            let hospitals = read_hospitals(&r.hospitals)?;
            let c = block_on(async {
                let store = open_store(&db).await?;
                let c = check_roster(&store, &roster, &hospitals)
                    .await
                    .map_err(fail);
                store.close().await;
                c
            })?;
            print_check(&c);
            if !c.passed() {
                bail!(
                    "the roster of {} falls short of the notices ({} error(s))",
                    c.year,
                    c.errors.len()
                );
            }
            Ok(())
        }
        WorkingGroupCommand::Record(r) => {
            let roster = read_roster(&r.roster)?;
            let hospitals = read_hospitals(&r.roster.hospitals)?;
            let actor = Actor::bureau(r.actor.clone());
            let c = block_on(async {
                let store = open_store(&db).await?;
                let c = record_roster(&store, &actor, &roster, &hospitals)
                    .await
                    .map_err(fail);
                store.close().await;
                c
            })?;
            print_check(&c);
            println!("recorded: the roster of {}", c.year);
            Ok(())
        }
        WorkingGroupCommand::Show(s) => {
            let roster = block_on(async {
                let store = open_store(&db).await?;
                let r = store.roster(s.year).await;
                store.close().await;
                Ok(r?)
            })?;
            let Some(roster) = roster else {
                bail!(
                    "no roster of {} is recorded (drgdip working-group record --year {} …)",
                    s.year,
                    s.year
                );
            };
            println!(
                "working group {}: {} members",
                roster.year,
                roster.members.len()
            );
            for m in &roster.members {
                println!(
                    "  {:<8}  {:<12}  {:<8}  {}",
                    m.member_id, m.name, m.hospital_id, m.note
                );
            }
            Ok(())
        }
    }
}
