//! Micro-benchmarks of the hot paths: SigV4 verification (signing key derived, or kept as the
//! server keeps it for temporary credentials), trust-policy evaluation, session token seal and
//! open, JWS sign and verify. `cargo bench -p tegata-bench --bench micro`.

use std::time::{Duration, UNIX_EPOCH};

use divan::Bencher;
use tegata_core::master_key::MasterKey;
use tegata_core::random::SystemRandomness;
use tegata_core::sts::credentials::{CredentialMinter, SessionClaims};
use tegata_core::tokens::claims::{OpenIdClaims, developer_amr};
use tegata_core::tokens::keys::{
    KeyRing, KeyState, SigningKey, TokenAlgorithm, generate_signing_key,
};
use tegata_core::tokens::recently_signed::RecentlySigned;
use tegata_core::tokens::verify as web_identity;
use tegata_policy::{Context, PolicyDocument, PolicyKind, Principal, Request};

fn main() {
    divan::main();
}

const POOL: &str = "us-east-1:11111111-2222-4333-8444-555555555555";

fn key_ring(algorithm: TokenAlgorithm) -> KeyRing {
    let rng = SystemRandomness;
    let master = MasterKey::generate(&rng);
    let record = generate_signing_key(&master, algorithm, KeyState::Active, 0, &rng).unwrap();
    KeyRing::new(vec![SigningKey::load(&record, &master).unwrap()])
}

fn claims(now: i64) -> OpenIdClaims {
    OpenIdClaims {
        sub: "us-east-1:aaaaaaaa-0000-4000-8000-000000000000".into(),
        aud: POOL.into(),
        amr: developer_amr("login.mycompany.myapp", POOL, "test_user"),
        iss: "http://127.0.0.1:8910".into(),
        identity_pool_arn: format!(
            "arn:aws:cognito-identity:us-east-1:123456789012:identitypool/{POOL}"
        ),
        exp: now + 900,
        iat: now,
        tags: None,
    }
}

#[divan::bench(args = [TokenAlgorithm::Rs512, TokenAlgorithm::Es256])]
fn jws_sign(bencher: Bencher, algorithm: TokenAlgorithm) {
    let keys = key_ring(algorithm);
    let key = keys.active().unwrap().clone();
    let claims = claims(1_900_000_000);
    bencher.bench(|| key.sign_jws(divan::black_box(&claims)));
}

/// A token from elsewhere (or signed by this process too long ago): the signature is checked.
#[divan::bench(args = [TokenAlgorithm::Rs512, TokenAlgorithm::Es256])]
fn jws_verify(bencher: Bencher, algorithm: TokenAlgorithm) {
    verify_bench(bencher, algorithm, false);
}

/// A token this process signed lately: the signature check is skipped, the rest is done.
#[divan::bench(args = [TokenAlgorithm::Rs512, TokenAlgorithm::Es256])]
fn jws_verify_signed_here(bencher: Bencher, algorithm: TokenAlgorithm) {
    verify_bench(bencher, algorithm, true);
}

fn verify_bench(bencher: Bencher, algorithm: TokenAlgorithm, signed_here: bool) {
    let keys = key_ring(algorithm);
    let now = 1_900_000_000;
    let token = keys.active().unwrap().sign_jws(&claims(now));
    let recent = RecentlySigned::default();
    if signed_here {
        recent.remember(&token);
    }
    bencher.bench(|| {
        web_identity::verify(
            divan::black_box(&token),
            &keys,
            "http://127.0.0.1:8910",
            now,
            &recent,
        )
        .unwrap()
    });
}

fn session() -> SessionClaims {
    SessionClaims {
        account_id: "123456789012".into(),
        role_name: "lambda_role".into(),
        role_id: "AROAEXAMPLEEXAMPLE123".into(),
        role_path: "/service-role/".into(),
        session_name: "boto".into(),
        subject: "us-east-1:aaaaaaaa-0000-4000-8000-000000000000".into(),
        audience: POOL.into(),
        amr: developer_amr("login.mycompany.myapp", POOL, "test_user"),
        issued_at: 1_900_000_000,
        expires_at: 1_900_003_600,
        session_policy: None,
        tags: vec![],
        web_identity_key_prefix: None,
        ..SessionClaims::default()
    }
}

#[divan::bench]
fn session_token_seal(bencher: Bencher) {
    let minter = CredentialMinter::new(&MasterKey::generate(&SystemRandomness));
    let claims = session();
    bencher.bench(|| minter.mint(divan::black_box(&claims), &SystemRandomness));
}

