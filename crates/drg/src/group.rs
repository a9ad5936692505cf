//! The grouping algorithm: MDC by MDC in the scheme's order, ADRG by ADRG inside an MDC, then
//! the ADRG's DRG chain. Every rule kind is one small function over the compiled tables.

use drgdip_codes::{DxId, PxId};
use drgdip_scheme::{AdrgIdx, Cond, DrgCond, DrgIdx, Entry, Gender, MdcIdx, Scheme, Step};
use smallvec::SmallVec;

use crate::trace::{AmbiguousWhy, EntryHow, Event, SkipWhy, Trace};

/// One case as the grouper reads it: codes already looked up (ids), principal first.
#[derive(Debug, Clone, Copy)]
pub struct Case<'a> {
    pub gender: Gender,
    /// Age in whole years.
    pub age_years: u32,
    /// Age in days (infants); `None` counts as 0.
    pub age_days: Option<u32>,
    /// Birth weight in grams (newborns).
    pub birth_weight: Option<u32>,
    /// Diagnoses, principal (主要诊断) first.
    pub diagnoses: &'a [DxId],
    /// Procedures, principal (主要手术或操作) first; may be empty.
    pub procedures: &'a [PxId],
}

/// The outcome kind of a grouping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// 分组成功: a DRG.
    Grouped,
    /// 歧义病案: the QY group of an MDC.
    Ambiguous,
    /// 无法入组: no MDC yielded a group (`0000`).
    Ungroupable,
}

impl Status {
    /// `grouped`, `ambiguous`, `ungroupable`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Grouped => "grouped",
            Status::Ambiguous => "ambiguous",
            Status::Ungroupable => "ungroupable",
        }
    }
    /// The official status words: 分组成功, 歧义病案, 无法入组.
    pub fn as_zh(self) -> &'static str {
        match self {
            Status::Grouped => "分组成功",
            Status::Ambiguous => "歧义病案",
            Status::Ungroupable => "无法入组",
        }
    }
}

/// The result of grouping one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grouping {
    pub status: Status,
    /// The MDC (grouped or ambiguous).
    pub mdc: Option<MdcIdx>,
    /// The ADRG (grouped only).
    pub adrg: Option<AdrgIdx>,
    /// The DRG (grouped only).
    pub drg: Option<DrgIdx>,
    /// Diagnoses that count as MCC (严重合并症或并发症), in case order.
    pub mcc: SmallVec<[DxId; 4]>,
    /// Diagnoses that count as CC (合并症或并发症), in case order.
    pub cc: SmallVec<[DxId; 4]>,
}

impl Grouping {
    /// The MDC code (`MDCB`), `0000` when ungroupable.
    pub fn mdc_code<'s>(&self, s: &'s Scheme) -> &'s str {
        match self.mdc {
            Some(m) => &s.mdcs[m as usize].code,
            None => &s.ungroupable_code,
        }
    }
    /// The ADRG code, `QY` when ambiguous, `00` when ungroupable.
    pub fn adrg_code<'s>(&self, s: &'s Scheme) -> &'s str {
        match (self.status, self.adrg) {
            (_, Some(a)) => &s.adrgs[a as usize].code,
            (Status::Ambiguous, None) => "QY",
            _ => "00",
        }
    }
    /// The DRG code: the DRG, `<L>QY` when ambiguous, `0000` when ungroupable.
    pub fn drg_code<'s>(&self, s: &'s Scheme) -> &'s str {
        match (self.status, self.drg, self.mdc) {
            (_, Some(d), _) => &s.drgs[d as usize].code,
            (Status::Ambiguous, None, Some(m)) => &s.mdcs[m as usize].qy_code,
            _ => &s.ungroupable_code,
        }
    }
    /// The complication level: 3 with an MCC, 2 with a CC, else 1 (DIP severity).
    pub fn severity(&self) -> u8 {
        if !self.mcc.is_empty() {
            3
        } else if !self.cc.is_empty() {
            2
        } else {
            1
        }
    }
}

/// What the per-case pre-processing found (排除表, MCC/CC, valid principal procedure).
struct Pre<'a> {
    case: &'a Case<'a>,
    pdx: Option<DxId>,
    ppx: Option<PxId>,
    vpx: bool,
    mcc: SmallVec<[DxId; 4]>,
    cc: SmallVec<[DxId; 4]>,
}

impl Pre<'_> {
    fn more_than_one_dx(&self) -> bool {
        self.case.diagnoses.len() > 1
    }
}

/// Groups one case. With an enabled `trace`, every decision is recorded.
pub fn group(s: &Scheme, case: &Case, trace: &mut Trace) -> Grouping {
    let pre = preprocess(s, case, trace);
    let (status, mdc, adrg, drg) = walk(s, &pre, trace);
    if status == Status::Ungroupable {
        trace.push(Event::Ungroupable);
    }
    Grouping {
        status,
        mdc,
        adrg,
        drg,
        mcc: pre.mcc,
        cc: pre.cc,
    }
}

