//! The ledger as the commands open it: `--db`, a runtime of its own, the URL shown without its
//! password.

use anyhow::{Context, Result};
use drgdip_store::Store;

/// Where the ledger is.
#[derive(Debug, Clone, clap::Args)]
pub struct DbOpts {
    /// The ledger: `sqlite://PATH` (a file, created on first use) or `postgres://…`.
    #[arg(long, env = "DRGDIP_DB", default_value = "sqlite://drgdip.db")]
    pub db: String,
}

/// Runs `fut` on a runtime of its own.
pub fn block_on<T>(fut: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    let rt = drgdip_store::tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(fut)
}

pub async fn open_store(db: &DbOpts) -> Result<Store> {
    Store::open(&db.db)
        .await
        .with_context(|| format!("cannot open the ledger {}", shown_url(&db.db)))
}

/// The URL without a password.
pub fn shown_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://…{}", &url[..s], &url[at..]),
        _ => url.to_string(),
    }
}
