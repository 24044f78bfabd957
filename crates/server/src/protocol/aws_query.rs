//! The awsQuery protocol (STS, IAM): form-encoded parameters in, XML out, and the
//! `<ErrorResponse>` envelope (aws-api.md §1.2).

use std::collections::BTreeMap;

use axum::body::Body;
use axum::response::Response;
use http::{HeaderValue, StatusCode, header};

use crate::validate::Violations;

/// The request's parameters: the form body of a POST and the query string of any request, with
/// awsQuery's flattened lists (`Name.member.N`) and structures (`Name.member.N.Field`).
#[derive(Default, Clone)]
pub struct QueryParams(BTreeMap<String, String>);

// Parameters carry credentials (WebIdentityToken, policies, passwords to come): a Debug rendering
// names the parameters and never their values.
impl std::fmt::Debug for QueryParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl QueryParams {
    /// Parse the query string and then the form body (whose parameters win). Both are bytes:
    /// `+` is a space, `%XX` a byte, and bytes that are not UTF-8 become U+FFFD.
    pub fn parse(query: &[u8], body: &[u8]) -> Self {
        let mut params = BTreeMap::new();
        for raw in [query, body] {
            for (key, value) in form_urlencoded::parse(raw) {
                params.insert(key.into_owned(), value.into_owned());
            }
        }
        Self(params)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    pub fn owned(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_owned)
    }

    /// An integer member: `None` when absent; a value that is not an integer is a violation.
    pub fn integer(&self, name: &str, member: &str, v: &mut Violations) -> Option<i64> {
        let raw = self.get(name)?;
        match raw.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                v.not_a_number(member, raw);
                None
            }
        }
    }

    /// A boolean member (`true` / `false`).
    pub fn boolean(&self, name: &str, member: &str, v: &mut Violations) -> Option<bool> {
        match self.get(name)? {
            "true" => Some(true),
            "false" => Some(false),
            other => {
                v.not_a_number(member, other);
                None
            }
        }
    }

    /// `Name.member.1`, `Name.member.2`, … in order of N; `None` when there is none.
    pub fn list(&self, name: &str) -> Option<Vec<String>> {
        let prefix = format!("{name}.member.");
        let mut items: Vec<(u32, String)> = self
            .0
            .iter()
            .filter_map(|(k, v)| {
                let n = k.strip_prefix(&prefix)?.parse::<u32>().ok()?;
                Some((n, v.clone()))
            })
            .collect();
        if items.is_empty() {
            return None;
        }
        items.sort_by_key(|(n, _)| *n);
        Some(items.into_iter().map(|(_, v)| v).collect())
    }

    /// `Name.member.N.Field` as one map per N, in order of N; `None` when there is none.
    pub fn struct_list(&self, name: &str) -> Option<Vec<BTreeMap<String, String>>> {
        let prefix = format!("{name}.member.");
        let mut items: BTreeMap<u32, BTreeMap<String, String>> = BTreeMap::new();
        for (k, v) in &self.0 {
            let Some((n, field)) = k.strip_prefix(&prefix).and_then(|r| r.split_once('.')) else {
                continue;
            };
            if let Ok(n) = n.parse::<u32>() {
                items
                    .entry(n)
                    .or_default()
                    .insert(field.to_owned(), v.clone());
            }
        }
        (!items.is_empty()).then(|| items.into_values().collect())
    }
}

/// A small XML writer: elements and escaped text, nothing more is needed for AWS responses.
#[derive(Debug, Default)]
pub struct Xml(String);

