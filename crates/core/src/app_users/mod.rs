//! The application's own users: the people who sign in to the credential broker with a username
//! and a password (not IAM users, who sign requests with access keys).
//!
//! Passwords are kept as Argon2id PHC strings ([`passwords`]). Signing in costs one hash whether
//! the user exists or not, and a successful sign-in replaces a hash made with an older cost.

pub mod passwords;

use std::sync::Arc;

use crate::store::{AppUserStore, StoreError};
use crate::{Randomness, UnixSeconds};

pub use passwords::{HashingError, PasswordCost, PasswordHashing, Verification};

/// Passwords shorter than this are refused (NIST SP 800-63B's minimum).
pub const MIN_PASSWORD_BYTES: usize = 8;
/// Longer ones are refused too: hashing is linear in the length, and nobody types more.
pub const MAX_PASSWORD_BYTES: usize = 1024;
pub const MAX_USERNAME_BYTES: usize = 128;

/// An application user as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct AppUser {
    pub username: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    pub disabled: bool,
    pub created_at: UnixSeconds,
    pub password_changed_at: UnixSeconds,
}

impl std::fmt::Debug for AppUser {
    // The hash is not a secret in the way a password is, but it is what an attacker would crack
    // offline: it stays out of logs too.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppUser")
            .field("username", &self.username)
            .field("disabled", &self.disabled)
            .field("created_at", &self.created_at)
            .field("password_changed_at", &self.password_changed_at)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AppUserError {
    #[error("{0}")]
    InvalidUsername(String),
    #[error("{0}")]
    InvalidPassword(String),
    #[error("the application user '{0}' already exists")]
    AlreadyExists(String),
    #[error("there is no application user '{0}'")]
    NotFound(String),
    #[error(transparent)]
    Hashing(#[from] HashingError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why a sign-in was refused. Callers answer all of them alike (the client learns nothing about
/// which part was wrong); the reason is for the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    UnknownUser,
    WrongPassword,
    /// The password was right, but the user is disabled.
    Disabled,
}

impl Refusal {
    /// The reason code written to the audit log.
    pub fn code(self) -> &'static str {
        match self {
            Self::UnknownUser => "unknown_user",
            Self::WrongPassword => "wrong_password",
            Self::Disabled => "user_disabled",
        }
    }
}

/// Check a username: 1 to 128 bytes, no control characters, no spaces at either end (they
/// would make two users that look alike).
pub fn check_username(username: &str) -> Result<(), AppUserError> {
    if username.is_empty() || username.len() > MAX_USERNAME_BYTES {
        return Err(AppUserError::InvalidUsername(format!(
            "a username has 1 to {MAX_USERNAME_BYTES} bytes"
        )));
    }
    if username.chars().any(char::is_control) || username.trim() != username {
        return Err(AppUserError::InvalidUsername(
            "a username has no control characters and no spaces at either end".to_owned(),
        ));
    }
    Ok(())
}

/// Check a new password's length (in bytes of UTF-8, as it is hashed).
pub fn check_password(password: &[u8]) -> Result<(), AppUserError> {
    if !(MIN_PASSWORD_BYTES..=MAX_PASSWORD_BYTES).contains(&password.len()) {
        return Err(AppUserError::InvalidPassword(format!(
            "a password has {MIN_PASSWORD_BYTES} to {MAX_PASSWORD_BYTES} bytes"
        )));
    }
    Ok(())
}

/// Application users: administration and sign-in.
pub struct AppUsers {
    store: Arc<dyn AppUserStore>,
    hashing: Arc<PasswordHashing>,
}

impl AppUsers {
    pub fn new(store: Arc<dyn AppUserStore>, hashing: Arc<PasswordHashing>) -> Self {
        Self { store, hashing }
    }

    pub async fn add(
        &self,
        username: &str,
        password: &[u8],
        now: UnixSeconds,
        rng: &dyn Randomness,
    ) -> Result<AppUser, AppUserError> {
        check_username(username)?;
        check_password(password)?;
        let user = AppUser {
            username: username.to_owned(),
            password_hash: self.hashing.hash(password, rng).await?,
            disabled: false,
            created_at: now,
            password_changed_at: now,
        };
        if !self.store.insert_app_user(&user).await? {
            return Err(AppUserError::AlreadyExists(username.to_owned()));
        }
        Ok(user)
    }

