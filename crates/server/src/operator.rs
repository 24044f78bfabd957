//! What operators and browsers ask of the server itself: whether it is alive (`/healthz`),
//! whether it can answer (`/readyz`: the database responds), and what it is (`GET /` from a
//! browser).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::response::{Html, IntoResponse, Response};
use http::{StatusCode, header};

use crate::AppState;

/// How long `/readyz` waits for the database.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// Alive: the process answers HTTP.
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// Ready: the database answers (the signing keys were loaded before the server listened).
/// A load balancer sends traffic elsewhere while this says 503.
pub async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    match tokio::time::timeout(READY_TIMEOUT, state.store.ping()).await {
        Ok(Ok(())) => (StatusCode::OK, "ready\n").into_response(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "not ready: the database does not answer");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "not ready: the database does not answer\n",
            )
                .into_response()
        }
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: the database did not answer in time\n",
        )
            .into_response(),
    }
}

/// `GET /`: the AWS query protocol when the request carries an action or a signature, and
/// otherwise (a browser, a curious operator) a short page saying what this server is.
pub async fn root(state: State<Arc<AppState>>, request: Request) -> Response {
    let aws = request.uri().query().is_some_and(|q| !q.is_empty())
        || request.headers().contains_key(header::AUTHORIZATION)
        || request.headers().contains_key("x-amz-target");
    if aws {
        return crate::edge::aws(state, request).await;
    }
    let issuer = html_escape(&state.deployment.issuer);
    let version = env!("CARGO_PKG_VERSION");
    Html(format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>tegata</title></head>\n\
         <body>\n<h1>tegata {version}</h1>\n\
         <p>An identity pool and token service that speaks the AWS APIs of Cognito Identity, STS \
         and IAM at this address: point an AWS SDK or the AWS CLI here with \
         <code>--endpoint-url</code>.</p>\n\
         <p>Token issuer: <code>{issuer}</code></p>\n<ul>\n\
         <li><a href=\"/.well-known/openid-configuration\">OpenID Connect discovery</a></li>\n\
         <li><a href=\"{jwks}\">signing keys (JWKS)</a></li>\n\
         <li><a href=\"/healthz\">/healthz</a> and <a href=\"/readyz\">/readyz</a></li>\n\
         </ul>\n<p>Documentation: the README of tegata's repository.</p>\n</body></html>\n",
        jwks = crate::oidc::JWKS_PATH,
    ))
    .into_response()
}

fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}
