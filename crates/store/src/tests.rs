//! The store's round trips, on SQLite (a temporary file) and — when `DRGDIP_TEST_PG_URL`
//! is set — on PostgreSQL, in a schema of its own that is dropped afterwards.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use drgdip_pay::params::Method;
use drgdip_pay::{Category, Hospital, Params};
use drgdip_settle::special_case::{CaseOpinion, Command, Outcome, QuotaBase, ReasonKind};
use drgdip_settle::{
    clear_year, decide_prepayment, settle_month, ApplicationRequest, ClearingInput, Date,
    FinalPricing, MonthlyRecord, ReviewState, WorkCalendar,
};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::*;

const PARAMS_TOML: &str = r#"
[region]
code = "350100"
name = "store test region"
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

fn date(text: &str) -> Date {
    text.parse().unwrap()
}

fn hospital(id: &str, credit: &str, score: Decimal, years: u32) -> Hospital {
    Hospital {
        hospital_id: id.into(),
        name: format!("hospital {id}"),
        level: 3,
        credit_rating: credit.into(),
        performance_score: score,
        agreement_years: years,
        traceability_code_upload: false,
        kind: None,
        extra: Default::default(),
    }
}

/// A case: total_cost 20000, own 3000, fund_paid 17000, payment 15000, `fund_due` given.
fn case(
    id: &str,
    hospital: &str,
    month: &str,
    category: Category,
    fund_due: Decimal,
) -> SettledCase {
    SettledCase {
        case_id: id.into(),
        hospital_id: hospital.into(),
        discharge_month: ym(month),
        category,
        payment: dec!(15000),
        own: dec!(3000),
        fund_due,
        fund_paid: dec!(17000),
        total_cost: dec!(20000),
        weight: Some(dec!(1.2345)),
        dip_score: None,
        pricing: Default::default(),
    }
}

fn settle(month: &str, cases: &[SettledCase]) -> (Vec<MonthlyStatement>, Vec<AuditEvent>) {
    let m = ym(month);
    let deadline = m.last_day().succ().succ().succ().succ().succ();
    let run = settle_month(
        cases,
        &params(),
        m,
        deadline,
        &WorkCalendar::weekdays_only(),
        &Actor::system("run-test"),
    )
    .unwrap();
    (run.value, run.events)
}

/// A clock that starts at 2025-07-01T00:00:00Z and steps one second per reading.
fn stepping_clock() -> Clock {
    let tick = Arc::new(AtomicU64::new(0));
    Arc::new(move || {
        UNIX_EPOCH + Duration::from_secs(1_751_328_000 + tick.fetch_add(1, Ordering::SeqCst))
    })
}

// -------------------------------------------------------------------------------------------
// Backends

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A fresh SQLite file under the system's temporary directory, removed on drop.
struct SqliteFile(std::path::PathBuf);

impl SqliteFile {
    fn new(name: &str) -> SqliteFile {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let p = std::env::temp_dir().join(format!(
            "drgdip-store-test-{}-{n}-{name}.db",
            std::process::id()
        ));
        let file = SqliteFile(p);
        file.remove();
        file
    }

    fn url(&self) -> String {
        format!("sqlite://{}", self.0.display())
    }

    fn remove(&self) {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
        }
    }
}

impl Drop for SqliteFile {
    fn drop(&mut self) {
        self.remove();
    }
}

/// A PostgreSQL schema of its own for one test, dropped at the end.
struct PgSchema {
    base: String,
    schema: String,
}

impl PgSchema {
    async fn new(base: &str, name: &str) -> PgSchema {
        use sqlx::Connection;
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let schema = format!("drgdip_test_{}_{n}_{name}", std::process::id());
        let mut conn = sqlx::PgConnection::connect(base).await.unwrap();
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&mut conn)
            .await
            .unwrap();
        PgSchema {
            base: base.to_string(),
            schema,
        }
    }

    fn url(&self) -> String {
        let sep = if self.base.contains('?') { '&' } else { '?' };
        format!(
            "{}{sep}options=-c%20search_path%3D{}",
            self.base, self.schema
        )
    }

    async fn drop_schema(self) {
        use sqlx::Connection;
        let mut conn = sqlx::PgConnection::connect(&self.base).await.unwrap();
        sqlx::query(&format!("DROP SCHEMA {} CASCADE", self.schema))
            .execute(&mut conn)
            .await
            .unwrap();
    }
}

/// Runs `suite` on a fresh SQLite file, then on PostgreSQL if `DRGDIP_TEST_PG_URL` is set.
async fn on_every_backend<F, Fut>(name: &str, suite: F)
where
    F: Fn(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    let file = SqliteFile::new(name);
    let store = Store::open(&file.url()).await.unwrap();
    assert_eq!(store.backend(), "sqlite");
    suite(store.with_clock(stepping_clock())).await;

    match std::env::var("DRGDIP_TEST_PG_URL") {
        Ok(base) if !base.is_empty() => {
            let schema = PgSchema::new(&base, name).await;
            let store = Store::open(&schema.url()).await.unwrap();
            assert_eq!(store.backend(), "postgres");
            suite(store.clone().with_clock(stepping_clock())).await;
            store.close().await;
            schema.drop_schema().await;
        }
        _ => eprintln!("note: DRGDIP_TEST_PG_URL not set: {name} not run on PostgreSQL"),
    }
}

