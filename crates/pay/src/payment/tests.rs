//! Hand-computed payments for every category (base rate 40000.00; level coefficients
//! 1.00 / 0.90 / 0.80; bands ≤ 1.0 → 3.0, ≤ 2.0 → 2.5, above → 2.0; share 0.90; low 0.4).

use proptest::prelude::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::*;
use crate::testutil::{catalogue, params, weight_table, BASE_TOML};

fn tariff_with(toml: &str) -> Tariff {
    Tariff::new(&params(toml), &weight_table(), None).unwrap()
}

/// The legacy parameters (no catalogue: `exclusion.mode = "weight_bonus"`, bonus 0.20).
fn tariff() -> Tariff {
    tariff_with(BASE_TOML)
}

/// The parameters with the test catalogue (T-PER per_item; D-COST item_cost, ADRGs FR1 and
/// FB2; M-BONUS weight_bonus 0.30, valid 2025-03-01 to 2025-06-30).
fn with_catalogue() -> Tariff {
    let text = BASE_TOML.replace(
        "[exclusion]\n",
        "[exclusion]\ncatalogue = \"exclusion-catalogue.csv\"\n",
    );
    let p = params(&text);
    assert_eq!(
        Tariff::new(&p, &weight_table(), None).unwrap_err(),
        crate::TariffError::CatalogueNotLoaded("exclusion-catalogue.csv".into())
    );
    Tariff::with_catalogue(&p, &weight_table(), None, std::sync::Arc::new(catalogue())).unwrap()
}

fn date(text: &str) -> Date {
    Date::parse(text).unwrap()
}

/// The case naming `items` (`CODE:COST`).
fn naming(mut c: PayInput, items: &[&str]) -> PayInput {
    c.new_tech_items = items
        .iter()
        .map(|i| {
            let (code, cost) = i.split_once(':').unwrap();
            ItemUse {
                code: code.to_string(),
                cost: cost.parse().unwrap(),
            }
        })
        .collect();
    c
}

