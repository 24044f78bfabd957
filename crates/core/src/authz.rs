//! Authorization of a signed request, the way AWS evaluates a principal's identity-based
//! policies within its own account: the principal's policies (a user's with its groups', a role
//! session's with its role's), its permissions boundary, and a session's session policy. An
//! explicit deny in any of them wins; otherwise every kind present must allow.
//!
//! The same [`decide`] answers real requests and IAM's policy simulator, so the simulator says
//! what will happen.
//!
//! A principal's policies are read and parsed once per second per node at most
//! ([`PermissionCache`]); writes through this node forget what they change, and other nodes see
//! them within the second, as roles are seen.

use std::sync::Arc;

use tegata_policy::{Context, Decision, PolicyDocument, PolicyKind, Request};

use crate::UnixSeconds;
use crate::cache::SecondCache;
use crate::error::Internal;
use crate::iam::{EntityKind, PolicySource, PrincipalPolicySet, aws_managed};
use crate::store::Store;

/// A parsed policy and where it comes from.
#[derive(Debug)]
pub struct SourcedPolicy {
    pub source: PolicySource,
    pub document: PolicyDocument,
    /// The text as stored: the simulator reports where matched statements are in it.
    pub text: String,
}

impl SourcedPolicy {
    /// Parse a permission policy's text.
    pub fn parse(source: PolicySource, text: &str) -> Result<Self, tegata_policy::PolicyError> {
        PolicyDocument::parse(text, PolicyKind::Identity).map(|document| Self {
            source,
            document,
            text: text.to_owned(),
        })
    }
}

/// What authorizes a principal: its identity-based policies, its boundary, its tags.
#[derive(Debug, Default)]
pub struct PrincipalPermissions {
    /// The principal's unique id, as stored.
    pub id: String,
    pub identity: Vec<SourcedPolicy>,
    /// The permissions boundary; empty when there is none (the simulator may give several
    /// documents, which bound together).
    pub boundary: Vec<SourcedPolicy>,
    /// The user's or role's tags (`aws:PrincipalTag/*`).
    pub tags: Vec<(String, String)>,
    /// Whether any policy has a condition or a policy variable, so evaluation needs the request
    /// context; most principals' policies do not, and their requests skip building it.
    pub reads_context: bool,
    /// Whether any policy tests `aws:ResourceTag/*`, which costs a read of the resource.
    pub reads_resource_tags: bool,
}

impl PrincipalPermissions {
    /// Parse what the store read. A stored document that no longer parses (written by another
    /// version, say) is an internal fault, never a silent allow or deny.
    pub fn from_set(set: PrincipalPolicySet) -> Result<Self, Internal> {
        let parse = |source: PolicySource, text: &str| {
            SourcedPolicy::parse(source, text)
                .map_err(|e| Internal::new(format!("stored policy does not parse: {}", e.0)))
        };
        let managed =
            |arn: &str, stored: Option<&str>| -> Result<Option<SourcedPolicy>, Internal> {
                let text = match stored {
                    Some(text) => text,
                    // AWS managed policies are built in; an ARN that is neither is a policy
                    // deleted while attached, which grants nothing.
                    None => match aws_managed::find(arn) {
                        Some(policy) => policy.document,
                        None => return Ok(None),
                    },
                };
                parse(
                    PolicySource::Managed {
                        arn: arn.to_owned(),
                    },
                    text,
                )
                .map(Some)
            };
        let mut identity = Vec::with_capacity(set.inline.len() + set.attached.len());
        for doc in set.inline {
            identity.push(parse(doc.source, &doc.document)?);
        }
        for (arn, stored) in &set.attached {
            identity.extend(managed(arn, stored.as_deref())?);
        }
        let boundary = match &set.boundary {
            Some((arn, stored)) => vec![managed(arn, stored.as_deref())?.unwrap_or_else(|| {
                // A boundary whose policy is gone allows nothing.
                SourcedPolicy {
                    source: PolicySource::Managed { arn: arn.clone() },
                    document: PolicyDocument {
                        version: tegata_policy::Version::V2012_10_17,
                        id: None,
                        statements: Vec::new(),
                    },
                    text: String::new(),
                }
            })],
            None => Vec::new(),
        };
        let mut permissions = Self {
            id: set.id,
            identity,
            boundary,
            tags: set.tags,
            reads_context: false,
            reads_resource_tags: false,
        };
        permissions.note_context_reads();
        Ok(permissions)
    }

