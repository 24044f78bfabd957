//! The deployment's account, its signing keys and its access keys.

use async_trait::async_trait;
use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, Type};
use tegata_core::account::{ADMIN_USER_NAME, AccessKeyRecord, Bootstrap};
use tegata_core::iam::aws_managed::ADMINISTRATOR_ACCESS;
use tegata_core::store::{
    AccountStore, PoolStats, Resealer, SealedSecret, SealedSecretKind, StoreError,
};
use tegata_core::tokens::keys::SigningKeyRecord;
use tegata_core::tokens::lifecycle::KeyChange;

use crate::rows::{AccessKeyRow, AccountRow, SealedRow, SigningKeyRow, Text};
use crate::{RowsAffected, SqlStore, backend, corrupt};

pub(crate) const ACCESS_KEY_COLUMNS: &str = "access_key_id, user_name, user_id, encrypted_secret,
    master_key_id, active, created_at, last_used_at, last_used_region, last_used_service";

#[async_trait]
impl<DB> AccountStore for SqlStore<DB>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    DB::QueryResult: RowsAffected,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> &'q [u8]: Encode<'q, DB> + Type<DB>,
    i64: for<'q> Encode<'q, DB> + Type<DB>,
    for<'r> AccountRow: FromRow<'r, DB::Row>,
    for<'r> AccessKeyRow: FromRow<'r, DB::Row>,
    for<'r> SigningKeyRow: FromRow<'r, DB::Row>,
    for<'r> SealedRow: FromRow<'r, DB::Row>,
    for<'r> Text: FromRow<'r, DB::Row>,
{
    fn connection_stats(&self) -> Vec<PoolStats> {
        let pools = if self.shared_pool {
            vec![("shared", self.writer.pool())]
        } else {
            vec![("reader", &self.reader), ("writer", self.writer.pool())]
        };
        pools
            .into_iter()
            .map(|(pool, connections)| PoolStats {
                pool,
                open: connections.size(),
                idle: u32::try_from(connections.num_idle()).unwrap_or(u32::MAX),
            })
            .collect()
    }

    fn identity_writes_waiting(&self) -> usize {
        self.identity_writer.waiting()
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.reader)
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn bootstrap(&self, candidate: &Bootstrap) -> Result<Bootstrap, StoreError> {
        let mut tx = self.writer.begin().await.map_err(backend)?;
        // Whoever inserts the account row first wins; the others wait on the conflict
        // (PostgreSQL) or the write lock (SQLite) and then read the winner's rows.
        let inserted = sqlx::query(
            "INSERT INTO account (singleton, account_id, created_at) VALUES (1, $1, $2)
             ON CONFLICT (singleton) DO NOTHING",
        )
        .bind(candidate.account.account_id.as_str())
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
            // The administrator is an IAM user holding AdministratorAccess.
            sqlx::query(
                "INSERT INTO users (user_key, user_name, path, user_id, tags, created_at)
                 VALUES ($1, $2, '/', $3, '[]', $4)",
            )
            .bind(crate::entity_key(&key.user_name).as_str())
            .bind(key.user_name.as_str())
            .bind(key.user_id.as_str())
            .bind(key.created_at)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
            sqlx::query(
                "INSERT INTO policy_attachments (policy_arn, entity_kind, entity_key, attached_at)
                 VALUES ($1, 'user', $2, $3)",
            )
            .bind(ADMINISTRATOR_ACCESS)
            .bind(crate::entity_key(&key.user_name).as_str())
            .bind(key.created_at)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
            insert_signing_key(&mut *tx, &candidate.signing_key).await?;
            tx.commit().await.map_err(backend)?;
            return Ok(candidate.clone());
        }
        tx.rollback().await.map_err(backend)?;

        let account: AccountRow =
            sqlx::query_as("SELECT account_id, created_at FROM account WHERE singleton = 1")
                .fetch_one(&*self.writer.turn().await)
                .await
                .map_err(backend)?;
        let Text(admin_id) = sqlx::query_as(
            "SELECT access_key_id FROM access_keys WHERE user_name = $1
             ORDER BY created_at, access_key_id LIMIT 1",
        )
        .bind(ADMIN_USER_NAME)
        .fetch_one(&*self.writer.turn().await)
        .await
        .map_err(backend)?;
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
            account: account.into(),
            admin_key,
            signing_key,
        })
    }

    async fn signing_keys(&self) -> Result<Vec<SigningKeyRecord>, StoreError> {
        let rows: Vec<SigningKeyRow> = sqlx::query_as(
            "SELECT kid, state, algorithm, encrypted_private_key, master_key_id, created_at,
                    state_changed_at
             FROM signing_keys ORDER BY created_at, kid",
        )
        .fetch_all(&self.reader)
        .await
        .map_err(backend)?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn reseal_secrets(&self, reseal: &Resealer<'_>) -> Result<usize, StoreError> {
        let mut tx = self.writer.begin().await.map_err(backend)?;
        let mut resealed = 0;
        // Table, the query that reads its secrets, and the statement that replaces one.
        let tables = [
            (
                SealedSecretKind::SigningKey,
                "SELECT kid AS id, master_key_id, encrypted_private_key AS blob
                 FROM signing_keys ORDER BY kid",
                "UPDATE signing_keys SET master_key_id = $1, encrypted_private_key = $2
                 WHERE kid = $3",
            ),
            (
                SealedSecretKind::AccessKey,
                "SELECT access_key_id AS id, master_key_id, encrypted_secret AS blob
                 FROM access_keys ORDER BY access_key_id",
                "UPDATE access_keys SET master_key_id = $1, encrypted_secret = $2
                 WHERE access_key_id = $3",
            ),
        ];
        for (kind, select, update) in tables {
            let rows: Vec<SealedRow> = sqlx::query_as(select)
                .fetch_all(&mut *tx)
                .await
                .map_err(backend)?;
            for row in rows {
                let secret = SealedSecret {
                    kind,
                    id: row.id,
                    master_key_id: row.master_key_id,
                    blob: row.blob,
                };
                let Some((master_key_id, blob)) = reseal(&secret).map_err(StoreError::Abandoned)?
                else {
                    continue;
                };
                sqlx::query(update)
                    .bind(master_key_id.as_str())
                    .bind(blob.as_slice())
                    .bind(secret.id.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(backend)?;
                resealed += 1;
            }
        }
        tx.commit().await.map_err(backend)?;
        Ok(resealed)
    }

    async fn apply_key_change(&self, change: &KeyChange) -> Result<(), StoreError> {
        let mut tx = self.writer.begin().await.map_err(backend)?;
        for step in &change.transitions {
            let moved = sqlx::query(
                "UPDATE signing_keys SET state = $1, state_changed_at = $2
                 WHERE kid = $3 AND state = $4",
            )
            .bind(step.to.as_str())
            .bind(change.at)
            .bind(step.kid.as_str())
            .bind(step.from.as_str())
            .execute(&mut *tx)
            .await
            .map_err(key_conflict)?;
            if moved.rows_affected() != 1 {
                tx.rollback().await.map_err(backend)?;
                return Err(StoreError::ConcurrentModification);
            }
        }
        if let Some(key) = &change.new_key {
            insert_signing_key(&mut *tx, key).await?;
        }
        tx.commit().await.map_err(key_conflict)?;
        Ok(())
    }

    async fn access_key(&self, access_key_id: &str) -> Result<Option<AccessKeyRecord>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {ACCESS_KEY_COLUMNS} FROM access_keys WHERE access_key_id = $1"
        ));
        let row: Option<AccessKeyRow> = sqlx::query_as(sql)
            .bind(access_key_id)
            .fetch_optional(&self.reader)
            .await
            .map_err(backend)?;
        Ok(row.map(Into::into))
    }
}

async fn insert_signing_key<DB>(
    conn: &mut DB::Connection,
    key: &SigningKeyRecord,
) -> Result<(), StoreError>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    for<'q> &'q [u8]: Encode<'q, DB> + Type<DB>,
    i64: for<'q> Encode<'q, DB> + Type<DB>,
{
    sqlx::query(
        "INSERT INTO signing_keys (kid, state, algorithm, encrypted_private_key, master_key_id,
                                   created_at, state_changed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(key.kid.as_str())
    .bind(key.state.as_str())
    .bind(key.algorithm.as_str())
    .bind(key.encrypted_private_key.as_slice())
    .bind(key.master_key_id.as_str())
    .bind(key.created_at)
    .bind(key.state_changed_at)
    .execute(conn)
    .await
    .map_err(key_conflict)?;
    Ok(())
}

/// A second active or next key violates the schema's unique indexes: another writer changed the
/// keys first.
fn key_conflict(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::ConcurrentModification,
        _ => backend(e),
    }
}
