//! 病例分值 — the score of one case against the library (`payment-model.md` §3, "Case score"
//! and the fallbacks of its last bullet).
//!
//! Choices where the text is silent:
//! - deviation is checked against the group's published mean cost (`mean_g` to the fen) with
//!   strict comparisons: `total_cost > high × mean_g` is high, `< low × mean_g` low, equality
//!   normal; deviation cases take the deviation formula *instead of* the auxiliary coefficient;
//! - the average fallback scores `score_scale` of the library and uses `mean_all` as its mean;
//! - a group (or library) mean of 0 disables the deviation check;
//! - a hospital level without a coefficient takes 1 and says so;
//! - a negative result (negative costs) is raised to 0 and says so.

use std::fmt;

use rust_decimal::Decimal;
use serde::Serialize;

use crate::case::{AuxLevel, DipCase};
use crate::exclusion::{DipExclusion, ExclusionInput, ExclusionReason};
use crate::keys::{
    self, chapter_group_id, comprehensive_group_id, core_group_id, region_group_id, ProcedureSets,
};
use crate::library::{Group, GroupKind, Library};
use crate::params::DipParams;
use crate::round::{fmt4, fmt_money, round4};

/// Which group a case took, in the order of §3's last bullet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fallback {
    /// No fallback: the case's combination is a core group.
    None,
    /// 综合病种 — its comprehensive group (类目 + class).
    Comprehensive,
    /// Its chapter group (first letter + class).
    Chapter,
    /// The region-wide group of its procedure class.
    RegionClass,
    /// No group at all: the score `score_scale` of an average case.
    Average,
}

impl Fallback {
    /// A short name for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Fallback::None => "none",
            Fallback::Comprehensive => "comprehensive",
            Fallback::Chapter => "chapter",
            Fallback::RegionClass => "region_class",
            Fallback::Average => "average",
        }
    }
}

/// 偏差病例 — whether the case's cost is far from its group mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Deviation {
    /// Within `[low_multiple, high_multiple] × mean_g`.
    Normal,
    /// 费用超高 — `total_cost > high_multiple × mean_g`.
    High,
    /// 费用超低 — `total_cost < low_multiple × mean_g`.
    Low,
}

impl Deviation {
    /// A short name for reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Deviation::Normal => "normal",
            Deviation::High => "high",
            Deviation::Low => "low",
        }
    }
}

/// One auxiliary level of a case in a core group, with its coefficient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AuxReason {
    /// The level.
    pub level: AuxLevel,
    /// History cases of the group at this level.
    pub cases: u64,
    /// Its coefficient (1 when the level had fewer than `core_min_cases` cases).
    pub coefficient: Decimal,
}

impl fmt::Display for AuxReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} ({} history cases)",
            self.level,
            fmt4(self.coefficient),
            self.cases
        )
    }
}

