//! drgdip-store — the settlement ledger: settled cases, monthly statements, clearings,
//! prepayments, special-case applications, the payments against the statements (append-only)
//! and the append-only audit log.
//!
//! One code path for two databases, through sqlx's `Any` driver: SQLite by default (one file,
//! created on first use, `sqlite://drgdip.db`) and PostgreSQL by URL (`postgres://…`). The
//! schema is in `migrations/` (portable SQL: TEXT and BIGINT columns, money as exact decimal
//! strings, documents as JSON text) and is applied by [`Store::open`].
//!
//! Every write is one transaction, and the audit events of a change are written in the same
//! transaction as the change: either both are in the ledger or neither is. A process killed
//! in the middle of a write (`kill -9`) leaves the ledger as it was before the write began —
//! SQLite's journal (WAL) and PostgreSQL's MVCC discard the uncommitted transaction.
//!
//! The store computes nothing: the amounts come from `drgdip-settle`; the store only adds the
//! time stamps (from its [`Clock`]), the audit sequence numbers, and the `before` state of a
//! statement that a re-run replaces.

mod budget;
mod clock;
mod error;
mod governance;
mod negotiation;
mod payments;

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::str::FromStr;
use std::time::Duration;

use drgdip_pay::money::Fen;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::any::{AnyArguments, AnyPoolOptions, AnyRow};
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::query::Query;
use sqlx::{Any, AnyPool, Row};

pub use budget::{BudgetSlot, BudgetStored, StoredBudget};
pub use clock::{rfc3339, system_clock, Clock};
pub use drgdip_pay::InsuredClass;
pub use drgdip_settle::{
    Action, Actor, Adjustment, Application, AuditEvent, CasePricing, ClearingStatement,
    MonthlyStatement, Period, PrepaymentDecision, Role, SettledCase, YearMonth,
};
pub use drgdip_settle::{FundPayment, PaymentRefusal};
pub use error::{Shrink, StoreError};
pub use negotiation::{
    NegotiationRecord, SimGroupRow, SimHospitalRow, StoredMinute, StoredOutcome, StoredParty,
    StoredProposal, StoredRound,
};
pub use payments::{PaymentOutcome, PaymentRecord};
/// The database toolkit underneath (re-exported for tests and tools that need raw SQL, e.g.
/// to create a scratch PostgreSQL schema).
pub use sqlx;
/// The async runtime the store runs on (re-exported so that a command can build one).
pub use tokio;

type Result<T, E = StoreError> = std::result::Result<T, E>;
type Tx = sqlx::Transaction<'static, Any>;

/// Rows per multi-row `INSERT` (× at most 12 columns: well below SQLite's 32,766 and
/// PostgreSQL's 65,535 bind parameters).
const INSERT_CHUNK: usize = 500;

/// Which database a [`Store`] talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

/// The ledger. Cheap to clone (a connection pool inside); `Send + Sync`.
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    clock: Clock,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.backend())
            .finish_non_exhaustive()
    }
}

/// One entry of the audit log: its sequence number (increasing in commit order), the time of
/// the write (RFC 3339, UTC) and the event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRecord {
    /// The sequence number, 1, 2, 3, … in the order the events were committed.
    pub seq: i64,
    /// When the event was written, `2025-07-01T09:30:12.123456Z`.
    pub at: String,
    /// The event.
    pub event: AuditEvent,
}

/// One committed monthly settlement run (a re-run of a month adds one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettlementRun {
    /// The run's number, increasing.
    pub run_id: i64,
    /// The month settled.
    pub month: YearMonth,
    /// When it was committed.
    pub at: String,
    /// Who ran it (the actor of its first audit event).
    pub actor: String,
    /// The actor's role, as text (`system`, `bureau`, …).
    pub role: String,
    /// Cases settled.
    pub cases: i64,
    /// Statements issued.
    pub statements: i64,
    /// Σ fund_due_total of its statements.
    pub fund_due_total: Decimal,
    /// Σ amount_due of its statements.
    pub amount_due_total: Decimal,
    /// Cases of the month it replaced.
    pub replaced_cases: i64,
    /// Statements of the month it replaced.
    pub replaced_statements: i64,
    /// What the run read.
    pub inputs: RunInputs,
}

/// A closed year: cleared, its months closed to re-settlement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClosedYear {
    /// The year.
    pub year: i32,
    /// When it was closed (the clearing's time).
    pub at: String,
    /// Who closed it.
    pub actor: String,
    /// Why.
    pub reason: String,
}

/// A settled case and the run that settled it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerCase {
    /// The case as settled, with what priced it.
    #[serde(flatten)]
    pub case: SettledCase,
    /// The settlement run.
    pub run_id: i64,
}

/// What a settlement run read (the book of record): the program, the method and each input
/// file with its SHA-256 digest, and the point value it priced at. Empty texts for a run
/// written before the ledger kept them, or an input the run did not have.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunInputs {
    /// `drgdip 0.1.0`.
    pub program_version: String,
    /// `drg` or `dip`.
    pub method: String,
    /// The case file as it was named.
    pub case_file: String,
    /// Its SHA-256, hexadecimal.
    pub case_file_sha256: String,
    /// The parameter file.
    pub params_file: String,
    /// Its SHA-256.
    pub params_sha256: String,
    /// The DRG weights file or the DIP library.
    pub weights_file: String,
    /// Its SHA-256.
    pub weights_sha256: String,
    /// The point value the cases were priced at (DRG point method, DIP), as text.
    pub point_value: String,
}

// -------------------------------------------------------------------------------------------
// Migrations

/// The migrations, embedded in the binary: `0001`, `0003` (provenance, closed years), `0004`
/// (payments), `0006` (adjustments), `0007` (adjustments counted by a clearing) and `0008`
/// (opinions, rosters) and `0009` (budget versions) are portable; `0002` and `0005` (the append-only triggers of the audit
/// log and of the payments) and `0010` (the negotiation rounds, insert-only by triggers) have
/// one text per backend.
#[derive(Debug)]
struct Embedded(Backend);

impl<'s> MigrationSource<'s> for Embedded {
    fn resolve(
        self,
    ) -> Pin<
        Box<
            dyn Future<Output = std::result::Result<Vec<Migration>, sqlx::error::BoxDynError>>
                + Send
                + 's,
        >,
    > {
        let append_only = match self.0 {
            Backend::Sqlite => include_str!("../migrations/sqlite/0002_audit_append_only.sql"),
            Backend::Postgres => {
                include_str!("../migrations/postgres/0002_audit_append_only.sql")
            }
        };
        let payments_append_only = match self.0 {
            Backend::Sqlite => {
                include_str!("../migrations/sqlite/0005_payments_append_only.sql")
            }
            Backend::Postgres => {
                include_str!("../migrations/postgres/0005_payments_append_only.sql")
            }
        };
        let negotiation = match self.0 {
            Backend::Sqlite => include_str!("../migrations/sqlite/0010_negotiation.sql"),
            Backend::Postgres => include_str!("../migrations/postgres/0010_negotiation.sql"),
        };
        let migrations = vec![
            Migration::new(
                1,
                Cow::Borrowed("ledger"),
                MigrationType::Simple,
                Cow::Borrowed(include_str!("../migrations/0001_ledger.sql")),
                false,
            ),
            Migration::new(
                2,
                Cow::Borrowed("audit append only"),
                MigrationType::Simple,
                Cow::Borrowed(append_only),
                false,
            ),
            Migration::new(
                3,
                Cow::Borrowed("provenance"),
                MigrationType::Simple,
                Cow::Borrowed(include_str!("../migrations/0003_provenance.sql")),
                false,
            ),
            Migration::new(
                4,
                Cow::Borrowed("payments"),
                MigrationType::Simple,
                Cow::Borrowed(include_str!("../migrations/0004_payments.sql")),
                false,
            ),
            Migration::new(
                5,
                Cow::Borrowed("payments append only"),
                MigrationType::Simple,
                Cow::Borrowed(payments_append_only),
                false,
            ),
            Migration::new(
                6,
                Cow::Borrowed("adjustments"),
                MigrationType::Simple,
                Cow::Borrowed(include_str!("../migrations/0006_adjustments.sql")),
                false,
            ),
            Migration::new(
                7,
                Cow::Borrowed("adjustments cleared"),
                MigrationType::Simple,
                Cow::Borrowed(include_str!("../migrations/0007_adjustments_cleared.sql")),
                false,
            ),
            Migration::new(
                8,
                Cow::Borrowed("governance"),
                MigrationType::Simple,
                Cow::Borrowed(include_str!("../migrations/0008_governance.sql")),
                false,
            ),
            Migration::new(
                9,
                Cow::Borrowed("budget"),
                MigrationType::Simple,
                Cow::Borrowed(include_str!("../migrations/0009_budget.sql")),
                false,
            ),
            Migration::new(
                10,
                Cow::Borrowed("negotiation"),
                MigrationType::Simple,
                Cow::Borrowed(negotiation),
                false,
            ),
        ];
        Box::pin(async move { Ok(migrations) })
    }
}

