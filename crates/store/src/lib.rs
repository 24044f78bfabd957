//! tegata's stores: SQLite (the embedded default) and PostgreSQL (several nodes, one database).
//!
//! One implementation serves both, generic over sqlx's `Database`: the same SQL text runs on each
//! (`$N` placeholders, Unix-second integers, 0/1 booleans, `ON CONFLICT … DO NOTHING`), so the two
//! cannot drift apart; only the schema files differ (BLOB vs BYTEA). Each aggregate of the
//! domain's store has a module: `account`, `pools`, `identities` (with the group writer), `roles`,
//! `oidc_providers`, `users` (with access keys and groups), `policies`.
//!
//! Every impl states the same bounds on the database: that a connection executes queries, and
//! that the store's few column types (`&str`, `Option<&str>`, `i64`, `Option<i64>`, `&[u8]`)
//! bind; rows are read through `FromRow` types (`rows`).
//!
//! Two exceptions, for speed, both on SQLite and both with the same SQL texts: the hot reads of
//! the token and credential requests run synchronously through rusqlite, and any that fails
//! goes through sqlx (`sync_reads` says why); new identities are written in groups by a rusqlite
//! connection on a thread of its own (`sync_writes`), taking turns with sqlx's writer
//! (`write_turn`), and through sqlx only if that thread cannot start.

mod account;
mod app_users;
mod backup;
mod checkpointer;
mod identities;
mod identity_writer;
mod migrate;
mod oidc_providers;
mod policies;
mod pools;
#[cfg(feature = "prefill")]
mod prefill;
mod revocations;
mod roles;
mod rows;
mod sync_reads;
mod sync_writes;
mod users;
mod write_turn;

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Database, Pool, Postgres, Sqlite};
use tegata_core::store::{Store, StoreError};

pub use backup::backup_sqlite;
use checkpointer::{CHECKPOINT_EVERY, Checkpointer, WRITER_FALLBACK_PAGES};
use identity_writer::IdentityWriter;
use sync_reads::SyncReads;
use sync_writes::SyncGroupWrites;
use write_turn::{Turn, Writer};

/// Identities deleted per statement when a pool is deleted (see `delete_identity_pool`).
const POOL_DELETION_SLICE: i64 = 256;

/// A store over one database, with a pool for reads and one for writes. For SQLite the write
/// pool has a single connection: SQLite admits one writer at a time anyway, and queueing writers
/// in-process avoids `SQLITE_BUSY` retries; the group writer's connection, the only other one
/// that writes, takes turns with it (`write_turn`). For PostgreSQL both are the same pool.
pub struct SqlStore<DB: Database> {
    reader: Pool<DB>,
    /// Every write but new identities', through the turn (see `write_turn`).
    writer: Writer<DB>,
    /// New identities go through here, written in groups (see `identity_writer`).
    identity_writer: IdentityWriter,
    /// SQLite only: WAL checkpoints on a connection of their own (see `checkpointer`).
    _checkpointer: Option<Checkpointer>,
    /// SQLite only: the hot path's reads on the caller's thread (see `sync_reads`).
    sync_reads: Option<SyncReads>,
    /// Whether `reader` and `writer` are one pool (PostgreSQL), counted once in the metrics.
    shared_pool: bool,
}

pub type SqliteStore = SqlStore<Sqlite>;
pub type PostgresStore = SqlStore<Postgres>;

/// Open (creating if needed) the SQLite database `<data_dir>/tegata.db` and bring its schema up
/// to date.
pub async fn open_sqlite(data_dir: &Path) -> Result<SqliteStore, StoreError> {
    open_sqlite_checkpointing(data_dir, CHECKPOINT_EVERY).await
}