#[divan::bench]
fn session_token_open(bencher: Bencher) {
    let minter = CredentialMinter::new(&MasterKey::generate(&SystemRandomness));
    let creds = minter.mint(&session(), &SystemRandomness);
    bencher.bench(|| {
        minter
            .open(divan::black_box(&creds.access_key_id), &creds.session_token)
            .unwrap()
    });
}

#[divan::bench]
fn trust_policy_evaluation(bencher: Bencher) {
    let policy = PolicyDocument::parse(
        &format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow",
            "Principal":{{"Federated":"cognito-identity.amazonaws.com"}},
            "Action":["sts:AssumeRoleWithWebIdentity","sts:TagSession"],
            "Condition":{{"StringEquals":{{"cognito-identity.amazonaws.com:aud":"{POOL}"}},
                         "ForAnyValue:StringLike":{{"cognito-identity.amazonaws.com:amr":"authenticated"}}}}}}]}}"#
        ),
        PolicyKind::Trust,
    )
    .unwrap();
    let mut context = Context::new();
    context
        .insert("cognito-identity.amazonaws.com:aud", POOL)
        .insert_multi(
            "cognito-identity.amazonaws.com:amr",
            developer_amr("login.x", POOL, "u"),
        );
    let principal = Principal::federated("cognito-identity.amazonaws.com");
    bencher.bench(|| {
        tegata_policy::evaluate(
            [&policy],
            divan::black_box(&Request {
                principal: Some(&principal),
                action: "sts:AssumeRoleWithWebIdentity",
                resource: "arn:aws:iam::123456789012:role/app",
                context: &context,
            }),
        )
    });
}

const SIGV4_SECRET: &str = "secretsecretsecretsecretsecretsecret1234";
const SIGV4_BODY: &[u8] = b"Action=GetCallerIdentity&Version=2011-06-15";

/// The headers of a GetCallerIdentity signed by aws-sigv4, as the SDKs sign it.
fn sigv4_signed_headers() -> Vec<(String, String)> {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    let identity =
        aws_credential_types::Credentials::new("AKIDEXAMPLE", SIGV4_SECRET, None, None, "b").into();
    let at = UNIX_EPOCH + Duration::from_secs(1_900_000_000);
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region("us-east-1")
        .name("sts")
        .time(at)
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let mut headers = vec![
        ("host".to_owned(), "127.0.0.1:8910".to_owned()),
        (
            "content-type".to_owned(),
            "application/x-www-form-urlencoded; charset=utf-8".to_owned(),
        ),
    ];
    let signable = SignableRequest::new(
        "POST",
        "http://127.0.0.1:8910/",
        headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        SignableBody::Bytes(SIGV4_BODY),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    for (n, v) in instructions.headers() {
        headers.push((n.to_owned(), v.to_owned()));
    }
    headers
}

/// Parse and verify the request, with the signing key derived from the secret (`kept` = None)
/// or kept from an earlier request, as the server does for temporary credentials.
fn sigv4_parse_and_verify(headers: &[(String, String)], kept: Option<&aws_lc_rs::hmac::Key>) {
    let now = time::OffsetDateTime::from_unix_timestamp(1_900_000_010).unwrap();
    let options = tegata_sigv4::VerifyOptions {
        service: "sts",
        max_skew: time::Duration::minutes(15),
        normalize_path: true,
    };
    let pairs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let payload = tegata_sigv4::sha256_hex(SIGV4_BODY);
    let req = tegata_sigv4::HttpRequest {
        method: "POST",
        path: "/",
        query: "",
        headers: &pairs,
        payload_sha256: &payload,
    };
    let signed = tegata_sigv4::parse_signed_request(&req).unwrap().unwrap();
    match kept {
        None => tegata_sigv4::verify(&req, &signed, SIGV4_SECRET, now, &options),
        Some(key) => tegata_sigv4::verify_with_signing_key(&req, &signed, key, now, &options),
    }
    .unwrap();
}

#[divan::bench]
fn sigv4_verify(bencher: Bencher) {
    let headers = sigv4_signed_headers();
    bencher.bench(|| sigv4_parse_and_verify(&headers, None));
}

#[divan::bench]
fn sigv4_verify_with_kept_signing_key(bencher: Bencher) {
    let headers = sigv4_signed_headers();
    let key = tegata_sigv4::signing_key(SIGV4_SECRET, "20300317", "us-east-1", "sts");
    bencher.bench(|| sigv4_parse_and_verify(&headers, Some(&key)));
}
