use rust_decimal_macros::dec;
use toml::{Table, Value};

use super::*;
use crate::testutil::{params, shared_file, BASE_TOML};

/// BASE_TOML with one piece replaced (the piece must be there, so no edit is silently lost).
fn edited(from: &str, to: &str) -> String {
    assert!(BASE_TOML.contains(from), "fixture lacks {from:?}");
    BASE_TOML.replacen(from, to, 1)
}

fn error_of(text: &str) -> ParamsError {
    Params::from_toml_str(text).expect_err("the parameters should be refused")
}

/// Every leaf key path of a TOML table (arrays count as leaves), `[dip]` left out.
fn leaf_keys(table: &Table, prefix: &str, out: &mut Vec<String>) {
    for (name, value) in table {
        let key = match (prefix.is_empty(), name.parse::<u8>().is_ok()) {
            (true, _) => name.clone(),
            (false, true) => format!("{prefix}.\"{name}\""),
            (false, false) => format!("{prefix}.{name}"),
        };
        match value {
            Value::Table(t) if key != "dip" => leaf_keys(t, &key, out),
            Value::Table(_) => {}
            _ => out.push(key),
        }
    }
}

#[test]
fn the_shipped_example_file_parses_and_is_echoed_whole() {
    let Some(text) = shared_file("params/region-350100-2025.toml") else {
        return;
    };
    let p = Params::from_toml_str_with_schemes(&text, &["chs-drg-2.0", "fujian-2024"]).unwrap();
    assert_eq!(p.region.code, "350100");
    assert_eq!(p.region.method, Method::Drg);
    assert_eq!(p.region.scheme, "fujian-2024");
    assert_eq!(p.budget.inpatient_fund_budget, dec!(480000000.00));
    assert_eq!(p.drg.weights, WeightsSource::History);
    assert_eq!(p.drg.base_rate, BaseRate::Given(dec!(38000.00)));
    assert_eq!(p.drg.point_scale, dec!(100));
    assert_eq!(p.drg.hospital_level_coefficient[&2], dec!(0.90));
    assert_eq!(p.drg.outliers.high_multiple(dec!(1.0)), dec!(3.0));
    assert_eq!(p.drg.outliers.high_multiple(dec!(1.0001)), dec!(2.5));
    assert_eq!(p.drg.outliers.high_multiple(dec!(7)), dec!(2.0));
    assert_eq!(p.exclusion.weight_bonus, Some(dec!(0.20)));
    assert_eq!(p.clearing.overspend_fund_share(dec!(0.15)), dec!(0.50));
    assert_eq!(p.prepayment.eligible_credit, ["A", "B"]);

    let mut keys = Vec::new();
    leaf_keys(&text.parse::<Table>().unwrap(), "", &mut keys);
    let lines = p.summary_lines();
    for key in &keys {
        let prefix = format!("{key} = ");
        assert!(
            lines.iter().any(|l| l.starts_with(&prefix)),
            "summary lacks {key}: {lines:#?}"
        );
    }
    // every other line echoes a key the file leaves to its documented default
    let defaulted: Vec<&String> = lines
        .iter()
        .filter(|l| !keys.iter().any(|k| l.starts_with(&format!("{k} = "))))
        .collect();
    for line in &defaulted {
        let key = line.split(" = ").next().unwrap();
        assert!(
            DEFAULTED_KEYS.contains(&key)
                && !text.contains(&format!("\n{}", key.rsplit('.').next().unwrap())),
            "{line}: neither in the file nor a defaulted key"
        );
    }
    assert_eq!(lines.len(), keys.len() + defaulted.len(), "{lines:#?}");
}

/// Keys of revision 2 that the shipped file may leave to their documented defaults; the
/// summary echoes them all the same.
const DEFAULTED_KEYS: [&str; 7] = [
    "clearing.deposit_release",
    "prepayment.require_traceability_upload",
    "prepayment.priority",
    "prepayment.cap_amount",
    "prepayment.cap_share_of_balance",
    "prepayment.max_uplift_months",
    "prepayment.uplift_min_performance",
];

