//! `drgdip serve`: the HTTP API (`drgdip-server`) over the ledger.
//!
//! Loads once — every known scheme (for `?scheme=`), the region (`drgdip_engine::Region`:
//! parameters, DRG weights from `--weights`, `--history` or the parameters' `drg.weights`,
//! hospitals, catalogue, tariff; the same loader as `drgdip settle`) and the tokens — opens
//! the store, binds `--addr` (port 0: any free port) and prints
//! `listening on http://ADDR` on standard output; everything else goes to standard error.
//! Ctrl-C or SIGTERM stops accepting connections and finishes the requests in flight.
//!
//! The server defends itself (`drgdip_server::Limits`): `--header-timeout`,
//! `--request-timeout`, `--run-timeout`, `--idle-timeout`, `--max-connections`, `--max-body`, `--max-upload`
//! (a settlement's case file), `--rate-limit` with `--rate-burst`; the defaults are in
//! `docs/api.md`.

use std::io::Write;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use drgdip_pay::params::Method;
use drgdip_server::tokio;
use drgdip_server::{AppState, Engine, Limits, RateLimit, Tokens};

use drgdip_engine::{Region, RegionFiles};
use drgdip_io::BatchOptions;

use crate::shared::{parse_point_value, read_text, weights_from, SharedOpts};

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The ledger: `sqlite://PATH` (a file, created on first use) or `postgres://…`.
    #[arg(long, env = "DRGDIP_DB", default_value = "sqlite://drgdip.db")]
    pub db: String,
    /// The tokens file (TOML): `[[token]] token = "…", role = "bureau" | "hospital" |
    /// "reviewer", hospital = "H001" (hospital tokens), reviewer = "R1" (reviewer tokens).
    #[arg(long)]
    pub tokens: PathBuf,
    /// The region's parameter file (TOML).
    #[arg(long)]
    pub params: PathBuf,
    /// The hospitals (CSV `hospital_id,name,level,credit_rating,performance_score,…`).
    #[arg(long)]
    pub hospitals: PathBuf,
    /// The DRG weights (CSV with at least `drg,weight`, e.g. made by `drgdip weights`).
    /// Default: the parameters' `drg.weights`.
    #[arg(long, conflicts_with = "history")]
    pub weights: Option<PathBuf>,
    /// History cases to compute the weights from at start-up (as `drgdip weights` would).
    #[arg(long)]
    pub history: Option<PathBuf>,
    /// CNY per point, when `drg.payment = "point"`.
    #[arg(long)]
    pub point_value: Option<String>,
    /// The experts registry of the special-case review (专家组, CSV
    /// `expert_id,name,discipline,hospital_id,title`); a reviewer token's id is its expert
    /// id. Without it no reviewer can be assigned.
    #[arg(long, env = "DRGDIP_EXPERTS")]
    pub experts: Option<PathBuf>,
    /// The address to listen on (`127.0.0.1:0` takes any free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: String,
    /// Seconds a client has to send a request head (from the connection's opening, or from
    /// the first byte of a later request); decimals allowed.
    #[arg(long, value_name = "SECONDS", default_value = "10")]
    pub header_timeout: String,
    /// Seconds from a complete request head to the answer, body included (else 408).
    #[arg(long, value_name = "SECONDS", default_value = "30")]
    pub request_timeout: String,
    /// Seconds a settlement or a clearing (`POST /v1/settlements`, `/v1/clearings`) may take
    /// before the answer is 408; the run itself goes on and commits whole.
    #[arg(long, value_name = "SECONDS", default_value = "900")]
    pub run_timeout: String,
    /// Seconds a kept-alive connection may stay without traffic between requests.
    #[arg(long, value_name = "SECONDS", default_value = "30")]
    pub idle_timeout: String,
    /// Connections open at once; one more is answered 503.
    #[arg(long, value_name = "N", default_value_t = drgdip_server::Limits::MAX_CONNECTIONS)]
    pub max_connections: usize,
    /// The largest request body in bytes (else 413).
    #[arg(long, value_name = "BYTES", default_value_t = drgdip_server::Limits::MAX_BODY)]
    pub max_body: usize,
    /// The largest case file uploaded to `POST /v1/settlements`, in bytes (else 413): a
    /// month of a region, not one case.
    #[arg(long, value_name = "BYTES", default_value_t = drgdip_server::Limits::MAX_UPLOAD)]
    pub max_upload: usize,
    /// Requests per token (per peer address without a known token): `N/s`, `N/min` or
    /// `off`; over it, 429 with Retry-After.
    #[arg(long, value_name = "N/s|N/min|off", default_value = "100/s")]
    pub rate_limit: String,
    /// Requests a client may send at once above the rate (default: twice the N of
    /// --rate-limit).
    #[arg(long, value_name = "N")]
    pub rate_burst: Option<u32>,
    #[command(flatten)]
    pub shared: SharedOpts,
}

