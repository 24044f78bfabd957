//! The enhanced and basic flows: GetId, GetOpenIdToken and GetCredentialsForIdentity
//! (aws-api.md §2.5). These three are public in AWS (no signature): what proves who the caller
//! is are the tokens in `Logins`, or, for a guest, nothing but the identity id.
//!
//! Three kinds of login are understood: none (a guest), a token this deployment issued for the
//! identity (under `cognito-identity.amazonaws.com`, the enhanced developer flow), and an ID
//! token of an OpenID Connect provider the pool lists (under the provider's URL).

use std::collections::BTreeMap;

use super::model::{AmbiguousRoleResolution, RoleMappingType};
use super::{
    COGNITO_LOGIN_PROVIDER, CognitoIdentity, CognitoIdentityError, IdentityPool, IdentityRecord,
    OpenIdToken, Result, identity_not_found, pool_not_found,
};
use crate::iam::{oidc_provider_arn_prefix, parse_provider_url};
use crate::random::Randomness;
use crate::store::{LinkOutcome, Login};
use crate::sts::StsError;
use crate::sts::credentials::TemporaryCredentials;
use crate::tokens::claims::{OpenIdClaims, SessionTagsClaim, developer_user_of_amr};
use crate::tokens::federation::{self, ExternalToken};
use crate::tokens::verify::{TokenError, WebIdentityClaims};
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

fn invalid_login(reason: &str) -> CognitoIdentityError {
    CognitoIdentityError::NotAuthorized(format!("Invalid login token. {reason}"))
}

/// Credentials of the enhanced flow.
#[derive(Debug)]
pub struct IdentityCredentials {
    pub identity_id: String,
    pub credentials: TemporaryCredentials,
}

/// A verified ID token of one of the pool's OpenID Connect providers.
pub(super) struct ProviderLogin {
    /// The provider's URL: the login's key, and the provider name of the linked login.
    url: String,
    arn: String,
    token: ExternalToken,
}

impl ProviderLogin {
    fn login(&self) -> Login<'_> {
        Login {
            provider: &self.url,
            user_key: &self.token.sub,
        }
    }

    /// `amr` of an identity signed in through an OpenID Connect provider (§3).
    fn amr(&self) -> Vec<String> {
        vec![
            "authenticated".to_owned(),
            self.url.clone(),
            format!("{}:OIDC:{}", self.arn, self.token.sub),
        ]
    }
}

/// Who presented `Logins` for an identity, once the logins are checked.
pub(super) enum Presented {
    /// No logins: a guest.
    Guest,
    /// A token this deployment issued for the identity, with its claims.
    CognitoToken(WebIdentityClaims),
    /// An OpenID Connect provider's ID token, linked to the identity.
    Provider(ProviderLogin),
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

