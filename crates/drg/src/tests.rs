//! Rule-kind tests over the miniature scheme of `testdata`: one test per rule, named after it.

use drgdip_scheme::{Gender, Scheme};

use crate::testdata::schemes;
use crate::{explain, group, Case, Lang, Status, Trace};

struct C {
    gender: Gender,
    age: u32,
    days: Option<u32>,
    bw: Option<u32>,
    dx: Vec<&'static str>,
    px: Vec<&'static str>,
}

fn case(gender: u8, age: u32, dx: &[&'static str], px: &[&'static str]) -> C {
    C {
        gender: if gender == 1 {
            Gender::Male
        } else {
            Gender::Female
        },
        age,
        days: None,
        bw: None,
        dx: dx.to_vec(),
        px: px.to_vec(),
    }
}

fn newborn(days: u32, bw: Option<u32>, dx: &[&'static str], px: &[&'static str]) -> C {
    C {
        days: Some(days),
        bw,
        ..case(1, 0, dx, px)
    }
}

/// Groups and returns `status drg` plus the explanation.
fn run(s: &Scheme, c: &C) -> (String, Vec<String>) {
    let dx: Vec<u32> =
        c.dx.iter()
            .map(|d| s.catalog.diagnoses.id(d).unwrap_or_else(|| panic!("{d}")))
            .collect();
    let px: Vec<u32> =
        c.px.iter()
            .map(|p| s.catalog.procedures.id(p).unwrap_or_else(|| panic!("{p}")))
            .collect();
    let case = Case {
        gender: c.gender,
        age_years: c.age,
        age_days: c.days,
        birth_weight: c.bw,
        diagnoses: &dx,
        procedures: &px,
    };
    let mut t = Trace::enabled();
    let g = group(s, &case, &mut t);
    // the untraced result is the same
    assert_eq!(group(s, &case, &mut Trace::disabled()), g);
    let status = match g.status {
        Status::Grouped => "grouped",
        Status::Ambiguous => "ambiguous",
        Status::Ungroupable => "ungroupable",
    };
    (
        format!(
            "{status} {} {} {}",
            g.mdc_code(s),
            g.adrg_code(s),
            g.drg_code(s)
        ),
        explain(s, &g, &t, Lang::En),
    )
}

fn national(c: &C) -> String {
    run(&schemes().0, c).0
}
fn local(c: &C) -> String {
    run(&schemes().1, c).0
}

#[test]
fn principal_diagnosis_and_principal_procedure_both_in_their_lists() {
    assert_eq!(
        national(&case(1, 40, &["B00.001"], &["01.0001"])),
        "grouped MDCB BB1 BB15"
    );
}

#[test]
fn a_procedure_adrg_needs_the_principal_procedure_not_a_secondary_one() {
    assert_eq!(
        national(&case(1, 40, &["B00.001"], &["06.0001", "01.0001"])),
        "grouped MDCB BR1 BR15"
    );
}

#[test]
fn an_mcc_gives_x1_and_a_cc_gives_x3() {
    assert_eq!(
        national(&case(1, 40, &["B00.001", "C00.002"], &["01.0001"])),
        "grouped MDCB BB1 BB11"
    );
    assert_eq!(
        national(&case(1, 40, &["B00.001", "C00.001"], &["01.0001"])),
        "grouped MDCB BB1 BB13"
    );
}

#[test]
fn a_cc_in_the_principal_diagnosis_exclusion_table_does_not_count() {
    // B00.000 is in table 10; C00.003 is a CC of table 10
    let (r, why) = run(&schemes().0, &case(1, 40, &["B00.000", "C00.003"], &[]));
    assert_eq!(r, "grouped MDCB BR1 BR15");
    assert!(
        why.iter()
            .any(|l| l.contains("excluded: same exclusion table 10")),
        "{why:?}"
    );
    assert_eq!(
        national(&case(1, 40, &["B00.000", "C00.001"], &[])),
        "grouped MDCB BR1 BR13"
    );
}

#[test]
fn an_adrg_with_only_x3_x5_sends_an_mcc_case_to_x3() {
    assert_eq!(
        national(&case(1, 40, &["B00.000", "C00.002"], &[])),
        "grouped MDCB BR1 BR13"
    );
}

