//! STS: AssumeRoleWithWebIdentity and GetCallerIdentity.

mod assume_role;
pub mod credentials;
mod error;
mod user_sessions;

pub use assume_role::{
    AssumeRoleInput, AssumeRoleOutput, AwsCaller, IdentityVerdicts, assume_role_actions,
};
pub use user_sessions::{GetFederationTokenInput, GetFederationTokenOutput};

use std::sync::Arc;

use tegata_policy::{
    Context, Decision, PolicyDocument, PolicyKind, Principal as PolicyPrincipal, Request,
};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub use error::StsError;

use crate::UnixSeconds;
use crate::account::Principal;
use crate::denials::DenialMessages;
use crate::deployment::Deployment;
use crate::error::Internal;
use crate::iam::{OidcProvider, parse_provider_url};
use crate::iam::{Role, RoleCache, TrustedRole, aws_managed, role_cache_key};
use crate::random::Randomness;
use crate::revocations::SessionRevocations;
use crate::store::Store;
use crate::tokens::TokenIssuer;
use crate::tokens::claims::SessionTagsClaim;
use crate::tokens::federation::{self, ExternalKeys, ExternalToken, ExternalTokenError};
use crate::tokens::verify::{self, WebIdentityClaims};
use credentials::{CredentialMinter, SessionClaims, TemporaryCredentials};

type Result<T, E = StsError> = std::result::Result<T, E>;

/// The principal a Cognito Identity token stands for in trust policies. tegata's tokens play
/// Cognito's part, so the trust policies users already have keep working unchanged.
pub const COGNITO_FEDERATED_PRINCIPAL: &str = "cognito-identity.amazonaws.com";

pub const DEFAULT_DURATION_SECONDS: i64 = 3600;

/// The packed budget of a session policy and session tags, in characters.
const PACKED_POLICY_BUDGET: usize = 2048;

/// A pool id that no pool has, to learn whether a trust policy pins the audience.
const PROBE_AUDIENCE: &str = "tegata-probe:00000000-0000-0000-0000-000000000000";

/// The role session name AWS gives the sessions of the enhanced flow.
pub const COGNITO_SESSION_NAME: &str = "CognitoIdentityCredentials";

/// What a session is asked for, apart from the token.
struct SessionRequest {
    role_arn: String,
    role_session_name: String,
    duration_seconds: Option<i64>,
    policies: SessionPolicies,
    source_ip: Option<String>,
}

/// The session policies a request passes: a document (`Policy`) and managed policies by ARN
/// (`PolicyArns`). They narrow the session: it may do only what they allow, together.
#[derive(Debug, Clone, Default)]
pub struct SessionPolicies {
    pub policy: Option<String>,
    pub policy_arns: Vec<String>,
}

impl SessionPolicies {
    pub fn is_empty(&self) -> bool {
        self.policy.is_none() && self.policy_arns.is_empty()
    }
}

pub struct AssumeRoleWithWebIdentityInput {
    pub role_arn: String,
    pub role_session_name: String,
    pub web_identity_token: String,
    pub duration_seconds: Option<i64>,
    pub policies: SessionPolicies,
    pub source_ip: Option<String>,
}

#[derive(Debug, Clone)]
pub struct AssumeRoleWithWebIdentityOutput {
    pub credentials: TemporaryCredentials,
    pub subject_from_web_identity_token: String,
    pub assumed_role_id: String,
    pub assumed_role_arn: String,
    pub provider: String,
    pub audience: String,
    pub packed_policy_size: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentity {
    pub user_id: String,
    pub account: String,
    pub arn: String,
}

pub struct Sts {
    store: Arc<dyn Store>,
    deployment: Arc<Deployment>,
    roles: Arc<RoleCache>,
    issuer: Arc<TokenIssuer>,
    minter: Arc<CredentialMinter>,
    /// Keys of the registered OpenID Connect providers.
    external_keys: Arc<ExternalKeys>,
    /// Refuse roles whose trust policy lets any identity pool's tokens in.
    strict_cognito_trust: bool,
    /// Opens the encoded authorization failure messages of denials.
    denials: Arc<DenialMessages>,
    /// Sessions and tokens of identities refused before they expire.
    revocations: Arc<SessionRevocations>,
    /// When this node last recorded each role's use (GetRole's RoleLastUsed), by role id.
    role_uses: std::sync::Mutex<std::collections::HashMap<String, UnixSeconds>>,
}

/// How often a node records the use of one role: AWS's RoleLastUsed is not exact either.
const ROLE_USE_INTERVAL_SECONDS: i64 = 60;
/// Roles whose last recording this node remembers; beyond it, it starts afresh.
const REMEMBERED_ROLE_USES: usize = 10_000;

fn not_authorized() -> StsError {
    StsError::AccessDenied("Not authorized to perform sts:AssumeRoleWithWebIdentity".to_owned())
}

/// `arn:aws:iam::<account>:role/<path><name>` → (account, path, name).
fn parse_role_arn(arn: &str) -> Option<(&str, &str, &str)> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, resource) = rest.split_once(':')?;
    let path_and_name = resource.strip_prefix("role")?;
    if !path_and_name.starts_with('/') {
        return None;
    }
    let split = path_and_name.rfind('/')?;
    let (path, name) = path_and_name.split_at(split + 1);
    (!name.is_empty()).then_some((account, path, name))
}

