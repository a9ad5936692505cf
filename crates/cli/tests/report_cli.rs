//! `drgdip report` end to end: a ledger written by the store (hand-made cases, figures by hand),
//! and a month settled by `drgdip settle` from the shipped dev cases.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::str::FromStr;

use drgdip_pay::Category;
use drgdip_settle::{CategoryTotals, MonthlyStatement, SettledCase};
use drgdip_store::Store;
use rust_decimal::Decimal;

fn d(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

/// Runs `drgdip ARGS` without `--shared` (the reports need no scheme).
fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_drgdip"))
        .args(args)
        .output()
        .expect("run drgdip")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "drgdip failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A case of June with `[total_cost, payment, own, fund_due]`.
fn case(
    id: &str,
    hospital: &str,
    category: Category,
    weight: Option<&str>,
    m: [&str; 4],
) -> SettledCase {
    SettledCase {
        case_id: id.to_string(),
        hospital_id: hospital.to_string(),
        discharge_month: "2025-06".parse().unwrap(),
        category,
        payment: d(m[1]),
        own: d(m[2]),
        fund_due: d(m[3]),
        fund_paid: d(m[0]) - d(m[2]),
        total_cost: d(m[0]),
        weight: weight.map(d),
        dip_score: None,
        pricing: Default::default(),
    }
}

/// The statement of `cases` (all of one hospital), deposit 5%.
fn statement(hospital: &str, cases: &[&SettledCase]) -> MonthlyStatement {
    let mut totals = CategoryTotals::default();
    for c in cases {
        totals.cases += 1;
        totals.total_cost += c.total_cost;
        totals.fund_paid += c.fund_paid;
        totals.own += c.own;
        totals.payment += c.payment;
        totals.fund_due += c.fund_due;
    }
    let deposit = (totals.fund_due * d("0.05")).round_dp(2);
    MonthlyStatement {
        hospital_id: hospital.to_string(),
        month: "2025-06".parse().unwrap(),
        cases: totals.cases,
        case_ids: cases.iter().map(|c| c.case_id.clone()).collect(),
        by_category: Default::default(),
        fund_due_total: totals.fund_due,
        totals,
        deposit_rate: d("0.05"),
        deposit_withheld: deposit,
        amount_due: (cases.iter().map(|c| c.fund_due).sum::<Decimal>()) - deposit,
        declaration_deadline: "2025-07-10".parse().unwrap(),
        due_by: "2025-08-21".parse().unwrap(),
        due_working_days: 30,
        adjustments: Vec::new(),
        adjustments_total: Decimal::ZERO,
    }
}

/// Writes June into a fresh SQLite ledger through the store.
fn ledger(dir: &Path) -> String {
    let cases = vec![
        case(
            "C1",
            "H001",
            Category::Normal,
            Some("1.2"),
            ["10000", "12000", "3000", "9000"],
        ),
        case(
            "C2",
            "H001",
            Category::High,
            Some("0.8"),
            ["50000", "30000", "15000", "15000"],
        ),
        case(
            "C3",
            "H001",
            Category::Ungroupable,
            Some("0.5"),
            ["8000", "6000", "2000", "4000"],
        ),
        case(
            "C4",
            "H002",
            Category::Low,
            Some("1.0"),
            ["1000", "1000", "300", "700"],
        ),
    ];
    let h1: Vec<&SettledCase> = cases.iter().filter(|c| c.hospital_id == "H001").collect();
    let h2: Vec<&SettledCase> = cases.iter().filter(|c| c.hospital_id == "H002").collect();
    let statements = vec![statement("H001", &h1), statement("H002", &h2)];
    let url = format!("sqlite://{}", s(&dir.join("ledger.db")));
    let rt = drgdip_store::tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = Store::open(&url).await.unwrap();
        store
            .replace_month("2025-06".parse().unwrap(), &cases, &statements, &[])
            .await
            .unwrap();
        store.close().await;
    });
    url
}

fn rows_by(path: &Path, key: &str) -> HashMap<String, HashMap<String, String>> {
    common::read_csv(path)
        .into_iter()
        .map(|r| (r[key].clone(), r))
        .collect()
}

