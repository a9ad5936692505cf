//! Hand-computed figures of each report, the CSV text, the pages' markup, determinism.

use drgdip_pay::money::round_fen;
use drgdip_pay::params::Method;
use drgdip_pay::{Category, GroupStatus, Params};
use drgdip_settle::{
    settle_month, Actor, Application, ApplicationRequest, CaseOpinion, Outcome, Period, QuotaBase,
    ReasonKind, SettledCase, WorkCalendar, YearMonth,
};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use crate::html::check::balance;
use crate::*;

const PARAMS_TOML: &str = r#"
[region]
code = "350100"
name = "test region"
province_prefix = "35"
year = 2025
method = "drg"
scheme = "fujian-2024"

[budget]
inpatient_fund_budget = "480000000.00"
monthly_quality_deposit_rate = "0.05"

[drg]
weights = "history"
trim = "iqr"
min_cases_for_own_weight = 5
base_rate = "40000.00"
point_scale = 100
payment = "rate"

[drg.hospital_level_coefficient]
"3" = "1.00"
"2" = "0.90"
"1" = "0.80"

[drg.outliers]
high_multiple_bands = [ { max_weight = "1.0", multiple = "3.0" }, { multiple = "2.0" } ]
high_extra_share = "0.90"
low_multiple = "0.4"
low_payment = "cost"
short_stay_days = 0

[drg.special_groups]
ungroupable = "lowest_standard_all_mdcs"
ambiguous = "lowest_standard_in_mdc"

[exclusion]
mode = "per_item"

[special_case]
max_share_drg = "0.05"
max_share_dip = "0.005"
review_period = "quarter"
outcome_default = "per_item"

[cross_region]
in_province = "local_standard"
cross_province = "per_item"

[clearing]
surplus_retained_share = "1.00"
surplus_cap_rate = "0.15"
overspend_bands = [ { up_to_rate = "0.10", fund_share = "0.70" }, { up_to_rate = "0.20", fund_share = "0.50" }, { fund_share = "0.00" } ]
performance_weight = true

[prepayment]
months = "1.0"
eligible_credit = ["A", "B"]
min_agreement_years = 2
recovered_at = "clearing"
"#;

fn params() -> Params {
    Params::from_toml_str(PARAMS_TOML).unwrap()
}

fn ym(text: &str) -> YearMonth {
    text.parse().unwrap()
}

/// A case: `[total_cost, payment, own, fund_due]`, `fund_paid = total_cost − own`.
fn case(
    id: &str,
    hospital: &str,
    month: &str,
    category: Category,
    weight: Option<Decimal>,
    money: [Decimal; 4],
) -> SettledCase {
    let [total_cost, payment, own, fund_due] = money;
    SettledCase {
        case_id: id.to_string(),
        hospital_id: hospital.to_string(),
        discharge_month: ym(month),
        category,
        payment,
        own,
        fund_due,
        fund_paid: total_cost - own,
        total_cost,
        weight,
        dip_score: None,
        pricing: Default::default(),
    }
}

/// H001 in June: 6 cases — 4 grouped (FR21 ×2 at 1.2, GB11 ×2 at 0.8), one 0000 (paid at a
/// floor weight 0.5), one invalid; one high, one low. H002 in June: one case without a
/// grouping. H001 in May: one case (E01), and one in July (J01).
fn cases() -> Vec<SettledCase> {
    use Category::*;
    vec![
        case(
            "C01",
            "H001",
            "2025-06",
            Normal,
            Some(dec!(1.2)),
            [dec!(10000), dec!(12000), dec!(3000), dec!(9000)],
        ),
        case(
            "C02",
            "H001",
            "2025-06",
            High,
            Some(dec!(1.2)),
            [dec!(50000), dec!(30000), dec!(15000), dec!(15000)],
        ),
        case(
            "C03",
            "H001",
            "2025-06",
            Low,
            Some(dec!(0.8)),
            [dec!(2000.004), dec!(2000.004), dec!(600), dec!(1400.004)],
        ),
        case(
            "C04",
            "H001",
            "2025-06",
            Ungroupable,
            Some(dec!(0.5)),
            [dec!(8000), dec!(6000), dec!(2000), dec!(4000)],
        ),
        case(
            "C05",
            "H001",
            "2025-06",
            Invalid,
            None,
            [dec!(5000), dec!(0), dec!(1500), dec!(0)],
        ),
        case(
            "C06",
            "H001",
            "2025-06",
            Normal,
            Some(dec!(0.8)),
            [dec!(7000.005), dec!(6400), dec!(2100), dec!(4300)],
        ),
        case(
            "D01",
            "H002",
            "2025-06",
            Normal,
            Some(dec!(1.0)),
            [dec!(9000), dec!(9500), dec!(2700), dec!(6800)],
        ),
        case(
            "E01",
            "H001",
            "2025-05",
            Normal,
            Some(dec!(2.0)),
            [dec!(20000), dec!(25000), dec!(6000), dec!(19000)],
        ),
        case(
            "J01",
            "H001",
            "2025-07",
            Normal,
            Some(dec!(1.0)),
            [dec!(1000), dec!(1100), dec!(300), dec!(800)],
        ),
    ]
}

