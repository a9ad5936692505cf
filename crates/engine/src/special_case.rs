//! 特例单议 — the special-case review as a use case, over the ledger (`payment-model.md` §5):
//! submit within the region's quota with each case's record captured, assign experts
//! without a conflict of interest, record the reviews, draw and record the half-yearly spot
//! checks (a reversal becomes an adjustment for the hospital's next statement), the review
//! rounds and the half-yearly notice. Every front end (the CLI, the server) calls these
//! functions; they print nothing, and every change they make is written with its audit
//! events in one transaction. A refusal for a conflict of interest, or of a hospital's
//! attempt on another hospital's case, is audited too.
//!
//! **The record of a case.** The ledger keeps what priced a case (its group, weight or score
//! and money), not its codes, age or costs by kind. So a submission carries the case rows of
//! the settled month's case file (its header and the rows of the applied cases): each row is
//! read and priced again under the region as the month was, and it must give the ledger's
//! total cost and (for a case not already special) its fund_due, so that reviewers judge the
//! case that was settled. The application keeps each row (for re-pricing a reversal) and the
//! reviewer's record of it ([`CaseRecordView`]): codes with their catalog names, age, sex,
//! stay, discharge kind, ventilation, the costs, the group with its name, weight and
//! standard, the ordinary payment and cost / standard. Nothing of it names the hospital.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use drgdip_io::{CaseReader, Purpose, ReadOptions, RowOutcome};
use drgdip_pay::params::{Method, ReviewPeriod};
use drgdip_pay::{Params, SpecialApproval};
use drgdip_settle::special_case::spot_check::SpotCheckDraw;
use drgdip_settle::{
    check_quota, draw_spot_checks, half_year_notice, next_round, review_rounds, Action, Actor,
    Adjustment, Application, ApplicationRequest, AuditEvent, CaseOpinion, CaseRecordView, CodeName,
    Command, Date, Experts, HalfYear, Notice, Period, Quota, QuotaBase, ReasonKind, ReviewRound,
    ReviewRules, ReviewState, Role, SettledCase, SpecialCaseError, YearMonth,
};
use drgdip_store::{LedgerCase, Store};
use rust_decimal::Decimal;
use thiserror::Error;

use crate::dip::{score_row, DipRegion, DipRow};
use crate::error::EngineError;
use crate::pricing::{PricedRow, Pricer, SpecialCases};
use crate::region::Region;

/// Why a step of the review was refused.
#[derive(Debug, Error)]
pub enum ReviewError {
    /// A rule of the review (quota, state, role, conflict of interest, opinions).
    #[error(transparent)]
    Rule(#[from] SpecialCaseError),
    /// Something named does not exist (an application, a settled case).
    #[error("{message}")]
    NotFound {
        /// What.
        message: String,
        /// The input field that named it.
        field: Option<String>,
    },
    /// A hospital asked for another hospital's case or application (audited).
    #[error("{message}")]
    Forbidden {
        /// What the caller is told (never the other hospital).
        message: String,
    },
    /// The request conflicts with the ledger (a case already applied for, a case not paid,
    /// a half-year already drawn).
    #[error("{message}")]
    Conflict {
        /// Why.
        message: String,
        /// The input field.
        field: Option<String>,
    },
    /// An input is malformed (a record row, a reviewer list): field and message.
    #[error("{field}: {message}")]
    BadInput {
        /// The field.
        field: String,
        /// What is wrong (line, field, value).
        message: String,
    },
    /// The ledger or the region failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl From<drgdip_store::StoreError> for ReviewError {
    fn from(e: drgdip_store::StoreError) -> ReviewError {
        ReviewError::Engine(EngineError::Store(e))
    }
}

fn bad(field: impl Into<String>, message: impl Into<String>) -> ReviewError {
    ReviewError::BadInput {
        field: field.into(),
        message: message.into(),
    }
}

/// How the region prices a case: a DRG region or a DIP region.
#[derive(Clone, Copy)]
pub enum Pricing<'a> {
    /// A DRG region.
    Drg(&'a Region),
    /// A DIP region.
    Dip(&'a DipRegion),
}

impl<'a> Pricing<'a> {
    /// The region's parameters.
    pub fn params(&self) -> &'a Params {
        match self {
            Pricing::Drg(r) => &r.params,
            Pricing::Dip(r) => &r.params,
        }
    }

    fn scheme(&self) -> &'a drgdip_scheme::Scheme {
        match self {
            Pricing::Drg(r) => &r.scheme,
            Pricing::Dip(r) => &r.scheme,
        }
    }

