//! Cognito Identity's modelled exceptions (service model 2014-06-30). Every client error is
//! answered with HTTP 400, as the real service does (aws-api.md §1.1), whatever the model's
//! `httpError` traits say.

use crate::error::{AwsError, Internal, InvalidPageToken};
use crate::store::StoreError;
use crate::tokens::issuer::SignError;

#[derive(Debug, thiserror::Error)]
pub enum CognitoIdentityError {
    #[error("{0}")]
    InvalidParameter(String),
    #[error("{0}")]
    NotAuthorized(String),
    #[error("{0}")]
    ResourceNotFound(String),
    #[error("{0}")]
    ResourceConflict(String),
    #[error("{0}")]
    LimitExceeded(String),
    #[error("{0}")]
    DeveloperUserAlreadyRegistered(String),
    #[error("{0}")]
    ConcurrentModification(String),
    #[error("{0}")]
    InvalidIdentityPoolConfiguration(String),
    /// An identity provider tegata depends on did not answer.
    #[error("{0}")]
    ExternalService(String),
    /// A constraint only the domain can check, worded like the model's (`ValidationException`).
    #[error("{0}")]
    Validation(String),
    /// Throttled: more work queued than the server takes on.
    #[error("Rate exceeded")]
    TooManyRequests,
    #[error("An internal error occurred.")]
    Internal(#[source] Internal),
}

impl AwsError for CognitoIdentityError {
    fn code(&self) -> &'static str {
        match self {
            Self::InvalidParameter(_) => "InvalidParameterException",
            Self::NotAuthorized(_) => "NotAuthorizedException",
            Self::ResourceNotFound(_) => "ResourceNotFoundException",
            Self::ResourceConflict(_) => "ResourceConflictException",
            Self::LimitExceeded(_) => "LimitExceededException",
            Self::DeveloperUserAlreadyRegistered(_) => "DeveloperUserAlreadyRegisteredException",
            Self::ConcurrentModification(_) => "ConcurrentModificationException",
            Self::InvalidIdentityPoolConfiguration(_) => {
                "InvalidIdentityPoolConfigurationException"
            }
            Self::Validation(_) => "ValidationException",
            Self::ExternalService(_) => "ExternalServiceException",
            Self::TooManyRequests => "TooManyRequestsException",
            Self::Internal(_) => "InternalErrorException",
        }
    }

    fn status(&self) -> u16 {
        match self {
            Self::Internal(_) => 500,
            _ => 400,
        }
    }

    fn internal(&self) -> Option<&Internal> {
        match self {
            Self::Internal(e) => Some(e),
            _ => None,
        }
    }
}

impl From<Internal> for CognitoIdentityError {
    fn from(e: Internal) -> Self {
        Self::Internal(e)
    }
}

impl From<StoreError> for CognitoIdentityError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::ConcurrentModification => Self::ConcurrentModification(
                "The resource was changed by another request; retry.".to_owned(),
            ),
            StoreError::Busy => Self::TooManyRequests,
            other => Self::Internal(other.into()),
        }
    }
}

impl From<InvalidPageToken> for CognitoIdentityError {
    fn from(e: InvalidPageToken) -> Self {
        Self::InvalidParameter(e.to_string())
    }
}

impl From<SignError> for CognitoIdentityError {
    fn from(e: SignError) -> Self {
        match e {
            SignError::Busy => Self::TooManyRequests,
            SignError::Internal(e) => Self::Internal(e),
        }
    }
}
