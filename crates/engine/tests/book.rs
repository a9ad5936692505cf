//! The book of record, end to end on the shipped data: a month settled through the engine
//! keeps, for every case, what priced it (scheme, version, status, groups, insured class) and
//! the run that settled it, with the digests of what the run read; the same inputs settled into
//! two fresh ledgers give the same books; clearing knows its year.

use std::path::{Path, PathBuf};

use drgdip_engine::digest::sha256_file;
use drgdip_engine::pricing::{pay_file, PayOptions, SpecialCases};
use drgdip_engine::settle::{
    clear_year, settle_month, CaseInput, ClearRequest, SettleRequest, SettleStep,
};
use drgdip_engine::{Region, RegionFiles, WeightsFrom};
use drgdip_io::{BatchOptions, Purpose};
use drgdip_settle::{Actor, Date, FinalPricing, Period, WorkCalendar, YearMonth};
use drgdip_store::{tokio, Replace, Store};

fn shared() -> Option<PathBuf> {
    let dir = std::env::var_os("DRGDIP_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    if dir.join("params/region-350100-2025.toml").exists() {
        Some(dir)
    } else {
        eprintln!("note: no shared data at {}: skipped", dir.display());
        None
    }
}

struct Fixture {
    region: Region,
    cases: PathBuf,
}

fn fixture(shared: &Path) -> Fixture {
    let files = drgdip_scheme::DirFiles::new(shared).expect("shared dir");
    let mut registry = drgdip_scheme::Registry::new(&files).expect("registry");
    let data = shared.join("testdata/chs-drg-2.0");
    let region_files = RegionFiles {
        params: shared.join("params/region-350100-2025.toml"),
        hospitals: data.join("hospitals.csv"),
        weights: WeightsFrom::History(data.join("history-2024/cases.csv")),
        point_value: None,
    };
    let mut options = BatchOptions::default();
    options.read.purpose = Purpose::Weights;
    let region = Region::load(&mut registry, &region_files, options).expect("region");
    Fixture {
        region,
        cases: data.join("dev/cases.csv"),
    }
}

fn month(m: &str) -> YearMonth {
    m.parse().unwrap()
}

fn request<'a>(f: &'a Fixture, m: &str) -> SettleRequest<'a> {
    let mut batch = BatchOptions::default();
    batch.read.purpose = Purpose::Pay;
    SettleRequest {
        month: month(m),
        case_file: CaseInput::File(&f.cases),
        batch,
        deadline: None,
        calendar: drgdip_engine::settle::run_calendar(
            None,
            &f.region.params,
            &f.region.params_path,
        )
        .unwrap_or_else(|_| WorkCalendar::weekdays_only()),
        mode: Replace::Guarded,
        actor: Actor::system("book-test"),
    }
}

async fn settle(store: &Store, f: &Fixture, months: &[&str]) {
    for m in months {
        settle_month(store, &f.region, request(f, m), &|_: SettleStep| {})
            .await
            .unwrap_or_else(|e| panic!("settle {m}: {e:#}"));
    }
}

