//! The budget (总额预算, `payment-model.md` §8) over the ledger: a parameter file's `[budget]`
//! registered as a version of the year's budget, adjustments as new versions with their reason
//! and approval (预算调整), the execution per month (budget share against what the monthly
//! statements settled, by method and by hospital, cumulative), the year-end forecast from the
//! months so far, and the share of the budget a clearing used. Every figure names the budget
//! version it was computed against.
//!
//! Stored versions never change: registering the same budget twice is a no-op, a different
//! budget under a stored version number is refused, and an adjustment takes the next number.
//!
//! Execution, as computed here (docs/budget.md):
//! - a month's budget share is 1/12 of the method's budget of the version (DRG months:
//!   `[budget.inpatient].drg`, DIP months: `.dip`), the cumulative share after `k` months is
//!   `budget × k / 12`, each rounded to the fen on its own (so the shares add up to the budget
//!   in December without drift);
//! - a month's method is the method of the month's last settlement run;
//! - what a month settled is Σ over its statements of `fund_due_total + adjustments_total`
//!   (what the fund owes on the month's statements, the corrections (补差) they carry
//!   included);
//! - a hospital's line is what its statements settled and its share of the region's settled
//!   in the month: hospitals have no budget of their own in §8;
//! - the forecast is the run rate: Σ settled of the months settled × 12 / their number.

use std::collections::BTreeMap;

use drgdip_pay::money::round_fen;
use drgdip_pay::Params;
use drgdip_settle::{Action, Actor, AuditEvent, ClearingStatement, Date, YearMonth};
use drgdip_store::{BudgetSlot, BudgetStored, Store, StoredBudget};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::error::{EngineError, Result};

/// One version of a year's budget (预算版本).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BudgetVersion {
    /// The budget year.
    pub year: i32,
    /// The version (1, 2, …).
    pub version: u32,
    /// The year's whole fund expenditure budget, CNY.
    pub total: Decimal,
    /// Outpatient part, CNY.
    pub outpatient: Decimal,
    /// 调剂金 — share of the total kept in reserve, 0..1.
    pub reserve_share: Decimal,
    /// The inpatient part by payment method, CNY.
    pub inpatient: MethodSplit,
    /// Who approved it, when, with which document.
    pub approval: Approval,
    /// Why this version: "initial budget" for a registered one, the adjustment's reason.
    pub reason: String,
    /// The version this one adjusts (`None` for a registered one).
    pub adjusts: Option<u32>,
}

/// The inpatient budget by payment method, CNY.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MethodSplit {
    /// 按病组 (DRG).
    pub drg: Decimal,
    /// 按病种分值 (DIP).
    pub dip: Decimal,
    /// 按床日.
    pub per_diem: Decimal,
    /// 按项目.
    pub per_item: Decimal,
    /// Other methods.
    pub other: Decimal,
}

/// The approval of a version: who, when, the document number (审批).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    /// Who approved it.
    pub by: String,
    /// When (`None` when the parameter file's text does not start with a date).
    pub on: Option<Date>,
    /// The document number (文号).
    pub document: String,
}

impl Approval {
    /// The parameter file's `budget.approved` text, "DATE WHO DOCUMENT": the first word a
    /// date, the last the document; anything else is kept whole as `by`.
    pub fn from_text(text: &str) -> Approval {
        let words: Vec<&str> = text.split_whitespace().collect();
        if words.len() >= 3 {
            if let Ok(on) = words[0].parse::<Date>() {
                return Approval {
                    by: words[1..words.len() - 1].join(" "),
                    on: Some(on),
                    document: words[words.len() - 1].to_string(),
                };
            }
        }
        Approval {
            by: text.trim().to_string(),
            on: None,
            document: String::new(),
        }
    }
}

impl std::fmt::Display for Approval {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.on {
            Some(on) => write!(f, "{on} {} {}", self.by, self.document),
            None => write!(f, "{} {}", self.by, self.document),
        }
    }
}

