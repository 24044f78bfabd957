//! The domain's one error type. Each wire protocol maps it once to its own envelope; the names
//! follow Cognito Identity's exception names so the mapping reads straight across.

use crate::store::StoreError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
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
    /// Something failed that the caller cannot fix. The text is for the log, not the client.
    #[error("internal error: {0}")]
    Internal(String),
}

impl From<StoreError> for DomainError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::ConcurrentModification => DomainError::ConcurrentModification(
                "The resource was changed by another request; retry.".to_owned(),
            ),
            other => DomainError::Internal(other.to_string()),
        }
    }
}
