//! Hand-computed payments for every category (base rate 40000.00; level coefficients
//! 1.00 / 0.90 / 0.80; bands ≤ 1.0 → 3.0, ≤ 2.0 → 2.5, above → 2.0; share 0.90; low 0.4).

use proptest::prelude::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::*;
use crate::testutil::{params, weight_table, BASE_TOML};

fn tariff_with(toml: &str) -> Tariff {
    Tariff::new(&params(toml), &weight_table(), None).unwrap()
}

fn tariff() -> Tariff {
    tariff_with(BASE_TOML)
}

/// A local grouped level-3 case.
fn case(drg: &str, total_cost: Decimal, fund_paid: Decimal) -> PayInput {
    PayInput {
        case_id: "C1".to_string(),
        hospital_level: 3,
        insured_region: "350100".to_string(),
        new_tech_flag: false,
        los: Some(7),
        total_cost,
        fund_paid,
        status: GroupStatus::Grouped,
        mdc: format!("MDC{}", &drg[..1]),
        adrg: drg[..3].to_string(),
        drg: drg.to_string(),
        special: None,
    }
}

fn lines(p: &Payment) -> Vec<String> {
    p.rules.iter().map(ToString::to_string).collect()
}

/// Asserts category, payment, own and fund_due exactly.
fn assert_paid(p: &Payment, category: Category, payment: Decimal, own: Decimal, fund_due: Decimal) {
    assert_eq!(p.category, category, "{:?}", lines(p));
    assert_eq!(p.payment, payment, "payment; {:?}", lines(p));
    assert_eq!(p.own, own, "own");
    assert_eq!(p.fund_due, fund_due, "fund_due");
}

#[test]
fn a_normal_case_is_paid_the_standard() {
    // FR11: 0.8 × 40000 × 1.00 = 32000; 12800 ≤ 20000 ≤ 96000.
    let p = pay_case(&tariff(), &case("FR11", dec!(20000), dec!(14000)));
    assert_paid(&p, Category::Normal, dec!(32000), dec!(6000), dec!(26000));
    assert_eq!((p.weight, p.standard), (Some(dec!(0.8)), Some(dec!(32000))));
    assert_eq!(
        lines(&p),
        [
            "standard: weight 0.8000 × base rate 40000.00 × level coefficient 1.00 = 32000.00",
            "normal: paid the standard 32000.00",
        ]
    );
}

#[test]
fn the_fund_pays_nothing_when_the_patient_own_share_exceeds_the_payment() {
    // Standard 32000, own 40000 → fund_due max(0, −8000) = 0.
    let p = pay_case(&tariff(), &case("FR11", dec!(40000), dec!(0)));
    assert_paid(&p, Category::Normal, dec!(32000), dec!(40000), dec!(0));
}

#[test]
fn a_high_case_in_the_first_band_uses_multiple_3() {
    // FR11 weight 0.8 ≤ 1.0 → m = 3: 100000 > 96000 → 32000 + 4000 × 0.90 = 35600.
    let p = pay_case(&tariff(), &case("FR11", dec!(100000), dec!(70000)));
    assert_paid(&p, Category::High, dec!(35600), dec!(30000), dec!(5600));
}

#[test]
fn a_weight_equal_to_max_weight_is_in_that_band() {
    // FR13 weight 1.0 → m = 3.0 (inclusive bound): 110000 ≤ 120000 is normal (m = 2.5 would
    // make it high); 130000 is high: 40000 + 10000 × 0.90 = 49000.
    let t = tariff();
    let p = pay_case(&t, &case("FR13", dec!(110000), dec!(80000)));
    assert_paid(&p, Category::Normal, dec!(40000), dec!(30000), dec!(10000));
    let p = pay_case(&t, &case("FR13", dec!(130000), dec!(100000)));
    assert_paid(&p, Category::High, dec!(49000), dec!(30000), dec!(19000));
}

