//! drgdip-server — the HTTP API of drgdip (`drgdip serve`).
//!
//! What goes in: an [`Engine`] (the schemes and the region of `drgdip_engine`, loaded
//! once), the [`Tokens`] (bearer token → actor and role) and a [`Backend`] (the
//! store: [`drgdip_store::Store`], SQLite or PostgreSQL). What comes out: an axum
//! [`Router`] with the endpoints of [`auth::ROUTES`], the OpenAPI document at
//! `/openapi.json`, a page listing the endpoints at `/api` and the web app at `/` ([`web`]).
//!
//! Invariants:
//! - every `/v1` route passes through one middleware ([`auth::authorize`]): no token or an
//!   unknown one is 401; a role the route does not list is 403, written to the audit log;
//!   what depends on the data (another hospital's case or application, an application the
//!   reviewer is not assigned to) is refused by the handler through [`auth::refuse`], which
//!   writes the same audit entry;
//! - a reviewer's answers never carry the hospital, a hospital's never a reviewer (the views
//!   of `drgdip-settle`);
//! - bad input is a 400 naming the field, never a panic; errors have one JSON shape
//!   ([`ErrorBody`]);
//! - the special-case writes (submit, assign, review, withdraw, spot checks) of one server are
//!   the engine's (`drgdip_engine::special_case`) and serialized,
//!   so the quota check and the read-modify-write of an application see a settled state;
//! - a monthly settlement and an annual clearing are the engine's (`drgdip_engine::settle`),
//!   the same functions `drgdip settle` and `drgdip clear` call, run off the request threads
//!   and serialized with each other; the ledger's writes audit them;
//! - the server defends itself ([`Limits`]): header, request and idle timeouts, a cap on
//!   open connections ([`transport`]), a request rate per token or peer address and at most
//!   one `Authorization` header ([`guard`]), a body limit;
//! - what the OpenAPI document allows is what the handlers accept ([`contract`]).

use std::future::Future;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::{middleware, Router};

pub mod auth;
pub mod backend;
pub mod budget;
pub mod contract;
pub mod engine;
pub mod error;
pub mod extract;
pub mod guard;
pub mod ledger;
pub mod limits;
pub mod negotiation;
pub mod openapi;
pub mod opinions;
pub mod payments;
pub mod reports;
pub mod routes;
pub mod special;
mod store;
pub mod transport;
pub mod views;
pub mod web;

pub use auth::{Tokens, TokensError};
pub use backend::{AuditEntry, Backend, BackendError, BackendFuture, Refusal};
pub use engine::{CaseFields, Engine, EngineError};
pub use error::{ApiError, ErrorBody};
pub use guard::Guard;
pub use limits::{LimitError, Limits, RateLimit};
pub use transport::serve_router;

/// The runtime, for `drgdip serve`.
pub use tokio;

/// What every request shares.
pub struct AppState {
    /// Grouping and payment.
    pub engine: Arc<Engine>,
    /// Who the tokens are.
    pub tokens: Tokens,
    /// The store.
    pub backend: Arc<dyn Backend>,
    /// Serializes the special-case writes of this server.
    pub writes: tokio::sync::Mutex<()>,
    /// Serializes the settlements and clearings of this server.
    pub ledger_writes: Arc<tokio::sync::Mutex<()>>,
    /// The OpenAPI document, rendered once.
    pub openapi: String,
    /// The limits and the rate limiter.
    pub guard: Arc<Guard>,
    /// The experts of the special-case review (专家组); empty unless given
    /// ([`AppState::with_experts`]).
    pub experts: drgdip_settle::Experts,
    /// The web app's sessions and jobs ([`web`]).
    pub web: web::WebState,
}

impl AppState {
    /// The state of a server under `limits`.
    pub fn new(
        engine: Arc<Engine>,
        tokens: Tokens,
        backend: Arc<dyn Backend>,
        limits: Limits,
    ) -> AppState {
        let openapi = openapi::document_json(&openapi::Facts::of(&engine, &limits));
        AppState {
            guard: Arc::new(Guard::new(tokens.clone(), limits)),
            engine,
            tokens,
            backend,
            writes: tokio::sync::Mutex::new(()),
            ledger_writes: Arc::new(tokio::sync::Mutex::new(())),
            openapi,
            experts: drgdip_settle::Experts::default(),
            web: web::WebState::default(),
        }
    }