    fn purpose(&self) -> Purpose {
        match self {
            Pricing::Drg(_) => Purpose::Pay,
            Pricing::Dip(_) => Purpose::DipScore,
        }
    }
}

/// The review desk: the ledger, the region and the expert registry.
#[derive(Clone, Copy)]
pub struct Desk<'a> {
    /// The ledger.
    pub store: &'a Store,
    /// The region.
    pub pricing: Pricing<'a>,
    /// The experts (专家组).
    pub experts: &'a Experts,
}

/// What a hospital submits.
#[derive(Debug, Clone)]
pub struct SubmitRequest {
    /// The review period of the cases.
    pub period: Period,
    /// The cases.
    pub case_ids: Vec<String>,
    /// The kind of reason.
    pub reason: ReasonKind,
    /// The reason in words (the hospital is told not to name itself).
    pub text: String,
    /// The settled month's case file rows of the cases: a header and one row per case.
    pub records: String,
}

/// A submission that passed.
#[derive(Debug, Clone)]
pub struct Submitted {
    /// The application, as stored.
    pub application: Application,
    /// The quota it was checked against.
    pub quota: Quota,
}

/// A review step that passed.
#[derive(Debug, Clone)]
pub struct Reviewed {
    /// The application, as stored.
    pub application: Application,
    /// The adjustments a spot check's reversal recorded (pending for the next statement).
    pub adjustments: Vec<Adjustment>,
}

/// The review rounds of a period and the next round.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Rounds {
    /// The rounds of the period asked for (or of the period of the next round).
    pub rounds: Vec<ReviewRound>,
    /// The next round as of the day asked for.
    pub next: ReviewRound,
}

