//! AssumeRole: a principal of this account (an IAM user, or a role's session: role chaining)
//! asks for a session of a role whose trust policy names it.
//!
//! Within one account, IAM allows a request when the caller's own policies allow it or when a
//! resource-based policy (here: the trust policy) grants it to the caller by its own ARN; a trust
//! policy that names the account or the caller's role delegates to the caller's policies. The
//! trust policy must let the caller in either way. So the pipeline evaluates the caller's
//! policies without refusing ([`IdentityVerdicts`]) and this module decides with the trust
//! policy.

use tegata_policy::{Context, Decision, Principal as PolicyPrincipal, Request};

use super::credentials::{SessionClaims, SessionKind, TemporaryCredentials};
use super::{DEFAULT_DURATION_SECONDS, Result, SessionPolicies, Sts, StsError, packed_size};
use crate::UnixSeconds;
use crate::account::Principal;
use crate::authz::{PolicyType, Verdict};
use crate::random::Randomness;

/// The longest session a role's session may get by assuming another role.
const ROLE_CHAINING_LIMIT_SECONDS: i64 = 3600;

const ASSUME_ROLE: &str = "sts:AssumeRole";
const TAG_SESSION: &str = "sts:TagSession";
const SET_SOURCE_IDENTITY: &str = "sts:SetSourceIdentity";

/// The actions an AssumeRole request performs: `sts:AssumeRole`, `sts:TagSession` when it
/// passes session tags, `sts:SetSourceIdentity` when it sets a source identity. Both the trust
/// policy and the caller's policies are asked about each.
pub fn assume_role_actions(tags: bool, source_identity: bool) -> Vec<&'static str> {
    let mut actions = vec![ASSUME_ROLE];
    if tags {
        actions.push(TAG_SESSION);
    }
    if source_identity {
        actions.push(SET_SOURCE_IDENTITY);
    }
    actions
}

/// What the caller's own policies say of the actions an AssumeRole request performs:
/// `sts:AssumeRole`, and `sts:TagSession` / `sts:SetSourceIdentity` when it passes tags or a
/// source identity. Decided by the pipeline, which knows the caller's policies; not a refusal
/// yet.
#[derive(Debug, Clone, Default)]
pub struct IdentityVerdicts {
    pub verdicts: Vec<(&'static str, Verdict)>,
    /// The caller's tags as its policies see them (`aws:PrincipalTag/*`): the user's or the
    /// role's, with a session's tags over them. The trust policy sees the same.
    pub principal_tags: Vec<(String, String)>,
}

impl IdentityVerdicts {
    /// An action the pipeline did not evaluate is denied, never allowed.
    fn of(&self, action: &str) -> Verdict {
        self.verdicts.iter().find(|(a, _)| *a == action).map_or(
            Verdict::ImplicitDeny(PolicyType::IdentityBased),
            |(_, v)| *v,
        )
    }
}

/// The signed caller of AssumeRole.
pub struct AwsCaller<'a> {
    pub principal: &'a Principal,
    /// The caller's temporary credentials' session, if it signed with them.
    pub session: Option<&'a SessionClaims>,
    pub identity: IdentityVerdicts,
    pub source_ip: Option<String>,
    /// The region the request was signed for.
    pub region: String,
}

pub struct AssumeRoleInput {
    pub role_arn: String,
    pub role_session_name: String,
    pub duration_seconds: Option<i64>,
    pub policies: SessionPolicies,
    pub tags: Vec<(String, String)>,
    pub transitive_tag_keys: Vec<String>,
    pub external_id: Option<String>,
    pub source_identity: Option<String>,
    /// The MFA device; tegata has none, so any is refused.
    pub serial_number: Option<String>,
}

#[derive(Debug, Clone)]
pub struct AssumeRoleOutput {
    pub credentials: TemporaryCredentials,
    pub assumed_role_id: String,
    pub assumed_role_arn: String,
    /// Present only when the request passed a session policy or the session has tags.
    pub packed_policy_size: Option<i64>,
    pub source_identity: Option<String>,
}

