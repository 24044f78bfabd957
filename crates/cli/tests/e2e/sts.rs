//! STS from aws-sdk-rust: the basic developer flow and every refusal the issue lists.

use std::time::Duration;

use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self, RsaKeyPair};
use aws_sdk_sts::error::ProvideErrorMetadata;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::support::{Server, TempDir, query_call, sts_client, xml_text};

const PROVIDER: &str = "login.mycompany.myapp";

const GUIDE_TRUST_POLICY: &str = r#"{"Version": "2012-10-17",
 "Statement": [{"Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com", "Federated": "cognito-identity.amazonaws.com"},
                "Action": ["sts:AssumeRole", "sts:AssumeRoleWithWebIdentity"]}]}"#;

fn pinned_trust_policy(pool_id: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow",
        "Principal":{{"Federated":"cognito-identity.amazonaws.com"}},
        "Action":["sts:AssumeRoleWithWebIdentity","sts:TagSession"],
        "Condition":{{"StringEquals":{{"cognito-identity.amazonaws.com:aud":"{pool_id}"}},
                     "ForAnyValue:StringLike":{{"cognito-identity.amazonaws.com:amr":"authenticated"}}}}}}]}}"#
    )
}

struct Flow {
    _dir: TempDir,
    server: Server,
    pool_id: String,
}

impl Flow {
    async fn start() -> Self {
        let dir = TempDir::new("sts");
        let server = Server::start(&dir.0);
        let pool_id = create_pool(&server).await;
        Self {
            _dir: dir,
            server,
            pool_id,
        }
    }

    fn sts(&self) -> aws_sdk_sts::Client {
        let (akid, secret) = self.server.credentials();
        sts_client(&self.server.url, &akid, &secret, None, Duration::ZERO)
    }

    async fn token(&self, pool_id: &str, duration: Option<i32>) -> String {
        let mut call = self
            .server
            .cognito()
            .get_open_id_token_for_developer_identity()
            .identity_pool_id(pool_id)
            .logins(PROVIDER, "test_user");
        if let Some(duration) = duration {
            call = call.token_duration(duration.into());
        }
        call.send().await.unwrap().token.unwrap()
    }

    async fn role(&self, name: &str, path: &str, trust: &str) -> String {
        let response = query_call(
            &self.server,
            "iam",
            &[
                ("Action", "CreateRole"),
                ("Version", "2010-05-08"),
                ("RoleName", name),
                ("Path", path),
                ("AssumeRolePolicyDocument", trust),
            ],
        )
        .await;
        assert_eq!(response.status, 200, "{}", response.body);
        xml_text(&response.body, "Arn").to_owned()
    }

    async fn assume(
        &self,
        role_arn: &str,
        token: &str,
    ) -> Result<
        aws_sdk_sts::operation::assume_role_with_web_identity::AssumeRoleWithWebIdentityOutput,
        aws_sdk_sts::operation::assume_role_with_web_identity::AssumeRoleWithWebIdentityError,
    > {
        self.sts()
            .assume_role_with_web_identity()
            .role_arn(role_arn)
            .role_session_name("sdk")
            .web_identity_token(token)
            .send()
            .await
            .map_err(|e| e.into_service_error())
    }
}

async fn create_pool(server: &Server) -> String {
    server
        .cognito()
        .create_identity_pool()
        .identity_pool_name("sts")
        .allow_unauthenticated_identities(false)
        .developer_provider_name(PROVIDER)
        .send()
        .await
        .unwrap()
        .identity_pool_id
}

