//! Argon2id password hashing on a bounded set of threads.
//!
//! One Argon2id hash at the default cost takes about 20 ms of CPU and 19 MiB of memory. Run on the
//! async workers, a burst of sign-ins would stall every other request; run without a bound, it
//! would allocate 19 MiB per attempt in flight. So hashes run on a [`CpuPool`] of few threads
//! (memory is bounded by threads × cost) with a short queue, and a full queue refuses the attempt
//! at once ([`HashingError::Busy`]) rather than letting it wait behind thousands of others.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use argon2::password_hash::phc::{PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};

use crate::Randomness;
use crate::cpu_pool::{CpuPool, CpuPoolStopped};

/// Bytes of salt drawn for each hash (the PHC recommendation).
const SALT_BYTES: usize = 16;

/// Argon2id's cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PasswordCost {
    /// Memory, in KiB.
    pub memory_kib: u32,
    /// Passes over the memory.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Default for PasswordCost {
    /// The argon2 crate's defaults, which are OWASP's first recommendation for Argon2id
    /// (19 MiB, two passes, one lane).
    fn default() -> Self {
        Self {
            memory_kib: Params::DEFAULT_M_COST,
            iterations: Params::DEFAULT_T_COST,
            parallelism: Params::DEFAULT_P_COST,
        }
    }
}

impl PasswordCost {
    fn params(self) -> Result<Params, String> {
        Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(|e| format!("invalid Argon2id cost ({e})"))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HashingError {
    /// Every hashing thread is busy and the queue is full.
    #[error("too many password checks are waiting")]
    Busy,
    #[error("the password hashing thread stopped")]
    Stopped,
}

impl From<CpuPoolStopped> for HashingError {
    fn from(e: CpuPoolStopped) -> Self {
        match e {
            CpuPoolStopped::Full => Self::Busy,
            CpuPoolStopped::Stopped => Self::Stopped,
        }
    }
}

/// The result of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verification {
    pub matches: bool,
    /// The stored hash was made with other parameters than the configured ones (or is not
    /// Argon2id): worth hashing the password again, now that it is known.
    pub outdated: bool,
}

/// Hashes and verifies passwords with one configured cost.
pub struct PasswordHashing {
    cost: PasswordCost,
    params: Params,
    pool: CpuPool,
    /// A hash of a random password with the configured cost: unknown users are checked against
    /// it, so that an unknown username takes as long to refuse as a wrong password.
    decoy: String,
    /// Argon2id verifications computed so far (decoys included).
    verifications: Arc<AtomicU64>,
}

impl std::fmt::Debug for PasswordHashing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHashing")
            .field("cost", &self.cost)
            .finish_non_exhaustive()
    }
}

impl PasswordHashing {
    /// `threads` hashes at once at most, `queue` more waiting.
    pub fn new(
        cost: PasswordCost,
        threads: usize,
        queue: usize,
        rng: &dyn Randomness,
    ) -> Result<Self, String> {
        let params = cost.params()?;
        let pool = CpuPool::new("tegata-passwords", threads, queue)
            .map_err(|e| format!("starting the password hashing threads: {e}"))?;
        let mut decoy_password = [0u8; 32];
        rng.fill(&mut decoy_password);
        let decoy = hash_with(&params, &decoy_password, &salt(rng))?;
        Ok(Self {
            cost,
            params,
            pool,
            decoy,
            verifications: Arc::new(AtomicU64::new(0)),
        })
    }

    pub fn cost(&self) -> PasswordCost {
        self.cost
    }

    /// How many Argon2id verifications were computed, decoys for unknown users included.
    pub fn verifications(&self) -> u64 {
        self.verifications.load(Ordering::Relaxed)
    }

    /// A PHC string (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`) of `password` with a fresh salt.
    pub async fn hash(
        &self,
        password: &[u8],
        rng: &dyn Randomness,
    ) -> Result<String, HashingError> {
        let params = self.params.clone();
        let password = password.to_vec();
        let salt = salt(rng);
        self.pool
            .run(move || hash_with(&params, &password, &salt))
            .await?
            .map_err(|_| HashingError::Stopped)
    }

