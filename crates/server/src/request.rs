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

    async fn from_request(mut req: Request, state: &S) -> Result<Self, Self::Rejection> {
        // The headers are moved out rather than copied: reading the body (within the body
        // limit, which travels in the request's extensions) does not need them.
        let headers = std::mem::take(req.headers_mut());
        let method = req.method().clone();
        let uri = req.uri().clone();
        let body = Bytes::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Self {
            method,
            uri,
            headers,
            body,
        })
    }
}

impl RawRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The SigV4 view of this request: its headers as text and the hash of its body, computed
    /// once for both parsing the signature and verifying it.
    pub fn sigv4(&self) -> SigV4View<'_> {
        SigV4View {
            raw: self,
            // A value that is not text cannot have been signed as text either, so it is left
            // out (and a signature over it fails).
            headers: self
                .headers
                .iter()
                .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
                .collect(),
            payload_sha256: tegata_sigv4::sha256_hex(&self.body),
        }
    }
}

pub struct SigV4View<'a> {
    raw: &'a RawRequest,
    headers: Vec<(&'a str, &'a str)>,
    payload_sha256: String,
}

impl SigV4View<'_> {
    pub fn request(&self) -> HttpRequest<'_> {
        HttpRequest {
            method: self.raw.method.as_str(),
            path: self.raw.uri.path(),
            query: self.raw.uri.query().unwrap_or(""),
            headers: &self.headers,
            payload_sha256: &self.payload_sha256,
        }
    }
}
