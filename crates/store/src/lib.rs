//! tegata's stores: SQLite (the embedded default) and PostgreSQL (several nodes, one database).
//!
//! Both backends run the same SQL text (`$N` placeholders, Unix-second integers, 0/1 booleans,
//! `ON CONFLICT … DO NOTHING`); the one implementation below is instantiated for each by a macro,
//! so the two cannot drift apart. Only the schema files differ (BLOB vs BYTEA).

mod checkpointer;
mod identity_writer;
mod migrate;

use std::collections::HashSet;
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Database, Pool, Postgres, Row, Sqlite};
use tegata_core::UnixSeconds;
use tegata_core::account::{AccessKeyRecord, AccountRecord, Bootstrap};
use tegata_core::cognito_identity::{IdentityPool, IdentityPoolSpec, IdentityRecord, PoolSummary};
use tegata_core::iam::Role;
use tegata_core::store::{DeleteRoleOutcome, LinkOutcome, Login, Store, StoreError};
use tegata_core::tokens::keys::{KeyState, SigningKeyRecord};

use checkpointer::{CHECKPOINT_EVERY, Checkpointer, WRITER_FALLBACK_PAGES};
use identity_writer::{Creation, IdentityWriter, IdentityWrites, statement_sizes};

/// Identities deleted per statement when a pool is deleted (see `delete_identity_pool`).
const POOL_DELETION_SLICE: i64 = 256;

/// A store over one database, with a pool for reads and one for writes. For SQLite the write
/// pool has a single connection: SQLite admits one writer at a time anyway, and queueing writers
/// in-process avoids `SQLITE_BUSY` retries. For PostgreSQL both are the same pool.
pub struct SqlStore<DB: Database> {
    reader: Pool<DB>,
    writer: Pool<DB>,
    /// New identities go through here, written in groups (see `identity_writer`).
    identity_writer: IdentityWriter,
    /// SQLite only: WAL checkpoints on a connection of their own (see `checkpointer`).
    _checkpointer: Option<Checkpointer>,
}

pub type SqliteStore = SqlStore<Sqlite>;
pub type PostgresStore = SqlStore<Postgres>;

fn backend(e: sqlx::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

/// Open (creating if needed) the SQLite database `<data_dir>/tegata.db` and bring its schema up
/// to date.
pub async fn open_sqlite(data_dir: &Path) -> Result<SqliteStore, StoreError> {
    open_sqlite_checkpointing(data_dir, CHECKPOINT_EVERY).await
}

async fn open_sqlite_checkpointing(
    data_dir: &Path,
    checkpoint_every: Duration,
) -> Result<SqliteStore, StoreError> {
    let options = SqliteConnectOptions::new()
        .filename(data_dir.join("tegata.db"))
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // With WAL, NORMAL loses at most the last transactions on power loss, never consistency.
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(10))
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
    Ok(SqlStore {
        identity_writer: IdentityWriter::start(writer.clone()),
        _checkpointer: Some(Checkpointer::start(checkpoints, checkpoint_every)),
        reader,
        writer,
    })
}

/// Connect to PostgreSQL and bring its schema up to date (safe when several nodes start at once).
pub async fn open_postgres(url: &str) -> Result<PostgresStore, StoreError> {
    let options = PgConnectOptions::from_str(url).map_err(backend)?;
    let pool = PgPoolOptions::new()
        .max_connections(16)
        .connect_with(options)
        .await
        .map_err(backend)?;
    migrate::run_postgres(&pool).await?;
    Ok(SqlStore {
        identity_writer: IdentityWriter::start(pool.clone()),
        _checkpointer: None,
        reader: pool.clone(),
        writer: pool,
    })
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
        Some(other) => Err(StoreError::Backend(format!(
            "unsupported database URL scheme in '{}': use postgres://… (or no URL for the embedded SQLite store)",
            other.split("://").next().unwrap_or(other)
        ))),
        None => Ok(Arc::new(open_sqlite(data_dir).await?)),
    }
}

/// A pool from a row holding `pool_id, config, created_at, updated_at`.
fn pool_of_row<R: Row>(row: &R) -> Result<IdentityPool, StoreError>
where
    for<'r> &'r str: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let config: String = row.try_get("config").map_err(backend)?;
    Ok(IdentityPool {
        id: row.try_get("pool_id").map_err(backend)?,
        spec: serde_json::from_str::<IdentityPoolSpec>(&config).map_err(corrupt)?,
        created_at: row.try_get("created_at").map_err(backend)?,
        updated_at: row.try_get("updated_at").map_err(backend)?,
    })
}