impl<'a> Desk<'a> {
    /// The region's parameters.
    pub fn params(&self) -> &'a Params {
        self.pricing.params()
    }

    fn rules(&self) -> ReviewRules<'a> {
        ReviewRules::new(self.params(), self.experts)
    }

    fn method(&self) -> Method {
        self.params().region.method
    }

    /// Records refusals in the audit log, then returns `e`.
    async fn refused(&self, events: Vec<AuditEvent>, e: ReviewError) -> ReviewError {
        match self.store.append_audit(&events).await {
            Ok(()) => e,
            Err(store) => store.into(),
        }
    }

    async fn conflict_refused(&self, actor: &Actor, id: &str, e: SpecialCaseError) -> ReviewError {
        if e.is_conflict_of_interest() {
            let event = AuditEvent::new(
                actor,
                Action::ConflictOfInterestRefused,
                id.to_string(),
                e.to_string(),
            );
            return self.refused(vec![event], e.into()).await;
        }
        e.into()
    }

    /// The application `id`.
    pub async fn load(&self, id: &str) -> Result<Application, ReviewError> {
        self.store
            .application(id)
            .await?
            .ok_or_else(|| ReviewError::NotFound {
                message: format!("no application {id:?}"),
                field: None,
            })
    }

    /// The review rounds of `period` (default: that of the next round) and the next round as
    /// of `today`.
    pub fn rounds(&self, period: Option<Period>, today: Date) -> Rounds {
        let s = &self.params().special_case;
        let day = self.params().settlement.declaration_day;
        let next = next_round(s.review_period, today, day);
        let period = period.unwrap_or(next.period);
        Rounds {
            rounds: review_rounds(s.review_period, period, day),
            next,
        }
    }

    /// A hospital submits cases of its own, settled in `request.period` so far, within the
    /// region's quota, with their records (see the module documentation).
    pub async fn submit(
        &self,
        actor: &Actor,
        request: SubmitRequest,
    ) -> Result<Submitted, ReviewError> {
        let params = self.params();
        let Some(own) = actor.hospital_id().map(str::to_string) else {
            return Err(SpecialCaseError::NotAllowed {
                actor: actor.to_string(),
                what: "submit",
                application_id: String::new(),
            }
            .into());
        };
        let period = request.period;
        let expected = params.special_case.review_period;
        if period.kind() != expected {
            return Err(SpecialCaseError::WrongPeriodKind { period, expected }.into());
        }
        let ledger = self.store.ledger_cases(Some(period), None).await?;
        let settled: Vec<&SettledCase> = ledger.iter().map(|c| &c.case).collect();
        let mine: HashMap<&str, &LedgerCase> = ledger
            .iter()
            .filter(|c| c.case.hospital_id == own)
            .map(|c| (c.case.case_id.as_str(), c))
            .collect();
        for (i, id) in request.case_ids.iter().enumerate() {
            let field = format!("case_ids[{i}]");
            match mine.get(id.as_str()) {
                Some(c) if c.case.category == drgdip_pay::Category::Invalid => {
                    return Err(ReviewError::Conflict {
                        message: format!("case {id} failed validation and was not paid"),
                        field: Some(field),
                    })
                }
                Some(_) => {}
                None => {
                    if let Some(other) = ledger.iter().find(|c| c.case.case_id == *id) {
                        let event = AuditEvent::new(
                            actor,
                            Action::AccessRefused,
                            format!("case {id}"),
                            format!(
                                "submit special cases: case {id} is not a case of hospital {own} (it belongs to {}); a hospital applies only for its own cases",
                                other.case.hospital_id
                            ),
                        );
                        let e = ReviewError::Forbidden {
                            message: format!("case {id} is not a case of hospital {own}"),
                        };
                        return Err(self.refused(vec![event], e).await);
                    }
                    return Err(ReviewError::NotFound {
                        message: format!("case {id} is not a settled case discharged in {period}"),
                        field: Some(field),
                    });
                }
            }
        }
        let earlier = self.store.applications(None, Some(period)).await?;
        let (mut region_applied, mut hospital_applied) = (0u64, 0u64);
        for a in earlier
            .iter()
            .filter(|a| a.state() != ReviewState::Withdrawn)
        {
            let n = a.cases().len() as u64;
            region_applied += n;
            if a.hospital_id() == own {
                hospital_applied += n;
                if let Some(i) = request.case_ids.iter().position(|c| a.contains_case(c)) {
                    return Err(ReviewError::Conflict {
                        message: format!(
                            "case {} is already in application {} of {period}",
                            request.case_ids[i],
                            a.id()
                        ),
                        field: Some(format!("case_ids[{i}]")),
                    });
                }
            }
        }
        let base = QuotaBase {
            method: self.method(),
            region_settled: drgdip_settle::settled_cases_in_period(
                settled.iter().copied(),
                None,
                period,
            ),
            hospital_settled: drgdip_settle::settled_cases_in_period(
                settled.iter().copied(),
                Some(&own),
                period,
            ),
            region_applied,
            hospital_applied,
        };
        // refused on the numbers before the records are read
        let unique: BTreeSet<&str> = request.case_ids.iter().map(String::as_str).collect();
        let quota = check_quota(params, base, unique.len() as u64)?;
        let records = self
            .capture(&request.records, &own, &request.case_ids, &mine)
            .await?;
        let id = self.store.next_application_id().await?;
        let audited = Application::submit(
            actor,
            ApplicationRequest {
                id,
                hospital_id: own,
                period,
                case_ids: request.case_ids,
                reason: request.reason,
                text: request.text,
                records,
            },
            params,
            base,
        )?;
        let checked: Vec<(String, String)> = earlier
            .iter()
            .map(|a| (a.id().to_string(), a.state().as_str().to_string()))
            .collect();
        self.store
            .submit_application(&audited.value, &audited.events, &checked)
            .await
            .map_err(|e| match e {
                drgdip_store::StoreError::Invalid(message) => ReviewError::Conflict {
                    message,
                    field: None,
                },
                e => e.into(),
            })?;
        Ok(Submitted {
            application: audited.value,
            quota,
        })
    }

    /// The point value a DIP case was settled at (its run's), or 0 for a DRG region.
    async fn point_value_of(&self, case: &LedgerCase) -> Result<Decimal, ReviewError> {
        if matches!(self.pricing, Pricing::Drg(_)) {
            return Ok(Decimal::ZERO);
        }
        let runs = self
            .store
            .settlement_runs(Some(case.case.discharge_month))
            .await?;
        runs.iter()
            .find(|r| r.run_id == case.run_id)
            .and_then(|r| r.inputs.point_value.parse::<Decimal>().ok())
            .ok_or_else(|| {
                ReviewError::Engine(crate::invalid!(
                    "the ledger has no point value for run {} (case {})",
                    case.run_id,
                    case.case.case_id
                ))
            })
    }

    /// Reads the rows of `text` (a header and one row per case of `case_ids`), prices each
    /// and checks it against the ledger.
    async fn capture(
        &self,
        text: &str,
        own: &str,
        case_ids: &[String],
        ledger: &HashMap<&str, &LedgerCase>,
    ) -> Result<BTreeMap<String, (CaseRecordView, String)>, ReviewError> {
        const FIELD: &str = "records";
        let wanted: BTreeSet<&str> = case_ids.iter().map(String::as_str).collect();
        let header = text.lines().next().unwrap_or("").trim_end_matches('\r');
        let mut reader = CaseReader::new(text.as_bytes(), false);
        let cols = reader
            .columns(ReadOptions::for_purpose(self.pricing.purpose()))
            .map_err(|e| bad(FIELD, format!("line 1 (the header): {e}")))?;
        let lines: Vec<&str> = text.lines().collect();
        let mut out = BTreeMap::new();
        while let Some(row) = reader.next_row().map_err(|e| bad(FIELD, e.to_string()))? {
            let line = row.line;
            let source_line = lines
                .get(line as usize - 1)
                .map(|l| l.trim_end_matches('\r'))
                .unwrap_or("");
            let scheme = self.pricing.scheme();
            let record = match row.read(&cols, &scheme.catalog) {
                RowOutcome::Valid(r) => *r,
                RowOutcome::Invalid { problems, .. } => {
                    let p = problems.first();
                    return Err(bad(
                        FIELD,
                        match p {
                            Some(p) => format!(
                                "line {line}: field {} {:?}: {}",
                                p.field,
                                p.value,
                                p.message(drgdip_drg::Lang::En)
                            ),
                            None => format!("line {line}: the row is invalid"),
                        },
                    ));
                }
            };
            let id = record.case_id.clone();
            if !wanted.contains(id.as_str()) {
                return Err(bad(
                    FIELD,
                    format!("line {line}: field case_id {id:?}: not a case of the application"),
                ));
            }
            if out.contains_key(&id) {
                return Err(bad(
                    FIELD,
                    format!("line {line}: field case_id {id:?}: the case appears twice"),
                ));
            }
            if record.hospital_id != own {
                return Err(bad(
                    FIELD,
                    format!(
                        "line {line}: field hospital_id {:?}: expected {own}",
                        record.hospital_id
                    ),
                ));
            }
            let Some(settled) = ledger.get(id.as_str()) else {
                continue; // refused earlier
            };
            let pv = self.point_value_of(settled).await?;
            let priced =
                self.price(&cols, &row, &record, None, pv, settled.case.discharge_month)?;
            let l = &settled.case;
            let agrees = priced.settled.total_cost == l.total_cost
                && priced.settled.discharge_month == l.discharge_month
                && (l.category == drgdip_pay::Category::Special
                    || priced.settled.fund_due == l.fund_due);
            if !agrees {
                return Err(bad(
                    FIELD,
                    format!(
                        "line {line}: case {id}: the row gives total cost {} and fund_due {} in {}, the ledger {} and {} in {}: not the row the month was settled with",
                        priced.settled.total_cost,
                        priced.settled.fund_due,
                        priced.settled.discharge_month,
                        l.total_cost,
                        l.fund_due,
                        l.discharge_month
                    ),
                ));
            }
            let view = record_view(scheme, &record, &priced);
            out.insert(id, (view, format!("{header}\n{source_line}")));
        }
        if let Some(missing) = case_ids.iter().find(|c| !out.contains_key(*c)) {
            return Err(bad(
                FIELD,
                format!("no row for case {missing}: the records must hold the settled month's row of every case"),
            ));
        }
        Ok(out)
    }

    /// Prices one row under the region with `approval`, at `point_value` (DIP).
    fn price(
        &self,
        cols: &drgdip_io::Columns,
        row: &drgdip_io::RowIn,
        record: &drgdip_io::CaseRecord,
        approval: Option<SpecialApproval>,
        point_value: Decimal,
        month: YearMonth,
    ) -> Result<Priced, ReviewError> {
        let invalid = |problems: Vec<drgdip_io::Problem>| {
            let p = problems.first();
            bad(
                "records",
                match p {
                    Some(p) => format!(
                        "line {}: field {} {:?}: {}",
                        row.line,
                        p.field,
                        p.value,
                        p.message(drgdip_drg::Lang::En)
                    ),
                    None => format!("line {}: the row cannot be priced", row.line),
                },
            )
        };
        match self.pricing {
            Pricing::Drg(region) => {
                let mut special = SpecialCases::default();
                if let Some(a) = approval {
                    special.insert(&record.hospital_id, &record.case_id, a);
                }
                match Pricer::new(region, &special).price_record(record.clone()) {
                    PricedRow::Paid(pc) => {
                        let scheme = &region.scheme;
                        let group_name = scheme
                            .drg_by_code(&pc.drg)
                            .map(|i| scheme.drgs[i as usize].name.clone())
                            .unwrap_or_default();
                        Ok(Priced {
                            group: pc.drg.clone(),
                            group_name,
                            weight: pc.payment.weight,
                            standard: pc.payment.standard,
                            settled: pc.settled(month, scheme),
                        })
                    }
                    PricedRow::Invalid { problems, .. } => Err(invalid(problems)),
                }
            }
            Pricing::Dip(region) => match score_row(&region.scorer(), cols, row) {
                DipRow::Scored(s) => {
                    let settled = s.settled(month, &region.scheme, point_value, approval);
                    Ok(Priced {
                        group: s.score.group_id.clone().unwrap_or_default(),
                        group_name: String::new(),
                        weight: Some(s.score.case_score),
                        standard: s.score.case_score.checked_mul(point_value),
                        settled,
                    })
                }
                DipRow::Invalid { problems, .. } => Err(invalid(problems)),
            },
        }
    }

    /// The bureau assigns reviewers by the application's state: a `submitted` one its
    /// `first_review_experts` first reviewers, a `first_reviewed` one its second reviewer
    /// (exactly one). A conflict of interest is refused and audited.
    pub async fn assign(
        &self,
        actor: &Actor,
        id: &str,
        reviewer_ids: &[String],
    ) -> Result<Application, ReviewError> {
        let mut app = self.load(id).await?;
        let command = if app.state() == ReviewState::FirstReviewed {
            let [one] = reviewer_ids else {
                return Err(bad(
                    "reviewer_ids",
                    format!(
                        "the second review (复审) has one expert, found {}",
                        reviewer_ids.len()
                    ),
                ));
            };
            Command::AssignSecondReviewer {
                reviewer_id: one.clone(),
            }
        } else {
            Command::AssignFirstReviewers {
                reviewer_ids: reviewer_ids.to_vec(),
            }
        };
        let event = match app.apply(actor, command, &self.rules()) {
            Ok(e) => e,
            Err(e) => return Err(self.conflict_refused(actor, id, e).await),
        };
        self.store.save_application(&app, &[event]).await?;
        Ok(app)
    }

    /// The bureau proposes reviewers for the next assignment of `id`: registered experts
    /// without a conflict (not of the hospital, not of the first review), those whose
    /// discipline matches `discipline` first, then the least loaded (fewest open
    /// assignments), then by id. Nothing is assigned.
    pub async fn propose(
        &self,
        id: &str,
        discipline: Option<&str>,
    ) -> Result<Vec<String>, ReviewError> {
        let app = self.load(id).await?;
        let all = self.store.applications(None, None).await?;
        let mut load: HashMap<&str, usize> = HashMap::new();
        for a in all.iter().filter(|a| {
            matches!(
                a.state(),
                ReviewState::FirstReview | ReviewState::SecondReview
            )
        }) {
            for r in a.first_reviewers() {
                *load.entry(r).or_default() += 1;
            }
            if let Some(r) = a.second_reviewer() {
                *load.entry(r).or_default() += 1;
            }
        }
        let first = app.first_reviewers();
        let want = match app.state() {
            ReviewState::Submitted => self.params().special_case.first_review_experts as usize,
            ReviewState::FirstReviewed => 1,
            state => {
                return Err(ReviewError::Conflict {
                    message: format!("application {id} is {state}: no reviewer to assign"),
                    field: None,
                })
            }
        };
        let mut candidates: Vec<(bool, usize, &str)> = self
            .experts
            .iter()
            .filter(|e| e.hospital_id.as_deref() != Some(app.hospital_id()))
            .filter(|e| !first.contains(&e.id.as_str()))
            .map(|e| {
                let matches = discipline.is_some_and(|d| d == e.discipline);
                (
                    !matches,
                    load.get(e.id.as_str()).copied().unwrap_or(0),
                    e.id.as_str(),
                )
            })
            .collect();
        candidates.sort();
        Ok(candidates
            .into_iter()
            .take(want)
            .map(|(_, _, id)| id.to_string())
            .collect())
    }

    /// An assigned reviewer records its review: a first reviewer the first review, the
    /// second reviewer the decision, a spot-check expert the re-review of its drawn cases
    /// (one opinion per drawn case; a reversal of a case the ledger settled becomes an
    /// adjustment for the hospital's next statement). Anyone else is refused (audited).
    pub async fn review(
        &self,
        actor: &Actor,
        id: &str,
        opinions: Vec<CaseOpinion>,
    ) -> Result<Reviewed, ReviewError> {
        let mut app = self.load(id).await?;
        let rules = self.rules();
        let me = actor.id.as_str();
        let open_spot: Vec<String> = app
            .spot_checks()
            .iter()
            .filter(|s| s.reviewer.as_deref() == Some(me) && s.opinion.is_none())
            .map(|s| s.case.clone())
            .collect();
        let is_second =
            app.state() == ReviewState::SecondReview && app.second_reviewer() == Some(me);
        let is_first = app.first_reviewers().contains(&me);
        if actor.role == Role::Reviewer && !is_second && !is_first && open_spot.is_empty() {
            let event = AuditEvent::new(
                actor,
                Action::AccessRefused,
                id.to_string(),
                format!(
                    "review special case: {actor} is not a reviewer assigned to application {id}"
                ),
            );
            let e = ReviewError::Forbidden {
                message: format!("{actor} is not a reviewer assigned to application {id}"),
            };
            return Err(self.refused(vec![event], e).await);
        }
        let mut events = Vec::new();
        let mut reversed = Vec::new();
        if is_second {
            events.push(app.apply(
                actor,
                Command::RecordSecondReview {
                    decisions: opinions,
                },
                &rules,
            )?);
        } else if !open_spot.is_empty() && !is_first {
            let asked: BTreeSet<&str> = opinions.iter().map(|o| o.case.as_str()).collect();
            if let Some(missing) = open_spot.iter().find(|c| !asked.contains(c.as_str())) {
                return Err(SpecialCaseError::MissingOpinion {
                    application_id: id.to_string(),
                    case: missing.clone(),
                }
                .into());
            }
            for opinion in opinions {
                let case = opinion.case.clone();
                events.push(app.apply(actor, Command::RecordSpotCheck { opinion }, &rules)?);
                if app
                    .spot_checks()
                    .iter()
                    .rev()
                    .find(|s| s.case == case)
                    .is_some_and(|s| s.is_reversal())
                {
                    reversed.push(case);
                }
            }
        } else {
            events.push(app.apply(actor, Command::RecordFirstReview { opinions }, &rules)?);
        }
        let mut adjustments = Vec::new();
        for token in &reversed {
            if let Some(a) = self.reversal_adjustment(&app, token).await? {
                events.push(
                    AuditEvent::new(
                        actor,
                        Action::SpotCheckAdjustment,
                        format!("{}/{}", a.hospital_id, a.case_month),
                        format!(
                            "spot check (抽查复核) of {} case {token} reversed: fund_due {} → {}, Σ {} (补差) carried onto the hospital's next statement; the paid month stays as it was",
                            app.id(),
                            a.old_fund_due,
                            a.new_fund_due,
                            drgdip_pay::money::Fen(a.difference)
                        ),
                    )
                    .after(format!("difference={}", drgdip_pay::money::Fen(a.difference))),
                );
                adjustments.push(a);
            }
        }
        let adjustments = self
            .store
            .save_application_with_adjustments(&app, &events, &adjustments)
            .await?;
        Ok(Reviewed {
            application: app,
            adjustments,
        })
    }

    /// The adjustment of a reversed case: its fund_due re-priced with the final outcome
    /// against the ledger's; `None` when the ledger has not settled it or nothing changes.
    async fn reversal_adjustment(
        &self,
        app: &Application,
        token: &str,
    ) -> Result<Option<Adjustment>, ReviewError> {
        let Some(case) = app.case_of(token) else {
            return Ok(None);
        };
        let Some(source) = case.source.as_deref() else {
            return Ok(None);
        };
        let ledger = self
            .store
            .ledger_cases(Some(app.period()), Some(app.hospital_id()))
            .await?;
        let Some(settled) = ledger.iter().find(|c| c.case.case_id == case.case_id) else {
            return Ok(None);
        };
        let approval = app.final_outcome(token).and_then(|o| o.approval());
        let mut reader = CaseReader::new(source.as_bytes(), false);
        let cols = reader
            .columns(ReadOptions::for_purpose(self.pricing.purpose()))
            .map_err(|e| bad("records", e.to_string()))?;
        let Some(row) = reader
            .next_row()
            .map_err(|e| bad("records", e.to_string()))?
        else {
            return Ok(None);
        };
        let RowOutcome::Valid(record) = row.read(&cols, &self.pricing.scheme().catalog) else {
            return Ok(None);
        };
        let pv = self.point_value_of(settled).await?;
        let month = settled.case.discharge_month;
        let priced = self.price(&cols, &row, &record, approval, pv, month)?;
        // what the hospital has been paid for the case, or has coming: the ledger's line and
        // the adjustments of the case already recorded (a re-run's, an earlier reversal's)
        let mut old = settled.case.fund_due;
        for (a, _) in self.store.adjustments(Some(app.hospital_id())).await? {
            if a.case_id == case.case_id && a.case_month == month {
                old = old.checked_add(a.difference).unwrap_or(old);
            }
        }
        let new = priced.settled.fund_due;
        let Some(difference) = new.checked_sub(old).filter(|d| !d.is_zero()) else {
            return Ok(None);
        };
        Ok(Some(Adjustment {
            id: 0,
            hospital_id: app.hospital_id().to_string(),
            case_id: case.case_id.clone(),
            case_month: month,
            old_fund_due: old,
            new_fund_due: new,
            difference,
            run_id: settled.run_id,
        }))
    }

    /// The bureau draws the spot checks (抽查复核) of `half` with `seed`: once per
    /// half-year; every drawn case is marked on its application (audited, the seed in each
    /// event).
    pub async fn draw(
        &self,
        actor: &Actor,
        half: HalfYear,
        seed: u64,
    ) -> Result<SpotCheckDraw, ReviewError> {
        if actor.role != Role::Bureau {
            return Err(SpecialCaseError::NotAllowed {
                actor: actor.to_string(),
                what: "draw spot checks",
                application_id: String::new(),
            }
            .into());
        }
        let mut apps = self.store.applications(None, None).await?;
        if let Some(s) = apps
            .iter()
            .flat_map(|a| a.spot_checks())
            .find(|s| s.half == half)
        {
            return Err(ReviewError::Conflict {
                message: format!(
                    "the spot checks of {half} were already drawn (seed {}): a half-year is drawn once",
                    s.seed
                ),
                field: Some("half".into()),
            });
        }
        let share = self.params().special_case.spot_check_share;
        let draw = draw_spot_checks(apps.iter(), half, share, seed);
        let mut by_app: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for d in &draw.drawn {
            by_app
                .entry(d.application_id.as_str())
                .or_default()
                .push(d.case.as_str());
        }
        for app in apps.iter_mut() {
            let Some(tokens) = by_app.get(app.id()) else {
                continue;
            };
            let mut events = Vec::new();
            for t in tokens {
                events.push(app.draw_spot_check(actor, t, half, seed)?);
            }
            self.store.save_application(app, &events).await?;
        }
        Ok(draw)
    }

    /// The bureau assigns a drawn case's re-review to an expert who took no part in its
    /// review and has no conflict (a conflict is refused and audited).
    pub async fn assign_spot_check(
        &self,
        actor: &Actor,
        id: &str,
        case: &str,
        reviewer_id: &str,
    ) -> Result<Application, ReviewError> {
        let mut app = self.load(id).await?;
        let command = Command::AssignSpotCheck {
            case: case.to_string(),
            reviewer_id: reviewer_id.to_string(),
        };
        let event = match app.apply(actor, command, &self.rules()) {
            Ok(e) => e,
            Err(e) => return Err(self.conflict_refused(actor, id, e).await),
        };
        self.store.save_application(&app, &[event]).await?;
        Ok(app)
    }

    /// The hospital withdraws its application.
    pub async fn withdraw(
        &self,
        actor: &Actor,
        id: &str,
        reason: &str,
    ) -> Result<Application, ReviewError> {
        let mut app = self.load(id).await?;
        if actor.hospital_id().is_some() && actor.hospital_id() != Some(app.hospital_id()) {
            return Err(self.foreign(actor, &app, "withdraw special case").await);
        }
        let event = app.apply(
            actor,
            Command::Withdraw {
                reason: reason.trim().to_string(),
            },
            &self.rules(),
        )?;
        self.store.save_application(&app, &[event]).await?;
        Ok(app)
    }

    /// A hospital's attempt on another hospital's application, refused and audited.
    pub async fn foreign(&self, actor: &Actor, app: &Application, what: &str) -> ReviewError {
        let event = AuditEvent::new(
            actor,
            Action::AccessRefused,
            app.id().to_string(),
            format!(
                "{what}: application {} is not of hospital {}",
                app.id(),
                actor.hospital_id().unwrap_or("?")
            ),
        );
        let e = ReviewError::Forbidden {
            message: format!(
                "application {} is not of hospital {}",
                app.id(),
                actor.hospital_id().unwrap_or("?")
            ),
        };
        self.refused(vec![event], e).await
    }

    /// The half-yearly notice of `half`: every hospital of the region's hospitals file has
    /// a row.
    pub async fn notice(&self, half: HalfYear) -> Result<Notice, ReviewError> {
        let apps = self.store.applications(None, None).await?;
        let hospitals = match self.pricing {
            Pricing::Drg(r) => &r.hospitals,
            Pricing::Dip(r) => &r.hospitals,
        };
        let ids: Vec<&str> = hospitals.iter().map(|h| h.hospital_id.as_str()).collect();
        Ok(half_year_notice(&apps, half, &ids)?)
    }
}