// -------------------------------------------------------------------------------------------
// Tests

#[tokio::test]
async fn a_month_round_trips_exactly() {
    on_every_backend("month", |store| async move {
        let mut cases = vec![
            case("C2", "H001", "2025-06", Category::High, dec!(12000.004)),
            case("C1", "H001", "2025-06", Category::Normal, dec!(8000)),
            case("C3", "H002", "2025-06", Category::Low, dec!(333.33)),
        ];
        cases[2].weight = None;
        let (statements, events) = settle("2025-06", &cases);
        store
            .replace_month(ym("2025-06"), &cases, &statements, &events)
            .await
            .unwrap();

        assert_eq!(store.months().await.unwrap(), vec![ym("2025-06")]);
        assert_eq!(store.statements(None, None).await.unwrap(), statements);
        assert_eq!(
            store
                .statements(Some(ym("2025-06")), Some("H002"))
                .await
                .unwrap(),
            vec![statements[1].clone()]
        );
        assert!(store
            .statements(Some(ym("2025-05")), None)
            .await
            .unwrap()
            .is_empty());
        let mut sorted = cases.clone();
        sorted.sort_by(|a, b| (&a.hospital_id, &a.case_id).cmp(&(&b.hospital_id, &b.case_id)));
        let stored = store
            .settled_cases(Some(ym("2025-06")), None)
            .await
            .unwrap();
        assert_eq!(stored, sorted);
        // Exact amounts, not rounded: 12000.004 stays 12000.004.
        assert_eq!(stored[1].fund_due.to_string(), "12000.004");
        assert_eq!(
            store.settled_cases(None, Some("H002")).await.unwrap(),
            vec![sorted[2].clone()]
        );
        let q2 = Period::Quarter {
            year: 2025,
            quarter: 2,
        };
        assert_eq!(store.settled_cases_in(q2, None).await.unwrap().len(), 3);
        assert_eq!(
            store.statements_in(q2, Some("H001")).await.unwrap().len(),
            1
        );
        let q3 = Period::Quarter {
            year: 2025,
            quarter: 3,
        };
        assert!(store.settled_cases_in(q3, None).await.unwrap().is_empty());

        let runs = store.settlement_runs(None).await.unwrap();
        assert_eq!(runs.len(), 1);
        assert_eq!((runs[0].cases, runs[0].statements), (3, 2));
        assert_eq!(runs[0].fund_due_total, dec!(20333.33));
        assert_eq!(runs[0].role, "system");

        let log = store.audit_log(10).await.unwrap();
        assert_eq!(log.len(), 2);
        assert_eq!(log[0].event.subject, "H002/2025-06");
        assert_eq!(log[1].event.subject, "H001/2025-06");
        assert_eq!(log[1].event, events[0]);
        assert!(log[0].seq > log[1].seq);
        assert_eq!(log[0].at, log[1].at, "one write, one time stamp");
        assert!(log[0].at.starts_with("2025-07-01T00:00:"), "{}", log[0].at);
    })
    .await;
}

