//! Tokens and roles: the one layer that decides who may call what.
//!
//! A request carries `Authorization: Bearer TOKEN`; the tokens file maps each token to an
//! actor in one role (bureau, hospital H, reviewer R). [`authorize`], the middleware on every
//! `/v1` route, resolves the token (missing or unknown: 401) and checks the route's roles in
//! [`ROUTES`] (another role: 403, written to the audit log). Handlers then receive the
//! [`Caller`]; where access also depends on the data (another hospital's application, an
//! application the reviewer is not assigned to) they refuse through [`refuse`], which writes
//! the same audit entry.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use drgdip_settle::{Actor, Role};
use serde::Deserialize;

use crate::backend::Refusal;
use crate::error::ApiError;
use crate::AppState;

/// The shortest token the tokens file accepts.
pub const MIN_TOKEN_LEN: usize = 16;

/// One `[[token]]` of the tokens file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokenEntry {
    token: String,
    role: String,
    #[serde(default)]
    hospital: Option<String>,
    #[serde(default)]
    reviewer: Option<String>,
    /// The user's id in the audit log (default: the hospital or reviewer id, or `bureau`).
    #[serde(default)]
    user: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct TokensFile {
    #[serde(default)]
    token: Vec<TokenEntry>,
}

/// Why a tokens file is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TokensError(pub String);

/// The tokens and who they are.
#[derive(Debug, Clone, Default)]
pub struct Tokens {
    /// Each token's actor and its number in the file (for the rate limit).
    by_token: HashMap<String, (u32, Actor)>,
    reviewers: BTreeSet<String>,
    hospitals: BTreeSet<String>,
}

impl Tokens {
    /// Reads a tokens file:
    /// ```toml
    /// [[token]]
    /// token = "a-long-random-string"
    /// role = "hospital"          # bureau | hospital | reviewer
    /// hospital = "H001"          # with role = "hospital"
    /// # reviewer = "R1"          # with role = "reviewer"
    /// # user = "h001-clerk"      # the id in the audit log (optional)
    /// ```
    /// Each token at least [`MIN_TOKEN_LEN`] visible ASCII characters and unique; `hospital`
    /// exactly for hospital tokens, `reviewer` exactly for reviewer tokens, each an id of
    /// [`crate::contract::ID_PATTERN`] (what the API accepts as a hospital or reviewer id).
    pub fn from_toml_str(text: &str) -> Result<Tokens, TokensError> {
        let file: TokensFile = toml::from_str(text).map_err(|e| TokensError(e.to_string()))?;
        if file.token.is_empty() {
            return Err(TokensError(
                "no [[token]]: the file must give at least one token".into(),
            ));
        }
        let mut tokens = Tokens::default();
        for (i, t) in file.token.into_iter().enumerate() {
            let at = format!("token {} (role {:?})", i + 1, t.role);
            if t.token.len() < MIN_TOKEN_LEN || !t.token.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(TokensError(format!(
                    "{at}: a token must be at least {MIN_TOKEN_LEN} visible ASCII characters without spaces"
                )));
            }
            let nonempty = |v: &Option<String>, what: &str| -> Result<String, TokensError> {
                match v.as_deref().map(str::trim) {
                    Some(s) if crate::contract::is_id(s) => Ok(s.to_string()),
                    Some(s) if !s.is_empty() => Err(TokensError(format!(
                        "{at}: {what} {s:?}: expected an id of 1 to {} letters, digits, '_', '.' or '-', starting with a letter or digit",
                        crate::contract::ID_MAX
                    ))),
                    _ => Err(TokensError(format!("{at}: expected {what} = \"...\""))),
                }
            };
            let refuse_extra = |v: &Option<String>, what: &str| -> Result<(), TokensError> {
                match v {
                    Some(_) => Err(TokensError(format!(
                        "{at}: {what} only applies to role = \"{what}\""
                    ))),
                    None => Ok(()),
                }
            };
            let user = t.user.as_deref().map(str::trim).filter(|u| !u.is_empty());
            let actor = match t.role.as_str() {
                "bureau" => {
                    refuse_extra(&t.hospital, "hospital")?;
                    refuse_extra(&t.reviewer, "reviewer")?;
                    Actor::bureau(user.unwrap_or("bureau"))
                }
                "hospital" => {
                    refuse_extra(&t.reviewer, "reviewer")?;
                    let h = nonempty(&t.hospital, "hospital")?;
                    tokens.hospitals.insert(h.clone());
                    Actor::hospital(user.unwrap_or(&h).to_string(), h)
                }
                "reviewer" => {
                    refuse_extra(&t.hospital, "hospital")?;
                    if user.is_some() {
                        return Err(TokensError(format!(
                            "{at}: a reviewer acts under its reviewer id: no user"
                        )));
                    }
                    let r = nonempty(&t.reviewer, "reviewer")?;
                    tokens.reviewers.insert(r.clone());
                    Actor::reviewer(r)
                }
                other => {
                    return Err(TokensError(format!(
                        "token {}: role {other:?}: expected bureau, hospital or reviewer",
                        i + 1
                    )))
                }
            };
            if tokens.by_token.insert(t.token, (i as u32, actor)).is_some() {
                return Err(TokensError(format!("{at}: the same token appears twice")));
            }
        }
        Ok(tokens)
    }

    /// The actor of a token.
    pub fn actor(&self, token: &str) -> Option<&Actor> {
        self.by_token.get(token).map(|(_, a)| a)
    }

    /// The number of a token in the file (0 for the first), if it is one.
    pub fn number(&self, token: &str) -> Option<u32> {
        self.by_token.get(token).map(|(n, _)| *n)
    }

    /// Whether `id` is a reviewer of the file.
    pub fn is_reviewer(&self, id: &str) -> bool {
        self.reviewers.contains(id)
    }

    /// The hospitals that have a token.
    pub fn hospitals(&self) -> impl Iterator<Item = &str> {
        self.hospitals.iter().map(String::as_str)
    }

    /// Number of tokens by role kind: `(bureau, hospital, reviewer)`.
    pub fn counts(&self) -> (usize, usize, usize) {
        let n = |k: &str| {
            self.by_token
                .values()
                .filter(|(_, a)| a.role.kind() == k)
                .count()
        };
        (n("bureau"), n("hospital"), n("reviewer"))
    }

    /// The actor of the request's `Authorization: Bearer` header: 401 without one, with a
    /// malformed one or an unknown token; 400 with two (see [`bearer`]).
    pub fn resolve(&self, headers: &HeaderMap) -> Result<Actor, ApiError> {
        let token = bearer(headers)?
            .ok_or_else(|| ApiError::unauthorized("missing Authorization: Bearer TOKEN header"))?;
        self.actor(token)
            .cloned()
            .ok_or_else(|| ApiError::unauthorized("unknown token"))
    }
}