/// What pricing a row gave.
struct Priced {
    group: String,
    group_name: String,
    weight: Option<Decimal>,
    standard: Option<Decimal>,
    settled: SettledCase,
}

/// The reviewer's record of a case.
fn record_view(
    scheme: &drgdip_scheme::Scheme,
    r: &drgdip_io::CaseRecord,
    p: &Priced,
) -> CaseRecordView {
    let (dx, px) = (&scheme.catalog.diagnoses, &scheme.catalog.procedures);
    let name = |code: &str, name: &str| CodeName {
        code: code.to_string(),
        name: name.to_string(),
    };
    let cost_ratio = p
        .standard
        .filter(|s| !s.is_zero())
        .and_then(|s| p.settled.total_cost.checked_div(s).map(|d| d.round_dp(4)));
    CaseRecordView {
        discharge_month: p.settled.discharge_month,
        age_years: r.age_years,
        age_days: r.age_days,
        sex: match r.gender {
            Some(drgdip_scheme::Gender::Male) => "male".into(),
            Some(drgdip_scheme::Gender::Female) => "female".into(),
            None => String::new(),
        },
        stay_days: r.los,
        discharge_kind: r.discharge_way.clone(),
        ventilation_hours: r.vent_hours,
        diagnoses: r
            .diagnoses
            .iter()
            .map(|&d| name(dx.code(d), dx.name(d)))
            .collect(),
        procedures: r
            .procedures
            .iter()
            .map(|&d| name(px.code(d), px.name(d)))
            .collect(),
        total_cost: p.settled.total_cost,
        drug_cost: r.drug_cost,
        material_cost: r.material_cost,
        fund_paid: p.settled.fund_paid,
        group: p.group.clone(),
        group_name: p.group_name.clone(),
        weight: p.weight,
        standard: p.standard.map(|s| {
            let mut s = drgdip_pay::money::round_fen(s);
            s.rescale(2);
            s
        }),
        category: p.settled.category,
        ordinary_payment: p.settled.payment,
        cost_ratio,
    }
}

/// The review period of `kind` containing `month` (for a front end's default).
pub fn period_of(kind: ReviewPeriod, month: YearMonth) -> Period {
    Period::containing(kind, month)
}

/// The header and the rows of `case_ids` of a case file's text (one row a line), for a
/// submission's `records`: what a front end sends when it has the whole month's file.
pub fn case_rows(text: &str, case_ids: &[String]) -> Result<String, ReviewError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text.lines();
    let header = lines.next().unwrap_or("").trim_end_matches('\r');
    let column = header
        .split(',')
        .position(|h| h.trim().eq_ignore_ascii_case("case_id"))
        .ok_or_else(|| bad("records", "line 1 (the header): no column case_id"))?;
    let wanted: BTreeSet<&str> = case_ids.iter().map(String::as_str).collect();
    let mut out = String::from(header);
    out.push('\n');
    for line in lines {
        let line = line.trim_end_matches('\r');
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(line.as_bytes());
        let Some(Ok(record)) = rdr.records().next() else {
            continue;
        };
        if record
            .get(column)
            .is_some_and(|id| wanted.contains(id.trim()))
        {
            out.push_str(line);
            out.push('\n');
        }
    }
    Ok(out)
}
