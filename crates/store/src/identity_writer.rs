//! New identities are written in groups: one transaction for every creation waiting when the
//! writer comes free (group commit).
//!
//! A first GetOpenIdTokenForDeveloperIdentity for a developer user writes two rows. Written one
//! transaction each, every creation pays a pool checkout, BEGIN, two INSERTs and a COMMIT, each a
//! round trip to the database's connection thread, and on SQLite all of them queue on the one
//! writer connection: under load the writer, not the CPU, set the rate. Here one task (on
//! SQLite, one thread: `sync_writes`) owns the writing; it takes every creation queued by the
//! time it is free, writes them with multi-row
//! statements in one transaction and answers each caller; a lone creation is a group of one.
//!
//! Races keep their meaning: the login table's primary key still decides which candidate
//! identity a developer user gets (`ON CONFLICT DO NOTHING … RETURNING` says which candidates
//! won); losers' candidate rows are deleted in the same transaction. If a group fails as a whole
//! (say one creation names a pool deleted meanwhile), each of its creations is retried alone, so
//! one bad creation fails only its own caller.

use std::sync::LazyLock;
use std::time::Instant;

use async_trait::async_trait;
use tegata_core::UnixSeconds;
use tegata_core::store::{IDENTITY_GROUP_WRITE_SECONDS, StoreError};
use tokio::sync::{mpsc, oneshot};

/// The most creations written in one transaction.
pub(crate) const MAX_GROUP: usize = 64;

/// The most creations waiting for the writer. Beyond it a caller is refused at once
/// ([`StoreError::Busy`], which the services answer with their throttling error) rather than
/// queued: on SQLite the writer's rate is the store's, and a queue that only grows answers every
/// caller late.
pub(crate) const MAX_WAITING: usize = 4096;

/// One queued creation: the login to link, the identity to create for it if it has none yet.
pub(crate) struct Creation {
    pub pool_id: String,
    pub provider: String,
    pub user_key: String,
    pub candidate: String,
    pub now: UnixSeconds,
    reply: oneshot::Sender<Result<(String, bool), StoreError>>,
}

impl Creation {
    /// A creation nobody waits for, for calling a backend's writes directly in tests.
    #[cfg(test)]
    pub(crate) fn unanswered(
        pool_id: &str,
        user_key: &str,
        candidate: &str,
        now: UnixSeconds,
    ) -> Self {
        Self {
            pool_id: pool_id.to_owned(),
            provider: "login.test".to_owned(),
            user_key: user_key.to_owned(),
            candidate: candidate.to_owned(),
            now,
            reply: oneshot::channel().0,
        }
    }
}

/// The write a backend provides.
#[async_trait]
pub(crate) trait IdentityWrites: Send + Sync + 'static {
    /// Creations in one transaction, all or nothing; `(identity id, created)` for each.
    async fn create_group(&self, group: &[Creation]) -> Result<Vec<(String, bool)>, StoreError>;
}

/// The write a backend provides on a thread of its own, without an async runtime's hand-offs
/// (SQLite's, see `sync_writes`).
pub(crate) trait BlockingIdentityWrites: Send + 'static {
    /// As [`IdentityWrites::create_group`].
    fn create_group(&mut self, group: &[Creation]) -> Result<Vec<(String, bool)>, StoreError>;
}

/// The queue in front of the writing task or thread.
pub(crate) struct IdentityWriter {
    queue: mpsc::Sender<Creation>,
    #[cfg(test)]
    on_its_own_thread: bool,
}

impl IdentityWriter {
    /// Starts the writing task on the current tokio runtime. It ends when the writer is dropped.
    pub(crate) fn start(writes: impl IdentityWrites) -> Self {
        Self::with_capacity(writes, MAX_WAITING)
    }

    pub(crate) fn with_capacity(writes: impl IdentityWrites, capacity: usize) -> Self {
        let (queue, pending) = mpsc::channel(capacity);
        tokio::spawn(write_groups(writes, pending));
        Self {
            queue,
            #[cfg(test)]
            on_its_own_thread: false,
        }
    }

