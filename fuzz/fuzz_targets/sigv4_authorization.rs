//! The SigV4 `Authorization` header and `X-Amz-Date`, as a client sends them: parsed, and what
//! parses verified against a fixed secret.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tegata_sigv4::{HttpRequest, VerifyOptions, parse_signed_request, sha256_hex};

fuzz_target!(|data: &[u8]| {
    // The first line is X-Amz-Date, the rest the Authorization header (lossy, as headers that
    // are not UTF-8 never reach the verifier as text).
    let text = String::from_utf8_lossy(data);
    let (date, authorization) = text.split_once('\n').unwrap_or(("20260101T000000Z", &text));
    let headers = [
        ("host", "localhost"),
        ("x-amz-date", date),
        ("authorization", authorization),
    ];
    let payload = sha256_hex(b"");
    let request = HttpRequest {
        method: "POST",
        path: "/",
        query: "",
        headers: &headers,
        payload_sha256: &payload,
    };
    if let Ok(Some(signed)) = parse_signed_request(&request) {
        let options = VerifyOptions {
            service: "sts",
            max_skew: time::Duration::minutes(15),
            normalize_path: true,
        };
        let _ = tegata_sigv4::verify(&request, &signed, "secret", signed.signed_at, &options);
    }
});
