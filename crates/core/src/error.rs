//! What every service's error knows about itself: the AWS code, the HTTP status, who is at fault,
//! and, for internal failures, what went wrong (for the log, never for the client).
//!
//! Each service has one error enum (`CognitoIdentityError`, `IamError`, `StsError`) whose
//! variants are the service's modelled exceptions; the wire layer renders any of them through
//! [`AwsError`], once per protocol, with no table of its own.

use std::fmt;

use crate::store::StoreError;

/// Who caused a failure, as awsQuery's `<Type>` says it: the client or the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Sender,
    Receiver,
}

/// An error as AWS reports it.
pub trait AwsError: std::error::Error + Send + Sync + 'static {
    /// The code (`__type` of awsJson, `<Code>` of awsQuery).
    fn code(&self) -> &'static str;

    /// The HTTP status it is answered with.
    fn status(&self) -> u16;

    fn fault(&self) -> Fault {
        if self.status() >= 500 {
            Fault::Receiver
        } else {
            Fault::Sender
        }
    }

    /// The failure behind an internal error: logged, never sent.
    fn internal(&self) -> Option<&Internal> {
        None
    }
}

/// A failure the caller cannot fix: what was being done, and the error chain that stopped it.
/// Its `Display` is for the log; clients see only their service's generic message.
#[derive(Debug)]
pub struct Internal {
    context: String,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl Internal {
    /// A failure described by `context` alone.
    pub fn new(context: impl Into<String>) -> Self {
        Self {
            context: context.into(),
            source: None,
        }
    }

    /// A failure while doing `context`, caused by `source`.
    pub fn caused_by(
        context: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self {
            context: context.into(),
            source: Some(Box::new(source)),
        }
    }
}

impl fmt::Display for Internal {
    /// The context and every cause after it, `context: cause: cause…`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.context)?;
        let mut next: Option<&(dyn std::error::Error + 'static)> = match &self.source {
            Some(source) => Some(source.as_ref()),
            None => None,
        };
        while let Some(cause) = next {
            write!(f, ": {cause}")?;
            next = cause.source();
        }
        Ok(())
    }
}

impl std::error::Error for Internal {}

impl From<StoreError> for Internal {
    fn from(e: StoreError) -> Self {
        Internal::caused_by("the store failed", e)
    }
}

/// A pagination token that this deployment did not issue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("The pagination token is not valid.")]
pub struct InvalidPageToken;

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn internal_errors_show_their_whole_chain() {
        let e = Internal::caused_by(
            "reading a pool",
            Outer(std::io::Error::other("disk on fire")),
        );
        assert_eq!(e.to_string(), "reading a pool: outer: disk on fire");
        assert_eq!(Internal::new("no key").to_string(), "no key");
    }
}