#[test]
fn the_dip_tables_are_ignored_and_summary_lines_render_values() {
    let p = params(BASE_TOML);
    let lines = p.summary_lines();
    assert!(lines.contains(&"drg.base_rate = 40000.00".to_string()));
    assert!(lines.contains(
        &"drg.outliers.high_multiple_bands = weight ≤ 1.0: multiple 3.0; weight ≤ 2.0: multiple 2.5; above: multiple 2.0"
            .to_string()
    ));
    assert!(lines.contains(&"drg.hospital_level_coefficient.\"1\" = 0.80".to_string()));
    assert!(!lines.iter().any(|l| l.starts_with("dip")));
    // A file without [dip] is as good.
    let without_dip = edited(
        "[dip]\nscore_scale = 100\nanything = \"the DIP crate's business\"\n",
        "",
    );
    assert_eq!(params(&without_dip), p);
}

#[test]
fn a_negative_base_rate_is_refused_naming_the_key() {
    let err = error_of(&edited(
        "base_rate = \"40000.00\"",
        "base_rate = \"-38000.00\"",
    ));
    assert_eq!(err.key(), Some("drg.base_rate"));
    assert_eq!(
        err.to_string(),
        "drg.base_rate: expected a decimal > 0 and at most 10^15 (a string such as \"38000.00\" or an integer), found \"-38000.00\""
    );
}

#[test]
fn base_rate_budget_is_read_and_any_other_word_is_refused_naming_both_forms() {
    let p = params(&edited(
        "base_rate = \"40000.00\"",
        "base_rate = \"budget\"",
    ));
    assert_eq!(p.drg.base_rate, BaseRate::Budget);
    assert_eq!(p.drg.base_rate.value(), None);
    assert!(p.drg.base_rate.from_budget());
    let line = p
        .summary_lines()
        .into_iter()
        .find(|l| l.starts_with("drg.base_rate = "))
        .unwrap();
    assert!(line.contains("budget (to be derived"), "{line}");
    // a tariff refuses an underived rate
    let weights = crate::WeightTable::from_rows(Vec::new()).unwrap();
    assert!(matches!(
        crate::Tariff::new(&p, &weights, None),
        Err(crate::TariffError::BaseRateNotDerived)
    ));

    let err = error_of(&edited("base_rate = \"40000.00\"", "base_rate = \"budgt\""));
    assert_eq!(err.key(), Some("drg.base_rate"));
    assert_eq!(
        err.to_string(),
        "drg.base_rate: expected \"budget\" (derived from the DRG budget and the history's expected weights) or a decimal > 0 such as \"38000.00\", found \"budgt\""
    );
    // "budget" belongs to the rate method
    let point = edited("base_rate = \"40000.00\"", "base_rate = \"budget\"").replacen(
        "payment = \"rate\"",
        "payment = \"point\"",
        1,
    );
    let err = error_of(&point);
    assert_eq!(err.key(), Some("drg.base_rate"));
    assert!(err.to_string().contains("rate method"), "{err}");
}

#[test]
fn overlapping_bands_are_refused_naming_the_band() {
    let err = error_of(&edited(
        "{ max_weight = \"2.0\", multiple = \"2.5\" }",
        "{ max_weight = \"0.8\", multiple = \"2.5\" }",
    ));
    assert_eq!(
        err.key(),
        Some("drg.outliers.high_multiple_bands[1].max_weight")
    );
    assert!(
        err.to_string().contains("above the previous band's 1.0"),
        "{err}"
    );
    assert!(err.to_string().ends_with("found \"0.8\""), "{err}");

    let err = error_of(&edited(
        "{ up_to_rate = \"0.20\"",
        "{ up_to_rate = \"0.10\"",
    ));
    assert_eq!(err.key(), Some("clearing.overspend_bands[1].up_to_rate"));
}

