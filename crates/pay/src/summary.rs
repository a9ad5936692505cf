//! Totals of paid cases by category, and the case-mix index (CMI, 病例组合指数).
//!
//! CMI choice: the mean weight over the cases whose grouping status is `grouped` and that
//! have a weight, whatever their payment category (normal, high, low, excluded, special,
//! cross-province). Ungroupable and ambiguous cases are left out even though they are paid
//! at the weight of their special standard: that weight is a price floor, not the case's
//! case mix. Invalid cases and grouped cases whose DRG has no weight are left out too.
//!
//! Totals are sums of the amounts as published: each case's amount rounded half-up to the fen
//! first, so that a total equals the sum of the lines of the output file to the fen. Sums are
//! checked: an overflow is recorded and reported ([`PaySummary::overflowed`]), never wrapped.

use std::fmt::Write as _;

use rust_decimal::Decimal;

use crate::money::{round_fen, Fen, W4};
use crate::payment::{Category, Payment};
use crate::weights::GroupStatus;

/// Sums over a set of cases.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Number of cases.
    pub cases: u64,
    /// Σ payment.
    pub payment: Decimal,
    /// Σ per-item total cost.
    pub total_cost: Decimal,
    /// Σ patients' own shares.
    pub own: Decimal,
    /// Σ fund shares.
    pub fund_due: Decimal,
}

impl Totals {
    /// Adds a case's published (fen-rounded) amounts; `None` on overflow.
    fn add(&mut self, p: &Payment) -> Option<()> {
        self.merge(&Totals {
            cases: 1,
            payment: round_fen(p.payment),
            total_cost: round_fen(p.total_cost),
            own: round_fen(p.own),
            fund_due: round_fen(p.fund_due),
        })
    }

    /// Adds other totals; `None` (and `self` unchanged) on overflow.
    fn merge(&mut self, other: &Totals) -> Option<()> {
        *self = Totals {
            cases: self.cases.checked_add(other.cases)?,
            payment: self.payment.checked_add(other.payment)?,
            total_cost: self.total_cost.checked_add(other.total_cost)?,
            own: self.own.checked_add(other.own)?,
            fund_due: self.fund_due.checked_add(other.fund_due)?,
        };
        Some(())
    }
}

/// Accumulates payments: totals per category and overall, and the CMI.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaySummary {
    by_category: [Totals; Category::ALL.len()],
    cmi_cases: u64,
    cmi_weight_sum: Decimal,
    overflowed: bool,
}

impl PaySummary {
    /// An empty summary.
    pub fn new() -> PaySummary {
        PaySummary::default()
    }

    /// Adds one payment.
    pub fn add(&mut self, payment: &Payment) {
        let ok = self.by_category[payment.category as usize].add(payment);
        let weight = match (payment.status, payment.weight) {
            (GroupStatus::Grouped, Some(weight)) => Some(weight),
            _ => None,
        };
        let cmi_ok = weight.map_or(Some(()), |w| self.add_cmi(1, w));
        if ok.and(cmi_ok).is_none() {
            self.overflowed = true;
        }
    }

    fn add_cmi(&mut self, cases: u64, weight_sum: Decimal) -> Option<()> {
        let sum = self.cmi_weight_sum.checked_add(weight_sum)?;
        self.cmi_cases = self.cmi_cases.checked_add(cases)?;
        self.cmi_weight_sum = sum;
        Some(())
    }

    /// Adds another summary (e.g. of another thread's share of the cases).
    pub fn merge(&mut self, other: &PaySummary) {
        let mut ok = !other.overflowed;
        for (mine, theirs) in self.by_category.iter_mut().zip(&other.by_category) {
            ok &= mine.merge(theirs).is_some();
        }
        ok &= self
            .add_cmi(other.cmi_cases, other.cmi_weight_sum)
            .is_some();
        if !ok {
            self.overflowed = true;
        }
    }

    /// Whether a sum overflowed (the totals are then incomplete and must not be published).
    pub fn overflowed(&self) -> bool {
        self.overflowed
    }

    /// The totals of one category.
    pub fn category(&self, category: Category) -> &Totals {
        &self.by_category[category as usize]
    }

