//! Finding the SigV4 parameters in a request.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

use crate::{
    ALGORITHM, AuthForm, CredentialScope, HttpRequest, MAX_PRESIGNED_EXPIRES_SECONDS, SigV4Error,
    SignedRequest,
};

pub(crate) fn parse_signed_request(
    req: &HttpRequest<'_>,
) -> Result<Option<SignedRequest>, SigV4Error> {
    let query = query_pairs(req.query);
    if query.iter().any(|(k, _)| k == "X-Amz-Algorithm") {
        return parse_presigned(req, &query).map(Some);
    }
    match req.header("authorization") {
        Some(value) => parse_authorization_header(req, value).map(Some),
        None => Ok(None),
    }
}

fn incomplete(message: impl Into<String>) -> SigV4Error {
    SigV4Error::IncompleteSignature(message.into())
}

fn parse_authorization_header(
    req: &HttpRequest<'_>,
    value: &str,
) -> Result<SignedRequest, SigV4Error> {
    let value = value.trim();
    let (algorithm, rest) = value.split_once(' ').unwrap_or((value, ""));
    if algorithm != ALGORITHM {
        return Err(incomplete(format!(
            "Unsupported AWS 'algorithm': '{algorithm}'. Requests must be signed with '{ALGORITHM}'."
        )));
    }

    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        let part = part.trim();
        if let Some((key, val)) = part.split_once('=') {
            match key.trim() {
                "Credential" => credential = Some(val.trim()),
                "SignedHeaders" => signed_headers = Some(val.trim()),
                "Signature" => signature = Some(val.trim()),
                _ => {}
            }
        }
    }
    let amz_date = req.header("x-amz-date");

    let mut missing = Vec::new();
    if credential.is_none() {
        missing.push("Authorization header requires 'Credential' parameter.");
    }
    if signature.is_none() {
        missing.push("Authorization header requires 'Signature' parameter.");
    }
    if signed_headers.is_none() {
        missing.push("Authorization header requires 'SignedHeaders' parameter.");
    }
    if amz_date.is_none() {
        missing.push(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        );
    }
    let (Some(credential), Some(signed_headers), Some(signature), Some(amz_date)) =
        (credential, signed_headers, signature, amz_date)
    else {
        return Err(incomplete(missing.join(" ")));
    };

    let (access_key_id, scope) = parse_credential(credential)?;
    let signed_headers = parse_signed_headers(signed_headers)?;
    let signed_at = parse_amz_date(amz_date.trim())?;
    Ok(SignedRequest {
        form: AuthForm::Header,
        access_key_id,
        scope,
        signed_headers,
        signature: signature.to_owned(),
        amz_date: amz_date.trim().to_owned(),
        signed_at,
        security_token: req.header("x-amz-security-token").map(str::to_owned),
        expires_seconds: None,
    })
}

fn parse_presigned(
    req: &HttpRequest<'_>,
    query: &[(String, String)],
) -> Result<SignedRequest, SigV4Error> {
    let get = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let (Some(algorithm), Some(credential), Some(signature), Some(amz_date), Some(signed_headers)) = (
        get("X-Amz-Algorithm"),
        get("X-Amz-Credential"),
        get("X-Amz-Signature"),
        get("X-Amz-Date"),
        get("X-Amz-SignedHeaders"),
    ) else {
        return Err(incomplete(
            "AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', \
             'X-Amz-Signature', 'X-Amz-Date', 'X-Amz-SignedHeaders', and 'X-Amz-Expires'. \
             Re-examine the query-string parameters.",
        ));
    };
    if algorithm != ALGORITHM {
        return Err(incomplete(format!(
            "X-Amz-Algorithm only supports '{ALGORITHM}'."
        )));
    }
    let expires = match get("X-Amz-Expires") {
        Some(raw) => raw
            .parse::<i64>()
            .ok()
            .filter(|e| (1..=MAX_PRESIGNED_EXPIRES_SECONDS).contains(e))
            .ok_or_else(|| {
                incomplete(format!(
                    "X-Amz-Expires must be a whole number of seconds from 1 to \
                     {MAX_PRESIGNED_EXPIRES_SECONDS} (one week)."
                ))
            })?,
        None => {
            return Err(incomplete(
                "AWS query-string parameters must include 'X-Amz-Expires'. \
                 Re-examine the query-string parameters.",
            ));
        }
    };
    let (access_key_id, scope) = parse_credential(credential)?;
    let signed_headers = parse_signed_headers(signed_headers)?;
    let signed_at = parse_amz_date(amz_date)?;
    let security_token = get("X-Amz-Security-Token")
        .map(str::to_owned)
        .or_else(|| req.header("x-amz-security-token").map(str::to_owned));
    Ok(SignedRequest {
        form: AuthForm::Query,
        access_key_id,
        scope,
        signed_headers,
        signature: signature.to_owned(),
        amz_date: amz_date.to_owned(),
        signed_at,
        security_token,
        expires_seconds: Some(expires),
    })
}