/// The grouping of H001's cases and E01, J01; D01 has none.
fn groups() -> Groups {
    [
        ("C01", GroupStatus::Grouped, "FR21"),
        ("C02", GroupStatus::Grouped, "FR21"),
        ("C03", GroupStatus::Grouped, "GB11"),
        ("C04", GroupStatus::Ungroupable, "0000"),
        ("C05", GroupStatus::Invalid, ""),
        ("C06", GroupStatus::Grouped, "GB11"),
        ("E01", GroupStatus::Grouped, "ES31"),
        ("J01", GroupStatus::Grouped, "ES31"),
    ]
    .into_iter()
    .map(|(case_id, status, group)| CaseGroup {
        case_id: case_id.to_string(),
        status,
        group: group.to_string(),
    })
    .collect()
}

fn names() -> HospitalNames {
    [
        ("H001", "示例医院<甲>&Co"),
        ("H002", "乙医院"),
        ("H003", "丙医院"),
    ]
    .into_iter()
    .collect()
}

/// The statements of the months, settled by `drgdip_settle` (deposit 5%).
fn statements(cases: &[SettledCase]) -> Vec<drgdip_settle::MonthlyStatement> {
    let mut out = Vec::new();
    for (month, deadline) in [
        ("2025-05", "2025-06-10"),
        ("2025-06", "2025-07-10"),
        ("2025-07", "2025-08-11"),
    ] {
        let month = ym(month);
        let of_month: Vec<&SettledCase> = cases
            .iter()
            .filter(|c| c.discharge_month == month)
            .collect();
        out.extend(
            settle_month(
                of_month,
                &params(),
                month,
                deadline.parse().unwrap(),
                &WorkCalendar::weekdays_only(),
                &Actor::system("test"),
            )
            .unwrap()
            .value,
        );
    }
    out
}

fn june_report(hospital: Option<&str>) -> MonthlyReport {
    let cases = cases();
    monthly_feedback(
        ym("2025-06"),
        hospital,
        &cases,
        &statements(&cases),
        &groups(),
        &names(),
    )
    .unwrap()
}

fn file<'a>(files: &'a [OutputFile], name: &str) -> &'a str {
    &files
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| {
            panic!(
                "no file {name} among {:?}",
                files.iter().map(|f| &f.name).collect::<Vec<_>>()
            )
        })
        .contents
}

