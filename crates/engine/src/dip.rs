//! A DIP region (按病种分值付费, `payment-model.md` §3–§4, §6): loaded once (parameters, the DRG
//! scheme whose severity and procedure lists DIP reads, the exclusion catalogue, the disease
//! library, hospitals), each case scored, a month settled at its provisional point value and
//! the year cleared at the year's value — both solved so that the fund spends the budget
//! (`drgdip_dip::solve_point_value`), cross-province cases outside and paid per item.

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use drgdip_dip::files::{AUX_FILE, GROUPS_FILE, SUMMARY_FILE};
use drgdip_dip::{
    monthly_point_value, point_basis, score_case, score_case_with_exclusion, year_point_value,
    Deviation, DipCase, DipParams, DipScore, ExclusionInput, Library, PointValueComputation,
    ProcedureSets, Severity,
};
use drgdip_drg::Trace;
use drgdip_io::{
    BatchOptions, CaseRecord, Columns, Problem, ProblemKind, Purpose, RowIn, RowOutcome,
};
use drgdip_pay::exclusion::Catalogue;
use drgdip_pay::money::round_fen;
use drgdip_pay::params::Exclusion;
use drgdip_pay::{Category, Date, Hospitals, InsuredClass, ItemUse, Params, SpecialApproval};
use drgdip_scheme::{Registry, Scheme};
use drgdip_settle::{CasePricing, DipMoney, FinalPricing, Period, SettledCase, YearMonth};
use drgdip_store::{RunInputs, Store};
use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use crate::batch::{group_record, problem, Shards};
use crate::error::{Context, EngineError, Result};
use crate::region::{read_hospitals, read_text, relative_to};
use crate::settle::{
    approved_special_cases, clear_year, default_deadline, month_statements, nothing_to_settle,
    write_month, ClearOutcome, ClearRequest, MonthPricing, SettleOutcome, SettleRequest,
    SettleStep, PROGRAM_VERSION,
};

/// What a DIP region is loaded from.
#[derive(Debug, Clone)]
pub struct DipFiles {
    /// The parameter file (TOML, `region.method = "dip"`).
    pub params: PathBuf,
    /// The hospitals file.
    pub hospitals: PathBuf,
    /// The disease library's directory (made by `drgdip dip build`).
    pub library: PathBuf,
}

/// A DIP region, loaded and validated once.
pub struct DipRegion {
    /// The DIP parameters.
    pub dip: DipParams,
    /// The region's parameters (deposit rate, settlement calendar, region codes).
    pub params: Params,
    /// The parameter file.
    pub params_path: PathBuf,
    /// Its SHA-256.
    pub params_sha256: String,
    /// The DRG scheme DIP reads severity and procedure lists from.
    pub scheme: Arc<Scheme>,
    /// `SS_INVALID` and the valid operating-room procedures, as codes.
    pub sets: ProcedureSets,
    /// The approved exclusion catalogue, as extra points.
    pub catalogue: Option<Catalogue>,
    /// The disease library.
    pub library: Library,
    /// Its directory.
    pub library_dir: PathBuf,
    /// The SHA-256 of its three files, in order (groups, auxiliary, summary).
    pub library_sha256: String,
    /// CNY per point for the exclusion items' money.
    pub basis: Option<Decimal>,
    /// The hospitals.
    pub hospitals: Hospitals,
}