#[test]
fn the_last_band_must_be_open_ended_and_only_the_last() {
    let err = error_of(&edited(
        "{ multiple = \"2.0\" }",
        "{ max_weight = \"9\", multiple = \"2.0\" }",
    ));
    assert_eq!(
        err.key(),
        Some("drg.outliers.high_multiple_bands[2].max_weight")
    );
    assert!(
        err.to_string().contains("the last band must be open-ended"),
        "{err}"
    );

    let err = error_of(&edited(
        "{ max_weight = \"2.0\", multiple = \"2.5\" }",
        "{ multiple = \"2.5\" }",
    ));
    assert!(matches!(err, ParamsError::Missing { .. }));
    assert_eq!(
        err.key(),
        Some("drg.outliers.high_multiple_bands[1].max_weight")
    );
}

#[test]
fn an_unknown_method_is_refused_listing_the_known_ones() {
    let err = error_of(&edited("method = \"drg\"", "method = \"drgx\""));
    assert_eq!(
        err.to_string(),
        "region.method: expected one of \"drg\", \"dip\", found \"drgx\""
    );
    let err = error_of(&edited("payment = \"rate\"", "payment = \"points\""));
    assert_eq!(err.key(), Some("drg.payment"));
}

#[test]
fn unknown_keys_are_refused_except_in_dip() {
    let err = error_of(&edited("base_rate = ", "base_rat = \"1\"\nbase_rate = "));
    assert_eq!(err.key(), Some("drg.base_rat"));
    assert!(matches!(err, ParamsError::UnknownKey { .. }));
    assert!(err.to_string().contains("base_rate"), "{err}");

    let err = error_of(&format!("{BASE_TOML}\n[dipp]\nx = 1\n"));
    assert_eq!(err.key(), Some("dipp"));

    let err = error_of(&edited(
        "high_extra_share =",
        "mystery = 1\nhigh_extra_share =",
    ));
    assert_eq!(err.key(), Some("drg.outliers.mystery"));

    let err = error_of(&edited(
        "multiple = \"3.0\" }",
        "multiple = \"3.0\", share = \"1\" }",
    ));
    assert_eq!(err.key(), Some("drg.outliers.high_multiple_bands[0].share"));
}

#[test]
fn shares_outside_zero_to_one_are_refused() {
    let err = error_of(&edited(
        "high_extra_share = \"0.90\"",
        "high_extra_share = \"1.5\"",
    ));
    assert_eq!(
        err.to_string(),
        "drg.outliers.high_extra_share: expected a share between 0 and 1 (a string such as \"0.90\"), found \"1.5\""
    );
    let err = error_of(&edited(
        "surplus_retained_share = \"1.00\"",
        "surplus_retained_share = \"-0.1\"",
    ));
    assert_eq!(err.key(), Some("clearing.surplus_retained_share"));
}

#[test]
fn floats_are_refused_so_no_binary_float_reaches_a_rate() {
    let err = error_of(&edited("low_multiple = \"0.4\"", "low_multiple = 0.4"));
    assert_eq!(err.key(), Some("drg.outliers.low_multiple"));
    assert!(err.to_string().ends_with("found float 0.4"), "{err}");
}

#[test]
fn every_required_level_needs_a_coefficient() {
    let err = error_of(&edited("\"2\" = \"0.90\"\n", ""));
    assert_eq!(err.key(), Some("drg.hospital_level_coefficient.\"2\""));
    assert_eq!(
        err.to_string(),
        "drg.hospital_level_coefficient.\"2\": missing; expected a coefficient for hospital level 2"
    );
    let err = error_of(&edited(
        "\"1\" = \"0.80\"",
        "\"1\" = \"0.80\"\ntop = \"1.2\"",
    ));
    assert_eq!(err.key(), Some("drg.hospital_level_coefficient.\"top\""));
}

#[test]
fn an_unknown_scheme_is_refused_when_the_schemes_are_known() {
    let text = edited("scheme = \"fujian-2024\"", "scheme = \"fujian-2023\"");
    assert!(Params::from_toml_str(&text).is_ok());
    let err =
        Params::from_toml_str_with_schemes(&text, &["chs-drg-2.0", "fujian-2024"]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "region.scheme: expected one of \"chs-drg-2.0\", \"fujian-2024\", found \"fujian-2023\""
    );
}

