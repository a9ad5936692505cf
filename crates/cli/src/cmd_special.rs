//! `drgdip special-cases submit|list|show|assign|propose|review|withdraw|spot-check|notice|rounds`:
//! the special-case review (特例单议) over the ledger (`--db`), each step the engine's use
//! case (`drgdip_engine::special_case::Desk`), the same functions the HTTP API calls. The
//! command acts for the bureau (`--actor`), or for a hospital (`--as-hospital`) or an expert
//! (`--as-reviewer`) where the step is theirs; every change is audited by the ledger.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use drgdip_drg::Lang;
use drgdip_engine::dip::{DipFiles, DipRegion};
use drgdip_engine::special_case::{case_rows, Desk, Pricing, ReviewError, SubmitRequest};
use drgdip_engine::{Region, RegionFiles};
use drgdip_io::Purpose;
use drgdip_settle::{
    Actor, Application, CaseOpinion, Date, Experts, HalfYear, Outcome, Period, ReasonKind,
};
use rust_decimal::Decimal;

use crate::ledger::{block_on, open_store, DbOpts};
use crate::shared::{parse_point_value, read_text, weights_from, InputOpts, SharedOpts};

#[derive(Debug, clap::Args)]
pub struct SpecialArgs {
    #[command(subcommand)]
    pub command: SpecialCommand,
    #[command(flatten)]
    pub region: RegionOpts,
    #[command(flatten)]
    pub db: DbOpts,
    #[command(flatten)]
    pub shared: SharedOpts,
}

/// The region the review prices with, and its experts.
#[derive(Debug, Clone, clap::Args)]
pub struct RegionOpts {
    /// The region's parameter file (TOML).
    #[arg(long, global = true)]
    pub params: Option<PathBuf>,
    /// The hospitals file (CSV).
    #[arg(long, global = true)]
    pub hospitals: Option<PathBuf>,
    /// DRG weights (CSV), as `drgdip settle` takes them.
    #[arg(long, global = true, conflicts_with = "history")]
    pub weights: Option<PathBuf>,
    /// A year of history to compute the DRG weights from.
    #[arg(long, global = true)]
    pub history: Option<PathBuf>,
    /// A DRG point value (point method), as `drgdip settle` takes it.
    #[arg(long, global = true)]
    pub point_value: Option<String>,
    /// The DIP disease library (a DIP region: `region.method = "dip"`).
    #[arg(long, global = true)]
    pub library: Option<PathBuf>,
    /// The experts registry (专家组): `expert_id,name,discipline,hospital_id,title`.
    #[arg(long, global = true, env = "DRGDIP_EXPERTS")]
    pub experts: Option<PathBuf>,
    /// Who acts for the bureau (the audit log's actor).
    #[arg(long, global = true, default_value = "drgdip-special-cases")]
    pub actor: String,
    #[command(flatten)]
    pub input_opts: InputOpts,
}

#[derive(Debug, clap::Subcommand)]
pub enum SpecialCommand {
    /// A hospital applies for cases of a review period, within the region's quota; the
    /// cases' rows are taken from the settled month's case file.
    Submit(SubmitArgs),
    /// The applications (bureau view), with the review rounds of the period and the next.
    List(ListArgs),
    /// One application in the view of the bureau, a hospital or an assigned expert (JSON).
    Show(ShowArgs),
    /// The bureau assigns the first reviewers (初审) or the second reviewer (复审).
    Assign(AssignArgs),
    /// Proposes experts for the next assignment: no conflict, discipline first, least load.
    Propose(ProposeArgs),
    /// An assigned expert records its review: opinions from a CSV file
    /// (`case,outcome,points,reason`; outcome per_item, extra_points or rejected).
    Review(ReviewArgs),
    /// A hospital withdraws its application.
    Withdraw(WithdrawArgs),
    /// Spot checks (抽查复核): draw a half-year with a seed, or assign a drawn case.
    SpotCheck(SpotCheckArgs),
    /// The half-yearly notice: per hospital, the region's totals, the spot checks.
    Notice(NoticeArgs),
    /// The review rounds of a period and the next round.
    Rounds(RoundsArgs),
}

