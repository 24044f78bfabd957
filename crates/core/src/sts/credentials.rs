//! Stateless temporary credentials.
//!
//! Nothing is stored per credential. The AccessKeyId is `ASIA`, one character naming the key
//! generation, and 15 random characters. The SecretAccessKey is an HMAC of the AccessKeyId under
//! a server key, so it can be recomputed instead of looked up. The SessionToken is the session's
//! claims sealed with AES-256-GCM under another server key, with the AccessKeyId as associated
//! data: a token cannot be moved to another key id, and any node holding the master key can open
//! it. Verifying a signed request therefore needs no database read.
#![cfg_attr(not(test), deny(clippy::string_slice, clippy::indexing_slicing))]

use aws_lc_rs::{aead, hmac};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::{Deserialize, Serialize};

use crate::UnixSeconds;
use crate::ids::random_string;
use crate::master_key::MasterKey;
use crate::random::{Randomness, bytes};

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// The key generation of credentials minted now, as the fifth character of the AccessKeyId and
/// the first byte of the session token. A later generation can rotate both server keys while
/// credentials of this one stay verifiable.
const GENERATION: char = 'A';
const TOKEN_VERSION: u8 = 1;

/// Whose session a set of temporary credentials is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SessionKind {
    /// A role's session (AssumeRole, AssumeRoleWithWebIdentity, the enhanced flow).
    #[default]
    #[serde(rename = "r")]
    Role,
    /// An IAM user's own session (GetSessionToken): the user, with the user's permissions.
    #[serde(rename = "u")]
    User,
    /// A federated user (GetFederationToken): the calling user's permissions narrowed by the
    /// session policy, and nothing without one.
    #[serde(rename = "f")]
    FederatedUser,
}

impl SessionKind {
    fn is_role(&self) -> bool {
        *self == Self::Role
    }
}

/// What a session is: everything GetCallerIdentity and later authorisation need.
///
/// `role_name`, `role_id` and `role_path` name the entity whose policies apply: the role for
/// a role's session, the calling IAM user for a user's or a federated user's session.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionClaims {
    #[serde(rename = "k", default, skip_serializing_if = "SessionKind::is_role")]
    pub kind: SessionKind,
    #[serde(rename = "a")]
    pub account_id: String,
    #[serde(rename = "rn")]
    pub role_name: String,
    #[serde(rename = "ri")]
    pub role_id: String,
    #[serde(rename = "rp")]
    pub role_path: String,
    /// The role session name, or the federated user's name.
    #[serde(rename = "s")]
    pub session_name: String,
    /// The web identity's `sub` (the Cognito identity id); empty for sessions not made from a
    /// web identity.
    #[serde(rename = "sub", default, skip_serializing_if = "String::is_empty")]
    pub subject: String,
    /// The web identity's `aud` (the identity pool id); empty when `subject` is.
    #[serde(rename = "aud", default, skip_serializing_if = "String::is_empty")]
    pub audience: String,
    #[serde(rename = "amr", default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
    #[serde(rename = "iat")]
    pub issued_at: UnixSeconds,
    #[serde(rename = "exp")]
    pub expires_at: UnixSeconds,
    #[serde(rename = "pol", default, skip_serializing_if = "Option::is_none")]
    pub session_policy: Option<String>,
    /// Managed session policies (`PolicyArns`), read when a request is authorized: a policy
    /// changed or deleted since applies as it now is.
    #[serde(rename = "pa", default, skip_serializing_if = "Vec::is_empty")]
    pub policy_arns: Vec<String>,
    #[serde(rename = "tag", default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<(String, String)>,
    /// The prefix of the web identity's condition keys (`<prefix>:sub`, `:aud`, `:amr`) when
    /// the token came from a registered OpenID Connect provider (its URL); absent for
    /// Cognito's, whose prefix is `cognito-identity.amazonaws.com`.
    #[serde(rename = "kp", default, skip_serializing_if = "Option::is_none")]
    pub web_identity_key_prefix: Option<String>,
    /// The keys of `tags` that pass on to the sessions this one assumes (role chaining).
    #[serde(rename = "tt", default, skip_serializing_if = "Vec::is_empty")]
    pub transitive_tag_keys: Vec<String>,
    /// AssumeRole's SourceIdentity, kept by every session chained from this one.
    #[serde(rename = "si", default, skip_serializing_if = "Option::is_none")]
    pub source_identity: Option<String>,
    /// The Cognito identity a chain of sessions began with (its identity id and pool id), kept
    /// by every session chained from it so that revoking the identity reaches them too.
    #[serde(rename = "ci", default, skip_serializing_if = "Option::is_none")]
    pub chained_from_identity: Option<(String, String)>,
    /// When the proof a Cognito identity's chain of sessions began with was issued (its
    /// token's `iat`), kept down the chain: a revocation refuses a session made just after it
    /// from a token (or a session) issued before it.
    #[serde(rename = "pt", default, skip_serializing_if = "Option::is_none")]
    pub proof_issued_at: Option<UnixSeconds>,
}