#[test]
fn a_settled_month_keeps_what_priced_each_case_and_the_run_that_read_what() {
    let Some(shared) = shared() else { return };
    let f = fixture(&shared);
    // what `pay` publishes for every case of the file
    let mut paid = Vec::new();
    let mut batch = BatchOptions::default();
    batch.read.purpose = Purpose::Pay;
    pay_file(
        &f.region,
        &SpecialCases::default(),
        std::fs::File::open(&f.cases).unwrap(),
        &mut paid,
        None,
        PayOptions {
            batch,
            trace: false,
        },
        &|_| {},
    )
    .unwrap();
    let paid = String::from_utf8(paid).unwrap();
    let by_id: std::collections::HashMap<&str, Vec<&str>> = paid
        .lines()
        .skip(1)
        .map(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            (cells[0], cells)
        })
        .collect();

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = Store::open("sqlite::memory:").await.unwrap();
        settle(&store, &f, &["2025-06"]).await;
        let cases = store
            .ledger_cases(Some(Period::Month(month("2025-06"))), None)
            .await
            .unwrap();
        assert!(cases.len() > 1000, "{} cases", cases.len());
        let runs = store.settlement_runs(None).await.unwrap();
        assert_eq!(runs.len(), 1);
        let run = &runs[0];
        for c in &cases {
            assert_eq!(c.run_id, run.run_id);
            let p = &c.case.pricing;
            assert_eq!(p.scheme, f.region.scheme.name);
            assert_eq!(p.scheme_version, f.region.scheme.version);
            // the ledger's grouping and money are what `pay` publishes for the case
            let row = &by_id[c.case.case_id.as_str()];
            assert_eq!(
                (
                    p.status.as_str(),
                    p.mdc.as_str(),
                    p.adrg.as_str(),
                    p.group.as_str()
                ),
                (row[1], row[2], row[3], row[4]),
                "{}",
                c.case.case_id
            );
            assert_eq!(c.case.category.as_str(), row[5]);
            assert_eq!(c.case.payment.to_string(), row[9], "{}", c.case.case_id);
            assert_eq!(c.case.fund_due.to_string(), row[11], "{}", c.case.case_id);
        }
        // in-province and cross-province cases are told apart
        let classes: std::collections::BTreeSet<&str> = cases
            .iter()
            .map(|c| c.case.pricing.insured.as_str())
            .collect();
        assert!(classes.contains("local"), "{classes:?}");
        assert!(classes.len() >= 2, "{classes:?}");
        let i = &run.inputs;
        assert_eq!(i.method, "drg");
        assert!(i.program_version.starts_with("drgdip "));
        assert_eq!(i.case_file_sha256, sha256_file(&f.cases).unwrap());
        assert_eq!(i.params_sha256, sha256_file(&f.region.params_path).unwrap());
        assert_eq!(
            i.weights_sha256,
            sha256_file(&f.region.weights.file).unwrap()
        );
        assert_eq!(run.cases as usize, cases.len());
    });
}

#[test]
fn the_same_year_settled_into_two_fresh_ledgers_gives_the_same_books() {
    let Some(shared) = shared() else { return };
    let f = fixture(&shared);
    let months = ["2025-01", "2025-06", "2025-12"];
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let mut books = Vec::new();
        for _ in 0..2 {
            let store = Store::open("sqlite::memory:").await.unwrap();
            settle(&store, &f, &months).await;
            let today = Date::new(2026, 3, 1).unwrap();
            let cleared = clear_year(
                &store,
                &f.region.params,
                &f.region.hospitals,
                ClearRequest {
                    year: 2025,
                    pricing: FinalPricing::AsGiven,
                    actor: Actor::system("book-test"),
                    today,
                },
            )
            .await
            .unwrap();
            // nine months are not settled: the clearing says so
            assert!(
                cleared
                    .warnings
                    .iter()
                    .any(|w| w.contains("9 month(s) of 2025 not settled")),
                "{:?}",
                cleared.warnings
            );
            let cases = store
                .settled_cases_in(Period::Year(2025), None)
                .await
                .unwrap();
            let statements = store.statements_in(Period::Year(2025), None).await.unwrap();
            books.push((cases, statements, cleared.statements));
        }
        assert_eq!(books[0], books[1]);
    });
}

