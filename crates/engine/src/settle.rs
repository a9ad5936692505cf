//! Monthly settlement (月结算) and annual clearing (年度清算) of a DRG region, `payment-model.md`
//! §6: the month's cases priced in process (as `pay` prices them), settled, and written with
//! what priced each case and what the run read, in one transaction; the year cleared from the
//! ledger alone.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;

use drgdip_io::{BatchOptions, Problem, ProblemKind, Purpose, RowIn};
use drgdip_pay::{Category, Hospitals, Params};
use drgdip_settle::{
    clear_year as clear_statements, settle_month_with_adjustments as settle_statements, Actor,
    Adjustment, ClearingInput, ClearingStatement, Date, FinalPricing, MonthlyRecord,
    MonthlyStatement, Period, PrepaymentDecision, SettledCase, WorkCalendar, YearMonth,
};
use drgdip_store::{Replace, RunInputs, Store};
use rust_decimal::Decimal;

use crate::batch::Shards;
use crate::digest::sha256_file;
use crate::error::{Context, EngineError, Result};
use crate::pricing::{PricedRow, Pricer, SpecialCases};
use crate::region::{read_text, relative_to, Region};

/// The program that writes the ledger, as runs record it.
pub const PROGRAM_VERSION: &str = concat!("drgdip ", env!("CARGO_PKG_VERSION"));

/// Reads a holidays file into a working-day calendar.
pub fn read_calendar(path: &Path) -> Result<WorkCalendar> {
    let text = read_text(path, "holidays file")?;
    WorkCalendar::from_text(&text).map_err(|e| crate::invalid!("{}: {e}", path.display()))
}

/// The holiday calendar of a run: `holidays`, else the parameters' `[settlement].calendar`
/// (relative to the parameter file), else Monday to Friday.
pub fn run_calendar(
    holidays: Option<&Path>,
    params: &Params,
    params_path: &Path,
) -> Result<WorkCalendar> {
    match (holidays, &params.settlement.calendar) {
        (Some(path), _) => read_calendar(path),
        (None, Some(written)) => {
            read_calendar(&relative_to(params_path, written)).with_context(|| {
                format!(
                    "settlement.calendar of {} (relative to the parameter file)",
                    params_path.display()
                )
            })
        }
        (None, None) => Ok(WorkCalendar::weekdays_only()),
    }
}

/// The `day`th of the month after `month` (申报截止日).
pub fn default_deadline(month: YearMonth, day: u8) -> Date {
    let next = month.last_day().succ();
    Date::new(next.year(), next.month(), day).unwrap_or(next)
}

/// The approved cases of the ledger's reviewed special-case applications (特例单议).
pub async fn approved_special_cases(store: &Store) -> Result<SpecialCases> {
    let mut map = SpecialCases::default();
    for app in store.applications(None, None).await? {
        for (case_id, approval) in app.approvals() {
            map.insert(app.hospital_id(), case_id, approval);
        }
    }
    Ok(map)
}

/// The month's rows of a case file, priced.
#[derive(Debug, Default)]
pub struct MonthPricing {
    /// The month's valid cases, in input order, as the ledger keeps them.
    pub cases: Vec<SettledCase>,
    /// Rows read (blank lines excluded).
    pub read: u64,
    /// Rows discharged in another month (skipped).
    pub other: u64,
    /// Rows without a readable discharge month (not settled).
    pub undated: u64,
    /// Rows of the month that are invalid (not settled).
    pub invalid: u64,
    /// The problems of the month's rows and of the undated rows, by line.
    pub problems: Vec<Problem>,
}

/// Prices the rows of `input` discharged in `month` (the others are counted and skipped).
pub fn price_month<R: Read + Send>(
    region: &Region,
    special: &SpecialCases,
    input: R,
    month: YearMonth,
    options: BatchOptions,
    progress: &dyn Fn(u64),
) -> Result<MonthPricing> {
    price_months(region, special, input, |m| m == month, options, progress)
}

