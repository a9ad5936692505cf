//! End-to-end tests of `drgdip settle`, `drgdip clear` and `drgdip prepay` on the shipped data
//! (`$DRGDIP_SHARED`, default `../shared` beside the repository): idempotent settlement, crash
//! safety under `kill -9`, a whole year settled and cleared with books that balance to the fen,
//! and — when `DRGDIP_TEST_PG_URL` is set — the same ledger on PostgreSQL.
//!
//! The ledger is read back through `drgdip-store` directly. Every test prints a note and
//! passes when the shared directory is absent.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{mpsc, OnceLock};
use std::time::{Duration, Instant};

use drgdip_pay::money::{round_fen, Fen};
use drgdip_settle::{ClearingStatement, MonthlyStatement, Period, SettledCase, YearMonth};
use drgdip_store::Store;
use rust_decimal::Decimal;

mod common;

use common::ledger::{self, block_on, data, run_ok, s, Data};
use common::pg::{drop_pg_schema, pg_base, pg_schema};
use common::{drgdip, read_csv, tempdir};

// -------------------------------------------------------------------------------------------
// Helpers

/// The DRG weights from the 2024 history, computed once per test run.
fn weights(d: &Data) -> PathBuf {
    static WEIGHTS: OnceLock<PathBuf> = OnceLock::new();
    WEIGHTS
        .get_or_init(|| {
            let dir = tempdir("weights");
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
        })
        .clone()
}

fn sqlite_url(dir: &Path, name: &str) -> String {
    format!("sqlite://{}", dir.join(name).display())
}

/// The arguments of `drgdip settle --month M` of `input` into `db`, with the shipped
/// parameters and the history's weights.
fn settle_args(d: &Data, db: &str, month: &str, input: &Path) -> Vec<String> {
    ledger::settle_args(d, &d.params, &weights(d), db, month, input)
}

fn settle(d: &Data, db: &str, month: &str, input: &Path) -> String {
    ledger::settle_month(d, &d.params, &weights(d), db, month, input)
}

/// [`settle`] with `--force`: replaces a month even with far fewer cases (the truncation guard
/// would refuse it).
fn settle_forced(d: &Data, db: &str, month: &str, input: &Path) -> String {
    let mut args = settle_args(d, db, month, input);
    args.push("--force".into());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run_ok(&d.shared, &args).0
}

/// What the ledger holds for one month.
#[derive(Debug, PartialEq)]
struct MonthState {
    statements: Vec<MonthlyStatement>,
    cases: Vec<SettledCase>,
}

fn month_state(db: &str, month: &str) -> MonthState {
    let m: YearMonth = month.parse().unwrap();
    block_on(async {
        let store = Store::open(db).await.unwrap();
        let state = MonthState {
            statements: store.statements(Some(m), None).await.unwrap(),
            cases: store.settled_cases(Some(m), None).await.unwrap(),
        };
        store.close().await;
        state
    })
}

/// Σ fund_due_total of the statements.
fn total(statements: &[MonthlyStatement]) -> Decimal {
    statements.iter().map(|s| s.fund_due_total).sum()
}

/// Every statement is the sum of its cases' published (fen) lines, and lists exactly them.
fn assert_statements_add_up(state: &MonthState) {
    let mut by_hospital: BTreeMap<&str, (Decimal, Vec<&str>)> = BTreeMap::new();
    for c in &state.cases {
        let e = by_hospital.entry(&c.hospital_id).or_default();
        e.0 += round_fen(c.fund_due);
        e.1.push(&c.case_id);
    }
    assert_eq!(by_hospital.len(), state.statements.len());
    for st in &state.statements {
        let (due, ids) = &by_hospital[st.hospital_id.as_str()];
        assert_eq!(st.fund_due_total, *due, "{}", st.subject());
        assert_eq!(&st.case_ids, ids, "{}", st.subject());
        assert_eq!(st.amount_due + st.deposit_withheld, st.fund_due_total);
    }
}

// -------------------------------------------------------------------------------------------
// Idempotent settlement

