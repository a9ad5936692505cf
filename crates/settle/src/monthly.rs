//! 月结算 — monthly settlement: one statement per hospital and discharge month.
//!
//! `payment-model.md` §6: for each hospital and discharge month, Σ fund_due at the provisional
//! rate or point value, minus `budget.monthly_quality_deposit_rate` withheld (质量保证金), due
//! within 30 working days of the declaration deadline (申报截止日).
//!
//! Rounding (half-up to the fen, [`round_fen`]) happens where a figure is published, and only
//! there:
//! - each case's amounts, because each case is a published settlement line;
//! - the deposit, `round_fen(rate × fund_due_total)`.
//!
//! Totals are sums of the published case lines, so every total equals the sum of its lines
//! and the categories add up to the statement; `amount_due = fund_due_total −
//! deposit_withheld` exactly.
//!
//! A statement is a pure function of the *set* of cases: the cases are sorted by case id
//! before anything is summed or checked, so the same cases in any order give identical
//! statements (and the same error).

use std::borrow::Borrow;
use std::collections::BTreeMap;
use std::fmt;

use drgdip_pay::money::{round_fen, Fen};
use drgdip_pay::{Category, InsuredClass, Params, Payment};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::audit::{Action, Actor, AuditEvent, Audited};
use crate::calendar::{Date, WorkCalendar, YearMonth};
use crate::percent;

/// Payment is due within this many working days of the declaration deadline
/// (医保办发〔2024〕9号: 自申报截止次日起30个工作日内).
pub const PAYMENT_WORKING_DAYS: u32 = 30;

/// One paid case as settlement sees it: who, when, and the money (exact, as priced).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettledCase {
    /// Case identifier (unique across the region).
    pub case_id: String,
    /// The treating hospital.
    pub hospital_id: String,
    /// 出院月份 — the discharge month, which decides the settlement month.
    pub discharge_month: YearMonth,
    /// The payment category.
    #[serde(with = "crate::category_text")]
    pub category: Category,
    /// What the case is worth under DRG/DIP payment (total-cost basis).
    pub payment: Decimal,
    /// The patient's own share, `total_cost − fund_paid`.
    pub own: Decimal,
    /// The fund's share under DRG/DIP payment, `max(0, payment − own)`.
    pub fund_due: Decimal,
    /// What the fund would pay per item (按项目) — the clearing's item fund.
    pub fund_paid: Decimal,
    /// The per-item total cost.
    pub total_cost: Decimal,
    /// The DRG relative weight, if any (for CMI).
    pub weight: Option<Decimal>,
    /// The DIP case score (病例分值), if the case is paid by DIP: clearing reprices it at
    /// the final point value.
    pub dip_score: Option<Decimal>,
    /// What priced the case: scheme, group, insured region (the book of record).
    #[serde(default)]
    pub pricing: CasePricing,
}

/// What priced a settled case (`payment-model.md` §6, the book of record): the scheme and
/// its version, the grouping, the insured region. Empty texts where a case was settled
/// before the ledger kept them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CasePricing {
    /// The scheme that grouped the case (`fujian-2024`).
    pub scheme: String,
    /// Its version (`2024.1`).
    pub scheme_version: String,
    /// The grouping status: `grouped`, `ambiguous`, `ungroupable`.
    pub status: String,
    /// The MDC.
    pub mdc: String,
    /// The ADRG (DRG schemes) or the DIP 2.0 key's ADRG.
    pub adrg: String,
    /// The payment group: the DRG code, or the DIP group id.
    pub group: String,
    /// 参保地 — where the patient is insured, seen from the region.
    #[serde(with = "crate::insured_text")]
    pub insured: InsuredClass,
}

impl SettledCase {
    /// Whether the case takes part in the region's clearing and point value: local and
    /// in-province cases do, cross-province cases are settled per item apart (§4, §6).
    pub fn in_local_pool(&self) -> bool {
        self.pricing.insured != InsuredClass::CrossProvince
            && self.category != Category::CrossProvince
    }
}

