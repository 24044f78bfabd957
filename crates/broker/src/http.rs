//! The broker's HTTP endpoint: `POST /broker/v1/profiles/{profile}/credentials`.
//!
//! Password profiles take a JSON body `{"username": "…", "password": "…"}`; webhook and jwt
//! profiles an `Authorization: Bearer …` header (the body is not read). The answer is what
//! an AWS `credential_process` prints: `{"Version": 1, "AccessKeyId", "SecretAccessKey",
//! "SessionToken", "Expiration", "IdentityId"}`. Errors are JSON `{"error": code, "message":
//! text}`: 400 malformed, 401 not accepted (never saying which part was wrong), 404 no such
//! profile, 413 too large, 429 throttled (with `Retry-After`), 502/504 when the webhook or the
//! OpenID provider failed or timed out, 502/503 when the identity service refused or failed,
//! 500 only for tegata's own failures.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use serde::{Deserialize, Serialize};
use tegata_server::{Clock, PeerAddr};
use time::format_description::well_known::Rfc3339;
use tokio::sync::Semaphore;

use crate::backend::BackendError;
use crate::profiles::AuthenticatorKind;
use crate::{Broker, BrokerError, Issued, Presented};

/// The endpoint's path, with the profile's name as `{profile}`.
pub const CREDENTIALS_PATH: &str = "/broker/v1/profiles/{profile}/credentials";

/// The largest request body read: a username and a password of at most 1 024 bytes each,
/// with room for JSON escapes.
const MAX_BODY_BYTES: usize = 16 * 1024;

/// The bounds every request of the server is held to, applied to the broker's too.
#[derive(Clone)]
pub struct RequestLimits {
    /// For the body to arrive, and again for the answer.
    pub timeout: Duration,
    /// One permit per request being answered, shared with the rest of the server; none in a
    /// Lambda function, which answers one request at a time.
    pub in_flight: Option<Arc<Semaphore>>,
}

impl Default for RequestLimits {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            in_flight: None,
        }
    }
}

#[derive(Clone)]
struct BrokerState {
    broker: Arc<Broker>,
    clock: Arc<dyn Clock>,
    limits: RequestLimits,
}

/// The broker's routes, to merge into a server's router.
pub fn router(broker: Arc<Broker>, clock: Arc<dyn Clock>, limits: RequestLimits) -> Router {
    Router::new()
        .route(CREDENTIALS_PATH, post(credentials))
        .with_state(BrokerState {
            broker,
            clock,
            limits,
        })
}

/// The broker's routes, plus a POST to any other path for `profile`: a function behind a
/// Lambda function URL or an API Gateway route serves one profile, wherever it is mounted.
pub fn single_profile_router(
    broker: Arc<Broker>,
    clock: Arc<dyn Clock>,
    limits: RequestLimits,
    profile: String,
) -> Router {
    let state = BrokerState {
        broker,
        clock,
        limits,
    };
    Router::new()
        .route(CREDENTIALS_PATH, post(credentials))
        .fallback(post(
            move |State(state): State<BrokerState>, request: Request| {
                let profile = profile.clone();
                async move { profile_credentials(state, profile, request).await }
            },
        ))
        .with_state(state)
}

#[derive(Deserialize)]
struct PasswordBody {
    username: String,
    password: String,
}

/// What a `credential_process` prints.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CredentialsBody<'a> {
    version: u8,
    access_key_id: &'a str,
    secret_access_key: &'a str,
    session_token: &'a str,
    expiration: String,
    identity_id: &'a str,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    message: &'a str,
}

async fn credentials(
    State(state): State<BrokerState>,
    Path(profile): Path<String>,
    request: Request,
) -> Response {
    profile_credentials(state, profile, request).await
}

async fn profile_credentials(state: BrokerState, profile: String, request: Request) -> Response {
    let started = Instant::now();
    let response = answer(&state, &profile, request).await;
    // Counted with the AWS requests, by HTTP status (the profile is the caller's text, and
    // would grow the label set).
    tegata_server::metrics::record_request(
        "broker",
        "Credentials",
        outcome(response.status()),
        started.elapsed(),
    );
    tracing::debug!(
        profile = %profile,
        status = response.status().as_u16(),
        micros = started.elapsed().as_micros() as u64,
        "broker request"
    );
    response
}