#[test]
fn an_adrg_with_only_x1_x5_sends_a_cc_case_to_x5() {
    assert_eq!(
        national(&case(1, 40, &["B00.000", "C00.001"], &["01.0003"])),
        "grouped MDCB BL1 BL15"
    );
    assert_eq!(
        national(&case(1, 40, &["B00.000", "C00.002"], &["01.0003"])),
        "grouped MDCB BL1 BL11"
    );
}

#[test]
fn a_valid_principal_procedure_that_no_procedure_adrg_accepts_is_ambiguous() {
    let (r, why) = run(&schemes().0, &case(1, 40, &["B00.000"], &["01.0002"]));
    assert_eq!(r, "ambiguous MDCB QY BQY");
    assert!(why.iter().any(|l| l.contains("ambiguous BQY")), "{why:?}");
}

#[test]
fn a_valid_secondary_procedure_never_makes_a_case_ambiguous() {
    assert_eq!(
        national(&case(1, 40, &["B00.000"], &["06.0001", "01.0002"])),
        "grouped MDCB BR1 BR15"
    );
}

#[test]
fn two_procedure_lists_need_one_procedure_in_each() {
    assert_eq!(
        national(&case(1, 40, &["B00.000"], &["05.0002", "05.0001"])),
        "grouped MDCB BB2 BB29"
    );
    assert_eq!(
        national(&case(1, 40, &["B00.000"], &["05.0001"])),
        "grouped MDCB BR1 BR15"
    );
}

#[test]
fn pre_mdc_takes_any_case_with_its_procedure() {
    assert_eq!(
        national(&case(2, 60, &["Z99.000"], &["02.0001"])),
        "grouped MDCA AA1 AA19"
    );
}

#[test]
fn a_principal_diagnosis_on_no_list_is_ungroupable() {
    let (r, why) = run(&schemes().0, &case(2, 60, &["Z99.000"], &[]));
    assert_eq!(r, "ungroupable 0000 00 0000");
    assert!(why.last().unwrap().contains("ungroupable"));
    assert!(why.iter().any(|l| l.contains("ZD_INVALID")), "{why:?}");
}

#[test]
fn sex_conflicts_are_ambiguous_in_mdcm_unless_the_diagnosis_is_shared() {
    assert_eq!(
        national(&case(2, 30, &["M00.000"], &[])),
        "ambiguous MDCM QY MQY"
    );
    assert_eq!(
        national(&case(1, 30, &["N00.000"], &[])),
        "ambiguous MDCM QY MQY"
    );
    assert_eq!(
        national(&case(1, 30, &["X00.000"], &[])),
        "grouped MDCM MR1 MR15"
    );
    assert_eq!(
        national(&case(2, 30, &["X00.000"], &[])),
        "grouped MDCN NR1 NR19"
    );
    // a male with a pregnancy diagnosis simply goes on
    assert_eq!(
        national(&case(1, 30, &["O00.000"], &[])),
        "ungroupable 0000 00 0000"
    );
    assert_eq!(
        national(&case(2, 30, &["O00.000"], &[])),
        "grouped MDCO OZ1 OZ19"
    );
}

#[test]
fn multiple_trauma_needs_two_distinct_body_sites() {
    assert_eq!(
        national(&case(1, 30, &["S00.000", "S20.000"], &[])),
        "grouped MDCZ ZZ1 ZZ15"
    );
    assert_eq!(
        national(&case(1, 30, &["S00.000", "S20.000"], &["04.0001"])),
        "grouped MDCZ ZB1 ZB19"
    );
    // a valid procedure of no MDCZ ADRG: ZQY before ZZ1
    assert_eq!(
        national(&case(1, 30, &["S00.000", "S20.000"], &["01.0002"])),
        "ambiguous MDCZ QY ZQY"
    );
    // two codes of one site count once: single-site trauma falls through to its body system
    let (r, why) = run(&schemes().0, &case(1, 30, &["S20.000", "S20.001"], &[]));
    assert_eq!(r, "ungroupable 0000 00 0000");
    assert!(
        why.iter().any(|l| l.contains("1 body site(s), 2 needed")),
        "{why:?}"
    );
    assert_eq!(
        national(&case(1, 30, &["S00.000"], &[])),
        "grouped MDCB BZ1 BZ19"
    );
}

