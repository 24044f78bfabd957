//! `POST /` (and `GET /` for awsQuery) carries every AWS operation. This is where a request meets
//! the server: it gets its request id, a place among the requests in flight (or a throttling
//! error), its body read within the size limit and the time limit, and its answer, always in the
//! envelope of the service it was for, whatever happened on the way, a panic included. Every
//! answer is logged: successes at `debug`, refusals at `info`, server faults at `error`.

use std::borrow::Cow;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::response::Response;
use futures_util::FutureExt;
use http::StatusCode;
use http_body_util::{BodyExt, LengthLimitError, Limited};

use crate::pipeline::{Failure, ProtocolKind, RequestError};
use crate::{AppState, RawRequest, cognito_identity, query};

/// Limits of the AWS endpoint.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The largest request body accepted. Cognito Identity's biggest legal input (ten
    /// 50 000-character login tokens) fits well inside the default.
    pub max_body_bytes: usize,
    /// Requests answered at once; beyond it, the service's throttling error.
    pub max_in_flight: usize,
    /// How long reading a request's body may take, and again how long answering it may.
    pub request_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            max_in_flight: 1024,
            request_timeout: Duration::from_secs(30),
        }
    }
}

/// Which service answers, for its envelope and the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Envelope {
    pub service: &'static str,
    pub protocol: ProtocolKind,
    /// The XML namespace of awsQuery answers (empty for awsJson).
    pub namespace: &'static str,
}

/// The outcome of one request, before it is rendered and logged.
pub struct Answer {
    pub envelope: Envelope,
    /// The operation's name, or what the request named (escaped when it is logged).
    pub operation: Cow<'static, str>,
    pub result: Result<Response, Failure>,
    /// Who made the request, for its audit line: gathered only when there is an audit trail
    /// and the request reached an operation.
    pub audit: Option<Box<crate::audit::AuditFacts>>,
}

/// The awsJson services are named by `X-Amz-Target`; everything else is awsQuery.
fn envelope_of(request: &Request) -> Envelope {
    if request.headers().contains_key("x-amz-target") {
        cognito_identity::ENVELOPE
    } else {
        query::DEFAULT_ENVELOPE
    }
}

pub async fn aws(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let started = Instant::now();
    let request_id = state.request_ids.next();
    let envelope = envelope_of(&request);
    let limits = state.limits;
    let failed = |operation: &'static str, error: RequestError| Answer {
        envelope,
        operation: Cow::Borrowed(operation),
        result: Err(error.into()),
        audit: None,
    };
    // The body is read before the request takes a place among those being answered: a client
    // that sends its body slowly holds its own connection, not a place others need.
    let read = within(limits.request_timeout, read(request, limits.max_body_bytes)).await;
    let answer = match read {
        Err(_) => failed("(unread)", RequestError::TimedOut),
        Ok(Err(e)) => failed("(unread)", e),
        Ok(Ok(raw)) => match state.in_flight.clone().try_acquire_owned() {
            Err(_) => failed("(throttled)", RequestError::Throttled),
            Ok(permit) => {
                let work = answer(&state, raw, envelope, &request_id);
                let answer = guarded(work, envelope, limits.request_timeout).await;
                drop(permit);
                answer
            }
        },
    };
    write_audit(&state, &answer, &request_id);
    finish(answer, &request_id, started)
}

/// `work` within `timeout`, and a panic anywhere in it answered like an internal failure so the
/// server goes on: the last line of defence, not a way of reporting errors.
async fn guarded(
    work: impl Future<Output = Answer>,
    envelope: Envelope,
    timeout: Duration,
) -> Answer {
    let failed = |operation: &'static str, error: RequestError| Answer {
        envelope,
        operation: Cow::Borrowed(operation),
        result: Err(error.into()),
        audit: None,
    };
    match within(timeout, AssertUnwindSafe(work).catch_unwind()).await {
        Ok(Ok(answer)) => answer,
        Ok(Err(panic)) => failed(
            "(panicked)",
            RequestError::Internal(format!(
                "the request's handling panicked: {}",
                panic_text(&panic)
            )),
        ),
        Err(_) => failed("(timed out)", RequestError::TimedOut),
    }
}

