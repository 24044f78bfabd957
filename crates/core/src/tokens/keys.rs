//! Token-signing keys: RSA-2048, RS512 (what Cognito Identity issues), compact JWS.
//!
//! The signer is written here rather than taken from a JWT crate because the popular one
//! re-parses the private key on every signature (2.5× slower); a key is parsed once, when it is
//! loaded, and kept. Verification of tokens (which may come from anywhere) is the job of a
//! well-kept verifier, not of this module.

use std::sync::Arc;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self, KeyPair, RsaKeyPair};
use aws_lc_rs::{digest, rand::SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

use crate::UnixSeconds;
use crate::master_key::{MasterKey, MasterKeyError};
use crate::random::Randomness;

/// Where a key is in its life: published before it signs, signing, verifying only, dead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    Next,
    Active,
    Retired,
    Revoked,
}

impl KeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Next => "next",
            KeyState::Active => "active",
            KeyState::Retired => "retired",
            KeyState::Revoked => "revoked",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "next" => KeyState::Next,
            "active" => KeyState::Active,
            "retired" => KeyState::Retired,
            "revoked" => KeyState::Revoked,
            _ => return None,
        })
    }

    /// Whether tokens signed by a key in this state still verify (so it appears in the JWKS).
    pub fn is_published(self) -> bool {
        !matches!(self, KeyState::Revoked)
    }
}

/// A signing key as the store keeps it: the PKCS#8 private key encrypted under the master key.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKeyRecord {
    pub kid: String,
    pub state: KeyState,
    pub algorithm: String,
    pub encrypted_private_key: Vec<u8>,
    pub master_key_id: String,
    pub created_at: UnixSeconds,
    /// When the key entered `state`: an active key's rotation and a retired key's end of
    /// verification count from it.
    pub state_changed_at: UnixSeconds,
}

impl std::fmt::Debug for SigningKeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKeyRecord")
            .field("kid", &self.kid)
            .field("state", &self.state)
            .field("algorithm", &self.algorithm)
            .field("master_key_id", &self.master_key_id)
            .field("created_at", &self.created_at)
            .field("state_changed_at", &self.state_changed_at)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SigningKeyError {
    #[error(transparent)]
    MasterKey(#[from] MasterKeyError),
    #[error("signing key {0} holds an unusable private key")]
    BadKey(String),
    #[error("signing key {kid} uses algorithm {algorithm}, which tegata does not sign with")]
    UnsupportedAlgorithm { kid: String, algorithm: String },
    #[error("RSA key generation failed")]
    Generation,
}

pub(crate) fn sealing_context(kid: &str) -> String {
    format!("signing-key:{kid}")
}

/// A loaded, ready-to-sign key. The parsed key pair is kept for the key's lifetime.
pub struct SigningKey {
    kid: String,
    state: KeyState,
    key_pair: RsaKeyPair,
    jwk: Jwk,
    /// The public half, parsed once for verifying web identity tokens.
    decoding_key: jsonwebtoken::DecodingKey,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// One entry of a JSON Web Key Set, in the shape Cognito publishes.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Jwk {
    pub kty: &'static str,
    pub alg: &'static str,
    #[serde(rename = "use")]
    pub use_: &'static str,
    pub kid: String,
    pub n: String,
    pub e: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

pub const RS512: &str = "RS512";

/// Generate a new RSA-2048 key and its record (state as given), sealed under the master key.
/// Takes about 60 ms of CPU: callers on an async runtime should run it on a blocking thread.
pub fn generate_signing_key(
    master: &MasterKey,
    state: KeyState,
    now: UnixSeconds,
    rng: &dyn Randomness,
) -> Result<SigningKeyRecord, SigningKeyError> {
    let key_pair =
        RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| SigningKeyError::Generation)?;
    let pkcs8 = key_pair.as_der().map_err(|_| SigningKeyError::Generation)?;
    let (n, e) = public_components(&key_pair);
    let kid = thumbprint(&n, &e);
    Ok(SigningKeyRecord {
        encrypted_private_key: master.seal(&sealing_context(&kid), pkcs8.as_ref(), rng),
        kid,
        state,
        algorithm: RS512.to_owned(),
        master_key_id: master.id().to_owned(),
        created_at: now,
        state_changed_at: now,
    })
}

fn public_components(key_pair: &RsaKeyPair) -> (String, String) {
    let public = key_pair.public_key();
    let modulus = public.modulus();
    let exponent = public.exponent();
    (
        URL_SAFE_NO_PAD.encode(modulus.big_endian_without_leading_zero()),
        URL_SAFE_NO_PAD.encode(exponent.big_endian_without_leading_zero()),
    )
}

/// The RFC 7638 JWK thumbprint: a key id that any node derives the same way from the key alone.
fn thumbprint(n: &str, e: &str) -> String {
    let canonical = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
    URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, canonical.as_bytes()))
}