    /// The state with the expert registry of the special-case review.
    pub fn with_experts(mut self, experts: drgdip_settle::Experts) -> AppState {
        self.experts = experts;
        self
    }

    /// The limits.
    pub fn limits(&self) -> &Limits {
        self.guard.limits()
    }
}

/// The application: the web app ([`web::routes`]); public `/api`, `/openapi.json`, `/health`; the `/v1` API behind
/// [`auth::authorize`]; all of it behind the [`Guard`] (request timeout, rate limit, one
/// `Authorization` header, body limit).
pub fn router(state: Arc<AppState>) -> Router {
    let v1 = Router::new()
        .route("/v1/whoami", get(routes::whoami))
        .route("/v1/group", post(routes::group_case))
        .route("/v1/pay", post(routes::pay_case))
        .route("/v1/statements", get(routes::statements))
        .route(
            "/v1/special-cases",
            get(special::list).post(special::submit),
        )
        .route("/v1/special-cases/notice", get(special::notice))
        .route("/v1/special-cases/spot-checks", post(special::draw))
        .route("/v1/special-cases/{id}", get(special::get_one))
        .route("/v1/special-cases/{id}/assign", post(special::assign))
        .route("/v1/special-cases/{id}/review", post(special::review))
        .route("/v1/special-cases/{id}/withdraw", post(special::withdraw))
        .route(
            "/v1/special-cases/{id}/spot-check",
            post(special::assign_spot_check),
        )
        .route("/v1/audit", get(routes::audit))
        .route("/v1/payments", post(payments::record))
        .route("/v1/arrears", get(payments::arrears_as_of))
        .route("/v1/budget/versions", get(budget::list_versions))
        .route("/v1/budget/execution", get(budget::get_execution))
        .route("/v1/reports/monthly", get(reports::monthly))
        .route("/v1/opinions", get(opinions::list).post(opinions::submit))
        .route("/v1/opinions/{id}", get(opinions::get_one))
        .route("/v1/opinions/{id}/steps", post(opinions::step))
        .route("/v1/negotiations", get(negotiation::list))
        .route("/v1/negotiations/{id}", get(negotiation::get_one))
        .route(
            "/v1/negotiations/{id}/proposals/{number}/simulation",
            get(negotiation::simulation),
        )
        .route(
            "/v1/negotiations/{id}/parties",
            post(negotiation::add_party_to),
        )
        .route(
            "/v1/negotiations/{id}/minutes",
            post(negotiation::add_minutes),
        )
        .route(
            "/v1/negotiations/{id}/agreement",
            post(negotiation::agree_on),
        )
        .route(
            "/v1/negotiations/{id}/closing",
            post(negotiation::close_round),
        )
        .route(
            "/v1/settlements",
            post(ledger::settle).layer(DefaultBodyLimit::max(state.limits().max_upload)),
        )
        .route("/v1/clearings", post(ledger::clear))
        .route("/v1/ledger/cases", get(ledger::cases))
        .route("/v1/ledger/runs", get(ledger::runs))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authorize,
        ));
    let app = Router::new()
        .route("/api", get(routes::index))
        .merge(web::routes(&state))
        .route("/openapi.json", get(routes::openapi))
        .route("/health", get(routes::health))
        .merge(v1)
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed);
    let guard = state.guard.clone();
    guard.apply(app.with_state(state))
}

/// Serves `state` on `listener` under its limits ([`transport::serve_router`]) until
/// `shutdown` completes, then finishes the requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let guard = state.guard.clone();
    let sweeper = tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            every.tick().await;
            guard.forget_idle_clients();
        }
    });
    let limits = state.limits().clone();
    let served = transport::serve_router(listener, router(state), &limits, shutdown).await;
    sweeper.abort();
    served
}

/// The server's store: [`drgdip_store::Store`] opened from a URL (`sqlite://…`,
/// `postgres://…`).
pub async fn open_store(url: &str) -> Result<Arc<dyn Backend>, BackendError> {
    store::open(url).await
}
