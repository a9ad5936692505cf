//! `drgdip serve` end to end: a real server on 127.0.0.1 (an ephemeral port, read from its
//! standard output) over a SQLite ledger and — when `DRGDIP_TEST_PG_URL` is set (see
//! `scripts/pg-cluster.sh`) — the same over a PostgreSQL ledger in a scratch schema, called
//! with plain HTTP/1.1 over `TcpStream`, then stopped with SIGTERM (graceful) — or killed if the
//! test fails first.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use drgdip_pay::Category;
use drgdip_settle::{SettledCase, YearMonth};
use drgdip_store::Store;
use rust_decimal::Decimal;
use serde_json::{json, Value};

const TOKENS: &str = r#"
[[token]]
token = "bureau-token-0123456789"
role = "bureau"

[[token]]
token = "h001-token-0123456789"
role = "hospital"
hospital = "H001"

[[token]]
token = "h002-token-0123456789"
role = "hospital"
hospital = "H002"

[[token]]
token = "r1-token-0123456789abc"
role = "reviewer"
reviewer = "R1"
"#;
const BUREAU: &str = "bureau-token-0123456789";
const H001: &str = "h001-token-0123456789";
const H002: &str = "h002-token-0123456789";
const R1: &str = "r1-token-0123456789abc";

/// Kills the server if the test ends before it stops it.
struct Server(Option<Child>);

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.0.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

struct Reply {
    status: u16,
    json: Value,
    text: String,
}

/// Starts `drgdip ARGS` (a `serve` command line) in `dir` and reads the address it listens
/// on from its first line; its standard error goes to `dir/stderr.txt`.
fn start(dir: &Path, args: &[&str]) -> (Server, String) {
    let stderr = std::fs::File::create(dir.join("stderr.txt")).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_drgdip"))
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("start drgdip serve");
    let mut server = Server(Some(child));
    let stdout = server.0.as_mut().unwrap().stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(Duration::from_secs(120))
        .unwrap_or_else(|_| {
            panic!(
                "no address printed; stderr: {}",
                std::fs::read_to_string(dir.join("stderr.txt")).unwrap_or_default()
            )
        });
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| {
            panic!(
                "unexpected first line {line:?}; stderr: {}",
                std::fs::read_to_string(dir.join("stderr.txt")).unwrap_or_default()
            )
        })
        .to_string();
    (server, addr)
}