/// A local grouped level-3 case.
fn case(drg: &str, total_cost: Decimal, fund_paid: Decimal) -> PayInput {
    PayInput {
        case_id: "C1".to_string(),
        hospital_level: 3,
        insured_region: "350100".to_string(),
        new_tech_flag: false,
        new_tech_items: Vec::new(),
        discharge_date: Some(date("2025-05-01")),
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
fn without_a_catalogue_a_flagged_case_takes_the_legacy_weight_bonus_on_top_of_its_ordinary_payment()
{
    // Normal: 32000 + 0.20 × 32000 = 38400.
    let mut c = case("FR11", dec!(20000), dec!(14000));
    c.new_tech_flag = true;
    let p = pay_case(&tariff(), &c);
    assert_paid(&p, Category::Excluded, dec!(38400), dec!(6000), dec!(32400));
    assert_eq!(
        lines(&p)[0],
        "exclusion (no catalogue in the parameters): new_tech_flag = 1 takes the legacy exclusion.mode = weight_bonus"
    );
    // High: the bonus no longer switches off the high-cost rule. Ordinary 32000 + (200000 −
    // 96000) × 0.90 = 125600; + 6400 = 132000 (the first reading paid 38400).
    let mut c = case("FR11", dec!(200000), dec!(190000));
    c.new_tech_flag = true;
    let p = pay_case(&tariff(), &c);
    assert_paid(
        &p,
        Category::Excluded,
        dec!(132000),
        dec!(10000),
        dec!(122000),
    );
    assert_eq!(
        lines(&p)[4],
        "exclusion weight_bonus (权重加成): ordinary 125600.00 + 0.20 × standard 32000.00 = 132000.00"
    );
    let e = p.exclusion.unwrap();
    assert_eq!(
        (e.item, e.form, e.ordinary, e.ordinary_category),
        (
            None,
            ExclusionForm::WeightBonus,
            dec!(125600),
            Category::High
        )
    );
    // Items named without the flag give nothing without a catalogue.
    let c = naming(case("FR11", dec!(20000), dec!(14000)), &["T-PER:100"]);
    assert_eq!(pay_case(&tariff(), &c).category, Category::Normal);
}

#[test]
fn without_a_catalogue_the_legacy_per_item_mode_pays_the_larger_of_cost_and_ordinary() {
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
    // 20000 per item would be less than the standard 32000: the standard is paid.
    c.total_cost = dec!(20000);
    c.fund_paid = dec!(14000);
    assert_eq!(pay_case(&t, &c).payment, dec!(32000));
}

#[test]
fn with_a_catalogue_the_flag_alone_gives_no_exclusion() {
    let mut c = case("FR11", dec!(200000), dec!(190000));
    c.new_tech_flag = true;
    let p = pay_case(&with_catalogue(), &c);
    // Ordinary high payment 125600, no bonus.
    assert_paid(&p, Category::High, dec!(125600), dec!(10000), dec!(115600));
    assert_eq!(p.exclusion, None);
    assert_eq!(
        lines(&p)[0],
        "new_tech_flag = 1 but the case names no item of the approved exclusion catalogue (new_tech_items is empty): no exclusion"
    );
}

#[test]
fn a_per_item_item_pays_the_whole_case_per_item_when_that_is_more() {
    let c = naming(case("FR11", dec!(50000), dec!(40000)), &["T-PER:12000.50"]);
    let p = pay_case(&with_catalogue(), &c);
    assert_paid(
        &p,
        Category::Excluded,
        dec!(50000),
        dec!(10000),
        dec!(40000),
    );
    assert_eq!((p.weight, p.standard), (Some(dec!(0.8)), Some(dec!(32000))));
    assert_eq!(
        lines(&p),
        [
            "exclusion item T-PER (technique per-item technique; form per_item; valid 2025-01-01 to 2025-12-31; scope every group) applies: discharged 2025-05-01, ADRG FR1, item cost 12000.50",
            "standard: weight 0.8000 × base rate 40000.00 × level coefficient 1.00 = 32000.00",
            "normal: paid the standard 32000.00",
            "ordinary payment (rule 6, without the exclusion): normal 32000.00",
            "exclusion per_item (按项目付费): the whole case per item 50000.00",
            "excluded: payment = max(ordinary 32000.00, exclusion 50000.00) = 50000.00, the exclusion payment is larger",
        ]
    );
    let e = p.exclusion.unwrap();
    assert_eq!(e.item.as_deref(), Some("T-PER"));
    assert!(e.exclusion_larger());
}

#[test]
fn an_excluded_case_is_never_paid_less_than_its_ordinary_payment_and_stays_excluded() {
    // Per item 20000 < the standard 32000: 32000 is paid, category excluded.
    let c = naming(case("FR11", dec!(20000), dec!(14000)), &["T-PER:5000"]);
    let p = pay_case(&with_catalogue(), &c);
    assert_paid(&p, Category::Excluded, dec!(32000), dec!(6000), dec!(26000));
    assert_eq!(
        lines(&p).last().unwrap(),
        "excluded: payment = max(ordinary 32000.00, exclusion 20000.00) = 32000.00, the ordinary payment is not smaller (category excluded all the same)"
    );
    assert!(!p.exclusion.unwrap().exclusion_larger());
}

#[test]
fn an_item_cost_item_applies_rule_6_to_the_rest_and_adds_the_item_cost() {
    let t = with_catalogue();
    // 110000 is high (> 96000): ordinary 32000 + 14000 × 0.90 = 44600. The rest, 80000, is
    // normal: 32000 + item 30000 = 62000.
    let c = naming(case("FR11", dec!(110000), dec!(80000)), &["D-COST:30000"]);
    let p = pay_case(&t, &c);
    assert_paid(
        &p,
        Category::Excluded,
        dec!(62000),
        dec!(30000),
        dec!(32000),
    );
    assert_eq!(
        lines(&p)[3..],
        [
            "ordinary payment (rule 6, without the exclusion): high 44600.00",
            "exclusion item_cost (除外支付): rule 6 applied to total_cost − item cost = 110000.00 − 30000.00 = 80000.00",
            "on the remaining cost: normal: paid the standard 32000.00",
            "exclusion item_cost: 32000.00 + item cost 30000.00 = 62000.00",
            "excluded: payment = max(ordinary 44600.00, exclusion 62000.00) = 62000.00, the exclusion payment is larger",
        ]
    );
    // The rest is low (10000 < 12800): paid per item 10000 + 30000 = 40000 > 32000.
    // FB23 at level 1: 1.25 × 40000 × 0.80 = 40000, low below 16000. 40000 is normal
    // (ordinary 40000); the rest 10000 is low: 10000 + 30000 = 40000, not more.
    let mut c = naming(case("FB23", dec!(40000), dec!(30000)), &["D-COST:30000"]);
    c.hospital_level = 1;
    let p = pay_case(&t, &c);
    assert_eq!(p.payment, dec!(40000), "{:?}", lines(&p));
    assert!(lines(&p).iter().any(|l| l
        == "on the remaining cost: low-cost: 10000.00 < 0.4 × 40000.00; paid per item 10000.00"));
    // The rest still high: 200000 − 20000 = 180000 > 96000 → 32000 + 84000 × 0.90 = 107600,
    // + 20000 = 127600 against the ordinary 125600.
    let c = naming(case("FR11", dec!(200000), dec!(150000)), &["D-COST:20000"]);
    let p = pay_case(&t, &c);
    assert_eq!(p.payment, dec!(127600));
    assert!(lines(&p)
        .iter()
        .any(|l| l.starts_with("on the remaining cost: high-cost: 180000.00 > 3.0 × 32000.00")));
}

#[test]
fn a_weight_bonus_item_adds_bonus_times_standard_to_the_ordinary_payment() {
    let t = with_catalogue();
    // Normal: 32000 + 0.30 × 32000 = 41600.
    let c = naming(case("FR11", dec!(20000), dec!(14000)), &["M-BONUS:800"]);
    let p = pay_case(&t, &c);
    assert_paid(&p, Category::Excluded, dec!(41600), dec!(6000), dec!(35600));
    assert!(lines(&p)[0].contains("form weight_bonus, bonus 0.30; valid 2025-03-01 to 2025-06-30"));
    // High: 125600 + 9600 = 135200; low (10000 < 12800): 10000 + 9600 = 19600.
    let c = naming(case("FR11", dec!(200000), dec!(190000)), &["M-BONUS:800"]);
    assert_eq!(pay_case(&t, &c).payment, dec!(135200));
    let c = naming(case("FR11", dec!(10000), dec!(7000)), &["M-BONUS:800"]);
    let p = pay_case(&t, &c);
    assert_eq!(p.payment, dec!(19600));
    assert_eq!(p.exclusion.unwrap().ordinary_category, Category::Low);
    // Level 2 (0.90): the bonus is on the hospital's standard 28800: 28800 × 1.30 = 37440.
    let mut c = naming(case("FR11", dec!(20000), dec!(14000)), &["M-BONUS:800"]);
    c.hospital_level = 2;
    assert_eq!(pay_case(&t, &c).payment, dec!(37440));
}

#[test]
fn validity_boundaries_are_inclusive() {
    let t = with_catalogue();
    let at = |d: &str| {
        let mut c = naming(case("FR11", dec!(20000), dec!(14000)), &["M-BONUS:800"]);
        c.discharge_date = Some(date(d));
        pay_case(&t, &c)
    };
    assert_eq!(at("2025-03-01").category, Category::Excluded);
    assert_eq!(at("2025-06-30").category, Category::Excluded);
    let before = at("2025-02-28");
    assert_eq!(before.category, Category::Normal);
    assert_eq!(
        lines(&before)[..2],
        [
            "exclusion item M-BONUS (item cost 800.00) does not apply: not yet valid: valid from 2025-03-01, discharged 2025-02-28",
            "no named exclusion item applies: paid by the ordinary rules",
        ]
    );
    let after = at("2025-07-01");
    assert_eq!(after.category, Category::Normal);
    assert_eq!(
        lines(&after)[0],
        "exclusion item M-BONUS (item cost 800.00) does not apply: expired: valid to 2025-06-30, discharged 2025-07-01"
    );
}

#[test]
fn an_item_outside_its_scope_an_unlisted_item_and_a_case_without_date_get_no_exclusion() {
    let t = with_catalogue();
    // D-COST is for FR1 and FB2: BB11 is outside. 200000 stays a high case (ordinary rules).
    let mut c = naming(case("BB11", dec!(300000), dec!(200000)), &["D-COST:30000"]);
    c.new_tech_flag = true;
    let p = pay_case(&t, &c);
    assert_eq!(p.category, Category::High);
    assert_eq!(
        lines(&p)[0],
        "exclusion item D-COST (item cost 30000.00) does not apply: outside its scope: ADRG BB1 is not in FR1|FB2"
    );
    let c = naming(case("FR11", dec!(20000), dec!(14000)), &["XL99-ZZ:800.00"]);
    let p = pay_case(&t, &c);
    assert_eq!(p.category, Category::Normal);
    assert_eq!(
        lines(&p)[0],
        "exclusion item XL99-ZZ (item cost 800.00) does not apply: not in the approved catalogue (unlisted)"
    );
    let mut c = naming(case("FR11", dec!(20000), dec!(14000)), &["T-PER:800"]);
    c.discharge_date = None;
    let p = pay_case(&t, &c);
    assert_eq!(p.category, Category::Normal);
    assert_eq!(
        lines(&p)[0],
        "exclusion item T-PER (item cost 800.00) does not apply: the case has no discharge date to check the item's validity"
    );
}

#[test]
fn an_applicable_per_item_item_wins_over_an_earlier_item_and_otherwise_the_first_decides() {
    let t = with_catalogue();
    let c = naming(
        case("FR11", dec!(50000), dec!(40000)),
        &["XL99-ZZ:1", "M-BONUS:800", "T-PER:900"],
    );
    let p = pay_case(&t, &c);
    assert_eq!(p.payment, dec!(50000), "{:?}", lines(&p));
    assert_eq!(p.exclusion.as_ref().unwrap().item.as_deref(), Some("T-PER"));
    assert_eq!(
        lines(&p)[..3],
        [
            "exclusion item XL99-ZZ (item cost 1.00) does not apply: not in the approved catalogue (unlisted)",
            "exclusion item M-BONUS (weight_bonus) also applies but does not decide: the per_item item T-PER wins",
            "exclusion item T-PER (technique per-item technique; form per_item; valid 2025-01-01 to 2025-12-31; scope every group) applies: discharged 2025-05-01, ADRG FR1, item cost 900.00",
        ]
    );
    // Without a per_item item the first applicable decides: D-COST, not M-BONUS
    // (which would pay 41600 here against D-COST's 32000 + 1000).
    let c = naming(
        case("FR11", dec!(20000), dec!(14000)),
        &["D-COST:1000", "M-BONUS:800"],
    );
    let p = pay_case(&t, &c);
    assert_eq!(
        p.exclusion.as_ref().unwrap().item.as_deref(),
        Some("D-COST")
    );
    assert_eq!(p.payment, dec!(33000));
    assert_eq!(
        lines(&p)[0],
        "exclusion item M-BONUS (weight_bonus) also applies but does not decide: the first applicable item D-COST does"
    );
}

#[test]
fn cross_province_ungroupable_and_ambiguous_cases_keep_their_earlier_rules() {
    let t = with_catalogue();
    let mut c = naming(case("FR11", dec!(20000), dec!(14000)), &["T-PER:1000"]);
    c.insured_region = "110100".to_string();
    assert_eq!(pay_case(&t, &c).category, Category::CrossProvince);
    let mut c = naming(case("0000", dec!(50000), dec!(35000)), &["T-PER:1000"]);
    c.status = GroupStatus::Ungroupable;
    c.adrg = "00".to_string();
    let p = pay_case(&t, &c);
    assert_paid(&p, Category::Ungroupable, dec!(10000), dec!(15000), dec!(0));
    let mut c = naming(case("FQY", dec!(50000), dec!(45000)), &["T-PER:1000"]);
    c.status = GroupStatus::Ambiguous;
    c.adrg = "QY".to_string();
    let p = pay_case(&t, &c);
    assert_eq!(p.category, Category::Ambiguous);
    assert!(!lines(&p).iter().any(|l| l.contains("exclusion")));
    // An in-province cross-region case is paid like a local one: the item applies.
    let mut c = naming(case("FR11", dec!(50000), dec!(40000)), &["T-PER:1000"]);
    c.insured_region = "350200".to_string();
    assert_eq!(pay_case(&t, &c).category, Category::Excluded);
}

#[test]
fn the_exclusion_comes_before_an_approved_special_case_and_a_failed_item_does_not() {
    let t = with_catalogue();
    let mut c = naming(case("FR11", dec!(50000), dec!(40000)), &["T-PER:1000"]);
    c.special = Some(SpecialApproval::ExtraPoints(dec!(10)));
    let p = pay_case(&t, &c);
    assert_eq!(p.category, Category::Excluded);
    assert_eq!(
        lines(&p).last().unwrap(),
        "the approved special case is not applied: the exclusion (rule 4) decided first"
    );
    c.discharge_date = Some(date("2026-01-01"));
    let p = pay_case(&t, &c);
    assert_eq!(p.category, Category::Special);
    assert_eq!(p.payment, dec!(36000));
}

#[test]
fn an_excluded_drg_without_a_weight_is_paid_per_item() {
    let t = with_catalogue();
    for item in ["T-PER:100", "M-BONUS:100"] {
        let p = pay_case(&t, &naming(case("ZZ99", dec!(20000), dec!(14000)), &[item]));
        assert_paid(&p, Category::Excluded, dec!(20000), dec!(6000), dec!(14000));
        assert_eq!((p.weight, p.standard), (None, None));
    }
    let p = pay_case(
        &t,
        &naming(case("ZZ99", dec!(20000), dec!(14000)), &["M-BONUS:100"]),
    );
    assert!(lines(&p).contains(
        &"exclusion weight_bonus: no standard to add a bonus to; the exclusion payment is the ordinary payment".to_string()
    ));
}

#[test]
fn an_item_cost_above_the_case_cost_counts_as_the_whole_case() {
    let c = naming(case("FR11", dec!(20000), dec!(14000)), &["D-COST:25000"]);
    let p = pay_case(&with_catalogue(), &c);
    // The rest is 0 (low, paid 0) + 20000 = 20000 < 32000: the ordinary payment.
    assert_eq!(p.payment, dec!(32000));
    assert!(lines(&p).contains(
        &"the item cost 25000.00 exceeds total_cost 20000.00: the item is taken to cost 20000.00"
            .to_string()
    ));
    assert_eq!(p.exclusion.unwrap().exclusion_payment, dec!(20000));
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
    let p = pay_case(&tariff(), &c);
    assert_paid(&p, Category::Excluded, dec!(20000), dec!(6000), dec!(14000));
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
        items in prop::collection::vec(
            (prop::sample::select(vec!["T-PER", "D-COST", "M-BONUS", "X-NONE"]), 0i64..=20_000_000),
            0..3,
        ),
        discharge in prop::sample::select(vec!["2025-01-15", "2025-03-01", "2025-06-30", "2025-07-01", "2026-01-01", ""]),
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
            new_tech_items: items.into_iter().map(|(code, cost)| ItemUse { code: code.to_string(), cost: Decimal::new(cost, 2) }).collect(),
            discharge_date: Date::parse(discharge),
            los,
            total_cost,
            fund_paid,
            status,
            mdc: format!("MDC{}", &drg[..1]),
            adrg: drg[..drg.len().min(3)].to_string(),
            drg: drg.to_string(),
            special,
        }
    }
}

