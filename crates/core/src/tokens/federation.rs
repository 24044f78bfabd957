//! Tokens of other issuers: the IAM OpenID Connect providers an account registered. Their keys
//! come from each issuer's discovery document and JWKS, fetched by a [`KeyFetcher`] (the server
//! brings one that speaks HTTP) and cached here.
//!
//! The cache is what keeps a flood of forged tokens from becoming a flood of fetches: an
//! unknown `kid` refreshes an issuer's keys at most once per [`MIN_REFRESH_SECONDS`], a failed
//! fetch is not retried for [`RETRY_AFTER_FAILURE_SECONDS`], and the requests that miss at the
//! same moment wait for one fetch instead of making their own.
#![cfg_attr(not(test), deny(clippy::string_slice, clippy::indexing_slicing))]

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};

use crate::UnixSeconds;

/// Keys are fetched again after this long, whatever happens.
pub const MAX_KEY_AGE_SECONDS: UnixSeconds = 3600;
/// An unknown `kid` refreshes an issuer's keys at most this often.
pub const MIN_REFRESH_SECONDS: UnixSeconds = 60;
/// After a failed fetch, the issuer counts as unreachable for this long.
pub const RETRY_AFTER_FAILURE_SECONDS: UnixSeconds = 10;
/// Clock difference allowed with an external issuer, past `exp` and before `nbf`/`iat`.
pub const EXTERNAL_LEEWAY_SECONDS: u64 = 300;

/// Why an issuer's keys could not be had. The text is for the log, never for the caller (it
/// may name internal addresses).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FetchError(pub String);

/// Gets an issuer's signing keys: its discovery document's `jwks_uri`, fetched.
#[async_trait]
pub trait KeyFetcher: Send + Sync + 'static {
    async fn fetch(&self, issuer: &str) -> Result<JwkSet, FetchError>;
}

/// Why a token of another issuer was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExternalTokenError {
    /// The issuer's keys could not be fetched (and none are cached).
    Unreachable,
    /// No key of the issuer has the token's `kid`, even after a refresh.
    UnknownKey,
    /// Malformed, badly signed, or from another issuer than expected (text for the caller).
    Invalid(String),
    /// Past its `exp` (given), with the leeway.
    Expired(UnixSeconds),
    /// No `aud` (or `azp`) is a client id of the provider.
    WrongAudience,
}

/// A verified token of another issuer.
#[derive(Debug, Clone)]
pub struct ExternalToken {
    pub sub: String,
    /// The client id the token was issued to: its `aud` (or `azp`) that the provider lists.
    pub aud: String,
    pub amr: Vec<String>,
    pub claims: serde_json::Map<String, serde_json::Value>,
}

impl ExternalToken {
    /// A claim as text: strings as they are, other values as JSON.
    pub fn claim(&self, name: &str) -> Option<String> {
        match self.claims.get(name)? {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Null => None,
            other => Some(other.to_string()),
        }
    }
}

#[derive(Default)]
struct Entry {
    keys: Option<Arc<JwkSet>>,
    fetched_at: UnixSeconds,
    failed_at: Option<UnixSeconds>,
}

/// Cached keys of external issuers, by issuer.
pub struct ExternalKeys {
    fetcher: Arc<dyn KeyFetcher>,
    entries: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Entry>>>>,
}

impl ExternalKeys {
    pub fn new(fetcher: Arc<dyn KeyFetcher>) -> Self {
        Self {
            fetcher,
            entries: Mutex::new(HashMap::new()),
        }
    }

    fn entry(&self, issuer: &str) -> Arc<tokio::sync::Mutex<Entry>> {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(issuer.to_owned())
            .or_default()
            .clone()
    }

    /// The issuer's key for `kid` (or its only key, when the token names none).
    pub async fn key(
        &self,
        issuer: &str,
        kid: Option<&str>,
        now: UnixSeconds,
    ) -> Result<Jwk, ExternalTokenError> {
        let entry = self.entry(issuer);
        // Held across the fetch: requests that miss together wait for one fetch.
        let mut entry = entry.lock().await;
        let stale = entry
            .keys
            .as_ref()
            .is_none_or(|_| now - entry.fetched_at >= MAX_KEY_AGE_SECONDS);
        if stale {
            self.refresh(issuer, &mut entry, now).await;
        }
        let keys = entry.keys.clone().ok_or(ExternalTokenError::Unreachable)?;
        if let Some(key) = find(&keys, kid) {
            return Ok(key);
        }
        if !stale && now - entry.fetched_at >= MIN_REFRESH_SECONDS {
            self.refresh(issuer, &mut entry, now).await;
            if let Some(key) = entry.keys.as_deref().and_then(|keys| find(keys, kid)) {
                return Ok(key);
            }
        }
        Err(ExternalTokenError::UnknownKey)
    }