async fn open_sqlite_checkpointing(
    data_dir: &Path,
    checkpoint_every: Duration,
) -> Result<SqliteStore, StoreError> {
    let path = data_dir.join("tegata.db");
    let options = SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // With WAL, NORMAL loses at most the last transactions on power loss, never consistency.
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(sync_writes::BUSY_TIMEOUT)
        .foreign_keys(true);
    let writer = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(
            options
                .clone()
                .pragma("wal_autocheckpoint", WRITER_FALLBACK_PAGES.to_string())
                // A multi-row INSERT inside the group commit's transaction keeps a statement
                // journal (the pages it changed, to undo it alone if it fails). Past 64 KiB
                // SQLite spills that journal to a temporary file: a file created, written and
                // unlinked per group, 16 % of the writer's time in a profile of basic-new.
                // The group writer's own connection (`sync_writes`) sets the same; this one
                // writes the groups only if that one could not start.
                // In memory it is bounded by one group's pages (64 creations), and by the
                // rows of any other statement run in a transaction here: a statement that may
                // change many rows inside a larger transaction (a migration, a bulk delete)
                // must go in slices, as `delete_identity_pool` does.
                .pragma("temp_store", "MEMORY"),
        )
        .await
        .map_err(backend)?;
    migrate::run_sqlite(&writer).await?;
    let reader = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options.clone().read_only(true))
        .await
        .map_err(backend)?;
    let checkpoints = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .map_err(backend)?;
    let turn = Turn::default();
    Ok(SqlStore {
        identity_writer: sqlite_identity_writer(&path, &writer, &turn),
        _checkpointer: Some(Checkpointer::start(checkpoints, checkpoint_every)),
        sync_reads: Some(SyncReads::new(&path)),
        reader,
        writer: Writer::new(writer, Some(turn)),
        shared_pool: false,
    })
}

/// The group writer of new identities on a rusqlite connection and a thread of their own
/// (`sync_writes`), or if that cannot start, through sqlx's writer as on PostgreSQL.
fn sqlite_identity_writer(path: &Path, writer: &Pool<Sqlite>, turn: &Turn) -> IdentityWriter {
    let started = SyncGroupWrites::open(path, turn.clone())
        .map_err(|e| e.to_string())
        .and_then(|writes| IdentityWriter::start_on_thread(writes).map_err(|e| e.to_string()));
    started.unwrap_or_else(|error| {
        tracing::warn!(
            %error,
            "the synchronous identity writer did not start; new identities are written through sqlx"
        );
        IdentityWriter::start(writer.clone())
    })
}

/// Connect to PostgreSQL and bring its schema up to date (safe when several nodes start at once).
pub async fn open_postgres(url: &str) -> Result<PostgresStore, StoreError> {
    // The URL may hold a password: its parse error is not quoted.
    let options = PgConnectOptions::from_str(url).map_err(|_| {
        StoreError::Backend(
            "the PostgreSQL URL does not parse; expected postgres://user:password@host:port/database"
                .to_owned(),
        )
    })?;
    // One connection first, to report why it fails: the pool would retry until its timeout and
    // then say only that it timed out.
    check_postgres_reachable(&options).await?;
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .connect_with(options)
        .await
        .map_err(backend)?;
    migrate::run_postgres(&pool).await?;
    Ok(SqlStore {
        identity_writer: IdentityWriter::start(pool.clone()),
        _checkpointer: None,
        sync_reads: None,
        reader: pool.clone(),
        writer: Writer::new(pool, None),
        shared_pool: true,
    })
}

/// How long connecting to PostgreSQL may take before it is reported unreachable.
const POSTGRES_CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Connect once to the server `options` names, and say what went wrong in an operator's terms:
/// the host, port and database, and the cause (refused, no answer, authentication, no such
/// database), never the password.
async fn check_postgres_reachable(options: &PgConnectOptions) -> Result<(), StoreError> {
    use sqlx::Connection;
    let place = format!(
        "PostgreSQL at {}:{} (database {}, user {})",
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap_or("(the user's)"),
        options.get_username(),
    );
    let cause = match tokio::time::timeout(
        POSTGRES_CONNECT_TIMEOUT,
        sqlx::PgConnection::connect_with(options),
    )
    .await
    {
        Ok(Ok(connection)) => {
            let _ = connection.close().await;
            return Ok(());
        }
        Err(_) => format!(
            "no answer within {} seconds",
            POSTGRES_CONNECT_TIMEOUT.as_secs()
        ),
        Ok(Err(sqlx::Error::Io(e))) => match e.kind() {
            std::io::ErrorKind::ConnectionRefused => {
                "connection refused: is the server running and listening there?".to_owned()
            }
            _ => format!("network error: {e}"),
        },
        Ok(Err(sqlx::Error::Database(e))) => match e.code().as_deref() {
            Some("28P01" | "28000") => format!("authentication failed: {}", e.message()),
            Some("3D000") => format!("the database does not exist: {}", e.message()),
            _ => e.message().to_owned(),
        },
        Ok(Err(e)) => e.to_string(),
    };
    Err(StoreError::Backend(format!(
        "cannot connect to {place}: {cause}"
    )))
}