#[tokio::test]
async fn basic_flow_gives_working_credentials() {
    let flow = Flow::start().await;
    let role_arn = flow
        .role("lambda_role", "/service-role/", GUIDE_TRUST_POLICY)
        .await;
    let token = flow.token(&flow.pool_id, None).await;
    let out = flow.assume(&role_arn, &token).await.unwrap();
    let creds = out.credentials().unwrap();
    assert!(creds.access_key_id().starts_with("ASIA"));
    let account = role_arn.split(':').nth(4).unwrap();
    let expected_arn = format!("arn:aws:sts::{account}:assumed-role/lambda_role/sdk");
    assert_eq!(out.assumed_role_user().unwrap().arn(), expected_arn);
    assert_eq!(out.audience(), Some(flow.pool_id.as_str()));

    let session = sts_client(
        &flow.server.url,
        creds.access_key_id(),
        creds.secret_access_key(),
        Some(creds.session_token()),
        Duration::ZERO,
    );
    let identity = session.get_caller_identity().send().await.unwrap();
    assert_eq!(identity.arn(), Some(expected_arn.as_str()));
    assert_eq!(identity.account(), Some(account));

    // Long-term keys identify the administrator.
    let admin = flow.sts().get_caller_identity().send().await.unwrap();
    assert_eq!(
        admin.arn(),
        Some(format!("arn:aws:iam::{account}:user/admin").as_str())
    );

    // A session may not administer Cognito Identity.
    let denied = tegata_session_cognito(&flow, creds).await;
    assert_eq!(denied, Some("AccessDeniedException".to_owned()));
}

async fn tegata_session_cognito(
    flow: &Flow,
    creds: &aws_sdk_sts::types::Credentials,
) -> Option<String> {
    let conf = aws_sdk_cognitoidentity::Config::builder()
        .behavior_version(aws_sdk_cognitoidentity::config::BehaviorVersion::latest())
        .endpoint_url(&flow.server.url)
        .region(aws_sdk_cognitoidentity::config::Region::new("us-east-1"))
        .credentials_provider(aws_credential_types::Credentials::new(
            creds.access_key_id(),
            creds.secret_access_key(),
            Some(creds.session_token().to_owned()),
            None,
            "session",
        ))
        .build();
    aws_sdk_cognitoidentity::Client::from_conf(conf)
        .list_identity_pools()
        .max_results(10)
        .send()
        .await
        .err()
        .and_then(|e| e.into_service_error().code().map(str::to_owned))
}

#[tokio::test]
async fn pinned_trust_policy_refuses_other_pools() {
    let flow = Flow::start().await;
    let other_pool = create_pool(&flow.server).await;
    let role_arn = flow
        .role("pinned", "/", &pinned_trust_policy(&flow.pool_id))
        .await;
    let ours = flow.token(&flow.pool_id, None).await;
    assert!(flow.assume(&role_arn, &ours).await.is_ok());
    let theirs = flow.token(&other_pool, None).await;
    let err = flow.assume(&role_arn, &theirs).await.unwrap_err();
    assert_eq!(err.code(), Some("AccessDenied"));
    assert_eq!(
        err.message(),
        Some("Not authorized to perform sts:AssumeRoleWithWebIdentity")
    );
}

/// Sign `header.payload` with a key tegata never had.
fn sign_with_foreign_key(header: &serde_json::Value, payload: &[u8]) -> String {
    let key = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(header).unwrap()),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let mut sig = vec![0; key.public_modulus_len()];
    key.sign(
        &signature::RSA_PKCS1_SHA512,
        &aws_lc_rs::rand::SystemRandom::new(),
        signing_input.as_bytes(),
        &mut sig,
    )
    .unwrap();
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