// -------------------------------------------------------------------------------------------
// Small helpers

/// A bind value of a dynamically built query.
enum Arg {
    Text(String),
    Int(i64),
}

/// `SELECT … [WHERE a = $1 AND b = $2]` built from optional filters.
struct Select {
    sql: String,
    args: Vec<Arg>,
    has_where: bool,
}

impl Select {
    fn new(sql: &str) -> Select {
        Select {
            sql: sql.to_string(),
            args: Vec::new(),
            has_where: false,
        }
    }

    fn cond(&mut self, column: &str, op: &str, arg: Arg) -> &mut Select {
        self.sql
            .push_str(if self.has_where { " AND " } else { " WHERE " });
        self.has_where = true;
        self.args.push(arg);
        self.sql
            .push_str(&format!("{column} {op} ${}", self.args.len()));
        self
    }

    fn eq(&mut self, column: &str, arg: Arg) -> &mut Select {
        self.cond(column, "=", arg)
    }

    /// The filters of the month-keyed tables: a month range (one month as `=`) and a hospital.
    fn months_and_hospital(
        &mut self,
        months: Option<(YearMonth, YearMonth)>,
        hospital_id: Option<&str>,
    ) -> &mut Select {
        if let Some((from, to)) = months {
            if from == to {
                self.eq("month", Arg::Text(from.to_string()));
            } else {
                self.cond("month", ">=", Arg::Text(from.to_string())).cond(
                    "month",
                    "<=",
                    Arg::Text(to.to_string()),
                );
            }
        }
        if let Some(h) = hospital_id {
            self.eq("hospital_id", Arg::Text(h.to_string()));
        }
        self
    }

    fn tail(&mut self, text: &str) -> &mut Select {
        self.sql.push(' ');
        self.sql.push_str(text);
        self
    }

    fn query(&self) -> Query<'_, Any, AnyArguments<'_>> {
        let mut q = sqlx::query(&self.sql);
        for arg in &self.args {
            q = match arg {
                Arg::Text(t) => q.bind(t.as_str()),
                Arg::Int(i) => q.bind(*i),
            };
        }
        q
    }
}

/// `INSERT INTO table (cols) VALUES ($1, …), (…)` for `rows` rows.
///
/// On SQLite the placeholders are anonymous (`?`): SQLite looks a named or numbered
/// parameter (`$7`, `?7`) up by scanning the statement's list of names, which makes binding
/// the thousands of values of a multi-row insert quadratic (30 s instead of 1 s for 200,000
/// cases). Anonymous placeholders bind by position.
fn insert_sql(backend: Backend, table: &str, columns: &[&str], rows: usize) -> String {
    let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
    let n = columns.len();
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..n {
            if c > 0 {
                sql.push_str(", ");
            }
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => sql.push_str(&format!("${}", r * n + c + 1)),
            }
        }
        sql.push(')');
    }
    sql
}

fn text(row: &AnyRow, column: &str) -> Result<String> {
    row.try_get::<String, _>(column)
        .map_err(|e| StoreError::corrupt(format!("column {column}"), e))
}

fn opt_text(row: &AnyRow, column: &str) -> Result<Option<String>> {
    row.try_get::<Option<String>, _>(column)
        .map_err(|e| StoreError::corrupt(format!("column {column}"), e))
}

fn int(row: &AnyRow, column: &str) -> Result<i64> {
    row.try_get::<i64, _>(column)
        .map_err(|e| StoreError::corrupt(format!("column {column}"), e))
}

fn decimal(row: &AnyRow, column: &str) -> Result<Decimal> {
    let t = text(row, column)?;
    Decimal::from_str(&t).map_err(|e| StoreError::corrupt(format!("amount {column} {t:?}"), e))
}

fn opt_decimal(row: &AnyRow, column: &str) -> Result<Option<Decimal>> {
    opt_text(row, column)?
        .map(|t| {
            Decimal::from_str(&t)
                .map_err(|e| StoreError::corrupt(format!("amount {column} {t:?}"), e))
        })
        .transpose()
}

/// The columns of a `cases` row as [`ledger_case_of`] reads them.
const LEDGER_CASE_COLUMNS: &str = "month, case_id, hospital_id, run_id, category, payment, own, \
     fund_due, fund_paid, total_cost, weight, dip_score, scheme, scheme_version, status, mdc, \
     adrg, pay_group, insured";

fn ledger_case_of(r: &AnyRow) -> Result<LedgerCase> {
    let category = text(r, "category")?;
    let case = SettledCase {
        case_id: text(r, "case_id")?,
        hospital_id: text(r, "hospital_id")?,
        discharge_month: month_of(r, "month")?,
        category: drgdip_pay::Category::parse(&category)
            .ok_or_else(|| StoreError::corrupt("case category", format!("unknown {category:?}")))?,
        payment: decimal(r, "payment")?,
        own: decimal(r, "own")?,
        fund_due: decimal(r, "fund_due")?,
        fund_paid: decimal(r, "fund_paid")?,
        total_cost: decimal(r, "total_cost")?,
        weight: opt_decimal(r, "weight")?,
        dip_score: opt_decimal(r, "dip_score")?,
        pricing: pricing_of(r)?,
    };
    Ok(LedgerCase {
        case,
        run_id: int(r, "run_id")?,
    })
}

fn adjustment_of(r: &AnyRow) -> Result<(Adjustment, ())> {
    Ok((
        Adjustment {
            id: int(r, "id")?,
            hospital_id: text(r, "hospital_id")?,
            case_id: text(r, "case_id")?,
            case_month: month_of(r, "case_month")?,
            old_fund_due: decimal(r, "old_fund_due")?,
            new_fund_due: decimal(r, "new_fund_due")?,
            difference: decimal(r, "difference")?,
            run_id: int(r, "run_id")?,
        },
        (),
    ))
}

/// The adjustments of a re-run of `month` for the `paid` hospitals: per case, the re-run's
/// fund_due against what the case already stands at — the one on the paid statement (`kept`)
/// plus the adjustments already recorded for it (`earlier`: an earlier re-run, a spot check's
/// reversal), so that running the month again never counts a difference twice; a case only in
/// the re-run counts from 0, a case the re-run no longer has goes to 0; equal amounts give
/// none. Numbered and dated by the caller (`id`, `run_id` 0 here).
fn differences(
    paid: &BTreeSet<String>,
    kept: &[LedgerCase],
    earlier: &[Adjustment],
    rerun: &[SettledCase],
    month: YearMonth,
) -> Result<Vec<Adjustment>> {
    let mut old: BTreeMap<(&str, &str), Decimal> = BTreeMap::new();
    for k in kept {
        old.insert(
            (k.case.hospital_id.as_str(), k.case.case_id.as_str()),
            k.case.fund_due,
        );
    }
    for a in earlier
        .iter()
        .filter(|a| a.case_month == month && paid.contains(&a.hospital_id))
    {
        let at = old
            .entry((a.hospital_id.as_str(), a.case_id.as_str()))
            .or_insert(Decimal::ZERO);
        *at = at.checked_add(a.difference).ok_or_else(|| {
            StoreError::Invalid(format!(
                "the adjustments of {}/{} overflow",
                a.hospital_id, a.case_id
            ))
        })?;
    }
    let mut new: BTreeMap<(&str, &str), Decimal> = BTreeMap::new();
    for c in rerun.iter().filter(|c| paid.contains(&c.hospital_id)) {
        new.insert((c.hospital_id.as_str(), c.case_id.as_str()), c.fund_due);
    }
    let keys: BTreeSet<(&str, &str)> = old.keys().chain(new.keys()).copied().collect();
    let mut out = Vec::new();
    for key in keys {
        let before = old.get(&key).copied().unwrap_or(Decimal::ZERO);
        let after = new.get(&key).copied().unwrap_or(Decimal::ZERO);
        let difference = after.checked_sub(before).ok_or_else(|| {
            StoreError::Invalid(format!("the difference of {}/{} overflows", key.0, key.1))
        })?;
        if !difference.is_zero() {
            out.push(Adjustment {
                id: 0,
                hospital_id: key.0.to_string(),
                case_id: key.1.to_string(),
                case_month: month,
                old_fund_due: before,
                new_fund_due: after,
                difference,
                run_id: 0,
            });
        }
    }
    Ok(out)
}

