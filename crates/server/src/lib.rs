//! tegata's wire layer: the HTTP server and router, the AWS protocols (awsJson1_1 for Cognito
//! Identity, awsQuery for STS and IAM), SigV4 authentication of callers, the request pipeline
//! every operation goes through, and OIDC discovery.
//!
//! Each service is a module with the same three parts: `mod.rs` holds its endpoint table (one
//! row per operation of the AWS model), `shapes.rs` its input and output shapes with their
//! constraints, `handlers.rs` one function per implemented operation. The protocol modules turn
//! bytes into those shapes and results back into the exact AWS bodies; they own the error
//! envelopes and never decide policy.

pub mod audit;
pub mod auth;
pub mod authorize;
pub mod cognito_identity;
pub mod cors;
pub mod edge;
pub mod http_server;
pub mod iam;
pub mod key_fetcher;
pub mod metrics;
pub mod oidc;
pub mod operator;
pub mod pipeline;
pub mod protocol;
mod query;
mod request;
pub mod sts;
pub mod tls;
pub mod validate;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use tegata_core::cognito_identity::CognitoIdentity;
use tegata_core::iam::Iam;
use tegata_core::sts::Sts;
use tegata_core::tokens::TokenIssuer;
use tegata_core::{Deployment, Randomness};
use time::OffsetDateTime;
use tokio::sync::Semaphore;

pub use cors::AllowedOrigins;
pub use edge::Limits;
pub use request::{PeerAddr, RawRequest, RequestIds};

/// Where the time comes from (the system clock, or a fixed one in tests).
pub trait Clock: Send + Sync {
    fn now(&self) -> OffsetDateTime;
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// Everything a request handler needs, shared by all requests.
pub struct AppState {
    pub deployment: Arc<Deployment>,
    pub cognito_identity: Arc<CognitoIdentity>,
    pub iam: Iam,
    pub sts: Arc<Sts>,
    pub issuer: Arc<TokenIssuer>,
    pub authenticator: auth::Authenticator,
    pub authorizer: authorize::Authorizer,
    pub clock: Arc<dyn Clock>,
    pub rng: Arc<dyn Randomness>,
    pub request_ids: RequestIds,
    pub limits: Limits,
    /// One permit per request being answered (see [`Limits::max_in_flight`]).
    pub in_flight: Arc<Semaphore>,
    /// Which web pages may read the answers (CORS).
    pub cors: AllowedOrigins,
    /// The store, for `/readyz` to ask whether the database answers.
    pub store: Arc<dyn tegata_core::store::Store>,
    /// Renders `/metrics`; `None` when metrics are off.
    pub metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// The metrics are served on a listener of their own (`--metrics-listen`, see
    /// [`metrics_router`]), not on this one.
    pub metrics_elsewhere: bool,
    /// The audit trail of the AWS services (`--audit-log`; off unless configured).
    pub audit: Arc<tegata_core::audit::AuditLog>,
}

/// The one router both the server binary and (later) the Lambda function serve.
pub fn router(state: Arc<AppState>) -> Router {
    router_with(state, Router::new())
}

/// The router with `extra` routes beside the AWS services (the credential broker's), under
/// the same CORS policy.
pub fn router_with(state: Arc<AppState>, extra: Router) -> Router {
    let cors = state.cors.layer();
    Router::new()
        .route("/", axum::routing::post(edge::aws).get(operator::root))
        .route(
            "/.well-known/openid-configuration",
            get(oidc::openid_configuration),
        )
        .route(oidc::JWKS_PATH, get(oidc::jwks))
        .route("/healthz", get(operator::healthz))
        .route("/readyz", get(operator::readyz))
        .route("/metrics", get(metrics::render_here))
        .with_state(state)
        .merge(extra)
        .layer(cors)
}

/// The metrics listener's router (`--metrics-listen`): `/metrics`, and `/healthz` and
/// `/readyz` for the same scrapers and probes.
pub fn metrics_router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/metrics", get(metrics::render))
        .route("/healthz", get(operator::healthz))
        .route("/readyz", get(operator::readyz))
        .with_state(state)
}
