//! 病种库 — the local disease library built from a year of history (`payment-model.md` §3).
//!
//! Every history case with a principal diagnosis lands in exactly one **payment group**: its core
//! group (亚目 + procedure key, at least `core_min_cases` cases), else its comprehensive group
//! (类目 + procedure class, at least `core_min_cases` cases), else the chapter group (first
//! letter and procedure class) into which the small comprehensive groups merge. Independently, every such
//! case also counts in the **region-wide group** of its procedure class, used only as a fallback.
//!
//! Means ("as in §1"): `mean_g` is the mean cost of a group's cases and `mean_all` the mean cost
//! of all history cases of all payment groups (the payment groups partition the history, so this
//! is the mean over every case used). With `trim = "iqr"` each group is first trimmed as in §1
//! (and `mean_all` is over the kept cases); by default nothing is trimmed. Case counts
//! (`cases`, thresholds) are before trimming, as in §1.
//!
//! The published mean cost of a group is rounded half-up to the fen and is what scoring uses as
//! the deviation reference; scores and coefficients are computed from the exact means and rounded
//! half-up to 4 decimals. The build is deterministic: the result does not depend on the order of
//! the history.

use rust_decimal::Decimal;
use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::case::{AgeBand, AuxLevel, DipCase, DischargeKind};
use crate::keys::{
    self, chapter_group_id, comprehensive_group_id, core_group_id, region_group_id, ProcedureClass,
    ProcedureSets,
};
use crate::params::{DipParams, Trim};
use crate::round::{round4, round_fen};

/// The four kinds of group of the library.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GroupKind {
    /// 核心病种 — a diagnosis key + procedure key with at least `core_min_cases` history cases.
    Core,
    /// 综合病种 — the other cases of one 类目 and procedure class, when at least
    /// `core_min_cases` of them.
    Comprehensive,
    /// 章节综合病种 — the small comprehensive groups of one chapter (first letter) and class.
    Chapter,
    /// 区域分类组 — all history cases of one procedure class; only a fallback.
    Region,
}

impl GroupKind {
    /// All kinds, in file order.
    pub const ALL: [GroupKind; 4] = [
        GroupKind::Core,
        GroupKind::Comprehensive,
        GroupKind::Chapter,
        GroupKind::Region,
    ];

    /// The name written in `groups.csv`.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupKind::Core => "core",
            GroupKind::Comprehensive => "comprehensive",
            GroupKind::Chapter => "chapter",
            GroupKind::Region => "region",
        }
    }

    /// Reads a name written by [`GroupKind::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One auxiliary level of a core group: its history cases and its coefficient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AuxEntry {
    /// History cases of the group at this level (those entering the group mean).
    pub cases: u64,
    /// `mean(level) / mean_g` (4 decimals) when `cases ≥ core_min_cases`, else 1.
    pub coefficient: Decimal,
}

impl AuxEntry {
    const NEUTRAL: AuxEntry = AuxEntry {
        cases: 0,
        coefficient: Decimal::ONE,
    };
}

/// 辅助目录 — the auxiliary catalogue of a core group: one entry per level of each dimension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuxCatalogue {
    /// By [`Severity::index`](crate::Severity::index) (1 none, 2 CC, 3 MCC).
    pub severity: [AuxEntry; 3],
    /// By [`AgeBand::index`].
    pub age: [AuxEntry; 4],
    /// By [`DischargeKind::index`].
    pub discharge: [AuxEntry; 3],
}

impl AuxCatalogue {
    /// The entry of one level.
    pub fn entry(&self, level: AuxLevel) -> AuxEntry {
        match level {
            AuxLevel::Severity(l) => self.severity[l.index()],
            AuxLevel::Age(l) => self.age[l.index()],
            AuxLevel::Discharge(l) => self.discharge[l.index()],
        }
    }
}