/// The token of the request's `Authorization: Bearer TOKEN` header: `None` without the
/// header, 401 when it is not `Bearer TOKEN`, and 400 when the request has more than one
/// `Authorization` header (which one counts would be a guess: none is used).
pub fn bearer(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    let mut values = headers.get_all(axum::http::header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let more = values.count();
    if more > 0 {
        return Err(ApiError::bad_request(
            "Authorization",
            format!(
                "{} Authorization headers: expected one, \"Bearer TOKEN\"",
                more + 1
            ),
        ));
    }
    value
        .to_str()
        .ok()
        .and_then(|v| {
            let (scheme, token) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .map(Some)
        .ok_or_else(|| ApiError::unauthorized("the Authorization header must be \"Bearer TOKEN\""))
}

/// A route of the API and the roles that may call it.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    /// `GET`, `POST`.
    pub method: &'static str,
    /// The route as the router writes it (`/v1/special-cases/{id}`).
    pub path: &'static str,
    /// The role kinds allowed: `bureau`, `hospital`, `reviewer`.
    pub roles: &'static [&'static str],
    /// What it does.
    pub summary: &'static str,
}

/// The roles of the tokens file.
pub const ROLES: [&str; 3] = ["bureau", "hospital", "reviewer"];

const ALL: &[&str] = &ROLES;

/// Every authenticated route and its roles: the policy [`authorize`] enforces (a route not
/// listed here is refused to everyone).
pub const ROUTES: &[Route] = &[
    Route {
        method: "GET",
        path: "/v1/whoami",
        roles: ALL,
        summary: "who the token is: actor and role",
    },
    Route {
        method: "POST",
        path: "/v1/group",
        roles: ALL,
        summary: "group one case and explain it (?lang=zh|en, ?scheme=NAME|auto)",
    },
    Route {
        method: "POST",
        path: "/v1/pay",
        roles: ALL,
        summary: "pay one case under the region's DRG parameters",
    },
    Route {
        method: "GET",
        path: "/v1/statements",
        roles: &["bureau", "hospital"],
        summary: "monthly statements (?month=YYYY-MM&hospital=H); a hospital sees its own",
    },
    Route {
        method: "POST",
        path: "/v1/special-cases",
        roles: &["hospital"],
        summary: "apply for special cases (特例单议) of a review period, within the region's quota, with the cases' rows",
    },
    Route {
        method: "GET",
        path: "/v1/special-cases",
        roles: ALL,
        summary: "applications: a hospital its own, a reviewer those assigned to it (without the hospital), the bureau all; the review rounds",
    },
    Route {
        method: "GET",
        path: "/v1/special-cases/notice",
        roles: &["bureau", "hospital"],
        summary: "the half-yearly notice (?half=YYYYHn): per hospital, the region's totals, the spot checks",
    },
    Route {
        method: "POST",
        path: "/v1/special-cases/spot-checks",
        roles: &["bureau"],
        summary: "draw the half-year's spot checks (抽查复核) with a recorded seed",
    },
    Route {
        method: "GET",
        path: "/v1/special-cases/{id}",
        roles: ALL,
        summary: "one application, in the caller's view",
    },
    Route {
        method: "POST",
        path: "/v1/special-cases/{id}/assign",
        roles: &["bureau"],
        summary: "assign the first reviewers (初审) or the second reviewer (复审), without conflicts of interest",
    },
    Route {
        method: "POST",
        path: "/v1/special-cases/{id}/review",
        roles: &["reviewer"],
        summary: "record the first review, the second review or a spot check's re-review: one opinion per case",
    },
    Route {
        method: "POST",
        path: "/v1/special-cases/{id}/withdraw",
        roles: &["hospital"],
        summary: "withdraw an application (before the first review is complete)",
    },
    Route {
        method: "POST",
        path: "/v1/special-cases/{id}/spot-check",
        roles: &["bureau"],
        summary: "assign a drawn case's re-review to an expert who took no part",
    },
    Route {
        method: "GET",
        path: "/v1/audit",
        roles: &["bureau"],
        summary: "the audit log, newest first (?limit=N)",
    },
    Route {
        method: "POST",
        path: "/v1/payments",
        roles: &["bureau"],
        summary: "record payments of the fund against the statements (拨付); each recorded or refused",
    },
    Route {
        method: "GET",
        path: "/v1/arrears",
        roles: &["bureau", "hospital"],
        summary: "what the fund owes as of a date (?as_of=YYYY-MM-DD&hospital=H&all=true); a hospital sees its own",
    },
    Route {
        method: "GET",
        path: "/v1/budget/versions",
        roles: &["bureau"],
        summary: "the versions of a year's budget (总额预算, ?year=YYYY)",
    },
    Route {
        method: "GET",
        path: "/v1/budget/execution",
        roles: &["bureau", "hospital"],
        summary: "a year's budget execution per month (?year=YYYY&version=N&hospital=H); a hospital sees its own lines",
    },
    Route {
        method: "GET",
        path: "/v1/reports/monthly",
        roles: &["bureau", "hospital"],
        summary: "a hospital's monthly feedback (月告知) as its printable HTML document (?month=YYYY-MM&hospital=H); a hospital reads its own",
    },
    Route {
        method: "POST",
        path: "/v1/opinions",
        roles: &["hospital"],
        summary: "submit an opinion (意见收集: grouping, technical, pricing, other)",
    },
    Route {
        method: "GET",
        path: "/v1/opinions",
        roles: &["bureau", "hospital"],
        summary: "the opinions (?hospital=H&from=YYYY-MM-DD&to=YYYY-MM-DD); a hospital sees its own",
    },
    Route {
        method: "GET",
        path: "/v1/opinions/{id}",
        roles: &["bureau", "hospital"],
        summary: "one opinion with its classification, forwarding and answer; a hospital sees its own",
    },
    Route {
        method: "POST",
        path: "/v1/opinions/{id}/steps",
        roles: &["bureau"],
        summary: "classify, forward (provincial or national), answer or close an opinion",
    },
    Route {
        method: "POST",
        path: "/v1/settlements",
        roles: &["bureau"],
        summary: "settle a month (月结算): the month's case file as the body (text/csv), ?month=YYYY-MM[&force=true]",
    },
    Route {
        method: "POST",
        path: "/v1/clearings",
        roles: &["bureau"],
        summary: "clear a year (年度清算) from the ledger: ?year=YYYY[&point_value=V]",
    },
    Route {
        method: "GET",
        path: "/v1/ledger/cases",
        roles: &["bureau", "hospital"],
        summary: "the ledger's settled cases with what priced them (?month=YYYY-MM|year=YYYY&hospital=H); a hospital sees its own",
    },
    Route {
        method: "GET",
        path: "/v1/ledger/runs",
        roles: &["bureau"],
        summary: "the settlement runs with what each read (?month=YYYY-MM)",
    },
    Route {
        method: "GET",
        path: "/v1/negotiations",
        roles: &["bureau", "hospital"],
        summary: "negotiation rounds (谈判协商); a hospital the rounds where a representative speaks for it",
    },
    Route {
        method: "GET",
        path: "/v1/negotiations/{id}",
        roles: &["bureau", "hospital"],
        summary: "one round: parties, proposals with their simulation totals, outcome, minutes",
    },
    Route {
        method: "GET",
        path: "/v1/negotiations/{id}/proposals/{number}/simulation",
        roles: &["bureau", "hospital"],
        summary: "a proposal's stored simulation; a hospital the lines of the hospitals its representatives speak for",
    },
    Route {
        method: "POST",
        path: "/v1/negotiations/{id}/parties",
        roles: &["bureau"],
        summary: "list a party of a round",
    },
    Route {
        method: "POST",
        path: "/v1/negotiations/{id}/minutes",
        roles: &["bureau"],
        summary: "append to a round's minutes",
    },
    Route {
        method: "POST",
        path: "/v1/negotiations/{id}/agreement",
        roles: &["bureau"],
        summary: "agree a proposal of the round (its SHA-256): the parameter version the region settles with",
    },
    Route {
        method: "POST",
        path: "/v1/negotiations/{id}/closing",
        roles: &["bureau"],
        summary: "close a round without agreement",
    },
];

/// The caller of a `/v1` request, as [`authorize`] resolved it.
#[derive(Debug, Clone)]
pub struct Caller(pub Actor);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Caller, ApiError> {
        // fails closed: a route without the middleware has no caller
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| ApiError::unauthorized("no caller"))
    }
}