/// One step of the scoring of a case; `Display` renders it as a sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum ScoreReason {
    /// The case has no principal diagnosis: only the region-wide and average fallbacks apply.
    NoPrincipalDiagnosis,
    /// The case's combination is this core group.
    CoreGroup {
        /// The group.
        group_id: String,
    },
    /// A group the case would belong to is not in the library.
    NotInLibrary {
        /// The id looked for.
        group_id: String,
    },
    /// The case took a fallback group.
    FallbackGroup {
        /// Which fallback.
        fallback: Fallback,
        /// The group taken.
        group_id: String,
    },
    /// No group at all: the average score.
    AverageScore {
        /// `score_scale` of the library.
        score_scale: Decimal,
    },
    /// A normal case: `s = score_g × aux_coefficient`.
    Normal {
        /// `score_g`.
        base_score: Decimal,
        /// The product of the auxiliary coefficients.
        aux_coefficient: Decimal,
        /// `s`.
        score: Decimal,
    },
    /// A high-cost deviation case: `s = score_g × (total_cost / mean_g − high_multiple + 1)`.
    HighCost {
        /// The case's cost.
        total_cost: Decimal,
        /// `mean_g`.
        mean_cost: Decimal,
        /// `high_multiple`.
        multiple: Decimal,
        /// `score_g`.
        base_score: Decimal,
        /// `s`.
        score: Decimal,
    },
    /// A low-cost deviation case: `s = score_g × total_cost / mean_g`.
    LowCost {
        /// The case's cost.
        total_cost: Decimal,
        /// `mean_g`.
        mean_cost: Decimal,
        /// `low_multiple`.
        multiple: Decimal,
        /// `score_g`.
        base_score: Decimal,
        /// `s`.
        score: Decimal,
    },
    /// The group's mean cost is 0: no deviation check.
    NoDeviationReference,
    /// 等级系数 applied.
    LevelCoefficient {
        /// The hospital level.
        level: u8,
        /// Its coefficient.
        coefficient: Decimal,
    },
    /// The region set no coefficient for this level: 1 was used.
    LevelCoefficientMissing {
        /// The hospital level.
        level: u8,
    },
    /// The score came out negative (negative costs) and was raised to 0.
    ClampedToZero {
        /// The score before.
        score: Decimal,
    },
    /// A step of the exclusion mechanism (除外机制).
    Exclusion(ExclusionReason),
}

impl fmt::Display for ScoreReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScoreReason::NoPrincipalDiagnosis => f.write_str("no principal diagnosis"),
            ScoreReason::CoreGroup { group_id } => write!(f, "core group {group_id} (核心病种)"),
            ScoreReason::NotInLibrary { group_id } => {
                write!(f, "no group {group_id} in the library")
            }
            ScoreReason::FallbackGroup { fallback, group_id } => {
                write!(f, "fallback: {} group {group_id}", fallback.as_str())
            }
            ScoreReason::AverageScore { score_scale } => {
                write!(f, "fallback: no group at all, the average score {score_scale}")
            }
            ScoreReason::Normal {
                base_score,
                aux_coefficient,
                score,
            } => write!(
                f,
                "normal case: s = {} × aux {} = {}",
                fmt4(*base_score),
                fmt4(*aux_coefficient),
                fmt4(*score)
            ),
            ScoreReason::HighCost {
                total_cost,
                mean_cost,
                multiple,
                base_score,
                score,
            } => write!(
                f,
                "high-cost case (偏差病例): cost {} > {multiple} × mean {}; s = {} × ({} / {} − {multiple} + 1) = {} (auxiliary coefficient not applied)",
                fmt_money(*total_cost),
                fmt_money(*mean_cost),
                fmt4(*base_score),
                fmt_money(*total_cost),
                fmt_money(*mean_cost),
                fmt4(*score)
            ),
            ScoreReason::LowCost {
                total_cost,
                mean_cost,
                multiple,
                base_score,
                score,
            } => write!(
                f,
                "low-cost case (偏差病例): cost {} < {multiple} × mean {}; s = {} × {} / {} = {} (auxiliary coefficient not applied)",
                fmt_money(*total_cost),
                fmt_money(*mean_cost),
                fmt4(*base_score),
                fmt_money(*total_cost),
                fmt_money(*mean_cost),
                fmt4(*score)
            ),
            ScoreReason::NoDeviationReference => {
                f.write_str("the group's mean cost is 0: no deviation check")
            }
            ScoreReason::LevelCoefficient { level, coefficient } => {
                write!(f, "hospital level {level}: × {coefficient} (等级系数)")
            }
            ScoreReason::LevelCoefficientMissing { level } => {
                write!(f, "no coefficient for hospital level {level}: × 1")
            }
            ScoreReason::ClampedToZero { score } => {
                write!(f, "score {} is negative: raised to 0", fmt4(*score))
            }
            ScoreReason::Exclusion(reason) => reason.fmt(f),
        }
    }
}