    /// Starts the writing on a thread of its own. It ends when the writer is dropped.
    pub(crate) fn start_on_thread(writes: impl BlockingIdentityWrites) -> std::io::Result<Self> {
        let (queue, pending) = mpsc::channel(MAX_WAITING);
        std::thread::Builder::new()
            .name("tegata-identity-writer".to_owned())
            .spawn(move || {
                let stopped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    write_groups_blocking(writes, pending)
                }));
                if stopped.is_err() {
                    tracing::error!(
                        "the identity writer stopped on a panic: new identities fail until tegata restarts"
                    );
                }
            })?;
        Ok(Self {
            queue,
            #[cfg(test)]
            on_its_own_thread: true,
        })
    }

    /// Whether the writing runs on a thread of its own (see `start_on_thread`).
    #[cfg(test)]
    pub(crate) fn on_its_own_thread(&self) -> bool {
        self.on_its_own_thread
    }

    /// Creations queued and not yet taken by the writer.
    pub(crate) fn waiting(&self) -> usize {
        self.queue.max_capacity() - self.queue.capacity()
    }

    pub(crate) async fn find_or_create(
        &self,
        pool_id: &str,
        provider: &str,
        user_key: &str,
        candidate: &str,
        now: UnixSeconds,
    ) -> Result<(String, bool), StoreError> {
        let (reply, answer) = oneshot::channel();
        let creation = Creation {
            pool_id: pool_id.to_owned(),
            provider: provider.to_owned(),
            user_key: user_key.to_owned(),
            candidate: candidate.to_owned(),
            now,
            reply,
        };
        let stopped = || StoreError::Backend("the identity writer has stopped".to_owned());
        self.queue.try_send(creation).map_err(|e| match e {
            mpsc::error::TrySendError::Full(_) => StoreError::Busy,
            mpsc::error::TrySendError::Closed(_) => stopped(),
        })?;
        answer.await.map_err(|_| stopped())?
    }
}

async fn write_groups(writes: impl IdentityWrites, mut pending: mpsc::Receiver<Creation>) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while pending.recv_many(&mut group, MAX_GROUP).await > 0 {
        let start = Instant::now();
        let written = writes.create_group(&group).await;
        for creation in answer_group(&mut group, start, written) {
            let result = writes.create_group(std::slice::from_ref(&creation)).await;
            creation.answer_alone(result);
        }
    }
}

fn write_groups_blocking(
    mut writes: impl BlockingIdentityWrites,
    mut pending: mpsc::Receiver<Creation>,
) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    while let Some(first) = pending.blocking_recv() {
        group.push(first);
        while group.len() < MAX_GROUP {
            match pending.try_recv() {
                Ok(creation) => group.push(creation),
                Err(_) => break,
            }
        }
        let start = Instant::now();
        let written = writes.create_group(&group);
        for creation in answer_group(&mut group, start, written) {
            let result = writes.create_group(std::slice::from_ref(&creation));
            creation.answer_alone(result);
        }
    }
}

/// Records how long `group`'s write took, answers its creations from `written` and empties it;
/// returns the creations to write again one by one: one creation that fails (its pool deleted
/// meanwhile) must not fail the others.
fn answer_group(
    group: &mut Vec<Creation>,
    start: Instant,
    written: Result<Vec<(String, bool)>, StoreError>,
) -> Vec<Creation> {
    // Looked up per group, not once: the store opens before the server installs its
    // recorder, and a handle taken earlier would record nowhere.
    metrics::histogram!(IDENTITY_GROUP_WRITE_SECONDS).record(start.elapsed().as_secs_f64());
    match written {
        Ok(results) => {
            for (creation, result) in group.drain(..).zip(results) {
                let _ = creation.reply.send(Ok(result));
            }
            Vec::new()
        }
        Err(_) if group.len() > 1 => std::mem::take(group),
        Err(e) => {
            for creation in group.drain(..) {
                let _ = creation.reply.send(Err(e.clone()));
            }
            Vec::new()
        }
    }
}

