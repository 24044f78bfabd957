//! Identity pools. A pool's configuration is one JSON column: UpdateIdentityPool replaces it
//! whole, as AWS does, so there is no partial update to lose.

use std::collections::BTreeMap;

use async_trait::async_trait;
use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, Type};
use tegata_core::UnixSeconds;
use tegata_core::cognito_identity::{IdentityPool, PoolRoles, PoolSummary, PrincipalTagMap};
use tegata_core::store::{Login, PoolStore, StoreError};

use crate::rows::{Count, PoolRow, PoolSummaryRow, PoolWithLoginRow, Text};
use crate::{POOL_DELETION_SLICE, RowsAffected, SqlStore, backend, corrupt};

/// How often SetPrincipalTagAttributeMap recomputes its update when other writers came first.
const PRINCIPAL_TAG_MAP_ATTEMPTS: usize = 8;

/// A pool (also read synchronously on SQLite: `sync_reads`).
pub(crate) const POOL: &str = "
    SELECT pool_id, config, roles, principal_tag_maps, created_at, updated_at FROM identity_pools
    WHERE pool_id = $1";

/// A pool and the identity a login is linked to in it (also read synchronously on SQLite).
pub(crate) const POOL_WITH_LOGIN: &str = "
    SELECT p.pool_id, p.config, p.roles, p.principal_tag_maps, p.created_at, p.updated_at,
           l.identity_id
    FROM identity_pools p LEFT JOIN identity_logins l
      ON l.pool_id = p.pool_id AND l.provider = $2 AND l.user_key = $3
    WHERE p.pool_id = $1";

