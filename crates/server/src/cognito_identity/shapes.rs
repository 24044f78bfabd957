//! Cognito Identity's request and response shapes (service model 2014-06-30) and their
//! constraints, each declared once. Required members are `Option`s so that a missing one is
//! reported as AWS reports it ("Member must not be null") rather than as a parse error.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tegata_core::cognito_identity::{
    AmbiguousRoleResolution, CognitoIdentityProvider, IdentityPool, IdentityPoolSpec,
    IdentityRecord, MappingRule, MatchType, PoolRoles, PoolSummary, RoleMapping, RoleMappingType,
};
use tegata_core::sts::credentials::TemporaryCredentials;

use crate::validate::{Pattern, Text, Validate, Violations};

// --- the model's constraints ----------------------------------------------------------------

static REGIONAL_ID: Pattern = Pattern::new(r"[\w-]+:[0-9a-f-]+");
static POOL_NAME: Pattern = Pattern::new(r"[\w\s+=,.@-]+");
static DEVELOPER_PROVIDER: Pattern = Pattern::new(r"[\w._-]+");
static IDP_ID: Pattern = Pattern::new(r"[\w.;_/-]+");
static CIP_NAME: Pattern = Pattern::new(r"[\w._:/-]+");
static CLIENT_ID: Pattern = Pattern::new(r"[\w_]+");
static PAGINATION_KEY: Pattern = Pattern::new(r"[\S]+");
static ROLE_TYPE_PATTERN: Pattern = Pattern::new(r"(un)?authenticated");
static CLAIM_NAME_PATTERN: Pattern = Pattern::new(r"[\p{L}\p{M}\p{S}\p{N}\p{P}]+");
static ACCOUNT_ID_PATTERN: Pattern = Pattern::new(r"\d+");

/// `IdentityPoolId` and `IdentityId`.
static ID: Text = Text::new(1, 55).pattern(&REGIONAL_ID);
static IDENTITY_POOL_NAME: Text = Text::new(1, 128).pattern(&POOL_NAME);
static DEVELOPER_PROVIDER_NAME: Text = Text::new(1, 128).pattern(&DEVELOPER_PROVIDER);
static IDENTITY_PROVIDER_NAME: Text = Text::new(1, 128);
static IDENTITY_PROVIDER_ID: Text = Text::new(1, 128).pattern(&IDP_ID);
/// A login's value: a token, or a developer user id (the model's sensitive `IdentityProviderToken`).
static IDENTITY_PROVIDER_TOKEN: Text = Text::new(1, 50_000).sensitive();
static COGNITO_PROVIDER_NAME: Text = Text::new(1, 128).pattern(&CIP_NAME);
static COGNITO_CLIENT_ID: Text = Text::new(1, 128).pattern(&CLIENT_ID);
static ARN: Text = Text::new(20, 2048);
static TAG_KEY: Text = Text::new(1, 128);
static TAG_VALUE: Text = Text::new(0, 256);
static PRINCIPAL_TAG_KEY: Text = Text::new(1, 128);
static PRINCIPAL_TAG_VALUE: Text = Text::new(1, 256);
static DEVELOPER_USER_IDENTIFIER: Text = Text::new(1, 1024).sensitive();
static NEXT_TOKEN: Text = Text::new(1, 65_535).pattern(&PAGINATION_KEY);
static ROLE_TYPE: Text = Text::new(1, 128).pattern(&ROLE_TYPE_PATTERN);
static CLAIM_NAME: Text = Text::new(1, 64).pattern(&CLAIM_NAME_PATTERN);
static CLAIM_VALUE: Text = Text::new(1, 128);
static ACCOUNT_ID: Text = Text::new(1, 15).pattern(&ACCOUNT_ID_PATTERN);
/// `QueryLimit`.
const MAX_RESULTS: (i64, i64) = (1, 60);
/// `TokenDuration`: its largest value bounds how long a retired signing key keeps verifying.
const TOKEN_DURATION: (i64, i64) = (1, tegata_core::tokens::lifecycle::LONGEST_TOKEN_LIFETIME);

