//! Cognito Identity through aws-sdk-rust against a real server.

use std::collections::HashSet;

use aws_sdk_cognitoidentity::error::ProvideErrorMetadata;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, jwk::JwkSet};

use crate::support::{Server, TempDir, http};

const PROVIDER: &str = "login.mycompany.myapp";

async fn create_pool(client: &aws_sdk_cognitoidentity::Client, name: &str) -> String {
    client
        .create_identity_pool()
        .identity_pool_name(name)
        .allow_unauthenticated_identities(false)
        .allow_classic_flow(true)
        .developer_provider_name(PROVIDER)
        .send()
        .await
        .expect("CreateIdentityPool")
        .identity_pool_id
}

async fn token_for(
    client: &aws_sdk_cognitoidentity::Client,
    pool_id: &str,
    user: &str,
) -> (String, String) {
    let out = client
        .get_open_id_token_for_developer_identity()
        .identity_pool_id(pool_id)
        .logins(PROVIDER, user)
        .send()
        .await
        .expect("GetOpenIdTokenForDeveloperIdentity");
    (out.identity_id.unwrap(), out.token.unwrap())
}

/// Verify a token the way an outside relying party would: discovery document → jwks_uri → key
/// by `kid` → RS512 signature, issuer and audience.
async fn verify_via_discovery(
    server: &Server,
    token: &str,
    audience: &str,
) -> Result<serde_json::Value, jsonwebtoken::errors::Error> {
    let discovery = http(
        &server.addr,
        "GET",
        "/.well-known/openid-configuration",
        &[],
        b"",
    )
    .await
    .json();
    assert_eq!(discovery["issuer"], server.url.as_str());
    let jwks_uri = discovery["jwks_uri"].as_str().unwrap();
    let jwks_path = jwks_uri.strip_prefix(&server.url).unwrap();
    let jwks: JwkSet =
        serde_json::from_str(&http(&server.addr, "GET", jwks_path, &[], b"").await.body).unwrap();
    let header = jsonwebtoken::decode_header(token).unwrap();
    assert_eq!(header.alg, Algorithm::RS512);
    assert_eq!(header.typ.as_deref(), Some("JWS"));
    let jwk = jwks
        .find(header.kid.as_deref().unwrap())
        .expect("kid in JWKS");
    let mut validation = Validation::new(Algorithm::RS512);
    validation.set_audience(&[audience]);
    validation.set_issuer(&[server.url.as_str()]);
    jsonwebtoken::decode::<serde_json::Value>(
        token,
        &DecodingKey::from_jwk(jwk).unwrap(),
        &validation,
    )
    .map(|data| data.claims)
}

#[tokio::test]
async fn developer_tokens_are_stable_per_user_and_verify_through_discovery() {
    let dir = TempDir::new("tokens");
    let server = Server::start(&dir.0);
    let client = server.cognito();
    let pool_id = create_pool(&client, "seed").await;
    assert!(pool_id.starts_with("us-east-1:"), "{pool_id}");

    let (first_id, token) = token_for(&client, &pool_id, "test_user").await;
    let (again_id, _) = token_for(&client, &pool_id, "test_user").await;
    let (other_id, _) = token_for(&client, &pool_id, "someone_else").await;
    assert_eq!(first_id, again_id);
    assert_ne!(first_id, other_id);

    let claims = verify_via_discovery(&server, &token, &pool_id)
        .await
        .unwrap();
    assert_eq!(claims["sub"], first_id.as_str());
    assert_eq!(claims["aud"], pool_id.as_str());
    assert_eq!(
        claims["amr"],
        serde_json::json!([
            "authenticated",
            PROVIDER,
            format!("{PROVIDER}:{pool_id}:test_user")
        ])
    );
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        900
    );
    let account = claims["https://cognito-identity.amazonaws.com/identity-pool-arn"]
        .as_str()
        .unwrap();
    assert!(account.starts_with("arn:aws:cognito-identity:us-east-1:"));
    assert!(account.ends_with(&format!(":identitypool/{pool_id}")));

    // TokenDuration and PrincipalTags reach the token.
    let out = client
        .get_open_id_token_for_developer_identity()
        .identity_pool_id(&pool_id)
        .logins(PROVIDER, "test_user")
        .token_duration(60)
        .principal_tags("team", "blue")
        .send()
        .await
        .unwrap();
    let claims = verify_via_discovery(&server, out.token().unwrap(), &pool_id)
        .await
        .unwrap();
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        60
    );
    assert_eq!(
        claims["https://aws.amazon.com/tags"],
        serde_json::json!({"principal_tags": {"team": ["blue"]}})
    );

    // A token from a pool does not verify for another audience, nor once changed.
    let wrong_audience = verify_via_discovery(
        &server,
        &token,
        "us-east-1:00000000-0000-4000-8000-000000000000",
    )
    .await;
    assert!(wrong_audience.is_err(), "audience is checked");
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
    let mut payload: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(&parts[1]).unwrap()).unwrap();
    payload["sub"] = serde_json::json!(other_id);
    parts[1] = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload).unwrap());
    let forged = verify_via_discovery(&server, &parts.join("."), &pool_id).await;
    assert_eq!(
        forged.unwrap_err().kind(),
        &jsonwebtoken::errors::ErrorKind::InvalidSignature
    );
}

