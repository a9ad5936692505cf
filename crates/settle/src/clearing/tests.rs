use super::*;
use crate::testutil::{case, hospital, params};
use drgdip_pay::Category;
use proptest::prelude::*;
use rust_decimal_macros::dec;

/// A year of one hospital whose cases total `entitled` (fund_due) and `item_fund`
/// (fund_paid), split over two cases so that the sums are exercised.
fn input(entitled: Decimal, item_fund: Decimal, score: Decimal) -> ClearingInput {
    let mut a = case(
        "C1",
        "H001",
        "2025-03",
        Category::Normal,
        entitled - dec!(1000),
    );
    a.fund_paid = item_fund - dec!(2000);
    let mut b = case("C2", "H001", "2025-11", Category::High, dec!(1000));
    b.fund_paid = dec!(2000);
    ClearingInput {
        hospital: hospital("H001", "A", score, 8),
        cases: vec![a, b],
        monthly: vec![],
        prepayment_outstanding: Decimal::ZERO,
    }
}

fn month(m: &str, fund_due: Decimal, deposit: Decimal, paid: Decimal) -> MonthlyRecord {
    MonthlyRecord {
        month: m.parse().unwrap(),
        fund_due_total: fund_due,
        deposit_withheld: deposit,
        amount_paid: paid,
    }
}

/// The test parameters with performance weighting off.
fn unweighted() -> Params {
    let mut p = params();
    p.clearing.performance_weight = false;
    p
}

fn clear(input: &ClearingInput, params: &Params) -> ClearingStatement {
    clear_hospital(2025, input, params, FinalPricing::AsGiven).unwrap()
}

#[test]
fn a_surplus_under_the_cap_is_kept_whole() {
    // surplus 1,100,000 − 1,000,000 = 100,000 (10%) ≤ cap 15% = 150,000: kept 100,000.
    let mut year = input(dec!(1100000), dec!(1000000), dec!(100));
    year.monthly = vec![month("2025-06", dec!(1000000), dec!(50000), dec!(950000))];
    let s = clear(&year, &unweighted());
    assert_eq!(s.balance, Balance::Surplus);
    let sharing = s.surplus.as_ref().unwrap();
    assert_eq!(
        (sharing.surplus, sharing.share_amount, sharing.cap),
        (dec!(100000), dec!(100000), dec!(150000))
    );
    assert_eq!(s.surplus_kept, dec!(100000));
    assert_eq!(s.retained_or_shared, dec!(0));
    assert_eq!(s.settled, dec!(1100000));
    // final = 1,100,000 + 0 − 950,000 − 0 = 150,000 = deposits 50,000 + year-end 100,000.
    assert_eq!(s.final_amount, dec!(150000));
    assert_eq!(
        (s.deposits_released, s.year_end_difference, s.unpaid_monthly),
        (dec!(50000), dec!(100000), dec!(0))
    );
}

#[test]
fn a_surplus_above_the_cap_is_capped_and_the_rest_stays_with_the_fund() {
    // surplus 200,000 (20%) > cap 150,000: kept 150,000; the hospital gets
    // item_fund + 150,000 = 1,150,000, i.e. entitled − 50,000.
    let s = clear(
        &input(dec!(1200000), dec!(1000000), dec!(100)),
        &unweighted(),
    );
    assert_eq!(
        s.surplus.as_ref().unwrap().kept_before_performance,
        dec!(150000)
    );
    assert_eq!(s.surplus_kept, dec!(150000));
    assert_eq!(s.retained_or_shared, dec!(-50000));
    assert_eq!(s.settled, dec!(1150000));
    assert_eq!(s.final_amount, dec!(1150000));
    assert_eq!(
        s.steps[3].to_string(),
        "surplus kept (结余留用) = min(surplus 200000.00 × retained share 1.00 = 200000.00, cap item_fund × 15% = 150000.00) = 150000.00"
    );

    // With a retained share of 0.60 the share (120,000) is under the cap.
    let mut p = unweighted();
    p.clearing.surplus_retained_share = dec!(0.60);
    let s = clear(&input(dec!(1200000), dec!(1000000), dec!(100)), &p);
    assert_eq!(s.surplus_kept, dec!(120000));
    assert_eq!(s.settled, dec!(1120000));
}

