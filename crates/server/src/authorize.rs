//! The one authorization hook of the pipeline: may this caller perform this row's action on this
//! resource? The principal's policies are evaluated by the domain's [`decide`]; this module
//! knows the request: who signed it, the action and resource from the endpoint table, and the
//! condition keys AWS puts in a request's context.

use std::net::IpAddr;
use std::sync::Arc;

use tegata_core::Randomness;
use tegata_core::authz::{Permissions, PrincipalPermissions, Verdict, decide};
use tegata_core::denials::{DenialMessages, Evaluation, explain};
use tegata_core::iam::EntityKind;
use tegata_core::sts::credentials::{SessionClaims, SessionKind};
use tegata_policy::{Context, PolicyDocument, PolicyKind};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::auth::Caller;
use crate::pipeline::RequestError;

/// The prefix of a Cognito web identity's condition keys.
const COGNITO_KEYS: &str = "cognito-identity.amazonaws.com";

pub struct Authorizer {
    permissions: Arc<Permissions>,
    /// With `--explain-denials`: seals the explanation each AccessDenied carries.
    explanations: Option<Explanations>,
}

/// What explaining denials needs: the sealer, and randomness for its nonces.
pub struct Explanations {
    pub messages: Arc<DenialMessages>,
    pub rng: Arc<dyn Randomness>,
}

/// What the request says beyond its principal, for the condition keys.
pub struct RequestFacts<'a> {
    pub now: OffsetDateTime,
    pub source_ip: Option<IpAddr>,
    /// Tags the request asks to set (`aws:RequestTag/*`, `aws:TagKeys`).
    pub request_tags: &'a [(String, String)],
    /// Tag keys the request asks to remove (`aws:TagKeys`).
    pub tag_keys: &'a [String],
    /// Keys of the service taken from the input (`iam:PolicyARN`, `iam:PermissionsBoundary`).
    pub service_keys: &'a [(String, String)],
}

impl Authorizer {
    pub fn new(permissions: Arc<Permissions>) -> Self {
        Self {
            permissions,
            explanations: None,
        }
    }

    /// Denials carry an encoded authorization failure message (`--explain-denials`).
    pub fn explaining_denials(mut self, explanations: Explanations) -> Self {
        self.explanations = Some(explanations);
        self
    }

    pub fn permissions(&self) -> &Permissions {
        &self.permissions
    }

    /// May `caller` perform `action` on `resource`? Only operations whose row says
    /// [`crate::pipeline::Auth::Signed`] are asked (the pipeline skips the others).
    pub async fn authorize(
        &self,
        caller: &Caller,
        action: &str,
        resource: &str,
        facts: &RequestFacts<'_>,
    ) -> Result<(), RequestError> {
        let evaluated = self.evaluate(caller, action, resource, facts).await?;
        match evaluated.verdict {
            Verdict::Allowed => Ok(()),
            denied => {
                let mut message = denied.denial_message(&caller.principal.arn, action, resource);
                if let Some(explanations) = &self.explanations {
                    let explanation = explain(&Evaluation {
                        principal: &caller.principal,
                        action,
                        resource,
                        context: &evaluated.context,
                        permissions: &evaluated.permissions,
                        session_policies: &evaluated.session_policies,
                        verdict: denied,
                    });
                    let encoded = explanations.messages.seal(&explanation, &*explanations.rng);
                    message.push_str(" Encoded authorization failure message: ");
                    message.push_str(&encoded);
                }
                Err(RequestError::AccessDenied(message))
            }
        }
    }

    /// The caller's tags as its policies see them (`aws:PrincipalTag/*`).
    pub async fn principal_tags(
        &self,
        caller: &Caller,
        now: i64,
    ) -> Result<Vec<(String, String)>, RequestError> {
        let permissions = self.permissions_of(caller, now).await?;
        Ok(principal_tags(caller, &permissions))
    }

