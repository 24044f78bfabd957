//! The awsJson1_1 protocol (Cognito Identity): a JSON object in, a JSON object out, and the error
//! shape every SDK understands (`__type` + `message` in the body, `x-amzn-ErrorType` in the
//! headers; aws-api.md §1.1).

use axum::body::Body;
use axum::response::Response;
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// A request body, read as a JSON object. An empty body stands for `{}`.
#[derive(Clone)]
pub struct JsonBody(serde_json::Map<String, serde_json::Value>);

// Bodies carry tokens and developer user ids: a Debug rendering names the members only.
impl std::fmt::Debug for JsonBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

/// Why a body could not be read; the text says where, never what (it may hold tokens).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SerializationError(String);

impl JsonBody {
    pub fn parse(bytes: &[u8]) -> Result<Self, SerializationError> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(serde_json::Map::new()));
        }
        match serde_json::from_slice::<serde_json::Value>(bytes) {
            Ok(serde_json::Value::Object(members)) => Ok(Self(members)),
            Ok(_) => Err(SerializationError(
                "Could not read the request: the body is not a JSON object.".to_owned(),
            )),
            Err(e) => Err(SerializationError(format!(
                "Could not read the request: the body is not valid JSON (line {}, column {}).",
                e.line(),
                e.column()
            ))),
        }
    }

    /// A top-level string member.
    pub fn member(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(serde_json::Value::as_str)
    }

    /// A member that is a JSON array.
    pub fn array(&self, name: &str) -> Option<&Vec<serde_json::Value>> {
        self.0.get(name).and_then(serde_json::Value::as_array)
    }

    /// A member that is a JSON object (a map of tags).
    pub fn object(&self, name: &str) -> Option<&serde_json::Map<String, serde_json::Value>> {
        self.0.get(name).and_then(serde_json::Value::as_object)
    }

    /// The body as an operation's input shape. Unknown members are ignored, as AWS ignores them.
    pub fn decode<T: DeserializeOwned>(self) -> Result<T, SerializationError> {
        serde_json::from_value(serde_json::Value::Object(self.0)).map_err(|_| {
            // serde's message may quote the value it could not take: say only what went wrong.
            SerializationError(
                "Could not read the request: a member has the wrong type.".to_owned(),
            )
        })
    }
}

fn base(status: StatusCode, request_id: &str, body: Vec<u8>) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    if let Ok(id) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", id);
    }
    response
}

/// The answer to a successful call; `None` when the output would not serialize (a bug, which the
/// caller answers as an internal failure).
pub fn ok<T: Serialize>(request_id: &str, output: &T) -> Option<Response> {
    let body = serde_json::to_vec(output).ok()?;
    Some(base(StatusCode::OK, request_id, body))
}

/// The error envelope. `message: None` leaves the member out, as AWS does for errors it sends
/// without one (`UnknownOperationException`).
pub fn error(request_id: &str, status: StatusCode, code: &str, message: Option<&str>) -> Response {
    #[derive(Serialize)]
    struct ErrorBody<'a> {
        #[serde(rename = "__type")]
        kind: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        message: Option<&'a str>,
    }
    let body = serde_json::to_vec(&ErrorBody {
        kind: code,
        message,
    })
    .unwrap_or_default();
    let mut response = base(status, request_id, body);
    // The trailing colon is what the real service sends; every SDK cuts the header at it.
    if let Ok(kind) = HeaderValue::from_str(&format!("{code}:")) {
        response.headers_mut().insert("x-amzn-errortype", kind);
    }
    response
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Shape {
        identity_pool_id: Option<String>,
        max_results: Option<i64>,
    }

    #[test]
    fn bodies_decode_and_errors_say_where_not_what() {
        let body =
            JsonBody::parse(br#"{"IdentityPoolId":"p","MaxResults":3,"Extra":true}"#).unwrap();
        assert_eq!(body.member("IdentityPoolId"), Some("p"));
        let shape: Shape = body.decode().unwrap();
        assert_eq!(shape.max_results, Some(3));
        assert_eq!(shape.identity_pool_id.as_deref(), Some("p"));
        let empty: Shape = JsonBody::parse(b" \n").unwrap().decode().unwrap();
        assert!(empty.identity_pool_id.is_none());

        let wrong = JsonBody::parse(br#"{"MaxResults":"secret-token"}"#)
            .unwrap()
            .decode::<Shape>()
            .unwrap_err();
        assert!(!wrong.to_string().contains("secret-token"), "{wrong}");
        let broken = JsonBody::parse(b"{\"a\": secret").unwrap_err();
        assert!(!broken.to_string().contains("secret"), "{broken}");
        assert!(JsonBody::parse(b"[1]").is_err());
    }

    proptest! {
        #[test]
        fn any_bytes_parse_without_panicking(bytes: Vec<u8>) {
            if let Ok(body) = JsonBody::parse(&bytes) {
                let _ = body.member("IdentityPoolId");
                let _ = body.decode::<Shape>();
            }
        }
    }
}
