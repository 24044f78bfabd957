//! The identity model's changes (aws-api.md §2.3): MergeDeveloperIdentities,
//! UnlinkDeveloperIdentity, UnlinkIdentity and DeleteIdentities.

use std::collections::BTreeMap;

use super::flows::Presented;
use super::{
    CognitoIdentity, CognitoIdentityError, IdentityPool, Result, identity_not_found,
    unsupported_developer_provider,
};
use crate::UnixSeconds;
use crate::store::Login;

/// AWS's bound on the logins of one identity, merges included.
pub const MAX_LOGINS_PER_IDENTITY: u64 = 20;

/// A DeleteIdentities entry that was not deleted, with AWS's error code for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnprocessedIdentity {
    pub identity_id: String,
    /// `AccessDenied` or `InternalServerError`, the model's two codes.
    pub error_code: &'static str,
}

impl CognitoIdentity {
    /// The pool's developer provider, which `provider` must name.
    fn developer_provider<'a>(&self, pool: &'a IdentityPool, provider: &str) -> Result<&'a str> {
        match pool.spec.developer_provider_name.as_deref() {
            Some(name) if name == provider => Ok(name),
            _ => Err(unsupported_developer_provider()),
        }
    }

    /// The identity a developer user is linked to in `pool`.
    async fn identity_of_user(
        &self,
        pool: &IdentityPool,
        provider: &str,
        user: &str,
        which: &str,
    ) -> Result<String> {
        self.store
            .identity_of_login(
                &pool.id,
                Login {
                    provider,
                    user_key: user,
                },
            )
            .await?
            .ok_or_else(|| {
                CognitoIdentityError::ResourceNotFound(format!(
                    "The {which} developer user identifier was not found in this identity pool."
                ))
            })
    }

    /// Move the source user's identity's logins onto the destination user's identity and disable
    /// the source identity; the destination identity is the answer. Two developer identities
    /// are merged only this way, never implicitly.
    pub async fn merge_developer_identities(
        &self,
        pool_id: &str,
        provider: &str,
        source_user: &str,
        destination_user: &str,
        now: UnixSeconds,
    ) -> Result<String> {
        let pool = self.pool(pool_id).await?;
        let provider = self.developer_provider(&pool, provider)?;
        let source = self
            .identity_of_user(&pool, provider, source_user, "source")
            .await?;
        let destination = self
            .identity_of_user(&pool, provider, destination_user, "destination")
            .await?;
        if source == destination {
            return Ok(destination);
        }
        self.merge_into(&pool, &source, &destination, true, now)
            .await?;
        Ok(destination)
    }

    /// Merge `source` into `destination` (both of `pool`): its logins move, it is disabled.
    /// Refused when both have a login of the same provider, since two users of one provider
    /// are two people; for the developer provider that holds unless `developer_merge`
    /// (MergeDeveloperIdentities joins two developer users on purpose; an implicit merge never
    /// does). Refused too when the merged identity would pass 20 logins.
    pub(super) async fn merge_into(
        &self,
        pool: &IdentityPool,
        source: &str,
        destination: &str,
        developer_merge: bool,
        now: UnixSeconds,
    ) -> Result<()> {
        let providers_of =
            |record: Option<super::IdentityRecord>| record.map(|r| r.logins).unwrap_or_default();
        let source_providers = providers_of(self.store.identity(source).await?);
        let destination_providers = providers_of(self.store.identity(destination).await?);
        let developer = pool.spec.developer_provider_name.as_deref();
        let shared = source_providers
            .iter()
            .filter(|p| destination_providers.contains(p))
            .find(|p| !(developer_merge && Some(p.as_str()) == developer));
        if let Some(shared) = shared {
            let message = if Some(shared.as_str()) == developer {
                "Two developer identities are merged only by MergeDeveloperIdentities."
            } else {
                "Both identities have a login of the same identity provider."
            };
            return Err(CognitoIdentityError::ResourceConflict(message.to_owned()));
        }
        let together =
            self.store.login_count(source).await? + self.store.login_count(destination).await?;
        if together > MAX_LOGINS_PER_IDENTITY {
            return Err(CognitoIdentityError::ResourceConflict(format!(
                "The merged identity would have {together} logins; an identity has at most \
                 {MAX_LOGINS_PER_IDENTITY}."
            )));
        }
        self.store
            .merge_identities(&pool.id, source, destination, now)
            .await?;
        Ok(())
    }

    /// Unlink one developer user from its identity. The identity stays; the user, seen again,
    /// gets a new one.
    pub async fn unlink_developer_identity(
        &self,
        pool_id: &str,
        identity_id: &str,
        provider: &str,
        user: &str,
        now: UnixSeconds,
    ) -> Result<()> {
        let pool = self.pool(pool_id).await?;
        let provider = self.developer_provider(&pool, provider)?;
        let identity = self.store.identity(identity_id).await?;
        if identity.is_none_or(|i| i.pool_id != pool.id) {
            return Err(identity_not_found(identity_id));
        }
        let login = Login {
            provider,
            user_key: user,
        };
        if self.store.unlink_login(identity_id, login, now).await? {
            Ok(())
        } else {
            Err(CognitoIdentityError::ResourceConflict(
                "The developer user identifier is not linked to the given IdentityId.".to_owned(),
            ))
        }
    }

    /// Unlink providers from an identity whose holder proves it with `logins`. Removing the last
    /// login leaves an identity no login reaches.
    pub async fn unlink_identity(
        &self,
        identity_id: &str,
        logins: &BTreeMap<String, String>,
        logins_to_remove: &[String],
        now: UnixSeconds,
    ) -> Result<()> {
        let (identity, pool) = self.identity_and_pool(identity_id).await?;
        if let (Presented::Guest, _) = self.presented(&identity, &pool, logins, now).await? {
            // A guest's identity has no login to remove.
            return Ok(());
        }
        for provider in logins_to_remove {
            self.store
                .unlink_provider(&identity.identity_id, provider, now)
                .await?;
        }
        Ok(())
    }

    /// Revoke an existing identity's sessions, then delete it (ids of no identity are skipped).
    async fn revoke_and_delete(
        &self,
        identity_id: &str,
        now: UnixSeconds,
    ) -> std::result::Result<(), crate::store::StoreError> {
        if self.store.identity(identity_id).await?.is_none() {
            return Ok(());
        }
        self.sts
            .revocations()
            .revoke_identity(identity_id, now)
            .await?;
        self.store.delete_identity(identity_id).await?;
        Ok(())
    }

    /// Delete identities with their logins. Ids of no identity are skipped, as AWS does; an
    /// identity that could not be deleted is reported, not failed. The credentials and tokens
    /// issued to each until `now` are refused from then on (revoked first: an identity whose
    /// deletion failed halfway has lost its sessions, never kept them).
    pub async fn delete_identities(
        &self,
        identity_ids: &[String],
        now: UnixSeconds,
    ) -> Vec<UnprocessedIdentity> {
        let mut unprocessed = Vec::new();
        for identity_id in identity_ids {
            if let Err(e) = self.revoke_and_delete(identity_id, now).await {
                tracing::error!(identity_id = %identity_id, error = %e, "DeleteIdentities: not deleted");
                unprocessed.push(UnprocessedIdentity {
                    identity_id: identity_id.clone(),
                    error_code: "InternalServerError",
                });
            }
        }
        unprocessed
    }
}
