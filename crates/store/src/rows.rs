//! Rows as the SQL reads them, and their conversions into the domain's records. The columns are
//! the portable ones (TEXT, BIGINT, BLOB/BYTEA), so one row type serves both databases.

use sqlx::FromRow;
use tegata_core::account::{AccessKeyRecord, AccountRecord, KeyLastUse};
use tegata_core::cognito_identity::{
    IdentityPool, IdentityPoolSpec, IdentityRecord, PoolRoles, PoolSummary,
};
use tegata_core::iam::{
    Group, ManagedPolicy, OidcProvider, PolicyInfo, PolicyVersion, Role, RoleLastUse, User,
};
use tegata_core::store::StoreError;
use tegata_core::tokens::keys::{KeyState, SigningKeyRecord};

use crate::corrupt;

#[derive(FromRow)]
pub(crate) struct AccountRow {
    account_id: String,
    created_at: i64,
}

impl From<AccountRow> for AccountRecord {
    fn from(row: AccountRow) -> Self {
        Self {
            account_id: row.account_id,
            created_at: row.created_at,
        }
    }
}

#[derive(FromRow)]
pub(crate) struct AccessKeyRow {
    access_key_id: String,
    user_name: String,
    user_id: String,
    encrypted_secret: Vec<u8>,
    master_key_id: String,
    active: i64,
    created_at: i64,
    last_used_at: Option<i64>,
    last_used_region: Option<String>,
    last_used_service: Option<String>,
}

impl From<AccessKeyRow> for AccessKeyRecord {
    fn from(row: AccessKeyRow) -> Self {
        Self {
            last_used: row.last_used_at.map(|at| KeyLastUse {
                at,
                region: row.last_used_region.unwrap_or_default(),
                service: row.last_used_service.unwrap_or_default(),
            }),
            access_key_id: row.access_key_id,
            user_name: row.user_name,
            user_id: row.user_id,
            encrypted_secret: row.encrypted_secret,
            master_key_id: row.master_key_id,
            active: row.active != 0,
            created_at: row.created_at,
        }
    }
}

#[derive(FromRow)]
pub(crate) struct SigningKeyRow {
    kid: String,
    state: String,
    algorithm: String,
    encrypted_private_key: Vec<u8>,
    master_key_id: String,
    created_at: i64,
    state_changed_at: i64,
}

impl TryFrom<SigningKeyRow> for SigningKeyRecord {
    type Error = StoreError;

    fn try_from(row: SigningKeyRow) -> Result<Self, StoreError> {
        let state = KeyState::parse(&row.state)
            .ok_or_else(|| corrupt(format!("unknown signing key state '{}'", row.state)))?;
        Ok(Self {
            kid: row.kid,
            state,
            algorithm: row.algorithm,
            encrypted_private_key: row.encrypted_private_key,
            master_key_id: row.master_key_id,
            created_at: row.created_at,
            state_changed_at: row.state_changed_at,
        })
    }
}

