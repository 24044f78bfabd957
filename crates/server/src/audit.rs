//! The server's audit trail (`--audit-log`): one JSON line per security event of the AWS
//! services: a token or credentials issued, a change to pools, identities, roles, users,
//! policies, providers or keys, and every refusal of a caller (`AccessDenied`, a bad signature,
//! an invalid token), each with its outcome code, request id, principal and source address.
//!
//! A line is built from names, ids and ARNs only: the request's input is never copied into it,
//! and what a handler adds ([`AuditNotes`]) is chosen field by field (an issued access key id,
//! never its secret or session token).

use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};

use http::StatusCode;
use serde::Serialize;
use time::OffsetDateTime;

/// What a handler adds to its request's line, such as the access key id of the credentials it
/// issued or the identity a token was issued for.
#[derive(Debug, Default)]
pub struct AuditNotes {
    notes: Mutex<Vec<(&'static str, String)>>,
}

impl AuditNotes {
    pub fn note(&self, name: &'static str, value: impl Into<String>) {
        self.notes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((name, value.into()));
    }

    fn take(&self) -> Vec<(&'static str, String)> {
        std::mem::take(&mut *self.notes.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// Who made a request, gathered as it is driven, for its audit line.
#[derive(Debug, Default)]
pub struct AuditFacts {
    pub principal: Option<String>,
    pub access_key_id: Option<String>,
    pub source_address: Option<IpAddr>,
    pub notes: std::sync::Arc<AuditNotes>,
}

/// Why a request is audited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    TokenIssued,
    CredentialsIssued,
    Change,
    Refusal,
}

/// Operations that issue a token (Cognito Identity).
const TOKEN_OPERATIONS: &[&str] = &["GetOpenIdToken", "GetOpenIdTokenForDeveloperIdentity"];

/// Operations that issue temporary credentials.
const CREDENTIAL_OPERATIONS: &[&str] = &[
    "GetCredentialsForIdentity",
    "AssumeRole",
    "AssumeRoleWithWebIdentity",
    "AssumeRoleWithSAML",
    "GetSessionToken",
    "GetFederationToken",
];

/// The verbs of the operations that change something (every service's model names its
/// operations this way).
const CHANGING_VERBS: &[&str] = &[
    "Create",
    "Update",
    "Delete",
    "Put",
    "Attach",
    "Detach",
    "Add",
    "Remove",
    "Tag",
    "Untag",
    "Set",
    "Merge",
    "Unlink",
    "Upload",
    "Change",
    "Enable",
    "Disable",
    "Deactivate",
    "Reset",
    "Resync",
    "Generate",
];

/// Whether (and why) a request is audited: issuing and changing operations whatever their
/// outcome, any other one when its caller was refused (HTTP 401 or 403). `GetId` creates
/// identities, so it counts as a change.
pub fn category(operation: &str, status: Option<StatusCode>) -> Option<Category> {
    let refused =
        status.is_some_and(|s| s == StatusCode::FORBIDDEN || s == StatusCode::UNAUTHORIZED);
    if TOKEN_OPERATIONS.contains(&operation) {
        Some(Category::TokenIssued)
    } else if CREDENTIAL_OPERATIONS.contains(&operation) {
        Some(Category::CredentialsIssued)
    } else if operation == "GetId"
        || CHANGING_VERBS.iter().any(|verb| {
            operation
                .strip_prefix(verb)
                .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase()))
        })
    {
        Some(Category::Change)
    } else if refused {
        Some(Category::Refusal)
    } else {
        None
    }
}

/// One audit line of an AWS request.
#[derive(Debug, Serialize)]
pub struct RequestLine<'a> {
    #[serde(serialize_with = "tegata_core::audit::rfc3339")]
    pub time: OffsetDateTime,
    pub event: Category,
    pub request_id: &'a str,
    pub service: &'a str,
    pub operation: &'a str,
    /// `ok`, or the error code the caller was answered.
    pub outcome: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_address: Option<IpAddr>,
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    pub details: serde_json::Map<String, serde_json::Value>,
}

impl<'a> RequestLine<'a> {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        time: OffsetDateTime,
        event: Category,
        request_id: &'a str,
        service: &'a str,
        operation: &'a str,
        outcome: &'a str,
        facts: Option<&'a AuditFacts>,
    ) -> Self {
        let details = facts
            .map(|f| {
                f.notes
                    .take()
                    .into_iter()
                    .map(|(name, value)| (name.to_owned(), serde_json::Value::String(value)))
                    .collect()
            })
            .unwrap_or_default();
        Self {
            time,
            event,
            request_id,
            service,
            operation,
            outcome,
            principal: facts.and_then(|f| f.principal.as_deref()),
            access_key_id: facts.and_then(|f| f.access_key_id.as_deref()),
            source_address: facts.and_then(|f| f.source_address),
            details,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuing_and_changing_operations_are_audited_and_reads_only_when_refused() {
        assert_eq!(
            category("GetOpenIdTokenForDeveloperIdentity", None),
            Some(Category::TokenIssued)
        );
        assert_eq!(
            category("AssumeRoleWithWebIdentity", Some(StatusCode::BAD_REQUEST)),
            Some(Category::CredentialsIssued)
        );
        for changing in [
            "CreateRole",
            "PutRolePolicy",
            "DeleteIdentities",
            "TagResource",
            "GetId",
        ] {
            assert_eq!(
                category(changing, None),
                Some(Category::Change),
                "{changing}"
            );
        }
        assert_eq!(category("GetRole", None), None);
        assert_eq!(category("ListRoles", Some(StatusCode::BAD_REQUEST)), None);
        assert_eq!(
            category("GetRole", Some(StatusCode::FORBIDDEN)),
            Some(Category::Refusal)
        );
        // A verb must be a whole word: "Settings" is not "Set".
        assert_eq!(category("Settings", None), None);
        assert_eq!(category("Updated", None), None);
    }
}