#[test]
fn the_monthly_feedback_counts_statuses_grouping_rate_cmi_and_shares_by_hand() {
    let report = june_report(None);
    assert_eq!(report.hospitals.len(), 2);
    let h1 = &report.hospitals[0];
    assert_eq!(h1.hospital_id, "H001");
    let t = &h1.cases.total;
    assert_eq!(t.cases, 6);
    assert_eq!(t.by_status, [4, 0, 1, 1]);
    // 入组率 = 4 grouped / 6 settled (the 0000 and the invalid case count below)
    assert_eq!(t.grouping_rate(), Some(dec!(4) / dec!(6)));
    assert_eq!(format::pct(t.grouping_rate().unwrap()), "66.67");
    // CMI over the 4 grouped cases: (1.2 + 1.2 + 0.8 + 0.8) / 4; the 0000 case's 0.5 is left out
    assert_eq!(t.cmi(), Some(dec!(1)));
    assert_eq!(t.cmi_cases, 4);
    assert_eq!((t.high_cases, t.low_cases), (1, 1));
    assert_eq!(format::pct(t.high_share().unwrap()), "16.67");
    // money: each case rounded to the fen first: 2000.004 → 2000.00, 7000.005 → 7000.01
    assert_eq!(t.total_cost, dec!(82000.01));
    assert_eq!(t.payment, dec!(56400.00));
    assert_eq!(t.difference(), dec!(-25600.01));
    assert_eq!(t.fund_due, dec!(33700.00));
    assert_eq!(t.own + t.fund_paid, t.total_cost);
    assert_eq!(format::pct(t.payment_to_cost().unwrap()), "68.78");
    // the statement: 5% of 33700.00 withheld
    let s = h1.statement.as_ref().unwrap();
    assert_eq!(
        (s.deposit_withheld, s.amount_due),
        (dec!(1685.00), dec!(32015.00))
    );
    assert!(h1.notes.is_empty(), "{:?}", h1.notes);

    // groups, sorted by code: invalid (""), 0000, FR21, GB11
    let g: Vec<(&str, u64, Decimal)> = h1
        .cases
        .by_group
        .iter()
        .map(|r| (r.group.as_str(), r.tally.cases, r.tally.difference()))
        .collect();
    assert_eq!(
        g,
        [
            ("", 1, dec!(-5000.00)),
            ("0000", 1, dec!(-2000)),
            ("FR21", 2, dec!(-18000)),
            ("GB11", 2, dec!(-600.01)),
        ]
    );
    let top: Vec<&str> = h1
        .cases
        .top_groups(3)
        .iter()
        .map(|r| r.group.as_str())
        .collect();
    assert_eq!(top, ["FR21", "", "0000"]);
    let cats: Vec<(Category, u64)> = h1
        .cases
        .by_category
        .iter()
        .map(|c| (c.category, c.tally.cases))
        .collect();
    assert_eq!(
        cats,
        [
            (Category::Normal, 2),
            (Category::High, 1),
            (Category::Low, 1),
            (Category::Ungroupable, 1),
            (Category::Invalid, 1)
        ]
    );

    // H002's case has no grouping: grouped by its category, group "?", and a note says so
    let h2 = &report.hospitals[1];
    assert_eq!(h2.cases.total.by_status, [1, 0, 0, 0]);
    assert_eq!(h2.cases.by_group[0].group, UNKNOWN_GROUP);
    assert!(h2.cases.top_groups(10).is_empty());
    assert_eq!(h2.notes.len(), 1);
    assert!(h2.notes[0].contains("1 cases without a grouping"));
}