/// The money of a DIP case, for [`SettledCase::from_dip`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DipMoney {
    /// The case score (病例分值), level coefficient included.
    pub case_score: Decimal,
    /// The per-item total cost.
    pub total_cost: Decimal,
    /// What the fund would pay per item.
    pub fund_paid: Decimal,
}

impl SettledCase {
    /// A DRG case from its [`Payment`]: `fund_paid = total_cost − own`.
    pub fn from_payment(
        case_id: impl Into<String>,
        hospital_id: impl Into<String>,
        discharge_month: YearMonth,
        payment: &Payment,
    ) -> SettledCase {
        SettledCase {
            case_id: case_id.into(),
            hospital_id: hospital_id.into(),
            discharge_month,
            category: payment.category,
            payment: payment.payment,
            own: payment.own,
            fund_due: payment.fund_due,
            fund_paid: payment.total_cost - payment.own,
            total_cost: payment.total_cost,
            weight: payment.weight,
            dip_score: None,
            pricing: CasePricing::default(),
        }
    }

    /// A DIP case priced at `point_value` ([`drgdip_dip::dip_payment`]).
    pub fn from_dip(
        case_id: impl Into<String>,
        hospital_id: impl Into<String>,
        discharge_month: YearMonth,
        category: Category,
        money: DipMoney,
        point_value: Decimal,
    ) -> SettledCase {
        let own = money.total_cost - money.fund_paid;
        let (payment, fund_due) = drgdip_dip::dip_payment(money.case_score, point_value, own);
        SettledCase {
            case_id: case_id.into(),
            hospital_id: hospital_id.into(),
            discharge_month,
            category,
            payment,
            own,
            fund_due,
            fund_paid: money.fund_paid,
            total_cost: money.total_cost,
            weight: None,
            dip_score: Some(money.case_score),
            pricing: Default::default(),
        }
    }

    /// `(payment, fund_due)` of a DIP case at `point_value`; `None` for a case without a
    /// DIP score (a DRG case, or a per-item case of a DIP region), which keeps its amounts.
    pub fn dip_repriced(&self, point_value: Decimal) -> Option<(Decimal, Decimal)> {
        self.dip_score
            .map(|score| drgdip_dip::dip_payment(score, point_value, self.own))
    }
}

/// The totals of a group of cases; each amount is the sum of the cases' amounts, each
/// rounded half-up to the fen (a published line).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CategoryTotals {
    /// Number of cases.
    pub cases: u64,
    /// Σ total_cost.
    pub total_cost: Decimal,
    /// Σ fund_paid (per-item fund cost).
    pub fund_paid: Decimal,
    /// Σ own.
    pub own: Decimal,
    /// Σ payment.
    pub payment: Decimal,
    /// Σ fund_due.
    pub fund_due: Decimal,
}

impl CategoryTotals {
    /// Adds the case's published lines; on overflow names the sum that left the decimal range
    /// (the totals are then partly updated and must not be used).
    fn add(&mut self, case: &SettledCase) -> Result<(), &'static str> {
        fn plus(
            sum: &mut Decimal,
            amount: Decimal,
            what: &'static str,
        ) -> Result<(), &'static str> {
            *sum = sum.checked_add(round_fen(amount)).ok_or(what)?;
            Ok(())
        }
        self.cases = self.cases.checked_add(1).ok_or("the number of cases")?;
        plus(&mut self.total_cost, case.total_cost, "Σ total_cost")?;
        plus(&mut self.fund_paid, case.fund_paid, "Σ fund_paid")?;
        plus(&mut self.own, case.own, "Σ own")?;
        plus(&mut self.payment, case.payment, "Σ payment")?;
        plus(&mut self.fund_due, case.fund_due, "Σ fund_due")?;
        Ok(())
    }
}

