//! The server's store: [`drgdip_store::Store`] behind the [`Backend`] trait.

use std::sync::Arc;

use drgdip_settle::{
    Action, Application, AuditEvent, MonthlyStatement, Period, Role, SettledCase, YearMonth,
};
use drgdip_store::{AuditRecord, LedgerCase, SettlementRun, Store, StoreError};

use crate::backend::{AuditEntry, Backend, BackendError, BackendFuture, Refusal};

fn err(e: StoreError) -> BackendError {
    BackendError(e.to_string())
}

/// Opens the store at `url`.
pub async fn open(url: &str) -> Result<Arc<dyn Backend>, BackendError> {
    let store = Store::open(url).await.map_err(err)?;
    Ok(Arc::new(store))
}

/// The audit event of a refusal: the actor and role, `access_refused`, the subject, and
/// what was asked with why it was refused as the reason.
pub fn refusal_event(r: &Refusal) -> Result<AuditEvent, BackendError> {
    let action = Action::AccessRefused;
    Ok(AuditEvent::new(
        &r.actor,
        action,
        r.subject.clone(),
        format!("{}: {}", r.action, r.reason),
    ))
}

fn entry(r: AuditRecord) -> AuditEntry {
    let AuditRecord { seq, at, event } = r;
    let AuditEvent {
        actor,
        role,
        action,
        subject,
        reason,
        before,
        after,
    } = event;
    AuditEntry {
        seq,
        at,
        actor,
        hospital_id: match &role {
            Role::Hospital { hospital_id } => Some(hospital_id.clone()),
            _ => None,
        },
        role: role.kind().to_string(),
        action: action.as_str().to_string(),
        subject,
        reason,
        before,
        after,
    }
}

impl Backend for Store {
    fn statements<'a>(
        &'a self,
        month: Option<YearMonth>,
        hospital_id: Option<&'a str>,
    ) -> BackendFuture<'a, Vec<MonthlyStatement>> {
        Box::pin(async move {
            Store::statements(self, month, hospital_id)
                .await
                .map_err(err)
        })
    }

    fn settled_cases_in<'a>(
        &'a self,
        period: Period,
        hospital_id: Option<&'a str>,
    ) -> BackendFuture<'a, Vec<SettledCase>> {
        Box::pin(async move {
            Store::settled_cases_in(self, period, hospital_id)
                .await
                .map_err(err)
        })
    }

    fn next_application_id(&self) -> BackendFuture<'_, String> {
        Box::pin(async move { Store::next_application_id(self).await.map_err(err) })
    }

    fn save_application<'a>(
        &'a self,
        app: &'a Application,
        audit: &'a [AuditEvent],
    ) -> BackendFuture<'a, ()> {
        Box::pin(async move { Store::save_application(self, app, audit).await.map_err(err) })
    }

    fn application<'a>(&'a self, id: &'a str) -> BackendFuture<'a, Option<Application>> {
        Box::pin(async move { Store::application(self, id).await.map_err(err) })
    }

    fn applications<'a>(
        &'a self,
        hospital_id: Option<&'a str>,
        period: Option<Period>,
    ) -> BackendFuture<'a, Vec<Application>> {
        Box::pin(async move {
            Store::applications(self, hospital_id, period)
                .await
                .map_err(err)
        })
    }

    fn append_audit<'a>(&'a self, events: &'a [AuditEvent]) -> BackendFuture<'a, ()> {
        Box::pin(async move { Store::append_audit(self, events).await.map_err(err) })
    }

    fn record_refusal<'a>(&'a self, refusal: &'a Refusal) -> BackendFuture<'a, ()> {
        Box::pin(async move {
            let event = refusal_event(refusal)?;
            Store::append_audit(self, std::slice::from_ref(&event))
                .await
                .map_err(err)
        })
    }

    fn audit_log(&self, limit: u32) -> BackendFuture<'_, Vec<AuditEntry>> {
        Box::pin(async move {
            Store::audit_log(self, limit)
                .await
                .map(|v| v.into_iter().map(entry).collect())
                .map_err(err)
        })
    }

    fn ledger_cases<'a>(
        &'a self,
        period: Option<Period>,
        hospital_id: Option<&'a str>,
    ) -> BackendFuture<'a, Vec<LedgerCase>> {
        Box::pin(async move {
            Store::ledger_cases(self, period, hospital_id)
                .await
                .map_err(err)
        })
    }

    fn settlement_runs(&self, month: Option<YearMonth>) -> BackendFuture<'_, Vec<SettlementRun>> {
        Box::pin(async move { Store::settlement_runs(self, month).await.map_err(err) })
    }

    fn ledger(&self) -> Option<Store> {
        Some(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_are_read_by_their_snake_case_name() {
        let a: Action =
            serde_json::from_value(serde_json::json!("special_case_submitted")).unwrap();
        assert_eq!(a, Action::SpecialCaseSubmitted);
        let r = Refusal {
            actor: drgdip_settle::Actor::reviewer("R1"),
            action: "GET /v1/audit".into(),
            subject: "/v1/audit".into(),
            reason: "bureau only".into(),
        };
        let e = refusal_event(&r).unwrap();
        assert_eq!(e.action.as_str(), "api.access_refused");
        assert_eq!(e.reason, "GET /v1/audit: bureau only");
        assert_eq!((e.actor.as_str(), e.subject.as_str()), ("R1", "/v1/audit"));
    }
}
