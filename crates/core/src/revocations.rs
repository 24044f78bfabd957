//! Revoked sessions of Cognito identities: `tegata identities revoke`, DeleteIdentities and
//! DeleteIdentityPool refuse, before they expire, the temporary credentials and tokens issued
//! until then to an identity (or to every identity of a pool).
//!
//! Credentials are stateless, so a refusal needs state: one not-before time per identity or
//! pool, kept in the store until nothing issued before it can still be alive, and held by every
//! node in memory, read again every [`REFRESH_PERIOD`]. A request with temporary credentials
//! costs one map lookup, none while nothing is revoked.
//!
//! Times are whole seconds, as the credentials' `iat` is: what was issued in the second of the
//! revocation is refused too (refusing a fresh session for up to a second is the safe side of
//! that rounding).

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use crate::UnixSeconds;
use crate::store::{Store, StoreError};
use crate::sts::credentials::SessionClaims;
use crate::tokens::lifecycle::LONGEST_TOKEN_LIFETIME;

/// How often every node reads the revocations again: a revocation made anywhere is in force on
/// every node within a second.
pub const REFRESH_PERIOD: Duration = Duration::from_millis(500);

/// How long a revocation is kept: until nothing made from a proof issued before it can be
/// alive. A token lives 24 hours at most, and a session made from it at its last moment 12
/// more (a role's longest); five minutes for clocks that disagree.
pub const KEPT_FOR: i64 = LONGEST_TOKEN_LIFETIME + MAX_ROLE_SESSION_SECONDS + 300;

/// The longest session of a role (its `MaxSessionDuration` at most).
const MAX_ROLE_SESSION_SECONDS: i64 = 43_200;

/// The stored subject of an identity's revocation. Identity and pool ids share one form, so
/// each kind has its own prefix: an identity id given where a pool's is expected (or the
/// reverse) revokes nothing it should not.
pub fn identity_subject(identity_id: &str) -> String {
    format!("identity:{identity_id}")
}

/// The stored subject of a pool's revocation (every identity of the pool).
pub fn pool_subject(pool_id: &str) -> String {
    format!("pool:{pool_id}")
}

pub struct SessionRevocations {
    store: Arc<dyn Store>,
    /// Subject (identity or pool id) → sessions issued at or before this are refused.
    not_before: RwLock<Arc<HashMap<String, UnixSeconds>>>,
}

impl SessionRevocations {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            not_before: RwLock::new(Arc::default()),
        }
    }

    fn current(&self) -> Arc<HashMap<String, UnixSeconds>> {
        self.not_before
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Whether something issued at `issued_at` to `identity_id` of `pool_id` is refused.
    pub fn is_revoked(&self, identity_id: &str, pool_id: &str, issued_at: UnixSeconds) -> bool {
        let map = self.current();
        if map.is_empty() {
            return false;
        }
        [identity_subject(identity_id), pool_subject(pool_id)]
            .iter()
            .any(|subject| map.get(subject).is_some_and(|&t| issued_at <= t))
    }

    /// Whether the session of these claims is refused.
    pub fn session_is_revoked(&self, claims: &SessionClaims) -> bool {
        claims.cognito_identity().is_some_and(|(identity, pool)| {
            self.is_revoked(identity, pool, claims.revocable_since())
        })
    }

    /// Revoke what was issued to the identity until `at`.
    pub async fn revoke_identity(
        &self,
        identity_id: &str,
        at: UnixSeconds,
    ) -> Result<(), StoreError> {
        self.revoke(&identity_subject(identity_id), at).await
    }

    /// Revoke what was issued to every identity of the pool until `at`.
    pub async fn revoke_pool(&self, pool_id: &str, at: UnixSeconds) -> Result<(), StoreError> {
        self.revoke(&pool_subject(pool_id), at).await
    }

    /// Revoke what was issued to `subject` until `at`: stored for every node, in force on this
    /// one at once.
    async fn revoke(&self, subject: &str, at: UnixSeconds) -> Result<(), StoreError> {
        self.store.revoke_sessions(subject, at).await?;
        let mut guard = self
            .not_before
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let mut map = HashMap::clone(&guard);
        let entry = map.entry(subject.to_owned()).or_insert(at);
        *entry = (*entry).max(at);
        *guard = Arc::new(map);
        Ok(())
    }

    /// Read every revocation again (those made by other nodes and by `tegata identities`).
    /// What this node holds is kept too: a revocation it made may have been written after the
    /// read began.
    pub async fn refresh(&self) -> Result<(), StoreError> {
        let stored = self.store.session_revocations().await?;
        let mut guard = self
            .not_before
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let mut map = HashMap::clone(&guard);
        for (subject, at) in stored {
            let entry = map.entry(subject).or_insert(at);
            *entry = (*entry).max(at);
        }
        *guard = Arc::new(map);
        Ok(())
    }

    /// Forget the revocations nothing alive can be refused by any more, here and in the store.
    pub async fn prune(&self, now: UnixSeconds) -> Result<u64, StoreError> {
        let before = now - KEPT_FOR;
        let pruned = self.store.prune_session_revocations(before).await?;
        let mut guard = self
            .not_before
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let mut map = HashMap::clone(&guard);
        map.retain(|_, at| *at >= before);
        *guard = Arc::new(map);
        Ok(pruned)
    }

    /// How many subjects have revoked sessions (for the metrics).
    pub fn len(&self) -> usize {
        self.current().len()
    }

    pub fn is_empty(&self) -> bool {
        self.current().is_empty()
    }
}