#[test]
fn a_high_case_in_the_second_band_takes_the_band_of_the_weight_before_the_coefficient() {
    // FB23 weight 1.25 at level 1: standard 1.25 × 40000 × 0.80 = 40000; the band is that of
    // 1.25 (m = 2.5), not of 1.0: 120000 > 100000 → 40000 + 20000 × 0.90 = 58000.
    let mut c = case("FB23", dec!(120000), dec!(84000));
    c.hospital_level = 1;
    let p = pay_case(&tariff(), &c);
    assert_paid(&p, Category::High, dec!(58000), dec!(36000), dec!(22000));
    assert_eq!(
        lines(&p)[1],
        "high-cost: 120000.00 > 2.5 × 40000.00; paid 40000.00 + (120000.00 − 100000.00) × 0.90 = 58000.00"
    );
}

#[test]
fn a_high_case_in_the_open_last_band_uses_multiple_2() {
    // BB11 weight 2.5 at level 2: 2.5 × 40000 × 0.90 = 90000; m = 2.0: 200000 > 180000 →
    // 90000 + 20000 × 0.90 = 108000.
    let mut c = case("BB11", dec!(200000), dec!(150000));
    c.hospital_level = 2;
    let p = pay_case(&tariff(), &c);
    assert_paid(&p, Category::High, dec!(108000), dec!(50000), dec!(58000));
}

#[test]
fn a_low_cost_case_is_paid_its_cost() {
    // 10000 < 0.4 × 32000 = 12800 → paid 10000.
    let p = pay_case(&tariff(), &case("FR11", dec!(10000), dec!(7000)));
    assert_paid(&p, Category::Low, dec!(10000), dec!(3000), dec!(7000));
    assert_eq!(
        lines(&p)[1],
        "low-cost: 10000.00 < 0.4 × 32000.00; paid per item 10000.00"
    );
    // Exactly at the threshold is not low.
    let p = pay_case(&tariff(), &case("FR11", dec!(12800), dec!(7000)));
    assert_eq!(p.category, Category::Normal);
}

#[test]
fn a_low_cost_case_under_the_ratio_rule_is_paid_standard_times_cost_over_standard() {
    let t = tariff_with(&BASE_TOML.replace("low_payment = \"cost\"", "low_payment = \"ratio\""));
    // 32000 × 10000.01 / 32000 = 10000.01, exactly.
    let p = pay_case(&t, &case("FR11", dec!(10000.01), dec!(7000)));
    assert_paid(&p, Category::Low, dec!(10000.01), dec!(3000.01), dec!(7000));
    assert_eq!(
        lines(&p)[1],
        "low-cost: 10000.01 < 0.4 × 32000.00; paid 32000.00 × 10000.01 / 32000.00 = 10000.01"
    );
}

#[test]
fn a_short_stay_is_a_low_case_when_short_stay_days_is_set() {
    let t = tariff_with(&BASE_TOML.replace("short_stay_days = 0", "short_stay_days = 3"));
    let mut c = case("FR11", dec!(20000), dec!(14000));
    c.los = Some(2);
    let p = pay_case(&t, &c);
    assert_paid(&p, Category::Low, dec!(20000), dec!(6000), dec!(14000));
    assert_eq!(
        lines(&p)[1],
        "short stay: 2 days < 3 days; paid per item 20000.00"
    );
    c.los = Some(3);
    assert_eq!(pay_case(&t, &c).category, Category::Normal);
    c.los = None;
    assert_eq!(pay_case(&t, &c).category, Category::Normal);
    // With short_stay_days = 0 (off), a one-day stay is normal.
    c.los = Some(1);
    assert_eq!(pay_case(&tariff(), &c).category, Category::Normal);
}

#[test]
fn an_ungroupable_case_gets_the_lowest_own_standard_of_all_mdcs_and_nothing_else() {
    // Lowest own weight GC11 0.25 at level 2: 0.25 × 40000 × 0.90 = 9000. The new-tech flag
    // and an approval are ignored (rule 3 comes first).
    let mut c = case("0000", dec!(5000), dec!(3500));
    c.status = GroupStatus::Ungroupable;
    c.hospital_level = 2;
    c.new_tech_flag = true;
    c.special = Some(SpecialApproval::PerItem);
    let p = pay_case(&tariff(), &c);
    assert_paid(
        &p,
        Category::Ungroupable,
        dec!(9000),
        dec!(1500),
        dec!(7500),
    );
    assert_eq!(p.weight, Some(dec!(0.25)));
    assert_eq!(
        lines(&p)[0],
        "ungroupable (0000): paid the lowest standard of all MDCs, that of GC11"
    );
}