#[async_trait]
impl<DB> PoolStore for SqlStore<DB>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    DB::QueryResult: RowsAffected,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    i64: for<'q> Encode<'q, DB> + Type<DB>,
    for<'r> Count: FromRow<'r, DB::Row>,
    for<'r> PoolRow: FromRow<'r, DB::Row>,
    for<'r> PoolWithLoginRow: FromRow<'r, DB::Row>,
    for<'r> PoolSummaryRow: FromRow<'r, DB::Row>,
    for<'r> Text: FromRow<'r, DB::Row>,
{
    async fn count_identity_pools(&self) -> Result<u64, StoreError> {
        let Count(n) = sqlx::query_as("SELECT COUNT(*) FROM identity_pools")
            .fetch_one(&self.reader)
            .await
            .map_err(backend)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn insert_identity_pool(&self, pool: &IdentityPool) -> Result<(), StoreError> {
        let config = serde_json::to_string(&pool.spec).map_err(corrupt)?;
        let roles = serde_json::to_string(&pool.roles).map_err(corrupt)?;
        let tag_maps = serde_json::to_string(&pool.principal_tag_maps).map_err(corrupt)?;
        sqlx::query(
            "INSERT INTO identity_pools
                 (pool_id, name, config, roles, principal_tag_maps, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(pool.id.as_str())
        .bind(pool.spec.name.as_str())
        .bind(config.as_str())
        .bind(roles.as_str())
        .bind(tag_maps.as_str())
        .bind(pool.created_at)
        .bind(pool.updated_at)
        .execute(&*self.writer.turn().await)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn identity_pool(&self, pool_id: &str) -> Result<Option<IdentityPool>, StoreError> {
        let row: Option<PoolRow> = self
            .read_fast_or_through_sqlx(
                |fast| fast.pool(pool_id),
                || {
                    sqlx::query_as(POOL)
                        .bind(pool_id)
                        .fetch_optional(&self.reader)
                },
            )
            .await?;
        row.map(TryInto::try_into).transpose()
    }

    async fn identity_pool_with_login(
        &self,
        pool_id: &str,
        login: Login<'_>,
    ) -> Result<Option<(IdentityPool, Option<String>)>, StoreError> {
        let row: Option<PoolWithLoginRow> = self
            .read_fast_or_through_sqlx(
                |fast| fast.pool_with_login(pool_id, &login),
                || {
                    sqlx::query_as(POOL_WITH_LOGIN)
                        .bind(pool_id)
                        .bind(login.provider)
                        .bind(login.user_key)
                        .fetch_optional(&self.reader)
                },
            )
            .await?;
        row.map(|row| Ok((row.pool.try_into()?, row.identity_id)))
            .transpose()
    }

    async fn replace_identity_pool(
        &self,
        current: &IdentityPool,
        new: &IdentityPool,
    ) -> Result<bool, StoreError> {
        let old_config = serde_json::to_string(&current.spec).map_err(corrupt)?;
        let config = serde_json::to_string(&new.spec).map_err(corrupt)?;
        let updated = sqlx::query(
            "UPDATE identity_pools SET name = $3, config = $4, updated_at = $5
             WHERE pool_id = $1 AND config = $2",
        )
        .bind(current.id.as_str())
        .bind(old_config.as_str())
        .bind(new.spec.name.as_str())
        .bind(config.as_str())
        .bind(new.updated_at)
        .execute(&*self.writer.turn().await)
        .await
        .map_err(backend)?
        .rows_affected();
        Ok(updated == 1)
    }

    async fn set_identity_pool_roles(
        &self,
        pool_id: &str,
        roles: &PoolRoles,
        now: UnixSeconds,
    ) -> Result<bool, StoreError> {
        let roles = serde_json::to_string(roles).map_err(corrupt)?;
        let updated =
            sqlx::query("UPDATE identity_pools SET roles = $2, updated_at = $3 WHERE pool_id = $1")
                .bind(pool_id)
                .bind(roles.as_str())
                .bind(now)
                .execute(&*self.writer.turn().await)
                .await
                .map_err(backend)?
                .rows_affected();
        Ok(updated == 1)
    }

    async fn set_principal_tag_map(
        &self,
        pool_id: &str,
        provider: &str,
        map: &PrincipalTagMap,
        now: UnixSeconds,
    ) -> Result<bool, StoreError> {
        // Compare and swap, so that maps of other providers set meanwhile stay: the update
        // applies only to the text it was computed from, and is computed again when another
        // writer came first (PostgreSQL's READ COMMITTED would otherwise let the later writer
        // undo the earlier).
        for _ in 0..PRINCIPAL_TAG_MAP_ATTEMPTS {
            let current: Option<Text> =
                sqlx::query_as("SELECT principal_tag_maps FROM identity_pools WHERE pool_id = $1")
                    .bind(pool_id)
                    .fetch_optional(&*self.writer.turn().await)
                    .await
                    .map_err(backend)?;
            let Some(Text(current)) = current else {
                return Ok(false);
            };
            let mut maps: BTreeMap<String, PrincipalTagMap> =
                serde_json::from_str(&current).map_err(corrupt)?;
            maps.insert(provider.to_owned(), map.clone());
            let text = serde_json::to_string(&maps).map_err(corrupt)?;
            let swapped = sqlx::query(
                "UPDATE identity_pools SET principal_tag_maps = $3, updated_at = $4
                 WHERE pool_id = $1 AND principal_tag_maps = $2",
            )
            .bind(pool_id)
            .bind(current.as_str())
            .bind(text.as_str())
            .bind(now)
            .execute(&*self.writer.turn().await)
            .await
            .map_err(backend)?
            .rows_affected();
            if swapped == 1 {
                return Ok(true);
            }
        }
        Err(StoreError::ConcurrentModification)
    }

    async fn delete_identity_pool(&self, pool_id: &str) -> Result<bool, StoreError> {
        let mut tx = self.writer.begin().await.map_err(backend)?;
        // The pool's identities go a slice at a time, all in the one transaction (the deletion
        // stays all or nothing). SQLite keeps, for a statement that may fail halfway through a
        // transaction, a journal of every page it changes, and the writer keeps that journal in
        // memory (see `open_sqlite`): one DELETE over a pool of 300 000 identities raised the
        // peak RSS by 40 MB. A slice's journal is bounded by its rows' pages.
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
        let rows: Vec<PoolSummaryRow> = sqlx::query_as(
            "SELECT pool_id, name FROM identity_pools WHERE pool_id > $1
             ORDER BY pool_id LIMIT $2",
        )
        .bind(after.unwrap_or_default())
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await
        .map_err(backend)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }
}
