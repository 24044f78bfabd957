//! IAM: roles (what AssumeRoleWithWebIdentity assumes), users and their access keys, groups,
//! inline and managed policies, permissions boundaries, OpenID Connect providers.
//!
//! Operations are named after their IAM actions. Shape constraints (name patterns, lengths) are
//! checked by the protocol layer; this layer checks what needs the stored state and the policy
//! language (trust policies must parse as trust policies, inline policies as identity policies).

pub mod aws_managed;
mod error;
mod model;
mod oidc;
mod policies;
mod simulate;
pub mod tags;
mod users;

use std::sync::Arc;

use tegata_policy::{PolicyDocument, PolicyKind};

pub use aws_managed::AWS_MANAGED_PREFIX;
pub use error::IamError;
pub(crate) use model::stored_name_and_path;
pub use model::{
    DeleteConflict, DeleteOutcome, EntityKind, Group, ManagedPolicy, PolicyEntity, PolicyInfo,
    PolicySource, PolicyVersion, PrincipalPolicySet, SourcedDocument, User, entity_arn,
};
pub use oidc::{
    CreateOidcProviderInput, OidcProvider, oidc_provider_arn_prefix, parse_provider_url,
};
pub use policies::{
    AttachedPolicy, CreatePolicyInput, MAX_POLICY_VERSIONS, PolicyScope, REVOKE_OLDER_SESSIONS,
    policy_name_of, revoke_older_sessions_policy,
};
pub use simulate::{MAX_SIMULATED_PAIRS, SimulationRequest, SimulationResult};
pub use users::{CreateUserInput, GroupWithUsers, MAX_ACCESS_KEYS_PER_USER};

use crate::access_keys::AccessKeys;
use crate::authz::{PermissionCache, cache_key};
use crate::cache::SecondCache;
use crate::deployment::{Deployment, PARTITION};
use crate::master_key::MasterKey;
use crate::pagination::{self, Page};
use crate::random::Randomness;
use crate::store::{DeleteRoleOutcome, Store};
use crate::{UnixSeconds, ids};

type Result<T, E = IamError> = std::result::Result<T, E>;

/// The default and bounds of a role's maximum session duration, in seconds.
pub const DEFAULT_MAX_SESSION_DURATION: i64 = 3600;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub role_name: String,
    /// `/` or `/segments/`.
    pub path: String,
    /// `AROA…`, the role's unique id.
    pub role_id: String,
    pub assume_role_policy_document: String,
    pub description: Option<String>,
    pub max_session_duration: i64,
    pub tags: Vec<(String, String)>,
    /// A managed policy's ARN.
    pub permissions_boundary: Option<String>,
    pub created_at: UnixSeconds,
    /// When and where the role last made a session; `None` until it has.
    pub last_used: Option<RoleLastUse>,
}

/// GetRole's `RoleLastUsed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleLastUse {
    pub at: UnixSeconds,
    pub region: String,
}

impl Role {
    pub fn arn(&self, account_id: &str) -> String {
        format!(
            "arn:{PARTITION}:iam::{account_id}:role{}{}",
            self.path, self.role_name
        )
    }
}

/// A role as AssumeRoleWithWebIdentity uses it: the stored row and its trust policy, parsed.
#[derive(Debug)]
pub struct TrustedRole {
    pub role: Role,
    pub trust: PolicyDocument,
}

/// Roles read by AssumeRoleWithWebIdentity, by lower-cased name (role names are
/// case-insensitive). Shared with [`Iam`], whose writes forget what they change.
pub type RoleCache = SecondCache<Arc<TrustedRole>>;

/// The key of a role in the [`RoleCache`].
pub(crate) fn role_cache_key(role_name: &str) -> String {
    role_name.to_lowercase()
}

pub struct CreateRoleInput {
    pub role_name: String,
    pub path: Option<String>,
    pub assume_role_policy_document: String,
    pub description: Option<String>,
    pub max_session_duration: Option<i64>,
    pub tags: Vec<(String, String)>,
    pub permissions_boundary: Option<String>,
}