/// A hospital's statement of one month (月结算单).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthlyStatement {
    /// The hospital.
    pub hospital_id: String,
    /// The discharge month settled.
    pub month: YearMonth,
    /// Number of cases.
    pub cases: u64,
    /// The cases settled, sorted.
    pub case_ids: Vec<String>,
    /// Totals by payment category (`normal`, `high`, …), keyed by the category's name.
    pub by_category: BTreeMap<String, CategoryTotals>,
    /// Totals of all cases.
    pub totals: CategoryTotals,
    /// Σ fund_due of the month (= `totals.fund_due`).
    pub fund_due_total: Decimal,
    /// The deposit rate applied (`budget.monthly_quality_deposit_rate`).
    pub deposit_rate: Decimal,
    /// 质量保证金 — `round_fen(deposit_rate × fund_due_total)`, released at clearing.
    pub deposit_withheld: Decimal,
    /// What the fund pays now: `fund_due_total − deposit_withheld`.
    pub amount_due: Decimal,
    /// 申报截止日 — the declaration deadline the due date counts from.
    pub declaration_deadline: Date,
    /// The last day to pay: the `due_working_days`th working day after the declaration
    /// deadline.
    pub due_by: Date,
    /// The working days counted (`[settlement].due_working_days`, 30 by default).
    #[serde(default = "default_due_working_days")]
    pub due_working_days: u32,
    /// 补差 — corrections of cases settled on earlier, already paid statements, carried onto
    /// this one (each names the case, the old and new amounts and the run that found it).
    #[serde(default)]
    pub adjustments: Vec<Adjustment>,
    /// Σ of the adjustments' differences, included in `amount_due`.
    #[serde(default)]
    pub adjustments_total: Decimal,
}

/// 补差 — the correction of a case whose month was re-settled after its statement was paid:
/// the paid statement stays as it was, and the difference goes onto the hospital's next
/// statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Adjustment {
    /// The ledger's number of the adjustment.
    pub id: i64,
    /// The hospital.
    pub hospital_id: String,
    /// The case corrected.
    pub case_id: String,
    /// The month the case was settled in (its paid statement).
    pub case_month: YearMonth,
    /// Its fund_due on the paid statement (0 for a case the re-run added).
    pub old_fund_due: Decimal,
    /// Its fund_due in the re-run (0 for a case the re-run no longer has).
    pub new_fund_due: Decimal,
    /// `new_fund_due − old_fund_due`.
    pub difference: Decimal,
    /// The settlement run that found the difference.
    pub run_id: i64,
}

fn default_due_working_days() -> u32 {
    PAYMENT_WORKING_DAYS
}

impl MonthlyStatement {
    /// The subject of the statement's audit events: `H001/2025-06`.
    pub fn subject(&self) -> String {
        format!("{}/{}", self.hospital_id, self.month)
    }

    /// The statement as one `key=value` line, for audit events (`before`/`after`).
    pub fn summary(&self) -> String {
        let adjustments = if self.adjustments.is_empty() {
            String::new()
        } else {
            format!(
                " adjustments={} ({})",
                Fen(self.adjustments_total),
                self.adjustments.len()
            )
        };
        format!(
            "cases={} fund_due_total={} deposit_withheld={}{adjustments} amount_due={} due_by={}",
            self.cases,
            Fen(self.fund_due_total),
            Fen(self.deposit_withheld),
            Fen(self.amount_due),
            self.due_by
        )
    }
}

