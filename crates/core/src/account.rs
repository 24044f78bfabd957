//! The account a deployment serves and its long-term access keys.
//!
//! A deployment has exactly one account, created at first start together with an administrator
//! access key pair and the first signing key. Several nodes starting at once on an empty shared
//! database must agree on one of everything: each prepares a candidate, and the store keeps the
//! first one committed (see [`crate::store::Store::bootstrap`]).

use crate::UnixSeconds;
use crate::deployment::PARTITION;
use crate::ids;
use crate::master_key::{MasterKey, MasterKeyError};
use crate::random::Randomness;
use crate::store::{SealedSecret, SealedSecretKind};
use crate::tokens::keys::{self, KeyState, SigningKeyError, SigningKeyRecord};

/// The IAM user name of the administrator created at first start.
pub const ADMIN_USER_NAME: &str = "admin";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRecord {
    pub account_id: String,
    pub created_at: UnixSeconds,
}

/// A long-term (`AKIA…`) access key. SigV4 verification needs the secret itself, so it is stored
/// encrypted under the master key rather than hashed.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessKeyRecord {
    pub access_key_id: String,
    pub user_name: String,
    /// The owning user's unique id (`AIDA…`).
    pub user_id: String,
    pub encrypted_secret: Vec<u8>,
    pub master_key_id: String,
    pub active: bool,
    pub created_at: UnixSeconds,
    pub last_used: Option<KeyLastUse>,
}

/// When, where and for what service an access key last signed a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyLastUse {
    pub at: UnixSeconds,
    pub region: String,
    pub service: String,
}

impl std::fmt::Debug for AccessKeyRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessKeyRecord")
            .field("access_key_id", &self.access_key_id)
            .field("user_name", &self.user_name)
            .field("user_id", &self.user_id)
            .field("master_key_id", &self.master_key_id)
            .field("active", &self.active)
            .finish_non_exhaustive()
    }
}

fn secret_context(access_key_id: &str) -> String {
    format!("access-key:{access_key_id}")
}

impl AccessKeyRecord {
    /// Create a key for `user_name` with a fresh secret; returns the record and the secret.
    pub fn generate(
        user_name: &str,
        user_id: &str,
        master: &MasterKey,
        now: UnixSeconds,
        rng: &dyn Randomness,
    ) -> (Self, String) {
        let access_key_id = ids::long_term_access_key_id(rng);
        let secret = ids::secret_access_key(rng);
        let record = Self {
            encrypted_secret: master.seal(&secret_context(&access_key_id), secret.as_bytes(), rng),
            access_key_id,
            user_name: user_name.to_owned(),
            user_id: user_id.to_owned(),
            master_key_id: master.id().to_owned(),
            active: true,
            created_at: now,
            last_used: None,
        };
        (record, secret)
    }

    pub fn secret(&self, master: &MasterKey) -> Result<String, MasterKeyError> {
        let raw = master.open(
            &self.master_key_id,
            &secret_context(&self.access_key_id),
            &self.encrypted_secret,
        )?;
        String::from_utf8(raw).map_err(|_| MasterKeyError::DecryptionFailed)
    }
}

/// `secret` sealed under `new` instead (opened with `current`, which holds every key it may be
/// sealed under); `None` when it is under `new` already. For `tegata master-key rotate`.
pub fn reseal(
    secret: &SealedSecret,
    current: &MasterKey,
    new: &MasterKey,
    rng: &dyn Randomness,
) -> Result<Option<(String, Vec<u8>)>, MasterKeyError> {
    if secret.master_key_id == new.id() {
        return Ok(None);
    }
    let context = match secret.kind {
        SealedSecretKind::SigningKey => crate::tokens::keys::sealing_context(&secret.id),
        SealedSecretKind::AccessKey => secret_context(&secret.id),
    };
    let plain = current.open(&secret.master_key_id, &context, &secret.blob)?;
    Ok(Some((new.id().to_owned(), new.seal(&context, &plain, rng))))
}

/// Everything a deployment's first start creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bootstrap {
    pub account: AccountRecord,
    pub admin_key: AccessKeyRecord,
    pub signing_key: SigningKeyRecord,
}

impl Bootstrap {
    /// A candidate first-start state, its signing key of `algorithm`. Generating an RSA key takes
    /// tens of milliseconds.
    pub fn prepare(
        master: &MasterKey,
        algorithm: keys::TokenAlgorithm,
        now: UnixSeconds,
        rng: &dyn Randomness,
    ) -> Result<Self, SigningKeyError> {
        let account = AccountRecord {
            account_id: ids::account_id(rng),
            created_at: now,
        };
        let user_id = ids::unique_id("AIDA", rng);
        let (admin_key, _secret) =
            AccessKeyRecord::generate(ADMIN_USER_NAME, &user_id, master, now, rng);
        let signing_key =
            keys::generate_signing_key(master, algorithm, KeyState::Active, now, rng)?;
        Ok(Self {
            account,
            admin_key,
            signing_key,
        })
    }
}

/// Who signed a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub account_id: String,
    pub arn: String,
    pub user_id: String,
}

impl Principal {
    /// Who holds temporary credentials: a role's session, a user, or a federated user.
    pub fn of_session(claims: &crate::sts::credentials::SessionClaims) -> Self {
        Self {
            account_id: claims.account_id.clone(),
            arn: claims.principal_arn(),
            user_id: claims.principal_id(),
        }
    }

    pub fn iam_user(account_id: &str, path: &str, user_name: &str, user_id: &str) -> Self {
        Self {
            account_id: account_id.to_owned(),
            arn: format!("arn:{PARTITION}:iam::{account_id}:user{path}{user_name}"),
            user_id: user_id.to_owned(),
        }
    }
}