/// What STS shares with the rest of the deployment.
pub struct StsShared {
    pub store: Arc<dyn Store>,
    pub deployment: Arc<Deployment>,
    /// Roles by name, shared with IAM so its writes are seen at once.
    pub roles: Arc<RoleCache>,
    pub issuer: Arc<TokenIssuer>,
    pub minter: Arc<CredentialMinter>,
    /// Keys of the registered OpenID Connect providers.
    pub external_keys: Arc<ExternalKeys>,
    /// Opens the encoded messages of explained denials.
    pub denials: Arc<DenialMessages>,
    /// Sessions and tokens of identities refused before they expire.
    pub revocations: Arc<SessionRevocations>,
}

impl Sts {
    /// The revoked sessions and tokens of identities, shared with authentication.
    pub fn revocations(&self) -> &Arc<SessionRevocations> {
        &self.revocations
    }

    /// Whether a token of this deployment was issued to an identity (or pool) revoked since.
    pub fn token_is_revoked(&self, claims: &WebIdentityClaims) -> bool {
        claims
            .iat
            .is_some_and(|iat| self.revocations.is_revoked(&claims.sub, &claims.aud, iat))
    }

    pub fn new(shared: StsShared, strict_cognito_trust: bool) -> Self {
        Self {
            store: shared.store,
            deployment: shared.deployment,
            roles: shared.roles,
            issuer: shared.issuer,
            minter: shared.minter,
            external_keys: shared.external_keys,
            denials: shared.denials,
            revocations: shared.revocations,
            strict_cognito_trust,
            role_uses: Default::default(),
        }
    }

