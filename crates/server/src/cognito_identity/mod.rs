//! Cognito Identity over awsJson1_1: `POST /` with `X-Amz-Target:
//! AWSCognitoIdentityService.<Operation>`.
//!
//! Order of checks, as the real front end does it: the operation (unknown →
//! `UnknownOperationException`), then the signature, then the body's JSON, then the model's
//! constraints (`ValidationException`), and only then the domain.

pub mod shapes;

use std::sync::Arc;
use std::time::Instant;

use axum::response::Response;
use http::StatusCode;
use serde::de::DeserializeOwned;
use tegata_core::DomainError;
use tegata_core::cognito_identity::{
    GetOpenIdTokenForDeveloperIdentityInput, LookupDeveloperIdentityInput, RequestContext,
};

use crate::auth::AuthError;
use crate::aws_json::{self, JsonError};
use crate::{AppState, RawRequest};
use shapes::Validate;

/// The SigV4 service name of Cognito Identity.
pub const SIGNING_NAME: &str = "cognito-identity";

macro_rules! operations {
    ($($name:ident: $signed:expr, $implemented:expr;)*) => {
        /// Every operation of the Cognito Identity service model.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Operation { $($name,)* }

        impl Operation {
            pub fn from_name(name: &str) -> Option<Self> {
                match name { $(stringify!($name) => Some(Operation::$name),)* _ => None }
            }
            pub fn name(self) -> &'static str {
                match self { $(Operation::$name => stringify!($name),)* }
            }
            /// Whether the model requires SigV4 (the rest are callable anonymously).
            pub fn requires_signature(self) -> bool {
                match self { $(Operation::$name => $signed,)* }
            }
            pub fn is_implemented(self) -> bool {
                match self { $(Operation::$name => $implemented,)* }
            }
        }
    };
}

operations! {
    CreateIdentityPool: true, true;
    DeleteIdentities: true, false;
    DeleteIdentityPool: true, true;
    DescribeIdentity: true, true;
    DescribeIdentityPool: true, true;
    GetCredentialsForIdentity: false, false;
    GetId: false, false;
    GetIdentityPoolRoles: true, false;
    GetOpenIdToken: false, false;
    GetOpenIdTokenForDeveloperIdentity: true, true;
    GetPrincipalTagAttributeMap: true, false;
    ListIdentities: true, true;
    ListIdentityPools: true, true;
    ListTagsForResource: true, false;
    LookupDeveloperIdentity: true, true;
    MergeDeveloperIdentities: true, false;
    SetIdentityPoolRoles: true, false;
    SetPrincipalTagAttributeMap: true, false;
    TagResource: true, false;
    UnlinkDeveloperIdentity: true, false;
    UnlinkIdentity: false, false;
    UntagResource: true, false;
    UpdateIdentityPool: true, true;
}

/// The operation named by `X-Amz-Target`. Both the SDKs' short form
/// (`AWSCognitoIdentityService.GetId`) and the long form of the API reference
/// (`com.amazonaws.cognito.identity.model.AWSCognitoIdentityService.GetId`) are accepted.
pub fn parse_target(target: Option<&str>) -> Result<Operation, JsonError> {
    let unknown = || JsonError::client("UnknownOperationException", "");
    let target = target.ok_or_else(unknown)?;
    let (service, operation) = target.rsplit_once('.').ok_or_else(unknown)?;
    let service_ok = service == "AWSCognitoIdentityService"
        || service == "com.amazonaws.cognito.identity.model.AWSCognitoIdentityService";
    if !service_ok {
        return Err(unknown());
    }
    Operation::from_name(operation).ok_or_else(unknown)
}

/// Answer one Cognito Identity request, logging its outcome (never its body or credentials).
pub async fn handle(state: &Arc<AppState>, raw: RawRequest) -> Response {
    let started = Instant::now();
    let request_id = state.request_ids.next();
    let operation = parse_target(raw.header("x-amz-target"));
    let outcome = crate::Outcome {
        request_id: &request_id,
        service: SIGNING_NAME,
        operation: operation.as_ref().map_or("(unknown)", |op| op.name()),
        started,
    };
    let result = match operation {
        Ok(op) => execute(state, op, &raw, &request_id).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(response) => {
            outcome.log(None);
            response
        }
        Err(e) => {
            outcome.log(Some((e.status, e.code, &e.message)));
            aws_json::error(&request_id, &e)
        }
    }
}

fn auth_error(request_id: &str, e: AuthError) -> JsonError {
    match e {
        AuthError::Missing => JsonError::client(
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        ),
        AuthError::Incomplete(message) => {
            JsonError::client("IncompleteSignatureException", message)
        }
        AuthError::UnknownAccessKey => JsonError::client(
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        ),
        AuthError::ExpiredToken => JsonError::client(
            "ExpiredTokenException",
            "The security token included in the request is expired",
        ),
        AuthError::Signature(e) => JsonError::client("InvalidSignatureException", e.to_string()),
        AuthError::Internal(detail) => {
            tracing::error!(request_id, error = %detail, "authentication failed internally");
            JsonError::internal()
        }
    }
}

