//! STS's errors (aws-api.md §4.6). Web identity tokens that are refused keep AWS's odd code
//! `ExpiredTokenException` (with the suffix), unlike expired *credentials* (`ExpiredToken`).

use crate::error::{AwsError, Internal};
use crate::store::StoreError;
use crate::tokens::verify::TokenError;

#[derive(Debug, thiserror::Error)]
pub enum StsError {
    #[error("{0}")]
    InvalidIdentityToken(String),
    #[error("{0}")]
    ExpiredToken(String),
    /// The identity provider's keys could not be fetched.
    #[error("{0}")]
    IdpCommunication(String),
    #[error("{0}")]
    AccessDenied(String),
    /// A parameter out of range in a way only the stored state reveals.
    #[error("{0}")]
    Validation(String),
    /// Session tags that break STS's rules (duplicates, transitive keys).
    #[error("{0}")]
    InvalidParameterValue(String),
    #[error("{0}")]
    MalformedPolicyDocument(String),
    /// DecodeAuthorizationMessage was given something it cannot open.
    #[error("{0}")]
    InvalidAuthorizationMessage(String),
    #[error("{0}")]
    PackedPolicyTooLarge(String),
    #[error("Rate exceeded")]
    Throttling,
    #[error("The request processing has failed because of an unknown error, exception or failure.")]
    InternalFailure(#[source] Internal),
}

impl AwsError for StsError {
    fn code(&self) -> &'static str {
        match self {
            Self::InvalidIdentityToken(_) => "InvalidIdentityToken",
            Self::ExpiredToken(_) => "ExpiredTokenException",
            Self::IdpCommunication(_) => "IDPCommunicationError",
            Self::AccessDenied(_) => "AccessDenied",
            Self::Validation(_) => "ValidationError",
            Self::InvalidParameterValue(_) => "InvalidParameterValue",
            Self::MalformedPolicyDocument(_) => "MalformedPolicyDocument",
            Self::InvalidAuthorizationMessage(_) => "InvalidAuthorizationMessageException",
            Self::PackedPolicyTooLarge(_) => "PackedPolicyTooLarge",
            Self::Throttling => "Throttling",
            Self::InternalFailure(_) => "InternalFailure",
        }
    }

    fn status(&self) -> u16 {
        match self {
            Self::AccessDenied(_) => 403,
            Self::InternalFailure(_) => 500,
            _ => 400,
        }
    }

    fn internal(&self) -> Option<&Internal> {
        match self {
            Self::InternalFailure(e) => Some(e),
            _ => None,
        }
    }
}

impl From<Internal> for StsError {
    fn from(e: Internal) -> Self {
        Self::InternalFailure(e)
    }
}

impl From<StoreError> for StsError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Busy => Self::Throttling,
            other => Self::InternalFailure(other.into()),
        }
    }
}

impl From<TokenError> for StsError {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::Invalid(m) => Self::InvalidIdentityToken(m),
            TokenError::Expired(m) => Self::ExpiredToken(m),
        }
    }
}