impl fmt::Display for MonthlyStatement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "monthly statement (月结算) {} {}: {} cases",
            self.hospital_id, self.month, self.cases
        )?;
        for (category, t) in &self.by_category {
            writeln!(
                f,
                "  {category}: {} cases, total_cost {}, payment {}, own {}, fund_due {}",
                t.cases,
                Fen(t.total_cost),
                Fen(t.payment),
                Fen(t.own),
                Fen(t.fund_due)
            )?;
        }
        writeln!(
            f,
            "fund_due_total {}; deposit withheld {} × {}% = {}; amount due {} − {} = {}",
            Fen(self.fund_due_total),
            Fen(self.fund_due_total),
            percent(self.deposit_rate),
            Fen(self.deposit_withheld),
            Fen(self.fund_due_total),
            Fen(self.deposit_withheld),
            Fen(self.amount_due)
        )?;
        for a in &self.adjustments {
            writeln!(
                f,
                "  adjustment (补差) {}: case {} of {} (paid statement), fund_due {} → {} = {} (run {})",
                a.id,
                a.case_id,
                a.case_month,
                Fen(a.old_fund_due),
                Fen(a.new_fund_due),
                Fen(a.difference),
                a.run_id
            )?;
        }
        write!(
            f,
            "declaration deadline {}; due by {} (working day {} after it)",
            self.declaration_deadline, self.due_by, self.due_working_days
        )
    }
}

/// Why a month cannot be settled.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SettleError {
    /// A case discharged in another month.
    #[error("case {case_id} of hospital {hospital_id}: discharge month {discharge_month}, expected {month} (the month being settled)")]
    WrongMonth {
        /// The case.
        case_id: String,
        /// Its hospital.
        hospital_id: String,
        /// Its discharge month.
        discharge_month: YearMonth,
        /// The month being settled.
        month: YearMonth,
    },
    /// The same case twice: a case is settled once.
    #[error("case {case_id} appears more than once: a case is settled once")]
    DuplicateCase {
        /// The case.
        case_id: String,
    },
    /// The declaration deadline falls within the month being settled, or before it.
    #[error(
        "declaration deadline {deadline}: expected a date after the settled month {month} ends"
    )]
    DeadlineTooEarly {
        /// The deadline given.
        deadline: Date,
        /// The month being settled.
        month: YearMonth,
    },
    /// A sum of a hospital's statement leaves the range of a decimal (±7.9 × 10²⁸): the
    /// amounts of its cases cannot be real.
    #[error("hospital {hospital_id}, month {month}: {what} overflows the decimal range (±7.9e28): the case amounts cannot be real")]
    Overflow {
        /// The hospital whose statement overflowed.
        hospital_id: String,
        /// The month being settled.
        month: YearMonth,
        /// What overflowed, e.g. `Σ fund_due` or `Σ payment of category high`.
        what: String,
    },
}

/// Settles `month`: one [`MonthlyStatement`] per hospital that has cases, sorted by hospital
/// id, each with its audit event ([`Action::MonthlyStatementIssued`]; `before` is `None`:
/// when a re-run replaces a month, the store fills `before` with the replaced statement's
/// [`MonthlyStatement::summary`]).
///
/// Every case must be discharged in `month` and appear once. The due date is the
/// [`PAYMENT_WORKING_DAYS`]th working day of `calendar` after `declaration_deadline`.
pub fn settle_month<I>(
    cases: I,
    params: &Params,
    month: YearMonth,
    declaration_deadline: Date,
    calendar: &WorkCalendar,
    actor: &Actor,
) -> Result<Audited<Vec<MonthlyStatement>>, SettleError>
where
    I: IntoIterator,
    I::Item: Borrow<SettledCase>,
{
    settle_month_with_adjustments(
        cases,
        params,
        month,
        declaration_deadline,
        calendar,
        actor,
        &[],
    )
}

