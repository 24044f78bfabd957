//! The broker's audit trail: one JSON line per sign-in attempt and per credential issued.
//!
//! A line names who (profile, user, identity), what (the event, the role), the outcome with a
//! reason code, when and from where. It never holds a password, token or secret key: the types
//! written here have no field for one.

use std::net::IpAddr;

use serde::Serialize;
use tegata_core::audit::rfc3339;
pub use tegata_core::audit::{AuditLog, AuditTarget};
use time::OffsetDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditEventKind {
    SignIn,
    CredentialsIssued,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    Refused,
    Throttled,
    Failed,
}

/// One audit line.
#[derive(Debug, Clone, Serialize)]
pub struct AuditEvent<'a> {
    #[serde(serialize_with = "rfc3339")]
    pub time: OffsetDateTime,
    pub event: AuditEventKind,
    pub profile: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<&'a str>,
    pub outcome: Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_address: Option<IpAddr>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_one_json_object_without_absent_fields() {
        let dir = std::env::temp_dir().join(format!("tegata-audit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("audit.log");
        let log = AuditLog::open(&AuditTarget::File(path.clone())).unwrap();
        log.write(&AuditEvent {
            time: OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap(),
            event: AuditEventKind::SignIn,
            profile: "app",
            user: Some("alice"),
            identity_id: None,
            role: None,
            access_key_id: None,
            outcome: Outcome::Refused,
            reason: Some("wrong_password"),
            source_address: Some(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)),
        });
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            text,
            "{\"time\":\"2023-11-14T22:13:20Z\",\"event\":\"sign_in\",\"profile\":\"app\",\
             \"user\":\"alice\",\"outcome\":\"refused\",\"reason\":\"wrong_password\",\
             \"source_address\":\"127.0.0.1\"}\n"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
