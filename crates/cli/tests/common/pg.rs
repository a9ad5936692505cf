//! PostgreSQL for the end-to-end tests: `DRGDIP_TEST_PG_URL` (see `scripts/pg-cluster.sh`) and
//! a scratch schema per test, so that tests and runs never see each other's rows.

use drgdip_store::sqlx::Connection;

use super::ledger::block_on;

/// The base URL of the PostgreSQL test server (`DRGDIP_TEST_PG_URL`), or `None` with a note
/// that `what` is not run on PostgreSQL.
pub fn pg_base(what: &str) -> Option<String> {
    match std::env::var("DRGDIP_TEST_PG_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!("note: DRGDIP_TEST_PG_URL not set: {what} is not run on PostgreSQL");
            None
        }
    }
}

async fn execute(base: &str, sql: &str) {
    let mut conn = drgdip_store::sqlx::PgConnection::connect(base)
        .await
        .unwrap_or_else(|e| panic!("connect to {base}: {e}"));
    drgdip_store::sqlx::query(sql)
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// A scratch schema `drgdip_<pid>_<name>` in the database of `base`, and the URL that uses it
/// (`search_path` set in the connection options).
pub fn pg_schema(base: &str, name: &str) -> (String, String) {
    let schema = format!("drgdip_{}_{name}", std::process::id());
    block_on(execute(base, &format!("CREATE SCHEMA {schema}")));
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
    (schema, url)
}

/// Drops a schema of [`pg_schema`] with everything in it.
pub fn drop_pg_schema(base: &str, schema: &str) {
    block_on(execute(base, &format!("DROP SCHEMA {schema} CASCADE")));
}

/// A scratch schema dropped when the value is dropped (also when the test fails).
pub struct PgScratch {
    base: String,
    /// The schema's name.
    pub schema: String,
    /// The URL that uses it.
    pub url: String,
}

impl PgScratch {
    /// A scratch schema named after `name` in the database of `base`.
    pub fn new(base: &str, name: &str) -> PgScratch {
        let (schema, url) = pg_schema(base, name);
        PgScratch {
            base: base.to_string(),
            schema,
            url,
        }
    }
}

impl Drop for PgScratch {
    fn drop(&mut self) {
        // not from a panicking test's unwinding into another panic
        let (base, schema) = (self.base.clone(), self.schema.clone());
        let _ = std::thread::spawn(move || drop_pg_schema(&base, &schema)).join();
    }
}