#[test]
fn the_reports_of_a_ledger_written_by_the_store() {
    let dir = common::tempdir("report-store");
    let db = ledger(&dir);
    let hospitals = dir.join("hospitals.csv");
    std::fs::write(
        &hospitals,
        "hospital_id,name,level,credit_rating,performance_score,agreement_years,traceability_code_upload\n\
         H001,甲医院 <A&B>,3,A,90,5,1\nH002,乙医院,2,A,80,5,1\nH003,丙医院,1,B,70,1,0\n",
    )
    .unwrap();
    let groups = dir.join("groups.csv");
    std::fs::write(
        &groups,
        "case_id,status,mdc,adrg,drg,extra\nC1,grouped,F,FR2,FR21,x\nC2,分组成功,F,FR2,FR23,x\nC3,ungroupable,,,0000,x\n",
    )
    .unwrap();
    let out = dir.join("out");
    let stdout = ok(&run(&[
        "report",
        "monthly",
        "--db",
        &db,
        "--month",
        "2025-06",
        "--hospitals",
        s(&hospitals),
        "--groups",
        s(&groups),
        "--out",
        s(&out),
    ]));
    let printed: Vec<&str> = stdout.lines().collect();
    assert_eq!(printed.len(), 6, "{stdout}");
    for p in &printed {
        assert!(Path::new(p).is_file(), "{p}");
    }
    // H001: 3 cases, 2 grouped (the 0000 one is not): 66.67%; CMI (1.2 + 0.8) / 2 = 1.0000;
    // one high case of 3; cost 68000, payment 48000; deposit 5% of 28000 = 1400.
    let summary = rows_by(&out.join("monthly-2025-06-summary.csv"), "hospital_id");
    let h1 = &summary["H001"];
    assert_eq!(h1["hospital_name"], "甲医院 <A&B>");
    assert_eq!(
        [
            &h1["cases"],
            &h1["grouped"],
            &h1["ungroupable"],
            &h1["grouping_rate_pct"],
            &h1["cmi"]
        ],
        ["3", "2", "1", "66.67", "1.0000"]
    );
    assert_eq!([&h1["high_cases"], &h1["high_share_pct"]], ["1", "33.33"]);
    assert_eq!(
        [
            &h1["total_cost"],
            &h1["payment"],
            &h1["difference"],
            &h1["fund_due"]
        ],
        ["68000.00", "48000.00", "-20000.00", "28000.00"]
    );
    assert_eq!(
        [&h1["deposit_withheld"], &h1["amount_due"], &h1["due_by"]],
        ["1400.00", "26600.00", "2025-08-21"]
    );
    // H002's case is not in the groups file: grouped by its category, DRG "?"
    let h2 = &summary["H002"];
    assert_eq!(
        [&h2["grouped"], &h2["low_cases"], &h2["low_share_pct"]],
        ["1", "1", "100.00"]
    );
    let groups_csv = std::fs::read_to_string(out.join("monthly-2025-06-groups.csv")).unwrap();
    assert_eq!(
        groups_csv,
        "month,hospital_id,group,status,cases,weight,high_cases,low_cases,total_cost,payment,difference,payment_to_cost_pct,fund_due\n\
         2025-06,H001,0000,ungroupable,1,0.5000,0,0,8000.00,6000.00,-2000.00,75.00,4000.00\n\
         2025-06,H001,FR21,grouped,1,1.2000,0,0,10000.00,12000.00,2000.00,120.00,9000.00\n\
         2025-06,H001,FR23,grouped,1,0.8000,1,0,50000.00,30000.00,-20000.00,60.00,15000.00\n\
         2025-06,H002,?,grouped,1,1.0000,0,1,1000.00,1000.00,0.00,100.00,700.00\n"
    );
    let page = std::fs::read_to_string(out.join("monthly-2025-06-H001.html")).unwrap();
    assert!(page.contains("<svg"));
    assert!(page.contains("甲医院 &lt;A&amp;B&gt;"));
    assert!(!page.contains("<A&B>"));
    assert_eq!(
        page.matches("<table").count(),
        page.matches("</table>").count()
    );
    let index = std::fs::read_to_string(out.join("monthly-2025-06.html")).unwrap();
    assert!(index.contains("href=\"monthly-2025-06-H002.html\""));

    // the same run again gives the same bytes
    let again = dir.join("again");
    ok(&run(&[
        "report",
        "monthly",
        "--db",
        &db,
        "--month",
        "2025-06",
        "--hospitals",
        s(&hospitals),
        "--groups",
        s(&groups),
        "--out",
        s(&again),
    ]));
    for p in &printed {
        let name = Path::new(p).file_name().unwrap();
        assert_eq!(
            std::fs::read(p).unwrap(),
            std::fs::read(again.join(name)).unwrap()
        );
    }

    // one hospital
    let stdout = ok(&run(&[
        "report",
        "monthly",
        "--db",
        &db,
        "--month",
        "2025-06",
        "--hospital",
        "H002",
        "--out",
        s(&out),
    ]));
    assert!(stdout.contains("monthly-2025-06-H002-summary.csv"));
    assert_eq!(
        common::read_csv(&out.join("monthly-2025-06-H002-summary.csv")).len(),
        1
    );

    // the quarter and the year, with the opinions' counts of their period (one opinion in
    // May, one in October: outside the quarter)
    for (hospital, topic, today) in [
        ("H001", "technical", "2025-05-06"),
        ("H002", "other", "2025-10-01"),
    ] {
        ok(&run(&[
            "opinions",
            "submit",
            "--hospital",
            hospital,
            "--topic",
            topic,
            "--text",
            "x",
            "--today",
            today,
            "--db",
            &db,
        ]));
    }
    let stdout = ok(&run(&[
        "report",
        "quarter",
        "--db",
        &db,
        "--quarter",
        "2025Q2",
        "--hospitals",
        s(&hospitals),
        "--groups",
        s(&groups),
        "--out",
        s(&out),
    ]));
    assert_eq!(stdout.lines().count(), 8);
    let opinions = common::read_csv(&out.join("quarter-2025Q2-opinions.csv"));
    let count = |dim: &str, value: &str| {
        opinions
            .iter()
            .find(|r| r["dimension"] == dim && r["value"] == value)
            .map(|r| r["count"].clone())
    };
    assert_eq!(count("total", "all").as_deref(), Some("1"));
    assert_eq!(count("topic", "technical").as_deref(), Some("1"));
    assert_eq!(count("topic", "other"), None);
    assert_eq!(count("status", "submitted").as_deref(), Some("1"));
    let html = std::fs::read_to_string(out.join("quarter-2025Q2.html")).unwrap();
    assert!(html.contains("意见收集反馈"));
    let region = common::read_csv(&out.join("quarter-2025Q2-region.csv"));
    assert_eq!(
        [
            &region[0]["hospitals"],
            &region[0]["cases"],
            &region[0]["grouped"],
            &region[0]["grouping_rate_pct"],
            &region[0]["amount_due"]
        ],
        ["2", "4", "3", "75.00", "27265.00"]
    );
    let months = common::read_csv(&out.join("quarter-2025Q2-months.csv"));
    assert_eq!(months.len(), 1);
    assert_eq!(months[0]["month"], "2025-06");
    ok(&run(&[
        "report",
        "year",
        "--db",
        &db,
        "--year",
        "2025",
        "--out",
        s(&out),
    ]));
    assert!(out.join("year-2025.html").is_file());
    let opinions = common::read_csv(&out.join("year-2025-opinions.csv"));
    assert_eq!(opinions[0]["count"], "2", "both opinions are of 2025");

    // the special-case notice of a half-year without applications: a zero row per hospital
    ok(&run(&[
        "report",
        "special-cases",
        "--db",
        &db,
        "--half",
        "2025H1",
        "--hospitals",
        s(&hospitals),
        "--out",
        s(&out),
    ]));
    let notice = common::read_csv(&out.join("special-cases-2025H1.csv"));
    let ids: Vec<&str> = notice.iter().map(|r| r["hospital_id"].as_str()).collect();
    assert_eq!(ids, ["H001", "H002", "H003"]);
    assert!(notice.iter().all(|r| r["cases_applied"] == "0"));

    // a month, a hospital, a quarter without data, a wrong quarter
    for args in [
        &[
            "report",
            "monthly",
            "--db",
            &db,
            "--month",
            "2025-07",
            "--out",
            s(&out),
        ][..],
        &[
            "report",
            "monthly",
            "--db",
            &db,
            "--month",
            "2025-06",
            "--hospital",
            "H009",
            "--out",
            s(&out),
        ],
        &[
            "report",
            "quarter",
            "--db",
            &db,
            "--quarter",
            "2025Q3",
            "--out",
            s(&out),
        ],
    ] {
        let o = run(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&o.stderr).contains("no settled case and no statement"));
    }
    let o = run(&[
        "report",
        "quarter",
        "--db",
        &db,
        "--quarter",
        "2025H1",
        "--out",
        s(&out),
    ]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("expected a quarter such as 2025Q2"));
}