impl Creation {
    /// Answers a creation written as a group of its own.
    fn answer_alone(self, written: Result<Vec<(String, bool)>, StoreError>) {
        let answer = written.and_then(|results| {
            results
                .into_iter()
                .next()
                .ok_or_else(|| StoreError::Backend("a group write answered nothing".to_owned()))
        });
        let _ = self.reply.send(answer);
    }
}

/// Splits `n` creations into statement sizes that are powers of two, largest first, so the
/// statements' texts (each cached as a prepared statement per connection) stay few.
pub(crate) fn statement_sizes(mut n: usize) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        if n == 0 {
            return None;
        }
        let size = 1 << n.ilog2();
        n -= size;
        Some(size)
    })
}

/// The statement texts for each size [`statement_sizes`] yields, built once: index `log2(size)`.
static GROUP_STATEMENTS: LazyLock<Vec<(String, String)>> = LazyLock::new(|| {
    (0..=MAX_GROUP.ilog2())
        .map(|log| (identities_values(1 << log), logins_values(1 << log)))
        .collect()
});

/// Deletes a losing candidate identity (its login was linked to another first), binding its id.
pub(crate) const DELETE_CANDIDATE_SQL: &str = "DELETE FROM identities WHERE identity_id = $1";

/// `INSERT INTO identities` for `rows` rows (a power of two up to the group's maximum), binding
/// (identity_id, pool_id, now) per row.
pub(crate) fn insert_identities_sql(rows: usize) -> &'static str {
    &GROUP_STATEMENTS[rows.ilog2() as usize].0
}

/// `INSERT INTO identity_logins` for `rows` rows (a power of two up to the group's maximum),
/// binding (pool_id, provider, user_key, identity_id, now) per row; returns the identity ids of
/// the rows that were linked.
pub(crate) fn insert_logins_sql(rows: usize) -> &'static str {
    &GROUP_STATEMENTS[rows.ilog2() as usize].1
}

fn identities_values(rows: usize) -> String {
    format!(
        "INSERT INTO identities (identity_id, pool_id, disabled, created_at, updated_at) VALUES {}",
        value_rows(rows, 3, |p| format!(
            "(${p}, ${}, 0, ${}, ${})",
            p + 1,
            p + 2,
            p + 2
        ))
    )
}

fn logins_values(rows: usize) -> String {
    format!(
        "INSERT INTO identity_logins (pool_id, provider, user_key, identity_id, created_at) \
         VALUES {} ON CONFLICT (pool_id, provider, user_key) DO NOTHING RETURNING identity_id",
        value_rows(rows, 5, |p| {
            format!("(${p}, ${}, ${}, ${}, ${})", p + 1, p + 2, p + 3, p + 4)
        })
    )
}

/// `(…), (…), …` for `rows` rows; `row` writes one row given its first parameter's number.
fn value_rows(rows: usize, parameters_per_row: usize, row: impl Fn(usize) -> String) -> String {
    (0..rows)
        .map(|r| row(r * parameters_per_row + 1))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_sizes_are_powers_of_two_that_add_up() {
        assert_eq!(statement_sizes(0).collect::<Vec<_>>(), Vec::<usize>::new());
        assert_eq!(statement_sizes(1).collect::<Vec<_>>(), [1]);
        assert_eq!(statement_sizes(13).collect::<Vec<_>>(), [8, 4, 1]);
        assert_eq!(statement_sizes(64).collect::<Vec<_>>(), [64]);
        for n in 0..=MAX_GROUP {
            assert_eq!(statement_sizes(n).sum::<usize>(), n);
        }
    }

    #[test]
    fn multi_row_statements_number_their_parameters_in_order() {
        assert_eq!(
            insert_identities_sql(2),
            "INSERT INTO identities (identity_id, pool_id, disabled, created_at, updated_at) \
             VALUES ($1, $2, 0, $3, $3), ($4, $5, 0, $6, $6)"
        );
        assert!(insert_logins_sql(2).contains("($6, $7, $8, $9, $10) ON CONFLICT"));
        for size in statement_sizes(MAX_GROUP * 2 - 1) {
            assert_eq!(
                insert_identities_sql(size).matches("), (").count(),
                size - 1
            );
            assert_eq!(insert_logins_sql(size).matches("), (").count(), size - 1);
        }
    }
}
