//! IAM's entities besides roles: users, groups and managed policies, and what a principal's
//! authorization reads of them.

use crate::UnixSeconds;
use crate::deployment::PARTITION;

/// The kinds of entity a policy can be attached to (and that can hold inline policies).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntityKind {
    User,
    Group,
    Role,
}

impl EntityKind {
    /// The word stored in `policy_attachments.entity_kind`, and IAM's word in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Group => "group",
            Self::Role => "role",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "user" => Some(Self::User),
            "group" => Some(Self::Group),
            "role" => Some(Self::Role),
            _ => None,
        }
    }

    /// IAM's "The user with name X cannot be found." and its siblings.
    pub fn not_found_message(self, name: &str) -> String {
        format!("The {} with name {name} cannot be found.", self.as_str())
    }

    /// "The user policy with name P cannot be found." and its siblings.
    pub fn policy_not_found_message(self, policy_name: &str) -> String {
        format!(
            "The {} policy with name {policy_name} cannot be found.",
            self.as_str()
        )
    }
}

/// The stored name and path of a user, group or role, or `None` when it does not exist: what
/// both IAM's existence checks and authorization's entity ARNs read.
pub(crate) async fn stored_name_and_path(
    store: &dyn crate::store::Store,
    kind: EntityKind,
    name: &str,
) -> Result<Option<(String, String)>, crate::store::StoreError> {
    Ok(match kind {
        EntityKind::User => store.user(name).await?.map(|u| (u.user_name, u.path)),
        EntityKind::Group => store.group(name).await?.map(|g| (g.group_name, g.path)),
        EntityKind::Role => store.role(name).await?.map(|r| (r.role_name, r.path)),
    })
}

/// The ARN of an IAM entity: `arn:aws:iam::ACCOUNT:<kind><path><name>`.
pub fn entity_arn(account_id: &str, kind: EntityKind, path: &str, name: &str) -> String {
    format!(
        "arn:{PARTITION}:iam::{account_id}:{}{path}{name}",
        kind.as_str()
    )
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub user_name: String,
    pub path: String,
    /// `AIDA…`.
    pub user_id: String,
    pub tags: Vec<(String, String)>,
    /// A managed policy's ARN.
    pub permissions_boundary: Option<String>,
    pub created_at: UnixSeconds,
}

impl User {
    pub fn arn(&self, account_id: &str) -> String {
        entity_arn(account_id, EntityKind::User, &self.path, &self.user_name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub group_name: String,
    pub path: String,
    /// `AGPA…`.
    pub group_id: String,
    pub created_at: UnixSeconds,
}

impl Group {
    pub fn arn(&self, account_id: &str) -> String {
        entity_arn(account_id, EntityKind::Group, &self.path, &self.group_name)
    }
}

/// A customer managed policy (AWS managed ones are [`super::aws_managed`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedPolicy {
    pub arn: String,
    pub policy_name: String,
    pub path: String,
    /// `ANPA…`.
    pub policy_id: String,
    pub description: Option<String>,
    /// `v1`, `v2`, …
    pub default_version: String,
    pub tags: Vec<(String, String)>,
    pub created_at: UnixSeconds,
    pub updated_at: UnixSeconds,
}

/// A managed policy as GetPolicy and ListPolicies show it: the policy and its use counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyInfo {
    pub policy: ManagedPolicy,
    pub attachment_count: u64,
    pub boundary_usage_count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyVersion {
    pub version_id: String,
    pub document: String,
    pub is_default: bool,
    pub created_at: UnixSeconds,
}

/// An entity a managed policy is attached to (ListEntitiesForPolicy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyEntity {
    pub kind: EntityKind,
    pub name: String,
    pub id: String,
}

/// Where one of a principal's policies comes from, as IAM's simulator reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicySource {
    /// An inline policy of the user, group or role named.
    Inline {
        kind: EntityKind,
        entity: String,
        policy_name: String,
    },
    /// A managed policy, by ARN.
    Managed { arn: String },
    /// A document given to the simulator, by its place in the request
    /// (`PolicyInputList.1`, `PermissionsBoundaryPolicyInputList.1`).
    Given { id: String },
}

impl PolicySource {
    /// Which policy this is, for people: `inline policy P of role R`, or the managed policy's
    /// ARN.
    pub fn label(&self) -> String {
        match self {
            Self::Inline {
                kind,
                entity,
                policy_name,
            } => format!("inline policy {policy_name} of {} {entity}", kind.as_str()),
            Self::Managed { arn } => arn.clone(),
            Self::Given { id } => id.clone(),
        }
    }

    /// The simulator's `SourcePolicyId`: the inline policy's name, the managed policy's name,
    /// or the given document's place.
    pub fn id(&self) -> &str {
        match self {
            Self::Inline { policy_name, .. } => policy_name,
            Self::Managed { arn } => super::policy_name_of(arn),
            Self::Given { id } => id,
        }
    }
}

/// A policy document as stored, with where it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcedDocument {
    pub source: PolicySource,
    pub document: String,
}

/// Everything the authorization of one principal (a user, or a role's sessions) reads from the
/// store, in one read: its identity-based policies (for a user, its groups' too), its tags and
/// its permissions boundary. Managed policies are given by ARN with their default version's
/// document when they are customer managed; AWS managed ones are resolved by the domain.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PrincipalPolicySet {
    /// The principal's unique id (`AIDA…`, `AROA…`, `AGPA…`): a role deleted and made again
    /// under its name is another role, whose policies its old sessions must not get.
    pub id: String,
    pub inline: Vec<SourcedDocument>,
    /// ARN, and the default version's document for customer managed policies that exist.
    pub attached: Vec<(String, Option<String>)>,
    pub boundary: Option<(String, Option<String>)>,
    pub tags: Vec<(String, String)>,
}

/// Why DeleteUser could not delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteOutcome {
    Deleted,
    NotFound,
    /// Something still refers to the entity; nothing was deleted.
    Conflict(DeleteConflict),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteConflict {
    AccessKeys,
    InlinePolicies,
    AttachedPolicies,
    Groups,
    Members,
}

impl DeleteConflict {
    /// IAM's messages for a DeleteUser / DeleteGroup that must wait.
    pub fn message(self) -> &'static str {
        match self {
            Self::AccessKeys => "Cannot delete entity, must delete access keys first.",
            Self::InlinePolicies => "Cannot delete entity, must delete policies first.",
            Self::AttachedPolicies => "Cannot delete entity, must detach all policies first.",
            Self::Groups => "Cannot delete entity, must remove users from group first.",
            Self::Members => "Cannot delete entity, must remove users from group first.",
        }
    }
}