/// Prices the rows of `input` whose discharge month passes `keep`.
pub fn price_months<R: Read + Send>(
    region: &Region,
    special: &SpecialCases,
    input: R,
    keep: impl Fn(YearMonth) -> bool + Sync,
    options: BatchOptions,
    progress: &dyn Fn(u64),
) -> Result<MonthPricing> {
    const OTHER: usize = 0;
    const UNDATED: usize = 1;
    const INVALID: usize = 2;
    const SETTLED: usize = 3;
    let mut options = options;
    options.read.purpose = Purpose::Pay;
    options.read.limits.max_case_cost = region.params.limits.max_case_cost;
    let pricer = Pricer::new(region, special);
    let kept: Shards<Vec<(u64, SettledCase)>> = Shards::new();
    let problems: Shards<Vec<Problem>> = Shards::new();
    let scheme = &*region.scheme;
    let stats = drgdip_io::run_batch_with(
        input,
        &options,
        b"",
        &mut std::io::sink(),
        None,
        |cols, row: &RowIn, _out, _probs| {
            let Some(month) = row_month(cols, row) else {
                problems.with(|p| p.push(undated_problem(cols, row)));
                return UNDATED;
            };
            if !keep(month) {
                return OTHER;
            }
            match pricer.price(cols, row) {
                PricedRow::Invalid { problems: p, .. } => {
                    problems.with(|all| all.extend(p));
                    INVALID
                }
                PricedRow::Paid(c) if c.payment.category == Category::Invalid => INVALID,
                PricedRow::Paid(c) => {
                    let settled = c.settled(month, scheme);
                    kept.with(|k| k.push((c.line, settled)));
                    SETTLED
                }
            }
        },
        progress,
    )?;
    let mut cases: Vec<(u64, SettledCase)> = kept.into_vec().into_iter().flatten().collect();
    cases.sort_unstable_by_key(|c| c.0);
    let mut problems: Vec<Problem> = problems.into_vec().into_iter().flatten().collect();
    problems.sort_by_key(|p| p.line);
    let b = &stats.by_status;
    Ok(MonthPricing {
        cases: cases.into_iter().map(|c| c.1).collect(),
        read: stats.rows,
        other: b[OTHER],
        undated: b[UNDATED],
        invalid: b[INVALID],
        problems,
    })
}

/// The discharge month of a raw row, if its date is a real one.
pub(crate) fn row_month(cols: &drgdip_io::Columns, row: &RowIn) -> Option<YearMonth> {
    let at = cols.pos("discharge_date")?;
    let raw = row.record.get(at)?;
    let text = std::str::from_utf8(raw).ok()?;
    let iso = drgdip_io::parse_date(text)?;
    iso.get(..7)?.parse().ok()
}

/// The problem of a row without a readable discharge month: the date is not a real one, or
/// a quote left open on the line hides it.
pub(crate) fn undated_problem(cols: &drgdip_io::Columns, row: &RowIn) -> Problem {
    let case_id = cols
        .pos("case_id")
        .map(|p| drgdip_io::escape_control(row.lossy(p).trim_start_matches('"')))
        .unwrap_or_default();
    match row.open_quote {
        Some(k) => {
            let name = cols
                .names
                .get(k)
                .cloned()
                .unwrap_or_else(|| format!("field {}", k + 1));
            let kind = ProblemKind::UnbalancedQuote {
                field: name.clone(),
            };
            Problem::new(row.line, case_id, name, row.lossy(k), kind)
        }
        None => {
            let date = cols
                .pos("discharge_date")
                .map(|p| row.lossy(p))
                .unwrap_or_default();
            Problem::new(
                row.line,
                case_id,
                "discharge_date",
                drgdip_io::escape_control(&date),
                ProblemKind::NoDischargeMonth,
            )
        }
    }
}

/// The case file of a run: a file, or its bytes (an upload).
#[derive(Debug, Clone, Copy)]
pub enum CaseInput<'a> {
    /// A file on disk.
    File(&'a Path),
    /// The bytes of an uploaded file, with the name it is recorded under.
    Bytes {
        /// The name (`upload 2025-06.csv`).
        name: &'a str,
        /// The file's bytes.
        bytes: &'a [u8],
    },
}