#[test]
fn newborn_rules_by_age_in_days_and_diagnosis() {
    assert_eq!(
        national(&newborn(10, None, &["P00.000"], &[])),
        "grouped MDCP PU1 PU19"
    );
    assert_eq!(
        national(&newborn(40, None, &["P00.000"], &[])),
        "grouped MDCP PV1 PV19"
    );
    assert_eq!(
        national(&newborn(10, None, &["B00.000"], &[])),
        "ambiguous MDCP QY PQY"
    );
    assert_eq!(
        national(&newborn(40, None, &["B00.000"], &[])),
        "grouped MDCB BR1 BR15"
    );
    assert_eq!(
        national(&newborn(29, None, &["P22.000"], &[])),
        "ambiguous MDCP QY PQY"
    );
    assert_eq!(
        national(&newborn(28, None, &["P22.000", "C00.002"], &[])),
        "grouped MDCP PR1 PR11"
    );
    assert_eq!(
        national(&newborn(10, None, &["P00.000"], &["03.0001"])),
        "grouped MDCP PB1 PB19"
    );
    // the procedure ADRG needs ≤ 28 days; the valid principal procedure then makes PQY
    assert_eq!(
        national(&newborn(40, None, &["P00.000"], &["03.0001"])),
        "ambiguous MDCP QY PQY"
    );
    // only age 0 years is a newborn
    assert_eq!(
        national(&case(1, 1, &["P00.000"], &[])),
        "ungroupable 0000 00 0000"
    );
}

#[test]
fn prematurity_by_birth_weight_band_and_the_p07_prefix() {
    assert_eq!(
        national(&newborn(3, Some(1499), &["P07.300"], &[])),
        "grouped MDCP PS1 PS15"
    );
    assert_eq!(
        national(&newborn(3, Some(2500), &["P07.300"], &[])),
        "grouped MDCP PS4 PS45"
    );
    // no weight: no band; P07.300 opens no other MDC
    assert_eq!(
        national(&newborn(3, None, &["P07.300"], &[])),
        "ungroupable 0000 00 0000"
    );
    // any P07. code makes a newborn case, even as a secondary diagnosis
    assert_eq!(
        national(&newborn(3, Some(1000), &["P07.100", "P07.300"], &[])),
        "grouped MDCP PS1 PS15"
    );
}

#[test]
fn an_hiv_diagnosis_in_any_position_opens_mdcy() {
    assert_eq!(
        national(&case(1, 40, &["B00.000", "H00.000"], &[])),
        "grouped MDCY YR1 YR11"
    );
    assert_eq!(
        national(&case(1, 40, &["B00.000", "H00.000"], &["01.0002"])),
        "grouped MDCY YC1 YC11"
    );
}

#[test]
fn alternatives_any_of_the_split_files() {
    let (r, why) = run(&schemes().0, &case(1, 40, &["S00.000"], &[]));
    assert_eq!(r, "grouped MDCB BZ1 BZ19");
    assert!(
        why.iter().any(|l| l.contains("by alternative BZ1_1")),
        "{why:?}"
    );
    let (r, why) = run(&schemes().0, &case(1, 40, &["B00.002", "C00.003"], &[]));
    assert_eq!(r, "grouped MDCB BZ1 BZ19");
    assert!(
        why.iter().any(|l| l.contains("by alternative BZ1_2")),
        "{why:?}"
    );
}

#[test]
fn an_mdc_where_nothing_applies_falls_through() {
    let (r, why) = run(&schemes().0, &case(1, 40, &["B00.002"], &[]));
    assert_eq!(r, "ungroupable 0000 00 0000");
    assert!(
        why.iter().any(|l| l.contains("MDCB: no ADRG applies")),
        "{why:?}"
    );
}

#[test]
fn local_splits_bilateral_age_procedure_list_and_complications() {
    assert_eq!(
        local(&case(1, 40, &["B00.001"], &["01.0001", "01.0001"])),
        "grouped MDCB BB1 BB1A"
    );
    assert_eq!(
        local(&case(1, 14, &["B00.001"], &["01.0001"])),
        "grouped MDCB BB1 BB1B"
    );
    assert_eq!(
        local(&case(1, 15, &["B00.001"], &["01.0001"])),
        "grouped MDCB BB1 BB1C"
    );
}

