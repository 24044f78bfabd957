//! Cognito Identity's request and response shapes (service model 2014-06-30) and their
//! constraints. Required members are `Option`s so that a missing one is reported as AWS reports
//! it ("Member must not be null") rather than as a parse error.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tegata_core::cognito_identity::{
    CognitoIdentityProvider, IdentityPool, IdentityPoolSpec, IdentityRecord, PoolSummary,
};

use crate::validate::{Violations, is_space, is_word, map_length_violation};

// --- patterns of the model, as predicates --------------------------------------------------

pub const ID_PATTERN: &str = r"[\w-]+:[0-9a-f-]+";
const POOL_NAME_PATTERN: &str = r"[\w\s+=,.@-]+";
const DEVELOPER_PROVIDER_PATTERN: &str = r"[\w._-]+";
const IDP_ID_PATTERN: &str = r"[\w.;_/-]+";
const CIP_NAME_PATTERN: &str = r"[\w._:/-]+";
const CLIENT_ID_PATTERN: &str = r"[\w_]+";
const PAGINATION_KEY_PATTERN: &str = r"[\S]+";

fn all_nonempty(s: &str, allowed: impl Fn(char) -> bool) -> bool {
    !s.is_empty() && s.chars().all(allowed)
}

/// `[\w-]+:[0-9a-f-]+`, the form of identity pool and identity ids.
pub fn is_regional_id(s: &str) -> bool {
    // Java's `matches` is anchored; the greedy first group may contain no `:`.
    s.split_once(':').is_some_and(|(region, rest)| {
        all_nonempty(region, |c| is_word(c) || c == '-')
            && all_nonempty(rest, |c| {
                c.is_ascii_digit() || ('a'..='f').contains(&c) || c == '-'
            })
    })
}

fn check_id(v: &mut Violations, member: &str, value: &str) {
    v.length(member, value, 1, 55, false);
    v.pattern(member, value, ID_PATTERN, is_regional_id(value));
}

fn check_pool_id(v: &mut Violations, value: &Option<String>) {
    v.required("identityPoolId", value);
    if let Some(id) = value {
        check_id(v, "identityPoolId", id);
    }
}

fn check_max_results(v: &mut Violations, value: &Option<i64>, required: bool) {
    if required {
        v.required("maxResults", value);
    }
    if let Some(n) = value {
        v.range("maxResults", *n, 1, 60);
    }
}

fn check_next_token(v: &mut Violations, value: &Option<String>) {
    if let Some(token) = value {
        v.length("nextToken", token, 1, 65535, false);
        v.pattern(
            "nextToken",
            token,
            PAGINATION_KEY_PATTERN,
            all_nonempty(token, |c| !is_space(c)),
        );
    }
}

fn check_string_map(
    v: &mut Violations,
    member: &str,
    map: &BTreeMap<String, String>,
    keys: (usize, usize),
    values: (usize, usize),
) {
    if let Some(c) = map_length_violation(map.keys(), keys.0, keys.1) {
        v.map_entries(member, "keys", &c);
    }
    if let Some(c) = map_length_violation(map.values(), values.0, values.1) {
        v.map_entries(member, "values", &c);
    }
}

fn check_arn_list(v: &mut Violations, member: &str, arns: &Option<Vec<String>>) {
    for arn in arns.iter().flatten() {
        v.length(member, arn, 20, 2048, false);
    }
}

pub trait Validate {
    fn violations(&self) -> Violations;
}

// --- identity pools -------------------------------------------------------------------------

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "PascalCase")]
pub struct CognitoIdentityProviderShape {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_side_token_check: Option<bool>,
}

/// The members CreateIdentityPool and UpdateIdentityPool share.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IdentityPoolConfigShape {
    pub identity_pool_name: Option<String>,
    pub allow_unauthenticated_identities: Option<bool>,
    pub allow_classic_flow: Option<bool>,
    pub supported_login_providers: Option<BTreeMap<String, String>>,
    pub developer_provider_name: Option<String>,
    #[serde(rename = "OpenIdConnectProviderARNs")]
    pub open_id_connect_provider_arns: Option<Vec<String>>,
    pub cognito_identity_providers: Option<Vec<CognitoIdentityProviderShape>>,
    #[serde(rename = "SamlProviderARNs")]
    pub saml_provider_arns: Option<Vec<String>>,
    pub identity_pool_tags: Option<BTreeMap<String, String>>,
}