#[test]
fn an_overspend_within_the_first_band_is_shared_at_its_rate() {
    // gap 50,000 = 5% of item_fund: 50,000 × 0.70 = 35,000.
    let s = clear(
        &input(dec!(950000), dec!(1000000), dec!(100)),
        &unweighted(),
    );
    assert_eq!(s.balance, Balance::Overspend);
    let o = s.overspend.as_ref().unwrap();
    let slices: Vec<Decimal> = o.bands.iter().map(|b| b.slice).collect();
    assert_eq!(slices, [dec!(50000), dec!(0), dec!(0)]);
    assert_eq!(o.shared_before_performance, dec!(35000));
    assert_eq!(s.retained_or_shared, dec!(35000));
    assert_eq!(s.settled, dec!(985000));
}

#[test]
fn an_overspend_across_two_bands_is_shared_band_by_band() {
    // dip-and-payment.md §19: gap 1,500,000 = 15% of item_fund 10,000,000: the fund carries
    // 70% of the first 10 points and 50% of the next 5: 700,000 + 250,000 = 950,000.
    let s = clear(
        &input(dec!(8500000), dec!(10000000), dec!(100)),
        &unweighted(),
    );
    let o = s.overspend.as_ref().unwrap();
    let bands: Vec<(Decimal, Decimal)> = o.bands.iter().map(|b| (b.slice, b.fund_amount)).collect();
    assert_eq!(
        bands,
        [
            (dec!(1000000), dec!(700000)),
            (dec!(500000), dec!(250000)),
            (dec!(0), dec!(0))
        ]
    );
    assert_eq!(s.overspend_shared, dec!(950000));
    assert_eq!(s.settled, dec!(9450000));
    let lines: Vec<String> = s.steps.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        lines[2],
        "overspend (超支) = item_fund 10000000.00 − entitled 8500000.00 = 1500000.00 (15.00% of item_fund)"
    );
    assert_eq!(
        lines[3],
        "band 1 (gap in (0%, 10%] = (0.00, 1000000.00]): slice 1000000.00 × fund share 0.70 = 700000.00"
    );
    assert_eq!(
        lines[4],
        "band 2 (gap in (10%, 20%] = (1000000.00, 2000000.00]): slice 500000.00 × fund share 0.50 = 250000.00"
    );
    assert_eq!(
        lines[5],
        "band 3 (gap in (20%, …) = (2000000.00, …)): slice 0.00 × fund share 0.00 = 0.00"
    );
    assert_eq!(
        lines[6],
        "fund's share of the overspend (合理超支分担) = Σ bands = 950000.00; the hospital bears 1500000.00 − 950000.00 = 550000.00"
    );
}

#[test]
fn a_gap_exactly_at_a_band_bound_lies_wholly_in_the_lower_band() {
    let s = clear(
        &input(dec!(900000), dec!(1000000), dec!(100)),
        &unweighted(),
    );
    assert_eq!(s.overspend_shared, dec!(70000));
    assert_eq!(s.overspend.as_ref().unwrap().bands[1].slice, dec!(0));
}

#[test]
fn an_overspend_beyond_all_bands_is_shared_only_up_to_the_last_bound() {
    // gap 300,000 = 30%: 100,000 × 0.70 + 100,000 × 0.50 + 100,000 × 0 = 120,000.
    let s = clear(
        &input(dec!(700000), dec!(1000000), dec!(100)),
        &unweighted(),
    );
    let slices: Vec<Decimal> = s
        .overspend
        .as_ref()
        .unwrap()
        .bands
        .iter()
        .map(|b| b.slice)
        .collect();
    assert_eq!(slices, [dec!(100000), dec!(100000), dec!(100000)]);
    assert_eq!(s.overspend_shared, dec!(120000));
    assert_eq!(s.settled, dec!(820000));
}