impl<'a> CaseInput<'a> {
    /// The name the run records.
    pub fn name(&self) -> String {
        match self {
            CaseInput::File(p) => p.display().to_string(),
            CaseInput::Bytes { name, .. } => name.to_string(),
        }
    }

    /// The SHA-256 of the input's bytes.
    pub fn sha256(&self) -> Result<String> {
        match self {
            CaseInput::File(p) => sha256_file(p),
            CaseInput::Bytes { bytes, .. } => Ok(crate::digest::sha256_hex(bytes)),
        }
    }

    /// A reader of the input.
    pub fn open(&self) -> Result<Box<dyn Read + Send + 'a>> {
        match *self {
            CaseInput::File(p) => crate::region::open_file(p),
            CaseInput::Bytes { bytes, .. } => Ok(Box::new(bytes)),
        }
    }
}

/// A month to settle.
#[derive(Debug, Clone)]
pub struct SettleRequest<'a> {
    /// The discharge month.
    pub month: YearMonth,
    /// The case file (read, and its digest kept).
    pub case_file: CaseInput<'a>,
    /// How it is read.
    pub batch: BatchOptions,
    /// The declaration deadline; default: `[settlement].declaration_day` of the next month.
    pub deadline: Option<Date>,
    /// The working-day calendar.
    pub calendar: WorkCalendar,
    /// Whether a month that shrinks below half may be replaced.
    pub mode: Replace,
    /// Who settles.
    pub actor: Actor,
}

/// What a monthly settlement did.
#[derive(Debug)]
pub struct SettleOutcome {
    /// The run's number in the ledger.
    pub run_id: i64,
    /// The month's rows, priced.
    pub pricing: MonthPricing,
    /// The month's statements as the ledger now holds them (a paid one as it was).
    pub statements: Vec<MonthlyStatement>,
    /// The declaration deadline used.
    pub deadline: Date,
    /// Cases paid as special because of an approved application.
    pub special: usize,
    /// What the run read.
    pub inputs: RunInputs,
}

/// How far a settlement run is, for a front end's progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SettleStep {
    /// Rows of the case file read so far.
    Rows(u64),
    /// The month is priced and settled; the ledger is being written (one transaction).
    Writing {
        /// Cases to write.
        cases: usize,
        /// Statements to write.
        statements: usize,
    },
}

/// What a DRG settlement run read.
pub fn run_inputs(region: &Region, case_file: &CaseInput<'_>) -> Result<RunInputs> {
    Ok(RunInputs {
        program_version: PROGRAM_VERSION.to_string(),
        method: "drg".to_string(),
        case_file: case_file.name(),
        case_file_sha256: case_file.sha256()?,
        params_file: region.params_path.display().to_string(),
        params_sha256: region.params_sha256.clone(),
        weights_file: region.weights.file.display().to_string(),
        weights_sha256: region.weights.sha256.clone(),
        point_value: region
            .point_value
            .map(|v| v.to_string())
            .unwrap_or_default(),
    })
}