/// The score of one case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DipScore {
    /// The group taken (`None` for the average fallback).
    pub group_id: Option<String>,
    /// Its kind (`None` for the average fallback).
    pub kind: Option<GroupKind>,
    /// Which fallback was used.
    pub fallback: Fallback,
    /// `score_g` of the group (`score_scale` for the average fallback).
    pub base_score: Decimal,
    /// The product of the case's three auxiliary coefficients (4 decimals); 1 outside core
    /// groups. Applied only to normal cases.
    pub aux_coefficient: Decimal,
    /// The case's level in each auxiliary dimension with its coefficient (core groups only).
    pub aux_reasons: Vec<AuxReason>,
    /// The deviation-case class.
    pub deviation: Deviation,
    /// The mean cost the deviation was checked against.
    pub reference_cost: Decimal,
    /// The hospital level coefficient applied.
    pub level_coefficient: Decimal,
    /// `s × level coefficient`, half-up to 4 decimals, never negative; with an applicable
    /// exclusion item, the larger of that and the exclusion score.
    pub case_score: Decimal,
    /// How the score was reached, step by step.
    pub reasons: Vec<ScoreReason>,
    /// The exclusion item that decided, with both scores (`None`: no item applied).
    pub exclusion: Option<DipExclusion>,
}

/// Finds the group of a case, noting each step in `reasons`.
fn find_group<'l>(
    library: &'l Library,
    sets: &ProcedureSets,
    case: &DipCase,
    reasons: &mut Vec<ScoreReason>,
) -> Option<(&'l Group, Fallback)> {
    let keys = keys::case_keys(case, sets);
    let class = match &keys {
        Some(k) => k.class,
        None => keys::procedure_class(&case.procedures, sets),
    };
    let order: &[Fallback] = match &keys {
        Some(_) => &[
            Fallback::None,
            Fallback::Comprehensive,
            Fallback::Chapter,
            Fallback::RegionClass,
        ],
        None => {
            reasons.push(ScoreReason::NoPrincipalDiagnosis);
            &[Fallback::RegionClass]
        }
    };
    // Ids are built only as far as the search goes: most cases stop at their core group.
    for &fallback in order {
        let group_id = match (fallback, &keys) {
            (Fallback::None, Some(k)) => core_group_id(k.diagnosis_key, &k.procedure_items),
            (Fallback::Comprehensive, Some(k)) => comprehensive_group_id(k.category, class),
            (Fallback::Chapter, Some(k)) => chapter_group_id(k.chapter, class),
            _ => region_group_id(class),
        };
        match library.group(&group_id) {
            Some(g) => {
                reasons.push(match fallback {
                    Fallback::None => ScoreReason::CoreGroup { group_id },
                    _ => ScoreReason::FallbackGroup { fallback, group_id },
                });
                return Some((g, fallback));
            }
            None => reasons.push(ScoreReason::NotInLibrary { group_id }),
        }
    }
    None
}

/// The deviation class of a cost and its score before the level coefficient (§3 "Case
/// score"): `score_g × aux` for a normal case, the deviation formulas otherwise; a reference
/// cost of 0 disables the check.
pub(crate) fn deviation_score(
    params: &DipParams,
    base_score: Decimal,
    aux_coefficient: Decimal,
    reference_cost: Decimal,
    cost: Decimal,
) -> (Deviation, Decimal) {
    if reference_cost.is_zero() {
        (Deviation::Normal, base_score * aux_coefficient)
    } else if cost > params.high_multiple * reference_cost {
        let s = base_score * (cost / reference_cost - params.high_multiple + Decimal::ONE);
        (Deviation::High, s)
    } else if cost < params.low_multiple * reference_cost {
        let s = base_score * cost / reference_cost;
        (Deviation::Low, s)
    } else {
        (Deviation::Normal, base_score * aux_coefficient)
    }
}