#[test]
fn performance_weights_the_kept_surplus_and_the_shared_overspend() {
    let p = params(); // performance_weight = true
                      // overspend 15%: 95,000 × 85.9 / 100 = 81,605.00.
    let s = clear(&input(dec!(850000), dec!(1000000), dec!(85.9)), &p);
    assert_eq!(
        s.overspend.as_ref().unwrap().shared_before_performance,
        dec!(95000)
    );
    assert_eq!(s.overspend_shared, dec!(81605.00));
    assert_eq!(s.settled, dec!(931605.00));
    assert_eq!(
        s.steps[7].to_string(),
        "performance: fund's share 95000.00 × score 85.9 / 100 = 81605.00"
    );
    // surplus 10%: kept 100,000 × 76.8 / 100 = 76,800; the hospital gets 1,076,800.
    let s = clear(&input(dec!(1100000), dec!(1000000), dec!(76.8)), &p);
    assert_eq!(s.surplus_kept, dec!(76800.00));
    assert_eq!(s.retained_or_shared, dec!(-23200.00));
    assert_eq!(s.settled, dec!(1076800.00));
    // Rounded half-up to the fen: gap 0.03 → band 1: 0.03 × 0.70 = 0.021 → 0.02;
    // × 75.5 / 100 = 0.0151 → 0.02.
    let s = clear(&input(dec!(999999.97), dec!(1000000), dec!(75.5)), &p);
    assert_eq!(s.overspend_shared, dec!(0.02));
    // Weighting off: a score has no effect.
    let s = clear(&input(dec!(850000), dec!(1000000), dec!(50)), &unweighted());
    assert_eq!(s.overspend_shared, dec!(95000));
    assert!(!s.performance_weighted);
}

#[test]
fn the_prepayment_is_recovered_from_the_final_amount() {
    let mut year = input(dec!(1100000), dec!(1000000), dec!(100));
    year.monthly = vec![month("2025-06", dec!(1000000), dec!(50000), dec!(950000))];
    year.prepayment_outstanding = dec!(80000);
    let s = clear(&year, &unweighted());
    // 1,100,000 + 0 − 950,000 − 80,000 = 70,000.
    assert_eq!(s.final_amount, dec!(70000));
    assert_eq!(s.prepayment_outstanding, dec!(80000));
}

#[test]
fn a_negative_final_amount_means_the_hospital_pays_back() {
    // settled 820,000 (overspend 30%, shared 120,000); paid 855,000 monthly; prepayment
    // 100,000: final = 700,000 + 120,000 − 855,000 − 100,000 = −135,000.
    let mut year = input(dec!(700000), dec!(1000000), dec!(100));
    year.monthly = vec![
        month("2025-01", dec!(400000), dec!(20000), dec!(380000)),
        month("2025-02", dec!(500000), dec!(25000), dec!(475000)),
    ];
    year.prepayment_outstanding = dec!(100000);
    let s = clear(&year, &unweighted());
    assert_eq!(s.final_amount, dec!(-135000));
    assert_eq!(
        s.steps[s.steps.len() - 2].to_string(),
        "final = entitled 700000.00 + 120000.00 − paid monthly 855000.00 − prepayment 100000.00 = -135000.00: the hospital pays back 135000.00"
    );
    // deposits 45,000 + unpaid 0 + (820,000 − 900,000) − 100,000 = −135,000.
    assert_eq!(
        s.steps[s.steps.len() - 1].to_string(),
        "check: deposits released 45000.00 + unpaid monthly 0.00 + year-end difference (settled 820000.00 − monthly fund_due 900000.00 = -80000.00) − prepayment 100000.00 = -135000.00"
    );
}

#[test]
fn an_unpaid_month_is_paid_at_clearing_with_its_deposit() {
    let mut year = input(dec!(1000000), dec!(1000000), dec!(100));
    year.monthly = vec![
        month("2025-01", dec!(500000), dec!(25000), dec!(475000)),
        month("2025-02", dec!(500000), dec!(25000), dec!(0)),
    ];
    let s = clear(&year, &unweighted());
    assert_eq!(s.balance, Balance::Even);
    assert_eq!(s.unpaid_monthly, dec!(475000));
    assert_eq!(s.final_amount, dec!(525000));
}

