//! What the domain needs from persistence. Implementations (SQLite, PostgreSQL) live in the
//! `tegata-store` crate and pass one shared conformance suite.
//!
//! Rules every implementation keeps:
//! - one identity per (pool, provider, user key): enforced by a unique constraint, so concurrent
//!   find-or-create calls for the same new user agree on one identity;
//! - `bootstrap` keeps the first committed candidate, whatever the number of racing nodes;
//! - deleting a pool deletes its identities and their logins in the same transaction.

use async_trait::async_trait;

use crate::UnixSeconds;
use crate::account::{AccessKeyRecord, Bootstrap};
use crate::app_users::AppUser;
use crate::cognito_identity::{
    IdentityPool, IdentityRecord, PoolRoles, PoolSummary, PrincipalTagMap,
};
use crate::iam::{
    DeleteOutcome, EntityKind, Group, ManagedPolicy, OidcProvider, PolicyEntity, PolicyInfo,
    PolicyVersion, PrincipalPolicySet, Role, User,
};
use crate::tokens::keys::SigningKeyRecord;
use crate::tokens::lifecycle::KeyChange;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached or answered with an error.
    #[error("store backend: {0}")]
    Backend(String),
    /// Stored data could not be read back (a bug or a damaged database).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The schema in the database is newer than this binary understands.
    #[error("the database schema is newer than this tegata understands: {0}")]
    SchemaTooNew(String),
    /// A change was abandoned, whole, for the reason given (see `reseal_secrets`).
    #[error("{0}")]
    Abandoned(String),
    /// A write lost a race with another writer of the same row.
    #[error("concurrent modification")]
    ConcurrentModification,
    /// More writes are waiting than the store queues: the caller should slow down.
    #[error("the store's write queue is full")]
    Busy,
}

/// The result of linking a developer user to an identity that was named in the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkOutcome {
    /// Linked now, or already linked to that identity.
    Linked,
    /// The identity does not exist in that pool.
    IdentityNotFound,
    /// The developer user is linked to another identity (its id is given).
    AlreadyLinkedElsewhere(String),
}

/// The result of deleting a role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteRoleOutcome {
    Deleted,
    NotFound,
    /// Inline policies remain; nothing was deleted.
    HasPolicies,
    /// Managed policies are still attached; nothing was deleted.
    HasAttachedPolicies,
}

/// A login to link: which provider, and the provider's key for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login<'a> {
    pub provider: &'a str,
    pub user_key: &'a str,
}

/// Everything the domain persists: one trait per aggregate, and a store has them all.
pub trait Store:
    AccountStore
    + PoolStore
    + IdentityStore
    + RoleStore
    + OidcProviderStore
    + UserStore
    + PolicyStore
    + AppUserStore
    + RevocationStore
{
}

impl<T> Store for T where
    T: AccountStore
        + PoolStore
        + IdentityStore
        + RoleStore
        + OidcProviderStore
        + UserStore
        + PolicyStore
        + AppUserStore
        + RevocationStore
{
}

/// What kind of stored secret a [`SealedSecret`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealedSecretKind {
    SigningKey,
    AccessKey,
}

/// A secret as stored: whose, under which master key, and the sealed bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SealedSecret {
    pub kind: SealedSecretKind,
    /// The signing key's kid or the access key's id.
    pub id: String,
    pub master_key_id: String,
    pub blob: Vec<u8>,
}

/// Re-seals one secret (see [`AccountStore::reseal_secrets`]).
pub type Resealer<'a> =
    dyn Fn(&SealedSecret) -> Result<Option<(String, Vec<u8>)>, String> + Send + Sync + 'a;

/// Sessions refused before they expire (see [`crate::revocations`]).
#[async_trait]
pub trait RevocationStore: Send + Sync + 'static {
    /// Refuse the sessions of `subject` (an identity id, or a pool id for all its identities)
    /// issued at or before `at`. A later revocation already stored stays.
    async fn revoke_sessions(&self, subject: &str, at: UnixSeconds) -> Result<(), StoreError>;

    /// Every revocation: the subject and the time up to which its sessions are refused.
    async fn session_revocations(&self) -> Result<Vec<(String, UnixSeconds)>, StoreError>;

    /// Forget the revocations older than `before` (nothing they refuse can still be alive);
    /// how many went.
    async fn prune_session_revocations(&self, before: UnixSeconds) -> Result<u64, StoreError>;
}

