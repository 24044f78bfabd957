//! Caches for the hot paths.
//!
//! [`SecondCache`] keeps reads that may lag behind writes made on other nodes by up to a second.
//! Every AssumeRoleWithWebIdentity reads its role and parses the role's trust policy. IAM itself
//! is eventually consistent ("changes … may not be immediately visible"), so serving a role read
//! earlier in the same second is faithful; writes made through this node forget the entry at
//! once, so a node always sees its own writes.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};

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

    /// Drop every entry, after a write that may change many of them (a managed policy's new
    /// default version changes every principal it is attached to).
    pub fn forget_all(&self) {
        let mut entries = self.write();
        self.generation.fetch_add(1, Ordering::AcqRel);
        entries.clear();
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

/// A map of work already done that can always be redone (a session token opened, a key
/// derived), bounded without bookkeeping per entry: inserts go to the current generation; when it
/// holds `capacity` entries it becomes the previous one and the previous one is dropped; a hit in
/// the previous generation moves back to the current one. So it never holds more than
/// `2 × capacity` entries, and entries in use survive a turnover.
pub struct GenerationCache<V> {
    capacity: usize,
    generations: Mutex<Generations<V>>,
}

struct Generations<V> {
    current: HashMap<String, V>,
    previous: HashMap<String, V>,
}

impl<V: Clone> GenerationCache<V> {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(1),
            generations: Mutex::new(Generations {
                current: HashMap::new(),
                previous: HashMap::new(),
            }),
        }
    }

    pub fn get(&self, key: &str) -> Option<V> {
        let mut g = self.lock();
        if let Some(value) = g.current.get(key) {
            return Some(value.clone());
        }
        let (key, value) = g.previous.remove_entry(key)?;
        let hit = value.clone();
        self.insert_locked(&mut g, key, value);
        Some(hit)
    }

    pub fn insert(&self, key: String, value: V) {
        let mut g = self.lock();
        self.insert_locked(&mut g, key, value);
    }

    pub fn len(&self) -> usize {
        let g = self.lock();
        g.current.len() + g.previous.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn insert_locked(&self, g: &mut Generations<V>, key: String, value: V) {
        if g.current.len() >= self.capacity && !g.current.contains_key(&key) {
            g.previous = std::mem::take(&mut g.current);
        }
        g.previous.remove(&key);
        g.current.insert(key, value);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Generations<V>> {
        self.generations
            .lock()
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

    #[test]
    fn generation_cache_keeps_what_is_in_use_and_stays_bounded() {
        let cache = GenerationCache::new(2);
        cache.insert("a".into(), 1);
        cache.insert("b".into(), 2);
        // "a" and "b" move to the previous generation when "c" arrives.
        cache.insert("c".into(), 3);
        assert_eq!(cache.len(), 3);
        // A hit in the previous generation brings "a" back into the current one…
        assert_eq!(cache.get("a"), Some(1));
        // …so the next turnover drops "b", never used since, and keeps "a".
        cache.insert("d".into(), 4);
        assert_eq!(cache.get("b"), None);
        assert_eq!(cache.get("a"), Some(1));
        assert_eq!(cache.get("d"), Some(4));
        for i in 0..100 {
            cache.insert(format!("k{i}"), i);
            assert!(cache.len() <= 4, "never more than two generations of two");
        }
        // Replacing a key that is present does not turn the generations over.
        let cache = GenerationCache::new(2);
        cache.insert("a".into(), 1);
        cache.insert("b".into(), 2);
        cache.insert("b".into(), 3);
        assert_eq!((cache.get("a"), cache.get("b")), (Some(1), Some(3)));
    }
}