fn key_state(raw: &str) -> Result<KeyState, StoreError> {
    KeyState::parse(raw).ok_or_else(|| corrupt(format!("unknown signing key state '{raw}'")))
}

/// Group `(identity row, provider)` join rows into identities with their distinct providers.
fn group_identities(
    rows: Vec<(String, String, i64, i64, i64, Option<String>)>,
) -> Vec<IdentityRecord> {
    let mut out: Vec<IdentityRecord> = Vec::new();
    for (identity_id, pool_id, disabled, created_at, updated_at, provider) in rows {
        if out
            .last()
            .is_none_or(|last| last.identity_id != identity_id)
        {
            out.push(IdentityRecord {
                identity_id,
                pool_id,
                logins: Vec::new(),
                created_at,
                updated_at,
                disabled: disabled != 0,
            });
        }
        let current = out.last_mut().expect("pushed above");
        if let Some(provider) = provider
            && !current.logins.contains(&provider)
        {
            current.logins.push(provider);
        }
    }
    out
}

const INSERT_IDENTITY: &str = "
    INSERT INTO identities (identity_id, pool_id, disabled, created_at, updated_at)
    VALUES ($1, $2, 0, $3, $3)";

/// Link a login unless it is linked already: the primary key decides races between callers.
const INSERT_LOGIN: &str = "
    INSERT INTO identity_logins (pool_id, provider, user_key, identity_id, created_at)
    VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (pool_id, provider, user_key) DO NOTHING";

const IDENTITY_OF_LOGIN: &str = "
    SELECT identity_id FROM identity_logins
    WHERE pool_id = $1 AND provider = $2 AND user_key = $3";

const IDENTITY_WITH_LOGINS: &str = "
    SELECT i.identity_id, i.pool_id, i.disabled, i.created_at, i.updated_at, l.provider
    FROM identities i LEFT JOIN identity_logins l ON l.identity_id = i.identity_id
    WHERE i.identity_id = $1
    ORDER BY l.provider";

const LIST_IDENTITIES: &str = "
    SELECT i.identity_id, i.pool_id, i.disabled, i.created_at, i.updated_at, l.provider
    FROM (SELECT * FROM identities
          WHERE pool_id = $1 AND identity_id > $2 AND ($4 = 0 OR disabled = 0)
          ORDER BY identity_id LIMIT $3) i
    LEFT JOIN identity_logins l ON l.identity_id = i.identity_id
    ORDER BY i.identity_id, l.provider";

const ROLE_COLUMNS: &str = "role_name, path, role_id, assume_role_policy_document, description,
    max_session_duration, tags, created_at";

fn role_from_row<R: Row>(row: &R) -> Result<Role, StoreError>
where
    for<'c> &'c str: sqlx::ColumnIndex<R>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let tags: String = row.try_get("tags").map_err(backend)?;
    Ok(Role {
        role_name: row.try_get("role_name").map_err(backend)?,
        path: row.try_get("path").map_err(backend)?,
        role_id: row.try_get("role_id").map_err(backend)?,
        assume_role_policy_document: row
            .try_get("assume_role_policy_document")
            .map_err(backend)?,
        description: row.try_get("description").map_err(backend)?,
        max_session_duration: row.try_get("max_session_duration").map_err(backend)?,
        tags: serde_json::from_str(&tags).map_err(corrupt)?,
        created_at: row.try_get("created_at").map_err(backend)?,
    })
}

fn role_key(name: &str) -> String {
    name.to_lowercase()
}