fn closed_of(row: &AnyRow) -> Result<ClosedYear> {
    let year = int(row, "year")?;
    Ok(ClosedYear {
        year: i32::try_from(year)
            .map_err(|e| StoreError::corrupt(format!("closed year {year}"), e))?,
        at: text(row, "at")?,
        actor: text(row, "actor")?,
        reason: text(row, "reason")?,
    })
}

/// The provenance columns of a `cases` row.
fn pricing_of(row: &AnyRow) -> Result<CasePricing> {
    let insured = text(row, "insured")?;
    Ok(CasePricing {
        scheme: text(row, "scheme")?,
        scheme_version: text(row, "scheme_version")?,
        status: text(row, "status")?,
        mdc: text(row, "mdc")?,
        adrg: text(row, "adrg")?,
        group: text(row, "pay_group")?,
        insured: InsuredClass::parse(&insured).ok_or_else(|| {
            StoreError::corrupt("case insured class", format!("unknown {insured:?}"))
        })?,
    })
}

fn month_of(row: &AnyRow, column: &str) -> Result<YearMonth> {
    let t = text(row, column)?;
    t.parse()
        .map_err(|e| StoreError::corrupt(format!("month {t:?}"), e))
}

fn json<T: for<'de> Deserialize<'de>>(row: &AnyRow, what: &str) -> Result<T> {
    let body = text(row, "body")?;
    serde_json::from_str(&body).map_err(|e| StoreError::corrupt(what, e))
}

fn to_json<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Invalid(format!("cannot encode: {e}")))
}

/// The actor of the first event, else the store itself (a system run).
fn actor_of(events: &[AuditEvent]) -> Actor {
    events.first().map_or_else(
        || Actor::system("drgdip-store"),
        |e| Actor {
            id: e.actor.clone(),
            role: e.role.clone(),
        },
    )
}

/// The URL without what follows `scheme://` (it may hold a password).
fn redacted(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, _)) => format!("{scheme}://…"),
        None => url.chars().take(16).collect(),
    }
}

fn prepayment_state(d: &PrepaymentDecision) -> String {
    format!("eligible={} amount={}", d.is_granted(), Fen(d.amount))
}

// -------------------------------------------------------------------------------------------
// The store

/// Whether [`Store::replace_month_with`] may replace a month with far fewer cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replace {
    /// Refuse (and audit the refusal) when a hospital's month would shrink below half.
    Guarded,
    /// Replace anyway (`--force`), and audit that it was forced.
    Forced,
}

