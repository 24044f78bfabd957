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

/// How long a revocation is kept: past the longest token (24 h), which outlives the longest
/// session of an identity (a role's 12 h), with room for clocks that disagree.
pub const KEPT_FOR: i64 = LONGEST_TOKEN_LIFETIME + 300;

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
        [identity_id, pool_id]
            .iter()
            .any(|subject| map.get(*subject).is_some_and(|&t| issued_at <= t))
    }

    /// Whether the session of these claims is refused.
    pub fn session_is_revoked(&self, claims: &SessionClaims) -> bool {
        claims
            .cognito_identity()
            .is_some_and(|(identity, pool)| self.is_revoked(identity, pool, claims.issued_at))
    }

    /// Revoke what was issued to `subject` until `at`: stored for every node, in force on this
    /// one at once.
    pub async fn revoke(&self, subject: &str, at: UnixSeconds) -> Result<(), StoreError> {
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
