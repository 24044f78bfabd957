//! The verifier against the AWS SigV4 test suite (read from the `aws-sigv4` crate this workspace
//! already depends on for testing, so no copy of it is kept here) and against requests signed by
//! the `aws-sigv4` crate itself.

use std::path::{Path, PathBuf};
use std::time::{Duration as StdDuration, SystemTime, UNIX_EPOCH};

use proptest::prelude::*;
use tegata_sigv4::{
    AuthForm, HttpRequest, SigV4Error, VerifyOptions, canonical_request, parse_signed_request,
    sha256_hex, signing_key, string_to_sign, verify, verify_with_signing_key,
};
use time::{Duration, OffsetDateTime};

/// Where cargo unpacked the `aws-sigv4` dev-dependency: its version from the lock file, its
/// sources under `$CARGO_HOME/registry/src/<registry>/aws-sigv4-<version>`.
fn aws_signing_test_suite() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let lock = std::fs::read_to_string(workspace.join("Cargo.lock")).expect("Cargo.lock");
    let version = lock
        .split("[[package]]")
        .find(|p| p.contains("name = \"aws-sigv4\""))
        .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = \"")))
        .map(|v| v.trim_end_matches('"').to_owned())
        .expect("aws-sigv4 is in Cargo.lock");
    let cargo_home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cargo"));
    std::fs::read_dir(cargo_home.join("registry/src"))
        .expect("cargo registry sources")
        .map(|registry| {
            registry
                .unwrap()
                .path()
                .join(format!("aws-sigv4-{version}/aws-signing-test-suite/v4"))
        })
        .find(|p| p.is_dir())
        .expect("the aws-sigv4 sources with the signing test suite")
}