impl SigningKey {
    /// Decrypt and parse a stored key.
    pub fn load(record: &SigningKeyRecord, master: &MasterKey) -> Result<Self, SigningKeyError> {
        if record.algorithm != RS512 {
            return Err(SigningKeyError::UnsupportedAlgorithm {
                kid: record.kid.clone(),
                algorithm: record.algorithm.clone(),
            });
        }
        let pkcs8 = master.open(
            &record.master_key_id,
            &sealing_context(&record.kid),
            &record.encrypted_private_key,
        )?;
        let key_pair = RsaKeyPair::from_pkcs8(&pkcs8)
            .map_err(|_| SigningKeyError::BadKey(record.kid.clone()))?;
        let (n, e) = public_components(&key_pair);
        let decoding_key = jsonwebtoken::DecodingKey::from_rsa_components(&n, &e)
            .map_err(|_| SigningKeyError::BadKey(record.kid.clone()))?;
        Ok(Self {
            decoding_key,
            jwk: Jwk {
                kty: "RSA",
                alg: RS512,
                use_: "sig",
                kid: record.kid.clone(),
                n,
                e,
            },
            kid: record.kid.clone(),
            state: record.state,
            key_pair,
        })
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn state(&self) -> KeyState {
        self.state
    }

    pub fn jwk(&self) -> &Jwk {
        &self.jwk
    }

    pub fn decoding_key(&self) -> &jsonwebtoken::DecodingKey {
        &self.decoding_key
    }

    /// A compact JWS (`header.payload.signature`) over `claims`, with Cognito's header
    /// `{"kid":…,"typ":"JWS","alg":"RS512"}` (key order as the real service emits it).
    pub fn sign_jws<C: Serialize>(&self, claims: &C) -> String {
        let payload = serde_json::to_vec(claims).expect("token claims serialize");
        self.sign_jws_payload(&payload)
    }

    /// [`Self::sign_jws`] over claims already serialized, for signing on another thread.
    pub fn sign_jws_payload(&self, payload: &[u8]) -> String {
        #[derive(Serialize)]
        struct Header<'a> {
            kid: &'a str,
            typ: &'static str,
            alg: &'static str,
        }
        let header = serde_json::to_vec(&Header {
            kid: &self.kid,
            typ: "JWS",
            alg: RS512,
        })
        .expect("a header of strings serializes");
        let mut out = String::with_capacity(1024);
        URL_SAFE_NO_PAD.encode_string(header, &mut out);
        out.push('.');
        URL_SAFE_NO_PAD.encode_string(payload, &mut out);
        let mut signature = vec![0u8; self.key_pair.public_modulus_len()];
        // PKCS#1 v1.5 signing is deterministic; the generator argument is not consulted.
        self.key_pair
            .sign(
                &signature::RSA_PKCS1_SHA512,
                &SystemRandom::new(),
                out.as_bytes(),
                &mut signature,
            )
            .expect("signing with a loaded RSA key into a modulus-sized buffer cannot fail");
        out.push('.');
        URL_SAFE_NO_PAD.encode_string(signature, &mut out);
        out
    }
}