/// The metrics' outcome of a broker answer: `ok`, or its status (the broker's statuses only).
fn outcome(status: StatusCode) -> &'static str {
    match status.as_u16() {
        200 => "ok",
        400 => "400",
        401 => "401",
        404 => "404",
        408 => "408",
        413 => "413",
        429 => "429",
        500 => "500",
        502 => "502",
        503 => "503",
        504 => "504",
        _ => "other",
    }
}

async fn answer(state: &BrokerState, profile: &str, request: Request) -> Response {
    let source = request.extensions().get::<PeerAddr>().map(|peer| peer.0);
    let Some(kind) = state
        .broker
        .profile(profile)
        .map(|p| p.authenticator.kind())
    else {
        return error(
            StatusCode::NOT_FOUND,
            "no_such_profile",
            &format!("there is no broker profile named '{profile}'"),
        );
    };
    let unreadable = |reason| {
        state
            .broker
            .audit_unreadable(profile, source, state.clock.now(), reason)
    };
    let presented = if kind == AuthenticatorKind::Password {
        let body = match read_body(request, state.limits.timeout).await {
            Ok(body) => body,
            Err(response) => {
                unreadable("malformed_request");
                return *response;
            }
        };
        match parse_password_body(&body) {
            Ok(presented) => presented,
            Err(message) => {
                unreadable("malformed_request");
                return error(StatusCode::BAD_REQUEST, "invalid_request", message);
            }
        }
    } else {
        match bearer_token(request.headers()) {
            Some(token) => Presented::Bearer(token),
            None => {
                unreadable("no_token");
                return with_bearer_challenge(error(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "This profile signs in with a bearer token (Authorization: Bearer …).",
                ));
            }
        }
    };
    // A place among the requests being answered, as any request of the server takes.
    let _permit = match &state.limits.in_flight {
        None => None,
        Some(in_flight) => match in_flight.clone().try_acquire_owned() {
            Ok(permit) => Some(permit),
            Err(_) => {
                return with_retry_after(
                    error(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "busy",
                        "The server is answering as many requests as it may. Retry later.",
                    ),
                    1,
                );
            }
        },
    };
    // On a task of its own: an attempt runs to its end (its refusal counted, its audit lines
    // written) even when the client goes away or the answer times out, and a panic in it is
    // that request's failure, not the server's.
    let broker = state.broker.clone();
    let now = state.clock.now();
    let owned_profile = profile.to_owned();
    let work = tokio::spawn(async move {
        broker
            .credentials(&owned_profile, presented, source, now)
            .await
    });
    match tokio::time::timeout(state.limits.timeout, work).await {
        Ok(Ok(Ok(issued))) => success(&issued),
        Ok(Ok(Err(e)))
            if kind != AuthenticatorKind::Password && matches!(e, BrokerError::Unauthorized) =>
        {
            with_bearer_challenge(broker_error(&e))
        }
        Ok(Ok(Err(e))) => broker_error(&e),
        Ok(Err(join)) => {
            tracing::error!(error = %join, "a broker request failed");
            broker_error(&BrokerError::Internal(
                "the request's handling failed".into(),
            ))
        }
        Err(_) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "timed_out",
            "The request took longer than the server allows.",
        ),
    }
}

/// The token of an `Authorization: Bearer …` header.
fn bearer_token(headers: &http::HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_owned())
}

/// RFC 6750's challenge on a 401 for a bearer profile.
fn with_bearer_challenge(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"tegata\""),
    );
    response
}