impl Default for AuxCatalogue {
    fn default() -> Self {
        AuxCatalogue {
            severity: [AuxEntry::NEUTRAL; 3],
            age: [AuxEntry::NEUTRAL; 4],
            discharge: [AuxEntry::NEUTRAL; 3],
        }
    }
}

/// One group of the library.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    /// Stable, readable id: `C:K80.1|51.23`, `Z:K80|surgery`, `H:K|surgery`, `R:surgery`.
    pub id: String,
    /// Its kind.
    pub kind: GroupKind,
    /// 亚目 (core), 类目 (comprehensive), first letter (chapter), empty (region).
    pub diagnosis_key: String,
    /// The written procedure key (core: `51.22+51.23` or `conservative`), else the class.
    pub procedure: String,
    /// History cases (before any trimming).
    pub cases: u64,
    /// `mean_g`, half-up to the fen: the deviation reference.
    pub mean_cost: Decimal,
    /// 病种分值 — `mean_g / mean_all × score_scale`, 4 decimals.
    pub score: Decimal,
    /// The auxiliary catalogue (core groups only).
    pub aux: Option<AuxCatalogue>,
}

/// Library-wide figures and the parameters the library was built with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LibrarySummary {
    /// History cases used (those with a principal diagnosis).
    pub history_cases: u64,
    /// History cases left out because they had no principal diagnosis.
    pub skipped_cases: u64,
    /// `mean_all`, half-up to the fen.
    pub mean_all: Decimal,
    /// `score_scale` used.
    pub score_scale: Decimal,
    /// `core_min_cases` used.
    pub core_min_cases: u32,
    /// Trimming used.
    pub trim: Trim,
}

/// 病种库 — the local DIP library: groups sorted by kind then id, with an index by id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Library {
    groups: Vec<Group>,
    index: FxHashMap<String, usize>,
    summary: LibrarySummary,
}

impl Library {
    /// Assembles a library from its groups (any order) and summary.
    pub(crate) fn from_parts(mut groups: Vec<Group>, summary: LibrarySummary) -> Library {
        groups.sort_by(|a, b| (a.kind, &a.id).cmp(&(b.kind, &b.id)));
        let index = groups
            .iter()
            .enumerate()
            .map(|(i, g)| (g.id.clone(), i))
            .collect();
        Library {
            groups,
            index,
            summary,
        }
    }

    /// All groups, core first, each kind sorted by id.
    pub fn groups(&self) -> &[Group] {
        &self.groups
    }

    /// The group with this id.
    pub fn group(&self, id: &str) -> Option<&Group> {
        self.index.get(id).map(|&i| &self.groups[i])
    }

    /// Library-wide figures and the build parameters.
    pub fn summary(&self) -> &LibrarySummary {
        &self.summary
    }

    /// Number of groups of a kind.
    pub fn count(&self, kind: GroupKind) -> usize {
        self.groups.iter().filter(|g| g.kind == kind).count()
    }

    /// History cases in groups of a kind.
    pub fn cases(&self, kind: GroupKind) -> u64 {
        self.groups
            .iter()
            .filter(|g| g.kind == kind)
            .map(|g| g.cases)
            .sum()
    }

    /// Share of the history cases that core groups cover (4 decimals; 0 for an empty history).
    pub fn core_share(&self) -> Decimal {
        match self.summary.history_cases {
            0 => Decimal::ZERO,
            n => round4(Decimal::from(self.cases(GroupKind::Core)) / Decimal::from(n)),
        }
    }
}

/// A group under construction: its members are indices into the history.
struct Draft {
    id: String,
    kind: GroupKind,
    diagnosis_key: String,
    procedure: String,
    members: Vec<u32>,
}

/// Sum and count of costs.
#[derive(Clone, Copy, Default)]
struct Tally {
    sum: Decimal,
    n: u64,
}

impl Tally {
    fn add(&mut self, cost: Decimal) {
        self.sum += cost;
        self.n += 1;
    }

