//! The one driver every request of every service goes through, and the endpoint table each
//! service declares for it.
//!
//! A request is: parsed (which service and operation, the raw input) → authenticated, as the
//! operation's row says → decoded into the operation's input shape and checked against the
//! model's constraints → authorized (the action and resource of the row, for the caller) →
//! handled (`async fn(&Service, &Context, Input) -> Result<Output, ServiceError>`) → encoded →
//! logged. The row is the only place that says how an operation authenticates, what it is
//! authorized as and whether tegata implements it; the service's `dispatch` is one exhaustive
//! match generated from the same rows.
//!
//! Authorization comes after validation because the resource's ARN is made of input members, and
//! only members that passed the model's patterns make a well-formed ARN.

use std::sync::Arc;

use axum::response::Response;
use http::StatusCode;
use tegata_core::deployment::PARTITION;
use tegata_core::iam::EntityKind;
use tegata_core::{AwsError, Deployment, Randomness};
use tegata_sigv4::SigV4Error;
use time::OffsetDateTime;

use crate::auth::{AuthError, Caller};
use crate::validate::{Validate, Violations};

/// How an operation authenticates its caller (the model's `authtype`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// SigV4 with the service's signing name; the signer's policies decide.
    Signed,
    /// SigV4, and a valid signature is all it takes: no permission is checked (STS
    /// GetCallerIdentity, which AWS answers even under an explicit deny).
    SignedOnly,
    /// SigV4; the signer's policies are evaluated but not enforced here: the handler decides
    /// together with the role's trust policy, which may grant by itself (STS AssumeRole; see
    /// [`tegata_core::sts::IdentityVerdicts`]).
    SignedWithTrust,
    /// No credentials (`authtype: none`). A signature, if any, is not checked, as AWS ignores it:
    /// an SDK may sign these with whatever credentials it holds, expired ones included.
    Anonymous,
}

/// The resource an operation is authorized on, as the Service Authorization Reference writes
/// it: `${Partition}`, `${Region}`, `${Account}`, and input members by name (`${IdentityPoolId}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    /// The operation acts on no resource of its own (a policy must say `"Resource": "*"`).
    None,
    /// An ARN template. `${Path}` is the input's `Path` (default `/`): IAM's templates use it
    /// only for operations that create an entity, whose `Path` member is validated.
    Arn(&'static str),
    /// An existing IAM user, group or role named by an input member: its ARN includes its stored
    /// path, which the authorizer reads. A user operation without a `UserName` acts on the
    /// signing user.
    Entity(EntityKind, &'static str),
    /// The user who owns the access key named by `AccessKeyId` (GetAccessKeyLastUsed).
    KeyOwner,
}

/// One row of a service's endpoint table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoint {
    pub name: &'static str,
    /// The IAM action: `<service prefix>:<operation>`.
    pub action: &'static str,
    pub auth: Auth,
    pub resource: Resource,
    pub implemented: bool,
}

/// A source of input members by name, for resource ARNs.
pub trait Members {
    fn member(&self, name: &str) -> Option<&str>;

    /// The tags the request asks to set, for `aws:RequestTag/*` and `aws:TagKeys`.
    fn request_tags(&self) -> Vec<(String, String)>;

    /// The tag keys the request asks to remove (`TagKeys`), for `aws:TagKeys`.
    fn tag_keys(&self) -> Vec<String>;

    /// The role ARNs the request hands to the service (SetIdentityPoolRoles' `Roles` and role
    /// mapping rules), each needing `iam:PassRole`.
    fn passed_roles(&self) -> Vec<String>;
}

impl Members for crate::protocol::aws_json::JsonBody {
    fn member(&self, name: &str) -> Option<&str> {
        crate::protocol::aws_json::JsonBody::member(self, name)
    }

    /// Cognito's tag maps: `Tags` (TagResource) and `IdentityPoolTags` (Create/Update).
    fn request_tags(&self) -> Vec<(String, String)> {
        ["Tags", "IdentityPoolTags"]
            .iter()
            .filter_map(|name| self.object(name))
            .flat_map(|map| {
                map.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
            })
            .collect()
    }