async fn read_body(request: Request, timeout: Duration) -> Result<Bytes, Box<Response>> {
    use http_body_util::{BodyExt, LengthLimitError, Limited};
    let read = Limited::new(request.into_body(), MAX_BODY_BYTES).collect();
    let Ok(read) = tokio::time::timeout(timeout, read).await else {
        return Err(Box::new(error(
            StatusCode::REQUEST_TIMEOUT,
            "timed_out",
            "the request body did not arrive in time",
        )));
    };
    match read {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<LengthLimitError>() => Err(Box::new(error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request_too_large",
            &format!("the request body is larger than {MAX_BODY_BYTES} bytes"),
        ))),
        Err(_) => Err(Box::new(error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "the request body could not be read",
        ))),
    }
}

fn parse_password_body(body: &[u8]) -> Result<Presented, &'static str> {
    // serde's own messages are not passed on: for a value of the wrong type they quote it
    // ("invalid type: integer `12345678`"), and that value may be the password.
    let parsed: PasswordBody = serde_json::from_slice(body).map_err(|e| match e.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            "the body is not JSON: it must be a JSON object {\"username\": \"…\", \"password\": \"…\"}"
        }
        _ => {
            "the body must be a JSON object {\"username\": \"…\", \"password\": \"…\"}, with \
             both strings"
        }
    })?;
    Ok(Presented::Password {
        username: parsed.username,
        password: parsed.password,
    })
}

fn success(issued: &Issued) -> Response {
    let credentials = &issued.credentials;
    let expiration = time::OffsetDateTime::from_unix_timestamp(credentials.expiration)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default();
    let body = CredentialsBody {
        version: 1,
        access_key_id: &credentials.access_key_id,
        secret_access_key: &credentials.secret_access_key,
        session_token: &credentials.session_token,
        expiration,
        identity_id: &issued.identity_id,
    };
    json(StatusCode::OK, &body)
}

fn broker_error(e: &BrokerError) -> Response {
    match e {
        BrokerError::NoSuchProfile(_) => {
            error(StatusCode::NOT_FOUND, "no_such_profile", &e.to_string())
        }
        BrokerError::Malformed(message) => {
            error(StatusCode::BAD_REQUEST, "invalid_request", message)
        }
        BrokerError::Unauthorized => error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "The credentials presented were not accepted.",
        ),
        BrokerError::Throttled { retry_after } | BrokerError::Busy { retry_after } => {
            with_retry_after(
                error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "throttled",
                    "Too many sign-in attempts. Retry later.",
                ),
                *retry_after,
            )
        }
        BrokerError::AuthenticatorUnavailable { timed_out: true } => error(
            StatusCode::GATEWAY_TIMEOUT,
            "authenticator_timeout",
            "The service that checks this profile's tokens did not answer in time.",
        ),
        BrokerError::AuthenticatorUnavailable { timed_out: false } => error(
            StatusCode::BAD_GATEWAY,
            "authenticator_unavailable",
            "The service that checks this profile's tokens could not be reached or failed; the \
             server's log says why.",
        ),
        BrokerError::Backend(BackendError::Throttled { .. }) => with_retry_after(
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "upstream_throttled",
                "The identity service is busy. Retry later.",
            ),
            1,
        ),
        // The identity service's own words go to the server's log: they describe the broker's
        // configuration, not the caller's request.
        BrokerError::Backend(BackendError::Refused { .. }) => error(
            StatusCode::BAD_GATEWAY,
            "upstream_refused",
            "The identity service refused to issue credentials for this profile; the server's \
             log says why.",
        ),
        BrokerError::Backend(BackendError::Unavailable { .. }) => error(
            StatusCode::BAD_GATEWAY,
            "upstream_unavailable",
            "The identity service could not be reached or failed.",
        ),
        BrokerError::Internal(_) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "The broker failed; the server's log says why.",
        ),
    }
}

fn with_retry_after(mut response: Response, seconds: i64) -> Response {
    if let Ok(value) = HeaderValue::from_str(&seconds.max(1).to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    json(
        status,
        &ErrorBody {
            error: code,
            message,
        },
    )
}

fn json(status: StatusCode, body: &impl Serialize) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    (
        status,
        [
            (header::CONTENT_TYPE, "application/json"),
            // Credentials, and refusals, are for this caller only.
            (header::CACHE_CONTROL, "no-store"),
        ],
        bytes,
    )
        .into_response()
}