impl IdentityPoolConfigShape {
    fn check(&self, v: &mut Violations) {
        v.required("identityPoolName", &self.identity_pool_name);
        if let Some(name) = &self.identity_pool_name {
            v.length("identityPoolName", name, 1, 128, false);
            v.pattern(
                "identityPoolName",
                name,
                POOL_NAME_PATTERN,
                all_nonempty(name, |c| is_word(c) || is_space(c) || "+=,.@-".contains(c)),
            );
        }
        v.required(
            "allowUnauthenticatedIdentities",
            &self.allow_unauthenticated_identities,
        );
        if let Some(providers) = &self.supported_login_providers {
            v.count("supportedLoginProviders", providers.len(), 0, 10);
            check_string_map(v, "supportedLoginProviders", providers, (1, 128), (1, 128));
            if providers
                .values()
                .any(|id| !all_nonempty(id, |c| is_word(c) || ".;_/-".contains(c)))
            {
                v.map_entries(
                    "supportedLoginProviders",
                    "values",
                    &format!("Member must satisfy regular expression pattern: {IDP_ID_PATTERN}"),
                );
            }
        }
        if let Some(name) = &self.developer_provider_name {
            v.length("developerProviderName", name, 1, 128, false);
            v.pattern(
                "developerProviderName",
                name,
                DEVELOPER_PROVIDER_PATTERN,
                all_nonempty(name, |c| is_word(c) || "._-".contains(c)),
            );
        }
        check_arn_list(
            v,
            "openIdConnectProviderARNs",
            &self.open_id_connect_provider_arns,
        );
        check_arn_list(v, "samlProviderARNs", &self.saml_provider_arns);
        for provider in self.cognito_identity_providers.iter().flatten() {
            if let Some(name) = &provider.provider_name {
                v.length(
                    "cognitoIdentityProviders.member.providerName",
                    name,
                    1,
                    128,
                    false,
                );
                v.pattern(
                    "cognitoIdentityProviders.member.providerName",
                    name,
                    CIP_NAME_PATTERN,
                    all_nonempty(name, |c| is_word(c) || "._:/-".contains(c)),
                );
            }
            if let Some(client) = &provider.client_id {
                v.length(
                    "cognitoIdentityProviders.member.clientId",
                    client,
                    1,
                    128,
                    false,
                );
                v.pattern(
                    "cognitoIdentityProviders.member.clientId",
                    client,
                    CLIENT_ID_PATTERN,
                    all_nonempty(client, is_word),
                );
            }
        }
        if let Some(tags) = &self.identity_pool_tags {
            check_string_map(v, "identityPoolTags", tags, (1, 128), (0, 256));
        }
    }

