//! Token-signing keys and compact JWS: RSA-2048 with RS512 (what Cognito Identity issues, the
//! default), or ECDSA P-256 with ES256 (opt-in: AWS STS accepts it from OpenID Connect
//! providers, and a signature costs a small fraction of an RSA one).
//!
//! The signer is written here rather than taken from a JWT crate because the popular one
//! re-parses the private key on every signature (2.5× slower); a key is parsed once, when it is
//! loaded, and kept. Verification of tokens (which may come from anywhere) is the job of a
//! well-kept verifier, not of this module.

use std::sync::Arc;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self, EcdsaKeyPair, KeyPair, RsaKeyPair};
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
    key_pair: PrivateKey,
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

enum PrivateKey {
    Rsa(RsaKeyPair),
    Ec(EcdsaKeyPair),
}

/// One entry of a JSON Web Key Set: an RSA key in the shape Cognito publishes (`n`, `e`), or an
/// EC key (`crv`, `x`, `y`, RFC 7518 section 6.2).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Jwk {
    pub kty: &'static str,
    pub alg: &'static str,
    #[serde(rename = "use")]
    pub use_: &'static str,
    pub kid: String,
    #[serde(flatten)]
    pub public: PublicComponents,
}

/// The public half of a key, as a JWK spells it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum PublicComponents {
    Rsa {
        n: String,
        e: String,
    },
    Ec {
        crv: &'static str,
        x: String,
        y: String,
    },
}

#[derive(Debug, Clone, Serialize)]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

pub const RS512: &str = "RS512";
pub const ES256: &str = "ES256";

/// The algorithm a deployment's tokens are signed with. Stored with each key, so a deployment
/// can move from one to the other through an ordinary rotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TokenAlgorithm {
    /// RSA-2048, PKCS#1 v1.5 with SHA-512: what Cognito Identity issues.
    #[default]
    Rs512,
    /// ECDSA P-256 with SHA-256, the signature as `r || s` (RFC 7518 section 3.4).
    Es256,
}

impl TokenAlgorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenAlgorithm::Rs512 => RS512,
            TokenAlgorithm::Es256 => ES256,
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            RS512 => Some(TokenAlgorithm::Rs512),
            ES256 => Some(TokenAlgorithm::Es256),
            _ => None,
        }
    }
}

/// `RS512` or `ES256`, in any case (for settings and flags).
impl std::str::FromStr for TokenAlgorithm {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(&text.to_ascii_uppercase())
            .ok_or_else(|| format!("'{text}' is not a token algorithm: use RS512 or ES256"))
    }
}

impl std::fmt::Display for TokenAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Generate a new key for `algorithm` and its record (state as given), sealed under the master
/// key. An RSA key takes about 60 ms of CPU (callers on an async runtime should run it on a
/// blocking thread); a P-256 key well under a millisecond.
pub fn generate_signing_key(
    master: &MasterKey,
    algorithm: TokenAlgorithm,
    state: KeyState,
    now: UnixSeconds,
    rng: &dyn Randomness,
) -> Result<SigningKeyRecord, SigningKeyError> {
    let (pkcs8, public) = match algorithm {
        TokenAlgorithm::Rs512 => {
            let key_pair =
                RsaKeyPair::generate(KeySize::Rsa2048).map_err(|_| SigningKeyError::Generation)?;
            let pkcs8 = key_pair.as_der().map_err(|_| SigningKeyError::Generation)?;
            (pkcs8.as_ref().to_vec(), rsa_public_components(&key_pair))
        }
        TokenAlgorithm::Es256 => {
            let key_pair = EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING)
                .map_err(|_| SigningKeyError::Generation)?;
            let pkcs8 = key_pair
                .to_pkcs8v1()
                .map_err(|_| SigningKeyError::Generation)?;
            let public = ec_public_components(&key_pair).ok_or(SigningKeyError::Generation)?;
            (pkcs8.as_ref().to_vec(), public)
        }
    };
    let kid = thumbprint(&public);
    Ok(SigningKeyRecord {
        encrypted_private_key: master.seal(&sealing_context(&kid), &pkcs8, rng),
        kid,
        state,
        algorithm: algorithm.as_str().to_owned(),
        master_key_id: master.id().to_owned(),
        created_at: now,
        state_changed_at: now,
    })
}

