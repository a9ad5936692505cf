//! The approved catalogue (`payment-model.md` §2 rule 4): reading it, every problem named by
//! line, field and value; when a named item applies and why not.

use rust_decimal_macros::dec;

use super::*;
use crate::testutil::{catalogue, shared_file, CATALOGUE_CSV};

const HEADER: &str = "code,kind,name,valid_from,valid_to,form,bonus,adrgs\n";

fn date(text: &str) -> Date {
    Date::parse(text).unwrap_or_else(|| panic!("not a date: {text}"))
}

fn uses(list: &[(&str, &str)]) -> Vec<ItemUse> {
    list.iter()
        .map(|(code, cost)| ItemUse {
            code: code.to_string(),
            cost: cost.parse().unwrap(),
        })
        .collect()
}

/// The problems of a catalogue made of HEADER and `rows`, as (line, field, value).
fn problems(rows: &str) -> Vec<(u64, String, String)> {
    let err = Catalogue::from_csv_str(&format!("{HEADER}{rows}"))
        .expect_err("the catalogue should be refused");
    err.problems
        .iter()
        .map(|p| (p.line, p.field.clone(), p.value.clone()))
        .collect()
}

fn one(line: u64, field: &str, value: &str) -> Vec<(u64, String, String)> {
    vec![(line, field.to_string(), value.to_string())]
}

#[test]
fn the_provinces_shipped_catalogue_reads_whole() {
    let Some(text) = shared_file("params/fujian-exclusion-catalogue-2025.csv") else {
        return;
    };
    let c = Catalogue::from_csv_str(&text).unwrap();
    assert_eq!(c.len(), 10);
    let count = |form| c.items().iter().filter(|i| i.form == form).count();
    assert_eq!(
        (
            count(ExclusionForm::PerItem),
            count(ExclusionForm::ItemCost),
            count(ExclusionForm::WeightBonus)
        ),
        (3, 3, 4)
    );
    let tavi = c.get("C0301-EX003").unwrap();
    assert_eq!(tavi.kind, ItemKind::Device);
    assert_eq!(tavi.line, 4);
    assert_eq!(tavi.adrgs, ["FM1", "FM2", "FL1", "FB1", "FB2", "FC1"]);
    assert_eq!(c.get("XL01EX-EX002").unwrap().bonus, Some(dec!(0.30)));
    assert!(c.get("XL01XX-EX001").unwrap().adrgs.is_empty());
    assert_eq!(c.get("XL04AX-EX008").unwrap().valid_to, date("2025-06-30"));
}

#[test]
fn an_item_reads_every_field() {
    let c = catalogue();
    let item = c.get("M-BONUS").unwrap();
    assert_eq!(
        item,
        &CatalogueItem {
            line: 4,
            code: "M-BONUS".into(),
            kind: ItemKind::Drug,
            name: "bonus drug".into(),
            valid_from: date("2025-03-01"),
            valid_to: date("2025-06-30"),
            form: ExclusionForm::WeightBonus,
            bonus: Some(dec!(0.30)),
            adrgs: vec![],
        }
    );
    assert_eq!(item.scope_text(), "every group");
    assert_eq!(c.get("D-COST").unwrap().scope_text(), "FR1|FB2");
    assert!(c.get("d-cost").is_none(), "codes are compared exactly");
}

#[test]
fn bad_dates_are_named_by_line_field_and_value() {
    assert_eq!(
        problems("A,drug,a,2025-02-30,2025-12-31,per_item,,\n"),
        one(2, "valid_from", "2025-02-30")
    );
    assert_eq!(
        problems("A,drug,a,2025-01-01,31/12/2025,per_item,,\n"),
        one(2, "valid_to", "31/12/2025")
    );
    assert_eq!(
        problems("A,drug,a,2025-01-01,,per_item,,\n"),
        one(2, "valid_to", "")
    );
}

