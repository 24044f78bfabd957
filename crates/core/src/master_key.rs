//! The master key: 32 random bytes, kept in a file beside the data (or wherever
//! `TEGATA_MASTER_KEY_FILE` points), under which every secret at rest is encrypted.
//!
//! Each encrypted blob is stored next to the id of the master key that sealed it, so a node
//! started with the wrong key file refuses to start instead of failing on the first request, and
//! the key can later rotate without re-encrypting everything at once. Purpose-specific subkeys are
//! derived with HKDF so the at-rest key never doubles as, say, a session-token key.

use aws_lc_rs::{aead, digest, hkdf};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::random::{Randomness, bytes};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MasterKeyError {
    #[error("the master key file must hold 32 bytes, base64-encoded (as `tegata` writes it)")]
    BadFormat,
    #[error("a value could not be decrypted with the master key (wrong key, or damaged data)")]
    DecryptionFailed,
    #[error("a value was encrypted under master key {found}, but this node has master key {ours}")]
    WrongKey { found: String, ours: String },
}

const NONCE_LEN: usize = aead::NONCE_LEN;

/// The key material never appears in `Debug` output.
///
/// During a rotation a node also holds the other key of the rotation (`previous`): values and
/// credentials sealed under it still open, while everything new is sealed under this one.
pub struct MasterKey {
    id: String,
    key: [u8; 32],
    at_rest: aead::LessSafeKey,
    previous: Vec<MasterKey>,
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl MasterKey {
    pub fn generate(rng: &dyn Randomness) -> Self {
        Self::from_bytes(bytes::<32>(rng))
    }

    pub fn from_bytes(key: [u8; 32]) -> Self {
        let id_digest = digest::digest(
            &digest::SHA256,
            &[b"tegata master key id\0", &key[..]].concat(),
        );
        let id = hex::encode(&id_digest.as_ref()[..8]);
        let at_rest_key = derive(&key, "tegata at-rest encryption v1");
        let at_rest = aead::LessSafeKey::new(
            aead::UnboundKey::new(&aead::AES_256_GCM, &at_rest_key)
                .expect("32 bytes is an AES-256 key"),
        );
        Self {
            id,
            key,
            at_rest,
            previous: Vec::new(),
        }
    }

    /// This key, also opening what `other` sealed (a rotation's other key). The same key twice
    /// changes nothing.
    pub fn with_previous(mut self, other: MasterKey) -> Self {
        if other.id != self.id && self.previous.iter().all(|p| p.id != other.id) {
            self.previous.push(MasterKey::from_bytes(other.key));
        }
        self
    }

    /// The ids of every key this one opens with: its own first.
    pub fn ids(&self) -> Vec<&str> {
        std::iter::once(self.id.as_str())
            .chain(self.previous.iter().map(|p| p.id.as_str()))
            .collect()
    }

    /// [`Self::derive_subkey`] of this key and then of each previous one: what was derived
    /// under a previous key (temporary credentials) still verifies during a rotation.
    pub fn derive_subkeys(&self, label: &str) -> Vec<[u8; 32]> {
        std::iter::once(self)
            .chain(&self.previous)
            .map(|k| derive(&k.key, label))
            .collect()
    }

    /// Parse the key file: base64 of 32 bytes, surrounding white space ignored.
    pub fn from_file_contents(text: &str) -> Result<Self, MasterKeyError> {
        let raw = STANDARD
            .decode(text.trim())
            .map_err(|_| MasterKeyError::BadFormat)?;
        let key: [u8; 32] = raw.try_into().map_err(|_| MasterKeyError::BadFormat)?;
        Ok(Self::from_bytes(key))
    }

    pub fn to_file_contents(&self) -> String {
        format!("{}\n", STANDARD.encode(self.key))
    }

    /// A short public fingerprint of the key (not secret: it is derived one-way).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// A 32-byte subkey for one purpose (`label` names it and its version).
    pub fn derive_subkey(&self, label: &str) -> [u8; 32] {
        derive(&self.key, label)
    }

    /// Encrypt `plaintext` for storage. `context` names what the value is (for example
    /// `signing-key:<kid>`): it is authenticated, so a blob moved to another record fails to open.
    pub fn seal(&self, context: &str, plaintext: &[u8], rng: &dyn Randomness) -> Vec<u8> {
        let nonce_bytes = bytes::<NONCE_LEN>(rng);
        let mut out = Vec::with_capacity(NONCE_LEN + plaintext.len() + 16);
        out.extend_from_slice(&nonce_bytes);
        let mut in_out = plaintext.to_vec();
        self.at_rest
            .seal_in_place_append_tag(
                aead::Nonce::assume_unique_for_key(nonce_bytes),
                aead::Aad::from(context.as_bytes()),
                &mut in_out,
            )
            .expect("AES-GCM sealing of an in-memory buffer cannot fail");
        out.extend_from_slice(&in_out);
        out
    }

    /// Decrypt a value sealed by [`MasterKey::seal`] under this key, checking the key id stored
    /// beside it first.
    pub fn open(
        &self,
        sealed_by: &str,
        context: &str,
        blob: &[u8],
    ) -> Result<Vec<u8>, MasterKeyError> {
        if sealed_by != self.id {
            return match self.previous.iter().find(|p| p.id == sealed_by) {
                Some(previous) => previous.open(sealed_by, context, blob),
                None => Err(MasterKeyError::WrongKey {
                    found: sealed_by.to_owned(),
                    ours: self.ids().join(", "),
                }),
            };
        }
        if blob.len() < NONCE_LEN + 16 {
            return Err(MasterKeyError::DecryptionFailed);
        }
        let (nonce, ciphertext) = blob.split_at(NONCE_LEN);
        let nonce = aead::Nonce::try_assume_unique_for_key(nonce)
            .map_err(|_| MasterKeyError::DecryptionFailed)?;
        let mut in_out = ciphertext.to_vec();
        let plain = self
            .at_rest
            .open_in_place(nonce, aead::Aad::from(context.as_bytes()), &mut in_out)
            .map_err(|_| MasterKeyError::DecryptionFailed)?;
        Ok(plain.to_vec())
    }
}

struct Len32;
impl hkdf::KeyType for Len32 {
    fn len(&self) -> usize {
        32
    }
}

fn derive(key: &[u8; 32], label: &str) -> [u8; 32] {
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, b"tegata").extract(key);
    let info = [label.as_bytes()];
    let okm = prk
        .expand(&info, Len32)
        .expect("32 bytes is within HKDF-SHA256's output limit");
    let mut out = [0u8; 32];
    okm.fill(&mut out)
        .expect("32 bytes is within HKDF-SHA256's output limit");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SeededRandomness;