/// The deployment's account, its signing keys and its access keys.
#[async_trait]
pub trait AccountStore: Send + Sync + 'static {
    /// Insert `candidate` unless a deployment already exists; return whichever is stored.
    async fn bootstrap(&self, candidate: &Bootstrap) -> Result<Bootstrap, StoreError>;

    async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>, StoreError>;

    /// Re-seal every secret stored under a master key (signing keys, access keys) in one
    /// transaction: `reseal` gives a secret's new key id and blob, `None` to leave it as it is,
    /// or an error that abandons the whole change. How many were re-sealed.
    async fn reseal_secrets(&self, reseal: &Resealer<'_>) -> Result<usize, StoreError>;

    /// Apply a change to the signing keys in one transaction, only if every key it moves is
    /// still in the state it moves from (else `ConcurrentModification`, and nothing changes).
    async fn apply_key_change(&self, change: &KeyChange) -> Result<(), StoreError>;

    async fn access_key(&self, access_key_id: &str) -> Result<Option<AccessKeyRecord>, StoreError>;

    /// Whether the database answers (`/readyz`).
    async fn ping(&self) -> Result<(), StoreError>;

    /// The connection pools' use, for the metrics.
    fn connection_stats(&self) -> Vec<PoolStats>;

    /// New identities waiting for the group writer, for the metrics.
    fn identity_writes_waiting(&self) -> usize;
}

/// The histogram of the time a store's group writer takes to write one group of new identities,
/// from asking for its turn to write (which other writes share; on PostgreSQL, for a pooled
/// connection) to COMMIT (the server
/// describes it and sets its buckets). A basic-new flow's tail
/// is the wait for that writer: when the tail grows, this says whether the writes themselves got
/// slow (a sync of the disk) or only more numerous.
pub const IDENTITY_GROUP_WRITE_SECONDS: &str = "tegata_identity_writer_group_seconds";

/// The counter of SQLite reads whose synchronous fast path failed and that went through sqlx
/// instead: if it grows, every hot read pays for a failed attempt as well.
pub const SQLITE_SYNC_READ_FALLBACKS: &str = "tegata_sqlite_sync_read_fallbacks_total";

/// One connection pool's use at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// `reader` or `writer` (SQLite), or `shared` (PostgreSQL's one pool).
    pub pool: &'static str,
    pub open: u32,
    pub idle: u32,
}

/// Identity pools.
#[async_trait]
pub trait PoolStore: Send + Sync + 'static {
    async fn count_identity_pools(&self) -> Result<u64, StoreError>;

    async fn insert_identity_pool(&self, pool: &IdentityPool) -> Result<(), StoreError>;

    async fn identity_pool(&self, pool_id: &str) -> Result<Option<IdentityPool>, StoreError>;

    /// A pool and the identity linked to `login` in it, if any, in one read: the two lookups
    /// every GetOpenIdTokenForDeveloperIdentity makes, in one round trip instead of two.
    async fn identity_pool_with_login(
        &self,
        pool_id: &str,
        login: Login<'_>,
    ) -> Result<Option<(IdentityPool, Option<String>)>, StoreError>;

    /// Replace a pool's configuration with `new`'s if it is still `current`'s; `false` when the
    /// pool is gone or another writer changed its configuration meanwhile.
    async fn replace_identity_pool(
        &self,
        current: &IdentityPool,
        new: &IdentityPool,
    ) -> Result<bool, StoreError>;

    /// Replace a pool's roles (SetIdentityPoolRoles); `false` when it does not exist.
    async fn set_identity_pool_roles(
        &self,
        pool_id: &str,
        roles: &PoolRoles,
        now: UnixSeconds,
    ) -> Result<bool, StoreError>;

    /// Set the principal tag map of one identity provider of a pool, leaving the others';
    /// `false` when the pool does not exist.
    async fn set_principal_tag_map(
        &self,
        pool_id: &str,
        provider: &str,
        map: &PrincipalTagMap,
        now: UnixSeconds,
    ) -> Result<bool, StoreError>;

    /// Delete a pool with its identities and logins; `false` when it did not exist.
    async fn delete_identity_pool(&self, pool_id: &str) -> Result<bool, StoreError>;

    /// Pools ordered by id, starting after `after`, at most `limit`.
    async fn list_identity_pools(
        &self,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<PoolSummary>, StoreError>;
}

