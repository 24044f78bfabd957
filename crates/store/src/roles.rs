//! IAM roles, keyed by the lower-cased name (their inline policies are in `policies`).

use async_trait::async_trait;
use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, Type};
use tegata_core::iam::Role;
use tegata_core::store::{DeleteRoleOutcome, RoleStore, StoreError};

use crate::rows::{Count, RoleRow, Text};
use crate::{RowsAffected, SqlStore, backend, corrupt, entity_key, lock_row};

const ROLE_COLUMNS: &str = "role_name, path, role_id, assume_role_policy_document, description,
    max_session_duration, tags, permissions_boundary, created_at, last_used_at, last_used_region";

#[async_trait]
impl<DB> RoleStore for SqlStore<DB>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    DB::QueryResult: RowsAffected,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
    i64: for<'q> Encode<'q, DB> + Type<DB>,
    Option<i64>: for<'q> Encode<'q, DB> + Type<DB>,
    for<'r> Count: FromRow<'r, DB::Row>,
    for<'r> RoleRow: FromRow<'r, DB::Row>,
    for<'r> Text: FromRow<'r, DB::Row>,
{
    async fn insert_role(&self, role: &Role) -> Result<bool, StoreError> {
        let tags = serde_json::to_string(&role.tags).map_err(corrupt)?;
        let inserted = sqlx::query(
            "INSERT INTO roles (role_key, role_name, path, role_id, assume_role_policy_document,
                                description, max_session_duration, tags, permissions_boundary,
                                created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             ON CONFLICT (role_key) DO NOTHING",
        )
        .bind(entity_key(&role.role_name).as_str())
        .bind(role.role_name.as_str())
        .bind(role.path.as_str())
        .bind(role.role_id.as_str())
        .bind(role.assume_role_policy_document.as_str())
        .bind(role.description.as_deref())
        .bind(role.max_session_duration)
        .bind(tags.as_str())
        .bind(role.permissions_boundary.as_deref())
        .bind(role.created_at)
        .execute(&*self.writer.turn().await)
        .await
        .map_err(backend)?
        .rows_affected();
        Ok(inserted == 1)
    }

    async fn role(&self, role_name: &str) -> Result<Option<Role>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {ROLE_COLUMNS} FROM roles WHERE role_key = $1"
        ));
        let row: Option<RoleRow> = sqlx::query_as(sql)
            .bind(entity_key(role_name).as_str())
            .fetch_optional(&self.reader)
            .await
            .map_err(backend)?;
        row.map(TryInto::try_into).transpose()
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
        .bind(entity_key(role_name).as_str())
        .bind(description)
        .bind(max_session_duration)
        .execute(&*self.writer.turn().await)
        .await
        .map_err(backend)?
        .rows_affected();
        Ok(updated == 1)
    }

    async fn replace_role_tags(
        &self,
        role_name: &str,
        current: &[(String, String)],
        new: &[(String, String)],
    ) -> Result<Option<bool>, StoreError> {
        let current = serde_json::to_string(current).map_err(corrupt)?;
        let new = serde_json::to_string(new).map_err(corrupt)?;
        let updated = sqlx::query("UPDATE roles SET tags = $3 WHERE role_key = $1 AND tags = $2")
            .bind(entity_key(role_name).as_str())
            .bind(current.as_str())
            .bind(new.as_str())
            .execute(&*self.writer.turn().await)
            .await
            .map_err(backend)?
            .rows_affected();
        if updated == 1 {
            return Ok(Some(true));
        }
        Ok(self.role(role_name).await?.map(|_| false))
    }

    async fn record_role_use(
        &self,
        role_name: &str,
        role_id: &str,
        at: i64,
        region: &str,
    ) -> Result<(), StoreError> {
        // Only forward in time, and only for the role the session was made of (not one made
        // again under its name since).
        sqlx::query(
            "UPDATE roles SET last_used_at = $3, last_used_region = $4
             WHERE role_key = $1 AND role_id = $2
               AND (last_used_at IS NULL OR last_used_at < $3)",
        )
        .bind(entity_key(role_name).as_str())
        .bind(role_id)
        .bind(at)
        .bind(region)
        .execute(&*self.writer.turn().await)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn update_assume_role_policy(
        &self,
        role_name: &str,
        document: &str,
    ) -> Result<bool, StoreError> {
        let updated =
            sqlx::query("UPDATE roles SET assume_role_policy_document = $2 WHERE role_key = $1")
                .bind(entity_key(role_name).as_str())
                .bind(document)
                .execute(&*self.writer.turn().await)
                .await
                .map_err(backend)?
                .rows_affected();
        Ok(updated == 1)
    }

    async fn delete_role(&self, role_name: &str) -> Result<DeleteRoleOutcome, StoreError> {
        let key = entity_key(role_name);
        let mut tx = self.writer.begin().await.map_err(backend)?;
        // Lock the row first, so that no policy is attached between the checks and the deletion.
        lock_row::<DB>(&mut tx, "roles", "path", "role_key", &key).await?;
        let Count(policies) =
            sqlx::query_as("SELECT COUNT(*) FROM role_policies WHERE role_key = $1")
                .bind(key.as_str())
                .fetch_one(&mut *tx)
                .await
                .map_err(backend)?;
        let Count(attached) = sqlx::query_as(
            "SELECT COUNT(*) FROM policy_attachments WHERE entity_kind = 'role' AND entity_key = $1",
        )
        .bind(key.as_str())
        .fetch_one(&mut *tx)
        .await
        .map_err(backend)?;
        let exists: Option<Text> = sqlx::query_as("SELECT role_key FROM roles WHERE role_key = $1")
            .bind(key.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend)?;
        let outcome = if exists.is_none() {
            DeleteRoleOutcome::NotFound
        } else if policies > 0 {
            DeleteRoleOutcome::HasPolicies
        } else if attached > 0 {
            DeleteRoleOutcome::HasAttachedPolicies
        } else {
            sqlx::query("DELETE FROM roles WHERE role_key = $1")
                .bind(key.as_str())
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
        // The prefix is compared with substr, not LIKE, so `_` and `%` in paths are plain
        // characters.
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {ROLE_COLUMNS} FROM roles
             WHERE substr(path, 1, length($1)) = $1 AND role_key > $2
             ORDER BY role_key LIMIT $3"
        ));
        let rows: Vec<RoleRow> = sqlx::query_as(sql)
            .bind(path_prefix)
            .bind(after.unwrap_or_default())
            .bind(i64::from(limit))
            .fetch_all(&self.reader)
            .await
            .map_err(backend)?;
        rows.into_iter().map(TryInto::try_into).collect()
    }
}
