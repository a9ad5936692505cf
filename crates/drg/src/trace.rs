//! The structured trace of one grouping: compact events, rendered to text only when asked.

use drgdip_codes::{DxId, PxId};
use drgdip_scheme::{AdrgIdx, DrgIdx, MdcIdx};

/// How a case entered an MDC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryHow {
    /// Pre-MDC: every case is tried.
    Always,
    /// The principal diagnosis is on the MDC's list.
    Principal,
    /// This diagnosis (any position) is on the MDC's list.
    AnyDiagnosis(DxId),
    /// Multiple trauma: the bit mask of the body sites found (bit i = site i + 1).
    TraumaSites(u32),
    /// Newborn: age 0 and a newborn diagnosis.
    Newborn,
}

/// Why an MDC that the principal diagnosis points to was passed over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipWhy {
    /// Multiple trauma needs more body sites than the diagnoses cover.
    TooFewTraumaSites { found: u32, needed: u32 },
    /// The MDC is for the other sex, and the diagnosis is shared by both sexes' MDCs or the
    /// MDC has no sex-conflict rule.
    OtherSex { shared: bool },
    /// The case entered but no ADRG (nor the ambiguous step) applied.
    NothingMatched,
}

/// Why a case is ambiguous (歧义病案).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmbiguousWhy {
    /// A valid principal procedure that no procedure ADRG of the MDC accepts.
    ValidProcedureWithoutAdrg(PxId),
    /// The principal diagnosis is on `mdc`'s list but the patient is of the other sex.
    SexConflict { mdc: MdcIdx },
    /// A newborn (age ≤ max days) whose principal diagnosis is not a newborn diagnosis.
    NewbornWithoutNewbornDiagnosis { days: u32 },
    /// An infant older than the newborn limit with a newborn-only principal diagnosis.
    LateInfantWithNewbornDiagnosis { days: u32 },
}

/// One event of the trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The case has no diagnosis at all.
    NoDiagnosis,
    /// The principal diagnosis' exclusion table (排除表).
    ExclusionTable { pdx: DxId, table: u16 },
    /// A diagnosis counts as MCC (`major`) or CC.
    Complication { dx: DxId, major: bool },
    /// An MCC/CC that does not count: its table equals the principal diagnosis' table.
    ComplicationExcluded { dx: DxId, major: bool, table: u16 },
    /// A valid (operating-room) procedure, any position.
    ValidProcedure { px: PxId },
    /// A diagnosis listed as not to be used for grouping (ZD_INVALID); it was kept.
    DiagnosisNotForGrouping { dx: DxId },
    /// A procedure listed as not to be used for grouping (SS_INVALID); it was kept.
    ProcedureNotForGrouping { px: PxId },
    /// The case entered an MDC.
    MdcEntered { mdc: MdcIdx, how: EntryHow },
    /// An MDC was passed over.
    MdcSkipped { mdc: MdcIdx, why: SkipWhy },
    /// An ADRG's condition held (alternative `alt` of its condition sets).
    AdrgMatched { adrg: AdrgIdx, alt: u8 },
    /// An ADRG's condition held but no row of its DRG chain did: grouping goes on.
    ChainExhausted { adrg: AdrgIdx },
    /// The DRG chosen, by row `row` of the ADRG's chain.
    DrgChosen { drg: DrgIdx, row: u8 },
    /// The case is ambiguous in an MDC.
    Ambiguous { mdc: MdcIdx, why: AmbiguousWhy },
    /// No MDC yielded a group.
    Ungroupable,
}

/// The trace of one grouping. A disabled trace records nothing and costs nothing.
#[derive(Debug, Clone, Default)]
pub struct Trace {
    enabled: bool,
    pub events: Vec<Event>,
}

impl Trace {
    /// A trace that records events.
    pub fn enabled() -> Trace {
        Trace {
            enabled: true,
            events: Vec::new(),
        }
    }
    /// A trace that records nothing.
    pub fn disabled() -> Trace {
        Trace::default()
    }
    /// Whether events are recorded.
    #[inline]
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }
    /// Records an event (if enabled).
    #[inline]
    pub fn push(&mut self, e: Event) {
        if self.enabled {
            self.events.push(e);
        }
    }
    /// Forgets the events, keeping the allocation.
    pub fn clear(&mut self) {
        self.events.clear();
    }
}