/// A payment method that settlement spends a budget on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SettledMethod {
    /// DRG.
    Drg,
    /// DIP.
    Dip,
}

impl SettledMethod {
    /// `drg` or `dip` (a settlement run's `method`).
    pub fn parse(text: &str) -> Option<SettledMethod> {
        match text {
            "drg" => Some(SettledMethod::Drg),
            "dip" => Some(SettledMethod::Dip),
            _ => None,
        }
    }

    /// `drg` or `dip`.
    pub fn as_str(self) -> &'static str {
        match self {
            SettledMethod::Drg => "drg",
            SettledMethod::Dip => "dip",
        }
    }

    fn of(method: drgdip_pay::params::Method) -> SettledMethod {
        match method {
            drgdip_pay::params::Method::Drg => SettledMethod::Drg,
            drgdip_pay::params::Method::Dip => SettledMethod::Dip,
        }
    }
}

impl BudgetVersion {
    /// The budget of `method`.
    pub fn of_method(&self, method: SettledMethod) -> Decimal {
        match method {
            SettledMethod::Drg => self.inpatient.drg,
            SettledMethod::Dip => self.inpatient.dip,
        }
    }

    /// The version of the parameters' `[budget]` plan, for their `region.year`. A file
    /// without the plan (version, approved, total, …) has no version to register.
    pub fn from_params(params: &Params) -> Result<BudgetVersion> {
        let plan = params.budget.plan.as_ref().ok_or_else(|| {
            EngineError::Invalid(
                "the parameter file has no budget plan ([budget] version, approved, total, outpatient, reserve_share and [budget.inpatient]): nothing to register".into(),
            )
        })?;
        Ok(BudgetVersion {
            year: i32::from(params.region.year),
            version: plan.version,
            total: plan.total,
            outpatient: plan.outpatient,
            reserve_share: plan.reserve_share,
            inpatient: MethodSplit {
                drg: plan.inpatient.drg,
                dip: plan.inpatient.dip,
                per_diem: plan.inpatient.per_diem,
                per_item: plan.inpatient.per_item,
                other: plan.inpatient.other,
            },
            approval: Approval::from_text(&plan.approved),
            reason: "initial budget (预算编制)".into(),
            adjusts: None,
        })
    }

    /// `total` against its parts: outpatient + the five methods + reserve_share × total.
    fn check(&self) -> Result<()> {
        let parts = [
            self.inpatient.dip,
            self.inpatient.per_diem,
            self.inpatient.per_item,
            self.inpatient.other,
        ];
        let reserve = self.reserve_share.checked_mul(self.total);
        let sum = parts
            .into_iter()
            .chain(reserve)
            .try_fold(self.outpatient, |acc, x| acc.checked_add(x))
            .and_then(|s| s.checked_add(self.inpatient.drg))
            .ok_or_else(|| {
                crate::invalid!(
                    "budget {} version {}: the parts overflow",
                    self.year,
                    self.version
                )
            })?;
        let named = [
            ("total", self.total),
            ("outpatient", self.outpatient),
            ("inpatient.drg", self.inpatient.drg),
            ("inpatient.dip", self.inpatient.dip),
            ("inpatient.per_diem", self.inpatient.per_diem),
            ("inpatient.per_item", self.inpatient.per_item),
            ("inpatient.other", self.inpatient.other),
        ];
        if let Some((k, v)) = named.iter().find(|(_, v)| v.is_sign_negative()) {
            return Err(crate::invalid!("budget.{k} {v} is negative"));
        }
        if !(Decimal::ZERO..Decimal::ONE).contains(&self.reserve_share) {
            return Err(crate::invalid!(
                "budget.reserve_share {} is outside 0..1",
                self.reserve_share
            ));
        }
        if round_fen(sum) != round_fen(self.total) {
            return Err(crate::invalid!(
                "budget.total {} differs from outpatient + inpatient methods + reserve = {} (difference {})",
                self.total,
                round_fen(sum),
                round_fen(self.total - sum)
            ));
        }
        Ok(())
    }
}