pub struct Iam {
    store: Arc<dyn Store>,
    deployment: Arc<Deployment>,
    roles: Arc<RoleCache>,
    /// Principals' permissions as authorization reads them: IAM's writes forget what they
    /// change.
    permissions: Arc<PermissionCache>,
    /// Access keys as authentication reads them: a key changed here is forgotten at once.
    access_keys: Arc<AccessKeys>,
    /// Seals the secrets of new access keys.
    master: Arc<MasterKey>,
}

/// The caches IAM's writes must keep honest, and the master key new access keys are sealed
/// with.
pub struct IamShared {
    pub roles: Arc<RoleCache>,
    pub permissions: Arc<PermissionCache>,
    pub access_keys: Arc<AccessKeys>,
    pub master: Arc<MasterKey>,
}

/// A page of `items` (all of them, in any order) after `marker`, ordered by `key`: IAM's lists
/// are small (thousands at most), so they are read whole and paged here.
fn page_of<T>(
    mut items: Vec<T>,
    marker: Option<&str>,
    max_items: u32,
    key: impl Fn(&T) -> String,
) -> Result<Page<T>> {
    let after = marker.map(pagination::decode_token).transpose()?;
    items.sort_by_key(|item| key(item));
    if let Some(after) = after {
        items.retain(|item| key(item) > after);
    }
    Ok(pagination::paginate(items, max_items as usize, key))
}

fn no_such_role(name: &str) -> IamError {
    IamError::NoSuchEntity(format!("The role with name {name} cannot be found."))
}

fn malformed(e: tegata_policy::PolicyError) -> IamError {
    IamError::MalformedPolicyDocument(e.0)
}

impl Iam {
    pub fn new(store: Arc<dyn Store>, deployment: Arc<Deployment>, shared: IamShared) -> Self {
        Self {
            store,
            deployment,
            roles: shared.roles,
            permissions: shared.permissions,
            access_keys: shared.access_keys,
            master: shared.master,
        }
    }

    pub fn account_id(&self) -> &str {
        &self.deployment.account_id
    }

    pub async fn create_role(
        &self,
        input: CreateRoleInput,
        now: UnixSeconds,
        rng: &dyn Randomness,
    ) -> Result<Role> {
        PolicyDocument::parse(&input.assume_role_policy_document, PolicyKind::Trust)
            .and_then(|doc| doc.check_trust_actions())
            .map_err(malformed)?;
        tags::check_unique_keys(&input.tags)?;
        if let Some(boundary) = &input.permissions_boundary {
            self.require_boundary_policy(boundary).await?;
        }
        let role = Role {
            role_id: ids::unique_id("AROA", rng),
            path: input.path.unwrap_or_else(|| "/".to_owned()),
            assume_role_policy_document: input.assume_role_policy_document,
            description: input.description,
            max_session_duration: input
                .max_session_duration
                .unwrap_or(DEFAULT_MAX_SESSION_DURATION),
            tags: input.tags,
            permissions_boundary: input.permissions_boundary,
            created_at: now,
            role_name: input.role_name,
            last_used: None,
        };
        if !self.store.insert_role(&role).await? {
            return Err(IamError::EntityAlreadyExists(format!(
                "Role with name {} already exists.",
                role.role_name
            )));
        }
        Ok(role)
    }

    pub async fn get_role(&self, role_name: &str) -> Result<Role> {
        self.store
            .role(role_name)
            .await?
            .ok_or_else(|| no_such_role(role_name))
    }

    pub async fn list_roles(
        &self,
        path_prefix: Option<&str>,
        marker: Option<&str>,
        max_items: u32,
    ) -> Result<Page<Role>> {
        let after = marker.map(pagination::decode_token).transpose()?;
        let rows = self
            .store
            .list_roles(path_prefix.unwrap_or("/"), after.as_deref(), max_items + 1)
            .await?;
        Ok(pagination::paginate(rows, max_items as usize, |r| {
            r.role_name.to_lowercase()
        }))
    }