#[test]
fn settling_a_month_again_gives_identical_statements_and_no_duplicate() {
    let Some(d) = data() else { return };
    let dir = tempdir("idempotent");
    let db = sqlite_url(&dir, "ledger.db");
    let errors = dir.join("errors.csv");
    let mut args = settle_args(&d, &db, "2025-06", &d.cases);
    args.extend(["--errors".to_string(), s(&errors).to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (first_out, stderr) = run_ok(&d.shared, &args);
    assert!(stderr.contains("writing 1663 cases"), "{stderr}");
    assert!(
        first_out.contains("20000 rows read; 1663 discharged in 2025-06, 18337 of other months"),
        "{first_out}"
    );
    assert!(first_out.contains("\nH001 "), "{first_out}");
    assert!(read_csv(&errors).is_empty(), "the dev cases are all valid");
    let first = month_state(&db, "2025-06");
    assert_eq!(first.cases.len(), 1663);
    assert_eq!(first.statements.len(), 40);
    assert_statements_add_up(&first);

    // The same month again: the same statements, the same cases, nothing added.
    let (second_out, _) = run_ok(&d.shared, &args);
    assert_eq!(second_out, first_out);
    let second = month_state(&db, "2025-06");
    assert_eq!(second, first);

    // Another month beside it changes nothing in June.
    settle(&d, &db, "2025-07", &d.cases);
    assert_eq!(month_state(&db, "2025-06"), first);

    block_on(async {
        let store = Store::open(&db).await.unwrap();
        let runs = store
            .settlement_runs(Some("2025-06".parse().unwrap()))
            .await
            .unwrap();
        assert_eq!(runs.len(), 2);
        assert_eq!(
            (runs[1].replaced_cases, runs[1].replaced_statements),
            (1663, 40)
        );
        assert_eq!(runs[1].fund_due_total, total(&first.statements));
        // The re-run's audit events say what they replaced: the same statement.
        let trail = store.audit_of("H001/2025-06").await.unwrap();
        assert_eq!(trail.len(), 2);
        assert_eq!(trail[0].event.before, None);
        assert_eq!(trail[1].event.before, trail[1].event.after);
        assert_eq!(trail[1].event.actor, "drgdip-settle");
        assert_eq!(
            store.months().await.unwrap(),
            ["2025-06".parse().unwrap(), "2025-07".parse().unwrap()]
        );
    });
}

// -------------------------------------------------------------------------------------------
// Crash safety

/// A large month: the June rows of the dev cases repeated under new case ids up to 200k rows,
/// made once under `CARGO_TARGET_TMPDIR`.
fn large_june(d: &Data) -> PathBuf {
    static LARGE: OnceLock<PathBuf> = OnceLock::new();
    LARGE
        .get_or_init(|| {
            let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
                "drgdip-settle-large-june-{}.csv",
                std::process::id()
            ));
            let mut r = csv::Reader::from_path(&d.cases).unwrap();
            let header = r.headers().unwrap().clone();
            let id = header.iter().position(|h| h == "case_id").unwrap();
            let date = header.iter().position(|h| h == "discharge_date").unwrap();
            let june: Vec<csv::StringRecord> = r
                .records()
                .map(Result::unwrap)
                .filter(|rec| rec[date].starts_with("2025-06"))
                .collect();
            let mut w = csv::Writer::from_path(&path).unwrap();
            w.write_record(&header).unwrap();
            let mut rows = 0;
            let mut copy = 0;
            while rows < 200_000 {
                for rec in &june {
                    let fields: Vec<String> = rec
                        .iter()
                        .enumerate()
                        .map(|(i, f)| {
                            if i == id {
                                format!("{f}-R{copy:03}")
                            } else {
                                f.to_string()
                            }
                        })
                        .collect();
                    w.write_record(&fields).unwrap();
                    rows += 1;
                }
                copy += 1;
            }
            w.flush().unwrap();
            path
        })
        .clone()
}

/// How a killed run ended.
#[derive(Debug)]
struct Killed {
    /// The run had started writing to the ledger when it was killed.
    writing: bool,
    /// The run had finished (exit 0) before the kill.
    finished: bool,
}

/// Starts `drgdip settle`, waits `delay` after the start (or, with `after_mark`, after the
/// line that says the ledger is being written), and kills it with SIGKILL.
fn settle_and_kill(d: &Data, db: &str, input: &Path, delay: Duration, after_mark: bool) -> Killed {
    let mut child = Command::new(env!("CARGO_BIN_EXE_drgdip"))
        .args(settle_args(d, db, "2025-06", input))
        .arg("--shared")
        .arg(&d.shared)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start drgdip settle");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if line.starts_with("writing ") {
                let _ = tx.send(Instant::now());
            }
        }
    });
    let mut writing_since = None;
    if after_mark {
        writing_since = rx.recv_timeout(Duration::from_secs(120)).ok();
        assert!(writing_since.is_some(), "the run never started writing");
    }
    std::thread::sleep(delay);
    let finished = matches!(child.try_wait(), Ok(Some(status)) if status.success());
    // std's kill is SIGKILL on Unix: no destructor, no rollback by the process itself.
    let _ = child.kill();
    let _ = child.wait();
    reader.join().unwrap();
    if writing_since.is_none() {
        writing_since = rx.try_recv().ok();
    }
    Killed {
        writing: writing_since.is_some(),
        finished,
    }
}

#[cfg(unix)]
#[test]
fn a_settlement_killed_at_any_point_leaves_the_previous_month_and_the_rerun_is_identical() {
    let Some(d) = data() else { return };
    let dir = tempdir("crash");
    let large = large_june(&d);
    killed_settlements(
        &d,
        &large,
        &sqlite_url(&dir, "ledger.db"),
        &sqlite_url(&dir, "reference.db"),
    );
    // On PostgreSQL too, when a server is given.
    if let Some(base) = pg_base("the kill -9 test") {
        let (ledger, ledger_url) = pg_schema(&base, "crash");
        let (reference, reference_url) = pg_schema(&base, "crash_ref");
        killed_settlements(&d, &large, &ledger_url, &reference_url);
        drop_pg_schema(&base, &ledger);
        drop_pg_schema(&base, &reference);
    }
    // The large files are not worth keeping.
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_file(&large);
}