/// Every loaded key, and which one signs.
#[derive(Debug, Default)]
pub struct KeyRing {
    keys: Vec<Arc<SigningKey>>,
}

impl KeyRing {
    pub fn new(keys: Vec<SigningKey>) -> Self {
        Self {
            keys: keys.into_iter().map(Arc::new).collect(),
        }
    }

    /// The ring of the stored keys that still count at `now` (see
    /// [`lifecycle::verifies_at`](crate::tokens::lifecycle::verifies_at)): revoked keys and
    /// retired keys past their last token are not even decrypted.
    pub fn load(
        records: &[SigningKeyRecord],
        master: &MasterKey,
        now: UnixSeconds,
    ) -> Result<Self, SigningKeyError> {
        let mut keys = Vec::new();
        for record in records
            .iter()
            .filter(|record| crate::tokens::lifecycle::verifies_at(record, now))
        {
            match SigningKey::load(record, master) {
                Ok(key) => keys.push(key),
                // A key that only verifies, and that this node cannot open (sealed under a
                // master key it lacks), is left out rather than costing the node every other
                // change, a revocation included. The key that signs cannot be left out.
                Err(e) if record.state != KeyState::Active => {
                    tracing::warn!(kid = %record.kid, error = %e, "signing key left out of the ring");
                }
                Err(e) => return Err(e),
            }
        }
        Ok(Self::new(keys))
    }

    /// The key new tokens are signed with (the newest active one).
    pub fn active(&self) -> Option<&Arc<SigningKey>> {
        self.keys.iter().rev().find(|k| k.state == KeyState::Active)
    }

    pub fn find(&self, kid: &str) -> Option<&Arc<SigningKey>> {
        self.keys.iter().find(|k| k.kid == kid)
    }

    /// The key that verifies tokens with this `kid`: revoked keys verify nothing.
    pub fn verifying(&self, kid: &str) -> Option<&Arc<SigningKey>> {
        self.find(kid).filter(|k| k.state.is_published())
    }

    /// The published key set: every key whose signatures still count.
    pub fn jwks(&self) -> JwkSet {
        JwkSet {
            keys: self
                .keys
                .iter()
                .filter(|k| k.state.is_published())
                .map(|k| k.jwk.clone())
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::random::SeededRandomness;

    #[test]
    fn generated_keys_reload_and_sign_verifiable_jws() {
        let rng = SeededRandomness::new(3);
        let master = MasterKey::generate(&rng);
        let record = generate_signing_key(&master, KeyState::Active, 100, &rng).unwrap();
        let key = SigningKey::load(&record, &master).unwrap();
        assert_eq!(key.kid(), record.kid);
        assert!(!format!("{record:?}").contains("encrypted_private_key"));

        let token = key.sign_jws(&serde_json::json!({"sub": "x"}));
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(
            String::from_utf8(URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap(),
            format!(r#"{{"kid":"{}","typ":"JWS","alg":"RS512"}}"#, key.kid())
        );
        assert_eq!(header["alg"], "RS512");

        // Verify with the published modulus and exponent only.
        let jwk = key.jwk();
        let public = signature::RsaPublicKeyComponents {
            n: URL_SAFE_NO_PAD.decode(&jwk.n).unwrap(),
            e: URL_SAFE_NO_PAD.decode(&jwk.e).unwrap(),
        };
        let signed = format!("{}.{}", parts[0], parts[1]);
        let sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        public
            .verify(
                &signature::RSA_PKCS1_2048_8192_SHA512,
                signed.as_bytes(),
                &sig,
            )
            .unwrap();
        assert!(
            public
                .verify(&signature::RSA_PKCS1_2048_8192_SHA512, b"other", &sig)
                .is_err()
        );

        let other_master = MasterKey::generate(&rng);
        assert!(SigningKey::load(&record, &other_master).is_err());
    }
}