/// Seconds as a duration (`10`, `0.5`), or an error naming the flag.
fn seconds(flag: &str, text: &str) -> Result<Duration> {
    let t = text.trim();
    let error = || {
        anyhow!("--{flag} {text:?}: expected a number of seconds greater than 0, such as 10 or 0.5")
    };
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return Err(error());
    }
    let secs: f64 = t.parse().map_err(|_| error())?;
    let d = Duration::try_from_secs_f64(secs).map_err(|_| error())?;
    if d < Duration::from_millis(1) || d > Duration::from_secs(24 * 3600) {
        return Err(error());
    }
    Ok(d)
}

/// The limits of the flags.
fn limits(a: &ServeArgs) -> Result<Limits> {
    let mut rate = RateLimit::parse(&a.rate_limit).map_err(|e| anyhow!("--rate-limit: {e}"))?;
    if let Some(b) = a.rate_burst {
        let burst = NonZeroU32::new(b)
            .ok_or_else(|| anyhow!("--rate-burst {b}: expected a whole number ≥ 1"))?;
        match &mut rate {
            Some(r) => *r = r.with_burst(burst),
            None => bail!("--rate-burst {b}: there is no rate limit (--rate-limit off)"),
        }
    }
    let limits = Limits {
        header_timeout: seconds("header-timeout", &a.header_timeout)?,
        request_timeout: seconds("request-timeout", &a.request_timeout)?,
        run_timeout: seconds("run-timeout", &a.run_timeout)?,
        idle_timeout: seconds("idle-timeout", &a.idle_timeout)?,
        max_connections: a.max_connections,
        max_body: a.max_body,
        max_upload: a.max_upload,
        rate,
    };
    limits
        .check()
        .map_err(|e| anyhow!("{e} (--max-connections, --max-body, --max-upload)"))?;
    Ok(limits)
}

fn describe(l: &Limits) -> String {
    format!(
        "header timeout {:?}, request timeout {:?} ({:?} for a settlement or clearing), idle timeout {:?}, at most {} connections, bodies up to {} bytes, case-file uploads up to {} bytes, rate {}",
        l.header_timeout,
        l.request_timeout,
        l.run_timeout,
        l.idle_timeout,
        l.max_connections,
        l.max_body,
        l.max_upload,
        l.rate
            .map_or_else(|| "unlimited".to_string(), |r| format!("{r} per token or address"))
    )
}

/// Resolves on Ctrl-C or, on Unix, SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    eprintln!("drgdip serve: stopping (finishing the requests in flight)");
}