#[tokio::test]
async fn refusals_carry_the_aws_codes() {
    let flow = Flow::start().await;
    let role_arn = flow
        .role("app", "/", &pinned_trust_policy(&flow.pool_id))
        .await;
    let token = flow.token(&flow.pool_id, None).await;
    let parts: Vec<&str> = token.split('.').collect();
    let header: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    let mut claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    claims["sub"] = serde_json::json!("us-east-1:00000000-0000-4000-8000-000000000000");
    let changed_payload = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap()),
        parts[2]
    );
    let none_header = serde_json::json!({"kid": header["kid"], "typ": "JWS", "alg": "none"});
    let alg_none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&none_header).unwrap()),
        parts[1]
    );
    let foreign = sign_with_foreign_key(
        &serde_json::json!({"kid": "never-a-tegata-key", "typ": "JWS", "alg": "RS512"}),
        &URL_SAFE_NO_PAD.decode(parts[1]).unwrap(),
    );
    let foreign_with_our_kid =
        sign_with_foreign_key(&header, &URL_SAFE_NO_PAD.decode(parts[1]).unwrap());
    for (label, bad) in [
        ("changed payload", changed_payload),
        ("alg none", alg_none),
        ("foreign key", foreign),
        ("foreign key, our kid", foreign_with_our_kid),
    ] {
        let err = flow.assume(&role_arn, &bad).await.unwrap_err();
        assert!(
            err.is_invalid_identity_token_exception(),
            "{label}: {err:?}"
        );
    }

    let lambda_only = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
        "Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let lambda_role = flow.role("lambda_only", "/", lambda_only).await;
    let err = flow.assume(&lambda_role, &token).await.unwrap_err();
    assert_eq!(err.code(), Some("AccessDenied"));

    let err = flow
        .sts()
        .assume_role_with_web_identity()
        .role_arn(&role_arn)
        .role_session_name("bad name!")
        .web_identity_token(&token)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("ValidationError"));
    let err = flow
        .sts()
        .assume_role_with_web_identity()
        .role_arn(&role_arn)
        .role_session_name("sdk")
        .web_identity_token(&token)
        .duration_seconds(100)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("ValidationError"));

    // The genuine token still works after all that.
    assert!(flow.assume(&role_arn, &token).await.is_ok());

    // A token valid for one second, presented a minute later by the server's clock (the
    // instants around its expiry are a table test of the verifier): no waiting.
    let short = flow.token(&flow.pool_id, Some(1)).await;
    let data_dir = flow.server.data_dir.clone();
    let Flow { _dir, server, .. } = flow;
    // The restarted server listens elsewhere: it keeps the issuer the token names.
    let issuer = server.url.clone();
    assert!(server.stop());
    let later = Server::start_with(
        &data_dir,
        &["--clock-offset-seconds", "60", "--public-url", &issuer],
    );
    let err = sts_client(&later.url, "unused", "unused", None, Duration::ZERO)
        .assume_role_with_web_identity()
        .role_arn(&role_arn)
        .role_session_name("sdk")
        .web_identity_token(&short)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert!(err.is_expired_token_exception(), "{err:?}");
}

#[tokio::test]
async fn temporary_credentials_are_checked() {
    let flow = Flow::start().await;
    let role_arn = flow
        .role("app", "/", &pinned_trust_policy(&flow.pool_id))
        .await;
    let token = flow.token(&flow.pool_id, None).await;
    let out = flow
        .sts()
        .assume_role_with_web_identity()
        .role_arn(&role_arn)
        .role_session_name("sdk")
        .web_identity_token(&token)
        .duration_seconds(900)
        .send()
        .await
        .unwrap();
    let creds = out.credentials().unwrap();
    let url = flow.server.url.clone();
    let call = |secret: &str, token: Option<&str>, offset: Duration| {
        let client = sts_client(&url, creds.access_key_id(), secret, token, offset);
        async move {
            client
                .get_caller_identity()
                .send()
                .await
                .map_err(|e| e.into_service_error().code().unwrap_or("?").to_owned())
        }
    };
    assert!(
        call(
            creds.secret_access_key(),
            Some(creds.session_token()),
            Duration::ZERO
        )
        .await
        .is_ok()
    );
    assert_eq!(
        call(creds.secret_access_key(), None, Duration::ZERO)
            .await
            .unwrap_err(),
        "InvalidClientTokenId"
    );
    assert_eq!(
        call(&"A".repeat(40), Some(creds.session_token()), Duration::ZERO)
            .await
            .unwrap_err(),
        "SignatureDoesNotMatch"
    );

    // Sixteen minutes on, for the server and the client alike, the 15-minute credentials expired.
    let offset = Duration::from_secs(16 * 60);
    let data_dir = flow.server.data_dir.clone();
    let Flow { _dir, server, .. } = flow;
    assert!(server.stop());
    let later = Server::start_with(&data_dir, &["--clock-offset-seconds", "960"]);
    let client = sts_client(
        &later.url,
        creds.access_key_id(),
        creds.secret_access_key(),
        Some(creds.session_token()),
        offset,
    );
    let err = client
        .get_caller_identity()
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(err.code(), Some("ExpiredToken"));
}