#[tokio::test]
async fn a_rerun_replaces_the_month_and_records_what_it_replaced() {
    on_every_backend("rerun", |store| async move {
        let june = ym("2025-06");
        let first = vec![
            case("C1", "H001", "2025-06", Category::Normal, dec!(100)),
            case("C2", "H002", "2025-06", Category::Normal, dec!(200)),
            case("C3", "H003", "2025-06", Category::Normal, dec!(300)),
        ];
        let (s1, e1) = settle("2025-06", &first);
        store.replace_month(june, &first, &s1, &e1).await.unwrap();
        // Another month is not touched by a re-run of June.
        let may = vec![case("M1", "H001", "2025-05", Category::Normal, dec!(50))];
        let (s_may, e_may) = settle("2025-05", &may);
        store
            .replace_month(ym("2025-05"), &may, &s_may, &e_may)
            .await
            .unwrap();

        // The same input again: identical statements, no duplicated case.
        store.replace_month(june, &first, &s1, &e1).await.unwrap();
        assert_eq!(store.statements(Some(june), None).await.unwrap(), s1);
        assert_eq!(
            store.settled_cases(Some(june), None).await.unwrap().len(),
            3
        );

        // A corrected input: H001 changes, H003 disappears, H004 appears. H003 losing its
        // month is what a truncated upload looks like: refused, audited, nothing replaced...
        let second = vec![
            case("C1", "H001", "2025-06", Category::Normal, dec!(110)),
            case("C2", "H002", "2025-06", Category::Normal, dec!(200)),
            case("C4", "H004", "2025-06", Category::High, dec!(400)),
        ];
        let (s2, e2) = settle("2025-06", &second);
        let err = store
            .replace_month(june, &second, &s2, &e2)
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "refused to replace 2025-06: H003 has 1 settled case(s), the re-run 0 (fewer than half); nothing was replaced (if the upload is complete, re-run with --force)"
        );
        assert_eq!(store.statements(Some(june), None).await.unwrap(), s1);
        // ...until the operator forces it.
        store
            .replace_month_with(june, &second, &s2, &e2, Replace::Forced)
            .await
            .unwrap();
        assert_eq!(store.statements(Some(june), None).await.unwrap(), s2);
        let ids: Vec<String> = store
            .settled_cases(Some(june), None)
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.case_id)
            .collect();
        assert_eq!(ids, ["C1", "C2", "C4"]);
        assert_eq!(
            store.statements(Some(ym("2025-05")), None).await.unwrap(),
            s_may
        );
        assert_eq!(store.months().await.unwrap(), vec![ym("2025-05"), june]);

        let runs = store.settlement_runs(Some(june)).await.unwrap();
        assert_eq!(runs.len(), 3);
        assert_eq!(
            (runs[2].replaced_cases, runs[2].replaced_statements),
            (3, 3)
        );

        // The last run's trail: H001 re-issued (before = the replaced statement), H002
        // re-issued unchanged, H004 new (no before), H003 withdrawn (no after).
        let h001 = store.audit_of("H001/2025-06").await.unwrap();
        assert_eq!(h001.len(), 3);
        assert_eq!(h001[0].event.before, None);
        assert_eq!(
            h001[1].event.before.as_deref(),
            Some(s1[0].summary().as_str())
        );
        assert_eq!(
            h001[2].event.before.as_deref(),
            Some(s1[0].summary().as_str())
        );
        assert_eq!(
            h001[2].event.after.as_deref(),
            Some(s2[0].summary().as_str())
        );
        let h003 = store.audit_of("H003/2025-06").await.unwrap();
        let actions: Vec<Action> = h003.iter().map(|r| r.event.action).collect();
        assert_eq!(
            actions,
            [
                Action::MonthlyStatementIssued,
                Action::MonthlyStatementIssued,
                Action::MonthReplacementRefused,
                Action::MonthReplacementForced,
                Action::MonthlyStatementIssued,
            ]
        );
        for refusal_or_force in &h003[2..4] {
            assert_eq!(refusal_or_force.event.before.as_deref(), Some("cases=1"));
            assert_eq!(refusal_or_force.event.after.as_deref(), Some("cases=0"));
        }
        let h003 = &h003[2..];
        assert_eq!(
            h003[2].event.before.as_deref(),
            Some(s1[2].summary().as_str())
        );
        assert_eq!(h003[2].event.after, None);
        assert!(
            h003[2].event.reason.contains("withdrawn"),
            "{}",
            h003[2].event
        );
        assert_eq!(h003[2].event.actor, "run-test");
        let h004 = store.audit_of("H004/2025-06").await.unwrap();
        assert_eq!((h004.len(), h004[0].event.before.as_ref()), (1, None));
    })
    .await;
}