    pub async fn set_password(
        &self,
        username: &str,
        password: &[u8],
        now: UnixSeconds,
        rng: &dyn Randomness,
    ) -> Result<(), AppUserError> {
        check_password(password)?;
        let hash = self.hashing.hash(password, rng).await?;
        if !self
            .store
            .set_app_user_password(username, &hash, now)
            .await?
        {
            return Err(AppUserError::NotFound(username.to_owned()));
        }
        Ok(())
    }

    pub async fn set_disabled(&self, username: &str, disabled: bool) -> Result<(), AppUserError> {
        if !self.store.set_app_user_disabled(username, disabled).await? {
            return Err(AppUserError::NotFound(username.to_owned()));
        }
        Ok(())
    }

    pub async fn delete(&self, username: &str) -> Result<(), AppUserError> {
        if !self.store.delete_app_user(username).await? {
            return Err(AppUserError::NotFound(username.to_owned()));
        }
        Ok(())
    }

    pub async fn list(&self) -> Result<Vec<AppUser>, AppUserError> {
        Ok(self.store.list_app_users().await?)
    }

    /// Check a username and password. Exactly one hash is verified whatever the outcome, so the
    /// time taken does not tell whether the user exists. A right password whose hash was made
    /// with another cost is hashed again with the configured one (best effort: a failure to
    /// store it is logged and the sign-in still succeeds).
    pub async fn sign_in(
        &self,
        username: &str,
        password: &[u8],
        rng: &dyn Randomness,
    ) -> Result<Result<AppUser, Refusal>, AppUserError> {
        // A password that could never have been set is checked against the decoy all the same,
        // so that its length tells nothing either; it cannot match.
        let user = if check_username(username).is_ok() {
            self.store.app_user(username).await?
        } else {
            None
        };
        let plausible = check_password(password).is_ok();
        let stored = user
            .as_ref()
            .filter(|_| plausible)
            .map(|u| u.password_hash.as_str());
        let checked_password = if plausible { password } else { b"" };
        let verification = self.hashing.verify(checked_password, stored).await?;
        let Some(user) = user else {
            return Ok(Err(Refusal::UnknownUser));
        };
        if !verification.matches {
            return Ok(Err(Refusal::WrongPassword));
        }
        if user.disabled {
            return Ok(Err(Refusal::Disabled));
        }
        if verification.outdated {
            self.upgrade_hash(&user, password, rng).await;
        }
        Ok(Ok(user))
    }

    async fn upgrade_hash(&self, user: &AppUser, password: &[u8], rng: &dyn Randomness) {
        let upgraded = match self.hashing.hash(password, rng).await {
            Ok(hash) => hash,
            Err(e) => {
                tracing::warn!(username = %user.username, error = %e, "could not re-hash an outdated password hash; will try at the next sign-in");
                return;
            }
        };
        // Only if the hash is still the one verified: a password changed meanwhile stays.
        match self
            .store
            .replace_app_user_hash(&user.username, &user.password_hash, &upgraded)
            .await
        {
            Ok(true) => {
                tracing::info!(username = %user.username, "re-hashed a password with the configured Argon2id cost")
            }
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(username = %user.username, error = %e, "could not store a re-hashed password")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_and_passwords_are_checked() {
        assert!(check_username("alice").is_ok());
        assert!(check_username("alice@example.com").is_ok());
        assert!(check_username("").is_err());
        assert!(check_username(" alice").is_err());
        assert!(check_username("al\nice").is_err());
        assert!(check_username(&"a".repeat(129)).is_err());
        assert!(check_username(&"a".repeat(128)).is_ok());
        assert!(check_password(b"1234567").is_err());
        assert!(check_password(b"12345678").is_ok());
        assert!(check_password(&[b'x'; 1024]).is_ok());
        assert!(check_password(&[b'x'; 1025]).is_err());
    }
}
