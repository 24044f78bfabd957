//! IAM's errors as the real service answers them (iam-facts.md §4: 404 for NoSuchEntity, 409 for
//! conflicts and limits, 400 otherwise).

use crate::error::{AwsError, Internal, InvalidPageToken};
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum IamError {
    #[error("{0}")]
    NoSuchEntity(String),
    #[error("{0}")]
    EntityAlreadyExists(String),
    #[error("{0}")]
    DeleteConflict(String),
    #[error("{0}")]
    LimitExceeded(String),
    #[error("{0}")]
    MalformedPolicyDocument(String),
    #[error("{0}")]
    InvalidInput(String),
    /// A value the model allows that IAM still refuses (`ValidationError`).
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    ConcurrentModification(String),
    /// IAM's own refusals that are not policy decisions (a key the caller may not learn of,
    /// changing an AWS managed policy).
    #[error("{0}")]
    AccessDenied(String),
    #[error("Rate exceeded")]
    Throttling,
    /// IAM's modelled server fault (`ServiceFailure`, HTTP 500).
    #[error("The request processing has failed because of an unknown error, exception or failure.")]
    ServiceFailure(#[source] Internal),
}

impl AwsError for IamError {
    fn code(&self) -> &'static str {
        match self {
            Self::NoSuchEntity(_) => "NoSuchEntity",
            Self::EntityAlreadyExists(_) => "EntityAlreadyExists",
            Self::DeleteConflict(_) => "DeleteConflict",
            Self::LimitExceeded(_) => "LimitExceeded",
            Self::MalformedPolicyDocument(_) => "MalformedPolicyDocument",
            Self::InvalidInput(_) => "InvalidInput",
            Self::Validation(_) => "ValidationError",
            Self::ConcurrentModification(_) => "ConcurrentModification",
            Self::AccessDenied(_) => "AccessDenied",
            Self::Throttling => "Throttling",
            Self::ServiceFailure(_) => "ServiceFailure",
        }
    }

    fn status(&self) -> u16 {
        match self {
            Self::NoSuchEntity(_) => 404,
            Self::EntityAlreadyExists(_)
            | Self::DeleteConflict(_)
            | Self::LimitExceeded(_)
            | Self::ConcurrentModification(_) => 409,
            Self::AccessDenied(_) => 403,
            Self::ServiceFailure(_) => 500,
            _ => 400,
        }
    }

    fn internal(&self) -> Option<&Internal> {
        match self {
            Self::ServiceFailure(e) => Some(e),
            _ => None,
        }
    }
}

impl From<Internal> for IamError {
    fn from(e: Internal) -> Self {
        Self::ServiceFailure(e)
    }
}

impl From<StoreError> for IamError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::ConcurrentModification => Self::ConcurrentModification(
                "The resource was changed by another request; retry.".to_owned(),
            ),
            StoreError::Busy => Self::Throttling,
            other => Self::ServiceFailure(other.into()),
        }
    }
}

impl From<InvalidPageToken> for IamError {
    fn from(e: InvalidPageToken) -> Self {
        Self::InvalidInput(e.to_string())
    }
}
