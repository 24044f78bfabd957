//! Keeping a node's key ring current, and the keys' lifecycle moving.
//!
//! Every node reads the stored keys every [`KEY_RELOAD_SECONDS`] and swaps its ring when what
//! verifies has changed: a rotation or revocation made anywhere (another node, `tegata keys`)
//! is in force everywhere within seconds, without a restart. Each node also publishes a next key
//! when there is none and rotates when the active key is due; the store's compare-and-set makes
//! one node win and the others find the change at their next read.

use std::sync::{Arc, Mutex, PoisonError};

use crate::UnixSeconds;
use crate::master_key::MasterKey;
use crate::random::Randomness;
use crate::store::{Store, StoreError};
use crate::tokens::TokenIssuer;
use crate::tokens::keys::{KeyRing, KeyState, SigningKeyError, SigningKeyRecord};
use crate::tokens::lifecycle::{
    self, KEY_RELOAD_SECONDS, KeyChange, KeyLifecycleError, NEXT_KEY_PUBLISHED_EVERYWHERE,
};

#[derive(Debug, thiserror::Error)]
pub enum KeyKeeperError {
    #[error("reading or changing the signing keys: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    Lifecycle(#[from] KeyLifecycleError),
    #[error(transparent)]
    Key(#[from] SigningKeyError),
    #[error("the deployment has no active signing key")]
    NoActiveKey,
    #[error("generating a signing key stopped: {0}")]
    Generation(String),
}

/// What a ring was built from: each stored key's id and state, and whether it verifies.
pub type RingSource = Vec<(String, KeyState, bool)>;

/// What one round did, for the caller's log.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct KeeperRound {
    /// The ring was rebuilt (the keys changed, or a retired key stopped verifying).
    pub reloaded: bool,
    /// This node published a next key, or rotated.
    pub changed: Option<KeyChangeKind>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyChangeKind {
    PublishedNextKey,
    Rotated,
}

pub struct KeyKeeper {
    store: Arc<dyn Store>,
    master: Arc<MasterKey>,
    issuer: Arc<TokenIssuer>,
    /// Seconds an active key signs before the scheduled rotation; `None`: never.
    rotate_every: Option<i64>,
    rng: Arc<dyn Randomness>,
    loaded: Mutex<RingSource>,
}

/// The ring of the stored keys at `now`, and what it was built from.
pub fn load_ring(
    records: &[SigningKeyRecord],
    master: &MasterKey,
    now: UnixSeconds,
) -> Result<(KeyRing, RingSource), KeyKeeperError> {
    let ring = KeyRing::load(records, master, now)?;
    if ring.active().is_none() {
        return Err(KeyKeeperError::NoActiveKey);
    }
    Ok((ring, ring_source(records, now)))
}

fn ring_source(records: &[SigningKeyRecord], now: UnixSeconds) -> RingSource {
    records
        .iter()
        .map(|r| (r.kid.clone(), r.state, lifecycle::verifies_at(r, now)))
        .collect()
}

impl KeyKeeper {
    /// `issuer` holds the ring built from `loaded` (see [`load_ring`]).
    pub fn new(
        store: Arc<dyn Store>,
        master: Arc<MasterKey>,
        issuer: Arc<TokenIssuer>,
        loaded: RingSource,
        rotate_every: Option<i64>,
        rng: Arc<dyn Randomness>,
    ) -> Self {
        Self {
            store,
            master,
            issuer,
            rotate_every,
            rng,
            loaded: Mutex::new(loaded),
        }
    }

    /// The ring this node signs and verifies with now.
    pub fn ring(&self) -> Arc<KeyRing> {
        self.issuer.keys()
    }

    /// How often [`Self::round`] should run.
    pub fn period() -> std::time::Duration {
        std::time::Duration::from_secs(KEY_RELOAD_SECONDS.unsigned_abs())
    }

    /// Read the keys and swap the ring if what verifies changed; then publish a next key when
    /// there is none, or rotate when the active key is due.
    pub async fn round(&self, now: UnixSeconds) -> Result<KeeperRound, KeyKeeperError> {
        let records = self.store.signing_keys().await?;
        let mut round = KeeperRound {
            reloaded: self.reload_if_changed(&records, now)?,
            changed: None,
        };
        let wanted = if records.iter().all(|r| r.state != KeyState::Next) {
            Some(KeyChangeKind::PublishedNextKey)
        } else if lifecycle::rotation_due(&records, self.rotate_every, now) {
            Some(KeyChangeKind::Rotated)
        } else {
            None
        };
        let Some(kind) = wanted else {
            return Ok(round);
        };
        let Some(change) = self.plan(kind, records, now).await? else {
            return Ok(round);
        };
        match self.store.apply_key_change(&change).await {
            Ok(()) => {
                round.changed = Some(kind);
                let records = self.store.signing_keys().await?;
                round.reloaded |= self.reload_if_changed(&records, now)?;
            }
            // Another node made the same change first; its result is read next round.
            Err(StoreError::ConcurrentModification) => {}
            Err(e) => return Err(e.into()),
        }
        Ok(round)
    }

    /// Plan `kind` on a blocking thread: making an RSA key takes tens of milliseconds of CPU.
    async fn plan(
        &self,
        kind: KeyChangeKind,
        records: Vec<SigningKeyRecord>,
        now: UnixSeconds,
    ) -> Result<Option<KeyChange>, KeyKeeperError> {
        let master = self.master.clone();
        let rng = self.rng.clone();
        let planned = tokio::task::spawn_blocking(move || match kind {
            KeyChangeKind::PublishedNextKey => {
                lifecycle::plan_next_key(&records, &master, now, &*rng)
            }
            KeyChangeKind::Rotated => lifecycle::plan_rotation(
                &records,
                NEXT_KEY_PUBLISHED_EVERYWHERE,
                &master,
                now,
                &*rng,
            )
            .map(Some),
        })
        .await
        .map_err(|e| KeyKeeperError::Generation(e.to_string()))??;
        Ok(planned)
    }

    fn reload_if_changed(
        &self,
        records: &[SigningKeyRecord],
        now: UnixSeconds,
    ) -> Result<bool, KeyKeeperError> {
        let source = ring_source(records, now);
        let mut loaded = self.loaded.lock().unwrap_or_else(PoisonError::into_inner);
        if *loaded == source {
            return Ok(false);
        }
        let (ring, source) = load_ring(records, &self.master, now)?;
        self.issuer.replace_keys(ring);
        *loaded = source;
        Ok(true)
    }
}
