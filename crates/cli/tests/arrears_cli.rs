//! End-to-end tests of `drgdip payments record|list` and `drgdip arrears` on the shipped data
//! (`$DRGDIP_SHARED`, default `../shared`): months of the dev cases settled into a ledger,
//! payments recorded (full, partial, late, missing, and refused ones), and the arrears checked
//! to the fen against the statements and payments, with the due dates counted here on the
//! official calendar. On SQLite, and on PostgreSQL when `DRGDIP_TEST_PG_URL` is set. Every
//! test prints a note and passes when the shared directory is absent.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::Instant;

use drgdip_settle::{Date, MonthlyStatement, YearMonth};
use drgdip_store::Store;
use rust_decimal::Decimal;

mod common;

use common::ledger::{block_on, data, dev_months, s, settle_month, Data};
use common::pg::{drop_pg_schema, pg_schema};
use common::{drgdip, read_csv, tempdir};

/// Runs drgdip; (exit code, stdout, stderr).
fn run(shared: &Path, args: &[&str]) -> (i32, String, String) {
    let out = drgdip(shared, args);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn run_ok(shared: &Path, args: &[&str]) -> String {
    let (code, out, err) = run(shared, args);
    assert_eq!(code, 0, "drgdip {args:?} failed:\n{err}\n{out}");
    out
}

fn statements(db: &str) -> Vec<MonthlyStatement> {
    block_on(async {
        let store = Store::open(db).await.unwrap();
        let s = store.statements(None, None).await.unwrap();
        store.close().await;
        s
    })
}

fn day(text: &str) -> Date {
    text.parse().unwrap()
}

fn dec(text: &str) -> Decimal {
    text.parse().unwrap()
}

/// The day `n` days after `date`.
fn plus(date: Date, n: u32) -> Date {
    (0..n).fold(date, |d, _| d.succ())
}

/// Calendar days from `from` to `to` (counted one day at a time; 0 when `to ≤ from`).
fn days_between(from: Date, to: Date) -> i64 {
    let mut n = 0;
    let mut day = from;
    while day < to {
        day = day.succ();
        n += 1;
    }
    n
}

/// The `n`th working day after `start` on the official calendar file, counted here from the
/// file itself (Monday–Friday, minus its days off, plus its `work` days).
fn nth_working_day_after(calendar: &Path, start: Date, n: u32) -> Date {
    let text = std::fs::read_to_string(calendar).unwrap();
    let mut off = BTreeSet::new();
    let mut work = BTreeSet::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match line.split_once(' ') {
            Some((day, "work")) => work.insert(day.to_string()),
            _ => off.insert(line.to_string()),
        };
    }
    // 2025-01-06 is a Monday
    let monday = day("2025-01-06");
    let mut day = start;
    let mut count = 0;
    while count < n {
        day = day.succ();
        let weekday = days_between(monday, day) % 7; // 0 = Monday
        let key = day.to_string();
        let working = (weekday < 5 && !off.contains(&key)) || work.contains(&key);
        if working {
            count += 1;
        }
    }
    day
}

/// The DRG weights from the 2024 history.
fn weights(d: &Data, dir: &Path) -> PathBuf {
    let w = dir.join("weights.csv");
    run_ok(
        &d.shared,
        &[
            "weights",
            "--history",
            s(&d.history),
            "--params",
            s(&d.params),
            "-o",
            s(&w),
            "-q",
        ],
    );
    w
}

fn settle(d: &Data, db: &str, weights: &Path) {
    for month in dev_months() {
        settle_month(d, &d.params, weights, db, &month, &d.cases);
    }
}

/// A row of a payments file.
struct Row {
    hospital: String,
    month: String,
    date: String,
    amount: String,
    reference: String,
}

fn row(hospital: &str, month: &str, date: Date, amount: String, reference: &str) -> Row {
    Row {
        hospital: hospital.into(),
        month: month.into(),
        date: date.to_string(),
        amount,
        reference: reference.into(),
    }
}

fn write_payments(path: &Path, rows: &[Row]) {
    // the columns in another order than the documented one: they are found by name
    let mut text = String::from("reference,hospital_id,month,date,amount\n");
    for r in rows {
        text.push_str(&format!(
            "{},{},{},{},{}\n",
            r.reference, r.hospital, r.month, r.date, r.amount
        ));
    }
    std::fs::write(path, text).unwrap();
}