/// Refuses `actor` with 403 and writes the refusal to the audit log (actor, role, action,
/// subject, reason). A failure to write is logged; the request is refused all the same.
pub async fn refuse(
    app: &AppState,
    actor: &Actor,
    action: impl Into<String>,
    subject: impl Into<String>,
    reason: impl Into<String>,
) -> ApiError {
    let refusal = Refusal {
        actor: actor.clone(),
        action: action.into(),
        subject: subject.into(),
        reason: reason.into(),
    };
    if let Err(e) = app.backend.record_refusal(&refusal).await {
        eprintln!(
            "drgdip serve: could not write a refusal to the audit log ({e}): {} {} {}: {}",
            refusal.actor, refusal.action, refusal.subject, refusal.reason
        );
    }
    ApiError::forbidden(refusal.reason)
}

/// The middleware of every `/v1` route: token → actor (401), route → roles (403 + audit).
pub async fn authorize(State(app): State<Arc<AppState>>, mut req: Request, next: Next) -> Response {
    let actor = match app.tokens.resolve(req.headers()) {
        Ok(a) => a,
        Err(e) => return e.into_response(),
    };
    let method = req.method().as_str().to_string();
    let uri_path = req.uri().path().to_string();
    let matched = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string());
    let route = ROUTES
        .iter()
        .find(|r| r.method == method && matched.as_deref() == Some(r.path));
    let allowed = route.is_some_and(|r| r.roles.contains(&actor.role.kind()));
    if !allowed {
        let reason = match route {
            Some(r) => format!(
                "{method} {} is for the role(s) {}; the caller acts as {}",
                r.path,
                r.roles.join(", "),
                role_text(&actor.role)
            ),
            None => format!("{method} {uri_path} has no access rule"),
        };
        return refuse(
            &app,
            &actor,
            format!("{method} {uri_path}"),
            uri_path,
            reason,
        )
        .await
        .into_response();
    }
    req.extensions_mut().insert(Caller(actor));
    next.run(req).await
}