    fn mean(self) -> Option<Decimal> {
        (self.n > 0).then(|| self.sum / Decimal::from(self.n))
    }
}

/// Type-7 quantile at `quarters / 4` of sorted values (linear interpolation between closest
/// ranks): `h = (n − 1)·p`, `x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋])`.
fn quartile7(sorted: &[Decimal], quarters: usize) -> Decimal {
    let h4 = (sorted.len() - 1) * quarters;
    let (i, rest) = (h4 / 4, h4 % 4);
    match sorted.get(i + 1) {
        Some(&next) if rest > 0 => {
            sorted[i] + Decimal::from(rest) / Decimal::from(4) * (next - sorted[i])
        }
        _ => sorted[i],
    }
}

/// The members whose cost enters the mean: all of them, or those within the IQR fences.
fn kept(members: &[u32], history: &[DipCase], trim: Trim) -> Vec<u32> {
    if trim == Trim::None || members.len() < 4 {
        return members.to_vec();
    }
    let mut costs: Vec<Decimal> = members
        .iter()
        .map(|&i| history[i as usize].total_cost)
        .collect();
    costs.sort_unstable();
    let q1 = quartile7(&costs, 1);
    let q3 = quartile7(&costs, 3);
    let fence = (q3 - q1) * Decimal::new(15, 1);
    let (lo, hi) = (q1 - fence, q3 + fence);
    members
        .iter()
        .copied()
        .filter(|&i| {
            let c = history[i as usize].total_cost;
            lo <= c && c <= hi
        })
        .collect()
}

fn tally(members: &[u32], history: &[DipCase]) -> Tally {
    let mut t = Tally::default();
    for &i in members {
        t.add(history[i as usize].total_cost);
    }
    t
}

/// `mean_g / mean_all × score_scale`, 4 decimals (`score_scale` itself when `mean_all` is 0).
fn score_of(mean_g: Decimal, mean_all: Decimal, scale: Decimal) -> Decimal {
    if mean_all.is_zero() {
        scale
    } else {
        round4(mean_g / mean_all * scale)
    }
}

/// `mean(level) / mean_g` (4 decimals) for levels with at least `min` cases, else 1.
fn aux_entry(level: Tally, mean_g: Decimal, min: u32) -> AuxEntry {
    let coefficient = match level.mean() {
        Some(m) if level.n >= u64::from(min) && !mean_g.is_zero() => round4(m / mean_g),
        _ => Decimal::ONE,
    };
    AuxEntry {
        cases: level.n,
        coefficient,
    }
}

fn aux_catalogue(kept: &[u32], history: &[DipCase], mean_g: Decimal, min: u32) -> AuxCatalogue {
    let mut severity = [Tally::default(); 3];
    let mut age = [Tally::default(); 4];
    let mut discharge = [Tally::default(); 3];
    for &i in kept {
        let c = &history[i as usize];
        severity[c.severity.index()].add(c.total_cost);
        age[AgeBand::of(c.age_years).index()].add(c.total_cost);
        discharge[DischargeKind::of(&c.discharge_way).index()].add(c.total_cost);
    }
    AuxCatalogue {
        severity: severity.map(|t| aux_entry(t, mean_g, min)),
        age: age.map(|t| aux_entry(t, mean_g, min)),
        discharge: discharge.map(|t| aux_entry(t, mean_g, min)),
    }
}

/// A (core-candidate) combination of the history.
struct Combo {
    diagnosis_key: String,
    procedure: String,
    members: Vec<u32>,
}

