//! Code catalogs and code repair.
//!
//! Owns the two national code catalogs (ICD-10 医保版 2.0 diagnoses, ICD-9-CM-3 医保版 2.0
//! procedures), the maps from retired or alternative codes to current ones, and the repair of
//! codes as hospitals upload them (spaces, letter case, full-width characters, separators).
//! Every catalog code gets a dense `u32` id once, at load, so that the grouper compares
//! integers, never strings. Pure: the catalogs are built from text handed in by the caller.

mod catalog;
mod repair;

pub use catalog::{Catalog, CatalogError, CodeKind, CodeTable, Lookup, LookupError};
pub use repair::{for_each_item, repair_code, repair_list, split_list, Repair, RepairSet};

/// Dense id of a diagnosis code in the diagnosis catalog.
pub type DxId = u32;
/// Dense id of a procedure code in the procedure catalog.
pub type PxId = u32;
