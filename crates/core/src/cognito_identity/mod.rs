//! Cognito Identity's operations, one method each, named after the AWS operation.
//!
//! Inputs arrive here already checked against the service model's shape constraints (lengths,
//! patterns, ranges) by the protocol layer; what is checked here is what needs the stored state:
//! does the pool exist, is this its developer provider, is the user already linked elsewhere.

mod error;
mod flows;
mod linking;
mod model;
mod pool_tags;
mod roles;

use std::collections::BTreeMap;
use std::sync::Arc;

pub use error::CognitoIdentityError;
pub use flows::{IdentityCredentials, OPEN_ID_TOKEN_SECONDS};
pub use linking::{MAX_LOGINS_PER_IDENTITY, UnprocessedIdentity};
pub use model::{
    AmbiguousRoleResolution, CognitoIdentityProvider, DEVELOPER_ROLE_MAPPINGS_TAG, IdentityPool,
    IdentityPoolSpec, IdentityRecord, MappingRule, MatchType, PoolRoles, PoolSummary,
    PrincipalTagMap, RoleMapping, RoleMappingType,
};
pub use pool_tags::MAX_TAGS_PER_POOL;

use crate::deployment::Deployment;
use crate::pagination::{self, Page};
use crate::random::Randomness;
use crate::store::{LinkOutcome, Login, Store};
use crate::sts::Sts;
use crate::tokens::TokenIssuer;
use crate::tokens::claims::{self, OpenIdClaims, SessionTagsClaim};
use crate::{UnixSeconds, ids};

type Result<T, E = CognitoIdentityError> = std::result::Result<T, E>;

/// The Logins key under which a Cognito-issued token is presented (enhanced flow only).
pub const COGNITO_LOGIN_PROVIDER: &str = "cognito-identity.amazonaws.com";

/// AWS's fixed quota of identity pools per account and region.
pub const DEFAULT_MAX_IDENTITY_POOLS: u64 = 1000;

/// How often a pool update is computed again when other writers came first.
const POOL_UPDATE_ATTEMPTS: usize = 8;

/// Default and bounds of `TokenDuration`, in seconds.
pub const DEFAULT_TOKEN_DURATION: i64 = 900;

pub struct GetOpenIdTokenForDeveloperIdentityInput {
    pub identity_pool_id: String,
    pub identity_id: Option<String>,
    pub logins: BTreeMap<String, String>,
    pub principal_tags: BTreeMap<String, String>,
    pub token_duration: Option<i64>,
}

// The developer user id is sensitive (it sits in the model's ProviderToken shape).
impl std::fmt::Debug for GetOpenIdTokenForDeveloperIdentityInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GetOpenIdTokenForDeveloperIdentityInput")
            .field("identity_pool_id", &self.identity_pool_id)
            .field("identity_id", &self.identity_id)
            .field("login_providers", &self.logins.keys().collect::<Vec<_>>())
            .field("token_duration", &self.token_duration)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, PartialEq, Eq)]
pub struct OpenIdToken {
    pub identity_id: String,
    pub token: String,
}

// The token is a credential: a Debug rendering names the identity only.
impl std::fmt::Debug for OpenIdToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenIdToken")
            .field("identity_id", &self.identity_id)
            .finish_non_exhaustive()
    }
}

pub struct LookupDeveloperIdentityInput {
    pub identity_pool_id: String,
    pub identity_id: Option<String>,
    pub developer_user_identifier: Option<String>,
    pub max_results: Option<u32>,
    pub next_token: Option<String>,
}

/// No `Debug`: developer user ids are the model's sensitive values.
#[derive(Clone, PartialEq, Eq)]
pub struct LookupDeveloperIdentityOutput {
    pub identity_id: Option<String>,
    pub developer_user_identifiers: Vec<String>,
    pub next_token: Option<String>,
}