#[tokio::test]
async fn an_inconsistent_month_is_refused_and_nothing_changes() {
    on_every_backend("refused", |store| async move {
        let june = ym("2025-06");
        let cases = vec![case("C1", "H001", "2025-06", Category::Normal, dec!(100))];
        let (s, e) = settle("2025-06", &cases);
        store.replace_month(june, &cases, &s, &e).await.unwrap();
        let log = store.audit_log(100).await.unwrap();

        let other = vec![case("C9", "H001", "2025-05", Category::Normal, dec!(1))];
        let err = store
            .replace_month(june, &other, &[], &[])
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)), "{err}");
        let twice = vec![cases[0].clone(), cases[0].clone()];
        let err = store.replace_month(june, &twice, &s, &e).await.unwrap_err();
        assert!(err.to_string().contains("more than once"), "{err}");
        let err = store
            .replace_month(ym("2025-07"), &[], &s, &e)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("not of the month"), "{err}");

        assert_eq!(store.statements(None, None).await.unwrap(), s);
        assert_eq!(store.settled_cases(None, None).await.unwrap(), cases);
        assert_eq!(store.audit_log(100).await.unwrap(), log);
        assert_eq!(store.settlement_runs(None).await.unwrap().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn clearing_and_prepayment_round_trip_and_replace() {
    on_every_backend("clearing", |store| async move {
        let p = params();
        let h1 = hospital("H001", "A", dec!(85.9), 8);
        let h2 = hospital("H002", "C", dec!(70), 1);
        let cases1 = vec![case("C1", "H001", "2025-06", Category::Normal, dec!(18000))];
        let cases2 = vec![case("C2", "H002", "2025-06", Category::Normal, dec!(15000))];
        let (s, _) = settle("2025-06", &[cases1.clone(), cases2.clone()].concat());
        let input =
            |h: &Hospital, cases: &Vec<SettledCase>, st: &MonthlyStatement, pre| ClearingInput {
                hospital: h.clone(),
                cases: cases.clone(),
                monthly: vec![MonthlyRecord::from(st)],
                prepayment_outstanding: pre,
            };
        let inputs = vec![
            input(&h1, &cases1, &s[0], dec!(0)),
            input(&h2, &cases2, &s[1], dec!(0)),
        ];
        let actor = Actor::bureau("clerk-1");
        let run = clear_year(2025, &inputs, &p, FinalPricing::AsGiven, &actor).unwrap();
        store
            .replace_clearing(2025, &run.value, &run.events)
            .await
            .unwrap();
        assert_eq!(store.clearings(2025, None).await.unwrap(), run.value);
        assert_eq!(
            store.clearings(2025, Some("H002")).await.unwrap(),
            vec![run.value[1].clone()]
        );
        assert!(store.clearings(2024, None).await.unwrap().is_empty());

        // The clearing closed the year: neither its months nor its clearing run again
        // until it is reopened (audited).
        let closed = store.closed_years().await.unwrap();
        assert_eq!(closed.len(), 1);
        assert_eq!(
            (closed[0].year, closed[0].actor.as_str()),
            (2025, "clerk-1")
        );
        let refused = store
            .replace_clearing(2025, &run.value, &run.events)
            .await
            .unwrap_err();
        assert!(
            matches!(refused, StoreError::Closed { year: 2025, .. }),
            "{refused}"
        );
        let (s_again, ev_again) = settle("2025-06", &[cases1.clone(), cases2.clone()].concat());
        let refused = store
            .replace_month(
                "2025-06".parse().unwrap(),
                &[cases1.clone(), cases2.clone()].concat(),
                &s_again,
                &ev_again,
            )
            .await
            .unwrap_err();
        assert!(
            refused.to_string().contains("2025 is cleared and closed"),
            "{refused}"
        );
        assert!(matches!(
            store.reopen_year(2025, &actor, " ").await,
            Err(StoreError::Invalid(_))
        ));
        store
            .reopen_year(2025, &actor, "a late correction")
            .await
            .unwrap();
        assert!(matches!(
            store.reopen_year(2025, &actor, "again").await,
            Err(StoreError::Invalid(_))
        ));
        let trail = store.audit_of("2025").await.unwrap();
        let actions: Vec<&str> = trail.iter().map(|r| r.event.action.as_str()).collect();
        assert_eq!(actions, ["clearing.year_closed", "clearing.year_reopened"]);
        assert_eq!(trail[1].event.reason, "a late correction");

        // A second clearing with a prepayment to recover, H002 left out.
        let again = vec![input(&h1, &cases1, &s[0], dec!(1000))];
        let run2 = clear_year(2025, &again, &p, FinalPricing::AsGiven, &actor).unwrap();
        store
            .replace_clearing(2025, &run2.value, &run2.events)
            .await
            .unwrap();
        assert_eq!(store.clearings(2025, None).await.unwrap(), run2.value);
        let trail = store.audit_of("H001/2025").await.unwrap();
        assert_eq!(trail.len(), 2);
        assert_eq!(
            trail[1].event.before.as_deref(),
            Some(run.value[0].summary().as_str())
        );
        let gone = store.audit_of("H002/2025").await.unwrap();
        assert_eq!(gone.len(), 2);
        assert_eq!(gone[1].event.after, None);
        let err = store
            .replace_clearing(2024, &run2.value, &[])
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)));

        // Prepayment: save, replace (before filled), list.
        let months: Vec<(YearMonth, Decimal)> = (1..=12)
            .map(|m| (YearMonth::new(2024, m).unwrap(), dec!(1200)))
            .collect();
        let d1 = decide_prepayment(2025, &h1, &months, &p, &actor).unwrap();
        store
            .save_prepayment(2025, &d1.value, &d1.events)
            .await
            .unwrap();
        let d2 = decide_prepayment(2025, &h2, &months, &p, &actor).unwrap();
        store
            .save_prepayment(2025, &d2.value, &d2.events)
            .await
            .unwrap();
        assert_eq!(
            store.prepayments(2025).await.unwrap(),
            vec![d1.value.clone(), d2.value.clone()]
        );
        let more: Vec<(YearMonth, Decimal)> = (1..=12)
            .map(|m| (YearMonth::new(2024, m).unwrap(), dec!(2400)))
            .collect();
        let d3 = decide_prepayment(2025, &h1, &more, &p, &actor).unwrap();
        store
            .save_prepayment(2025, &d3.value, &d3.events)
            .await
            .unwrap();
        let listed = store.prepayments(2025).await.unwrap();
        assert_eq!(listed[0], d3.value);
        assert_eq!(listed[0].amount, dec!(2400.00));
        let trail = store.audit_of("H001/2025").await.unwrap();
        let last = &trail.last().unwrap().event;
        assert_eq!(last.action, Action::PrepaymentGranted);
        assert_eq!(last.before.as_deref(), Some("eligible=true amount=1200.00"));
        assert!(store.prepayments(2026).await.unwrap().is_empty());
        let err = store
            .save_prepayment(2024, &d3.value, &[])
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)));
    })
    .await;
}

