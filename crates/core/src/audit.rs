//! Audit lines: one JSON object per line, to a file, standard output or nowhere. The server's
//! security events and the broker's sign-ins each have their own line type; both are written
//! through [`AuditLog`].

use std::io::Write;
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

/// Serialize a time as RFC 3339 (`2026-12-02T08:00:00Z`), for the lines' `time` fields.
pub fn rfc3339<S: serde::Serializer>(time: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
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

    /// Whether lines go anywhere (callers skip gathering what a line would hold otherwise).
    pub fn is_on(&self) -> bool {
        !matches!(self.sink, Sink::Off)
    }

    /// Write `event` as one line.
    pub fn write<E: Serialize>(&self, event: &E) {
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