/// Σ of the rows accepted (by the test's own plan) per statement, dated ≤ `as_of`.
fn expected_paid(accepted: &[&Row], as_of: Date) -> BTreeMap<(String, String), Decimal> {
    let mut paid = BTreeMap::new();
    for r in accepted {
        if day(&r.date) <= as_of {
            *paid
                .entry((r.hospital.clone(), r.month.clone()))
                .or_insert(Decimal::ZERO) += dec(&r.amount);
        }
    }
    paid
}

/// Checks `arrears --as-of` (CSV) row by row, to the fen, against the statements and the
/// accepted payments; returns the rows by (hospital, month).
fn check_arrears(
    d: &Data,
    db: &str,
    dir: &Path,
    all: &[MonthlyStatement],
    accepted: &[&Row],
    as_of: Date,
) -> HashMap<(String, String), HashMap<String, String>> {
    let csv = dir.join(format!("arrears-{as_of}.csv"));
    let out = run_ok(
        &d.shared,
        &[
            "arrears",
            "--as-of",
            &as_of.to_string(),
            "--db",
            db,
            "--format",
            "csv",
        ],
    );
    assert!(
        out.starts_with(
            "hospital_id,month,amount_due,paid,outstanding,due_date,days_overdue,band\n"
        ),
        "{out}"
    );
    std::fs::write(&csv, &out).unwrap();
    let rows = read_csv(&csv);
    let paid = expected_paid(accepted, as_of);
    let mut expected = BTreeSet::new();
    for st in all {
        let key = (st.hospital_id.clone(), st.month.to_string());
        let p = paid.get(&key).copied().unwrap_or_default();
        if st.amount_due - p != Decimal::ZERO {
            expected.insert(key);
        }
    }
    let listed: BTreeSet<(String, String)> = rows
        .iter()
        .map(|r| (r["hospital_id"].clone(), r["month"].clone()))
        .collect();
    assert_eq!(listed, expected, "the statements with anything outstanding");
    assert_eq!(listed.len(), rows.len(), "each statement once");
    let by_key: HashMap<_, _> = all
        .iter()
        .map(|st| ((st.hospital_id.clone(), st.month.to_string()), st))
        .collect();
    for r in &rows {
        let key = (r["hospital_id"].clone(), r["month"].clone());
        let st = by_key[&key];
        let p = paid.get(&key).copied().unwrap_or_default();
        assert_eq!(dec(&r["amount_due"]), st.amount_due, "{key:?}");
        assert_eq!(r["amount_due"], format!("{:.2}", st.amount_due));
        assert_eq!(dec(&r["paid"]), p, "{key:?}");
        assert_eq!(dec(&r["outstanding"]), st.amount_due - p, "{key:?}");
        assert_eq!(r["due_date"], st.due_by.to_string());
        let late = days_between(st.due_by, as_of);
        assert_eq!(r["days_overdue"], late.to_string(), "{key:?}");
        let band = match late {
            0 => "not_due",
            1..=30 => "1-30",
            31..=90 => "31-90",
            91..=180 => "91-180",
            _ => ">180",
        };
        assert_eq!(r["band"], band, "{key:?}");
    }
    // the table's totals are the sums of the rows
    let table = run_ok(
        &d.shared,
        &["arrears", "--as-of", &as_of.to_string(), "--db", db],
    );
    let mut per_hospital: BTreeMap<String, Decimal> = BTreeMap::new();
    for r in &rows {
        *per_hospital.entry(r["hospital_id"].clone()).or_default() += dec(&r["outstanding"]);
    }
    let total_of = |who: &str| -> Decimal {
        let line = table
            .lines()
            .find(|l| l.starts_with(&format!("{who:<8}  total ")))
            .unwrap_or_else(|| panic!("no total of {who}:\n{table}"));
        let fields: Vec<&str> = line.split_whitespace().collect();
        dec(fields[4])
    };
    for (h, sum) in &per_hospital {
        assert_eq!(total_of(h), *sum, "{h}");
    }
    assert_eq!(
        total_of("ALL"),
        per_hospital.values().copied().sum::<Decimal>()
    );
    rows.into_iter()
        .map(|r| ((r["hospital_id"].clone(), r["month"].clone()), r))
        .collect()
}

