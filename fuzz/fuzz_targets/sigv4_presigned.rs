//! A presigned URL's query string (`X-Amz-Algorithm=…&X-Amz-Credential=…`) and path.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tegata_sigv4::{HttpRequest, VerifyOptions, parse_signed_request, sha256_hex};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (path, query) = text.split_once('?').unwrap_or(("/", &text));
    let headers = [("host", "localhost")];
    let payload = sha256_hex(b"");
    let request = HttpRequest {
        method: "GET",
        path,
        query,
        headers: &headers,
        payload_sha256: &payload,
    };
    let _ = tegata_sigv4::canonical_uri(path, true);
    if let Ok(Some(signed)) = parse_signed_request(&request) {
        let options = VerifyOptions {
            service: "sts",
            max_skew: time::Duration::minutes(15),
            normalize_path: true,
        };
        let _ = tegata_sigv4::verify(&request, &signed, "secret", signed.signed_at, &options);
    }
});