/// Settles the dev cases' June into `db`, then kills settlements of the large June at points
/// before and inside the write: the previous month stays whole, and the re-run is identical
/// to a complete run into `reference_db`.
fn killed_settlements(d: &Data, large: &Path, db: &str, reference_db: &str) {
    let db = db.to_string();
    let large = large.to_path_buf();

    // The month as it stands: the dev cases of June.
    settle(d, &db, "2025-06", &d.cases);
    let before = month_state(&db, "2025-06");
    assert_eq!(before.cases.len(), 1663);

    // A reference ledger with the large month, to know the totals a complete run gives and
    // how long its write takes.
    let started = Instant::now();
    let args = settle_args(d, reference_db, "2025-06", &large);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (_, stderr) = run_ok(&d.shared, &args);
    let full = started.elapsed();
    let write_secs: f64 = stderr
        .split("write ")
        .nth(1)
        .and_then(|t| t.split(' ').next())
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("no write time in:\n{stderr}"));
    let reference = month_state(reference_db, "2025-06");
    assert!(
        reference.cases.len() >= 200_000,
        "{}",
        reference.cases.len()
    );
    eprintln!(
        "large month: {} cases, full run {:.2} s, write {write_secs:.2} s",
        reference.cases.len(),
        full.as_secs_f64()
    );

    // Killed while reading and paying (50 ms, 300 ms), then while writing the ledger: right
    // at the start of the write, a quarter, half and three quarters into it.
    let write = Duration::from_secs_f64(write_secs);
    let points = [
        (Duration::from_millis(50), false),
        (Duration::from_millis(300), false),
        (Duration::ZERO, true),
        (write / 4, true),
        (write / 2, true),
        (write * 3 / 4, true),
    ];
    let mut killed_while_writing = 0;
    for (delay, after_mark) in points {
        let k = settle_and_kill(d, &db, &large, delay, after_mark);
        let now = month_state(&db, "2025-06");
        eprintln!(
            "kill {delay:?} after {}: {}",
            if after_mark {
                "the write began"
            } else {
                "the start"
            },
            if k.finished {
                "the run had finished"
            } else if now == before {
                "the previous month is intact"
            } else {
                "the new month is complete (killed after the commit)"
            }
        );
        if k.finished {
            // Too late to be a crash: the run committed. Put the month back.
            assert_eq!(now, reference, "a finished run left another month");
            settle_forced(d, &db, "2025-06", &d.cases); // 201k cases back to 1,663: forced
            continue;
        }
        if now == before {
            if k.writing {
                killed_while_writing += 1;
            }
        } else {
            // Killed between the commit and the exit: the new month, whole.
            assert_eq!(
                now, reference,
                "a kill after {delay:?} left a month that is neither the old nor the new one"
            );
            settle_forced(d, &db, "2025-06", &d.cases);
        }
        assert_statements_add_up(&month_state(&db, "2025-06"));
    }
    assert!(
        killed_while_writing >= 2,
        "only {killed_while_writing} kill(s) landed inside the write: the test proved too little"
    );
    assert_eq!(month_state(&db, "2025-06"), before);

    // The re-run completes and gives the reference month; once more, identical again.
    settle(d, &db, "2025-06", &large);
    let after = month_state(&db, "2025-06");
    assert_eq!(after, reference);
    assert_statements_add_up(&after);
    settle(d, &db, "2025-06", &large);
    let again = month_state(&db, "2025-06");
    assert_eq!(total(&again.statements), total(&reference.statements));
    assert_eq!(again, after);
}

/// The audit actions recorded on `subject`.
fn audit_actions(db: &str, subject: &str) -> Vec<drgdip_settle::Action> {
    block_on(async {
        let store = Store::open(db).await.unwrap();
        let log = store.audit_of(subject).await.unwrap();
        store.close().await;
        log.into_iter().map(|r| r.event.action).collect()
    })
}

/// A truncated upload (the first 100 rows of the dev file) must never replace a settled
/// month: `settle` refuses with the numbers and audits the refusal; `--force` replaces it and
/// audits that it was forced.
fn truncated_upload_is_refused(d: &Data, db: &str) {
    use drgdip_settle::Action;
    settle(d, db, "2025-06", &d.cases);
    let before = month_state(db, "2025-06");
    assert_eq!(before.cases.len(), 1663);

    let dir = tempdir("truncated");
    let text = std::fs::read_to_string(&d.cases).unwrap();
    let truncated = dir.join("cases-truncated.csv");
    let head: Vec<&str> = text.lines().take(101).collect();
    std::fs::write(&truncated, head.join("\n") + "\n").unwrap();

    let args = settle_args(d, db, "2025-06", &truncated);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = drgdip(&d.shared, &args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("refused to replace 2025-06: "), "{stderr}");
    assert!(stderr.contains("re-run with --force"), "{stderr}");
    // The numbers: a hospital with its settled count and the re-run's.
    let h = &before.statements[0];
    let kept = before
        .cases
        .iter()
        .filter(|c| c.hospital_id == h.hospital_id)
        .filter(|c| {
            head.iter()
                .skip(1)
                .any(|l| l.starts_with(&format!("{},", c.case_id)))
        })
        .count();
    assert!(
        stderr.contains(&format!(
            "{} has {} settled case(s), the re-run {kept} (fewer than half)",
            h.hospital_id, h.cases
        )),
        "{stderr}"
    );
    assert_eq!(month_state(db, "2025-06"), before, "the month was touched");
    let subject = format!("{}/2025-06", h.hospital_id);
    assert_eq!(
        audit_actions(db, &subject).last(),
        Some(&Action::MonthReplacementRefused)
    );

    let mut forced: Vec<&str> = args.clone();
    forced.push("--force");
    run_ok(&d.shared, &forced);
    let after = month_state(db, "2025-06");
    // The forced month holds the June rows of the truncated file.
    let june_rows = head
        .iter()
        .skip(1)
        .filter(|l| l.contains(",2025-06-"))
        .count();
    assert_eq!(after.cases.len(), june_rows);
    assert!(audit_actions(db, &subject).contains(&Action::MonthReplacementForced));
    assert_statements_add_up(&after);
}