#[test]
fn the_monthly_csv_reads_as_computed() {
    let files = june_report(None).files();
    let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "monthly-2025-06-summary.csv",
            "monthly-2025-06-groups.csv",
            "monthly-2025-06-categories.csv",
            "monthly-2025-06.html",
            "monthly-2025-06-H001.html",
            "monthly-2025-06-H002.html",
        ]
    );
    assert_eq!(
        file(&files, "monthly-2025-06-summary.csv"),
        "month,hospital_id,hospital_name,cases,grouped,ambiguous,ungroupable,invalid,grouping_rate_pct,cmi,cmi_cases,high_cases,high_share_pct,low_cases,low_share_pct,total_cost,payment,difference,payment_to_cost_pct,fund_paid,own,fund_due,statement_cases,fund_due_total,deposit_rate_pct,deposit_withheld,amount_due,declaration_deadline,due_by\n\
         2025-06,H001,示例医院<甲>&Co,6,4,0,1,1,66.67,1.0000,4,1,16.67,1,16.67,82000.01,56400.00,-25600.01,68.78,57800.01,24200.00,33700.00,6,33700.00,5.00,1685.00,32015.00,2025-07-10,2025-08-21\n\
         2025-06,H002,乙医院,1,1,0,0,0,100.00,1.0000,1,0,0.00,0,0.00,9000.00,9500.00,500.00,105.56,6300.00,2700.00,6800.00,1,6800.00,5.00,340.00,6460.00,2025-07-10,2025-08-21\n"
    );
    assert_eq!(
        file(&files, "monthly-2025-06-groups.csv"),
        "month,hospital_id,group,status,cases,weight,high_cases,low_cases,total_cost,payment,difference,payment_to_cost_pct,fund_due\n\
         2025-06,H001,,invalid,1,,0,0,5000.00,0.00,-5000.00,0.00,0.00\n\
         2025-06,H001,0000,ungroupable,1,0.5000,0,0,8000.00,6000.00,-2000.00,75.00,4000.00\n\
         2025-06,H001,FR21,grouped,2,1.2000,1,0,60000.00,42000.00,-18000.00,70.00,24000.00\n\
         2025-06,H001,GB11,grouped,2,0.8000,0,1,9000.01,8400.00,-600.01,93.33,5700.00\n\
         2025-06,H002,?,grouped,1,1.0000,0,0,9000.00,9500.00,500.00,105.56,6800.00\n"
    );
    assert_eq!(
        file(&files, "monthly-2025-06-categories.csv"),
        "month,hospital_id,category,cases,share_pct,total_cost,payment,difference,own,fund_due\n\
         2025-06,H001,normal,2,33.33,17000.01,18400.00,1399.99,5100.00,13300.00\n\
         2025-06,H001,high,1,16.67,50000.00,30000.00,-20000.00,15000.00,15000.00\n\
         2025-06,H001,low,1,16.67,2000.00,2000.00,0.00,600.00,1400.00\n\
         2025-06,H001,ungroupable,1,16.67,8000.00,6000.00,-2000.00,2000.00,4000.00\n\
         2025-06,H001,invalid,1,16.67,5000.00,0.00,-5000.00,1500.00,0.00\n\
         2025-06,H002,normal,1,100.00,9000.00,9500.00,500.00,2700.00,6800.00\n"
    );
}

#[test]
fn one_hospital_alone_and_a_hospital_without_data() {
    let files = june_report(Some("H002")).files();
    let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "monthly-2025-06-H002-summary.csv",
            "monthly-2025-06-H002-groups.csv",
            "monthly-2025-06-H002-categories.csv",
            "monthly-2025-06-H002.html",
        ]
    );
    assert_eq!(
        file(&files, "monthly-2025-06-H002-summary.csv")
            .lines()
            .count(),
        2
    );
    let none = june_report(Some("H003"));
    assert_eq!(none.hospitals.len(), 1);
    let h3 = &none.hospitals[0];
    assert_eq!(
        (h3.cases.total.cases, h3.cases.total.grouping_rate()),
        (0, None)
    );
    assert_eq!(
        h3.notes,
        ["本月无月结算单 · no monthly statement for this month"]
    );
    let csv = none.csv_files();
    assert!(csv[0].contents.ends_with(
        "2025-06,H003,丙医院,0,0,0,0,0,,,0,0,,0,,0.00,0.00,0.00,,0.00,0.00,0.00,,,,,,,\n"
    ));
    balance(&none.html_files()[0].contents).unwrap();
}

#[test]
fn the_pages_are_balanced_hold_their_charts_and_escape_names() {
    let report = june_report(None);
    for f in report.html_files() {
        balance(&f.contents).unwrap_or_else(|e| panic!("{}: {e}", f.name));
        assert!(f.contents.starts_with("<!DOCTYPE html>"));
        assert!(
            f.contents
                .contains("<svg xmlns=\"http://www.w3.org/2000/svg\""),
            "{}",
            f.name
        );
        assert!(!f.contents.contains("<script"));
        assert!(
            !f.contents.contains("http://")
                || !f
                    .contents
                    .replace("http://www.w3.org/2000/svg", "")
                    .contains("http://")
        );
        assert!(
            !f.contents.contains("<甲>"),
            "{}: a name not escaped",
            f.name
        );
    }
    let h1 = report.hospital_page(&report.hospitals[0]);
    assert!(h1.contains("H001 示例医院&lt;甲&gt;&amp;Co"));
    assert!(
        h1.contains("医院月度反馈（月告知）<span class=\"en\">Hospital monthly feedback</span>")
    );
    assert!(h1.contains("<td>入组率 · grouping rate</td><td class=\"n\">66.67%</td>"));
    assert!(h1.contains(
        "<td>CMI 病例组合指数 · case-mix index</td><td class=\"n\">1.0000 (4 例 cases)</td>"
    ));
    assert!(h1.contains("<td>预留质量保证金 · deposit withheld</td><td class=\"n\">1,685.00</td>"));
    assert!(h1.contains("<td>本期应付金额 · amount due</td><td class=\"n\">32,015.00</td>"));
    // the chart of groups: FR21's payment 42000 against an axis to 60000 (FR21's cost) over
    // 450 px = 315 px
    assert!(h1.contains("width=\"315\" height=\"11\" fill=\"#2f6fad\"><title>FR21 (2例) · 支付 payment: 42,000.00</title>"));
    let index = report.index_page();
    assert!(
        index.contains("<a href=\"monthly-2025-06-H001.html\">H001 示例医院&lt;甲&gt;&amp;Co</a>")
    );
    // H002's page warns about the missing grouping
    let h2 = report.hospital_page(&report.hospitals[1]);
    assert!(h2.contains("<p class=\"warn\">1 例无分组信息"));
}