#[test]
fn dip_cases_are_repriced_at_the_final_point_value_and_drg_cases_kept() {
    let mut d1 = case("D1", "H001", "2025-01", Category::Normal, dec!(1));
    d1.dip_score = Some(dec!(100));
    let mut d2 = case("D2", "H001", "2025-02", Category::High, dec!(1));
    d2.dip_score = Some(dec!(150));
    let per_item = case(
        "X1",
        "H001",
        "2025-03",
        Category::CrossProvince,
        dec!(17000),
    );
    let year = ClearingInput {
        hospital: hospital("H001", "A", dec!(100), 8),
        cases: vec![d1, d2, per_item],
        monthly: vec![],
        prepayment_outstanding: Decimal::ZERO,
    };
    // 100 × 200 − 3000 = 17,000; 150 × 200 − 3000 = 27,000; + 17,000 as given = 61,000.
    // The cross-province case is in entitled as settled but outside the balance: item_fund is
    // that of the two DIP cases only (34,000), and the gap is 44,000 − 34,000.
    let s = clear_hospital(
        2025,
        &year,
        &unweighted(),
        FinalPricing::DipPointValue(dec!(200)),
    )
    .unwrap();
    assert_eq!(
        (s.entitled, s.repriced_cases, s.item_fund),
        (dec!(61000), 2, dec!(34000))
    );
    assert!(s.steps.iter().any(|st| st.to_string()
        == "cross-province (跨省异地): 1 cases, per-item cost 20000.00, Σ fund_due 17000.00 in entitled as settled, outside the balance below"));
    // reported apart on the statement: count, per-item cost, fund due
    assert_eq!(
        s.cross_province,
        OutsideTotals {
            cases: 1,
            total_cost: dec!(20000),
            fund_due: dec!(17000)
        }
    );
    assert_eq!(
        s.steps[0].to_string(),
        "entitled = Σ fund_due of 3 cases at the final values (2 DIP cases repriced at point value 200) = 61000.00"
    );
    let as_given = clear(&year, &unweighted());
    assert_eq!(as_given.entitled, dec!(17002));
}

#[test]
fn the_statement_shows_every_step() {
    let mut year = input(dec!(850000), dec!(1000000), dec!(85.9));
    year.monthly = vec![month("2025-06", dec!(900000), dec!(45000), dec!(855000))];
    year.prepayment_outstanding = dec!(50000);
    let s = clear(&year, &params());
    assert_eq!(
        s.to_string(),
        "annual clearing (年度清算) H001 2025
 1. entitled = Σ fund_due of 2 cases at the final values = 850000.00
 2. item_fund = Σ fund_paid (per-item fund cost) of 2 cases = 1000000.00
 3. overspend (超支) = item_fund 1000000.00 − entitled 850000.00 = 150000.00 (15.00% of item_fund)
 4. band 1 (gap in (0%, 10%] = (0.00, 100000.00]): slice 100000.00 × fund share 0.70 = 70000.00
 5. band 2 (gap in (10%, 20%] = (100000.00, 200000.00]): slice 50000.00 × fund share 0.50 = 25000.00
 6. band 3 (gap in (20%, …) = (200000.00, …)): slice 0.00 × fund share 0.00 = 0.00
 7. fund's share of the overspend (合理超支分担) = Σ bands = 95000.00; the hospital bears 150000.00 − 95000.00 = 55000.00
 8. performance: fund's share 95000.00 × score 85.9 / 100 = 81605.00
 9. retained_or_shared = fund's share 81605.00; settled = entitled 850000.00 + 81605.00 = 931605.00
10. monthly settlement (statements: 1): fund_due 900000.00 = amounts due 855000.00 + deposits withheld 45000.00; paid 855000.00 (unpaid 0.00)
11. deposits released (质量保证金返还) in full = withheld 45000.00 (paid in the final amount); kept 0.00
12. prepayment recovered (预付金收回) = 50000.00
13. final = entitled 850000.00 + 81605.00 − paid monthly 855000.00 − prepayment 50000.00 = 26605.00: the fund pays the hospital 26605.00
14. check: deposits released 45000.00 + unpaid monthly 0.00 + year-end difference (settled 931605.00 − monthly fund_due 900000.00 = 31605.00) − prepayment 50000.00 = 26605.00"
    );
}

