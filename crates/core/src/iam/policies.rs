//! Identity-based policies: inline policies of users, groups and roles; customer managed
//! policies and their versions; attaching them; permissions boundaries.
//!
//! Every change here changes what some principal may do: the permission cache forgets the
//! principal changed, or everything when a change reaches many principals at once (a group's
//! policy, a managed policy's default version).

use tegata_policy::{PolicyDocument, PolicyKind};

use crate::authz::cache_key;
use crate::deployment::PARTITION;
use crate::pagination::Page;
use crate::random::Randomness;
use crate::store::{CappedInsert, DeleteVersionOutcome, PairOutcome};
use crate::{UnixSeconds, ids};

use super::aws_managed::{self, AWS_MANAGED_PREFIX};
use super::model::{EntityKind, ManagedPolicy, PolicyEntity, PolicyInfo, PolicyVersion};
use super::{Iam, IamError, Result, page_of, tags};

/// AWS's quota of versions per managed policy.
pub const MAX_POLICY_VERSIONS: u64 = 5;

/// The inline policy the IAM console's "Revoke active sessions" puts on a role (and
/// `tegata roles revoke-sessions`): it denies everything to the role's sessions issued before
/// `at`. Sessions issued in that second or later are untouched (`DateLessThan`), as on AWS.
pub const REVOKE_OLDER_SESSIONS: &str = "AWSRevokeOlderSessions";

/// The document of [`REVOKE_OLDER_SESSIONS`] for a revocation at `at`, as the console writes it.
pub fn revoke_older_sessions_policy(at: UnixSeconds) -> String {
    // Whole seconds, so RFC 3339 writes them as the console does: `2026-12-02T08:00:00Z`.
    let stamp = time::OffsetDateTime::from_unix_timestamp(at)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default();
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": {
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {"DateLessThan": {"aws:TokenIssueTime": stamp}}
        }
    })
    .to_string()
}

pub struct CreatePolicyInput {
    pub policy_name: String,
    pub path: Option<String>,
    pub document: String,
    pub description: Option<String>,
    pub tags: Vec<(String, String)>,
}

/// Which policies ListPolicies lists (its `Scope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyScope {
    All,
    Aws,
    Local,
}

/// A managed policy as attached to an entity: name and ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachedPolicy {
    pub policy_name: String,
    pub arn: String,
}

/// An inline policy's text, checked as IAM checks it.
fn check_permission_policy(document: &str) -> Result<()> {
    PolicyDocument::parse(document, PolicyKind::Identity)
        .map(drop)
        .map_err(|e| IamError::MalformedPolicyDocument(e.0))
}

/// A managed policy's text: as an inline policy's, and it must say version 2012-10-17.
fn check_managed_policy(document: &str) -> Result<()> {
    PolicyDocument::parse(document, PolicyKind::Managed)
        .map(drop)
        .map_err(|e| IamError::MalformedPolicyDocument(e.0))
}

fn policy_not_found(arn: &str) -> IamError {
    IamError::NoSuchEntity(format!("Policy {arn} was not found."))
}

fn no_such_version(arn: &str, version_id: &str) -> IamError {
    IamError::NoSuchEntity(format!(
        "Policy {arn} version {version_id} does not exist or is not attachable."
    ))
}

/// AWS managed policies belong to AWS: no account changes them.
fn refuse_aws_managed_change(arn: &str) -> Result<()> {
    if arn.starts_with(AWS_MANAGED_PREFIX) {
        return Err(IamError::AccessDenied(
            "Cannot update policies outside your own account.".to_owned(),
        ));
    }
    Ok(())
}

fn not_attachable(arn: &str) -> IamError {
    IamError::NoSuchEntity(format!("Policy {arn} does not exist or is not attachable."))
}

