//! Identities and their linked logins, and the group writer's transactions (see
//! `identity_writer` for why new identities are written in groups).

use std::collections::HashSet;

use async_trait::async_trait;
use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, Pool, Type};
use tegata_core::UnixSeconds;
use tegata_core::cognito_identity::IdentityRecord;
use tegata_core::store::{IdentityStore, LinkOutcome, Login, StoreError};

use crate::identity_writer::{self, Creation, IdentityWrites, statement_sizes};
use crate::rows::{Count, IdentityLoginRow, Text, group_identities};
use crate::write_turn::WriteTransaction;
use crate::{RowsAffected, SqlStore, backend};

/// Link a login unless it is linked already: the primary key decides races between callers.
pub(crate) const INSERT_LOGIN: &str = "
    INSERT INTO identity_logins (pool_id, provider, user_key, identity_id, created_at)
    VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (pool_id, provider, user_key) DO NOTHING";

/// Whose a login is (also read synchronously on SQLite: `sync_reads`).
pub(crate) const IDENTITY_OF_LOGIN: &str = "
    SELECT identity_id FROM identity_logins
    WHERE pool_id = $1 AND provider = $2 AND user_key = $3";

/// An identity with its logins (also read synchronously on SQLite).
pub(crate) const IDENTITY_WITH_LOGINS: &str = "
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

