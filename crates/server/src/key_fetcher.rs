//! Fetching an OpenID Connect provider's keys: its discovery document
//! (`<issuer>/.well-known/openid-configuration`), then the `jwks_uri` it names. Bounded in time
//! and size, so that a provider that is slow, down or hostile costs a request a few seconds at
//! most and never the server's memory.

use std::time::Duration;

use async_trait::async_trait;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use jsonwebtoken::jwk::JwkSet;
use tegata_core::tokens::federation::{FetchError, KeyFetcher};

/// The largest discovery document or JWKS read.
const MAX_DOCUMENT_BYTES: usize = 512 * 1024;

pub struct HttpKeyFetcher {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Empty<Bytes>>,
    /// For the whole of one document: connecting, sending, reading.
    timeout: Duration,
}

impl HttpKeyFetcher {
    /// `connect_timeout` bounds establishing a connection; `timeout` one document's fetch.
    pub fn new(connect_timeout: Duration, timeout: Duration) -> Result<Self, FetchError> {
        let mut http = HttpConnector::new();
        http.set_connect_timeout(Some(connect_timeout));
        http.enforce_http(false);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(rustls::crypto::aws_lc_rs::default_provider())
            .map_err(|e| FetchError(format!("no TLS root certificates: {e}")))?
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Ok(Self {
            client: Client::builder(TokioExecutor::new()).build(https),
            timeout,
        })
    }

    async fn get_json(&self, url: &str) -> Result<serde_json::Value, FetchError> {
        let uri: hyper::Uri = url
            .parse()
            .map_err(|e| FetchError(format!("{url}: not a URL: {e}")))?;
        let fetch = async {
            let response = self
                .client
                .get(uri)
                .await
                .map_err(|e| FetchError(format!("{url}: {e}")))?;
            if !response.status().is_success() {
                return Err(FetchError(format!("{url}: HTTP {}", response.status())));
            }
            let body = Limited::new(response.into_body(), MAX_DOCUMENT_BYTES)
                .collect()
                .await
                .map_err(|e| FetchError(format!("{url}: {e}")))?
                .to_bytes();
            serde_json::from_slice(&body).map_err(|e| FetchError(format!("{url}: not JSON: {e}")))
        };
        tokio::time::timeout(self.timeout, fetch)
            .await
            .map_err(|_| FetchError(format!("{url}: no answer within {:?}", self.timeout)))?
    }
}

#[async_trait]
impl KeyFetcher for HttpKeyFetcher {
    async fn fetch(&self, issuer: &str) -> Result<JwkSet, FetchError> {
        let discovery = self
            .get_json(&format!(
                "{}/.well-known/openid-configuration",
                issuer.trim_end_matches('/')
            ))
            .await?;
        // The document must be the issuer's own (OpenID Connect Discovery §4.3), and its keys
        // must come over TLS: a plain-http jwks_uri would let anyone on the way swap the keys.
        let claimed = discovery
            .get("issuer")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default();
        if claimed.trim_end_matches('/') != issuer.trim_end_matches('/') {
            return Err(FetchError(format!(
                "{issuer}: the discovery document names another issuer ({claimed})"
            )));
        }
        let jwks_uri = discovery
            .get("jwks_uri")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| {
                FetchError(format!("{issuer}: the discovery document has no jwks_uri"))
            })?;
        if !jwks_uri_allowed(issuer, jwks_uri) {
            return Err(FetchError(format!(
                "{issuer}: jwks_uri {jwks_uri} is not https (plain http only on the loopback \
                 issuer's own host)"
            )));
        }
        let jwks = self.get_json(jwks_uri).await?;
        // Keys of a kind this server cannot use (a new key type, say) are skipped, not fatal.
        let keys: Vec<serde_json::Value> = jwks
            .get("keys")
            .and_then(serde_json::Value::as_array)
            .cloned()
            .unwrap_or_default();
        let usable = keys
            .into_iter()
            .filter_map(|k| serde_json::from_value(k).ok())
            .collect();
        Ok(JwkSet { keys: usable })
    }
}

/// A `jwks_uri` over https, or, for an issuer on loopback served over plain http, on that same
/// scheme and host.
fn jwks_uri_allowed(issuer: &str, jwks_uri: &str) -> bool {
    if jwks_uri.starts_with("https://") {
        return true;
    }
    let origin = |url: &str| -> Option<String> {
        let rest = url.strip_prefix("http://")?;
        Some(rest.split('/').next()?.to_owned())
    };
    matches!((origin(issuer), origin(jwks_uri)), (Some(a), Some(b)) if a == b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_come_over_tls_or_from_the_loopback_issuer_itself() {
        assert!(jwks_uri_allowed(
            "https://i.example",
            "https://keys.example/jwks"
        ));
        assert!(!jwks_uri_allowed(
            "https://i.example",
            "http://i.example/jwks"
        ));
        assert!(jwks_uri_allowed(
            "http://127.0.0.1:9000",
            "http://127.0.0.1:9000/jwks"
        ));
        assert!(!jwks_uri_allowed(
            "http://127.0.0.1:9000",
            "http://169.254.169.254/keys"
        ));
    }
}
