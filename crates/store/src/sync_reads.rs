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
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags, OptionalExtension, named_params};
use tegata_core::store::{Login, SQLITE_SYNC_READ_FALLBACKS};

use crate::identities::{IDENTITY_OF_LOGIN, IDENTITY_WITH_LOGINS};
use crate::pools::{POOL, POOL_WITH_LOGIN};
use crate::rows::{IdentityLoginRow, PoolRow, PoolWithLoginRow};

/// How long a read waits for a lock before giving up and going the sqlx way, whose wait does
/// not hold a worker. In WAL mode a reader waits only while a connection recovers the log after
/// a crash.
const BUSY_TIMEOUT: Duration = Duration::from_millis(1);

/// Each connection's page cache, in KiB (SQLite's `cache_size`, negative for KiB). SQLite's
/// default, 2 000 KiB per connection, made the server's memory climb by ~25 MiB over the first
/// few hundred thousand basic flows before it levelled off (peak RSS 40.6 MiB after 100 000
/// flows, 54.7 after 1 000 000), against a flat 29-30 MiB before these reads existed; with
/// 64 KiB it stayed flat (31.7 -> 32.4 MiB from 20 000 to 200 000 flows). A small cache costs
/// little here: every write by the group writer changes the database, which empties a reader's
/// cache at its next read anyway, and a point read touches a handful of pages that the
/// operating system's cache holds.
const CACHE_KIB: i64 = 64;

/// At most one warning about failing reads in this long.
const WARN_EVERY: Duration = Duration::from_secs(60);

/// Read-only connections to the database, taken by one read at a time.
pub(crate) struct SyncReads {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    /// Idle connections kept: one per async worker (one per core) and a spare, so that no
    /// worker opens a connection (a file open and a schema parse) on every read.
    keep_idle: usize,
    /// Reads answered here, and reads handed back to sqlx (for tests and the warning).
    served: AtomicU64,
    fell_back: AtomicU64,
    /// When the last warning was logged, as milliseconds since `started` (0: never).
    started: Instant,
    warned_at_ms: AtomicU64,
}

impl SyncReads {
    pub(crate) fn new(path: &Path) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self {
            path: path.to_owned(),
            idle: Mutex::new(Vec::new()),
            keep_idle: cores + 1,
            served: AtomicU64::new(0),
            fell_back: AtomicU64::new(0),
            started: Instant::now(),
            warned_at_ms: AtomicU64::new(0),
        }
    }

    /// (reads served here, reads handed back to sqlx) so far.
    #[cfg(test)]
    pub(crate) fn counts(&self) -> (u64, u64) {
        (
            self.served.load(Ordering::Relaxed),
            self.fell_back.load(Ordering::Relaxed),
        )
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
            None => match self.open() {
                Ok(connection) => connection,
                Err(e) => return self.fall_back(&e),
            },
        };
        match read(&connection) {
            Ok(value) => {
                self.served.fetch_add(1, Ordering::Relaxed);
                let mut idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
                if idle.len() < self.keep_idle {
                    idle.push(connection);
                }
                Some(value)
            }
            // A connection that failed is dropped: the next read opens a fresh one.
            Err(e) => self.fall_back(&e),
        }
    }

    /// Count a read handed back to sqlx, and say so in the log at most once a minute: a fast
    /// path that keeps failing makes every hot read slower than sqlx alone, and should be seen.
    /// (SQLite's messages name the failure, never the bound values.)
    fn fall_back<T>(&self, error: &rusqlite::Error) -> Option<T> {
        let total = self.fell_back.fetch_add(1, Ordering::Relaxed) + 1;
        metrics::counter!(SQLITE_SYNC_READ_FALLBACKS).increment(1);
        let now_ms = u64::try_from(self.started.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let last = self.warned_at_ms.load(Ordering::Relaxed);
        let due = last == 0 || now_ms.saturating_sub(last) >= WARN_EVERY.as_millis() as u64;
        if due
            && self
                .warned_at_ms
                .compare_exchange(last, now_ms, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            tracing::warn!(
                error = %error,
                fallbacks = total,
                "a synchronous SQLite read failed and went through sqlx instead"
            );
        }
        None
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let connection = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        connection.busy_timeout(BUSY_TIMEOUT)?;
        connection.pragma_update(None, "cache_size", -CACHE_KIB)?;
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