/// What an adjustment changes: the figures given replace the previous version's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BudgetChange {
    /// A new total.
    pub total: Option<Decimal>,
    /// A new outpatient part.
    pub outpatient: Option<Decimal>,
    /// A new reserve share.
    pub reserve_share: Option<Decimal>,
    /// A new DRG budget.
    pub drg: Option<Decimal>,
    /// A new DIP budget.
    pub dip: Option<Decimal>,
    /// A new per-diem budget.
    pub per_diem: Option<Decimal>,
    /// A new per-item budget.
    pub per_item: Option<Decimal>,
    /// A new budget of the other methods.
    pub other: Option<Decimal>,
}

impl BudgetChange {
    fn is_empty(&self) -> bool {
        *self == BudgetChange::default()
    }
}

/// What registering did.
#[derive(Debug, Clone)]
pub struct Registered {
    /// The version as stored.
    pub version: BudgetVersion,
    /// `false` when the same version was already stored (nothing written).
    pub new: bool,
}

fn body(v: &BudgetVersion) -> Result<String> {
    serde_json::to_string(v).map_err(|e| crate::invalid!("budget version as JSON: {e}"))
}

fn summary(v: &BudgetVersion) -> String {
    format!(
        "version={} total={} outpatient={} drg={} dip={} per_diem={} per_item={} other={} reserve_share={}",
        v.version,
        v.total,
        v.outpatient,
        v.inpatient.drg,
        v.inpatient.dip,
        v.inpatient.per_diem,
        v.inpatient.per_item,
        v.inpatient.other,
        v.reserve_share
    )
}

/// Registers the parameters' budget plan as its version of the year (`params_sha256`: the
/// SHA-256 of the parameter file, in the audit event). The same version with the same
/// figures and approval already stored is a no-op; with others it is refused.
pub async fn register(
    store: &Store,
    actor: &Actor,
    params: &Params,
    params_sha256: &str,
) -> Result<Registered> {
    let version = BudgetVersion::from_params(params)?;
    version.check()?;
    let mut event = AuditEvent::new(
        actor,
        Action::BudgetRegistered,
        format!("budget/{}/v{}", version.year, version.version),
        format!(
            "budget of {} registered from the parameter file (sha256 {params_sha256}), approved {}",
            version.year, version.approval
        ),
    );
    event.after = Some(summary(&version));
    let stored = store
        .store_budget_version(
            version.year,
            version.version,
            &body(&version)?,
            BudgetSlot::AsNumbered,
            &[event],
        )
        .await?;
    Ok(Registered {
        version,
        new: stored == BudgetStored::New,
    })
}