#[test]
fn the_reports_do_not_depend_on_the_order_of_the_input() {
    let cases = cases();
    let statements = statements(&cases);
    let mut rev_cases = cases.clone();
    rev_cases.reverse();
    let mut rev_statements = statements.clone();
    rev_statements.reverse();
    let (g, n) = (groups(), names());
    let a = monthly_feedback(ym("2025-06"), None, &cases, &statements, &g, &n)
        .unwrap()
        .files();
    let b = monthly_feedback(ym("2025-06"), None, &rev_cases, &rev_statements, &g, &n)
        .unwrap()
        .files();
    assert_eq!(a, b);
    let q: Period = "2025Q2".parse().unwrap();
    let a = region_report(q, &cases, &statements, &g, &n)
        .unwrap()
        .files();
    let b = region_report(q, &rev_cases, &rev_statements, &g, &n)
        .unwrap()
        .files();
    assert_eq!(a, b);
}

#[test]
fn a_case_or_a_statement_twice_is_refused() {
    let mut cases = cases();
    cases.push(cases[0].clone());
    let statements = statements(&cases[..9]);
    assert_eq!(
        monthly_feedback(
            ym("2025-06"),
            None,
            &cases,
            &statements,
            &groups(),
            &names()
        )
        .unwrap_err(),
        ReportError::DuplicateCase {
            case_id: "C01".into()
        }
    );
    let mut twice = statements.clone();
    twice.push(statements[1].clone());
    let err =
        region_report(Period::Year(2025), &cases[..9], &twice, &groups(), &names()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "two monthly statements of hospital H001 for 2025-06"
    );
}

