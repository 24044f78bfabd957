//! The awsQuery protocol (STS, IAM): form-encoded parameters in, XML out, and the
//! `<ErrorResponse>` envelope (aws-api.md §1.2).

use std::collections::BTreeMap;

use axum::body::Body;
use axum::response::Response;
use http::{HeaderValue, StatusCode, header};

use crate::RawRequest;

/// The request's parameters: the form body of a POST and the query string of any request, with
/// awsQuery's flattened lists (`Name.member.N`) and structures (`Name.member.N.Field`).
#[derive(Debug, Default, Clone)]
pub struct QueryParams(BTreeMap<String, String>);

/// Decode one `application/x-www-form-urlencoded` component: `+` is a space here.
fn form_decode(raw: &str) -> String {
    if !raw.contains(['+', '%']) {
        return raw.to_owned();
    }
    let spaced = raw.replace('+', " ");
    String::from_utf8_lossy(&tegata_sigv4::percent_decode(&spaced)).into_owned()
}

fn parse_pairs(raw: &str, into: &mut BTreeMap<String, String>) {
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        into.insert(form_decode(key), form_decode(value));
    }
}

impl QueryParams {
    pub fn from_request(raw: &RawRequest) -> Self {
        let mut params = BTreeMap::new();
        if let Some(query) = raw.uri.query() {
            parse_pairs(query, &mut params);
        }
        if !raw.body.is_empty() {
            parse_pairs(&String::from_utf8_lossy(&raw.body), &mut params);
        }
        Self(params)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    pub fn owned(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_owned)
    }

    /// `Name.member.1`, `Name.member.2`, … in order of N.
    pub fn list(&self, name: &str) -> Vec<String> {
        let prefix = format!("{name}.member.");
        let mut items: Vec<(u32, String)> = self
            .0
            .iter()
            .filter_map(|(k, v)| {
                let n = k.strip_prefix(&prefix)?.parse::<u32>().ok()?;
                Some((n, v.clone()))
            })
            .collect();
        items.sort_by_key(|(n, _)| *n);
        items.into_iter().map(|(_, v)| v).collect()
    }

    /// `Name.member.N.Field` as one map per N, in order of N.
    pub fn struct_list(&self, name: &str) -> Vec<BTreeMap<String, String>> {
        let prefix = format!("{name}.member.");
        let mut items: BTreeMap<u32, BTreeMap<String, String>> = BTreeMap::new();
        for (k, v) in &self.0 {
            let Some(rest) = k.strip_prefix(&prefix) else {
                continue;
            };
            let Some((n, field)) = rest.split_once('.') else {
                continue;
            };
            if let Ok(n) = n.parse::<u32>() {
                items
                    .entry(n)
                    .or_default()
                    .insert(field.to_owned(), v.clone());
            }
        }
        items.into_values().collect()
    }
}

/// A small XML writer: elements and escaped text, nothing more is needed for AWS responses.
#[derive(Debug, Default)]
pub struct Xml(String);

pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    push_escaped(&mut out, text);
    out
}

/// Append `text` to `out` as XML character data.
fn push_escaped(out: &mut String, text: &str) {
    let special = |c: char| matches!(c, '&' | '<' | '>' | '"' | '\'' | '\r');
    // Most values (ids, ARNs, dates) have nothing to escape.
    if !text.contains(special) {
        out.push_str(text);
        return;
    }
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#xD;"),
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

    pub fn into_string(self) -> String {
        self.0
    }
}

/// An error as it goes on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    pub code: &'static str,
    pub message: String,
    pub status: StatusCode,
}

impl QueryError {
    pub fn new(code: &'static str, status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            status,
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(code, StatusCode::BAD_REQUEST, message)
    }

    pub fn internal() -> Self {
        Self::new(
            "InternalFailure",
            StatusCode::INTERNAL_SERVER_ERROR,
            "The request processing has failed because of an unknown error, exception or failure.",
        )
    }
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

/// `<{Op}Response xmlns=…><{Op}Result>…</{Op}Result><ResponseMetadata>…</…></{Op}Response>`;
/// operations without output members have no `Result` element.
pub fn ok(namespace: &str, operation: &str, request_id: &str, result: Option<Xml>) -> Response {
    let result = result.map(Xml::into_string);
    let mut body =
        String::with_capacity(result.as_ref().map_or(0, String::len) + 4 * operation.len() + 200);
    let mut push = |parts: &[&str]| parts.iter().for_each(|part| body.push_str(part));
    push(&["<", operation, "Response xmlns=\"", namespace, "\">"]);
    if let Some(result) = &result {
        push(&[
            "<", operation, "Result>", result, "</", operation, "Result>",
        ]);
    }
    push(&[
        "<ResponseMetadata><RequestId>",
        request_id,
        "</RequestId></ResponseMetadata>",
    ]);
    push(&["</", operation, "Response>"]);
    xml_response(StatusCode::OK, request_id, body)
}

/// `Type` is `Receiver` for server faults and `Sender` for everything the client caused.
pub fn error(namespace: &str, request_id: &str, err: &QueryError) -> Response {
    let kind = if err.status.is_server_error() {
        "Receiver"
    } else {
        "Sender"
    };
    let body = format!(
        "<ErrorResponse xmlns=\"{namespace}\"><Error><Type>{kind}</Type><Code>{}</Code>\
         <Message>{}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>",
        err.code,
        escape(&err.message)
    );
    xml_response(err.status, request_id, body)
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

/// How IAM returns policy documents: URL-encoded (RFC 3986). botocore decodes them.
pub fn url_encode_policy(document: &str) -> String {
    tegata_sigv4::uri_encode(document.as_bytes(), false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_and_structures_are_read_in_order() {
        let mut map = BTreeMap::new();
        parse_pairs(
            "Tags.member.2.Key=b&Tags.member.1.Key=a&Tags.member.1.Value=x+y&PolicyArns.member.10.arn=z&PolicyArns.member.2.arn=w&L.member.2=two&L.member.1=one",
            &mut map,
        );
        let params = QueryParams(map);
        assert_eq!(params.list("L"), ["one", "two"]);
        let tags = params.struct_list("Tags");
        assert_eq!(tags[0]["Key"], "a");
        assert_eq!(tags[0]["Value"], "x y");
        assert_eq!(tags[1]["Key"], "b");
        let arns: Vec<String> = params
            .struct_list("PolicyArns")
            .into_iter()
            .map(|m| m["arn"].clone())
            .collect();
        assert_eq!(arns, ["w", "z"]);
    }

    #[test]
    fn xml_is_escaped() {
        let mut xml = Xml::new();
        xml.element("M", "a<b & \"c\"");
        assert_eq!(xml.into_string(), "<M>a&lt;b &amp; &quot;c&quot;</M>");
        assert_eq!(timestamp(0), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn form_values_are_decoded() {
        assert_eq!(form_decode("plain-value_1.2~"), "plain-value_1.2~");
        assert_eq!(form_decode("a+b%2Bc%20d"), "a b+c d");
        assert_eq!(form_decode("%E3%81%A6"), "\u{3066}");
        assert_eq!(form_decode("bad%FF"), "bad\u{FFFD}");
    }
}