/// `work`'s output, or `Err(TimedOut)` when it takes longer than `limit`. The timer is armed only
/// when a poll leaves `work` pending: most requests arrive whole and are answered without waiting,
/// and registering a timer and cancelling it again was the largest cost the pipeline added to a
/// trivial request (about 1 250 instructions each, measured with callgrind). The limit therefore
/// counts from the first wait, which follows the first poll's bounded, synchronous work. A struct
/// rather than an `async fn`, so that `work` is moved no more often than `tokio::time::timeout`
/// would move it: the request's future is large, and each move is a copy.
fn within<F: Future>(limit: Duration, work: F) -> Within<F> {
    Within {
        work,
        limit,
        timer: None,
    }
}

pin_project_lite::pin_project! {
    struct Within<F> {
        #[pin]
        work: F,
        limit: Duration,
        timer: Option<Pin<Box<tokio::time::Sleep>>>,
    }
}

impl<F: Future> Future for Within<F> {
    type Output = Result<F::Output, TimedOut>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(output) = this.work.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        let limit = *this.limit;
        let timer = this
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        timer.as_mut().poll(cx).map(|()| Err(TimedOut))
    }
}

/// `within`'s limit passed.
struct TimedOut;

async fn answer(state: &AppState, raw: RawRequest, envelope: Envelope, request_id: &str) -> Answer {
    if envelope.protocol == ProtocolKind::Json {
        cognito_identity::serve(state, raw, request_id).await
    } else {
        query::serve(state, raw, request_id).await
    }
}

/// The request with its body, read within `limit` bytes.
async fn read(request: Request, limit: usize) -> Result<RawRequest, RequestError> {
    let (parts, body) = request.into_parts();
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(RequestError::TooLarge { limit });
    }
    let body = Limited::new(body, limit)
        .collect()
        .await
        .map_err(|e| {
            if e.downcast_ref::<LengthLimitError>().is_some() {
                RequestError::TooLarge { limit }
            } else {
                RequestError::Serialization(format!("The request body could not be read: {e}"))
            }
        })?
        .to_bytes();
    Ok(RawRequest {
        peer: parts
            .extensions
            .get::<crate::request::PeerAddr>()
            .map(|peer| peer.0),
        method: parts.method,
        uri: parts.uri,
        headers: parts.headers,
        body,
    })
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)")
}

/// The longest value taken from a request that a log line repeats; the rest is cut.
const LOGGED_VALUE_CHARS: usize = 256;

/// `value`, cut to [`LOGGED_VALUE_CHARS`] characters for the log (answers keep it whole, as AWS's
/// messages do).
fn for_log(value: &str) -> Cow<'_, str> {
    match value.char_indices().nth(LOGGED_VALUE_CHARS) {
        Some((end, _)) => Cow::Owned(format!("{}…", value.get(..end).unwrap_or_default())),
        None => Cow::Borrowed(value),
    }
}

/// Write the answer's audit line, when there is an audit trail and the request is audited.
fn write_audit(state: &AppState, answer: &Answer, request_id: &str) {
    if !state.audit.is_on() {
        return;
    }
    let (outcome, status) = match &answer.result {
        Ok(_) => ("ok", None),
        Err(failure) => {
            let (code, status, _, _) = failure.wire(answer.envelope.protocol);
            (code, Some(status))
        }
    };
    if let Some(event) = crate::audit::category(&answer.operation, status) {
        state.audit.write(&crate::audit::RequestLine::new(
            state.clock.now(),
            event,
            request_id,
            answer.envelope.service,
            &for_log(&answer.operation),
            outcome,
            answer.audit.as_deref(),
        ));
    }
}