    fn tag_keys(&self) -> Vec<String> {
        self.array("TagKeys")
            .map(|keys| {
                keys.iter()
                    .filter_map(|k| k.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn passed_roles(&self) -> Vec<String> {
        let mut roles: Vec<String> = self
            .object("Roles")
            .map(|map| {
                map.values()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let rules = self
            .object("RoleMappings")
            .into_iter()
            .flat_map(|mappings| mappings.values())
            .filter_map(|mapping| mapping.pointer("/RulesConfiguration/Rules")?.as_array())
            .flatten()
            .filter_map(|rule| rule.get("RoleARN")?.as_str());
        for role in rules {
            if !roles.iter().any(|r| r == role) {
                roles.push(role.to_owned());
            }
        }
        roles
    }
}

impl Members for crate::protocol::aws_query::QueryParams {
    fn member(&self, name: &str) -> Option<&str> {
        self.get(name)
    }

    /// awsQuery's `Tags.member.N.Key` / `.Value` lists.
    fn request_tags(&self) -> Vec<(String, String)> {
        self.struct_list("Tags")
            .unwrap_or_default()
            .into_iter()
            .filter_map(|mut tag| {
                Some((tag.remove("Key")?, tag.remove("Value").unwrap_or_default()))
            })
            .collect()
    }

    fn tag_keys(&self) -> Vec<String> {
        self.list("TagKeys").unwrap_or_default()
    }

    /// IAM and STS take no roles to pass (AssumeRole* name the role they assume).
    fn passed_roles(&self) -> Vec<String> {
        Vec::new()
    }
}

impl Resource {
    /// The resource's ARN for a request in `region` with `members`; `*` for [`Resource::None`].
    pub fn arn(self, deployment: &Deployment, region: &str, members: &dyn Members) -> String {
        let template = match self {
            Resource::None => return "*".to_owned(),
            Resource::Arn(template) => template,
            Resource::Entity(kind, member) => {
                return tegata_core::iam::entity_arn(
                    &deployment.account_id,
                    kind,
                    "/",
                    members.member(member).unwrap_or_default(),
                );
            }
            Resource::KeyOwner => {
                return format!(
                    "access key {}",
                    members.member("AccessKeyId").unwrap_or_default()
                );
            }
        };
        let mut out = String::with_capacity(template.len() + 64);
        let mut rest = template;
        while let Some((before, after)) = rest.split_once("${") {
            out.push_str(before);
            let Some((name, after)) = after.split_once('}') else {
                out.push_str("${");
                rest = after;
                continue;
            };
            match name {
                "Partition" => out.push_str(PARTITION),
                "Region" => out.push_str(region),
                "Account" => out.push_str(&deployment.account_id),
                "Path" => out.push_str(members.member("Path").unwrap_or("/")),
                member => out.push_str(members.member(member).unwrap_or_default()),
            }
            rest = after;
        }
        out.push_str(rest);
        out
    }
}

/// What a handler knows of its request besides the input.
pub struct Context {
    pub request_id: String,
    pub now: OffsetDateTime,
    /// Present for signed operations; anonymous ones have no caller.
    pub caller: Option<Caller>,
    pub rng: Arc<dyn Randomness>,
    /// The address the request came from (`aws:SourceIp`).
    pub source_ip: Option<std::net::IpAddr>,
    /// For [`Auth::SignedWithTrust`] rows: what the caller's own policies say.
    pub identity_verdicts: tegata_core::sts::IdentityVerdicts,
    /// What the handler adds to the request's audit line; `None` when auditing is off.
    pub audit: Option<Arc<crate::audit::AuditNotes>>,
}

/// The region of requests that were not signed (which name none).
pub const DEFAULT_REGION: &str = "us-east-1";

impl Context {
    pub fn unix_now(&self) -> i64 {
        self.now.unix_timestamp()
    }

    /// Add `value` to the request's audit line under `name` (nothing when auditing is off).
    /// Never a secret: ids, ARNs and times only.
    pub fn audit_note(&self, name: &'static str, value: impl Into<String>) {
        if let Some(notes) = &self.audit {
            notes.note(name, value);
        }
    }

    /// The region the request was signed for: pool and identity ids carry it.
    pub fn region(&self) -> &str {
        self.caller
            .as_ref()
            .map_or(DEFAULT_REGION, |caller| caller.region.as_str())
    }
}

/// Which wire protocol answers: the codes of the errors every service shares differ by protocol
/// (aws-api.md §6), as do the envelopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProtocolKind {
    Json,
    Query,
}

/// A refusal made before (or around) an operation's own logic: the errors AWS's front ends
/// answer for every service, each protocol with its own code.
#[derive(Debug)]
pub enum RequestError {
    MissingAuthenticationToken,
    IncompleteSignature(String),
    /// An access key this deployment did not issue, an inactive one, or a bad session token.
    UnknownAccessKey,
    ExpiredToken,
    BadSignature(SigV4Error),
    AccessDenied(String),
    Validation(String),
    Serialization(String),
    UnknownOperation {
        name: String,
        version: Option<String>,
    },
    MissingAction,
    NotImplemented(String),
    Throttled,
    TooLarge {
        limit: usize,
    },
    TimedOut,
    /// A fault on our side; the text is for the log only.
    Internal(String),
}

impl RequestError {
    /// Code, status and message as the protocol answers them.
    pub fn wire(&self, protocol: ProtocolKind) -> (&'static str, StatusCode, Option<String>) {
        use ProtocolKind::{Json, Query};
        let json = protocol == Json;
        let pick = |json_code, query_code| if json { json_code } else { query_code };
        let client = StatusCode::BAD_REQUEST;
        // JSON services answer every client error with 400; the query services 403 for
        // authentication and authorization (aws-api.md §6).
        let forbidden = if json { client } else { StatusCode::FORBIDDEN };
        match self {
            Self::MissingAuthenticationToken => (
                pick(
                    "MissingAuthenticationTokenException",
                    "MissingAuthenticationToken",
                ),
                forbidden,
                Some(
                    pick(
                        "Missing Authentication Token",
                        "Request is missing Authentication Token",
                    )
                    .to_owned(),
                ),
            ),
            Self::IncompleteSignature(m) => (
                pick("IncompleteSignatureException", "IncompleteSignature"),
                client,
                Some(m.clone()),
            ),
            Self::UnknownAccessKey => (
                pick("UnrecognizedClientException", "InvalidClientTokenId"),
                forbidden,
                Some("The security token included in the request is invalid.".to_owned()),
            ),
            Self::ExpiredToken => (
                pick("ExpiredTokenException", "ExpiredToken"),
                forbidden,
                Some("The security token included in the request is expired".to_owned()),
            ),
            Self::BadSignature(e) => (
                pick("InvalidSignatureException", "SignatureDoesNotMatch"),
                forbidden,
                Some(e.to_string()),
            ),
            Self::AccessDenied(m) => (
                pick("AccessDeniedException", "AccessDenied"),
                forbidden,
                Some(m.clone()),
            ),
            Self::Validation(m) => (
                pick("ValidationException", "ValidationError"),
                client,
                Some(m.clone()),
            ),
            Self::Serialization(m) => (
                pick("SerializationException", "MalformedQueryString"),
                client,
                Some(m.clone()),
            ),
            // AWS's JSON front ends send this one without a message (aws-api.md §1.1).
            Self::UnknownOperation { name, version } => match protocol {
                Json => ("UnknownOperationException", client, None),
                Query => (
                    "InvalidAction",
                    client,
                    Some(format!(
                        "Could not find operation {name} for version {}",
                        version.as_deref().unwrap_or("NO_VERSION_SPECIFIED")
                    )),
                ),
            },
            Self::MissingAction => (
                pick("UnknownOperationException", "MissingAction"),
                client,
                Some("The request is missing an action or a required parameter.".to_owned()),
            ),
            Self::NotImplemented(m) => (
                "NotImplemented",
                StatusCode::NOT_IMPLEMENTED,
                Some(m.clone()),
            ),
            Self::Throttled => (
                pick("TooManyRequestsException", "Throttling"),
                client,
                Some("Rate exceeded".to_owned()),
            ),
            Self::TooLarge { limit } => (
                pick("RequestEntityTooLargeException", "RequestEntityTooLarge"),
                StatusCode::PAYLOAD_TOO_LARGE,
                Some(format!(
                    "The request body is larger than the {limit} bytes this service accepts."
                )),
            ),
            Self::TimedOut => (
                "ServiceUnavailable",
                StatusCode::SERVICE_UNAVAILABLE,
                Some("The request was not answered in time; retry.".to_owned()),
            ),
            Self::Internal(_) => match protocol {
                Json => (
                    "InternalErrorException",
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Some("An internal error occurred.".to_owned()),
                ),
                Query => (
                    "InternalFailure",
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Some(
                        "The request processing has failed because of an unknown error, \
                         exception or failure."
                            .to_owned(),
                    ),
                ),
            },
        }
    }
}

impl From<AuthError> for RequestError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Missing => Self::MissingAuthenticationToken,
            AuthError::Incomplete(message) => Self::IncompleteSignature(message),
            AuthError::UnknownAccessKey => Self::UnknownAccessKey,
            AuthError::ExpiredToken => Self::ExpiredToken,
            AuthError::Signature(e) => Self::BadSignature(e),
            AuthError::Internal(detail) => Self::Internal(detail),
        }
    }
}

/// Why a request was not answered with its operation's output.
#[derive(Debug)]
pub enum Failure {
    Request(RequestError),
    /// The operation's own modelled error, already in its wire terms.
    Service {
        code: &'static str,
        status: StatusCode,
        message: String,
        /// For the log only.
        internal: Option<String>,
    },
}

impl Failure {
    pub fn service<E: AwsError>(e: E) -> Self {
        Self::Service {
            code: e.code(),
            status: StatusCode::from_u16(e.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            message: e.to_string(),
            internal: e.internal().map(ToString::to_string),
        }
    }

    /// Code, status and message as `protocol` answers them, and what only the log may see.
    pub fn wire(
        &self,
        protocol: ProtocolKind,
    ) -> (&'static str, StatusCode, Option<String>, Option<&str>) {
        match self {
            Self::Request(e) => {
                let (code, status, message) = e.wire(protocol);
                let internal = match e {
                    RequestError::Internal(detail) => Some(detail.as_str()),
                    _ => None,
                };
                (code, status, message, internal)
            }
            Self::Service {
                code,
                status,
                message,
                internal,
            } => (code, *status, Some(message.clone()), internal.as_deref()),
        }
    }
}

impl From<RequestError> for Failure {
    fn from(e: RequestError) -> Self {
        Self::Request(e)
    }
}

/// Input shapes read from a protocol's raw input (`JsonBody`, `QueryParams`).
pub trait Decode<Raw>: Sized {
    /// The shape, with type errors (a number that is not one) added to `v`.
    fn decode(raw: Raw, v: &mut Violations) -> Result<Self, RequestError>;
}

impl<T: serde::de::DeserializeOwned> Decode<crate::protocol::aws_json::JsonBody> for T {
    fn decode(
        raw: crate::protocol::aws_json::JsonBody,
        _: &mut Violations,
    ) -> Result<Self, RequestError> {
        raw.decode()
            .map_err(|e| RequestError::Serialization(e.to_string()))
    }
}

/// A call being driven: what the driver knows once the operation is authenticated.
pub struct Call<'a, Raw> {
    pub ctx: Context,
    pub endpoint: Endpoint,
    pub deployment: &'a Deployment,
    raw: Option<Raw>,
    authorizer: &'a crate::authorize::Authorizer,
}

impl<'a, Raw: Members> Call<'a, Raw> {
    pub fn new(
        ctx: Context,
        endpoint: Endpoint,
        deployment: &'a Deployment,
        raw: Raw,
        authorizer: &'a crate::authorize::Authorizer,
    ) -> Self {
        Self {
            ctx,
            endpoint,
            deployment,
            raw: Some(raw),
            authorizer,
        }
    }

    /// The operation's input: decoded, checked against the model, and authorized.
    pub async fn input<I: Decode<Raw> + Validate>(&mut self) -> Result<I, Failure> {
        let raw = self
            .raw
            .take()
            .ok_or_else(|| RequestError::Internal("the input was read twice".to_owned()))?;
        // What authorization needs of the raw members, read while they are at hand.
        let resource = self
            .endpoint
            .resource
            .arn(self.deployment, self.ctx.region(), &raw);
        let terms = if matches!(self.endpoint.auth, Auth::Signed | Auth::SignedWithTrust) {
            Some(AuthorizationTerms::read(&self.endpoint, &raw))
        } else {
            None
        };
        let mut violations = Violations::new();
        let input = I::decode(raw, &mut violations)?;
        input.validate(&mut violations);
        if let Some(message) = violations.message() {
            return Err(RequestError::Validation(message).into());
        }
        if let (Some(terms), Some(caller)) = (terms, self.ctx.caller.as_ref()) {
            if self.endpoint.auth == Auth::SignedWithTrust {
                let verdicts = self.identity_verdicts(caller, &resource, &terms).await?;
                self.ctx.identity_verdicts = verdicts;
            } else {
                self.authorize(caller, resource, terms).await?;
            }
        }
        Ok(input)
    }

    /// The caller's policies' verdicts on each action the request performs on `resource`,
    /// left to the handler to enforce.
    async fn identity_verdicts(
        &self,
        caller: &Caller,
        resource: &str,
        terms: &AuthorizationTerms,
    ) -> Result<tegata_core::sts::IdentityVerdicts, RequestError> {
        let facts = terms.facts(self.ctx.now, self.ctx.source_ip);
        // A source identity kept from the calling session counts as one set (see the handler).
        let inherited = caller
            .session
            .as_ref()
            .is_some_and(|s| s.source_identity.is_some());
        let actions = tegata_core::sts::assume_role_actions(
            !terms.request_tags.is_empty(),
            terms.source_identity || inherited,
        );
        let mut verdicts = Vec::with_capacity(actions.len());
        for action in actions {
            let verdict = self
                .authorizer
                .verdict(caller, action, resource, &facts)
                .await?;
            verdicts.push((action, verdict));
        }
        let principal_tags = self
            .authorizer
            .principal_tags(caller, self.ctx.now.unix_timestamp())
            .await?;
        Ok(tegata_core::sts::IdentityVerdicts {
            verdicts,
            principal_tags,
        })
    }

    /// Authorize the row's action on its resource, then what the request also does: a renamed
    /// user's new name (UpdateUser), roles handed to the service (`iam:PassRole`).
    async fn authorize(
        &self,
        caller: &Caller,
        rendered: String,
        terms: AuthorizationTerms,
    ) -> Result<(), RequestError> {
        let stored = match self.endpoint.resource {
            Resource::Entity(kind, _) => {
                let name = match &terms.entity_name {
                    Some(name) => name.clone(),
                    None if !caller.is_user() => {
                        return Err(RequestError::Validation(
                            "Must specify userName when calling with non-User credentials"
                                .to_owned(),
                        ));
                    }
                    None => crate::authorize::principal_entity(caller).1.to_owned(),
                };
                Some(self.stored_entity(kind, name).await?)
            }
            Resource::KeyOwner => Some(self.key_owner(caller, &terms).await?),
            _ => None,
        };
        let resource = match &stored {
            Some(entity) => entity.arn.clone(),
            None => rendered,
        };
        self.ctx.audit_note("resource", resource.clone());
        let facts = terms.facts(self.ctx.now, self.ctx.source_ip);
        let authorizer = self.authorizer;
        authorizer
            .authorize(caller, self.endpoint.action, &resource, &facts)
            .await?;
        if let (Some(entity), Some((new_name, new_path))) = (&stored, &terms.renamed_to) {
            let target = tegata_core::iam::entity_arn(
                &self.deployment.account_id,
                EntityKind::User,
                new_path.as_deref().unwrap_or(&entity.path),
                new_name.as_deref().unwrap_or(&entity.name),
            );
            authorizer
                .authorize(caller, self.endpoint.action, &target, &facts)
                .await?;
        }
        // Session tags on a federated user need their own permission, as on AssumeRole.
        if self.endpoint.action == "sts:GetFederationToken" && !terms.request_tags.is_empty() {
            authorizer
                .authorize(caller, TAG_SESSION, &resource, &facts)
                .await?;
        }
        for role in &terms.passed_roles {
            authorizer
                .authorize(caller, PASS_ROLE, role, &facts)
                .await?;
        }
        Ok(())
    }

    /// The user, group or role an operation names, as stored: IAM authorizes on the ARN of the
    /// entity, with its path and its name's own case (`ADMIN` names the user `admin`, and a
    /// policy about `user/admin` applies). An entity that does not exist keeps the name given.
    async fn stored_entity(
        &self,
        kind: EntityKind,
        name: String,
    ) -> Result<StoredEntity, RequestError> {
        let (name, path) = self
            .authorizer
            .permissions()
            .entity_name_and_path(kind, &name)
            .await
            .map_err(|e| RequestError::Internal(e.to_string()))?
            .unwrap_or((name, "/".to_owned()));
        Ok(StoredEntity {
            arn: tegata_core::iam::entity_arn(&self.deployment.account_id, kind, &path, &name),
            name,
            path,
        })
    }

    /// GetAccessKeyLastUsed is authorized on the key's owner. A key that does not exist is
    /// refused as AWS refuses it, without saying so.
    async fn key_owner(
        &self,
        caller: &Caller,
        terms: &AuthorizationTerms,
    ) -> Result<StoredEntity, RequestError> {
        let key = terms.access_key_id.as_deref().unwrap_or_default();
        let owner = self
            .authorizer
            .permissions()
            .access_key_owner(key)
            .await
            .map_err(|e| RequestError::Internal(e.to_string()))?;
        match owner {
            Some(user) => self.stored_entity(EntityKind::User, user).await,
            None => Err(RequestError::AccessDenied(format!(
                "User: {} is not authorized to perform {} on resource: access key {key}",
                caller.principal.arn, self.endpoint.action
            ))),
        }
    }

    pub fn not_implemented(&self) -> Result<Response, Failure> {
        Err(not_implemented(&self.endpoint).into())
    }
}

/// What authorization reads of a request's raw members before they are decoded.
struct AuthorizationTerms {
    /// The user, group or role named (for [`Resource::Entity`]).
    entity_name: Option<String>,
    access_key_id: Option<String>,
    request_tags: Vec<(String, String)>,
    tag_keys: Vec<String>,
    /// Service-specific condition keys taken from the input (`iam:PolicyARN`, …).
    service_keys: Vec<(String, String)>,
    /// UpdateUser's new name and path.
    renamed_to: Option<(Option<String>, Option<String>)>,
    passed_roles: Vec<String>,
    /// Whether the request sets a source identity (STS's `SourceIdentity`).
    source_identity: bool,
}

impl AuthorizationTerms {
    fn facts(
        &self,
        now: OffsetDateTime,
        source_ip: Option<std::net::IpAddr>,
    ) -> crate::authorize::RequestFacts<'_> {
        crate::authorize::RequestFacts {
            now,
            source_ip,
            request_tags: &self.request_tags,
            tag_keys: &self.tag_keys,
            service_keys: &self.service_keys,
        }
    }

    fn read(endpoint: &Endpoint, raw: &dyn Members) -> Self {
        let owned = |name: &str| raw.member(name).map(str::to_owned);
        let mut service_keys = Vec::new();
        if endpoint.action.starts_with("sts:") {
            for (member, key) in [
                ("RoleSessionName", "sts:RoleSessionName"),
                ("ExternalId", "sts:ExternalId"),
                ("SourceIdentity", "sts:SourceIdentity"),
            ] {
                if let Some(value) = raw.member(member) {
                    service_keys.push((key.to_owned(), value.to_owned()));
                }
            }
        }
        if endpoint.action.starts_with("iam:") {
            for (member, key) in [
                ("PolicyArn", "iam:PolicyARN"),
                ("PermissionsBoundary", "iam:PermissionsBoundary"),
            ] {
                if let Some(value) = raw.member(member) {
                    service_keys.push((key.to_owned(), value.to_owned()));
                }
            }
        }
        let renamed_to = (endpoint.action == "iam:UpdateUser")
            .then(|| (owned("NewUserName"), owned("NewPath")))
            .filter(|(name, path)| name.is_some() || path.is_some());
        Self {
            entity_name: match endpoint.resource {
                Resource::Entity(_, member) => owned(member),
                _ => None,
            },
            access_key_id: owned("AccessKeyId"),
            request_tags: raw.request_tags(),
            tag_keys: raw.tag_keys(),
            service_keys,
            renamed_to,
            passed_roles: raw.passed_roles(),
            source_identity: raw.member("SourceIdentity").is_some(),
        }
    }
}

/// An entity as stored: its ARN, name and path.
struct StoredEntity {
    arn: String,
    name: String,
    path: String,
}

/// The action a request that hands a role to a service needs on that role.
const PASS_ROLE: &str = "iam:PassRole";
/// The action of passing session tags.
const TAG_SESSION: &str = "sts:TagSession";

/// What AWS lets the credentials of GetSessionToken and GetFederationToken call. IAM refuses
/// both: GetSessionToken's without MFA, which tegata has none of, and a federated user's
/// always; AWS answers that the token is invalid. Of STS, GetSessionToken's may call
/// AssumeRole and GetCallerIdentity, a federated user's GetCallerIdentity only.
/// GetSessionToken and GetFederationToken answer AWS's own message in their handlers.
fn session_may_call(caller: &Caller, endpoint: &Endpoint) -> Result<(), RequestError> {
    use tegata_core::sts::credentials::SessionKind;
    let Some(kind) = caller.session.as_ref().map(|claims| claims.kind) else {
        return Ok(());
    };
    if kind == SessionKind::Role {
        return Ok(());
    }
    let (service, operation) = endpoint
        .action
        .split_once(':')
        .unwrap_or((endpoint.action, ""));
    let allowed = match service {
        "iam" => return Err(RequestError::UnknownAccessKey),
        "sts" => match operation {
            "GetCallerIdentity" | "GetSessionToken" | "GetFederationToken" => true,
            "AssumeRole" => kind == SessionKind::User,
            _ => false,
        },
        _ => true,
    };
    if allowed {
        Ok(())
    } else {
        Err(RequestError::AccessDenied(format!(
            "User: {} is not authorized to perform: {} with these session credentials",
            caller.principal.arn, endpoint.action
        )))
    }
}

/// The answer to an operation of the model that tegata does not implement (yet).
pub fn not_implemented(endpoint: &Endpoint) -> RequestError {
    RequestError::NotImplemented(format!(
        "tegata does not implement {} yet.",
        endpoint.action
    ))
}

/// Drive one call of a service whose operation is known: authenticate as its row says, refuse
/// what is not implemented, read the raw input, and hand the call to the service's `dispatch`.
#[allow(clippy::too_many_arguments)]
pub async fn drive<'a, Raw: Members, Fut>(
    state: &'a crate::AppState,
    raw: &crate::RawRequest,
    envelope: crate::edge::Envelope,
    endpoint: Endpoint,
    request_id: &str,
    input: impl FnOnce() -> Result<Raw, RequestError>,
    dispatch: impl FnOnce(Call<'a, Raw>) -> Fut,
) -> crate::edge::Answer
where
    Fut: Future<Output = Result<Response, Failure>>,
{
    // The facts of the audit line, gathered only when there is an audit trail to write.
    let mut audit = state.audit.is_on().then(|| crate::audit::AuditFacts {
        source_address: raw.peer,
        ..Default::default()
    });
    let result = async {
        let mut ctx = authenticate(state, raw, envelope.service, &endpoint, request_id).await?;
        if let Some(facts) = &mut audit {
            if let Some(caller) = &ctx.caller {
                facts.principal = Some(caller.principal.arn.clone());
                facts.access_key_id = Some(caller.access_key_id.clone());
            }
            ctx.audit = Some(facts.notes.clone());
        }
        if let Some(caller) = &ctx.caller {
            session_may_call(caller, &endpoint)?;
        }
        if !endpoint.implemented {
            return Err(not_implemented(&endpoint).into());
        }
        let call = Call::new(
            ctx,
            endpoint,
            &state.deployment,
            input()?,
            &state.authorizer,
        );
        dispatch(call).await
    }
    .await;
    crate::edge::Answer {
        envelope,
        operation: std::borrow::Cow::Borrowed(endpoint.name),
        result,
        audit: audit.map(Box::new),
    }
}

/// Who is calling, as the operation's row requires: signed operations must carry a valid
/// signature for `signing_name`; anonymous ones are not checked at all.
async fn authenticate(
    state: &crate::AppState,
    raw: &crate::RawRequest,
    signing_name: &str,
    endpoint: &Endpoint,
    request_id: &str,
) -> Result<Context, Failure> {
    let now = state.clock.now();
    let caller = match endpoint.auth {
        Auth::Anonymous => None,
        Auth::Signed | Auth::SignedOnly | Auth::SignedWithTrust => Some(
            state
                .authenticator
                .authenticate(raw, signing_name, now)
                .await
                .map_err(RequestError::from)?
                .ok_or(RequestError::MissingAuthenticationToken)?,
        ),
    };
    Ok(Context {
        request_id: request_id.to_owned(),
        now,
        caller,
        rng: state.rng.clone(),
        source_ip: raw.peer,
        identity_verdicts: Default::default(),
        audit: None,
    })
}

/// Declares a service's endpoint table: the `Operation` enum (every operation of the model), its
/// rows (`Operation::endpoint`), and `dispatch`, one exhaustive match over the same rows.
///
/// A row is `Name: auth, resource => handler;` where `handler` names a function of the service's
/// `handlers` module, or is `unimplemented`.
macro_rules! endpoint_table {
    (
        prefix: $prefix:literal,
        service: $service:ty,
        raw: $raw:ty,
        answer: $answer:path;
        $( $op:ident: $auth:ident, $resource:expr => $handler:ident; )*
    ) => {
        /// Every operation of the service model.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Operation { $($op,)* }

        impl Operation {
            pub const ALL: &'static [Operation] = &[$(Operation::$op,)*];

            pub fn from_name(name: &str) -> Option<Self> {
                match name {
                    $(stringify!($op) => Some(Operation::$op),)*
                    _ => None,
                }
            }

            pub fn name(self) -> &'static str {
                self.endpoint().name
            }

            /// This operation's row of the table.
            pub const fn endpoint(self) -> $crate::pipeline::Endpoint {
                match self {
                    $(Operation::$op => $crate::pipeline::Endpoint {
                        name: stringify!($op),
                        action: concat!($prefix, ":", stringify!($op)),
                        auth: $crate::pipeline::Auth::$auth,
                        resource: $resource,
                        implemented: $crate::pipeline::endpoint_table!(@implemented $handler),
                    },)*
                }
            }
        }

        /// Run one authenticated call of `op`.
        pub(crate) async fn dispatch(
            service: &$service,
            mut call: $crate::pipeline::Call<'_, $raw>,
            op: Operation,
        ) -> Result<axum::response::Response, $crate::pipeline::Failure> {
            match op {
                $(Operation::$op => $crate::pipeline::endpoint_table!(@run call, service, $answer, $handler),)*
            }
        }
    };
    (@implemented unimplemented) => { false };
    (@implemented $handler:ident) => { true };
    (@run $call:ident, $service:ident, $answer:path, unimplemented) => { $call.not_implemented() };
    (@run $call:ident, $service:ident, $answer:path, $handler:ident) => {{
        let input = $call.input().await?;
        let output = handlers::$handler($service, &$call.ctx, input)
            .await
            .map_err($crate::pipeline::Failure::service)?;
        $answer(&$call, &output)
    }};
}