#[test]
fn the_quarter_sums_hospitals_and_months_by_hand() {
    let cases = cases();
    let q2 = region_report(
        "2025Q2".parse().unwrap(),
        &cases,
        &statements(&cases),
        &groups(),
        &names(),
    )
    .unwrap();
    let t = &q2.region.total;
    // May's E01 and June's 7 cases; July's J01 is outside the quarter
    assert_eq!(t.cases, 8);
    assert_eq!(t.grouped(), 6);
    assert_eq!(format::pct(t.grouping_rate().unwrap()), "75.00");
    // CMI = (1.2 + 1.2 + 0.8 + 0.8 + 2.0 + 1.0) / 6 = 7 / 6
    assert_eq!(t.cmi(), Some(dec!(7) / dec!(6)));
    assert_eq!(format::w4(t.cmi().unwrap()), "1.1667");
    assert_eq!(format::pct(t.high_share().unwrap()), "12.50");
    assert_eq!((t.total_cost, t.payment), (dec!(111000.01), dec!(90900.00)));
    assert_eq!(q2.statements.statements, 3);
    assert_eq!(q2.statements.fund_due_total, dec!(59500.00));
    assert_eq!(q2.statements.deposit_withheld, dec!(2975.00));
    assert_eq!(q2.statements.amount_due, dec!(56525.00));
    let months: Vec<(String, u64, u64)> = q2
        .months
        .iter()
        .map(|m| (m.month.to_string(), m.hospitals, m.cases.cases))
        .collect();
    assert_eq!(
        months,
        [("2025-05".to_string(), 1, 1), ("2025-06".to_string(), 2, 7)]
    );
    let hospitals: Vec<(&str, u64, Decimal)> = q2
        .hospitals
        .iter()
        .map(|h| {
            (
                h.hospital_id.as_str(),
                h.cases.cases,
                h.statements.amount_due,
            )
        })
        .collect();
    assert_eq!(
        hospitals,
        [("H001", 7, dec!(50065.00)), ("H002", 1, dec!(6460.00))]
    );
    // the hospitals add up to the region
    let mut sum = Tally::default();
    q2.hospitals.iter().for_each(|h| sum.merge(&h.cases));
    assert_eq!(&sum, t);

    let files = q2.files();
    let file_names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        file_names,
        [
            "quarter-2025Q2-hospitals.csv",
            "quarter-2025Q2-region.csv",
            "quarter-2025Q2-months.csv",
            "quarter-2025Q2-categories.csv",
            "quarter-2025Q2-groups.csv",
            "quarter-2025Q2-insured.csv",
            "quarter-2025Q2.html",
        ]
    );
    // by insured class: the cross-province cases apart, and the classes add up to the region
    let insured: u64 = q2.by_insured.iter().map(|r| r.cases).sum();
    assert_eq!(insured, t.cases);
    let cost: Decimal = q2.by_insured.iter().map(|r| r.total_cost).sum();
    assert_eq!(cost, t.total_cost);
    let due: Decimal = q2.by_insured.iter().map(|r| r.fund_due).sum();
    assert_eq!(due, t.fund_due);
    assert_eq!(
        file(&files, "quarter-2025Q2-region.csv"),
        "period,hospitals,cases,grouped,ambiguous,ungroupable,invalid,grouping_rate_pct,cmi,cmi_cases,high_cases,high_share_pct,low_cases,low_share_pct,total_cost,payment,difference,payment_to_cost_pct,fund_paid,own,fund_due,statements,fund_due_total,deposit_withheld,amount_due\n\
         2025Q2,2,8,6,0,1,1,75.00,1.1667,6,1,12.50,1,12.50,111000.01,90900.00,-20100.01,81.89,78100.01,32900.00,59500.00,3,59500.00,2975.00,56525.00\n"
    );
    assert_eq!(
        file(&files, "quarter-2025Q2-months.csv")
            .lines()
            .map(|l| l.split(',').take(4).collect::<Vec<_>>().join(","))
            .collect::<Vec<_>>(),
        [
            "month,hospitals,cases,grouped",
            "2025-05,1,1,1",
            "2025-06,2,7,5"
        ]
    );
    assert_eq!(
        file(&files, "quarter-2025Q2-groups.csv")
            .lines()
            .map(|l| l.split(',').take(3).collect::<Vec<_>>().join(","))
            .collect::<Vec<_>>(),
        [
            "period,group,status",
            "2025Q2,,invalid",
            "2025Q2,0000,ungroupable",
            "2025Q2,?,grouped",
            "2025Q2,ES31,grouped",
            "2025Q2,FR21,grouped",
            "2025Q2,GB11,grouped"
        ]
    );
    let html = file(&files, "quarter-2025Q2.html");
    balance(html).unwrap();
    assert!(
        html.contains("统筹区季度公布（季公布）<span class=\"en\">Region quarterly figures</span>")
    );
    assert_eq!(
        html.matches("<svg").count(),
        4,
        "hospitals, trend, CMI trend, groups"
    );
    assert!(html.contains("<polyline"));
    assert!(html.contains("示例医院&lt;甲&gt;&amp;Co"));
    assert!(!html.contains("<甲>"));

    // the year takes July too
    let year = region_report(
        Period::Year(2025),
        &cases,
        &statements(&cases),
        &groups(),
        &names(),
    )
    .unwrap();
    assert_eq!(year.region.total.cases, 9);
    assert_eq!(year.months.len(), 3);
    assert_eq!(year.stem(), "year-2025");
    assert!(year.html().contains("统筹区年度通报（年通报）"));
}

