//! The catalogue's items as DIP points: each form, the max with the ordinary score, the
//! per_item precedence, the failures, the point basis.

use drgdip_pay::exclusion::{Catalogue, Date, ItemUse};
use proptest::prelude::*;
use rust_decimal_macros::dec;

use super::*;
use crate::library::tests::{case, or_sets, params};
use crate::library::{Group, GroupKind, LibrarySummary};
use crate::params::Trim;
use crate::score::{score_case, score_case_with_exclusion, Deviation};

/// One core group `C:K80.1|51.22`, score 140, mean 10 000; mean_all 7 000 at score scale
/// 100, so the library's point basis is 70 CNY per point.
fn library(mean_all: Decimal) -> Library {
    Library::from_parts(
        vec![Group {
            id: "C:K80.1|51.22".into(),
            kind: GroupKind::Core,
            diagnosis_key: "K80.1".into(),
            procedure: "51.22".into(),
            cases: 20,
            mean_cost: dec!(10000),
            score: dec!(140),
            aux: Some(Default::default()),
        }],
        LibrarySummary {
            history_cases: 100,
            skipped_cases: 0,
            mean_all,
            score_scale: dec!(100),
            core_min_cases: 15,
            trim: Trim::None,
        },
    )
}

const CATALOGUE: &str = "code,kind,name,valid_from,valid_to,form,bonus,adrgs
T-PER,technique,per-item technique,2025-01-01,2025-12-31,per_item,,
D-COST,device,item-cost device,2025-01-01,2025-12-31,item_cost,,
M-BONUS,drug,bonus drug,2025-03-01,2025-06-30,weight_bonus,0.30,HC2
";

/// Scores a K80.1 + 51.22 case of `cost` at `level`, discharged `date`, of ADRG `adrg`,
/// naming `items` (`CODE:COST`).
fn scored(cost: Decimal, level: u8, items: &[&str], date: &str, adrg: &str) -> DipScore {
    scored_with(&library(dec!(7000)), cost, level, items, date, adrg)
}

fn scored_with(
    lib: &Library,
    cost: Decimal,
    level: u8,
    items: &[&str],
    date: &str,
    adrg: &str,
) -> DipScore {
    let catalogue = Catalogue::from_csv_str(CATALOGUE).unwrap();
    let uses: Vec<ItemUse> = items
        .iter()
        .map(|i| {
            let (code, cost) = i.split_once(':').unwrap();
            ItemUse {
                code: code.into(),
                cost: cost.parse().unwrap(),
            }
        })
        .collect();
    let p = params(15);
    let input = ExclusionInput {
        checks: catalogue.check(&uses, Date::parse(date), adrg),
        basis: point_basis(lib, &p),
    };
    let mut c = case("x", "K80.100", &["51.2200"], cost);
    c.hospital_level = level;
    score_case_with_exclusion(lib, &p, &or_sets(), &c, &input)
}

fn texts(s: &DipScore) -> Vec<String> {
    s.reasons.iter().map(ToString::to_string).collect()
}

#[test]
fn the_point_basis_is_the_fixed_point_value_else_mean_all_over_the_score_scale() {
    let p = params(15);
    assert_eq!(point_basis(&library(dec!(7000)), &p), Some(dec!(70)));
    let fixed = DipParams {
        point_value: PointValueSource::Fixed(dec!(12.34)),
        ..p.clone()
    };
    assert_eq!(point_basis(&library(dec!(7000)), &fixed), Some(dec!(12.34)));
    assert_eq!(point_basis(&library(Decimal::ZERO), &p), None);
}

