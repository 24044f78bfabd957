//! A cache for hot-path reads that may lag behind writes made on other nodes by up to a second.
//!
//! Every AssumeRoleWithWebIdentity reads its role and parses the role's trust policy. IAM itself
//! is eventually consistent ("changes … may not be immediately visible"), so serving a role read
//! earlier in the same second is faithful; writes made through this node forget the entry at
//! once, so a node always sees its own writes.

use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::UnixSeconds;

/// Entries beyond this many are pruned to those of the current second when one is added.
const PRUNE_ABOVE: usize = 1024;

pub struct SecondCache<V> {
    entries: RwLock<HashMap<String, (UnixSeconds, V)>>,
    /// Bumped by every `forget`, so that a read which began before a write cannot store what it
    /// read after the write forgot the key.
    generation: AtomicU64,
}

impl<V> Default for SecondCache<V> {
    fn default() -> Self {
        Self {
            entries: RwLock::new(HashMap::new()),
            generation: AtomicU64::new(0),
        }
    }
}

impl<V: Clone> SecondCache<V> {
    /// The value read for `key` during second `now`, or what `load` reads (kept for the rest of
    /// that second when it finds something; absent keys are not remembered).
    pub async fn get_or_load<E, F>(
        &self,
        key: &str,
        now: UnixSeconds,
        load: impl FnOnce() -> F,
    ) -> Result<Option<V>, E>
    where
        F: Future<Output = Result<Option<V>, E>>,
    {
        if let Some((read_at, value)) = self.read().get(key)
            && *read_at == now
        {
            return Ok(Some(value.clone()));
        }
        let generation = self.generation.load(Ordering::Acquire);
        let loaded = load().await?;
        if let Some(value) = &loaded {
            let mut entries = self.write();
            if self.generation.load(Ordering::Acquire) == generation {
                if entries.len() >= PRUNE_ABOVE {
                    entries.retain(|_, (read_at, _)| *read_at == now);
                }
                entries.insert(key.to_owned(), (now, value.clone()));
            }
        }
        Ok(loaded)
    }

    /// Drop `key` after a write through this node, so the next read sees the write.
    pub fn forget(&self, key: &str) {
        let mut entries = self.write();
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.remove(key);
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, (UnixSeconds, V)>> {
        self.entries
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, HashMap<String, (UnixSeconds, V)>> {
        self.entries
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::sync::atomic::AtomicU32;

    use super::*;

    /// A loader that counts its reads and answers `value`.
    fn loader<'a>(
        reads: &'a AtomicU32,
        value: Option<&'static str>,
    ) -> impl FnOnce() -> std::future::Ready<Result<Option<&'static str>, Infallible>> + 'a {
        move || {
            reads.fetch_add(1, Ordering::Relaxed);
            std::future::ready(Ok(value))
        }
    }

    #[tokio::test]
    async fn serves_a_read_for_the_rest_of_its_second_only() {
        let cache = SecondCache::default();
        let reads = AtomicU32::new(0);
        for _ in 0..3 {
            let got = cache
                .get_or_load("role", 100, loader(&reads, Some("v1")))
                .await;
            assert_eq!(got, Ok(Some("v1")));
        }
        assert_eq!(reads.load(Ordering::Relaxed), 1, "one read in second 100");
        let got = cache
            .get_or_load("role", 101, loader(&reads, Some("v2")))
            .await;
        assert_eq!(got, Ok(Some("v2")), "the next second reads again");
        assert_eq!(reads.load(Ordering::Relaxed), 2);
    }

    #[tokio::test]
    async fn absent_keys_are_read_every_time() {
        let cache = SecondCache::<&str>::default();
        let reads = AtomicU32::new(0);
        for _ in 0..2 {
            let got = cache
                .get_or_load("missing", 100, loader(&reads, None))
                .await;
            assert_eq!(got, Ok(None));
        }
        assert_eq!(reads.load(Ordering::Relaxed), 2);
    }

    #[tokio::test]
    async fn forget_makes_the_next_read_see_a_write() {
        let cache = SecondCache::default();
        let reads = AtomicU32::new(0);
        let _ = cache
            .get_or_load("role", 100, loader(&reads, Some("old")))
            .await;
        cache.forget("role");
        let got = cache
            .get_or_load("role", 100, loader(&reads, Some("new")))
            .await;
        assert_eq!(got, Ok(Some("new")));
        assert_eq!(reads.load(Ordering::Relaxed), 2);
    }

    #[tokio::test]
    async fn a_read_overtaken_by_a_forget_is_not_kept() {
        let cache = SecondCache::default();
        let got = cache
            .get_or_load("role", 100, || async {
                // A write through this node lands while this read is in flight.
                cache.forget("role");
                Ok::<_, Infallible>(Some("read before the write"))
            })
            .await;
        assert_eq!(got, Ok(Some("read before the write")));
        let reads = AtomicU32::new(0);
        let got = cache
            .get_or_load("role", 100, loader(&reads, Some("new")))
            .await;
        assert_eq!(got, Ok(Some("new")));
        assert_eq!(reads.load(Ordering::Relaxed), 1);
    }

    #[tokio::test]
    async fn stays_bounded_by_pruning_entries_of_past_seconds() {
        let cache = SecondCache::default();
        let reads = AtomicU32::new(0);
        for i in 0..PRUNE_ABOVE {
            let _ = cache
                .get_or_load(&format!("k{i}"), 1, loader(&reads, Some("v")))
                .await;
        }
        let _ = cache
            .get_or_load("late", 2, loader(&reads, Some("v")))
            .await;
        assert_eq!(cache.read().len(), 1);
    }
}