/// The name of a managed policy from its ARN (the last path segment).
pub fn policy_name_of(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

impl Iam {
    fn forget_entity(&self, kind: EntityKind, name: &str) {
        match kind {
            EntityKind::User | EntityKind::Role => self.permissions.forget(&cache_key(kind, name)),
            // A group's policies are its members': forget every principal.
            EntityKind::Group => self.permissions.forget_all(),
        }
    }

    /// A policy ARN as IAM accepts it: `arn:aws:iam::<account or aws>:policy/<path><name>`.
    fn check_policy_arn(&self, arn: &str) -> Result<()> {
        let well_formed = arn
            .strip_prefix(&format!("arn:{PARTITION}:iam::"))
            .and_then(|rest| rest.split_once(":policy/"))
            .is_some_and(|(account, name)| {
                (account == "aws" || account == self.account_id()) && !name.is_empty()
            });
        if well_formed {
            Ok(())
        } else {
            Err(IamError::Validation(format!("ARN {arn} is not valid.")))
        }
    }

    pub async fn put_inline_policy(
        &self,
        kind: EntityKind,
        entity: &str,
        policy_name: &str,
        document: &str,
    ) -> Result<()> {
        check_permission_policy(document)?;
        let stored = self
            .store
            .put_inline_policy(kind, entity, policy_name, document)
            .await?;
        self.forget_entity(kind, entity);
        if stored {
            Ok(())
        } else {
            Err(IamError::NoSuchEntity(kind.not_found_message(entity)))
        }
    }

    pub async fn get_inline_policy(
        &self,
        kind: EntityKind,
        entity: &str,
        policy_name: &str,
    ) -> Result<String> {
        self.require_entity(kind, entity).await?;
        self.store
            .inline_policy(kind, entity, policy_name)
            .await?
            .ok_or_else(|| IamError::NoSuchEntity(kind.policy_not_found_message(policy_name)))
    }

    pub async fn delete_inline_policy(
        &self,
        kind: EntityKind,
        entity: &str,
        policy_name: &str,
    ) -> Result<()> {
        self.require_entity(kind, entity).await?;
        let deleted = self
            .store
            .delete_inline_policy(kind, entity, policy_name)
            .await?;
        self.forget_entity(kind, entity);
        if deleted {
            Ok(())
        } else {
            Err(IamError::NoSuchEntity(
                kind.policy_not_found_message(policy_name),
            ))
        }
    }

    pub async fn list_inline_policies(
        &self,
        kind: EntityKind,
        entity: &str,
        marker: Option<&str>,
        max_items: u32,
    ) -> Result<Page<String>> {
        self.require_entity(kind, entity).await?;
        let names = self.store.inline_policy_names(kind, entity).await?;
        page_of(names, marker, max_items, String::clone)
    }

    /// The user, group or role exists, or IAM's NoSuchEntity for it.
    async fn require_entity(&self, kind: EntityKind, name: &str) -> Result<()> {
        if super::stored_name_and_path(&*self.store, kind, name)
            .await?
            .is_some()
        {
            Ok(())
        } else {
            Err(IamError::NoSuchEntity(kind.not_found_message(name)))
        }
    }

    pub async fn create_policy(
        &self,
        input: CreatePolicyInput,
        now: UnixSeconds,
        rng: &dyn Randomness,
    ) -> Result<PolicyInfo> {
        check_managed_policy(&input.document)?;
        tags::check_unique_keys(&input.tags)?;
        let path = input.path.unwrap_or_else(|| "/".to_owned());
        let policy = ManagedPolicy {
            arn: format!(
                "arn:{PARTITION}:iam::{}:policy{path}{}",
                self.account_id(),
                input.policy_name
            ),
            policy_id: ids::unique_id("ANPA", rng),
            description: input.description,
            default_version: "v1".to_owned(),
            tags: input.tags,
            created_at: now,
            updated_at: now,
            policy_name: input.policy_name,
            path,
        };
        if !self
            .store
            .insert_managed_policy(&policy, &input.document)
            .await?
        {
            return Err(IamError::EntityAlreadyExists(format!(
                "A policy called {} already exists. Duplicate names are not allowed.",
                policy.policy_name
            )));
        }
        Ok(PolicyInfo {
            policy,
            attachment_count: 0,
            boundary_usage_count: 0,
        })
    }

    /// A managed policy, customer or AWS managed.
    pub async fn get_policy(&self, arn: &str) -> Result<PolicyInfo> {
        self.check_policy_arn(arn)?;
        if let Some(builtin) = aws_managed::find(arn) {
            return Ok(PolicyInfo {
                attachment_count: self.store.attachment_count(arn).await?,
                boundary_usage_count: 0,
                policy: builtin_policy(builtin),
            });
        }
        self.store
            .managed_policy(arn)
            .await?
            .ok_or_else(|| policy_not_found(arn))
    }

    pub async fn list_policies(
        &self,
        scope: PolicyScope,
        only_attached: bool,
        path_prefix: Option<&str>,
        marker: Option<&str>,
        max_items: u32,
    ) -> Result<Page<PolicyInfo>> {
        let prefix = path_prefix.unwrap_or("/");
        let mut policies = Vec::new();
        if scope != PolicyScope::Local && "/".starts_with(prefix) {
            for builtin in aws_managed::POLICIES {
                let arn = builtin.arn();
                policies.push(PolicyInfo {
                    attachment_count: self.store.attachment_count(&arn).await?,
                    boundary_usage_count: 0,
                    policy: builtin_policy(builtin),
                });
            }
        }
        if scope != PolicyScope::Aws {
            policies.extend(self.store.list_managed_policies(prefix).await?);
        }
        if only_attached {
            policies.retain(|p| p.attachment_count > 0);
        }
        // One order for both kinds, so a marker works across them.
        policies.sort_by(|a, b| a.policy.arn.cmp(&b.policy.arn));
        page_of(policies, marker, max_items, |p| p.policy.arn.clone())
    }

    pub async fn delete_policy(&self, arn: &str) -> Result<()> {
        self.check_policy_arn(arn)?;
        if arn.starts_with(AWS_MANAGED_PREFIX) {
            return Err(IamError::AccessDenied(
                "Cannot delete policies outside your own account.".to_owned(),
            ));
        }
        if self.store.policy_versions(arn).await?.len() > 1 {
            return Err(IamError::DeleteConflict(
                "This policy has more than one version. Before you delete a policy, you must \
                 delete the policy's versions. The default version is deleted with the policy."
                    .to_owned(),
            ));
        }
        match self.store.delete_managed_policy(arn).await? {
            PairOutcome::Done => {
                // Sessions may still name it as a session policy (PolicyArns).
                self.permissions
                    .forget(&crate::authz::session_policy_cache_key(arn));
                Ok(())
            }
            PairOutcome::FirstMissing => Err(policy_not_found(arn)),
            PairOutcome::SecondMissing => Err(IamError::DeleteConflict(
                "Cannot delete a policy attached to entities.".to_owned(),
            )),
        }
    }

    pub async fn create_policy_version(
        &self,
        arn: &str,
        document: &str,
        set_as_default: bool,
        now: UnixSeconds,
    ) -> Result<PolicyVersion> {
        self.check_policy_arn(arn)?;
        refuse_aws_managed_change(arn)?;
        check_managed_policy(document)?;
        let (outcome, version) = self
            .store
            .insert_policy_version(arn, document, set_as_default, MAX_POLICY_VERSIONS, now)
            .await?;
        if set_as_default {
            self.permissions.forget_all();
        }
        match (outcome, version) {
            (CappedInsert::Inserted, Some(version)) => Ok(version),
            (CappedInsert::AtLimit, _) => Err(IamError::LimitExceeded(format!(
                "A managed policy can have up to {MAX_POLICY_VERSIONS} versions. Before you \
                 create a new version, you must delete an existing version."
            ))),
            _ => Err(policy_not_found(arn)),
        }
    }

    pub async fn get_policy_version(&self, arn: &str, version_id: &str) -> Result<PolicyVersion> {
        self.list_policy_versions(arn)
            .await
            .map_err(|e| match e {
                IamError::NoSuchEntity(_) => no_such_version(arn, version_id),
                other => other,
            })?
            .into_iter()
            .find(|v| v.version_id == version_id)
            .ok_or_else(|| no_such_version(arn, version_id))
    }

    /// Newest first.
    pub async fn list_policy_versions(&self, arn: &str) -> Result<Vec<PolicyVersion>> {
        self.check_policy_arn(arn)?;
        if let Some(builtin) = aws_managed::find(arn) {
            return Ok(vec![PolicyVersion {
                version_id: builtin.default_version.to_owned(),
                document: builtin.document.to_owned(),
                is_default: true,
                created_at: builtin.updated_at,
            }]);
        }
        let versions = self.store.policy_versions(arn).await?;
        if versions.is_empty() {
            return Err(policy_not_found(arn));
        }
        Ok(versions)
    }

    pub async fn set_default_policy_version(
        &self,
        arn: &str,
        version_id: &str,
        now: UnixSeconds,
    ) -> Result<()> {
        self.check_policy_arn(arn)?;
        refuse_aws_managed_change(arn)?;
        let outcome = self
            .store
            .set_default_policy_version(arn, version_id, now)
            .await?;
        self.permissions.forget_all();
        match outcome {
            PairOutcome::Done => Ok(()),
            // AWS says the same whether the policy or only the version is missing.
            _ => Err(no_such_version(arn, version_id)),
        }
    }

    pub async fn delete_policy_version(&self, arn: &str, version_id: &str) -> Result<()> {
        self.check_policy_arn(arn)?;
        if arn.starts_with(AWS_MANAGED_PREFIX) {
            return Err(IamError::AccessDenied(
                "Cannot delete policy versions for policies outside your own account.".to_owned(),
            ));
        }
        match self.store.delete_policy_version(arn, version_id).await? {
            DeleteVersionOutcome::Deleted => Ok(()),
            DeleteVersionOutcome::NotFound => Err(no_such_version(arn, version_id)),
            DeleteVersionOutcome::IsDefault => Err(IamError::DeleteConflict(
                "Cannot delete the default version of a policy.".to_owned(),
            )),
        }
    }

    pub async fn attach_policy(
        &self,
        kind: EntityKind,
        entity: &str,
        arn: &str,
        now: UnixSeconds,
    ) -> Result<()> {
        self.check_policy_arn(arn)?;
        if arn.starts_with(AWS_MANAGED_PREFIX) && aws_managed::find(arn).is_none() {
            return Err(not_attachable(arn));
        }
        let outcome = self.store.attach_policy(kind, entity, arn, now).await?;
        self.forget_entity(kind, entity);
        match outcome {
            PairOutcome::Done => Ok(()),
            PairOutcome::FirstMissing => {
                Err(IamError::NoSuchEntity(kind.not_found_message(entity)))
            }
            PairOutcome::SecondMissing => Err(not_attachable(arn)),
        }
    }

    pub async fn detach_policy(&self, kind: EntityKind, entity: &str, arn: &str) -> Result<()> {
        self.check_policy_arn(arn)?;
        let outcome = self.store.detach_policy(kind, entity, arn).await?;
        self.forget_entity(kind, entity);
        match outcome {
            PairOutcome::Done => Ok(()),
            PairOutcome::FirstMissing => {
                Err(IamError::NoSuchEntity(kind.not_found_message(entity)))
            }
            PairOutcome::SecondMissing => Err(policy_not_found(arn)),
        }
    }

    pub async fn list_attached_policies(
        &self,
        kind: EntityKind,
        entity: &str,
        path_prefix: Option<&str>,
        marker: Option<&str>,
        max_items: u32,
    ) -> Result<Page<AttachedPolicy>> {
        let arns = self
            .store
            .attached_policies(kind, entity)
            .await?
            .ok_or_else(|| IamError::NoSuchEntity(kind.not_found_message(entity)))?;
        let prefix = path_prefix.unwrap_or("/");
        let attached: Vec<AttachedPolicy> = arns
            .into_iter()
            .filter(|arn| policy_path_of(arn).starts_with(prefix))
            .map(|arn| AttachedPolicy {
                policy_name: policy_name_of(&arn).to_owned(),
                arn,
            })
            .collect();
        page_of(attached, marker, max_items, |p| p.arn.clone())
    }

    pub async fn list_entities_for_policy(
        &self,
        arn: &str,
        filter: Option<EntityKind>,
    ) -> Result<Vec<PolicyEntity>> {
        self.get_policy(arn).await?;
        let mut entities = self.store.entities_for_policy(arn).await?;
        if let Some(kind) = filter {
            entities.retain(|e| e.kind == kind);
        }
        Ok(entities)
    }

    /// The policy a boundary names must exist; AWS's wording differs from attaching's.
    pub(super) async fn require_boundary_policy(&self, arn: &str) -> Result<()> {
        let well_formed = self.check_policy_arn(arn).is_ok();
        if !well_formed {
            return Err(IamError::InvalidInput(format!("ARN {arn} is not valid.")));
        }
        let exists =
            aws_managed::find(arn).is_some() || self.store.managed_policy(arn).await?.is_some();
        if exists {
            Ok(())
        } else {
            Err(IamError::NoSuchEntity(format!(
                "Scope ARN: {arn} does not exist or is not attachable."
            )))
        }
    }

    pub async fn put_permissions_boundary(
        &self,
        kind: EntityKind,
        entity: &str,
        arn: &str,
    ) -> Result<()> {
        self.require_boundary_policy(arn).await?;
        self.set_boundary(kind, entity, Some(arn)).await
    }

    pub async fn delete_permissions_boundary(&self, kind: EntityKind, entity: &str) -> Result<()> {
        self.set_boundary(kind, entity, None).await
    }

    async fn set_boundary(&self, kind: EntityKind, entity: &str, arn: Option<&str>) -> Result<()> {
        let outcome = self
            .store
            .set_permissions_boundary(kind, entity, arn)
            .await?;
        self.forget_entity(kind, entity);
        if kind == EntityKind::Role {
            self.roles.forget(&super::role_cache_key(entity));
        }
        match outcome {
            PairOutcome::Done => Ok(()),
            PairOutcome::FirstMissing => {
                Err(IamError::NoSuchEntity(kind.not_found_message(entity)))
            }
            PairOutcome::SecondMissing => Err(IamError::NoSuchEntity(format!(
                "Scope ARN: {} does not exist or is not attachable.",
                arn.unwrap_or_default()
            ))),
        }
    }
}

/// The path of a managed policy from its ARN: what lies between `policy` and the name.
fn policy_path_of(arn: &str) -> &str {
    let after = arn.split_once(":policy").map_or("/", |(_, rest)| rest);
    match after.rfind('/') {
        Some(end) => after.get(..=end).unwrap_or("/"),
        None => "/",
    }
}

fn builtin_policy(builtin: &aws_managed::AwsManagedPolicy) -> ManagedPolicy {
    ManagedPolicy {
        arn: builtin.arn(),
        policy_name: builtin.name.to_owned(),
        path: "/".to_owned(),
        policy_id: builtin.policy_id.to_owned(),
        description: Some(builtin.description.to_owned()),
        default_version: builtin.default_version.to_owned(),
        tags: Vec::new(),
        created_at: builtin.created_at,
        updated_at: builtin.updated_at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_paths_of_policy_arns() {
        assert_eq!(policy_name_of("arn:aws:iam::1:policy/app/read"), "read");
        assert_eq!(policy_path_of("arn:aws:iam::1:policy/app/read"), "/app/");
        assert_eq!(
            policy_path_of("arn:aws:iam::aws:policy/AdministratorAccess"),
            "/"
        );
    }
}