#[test]
fn clear_year_sorts_hospitals_audits_each_and_refuses_a_hospital_twice() {
    let mut h2 = input(dec!(100), dec!(100), dec!(90));
    h2.hospital.hospital_id = "H002".into();
    for c in &mut h2.cases {
        c.hospital_id = "H002".into();
    }
    let h1 = input(dec!(200), dec!(100), dec!(90));
    let run = clear_year(
        2025,
        &[h2.clone(), h1.clone()],
        &params(),
        FinalPricing::AsGiven,
        &Actor::bureau("b-1"),
    )
    .unwrap();
    let ids: Vec<&str> = run.value.iter().map(|s| s.hospital_id.as_str()).collect();
    assert_eq!(ids, ["H001", "H002"]);
    assert_eq!(run.events.len(), 2);
    assert_eq!(run.events[0].subject, "H001/2025");
    assert_eq!(run.events[0].action, Action::ClearingStatementIssued);
    assert!(run.events[0]
        .after
        .as_deref()
        .unwrap()
        .starts_with("entitled=200.00 item_fund=100.00"));
    assert_eq!(
        clear_year(
            2025,
            &[h1.clone(), h1],
            &params(),
            FinalPricing::AsGiven,
            &Actor::bureau("b-1")
        )
        .unwrap_err(),
        ClearingError::DuplicateHospital {
            hospital_id: "H001".into()
        }
    );
}

#[test]
fn inconsistent_inputs_are_refused_with_what_is_wrong() {
    let p = params();
    let err = |year: &ClearingInput| {
        clear_hospital(2025, year, &p, FinalPricing::AsGiven)
            .unwrap_err()
            .to_string()
    };
    let mut other = input(dec!(100), dec!(100), dec!(90));
    other.cases[1].hospital_id = "H009".into();
    assert_eq!(
        err(&other),
        "hospital H001: case C2 belongs to hospital H009"
    );
    let mut late = input(dec!(100), dec!(100), dec!(90));
    late.cases[0].discharge_month = "2026-01".parse().unwrap();
    assert_eq!(
        err(&late),
        "hospital H001: case C1 discharged 2026-01, expected a month of 2025"
    );
    let mut twice = input(dec!(100), dec!(100), dec!(90));
    twice.cases[1].case_id = "C1".into();
    assert_eq!(err(&twice), "hospital H001: case C1 appears more than once");
    let mut months = input(dec!(100), dec!(100), dec!(90));
    months.monthly = vec![
        month("2025-01", dec!(1), dec!(0), dec!(1)),
        month("2025-01", dec!(1), dec!(0), dec!(1)),
    ];
    assert_eq!(
        err(&months),
        "hospital H001: monthly statement 2025-01 appears more than once"
    );
    months.monthly.truncate(1);
    months.monthly[0].month = "2024-12".parse().unwrap();
    assert_eq!(
        err(&months),
        "hospital H001: monthly statement 2024-12, expected a month of 2025"
    );
    let mut prepaid = input(dec!(100), dec!(100), dec!(90));
    prepaid.prepayment_outstanding = dec!(-1);
    assert_eq!(
        err(&prepaid),
        "hospital H001: prepayment outstanding -1, expected an amount ≥ 0"
    );
    let score = input(dec!(100), dec!(100), dec!(100.5));
    assert_eq!(
        err(&score),
        "hospital H001: performance score 100.5, expected 0..100"
    );
    assert!(matches!(
        clear_hospital(2025, &score, &p, FinalPricing::DipPointValue(dec!(-1))),
        Err(ClearingError::PerformanceScore { .. })
    ));
    assert!(matches!(
        clear_hospital(
            2025,
            &input(dec!(1), dec!(1), dec!(1)),
            &p,
            FinalPricing::DipPointValue(dec!(-1))
        ),
        Err(ClearingError::NegativePointValue { .. })
    ));
}

