//! The broker's audit trail: one JSON line per sign-in attempt and per credential issued.
//!
//! A line names who (profile, user, identity), what (the event, the role), the outcome with a
//! reason code, when and from where. It never holds a password, token or secret key: the types
//! written here have no field for one.

use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Where audit lines go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditTarget {
    /// Nowhere.
    Off,
    Stdout,
    /// Appended to a file (created with mode 0600 if missing).
    File(PathBuf),
}

impl AuditTarget {
    /// `off`, `stdout`, or a file path.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.trim() {
            "" => Err("the audit log is empty: give a file, stdout, or off".to_owned()),
            "off" => Ok(Self::Off),
            "stdout" | "-" => Ok(Self::Stdout),
            path => Ok(Self::File(PathBuf::from(path))),
        }
    }
}

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

fn rfc3339<S: serde::Serializer>(time: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
    let text = time.format(&Rfc3339).map_err(serde::ser::Error::custom)?;
    s.serialize_str(&text)
}

enum Sink {
    Off,
    Stdout,
    File(Mutex<std::fs::File>),
}

/// Writes audit lines. A line that cannot be written is reported in the application log; the
/// request it describes is not failed for it.
pub struct AuditLog {
    sink: Sink,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog").finish_non_exhaustive()
    }
}

impl AuditLog {
    pub fn open(target: &AuditTarget) -> std::io::Result<Self> {
        let sink = match target {
            AuditTarget::Off => Sink::Off,
            AuditTarget::Stdout => Sink::Stdout,
            AuditTarget::File(path) => Sink::File(Mutex::new(open_append(path)?)),
        };
        Ok(Self { sink })
    }

    pub fn off() -> Self {
        Self { sink: Sink::Off }
    }

    pub fn write(&self, event: &AuditEvent<'_>) {
        if matches!(self.sink, Sink::Off) {
            return;
        }
        let mut line = match serde_json::to_vec(event) {
            Ok(line) => line,
            Err(e) => {
                tracing::error!(error = %e, "could not encode an audit line");
                return;
            }
        };
        line.push(b'\n');
        // One write of the whole line, so lines of concurrent requests never interleave.
        let written = match &self.sink {
            Sink::Off => Ok(()),
            Sink::Stdout => std::io::stdout().lock().write_all(&line),
            Sink::File(file) => file
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .write_all(&line),
        };
        if let Err(e) = written {
            tracing::error!(error = %e, "could not write an audit line");
        }
    }
}

fn open_append(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
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