pub struct CognitoIdentity {
    store: Arc<dyn Store>,
    deployment: Arc<Deployment>,
    issuer: Arc<TokenIssuer>,
    /// Makes the enhanced flow's sessions, with the same trust policy evaluation as
    /// AssumeRoleWithWebIdentity.
    sts: Arc<Sts>,
    max_identity_pools: u64,
}

fn pool_not_found(pool_id: &str) -> CognitoIdentityError {
    CognitoIdentityError::ResourceNotFound(format!("IdentityPool '{pool_id}' not found."))
}

fn unsupported_developer_provider() -> CognitoIdentityError {
    CognitoIdentityError::NotAuthorized(
        "This identity pool does not support the specified developer provider.".to_owned(),
    )
}

fn identity_not_found(identity_id: &str) -> CognitoIdentityError {
    CognitoIdentityError::ResourceNotFound(format!("Identity '{identity_id}' not found."))
}

impl CognitoIdentity {
    pub fn new(
        store: Arc<dyn Store>,
        deployment: Arc<Deployment>,
        issuer: Arc<TokenIssuer>,
        sts: Arc<Sts>,
        max_identity_pools: u64,
    ) -> Self {
        Self {
            store,
            deployment,
            issuer,
            sts,
            max_identity_pools,
        }
    }

    /// Refuse a pool id of another region than the one a request was signed for, as not found:
    /// AWS's regions are separate services, and tegata answers them all on one endpoint.
    /// Unsigned requests name no region, and are not checked.
    pub fn require_pool_region(&self, pool_id: &str, region: Option<&str>) -> Result<()> {
        match region {
            Some(region) if !in_region(pool_id, region) => Err(pool_not_found(pool_id)),
            _ => Ok(()),
        }
    }

    /// As [`Self::require_pool_region`], for an identity id.
    pub fn require_identity_region(&self, identity_id: &str, region: Option<&str>) -> Result<()> {
        match region {
            Some(region) if !in_region(identity_id, region) => Err(identity_not_found(identity_id)),
            _ => Ok(()),
        }
    }

    async fn pool(&self, pool_id: &str) -> Result<IdentityPool> {
        self.store
            .identity_pool(pool_id)
            .await?
            .ok_or_else(|| pool_not_found(pool_id))
    }

    /// A new pool in `region` (the region the request was signed for: pool ids carry it).
    pub async fn create_identity_pool(
        &self,
        region: &str,
        spec: IdentityPoolSpec,
        now: UnixSeconds,
        rng: &dyn Randomness,
    ) -> Result<IdentityPool> {
        if self.store.count_identity_pools().await? >= self.max_identity_pools {
            return Err(CognitoIdentityError::LimitExceeded(format!(
                "The maximum number of identity pools ({}) has been reached.",
                self.max_identity_pools
            )));
        }
        let mut spec = spec;
        // The real service always reports tags, as an empty map when there are none.
        spec.tags.get_or_insert_with(BTreeMap::new);
        let pool = IdentityPool {
            id: ids::regional_id(region, rng),
            spec,
            roles: PoolRoles::default(),
            principal_tag_maps: BTreeMap::new(),
            created_at: now,
            updated_at: now,
        };
        self.store.insert_identity_pool(&pool).await?;
        Ok(pool)
    }

    pub async fn describe_identity_pool(&self, pool_id: &str) -> Result<IdentityPool> {
        self.pool(pool_id).await
    }