/// Settles a month of a DRG region: prices the month's rows of the case file in process,
/// settles them (`drgdip_settle::settle_month`) and replaces the month in the ledger with
/// the cases, what priced them, the statements and the run's inputs, in one transaction.
/// A truncated upload (a hospital's month shrinking below half) is refused unless
/// `request.mode` is [`Replace::Forced`].
pub async fn settle_month(
    store: &Store,
    region: &Region,
    request: SettleRequest<'_>,
    progress: &dyn Fn(SettleStep),
) -> Result<SettleOutcome> {
    let month = request.month;
    if region.params.region.method == drgdip_pay::params::Method::Dip {
        return Err(crate::invalid!(
            "{}: region.method = \"dip\": settle DIP cases with the DIP settlement",
            region.params_path.display()
        ));
    }
    let deadline = request
        .deadline
        .unwrap_or_else(|| default_deadline(month, region.params.settlement.declaration_day));
    let special = approved_special_cases(store).await?;
    let input = request.case_file.open()?;
    let rows = |n: u64| progress(SettleStep::Rows(n));
    let pricing = price_month(region, &special, input, month, request.batch.clone(), &rows)
        .with_context(|| format!("the case file {}", request.case_file.name()))?;
    if pricing.cases.is_empty() {
        return Err(nothing_to_settle(&request, &pricing));
    }
    let n_special = pricing
        .cases
        .iter()
        .filter(|c| c.category == Category::Special)
        .count();
    let run = month_statements(store, &region.params, &request, deadline, &pricing.cases).await?;
    let inputs = run_inputs(region, &request.case_file)?;
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
    Ok(SettleOutcome {
        run_id,
        pricing,
        statements: written,
        deadline,
        special: n_special,
        inputs,
    })
}

/// The refusal of a month with no case to settle: a wrong month or a wrong file, refused,
/// not obeyed.
pub(crate) fn nothing_to_settle(
    request: &SettleRequest<'_>,
    pricing: &MonthPricing,
) -> EngineError {
    let month = request.month;
    EngineError::Refused(format!(
        "nothing to settle for {month}: the case file {} has no valid row discharged in {month} ({} rows read: {} of other months, {} without a discharge date, {} invalid)",
        request.case_file.name(),
        pricing.read,
        pricing.other,
        pricing.undated,
        pricing.invalid
    ))
}

/// The month's statements of the settled `cases`, each hospital's carrying its pending
/// adjustments (补差) of earlier months.
pub(crate) async fn month_statements(
    store: &Store,
    params: &Params,
    request: &SettleRequest<'_>,
    deadline: Date,
    cases: &[SettledCase],
) -> Result<drgdip_settle::Audited<Vec<MonthlyStatement>>> {
    let month = request.month;
    let adjustments = store.pending_adjustments(month).await?;
    settle_statements(
        cases,
        params,
        month,
        deadline,
        &request.calendar,
        &request.actor,
        &adjustments,
    )
    .map_err(|e| crate::invalid!("settlement of {month}: {e}"))
}

/// Writes a settled month to the ledger in one transaction (the `Writing` step first); a
/// truncated upload or a closed year is a refusal, any other failure names the month.
pub(crate) async fn write_month(
    store: &Store,
    month: YearMonth,
    cases: &[SettledCase],
    run: &drgdip_settle::Audited<Vec<MonthlyStatement>>,
    mode: Replace,
    inputs: &RunInputs,
    progress: &dyn Fn(SettleStep),
) -> Result<i64> {
    progress(SettleStep::Writing {
        cases: cases.len(),
        statements: run.value.len(),
    });
    store
        .settle_month_run(month, cases, &run.value, &run.events, mode, inputs)
        .await
        .map_err(|e| match e {
            e @ (drgdip_store::StoreError::Shrink { .. }
            | drgdip_store::StoreError::Closed { .. }) => EngineError::Store(e),
            e => EngineError::Context {
                context: format!("cannot write the settlement of {month}"),
                source: Box::new(EngineError::Store(e)),
            },
        })
}

// -------------------------------------------------------------------------------------------
// Annual clearing

/// A year to clear.
#[derive(Debug, Clone)]
pub struct ClearRequest {
    /// The year.
    pub year: i32,
    /// How the year's cases are priced (DIP: the final point value).
    pub pricing: FinalPricing,
    /// Who clears.
    pub actor: Actor,
    /// Today (the clearing is due by 30 June of the next year).
    pub today: Date,
}

/// What a clearing did.
#[derive(Debug)]
pub struct ClearOutcome {
    /// One statement per hospital.
    pub statements: Vec<ClearingStatement>,
    /// The year's monthly statements.
    pub monthly: Vec<MonthlyStatement>,
    /// Warnings: months not settled, a clearing after 30 June, cross-province cases kept out.
    pub warnings: Vec<String>,
    /// The share of the budget the clearing used, naming the budget version (payment-model §8).
    pub budget: crate::budget::BudgetUse,
}

