//! The server's defences over real loopback connections: a small application (`GET /health`
//! of the API, a slow route, a JSON echo) behind the API's [`Guard`], served by
//! [`serve_router`] on 127.0.0.1 with short timeouts. Slow and idle clients are few (at most
//! 20 connections) and every wait is bounded; nothing here needs the shared data.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::{get, post};
use axum::{Json, Router};
use drgdip_server::extract::JsonBody;
use drgdip_server::{serve_router, Guard, Limits, RateLimit, Tokens};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::timeout;

const TOKENS: &str = r#"
[[token]]
token = "bureau-token-0123456789"
role = "bureau"

[[token]]
token = "h001-token-0123456789"
role = "hospital"
hospital = "H001"
"#;
const BUREAU: &str = "bureau-token-0123456789";
const H001: &str = "h001-token-0123456789";

/// Signalled when `GET /wait` has started.
static ENTERED: tokio::sync::Notify = tokio::sync::Notify::const_new();

/// Longest wait for anything the server should do within its (short) limits.
const BOUND: Duration = Duration::from_secs(15);

fn limits() -> Limits {
    Limits {
        header_timeout: Duration::from_secs(30),
        request_timeout: Duration::from_secs(30),
        run_timeout: Duration::from_secs(30),
        idle_timeout: Duration::from_secs(30),
        max_connections: 64,
        max_body: 4096,
        max_upload: 8192,
        rate: None,
    }
}

fn app(limits: &Limits) -> Router {
    let guard = Arc::new(Guard::new(
        Tokens::from_toml_str(TOKENS).unwrap(),
        limits.clone(),
    ));
    guard.apply(
        Router::new()
            .route("/health", get(drgdip_server::routes::health))
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(120)).await;
                    "late"
                }),
            )
            .route(
                "/wait",
                get(|| async {
                    ENTERED.notify_one();
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    "done"
                }),
            )
            .route(
                "/echo",
                post(|JsonBody(v): JsonBody<serde_json::Value>| async move { Json(v) }),
            ),
    )
}

struct Server {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Server {
    async fn start(limits: Limits) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let app = app(&limits);
        let task = tokio::spawn(async move {
            serve_router(listener, app, &limits, async {
                let _ = stopped.await;
            })
            .await
        });
        Server {
            addr,
            stop: Some(stop),
            task,
        }
    }

    /// Stops the server and waits (bounded) for [`serve_router`] to return.
    async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let res = timeout(BOUND, &mut self.task).await;
        assert!(
            matches!(res, Ok(Ok(Ok(())))),
            "the server did not stop cleanly"
        );
    }
}

struct Reply {
    status: u16,
    head: String,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// Reads one answer (by Content-Length) from `s`.
async fn read_reply(s: &mut TcpStream) -> Reply {
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    let (head, mut body) = loop {
        let n = timeout(BOUND, s.read(&mut buf))
            .await
            .expect("an answer in time")
            .expect("read");
        assert!(
            n > 0,
            "closed before an answer: {:?}",
            String::from_utf8_lossy(&raw)
        );
        raw.extend_from_slice(&buf[..n]);
        if let Some(i) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break (
                String::from_utf8_lossy(&raw[..i]).into_owned(),
                raw[i + 4..].to_vec(),
            );
        }
    };
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let reply = Reply {
        status,
        head,
        body: String::new(),
    };
    let len: usize = reply
        .header("content-length")
        .map(|v| v.parse().unwrap())
        .unwrap_or(0);
    while body.len() < len {
        let n = timeout(BOUND, s.read(&mut buf))
            .await
            .expect("the body in time")
            .expect("read");
        assert!(n > 0, "closed in the body");
        body.extend_from_slice(&buf[..n]);
    }
    Reply {
        body: String::from_utf8_lossy(&body).into_owned(),
        ..reply
    }
}

/// One request on a new connection.
async fn request(addr: SocketAddr, raw: &str) -> Reply {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(raw.as_bytes()).await.unwrap();
    read_reply(&mut s).await
}

fn get_req(path: &str, headers: &[(&str, &str)]) -> String {
    let mut r = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n");
    for (k, v) in headers {
        r.push_str(&format!("{k}: {v}\r\n"));
    }
    r.push_str("\r\n");
    r
}

fn post_req(path: &str, body: &str, headers: &[(&str, &str)]) -> String {
    let mut r = format!(
        "POST {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        r.push_str(&format!("{k}: {v}\r\n"));
    }
    r.push_str("\r\n");
    r.push_str(body);
    r
}

