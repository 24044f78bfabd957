//! Metrics in Prometheus' text format at `/metrics`: requests by service, operation and
//! outcome, their latency, tokens and credentials issued, the signer's queue and the database
//! pools. Recorded through the `metrics` facade (the domain counts what it issues), rendered by
//! `metrics-exporter-prometheus`.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};
use std::time::Duration;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{StatusCode, header};
use metrics::{Counter, Histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use crate::AppState;

const REQUESTS: &str = "tegata_requests_total";
const DURATION: &str = "tegata_request_duration_seconds";

/// Latency buckets, in seconds: from a cached signed request (tens of microseconds) to the
/// request timeout.
const DURATION_BUCKETS: &[f64] = &[
    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0, 30.0,
];

/// Install the process-wide recorder; the handle renders what was recorded.
pub fn install() -> Result<PrometheusHandle, String> {
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Full(DURATION.to_owned()), DURATION_BUCKETS)
        .map_err(|e| e.to_string())?
        .set_buckets_for_metric(
            Matcher::Full(tegata_core::store::IDENTITY_GROUP_WRITE_SECONDS.to_owned()),
            DURATION_BUCKETS,
        )
        .map_err(|e| e.to_string())?
        .build_recorder();
    let handle = recorder.handle();
    metrics::set_global_recorder(recorder).map_err(|e| e.to_string())?;
    metrics::describe_counter!(
        REQUESTS,
        "AWS requests answered, by service, operation and outcome (ok or the error code)"
    );
    metrics::describe_histogram!(
        DURATION,
        metrics::Unit::Seconds,
        "Time to answer an AWS request, by service and operation"
    );
    metrics::describe_counter!("tegata_tokens_issued_total", "OpenID tokens signed");
    metrics::describe_counter!(
        "tegata_token_signature_checks_skipped_total",
        "Tokens presented that this process had signed lately, recognised by digest without checking their signature again"
    );
    metrics::describe_counter!(
        "tegata_credentials_issued_total",
        "Temporary credentials minted, by kind of session"
    );
    metrics::describe_gauge!(
        "tegata_signer_queue_depth",
        "RS512 tokens waiting for a signing thread (ES256 tokens are signed on the request's thread)"
    );
    metrics::describe_gauge!(
        "tegata_identity_writer_queue_depth",
        "New identities waiting for the store's group writer"
    );
    metrics::describe_histogram!(
        tegata_core::store::IDENTITY_GROUP_WRITE_SECONDS,
        metrics::Unit::Seconds,
        "Time the store's group writer took to write one group of new identities, from taking the writer connection to COMMIT"
    );
    metrics::describe_counter!(
        tegata_core::store::SQLITE_SYNC_READ_FALLBACKS,
        "SQLite reads whose synchronous fast path failed and that went through sqlx instead"
    );
    metrics::describe_gauge!(
        "tegata_revoked_session_subjects",
        "Identities and pools whose earlier sessions are refused (kept 36 hours)"
    );
    metrics::describe_gauge!(
        "tegata_database_connections",
        "Database connections, by pool and state"
    );
    Ok(handle)
}

/// Count one answered request. `operation` is the operation's name when it is one of the
/// model's, so a client cannot grow the label set.
pub fn record_request(
    service: &'static str,
    operation: &'static str,
    outcome: &'static str,
    took: Duration,
) {
    let key = (service, operation, outcome);
    let handles = HANDLES.get_or_init(Default::default);
    let known = handles
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&key)
        .cloned();
    let (requests, duration) = known.unwrap_or_else(|| {
        let made = (
            metrics::counter!(REQUESTS, "service" => service, "operation" => operation, "outcome" => outcome),
            metrics::histogram!(DURATION, "service" => service, "operation" => operation),
        );
        handles
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key, made.clone());
        made
    });
    requests.increment(1);
    duration.record(took.as_secs_f64());
}

/// The recorder's handles by (service, operation, outcome): looked up once each, since
/// building a labelled key and finding it in the registry costs more than the request's own
/// bookkeeping. Bounded by the operations of the models times their outcomes.
type RequestHandles = HashMap<(&'static str, &'static str, &'static str), (Counter, Histogram)>;
static HANDLES: OnceLock<RwLock<RequestHandles>> = OnceLock::new();

/// `GET /metrics` on the main listener: 404 when the metrics have a listener of their own.
pub async fn render_here(state: State<Arc<AppState>>) -> Response {
    if state.metrics_elsewhere {
        return (
            StatusCode::NOT_FOUND,
            "metrics are served on the metrics listener (--metrics-listen)\n",
        )
            .into_response();
    }
    render(state).await
}

/// `GET /metrics`: 404 when the server runs without metrics.
pub async fn render(State(state): State<Arc<AppState>>) -> Response {
    let Some(handle) = &state.metrics else {
        return (StatusCode::NOT_FOUND, "metrics are off\n").into_response();
    };
    // Gauges sampled now, when they are asked for.
    metrics::gauge!("tegata_signer_queue_depth").set(state.issuer.waiting() as f64);
    metrics::gauge!("tegata_identity_writer_queue_depth")
        .set(state.store.identity_writes_waiting() as f64);
    metrics::gauge!("tegata_revoked_session_subjects").set(state.sts.revocations().len() as f64);
    for pool in state.store.connection_stats() {
        let busy = pool.open.saturating_sub(pool.idle);
        metrics::gauge!("tegata_database_connections", "pool" => pool.pool, "state" => "busy")
            .set(f64::from(busy));
        metrics::gauge!("tegata_database_connections", "pool" => pool.pool, "state" => "idle")
            .set(f64::from(pool.idle));
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        handle.render(),
    )
        .into_response()
}