/// Runs `drgdip serve`.
pub fn run(a: ServeArgs) -> Result<()> {
    let start = Instant::now();
    let addr = SocketAddr::from_str(a.addr.trim()).map_err(|_| {
        anyhow!(
            "--addr {:?}: expected IP:PORT such as 127.0.0.1:8080",
            a.addr
        )
    })?;
    let limits = limits(&a)?;
    let env = a.shared.resolve()?;
    let mut registry = env.registry()?;
    let files = RegionFiles {
        params: a.params.clone(),
        hospitals: a.hospitals.clone(),
        weights: weights_from(a.weights.as_deref(), a.history.as_deref()),
        point_value: parse_point_value(a.point_value.as_deref())?,
    };
    let load_start = Instant::now();
    let region = Region::load(&mut registry, &files, BatchOptions::default())?;
    let weights_desc = format!(
        "{} (loaded in {:.1} s)",
        region.weights.desc.replace('\n', "; "),
        load_start.elapsed().as_secs_f64()
    );
    for w in &region.warnings {
        eprintln!("drgdip serve: warning: {w}");
    }
    let names = registry.names();
    let schemes = names
        .iter()
        .map(|n| {
            registry
                .get(n)
                .with_context(|| format!("cannot load the scheme {n:?}"))
        })
        .collect::<Result<Vec<_>>>()?;
    let selection = env.selection()?;
    let tokens = Tokens::from_toml_str(&read_text(&a.tokens, "tokens file")?)
        .map_err(|e| anyhow!("tokens file {}: {e}", a.tokens.display()))?;
    for h in tokens.hospitals() {
        if region.hospitals.get(h).is_none() {
            eprintln!(
                "drgdip serve: warning: tokens file: hospital {h} is not in {}",
                a.hospitals.display()
            );
        }
    }
    if region.params.region.method == Method::Dip {
        eprintln!(
            "drgdip serve: warning: region.method = \"dip\": POST /v1/pay pays by DRG all the same"
        );
    }
    if !addr.ip().is_loopback() {
        eprintln!(
            "drgdip serve: warning: plain HTTP on {addr}: put it behind TLS before tokens cross a network"
        );
    }
    let experts = match &a.experts {
        None => drgdip_settle::Experts::default(),
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read the experts file {}", p.display()))?;
            drgdip_settle::Experts::parse(&text).map_err(|e| anyhow!("{}: {e}", p.display()))?
        }
    };
    let (bureau, hospital, reviewer) = tokens.counts();
    let scheme_list = schemes
        .iter()
        .map(|s| s.name.clone())
        .collect::<Vec<_>>()
        .join(", ");
    let payment_label = region.scheme.label();
    let exclusion_desc = region.catalogue_desc.clone();
    let engine = Engine::new(schemes, selection, Arc::new(region))?;
    eprintln!(
        "drgdip serve: schemes {scheme_list} (payment: {payment_label}); weights {weights_desc}; {exclusion_desc}; {} hospitals; tokens: {bureau} bureau, {hospital} hospital, {reviewer} reviewer",
        engine.hospitals().len()
    );

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the runtime")?;
    runtime.block_on(async move {
        let backend = drgdip_server::open_store(&a.db)
            .await
            .map_err(|e| anyhow!("cannot open the ledger {}: {e}", redact(&a.db)))?;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        let local = listener.local_addr()?;
        eprintln!("drgdip serve: {}", describe(&limits));
        let n_experts = experts.len();
        let state = Arc::new(
            AppState::new(Arc::new(engine), tokens, backend, limits).with_experts(experts),
        );
        eprintln!("drgdip serve: {n_experts} experts for the special-case review");
        eprintln!(
            "drgdip serve: ledger {}; ready in {:.2} s; API at http://{local}/ (OpenAPI: /openapi.json)",
            redact(&a.db),
            start.elapsed().as_secs_f64()
        );
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on http://{local}")?;
        out.flush()?;
        drop(out);
        drgdip_server::serve(listener, state, shutdown_signal())
            .await
            .context("serving")?;
        eprintln!("drgdip serve: stopped");
        Ok(())
    })
}

/// The URL without a password (`postgres://user:***@host/db`).
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..s + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::{redact, seconds};
    use std::time::Duration;

    #[test]
    fn seconds_are_whole_or_decimal_and_bad_ones_name_the_flag() {
        assert_eq!(
            seconds("idle-timeout", "30").unwrap(),
            Duration::from_secs(30)
        );
        assert_eq!(
            seconds("idle-timeout", "0.5").unwrap(),
            Duration::from_millis(500)
        );
        for bad in ["", "0", "-1", "1e3", "abc", "0.0001", "100000"] {
            let e = seconds("idle-timeout", bad).unwrap_err().to_string();
            assert!(e.starts_with("--idle-timeout"), "{bad}: {e}");
        }
    }

    #[test]
    fn a_password_in_the_url_is_not_printed() {
        assert_eq!(
            redact("postgres://bureau:s3cret@db.local/drg"),
            "postgres://bureau:***@db.local/drg"
        );
        assert_eq!(redact("sqlite://drgdip.db"), "sqlite://drgdip.db");
    }
}
