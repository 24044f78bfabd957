//! The audit line of a command that changes the deployment from outside the servers (`tegata
//! keys`, `identities`, `roles`, `master-key`): the servers cannot see who ran it, so the
//! command writes its own line, to the same trail as `tegata serve --audit-log`.

use std::collections::BTreeMap;

use serde::Serialize;
use tegata_core::audit::AuditLog;
use time::OffsetDateTime;

use crate::config::StoreLocation;

#[derive(Serialize)]
struct CommandLine<'a> {
    #[serde(serialize_with = "tegata_core::audit::rfc3339")]
    time: OffsetDateTime,
    event: &'static str,
    command: &'a str,
    target: &'a str,
    /// `ok`, or `failed` with the error (tegata's own words: names and ids, never a secret).
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// The operating-system user who ran the command, as the environment says.
    #[serde(skip_serializing_if = "Option::is_none")]
    os_user: Option<String>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    details: BTreeMap<&'static str, String>,
}

/// What a command reports of what it did, for its line.
pub(crate) type Details = BTreeMap<&'static str, String>;

/// Write the line of `command` on `target`: its outcome, and on success what it reports. A
/// trail that cannot be opened fails a command that succeeded, saying so: the change is made,
/// its record is not.
pub(crate) fn record(
    location: &StoreLocation,
    command: &str,
    target: &str,
    result: anyhow::Result<Details>,
) -> anyhow::Result<()> {
    let log = match AuditLog::open(&location.audit) {
        Ok(log) => log,
        Err(e) => {
            return result.and_then(|_| {
                Err(anyhow::anyhow!(
                    "{command} {target} was done, but its audit line could not be written to \
                     {:?}: {e}",
                    location.audit
                ))
            });
        }
    };
    log.write(&CommandLine {
        time: OffsetDateTime::now_utc(),
        event: "operator_command",
        command,
        target,
        outcome: if result.is_ok() { "ok" } else { "failed" },
        error: result.as_ref().err().map(|e| format!("{e:#}")),
        os_user: std::env::var("SUDO_USER")
            .or_else(|_| std::env::var("USER"))
            .ok(),
        details: result.as_ref().map(Clone::clone).unwrap_or_default(),
    });
    result.map(|_| ())
}