#[test]
fn missing_keys_and_sections_are_named() {
    let err = error_of(&edited("base_rate = \"40000.00\"\n", ""));
    assert!(matches!(err, ParamsError::Missing { .. }));
    assert_eq!(err.key(), Some("drg.base_rate"));
    let err = error_of(&edited("[prepayment]", "[prepaiment]"));
    assert_eq!(err.key(), Some("prepayment"));
}

#[test]
fn cross_field_rules_are_checked() {
    let err = error_of(&edited(
        "province_prefix = \"35\"",
        "province_prefix = \"36\"",
    ));
    assert_eq!(
        err.to_string(),
        "region.province_prefix: expected a prefix of region.code \"350100\", found \"36\""
    );
    let err = error_of(&edited("weight_bonus = \"0.20\"\n", ""));
    assert_eq!(err.key(), Some("exclusion.weight_bonus"));
    let per_item = edited(
        "mode = \"weight_bonus\"\nweight_bonus = \"0.20\"\n",
        "mode = \"per_item\"\n",
    );
    assert_eq!(params(&per_item).exclusion.weight_bonus, None);
    let err = error_of(&edited(
        "in_province = \"local_standard\"",
        "in_province = \"per_item\"",
    ));
    assert_eq!(
        err.to_string(),
        "cross_region.in_province: expected one of \"local_standard\", found \"per_item\""
    );
    let err = error_of(&edited(
        "ambiguous = \"lowest_standard_in_mdc\"",
        "ambiguous = \"lowest\"",
    ));
    assert_eq!(err.key(), Some("drg.special_groups.ambiguous"));
    let err = error_of(&edited(
        "ungroupable = \"lowest_standard_all_mdcs\"",
        "ungroupable = \"lowest_standard_in_mdc\"",
    ));
    assert_eq!(err.key(), Some("drg.special_groups.ungroupable"));
}

#[test]
fn a_weights_path_is_kept_and_syntax_errors_are_reported() {
    let p = params(&edited(
        "weights = \"history\"",
        "weights = \"weights/2025.csv\"",
    ));
    assert_eq!(
        p.drg.weights,
        WeightsSource::File("weights/2025.csv".to_string())
    );
    let err = error_of("[region\ncode = 1");
    assert!(matches!(err, ParamsError::Syntax { .. }));
    assert_eq!(err.key(), None);
}

/// The revision-2 sections of the shipped file, to append to BASE_TOML.
const REVISION_2: &str = r#"
[settlement]
calendar = "../calendar/cn-holidays.txt"
declaration_day = 10
due_working_days = 30

[limits]
max_case_cost = "100000000.00"
"#;

const BUDGET_PLAN: &str = "monthly_quality_deposit_rate = \"0.05\"
version = 2
approved = \"2025-07-01 test bureau doc 7\"
total = \"1500000000.00\"
outpatient = \"520000000.00\"
reserve_share = \"0.05\"
[budget.inpatient]
drg = \"480000000.00\"
dip = \"0.00\"
per_diem = \"90000000.00\"
per_item = \"230000000.00\"
other = \"105000000.00\"
";

fn with_plan() -> String {
    edited("monthly_quality_deposit_rate = \"0.05\"\n", BUDGET_PLAN)
}

#[test]
fn a_file_without_the_revision_2_sections_reads_with_the_documented_defaults() {
    let p = params(BASE_TOML);
    assert_eq!(p.settlement, Settlement::default());
    assert_eq!(p.settlement.declaration_day, 10);
    assert_eq!(p.settlement.due_working_days, 30);
    assert_eq!(p.settlement.calendar, None);
    assert_eq!(p.limits.max_case_cost, dec!(100000000.00));
    assert_eq!(p.budget.plan, None);
    assert_eq!(p.budget.drg(), dec!(480000000.00));
    assert_eq!(p.budget.dip(), dec!(480000000.00));
    let s = &p.special_case;
    assert_eq!(s.allocation, QuotaAllocation::Pooled);
    assert_eq!((s.min_per_hospital, s.first_review_experts), (1, 2));
    assert_eq!(s.max_extra_points, dec!(2000));
    assert_eq!(s.spot_check_share, dec!(0.10));
    assert!(p.warnings().is_empty(), "{:?}", p.warnings());
}