macro_rules! impl_store {
    ($db:ty) => {
        #[async_trait]
        impl IdentityWrites for Pool<$db> {
            async fn create_group(
                &self,
                group: &[Creation],
            ) -> Result<Vec<(String, bool)>, StoreError> {
                let mut tx = self.begin().await.map_err(backend)?;
                let mut linked = HashSet::with_capacity(group.len());
                let mut rest = group;
                for size in statement_sizes(group.len()) {
                    let (chunk, after) = rest.split_at(size);
                    rest = after;
                    let mut insert = sqlx::query(identity_writer::insert_identities_sql(size));
                    for creation in chunk {
                        insert = insert
                            .bind(&creation.candidate)
                            .bind(&creation.pool_id)
                            .bind(creation.now);
                    }
                    insert.execute(&mut *tx).await.map_err(backend)?;
                    let mut link = sqlx::query(identity_writer::insert_logins_sql(size));
                    for creation in chunk {
                        link = link
                            .bind(&creation.pool_id)
                            .bind(&creation.provider)
                            .bind(&creation.user_key)
                            .bind(&creation.candidate)
                            .bind(creation.now);
                    }
                    for row in link.fetch_all(&mut *tx).await.map_err(backend)? {
                        linked.insert(row.try_get::<String, _>("identity_id").map_err(backend)?);
                    }
                }
                // A candidate whose login was linked first (by another node, or by an earlier
                // creation in this group for the same user) is dropped; its caller gets the
                // identity that won.
                let mut results = Vec::with_capacity(group.len());
                for creation in group {
                    if linked.contains(&creation.candidate) {
                        results.push((creation.candidate.clone(), true));
                        continue;
                    }
                    sqlx::query("DELETE FROM identities WHERE identity_id = $1")
                        .bind(&creation.candidate)
                        .execute(&mut *tx)
                        .await
                        .map_err(backend)?;
                    let existing = sqlx::query(IDENTITY_OF_LOGIN)
                        .bind(&creation.pool_id)
                        .bind(&creation.provider)
                        .bind(&creation.user_key)
                        .fetch_one(&mut *tx)
                        .await
                        .map_err(backend)?;
                    results.push((existing.try_get("identity_id").map_err(backend)?, false));
                }
                tx.commit().await.map_err(backend)?;
                Ok(results)
            }
        }

        #[async_trait]
        impl Store for SqlStore<$db> {
            async fn bootstrap(&self, candidate: &Bootstrap) -> Result<Bootstrap, StoreError> {
                let mut tx = self.writer.begin().await.map_err(backend)?;
                // Whoever inserts the account row first wins; the others wait on the conflict
                // (PostgreSQL) or the write lock (SQLite) and then read the winner's rows.
                let inserted = sqlx::query(
                    "INSERT INTO account (singleton, account_id, created_at) VALUES (1, $1, $2)
                     ON CONFLICT (singleton) DO NOTHING",
                )
                .bind(&candidate.account.account_id)
                .bind(candidate.account.created_at)
                .execute(&mut *tx)
                .await
                .map_err(backend)?
                .rows_affected();
                if inserted == 1 {
                    let key = &candidate.admin_key;
                    sqlx::query(
                        "INSERT INTO access_keys (access_key_id, user_name, user_id, encrypted_secret,
                                                  master_key_id, active, created_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(&key.access_key_id)
                    .bind(&key.user_name)
                    .bind(&key.user_id)
                    .bind(&key.encrypted_secret)
                    .bind(&key.master_key_id)
                    .bind(i64::from(key.active))
                    .bind(key.created_at)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                    let sk = &candidate.signing_key;
                    sqlx::query(
                        "INSERT INTO signing_keys (kid, state, algorithm, encrypted_private_key,
                                                   master_key_id, created_at)
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(&sk.kid)
                    .bind(sk.state.as_str())
                    .bind(&sk.algorithm)
                    .bind(&sk.encrypted_private_key)
                    .bind(&sk.master_key_id)
                    .bind(sk.created_at)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                    tx.commit().await.map_err(backend)?;
                    return Ok(candidate.clone());
                }
                tx.rollback().await.map_err(backend)?;

                let row = sqlx::query("SELECT account_id, created_at FROM account WHERE singleton = 1")
                    .fetch_one(&self.writer)
                    .await
                    .map_err(backend)?;
                let account = AccountRecord {
                    account_id: row.try_get("account_id").map_err(backend)?,
                    created_at: row.try_get("created_at").map_err(backend)?,
                };
                let admin_row = sqlx::query(
                    "SELECT access_key_id FROM access_keys WHERE user_name = $1
                     ORDER BY created_at, access_key_id LIMIT 1",
                )
                .bind(tegata_core::account::ADMIN_USER_NAME)
                .fetch_one(&self.writer)
                .await
                .map_err(backend)?;
                let admin_id: String = admin_row.try_get("access_key_id").map_err(backend)?;
                let admin_key = self
                    .access_key(&admin_id)
                    .await?
                    .ok_or_else(|| corrupt("the administrator access key vanished"))?;
                let signing_key = self
                    .signing_keys()
                    .await?
                    .into_iter()
                    .next()
                    .ok_or_else(|| corrupt("the deployment has no signing key"))?;
                Ok(Bootstrap {
                    account,
                    admin_key,
                    signing_key,
                })
            }

            async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>, StoreError> {
                let rows = sqlx::query(
                    "SELECT kid, state, algorithm, encrypted_private_key, master_key_id, created_at
                     FROM signing_keys ORDER BY created_at, kid",
                )
                .fetch_all(&self.reader)
                .await
                .map_err(backend)?;
                rows.iter()
                    .map(|row| {
                        let state: String = row.try_get("state").map_err(backend)?;
                        Ok(SigningKeyRecord {
                            kid: row.try_get("kid").map_err(backend)?,
                            state: key_state(&state)?,
                            algorithm: row.try_get("algorithm").map_err(backend)?,
                            encrypted_private_key: row
                                .try_get("encrypted_private_key")
                                .map_err(backend)?,
                            master_key_id: row.try_get("master_key_id").map_err(backend)?,
                            created_at: row.try_get("created_at").map_err(backend)?,
                        })
                    })
                    .collect()
            }

            async fn access_key(
                &self,
                access_key_id: &str,
            ) -> Result<Option<AccessKeyRecord>, StoreError> {
                let row = sqlx::query(
                    "SELECT access_key_id, user_name, user_id, encrypted_secret, master_key_id,
                            active, created_at
                     FROM access_keys WHERE access_key_id = $1",
                )
                .bind(access_key_id)
                .fetch_optional(&self.reader)
                .await
                .map_err(backend)?;
                row.map(|row| {
                    Ok(AccessKeyRecord {
                        access_key_id: row.try_get("access_key_id").map_err(backend)?,
                        user_name: row.try_get("user_name").map_err(backend)?,
                        user_id: row.try_get("user_id").map_err(backend)?,
                        encrypted_secret: row.try_get("encrypted_secret").map_err(backend)?,
                        master_key_id: row.try_get("master_key_id").map_err(backend)?,
                        active: row.try_get::<i64, _>("active").map_err(backend)? != 0,
                        created_at: row.try_get("created_at").map_err(backend)?,
                    })
                })
                .transpose()
            }

            async fn count_identity_pools(&self) -> Result<u64, StoreError> {
                let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM identity_pools")
                    .fetch_one(&self.reader)
                    .await
                    .map_err(backend)?
                    .try_get("n")
                    .map_err(backend)?;
                Ok(n.max(0) as u64)
            }

            async fn insert_identity_pool(&self, pool: &IdentityPool) -> Result<(), StoreError> {
                let config = serde_json::to_string(&pool.spec).map_err(corrupt)?;
                sqlx::query(
                    "INSERT INTO identity_pools (pool_id, name, config, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(&pool.id)
                .bind(&pool.spec.name)
                .bind(config)
                .bind(pool.created_at)
                .bind(pool.updated_at)
                .execute(&self.writer)
                .await
                .map_err(backend)?;
                Ok(())
            }

            async fn identity_pool(&self, pool_id: &str) -> Result<Option<IdentityPool>, StoreError> {
                let row = sqlx::query(
                    "SELECT pool_id, config, created_at, updated_at FROM identity_pools
                     WHERE pool_id = $1",
                )
                .bind(pool_id)
                .fetch_optional(&self.reader)
                .await
                .map_err(backend)?;
                row.map(|row| pool_of_row(&row)).transpose()
            }

            async fn identity_pool_with_login(
                &self,
                pool_id: &str,
                login: Login<'_>,
            ) -> Result<Option<(IdentityPool, Option<String>)>, StoreError> {
                let row = sqlx::query(
                    "SELECT p.pool_id, p.config, p.created_at, p.updated_at, l.identity_id
                     FROM identity_pools p LEFT JOIN identity_logins l
                       ON l.pool_id = p.pool_id AND l.provider = $2 AND l.user_key = $3
                     WHERE p.pool_id = $1",
                )
                .bind(pool_id)
                .bind(login.provider)
                .bind(login.user_key)
                .fetch_optional(&self.reader)
                .await
                .map_err(backend)?;
                row.map(|row| {
                    let identity_id: Option<String> =
                        row.try_get("identity_id").map_err(backend)?;
                    Ok((pool_of_row(&row)?, identity_id))
                })
                .transpose()
            }

            async fn replace_identity_pool(&self, pool: &IdentityPool) -> Result<bool, StoreError> {
                let config = serde_json::to_string(&pool.spec).map_err(corrupt)?;
                let updated = sqlx::query(
                    "UPDATE identity_pools SET name = $2, config = $3, updated_at = $4
                     WHERE pool_id = $1",
                )
                .bind(&pool.id)
                .bind(&pool.spec.name)
                .bind(config)
                .bind(pool.updated_at)
                .execute(&self.writer)
                .await
                .map_err(backend)?
                .rows_affected();
                Ok(updated == 1)
            }

            async fn delete_identity_pool(&self, pool_id: &str) -> Result<bool, StoreError> {
                let mut tx = self.writer.begin().await.map_err(backend)?;
                // The pool's identities go a slice at a time, all in the one transaction (the
                // deletion stays all or nothing). SQLite keeps, for a statement that may fail
                // halfway through a transaction, a journal of every page it changes, and the
                // writer keeps that journal in memory (see `open_sqlite`): one DELETE over a
                // pool of 300 000 identities raised the peak RSS by 40 MB. A slice's journal
                // is bounded by its rows' pages.
                // Each slice's logins go first: they refer to its identities.
                loop {
                    sqlx::query(
                        "DELETE FROM identity_logins WHERE identity_id IN (SELECT identity_id
                         FROM identities WHERE pool_id = $1 ORDER BY identity_id LIMIT $2)",
                    )
                    .bind(pool_id)
                    .bind(POOL_DELETION_SLICE)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                    let identities_deleted = sqlx::query(
                        "DELETE FROM identities WHERE identity_id IN (SELECT identity_id
                         FROM identities WHERE pool_id = $1 ORDER BY identity_id LIMIT $2)",
                    )
                    .bind(pool_id)
                    .bind(POOL_DELETION_SLICE)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?
                    .rows_affected();
                    if identities_deleted == 0 {
                        break;
                    }
                }
                let deleted = sqlx::query("DELETE FROM identity_pools WHERE pool_id = $1")
                    .bind(pool_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?
                    .rows_affected();
                tx.commit().await.map_err(backend)?;
                Ok(deleted == 1)
            }

            async fn list_identity_pools(
                &self,
                after: Option<&str>,
                limit: u32,
            ) -> Result<Vec<PoolSummary>, StoreError> {
                let rows = sqlx::query(
                    "SELECT pool_id, name FROM identity_pools WHERE pool_id > $1
                     ORDER BY pool_id LIMIT $2",
                )
                .bind(after.unwrap_or(""))
                .bind(i64::from(limit))
                .fetch_all(&self.reader)
                .await
                .map_err(backend)?;
                rows.iter()
                    .map(|row| {
                        Ok(PoolSummary {
                            id: row.try_get("pool_id").map_err(backend)?,
                            name: row.try_get("name").map_err(backend)?,
                        })
                    })
                    .collect()
            }

            async fn find_or_create_identity(
                &self,
                pool_id: &str,
                login: Login<'_>,
                new_identity_id: &str,
                now: UnixSeconds,
            ) -> Result<(String, bool), StoreError> {
                self.identity_writer
                    .find_or_create(pool_id, login.provider, login.user_key, new_identity_id, now)
                    .await
            }

            async fn link_login(
                &self,
                pool_id: &str,
                identity_id: &str,
                login: Login<'_>,
                now: UnixSeconds,
            ) -> Result<LinkOutcome, StoreError> {
                let mut tx = self.writer.begin().await.map_err(backend)?;
                let owner = sqlx::query("SELECT pool_id FROM identities WHERE identity_id = $1")
                    .bind(identity_id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(backend)?;
                let owner_pool: Option<String> = owner
                    .map(|row| row.try_get("pool_id"))
                    .transpose()
                    .map_err(backend)?;
                if owner_pool.as_deref() != Some(pool_id) {
                    tx.rollback().await.map_err(backend)?;
                    return Ok(LinkOutcome::IdentityNotFound);
                }
                let linked = sqlx::query(INSERT_LOGIN)
                .bind(pool_id)
                .bind(login.provider)
                .bind(login.user_key)
                .bind(identity_id)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(backend)?
                .rows_affected();
                if linked == 1 {
                    sqlx::query("UPDATE identities SET updated_at = $2 WHERE identity_id = $1")
                        .bind(identity_id)
                        .bind(now)
                        .execute(&mut *tx)
                        .await
                        .map_err(backend)?;
                    tx.commit().await.map_err(backend)?;
                    return Ok(LinkOutcome::Linked);
                }
                let current: String = sqlx::query(IDENTITY_OF_LOGIN)
                .bind(pool_id)
                .bind(login.provider)
                .bind(login.user_key)
                .fetch_one(&mut *tx)
                .await
                .map_err(backend)?
                .try_get("identity_id")
                .map_err(backend)?;
                tx.rollback().await.map_err(backend)?;
                Ok(if current == identity_id {
                    LinkOutcome::Linked
                } else {
                    LinkOutcome::AlreadyLinkedElsewhere(current)
                })
            }

            async fn identity_of_login(
                &self,
                pool_id: &str,
                login: Login<'_>,
            ) -> Result<Option<String>, StoreError> {
                let row = sqlx::query(IDENTITY_OF_LOGIN)
                .bind(pool_id)
                .bind(login.provider)
                .bind(login.user_key)
                .fetch_optional(&self.reader)
                .await
                .map_err(backend)?;
                row.map(|row| row.try_get("identity_id"))
                    .transpose()
                    .map_err(backend)
            }

            async fn identity(&self, identity_id: &str) -> Result<Option<IdentityRecord>, StoreError> {
                let rows = sqlx::query(IDENTITY_WITH_LOGINS)
                    .bind(identity_id)
                    .fetch_all(&self.reader)
                    .await
                    .map_err(backend)?;
                let rows = rows
                    .iter()
                    .map(|row| {
                        Ok((
                            row.try_get("identity_id")?,
                            row.try_get("pool_id")?,
                            row.try_get("disabled")?,
                            row.try_get("created_at")?,
                            row.try_get("updated_at")?,
                            row.try_get("provider")?,
                        ))
                    })
                    .collect::<Result<Vec<_>, sqlx::Error>>()
                    .map_err(backend)?;
                Ok(group_identities(rows).into_iter().next())
            }

            async fn list_identities(
                &self,
                pool_id: &str,
                after: Option<&str>,
                limit: u32,
                hide_disabled: bool,
            ) -> Result<Vec<IdentityRecord>, StoreError> {
                let rows = sqlx::query(LIST_IDENTITIES)
                    .bind(pool_id)
                    .bind(after.unwrap_or(""))
                    .bind(i64::from(limit))
                    .bind(i64::from(hide_disabled))
                    .fetch_all(&self.reader)
                    .await
                    .map_err(backend)?;
                let rows = rows
                    .iter()
                    .map(|row| {
                        Ok((
                            row.try_get("identity_id")?,
                            row.try_get("pool_id")?,
                            row.try_get("disabled")?,
                            row.try_get("created_at")?,
                            row.try_get("updated_at")?,
                            row.try_get("provider")?,
                        ))
                    })
                    .collect::<Result<Vec<_>, sqlx::Error>>()
                    .map_err(backend)?;
                Ok(group_identities(rows))
            }

            async fn user_keys_of_identity(
                &self,
                identity_id: &str,
                provider: &str,
                after: Option<&str>,
                limit: u32,
            ) -> Result<Vec<String>, StoreError> {
                let rows = sqlx::query(
                    "SELECT user_key FROM identity_logins
                     WHERE identity_id = $1 AND provider = $2 AND user_key > $3
                     ORDER BY user_key LIMIT $4",
                )
                .bind(identity_id)
                .bind(provider)
                .bind(after.unwrap_or(""))
                .bind(i64::from(limit))
                .fetch_all(&self.reader)
                .await
                .map_err(backend)?;
                rows.iter()
                    .map(|row| row.try_get("user_key").map_err(backend))
                    .collect()
            }

            async fn insert_role(&self, role: &Role) -> Result<bool, StoreError> {
                let tags = serde_json::to_string(&role.tags).map_err(corrupt)?;
                let inserted = sqlx::query(
                    "INSERT INTO roles (role_key, role_name, path, role_id, assume_role_policy_document,
                                        description, max_session_duration, tags, created_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                     ON CONFLICT (role_key) DO NOTHING",
                )
                .bind(role_key(&role.role_name))
                .bind(&role.role_name)
                .bind(&role.path)
                .bind(&role.role_id)
                .bind(&role.assume_role_policy_document)
                .bind(&role.description)
                .bind(role.max_session_duration)
                .bind(tags)
                .bind(role.created_at)
                .execute(&self.writer)
                .await
                .map_err(backend)?
                .rows_affected();
                Ok(inserted == 1)
            }

            async fn role(&self, role_name: &str) -> Result<Option<Role>, StoreError> {
                let sql = sqlx::AssertSqlSafe(format!(
                    "SELECT {ROLE_COLUMNS} FROM roles WHERE role_key = $1"
                ));
                let row = sqlx::query(sql)
                    .bind(role_key(role_name))
                    .fetch_optional(&self.reader)
                    .await
                    .map_err(backend)?;
                row.as_ref().map(role_from_row).transpose()
            }

            async fn update_role(
                &self,
                role_name: &str,
                description: Option<&str>,
                max_session_duration: Option<i64>,
            ) -> Result<bool, StoreError> {
                // Each column keeps its stored value unless the call gives a new one, in the one
                // statement: no value read earlier is written back.
                let updated = sqlx::query(
                    "UPDATE roles SET description = COALESCE($2, description),
                                      max_session_duration = COALESCE($3, max_session_duration)
                     WHERE role_key = $1",
                )
                .bind(role_key(role_name))
                .bind(description)
                .bind(max_session_duration)
                .execute(&self.writer)
                .await
                .map_err(backend)?
                .rows_affected();
                Ok(updated == 1)
            }

            async fn update_assume_role_policy(
                &self,
                role_name: &str,
                document: &str,
            ) -> Result<bool, StoreError> {
                let updated = sqlx::query(
                    "UPDATE roles SET assume_role_policy_document = $2 WHERE role_key = $1",
                )
                .bind(role_key(role_name))
                .bind(document)
                .execute(&self.writer)
                .await
                .map_err(backend)?
                .rows_affected();
                Ok(updated == 1)
            }

            async fn delete_role(&self, role_name: &str) -> Result<DeleteRoleOutcome, StoreError> {
                let key = role_key(role_name);
                let mut tx = self.writer.begin().await.map_err(backend)?;
                let policies: i64 = sqlx::query("SELECT COUNT(*) AS n FROM role_policies WHERE role_key = $1")
                    .bind(&key)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(backend)?
                    .try_get("n")
                    .map_err(backend)?;
                let exists = sqlx::query("SELECT role_key FROM roles WHERE role_key = $1")
                    .bind(&key)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(backend)?
                    .is_some();
                let outcome = if !exists {
                    DeleteRoleOutcome::NotFound
                } else if policies > 0 {
                    DeleteRoleOutcome::HasPolicies
                } else {
                    sqlx::query("DELETE FROM roles WHERE role_key = $1")
                        .bind(&key)
                        .execute(&mut *tx)
                        .await
                        .map_err(backend)?;
                    DeleteRoleOutcome::Deleted
                };
                tx.commit().await.map_err(backend)?;
                Ok(outcome)
            }

            async fn list_roles(
                &self,
                path_prefix: &str,
                after: Option<&str>,
                limit: u32,
            ) -> Result<Vec<Role>, StoreError> {
                // The prefix is compared with substr, not LIKE, so `_` and `%` in paths are
                // plain characters.
                let sql = sqlx::AssertSqlSafe(format!(
                    "SELECT {ROLE_COLUMNS} FROM roles
                     WHERE substr(path, 1, length($1)) = $1 AND role_key > $2
                     ORDER BY role_key LIMIT $3"
                ));
                let rows = sqlx::query(sql)
                    .bind(path_prefix)
                    .bind(after.unwrap_or(""))
                    .bind(i64::from(limit))
                    .fetch_all(&self.reader)
                    .await
                    .map_err(backend)?;
                rows.iter().map(role_from_row).collect()
            }

            async fn put_role_policy(
                &self,
                role_name: &str,
                policy_name: &str,
                document: &str,
            ) -> Result<bool, StoreError> {
                let key = role_key(role_name);
                let mut tx = self.writer.begin().await.map_err(backend)?;
                let exists = sqlx::query("SELECT role_key FROM roles WHERE role_key = $1")
                    .bind(&key)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(backend)?
                    .is_some();
                if exists {
                    sqlx::query(
                        "INSERT INTO role_policies (role_key, policy_name, document) VALUES ($1, $2, $3)
                         ON CONFLICT (role_key, policy_name) DO UPDATE SET document = $3",
                    )
                    .bind(&key)
                    .bind(policy_name)
                    .bind(document)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                }
                tx.commit().await.map_err(backend)?;
                Ok(exists)
            }

            async fn role_policy(
                &self,
                role_name: &str,
                policy_name: &str,
            ) -> Result<Option<String>, StoreError> {
                let row = sqlx::query(
                    "SELECT document FROM role_policies WHERE role_key = $1 AND policy_name = $2",
                )
                .bind(role_key(role_name))
                .bind(policy_name)
                .fetch_optional(&self.reader)
                .await
                .map_err(backend)?;
                row.map(|r| r.try_get("document")).transpose().map_err(backend)
            }

            async fn delete_role_policy(
                &self,
                role_name: &str,
                policy_name: &str,
            ) -> Result<bool, StoreError> {
                let deleted = sqlx::query(
                    "DELETE FROM role_policies WHERE role_key = $1 AND policy_name = $2",
                )
                .bind(role_key(role_name))
                .bind(policy_name)
                .execute(&self.writer)
                .await
                .map_err(backend)?
                .rows_affected();
                Ok(deleted == 1)
            }

            async fn list_role_policies(
                &self,
                role_name: &str,
                after: Option<&str>,
                limit: u32,
            ) -> Result<Vec<String>, StoreError> {
                let rows = sqlx::query(
                    "SELECT policy_name FROM role_policies WHERE role_key = $1 AND policy_name > $2
                     ORDER BY policy_name LIMIT $3",
                )
                .bind(role_key(role_name))
                .bind(after.unwrap_or(""))
                .bind(i64::from(limit))
                .fetch_all(&self.reader)
                .await
                .map_err(backend)?;
                rows.iter()
                    .map(|row| row.try_get("policy_name").map_err(backend))
                    .collect()
            }
        }
    };
}

impl_store!(Sqlite);
impl_store!(Postgres);

#[cfg(feature = "prefill")]
impl SqliteStore {
    /// Create many developer identities at once, in batched transactions, for benchmarks that
    /// need a large pool fast: `(identity id, developer user id)` pairs, all new. Not part of the
    /// store's trait: nothing but the benchmark needs it.
    pub async fn prefill_identities(
        &self,
        pool_id: &str,
        provider: &str,
        identities: &[(String, String)],
        now: UnixSeconds,
    ) -> Result<(), StoreError> {
        for batch in identities.chunks(5_000) {
            let mut tx = self.writer.begin().await.map_err(backend)?;
            for (identity_id, user) in batch {
                sqlx::query(INSERT_IDENTITY)
                    .bind(identity_id)
                    .bind(pool_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                sqlx::query(INSERT_LOGIN)
                    .bind(pool_id)
                    .bind(provider)
                    .bind(user)
                    .bind(identity_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
            }
            tx.commit().await.map_err(backend)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tegata_core::cognito_identity::IdentityPoolSpec;

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
        let writer = store.writer.clone();
        group_of_creations(store, &writer).await;
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn group_of_creations_on_postgres() {
        let cluster = tegata_testkit::PgCluster::start();
        let store = open_postgres(&cluster.create_database()).await.unwrap();
        let writer = store.writer.clone();
        group_of_creations(store, &writer).await;
    }

    /// The writer's statement journals stay in memory (`temp_store = MEMORY`, reported as 2):
    /// a group of creations must not create, write and unlink a temporary file.
    #[tokio::test]
    async fn the_writer_keeps_statement_journals_in_memory() {
        let dir = scratch_dir("tmp");
        let store = open_sqlite(&dir).await.unwrap();
        let (writer_mode,): (i64,) = sqlx::query_as("PRAGMA temp_store")
            .fetch_one(&store.writer)
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
}