    /// Recompute [`Self::reads_context`] after the policies changed.
    pub fn note_context_reads(&mut self) {
        let policies = || self.identity.iter().chain(&self.boundary);
        self.reads_context = policies().any(|p| p.document.reads_context());
        self.reads_resource_tags = policies().any(|p| reads_resource_tags(&p.document));
    }
}

/// Whether a document tests the tags of the resource.
pub fn reads_resource_tags(document: &PolicyDocument) -> bool {
    document.context_keys().iter().any(|key| {
        let key = key.to_ascii_lowercase();
        key.starts_with("aws:resourcetag/") || key.starts_with("iam:resourcetag/")
    })
}

/// The kinds of resource whose tags `aws:ResourceTag/*` reads, by ARN: identity pools, IAM
/// users and roles. Other ARNs have no tags here.
enum TaggedResource<'a> {
    Pool(&'a str),
    Entity(EntityKind, &'a str),
    /// By URL (host and path).
    OidcProvider(&'a str),
}

fn tagged_resource(arn: &str) -> Option<TaggedResource<'_>> {
    let mut parts = arn.splitn(6, ':');
    let (_, _, service, _, _, resource) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    let (kind, rest) = resource.split_once('/')?;
    match (service, kind) {
        ("cognito-identity", "identitypool") => Some(TaggedResource::Pool(rest)),
        ("iam", "user") => Some(TaggedResource::Entity(
            EntityKind::User,
            rest.rsplit('/').next()?,
        )),
        ("iam", "role") => Some(TaggedResource::Entity(
            EntityKind::Role,
            rest.rsplit('/').next()?,
        )),
        ("iam", "oidc-provider") => Some(TaggedResource::OidcProvider(rest)),
        _ => None,
    }
}

/// Which kind of policy decided a denial; AWS names it in the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyType {
    IdentityBased,
    PermissionsBoundary,
    SessionPolicy,
}

impl PolicyType {
    fn phrase(self) -> &'static str {
        match self {
            Self::IdentityBased => "identity-based policy",
            Self::PermissionsBoundary => "permissions boundary",
            Self::SessionPolicy => "session policy",
        }
    }
}

/// The outcome of authorizing one action on one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    ExplicitDeny(PolicyType),
    /// Nothing of that kind allows.
    ImplicitDeny(PolicyType),
}

impl Verdict {
    /// AWS's AccessDenied message for this verdict (the IAM user guide's "access denied error
    /// messages"): `on resource:` is left out for actions without a resource.
    pub fn denial_message(self, principal_arn: &str, action: &str, resource: &str) -> String {
        let on = if resource == "*" {
            String::new()
        } else {
            format!(" on resource: {resource}")
        };
        format!(
            "User: {principal_arn} is not authorized to perform: {action}{on} {}",
            self.reason(action)
        )
    }

    /// Why: the end of the AccessDenied message (`with an explicit deny in …`, `because no …
    /// allows the … action`), or `allowed`.
    pub fn reason(self, action: &str) -> String {
        match self {
            Self::Allowed => "allowed".to_owned(),
            Self::ExplicitDeny(kind) => format!(
                "with an explicit deny in {} {}",
                article(kind),
                kind.phrase()
            ),
            Self::ImplicitDeny(kind) => {
                format!("because no {} allows the {action} action", kind.phrase())
            }
        }
    }
}

fn article(kind: PolicyType) -> &'static str {
    match kind {
        PolicyType::IdentityBased => "an",
        _ => "a",
    }
}

