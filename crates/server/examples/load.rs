//! A bounded load generator for `drgdip serve`: a fixed number of requests, a fixed number of
//! keep-alive connections (one thread each), a time cap, loopback only.
//!
//! ```text
//! cargo run --release -p drgdip-server --example load -- \
//!     --addr 127.0.0.1:8080 --token TOKEN --cases ../shared/testdata/chs-drg-2.0/dev/cases.csv \
//!     [--method POST|GET] [--path /v1/group] [--requests 20000] [--concurrency 16] [--max-seconds 120] [--rows 1000]
//! ```
//! Each POST sends one row of the case file (as JSON fields), cycling through the first
//! `--rows` rows; a GET sends no body. Prints requests/s and latency percentiles; exits non-zero if any request
//! failed (a status other than 200, or a broken connection).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Opts {
    addr: SocketAddr,
    token: String,
    method: String,
    path: String,
    cases: String,
    requests: u64,
    concurrency: usize,
    max_seconds: u64,
    rows: usize,
}

fn usage(msg: &str) -> ! {
    eprintln!("load: {msg}\nusage: load --addr 127.0.0.1:PORT --token TOKEN --cases CASES.csv [--method POST|GET] [--path /v1/group] [--requests N] [--concurrency C] [--max-seconds S] [--rows R]");
    std::process::exit(2)
}

fn opts() -> Opts {
    let mut args = std::env::args().skip(1);
    let (mut addr, mut token, mut cases) = (None, None, None);
    let mut path = "/v1/group".to_string();
    let mut method = "POST".to_string();
    let (mut requests, mut concurrency, mut max_seconds, mut rows) =
        (20_000u64, 16usize, 120u64, 1000usize);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .unwrap_or_else(|| usage(&format!("{flag} needs a value")));
        let num = |v: &str| -> u64 {
            v.parse()
                .unwrap_or_else(|_| usage(&format!("{flag} {v:?}: expected a whole number")))
        };
        match flag.as_str() {
            "--addr" => addr = Some(value),
            "--token" => token = Some(value),
            "--cases" => cases = Some(value),
            "--path" => path = value,
            "--method" => method = value.to_ascii_uppercase(),
            "--requests" => requests = num(&value),
            "--concurrency" => concurrency = num(&value) as usize,
            "--max-seconds" => max_seconds = num(&value),
            "--rows" => rows = num(&value) as usize,
            other => usage(&format!("unknown flag {other}")),
        }
    }
    let addr = addr.unwrap_or_else(|| usage("--addr is required"));
    let addr = addr
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .unwrap_or_else(|| usage(&format!("--addr {addr:?}: expected IP:PORT")));
    if !addr.ip().is_loopback() {
        usage(&format!(
            "--addr {addr}: the load generator only targets loopback"
        ));
    }
    if !(1..=1_000_000).contains(&requests) || !(1..=256).contains(&concurrency) {
        usage("--requests must be 1..=1000000 and --concurrency 1..=256");
    }
    if !(1..=3600).contains(&max_seconds) || rows == 0 {
        usage("--max-seconds must be 1..=3600 and --rows at least 1");
    }
    if method != "POST" && method != "GET" {
        usage("--method must be GET or POST");
    }
    Opts {
        method,
        addr,
        token: token.unwrap_or_else(|| usage("--token is required")),
        path,
        cases: cases.unwrap_or_else(|| usage("--cases is required")),
        requests,
        concurrency,
        max_seconds,
        rows,
    }
}

/// The first `n` rows of a case file, each as a JSON object of its columns.
fn bodies(path: &str, n: usize) -> Vec<String> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| usage(&format!("{path}: {e}")));
    let header = r.headers().expect("a header").clone();
    r.records()
        .take(n)
        .map(|rec| {
            let rec = rec.expect("a CSV row");
            let obj: serde_json::Map<String, serde_json::Value> = header
                .iter()
                .zip(rec.iter())
                .map(|(k, v)| (k.to_string(), serde_json::Value::String(v.to_string())))
                .collect();
            serde_json::Value::Object(obj).to_string()
        })
        .collect()
}

/// One worker's results.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    failures: u64,
    first_failure: Option<String>,
}

