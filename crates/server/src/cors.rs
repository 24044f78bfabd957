//! Cross-origin access for browsers. The AWS SDK for JavaScript calls Cognito Identity and STS
//! from web pages (GetId and GetCredentialsForIdentity unsigned, then signed calls with the
//! credentials), and pages verify tokens against discovery and JWKS: each needs the server to
//! answer the browser's preflight and to name the page's origin in the answer. AWS's endpoints
//! allow any origin; tegata does too unless told otherwise.

use http::{HeaderName, HeaderValue, Method};
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};

/// Which pages may read tegata's answers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum AllowedOrigins {
    /// Any origin (`Access-Control-Allow-Origin: *`), as AWS answers.
    #[default]
    Any,
    /// Only these origins (`https://app.example.com`), each exactly as a browser sends it.
    List(Vec<String>),
}

impl AllowedOrigins {
    /// `*`, or a comma-separated list of origins.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text == "*" {
            return Ok(Self::Any);
        }
        let origins: Vec<String> = text
            .split(',')
            .map(|o| o.trim().trim_end_matches('/').to_owned())
            .filter(|o| !o.is_empty())
            .collect();
        if origins.is_empty() {
            return Err("no origin given: use * for any origin".to_owned());
        }
        for origin in &origins {
            let scheme_ok = origin.starts_with("http://") || origin.starts_with("https://");
            if !scheme_ok || HeaderValue::from_str(origin).is_err() {
                return Err(format!(
                    "'{origin}' is not an origin (scheme://host[:port], e.g. https://app.example.com)"
                ));
            }
        }
        Ok(Self::List(origins))
    }

    pub(crate) fn layer(&self) -> CorsLayer {
        let origin = match self {
            Self::Any => AllowOrigin::any(),
            Self::List(origins) => AllowOrigin::list(
                origins
                    .iter()
                    .filter_map(|o| HeaderValue::from_str(o).ok())
                    .collect::<Vec<_>>(),
            ),
        };
        CorsLayer::new()
            .allow_origin(origin)
            .allow_methods([Method::GET, Method::POST])
            // The SDKs send their own headers (x-amz-target, x-amz-date, x-amz-security-token,
            // amz-sdk-invocation-id, x-amz-user-agent, authorization…), and new ones with new
            // versions: any header a page asks for is allowed, as AWS does. Mirrored rather than
            // `*`, because browsers never let `*` cover Authorization, which every signed call
            // sends.
            .allow_headers(AllowHeaders::mirror_request())
            // What the SDKs read from an answer: the request id and the error type.
            .expose_headers([
                HeaderName::from_static("x-amzn-requestid"),
                HeaderName::from_static("x-amzn-errortype"),
                HeaderName::from_static("x-amz-request-id"),
                HeaderName::from_static("date"),
            ])
            .max_age(std::time::Duration::from_secs(86_400))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_parse() {
        assert_eq!(AllowedOrigins::parse("*"), Ok(AllowedOrigins::Any));
        assert_eq!(
            AllowedOrigins::parse("https://a.example, http://localhost:3000/"),
            Ok(AllowedOrigins::List(vec![
                "https://a.example".to_owned(),
                "http://localhost:3000".to_owned()
            ]))
        );
        assert!(AllowedOrigins::parse("").is_err());
        assert!(AllowedOrigins::parse("a.example").is_err());
        assert!(AllowedOrigins::parse("https://bad\nheader").is_err());
    }
}