#[test]
fn a_per_item_item_scores_the_whole_cost_in_points() {
    // 21 000 is a high case: 140 × (2.1 − 2 + 1) = 154; per item 21 000 / 70 = 300.
    let s = scored(dec!(21000), 3, &["T-PER:5000"], "2025-05-01", "HC2");
    assert_eq!(s.case_score, dec!(300));
    assert_eq!(
        s.exclusion,
        Some(DipExclusion {
            item: "T-PER".into(),
            form: ExclusionForm::PerItem,
            ordinary_score: dec!(154),
            exclusion_score: dec!(300),
        })
    );
    let t = texts(&s);
    assert!(t.contains(&"exclusion item T-PER (form per_item; valid 2025-01-01 to 2025-12-31; scope every group) applies: item cost 5000.00".to_string()), "{t:?}");
    assert!(t.contains(
        &"exclusion per_item (按项目): 21000.00 / point basis 70.000000 = 300.0000 points"
            .to_string()
    ));
    assert_eq!(
        t.last().unwrap(),
        "excluded: case score = max(ordinary 154.0000, exclusion 300.0000) = 300.0000, the exclusion score is larger"
    );
    // The level coefficient does not touch per-item points (an item costs what it costs).
    assert_eq!(
        scored(dec!(21000), 2, &["T-PER:5000"], "2025-05-01", "HC2").case_score,
        dec!(300)
    );
}

#[test]
fn the_case_score_is_never_below_the_ordinary_score() {
    // 7 000 is normal: 140; per item 7 000 / 70 = 100 < 140.
    let s = scored(dec!(7000), 3, &["T-PER:500"], "2025-05-01", "HC2");
    assert_eq!(s.case_score, dec!(140));
    let e = s.exclusion.unwrap();
    assert!(!e.exclusion_larger());
    assert_eq!(e.exclusion_score, dec!(100));
}

#[test]
fn an_item_cost_item_scores_the_rest_as_an_ordinary_case_plus_the_items_points() {
    // 18 000 is normal (140); the rest 6 000 is normal too: 140 + 12 000 / 70 = 311.4286.
    let s = scored(dec!(18000), 3, &["D-COST:12000"], "2025-05-01", "HC2");
    assert_eq!(s.case_score, dec!(311.4286));
    // Level 2: the rest 140 × 0.90 = 126, the item's points unchanged: 297.4286.
    let s = scored(dec!(18000), 2, &["D-COST:12000"], "2025-05-01", "HC2");
    assert_eq!(s.case_score, dec!(297.4286));
    // The rest 3 000 is a low deviation case: 140 × 0.3 = 42, + 171.4286 = 213.4286.
    let s = scored(dec!(15000), 3, &["D-COST:12000"], "2025-05-01", "HC2");
    assert_eq!(s.case_score, dec!(213.4286));
    assert!(texts(&s).contains(
        &"exclusion item_cost (除外支付): the rest 3000.00 scores 42.0000 (low) + item 12000.00 / point basis 70.000000 = 213.4286 points".to_string()
    ));
}

#[test]
fn a_weight_bonus_item_adds_bonus_times_group_score_times_level_coefficient() {
    // Normal: 140 + 0.30 × 140 = 182; level 2: 126 + 0.30 × 140 × 0.90 = 163.8.
    assert_eq!(
        scored(dec!(10000), 3, &["M-BONUS:100"], "2025-05-01", "HC2").case_score,
        dec!(182)
    );
    assert_eq!(
        scored(dec!(10000), 2, &["M-BONUS:100"], "2025-05-01", "HC2").case_score,
        dec!(163.8)
    );
    // A high case keeps its deviation score: 210 + 42 = 252.
    let s = scored(dec!(25000), 3, &["M-BONUS:100"], "2025-05-01", "HC2");
    assert_eq!((s.deviation, s.case_score), (Deviation::High, dec!(252)));
    // No point basis is needed for a bonus.
    let s = scored_with(
        &library(Decimal::ZERO),
        dec!(10000),
        3,
        &["M-BONUS:100"],
        "2025-05-01",
        "HC2",
    );
    assert_eq!(s.exclusion.unwrap().exclusion_score, dec!(182));
}