/// Identities and the logins linked to them.
#[async_trait]
pub trait IdentityStore: Send + Sync + 'static {
    /// The identity linked to `login` in `pool_id`, creating `new_identity_id` (linked to it) when
    /// there is none. Returns the identity id and whether it was created.
    async fn find_or_create_identity(
        &self,
        pool_id: &str,
        login: Login<'_>,
        new_identity_id: &str,
        now: UnixSeconds,
    ) -> Result<(String, bool), StoreError>;

    /// A new identity of `pool_id` with no login (a guest's, from GetId); `false` when the pool
    /// does not exist.
    async fn insert_identity(
        &self,
        pool_id: &str,
        identity_id: &str,
        now: UnixSeconds,
    ) -> Result<bool, StoreError>;

    /// Link `login` to the existing, enabled identity `identity_id` of `pool_id`.
    async fn link_login(
        &self,
        pool_id: &str,
        identity_id: &str,
        login: Login<'_>,
        now: UnixSeconds,
    ) -> Result<LinkOutcome, StoreError>;

    /// The identity linked to `login`, if any.
    async fn identity_of_login(
        &self,
        pool_id: &str,
        login: Login<'_>,
    ) -> Result<Option<String>, StoreError>;

    async fn identity(&self, identity_id: &str) -> Result<Option<IdentityRecord>, StoreError>;

    /// Delete an identity and its logins; `false` when it did not exist.
    async fn delete_identity(&self, identity_id: &str) -> Result<bool, StoreError>;

    /// Unlink `login` from `identity_id`; `false` when it was not linked to that identity. An
    /// identity left without logins is disabled (AWS: it becomes inaccessible).
    async fn unlink_login(
        &self,
        identity_id: &str,
        login: Login<'_>,
        now: UnixSeconds,
    ) -> Result<bool, StoreError>;

    /// Unlink every login of `provider` from `identity_id`; how many were unlinked. An identity
    /// left without logins is disabled.
    async fn unlink_provider(
        &self,
        identity_id: &str,
        provider: &str,
        now: UnixSeconds,
    ) -> Result<u64, StoreError>;

    /// Move every login of `source` onto `destination` (both of `pool_id`) and disable `source`,
    /// in one transaction (MergeDeveloperIdentities).
    async fn merge_identities(
        &self,
        pool_id: &str,
        source: &str,
        destination: &str,
        now: UnixSeconds,
    ) -> Result<(), StoreError>;

    /// How many logins are linked to `identity_id`.
    async fn login_count(&self, identity_id: &str) -> Result<u64, StoreError>;

    /// Identities of a pool ordered by id, after `after`, at most `limit`.
    async fn list_identities(
        &self,
        pool_id: &str,
        after: Option<&str>,
        limit: u32,
        hide_disabled: bool,
    ) -> Result<Vec<IdentityRecord>, StoreError>;

    /// User keys of `provider` linked to `identity_id`, ordered, after `after`, at most `limit`.
    async fn user_keys_of_identity(
        &self,
        identity_id: &str,
        provider: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<String>, StoreError>;
}

