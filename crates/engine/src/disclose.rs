//! 亮家底 — the disclosure pack (`payment-model.md` §11), gathered from the ledger and the fund
//! file: the fund's income and expenditure by item (the fund file, plus the ledger's DRG/DIP
//! payments: the monthly statements' fund due), the balance, budget execution (the parameter
//! file's `[budget]`, [`budget_execution`]), payment by method, hospitals' cost and payment per
//! level and kind, the clearing, prepayments granted and recovered, the special-case notice
//! and the opinions' counts. Rendered by `drgdip_report::Disclosure`.
//!
//! A hospital's pack (`hospital = Some(id)`) carries its own figures and the region's
//! aggregates: the [`Disclosure`] has no place for another hospital's id or name.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::str::FromStr;

use drgdip_pay::money::round_fen;
use drgdip_pay::params::BudgetPlan;
use drgdip_pay::{Hospitals, Params};
use drgdip_report::{
    special_case_notice, BudgetLine, CaseSums, ClearingSums, Disclosure, FundBalance, FundLine,
    FundMonth, HospitalNames, LevelKindRow, MethodLine, OwnHospital, PrepaymentSums, Provenance,
    RunRef, SpecialHalf,
};
use drgdip_settle::{Balance, HalfYear, Period, YearMonth};
use drgdip_store::Store;
use rust_decimal::Decimal;

use crate::{invalid, Result};

/// What a row of the fund file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Direction {
    /// 收入.
    Income,
    /// 支出.
    Expenditure,
    /// 年初滚存 — the opening balance of the year.
    Balance,
}

impl Direction {
    fn parse(text: &str) -> Option<Direction> {
        match text {
            "income" => Some(Direction::Income),
            "expenditure" => Some(Direction::Expenditure),
            "balance" => Some(Direction::Balance),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Direction::Income => "income",
            Direction::Expenditure => "expenditure",
            Direction::Balance => "balance",
        }
    }
}

/// One row of the fund file (`month,direction,item,name,amount`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FundRow {
    /// Its line in the file.
    pub line: u64,
    /// The month.
    pub month: YearMonth,
    /// Income, expenditure or the opening balance.
    pub direction: Direction,
    /// The item's key.
    pub item: String,
    /// Its name.
    pub name: String,
    /// CNY, ≥ 0, at most 2 decimals.
    pub amount: Decimal,
}

/// 基金运行 — the fund file: the fund's operation outside DRG/DIP, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FundBook {
    /// The rows, in file order.
    pub rows: Vec<FundRow>,
}

/// The most problems listed in one error.
const MAX_PROBLEMS: usize = 20;

