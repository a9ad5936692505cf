//! # drgdip-dip — DIP 2.0 (按病种分值付费)
//!
//! Keys of a case, the local disease library (病种库) built from a year of history, the score
//! of a case (病例分值), the year's point value (结算点值) and the DIP payment, as fixed in
//! `payment-model.md` §3 and §4.
//!
//! ```text
//! history: &[DipCase] ──build_library──► Library ──to_files / from_files──► CSV (bureau)
//!                                           │
//! DipCase ──────────────────score_case──────┴──► DipScore { group, fallback, deviation, case_score }
//! (case_score, own) of every case, budget ──point_value──► PointValueComputation ──dip_payment──► payment, fund_due
//! ```
//!
//! The crate is pure: no file I/O, no global state, no async. Money, scores and coefficients are
//! [`rust_decimal::Decimal`]; scores and coefficients are rounded half-up to 4 decimals, money to
//! the fen only when written out.

pub mod case;
pub mod exclusion;
pub mod files;
pub mod keys;
pub mod library;
pub mod params;
pub mod point;
pub mod round;
pub mod score;

pub use case::{AgeBand, AuxDimension, AuxLevel, DipCase, DischargeKind, Severity};
pub use exclusion::{point_basis, DipExclusion, ExclusionInput, ExclusionReason};
pub use files::LibraryError;
pub use keys::{ProcedureClass, ProcedureKey, ProcedureSets};
pub use library::{
    build_library, AuxCatalogue, AuxEntry, Group, GroupKind, Library, LibrarySummary,
};
pub use params::{DipParams, DipParamsError, PointValueSource, Trim};
pub use point::{
    checked_dip_payment, dip_payment, fixed_point_value, monthly_point_value, point_value,
    solve_point_value, year_point_value, PointValueBasis, PointValueComputation, PointValueError,
};
pub use score::{
    score_case, score_case_with_exclusion, AuxReason, Deviation, DipScore, Fallback, ScoreReason,
};

#[cfg(test)]
mod e2e_tests;
