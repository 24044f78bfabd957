//! The credential broker's application users, keyed by their exact username.

use async_trait::async_trait;
use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, Type};
use tegata_core::UnixSeconds;
use tegata_core::app_users::AppUser;
use tegata_core::store::{AppUserStore, StoreError};

use crate::rows::AppUserRow;
use crate::{RowsAffected, SqlStore, backend};

const COLUMNS: &str = "username, password_hash, disabled, created_at, password_changed_at";

#[async_trait]
impl<DB> AppUserStore for SqlStore<DB>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    DB::QueryResult: RowsAffected,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    i64: for<'q> Encode<'q, DB> + Type<DB>,
    for<'r> AppUserRow: FromRow<'r, DB::Row>,
{
    async fn insert_app_user(&self, user: &AppUser) -> Result<bool, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO app_users (username, password_hash, disabled, created_at,
                                    password_changed_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (username) DO NOTHING",
        )
        .bind(user.username.as_str())
        .bind(user.password_hash.as_str())
        .bind(i64::from(user.disabled))
        .bind(user.created_at)
        .bind(user.password_changed_at)
        .execute(&*self.writer.turn().await)
        .await
        .map_err(backend)?
        .rows_affected();
        Ok(inserted == 1)
    }

    async fn app_user(&self, username: &str) -> Result<Option<AppUser>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM app_users WHERE username = $1"
        ));
        let row: Option<AppUserRow> = sqlx::query_as(sql)
            .bind(username)
            .fetch_optional(&self.reader)
            .await
            .map_err(backend)?;
        Ok(row.map(Into::into))
    }

    async fn list_app_users(&self) -> Result<Vec<AppUser>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM app_users ORDER BY username"));
        let rows: Vec<AppUserRow> = sqlx::query_as(sql)
            .fetch_all(&self.reader)
            .await
            .map_err(backend)?;
        Ok(rows.into_iter().map(Into::into).collect())
    }

    async fn set_app_user_password(
        &self,
        username: &str,
        password_hash: &str,
        now: UnixSeconds,
    ) -> Result<bool, StoreError> {
        let changed = sqlx::query(
            "UPDATE app_users SET password_hash = $2, password_changed_at = $3
             WHERE username = $1",
        )
        .bind(username)
        .bind(password_hash)
        .bind(now)
        .execute(&*self.writer.turn().await)
        .await
        .map_err(backend)?
        .rows_affected();
        Ok(changed == 1)
    }

    async fn replace_app_user_hash(
        &self,
        username: &str,
        current: &str,
        upgraded: &str,
    ) -> Result<bool, StoreError> {
        let changed = sqlx::query(
            "UPDATE app_users SET password_hash = $3 WHERE username = $1 AND password_hash = $2",
        )
        .bind(username)
        .bind(current)
        .bind(upgraded)
        .execute(&*self.writer.turn().await)
        .await
        .map_err(backend)?
        .rows_affected();
        Ok(changed == 1)
    }

    async fn set_app_user_disabled(
        &self,
        username: &str,
        disabled: bool,
    ) -> Result<bool, StoreError> {
        let changed = sqlx::query("UPDATE app_users SET disabled = $2 WHERE username = $1")
            .bind(username)
            .bind(i64::from(disabled))
            .execute(&*self.writer.turn().await)
            .await
            .map_err(backend)?
            .rows_affected();
        Ok(changed == 1)
    }

    async fn delete_app_user(&self, username: &str) -> Result<bool, StoreError> {
        let deleted = sqlx::query("DELETE FROM app_users WHERE username = $1")
            .bind(username)
            .execute(&*self.writer.turn().await)
            .await
            .map_err(backend)?
            .rows_affected();
        Ok(deleted == 1)
    }
}