/// Builds the library from a year of history cases (see the module documentation for what the
/// groups and means are). Cases without a principal diagnosis are counted as skipped. The
/// history is expected to hold only cases the DRG grouping accepted (the caller filters).
///
/// # Panics
/// If the history holds more than `u32::MAX` cases.
pub fn build_library(history: &[DipCase], params: &DipParams, sets: &ProcedureSets) -> Library {
    assert!(u32::try_from(history.len()).is_ok(), "history too large");
    let min = params.core_min_cases;
    let min_len = usize::try_from(min).unwrap_or(usize::MAX);

    // 1. Combinations (diagnosis key + procedure key), and each case's class.
    let mut combo_of: FxHashMap<String, usize> = FxHashMap::default();
    let mut combos: Vec<Combo> = Vec::new();
    let mut class_of: Vec<Option<ProcedureClass>> = Vec::with_capacity(history.len());
    let mut skipped = 0u64;
    for (i, case) in history.iter().enumerate() {
        let Some(k) = keys::case_keys(case, sets) else {
            skipped += 1;
            class_of.push(None);
            continue;
        };
        class_of.push(Some(k.class));
        let id = core_group_id(k.diagnosis_key, &k.procedure_items);
        let next = combos.len();
        let c = *combo_of.entry(id).or_insert(next);
        if c == next {
            let procedure = match k.procedure_items.is_empty() {
                true => keys::CONSERVATIVE_KEY.to_owned(),
                false => k.procedure_items.join("+"),
            };
            combos.push(Combo {
                diagnosis_key: k.diagnosis_key.to_owned(),
                procedure,
                members: Vec::new(),
            });
        }
        combos[c].members.push(i as u32);
    }

    // 2. Core groups; the rest into comprehensive groups by 类目 and class.
    let mut drafts: Vec<Draft> = Vec::new();
    let mut comprehensive: FxHashMap<String, Draft> = FxHashMap::default();
    for (id, c) in combo_of {
        let combo = std::mem::take(&mut combos[c].members);
        let (diagnosis_key, procedure) = (&combos[c].diagnosis_key, &combos[c].procedure);
        if combo.len() >= min_len {
            drafts.push(Draft {
                id,
                kind: GroupKind::Core,
                diagnosis_key: diagnosis_key.clone(),
                procedure: procedure.clone(),
                members: combo,
            });
            continue;
        }
        for i in combo {
            let class = class_of[i as usize].expect("a combined case has keys");
            let category = keys::diagnosis_category(diagnosis_key);
            comprehensive
                .entry(comprehensive_group_id(category, class))
                .or_insert_with_key(|id| Draft {
                    id: id.clone(),
                    kind: GroupKind::Comprehensive,
                    diagnosis_key: category.to_owned(),
                    procedure: class.as_str().to_owned(),
                    members: Vec::new(),
                })
                .members
                .push(i);
        }
    }

    // 3. Small comprehensive groups merge into their chapter group.
    let mut chapters: FxHashMap<String, Draft> = FxHashMap::default();
    for (_, draft) in comprehensive {
        if draft.members.len() >= min_len {
            drafts.push(draft);
            continue;
        }
        let chapter = keys::diagnosis_chapter(&draft.diagnosis_key).to_owned();
        let class = ProcedureClass::parse(&draft.procedure).expect("a class name");
        chapters
            .entry(chapter_group_id(&chapter, class))
            .or_insert_with_key(|id| Draft {
                id: id.clone(),
                kind: GroupKind::Chapter,
                diagnosis_key: chapter,
                procedure: class.as_str().to_owned(),
                members: Vec::new(),
            })
            .members
            .extend(draft.members);
    }
    drafts.extend(chapters.into_values());

    // 4. Region-wide groups by class (fallback only).
    let mut regions: Vec<Draft> = ProcedureClass::ALL
        .into_iter()
        .map(|class| Draft {
            id: region_group_id(class),
            kind: GroupKind::Region,
            diagnosis_key: String::new(),
            procedure: class.as_str().to_owned(),
            members: Vec::new(),
        })
        .collect();
    for (i, class) in class_of.iter().enumerate() {
        if let Some(class) = class {
            let r = ProcedureClass::ALL
                .iter()
                .position(|c| c == class)
                .expect("a class");
            regions[r].members.push(i as u32);
        }
    }
    regions.retain(|d| !d.members.is_empty());

    // 5. Means: mean_all over the kept cases of all payment groups.
    let kept_payment: Vec<Vec<u32>> = drafts
        .iter()
        .map(|d| kept(&d.members, history, params.trim))
        .collect();
    let tallies: Vec<Tally> = kept_payment.iter().map(|k| tally(k, history)).collect();
    let all = tallies.iter().fold(Tally::default(), |a, t| Tally {
        sum: a.sum + t.sum,
        n: a.n + t.n,
    });
    let mean_all = all.mean().unwrap_or(Decimal::ZERO);
    let scale = params.score_scale;

    let mut groups: Vec<Group> = Vec::with_capacity(drafts.len() + regions.len());
    for ((draft, kept), t) in drafts.into_iter().zip(kept_payment).zip(tallies) {
        let mean_g = t.mean().unwrap_or(Decimal::ZERO);
        let aux =
            (draft.kind == GroupKind::Core).then(|| aux_catalogue(&kept, history, mean_g, min));
        groups.push(finish(draft, mean_g, mean_all, scale, aux));
    }
    for draft in regions {
        let mean_g = tally(&kept(&draft.members, history, params.trim), history)
            .mean()
            .unwrap_or(Decimal::ZERO);
        groups.push(finish(draft, mean_g, mean_all, scale, None));
    }

    Library::from_parts(
        groups,
        LibrarySummary {
            history_cases: history.len() as u64 - skipped,
            skipped_cases: skipped,
            mean_all: round_fen(mean_all),
            score_scale: scale,
            core_min_cases: min,
            trim: params.trim,
        },
    )
}