/// IAM roles and their inline policies. Names compare case-insensitively, as IAM's do.
#[async_trait]
pub trait RoleStore: Send + Sync + 'static {
    /// Insert a role; `false` when a role of that name (in any case) exists.
    async fn insert_role(&self, role: &Role) -> Result<bool, StoreError>;

    async fn role(&self, role_name: &str) -> Result<Option<Role>, StoreError>;

    /// Set the given fields of a role and leave the others as they are (two updates of
    /// different fields never undo each other); `false` when the role does not exist.
    async fn update_role(
        &self,
        role_name: &str,
        description: Option<&str>,
        max_session_duration: Option<i64>,
    ) -> Result<bool, StoreError>;

    /// Replace a role's tags if they are still `current`; `None` when the role does not exist,
    /// `Some(false)` when another writer changed them meanwhile.
    async fn replace_role_tags(
        &self,
        role_name: &str,
        current: &[(String, String)],
        new: &[(String, String)],
    ) -> Result<Option<bool>, StoreError>;

    /// Note that the role `role_id` (still named `role_name`) made a session at `at`, in
    /// `region`; an older time than the one stored changes nothing.
    async fn record_role_use(
        &self,
        role_name: &str,
        role_id: &str,
        at: UnixSeconds,
        region: &str,
    ) -> Result<(), StoreError>;

    /// Replace a role's trust policy and nothing else; `false` when the role does not exist.
    async fn update_assume_role_policy(
        &self,
        role_name: &str,
        document: &str,
    ) -> Result<bool, StoreError>;

    async fn delete_role(&self, role_name: &str) -> Result<DeleteRoleOutcome, StoreError>;

    /// Roles whose path starts with `path_prefix`, ordered by lower-cased name, after `after`.
    async fn list_roles(
        &self,
        path_prefix: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Role>, StoreError>;
}

/// IAM OpenID Connect providers, by URL (host and path).
#[async_trait]
pub trait OidcProviderStore: Send + Sync + 'static {
    /// `false` when a provider of that URL exists.
    async fn insert_oidc_provider(&self, provider: &OidcProvider) -> Result<bool, StoreError>;

    async fn oidc_provider(&self, url: &str) -> Result<Option<OidcProvider>, StoreError>;

    /// Every provider, ordered by URL (IAM does not paginate this list).
    async fn list_oidc_providers(&self) -> Result<Vec<OidcProvider>, StoreError>;

    /// `false` when there was none.
    async fn delete_oidc_provider(&self, url: &str) -> Result<bool, StoreError>;

    /// Replace `current` by `new` (same URL) only if the stored provider is still `current`;
    /// `false` when it changed meanwhile or is gone.
    async fn replace_oidc_provider(
        &self,
        current: &OidcProvider,
        new: &OidcProvider,
    ) -> Result<bool, StoreError>;
}

/// The result of a write that names an entity and may name a second one (a user and a group, an
/// entity and a policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PairOutcome {
    Done,
    /// The first entity named (the user, or the entity a policy is attached to) does not exist.
    FirstMissing,
    /// The second entity named (the group, or the policy) does not exist.
    SecondMissing,
}

/// The result of creating an access key or a policy version, which IAM caps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CappedInsert {
    Inserted,
    /// The owner (user, policy) does not exist.
    OwnerMissing,
    /// The owner already has the most it may have.
    AtLimit,
}

/// The result of deleting a managed policy's version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteVersionOutcome {
    Deleted,
    NotFound,
    IsDefault,
}

