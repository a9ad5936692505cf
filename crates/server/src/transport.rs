//! The connections: accepted on a listener up to a cap, each served with HTTP/1.1 by hyper
//! under the connection timeouts of [`Limits`], and stopped gracefully.
//!
//! - **Header timeout**: a new connection must deliver its first request head within
//!   `header_timeout` of opening; on a kept-alive connection, the next head within
//!   `header_timeout` of its first byte. A client that opens a connection and sends nothing,
//!   or sends half a head and stalls, is cut off.
//! - **Idle timeout**: a kept-alive connection that moves no byte for `idle_timeout` after
//!   an answer — no new request, or an answer the client does not read — is closed.
//! - **Request timeout**: from a complete head to the answer (body included), in
//!   [`crate::guard`]: 408.
//! - **Cap**: at most `max_connections` open at once; one more is answered 503 with
//!   `Retry-After` and closed, without reaching the application.
//!
//! The deadlines are kept per connection by a watchdog that sees every byte read and
//! written and every request start and end; hyper's own header-read timer is set to the
//! sum of the header and idle timeouts as a backstop. On shutdown the listener is closed,
//! idle connections are closed, and the requests in flight are answered (bounded by the
//! request and idle timeouts) before [`serve_router`] returns.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Notify, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tower::ServiceExt;

use crate::limits::Limits;

/// Connections over the cap answered 503 at once (more are closed without an answer).
const REJECTING_MAX: usize = 64;
/// How long a 503 connection is kept to read what the client sent, so that closing it does
/// not reset the connection before the client reads the answer.
const REJECT_LINGER: Duration = Duration::from_secs(2);

/// Serves `app` on `listener` under `limits` until `shutdown` completes; then stops
/// accepting, closes the idle connections, answers the requests in flight and returns.
pub async fn serve_router(
    listener: TcpListener,
    app: Router,
    limits: &Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let cap = limits.max_connections.clamp(1, Limits::MAX_CONNECTIONS_CAP);
    let open = Arc::new(Semaphore::new(cap));
    let rejecting = Arc::new(Semaphore::new(REJECTING_MAX));
    let (stop, stopped) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            biased;
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) if is_connection_error(&e) => continue,
                Err(e) => {
                    // out of file descriptors and the like: wait rather than spin
                    eprintln!("drgdip serve: cannot accept a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(250)).await;
                    continue;
                }
            },
        };
        match open.clone().try_acquire_owned() {
            Ok(permit) => {
                tokio::spawn(connection(
                    stream,
                    peer,
                    app.clone(),
                    limits.clone(),
                    stopped.clone(),
                    permit,
                ));
            }
            Err(_) => {
                if let Ok(slot) = rejecting.clone().try_acquire_owned() {
                    tokio::spawn(reject(stream, cap, slot));
                }
            }
        }
    }
    drop(listener);
    let _ = stop.send(true);
    // every connection holds a permit until it ends
    let _all = open.acquire_many(cap as u32).await;
    Ok(())
}

fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// One connection, until the client closes it, a deadline passes or the server stops.
async fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    limits: Limits,
    mut stop: watch::Receiver<bool>,
    _permit: OwnedSemaphorePermit,
) {
    let _ = stream.set_nodelay(true);
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Watched {
        io: stream,
        activity: activity.clone(),
    });
    let on_request = activity.clone();
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        let in_flight = InFlight::start(on_request.clone());
        let app = app.clone();
        async move {
            let res = app.oneshot(req).await;
            drop(in_flight);
            res
        }
    });
    let conn = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout + limits.idle_timeout)
        .keep_alive(true)
        .serve_connection(io, service);
    tokio::pin!(conn);
    let expired = activity.expired(&limits);
    tokio::pin!(expired);
    let mut stopping = false;
    if *stop.borrow_and_update() {
        return;
    }
    loop {
        tokio::select! {
            biased;
            _ = conn.as_mut() => return,
            _ = &mut expired => return,
            changed = stop.changed(), if !stopping => {
                stopping = true;
                if changed.is_err() || activity.is_idle() {
                    return;
                }
                conn.as_mut().graceful_shutdown();
            }
        }
    }
}

/// A connection over the cap: 503, then closed.
async fn reject(mut stream: TcpStream, cap: usize, _slot: OwnedSemaphorePermit) {
    let body = format!(
        "{{\"error\":\"unavailable\",\"message\":\"the server has {cap} connections open, its limit (--max-connections); retry later\"}}"
    );
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(REJECT_LINGER, async {
        stream.write_all(answer.as_bytes()).await?;
        stream.shutdown().await?;
        let mut buf = [0u8; 4096];
        let mut read = 0;
        while read < 64 * 1024 {
            match stream.read(&mut buf).await? {
                0 => break,
                n => read += n,
            }
        }
        Ok::<(), io::Error>(())
    })
    .await;
}

