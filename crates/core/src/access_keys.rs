//! Long-term access keys (`AKIA…`) as request authentication needs them: the secret (decrypted
//! with the master key) and whose key it is. Kept for a second per node, so a busy node does
//! not read the database on every request; an operation that changes a key forgets it here, and
//! the other nodes see the change (a key deactivated or deleted) within [`KEY_CACHE_TTL`].
//!
//! Each key's last use (GetAccessKeyLastUsed) is recorded at most once per
//! [`LAST_USE_EVERY`] per node, so signing many requests costs no write per request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::UnixSeconds;
use crate::account::Principal;
use crate::deployment::Deployment;
use crate::error::Internal;
use crate::master_key::MasterKey;
use crate::store::Store;

/// How long a looked-up key is trusted before it is read again: a deactivated key is refused
/// by every node within it.
pub const KEY_CACHE_TTL: Duration = Duration::from_secs(1);

/// How often a key's last use is written, at most.
pub const LAST_USE_EVERY: Duration = Duration::from_secs(60);

/// Keys remembered at most; beyond it the oldest half is dropped.
const MAX_CACHED_KEYS: usize = 4096;

/// An active key: its secret and its owner.
pub struct ResolvedKey {
    secret: String,
    pub principal: Principal,
    fetched: Instant,
}

impl ResolvedKey {
    pub fn secret(&self) -> &str {
        &self.secret
    }
}

// The secret is a credential: never in a Debug rendering.
impl std::fmt::Debug for ResolvedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResolvedKey")
            .field("principal", &self.principal)
            .finish_non_exhaustive()
    }
}

pub struct AccessKeys {
    store: Arc<dyn Store>,
    master: Arc<MasterKey>,
    deployment: Arc<Deployment>,
    cache: Mutex<HashMap<String, Arc<ResolvedKey>>>,
    /// Bumped by every `forget`, so that a read which began before a change made through this
    /// node cannot store what it read once the change forgot the key.
    generation: std::sync::atomic::AtomicU64,
    /// When this node last recorded each key's use.
    recorded_uses: Mutex<HashMap<String, Instant>>,
}

impl AccessKeys {
    pub fn new(store: Arc<dyn Store>, master: Arc<MasterKey>, deployment: Arc<Deployment>) -> Self {
        Self {
            store,
            master,
            deployment,
            cache: Mutex::new(HashMap::new()),
            generation: std::sync::atomic::AtomicU64::new(0),
            recorded_uses: Mutex::new(HashMap::new()),
        }
    }

    /// Whether this node should record a use of `access_key_id` now: not when it did less than
    /// [`LAST_USE_EVERY`] ago. A `true` is remembered as the recording.
    pub fn use_is_due(&self, access_key_id: &str) -> bool {
        let mut recorded = self
            .recorded_uses
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if recorded
            .get(access_key_id)
            .is_some_and(|at| at.elapsed() < LAST_USE_EVERY)
        {
            return false;
        }
        if recorded.len() >= MAX_CACHED_KEYS {
            recorded.retain(|_, at| at.elapsed() < LAST_USE_EVERY);
        }
        recorded.insert(access_key_id.to_owned(), Instant::now());
        true
    }

    /// Record that `access_key_id` signed a request for `service` in `region`. Best effort: a
    /// failed write is only logged.
    pub async fn record_use(
        &self,
        access_key_id: &str,
        now: UnixSeconds,
        region: &str,
        service: &str,
    ) {
        if let Err(e) = self
            .store
            .record_access_key_use(access_key_id, now, region, service)
            .await
        {
            tracing::warn!(error = %e, "recording an access key's last use failed");
        }
    }

    /// The active key `access_key_id`, or `None` when no active key has that id.
    pub async fn resolve(&self, access_key_id: &str) -> Result<Option<Arc<ResolvedKey>>, Internal> {
        if let Some(hit) = self.cached(access_key_id) {
            return Ok(Some(hit));
        }
        let generation = self.generation.load(std::sync::atomic::Ordering::Acquire);
        let Some(record) = self
            .store
            .access_key(access_key_id)
            .await?
            .filter(|r| r.active)
        else {
            return Ok(None);
        };
        let secret = record.secret(&self.master).map_err(|e| {
            Internal::caused_by(format!("decrypting access key {access_key_id}"), e)
        })?;
        // The user's ARN includes its path (GetCallerIdentity, denials, aws:PrincipalArn). A
        // key whose user is gone, or is another user of the same name, is no key at all.
        let Some(user) = self
            .store
            .user(&record.user_name)
            .await?
            .filter(|user| user.user_id == record.user_id)
        else {
            return Ok(None);
        };
        let path = user.path;
        let resolved = Arc::new(ResolvedKey {
            secret,
            principal: Principal::iam_user(
                &self.deployment.account_id,
                &path,
                &record.user_name,
                &record.user_id,
            ),
            fetched: Instant::now(),
        });
        let mut cache = self.lock();
        if self.generation.load(std::sync::atomic::Ordering::Acquire) == generation {
            if cache.len() >= MAX_CACHED_KEYS {
                cache.retain(|_, key| key.fetched.elapsed() < KEY_CACHE_TTL / 2);
            }
            cache.insert(access_key_id.to_owned(), resolved.clone());
        }
        Ok(Some(resolved))
    }

    /// Drop what this node remembers of a key, after a change to it through this node.
    pub fn forget(&self, access_key_id: &str) {
        let mut cache = self.lock();
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        cache.remove(access_key_id);
    }

    fn cached(&self, access_key_id: &str) -> Option<Arc<ResolvedKey>> {
        self.lock()
            .get(access_key_id)
            .filter(|key| key.fetched.elapsed() < KEY_CACHE_TTL)
            .cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<ResolvedKey>>> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