impl DipRegion {
    /// Loads a DIP region; its DRG scheme is `[region].scheme` of the parameters.
    pub fn load(registry: &mut Registry<'_>, files: &DipFiles) -> Result<DipRegion> {
        let text = read_text(&files.params, "parameter file")?;
        let dip = DipParams::from_toml_str(&text)
            .map_err(|e| crate::invalid!("parameter file {}: {e}", files.params.display()))?;
        let names = registry.names();
        let known: Vec<&str> = names.iter().map(String::as_str).collect();
        let params = Params::from_toml_str_with_schemes(&text, &known)
            .map_err(|e| crate::invalid!("parameter file {}: {e}", files.params.display()))?;
        let scheme = registry
            .get(&params.region.scheme)
            .with_context(|| format!("cannot load the scheme {:?}", params.region.scheme))?;
        let catalogue = match Exclusion::from_params_toml(&text)
            .ok()
            .and_then(|e| e.catalogue)
        {
            Some(written) => Some(
                crate::region::read_catalogue(&relative_to(&files.params, &written), &scheme)
                    .context("exclusion.catalogue")?,
            ),
            None => None,
        };
        let mut hasher = Sha256::new();
        let mut library_files = Vec::new();
        for name in [GROUPS_FILE, AUX_FILE, SUMMARY_FILE] {
            let p = files.library.join(name);
            let text = read_text(&p, "library file")?;
            hasher.update(text.as_bytes());
            library_files.push((name.to_owned(), text));
        }
        let library = Library::from_files(&library_files)
            .map_err(|e| crate::invalid!("the library {}: {e}", files.library.display()))?;
        let basis = point_basis(&library, &dip);
        Ok(DipRegion {
            sets: procedure_sets(&scheme),
            dip,
            params,
            params_path: files.params.clone(),
            params_sha256: crate::digest::sha256_hex(text.as_bytes()),
            scheme,
            catalogue,
            library,
            library_dir: files.library.clone(),
            library_sha256: hex(&hasher.finalize()),
            basis,
            hospitals: read_hospitals(&files.hospitals)?,
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `SS_INVALID` and the valid operating-room procedures of the scheme, as codes.
pub fn procedure_sets(s: &Scheme) -> ProcedureSets {
    let px = &s.catalog.procedures;
    ProcedureSets {
        ss_invalid: s
            .invalid_px
            .iter()
            .map(|id| px.code(id).to_owned())
            .collect(),
        or_valid: s.valid_px.iter().map(|id| px.code(id).to_owned()).collect(),
    }
}

/// The DIP severity of a DRG grouping's severity level (3 MCC, 2 CC).
pub fn severity_of(level: u8) -> Severity {
    match level {
        3 => Severity::Mcc,
        2 => Severity::Cc,
        _ => Severity::None,
    }
}

/// A valid case, scored.
#[derive(Debug, Clone)]
pub struct DipScored {
    /// Its line in the case file.
    pub line: u64,
    /// The case.
    pub case_id: String,
    /// The hospital.
    pub hospital_id: String,
    /// The discharge month (none when the row has no discharge date: it can be scored, not
    /// settled).
    pub month: Option<YearMonth>,
    /// The hospital's level came from the row's `hospital_level` (the hospital is not in the
    /// hospitals file).
    pub level_from_row: bool,
    /// 参保地 class: cross-province cases are outside the point value, paid per item.
    pub insured: InsuredClass,
    /// The score, with its reasons.
    pub score: DipScore,
    /// The per-item cost.
    pub total_cost: Decimal,
    /// What the fund pays per item.
    pub fund_paid: Decimal,
    /// The DRG grouping's status, MDC and ADRG (severity and the exclusion's scope).
    pub status: &'static str,
    /// MDC of the DRG grouping.
    pub mdc: String,
    /// ADRG of the DRG grouping.
    pub adrg: String,
}

impl DipScored {
    /// The patient's own share.
    pub fn own(&self) -> Decimal {
        self.total_cost - self.fund_paid
    }

    /// Whether the case is in the point value (local and in-province).
    pub fn in_pool(&self) -> bool {
        self.insured != InsuredClass::CrossProvince
    }

    /// The payment category: 除外 when an exclusion item decided, else the deviation class;
    /// cross-province cases are paid per item.
    pub fn category(&self) -> Category {
        if !self.in_pool() {
            return Category::CrossProvince;
        }
        match (&self.score.exclusion, self.score.deviation) {
            (Some(e), _) if e.exclusion_larger() => Category::Excluded,
            (_, Deviation::High) => Category::High,
            (_, Deviation::Low) => Category::Low,
            _ => Category::Normal,
        }
    }

    /// The case as the ledger keeps it, priced at `point_value` (in the pool) or per item
    /// (cross-province); an approved special case (特例单议) per item or with its extra points;
    /// amounts to the fen as published.
    pub fn settled(
        &self,
        month: YearMonth,
        scheme: &Scheme,
        point_value: Decimal,
        special: Option<SpecialApproval>,
    ) -> SettledCase {
        let pricing = CasePricing {
            scheme: scheme.name.clone(),
            scheme_version: scheme.version.clone(),
            status: self.status.to_string(),
            mdc: self.mdc.clone(),
            adrg: self.adrg.clone(),
            group: self.score.group_id.clone().unwrap_or_default(),
            insured: self.insured,
        };
        let fen = |d: Decimal| {
            let mut d = round_fen(d);
            d.rescale(2);
            d
        };
        let dip = |category, case_score| {
            SettledCase::from_dip(
                &self.case_id,
                &self.hospital_id,
                month,
                category,
                DipMoney {
                    case_score,
                    total_cost: self.total_cost,
                    fund_paid: self.fund_paid,
                },
                point_value,
            )
        };
        let mut c = if !self.in_pool() || special == Some(SpecialApproval::PerItem) {
            self.per_item(
                month,
                if self.in_pool() {
                    Category::Special
                } else {
                    Category::CrossProvince
                },
            )
        } else if let Some(SpecialApproval::ExtraPoints(points)) = special {
            dip(Category::Special, self.score.case_score + points)
        } else {
            dip(self.category(), self.score.case_score)
        };
        // published lines: payment and own to the fen, fund_due = max(0, payment − own)
        c.payment = fen(c.payment);
        c.own = fen(c.own);
        c.total_cost = fen(c.total_cost);
        c.fund_paid = c.total_cost - c.own;
        c.fund_due = (c.payment - c.own).max(Decimal::ZERO);
        c.fund_due.rescale(2);
        c.pricing = pricing;
        c
    }

    /// Paid per item (跨省异地, or a special case approved per item): no score to reprice.
    fn per_item(&self, month: YearMonth, category: Category) -> SettledCase {
        {
            // 跨省异地: per item, outside the point value (no score to reprice)
            SettledCase {
                case_id: self.case_id.clone(),
                hospital_id: self.hospital_id.clone(),
                discharge_month: month,
                category,
                payment: self.total_cost,
                own: self.own(),
                fund_due: self.fund_paid.max(Decimal::ZERO),
                fund_paid: self.fund_paid,
                total_cost: self.total_cost,
                weight: None,
                dip_score: None,
                pricing: CasePricing::default(),
            }
        }
    }
}

/// One row, scored or invalid.
pub enum DipRow {
    /// A valid case, scored.
    Scored(Box<DipScored>),
    /// An invalid row: its case id (as written) and its problems.
    Invalid {
        /// The case id as written.
        case_id: String,
        /// Why it is invalid.
        problems: Vec<Problem>,
    },
}

/// 参保地: how a scorer tells a case's insured region.
#[derive(Clone, Copy)]
pub enum InsuredRule<'a> {
    /// The region's codes (`[region]`): local, in-province, cross-province.
    Region(&'a drgdip_pay::params::Region),
    /// The DIP parameters' province prefix only: cross-province or local (`drgdip dip score`
    /// on a parameter file without a full `[region]`).
    Province(&'a DipParams),
}

impl InsuredRule<'_> {
    /// The class of a case insured in `insured_region`.
    pub fn class(&self, insured_region: &str) -> InsuredClass {
        match self {
            InsuredRule::Region(r) => r.insured_class(insured_region),
            InsuredRule::Province(p) if p.is_cross_province(insured_region) => {
                InsuredClass::CrossProvince
            }
            InsuredRule::Province(_) => InsuredClass::Local,
        }
    }
}

/// What scoring a row needs, borrowed: from a [`DipRegion`] ([`DipRegion::scorer`]), or put
/// together by a front end that scores without settling (`drgdip dip score`, `dip
/// point-value`).
#[derive(Clone, Copy)]
pub struct DipScorer<'a> {
    /// The DRG scheme DIP reads severity and procedure lists from (and the code catalog).
    pub scheme: &'a Scheme,
    /// The DIP parameters.
    pub dip: &'a DipParams,
    /// `SS_INVALID` and the valid operating-room procedures.
    pub sets: &'a ProcedureSets,
    /// The approved exclusion catalogue, as extra points.
    pub catalogue: Option<&'a Catalogue>,
    /// The disease library.
    pub library: &'a Library,
    /// The hospitals (their levels).
    pub hospitals: &'a Hospitals,
    /// CNY per point for the exclusion items' money.
    pub basis: Option<Decimal>,
    /// How the insured region is told.
    pub insured: InsuredRule<'a>,
}

impl DipRegion {
    /// The region's scorer.
    pub fn scorer(&self) -> DipScorer<'_> {
        DipScorer {
            scheme: &self.scheme,
            dip: &self.dip,
            sets: &self.sets,
            catalogue: self.catalogue.as_ref(),
            library: &self.library,
            hospitals: &self.hospitals,
            basis: self.basis,
            insured: InsuredRule::Region(&self.params.region),
        }
    }
}

/// Scores one row: read and validated against the scheme's catalog, grouped by the DRG
/// scheme (severity, the exclusion's ADRG scope), scored in the library with the exclusion
/// catalogue's items as extra points. A row without a discharge date is scored (its month is
/// none); its total cost, fund paid and a known hospital level are required.
pub fn score_row(scorer: &DipScorer<'_>, cols: &Columns, row: &RowIn) -> DipRow {
    match row.read(cols, &scorer.scheme.catalog) {
        RowOutcome::Valid(r) => score_record(scorer, &r),
        RowOutcome::Invalid { case_id, problems } => DipRow::Invalid { case_id, problems },
    }
}

/// Scores one valid record, as [`score_row`] does after reading it (a record read once can be
/// scored under several regions: the DIP simulation).
pub fn score_record(scorer: &DipScorer<'_>, r: &CaseRecord) -> DipRow {
    let mut problems = Vec::new();
    if r.total_cost.is_none() {
        let kind = ProblemKind::CostMissing {
            purpose: Purpose::DipScore,
        };
        problems.push(problem(r, "total_cost", "", kind));
    }
    if r.fund_paid.is_none() {
        let kind = ProblemKind::FundPaidMissing {
            purpose: Purpose::DipScore,
        };
        problems.push(problem(r, "fund_paid", "", kind));
    }
    let (level, level_from_row) = match (scorer.hospitals.get(&r.hospital_id), r.hospital_level) {
        (Some(h), _) => (h.level, false),
        (None, Some(l)) => (l, true),
        (None, None) => {
            let kind = ProblemKind::HospitalUnknown {
                hospital_id: r.hospital_id.clone(),
            };
            problems.push(problem(r, "hospital_id", &r.hospital_id, kind));
            (0, false)
        }
    };
    let (Some(total_cost), Some(fund_paid), true) =
        (r.total_cost, r.fund_paid, problems.is_empty())
    else {
        return DipRow::Invalid {
            case_id: r.case_id.clone(),
            problems,
        };
    };
    let month = drgdip_io::parse_date(&r.discharge_date)
        .and_then(|iso| iso.get(..7).and_then(|m| m.parse::<YearMonth>().ok()));
    let s = scorer.scheme;
    let grouping = group_record(s, r, &mut Trace::disabled());
    let (dx, px) = (&s.catalog.diagnoses, &s.catalog.procedures);
    // DIP keys read only the principal diagnosis
    let case = DipCase {
        case_id: String::new(),
        diagnoses: r
            .diagnoses
            .first()
            .map(|&d| vec![dx.code(d).to_owned()])
            .unwrap_or_default(),
        procedures: r
            .procedures
            .iter()
            .map(|&p| px.code(p).to_owned())
            .collect(),
        severity: severity_of(grouping.severity()),
        age_years: r.age_years,
        discharge_way: r.discharge_way.clone(),
        total_cost,
        fund_paid,
        hospital_level: level,
    };
    let adrg = grouping.adrg_code(s).to_owned();
    let score = match scorer.catalogue {
        Some(catalogue) => {
            let items: Vec<ItemUse> = r
                .new_tech_items
                .iter()
                .map(|i| ItemUse {
                    code: i.code.clone(),
                    cost: i.cost,
                })
                .collect();
            let input = ExclusionInput {
                checks: catalogue.check(&items, Date::parse(&r.discharge_date), &adrg),
                basis: scorer.basis,
            };
            score_case_with_exclusion(scorer.library, scorer.dip, scorer.sets, &case, &input)
        }
        None => score_case(scorer.library, scorer.dip, scorer.sets, &case),
    };
    DipRow::Scored(Box::new(DipScored {
        line: r.line,
        insured: scorer.insured.class(&r.insured_region),
        case_id: r.case_id.clone(),
        hospital_id: r.hospital_id.clone(),
        month,
        level_from_row,
        score,
        total_cost,
        fund_paid,
        status: grouping.status.as_str(),
        mdc: grouping.mdc_code(s).to_owned(),
        adrg,
    }))
}

/// The scored rows of the months `keep` passes, in input order, with the counts of a
/// [`MonthPricing`] (its `cases` left empty: they are priced once the point value is known).
pub fn score_months<R: Read + Send>(
    region: &DipRegion,
    input: R,
    keep: impl Fn(YearMonth) -> bool + Sync,
    options: BatchOptions,
    progress: &dyn Fn(u64),
) -> Result<(Vec<DipScored>, MonthPricing)> {
    const OTHER: usize = 0;
    const UNDATED: usize = 1;
    const INVALID: usize = 2;
    const SCORED: usize = 3;
    let mut options = options;
    options.read.purpose = Purpose::DipScore;
    options.read.limits.max_case_cost = region.params.limits.max_case_cost;
    let kept: Shards<Vec<DipScored>> = Shards::new();
    let problems: Shards<Vec<Problem>> = Shards::new();
    let scorer = region.scorer();
    let stats = drgdip_io::run_batch_with(
        input,
        &options,
        b"",
        &mut std::io::sink(),
        None,
        |cols, row: &RowIn, _out, _probs| {
            let Some(month) = crate::settle::row_month(cols, row) else {
                problems.with(|p| p.push(crate::settle::undated_problem(cols, row)));
                return UNDATED;
            };
            if !keep(month) {
                return OTHER;
            }
            match score_row(&scorer, cols, row) {
                DipRow::Invalid { problems: p, .. } => {
                    problems.with(|all| all.extend(p));
                    INVALID
                }
                DipRow::Scored(s) => {
                    kept.with(|k| k.push(*s));
                    SCORED
                }
            }
        },
        progress,
    )?;
    let mut scored: Vec<DipScored> = kept.into_vec().into_iter().flatten().collect();
    scored.sort_unstable_by_key(|c| c.line);
    let mut problems: Vec<Problem> = problems.into_vec().into_iter().flatten().collect();
    problems.sort_by_key(|p| p.line);
    let b = &stats.by_status;
    Ok((
        scored,
        MonthPricing {
            cases: Vec::new(),
            read: stats.rows,
            other: b[OTHER],
            undated: b[UNDATED],
            invalid: b[INVALID],
            problems,
        },
    ))
}

/// (score, own) of the cases in the point value.
fn pool(scored: &[DipScored]) -> Vec<(Decimal, Decimal)> {
    scored
        .iter()
        .filter(|c| c.in_pool())
        .map(|c| (c.score.case_score, c.own()))
        .collect()
}

/// What a DIP monthly settlement did: the settlement and the month's provisional point value.
#[derive(Debug)]
pub struct DipSettleOutcome {
    /// The settlement.
    pub settled: SettleOutcome,
    /// 月度预结算点值, with the figures it came from.
    pub point_value: PointValueComputation,
}

/// Settles a month of a DIP region: scores the month's rows, solves the month's provisional
/// point value (`Σ max(0, s × pv − own) = B / 12` over the month's local and in-province
/// cases; a fixed `dip.point_value` is used as it is), prices every case at it (cross-province
/// per item), settles and writes the month with what priced each case and the run's inputs
/// (the library's digest, the point value) in one transaction.
pub async fn settle_dip_month(
    store: &Store,
    region: &DipRegion,
    request: SettleRequest<'_>,
    progress: &dyn Fn(SettleStep),
) -> Result<DipSettleOutcome> {
    let month = request.month;
    // 特例单议: approved cases are paid per item or with the extra points granted
    let special = approved_special_cases(store).await?;
    let deadline = request
        .deadline
        .unwrap_or_else(|| default_deadline(month, region.params.settlement.declaration_day));
    let rows = |n: u64| progress(SettleStep::Rows(n));
    let (scored, mut pricing) = score_months(
        region,
        request.case_file.open()?,
        |m| m == month,
        request.batch.clone(),
        &rows,
    )
    .with_context(|| format!("the case file {}", request.case_file.name()))?;
    if scored.is_empty() {
        return Err(nothing_to_settle(&request, &pricing));
    }
    let pairs = pool(&scored);
    let pv = match region.dip.point_value {
        drgdip_dip::PointValueSource::Budget => {
            monthly_point_value(region.dip.inpatient_fund_budget, &pairs)
        }
        drgdip_dip::PointValueSource::Fixed(v) => drgdip_dip::fixed_point_value(v, &pairs),
    }
    .map_err(|e| crate::invalid!("the provisional point value of {month}: {e}"))?;
    pricing.cases = scored
        .iter()
        .map(|c| {
            let approval = special.get(&c.hospital_id, &c.case_id);
            c.settled(month, &region.scheme, pv.point_value, approval)
        })
        .collect();
    let run = month_statements(store, &region.params, &request, deadline, &pricing.cases).await?;
    let inputs = RunInputs {
        program_version: PROGRAM_VERSION.to_string(),
        method: "dip".to_string(),
        case_file: request.case_file.name(),
        case_file_sha256: request.case_file.sha256()?,
        params_file: region.params_path.display().to_string(),
        params_sha256: region.params_sha256.clone(),
        weights_file: region.library_dir.display().to_string(),
        weights_sha256: region.library_sha256.clone(),
        point_value: pv.point_value.to_string(),
    };
    let run_id = write_month(
        store,
        month,
        &pricing.cases,
        &run,
        request.mode,
        &inputs,
        progress,
    )
    .await?;
    // what the ledger now holds: a paid statement stays as it was (its re-run's differences
    // are adjustments), the others are the run's
    let written = store.statements(Some(month), None).await?;
    let special = pricing
        .cases
        .iter()
        .filter(|c| c.category == Category::Special)
        .count();
    Ok(DipSettleOutcome {
        settled: SettleOutcome {
            run_id,
            pricing,
            statements: written,
            deadline,
            special,
            inputs,
        },
        point_value: pv,
    })
}

/// What a DIP clearing did: the clearing and the year's point value.
#[derive(Debug)]
pub struct DipClearOutcome {
    /// The clearing.
    pub cleared: ClearOutcome,
    /// 结算点值, solved over the year's settled local and in-province DIP cases.
    pub point_value: PointValueComputation,
}

/// Clears a year of a DIP region: the year's point value solved over the ledger's settled
/// DIP cases of the year (local and in-province), every such case repriced at it, then the
/// clearing of [`clear_year`].
pub async fn clear_dip_year(
    store: &Store,
    region: &DipRegion,
    request: ClearRequest,
) -> Result<DipClearOutcome> {
    let year = request.year;
    let cases = store.settled_cases_in(Period::Year(year), None).await?;
    let pairs: Vec<(Decimal, Decimal)> = cases
        .iter()
        .filter(|c| c.in_local_pool())
        .filter_map(|c| c.dip_score.map(|s| (s, c.own)))
        .collect();
    if pairs.is_empty() {
        return Err(EngineError::Refused(format!(
            "nothing to clear for {year}: no DIP case of {year} is settled"
        )));
    }
    let pv = year_point_value(&region.dip, &pairs)
        .map_err(|e| crate::invalid!("the point value of {year}: {e}"))?;
    let mut request = request;
    request.pricing = FinalPricing::DipPointValue(pv.point_value);
    let cleared = clear_year(store, &region.params, &region.hospitals, request).await?;
    Ok(DipClearOutcome {
        cleared,
        point_value: pv,
    })
}
