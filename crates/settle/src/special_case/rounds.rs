//! 评审轮次 — the review rounds of a review period (`special_case.review_period`).
//!
//! The notices ask for a review at least once a quarter (Fujian: "按月或按季度, 每季度不少于
//! 一次"). A round closes the cases discharged up to its last month: every month for a
//! monthly period, the last month of each quarter otherwise (a half-yearly or yearly period
//! has two or four rounds, each taking the cases of the period so far). For a round whose
//! cases end in month `M`:
//! - applications open the day after `M`'s declaration deadline (`settlement.declaration_day`
//!   of the month after `M`), when the month's settlement is due;
//! - applications close on the last day of the month after `M`;
//! - the review (初审 and 复审) is done by the last day of the second month after `M`.
//!
//! The rounds are the schedule the listings show; a submission is checked against its
//! period's quota whenever it comes.

use drgdip_pay::params::ReviewPeriod;
use serde::{Deserialize, Serialize};

use crate::calendar::{Date, Period, YearMonth};

/// One review round.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewRound {
    /// The review period whose cases the round takes.
    pub period: Period,
    /// The last discharge month of the cases it takes.
    pub cases_through: YearMonth,
    /// The first day applications are taken.
    pub applications_open: Date,
    /// The last day applications are taken.
    pub applications_close: Date,
    /// The day by which both reviews are done.
    pub review_by: Date,
}

fn next_month(m: YearMonth) -> YearMonth {
    m.last_day().succ().year_month()
}

/// Whether a round closes the cases discharged up to `month` under periods of `kind`.
fn is_round_month(kind: ReviewPeriod, month: YearMonth) -> bool {
    match kind {
        ReviewPeriod::Month => true,
        _ => month.month().is_multiple_of(3),
    }
}

fn round(kind: ReviewPeriod, month: YearMonth, declaration_day: u8) -> ReviewRound {
    let after = next_month(month);
    let deadline = Date::new(after.year(), after.month(), declaration_day.clamp(1, 28))
        .unwrap_or(after.first_day());
    ReviewRound {
        period: Period::containing(kind, month),
        cases_through: month,
        applications_open: deadline.succ(),
        applications_close: after.last_day(),
        review_by: next_month(after).last_day(),
    }
}

/// The rounds of `period` (a period of kind `kind`), in order.
pub fn review_rounds(kind: ReviewPeriod, period: Period, declaration_day: u8) -> Vec<ReviewRound> {
    let mut out = Vec::new();
    let mut m = period.first_month();
    while m <= period.last_month() {
        if is_round_month(kind, m) {
            out.push(round(kind, m, declaration_day));
        }
        m = next_month(m);
    }
    out
}

/// The next round as of `today`: the first whose applications have not closed.
pub fn next_round(kind: ReviewPeriod, today: Date, declaration_day: u8) -> ReviewRound {
    // the round of the cases through two months back closes at the end of last month: the
    // rounds from there on are the candidates
    let this = today.year_month();
    let back = i32::from(this.month()) - 3; // months since January of this year, minus 2
    let (year, month0) = (this.year() + back.div_euclid(12), back.rem_euclid(12));
    let mut m = YearMonth::new(year, month0 as u8 + 1).unwrap_or(this);
    loop {
        if is_round_month(kind, m) {
            let r = round(kind, m, declaration_day);
            if r.applications_close >= today {
                return r;
            }
        }
        m = next_month(m);
    }
}