#[test]
fn an_end_before_the_start_is_refused_but_a_one_day_item_is_not() {
    let text = format!("{HEADER}A,drug,a,2025-07-01,2025-06-30,per_item,,\n");
    let err = Catalogue::from_csv_str(&text).unwrap_err();
    assert_eq!(
        err.problems[0].to_string(),
        "line 2, valid_to \"2025-06-30\": valid_to is before valid_from 2025-07-01: the item would never be valid"
    );
    assert!(Catalogue::from_csv_str(&format!(
        "{HEADER}A,drug,a,2025-07-01,2025-07-01,per_item,,\n"
    ))
    .is_ok());
}

#[test]
fn unknown_forms_and_kinds_are_refused() {
    assert_eq!(
        problems("A,drug,a,2025-01-01,2025-12-31,bonus,,\n"),
        one(2, "form", "bonus")
    );
    assert_eq!(
        problems("A,consumable,a,2025-01-01,2025-12-31,per_item,,\n"),
        one(2, "kind", "consumable")
    );
}

#[test]
fn a_bonus_is_required_for_weight_bonus_and_refused_elsewhere() {
    assert_eq!(
        problems("A,drug,a,2025-01-01,2025-12-31,weight_bonus,,\n"),
        one(2, "bonus", "")
    );
    for bad in ["0", "0.00", "-0.2", "20%", "1e-1", "."] {
        assert_eq!(
            problems(&format!(
                "A,drug,a,2025-01-01,2025-12-31,weight_bonus,{bad},\n"
            )),
            one(2, "bonus", bad),
            "{bad}"
        );
    }
    assert_eq!(
        problems("A,drug,a,2025-01-01,2025-12-31,per_item,0.20,\n"),
        one(2, "bonus", "0.20")
    );
    let err = Catalogue::from_csv_str(&format!(
        "{HEADER}A,device,a,2025-01-01,2025-12-31,item_cost,0.10,\n"
    ))
    .unwrap_err();
    assert_eq!(
        err.problems[0].message,
        "the item_cost form takes no bonus: leave it empty"
    );
}

#[test]
fn a_duplicate_code_names_the_first_line() {
    let err = Catalogue::from_csv_str(&format!(
        "{HEADER}A,drug,a,2025-01-01,2025-12-31,per_item,,\nB,drug,b,2025-01-01,2025-12-31,per_item,,\nA,drug,again,2025-01-01,2025-12-31,per_item,,\n"
    ))
    .unwrap_err();
    assert_eq!(
        err.problems[0].to_string(),
        "line 4, code \"A\": duplicate code: already listed on line 2"
    );
}

#[test]
fn scopes_are_adrg_codes_separated_by_bars() {
    assert_eq!(
        problems("A,drug,a,2025-01-01,2025-12-31,per_item,,FM1|fm2\n"),
        one(2, "adrgs", "fm2")
    );
    assert_eq!(
        problems("A,drug,a,2025-01-01,2025-12-31,per_item,,FM1||FM2\n"),
        one(2, "adrgs", "")
    );
    assert_eq!(
        problems("A,drug,a,2025-01-01,2025-12-31,per_item,,FM1|FM1\n"),
        one(2, "adrgs", "FM1")
    );
    assert_eq!(
        problems("A,drug,a,2025-01-01,2025-12-31,per_item,,FM11\n"),
        one(2, "adrgs", "FM11")
    );
}

