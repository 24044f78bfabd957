//! tegata's wire layer: the HTTP router, the AWS protocols (awsJson1_1 for Cognito Identity),
//! SigV4 authentication of callers, and OIDC discovery.
//!
//! The protocol modules turn bytes into typed operations and domain results back into the exact
//! AWS bodies; they own the error envelopes and never decide policy.

pub mod auth;
pub mod aws_json;
pub mod aws_query;
pub mod cognito_identity;
pub mod iam;
pub mod oidc;
pub mod query;
mod request;
pub mod sts;
pub mod validate;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tegata_core::Randomness;
use tegata_core::cognito_identity::{CognitoIdentity, TokenIssuer};
use tegata_core::iam::Iam;
use tegata_core::sts::Sts;
use time::OffsetDateTime;

pub use request::{RawRequest, RequestIds};

/// The largest request body accepted. Cognito Identity's biggest legal input (ten 50 000-character
/// login tokens) fits well inside it; anything larger is refused before it is hashed.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

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
    pub cognito_identity: CognitoIdentity,
    pub iam: Iam,
    pub sts: Sts,
    pub issuer: Arc<TokenIssuer>,
    pub authenticator: auth::Authenticator,
    pub clock: Arc<dyn Clock>,
    pub rng: Arc<dyn Randomness>,
    pub request_ids: RequestIds,
}

/// The one router both the server binary and (later) the Lambda function serve.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", post(dispatch).get(dispatch))
        .route(
            "/.well-known/openid-configuration",
            get(oidc::openid_configuration),
        )
        .route("/.well-known/jwks_uri", get(oidc::jwks))
        .route("/healthz", get(|| async { "ok\n" }))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// What one request's log line says. Bodies and credentials never appear in it.
pub(crate) struct Outcome<'a> {
    pub request_id: &'a str,
    pub service: &'a str,
    pub operation: &'a str,
    pub started: std::time::Instant,
}

impl Outcome<'_> {
    /// Successes at `debug`, refusals at `info`, server faults at `error`.
    pub(crate) fn log(&self, error: Option<(http::StatusCode, &str, &str)>) {
        let (request_id, service, operation) = (self.request_id, self.service, self.operation);
        let micros = self.started.elapsed().as_micros() as u64;
        match error {
            None => tracing::debug!(request_id, service, operation, micros, "ok"),
            Some((status, code, _)) if status.is_server_error() => {
                tracing::error!(request_id, service, operation, code, micros, "failed")
            }
            Some((_, code, message)) => {
                tracing::info!(
                    request_id, service, operation, code, message, micros, "refused"
                )
            }
        }
    }
}

/// `/` carries every AWS operation: awsJson requests name theirs in `X-Amz-Target`, awsQuery
/// requests in an `Action` parameter (form body, or query string of a GET).
async fn dispatch(
    axum::extract::State(state): axum::extract::State<Arc<AppState>>,
    raw: RawRequest,
) -> axum::response::Response {
    if raw.headers.contains_key("x-amz-target") {
        cognito_identity::handle(&state, raw).await
    } else {
        query::handle(&state, raw).await
    }
}
