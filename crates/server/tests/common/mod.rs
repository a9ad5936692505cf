//! The router under test: the real engine over the shared data, the tokens of the tests, and
//! an in-memory double of the store (the shipped server runs on `drgdip_store::Store`).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use drgdip_engine::{Region, RegionFiles, WeightsFrom};
use drgdip_io::BatchOptions;
use drgdip_pay::Category;
use drgdip_scheme::selection::{Selection, BUILTIN_SELECTION};
use drgdip_scheme::{DirFiles, Registry};
use drgdip_server::{
    router, AppState, AuditEntry, Backend, BackendError, BackendFuture, Engine, Limits, Refusal,
    Tokens,
};
use drgdip_settle::{
    settle_month, Actor, Application, AuditEvent, Date, MonthlyStatement, Period, SettledCase,
    WorkCalendar, YearMonth,
};
use drgdip_store::{LedgerCase, SettlementRun};
use http_body_util::BodyExt;
use rust_decimal::Decimal;
use tower::ServiceExt;

pub const BUREAU: &str = "bureau-token-0123456789";
pub const H001: &str = "h001-token-0123456789";
pub const H002: &str = "h002-token-0123456789";
pub const R1: &str = "r1-token-0123456789abc";
pub const R2: &str = "r2-token-0123456789abc";

pub const TOKENS: &str = r#"
[[token]]
token = "bureau-token-0123456789"
role = "bureau"
user = "chief"

[[token]]
token = "h001-token-0123456789"
role = "hospital"
hospital = "H001"
user = "h001-clerk"

[[token]]
token = "h002-token-0123456789"
role = "hospital"
hospital = "H002"

[[token]]
token = "r1-token-0123456789abc"
role = "reviewer"
reviewer = "R1"

[[token]]
token = "r2-token-0123456789abc"
role = "reviewer"
reviewer = "R2"
"#;

/// The shared directory, or `None` (with a note) when it is absent.
pub fn shared() -> Option<PathBuf> {
    let p = std::env::var_os("DRGDIP_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    if p.join("schemes").is_dir() && p.join("testdata/chs-drg-2.0/hospitals.csv").is_file() {
        Some(p)
    } else {
        eprintln!(
            "note: shared data not found at {}: test skipped",
            p.display()
        );
        None
    }
}

/// The engine over the shared data: the region as `drgdip serve` loads it
/// (`drgdip_engine::Region::load`, weights from the 2024 history), built once.
pub fn engine() -> Option<Arc<Engine>> {
    static ENGINE: OnceLock<Option<Arc<Engine>>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let shared = shared()?;
            let files = DirFiles::new(&shared).unwrap();
            let mut registry = Registry::new(&files).unwrap();
            let data = shared.join("testdata/chs-drg-2.0");
            let region = Region::load(
                &mut registry,
                &RegionFiles {
                    params: shared.join("params/region-350100-2025.toml"),
                    hospitals: data.join("hospitals.csv"),
                    weights: WeightsFrom::History(data.join("history-2024/cases.csv")),
                    point_value: None,
                },
                BatchOptions::default(),
            )
            .unwrap();
            assert!(region.weights.table.len() > 500, "{}", region.weights.desc);
            let names = registry.names();
            let schemes: Vec<_> = names.iter().map(|n| registry.get(n).unwrap()).collect();
            let selection = Selection::from_toml_str(BUILTIN_SELECTION).unwrap();
            Some(Arc::new(
                Engine::new(schemes, selection, Arc::new(region)).unwrap(),
            ))
        })
        .clone()
}

#[derive(Default)]
struct Mem {
    statements: Vec<MonthlyStatement>,
    cases: Vec<SettledCase>,
    apps: BTreeMap<String, Application>,
    audit: Vec<AuditEntry>,
    next: u64,
}

/// The store double.
#[derive(Default)]
pub struct MemBackend(Mutex<Mem>);

fn entry(seq: i64, e: &AuditEvent) -> AuditEntry {
    AuditEntry {
        seq,
        at: "2025-07-01T00:00:00Z".into(),
        actor: e.actor.clone(),
        role: e.role.kind().into(),
        hospital_id: match &e.role {
            drgdip_settle::Role::Hospital { hospital_id } => Some(hospital_id.clone()),
            _ => None,
        },
        action: e.action.as_str().into(),
        subject: e.subject.clone(),
        reason: e.reason.clone(),
        before: e.before.clone(),
        after: e.after.clone(),
    }
}