impl FundBook {
    /// Reads the fund file.
    pub fn read(path: &Path) -> Result<FundBook> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| invalid!("cannot read the fund file {}: {e}", path.display()))?;
        FundBook::from_csv_str(&text).map_err(|e| invalid!("fund file {}: {e}", path.display()))
    }

    /// Parses the fund file by header name; every row is checked (month `YYYY-MM`, direction
    /// `income`, `expenditure` or `balance`, item and name not empty, amount ≥ 0 with at most
    /// 2 decimals, one row per month and item, one balance row per year); every problem is
    /// named by line, field and value.
    pub fn from_csv_str(text: &str) -> Result<FundBook> {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .from_reader(text.as_bytes());
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| invalid!("line 1: {e}"))?
            .iter()
            .map(|c| c.trim().trim_start_matches('\u{feff}').to_string())
            .collect();
        let mut at = [0usize; 5];
        for (k, name) in ["month", "direction", "item", "name", "amount"]
            .iter()
            .enumerate()
        {
            at[k] = header.iter().position(|h| h == name).ok_or_else(|| {
                invalid!(
                    "line 1: column {name} missing (expected month,direction,item,name,amount; found {})",
                    header.join(",")
                )
            })?;
        }
        let mut rows = Vec::new();
        let mut problems: Vec<String> = Vec::new();
        let mut seen: BTreeMap<(YearMonth, String), u64> = BTreeMap::new();
        let mut balances: BTreeMap<i32, u64> = BTreeMap::new();
        for (i, record) in reader.records().enumerate() {
            let line = i as u64 + 2;
            let record = match record {
                Ok(r) => r,
                Err(e) => {
                    problems.push(format!("line {line}: {e}"));
                    continue;
                }
            };
            let field = |k: usize| record.get(at[k]).unwrap_or("").trim();
            let mut bad = |name: &str, value: &str, why: &str| {
                problems.push(format!("line {line}, field {name}, value {value:?}: {why}"));
            };
            let month = field(0).parse::<YearMonth>().ok();
            if month.is_none() {
                bad("month", field(0), "expected a month YYYY-MM");
            }
            let direction = Direction::parse(field(1));
            if direction.is_none() {
                bad(
                    "direction",
                    field(1),
                    "expected income, expenditure or balance",
                );
            }
            if field(2).is_empty() {
                bad("item", "", "an item key is needed");
            }
            if field(3).is_empty() {
                bad("name", "", "a name is needed");
            }
            let amount = Decimal::from_str(field(4))
                .ok()
                .filter(|a| !a.is_sign_negative() && a.scale() <= 2);
            if amount.is_none() {
                bad(
                    "amount",
                    field(4),
                    "expected an amount ≥ 0 with at most 2 decimals",
                );
            }
            let (Some(month), Some(direction), Some(amount)) = (month, direction, amount) else {
                continue;
            };
            if field(2).is_empty() || field(3).is_empty() {
                continue;
            }
            if let Some(first) = seen.insert((month, field(2).to_string()), line) {
                bad(
                    "item",
                    field(2),
                    &format!("a second row of {month} for this item (the first on line {first})"),
                );
                continue;
            }
            if direction == Direction::Balance {
                if let Some(first) = balances.insert(month.year(), line) {
                    bad(
                        "direction",
                        "balance",
                        &format!(
                            "a second balance row of {} (the first on line {first})",
                            month.year()
                        ),
                    );
                    continue;
                }
            }
            rows.push(FundRow {
                line,
                month,
                direction,
                item: field(2).to_string(),
                name: field(3).to_string(),
                amount,
            });
        }
        if !problems.is_empty() {
            let n = problems.len();
            problems.truncate(MAX_PROBLEMS);
            let more = if n > MAX_PROBLEMS {
                format!("; and {} more", n - MAX_PROBLEMS)
            } else {
                String::new()
            };
            return Err(invalid!("{} bad row(s): {}{more}", n, problems.join("; ")));
        }
        Ok(FundBook { rows })
    }

    /// The opening balance of `year`.
    pub fn opening_balance(&self, year: i32) -> Option<Decimal> {
        self.rows
            .iter()
            .find(|r| r.direction == Direction::Balance && r.month.year() == year)
            .map(|r| r.amount)
    }

    /// The months with an income or expenditure row.
    pub fn months(&self) -> BTreeSet<YearMonth> {
        self.rows
            .iter()
            .filter(|r| r.direction != Direction::Balance)
            .map(|r| r.month)
            .collect()
    }

    fn sum(&self, direction: Direction, month: YearMonth, item: Option<&str>) -> Decimal {
        self.rows
            .iter()
            .filter(|r| r.direction == direction && r.month == month)
            .filter(|r| item.is_none_or(|i| r.item == i))
            .map(|r| r.amount)
            .sum()
    }
}

/// The budget figures budget execution needs: the ledger's last version of the year's budget
/// (`drgdip budget`), or the parameter file's `[budget]` plan when none is registered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BudgetFigures {
    /// `budget v1, approved 2025-01-15 …`.
    pub version: String,
    /// The year's whole expenditure budget.
    pub total: Decimal,
    /// Outpatient.
    pub outpatient: Decimal,
    /// Inpatient DRG.
    pub drg: Decimal,
    /// Inpatient DIP.
    pub dip: Decimal,
    /// Inpatient per-diem.
    pub per_diem: Decimal,
    /// Inpatient per-item.
    pub per_item: Decimal,
    /// Inpatient other.
    pub other: Decimal,
}

impl BudgetFigures {
    /// The figures of a version of the ledger's budget (`drgdip budget`), named by its
    /// version and approval.
    pub fn of_version(v: &crate::budget::BudgetVersion) -> BudgetFigures {
        let on = v.approval.on.map(|d| format!("{d} ")).unwrap_or_default();
        BudgetFigures {
            version: format!(
                "budget v{} (ledger), approved {on}{} {}",
                v.version, v.approval.by, v.approval.document
            ),
            total: v.total,
            outpatient: v.outpatient,
            drg: v.inpatient.drg,
            dip: v.inpatient.dip,
            per_diem: v.inpatient.per_diem,
            per_item: v.inpatient.per_item,
            other: v.inpatient.other,
        }
    }