/// Only hospitals that applied are decided, from an applications file whose every bad row is
/// named by line, field and value (nothing is decided then).
#[test]
fn a_bad_applications_file_is_refused_row_by_row() {
    let Some(d) = data() else { return };
    let dir = tempdir("applications");
    let db = sqlite_url(&dir, "ledger.db");
    let applications = dir.join("applications.csv");
    std::fs::write(
        &applications,
        "hospital_id,applied_on,requested_amount\nH001,2025-01-06,\nH999,2025-01-06,\nH002,06/01/2025,\nH001,2025-01-07,1e6\n",
    )
    .unwrap();
    let o = drgdip(
        &d.shared,
        &[
            "prepay",
            "decide",
            "--year",
            "2025",
            "--db",
            &db,
            "--params",
            s(&d.params),
            "--hospitals",
            s(&d.hospitals),
            "--weights",
            s(&weights(&d)),
            "--previous-year",
            s(&d.history),
            "--applications",
            s(&applications),
        ],
    );
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    for line in [
        "4 problem(s):",
        "line 3, field hospital_id, value \"H999\": not in the hospitals file",
        "line 4, field applied_on, value \"06/01/2025\": expected a date YYYY-MM-DD",
        "line 5, field hospital_id, value \"H001\": applies twice (first on line 2)",
        "line 5, field requested_amount, value \"1e6\": expected an amount in CNY > 0 with at most 2 decimals",
    ] {
        assert!(err.contains(line), "{line}\n{err}");
    }
    let list = drgdip(
        &d.shared,
        &["prepay", "list", "--year", "2025", "--db", &db],
    );
    assert!(!list.status.success(), "nothing was decided");
}

#[test]
fn a_truncated_upload_never_replaces_a_settled_month() {
    let Some(d) = data() else { return };
    let dir = tempdir("truncation");
    truncated_upload_is_refused(&d, &sqlite_url(&dir, "ledger.db"));
    if let Some(base) = pg_base("the truncation test") {
        let (schema, url) = pg_schema(&base, "truncated");
        truncated_upload_is_refused(&d, &url);
        drop_pg_schema(&base, &schema);
    }
}

// -------------------------------------------------------------------------------------------
// A whole year