/// What a connection is doing, for its deadlines.
struct Activity {
    state: Mutex<ActivityState>,
    /// Signalled when a request ends (the deadlines start again).
    ended: Notify,
}

struct ActivityState {
    opened: Instant,
    /// Requests started on the connection.
    requests: u64,
    /// Requests being answered.
    in_flight: u32,
    /// When the last answer ended, or its last byte was written.
    idle_since: Instant,
    /// When the first byte of the next request head came, if it did.
    head_since: Option<Instant>,
}

impl Activity {
    fn new() -> Activity {
        let now = Instant::now();
        Activity {
            state: Mutex::new(ActivityState {
                opened: now,
                requests: 0,
                in_flight: 0,
                idle_since: now,
                head_since: None,
            }),
            ended: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, ActivityState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn read(&self, n: usize) {
        if n > 0 {
            let mut s = self.lock();
            if s.in_flight == 0 && s.head_since.is_none() {
                s.head_since = Some(Instant::now());
            }
        }
    }

    fn wrote(&self, n: usize) {
        if n > 0 {
            let mut s = self.lock();
            if s.in_flight == 0 {
                s.idle_since = Instant::now();
            }
        }
    }

    fn is_idle(&self) -> bool {
        let s = self.lock();
        s.in_flight == 0 && s.head_since.is_none()
    }

    /// When the connection is to be closed, if nothing happens before; `None` while a
    /// request is being answered (the request timeout bounds it).
    fn deadline(&self, limits: &Limits) -> Option<Instant> {
        let s = self.lock();
        if s.in_flight > 0 {
            None
        } else if s.requests == 0 {
            Some(s.opened + limits.header_timeout)
        } else if let Some(head) = s.head_since {
            Some(head + limits.header_timeout)
        } else {
            Some(s.idle_since + limits.idle_timeout)
        }
    }

    /// Resolves when a deadline has passed.
    async fn expired(&self, limits: &Limits) {
        loop {
            match self.deadline(limits) {
                None => self.ended.notified().await,
                Some(at) if Instant::now() >= at => return,
                Some(at) => {
                    tokio::select! {
                        _ = tokio::time::sleep_until(at) => {}
                        _ = self.ended.notified() => {}
                    }
                }
            }
        }
    }
}

/// A request being answered: started when hyper hands it over, ended when the answer is
/// ready (or the request abandoned).
struct InFlight(Arc<Activity>);

impl InFlight {
    fn start(activity: Arc<Activity>) -> InFlight {
        {
            let mut s = activity.lock();
            s.in_flight += 1;
            s.requests += 1;
            s.head_since = None;
        }
        InFlight(activity)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        {
            let mut s = self.0.lock();
            s.in_flight = s.in_flight.saturating_sub(1);
            s.idle_since = Instant::now();
        }
        self.0.ended.notify_one();
    }
}

/// The socket, telling the connection's [`Activity`] of every byte moved.
struct Watched {
    io: TcpStream,
    activity: Arc<Activity>,
}

impl AsyncRead for Watched {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let res = Pin::new(&mut this.io).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = res {
            this.activity.read(buf.filled().len() - before);
        }
        res
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let res = Pin::new(&mut this.io).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = res {
            this.activity.wrote(n);
        }
        res
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let res = Pin::new(&mut this.io).poll_write_vectored(cx, bufs);
        if let Poll::Ready(Ok(n)) = res {
            this.activity.wrote(n);
        }
        res
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(30),
            ..Limits::default()
        }
    }

    #[test]
    fn the_deadline_follows_the_connection_s_state() {
        let l = limits();
        let a = Arc::new(Activity::new());
        let opened = a.lock().opened;
        // a new connection: the header timeout from its opening, bytes or not
        assert_eq!(a.deadline(&l), Some(opened + l.header_timeout));
        a.read(5);
        assert_eq!(a.deadline(&l), Some(opened + l.header_timeout));
        // a request in flight: no connection deadline
        let r = InFlight::start(a.clone());
        assert_eq!(a.deadline(&l), None);
        a.read(100); // its body
        a.wrote(100); // not an idle write
        assert_eq!(a.deadline(&l), None);
        drop(r);
        // kept alive: the idle timeout from the end of the answer …
        let idle = a.lock().idle_since;
        assert_eq!(a.deadline(&l), Some(idle + l.idle_timeout));
        assert!(a.is_idle());
        // … moved on by the answer's bytes being written …
        a.wrote(10);
        assert!(a.lock().idle_since >= idle);
        // … and the header timeout once the next head starts
        a.read(1);
        let head = a.lock().head_since.unwrap();
        assert_eq!(a.deadline(&l), Some(head + l.header_timeout));
        assert!(!a.is_idle());
        let _next = InFlight::start(a.clone());
        assert_eq!(a.lock().head_since, None);
        assert_eq!(a.lock().requests, 2);
    }
}
