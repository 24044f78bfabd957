//! Requests the SDKs never send: unsigned, wrongly signed, stale, unknown keys, unknown
//! operations. Each is refused with the AWS code, and nothing is created.

use std::time::{Duration, SystemTime};

use crate::support::{
    RawResponse, Server, TempDir, http, signed_cognito_headers, signed_cognito_headers_as,
};

const PROVIDER: &str = "login.mycompany.myapp";

async fn setup() -> (TempDir, Server, String) {
    let dir = TempDir::new("auth");
    let server = Server::start(&dir.0);
    let pool = server
        .cognito()
        .create_identity_pool()
        .identity_pool_name("auth")
        .allow_unauthenticated_identities(false)
        .developer_provider_name(PROVIDER)
        .send()
        .await
        .unwrap();
    (dir, server, pool.identity_pool_id)
}

fn token_request(pool_id: &str, user: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "IdentityPoolId": pool_id,
        "Logins": {PROVIDER: user},
    }))
    .unwrap()
}

async fn send_token_request(
    server: &Server,
    pool_id: &str,
    user: &str,
    akid: &str,
    secret: &str,
    at: SystemTime,
) -> RawResponse {
    let body = token_request(pool_id, user);
    let headers = signed_cognito_headers(
        &server.addr,
        "AWSCognitoIdentityService.GetOpenIdTokenForDeveloperIdentity",
        &body,
        akid,
        secret,
        at,
    );
    http(&server.addr, "POST", "/", &headers, &body).await
}

fn assert_error(response: &RawResponse, code: &str) {
    assert_eq!(response.status, 400, "{response:?}");
    assert_eq!(response.json()["__type"], code, "{response:?}");
    assert_eq!(
        response.header("x-amzn-errortype"),
        Some(format!("{code}:").as_str())
    );
    assert!(response.header("x-amzn-requestid").is_some());
    assert_eq!(
        response.header("content-type"),
        Some("application/x-amz-json-1.1")
    );
}

async fn user_exists(server: &Server, pool_id: &str, user: &str) -> bool {
    server
        .cognito()
        .lookup_developer_identity()
        .identity_pool_id(pool_id)
        .developer_user_identifier(user)
        .send()
        .await
        .is_ok()
}

#[tokio::test]
async fn bad_signatures_are_refused_and_create_nothing() {
    let (_dir, server, pool_id) = setup().await;
    let (akid, secret) = server.credentials();

    // The control: a correctly signed request works.
    let ok = send_token_request(&server, &pool_id, "good", &akid, &secret, SystemTime::now()).await;
    assert_eq!(ok.status, 200, "{ok:?}");
    assert!(user_exists(&server, &pool_id, "good").await);

    // Unsigned.
    let body = token_request(&pool_id, "unsigned");
    let unsigned = http(
        &server.addr,
        "POST",
        "/",
        &[
            ("Content-Type".into(), "application/x-amz-json-1.1".into()),
            (
                "X-Amz-Target".into(),
                "AWSCognitoIdentityService.GetOpenIdTokenForDeveloperIdentity".into(),
            ),
        ],
        &body,
    )
    .await;
    assert_error(&unsigned, "MissingAuthenticationTokenException");
    assert_eq!(unsigned.json()["message"], "Missing Authentication Token");

    // Signed with the wrong secret.
    let wrong = send_token_request(
        &server,
        &pool_id,
        "wrong-secret",
        &akid,
        "0000000000000000000000000000000000000000",
        SystemTime::now(),
    )
    .await;
    assert_error(&wrong, "InvalidSignatureException");
    assert!(
        wrong.json()["message"]
            .as_str()
            .unwrap()
            .starts_with("The request signature we calculated does not match")
    );

    // Signed 16 minutes ago, and 16 minutes ahead.
    for (label, at) in [
        ("stale", SystemTime::now() - Duration::from_secs(16 * 60)),
        ("future", SystemTime::now() + Duration::from_secs(16 * 60)),
    ] {
        let response = send_token_request(&server, &pool_id, label, &akid, &secret, at).await;
        assert_error(&response, "InvalidSignatureException");
        let message = response.json()["message"].as_str().unwrap().to_owned();
        assert!(message.starts_with("Signature "), "{message}");
        assert!(message.contains("15 min."), "{message}");
    }
    // 14 minutes of skew is inside the window.
    let skewed = send_token_request(
        &server,
        &pool_id,
        "skewed",
        &akid,
        &secret,
        SystemTime::now() - Duration::from_secs(14 * 60),
    )
    .await;
    assert_eq!(skewed.status, 200, "{skewed:?}");

    // An access key tegata never issued.
    let unknown = send_token_request(
        &server,
        &pool_id,
        "unknown-key",
        "AKIAAAAAAAAAAAAAAAAA",
        &secret,
        SystemTime::now(),
    )
    .await;
    assert_error(&unknown, "UnrecognizedClientException");

    // A signature for another service.
    let body = token_request(&pool_id, "other-service");
    let mut headers = signed_cognito_headers(
        &server.addr,
        "AWSCognitoIdentityService.GetOpenIdTokenForDeveloperIdentity",
        &body,
        &akid,
        &secret,
        SystemTime::now(),
    );
    for (name, value) in headers.iter_mut() {
        if name.eq_ignore_ascii_case("authorization") {
            *value = value.replace("/cognito-identity/", "/sts/");
        }
    }
    let other = http(&server.addr, "POST", "/", &headers, &body).await;
    assert_error(&other, "InvalidSignatureException");

    // A malformed Authorization header.
    let incomplete = http(
        &server.addr,
        "POST",
        "/",
        &[
            (
                "X-Amz-Target".into(),
                "AWSCognitoIdentityService.GetOpenIdTokenForDeveloperIdentity".into(),
            ),
            (
                "Authorization".into(),
                format!("AWS4-HMAC-SHA256 Credential={akid}/20261126/us-east-1/cognito-identity/aws4_request"),
            ),
        ],
        &token_request(&pool_id, "incomplete"),
    )
    .await;
    assert_error(&incomplete, "IncompleteSignatureException");

    for user in [
        "unsigned",
        "wrong-secret",
        "stale",
        "future",
        "unknown-key",
        "other-service",
        "incomplete",
    ] {
        assert!(
            !user_exists(&server, &pool_id, user).await,
            "{user} was created"
        );
    }
    assert!(
        !server.log_text().contains(&secret),
        "the secret is never logged"
    );
}

