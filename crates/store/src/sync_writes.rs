//! SQLite's group writes of new identities, on a connection and a thread of their own.
//!
//! Through sqlx, one group of creations is BEGIN, two multi-row INSERTs and COMMIT, each a
//! message to sqlx's connection thread and an answer back: a profile of basic-new put sqlx's
//! SQLite threads at 29 % of the server's CPU, 12 points of it in being woken (issue 17). Here
//! the group writer's thread owns a rusqlite connection and runs the whole transaction itself;
//! waking the callers is the only hand-off left.
//!
//! One writer at a time: this connection and sqlx's writer take turns (`write_turn` says why),
//! and a group holds the turn until its transaction has ended. Other processes on the same file
//! (the CLI's commands) are waited for as sqlx waits for them, by SQLite's busy timeout; the
//! transaction begins IMMEDIATE, taking SQLite's write lock before it reads.
//!
//! The SQL texts are the ones the PostgreSQL path runs (`identity_writer`, `identities`);
//! `$N` parameters appear in order of their numbers, so SQLite's positions are the numbers.

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use rusqlite::{CachedStatement, Connection, OpenFlags, ToSql, TransactionBehavior, params};
use tegata_core::store::StoreError;

use crate::checkpointer::WRITER_FALLBACK_PAGES;
use crate::identities::IDENTITY_OF_LOGIN;
use crate::identity_writer::{self, BlockingIdentityWrites, Creation, MAX_GROUP, statement_sizes};
use crate::write_turn::Turn;

/// As long as sqlx's connections wait for another process's lock.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The group writer's connection, and the store's turn to write.
pub(crate) struct SyncGroupWrites {
    connection: Connection,
    turn: Turn,
}

impl SyncGroupWrites {
    /// Opens a read-write connection to the database at `path` (which exists, with its schema)
    /// with the settings sqlx's writer has.
    pub(crate) fn open(path: &Path, turn: Turn) -> rusqlite::Result<Self> {
        let connection = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        connection.busy_timeout(BUSY_TIMEOUT)?;
        // Per connection, as on sqlx's writer (`open_sqlite` says why each); WAL mode is the
        // database file's, set when sqlx opened it.
        connection.pragma_update(None, "synchronous", "NORMAL")?;
        connection.pragma_update(None, "foreign_keys", true)?;
        connection.pragma_update(None, "temp_store", "MEMORY")?;
        connection.pragma_update(None, "wal_autocheckpoint", WRITER_FALLBACK_PAGES)?;
        // Two texts per statement size, the two statements for a losing candidate, and room.
        connection.set_prepared_statement_cache_capacity(2 * (MAX_GROUP.ilog2() as usize + 1) + 4);
        Ok(Self { connection, turn })
    }

    fn write(&mut self, group: &[Creation]) -> rusqlite::Result<Vec<(String, bool)>> {
        let tx = self
            .connection
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut linked = HashSet::with_capacity(group.len());
        let mut rest = group;
        for size in statement_sizes(group.len()) {
            let (chunk, after) = rest.split_at(size);
            rest = after;
            let mut insert = tx.prepare_cached(identity_writer::insert_identities_sql(size))?;
            bind_in_order(
                &mut insert,
                chunk
                    .iter()
                    .flat_map(|c| [&c.candidate as &dyn ToSql, &c.pool_id, &c.now]),
            )?;
            insert.raw_execute()?;
            let mut link = tx.prepare_cached(identity_writer::insert_logins_sql(size))?;
            bind_in_order(
                &mut link,
                chunk.iter().flat_map(|c| {
                    [
                        &c.pool_id as &dyn ToSql,
                        &c.provider,
                        &c.user_key,
                        &c.candidate,
                        &c.now,
                    ]
                }),
            )?;
            let mut rows = link.raw_query();
            while let Some(row) = rows.next()? {
                linked.insert(row.get::<_, String>(0)?);
            }
        }
        // As on the sqlx path: a candidate whose login was linked first is dropped, and its
        // caller gets the identity that won.
        let mut results = Vec::with_capacity(group.len());
        for creation in group {
            if linked.contains(&creation.candidate) {
                results.push((creation.candidate.clone(), true));
                continue;
            }
            tx.prepare_cached(identity_writer::DELETE_CANDIDATE_SQL)?
                .execute(params![creation.candidate])?;
            let existing: String = tx.prepare_cached(IDENTITY_OF_LOGIN)?.query_row(
                params![creation.pool_id, creation.provider, creation.user_key],
                |row| row.get(0),
            )?;
            results.push((existing, false));
        }
        tx.commit()?;
        Ok(results)
    }
}

impl BlockingIdentityWrites for SyncGroupWrites {
    fn create_group(&mut self, group: &[Creation]) -> Result<Vec<(String, bool)>, StoreError> {
        let _turn = self.turn.clone().blocking_lock_owned();
        // SQLite's messages name the failure, never the bound values.
        self.write(group)
            .map_err(|e| StoreError::Backend(e.to_string()))
    }
}

/// Binds `values` to `statement`'s parameters 1, 2, 3, … (see the module's note on why the
/// positions are the `$N` numbers).
fn bind_in_order<'v>(
    statement: &mut CachedStatement<'_>,
    values: impl IntoIterator<Item = &'v dyn ToSql>,
) -> rusqlite::Result<()> {
    for (index, value) in values.into_iter().enumerate() {
        statement.raw_bind_parameter(index + 1, value)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The group writer's connection has the settings of sqlx's writer, which it stands in for:
    /// statement journals in memory, foreign keys enforced, the WAL's NORMAL sync, the writer's
    /// own checkpoint fallback and busy timeout.
    #[tokio::test]
    async fn the_group_writers_connection_is_set_like_sqlx_writer() {
        let dir = std::env::temp_dir().join(format!("tegata-sync-writes-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let store = crate::open_sqlite(&dir).await.unwrap();
        let writes = SyncGroupWrites::open(&dir.join("tegata.db"), Turn::default()).unwrap();
        let pragma = |name: &str| -> i64 {
            writes
                .connection
                .pragma_query_value(None, name, |row| row.get(0))
                .unwrap()
        };
        assert_eq!(pragma("temp_store"), 2, "MEMORY");
        assert_eq!(pragma("foreign_keys"), 1);
        assert_eq!(pragma("synchronous"), 1, "NORMAL");
        assert_eq!(
            pragma("wal_autocheckpoint"),
            i64::from(WRITER_FALLBACK_PAGES)
        );
        assert_eq!(pragma("busy_timeout"), BUSY_TIMEOUT.as_millis() as i64);
        let journal: String = writes
            .connection
            .pragma_query_value(None, "journal_mode", |row| row.get(0))
            .unwrap();
        assert_eq!(journal, "wal");
        drop(writes);
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