#[tokio::test]
async fn applications_are_upserted_with_their_audit() {
    on_every_backend("applications", |store| async move {
        let p = params();
        let q2 = Period::Quarter {
            year: 2025,
            quarter: 2,
        };
        let id = store.next_application_id().await.unwrap();
        let id2 = store.next_application_id().await.unwrap();
        assert_ne!(id, id2);
        assert!(!id.contains("H001") && !id2.contains("H00"), "{id} {id2}");
        let hospital_user = Actor::hospital("u-1", "H001");
        let submitted = Application::submit(
            &hospital_user,
            ApplicationRequest {
                id: id.clone(),
                hospital_id: "H001".into(),
                period: q2,
                case_ids: vec!["C2".into(), "C1".into()],
                reason: ReasonKind::HighCost,
                text: "two very costly cases".into(),
                records: Default::default(),
            },
            &p,
            QuotaBase {
                method: Method::Drg,
                region_settled: 100,
                hospital_settled: 100,
                region_applied: 0,
                hospital_applied: 0,
            },
        )
        .unwrap();
        let mut app = submitted.value;
        store
            .save_application(&app, &submitted.events)
            .await
            .unwrap();
        assert_eq!(store.application(&id).await.unwrap(), Some(app.clone()));
        assert_eq!(store.application("SC-999999").await.unwrap(), None);

        // Through the review: each step replaces the row, with its event.
        let experts = drgdip_settle::Experts::parse(
            "expert_id,name,discipline,hospital_id\nr-1,a,x,\nr-2,b,x,\n",
        )
        .unwrap();
        let rules = drgdip_settle::ReviewRules::new(&p, &experts);
        let first = |case: &str, outcome| CaseOpinion {
            case: format!("{id}-{case}"),
            outcome,
            reason: "ok".into(),
        };
        let opinions = vec![
            first("01", Outcome::ApprovedPerItem),
            first("02", Outcome::Rejected),
        ];
        let steps = [
            (
                Actor::bureau("b-1"),
                Command::AssignFirstReviewers {
                    reviewer_ids: vec!["r-1".into(), "r-2".into()],
                },
            ),
            (
                Actor::reviewer("r-1"),
                Command::RecordFirstReview {
                    opinions: opinions.clone(),
                },
            ),
            (
                Actor::reviewer("r-2"),
                Command::RecordFirstReview { opinions },
            ),
        ];
        for (actor, command) in steps {
            let event = app.apply(&actor, command, &rules).unwrap();
            store.save_application(&app, &[event]).await.unwrap();
        }
        let stored = store.application(&id).await.unwrap().unwrap();
        assert_eq!(stored, app);
        assert_eq!(stored.state(), ReviewState::FirstReviewed);
        let trail = store.audit_of(&id).await.unwrap();
        assert_eq!(trail.len(), 4);
        assert!(trail.windows(2).all(|w| w[0].seq < w[1].seq));
        assert_eq!(trail[1].event.role, Role::Bureau);

        assert_eq!(
            store.applications(Some("H001"), Some(q2)).await.unwrap(),
            vec![app.clone()]
        );
        assert_eq!(store.applications(None, None).await.unwrap().len(), 1);
        assert!(store
            .applications(Some("H002"), None)
            .await
            .unwrap()
            .is_empty());
        let q3 = Period::Quarter {
            year: 2025,
            quarter: 3,
        };
        assert!(store.applications(None, Some(q3)).await.unwrap().is_empty());

        // The same id for another hospital is refused.
        let other = Application::submit(
            &Actor::hospital("u-2", "H002"),
            ApplicationRequest {
                id: id.clone(),
                hospital_id: "H002".into(),
                period: q2,
                case_ids: vec!["X1".into()],
                reason: ReasonKind::HighCost,
                text: "x".into(),
                records: Default::default(),
            },
            &p,
            QuotaBase {
                method: Method::Drg,
                region_settled: 100,
                hospital_settled: 100,
                region_applied: 0,
                hospital_applied: 0,
            },
        )
        .unwrap();
        let err = store
            .save_application(&other.value, &other.events)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)), "{err}");
        assert_eq!(store.application(&id).await.unwrap(), Some(app));
        assert_eq!(store.audit_of(&id).await.unwrap().len(), 4);
    })
    .await;
}