    /// Record that `role` made a session at `now` in `region` (GetRole's RoleLastUsed): at most
    /// once a minute per role on this node, written off the request's path.
    fn note_role_use(&self, role: &Role, now: UnixSeconds, region: &str) {
        let due = {
            let mut uses = self
                .role_uses
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if uses.len() >= REMEMBERED_ROLE_USES {
                uses.clear();
            }
            let last = uses.entry(role.role_id.clone()).or_insert(UnixSeconds::MIN);
            let due = now.saturating_sub(*last) >= ROLE_USE_INTERVAL_SECONDS;
            if due {
                *last = now;
            }
            due
        };
        if !due {
            return;
        }
        let (store, name, id, region) = (
            self.store.clone(),
            role.role_name.clone(),
            role.role_id.clone(),
            region.to_owned(),
        );
        // Best effort: a node stopping loses at most its last minute of uses.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(e) = store.record_role_use(&name, &id, now, &region).await {
                    tracing::warn!(role = %name, error = %e, "could not record the role's last use");
                }
            });
        }
    }

    pub fn minter(&self) -> &Arc<CredentialMinter> {
        &self.minter
    }

    /// The role `arn` names, with its parsed trust policy; `None` when the ARN names no role
    /// of this account (or names it under another path).
    async fn role_for_arn(&self, arn: &str, now: UnixSeconds) -> Result<Option<Arc<TrustedRole>>> {
        let Some((account, path, name)) = parse_role_arn(arn) else {
            return Ok(None);
        };
        if account != self.deployment.account_id {
            return Ok(None);
        }
        let trusted = self
            .roles
            .get_or_load(&role_cache_key(name), now, || async {
                let Some(role) = self.store.role(name).await? else {
                    return Ok(None);
                };
                let trust =
                    PolicyDocument::parse(&role.assume_role_policy_document, PolicyKind::Trust)
                        .map_err(|e| {
                            Internal::caused_by(
                                format!("the stored trust policy of {}", role.role_name),
                                e,
                            )
                        })?;
                Ok::<_, StsError>(Some(Arc::new(TrustedRole { role, trust })))
            })
            .await?;
        Ok(trusted.filter(|t| t.role.path == path && t.role.role_name == name))
    }

    pub async fn assume_role_with_web_identity(
        &self,
        input: AssumeRoleWithWebIdentityInput,
        now: UnixSeconds,
        rng: &dyn Randomness,
    ) -> Result<AssumeRoleWithWebIdentityOutput> {
        let issuer = federation::unverified_issuer(&input.web_identity_token);
        let token = match issuer {
            Some(iss) if iss != self.deployment.issuer => {
                self.verify_external(&input.web_identity_token, &iss, now)
                    .await?
            }
            _ => {
                let claims =
                    self.issuer
                        .verify(&input.web_identity_token, &self.deployment.issuer, now)?;
                // A token of an identity revoked since it was issued: tegata's own refusal,
                // worded like the other refusals of a token.
                if self.token_is_revoked(&claims) {
                    return Err(StsError::InvalidIdentityToken(
                        "The ID Token was revoked: its identity's sessions were revoked after it \
                         was issued."
                            .to_owned(),
                    ));
                }
                FederatedIdentity::cognito(claims)
            }
        };
        let session = SessionRequest {
            role_arn: input.role_arn,
            role_session_name: input.role_session_name,
            duration_seconds: input.duration_seconds,
            policies: input.policies,
            source_ip: input.source_ip,
        };
        self.exchange(token, session, now, rng).await
    }

    /// GetCredentialsForIdentity's half of the enhanced flow: the session AWS makes by calling
    /// AssumeRoleWithWebIdentity itself with the identity's token. The token is not signed and
    /// verified again here: its claims were made by the caller from the identity it just
    /// checked, and the role's trust policy is evaluated against them exactly as for a token
    /// presented to AssumeRoleWithWebIdentity.
    pub async fn assume_role_for_identity(
        &self,
        token: WebIdentityClaims,
        role_arn: &str,
        now: UnixSeconds,
        rng: &dyn Randomness,
    ) -> Result<AssumeRoleWithWebIdentityOutput> {
        let session = SessionRequest {
            role_arn: role_arn.to_owned(),
            role_session_name: COGNITO_SESSION_NAME.to_owned(),
            duration_seconds: None,
            policies: SessionPolicies::default(),
            source_ip: None,
        };
        self.exchange(FederatedIdentity::cognito(token), session, now, rng)
            .await
    }

    /// A token of a registered OpenID Connect provider, verified with the provider's keys and
    /// for one of its client ids.
    async fn verify_external(
        &self,
        token: &str,
        issuer: &str,
        now: UnixSeconds,
    ) -> Result<FederatedIdentity> {
        let no_provider = || {
            StsError::InvalidIdentityToken(format!(
                "No OpenIDConnect provider found in your account for {issuer}"
            ))
        };
        let url = parse_provider_url(issuer).ok_or_else(no_provider)?.1;
        let (provider, verified) = self
            .verify_provider_token(&url, token, now)
            .await?
            .ok_or_else(no_provider)?;
        let arn = provider.arn(&self.deployment.account_id);
        Ok(FederatedIdentity {
            principal: arn.clone(),
            key_prefix: provider.url,
            provider: arn,
            sub: verified.sub,
            aud: verified.aud,
            amr: verified.amr,
            tags: None,
            issued_at: None,
        })
    }

    /// A token of the registered provider whose URL (host and path) is `url`, verified with its
    /// keys, for one of its client ids; `None` when no provider has that URL. Identity pools
    /// call this for their logins of OpenID Connect providers.
    pub async fn verify_provider_token(
        &self,
        url: &str,
        token: &str,
        now: UnixSeconds,
    ) -> Result<Option<(OidcProvider, ExternalToken)>> {
        let Some(provider) = self.store.oidc_provider(url).await? else {
            return Ok(None);
        };
        let issuer = provider.issuer();
        let refused = |e| external_error(e, now);
        let kid = federation::external_header(token).map_err(refused)?;
        let key = self
            .external_keys
            .key(&issuer, kid.as_deref(), now)
            .await
            .map_err(refused)?;
        let verified = federation::verify_external(token, &key, &issuer, &provider.client_ids, now)
            .map_err(refused)?;
        Ok(Some((provider, verified)))
    }

    /// A session of `session.role_arn` for a trusted token's claims, if the role's trust policy
    /// allows it.
    async fn exchange(
        &self,
        token: FederatedIdentity,
        input: SessionRequest,
        now: UnixSeconds,
        rng: &dyn Randomness,
    ) -> Result<AssumeRoleWithWebIdentityOutput> {
        // A role that does not exist is refused exactly like one whose trust policy says no,
        // so the answer does not reveal which roles exist.
        let trusted = self
            .role_for_arn(&input.role_arn, now)
            .await?
            .ok_or_else(not_authorized)?;
        let (role, trust) = (&trusted.role, &trusted.trust);

        let tags: Vec<(String, String)> = token
            .tags
            .as_ref()
            .map(|t| {
                t.principal_tags
                    .iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.first()?.clone())))
                    .collect()
            })
            .unwrap_or_default();
        let context = trust_context(&token, &input, &tags, now);
        let principal = PolicyPrincipal::federated(&token.principal);
        let role_arn = role.arn(&self.deployment.account_id);
        let allows = |action: &str, context: &Context| {
            tegata_policy::evaluate(
                [trust],
                &Request {
                    principal: Some(&principal),
                    action,
                    resource: &role_arn,
                    context,
                },
            ) == Decision::Allow
        };
        if !allows("sts:AssumeRoleWithWebIdentity", &context) {
            return Err(not_authorized());
        }
        // Session tags need their own permission in the trust policy.
        if !tags.is_empty() && !allows("sts:TagSession", &context) {
            return Err(not_authorized());
        }
        // A trust policy that still allows a token of a pool that cannot exist does not pin
        // the audience: any identity pool's users may assume the role.
        let mut probe = context.clone();
        probe.insert("cognito-identity.amazonaws.com:aud", PROBE_AUDIENCE);
        let cognito = token.principal == COGNITO_FEDERATED_PRINCIPAL;
        if cognito && allows("sts:AssumeRoleWithWebIdentity", &probe) {
            if self.strict_cognito_trust {
                tracing::warn!(role = %role_arn, "refused: the trust policy has no cognito-identity.amazonaws.com:aud condition (strict_cognito_trust)");
                return Err(not_authorized());
            }
            tracing::warn!(role = %role_arn, "the trust policy lets tokens of any identity pool assume this role; add a cognito-identity.amazonaws.com:aud condition");
        }

        let duration = input.duration_seconds.unwrap_or(DEFAULT_DURATION_SECONDS);
        if duration > role.max_session_duration {
            return Err(StsError::Validation(
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
                    .to_owned(),
            ));
        }
        self.check_session_policies(&input.policies).await?;
        let packed_policy_size = (!input.policies.is_empty())
            .then(|| packed_size(&input.policies, &tags))
            .transpose()?;

        let claims = SessionClaims {
            account_id: self.deployment.account_id.clone(),
            role_name: role.role_name.clone(),
            role_id: role.role_id.clone(),
            role_path: role.path.clone(),
            session_name: input.role_session_name,
            subject: token.sub.clone(),
            audience: token.aud.clone(),
            amr: token.amr,
            issued_at: now,
            expires_at: now + duration,
            session_policy: input.policies.policy,
            policy_arns: input.policies.policy_arns,
            tags,
            web_identity_key_prefix: (token.key_prefix != COGNITO_FEDERATED_PRINCIPAL)
                .then(|| token.key_prefix.clone()),
            proof_issued_at: token
                .issued_at
                .filter(|_| token.key_prefix == COGNITO_FEDERATED_PRINCIPAL),
            ..SessionClaims::default()
        };
        // A Cognito token's audience is its pool, whose id starts with the region; tokens of
        // other providers come through the unsigned STS endpoint, which has no region of its
        // own but the default.
        let region = match token.principal == COGNITO_FEDERATED_PRINCIPAL {
            true => token.aud.split_once(':').map_or("us-east-1", |(r, _)| r),
            false => "us-east-1",
        };
        self.note_role_use(role, now, region);
        let credentials = self.minter.mint(&claims, rng);
        Ok(AssumeRoleWithWebIdentityOutput {
            credentials,
            subject_from_web_identity_token: token.sub,
            assumed_role_id: claims.assumed_role_id(),
            assumed_role_arn: claims.assumed_role_arn(),
            provider: token.provider,
            audience: token.aud,
            packed_policy_size,
        })
    }

    /// DecodeAuthorizationMessage: the evaluation an AccessDenied's encoded message holds
    /// (`--explain-denials`), as JSON text.
    pub fn decode_authorization_message(&self, encoded: &str) -> Result<String> {
        self.denials.open(encoded).map_err(|_| {
            StsError::InvalidAuthorizationMessage(
                "The encoded authorization message is invalid or was not made by this \
                 deployment."
                    .to_owned(),
            )
        })
    }

    /// Who signed the request. Needs no permission, as in AWS.
    pub fn get_caller_identity(&self, caller: &Principal) -> CallerIdentity {
        CallerIdentity {
            user_id: caller.user_id.clone(),
            account: caller.account_id.clone(),
            arn: caller.arn.clone(),
        }
    }
}

