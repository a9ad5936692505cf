//! The layers every request passes before its route, in this order: the request timeout
//! (408), the request rate of the client (429, with `Retry-After`), at most one
//! `Authorization` header (400), the body limit (413, in [`crate::extract::JsonBody`]).
//!
//! The client of a request, for the rate limit, is its token when the request carries one
//! `Authorization: Bearer` header with a token of the tokens file; otherwise (no token, a
//! malformed or unknown one, two headers) it is the peer address — an IPv4 address or an
//! IPv6 /64 — so that made-up tokens share their sender's allowance instead of each getting
//! one. `GET /health` is never rate limited.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use governor::clock::Clock;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::auth::{bearer, Tokens};
use crate::error::ApiError;
use crate::limits::{Limits, RateLimit};

/// Who a request counts against for the rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Client {
    /// A token of the tokens file, by its number in the file.
    Token(u32),
    /// The peer: an IPv4 address, or the /64 of an IPv6 address; `None` when the request
    /// did not come over a connection (tests through the router).
    Peer(Option<IpAddr>),
}

impl Client {
    /// The peer client of `addr`.
    pub fn peer(addr: Option<SocketAddr>) -> Client {
        Client::Peer(addr.map(|a| match a.ip() {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => {
                    let s = v6.segments();
                    IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
                }
            },
            v4 => v4,
        }))
    }
}

/// The server's body limit, for the message of a 413 (a request extension).
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// The limits and the rate limiter of a server.
pub struct Guard {
    tokens: Tokens,
    limits: Limits,
    limiter: Option<DefaultKeyedRateLimiter<Client>>,
}

impl Guard {
    /// The guard of a server with `tokens` under `limits`.
    pub fn new(tokens: Tokens, limits: Limits) -> Guard {
        let limiter = limits.rate.map(|r| RateLimiter::keyed(quota(&r)));
        Guard {
            tokens,
            limits,
            limiter,
        }
    }

    /// The limits.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// `router` behind the guard's layers.
    pub fn apply(self: &Arc<Self>, router: Router) -> Router {
        router
            .layer(DefaultBodyLimit::max(self.limits.max_body))
            .layer(middleware::from_fn_with_state(self.clone(), admit))
            .layer(middleware::from_fn_with_state(self.clone(), deadline))
    }

    /// Forgets the clients whose allowance is full again (keeps the limiter's memory to the
    /// clients of the last moments); `drgdip serve` calls it every minute.
    pub fn forget_idle_clients(&self) {
        if let Some(l) = &self.limiter {
            l.retain_recent();
            l.shrink_to_fit();
        }
    }

    /// Number of clients the rate limiter remembers.
    pub fn clients_remembered(&self) -> usize {
        self.limiter.as_ref().map_or(0, |l| l.len())
    }

    /// Counts a request of `client`: `Ok`, or 429 with the time to wait.
    pub fn check(&self, client: Client) -> Result<(), (ApiError, Duration)> {
        let (Some(limiter), Some(rate)) = (&self.limiter, &self.limits.rate) else {
            return Ok(());
        };
        limiter.check_key(&client).map_err(|not_until| {
            let wait = not_until.wait_time_from(limiter.clock().now());
            let whose = match client {
                Client::Token(_) => "this token",
                Client::Peer(_) => "this address without a known token",
            };
            (
                ApiError::rate_limited(format!(
                    "more than {rate} requests for {whose} (--rate-limit); retry after {} s",
                    retry_after_secs(wait)
                )),
                wait,
            )
        })
    }
}

fn quota(r: &RateLimit) -> Quota {
    Quota::with_period(r.interval())
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MAX))
        .allow_burst(r.burst)
}

/// Whole seconds to wait, rounded up, at least 1.
fn retry_after_secs(wait: Duration) -> u64 {
    let s = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    s.max(1)
}

/// Whether a request is a ledger run (a settlement or a clearing), which has its own timeout.
fn is_run(req: &Request) -> bool {
    req.method() == axum::http::Method::POST
        && matches!(req.uri().path(), "/v1/settlements" | "/v1/clearings")
}