/// The quota race (特例单议名额): two submissions checked against the same applications of
/// a period (the server and a `drgdip` on one ledger) never both land, at once or one after
/// the other; the refused one leaves nothing behind and lands once checked again.
#[tokio::test]
async fn two_submissions_checked_against_the_same_applications_do_not_both_land() {
    on_every_backend("quota_race", |store| async move {
        let p = params();
        let q2 = Period::Quarter {
            year: 2025,
            quarter: 2,
        };
        let base = QuotaBase {
            method: Method::Drg,
            region_settled: 100,
            hospital_settled: 100,
            region_applied: 0,
            hospital_applied: 0,
        };
        let mut submitted = Vec::new();
        for (hospital, case) in [("H001", "C1"), ("H002", "C2"), ("H003", "C3")] {
            let id = store.next_application_id().await.unwrap();
            let a = Application::submit(
                &Actor::hospital("u", hospital),
                ApplicationRequest {
                    id,
                    hospital_id: hospital.into(),
                    period: q2,
                    case_ids: vec![case.into()],
                    reason: ReasonKind::HighCost,
                    text: "costly".into(),
                    records: Default::default(),
                },
                &p,
                base,
            )
            .unwrap();
            submitted.push(a);
        }
        let (a, b, c) = (&submitted[0], &submitted[1], &submitted[2]);
        // at once: one lands
        let (ra, rb) = tokio::join!(
            store.submit_application(&a.value, &a.events, &[]),
            store.submit_application(&b.value, &b.events, &[])
        );
        assert_eq!(
            u8::from(ra.is_ok()) + u8::from(rb.is_ok()),
            1,
            "{ra:?} {rb:?}"
        );
        let (landed, lost) = if ra.is_ok() { (a, b) } else { (b, a) };
        assert_eq!(store.application(lost.value.id()).await.unwrap(), None);
        assert!(store.audit_of(lost.value.id()).await.unwrap().is_empty());
        // one after the other, against the stale reading: refused, nothing written
        let err = store
            .submit_application(&c.value, &c.events, &[])
            .await
            .unwrap_err();
        assert!(
            matches!(&err, StoreError::Invalid(m) if m.contains("changed while")),
            "{err}"
        );
        assert_eq!(store.application(c.value.id()).await.unwrap(), None);
        // checked again: it lands
        let seen = [(
            landed.value.id().to_string(),
            landed.value.state().as_str().to_string(),
        )];
        store
            .submit_application(&c.value, &c.events, &seen)
            .await
            .unwrap();
        assert_eq!(store.applications(None, Some(q2)).await.unwrap().len(), 2);
        assert_eq!(store.audit_of(c.value.id()).await.unwrap().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn the_audit_log_is_ordered_and_append_only() {
    on_every_backend("audit", |store| async move {
        let actor = Actor::bureau("b-1");
        let event = |i: usize| {
            AuditEvent::new(
                &actor,
                Action::PrepaymentRefused,
                format!("S{i}"),
                format!("reason {i}"),
            )
            .after(format!("state {i}"))
        };
        assert!(store.audit_log(10).await.unwrap().is_empty());
        store.append_audit(&[]).await.unwrap();
        store.append_audit(&[event(1), event(2)]).await.unwrap();
        store.append_audit(&[event(3)]).await.unwrap();
        let log = store.audit_log(10).await.unwrap();
        let seqs: Vec<i64> = log.iter().map(|r| r.seq).collect();
        assert_eq!(seqs, [3, 2, 1]);
        assert_eq!(log[0].event, event(3));
        assert_eq!(log[2].event, event(1));
        assert!(log[0].at > log[2].at, "{} then {}", log[2].at, log[0].at);
        assert_eq!(store.audit_log(2).await.unwrap().len(), 2);
        assert_eq!(store.audit_log(0).await.unwrap().len(), 0);

        // Writers in parallel: every event once, the numbers without gap.
        let mut tasks = Vec::new();
        for t in 0..8 {
            let store = store.clone();
            let events: Vec<AuditEvent> = (0..5).map(|i| event(100 + t * 10 + i)).collect();
            tasks.push(tokio::spawn(
                async move { store.append_audit(&events).await },
            ));
        }
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let log = store.audit_log(1000).await.unwrap();
        assert_eq!(log.len(), 43);
        let mut seqs: Vec<i64> = log.iter().map(|r| r.seq).collect();
        seqs.reverse();
        assert_eq!(seqs, (1..=43).collect::<Vec<i64>>());
        // Each batch is contiguous (one transaction).
        for t in 0..8 {
            let mine: Vec<i64> = log
                .iter()
                .filter(|r| r.event.subject.starts_with(&format!("S{}", 10 + t)))
                .map(|r| r.seq)
                .collect();
            assert_eq!(mine.len(), 5);
            assert_eq!(mine.iter().max().unwrap() - mine.iter().min().unwrap(), 4);
        }

        // The database itself refuses to change or delete an entry.
        let update = sqlx::query("UPDATE audit_log SET reason = 'edited' WHERE seq = 1")
            .execute(&store.pool)
            .await;
        assert!(update.is_err(), "an audit entry was updated");
        let delete = sqlx::query("DELETE FROM audit_log WHERE seq = 1")
            .execute(&store.pool)
            .await;
        assert!(delete.is_err(), "an audit entry was deleted");
        assert_eq!(store.audit_log(1000).await.unwrap().len(), 43);
    })
    .await;
}

#[tokio::test]
async fn a_sqlite_file_is_created_kept_and_reopened() {
    let file = SqliteFile::new("reopen");
    assert!(!file.0.exists());
    {
        let store = Store::open(&file.url()).await.unwrap();
        let cases = vec![case("C1", "H001", "2025-01", Category::Normal, dec!(1))];
        let (s, e) = settle("2025-01", &cases);
        store
            .replace_month(ym("2025-01"), &cases, &s, &e)
            .await
            .unwrap();
        store.close().await;
    }
    assert!(file.0.exists());
    // Reopening runs the migrations again: nothing to do, nothing lost.
    let store = Store::open(&format!("sqlite:{}", file.0.display()))
        .await
        .unwrap();
    assert_eq!(store.months().await.unwrap(), vec![ym("2025-01")]);
    assert_eq!(store.audit_log(10).await.unwrap().len(), 1);
    let at = &store.audit_log(1).await.unwrap()[0].at;
    assert!(at.ends_with('Z') && at.len() == 27, "{at}");
    let now = rfc3339(SystemTime::now());
    assert_eq!(&at[..4], &now[..4]);
}

#[tokio::test]
async fn memory_and_unsupported_urls() {
    let store = Store::open("sqlite::memory:").await.unwrap();
    store
        .append_audit(&[AuditEvent::new(
            &Actor::system("t"),
            Action::PrepaymentRefused,
            "S",
            "r",
        )])
        .await
        .unwrap();
    assert_eq!(store.audit_log(5).await.unwrap().len(), 1);
    let err = Store::open("mysql://user:secret@host/db")
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::UnsupportedUrl { .. }));
    assert!(!err.to_string().contains("secret"), "{err}");
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<Store>();
}

#[test]
fn dates_parse_in_tests() {
    assert_eq!(date("2025-07-05").to_string(), "2025-07-05");
}

/// Timing of a 200,000-case month (not a check): `cargo test -p drgdip-store --release --
/// --ignored --nocapture timing`.
#[tokio::test]
#[ignore]
async fn timing_large_month() {
    let file = SqliteFile::new("timing");
    let store = Store::open(&file.url()).await.unwrap();
    let cases: Vec<SettledCase> = (0..200_000)
        .map(|i| {
            case(
                &format!("C{i:07}"),
                &format!("H{:03}", i % 40),
                "2025-06",
                Category::Normal,
                dec!(123.45),
            )
        })
        .collect();
    let t = std::time::Instant::now();
    let (s, e) = settle("2025-06", &cases);
    eprintln!("settle {:?}", t.elapsed());
    let t = std::time::Instant::now();
    store
        .replace_month(ym("2025-06"), &cases, &s, &e)
        .await
        .unwrap();
    eprintln!("write {:?}", t.elapsed());
    let t = std::time::Instant::now();
    let back = store
        .settled_cases(Some(ym("2025-06")), None)
        .await
        .unwrap();
    eprintln!("read {:?} {}", t.elapsed(), back.len());
}

// -------------------------------------------------------------------------------------------
// Payments

fn payment(h: &str, m: &str, day: &str, amount: Decimal, reference: &str) -> FundPayment {
    FundPayment {
        hospital_id: h.into(),
        month: ym(m),
        date: date(day),
        amount,
        reference: reference.into(),
    }
}

#[tokio::test]
async fn payments_are_checked_recorded_once_and_append_only() {
    on_every_backend("payments", |store| async move {
        let cases = vec![
            case("C1", "H001", "2025-06", Category::Normal, dec!(8000)),
            case("C2", "H002", "2025-06", Category::Normal, dec!(2000)),
        ];
        let (statements, events) = settle("2025-06", &cases);
        store
            .replace_month(ym("2025-06"), &cases, &statements, &events)
            .await
            .unwrap();
        // 5% withheld: H001 owes 7600.00, H002 1900.00
        assert_eq!(statements[0].amount_due, dec!(7600.00));
        let bureau = Actor::bureau("b-1");
        let batch = [
            payment("H001", "2025-06", "2025-07-20", dec!(5000), "R1"),
            payment("H001", "2025-06", "2025-07-25", dec!(2600.01), "R2"), // one fen too many
            payment("H001", "2025-06", "2025-07-25", dec!(2600.00), "R3"), // exactly the rest
            payment("H002", "2025-07", "2025-08-20", dec!(10), "R1"),      // no such statement
            payment("H002", "2025-06", "2025-06-30", dec!(10), "R9"),      // within the month
            payment("H002", "2025-06", "2025-08-20", dec!(100.5), "R1"),   // R1 of another hospital
            payment("H002", "2025-06", "2025-08-21", dec!(1), "R1"),       // R1 again in the batch
            payment("H002", "2025-06", "2025-08-21", dec!(0.001), "R8"),   // three decimals
        ];
        let outcomes = store.record_payments(&batch, &bureau).await.unwrap();
        let kinds: Vec<String> = outcomes
            .iter()
            .map(|o| match o {
                PaymentOutcome::Recorded { record, outstanding } => {
                    format!("recorded {} {}", record.id, Fen(*outstanding))
                }
                PaymentOutcome::Refused { refusal } => refusal.to_string(),
            })
            .collect();
        assert_eq!(kinds[0], "recorded 1 2600.00");
        assert_eq!(
            kinds[1],
            "amount 2600.01 exceeds what is outstanding on H001/2025-06: 2600.00 (amount due 7600.00, paid 5000.00); an overpayment is refused"
        );
        assert_eq!(kinds[2], "recorded 2 0.00");
        assert!(kinds[3].starts_with("no statement H002/2025-07 in the ledger"), "{}", kinds[3]);
        assert!(kinds[4].starts_with("date 2025-06-30 is not after the month 2025-06"), "{}", kinds[4]);
        assert_eq!(kinds[5], "recorded 3 1799.50");
        assert_eq!(
            kinds[6],
            "reference \"R1\" of H002 is already recorded (payment 3 dated 2025-08-20, earlier in this batch): a payment is recorded once"
        );
        assert!(kinds[7].starts_with("amount 0.001:"), "{}", kinds[7]);

        // Again: the references are taken now, whatever else the rows say.
        let again = store.record_payments(&batch[..1], &bureau).await.unwrap();
        assert_eq!(
            again,
            vec![PaymentOutcome::Refused {
                refusal: PaymentRefusal::DuplicateReference {
                    hospital_id: "H001".into(),
                    reference: "R1".into(),
                    previous: "payment 1 dated 2025-07-20".into(),
                }
            }]
        );

        let all = store.payments(None, None).await.unwrap();
        assert_eq!(all.iter().map(|r| r.id).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(all[0].payment, batch[0]);
        assert_eq!(all[2].payment.amount.to_string(), "100.5", "exact, as given");
        assert_eq!(all[0].actor, "b-1");
        assert!(all[0].recorded_at.starts_with("2025-07-01T00:00:"));
        assert_eq!(store.payments(Some("H002"), None).await.unwrap().len(), 1);
        assert_eq!(store.payments(Some("H001"), Some(ym("2025-06"))).await.unwrap().len(), 2);
        assert!(store.payments(None, Some(ym("2025-05"))).await.unwrap().is_empty());

        // Paid as of a date: the payments dated after it do not count.
        let paid = store.paid_as_of(date("2025-07-24"), None).await.unwrap();
        assert_eq!(paid.get(&("H001".to_string(), ym("2025-06"))), Some(&dec!(5000)));
        assert_eq!(paid.get(&("H002".to_string(), ym("2025-06"))), None);
        let paid = store.paid_as_of(date("2025-12-31"), Some("H001")).await.unwrap();
        assert_eq!(paid.len(), 1);
        assert_eq!(paid[&("H001".to_string(), ym("2025-06"))], dec!(7600.00));

        // The audit trail: two recorded for H001 with before and after, one refusal.
        let trail = store.audit_of("H001/2025-06").await.unwrap();
        let recorded: Vec<&AuditRecord> = trail
            .iter()
            .filter(|r| r.event.action == Action::PaymentRecorded)
            .collect();
        assert_eq!(recorded.len(), 2);
        assert_eq!(recorded[1].event.before.as_deref(), Some("paid=5000.00 outstanding=2600.00"));
        assert_eq!(recorded[1].event.after.as_deref(), Some("paid=7600.00 outstanding=0.00"));
        let refused = trail
            .iter()
            .filter(|r| r.event.action == Action::PaymentRefused)
            .count();
        assert_eq!(refused, 2, "R2 and the second R1");

        // The database itself refuses to change or delete a payment.
        let update = sqlx::query("UPDATE payments SET amount = '1' WHERE id = 1")
            .execute(&store.pool)
            .await;
        assert!(update.is_err(), "a payment was updated");
        let delete = sqlx::query("DELETE FROM payments WHERE id = 1")
            .execute(&store.pool)
            .await;
        assert!(delete.is_err(), "a payment was deleted");
        // and a second row of a hospital's reference
        let twice = sqlx::query(
            "INSERT INTO payments (id, hospital_id, month, date, amount, reference, recorded_at, actor) \
             VALUES (99, 'H001', '2025-06', '2025-08-01', '1', 'R1', 'x', 'y')",
        )
        .execute(&store.pool)
        .await;
        assert!(twice.is_err(), "a reference was recorded twice");
        assert_eq!(store.payments(None, None).await.unwrap().len(), 3);
    })
    .await;
}

#[tokio::test]
async fn concurrent_recorders_never_overpay_a_statement() {
    on_every_backend("payments_race", |store| async move {
        let cases = vec![case("C1", "H001", "2025-06", Category::Normal, dec!(1000))];
        let (statements, events) = settle("2025-06", &cases);
        store
            .replace_month(ym("2025-06"), &cases, &statements, &events)
            .await
            .unwrap();
        // amount due 950.00; eight recorders try 200.00 each at once: four are recorded
        let mut tasks = Vec::new();
        for t in 0..8 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                let p = payment("H001", "2025-06", "2025-08-01", dec!(200), &format!("T{t}"));
                store
                    .record_payments(&[p], &Actor::bureau(format!("b-{t}")))
                    .await
            }));
        }
        let mut recorded = 0;
        for t in tasks {
            if let [PaymentOutcome::Recorded { .. }] = t.await.unwrap().unwrap().as_slice() {
                recorded += 1;
            }
        }
        assert_eq!(recorded, 4);
        let paid: Decimal = store
            .payments(None, None)
            .await
            .unwrap()
            .iter()
            .map(|r| r.payment.amount)
            .sum();
        assert_eq!(paid, dec!(800));
        let ids: Vec<i64> = store
            .payments(None, None)
            .await
            .unwrap()
            .iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(ids, [1, 2, 3, 4], "ids without gaps");
    })
    .await;
}
