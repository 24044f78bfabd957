//! The benchmark's bulk creation of identities (the `prefill` feature): not part of the store's
//! trait, since nothing but the benchmark needs it.

use tegata_core::UnixSeconds;
use tegata_core::store::StoreError;

use crate::identities::INSERT_LOGIN;
use crate::{SqliteStore, backend};

const INSERT_IDENTITY: &str = "
    INSERT INTO identities (identity_id, pool_id, disabled, created_at, updated_at)
    VALUES ($1, $2, 0, $3, $3)";

impl SqliteStore {
    /// Create many developer identities at once, in batched transactions, for benchmarks that
    /// need a large pool fast: `(identity id, developer user id)` pairs, all new.
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