    /// A full replace, as AWS does it: every optional member left out of the request is reset.
    /// The developer provider name is the exception: AWS makes it immutable once set, so leaving
    /// it out keeps it and naming another one is refused.
    pub async fn update_identity_pool(
        &self,
        pool_id: &str,
        spec: IdentityPoolSpec,
        now: UnixSeconds,
    ) -> Result<IdentityPool> {
        self.change_pool(pool_id, now, |existing| {
            let mut spec = spec.clone();
            match (
                &existing.spec.developer_provider_name,
                &spec.developer_provider_name,
            ) {
                (Some(current), Some(requested)) if current != requested => {
                    return Err(CognitoIdentityError::InvalidParameter(
                        "DeveloperProviderName cannot be changed once it is set.".to_owned(),
                    ));
                }
                (Some(current), None) => spec.developer_provider_name = Some(current.clone()),
                _ => {}
            }
            // Tags are managed by TagResource/UntagResource; UpdateIdentityPool leaves them
            // alone unless it names them.
            if spec.tags.is_none() {
                spec.tags = existing.spec.tags.clone();
            }
            Ok(spec)
        })
        .await
    }

    /// Read a pool, compute its new configuration from it, and write that back only if nobody
    /// changed the configuration meanwhile (else read again; a few times, then
    /// ConcurrentModificationException): a TagResource and an UpdateIdentityPool arriving
    /// together must not undo each other.
    pub(super) async fn change_pool(
        &self,
        pool_id: &str,
        now: UnixSeconds,
        change: impl Fn(&IdentityPool) -> Result<IdentityPoolSpec>,
    ) -> Result<IdentityPool> {
        for _ in 0..POOL_UPDATE_ATTEMPTS {
            let existing = self.pool(pool_id).await?;
            let updated = IdentityPool {
                spec: change(&existing)?,
                updated_at: now,
                ..existing.clone()
            };
            if self
                .store
                .replace_identity_pool(&existing, &updated)
                .await?
            {
                return Ok(updated);
            }
        }
        Err(CognitoIdentityError::ConcurrentModification(
            "The identity pool was changed by another request; retry.".to_owned(),
        ))
    }

    /// DeleteIdentityPool: the pool, its identities, and (refused from `now` on) the
    /// credentials and tokens issued to them.
    pub async fn delete_identity_pool(&self, pool_id: &str, now: UnixSeconds) -> Result<()> {
        if self.store.identity_pool(pool_id).await?.is_none() {
            return Err(pool_not_found(pool_id));
        }
        self.sts.revocations().revoke_pool(pool_id, now).await?;
        if self.store.delete_identity_pool(pool_id).await? {
            Ok(())
        } else {
            Err(pool_not_found(pool_id))
        }
    }

    pub async fn list_identity_pools(
        &self,
        max_results: u32,
        next_token: Option<&str>,
    ) -> Result<Page<PoolSummary>> {
        let after = next_token.map(pagination::decode_token).transpose()?;
        let rows = self
            .store
            .list_identity_pools(after.as_deref(), max_results + 1)
            .await?;
        Ok(pagination::paginate(rows, max_results as usize, |p| {
            p.id.clone()
        }))
    }