/// Clears a year from the ledger alone: the year's settled cases, statements and
/// prepayments; writes the year's clearing and closes the year (its months are not
/// re-settled until it is reopened). Refuses a year with no settled month and a closed year;
/// warns about months not settled and about a clearing after 30 June of the next year.
pub async fn clear_year(
    store: &Store,
    params: &Params,
    hospitals: &Hospitals,
    request: ClearRequest,
) -> Result<ClearOutcome> {
    let year = request.year;
    let months: BTreeSet<YearMonth> = store
        .months()
        .await?
        .into_iter()
        .filter(|m| m.year() == year)
        .collect();
    if months.is_empty() {
        return Err(EngineError::Refused(format!(
            "nothing to clear for {year}: no month of {year} is settled (drgdip settle --month {year}-01 …)"
        )));
    }
    let mut warnings = Vec::new();
    let missing: Vec<String> = (1..=12u8)
        .filter_map(|m| YearMonth::new(year, m))
        .filter(|m| !months.contains(m))
        .map(|m| m.to_string())
        .collect();
    if !missing.is_empty() {
        warnings.push(format!(
            "{} month(s) of {year} not settled: {} (their cases are not in the clearing)",
            missing.len(),
            missing.join(" ")
        ));
    }
    if let Some(due) = Date::new(year + 1, 6, 30) {
        if request.today > due {
            warnings.push(format!(
                "the clearing of {year} is due by {due} (payment-model §6); it is run on {}",
                request.today
            ));
        }
    }
    let cases = store.settled_cases_in(Period::Year(year), None).await?;
    let monthly = store.statements_in(Period::Year(year), None).await?;
    let prepayments = store.prepayments(year).await?;
    // differences (补差) of the year's cases that no statement carries: counted here
    let uncarried = store.uncarried_adjustments(year).await?;
    if !uncarried.is_empty() {
        let sum = uncarried
            .iter()
            .try_fold(Decimal::ZERO, |t, a| t.checked_add(a.difference))
            .ok_or_else(|| crate::invalid!("the sum of the uncarried adjustments overflows"))?;
        warnings.push(format!(
            "{} adjustment(s) of {year}'s cases (Σ {}) are on no statement (the hospital settled no later month): counted in this clearing's entitlement, paid with its final amount",
            uncarried.len(),
            drgdip_pay::money::Fen(sum)
        ));
    }
    // 应付未付: what the fund actually paid on each statement, as recorded up to today; a
    // ledger with no payment of the year recorded takes every statement as paid in full
    let paid: BTreeMap<(String, YearMonth), Decimal> = store
        .paid_as_of(request.today, None)
        .await?
        .into_iter()
        .filter(|((_, m), _)| m.year() == year)
        .collect();
    let paid = if paid.is_empty() {
        warnings.push(format!(
            "no payment against a statement of {year} is recorded: every monthly statement is taken as paid in full (record them with `drgdip payments record`)"
        ));
        None
    } else {
        Some(paid)
    };
    let inputs = clearing_inputs(
        hospitals,
        cases,
        &monthly,
        &uncarried,
        &prepayments,
        paid.as_ref(),
    )?;
    let run = clear_statements(year, &inputs, params, request.pricing, &request.actor)
        .map_err(|e| crate::invalid!("clearing of {year}: {e}"))?;
    store
        .replace_clearing(year, &run.value, &run.events)
        .await
        .map_err(|e| match e {
            e @ drgdip_store::StoreError::Closed { .. } => EngineError::Store(e),
            e => EngineError::Context {
                context: format!("cannot write the clearing of {year}"),
                source: Box::new(EngineError::Store(e)),
            },
        })?;
    let budget = crate::budget::clearing_use(store, params, year, &run.value).await?;
    Ok(ClearOutcome {
        statements: run.value,
        monthly,
        warnings,
        budget,
    })
}