#[test]
fn clearing_refuses_a_year_with_no_settled_month_and_warns_after_june() {
    let Some(shared) = shared() else { return };
    let f = fixture(&shared);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = Store::open("sqlite::memory:").await.unwrap();
        let clear = |year: i32, today: Date| ClearRequest {
            year,
            pricing: FinalPricing::AsGiven,
            actor: Actor::system("book-test"),
            today,
        };
        let late = Date::new(2026, 7, 1).unwrap();
        let e = clear_year(
            &store,
            &f.region.params,
            &f.region.hospitals,
            clear(2025, late),
        )
        .await
        .unwrap_err();
        assert!(e.is_refusal(), "{e}");
        assert!(e.to_string().contains("no month of 2025 is settled"), "{e}");
        // a month without a row of the case file is refused, nothing written
        let empty = settle_month(&store, &f.region, request(&f, "2030-01"), &|_| {})
            .await
            .unwrap_err();
        assert!(empty.is_refusal(), "{empty}");
        assert!(
            empty.to_string().contains("nothing to settle for 2030-01"),
            "{empty}"
        );
        assert!(store.settlement_runs(None).await.unwrap().is_empty());
        settle(&store, &f, &["2025-12"]).await;
        let done = clear_year(
            &store,
            &f.region.params,
            &f.region.hospitals,
            clear(2025, late),
        )
        .await
        .unwrap();
        assert!(
            done.warnings
                .iter()
                .any(|w| w.contains("due by 2026-06-30")),
            "{:?}",
            done.warnings
        );
        // the year is closed now: neither a month of it nor its clearing runs again
        let again = clear_year(
            &store,
            &f.region.params,
            &f.region.hospitals,
            clear(2025, late),
        )
        .await
        .unwrap_err();
        assert!(
            again.is_refusal() && again.to_string().contains("closed"),
            "{again}"
        );
        let resettle = settle_month(&store, &f.region, request(&f, "2025-12"), &|_| {})
            .await
            .unwrap_err();
        assert!(resettle.is_refusal(), "{resettle}");
        assert!(
            resettle.to_string().contains("2025 is cleared and closed"),
            "{resettle}"
        );
        store
            .reopen_year(2025, &Actor::system("book-test"), "late correction of H001")
            .await
            .unwrap();
        assert!(store.closed_years().await.unwrap().is_empty());
        let on_time = clear_year(
            &store,
            &f.region.params,
            &f.region.hospitals,
            clear(2025, Date::new(2026, 6, 30).unwrap()),
        )
        .await
        .unwrap();
        assert!(!on_time.warnings.iter().any(|w| w.contains("due by")));
    });
}