    pub async fn get_open_id_token_for_developer_identity(
        &self,
        input: GetOpenIdTokenForDeveloperIdentityInput,
        now: UnixSeconds,
        rng: &dyn Randomness,
    ) -> Result<OpenIdToken> {
        // Most calls name one login, of a user seen before: read the pool and that login's
        // identity together, and check the login against the pool's provider afterwards.
        let (pool, linked) = match (&input.identity_id, single_login(&input.logins)) {
            (None, Some(login)) => self
                .store
                .identity_pool_with_login(&input.identity_pool_id, login)
                .await?
                .ok_or_else(|| pool_not_found(&input.identity_pool_id))?,
            _ => (self.pool(&input.identity_pool_id).await?, None),
        };
        let (provider, developer_user_id) = developer_login(&pool, &input.logins)?;
        let login = Login {
            provider,
            user_key: developer_user_id,
        };

        let identity_id = match &input.identity_id {
            None => match linked {
                Some(id) => id,
                None => {
                    let candidate = ids::regional_id(pool.region(), rng);
                    let (id, _created) = self
                        .store
                        .find_or_create_identity(&pool.id, login, &candidate, now)
                        .await?;
                    id
                }
            },
            Some(identity_id) => {
                // A login already linked to the identity takes no room.
                let linked_here = self
                    .store
                    .identity_of_login(&pool.id, login.clone())
                    .await?
                    .as_deref()
                    == Some(identity_id.as_str());
                if !linked_here {
                    self.check_room_for_a_login(identity_id).await?;
                }
                match self
                    .store
                    .link_login(&pool.id, identity_id, login, now)
                    .await?
                {
                    LinkOutcome::Linked => identity_id.clone(),
                    LinkOutcome::IdentityNotFound => return Err(identity_not_found(identity_id)),
                    LinkOutcome::AlreadyLinkedElsewhere(_) => {
                        return Err(CognitoIdentityError::DeveloperUserAlreadyRegistered(
                            "The provided developer user identifier is already registered with \
                             Cognito under a different identity ID."
                                .to_owned(),
                        ));
                    }
                }
            }
        };

        let duration = input.token_duration.unwrap_or(DEFAULT_TOKEN_DURATION);
        let claims = OpenIdClaims {
            sub: identity_id.clone(),
            aud: pool.id.clone(),
            amr: claims::developer_amr(provider, &pool.id, developer_user_id),
            iss: self.deployment.issuer.clone(),
            identity_pool_arn: pool.arn(&self.deployment.account_id),
            exp: now + duration,
            iat: now,
            tags: SessionTagsClaim::from_principal_tags(&input.principal_tags),
        };
        let token = self.issuer.sign(&claims).await?;
        Ok(OpenIdToken { identity_id, token })
    }

    /// Refuse to link a 21st login to an identity (AWS's limit). Counted before the link, not
    /// with it: two links racing for the last place may both get it.
    pub(super) async fn check_room_for_a_login(&self, identity_id: &str) -> Result<()> {
        if self.store.login_count(identity_id).await? >= linking::MAX_LOGINS_PER_IDENTITY {
            return Err(CognitoIdentityError::ResourceConflict(format!(
                "An identity has at most {} logins.",
                linking::MAX_LOGINS_PER_IDENTITY
            )));
        }
        Ok(())
    }

    pub async fn lookup_developer_identity(
        &self,
        input: LookupDeveloperIdentityInput,
    ) -> Result<LookupDeveloperIdentityOutput> {
        let pool = self.pool(&input.identity_pool_id).await?;
        let Some(provider) = pool.spec.developer_provider_name.clone() else {
            return Err(CognitoIdentityError::ResourceNotFound(format!(
                "IdentityPool '{}' has no developer provider.",
                pool.id
            )));
        };
        let from_user = match &input.developer_user_identifier {
            Some(user) => {
                let login = Login {
                    provider: &provider,
                    user_key: user,
                };
                Some(
                    self.store
                        .identity_of_login(&pool.id, login)
                        .await?
                        .ok_or_else(|| {
                            CognitoIdentityError::ResourceNotFound(
                                "The developer user identifier was not found in this identity pool."
                                    .to_owned(),
                            )
                        })?,
                )
            }
            None => None,
        };
        let identity_id = match (&input.identity_id, from_user) {
            (Some(given), Some(found)) if *given != found => {
                return Err(CognitoIdentityError::ResourceConflict(
                    "The developer user identifier is not linked to the given IdentityId."
                        .to_owned(),
                ));
            }
            (Some(given), _) => {
                let identity = self.store.identity(given).await?;
                if identity.is_none_or(|i| i.pool_id != pool.id) {
                    return Err(identity_not_found(given));
                }
                given.clone()
            }
            (None, Some(found)) => found,
            (None, None) => {
                return Err(CognitoIdentityError::InvalidParameter(
                    "Either IdentityId or DeveloperUserIdentifier must be given.".to_owned(),
                ));
            }
        };
        let limit = input.max_results.unwrap_or(60);
        let after = input
            .next_token
            .as_deref()
            .map(pagination::decode_token)
            .transpose()?;
        let rows = self
            .store
            .user_keys_of_identity(&identity_id, &provider, after.as_deref(), limit + 1)
            .await?;
        let page = pagination::paginate(rows, limit as usize, String::clone);
        Ok(LookupDeveloperIdentityOutput {
            identity_id: Some(identity_id),
            developer_user_identifiers: page.items,
            next_token: page.next_token,
        })
    }