    /// The policies and tags of the caller's user or role; nothing for one that no longer
    /// exists.
    async fn permissions_of(
        &self,
        caller: &Caller,
        now: i64,
    ) -> Result<Arc<PrincipalPermissions>, RequestError> {
        let (kind, name) = principal_entity(caller);
        Ok(self
            .permissions
            .of(kind, name, now)
            .await
            .map_err(|e| RequestError::Internal(e.to_string()))?
            // A principal that no longer exists (a role deleted under its sessions) holds no
            // policy: everything is implicitly denied. Nor does a role deleted and made again
            // under the same name hold anything for the old role's sessions.
            .filter(|p| {
                caller
                    .session
                    .as_ref()
                    .is_none_or(|claims| claims.role_id == p.id)
            })
            .unwrap_or_default())
    }

    /// What `caller`'s policies say of `action` on `resource`.
    pub async fn verdict(
        &self,
        caller: &Caller,
        action: &str,
        resource: &str,
        facts: &RequestFacts<'_>,
    ) -> Result<Verdict, RequestError> {
        Ok(self
            .evaluate(caller, action, resource, facts)
            .await?
            .verdict)
    }

    /// The verdict and what it was reached from.
    async fn evaluate(
        &self,
        caller: &Caller,
        action: &str,
        resource: &str,
        facts: &RequestFacts<'_>,
    ) -> Result<Evaluated, RequestError> {
        let permissions = self
            .permissions_of(caller, facts.now.unix_timestamp())
            .await?;
        let session_policies =
            session_policies(&self.permissions, caller, facts.now.unix_timestamp()).await?;
        // An explained denial shows the whole context, so it is built whenever denials are.
        let needs_context = permissions.reads_context
            || session_policies.iter().any(PolicyDocument::reads_context)
            || self.explanations.is_some();
        let mut context = if needs_context {
            request_context(caller, &permissions, facts)
        } else {
            Context::new()
        };
        if permissions.reads_resource_tags
            || session_policies
                .iter()
                .any(tegata_core::authz::reads_resource_tags)
        {
            let tags = self
                .permissions
                .resource_tags(resource)
                .await
                .map_err(|e| RequestError::Internal(e.to_string()))?;
            // IAM's own name for the same tags, on its resources.
            let iam = resource.starts_with("arn:aws:iam::");
            for (key, value) in tags {
                if iam {
                    context.insert(&format!("iam:ResourceTag/{key}"), value.clone());
                }
                context.insert(&format!("aws:ResourceTag/{key}"), value);
            }
        }
        let verdict = decide(&permissions, &session_policies, action, resource, &context);
        Ok(Evaluated {
            verdict,
            context,
            permissions,
            session_policies,
        })
    }
}

/// One evaluation: its verdict, and the context and policies it was made from.
struct Evaluated {
    verdict: Verdict,
    context: Context,
    permissions: Arc<PrincipalPermissions>,
    session_policies: Vec<PolicyDocument>,
}

/// The entity whose policies apply: the signing user, the role of a role's session, or the
/// user who asked for a user's or federated user's session.
pub fn principal_entity(caller: &Caller) -> (EntityKind, &str) {
    match &caller.session {
        Some(claims) if claims.kind == SessionKind::Role => {
            (EntityKind::Role, claims.role_name.as_str())
        }
        Some(claims) => (EntityKind::User, claims.role_name.as_str()),
        // A user's ARN ends with its name, after its path.
        None => (
            EntityKind::User,
            caller.principal.arn.rsplit('/').next().unwrap_or_default(),
        ),
    }
}

/// The session policies a session was made with: its document (validated when the session was
/// made, so a failure here is ours) and its managed policies as they now are. A managed policy
/// deleted since allows nothing.
async fn session_policies(
    permissions: &Permissions,
    caller: &Caller,
    now: i64,
) -> Result<Vec<PolicyDocument>, RequestError> {
    let Some(claims) = caller.session.as_ref() else {
        return Ok(Vec::new());
    };
    let empty = || PolicyDocument {
        version: tegata_policy::Version::V2012_10_17,
        id: None,
        statements: Vec::new(),
    };
    let mut policies = Vec::with_capacity(1 + claims.policy_arns.len());
    if let Some(text) = claims.session_policy.as_deref() {
        policies.push(
            PolicyDocument::parse(text, PolicyKind::Identity).map_err(|e| {
                RequestError::Internal(format!("a session's policy does not parse: {e}"))
            })?,
        );
    }
    for arn in &claims.policy_arns {
        let managed = permissions
            .managed_session_policy(arn, now)
            .await
            .map_err(|e| RequestError::Internal(e.to_string()))?;
        policies.push(
            managed
                .and_then(|p| p.identity.first().map(|policy| policy.document.clone()))
                .unwrap_or_else(empty),
        );
    }
    // A federated user holds only what its session policies allow: without any, nothing.
    if policies.is_empty() && claims.kind == SessionKind::FederatedUser {
        policies.push(empty());
    }
    Ok(policies)
}