/// [`settle_month`], carrying onto each hospital's statement its pending `adjustments` (补差)
/// of earlier months: `amount_due = fund_due_total − deposit_withheld + Σ adjustments`. An
/// adjustment of a hospital without a case this month stays pending (not on any statement).
pub fn settle_month_with_adjustments<I>(
    cases: I,
    params: &Params,
    month: YearMonth,
    declaration_deadline: Date,
    calendar: &WorkCalendar,
    actor: &Actor,
    adjustments: &[Adjustment],
) -> Result<Audited<Vec<MonthlyStatement>>, SettleError>
where
    I: IntoIterator,
    I::Item: Borrow<SettledCase>,
{
    if declaration_deadline <= month.last_day() {
        return Err(SettleError::DeadlineTooEarly {
            deadline: declaration_deadline,
            month,
        });
    }
    let mut cases: Vec<I::Item> = cases.into_iter().collect();
    cases.sort_by(|a, b| {
        let (a, b) = (a.borrow(), b.borrow());
        (&a.case_id, &a.hospital_id, a.discharge_month).cmp(&(
            &b.case_id,
            &b.hospital_id,
            b.discharge_month,
        ))
    });
    let mut by_hospital: BTreeMap<&str, Vec<&SettledCase>> = BTreeMap::new();
    let mut previous: Option<&str> = None;
    for case in &cases {
        let case = case.borrow();
        if case.discharge_month != month {
            return Err(SettleError::WrongMonth {
                case_id: case.case_id.clone(),
                hospital_id: case.hospital_id.clone(),
                discharge_month: case.discharge_month,
                month,
            });
        }
        if previous == Some(case.case_id.as_str()) {
            return Err(SettleError::DuplicateCase {
                case_id: case.case_id.clone(),
            });
        }
        previous = Some(&case.case_id);
        by_hospital.entry(&case.hospital_id).or_default().push(case);
    }

    let deposit_rate = params.budget.monthly_quality_deposit_rate;
    let due_working_days = params.settlement.due_working_days;
    let due_by = calendar.nth_working_day_after(declaration_deadline, due_working_days);
    let mut statements = Vec::with_capacity(by_hospital.len());
    let mut events = Vec::with_capacity(by_hospital.len());
    for (hospital_id, cases) in by_hospital {
        let overflow = |what: String| SettleError::Overflow {
            hospital_id: hospital_id.to_string(),
            month,
            what,
        };
        let mut totals = CategoryTotals::default();
        let mut by_category: BTreeMap<String, CategoryTotals> = BTreeMap::new();
        for case in &cases {
            totals
                .add(case)
                .map_err(|what| overflow(what.to_string()))?;
            let category = case.category.as_str();
            by_category
                .entry(category.to_string())
                .or_default()
                .add(case)
                .map_err(|what| overflow(format!("{what} of category {category}")))?;
        }
        let fund_due_total = totals.fund_due;
        let deposit_withheld = deposit_rate
            .checked_mul(fund_due_total)
            .map(round_fen)
            .ok_or_else(|| overflow("deposit rate × fund_due_total".to_string()))?;
        let carried: Vec<Adjustment> = adjustments
            .iter()
            .filter(|a| a.hospital_id == hospital_id && a.case_month < month)
            .cloned()
            .collect();
        let mut adjustments_total = Decimal::ZERO;
        for a in &carried {
            adjustments_total = adjustments_total
                .checked_add(a.difference)
                .ok_or_else(|| overflow("Σ adjustments".to_string()))?;
        }
        let amount_due = fund_due_total
            .checked_sub(deposit_withheld)
            .and_then(|d| d.checked_add(adjustments_total))
            .ok_or_else(|| {
                overflow("fund_due_total − deposit withheld + adjustments".to_string())
            })?;
        let statement = MonthlyStatement {
            hospital_id: hospital_id.to_string(),
            month,
            cases: totals.cases,
            case_ids: cases.iter().map(|c| c.case_id.clone()).collect(),
            by_category,
            totals,
            fund_due_total,
            deposit_rate,
            deposit_withheld,
            amount_due,
            declaration_deadline,
            due_by,
            due_working_days,
            adjustments: carried,
            adjustments_total,
        };
        events.push(
            AuditEvent::new(
                actor,
                Action::MonthlyStatementIssued,
                statement.subject(),
                format!("monthly settlement (月结算) of {month}"),
            )
            .after(statement.summary()),
        );
        statements.push(statement);
    }
    Ok(Audited {
        value: statements,
        events,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{case, params};
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn june() -> YearMonth {
        "2025-06".parse().unwrap()
    }

    fn date(text: &str) -> Date {
        text.parse().unwrap()
    }

    fn settle(cases: &[SettledCase], calendar: &WorkCalendar) -> Vec<MonthlyStatement> {
        settle_month(
            cases,
            &params(),
            june(),
            date("2025-07-10"),
            calendar,
            &Actor::system("run-1"),
        )
        .unwrap()
        .value
    }

    #[test]
    fn a_statement_withholds_the_deposit_and_is_due_thirty_working_days_after_the_deadline() {
        // H001: fund_due 8000 + 12000.004 (→ 12000.00) + 1999.995 (→ 2000.00) = 22000.00;
        // deposit 5% = 1100.00; amount due 20900.00.
        let cases = [
            case("C1", "H001", "2025-06", Category::Normal, dec!(8000)),
            case("C2", "H001", "2025-06", Category::High, dec!(12000.004)),
            case("C3", "H001", "2025-06", Category::Normal, dec!(1999.995)),
            case("C4", "H002", "2025-06", Category::Low, dec!(333.33)),
        ];
        // Deadline Thursday 2025-07-10. Working days: 07-11 (1), 07-14..18 (2–6), 07-21..25
        // (7–11), 07-28..08-01 (12–16), 08-04..08 (17–21), 08-11..15 (22–26), 08-18..21 (27–30).
        let statements = settle(&cases, &WorkCalendar::weekdays_only());
        assert_eq!(statements.len(), 2);
        let h1 = &statements[0];
        assert_eq!((h1.hospital_id.as_str(), h1.cases), ("H001", 3));
        assert_eq!(h1.fund_due_total, dec!(22000.00));
        assert_eq!(h1.deposit_withheld, dec!(1100.00));
        assert_eq!(h1.amount_due, dec!(20900.00));
        assert_eq!(h1.due_by, date("2025-08-21"));
        assert_eq!(h1.by_category["normal"].cases, 2);
        assert_eq!(h1.by_category["normal"].fund_due, dec!(10000.00));
        assert_eq!(h1.by_category["high"].fund_due, dec!(12000.00));
        assert_eq!(h1.case_ids, ["C1", "C2", "C3"]);
        // H002: 333.33 × 5% = 16.6665 → 16.67 (half-up); 333.33 − 16.67 = 316.66.
        let h2 = &statements[1];
        assert_eq!(
            (h2.deposit_withheld, h2.amount_due),
            (dec!(16.67), dec!(316.66))
        );
        assert_eq!(
            h1.to_string(),
            "monthly statement (月结算) H001 2025-06: 3 cases\n\
             \x20 high: 1 cases, total_cost 20000.00, payment 15000.00, own 3000.00, fund_due 12000.00\n\
             \x20 normal: 2 cases, total_cost 40000.00, payment 30000.00, own 6000.00, fund_due 10000.00\n\
             fund_due_total 22000.00; deposit withheld 22000.00 × 5% = 1100.00; amount due 22000.00 − 1100.00 = 20900.00\n\
             declaration deadline 2025-07-10; due by 2025-08-21 (working day 30 after it)"
        );

        // A holiday on Friday 2025-08-08 pushes the 30th working day to Friday 2025-08-22.
        let holiday = WorkCalendar::with_holidays([date("2025-08-08")]);
        assert_eq!(settle(&cases, &holiday)[0].due_by, date("2025-08-22"));
    }

    #[test]
    fn a_due_date_that_crosses_a_weekend_and_a_holiday() {
        // Deadline Monday 2025-03-10 → day 30 = 2025-04-21; Qingming (Fri 2025-04-04) → 04-22.
        let cases = [case("C1", "H001", "2025-02", Category::Normal, dec!(100))];
        let settle = |calendar: &WorkCalendar| {
            settle_month(
                &cases,
                &params(),
                "2025-02".parse().unwrap(),
                date("2025-03-10"),
                calendar,
                &Actor::system("run-1"),
            )
            .unwrap()
            .value[0]
                .due_by
        };
        assert_eq!(settle(&WorkCalendar::weekdays_only()), date("2025-04-21"));
        assert_eq!(
            settle(&WorkCalendar::with_holidays([date("2025-04-04")])),
            date("2025-04-22")
        );
    }

    #[test]
    fn each_statement_has_its_audit_event() {
        let cases = [
            case("C1", "H002", "2025-06", Category::Normal, dec!(100)),
            case("C2", "H001", "2025-06", Category::Normal, dec!(200)),
        ];
        let run = settle_month(
            &cases,
            &params(),
            june(),
            date("2025-07-10"),
            &WorkCalendar::weekdays_only(),
            &Actor::system("run-1"),
        )
        .unwrap();
        let subjects: Vec<&str> = run.events.iter().map(|e| e.subject.as_str()).collect();
        assert_eq!(subjects, ["H001/2025-06", "H002/2025-06"]);
        assert_eq!(
            run.events[0].after.as_deref(),
            Some("cases=1 fund_due_total=200.00 deposit_withheld=10.00 amount_due=190.00 due_by=2025-08-21")
        );
        assert_eq!(run.events[0].action, Action::MonthlyStatementIssued);
    }

    #[test]
    fn cases_of_another_month_duplicates_and_an_early_deadline_are_refused() {
        let calendar = WorkCalendar::weekdays_only();
        let run = |cases: &[SettledCase], deadline: &str| {
            settle_month(
                cases,
                &params(),
                june(),
                date(deadline),
                &calendar,
                &Actor::system("run-1"),
            )
            .map(|r| r.value)
        };
        let other = [case("C1", "H001", "2025-05", Category::Normal, dec!(1))];
        assert_eq!(
            run(&other, "2025-07-10").unwrap_err().to_string(),
            "case C1 of hospital H001: discharge month 2025-05, expected 2025-06 (the month being settled)"
        );
        let twice = [
            case("C1", "H001", "2025-06", Category::Normal, dec!(1)),
            case("C1", "H001", "2025-06", Category::Normal, dec!(1)),
        ];
        assert_eq!(
            run(&twice, "2025-07-10").unwrap_err(),
            SettleError::DuplicateCase {
                case_id: "C1".into()
            }
        );
        assert!(matches!(
            run(&[], "2025-06-30"),
            Err(SettleError::DeadlineTooEarly { .. })
        ));
        assert_eq!(run(&[], "2025-07-01").unwrap(), vec![]);
    }

    #[test]
    fn a_sum_beyond_the_decimal_range_is_an_error_naming_hospital_month_and_sum() {
        let calendar = WorkCalendar::weekdays_only();
        let run = |cases: &[SettledCase]| {
            settle_month(
                cases,
                &params(),
                june(),
                date("2025-07-10"),
                &calendar,
                &Actor::system("run-1"),
            )
            .map(|r| r.value)
        };
        // H001 is fine; H002's two fund_due lines add up beyond Decimal::MAX.
        let cases = [
            case("C1", "H001", "2025-06", Category::Normal, dec!(100)),
            case("C2", "H002", "2025-06", Category::Normal, Decimal::MAX),
            case("C3", "H002", "2025-06", Category::High, dec!(1)),
        ];
        let err = run(&cases).unwrap_err();
        assert_eq!(
            err,
            SettleError::Overflow {
                hospital_id: "H002".into(),
                month: june(),
                what: "Σ fund_due".into()
            }
        );
        assert_eq!(
            err.to_string(),
            "hospital H002, month 2025-06: Σ fund_due overflows the decimal range (±7.9e28): the case amounts cannot be real"
        );
        // total_cost and payment are summed too, and negative amounts overflow downwards.
        let mut big = case("C4", "H003", "2025-06", Category::Low, dec!(1));
        big.total_cost = Decimal::MAX;
        let mut more = case("C5", "H003", "2025-06", Category::Low, dec!(1));
        more.total_cost = Decimal::MAX;
        assert!(matches!(
            run(&[big, more]),
            Err(SettleError::Overflow { ref hospital_id, ref what, .. })
                if hospital_id == "H003" && what == "Σ total_cost"
        ));
        let mut low = case("C6", "H004", "2025-06", Category::Normal, dec!(1));
        low.payment = Decimal::MIN;
        let mut lower = case("C7", "H004", "2025-06", Category::Normal, dec!(1));
        lower.payment = dec!(-1);
        assert!(matches!(
            run(&[low, lower]),
            Err(SettleError::Overflow { ref what, .. }) if what == "Σ payment"
        ));
        // At the edge, not beyond it, the statement is issued.
        let edge = [
            case(
                "C8",
                "H005",
                "2025-06",
                Category::Normal,
                Decimal::MAX - dec!(1),
            ),
            case("C9", "H005", "2025-06", Category::Normal, dec!(1)),
        ];
        assert_eq!(run(&edge).unwrap()[0].fund_due_total, Decimal::MAX);
    }

    #[test]
    fn a_case_converts_from_a_drg_payment_and_a_dip_score() {
        let dip = SettledCase::from_dip(
            "D1",
            "H001",
            june(),
            Category::Normal,
            DipMoney {
                case_score: dec!(200),
                total_cost: dec!(15000),
                fund_paid: dec!(10500),
            },
            dec!(70.9939),
        );
        // 200 × 70.9939 = 14198.78; own 4500; fund_due 9698.78.
        assert_eq!(
            (dip.payment, dip.own, dip.fund_due),
            (dec!(14198.7800), dec!(4500), dec!(9698.7800))
        );
        assert_eq!(dip.dip_repriced(dec!(80)), Some((dec!(16000), dec!(11500))));
        let drg = case("C1", "H001", "2025-06", Category::Normal, dec!(100));
        assert_eq!(drg.dip_repriced(dec!(80)), None);
    }

    fn arb_case() -> impl Strategy<Value = SettledCase> {
        (
            0u32..40,
            0u32..4,
            0i64..5_000_000,
            prop::sample::select(vec![Category::Normal, Category::High, Category::Low]),
        )
            .prop_map(|(id, hospital, milli, category)| {
                case(
                    &format!("C{id:03}"),
                    &format!("H{hospital:03}"),
                    "2025-06",
                    category,
                    Decimal::new(milli, 3),
                )
            })
    }

    fn arb_cases() -> impl Strategy<Value = Vec<SettledCase>> {
        prop::collection::vec(arb_case(), 0..30).prop_map(|mut cases| {
            cases.sort_by(|a, b| a.case_id.cmp(&b.case_id));
            cases.dedup_by(|a, b| a.case_id == b.case_id);
            cases
        })
    }

    proptest! {
        #[test]
        fn the_same_cases_in_any_order_give_identical_statements(
            (cases, shuffled) in arb_cases().prop_flat_map(|c| (Just(c.clone()), Just(c).prop_shuffle()))
        ) {
            let calendar = WorkCalendar::weekdays_only();
            prop_assert_eq!(settle(&cases, &calendar), settle(&shuffled, &calendar));
        }

        #[test]
        fn amount_due_plus_deposit_is_the_fund_due_total_and_categories_add_up(cases in arb_cases()) {
            for s in settle(&cases, &WorkCalendar::weekdays_only()) {
                prop_assert_eq!(s.amount_due + s.deposit_withheld, s.fund_due_total);
                let by_category: Decimal = s.by_category.values().map(|t| t.fund_due).sum();
                prop_assert_eq!(by_category, s.fund_due_total);
                prop_assert_eq!(s.by_category.values().map(|t| t.cases).sum::<u64>(), s.cases);
                prop_assert_eq!(s.deposit_withheld, round_fen(s.deposit_withheld));
            }
        }
    }
}