/// The enhanced developer flow: the backend's token, presented by the client under the
/// `cognito-identity.amazonaws.com` login, gives credentials of the pool's authenticated role
/// with AWS's session name.
#[tokio::test]
async fn enhanced_flow_gives_the_pools_authenticated_role() {
    let flow = Flow::start().await;
    let role_arn = flow
        .role("app", "/", &pinned_trust_policy(&flow.pool_id))
        .await;
    let cognito = flow.server.cognito();
    cognito
        .set_identity_pool_roles()
        .identity_pool_id(&flow.pool_id)
        .roles("authenticated", &role_arn)
        .send()
        .await
        .expect("SetIdentityPoolRoles");
    let issued = cognito
        .get_open_id_token_for_developer_identity()
        .identity_pool_id(&flow.pool_id)
        .logins(PROVIDER, "test_user")
        .send()
        .await
        .unwrap();
    let identity_id = issued.identity_id().unwrap();
    let out = cognito
        .get_credentials_for_identity()
        .identity_id(identity_id)
        .logins("cognito-identity.amazonaws.com", issued.token().unwrap())
        .send()
        .await
        .expect("GetCredentialsForIdentity");
    assert_eq!(out.identity_id(), Some(identity_id));
    let creds = out.credentials().unwrap();
    let expiration = creds.expiration().unwrap().secs();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!(
        (now + 3500..=now + 3700).contains(&expiration),
        "{expiration}"
    );

    let session = sts_client(
        &flow.server.url,
        creds.access_key_id().unwrap(),
        creds.secret_key().unwrap(),
        creds.session_token(),
        Duration::ZERO,
    );
    let identity = session.get_caller_identity().send().await.unwrap();
    let account = role_arn.split(':').nth(4).unwrap();
    assert_eq!(
        identity.arn(),
        Some(
            format!("arn:aws:sts::{account}:assumed-role/app/CognitoIdentityCredentials").as_str()
        )
    );

    // Another identity's token does not open this one.
    let other = cognito
        .get_open_id_token_for_developer_identity()
        .identity_pool_id(&flow.pool_id)
        .logins(PROVIDER, "someone_else")
        .send()
        .await
        .unwrap();
    let err = cognito
        .get_credentials_for_identity()
        .identity_id(identity_id)
        .logins("cognito-identity.amazonaws.com", other.token().unwrap())
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(
        aws_sdk_cognitoidentity::error::ProvideErrorMetadata::code(&err),
        Some("NotAuthorizedException")
    );
}

