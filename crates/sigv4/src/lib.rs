//! AWS Signature Version 4 verification, as pure functions.
//!
//! Nothing here performs I/O or reads a clock: the caller hands over the request as it arrived
//! (method, raw path, raw query, headers, the SHA-256 of the body it computed itself), the secret
//! key it looked up for the access key named in the request, and `now`.
//!
//! The rules follow the AWS SigV4 specification for services other than S3: the canonical URI is
//! the wire path normalised and URI-encoded once more ("double encoding", because the wire path is
//! already encoded once), the query is decoded and re-encoded with RFC 3986 rules and sorted, header
//! values are trimmed and inner runs of spaces folded, and the payload hash is always the hash of
//! the body the server actually received (a client-supplied `x-amz-content-sha256` is never
//! trusted).

// Everything here reads what a client sent: no string slicing, no unchecked indexing (a panic
// would drop the client's connection instead of answering it).
#![cfg_attr(not(test), deny(clippy::string_slice, clippy::indexing_slicing))]

mod canonical;
mod parse;

use aws_lc_rs::{constant_time, digest, hmac};
use time::{Duration, OffsetDateTime};

pub use canonical::{
    SessionTokenPlacement, canonical_request, canonical_uri, string_to_sign, uri_encode,
};
pub use parse::{parse_amz_date, percent_decode};

/// The only algorithm SigV4 defines for HMAC signing.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The longest validity a presigned URL may claim (`X-Amz-Expires`), seven days.
pub const MAX_PRESIGNED_EXPIRES_SECONDS: i64 = 604_800;

/// A request as the server received it, before any interpretation. Its `Debug` names the headers
/// but shows none of their values, nor the query: they carry session tokens and signatures.
#[derive(Clone, Copy)]
pub struct HttpRequest<'a> {
    pub method: &'a str,
    /// The path exactly as it appeared on the request line (still percent-encoded).
    pub path: &'a str,
    /// The raw query string, without the leading `?` (empty when there is none).
    pub query: &'a str,
    /// Every header in arrival order; names in any case. A header may appear several times.
    pub headers: &'a [(&'a str, &'a str)],
    /// Lower-case hex SHA-256 of the body, computed by the server.
    pub payload_sha256: &'a str,
}

impl std::fmt::Debug for HttpRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("path", &self.path)
            .field(
                "headers",
                &self
                    .headers
                    .iter()
                    .map(|(name, _)| name)
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl<'a> HttpRequest<'a> {
    /// All values of a header, in arrival order (names compare case-insensitively).
    pub fn header_values<'n>(&self, name: &'n str) -> impl Iterator<Item = &'a str> + 'n
    where
        'a: 'n,
    {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }

    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.header_values(name).next()
    }
}

/// How the signature travelled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthForm {
    /// `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`
    Header,
    /// `?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=…&X-Amz-Signature=…` (a presigned URL)
    Query,
}

/// `<date>/<region>/<service>/aws4_request`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialScope {
    /// `YYYYMMDD`
    pub date: String,
    pub region: String,
    pub service: String,
    pub terminator: String,
}

impl CredentialScope {
    pub fn as_string(&self) -> String {
        let mut out = String::with_capacity(64);
        self.push_to(&mut out);
        out
    }

    /// Append `<date>/<region>/<service>/<terminator>` to `out`.
    pub(crate) fn push_to(&self, out: &mut String) {
        for (i, part) in [&self.date, &self.region, &self.service, &self.terminator]
            .into_iter()
            .enumerate()
        {
            if i > 0 {
                out.push('/');
            }
            out.push_str(part);
        }
    }

    /// `kSigning` for this scope (see [`signing_key`]).
    pub fn signing_key(&self, secret_access_key: &str) -> hmac::Key {
        signing_key(secret_access_key, &self.date, &self.region, &self.service)
    }
}

/// The authentication information carried by a request, parsed but not yet verified.
#[derive(Clone, PartialEq, Eq)]
pub struct SignedRequest {
    pub form: AuthForm,
    pub access_key_id: String,
    pub scope: CredentialScope,
    /// Lower-cased, in the order the client listed them.
    pub signed_headers: Vec<String>,
    /// Hex, as sent.
    pub signature: String,
    /// The `X-Amz-Date` value as sent (`YYYYMMDDTHHMMSSZ`).
    pub amz_date: String,
    pub signed_at: OffsetDateTime,
    /// `X-Amz-Security-Token`, present with temporary credentials.
    pub security_token: Option<String>,
    /// `X-Amz-Expires`, presigned form only.
    pub expires_seconds: Option<i64>,
}

// The session token is a credential: keep it out of every Debug rendering (and so out of logs).
impl std::fmt::Debug for SignedRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedRequest")
            .field("form", &self.form)
            .field("access_key_id", &self.access_key_id)
            .field("scope", &self.scope)
            .field("signed_headers", &self.signed_headers)
            .field("amz_date", &self.amz_date)
            .field(
                "security_token",
                &self.security_token.as_ref().map(|_| "<redacted>"),
            )
            .field("expires_seconds", &self.expires_seconds)
            .finish_non_exhaustive()
    }
}