#[tokio::test]
async fn identities_pools_and_keys_survive_a_restart() {
    let dir = TempDir::new("restart");
    let server = Server::start(&dir.0);
    let client = server.cognito();
    let pool_id = create_pool(&client, "seed").await;
    let (identity_id, _) = token_for(&client, &pool_id, "test_user").await;
    let credentials = server.credentials();
    let jwks_before = http(&server.addr, "GET", "/.well-known/jwks_uri", &[], b"")
        .await
        .json();
    assert!(server.stop(), "a graceful stop exits with success");

    let server = Server::start(&dir.0);
    assert_eq!(server.credentials(), credentials, "same administrator key");
    let client = server.cognito();
    let jwks_after = http(&server.addr, "GET", "/.well-known/jwks_uri", &[], b"")
        .await
        .json();
    assert_eq!(jwks_before, jwks_after, "same signing keys");
    let pool = client
        .describe_identity_pool()
        .identity_pool_id(&pool_id)
        .send()
        .await
        .unwrap();
    assert_eq!(pool.identity_pool_name, "seed");
    let (again, token) = token_for(&client, &pool_id, "test_user").await;
    assert_eq!(again, identity_id);
    verify_via_discovery(&server, &token, &pool_id)
        .await
        .unwrap();
    let listed = client
        .list_identities()
        .identity_pool_id(&pool_id)
        .max_results(60)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.identities().len(), 1);
    assert!(
        !server.log_text().contains(&credentials.1),
        "the secret is never logged"
    );
}

#[tokio::test]
async fn concurrent_callers_for_one_new_user_get_one_identity() {
    let dir = TempDir::new("concurrent");
    let server = Server::start(&dir.0);
    let client = server.cognito();
    let pool_id = create_pool(&client, "race").await;
    let mut tasks = Vec::new();
    for i in 0..40 {
        let client = client.clone();
        let pool_id = pool_id.clone();
        tasks.push(tokio::spawn(async move {
            // Two users, twenty callers each, all at once.
            let user = format!("racer-{}", i % 2);
            let (id, _) = token_for(&client, &pool_id, &user).await;
            (user, id)
        }));
    }
    let mut seen: Vec<(String, String)> = Vec::new();
    for task in tasks {
        seen.push(task.await.unwrap());
    }
    for user in ["racer-0", "racer-1"] {
        let ids: HashSet<&String> = seen
            .iter()
            .filter(|(u, _)| u == user)
            .map(|(_, id)| id)
            .collect();
        assert_eq!(ids.len(), 1, "{user} got {ids:?}");
    }
    let listed = client
        .list_identities()
        .identity_pool_id(&pool_id)
        .max_results(60)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.identities().len(), 2);
}