#[test]
fn an_ambiguous_case_gets_the_lowest_own_standard_of_its_mdc_even_when_costly() {
    // MDC F: FT21 0.3 → 12000 at level 3; 50000 would be high for a normal DRG.
    let mut c = case("FQY", dec!(50000), dec!(45000));
    c.status = GroupStatus::Ambiguous;
    let p = pay_case(&tariff(), &c);
    assert_paid(&p, Category::Ambiguous, dec!(12000), dec!(5000), dec!(7000));
    assert_eq!(
        lines(&p)[0],
        "ambiguous (QY): paid the lowest standard in MDC F, that of FT21"
    );
}

#[test]
fn an_ambiguous_case_uses_its_mdc_over_the_qy_letter_and_says_so() {
    let mut c = case("GQY", dec!(50000), dec!(45000));
    c.status = GroupStatus::Ambiguous;
    c.mdc = "MDCF".to_string();
    let p = pay_case(&tariff(), &c);
    assert_eq!(p.payment, dec!(12000));
    assert_eq!(
        lines(&p)[0],
        "the case's MDC F differs from the letter of its QY code (GQY): MDC F used"
    );
    // No MDC given: the QY letter.
    c.mdc = String::new();
    c.drg = "FQY".to_string();
    assert_eq!(pay_case(&tariff(), &c).payment, dec!(12000));
}

#[test]
fn an_ambiguous_case_of_an_mdc_without_own_weights_falls_back_to_all_mdcs() {
    // MDC X has only XX19, a default weight: the lowest of all MDCs, GC11 → 10000.
    let mut c = case("XQY", dec!(50000), dec!(45000));
    c.status = GroupStatus::Ambiguous;
    let p = pay_case(&tariff(), &c);
    assert_paid(&p, Category::Ambiguous, dec!(10000), dec!(5000), dec!(5000));
    assert_eq!(
        lines(&p)[0],
        "no DRG of MDC X has a weight of its own: the lowest standard of all MDCs is used"
    );
}

#[test]
fn special_groups_can_be_paid_per_item() {
    let t = tariff_with(&BASE_TOML.replace(
        "ungroupable = \"lowest_standard_all_mdcs\"",
        "ungroupable = \"per_item\"",
    ));
    let mut c = case("0000", dec!(5000), dec!(3500));
    c.status = GroupStatus::Ungroupable;
    let p = pay_case(&t, &c);
    assert_paid(
        &p,
        Category::Ungroupable,
        dec!(5000),
        dec!(1500),
        dec!(3500),
    );
}

#[test]
fn an_excluded_case_under_weight_bonus_is_paid_standard_times_one_plus_bonus() {
    // 32000 × 1.20 = 38400, also for a cost that would be high.
    let mut c = case("FR11", dec!(200000), dec!(190000));
    c.new_tech_flag = true;
    let p = pay_case(&tariff(), &c);
    assert_paid(
        &p,
        Category::Excluded,
        dec!(38400),
        dec!(10000),
        dec!(28400),
    );
    assert_eq!(
        lines(&p)[1],
        "excluded (new drug, device or technique): paid 32000.00 × (1 + 0.20) = 38400.00"
    );
}

#[test]
fn an_excluded_case_under_per_item_is_paid_its_cost() {
    let t = tariff_with(&BASE_TOML.replace("mode = \"weight_bonus\"", "mode = \"per_item\""));
    let mut c = case("FR11", dec!(50000), dec!(40000));
    c.new_tech_flag = true;
    let p = pay_case(&t, &c);
    assert_paid(
        &p,
        Category::Excluded,
        dec!(50000),
        dec!(10000),
        dec!(40000),
    );
    assert_eq!((p.weight, p.standard), (Some(dec!(0.8)), Some(dec!(32000))));
}

#[test]
fn an_approved_special_case_per_item_is_paid_its_cost() {
    let mut c = case("FR11", dec!(150000), dec!(120000));
    c.special = Some(SpecialApproval::PerItem);
    let p = pay_case(&tariff(), &c);
    assert_paid(
        &p,
        Category::Special,
        dec!(150000),
        dec!(30000),
        dec!(120000),
    );
}