/// Stops the server with SIGTERM and expects a clean exit (Unix; elsewhere it is killed).
fn stop(mut server: Server, dir: &Path) {
    let mut child = server.0.take().unwrap();
    #[cfg(unix)]
    {
        let ok = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if ok {
            let status = child.wait().unwrap();
            assert!(status.success(), "{status:?}");
            let log = std::fs::read_to_string(dir.join("stderr.txt")).unwrap();
            assert!(log.contains("drgdip serve: stopped"), "{log}");
            return;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// One HTTP/1.1 request (`Connection: close`), read to the end.
fn http(addr: &str, method: &str, path: &str, token: Option<&str>, body: Option<&str>) -> Reply {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(t) = token {
        req.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    let body = body.unwrap_or("");
    req.push_str(&format!(
        "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ));
    s.write_all(req.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    reply(&raw)
}

/// A raw response: its status, its body (de-chunked) as text and as JSON.
fn reply(raw: &[u8]) -> Reply {
    let raw = String::from_utf8_lossy(raw).into_owned();
    let (head, rest) = raw.split_once("\r\n\r\n").expect("a response head");
    let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
    let chunked = head.lines().any(|l| {
        l.to_ascii_lowercase()
            .starts_with("transfer-encoding: chunked")
    });
    let text = if chunked {
        dechunk(rest)
    } else {
        rest.to_string()
    };
    let json = serde_json::from_str(&text).unwrap_or(Value::Null);
    Reply { status, json, text }
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        s = &rest[n + 2..];
    }
    out
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// A ledger with June 2025 settled: 30 cases of H001, 10 of H002 (no statements needed).
fn seed(url: &str) {
    let rt = drgdip_store::tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let store = Store::open(url).await.unwrap();
        let june: YearMonth = "2025-06".parse().unwrap();
        let case = |id: String, h: &str| SettledCase {
            case_id: id,
            hospital_id: h.into(),
            discharge_month: june,
            category: Category::Normal,
            payment: dec("10000.00"),
            own: dec("3000.00"),
            fund_due: dec("7000.00"),
            fund_paid: dec("6500.00"),
            total_cost: dec("9500.00"),
            weight: Some(dec("1.0")),
            dip_score: None,
            pricing: Default::default(),
        };
        let mut cases: Vec<SettledCase> =
            (0..30).map(|i| case(format!("A{i:03}"), "H001")).collect();
        cases.extend((0..10).map(|i| case(format!("B{i:03}"), "H002")));
        store.replace_month(june, &cases, &[], &[]).await.unwrap();
        store.close().await;
    });
}

/// The first rows of the dev cases as JSON objects, and the file of those rows.
fn dev_rows(shared: &Path, dir: &Path, n: usize) -> Vec<serde_json::Map<String, Value>> {
    let src = shared.join("testdata/chs-drg-2.0/dev/cases.csv");
    let mut r = csv::Reader::from_path(&src).unwrap();
    let header = r.headers().unwrap().clone();
    let mut w = csv::Writer::from_path(dir.join("rows.csv")).unwrap();
    w.write_record(&header).unwrap();
    let mut out = Vec::new();
    for rec in r.records().take(n) {
        let rec = rec.unwrap();
        w.write_record(&rec).unwrap();
        out.push(
            header
                .iter()
                .zip(rec.iter())
                .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
                .collect(),
        );
    }
    w.flush().unwrap();
    out
}

#[test]
fn serve_answers_over_http_and_stops_on_sigterm() {
    let Some(shared) = common::shared() else {
        return;
    };
    let dir = common::tempdir("serve");
    let db = format!("sqlite://{}", dir.join("ledger.db").display());
    serve_end_to_end(&shared, &dir, &db);
}

#[test]
fn serve_answers_over_http_and_stops_on_sigterm_on_postgres() {
    let Some(shared) = common::shared() else {
        return;
    };
    let Some(base) = common::pg::pg_base("the API end-to-end test") else {
        return;
    };
    let scratch = common::pg::PgScratch::new(&base, "serve");
    let dir = common::tempdir("serve-pg");
    serve_end_to_end(&shared, &dir, &scratch.url);
}

/// The API end to end over the ledger `db` (seeded here): group and pay as the CLI does, role
/// isolation, special cases, the audit log, and a clean stop on SIGTERM.
fn serve_end_to_end(shared: &Path, dir: &Path, db: &str) {
    let (shared, dir) = (shared.to_path_buf(), dir.to_path_buf());
    seed(db);
    std::fs::write(dir.join("tokens.toml"), TOKENS).unwrap();
    let params = shared.join("params/region-350100-2025.toml");
    let hospitals = shared.join("testdata/chs-drg-2.0/hospitals.csv");
    let history = shared.join("testdata/chs-drg-2.0/history-2024/cases.csv");
    let (p, h, hist) = (
        params.to_str().unwrap(),
        hospitals.to_str().unwrap(),
        history.to_str().unwrap(),
    );
    let tokens = dir.join("tokens.toml");
    let stderr = std::fs::File::create(dir.join("stderr.txt")).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_drgdip"))
        .args(["serve", "--db", db, "--tokens", tokens.to_str().unwrap()])
        .args(["--params", p, "--hospitals", h, "--history", hist])
        .args([
            "--addr",
            "127.0.0.1:0",
            "--shared",
            shared.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("start drgdip serve");
    let mut server = Server(Some(child));
    let stdout = server.0.as_mut().unwrap().stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(Duration::from_secs(120))
        .unwrap_or_else(|_| {
            panic!(
                "no address printed; stderr: {}",
                std::fs::read_to_string(dir.join("stderr.txt")).unwrap_or_default()
            )
        });
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    assert!(
        addr.starts_with("127.0.0.1:") && !addr.ends_with(":0"),
        "{addr}"
    );

    // public
    let r = http(&addr, "GET", "/health", None, None);
    assert_eq!((r.status, r.text.as_str()), (200, "ok"));
    let r = http(&addr, "GET", "/openapi.json", None, None);
    assert_eq!(r.status, 200);
    assert!(r.json["paths"]["/v1/special-cases/{id}/review"]["post"].is_object());
    let r = http(&addr, "GET", "/api", None, None);
    assert!(r.text.contains("/v1/statements"));

    // 401
    let r = http(&addr, "POST", "/v1/group", None, Some("{}"));
    assert_eq!(
        (r.status, r.json["error"].as_str()),
        (401, Some("unauthorized"))
    );

    // group and pay agree with `drgdip group` / `drgdip pay` on the same rows
    let rows = dev_rows(&shared, &dir, 12);
    let out = common::drgdip(
        &shared,
        &[
            "pay",
            "--params",
            p,
            "--hospitals",
            h,
            "--history",
            hist,
            "-q",
            "-i",
            dir.join("rows.csv").to_str().unwrap(),
            "-o",
            dir.join("paid.csv").to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let paid = common::read_csv(&dir.join("paid.csv"));
    let out = common::drgdip(
        &shared,
        &[
            "group",
            "--scheme",
            "fujian-2024",
            "-q",
            "-i",
            dir.join("rows.csv").to_str().unwrap(),
            "-o",
            dir.join("grouped.csv").to_str().unwrap(),
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let grouped = common::read_csv(&dir.join("grouped.csv"));
    for ((row, want), g) in rows.iter().zip(&paid).zip(&grouped) {
        let body = Value::Object(row.clone()).to_string();
        let r = http(&addr, "POST", "/v1/group?lang=en", Some(R1), Some(&body));
        assert_eq!(r.status, 200, "{}", r.text);
        for k in ["case_id", "status", "mdc", "adrg", "drg"] {
            assert_eq!(r.json[k].as_str(), Some(g[k].as_str()), "{k}: {}", r.text);
        }
        let r = http(&addr, "POST", "/v1/pay", Some(H001), Some(&body));
        assert_eq!(r.status, 200, "{}", r.text);
        let j: HashMap<String, String> = [
            "case_id",
            "status",
            "drg",
            "category",
            "weight",
            "standard",
            "total_cost",
            "payment",
            "own",
            "fund_due",
        ]
        .iter()
        .map(|k| (k.to_string(), r.json[*k].as_str().unwrap_or("").to_string()))
        .collect();
        for (k, v) in &j {
            assert_eq!(v, &want[k], "{k} of {}: {}", want["case_id"], r.text);
        }
    }

    // role isolation over HTTP
    let r = http(
        &addr,
        "GET",
        "/v1/statements?hospital=H002",
        Some(H001),
        None,
    );
    assert_eq!(
        (r.status, r.json["error"].as_str()),
        (403, Some("forbidden"))
    );
    let r = http(&addr, "GET", "/v1/audit", Some(R1), None);
    assert_eq!(r.status, 403);
    // the special-case review needs each case's settled row: this ledger's cases have none
    // (the whole review over HTTP: crates/server/tests/special_cases.rs)
    let apply = json!({"period": "2025Q2", "case_ids": ["A001"], "reason": "high_cost",
        "text": "cost far above the group", "records": "case_id\nA001\n"});
    let r = http(
        &addr,
        "POST",
        "/v1/special-cases",
        Some(H001),
        Some(&apply.to_string()),
    );
    assert_eq!(
        (r.status, r.json["field"].as_str()),
        (400, Some("records")),
        "{}",
        r.text
    );
    let other = json!({"period": "2025Q2", "case_ids": ["A002"], "reason": "high_cost",
        "text": "x", "records": "case_id\n"});
    let r = http(
        &addr,
        "POST",
        "/v1/special-cases",
        Some(H002),
        Some(&other.to_string()),
    );
    assert_eq!(
        r.status, 403,
        "H002 may not apply for a case of H001: {}",
        r.text
    );
    let quota = json!({"period": "2025Q2", "case_ids": ["A002", "A003", "A004"],
        "reason": "high_cost", "text": "x", "records": "case_id\n"});
    let r = http(
        &addr,
        "POST",
        "/v1/special-cases",
        Some(H001),
        Some(&quota.to_string()),
    );
    assert_eq!(
        r.status, 422,
        "pooled: 5% of the region's 40 cases = 2: {}",
        r.text
    );
    assert!(r.text.contains("remaining of the cap 2"), "{}", r.text);
    let r = http(&addr, "GET", "/v1/special-cases", Some(R1), None);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["view"], "reviewer");
    assert!(
        r.json["next_round"]["applications_open"].is_string(),
        "{}",
        r.text
    );

    let r = http(&addr, "GET", "/v1/audit?limit=50", Some(BUREAU), None);
    assert_eq!(r.status, 200);
    let actions: Vec<&str> = r
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    let refused = actions
        .iter()
        .filter(|a| **a == "api.access_refused")
        .count();
    assert_eq!(refused, 3, "{}", r.text);

    // SIGTERM: the server finishes and exits cleanly
    let mut child = server.0.take().unwrap();
    #[cfg(unix)]
    {
        let ok = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if ok {
            let status = child.wait().unwrap();
            assert!(status.success(), "{status:?}");
            let log = std::fs::read_to_string(dir.join("stderr.txt")).unwrap();
            assert!(log.contains("drgdip serve: stopped"), "{log}");
            return;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// The README's serve example as written (after its earlier step, `drgdip weights`, and
/// `drgdip tokens init`), in a fresh directory, but on port 0 rather than 8080.
#[test]
fn the_readme_serve_example_runs_as_written() {
    let Some(shared) = common::shared() else {
        return;
    };
    let dir = common::tempdir("readme-serve");
    let s = shared.to_str().unwrap();
    let d = format!("{s}/testdata/chs-drg-2.0");
    let p = format!("{s}/params/region-350100-2025.toml");
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_drgdip"))
            .args(args)
            .args(["--shared", s])
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    // drgdip weights --history $D/history-2024/cases.csv --params $P -o weights.csv -q
    run(&[
        "weights",
        "--history",
        &format!("{d}/history-2024/cases.csv"),
        "--params",
        &p,
        "-o",
        "weights.csv",
        "-q",
    ]);
    // drgdip tokens init (tokens.toml)
    let out = Command::new(env!("CARGO_BIN_EXE_drgdip"))
        .args(["tokens", "init"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tokens = std::fs::read_to_string(dir.join("tokens.toml")).unwrap();
    let bureau = tokens
        .lines()
        .find_map(|l| l.strip_prefix("token = \"bureau-"))
        .map(|t| format!("bureau-{}", t.trim_end_matches('"')))
        .unwrap();
    // drgdip serve --db sqlite://drgdip.db --tokens tokens.toml --params $P \
    //   --hospitals $D/hospitals.csv --weights weights.csv --addr 127.0.0.1:8080
    let hospitals = format!("{d}/hospitals.csv");
    let (server, addr) = start(
        &dir,
        &[
            "serve",
            "--db",
            "sqlite://drgdip.db",
            "--tokens",
            "tokens.toml",
            "--params",
            &p,
            "--hospitals",
            &hospitals,
            "--weights",
            "weights.csv",
            "--addr",
            "127.0.0.1:0",
            "--shared",
            s,
        ],
    );
    let r = http(&addr, "GET", "/health", None, None);
    assert_eq!((r.status, r.text.as_str()), (200, "ok"));
    let r = http(&addr, "GET", "/v1/whoami", Some(&bureau), None);
    assert_eq!(
        (r.status, r.json["role"].as_str()),
        (200, Some("bureau")),
        "{}",
        r.text
    );
    let r = http(&addr, "GET", "/v1/statements", Some(&bureau), None);
    assert_eq!((r.status, r.json.as_array().map(Vec::len)), (200, Some(0)));
    assert!(dir.join("drgdip.db").exists());
    stop(server, &dir);
}

/// One HTTP/1.1 request with a body of `content_type` (`Connection: close`), read to the end.
fn http_body(
    addr: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    content_type: &str,
    body: &[u8],
) -> Reply {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(t) = token {
        req.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    req.push_str(&format!(
        "Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    ));
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body);
    s.write_all(&bytes).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    reply(&raw)
}

/// The totals line `drgdip settle` prints: `settled M: H hospitals, N cases, fund_due_total
/// F, deposit_withheld D, amount_due A` → (H, N, F, A).
fn settled_line(stdout: &str) -> (u64, u64, String, String) {
    let line = stdout
        .lines()
        .find(|l| l.starts_with("settled "))
        .unwrap_or_else(|| panic!("no totals line: {stdout}"));
    let field = |after: &str| {
        let rest = &line[line
            .find(after)
            .unwrap_or_else(|| panic!("{after}: {line}"))
            + after.len()..];
        rest.split([',', ' ']).next().unwrap().to_string()
    };
    let (_, rest) = line.split_once(": ").unwrap();
    let hospitals = rest.split(' ').next().unwrap().parse().unwrap();
    let cases = field("hospitals, ").parse().unwrap();
    (
        hospitals,
        cases,
        field("fund_due_total "),
        field("amount_due "),
    )
}

#[test]
fn the_bureau_settles_a_month_and_clears_a_year_over_http() {
    let Some(shared) = common::shared() else {
        return;
    };
    let dir = common::tempdir("serve-settle");
    let s = shared.to_str().unwrap();
    let d = format!("{s}/testdata/chs-drg-2.0");
    let p = format!("{s}/params/region-350100-2025.toml");
    let hospitals = format!("{d}/hospitals.csv");
    let cases_csv = format!("{d}/dev/cases.csv");
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_drgdip"))
            .args(args)
            .args(["--shared", s])
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    run(&[
        "weights",
        "--history",
        &format!("{d}/history-2024/cases.csv"),
        "--params",
        &p,
        "-o",
        "weights.csv",
        "-q",
    ]);
    // what `drgdip settle` writes for June 2025, in a ledger of its own
    let cli = run(&[
        "settle",
        "--month",
        "2025-06",
        "-i",
        &cases_csv,
        "--params",
        &p,
        "--hospitals",
        &hospitals,
        "--weights",
        "weights.csv",
        "--db",
        "sqlite://cli.db",
        "-q",
    ]);
    let (cli_hospitals, cli_cases, cli_fund_due, cli_due) = settled_line(&cli);
    assert_eq!(
        (
            cli_hospitals,
            cli_cases,
            cli_fund_due.as_str(),
            cli_due.as_str()
        ),
        (40, 1663, "33869502.27", "32176027.14"),
        "{cli}"
    );
    let cli_statements: HashMap<String, (u64, Decimal, Decimal)> = {
        let rt = drgdip_store::tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let url = format!("sqlite://{}", dir.join("cli.db").display());
            let store = Store::open(&url).await.unwrap();
            let list = store
                .statements(Some("2025-06".parse().unwrap()), None)
                .await
                .unwrap();
            store.close().await;
            list.into_iter()
                .map(|s| (s.hospital_id, (s.cases, s.fund_due_total, s.amount_due)))
                .collect()
        })
    };

    std::fs::write(dir.join("tokens.toml"), TOKENS).unwrap();
    let (server, addr) = start(
        &dir,
        &[
            "serve",
            "--db",
            "sqlite://api.db",
            "--tokens",
            "tokens.toml",
            "--params",
            &p,
            "--hospitals",
            &hospitals,
            "--weights",
            "weights.csv",
            "--addr",
            "127.0.0.1:0",
            "--rate-limit",
            "off",
            "--shared",
            s,
        ],
    );
    let file = std::fs::read(&cases_csv).unwrap();
    assert!(
        file.len() > 2 * 1024 * 1024,
        "larger than the JSON body limit"
    );

    // only the bureau settles: a hospital is refused (403, audited)
    let path = "/v1/settlements?month=2025-06";
    let r = http_body(&addr, "POST", path, Some(H001), "text/csv", b"case_id\n");
    assert_eq!(r.status, 403, "{}", r.text);
    let r = http_body(
        &addr,
        "POST",
        "/v1/settlements?month=2025-13",
        Some(BUREAU),
        "text/csv",
        &file,
    );
    assert_eq!(
        (r.status, r.json["field"].as_str()),
        (400, Some("month")),
        "{}",
        r.text
    );

    // the whole dev file uploaded: June settled, the other months skipped
    let started = std::time::Instant::now();
    let r = http_body(&addr, "POST", path, Some(BUREAU), "text/csv", &file);
    let took = started.elapsed();
    assert_eq!(r.status, 200, "{}", r.text);
    eprintln!(
        "settled the dev month over HTTP ({} bytes uploaded) in {:.2} s (server: {} ms)",
        file.len(),
        took.as_secs_f64(),
        r.json["elapsed_ms"]
    );
    let j = &r.json;
    assert_eq!(j["counts"]["read"], 20000);
    assert_eq!(j["counts"]["other_months"], 18337);
    assert_eq!(j["counts"]["settled"], 1663);
    assert_eq!(j["totals"]["hospitals"], 40);
    assert_eq!(j["totals"]["cases"], 1663);
    assert_eq!(j["totals"]["fund_due_total"], cli_fund_due.as_str());
    assert_eq!(j["totals"]["amount_due"], cli_due.as_str());
    let statements = j["statements"].as_array().unwrap();
    assert_eq!(statements.len(), cli_statements.len());
    for st in statements {
        let h = st["hospital_id"].as_str().unwrap();
        let (cases, fund_due, due) = cli_statements[h];
        assert_eq!(st["cases"].as_u64(), Some(cases), "{h}");
        assert_eq!(dec(st["fund_due_total"].as_str().unwrap()), fund_due, "{h}");
        assert_eq!(dec(st["amount_due"].as_str().unwrap()), due, "{h}");
    }
    let problems = j["problems"].as_array().unwrap();
    assert_eq!(j["problems_total"].as_u64(), Some(problems.len() as u64));
    // every problem names a line of the file (the header is line 1)
    assert!(problems.iter().all(|q| q["line"].as_u64().unwrap() > 1));
    let run_id = j["run_id"].as_i64().unwrap();
    let sha = j["case_file_sha256"].as_str().unwrap().to_string();
    assert_eq!(sha.len(), 64);

    // a truncated upload (the header and the first June rows) is refused with the numbers
    let text = String::from_utf8(file.clone()).unwrap();
    let mut lines = text.lines();
    let mut truncated = format!("{}\n", lines.next().unwrap());
    for l in lines.filter(|l| l.contains(",2025-06-")).take(20) {
        truncated.push_str(l);
        truncated.push('\n');
    }
    let r = http_body(
        &addr,
        "POST",
        path,
        Some(BUREAU),
        "text/csv",
        truncated.as_bytes(),
    );
    assert_eq!(
        (r.status, r.json["error"].as_str()),
        (409, Some("conflict")),
        "{}",
        r.text
    );
    assert!(
        r.json["message"].as_str().unwrap().contains("H0"),
        "{}",
        r.text
    );

    // the ledger's cases: a hospital its own, the bureau all, a reviewer none
    let r = http(
        &addr,
        "GET",
        "/v1/ledger/cases?month=2025-06",
        Some(H001),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let own = r.json.as_array().unwrap();
    assert_eq!(own.len() as u64, cli_statements["H001"].0);
    assert!(own.iter().all(|c| c["hospital_id"] == "H001"));
    assert_eq!(own[0].as_object().unwrap().len(), 19);
    assert_eq!(own[0]["run_id"], run_id.to_string());
    assert!(own[0]["payment"].as_str().unwrap().contains('.'));
    let r = http(
        &addr,
        "GET",
        "/v1/ledger/cases?year=2025&hospital=H002",
        Some(H001),
        None,
    );
    assert_eq!(r.status, 403, "{}", r.text);
    let r = http(
        &addr,
        "GET",
        "/v1/ledger/cases?year=2025",
        Some(BUREAU),
        None,
    );
    assert_eq!(r.json.as_array().map(Vec::len), Some(1663), "{}", r.text);
    let r = http(&addr, "GET", "/v1/ledger/cases", Some(R1), None);
    assert_eq!(r.status, 403, "{}", r.text);
    let r = http(&addr, "GET", "/v1/ledger/runs", Some(BUREAU), None);
    assert_eq!(r.status, 200, "{}", r.text);
    let runs = r.json.as_array().unwrap();
    assert_eq!(
        runs.len(),
        1,
        "the refused upload committed nothing: {}",
        r.text
    );
    assert_eq!(runs[0]["case_file_sha256"], sha.as_str());
    assert!(runs[0]["case_file"]
        .as_str()
        .unwrap()
        .starts_with("upload 2025-06"));
    assert_eq!(runs[0]["actor"], "bureau");

    // the year cleared from the ledger
    let r = http_body(
        &addr,
        "POST",
        "/v1/clearings?year=2025",
        Some(BUREAU),
        "text/plain",
        b"",
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["statements"].as_array().map(Vec::len), Some(40));
    assert!(
        r.json["warnings"][0]
            .as_str()
            .unwrap()
            .contains("11 month(s) of 2025 not settled"),
        "{}",
        r.text
    );
    let r = http_body(
        &addr,
        "POST",
        "/v1/clearings?year=2031",
        Some(BUREAU),
        "text/plain",
        b"",
    );
    assert_eq!(r.status, 409, "{}", r.text);
    let r = http_body(
        &addr,
        "POST",
        "/v1/clearings?year=2025",
        Some(H001),
        "text/plain",
        b"",
    );
    assert_eq!(r.status, 403, "{}", r.text);

    // the audit log has the settlement, the refused re-run, the clearing and the refusals
    let r = http(&addr, "GET", "/v1/audit?limit=10000", Some(BUREAU), None);
    assert_eq!(r.status, 200, "{}", r.text);
    let log = r.json.as_array().unwrap();
    let count = |action: &str, actor: &str| {
        log.iter()
            .filter(|e| e["action"] == action && e["actor"] == actor)
            .count()
    };
    assert_eq!(count("settlement.monthly_statement_issued", "bureau"), 40);
    assert!(count("settlement.month_replacement_refused", "bureau") >= 1);
    assert_eq!(count("clearing.statement_issued", "bureau"), 40);
    assert!(count("api.access_refused", "H001") >= 3, "{}", r.text);
    assert_eq!(count("api.access_refused", "R1"), 1);
    assert!(log
        .iter()
        .any(|e| e["action"] == "api.access_refused" && e["subject"] == "clearing 2031"));
    stop(server, &dir);
}

/// Reads from `s` until the server closes it; `false` if it is still open after `bound`.
fn closed_within(s: &mut TcpStream, bound: Duration) -> bool {
    s.set_read_timeout(Some(bound)).unwrap();
    let mut buf = [0u8; 1024];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) => {
                return !matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                )
            }
        }
    }
}

/// `drgdip serve` with short limits: slow and silent clients are cut off while /health
/// answers, a token over its rate gets 429 with Retry-After, two Authorization headers 400.
#[test]
fn serve_cuts_off_slow_clients_and_limits_the_rate() {
    let Some(shared) = common::shared() else {
        return;
    };
    let dir = common::tempdir("serve-limits");
    let db = format!("sqlite://{}", dir.join("ledger.db").display());
    std::fs::write(dir.join("tokens.toml"), TOKENS).unwrap();
    let s = shared.to_str().unwrap();
    let (server, addr) = start(
        &dir,
        &[
            "serve",
            "--db",
            &db,
            "--tokens",
            "tokens.toml",
            "--params",
            &format!("{s}/params/region-350100-2025.toml"),
            "--hospitals",
            &format!("{s}/testdata/chs-drg-2.0/hospitals.csv"),
            "--history",
            &format!("{s}/testdata/chs-drg-2.0/history-2024/cases.csv"),
            "--addr",
            "127.0.0.1:0",
            "--header-timeout",
            "1",
            "--idle-timeout",
            "1",
            "--request-timeout",
            "5",
            "--rate-limit",
            "3/min",
            "--rate-burst",
            "3",
            "--shared",
            s,
        ],
    );
    let log = std::fs::read_to_string(dir.join("stderr.txt")).unwrap();
    assert!(
        log.contains("header timeout 1s") && log.contains("3/min (burst 3)"),
        "{log}"
    );
    let bound = Duration::from_secs(15);
    // half a head, nothing at all, and an idle kept-alive connection
    let mut half = TcpStream::connect(&addr).unwrap();
    half.write_all(b"GET /health HTTP/1.1\r\nHost: x").unwrap();
    let mut silent = TcpStream::connect(&addr).unwrap();
    let mut idle = TcpStream::connect(&addr).unwrap();
    idle.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let r = http(&addr, "GET", "/health", None, None);
    assert_eq!((r.status, r.text.as_str()), (200, "ok"));
    for (what, s) in [
        ("half a head", &mut half),
        ("nothing", &mut silent),
        ("idle", &mut idle),
    ] {
        assert!(
            closed_within(s, bound),
            "a connection sending {what} was kept"
        );
    }
    let r = http(&addr, "GET", "/health", None, None);
    assert_eq!(r.status, 200);
    // the rate: three requests of a token a minute
    for _ in 0..3 {
        assert_eq!(
            http(&addr, "GET", "/v1/whoami", Some(BUREAU), None).status,
            200
        );
    }
    let mut s = TcpStream::connect(&addr).unwrap();
    s.set_read_timeout(Some(bound)).unwrap();
    s.write_all(
        format!("GET /v1/whoami HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {BUREAU}\r\n\r\n")
            .as_bytes(),
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    assert!(raw.starts_with("HTTP/1.1 429"), "{raw}");
    assert!(
        raw.to_ascii_lowercase().contains("\r\nretry-after: "),
        "{raw}"
    );
    assert!(raw.contains("\"error\":\"rate_limited\""), "{raw}");
    assert_eq!(
        http(&addr, "GET", "/v1/whoami", Some(H001), None).status,
        200
    );
    // two Authorization headers
    let mut s = TcpStream::connect(&addr).unwrap();
    s.set_read_timeout(Some(bound)).unwrap();
    s.write_all(
        format!("GET /v1/whoami HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer {H002}\r\nAuthorization: Bearer {R1}\r\n\r\n")
            .as_bytes(),
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    assert!(raw.starts_with("HTTP/1.1 400"), "{raw}");
    assert!(raw.contains("\"field\":\"Authorization\""), "{raw}");
    stop(server, &dir);
}