/// The whole scenario on the ledger `db`.
fn payments_and_arrears(d: &Data, db: &str, dir: &Path, weights: &Path) {
    let t = Instant::now();
    settle(d, db, weights);
    eprintln!("settled the dev year in {:.1} s", t.elapsed().as_secs_f64());
    let all = statements(db);
    let st = |h: &str, m: &str| -> &MonthlyStatement {
        all.iter()
            .find(|s| s.hospital_id == h && s.month.to_string() == m)
            .unwrap_or_else(|| panic!("no statement {h}/{m}"))
    };
    let fen = |x: Decimal| format!("{x:.2}");

    // The December statement falls due after the Spring Festival holiday of 2026
    // (2026-02-15 … 2026-02-23): the 30th working day after the deadline 2026-01-10, counted
    // here on the calendar file the parameters name.
    let calendar = d.shared.join("calendar/cn-holidays.txt");
    let december = st("H001", "2025-12");
    assert_eq!(december.declaration_deadline, day("2026-01-10"));
    let expected_due = nth_working_day_after(&calendar, day("2026-01-10"), 30);
    assert_eq!(december.due_by, expected_due);
    assert!(december.due_by > day("2026-02-23"), "{}", december.due_by);
    for s in &all {
        let deadline = s.declaration_deadline;
        assert_eq!(
            s.due_by,
            nth_working_day_after(&calendar, deadline, 30),
            "{}",
            s.subject()
        );
    }

    let (h1_may, h1_jun, h2_jun, h4_jun, h1_dec) = (
        st("H001", "2025-05"),
        st("H001", "2025-06"),
        st("H002", "2025-06"),
        st("H004", "2025-06"),
        st("H001", "2025-12"),
    );
    let partial = h1_jun.amount_due - dec("1234.56");
    let rows = vec![
        // 2: full, on time
        row(
            "H001",
            "2025-05",
            plus(h1_may.due_by, 0),
            fen(h1_may.amount_due),
            "FULL-1",
        ),
        // 3: partial, on time
        row("H001", "2025-06", h1_jun.due_by, fen(partial), "PART-1"),
        // 4: full, 40 days late
        row(
            "H002",
            "2025-06",
            plus(h2_jun.due_by, 40),
            fen(h2_jun.amount_due),
            "LATE-1",
        ),
        // 5: H003 2025-06 is missing: no row
        // 5: a partial payment of December dated after the first as_of (2026-01-31)
        row(
            "H001",
            "2025-12",
            day("2026-03-02"),
            fen(dec("1000.00")),
            "FUTURE-1",
        ),
        // 6: an overpayment: one fen more than due
        row(
            "H004",
            "2025-06",
            h4_jun.due_by,
            fen(h4_jun.amount_due + dec("0.01")),
            "OVER-1",
        ),
        // 7: a statement that does not exist (the month is not settled)
        row(
            "H001",
            "2024-07",
            day("2025-09-01"),
            "100.00".into(),
            "NONE-1",
        ),
        // 8: the same reference as line 3 for the same hospital
        row(
            "H001",
            "2025-05",
            day("2025-07-01"),
            "1.00".into(),
            "PART-1",
        ),
        // 9: three decimals
        row(
            "H004",
            "2025-06",
            day("2025-08-01"),
            "10.005".into(),
            "FORM-1",
        ),
        // 10: no such date
        row(
            "H004",
            "2025-06",
            day("2025-08-01"),
            "10.00".into(),
            "FORM-2",
        ),
        // 11: the rest of the H004 overpayment, exactly what is outstanding: accepted
        row(
            "H004",
            "2025-06",
            h4_jun.due_by,
            fen(h4_jun.amount_due),
            "EXACT-1",
        ),
    ];
    let mut rows = rows;
    rows[8].date = "2025-02-30".into();
    let accepted: Vec<&Row> = [0, 1, 2, 3, 9].iter().map(|&i| &rows[i]).collect();
    let file = dir.join("payments.csv");
    write_payments(&file, &rows);
    let errors = dir.join("payment-errors.csv");
    let (code, out, err) = run(
        &d.shared,
        &[
            "payments",
            "record",
            "--file",
            s(&file),
            "--errors",
            s(&errors),
            "--db",
            db,
            "--actor",
            "bureau-7",
        ],
    );
    assert_eq!(code, 2, "some rows refused: exit code 2\n{out}\n{err}");
    let recorded_sum: Decimal = accepted.iter().map(|r| dec(&r.amount)).sum();
    assert!(
        out.contains(&format!(
            "10 rows read; 5 recorded ({recorded_sum:.2}), 5 refused"
        )),
        "{out}"
    );
    assert!(
        err.contains("5 of 10 payment rows refused (lines 6, 7, 8, 9, 10)"),
        "{err}"
    );
    let problems = read_csv(&errors);
    let got: Vec<(String, String, String, String)> = problems
        .iter()
        .map(|p| {
            (
                p["line"].clone(),
                p["hospital_id"].clone(),
                p["field"].clone(),
                p["value"].clone(),
            )
        })
        .collect();
    let want = |l: &str, h: &str, f: &str, v: &str| {
        (l.to_string(), h.to_string(), f.to_string(), v.to_string())
    };
    assert_eq!(
        got,
        [
            want("6", "H004", "amount", &fen(h4_jun.amount_due + dec("0.01"))),
            want("7", "H001", "month", "2024-07"),
            want("8", "H001", "reference", "PART-1"),
            want("9", "H004", "amount", "10.005"),
            want("10", "H004", "date", "2025-02-30"),
        ]
    );
    let message =
        |line: &str| problems.iter().find(|p| p["line"] == line).unwrap()["message"].clone();
    assert!(
        message("6").contains(&format!(
            "exceeds what is outstanding on H004/2025-06: {}",
            fen(h4_jun.amount_due)
        )),
        "{}",
        message("6")
    );
    assert!(
        message("7").contains("no statement H001/2024-07"),
        "{}",
        message("7")
    );
    assert!(
        message("8").contains("reference \"PART-1\" of H001 is already recorded"),
        "{}",
        message("8")
    );
    assert!(
        message("9").contains("at most two decimals"),
        "{}",
        message("9")
    );

    // Recording the same file again pays nothing twice: every row is refused.
    let (code, out, _) = run(
        &d.shared,
        &["payments", "record", "--file", s(&file), "--db", db],
    );
    assert_eq!(code, 2);
    assert!(
        out.contains("10 rows read; 0 recorded (0.00), 10 refused"),
        "{out}"
    );
    let listed = run_ok(
        &d.shared,
        &["payments", "list", "--db", db, "--format", "csv"],
    );
    let list_path = dir.join("payments-list.csv");
    std::fs::write(&list_path, &listed).unwrap();
    let list = read_csv(&list_path);
    assert_eq!(list.len(), 5, "{listed}");
    let refs: Vec<&str> = list.iter().map(|r| r["reference"].as_str()).collect();
    assert_eq!(refs, ["FULL-1", "PART-1", "LATE-1", "FUTURE-1", "EXACT-1"]);
    assert_eq!(
        list.iter().map(|r| r["id"].as_str()).collect::<Vec<_>>(),
        ["1", "2", "3", "4", "5"]
    );
    assert!(list.iter().all(|r| r["actor"] == "bureau-7"));
    let h1 = run_ok(
        &d.shared,
        &[
            "payments",
            "list",
            "--db",
            db,
            "--hospital",
            "H001",
            "--month",
            "2025-06",
        ],
    );
    assert!(h1.contains("PART-1") && !h1.contains("FULL-1"), "{h1}");
    assert!(
        h1.contains(&format!("1 payments, Σ amount {}", fen(partial))),
        "{h1}"
    );

    // The audit log has each recorded payment with the statement's balance before and after.
    block_on(async {
        let store = Store::open(db).await.unwrap();
        let trail = store.audit_of("H001/2025-06").await.unwrap();
        let recorded: Vec<_> = trail
            .iter()
            .filter(|r| r.event.action == drgdip_settle::Action::PaymentRecorded)
            .collect();
        assert_eq!(recorded.len(), 1);
        assert_eq!(
            recorded[0].event.after.as_deref(),
            Some("paid=".to_string() + &fen(partial) + " outstanding=1234.56").as_deref()
        );
        let refused = trail
            .iter()
            .filter(|r| r.event.action == drgdip_settle::Action::PaymentRefused)
            .count();
        assert_eq!(refused, 1, "the second recording of PART-1");
        store.close().await;
    });

    // As of 2026-01-31: H001 2025-05 is paid (not listed); H001 2025-06 owes 1234.56, overdue
    // since its due date; H002 2025-06 is paid (late); H003 2025-06 owes everything;
    // December is not yet due and the FUTURE payment does not count yet.
    let as_of = day("2026-01-31");
    let arrears = check_arrears(d, db, dir, &all, &accepted, as_of);
    let r = &arrears[&("H001".to_string(), "2025-06".to_string())];
    assert_eq!(r["outstanding"], "1234.56");
    assert_eq!(
        r["days_overdue"],
        days_between(h1_jun.due_by, as_of).to_string()
    );
    assert_eq!(r["band"], "91-180");
    assert!(!arrears.contains_key(&("H001".to_string(), "2025-05".to_string())));
    assert!(!arrears.contains_key(&("H002".to_string(), "2025-06".to_string())));
    assert!(!arrears.contains_key(&("H004".to_string(), "2025-06".to_string())));
    let h3 = &arrears[&("H003".to_string(), "2025-06".to_string())];
    assert_eq!(dec(&h3["outstanding"]), st("H003", "2025-06").amount_due);
    assert_eq!(h3["paid"], "0.00");
    let dec_row = &arrears[&("H001".to_string(), "2025-12".to_string())];
    assert_eq!(
        (dec_row["days_overdue"].as_str(), dec_row["band"].as_str()),
        ("0", "not_due")
    );
    assert_eq!(dec_row["paid"], "0.00");

    // As of 2026-03-31 the December payment counts; December is overdue (its due date is
    // after the holiday: a few days, not weeks).
    let later = day("2026-03-31");
    let arrears = check_arrears(d, db, dir, &all, &accepted, later);
    let dec_row = &arrears[&("H001".to_string(), "2025-12".to_string())];
    assert_eq!(dec(&dec_row["paid"]), dec("1000.00"));
    assert_eq!(
        dec(&dec_row["outstanding"]),
        h1_dec.amount_due - dec("1000.00")
    );
    assert_eq!(
        dec_row["days_overdue"],
        days_between(h1_dec.due_by, later).to_string()
    );
    assert_eq!(dec_row["band"], "31-90");

    // One hospital; every statement with --all.
    let one = run_ok(
        &d.shared,
        &[
            "arrears",
            "--as-of",
            "2026-01-31",
            "--db",
            db,
            "--hospital",
            "H001",
            "--all",
            "--format",
            "csv",
        ],
    );
    let lines: Vec<&str> = one.lines().skip(1).collect();
    assert_eq!(lines.len(), 12, "{one}");
    assert!(lines.iter().all(|l| l.starts_with("H001,")), "{one}");
    let may = lines
        .iter()
        .find(|l| l.starts_with("H001,2025-05,"))
        .unwrap();
    assert!(
        may.starts_with(&format!(
            "H001,2025-05,{0},{0},0.00,",
            fen(h1_may.amount_due)
        )),
        "{one}"
    );
    assert!(may.ends_with(",0,paid"), "{one}");

    // Bad arguments are named.
    let (code, _, err) = run(&d.shared, &["arrears", "--as-of", "2026-02-30", "--db", db]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--as-of: expected a date YYYY-MM-DD, found \"2026-02-30\""),
        "{err}"
    );
}