#[test]
fn an_approved_special_case_with_extra_points_adds_points_at_base_rate_over_point_scale() {
    // 32000 + 25 × (40000 / 100) = 42000.
    let mut c = case("FR11", dec!(150000), dec!(120000));
    c.special = Some(SpecialApproval::ExtraPoints(dec!(25)));
    let p = pay_case(&tariff(), &c);
    assert_paid(&p, Category::Special, dec!(42000), dec!(30000), dec!(12000));
    assert_eq!(
        lines(&p)[1],
        "approved special case: paid 32000.00 + 25 points × 400.00 = 42000.00"
    );
}

#[test]
fn a_cross_province_case_is_paid_per_item() {
    let mut c = case("FR11", dec!(20000), dec!(14000));
    c.insured_region = "110100".to_string();
    c.new_tech_flag = true;
    let p = pay_case(&tariff(), &c);
    assert_paid(
        &p,
        Category::CrossProvince,
        dec!(20000),
        dec!(6000),
        dec!(14000),
    );
    assert_eq!((p.weight, p.standard), (Some(dec!(0.8)), Some(dec!(32000))));
    assert_eq!(
        lines(&p),
        ["cross-province (insured region 110100 outside the province): paid per item 20000.00"]
    );
}

#[test]
fn a_cross_province_case_can_be_paid_by_the_local_standard() {
    let t = tariff_with(&BASE_TOML.replace(
        "cross_province = \"per_item\"",
        "cross_province = \"local_standard\"",
    ));
    let mut c = case("FR11", dec!(20000), dec!(14000));
    c.insured_region = "110100".to_string();
    let p = pay_case(&t, &c);
    assert_paid(&p, Category::Normal, dec!(32000), dec!(6000), dec!(26000));
}

#[test]
fn an_in_province_case_is_paid_like_a_local_case_and_says_it_was_cross_region() {
    let mut c = case("FR11", dec!(20000), dec!(14000));
    c.insured_region = "350200".to_string();
    let p = pay_case(&tariff(), &c);
    assert_paid(&p, Category::Normal, dec!(32000), dec!(6000), dec!(26000));
    assert_eq!(
        lines(&p)[0],
        "in-province cross-region (insured region 350200): paid like a local case by the local standard"
    );
}

#[test]
fn an_invalid_case_is_not_paid() {
    let mut c = case("FR11", dec!(20000), dec!(14000));
    c.status = GroupStatus::Invalid;
    c.insured_region = "110100".to_string();
    let p = pay_case(&tariff(), &c);
    assert_paid(&p, Category::Invalid, dec!(0), dec!(6000), dec!(0));
    assert_eq!((p.weight, p.standard), (None, None));
    assert_eq!(lines(&p), ["invalid case (failed validation): not paid"]);
}

#[test]
fn a_grouped_drg_missing_from_the_weight_table_is_paid_per_item_in_its_category() {
    let p = pay_case(&tariff(), &case("ZZ99", dec!(20000), dec!(14000)));
    assert_paid(&p, Category::Normal, dec!(20000), dec!(6000), dec!(14000));
    assert_eq!((p.weight, p.standard), (None, None));
    assert_eq!(
        lines(&p),
        ["DRG ZZ99 has no weight in the weight table: paid per item 20000.00"]
    );

    let mut c = case("ZZ99", dec!(20000), dec!(14000));
    c.new_tech_flag = true;
    assert_eq!(pay_case(&tariff(), &c).category, Category::Excluded);
    c.new_tech_flag = false;
    c.special = Some(SpecialApproval::ExtraPoints(dec!(10)));
    let p = pay_case(&tariff(), &c);
    assert_paid(&p, Category::Special, dec!(20000), dec!(6000), dec!(14000));
}

#[test]
fn a_hospital_level_without_coefficient_is_paid_per_item() {
    let mut c = case("FR11", dec!(20000), dec!(14000));
    c.hospital_level = 7;
    let p = pay_case(&tariff(), &c);
    assert_paid(&p, Category::Normal, dec!(20000), dec!(6000), dec!(14000));
    assert_eq!(p.weight, Some(dec!(0.8)));
    assert_eq!(
        lines(&p),
        ["no level coefficient for hospital level 7: paid per item 20000.00"]
    );
}

