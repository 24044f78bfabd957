//! SetIdentityPoolRoles and GetIdentityPoolRoles (aws-api.md §2.6).

use super::{CognitoIdentity, CognitoIdentityError, IdentityPool, PoolRoles, Result};
use crate::UnixSeconds;
use crate::cognito_identity::model::RoleMappingType;

impl CognitoIdentity {
    pub async fn set_identity_pool_roles(
        &self,
        pool_id: &str,
        roles: PoolRoles,
        now: UnixSeconds,
    ) -> Result<()> {
        let pool = self.pool(pool_id).await?;
        for (provider, mapping) in &roles.role_mappings {
            if !pool.is_role_mapping_provider(provider) {
                return Err(CognitoIdentityError::InvalidParameter(format!(
                    "{provider} is not a valid RoleMapping ProviderName or is not a configured \
                     provider."
                )));
            }
            // AWS documents AmbiguousRoleResolution as required whenever a mapping has a type,
            // and a Rules mapping is nothing without its rules.
            if mapping.ambiguous_role_resolution.is_none() {
                return Err(CognitoIdentityError::InvalidParameter(format!(
                    "AmbiguousRoleResolution must be specified for the RoleMapping of {provider}."
                )));
            }
            if mapping.mapping_type == RoleMappingType::Rules
                && mapping.rules.as_ref().is_none_or(Vec::is_empty)
            {
                return Err(CognitoIdentityError::InvalidParameter(format!(
                    "RulesConfiguration must be specified for the Rules RoleMapping of {provider}."
                )));
            }
        }
        if self
            .store
            .set_identity_pool_roles(&pool.id, &roles, now)
            .await?
        {
            Ok(())
        } else {
            Err(super::pool_not_found(pool_id))
        }
    }

    pub async fn get_identity_pool_roles(&self, pool_id: &str) -> Result<IdentityPool> {
        self.pool(pool_id).await
    }
}
