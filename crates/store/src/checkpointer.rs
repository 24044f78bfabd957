//! SQLite WAL checkpoints off the commit path.
//!
//! In WAL mode a commit only appends pages to the write-ahead log; a checkpoint copies them into
//! the database file and syncs it. SQLite runs one by default inside the commit that takes the
//! log past 1 000 pages, so every identity creation queued behind that commit waited for the
//! copy and the `fsync` (basic-new's p99 was ~2.3 × its median, against ~1.4 × for existing
//! users). Here a connection of its own checkpoints every 100 ms in `PASSIVE` mode, which never
//! waits for the writer or the readers; the writer keeps a fallback of its own at a much larger
//! log, so the log stays bounded even if this task falls behind or stops.
//!
//! The interval is short on purpose: the copy ends with an `fsync` of the database file. One
//! large checkpoint a second made basic-new's p99 worse (50 → 90–110 ms; presumably the sync
//! holds up the writer's appends to the log on the same file system), while every 100 ms made it
//! better (50 → 41 ms, throughput up ~15 %). An idle checkpoint (nothing new in the log) costs a
//! few lock operations.

use std::time::Duration;

use sqlx::SqlitePool;
use tokio::sync::oneshot;

/// How often the log is copied into the database file (see the module's note on why so often).
pub(crate) const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

/// Pages after which the writer checkpoints in its own commit after all (SQLite's default is
/// 1 000). At 4 KiB pages, a 40 MiB log.
pub(crate) const WRITER_FALLBACK_PAGES: u32 = 10_000;

/// The running task; it stops when this is dropped.
pub(crate) struct Checkpointer {
    _stop: oneshot::Sender<()>,
}

impl Checkpointer {
    /// Starts checkpointing through `pool` (one read-write connection) every `every`.
    pub(crate) fn start(pool: SqlitePool, every: Duration) -> Self {
        let (stop, mut stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    _ = ticks.tick() => {
                        let done = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                            .execute(&pool)
                            .await;
                        if let Err(e) = done {
                            tracing::warn!(
                                error = %e,
                                "WAL checkpoint failed; the writer checkpoints itself past {WRITER_FALLBACK_PAGES} pages"
                            );
                        }
                    }
                }
            }
        });
        Self { _stop: stop }
    }
}