fn finish(
    draft: Draft,
    mean_g: Decimal,
    mean_all: Decimal,
    scale: Decimal,
    aux: Option<AuxCatalogue>,
) -> Group {
    Group {
        cases: draft.members.len() as u64,
        id: draft.id,
        kind: draft.kind,
        diagnosis_key: draft.diagnosis_key,
        procedure: draft.procedure,
        mean_cost: round_fen(mean_g),
        score: score_of(mean_g, mean_all, scale),
        aux,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::case::Severity;
    use crate::keys::tests::sets;
    use crate::params::tests::REGION;
    use rust_decimal_macros::dec;

    pub(crate) fn params(min: u32) -> DipParams {
        DipParams {
            core_min_cases: min,
            ..DipParams::from_toml_str(REGION).unwrap()
        }
    }

    /// A case with one diagnosis and some procedures.
    pub(crate) fn case(id: &str, diag: &str, procs: &[&str], cost: Decimal) -> DipCase {
        DipCase {
            case_id: id.to_owned(),
            diagnoses: vec![diag.to_owned()],
            procedures: procs.iter().map(|s| s.to_string()).collect(),
            severity: Severity::None,
            age_years: 40,
            discharge_way: "1".to_owned(),
            total_cost: cost,
            fund_paid: cost * dec!(0.7),
            hospital_level: 3,
        }
    }

    /// `n` cases of one combination at one cost.
    pub(crate) fn many(n: usize, diag: &str, procs: &[&str], cost: Decimal) -> Vec<DipCase> {
        (0..n)
            .map(|i| case(&format!("{diag}-{i}"), diag, procs, cost))
            .collect()
    }

    pub(crate) fn or_sets() -> ProcedureSets {
        sets(&["99.0401"], &["51.2300x001", "51.2200", "36.0601"])
    }

    #[test]
    fn a_combination_with_exactly_core_min_cases_is_core() {
        let mut h = many(3, "K80.100x001", &["51.2300x001"], dec!(10000));
        h.extend(many(2, "K80.101", &["51.2200"], dec!(8000)));
        let lib = build_library(&h, &params(3), &or_sets());
        let core = lib.group("C:K80.1|51.23").expect("3 cases = core");
        assert_eq!(core.kind, GroupKind::Core);
        assert_eq!(core.cases, 3);
        assert!(lib.group("C:K80.1|51.22").is_none(), "2 cases are not core");
        // Both K80 surgeries that are not core go to the comprehensive/chapter level.
        assert!(lib.group("Z:K80|surgery").is_none(), "2 cases < 3");
        let chapter = lib.group("H:K|surgery").expect("merged into the chapter");
        assert_eq!(chapter.kind, GroupKind::Chapter);
        assert_eq!(chapter.cases, 2);
        assert_eq!(lib.count(GroupKind::Core), 1);
        assert_eq!(lib.cases(GroupKind::Core), 3);
        assert_eq!(lib.core_share(), dec!(0.6));
    }

    #[test]
    fn comprehensive_groups_under_the_threshold_merge_into_the_chapter_group() {
        let mut h = many(2, "K80.100", &["51.2200"], dec!(1000));
        h.extend(many(1, "K80.200", &["51.2300x001"], dec!(2000)));
        h.extend(many(2, "K81.000", &["51.2200"], dec!(3000)));
        h.extend(many(1, "K81.000", &["88.0101"], dec!(500)));
        let lib = build_library(&h, &params(3), &or_sets());
        assert_eq!(lib.count(GroupKind::Core), 0);
        let z = lib.group("Z:K80|surgery").expect("3 K80 surgeries");
        assert_eq!(
            (z.kind, z.cases, z.mean_cost),
            (GroupKind::Comprehensive, 3, dec!(1333.33))
        );
        assert!(lib.group("Z:K81|surgery").is_none());
        let h_s = lib.group("H:K|surgery").unwrap();
        assert_eq!((h_s.cases, h_s.mean_cost), (2, dec!(3000)));
        let h_d = lib.group("H:K|diagnostic").unwrap();
        assert_eq!(h_d.cases, 1);
        let r = lib.group("R:surgery").unwrap();
        assert_eq!((r.kind, r.cases), (GroupKind::Region, 5));
        assert_eq!(lib.group("R:diagnostic").unwrap().cases, 1);
        assert!(lib.group("R:conservative").is_none());
    }

    #[test]
    fn score_is_the_group_mean_over_the_mean_of_all_cases_times_the_scale() {
        // mean_all = (9800 × 3 + 4200 × 3) / 6 = 7000
        let mut h = many(3, "K80.100", &["51.2200"], dec!(9800));
        h.extend(many(3, "I10.x00", &[], dec!(4200)));
        let lib = build_library(&h, &params(3), &or_sets());
        assert_eq!(lib.summary().mean_all, dec!(7000));
        assert_eq!(lib.group("C:K80.1|51.22").unwrap().score, dec!(140.0000));
        assert_eq!(lib.group("C:I10.x|conservative").unwrap().score, dec!(60));
        assert_eq!(lib.group("R:conservative").unwrap().score, dec!(60));
    }

    #[test]
    fn scores_round_half_up_to_four_decimals() {
        // 1 / 3 × 100 = 33.33333…; 2/3 × 100 = 66.66666… → 66.6667
        let mut h = many(1, "K80.100", &["51.2200"], dec!(1));
        h.extend(many(1, "I10.x00", &[], dec!(2)));
        let lib = build_library(&h, &params(1), &or_sets());
        assert_eq!(lib.group("C:K80.1|51.22").unwrap().score, dec!(66.6667));
        assert_eq!(
            lib.group("C:I10.x|conservative").unwrap().score,
            dec!(133.3333)
        );
    }

    #[test]
    fn an_aux_level_with_exactly_core_min_cases_has_its_own_coefficient() {
        // 3 MCC cases at 12 000 and 2 CC cases at 6 000, 1 plain case at 6 000: mean_g = 9 000.
        let mut h = many(6, "K80.100", &["51.2200"], dec!(6000));
        for c in h.iter_mut().take(3) {
            c.severity = Severity::Mcc;
            c.total_cost = dec!(12000);
        }
        h[3].severity = Severity::Cc;
        h[4].severity = Severity::Cc;
        let lib = build_library(&h, &params(3), &or_sets());
        let g = lib.group("C:K80.1|51.22").unwrap();
        assert_eq!(g.mean_cost, dec!(9000));
        let aux = g.aux.as_ref().unwrap();
        assert_eq!(aux.severity[Severity::Mcc.index()].cases, 3);
        assert_eq!(
            aux.severity[Severity::Mcc.index()].coefficient,
            dec!(1.3333)
        );
        assert_eq!(aux.severity[Severity::Cc.index()].cases, 2);
        assert_eq!(aux.severity[Severity::Cc.index()].coefficient, Decimal::ONE);
        assert_eq!(aux.severity[Severity::None.index()].cases, 1);
        assert_eq!(
            aux.severity[Severity::None.index()].coefficient,
            Decimal::ONE
        );
        let all = aux.age[AgeBand::From15To64.index()];
        assert_eq!((all.cases, all.coefficient), (6, Decimal::ONE));
        assert_eq!(aux.discharge[DischargeKind::Other.index()].cases, 6);
        assert_eq!(aux.age[AgeBand::Under1.index()].cases, 0);
    }

    #[test]
    fn only_core_groups_have_an_aux_catalogue() {
        let mut h = many(3, "K80.100", &["51.2200"], dec!(100));
        h.extend(many(2, "K81.000", &["51.2200"], dec!(100)));
        let lib = build_library(&h, &params(3), &or_sets());
        for g in lib.groups() {
            assert_eq!(g.aux.is_some(), g.kind == GroupKind::Core, "{}", g.id);
        }
    }

    #[test]
    fn cases_without_a_principal_diagnosis_are_skipped() {
        let mut h = many(3, "K80.100", &["51.2200"], dec!(100));
        h[0].diagnoses.clear();
        let lib = build_library(&h, &params(2), &or_sets());
        assert_eq!(lib.summary().history_cases, 2);
        assert_eq!(lib.summary().skipped_cases, 1);
        assert_eq!(lib.group("C:K80.1|51.22").unwrap().cases, 2);
    }

    #[test]
    fn an_empty_history_builds_an_empty_library() {
        let lib = build_library(&[], &params(3), &or_sets());
        assert!(lib.groups().is_empty());
        assert_eq!(lib.summary().mean_all, Decimal::ZERO);
        assert_eq!(lib.core_share(), Decimal::ZERO);
    }

    #[test]
    fn type_7_quartiles_interpolate_between_closest_ranks() {
        let v = [dec!(1), dec!(2), dec!(3), dec!(4), dec!(10)];
        assert_eq!(quartile7(&v, 1), dec!(2));
        assert_eq!(quartile7(&v, 3), dec!(4));
        let v = [dec!(1), dec!(2), dec!(3), dec!(4)];
        assert_eq!(quartile7(&v, 1), dec!(1.75));
        assert_eq!(quartile7(&v, 3), dec!(3.25));
    }

    #[test]
    fn iqr_trimming_drops_outliers_from_the_means_but_not_from_the_counts() {
        let mut h = many(5, "K80.100", &["51.2200"], dec!(100));
        h[4].total_cost = dec!(10000);
        let p = DipParams {
            trim: Trim::Iqr,
            ..params(5)
        };
        let lib = build_library(&h, &p, &or_sets());
        let g = lib.group("C:K80.1|51.22").unwrap();
        assert_eq!((g.cases, g.mean_cost), (5, dec!(100)));
        assert_eq!(lib.summary().mean_all, dec!(100));
        let aux = g.aux.as_ref().unwrap();
        assert_eq!(aux.severity[0].cases, 4, "levels count the kept cases");
        let untrimmed = build_library(&h, &params(5), &or_sets());
        assert_eq!(
            untrimmed.group("C:K80.1|51.22").unwrap().mean_cost,
            dec!(2080)
        );
    }
}