#[tokio::test]
async fn operations_are_named_by_either_target_form() {
    let (_dir, server, pool_id) = setup().await;
    let (akid, secret) = server.credentials();
    let body = serde_json::to_vec(&serde_json::json!({"IdentityPoolId": pool_id})).unwrap();
    let long_target =
        "com.amazonaws.cognito.identity.model.AWSCognitoIdentityService.DescribeIdentityPool";
    let headers = signed_cognito_headers(
        &server.addr,
        long_target,
        &body,
        &akid,
        &secret,
        SystemTime::now(),
    );
    let response = http(&server.addr, "POST", "/", &headers, &body).await;
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(response.json()["IdentityPoolId"], pool_id.as_str());

    // Old API-reference samples send application/json; it is accepted too, for an operation
    // that exists (signed as those samples sign it, content type included).
    let headers = signed_cognito_headers_as(
        &server.addr,
        "application/json",
        "AWSCognitoIdentityService.DescribeIdentityPool",
        &body,
        &akid,
        &secret,
        SystemTime::now(),
    );
    let response = http(&server.addr, "POST", "/", &headers, &body).await;
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(response.json()["IdentityPoolId"], pool_id.as_str());
    assert_eq!(
        response.header("content-type"),
        Some("application/x-amz-json-1.1")
    );

    let unknown = http(
        &server.addr,
        "POST",
        "/",
        &[(
            "X-Amz-Target".into(),
            "AWSCognitoIdentityService.NoSuchOperation".into(),
        )],
        b"{}",
    )
    .await;
    assert_error(&unknown, "UnknownOperationException");
}

/// The README's least-privilege user, through aws-sdk-rust: a key whose only policy allows
/// GetOpenIdTokenForDeveloperIdentity on one pool gets tokens for that pool and nothing else.
#[tokio::test]
async fn a_least_privilege_key_gets_tokens_for_its_pool_only() {
    let dir = crate::support::TempDir::new("least");
    let server = crate::support::Server::start(&dir.0);
    let admin = server.cognito();
    let pool = |name: &'static str| {
        let admin = admin.clone();
        async move {
            admin
                .create_identity_pool()
                .identity_pool_name(name)
                .allow_unauthenticated_identities(false)
                .developer_provider_name("login.example")
                .send()
                .await
                .unwrap()
                .identity_pool_id
        }
    };
    let (mine, other) = (pool("mine").await, pool("other").await);
    let account = crate::support::xml_text(
        &crate::support::query_call(
            &server,
            "sts",
            &[("Action", "GetCallerIdentity"), ("Version", "2011-06-15")],
        )
        .await
        .body,
        "Account",
    )
    .to_owned();
    let document = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow",
        "Action":"cognito-identity:GetOpenIdTokenForDeveloperIdentity",
        "Resource":"arn:aws:cognito-identity:us-east-1:{account}:identitypool/{mine}"}}]}}"#
    );
    for params in [
        vec![("Action", "CreateUser"), ("UserName", "backend")],
        vec![
            ("Action", "PutUserPolicy"),
            ("UserName", "backend"),
            ("PolicyName", "tokens"),
            ("PolicyDocument", document.as_str()),
        ],
    ] {
        let mut params = params;
        params.push(("Version", "2010-05-08"));
        let answer = crate::support::query_call(&server, "iam", &params).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
    }
    let key = crate::support::query_call(
        &server,
        "iam",
        &[
            ("Action", "CreateAccessKey"),
            ("Version", "2010-05-08"),
            ("UserName", "backend"),
        ],
    )
    .await;
    let backend = crate::support::cognito_client(
        &server.url,
        crate::support::xml_text(&key.body, "AccessKeyId"),
        crate::support::xml_text(&key.body, "SecretAccessKey"),
    );
    let token = backend
        .get_open_id_token_for_developer_identity()
        .identity_pool_id(&mine)
        .logins("login.example", "alice")
        .send()
        .await
        .expect("the backend's own pool");
    assert!(token.token.is_some());
    let denied = |meta: &aws_sdk_cognitoidentity::error::ErrorMetadata| {
        assert_eq!(meta.code(), Some("AccessDeniedException"));
        assert!(
            meta.message().unwrap_or_default().starts_with(&format!(
                "User: arn:aws:iam::{account}:user/backend is not authorized to perform: "
            )),
            "{meta:?}"
        );
    };
    let other_pool = backend
        .get_open_id_token_for_developer_identity()
        .identity_pool_id(&other)
        .logins("login.example", "alice")
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    denied(other_pool.meta());
    let listing = backend
        .list_identity_pools()
        .max_results(10)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    denied(listing.meta());
}
