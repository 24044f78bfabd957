//! Identity pools and identities as the domain sees them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::UnixSeconds;

/// A user-pool provider configured on an identity pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CognitoIdentityProvider {
    pub provider_name: Option<String>,
    pub client_id: Option<String>,
    pub server_side_token_check: Option<bool>,
}

/// The configurable part of an identity pool: what CreateIdentityPool takes and what
/// UpdateIdentityPool replaces wholesale.
///
/// Optional lists keep the difference between "not given" (`None`, omitted from responses) and
/// "given empty", because the real service echoes exactly what it was given.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct IdentityPoolSpec {
    pub name: String,
    pub allow_unauthenticated_identities: bool,
    /// `None` when never set: the real service then still allows the basic flow (aws-cli #7652).
    pub allow_classic_flow: Option<bool>,
    pub supported_login_providers: Option<BTreeMap<String, String>>,
    pub developer_provider_name: Option<String>,
    pub open_id_connect_provider_arns: Option<Vec<String>>,
    pub cognito_identity_providers: Option<Vec<CognitoIdentityProvider>>,
    pub saml_provider_arns: Option<Vec<String>>,
    pub tags: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityPool {
    pub id: String,
    pub spec: IdentityPoolSpec,
    /// Set by SetIdentityPoolRoles, apart from the spec: UpdateIdentityPool replaces the spec
    /// whole and leaves the roles alone, as AWS does.
    pub roles: PoolRoles,
    /// Set by SetPrincipalTagAttributeMap, by identity provider name.
    pub principal_tag_maps: BTreeMap<String, PrincipalTagMap>,
    pub created_at: UnixSeconds,
    pub updated_at: UnixSeconds,
}

/// The roles of a pool (SetIdentityPoolRoles), stored as one JSON value.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PoolRoles {
    /// `authenticated` and `unauthenticated` → role ARN.
    #[serde(default)]
    pub roles: BTreeMap<String, String>,
    /// Login provider → how the role of that provider's users is chosen.
    #[serde(default)]
    pub role_mappings: BTreeMap<String, RoleMapping>,
}

impl PoolRoles {
    pub fn authenticated(&self) -> Option<&str> {
        self.roles.get("authenticated").map(String::as_str)
    }

    pub fn unauthenticated(&self) -> Option<&str> {
        self.roles.get("unauthenticated").map(String::as_str)
    }
}

/// Which claims of a provider's tokens become principal tags (SetPrincipalTagAttributeMap).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PrincipalTagMap {
    /// The provider's default map (AWS: the user name and client id claims).
    pub use_defaults: bool,
    /// Tag key → claim name.
    pub principal_tags: BTreeMap<String, String>,
}

/// An enum of the service model: its variants are its values on the wire, in the model's order
/// (`NAMES`, which validation messages quote), read by `from_name` and written by `name`.
macro_rules! model_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            pub const NAMES: &'static [&'static str] = &[$(stringify!($variant)),+];

            pub fn name(self) -> &'static str {
                match self {
                    $(Self::$variant => stringify!($variant)),+
                }
            }

            pub fn from_name(name: &str) -> Option<Self> {
                match name {
                    $(stringify!($variant) => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }
    };
}

model_enum!(RoleMappingType { Token, Rules });
model_enum!(AmbiguousRoleResolution {
    AuthenticatedRole,
    Deny
});
model_enum!(MatchType {
    Equals,
    Contains,
    StartsWith,
    NotEqual
});

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappingRule {
    pub claim: String,
    pub match_type: MatchType,
    pub value: String,
    pub role_arn: String,
}