/// Why a request's signature was not accepted. Each protocol maps these to its own error codes
/// (`SignatureDoesNotMatch` for awsQuery, `InvalidSignatureException` for awsJson, …).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SigV4Error {
    /// The request carries an `Authorization` header or presigned parameters that cannot be
    /// parsed into a complete SigV4 signature.
    #[error("{0}")]
    IncompleteSignature(String),
    /// The credential scope names another service than the one that received the request.
    #[error("Credential should be scoped to correct service: '{expected}'. ")]
    WrongService { expected: String },
    /// The credential scope's terminator is not `aws4_request`.
    #[error("Credential should be scoped with a valid terminator: 'aws4_request', not '{0}'.")]
    WrongTerminator(String),
    /// The scope's date is not the date of `X-Amz-Date`.
    #[error(
        "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{scope_date}' != '{request_date}', from '{amz_date}'."
    )]
    ScopeDateMismatch {
        scope_date: String,
        request_date: String,
        amz_date: String,
    },
    /// The request was signed too long ago (or its presigned validity ran out).
    #[error("Signature expired: {signed} is now earlier than {earliest} ({now} - {window}.)")]
    SignatureExpired {
        signed: String,
        earliest: String,
        now: String,
        window: String,
    },
    /// The request was signed too far in the future.
    #[error("Signature not yet current: {signed} is still later than {latest} ({now} + {window}.)")]
    SignatureNotYetCurrent {
        signed: String,
        latest: String,
        now: String,
        window: String,
    },
    /// The signature does not match the one computed with the secret key.
    #[error(
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
    )]
    SignatureDoesNotMatch,
}

/// What the receiving service expects of a signature.
#[derive(Debug, Clone)]
pub struct VerifyOptions<'a> {
    /// The service name the credential scope must carry (`sts`, `cognito-identity`, …).
    pub service: &'a str,
    /// How far `X-Amz-Date` may be from `now`, either way.
    pub max_skew: Duration,
    /// Remove `.`/`..` segments and repeated slashes from the path before encoding it (every
    /// service except S3).
    pub normalize_path: bool,
}

/// Find and parse the SigV4 authentication of a request.
///
/// `Ok(None)` means the request is not signed at all: the caller decides whether the operation
/// needs a signature. A presigned query takes precedence over an `Authorization` header (a browser
/// or proxy may add an unrelated `Authorization`).
pub fn parse_signed_request(req: &HttpRequest<'_>) -> Result<Option<SignedRequest>, SigV4Error> {
    parse::parse_signed_request(req)
}

/// Check the signature of a parsed request against `secret_access_key` at time `now`.
///
/// Order of checks: scope (terminator, service, date), time window, then the signature itself,
/// compared in constant time.
pub fn verify(
    req: &HttpRequest<'_>,
    signed: &SignedRequest,
    secret_access_key: &str,
    now: OffsetDateTime,
    options: &VerifyOptions<'_>,
) -> Result<(), SigV4Error> {
    check_scope(signed, options)?;
    check_time(signed, now, options.max_skew)?;
    let key = signed.scope.signing_key(secret_access_key);
    check_signature(req, signed, &key, options)
}

/// [`verify`] with `kSigning` already derived for the request's scope (see [`signing_key`]), for
/// callers that keep it per key and day: deriving it is four of the five HMACs a check costs.
/// A key derived for another scope makes the signature fail, never pass.
pub fn verify_with_signing_key(
    req: &HttpRequest<'_>,
    signed: &SignedRequest,
    signing_key: &hmac::Key,
    now: OffsetDateTime,
    options: &VerifyOptions<'_>,
) -> Result<(), SigV4Error> {
    check_scope(signed, options)?;
    check_time(signed, now, options.max_skew)?;
    check_signature(req, signed, signing_key, options)
}

fn check_signature(
    req: &HttpRequest<'_>,
    signed: &SignedRequest,
    signing_key: &hmac::Key,
    options: &VerifyOptions<'_>,
) -> Result<(), SigV4Error> {
    // A SHA-256 HMAC is 32 bytes; anything else cannot match.
    let mut provided = [0u8; 32];
    hex::decode_to_slice(&signed.signature, &mut provided)
        .map_err(|_| SigV4Error::SignatureDoesNotMatch)?;
    let matches = |placement| {
        let expected =
            compute_signature_with(req, signed, signing_key, options.normalize_path, placement);
        constant_time::verify_slices_are_equal(expected.as_ref(), &provided).is_ok()
    };
    if matches(SessionTokenPlacement::Signed) {
        return Ok(());
    }
    // A presigned URL whose token was appended after signing: try once more without it.
    let token_in_query = signed.form == AuthForm::Query
        && req
            .query
            .split('&')
            .any(|p| p.starts_with("X-Amz-Security-Token="));
    if token_in_query && matches(SessionTokenPlacement::AddedAfterSigning) {
        return Ok(());
    }
    Err(SigV4Error::SignatureDoesNotMatch)
}