/// IAM users, their access keys and groups. Names compare case-insensitively, as IAM's do.
#[async_trait]
pub trait UserStore: Send + Sync + 'static {
    /// `false` when a user of that name (in any case) exists.
    async fn insert_user(&self, user: &User) -> Result<bool, StoreError>;

    async fn user(&self, user_name: &str) -> Result<Option<User>, StoreError>;

    /// Every user whose path starts with `path_prefix`, by lower-cased name.
    async fn list_users(&self, path_prefix: &str) -> Result<Vec<User>, StoreError>;

    /// Rename or move a user (UpdateUser); its keys, policies and groups follow. `None` when the
    /// user does not exist, `Some(false)` when the new name is taken.
    async fn update_user(
        &self,
        user_name: &str,
        new_name: Option<&str>,
        new_path: Option<&str>,
    ) -> Result<Option<bool>, StoreError>;

    /// Delete a user that has no access keys, policies or groups left.
    async fn delete_user(&self, user_name: &str) -> Result<DeleteOutcome, StoreError>;

    /// Replace a user's tags if they are still `current`; `None` when the user does not exist,
    /// `Some(false)` when another writer changed them meanwhile.
    async fn replace_user_tags(
        &self,
        user_name: &str,
        current: &[(String, String)],
        new: &[(String, String)],
    ) -> Result<Option<bool>, StoreError>;

    /// Add a key to its user, unless the user has `max_per_user` already.
    async fn insert_access_key(
        &self,
        key: &AccessKeyRecord,
        max_per_user: u64,
    ) -> Result<CappedInsert, StoreError>;

    /// A user's keys, oldest first.
    async fn access_keys_of_user(
        &self,
        user_name: &str,
    ) -> Result<Vec<AccessKeyRecord>, StoreError>;

    /// `false` when the user has no key of that id.
    async fn set_access_key_active(
        &self,
        user_name: &str,
        access_key_id: &str,
        active: bool,
    ) -> Result<bool, StoreError>;

    /// `false` when the user has no key of that id.
    async fn delete_access_key(
        &self,
        user_name: &str,
        access_key_id: &str,
    ) -> Result<bool, StoreError>;

    /// Record that a key signed a request (GetAccessKeyLastUsed).
    async fn record_access_key_use(
        &self,
        access_key_id: &str,
        at: UnixSeconds,
        region: &str,
        service: &str,
    ) -> Result<(), StoreError>;

    /// `false` when a group of that name (in any case) exists.
    async fn insert_group(&self, group: &Group) -> Result<bool, StoreError>;

    async fn group(&self, group_name: &str) -> Result<Option<Group>, StoreError>;

    async fn list_groups(&self, path_prefix: &str) -> Result<Vec<Group>, StoreError>;

    /// Delete a group that has no members or policies left.
    async fn delete_group(&self, group_name: &str) -> Result<DeleteOutcome, StoreError>;

    /// `FirstMissing`: no such user; `SecondMissing`: no such group. Adding a member twice is
    /// not an error.
    async fn add_user_to_group(
        &self,
        user_name: &str,
        group_name: &str,
        now: UnixSeconds,
    ) -> Result<PairOutcome, StoreError>;

    /// `false` when the user is not a member.
    async fn remove_user_from_group(
        &self,
        user_name: &str,
        group_name: &str,
    ) -> Result<bool, StoreError>;

    /// The groups a user is in, by lower-cased name.
    async fn groups_of_user(&self, user_name: &str) -> Result<Vec<Group>, StoreError>;

    /// A group's members, by lower-cased name.
    async fn users_of_group(&self, group_name: &str) -> Result<Vec<User>, StoreError>;
}