#[test]
fn the_revision_2_sections_are_read_and_checked() {
    let p = params(&format!("{BASE_TOML}{REVISION_2}"));
    assert_eq!(
        p.settlement.calendar.as_deref(),
        Some("../calendar/cn-holidays.txt")
    );
    let err = error_of(&format!(
        "{BASE_TOML}{}",
        REVISION_2.replace("declaration_day = 10", "declaration_day = 31")
    ));
    assert_eq!(
        err.to_string(),
        "settlement.declaration_day: expected a day of the month 1..28, found integer 31"
    );
    let err = error_of(&format!(
        "{BASE_TOML}{}",
        REVISION_2.replace("due_working_days = 30", "due_working_dayz = 30")
    ));
    assert_eq!(err.key(), Some("settlement.due_working_dayz"));
    let err = error_of(&format!(
        "{BASE_TOML}{}",
        REVISION_2.replace("\"100000000.00\"", "\"1e3\"")
    ));
    assert_eq!(err.key(), Some("limits.max_case_cost"));
    let err = error_of(&format!(
        "{BASE_TOML}{}",
        REVISION_2.replace("\"100000000.00\"", "\"100.001\"")
    ));
    assert_eq!(
        err.to_string(),
        "limits.max_case_cost: expected an amount in CNY with at most 2 decimals, found \"100.001\""
    );
    let special = edited(
        "outcome_default = \"per_item\"\n",
        "outcome_default = \"per_item\"\nallocation = \"per_hospital\"\nmin_per_hospital = 0\nfirst_review_experts = 3\nmax_extra_points = \"500\"\nspot_check_share = \"0.2\"\n",
    );
    let s = params(&special).special_case;
    assert_eq!(s.allocation, QuotaAllocation::PerHospital);
    assert_eq!((s.min_per_hospital, s.first_review_experts), (0, 3));
    assert_eq!(
        (s.max_extra_points, s.spot_check_share),
        (dec!(500), dec!(0.2))
    );
    let err = error_of(&special.replace("\"per_hospital\"", "\"hospital\""));
    assert_eq!(
        err.to_string(),
        "special_case.allocation: expected one of \"pooled\", \"per_hospital\", found \"hospital\""
    );
    let err = error_of(&special.replace("first_review_experts = 3", "first_review_experts = 0"));
    assert_eq!(err.key(), Some("special_case.first_review_experts"));
    let err = error_of(&special.replace("max_extra_points = \"500\"", "max_extra_points = \"0\""));
    assert_eq!(err.key(), Some("special_case.max_extra_points"));
}

#[test]
fn the_budget_plan_is_all_or_nothing_and_its_parts_are_cross_checked() {
    let p = params(&with_plan());
    let plan = p.budget.plan.as_ref().unwrap();
    assert_eq!(plan.version, 2);
    assert_eq!(plan.approved, "2025-07-01 test bureau doc 7");
    assert_eq!(plan.inpatient.per_diem, dec!(90000000.00));
    assert_eq!(p.budget.drg(), dec!(480000000.00));
    assert_eq!(p.budget.dip(), dec!(0.00));
    assert!(p.warnings().is_empty(), "{:?}", p.warnings());

    // One key of the plan makes the others required.
    let err = error_of(&with_plan().replace("outpatient = \"520000000.00\"\n", ""));
    assert_eq!(err.key(), Some("budget.outpatient"));
    assert!(
        err.to_string()
            .contains("the whole budget plan is required"),
        "{err}"
    );
    let err = error_of(&with_plan().replace("other = \"105000000.00\"\n", ""));
    assert_eq!(err.key(), Some("budget.inpatient.other"));
    let err = error_of(&with_plan().replace("version = 2", "version = 0"));
    assert_eq!(err.key(), Some("budget.version"));

    // Parts that do not add up are a warning with the numbers, not a refusal.
    let p =
        params(&with_plan().replace("per_item = \"230000000.00\"", "per_item = \"230000001.00\""));
    assert_eq!(
        p.warnings(),
        ["budget.total 1500000000.00 differs from outpatient + inpatient methods + reserve = 1500000001.00 (difference -1.00)"]
    );
    // A DIP region whose DIP budget is 0 is warned about too.
    let p = params(&with_plan().replace("method = \"drg\"", "method = \"dip\""));
    assert_eq!(p.budget.dip(), dec!(0.00));
    assert_eq!(
        p.warnings(),
        ["region.method is \"dip\" but budget.inpatient.dip is 0"]
    );
}

