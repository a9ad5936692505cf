//! What can go wrong in the store.

use thiserror::Error;

/// An error of the store.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The URL names no supported database.
    #[error("database URL {url:?}: expected sqlite://PATH (created on first use), sqlite::memory: or postgres://…")]
    UnsupportedUrl {
        /// The URL given (without its password).
        url: String,
    },
    /// The database refused or failed.
    #[error("database: {0}")]
    Database(sqlx::Error),
    /// The schema migrations could not be applied.
    #[error("schema migration: {0}")]
    Migrate(sqlx::migrate::MigrateError),
    /// A write whose input is inconsistent (nothing was written).
    #[error("refused: {0}")]
    Invalid(String),
    /// A re-run of a month that would replace hospitals' settled months with fewer than half
    /// as many cases (a truncated upload); nothing was replaced, the refusal was audited.
    #[error("refused to replace {month}: {}; nothing was replaced (if the upload is complete, re-run with --force)", shrinks.iter().map(|s| s.to_string()).collect::<Vec<_>>().join("; "))]
    Shrink {
        /// The month.
        month: String,
        /// Each hospital whose month would shrink by half or more.
        shrinks: Vec<Shrink>,
    },
    /// The year is cleared and closed: a month of it cannot be re-settled nor its clearing
    /// re-run until it is reopened.
    #[error("{year} is cleared and closed ({at}, by {actor}): reopen it first (drgdip ledger reopen --year {year} --reason …)")]
    Closed {
        /// The year.
        year: i32,
        /// When it was closed.
        at: String,
        /// Who closed it.
        actor: String,
    },
    /// A stored row that cannot be read back (written by another program, or damaged).
    #[error("stored {what} cannot be read: {message}")]
    Corrupt {
        /// What was read.
        what: String,
        /// Why it failed.
        message: String,
    },
}

/// A hospital whose settled month a re-run would replace with fewer than half as many cases.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shrink {
    /// The hospital.
    pub hospital_id: String,
    /// Cases settled now.
    pub settled: i64,
    /// Cases of the re-run.
    pub new: i64,
}

impl std::fmt::Display for Shrink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} has {} settled case(s), the re-run {} (fewer than half)",
            self.hospital_id, self.settled, self.new
        )
    }
}

// The database's error is in the message (not a `source`), so that a chain of contexts
// (`anyhow`'s `{:#}`) does not print it twice.
impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> StoreError {
        StoreError::Database(e)
    }
}

impl From<sqlx::migrate::MigrateError> for StoreError {
    fn from(e: sqlx::migrate::MigrateError) -> StoreError {
        StoreError::Migrate(e)
    }
}

impl StoreError {
    pub(crate) fn corrupt(what: impl Into<String>, message: impl ToString) -> StoreError {
        StoreError::Corrupt {
            what: what.into(),
            message: message.to_string(),
        }
    }
}