/// Open the store a deployment is configured for: PostgreSQL when a `postgres://` URL is given,
/// otherwise SQLite in `data_dir`.
pub async fn open(
    database_url: Option<&str>,
    data_dir: &Path,
) -> Result<Arc<dyn Store>, StoreError> {
    match database_url {
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Ok(Arc::new(open_postgres(url).await?))
        }
        // Only the scheme is quoted: the rest may hold a password.
        Some(other) => Err(StoreError::Backend(match other.split_once("://") {
            Some((scheme, _)) => format!(
                "unsupported database URL scheme '{scheme}': use postgres://… (or no URL for the \
                 embedded SQLite store)"
            ),
            None => "the database URL is not a URL: use postgres://user:password@host:port/db \
                     (or no URL for the embedded SQLite store)"
                .to_owned(),
        })),
        None => Ok(Arc::new(open_sqlite(data_dir).await?)),
    }
}

/// How many rows a statement changed: sqlx gives each database's result this method, but no
/// trait that names it.
pub(crate) trait RowsAffected {
    fn rows_affected(&self) -> u64;
}

impl RowsAffected for sqlx::sqlite::SqliteQueryResult {
    fn rows_affected(&self) -> u64 {
        sqlx::sqlite::SqliteQueryResult::rows_affected(self)
    }
}

impl RowsAffected for sqlx::postgres::PgQueryResult {
    fn rows_affected(&self) -> u64 {
        sqlx::postgres::PgQueryResult::rows_affected(self)
    }
}

impl<DB: Database> SqlStore<DB> {
    /// A hot read: on SQLite, `fast` on this thread (see `sync_reads`); through sqlx when there
    /// is no fast path (PostgreSQL) or it fails (`fast` answers `None`). `through_sqlx` makes the
    /// query only when it is needed.
    async fn read_fast_or_through_sqlx<T, F>(
        &self,
        fast: impl FnOnce(&SyncReads) -> Option<T>,
        through_sqlx: impl FnOnce() -> F,
    ) -> Result<T, StoreError>
    where
        F: Future<Output = Result<T, sqlx::Error>>,
    {
        match self.sync_reads.as_ref().and_then(fast) {
            Some(found) => Ok(found),
            None => through_sqlx().await.map_err(backend),
        }
    }
}

/// The one mapping of the database's errors onto the store's.
fn backend(e: sqlx::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

/// Lock the row of `key` in `table` for the rest of the transaction `conn` is in, with a write
/// that changes nothing (`column = column`): on PostgreSQL a concurrent writer of the row waits
/// until this transaction ends, so what it checks next still holds when it commits (SQLite has
/// one writer anyway). `false` when there is no such row. The names are static text.
async fn lock_row<DB>(
    conn: &mut DB::Connection,
    table: &'static str,
    column: &'static str,
    key_column: &'static str,
    key: &str,
) -> Result<bool, StoreError>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    DB::QueryResult: RowsAffected,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    let sql = format!("UPDATE {table} SET {column} = {column} WHERE {key_column} = $1");
    let locked = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(key)
        .execute(conn)
        .await
        .map_err(backend)?
        .rows_affected();
    Ok(locked > 0)
}

/// IAM names (of roles, users, groups, policies) are unique regardless of case: rows are keyed by
/// the lower-cased name.
fn entity_key(name: &str) -> String {
    name.to_lowercase()
}

#[cfg(test)]
mod tests {
    use tegata_core::cognito_identity::{IdentityPool, IdentityPoolSpec};
    use tegata_core::store::{IdentityStore, Login, PoolStore};

    use super::*;
    use crate::identity_writer::{Creation, IdentityWrites};