/// Checks the books of `year` in `db`: every month's statements are the sums of their cases,
/// and every clearing statement follows the clearing identity to the fen.
fn assert_books_balance(db: &str, year: i32, expected_cases: usize) -> Vec<ClearingStatement> {
    block_on(async {
        let store = Store::open(db).await.unwrap();
        let cases = store
            .settled_cases_in(Period::Year(year), None)
            .await
            .unwrap();
        assert_eq!(cases.len(), expected_cases);
        let statements = store.statements_in(Period::Year(year), None).await.unwrap();
        for m in 1..=12 {
            let month = YearMonth::new(year, m).unwrap();
            let state = MonthState {
                statements: statements
                    .iter()
                    .filter(|s| s.month == month)
                    .cloned()
                    .collect(),
                cases: cases
                    .iter()
                    .filter(|c| c.discharge_month == month)
                    .cloned()
                    .collect(),
            };
            assert!(!state.cases.is_empty(), "{month}");
            assert_statements_add_up(&state);
            // Σ statements = Σ case fund_due (published lines), month by month.
            let cases_due: Decimal = state.cases.iter().map(|c| round_fen(c.fund_due)).sum();
            assert_eq!(total(&state.statements), cases_due, "{month}");
        }
        let prepayments = store.prepayments(year).await.unwrap();
        let clearings = store.clearings(year, None).await.unwrap();
        assert!(!clearings.is_empty());
        let (mut paid, mut fin, mut pre, mut settled) =
            (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
        for c in &clearings {
            let h = c.hospital_id.as_str();
            let mine: Vec<&SettledCase> = cases.iter().filter(|x| x.hospital_id == h).collect();
            let months: Vec<&MonthlyStatement> =
                statements.iter().filter(|s| s.hospital_id == h).collect();
            assert_eq!(c.cases as usize, mine.len(), "{h}");
            assert_eq!(
                c.entitled,
                mine.iter().map(|x| round_fen(x.fund_due)).sum::<Decimal>(),
                "{h}"
            );
            // item_fund: the local and in-province cases (cross-province ones are outside)
            assert_eq!(
                c.item_fund,
                mine.iter()
                    .filter(|x| x.in_local_pool())
                    .map(|x| round_fen(x.fund_paid))
                    .sum::<Decimal>(),
                "{h}"
            );
            assert_eq!(
                c.paid_monthly,
                months.iter().map(|s| s.amount_due).sum::<Decimal>(),
                "{h}"
            );
            assert_eq!(
                c.deposits_released,
                months.iter().map(|s| s.deposit_withheld).sum::<Decimal>(),
                "{h}"
            );
            let prepayment = prepayments
                .iter()
                .find(|p| p.hospital_id == h)
                .map_or(Decimal::ZERO, |p| p.amount);
            assert_eq!(c.prepayment_outstanding, prepayment, "{h}");
            // The clearing identity, and its reconciliation.
            assert_eq!(c.settled, c.entitled + c.retained_or_shared, "{h}");
            assert_eq!(
                c.final_amount,
                c.entitled + c.retained_or_shared - c.paid_monthly - c.prepayment_outstanding,
                "{h}"
            );
            assert_eq!(
                c.final_amount,
                c.deposits_released + c.unpaid_monthly + c.year_end_difference
                    - c.prepayment_outstanding,
                "{h}"
            );
            for amount in [c.entitled, c.item_fund, c.settled, c.final_amount] {
                assert_eq!(amount, round_fen(amount), "{h}: every figure to the fen");
            }
            paid += c.paid_monthly;
            fin += c.final_amount;
            pre += c.prepayment_outstanding;
            settled += c.settled;
        }
        // What the fund pays for the year, in all: monthly + prepayment + final = settled.
        assert_eq!(paid + pre + fin, settled);
        store.close().await;
        clearings
    })
}

#[test]
fn a_year_of_dev_cases_settled_month_by_month_and_cleared_balances_to_the_fen() {
    let Some(d) = data() else { return };
    let dir = tempdir("year");
    let db = sqlite_url(&dir, "ledger.db");
    let mut fund_due = Decimal::ZERO;
    for m in 1..=12 {
        let out = settle(&d, &db, &format!("2025-{m:02}"), &d.cases);
        let line = out.lines().last().unwrap();
        let due: Decimal = line
            .split("fund_due_total ")
            .nth(1)
            .and_then(|t| t.split(',').next())
            .unwrap()
            .parse()
            .unwrap();
        fund_due += due;
    }

    // Prepayments for 2025 from the 2024 cases, recovered at the clearing. Only the hospitals
    // that applied are decided (H039 and H040 did not); H010's uplift to 1.5 months is
    // approved; the fund spares 2% of its opening balance (fund-2025.csv: 1,860,000,000.00).
    let applications = dir.join("applications.csv");
    let mut text = String::from(
        "hospital_id,applied_on,requested_amount,uplift_months,approved_by,approved_on,approval_reference\n",
    );
    for i in 1..=38 {
        if i == 10 {
            text.push_str("H010,2025-01-06,,1.5,示例统筹区医保局,2025-01-20,示医保〔2025〕7号\n");
        } else {
            text.push_str(&format!("H{i:03},2025-01-{:02},,,,,\n", 2 + i % 20));
        }
    }
    std::fs::write(&applications, text).unwrap();
    let capped = common::fixture::params(&d.shared, &dir, "params-prepay.toml");
    let with_cap = std::fs::read_to_string(&capped).unwrap().replacen(
        "recovered_at = \"clearing\"",
        "recovered_at = \"clearing\"\ncap_share_of_balance = \"0.02\"",
        1,
    );
    std::fs::write(&capped, with_cap).unwrap();
    let fund = d.shared.join("testdata/chs-drg-2.0/fund-2025.csv");
    let weights_file = weights(&d);
    let decide_with = |params: &Path, fund: Option<&Path>| -> Vec<String> {
        let mut args: Vec<String> = [
            "prepay",
            "decide",
            "--year",
            "2025",
            "--db",
            &db,
            "--params",
            s(params),
            "--hospitals",
            s(&d.hospitals),
            "--weights",
            s(&weights_file),
            "--previous-year",
            s(&d.history),
            "--applications",
            s(&applications),
        ]
        .iter()
        .map(|a| a.to_string())
        .collect();
        if let Some(f) = fund {
            args.extend(["--fund".to_string(), s(f).to_string()]);
        }
        args
    };
    let run_decide = |args: Vec<String>| {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        drgdip(&d.shared, &args)
    };
    let stdout = |o: &std::process::Output| {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).to_string()
    };
    // first without a cap (the shipped parameters): every eligible applicant is granted its
    // amount, H010 with its approved uplift
    let list = stdout(&run_decide(decide_with(&d.params, None)));
    assert!(
        list.contains("public list of prepayments (预付金公示) 2025: 30 granted, 8 refused"),
        "{list}"
    );
    let h010 = list.lines().find(|l| l.starts_with("H010")).unwrap();
    assert!(
        h010.contains("uplift (经批准提高): 1.5 months approved by 示例统筹区医保局 on 2025-01-20 (示医保〔2025〕7号); 1.5 months × average monthly fund payment of 2024"),
        "{h010}"
    );
    assert!(
        !list.lines().any(|l| l.starts_with("H039")),
        "H039 did not apply"
    );
    // then again under what the fund can spare, which needs the fund's balance
    let no_fund = run_decide(decide_with(&capped, None));
    assert!(!no_fund.status.success());
    let why = String::from_utf8_lossy(&no_fund.stderr);
    assert!(why.contains("give --fund FILE"), "{why}");
    let list = stdout(&run_decide(decide_with(&capped, Some(&fund))));
    assert!(
        list.contains("what the fund can spare: 37200000.00 (prepayment.cap_share_of_balance 0.02 × the fund's opening balance 1860000000.00 = 37200000.00)"),
        "{list}"
    );
    assert!(
        list.contains("recovered: the clearing of 2025 has not run yet"),
        "{list}"
    );
    // H007 has credit C, H003 one year under agreement: refused.
    let h007 = list.lines().find(|l| l.starts_with("H007")).unwrap();
    assert!(h007.contains("credit rating C"), "{h007}");
    let public = dir.join("public.csv");
    run_ok(
        &d.shared,
        &[
            "prepay",
            "list",
            "--year",
            "2025",
            "--db",
            &db,
            "-o",
            s(&public),
        ],
    );
    let rows = read_csv(&public);
    assert_eq!(rows.len(), 38, "the applicants");
    let granted: Decimal = rows
        .iter()
        .map(|r| r["granted"].parse::<Decimal>().unwrap())
        .sum();
    assert!(granted <= Decimal::new(3_720_000_000, 2), "{granted}");
    // 8 applicants fail a condition (credit C or under 2 years); the others are eligible and
    // served in priority order until the 37,200,000.00 are spent
    let refused_by_rule = rows
        .iter()
        .filter(|r| {
            r["eligible"] == "false"
                && (r["reason"].contains("credit rating") || r["reason"].ends_with("2 required"))
        })
        .count();
    assert_eq!(refused_by_rule, 8);
    let by_cap = rows
        .iter()
        .filter(|r| r["reason"].contains("went to applicants of higher priority"))
        .count();
    let eligible = rows.iter().filter(|r| r["eligible"] == "true").count();
    assert_eq!(refused_by_rule + by_cap + eligible, 38);
    if by_cap > 0 {
        assert_eq!(
            granted,
            Decimal::new(3_720_000_000, 2),
            "a binding cap is spent"
        );
    }
    // the first by priority: H024 (uploads traceability codes, credit A, 14 years), whole;
    // H002 (the same, 7 years) sixth
    let rank = |id: &str| {
        let r = rows.iter().find(|r| r["hospital_id"] == id).unwrap();
        assert_eq!(r["recovered"], "", "not cleared yet");
        r["reason"].clone()
    };
    assert!(
        rank("H024").contains("priority 1 of 30"),
        "{}",
        rank("H024")
    );
    assert!(
        rank("H002").contains("priority 6 of 30"),
        "{}",
        rank("H002")
    );

    let report = dir.join("clearing.txt");
    let csv_path = dir.join("clearing.csv");
    let clear_args = [
        "clear",
        "--year",
        "2025",
        "--db",
        &db,
        "--params",
        s(&d.params),
        "--hospitals",
        s(&d.hospitals),
        "--output",
        s(&report),
        "--csv",
        s(&csv_path),
    ];
    let (out, _) = run_ok(&d.shared, &clear_args);
    assert_eq!(out.matches(": ok\n").count(), 3, "{out}");
    assert!(!out.contains("DOES NOT BALANCE"), "{out}");
    let text = std::fs::read_to_string(&report).unwrap();
    assert!(
        text.contains("annual clearing (年度清算) H001 2025\n 1. entitled"),
        "{text}"
    );
    assert!(text.contains("prepayment recovered (预付金收回)"), "{text}");

    // the cross-province cases, reported apart
    let outside = block_on(async {
        let store = Store::open(&db).await.unwrap();
        let cases = store
            .settled_cases_in(Period::Year(2025), None)
            .await
            .unwrap();
        store.close().await;
        let out: Vec<SettledCase> = cases.into_iter().filter(|c| !c.in_local_pool()).collect();
        out
    });
    assert!(!outside.is_empty());
    let outside_cost: Decimal = outside.iter().map(|c| round_fen(c.total_cost)).sum();
    let outside_due: Decimal = outside.iter().map(|c| round_fen(c.fund_due)).sum();
    let line = format!(
        "cross-province (跨省异地), outside the local clearing: {} cases, per-item cost {outside_cost}, fund due {outside_due} (in Σ entitled as settled, outside every balance)",
        outside.len()
    );
    assert!(out.contains(&line), "{out}");

    let clearings = assert_books_balance(&db, 2025, 20_000);
    assert_eq!(clearings.len(), 40);
    let csv_outside: u64 = read_csv(&csv_path)
        .iter()
        .map(|r| r["cross_province_cases"].parse::<u64>().unwrap())
        .sum();
    assert_eq!(csv_outside, outside.len() as u64);

    // the public list after the clearing: what was recovered ties out with what was granted
    let (list, _) = run_ok(
        &d.shared,
        &[
            "prepay",
            "list",
            "--year",
            "2025",
            "--db",
            &db,
            "-o",
            s(&public),
        ],
    );
    assert!(
        list.contains(&format!(
            "recovered at the clearing of 2025: {granted} of {granted} granted: ties out"
        )),
        "{list}"
    );
    for r in read_csv(&public) {
        assert_eq!(r["recovered"], r["granted"], "{r:?}");
        assert_eq!(r["outstanding"], "0.00", "{r:?}");
        let c = clearings
            .iter()
            .find(|c| c.hospital_id == r["hospital_id"])
            .unwrap();
        assert_eq!(Fen(c.prepayment_outstanding).to_string(), r["granted"]);
    }
    let entitled: Decimal = clearings.iter().map(|c| c.entitled).sum();
    assert_eq!(
        entitled, fund_due,
        "Σ entitled = Σ of the twelve months' fund_due_total"
    );
    let rows = read_csv(&csv_path);
    assert_eq!(rows.len(), 40);
    let csv_final: Decimal = rows
        .iter()
        .map(|r| r["final"].parse::<Decimal>().unwrap())
        .sum();
    assert_eq!(
        csv_final,
        clearings.iter().map(|c| c.final_amount).sum::<Decimal>()
    );

    // The clearing closed the year: clearing again, or re-settling a month, is refused
    // until the year is reopened (audited); then clearing again gives the same statements
    // and the audit log has one entry per clearing.
    let refused = drgdip(&d.shared, &clear_args);
    assert_eq!(refused.status.code(), Some(2));
    let why = String::from_utf8_lossy(&refused.stderr);
    assert!(why.contains("2025 is cleared and closed"), "{why}");
    let resettle = drgdip(
        &d.shared,
        &[
            "settle",
            "--month",
            "2025-03",
            "--db",
            &db,
            "--params",
            s(&d.params),
            "--hospitals",
            s(&d.hospitals),
            "--weights",
            s(&weights(&d)),
            "--input",
            s(&d.cases),
            "-q",
        ],
    );
    assert_eq!(resettle.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&resettle.stderr).contains("reopen it first"));
    let (reopened, _) = run_ok(
        &d.shared,
        &[
            "ledger",
            "reopen",
            "--year",
            "2025",
            "--reason",
            "test: clear again",
            "--db",
            &db,
        ],
    );
    assert!(reopened.starts_with("reopened 2025"), "{reopened}");
    run_ok(&d.shared, &clear_args);
    block_on(async {
        let store = Store::open(&db).await.unwrap();
        assert_eq!(store.clearings(2025, None).await.unwrap(), clearings);
        let trail = store.audit_of("H001/2025").await.unwrap();
        let issued: Vec<_> = trail
            .iter()
            .filter(|r| r.event.action == drgdip_settle::Action::ClearingStatementIssued)
            .collect();
        assert_eq!(issued.len(), 2);
        assert_eq!(issued[1].event.before, issued[1].event.after);
    });

    // deposits released by performance (clearing.deposit_release = "performance"): each
    // hospital gets withheld × score / 100 back, the fund keeps the rest, and the books close
    run_ok(
        &d.shared,
        &[
            "ledger",
            "reopen",
            "--year",
            "2025",
            "--reason",
            "test: deposits by performance",
            "--db",
            &db,
        ],
    );
    let by_score = common::fixture::params(&d.shared, &dir, "params-deposit.toml");
    let text = std::fs::read_to_string(&by_score).unwrap().replacen(
        "performance_weight = true",
        "deposit_release = \"performance\"\nperformance_weight = true",
        1,
    );
    std::fs::write(&by_score, text).unwrap();
    let mut args = clear_args.to_vec();
    args[6] = s(&by_score);
    assert_eq!(clear_args[5], "--params");
    let (out, _) = run_ok(&d.shared, &args);
    assert_eq!(out.matches(": ok\n").count(), 3, "{out}");
    let report = std::fs::read_to_string(&report).unwrap();
    assert!(
        report.contains("deposits released (质量保证金返还) by performance = withheld"),
        "{report}"
    );
    let hospitals = read_csv(&d.hospitals);
    let again = block_on(async {
        let store = Store::open(&db).await.unwrap();
        let c = store.clearings(2025, None).await.unwrap();
        store.close().await;
        c
    });
    let mut kept = Decimal::ZERO;
    for (c, before) in again.iter().zip(&clearings) {
        let score: Decimal = hospitals
            .iter()
            .find(|h| h["hospital_id"] == c.hospital_id)
            .unwrap()["performance_score"]
            .parse()
            .unwrap();
        assert_eq!(c.deposits_withheld, before.deposits_withheld);
        assert_eq!(
            c.deposits_released,
            round_fen(c.deposits_withheld * score / Decimal::ONE_HUNDRED),
            "{}",
            c.hospital_id
        );
        assert_eq!(c.deposits_released + c.deposits_kept, c.deposits_withheld);
        assert_eq!(
            c.final_amount,
            before.final_amount - c.deposits_kept,
            "{}",
            c.hospital_id
        );
        kept += c.deposits_kept;
    }
    assert!(kept > Decimal::ZERO);
}