/// The request timeout: 408 (and the connection closed) when the answer takes longer. A
/// ledger run has the run timeout; it cannot be abandoned halfway, so past it the answer
/// says that the run goes on and where to see its result.
async fn deadline(State(guard): State<Arc<Guard>>, req: Request, next: Next) -> Response {
    let run = is_run(&req);
    let limit = if run {
        guard.limits.run_timeout
    } else {
        guard.limits.request_timeout
    };
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(res) => res,
        Err(_) => {
            let message = if run {
                format!(
                    "no answer within the run timeout of {} ms (--run-timeout): the run goes on and commits whole or not at all; GET /v1/ledger/runs shows it once committed",
                    limit.as_millis()
                )
            } else {
                format!(
                    "no answer within the request timeout of {} ms (--request-timeout): the request was abandoned",
                    limit.as_millis()
                )
            };
            let mut res = ApiError::request_timeout(message).into_response();
            res.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            res
        }
    }
}

/// The rate limit and the one-`Authorization`-header rule.
async fn admit(State(guard): State<Arc<Guard>>, mut req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let (client, refusal) = match bearer(req.headers()) {
        Ok(Some(token)) => (
            guard
                .tokens
                .number(token)
                .map_or(Client::peer(peer), Client::Token),
            None,
        ),
        Ok(None) => (Client::peer(peer), None),
        // two headers: refused below, after counting against the peer
        Err(e) if e.status.is_client_error() && e.code == "bad_request" => {
            (Client::peer(peer), Some(e))
        }
        // malformed: the route's authorization answers 401
        Err(_) => (Client::peer(peer), None),
    };
    if req.uri().path() != "/health" {
        if let Err((e, wait)) = guard.check(client) {
            let mut res = e.into_response();
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs(wait).to_string()) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return res;
        }
    }
    if let Some(e) = refusal {
        return e.into_response();
    }
    req.extensions_mut()
        .insert(BodyLimit(guard.limits.max_body));
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_are_addresses_and_ipv6_counts_by_64() {
        let a = |s: &str| Some(s.parse::<SocketAddr>().unwrap());
        assert_eq!(
            Client::peer(a("[2001:db8:1:2:3:4:5:6]:80")),
            Client::peer(a("[2001:db8:1:2:ffff::1]:9"))
        );
        assert_ne!(
            Client::peer(a("[2001:db8:1:2::1]:80")),
            Client::peer(a("[2001:db8:1:3::1]:80"))
        );
        assert_eq!(
            Client::peer(a("[::ffff:127.0.0.1]:1")),
            Client::peer(a("127.0.0.1:2"))
        );
        assert_ne!(
            Client::peer(a("127.0.0.1:2")),
            Client::peer(a("127.0.0.2:2"))
        );
    }

    #[test]
    fn the_wait_is_rounded_up_to_whole_seconds() {
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(10)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(1001)), 2);
        assert_eq!(retry_after_secs(Duration::from_secs(60)), 60);
    }

    #[test]
    fn a_settlement_or_a_clearing_has_the_run_timeout() {
        let req = |method: &str, uri: &str| {
            Request::builder()
                .method(method)
                .uri(uri)
                .body(axum::body::Body::empty())
                .unwrap()
        };
        assert!(is_run(&req("POST", "/v1/settlements?month=2025-06")));
        assert!(is_run(&req("POST", "/v1/clearings?year=2025")));
        assert!(!is_run(&req("GET", "/v1/settlements")));
        assert!(!is_run(&req("POST", "/v1/payments")));
        assert!(!is_run(&req("POST", "/v1/settlements/x")));
    }

    #[test]
    fn a_client_gets_its_burst_then_429_and_other_clients_are_not_affected() {
        let rate = RateLimit::new(NonZeroU32::new(1).unwrap(), Duration::from_secs(60))
            .with_burst(NonZeroU32::new(3).unwrap());
        let limits = Limits {
            rate: Some(rate),
            ..Limits::default()
        };
        let g = Guard::new(Tokens::default(), limits);
        for _ in 0..3 {
            assert!(g.check(Client::Token(0)).is_ok());
        }
        let (e, wait) = g.check(Client::Token(0)).unwrap_err();
        assert_eq!((e.status.as_u16(), e.code), (429, "rate_limited"));
        assert!(
            wait > Duration::from_secs(1) && wait <= Duration::from_secs(60),
            "{wait:?}"
        );
        assert!(e.message.contains("1/min (burst 3)"), "{}", e.message);
        assert!(g.check(Client::Token(1)).is_ok());
        assert!(g.check(Client::Peer(None)).is_ok());
        assert_eq!(g.clients_remembered(), 3);
        let unlimited = Guard::new(Tokens::default(), Limits::default().without_rate_limit());
        for _ in 0..1000 {
            assert!(unlimited.check(Client::Token(0)).is_ok());
        }
    }
}
