//! Background jobs of the web app (后台任务): an uploaded month's cases priced, a month
//! settled. Each runs off the request threads; its page polls [`Job::progress`]. A job
//! belongs to the actor who started it: nobody else opens it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;

/// The most jobs kept per server (the oldest finished one goes first).
pub const MAX_JOBS: usize = 200;

/// One priced case of an upload: what the list shows, and the row to explain it again.
#[derive(Debug, Clone)]
pub struct PricedCase {
    /// The case id.
    pub case_id: String,
    /// Grouping status (`grouped`, …) and in Chinese.
    pub status: String,
    /// 状态.
    pub status_zh: String,
    /// The DRG.
    pub drg: String,
    /// Payment category.
    pub category: String,
    /// DRG payment, fund's share (text, to the fen), or the reason it could not be paid.
    pub payment: String,
    /// The fund's share.
    pub fund_due: String,
    /// The row as the API's case fields (JSON object of the case file's columns).
    pub row: Value,
}

/// What a job has produced.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Still running.
    Running,
    /// An upload priced: the cases, the rows skipped (other month, other hospital).
    Priced {
        /// The cases, in file order.
        cases: Vec<PricedCase>,
        /// Rows discharged in another month.
        other_month: u64,
        /// Rows of another hospital (not priced for a hospital).
        other_hospital: u64,
    },
    /// A settlement: the API's answer.
    Settled(Value),
    /// The work failed: why.
    Failed(String),
}

/// One job.
#[derive(Debug)]
pub struct Job {
    /// The actor id that started it.
    pub owner: String,
    /// What it does (`pricing 2025-06`, `settling 2025-06`).
    pub what: String,
    /// Rows done.
    pub done: AtomicU64,
    /// Rows to do (0: unknown).
    pub total: AtomicU64,
    /// The outcome.
    pub outcome: Mutex<Outcome>,
}

impl Job {
    /// `(done, total, finished)`.
    pub fn progress(&self) -> (u64, u64, bool) {
        let finished = !matches!(*self.outcome(), Outcome::Running);
        (
            self.done.load(Ordering::Relaxed),
            self.total.load(Ordering::Relaxed),
            finished,
        )
    }

    /// The outcome so far.
    pub fn outcome(&self) -> std::sync::MutexGuard<'_, Outcome> {
        self.outcome.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets the outcome.
    pub fn finish(&self, o: Outcome) {
        *self.outcome() = o;
    }
}

/// The jobs of one server.
#[derive(Debug, Default)]
pub struct Jobs {
    map: Mutex<(u64, HashMap<String, Arc<Job>>)>,
}

impl Jobs {
    /// Registers a new job of `owner`; its id is random.
    pub fn start(&self, owner: &str, what: String) -> (String, Arc<Job>) {
        let job = Arc::new(Job {
            owner: owner.to_string(),
            what,
            done: AtomicU64::new(0),
            total: AtomicU64::new(0),
            outcome: Mutex::new(Outcome::Running),
        });
        let id = super::session::random_id()[..24].to_string();
        let mut m = self.map.lock().unwrap_or_else(|e| e.into_inner());
        if m.1.len() >= MAX_JOBS {
            let done: Option<String> =
                m.1.iter()
                    .find(|(_, j)| !matches!(*j.outcome(), Outcome::Running))
                    .map(|(k, _)| k.clone());
            if let Some(k) = done {
                m.1.remove(&k);
            }
        }
        m.0 += 1;
        m.1.insert(id.clone(), job.clone());
        (id, job)
    }

    /// A job by id.
    pub fn get(&self, id: &str) -> Option<Arc<Job>> {
        let m = self.map.lock().unwrap_or_else(|e| e.into_inner());
        m.1.get(id).cloned()
    }
}