#[test]
fn a_missing_ledger_is_an_error_and_is_not_created() {
    let dir = common::tempdir("report-missing");
    let db = dir.join("nothing.db");
    let url = format!("sqlite://{}", s(&db));
    let o = run(&[
        "report",
        "monthly",
        "--db",
        &url,
        "--month",
        "2025-06",
        "--out",
        s(&dir),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no ledger at"));
    assert!(!db.exists());
}

#[test]
fn a_bad_groups_file_names_its_line_and_field() {
    let dir = common::tempdir("report-bad-groups");
    let db = ledger(&dir);
    let groups = dir.join("groups.csv");
    std::fs::write(
        &groups,
        "case_id,status,drg\nC1,grouped,FR21\nC2,maybe,FR23\n",
    )
    .unwrap();
    let o = run(&[
        "report",
        "monthly",
        "--db",
        &db,
        "--month",
        "2025-06",
        "--groups",
        s(&groups),
        "--out",
        s(&dir),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("line 3, field status") && err.contains("\"maybe\""),
        "{err}"
    );
    std::fs::write(&groups, "id,status\n").unwrap();
    let o = run(&[
        "report",
        "monthly",
        "--db",
        &db,
        "--month",
        "2025-06",
        "--groups",
        s(&groups),
        "--out",
        s(&dir),
    ]);
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("expected the columns case_id, status and drg")
    );
}

/// `drgdip settle` June from the shipped dev cases, group them, report the month: the report's
/// cases and fund due agree with the statements, every case has its group.
#[test]
fn the_monthly_report_of_a_month_settled_by_drgdip_settle() {
    let Some(shared) = common::shared() else {
        return;
    };
    let dir = common::tempdir("report-settled");
    let data = shared.join("testdata/chs-drg-2.0");
    let db = format!("sqlite://{}", s(&dir.join("ledger.db")));
    let path = |p: PathBuf| p.to_str().unwrap().to_string();
    let params = path(shared.join("params/region-350100-2025.toml"));
    let hospitals = path(data.join("hospitals.csv"));
    let history = path(data.join("history-2024/cases.csv"));
    let input = path(data.join("dev/cases.csv"));
    let settle = common::drgdip(
        &shared,
        &[
            "settle",
            "--month",
            "2025-06",
            "--db",
            &db,
            "--params",
            &params,
            "--hospitals",
            &hospitals,
            "--history",
            &history,
            "--input",
            &input,
        ],
    );
    if !settle.status.success() {
        let err = String::from_utf8_lossy(&settle.stderr);
        if err.contains("not yet available") || err.contains("unexpected argument") {
            eprintln!(
                "note: `drgdip settle` is not yet available: test skipped ({})",
                err.trim()
            );
            return;
        }
        panic!("drgdip settle failed: {err}");
    }
    let groups = dir.join("groups.csv");
    let group = common::drgdip(
        &shared,
        &[
            "group",
            "--scheme",
            "fujian-2024",
            "-i",
            &input,
            "-o",
            s(&groups),
            "-q",
        ],
    );
    assert!(
        group.status.success(),
        "{}",
        String::from_utf8_lossy(&group.stderr)
    );
    let out = dir.join("out");
    let report = common::drgdip(
        &shared,
        &[
            "report",
            "monthly",
            "--db",
            &db,
            "--month",
            "2025-06",
            "--hospitals",
            &hospitals,
            "--groups",
            s(&groups),
            "--out",
            s(&out),
        ],
    );
    let stdout = ok(&report);
    assert!(stdout.lines().count() >= 5, "{stdout}");

    let summary = common::read_csv(&out.join("monthly-2025-06-summary.csv"));
    assert!(!summary.is_empty());
    let mut cases = 0u64;
    for r in &summary {
        let n: u64 = r["cases"].parse().unwrap();
        cases += n;
        // the report's cases and fund due agree with the hospital's statement to the fen
        assert_eq!(r["cases"], r["statement_cases"], "{}", r["hospital_id"]);
        assert_eq!(r["fund_due"], r["fund_due_total"], "{}", r["hospital_id"]);
        assert_eq!(
            d(&r["deposit_withheld"]) + d(&r["amount_due"]),
            d(&r["fund_due_total"])
        );
        // 入组率 = grouped / cases
        let grouped: u64 = r["grouped"].parse().unwrap();
        let rate = (Decimal::from(grouped) * Decimal::ONE_HUNDRED / Decimal::from(n))
            .round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
        assert_eq!(d(&r["grouping_rate_pct"]), rate, "{}", r["hospital_id"]);
        let page = out.join(format!("monthly-2025-06-{}.html", r["hospital_id"]));
        let html = std::fs::read_to_string(&page).unwrap();
        assert!(html.contains("<svg") && html.ends_with("</html>\n"));
        assert!(
            !html.contains("无分组信息"),
            "{}: cases without a grouping",
            page.display()
        );
    }
    // June's cases of the dev file, all on the statements
    let june = common::read_csv(Path::new(&input))
        .iter()
        .filter(|r| r["discharge_date"].starts_with("2025-06"))
        .count() as u64;
    assert!(cases > 0 && cases <= june, "{cases} of {june}");
    let groups_csv = common::read_csv(&out.join("monthly-2025-06-groups.csv"));
    assert!(groups_csv.iter().all(|r| r["group"] != "?"));
    let grouped: u64 = groups_csv
        .iter()
        .filter(|r| r["status"] == "grouped")
        .map(|r| r["cases"].parse::<u64>().unwrap())
        .sum();
    assert_eq!(
        grouped,
        summary
            .iter()
            .map(|r| r["grouped"].parse::<u64>().unwrap())
            .sum::<u64>()
    );
}