/// `arn:<partition>:<service>:<region>:<account>:<resource>` with a partition, a service and a
/// resource: what STS accepts as a RoleArn before looking for the role.
fn is_well_formed_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    matches!(
        parts.as_slice(),
        ["arn", partition, service, _, _, resource]
            if !partition.is_empty() && !service.is_empty() && !resource.is_empty()
    )
}

/// A new session's tags, and the keys of those that pass on down a chain.
#[derive(Debug)]
struct SessionTags {
    tags: Vec<(String, String)>,
    transitive_keys: Vec<String>,
}

/// The session tags of a request, checked as STS checks them, merged with the transitive tags
/// of the calling session.
fn session_tags(input: &AssumeRoleInput, caller: Option<&SessionClaims>) -> Result<SessionTags> {
    super::check_unique_tag_keys(&input.tags)?;
    let has_tag = |key: &str| input.tags.iter().any(|(k, _)| k.eq_ignore_ascii_case(key));
    if !input.transitive_tag_keys.iter().all(|key| has_tag(key)) {
        return Err(StsError::InvalidParameterValue(
            "The specified transitive tag key must be included in the requested tags.".to_owned(),
        ));
    }
    let inherited: Vec<(String, String)> = caller
        .map(|session| {
            session
                .tags
                .iter()
                .filter(|(k, _)| {
                    session
                        .transitive_tag_keys
                        .iter()
                        .any(|t| t.eq_ignore_ascii_case(k))
                })
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    if inherited.iter().any(|(key, _)| has_tag(key)) {
        return Err(StsError::InvalidParameterValue(
            "One of the specified transitive tag keys can't be set because it conflicts with a \
             transitive tag key from the calling session."
                .to_owned(),
        ));
    }
    let mut transitive: Vec<String> = inherited.iter().map(|(k, _)| k.clone()).collect();
    transitive.extend(input.transitive_tag_keys.iter().cloned());
    let mut tags = inherited;
    tags.extend(input.tags.iter().cloned());
    Ok(SessionTags {
        tags,
        transitive_keys: transitive,
    })
}

impl Sts {
    pub async fn assume_role(
        &self,
        caller: AwsCaller<'_>,
        input: AssumeRoleInput,
        now: UnixSeconds,
        rng: &dyn Randomness,
    ) -> Result<AssumeRoleOutput> {
        if !is_well_formed_arn(&input.role_arn) {
            return Err(StsError::Validation(format!(
                "{} is invalid",
                input.role_arn
            )));
        }
        let denied = || {
            StsError::AccessDenied(format!(
                "User: {} is not authorized to perform: {ASSUME_ROLE} on resource: {}",
                caller.principal.arn, input.role_arn
            ))
        };
        if caller
            .session
            .is_some_and(|s| s.kind == SessionKind::FederatedUser)
        {
            // A federated user's credentials call no STS operation but GetCallerIdentity.
            return Err(denied());
        }
        if input.serial_number.is_some() {
            return Err(StsError::AccessDenied(
                "MultiFactorAuthentication failed with invalid MFA one time pass code.".to_owned(),
            ));
        }
        let SessionTags {
            tags,
            transitive_keys: transitive_tag_keys,
        } = session_tags(&input, caller.session)?;
        let source_identity = match (
            caller.session.and_then(|s| s.source_identity.as_deref()),
            input.source_identity.as_deref(),
        ) {
            // Once set, a source identity is kept by every session chained from it.
            (Some(kept), Some(asked)) if kept != asked => return Err(denied()),
            (Some(kept), _) => Some(kept.to_owned()),
            (None, asked) => asked.map(str::to_owned),
        };
        let trusted = self
            .role_for_arn(&input.role_arn, now)
            .await?
            .ok_or_else(denied)?;

        let context = self.trust_context_for(&caller, &input, source_identity.as_deref(), now);
        let principal = match caller.session {
            Some(session) if session.kind == SessionKind::Role => PolicyPrincipal::role_session(
                &caller.principal.arn,
                &session.role_arn(),
                &caller.principal.account_id,
            ),
            _ => PolicyPrincipal::aws(&caller.principal.arn, &caller.principal.account_id),
        };
        let own_arn = principal.by_own_arn();
        let trust_decides = |action: &str, principal: &PolicyPrincipal| {
            tegata_policy::evaluate(
                [&trusted.trust],
                &Request {
                    principal: Some(principal),
                    action,
                    resource: &input.role_arn,
                    context: &context,
                },
            )
        };
        // A source identity kept from the calling session needs the permission again at each
        // link of the chain, as one set here.
        let actions = assume_role_actions(!input.tags.is_empty(), source_identity.is_some());
        for action in actions {
            if trust_decides(action, &principal) != Decision::Allow {
                return Err(if action == ASSUME_ROLE {
                    denied()
                } else {
                    StsError::AccessDenied(format!(
                        "User: {} is not authorized to perform: {action} on resource: {}",
                        caller.principal.arn, input.role_arn
                    ))
                });
            }
            match caller.identity.of(action) {
                Verdict::Allowed => {}
                // The trust policy naming the caller itself is enough, unless something denies.
                Verdict::ImplicitDeny(_) if trust_decides(action, &own_arn) == Decision::Allow => {}
                verdict => {
                    return Err(StsError::AccessDenied(verdict.denial_message(
                        &caller.principal.arn,
                        action,
                        &input.role_arn,
                    )));
                }
            }
        }

        let role = &trusted.role;
        let chained = caller.session.is_some_and(|s| s.kind == SessionKind::Role);
        let duration = input.duration_seconds.unwrap_or(DEFAULT_DURATION_SECONDS);
        if chained && duration > ROLE_CHAINING_LIMIT_SECONDS {
            return Err(StsError::Validation(
                "The requested DurationSeconds exceeds the 1 hour session limit for roles \
                 assumed by role chaining."
                    .to_owned(),
            ));
        }
        if duration > role.max_session_duration {
            return Err(StsError::Validation(
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
                    .to_owned(),
            ));
        }
        self.check_session_policies(&input.policies).await?;
        let packed_policy_size = (!input.policies.is_empty() || !tags.is_empty())
            .then(|| packed_size(&input.policies, &tags))
            .transpose()?;
        let claims = SessionClaims {
            kind: SessionKind::Role,
            account_id: self.deployment.account_id.clone(),
            role_name: role.role_name.clone(),
            role_id: role.role_id.clone(),
            role_path: role.path.clone(),
            session_name: input.role_session_name,
            issued_at: now,
            expires_at: now + duration,
            session_policy: input.policies.policy,
            policy_arns: input.policies.policy_arns,
            tags,
            transitive_tag_keys,
            source_identity: source_identity.clone(),
            chained_from_identity: caller
                .session
                .and_then(SessionClaims::cognito_identity)
                .map(|(identity, pool)| (identity.to_owned(), pool.to_owned())),
            proof_issued_at: caller
                .session
                .filter(|s| s.cognito_identity().is_some())
                .map(SessionClaims::revocable_since),
            ..SessionClaims::default()
        };
        self.note_role_use(role, now, &caller.region);
        let credentials = self.minter.mint(&claims, rng);
        Ok(AssumeRoleOutput {
            credentials,
            assumed_role_id: claims.assumed_role_id(),
            assumed_role_arn: claims.assumed_role_arn(),
            packed_policy_size,
            source_identity,
        })
    }

    /// The condition keys a trust policy sees when a principal of this account assumes a role.
    fn trust_context_for(
        &self,
        caller: &AwsCaller<'_>,
        input: &AssumeRoleInput,
        source_identity: Option<&str>,
        now: UnixSeconds,
    ) -> Context {
        let mut context = Context::new();
        super::insert_time(&mut context, now);
        let principal = caller.principal;
        context
            .insert("aws:PrincipalAccount", principal.account_id.clone())
            .insert("aws:userid", principal.user_id.clone())
            .insert("aws:MultiFactorAuthPresent", "false")
            .insert("sts:RoleSessionName", input.role_session_name.clone());
        match caller.session {
            None => {
                context
                    .insert("aws:PrincipalArn", principal.arn.clone())
                    .insert("aws:PrincipalType", "User")
                    .insert(
                        "aws:username",
                        principal.arn.rsplit('/').next().unwrap_or_default(),
                    );
            }
            Some(session) => {
                let (arn, kind) = match session.kind {
                    SessionKind::Role => (session.role_arn(), "AssumedRole"),
                    SessionKind::User => (session.principal_arn(), "User"),
                    SessionKind::FederatedUser => (session.federated_user_arn(), "FederatedUser"),
                };
                context
                    .insert("aws:PrincipalArn", arn)
                    .insert("aws:PrincipalType", kind);
                super::insert_time_as(&mut context, "aws:TokenIssueTime", session.issued_at);
            }
        }
        for (key, value) in &caller.identity.principal_tags {
            context.insert(&format!("aws:PrincipalTag/{key}"), value.clone());
        }
        if let Some(ip) = &caller.source_ip {
            context.insert("aws:SourceIp", ip.clone());
        }
        if let Some(external_id) = &input.external_id {
            context.insert("sts:ExternalId", external_id.clone());
        }
        if let Some(source) = source_identity {
            context.insert("sts:SourceIdentity", source);
        }
        if let Some(source) = caller.session.and_then(|s| s.source_identity.as_ref()) {
            context.insert("aws:SourceIdentity", source.clone());
        }
        if !input.tags.is_empty() {
            for (key, value) in &input.tags {
                context.insert(&format!("aws:RequestTag/{key}"), value.clone());
            }
            context
                .insert_multi(
                    "aws:TagKeys",
                    input.tags.iter().map(|(k, _)| k.clone()).collect(),
                )
                .insert_multi("sts:TransitiveTagKeys", input.transitive_tag_keys.clone());
        }
        context
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_arns_must_have_the_parts_of_an_arn() {
        for invalid in [
            "nothing-valid-in-here",
            "arn::b:::something/test-role",
            "arn:a::::something/test-role",
            "arn:a:::something/test-role",
            "arn:a:a::aaaaaaaaaa:",
        ] {
            assert!(!is_well_formed_arn(invalid), "{invalid}");
        }
        assert!(is_well_formed_arn("arn:aws:iam::123456789012:role/r"));
        assert!(is_well_formed_arn("arn:aws:iam::123456789012:user/u"));
    }

    fn request(tags: &[(&str, &str)], transitive: &[&str]) -> AssumeRoleInput {
        AssumeRoleInput {
            role_arn: "arn:aws:iam::1:role/r".into(),
            role_session_name: "s".into(),
            duration_seconds: None,
            policies: SessionPolicies::default(),
            tags: tags
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            transitive_tag_keys: transitive.iter().map(|k| (*k).to_owned()).collect(),
            external_id: None,
            source_identity: None,
            serial_number: None,
        }
    }

    fn code_and_message(e: StsError) -> String {
        use crate::AwsError;
        format!("{}: {e}", e.code())
    }

    #[test]
    fn session_tags_follow_sts_rules() {
        assert_eq!(
            code_and_message(
                session_tags(
                    &request(&[("SessionTag1", "a"), ("sessiontag1", "b")], &[]),
                    None
                )
                .unwrap_err()
            ),
            "InvalidParameterValue: Duplicate tag keys found. Please note that Tag keys are \
             case insensitive."
        );
        assert_eq!(
            code_and_message(session_tags(&request(&[("a", "1")], &["b"]), None).unwrap_err()),
            "InvalidParameterValue: The specified transitive tag key must be included in the \
             requested tags."
        );
        let caller = SessionClaims {
            tags: vec![("Project".into(), "x".into()), ("Team".into(), "y".into())],
            transitive_tag_keys: vec!["Project".into()],
            ..SessionClaims::default()
        };
        let merged = session_tags(&request(&[("Cost", "1")], &["Cost"]), Some(&caller)).unwrap();
        assert_eq!(
            merged.tags,
            [("Project".into(), "x".into()), ("Cost".into(), "1".into())]
        );
        assert_eq!(merged.transitive_keys, ["Project", "Cost"]);
        let override_attempt = request(&[("project", "z")], &[]);
        assert!(
            code_and_message(session_tags(&override_attempt, Some(&caller)).unwrap_err())
                .contains("conflicts with a transitive tag key from the calling session")
        );
        // A non-transitive tag of the caller may be set again.
        assert!(session_tags(&request(&[("team", "z")], &[]), Some(&caller)).is_ok());
    }
}
