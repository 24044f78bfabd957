//! OpenID Connect discovery: the issuer's metadata and its public keys, so any relying party
//! (AWS IAM, MinIO, Vault, a JWT library) can verify tegata's tokens.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, header};
use serde::Serialize;

use crate::AppState;

/// The path of the key set. Cognito's is literally `jwks_uri` (not `jwks.json`); tegata keeps it.
pub const JWKS_PATH: &str = "/.well-known/jwks_uri";

#[derive(Debug, Serialize)]
pub struct OpenIdConfiguration {
    pub issuer: String,
    pub jwks_uri: String,
    pub response_types_supported: Vec<&'static str>,
    pub subject_types_supported: Vec<&'static str>,
    pub id_token_signing_alg_values_supported: Vec<&'static str>,
    pub claims_supported: Vec<&'static str>,
}

pub async fn openid_configuration(State(state): State<Arc<AppState>>) -> Response {
    let issuer = state.deployment.issuer.clone();
    let mut algorithms = state.issuer.keys().algorithms();
    if algorithms.is_empty() {
        algorithms.push(tegata_core::tokens::keys::RS512);
    }
    let doc = OpenIdConfiguration {
        jwks_uri: format!("{issuer}{JWKS_PATH}"),
        issuer,
        response_types_supported: vec!["id_token"],
        subject_types_supported: vec!["public"],
        // The algorithms of the keys in the key set: RS512, and ES256 where the deployment
        // has moved to it (both while tokens of each still verify).
        id_token_signing_alg_values_supported: algorithms,
        claims_supported: vec!["sub", "aud", "amr", "iss", "exp", "iat"],
    };
    cached(Json(doc).into_response())
}

pub async fn jwks(State(state): State<Arc<AppState>>) -> Response {
    cached(Json(state.issuer.keys().jwks()).into_response())
}

/// Relying parties may cache both documents briefly; new keys are published before they sign.
fn cached(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    response
}