impl SessionClaims {
    /// The time a revocation of this session's identity compares with: the earlier of its own
    /// issue and its proof's.
    pub fn revocable_since(&self) -> UnixSeconds {
        self.proof_issued_at
            .map_or(self.issued_at, |proof| proof.min(self.issued_at))
    }

    /// The Cognito identity (identity id, pool id) this session was made for, directly or
    /// through the sessions it was chained from; `None` for sessions of no identity.
    pub fn cognito_identity(&self) -> Option<(&str, &str)> {
        if let Some((identity, pool)) = &self.chained_from_identity {
            return Some((identity, pool));
        }
        (self.kind == SessionKind::Role
            && self.web_identity_key_prefix.is_none()
            && !self.subject.is_empty())
        .then_some((self.subject.as_str(), self.audience.as_str()))
    }
    /// The session's own ARN: the assumed role's, the user's, or the federated user's.
    pub fn principal_arn(&self) -> String {
        match self.kind {
            SessionKind::Role => self.assumed_role_arn(),
            SessionKind::User => format!(
                "arn:aws:iam::{}:user{}{}",
                self.account_id, self.role_path, self.role_name
            ),
            SessionKind::FederatedUser => self.federated_user_arn(),
        }
    }

    /// The session's `aws:userid`: `ROLEID:session`, the user's id, or `account:name`.
    pub fn principal_id(&self) -> String {
        match self.kind {
            SessionKind::Role => self.assumed_role_id(),
            SessionKind::User => self.role_id.clone(),
            SessionKind::FederatedUser => format!("{}:{}", self.account_id, self.session_name),
        }
    }

    pub fn federated_user_arn(&self) -> String {
        format!(
            "arn:aws:sts::{}:federated-user/{}",
            self.account_id, self.session_name
        )
    }

    pub fn assumed_role_arn(&self) -> String {
        format!(
            "arn:aws:sts::{}:assumed-role/{}/{}",
            self.account_id, self.role_name, self.session_name
        )
    }

    pub fn assumed_role_id(&self) -> String {
        format!("{}:{}", self.role_id, self.session_name)
    }

    pub fn role_arn(&self) -> String {
        format!(
            "arn:aws:iam::{}:role{}{}",
            self.account_id, self.role_path, self.role_name
        )
    }
}

/// The four values handed to the client.
#[derive(Clone, PartialEq, Eq)]
pub struct TemporaryCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    pub expiration: UnixSeconds,
}

impl std::fmt::Debug for TemporaryCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TemporaryCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("expiration", &self.expiration)
            .finish_non_exhaustive()
    }
}

/// Why a session token was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SessionTokenError {
    #[error("the security token is not one tegata issued for this access key")]
    Invalid,
}