/// Inline and managed policies, their attachments and permissions boundaries.
#[async_trait]
pub trait PolicyStore: Send + Sync + 'static {
    /// Create or replace an inline policy of a user, group or role; `false` when the entity does
    /// not exist.
    async fn put_inline_policy(
        &self,
        kind: EntityKind,
        entity: &str,
        policy_name: &str,
        document: &str,
    ) -> Result<bool, StoreError>;

    async fn inline_policy(
        &self,
        kind: EntityKind,
        entity: &str,
        policy_name: &str,
    ) -> Result<Option<String>, StoreError>;

    /// `false` when there was none.
    async fn delete_inline_policy(
        &self,
        kind: EntityKind,
        entity: &str,
        policy_name: &str,
    ) -> Result<bool, StoreError>;

    /// Names of an entity's inline policies, ordered.
    async fn inline_policy_names(
        &self,
        kind: EntityKind,
        entity: &str,
    ) -> Result<Vec<String>, StoreError>;

    /// A new customer managed policy with its first version (`v1`, the default); `false` when a
    /// policy of that name exists (whatever its path).
    async fn insert_managed_policy(
        &self,
        policy: &ManagedPolicy,
        document: &str,
    ) -> Result<bool, StoreError>;

    async fn managed_policy(&self, arn: &str) -> Result<Option<PolicyInfo>, StoreError>;

    /// Every customer managed policy whose path starts with `path_prefix`, by lower-cased name.
    async fn list_managed_policies(&self, path_prefix: &str)
    -> Result<Vec<PolicyInfo>, StoreError>;

    /// Delete a policy and its versions; `FirstMissing` when it does not exist and
    /// `SecondMissing` when it is still attached or used as a boundary (nothing is deleted).
    async fn delete_managed_policy(&self, arn: &str) -> Result<PairOutcome, StoreError>;

    /// Add a version (`v<N>`, numbered on from the last one ever created), making it the default
    /// when asked, unless the policy has `max_versions` already.
    async fn insert_policy_version(
        &self,
        arn: &str,
        document: &str,
        set_as_default: bool,
        max_versions: u64,
        now: UnixSeconds,
    ) -> Result<(CappedInsert, Option<PolicyVersion>), StoreError>;

    /// A policy's versions, newest first.
    async fn policy_versions(&self, arn: &str) -> Result<Vec<PolicyVersion>, StoreError>;

    /// `FirstMissing`: no such policy; `SecondMissing`: no such version.
    async fn set_default_policy_version(
        &self,
        arn: &str,
        version_id: &str,
        now: UnixSeconds,
    ) -> Result<PairOutcome, StoreError>;

    async fn delete_policy_version(
        &self,
        arn: &str,
        version_id: &str,
    ) -> Result<DeleteVersionOutcome, StoreError>;

    /// Attach a managed policy to an entity. `FirstMissing`: no such entity; `SecondMissing`: no
    /// such customer managed policy (AWS managed ARNs are checked by the domain, not here).
    /// Attaching twice is not an error.
    async fn attach_policy(
        &self,
        kind: EntityKind,
        entity: &str,
        arn: &str,
        now: UnixSeconds,
    ) -> Result<PairOutcome, StoreError>;

    /// `FirstMissing`: no such entity; `SecondMissing`: the policy is not attached to it.
    async fn detach_policy(
        &self,
        kind: EntityKind,
        entity: &str,
        arn: &str,
    ) -> Result<PairOutcome, StoreError>;

    /// ARNs of the managed policies attached to an entity (`None` when it does not exist), in
    /// the order attached.
    async fn attached_policies(
        &self,
        kind: EntityKind,
        entity: &str,
    ) -> Result<Option<Vec<String>>, StoreError>;

    /// The entities a managed policy is attached to.
    async fn entities_for_policy(&self, arn: &str) -> Result<Vec<PolicyEntity>, StoreError>;

    /// How many entities a policy is attached to (AWS managed ones included).
    async fn attachment_count(&self, arn: &str) -> Result<u64, StoreError>;

    /// Set or clear the permissions boundary of a user or role. `FirstMissing` when the entity does not exist, `SecondMissing` when the (customer
    /// managed) policy does not.
    async fn set_permissions_boundary(
        &self,
        kind: EntityKind,
        entity: &str,
        arn: Option<&str>,
    ) -> Result<PairOutcome, StoreError>;

    /// What authorizing a user (with its groups) or a role reads, in one read; `None` when the
    /// principal does not exist.
    async fn principal_policies(
        &self,
        kind: EntityKind,
        name: &str,
    ) -> Result<Option<PrincipalPolicySet>, StoreError>;
}

/// The credential broker's application users, keyed by their exact username.
#[async_trait]
pub trait AppUserStore: Send + Sync + 'static {
    /// `false` when the username is taken.
    async fn insert_app_user(&self, user: &AppUser) -> Result<bool, StoreError>;

    async fn app_user(&self, username: &str) -> Result<Option<AppUser>, StoreError>;

    /// Every user, by username.
    async fn list_app_users(&self) -> Result<Vec<AppUser>, StoreError>;

    /// `false` when there is no such user.
    async fn set_app_user_password(
        &self,
        username: &str,
        password_hash: &str,
        now: UnixSeconds,
    ) -> Result<bool, StoreError>;

    /// Replace the hash only if it is still `current` (a re-hash at sign-in must not undo a
    /// password change made meanwhile); `false` otherwise. The password itself is unchanged, so
    /// `password_changed_at` is not touched.
    async fn replace_app_user_hash(
        &self,
        username: &str,
        current: &str,
        upgraded: &str,
    ) -> Result<bool, StoreError>;

    /// `false` when there is no such user.
    async fn set_app_user_disabled(
        &self,
        username: &str,
        disabled: bool,
    ) -> Result<bool, StoreError>;

    /// `false` when there is no such user.
    async fn delete_app_user(&self, username: &str) -> Result<bool, StoreError>;
}