impl MappingRule {
    /// Whether the rule matches a claim's value. A claim the token lacks matches nothing,
    /// NotEqual included: AWS skips a rule whose claim is absent.
    pub fn matches(&self, claim: Option<&str>) -> bool {
        let Some(actual) = claim else { return false };
        match self.match_type {
            MatchType::Equals => actual == self.value,
            MatchType::NotEqual => actual != self.value,
            MatchType::StartsWith => actual.starts_with(&self.value),
            MatchType::Contains => actual.contains(&self.value),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleMapping {
    #[serde(rename = "type")]
    pub mapping_type: RoleMappingType,
    pub ambiguous_role_resolution: Option<AmbiguousRoleResolution>,
    /// The rules of a `Rules` mapping, in order: the first that matches picks the role.
    pub rules: Option<Vec<MappingRule>>,
}

impl IdentityPool {
    /// The pool's region: the part of its id before the `:`.
    pub fn region(&self) -> &str {
        self.id.split_once(':').map_or("", |(region, _)| region)
    }

    pub fn arn(&self, account_id: &str) -> String {
        format!(
            "arn:aws:cognito-identity:{}:{account_id}:identitypool/{}",
            self.region(),
            self.id
        )
    }

    /// Whether `provider` is a login provider configured on this pool other than the developer
    /// provider (public providers, OIDC providers, user pools, SAML).
    pub fn has_external_provider(&self, provider: &str) -> bool {
        let spec = &self.spec;
        spec.supported_login_providers
            .as_ref()
            .is_some_and(|m| m.contains_key(provider))
            || spec
                .open_id_connect_provider_arns
                .as_ref()
                .is_some_and(|v| {
                    v.iter()
                        .any(|arn| arn.ends_with(&format!("oidc-provider/{provider}")))
                })
            || spec.cognito_identity_providers.as_ref().is_some_and(|v| {
                v.iter()
                    .any(|p| p.provider_name.as_deref() == Some(provider))
            })
            || spec
                .saml_provider_arns
                .as_ref()
                .is_some_and(|v| v.iter().any(|arn| arn == provider))
    }
}

/// The pool tag that turns on tegata's one extension of identity pools: with the value `true`,
/// the enhanced flow applies a `Rules` role mapping keyed by the pool's developer provider to
/// developer identities, which AWS always gives the authenticated role. A tag, so that every
/// AWS client can set it (CreateIdentityPool's IdentityPoolTags, TagResource) and
/// DescribeIdentityPool shows it.
pub const DEVELOPER_ROLE_MAPPINGS_TAG: &str = "tegata:developer-role-mappings";

impl IdentityPool {
    /// Whether the pool opted in to role mappings for developer identities.
    pub fn maps_developer_roles(&self) -> bool {
        self.spec
            .tags
            .as_ref()
            .and_then(|tags| tags.get(DEVELOPER_ROLE_MAPPINGS_TAG))
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// Whether `provider` may key a RoleMapping: a configured external provider, a user pool
    /// provider followed by `:` and its client id (as AWS names user pool mappings), or, when
    /// the pool opted in, its developer provider.
    pub fn is_role_mapping_provider(&self, provider: &str) -> bool {
        let developer = self.maps_developer_roles()
            && self.spec.developer_provider_name.as_deref() == Some(provider);
        // An OpenID Connect provider's mapping may be keyed by its URL or by its ARN.
        let oidc_arn = self
            .spec
            .open_id_connect_provider_arns
            .iter()
            .flatten()
            .any(|arn| arn == provider);
        developer
            || oidc_arn
            || self.has_external_provider(provider)
            || self
                .spec
                .cognito_identity_providers
                .iter()
                .flatten()
                .any(|p| match (&p.provider_name, &p.client_id) {
                    (Some(name), Some(client)) => provider == format!("{name}:{client}"),
                    _ => false,
                })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolSummary {
    pub id: String,
    pub name: String,
}

/// An identity and the names of the providers it is linked to (never the users' keys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityRecord {
    pub identity_id: String,
    pub pool_id: String,
    pub logins: Vec<String>,
    pub created_at: UnixSeconds,
    pub updated_at: UnixSeconds,
    pub disabled: bool,
}