fn rsa_public_components(key_pair: &RsaKeyPair) -> PublicComponents {
    let public = key_pair.public_key();
    PublicComponents::Rsa {
        n: URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
        e: URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
    }
}

/// The point's coordinates, from its uncompressed encoding `04 || x || y` (32 bytes each).
fn ec_public_components(key_pair: &EcdsaKeyPair) -> Option<PublicComponents> {
    let point = key_pair.public_key().as_ref();
    let (x, y) = point.strip_prefix(&[4])?.split_at_checked(32)?;
    (y.len() == 32).then(|| PublicComponents::Ec {
        crv: "P-256",
        x: URL_SAFE_NO_PAD.encode(x),
        y: URL_SAFE_NO_PAD.encode(y),
    })
}

/// The RFC 7638 JWK thumbprint: a key id that any node derives the same way from the key alone.
fn thumbprint(public: &PublicComponents) -> String {
    // The required members in lexicographic order, no white space.
    let canonical = match public {
        PublicComponents::Rsa { n, e } => format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#),
        PublicComponents::Ec { crv, x, y } => {
            format!(r#"{{"crv":"{crv}","kty":"EC","x":"{x}","y":"{y}"}}"#)
        }
    };
    URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, canonical.as_bytes()))
}

impl SigningKey {
    /// Decrypt and parse a stored key.
    pub fn load(record: &SigningKeyRecord, master: &MasterKey) -> Result<Self, SigningKeyError> {
        let algorithm = TokenAlgorithm::parse(&record.algorithm).ok_or_else(|| {
            SigningKeyError::UnsupportedAlgorithm {
                kid: record.kid.clone(),
                algorithm: record.algorithm.clone(),
            }
        })?;
        let pkcs8 = master.open(
            &record.master_key_id,
            &sealing_context(&record.kid),
            &record.encrypted_private_key,
        )?;
        let bad_key = || SigningKeyError::BadKey(record.kid.clone());
        let (key_pair, public, kty, decoding_key) = match algorithm {
            TokenAlgorithm::Rs512 => {
                let key_pair = RsaKeyPair::from_pkcs8(&pkcs8).map_err(|_| bad_key())?;
                let public = rsa_public_components(&key_pair);
                let PublicComponents::Rsa { n, e } = &public else {
                    return Err(bad_key());
                };
                let decoding_key =
                    jsonwebtoken::DecodingKey::from_rsa_components(n, e).map_err(|_| bad_key())?;
                (PrivateKey::Rsa(key_pair), public, "RSA", decoding_key)
            }
            TokenAlgorithm::Es256 => {
                let key_pair =
                    EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8)
                        .map_err(|_| bad_key())?;
                let public = ec_public_components(&key_pair).ok_or_else(bad_key)?;
                let PublicComponents::Ec { x, y, .. } = &public else {
                    return Err(bad_key());
                };
                let decoding_key =
                    jsonwebtoken::DecodingKey::from_ec_components(x, y).map_err(|_| bad_key())?;
                (PrivateKey::Ec(key_pair), public, "EC", decoding_key)
            }
        };
        Ok(Self {
            decoding_key,
            jwk: Jwk {
                kty,
                alg: algorithm.as_str(),
                use_: "sig",
                kid: record.kid.clone(),
                public,
            },
            kid: record.kid.clone(),
            state: record.state,
            key_pair,
        })
    }

    pub fn algorithm(&self) -> TokenAlgorithm {
        match self.key_pair {
            PrivateKey::Rsa(_) => TokenAlgorithm::Rs512,
            PrivateKey::Ec(_) => TokenAlgorithm::Es256,
        }
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
    /// `{"kid":…,"typ":"JWS","alg":"RS512"}` (key order as the real service emits it; `ES256`
    /// for an EC key).
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
            alg: self.jwk.alg,
        })
        .expect("a header of strings serializes");
        let mut out = String::with_capacity(1024);
        URL_SAFE_NO_PAD.encode_string(header, &mut out);
        out.push('.');
        URL_SAFE_NO_PAD.encode_string(payload, &mut out);
        let signature = match &self.key_pair {
            PrivateKey::Rsa(key_pair) => {
                let mut signature = vec![0u8; key_pair.public_modulus_len()];
                // PKCS#1 v1.5 signing is deterministic; the generator argument is not consulted.
                key_pair
                    .sign(
                        &signature::RSA_PKCS1_SHA512,
                        &SystemRandom::new(),
                        out.as_bytes(),
                        &mut signature,
                    )
                    .expect(
                        "signing with a loaded RSA key into a modulus-sized buffer cannot fail",
                    );
                signature
            }
            // ECDSA draws its nonce from aws-lc's own generator; the argument is not consulted.
            PrivateKey::Ec(key_pair) => key_pair
                .sign(&SystemRandom::new(), out.as_bytes())
                .expect("signing with a loaded P-256 key cannot fail")
                .as_ref()
                .to_vec(),
        };
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

    /// The algorithms of the published keys, each once, for the discovery document.
    pub fn algorithms(&self) -> Vec<&'static str> {
        let mut algorithms = Vec::new();
        for key in self.keys.iter().filter(|k| k.state.is_published()) {
            if !algorithms.contains(&key.jwk.alg) {
                algorithms.push(key.jwk.alg);
            }
        }
        algorithms
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
        let record =
            generate_signing_key(&master, TokenAlgorithm::Rs512, KeyState::Active, 100, &rng)
                .unwrap();
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
        let PublicComponents::Rsa { n, e } = &key.jwk().public else {
            panic!("an RSA key publishes n and e");
        };
        let public = signature::RsaPublicKeyComponents {
            n: URL_SAFE_NO_PAD.decode(n).unwrap(),
            e: URL_SAFE_NO_PAD.decode(e).unwrap(),
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

    #[test]
    fn es256_keys_publish_their_point_and_sign_fixed_size_signatures() {
        let rng = SeededRandomness::new(4);
        let master = MasterKey::generate(&rng);
        let record =
            generate_signing_key(&master, TokenAlgorithm::Es256, KeyState::Next, 7, &rng).unwrap();
        assert_eq!(record.algorithm, "ES256");
        let key = SigningKey::load(&record, &master).unwrap();
        assert_eq!(key.algorithm(), TokenAlgorithm::Es256);

        // The JWK as RFC 7518 spells an EC key, its kid the RFC 7638 thumbprint.
        let jwk = serde_json::to_value(key.jwk()).unwrap();
        assert_eq!(jwk["kty"], "EC");
        assert_eq!(jwk["crv"], "P-256");
        assert_eq!(jwk["alg"], "ES256");
        assert!(jwk.get("n").is_none());
        let (x, y) = (jwk["x"].as_str().unwrap(), jwk["y"].as_str().unwrap());
        let canonical = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        assert_eq!(
            key.kid(),
            URL_SAFE_NO_PAD.encode(digest::digest(&digest::SHA256, canonical.as_bytes()))
        );

        let token = key.sign_jws(&serde_json::json!({"sub": "x"}));
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(
            String::from_utf8(URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap(),
            format!(r#"{{"kid":"{}","typ":"JWS","alg":"ES256"}}"#, key.kid())
        );
        let sig = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
        assert_eq!(sig.len(), 64, "JWS wants r || s, not DER");

        // Verify with the published point only.
        let mut point = vec![4u8];
        point.extend(URL_SAFE_NO_PAD.decode(x).unwrap());
        point.extend(URL_SAFE_NO_PAD.decode(y).unwrap());
        let public = signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point);
        let signed = format!("{}.{}", parts[0], parts[1]);
        public.verify(signed.as_bytes(), &sig).unwrap();
        assert!(public.verify(b"other", &sig).is_err());

        let ring = KeyRing::new(vec![key]);
        assert_eq!(ring.algorithms(), vec!["ES256"]);
    }
}