#[test]
fn local_layer_replaces_valid_procedures_and_ambiguous_steps() {
    // MDCB has no ambiguous step in the layer: the case goes on to BR1
    assert_eq!(
        local(&case(1, 40, &["B00.000"], &["01.0002"])),
        "grouped MDCB BR1 BR19"
    );
    // 07.0001 is valid only in the layer: in MDCZ it now makes ZQY
    assert_eq!(
        national(&case(1, 30, &["S00.000", "S20.000"], &["07.0001"])),
        "grouped MDCZ ZZ1 ZZ15"
    );
    assert_eq!(
        local(&case(1, 30, &["S00.000", "S20.000"], &["07.0001"])),
        "ambiguous MDCZ QY ZQY"
    );
    // QY codes come from the layer's rows, 0000 stays
    assert_eq!(
        local(&case(2, 30, &["M00.000"], &[])),
        "ambiguous MDCM QY MQY"
    );
    assert_eq!(
        local(&case(2, 30, &["Z99.000"], &[])),
        "ungroupable 0000 00 0000"
    );
}

#[test]
fn the_layer_reports_unreachable_and_unused_codes() {
    let (_, l) = schemes();
    let d = |c: &str| l.drgs[l.drg_by_code(c).unwrap() as usize].clone();
    assert!(!d("BB1D").reachable);
    assert!(!d("BR1A").reachable);
    assert!(!d("RN21").reachable);
    assert_eq!(l.base.as_deref(), Some("mini"));
}

#[test]
fn the_explanation_names_each_rule_in_both_languages() {
    let s = &schemes().0;
    let c = case(1, 40, &["B00.001", "C00.002"], &["01.0001"]);
    let (_, en) = run(s, &c);
    assert!(en[0].contains("grouped MDCB BB1 BB11"), "{en:?}");
    assert!(
        en.iter()
            .any(|l| l.contains("C00.002 严重并发症 counts as MCC")),
        "{en:?}"
    );
    assert!(
        en.iter()
            .any(|l| l.contains("ADRG BB1") && l.contains("principal procedure in list")),
        "{en:?}"
    );
    assert!(
        en.iter()
            .any(|l| l.contains("DRG BB11") && l.contains("an MCC")),
        "{en:?}"
    );
    let dx: Vec<u32> =
        c.dx.iter()
            .map(|d| s.catalog.diagnoses.id(d).unwrap())
            .collect();
    let px: Vec<u32> =
        c.px.iter()
            .map(|p| s.catalog.procedures.id(p).unwrap())
            .collect();
    let k = Case {
        gender: c.gender,
        age_years: 40,
        age_days: None,
        birth_weight: None,
        diagnoses: &dx,
        procedures: &px,
    };
    let mut t = Trace::enabled();
    let g = group(s, &k, &mut t);
    let zh = explain(s, &g, &t, Lang::Zh);
    assert!(zh[0].contains("分组成功"), "{zh:?}");
    assert!(zh.iter().any(|l| l.contains("是MCC")), "{zh:?}");
}

#[test]
fn no_diagnosis_never_panics() {
    let s = &schemes().0;
    let k = Case {
        gender: Gender::Male,
        age_years: 40,
        age_days: None,
        birth_weight: None,
        diagnoses: &[],
        procedures: &[],
    };
    let g = group(s, &k, &mut Trace::enabled());
    assert_eq!(g.status, Status::Ungroupable);
}

proptest::proptest! {
    /// Any combination of catalog codes, ages and weights groups without panicking, and a
    /// grouped case always has a DRG of its ADRG.
    #[test]
    fn any_case_groups_without_panic(
        dx in proptest::collection::vec(0u32..19, 0..6),
        px in proptest::collection::vec(0u32..10, 0..4),
        male in proptest::bool::ANY,
        age in 0u32..120,
        days in proptest::option::of(0u32..400),
        bw in proptest::option::of(0u32..6000),
    ) {
        for s in [schemes().0, schemes().1] {
            let k = Case { gender: if male { Gender::Male } else { Gender::Female }, age_years: age, age_days: days, birth_weight: bw, diagnoses: &dx, procedures: &px };
            let g = group(&s, &k, &mut Trace::enabled());
            if g.status == Status::Grouped {
                let d = &s.drgs[g.drg.unwrap() as usize];
                proptest::prop_assert_eq!(d.adrg, g.adrg);
            }
        }
    }
}
