//! Revoked sessions: one not-before time per identity or pool.

use async_trait::async_trait;
use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, Type};
use tegata_core::UnixSeconds;
use tegata_core::store::{RevocationStore, StoreError};

use crate::rows::RevocationRow;
use crate::{RowsAffected, SqlStore, backend};

#[async_trait]
impl<DB> RevocationStore for SqlStore<DB>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    DB::QueryResult: RowsAffected,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    i64: for<'q> Encode<'q, DB> + Type<DB>,
    for<'r> RevocationRow: FromRow<'r, DB::Row>,
{
    async fn revoke_sessions(&self, subject: &str, at: UnixSeconds) -> Result<(), StoreError> {
        // CASE rather than MAX/GREATEST: the one spelling both databases accept.
        sqlx::query(
            "INSERT INTO session_revocations (subject, not_before) VALUES ($1, $2)
             ON CONFLICT (subject) DO UPDATE SET not_before = CASE
                 WHEN excluded.not_before > session_revocations.not_before
                 THEN excluded.not_before ELSE session_revocations.not_before END",
        )
        .bind(subject)
        .bind(at)
        .execute(&*self.writer.turn().await)
        .await
        .map_err(backend)?;
        Ok(())
    }

    async fn session_revocations(&self) -> Result<Vec<(String, UnixSeconds)>, StoreError> {
        let rows: Vec<RevocationRow> =
            sqlx::query_as("SELECT subject, not_before FROM session_revocations")
                .fetch_all(&self.reader)
                .await
                .map_err(backend)?;
        Ok(rows
            .into_iter()
            .map(|r| (r.subject, r.not_before))
            .collect())
    }

    async fn prune_session_revocations(&self, before: UnixSeconds) -> Result<u64, StoreError> {
        Ok(
            sqlx::query("DELETE FROM session_revocations WHERE not_before < $1")
                .bind(before)
                .execute(&*self.writer.turn().await)
                .await
                .map_err(backend)?
                .rows_affected(),
        )
    }
}
