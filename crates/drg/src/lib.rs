//! The DRG grouper (分组器): one case → MDC → ADRG → DRG, over a compiled [`Scheme`].
//!
//! Pure: no I/O, no global state. The case arrives with its codes already looked up in the
//! catalogs (ids); the result carries the complication lists and, when asked for, a trace of
//! every rule that decided it ([`Trace`]), rendered in Chinese or English by [`explain`].

mod explain;
mod group;
mod trace;

pub use explain::{explain, Lang};
pub use group::{group, Case, Grouping, Status};
pub use trace::{AmbiguousWhy, EntryHow, Event, SkipWhy, Trace};

pub use drgdip_scheme::{Gender, Scheme};

#[cfg(test)]
mod testdata;
#[cfg(test)]
mod tests;
