//! The signing keys' lifecycle: a key is published as `next` before it signs, signs while
//! `active`, still verifies while `retired` (until the last token it signed has expired), and
//! verifies nothing once `revoked`.
//!
//! Each change is planned here from the stored keys, as a list of state transitions the store
//! applies in one transaction only if every key is still in the state the plan saw: two nodes
//! (or a node and `tegata keys`) acting at once cannot both win.

use crate::UnixSeconds;
use crate::master_key::MasterKey;
use crate::random::Randomness;
use crate::tokens::keys::{
    KeyState, SigningKeyError, SigningKeyRecord, TokenAlgorithm, generate_signing_key,
};
use crate::tokens::verify::EXPIRY_LEEWAY_SECONDS;

/// The longest a token of this deployment lives: GetOpenIdTokenForDeveloperIdentity's largest
/// `TokenDuration`.
pub const LONGEST_TOKEN_LIFETIME: i64 = 86_400;

/// How long relying parties may cache the key set (discovery's `Cache-Control: max-age`).
pub const JWKS_MAX_AGE_SECONDS: i64 = 300;

/// How often every node reads the stored keys again, so that a change made on one node (or by
/// `tegata keys`) is in force on all of them within two of these.
pub const KEY_RELOAD_SECONDS: i64 = 2;

/// A next key signs only once every node has loaded it (two reloads and a second of margin):
/// a node that had not would refuse the tokens it signs as signed by an unknown key.
pub const NEXT_KEY_LOADED_EVERYWHERE: i64 = 2 * KEY_RELOAD_SECONDS + 1;

/// A next key signs, in a scheduled rotation, only once relying parties that cache the key set
/// have had the time to fetch it.
pub const NEXT_KEY_PUBLISHED_EVERYWHERE: i64 = JWKS_MAX_AGE_SECONDS + NEXT_KEY_LOADED_EVERYWHERE;

/// Whether tokens signed by this key verify at `now`: next and active keys, and retired keys
/// until the last token they can have signed has expired.
pub fn verifies_at(record: &SigningKeyRecord, now: UnixSeconds) -> bool {
    match record.state {
        KeyState::Next | KeyState::Active => true,
        KeyState::Retired => now <= retired_key_verifies_until(record),
        KeyState::Revoked => false,
    }
}

/// The last moment a retired key's tokens can still be accepted.
pub fn retired_key_verifies_until(record: &SigningKeyRecord) -> UnixSeconds {
    record.state_changed_at + LONGEST_TOKEN_LIFETIME + EXPIRY_LEEWAY_SECONDS as i64
}

/// One key moving from one state to another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyTransition {
    pub kid: String,
    pub from: KeyState,
    pub to: KeyState,
}

/// A change to the deployment's keys, applied whole or not at all.
#[derive(Debug, Clone)]
pub struct KeyChange {
    pub at: UnixSeconds,
    /// Applied in order: a key leaves `active` before another enters it.
    pub transitions: Vec<KeyTransition>,
    /// A newly made key (always `next`).
    pub new_key: Option<SigningKeyRecord>,
}

