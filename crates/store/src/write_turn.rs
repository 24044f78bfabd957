//! sqlx's writer pool, behind the store's write turn.
//!
//! On SQLite two connections of this process write: sqlx's single writer connection, for every
//! write but one, and the group writer's own connection for new identities (`sync_writes`).
//! sqlx's transactions begin deferred and often read before they write. When such a
//! transaction comes to write while the group writer holds SQLite's write lock, or after it
//! committed since the read, SQLite refuses the write at once (`SQLITE_BUSY`,
//! `SQLITE_BUSY_SNAPSHOT`: "database is locked"), without calling the busy handler, since
//! waiting could deadlock. So the two take turns:
//! every write through sqlx holds the turn until its statement or transaction has ended, and so
//! does every group of new identities. The turn is a fair lock, so neither kind waits behind an
//! endless line of the other.
//!
//! On PostgreSQL there is no turn: every write goes through sqlx, and the server orders them.
//!
//! The store's writes reach the pool only through the turn, so that a new one cannot forget to
//! take it; `pool` is for what does not write (and for the group writes through sqlx when the
//! group writer's connection cannot start, which leaves sqlx's the only writing connection).

use std::ops::{Deref, DerefMut};
use std::sync::Arc;

use sqlx::{Database, Pool, Transaction};
use tokio::sync::{Mutex, OwnedMutexGuard};

/// The one turn to write that the writing connections of a SQLite store share.
pub(crate) type Turn = Arc<Mutex<()>>;

pub(crate) struct Writer<DB: Database> {
    pool: Pool<DB>,
    turn: Option<Turn>,
}

impl<DB: Database> Writer<DB> {
    /// `pool`'s writes, taking `turn` when there is one.
    pub(crate) fn new(pool: Pool<DB>, turn: Option<Turn>) -> Self {
        Self { pool, turn }
    }

    /// The pool, for a single statement, once it is this write's turn. Held (as a temporary in
    /// the statement that runs the query) until the statement's end.
    pub(crate) async fn turn(&self) -> WriteTurn<'_, DB> {
        WriteTurn {
            pool: &self.pool,
            _turn: self.take_turn().await,
        }
    }

    /// A transaction that holds the turn until it commits, rolls back, or is dropped.
    pub(crate) async fn begin(&self) -> Result<WriteTransaction<DB>, sqlx::Error> {
        let turn = self.take_turn().await;
        Ok(WriteTransaction {
            transaction: self.pool.begin().await?,
            _turn: turn,
        })
    }

    /// The pool itself, for what does not write: its size for the metrics, and tests.
    pub(crate) fn pool(&self) -> &Pool<DB> {
        &self.pool
    }

    async fn take_turn(&self) -> Option<OwnedMutexGuard<()>> {
        match &self.turn {
            Some(turn) => Some(turn.clone().lock_owned().await),
            None => None,
        }
    }
}

/// The writer pool during a write's turn.
pub(crate) struct WriteTurn<'w, DB: Database> {
    pool: &'w Pool<DB>,
    _turn: Option<OwnedMutexGuard<()>>,
}

impl<DB: Database> Deref for WriteTurn<'_, DB> {
    type Target = Pool<DB>;

    fn deref(&self) -> &Pool<DB> {
        self.pool
    }
}

/// A transaction on the writer pool, holding the turn. Its fields drop in order: a transaction
/// dropped unfinished (an error's early return) queues its rollback before the turn is
/// released; should the group writer begin before that rollback has run, SQLite's busy timeout
/// has it wait the moment out.
pub(crate) struct WriteTransaction<DB: Database> {
    transaction: Transaction<'static, DB>,
    _turn: Option<OwnedMutexGuard<()>>,
}

impl<DB: Database> WriteTransaction<DB> {
    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        self.transaction.commit().await
    }

    pub(crate) async fn rollback(self) -> Result<(), sqlx::Error> {
        self.transaction.rollback().await
    }
}

/// The transaction's connection, as `sqlx::Transaction` gives it: `&mut *tx` executes queries.
impl<DB: Database> Deref for WriteTransaction<DB> {
    type Target = DB::Connection;

    fn deref(&self) -> &Self::Target {
        &self.transaction
    }
}

impl<DB: Database> DerefMut for WriteTransaction<DB> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.transaction
    }
}