/// Adjusts `year`'s budget: the next version, the last one with `change` applied, with its
/// reason and approval; refused without a reason, an approval's who and document, or a change.
pub async fn adjust(
    store: &Store,
    actor: &Actor,
    year: i32,
    change: &BudgetChange,
    reason: &str,
    approval: Approval,
) -> Result<BudgetVersion> {
    if reason.trim().is_empty() {
        return Err(crate::invalid!("an adjustment needs its reason (--reason)"));
    }
    if approval.by.trim().is_empty() || approval.document.trim().is_empty() || approval.on.is_none()
    {
        return Err(crate::invalid!(
            "an adjustment needs its approval: who (--approved-by), when (--approved-on) and the document number (--document)"
        ));
    }
    if change.is_empty() {
        return Err(crate::invalid!(
            "an adjustment changes at least one figure (--total, --outpatient, --reserve-share, --drg, --dip, --per-diem, --per-item, --other)"
        ));
    }
    let last = versions(store, year).await?.pop().ok_or_else(|| {
        EngineError::Refused(format!(
            "no budget of {year} is registered: register the parameter file's budget first (drgdip budget register)"
        ))
    })?;
    let next = BudgetVersion {
        year,
        version: last.version + 1,
        total: change.total.unwrap_or(last.total),
        outpatient: change.outpatient.unwrap_or(last.outpatient),
        reserve_share: change.reserve_share.unwrap_or(last.reserve_share),
        inpatient: MethodSplit {
            drg: change.drg.unwrap_or(last.inpatient.drg),
            dip: change.dip.unwrap_or(last.inpatient.dip),
            per_diem: change.per_diem.unwrap_or(last.inpatient.per_diem),
            per_item: change.per_item.unwrap_or(last.inpatient.per_item),
            other: change.other.unwrap_or(last.inpatient.other),
        },
        approval,
        reason: reason.trim().to_string(),
        adjusts: Some(last.version),
    };
    next.check()?;
    let mut event = AuditEvent::new(
        actor,
        Action::BudgetAdjusted,
        format!("budget/{year}/v{}", next.version),
        format!("{} (approved {})", next.reason, next.approval),
    );
    event.before = Some(summary(&last));
    event.after = Some(summary(&next));
    store
        .store_budget_version(
            year,
            next.version,
            &body(&next)?,
            BudgetSlot::Next,
            &[event],
        )
        .await?;
    Ok(next)
}

/// The stored versions of `year`'s budget, oldest first.
pub async fn versions(store: &Store, year: i32) -> Result<Vec<BudgetVersion>> {
    store
        .budget_versions(year)
        .await?
        .iter()
        .map(parse)
        .collect()
}

fn parse(s: &StoredBudget) -> Result<BudgetVersion> {
    serde_json::from_str(&s.body).map_err(|e| {
        crate::invalid!(
            "stored budget {} version {} cannot be read: {e}",
            s.year,
            s.version
        )
    })
}

/// Version `version` of `year`'s budget, or the last one; refused when none is stored.
pub async fn version_of(store: &Store, year: i32, version: Option<u32>) -> Result<BudgetVersion> {
    let all = versions(store, year).await?;
    let found = match version {
        Some(n) => all.into_iter().find(|v| v.version == n),
        None => all.into_iter().last(),
    };
    found.ok_or_else(|| {
        EngineError::Refused(match version {
            Some(n) => {
                format!("budget {year} has no version {n} (drgdip budget show --year {year})")
            }
            None => {
                format!("no budget of {year} is registered (drgdip budget register --params FILE)")
            }
        })
    })
}

/// One month of the region's execution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MonthExecution {
    /// The discharge month.
    pub month: YearMonth,
    /// The method the month was settled with.
    pub method: SettledMethod,
    /// The budget version the shares come from.
    pub budget_version: u32,
    /// 1/12 of the method's budget.
    pub budget_share: Decimal,
    /// Σ fund_due_total + adjustments_total of the month's statements.
    pub settled: Decimal,
    /// budget_share − settled.
    pub difference: Decimal,
    /// The method's budget × (months of that method so far) / 12.
    pub cumulative_share: Decimal,
    /// Σ settled of the method's months so far.
    pub cumulative_settled: Decimal,
    /// cumulative_settled / the method's budget (`None` for a budget of 0).
    pub budget_used: Option<Decimal>,
    /// Statements of the month.
    pub statements: u64,
}

/// One hospital's month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HospitalExecution {
    /// The hospital.
    pub hospital_id: String,
    /// The discharge month.
    pub month: YearMonth,
    /// The method of the month.
    pub method: SettledMethod,
    /// The budget version of the region's line it sits under.
    pub budget_version: u32,
    /// fund_due_total + adjustments_total of its statement.
    pub settled: Decimal,
    /// Σ settled of its months of the method so far.
    pub cumulative_settled: Decimal,
    /// settled / the region's settled of the month (`None` when the region settled 0).
    pub share_of_region: Option<Decimal>,
}