pub(crate) use endpoint_table;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::aws_query::QueryParams;

    #[test]
    fn resources_are_rendered_from_the_deployment_and_the_input() {
        let deployment = Deployment {
            account_id: "123456789012".to_owned(),
            issuer: "http://localhost".to_owned(),
        };
        let params = QueryParams::parse(b"RoleName=app&IdentityPoolId=eu-west-1:abc", b"");
        let pool = Resource::Arn(
            "arn:${Partition}:cognito-identity:${Region}:${Account}:identitypool/${IdentityPoolId}",
        );
        assert_eq!(
            pool.arn(&deployment, "eu-west-1", &params),
            "arn:aws:cognito-identity:eu-west-1:123456789012:identitypool/eu-west-1:abc"
        );
        let role = Resource::Arn("arn:${Partition}:iam::${Account}:role${Path}${RoleName}");
        assert_eq!(
            role.arn(&deployment, "us-east-1", &params),
            "arn:aws:iam::123456789012:role/app"
        );
        let with_path = QueryParams::parse(b"RoleName=app&Path=/svc/", b"");
        assert_eq!(
            role.arn(&deployment, "us-east-1", &with_path),
            "arn:aws:iam::123456789012:role/svc/app"
        );
        assert_eq!(Resource::None.arn(&deployment, "r", &params), "*");
        // A template that never closes a placeholder keeps its text.
        assert_eq!(Resource::Arn("a${b").arn(&deployment, "r", &params), "a${b");
    }
}