impl KeyChange {
    /// The key that signs after the change, when the change names one.
    pub fn new_active(&self) -> Option<&str> {
        self.transitions
            .iter()
            .find(|t| t.to == KeyState::Active)
            .map(|t| t.kid.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyLifecycleError {
    #[error("no signing key has the id {0}")]
    UnknownKey(String),
    #[error("signing key {0} is already revoked")]
    AlreadyRevoked(String),
    #[error("the deployment has no active signing key")]
    NoActiveKey,
    #[error("the deployment has no next key to make active")]
    NoNextKey,
    /// The next key was published too recently for every verifier to know it.
    #[error(
        "the next key {kid} was published {age} s ago; it may sign only once it has been \
         published {needed} s"
    )]
    NextKeyTooYoung { kid: String, age: i64, needed: i64 },
    #[error(transparent)]
    Key(#[from] SigningKeyError),
}

fn find(records: &[SigningKeyRecord], state: KeyState) -> Option<&SigningKeyRecord> {
    records.iter().find(|r| r.state == state)
}

/// The algorithm of the keys the deployment makes: the next key's (the one that signs after the
/// next rotation), else the active key's. It lives in the store rather than in each node's
/// settings, so that nodes started with different settings cannot take turns replacing each
/// other's next key; `tegata keys rotate --algorithm` changes it.
pub fn deployment_algorithm(records: &[SigningKeyRecord]) -> TokenAlgorithm {
    find(records, KeyState::Next)
        .or_else(|| find(records, KeyState::Active))
        .and_then(|r| TokenAlgorithm::parse(&r.algorithm))
        .unwrap_or_default()
}

/// Moving the deployment to `algorithm`: the next key, which has signed nothing, is revoked and
/// a next key of the new algorithm is published; it signs from the next rotation on. `None`
/// when the deployment already makes keys of that algorithm.
pub fn plan_algorithm_change(
    records: &[SigningKeyRecord],
    algorithm: TokenAlgorithm,
    master: &MasterKey,
    now: UnixSeconds,
    rng: &dyn Randomness,
) -> Result<Option<KeyChange>, KeyLifecycleError> {
    if deployment_algorithm(records) == algorithm {
        return Ok(None);
    }
    Ok(Some(KeyChange {
        at: now,
        transitions: find(records, KeyState::Next)
            .map(|next| transition(next, KeyState::Revoked))
            .into_iter()
            .collect(),
        new_key: Some(next_key(master, algorithm, now, rng)?),
    }))
}

/// A next key, made now, when the deployment has none: it is published at once and signs at
/// the next rotation. `None` when there is one already.
pub fn plan_next_key(
    records: &[SigningKeyRecord],
    master: &MasterKey,
    now: UnixSeconds,
    rng: &dyn Randomness,
) -> Result<Option<KeyChange>, KeyLifecycleError> {
    if find(records, KeyState::Next).is_some() {
        return Ok(None);
    }
    let algorithm = deployment_algorithm(records);
    Ok(Some(KeyChange {
        at: now,
        transitions: Vec::new(),
        new_key: Some(next_key(master, algorithm, now, rng)?),
    }))
}

/// A rotation: the active key retires, the next key (published at least `min_next_age` seconds
/// ago) signs, and a new next key is published.
pub fn plan_rotation(
    records: &[SigningKeyRecord],
    min_next_age: i64,
    master: &MasterKey,
    now: UnixSeconds,
    rng: &dyn Randomness,
) -> Result<KeyChange, KeyLifecycleError> {
    let active = find(records, KeyState::Active).ok_or(KeyLifecycleError::NoActiveKey)?;
    let next = find(records, KeyState::Next).ok_or(KeyLifecycleError::NoNextKey)?;
    let age = now - next.state_changed_at;
    if age < min_next_age {
        return Err(KeyLifecycleError::NextKeyTooYoung {
            kid: next.kid.clone(),
            age,
            needed: min_next_age,
        });
    }
    Ok(KeyChange {
        at: now,
        transitions: vec![
            transition(active, KeyState::Retired),
            transition(next, KeyState::Active),
        ],
        new_key: Some(next_key(master, deployment_algorithm(records), now, rng)?),
    })
}

/// Whether the active key has signed for `rotate_every` seconds and the next key may take over
/// (published everywhere). `None` for `rotate_every` means never.
pub fn rotation_due(
    records: &[SigningKeyRecord],
    rotate_every: Option<i64>,
    now: UnixSeconds,
) -> bool {
    let (Some(every), Some(active), Some(next)) = (
        rotate_every,
        find(records, KeyState::Active),
        find(records, KeyState::Next),
    ) else {
        return false;
    };
    now - active.state_changed_at >= every
        && now - next.state_changed_at >= NEXT_KEY_PUBLISHED_EVERYWHERE
}

/// Revoking `kid`: its tokens are refused at once. Revoking the active key makes the next key
/// sign at once (however young: a key that must not sign any more cannot wait); revoking the
/// next key publishes another.
pub fn plan_revocation(
    records: &[SigningKeyRecord],
    kid: &str,
    master: &MasterKey,
    now: UnixSeconds,
    rng: &dyn Randomness,
) -> Result<KeyChange, KeyLifecycleError> {
    let key = records
        .iter()
        .find(|r| r.kid == kid)
        .ok_or_else(|| KeyLifecycleError::UnknownKey(kid.to_owned()))?;
    let mut transitions = vec![transition(key, KeyState::Revoked)];
    let new_next = match key.state {
        KeyState::Revoked => return Err(KeyLifecycleError::AlreadyRevoked(kid.to_owned())),
        KeyState::Retired => false,
        KeyState::Next => true,
        KeyState::Active => {
            let next = find(records, KeyState::Next).ok_or(KeyLifecycleError::NoNextKey)?;
            transitions.push(transition(next, KeyState::Active));
            true
        }
    };
    let new_key = if new_next {
        Some(next_key(master, deployment_algorithm(records), now, rng)?)
    } else {
        None
    };
    Ok(KeyChange {
        at: now,
        transitions,
        new_key,
    })
}

/// A new key, published as next.
fn next_key(
    master: &MasterKey,
    algorithm: TokenAlgorithm,
    now: UnixSeconds,
    rng: &dyn Randomness,
) -> Result<SigningKeyRecord, SigningKeyError> {
    generate_signing_key(master, algorithm, KeyState::Next, now, rng)
}

fn transition(record: &SigningKeyRecord, to: KeyState) -> KeyTransition {
    KeyTransition {
        kid: record.kid.clone(),
        from: record.state,
        to,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SeededRandomness;

    fn record(kid: &str, state: KeyState, since: UnixSeconds) -> SigningKeyRecord {
        SigningKeyRecord {
            kid: kid.to_owned(),
            state,
            algorithm: crate::tokens::keys::RS512.to_owned(),
            encrypted_private_key: Vec::new(),
            master_key_id: String::new(),
            created_at: since,
            state_changed_at: since,
        }
    }

    /// Apply a change as the store would (for checking what a sequence of changes leaves).
    fn apply(records: &mut Vec<SigningKeyRecord>, change: KeyChange) {
        for t in change.transitions {
            let key = records.iter_mut().find(|r| r.kid == t.kid).unwrap();
            assert_eq!(key.state, t.from);
            key.state = t.to;
            key.state_changed_at = change.at;
        }
        records.extend(change.new_key);
    }

    fn states(records: &[SigningKeyRecord]) -> Vec<(String, KeyState)> {
        records.iter().map(|r| (r.kid.clone(), r.state)).collect()
    }

    #[test]
    fn rotation_retires_the_active_key_promotes_the_next_and_publishes_another() {
        let rng = SeededRandomness::new(1);
        let master = MasterKey::generate(&rng);
        let mut keys = vec![record("a", KeyState::Active, 0)];
        let next = plan_next_key(&keys, &master, 10, &rng).unwrap().unwrap();
        apply(&mut keys, next);
        assert!(plan_next_key(&keys, &master, 11, &rng).unwrap().is_none());
        let b = keys[1].kid.clone();

        // Too young for a scheduled rotation, old enough for a forced one.
        let young = plan_rotation(&keys, NEXT_KEY_PUBLISHED_EVERYWHERE, &master, 20, &rng);
        assert!(matches!(
            young,
            Err(KeyLifecycleError::NextKeyTooYoung { age: 10, .. })
        ));
        let change = plan_rotation(&keys, NEXT_KEY_LOADED_EVERYWHERE, &master, 20, &rng).unwrap();
        assert_eq!(change.new_active(), Some(b.as_str()));
        apply(&mut keys, change);
        let c = keys[2].kid.clone();
        assert_eq!(
            states(&keys),
            vec![
                ("a".to_owned(), KeyState::Retired),
                (b, KeyState::Active),
                (c, KeyState::Next)
            ]
        );

        // The retired key verifies while a token it signed can be alive, not after.
        let until = retired_key_verifies_until(&keys[0]);
        assert_eq!(until, 20 + LONGEST_TOKEN_LIFETIME + 5);
        assert!(verifies_at(&keys[0], until));
        assert!(!verifies_at(&keys[0], until + 1));
        assert!(verifies_at(&keys[2], until + 1));
    }

    #[test]
    fn a_rotation_is_due_after_the_period_once_the_next_key_is_published_everywhere() {
        let day = 86_400;
        let keys = vec![
            record("a", KeyState::Active, 0),
            record("b", KeyState::Next, 90 * day - 100),
        ];
        assert!(!rotation_due(&keys, Some(90 * day), 90 * day - 1));
        assert!(!rotation_due(&keys, Some(90 * day), 90 * day));
        assert!(rotation_due(&keys, Some(90 * day), 90 * day + 300));
        assert!(!rotation_due(&keys, None, 1000 * day));
        assert!(!rotation_due(&keys[..1], Some(day), 1000 * day));
    }

    #[test]
    fn revoking_each_kind_of_key() {
        let rng = SeededRandomness::new(2);
        let master = MasterKey::generate(&rng);
        let keys = vec![
            record("old", KeyState::Revoked, 0),
            record("r", KeyState::Retired, 1),
            record("a", KeyState::Active, 2),
            record("n", KeyState::Next, 3),
        ];
        let retired = plan_revocation(&keys, "r", &master, 9, &rng).unwrap();
        assert_eq!(retired.transitions.len(), 1);
        assert!(retired.new_key.is_none());

        // The active key: the next one signs at once, however young, and another is published.
        let active = plan_revocation(&keys, "a", &master, 9, &rng).unwrap();
        assert_eq!(active.new_active(), Some("n"));
        assert_eq!(active.transitions[0].to, KeyState::Revoked);
        assert_eq!(
            active.new_key.as_ref().map(|k| k.state),
            Some(KeyState::Next)
        );

        let next = plan_revocation(&keys, "n", &master, 9, &rng).unwrap();
        assert_eq!(next.new_active(), None);
        assert!(next.new_key.is_some());

        assert!(matches!(
            plan_revocation(&keys, "old", &master, 9, &rng),
            Err(KeyLifecycleError::AlreadyRevoked(_))
        ));
        assert!(matches!(
            plan_revocation(&keys, "nope", &master, 9, &rng),
            Err(KeyLifecycleError::UnknownKey(_))
        ));
        assert!(matches!(
            plan_revocation(&keys[..3], "a", &master, 9, &rng),
            Err(KeyLifecycleError::NoNextKey)
        ));
        assert!(!verifies_at(&keys[0], 0));
    }

    #[test]
    fn an_algorithm_change_replaces_the_next_key_and_takes_effect_at_the_rotation() {
        let rng = SeededRandomness::new(4);
        let master = MasterKey::generate(&rng);
        let mut keys = vec![
            record("a", KeyState::Active, 0),
            record("n", KeyState::Next, 1),
        ];
        assert_eq!(deployment_algorithm(&keys), TokenAlgorithm::Rs512);
        assert!(
            plan_algorithm_change(&keys, TokenAlgorithm::Rs512, &master, 5, &rng)
                .unwrap()
                .is_none()
        );

        let change = plan_algorithm_change(&keys, TokenAlgorithm::Es256, &master, 5, &rng)
            .unwrap()
            .unwrap();
        // The RSA next key, which never signed, is revoked; the active key signs on.
        assert_eq!(change.new_active(), None);
        assert_eq!(
            change.transitions,
            vec![KeyTransition {
                kid: "n".into(),
                from: KeyState::Next,
                to: KeyState::Revoked
            }]
        );
        apply(&mut keys, change);
        assert_eq!(deployment_algorithm(&keys), TokenAlgorithm::Es256);

        // Every key made from now on is an EC key: the rotation's new next key, and the one
        // published after a revocation.
        let rotation = plan_rotation(&keys, 0, &master, 20, &rng).unwrap();
        assert_eq!(rotation.new_key.as_ref().unwrap().algorithm, "ES256");
        apply(&mut keys, rotation);
        assert_eq!(keys[2].algorithm, "ES256");
        let active = keys[2].kid.clone();
        let revocation = plan_revocation(&keys, &active, &master, 30, &rng).unwrap();
        assert_eq!(revocation.new_key.as_ref().unwrap().algorithm, "ES256");
    }
}