    pub async fn describe_identity(&self, identity_id: &str) -> Result<IdentityRecord> {
        self.store
            .identity(identity_id)
            .await?
            .ok_or_else(|| identity_not_found(identity_id))
    }

    pub async fn list_identities(
        &self,
        pool_id: &str,
        max_results: u32,
        next_token: Option<&str>,
        hide_disabled: bool,
    ) -> Result<Page<IdentityRecord>> {
        let pool = self.pool(pool_id).await?;
        let after = next_token.map(pagination::decode_token).transpose()?;
        let rows = self
            .store
            .list_identities(&pool.id, after.as_deref(), max_results + 1, hide_disabled)
            .await?;
        Ok(pagination::paginate(rows, max_results as usize, |i| {
            i.identity_id.clone()
        }))
    }
}

/// The only entry of `Logins`, when there is exactly one.
fn single_login(logins: &BTreeMap<String, String>) -> Option<Login<'_>> {
    match logins.iter().next() {
        Some((provider, user_key)) if logins.len() == 1 => Some(Login { provider, user_key }),
        _ => None,
    }
}

/// Pick the developer login out of `Logins` and refuse every other key the way the real service
/// does. tegata does not federate with external identity providers (yet), so a configured
/// external provider's token cannot be checked and is refused rather than trusted.
fn developer_login<'a>(
    pool: &'a IdentityPool,
    logins: &'a BTreeMap<String, String>,
) -> Result<(&'a str, &'a str)> {
    let developer_provider = pool.spec.developer_provider_name.as_deref();
    let mut developer = None;
    for (provider, value) in logins {
        if Some(provider.as_str()) == developer_provider {
            developer = Some((provider.as_str(), value.as_str()));
        } else if provider == COGNITO_LOGIN_PROVIDER {
            return Err(CognitoIdentityError::NotAuthorized(
                "Invalid login token. Can't pass in a Cognito token.".to_owned(),
            ));
        } else if pool.has_external_provider(provider) {
            return Err(CognitoIdentityError::NotAuthorized(
                "Invalid login token. Couldn't verify signed token.".to_owned(),
            ));
        } else if developer_provider.is_some() && logins.len() > 1 {
            return Err(CognitoIdentityError::NotAuthorized(
                "Token is not from a supported provider of this identity pool.".to_owned(),
            ));
        }
    }
    let (provider, user) = developer.ok_or_else(unsupported_developer_provider)?;
    // The Logins map allows 50 000 characters per value, but a developer user identifier is
    // named by LookupDeveloperIdentity, MergeDeveloperIdentities and UnlinkDeveloperIdentity in
    // the model's DeveloperUserIdentifier shape (at most 1 024): a longer one would make an
    // identity that none of them can name. The value itself is sensitive and not quoted.
    if user.chars().count() > MAX_DEVELOPER_USER_IDENTIFIER_CHARS {
        return Err(CognitoIdentityError::Validation(format!(
            "1 validation error detected: Value at 'logins.{provider}' failed to satisfy \
             constraint: Member must have length less than or equal to \
             {MAX_DEVELOPER_USER_IDENTIFIER_CHARS}"
        )));
    }
    Ok((provider, user))
}

/// The model's bound on `DeveloperUserIdentifier`.
const MAX_DEVELOPER_USER_IDENTIFIER_CHARS: usize = 1024;

/// Whether a pool or identity id (`<region>:<uuid>`) belongs to `region`.
fn in_region(id: &str, region: &str) -> bool {
    id.split_once(':').is_some_and(|(r, _)| r == region)
}