/// `hospital H001`, `reviewer`, `bureau`.
pub fn role_text(role: &Role) -> String {
    role.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[[token]]
token = "bureau-token-0123456789"
role = "bureau"
user = "chief"

[[token]]
token = "h001-token-0123456789"
role = "hospital"
hospital = "H001"

[[token]]
token = "r1-token-0123456789ab"
role = "reviewer"
reviewer = "R1"
"#;

    #[test]
    fn a_tokens_file_maps_tokens_to_actors() {
        let t = Tokens::from_toml_str(GOOD).unwrap();
        assert_eq!(
            t.actor("bureau-token-0123456789"),
            Some(&Actor::bureau("chief"))
        );
        assert_eq!(
            t.actor("h001-token-0123456789"),
            Some(&Actor::hospital("H001", "H001"))
        );
        assert_eq!(
            t.actor("r1-token-0123456789ab"),
            Some(&Actor::reviewer("R1"))
        );
        assert!(t.is_reviewer("R1") && !t.is_reviewer("R2"));
        assert_eq!(t.counts(), (1, 1, 1));
        assert_eq!(t.hospitals().collect::<Vec<_>>(), ["H001"]);
    }

    #[test]
    fn bad_tokens_files_are_refused_with_the_reason() {
        let cases = [
            ("", "at least one token"),
            ("[[token]]\ntoken = \"short\"\nrole = \"bureau\"\n", "at least 16"),
            (
                "[[token]]\ntoken = \"with space 0123456789\"\nrole = \"bureau\"\n",
                "without spaces",
            ),
            (
                "[[token]]\ntoken = \"0123456789abcdef\"\nrole = \"admin\"\n",
                "expected bureau, hospital or reviewer",
            ),
            (
                "[[token]]\ntoken = \"0123456789abcdef\"\nrole = \"hospital\"\n",
                "expected hospital",
            ),
            (
                "[[token]]\ntoken = \"0123456789abcdef\"\nrole = \"reviewer\"\nhospital = \"H001\"\nreviewer = \"R1\"\n",
                "hospital only applies",
            ),
            (
                "[[token]]\ntoken = \"0123456789abcdef\"\nrole = \"bureau\"\n[[token]]\ntoken = \"0123456789abcdef\"\nrole = \"bureau\"\n",
                "twice",
            ),
            (
                "[[token]]\ntoken = \"0123456789abcdef\"\nrole = \"bureau\"\nadmin = true\n",
                "unknown field",
            ),
            (
                "[[token]]\ntoken = \"0123456789abcdef\"\nrole = \"reviewer\"\nreviewer = \"Dr Li\"\n",
                "reviewer \"Dr Li\": expected an id",
            ),
            (
                "[[token]]\ntoken = \"0123456789abcdef\"\nrole = \"hospital\"\nhospital = \"医院1\"\n",
                "hospital \"医院1\": expected an id",
            ),
        ];
        for (text, expected) in cases {
            let e = Tokens::from_toml_str(text).unwrap_err();
            assert!(e.0.contains(expected), "{text:?}: {e}");
        }
    }

    #[test]
    fn the_bearer_header_is_required_and_must_name_a_known_token() {
        let t = Tokens::from_toml_str(GOOD).unwrap();
        let mut h = HeaderMap::new();
        assert!(t.resolve(&h).unwrap_err().message.contains("missing"));
        h.insert("authorization", "Basic abc".parse().unwrap());
        assert!(t.resolve(&h).unwrap_err().message.contains("Bearer TOKEN"));
        h.insert("authorization", "Bearer nope".parse().unwrap());
        assert_eq!(t.resolve(&h).unwrap_err().message, "unknown token");
        h.insert(
            "authorization",
            "bearer  h001-token-0123456789 ".parse().unwrap(),
        );
        assert_eq!(t.resolve(&h).unwrap().hospital_id(), Some("H001"));
        // two headers: 400, even when the first names a known token
        h.append("authorization", "Bearer nope".parse().unwrap());
        let e = t.resolve(&h).unwrap_err();
        assert_eq!(
            (e.status.as_u16(), e.field.as_deref()),
            (400, Some("Authorization"))
        );
        assert!(e.message.contains("2 Authorization headers"), "{e}");
    }

    #[test]
    fn the_example_tokens_file_is_a_valid_tokens_file() {
        let t = Tokens::from_toml_str(include_str!("../../../docs/tokens.example.toml")).unwrap();
        assert_eq!(t.counts(), (1, 2, 2));
        assert!(t.is_reviewer("R1") && t.is_reviewer("R2"));
    }

    #[test]
    fn tokens_are_numbered_in_file_order() {
        let t = Tokens::from_toml_str(GOOD).unwrap();
        assert_eq!(t.number("bureau-token-0123456789"), Some(0));
        assert_eq!(t.number("r1-token-0123456789ab"), Some(2));
        assert_eq!(t.number("nope"), None);
    }
}