/// Render the answer in its service's envelope and log it.
fn finish(answer: Answer, request_id: &str, started: Instant) -> Response {
    let Answer {
        envelope,
        operation,
        result,
        audit: _,
    } = answer;
    let took = started.elapsed();
    // A known operation's name is 'static; a name the client made up is counted as unknown.
    let operation_label = match &operation {
        Cow::Borrowed(name) => name,
        Cow::Owned(_) => "(unknown)",
    };
    let operation = for_log(&operation);
    let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
    let service = envelope.service;
    // `?operation` writes it escaped: a name taken from the request cannot start a log line.
    match result {
        Ok(response) => {
            tracing::debug!(request_id, service, ?operation, micros, "ok");
            crate::metrics::record_request(service, operation_label, "ok", took);
            response
        }
        Err(failure) => {
            let (code, status, message, internal) = failure.wire(envelope.protocol);
            crate::metrics::record_request(service, operation_label, code, took);
            if status.is_server_error() && status != StatusCode::NOT_IMPLEMENTED {
                tracing::error!(
                    request_id, service, ?operation, code, detail = ?internal, micros, "failed"
                );
            } else {
                let reason = message.as_deref().map(for_log);
                tracing::info!(
                    request_id,
                    service,
                    ?operation,
                    code,
                    ?reason,
                    micros,
                    "refused"
                );
            }
            render(envelope, request_id, status, code, message.as_deref())
        }
    }
}

pub fn render(
    envelope: Envelope,
    request_id: &str,
    status: StatusCode,
    code: &str,
    message: Option<&str>,
) -> Response {
    match envelope.protocol {
        ProtocolKind::Json => crate::protocol::aws_json::error(request_id, status, code, message),
        ProtocolKind::Query => {
            crate::protocol::aws_query::error(envelope.namespace, request_id, status, code, message)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unread(request_id: &str) -> impl Future<Output = Answer> + use<> {
        let _ = request_id;
        std::future::pending()
    }

    #[test]
    fn logged_values_are_cut() {
        assert_eq!(for_log("short"), "short");
        let long = "é".repeat(LOGGED_VALUE_CHARS + 10);
        let cut = for_log(&long);
        assert_eq!(cut.chars().count(), LOGGED_VALUE_CHARS + 1);
        assert!(cut.ends_with('…'));
    }

    #[tokio::test]
    async fn a_panic_is_answered_in_the_envelope_and_logged_as_a_fault() {
        let envelope = query::DEFAULT_ENVELOPE;
        let answer = guarded(async { panic!("a bug") }, envelope, Duration::from_secs(5)).await;
        let response = finish(answer, "req-1", Instant::now());
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = http_body_util::BodyExt::collect(response.into_body())
            .await
            .unwrap()
            .to_bytes();
        let body = String::from_utf8_lossy(&body);
        assert!(
            body.contains("<Type>Receiver</Type><Code>InternalFailure</Code>"),
            "{body}"
        );
        assert!(
            !body.contains("a bug"),
            "the panic's text stays in the log: {body}"
        );
        assert!(body.contains("<RequestId>req-1</RequestId>"));
    }

    #[tokio::test]
    async fn within_answers_ready_work_and_work_that_waits_inside_the_limit() {
        assert!(matches!(within(Duration::ZERO, async { 1 }).await, Ok(1)));
        let waits = async {
            tokio::task::yield_now().await;
            2
        };
        assert!(matches!(within(Duration::from_secs(5), waits).await, Ok(2)));
        let never = std::future::pending::<()>();
        assert!(within(Duration::from_millis(10), never).await.is_err());
    }

    #[tokio::test]
    async fn work_past_the_timeout_is_answered_unavailable() {
        let answer = guarded(
            unread("x"),
            cognito_identity::ENVELOPE,
            Duration::from_millis(10),
        )
        .await;
        let response = finish(answer, "req-2", Instant::now());
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            response.headers().get("x-amzn-errortype").unwrap(),
            "ServiceUnavailable:"
        );
    }
}