/// The execution of a year's budget (预算执行).
#[derive(Debug, Clone, Serialize)]
pub struct Execution {
    /// The year.
    pub year: i32,
    /// The version the figures are computed against.
    pub budget: BudgetVersion,
    /// The region, by month (`None` for a hospital's view).
    pub months: Vec<MonthExecution>,
    /// The hospitals, by month then hospital.
    pub hospitals: Vec<HospitalExecution>,
    /// How the figures were computed.
    pub reasons: Vec<String>,
}

fn ratio(a: Decimal, b: Decimal) -> Option<Decimal> {
    if b.is_zero() {
        None
    } else {
        a.checked_div(b).map(|r| r.round_dp(6))
    }
}

fn add(a: Decimal, b: Decimal, what: &str) -> Result<Decimal> {
    a.checked_add(b)
        .ok_or_else(|| crate::invalid!("the sum of {what} overflows"))
}

/// The execution of `year`'s budget under `version` (default: the last), from the ledger's
/// monthly statements; of one hospital with `hospital` (its lines only, the region's left
/// out).
pub async fn execution(
    store: &Store,
    year: i32,
    version: Option<u32>,
    hospital: Option<&str>,
) -> Result<Execution> {
    let budget = version_of(store, year, version).await?;
    let runs = store.settlement_runs(None).await?;
    let mut method_of: BTreeMap<YearMonth, SettledMethod> = BTreeMap::new();
    for r in runs.iter().filter(|r| r.month.year() == year) {
        let m = SettledMethod::parse(&r.inputs.method).ok_or_else(|| {
            crate::invalid!(
                "settlement run {} of {} has method {:?}, neither drg nor dip",
                r.run_id,
                r.month,
                r.inputs.method
            )
        })?;
        method_of.insert(r.month, m); // runs are oldest first: the last one stays
    }
    let statements = store
        .statements_in(drgdip_settle::Period::Year(year), None)
        .await?;
    let mut months = Vec::new();
    let mut hospitals = Vec::new();
    let mut count: BTreeMap<SettledMethod, i64> = BTreeMap::new();
    let mut cumulative: BTreeMap<SettledMethod, Decimal> = BTreeMap::new();
    let mut cumulative_h: BTreeMap<(SettledMethod, String), Decimal> = BTreeMap::new();
    for (&month, &method) in &method_of {
        let of_month: Vec<_> = statements.iter().filter(|s| s.month == month).collect();
        let mut settled = Decimal::ZERO;
        let mut lines = Vec::new();
        for s in &of_month {
            let h = add(s.fund_due_total, s.adjustments_total, "a statement")?;
            settled = add(settled, h, "the month's statements")?;
            lines.push((s.hospital_id.clone(), h));
        }
        let k = count.entry(method).or_default();
        *k += 1;
        let b = budget.of_method(method);
        let twelfth = |n: i64| {
            b.checked_mul(Decimal::from(n))
                .map(|x| round_fen(x / Decimal::from(12)))
                .ok_or_else(|| crate::invalid!("the budget share overflows"))
        };
        let share = twelfth(1)?;
        let cumulative_share = twelfth(*k)?;
        let cum = cumulative.entry(method).or_default();
        *cum = add(*cum, settled, "the months settled")?;
        months.push(MonthExecution {
            month,
            method,
            budget_version: budget.version,
            budget_share: share,
            settled,
            difference: share - settled,
            cumulative_share,
            cumulative_settled: *cum,
            budget_used: ratio(*cum, b),
            statements: of_month.len() as u64,
        });
        for (id, h) in lines {
            let c = cumulative_h.entry((method, id.clone())).or_default();
            *c = add(*c, h, "a hospital's months")?;
            if hospital.is_none_or(|want| want == id) {
                hospitals.push(HospitalExecution {
                    hospital_id: id,
                    month,
                    method,
                    budget_version: budget.version,
                    settled: h,
                    cumulative_settled: *c,
                    share_of_region: ratio(h, settled),
                });
            }
        }
    }
    let reasons = vec![
        format!(
            "budget {year} version {} (approved {}; {})",
            budget.version, budget.approval, budget.reason
        ),
        "budget share of a month: 1/12 of the method's budget (DRG months: inpatient.drg, DIP months: inpatient.dip); cumulative: budget × months / 12, to the fen".into(),
        "settled: Σ fund_due_total + adjustments_total of the month's statements in the ledger; the month's method: its last settlement run's".into(),
    ];
    Ok(Execution {
        year,
        budget,
        months: if hospital.is_some() {
            Vec::new()
        } else {
            months
        },
        hospitals,
        reasons,
    })
}