#[test]
fn a_figure_beyond_the_decimal_range_is_an_error_naming_hospital_year_and_figure() {
    let p = unweighted();
    let run = |year: &ClearingInput, pricing| clear_hospital(2025, year, &p, pricing);
    let overflow = |what: &str| ClearingError::Overflow {
        hospital_id: "H001".into(),
        year: 2025,
        what: what.into(),
    };
    // Σ fund_due of the two cases passes Decimal::MAX.
    let mut entitled = input(dec!(100), dec!(100), dec!(90));
    entitled.cases[0].fund_due = Decimal::MAX;
    let err = run(&entitled, FinalPricing::AsGiven).unwrap_err();
    assert_eq!(err, overflow("entitled (Σ fund_due)"));
    assert_eq!(
        err.to_string(),
        "hospital H001, year 2025: entitled (Σ fund_due) overflows the decimal range (±7.9e28): the amounts cannot be real"
    );
    // Σ fund_paid.
    let mut item = input(dec!(100), dec!(100), dec!(90));
    item.cases[0].fund_paid = Decimal::MAX;
    assert_eq!(
        run(&item, FinalPricing::AsGiven),
        Err(overflow("item_fund (Σ fund_paid)"))
    );
    // entitled − item_fund: each sum fits, the difference does not.
    let mut gap = input(dec!(100), dec!(100), dec!(90));
    gap.cases = vec![gap.cases[0].clone()];
    gap.cases[0].fund_due = Decimal::MAX;
    gap.cases[0].fund_paid = Decimal::MIN;
    assert_eq!(
        run(&gap, FinalPricing::AsGiven),
        Err(overflow("entitled − item_fund"))
    );
    // Repricing a DIP case at the final point value: score × point value.
    let mut dip = input(dec!(100), dec!(100), dec!(90));
    dip.cases[1].dip_score = Some(Decimal::MAX);
    assert_eq!(
        run(&dip, FinalPricing::DipPointValue(dec!(2))),
        Err(overflow("case C2: score × final point value − own"))
    );
    // The monthly records.
    let mut monthly = input(dec!(100), dec!(100), dec!(90));
    monthly.monthly = vec![
        month("2025-01", Decimal::MAX, dec!(0), dec!(0)),
        month("2025-02", dec!(1), dec!(0), dec!(0)),
    ];
    assert_eq!(
        run(&monthly, FinalPricing::AsGiven),
        Err(overflow("Σ monthly fund_due"))
    );
    monthly.monthly = vec![
        month("2025-01", dec!(1), dec!(0), Decimal::MAX),
        month("2025-02", dec!(1), dec!(0), dec!(1)),
    ];
    assert_eq!(
        run(&monthly, FinalPricing::AsGiven),
        Err(overflow("Σ paid monthly"))
    );
    // Σ fund_due − Σ paid: a payment record of Decimal::MIN.
    monthly.monthly = vec![month("2025-01", dec!(1), dec!(0), Decimal::MIN)];
    assert!(matches!(
        run(&monthly, FinalPricing::AsGiven),
        Err(ClearingError::Overflow { ref what, .. }) if what.starts_with("unpaid monthly")
    ));
    // clear_year passes the error on.
    assert_eq!(
        clear_year(
            2025,
            &[entitled],
            &p,
            FinalPricing::AsGiven,
            &Actor::system("run-1")
        )
        .map(|r| r.value),
        Err(overflow("entitled (Σ fund_due)"))
    );
}

#[test]
fn a_huge_surplus_rate_is_shown_without_overflow() {
    // item_fund of one yuan and a surplus near Decimal::MAX: the rate fits, × 100 does not.
    let mut year = input(dec!(100), dec!(100), dec!(90));
    year.cases = vec![year.cases[0].clone()];
    year.cases[0].fund_due = Decimal::MAX / dec!(2);
    year.cases[0].fund_paid = dec!(1);
    let s = clear(&year, &unweighted());
    assert_eq!(s.balance, Balance::Surplus);
    assert!(s.to_string().contains(" × 100% of item_fund)"), "{s}");
    // with one fen the rate itself leaves the range: no rate is shown
    year.cases[0].fund_paid = dec!(0.01);
    let s = clear(&year, &unweighted());
    assert_eq!(s.gap_rate, None);
    assert!(!s.to_string().contains("of item_fund)"), "{s}");
}