    /// The figures of a `[budget]` plan, named by its version and approval.
    pub fn of_plan(plan: &BudgetPlan) -> BudgetFigures {
        BudgetFigures {
            version: format!("budget v{}, approved {}", plan.version, plan.approved),
            total: plan.total,
            outpatient: plan.outpatient,
            drg: plan.inpatient.drg,
            dip: plan.inpatient.dip,
            per_diem: plan.inpatient.per_diem,
            per_item: plan.inpatient.per_item,
            other: plan.inpatient.other,
        }
    }
}

/// What was spent in a period, per budget line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Spent {
    /// The fund file's `outpatient`.
    pub outpatient: Decimal,
    /// The ledger's DRG payments (monthly statements' fund due).
    pub drg: Decimal,
    /// The ledger's DIP payments.
    pub dip: Decimal,
    /// The fund file's `inpatient_per_diem`.
    pub per_diem: Decimal,
    /// The fund file's `inpatient_per_item`.
    pub per_item: Decimal,
    /// Every other expenditure item of the fund file.
    pub other: Decimal,
}

impl Spent {
    /// The sum.
    pub fn total(&self) -> Decimal {
        self.outpatient + self.drg + self.dip + self.per_diem + self.per_item + self.other
    }
}

/// 预算执行 — each budget line against what was spent over `months` months: the period's
/// budget is the annual one × months / 12 (to the fen, half-up), the rate executed / period
/// budget. `ledger` and `fund` name the sources of the executed figures.
pub fn budget_execution(
    budget: &BudgetFigures,
    months: u32,
    spent: &Spent,
    ledger: &str,
    fund: &str,
) -> Vec<BudgetLine> {
    let share = Decimal::from(months) / Decimal::from(12);
    let line = |key: &str, name: &str, annual: Decimal, executed: Decimal, from: &str| {
        let period_budget = round_fen(annual * share);
        BudgetLine {
            line: key.into(),
            name: name.into(),
            annual,
            period_budget,
            executed,
            rate: (!period_budget.is_zero()).then(|| executed / period_budget),
            source: format!("{from}; {}", budget.version),
        }
    };
    vec![
        line(
            "total",
            "基金支出预算合计（含调剂金）",
            budget.total,
            spent.total(),
            &format!("{fund}; {ledger}"),
        ),
        line(
            "outpatient",
            "门诊",
            budget.outpatient,
            spent.outpatient,
            fund,
        ),
        line("drg", "住院 DRG", budget.drg, spent.drg, ledger),
        line("dip", "住院 DIP", budget.dip, spent.dip, ledger),
        line(
            "per_diem",
            "住院按床日",
            budget.per_diem,
            spent.per_diem,
            fund,
        ),
        line(
            "per_item",
            "住院按项目",
            budget.per_item,
            spent.per_item,
            fund,
        ),
        line(
            "other",
            "其他（药店、异地、其他支出）",
            budget.other,
            spent.other,
            fund,
        ),
    ]
}

/// What the pack reads besides the ledger.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// The region's parameters (`[budget]`).
    pub params: &'a Params,
    /// The parameter file as named, with its SHA-256.
    pub params_label: &'a str,
    /// The hospitals (level, kind, names).
    pub hospitals: &'a Hospitals,
    /// The fund file.
    pub fund: &'a FundBook,
    /// The fund file as named, with its SHA-256.
    pub fund_label: &'a str,
}

/// The half-years a period touches.
fn halves(period: Period) -> Vec<HalfYear> {
    let mut out: Vec<HalfYear> = Vec::new();
    let mut m = period.first_month();
    loop {
        let h = m.half_year();
        if !out.contains(&h) {
            out.push(h);
        }
        if m == period.last_month() {
            break;
        }
        m = next_month(m);
    }
    out
}

fn next_month(m: YearMonth) -> YearMonth {
    if m.month() == 12 {
        YearMonth::new(m.year() + 1, 1).unwrap_or(m)
    } else {
        YearMonth::new(m.year(), m.month() + 1).unwrap_or(m)
    }
}