    /// Only the members given change: an UpdateRole racing an UpdateAssumeRolePolicy must not
    /// undo it, so nothing read earlier is written back.
    pub async fn update_role(
        &self,
        role_name: &str,
        description: Option<&str>,
        max_session_duration: Option<i64>,
    ) -> Result<()> {
        let updated = self
            .store
            .update_role(role_name, description, max_session_duration)
            .await?;
        self.roles.forget(&role_cache_key(role_name));
        if updated {
            Ok(())
        } else {
            Err(no_such_role(role_name))
        }
    }

    /// UpdateRoleDescription: set the description (empty clears nothing: it is stored empty)
    /// and answer the role as it now is.
    pub async fn update_role_description(
        &self,
        role_name: &str,
        description: &str,
    ) -> Result<Role> {
        self.update_role(role_name, Some(description), None).await?;
        self.get_role(role_name).await
    }

    pub async fn tag_role(&self, role_name: &str, new_tags: Vec<(String, String)>) -> Result<()> {
        tags::check_unique_keys(&new_tags)?;
        self.change_role_tags(role_name, |current| tags::merged(current, &new_tags))
            .await
    }

    /// Keys that the role does not have are no error, as in AWS.
    pub async fn untag_role(&self, role_name: &str, keys: &[String]) -> Result<()> {
        self.change_role_tags(role_name, |current| tags::without(current, keys))
            .await
    }

    /// Tags change by compare-and-swap, so two TagRole calls racing keep both their tags.
    async fn change_role_tags(
        &self,
        role_name: &str,
        change: impl Fn(&[(String, String)]) -> Result<Vec<(String, String)>>,
    ) -> Result<()> {
        for _ in 0..8 {
            let role = self.get_role(role_name).await?;
            let new = change(&role.tags)?;
            match self
                .store
                .replace_role_tags(role_name, &role.tags, &new)
                .await?
            {
                None => return Err(no_such_role(role_name)),
                Some(true) => {
                    // A role's tags are its sessions' `aws:PrincipalTag/*`.
                    self.roles.forget(&role_cache_key(role_name));
                    self.permissions
                        .forget(&cache_key(EntityKind::Role, role_name));
                    return Ok(());
                }
                Some(false) => continue,
            }
        }
        Err(crate::store::StoreError::ConcurrentModification.into())
    }

    pub async fn update_assume_role_policy(&self, role_name: &str, document: &str) -> Result<()> {
        PolicyDocument::parse(document, PolicyKind::Trust)
            .and_then(|doc| doc.check_trust_actions())
            .map_err(malformed)?;
        let updated = self
            .store
            .update_assume_role_policy(role_name, document)
            .await?;
        self.roles.forget(&role_cache_key(role_name));
        if updated {
            Ok(())
        } else {
            Err(no_such_role(role_name))
        }
    }

    /// Refused while inline policies remain, as IAM does.
    pub async fn delete_role(&self, role_name: &str) -> Result<()> {
        let outcome = self.store.delete_role(role_name).await?;
        self.roles.forget(&role_cache_key(role_name));
        self.permissions
            .forget(&cache_key(EntityKind::Role, role_name));
        match outcome {
            DeleteRoleOutcome::Deleted => Ok(()),
            DeleteRoleOutcome::NotFound => Err(no_such_role(role_name)),
            DeleteRoleOutcome::HasPolicies => Err(IamError::DeleteConflict(
                DeleteConflict::InlinePolicies.message().to_owned(),
            )),
            DeleteRoleOutcome::HasAttachedPolicies => Err(IamError::DeleteConflict(
                DeleteConflict::AttachedPolicies.message().to_owned(),
            )),
        }
    }
}
