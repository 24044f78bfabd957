//! Opaque pagination tokens: the position after which the next page starts, with a version tag
//! so the format can change without old tokens being misread.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::InvalidPageToken;

const PREFIX: &str = "v1:";

/// One page of results and the token for the next, if there is more.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_token: Option<String>,
}

pub fn encode_token(position: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{PREFIX}{position}"))
}

pub fn decode_token(token: &str) -> Result<String, InvalidPageToken> {
    let raw = URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| InvalidPageToken)?;
    let text = String::from_utf8(raw).map_err(|_| InvalidPageToken)?;
    text.strip_prefix(PREFIX)
        .map(str::to_owned)
        .ok_or(InvalidPageToken)
}

/// Turn `limit + 1` fetched rows into a page: the extra row only says that more exist.
pub fn paginate<T>(mut rows: Vec<T>, limit: usize, position_of: impl Fn(&T) -> String) -> Page<T> {
    let next_token = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|last| encode_token(&position_of(last)))
    } else {
        None
    };
    Page {
        items: rows,
        next_token,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_garbage() {
        assert_eq!(
            decode_token(&encode_token("us-east-1:abc")).unwrap(),
            "us-east-1:abc"
        );
        assert!(decode_token("not*base64").is_err());
        assert!(decode_token(&URL_SAFE_NO_PAD.encode("v9:x")).is_err());
    }

    #[test]
    fn extra_row_means_more() {
        let page = paginate(vec![1, 2, 3], 2, |n| n.to_string());
        assert_eq!(page.items, vec![1, 2]);
        assert_eq!(
            decode_token(page.next_token.as_deref().unwrap()).unwrap(),
            "2"
        );
        assert_eq!(paginate(vec![1, 2], 2, |n| n.to_string()).next_token, None);
    }
}