/// One [`ClearingInput`] per hospital with cases, statements or a prepayment of the year.
/// With `paid`, each statement's payment is what was recorded against it (none: 0); without,
/// each statement is taken as paid in full. An adjustment (补差) counts in the year of the
/// statement that carries it; `uncarried` are the year's cases' adjustments that no statement
/// carries, lines of the entitlement that no monthly payment paid.
pub fn clearing_inputs(
    hospitals: &Hospitals,
    cases: Vec<SettledCase>,
    monthly: &[MonthlyStatement],
    uncarried: &[Adjustment],
    prepayments: &[PrepaymentDecision],
    paid: Option<&BTreeMap<(String, YearMonth), Decimal>>,
) -> Result<Vec<ClearingInput>> {
    let mut by_hospital: BTreeMap<String, ClearingInput> = BTreeMap::new();
    let mut unknown = BTreeSet::new();
    fn entry<'m>(
        by_hospital: &'m mut BTreeMap<String, ClearingInput>,
        unknown: &mut BTreeSet<String>,
        hospitals: &Hospitals,
        id: &str,
    ) -> Option<&'m mut ClearingInput> {
        let Some(h) = hospitals.get(id) else {
            unknown.insert(id.to_string());
            return None;
        };
        Some(
            by_hospital
                .entry(id.to_string())
                .or_insert_with(|| ClearingInput {
                    hospital: h.clone(),
                    cases: Vec::new(),
                    monthly: Vec::new(),
                    prepayment_outstanding: Decimal::ZERO,
                }),
        )
    }
    for c in cases {
        if let Some(input) = entry(&mut by_hospital, &mut unknown, hospitals, &c.hospital_id) {
            input.cases.push(c);
        }
    }
    for s in monthly {
        if let Some(input) = entry(&mut by_hospital, &mut unknown, hospitals, &s.hospital_id) {
            let mut record = MonthlyRecord::from(s);
            if let Some(paid) = paid {
                record.amount_paid = paid
                    .get(&(s.hospital_id.clone(), s.month))
                    .copied()
                    .unwrap_or(Decimal::ZERO);
            }
            input.monthly.push(record);
            // 补差 carried onto the statement: lines of the year's entitlement, as paid
            for a in &s.adjustments {
                input.cases.push(adjustment_line(a, s.month));
            }
        }
    }
    for a in uncarried {
        if let Some(input) = entry(&mut by_hospital, &mut unknown, hospitals, &a.hospital_id) {
            input.cases.push(adjustment_line(a, a.case_month));
        }
    }
    for p in prepayments {
        if let Some(input) = entry(&mut by_hospital, &mut unknown, hospitals, &p.hospital_id) {
            input.prepayment_outstanding = p.outstanding(Decimal::ZERO);
        }
    }
    if !unknown.is_empty() {
        return Err(crate::invalid!(
            "hospital(s) of the ledger not in the hospitals file (their performance score is needed): {}",
            unknown.into_iter().collect::<Vec<_>>().join(" ")
        ));
    }
    Ok(by_hospital.into_values().collect())
}

/// An adjustment as a line of the year's entitlement: its difference of fund due, in `month`.
fn adjustment_line(a: &Adjustment, month: YearMonth) -> SettledCase {
    SettledCase {
        case_id: format!("adjustment {} of {} ({})", a.id, a.case_id, a.case_month),
        hospital_id: a.hospital_id.clone(),
        discharge_month: month,
        category: Category::Normal,
        payment: Decimal::ZERO,
        own: Decimal::ZERO,
        fund_due: a.difference,
        fund_paid: Decimal::ZERO,
        total_cost: Decimal::ZERO,
        weight: None,
        dip_score: None,
        pricing: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_deadline_is_the_given_day_of_the_next_month() {
        let d = |m: &str, day| default_deadline(m.parse().unwrap(), day).to_string();
        assert_eq!(d("2025-06", 10), "2025-07-10");
        assert_eq!(d("2025-12", 10), "2026-01-10");
        assert_eq!(d("2025-01", 28), "2025-02-28");
    }
}