#[async_trait]
impl<DB> IdentityStore for SqlStore<DB>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    DB::QueryResult: RowsAffected,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    i64: for<'q> Encode<'q, DB> + Type<DB>,
    for<'r> Text: FromRow<'r, DB::Row>,
    for<'r> Count: FromRow<'r, DB::Row>,
    for<'r> IdentityLoginRow: FromRow<'r, DB::Row>,
{
    async fn find_or_create_identity(
        &self,
        pool_id: &str,
        login: Login<'_>,
        new_identity_id: &str,
        now: UnixSeconds,
    ) -> Result<(String, bool), StoreError> {
        self.identity_writer
            .find_or_create(
                pool_id,
                login.provider,
                login.user_key,
                new_identity_id,
                now,
            )
            .await
    }

    async fn insert_identity(
        &self,
        pool_id: &str,
        identity_id: &str,
        now: UnixSeconds,
    ) -> Result<bool, StoreError> {
        // One statement: the pool's existence and the insert cannot be split by a deletion.
        let inserted = sqlx::query(
            "INSERT INTO identities (identity_id, pool_id, disabled, created_at, updated_at)
             SELECT $1, pool_id, 0, $3, $3 FROM identity_pools WHERE pool_id = $2",
        )
        .bind(identity_id)
        .bind(pool_id)
        .bind(now)
        .execute(&*self.writer.turn().await)
        .await
        .map_err(backend)?
        .rows_affected();
        Ok(inserted == 1)
    }

    async fn link_login(
        &self,
        pool_id: &str,
        identity_id: &str,
        login: Login<'_>,
        now: UnixSeconds,
    ) -> Result<LinkOutcome, StoreError> {
        let mut tx = self.writer.begin().await.map_err(backend)?;
        let owner: Option<Text> = sqlx::query_as(
            "SELECT pool_id FROM identities WHERE identity_id = $1 AND disabled = 0",
        )
        .bind(identity_id)
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend)?;
        if owner.is_none_or(|Text(owner)| owner != pool_id) {
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
        let Text(current) = sqlx::query_as(IDENTITY_OF_LOGIN)
            .bind(pool_id)
            .bind(login.provider)
            .bind(login.user_key)
            .fetch_one(&mut *tx)
            .await
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
        self.read_fast_or_through_sqlx(
            |fast| fast.identity_of_login(pool_id, &login),
            || async {
                let row: Option<Text> = sqlx::query_as(IDENTITY_OF_LOGIN)
                    .bind(pool_id)
                    .bind(login.provider)
                    .bind(login.user_key)
                    .fetch_optional(&self.reader)
                    .await?;
                Ok(row.map(|Text(id)| id))
            },
        )
        .await
    }

    async fn identity(&self, identity_id: &str) -> Result<Option<IdentityRecord>, StoreError> {
        let rows: Vec<IdentityLoginRow> = self
            .read_fast_or_through_sqlx(
                |fast| fast.identity_with_logins(identity_id),
                || {
                    sqlx::query_as(IDENTITY_WITH_LOGINS)
                        .bind(identity_id)
                        .fetch_all(&self.reader)
                },
            )
            .await?;
        Ok(group_identities(rows).into_iter().next())
    }

    async fn delete_identity(&self, identity_id: &str) -> Result<bool, StoreError> {
        let mut tx = self.writer.begin().await.map_err(backend)?;
        sqlx::query("DELETE FROM identity_logins WHERE identity_id = $1")
            .bind(identity_id)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        let deleted = sqlx::query("DELETE FROM identities WHERE identity_id = $1")
            .bind(identity_id)
            .execute(&mut *tx)
            .await
            .map_err(backend)?
            .rows_affected();
        tx.commit().await.map_err(backend)?;
        Ok(deleted == 1)
    }

    async fn unlink_login(
        &self,
        identity_id: &str,
        login: Login<'_>,
        now: UnixSeconds,
    ) -> Result<bool, StoreError> {
        let mut tx = self.writer.begin().await.map_err(backend)?;
        let unlinked = sqlx::query(
            "DELETE FROM identity_logins
             WHERE identity_id = $1 AND provider = $2 AND user_key = $3",
        )
        .bind(identity_id)
        .bind(login.provider)
        .bind(login.user_key)
        .execute(&mut *tx)
        .await
        .map_err(backend)?
        .rows_affected();
        touch(&mut tx, identity_id, now, unlinked).await?;
        disable_if_emptied(&mut tx, identity_id, unlinked).await?;
        tx.commit().await.map_err(backend)?;
        Ok(unlinked == 1)
    }

    async fn unlink_provider(
        &self,
        identity_id: &str,
        provider: &str,
        now: UnixSeconds,
    ) -> Result<u64, StoreError> {
        let mut tx = self.writer.begin().await.map_err(backend)?;
        let unlinked =
            sqlx::query("DELETE FROM identity_logins WHERE identity_id = $1 AND provider = $2")
                .bind(identity_id)
                .bind(provider)
                .execute(&mut *tx)
                .await
                .map_err(backend)?
                .rows_affected();
        touch(&mut tx, identity_id, now, unlinked).await?;
        disable_if_emptied(&mut tx, identity_id, unlinked).await?;
        tx.commit().await.map_err(backend)?;
        Ok(unlinked)
    }

    async fn merge_identities(
        &self,
        pool_id: &str,
        source: &str,
        destination: &str,
        now: UnixSeconds,
    ) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await.map_err(backend)?;
        sqlx::query(
            "UPDATE identity_logins SET identity_id = $3 WHERE pool_id = $1 AND identity_id = $2",
        )
        .bind(pool_id)
        .bind(source)
        .bind(destination)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        sqlx::query(
            "UPDATE identities SET disabled = 1, updated_at = $3
             WHERE pool_id = $1 AND identity_id = $2",
        )
        .bind(pool_id)
        .bind(source)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        touch(&mut tx, destination, now, 1).await?;
        tx.commit().await.map_err(backend)?;
        Ok(())
    }

    async fn login_count(&self, identity_id: &str) -> Result<u64, StoreError> {
        let Count(n) =
            sqlx::query_as("SELECT COUNT(*) FROM identity_logins WHERE identity_id = $1")
                .bind(identity_id)
                .fetch_one(&self.reader)
                .await
                .map_err(backend)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn list_identities(
        &self,
        pool_id: &str,
        after: Option<&str>,
        limit: u32,
        hide_disabled: bool,
    ) -> Result<Vec<IdentityRecord>, StoreError> {
        let rows: Vec<IdentityLoginRow> = sqlx::query_as(LIST_IDENTITIES)
            .bind(pool_id)
            .bind(after.unwrap_or_default())
            .bind(i64::from(limit))
            .bind(i64::from(hide_disabled))
            .fetch_all(&self.reader)
            .await
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
        let rows: Vec<Text> = sqlx::query_as(
            "SELECT user_key FROM identity_logins
             WHERE identity_id = $1 AND provider = $2 AND user_key > $3
             ORDER BY user_key LIMIT $4",
        )
        .bind(identity_id)
        .bind(provider)
        .bind(after.unwrap_or_default())
        .bind(i64::from(limit))
        .fetch_all(&self.reader)
        .await
        .map_err(backend)?;
        Ok(rows.into_iter().map(|Text(key)| key).collect())
    }
}

