//! The figures of a set of cases: counts by status, 入组率, CMI, high and low cases, money.

use drgdip_pay::money::round_fen;
use drgdip_pay::{Category, GroupStatus};
use drgdip_settle::{MonthlyStatement, SettledCase};
use rust_decimal::Decimal;

use crate::input::Grouping;

/// The figures of a set of cases. Money is the sum of the cases' amounts each rounded
/// half-up to the fen (the published settlement lines), as on the monthly statements.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// All settled cases, whatever their status or category.
    pub cases: u64,
    /// Cases by grouping status, in the order of [`GroupStatus::ALL`]
    /// (grouped, ambiguous, ungroupable, invalid).
    pub by_status: [u64; 4],
    /// Cases in the CMI: grouped and with a weight.
    pub cmi_cases: u64,
    /// Σ weight of the cases in the CMI (exact).
    pub weight_sum: Decimal,
    /// 高倍率病例 — cases of category `high`.
    pub high_cases: u64,
    /// 低倍率病例 — cases of category `low`.
    pub low_cases: u64,
    /// Σ per-item total cost (按项目费用).
    pub total_cost: Decimal,
    /// Σ fund share per item.
    pub fund_paid: Decimal,
    /// Σ patients' own shares.
    pub own: Decimal,
    /// Σ DRG/DIP payment.
    pub payment: Decimal,
    /// Σ fund share under DRG/DIP payment.
    pub fund_due: Decimal,
}

fn status_index(status: GroupStatus) -> usize {
    match status {
        GroupStatus::Grouped => 0,
        GroupStatus::Ambiguous => 1,
        GroupStatus::Ungroupable => 2,
        GroupStatus::Invalid => 3,
    }
}

/// `part / whole`, exact; `None` when `whole` is zero.
pub(crate) fn ratio(part: u64, whole: u64) -> Option<Decimal> {
    (whole > 0).then(|| Decimal::from(part) / Decimal::from(whole))
}

impl Tally {
    /// Adds one case classed as `grouping`.
    pub fn add(&mut self, case: &SettledCase, grouping: Grouping<'_>) {
        self.cases += 1;
        self.by_status[status_index(grouping.status)] += 1;
        if grouping.status == GroupStatus::Grouped {
            if let Some(weight) = case.weight {
                self.cmi_cases += 1;
                self.weight_sum += weight;
            }
        }
        match case.category {
            Category::High => self.high_cases += 1,
            Category::Low => self.low_cases += 1,
            _ => {}
        }
        self.total_cost += round_fen(case.total_cost);
        self.fund_paid += round_fen(case.fund_paid);
        self.own += round_fen(case.own);
        self.payment += round_fen(case.payment);
        self.fund_due += round_fen(case.fund_due);
    }

    /// Adds another tally.
    pub fn merge(&mut self, other: &Tally) {
        self.cases += other.cases;
        for (a, b) in self.by_status.iter_mut().zip(other.by_status) {
            *a += b;
        }
        self.cmi_cases += other.cmi_cases;
        self.weight_sum += other.weight_sum;
        self.high_cases += other.high_cases;
        self.low_cases += other.low_cases;
        self.total_cost += other.total_cost;
        self.fund_paid += other.fund_paid;
        self.own += other.own;
        self.payment += other.payment;
        self.fund_due += other.fund_due;
    }

    /// Cases of one status.
    pub fn status(&self, status: GroupStatus) -> u64 {
        self.by_status[status_index(status)]
    }

    /// 入组成功病例 — cases of status `grouped`.
    pub fn grouped(&self) -> u64 {
        self.status(GroupStatus::Grouped)
    }

    /// 入组率 = grouped cases / all settled cases (invalid ones included), exact.
    pub fn grouping_rate(&self) -> Option<Decimal> {
        ratio(self.grouped(), self.cases)
    }

    /// CMI = Σ weight / number of cases, over the grouped cases with a weight, exact.
    pub fn cmi(&self) -> Option<Decimal> {
        (self.cmi_cases > 0).then(|| self.weight_sum / Decimal::from(self.cmi_cases))
    }

    /// Share of high-cost cases among all settled cases, exact.
    pub fn high_share(&self) -> Option<Decimal> {
        ratio(self.high_cases, self.cases)
    }

    /// Share of low-cost cases among all settled cases, exact.
    pub fn low_share(&self) -> Option<Decimal> {
        ratio(self.low_cases, self.cases)
    }

    /// Payment − per-item cost (positive: the payment exceeds the cost).
    pub fn difference(&self) -> Decimal {
        self.payment - self.total_cost
    }

    /// Payment / per-item cost, exact.
    pub fn payment_to_cost(&self) -> Option<Decimal> {
        (!self.total_cost.is_zero()).then(|| self.payment / self.total_cost)
    }
}

/// The settlement figures of one or more monthly statements.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatementSums {
    /// Statements summed.
    pub statements: u64,
    /// Cases on them.
    pub cases: u64,
    /// Σ fund_due_total.
    pub fund_due_total: Decimal,
    /// Σ 质量保证金 withheld.
    pub deposit_withheld: Decimal,
    /// Σ amount due now.
    pub amount_due: Decimal,
}

impl StatementSums {
    /// Adds one statement.
    pub fn add(&mut self, s: &MonthlyStatement) {
        self.statements += 1;
        self.cases += s.cases;
        self.fund_due_total += s.fund_due_total;
        self.deposit_withheld += s.deposit_withheld;
        self.amount_due += s.amount_due;
    }

    /// Adds other sums.
    pub fn merge(&mut self, other: &StatementSums) {
        self.statements += other.statements;
        self.cases += other.cases;
        self.fund_due_total += other.fund_due_total;
        self.deposit_withheld += other.deposit_withheld;
        self.amount_due += other.amount_due;
    }
}