/// The counter of credentials minted for `kind` of session, looked up in the metrics recorder
/// once (the recorder is installed before the first session is made).
fn issued(kind: SessionKind) -> &'static metrics::Counter {
    static COUNTERS: std::sync::OnceLock<[metrics::Counter; 3]> = std::sync::OnceLock::new();
    let counters = COUNTERS.get_or_init(|| {
        ["role", "user", "federated_user"].map(
            |session| metrics::counter!("tegata_credentials_issued_total", "session" => session),
        )
    });
    match kind {
        SessionKind::Role => &counters[0],
        SessionKind::User => &counters[1],
        SessionKind::FederatedUser => &counters[2],
    }
}

/// The two keys temporary credentials are made with, derived from one master key.
struct MintingKeys {
    token_key: aead::LessSafeKey,
    secret_key: hmac::Key,
}

fn secret_with(key: &hmac::Key, access_key_id: &str) -> String {
    let mac = hmac::sign(key, access_key_id.as_bytes());
    let mut secret = STANDARD.encode(mac.as_ref());
    secret.truncate(40);
    secret
}

/// Mints and opens temporary credentials with keys derived from the master key. During a
/// master key rotation it also opens credentials made under the rotation's other key: the
/// session token says which (only the right key authenticates it), and its secret is derived
/// under that same key.
pub struct CredentialMinter {
    /// The master key's first: new credentials are made with it.
    keys: Vec<MintingKeys>,
}

impl CredentialMinter {
    pub fn new(master: &MasterKey) -> Self {
        let token_keys = master.derive_subkeys("tegata session token v1");
        let secret_keys = master.derive_subkeys("tegata temporary secret v1");
        Self {
            keys: token_keys
                .iter()
                .zip(&secret_keys)
                .map(|(token_key, secret_key)| MintingKeys {
                    token_key: aead::LessSafeKey::new(
                        aead::UnboundKey::new(&aead::AES_256_GCM, token_key)
                            .expect("32 bytes is an AES-256 key"),
                    ),
                    secret_key: hmac::Key::new(hmac::HMAC_SHA256, secret_key),
                })
                .collect(),
        }
    }

    fn minting(&self) -> &MintingKeys {
        self.keys
            .first()
            .expect("a master key derives at least one set of keys")
    }

    /// Whether an access key id has the form of one of ours.
    pub fn is_temporary_key_id(access_key_id: &str) -> bool {
        access_key_id.len() == 20 && access_key_id.starts_with("ASIA")
    }

    /// The secret belonging to a temporary AccessKeyId made with the current master key.
    pub fn secret_for(&self, access_key_id: &str) -> String {
        secret_with(&self.minting().secret_key, access_key_id)
    }

    pub fn mint(&self, claims: &SessionClaims, rng: &dyn Randomness) -> TemporaryCredentials {
        issued(claims.kind).increment(1);
        let access_key_id = format!("ASIA{GENERATION}{}", random_string(BASE32, 15, rng));
        let nonce = bytes::<{ aead::NONCE_LEN }>(rng);
        let mut sealed = serde_json::to_vec(claims).expect("session claims serialize");
        self.minting()
            .token_key
            .seal_in_place_append_tag(
                aead::Nonce::assume_unique_for_key(nonce),
                aead::Aad::from(access_key_id.as_bytes()),
                &mut sealed,
            )
            .expect("AES-GCM sealing of an in-memory buffer cannot fail");
        let mut blob = Vec::with_capacity(1 + nonce.len() + sealed.len());
        blob.push(TOKEN_VERSION);
        blob.extend_from_slice(&nonce);
        blob.extend_from_slice(&sealed);
        TemporaryCredentials {
            secret_access_key: self.secret_for(&access_key_id),
            // AWS's tokens are standard base64 (iam-facts.md §5), which clients may check.
            session_token: STANDARD.encode(blob),
            expiration: claims.expires_at,
            access_key_id,
        }
    }