    /// The domain's view; call only after validation passed.
    pub fn into_spec(self) -> IdentityPoolSpec {
        IdentityPoolSpec {
            name: self.identity_pool_name.unwrap_or_default(),
            allow_unauthenticated_identities: self
                .allow_unauthenticated_identities
                .unwrap_or_default(),
            allow_classic_flow: self.allow_classic_flow,
            supported_login_providers: self.supported_login_providers,
            developer_provider_name: self.developer_provider_name,
            open_id_connect_provider_arns: self.open_id_connect_provider_arns,
            cognito_identity_providers: self.cognito_identity_providers.map(|list| {
                list.into_iter()
                    .map(|p| CognitoIdentityProvider {
                        provider_name: p.provider_name,
                        client_id: p.client_id,
                        server_side_token_check: p.server_side_token_check,
                    })
                    .collect()
            }),
            saml_provider_arns: self.saml_provider_arns,
            tags: self.identity_pool_tags,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct CreateIdentityPoolInput {
    #[serde(flatten)]
    pub config: IdentityPoolConfigShape,
}

impl Validate for CreateIdentityPoolInput {
    fn violations(&self) -> Violations {
        let mut v = Violations::new();
        self.config.check(&mut v);
        v
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct UpdateIdentityPoolInput {
    #[serde(rename = "IdentityPoolId")]
    pub identity_pool_id: Option<String>,
    #[serde(flatten)]
    pub config: IdentityPoolConfigShape,
}

impl Validate for UpdateIdentityPoolInput {
    fn violations(&self) -> Violations {
        let mut v = Violations::new();
        check_pool_id(&mut v, &self.identity_pool_id);
        self.config.check(&mut v);
        v
    }
}

/// Operations whose only input is a pool id.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IdentityPoolIdInput {
    pub identity_pool_id: Option<String>,
}

impl Validate for IdentityPoolIdInput {
    fn violations(&self) -> Violations {
        let mut v = Violations::new();
        check_pool_id(&mut v, &self.identity_pool_id);
        v
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct IdentityPoolShape {
    pub identity_pool_id: String,
    pub identity_pool_name: String,
    pub allow_unauthenticated_identities: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allow_classic_flow: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supported_login_providers: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub developer_provider_name: Option<String>,
    #[serde(
        rename = "OpenIdConnectProviderARNs",
        skip_serializing_if = "Option::is_none"
    )]
    pub open_id_connect_provider_arns: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cognito_identity_providers: Option<Vec<CognitoIdentityProviderShape>>,
    #[serde(rename = "SamlProviderARNs", skip_serializing_if = "Option::is_none")]
    pub saml_provider_arns: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_pool_tags: Option<BTreeMap<String, String>>,
}

impl From<&IdentityPool> for IdentityPoolShape {
    fn from(pool: &IdentityPool) -> Self {
        let spec = &pool.spec;
        Self {
            identity_pool_id: pool.id.clone(),
            identity_pool_name: spec.name.clone(),
            allow_unauthenticated_identities: spec.allow_unauthenticated_identities,
            allow_classic_flow: spec.allow_classic_flow,
            supported_login_providers: spec.supported_login_providers.clone(),
            developer_provider_name: spec.developer_provider_name.clone(),
            open_id_connect_provider_arns: spec.open_id_connect_provider_arns.clone(),
            cognito_identity_providers: spec.cognito_identity_providers.as_ref().map(|list| {
                list.iter()
                    .map(|p| CognitoIdentityProviderShape {
                        provider_name: p.provider_name.clone(),
                        client_id: p.client_id.clone(),
                        server_side_token_check: p.server_side_token_check,
                    })
                    .collect()
            }),
            saml_provider_arns: spec.saml_provider_arns.clone(),
            identity_pool_tags: spec.tags.clone(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListIdentityPoolsInput {
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
}

impl Validate for ListIdentityPoolsInput {
    fn violations(&self) -> Violations {
        let mut v = Violations::new();
        check_max_results(&mut v, &self.max_results, true);
        check_next_token(&mut v, &self.next_token);
        v
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct IdentityPoolShortDescription {
    pub identity_pool_id: String,
    pub identity_pool_name: String,
}

impl From<PoolSummary> for IdentityPoolShortDescription {
    fn from(p: PoolSummary) -> Self {
        Self {
            identity_pool_id: p.id,
            identity_pool_name: p.name,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListIdentityPoolsOutput {
    pub identity_pools: Vec<IdentityPoolShortDescription>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

// --- identities -----------------------------------------------------------------------------

#[derive(Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetOpenIdTokenForDeveloperIdentityInput {
    pub identity_pool_id: Option<String>,
    pub identity_id: Option<String>,
    pub logins: Option<BTreeMap<String, String>>,
    pub principal_tags: Option<BTreeMap<String, String>>,
    pub token_duration: Option<i64>,
}

impl Validate for GetOpenIdTokenForDeveloperIdentityInput {
    fn violations(&self) -> Violations {
        let mut v = Violations::new();
        check_pool_id(&mut v, &self.identity_pool_id);
        if let Some(id) = &self.identity_id {
            check_id(&mut v, "identityId", id);
        }
        v.required("logins", &self.logins);
        if let Some(logins) = &self.logins {
            v.count("logins", logins.len(), 0, 10);
            check_string_map(&mut v, "logins", logins, (1, 128), (1, 50000));
        }
        if let Some(tags) = &self.principal_tags {
            v.count("principalTags", tags.len(), 0, 50);
            check_string_map(&mut v, "principalTags", tags, (1, 128), (1, 256));
        }
        if let Some(duration) = self.token_duration {
            v.range("tokenDuration", duration, 1, 86400);
        }
        v
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetOpenIdTokenForDeveloperIdentityOutput {
    pub identity_id: String,
    pub token: String,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LookupDeveloperIdentityInput {
    pub identity_pool_id: Option<String>,
    pub identity_id: Option<String>,
    pub developer_user_identifier: Option<String>,
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
}

impl Validate for LookupDeveloperIdentityInput {
    fn violations(&self) -> Violations {
        let mut v = Violations::new();
        check_pool_id(&mut v, &self.identity_pool_id);
        if let Some(id) = &self.identity_id {
            check_id(&mut v, "identityId", id);
        }
        if let Some(user) = &self.developer_user_identifier {
            v.length("developerUserIdentifier", user, 1, 1024, true);
        }
        check_max_results(&mut v, &self.max_results, false);
        check_next_token(&mut v, &self.next_token);
        v
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct LookupDeveloperIdentityOutput {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_id: Option<String>,
    pub developer_user_identifier_list: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeIdentityInput {
    pub identity_id: Option<String>,
}

impl Validate for DescribeIdentityInput {
    fn violations(&self) -> Violations {
        let mut v = Violations::new();
        v.required("identityId", &self.identity_id);
        if let Some(id) = &self.identity_id {
            check_id(&mut v, "identityId", id);
        }
        v
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct IdentityDescription {
    pub identity_id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub logins: Vec<String>,
    pub creation_date: i64,
    pub last_modified_date: i64,
}

impl From<IdentityRecord> for IdentityDescription {
    fn from(i: IdentityRecord) -> Self {
        Self {
            identity_id: i.identity_id,
            logins: i.logins,
            creation_date: i.created_at,
            last_modified_date: i.updated_at,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListIdentitiesInput {
    pub identity_pool_id: Option<String>,
    pub max_results: Option<i64>,
    pub next_token: Option<String>,
    pub hide_disabled: Option<bool>,
}

impl Validate for ListIdentitiesInput {
    fn violations(&self) -> Violations {
        let mut v = Violations::new();
        check_pool_id(&mut v, &self.identity_pool_id);
        check_max_results(&mut v, &self.max_results, true);
        check_next_token(&mut v, &self.next_token);
        v
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListIdentitiesOutput {
    pub identity_pool_id: String,
    pub identities: Vec<IdentityDescription>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Empty {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regional_ids() {
        assert!(is_regional_id(
            "us-east-1:0f1e2d3c-aaaa-4bbb-8ccc-0123456789ab"
        ));
        assert!(!is_regional_id("us-east-1"));
        assert!(!is_regional_id("us-east-1:XYZ"));
        assert!(!is_regional_id(":abc"));
        assert!(!is_regional_id("us east:abc"));
        assert!(!is_regional_id("a:b:c"));
    }

    #[test]
    fn pool_name_and_required_members() {
        let input: CreateIdentityPoolInput =
            serde_json::from_str(r#"{"IdentityPoolName":"bad/name"}"#).unwrap();
        let message = input.violations().message().unwrap();
        assert!(
            message.starts_with("2 validation errors detected: "),
            "{message}"
        );
        assert!(message.contains(
            r"Value 'bad/name' at 'identityPoolName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w\s+=,.@-]+"
        ));
        assert!(message.contains("Value null at 'allowUnauthenticatedIdentities'"));
    }

    #[test]
    fn token_duration_and_logins() {
        let input: GetOpenIdTokenForDeveloperIdentityInput = serde_json::from_str(
            r#"{"IdentityPoolId":"us-east-1:abc","Logins":{"p":""},"TokenDuration":86401}"#,
        )
        .unwrap();
        let message = input.violations().message().unwrap();
        assert!(message.contains("Member must have value less than or equal to 86400"));
        assert!(message.contains("Map values must satisfy constraint"));
    }
}