#[derive(Debug, clap::Args)]
pub struct SubmitArgs {
    /// The applying hospital.
    #[arg(long = "as-hospital")]
    pub hospital: String,
    /// The review period (`2025Q2`).
    #[arg(long)]
    pub period: String,
    /// A case (repeatable).
    #[arg(long = "case", required = true)]
    pub cases: Vec<String>,
    /// long_stay, high_cost, new_technology, complex_critical or multidisciplinary.
    #[arg(long)]
    pub reason: String,
    /// The reason in words.
    #[arg(long)]
    pub text: String,
    /// The case file the month was settled with (the cases' rows are taken from it).
    #[arg(long)]
    pub records: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Only this review period.
    #[arg(long)]
    pub period: Option<String>,
    /// Only this hospital.
    #[arg(long)]
    pub hospital: Option<String>,
    /// The day the next round is reckoned from (default: today).
    #[arg(long)]
    pub today: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// The application.
    #[arg(long)]
    pub id: String,
    /// As the applying hospital sees it.
    #[arg(long = "as-hospital", conflicts_with = "reviewer")]
    pub hospital: Option<String>,
    /// As this assigned expert sees it (blind: no hospital, no case id).
    #[arg(long = "as-reviewer")]
    pub reviewer: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct AssignArgs {
    /// The application.
    #[arg(long)]
    pub id: String,
    /// An expert (repeatable): `first_review_experts` of them for the first review, one for
    /// the second.
    #[arg(long = "reviewer", required = true)]
    pub reviewers: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct ProposeArgs {
    /// The application.
    #[arg(long)]
    pub id: String,
    /// The discipline to prefer (心血管内科).
    #[arg(long)]
    pub discipline: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct ReviewArgs {
    /// The application.
    #[arg(long)]
    pub id: String,
    /// The expert recording its review.
    #[arg(long = "as-reviewer")]
    pub reviewer: String,
    /// The opinions: CSV `case,outcome,points,reason` (case: the token).
    #[arg(long)]
    pub opinions: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct WithdrawArgs {
    /// The application.
    #[arg(long)]
    pub id: String,
    /// The applying hospital.
    #[arg(long = "as-hospital")]
    pub hospital: String,
    /// Why.
    #[arg(long)]
    pub reason: String,
}

#[derive(Debug, clap::Args)]
pub struct SpotCheckArgs {
    #[command(subcommand)]
    pub command: SpotCheckCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum SpotCheckCommand {
    /// Draw `spot_check_share` of the half-year's decided cases with a recorded seed.
    Draw {
        /// The half-year (`2025H1`).
        #[arg(long)]
        half: String,
        /// The seed (the same seed draws the same cases).
        #[arg(long)]
        seed: u64,
    },
    /// Assign a drawn case's re-review to an expert who took no part.
    Assign {
        /// The application.
        #[arg(long)]
        id: String,
        /// The drawn case's token.
        #[arg(long)]
        case: String,
        /// The expert.
        #[arg(long)]
        reviewer: String,
    },
}

#[derive(Debug, clap::Args)]
pub struct NoticeArgs {
    /// The half-year (`2025H1`).
    #[arg(long)]
    pub half: String,
}

#[derive(Debug, clap::Args)]
pub struct RoundsArgs {
    /// The review period (default: that of the next round).
    #[arg(long)]
    pub period: Option<String>,
    /// The day the next round is reckoned from (default: today).
    #[arg(long)]
    pub today: Option<String>,
}

/// The region, DRG or DIP.
enum Loaded {
    Drg(Box<Region>),
    Dip(Box<DipRegion>),
}

impl Loaded {
    fn pricing(&self) -> Pricing<'_> {
        match self {
            Loaded::Drg(r) => Pricing::Drg(r),
            Loaded::Dip(r) => Pricing::Dip(r),
        }
    }
}

fn load(shared: &SharedOpts, o: &RegionOpts) -> Result<Loaded> {
    let params = o
        .params
        .clone()
        .ok_or_else(|| anyhow!("--params FILE is required (the region's parameter file)"))?;
    let hospitals = o
        .hospitals
        .clone()
        .ok_or_else(|| anyhow!("--hospitals FILE is required"))?;
    let env = shared.resolve()?;
    let mut registry = env.registry()?;
    if let Some(library) = &o.library {
        let files = DipFiles {
            params,
            hospitals,
            library: library.clone(),
        };
        return Ok(Loaded::Dip(Box::new(DipRegion::load(
            &mut registry,
            &files,
        )?)));
    }
    let files = RegionFiles {
        params,
        hospitals,
        weights: weights_from(o.weights.as_deref(), o.history.as_deref()),
        point_value: parse_point_value(o.point_value.as_deref())?,
    };
    Ok(Loaded::Drg(Box::new(Region::load(
        &mut registry,
        &files,
        o.input_opts.batch(Purpose::Weights, Lang::En),
    )?)))
}

fn read_experts(path: Option<&Path>) -> Result<Experts> {
    match path {
        None => Ok(Experts::default()),
        Some(p) => {
            let text = read_text(p, "experts file")?;
            Experts::parse(&text).map_err(|e| anyhow!("{}: {e}", p.display()))
        }
    }
}

fn today(arg: Option<&str>) -> Result<Date> {
    match arg {
        Some(t) => t.parse().map_err(|e| anyhow!("--today {t:?}: {e}")),
        None => drgdip_store::rfc3339(std::time::SystemTime::now())[..10]
            .parse()
            .map_err(|e| anyhow!("the system date: {e}")),
    }
}

fn period(text: &str) -> Result<Period> {
    text.parse().map_err(|e| anyhow!("--period {text:?}: {e}"))
}

fn half(text: &str) -> Result<HalfYear> {
    text.parse().map_err(|e| anyhow!("--half {text:?}: {e}"))
}

/// A refusal as the command reports it.
fn refused(e: ReviewError) -> anyhow::Error {
    anyhow!("refused: {e}")
}

/// Reads a review's opinions: `case,outcome,points,reason`; each defect names the line,
/// the field and the value.
fn read_opinions(path: &Path) -> Result<Vec<CaseOpinion>> {
    let text = read_text(path, "opinions file")?;
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let header = rdr.headers()?.clone();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h.trim() == name)
            .ok_or_else(|| anyhow!("{}: line 1: no column {name:?}", path.display()))
    };
    let (c_case, c_out, c_reason) = (col("case")?, col("outcome")?, col("reason")?);
    let c_points = col("points").ok();
    let mut out = Vec::new();
    for (i, r) in rdr.records().enumerate() {
        let line = i + 2;
        let r = r.with_context(|| format!("{}: line {line}", path.display()))?;
        let get = |c: usize| r.get(c).unwrap_or("").trim().to_string();
        let at = |field: &str, value: &str, what: &str| {
            anyhow!(
                "{}: line {line}: field {field} {value:?}: {what}",
                path.display()
            )
        };
        let outcome = match get(c_out).as_str() {
            "per_item" => Outcome::ApprovedPerItem,
            "rejected" => Outcome::Rejected,
            "extra_points" => {
                let raw = c_points.map(get).unwrap_or_default();
                let points = raw
                    .parse::<Decimal>()
                    .map_err(|_| at("points", &raw, "expected a number above zero"))?;
                Outcome::ApprovedExtraPoints { points }
            }
            other => {
                return Err(at(
                    "outcome",
                    other,
                    "expected per_item, extra_points or rejected",
                ))
            }
        };
        out.push(CaseOpinion {
            case: get(c_case),
            outcome,
            reason: get(c_reason),
        });
    }
    Ok(out)
}

fn summary(a: &Application) -> String {
    format!(
        "{} {} {} {}: {} cases, {}",
        a.id(),
        a.hospital_id(),
        a.period(),
        a.reason(),
        a.cases().len(),
        a.state()
    )
}

pub fn run(args: SpecialArgs) -> Result<()> {
    let region = load(&args.shared, &args.region)?;
    let experts = read_experts(args.region.experts.as_deref())?;
    let bureau = Actor::bureau(args.region.actor.clone());
    let needs_experts = matches!(
        args.command,
        SpecialCommand::Assign(_)
            | SpecialCommand::Propose(_)
            | SpecialCommand::Review(_)
            | SpecialCommand::SpotCheck(SpotCheckArgs {
                command: SpotCheckCommand::Assign { .. }
            })
    );
    if needs_experts && experts.is_empty() {
        bail!("--experts FILE is required: the experts registry (expert_id,name,discipline,hospital_id,title)");
    }
    block_on(async {
        let store = open_store(&args.db).await?;
        let desk = Desk {
            store: &store,
            pricing: region.pricing(),
            experts: &experts,
        };
        let result = step(&desk, &bureau, args.command).await;
        store.close().await;
        result
    })
}

async fn step(desk: &Desk<'_>, bureau: &Actor, command: SpecialCommand) -> Result<()> {
    match command {
        SpecialCommand::Submit(a) => {
            let reason = ReasonKind::parse(&a.reason).ok_or_else(|| {
                anyhow!(
                    "--reason {:?}: expected one of {}",
                    a.reason,
                    ReasonKind::ALL.map(ReasonKind::as_str).join(", ")
                )
            })?;
            let file = read_text(&a.records, "case file")?;
            let records = case_rows(&file, &a.cases).map_err(refused)?;
            let actor = Actor::hospital(a.hospital.clone(), a.hospital.clone());
            let request = SubmitRequest {
                period: period(&a.period)?,
                case_ids: a.cases,
                reason,
                text: a.text,
                records,
            };
            let s = desk.submit(&actor, request).await.map_err(refused)?;
            println!("{}", summary(&s.application));
            println!("  {}", s.quota);
            for c in s.application.cases() {
                println!("  {} = case {}", c.token, c.case_id);
            }
        }
        SpecialCommand::List(a) => {
            let p = a.period.as_deref().map(period).transpose()?;
            let apps = desk.store.applications(a.hospital.as_deref(), p).await?;
            for app in &apps {
                println!("{}", summary(app));
            }
            println!("{} applications", apps.len());
            let rounds = desk.rounds(p, today(a.today.as_deref())?);
            print_rounds(&rounds);
        }
        SpecialCommand::Show(a) => {
            let app = desk.load(&a.id).await.map_err(refused)?;
            let json = match (a.hospital, a.reviewer) {
                (Some(h), _) => {
                    let v = app
                        .hospital_view(&Actor::hospital(h.clone(), h))
                        .map_err(|e| refused(e.into()))?;
                    serde_json::to_string_pretty(&v)?
                }
                (None, Some(r)) => {
                    let v = app
                        .reviewer_view(&Actor::reviewer(r))
                        .map_err(|e| refused(e.into()))?;
                    serde_json::to_string_pretty(&v)?
                }
                (None, None) => serde_json::to_string_pretty(&app)?,
            };
            println!("{json}");
        }
        SpecialCommand::Assign(a) => {
            let app = desk
                .assign(bureau, &a.id, &a.reviewers)
                .await
                .map_err(refused)?;
            println!("{}", summary(&app));
            println!("  first reviewers: {}", app.first_reviewers().join(", "));
            if let Some(r) = app.second_reviewer() {
                println!("  second reviewer: {r}");
            }
        }
        SpecialCommand::Propose(a) => {
            let ids = desk
                .propose(&a.id, a.discipline.as_deref())
                .await
                .map_err(refused)?;
            println!("{}", ids.join(" "));
        }
        SpecialCommand::Review(a) => {
            let opinions = read_opinions(&a.opinions)?;
            let actor = Actor::reviewer(a.reviewer);
            let r = desk
                .review(&actor, &a.id, opinions)
                .await
                .map_err(refused)?;
            println!("{}", summary(&r.application));
            let disagreements = r.application.disagreements();
            if r.application.state() == drgdip_settle::ReviewState::FirstReviewed
                && !disagreements.is_empty()
            {
                println!(
                    "  the first reviewers disagree on {}: the second review decides",
                    disagreements.join(", ")
                );
            }
            for adj in &r.adjustments {
                println!(
                    "  adjustment {}: {} case {} of {}: fund_due {} → {} ({:+}), pending for the next statement",
                    adj.id,
                    adj.hospital_id,
                    adj.case_id,
                    adj.case_month,
                    adj.old_fund_due,
                    adj.new_fund_due,
                    adj.difference
                );
            }
        }
        SpecialCommand::Withdraw(a) => {
            let actor = Actor::hospital(a.hospital.clone(), a.hospital);
            let app = desk
                .withdraw(&actor, &a.id, &a.reason)
                .await
                .map_err(refused)?;
            println!("{}", summary(&app));
        }
        SpecialCommand::SpotCheck(SpotCheckArgs { command }) => match command {
            SpotCheckCommand::Draw { half: h, seed } => {
                let d = desk.draw(bureau, half(&h)?, seed).await.map_err(refused)?;
                println!(
                    "{}: {} of {} decided cases drawn (share {}, seed {})",
                    d.half,
                    d.drawn.len(),
                    d.decided_cases,
                    d.share,
                    d.seed
                );
                for c in &d.drawn {
                    println!("  {} {}", c.application_id, c.case);
                }
            }
            SpotCheckCommand::Assign { id, case, reviewer } => {
                let app = desk
                    .assign_spot_check(bureau, &id, &case, &reviewer)
                    .await
                    .map_err(refused)?;
                println!("{}: spot check of {case} assigned to {reviewer}", app.id());
            }
        },
        SpecialCommand::Notice(a) => {
            let n = desk.notice(half(&a.half)?).await.map_err(refused)?;
            for r in &n.rows {
                println!("{r}");
            }
            println!("{}", n.totals);
            let seeds: Vec<String> = n.spot_check_seeds.iter().map(u64::to_string).collect();
            println!(
                "spot-check seeds: {}",
                if seeds.is_empty() {
                    "none".to_string()
                } else {
                    seeds.join(", ")
                }
            );
        }
        SpecialCommand::Rounds(a) => {
            let p = a.period.as_deref().map(period).transpose()?;
            print_rounds(&desk.rounds(p, today(a.today.as_deref())?));
        }
    }
    Ok(())
}

fn print_rounds(r: &drgdip_engine::special_case::Rounds) {
    let line = |x: &drgdip_settle::ReviewRound| {
        format!(
            "{} (cases through {}): applications {} – {}, reviewed by {}",
            x.period, x.cases_through, x.applications_open, x.applications_close, x.review_by
        )
    };
    for x in &r.rounds {
        println!("round {}", line(x));
    }
    println!("next round {}", line(&r.next));
}