/// The dev case file with the total cost of `changes` (case id → new total_cost) edited.
fn edited_cases(f: &Fixture, changes: &[(&str, &str)]) -> PathBuf {
    let text = std::fs::read_to_string(&f.cases).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let cols: Vec<&str> = header.split(',').collect();
    let at = |name: &str| cols.iter().position(|c| *c == name).unwrap();
    let (id_at, cost_at) = (at("case_id"), at("total_cost"));
    let mut out = String::from(header);
    out.push('\n');
    for line in lines {
        let mut cells: Vec<String> = line.split(',').map(String::from).collect();
        if let Some((_, cost)) = changes.iter().find(|(id, _)| cells[id_at] == *id) {
            cells[cost_at] = cost.to_string();
        }
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    let dir = std::env::temp_dir().join(format!("drgdip-book-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("cases-{}.csv", changes.len()));
    std::fs::write(&path, out).unwrap();
    path
}

#[test]
fn a_paid_statement_is_never_rewritten_its_differences_go_onto_the_next_statement() {
    let Some(shared) = shared() else { return };
    let f = fixture(&shared);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = Store::open("sqlite::memory:").await.unwrap();
        settle(&store, &f, &["2025-06"]).await;
        let june = month("2025-06");
        let before = store.statements(Some(june), None).await.unwrap();
        let cases_before = store.settled_cases(Some(june), None).await.unwrap();
        let h001 = before
            .iter()
            .find(|s| s.hospital_id == "H001")
            .unwrap()
            .clone();
        // the fund pays H001's June statement in part
        let paid = store
            .record_payments(
                &[drgdip_settle::FundPayment {
                    hospital_id: "H001".into(),
                    month: june,
                    date: Date::new(2025, 8, 1).unwrap(),
                    amount: "1000.00".parse().unwrap(),
                    reference: "T-1".into(),
                }],
                &Actor::bureau("cashier"),
            )
            .await
            .unwrap();
        assert_eq!(paid.len(), 1);
        // two June cases re-priced: one of H001 (paid), one of H002 (not paid)
        let of = |h: &str| {
            cases_before
                .iter()
                .find(|c| c.hospital_id == h && c.category.as_str() == "normal")
                .unwrap()
                .clone()
        };
        let (a, b) = (of("H001"), of("H002"));
        let doubled = |c: &drgdip_settle::SettledCase| {
            (c.total_cost * rust_decimal::Decimal::TWO).to_string()
        };
        let edited = edited_cases(
            &f,
            &[(&a.case_id, &doubled(&a)), (&b.case_id, &doubled(&b))],
        );
        let mut again = request(&f, "2025-06");
        again.case_file = CaseInput::File(&edited);
        let rerun = settle_month(&store, &f.region, again, &|_| {})
            .await
            .unwrap();
        let after = store.statements(Some(june), None).await.unwrap();
        // the run reports the statements the ledger holds: H001's paid one as it was
        assert_eq!(rerun.statements, after);
        // H001's paid statement and its cases stay as they were
        assert_eq!(
            after.iter().find(|s| s.hospital_id == "H001").unwrap(),
            &h001
        );
        let cases_after = store.settled_cases(Some(june), None).await.unwrap();
        let case = |cs: &[drgdip_settle::SettledCase], id: &str| {
            cs.iter().find(|c| c.case_id == id).unwrap().clone()
        };
        assert_eq!(case(&cases_after, &a.case_id), a);
        // H002's unpaid statement is replaced
        let b_after = case(&cases_after, &b.case_id);
        assert_ne!(b_after.fund_due, b.fund_due);
        // the difference of H001's case is an adjustment, pending
        // the same re-run again finds nothing new: a difference is never counted twice
        let mut twice = request(&f, "2025-06");
        twice.case_file = CaseInput::File(&edited);
        settle_month(&store, &f.region, twice, &|_| {})
            .await
            .unwrap();
        let adjustments = store.adjustments(None).await.unwrap();
        assert_eq!(adjustments.len(), 1, "{adjustments:?}");
        let (adj, carried) = &adjustments[0];
        assert_eq!(
            (adj.hospital_id.as_str(), adj.case_id.as_str()),
            ("H001", a.case_id.as_str())
        );
        assert_eq!(adj.old_fund_due, a.fund_due);
        assert_ne!(adj.new_fund_due, a.fund_due);
        assert_eq!(adj.difference, adj.new_fund_due - adj.old_fund_due);
        assert_eq!(*carried, None);
        let trail = store.audit_of("H001/2025-06").await.unwrap();
        assert!(trail
            .iter()
            .any(|r| r.event.action.as_str() == "settlement.adjustment_recorded"));

        // July carries it onto H001's statement, once, even when July is settled twice
        for _ in 0..2 {
            settle(&store, &f, &["2025-07"]).await;
        }
        let july = store
            .statements(Some(month("2025-07")), Some("H001"))
            .await
            .unwrap();
        let s = &july[0];
        assert_eq!(s.adjustments.len(), 1);
        assert_eq!(s.adjustments_total, adj.difference);
        assert_eq!(
            s.amount_due,
            s.fund_due_total - s.deposit_withheld + adj.difference
        );
        let lines: rust_decimal::Decimal = store
            .settled_cases(Some(month("2025-07")), Some("H001"))
            .await
            .unwrap()
            .iter()
            .map(|c| c.fund_due)
            .sum();
        assert_eq!(
            s.fund_due_total, lines,
            "the statement is the sum of its case lines"
        );
        let adjustments = store.adjustments(Some("H001")).await.unwrap();
        assert_eq!(adjustments[0].1, Some(month("2025-07")));

        // the clearing counts the adjustment once: the books balance
        let cleared = clear_year(
            &store,
            &f.region.params,
            &f.region.hospitals,
            ClearRequest {
                year: 2025,
                pricing: FinalPricing::AsGiven,
                actor: Actor::system("book-test"),
                today: Date::new(2026, 3, 1).unwrap(),
            },
        )
        .await
        .unwrap();
        let h = cleared
            .statements
            .iter()
            .find(|c| c.hospital_id == "H001")
            .unwrap();
        let june_july: rust_decimal::Decimal = store
            .settled_cases_in(Period::Year(2025), Some("H001"))
            .await
            .unwrap()
            .iter()
            .map(|c| c.fund_due)
            .sum();
        assert_eq!(h.entitled, june_july + adj.difference);
        // payments are recorded for 2025: the clearing takes what was paid (H001's 1,000.00
        // on June), the rest of the year's statements are unpaid and paid at clearing
        assert_eq!(
            h.paid_monthly,
            "1000.00".parse::<rust_decimal::Decimal>().unwrap()
        );
        assert!(!cleared.warnings.iter().any(|w| w.contains("paid in full")));
    });
}

#[test]
fn an_adjustment_no_statement_carries_is_counted_by_its_year_s_clearing_once() {
    let Some(shared) = shared() else { return };
    let f = fixture(&shared);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = Store::open("sqlite::memory:").await.unwrap();
        // December, the last month of the year: no later statement of 2025 can carry its
        // differences
        settle(&store, &f, &["2025-12"]).await;
        let december = month("2025-12");
        let cases = store
            .settled_cases(Some(december), Some("H001"))
            .await
            .unwrap();
        let a = cases
            .iter()
            .find(|c| c.category.as_str() == "normal")
            .unwrap()
            .clone();
        store
            .record_payments(
                &[drgdip_settle::FundPayment {
                    hospital_id: "H001".into(),
                    month: december,
                    date: Date::new(2026, 1, 20).unwrap(),
                    amount: "1000.00".parse().unwrap(),
                    reference: "T-12".into(),
                }],
                &Actor::bureau("cashier"),
            )
            .await
            .unwrap();
        let doubled = (a.total_cost * rust_decimal::Decimal::TWO).to_string();
        let edited = edited_cases(&f, &[(&a.case_id, &doubled)]);
        let mut again = request(&f, "2025-12");
        again.case_file = CaseInput::File(&edited);
        settle_month(&store, &f.region, again, &|_| {})
            .await
            .unwrap();
        let adjustments = store.adjustments(Some("H001")).await.unwrap();
        assert_eq!(adjustments.len(), 1, "{adjustments:?}");
        let (adj, carried) = adjustments[0].clone();
        assert_eq!(carried, None, "pending: no later statement");
        assert_ne!(adj.difference, rust_decimal::Decimal::ZERO);

        let clear = || {
            clear_year(
                &store,
                &f.region.params,
                &f.region.hospitals,
                ClearRequest {
                    year: 2025,
                    pricing: FinalPricing::AsGiven,
                    actor: Actor::system("book-test"),
                    today: Date::new(2026, 3, 1).unwrap(),
                },
            )
        };
        let cleared = clear().await.unwrap();
        let h = cleared
            .statements
            .iter()
            .find(|c| c.hospital_id == "H001")
            .unwrap()
            .clone();
        let lines: rust_decimal::Decimal = cases.iter().map(|c| c.fund_due).sum();
        assert_eq!(h.entitled, lines + adj.difference, "counted once");
        assert!(
            cleared
                .warnings
                .iter()
                .any(|w| w.contains("1 adjustment(s) of 2025's cases")),
            "{:?}",
            cleared.warnings
        );
        // reopened and cleared again: counted again, once
        store
            .reopen_year(2025, &Actor::bureau("chief"), "a correction")
            .await
            .unwrap();
        let again = clear().await.unwrap();
        let h2 = again
            .statements
            .iter()
            .find(|c| c.hospital_id == "H001")
            .unwrap();
        assert_eq!(h2.entitled, h.entitled);
        // 2026's statements never carry it: the clearing of 2025 counted it
        assert!(store
            .pending_adjustments(month("2026-01"))
            .await
            .unwrap()
            .is_empty());
    });
}
