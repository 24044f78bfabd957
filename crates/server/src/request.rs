//! The request as it arrived, kept raw: SigV4 needs the exact bytes, and AWS error shapes differ
//! from what a framework's typed extractors would answer.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use http::{HeaderMap, Method, Uri};
use tegata_core::Randomness;
use tegata_sigv4::HttpRequest;

/// Its `Debug` names the method, path and header names only: header values and the body carry
/// credentials.
pub struct RawRequest {
    pub method: Method,
    pub uri: Uri,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// The address of the connection's other end (`aws:SourceIp`); absent when the server was
    /// not given it (the router driven directly, in tests).
    pub peer: Option<std::net::IpAddr>,
}

/// The peer address of a connection, put on each of its requests by the HTTP server.
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub std::net::IpAddr);

impl std::fmt::Debug for RawRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawRequest")
            .field("method", &self.method)
            .field("path", &self.uri.path())
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("body_bytes", &self.body.len())
            .finish()
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
            // SigV4 signs header values as bytes; a value that is not UTF-8 cannot be handed to
            // the verifier as text, so it is left out (and a signature over it fails). UTF-8
            // validation, unlike HeaderValue::to_str, is vectorised: the session token alone is
            // ~700 bytes.
            headers: self
                .headers
                .iter()
                .filter_map(|(name, value)| {
                    Some((name.as_str(), std::str::from_utf8(value.as_bytes()).ok()?))
                })
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

/// Request ids (`x-amzn-RequestId`): version-4 UUIDs, as AWS answers. Drawing 16 bytes from the
/// system generator costs about a microsecond here, a noticeable share of a request that reads no
/// database (GetCallerIdentity), so the bytes are drawn for [`IDS_PER_DRAW`] ids at a time.
pub struct RequestIds {
    rng: Arc<dyn Randomness>,
    pool: Mutex<RandomPool>,
}

/// How many request ids one draw from the generator serves.
pub(crate) const IDS_PER_DRAW: usize = 32;

struct RandomPool {
    bytes: [u8; 16 * IDS_PER_DRAW],
    next: usize,
}

impl RequestIds {
    pub fn new(rng: Arc<dyn Randomness>) -> Self {
        Self {
            rng,
            pool: Mutex::new(RandomPool {
                bytes: [0; 16 * IDS_PER_DRAW],
                next: IDS_PER_DRAW,
            }),
        }
    }

    pub fn next(&self) -> String {
        let mut pool = self
            .pool
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if pool.next == IDS_PER_DRAW {
            self.rng.fill(&mut pool.bytes);
            pool.next = 0;
        }
        let at = pool.next * 16;
        let mut id = [0u8; 16];
        id.copy_from_slice(&pool.bytes[at..at + 16]);
        // Each id's bytes are handed out once.
        pool.bytes[at..at + 16].fill(0);
        pool.next += 1;
        drop(pool);
        uuid::Builder::from_random_bytes(id)
            .into_uuid()
            .hyphenated()
            .to_string()
    }
}

#[cfg(test)]
mod tests {
    use tegata_core::random::SeededRandomness;

    use super::*;

    #[test]
    fn request_ids_are_distinct_version_4_uuids_across_draws() {
        let ids = RequestIds::new(Arc::new(SeededRandomness::new(3)));
        let drawn: Vec<String> = (0..IDS_PER_DRAW * 3 + 1).map(|_| ids.next()).collect();
        let distinct: std::collections::HashSet<&String> = drawn.iter().collect();
        assert_eq!(distinct.len(), drawn.len());
        for id in &drawn {
            let parsed = uuid::Uuid::parse_str(id).unwrap();
            assert_eq!(parsed.get_version_num(), 4, "{id}");
            assert_eq!(id, &id.to_lowercase());
        }
    }
}