#[test]
fn adrg_codes_unknown_to_the_scheme_are_named_by_the_caller_with_the_scheme() {
    let c = Catalogue::from_csv_str(&format!(
        "{HEADER}A,drug,a,2025-01-01,2025-12-31,per_item,,FM1|ZZ9\nB,drug,b,2025-01-01,2025-12-31,per_item,,\n"
    ))
    .unwrap();
    let unknown = c.unknown_adrgs("fujian-2024", |a| a == "FM1");
    assert_eq!(unknown.len(), 1);
    assert_eq!(
        unknown[0].to_string(),
        "line 2, adrgs \"ZZ9\": ZZ9 is not an ADRG of the scheme fujian-2024"
    );
    assert!(c.unknown_adrgs("x", |_| true).is_empty());
    // Checked while reading, the unknown ADRG is one problem among the others.
    let err = Catalogue::from_csv_str_for_scheme(
        &format!(
            "{HEADER}A,drug,a,2025-01-01,2025-12-31,per_item,,FM1|ZZ9\nB,drug,,2025-01-01,2025-12-31,per_item,,\n"
        ),
        "fujian-2024",
        &|a: &str| a == "FM1",
    )
    .unwrap_err();
    let text: Vec<String> = err.problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        text,
        [
            "line 2, adrgs \"ZZ9\": ZZ9 is not an ADRG of the scheme fujian-2024",
            "line 3, name \"\": expected the item's name",
        ]
    );
}

#[test]
fn every_problem_of_the_file_is_reported_at_once_in_line_order() {
    let got = problems(concat!(
        ",drug,no code,2025-01-01,2025-12-31,per_item,,\n",
        "A,drug,,2025-01-01,2025-12-31,per_item,,\n",
        "B:1,drug,b,2025-01-01,2025-12-31,per_item,,\n",
        "C,drug,c,2025-01-01\n",
        "D,drug,d,2025-13-01,2025-12-31,item_cost,0.5,X\n",
    ));
    let expected: Vec<(u64, String, String)> = [
        (2, "code", ""),
        (3, "name", ""),
        (4, "code", "B:1"),
        (5, "row", "C,drug,c,2025-01-01"),
        (6, "valid_from", "2025-13-01"),
        (6, "bonus", "0.5"),
        (6, "adrgs", "X"),
    ]
    .iter()
    .map(|(l, f, v)| (*l, f.to_string(), v.to_string()))
    .collect();
    assert_eq!(got, expected);
}

#[test]
fn the_header_must_name_the_eight_columns() {
    let err = Catalogue::from_csv_str("code,kind,name,valid_from,valid_to,form,bonus,adrg\n")
        .unwrap_err();
    let text: Vec<String> = err.problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        text,
        [
            "line 1, header \"adrg\": unknown column; expected the columns code,kind,name,valid_from,valid_to,form,bonus,adrgs",
            "line 1, header \"code,kind,name,valid_from,valid_to,form,bonus,adrg\": the column adrgs is missing",
        ]
    );
    // Order is free, blank lines are skipped.
    let c = Catalogue::from_csv_str(
        "adrgs,bonus,form,valid_to,valid_from,name,kind,code\n\nFR1,,per_item,2025-12-31,2025-01-01,x,drug,A\n",
    )
    .unwrap();
    assert_eq!(c.get("A").unwrap().line, 3);
    assert_eq!(c.get("A").unwrap().adrgs, ["FR1"]);
}

#[test]
fn an_item_applies_from_its_first_to_its_last_valid_day_inclusive() {
    let c = catalogue();
    let named = uses(&[("M-BONUS", "100.00")]);
    let outcome = |d: &str| c.check(&named, Some(date(d)), "FR1").0[0].outcome.clone();
    assert!(outcome("2025-03-01").is_ok(), "first valid day");
    assert!(outcome("2025-06-30").is_ok(), "last valid day");
    assert_eq!(
        outcome("2025-02-28"),
        Err(ItemFailure::NotYetValid {
            valid_from: date("2025-03-01"),
            discharge: date("2025-02-28")
        })
    );
    assert_eq!(
        outcome("2025-07-01"),
        Err(ItemFailure::Expired {
            valid_to: date("2025-06-30"),
            discharge: date("2025-07-01")
        })
    );
}