/// Who a trusted web identity token says the caller is, in the terms trust policies use.
#[derive(Debug, Clone)]
pub struct FederatedIdentity {
    /// The `Federated` principal trust policies name: `cognito-identity.amazonaws.com`, or the
    /// OpenID Connect provider's ARN.
    principal: String,
    /// The prefix of the condition keys (`<prefix>:aud`, `:sub`, `:amr`): the principal for
    /// Cognito, the provider's URL for an OpenID Connect provider.
    key_prefix: String,
    /// AssumeRoleWithWebIdentity's `Provider` member.
    provider: String,
    sub: String,
    aud: String,
    amr: Vec<String>,
    tags: Option<SessionTagsClaim>,
    /// A Cognito token's `iat`: what a revocation of its identity compares with.
    issued_at: Option<UnixSeconds>,
}

impl FederatedIdentity {
    fn cognito(claims: WebIdentityClaims) -> Self {
        Self {
            principal: COGNITO_FEDERATED_PRINCIPAL.to_owned(),
            key_prefix: COGNITO_FEDERATED_PRINCIPAL.to_owned(),
            provider: COGNITO_FEDERATED_PRINCIPAL.to_owned(),
            sub: claims.sub,
            aud: claims.aud,
            amr: claims.amr,
            tags: claims.tags,
            issued_at: claims.iat,
        }
    }
}