fn check_pool_id(v: &mut Violations, value: &Option<String>) {
    v.required_text("identityPoolId", value.as_deref(), &ID);
}

fn check_logins(v: &mut Violations, logins: Option<&BTreeMap<String, String>>) {
    if let Some(logins) = logins {
        v.count("logins", logins.len(), 0, 10);
        v.map_entries("logins", "keys", logins.keys(), &IDENTITY_PROVIDER_NAME);
        v.map_entries(
            "logins",
            "values",
            logins.values(),
            &IDENTITY_PROVIDER_TOKEN,
        );
    }
}

fn check_max_results(v: &mut Violations, value: Option<i64>, required: bool) {
    if required {
        v.required("maxResults", &value);
    }
    v.range("maxResults", value, MAX_RESULTS.0, MAX_RESULTS.1);
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
        v.required_text(
            "identityPoolName",
            self.identity_pool_name.as_deref(),
            &IDENTITY_POOL_NAME,
        );
        v.required(
            "allowUnauthenticatedIdentities",
            &self.allow_unauthenticated_identities,
        );
        if let Some(providers) = &self.supported_login_providers {
            v.count("supportedLoginProviders", providers.len(), 0, 10);
            v.map_entries(
                "supportedLoginProviders",
                "keys",
                providers.keys(),
                &IDENTITY_PROVIDER_NAME,
            );
            v.map_entries(
                "supportedLoginProviders",
                "values",
                providers.values(),
                &IDENTITY_PROVIDER_ID,
            );
        }
        v.text(
            "developerProviderName",
            self.developer_provider_name.as_deref(),
            &DEVELOPER_PROVIDER_NAME,
        );
        v.list_entries(
            "openIdConnectProviderARNs",
            self.open_id_connect_provider_arns.iter().flatten(),
            &ARN,
        );
        v.list_entries(
            "samlProviderARNs",
            self.saml_provider_arns.iter().flatten(),
            &ARN,
        );
        for provider in self.cognito_identity_providers.iter().flatten() {
            v.text(
                "cognitoIdentityProviders.member.providerName",
                provider.provider_name.as_deref(),
                &COGNITO_PROVIDER_NAME,
            );
            v.text(
                "cognitoIdentityProviders.member.clientId",
                provider.client_id.as_deref(),
                &COGNITO_CLIENT_ID,
            );
        }
        if let Some(tags) = &self.identity_pool_tags {
            v.map_entries("identityPoolTags", "keys", tags.keys(), &TAG_KEY);
            v.map_entries("identityPoolTags", "values", tags.values(), &TAG_VALUE);
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
    fn validate(&self, v: &mut Violations) {
        self.config.check(v);
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
    fn validate(&self, v: &mut Violations) {
        check_pool_id(v, &self.identity_pool_id);
        self.config.check(v);
    }
}

/// Operations whose only input is a pool id.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IdentityPoolIdInput {
    pub identity_pool_id: Option<String>,
}

impl Validate for IdentityPoolIdInput {
    fn validate(&self, v: &mut Violations) {
        check_pool_id(v, &self.identity_pool_id);
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
    fn validate(&self, v: &mut Violations) {
        check_max_results(v, self.max_results, true);
        v.text("nextToken", self.next_token.as_deref(), &NEXT_TOKEN);
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
    fn validate(&self, v: &mut Violations) {
        check_pool_id(v, &self.identity_pool_id);
        v.text("identityId", self.identity_id.as_deref(), &ID);
        v.required("logins", &self.logins);
        check_logins(v, self.logins.as_ref());
        if let Some(tags) = &self.principal_tags {
            v.count("principalTags", tags.len(), 0, 50);
            v.map_entries("principalTags", "keys", tags.keys(), &PRINCIPAL_TAG_KEY);
            v.map_entries(
                "principalTags",
                "values",
                tags.values(),
                &PRINCIPAL_TAG_VALUE,
            );
        }
        v.range(
            "tokenDuration",
            self.token_duration,
            TOKEN_DURATION.0,
            TOKEN_DURATION.1,
        );
    }
}

/// No `Debug`: the token is a credential.
#[derive(Serialize)]
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
    fn validate(&self, v: &mut Violations) {
        check_pool_id(v, &self.identity_pool_id);
        v.text("identityId", self.identity_id.as_deref(), &ID);
        v.text(
            "developerUserIdentifier",
            self.developer_user_identifier.as_deref(),
            &DEVELOPER_USER_IDENTIFIER,
        );
        check_max_results(v, self.max_results, false);
        v.text("nextToken", self.next_token.as_deref(), &NEXT_TOKEN);
    }
}

/// No `Debug`: developer user ids are the model's sensitive values.
#[derive(Serialize)]
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
    fn validate(&self, v: &mut Violations) {
        v.required_text("identityId", self.identity_id.as_deref(), &ID);
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
    fn validate(&self, v: &mut Violations) {
        check_pool_id(v, &self.identity_pool_id);
        check_max_results(v, self.max_results, true);
        v.text("nextToken", self.next_token.as_deref(), &NEXT_TOKEN);
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

// --- the enhanced and basic flows -----------------------------------------------------------

#[derive(Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetIdInput {
    pub account_id: Option<String>,
    pub identity_pool_id: Option<String>,
    pub logins: Option<BTreeMap<String, String>>,
}

impl Validate for GetIdInput {
    fn validate(&self, v: &mut Violations) {
        v.text("accountId", self.account_id.as_deref(), &ACCOUNT_ID);
        check_pool_id(v, &self.identity_pool_id);
        check_logins(v, self.logins.as_ref());
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetIdOutput {
    pub identity_id: String,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetOpenIdTokenInput {
    pub identity_id: Option<String>,
    pub logins: Option<BTreeMap<String, String>>,
}

impl Validate for GetOpenIdTokenInput {
    fn validate(&self, v: &mut Violations) {
        v.required_text("identityId", self.identity_id.as_deref(), &ID);
        check_logins(v, self.logins.as_ref());
    }
}

/// No `Debug`: the token is a credential.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetOpenIdTokenOutput {
    pub identity_id: String,
    pub token: String,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetCredentialsForIdentityInput {
    pub identity_id: Option<String>,
    pub logins: Option<BTreeMap<String, String>>,
    pub custom_role_arn: Option<String>,
}

impl Validate for GetCredentialsForIdentityInput {
    fn validate(&self, v: &mut Violations) {
        v.required_text("identityId", self.identity_id.as_deref(), &ID);
        check_logins(v, self.logins.as_ref());
        v.text("customRoleArn", self.custom_role_arn.as_deref(), &ARN);
    }
}

/// Cognito Identity's credentials: `SecretKey`, not STS's `SecretAccessKey`, and the
/// expiration in epoch seconds. No `Debug`: they are secrets.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CredentialsShape {
    pub access_key_id: String,
    pub secret_key: String,
    pub session_token: String,
    pub expiration: i64,
}

impl From<TemporaryCredentials> for CredentialsShape {
    fn from(c: TemporaryCredentials) -> Self {
        Self {
            access_key_id: c.access_key_id,
            secret_key: c.secret_access_key,
            session_token: c.session_token,
            expiration: c.expiration,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetCredentialsForIdentityOutput {
    pub identity_id: String,
    pub credentials: CredentialsShape,
}

// --- linking, merging, deleting -------------------------------------------------------------

#[derive(Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MergeDeveloperIdentitiesInput {
    pub source_user_identifier: Option<String>,
    pub destination_user_identifier: Option<String>,
    pub developer_provider_name: Option<String>,
    pub identity_pool_id: Option<String>,
}

impl Validate for MergeDeveloperIdentitiesInput {
    fn validate(&self, v: &mut Violations) {
        v.required_text(
            "sourceUserIdentifier",
            self.source_user_identifier.as_deref(),
            &DEVELOPER_USER_IDENTIFIER,
        );
        v.required_text(
            "destinationUserIdentifier",
            self.destination_user_identifier.as_deref(),
            &DEVELOPER_USER_IDENTIFIER,
        );
        v.required_text(
            "developerProviderName",
            self.developer_provider_name.as_deref(),
            &DEVELOPER_PROVIDER_NAME,
        );
        check_pool_id(v, &self.identity_pool_id);
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct IdentityIdOutput {
    pub identity_id: String,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UnlinkDeveloperIdentityInput {
    pub identity_id: Option<String>,
    pub identity_pool_id: Option<String>,
    pub developer_provider_name: Option<String>,
    pub developer_user_identifier: Option<String>,
}

impl Validate for UnlinkDeveloperIdentityInput {
    fn validate(&self, v: &mut Violations) {
        v.required_text("identityId", self.identity_id.as_deref(), &ID);
        check_pool_id(v, &self.identity_pool_id);
        v.required_text(
            "developerProviderName",
            self.developer_provider_name.as_deref(),
            &DEVELOPER_PROVIDER_NAME,
        );
        v.required_text(
            "developerUserIdentifier",
            self.developer_user_identifier.as_deref(),
            &DEVELOPER_USER_IDENTIFIER,
        );
    }
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UnlinkIdentityInput {
    pub identity_id: Option<String>,
    pub logins: Option<BTreeMap<String, String>>,
    pub logins_to_remove: Option<Vec<String>>,
}

impl Validate for UnlinkIdentityInput {
    fn validate(&self, v: &mut Violations) {
        v.required_text("identityId", self.identity_id.as_deref(), &ID);
        v.required("logins", &self.logins);
        check_logins(v, self.logins.as_ref());
        v.required("loginsToRemove", &self.logins_to_remove);
        v.list_entries(
            "loginsToRemove",
            self.logins_to_remove.iter().flatten(),
            &IDENTITY_PROVIDER_NAME,
        );
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteIdentitiesInput {
    pub identity_ids_to_delete: Option<Vec<String>>,
}

impl Validate for DeleteIdentitiesInput {
    fn validate(&self, v: &mut Violations) {
        v.required("identityIdsToDelete", &self.identity_ids_to_delete);
        if let Some(ids) = &self.identity_ids_to_delete {
            v.count("identityIdsToDelete", ids.len(), 1, 60);
            v.list_entries("identityIdsToDelete", ids.iter(), &ID);
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct UnprocessedIdentityIdShape {
    pub identity_id: String,
    pub error_code: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeleteIdentitiesOutput {
    pub unprocessed_identity_ids: Vec<UnprocessedIdentityIdShape>,
}

// --- tags and principal tag maps ------------------------------------------------------------

fn check_resource_arn(v: &mut Violations, arn: &Option<String>) {
    v.required_text("resourceArn", arn.as_deref(), &ARN);
}

fn check_tags(v: &mut Violations, member: &str, tags: Option<&BTreeMap<String, String>>) {
    if let Some(tags) = tags {
        v.count(member, tags.len(), 0, 50);
        v.map_entries(member, "keys", tags.keys(), &TAG_KEY);
        v.map_entries(member, "values", tags.values(), &TAG_VALUE);
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TagResourceInput {
    pub resource_arn: Option<String>,
    pub tags: Option<BTreeMap<String, String>>,
}

impl Validate for TagResourceInput {
    fn validate(&self, v: &mut Violations) {
        check_resource_arn(v, &self.resource_arn);
        v.required("tags", &self.tags);
        check_tags(v, "tags", self.tags.as_ref());
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UntagResourceInput {
    pub resource_arn: Option<String>,
    pub tag_keys: Option<Vec<String>>,
}

impl Validate for UntagResourceInput {
    fn validate(&self, v: &mut Violations) {
        check_resource_arn(v, &self.resource_arn);
        v.required("tagKeys", &self.tag_keys);
        v.list_entries("tagKeys", self.tag_keys.iter().flatten(), &TAG_KEY);
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListTagsForResourceInput {
    pub resource_arn: Option<String>,
}

impl Validate for ListTagsForResourceInput {
    fn validate(&self, v: &mut Violations) {
        check_resource_arn(v, &self.resource_arn);
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListTagsForResourceOutput {
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PrincipalTagAttributeMapInput {
    pub identity_pool_id: Option<String>,
    pub identity_provider_name: Option<String>,
    pub use_defaults: Option<bool>,
    pub principal_tags: Option<BTreeMap<String, String>>,
}

impl Validate for PrincipalTagAttributeMapInput {
    fn validate(&self, v: &mut Violations) {
        check_pool_id(v, &self.identity_pool_id);
        v.required_text(
            "identityProviderName",
            self.identity_provider_name.as_deref(),
            &IDENTITY_PROVIDER_NAME,
        );
        if let Some(tags) = &self.principal_tags {
            v.count("principalTags", tags.len(), 0, 50);
            v.map_entries("principalTags", "keys", tags.keys(), &PRINCIPAL_TAG_KEY);
            v.map_entries(
                "principalTags",
                "values",
                tags.values(),
                &PRINCIPAL_TAG_VALUE,
            );
        }
    }
}

/// SetPrincipalTagAttributeMap's and GetPrincipalTagAttributeMap's answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PrincipalTagAttributeMapOutput {
    pub identity_pool_id: String,
    pub identity_provider_name: String,
    pub use_defaults: bool,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub principal_tags: BTreeMap<String, String>,
}

// --- roles of a pool ------------------------------------------------------------------------

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct MappingRuleShape {
    pub claim: Option<String>,
    pub match_type: Option<String>,
    pub value: Option<String>,
    #[serde(rename = "RoleARN")]
    pub role_arn: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RulesConfigurationShape {
    pub rules: Option<Vec<MappingRuleShape>>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct RoleMappingShape {
    #[serde(rename = "Type")]
    pub mapping_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ambiguous_role_resolution: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rules_configuration: Option<RulesConfigurationShape>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SetIdentityPoolRolesInput {
    pub identity_pool_id: Option<String>,
    pub roles: Option<BTreeMap<String, String>>,
    pub role_mappings: Option<BTreeMap<String, RoleMappingShape>>,
}

impl Validate for SetIdentityPoolRolesInput {
    fn validate(&self, v: &mut Violations) {
        check_pool_id(v, &self.identity_pool_id);
        v.required("roles", &self.roles);
        if let Some(roles) = &self.roles {
            v.count("roles", roles.len(), 0, 2);
            v.map_entries("roles", "keys", roles.keys(), &ROLE_TYPE);
            v.map_entries("roles", "values", roles.values(), &ARN);
        }
        let Some(mappings) = &self.role_mappings else {
            return;
        };
        v.count("roleMappings", mappings.len(), 0, 10);
        v.map_entries(
            "roleMappings",
            "keys",
            mappings.keys(),
            &IDENTITY_PROVIDER_NAME,
        );
        for mapping in mappings.values() {
            let member = "roleMappings.value";
            v.required(&format!("{member}.type"), &mapping.mapping_type);
            v.one_of(
                &format!("{member}.type"),
                mapping.mapping_type.as_deref(),
                RoleMappingType::NAMES,
            );
            v.one_of(
                &format!("{member}.ambiguousRoleResolution"),
                mapping.ambiguous_role_resolution.as_deref(),
                AmbiguousRoleResolution::NAMES,
            );
            let Some(config) = &mapping.rules_configuration else {
                continue;
            };
            let rules_member = format!("{member}.rulesConfiguration.rules");
            v.required(&rules_member, &config.rules);
            let rules = config.rules.as_deref().unwrap_or_default();
            if config.rules.is_some() {
                v.count(&rules_member, rules.len(), 1, 400);
            }
            for rule in rules {
                let m = |name: &str| format!("{rules_member}.member.{name}");
                v.required_text(&m("claim"), rule.claim.as_deref(), &CLAIM_NAME);
                v.required(&m("matchType"), &rule.match_type);
                v.one_of(
                    &m("matchType"),
                    rule.match_type.as_deref(),
                    MatchType::NAMES,
                );
                v.required_text(&m("value"), rule.value.as_deref(), &CLAIM_VALUE);
                v.required_text(&m("roleARN"), rule.role_arn.as_deref(), &ARN);
            }
        }
    }
}

impl SetIdentityPoolRolesInput {
    /// The domain's view; call only after validation passed.
    pub fn into_roles(self) -> PoolRoles {
        let role_mappings = self
            .role_mappings
            .unwrap_or_default()
            .into_iter()
            .map(|(provider, mapping)| {
                // Validated: every name is one of the model's, and a mapping has a type.
                let mapping_type = mapping
                    .mapping_type
                    .as_deref()
                    .and_then(RoleMappingType::from_name)
                    .unwrap_or(RoleMappingType::Token);
                let ambiguous_role_resolution = mapping
                    .ambiguous_role_resolution
                    .as_deref()
                    .and_then(AmbiguousRoleResolution::from_name);
                let rules = mapping
                    .rules_configuration
                    .and_then(|c| c.rules)
                    .map(|rules| {
                        rules
                            .into_iter()
                            .map(|rule| MappingRule {
                                claim: rule.claim.unwrap_or_default(),
                                match_type: rule
                                    .match_type
                                    .as_deref()
                                    .and_then(MatchType::from_name)
                                    .unwrap_or(MatchType::Equals),
                                value: rule.value.unwrap_or_default(),
                                role_arn: rule.role_arn.unwrap_or_default(),
                            })
                            .collect()
                    });
                let mapping = RoleMapping {
                    mapping_type,
                    ambiguous_role_resolution,
                    rules,
                };
                (provider, mapping)
            })
            .collect();
        PoolRoles {
            roles: self.roles.unwrap_or_default(),
            role_mappings,
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct GetIdentityPoolRolesOutput {
    pub identity_pool_id: String,
    pub roles: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub role_mappings: BTreeMap<String, RoleMappingShape>,
}

impl From<&IdentityPool> for GetIdentityPoolRolesOutput {
    fn from(pool: &IdentityPool) -> Self {
        let role_mappings = pool
            .roles
            .role_mappings
            .iter()
            .map(|(provider, mapping)| {
                let shape = RoleMappingShape {
                    mapping_type: Some(mapping.mapping_type.name().to_owned()),
                    ambiguous_role_resolution: mapping
                        .ambiguous_role_resolution
                        .map(|r| r.name().to_owned()),
                    rules_configuration: mapping.rules.as_ref().map(|rules| {
                        RulesConfigurationShape {
                            rules: Some(
                                rules
                                    .iter()
                                    .map(|rule| MappingRuleShape {
                                        claim: Some(rule.claim.clone()),
                                        match_type: Some(rule.match_type.name().to_owned()),
                                        value: Some(rule.value.clone()),
                                        role_arn: Some(rule.role_arn.clone()),
                                    })
                                    .collect(),
                            ),
                        }
                    }),
                };
                (provider.clone(), shape)
            })
            .collect();
        Self {
            identity_pool_id: pool.id.clone(),
            roles: pool.roles.roles.clone(),
            role_mappings,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(input: &impl Validate) -> String {
        let mut v = Violations::new();
        input.validate(&mut v);
        v.message().unwrap_or_default()
    }

    #[test]
    fn every_pattern_compiles() {
        for pattern in [
            &REGIONAL_ID,
            &POOL_NAME,
            &DEVELOPER_PROVIDER,
            &IDP_ID,
            &CIP_NAME,
            &CLIENT_ID,
            &PAGINATION_KEY,
            &ROLE_TYPE_PATTERN,
            &CLAIM_NAME_PATTERN,
            &ACCOUNT_ID_PATTERN,
        ] {
            let _ = pattern.matches("");
        }
    }

    #[test]
    fn regional_ids() {
        for good in ["us-east-1:0f1e2d3c-aaaa-4bbb-8ccc-0123456789ab", "a:0"] {
            assert!(REGIONAL_ID.matches(good), "{good}");
        }
        for bad in ["us-east-1", "us-east-1:XYZ", ":abc", "us east:abc", "a:b:c"] {
            assert!(!REGIONAL_ID.matches(bad), "{bad}");
        }
    }

    #[test]
    fn pool_name_and_required_members() {
        let input: CreateIdentityPoolInput =
            serde_json::from_str(r#"{"IdentityPoolName":"bad/name"}"#).unwrap();
        let message = message(&input);
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
        let message = message(&input);
        assert!(message.contains("Member must have value less than or equal to 86400"));
        assert!(message.contains("Map values must satisfy constraint"));
    }
}