    /// Check `password` against `stored`, or against the decoy when there is no stored hash (the
    /// user is unknown), which takes the same time and never matches.
    pub async fn verify(
        &self,
        password: &[u8],
        stored: Option<&str>,
    ) -> Result<Verification, HashingError> {
        let known = stored.is_some();
        let stored = stored.unwrap_or(&self.decoy).to_owned();
        let password = password.to_vec();
        let params = self.params.clone();
        let verifications = self.verifications.clone();
        self.pool
            .run(move || {
                let Ok(parsed) = PasswordHash::new(&stored) else {
                    // A stored hash tegata cannot read matches nothing; it is reported as
                    // outdated so the operator's next `passwd` replaces it.
                    return Verification {
                        matches: false,
                        outdated: true,
                    };
                };
                // Computed whether or not the user is known: the decoy's hash costs what a
                // real one does, so the time taken does not say which it was.
                let right = Argon2::default()
                    .verify_password(&password, &parsed)
                    .is_ok();
                verifications.fetch_add(1, Ordering::Relaxed);
                let outdated = parsed.algorithm != argon2::ARGON2ID_IDENT
                    || Params::try_from(&parsed).map_or(true, |p| {
                        p.m_cost() != params.m_cost()
                            || p.t_cost() != params.t_cost()
                            || p.p_cost() != params.p_cost()
                    });
                Verification {
                    matches: known && right,
                    outdated,
                }
            })
            .await
            .map_err(HashingError::from)
    }
}

fn salt(rng: &dyn Randomness) -> [u8; SALT_BYTES] {
    let mut salt = [0u8; SALT_BYTES];
    rng.fill(&mut salt);
    salt
}

fn hash_with(params: &Params, password: &[u8], salt: &[u8]) -> Result<String, String> {
    // Salt::new only refuses lengths outside 4..=64 bytes; ours is 16.
    Salt::new(salt).map_err(|e| e.to_string())?;
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_with_salt(password, salt)
        .map(|hash| hash.to_string())
        .map_err(|e| format!("hashing a password: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SeededRandomness;

    /// A cheap cost for tests: the algorithm is the same.
    const CHEAP: PasswordCost = PasswordCost {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let rng = SeededRandomness::new(1);
        let hashing = PasswordHashing::new(CHEAP, 1, 8, &rng).unwrap();
        let hash = hashing.hash(b"correct horse", &rng).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=64,t=1,p=1$"), "{hash}");
        let right = hashing.verify(b"correct horse", Some(&hash)).await.unwrap();
        assert_eq!(
            right,
            Verification {
                matches: true,
                outdated: false
            }
        );
        let wrong = hashing.verify(b"correct horsf", Some(&hash)).await.unwrap();
        assert!(!wrong.matches);
        // Two hashes of one password differ (the salt).
        assert_ne!(hash, hashing.hash(b"correct horse", &rng).await.unwrap());
    }

    #[tokio::test]
    async fn unknown_users_and_unreadable_hashes_never_match() {
        let rng = SeededRandomness::new(2);
        let hashing = PasswordHashing::new(CHEAP, 1, 8, &rng).unwrap();
        assert!(!hashing.verify(b"anything", None).await.unwrap().matches);
        // The decoy was really computed: an unknown user costs one verification, as a known one.
        assert_eq!(hashing.verifications(), 1);
        let hash = hashing.hash(b"password1", &rng).await.unwrap();
        assert!(
            hashing
                .verify(b"password1", Some(&hash))
                .await
                .unwrap()
                .matches
        );
        assert_eq!(hashing.verifications(), 2);
        let garbage = hashing
            .verify(b"anything", Some("not a hash"))
            .await
            .unwrap();
        assert!(!garbage.matches && garbage.outdated);
    }

    #[tokio::test]
    async fn a_hash_of_another_cost_is_outdated_but_still_verifies() {
        let rng = SeededRandomness::new(3);
        let old = PasswordHashing::new(CHEAP, 1, 8, &rng).unwrap();
        let hash = old.hash(b"password1", &rng).await.unwrap();
        let stronger = PasswordCost {
            memory_kib: 128,
            ..CHEAP
        };
        let new = PasswordHashing::new(stronger, 1, 8, &rng).unwrap();
        let checked = new.verify(b"password1", Some(&hash)).await.unwrap();
        assert!(checked.matches && checked.outdated);
    }

    #[test]
    fn an_impossible_cost_is_refused_with_a_reason() {
        let rng = SeededRandomness::new(4);
        let zero_passes = PasswordCost {
            iterations: 0,
            ..CHEAP
        };
        let error = PasswordHashing::new(zero_passes, 1, 8, &rng).unwrap_err();
        assert!(error.contains("Argon2id cost"), "{error}");
    }
}
