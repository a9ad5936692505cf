//! Sessions of the web app (会话): a token signed in once becomes a server-side session
//! (a random id in an `HttpOnly; SameSite=Strict; Path=/` cookie), with a per-session CSRF
//! token that every POST form carries in a hidden field ([`check_csrf`], the one check).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{header, HeaderMap};
use drgdip_settle::Actor;

/// The session cookie's name.
pub const COOKIE: &str = "drgdip_session";

/// A session ends after this long without a request.
pub const IDLE: Duration = Duration::from_secs(30 * 60);

/// A session ends this long after sign-in, used or not.
pub const ABSOLUTE: Duration = Duration::from_secs(8 * 60 * 60);

/// At most this many sessions are kept (the oldest signed-out first when full).
pub const MAX_SESSIONS: usize = 10_000;

/// One session: before sign-in it has no actor (it carries the sign-in form's CSRF token).
#[derive(Debug, Clone)]
pub struct Session {
    /// The session id (the cookie's value).
    pub id: String,
    /// Who signed in; `None` for the sign-in form's session.
    pub actor: Option<Actor>,
    /// The CSRF token of its forms.
    pub csrf: String,
    created: Instant,
    seen: Instant,
}

impl Session {
    fn expired(&self, now: Instant) -> bool {
        now.duration_since(self.seen) > IDLE || now.duration_since(self.created) > ABSOLUTE
    }
}

/// The sessions of one server, in memory (a restart signs everyone out).
#[derive(Debug, Default)]
pub struct Sessions {
    map: Mutex<HashMap<String, Session>>,
}

/// 32 random bytes from the operating system, as hex.
pub fn random_id() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new session (for `actor`, or the sign-in form's), with fresh ids.
    pub fn open(&self, actor: Option<Actor>) -> Session {
        let now = Instant::now();
        let s = Session {
            id: random_id(),
            actor,
            csrf: random_id(),
            created: now,
            seen: now,
        };
        let mut map = self.lock();
        map.retain(|_, v| !v.expired(now));
        if map.len() >= MAX_SESSIONS {
            // anonymous sign-in forms go first, then the oldest
            let oldest = map
                .values()
                .min_by_key(|v| (v.actor.is_some(), v.seen))
                .map(|v| v.id.clone());
            if let Some(k) = oldest {
                map.remove(&k);
            }
        }
        map.insert(s.id.clone(), s.clone());
        s
    }

    /// The live session of the request's cookie (its last use moved to now).
    pub fn get(&self, headers: &HeaderMap) -> Option<Session> {
        let id = cookie(headers, COOKIE)?;
        let now = Instant::now();
        let mut map = self.lock();
        let s = map.get_mut(id)?;
        if s.expired(now) {
            map.remove(id);
            return None;
        }
        s.seen = now;
        Some(s.clone())
    }

    /// Ends a session.
    pub fn close(&self, id: &str) {
        self.lock().remove(id);
    }
}

/// The value of cookie `name` of the request (the first).
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The `Set-Cookie` value of a session.
pub fn set_cookie(id: &str) -> String {
    format!(
        "{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
        ABSOLUTE.as_secs()
    )
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie() -> String {
    format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0")
}

/// Whether `given` is the session's CSRF token (compared in constant time).
pub fn csrf_matches(session: &Session, given: Option<&str>) -> bool {
    let Some(given) = given else { return false };
    let (a, b) = (session.csrf.as_bytes(), given.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_have_random_ids_and_a_csrf_token_checked_exactly() {
        let s = Sessions::default();
        let a = s.open(Some(Actor::bureau("chief")));
        let b = s.open(None);
        assert_ne!(a.id, b.id);
        assert_ne!(a.csrf, a.id);
        assert_eq!(a.id.len(), 64);
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            format!("x=1; {COOKIE}={}", a.id).parse().unwrap(),
        );
        assert_eq!(s.get(&h).unwrap().actor, Some(Actor::bureau("chief")));
        assert!(csrf_matches(&a, Some(&a.csrf)));
        assert!(!csrf_matches(&a, Some(&b.csrf)));
        assert!(!csrf_matches(&a, None));
        s.close(&a.id);
        assert!(s.get(&h).is_none());
        assert!(set_cookie(&a.id).contains("HttpOnly; SameSite=Strict; Path=/"));
    }
}