#[test]
fn an_item_applies_only_to_the_adrgs_of_its_scope_and_an_empty_scope_to_every_group() {
    let c = catalogue();
    let on = Some(date("2025-05-01"));
    let named = uses(&[("D-COST", "100.00")]);
    assert!(c.check(&named, on, "FR1").0[0].outcome.is_ok());
    assert!(c.check(&named, on, "FB2").0[0].outcome.is_ok());
    assert_eq!(
        c.check(&named, on, "BB1").0[0].outcome,
        Err(ItemFailure::OutOfScope {
            adrg: "BB1".into(),
            scope: "FR1|FB2".into()
        })
    );
    let anywhere = uses(&[("T-PER", "100.00")]);
    for adrg in ["FR1", "BB1", "QY", "00"] {
        assert!(c.check(&anywhere, on, adrg).0[0].outcome.is_ok(), "{adrg}");
    }
}

#[test]
fn an_unlisted_code_and_a_case_without_discharge_date_fail_with_their_reason() {
    let c = catalogue();
    let named = uses(&[("X-NOPE", "1.00"), ("T-PER", "2.00")]);
    let checks = c.check(&named, Some(date("2025-05-01")), "FR1");
    assert_eq!(checks.0[0].outcome, Err(ItemFailure::Unlisted));
    assert_eq!(checks.0[0].cost, dec!(1.00));
    let checks = c.check(&named, None, "FR1");
    assert_eq!(checks.0[1].outcome, Err(ItemFailure::NoDischargeDate));
    assert_eq!(checks.decisive(), None);
    let names: Vec<&str> = [
        ItemFailure::Unlisted,
        ItemFailure::OutOfScope {
            adrg: "A".into(),
            scope: "B".into(),
        },
        ItemFailure::NoDischargeDate,
    ]
    .iter()
    .map(ItemFailure::as_str)
    .collect();
    assert_eq!(names, ["unlisted", "out_of_scope", "no_discharge_date"]);
    assert_eq!(
        ItemFailure::Unlisted.to_string(),
        "not in the approved catalogue (unlisted)"
    );
}

#[test]
fn the_first_applicable_item_decides_but_an_applicable_per_item_item_wins() {
    let c = catalogue();
    let on = Some(date("2025-05-01"));
    // Unlisted first, then item_cost, then weight_bonus: the first applicable (1) decides.
    let checks = c.check(
        &uses(&[("X-NOPE", "1"), ("D-COST", "2"), ("M-BONUS", "3")]),
        on,
        "FR1",
    );
    assert_eq!(checks.decisive(), Some(1));
    // A per_item item later in the list wins over the earlier ones.
    let checks = c.check(
        &uses(&[("M-BONUS", "3"), ("D-COST", "2"), ("T-PER", "1")]),
        on,
        "FR1",
    );
    assert_eq!(checks.decisive(), Some(2));
    // An out-of-scope item does not count: the next applicable one decides.
    let checks = c.check(&uses(&[("D-COST", "2"), ("M-BONUS", "3")]), on, "BB1");
    assert_eq!(checks.decisive(), Some(1));
    assert!(c.check(&[], on, "FR1").is_empty());
}

#[test]
fn dates_are_real_calendar_days_written_yyyy_mm_dd() {
    assert!(Date::parse("2024-02-29").is_some());
    assert!(Date::parse("2000-02-29").is_some());
    for bad in [
        "2025-02-29",
        "1900-02-29",
        "2025-04-31",
        "2025-1-01",
        "2025/01/01",
        "20250101",
        "2025-00-10",
        "0000-01-01",
        "２０２５-01-01",
        "",
    ] {
        assert_eq!(Date::parse(bad), None, "{bad}");
    }
    assert!(date("2025-06-30") < date("2025-07-01"));
    assert!(date("2024-12-31") < date("2025-01-01"));
    assert_eq!(date("2025-07-01").to_string(), "2025-07-01");
}

#[test]
fn the_test_catalogue_is_what_the_payment_tests_assume() {
    assert!(CATALOGUE_CSV.starts_with(HEADER));
    let c = catalogue();
    assert_eq!(c.len(), 3);
    assert_eq!(c.get("T-PER").unwrap().form, ExclusionForm::PerItem);
}
