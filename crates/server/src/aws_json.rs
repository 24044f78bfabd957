//! The awsJson1_1 envelope: success bodies and the error shape every SDK understands
//! (`__type` + `message` in the body, `x-amzn-ErrorType` in the headers; aws-api.md §1.1).

use axum::body::Body;
use axum::response::Response;
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;

pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// An error as it goes on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    pub code: &'static str,
    pub message: String,
    pub status: StatusCode,
}

impl JsonError {
    /// A client error (HTTP 400, as Cognito Identity answers every client error).
    pub fn client(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            status: StatusCode::BAD_REQUEST,
        }
    }

    /// The answer to an internal failure; the detail goes to the log, never to the client.
    pub fn internal() -> Self {
        Self {
            code: "InternalErrorException",
            message: "An internal error occurred.".to_owned(),
            status: StatusCode::INTERNAL_SERVER_ERROR,
        }
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

pub fn ok<T: Serialize>(request_id: &str, output: &T) -> Response {
    match serde_json::to_vec(output) {
        Ok(body) => base(StatusCode::OK, request_id, body),
        Err(e) => {
            tracing::error!(request_id, error = %e, "response serialization failed");
            error(request_id, &JsonError::internal())
        }
    }
}

pub fn error(request_id: &str, err: &JsonError) -> Response {
    #[derive(Serialize)]
    struct Body<'a> {
        #[serde(rename = "__type")]
        kind: &'a str,
        message: &'a str,
    }
    let body = serde_json::to_vec(&Body {
        kind: err.code,
        message: &err.message,
    })
    .unwrap_or_default();
    let mut response = base(err.status, request_id, body);
    // The trailing colon is what the real service sends; every SDK cuts the header at it.
    if let Ok(kind) = HeaderValue::from_str(&format!("{}:", err.code)) {
        response.headers_mut().insert("x-amzn-errortype", kind);
    }
    response
}