/// The one mapping of domain errors onto Cognito Identity's exceptions.
pub fn domain_error(request_id: &str, e: DomainError) -> JsonError {
    let (code, message) = match e {
        DomainError::InvalidParameter(m) => ("InvalidParameterException", m),
        DomainError::NotAuthorized(m) => ("NotAuthorizedException", m),
        DomainError::ResourceNotFound(m) => ("ResourceNotFoundException", m),
        DomainError::ResourceConflict(m) => ("ResourceConflictException", m),
        DomainError::LimitExceeded(m) => ("LimitExceededException", m),
        DomainError::DeveloperUserAlreadyRegistered(m) => {
            ("DeveloperUserAlreadyRegisteredException", m)
        }
        DomainError::ConcurrentModification(m) => ("ConcurrentModificationException", m),
        DomainError::AccessDenied(m) => ("AccessDeniedException", m),
        DomainError::Validation(m) => ("ValidationException", m),
        // IAM's and STS's own conditions cannot arise from a Cognito Identity operation; should
        // one ever, it is the caller's input that was wrong.
        DomainError::NoSuchEntity(m) => ("ResourceNotFoundException", m),
        DomainError::EntityAlreadyExists(m) | DomainError::DeleteConflict(m) => {
            ("ResourceConflictException", m)
        }
        DomainError::MalformedPolicyDocument(m)
        | DomainError::PackedPolicyTooLarge(m)
        | DomainError::InvalidIdentityToken(m)
        | DomainError::ExpiredWebIdentityToken(m) => ("InvalidParameterException", m),
        DomainError::Internal(detail) => {
            tracing::error!(request_id, error = %detail, "internal error");
            return JsonError::internal();
        }
    };
    JsonError::client(code, message)
}

/// Parse and validate an operation's input. An empty body stands for `{}`. Parse errors say where
/// the body went wrong but never quote it (it may hold tokens).
fn input<T: DeserializeOwned + Validate>(body: &[u8]) -> Result<T, JsonError> {
    let body = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        body
    };
    let value: T = serde_json::from_slice(body).map_err(|e| {
        let what = match e.classify() {
            serde_json::error::Category::Data => "a member has the wrong type",
            _ => "the body is not a valid JSON object",
        };
        JsonError::client(
            "SerializationException",
            format!(
                "Could not read the request: {what} (line {}, column {}).",
                e.line(),
                e.column()
            ),
        )
    })?;
    match value.violations().message() {
        Some(message) => Err(JsonError::client("ValidationException", message)),
        None => Ok(value),
    }
}