#[tokio::test]
async fn pool_lifecycle_and_lookups() {
    let dir = TempDir::new("lifecycle");
    let server = Server::start(&dir.0);
    let client = server.cognito();

    let mut pools = Vec::new();
    for name in ["alpha", "beta", "gamma"] {
        pools.push(create_pool(&client, name).await);
    }
    // ListIdentityPools pages through all three, two at a time.
    let first = client
        .list_identity_pools()
        .max_results(2)
        .send()
        .await
        .unwrap();
    assert_eq!(first.identity_pools().len(), 2);
    let token = first.next_token().expect("more pools").to_owned();
    let second = client
        .list_identity_pools()
        .max_results(2)
        .next_token(token)
        .send()
        .await
        .unwrap();
    assert_eq!(second.identity_pools().len(), 1);
    assert!(second.next_token().is_none());
    let mut listed: Vec<String> = first
        .identity_pools()
        .iter()
        .chain(second.identity_pools())
        .map(|p| p.identity_pool_id().unwrap().to_owned())
        .collect();
    listed.sort();
    let mut expected = pools.clone();
    expected.sort();
    assert_eq!(listed, expected);

    // UpdateIdentityPool replaces everything it is given, resets what it is not.
    let pool_id = &pools[0];
    client
        .update_identity_pool()
        .identity_pool_id(pool_id)
        .identity_pool_name("alpha")
        .allow_unauthenticated_identities(false)
        .supported_login_providers("graph.facebook.com", "12345")
        .send()
        .await
        .unwrap();
    let updated = client
        .update_identity_pool()
        .identity_pool_id(pool_id)
        .identity_pool_name("alpha renamed")
        .allow_unauthenticated_identities(true)
        .send()
        .await
        .unwrap();
    assert_eq!(updated.identity_pool_name, "alpha renamed");
    assert!(updated.allow_unauthenticated_identities);
    assert!(
        updated.supported_login_providers.is_none(),
        "reset by the full replace"
    );
    assert_eq!(
        updated.developer_provider_name(),
        Some(PROVIDER),
        "immutable once set"
    );
    let described = client
        .describe_identity_pool()
        .identity_pool_id(pool_id)
        .send()
        .await
        .unwrap();
    assert_eq!(described.identity_pool_name, "alpha renamed");

    // Identities: describe, look up both ways, list.
    let (identity_id, _) = token_for(&client, pool_id, "user-1").await;
    let described = client
        .describe_identity()
        .identity_id(&identity_id)
        .send()
        .await
        .unwrap();
    assert_eq!(described.logins(), [PROVIDER]);
    let by_user = client
        .lookup_developer_identity()
        .identity_pool_id(pool_id)
        .developer_user_identifier("user-1")
        .send()
        .await
        .unwrap();
    assert_eq!(by_user.identity_id(), Some(identity_id.as_str()));
    assert_eq!(by_user.developer_user_identifier_list(), ["user-1"]);

    // Linking a second developer user to that identity, then a conflicting link.
    let linked = client
        .get_open_id_token_for_developer_identity()
        .identity_pool_id(pool_id)
        .identity_id(&identity_id)
        .logins(PROVIDER, "user-1-alias")
        .send()
        .await
        .unwrap();
    assert_eq!(linked.identity_id(), Some(identity_id.as_str()));
    let by_id = client
        .lookup_developer_identity()
        .identity_pool_id(pool_id)
        .identity_id(&identity_id)
        .max_results(1)
        .send()
        .await
        .unwrap();
    assert_eq!(by_id.developer_user_identifier_list(), ["user-1"]);
    let rest = client
        .lookup_developer_identity()
        .identity_pool_id(pool_id)
        .identity_id(&identity_id)
        .next_token(by_id.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.developer_user_identifier_list(), ["user-1-alias"]);

    let (other_identity, _) = token_for(&client, pool_id, "user-2").await;
    let err = client
        .get_open_id_token_for_developer_identity()
        .identity_pool_id(pool_id)
        .identity_id(&other_identity)
        .logins(PROVIDER, "user-1")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(
        err.is_developer_user_already_registered_exception(),
        "{err:?}"
    );

    // DeleteIdentityPool takes its identities with it.
    client
        .delete_identity_pool()
        .identity_pool_id(pool_id)
        .send()
        .await
        .unwrap();
    let err = client
        .describe_identity_pool()
        .identity_pool_id(pool_id)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    assert_eq!(
        err.message(),
        Some(format!("IdentityPool '{pool_id}' not found.").as_str())
    );
    let err = client
        .describe_identity()
        .identity_id(&identity_id)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");
}

#[tokio::test]
async fn bad_input_gets_the_aws_errors() {
    let dir = TempDir::new("errors");
    let server = Server::start(&dir.0);
    let client = server.cognito();
    let pool_id = create_pool(&client, "strict").await;

    let err = client
        .create_identity_pool()
        .identity_pool_name("not/allowed")
        .allow_unauthenticated_identities(false)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("ValidationException"));
    assert!(err.message().unwrap().contains("at 'identityPoolName'"));

    let err = client
        .get_open_id_token_for_developer_identity()
        .identity_pool_id(&pool_id)
        .logins(PROVIDER, "u")
        .token_duration(86_401)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("ValidationException"));
    assert!(
        err.message().unwrap().contains("'tokenDuration'"),
        "{err:?}"
    );

    let err = client
        .get_open_id_token_for_developer_identity()
        .identity_pool_id(&pool_id)
        .logins("login.other.provider", "u")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_not_authorized_exception(), "{err:?}");

    let err = client
        .get_open_id_token_for_developer_identity()
        .identity_pool_id("us-east-1:00000000-0000-4000-8000-000000000000")
        .logins(PROVIDER, "u")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");

    let err = client
        .get_open_id_token_for_developer_identity()
        .identity_pool_id(&pool_id)
        .identity_id("us-east-1:00000000-0000-4000-8000-000000000000")
        .logins(PROVIDER, "u")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_resource_not_found_exception(), "{err:?}");

    let err = client
        .list_identities()
        .identity_pool_id(&pool_id)
        .max_results(61)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("ValidationException"));

    // None of the refused calls created anything.
    let listed = client
        .list_identities()
        .identity_pool_id(&pool_id)
        .max_results(60)
        .send()
        .await
        .unwrap();
    assert!(listed.identities().is_empty());
}