/// Mark `identity_id` modified at `now` when `changed` logins changed.
async fn touch<DB>(
    tx: &mut WriteTransaction<DB>,
    identity_id: &str,
    now: UnixSeconds,
    changed: u64,
) -> Result<(), StoreError>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    i64: for<'q> Encode<'q, DB> + Type<DB>,
{
    if changed == 0 {
        return Ok(());
    }
    sqlx::query("UPDATE identities SET updated_at = $2 WHERE identity_id = $1")
        .bind(identity_id)
        .bind(now)
        .execute(&mut **tx)
        .await
        .map_err(backend)?;
    Ok(())
}

/// An identity whose last login was unlinked becomes inaccessible, as AWS has it: disabled, so
/// that nobody can take it as a guest's or link a login of theirs to it.
async fn disable_if_emptied<DB>(
    tx: &mut WriteTransaction<DB>,
    identity_id: &str,
    unlinked: u64,
) -> Result<(), StoreError>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
{
    if unlinked == 0 {
        return Ok(());
    }
    sqlx::query(
        "UPDATE identities SET disabled = 1 WHERE identity_id = $1
         AND NOT EXISTS (SELECT 1 FROM identity_logins WHERE identity_id = $1)",
    )
    .bind(identity_id)
    .execute(&mut **tx)
    .await
    .map_err(backend)?;
    Ok(())
}

#[async_trait]
impl<DB> IdentityWrites for Pool<DB>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    DB::QueryResult: RowsAffected,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    i64: for<'q> Encode<'q, DB> + Type<DB>,
    for<'r> Text: FromRow<'r, DB::Row>,
{
    async fn create_group(&self, group: &[Creation]) -> Result<Vec<(String, bool)>, StoreError> {
        let mut tx = self.begin().await.map_err(backend)?;
        let mut linked = HashSet::with_capacity(group.len());
        let mut rest = group;
        for size in statement_sizes(group.len()) {
            let (chunk, after) = rest.split_at(size);
            rest = after;
            let mut insert = sqlx::query(identity_writer::insert_identities_sql(size));
            for creation in chunk {
                insert = insert
                    .bind(creation.candidate.as_str())
                    .bind(creation.pool_id.as_str())
                    .bind(creation.now);
            }
            insert.execute(&mut *tx).await.map_err(backend)?;
            let mut link = sqlx::query_as::<DB, Text>(identity_writer::insert_logins_sql(size));
            for creation in chunk {
                link = link
                    .bind(creation.pool_id.as_str())
                    .bind(creation.provider.as_str())
                    .bind(creation.user_key.as_str())
                    .bind(creation.candidate.as_str())
                    .bind(creation.now);
            }
            for Text(identity_id) in link.fetch_all(&mut *tx).await.map_err(backend)? {
                linked.insert(identity_id);
            }
        }
        // A candidate whose login was linked first (by another node, or by an earlier creation
        // in this group for the same user) is dropped; its caller gets the identity that won.
        let mut results = Vec::with_capacity(group.len());
        for creation in group {
            if linked.contains(&creation.candidate) {
                results.push((creation.candidate.clone(), true));
                continue;
            }
            sqlx::query(identity_writer::DELETE_CANDIDATE_SQL)
                .bind(creation.candidate.as_str())
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            let Text(existing) = sqlx::query_as(IDENTITY_OF_LOGIN)
                .bind(creation.pool_id.as_str())
                .bind(creation.provider.as_str())
                .bind(creation.user_key.as_str())
                .fetch_one(&mut *tx)
                .await
                .map_err(backend)?;
            results.push((existing, false));
        }
        tx.commit().await.map_err(backend)?;
        Ok(results)
    }
}