fn months_of(from: YearMonth, to: YearMonth) -> Vec<YearMonth> {
    let mut out = Vec::new();
    let mut m = from;
    while m <= to {
        out.push(m);
        m = next_month(m);
    }
    out
}

/// In a hospital's pack, a level and kind of fewer hospitals than this is merged with the
/// other small ones (of its level, then of every level), so that no row is another
/// hospital's own figures.
pub const MIN_CLASS: u64 = 3;

/// The kind of a merged row.
pub const OTHER_KINDS: &str = "other_kinds";

/// `rows` with those of fewer than [`MIN_CLASS`] hospitals summed by `key` (the others kept).
fn merge_small(
    rows: Vec<LevelKindRow>,
    key: impl Fn(&LevelKindRow) -> (u8, String),
) -> Vec<LevelKindRow> {
    let (small, mut kept): (Vec<_>, Vec<_>) =
        rows.into_iter().partition(|r| r.sums.hospitals < MIN_CLASS);
    let mut merged: BTreeMap<(u8, String), LevelKindRow> = BTreeMap::new();
    for r in small {
        let (level, kind) = key(&r);
        let m = merged.entry((level, kind.clone())).or_insert(LevelKindRow {
            level,
            kind,
            sums: CaseSums::default(),
            ratio_min: None,
            ratio_max: None,
        });
        add_row(m, &r);
    }
    kept.extend(merged.into_values());
    kept.sort_by(|a, b| (b.level, &a.kind).cmp(&(a.level, &b.kind)));
    kept
}

/// Adds `from` into `into` (sums, the lowest and highest ratios).
fn add_row(into: &mut LevelKindRow, from: &LevelKindRow) {
    into.sums.hospitals += from.sums.hospitals;
    into.sums.cases += from.sums.cases;
    into.sums.total_cost += from.sums.total_cost;
    into.sums.payment += from.sums.payment;
    into.sums.fund_due += from.sums.fund_due;
    into.ratio_min = match (into.ratio_min, from.ratio_min) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    into.ratio_max = match (into.ratio_max, from.ratio_max) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
}

/// `rows` with each row of fewer than [`MIN_CLASS`] hospitals folded into the smallest other
/// row of its level, else the smallest other row (level 0: several levels), the kinds joined
/// with `+`; until none is left or one row remains.
fn fold_small(mut rows: Vec<LevelKindRow>) -> Vec<LevelKindRow> {
    while rows.len() > 1 {
        let Some(i) = rows.iter().position(|r| r.sums.hospitals < MIN_CLASS) else {
            break;
        };
        let small = rows.remove(i);
        let smallest = |same_level: bool| {
            rows.iter()
                .enumerate()
                .filter(|(_, r)| !same_level || r.level == small.level)
                .min_by_key(|(_, r)| r.sums.hospitals)
                .map(|(j, _)| j)
        };
        let Some(j) = smallest(true).or_else(|| smallest(false)) else {
            rows.push(small);
            break;
        };
        let into = &mut rows[j];
        if into.level != small.level {
            into.level = 0;
        }
        into.kind = format!("{}+{}", into.kind, small.kind);
        add_row(into, &small);
    }
    rows.sort_by(|a, b| (b.level, &a.kind).cmp(&(a.level, &b.kind)));
    rows
}

