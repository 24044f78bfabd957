//! IAM users, their access keys and groups, keyed by lower-cased names.

use async_trait::async_trait;
use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, Type};
use tegata_core::UnixSeconds;
use tegata_core::account::AccessKeyRecord;
use tegata_core::iam::{DeleteConflict, DeleteOutcome, Group, User};
use tegata_core::store::{CappedInsert, PairOutcome, StoreError, UserStore};

use crate::account::ACCESS_KEY_COLUMNS;
use crate::rows::{AccessKeyRow, Count, GroupRow, Text, UserRow};
use crate::{RowsAffected, SqlStore, backend, corrupt, entity_key, lock_row};

const USER_COLUMNS: &str = "user_name, path, user_id, tags, permissions_boundary, created_at";
const GROUP_COLUMNS: &str = "group_name, path, group_id, created_at";

#[async_trait]
impl<DB> UserStore for SqlStore<DB>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    DB::QueryResult: RowsAffected,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> Option<&'q str>: Encode<'q, DB> + Type<DB>,
    for<'q> &'q [u8]: Encode<'q, DB> + Type<DB>,
    i64: for<'q> Encode<'q, DB> + Type<DB>,
    for<'r> Count: FromRow<'r, DB::Row>,
    for<'r> Text: FromRow<'r, DB::Row>,
    for<'r> UserRow: FromRow<'r, DB::Row>,
    for<'r> GroupRow: FromRow<'r, DB::Row>,
    for<'r> AccessKeyRow: FromRow<'r, DB::Row>,
{
    async fn insert_user(&self, user: &User) -> Result<bool, StoreError> {
        let tags = serde_json::to_string(&user.tags).map_err(corrupt)?;
        let inserted = sqlx::query(
            "INSERT INTO users (user_key, user_name, path, user_id, tags, permissions_boundary,
                                created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (user_key) DO NOTHING",
        )
        .bind(entity_key(&user.user_name).as_str())
        .bind(user.user_name.as_str())
        .bind(user.path.as_str())
        .bind(user.user_id.as_str())
        .bind(tags.as_str())
        .bind(user.permissions_boundary.as_deref())
        .bind(user.created_at)
        .execute(&*self.writer.turn().await)
        .await
        .map_err(backend)?
        .rows_affected();
        Ok(inserted == 1)
    }

    async fn user(&self, user_name: &str) -> Result<Option<User>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE user_key = $1"
        ));
        let row: Option<UserRow> = sqlx::query_as(sql)
            .bind(entity_key(user_name).as_str())
            .fetch_optional(&self.reader)
            .await
            .map_err(backend)?;
        row.map(TryInto::try_into).transpose()
    }

    async fn list_users(&self, path_prefix: &str) -> Result<Vec<User>, StoreError> {
        // substr, not LIKE: `_` and `%` in paths are plain characters.
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {USER_COLUMNS} FROM users WHERE substr(path, 1, length($1)) = $1
             ORDER BY user_key"
        ));
        let rows: Vec<UserRow> = sqlx::query_as(sql)
            .bind(path_prefix)
            .fetch_all(&self.reader)
            .await
            .map_err(backend)?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn update_user(
        &self,
        user_name: &str,
        new_name: Option<&str>,
        new_path: Option<&str>,
    ) -> Result<Option<bool>, StoreError> {
        let key = entity_key(user_name);
        let new_key = new_name.map_or_else(|| key.clone(), entity_key);
        let mut tx = self.writer.begin().await.map_err(backend)?;
        let exists: Option<Text> = sqlx::query_as("SELECT user_key FROM users WHERE user_key = $1")
            .bind(key.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend)?;
        if exists.is_none() {
            return Ok(None);
        }
        if new_key != key {
            let taken: Option<Text> =
                sqlx::query_as("SELECT user_key FROM users WHERE user_key = $1")
                    .bind(new_key.as_str())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(backend)?;
            if taken.is_some() {
                return Ok(Some(false));
            }
            // The user row is copied under its new key, everything that names it follows, and
            // the old row goes: the keys are referenced, so they cannot be updated in place.
            sqlx::query(
                "INSERT INTO users (user_key, user_name, path, user_id, tags,
                                    permissions_boundary, created_at)
                 SELECT $2, user_name, path, user_id || '#', tags, permissions_boundary, created_at
                 FROM users WHERE user_key = $1",
            )
            .bind(key.as_str())
            .bind(new_key.as_str())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
            for table in [
                "UPDATE user_policies SET user_key = $2 WHERE user_key = $1",
                "UPDATE group_members SET user_key = $2 WHERE user_key = $1",
                "UPDATE policy_attachments SET entity_key = $2
                 WHERE entity_kind = 'user' AND entity_key = $1",
            ] {
                sqlx::query(table)
                    .bind(key.as_str())
                    .bind(new_key.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
            }
            sqlx::query("DELETE FROM users WHERE user_key = $1")
                .bind(key.as_str())
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
            // The copy carried a placeholder id while both rows existed (user ids are unique).
            sqlx::query("UPDATE users SET user_id = rtrim(user_id, '#') WHERE user_key = $1")
                .bind(new_key.as_str())
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
        }
        sqlx::query(
            "UPDATE users SET user_name = COALESCE($2, user_name), path = COALESCE($3, path)
             WHERE user_key = $1",
        )
        .bind(new_key.as_str())
        .bind(new_name)
        .bind(new_path)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        if let Some(new_name) = new_name {
            sqlx::query("UPDATE access_keys SET user_name = $2 WHERE lower(user_name) = $1")
                .bind(key.as_str())
                .bind(new_name)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(Some(true))
    }

    async fn delete_user(&self, user_name: &str) -> Result<DeleteOutcome, StoreError> {
        let key = entity_key(user_name);
        let mut tx = self.writer.begin().await.map_err(backend)?;
        // Lock the row so that nothing is added to the user between the checks and the
        // deletion.
        if !lock_row::<DB>(&mut tx, "users", "path", "user_key", &key).await? {
            return Ok(DeleteOutcome::NotFound);
        }
        // In IAM's order: keys, then inline policies, then attached ones, then groups.
        let checks = [
            (
                "SELECT COUNT(*) FROM access_keys WHERE lower(user_name) = $1",
                DeleteConflict::AccessKeys,
            ),
            (
                "SELECT COUNT(*) FROM user_policies WHERE user_key = $1",
                DeleteConflict::InlinePolicies,
            ),
            (
                "SELECT COUNT(*) FROM policy_attachments
                 WHERE entity_kind = 'user' AND entity_key = $1",
                DeleteConflict::AttachedPolicies,
            ),
            (
                "SELECT COUNT(*) FROM group_members WHERE user_key = $1",
                DeleteConflict::Groups,
            ),
        ];
        if let Some(conflict) = first_reference::<DB>(&mut tx, &checks, &key).await? {
            return Ok(DeleteOutcome::Conflict(conflict));
        }
        sqlx::query("DELETE FROM users WHERE user_key = $1")
            .bind(key.as_str())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(DeleteOutcome::Deleted)
    }

    async fn replace_user_tags(
        &self,
        user_name: &str,
        current: &[(String, String)],
        new: &[(String, String)],
    ) -> Result<Option<bool>, StoreError> {
        let current = serde_json::to_string(current).map_err(corrupt)?;
        let new = serde_json::to_string(new).map_err(corrupt)?;
        let key = entity_key(user_name);
        let updated = sqlx::query("UPDATE users SET tags = $3 WHERE user_key = $1 AND tags = $2")
            .bind(key.as_str())
            .bind(current.as_str())
            .bind(new.as_str())
            .execute(&*self.writer.turn().await)
            .await
            .map_err(backend)?
            .rows_affected();
        if updated == 1 {
            return Ok(Some(true));
        }
        Ok(self.user(user_name).await?.map(|_| false))
    }

    async fn insert_access_key(
        &self,
        key: &AccessKeyRecord,
        max_per_user: u64,
    ) -> Result<CappedInsert, StoreError> {
        let user_key = entity_key(&key.user_name);
        let mut tx = self.writer.begin().await.map_err(backend)?;
        // The user's row locked first: keys created at once for one user are counted one after
        // the other, so the quota holds.
        if !lock_row::<DB>(&mut tx, "users", "path", "user_key", &user_key).await? {
            return Ok(CappedInsert::OwnerMissing);
        }
        let Count(held) =
            sqlx::query_as("SELECT COUNT(*) FROM access_keys WHERE lower(user_name) = $1")
                .bind(user_key.as_str())
                .fetch_one(&mut *tx)
                .await
                .map_err(backend)?;
        if u64::try_from(held).unwrap_or(u64::MAX) >= max_per_user {
            return Ok(CappedInsert::AtLimit);
        }
        sqlx::query(
            "INSERT INTO access_keys (access_key_id, user_name, user_id, encrypted_secret,
                                      master_key_id, active, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(key.access_key_id.as_str())
        .bind(key.user_name.as_str())
        .bind(key.user_id.as_str())
        .bind(key.encrypted_secret.as_slice())
        .bind(key.master_key_id.as_str())
        .bind(i64::from(key.active))
        .bind(key.created_at)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(CappedInsert::Inserted)
    }

    async fn access_keys_of_user(
        &self,
        user_name: &str,
    ) -> Result<Vec<AccessKeyRecord>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {ACCESS_KEY_COLUMNS} FROM access_keys WHERE lower(user_name) = $1
             ORDER BY created_at, access_key_id"
        ));
        let rows: Vec<AccessKeyRow> = sqlx::query_as(sql)
            .bind(entity_key(user_name).as_str())
            .fetch_all(&self.reader)
            .await
            .map_err(backend)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn set_access_key_active(
        &self,
        user_name: &str,
        access_key_id: &str,
        active: bool,
    ) -> Result<bool, StoreError> {
        let updated = sqlx::query(
            "UPDATE access_keys SET active = $3 WHERE access_key_id = $2 AND lower(user_name) = $1",
        )
        .bind(entity_key(user_name).as_str())
        .bind(access_key_id)
        .bind(i64::from(active))
        .execute(&*self.writer.turn().await)
        .await
        .map_err(backend)?
        .rows_affected();
        Ok(updated == 1)
    }

    async fn delete_access_key(
        &self,
        user_name: &str,
        access_key_id: &str,
    ) -> Result<bool, StoreError> {
        let deleted = sqlx::query(
            "DELETE FROM access_keys WHERE access_key_id = $2 AND lower(user_name) = $1",
        )
        .bind(entity_key(user_name).as_str())
        .bind(access_key_id)
        .execute(&*self.writer.turn().await)
        .await
        .map_err(backend)?
        .rows_affected();
        Ok(deleted == 1)
    }

    async fn record_access_key_use(
        &self,
        access_key_id: &str,
        at: UnixSeconds,
        region: &str,
        service: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE access_keys SET last_used_at = $2, last_used_region = $3,
                                    last_used_service = $4
             WHERE access_key_id = $1",
        )
        .bind(access_key_id)
        .bind(at)
        .bind(region)
        .bind(service)
        .execute(&*self.writer.turn().await)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn insert_group(&self, group: &Group) -> Result<bool, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO iam_groups (group_key, group_name, path, group_id, created_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (group_key) DO NOTHING",
        )
        .bind(entity_key(&group.group_name).as_str())
        .bind(group.group_name.as_str())
        .bind(group.path.as_str())
        .bind(group.group_id.as_str())
        .bind(group.created_at)
        .execute(&*self.writer.turn().await)
        .await
        .map_err(backend)?
        .rows_affected();
        Ok(inserted == 1)
    }

    async fn group(&self, group_name: &str) -> Result<Option<Group>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {GROUP_COLUMNS} FROM iam_groups WHERE group_key = $1"
        ));
        let row: Option<GroupRow> = sqlx::query_as(sql)
            .bind(entity_key(group_name).as_str())
            .fetch_optional(&self.reader)
            .await
            .map_err(backend)?;
        Ok(row.map(Into::into))
    }

    async fn list_groups(&self, path_prefix: &str) -> Result<Vec<Group>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {GROUP_COLUMNS} FROM iam_groups WHERE substr(path, 1, length($1)) = $1
             ORDER BY group_key"
        ));
        let rows: Vec<GroupRow> = sqlx::query_as(sql)
            .bind(path_prefix)
            .fetch_all(&self.reader)
            .await
            .map_err(backend)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn delete_group(&self, group_name: &str) -> Result<DeleteOutcome, StoreError> {
        let key = entity_key(group_name);
        let mut tx = self.writer.begin().await.map_err(backend)?;
        if !lock_row::<DB>(&mut tx, "iam_groups", "path", "group_key", &key).await? {
            return Ok(DeleteOutcome::NotFound);
        }
        let checks = [
            (
                "SELECT COUNT(*) FROM group_members WHERE group_key = $1",
                DeleteConflict::Members,
            ),
            (
                "SELECT COUNT(*) FROM group_policies WHERE group_key = $1",
                DeleteConflict::InlinePolicies,
            ),
            (
                "SELECT COUNT(*) FROM policy_attachments
                 WHERE entity_kind = 'group' AND entity_key = $1",
                DeleteConflict::AttachedPolicies,
            ),
        ];
        if let Some(conflict) = first_reference::<DB>(&mut tx, &checks, &key).await? {
            return Ok(DeleteOutcome::Conflict(conflict));
        }
        sqlx::query("DELETE FROM iam_groups WHERE group_key = $1")
            .bind(key.as_str())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(DeleteOutcome::Deleted)
    }

    async fn add_user_to_group(
        &self,
        user_name: &str,
        group_name: &str,
        now: UnixSeconds,
    ) -> Result<PairOutcome, StoreError> {
        let (user_key, group_key) = (entity_key(user_name), entity_key(group_name));
        let mut tx = self.writer.begin().await.map_err(backend)?;
        let group: Option<Text> =
            sqlx::query_as("SELECT group_key FROM iam_groups WHERE group_key = $1")
                .bind(group_key.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(backend)?;
        if group.is_none() {
            return Ok(PairOutcome::SecondMissing);
        }
        let user: Option<Text> = sqlx::query_as("SELECT user_key FROM users WHERE user_key = $1")
            .bind(user_key.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend)?;
        if user.is_none() {
            return Ok(PairOutcome::FirstMissing);
        }
        sqlx::query(
            "INSERT INTO group_members (group_key, user_key, added_at) VALUES ($1, $2, $3)
             ON CONFLICT (group_key, user_key) DO NOTHING",
        )
        .bind(group_key.as_str())
        .bind(user_key.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(PairOutcome::Done)
    }

    async fn remove_user_from_group(
        &self,
        user_name: &str,
        group_name: &str,
    ) -> Result<bool, StoreError> {
        let deleted =
            sqlx::query("DELETE FROM group_members WHERE group_key = $1 AND user_key = $2")
                .bind(entity_key(group_name).as_str())
                .bind(entity_key(user_name).as_str())
                .execute(&*self.writer.turn().await)
                .await
                .map_err(backend)?
                .rows_affected();
        Ok(deleted == 1)
    }

    async fn groups_of_user(&self, user_name: &str) -> Result<Vec<Group>, StoreError> {
        let rows: Vec<GroupRow> = sqlx::query_as(
            "SELECT g.group_name, g.path, g.group_id, g.created_at
             FROM group_members m JOIN iam_groups g ON g.group_key = m.group_key
             WHERE m.user_key = $1 ORDER BY g.group_key",
        )
        .bind(entity_key(user_name).as_str())
        .fetch_all(&self.reader)
        .await
        .map_err(backend)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn users_of_group(&self, group_name: &str) -> Result<Vec<User>, StoreError> {
        let rows: Vec<UserRow> = sqlx::query_as(
            "SELECT u.user_name, u.path, u.user_id, u.tags, u.permissions_boundary, u.created_at
             FROM group_members m JOIN users u ON u.user_key = m.user_key
             WHERE m.group_key = $1 ORDER BY u.user_key",
        )
        .bind(entity_key(group_name).as_str())
        .fetch_all(&self.reader)
        .await
        .map_err(backend)?;
        rows.into_iter().map(TryInto::try_into).collect()
    }
}

/// The first of `checks` (a count of what still refers to the row of `key`, and the conflict it
/// means) that finds something.
async fn first_reference<DB>(
    conn: &mut DB::Connection,
    checks: &[(&'static str, DeleteConflict)],
    key: &str,
) -> Result<Option<DeleteConflict>, StoreError>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'r> Count: FromRow<'r, DB::Row>,
{
    for (sql, conflict) in checks {
        let Count(n) = sqlx::query_as(*sql)
            .bind(key)
            .fetch_one(&mut *conn)
            .await
            .map_err(backend)?;
        if n > 0 {
            return Ok(Some(*conflict));
        }
    }
    Ok(None)
}