/// Characters XML 1.0 cannot carry at all, escaped or not: control characters but tab, line feed
/// and carriage return, and the two non-characters U+FFFE and U+FFFF.
fn is_forbidden_in_xml(c: char) -> bool {
    (c < ' ' && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{FFFE}' | '\u{FFFF}')
}

/// Append `text` to `out` as XML character data. Values echoed from a request may hold what XML
/// forbids; those become U+FFFD, so the answer still parses.
fn push_escaped(out: &mut String, text: &str) {
    // Most values (ids, ARNs, dates, session tokens) have nothing to escape; a scan of bytes
    // finds that faster than decoding characters. 0xEF leads the encodings of U+FFFE and U+FFFF
    // (and of other characters, which the exact pass lets through).
    let worth_a_look = |b: u8| {
        matches!(b, b'&' | b'<' | b'>' | b'"' | b'\'' | b'\r' | 0xEF)
            || (b < b' ' && b != b'\t' && b != b'\n')
    };
    if text.bytes().any(worth_a_look) {
        push_escaped_by_character(out, text);
    } else {
        out.push_str(text);
    }
}

fn push_escaped_by_character(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#xD;"),
            c if is_forbidden_in_xml(c) => out.push('\u{FFFD}'),
            other => out.push(other),
        }
    }
}

impl Xml {
    pub fn new() -> Self {
        Self(String::with_capacity(256))
    }

    pub fn open(&mut self, tag: &str) -> &mut Self {
        self.0.push('<');
        self.0.push_str(tag);
        self.0.push('>');
        self
    }

    pub fn close(&mut self, tag: &str) -> &mut Self {
        self.0.push_str("</");
        self.0.push_str(tag);
        self.0.push('>');
        self
    }

    pub fn element(&mut self, tag: &str, text: &str) -> &mut Self {
        self.open(tag);
        push_escaped(&mut self.0, text);
        self.close(tag)
    }

    pub fn optional(&mut self, tag: &str, text: Option<&str>) -> &mut Self {
        if let Some(text) = text {
            self.element(tag, text);
        }
        self
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// What an operation's output writes inside `<{Op}Result>`.
pub trait XmlOutput {
    /// Whether the response has a `Result` element at all (operations without output members
    /// have none).
    const HAS_RESULT: bool = true;

    fn write(&self, xml: &mut Xml);
}

/// The output of operations that return nothing but the response metadata.
impl XmlOutput for () {
    const HAS_RESULT: bool = false;

    fn write(&self, _: &mut Xml) {}
}

fn xml_response(status: StatusCode, request_id: &str, body: String) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", id);
    }
    response
}

/// `<{Op}Response xmlns=…><{Op}Result>…</{Op}Result><ResponseMetadata>…</…></{Op}Response>`.
pub fn ok<O: XmlOutput>(
    namespace: &str,
    operation: &str,
    request_id: &str,
    output: &O,
) -> Response {
    // Room for AssumeRoleWithWebIdentity's answer (about 1.6 KB with its session token), so the
    // body is allocated once and the result is written into it, not copied from a buffer of its own.
    let mut body = String::with_capacity(2048);
    let push =
        |body: &mut String, parts: &[&str]| parts.iter().for_each(|part| body.push_str(part));
    push(
        &mut body,
        &["<", operation, "Response xmlns=\"", namespace, "\">"],
    );
    if O::HAS_RESULT {
        push(&mut body, &["<", operation, "Result>"]);
        let mut result = Xml(body);
        output.write(&mut result);
        body = result.into_string();
        push(&mut body, &["</", operation, "Result>"]);
    }
    push(
        &mut body,
        &[
            "<ResponseMetadata><RequestId>",
            request_id,
            "</RequestId></ResponseMetadata>",
        ],
    );
    push(&mut body, &["</", operation, "Response>"]);
    xml_response(StatusCode::OK, request_id, body)
}

/// `Type` is `Receiver` for server faults and `Sender` for everything the client caused.
pub fn error(
    namespace: &str,
    request_id: &str,
    status: StatusCode,
    code: &str,
    message: Option<&str>,
) -> Response {
    let kind = if status.is_server_error() {
        "Receiver"
    } else {
        "Sender"
    };
    let mut body = String::with_capacity(256);
    body.push_str("<ErrorResponse xmlns=\"");
    body.push_str(namespace);
    body.push_str("\"><Error><Type>");
    body.push_str(kind);
    body.push_str("</Type><Code>");
    push_escaped(&mut body, code);
    body.push_str("</Code>");
    if let Some(message) = message {
        body.push_str("<Message>");
        push_escaped(&mut body, message);
        body.push_str("</Message>");
    }
    body.push_str("</Error><RequestId>");
    body.push_str(request_id);
    body.push_str("</RequestId></ErrorResponse>");
    xml_response(status, request_id, body)
}