/// Gathers the pack of `period` (a month, a quarter, a half-year or a year of one year),
/// optionally for one hospital. Fails when the ledger has no settlement run of the period,
/// when the fund file lacks the opening balance of the year or a month of the year up to the
/// period's end, or when the hospital is unknown.
pub async fn gather(
    store: &Store,
    period: Period,
    hospital: Option<&str>,
    inputs: Inputs<'_>,
) -> Result<Disclosure> {
    let first = period.first_month();
    let last = period.last_month();
    let year = first.year();
    let own_hospital = match hospital {
        Some(id) => Some(
            inputs
                .hospitals
                .get(id)
                .ok_or_else(|| invalid!("hospital {id} is not in the hospitals file"))?,
        ),
        None => None,
    };
    let year_months = months_of(YearMonth::new(year, 1).unwrap_or(first), last);
    let opening_of_year = inputs.fund.opening_balance(year).ok_or_else(|| {
        invalid!("the fund file has no balance row (the opening balance) of {year}")
    })?;
    let fund_months = inputs.fund.months();
    let missing: Vec<String> = year_months
        .iter()
        .filter(|m| !fund_months.contains(m))
        .map(|m| m.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(invalid!(
            "the fund file has no income or expenditure rows of {} (needed for {period}: the period and the year's months before it)",
            missing.join(", ")
        ));
    }

    // The settlement run of each month: its latest committed run.
    let mut runs_by_month: BTreeMap<YearMonth, RunRef> = BTreeMap::new();
    for r in store.settlement_runs(None).await? {
        if r.month >= YearMonth::new(year, 1).unwrap_or(first) && r.month <= last {
            runs_by_month.insert(
                r.month,
                RunRef {
                    run_id: r.run_id,
                    month: r.month,
                    method: r.inputs.method.clone(),
                },
            );
        }
    }
    if !runs_by_month.keys().any(|m| period.contains(*m)) {
        return Err(invalid!(
            "the ledger has no settlement run of {period}: settle its months first with `drgdip settle`"
        ));
    }
    let statements = store.statements_in(Period::Year(year), None).await?;
    let mut drg_dip_by_month: BTreeMap<YearMonth, Decimal> = BTreeMap::new();
    for s in statements.iter().filter(|s| s.month <= last) {
        *drg_dip_by_month.entry(s.month).or_default() += s.fund_due_total;
    }
    let method_of =
        |m: YearMonth| -> &str { runs_by_month.get(&m).map_or("drg", |r| r.method.as_str()) };
    let ledger_label = {
        let p = Provenance {
            settlement_runs: runs_by_month.values().cloned().collect(),
            clearing: None,
            budget_version: String::new(),
            params: String::new(),
            fund: String::new(),
        };
        p.runs()
    };
    let fund_label = format!("fund file {}", inputs.fund_label);

    // Fund lines of the period, in file order of first appearance.
    let mut fund: Vec<FundLine> = Vec::new();
    for direction in [Direction::Income, Direction::Expenditure] {
        for row in inputs
            .fund
            .rows
            .iter()
            .filter(|r| r.direction == direction && period.contains(r.month))
        {
            match fund
                .iter_mut()
                .find(|l| l.item == row.item && l.direction == direction.as_str())
            {
                Some(l) => l.amount += row.amount,
                None => fund.push(FundLine {
                    direction: direction.as_str().into(),
                    item: row.item.clone(),
                    name: row.name.clone(),
                    amount: row.amount,
                    source: fund_label.clone(),
                }),
            }
        }
    }
    let mut drg_period = Decimal::ZERO;
    let mut dip_period = Decimal::ZERO;
    for (m, v) in drg_dip_by_month
        .iter()
        .filter(|(m, _)| period.contains(**m))
    {
        if method_of(*m) == "dip" {
            dip_period += *v;
        } else {
            drg_period += *v;
        }
    }
    for (item, name, amount) in [
        (
            "drg_payments",
            "住院按病组付费（DRG，月结算基金应付）",
            drg_period,
        ),
        (
            "dip_payments",
            "住院按病种分值付费（DIP，月结算基金应付）",
            dip_period,
        ),
    ] {
        if !amount.is_zero() || (item == "drg_payments" && dip_period.is_zero()) {
            fund.push(FundLine {
                direction: "expenditure".into(),
                item: item.into(),
                name: name.into(),
                amount,
                source: ledger_label.clone(),
            });
        }
    }

    // Months and the balance.
    let month_figures = |m: YearMonth| FundMonth {
        month: m,
        income: inputs.fund.sum(Direction::Income, m, None),
        expenditure: inputs.fund.sum(Direction::Expenditure, m, None)
            + drg_dip_by_month.get(&m).copied().unwrap_or_default(),
        drg_dip: drg_dip_by_month.get(&m).copied().unwrap_or_default(),
    };
    let all_months: Vec<FundMonth> = year_months.iter().map(|m| month_figures(*m)).collect();
    let mut opening = opening_of_year;
    for m in all_months.iter().filter(|m| m.month < first) {
        opening += m.income - m.expenditure;
    }
    let in_period: Vec<FundMonth> = all_months
        .into_iter()
        .filter(|m| period.contains(m.month))
        .collect();
    let income: Decimal = in_period.iter().map(|m| m.income).sum();
    let expenditure: Decimal = in_period.iter().map(|m| m.expenditure).sum();
    let balance = FundBalance {
        opening,
        income,
        expenditure,
        closing: opening + income - expenditure,
    };

    // Budget execution.
    let fund_item = |item: &str| -> Decimal {
        months_of(first, last)
            .into_iter()
            .map(|m| inputs.fund.sum(Direction::Expenditure, m, Some(item)))
            .sum()
    };
    let named: Decimal = ["outpatient", "inpatient_per_diem", "inpatient_per_item"]
        .iter()
        .map(|i| fund_item(i))
        .sum();
    let fund_expenditure: Decimal = in_period.iter().map(|m| m.expenditure - m.drg_dip).sum();
    let spent = Spent {
        outpatient: fund_item("outpatient"),
        drg: drg_period,
        dip: dip_period,
        per_diem: fund_item("inpatient_per_diem"),
        per_item: fund_item("inpatient_per_item"),
        other: fund_expenditure - named,
    };
    let months_n = months_of(first, last).len() as u32;
    // The ledger's last budget version of the year when one is registered (`drgdip budget`),
    // else the parameter file's plan.
    let figures = match crate::budget::versions(store, year).await?.last() {
        Some(v) => Some(BudgetFigures::of_version(v)),
        None => inputs
            .params
            .budget
            .plan
            .as_ref()
            .map(BudgetFigures::of_plan),
    };
    let (budget, budget_version) = match figures {
        Some(figures) => {
            let lines = budget_execution(&figures, months_n, &spent, &ledger_label, &fund_label);
            (lines, figures.version)
        }
        None => (
            Vec::new(),
            format!(
                "no [budget] plan in the parameters (inpatient_fund_budget {} only): no budget execution",
                inputs.params.budget.inpatient_fund_budget
            ),
        ),
    };

    // Payment by method.
    let cases = store.settled_cases_in(period, None).await?;
    let mut methods = Vec::new();
    for (method, name) in [("drg", "按病组（DRG）"), ("dip", "按病种分值（DIP）")] {
        let n = cases
            .iter()
            .filter(|c| method_of(c.discharge_month) == method)
            .count() as u64;
        let amount = if method == "dip" {
            dip_period
        } else {
            drg_period
        };
        if n > 0 || !amount.is_zero() {
            methods.push(MethodLine {
                method: method.into(),
                name: name.into(),
                cases: Some(n),
                amount,
                source: ledger_label.clone(),
            });
        }
    }
    for (method, item, name) in [
        ("per_diem", "inpatient_per_diem", "按床日"),
        ("per_item", "inpatient_per_item", "按项目"),
    ] {
        methods.push(MethodLine {
            method: method.into(),
            name: name.into(),
            cases: None,
            amount: fund_item(item),
            source: fund_label.clone(),
        });
    }

    // Distribution per level and kind.
    let mut per_hospital: BTreeMap<&str, CaseSums> = BTreeMap::new();
    let mut region = CaseSums::default();
    for c in &cases {
        for s in [per_hospital.entry(&c.hospital_id).or_default(), &mut region] {
            s.cases += 1;
            s.total_cost += round_fen(c.total_cost);
            s.payment += round_fen(c.payment);
            s.fund_due += round_fen(c.fund_due);
        }
    }
    region.hospitals = per_hospital.len() as u64;
    let class_of = |id: &str| -> (u8, String) {
        match inputs.hospitals.get(id) {
            Some(h) => (
                h.level,
                h.kind
                    .map_or_else(|| "unknown".to_string(), |k| k.to_string()),
            ),
            None => (0, "unknown".to_string()),
        }
    };
    let mut classes: BTreeMap<(u8, String), LevelKindRow> = BTreeMap::new();
    for (id, s) in &per_hospital {
        let (level, kind) = class_of(id);
        let row = classes
            .entry((level, kind.clone()))
            .or_insert(LevelKindRow {
                level,
                kind,
                sums: CaseSums::default(),
                ratio_min: None,
                ratio_max: None,
            });
        row.sums.hospitals += 1;
        row.sums.cases += s.cases;
        row.sums.total_cost += s.total_cost;
        row.sums.payment += s.payment;
        row.sums.fund_due += s.fund_due;
        if let Some(r) = s.ratio() {
            row.ratio_min = Some(row.ratio_min.map_or(r, |m| m.min(r)));
            row.ratio_max = Some(row.ratio_max.map_or(r, |m| m.max(r)));
        }
    }
    let mut distribution: Vec<LevelKindRow> = classes.into_values().rev().collect();
    if own_hospital.is_some() {
        // a hospital's pack: no class so small that its figures are another hospital's
        distribution = merge_small(distribution, |r| (r.level, OTHER_KINDS.to_string()));
        distribution = fold_small(distribution);
    }
    let own = own_hospital.map(|h| {
        let (level, kind) = class_of(&h.hospital_id);
        let mut sums = per_hospital
            .get(h.hospital_id.as_str())
            .copied()
            .unwrap_or_default();
        sums.hospitals = 1;
        OwnHospital {
            hospital_id: h.hospital_id.clone(),
            name: h.name.clone(),
            level,
            kind,
            sums,
            amount_due: statements
                .iter()
                .filter(|s| s.hospital_id == h.hospital_id && period.contains(s.month))
                .map(|s| s.amount_due)
                .sum(),
        }
    });

    // Clearing.
    let clearings = store.clearings(year, None).await?;
    let clearing_label = if clearings.is_empty() {
        None
    } else {
        let closed = store
            .closed_years()
            .await?
            .into_iter()
            .find(|c| c.year == year);
        Some(match closed {
            Some(c) => format!("clearing {year}, run closed at {} by {}", c.at, c.actor),
            None => format!("clearing {year} (the year was reopened after it)"),
        })
    };
    let sum_clearing = |filter: &dyn Fn(&str) -> bool| -> ClearingSums {
        let mut s = ClearingSums::default();
        for c in clearings.iter().filter(|c| filter(&c.hospital_id)) {
            s.hospitals += 1;
            match c.balance {
                Balance::Surplus => s.surplus += 1,
                Balance::Overspend => s.overspend += 1,
                Balance::Even => s.even += 1,
            }
            s.entitled += c.entitled;
            s.item_fund += c.item_fund;
            s.retained_or_shared += c.retained_or_shared;
            s.settled += c.settled;
            s.monthly_fund_due += c.monthly_fund_due;
            s.deposits_released += c.deposits_released;
            s.prepayment_recovered += c.prepayment_outstanding;
            s.final_amount += c.final_amount;
        }
        s
    };
    let clearing = (!clearings.is_empty()).then(|| sum_clearing(&|_| true));
    let own_clearing = match (&own, clearing.is_some()) {
        (Some(h), true) => Some(sum_clearing(&|id| id == h.hospital_id)),
        _ => None,
    };

    // Prepayments.
    let decisions = store.prepayments(year).await?;
    let sum_prepay = |filter: &dyn Fn(&str) -> bool, recovered: Option<Decimal>| {
        let mut s = PrepaymentSums::default();
        for d in decisions.iter().filter(|d| filter(&d.hospital_id)) {
            s.decided += 1;
            if d.is_granted() {
                s.granted += 1;
                s.granted_amount += d.amount;
            }
        }
        s.recovered = recovered;
        s
    };
    let prepayment = sum_prepay(&|_| true, clearing.map(|c| c.prepayment_recovered));
    let own_prepayment = own.as_ref().map(|h| {
        sum_prepay(
            &|id| id == h.hospital_id,
            own_clearing.map(|c| c.prepayment_recovered),
        )
    });

    // The special-case notice of the half-years of the period.
    let applications = store.applications(None, None).await?;
    let names = HospitalNames::from_hospitals(inputs.hospitals);
    let mut special = Vec::new();
    for half in halves(period) {
        let notice = special_case_notice(half, &applications, &names)
            .map_err(|e| invalid!("the special-case notice of {half}: {e}"))?;
        special.push(SpecialHalf {
            half,
            region: notice.totals,
            own: own.as_ref().and_then(|h| {
                notice
                    .lines
                    .iter()
                    .find(|l| l.row.hospital_id == h.hospital_id)
                    .map(|l| l.row.clone())
            }),
        });
    }

    // The opinions.
    let opinions = crate::governance::opinion_counts(store, first.first_day(), last.last_day())
        .await
        .map_err(|e| match e {
            crate::governance::GovernanceError::Engine(e) => e,
            other => invalid!("{other}"),
        })?;

    Ok(Disclosure {
        period,
        region_name: inputs.params.region.name.clone(),
        provenance: Provenance {
            settlement_runs: runs_by_month.into_values().collect(),
            clearing: clearing_label,
            budget_version,
            params: inputs.params_label.to_string(),
            fund: inputs.fund_label.to_string(),
        },
        own,
        fund,
        fund_months: in_period,
        balance,
        budget,
        methods,
        region,
        distribution,
        clearing,
        own_clearing,
        prepayment,
        own_prepayment,
        special,
        opinions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn the_fund_file_is_read_by_header_name() {
        let book = FundBook::from_csv_str(
            "amount,name,item,direction,month\n\
             100.00,滚存,opening_balance,balance,2025-01\n\
             5.5,缴费,employee_contributions,income,2025-01\n\
             2,门诊,outpatient,expenditure,2025-01\n",
        )
        .unwrap();
        assert_eq!(book.rows.len(), 3);
        assert_eq!(book.opening_balance(2025), Some(dec!(100.00)));
        assert_eq!(book.rows[1].amount, dec!(5.5));
        assert_eq!(book.months().len(), 1);
    }

    #[test]
    fn every_bad_row_of_the_fund_file_is_named() {
        let e = FundBook::from_csv_str(
            "month,direction,item,name,amount\n\
             2025-13,income,a,A,1\n\
             2025-01,spending,b,B,1\n\
             2025-01,income,,C,1\n\
             2025-01,income,d,D,-1\n\
             2025-01,income,e,E,1.234\n\
             2025-01,income,f,F,1\n\
             2025-01,income,f,F,2\n\
             2025-01,balance,g,G,1\n\
             2025-02,balance,h,H,1\n",
        )
        .unwrap_err()
        .to_string();
        for part in [
            "line 2, field month, value \"2025-13\"",
            "line 3, field direction, value \"spending\"",
            "line 4, field item",
            "line 5, field amount, value \"-1\"",
            "line 6, field amount, value \"1.234\"",
            "line 8, field item, value \"f\": a second row of 2025-01 for this item (the first on line 7)",
            "line 10, field direction, value \"balance\": a second balance row of 2025",
        ] {
            assert!(e.contains(part), "{part} not in {e}");
        }
        assert!(e.starts_with("7 bad row(s)"), "{e}");
        let e = FundBook::from_csv_str("month,direction,item,amount\n").unwrap_err();
        assert!(e.to_string().contains("column name missing"), "{e}");
    }

    #[test]
    fn budget_execution_prorates_the_annual_budget() {
        let budget = BudgetFigures {
            version: "budget v2, approved x".into(),
            total: dec!(1200),
            outpatient: dec!(600),
            drg: dec!(360),
            dip: dec!(0),
            per_diem: dec!(120),
            per_item: dec!(60),
            other: dec!(0),
        };
        let spent = Spent {
            outpatient: dec!(100),
            drg: dec!(45),
            per_item: dec!(5),
            ..Spent::default()
        };
        let lines = budget_execution(&budget, 3, &spent, "runs 1", "fund f");
        let total = &lines[0];
        assert_eq!(
            (total.period_budget, total.executed),
            (dec!(300), dec!(150))
        );
        assert_eq!(total.rate, Some(dec!(0.5)));
        let drg = lines.iter().find(|l| l.line == "drg").unwrap();
        assert_eq!((drg.period_budget, drg.rate), (dec!(90), Some(dec!(0.5))));
        assert_eq!(drg.source, "runs 1; budget v2, approved x");
        let dip = lines.iter().find(|l| l.line == "dip").unwrap();
        assert_eq!(dip.rate, None);
    }

    #[test]
    fn a_period_touches_its_half_years() {
        assert_eq!(halves(Period::Year(2025)).len(), 2);
        assert_eq!(halves("2025Q3".parse().unwrap()).len(), 1);
        assert_eq!(halves("2025-06".parse().unwrap())[0].to_string(), "2025H1");
    }
}