impl Store {
    /// Opens the ledger at `url` and brings its schema up to date:
    /// - `sqlite://PATH` (`sqlite:PATH`): a file, created on first use (WAL journal);
    /// - `sqlite::memory:`: a private in-memory database (one connection; for tests);
    /// - `postgres://user:password@host/db` (`postgresql://…`).
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let url = url.trim();
        let (backend, url, memory) =
            if url.starts_with("postgres://") || url.starts_with("postgresql://") {
                (Backend::Postgres, url.to_string(), false)
            } else if url.starts_with("sqlite:") {
                let memory = url.contains(":memory:") || url.contains("mode=memory");
                let url = if memory || url.contains("mode=") {
                    url.to_string()
                } else if url.contains('?') {
                    format!("{url}&mode=rwc")
                } else {
                    format!("{url}?mode=rwc")
                };
                (Backend::Sqlite, url, memory)
            } else {
                return Err(StoreError::UnsupportedUrl { url: redacted(url) });
            };
        let options = match (backend, memory) {
            // An in-memory SQLite database lives as long as its one connection.
            (Backend::Sqlite, true) => AnyPoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None),
            // Every commit reaches the disk before it returns (the SQLite default, made
            // explicit: a ledger does not trade durability for speed).
            (Backend::Sqlite, false) => {
                AnyPoolOptions::new()
                    .max_connections(4)
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            sqlx::query("PRAGMA synchronous = FULL")
                                .execute(&mut *conn)
                                .await?;
                            Ok(())
                        })
                    })
            }
            (Backend::Postgres, _) => AnyPoolOptions::new().max_connections(8),
        }
        .acquire_timeout(Duration::from_secs(10));
        if !memory {
            // One connection first: a wrong host, password or path fails at once with the
            // database's own message (the pool would retry until its timeout and say only that).
            use sqlx::Connection;
            sqlx::AnyConnection::connect(&url).await?.close().await?;
        }
        let pool = options.connect(&url).await?;
        if backend == Backend::Sqlite && !memory {
            // Readers do not block the writer, and the writer does not block readers; the
            // mode is stored in the file, so every later connection uses it.
            sqlx::query("PRAGMA journal_mode = WAL")
                .fetch_all(&pool)
                .await?;
        }
        let migrator = Migrator::new(Embedded(backend)).await?;
        migrator.run(&pool).await?;
        Ok(Store {
            pool,
            backend,
            clock: system_clock(),
        })
    }

    /// The same store, time-stamping its writes with `clock`.
    pub fn with_clock(mut self, clock: Clock) -> Store {
        self.clock = clock;
        self
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    /// Closes the pool (waits for the connections to be returned).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    fn now(&self) -> String {
        rfc3339((self.clock)())
    }

    /// A write transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`,
    /// waiting up to the busy timeout for another writer), so that a transaction never has to
    /// upgrade a read lock — the deadlock SQLite answers with SQLITE_BUSY.
    async fn begin_write(&self) -> Result<Tx> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// Adds `n` to the counter `name` and returns its new value.
    async fn bump(tx: &mut Tx, name: &str, n: i64) -> Result<i64> {
        let row =
            sqlx::query("UPDATE counters SET value = value + $1 WHERE name = $2 RETURNING value")
                .bind(n)
                .bind(name)
                .fetch_one(&mut **tx)
                .await?;
        int(&row, "value")
    }

    /// Appends `events` to the audit log at time `at`, numbered after the last entry.
    async fn append_in(
        backend: Backend,
        tx: &mut Tx,
        at: &str,
        events: &[AuditEvent],
    ) -> Result<()> {
        if events.is_empty() {
            return Ok(());
        }
        let last = Self::bump(tx, "audit_seq", events.len() as i64).await?;
        let first = last - events.len() as i64 + 1;
        const COLUMNS: [&str; 11] = [
            "seq",
            "at",
            "actor",
            "role",
            "role_hospital_id",
            "action",
            "subject",
            "reason",
            "\"before\"",
            "\"after\"",
            "event",
        ];
        for (c, chunk) in events.chunks(INSERT_CHUNK).enumerate() {
            let sql = insert_sql(backend, "audit_log", &COLUMNS, chunk.len());
            let mut q = sqlx::query(&sql);
            for (i, e) in chunk.iter().enumerate() {
                let seq = first + (c * INSERT_CHUNK + i) as i64;
                let hospital = match &e.role {
                    Role::Hospital { hospital_id } => Some(hospital_id.clone()),
                    _ => None,
                };
                q = q
                    .bind(seq)
                    .bind(at.to_string())
                    .bind(e.actor.clone())
                    .bind(e.role.kind())
                    .bind(hospital)
                    .bind(e.action.as_str())
                    .bind(e.subject.clone())
                    .bind(e.reason.clone())
                    .bind(e.before.clone())
                    .bind(e.after.clone())
                    .bind(to_json(e)?);
            }
            q.execute(&mut **tx).await?;
        }
        Ok(())
    }

    /// The closing of `year` seen from inside a transaction, if it is closed.
    async fn closed_in(tx: &mut Tx, year: i32) -> Result<Option<ClosedYear>> {
        let row = sqlx::query("SELECT year, at, actor, reason FROM closed_years WHERE year = $1")
            .bind(i64::from(year))
            .fetch_optional(&mut **tx)
            .await?;
        row.map(|r| closed_of(&r)).transpose()
    }

    /// The closed years, in order.
    pub async fn closed_years(&self) -> Result<Vec<ClosedYear>, StoreError> {
        let rows = sqlx::query("SELECT year, at, actor, reason FROM closed_years ORDER BY year")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(closed_of).collect()
    }

    /// Reopens a closed year (its months may be re-settled, its clearing re-run), audited
    /// with `reason`. Refused when the year is not closed or the reason is empty.
    pub async fn reopen_year(
        &self,
        year: i32,
        actor: &Actor,
        reason: &str,
    ) -> Result<ClosedYear, StoreError> {
        if reason.trim().is_empty() {
            return Err(StoreError::Invalid(format!(
                "reopening {year} needs a reason (it is audited)"
            )));
        }
        let at = self.now();
        let mut tx = self.begin_write().await?;
        let Some(closed) = Self::closed_in(&mut tx, year).await? else {
            tx.rollback().await?;
            return Err(StoreError::Invalid(format!("{year} is not closed")));
        };
        sqlx::query("DELETE FROM closed_years WHERE year = $1")
            .bind(i64::from(year))
            .execute(&mut *tx)
            .await?;
        let event = AuditEvent::new(
            actor,
            Action::YearReopened,
            year.to_string(),
            reason.trim().to_string(),
        )
        .before(format!("closed at {} by {}", closed.at, closed.actor))
        .after("open".to_string());
        Self::append_in(self.backend, &mut tx, &at, &[event]).await?;
        tx.commit().await?;
        Ok(closed)
    }

    // ---------------------------------------------------------------------------------------
    // Monthly settlement

    /// Replaces everything stored for `month` — its cases and statements — with `cases` and
    /// `statements`, and appends `audit`, in ONE transaction: a reader sees the old month or
    /// the new one, never a mix, and a process killed during the write leaves the old month.
    ///
    /// Every case and statement must be of `month`, each case and each hospital once. An
    /// event [`Action::MonthlyStatementIssued`] whose subject is a replaced statement gets
    /// that statement's [`MonthlyStatement::summary`] as `before` (when it has none); a
    /// hospital whose statement is replaced by none gets an event with `after` empty.
    pub async fn replace_month(
        &self,
        month: YearMonth,
        cases: &[SettledCase],
        statements: &[MonthlyStatement],
        audit: &[AuditEvent],
    ) -> Result<(), StoreError> {
        self.replace_month_with(month, cases, statements, audit, Replace::Guarded)
            .await
    }

    /// [`Store::replace_month`], with the truncation guard as `mode` says: a re-run that
    /// would replace a hospital's settled month with fewer than half as many cases (a
    /// hospital that disappears counts) is refused with the numbers ([`StoreError::Shrink`])
    /// and the refusal is audited, unless `mode` is [`Replace::Forced`], which replaces it
    /// and audits that it was forced.
    pub async fn replace_month_with(
        &self,
        month: YearMonth,
        cases: &[SettledCase],
        statements: &[MonthlyStatement],
        audit: &[AuditEvent],
        mode: Replace,
    ) -> Result<(), StoreError> {
        self.settle_month_run(month, cases, statements, audit, mode, &RunInputs::default())
            .await
            .map(|_| ())
    }

    /// [`Store::replace_month_with`], recording what the run read (`inputs`); returns the
    /// run's number.
    pub async fn settle_month_run(
        &self,
        month: YearMonth,
        cases: &[SettledCase],
        statements: &[MonthlyStatement],
        audit: &[AuditEvent],
        mode: Replace,
        inputs: &RunInputs,
    ) -> Result<i64, StoreError> {
        let mut seen = HashSet::with_capacity(cases.len());
        for c in cases {
            if c.discharge_month != month {
                return Err(StoreError::Invalid(format!(
                    "case {} of {} is of {}, not of the month {month} being replaced",
                    c.case_id, c.hospital_id, c.discharge_month
                )));
            }
            if !seen.insert(c.case_id.as_str()) {
                return Err(StoreError::Invalid(format!(
                    "case {} appears more than once in {month}",
                    c.case_id
                )));
            }
        }
        let mut hospitals = HashSet::with_capacity(statements.len());
        for s in statements {
            if s.month != month {
                return Err(StoreError::Invalid(format!(
                    "statement {} is not of the month {month} being replaced",
                    s.subject()
                )));
            }
            if !hospitals.insert(s.hospital_id.as_str()) {
                return Err(StoreError::Invalid(format!(
                    "two statements for {}",
                    s.subject()
                )));
            }
        }
        let at = self.now();
        let m = month.to_string();
        let mut tx = self.begin_write().await?;
        if let Some(closed) = Self::closed_in(&mut tx, month.year()).await? {
            tx.rollback().await?;
            return Err(StoreError::Closed {
                year: closed.year,
                at: closed.at,
                actor: closed.actor,
            });
        }
        let run_id = Self::bump(&mut tx, "settlement_run", 1).await?;

        let (previous, previous_runs): (Vec<MonthlyStatement>, BTreeMap<String, i64>) = {
            let rows = sqlx::query(
                "SELECT body, run_id FROM statements WHERE month = $1 ORDER BY hospital_id",
            )
            .bind(m.as_str())
            .fetch_all(&mut *tx)
            .await?;
            let mut statements = Vec::with_capacity(rows.len());
            let mut runs = BTreeMap::new();
            for r in &rows {
                let st: MonthlyStatement = json(r, "monthly statement")?;
                runs.insert(st.hospital_id.clone(), int(r, "run_id")?);
                statements.push(st);
            }
            (statements, runs)
        };
        // 已拨付: a statement with a payment recorded against it is never rewritten
        let paid: BTreeSet<String> = {
            let rows = sqlx::query("SELECT DISTINCT hospital_id FROM payments WHERE month = $1")
                .bind(m.as_str())
                .fetch_all(&mut *tx)
                .await?;
            rows.iter()
                .map(|r| text(r, "hospital_id"))
                .collect::<Result<_>>()?
        };
        let paid: BTreeSet<String> = paid
            .into_iter()
            .filter(|h| previous_runs.contains_key(h))
            .collect();
        let mut kept_cases: Vec<LedgerCase> = Vec::new();
        for h in &paid {
            let rows = sqlx::query(&format!(
                "SELECT {LEDGER_CASE_COLUMNS} FROM cases WHERE month = $1 AND hospital_id = $2 ORDER BY case_id"
            ))
            .bind(m.as_str())
            .bind(h.as_str())
            .fetch_all(&mut *tx)
            .await?;
            for r in &rows {
                kept_cases.push(ledger_case_of(r)?);
            }
        }
        let settled: BTreeMap<String, i64> = {
            let rows = sqlx::query(
                "SELECT hospital_id, COUNT(*) AS n FROM cases WHERE month = $1 GROUP BY hospital_id",
            )
            .bind(m.as_str())
            .fetch_all(&mut *tx)
            .await?;
            rows.iter()
                .map(|r| Ok((text(r, "hospital_id")?, int(r, "n")?)))
                .collect::<Result<_>>()?
        };
        let replaced_cases: i64 = settled.values().sum();
        let mut new_counts: BTreeMap<&str, i64> = BTreeMap::new();
        for c in cases {
            *new_counts.entry(c.hospital_id.as_str()).or_default() += 1;
        }
        let shrinks: Vec<Shrink> = settled
            .iter()
            .filter_map(|(h, &old)| {
                let new = new_counts.get(h.as_str()).copied().unwrap_or(0);
                (new * 2 < old).then(|| Shrink {
                    hospital_id: h.clone(),
                    settled: old,
                    new,
                })
            })
            .collect();
        let actor = actor_of(audit);
        let shrink_events = |action: Action, why: &str| -> Vec<AuditEvent> {
            shrinks
                .iter()
                .map(|sh| {
                    AuditEvent::new(
                        &actor,
                        action,
                        format!("{}/{month}", sh.hospital_id),
                        format!("{why}: {sh}"),
                    )
                    .before(format!("cases={}", sh.settled))
                    .after(format!("cases={}", sh.new))
                })
                .collect()
        };
        let forced_events = match (shrinks.is_empty(), mode) {
            (true, _) => Vec::new(),
            (false, Replace::Forced) => shrink_events(
                Action::MonthReplacementForced,
                "re-run of the monthly settlement forced by the operator",
            ),
            (false, Replace::Guarded) => {
                tx.rollback().await?;
                let refused = shrink_events(
                    Action::MonthReplacementRefused,
                    "re-run of the monthly settlement refused (a truncated upload?)",
                );
                self.append_audit(&refused).await?;
                return Err(StoreError::Shrink { month: m, shrinks });
            }
        };

        sqlx::query("DELETE FROM cases WHERE month = $1")
            .bind(m.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM statements WHERE month = $1")
            .bind(m.as_str())
            .execute(&mut *tx)
            .await?;

        const CASE_COLUMNS: [&str; 19] = [
            "month",
            "case_id",
            "hospital_id",
            "run_id",
            "category",
            "payment",
            "own",
            "fund_due",
            "fund_paid",
            "total_cost",
            "weight",
            "dip_score",
            "scheme",
            "scheme_version",
            "status",
            "mdc",
            "adrg",
            "pay_group",
            "insured",
        ];
        // the adjustments: per case of a paid statement, the re-run's fund_due against the
        // paid one
        let earlier: Vec<Adjustment> = sqlx::query(
            "SELECT id, hospital_id, case_id, case_month, old_fund_due, new_fund_due, difference, run_id \
             FROM adjustments WHERE case_month = $1 ORDER BY id",
        )
        .bind(m.as_str())
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| Ok(adjustment_of(r)?.0))
        .collect::<Result<_>>()?;
        let adjustments = differences(&paid, &kept_cases, &earlier, cases, month)?;
        let written: Vec<(&SettledCase, i64)> = cases
            .iter()
            .filter(|c| !paid.contains(&c.hospital_id))
            .map(|c| (c, run_id))
            .chain(kept_cases.iter().map(|k| (&k.case, k.run_id)))
            .collect();
        for chunk in written.chunks(INSERT_CHUNK) {
            let sql = insert_sql(self.backend, "cases", &CASE_COLUMNS, chunk.len());
            let mut q = sqlx::query(&sql);
            for &(c, case_run) in chunk {
                q = q
                    .bind(m.as_str())
                    .bind(c.case_id.as_str())
                    .bind(c.hospital_id.as_str())
                    .bind(case_run)
                    .bind(c.category.as_str())
                    .bind(c.payment.to_string())
                    .bind(c.own.to_string())
                    .bind(c.fund_due.to_string())
                    .bind(c.fund_paid.to_string())
                    .bind(c.total_cost.to_string())
                    .bind(c.weight.map(|w| w.to_string()))
                    .bind(c.dip_score.map(|s| s.to_string()))
                    .bind(c.pricing.scheme.as_str())
                    .bind(c.pricing.scheme_version.as_str())
                    .bind(c.pricing.status.as_str())
                    .bind(c.pricing.mdc.as_str())
                    .bind(c.pricing.adrg.as_str())
                    .bind(c.pricing.group.as_str())
                    .bind(c.pricing.insured.as_str());
            }
            q.execute(&mut *tx).await?;
        }

        const STATEMENT_COLUMNS: [&str; 9] = [
            "month",
            "hospital_id",
            "run_id",
            "cases",
            "fund_due_total",
            "deposit_withheld",
            "amount_due",
            "due_by",
            "body",
        ];
        let mut fund_due_total = Decimal::ZERO;
        let mut amount_due_total = Decimal::ZERO;
        let written_statements: Vec<(&MonthlyStatement, i64)> = statements
            .iter()
            .filter(|s| !paid.contains(&s.hospital_id))
            .map(|s| (s, run_id))
            .chain(
                previous
                    .iter()
                    .filter(|s| paid.contains(&s.hospital_id))
                    .map(|s| (s, previous_runs[&s.hospital_id])),
            )
            .collect();
        for chunk in written_statements.chunks(INSERT_CHUNK) {
            let sql = insert_sql(self.backend, "statements", &STATEMENT_COLUMNS, chunk.len());
            let mut q = sqlx::query(&sql);
            for &(s, statement_run) in chunk {
                fund_due_total += s.fund_due_total;
                amount_due_total += s.amount_due;
                q = q
                    .bind(m.as_str())
                    .bind(s.hospital_id.as_str())
                    .bind(statement_run)
                    .bind(s.cases as i64)
                    .bind(s.fund_due_total.to_string())
                    .bind(s.deposit_withheld.to_string())
                    .bind(s.amount_due.to_string())
                    .bind(s.due_by.to_string())
                    .bind(to_json(s)?);
            }
            q.execute(&mut *tx).await?;
        }

        sqlx::query(&insert_sql(
            self.backend,
            "settlement_runs",
            &[
                "run_id",
                "month",
                "at",
                "actor",
                "role",
                "cases",
                "statements",
                "fund_due_total",
                "amount_due_total",
                "replaced_cases",
                "replaced_statements",
                "program_version",
                "method",
                "case_file",
                "case_file_sha256",
                "params_file",
                "params_sha256",
                "weights_file",
                "weights_sha256",
                "point_value",
            ],
            1,
        ))
        .bind(run_id)
        .bind(m.as_str())
        .bind(at.as_str())
        .bind(actor.id.as_str())
        .bind(actor.role.to_string())
        .bind(cases.len() as i64)
        .bind(statements.len() as i64)
        .bind(fund_due_total.to_string())
        .bind(amount_due_total.to_string())
        .bind(replaced_cases)
        .bind(previous.len() as i64)
        .bind(inputs.program_version.as_str())
        .bind(inputs.method.as_str())
        .bind(inputs.case_file.as_str())
        .bind(inputs.case_file_sha256.as_str())
        .bind(inputs.params_file.as_str())
        .bind(inputs.params_sha256.as_str())
        .bind(inputs.weights_file.as_str())
        .bind(inputs.weights_sha256.as_str())
        .bind(inputs.point_value.as_str())
        .execute(&mut *tx)
        .await?;

        // The audit trail: `before` of each re-issued statement, and the statements that
        // the re-run removed.
        let before: BTreeMap<String, String> = previous
            .iter()
            .map(|s| (s.subject(), s.summary()))
            .collect();
        let mut events: Vec<AuditEvent> = forced_events;
        // a paid statement is kept: its re-issue is not an event, its adjustments are
        let kept_subjects: BTreeSet<String> = paid.iter().map(|h| format!("{h}/{month}")).collect();
        events.extend(
            audit
                .iter()
                .filter(|e| {
                    !(e.action == Action::MonthlyStatementIssued
                        && kept_subjects.contains(&e.subject))
                })
                .cloned(),
        );
        for e in &mut events {
            if e.action == Action::MonthlyStatementIssued && e.before.is_none() {
                e.before = before.get(&e.subject).cloned();
            }
        }
        // carried adjustments: released from the statements this run replaces, then marked
        // on the new ones
        for s in &previous {
            if !paid.contains(&s.hospital_id) {
                sqlx::query(
                    "UPDATE adjustments SET statement_month = NULL WHERE statement_month = $1 AND hospital_id = $2",
                )
                .bind(m.as_str())
                .bind(s.hospital_id.as_str())
                .execute(&mut *tx)
                .await?;
            }
        }
        for s in statements.iter().filter(|s| !paid.contains(&s.hospital_id)) {
            for a in &s.adjustments {
                sqlx::query("UPDATE adjustments SET statement_month = $1 WHERE id = $2")
                    .bind(m.as_str())
                    .bind(a.id)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        if !adjustments.is_empty() {
            let last = Self::bump(&mut tx, "adjustment", adjustments.len() as i64).await?;
            let first = last - adjustments.len() as i64 + 1;
            const ADJ_COLUMNS: [&str; 10] = [
                "id",
                "hospital_id",
                "case_id",
                "case_month",
                "old_fund_due",
                "new_fund_due",
                "difference",
                "run_id",
                "at",
                "statement_month",
            ];
            for (c, chunk) in adjustments.chunks(INSERT_CHUNK).enumerate() {
                let sql = insert_sql(self.backend, "adjustments", &ADJ_COLUMNS, chunk.len());
                let mut q = sqlx::query(&sql);
                for (i, a) in chunk.iter().enumerate() {
                    q = q
                        .bind(first + (c * INSERT_CHUNK + i) as i64)
                        .bind(a.hospital_id.as_str())
                        .bind(a.case_id.as_str())
                        .bind(m.as_str())
                        .bind(a.old_fund_due.to_string())
                        .bind(a.new_fund_due.to_string())
                        .bind(a.difference.to_string())
                        .bind(run_id)
                        .bind(at.as_str())
                        .bind(None::<String>);
                }
                q.execute(&mut *tx).await?;
            }
        }
        for h in &paid {
            let mine: Vec<&Adjustment> =
                adjustments.iter().filter(|a| &a.hospital_id == h).collect();
            let total: Decimal = mine.iter().map(|a| a.difference).sum();
            events.push(
                AuditEvent::new(
                    &actor,
                    Action::AdjustmentRecorded,
                    format!("{h}/{month}"),
                    format!(
                        "re-run of {month}: the statement is paid and stays as it was; {} case difference(s), Σ {} (补差), carried onto the hospital's next statement",
                        mine.len(),
                        drgdip_pay::money::Fen(total)
                    ),
                )
                .after(format!("adjustments={} total={}", mine.len(), drgdip_pay::money::Fen(total))),
            );
        }
        for s in &previous {
            if paid.contains(&s.hospital_id) {
                continue;
            }
            if !hospitals.contains(s.hospital_id.as_str()) {
                events.push(
                    AuditEvent::new(
                        &actor,
                        Action::MonthlyStatementIssued,
                        s.subject(),
                        format!(
                            "re-run of the monthly settlement of {month}: the hospital has no case in it any more; statement withdrawn"
                        ),
                    )
                    .before(s.summary()),
                );
            }
        }
        Self::append_in(self.backend, &mut tx, &at, &events).await?;
        tx.commit().await?;
        Ok(run_id)
    }

    /// The months settled at least once, in order.
    pub async fn months(&self) -> Result<Vec<YearMonth>, StoreError> {
        let rows = sqlx::query("SELECT DISTINCT month FROM settlement_runs ORDER BY month")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| month_of(r, "month")).collect()
    }

    /// The monthly statements, by month then hospital, optionally of one month and/or one
    /// hospital.
    pub async fn statements(
        &self,
        month: Option<YearMonth>,
        hospital_id: Option<&str>,
    ) -> Result<Vec<MonthlyStatement>, StoreError> {
        let period = month.map(|m| (m, m));
        self.statements_between(period, hospital_id).await
    }

    /// The monthly statements of the months of `period` (a quarter, a year, …).
    pub async fn statements_in(
        &self,
        period: Period,
        hospital_id: Option<&str>,
    ) -> Result<Vec<MonthlyStatement>, StoreError> {
        self.statements_between(
            Some((period.first_month(), period.last_month())),
            hospital_id,
        )
        .await
    }

    async fn statements_between(
        &self,
        months: Option<(YearMonth, YearMonth)>,
        hospital_id: Option<&str>,
    ) -> Result<Vec<MonthlyStatement>> {
        let mut q = Select::new("SELECT body FROM statements");
        q.months_and_hospital(months, hospital_id);
        q.tail("ORDER BY month, hospital_id");
        let rows = q.query().fetch_all(&self.pool).await?;
        rows.iter().map(|r| json(r, "monthly statement")).collect()
    }

    /// The settled cases, by month, hospital and case id, optionally of one month and/or one
    /// hospital.
    pub async fn settled_cases(
        &self,
        month: Option<YearMonth>,
        hospital_id: Option<&str>,
    ) -> Result<Vec<SettledCase>, StoreError> {
        self.cases_between(month.map(|m| (m, m)), hospital_id).await
    }

    /// The settled cases of the months of `period` (a quarter, a year, …).
    pub async fn settled_cases_in(
        &self,
        period: Period,
        hospital_id: Option<&str>,
    ) -> Result<Vec<SettledCase>, StoreError> {
        self.cases_between(
            Some((period.first_month(), period.last_month())),
            hospital_id,
        )
        .await
    }

    /// The settled cases with the run that settled each, by month, hospital and case id,
    /// optionally of the months of `period` and/or one hospital (`drgdip ledger cases`).
    pub async fn ledger_cases(
        &self,
        period: Option<Period>,
        hospital_id: Option<&str>,
    ) -> Result<Vec<LedgerCase>, StoreError> {
        let months = period.map(|p| (p.first_month(), p.last_month()));
        self.ledger_cases_between(months, hospital_id).await
    }

    async fn cases_between(
        &self,
        months: Option<(YearMonth, YearMonth)>,
        hospital_id: Option<&str>,
    ) -> Result<Vec<SettledCase>> {
        Ok(self
            .ledger_cases_between(months, hospital_id)
            .await?
            .into_iter()
            .map(|c| c.case)
            .collect())
    }

    async fn ledger_cases_between(
        &self,
        months: Option<(YearMonth, YearMonth)>,
        hospital_id: Option<&str>,
    ) -> Result<Vec<LedgerCase>> {
        let mut q = Select::new(&format!("SELECT {LEDGER_CASE_COLUMNS} FROM cases"));
        q.months_and_hospital(months, hospital_id);
        q.tail("ORDER BY month, hospital_id, case_id");
        let rows = q.query().fetch_all(&self.pool).await?;
        rows.iter().map(ledger_case_of).collect()
    }

    /// The adjustments (补差) pending for the statements of `month`: not yet on a statement
    /// (or on the month's own statements, which a re-run replaces) nor counted by a clearing,
    /// of cases of earlier months, by hospital and number.
    pub async fn pending_adjustments(
        &self,
        month: YearMonth,
    ) -> Result<Vec<Adjustment>, StoreError> {
        let m = month.to_string();
        let rows = sqlx::query(
            "SELECT id, hospital_id, case_id, case_month, old_fund_due, new_fund_due, difference, run_id \
             FROM adjustments WHERE (statement_month IS NULL OR statement_month = $1) AND case_month < $2 \
             AND cleared_year IS NULL ORDER BY hospital_id, id",
        )
        .bind(m.as_str())
        .bind(m.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok(adjustment_of(r)?.0)).collect()
    }

    /// The adjustments (补差) of cases of `year` that no statement carries: pending, or
    /// already counted by a clearing of `year` (which a re-clearing counts again), by hospital
    /// and number. The clearing of the year counts them ([`Store::replace_clearing`] marks
    /// them), so that a difference of a hospital that settles no later month is not lost.
    pub async fn uncarried_adjustments(&self, year: i32) -> Result<Vec<Adjustment>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, hospital_id, case_id, case_month, old_fund_due, new_fund_due, difference, run_id \
             FROM adjustments WHERE statement_month IS NULL AND case_month >= $1 AND case_month <= $2 \
             AND (cleared_year IS NULL OR cleared_year = $3) ORDER BY hospital_id, id",
        )
        .bind(format!("{year:04}-01"))
        .bind(format!("{year:04}-12"))
        .bind(i64::from(year))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok(adjustment_of(r)?.0)).collect()
    }

    /// Every adjustment (补差) with the month of the statement carrying it (`None`: pending),
    /// by number, optionally of one hospital.
    pub async fn adjustments(
        &self,
        hospital_id: Option<&str>,
    ) -> Result<Vec<(Adjustment, Option<YearMonth>)>, StoreError> {
        let mut q = Select::new(
            "SELECT id, hospital_id, case_id, case_month, old_fund_due, new_fund_due, difference, \
             run_id, statement_month FROM adjustments",
        );
        if let Some(h) = hospital_id {
            q.eq("hospital_id", Arg::Text(h.to_string()));
        }
        q.tail("ORDER BY id");
        let rows = q.query().fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                let (a, _) = adjustment_of(r)?;
                let carried = opt_text(r, "statement_month")?
                    .map(|t| {
                        t.parse::<YearMonth>()
                            .map_err(|e| StoreError::corrupt(format!("month {t:?}"), e))
                    })
                    .transpose()?;
                Ok((a, carried))
            })
            .collect()
    }

    /// The committed settlement runs, oldest first, optionally of one month.
    pub async fn settlement_runs(
        &self,
        month: Option<YearMonth>,
    ) -> Result<Vec<SettlementRun>, StoreError> {
        let mut q = Select::new(
            "SELECT run_id, month, at, actor, role, cases, statements, fund_due_total, \
             amount_due_total, replaced_cases, replaced_statements, program_version, method, \
             case_file, case_file_sha256, params_file, params_sha256, weights_file, \
             weights_sha256, point_value FROM settlement_runs",
        );
        if let Some(m) = month {
            q.eq("month", Arg::Text(m.to_string()));
        }
        q.tail("ORDER BY run_id");
        let rows = q.query().fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(SettlementRun {
                    run_id: int(r, "run_id")?,
                    month: month_of(r, "month")?,
                    at: text(r, "at")?,
                    actor: text(r, "actor")?,
                    role: text(r, "role")?,
                    cases: int(r, "cases")?,
                    statements: int(r, "statements")?,
                    fund_due_total: decimal(r, "fund_due_total")?,
                    amount_due_total: decimal(r, "amount_due_total")?,
                    replaced_cases: int(r, "replaced_cases")?,
                    replaced_statements: int(r, "replaced_statements")?,
                    inputs: RunInputs {
                        program_version: text(r, "program_version")?,
                        method: text(r, "method")?,
                        case_file: text(r, "case_file")?,
                        case_file_sha256: text(r, "case_file_sha256")?,
                        params_file: text(r, "params_file")?,
                        params_sha256: text(r, "params_sha256")?,
                        weights_file: text(r, "weights_file")?,
                        weights_sha256: text(r, "weights_sha256")?,
                        point_value: text(r, "point_value")?,
                    },
                })
            })
            .collect()
    }

    // ---------------------------------------------------------------------------------------
    // Annual clearing

    /// Replaces the clearing statements of `year` with `statements` and appends `audit`, in
    /// one transaction. An event [`Action::ClearingStatementIssued`] of a replaced statement
    /// gets its [`ClearingStatement::summary`] as `before`.
    pub async fn replace_clearing(
        &self,
        year: i32,
        statements: &[ClearingStatement],
        audit: &[AuditEvent],
    ) -> Result<(), StoreError> {
        let mut hospitals = HashSet::new();
        for s in statements {
            if s.year != year {
                return Err(StoreError::Invalid(format!(
                    "clearing statement {} is not of the year {year} being replaced",
                    s.subject()
                )));
            }
            if !hospitals.insert(s.hospital_id.as_str()) {
                return Err(StoreError::Invalid(format!(
                    "two clearing statements for {}",
                    s.subject()
                )));
            }
        }
        let at = self.now();
        let mut tx = self.begin_write().await?;
        if let Some(closed) = Self::closed_in(&mut tx, year).await? {
            tx.rollback().await?;
            return Err(StoreError::Closed {
                year: closed.year,
                at: closed.at,
                actor: closed.actor,
            });
        }
        let previous: Vec<ClearingStatement> = {
            let rows =
                sqlx::query("SELECT body FROM clearings WHERE year = $1 ORDER BY hospital_id")
                    .bind(i64::from(year))
                    .fetch_all(&mut *tx)
                    .await?;
            rows.iter()
                .map(|r| json(r, "clearing statement"))
                .collect::<Result<_>>()?
        };
        sqlx::query("DELETE FROM clearings WHERE year = $1")
            .bind(i64::from(year))
            .execute(&mut *tx)
            .await?;
        // the year's adjustments no statement carries are counted by this clearing
        sqlx::query(
            "UPDATE adjustments SET cleared_year = $1 WHERE statement_month IS NULL \
             AND case_month >= $2 AND case_month <= $3 AND cleared_year IS NULL",
        )
        .bind(i64::from(year))
        .bind(format!("{year:04}-01"))
        .bind(format!("{year:04}-12"))
        .execute(&mut *tx)
        .await?;
        const COLUMNS: [&str; 11] = [
            "year",
            "hospital_id",
            "at",
            "entitled",
            "item_fund",
            "settled",
            "paid_monthly",
            "deposits_released",
            "prepayment_recovered",
            "final_amount",
            "body",
        ];
        for chunk in statements.chunks(INSERT_CHUNK) {
            let sql = insert_sql(self.backend, "clearings", &COLUMNS, chunk.len());
            let mut q = sqlx::query(&sql);
            for s in chunk {
                q = q
                    .bind(i64::from(year))
                    .bind(s.hospital_id.as_str())
                    .bind(at.as_str())
                    .bind(s.entitled.to_string())
                    .bind(s.item_fund.to_string())
                    .bind(s.settled.to_string())
                    .bind(s.paid_monthly.to_string())
                    .bind(s.deposits_released.to_string())
                    .bind(s.prepayment_outstanding.to_string())
                    .bind(s.final_amount.to_string())
                    .bind(to_json(s)?);
            }
            q.execute(&mut *tx).await?;
        }
        let before: BTreeMap<String, String> = previous
            .iter()
            .map(|s| (s.subject(), s.summary()))
            .collect();
        let actor = actor_of(audit);
        let mut events: Vec<AuditEvent> = audit.to_vec();
        for e in &mut events {
            if e.action == Action::ClearingStatementIssued && e.before.is_none() {
                e.before = before.get(&e.subject).cloned();
            }
        }
        for s in &previous {
            if !hospitals.contains(s.hospital_id.as_str()) {
                events.push(
                    AuditEvent::new(
                        &actor,
                        Action::ClearingStatementIssued,
                        s.subject(),
                        format!("re-run of the clearing of {year}: the hospital is not in it any more; statement withdrawn"),
                    )
                    .before(s.summary()),
                );
            }
        }
        let reason =
            format!("annual clearing (年度清算) of {year}: its months are closed to re-settlement");
        sqlx::query(&insert_sql(
            self.backend,
            "closed_years",
            &["year", "at", "actor", "reason"],
            1,
        ))
        .bind(i64::from(year))
        .bind(at.as_str())
        .bind(actor.id.as_str())
        .bind(reason.as_str())
        .execute(&mut *tx)
        .await?;
        events.push(
            AuditEvent::new(&actor, Action::YearClosed, year.to_string(), reason)
                .before("open".to_string())
                .after(format!(
                    "closed: {} clearing statement(s)",
                    statements.len()
                )),
        );
        Self::append_in(self.backend, &mut tx, &at, &events).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The clearing statements of `year`, by hospital, optionally of one hospital.
    pub async fn clearings(
        &self,
        year: i32,
        hospital_id: Option<&str>,
    ) -> Result<Vec<ClearingStatement>, StoreError> {
        let mut q = Select::new("SELECT body FROM clearings");
        q.eq("year", Arg::Int(i64::from(year)));
        if let Some(h) = hospital_id {
            q.eq("hospital_id", Arg::Text(h.to_string()));
        }
        q.tail("ORDER BY hospital_id");
        let rows = q.query().fetch_all(&self.pool).await?;
        rows.iter().map(|r| json(r, "clearing statement")).collect()
    }

    // ---------------------------------------------------------------------------------------
    // Prepayment

    /// Saves (replaces) the decision of `decision.hospital_id` for `year` and appends
    /// `audit`, in one transaction; a replaced decision's state becomes the events' `before`.
    pub async fn save_prepayment(
        &self,
        year: i32,
        decision: &PrepaymentDecision,
        audit: &[AuditEvent],
    ) -> Result<(), StoreError> {
        if decision.year != year {
            return Err(StoreError::Invalid(format!(
                "prepayment decision of {} is for {}, not {year}",
                decision.hospital_id, decision.year
            )));
        }
        let at = self.now();
        let mut tx = self.begin_write().await?;
        let previous: Option<PrepaymentDecision> =
            sqlx::query("SELECT body FROM prepayments WHERE year = $1 AND hospital_id = $2")
                .bind(i64::from(year))
                .bind(decision.hospital_id.as_str())
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| json(&r, "prepayment decision"))
                .transpose()?;
        sqlx::query(
            "INSERT INTO prepayments (year, hospital_id, granted, amount, at, body) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (year, hospital_id) DO UPDATE SET granted = excluded.granted, \
             amount = excluded.amount, at = excluded.at, body = excluded.body",
        )
        .bind(i64::from(year))
        .bind(decision.hospital_id.as_str())
        .bind(i64::from(decision.is_granted()))
        .bind(decision.amount.to_string())
        .bind(at.as_str())
        .bind(to_json(decision)?)
        .execute(&mut *tx)
        .await?;
        let mut events = audit.to_vec();
        if let Some(p) = &previous {
            for e in &mut events {
                if e.before.is_none()
                    && matches!(
                        e.action,
                        Action::PrepaymentGranted | Action::PrepaymentRefused
                    )
                {
                    e.before = Some(prepayment_state(p));
                }
            }
        }
        Self::append_in(self.backend, &mut tx, &at, &events).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The prepayment decisions of `year`, by hospital.
    pub async fn prepayments(&self, year: i32) -> Result<Vec<PrepaymentDecision>, StoreError> {
        let rows = sqlx::query("SELECT body FROM prepayments WHERE year = $1 ORDER BY hospital_id")
            .bind(i64::from(year))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| json(r, "prepayment decision"))
            .collect()
    }

    // ---------------------------------------------------------------------------------------
    // Special-case applications

    /// A new application id, `SC-000001`, `SC-000002`, …: never reused, and it says nothing
    /// about the hospital.
    pub async fn next_application_id(&self) -> Result<String, StoreError> {
        let mut tx = self.begin_write().await?;
        let n = Self::bump(&mut tx, "application", 1).await?;
        tx.commit().await?;
        Ok(format!("SC-{n:06}"))
    }

    /// Saves `app` (inserted, or replacing the application of the same id) and appends
    /// `audit`, in one transaction. An application never changes hospital.
    pub async fn save_application(
        &self,
        app: &Application,
        audit: &[AuditEvent],
    ) -> Result<(), StoreError> {
        self.save_application_with_adjustments(app, audit, &[])
            .await
            .map(drop)
    }

    /// Saves `app` and appends `audit` as [`Store::save_application`] does, and records
    /// `adjustments` (补差) in the same transaction: a spot check's reversal (抽查复核) of a
    /// settled case, pending for the hospital's next statement (the paid month is never
    /// rewritten). Each adjustment is numbered from the ledger's counter (its `id` as given
    /// is ignored) and keeps its `run_id` (the run that settled the case). Returns them as
    /// recorded.
    pub async fn save_application_with_adjustments(
        &self,
        app: &Application,
        audit: &[AuditEvent],
        adjustments: &[Adjustment],
    ) -> Result<Vec<Adjustment>, StoreError> {
        let at = self.now();
        let mut tx = self.begin_write().await?;
        let existing = sqlx::query("SELECT hospital_id FROM applications WHERE id = $1")
            .bind(app.id())
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(row) = existing {
            let hospital = text(&row, "hospital_id")?;
            if hospital != app.hospital_id() {
                return Err(StoreError::Invalid(format!(
                    "application {} belongs to another hospital",
                    app.id()
                )));
            }
        }
        sqlx::query(
            "INSERT INTO applications (id, hospital_id, period, state, updated_at, body) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (id) DO UPDATE SET period = excluded.period, state = excluded.state, \
             updated_at = excluded.updated_at, body = excluded.body",
        )
        .bind(app.id())
        .bind(app.hospital_id())
        .bind(app.period().to_string())
        .bind(app.state().as_str())
        .bind(at.as_str())
        .bind(to_json(app)?)
        .execute(&mut *tx)
        .await?;
        let mut recorded = Vec::new();
        if !adjustments.is_empty() {
            let last = Self::bump(&mut tx, "adjustment", adjustments.len() as i64).await?;
            let first = last - adjustments.len() as i64 + 1;
            for (i, a) in adjustments.iter().enumerate() {
                let id = first + i as i64;
                sqlx::query(
                    "INSERT INTO adjustments (id, hospital_id, case_id, case_month, old_fund_due, \
                     new_fund_due, difference, run_id, at, statement_month) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
                )
                .bind(id)
                .bind(a.hospital_id.as_str())
                .bind(a.case_id.as_str())
                .bind(a.case_month.to_string())
                .bind(a.old_fund_due.to_string())
                .bind(a.new_fund_due.to_string())
                .bind(a.difference.to_string())
                .bind(a.run_id)
                .bind(at.as_str())
                .bind(None::<String>)
                .execute(&mut *tx)
                .await?;
                recorded.push(Adjustment { id, ..a.clone() });
            }
        }
        Self::append_in(self.backend, &mut tx, &at, audit).await?;
        tx.commit().await?;
        Ok(recorded)
    }

    /// Saves the new application `app` and appends `audit` in one transaction, only if the
    /// applications of its period are still those its quota was checked against (`checked`:
    /// their ids and states, as read before the check). Another submission or a withdrawal
    /// in between (from the server or another `drgdip` on the same ledger) refuses it with
    /// nothing written, so two submissions never share the last of a quota. The write
    /// holds the application counter's row, which serializes submissions on PostgreSQL as
    /// `BEGIN IMMEDIATE` does on SQLite.
    pub async fn submit_application(
        &self,
        app: &Application,
        audit: &[AuditEvent],
        checked: &[(String, String)],
    ) -> Result<(), StoreError> {
        let at = self.now();
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE counters SET value = value WHERE name = 'application'")
            .execute(&mut *tx)
            .await?;
        let rows = sqlx::query("SELECT id, state FROM applications WHERE period = $1 ORDER BY id")
            .bind(app.period().to_string())
            .fetch_all(&mut *tx)
            .await?;
        let now: Vec<(String, String)> = rows
            .iter()
            .map(|r| Ok((text(r, "id")?, text(r, "state")?)))
            .collect::<Result<_>>()?;
        let mut was = checked.to_vec();
        was.sort();
        if now != was || now.iter().any(|(id, _)| id == app.id()) {
            return Err(StoreError::Invalid(format!(
                "the applications of {} changed while application {} was checked against the \
                 quota ({} then, {} now); nothing was saved: submit it again",
                app.period(),
                app.id(),
                was.len(),
                now.len()
            )));
        }
        sqlx::query(
            "INSERT INTO applications (id, hospital_id, period, state, updated_at, body) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(app.id())
        .bind(app.hospital_id())
        .bind(app.period().to_string())
        .bind(app.state().as_str())
        .bind(at.as_str())
        .bind(to_json(app)?)
        .execute(&mut *tx)
        .await?;
        Self::append_in(self.backend, &mut tx, &at, audit).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The application `id`, if there is one.
    pub async fn application(&self, id: &str) -> Result<Option<Application>, StoreError> {
        sqlx::query("SELECT body FROM applications WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .map(|r| json(&r, "application"))
            .transpose()
    }

    /// The applications, by id, optionally of one hospital and/or one review period.
    pub async fn applications(
        &self,
        hospital_id: Option<&str>,
        period: Option<Period>,
    ) -> Result<Vec<Application>, StoreError> {
        let mut q = Select::new("SELECT body FROM applications");
        if let Some(h) = hospital_id {
            q.eq("hospital_id", Arg::Text(h.to_string()));
        }
        if let Some(p) = period {
            q.eq("period", Arg::Text(p.to_string()));
        }
        q.tail("ORDER BY id");
        let rows = q.query().fetch_all(&self.pool).await?;
        rows.iter().map(|r| json(r, "application")).collect()
    }

    // ---------------------------------------------------------------------------------------
    // Audit log

    /// Appends `events` (in order, one transaction) to the audit log.
    pub async fn append_audit(&self, events: &[AuditEvent]) -> Result<(), StoreError> {
        if events.is_empty() {
            return Ok(());
        }
        let at = self.now();
        let mut tx = self.begin_write().await?;
        Self::append_in(self.backend, &mut tx, &at, events).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The last `limit` entries of the audit log, newest first.
    pub async fn audit_log(&self, limit: u32) -> Result<Vec<AuditRecord>, StoreError> {
        let rows = sqlx::query("SELECT seq, at, event FROM audit_log ORDER BY seq DESC LIMIT $1")
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(audit_record).collect()
    }

    /// Every entry of the audit log about `subject` (`H001/2025-06`, an application id),
    /// oldest first.
    pub async fn audit_of(&self, subject: &str) -> Result<Vec<AuditRecord>, StoreError> {
        let rows =
            sqlx::query("SELECT seq, at, event FROM audit_log WHERE subject = $1 ORDER BY seq")
                .bind(subject)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(audit_record).collect()
    }
}

fn audit_record(row: &AnyRow) -> Result<AuditRecord> {
    let event = text(row, "event")?;
    Ok(AuditRecord {
        seq: int(row, "seq")?,
        at: text(row, "at")?,
        event: serde_json::from_str(&event).map_err(|e| StoreError::corrupt("audit event", e))?,
    })
}

#[cfg(test)]
mod tests;