/// The caller's tags (`aws:PrincipalTag/*`): its user's or role's, with a session's tags over
/// those of the same key.
fn principal_tags(caller: &Caller, permissions: &PrincipalPermissions) -> Vec<(String, String)> {
    let mut tags = permissions.tags.clone();
    for (key, value) in caller.session.iter().flat_map(|claims| &claims.tags) {
        tags.retain(|(k, _)| !k.eq_ignore_ascii_case(key));
        tags.push((key.clone(), value.clone()));
    }
    tags
}

/// The condition keys of a request, as AWS fills them for a principal in its own account.
pub fn request_context(
    caller: &Caller,
    permissions: &PrincipalPermissions,
    facts: &RequestFacts<'_>,
) -> Context {
    let mut context = Context::new();
    let principal = &caller.principal;
    context
        .insert("aws:PrincipalAccount", principal.account_id.clone())
        .insert("aws:userid", principal.user_id.clone())
        .insert("aws:RequestedRegion", caller.region.clone())
        .insert("aws:SecureTransport", "false")
        .insert(
            "aws:CurrentTime",
            facts.now.format(&Rfc3339).unwrap_or_default(),
        )
        .insert("aws:EpochTime", facts.now.unix_timestamp().to_string());
    if let Some(ip) = facts.source_ip {
        context.insert("aws:SourceIp", ip.to_string());
    }
    match &caller.session {
        None => {
            let (_, user_name) = principal_entity(caller);
            context
                .insert("aws:PrincipalArn", principal.arn.clone())
                .insert("aws:PrincipalType", "User")
                .insert("aws:username", user_name.to_owned());
        }
        Some(claims) => session_keys(&mut context, claims),
    }
    for (key, value) in &principal_tags(caller, permissions) {
        context.insert(&format!("aws:PrincipalTag/{key}"), value.clone());
    }
    for (key, value) in facts.request_tags {
        context.insert(&format!("aws:RequestTag/{key}"), value.clone());
    }
    let tag_keys: Vec<String> = facts
        .request_tags
        .iter()
        .map(|(k, _)| k.clone())
        .chain(facts.tag_keys.iter().cloned())
        .collect();
    if !tag_keys.is_empty() {
        context.insert_multi("aws:TagKeys", tag_keys);
    }
    for (key, value) in facts.service_keys {
        context.insert(key, value.clone());
    }
    context
}

/// The keys only temporary credentials carry: the principal, the issue time, MFA (absent for
/// long-term keys), the source identity, and the web identity the session was made from.
fn session_keys(context: &mut Context, claims: &SessionClaims) {
    let issued = OffsetDateTime::from_unix_timestamp(claims.issued_at)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default();
    let (principal_arn, principal_type) = match claims.kind {
        SessionKind::Role => (claims.role_arn(), "AssumedRole"),
        SessionKind::User => (claims.principal_arn(), "User"),
        SessionKind::FederatedUser => (claims.federated_user_arn(), "FederatedUser"),
    };
    if claims.kind == SessionKind::User {
        context.insert("aws:username", claims.role_name.clone());
    }
    context
        .insert("aws:PrincipalArn", principal_arn)
        .insert("aws:PrincipalType", principal_type)
        .insert("aws:TokenIssueTime", issued)
        .insert("aws:MultiFactorAuthPresent", "false");
    if let Some(source) = &claims.source_identity {
        context.insert("aws:SourceIdentity", source.clone());
    }
    if claims.subject.is_empty() {
        return;
    }
    let prefix = claims
        .web_identity_key_prefix
        .as_deref()
        .unwrap_or(COGNITO_KEYS);
    context
        .insert(&format!("{prefix}:sub"), claims.subject.clone())
        .insert(&format!("{prefix}:aud"), claims.audience.clone());
    if !claims.amr.is_empty() {
        context.insert_multi(&format!("{prefix}:amr"), claims.amr.clone());
    }
}