/// Decide a request: an explicit deny anywhere wins; then the identity-based policies must
/// allow, and the boundary and the session policies too when there are any.
pub fn decide(
    permissions: &PrincipalPermissions,
    session_policies: &[PolicyDocument],
    action: &str,
    resource: &str,
    context: &Context,
) -> Verdict {
    let request = Request {
        principal: None,
        action,
        resource,
        context,
    };
    let identity =
        tegata_policy::evaluate(permissions.identity.iter().map(|p| &p.document), &request);
    let boundary = (!permissions.boundary.is_empty()).then(|| {
        tegata_policy::evaluate(permissions.boundary.iter().map(|b| &b.document), &request)
    });
    let session =
        (!session_policies.is_empty()).then(|| tegata_policy::evaluate(session_policies, &request));
    let kinds = [
        (PolicyType::IdentityBased, Some(identity)),
        (PolicyType::PermissionsBoundary, boundary),
        (PolicyType::SessionPolicy, session),
    ];
    for (kind, decision) in kinds {
        if decision == Some(Decision::ExplicitDeny) {
            return Verdict::ExplicitDeny(kind);
        }
    }
    for (kind, decision) in kinds {
        if matches!(decision, Some(Decision::NotApplicable)) {
            return Verdict::ImplicitDeny(kind);
        }
    }
    Verdict::Allowed
}

/// The simulator's answer for one action on one resource (SimulatePrincipalPolicy,
/// SimulateCustomPolicy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Simulation {
    pub verdict: Verdict,
    /// The statements that applied: which policy, and where the statement is in its text.
    pub matched: Vec<MatchedStatement>,
    /// Condition keys the policies test that the context did not give.
    pub missing_context: Vec<String>,
    /// Whether the boundary allowed the action, when there is a boundary.
    pub allowed_by_boundary: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchedStatement {
    pub source_id: String,
    pub start: Option<tegata_policy::Position>,
    pub end: Option<tegata_policy::Position>,
}

/// Where each statement of each of `permissions`' policies is in its text (identity policies,
/// then the boundary's), computed once for a simulation's many requests.
pub fn statement_places(
    permissions: &PrincipalPermissions,
) -> Vec<Vec<(tegata_policy::Position, tegata_policy::Position)>> {
    permissions
        .identity
        .iter()
        .chain(&permissions.boundary)
        .map(|policy| tegata_policy::statement_positions(&policy.text))
        .collect()
}

/// Simulate one request: the verdict is [`decide`]'s own, so the simulator says what a real
/// request would get; the matched statements and missing keys explain it. `places` is
/// [`statement_places`] of the same permissions.
pub fn simulate(
    permissions: &PrincipalPermissions,
    places: &[Vec<(tegata_policy::Position, tegata_policy::Position)>],
    action: &str,
    resource: &str,
    context: &Context,
) -> Simulation {
    let verdict = decide(permissions, &[], action, resource, context);
    let request = Request {
        principal: None,
        action,
        resource,
        context,
    };
    let mut matched = Vec::new();
    let mut missing_context: Vec<String> = Vec::new();
    let policies = permissions.identity.iter().chain(&permissions.boundary);
    for (index, policy) in policies.enumerate() {
        let positions = places.get(index).map(Vec::as_slice).unwrap_or_default();
        for (n, statement) in policy.document.statements.iter().enumerate() {
            if statement.applies(policy.document.version, &request) {
                let span = positions.get(n);
                matched.push(MatchedStatement {
                    source_id: policy.source.id().to_owned(),
                    start: span.map(|s| s.0),
                    end: span.map(|s| s.1),
                });
            }
        }
        for key in policy.document.context_keys() {
            if context.get(key).is_none() && !missing_context.iter().any(|k| k == key) {
                missing_context.push(key.to_owned());
            }
        }
    }
    let allowed_by_boundary = (!permissions.boundary.is_empty()).then(|| {
        tegata_policy::evaluate(permissions.boundary.iter().map(|b| &b.document), &request)
            == Decision::Allow
    });
    Simulation {
        verdict,
        matched,
        missing_context,
        allowed_by_boundary,
    }
}

/// A principal's permissions by `user/<name>` or `role/<name>` (lower-cased).
pub type PermissionCache = SecondCache<Arc<PrincipalPermissions>>;

/// A managed policy named as a session policy (`PolicyArns`), in the same cache.
pub fn session_policy_cache_key(arn: &str) -> String {
    format!("policy/{arn}")
}

pub fn cache_key(kind: EntityKind, name: &str) -> String {
    format!("{}/{}", kind.as_str(), name.to_lowercase())
}

/// Reads principals' permissions through the cache.
pub struct Permissions {
    store: Arc<dyn Store>,
    cache: Arc<PermissionCache>,
}

impl Permissions {
    pub fn new(store: Arc<dyn Store>, cache: Arc<PermissionCache>) -> Self {
        Self { store, cache }
    }

