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
    // --- IAM ---
    #[error("{0}")]
    NoSuchEntity(String),
    #[error("{0}")]
    EntityAlreadyExists(String),
    #[error("{0}")]
    DeleteConflict(String),
    #[error("{0}")]
    MalformedPolicyDocument(String),
    // --- STS ---
    /// The web identity token is malformed, unsigned by us, or from an unknown issuer.
    #[error("{0}")]
    InvalidIdentityToken(String),
    /// The web identity token's `exp` has passed (STS's `ExpiredTokenException`).
    #[error("{0}")]
    ExpiredWebIdentityToken(String),
    #[error("{0}")]
    AccessDenied(String),
    /// A parameter is out of range in a way only the stored state reveals (STS/IAM
    /// `ValidationError`).
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    PackedPolicyTooLarge(String),
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