async fn health(addr: SocketAddr) -> u16 {
    let r = request(addr, &get_req("/health", &[])).await;
    if r.status == 200 {
        assert_eq!(r.body, "ok");
    }
    r.status
}

/// Whether the server closes `s` (end of file or reset) within [`BOUND`], reading and
/// discarding whatever comes first.
async fn closed_by_server(s: &mut TcpStream) -> bool {
    let mut buf = [0u8; 1024];
    let waited = timeout(BOUND, async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    })
    .await;
    waited.is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_sent_head_is_cut_off_and_health_keeps_answering() {
    let l = Limits {
        header_timeout: Duration::from_secs(1),
        ..limits()
    };
    let server = Server::start(l).await;
    let mut slow = Vec::new();
    for _ in 0..10 {
        let mut s = TcpStream::connect(server.addr).await.unwrap();
        s.write_all(b"GET /health HTTP/1.1\r\nHost: te")
            .await
            .unwrap();
        slow.push(s);
    }
    assert_eq!(health(server.addr).await, 200);
    for s in &mut slow {
        assert!(
            closed_by_server(s).await,
            "a half-sent head was not cut off (header timeout 1 s, idle 30 s)"
        );
    }
    assert_eq!(health(server.addr).await, 200);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_that_send_nothing_are_closed() {
    let l = Limits {
        header_timeout: Duration::from_secs(1),
        ..limits()
    };
    let server = Server::start(l).await;
    let mut silent = Vec::new();
    for _ in 0..20 {
        silent.push(TcpStream::connect(server.addr).await.unwrap());
    }
    assert_eq!(health(server.addr).await, 200);
    for s in &mut silent {
        assert!(
            closed_by_server(s).await,
            "a silent connection was kept (header timeout 1 s)"
        );
    }
    assert_eq!(health(server.addr).await, 200);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_kept_alive_connection_is_closed_after_the_idle_timeout() {
    // the header timeout is long: what closes the connection is the idle timeout
    let l = Limits {
        idle_timeout: Duration::from_secs(1),
        ..limits()
    };
    let server = Server::start(l).await;
    let mut s = TcpStream::connect(server.addr).await.unwrap();
    for _ in 0..3 {
        s.write_all(b"GET /health HTTP/1.1\r\nHost: test\r\n\r\n")
            .await
            .unwrap();
        let r = read_reply(&mut s).await;
        assert_eq!((r.status, r.body.as_str()), (200, "ok"));
    }
    assert_eq!(health(server.addr).await, 200);
    assert!(
        closed_by_server(&mut s).await,
        "an idle kept-alive connection was kept (idle timeout 1 s, header timeout 30 s)"
    );
    assert_eq!(health(server.addr).await, 200);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_takes_too_long_is_408_and_closed() {
    let l = Limits {
        request_timeout: Duration::from_secs(1),
        ..limits()
    };
    let server = Server::start(l).await;
    // a handler that does not answer
    let mut s = TcpStream::connect(server.addr).await.unwrap();
    s.write_all(
        get_req("/slow", &[])
            .replace("Connection: close\r\n", "")
            .as_bytes(),
    )
    .await
    .unwrap();
    let r = read_reply(&mut s).await;
    assert_eq!(r.status, 408, "{}", r.head);
    assert_eq!(r.json()["error"], "request_timeout");
    assert_eq!(r.header("connection").as_deref(), Some("close"));
    assert!(closed_by_server(&mut s).await);
    // a body that stops coming
    let mut s = TcpStream::connect(server.addr).await.unwrap();
    s.write_all(b"POST /echo HTTP/1.1\r\nHost: test\r\nContent-Length: 100\r\n\r\n{\"a\":")
        .await
        .unwrap();
    let r = read_reply(&mut s).await;
    assert_eq!(r.status, 408, "{}", r.head);
    assert!(closed_by_server(&mut s).await);
    assert_eq!(health(server.addr).await, 200);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_connection_cap_the_answer_is_503_until_one_closes() {
    let l = Limits {
        max_connections: 3,
        ..limits()
    };
    let server = Server::start(l).await;
    // three kept-alive connections, each with an answered request (so that they are open
    // on the server's side, not waiting in the listen queue)
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut s = TcpStream::connect(server.addr).await.unwrap();
        s.write_all(b"GET /health HTTP/1.1\r\nHost: test\r\n\r\n")
            .await
            .unwrap();
        assert_eq!(read_reply(&mut s).await.status, 200);
        held.push(s);
    }
    let r = request(server.addr, &get_req("/health", &[])).await;
    assert_eq!(r.status, 503, "{}", r.head);
    assert_eq!(r.json()["error"], "unavailable");
    assert_eq!(r.header("retry-after").as_deref(), Some("1"));
    // one closes: the next connection is served (once the server has seen the close)
    drop(held.pop());
    let served = timeout(BOUND, async {
        loop {
            if health(server.addr).await == 200 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(
        served.is_ok(),
        "no connection served after one of three closed"
    );
    drop(held);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rate_limit_is_per_token_and_per_peer_with_retry_after() {
    let rate = RateLimit::parse("1/min")
        .unwrap()
        .unwrap()
        .with_burst(std::num::NonZeroU32::new(2).unwrap());
    let l = Limits {
        rate: Some(rate),
        ..limits()
    };
    let server = Server::start(l).await;
    let bureau = format!("Bearer {BUREAU}");
    let h001 = format!("Bearer {H001}");
    let echo = |auth: Option<&str>| {
        let headers: Vec<(&str, &str)> = auth.map(|a| ("Authorization", a)).into_iter().collect();
        post_req("/echo", "{}", &headers)
    };
    for _ in 0..2 {
        assert_eq!(request(server.addr, &echo(Some(&bureau))).await.status, 200);
    }
    let r = request(server.addr, &echo(Some(&bureau))).await;
    assert_eq!(r.status, 429, "{}", r.head);
    assert_eq!(r.json()["error"], "rate_limited");
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    // another token has its own allowance
    assert_eq!(request(server.addr, &echo(Some(&h001))).await.status, 200);
    // without a token, the peer address is the client: its own allowance …
    for _ in 0..2 {
        assert_eq!(request(server.addr, &echo(None)).await.status, 200);
    }
    assert_eq!(request(server.addr, &echo(None)).await.status, 429);
    // … which made-up tokens share rather than each getting one
    let made_up = "Bearer made-up-token-00000000";
    assert_eq!(request(server.addr, &echo(Some(made_up))).await.status, 429);
    // the health check is never limited
    for _ in 0..5 {
        assert_eq!(health(server.addr).await, 200);
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_authorization_headers_are_400_and_a_large_body_413() {
    let server = Server::start(limits()).await;
    let two = [
        ("Authorization", "Bearer bureau-token-0123456789"),
        ("Authorization", "Bearer h001-token-0123456789"),
    ];
    for req in [
        post_req("/echo", "{}", &two),
        get_req("/health", &two),
        post_req("/echo", "{}", &[two[0], two[0]]),
    ] {
        let r = request(server.addr, &req).await;
        assert_eq!(r.status, 400, "{}", r.head);
        assert_eq!(r.json()["field"], "Authorization");
    }
    let big = format!("{{\"a\":\"{}\"}}", "x".repeat(5000));
    let r = request(server.addr, &post_req("/echo", &big, &[])).await;
    assert_eq!(r.status, 413, "{}", r.head);
    assert_eq!(r.json()["error"], "payload_too_large");
    assert!(r.json()["message"].as_str().unwrap().contains("4096 bytes"));
    let r = request(server.addr, &post_req("/echo", "{\"a\":1}", &[])).await;
    assert_eq!((r.status, r.body.as_str()), (200, "{\"a\":1}"));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_shutdown_requests_in_flight_are_answered_and_idle_connections_closed() {
    let server = Server::start(limits()).await;
    let mut idle = TcpStream::connect(server.addr).await.unwrap();
    idle.write_all(b"GET /health HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(read_reply(&mut idle).await.status, 200);
    let mut busy = TcpStream::connect(server.addr).await.unwrap();
    busy.write_all(b"GET /wait HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .unwrap();
    // stop once the request is being answered
    timeout(BOUND, ENTERED.notified()).await.unwrap();
    let stopping = tokio::spawn(server.stop());
    let r = read_reply(&mut busy).await;
    assert_eq!((r.status, r.body.as_str()), (200, "done"));
    assert!(closed_by_server(&mut busy).await);
    assert!(closed_by_server(&mut idle).await);
    timeout(BOUND, stopping).await.unwrap().unwrap();
}
