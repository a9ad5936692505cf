//! How the server defends itself: the timeouts of a connection and of a request, the cap on
//! open connections, the request body limit and the per-client request rate. `drgdip serve`
//! sets them from its flags; [`Limits::default`] is what it uses without them.

use std::fmt;
use std::num::NonZeroU32;
use std::str::FromStr;
use std::time::Duration;

/// The server's limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// The time a client has to send a whole request head: from the connection's opening
    /// for its first request, from the first byte for the next ones on a kept-alive
    /// connection. Beyond it the connection is closed.
    pub header_timeout: Duration,
    /// The time from a complete request head to the answer, reading the body included;
    /// beyond it the answer is 408 and the connection is closed.
    pub request_timeout: Duration,
    /// The request timeout of a ledger run (`POST /v1/settlements`, `POST /v1/clearings`):
    /// a month of a large region takes longer than a request. Beyond it the answer is 408,
    /// and the run, which cannot be abandoned halfway, still finishes and commits (or fails
    /// whole): `GET /v1/ledger/runs` shows it.
    pub run_timeout: Duration,
    /// How long a kept-alive connection may wait for the next request (or a client take to
    /// read an answer) without a byte moving; then it is closed.
    pub idle_timeout: Duration,
    /// Connections open at once; one more is answered 503 and closed.
    pub max_connections: usize,
    /// The largest request body, in bytes; a larger one is 413.
    pub max_body: usize,
    /// The largest case file uploaded to `POST /v1/settlements`, in bytes; a larger one is
    /// 413. Its own limit: a month of a region is megabytes, a case is not.
    pub max_upload: usize,
    /// Requests per token (per peer address without a known token); `None`: unlimited.
    pub rate: Option<RateLimit>,
}

impl Limits {
    /// The default header timeout.
    pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
    /// The default request timeout.
    pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
    /// The default timeout of a ledger run: 15 minutes.
    pub const RUN_TIMEOUT: Duration = Duration::from_secs(15 * 60);
    /// The default idle timeout.
    pub const IDLE_TIMEOUT: Duration = Duration::from_secs(30);
    /// The default cap on open connections.
    pub const MAX_CONNECTIONS: usize = 512;
    /// The default body limit: 2 MiB.
    pub const MAX_BODY: usize = 2 * 1024 * 1024;
    /// The default upload limit of a month's case file: 64 MiB.
    pub const MAX_UPLOAD: usize = 64 * 1024 * 1024;
    /// The largest `max_connections` accepted.
    pub const MAX_CONNECTIONS_CAP: usize = 65_536;

    /// The same limits without a rate limit (for tests and benchmarks that send many
    /// requests with one token).
    pub fn without_rate_limit(mut self) -> Limits {
        self.rate = None;
        self
    }

    /// Checks that every limit is usable: timeouts of at least a millisecond, at least one
    /// connection (at most [`Self::MAX_CONNECTIONS_CAP`]), a body limit of at least 1 KiB.
    pub fn check(&self) -> Result<(), LimitError> {
        for (name, d) in [
            ("header timeout", self.header_timeout),
            ("request timeout", self.request_timeout),
            ("run timeout", self.run_timeout),
            ("idle timeout", self.idle_timeout),
        ] {
            if d < Duration::from_millis(1) {
                return Err(LimitError(format!("{name} {d:?}: expected at least 1 ms")));
            }
        }
        if self.max_connections == 0 || self.max_connections > Self::MAX_CONNECTIONS_CAP {
            return Err(LimitError(format!(
                "max connections {}: expected 1 to {}",
                self.max_connections,
                Self::MAX_CONNECTIONS_CAP
            )));
        }
        if self.max_body < 1024 {
            return Err(LimitError(format!(
                "max body {} bytes: expected at least 1024",
                self.max_body
            )));
        }
        if self.max_upload < 1024 {
            return Err(LimitError(format!(
                "max upload {} bytes: expected at least 1024",
                self.max_upload
            )));
        }
        Ok(())
    }
}

impl Default for Limits {
    /// 10 s to send a request head, 30 s to answer (15 min for a ledger run), 30 s idle, 512 connections, 2 MiB
    /// bodies, 64 MiB uploads, [`RateLimit::DEFAULT`].
    fn default() -> Limits {
        Limits {
            header_timeout: Self::HEADER_TIMEOUT,
            request_timeout: Self::REQUEST_TIMEOUT,
            run_timeout: Self::RUN_TIMEOUT,
            idle_timeout: Self::IDLE_TIMEOUT,
            max_connections: Self::MAX_CONNECTIONS,
            max_body: Self::MAX_BODY,
            max_upload: Self::MAX_UPLOAD,
            rate: Some(RateLimit::DEFAULT),
        }
    }
}

/// A limit that cannot be used, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct LimitError(pub String);