    /// The permissions of a user or role, as read during second `now`; `None` when it does not
    /// exist (a deleted user's key still cached elsewhere, a deleted role's session).
    pub async fn of(
        &self,
        kind: EntityKind,
        name: &str,
        now: UnixSeconds,
    ) -> Result<Option<Arc<PrincipalPermissions>>, Internal> {
        self.cache
            .get_or_load(&cache_key(kind, name), now, || async {
                let Some(set) = self
                    .store
                    .principal_policies(kind, name)
                    .await
                    .map_err(|e| Internal::caused_by("reading a principal's policies", e))?
                else {
                    return Ok(None);
                };
                PrincipalPermissions::from_set(set).map(|p| Some(Arc::new(p)))
            })
            .await
    }

    /// A managed policy used as a session policy (`PolicyArns`), as read during second `now`,
    /// cached with principals' permissions (IAM's policy writes forget both); `None` when it
    /// no longer exists.
    pub async fn managed_session_policy(
        &self,
        arn: &str,
        now: UnixSeconds,
    ) -> Result<Option<Arc<PrincipalPermissions>>, Internal> {
        self.cache
            .get_or_load(&session_policy_cache_key(arn), now, || async {
                let text = match aws_managed::find(arn) {
                    Some(policy) => Some(policy.document.to_owned()),
                    None => self
                        .store
                        .policy_versions(arn)
                        .await
                        .map_err(|e| Internal::caused_by("reading a session's managed policy", e))?
                        .into_iter()
                        .find(|version| version.is_default)
                        .map(|version| version.document),
                };
                let Some(text) = text else {
                    return Ok(None);
                };
                let source = PolicySource::Managed {
                    arn: arn.to_owned(),
                };
                let policy = SourcedPolicy::parse(source, &text)
                    .map_err(|e| Internal::new(format!("stored policy does not parse: {}", e.0)))?;
                Ok(Some(Arc::new(PrincipalPermissions {
                    identity: vec![policy],
                    ..PrincipalPermissions::default()
                })))
            })
            .await
    }

    /// The tags of the resource `arn` names (`aws:ResourceTag/*`); none for a resource that has
    /// no tags here or does not exist.
    pub async fn resource_tags(&self, arn: &str) -> Result<Vec<(String, String)>, Internal> {
        let read = |e| Internal::caused_by("reading a resource's tags", e);
        Ok(match tagged_resource(arn) {
            Some(TaggedResource::Pool(id)) => self
                .store
                .identity_pool(id)
                .await
                .map_err(read)?
                .and_then(|pool| pool.spec.tags)
                .map(|tags| tags.into_iter().collect())
                .unwrap_or_default(),
            Some(TaggedResource::Entity(EntityKind::User, name)) => self
                .store
                .user(name)
                .await
                .map_err(read)?
                .map(|user| user.tags)
                .unwrap_or_default(),
            Some(TaggedResource::Entity(_, name)) => self
                .store
                .role(name)
                .await
                .map_err(read)?
                .map(|role| role.tags)
                .unwrap_or_default(),
            Some(TaggedResource::OidcProvider(url)) => self
                .store
                .oidc_provider(url)
                .await
                .map_err(read)?
                .map(|provider| provider.tags)
                .unwrap_or_default(),
            None => Vec::new(),
        })
    }

    /// The stored name and path of a user, group or role (`None` when it does not exist):
    /// IAM authorizes an operation on an existing entity on its ARN, which has both.
    pub async fn entity_name_and_path(
        &self,
        kind: EntityKind,
        name: &str,
    ) -> Result<Option<(String, String)>, Internal> {
        crate::iam::stored_name_and_path(&*self.store, kind, name)
            .await
            .map_err(|e| Internal::caused_by("reading an entity's name and path", e))
    }

