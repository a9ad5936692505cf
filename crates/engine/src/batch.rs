//! Pieces every batch use case shares: per-worker accumulators, the status buckets of a
//! summary, grouping one valid record.

use std::sync::Mutex;

use drgdip_drg::{group, Grouping, Status, Trace};
use drgdip_io::{CaseRecord, Problem, ProblemKind};
use drgdip_pay::GroupStatus;
use drgdip_scheme::Scheme;

/// Status buckets of a grouping summary.
pub const STATUS_NAMES: [&str; 4] = ["grouped", "ambiguous", "ungroupable", "invalid"];

/// The summary bucket of an invalid row (an index of [`STATUS_NAMES`]).
pub const INVALID: usize = 3;

/// The summary bucket of a grouping status (an index of [`STATUS_NAMES`]).
pub fn bucket(s: Status) -> usize {
    match s {
        Status::Grouped => 0,
        Status::Ambiguous => 1,
        Status::Ungroupable => 2,
    }
}

/// Groups one valid record with its scheme.
pub fn group_record(s: &Scheme, r: &CaseRecord, trace: &mut Trace) -> Grouping {
    group(s, &r.case(), trace)
}

/// Diagnosis codes as a result row writes them (`mcc`, `cc`): joined with `|`.
pub fn diagnosis_codes(s: &Scheme, ids: &[u32]) -> String {
    let mut out = Vec::new();
    write_diagnosis_codes(&mut out, s, ids);
    String::from_utf8(out).unwrap_or_default()
}

/// [`diagnosis_codes`] appended to a row being written (no string made). Catalog codes hold
/// no comma nor quote: the text needs no CSV quoting.
pub fn write_diagnosis_codes(out: &mut Vec<u8>, s: &Scheme, ids: &[u32]) {
    for (i, &d) in ids.iter().enumerate() {
        if i > 0 {
            out.push(b'|');
        }
        out.extend_from_slice(s.catalog.diagnoses.code(d).as_bytes());
    }
}

/// The payment crate's name of a grouping status.
pub fn group_status(s: Status) -> GroupStatus {
    match s {
        Status::Grouped => GroupStatus::Grouped,
        Status::Ambiguous => GroupStatus::Ambiguous,
        Status::Ungroupable => GroupStatus::Ungroupable,
    }
}

/// A problem of a valid record (a missing cost, an unknown hospital).
pub fn problem(r: &CaseRecord, field: &str, value: &str, kind: ProblemKind) -> Problem {
    Problem::new(r.line, r.case_id.as_str(), field, value, kind)
}

/// One accumulator per rayon worker (plus one for any other thread): each row locks only
/// its own worker's, so the lock is never contended.
pub struct Shards<T>(Vec<Mutex<T>>);

impl<T: Default> Default for Shards<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: Default> Shards<T> {
    /// One accumulator per worker of the current rayon pool, and one more.
    pub fn new() -> Self {
        Shards(
            (0..rayon::current_num_threads() + 1)
                .map(|_| Mutex::default())
                .collect(),
        )
    }

    /// Runs `f` on the calling worker's accumulator.
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        let last = self.0.len() - 1;
        let i = rayon::current_thread_index().map_or(last, |i| i.min(last));
        let mut guard = self.0[i].lock().unwrap_or_else(|e| e.into_inner());
        f(&mut guard)
    }

    /// The accumulators.
    pub fn into_vec(self) -> Vec<T> {
        self.0
            .into_iter()
            .map(|m| m.into_inner().unwrap_or_else(|e| e.into_inner()))
            .collect()
    }
}