    /// Open the session token presented with `access_key_id`. Expiry is the caller's to check.
    pub fn open(
        &self,
        access_key_id: &str,
        session_token: &str,
    ) -> Result<SessionClaims, SessionTokenError> {
        self.open_with_secret(access_key_id, session_token)
            .map(|(claims, _)| claims)
    }

    /// [`Self::open`], and the secret of `access_key_id` under the master key that made it.
    pub fn open_with_secret(
        &self,
        access_key_id: &str,
        session_token: &str,
    ) -> Result<(SessionClaims, String), SessionTokenError> {
        if !Self::is_temporary_key_id(access_key_id)
            || access_key_id.as_bytes().get(4) != Some(&(GENERATION as u8))
        {
            return Err(SessionTokenError::Invalid);
        }
        // Tokens minted before tegata used standard base64 were URL-safe; they live 36 hours
        // at most, and are still read.
        let blob = STANDARD
            .decode(session_token)
            .or_else(|_| URL_SAFE_NO_PAD.decode(session_token))
            .map_err(|_| SessionTokenError::Invalid)?;
        let Some((&TOKEN_VERSION, sealed)) = blob.split_first() else {
            return Err(SessionTokenError::Invalid);
        };
        if sealed.len() < aead::NONCE_LEN + 16 {
            return Err(SessionTokenError::Invalid);
        }
        let (nonce, ciphertext) = sealed.split_at(aead::NONCE_LEN);
        // The current key first: outside a rotation it is the only one.
        for keys in &self.keys {
            let nonce = aead::Nonce::try_assume_unique_for_key(nonce)
                .map_err(|_| SessionTokenError::Invalid)?;
            let mut in_out = ciphertext.to_vec();
            if let Ok(plain) = keys.token_key.open_in_place(
                nonce,
                aead::Aad::from(access_key_id.as_bytes()),
                &mut in_out,
            ) {
                let claims =
                    serde_json::from_slice(plain).map_err(|_| SessionTokenError::Invalid)?;
                return Ok((claims, secret_with(&keys.secret_key, access_key_id)));
            }
        }
        Err(SessionTokenError::Invalid)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::random::SeededRandomness;

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 2000,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        /// Any access key id and token: refused, never a panic.
        #[test]
        fn arbitrary_session_tokens_never_panic(akid in "\\PC{0,24}", token in "\\PC{0,200}") {
            let minter = CredentialMinter::new(&MasterKey::from_bytes([7; 32]));
            let _ = minter.open(&akid, &token);
            let _ = minter.open("ASIAAAAAAAAAAAAAAAAA", &token);
        }
    }

    #[test]
    fn the_cognito_identity_of_a_session_and_of_the_sessions_chained_from_it() {
        let cognito = claims();
        assert_eq!(
            cognito.cognito_identity(),
            Some(("us-east-1:abc", "us-east-1:pool"))
        );
        // A registered OpenID Connect provider's subject is not a Cognito identity.
        let external = SessionClaims {
            web_identity_key_prefix: Some("issuer.example.com".into()),
            ..claims()
        };
        assert_eq!(external.cognito_identity(), None);
        let chained = SessionClaims {
            subject: String::new(),
            audience: String::new(),
            chained_from_identity: Some(("us-east-1:abc".into(), "us-east-1:pool".into())),
            ..claims()
        };
        assert_eq!(chained.cognito_identity(), cognito.cognito_identity());
        let user = SessionClaims {
            kind: SessionKind::User,
            subject: String::new(),
            ..claims()
        };
        assert_eq!(user.cognito_identity(), None);
        // A session made after a revocation from a proof issued before it is as old as that
        // proof, for the revocation.
        assert_eq!(cognito.revocable_since(), cognito.issued_at);
        let late = SessionClaims {
            issued_at: 500,
            proof_issued_at: Some(90),
            ..claims()
        };
        assert_eq!(late.revocable_since(), 90);
    }