impl MemBackend {
    fn log(&self, events: &[AuditEvent]) {
        let mut m = self.0.lock().unwrap();
        for e in events {
            let seq = m.audit.len() as i64 + 1;
            m.audit.push(entry(seq, e));
        }
    }

    /// The audit entries, oldest first.
    pub fn audit(&self) -> Vec<AuditEntry> {
        self.0.lock().unwrap().audit.clone()
    }

    /// The refusals of the log.
    pub fn refusals(&self) -> Vec<AuditEntry> {
        self.audit()
            .into_iter()
            .filter(|e| e.action == "api.access_refused")
            .collect()
    }

    /// Number of applications stored.
    pub fn applications_count(&self) -> usize {
        self.0.lock().unwrap().apps.len()
    }
}

fn ready<'a, T: Send + 'a>(v: T) -> BackendFuture<'a, T> {
    Box::pin(async move { Ok::<T, BackendError>(v) })
}

impl Backend for MemBackend {
    fn statements<'a>(
        &'a self,
        month: Option<YearMonth>,
        hospital_id: Option<&'a str>,
    ) -> BackendFuture<'a, Vec<MonthlyStatement>> {
        let m = self.0.lock().unwrap();
        ready(
            m.statements
                .iter()
                .filter(|s| month.is_none_or(|x| s.month == x))
                .filter(|s| hospital_id.is_none_or(|h| s.hospital_id == h))
                .cloned()
                .collect(),
        )
    }

    fn settled_cases_in<'a>(
        &'a self,
        period: Period,
        hospital_id: Option<&'a str>,
    ) -> BackendFuture<'a, Vec<SettledCase>> {
        let m = self.0.lock().unwrap();
        ready(
            m.cases
                .iter()
                .filter(|c| period.contains(c.discharge_month))
                .filter(|c| hospital_id.is_none_or(|h| c.hospital_id == h))
                .cloned()
                .collect(),
        )
    }

    fn next_application_id(&self) -> BackendFuture<'_, String> {
        let mut m = self.0.lock().unwrap();
        m.next += 1;
        ready(format!("SC-{:06}", m.next))
    }

    fn save_application<'a>(
        &'a self,
        app: &'a Application,
        audit: &'a [AuditEvent],
    ) -> BackendFuture<'a, ()> {
        self.0
            .lock()
            .unwrap()
            .apps
            .insert(app.id().to_string(), app.clone());
        self.log(audit);
        ready(())
    }

    fn application<'a>(&'a self, id: &'a str) -> BackendFuture<'a, Option<Application>> {
        ready(self.0.lock().unwrap().apps.get(id).cloned())
    }

    fn applications<'a>(
        &'a self,
        hospital_id: Option<&'a str>,
        period: Option<Period>,
    ) -> BackendFuture<'a, Vec<Application>> {
        let m = self.0.lock().unwrap();
        ready(
            m.apps
                .values()
                .filter(|a| hospital_id.is_none_or(|h| a.hospital_id() == h))
                .filter(|a| period.is_none_or(|p| a.period() == p))
                .cloned()
                .collect(),
        )
    }

    fn append_audit<'a>(&'a self, events: &'a [AuditEvent]) -> BackendFuture<'a, ()> {
        self.log(events);
        ready(())
    }

    fn record_refusal<'a>(&'a self, r: &'a Refusal) -> BackendFuture<'a, ()> {
        let mut m = self.0.lock().unwrap();
        let seq = m.audit.len() as i64 + 1;
        m.audit.push(AuditEntry {
            seq,
            at: "2025-07-01T00:00:00Z".into(),
            actor: r.actor.id.clone(),
            role: r.actor.role.kind().into(),
            hospital_id: r.actor.hospital_id().map(str::to_string),
            action: "api.access_refused".into(),
            subject: r.subject.clone(),
            reason: format!("{}: {}", r.action, r.reason),
            before: None,
            after: None,
        });
        ready(())
    }

    fn audit_log(&self, limit: u32) -> BackendFuture<'_, Vec<AuditEntry>> {
        let m = self.0.lock().unwrap();
        ready(m.audit.iter().rev().take(limit as usize).cloned().collect())
    }

    fn ledger_cases<'a>(
        &'a self,
        period: Option<Period>,
        hospital_id: Option<&'a str>,
    ) -> BackendFuture<'a, Vec<LedgerCase>> {
        let m = self.0.lock().unwrap();
        let mut list: Vec<LedgerCase> = m
            .cases
            .iter()
            .filter(|c| period.is_none_or(|p| p.contains(c.discharge_month)))
            .filter(|c| hospital_id.is_none_or(|h| c.hospital_id == h))
            .map(|c| LedgerCase {
                case: c.clone(),
                run_id: 1,
            })
            .collect();
        list.sort_by(|a, b| {
            (a.case.discharge_month, &a.case.hospital_id, &a.case.case_id).cmp(&(
                b.case.discharge_month,
                &b.case.hospital_id,
                &b.case.case_id,
            ))
        });
        ready(list)
    }

    fn settlement_runs(&self, _month: Option<YearMonth>) -> BackendFuture<'_, Vec<SettlementRun>> {
        // the double settles nothing: it has no run
        ready(Vec::new())
    }
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// `n` settled cases of `hospital` in `month`, ids `{prefix}{i}`.
pub fn cases(hospital: &str, month: &str, prefix: &str, n: usize) -> Vec<SettledCase> {
    let month: YearMonth = month.parse().unwrap();
    (0..n)
        .map(|i| SettledCase {
            case_id: format!("{prefix}{i:04}"),
            hospital_id: hospital.into(),
            discharge_month: month,
            category: Category::Normal,
            payment: dec("10000.00"),
            own: dec("3000.00"),
            fund_due: dec("7000.00"),
            fund_paid: dec("6500.00"),
            total_cost: dec("9500.00"),
            weight: Some(dec("1.0")),
            dip_score: None,
            pricing: Default::default(),
        })
        .collect()
}