#[test]
fn items_that_fail_leave_the_ordinary_score_and_say_why() {
    let ordinary = dec!(140);
    for (items, date, adrg, why) in [
        (
            "M-BONUS:100",
            "2025-05-01",
            "FR1",
            "exclusion item M-BONUS does not apply: outside its scope: ADRG FR1 is not in HC2",
        ),
        (
            "M-BONUS:100",
            "2025-07-01",
            "HC2",
            "exclusion item M-BONUS does not apply: expired: valid to 2025-06-30, discharged 2025-07-01",
        ),
        (
            "M-BONUS:100",
            "2025-02-28",
            "HC2",
            "exclusion item M-BONUS does not apply: not yet valid: valid from 2025-03-01, discharged 2025-02-28",
        ),
        (
            "X-NONE:100",
            "2025-05-01",
            "HC2",
            "exclusion item X-NONE does not apply: not in the approved catalogue (unlisted)",
        ),
    ] {
        let s = scored(dec!(10000), 3, &[items], date, adrg);
        assert_eq!((s.case_score, &s.exclusion), (ordinary, &None), "{why}");
        let t = texts(&s);
        assert!(t.contains(&why.to_string()), "{t:?}");
        assert_eq!(
            t.last().unwrap(),
            "no named exclusion item applies: the ordinary score stands"
        );
    }
    // Validity boundaries are inclusive.
    for date in ["2025-03-01", "2025-06-30"] {
        let s = scored(dec!(10000), 3, &["M-BONUS:100"], date, "HC2");
        assert_eq!(s.case_score, dec!(182), "{date}");
    }
    // No item named: nothing said.
    let s = scored(dec!(10000), 3, &[], "2025-05-01", "HC2");
    assert!(!texts(&s).iter().any(|t| t.contains("exclusion")));
}

#[test]
fn an_applicable_per_item_item_wins_over_an_earlier_item() {
    let s = scored(
        dec!(21000),
        3,
        &["M-BONUS:100", "T-PER:100"],
        "2025-05-01",
        "HC2",
    );
    assert_eq!(s.exclusion.as_ref().unwrap().item, "T-PER");
    assert!(texts(&s).contains(
        &"exclusion item M-BONUS also applies but does not decide: T-PER does".to_string()
    ));
    let s = scored(
        dec!(10000),
        3,
        &["D-COST:100", "M-BONUS:100"],
        "2025-05-01",
        "HC2",
    );
    assert_eq!(s.exclusion.as_ref().unwrap().item, "D-COST");
}

#[test]
fn without_a_point_basis_money_items_leave_the_ordinary_score() {
    let s = scored_with(
        &library(Decimal::ZERO),
        dec!(21000),
        3,
        &["T-PER:100"],
        "2025-05-01",
        "HC2",
    );
    assert_eq!(s.case_score, s.exclusion.as_ref().unwrap().ordinary_score);
    assert!(texts(&s).contains(
        &"exclusion: no point basis to turn the item's money into points; the ordinary score stands"
            .to_string()
    ));
}

proptest! {
    #[test]
    fn an_excluded_case_never_scores_less_than_without_the_exclusion(
        cost in (0i64..=10_000_000).prop_map(|f| Decimal::new(f, 2)),
        item_cost in (0i64..=20_000_000).prop_map(|f| Decimal::new(f, 2)),
        code in prop::sample::select(vec!["T-PER", "D-COST", "M-BONUS", "X-NONE"]),
        level in 1u8..=3,
        date in prop::sample::select(vec!["2025-01-01", "2025-05-01", "2025-07-01", ""]),
    ) {
        let item = format!("{code}:{item_cost}");
        let s = scored(cost, level, &[item.as_str()], date, "HC2");
        let mut c = case("x", "K80.100", &["51.2200"], cost);
        c.hospital_level = level;
        let plain = score_case(&library(dec!(7000)), &params(15), &or_sets(), &c);
        prop_assert!(s.case_score >= plain.case_score);
        match &s.exclusion {
            Some(e) => {
                prop_assert_eq!(e.ordinary_score, plain.case_score);
                prop_assert_eq!(s.case_score, e.ordinary_score.max(e.exclusion_score));
            }
            None => prop_assert_eq!(s.case_score, plain.case_score),
        }
    }
}