fn any_tariff() -> impl Strategy<Value = Tariff> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(ratio, per_item, point, short, listed)| {
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
            if listed {
                text = text.replace("[exclusion]\n", "[exclusion]\ncatalogue = \"c.csv\"\n");
                let p = params(&text);
                let c = std::sync::Arc::new(catalogue());
                return Tariff::with_catalogue(&p, &weight_table(), point_value, c).unwrap();
            }
            Tariff::new(&params(&text), &weight_table(), point_value).unwrap()
        })
}

/// The case as rule 6 alone pays it: no flag, no item, no approval.
fn ordinary_of(case: &PayInput) -> PayInput {
    PayInput {
        new_tech_flag: false,
        new_tech_items: Vec::new(),
        special: None,
        ..case.clone()
    }
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

    #[test]
    fn an_excluded_case_is_never_paid_less_than_without_the_exclusion(tariff in any_tariff(), case in any_case()) {
        let p = pay_case(&tariff, &case);
        prop_assert_eq!(p.category == Category::Excluded, p.exclusion.is_some());
        if let Some(e) = &p.exclusion {
            let plain = pay_case(&tariff, &ordinary_of(&case));
            prop_assert_eq!(e.ordinary, plain.payment, "{:?}", lines(&p));
            prop_assert_eq!(e.ordinary_category, plain.category);
            prop_assert_eq!(p.payment, e.ordinary.max(e.exclusion_payment));
            prop_assert!(p.payment >= plain.payment);
            prop_assert!(p.fund_due >= plain.fund_due);
        }
    }
}
