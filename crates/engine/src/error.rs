//! Why a use case failed: a message that names the file, the row, the key or the month, with
//! its causes chained (`{:#}` prints them joined by `: `).

use std::fmt::Display;

use thiserror::Error;

/// Why a use case failed.
#[derive(Debug, Error)]
pub enum EngineError {
    /// A named input is wrong (the message says which file, key, row or value).
    #[error("{0}")]
    Invalid(String),
    /// The run was refused to protect the ledger (a truncated upload, a closed year, …).
    #[error("{0}")]
    Refused(String),
    /// What was being done, and why it failed.
    #[error("{context}")]
    Context {
        /// What was being done (`the case file cases.csv`).
        context: String,
        /// The failure.
        #[source]
        source: Box<EngineError>,
    },
    /// A file could not be read or written.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A case file could not be read.
    #[error(transparent)]
    Batch(#[from] drgdip_io::BatchError),
    /// A scheme could not be loaded.
    #[error(transparent)]
    Scheme(#[from] drgdip_scheme::SchemeError),
    /// The ledger failed or refused.
    #[error(transparent)]
    Store(#[from] drgdip_store::StoreError),
    /// A CSV file could not be read or written.
    #[error(transparent)]
    Csv(#[from] csv::Error),
}

impl EngineError {
    /// Whether the run was refused to protect the ledger (a truncated upload, a closed
    /// year): the front end says so and exits with a refusal, not a crash.
    pub fn is_refusal(&self) -> bool {
        match self {
            EngineError::Refused(_) => true,
            EngineError::Store(
                drgdip_store::StoreError::Shrink { .. } | drgdip_store::StoreError::Closed { .. },
            ) => true,
            EngineError::Context { source, .. } => source.is_refusal(),
            _ => false,
        }
    }
}

/// The engine's results.
pub type Result<T, E = EngineError> = std::result::Result<T, E>;

/// `anyhow`-like context on the engine's results.
pub trait Context<T> {
    /// Wraps the error in what was being done.
    fn context(self, context: impl Display) -> Result<T>;
    /// [`Context::context`], the text made only on failure.
    fn with_context<C: Display>(self, f: impl FnOnce() -> C) -> Result<T>;
}

impl<T, E: Into<EngineError>> Context<T> for std::result::Result<T, E> {
    fn context(self, context: impl Display) -> Result<T> {
        self.map_err(|e| EngineError::Context {
            context: context.to_string(),
            source: Box::new(e.into()),
        })
    }

    fn with_context<C: Display>(self, f: impl FnOnce() -> C) -> Result<T> {
        self.map_err(|e| EngineError::Context {
            context: f().to_string(),
            source: Box::new(e.into()),
        })
    }
}

/// An [`EngineError::Invalid`] from a format string.
#[macro_export]
macro_rules! invalid {
    ($($t:tt)*) => { $crate::EngineError::Invalid(format!($($t)*)) };
}

/// Returns an [`EngineError::Invalid`] from a format string.
#[macro_export]
macro_rules! bail {
    ($($t:tt)*) => { return Err($crate::invalid!($($t)*)) };
}