    /// The totals over all categories.
    /// The totals over all categories, or all zeros when a sum overflowed: check
    /// [`PaySummary::overflowed`] (or use [`PaySummary::checked_total`]) before publishing.
    pub fn total(&self) -> Totals {
        self.checked_total().unwrap_or_default()
    }

    /// The totals over all categories; `None` when a sum overflowed.
    pub fn checked_total(&self) -> Option<Totals> {
        if self.overflowed {
            return None;
        }
        let mut total = Totals::default();
        for t in &self.by_category {
            total.merge(t)?;
        }
        Some(total)
    }

    /// Number of cases in the CMI (grouped, with a weight).
    pub fn cmi_cases(&self) -> u64 {
        self.cmi_cases
    }

    /// CMI = Σ weight / cases over grouped cases with a weight; exact, `None` without such cases.
    pub fn cmi(&self) -> Option<Decimal> {
        (self.cmi_cases > 0).then(|| self.cmi_weight_sum / Decimal::from(self.cmi_cases))
    }

    /// A table for a terminal: one line per category and a total, amounts rounded to the
    /// fen, then the CMI (4 decimals).
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        let row = |out: &mut String, name: &str, t: &Totals| {
            // Writing to a String cannot fail.
            let _ = writeln!(
                out,
                "{name:<15} {:>9} {:>18} {:>18} {:>18} {:>18}",
                t.cases,
                Fen(t.payment),
                Fen(t.total_cost),
                Fen(t.own),
                Fen(t.fund_due)
            );
        };
        let _ = writeln!(
            out,
            "{:<15} {:>9} {:>18} {:>18} {:>18} {:>18}",
            "category", "cases", "payment", "total_cost", "own", "fund_due"
        );
        for &category in Category::ALL {
            row(&mut out, category.as_str(), self.category(category));
        }
        match self.checked_total() {
            Some(total) => row(&mut out, "total", &total),
            None => {
                let _ = writeln!(
                    out,
                    "total: a sum overflowed (amounts beyond what can be added); the totals are not valid"
                );
            }
        }
        let _ = match self.cmi() {
            Some(cmi) => writeln!(out, "CMI {} over {} grouped cases", W4(cmi), self.cmi_cases),
            None => writeln!(out, "CMI: no grouped case with a weight"),
        };
        out
    }
}

impl<'a> Extend<&'a Payment> for PaySummary {
    fn extend<I: IntoIterator<Item = &'a Payment>>(&mut self, payments: I) {
        payments.into_iter().for_each(|p| self.add(p));
    }
}

impl<'a> FromIterator<&'a Payment> for PaySummary {
    fn from_iter<I: IntoIterator<Item = &'a Payment>>(payments: I) -> Self {
        let mut summary = PaySummary::new();
        summary.extend(payments);
        summary
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn payment(
        category: Category,
        status: GroupStatus,
        weight: Option<Decimal>,
        amounts: [Decimal; 4],
    ) -> Payment {
        let [total_cost, payment, own, fund_due] = amounts;
        Payment {
            category,
            status,
            weight,
            standard: None,
            total_cost,
            payment,
            own,
            fund_due,
            rules: Vec::new(),
            exclusion: None,
        }
    }

    fn sample() -> Vec<Payment> {
        use Category::{CrossProvince, High, Normal};
        use GroupStatus::Grouped;
        vec![
            payment(
                Normal,
                Grouped,
                Some(dec!(0.8)),
                [dec!(20000), dec!(32000), dec!(6000), dec!(26000)],
            ),
            payment(
                Normal,
                Grouped,
                Some(dec!(1.0)),
                [dec!(30000), dec!(40000.005), dec!(9000), dec!(31000.005)],
            ),
            payment(
                High,
                Grouped,
                Some(dec!(1.25)),
                [dec!(120000), dec!(58000), dec!(36000), dec!(22000)],
            ),
            payment(
                CrossProvince,
                Grouped,
                Some(dec!(2.5)),
                [dec!(20000), dec!(20000), dec!(6000), dec!(14000)],
            ),
            payment(
                Category::Ungroupable,
                GroupStatus::Ungroupable,
                Some(dec!(0.25)),
                [dec!(5000), dec!(9000), dec!(1500), dec!(7500)],
            ),
            payment(
                Normal,
                Grouped,
                None,
                [dec!(100), dec!(100), dec!(0), dec!(100)],
            ),
            payment(
                Category::Invalid,
                GroupStatus::Invalid,
                None,
                [dec!(700), dec!(0), dec!(700), dec!(0)],
            ),
        ]
    }