/// STS's answer to a refused token of another issuer, at `now`.
fn external_error(e: ExternalTokenError, now: UnixSeconds) -> StsError {
    match e {
        ExternalTokenError::Unreachable => StsError::IdpCommunication(
            // AWS's wording, double space included.
            "Couldn't retrieve verification key from your identity provider,  please reference \
             AssumeRoleWithWebIdentity documentation for requirements"
                .to_owned(),
        ),
        ExternalTokenError::UnknownKey => {
            StsError::InvalidIdentityToken(verify::UNKNOWN_KEY.to_owned())
        }
        ExternalTokenError::WrongAudience => {
            StsError::InvalidIdentityToken("Incorrect token audience".to_owned())
        }
        ExternalTokenError::Invalid(message) => StsError::InvalidIdentityToken(message),
        ExternalTokenError::Expired(exp) => {
            StsError::ExpiredToken(verify::expired_message(now, exp))
        }
    }
}

/// The condition keys AWS provides when a web identity token is exchanged (aws-api.md §4.2):
/// `<prefix>:aud`, `:sub`, `:amr`, and the global ones.
fn trust_context(
    token: &FederatedIdentity,
    input: &SessionRequest,
    tags: &[(String, String)],
    now: UnixSeconds,
) -> Context {
    let mut context = Context::new();
    let prefix = &token.key_prefix;
    context
        .insert(&format!("{prefix}:aud"), token.aud.clone())
        .insert(&format!("{prefix}:sub"), token.sub.clone())
        .insert_multi(&format!("{prefix}:amr"), token.amr.clone())
        .insert("sts:RoleSessionName", input.role_session_name.clone())
        .insert("aws:FederatedProvider", token.principal.clone());
    insert_time(&mut context, now);
    if let Some(ip) = &input.source_ip {
        context.insert("aws:SourceIp", ip.clone());
    }
    if !tags.is_empty() {
        for (k, v) in tags {
            context.insert(&format!("aws:RequestTag/{k}"), v.clone());
        }
        context.insert_multi("aws:TagKeys", tags.iter().map(|(k, _)| k.clone()).collect());
    }
    context
}

/// `aws:CurrentTime` and `aws:EpochTime` at `now`.
fn insert_time(context: &mut Context, now: UnixSeconds) {
    context.insert("aws:EpochTime", now.to_string());
    insert_time_as(context, "aws:CurrentTime", now);
}

