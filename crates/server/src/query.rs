//! awsQuery requests (`POST /` with a form body, or `GET /?Action=…`): which service, who is
//! asking, and the one mapping of domain and authentication errors onto query error codes.

use std::sync::Arc;
use std::time::Instant;

use axum::response::Response;
use http::StatusCode;
use tegata_core::DomainError;

use crate::auth::{AuthError, Caller};
use crate::aws_query::{self, QueryError, QueryParams};
use crate::validate::Violations;
use crate::{AppState, RawRequest, iam, sts};

/// The two services that speak awsQuery here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryService {
    Sts,
    Iam,
}

impl QueryService {
    pub fn signing_name(self) -> &'static str {
        match self {
            QueryService::Sts => "sts",
            QueryService::Iam => "iam",
        }
    }

    pub fn namespace(self) -> &'static str {
        match self {
            QueryService::Sts => "https://sts.amazonaws.com/doc/2011-06-15/",
            QueryService::Iam => "https://iam.amazonaws.com/doc/2010-05-08/",
        }
    }

    /// STS and IAM share this endpoint; their action names do not overlap.
    fn of_action(action: &str) -> Option<Self> {
        if sts::Operation::from_name(action).is_some() {
            Some(QueryService::Sts)
        } else if iam::Operation::from_name(action).is_some() {
            Some(QueryService::Iam)
        } else {
            None
        }
    }
}

/// Shape-constraint violations, as STS and IAM report them.
pub fn validation(v: Violations) -> Result<(), QueryError> {
    match v.message() {
        Some(message) => Err(QueryError::bad_request("ValidationError", message)),
        None => Ok(()),
    }
}

pub fn auth_error(request_id: &str, e: AuthError) -> QueryError {
    let forbidden = |code, message: &str| QueryError::new(code, StatusCode::FORBIDDEN, message);
    match e {
        AuthError::Missing => forbidden(
            "MissingAuthenticationToken",
            "Request is missing Authentication Token",
        ),
        AuthError::Incomplete(message) => QueryError::bad_request("IncompleteSignature", message),
        AuthError::UnknownAccessKey => forbidden(
            "InvalidClientTokenId",
            "The security token included in the request is invalid.",
        ),
        AuthError::ExpiredToken => forbidden(
            "ExpiredToken",
            "The security token included in the request is expired",
        ),
        AuthError::Signature(e) => forbidden("SignatureDoesNotMatch", &e.to_string()),
        AuthError::Internal(detail) => {
            tracing::error!(request_id, error = %detail, "authentication failed internally");
            QueryError::internal()
        }
    }
}

/// The one mapping of domain errors onto STS and IAM error codes.
pub fn domain_error(request_id: &str, e: DomainError) -> QueryError {
    use DomainError::*;
    let (code, status, message) = match e {
        InvalidIdentityToken(m) => ("InvalidIdentityToken", StatusCode::BAD_REQUEST, m),
        ExpiredWebIdentityToken(m) => ("ExpiredTokenException", StatusCode::BAD_REQUEST, m),
        AccessDenied(m) => ("AccessDenied", StatusCode::FORBIDDEN, m),
        Validation(m) => ("ValidationError", StatusCode::BAD_REQUEST, m),
        MalformedPolicyDocument(m) => ("MalformedPolicyDocument", StatusCode::BAD_REQUEST, m),
        PackedPolicyTooLarge(m) => ("PackedPolicyTooLarge", StatusCode::BAD_REQUEST, m),
        NoSuchEntity(m) => ("NoSuchEntity", StatusCode::NOT_FOUND, m),
        EntityAlreadyExists(m) => ("EntityAlreadyExists", StatusCode::CONFLICT, m),
        DeleteConflict(m) => ("DeleteConflict", StatusCode::CONFLICT, m),
        LimitExceeded(m) => ("LimitExceeded", StatusCode::CONFLICT, m),
        ConcurrentModification(m) => ("ConcurrentModification", StatusCode::CONFLICT, m),
        InvalidParameter(m) => ("InvalidInput", StatusCode::BAD_REQUEST, m),
        NotAuthorized(m) | DeveloperUserAlreadyRegistered(m) => {
            ("AccessDenied", StatusCode::FORBIDDEN, m)
        }
        ResourceNotFound(m) => ("NoSuchEntity", StatusCode::NOT_FOUND, m),
        ResourceConflict(m) => ("EntityAlreadyExists", StatusCode::CONFLICT, m),
        Internal(detail) => {
            tracing::error!(request_id, error = %detail, "internal error");
            return QueryError::internal();
        }
    };
    QueryError::new(code, status, message)
}

/// Authenticate a request that must be signed.
pub async fn require_caller(
    state: &AppState,
    raw: &RawRequest,
    service: QueryService,
    request_id: &str,
) -> Result<Caller, QueryError> {
    let now = state.clock.now();
    match state
        .authenticator
        .authenticate(raw, service.signing_name(), now)
        .await
    {
        Ok(Some(caller)) => Ok(caller),
        Ok(None) => Err(auth_error(request_id, AuthError::Missing)),
        Err(e) => Err(auth_error(request_id, e)),
    }
}

pub fn not_implemented(service: QueryService, action: &str) -> QueryError {
    QueryError::new(
        "NotImplemented",
        StatusCode::NOT_IMPLEMENTED,
        format!(
            "tegata does not implement {}:{action} yet.",
            service.signing_name()
        ),
    )
}

pub async fn handle(state: &Arc<AppState>, raw: RawRequest) -> Response {
    let started = Instant::now();
    let request_id = state.request_ids.next();
    let params = QueryParams::from_request(&raw);
    let action = params.owned("Action");
    let service = action
        .as_deref()
        .and_then(QueryService::of_action)
        .unwrap_or(QueryService::Sts);
    let result = match action.as_deref() {
        None => Err(QueryError::bad_request("MissingAction", "Missing Action")),
        Some(action) => match QueryService::of_action(action) {
            Some(QueryService::Sts) => {
                sts::execute(state, action, &params, &raw, &request_id).await
            }
            Some(QueryService::Iam) => {
                iam::execute(state, action, &params, &raw, &request_id).await
            }
            None => Err(QueryError::bad_request(
                "InvalidAction",
                format!("Could not find operation {action} for version 2011-06-15"),
            )),
        },
    };
    let outcome = crate::Outcome {
        request_id: &request_id,
        service: service.signing_name(),
        operation: action.as_deref().unwrap_or("(none)"),
        started,
    };
    match result {
        Ok(response) => {
            outcome.log(None);
            response
        }
        Err(e) => {
            outcome.log(Some((e.status, e.code, &e.message)));
            aws_query::error(service.namespace(), &request_id, &e)
        }
    }
}
