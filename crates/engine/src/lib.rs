//! The drgdip engine: the use cases as library functions, under every front end (the CLI,
//! the HTTP server, bindings). A front end parses its arguments, calls these functions and
//! presents what they return; nothing here prints or exits. Inputs are readers, files and
//! validated parameter sets; outputs are values (and the audit events the ledger writes);
//! progress goes to a callback.
//!
//! - [`region`]: a region loaded once — parameters, scheme, hospitals, weights, exclusion
//!   catalogue, tariff — with the digest of every file;
//! - [`weights`]: DRG weights from a year of history;
//! - [`pricing`]: a case file priced under a DRG region, row by row, in input order;
//! - [`settle`]: a month settled into the ledger with what priced each case and what the run
//!   read (the book of record), a year cleared from the ledger alone;
//! - [`payments`]: what the fund paid against the statements, and the arrears (应付未付);
//! - [`governance`]: the opinions channel and the data working group's roster;
//! - [`special_case`]: the special-case review (特例单议) over the ledger — submission within
//!   the region's quota with each case's record, experts without conflicts of interest,
//!   reviews, the half-yearly spot checks (a reversal an adjustment) and notice;
//! - [`simulate`]: a proposal priced against the baseline on the same cases (方案测算),
//!   budget-neutral weights, floor and ceiling per hospital; [`compare`]: a scheme change's
//!   crosswalk, local weights against the national reference;
//! - [`negotiation`]: negotiation rounds (谈判协商) over the ledger — parties, proposals each
//!   simulated and stored with its lines, the agreed parameter version, the minutes.

pub mod batch;
pub mod budget;
pub mod compare;
pub mod digest;
pub mod dip;
pub mod disclose;
pub mod error;
pub mod governance;
pub mod ledger;
pub mod negotiation;
pub mod payments;
pub mod prepay;
pub mod pricing;
pub mod region;
pub mod report;
pub mod settle;
pub mod simulate;
pub mod simulate_dip;
pub mod special_case;
pub mod weights;

pub use error::{Context, EngineError, Result};
pub use region::{Region, RegionFiles, WeightsFrom};