    /// The name of the user who owns an access key, if the key exists.
    pub async fn access_key_owner(&self, access_key_id: &str) -> Result<Option<String>, Internal> {
        Ok(self
            .store
            .access_key(access_key_id)
            .await
            .map_err(|e| Internal::caused_by("reading an access key's owner", e))?
            .map(|key| key.user_name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iam::SourcedDocument;

    fn permissions(identity: &[&str], boundary: Option<&str>) -> PrincipalPermissions {
        PrincipalPermissions::from_set(PrincipalPolicySet {
            id: "AIDATEST".to_owned(),
            inline: identity
                .iter()
                .enumerate()
                .map(|(n, doc)| SourcedDocument {
                    source: PolicySource::Inline {
                        kind: EntityKind::User,
                        entity: "u".into(),
                        policy_name: format!("p{n}"),
                    },
                    document: (*doc).to_owned(),
                })
                .collect(),
            attached: Vec::new(),
            boundary: boundary.map(|_| {
                (
                    "arn:aws:iam::1:policy/b".to_owned(),
                    boundary.map(str::to_owned),
                )
            }),
            tags: Vec::new(),
        })
        .unwrap()
    }

    const ALLOW_GET: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:Get*","Resource":"*"}}"#;
    const DENY_ROLE: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"iam:GetRole","Resource":"*"}}"#;
    const ALLOW_USER: &str = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:GetUser","Resource":"*"}}"#;

    #[test]
    fn each_kind_of_policy_must_allow_and_any_deny_wins() {
        let none: &[PolicyDocument] = &[];
        let ctx = Context::new();
        let p = permissions(&[ALLOW_GET], None);
        assert_eq!(decide(&p, none, "iam:GetRole", "*", &ctx), Verdict::Allowed);
        assert_eq!(
            decide(&p, none, "iam:CreateRole", "*", &ctx),
            Verdict::ImplicitDeny(PolicyType::IdentityBased)
        );
        let denied = permissions(&[ALLOW_GET, DENY_ROLE], None);
        assert_eq!(
            decide(&denied, none, "iam:GetRole", "*", &ctx),
            Verdict::ExplicitDeny(PolicyType::IdentityBased)
        );
        let bounded = permissions(&[ALLOW_GET], Some(ALLOW_USER));
        assert_eq!(
            decide(&bounded, none, "iam:GetUser", "*", &ctx),
            Verdict::Allowed
        );
        assert_eq!(
            decide(&bounded, none, "iam:GetRole", "*", &ctx),
            Verdict::ImplicitDeny(PolicyType::PermissionsBoundary)
        );
        let session = [PolicyDocument::parse(ALLOW_USER, PolicyKind::Identity).unwrap()];
        assert_eq!(
            decide(&p, &session, "iam:GetUser", "*", &ctx),
            Verdict::Allowed
        );
        assert_eq!(
            decide(&p, &session, "iam:GetRole", "*", &ctx),
            Verdict::ImplicitDeny(PolicyType::SessionPolicy)
        );
    }

    #[test]
    fn tagged_resources_by_arn() {
        assert!(matches!(
            tagged_resource("arn:aws:cognito-identity:us-east-1:1:identitypool/us-east-1:ab-c"),
            Some(TaggedResource::Pool("us-east-1:ab-c"))
        ));
        assert!(matches!(
            tagged_resource("arn:aws:iam::1:role/app/worker"),
            Some(TaggedResource::Entity(EntityKind::Role, "worker"))
        ));
        assert!(matches!(
            tagged_resource("arn:aws:iam::1:user/u"),
            Some(TaggedResource::Entity(EntityKind::User, "u"))
        ));
        for other in [
            "*",
            "arn:aws:iam::1:group/g",
            "arn:aws:s3:::bucket/key",
            "arn:aws",
        ] {
            assert!(tagged_resource(other).is_none(), "{other}");
        }
    }

    #[test]
    fn denials_use_aws_wording() {
        assert_eq!(
            Verdict::ImplicitDeny(PolicyType::IdentityBased).denial_message(
                "arn:aws:iam::1:user/u",
                "iam:CreateUser",
                "arn:aws:iam::1:user/x"
            ),
            "User: arn:aws:iam::1:user/u is not authorized to perform: iam:CreateUser on \
             resource: arn:aws:iam::1:user/x because no identity-based policy allows the \
             iam:CreateUser action"
        );
        assert_eq!(
            Verdict::ExplicitDeny(PolicyType::PermissionsBoundary).denial_message(
                "arn:aws:iam::1:user/u",
                "iam:ListRoles",
                "*"
            ),
            "User: arn:aws:iam::1:user/u is not authorized to perform: iam:ListRoles with an \
             explicit deny in a permissions boundary"
        );
    }
}