/// A date key (`aws:CurrentTime`, `aws:TokenIssueTime`) in ISO 8601.
fn insert_time_as(context: &mut Context, key: &str, at: UnixSeconds) {
    if let Ok(t) = OffsetDateTime::from_unix_timestamp(at)
        && let Ok(text) = t.format(&Rfc3339)
    {
        context.insert(key, text);
    }
}

impl Sts {
    /// Check a request's session policies: the document parses, and each managed policy is an
    /// AWS managed one or one of this account's.
    async fn check_session_policies(&self, policies: &SessionPolicies) -> Result<()> {
        if let Some(policy) = &policies.policy {
            parse_session_policy(policy)?;
        }
        for arn in &policies.policy_arns {
            let exists = aws_managed::find(arn).is_some()
                || (arn.starts_with(&format!(
                    "arn:aws:iam::{}:policy/",
                    self.deployment.account_id
                )) && self.store.managed_policy(arn).await?.is_some());
            if !exists {
                return Err(StsError::MalformedPolicyDocument(format!(
                    "Policy {arn} does not exist or is not attachable."
                )));
            }
        }
        Ok(())
    }
}

/// Session tag keys are case-insensitive: two of one key are refused (STS says
/// InvalidParameterValue where IAM says InvalidInput).
fn check_unique_tag_keys(tags: &[(String, String)]) -> Result<()> {
    for (i, (key, _)) in tags.iter().enumerate() {
        if tags
            .iter()
            .skip(i + 1)
            .any(|(other, _)| other.eq_ignore_ascii_case(key))
        {
            return Err(StsError::InvalidParameterValue(
                "Duplicate tag keys found. Please note that Tag keys are case insensitive."
                    .to_owned(),
            ));
        }
    }
    Ok(())
}

/// Check a session policy. Validated, not kept: it narrows what the session may do, and
/// travels inside the session token.
fn parse_session_policy(policy: &str) -> Result<()> {
    PolicyDocument::parse(policy, PolicyKind::Identity)
        .map(drop)
        .map_err(|e| StsError::MalformedPolicyDocument(e.0))
}

/// The share of the packed budget a session policy and the session tags use, in percent.
fn packed_size(policies: &SessionPolicies, tags: &[(String, String)]) -> Result<i64> {
    // AWS packs the policy without insignificant white space.
    let compact = policies.policy.as_deref().map_or(0, |policy| {
        serde_json::from_str::<serde_json::Value>(policy)
            .map(|v| v.to_string().len())
            .unwrap_or(policy.len())
    });
    let tag_size: usize = tags.iter().map(|(k, v)| k.len() + v.len()).sum();
    // A managed session policy costs its ARN only.
    let arn_size: usize = policies.policy_arns.iter().map(String::len).sum();
    let percent = ((compact + tag_size + arn_size) * 100).div_ceil(PACKED_POLICY_BUDGET) as i64;
    if percent > 100 {
        return Err(StsError::PackedPolicyTooLarge(format!(
            "Packed policy consumes {percent}% of allotted space, please use smaller policy."
        )));
    }
    Ok(percent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns_split_into_account_path_and_name() {
        assert_eq!(
            parse_role_arn("arn:aws:iam::123456789012:role/service-role/lambda_role"),
            Some(("123456789012", "/service-role/", "lambda_role"))
        );
        assert_eq!(
            parse_role_arn("arn:aws:iam::123456789012:role/r"),
            Some(("123456789012", "/", "r"))
        );
        assert_eq!(parse_role_arn("arn:aws:iam::123456789012:user/u"), None);
        assert_eq!(parse_role_arn("arn:aws:iam::123456789012:role/"), None);
    }

    fn only(policy: &str) -> SessionPolicies {
        SessionPolicies {
            policy: Some(policy.to_owned()),
            policy_arns: Vec::new(),
        }
    }

    #[test]
    fn packed_size_is_a_percentage_of_the_budget() {
        let policy = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}"#;
        let size = packed_size(&only(policy), &[]).unwrap();
        assert!((1..=10).contains(&size), "{size}");
        let big = format!(
            r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Action":"s3:*","Resource":"{}"}}}}"#,
            "x".repeat(2100)
        );
        assert!(matches!(
            packed_size(&only(&big), &[]),
            Err(StsError::PackedPolicyTooLarge(_))
        ));
    }
}
