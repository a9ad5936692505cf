//! drgdip-report — the published reports of a pooling region: the hospital monthly
//! feedback (月告知), the region's quarterly (季公布) and yearly (年通报) figures, and the
//! half-yearly special-case notice (特例单议公示), the negotiation pages (the simulation of a
//! proposal and a scheme change's impact, [`simulation_page`], [`scheme_change_page`]), each as CSV for machines and as one
//! self-contained HTML page for people (inline CSS, charts as inline SVG, no script).
//!
//! What goes in: settled cases ([`drgdip_settle::SettledCase`]), monthly statements
//! ([`drgdip_settle::MonthlyStatement`]), special-case applications
//! ([`drgdip_settle::Application`]), hospital names ([`HospitalNames`]) and, optionally,
//! each case's grouping ([`Groups`]: status and DRG group, which a settled case does not
//! carry). What comes out: the figures as plain structs ([`MonthlyReport`],
//! [`RegionReport`], [`SpecialCaseNotice`]) and their files ([`OutputFile`]).
//!
//! Invariants:
//! - pure: no I/O, no clock, no async; the caller reads the store and writes the files;
//! - money never passes through `f64`, chart geometry neither: amounts are
//!   [`rust_decimal::Decimal`], summed from the cases' amounts each rounded half-up to the
//!   fen (as on the statements) and written half-up to the fen;
//! - deterministic: the same inputs in any order give the same bytes (everything is
//!   sorted; no time stamp is written);
//! - every text from the data is escaped in HTML.
//!
//! The definitions (入组率, CMI, shares, payment vs cost) are in `docs/reports.md` and on
//! every page.

mod breakdown;
mod csv;
mod disclose;
pub mod format;
mod html;
mod impact;
mod input;
mod monthly;
mod notice;
mod pdf;
mod region;
pub mod svg;
mod tally;

pub use breakdown::{Breakdown, CategoryRow, GroupRow};
pub use disclose::{
    BudgetLine, CaseSums, ClearingSums, Disclosure, FundBalance, FundLine, FundMonth, LevelKindRow,
    MethodLine, OwnHospital, PrepaymentSums, Provenance, RunRef, SpecialHalf,
};
pub use impact::{
    scheme_change_page, simulation_page, ImpactRow, SchemeAdrgCase, SchemeChangeView,
    SchemeHospital, SchemePair, SimulationView,
};
pub use input::{CaseGroup, Grouping, Groups, HospitalNames, UNKNOWN_GROUP};
pub use monthly::{monthly_feedback, HospitalMonth, MonthlyReport};
pub use notice::{approval_rate, special_case_notice, NoticeLine, NoticeTotals, SpecialCaseNotice};
pub use pdf::PdfError;
pub use region::{region_report, HospitalPeriod, InsuredRow, MonthRow, RegionReport};
pub use tally::{StatementSums, Tally};

use drgdip_settle::{SpecialCaseError, YearMonth};
use thiserror::Error;

/// One file of a report: its name (no directory) and its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputFile {
    /// `monthly-2025-06-H001.html`.
    pub name: String,
    /// The text, UTF-8.
    pub contents: String,
}

impl OutputFile {
    /// A file.
    pub fn new(name: impl Into<String>, contents: impl Into<String>) -> OutputFile {
        OutputFile {
            name: name.into(),
            contents: contents.into(),
        }
    }
}

/// Inputs a report cannot be made from.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ReportError {
    /// The same case twice: it would be counted twice.
    #[error("case {case_id} appears more than once: a case is settled once")]
    DuplicateCase {
        /// The case.
        case_id: String,
    },
    /// Two statements of one hospital and month.
    #[error("two monthly statements of hospital {hospital_id} for {month}")]
    DuplicateStatement {
        /// The hospital.
        hospital_id: String,
        /// The month.
        month: YearMonth,
    },
    /// The special-case notice refused the half-year.
    #[error(transparent)]
    Notice(#[from] SpecialCaseError),
}

#[cfg(test)]
mod tests;
