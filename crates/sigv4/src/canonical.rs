//! The canonical request and the string to sign.

use crate::{ALGORITHM, AuthForm, CredentialScope, HttpRequest, SignedRequest, percent_decode};

/// RFC 3986 encoding as SigV4 defines it: everything but `A-Z a-z 0-9 - _ . ~` is escaped with
/// upper-case hex; `/` is kept when `keep_slash` (paths) and escaped otherwise (query parts).
pub fn uri_encode(input: &[u8], keep_slash: bool) -> String {
    let mut out = String::with_capacity(input.len());
    for &byte in input {
        let unreserved = byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~');
        if unreserved || (keep_slash && byte == b'/') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The canonical URI of a wire path.
///
/// For every service but S3 the path is encoded once more on top of the encoding it already has on
/// the wire: a client that sent `/a%20b` signed `/a%2520b`. This is the spec's "double encoding";
/// it is surprising, and the AWS SDKs all do it.
pub fn canonical_uri(wire_path: &str, normalize: bool) -> String {
    let path = if normalize {
        normalize_path(wire_path)
    } else if wire_path.is_empty() {
        "/".to_owned()
    } else {
        wire_path.to_owned()
    };
    uri_encode(path.as_bytes(), true)
}

/// Remove `.` and `..` segments and empty segments (repeated slashes), keeping a trailing slash.
fn normalize_path(path: &str) -> String {
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(other),
        }
    }
    // RFC 3986 dot-segment removal leaves a trailing slash after a final `.` or `..` too.
    let ends_in_directory = path.ends_with('/') || path.ends_with("/.") || path.ends_with("/..");
    let trailing_slash = ends_in_directory && !segments.is_empty();
    let mut out = String::with_capacity(path.len() + 1);
    out.push('/');
    out.push_str(&segments.join("/"));
    if trailing_slash {
        out.push('/');
    }
    out
}

fn canonical_query(raw_query: &str, form: AuthForm, token: SessionTokenPlacement) -> String {
    let mut pairs: Vec<(String, String)> = raw_query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .filter_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let key = percent_decode(key);
            // The signature cannot sign itself.
            if form == AuthForm::Query && key == b"X-Amz-Signature" {
                return None;
            }
            if token == SessionTokenPlacement::AddedAfterSigning && key == b"X-Amz-Security-Token" {
                return None;
            }
            Some((
                uri_encode(&key, false),
                uri_encode(&percent_decode(value), false),
            ))
        })
        .collect();
    pairs.sort();
    let mut out = String::with_capacity(raw_query.len() + 16);
    for (i, (key, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(key);
        out.push('=');
        out.push_str(value);
    }
    out
}

/// Append a header value trimmed, with every inner run of white space (including obsolete line
/// folding) folded into a single space.
fn push_canonical_header_value(out: &mut String, value: &str) {
    // Most values (dates, hosts, tokens) have no white space at all.
    if !value.bytes().any(|b| b.is_ascii_whitespace()) {
        out.push_str(value);
        return;
    }
    for (i, word) in value.split_ascii_whitespace().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(word);
    }
}

/// The canonical request of the specification, for the headers the client said it signed.
pub fn canonical_request(req: &HttpRequest<'_>, signed: &SignedRequest, normalize: bool) -> String {
    canonical_request_with(req, signed, normalize, SessionTokenPlacement::Signed)
}

/// Whether a presigned URL's `X-Amz-Security-Token` was part of what the client signed. Most
/// signers include it; some (older STS clients, the suite's `post-sts-header-after`) append it to
/// the URL only after signing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionTokenPlacement {
    Signed,
    AddedAfterSigning,
}

pub(crate) fn canonical_request_with(
    req: &HttpRequest<'_>,
    signed: &SignedRequest,
    normalize: bool,
    token: SessionTokenPlacement,
) -> String {
    let mut out = String::with_capacity(1024);
    out.push_str(req.method);
    out.push('\n');
    out.push_str(&canonical_uri(req.path, normalize));
    out.push('\n');
    out.push_str(&canonical_query(req.query, signed.form, token));
    out.push('\n');
    for name in &signed.signed_headers {
        out.push_str(name);
        out.push(':');
        // A header sent several times is signed as its values joined by commas.
        for (i, value) in req.header_values(name).enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_canonical_header_value(&mut out, value);
        }
        out.push('\n');
    }
    out.push('\n');
    out.push_str(&signed.signed_headers.join(";"));
    out.push('\n');
    out.push_str(req.payload_sha256);
    out
}

/// `AWS4-HMAC-SHA256 \n <amz date> \n <scope> \n hex(sha256(canonical request))`
pub fn string_to_sign(amz_date: &str, scope: &CredentialScope, canonical_request: &str) -> String {
    let mut out = String::with_capacity(160);
    for part in [ALGORITHM, "\n", amz_date, "\n"] {
        out.push_str(part);
    }
    scope.push_to(&mut out);
    out.push('\n');
    crate::push_sha256_hex(&mut out, canonical_request.as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_normalise_like_the_aws_suite() {
        assert_eq!(normalize_path("//example//"), "/example/");
        assert_eq!(normalize_path("/./"), "/");
        assert_eq!(normalize_path("/example/.."), "/");
        assert_eq!(normalize_path("/example1/example2/../.."), "/");
        assert_eq!(normalize_path("/./example"), "/example");
        assert_eq!(normalize_path(""), "/");
        assert_eq!(normalize_path("/a/."), "/a/");
        assert_eq!(normalize_path("/a/b/.."), "/a/");
    }

    #[test]
    fn wire_paths_are_encoded_once_more() {
        assert_eq!(canonical_uri("/a%20b", true), "/a%2520b");
        assert_eq!(canonical_uri("/example space/", false), "/example%20space/");
        assert_eq!(uri_encode("a/b c~".as_bytes(), false), "a%2Fb%20c~");
    }

    #[test]
    fn query_is_sorted_and_reencoded() {
        assert_eq!(
            canonical_query(
                "b=2&a=1&a=0&c",
                AuthForm::Header,
                SessionTokenPlacement::Signed
            ),
            "a=0&a=1&b=2&c="
        );
        assert_eq!(
            canonical_query(
                "X-Amz-Signature=abc&x=%7e+",
                AuthForm::Query,
                SessionTokenPlacement::Signed
            ),
            "x=~%2B"
        );
    }
}
