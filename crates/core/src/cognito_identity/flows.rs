//! The enhanced and basic flows: GetId, GetOpenIdToken and GetCredentialsForIdentity
//! (aws-api.md §2.5). These three are public in AWS (no signature): what proves who the caller
//! is are the tokens in `Logins`, or, for a guest, nothing but the identity id.

use std::collections::BTreeMap;

use super::{
    COGNITO_LOGIN_PROVIDER, CognitoIdentity, CognitoIdentityError, IdentityPool, IdentityRecord,
    OpenIdToken, Result, identity_not_found, pool_not_found,
};
use crate::random::Randomness;
use crate::sts::StsError;
use crate::sts::credentials::TemporaryCredentials;
use crate::tokens::claims::OpenIdClaims;
use crate::tokens::verify::{self, TokenError, WebIdentityClaims};
use crate::{UnixSeconds, ids};

/// GetOpenIdToken's tokens live ten minutes (§3).
pub const OPEN_ID_TOKEN_SECONDS: i64 = 600;

const UNAUTHENTICATED: &str = "unauthenticated";

fn guests_refused() -> CognitoIdentityError {
    CognitoIdentityError::NotAuthorized(
        "Unauthenticated access is not supported for this identity pool.".to_owned(),
    )
}

fn logins_do_not_match() -> CognitoIdentityError {
    CognitoIdentityError::NotAuthorized(
        "Logins don't match. Please include at least one valid login for this identity or \
         identity pool."
            .to_owned(),
    )
}

fn invalid_pool_configuration() -> CognitoIdentityError {
    CognitoIdentityError::InvalidIdentityPoolConfiguration(
        "Invalid identity pool configuration. Check assigned IAM roles for this pool.".to_owned(),
    )
}

/// Credentials of the enhanced flow.
#[derive(Debug)]
pub struct IdentityCredentials {
    pub identity_id: String,
    pub credentials: TemporaryCredentials,
}

/// Who presented `Logins` for an identity, once the logins are checked.
pub(super) enum Presented {
    /// No logins: a guest.
    Guest,
    /// A token this deployment issued for the identity (the `cognito-identity.amazonaws.com`
    /// login), with its claims.
    CognitoToken(WebIdentityClaims),
}

impl CognitoIdentity {
    /// The identity `identity_id` and its pool.
    pub(super) async fn identity_and_pool(
        &self,
        identity_id: &str,
    ) -> Result<(IdentityRecord, IdentityPool)> {
        let identity = self
            .store
            .identity(identity_id)
            .await?
            .ok_or_else(|| identity_not_found(identity_id))?;
        let pool = self
            .store
            .identity_pool(&identity.pool_id)
            .await?
            .ok_or_else(|| identity_not_found(identity_id))?;
        Ok((identity, pool))
    }

    /// GetId: the identity of the logins presented, or a new guest identity when there are none.
    /// Every call without logins makes a new identity, as in AWS: clients keep theirs.
    pub async fn get_id(
        &self,
        pool_id: &str,
        logins: &BTreeMap<String, String>,
        now: UnixSeconds,
        rng: &dyn Randomness,
    ) -> Result<String> {
        let pool = self.pool(pool_id).await?;
        if let Some(provider) = logins.keys().next() {
            return Err(unverifiable_login(&pool, provider, true));
        }
        if !pool.spec.allow_unauthenticated_identities {
            return Err(guests_refused());
        }
        let identity_id = ids::regional_id(pool.region(), rng);
        if !self
            .store
            .insert_identity(&pool.id, &identity_id, now)
            .await?
        {
            return Err(pool_not_found(pool_id));
        }
        Ok(identity_id)
    }

    /// GetOpenIdToken, the basic flow's token: ten minutes, for a guest or for an identity that
    /// presents a token of its own.
    pub async fn get_open_id_token(
        &self,
        identity_id: &str,
        logins: &BTreeMap<String, String>,
        now: UnixSeconds,
    ) -> Result<OpenIdToken> {
        let (identity, pool) = self.identity_and_pool(identity_id).await?;
        // A pool created without AllowClassicFlow still allows the basic flow (aws-cli #7652).
        if pool.spec.allow_classic_flow == Some(false) {
            return Err(CognitoIdentityError::InvalidParameter(
                "Basic (classic) flow is not enabled, please use enhanced flow.".to_owned(),
            ));
        }
        if !pool.roles.role_mappings.is_empty() {
            return Err(CognitoIdentityError::InvalidParameter(
                "Basic (classic) flow is not supported with RoleMappings, please use enhanced \
                 flow."
                    .to_owned(),
            ));
        }
        let (amr, tags) = match self.presented(&identity, &pool, logins, now)? {
            Presented::Guest => (vec![UNAUTHENTICATED.to_owned()], None),
            Presented::CognitoToken(token) => (token.amr, token.tags),
        };
        let claims = OpenIdClaims {
            sub: identity.identity_id.clone(),
            aud: pool.id.clone(),
            amr,
            iss: self.deployment.issuer.clone(),
            identity_pool_arn: pool.arn(&self.deployment.account_id),
            exp: now + OPEN_ID_TOKEN_SECONDS,
            iat: now,
            tags,
        };
        let token = self.issuer.sign(&claims).await?;
        Ok(OpenIdToken {
            identity_id: identity.identity_id,
            token,
        })
    }

