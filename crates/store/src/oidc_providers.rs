//! IAM OpenID Connect providers, keyed by URL (host and path).

use async_trait::async_trait;
use sqlx::{Database, Encode, Executor, FromRow, IntoArguments, Type};
use tegata_core::iam::OidcProvider;
use tegata_core::store::{OidcProviderStore, StoreError};

use crate::rows::OidcProviderRow;
use crate::{RowsAffected, SqlStore, backend, corrupt};

const COLUMNS: &str = "url, scheme, client_ids, thumbprints, tags, created_at";

/// The JSON columns of a provider, as stored.
struct Encoded {
    client_ids: String,
    thumbprints: String,
    tags: String,
}

fn encode(p: &OidcProvider) -> Result<Encoded, StoreError> {
    Ok(Encoded {
        client_ids: serde_json::to_string(&p.client_ids).map_err(corrupt)?,
        thumbprints: serde_json::to_string(&p.thumbprints).map_err(corrupt)?,
        tags: serde_json::to_string(&p.tags).map_err(corrupt)?,
    })
}

#[async_trait]
impl<DB> OidcProviderStore for SqlStore<DB>
where
    DB: Database,
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    DB::QueryResult: RowsAffected,
    for<'q> &'q str: Encode<'q, DB> + Type<DB>,
    i64: for<'q> Encode<'q, DB> + Type<DB>,
    for<'r> OidcProviderRow: FromRow<'r, DB::Row>,
{
    async fn insert_oidc_provider(&self, provider: &OidcProvider) -> Result<bool, StoreError> {
        let e = encode(provider)?;
        let inserted = sqlx::query(
            "INSERT INTO oidc_providers (url, scheme, client_ids, thumbprints, tags, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (url) DO NOTHING",
        )
        .bind(provider.url.as_str())
        .bind(provider.scheme.as_str())
        .bind(e.client_ids.as_str())
        .bind(e.thumbprints.as_str())
        .bind(e.tags.as_str())
        .bind(provider.created_at)
        .execute(&*self.writer.turn().await)
        .await
        .map_err(backend)?
        .rows_affected();
        Ok(inserted == 1)
    }

    async fn oidc_provider(&self, url: &str) -> Result<Option<OidcProvider>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM oidc_providers WHERE url = $1"
        ));
        let row: Option<OidcProviderRow> = sqlx::query_as(sql)
            .bind(url)
            .fetch_optional(&self.reader)
            .await
            .map_err(backend)?;
        row.map(TryInto::try_into).transpose()
    }

    async fn list_oidc_providers(&self) -> Result<Vec<OidcProvider>, StoreError> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM oidc_providers ORDER BY url"));
        let rows: Vec<OidcProviderRow> = sqlx::query_as(sql)
            .fetch_all(&self.reader)
            .await
            .map_err(backend)?;
        rows.into_iter().map(TryInto::try_into).collect()
    }

    async fn delete_oidc_provider(&self, url: &str) -> Result<bool, StoreError> {
        let deleted = sqlx::query("DELETE FROM oidc_providers WHERE url = $1")
            .bind(url)
            .execute(&*self.writer.turn().await)
            .await
            .map_err(backend)?
            .rows_affected();
        Ok(deleted == 1)
    }

    async fn replace_oidc_provider(
        &self,
        current: &OidcProvider,
        new: &OidcProvider,
    ) -> Result<bool, StoreError> {
        let (old, e) = (encode(current)?, encode(new)?);
        let replaced = sqlx::query(
            "UPDATE oidc_providers SET client_ids = $5, thumbprints = $6, tags = $7
             WHERE url = $1 AND client_ids = $2 AND thumbprints = $3 AND tags = $4",
        )
        .bind(current.url.as_str())
        .bind(old.client_ids.as_str())
        .bind(old.thumbprints.as_str())
        .bind(old.tags.as_str())
        .bind(e.client_ids.as_str())
        .bind(e.thumbprints.as_str())
        .bind(e.tags.as_str())
        .execute(&*self.writer.turn().await)
        .await
        .map_err(backend)?
        .rows_affected();
        Ok(replaced == 1)
    }
}
