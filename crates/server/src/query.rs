//! awsQuery requests (`POST /` with a form body, or `GET /?Action=…`): STS and IAM share the
//! endpoint, and their action names do not overlap, so `Action` alone says which service answers.
#![cfg_attr(not(test), deny(clippy::string_slice, clippy::indexing_slicing))]

pub(crate) mod tags;

use std::borrow::Cow;

use axum::response::Response;

use crate::edge::{Answer, Envelope};
use crate::pipeline::{Call, RequestError};
use crate::protocol::aws_query::{self, QueryParams, XmlOutput};
use crate::{AppState, RawRequest, iam, sts};

/// The envelope of requests that name no service of ours (STS's, as the endpoint's first tenant).
pub(crate) const DEFAULT_ENVELOPE: Envelope = sts::ENVELOPE;

pub(crate) async fn serve(state: &AppState, raw: RawRequest, request_id: &str) -> Answer {
    let params = QueryParams::parse(raw.uri.query().unwrap_or_default().as_bytes(), &raw.body);
    let Some(action) = params.get("Action") else {
        return Answer {
            envelope: DEFAULT_ENVELOPE,
            operation: Cow::Borrowed("(no action)"),
            result: Err(RequestError::MissingAction.into()),
            audit: None,
        };
    };
    if let Some(op) = sts::Operation::from_name(action) {
        return sts::serve(state, &raw, params, op, request_id).await;
    }
    if let Some(op) = iam::Operation::from_name(action) {
        return iam::serve(state, &raw, params, op, request_id).await;
    }
    // AWS names the version the client sent; the service is the one that version belongs to.
    let version = params.owned("Version");
    let envelope = if version.as_deref() == Some(iam::VERSION) {
        iam::ENVELOPE
    } else {
        sts::ENVELOPE
    };
    Answer {
        envelope,
        operation: Cow::Owned(action.to_owned()),
        result: Err(RequestError::UnknownOperation {
            name: action.to_owned(),
            version,
        }
        .into()),
        audit: None,
    }
}

/// The success answer of an awsQuery operation of the service whose XML namespace is `namespace`.
pub(crate) fn answer<T: XmlOutput>(
    namespace: &str,
    call: &Call<'_, QueryParams>,
    output: &T,
) -> Response {
    aws_query::ok(namespace, call.endpoint.name, &call.ctx.request_id, output)
}
