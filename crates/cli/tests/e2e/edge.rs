//! The edge against hostile clients: bytes no parser expects, bodies over the limit, forged log
//! lines, and slow clients holding connections. Every request gets a 4xx in the envelope of the
//! service it was for, with a request id, and the server goes on serving.

use std::time::{Duration, SystemTime};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{
    RawResponse, Server, TempDir, parse_response, query_call, signed_cognito_headers,
};

/// Send raw bytes as one request (`Connection: close` is the caller's to add) and read the
/// response.
async fn raw_exchange(addr: &str, request: &[u8]) -> RawResponse {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw).await;
    parse_response(&raw)
}

/// A request whose header values are bytes, not text.
fn request_bytes(addr: &str, headers: &[(&str, &[u8])], body: &[u8]) -> Vec<u8> {
    let mut out = format!("POST / HTTP/1.1\r\nHost: {addr}\r\n").into_bytes();
    for (name, value) in headers {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(
        format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    out.extend_from_slice(body);
    out
}

/// A 4xx in awsJson's envelope: `__type`, `x-amzn-ErrorType`, a request id.
fn assert_json_refusal(response: &RawResponse, label: &str) -> String {
    assert!(
        (400..500).contains(&response.status),
        "{label}: {response:?}"
    );
    assert_eq!(
        response.header("content-type"),
        Some("application/x-amz-json-1.1"),
        "{label}: {response:?}"
    );
    assert!(response.header("x-amzn-requestid").is_some(), "{label}");
    let body: serde_json::Value = serde_json::from_str(&response.body)
        .unwrap_or_else(|e| panic!("{label}: not JSON ({e}): {response:?}"));
    let code = body["__type"].as_str().unwrap_or_default().to_owned();
    assert_eq!(
        response.header("x-amzn-errortype"),
        Some(format!("{code}:").as_str()),
        "{label}"
    );
    code
}

/// A 4xx in awsQuery's envelope: `<ErrorResponse>` with a `Sender` error and a request id.
fn assert_query_refusal(response: &RawResponse, label: &str) -> String {
    assert!(
        (400..500).contains(&response.status),
        "{label}: {response:?}"
    );
    assert_eq!(response.header("content-type"), Some("text/xml"), "{label}");
    assert!(
        response.body.starts_with("<ErrorResponse xmlns=\""),
        "{label}: {response:?}"
    );
    assert!(response.body.contains("<Type>Sender</Type>"), "{label}");
    let request_id = response.header("x-amzn-requestid").expect("a request id");
    assert!(
        response
            .body
            .contains(&format!("<RequestId>{request_id}</RequestId>")),
        "{label}"
    );
    crate::support::xml_text(&response.body, "Code").to_owned()
}

/// The server still answers a signed call.
async fn still_serving(server: &Server) {
    let response = query_call(
        server,
        "sts",
        &[("Action", "GetCallerIdentity"), ("Version", "2011-06-15")],
    )
    .await;
    assert_eq!(response.status, 200, "{response:?}");
}

const COGNITO_TARGET: &[u8] = b"AWSCognitoIdentityService.ListIdentityPools";

#[tokio::test]
async fn hostile_requests_get_the_service_envelope_and_the_server_goes_on() {
    let dir = TempDir::new("edge");
    let server = Server::start_with(&dir.0, &["--max-request-bytes", "4096"]);
    let addr = server.addr.as_str();
    let (akid, _) = server.credentials();
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={akid}/20260101/us-east-1/cognito-identity/aws4_request, \
         SignedHeaders=host;x-amz-date, Signature={}",
        "0".repeat(64)
    );
    let query_authorization = authorization.replace("/cognito-identity/", "/sts/");

    // Sixteen bytes with a multi-byte character inside: panicked in the date parser once.
    let bad_date = "20260€T000000Z".as_bytes();
    let response = raw_exchange(
        addr,
        &request_bytes(
            addr,
            &[
                ("X-Amz-Target", COGNITO_TARGET),
                ("X-Amz-Date", bad_date),
                ("Authorization", authorization.as_bytes()),
            ],
            b"{\"MaxResults\":1}",
        ),
    )
    .await;
    assert_eq!(
        assert_json_refusal(&response, "multi-byte date"),
        "IncompleteSignatureException"
    );
    let response = raw_exchange(
        addr,
        &request_bytes(
            addr,
            &[
                ("X-Amz-Date", bad_date),
                ("Authorization", query_authorization.as_bytes()),
            ],
            b"Action=GetCallerIdentity&Version=2011-06-15",
        ),
    )
    .await;
    assert_eq!(
        assert_query_refusal(&response, "multi-byte date (query)"),
        "IncompleteSignature"
    );
    still_serving(&server).await;

    // Bytes that are not UTF-8, or not what the header's syntax wants, in every header a parser
    // reads. (Control characters are refused by the HTTP parser itself, with a bare 400, before
    // any service is known: checked last.)
    let junk: &[&[u8]] = &[
        b"\xff\xfe\x80",
        b"\xe2\x82",
        "€€€€".as_bytes(),
        b"=,; /\\%00",
    ];
    for value in junk {
        for header in [
            "Authorization",
            "X-Amz-Date",
            "X-Amz-Security-Token",
            "Content-Type",
        ] {
            let label = format!("{header}: {value:?}");
            let mut headers: Vec<(&str, &[u8])> = vec![
                ("X-Amz-Target", COGNITO_TARGET),
                ("X-Amz-Date", b"20260101T000000Z"),
                ("Authorization", authorization.as_bytes()),
            ];
            headers.retain(|(n, _)| !n.eq_ignore_ascii_case(header));
            headers.push((header, value));
            let response =
                raw_exchange(addr, &request_bytes(addr, &headers, b"{\"MaxResults\":1}")).await;
            assert_json_refusal(&response, &label);

            let mut headers: Vec<(&str, &[u8])> = vec![
                ("X-Amz-Date", b"20260101T000000Z"),
                ("Authorization", query_authorization.as_bytes()),
            ];
            headers.retain(|(n, _)| !n.eq_ignore_ascii_case(header));
            headers.push((header, value));
            let response = raw_exchange(
                addr,
                &request_bytes(
                    addr,
                    &headers,
                    b"Action=GetCallerIdentity&Version=2011-06-15",
                ),
            )
            .await;
            assert_query_refusal(&response, &label);
        }
        // As the operation's name itself.
        let response = raw_exchange(
            addr,
            &request_bytes(addr, &[("X-Amz-Target", value)], b"{}"),
        )
        .await;
        assert_eq!(
            assert_json_refusal(&response, "target"),
            "UnknownOperationException"
        );
        assert!(
            !response.body.contains("message"),
            "AWS sends no message: {response:?}"
        );
    }
    let response = raw_exchange(
        addr,
        &request_bytes(addr, &[("X-Amz-Date", b"\x01\x02\x7f")], b""),
    )
    .await;
    assert_eq!(response.status, 400, "{response:?}");
    still_serving(&server).await;

    // Bodies that are not what the protocol says.
    for body in [
        &b"\xff\xfe not json"[..],
        b"{\"MaxResults\": ",
        b"[1, 2]",
        b"{\"MaxResults\": \"ten\"}",
    ] {
        let headers = signed_cognito_headers(
            addr,
            "AWSCognitoIdentityService.ListIdentityPools",
            body,
            &akid,
            &server.credentials().1,
            SystemTime::now(),
        );
        // `request_bytes` writes the Host header itself.
        let headers: Vec<(&str, &[u8])> = headers
            .iter()
            .filter(|(n, _)| n != "host")
            .map(|(n, v)| (n.as_str(), v.as_bytes()))
            .collect();
        let response = raw_exchange(addr, &request_bytes(addr, &headers, body)).await;
        assert_eq!(
            assert_json_refusal(&response, &format!("{body:?}")),
            "SerializationException"
        );
    }
    for body in [
        &b"Action=GetCallerIdentity%ff%fe&Version=2011-06-15&%%%"[..],
        b"Action=\xff\xfe",
        b"Version=2011-06-15",
    ] {
        let response = raw_exchange(addr, &request_bytes(addr, &[], body)).await;
        assert_query_refusal(&response, &format!("{body:?}"));
    }
    let response = query_call(
        &server,
        "iam",
        &[("Action", "NoSuchAction"), ("Version", "2010-05-08")],
    )
    .await;
    assert_eq!(
        assert_query_refusal(&response, "unknown action"),
        "InvalidAction"
    );
    assert!(response.body.contains("iam.amazonaws.com"), "{response:?}");
    assert!(
        response
            .body
            .contains("Could not find operation NoSuchAction for version 2010-05-08"),
        "{response:?}"
    );

    // A managed session policy's ARN is checked against the model before anything else.
    let response = query_call(
        &server,
        "sts",
        &[
            ("Action", "AssumeRoleWithWebIdentity"),
            ("Version", "2011-06-15"),
            ("RoleArn", "arn:aws:iam::123456789012:role/app"),
            ("RoleSessionName", "s1"),
            ("WebIdentityToken", "abcd"),
            ("PolicyArns.member.1.arn", "arn:aws:iam::x"),
        ],
    )
    .await;
    assert_eq!(
        assert_query_refusal(&response, "policy arns"),
        "ValidationError"
    );
    assert!(
        response
            .body
            .contains("at &apos;policyArns.member.arn&apos;")
            || response.body.contains("at 'policyArns.member.arn'"),
        "{response:?}"
    );

    // A body over the limit: 413, in the envelope, with a request id, and logged.
    let large = vec![b'x'; 8192];
    let response = raw_exchange(
        addr,
        &request_bytes(addr, &[("X-Amz-Target", COGNITO_TARGET)], &large),
    )
    .await;
    assert_eq!(response.status, 413, "{response:?}");
    let body: serde_json::Value = serde_json::from_str(&response.body).unwrap();
    assert_eq!(body["__type"], "RequestEntityTooLargeException");
    assert!(response.header("x-amzn-requestid").is_some());
    let mut form = b"Action=GetCallerIdentity&Version=2011-06-15&Pad=".to_vec();
    form.extend_from_slice(&large);
    let response = raw_exchange(addr, &request_bytes(addr, &[], &form)).await;
    assert_eq!(response.status, 413, "{response:?}");
    assert!(response.body.contains("<Code>RequestEntityTooLarge</Code>"));
    assert!(response.body.contains("<RequestId>"));
    // The same without a Content-Length: chunked, cut off at the limit while reading.
    let mut chunked = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nX-Amz-Target: AWSCognitoIdentityService.ListIdentityPools\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    for _ in 0..4 {
        chunked.extend_from_slice(format!("{:x}\r\n", 2048).as_bytes());
        chunked.extend_from_slice(&[b'y'; 2048]);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let response = raw_exchange(addr, &chunked).await;
    assert_eq!(response.status, 413, "{response:?}");

    // An unsigned call to an operation tegata does not implement is refused as unsigned.
    let response = raw_exchange(
        addr,
        &request_bytes(
            addr,
            &[(
                "X-Amz-Target",
                b"AWSCognitoIdentityService.MergeDeveloperIdentities",
            )],
            b"{}",
        ),
    )
    .await;
    assert_eq!(
        assert_json_refusal(&response, "unsigned, unimplemented"),
        "MissingAuthenticationTokenException"
    );

    // A value with a line break cannot forge a log line.
    let forged = query_call(
        &server,
        "sts",
        &[
            ("Action", "AssumeRoleWithWebIdentity"),
            ("Version", "2011-06-15"),
            ("RoleArn", "arn:aws:iam::123456789012:role/app"),
            ("RoleSessionName", "bad\nFORGED LOG LINE level=ERROR"),
            ("WebIdentityToken", "abcd"),
        ],
    )
    .await;
    assert_eq!(assert_query_refusal(&forged, "forged"), "ValidationError");
    still_serving(&server).await;
    let log = server.log_text();
    assert!(
        !log.lines().any(|line| line.starts_with("FORGED")),
        "a request forged a log line:\n{log}"
    );
    assert!(log.contains("RequestEntityTooLarge"), "413s are logged");
    assert!(
        log.lines()
            .filter(|l| l.contains("RequestEntityTooLarge"))
            .all(|l| l.contains("INFO")),
        "refusals are logged at INFO"
    );
}

/// Slowloris: connections that send a request head (or body) a byte a second hold nothing that
/// others need, and heads are cut off at the header-read timeout.
#[tokio::test]
async fn slow_clients_are_cut_off_at_the_header_timeout_and_others_are_served() {
    const SLOW_CONNECTIONS: usize = 200;
    const HEADER_TIMEOUT_SECONDS: u64 = 3;
    let dir = TempDir::new("slowloris");
    const MAX_CONCURRENT: usize = 2;
    let server = Server::start_with(
        &dir.0,
        &[
            "--header-read-timeout-seconds",
            &HEADER_TIMEOUT_SECONDS.to_string(),
            "--max-concurrent-requests",
            &MAX_CONCURRENT.to_string(),
        ],
    );
    let addr = server.addr.clone();

    // More clients than the server answers at once, each sending its body a byte a second:
    // while a body arrives it holds no place among the requests being answered.
    let mut slow_bodies = Vec::new();
    for _ in 0..MAX_CONCURRENT * 2 {
        let mut stream = TcpStream::connect(&addr).await.unwrap();
        let head = format!("POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 100\r\n\r\nAction=");
        stream.write_all(head.as_bytes()).await.unwrap();
        slow_bodies.push(tokio::spawn(async move {
            for _ in 0..20 {
                if stream.write_all(b"x").await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }));
    }

    let mut slow = Vec::with_capacity(SLOW_CONNECTIONS);
    for _ in 0..SLOW_CONNECTIONS {
        slow.push(TcpStream::connect(&addr).await.unwrap());
    }
    let opened = tokio::time::Instant::now();
    let head = format!("POST / HTTP/1.1\r\nHost: {addr}\r\nX-Slow: ").into_bytes();
    // Each connection gets one more byte of its head every second, in its own task; the task
    // reports when the server closed the connection.
    let (closed_tx, mut closed_rx) = tokio::sync::mpsc::channel(SLOW_CONNECTIONS);
    for mut stream in slow {
        let head = head.clone();
        let closed_tx = closed_tx.clone();
        tokio::spawn(async move {
            let mut buffer = [0u8; 1];
            for byte in head.iter().chain(std::iter::repeat(&b'a')).take(120) {
                if stream.write_all(&[*byte]).await.is_err() {
                    break;
                }
                // Read with a one-second limit: end of stream or an error means closed.
                let read =
                    tokio::time::timeout(Duration::from_secs(1), stream.read(&mut buffer)).await;
                if let Ok(Ok(0) | Err(_)) = read {
                    break;
                }
            }
            let _ = closed_tx.send(()).await;
        });
    }
    drop(closed_tx);

    // While all of them trickle, a normal client is answered, promptly.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let served = tokio::time::timeout(
        Duration::from_secs(1),
        query_call(
            &server,
            "sts",
            &[("Action", "GetCallerIdentity"), ("Version", "2011-06-15")],
        ),
    )
    .await
    .expect("a normal client is served within a second");
    assert_eq!(served.status, 200, "{served:?}");

    // Every slow connection is closed by the server, at the header timeout.
    let mut closed = 0;
    while closed < SLOW_CONNECTIONS {
        match tokio::time::timeout(Duration::from_secs(30), closed_rx.recv()).await {
            Ok(Some(())) => closed += 1,
            Ok(None) | Err(_) => break,
        }
    }
    assert_eq!(closed, SLOW_CONNECTIONS, "every slow connection was closed");
    let waited = opened.elapsed();
    assert!(
        waited >= Duration::from_secs(HEADER_TIMEOUT_SECONDS - 1),
        "closed at the header timeout, not before: {waited:?}"
    );
    // And the server goes on.
    still_serving(&server).await;
    for task in slow_bodies {
        task.abort();
    }
}