#[test]
fn the_point_method_pays_points_times_point_value() {
    let p = params(&BASE_TOML.replace("payment = \"rate\"", "payment = \"point\""));
    let t = Tariff::new(&p, &weight_table(), Some(dec!(395.5))).unwrap();
    // FR11 level 2: 0.8 × 100 × 0.90 = 72 points × 395.5 = 28476.
    let mut c = case("FR11", dec!(20000), dec!(14000));
    c.hospital_level = 2;
    let paid = pay_case(&t, &c);
    assert_paid(
        &paid,
        Category::Normal,
        dec!(28476),
        dec!(6000),
        dec!(22476),
    );
    assert_eq!(
        lines(&paid)[0],
        "standard: weight 0.8000 × 100 points × level coefficient 0.90 = 72.0000 points × point value 395.5 = 28476.00"
    );
    // Extra points at the point value: 28476 + 10 × 395.5 = 32431.
    c.special = Some(SpecialApproval::ExtraPoints(dec!(10)));
    assert_eq!(pay_case(&t, &c).payment, dec!(32431));
}

#[test]
fn category_names_are_lower_snake_case() {
    let names: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(
        names,
        [
            "normal",
            "high",
            "low",
            "ungroupable",
            "ambiguous",
            "excluded",
            "special",
            "cross_province",
            "invalid"
        ]
    );
}

/// An amount in fen, 0 ..= 10^9 CNY.
fn amount() -> impl Strategy<Value = Decimal> {
    (0i64..=100_000_000_000).prop_map(|fen| Decimal::new(fen, 2))
}

prop_compose! {
    fn any_case()(
        (total_cost, fund_share) in (amount(), 0u32..=100),
        status in prop::sample::select(GroupStatus::ALL.to_vec()),
        drg in prop::sample::select(vec!["FR11", "FR13", "FB21", "FB23", "BB11", "FT21", "ZZ99", "FQY", "XQY", "0000"]),
        level in 0u8..=4,
        region in prop::sample::select(vec!["350100", "350200", "110100", ""]),
        new_tech_flag in any::<bool>(),
        los in prop::option::of(0u32..=60),
        special in prop::option::of(prop_oneof![
            Just(SpecialApproval::PerItem),
            (0i64..=100_000).prop_map(|p| SpecialApproval::ExtraPoints(Decimal::new(p, 1))),
        ]),
    ) -> PayInput {
        // fund_paid ≤ total_cost, in whole fen.
        let fund_paid = (total_cost * Decimal::from(fund_share) / Decimal::ONE_HUNDRED).round_dp(2).min(total_cost);
        PayInput {
            case_id: "P".to_string(),
            hospital_level: level,
            insured_region: region.to_string(),
            new_tech_flag,
            los,
            total_cost,
            fund_paid,
            status,
            mdc: format!("MDC{}", &drg[..1]),
            adrg: String::new(),
            drg: drg.to_string(),
            special,
        }
    }
}

fn any_tariff() -> impl Strategy<Value = Tariff> {
    (any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
        |(ratio, per_item, point, short)| {
            let mut text = BASE_TOML.to_string();
            if ratio {
                text = text.replace("low_payment = \"cost\"", "low_payment = \"ratio\"");
            }
            if per_item {
                text = text.replace("mode = \"weight_bonus\"", "mode = \"per_item\"");
            }
            if short {
                text = text.replace("short_stay_days = 0", "short_stay_days = 3");
            }
            let point_value = point.then(|| {
                text = text.replace("payment = \"rate\"", "payment = \"point\"");
                dec!(412.37)
            });
            Tariff::new(&params(&text), &weight_table(), point_value).unwrap()
        },
    )
}

proptest! {
    #[test]
    fn payments_and_fund_shares_are_never_negative(tariff in any_tariff(), case in any_case()) {
        let p = pay_case(&tariff, &case);
        prop_assert!(p.payment >= Decimal::ZERO, "payment {} < 0: {:?}", p.payment, lines(&p));
        prop_assert!(p.fund_due >= Decimal::ZERO);
        prop_assert_eq!(p.own, case.total_cost - case.fund_paid);
        prop_assert_eq!(p.fund_due, (p.payment - p.own).max(Decimal::ZERO));
        prop_assert!(!p.rules.is_empty());
        if p.category == Category::Invalid {
            prop_assert_eq!(p.payment, Decimal::ZERO);
        }
    }
}
