//! Versioned schema migrations, embedded in the binary.
//!
//! A small table `tegata_schema` records applied versions. A database that has a version this
//! binary does not know was migrated by a newer tegata: refusing to start is the only safe answer,
//! since an older binary cannot know what the newer schema means.

use sqlx::{Pool, Postgres, Row, Sqlite};
use tegata_core::store::StoreError;

use crate::backend;

struct Migration {
    version: i64,
    description: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "initial schema",
        sqlite: include_str!("../migrations/sqlite/0001_initial.sql"),
        postgres: include_str!("../migrations/postgres/0001_initial.sql"),
    },
    Migration {
        version: 2,
        description: "IAM roles and inline policies",
        sqlite: include_str!("../migrations/sqlite/0002_roles.sql"),
        postgres: include_str!("../migrations/postgres/0002_roles.sql"),
    },
    Migration {
        version: 3,
        description: "roles and principal tag maps of identity pools",
        sqlite: include_str!("../migrations/sqlite/0003_pool_roles.sql"),
        postgres: include_str!("../migrations/postgres/0003_pool_roles.sql"),
    },
    Migration {
        version: 4,
        description: "IAM OpenID Connect providers",
        sqlite: include_str!("../migrations/sqlite/0004_oidc_providers.sql"),
        postgres: include_str!("../migrations/postgres/0004_oidc_providers.sql"),
    },
    Migration {
        version: 5,
        description: "IAM users, groups, managed policies and attachments",
        sqlite: include_str!("../migrations/sqlite/0005_permissions.sql"),
        postgres: include_str!("../migrations/postgres/0005_permissions.sql"),
    },
    Migration {
        version: 6,
        description: "the credential broker's application users",
        sqlite: include_str!("../migrations/sqlite/0006_app_users.sql"),
        postgres: include_str!("../migrations/postgres/0006_app_users.sql"),
    },
    Migration {
        version: 7,
        description: "when each role was last used",
        sqlite: include_str!("../migrations/sqlite/0007_role_last_used.sql"),
        postgres: include_str!("../migrations/postgres/0007_role_last_used.sql"),
    },
    Migration {
        version: 8,
        description: "the signing keys' lifecycle",
        sqlite: include_str!("../migrations/sqlite/0008_signing_key_lifecycle.sql"),
        postgres: include_str!("../migrations/postgres/0008_signing_key_lifecycle.sql"),
    },
    Migration {
        version: 9,
        description: "revoked sessions of identities and pools",
        sqlite: include_str!("../migrations/sqlite/0009_session_revocations.sql"),
        postgres: include_str!("../migrations/postgres/0009_session_revocations.sql"),
    },
];

const CREATE_SCHEMA_TABLE: &str = "CREATE TABLE IF NOT EXISTS tegata_schema (
    version      BIGINT PRIMARY KEY,
    description  TEXT NOT NULL,
    applied_at   BIGINT NOT NULL
)";

/// The newest schema version this binary knows.
pub(crate) fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn check_not_newer(applied: i64) -> Result<(), StoreError> {
    if applied > latest_version() {
        return Err(StoreError::SchemaTooNew(format!(
            "the database is at schema version {applied}, this binary knows up to {}; \
             upgrade tegata",
            latest_version()
        )));
    }
    Ok(())
}

macro_rules! run_migrations {
    ($pool:expr, $field:ident, $lock:expr, $up_to:expr) => {{
        let pool = $pool;
        loop {
            let mut tx = pool.begin().await.map_err(backend)?;
            if let Some(lock) = $lock {
                // Serialise nodes that start at the same moment.
                sqlx::query(lock).execute(&mut *tx).await.map_err(backend)?;
            }
            sqlx::query(CREATE_SCHEMA_TABLE)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            let applied: i64 =
                sqlx::query("SELECT COALESCE(MAX(version), 0) AS v FROM tegata_schema")
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(backend)?
                    .try_get("v")
                    .map_err(backend)?;
            check_not_newer(applied)?;
            let Some(next) = MIGRATIONS
                .iter()
                .find(|m| m.version > applied && m.version <= $up_to)
            else {
                tx.commit().await.map_err(backend)?;
                return Ok(());
            };
            sqlx::raw_sql(next.$field)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            sqlx::query(
                "INSERT INTO tegata_schema (version, description, applied_at) VALUES ($1, $2, $3)",
            )
            .bind(next.version)
            .bind(next.description)
            .bind(now())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
            tx.commit().await.map_err(backend)?;
            tracing::info!(
                version = next.version,
                description = next.description,
                "applied schema migration"
            );
        }
    }};
}

pub(crate) async fn run_sqlite(pool: &Pool<Sqlite>) -> Result<(), StoreError> {
    run_sqlite_up_to(pool, latest_version()).await
}

/// Migrate up to `version` only: tests build a database as an older tegata left it.
pub(crate) async fn run_sqlite_up_to(pool: &Pool<Sqlite>, version: i64) -> Result<(), StoreError> {
    run_migrations!(pool, sqlite, None::<&'static str>, version)
}

pub(crate) async fn run_postgres(pool: &Pool<Postgres>) -> Result<(), StoreError> {
    // An arbitrary constant key for the advisory lock: "tegata" in ASCII.
    run_migrations!(
        pool,
        postgres,
        Some("SELECT pg_advisory_xact_lock(116101103097116097)"),
        latest_version()
    )
}