async fn execute(
    state: &Arc<AppState>,
    op: Operation,
    raw: &RawRequest,
    request_id: &str,
) -> Result<Response, JsonError> {
    if !op.is_implemented() {
        return Err(JsonError {
            code: "NotImplemented",
            message: format!(
                "tegata does not implement AWSCognitoIdentityService.{} yet.",
                op.name()
            ),
            status: StatusCode::NOT_IMPLEMENTED,
        });
    }
    let now = state.clock.now();
    let caller = state
        .authenticator
        .authenticate(raw, SIGNING_NAME, now)
        .await
        .map_err(|e| auth_error(request_id, e))?;
    let Some(caller) = caller else {
        // Every implemented operation so far is signed-only.
        return Err(auth_error(request_id, AuthError::Missing));
    };
    // Sessions get no Cognito Identity administration: their roles' permission policies are
    // not evaluated yet, and IAM's implicit deny is the safe answer until they are.
    if caller.is_session() {
        return Err(JsonError::client(
            "AccessDeniedException",
            format!(
                "User: {} is not authorized to perform: cognito-identity:{}",
                caller.principal.arn,
                op.name()
            ),
        ));
    }
    let ctx = RequestContext {
        region: caller.region.clone(),
        caller: Some(caller.principal.clone()),
    };
    let now = now.unix_timestamp();
    let service = &state.cognito_identity;
    let rng = &*state.rng;
    let fail = |e| domain_error(request_id, e);

    let response = match op {
        Operation::CreateIdentityPool => {
            let input: shapes::CreateIdentityPoolInput = input(&raw.body)?;
            let pool = service
                .create_identity_pool(&ctx, input.config.into_spec(), now, rng)
                .await
                .map_err(fail)?;
            aws_json::ok(request_id, &shapes::IdentityPoolShape::from(&pool))
        }
        Operation::DescribeIdentityPool => {
            let input: shapes::IdentityPoolIdInput = input(&raw.body)?;
            let pool = service
                .describe_identity_pool(&ctx, &input.identity_pool_id.unwrap_or_default())
                .await
                .map_err(fail)?;
            aws_json::ok(request_id, &shapes::IdentityPoolShape::from(&pool))
        }
        Operation::UpdateIdentityPool => {
            let input: shapes::UpdateIdentityPoolInput = input(&raw.body)?;
            let pool_id = input.identity_pool_id.clone().unwrap_or_default();
            let pool = service
                .update_identity_pool(&ctx, &pool_id, input.config.into_spec(), now)
                .await
                .map_err(fail)?;
            aws_json::ok(request_id, &shapes::IdentityPoolShape::from(&pool))
        }
        Operation::DeleteIdentityPool => {
            let input: shapes::IdentityPoolIdInput = input(&raw.body)?;
            service
                .delete_identity_pool(&ctx, &input.identity_pool_id.unwrap_or_default())
                .await
                .map_err(fail)?;
            aws_json::ok(request_id, &shapes::Empty {})
        }
        Operation::ListIdentityPools => {
            let input: shapes::ListIdentityPoolsInput = input(&raw.body)?;
            let page = service
                .list_identity_pools(
                    &ctx,
                    input.max_results.unwrap_or(60) as u32,
                    input.next_token.as_deref(),
                )
                .await
                .map_err(fail)?;
            aws_json::ok(
                request_id,
                &shapes::ListIdentityPoolsOutput {
                    identity_pools: page.items.into_iter().map(Into::into).collect(),
                    next_token: page.next_token,
                },
            )
        }
        Operation::GetOpenIdTokenForDeveloperIdentity => {
            let input: shapes::GetOpenIdTokenForDeveloperIdentityInput = input(&raw.body)?;
            let result = service
                .get_open_id_token_for_developer_identity(
                    &ctx,
                    GetOpenIdTokenForDeveloperIdentityInput {
                        identity_pool_id: input.identity_pool_id.unwrap_or_default(),
                        identity_id: input.identity_id,
                        logins: input.logins.unwrap_or_default(),
                        principal_tags: input.principal_tags.unwrap_or_default(),
                        token_duration: input.token_duration,
                    },
                    now,
                    rng,
                )
                .await
                .map_err(fail)?;
            aws_json::ok(
                request_id,
                &shapes::GetOpenIdTokenForDeveloperIdentityOutput {
                    identity_id: result.identity_id,
                    token: result.token,
                },
            )
        }
        Operation::LookupDeveloperIdentity => {
            let input: shapes::LookupDeveloperIdentityInput = input(&raw.body)?;
            let result = service
                .lookup_developer_identity(
                    &ctx,
                    LookupDeveloperIdentityInput {
                        identity_pool_id: input.identity_pool_id.unwrap_or_default(),
                        identity_id: input.identity_id,
                        developer_user_identifier: input.developer_user_identifier,
                        max_results: input.max_results.map(|n| n as u32),
                        next_token: input.next_token,
                    },
                )
                .await
                .map_err(fail)?;
            aws_json::ok(
                request_id,
                &shapes::LookupDeveloperIdentityOutput {
                    identity_id: result.identity_id,
                    developer_user_identifier_list: result.developer_user_identifiers,
                    next_token: result.next_token,
                },
            )
        }
        Operation::DescribeIdentity => {
            let input: shapes::DescribeIdentityInput = input(&raw.body)?;
            let identity = service
                .describe_identity(&ctx, &input.identity_id.unwrap_or_default())
                .await
                .map_err(fail)?;
            aws_json::ok(request_id, &shapes::IdentityDescription::from(identity))
        }
        Operation::ListIdentities => {
            let input: shapes::ListIdentitiesInput = input(&raw.body)?;
            let pool_id = input.identity_pool_id.unwrap_or_default();
            let page = service
                .list_identities(
                    &ctx,
                    &pool_id,
                    input.max_results.unwrap_or(60) as u32,
                    input.next_token.as_deref(),
                    input.hide_disabled.unwrap_or(false),
                )
                .await
                .map_err(fail)?;
            aws_json::ok(
                request_id,
                &shapes::ListIdentitiesOutput {
                    identity_pool_id: pool_id,
                    identities: page.items.into_iter().map(Into::into).collect(),
                    next_token: page.next_token,
                },
            )
        }
        other => unreachable!("{} is marked implemented but has no handler", other.name()),
    };
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_target_forms_are_accepted() {
        assert_eq!(
            parse_target(Some("AWSCognitoIdentityService.GetId")),
            Ok(Operation::GetId)
        );
        assert_eq!(
            parse_target(Some(
                "com.amazonaws.cognito.identity.model.AWSCognitoIdentityService.ListIdentityPools"
            )),
            Ok(Operation::ListIdentityPools)
        );
        for bad in [
            None,
            Some("AWSCognitoIdentityService.Nope"),
            Some("DynamoDB_20120810.GetItem"),
            Some("GetId"),
        ] {
            assert_eq!(
                parse_target(bad).unwrap_err().code,
                "UnknownOperationException"
            );
        }
    }
}