#[test]
fn both_shipped_example_files_parse_without_warnings() {
    for (file, method, drg, dip) in [
        (
            "params/region-350100-2025.toml",
            Method::Drg,
            dec!(480000000),
            dec!(0),
        ),
        (
            "params/region-350100-2025-dip.toml",
            Method::Dip,
            dec!(0),
            dec!(480000000),
        ),
    ] {
        let Some(text) = shared_file(file) else {
            return;
        };
        let p = Params::from_toml_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(p.region.method, method);
        assert_eq!((p.budget.drg(), p.budget.dip()), (drg, dip), "{file}");
        assert_eq!(p.settlement.due_working_days, 30);
        assert!(p.settlement.calendar.is_some());
        assert_eq!(p.limits.max_case_cost, dec!(100000000.00));
        assert!(p.warnings().is_empty(), "{file}: {:?}", p.warnings());
    }
}

#[test]
fn the_exclusion_section_takes_a_catalogue_path_and_keeps_the_legacy_keys() {
    // Revision 2: a catalogue; the legacy keys are read, validated and echoed as unused.
    let text = edited(
        "[exclusion]\n",
        "[exclusion]\ncatalogue = \"fujian-exclusion-catalogue-2025.csv\"\n",
    );
    let p = params(&text);
    assert_eq!(
        p.exclusion,
        Exclusion {
            catalogue: Some("fujian-exclusion-catalogue-2025.csv".into()),
            mode: Some(ExclusionMode::WeightBonus),
            weight_bonus: Some(dec!(0.20)),
        }
    );
    let lines = p.summary_lines();
    let of = |key: &str| {
        lines
            .iter()
            .filter(|l| l.starts_with(&format!("{key} = ")))
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(
        of("exclusion.catalogue"),
        ["exclusion.catalogue = fujian-exclusion-catalogue-2025.csv (the approved items named in new_tech_items decide; new_tech_flag alone gives nothing)"]
    );
    assert_eq!(
        of("exclusion.weight_bonus"),
        ["exclusion.weight_bonus = 0.20 (legacy: not used, the catalogue decides)"]
    );
    // A catalogue alone is enough.
    let only = edited(
        "[exclusion]\nmode = \"weight_bonus\"\nweight_bonus = \"0.20\"\n",
        "[exclusion]\ncatalogue = \"c.csv\"\n",
    );
    let p = params(&only);
    assert_eq!((p.exclusion.mode, p.exclusion.weight_bonus), (None, None));
    assert_eq!(
        p.summary_lines()
            .iter()
            .filter(|l| l.starts_with("exclusion."))
            .count(),
        1
    );
    // Without a catalogue the legacy keys say what a flagged case gets.
    assert!(params(BASE_TOML).summary_lines().contains(
        &"exclusion.mode = weight_bonus (legacy: a case flagged new_tech_flag = 1 takes this form)"
            .to_string()
    ));
}

#[test]
fn the_exclusion_section_needs_a_catalogue_or_the_legacy_mode() {
    let neither = edited(
        "[exclusion]\nmode = \"weight_bonus\"\nweight_bonus = \"0.20\"\n",
        "[exclusion]\n",
    );
    let err = error_of(&neither);
    assert_eq!(err.key(), Some("exclusion.catalogue"));
    assert!(
        err.to_string().contains("or the legacy key exclusion.mode"),
        "{err}"
    );
    for bad in [
        "catalogue = \"\"",
        "catalogue = 3",
        "catalogue = [\"a.csv\"]",
    ] {
        let err = error_of(&edited("[exclusion]\n", &format!("[exclusion]\n{bad}\n")));
        assert_eq!(err.key(), Some("exclusion.catalogue"), "{bad}");
    }
    // With a catalogue, a legacy mode that is not a mode is still refused.
    let err = error_of(&edited(
        "[exclusion]\nmode = \"weight_bonus\"",
        "[exclusion]\ncatalogue = \"c.csv\"\nmode = \"bonus\"",
    ));
    assert_eq!(err.key(), Some("exclusion.mode"));
    let err = error_of(&edited(
        "[exclusion]\n",
        "[exclusion]\ncatalogue = \"c.csv\"\ncatalog = \"d.csv\"\n",
    ));
    assert_eq!(err.key(), Some("exclusion.catalog"));
}

#[test]
fn the_exclusion_section_can_be_read_alone() {
    // Other sections are not read (the DIP command reads only [exclusion] and [dip]).
    let text = "[budget]\nwhatever = 1\n[exclusion]\ncatalogue = \"c.csv\"\n";
    let e = Exclusion::from_params_toml(text).unwrap();
    assert_eq!(e.catalogue.as_deref(), Some("c.csv"));
    let err = Exclusion::from_params_toml("[budget]\n").unwrap_err();
    assert_eq!(err.key(), Some("exclusion"));
    let Some(shipped) = shared_file("params/region-350100-2025.toml") else {
        return;
    };
    let e = Exclusion::from_params_toml(&shipped).unwrap();
    assert_eq!(
        e.catalogue.as_deref(),
        Some("fujian-exclusion-catalogue-2025.csv")
    );
    assert_eq!(e.mode, Some(ExclusionMode::WeightBonus));
}

#[test]
fn the_insured_class_follows_the_region_code_and_the_province_prefix() {
    let p = params(BASE_TOML);
    let r = &p.region;
    let other_province = if r.province_prefix.starts_with('1') {
        "440100"
    } else {
        "110100"
    };
    assert_eq!(r.insured_class(&r.code), InsuredClass::Local);
    assert_eq!(r.insured_class(""), InsuredClass::Local);
    assert_eq!(
        r.insured_class(&format!(" {} ", r.code)),
        InsuredClass::Local
    );
    let in_province = format!("{}9900", r.province_prefix);
    assert_ne!(in_province, r.code);
    assert_eq!(r.insured_class(&in_province), InsuredClass::InProvince);
    assert_eq!(r.insured_class(other_province), InsuredClass::CrossProvince);
    for class in InsuredClass::ALL {
        assert_eq!(InsuredClass::parse(class.as_str()), Some(*class));
    }
}

#[test]
fn deposits_are_released_in_full_unless_the_file_says_by_performance() {
    // payment-model §6: deposits withheld are released at clearing; clearing.deposit_release
    // "full" (default) or "performance".
    assert_eq!(
        params(BASE_TOML).clearing.deposit_release,
        DepositRelease::Full
    );
    let text = edited(
        "performance_weight = true\n",
        "performance_weight = true\ndeposit_release = \"performance\"\n",
    );
    let p = params(&text);
    assert_eq!(p.clearing.deposit_release, DepositRelease::Performance);
    assert!(p
        .summary_lines()
        .contains(&"clearing.deposit_release = performance".to_string()));
    let err = error_of(&edited(
        "performance_weight = true\n",
        "performance_weight = true\ndeposit_release = \"half\"\n",
    ));
    assert_eq!(
        err.to_string(),
        "clearing.deposit_release: expected one of \"full\", \"performance\", found \"half\""
    );
}

#[test]
fn the_prepayment_keys_of_the_notices_have_documented_defaults() {
    let p = params(BASE_TOML).prepayment;
    assert!(!p.require_traceability_upload);
    assert_eq!(p.priority, Prepayment::DEFAULT_PRIORITY);
    assert_eq!(
        p.priority
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        [
            "traceability_code_upload",
            "credit_rating",
            "agreement_years"
        ]
    );
    assert_eq!((p.cap_amount, p.cap_share_of_balance), (None, None));
    assert_eq!(p.max_uplift_months, dec!(2.0));
    assert_eq!(p.uplift_min_performance, None);
}

#[test]
fn the_prepayment_keys_of_the_notices_are_read_and_checked() {
    let with = |extra: &str| {
        edited(
            "recovered_at = \"clearing\"\n",
            &format!("recovered_at = \"clearing\"\n{extra}\n"),
        )
    };
    let p = params(&with(
        "require_traceability_upload = true\npriority = [\"performance_score\", \"column:anti_fraud_score\", \"applied_on\"]\ncap_amount = \"20000000.00\"\ncap_share_of_balance = \"0.01\"\nmax_uplift_months = \"1.5\"\nuplift_min_performance = \"90\"",
    ))
    .prepayment;
    assert!(p.require_traceability_upload);
    assert_eq!(
        p.priority,
        [
            PriorityKey::Known(PriorityCriterion::PerformanceScore),
            PriorityKey::Column("anti_fraud_score".into()),
            PriorityKey::Known(PriorityCriterion::AppliedOn)
        ]
    );
    for bad in ["column:", "column:anti fraud", "colum:x"] {
        let err = error_of(&with(&format!("priority = [\"{bad}\"]")));
        assert_eq!(err.key(), Some("prepayment.priority[0]"), "{bad}");
    }
    assert_eq!(p.cap_amount, Some(dec!(20000000.00)));
    assert_eq!(p.cap_share_of_balance, Some(dec!(0.01)));
    assert_eq!(p.max_uplift_months, dec!(1.5));
    assert_eq!(p.uplift_min_performance, Some(dec!(90)));

    let err = error_of(&with("priority = [\"credit_rating\", \"anti_fraud\"]"));
    assert_eq!(err.key(), Some("prepayment.priority[1]"));
    assert!(err.to_string().contains("found \"anti_fraud\""), "{err}");
    let err = error_of(&with("priority = [\"credit_rating\", \"credit_rating\"]"));
    assert_eq!(
        err.key(),
        Some("prepayment.priority[1]"),
        "a criterion twice"
    );
    let err = error_of(&with("cap_share_of_balance = \"1.5\""));
    assert_eq!(err.key(), Some("prepayment.cap_share_of_balance"));
    let err = error_of(&with("max_uplift_months = \"0.5\""));
    assert_eq!(
        err.to_string(),
        "prepayment.max_uplift_months: expected at least prepayment.months = 1.0, found \"0.5\""
    );
    let err = error_of(&with("uplift_min_performance = \"101\""));
    assert_eq!(err.key(), Some("prepayment.uplift_min_performance"));
    let err = error_of(&with("require_traceability = true"));
    assert!(
        matches!(err, ParamsError::UnknownKey { .. }),
        "a typo is an error"
    );
}

#[test]
fn a_dip_region_pays_cross_province_cases_per_item() {
    // payment-model §4, scope: cross-province cases are outside the DIP point value.
    let dip = edited("method = \"drg\"", "method = \"dip\"");
    assert!(Params::from_toml_str(&dip).is_ok());
    let err = error_of(&dip.replacen(
        "cross_province = \"per_item\"",
        "cross_province = \"local_standard\"",
        1,
    ));
    assert_eq!(err.key(), Some("cross_region.cross_province"));
    // a DRG region may pay them by the local standard
    let drg = edited(
        "cross_province = \"per_item\"",
        "cross_province = \"local_standard\"",
    );
    assert_eq!(
        params(&drg).cross_region.cross_province,
        CrossRegionRule::LocalStandard
    );
}