/// `AKID/YYYYMMDD/region/service/aws4_request`
fn parse_credential(credential: &str) -> Result<(String, CredentialScope), SigV4Error> {
    let parts: Vec<&str> = credential.split('/').collect();
    match parts.as_slice() {
        [akid, date, region, service, terminator]
            if !akid.is_empty() && !region.is_empty() && !service.is_empty() =>
        {
            if date.len() != 8 || !date.bytes().all(|b| b.is_ascii_digit()) {
                return Err(incomplete(format!(
                    "Credential should be scoped to a valid date (YYYYMMDD), not '{date}'."
                )));
            }
            Ok((
                (*akid).to_owned(),
                CredentialScope {
                    date: (*date).to_owned(),
                    region: (*region).to_owned(),
                    service: (*service).to_owned(),
                    terminator: (*terminator).to_owned(),
                },
            ))
        }
        _ => Err(incomplete(
            "Credential must have the form <access key id>/<YYYYMMDD>/<region>/<service>/aws4_request.",
        )),
    }
}

fn parse_signed_headers(raw: &str) -> Result<Vec<String>, SigV4Error> {
    let headers: Vec<String> = raw
        .split(';')
        .filter(|h| !h.is_empty())
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    // Without a signed Host the signature could be replayed against any other endpoint.
    if !headers.iter().any(|h| h == "host" || h == ":authority") {
        return Err(incomplete(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    Ok(headers)
}

/// Parse `YYYYMMDDTHHMMSSZ`, byte by byte: the value is the client's, and may hold anything.
pub fn parse_amz_date(raw: &str) -> Result<OffsetDateTime, SigV4Error> {
    let bad = || {
        incomplete(format!(
            "Date must be in ISO-8601 'basic format'. Got '{raw}'. See http://en.wikipedia.org/wiki/ISO_8601"
        ))
    };
    let [
        y0,
        y1,
        y2,
        y3,
        mo0,
        mo1,
        d0,
        d1,
        b'T',
        h0,
        h1,
        mi0,
        mi1,
        s0,
        s1,
        b'Z',
    ] = *raw.as_bytes()
    else {
        return Err(bad());
    };
    let digits = |ds: &[u8]| -> Option<u16> {
        ds.iter().try_fold(0u16, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u16::from(d - b'0'))
        })
    };
    let number = |ds: &[u8]| digits(ds).ok_or_else(bad);
    let small = |ds: &[u8]| number(ds).and_then(|n| u8::try_from(n).map_err(|_| bad()));
    let year = i32::from(number(&[y0, y1, y2, y3])?);
    let month = Month::try_from(small(&[mo0, mo1])?).map_err(|_| bad())?;
    let date = Date::from_calendar_date(year, month, small(&[d0, d1])?).map_err(|_| bad())?;
    let time = Time::from_hms(small(&[h0, h1])?, small(&[mi0, mi1])?, small(&[s0, s1])?)
        .map_err(|_| bad())?;
    Ok(PrimitiveDateTime::new(date, time).assume_utc())
}

/// Decode `%XX` escapes; anything that is not a valid escape is kept as it is. `+` stays `+`:
/// SigV4 query strings are RFC 3986, not HTML forms.
pub fn percent_decode(input: &str) -> Vec<u8> {
    let mut rest = input.as_bytes();
    let mut out = Vec::with_capacity(rest.len());
    while let Some((&first, after)) = rest.split_first() {
        if first == b'%'
            && let [high, low, tail @ ..] = after
            && let (Some(h), Some(l)) = (hex_value(*high), hex_value(*low))
        {
            out.push(h << 4 | l);
            rest = tail;
            continue;
        }
        out.push(first);
        rest = after;
    }
    out
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

fn query_pairs(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (
                String::from_utf8_lossy(&percent_decode(k)).into_owned(),
                String::from_utf8_lossy(&percent_decode(v)).into_owned(),
            )
        })
        .collect()
}