/// Reads one response; returns its status. The body is read by its Content-Length.
fn read_response(r: &mut BufReader<TcpStream>, body: &mut Vec<u8>) -> std::io::Result<u16> {
    let mut line = String::new();
    if r.read_line(&mut line)? == 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "connection closed",
        ));
    }
    let status: u16 = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad status line {line:?}")))?;
    let mut length = 0usize;
    loop {
        line.clear();
        if r.read_line(&mut line)? == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "eof in headers",
            ));
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0);
            } else if k.eq_ignore_ascii_case("transfer-encoding") {
                return Err(std::io::Error::other("chunked responses are not read here"));
            }
        }
    }
    body.resize(length, 0);
    r.read_exact(body)?;
    Ok(status)
}

fn worker(
    o: Arc<Opts>,
    bodies: Arc<Vec<String>>,
    next: Arc<AtomicU64>,
    deadline: Instant,
) -> Tally {
    let mut t = Tally::default();
    let mut conn: Option<(TcpStream, BufReader<TcpStream>)> = None;
    let mut body = Vec::new();
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        if i >= o.requests || Instant::now() >= deadline {
            break;
        }
        let payload = if o.method == "GET" {
            ""
        } else {
            bodies[(i as usize) % bodies.len()].as_str()
        };
        let req = format!(
            "{} {} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
            o.method,
            o.path,
            o.addr,
            o.token,
            payload.len(),
            payload
        );
        let start = Instant::now();
        let result = (|| -> std::io::Result<u16> {
            if conn.is_none() {
                let s = TcpStream::connect_timeout(&o.addr, Duration::from_secs(5))?;
                s.set_nodelay(true)?;
                s.set_read_timeout(Some(Duration::from_secs(30)))?;
                let r = BufReader::new(s.try_clone()?);
                conn = Some((s, r));
            }
            let Some((s, r)) = conn.as_mut() else {
                return Err(std::io::Error::other("no connection"));
            };
            s.write_all(req.as_bytes())?;
            read_response(r, &mut body)
        })();
        let us = start.elapsed().as_micros().min(u128::from(u32::MAX)) as u32;
        match result {
            Ok(200) => t.latencies_us.push(us),
            Ok(status) => {
                t.failures += 1;
                t.first_failure.get_or_insert_with(|| {
                    format!("status {status}: {}", String::from_utf8_lossy(&body))
                });
            }
            Err(e) => {
                t.failures += 1;
                t.first_failure.get_or_insert_with(|| e.to_string());
                conn = None;
            }
        }
    }
    t
}

fn pct(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let k = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    f64::from(sorted[k.min(sorted.len() - 1)]) / 1000.0
}

fn main() {
    let o = Arc::new(opts());
    let bodies = Arc::new(bodies(&o.cases, o.rows));
    if bodies.is_empty() {
        usage("the case file has no rows");
    }
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let deadline = start + Duration::from_secs(o.max_seconds);
    let handles: Vec<_> = (0..o.concurrency)
        .map(|_| {
            let (o, b, n) = (o.clone(), bodies.clone(), next.clone());
            std::thread::spawn(move || worker(o, b, n, deadline))
        })
        .collect();
    let mut all = Vec::new();
    let mut failures = 0;
    let mut first_failure = None;
    for h in handles {
        let t = h.join().unwrap_or_default();
        all.extend(t.latencies_us);
        failures += t.failures;
        if first_failure.is_none() {
            first_failure = t.first_failure;
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    all.sort_unstable();
    let ok = all.len() as u64;
    let capped = ok + failures < o.requests;
    println!(
        "{} {} x {} ({}), {} connections: {} ok, {} failed in {:.2} s{}",
        o.method,
        o.path,
        o.requests,
        if o.method == "GET" {
            "no body".to_string()
        } else {
            format!("{} distinct bodies", bodies.len())
        },
        o.concurrency,
        ok,
        failures,
        elapsed,
        if capped {
            " (stopped by the time cap)"
        } else {
            ""
        }
    );
    println!("throughput: {:.0} requests/s", ok as f64 / elapsed);
    println!(
        "latency ms: p50 {:.2}  p90 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}",
        pct(&all, 50.0),
        pct(&all, 90.0),
        pct(&all, 99.0),
        pct(&all, 99.9),
        all.last().map_or(0.0, |&m| f64::from(m) / 1000.0)
    );
    if let Some(f) = first_failure {
        println!("first failure: {f}");
    }
    if failures > 0 || capped {
        std::process::exit(1);
    }
}