    #[test]
    fn totals_by_category_and_overall() {
        let summary: PaySummary = sample().iter().collect();
        let normal = summary.category(Category::Normal);
        assert_eq!(normal.cases, 3);
        // 40000.005 is published as 40000.01, and the total adds what is published.
        assert_eq!(normal.payment, dec!(72100.01));
        assert_eq!(normal.fund_due, dec!(57100.01));
        assert_eq!(summary.category(Category::Low).cases, 0);
        let total = summary.total();
        assert_eq!(total.cases, 7);
        assert_eq!(total.total_cost, dec!(195800));
        assert_eq!(total.own, dec!(59200));
    }

    #[test]
    fn a_total_is_the_sum_of_the_published_lines_to_the_fen() {
        // Three cases of 0.005 each: published as 0.01 each, so the total is 0.03 (not 0.02,
        // the rounded exact sum 0.015).
        let cases: Vec<Payment> = (0..3)
            .map(|_| {
                payment(
                    Category::Normal,
                    GroupStatus::Grouped,
                    Some(dec!(1)),
                    [dec!(0.005), dec!(0.005), dec!(0), dec!(0.005)],
                )
            })
            .collect();
        let summary: PaySummary = cases.iter().collect();
        assert_eq!(summary.total().payment, dec!(0.03));
        assert_eq!(Fen(summary.total().fund_due).to_string(), "0.03");
    }

    #[test]
    fn an_overflowing_sum_is_reported_not_wrapped_or_panicking() {
        let huge = Decimal::MAX;
        let cases: Vec<Payment> = (0..2)
            .map(|_| {
                payment(
                    Category::Normal,
                    GroupStatus::Grouped,
                    Some(dec!(1)),
                    [huge, huge, dec!(0), huge],
                )
            })
            .collect();
        let summary: PaySummary = cases.iter().collect();
        assert!(summary.overflowed());
        assert_eq!(summary.checked_total(), None);
        assert!(summary.render_text().contains("overflow"));
        let mut merged = PaySummary::new();
        merged.merge(&summary);
        assert!(merged.overflowed());
        let fine: PaySummary = sample().iter().collect();
        assert!(!fine.overflowed());
    }

    #[test]
    fn cmi_is_the_mean_weight_of_grouped_cases_with_a_weight() {
        let summary: PaySummary = sample().iter().collect();
        // (0.8 + 1.0 + 1.25 + 2.5) / 4 = 1.3875; the 0000 case and the weightless one are out.
        assert_eq!(summary.cmi_cases(), 4);
        assert_eq!(summary.cmi(), Some(dec!(1.3875)));
        assert_eq!(PaySummary::new().cmi(), None);
    }

    #[test]
    fn merging_two_halves_equals_adding_everything() {
        let payments = sample();
        let whole: PaySummary = payments.iter().collect();
        let mut first: PaySummary = payments[..3].iter().collect();
        first.merge(&payments[3..].iter().collect());
        assert_eq!(first, whole);
    }

    #[test]
    fn the_text_rounds_amounts_to_the_fen() {
        let summary: PaySummary = sample().iter().collect();
        let text = summary.render_text();
        let normal = text.lines().find(|l| l.starts_with("normal ")).unwrap();
        assert_eq!(
            normal.split_whitespace().collect::<Vec<_>>(),
            ["normal", "3", "72100.01", "50100.00", "15000.00", "57100.01"]
        );
        assert!(
            text.lines()
                .any(|l| l.starts_with("total ") && l.contains("159100.01")),
            "{text}"
        );
        assert!(
            text.ends_with("CMI 1.3875 over 4 grouped cases\n"),
            "{text}"
        );
    }
}