// -------------------------------------------------------------------------------------------
// PostgreSQL

#[test]
fn postgres_keeps_the_same_ledger_as_sqlite() {
    let Some(d) = data() else { return };
    let Some(base) = pg_base("the year's ledger comparison") else {
        return;
    };
    let dir = tempdir("postgres");
    let lite = sqlite_url(&dir, "ledger.db");
    let (schema, pg) = pg_schema(&base, "year");
    for db in [&lite, &pg] {
        for m in 1..=12 {
            settle(&d, db, &format!("2025-{m:02}"), &d.cases);
        }
        settle(&d, db, "2025-06", &d.cases); // a re-run
        run_ok(
            &d.shared,
            &[
                "clear",
                "--year",
                "2025",
                "--db",
                db,
                "--params",
                s(&d.params),
                "--hospitals",
                s(&d.hospitals),
                "-q",
            ],
        );
    }
    let read = |db: &str| {
        block_on(async {
            let store = Store::open(db).await.unwrap();
            let r = (
                store.statements(None, None).await.unwrap(),
                store.settled_cases(None, None).await.unwrap(),
                store.clearings(2025, None).await.unwrap(),
                store.backend(),
            );
            store.close().await;
            r
        })
    };
    let (s_lite, c_lite, k_lite, b_lite) = read(&lite);
    let (s_pg, c_pg, k_pg, b_pg) = read(&pg);
    assert_eq!((b_lite, b_pg), ("sqlite", "postgres"));
    assert_eq!(s_pg, s_lite);
    assert_eq!(c_pg, c_lite);
    assert_eq!(k_pg, k_lite);
    assert_books_balance(&pg, 2025, 20_000);
    drop_pg_schema(&base, &schema);
}