/// A request as the suite writes it: request line, headers (with obsolete line folding), body.
struct RawRequest {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl RawRequest {
    fn parse(text: &str) -> RawRequest {
        let (head, body) = text.split_once("\n\n").unwrap_or((text, ""));
        let mut lines = head.lines();
        let request_line = lines.next().unwrap();
        let (method, rest) = request_line.split_once(' ').unwrap();
        let target = rest.strip_suffix(" HTTP/1.1").unwrap();
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in lines {
            if line.starts_with(' ') || line.starts_with('\t') {
                let last = headers.last_mut().unwrap();
                last.1.push('\n');
                last.1.push_str(line);
            } else {
                let (name, value) = line.split_once(':').unwrap();
                headers.push((name.to_owned(), value.to_owned()));
            }
        }
        RawRequest {
            method: method.to_owned(),
            path: path.to_owned(),
            query: query.to_owned(),
            headers,
            body: body.trim_end_matches('\n').as_bytes().to_vec(),
        }
    }
}

struct Case {
    name: String,
    context: serde_json::Value,
    dir: PathBuf,
}

fn cases() -> Vec<Case> {
    let root = aws_signing_test_suite();
    let mut cases: Vec<Case> = std::fs::read_dir(&root)
        .unwrap()
        .filter_map(|e| {
            let dir = e.unwrap().path();
            let context = std::fs::read_to_string(dir.join("context.json")).ok()?;
            Some(Case {
                name: dir.file_name().unwrap().to_string_lossy().into_owned(),
                context: serde_json::from_str(&context).unwrap(),
                dir,
            })
        })
        .collect();
    cases.sort_by(|a, b| a.name.cmp(&b.name));
    assert!(cases.len() >= 30, "the suite has its cases");
    cases
}

fn context_time(context: &serde_json::Value) -> OffsetDateTime {
    OffsetDateTime::parse(
        context["timestamp"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap()
}

/// Check one signed request of the suite: our canonical request and string to sign equal the
/// suite's, the signature verifies, and one changed byte of it does not.
fn check_signed(case: &Case, form: &str) -> Result<(), String> {
    let signed_path = case.dir.join(format!("{form}-signed-request.txt"));
    let Ok(text) = std::fs::read_to_string(&signed_path) else {
        return Ok(());
    };
    let raw = RawRequest::parse(&text);
    let headers: Vec<(&str, &str)> = raw
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let payload = sha256_hex(&raw.body);
    let req = HttpRequest {
        method: &raw.method,
        path: &raw.path,
        query: &raw.query,
        headers: &headers,
        payload_sha256: &payload,
    };
    let signed = parse_signed_request(&req)
        .map_err(|e| format!("parse: {e}"))?
        .ok_or("no signature found")?;
    let expected_form = if form == "header" {
        AuthForm::Header
    } else {
        AuthForm::Query
    };
    if signed.form != expected_form {
        return Err(format!("form {:?}", signed.form));
    }
    let normalize = case.context["normalize"].as_bool().unwrap();
    let token_added_after = case.context["omit_session_token"].as_bool() == Some(true);
    let canonical = if token_added_after && form == "query" {
        let without_token: String = req
            .query
            .split('&')
            .filter(|p| !p.starts_with("X-Amz-Security-Token="))
            .collect::<Vec<_>>()
            .join("&");
        canonical_request(
            &HttpRequest {
                query: &without_token,
                ..req
            },
            &signed,
            normalize,
        )
    } else {
        canonical_request(&req, &signed, normalize)
    };
    let expected_canonical =
        std::fs::read_to_string(case.dir.join(format!("{form}-canonical-request.txt"))).unwrap();
    if canonical != expected_canonical {
        return Err(format!(
            "canonical request differs:\n{canonical}\n--- expected ---\n{expected_canonical}"
        ));
    }
    let sts = string_to_sign(&signed.amz_date, &signed.scope, &canonical);
    let expected_sts =
        std::fs::read_to_string(case.dir.join(format!("{form}-string-to-sign.txt"))).unwrap();
    if sts != expected_sts {
        return Err(format!(
            "string to sign differs:\n{sts}\n---\n{expected_sts}"
        ));
    }
    let secret = case.context["credentials"]["secret_access_key"]
        .as_str()
        .unwrap();
    let options = VerifyOptions {
        service: case.context["service"].as_str().unwrap(),
        max_skew: Duration::minutes(15),
        normalize_path: normalize,
    };
    let now = context_time(&case.context);
    verify(&req, &signed, secret, now, &options).map_err(|e| format!("verify: {e}"))?;

    let mut tampered = signed.clone();
    let flipped = if tampered.signature.starts_with('0') {
        "1"
    } else {
        "0"
    };
    tampered.signature.replace_range(0..1, flipped);
    if verify(&req, &tampered, secret, now, &options) != Err(SigV4Error::SignatureDoesNotMatch) {
        return Err("a changed signature was accepted".into());
    }
    if verify(&req, &signed, "not-the-secret", now, &options)
        != Err(SigV4Error::SignatureDoesNotMatch)
    {
        return Err("a wrong secret was accepted".into());
    }
    Ok(())
}

#[test]
fn aws_test_suite_header_and_presigned_forms_verify() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in cases() {
        for form in ["header", "query"] {
            if case.dir.join(format!("{form}-signed-request.txt")).exists() {
                checked += 1;
            }
            if let Err(e) = check_signed(&case, form) {
                failures.push(format!("{} ({form}): {e}", case.name));
            }
        }
    }
    assert!(checked >= 60, "only {checked} signed requests found");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

fn suite_request(name: &str) -> (RawRequest, OffsetDateTime, String) {
    let case = cases().into_iter().find(|c| c.name == name).unwrap();
    let raw = RawRequest::parse(
        &std::fs::read_to_string(case.dir.join("header-signed-request.txt")).unwrap(),
    );
    let secret = case.context["credentials"]["secret_access_key"]
        .as_str()
        .unwrap()
        .to_owned();
    (raw, context_time(&case.context), secret)
}

fn with_request<T>(raw: &RawRequest, f: impl FnOnce(&HttpRequest<'_>) -> T) -> T {
    let headers: Vec<(&str, &str)> = raw
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let payload = sha256_hex(&raw.body);
    f(&HttpRequest {
        method: &raw.method,
        path: &raw.path,
        query: &raw.query,
        headers: &headers,
        payload_sha256: &payload,
    })
}

/// What the suite's requests were signed for.
fn suite_options() -> VerifyOptions<'static> {
    VerifyOptions {
        service: "service",
        max_skew: Duration::minutes(15),
        normalize_path: true,
    }
}

#[test]
fn clock_skew_window_is_enforced_both_ways() {
    let (raw, signed_at, secret) = suite_request("get-vanilla");
    let options = suite_options();
    with_request(&raw, |req| {
        let signed = parse_signed_request(req).unwrap().unwrap();
        for ok in [
            Duration::minutes(15),
            Duration::minutes(-15),
            Duration::ZERO,
        ] {
            assert_eq!(
                verify(req, &signed, &secret, signed_at + ok, &options),
                Ok(())
            );
        }
        let late = verify(
            req,
            &signed,
            &secret,
            signed_at + Duration::minutes(15) + Duration::seconds(1),
            &options,
        );
        assert_eq!(
            late.unwrap_err().to_string(),
            "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z \
             (20150830T125101Z - 15 min.)"
        );
        let early = verify(
            req,
            &signed,
            &secret,
            signed_at - Duration::minutes(16),
            &options,
        );
        assert!(matches!(
            early,
            Err(SigV4Error::SignatureNotYetCurrent { .. })
        ));
    });
}

#[test]
fn a_signing_key_derived_beforehand_verifies_only_for_its_scope() {
    let (raw, now, secret) = suite_request("get-vanilla");
    let options = suite_options();
    with_request(&raw, |req| {
        let signed = parse_signed_request(req).unwrap().unwrap();
        let scope = &signed.scope;
        let key = signing_key(&secret, &scope.date, &scope.region, "service");
        assert_eq!(
            verify_with_signing_key(req, &signed, &key, now, &options),
            Ok(())
        );
        // A key kept from another day, region or secret must not pass.
        for wrong in [
            signing_key(&secret, "20150831", &scope.region, "service"),
            signing_key(&secret, &scope.date, "eu-west-1", "service"),
            signing_key("another secret", &scope.date, &scope.region, "service"),
        ] {
            assert_eq!(
                verify_with_signing_key(req, &signed, &wrong, now, &options),
                Err(SigV4Error::SignatureDoesNotMatch)
            );
        }
        // The scope and clock checks still come first.
        let late = now + Duration::minutes(16);
        assert!(matches!(
            verify_with_signing_key(req, &signed, &key, late, &options),
            Err(SigV4Error::SignatureExpired { .. })
        ));
    });
}

#[test]
fn scope_must_name_the_receiving_service() {
    let (raw, now, secret) = suite_request("get-vanilla");
    with_request(&raw, |req| {
        let signed = parse_signed_request(req).unwrap().unwrap();
        let options = VerifyOptions {
            service: "sts",
            max_skew: Duration::minutes(15),
            normalize_path: true,
        };
        assert_eq!(
            verify(req, &signed, &secret, now, &options),
            Err(SigV4Error::WrongService {
                expected: "sts".into()
            })
        );
    });
}

#[test]
fn incomplete_authorization_headers_are_reported() {
    let headers = [
        ("Host", "example.amazonaws.com"),
        (
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/sts/aws4_request",
        ),
    ];
    let req = HttpRequest {
        method: "GET",
        path: "/",
        query: "",
        headers: &headers,
        payload_sha256: &sha256_hex(b""),
    };
    let err = parse_signed_request(&req).unwrap_err();
    let SigV4Error::IncompleteSignature(message) = err else {
        panic!("{err:?}")
    };
    assert!(
        message.contains("requires 'Signature' parameter"),
        "{message}"
    );
    assert!(
        message.contains("requires 'SignedHeaders' parameter"),
        "{message}"
    );
    assert!(message.contains("'X-Amz-Date'"), "{message}");

    let headers = [
        ("Host", "example.amazonaws.com"),
        ("X-Amz-Date", "20150830T123600Z"),
        (
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/sts/aws4_request, \
             SignedHeaders=x-amz-date, Signature=00",
        ),
    ];
    let req = HttpRequest {
        headers: &headers,
        ..req
    };
    assert!(matches!(
        parse_signed_request(&req),
        Err(SigV4Error::IncompleteSignature(m)) if m.contains("'Host'")
    ));

    let unsigned = HttpRequest {
        headers: &[("Host", "example.amazonaws.com")],
        ..req
    };
    assert_eq!(parse_signed_request(&unsigned), Ok(None));
}

// --- round trips: signed by the `aws-sigv4` crate, verified by ours ----------------------------

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
};
use aws_smithy_runtime_api::client::identity::Identity;

struct Signed {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

#[allow(clippy::too_many_arguments)]
fn sign_with_aws_sigv4(
    method: &str,
    path_and_query: &str,
    headers: &[(String, String)],
    body: &[u8],
    region: &str,
    service: &str,
    at: SystemTime,
    session_token: Option<&str>,
    presigned: bool,
) -> Signed {
    let identity: Identity = Credentials::new(
        "AKIDEXAMPLE",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        session_token.map(str::to_owned),
        None,
        "test",
    )
    .into();
    let mut settings = SigningSettings::default();
    if presigned {
        settings.signature_location = SignatureLocation::QueryParams;
        settings.expires_in = Some(StdDuration::from_secs(300));
    }
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(at)
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let uri = format!("https://example.amazonaws.com{path_and_query}");
    let signable = SignableRequest::new(
        method,
        uri.clone(),
        headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        SignableBody::Bytes(body),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    let mut request = http::Request::builder().method(method).uri(&uri);
    for (n, v) in headers {
        request = request.header(n, v);
    }
    let mut request = request.body(()).unwrap();
    instructions.apply_to_request_http1x(&mut request);
    let mut out_headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_owned()))
        .collect();
    out_headers.push(("host".into(), "example.amazonaws.com".into()));
    Signed {
        method: method.to_owned(),
        path: request.uri().path().to_owned(),
        query: request.uri().query().unwrap_or("").to_owned(),
        headers: out_headers,
        body: body.to_vec(),
    }
}

fn verify_signed(
    s: &Signed,
    service: &str,
    now: OffsetDateTime,
    secret: &str,
) -> Result<(), SigV4Error> {
    let headers: Vec<(&str, &str)> = s
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let payload = sha256_hex(&s.body);
    let req = HttpRequest {
        method: &s.method,
        path: &s.path,
        query: &s.query,
        headers: &headers,
        payload_sha256: &payload,
    };
    let signed = parse_signed_request(&req)?.expect("signed");
    verify(
        &req,
        &signed,
        secret,
        now,
        &VerifyOptions {
            service,
            max_skew: Duration::minutes(15),
            normalize_path: true,
        },
    )
}

fn segment() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[a-zA-Z0-9._~ !$&'()*+,;=:@-]{1,12}").unwrap()
}

fn encode_segment(s: &str) -> String {
    // Encode like an SDK would put it on the wire.
    tegata_sigv4::uri_encode(s.as_bytes(), false)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 200,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn requests_signed_by_aws_sigv4_verify(
        method in prop::sample::select(vec!["GET", "POST", "PUT", "DELETE"]),
        segments in prop::collection::vec(segment(), 0..4),
        query in prop::collection::vec((segment(), segment()), 0..4),
        extra_headers in prop::collection::vec(("x-[a-z]{1,8}", "[ -~]{0,20}"), 0..4),
        body in prop::collection::vec(any::<u8>(), 0..64),
        region in "[a-z]{2}-[a-z]{4,9}-[1-3]",
        service in prop::sample::select(vec!["sts", "cognito-identity", "iam"]),
        epoch in 1_500_000_000u64..2_000_000_000u64,
        token in proptest::option::of("[A-Za-z0-9+/=]{16,64}"),
        presigned in any::<bool>(),
    ) {
        let mut path = String::new();
        for s in &segments {
            path.push('/');
            path.push_str(&encode_segment(s));
        }
        if path.is_empty() { path.push('/'); }
        let mut path_and_query = path.clone();
        for (i, (k, v)) in query.iter().enumerate() {
            path_and_query.push(if i == 0 { '?' } else { '&' });
            path_and_query.push_str(&encode_segment(k));
            path_and_query.push('=');
            path_and_query.push_str(&encode_segment(v));
        }
        let mut headers: Vec<(String, String)> = Vec::new();
        for (n, v) in extra_headers {
            if headers.iter().any(|(existing, _)| *existing == n) { continue; }
            headers.push((n, v.trim().to_owned()));
        }
        let at = UNIX_EPOCH + StdDuration::from_secs(epoch);
        let signed = sign_with_aws_sigv4(method, &path_and_query, &headers, &body, &region, service, at, token.as_deref(), presigned);
        let now = OffsetDateTime::from_unix_timestamp(epoch as i64 + 60).unwrap();
        prop_assert_eq!(verify_signed(&signed, service, now, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"), Ok(()));
        prop_assert_eq!(verify_signed(&signed, service, now, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEZ"), Err(SigV4Error::SignatureDoesNotMatch));
        if !body.is_empty() && !presigned {
            let mut changed = signed;
            changed.body[0] ^= 1;
            prop_assert_eq!(verify_signed(&changed, service, now, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"), Err(SigV4Error::SignatureDoesNotMatch));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 2000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Whatever the client puts in the headers and the query the verifier reads, parsing and
    /// verifying answer (an error, most often) and never panic. Multi-byte characters where
    /// ASCII is expected are the case that once did.
    #[test]
    fn arbitrary_headers_and_queries_never_panic(
        authorization in "(AWS4-HMAC-SHA256 )?(Credential=[^,]{0,40})?(, ?SignedHeaders=[a-z;€]{0,20})?(, ?Signature=[0-9a-fé]{0,70})?",
        amz_date in "\\PC{0,20}",
        token in proptest::option::of("\\PC{0,30}"),
        query in "\\PC{0,60}",
        presigned in any::<bool>(),
    ) {
        let mut headers: Vec<(&str, &str)> = vec![("host", "localhost"), ("x-amz-date", &amz_date)];
        if let Some(token) = &token {
            headers.push(("x-amz-security-token", token));
        }
        let query = if presigned {
            format!("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date={amz_date}&{query}")
        } else {
            headers.push(("authorization", &authorization));
            query
        };
        let payload = sha256_hex(b"");
        let request = HttpRequest {
            method: "POST",
            path: "/",
            query: &query,
            headers: &headers,
            payload_sha256: &payload,
        };
        let _ = tegata_sigv4::parse_amz_date(&amz_date);
        let _ = tegata_sigv4::percent_decode(&query);
        if let Ok(Some(signed)) = parse_signed_request(&request) {
            let options = VerifyOptions {
                service: "sts",
                max_skew: Duration::minutes(15),
                normalize_path: true,
            };
            let _ = verify(&request, &signed, "secret", OffsetDateTime::UNIX_EPOCH, &options);
        }
    }
}

#[test]
fn a_date_with_a_multi_byte_character_is_refused() {
    // Sixteen bytes, the shape's length, with "€" (three bytes) inside: slicing it as text
    // panicked before the parser read bytes.
    for raw in ["20260€T000000Z", "2026010€000000Z", "€€€€€€€€€€€€€€€€"]
    {
        assert!(matches!(
            tegata_sigv4::parse_amz_date(raw),
            Err(SigV4Error::IncompleteSignature(_))
        ));
    }
    assert!(tegata_sigv4::parse_amz_date("20260101T000000Z").is_ok());
    assert!(tegata_sigv4::parse_amz_date("20261301T000000Z").is_err());
}