    /// GetId: the identity of the login presented (made at its first sight), or a new guest
    /// identity when there is none. Every call without logins makes a new identity, as in AWS:
    /// clients keep theirs.
    pub async fn get_id(
        &self,
        pool_id: &str,
        logins: &BTreeMap<String, String>,
        now: UnixSeconds,
        rng: &dyn Randomness,
    ) -> Result<String> {
        let pool = self.pool(pool_id).await?;
        let mut verified = Vec::with_capacity(logins.len());
        for (key, token) in logins {
            verified.push(self.provider_login(&pool, key, token, now, true).await?);
        }
        if let Some(first) = verified.first() {
            let candidate = ids::regional_id(pool.region(), rng);
            let (identity_id, _) = self
                .store
                .find_or_create_identity(&pool.id, first.login(), &candidate, now)
                .await?;
            // The other logins presented with it join the identity (they are its user's too):
            // linked if new, their identities merged into it if not.
            if verified.len() > 1 {
                let identity = self
                    .store
                    .identity(&identity_id)
                    .await?
                    .ok_or_else(|| identity_not_found(&identity_id))?;
                for login in verified.iter().skip(1) {
                    let owner = self
                        .store
                        .identity_of_login(&pool.id, login.login())
                        .await?;
                    match owner {
                        Some(owner) if owner == identity_id => {}
                        Some(owner) => {
                            self.merge_into(&pool, &owner, &identity_id, false, now)
                                .await?;
                        }
                        None => self.link_new_login(&identity, &pool, login, now).await?,
                    }
                }
            }
            return Ok(identity_id);
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
    /// presents a login of its own.
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
        let (presented, identity_id) = self.presented(&identity, &pool, logins, now).await?;
        let (amr, tags) = match presented {
            Presented::Guest => (vec![UNAUTHENTICATED.to_owned()], None),
            Presented::CognitoToken(token) => (token.amr, token.tags),
            Presented::Provider(login) => (login.amr(), principal_tags(&pool, &login)),
        };
        let claims = OpenIdClaims {
            sub: identity_id.clone(),
            aud: pool.id.clone(),
            amr,
            iss: self.deployment.issuer.clone(),
            identity_pool_arn: pool.arn(&self.deployment.account_id),
            exp: now + OPEN_ID_TOKEN_SECONDS,
            iat: now,
            tags,
        };
        let token = self.issuer.sign(&claims).await?;
        Ok(OpenIdToken { identity_id, token })
    }

    /// GetCredentialsForIdentity, the enhanced flow: the pool picks the role and makes the
    /// session itself (session name `CognitoIdentityCredentials`, one hour).
    ///
    /// Developer identities get the pool's authenticated role, as in AWS, which applies no role
    /// mapping to them, unless the pool opted in to mapping them (tegata's extension); a
    /// provider's users get the role their mapping picks (a `CustomRoleArn` chooses among the
    /// roles the mapping allows), or the authenticated role when the provider has no mapping.
    pub async fn get_credentials_for_identity(
        &self,
        identity_id: &str,
        logins: &BTreeMap<String, String>,
        custom_role_arn: Option<&str>,
        now: UnixSeconds,
        rng: &dyn Randomness,
    ) -> Result<IdentityCredentials> {
        let (identity, pool) = self.identity_and_pool(identity_id).await?;
        let (presented, identity_id) = self.presented(&identity, &pool, logins, now).await?;
        let web_identity = |amr: Vec<String>, tags: Option<SessionTagsClaim>| WebIdentityClaims {
            sub: identity_id.clone(),
            aud: pool.id.clone(),
            amr,
            iss: self.deployment.issuer.clone(),
            exp: now + OPEN_ID_TOKEN_SECONDS,
            iat: Some(now),
            tags,
        };
        let (role, token) = match presented {
            Presented::Guest => (
                pool.roles.unauthenticated().map(str::to_owned),
                web_identity(vec![UNAUTHENTICATED.to_owned()], None),
            ),
            Presented::CognitoToken(token) => {
                let role = match developer_mapping_key(&pool) {
                    Some(key) => {
                        let claims = DeveloperClaims::of(&pool, &token);
                        mapped_role(&pool, &[key], &|name| claims.claim(name), custom_role_arn)?
                    }
                    None => pool.roles.authenticated().map(str::to_owned),
                };
                (role, token)
            }
            Presented::Provider(login) => {
                let keys = [login.url.as_str(), login.arn.as_str()];
                let claims = |name: &str| login.token.claim(name);
                let role = mapped_role(&pool, &keys, &claims, custom_role_arn)?;
                let tags = principal_tags(&pool, &login);
                (role, web_identity(login.amr(), tags))
            }
        };
        let role = role.ok_or_else(invalid_pool_configuration)?;
        let session = self
            .sts
            .assume_role_for_identity(token, &role, now, rng)
            .await
            .map_err(|e| match e {
                StsError::Throttling => CognitoIdentityError::TooManyRequests,
                StsError::InternalFailure(internal) => CognitoIdentityError::Internal(internal),
                // The role does not exist, does not trust the pool's tokens, or cannot be
                // assumed for another reason: AWS says the one thing.
                _ => invalid_pool_configuration(),
            })?;
        Ok(IdentityCredentials {
            identity_id,
            credentials: session.credentials,
        })
    }

    /// Check `logins` as the proof that the caller holds `identity`, and the identity that
    /// answers (it differs from `identity` after an implicit merge into another).
    ///
    /// Every login is verified. An identity that has logins is proven only by one already
    /// linked to it: the developer's token for a developer user still linked to it, or a
    /// provider's token whose user is linked to it. Then the other logins presented join it:
    /// a provider's login linked nowhere is linked to it, and one linked to another identity
    /// merges that identity into it (AWS's implicit merge: the caller proved both; two
    /// developer identities are never merged implicitly). An identity that never had a login is
    /// a guest's: no logins proves it (when the pool allows guests), a provider's new login
    /// links it, and a login of another identity merges the guest's identity into that one,
    /// which then answers. A disabled identity (merged away, or emptied of its logins) proves
    /// nothing.
    pub(super) async fn presented(
        &self,
        identity: &IdentityRecord,
        pool: &IdentityPool,
        logins: &BTreeMap<String, String>,
        now: UnixSeconds,
    ) -> Result<(Presented, String)> {
        if identity.disabled {
            return Err(CognitoIdentityError::NotAuthorized(format!(
                "Identity '{}' is disabled.",
                identity.identity_id
            )));
        }
        let this = identity.identity_id.clone();
        if logins.is_empty() {
            if !identity.logins.is_empty() {
                return Err(logins_do_not_match());
            }
            if !pool.spec.allow_unauthenticated_identities {
                return Err(guests_refused());
            }
            return Ok((Presented::Guest, this));
        }
        let mut proof = None;
        let mut to_link = Vec::new();
        let mut elsewhere: Vec<(String, ProviderLogin)> = Vec::new();
        for (key, token) in logins {
            if key == COGNITO_LOGIN_PROVIDER {
                let claims = self.own_token(identity, pool, token, now).await?;
                proof.get_or_insert(Presented::CognitoToken(claims));
                continue;
            }
            let login = self.provider_login(pool, key, token, now, false).await?;
            match self
                .store
                .identity_of_login(&pool.id, login.login())
                .await?
            {
                Some(owner) if owner == this => {
                    proof.get_or_insert(Presented::Provider(login));
                }
                Some(owner) => elsewhere.push((owner, login)),
                None => to_link.push(login),
            }
        }
        let guest = identity.logins.is_empty();
        if let Some(proof) = proof {
            // Proven: the others join this identity.
            for (owner, _) in &elsewhere {
                self.merge_into(pool, owner, &this, false, now).await?;
            }
            for login in &to_link {
                self.link_new_login(identity, pool, login, now).await?;
            }
            return Ok((proof, this));
        }
        if !guest {
            return Err(logins_do_not_match());
        }
        if let Some((owner, login)) = elsewhere.into_iter().next() {
            // A guest signing in to an identity that exists: the guest's identity joins it.
            self.merge_into(pool, &this, &owner, false, now).await?;
            return Ok((Presented::Provider(login), owner));
        }
        let mut linked = Vec::with_capacity(to_link.len());
        for login in to_link {
            self.link_new_login(identity, pool, &login, now).await?;
            linked.push(login);
        }
        let first = linked.into_iter().next().ok_or_else(logins_do_not_match)?;
        Ok((Presented::Provider(first), this))
    }

    /// The developer's token (GetOpenIdTokenForDeveloperIdentity's) for `identity` of `pool`,
    /// presented under `cognito-identity.amazonaws.com`: signed by this deployment, for this
    /// identity and pool, of an authenticated developer user who is still linked to it. A
    /// guest's token from GetOpenIdToken (amr `unauthenticated`) proves nothing here.
    async fn own_token(
        &self,
        identity: &IdentityRecord,
        pool: &IdentityPool,
        token: &str,
        now: UnixSeconds,
    ) -> Result<WebIdentityClaims> {
        let claims = self
            .issuer
            .verify(token, &self.deployment.issuer, now)
            .map_err(|e| match e {
                TokenError::Expired(_) => invalid_login("Token expired."),
                TokenError::Invalid(_) => invalid_login("Couldn't verify signed token."),
            })?;
        if claims.sub != identity.identity_id || claims.aud != pool.id {
            return Err(logins_do_not_match());
        }
        if self.sts.token_is_revoked(&claims) {
            return Err(invalid_login("Token revoked."));
        }
        let Some(provider) = pool.spec.developer_provider_name.as_deref() else {
            return Err(logins_do_not_match());
        };
        let user = developer_user_of_amr(&claims.amr, provider, &pool.id)
            .filter(|_| claims.amr.iter().any(|a| a == "authenticated"));
        let Some(user) = user else {
            return Err(logins_do_not_match());
        };
        let login = Login {
            provider,
            user_key: user,
        };
        if self
            .store
            .identity_of_login(&pool.id, login)
            .await?
            .as_deref()
            != Some(identity.identity_id.as_str())
        {
            // Unlinked, or merged onto another identity, since the token was issued.
            return Err(logins_do_not_match());
        }
        Ok(claims)
    }

    /// The login `key` → `token` of one of the pool's OpenID Connect providers, verified.
    /// `for_get_id` refuses a Cognito token the way GetId does.
    async fn provider_login(
        &self,
        pool: &IdentityPool,
        key: &str,
        token: &str,
        now: UnixSeconds,
        for_get_id: bool,
    ) -> Result<ProviderLogin> {
        if key == COGNITO_LOGIN_PROVIDER && for_get_id {
            return Err(invalid_login("Can't pass in a Cognito token."));
        }
        let prefix = oidc_provider_arn_prefix(&self.deployment.account_id);
        let arn = pool
            .spec
            .open_id_connect_provider_arns
            .iter()
            .flatten()
            .find(|arn| arn.strip_prefix(&prefix) == Some(key))
            .cloned();
        let Some(arn) = arn else {
            // Public providers, user pools and SAML are not verified by tegata (yet): their
            // tokens are refused rather than trusted.
            let message = if pool.has_external_provider(key) {
                "Invalid login token. Couldn't verify signed token."
            } else {
                "Token is not from a supported provider of this identity pool."
            };
            return Err(CognitoIdentityError::NotAuthorized(message.to_owned()));
        };
        let issued_by = federation::unverified_issuer(token)
            .and_then(|iss| parse_provider_url(&iss).map(|(_, url)| url));
        if issued_by.as_deref() != Some(key) {
            return Err(invalid_login("Issuer doesn't match providerName"));
        }
        let verified = self
            .sts
            .verify_provider_token(key, token, now)
            .await
            .map_err(|e| match e {
                StsError::IdpCommunication(_) => CognitoIdentityError::ExternalService(format!(
                    "{key}: the identity provider's keys could not be fetched."
                )),
                StsError::ExpiredToken(_) => invalid_login("Token expired."),
                StsError::InvalidIdentityToken(m) if m == "Incorrect token audience" => {
                    invalid_login("Incorrect token audience.")
                }
                StsError::Throttling => CognitoIdentityError::TooManyRequests,
                StsError::InternalFailure(internal) => CognitoIdentityError::Internal(internal),
                _ => invalid_login("Couldn't verify signed token."),
            })?;
        let Some((_, token)) = verified else {
            // Listed by the pool, but no longer registered in IAM.
            return Err(invalid_login("Couldn't verify signed token."));
        };
        Ok(ProviderLogin {
            url: key.to_owned(),
            arn,
            token,
        })
    }

    /// Link a provider's login, linked to no identity, to `identity`: one login per provider
    /// per identity, at most 20 logins. A login another request linked meanwhile is refused.
    async fn link_new_login(
        &self,
        identity: &IdentityRecord,
        pool: &IdentityPool,
        login: &ProviderLogin,
        now: UnixSeconds,
    ) -> Result<()> {
        if identity.logins.contains(&login.url) {
            return Err(CognitoIdentityError::ResourceConflict(format!(
                "The identity already has a login of {}.",
                login.url
            )));
        }
        self.check_room_for_a_login(&identity.identity_id).await?;
        match self
            .store
            .link_login(&pool.id, &identity.identity_id, login.login(), now)
            .await?
        {
            LinkOutcome::Linked => Ok(()),
            LinkOutcome::IdentityNotFound => Err(identity_not_found(&identity.identity_id)),
            LinkOutcome::AlreadyLinkedElsewhere(_) => Err(logins_do_not_match()),
        }
    }
}

/// The role an authenticated user gets (§2.6): the mapping of the first of `keys` that has one,
/// else the pool's authenticated role. `claim` reads the user's claims by name. `Ok(None)`: no
/// role applies.
fn mapped_role(
    pool: &IdentityPool,
    keys: &[&str],
    claim: &dyn Fn(&str) -> Option<String>,
    custom_role_arn: Option<&str>,
) -> Result<Option<String>> {
    let default = pool.roles.authenticated().map(str::to_owned);
    let mappings = &pool.roles.role_mappings;
    let Some(mapping) = keys.iter().find_map(|key| mappings.get(*key)) else {
        return Ok(default);
    };
    let ambiguous = || match mapping.ambiguous_role_resolution {
        Some(AmbiguousRoleResolution::Deny) => Err(no_role_matched()),
        _ => Ok(default.clone()),
    };
    match mapping.mapping_type {
        RoleMappingType::Rules => {
            let matching: Vec<&str> = mapping
                .rules
                .iter()
                .flatten()
                .filter(|rule| rule.matches(claim(&rule.claim).as_deref()))
                .map(|rule| rule.role_arn.as_str())
                .collect();
            match (custom_role_arn, matching.first()) {
                // A CustomRoleArn picks among the roles the rules give, not beyond them.
                (Some(custom), _) if matching.contains(&custom) => Ok(Some(custom.to_owned())),
                (Some(_), _) => Err(no_role_matched()),
                (None, Some(first)) => Ok(Some((*first).to_owned())),
                (None, None) => ambiguous(),
            }
        }
        RoleMappingType::Token => {
            // User pools' claims: `cognito:roles` (a list, read as JSON) and
            // `cognito:preferred_role`.
            let roles: Vec<String> = claim("cognito:roles")
                .map(|text| serde_json::from_str(&text).unwrap_or_else(|_| vec![text]))
                .unwrap_or_default();
            match (custom_role_arn, claim("cognito:preferred_role")) {
                (Some(custom), _) if roles.iter().any(|r| r == custom) => {
                    Ok(Some(custom.to_owned()))
                }
                (Some(_), _) => Err(no_role_matched()),
                (None, Some(preferred)) => Ok(Some(preferred)),
                (None, None) if roles.len() == 1 => Ok(roles.into_iter().next()),
                (None, None) => ambiguous(),
            }
        }
    }
}

/// The mapping key of developer identities, when the pool opted in to mapping their roles
/// (see [`super::DEVELOPER_ROLE_MAPPINGS_TAG`]).
fn developer_mapping_key(pool: &IdentityPool) -> Option<&str> {
    if !pool.maps_developer_roles() {
        return None;
    }
    pool.spec.developer_provider_name.as_deref()
}

/// What the rules of a developer identity's mapping can test: `DeveloperProviderName`,
/// `DeveloperUserIdentifier`, and `PrincipalTag/<key>` for each principal tag the backend gave
/// GetOpenIdTokenForDeveloperIdentity.
struct DeveloperClaims {
    provider: Option<String>,
    user: Option<String>,
    tags: BTreeMap<String, String>,
}

impl DeveloperClaims {
    fn of(pool: &IdentityPool, token: &WebIdentityClaims) -> Self {
        let provider = pool.spec.developer_provider_name.clone();
        let user = provider
            .as_deref()
            .and_then(|p| developer_user_of_amr(&token.amr, p, &pool.id))
            .map(str::to_owned);
        let tags = token
            .tags
            .iter()
            .flat_map(|t| &t.principal_tags)
            .filter_map(|(k, v)| Some((k.clone(), v.first()?.clone())))
            .collect();
        Self {
            provider,
            user,
            tags,
        }
    }

    fn claim(&self, name: &str) -> Option<String> {
        match name {
            "DeveloperProviderName" => self.provider.clone(),
            "DeveloperUserIdentifier" => self.user.clone(),
            _ => self.tags.get(name.strip_prefix("PrincipalTag/")?).cloned(),
        }
    }
}

fn no_role_matched() -> CognitoIdentityError {
    CognitoIdentityError::NotAuthorized(
        "No role mapping rule matched this user, and the pool's AmbiguousRoleResolution is Deny."
            .to_owned(),
    )
}

/// The principal tags of a provider's user: the pool's map for that provider, tag → claim.
fn principal_tags(pool: &IdentityPool, login: &ProviderLogin) -> Option<SessionTagsClaim> {
    let map = pool.principal_tag_maps.get(&login.url)?;
    let tags: BTreeMap<String, String> = map
        .principal_tags
        .iter()
        .filter_map(|(tag, claim)| Some((tag.clone(), login.token.claim(claim)?)))
        .collect();
    SessionTagsClaim::from_principal_tags(&tags)
}
