//! SQLite reads of the hot paths, run on the caller's thread.
//!
//! sqlx runs each SQLite connection on a thread of its own and talks to it over channels: a
//! query is a message to that thread and its rows are messages back, each a wake-up through the
//! kernel. For a point read by primary key that takes 10-15 µs in SQLite, the hand-offs cost
//! several times the read (issue 17: about 5 context switches per query, measured). So the reads
//! of the token and credential requests run here instead, on read-only connections of their own,
//! synchronously on the async worker that asks: each about as long as the P-256 verification the
//! exchange already runs there.
//!
//! - GetOpenIdTokenForDeveloperIdentity: the pool and the login's identity, in one query;
//! - GetCredentialsForIdentity (and the other calls that name an identity): the identity with
//!   its logins, its pool, and whose a presented login is.
//!
//! What this costs: the worker is held for the read, and for a disk read if the pages are not
//! in the operating system's cache (a cold start on a large database). What keeps it safe: in
//! WAL mode readers never wait for the writer, and the connection's busy timeout is short; if the
//! read fails for any reason the caller goes the sqlx way, whose connections wait properly.
//!
//! The SQL texts are the ones the sqlx path runs, kept beside it in each aggregate's module. To
//! SQLite, `$1` is a parameter *named* "$1", and named parameters are numbered in order of first
//! appearance (`$2` may come first), so they are bound by name, as sqlx-sqlite does.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, named_params};
use tegata_core::store::Login;

use crate::identities::{IDENTITY_OF_LOGIN, IDENTITY_WITH_LOGINS};
use crate::pools::{POOL, POOL_WITH_LOGIN};
use crate::rows::{IdentityLoginRow, PoolRow, PoolWithLoginRow};

/// Idle connections kept; more are opened when more workers read at once, and closed after.
/// The async runtime has one worker per core, so a few suffice.
const IDLE_CONNECTIONS: usize = 8;

/// How long a read waits for a lock before giving up and going the sqlx way. In WAL mode a
/// reader waits only while a connection recovers the log after a crash.
const BUSY_TIMEOUT: Duration = Duration::from_millis(20);

/// Read-only connections to the database, taken by one read at a time.
pub(crate) struct SyncReads {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl SyncReads {
    pub(crate) fn new(path: &Path) -> Self {
        Self {
            path: path.to_owned(),
            idle: Mutex::new(Vec::new()),
        }
    }

    /// The pool `pool_id` and the identity `login` is linked to in it. Each read answers
    /// `None` when it failed, and the caller should read through sqlx (which reports the error).
    pub(crate) fn pool_with_login(
        &self,
        pool_id: &str,
        login: &Login<'_>,
    ) -> Option<Option<PoolWithLoginRow>> {
        self.with_connection(|connection| {
            connection
                .prepare_cached(POOL_WITH_LOGIN)?
                .query_row(
                    named_params! {"$1": pool_id, "$2": login.provider, "$3": login.user_key},
                    |row| {
                        Ok(PoolWithLoginRow {
                            pool: pool_row(row)?,
                            identity_id: row.get(6)?,
                        })
                    },
                )
                .optional()
        })
    }

    /// The pool `pool_id`.
    pub(crate) fn pool(&self, pool_id: &str) -> Option<Option<PoolRow>> {
        self.with_connection(|connection| {
            connection
                .prepare_cached(POOL)?
                .query_row(named_params! {"$1": pool_id}, pool_row)
                .optional()
        })
    }

    /// The identity `identity_id` joined with its logins, a row per login (one with no provider
    /// when it has none), as `group_identities` takes them.
    pub(crate) fn identity_with_logins(&self, identity_id: &str) -> Option<Vec<IdentityLoginRow>> {
        self.with_connection(|connection| {
            connection
                .prepare_cached(IDENTITY_WITH_LOGINS)?
                .query_map(named_params! {"$1": identity_id}, |row| {
                    Ok(IdentityLoginRow {
                        identity_id: row.get(0)?,
                        pool_id: row.get(1)?,
                        disabled: row.get(2)?,
                        created_at: row.get(3)?,
                        updated_at: row.get(4)?,
                        provider: row.get(5)?,
                    })
                })?
                .collect()
        })
    }

    /// The identity `login` is linked to in the pool `pool_id`.
    pub(crate) fn identity_of_login(
        &self,
        pool_id: &str,
        login: &Login<'_>,
    ) -> Option<Option<String>> {
        self.with_connection(|connection| {
            connection
                .prepare_cached(IDENTITY_OF_LOGIN)?
                .query_row(
                    named_params! {"$1": pool_id, "$2": login.provider, "$3": login.user_key},
                    |row| row.get(0),
                )
                .optional()
        })
    }

    fn with_connection<T>(
        &self,
        read: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Option<T> {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let connection = match idle {
            Some(connection) => connection,
            None => self.open().ok()?,
        };
        let result = read(&connection);
        match result {
            Ok(value) => {
                let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
                if idle.len() < IDLE_CONNECTIONS {
                    idle.push(connection);
                }
                Some(value)
            }
            // A connection that failed is dropped: the next read opens a fresh one.
            Err(e) => {
                tracing::debug!(error = %e, "synchronous SQLite read failed; reading through sqlx");
                None
            }
        }
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let connection = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        connection.busy_timeout(BUSY_TIMEOUT)?;
        Ok(connection)
    }
}

/// A pool's columns, first in every pool query's select list.
fn pool_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<PoolRow> {
    Ok(PoolRow {
        pool_id: row.get(0)?,
        config: row.get(1)?,
        roles: row.get(2)?,
        principal_tag_maps: row.get(3)?,
        created_at: row.get(4)?,
        updated_at: row.get(5)?,
    })
}
