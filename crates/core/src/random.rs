//! Randomness as an argument: production code passes [`SystemRandomness`], tests may pass a
//! seeded source so identifiers are reproducible.

use std::sync::atomic::{AtomicU64, Ordering};

use aws_lc_rs::{digest, rand::SecureRandom};

/// A source of random bytes. Implementations must be safe to share between tasks.
pub trait Randomness: Send + Sync {
    fn fill(&self, dest: &mut [u8]);
}

/// The operating system's CSPRNG (through aws-lc).
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemRandomness;

impl Randomness for SystemRandomness {
    fn fill(&self, dest: &mut [u8]) {
        // The system generator failing is not a condition the service can carry on from.
        aws_lc_rs::rand::SystemRandom::new()
            .fill(dest)
            .expect("the system random number generator failed");
    }
}

/// A deterministic stream (SHA-256 of seed and counter) for tests. Never use it for keys.
#[derive(Debug)]
pub struct SeededRandomness {
    seed: u64,
    counter: AtomicU64,
}

impl SeededRandomness {
    pub fn new(seed: u64) -> Self {
        Self {
            seed,
            counter: AtomicU64::new(0),
        }
    }
}

impl Randomness for SeededRandomness {
    fn fill(&self, dest: &mut [u8]) {
        for chunk in dest.chunks_mut(32) {
            let n = self.counter.fetch_add(1, Ordering::Relaxed);
            let mut input = self.seed.to_le_bytes().to_vec();
            input.extend_from_slice(&n.to_le_bytes());
            let block = digest::digest(&digest::SHA256, &input);
            chunk.copy_from_slice(&block.as_ref()[..chunk.len()]);
        }
    }
}

/// `N` random bytes.
pub fn bytes<const N: usize>(rng: &dyn Randomness) -> [u8; N] {
    let mut out = [0u8; N];
    rng.fill(&mut out);
    out
}
