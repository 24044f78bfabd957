//! The authenticators a profile may use: application users' passwords, a webhook of the
//! application's, or ID tokens of the application's own OpenID provider.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;
use tegata_core::Randomness;
use tegata_core::UnixSeconds;
use tegata_core::app_users::{AppUserError, AppUsers, HashingError};
use tegata_core::tokens::federation::{
    ExternalKeys, ExternalTokenError, external_header, verify_external,
};

use crate::{BrokerError, error_chain};

/// The largest webhook answer read.
const MAX_WEBHOOK_ANSWER_BYTES: usize = 64 * 1024;
/// Seconds a client is asked to wait when the password hashing threads are all busy.
const BUSY_RETRY_AFTER: i64 = 1;
/// Bounds of the session duration a webhook may ask for (AssumeRoleWithWebIdentity's).
const WEBHOOK_VALIDITY_SECONDS: std::ops::RangeInclusive<i64> = 900..=43_200;

/// What an authenticator learned about the caller.
#[derive(Debug)]
pub(crate) struct Authenticated {
    pub user_id: String,
    pub principal_tags: BTreeMap<String, String>,
    /// The longest session the authenticator allows (the webhook's `maxValiditySeconds`).
    pub max_session_seconds: Option<i64>,
}

/// Why an authenticator refused the caller (for the audit log; the client hears 401).
#[derive(Debug)]
pub(crate) struct Refused {
    pub user: Option<String>,
    pub reason: &'static str,
}

pub(crate) type Checked = Result<Result<Authenticated, Refused>, BrokerError>;

fn refused(user: Option<String>, reason: &'static str) -> Checked {
    Ok(Err(Refused { user, reason }))
}

/// Application users' passwords.
pub(crate) async fn password(
    app_users: &AppUsers,
    username: String,
    password: &str,
    rng: &dyn Randomness,
) -> Checked {
    let outcome = app_users
        .sign_in(&username, password.as_bytes(), rng)
        .await
        .map_err(|e| match e {
            AppUserError::Hashing(HashingError::Busy) => BrokerError::Busy {
                retry_after: BUSY_RETRY_AFTER,
            },
            other => {
                tracing::error!(error = %other, "password sign-in failed");
                BrokerError::Internal(other.to_string())
            }
        })?;
    match outcome {
        Ok(user) => Ok(Ok(Authenticated {
            user_id: user.username,
            principal_tags: BTreeMap::new(),
            max_session_seconds: None,
        })),
        Err(refusal) => refused(Some(username), refusal.code()),
    }
}

/// What tegata sends the webhook.
#[derive(serde::Serialize)]
struct WebhookRequest<'a> {
    token: &'a str,
    profile: &'a str,
}

/// What the webhook answers when it accepts the token (the shape of MinIO's identity plugin,
/// with principal tags).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WebhookAnswer {
    user: String,
    #[serde(default)]
    max_validity_seconds: Option<i64>,
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

/// Calls the application's webhook.
pub struct WebhookClient {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
}

impl std::fmt::Debug for WebhookClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookClient").finish_non_exhaustive()
    }
}

impl WebhookClient {
    pub fn new() -> Result<Self, String> {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(rustls::crypto::aws_lc_rs::default_provider())
            .map_err(|e| format!("no TLS root certificates: {e}"))?
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Ok(Self {
            client: Client::builder(TokioExecutor::new()).build(https),
        })
    }

