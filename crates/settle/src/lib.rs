//! drgdip-settle — the arithmetic of settlement (结算) and clearing (清算) for one pooling region.
//!
//! What goes in: paid cases ([`SettledCase`], built from a DRG [`drgdip_pay::Payment`] or a
//! DIP score), the region's [`drgdip_pay::Params`], hospitals ([`drgdip_pay::Hospital`]),
//! dates and a working-day calendar, special-case applications and reviewers' opinions.
//! What comes out: monthly statements ([`monthly`]), clearing statements that show every step
//! of their arithmetic ([`clearing`]), prepayment decisions and the yearly public list
//! ([`prepayment`]), the special-case review and its half-yearly notice ([`special_case`]),
//! the payments against the statements and the arrears as of a date ([`arrears`]),
//! and an [`AuditEvent`] for every state change ([`audit`]).
//!
//! The rules are those of `payment-model.md` §5–§6. Invariants of this crate:
//! - pure: no I/O, no clock, no global state, no async; storage, HTTP and the CLI are built
//!   on top of it and own the time stamps and the persistence of audit events;
//! - money never passes through `f64`: every amount is a [`rust_decimal::Decimal`];
//! - amounts are rounded half-up to the fen only where a figure is published (each module
//!   says where) and later figures are computed from the published ones, so every
//!   statement adds up to the fen;
//! - results do not depend on the order of the input: cases, statements and hospitals are
//!   sorted before they are summed or checked;
//! - illegal inputs and transitions are errors, never panics.

pub mod arrears;
pub mod audit;
pub mod calendar;
pub mod clearing;
pub mod monthly;
pub mod prepayment;
pub mod special_case;

#[cfg(test)]
mod testutil;

pub use arrears::{
    arrears, check_amount, check_payment, parse_amount, AmountError, ArrearsError, ArrearsReport,
    ArrearsRow, ArrearsTotals, Band, FundPayment, Listing, PaymentRefusal, StatementDue,
};
pub use audit::{Action, Actor, AuditEvent, Audited, Role};
pub use calendar::{CalendarError, Date, HalfYear, ParseError, Period, WorkCalendar, YearMonth};
pub use clearing::{
    clear_hospital, clear_year, Balance, ClearingError, ClearingInput, ClearingStatement,
    ClearingStep, FinalPricing, MonthlyRecord, OutsideTotals,
};
pub use monthly::{
    settle_month, settle_month_with_adjustments, Adjustment, CasePricing, CategoryTotals, DipMoney,
    MonthlyStatement, SettleError, SettledCase, PAYMENT_WORKING_DAYS,
};
pub use prepayment::{
    decide_applications, decide_prepayment, eligibility, monthly_fund_due, prepayment_amount,
    public_list, Applicant, ApplicationRecord, CapShare, Eligibility, PrepaymentAmount,
    PrepaymentApplication, PrepaymentCap, PrepaymentDecision, PrepaymentError, Priority,
    PublicListRow, Refusal, Uplift, UpliftDecision,
};
pub use special_case::{
    check_quota, draw_spot_checks, half_year_notice, next_round, review_rounds,
    settled_cases_in_period, Application, ApplicationRequest, AppliedCase, CaseOpinion,
    CaseRecordView, CodeName, Command, DrawnCase, Expert, Experts, ExpertsError, HospitalView,
    Notice, NoticeRow, Outcome, Quota, QuotaBase, ReasonKind, ReviewRound, ReviewRules,
    ReviewState, ReviewerCase, ReviewerView, SpecialCaseError, SpotCheck, SpotCheckDraw,
    FIRST_NOTICE,
};

use rust_decimal::Decimal;

/// A rate as a percentage, exact and without trailing zeros: `0.05` → `5`, `0.005` → `0.5`.
pub(crate) fn percent(rate: Decimal) -> String {
    (rate * Decimal::ONE_HUNDRED).normalize().to_string()
}

/// Serde of a [`drgdip_pay::Category`] as its text (`"normal"`).
pub(crate) mod category_text {
    use drgdip_pay::Category;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(category: &Category, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(category.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Category, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Category::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown payment category \"{text}\"")))
    }
}

/// `InsuredClass` as its text (`local`, `in_province`, `cross_province`); absent: local.
pub(crate) mod insured_text {
    use drgdip_pay::InsuredClass;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(class: &InsuredClass, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(class.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<InsuredClass, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        InsuredClass::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown insured class \"{text}\"")))
    }
}