/// The raw signature bytes the request should carry if it were signed with `secret_access_key`.
pub fn compute_signature(
    req: &HttpRequest<'_>,
    signed: &SignedRequest,
    secret_access_key: &str,
    normalize_path: bool,
) -> Vec<u8> {
    let key = signed.scope.signing_key(secret_access_key);
    compute_signature_with(
        req,
        signed,
        &key,
        normalize_path,
        SessionTokenPlacement::Signed,
    )
    .as_ref()
    .to_vec()
}

fn compute_signature_with(
    req: &HttpRequest<'_>,
    signed: &SignedRequest,
    signing_key: &hmac::Key,
    normalize_path: bool,
    placement: SessionTokenPlacement,
) -> hmac::Tag {
    let canonical = canonical::canonical_request_with(req, signed, normalize_path, placement);
    let to_sign = string_to_sign(&signed.amz_date, &signed.scope, &canonical);
    hmac::sign(signing_key, to_sign.as_bytes())
}

/// `kSigning` of the specification: an HMAC chain over date, region, service and terminator.
/// It depends only on these and the secret, so callers may cache it per key and day.
pub fn signing_key(secret_access_key: &str, date: &str, region: &str, service: &str) -> hmac::Key {
    let chain = |key: &[u8], data: &str| {
        hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data.as_bytes())
    };
    let k_date = chain(format!("AWS4{secret_access_key}").as_bytes(), date);
    let k_region = chain(k_date.as_ref(), region);
    let k_service = chain(k_region.as_ref(), service);
    let k_signing = chain(k_service.as_ref(), "aws4_request");
    hmac::Key::new(hmac::HMAC_SHA256, k_signing.as_ref())
}

/// Lower-case hex SHA-256, the form SigV4 uses for payload and canonical-request hashes.
pub fn sha256_hex(data: &[u8]) -> String {
    let mut out = String::with_capacity(64);
    push_sha256_hex(&mut out, data);
    out
}

/// Append the lower-case hex SHA-256 of `data` to `out`. Every verification hashes twice (the
/// body, the canonical request); writing the digits in place keeps that free of allocations.
pub(crate) fn push_sha256_hex(out: &mut String, data: &[u8]) {
    let digit = |nibble: u8| char::from_digit(u32::from(nibble), 16).unwrap_or('0');
    for byte in digest::digest(&digest::SHA256, data).as_ref() {
        out.push(digit(byte >> 4));
        out.push(digit(byte & 0x0f));
    }
}

fn check_scope(signed: &SignedRequest, options: &VerifyOptions<'_>) -> Result<(), SigV4Error> {
    if signed.scope.terminator != "aws4_request" {
        return Err(SigV4Error::WrongTerminator(signed.scope.terminator.clone()));
    }
    if signed.scope.service != options.service {
        return Err(SigV4Error::WrongService {
            expected: options.service.to_owned(),
        });
    }
    // `amz_date` parsed as `YYYYMMDDTHHMMSSZ`, so its first eight bytes are the date.
    let request_date = signed.amz_date.get(..8).unwrap_or_default();
    if signed.scope.date != request_date {
        return Err(SigV4Error::ScopeDateMismatch {
            scope_date: signed.scope.date.clone(),
            request_date: request_date.to_owned(),
            amz_date: signed.amz_date.clone(),
        });
    }
    Ok(())
}

fn check_time(
    signed: &SignedRequest,
    now: OffsetDateTime,
    max_skew: Duration,
) -> Result<(), SigV4Error> {
    let window = || format!("{} min", max_skew.whole_minutes());
    if signed.signed_at > now + max_skew {
        return Err(SigV4Error::SignatureNotYetCurrent {
            signed: signed.amz_date.clone(),
            latest: format_amz_date(now + max_skew),
            now: format_amz_date(now),
            window: window(),
        });
    }
    // A presigned URL is good from its date for X-Amz-Expires seconds; a header signature for
    // the skew window either side of now.
    let earliest_valid_signing = match signed.expires_seconds {
        Some(expires) => now - Duration::seconds(expires),
        None => now - max_skew,
    };
    if signed.signed_at < earliest_valid_signing {
        return Err(SigV4Error::SignatureExpired {
            signed: signed.amz_date.clone(),
            earliest: format_amz_date(earliest_valid_signing),
            now: format_amz_date(now),
            window: match signed.expires_seconds {
                Some(expires) => format!("{expires} sec"),
                None => window(),
            },
        });
    }
    Ok(())
}

/// `YYYYMMDDTHHMMSSZ`, the basic ISO-8601 form SigV4 uses.
pub fn format_amz_date(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}
