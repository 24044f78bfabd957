//! The tokens this process signed lately, remembered by digest, so that exchanging one of them
//! (AssumeRoleWithWebIdentity, or the developer token given to GetCredentialsForIdentity) can
//! skip checking its signature.
//!
//! Why it is sound: a token whose bytes are exactly those of a token this process signed carries
//! this process's valid signature; checking it again proves nothing new. Only the signature check
//! is skipped. The token's key must still be in the ring (a key retired or deleted since refuses
//! it as before), and its issuer, claims, expiry and revocation are checked as for any other
//! token. An attacker cannot make a digest match without the exact bytes of a token we signed,
//! signature included, and whoever holds those could exchange that token anyway.
//!
//! Why it pays: an ES256 verification costs about 60 µs here, four times its signature, and is
//! the largest piece of cryptography in a basic flow (BENCHMARKS.md, issue 17); the digest of a
//! token costs about 1 µs. An RSA verification costs 15-30 µs.
//!
//! Bounded: two generations of [`GENERATION`] digests; when the newer fills, the older is
//! forgotten. At 6 500 tokens a second a generation spans 2.5 s, and tokens are usually
//! exchanged within a second of being issued. A token exchanged later, on another node or after
//! a restart is verified in full, so nothing depends on it being remembered.

use std::collections::HashSet;
use std::sync::{Mutex, MutexGuard, PoisonError};

use aws_lc_rs::digest;

/// Digests in one generation: with two, at most 2 × 16 384 × 16 bytes of digests (about 1 MiB
/// with the table's overhead).
pub const GENERATION: usize = 16_384;

/// The first 128 bits of a token's SHA-256. Enough: matching one needs a second preimage of a
/// token whose signature the attacker could not compute before we signed it (2^128 work), not a
/// collision of two texts of their choosing.
type TokenDigest = [u8; 16];

fn digest_of(token: &str) -> TokenDigest {
    let full = digest::digest(&digest::SHA256, token.as_bytes());
    let mut short = [0; 16];
    for (out, byte) in short.iter_mut().zip(full.as_ref()) {
        *out = *byte;
    }
    short
}

#[derive(Default)]
struct Generations {
    newer: HashSet<TokenDigest>,
    older: HashSet<TokenDigest>,
}

/// See the module documentation.
#[derive(Default)]
pub struct RecentlySigned {
    generations: Mutex<Generations>,
}

impl RecentlySigned {
    /// Remember a token just signed.
    pub fn remember(&self, token: &str) {
        let digest = digest_of(token);
        let mut generations = self.generations();
        if generations.newer.len() >= GENERATION {
            // Keep the older table's allocation for the next generation: no reallocation in
            // steady state.
            let Generations { newer, older } = &mut *generations;
            std::mem::swap(newer, older);
            newer.clear();
        }
        generations.newer.insert(digest);
    }

    /// Whether this process signed exactly these bytes lately.
    pub fn contains(&self, token: &str) -> bool {
        let digest = digest_of(token);
        let generations = self.generations();
        generations.newer.contains(&digest) || generations.older.contains(&digest)
    }

    fn generations(&self) -> MutexGuard<'_, Generations> {
        self.generations
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Digests remembered, both generations.
    #[cfg(test)]
    fn len(&self) -> usize {
        let generations = self.generations();
        generations.newer.len() + generations.older.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_exact_bytes_only() {
        let recent = RecentlySigned::default();
        recent.remember("header.payload.signature");
        assert!(recent.contains("header.payload.signature"));
        assert!(!recent.contains("header.payload.signaturf"));
        assert!(!recent.contains("header.payload.signature "));
        assert!(!recent.contains(""));
    }

    /// The oldest generation is forgotten when the newer fills; memory stays bounded.
    #[test]
    fn forgets_the_older_generation() {
        let recent = RecentlySigned::default();
        recent.remember("first");
        for i in 0..GENERATION - 1 {
            recent.remember(&format!("token {i}"));
        }
        // The first generation is full; the next token starts a second, and "first" is kept.
        recent.remember("second generation");
        assert!(recent.contains("first"));
        assert_eq!(recent.len(), GENERATION + 1);
        for i in 0..GENERATION - 1 {
            recent.remember(&format!("more {i}"));
        }
        // The second is full too; the next token drops the first generation.
        recent.remember("third generation");
        assert!(!recent.contains("first"));
        assert!(recent.contains("second generation"));
        assert!(recent.contains("third generation"));
        assert_eq!(recent.len(), GENERATION + 1);
    }
}