/// Scores one case with the exclusion catalogue's items (除外机制): the ordinary score of
/// [`score_case`], then the applicable item's extra points (see [`crate::exclusion`]); the
/// case score is never below the ordinary score.
pub fn score_case_with_exclusion(
    library: &Library,
    params: &DipParams,
    sets: &ProcedureSets,
    case: &DipCase,
    exclusion: &ExclusionInput,
) -> DipScore {
    let ordinary = score_case(library, params, sets, case);
    crate::exclusion::apply(ordinary, params, case, exclusion)
}

/// Scores one case: its group (or fallback), auxiliary coefficient, deviation and hospital
/// level coefficient. Never fails: every departure from the plain path is named in `reasons`.
pub fn score_case(
    library: &Library,
    params: &DipParams,
    sets: &ProcedureSets,
    case: &DipCase,
) -> DipScore {
    let mut reasons = Vec::with_capacity(4);
    let found = find_group(library, sets, case, &mut reasons);
    let (group_id, kind, fallback, base_score, reference_cost) = match found {
        Some((g, fallback)) => (
            Some(g.id.clone()),
            Some(g.kind),
            fallback,
            g.score,
            g.mean_cost,
        ),
        None => {
            let s = library.summary();
            reasons.push(ScoreReason::AverageScore {
                score_scale: s.score_scale,
            });
            (None, None, Fallback::Average, s.score_scale, s.mean_all)
        }
    };

    let mut aux_reasons = Vec::new();
    let mut aux_coefficient = Decimal::ONE;
    if let Some(aux) = found.and_then(|(g, _)| g.aux.as_ref()) {
        let mut product = Decimal::ONE;
        for level in AuxLevel::of(case) {
            let entry = aux.entry(level);
            product *= entry.coefficient;
            aux_reasons.push(AuxReason {
                level,
                cases: entry.cases,
                coefficient: entry.coefficient,
            });
        }
        aux_coefficient = round4(product);
    }

    let cost = case.total_cost;
    if reference_cost.is_zero() {
        reasons.push(ScoreReason::NoDeviationReference);
    }
    let (deviation, score) =
        deviation_score(params, base_score, aux_coefficient, reference_cost, cost);
    reasons.push(match deviation {
        Deviation::Normal => ScoreReason::Normal {
            base_score,
            aux_coefficient,
            score,
        },
        Deviation::High => ScoreReason::HighCost {
            total_cost: cost,
            mean_cost: reference_cost,
            multiple: params.high_multiple,
            base_score,
            score,
        },
        Deviation::Low => ScoreReason::LowCost {
            total_cost: cost,
            mean_cost: reference_cost,
            multiple: params.low_multiple,
            base_score,
            score,
        },
    });

    let level = case.hospital_level;
    let level_coefficient = match params.level_coefficient(level) {
        Some(coefficient) => {
            reasons.push(ScoreReason::LevelCoefficient { level, coefficient });
            coefficient
        }
        None => {
            reasons.push(ScoreReason::LevelCoefficientMissing { level });
            Decimal::ONE
        }
    };
    let mut case_score = round4(score * level_coefficient);
    if case_score.is_sign_negative() && !case_score.is_zero() {
        reasons.push(ScoreReason::ClampedToZero { score: case_score });
        case_score = Decimal::ZERO;
    }

    DipScore {
        group_id,
        kind,
        fallback,
        base_score,
        aux_coefficient,
        aux_reasons,
        deviation,
        reference_cost,
        level_coefficient,
        case_score,
        reasons,
        exclusion: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::{AgeBand, DischargeKind, Severity};
    use crate::library::tests::{case, many, or_sets, params};
    use crate::library::{build_library, LibrarySummary};
    use crate::params::Trim;
    use rust_decimal_macros::dec;

    /// A library with one core group `C:K80.1|51.22` of score 140 and mean 10 000
    /// (mean_all 7 000 × 140 / 100 = 9 800 would not be round, so the library is assembled).
    fn library(groups: Vec<Group>) -> Library {
        Library::from_parts(
            groups,
            LibrarySummary {
                history_cases: 100,
                skipped_cases: 0,
                mean_all: dec!(7000),
                score_scale: dec!(100),
                core_min_cases: 15,
                trim: Trim::None,
            },
        )
    }

    fn group(id: &str, kind: GroupKind, score: Decimal, mean: Decimal) -> Group {
        let (diag, proc) = id[2..].split_once('|').unwrap_or(("", &id[2..]));
        Group {
            id: id.to_owned(),
            kind,
            diagnosis_key: diag.to_owned(),
            procedure: proc.to_owned(),
            cases: 20,
            mean_cost: mean,
            score,
            aux: (kind == GroupKind::Core).then(Default::default),
        }
    }

    fn core_library() -> Library {
        library(vec![group(
            "C:K80.1|51.22",
            GroupKind::Core,
            dec!(140),
            dec!(10000),
        )])
    }

    fn scored(lib: &Library, cost: Decimal) -> DipScore {
        let c = case("x", "K80.100", &["51.2200"], cost);
        score_case(lib, &params(15), &or_sets(), &c)
    }

    #[test]
    fn a_normal_case_scores_the_group_score() {
        let s = scored(&core_library(), dec!(10000));
        assert_eq!(s.group_id.as_deref(), Some("C:K80.1|51.22"));
        assert_eq!(s.kind, Some(GroupKind::Core));
        assert_eq!(s.fallback, Fallback::None);
        assert_eq!(s.deviation, Deviation::Normal);
        assert_eq!(s.case_score, dec!(140));
        assert_eq!(s.aux_reasons.len(), 3);
        assert_eq!(
            s.reasons[0].to_string(),
            "core group C:K80.1|51.22 (核心病种)"
        );
    }

    #[test]
    fn high_cost_scores_by_the_ratio_to_the_mean() {
        // 25 000 / 10 000 = 2.5 → 140 × (2.5 − 2 + 1) = 210 (dip-and-payment.md §13).
        let s = scored(&core_library(), dec!(25000));
        assert_eq!((s.deviation, s.case_score), (Deviation::High, dec!(210)));
        assert!(s.reasons.iter().any(|r| r.to_string()
            == "high-cost case (偏差病例): cost 25000.00 > 2.0 × mean 10000.00; s = 140.0000 × (25000.00 / 10000.00 − 2.0 + 1) = 210.0000 (auxiliary coefficient not applied)"));
    }

    #[test]
    fn low_cost_scores_in_proportion_to_the_cost() {
        // 4 000 / 10 000 = 0.4 → 140 × 0.4 = 56.
        let s = scored(&core_library(), dec!(4000));
        assert_eq!((s.deviation, s.case_score), (Deviation::Low, dec!(56)));
    }

    #[test]
    fn deviation_boundaries_are_strict() {
        let lib = core_library();
        let at_high = scored(&lib, dec!(20000));
        assert_eq!(
            (at_high.deviation, at_high.case_score),
            (Deviation::Normal, dec!(140))
        );
        let above = scored(&lib, dec!(20000.01));
        // 140 × (2.000001 − 2 + 1) = 140.00014 → 140.0001
        assert_eq!(
            (above.deviation, above.case_score),
            (Deviation::High, dec!(140.0001))
        );
        let at_low = scored(&lib, dec!(5000));
        assert_eq!(
            (at_low.deviation, at_low.case_score),
            (Deviation::Normal, dec!(140))
        );
        let below = scored(&lib, dec!(4999.99));
        // 140 × 0.499999 = 69.99986 → 69.9999
        assert_eq!(
            (below.deviation, below.case_score),
            (Deviation::Low, dec!(69.9999))
        );
    }

    #[test]
    fn the_hospital_level_coefficient_applies_last() {
        let lib = core_library();
        let mut c = case("x", "K80.100", &["51.2200"], dec!(25000));
        c.hospital_level = 2;
        let s = score_case(&lib, &params(15), &or_sets(), &c);
        assert_eq!(s.level_coefficient, dec!(0.90));
        assert_eq!(s.case_score, dec!(189));
        c.hospital_level = 7;
        let s = score_case(&lib, &params(15), &or_sets(), &c);
        assert_eq!(
            (s.level_coefficient, s.case_score),
            (Decimal::ONE, dec!(210))
        );
        assert!(s
            .reasons
            .contains(&ScoreReason::LevelCoefficientMissing { level: 7 }));
    }

    #[test]
    fn auxiliary_coefficients_multiply_on_normal_cases_only() {
        let mut g = group("C:K80.1|51.22", GroupKind::Core, dec!(140), dec!(10000));
        let aux = g.aux.as_mut().unwrap();
        aux.severity[Severity::Mcc.index()].coefficient = dec!(1.15);
        aux.age[AgeBand::From65.index()].coefficient = dec!(1.1);
        aux.discharge[DischargeKind::Death.index()].coefficient = dec!(0.8);
        let lib = library(vec![g]);
        let mut c = case("x", "K80.100", &["51.2200"], dec!(10000));
        c.severity = Severity::Mcc;
        c.age_years = 70;
        let s = score_case(&lib, &params(15), &or_sets(), &c);
        // 1.15 × 1.1 × 1 = 1.265; 140 × 1.265 = 177.1
        assert_eq!(
            (s.aux_coefficient, s.case_score),
            (dec!(1.265), dec!(177.1))
        );
        assert_eq!(
            s.aux_reasons[0].to_string(),
            "severity 3: 1.1500 (0 history cases)"
        );
        c.discharge_way = "5".into();
        let s = score_case(&lib, &params(15), &or_sets(), &c);
        // 1.15 × 1.1 × 0.8 = 1.012 → 141.68
        assert_eq!(
            (s.aux_coefficient, s.case_score),
            (dec!(1.012), dec!(141.68))
        );
        c.total_cost = dec!(30000);
        let s = score_case(&lib, &params(15), &or_sets(), &c);
        // high: 140 × (3 − 2 + 1) = 280, the auxiliary coefficient is not applied.
        assert_eq!((s.deviation, s.case_score), (Deviation::High, dec!(280)));
    }

    #[test]
    fn an_unknown_combination_falls_back_to_its_comprehensive_group() {
        let lib = library(vec![
            group("C:K80.1|51.22", GroupKind::Core, dec!(140), dec!(10000)),
            group(
                "Z:K80|surgery",
                GroupKind::Comprehensive,
                dec!(120),
                dec!(8400),
            ),
            group("H:K|surgery", GroupKind::Chapter, dec!(110), dec!(7700)),
            group("R:surgery", GroupKind::Region, dec!(150), dec!(10500)),
        ]);
        let c = case("x", "K80.200", &["51.2200"], dec!(8400));
        let s = score_case(&lib, &params(15), &or_sets(), &c);
        assert_eq!(s.fallback, Fallback::Comprehensive);
        assert_eq!(s.group_id.as_deref(), Some("Z:K80|surgery"));
        assert_eq!((s.aux_coefficient, s.case_score), (Decimal::ONE, dec!(120)));
        assert!(s.aux_reasons.is_empty());
        assert_eq!(
            s.reasons[0],
            ScoreReason::NotInLibrary {
                group_id: "C:K80.2|51.22".into()
            }
        );
        assert_eq!(
            s.reasons[1].to_string(),
            "fallback: comprehensive group Z:K80|surgery"
        );
    }

    #[test]
    fn without_a_comprehensive_group_the_chapter_group_is_taken() {
        let lib = library(vec![
            group("H:K|surgery", GroupKind::Chapter, dec!(110), dec!(7700)),
            group("R:surgery", GroupKind::Region, dec!(150), dec!(10500)),
        ]);
        let c = case("x", "K81.000", &["51.2200"], dec!(7700));
        let s = score_case(&lib, &params(15), &or_sets(), &c);
        assert_eq!((s.fallback, s.case_score), (Fallback::Chapter, dec!(110)));
    }

    #[test]
    fn without_a_chapter_group_the_region_class_group_is_taken() {
        let lib = library(vec![
            group("H:K|therapeutic", GroupKind::Chapter, dec!(110), dec!(7700)),
            group("R:surgery", GroupKind::Region, dec!(150), dec!(10500)),
        ]);
        let c = case("x", "J18.000", &["51.2200"], dec!(10500));
        let s = score_case(&lib, &params(15), &or_sets(), &c);
        assert_eq!(
            (s.fallback, s.case_score),
            (Fallback::RegionClass, dec!(150))
        );
        assert_eq!(s.reasons.len(), 6, "{:?}", s.reasons);
    }

    #[test]
    fn without_any_group_the_average_score_is_taken() {
        let lib = library(vec![group(
            "R:surgery",
            GroupKind::Region,
            dec!(150),
            dec!(10500),
        )]);
        let c = case("x", "J18.000", &[], dec!(7000));
        let s = score_case(&lib, &params(15), &or_sets(), &c);
        assert_eq!(s.fallback, Fallback::Average);
        assert_eq!((s.group_id, s.kind), (None, None));
        assert_eq!((s.base_score, s.reference_cost), (dec!(100), dec!(7000)));
        assert_eq!(s.case_score, dec!(100));
        // Deviation against mean_all: 21 000 > 2 × 7 000 → 100 × (3 − 2 + 1) = 200.
        let c = case("x", "J18.000", &[], dec!(21000));
        let s = score_case(&lib, &params(15), &or_sets(), &c);
        assert_eq!((s.deviation, s.case_score), (Deviation::High, dec!(200)));
    }

    #[test]
    fn a_case_without_diagnosis_can_still_take_its_region_class() {
        let lib = library(vec![group(
            "R:surgery",
            GroupKind::Region,
            dec!(150),
            dec!(10500),
        )]);
        let mut c = case("x", "", &["51.2200"], dec!(10500));
        c.diagnoses.clear();
        let s = score_case(&lib, &params(15), &or_sets(), &c);
        assert_eq!(s.fallback, Fallback::RegionClass);
        assert_eq!(s.reasons[0], ScoreReason::NoPrincipalDiagnosis);
    }

    #[test]
    fn an_empty_library_scores_the_average_without_deviation() {
        let lib = build_library(&[], &params(15), &or_sets());
        let s = score_case(
            &lib,
            &params(15),
            &or_sets(),
            &case("x", "K80.1", &[], dec!(5)),
        );
        assert_eq!(
            (s.fallback, s.deviation, s.case_score),
            (Fallback::Average, Deviation::Normal, dec!(100))
        );
        assert!(s.reasons.contains(&ScoreReason::NoDeviationReference));
    }

    #[test]
    fn a_negative_cost_never_makes_a_negative_score() {
        let s = scored(&core_library(), dec!(-100));
        assert_eq!(s.case_score, Decimal::ZERO);
        assert!(matches!(
            s.reasons.last(),
            Some(ScoreReason::ClampedToZero { .. })
        ));
    }

    #[test]
    fn a_history_case_scores_in_the_group_it_built() {
        let mut h = many(15, "K80.100", &["51.2200"], dec!(9000));
        h.extend(many(15, "I10.x00", &[], dec!(5000)));
        let p = params(15);
        let lib = build_library(&h, &p, &or_sets());
        let s = score_case(&lib, &p, &or_sets(), &h[0]);
        assert_eq!(s.group_id.as_deref(), Some("C:K80.1|51.22"));
        assert_eq!(s.case_score, dec!(128.5714));
    }
}
