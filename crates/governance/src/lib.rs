//! Governance records (`payment-model.md` §11): what a region keeps besides payment.
//!
//! - [`opinion`]: 意见收集反馈 — hospitals' and medical workers' opinions on grouping, the
//!   technical specification, pricing coordination or other; classified, answered or
//!   forwarded to the provincial or national bureau, closed; counted for the reports;
//! - [`roster`]: 医保数据工作组 — the data working group's roster per year, checked against the
//!   hospitals (levels and kinds) and the previous year's roster;
//! - [`negotiation`]: 谈判协商 — a negotiation round's parties, proposals, outcome and who
//!   sees what (`payment-model.md` §9).
//!
//! Pure: the caller reads the files and keeps the records (the ledger's `opinions` and
//! `rosters` tables).

pub mod negotiation;
pub mod opinion;
pub mod roster;

pub use opinion::{Counts, Level, Opinion, OpinionError, Status, Step, Submission, Topic};
pub use roster::{check, Member, Roster, RosterCheck, RosterError};
