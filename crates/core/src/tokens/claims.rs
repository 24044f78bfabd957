//! The OpenID token Cognito Identity issues (aws-api.md §3): its claims, in the order the real
//! service emits them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::UnixSeconds;

pub const IDENTITY_POOL_ARN_CLAIM: &str =
    "https://cognito-identity.amazonaws.com/identity-pool-arn";
pub const TAGS_CLAIM: &str = "https://aws.amazon.com/tags";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenIdClaims {
    /// The identity id.
    pub sub: String,
    /// The identity pool id (a string, never an array).
    pub aud: String,
    pub amr: Vec<String>,
    pub iss: String,
    #[serde(rename = "https://cognito-identity.amazonaws.com/identity-pool-arn")]
    pub identity_pool_arn: String,
    pub exp: UnixSeconds,
    pub iat: UnixSeconds,
    #[serde(
        rename = "https://aws.amazon.com/tags",
        skip_serializing_if = "Option::is_none",
        default
    )]
    pub tags: Option<SessionTagsClaim>,
}

/// Principal tags become STS session tags; each value is a one-element array, as AWS writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionTagsClaim {
    pub principal_tags: BTreeMap<String, Vec<String>>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub transitive_tag_keys: Vec<String>,
}

impl SessionTagsClaim {
    pub fn from_principal_tags(tags: &BTreeMap<String, String>) -> Option<Self> {
        if tags.is_empty() {
            return None;
        }
        Some(Self {
            principal_tags: tags
                .iter()
                .map(|(k, v)| (k.clone(), vec![v.clone()]))
                .collect(),
            transitive_tag_keys: Vec::new(),
        })
    }
}

/// `amr` of a developer-authenticated identity: `authenticated`, the provider, and
/// `<provider>:<pool id>:<developer user id>` (applications split the last on `:` to find the user).
pub fn developer_amr(provider: &str, pool_id: &str, developer_user_id: &str) -> Vec<String> {
    vec![
        "authenticated".to_owned(),
        provider.to_owned(),
        format!("{provider}:{pool_id}:{developer_user_id}"),
    ]
}

/// The developer user id in a developer identity's `amr`: what [`developer_amr`] put after
/// `<provider>:<pool id>:`.
pub fn developer_user_of_amr<'a>(
    amr: &'a [String],
    provider: &str,
    pool_id: &str,
) -> Option<&'a str> {
    let prefix = format!("{provider}:{pool_id}:");
    amr.iter().find_map(|a| a.strip_prefix(&prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_developer_user_is_read_back_from_amr() {
        let amr = developer_amr("login.app", "us-east-1:pool", "user:with:colons");
        assert_eq!(
            developer_user_of_amr(&amr, "login.app", "us-east-1:pool"),
            Some("user:with:colons")
        );
        assert_eq!(
            developer_user_of_amr(&amr, "login.other", "us-east-1:pool"),
            None
        );
        assert_eq!(
            developer_user_of_amr(&amr, "login.app", "us-east-1:other"),
            None
        );
    }
}