fn application(id: &str, hospital: &str, period: &str, cases: &[&str]) -> Application {
    Application::submit(
        &Actor::hospital("u", hospital),
        ApplicationRequest {
            id: id.to_string(),
            hospital_id: hospital.to_string(),
            period: period.parse().unwrap(),
            case_ids: cases.iter().map(|c| c.to_string()).collect(),
            reason: ReasonKind::HighCost,
            text: "ECMO".to_string(),
            records: Default::default(),
        },
        &params(),
        QuotaBase {
            method: Method::Drg,
            region_settled: 1000,
            hospital_settled: 1000,
            region_applied: 0,
            hospital_applied: 0,
        },
    )
    .unwrap()
    .value
}

fn opinion(case: &str, outcome: Outcome) -> CaseOpinion {
    CaseOpinion {
        case: case.to_string(),
        outcome,
        reason: "expert reason".to_string(),
    }
}

fn applications() -> Vec<Application> {
    let bureau = Actor::bureau("b");
    let experts = drgdip_settle::Experts::parse(
        "expert_id,name,discipline,hospital_id\nr-1,a,x,\nr-2,b,x,\nr-3,c,x,\n",
    )
    .unwrap();
    let p = params();
    let rules = drgdip_settle::ReviewRules::new(&p, &experts);
    // H001 2025Q2: K1 (A-1-01) approved with extra points, K2 (A-1-02) rejected
    let mut decided = application("A-1", "H001", "2025Q2", &["K1", "K2"]);
    decided
        .assign_first_reviewers(&bureau, &["r-1", "r-3"], &rules)
        .unwrap();
    for r in ["r-1", "r-3"] {
        decided
            .record_first_review(
                &Actor::reviewer(r),
                vec![
                    opinion("A-1-01", Outcome::ApprovedPerItem),
                    opinion("A-1-02", Outcome::ApprovedPerItem),
                ],
                &rules,
            )
            .unwrap();
    }
    decided
        .assign_second_reviewer(&bureau, "r-2", &rules)
        .unwrap();
    decided
        .record_second_review(
            &Actor::reviewer("r-2"),
            vec![
                opinion("A-1-01", Outcome::ApprovedExtraPoints { points: dec!(60) }),
                opinion("A-1-02", Outcome::Rejected),
            ],
            &rules,
        )
        .unwrap();
    // H001 2025Q1: three cases pending
    let pending = application("A-2", "H001", "2025Q1", &["K3", "K4", "K5"]);
    // H002 2025Q1: withdrawn
    let mut withdrawn = application("A-3", "H002", "2025Q1", &["K6"]);
    withdrawn
        .withdraw(&Actor::hospital("u", "H002"), "duplicate", &rules)
        .unwrap();
    // H002 2025Q3: the other half-year
    let later = application("A-4", "H002", "2025Q3", &["M1"]);
    vec![decided, pending, withdrawn, later]
}

#[test]
fn the_special_case_notice_counts_applied_and_approved_per_hospital() {
    let notice = special_case_notice("2025H1".parse().unwrap(), &applications(), &names()).unwrap();
    assert_eq!(
        notice.totals,
        NoticeTotals {
            hospitals_applying: 2,
            applications: 3,
            cases_applied: 6,
            cases_approved: 1,
            cases_rejected: 1,
            cases_withdrawn: 1,
            cases_pending: 3,
        }
    );
    let files = notice.files();
    assert_eq!(files[0].name, "special-cases-2025H1.csv");
    assert_eq!(
        files[0].contents,
        "half,hospital_id,hospital_name,applications,cases_applied,cases_approved,cases_rejected,cases_withdrawn,cases_pending,approval_rate_pct,spot_checked,spot_reversed\n\
         2025H1,H001,示例医院<甲>&Co,2,5,1,1,0,3,50.00,0,0\n\
         2025H1,H002,乙医院,1,1,0,0,1,0,,0,0\n\
         2025H1,H003,丙医院,0,0,0,0,0,0,,0,0\n"
    );
    let html = &files[1].contents;
    assert_eq!(files[1].name, "special-cases-2025H1.html");
    balance(html).unwrap();
    assert!(html.contains("<svg"));
    assert!(
        html.contains("特例单议半年公示<span class=\"en\">Half-yearly special-case notice</span>")
    );
    assert!(html.contains("<tr class=\"total\"><td>合计 · total</td><td class=\"n\">3</td><td class=\"n\">6</td><td class=\"n\">1</td>"));
    assert!(!html.contains("<甲>"));
    // only hospitals that applied are charted; H001's 5 cases fill the axis (to 5): 450 px
    assert!(html.contains("width=\"450\" height=\"11\" fill=\"#e07b39\"><title>H001 示例医院&lt;甲&gt;&amp;Co · 申请 applied: 5</title>"));

    let h2 = special_case_notice(
        "2025H2".parse().unwrap(),
        &applications(),
        &HospitalNames::new(),
    )
    .unwrap();
    assert_eq!(h2.lines.len(), 1);
    assert_eq!(
        (
            h2.lines[0].row.hospital_id.as_str(),
            h2.lines[0].row.cases_pending
        ),
        ("H002", 1)
    );
    assert_eq!(
        special_case_notice("2024H2".parse().unwrap(), &[], &names())
            .unwrap_err()
            .to_string(),
        "half-year 2024H2: the first special-case notice covers 2025H1"
    );
}

