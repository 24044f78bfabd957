//! Identifier formats, as AWS shapes them (aws-api.md §2.1, §4.5).

use crate::random::{Randomness, bytes};

/// A lower-case version-4 UUID.
pub fn uuid_v4(rng: &dyn Randomness) -> String {
    uuid::Builder::from_random_bytes(bytes::<16>(rng))
        .into_uuid()
        .hyphenated()
        .to_string()
}

/// `<region>:<uuid>`, the form of both identity pool ids and identity ids.
pub fn regional_id(region: &str, rng: &dyn Randomness) -> String {
    format!("{region}:{}", uuid_v4(rng))
}

/// Twelve decimal digits, the first not zero (tools that parse account ids as numbers exist).
pub fn account_id(rng: &dyn Randomness) -> String {
    let raw = bytes::<12>(rng);
    raw.iter()
        .enumerate()
        .map(|(i, b)| {
            let digit = if i == 0 { 1 + b % 9 } else { b % 10 };
            char::from(b'0' + digit)
        })
        .collect()
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const UPPER_ALNUM: &[u8; 36] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const SECRET_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// `count` characters drawn uniformly from `alphabet` (rejection sampling, so no bias).
pub fn random_string(alphabet: &[u8], count: usize, rng: &dyn Randomness) -> String {
    let limit = 256 - (256 % alphabet.len());
    let mut out = String::with_capacity(count);
    while out.len() < count {
        for b in bytes::<32>(rng) {
            if (b as usize) < limit && out.len() < count {
                out.push(char::from(alphabet[b as usize % alphabet.len()]));
            }
        }
    }
    out
}

/// A long-term access key id: `AKIA` and 16 base32 characters.
pub fn long_term_access_key_id(rng: &dyn Randomness) -> String {
    format!("AKIA{}", random_string(BASE32, 16, rng))
}

/// A 40-character secret access key.
pub fn secret_access_key(rng: &dyn Randomness) -> String {
    random_string(SECRET_ALPHABET, 40, rng)
}

/// A unique id of an IAM entity: `AIDA` (user) or `AROA` (role) and 17 characters.
pub fn unique_id(prefix: &str, rng: &dyn Randomness) -> String {
    format!("{prefix}{}", random_string(UPPER_ALNUM, 17, rng))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SeededRandomness;

    #[test]
    fn formats() {
        let rng = SeededRandomness::new(7);
        let account = account_id(&rng);
        assert_eq!(account.len(), 12);
        assert!(account.bytes().all(|b| b.is_ascii_digit()) && !account.starts_with('0'));
        let id = regional_id("us-east-1", &rng);
        let (region, uuid) = id.split_once(':').unwrap();
        assert_eq!(region, "us-east-1");
        assert_eq!(uuid.len(), 36);
        assert_eq!(&uuid[14..15], "4", "version 4");
        let akid = long_term_access_key_id(&rng);
        assert!(akid.starts_with("AKIA") && akid.len() == 20);
        assert_eq!(secret_access_key(&rng).len(), 40);
        assert_eq!(unique_id("AIDA", &rng).len(), 21);
        assert_ne!(regional_id("r", &rng), regional_id("r", &rng));
    }
}