    /// Fetch the issuer's keys, unless a fetch failed just now. A failure keeps the keys held
    /// before, if any: an issuer that is down for a moment does not lock its users out.
    async fn refresh(&self, issuer: &str, entry: &mut Entry, now: UnixSeconds) {
        if entry
            .failed_at
            .is_some_and(|at| now - at < RETRY_AFTER_FAILURE_SECONDS)
        {
            return;
        }
        match self.fetcher.fetch(issuer).await {
            Ok(keys) => {
                entry.keys = Some(Arc::new(keys));
                entry.fetched_at = now;
                entry.failed_at = None;
            }
            Err(e) => {
                tracing::warn!(issuer, error = %e, "could not fetch the identity provider's keys");
                entry.failed_at = Some(now);
            }
        }
    }
}

fn find(keys: &JwkSet, kid: Option<&str>) -> Option<Jwk> {
    match kid {
        Some(kid) => keys.find(kid).cloned(),
        None if keys.keys.len() == 1 => keys.keys.first().cloned(),
        None => None,
    }
}

/// The token's `kid` and whether its algorithm is one an external issuer may use (asymmetric
/// only: an HMAC "signature" keyed with a public key proves nothing).
pub fn external_header(token: &str) -> Result<Option<String>, ExternalTokenError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| not_a_jwt())?;
    match header.alg {
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => Err(ExternalTokenError::Invalid(
            "The ID Token is signed with an HMAC algorithm.".into(),
        )),
        _ => Ok(header.kid),
    }
}

fn not_a_jwt() -> ExternalTokenError {
    ExternalTokenError::Invalid(
        "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access \
         Token)"
            .to_owned(),
    )
}

/// Verify a token of `issuer` with `key`, for one of `client_ids`, at `now`.
pub fn verify_external(
    token: &str,
    key: &Jwk,
    issuer: &str,
    client_ids: &[String],
    now: UnixSeconds,
) -> Result<ExternalToken, ExternalTokenError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| not_a_jwt())?;
    let decoding = DecodingKey::from_jwk(key).map_err(|_| {
        ExternalTokenError::Invalid("The identity provider's key could not be used.".into())
    })?;
    let mut validation = Validation::new(header.alg);
    validation.leeway = EXTERNAL_LEEWAY_SECONDS;
    validation.validate_aud = false;
    // jsonwebtoken reads the clock itself; exp is checked below against the `now` given.
    validation.validate_exp = false;
    // Issuers differ on a trailing slash (Auth0's ends in one); the provider's URL has none.
    let issuer = issuer.trim_end_matches('/');
    validation.set_issuer(&[issuer.to_owned(), format!("{issuer}/")]);
    validation.set_required_spec_claims(&["exp", "sub", "iss"]);
    let claims = jsonwebtoken::decode::<serde_json::Map<String, serde_json::Value>>(
        token,
        &decoding,
        &validation,
    )
    .map_err(|e| {
        use jsonwebtoken::errors::ErrorKind;
        ExternalTokenError::Invalid(match e.kind() {
            ErrorKind::InvalidSignature => "The ID Token's signature could not be verified.".into(),
            ErrorKind::InvalidIssuer => "The ID Token's issuer does not match.".into(),
            ErrorKind::MissingRequiredClaim(claim) => {
                format!("The ID Token is missing the required claim '{claim}'.")
            }
            ErrorKind::InvalidAlgorithm => {
                "The ID Token's algorithm does not match the identity provider's key.".into()
            }
            _ => "The ID Token provided is not a valid JWT.".into(),
        })
    })?
    .claims;
    let number = |name: &str| claims.get(name).and_then(serde_json::Value::as_i64);
    let leeway = EXTERNAL_LEEWAY_SECONDS as i64;
    let exp = number("exp").unwrap_or_default();
    if now > exp.saturating_add(leeway) {
        return Err(ExternalTokenError::Expired(exp));
    }
    if number("nbf").is_some_and(|nbf| nbf > now.saturating_add(leeway)) {
        return Err(ExternalTokenError::Invalid(
            "The ID Token is not valid yet.".into(),
        ));
    }
    let audiences: Vec<&str> = match claims.get("aud") {
        Some(serde_json::Value::String(aud)) => vec![aud.as_str()],
        Some(serde_json::Value::Array(list)) => {
            list.iter().filter_map(serde_json::Value::as_str).collect()
        }
        _ => Vec::new(),
    };
    let azp = claims.get("azp").and_then(serde_json::Value::as_str);
    let aud = audiences
        .into_iter()
        .chain(azp)
        .find(|a| client_ids.iter().any(|c| c == a))
        .ok_or(ExternalTokenError::WrongAudience)?
        .to_owned();
    let sub = claims
        .get("sub")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let amr = match claims.get("amr") {
        Some(serde_json::Value::Array(list)) => list
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        Some(serde_json::Value::String(one)) => vec![one.clone()],
        _ => Vec::new(),
    };
    Ok(ExternalToken {
        sub,
        aud,
        amr,
        claims,
    })
}