#[test]
fn groups_fall_back_to_the_payment_category() {
    let g = Groups::new();
    let mut c = cases()[0].clone();
    let of = |c: &SettledCase| {
        let x = g.of(c);
        (x.status, x.group.to_string(), x.known)
    };
    assert_eq!(of(&c), (GroupStatus::Grouped, "?".into(), false));
    c.category = Category::Ambiguous;
    assert_eq!(of(&c), (GroupStatus::Ambiguous, "QY".into(), false));
    c.category = Category::CrossProvince;
    assert_eq!(of(&c).0, GroupStatus::Grouped);
    c.weight = None;
    assert_eq!(of(&c), (GroupStatus::Ungroupable, "0000".into(), false));
    c.category = Category::Invalid;
    assert_eq!(of(&c), (GroupStatus::Invalid, String::new(), false));
    let given: Groups = [CaseGroup {
        case_id: c.case_id.clone(),
        status: GroupStatus::Grouped,
        group: "FR21".into(),
    }]
    .into_iter()
    .collect();
    let x = given.of(&c);
    assert_eq!(
        (x.status, x.group, x.known),
        (GroupStatus::Grouped, "FR21", true)
    );
}

#[test]
fn cross_province_cases_are_reported_apart_by_insured_class() {
    // payment-model §4 scope / §6: cross-province cases are outside local clearing and
    // reported apart: count, cost, fund.
    let mut cases = cases();
    cases[0].pricing.insured = drgdip_pay::InsuredClass::InProvince;
    cases[1].pricing.insured = drgdip_pay::InsuredClass::CrossProvince;
    cases[1].category = Category::CrossProvince;
    // a case settled before the ledger kept its insured class: its category decides
    cases[2].category = Category::CrossProvince;
    let q2 = region_report(
        "2025Q2".parse().unwrap(),
        &cases,
        &statements(&cases),
        &groups(),
        &names(),
    )
    .unwrap();
    let rows: Vec<(String, bool, u64, Decimal, Decimal)> = q2
        .by_insured
        .iter()
        .map(|r| {
            (
                r.insured.to_string(),
                r.in_local_clearing(),
                r.cases,
                r.total_cost,
                r.fund_due,
            )
        })
        .collect();
    let c = |i: usize| &cases[i];
    assert_eq!(
        rows[1],
        (
            "in_province".into(),
            true,
            1,
            round_fen(c(0).total_cost),
            round_fen(c(0).fund_due)
        )
    );
    assert_eq!(
        rows[2],
        (
            "cross_province".into(),
            false,
            2,
            round_fen(c(1).total_cost) + round_fen(c(2).total_cost),
            round_fen(c(1).fund_due) + round_fen(c(2).fund_due)
        )
    );
    assert_eq!(rows[0].0, "local");
    assert_eq!(rows[0].2, q2.region.total.cases - 3);
    let csv = q2
        .csv_files()
        .into_iter()
        .find(|f| f.name == "quarter-2025Q2-insured.csv")
        .unwrap();
    let text = csv.contents;
    assert!(
        text.starts_with("period,insured,in_local_clearing,cases,total_cost,payment,fund_due\n2025Q2,local,true,"),
        "{text}"
    );
    assert!(text.contains("\n2025Q2,cross_province,false,2,"), "{text}");
    assert!(q2.html().contains("跨省异地 · cross-province"));
}