fn fen(max: i64) -> impl Strategy<Value = Decimal> {
    (0..=max).prop_map(|cents| Decimal::new(cents, 2))
}

prop_compose! {
    fn arb_year()(
        dues in prop::collection::vec((fen(5_000_000), fen(5_000_000)), 0..8),
        months in prop::collection::vec((fen(10_000_000), 0u32..=10, 0u32..=100), 0..12),
        prepayment in fen(3_000_000),
        score in (0i64..=1000).prop_map(|tenths| Decimal::new(tenths, 1)),
    ) -> ClearingInput {
        let cases = dues
            .iter()
            .enumerate()
            .map(|(i, (due, paid))| {
                let mut c = case(&format!("C{i}"), "H001", "2025-05", Category::Normal, *due);
                c.fund_paid = *paid;
                c
            })
            .collect();
        let monthly = months
            .iter()
            .enumerate()
            .map(|(i, (fund_due, deposit_pct, paid_pct))| {
                let deposit = round_fen(*fund_due * Decimal::new(i64::from(*deposit_pct), 2));
                let paid = round_fen((*fund_due - deposit) * Decimal::new(i64::from(*paid_pct), 2));
                month(&format!("2025-{:02}", i + 1), *fund_due, deposit, paid)
            })
            .collect();
        ClearingInput {
            hospital: hospital("H001", "A", score, 5),
            cases,
            monthly,
            prepayment_outstanding: prepayment,
        }
    }
}

proptest! {
    #[test]
    fn the_final_amount_adds_up_and_releases_the_deposits_once(
        year in arb_year(),
        weighted in any::<bool>(),
        share in (0i64..=100).prop_map(|p| Decimal::new(p, 2)),
        cap in (0i64..=50).prop_map(|p| Decimal::new(p, 2)),
    ) {
        let mut p = params();
        p.clearing.performance_weight = weighted;
        p.clearing.surplus_retained_share = share;
        p.clearing.surplus_cap_rate = cap;
        let s = clear_hospital(2025, &year, &p, FinalPricing::AsGiven).unwrap();
        let withheld: Decimal = year.monthly.iter().map(|m| m.deposit_withheld).sum();
        prop_assert_eq!(
            s.final_amount,
            s.entitled + s.retained_or_shared - s.paid_monthly - s.prepayment_outstanding
        );
        prop_assert_eq!(s.deposits_released, withheld);
        prop_assert_eq!(s.deposits_kept, Decimal::ZERO);
        prop_assert_eq!(
            s.final_amount,
            s.deposits_released + s.unpaid_monthly + s.year_end_difference - s.prepayment_outstanding
        );
        prop_assert_eq!(s.final_amount, round_fen(s.final_amount));
        // the settled amount lies between entitled and item_fund
        prop_assert!(s.settled >= s.entitled.min(s.item_fund));
        prop_assert!(s.settled <= s.entitled.max(s.item_fund));
        if let Some(surplus) = &s.surplus {
            prop_assert!(s.surplus_kept >= Decimal::ZERO && s.surplus_kept <= surplus.surplus);
        }
    }

    #[test]
    fn the_funds_share_of_an_overspend_never_exceeds_the_gap(
        item_fund in fen(100_000_000),
        gap_permille in 0i64..=1500,
        score in (0i64..=1000).prop_map(|tenths| Decimal::new(tenths, 1)),
        shares in prop::collection::vec((1i64..=100, 0i64..=100), 1..5),
        last_share in 0i64..=100,
    ) {
        // random bands with increasing bounds and any shares
        let mut p = params();
        let mut upper = 0;
        p.clearing.overspend_bands = shares
            .iter()
            .map(|(step, share)| {
                upper += step;
                drgdip_pay::params::Band { upper: Some(Decimal::new(upper, 2)), value: Decimal::new(*share, 2) }
            })
            .chain([drgdip_pay::params::Band { upper: None, value: Decimal::new(last_share, 2) }])
            .collect();
        let entitled = round_fen(item_fund * (Decimal::ONE - Decimal::new(gap_permille.min(1000), 3)));
        let year = input(entitled, item_fund, score);
        let s = clear_hospital(2025, &year, &p, FinalPricing::AsGiven).unwrap();
        if let Some(o) = &s.overspend {
            prop_assert_eq!(o.bands.iter().map(|b| b.slice).sum::<Decimal>(), o.gap);
            prop_assert!(o.shared_before_performance <= o.gap);
            prop_assert!(s.overspend_shared >= Decimal::ZERO && s.overspend_shared <= o.gap);
            for b in &o.bands {
                prop_assert!(b.fund_amount <= b.slice);
            }
        }
    }
}