/// 特例单议 flows into settlement: cases approved in a reviewed application are paid as
/// `special` when the month is settled again (per item, or the standard plus the extra points).
#[test]
fn approved_special_cases_are_paid_as_special_on_the_next_settlement() {
    use drgdip_pay::params::Method;
    use drgdip_settle::special_case::{
        ApplicationRequest, CaseOpinion, Outcome, QuotaBase, ReasonKind,
    };
    use drgdip_settle::{Actor, Application};

    let Some(d) = data() else { return };
    let dir = tempdir("special");
    let db = sqlite_url(&dir, "ledger.db");
    settle(&d, &db, "2025-06", &d.cases);
    let before = month_state(&db, "2025-06");
    let mut h001: Vec<&SettledCase> = before
        .cases
        .iter()
        .filter(|c| c.hospital_id == "H001" && c.category == drgdip_pay::Category::Normal)
        .collect();
    h001.sort_by(|a, b| a.case_id.cmp(&b.case_id));
    let (k1, k2) = (h001[0].clone(), h001[1].clone());
    let text = std::fs::read_to_string(&d.params).unwrap();
    let params =
        drgdip_pay::Params::from_toml_str_with_schemes(&text, &["chs-drg-2.0", "fujian-2024"])
            .unwrap();
    let hospital = Actor::hospital("u-1", "H001");
    let mut app = Application::submit(
        &hospital,
        ApplicationRequest {
            id: "SC-T1".into(),
            hospital_id: "H001".into(),
            period: "2025Q2".parse().unwrap(),
            case_ids: vec![k1.case_id.clone(), k2.case_id.clone()],
            reason: ReasonKind::parse("high_cost").unwrap(),
            text: "long stay, expensive devices".into(),
            records: Default::default(),
        },
        &params,
        QuotaBase {
            method: Method::Drg,
            region_settled: before.cases.len() as u64,
            hospital_settled: h001.len() as u64,
            region_applied: 0,
            hospital_applied: 0,
        },
    )
    .unwrap()
    .value;
    // the tokens follow the case ids' order: k1 is SC-T1-01, k2 SC-T1-02
    let opinion = |case: &str, outcome| CaseOpinion {
        case: case.to_string(),
        outcome,
        reason: "agreed by the panel".into(),
    };
    let experts = drgdip_settle::Experts::parse(
        "expert_id,name,discipline,hospital_id\nr-1,a,x,\nr-2,b,x,\nr-3,c,x,\n",
    )
    .unwrap();
    let rules = drgdip_settle::ReviewRules::new(&params, &experts);
    let bureau = Actor::bureau("b-1");
    app.assign_first_reviewers(&bureau, &["r-1", "r-3"], &rules)
        .unwrap();
    for r in ["r-1", "r-3"] {
        app.record_first_review(
            &Actor::reviewer(r),
            vec![
                opinion("SC-T1-01", Outcome::ApprovedPerItem),
                opinion("SC-T1-02", Outcome::ApprovedPerItem),
            ],
            &rules,
        )
        .unwrap();
    }
    app.assign_second_reviewer(&bureau, "r-2", &rules).unwrap();
    app.record_second_review(
        &Actor::reviewer("r-2"),
        vec![
            opinion("SC-T1-01", Outcome::ApprovedPerItem),
            opinion(
                "SC-T1-02",
                Outcome::ApprovedExtraPoints {
                    points: Decimal::from(50),
                },
            ),
        ],
        &rules,
    )
    .unwrap();
    block_on(async {
        let store = Store::open(&db).await.unwrap();
        store.save_application(&app, &[]).await.unwrap();
        store.close().await;
    });

    settle(&d, &db, "2025-06", &d.cases);
    let after = month_state(&db, "2025-06");
    let find = |id: &str| {
        after
            .cases
            .iter()
            .find(|c| c.case_id == id)
            .unwrap()
            .clone()
    };
    let (a1, a2) = (find(&k1.case_id), find(&k2.case_id));
    assert_eq!(a1.category, drgdip_pay::Category::Special);
    assert_eq!(
        a1.payment, a1.total_cost,
        "per item: paid the per-item cost"
    );
    assert_eq!(a2.category, drgdip_pay::Category::Special);
    assert!(a2.payment > k2.payment, "extra points raise the payment");
    // every other case is paid as before
    let unchanged = after
        .cases
        .iter()
        .filter(|c| c.case_id != k1.case_id && c.case_id != k2.case_id)
        .zip(
            before
                .cases
                .iter()
                .filter(|c| c.case_id != k1.case_id && c.case_id != k2.case_id),
        )
        .all(|(a, b)| a == b);
    assert!(unchanged);
}