    #[test]
    fn seal_open_round_trip_and_binding() {
        let rng = SeededRandomness::new(1);
        let key = MasterKey::generate(&rng);
        let blob = key.seal("thing:1", b"secret", &rng);
        assert_eq!(key.open(key.id(), "thing:1", &blob).unwrap(), b"secret");
        assert_eq!(
            key.open(key.id(), "thing:2", &blob),
            Err(MasterKeyError::DecryptionFailed)
        );
        let mut tampered = blob.clone();
        *tampered.last_mut().unwrap() ^= 1;
        assert_eq!(
            key.open(key.id(), "thing:1", &tampered),
            Err(MasterKeyError::DecryptionFailed)
        );
        let other = MasterKey::generate(&rng);
        assert!(matches!(
            other.open(key.id(), "thing:1", &blob),
            Err(MasterKeyError::WrongKey { .. })
        ));
    }

    #[test]
    fn a_key_with_its_previous_one_opens_what_either_sealed_and_seals_under_its_own() {
        let rng = SeededRandomness::new(8);
        let old = MasterKey::generate(&rng);
        let new = MasterKey::generate(&rng);
        let sealed_old = old.seal("ctx", b"secret", &rng);
        let old_id = old.id().to_owned();
        let both = MasterKey::from_bytes(new.key).with_previous(old);
        assert_eq!(both.ids(), [new.id(), old_id.as_str()]);
        assert_eq!(both.open(&old_id, "ctx", &sealed_old).unwrap(), b"secret");
        let sealed_new = both.seal("ctx", b"secret", &rng);
        assert_eq!(new.open(new.id(), "ctx", &sealed_new).unwrap(), b"secret");
        assert!(matches!(
            new.open(&old_id, "ctx", &sealed_old),
            Err(MasterKeyError::WrongKey { .. })
        ));
        assert_eq!(both.derive_subkeys("x").len(), 2);
        assert_eq!(both.derive_subkeys("x")[0], new.derive_subkey("x"));
    }

    #[test]
    fn file_round_trip_keeps_the_id() {
        let rng = SeededRandomness::new(2);
        let key = MasterKey::generate(&rng);
        let again = MasterKey::from_file_contents(&key.to_file_contents()).unwrap();
        assert_eq!(again.id(), key.id());
        assert_eq!(
            MasterKey::from_file_contents("too short").unwrap_err(),
            MasterKeyError::BadFormat
        );
        assert!(!format!("{key:?}").contains(&key.to_file_contents().trim().to_string()));
    }
}