/// The year-end forecast of a method (预算执行预测).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Forecast {
    /// The method.
    pub method: SettledMethod,
    /// The budget version.
    pub budget_version: u32,
    /// The method's budget.
    pub budget: Decimal,
    /// Months settled with the method.
    pub months_settled: u32,
    /// Σ settled of those months.
    pub settled_so_far: Decimal,
    /// settled_so_far × 12 / months_settled, to the fen.
    pub year_end: Decimal,
    /// year_end / budget (`None` for a budget of 0).
    pub budget_used: Option<Decimal>,
    /// budget − year_end: left unspent (negative: overspent).
    pub balance: Decimal,
    /// The method, in words.
    pub reason: String,
}

/// The year-end forecast per method from the execution's months: the run rate.
pub fn forecast(execution: &Execution) -> Result<Vec<Forecast>> {
    let mut by: BTreeMap<SettledMethod, (u32, Decimal)> = BTreeMap::new();
    for m in &execution.months {
        let e = by.entry(m.method).or_default();
        e.0 += 1;
        e.1 = add(e.1, m.settled, "the months settled")?;
    }
    by.into_iter()
        .map(|(method, (n, so_far))| {
            let year_end = so_far
                .checked_mul(Decimal::from(12))
                .map(|x| round_fen(x / Decimal::from(n)))
                .ok_or_else(|| crate::invalid!("the forecast overflows"))?;
            let budget = execution.budget.of_method(method);
            Ok(Forecast {
                method,
                budget_version: execution.budget.version,
                budget,
                months_settled: n,
                settled_so_far: so_far,
                year_end,
                budget_used: ratio(year_end, budget),
                balance: budget - year_end,
                reason: format!(
                    "run rate: {so_far} settled over {n} month(s) × 12 / {n} = {year_end}, against the {} budget {budget} of version {}",
                    method.as_str(),
                    execution.budget.version
                ),
            })
        })
        .collect()
}

/// How much of the budget a clearing used (预算使用率).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BudgetUse {
    /// The method cleared.
    pub method: SettledMethod,
    /// The budget version (`None`: the parameter file's plan, not registered in the ledger).
    pub budget_version: Option<u32>,
    /// The method's budget.
    pub budget: Decimal,
    /// Σ settled of the clearing statements (what the year is worth to the hospitals).
    pub cleared: Decimal,
    /// cleared / budget (`None` for a budget of 0).
    pub used: Option<Decimal>,
    /// In words, naming the version.
    pub reason: String,
}