#[test]
fn payments_and_arrears_to_the_fen_on_sqlite_and_postgres() {
    let Some(d) = data() else { return };
    let t = Instant::now();
    let dir = tempdir("arrears");
    // The dev cases have discharges in every month of 2025.
    let months: BTreeSet<YearMonth> = read_csv(&d.cases)
        .iter()
        .map(|r| r["discharge_date"][..7].parse().unwrap())
        .collect();
    let year: BTreeSet<YearMonth> = (1..=12).map(|m| YearMonth::new(2025, m).unwrap()).collect();
    assert_eq!(months, year);

    let weights = weights(&d, &dir);
    let lite = format!("sqlite://{}", dir.join("ledger.db").display());
    payments_and_arrears(&d, &lite, &dir, &weights);
    eprintln!("sqlite: {:.1} s", t.elapsed().as_secs_f64());

    match std::env::var("DRGDIP_TEST_PG_URL") {
        Ok(base) if !base.is_empty() => {
            let (schema, pg) = pg_schema(&base, "arrears");
            let t = Instant::now();
            payments_and_arrears(&d, &pg, &dir, &weights);
            eprintln!("postgres: {:.1} s", t.elapsed().as_secs_f64());
            assert_eq!(statements(&pg), statements(&lite));
            drop_pg_schema(&base, &schema);
        }
        _ => {
            eprintln!("note: DRGDIP_TEST_PG_URL not set: the arrears are not checked on PostgreSQL")
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
