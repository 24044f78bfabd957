//! The Lambda function (`tegata-lambda`) in-process: API Gateway HTTP API, REST API and function
//! URL events (payloads as AWS delivers them, in `lambda_events/`) fed to its router, which
//! gets credentials from a running tegata server through the AWS SDK backend.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use http_body_util::BodyExt;
use tegata_broker::aws::AwsBackend;
use tegata_core::SystemRandomness;
use tegata_core::app_users::{AppUsers, PasswordCost, PasswordHashing};
use tegata_lambda::LambdaConfig;
use tower::ServiceExt;

use crate::support::{Server, TempDir, query_call, sts_client, xml_text};

const PROVIDER: &str = "login.lambda.example";
const PASSWORD: &str = "correct horse battery staple";

fn trust_policy(pool_id: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow",
        "Principal":{{"Federated":"cognito-identity.amazonaws.com"}},
        "Action":"sts:AssumeRoleWithWebIdentity",
        "Condition":{{"StringEquals":{{"cognito-identity.amazonaws.com:aud":"{pool_id}"}}}}}}]}}"#
    )
}

/// An event of `kind` whose body is `body`, as API Gateway or the function URL delivers it.
fn event(kind: &str, body: &serde_json::Value) -> lambda_http::Request {
    let path = format!(
        "{}/tests/e2e/lambda_events/{kind}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let template = std::fs::read_to_string(path).unwrap();
    // The body is a JSON string inside the event: its text, escaped as a JSON string's content.
    let escaped = serde_json::to_string(&body.to_string()).unwrap();
    let event = template.replace("\"{{BODY}}\"", &escaped);
    lambda_http::request::from_str(&event).unwrap()
}

async fn call(router: &axum::Router, request: lambda_http::Request) -> (u16, serde_json::Value) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&body).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lambda_handler_answers_api_gateway_and_function_url_events() {
    let dir = TempDir::new("lambda");
    let server = Server::start(&dir.0.join("server"));
    let pool_id = server
        .cognito()
        .create_identity_pool()
        .identity_pool_name("lambda")
        .allow_unauthenticated_identities(false)
        .developer_provider_name(PROVIDER)
        .send()
        .await
        .unwrap()
        .identity_pool_id;
    let created = query_call(
        &server,
        "iam",
        &[
            ("Action", "CreateRole"),
            ("Version", "2010-05-08"),
            ("RoleName", "lambda_customer"),
            ("AssumeRolePolicyDocument", &trust_policy(&pool_id)),
        ],
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.body);
    let role_arn = xml_text(&created.body, "Arn").to_owned();

    // The function's own users, in a store of their own (an EFS mount, or PostgreSQL).
    let users_dir = dir.0.join("users");
    std::fs::create_dir_all(&users_dir).unwrap();
    let store = tegata_store::open_sqlite(&users_dir).await.unwrap();
    let rng = SystemRandomness;
    let hashing = PasswordHashing::new(PasswordCost::default(), 1, 4, &rng).unwrap();
    AppUsers::new(Arc::new(store), Arc::new(hashing))
        .add("alice", PASSWORD.as_bytes(), 0, &rng)
        .await
        .unwrap();

    let audit = dir.0.join("audit.log");
    let variables = HashMap::from([
        ("TEGATA_AUTHENTICATOR", "password".to_owned()),
        ("TEGATA_IDENTITY_POOL_ID", pool_id.clone()),
        ("TEGATA_DEVELOPER_PROVIDER", PROVIDER.to_owned()),
        ("TEGATA_ROLE_ARN", role_arn),
        ("TEGATA_DATA_DIR", users_dir.display().to_string()),
        ("TEGATA_AUDIT_LOG", audit.display().to_string()),
    ]);
    let config = LambdaConfig::from_env(|name| variables.get(name).cloned()).unwrap();
    // The AWS backend, pointed at the server as at AWS, with the administrator's key.
    let (akid, secret) = server.credentials();
    let sdk = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(&server.url)
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            akid, secret, None, None, "test",
        )))
        .build();
    let router = tegata_lambda::router(config, Arc::new(AwsBackend::new(&sdk)))
        .await
        .unwrap();

    let right = serde_json::json!({"username": "alice", "password": PASSWORD});
    let wrong = serde_json::json!({"username": "alice", "password": "not the password"});
    for kind in ["http_api", "rest_api", "function_url"] {
        let (status, body) = call(&router, event(kind, &right)).await;
        assert_eq!(status, 200, "{kind}: {body}");
        assert_eq!(body["Version"], 1);
        let sts = sts_client(
            &server.url,
            body["AccessKeyId"].as_str().unwrap(),
            body["SecretAccessKey"].as_str().unwrap(),
            body["SessionToken"].as_str(),
            Duration::ZERO,
        );
        let arn = sts.get_caller_identity().send().await.unwrap().arn.unwrap();
        assert!(
            arn.ends_with(":assumed-role/lambda_customer/alice"),
            "{kind}: {arn}"
        );

        let (status, body) = call(&router, event(kind, &wrong)).await;
        assert_eq!(status, 401, "{kind}: {body}");
        assert_eq!(body["error"], "unauthorized");
    }

    // Each audit line names the caller's address from the event's request context.
    let addresses: Vec<String> = std::fs::read_to_string(&audit)
        .unwrap()
        .lines()
        .filter_map(|line| {
            let event: serde_json::Value = serde_json::from_str(line).unwrap();
            (event["event"] == "credentials_issued")
                .then(|| event["source_address"].as_str().unwrap().to_owned())
        })
        .collect();
    assert_eq!(addresses, ["203.0.113.7", "198.51.100.23", "192.0.2.44"]);
    assert!(server.stop());
}
