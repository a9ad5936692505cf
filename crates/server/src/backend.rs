//! What the API asks of its storage: the few calls of `drgdip_store::Store` it makes, as a
//! trait so that the router can be tested against a double. The server runs on
//! [`drgdip_store::Store`] (implemented here); nothing else implements it outside tests.
//!
//! A monthly settlement and an annual clearing are not calls of this trait: they are the
//! engine's use cases (`drgdip_engine::settle`), which write the ledger in one transaction
//! and take the [`drgdip_store::Store`] itself ([`Backend::ledger`]); a double without one
//! answers those routes 503.

use std::future::Future;
use std::pin::Pin;

use drgdip_settle::{
    Actor, Application, AuditEvent, MonthlyStatement, Period, SettledCase, YearMonth,
};
use drgdip_store::{LedgerCase, SettlementRun, Store};
use serde::Serialize;
use utoipa::ToSchema;

/// A storage failure, as text (the API answers 500 and logs it).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct BackendError(pub String);

/// The future of a storage call.
pub type BackendFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, BackendError>> + Send + 'a>>;

/// One entry of the audit log as the API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AuditEntry {
    /// The entry's number in the log (increasing).
    pub seq: i64,
    /// When the store wrote it (as the store gives it: RFC 3339, UTC).
    pub at: String,
    /// The acting user's id.
    pub actor: String,
    /// `bureau`, `hospital`, `reviewer` or `system`.
    pub role: String,
    /// The hospital the actor acted for, if a hospital user.
    pub hospital_id: Option<String>,
    /// What was done (`special_case.submitted`, `api.access_refused`, …).
    pub action: String,
    /// What it was done to.
    pub subject: String,
    /// Why.
    pub reason: String,
    /// The state before, if any.
    pub before: Option<String>,
    /// The state after, if any.
    pub after: Option<String>,
}

/// An access the API refused (403): who, in which role, what, on what, why. Written to the
/// audit log as action `api.access_refused`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Who asked, in which role.
    pub actor: Actor,
    /// What was asked (`GET /v1/audit`, `view special case`).
    pub action: String,
    /// On what (a path, an application id, a case id, a hospital's statements).
    pub subject: String,
    /// Why it was refused.
    pub reason: String,
}

/// The storage calls of the API.
pub trait Backend: Send + Sync + 'static {
    /// Monthly statements, optionally of one month and/or one hospital.
    fn statements<'a>(
        &'a self,
        month: Option<YearMonth>,
        hospital_id: Option<&'a str>,
    ) -> BackendFuture<'a, Vec<MonthlyStatement>>;

    /// Settled cases discharged in the months of `period`, optionally of one hospital.
    fn settled_cases_in<'a>(
        &'a self,
        period: Period,
        hospital_id: Option<&'a str>,
    ) -> BackendFuture<'a, Vec<SettledCase>>;

    /// A new application id (which does not encode the hospital).
    fn next_application_id(&self) -> BackendFuture<'_, String>;

    /// Saves (inserts or replaces) an application with the events of its change, atomically.
    fn save_application<'a>(
        &'a self,
        app: &'a Application,
        audit: &'a [AuditEvent],
    ) -> BackendFuture<'a, ()>;

    /// One application.
    fn application<'a>(&'a self, id: &'a str) -> BackendFuture<'a, Option<Application>>;

    /// Applications, optionally of one hospital and/or one review period.
    fn applications<'a>(
        &'a self,
        hospital_id: Option<&'a str>,
        period: Option<Period>,
    ) -> BackendFuture<'a, Vec<Application>>;

    /// Appends events to the audit log.
    fn append_audit<'a>(&'a self, events: &'a [AuditEvent]) -> BackendFuture<'a, ()>;

    /// Writes a refusal to the audit log.
    fn record_refusal<'a>(&'a self, refusal: &'a Refusal) -> BackendFuture<'a, ()>;

    /// The latest `limit` entries of the audit log, newest first.
    fn audit_log(&self, limit: u32) -> BackendFuture<'_, Vec<AuditEntry>>;

    /// The settled cases with the run that settled each (the book of record), by month,
    /// hospital and case id, optionally of the months of `period` and/or one hospital.
    fn ledger_cases<'a>(
        &'a self,
        period: Option<Period>,
        hospital_id: Option<&'a str>,
    ) -> BackendFuture<'a, Vec<LedgerCase>>;

    /// The committed settlement runs, oldest first, optionally of one month.
    fn settlement_runs(&self, month: Option<YearMonth>) -> BackendFuture<'_, Vec<SettlementRun>>;

    /// The ledger the engine's settlement and clearing write, if this store is one (the
    /// shipped server's always is; a test double need not be).
    fn ledger(&self) -> Option<Store> {
        None
    }
}
