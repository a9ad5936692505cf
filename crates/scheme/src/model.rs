//! The compiled scheme: every table turned into ids, bit sets and small condition trees that
//! the grouper walks without touching a string.

use std::sync::Arc;

use drgdip_codes::{Catalog, CodeKind};

use crate::bitset::BitSet;

/// Index of an MDC in [`Scheme::mdcs`] (evaluation order).
pub type MdcIdx = u16;
/// Index of an ADRG in [`Scheme::adrgs`].
pub type AdrgIdx = u16;
/// Index of a DRG in [`Scheme::drgs`].
pub type DrgIdx = u16;
/// Index of a code list in [`Scheme::lists`].
pub type ListId = u32;

/// Patient sex as the grouper reads it (`1` male, `2` female).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Gender {
    Male,
    Female,
}

/// A code list of a table file (one header and the codes under it).
#[derive(Debug, Clone)]
pub struct CodeList {
    pub kind: CodeKind,
    pub codes: BitSet,
    /// Where the list comes from: file name and header text (for the trace and errors).
    pub source: String,
}

/// One test of an ADRG's entry condition (入组条件). A condition set is a conjunction of these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cond {
    /// 主要诊断: the principal diagnosis is in the list.
    Pdx(ListId),
    /// 主要手术或操作: there is a principal procedure and it is in the list.
    Ppx(ListId),
    /// 其他诊断: some other diagnosis (position ≥ 2) is in the list.
    Odx(ListId),
    /// 主要诊断或其他诊断: some diagnosis, principal included, is in the list.
    Adx(ListId),
    /// 手术或操作: some procedure, principal included, is in the list.
    Px(ListId),
    /// 存在手术: the principal procedure is a valid (operating-room) procedure.
    ValidPpx,
    /// 无手术: the principal procedure is absent or not valid.
    NoValidPpx,
    /// Age in days at most this (newborn ADRGs).
    MaxAgeDays(u32),
    /// Age in days at least this.
    MinAgeDays(u32),
    /// Birth weight in grams within `[min, max]`.
    BirthWeight { min: u32, max: u32 },
}

/// One alternative condition set of an ADRG (a split file `<ADRG>_<n>`, or the file itself).
#[derive(Debug, Clone)]
pub struct CondSet {
    /// `AH2_1`, or the ADRG code when there is a single set.
    pub label: String,
    pub conds: Vec<Cond>,
}

/// A condition of one DRG row of an ADRG's split chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DrgCond {
    /// The principal procedure is in the list.
    PpxIn(ListId),
    /// 双侧手术: at least two procedures and the first two are the same code.
    Bilateral,
    /// Age in years at most this.
    MaxAge(u32),
    /// 伴严重合并症或并发症: more than one diagnosis and at least one MCC.
    Mcc,
    /// 伴合并症或并发症: more than one diagnosis and at least one MCC or CC.
    MccOrCc,
    /// At least one MCC (no count of diagnoses).
    MccAny,
    /// At least one CC (no count of diagnoses).
    CcAny,
}

/// How a DRG row came to be (the `rule` of a split table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SplitRule {
    NoSplit,
    Mcc,
    MccOrCc,
    Otherwise,
    Split,
    Ambiguous,
    Ungroupable,
    Unused,
}

impl SplitRule {
    /// The name used in the split tables.
    pub fn as_str(self) -> &'static str {
        match self {
            SplitRule::NoSplit => "no_split",
            SplitRule::Mcc => "mcc",
            SplitRule::MccOrCc => "mcc_or_cc",
            SplitRule::Otherwise => "otherwise",
            SplitRule::Split => "split",
            SplitRule::Ambiguous => "ambiguous",
            SplitRule::Ungroupable => "ungroupable",
            SplitRule::Unused => "unused",
        }
    }
    /// Parses a `rule` value.
    pub fn parse(s: &str) -> Option<SplitRule> {
        Some(match s {
            "no_split" => SplitRule::NoSplit,
            "mcc" => SplitRule::Mcc,
            "mcc_or_cc" => SplitRule::MccOrCc,
            "otherwise" => SplitRule::Otherwise,
            "split" => SplitRule::Split,
            "ambiguous" => SplitRule::Ambiguous,
            "ungroupable" => SplitRule::Ungroupable,
            "unused" => SplitRule::Unused,
            _ => return None,
        })
    }
}

/// One row of an ADRG's DRG chain: the first row whose conditions all hold gives the DRG.
#[derive(Debug, Clone)]
pub struct DrgRow {
    pub drg: DrgIdx,
    pub rule: SplitRule,
    pub conds: Vec<DrgCond>,
}

/// A DRG (疾病诊断相关分组).
#[derive(Debug, Clone)]
pub struct Drg {
    pub code: String,
    pub name: String,
    /// The ADRG it belongs to; `None` for codes outside any chain (QY, 0000, unused codes).
    pub adrg: Option<AdrgIdx>,
    pub rule: SplitRule,
    /// Whether a chain can produce it.
    pub reachable: bool,
}