/// Issue 14's chain from aws-sdk-rust: a user assumes role A with a transitive tag, role A's
/// session assumes role B (capped at one hour, the tag passed down and not overridable), a wrong
/// ExternalId is refused, and GetSessionToken / GetAccessKeyInfo answer for the user.
#[tokio::test]
async fn a_user_chains_role_a_to_role_b() {
    let dir = TempDir::new("chain");
    let server = Server::start(&dir.0);
    let iam = |params: Vec<(&'static str, String)>| {
        let server = &server;
        async move {
            let mut params: Vec<(&str, &str)> =
                params.iter().map(|(k, v)| (*k, v.as_str())).collect();
            params.push(("Version", "2010-05-08"));
            let answer = query_call(server, "iam", &params).await;
            assert_eq!(answer.status, 200, "{}", answer.body);
            answer.body
        }
    };
    let (admin_key, admin_secret) = server.credentials();
    let admin = sts_client(&server.url, &admin_key, &admin_secret, None, Duration::ZERO);
    let account = admin
        .get_caller_identity()
        .send()
        .await
        .unwrap()
        .account
        .unwrap();
    let trust = |principal: &str, condition: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"{principal}"}},
            "Action":["sts:AssumeRole","sts:TagSession"]{condition}}}]}}"#
        )
    };
    let role_a = format!("arn:aws:iam::{account}:role/role-a");
    let role_b = format!("arn:aws:iam::{account}:role/role-b");
    let allow = |resource: &str| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow",
            "Action":["sts:AssumeRole","sts:TagSession"],"Resource":"{resource}"}}]}}"#
        )
    };
    let external = r#","Condition":{"StringEquals":{"sts:ExternalId":"right-id"}}"#;
    for params in [
        vec![
            ("Action", "CreateRole".to_owned()),
            ("RoleName", "role-a".to_owned()),
            ("AssumeRolePolicyDocument", trust(&account, external)),
        ],
        vec![
            ("Action", "CreateRole".to_owned()),
            ("RoleName", "role-b".to_owned()),
            ("AssumeRolePolicyDocument", trust(&role_a, "")),
        ],
        vec![
            ("Action", "PutRolePolicy".to_owned()),
            ("RoleName", "role-a".to_owned()),
            ("PolicyName", "chain".to_owned()),
            ("PolicyDocument", allow(&role_b)),
        ],
        vec![
            ("Action", "CreateUser".to_owned()),
            ("UserName", "alice".to_owned()),
        ],
        vec![
            ("Action", "PutUserPolicy".to_owned()),
            ("UserName", "alice".to_owned()),
            ("PolicyName", "assume".to_owned()),
            ("PolicyDocument", allow(&role_a)),
        ],
    ] {
        iam(params).await;
    }
    let key = iam(vec![
        ("Action", "CreateAccessKey".to_owned()),
        ("UserName", "alice".to_owned()),
    ])
    .await;
    let (akid, secret) = (
        xml_text(&key, "AccessKeyId"),
        xml_text(&key, "SecretAccessKey"),
    );
    let alice = sts_client(&server.url, akid, secret, None, Duration::ZERO);
    let tag = |key: &str, value: &str| {
        aws_sdk_sts::types::Tag::builder()
            .key(key)
            .value(value)
            .build()
            .unwrap()
    };

    let wrong = alice
        .assume_role()
        .role_arn(&role_a)
        .role_session_name("alice")
        .external_id("wrong-id")
        .send()
        .await
        .unwrap_err();
    assert_eq!(wrong.code(), Some("AccessDenied"), "{wrong:?}");

    let first = alice
        .assume_role()
        .role_arn(&role_a)
        .role_session_name("alice")
        .external_id("right-id")
        .tags(tag("Project", "blue"))
        .transitive_tag_keys("Project")
        .send()
        .await
        .unwrap();
    assert_eq!(
        first.assumed_role_user.as_ref().unwrap().arn,
        format!("arn:aws:sts::{account}:assumed-role/role-a/alice")
    );
    let creds = first.credentials.unwrap();
    let session_a = sts_client(
        &server.url,
        &creds.access_key_id,
        &creds.secret_access_key,
        Some(&creds.session_token),
        Duration::ZERO,
    );
    let too_long = session_a
        .assume_role()
        .role_arn(&role_b)
        .role_session_name("chained")
        .duration_seconds(7200)
        .send()
        .await
        .unwrap_err();
    assert_eq!(too_long.code(), Some("ValidationError"), "{too_long:?}");
    let overridden = session_a
        .assume_role()
        .role_arn(&role_b)
        .role_session_name("chained")
        .tags(tag("PROJECT", "red"))
        .send()
        .await
        .unwrap_err();
    assert_eq!(overridden.code(), Some("InvalidParameterValue"));
    let second = session_a
        .assume_role()
        .role_arn(&role_b)
        .role_session_name("chained")
        .send()
        .await
        .unwrap();
    let expires = second.credentials.as_ref().unwrap().expiration.secs();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((now + 3500..=now + 3600).contains(&expires), "one hour");
    let creds = second.credentials.unwrap();
    let session_b = sts_client(
        &server.url,
        &creds.access_key_id,
        &creds.secret_access_key,
        Some(&creds.session_token),
        Duration::ZERO,
    );
    let caller = session_b.get_caller_identity().send().await.unwrap();
    assert_eq!(
        caller.arn.unwrap(),
        format!("arn:aws:sts::{account}:assumed-role/role-b/chained")
    );

    // The user's own session, and the account of its key.
    let own = alice.get_session_token().send().await.unwrap();
    let creds = own.credentials.unwrap();
    let as_user = sts_client(
        &server.url,
        &creds.access_key_id,
        &creds.secret_access_key,
        Some(&creds.session_token),
        Duration::ZERO,
    );
    let caller = as_user.get_caller_identity().send().await.unwrap();
    assert_eq!(
        caller.arn.unwrap(),
        format!("arn:aws:iam::{account}:user/alice")
    );
    let info = admin
        .get_access_key_info()
        .access_key_id(akid)
        .send()
        .await
        .unwrap();
    assert_eq!(info.account.unwrap(), account);
}