/// The per-client request rate: `count` requests per `per` on average, at most `burst` at
/// once (a token bucket: GCRA).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests per period.
    pub count: NonZeroU32,
    /// The period.
    pub per: Duration,
    /// Requests that may come at once.
    pub burst: NonZeroU32,
}

const fn nz(n: u32) -> NonZeroU32 {
    match NonZeroU32::new(n) {
        Some(n) => n,
        None => panic!("zero"),
    }
}

impl RateLimit {
    /// 100 requests per second, bursts of 200.
    pub const DEFAULT: RateLimit = RateLimit {
        count: nz(100),
        per: Duration::from_secs(1),
        burst: nz(200),
    };

    /// `count` per `per` with the default burst for it: twice the count.
    pub fn new(count: NonZeroU32, per: Duration) -> RateLimit {
        RateLimit {
            count,
            per,
            burst: count.saturating_mul(nz(2)),
        }
    }

    /// The same rate with another burst.
    pub fn with_burst(mut self, burst: NonZeroU32) -> RateLimit {
        self.burst = burst;
        self
    }

    /// The time between two requests at the sustained rate.
    pub fn interval(&self) -> Duration {
        (self.per / self.count.get()).max(Duration::from_nanos(1))
    }

    /// Reads `N/s` or `N/min` (N a whole number ≥ 1); `off` is `None`.
    pub fn parse(text: &str) -> Result<Option<RateLimit>, LimitError> {
        let t = text.trim();
        if t.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        let error = || {
            LimitError(format!(
                "rate limit {text:?}: expected N/s or N/min with a whole N ≥ 1 (100/s), or off"
            ))
        };
        let (n, unit) = t.split_once('/').ok_or_else(error)?;
        let per = match unit.trim() {
            "s" | "sec" | "second" => Duration::from_secs(1),
            "min" | "minute" => Duration::from_secs(60),
            _ => return Err(error()),
        };
        let n = n.trim();
        if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
            return Err(error());
        }
        let count = n
            .parse::<u32>()
            .ok()
            .and_then(NonZeroU32::new)
            .ok_or_else(error)?;
        Ok(Some(RateLimit::new(count, per)))
    }
}

impl fmt::Display for RateLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let unit = if self.per == Duration::from_secs(60) {
            "min".to_string()
        } else if self.per == Duration::from_secs(1) {
            "s".to_string()
        } else {
            format!("{:?}", self.per)
        };
        write!(f, "{}/{unit} (burst {})", self.count, self.burst)
    }
}

impl FromStr for RateLimit {
    type Err = LimitError;

    /// As [`RateLimit::parse`], `off` refused.
    fn from_str(s: &str) -> Result<RateLimit, LimitError> {
        RateLimit::parse(s)?.ok_or_else(|| LimitError(format!("rate limit {s:?}: off")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_read_per_second_or_per_minute_or_off() {
        let r = RateLimit::parse("100/s").unwrap().unwrap();
        assert_eq!(
            (r.count.get(), r.per, r.burst.get()),
            (100, Duration::from_secs(1), 200)
        );
        assert_eq!(r.interval(), Duration::from_millis(10));
        let r = RateLimit::parse(" 30/min ").unwrap().unwrap();
        assert_eq!((r.count.get(), r.per), (30, Duration::from_secs(60)));
        assert_eq!(r.to_string(), "30/min (burst 60)");
        assert_eq!(RateLimit::parse("off").unwrap(), None);
        for bad in [
            "",
            "100",
            "0/s",
            "-1/s",
            "1.5/s",
            "100/h",
            "x/s",
            "/s",
            "99999999999/s",
        ] {
            let e = RateLimit::parse(bad).unwrap_err();
            assert!(e.0.contains(&format!("{bad:?}")), "{bad:?}: {e}");
        }
        assert_eq!(
            RateLimit::parse("4000000000/s")
                .unwrap()
                .unwrap()
                .burst
                .get(),
            u32::MAX
        );
    }

    #[test]
    fn the_defaults_are_usable_and_bad_limits_are_named() {
        let d = Limits::default();
        assert!(d.check().is_ok());
        assert!(d.header_timeout <= Duration::from_secs(30));
        assert!(d.request_timeout <= Duration::from_secs(30));
        assert!(d.idle_timeout <= Duration::from_secs(30));
        let bad = Limits {
            max_connections: 0,
            ..Limits::default()
        };
        assert!(bad.check().unwrap_err().0.contains("max connections 0"));
        let bad = Limits {
            idle_timeout: Duration::ZERO,
            ..Limits::default()
        };
        assert!(bad.check().unwrap_err().0.contains("idle timeout"));
        let bad = Limits {
            max_body: 10,
            ..Limits::default()
        };
        assert!(bad.check().unwrap_err().0.contains("max body 10"));
        let bad = Limits {
            max_upload: 100,
            ..Limits::default()
        };
        assert!(bad.check().unwrap_err().0.contains("max upload 100"));
        assert_eq!(Limits::default().without_rate_limit().rate, None);
    }
}
