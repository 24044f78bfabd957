//! Tags of a pool (TagResource, UntagResource, ListTagsForResource) and its principal tag maps
//! (SetPrincipalTagAttributeMap, GetPrincipalTagAttributeMap).

use std::collections::BTreeMap;

use super::{CognitoIdentity, CognitoIdentityError, IdentityPool, PrincipalTagMap, Result};
use crate::UnixSeconds;

/// AWS's bound on the tags of one pool.
pub const MAX_TAGS_PER_POOL: usize = 50;

impl CognitoIdentity {
    /// The pool an ARN names: `arn:aws:cognito-identity:<region>:<account>:identitypool/<id>`,
    /// of this account and of the region the pool id carries.
    async fn pool_of_arn(&self, arn: &str) -> Result<IdentityPool> {
        let pool_id = arn
            .strip_prefix("arn:aws:cognito-identity:")
            .and_then(|rest| {
                let (region, rest) = rest.split_once(':')?;
                let (account, rest) = rest.split_once(':')?;
                let pool_id = rest.strip_prefix("identitypool/")?;
                let id_region = pool_id.split_once(':')?.0;
                (account == self.deployment.account_id && id_region == region).then_some(pool_id)
            })
            .ok_or_else(|| {
                CognitoIdentityError::ResourceNotFound(format!("Resource '{arn}' not found."))
            })?;
        self.pool(pool_id).await
    }

    pub async fn tag_resource(
        &self,
        arn: &str,
        tags: BTreeMap<String, String>,
        now: UnixSeconds,
    ) -> Result<()> {
        let pool = self.pool_of_arn(arn).await?;
        self.change_pool(&pool.id, now, |existing| {
            let mut spec = existing.spec.clone();
            let current = spec.tags.get_or_insert_with(BTreeMap::new);
            current.extend(tags.clone());
            if current.len() > MAX_TAGS_PER_POOL {
                return Err(CognitoIdentityError::InvalidParameter(format!(
                    "An identity pool has at most {MAX_TAGS_PER_POOL} tags."
                )));
            }
            Ok(spec)
        })
        .await?;
        Ok(())
    }

    pub async fn untag_resource(
        &self,
        arn: &str,
        tag_keys: &[String],
        now: UnixSeconds,
    ) -> Result<()> {
        let pool = self.pool_of_arn(arn).await?;
        self.change_pool(&pool.id, now, |existing| {
            let mut spec = existing.spec.clone();
            if let Some(current) = spec.tags.as_mut() {
                for key in tag_keys {
                    current.remove(key);
                }
            }
            Ok(spec)
        })
        .await?;
        Ok(())
    }

    pub async fn list_tags_for_resource(&self, arn: &str) -> Result<BTreeMap<String, String>> {
        Ok(self.pool_of_arn(arn).await?.spec.tags.unwrap_or_default())
    }

    /// Which claims of `provider`'s tokens become principal tags. The provider must be one the
    /// pool is configured with: a developer provider's tags come with each
    /// GetOpenIdTokenForDeveloperIdentity call instead.
    pub async fn set_principal_tag_attribute_map(
        &self,
        pool_id: &str,
        provider: &str,
        map: PrincipalTagMap,
        now: UnixSeconds,
    ) -> Result<PrincipalTagMap> {
        let pool = self.pool(pool_id).await?;
        if !pool.is_role_mapping_provider(provider) {
            return Err(CognitoIdentityError::InvalidParameter(format!(
                "{provider} is not an identity provider configured on this identity pool."
            )));
        }
        if !self
            .store
            .set_principal_tag_map(&pool.id, provider, &map, now)
            .await?
        {
            return Err(super::pool_not_found(pool_id));
        }
        Ok(map)
    }

    /// The map of `provider`; a provider never set has none (the console's "inactive").
    pub async fn get_principal_tag_attribute_map(
        &self,
        pool_id: &str,
        provider: &str,
    ) -> Result<PrincipalTagMap> {
        let pool = self.pool(pool_id).await?;
        Ok(pool
            .principal_tag_maps
            .get(provider)
            .cloned()
            .unwrap_or_default())
    }
}