    /// An empty directory of this test process's own, for a database file.
    fn scratch_dir(tag: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("tegata-store-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn pool(id: &str, name: &str) -> IdentityPool {
        IdentityPool {
            id: id.into(),
            spec: IdentityPoolSpec {
                name: name.into(),
                ..IdentityPoolSpec::default()
            },
            roles: Default::default(),
            principal_tag_maps: Default::default(),
            created_at: 1,
            updated_at: 1,
        }
    }

    /// `create_group` itself (the queue decides when it runs, so it is called directly here):
    /// new users win their candidates, a user linked before keeps its identity, two creations
    /// of one user in the same group get the first one's identity, and no losing candidate is
    /// left behind.
    async fn group_of_creations(store: impl Store, writer: &impl IdentityWrites) {
        store
            .insert_identity_pool(&pool("g:1", "group"))
            .await
            .unwrap();
        let before = writer
            .create_group(&[Creation::unanswered("g:1", "old", "g:old", 1)])
            .await
            .unwrap();
        assert_eq!(before, [("g:old".to_owned(), true)]);
        let group: Vec<Creation> = [
            ("old", "g:a"),
            ("new-1", "g:b"),
            ("new-2", "g:c"),
            ("new-1", "g:d"),
            ("new-3", "g:e"),
        ]
        .iter()
        .map(|(user, candidate)| Creation::unanswered("g:1", user, candidate, 2))
        .collect();
        let results = writer.create_group(&group).await.unwrap();
        let expected: Vec<(String, bool)> = [
            ("g:old", false),
            ("g:b", true),
            ("g:c", true),
            ("g:b", false),
            ("g:e", true),
        ]
        .iter()
        .map(|(id, created)| ((*id).to_owned(), *created))
        .collect();
        assert_eq!(results, expected);
        let ids: Vec<String> = store
            .list_identities("g:1", None, 10, false)
            .await
            .unwrap()
            .into_iter()
            .map(|i| i.identity_id)
            .collect();
        assert_eq!(ids, ["g:b", "g:c", "g:e", "g:old"]);

        // A group naming a missing pool fails whole and writes nothing.
        let failing = [
            Creation::unanswered("g:1", "new-4", "g:f", 3),
            Creation::unanswered("gone", "new-5", "g:g", 3),
        ];
        assert!(writer.create_group(&failing).await.is_err());
        assert!(store.identity("g:f").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn group_of_creations_on_sqlite() {
        let dir = scratch_dir("group");
        let store = open_sqlite(&dir).await.unwrap();
        let writer = store.writer.pool().clone();
        group_of_creations(store, &writer).await;
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// The same, through SQLite's synchronous group writes (`sync_writes`), the kind the store
    /// starts (called directly here, on an instance of the test's own); the test above covers
    /// the sqlx writes it falls back to.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn group_of_creations_on_sqlite_synchronously() {
        struct OnThisThread(std::sync::Mutex<SyncGroupWrites>);
        #[async_trait::async_trait]
        impl IdentityWrites for OnThisThread {
            async fn create_group(
                &self,
                group: &[Creation],
            ) -> Result<Vec<(String, bool)>, StoreError> {
                use crate::identity_writer::BlockingIdentityWrites;
                tokio::task::block_in_place(|| self.0.lock().unwrap().create_group(group))
            }
        }
        let dir = scratch_dir("group-sync");
        let store = open_sqlite(&dir).await.unwrap();
        let writes = SyncGroupWrites::open(&dir.join("tegata.db"), Turn::default()).unwrap();
        group_of_creations(store, &OnThisThread(std::sync::Mutex::new(writes))).await;
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// New identities (written by the group writer's own connection) and the other writes
    /// (through sqlx's writer, in transactions that read before they write) take turns: were
    /// the group writer to commit between such a transaction's read and its write, SQLite would
    /// refuse that write ("database is locked") rather than wait.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn new_identities_and_other_writes_take_turns() {
        let dir = scratch_dir("turns");
        let store = Arc::new(open_sqlite(&dir).await.unwrap());
        assert!(
            store.identity_writer.on_its_own_thread(),
            "the group writer has a connection of its own"
        );
        store
            .insert_identity_pool(&pool("t:1", "turns"))
            .await
            .unwrap();
        store
            .find_or_create_identity("t:1", login_of("linked-to"), "t:target", 1)
            .await
            .unwrap();
        let mut tasks = tokio::task::JoinSet::new();
        for task in 0..8 {
            let store = store.clone();
            tasks.spawn(async move {
                for n in 0..150 {
                    let user_key = format!("user-{task}-{n}");
                    if task % 2 == 0 {
                        store
                            .find_or_create_identity(
                                "t:1",
                                login_of(&user_key),
                                &format!("t:{task}-{n}"),
                                2,
                            )
                            .await?;
                    } else {
                        let linked = store
                            .link_login("t:1", "t:target", login_of(&user_key), 2)
                            .await?;
                        assert_eq!(linked, tegata_core::store::LinkOutcome::Linked);
                    }
                }
                Ok::<_, StoreError>(())
            });
        }
        while let Some(done) = tasks.join_next().await {
            done.unwrap().expect("every write succeeded");
        }
        let identities = store
            .list_identities("t:1", None, 1000, false)
            .await
            .unwrap();
        assert_eq!(identities.len(), 1 + 4 * 150);
        for user_key in ["user-1-0", "user-7-149"] {
            let owner = store
                .identity_of_login("t:1", login_of(user_key))
                .await
                .unwrap();
            assert_eq!(owner.as_deref(), Some("t:target"));
        }
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Through the store's own group writer: creations queued together are answered each
    /// with its own result, one that fails (its pool does not exist) failing alone.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_creation_fails_alone_in_its_group() {
        let dir = scratch_dir("fail-alone");
        let store = Arc::new(open_sqlite(&dir).await.unwrap());
        store
            .insert_identity_pool(&pool("f:1", "fails"))
            .await
            .unwrap();
        let mut tasks = tokio::task::JoinSet::new();
        for n in 0..40 {
            let store = store.clone();
            tasks.spawn(async move {
                let pool_id = if n % 10 == 3 { "f:gone" } else { "f:1" };
                let user_key = format!("user-{n}");
                let created = store
                    .find_or_create_identity(pool_id, login_of(&user_key), &format!("f:{n}"), 1)
                    .await;
                (n, created)
            });
        }
        while let Some(done) = tasks.join_next().await {
            let (n, created) = done.unwrap();
            if n % 10 == 3 {
                assert!(created.is_err(), "creation {n} names no pool");
            } else {
                assert_eq!(created.unwrap(), (format!("f:{n}"), true));
            }
        }
        let identities = store
            .list_identities("f:1", None, 100, false)
            .await
            .unwrap();
        assert_eq!(identities.len(), 36);
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn group_of_creations_on_postgres() {
        let cluster = tegata_testkit::PgCluster::start();
        let store = open_postgres(&cluster.create_database()).await.unwrap();
        let writer = store.writer.pool().clone();
        group_of_creations(store, &writer).await;
    }

    /// A deployment made before IAM users existed: its administrator (an access key's owner
    /// only) becomes the IAM user `admin` with AdministratorAccess attached, keeping its id.
    #[tokio::test]
    async fn the_administrator_of_an_older_deployment_becomes_a_user() {
        use tegata_core::iam::EntityKind;
        use tegata_core::store::{PolicyStore, UserStore};

        let dir = scratch_dir("v4");
        let pool = sqlite_at_version(&dir, 4).await;
        sqlx::query(
            "INSERT INTO access_keys (access_key_id, user_name, user_id, encrypted_secret,
                                      master_key_id, active, created_at)
             VALUES ('AKIAOLDADMIN', 'admin', 'AIDAOLDADMIN', x'00', 'k', 1, 7)",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;

        let store = open_sqlite(&dir).await.unwrap();
        let admin = store.user("admin").await.unwrap().expect("migrated");
        assert_eq!(
            (admin.user_id.as_str(), admin.path.as_str()),
            ("AIDAOLDADMIN", "/")
        );
        assert_eq!(
            store
                .attached_policies(EntityKind::User, "admin")
                .await
                .unwrap()
                .unwrap(),
            ["arn:aws:iam::aws:policy/AdministratorAccess"]
        );
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A database in `dir` migrated up to `version` only, as an older tegata left it.
    async fn sqlite_at_version(dir: &Path, version: i64) -> sqlx::SqlitePool {
        let options = SqliteConnectOptions::new()
            .filename(dir.join("tegata.db"))
            .create_if_missing(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .unwrap();
        migrate::run_sqlite_up_to(&pool, version).await.unwrap();
        pool
    }

    /// A key stored before the lifecycle (schema 7) entered its state when it was made.
    #[tokio::test]
    async fn older_signing_keys_entered_their_state_when_made() {
        use tegata_core::store::AccountStore;

        let dir = scratch_dir("v7");
        let pool = sqlite_at_version(&dir, 7).await;
        sqlx::query(
            "INSERT INTO signing_keys (kid, state, algorithm, encrypted_private_key,
                                       master_key_id, created_at)
             VALUES ('old', 'active', 'RS512', x'00', 'k', 1234)",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;

        let store = open_sqlite(&dir).await.unwrap();
        let keys = store.signing_keys().await.unwrap();
        assert_eq!(
            keys.iter()
                .map(|k| (k.kid.as_str(), k.created_at, k.state_changed_at))
                .collect::<Vec<_>>(),
            [("old", 1234, 1234)]
        );
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// The writer's statement journals stay in memory (`temp_store = MEMORY`, reported as 2):
    /// a group of creations must not create, write and unlink a temporary file.
    #[tokio::test]
    async fn the_writer_keeps_statement_journals_in_memory() {
        let dir = scratch_dir("tmp");
        let store = open_sqlite(&dir).await.unwrap();
        let (writer_mode,): (i64,) = sqlx::query_as("PRAGMA temp_store")
            .fetch_one(store.writer.pool())
            .await
            .unwrap();
        assert_eq!(writer_mode, 2);
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Committed pages reach the database file without waiting for the log to fill: the
    /// checkpointer copies them, and the writer's own fallback is far away. (With the
    /// checkpointer stopped, the file would stay at its size after the migrations.)
    #[tokio::test]
    async fn the_log_is_checkpointed_in_the_background() {
        let dir = scratch_dir("ckpt");
        let every = Duration::from_millis(50);
        let store = open_sqlite_checkpointing(&dir, every).await.unwrap();
        let db_file = dir.join("tegata.db");
        // Let the migrations' pages be copied first, so only the writes below can grow the file.
        tokio::time::sleep(every * 4).await;
        let before = std::fs::metadata(&db_file).unwrap().len();
        store
            .insert_identity_pool(&pool("c:1", "checkpoints"))
            .await
            .unwrap();
        for n in 0..400 {
            let user_key = format!("user-{n:04}-{}", "x".repeat(200));
            let login = Login {
                provider: "login.test",
                user_key: &user_key,
            };
            store
                .find_or_create_identity("c:1", login, &format!("c:{n}"), 1)
                .await
                .unwrap();
        }
        let grew = async {
            while std::fs::metadata(&db_file).unwrap().len() <= before {
                tokio::time::sleep(every).await;
            }
        };
        tokio::time::timeout(every * 40, grew)
            .await
            .expect("the database file grew: the log was checkpointed");
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// The SQLite linked in is built as `.cargo/config.toml` asks: each connection's page cache
    /// its own, and no memory or page cache statistics, so that connections on different
    /// threads take no process-wide mutex to fetch or allocate a page (built with
    /// libsqlite3-sys's defaults, every page fetch takes one).
    #[tokio::test]
    async fn sqlite_is_built_without_process_wide_locks() {
        let dir = scratch_dir("options");
        let store = open_sqlite(&dir).await.unwrap();
        let options: Vec<(String,)> = sqlx::query_as("PRAGMA compile_options")
            .fetch_all(&store.reader)
            .await
            .unwrap();
        let options: Vec<String> = options.into_iter().map(|(option,)| option).collect();
        assert!(options.iter().any(|o| o == "THREADSAFE=1"), "{options:?}");
        assert!(
            !options.iter().any(|o| o == "ENABLE_MEMORY_MANAGEMENT"),
            "{options:?}"
        );
        for wanted in [
            "DEFAULT_MEMSTATUS=0",
            "DISABLE_PAGECACHE_OVERFLOW_STATS",
            "DEFAULT_PCACHE_INITSZ=0",
        ] {
            assert!(options.iter().any(|o| o == wanted), "{wanted}: {options:?}");
        }
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// The synchronous reads themselves, not their sqlx fallback (which the conformance suite
    /// would pass through as well): they find what is there, bind their `$N` parameters by
    /// name, and tell absent rows from failures.
    #[tokio::test]
    async fn the_hot_reads_run_synchronously_on_sqlite() {
        let dir = scratch_dir("sync-reads");
        let store = open_sqlite(&dir).await.unwrap();
        store
            .insert_identity_pool(&pool("p:1", "one"))
            .await
            .unwrap();
        let (alice, bob) = (login_of("alice"), login_of("bob"));
        let (identity, created) = store
            .find_or_create_identity("p:1", alice.clone(), "p:alice", 5)
            .await
            .unwrap();
        assert_eq!((identity.as_str(), created), ("p:alice", true));

        let reads = SyncReads::new(&dir.join("tegata.db"));
        let row = reads
            .pool_with_login("p:1", &alice)
            .expect("the synchronous read succeeded")
            .expect("the pool exists");
        assert_eq!(
            (row.pool.pool_id.as_str(), row.identity_id.as_deref()),
            ("p:1", Some("p:alice"))
        );
        let row = reads.pool_with_login("p:1", &bob).unwrap().unwrap();
        assert_eq!(row.identity_id, None);
        assert!(reads.pool_with_login("p:2", &alice).unwrap().is_none());

        let pool_row = reads.pool("p:1").unwrap().unwrap();
        assert_eq!(pool_row.pool_id, "p:1");
        assert!(reads.pool("p:2").unwrap().is_none());

        let rows = reads.identity_with_logins("p:alice").unwrap();
        let identity = rows::group_identities(rows).pop().unwrap();
        assert_eq!(
            (
                identity.pool_id.as_str(),
                identity.logins,
                identity.disabled
            ),
            ("p:1", vec!["login.test".to_owned()], false)
        );
        assert!(reads.identity_with_logins("p:nobody").unwrap().is_empty());

        assert_eq!(
            reads.identity_of_login("p:1", &alice).unwrap().as_deref(),
            Some("p:alice")
        );
        assert_eq!(reads.identity_of_login("p:1", &bob).unwrap(), None);
        // A write made meanwhile is seen by the same (now idle, cached) connections.
        store
            .find_or_create_identity("p:1", bob.clone(), "p:bob", 6)
            .await
            .unwrap();
        assert_eq!(
            reads.identity_of_login("p:1", &bob).unwrap().as_deref(),
            Some("p:bob")
        );
        assert_eq!(reads.counts(), (10, 0), "every read above was served here");

        // The store's own calls take this path, not the sqlx fallback.
        let fast = store
            .sync_reads
            .as_ref()
            .expect("SQLite reads synchronously");
        let before = fast.counts();
        let (found, linked) = store
            .identity_pool_with_login("p:1", bob.clone())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (found.id.as_str(), linked.as_deref()),
            ("p:1", Some("p:bob"))
        );
        assert!(store.identity_pool("p:1").await.unwrap().is_some());
        assert!(store.identity("p:bob").await.unwrap().is_some());
        assert_eq!(
            store
                .identity_of_login("p:1", bob)
                .await
                .unwrap()
                .as_deref(),
            Some("p:bob")
        );
        assert_eq!(fast.counts(), (before.0 + 4, 0));

        // A database that cannot be opened is a failure the caller falls back from, not a panic.
        let nowhere = SyncReads::new(&dir.join("missing").join("tegata.db"));
        assert!(nowhere.pool("p:1").is_none());
        assert!(nowhere.identity_of_login("p:1", &alice).is_none());
        assert_eq!(nowhere.counts(), (0, 2));
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn login_of(user_key: &str) -> Login<'_> {
        Login {
            provider: "login.test",
            user_key,
        }
    }
}