/// ISO 8601 in UTC, as awsQuery timestamps are written.
pub fn timestamp(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// How IAM returns policy documents: URL-encoded (RFC 3986) exactly once (iam-facts.md Q1).
pub fn url_encode_policy(document: &str) -> String {
    tegata_sigv4::uri_encode(document.as_bytes(), false)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn lists_and_structures_are_read_in_order() {
        let params = QueryParams::parse(
            b"L.member.2=two&L.member.1=one",
            b"Tags.member.2.Key=b&Tags.member.1.Key=a&Tags.member.1.Value=x+y&PolicyArns.member.10.arn=z&PolicyArns.member.2.arn=w",
        );
        assert_eq!(params.list("L").unwrap(), ["one", "two"]);
        assert_eq!(params.list("Nothing"), None);
        let tags = params.struct_list("Tags").unwrap();
        assert_eq!(tags[0]["Key"], "a");
        assert_eq!(tags[0]["Value"], "x y");
        assert_eq!(tags[1]["Key"], "b");
        let arns: Vec<String> = params
            .struct_list("PolicyArns")
            .unwrap()
            .into_iter()
            .map(|m| m["arn"].clone())
            .collect();
        assert_eq!(arns, ["w", "z"]);
    }

    #[test]
    fn xml_is_escaped() {
        let mut xml = Xml::new();
        xml.element("M", "a<b & \"c\"");
        xml.element("C", "tab\tnul\u{0}bell\u{7}");
        assert_eq!(
            xml.into_string(),
            "<M>a&lt;b &amp; &quot;c&quot;</M><C>tab\tnul\u{FFFD}bell\u{FFFD}</C>"
        );
        assert_eq!(timestamp(0), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn form_values_are_decoded_from_bytes() {
        let params = QueryParams::parse(
            b"",
            b"a=plain-value_1.2~&b=a+b%2Bc%20d&c=%E3%81%A6&d=bad%FF&e=%",
        );
        assert_eq!(params.get("a"), Some("plain-value_1.2~"));
        assert_eq!(params.get("b"), Some("a b+c d"));
        assert_eq!(params.get("c"), Some("\u{3066}"));
        assert_eq!(params.get("d"), Some("bad\u{FFFD}"));
        assert_eq!(params.get("e"), Some("%"));
        assert_eq!(format!("{params:?}"), r#"{"a", "b", "c", "d", "e"}"#);
    }

    #[test]
    fn every_character_xml_cannot_carry_is_replaced_or_escaped() {
        for (text, escaped) in [
            ("it's", "it&apos;s"),
            ("a\rb", "a&#xD;b"),
            ("\u{FFFE}", "\u{FFFD}"),
            ("x\u{FFFF}", "x\u{FFFD}"),
            ("\u{1F}", "\u{FFFD}"),
            ("\u{FFFD}\u{EFFF}é\t\n", "\u{FFFD}\u{EFFF}é\t\n"),
        ] {
            let mut out = String::new();
            push_escaped(&mut out, text);
            assert_eq!(out, escaped, "{text:?}");
        }
    }

    proptest! {
        /// The byte scan that skips the escaping never skips a text that needs it.
        #[test]
        fn the_fast_path_escapes_like_the_exact_one(
            text in prop_oneof![
                "\\PC{0,40}",
                "[a-z\u{E000}-\u{E00F}]{0,8}[&<>\"'\r\t\n\u{0}-\u{1F}\u{FFFD}-\u{FFFF}\u{EFFF}]{0,2}[a-z]{0,8}",
            ],
        ) {
            let (mut fast, mut exact) = (String::new(), String::new());
            push_escaped(&mut fast, &text);
            push_escaped_by_character(&mut exact, &text);
            prop_assert_eq!(fast, exact);
        }

        #[test]
        fn any_bytes_parse_without_panicking(query: Vec<u8>, body: Vec<u8>) {
            let params = QueryParams::parse(&query, &body);
            let _ = params.list("A");
            let _ = params.struct_list("A");
            let mut v = Violations::new();
            let _ = params.integer("A", "a", &mut v);
        }
    }
}