/// The `iss` of a token, read without verifying it: only to find which provider's keys to
/// verify it with.
pub fn unverified_issuer(token: &str) -> Option<String> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let value: serde_json::Value = serde_json::from_slice(&raw).ok()?;
    value.get("iss")?.as_str().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    struct Counting {
        fetches: AtomicUsize,
        keys: Result<JwkSet, FetchError>,
    }

    #[async_trait]
    impl KeyFetcher for Counting {
        async fn fetch(&self, _: &str) -> Result<JwkSet, FetchError> {
            self.fetches.fetch_add(1, Ordering::SeqCst);
            self.keys.clone()
        }
    }

    fn one_key(kid: &str) -> JwkSet {
        serde_json::from_value(serde_json::json!({"keys": [{
            "kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
            "n": "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw",
            "e": "AQAB"
        }]}))
        .unwrap()
    }

    #[tokio::test]
    async fn random_kids_refresh_at_most_once_a_minute() {
        let fetcher = Arc::new(Counting {
            fetches: AtomicUsize::new(0),
            keys: Ok(one_key("good")),
        });
        let keys = ExternalKeys::new(fetcher.clone());
        let now = 1_000_000;
        assert!(keys.key("https://i", Some("good"), now).await.is_ok());
        for n in 0..1000 {
            let kid = format!("random-{n}");
            assert_eq!(
                keys.key("https://i", Some(&kid), now + 1).await,
                Err(ExternalTokenError::UnknownKey)
            );
        }
        assert_eq!(
            fetcher.fetches.load(Ordering::SeqCst),
            1,
            "no refresh within the minute"
        );
        let _ = keys
            .key("https://i", Some("random"), now + MIN_REFRESH_SECONDS)
            .await;
        assert_eq!(
            fetcher.fetches.load(Ordering::SeqCst),
            2,
            "one refresh after it"
        );
        // Old keys are fetched again after an hour.
        assert!(
            keys.key("https://i", Some("good"), now + MAX_KEY_AGE_SECONDS + 100)
                .await
                .is_ok()
        );
        assert_eq!(fetcher.fetches.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn an_unreachable_issuer_is_asked_again_only_after_a_pause() {
        let fetcher = Arc::new(Counting {
            fetches: AtomicUsize::new(0),
            keys: Err(FetchError("connection refused".into())),
        });
        let keys = ExternalKeys::new(fetcher.clone());
        for second in 0..RETRY_AFTER_FAILURE_SECONDS {
            assert_eq!(
                keys.key("https://down", Some("k"), 500 + second).await,
                Err(ExternalTokenError::Unreachable)
            );
        }
        assert_eq!(fetcher.fetches.load(Ordering::SeqCst), 1);
        let _ = keys
            .key("https://down", Some("k"), 500 + RETRY_AFTER_FAILURE_SECONDS)
            .await;
        assert_eq!(fetcher.fetches.load(Ordering::SeqCst), 2);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 2000,
            failure_persistence: None,
            ..proptest::prelude::ProptestConfig::default()
        })]

        /// Any text as another issuer's token, through every step a client's token takes
        /// here: refused or accepted, never a panic.
        #[test]
        fn arbitrary_external_tokens_never_panic(
            text in proptest::prop_oneof![
                "\\PC{0,300}",
                "[A-Za-z0-9_-]{0,80}\\.[A-Za-z0-9_-]{0,80}\\.[A-Za-z0-9_-]{0,80}",
            ],
            now in proptest::prelude::any::<i64>(),
        ) {
            let _ = unverified_issuer(&text);
            let _ = external_header(&text);
            let key = one_key("k").keys.remove(0);
            let _ = verify_external(&text, &key, "https://i.example/", &["app".to_owned()], now);
        }
    }

    #[test]
    fn hmac_tokens_are_refused_before_any_key_is_looked_up() {
        // {"alg":"HS256","typ":"JWT"} . {} . signature
        let token = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e30.c2ln";
        assert!(matches!(
            external_header(token),
            Err(ExternalTokenError::Invalid(_))
        ));
        assert!(matches!(
            external_header("not a token"),
            Err(ExternalTokenError::Invalid(_))
        ));
    }
}