    fn claims() -> SessionClaims {
        SessionClaims {
            account_id: "123456789012".into(),
            role_name: "lambda_role".into(),
            role_id: "AROAEXAMPLEEXAMPLE12".into(),
            role_path: "/service-role/".into(),
            session_name: "boto".into(),
            subject: "us-east-1:abc".into(),
            audience: "us-east-1:pool".into(),
            amr: vec!["authenticated".into()],
            issued_at: 100,
            expires_at: 3700,
            session_policy: None,
            tags: vec![("team".into(), "blue".into())],
            web_identity_key_prefix: None,
            ..SessionClaims::default()
        }
    }

    #[test]
    fn during_a_master_key_rotation_credentials_of_either_key_open() {
        let rng = SeededRandomness::new(21);
        let old = MasterKey::generate(&rng);
        let new = MasterKey::generate(&rng);
        let old_file = old.to_file_contents();
        let before = CredentialMinter::new(&old).mint(&claims(), &rng);
        let rotating = CredentialMinter::new(
            &MasterKey::from_file_contents(&new.to_file_contents())
                .unwrap()
                .with_previous(MasterKey::from_file_contents(&old_file).unwrap()),
        );
        let after = rotating.mint(&claims(), &rng);
        for creds in [&before, &after] {
            let (opened, secret) = rotating
                .open_with_secret(&creds.access_key_id, &creds.session_token)
                .unwrap();
            assert_eq!(
                (opened, secret),
                (claims(), creds.secret_access_key.clone())
            );
        }
        // Made with the new key: a node that has only the old one does not accept them, and
        // once the old key is dropped its credentials are refused.
        let old_only = CredentialMinter::new(&MasterKey::from_file_contents(&old_file).unwrap());
        assert!(
            old_only
                .open(&after.access_key_id, &after.session_token)
                .is_err()
        );
        let new_only = CredentialMinter::new(&new);
        assert!(
            new_only
                .open(&before.access_key_id, &before.session_token)
                .is_err()
        );
        assert!(
            new_only
                .open(&after.access_key_id, &after.session_token)
                .is_ok()
        );
    }

    #[test]
    fn minted_credentials_open_and_are_bound_to_their_key_id() {
        let rng = SeededRandomness::new(9);
        let minter = CredentialMinter::new(&MasterKey::generate(&rng));
        let creds = minter.mint(&claims(), &rng);
        assert!(creds.access_key_id.starts_with("ASIAA") && creds.access_key_id.len() == 20);
        assert_eq!(creds.secret_access_key.len(), 40);
        assert!(
            creds
                .session_token
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/+=".contains(&b)),
            "AWS's alphabet: standard base64"
        );
        assert_eq!(
            minter.secret_for(&creds.access_key_id),
            creds.secret_access_key
        );
        assert_eq!(
            minter.open(&creds.access_key_id, &creds.session_token),
            Ok(claims())
        );
        assert_eq!(
            claims().assumed_role_arn(),
            "arn:aws:sts::123456789012:assumed-role/lambda_role/boto"
        );

        let other = minter.mint(&claims(), &rng);
        assert_eq!(
            minter.open(&other.access_key_id, &creds.session_token),
            Err(SessionTokenError::Invalid),
            "a token is bound to its access key id"
        );
        let mut tampered = creds.session_token.clone().into_bytes();
        let i = tampered.len() / 2;
        tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
        assert_eq!(
            minter.open(
                &creds.access_key_id,
                std::str::from_utf8(&tampered).unwrap()
            ),
            Err(SessionTokenError::Invalid)
        );
        let foreign = CredentialMinter::new(&MasterKey::generate(&rng));
        assert_eq!(
            foreign.open(&creds.access_key_id, &creds.session_token),
            Err(SessionTokenError::Invalid)
        );
        assert!(!format!("{creds:?}").contains(&creds.secret_access_key));
    }
}