fn preprocess<'a>(s: &Scheme, case: &'a Case<'a>, trace: &mut Trace) -> Pre<'a> {
    let pdx = case.diagnoses.first().copied();
    let ppx = case.procedures.first().copied();
    let table = pdx.map_or(0, |d| s.dx[d as usize].cce);
    if trace.is_enabled() {
        match pdx {
            None => trace.push(Event::NoDiagnosis),
            Some(d) if table != 0 => trace.push(Event::ExclusionTable { pdx: d, table }),
            _ => {}
        }
    }
    let mut mcc = SmallVec::new();
    let mut cc = SmallVec::new();
    // every diagnosis, the principal included (grouping spec §2.3; docs/divergences.md)
    for &d in case.diagnoses {
        let a = &s.dx[d as usize];
        if a.severity == 0 {
            continue;
        }
        let major = a.severity == 2;
        if table != 0 && a.severity_table == table {
            // the principal itself falls out here silently: it is not a complication of itself
            if Some(d) != pdx {
                trace.push(Event::ComplicationExcluded {
                    dx: d,
                    major,
                    table,
                });
            }
            continue;
        }
        if major {
            mcc.push(d);
        } else {
            cc.push(d);
        }
        trace.push(Event::Complication { dx: d, major });
    }
    if trace.is_enabled() {
        for &d in case.diagnoses {
            if s.dx[d as usize].invalid_for_grouping {
                trace.push(Event::DiagnosisNotForGrouping { dx: d });
            }
        }
        for &p in case.procedures {
            if s.is_valid_px(p) {
                trace.push(Event::ValidProcedure { px: p });
            }
            if s.invalid_px.contains(p) {
                trace.push(Event::ProcedureNotForGrouping { px: p });
            }
        }
    }
    Pre {
        case,
        pdx,
        ppx,
        vpx: ppx.is_some_and(|p| s.is_valid_px(p)),
        mcc,
        cc,
    }
}

type Outcome = (Status, Option<MdcIdx>, Option<AdrgIdx>, Option<DrgIdx>);

fn ambiguous(mdc: MdcIdx, why: AmbiguousWhy, trace: &mut Trace) -> Outcome {
    trace.push(Event::Ambiguous { mdc, why });
    (Status::Ambiguous, Some(mdc), None, None)
}