#[test]
fn deposits_are_released_in_full_by_default() {
    // payment-model §6: "Deposits withheld are released here"; clearing.deposit_release
    // absent = "full".
    assert_eq!(params().clearing.deposit_release, DepositRelease::Full);
    let mut year = input(dec!(1000000), dec!(1000000), dec!(80));
    year.monthly = vec![month("2025-06", dec!(1000000), dec!(50000), dec!(950000))];
    let s = clear(&year, &params());
    assert_eq!(
        (s.deposits_withheld, s.deposits_released, s.deposits_kept),
        (dec!(50000), dec!(50000), dec!(0))
    );
    assert_eq!(s.final_amount, dec!(50000));
}

#[test]
fn deposits_released_by_performance_keep_the_rest_with_the_fund() {
    // deposit_release = "performance": released = withheld × score / 100, the rest kept.
    // withheld 50,000 × 80 / 100 = 40,000 released, 10,000 kept; final = settled 1,000,000
    // − paid 950,000 − kept 10,000 = 40,000.
    let mut p = unweighted();
    p.clearing.deposit_release = DepositRelease::Performance;
    let mut year = input(dec!(1000000), dec!(1000000), dec!(80));
    year.monthly = vec![month("2025-06", dec!(1000000), dec!(50000), dec!(950000))];
    let s = clear(&year, &p);
    assert_eq!(
        (s.deposits_withheld, s.deposits_released, s.deposits_kept),
        (dec!(50000), dec!(40000), dec!(10000))
    );
    assert_eq!(s.final_amount, dec!(40000));
    let text = s.to_string();
    assert!(
        text.contains("deposits released (质量保证金返还) by performance = withheld 50000.00 × score 80 / 100 = 40000.00; kept by the fund 50000.00 − 40000.00 = 10000.00"),
        "{text}"
    );
    assert!(
        text.contains("− prepayment 0.00 − deposits kept 10000.00 = 40000.00"),
        "{text}"
    );
    // 33.33 × 85.9 / 100 = 28.630… → 28.63 released, 4.70 kept (to the fen)
    let mut odd = input(dec!(1000), dec!(1000), dec!(85.9));
    odd.monthly = vec![month("2025-01", dec!(666.60), dec!(33.33), dec!(633.27))];
    let s = clear(&odd, &p);
    assert_eq!(
        (s.deposits_released, s.deposits_kept),
        (dec!(28.63), dec!(4.70))
    );
}

proptest! {
    #[test]
    fn released_plus_kept_is_withheld_and_the_books_add_up(
        year in arb_year(),
        by_performance in any::<bool>(),
    ) {
        let mut p = params();
        if by_performance {
            p.clearing.deposit_release = DepositRelease::Performance;
        }
        let s = clear_hospital(2025, &year, &p, FinalPricing::AsGiven).unwrap();
        prop_assert_eq!(s.deposits_released + s.deposits_kept, s.deposits_withheld);
        prop_assert!(s.deposits_released >= Decimal::ZERO);
        prop_assert!(s.deposits_kept >= Decimal::ZERO);
        prop_assert_eq!(s.deposits_released, round_fen(s.deposits_released));
        if !by_performance {
            prop_assert_eq!(s.deposits_kept, Decimal::ZERO);
        }
        prop_assert_eq!(
            s.final_amount,
            s.settled - s.paid_monthly - s.prepayment_outstanding - s.deposits_kept
        );
        prop_assert_eq!(
            s.final_amount,
            s.deposits_released + s.unpaid_monthly + s.year_end_difference - s.prepayment_outstanding
        );
    }
}