    /// Ask the webhook about `token`. The token travels in the body, never in the URL, which
    /// web servers log.
    pub(crate) async fn check(
        &self,
        url: &str,
        timeout: Duration,
        profile: &str,
        token: &str,
    ) -> Checked {
        // What the log may say about the webhook: its scheme, host and path, never credentials
        // or a query string that the operator's URL may carry.
        let shown = shown_url(url);
        let body = serde_json::to_vec(&WebhookRequest { token, profile })
            .map_err(|e| BrokerError::Internal(e.to_string()))?;
        let request = hyper::Request::post(url)
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| BrokerError::Internal(format!("the webhook URL {shown}: {e}")))?;
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| format!("{shown}: {}", error_chain(&e)))?;
            let status = response.status();
            let body = Limited::new(response.into_body(), MAX_WEBHOOK_ANSWER_BYTES)
                .collect()
                .await
                .map_err(|e| format!("{shown}: reading the answer: {e}"))?
                .to_bytes();
            Ok::<_, String>((status, body))
        };
        let (status, body) = match tokio::time::timeout(timeout, exchange).await {
            Err(_) => {
                tracing::warn!(url = %shown, ?timeout, "the broker's webhook did not answer in time");
                return Err(BrokerError::AuthenticatorUnavailable { timed_out: true });
            }
            Ok(Err(detail)) => {
                tracing::warn!(detail, "the broker's webhook could not be called");
                return Err(BrokerError::AuthenticatorUnavailable { timed_out: false });
            }
            Ok(Ok(answer)) => answer,
        };
        if status == hyper::StatusCode::UNAUTHORIZED || status == hyper::StatusCode::FORBIDDEN {
            return refused(None, "webhook_refused");
        }
        if !status.is_success() {
            tracing::warn!(url = %shown, status = status.as_u16(), "the broker's webhook failed");
            return Err(BrokerError::AuthenticatorUnavailable { timed_out: false });
        }
        let answer: WebhookAnswer = serde_json::from_slice(&body).map_err(|e| {
            tracing::warn!(url = %shown, error = %e, "the broker's webhook answered something else than {{\"user\": …}}");
            BrokerError::AuthenticatorUnavailable { timed_out: false }
        })?;
        if answer.user.is_empty() {
            return refused(None, "webhook_refused");
        }
        if let Some(seconds) = answer.max_validity_seconds
            && !WEBHOOK_VALIDITY_SECONDS.contains(&seconds)
        {
            tracing::warn!(
                url = %shown,
                seconds,
                "the broker's webhook answered a maxValiditySeconds outside 900..=43200"
            );
            return Err(BrokerError::AuthenticatorUnavailable { timed_out: false });
        }
        Ok(Ok(Authenticated {
            user_id: answer.user,
            principal_tags: answer.tags,
            max_session_seconds: answer.max_validity_seconds,
        }))
    }
}

/// A URL as the log shows it: scheme, host, port and path.
fn shown_url(url: &str) -> String {
    match url.parse::<hyper::Uri>() {
        Ok(uri) => format!(
            "{}://{}{}{}",
            uri.scheme_str().unwrap_or("?"),
            uri.host().unwrap_or("?"),
            uri.port().map(|p| format!(":{p}")).unwrap_or_default(),
            uri.path()
        ),
        Err(_) => "(an unreadable URL)".to_owned(),
    }
}

/// An ID token of the application's own OpenID provider, verified with the provider's keys
/// (cached; an unknown `kid` refreshes them at most once a minute).
pub(crate) async fn jwt(
    keys: &Arc<ExternalKeys>,
    issuer: &str,
    audiences: &[String],
    user_claim: &str,
    token: &str,
    now: UnixSeconds,
) -> Checked {
    let kid = match external_header(token) {
        Ok(kid) => kid,
        Err(_) => return refused(None, "invalid_token"),
    };
    let key = match keys.key(issuer, kid.as_deref(), now).await {
        Ok(key) => key,
        Err(ExternalTokenError::Unreachable) => {
            return Err(BrokerError::AuthenticatorUnavailable { timed_out: false });
        }
        Err(_) => return refused(None, "unknown_key"),
    };
    let verified = match verify_external(token, &key, issuer, audiences, now) {
        Ok(verified) => verified,
        Err(ExternalTokenError::Expired(_)) => return refused(None, "expired_token"),
        Err(ExternalTokenError::WrongAudience) => return refused(None, "wrong_audience"),
        Err(_) => return refused(None, "invalid_token"),
    };
    match verified.claim(user_claim) {
        Some(user) if !user.is_empty() => Ok(Ok(Authenticated {
            user_id: user,
            principal_tags: BTreeMap::new(),
            max_session_seconds: None,
        })),
        _ => refused(None, "missing_user_claim"),
    }
}