/// An ADRG (核心疾病诊断相关分组).
#[derive(Debug, Clone)]
pub struct Adrg {
    pub code: String,
    pub name: String,
    pub mdc: MdcIdx,
    /// Alternatives: the ADRG applies when any of them holds (tried in order).
    pub alternatives: Vec<CondSet>,
    /// Whether it is a procedure ADRG (any alternative tests a procedure).
    pub surgical: bool,
    /// The DRG chain, tried in order after the ADRG's condition holds.
    pub chain: Vec<DrgRow>,
}

/// One step inside an MDC, in evaluation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Adrg(AdrgIdx),
    /// The MDC's ambiguous step (歧义病案): taken when the principal procedure is valid.
    Ambiguous,
}

/// How a case enters an MDC.
#[derive(Debug, Clone)]
pub enum Entry {
    /// Every case is tried (pre-MDC, 先期分组).
    Always,
    /// The principal diagnosis is in the MDC's list, optionally only for one sex. A case of the
    /// other sex whose principal diagnosis is not shared by both sexes' MDCs is ambiguous in
    /// `conflict` (when set) or goes on.
    Principal {
        list: ListId,
        gender: Option<Gender>,
        conflict: Option<MdcIdx>,
    },
    /// Some diagnosis, principal included, is in the list (MDCY).
    AnyDiagnosis { list: ListId },
    /// Multiple significant trauma (多发严重创伤): the principal diagnosis is a trauma code and
    /// the diagnoses cover at least `min_sites` body sites.
    MultiSiteTrauma { min_sites: u32 },
    /// Newborns (新生儿): age 0 years; a newborn diagnosis (list, or a code with `prefix`).
    Newborn {
        list: ListId,
        max_days: u32,
        /// A principal diagnosis of this list in an infant older than `max_days` is ambiguous.
        late_list: ListId,
    },
}

/// A major diagnostic category (主要诊断大类).
#[derive(Debug, Clone)]
pub struct Mdc {
    /// `MDCB`.
    pub code: String,
    pub name: String,
    /// `B`.
    pub letter: char,
    pub entry: Entry,
    pub steps: Vec<Step>,
    /// `BQY`.
    pub qy_code: String,
}

/// Per-diagnosis attributes, indexed by diagnosis id.
#[derive(Debug, Clone, Copy, Default)]
pub struct DxAttr {
    /// Exclusion table (排除表) of the code as a principal diagnosis (`CCE.dat`), 0 = none.
    pub cce: u16,
    /// 0 none, 1 CC, 2 MCC.
    pub severity: u8,
    /// Exclusion table of the MCC/CC row.
    pub severity_table: u16,
    /// MDCZ body site (1-based), 0 = none.
    pub trauma_site: u8,
    /// Bit `i` set: the code opens the MDC at index `i` as principal diagnosis.
    pub mdc_mask: u32,
    /// The code starts with the newborn prefix (`P07.`).
    pub newborn_prefix: bool,
    /// The code is in `ZD_INVALID.dat` (not to be used for grouping; a warning only).
    pub invalid_for_grouping: bool,
}

/// A compiled, validated grouping scheme.
#[derive(Debug, Clone)]
pub struct Scheme {
    /// `chs-drg-2.0`, `fujian-2024`.
    pub name: String,
    pub version: String,
    pub title: String,
    /// The base scheme of a local layer.
    pub base: Option<String>,
    pub catalog: Arc<Catalog>,
    pub mdcs: Vec<Mdc>,
    pub adrgs: Vec<Adrg>,
    pub drgs: Vec<Drg>,
    pub lists: Vec<CodeList>,
    pub dx: Vec<DxAttr>,
    /// Valid (operating-room) procedures (有效手术操作).
    pub valid_px: BitSet,
    /// Procedures that do not take part in grouping (`SS_INVALID.dat`; a warning only).
    pub invalid_px: BitSet,
    /// Principal diagnoses exempt from the sex-conflict rule.
    pub sex_shared: BitSet,
    /// MDCZ body-site names, 1-based (`trauma_sites[0]` is site 1).
    pub trauma_sites: Vec<String>,
    /// Problems found on load that do not stop the scheme from working.
    pub warnings: Vec<String>,
    /// The code of the ungroupable result.
    pub ungroupable_code: String,
}

impl Scheme {
    /// The ADRG with this code.
    pub fn adrg_by_code(&self, code: &str) -> Option<AdrgIdx> {
        self.adrgs
            .iter()
            .position(|a| a.code == code)
            .map(|i| i as AdrgIdx)
    }
    /// The MDC with this code (`MDCB`) or letter (`B`).
    pub fn mdc_by_code(&self, code: &str) -> Option<MdcIdx> {
        self.mdcs
            .iter()
            .position(|m| m.code == code || (code.len() == 1 && code.starts_with(m.letter)))
            .map(|i| i as MdcIdx)
    }
    /// The DRG with this code.
    pub fn drg_by_code(&self, code: &str) -> Option<DrgIdx> {
        self.drgs
            .iter()
            .position(|d| d.code == code)
            .map(|i| i as DrgIdx)
    }
    /// Whether the procedure id is a valid (operating-room) procedure.
    #[inline]
    pub fn is_valid_px(&self, id: u32) -> bool {
        self.valid_px.contains(id)
    }
    /// `name version`.
    pub fn label(&self) -> String {
        format!("{} {}", self.name, self.version)
    }
}