    /// GetCredentialsForIdentity, the enhanced flow: the pool picks the role and makes the
    /// session itself (session name `CognitoIdentityCredentials`, one hour). Developer
    /// identities get the pool's authenticated role, as in AWS, which applies no role mapping
    /// to them; a `CustomRoleArn` only chooses among the roles a mapping allows, so it changes
    /// nothing for them either.
    pub async fn get_credentials_for_identity(
        &self,
        identity_id: &str,
        logins: &BTreeMap<String, String>,
        now: UnixSeconds,
        rng: &dyn Randomness,
    ) -> Result<IdentityCredentials> {
        let (identity, pool) = self.identity_and_pool(identity_id).await?;
        let (role, token) = match self.presented(&identity, &pool, logins, now)? {
            Presented::Guest => {
                let token = WebIdentityClaims {
                    sub: identity.identity_id.clone(),
                    aud: pool.id.clone(),
                    amr: vec![UNAUTHENTICATED.to_owned()],
                    iss: self.deployment.issuer.clone(),
                    exp: now + OPEN_ID_TOKEN_SECONDS,
                    iat: Some(now),
                    tags: None,
                };
                (pool.roles.unauthenticated(), token)
            }
            Presented::CognitoToken(token) => (pool.roles.authenticated(), token),
        };
        let role = role.ok_or_else(invalid_pool_configuration)?;
        let session = self
            .sts
            .assume_role_for_identity(token, role, now, rng)
            .await
            .map_err(|e| match e {
                StsError::Throttling => CognitoIdentityError::TooManyRequests,
                StsError::InternalFailure(internal) => CognitoIdentityError::Internal(internal),
                // The role does not exist, does not trust the pool's tokens, or cannot be
                // assumed for another reason: AWS says the one thing.
                _ => invalid_pool_configuration(),
            })?;
        Ok(IdentityCredentials {
            identity_id: identity.identity_id,
            credentials: session.credentials,
        })
    }

    /// Check `logins` as the proof that the caller holds `identity`.
    pub(super) fn presented(
        &self,
        identity: &IdentityRecord,
        pool: &IdentityPool,
        logins: &BTreeMap<String, String>,
        now: UnixSeconds,
    ) -> Result<Presented> {
        if logins.is_empty() {
            // Only an identity that never had a login is a guest's.
            if !identity.logins.is_empty() {
                return Err(logins_do_not_match());
            }
            if !pool.spec.allow_unauthenticated_identities {
                return Err(guests_refused());
            }
            return Ok(Presented::Guest);
        }
        let mut cognito = None;
        for (provider, token) in logins {
            if provider == COGNITO_LOGIN_PROVIDER {
                cognito = Some(token);
            } else {
                return Err(unverifiable_login(pool, provider, false));
            }
        }
        let Some(token) = cognito else {
            return Err(logins_do_not_match());
        };
        let keys = self.issuer.keys();
        let claims =
            verify::verify(token, &keys, &self.deployment.issuer, now).map_err(|e| match e {
                TokenError::Expired(_) => CognitoIdentityError::NotAuthorized(
                    "Invalid login token. Token expired.".to_owned(),
                ),
                TokenError::Invalid(_) => CognitoIdentityError::NotAuthorized(
                    "Invalid login token. Couldn't verify signed token.".to_owned(),
                ),
            })?;
        if claims.sub != identity.identity_id || claims.aud != pool.id {
            return Err(logins_do_not_match());
        }
        Ok(Presented::CognitoToken(claims))
    }
}

/// The refusal of a login this deployment cannot check: a Cognito token where one is not
/// accepted, a provider the pool does not have, or an external provider's token (tegata does
/// not verify external providers' tokens yet, and refuses rather than trusts them).
fn unverifiable_login(
    pool: &IdentityPool,
    provider: &str,
    cognito_refused: bool,
) -> CognitoIdentityError {
    let message = if provider == COGNITO_LOGIN_PROVIDER && cognito_refused {
        "Invalid login token. Can't pass in a Cognito token."
    } else if pool.has_external_provider(provider) {
        "Invalid login token. Couldn't verify signed token."
    } else {
        "Token is not from a supported provider of this identity pool."
    };
    CognitoIdentityError::NotAuthorized(message.to_owned())
}
