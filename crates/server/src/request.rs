//! The request as it arrived, kept raw: SigV4 needs the exact bytes, and AWS error shapes differ
//! from what a framework's typed extractors would answer.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, Method, Uri};
use tegata_sigv4::HttpRequest;

pub struct RawRequest {
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl<S: Send + Sync> FromRequest<S> for RawRequest {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let body = Bytes::from_request(Request::from_parts(parts.clone(), body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Self {
            method: parts.method,
            uri: parts.uri,
            headers: parts.headers,
            body,
        })
    }
}

impl RawRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Headers as (name, value) text pairs. A value that is not text cannot have been signed
    /// as text either, so it is left out (and a signature over it fails).
    pub fn header_pairs(&self) -> Vec<(&str, &str)> {
        self.headers
            .iter()
            .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
            .collect()
    }

    /// Run `f` over the SigV4 view of this request.
    pub fn with_sigv4<T>(&self, f: impl FnOnce(&HttpRequest<'_>) -> T) -> T {
        let headers = self.header_pairs();
        let payload = tegata_sigv4::sha256_hex(&self.body);
        f(&HttpRequest {
            method: self.method.as_str(),
            path: self.uri.path(),
            query: self.uri.query().unwrap_or(""),
            headers: &headers,
            payload_sha256: &payload,
        })
    }
}