/// A pool: its configuration is one JSON column, as UpdateIdentityPool replaces it whole.
#[derive(FromRow)]
pub(crate) struct PoolRow {
    pub pool_id: String,
    pub config: String,
    pub roles: String,
    pub principal_tag_maps: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl TryFrom<PoolRow> for IdentityPool {
    type Error = StoreError;

    fn try_from(row: PoolRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: row.pool_id,
            spec: serde_json::from_str::<IdentityPoolSpec>(&row.config).map_err(corrupt)?,
            roles: serde_json::from_str::<PoolRoles>(&row.roles).map_err(corrupt)?,
            principal_tag_maps: serde_json::from_str(&row.principal_tag_maps).map_err(corrupt)?,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

/// A pool and the identity a login is linked to in it, if any.
#[derive(FromRow)]
pub(crate) struct PoolWithLoginRow {
    #[sqlx(flatten)]
    pub pool: PoolRow,
    pub identity_id: Option<String>,
}

#[derive(FromRow)]
pub(crate) struct PoolSummaryRow {
    pool_id: String,
    name: String,
}

impl From<PoolSummaryRow> for PoolSummary {
    fn from(row: PoolSummaryRow) -> Self {
        Self {
            id: row.pool_id,
            name: row.name,
        }
    }
}

/// One identity joined with one of its logins' providers (none when it has no login).
#[derive(FromRow)]
pub(crate) struct IdentityLoginRow {
    pub identity_id: String,
    pub pool_id: String,
    pub disabled: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub provider: Option<String>,
}

/// Join rows, ordered by identity, grouped into identities with their distinct providers.
pub(crate) fn group_identities(rows: Vec<IdentityLoginRow>) -> Vec<IdentityRecord> {
    let mut out: Vec<IdentityRecord> = Vec::new();
    for row in rows {
        let current = match out.last_mut() {
            Some(last) if last.identity_id == row.identity_id => last,
            _ => {
                out.push(IdentityRecord {
                    identity_id: row.identity_id,
                    pool_id: row.pool_id,
                    logins: Vec::new(),
                    created_at: row.created_at,
                    updated_at: row.updated_at,
                    disabled: row.disabled != 0,
                });
                let Some(last) = out.last_mut() else {
                    continue;
                };
                last
            }
        };
        if let Some(provider) = row.provider
            && !current.logins.contains(&provider)
        {
            current.logins.push(provider);
        }
    }
    out
}

#[derive(FromRow)]
pub(crate) struct RoleRow {
    role_name: String,
    path: String,
    role_id: String,
    assume_role_policy_document: String,
    description: Option<String>,
    max_session_duration: i64,
    /// JSON list of `[key, value]`.
    tags: String,
    permissions_boundary: Option<String>,
    created_at: i64,
    last_used_at: Option<i64>,
    last_used_region: Option<String>,
}

impl TryFrom<RoleRow> for Role {
    type Error = StoreError;

    fn try_from(row: RoleRow) -> Result<Self, StoreError> {
        Ok(Self {
            role_name: row.role_name,
            path: row.path,
            role_id: row.role_id,
            assume_role_policy_document: row.assume_role_policy_document,
            description: row.description,
            max_session_duration: row.max_session_duration,
            tags: serde_json::from_str(&row.tags).map_err(corrupt)?,
            permissions_boundary: row.permissions_boundary,
            created_at: row.created_at,
            last_used: row.last_used_at.map(|at| RoleLastUse {
                at,
                region: row.last_used_region.unwrap_or_default(),
            }),
        })
    }
}

#[derive(FromRow)]
pub(crate) struct UserRow {
    user_name: String,
    path: String,
    user_id: String,
    tags: String,
    permissions_boundary: Option<String>,
    created_at: i64,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;

    fn try_from(row: UserRow) -> Result<Self, StoreError> {
        Ok(Self {
            user_name: row.user_name,
            path: row.path,
            user_id: row.user_id,
            tags: serde_json::from_str(&row.tags).map_err(corrupt)?,
            permissions_boundary: row.permissions_boundary,
            created_at: row.created_at,
        })
    }
}

#[derive(FromRow)]
pub(crate) struct GroupRow {
    group_name: String,
    path: String,
    group_id: String,
    created_at: i64,
}

impl From<GroupRow> for Group {
    fn from(row: GroupRow) -> Self {
        Self {
            group_name: row.group_name,
            path: row.path,
            group_id: row.group_id,
            created_at: row.created_at,
        }
    }
}

/// A customer managed policy with its use counts.
#[derive(FromRow)]
pub(crate) struct PolicyRow {
    policy_arn: String,
    policy_name: String,
    path: String,
    policy_id: String,
    description: Option<String>,
    default_version: String,
    tags: String,
    created_at: i64,
    updated_at: i64,
    attachments: i64,
    boundary_uses: i64,
}

impl TryFrom<PolicyRow> for PolicyInfo {
    type Error = StoreError;

    fn try_from(row: PolicyRow) -> Result<Self, StoreError> {
        Ok(Self {
            policy: ManagedPolicy {
                arn: row.policy_arn,
                policy_name: row.policy_name,
                path: row.path,
                policy_id: row.policy_id,
                description: row.description,
                default_version: row.default_version,
                tags: serde_json::from_str(&row.tags).map_err(corrupt)?,
                created_at: row.created_at,
                updated_at: row.updated_at,
            },
            attachment_count: u64::try_from(row.attachments).unwrap_or_default(),
            boundary_usage_count: u64::try_from(row.boundary_uses).unwrap_or_default(),
        })
    }
}

#[derive(FromRow)]
pub(crate) struct PolicyVersionRow {
    version_id: String,
    document: String,
    is_default: i64,
    created_at: i64,
}

impl From<PolicyVersionRow> for PolicyVersion {
    fn from(row: PolicyVersionRow) -> Self {
        Self {
            version_id: row.version_id,
            document: row.document,
            is_default: row.is_default != 0,
            created_at: row.created_at,
        }
    }
}

/// Two text columns (an attachment's kind and key, a policy's ARN and document, …).
#[derive(FromRow)]
pub(crate) struct TextPair(pub String, pub Option<String>);

/// Three text columns (an entity's kind, name and id).
#[derive(FromRow)]
pub(crate) struct TextTriple(pub String, pub String, pub String);

/// A principal's unique id, tags (JSON) and permissions boundary.
#[derive(FromRow)]
pub(crate) struct PrincipalRow(pub String, pub String, pub Option<String>);

/// An inline policy with the kind and name of the entity it belongs to.
#[derive(FromRow)]
pub(crate) struct InlinePolicyRow(pub String, pub String, pub String, pub String);

#[derive(FromRow)]
pub(crate) struct OidcProviderRow {
    url: String,
    scheme: String,
    client_ids: String,
    thumbprints: String,
    tags: String,
    created_at: i64,
}

impl TryFrom<OidcProviderRow> for OidcProvider {
    type Error = StoreError;

    fn try_from(row: OidcProviderRow) -> Result<Self, StoreError> {
        Ok(Self {
            url: row.url,
            scheme: row.scheme,
            client_ids: serde_json::from_str(&row.client_ids).map_err(corrupt)?,
            thumbprints: serde_json::from_str(&row.thumbprints).map_err(corrupt)?,
            tags: serde_json::from_str(&row.tags).map_err(corrupt)?,
            created_at: row.created_at,
        })
    }
}

/// A single text column (`identity_id`, `user_key`, `policy_name`, …), read by position.
#[derive(FromRow)]
pub(crate) struct Text(pub String);

/// A secret sealed under a master key, as `reseal_secrets` reads it.
#[derive(FromRow)]
pub(crate) struct SealedRow {
    pub id: String,
    pub master_key_id: String,
    pub blob: Vec<u8>,
}

/// A revocation: a subject (identity or pool id) and its sessions' not-before.
#[derive(FromRow)]
pub(crate) struct RevocationRow {
    pub subject: String,
    pub not_before: i64,
}

/// A single count, read by position.
#[derive(FromRow)]
pub(crate) struct Count(pub i64);

#[derive(FromRow)]
pub(crate) struct AppUserRow {
    username: String,
    password_hash: String,
    disabled: i64,
    created_at: i64,
    password_changed_at: i64,
}

impl From<AppUserRow> for tegata_core::app_users::AppUser {
    fn from(row: AppUserRow) -> Self {
        Self {
            username: row.username,
            password_hash: row.password_hash,
            disabled: row.disabled != 0,
            created_at: row.created_at,
            password_changed_at: row.password_changed_at,
        }
    }
}