fn walk(s: &Scheme, p: &Pre, trace: &mut Trace) -> Outcome {
    let c = p.case;
    let pdx_mask = p.pdx.map_or(0, |d| s.dx[d as usize].mdc_mask);
    for (mi, mdc) in s.mdcs.iter().enumerate() {
        let mi = mi as MdcIdx;
        let bit = 1u32 << mi;
        let how = match &mdc.entry {
            Entry::Always => EntryHow::Always,
            Entry::Principal {
                gender, conflict, ..
            } => {
                if pdx_mask & bit == 0 {
                    continue;
                }
                match gender {
                    Some(g) if *g != c.gender => {
                        let shared = p.pdx.is_some_and(|d| s.sex_shared.contains(d));
                        match conflict {
                            Some(target) if !shared => {
                                return ambiguous(
                                    *target,
                                    AmbiguousWhy::SexConflict { mdc: mi },
                                    trace,
                                )
                            }
                            _ => {
                                trace.push(Event::MdcSkipped {
                                    mdc: mi,
                                    why: SkipWhy::OtherSex { shared },
                                });
                                continue;
                            }
                        }
                    }
                    _ => EntryHow::Principal,
                }
            }
            Entry::AnyDiagnosis { .. } => {
                match c
                    .diagnoses
                    .iter()
                    .find(|&&d| s.dx[d as usize].mdc_mask & bit != 0)
                {
                    Some(&d) => EntryHow::AnyDiagnosis(d),
                    None => continue,
                }
            }
            Entry::MultiSiteTrauma { min_sites } => {
                let Some(pdx) = p.pdx else { continue };
                if s.dx[pdx as usize].trauma_site == 0 {
                    continue;
                }
                let sites = c.diagnoses.iter().fold(0u32, |m, &d| {
                    let site = s.dx[d as usize].trauma_site;
                    if site == 0 {
                        m
                    } else {
                        m | 1 << (site - 1)
                    }
                });
                if sites.count_ones() < *min_sites {
                    trace.push(Event::MdcSkipped {
                        mdc: mi,
                        why: SkipWhy::TooFewTraumaSites {
                            found: sites.count_ones(),
                            needed: *min_sites,
                        },
                    });
                    continue;
                }
                EntryHow::TraumaSites(sites)
            }
            Entry::Newborn {
                max_days,
                late_list,
                ..
            } => {
                if c.age_years != 0 {
                    continue;
                }
                let days = c.age_days.unwrap_or(0);
                let newborn_dx = pdx_mask & bit != 0
                    || c.diagnoses.iter().any(|&d| s.dx[d as usize].newborn_prefix);
                if !newborn_dx {
                    if days <= *max_days {
                        return ambiguous(
                            mi,
                            AmbiguousWhy::NewbornWithoutNewbornDiagnosis { days },
                            trace,
                        );
                    }
                    continue;
                }
                if days > *max_days
                    && p.pdx
                        .is_some_and(|d| s.lists[*late_list as usize].codes.contains(d))
                {
                    return ambiguous(
                        mi,
                        AmbiguousWhy::LateInfantWithNewbornDiagnosis { days },
                        trace,
                    );
                }
                EntryHow::Newborn
            }
        };
        // pre-MDC is tried on every case: only a match is worth a trace line
        if how != EntryHow::Always {
            trace.push(Event::MdcEntered { mdc: mi, how });
        }
        for step in &mdc.steps {
            match *step {
                Step::Ambiguous => {
                    if p.vpx {
                        let px = p.ppx.unwrap_or_default();
                        return ambiguous(mi, AmbiguousWhy::ValidProcedureWithoutAdrg(px), trace);
                    }
                }
                Step::Adrg(ai) => {
                    let a = &s.adrgs[ai as usize];
                    let Some(alt) = a
                        .alternatives
                        .iter()
                        .position(|set| set.conds.iter().all(|cond| holds(s, p, cond)))
                    else {
                        continue;
                    };
                    if how == EntryHow::Always {
                        trace.push(Event::MdcEntered { mdc: mi, how });
                    }
                    trace.push(Event::AdrgMatched {
                        adrg: ai,
                        alt: alt as u8,
                    });
                    match a
                        .chain
                        .iter()
                        .position(|row| row.conds.iter().all(|cond| drg_holds(s, p, cond)))
                    {
                        Some(r) => {
                            let drg = a.chain[r].drg;
                            trace.push(Event::DrgChosen { drg, row: r as u8 });
                            return (Status::Grouped, Some(mi), Some(ai), Some(drg));
                        }
                        None => trace.push(Event::ChainExhausted { adrg: ai }),
                    }
                }
            }
        }
        if how != EntryHow::Always {
            trace.push(Event::MdcSkipped {
                mdc: mi,
                why: SkipWhy::NothingMatched,
            });
        }
    }
    (Status::Ungroupable, None, None, None)
}

#[inline]
fn in_list(s: &Scheme, list: u32, id: u32) -> bool {
    s.lists[list as usize].codes.contains(id)
}

/// One condition of an ADRG's entry condition (入组条件).
fn holds(s: &Scheme, p: &Pre, cond: &Cond) -> bool {
    let c = p.case;
    match *cond {
        Cond::Pdx(l) => p.pdx.is_some_and(|d| in_list(s, l, d)),
        Cond::Ppx(l) => p.ppx.is_some_and(|x| in_list(s, l, x)),
        Cond::Odx(l) => c.diagnoses.iter().skip(1).any(|&d| in_list(s, l, d)),
        Cond::Adx(l) => c.diagnoses.iter().any(|&d| in_list(s, l, d)),
        Cond::Px(l) => c.procedures.iter().any(|&x| in_list(s, l, x)),
        Cond::ValidPpx => p.vpx,
        Cond::NoValidPpx => !p.vpx,
        Cond::MaxAgeDays(n) => c.age_days.unwrap_or(0) <= n,
        Cond::MinAgeDays(n) => c.age_days.unwrap_or(0) >= n,
        Cond::BirthWeight { min, max } => c
            .birth_weight
            .is_some_and(|w| w > 0 && w >= min && w <= max),
    }
}

/// One condition of a DRG row of an ADRG's chain (细分条件).
fn drg_holds(s: &Scheme, p: &Pre, cond: &DrgCond) -> bool {
    let c = p.case;
    match *cond {
        DrgCond::PpxIn(l) => p.ppx.is_some_and(|x| in_list(s, l, x)),
        DrgCond::Bilateral => c.procedures.len() >= 2 && c.procedures[0] == c.procedures[1],
        DrgCond::MaxAge(n) => c.age_years <= n,
        DrgCond::Mcc => p.more_than_one_dx() && !p.mcc.is_empty(),
        DrgCond::MccOrCc => p.more_than_one_dx() && !(p.mcc.is_empty() && p.cc.is_empty()),
        DrgCond::MccAny => !p.mcc.is_empty(),
        DrgCond::CcAny => !p.cc.is_empty(),
    }
}