/// The share of the budget the clearing `statements` used: against the ledger's last version
/// of the year, or the parameters' budget when the ledger has none (said so).
pub async fn clearing_use(
    store: &Store,
    params: &Params,
    year: i32,
    statements: &[ClearingStatement],
) -> Result<BudgetUse> {
    let method = SettledMethod::of(params.region.method);
    let cleared = statements
        .iter()
        .try_fold(Decimal::ZERO, |t, s| t.checked_add(s.settled))
        .ok_or_else(|| crate::invalid!("the sum of the clearing overflows"))?;
    let last = versions(store, year).await?.pop();
    let (budget_version, budget, source) = match &last {
        Some(v) => (
            Some(v.version),
            v.of_method(method),
            format!("budget {year} version {} of the ledger", v.version),
        ),
        None => {
            let b = match method {
                SettledMethod::Drg => params.budget.drg(),
                SettledMethod::Dip => params.budget.dip(),
            };
            let v = params
                .budget
                .plan
                .as_ref()
                .map_or("without a version".to_string(), |p| {
                    format!("version {}", p.version)
                });
            (
                None,
                b,
                format!("the parameter file's budget ({v}, not registered in the ledger: drgdip budget register)"),
            )
        }
    };
    let used = ratio(cleared, budget);
    let reason = format!(
        "the clearing used {} of the {} budget {budget} ({source}): Σ settled {cleared}",
        used.map_or("—".to_string(), |u| format!(
            "{:.2}%",
            u * Decimal::from(100)
        )),
        method.as_str()
    );
    Ok(BudgetUse {
        method,
        budget_version,
        budget,
        cleared,
        used,
        reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn the_approval_text_splits_into_date_who_and_document() {
        let a = Approval::from_text("2025-01-15 示例统筹区医保局 示医保〔2025〕1号");
        assert_eq!(a.on, "2025-01-15".parse().ok());
        assert_eq!(a.by, "示例统筹区医保局");
        assert_eq!(a.document, "示医保〔2025〕1号");
        let b = Approval::from_text("the board");
        assert_eq!(
            (b.by.as_str(), b.on, b.document.as_str()),
            ("the board", None, "")
        );
    }

    fn version() -> BudgetVersion {
        BudgetVersion {
            year: 2025,
            version: 1,
            total: dec!(1500000000.00),
            outpatient: dec!(520000000.00),
            reserve_share: dec!(0.05),
            inpatient: MethodSplit {
                drg: dec!(480000000.00),
                dip: dec!(0),
                per_diem: dec!(90000000.00),
                per_item: dec!(230000000.00),
                other: dec!(105000000.00),
            },
            approval: Approval::from_text("2025-01-15 bureau doc-1"),
            reason: "initial".into(),
            adjusts: None,
        }
    }

    #[test]
    fn a_version_whose_parts_do_not_add_up_is_refused() {
        assert!(version().check().is_ok());
        let mut v = version();
        v.inpatient.drg += dec!(1);
        let e = v.check().unwrap_err().to_string();
        assert!(e.contains("differs from outpatient"), "{e}");
        let mut v = version();
        v.reserve_share = dec!(1.5);
        assert!(v.check().unwrap_err().to_string().contains("reserve_share"));
    }

    fn month(m: u8, method: SettledMethod, settled: Decimal) -> MonthExecution {
        MonthExecution {
            month: YearMonth::new(2025, m).unwrap(),
            method,
            budget_version: 1,
            budget_share: dec!(0),
            settled,
            difference: dec!(0),
            cumulative_share: dec!(0),
            cumulative_settled: dec!(0),
            budget_used: None,
            statements: 1,
        }
    }

    #[test]
    fn the_forecast_is_the_run_rate_of_the_months_settled() {
        let e = Execution {
            year: 2025,
            budget: version(),
            months: vec![
                month(1, SettledMethod::Drg, dec!(30000000.00)),
                month(2, SettledMethod::Drg, dec!(50000000.00)),
                month(3, SettledMethod::Drg, dec!(40000000.01)),
            ],
            hospitals: vec![],
            reasons: vec![],
        };
        let f = forecast(&e).unwrap();
        assert_eq!(f.len(), 1);
        // 120,000,000.01 × 12 / 3 = 480,000,000.04
        assert_eq!(f[0].year_end, dec!(480000000.04));
        assert_eq!(f[0].balance, dec!(-0.04));
        assert_eq!(f[0].budget_version, 1);
        assert_eq!(f[0].budget_used, Some(dec!(1.000000)));
    }
}