/// The double with settled cases of 2025Q2 (H001: 100 cases, 5% quota 5; H002: 40, quota
/// 2) and the June statements.
pub fn seeded() -> Arc<MemBackend> {
    let mut all = Vec::new();
    all.extend(cases("H001", "2025-04", "A04-", 40));
    all.extend(cases("H001", "2025-06", "A06-", 60));
    all.extend(cases("H002", "2025-06", "B06-", 40));
    let mut invalid = cases("H001", "2025-06", "AX-", 1);
    invalid[0].category = Category::Invalid;
    all.extend(invalid);
    let engine = engine().expect("engine");
    let june: YearMonth = "2025-06".parse().unwrap();
    let statements = settle_month(
        all.iter().filter(|c| c.discharge_month == june),
        engine.params(),
        june,
        Date::new(2025, 7, 15).unwrap(),
        &WorkCalendar::weekdays_only(),
        &Actor::system("test"),
    )
    .unwrap()
    .value;
    let mem = MemBackend::default();
    {
        let mut m = mem.0.lock().unwrap();
        m.cases = all;
        m.statements = statements;
    }
    Arc::new(mem)
}

/// The router over `backend`, or `None` without the shared data.
pub fn app(backend: Arc<MemBackend>) -> Option<Router> {
    app_with(backend)
}

/// The router over any backend, or `None` without the shared data.
pub fn app_with(backend: Arc<dyn Backend>) -> Option<Router> {
    app_with_limits(backend, Limits::default().without_rate_limit())
}

/// The router over any backend under `limits`, or `None` without the shared data.
pub fn app_with_limits(backend: Arc<dyn Backend>, limits: Limits) -> Option<Router> {
    let engine = engine()?;
    let tokens = Tokens::from_toml_str(TOKENS).unwrap();
    Some(router(Arc::new(AppState::new(
        engine, tokens, backend, limits,
    ))))
}

/// The settled cases and June statements of [`seeded`], for another store.
pub fn seed_data() -> (Vec<SettledCase>, Vec<MonthlyStatement>) {
    let mem = seeded();
    let m = mem.0.lock().unwrap();
    (m.cases.clone(), m.statements.clone())
}

/// A response: status, JSON body (`null` if not JSON), raw text.
pub struct Answer {
    pub status: StatusCode,
    pub json: serde_json::Value,
    pub text: String,
    pub headers: axum::http::HeaderMap,
}

/// One request through the router, without a network.
pub async fn call(
    app: &Router,
    method: &str,
    uri: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> Answer {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    let req = req
        .body(match body {
            Some(b) => Body::from(b.to_string()),
            None => Body::empty(),
        })
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
    Answer {
        status,
        json,
        text,
        headers,
    }
}
