//! tegata's credential broker: the application's own sign-in in front, temporary AWS-style
//! credentials out.
//!
//! A caller presents what the application knows them by (a username and password of an
//! application user), the broker checks it ([`Broker::credentials`]: throttle, authenticate),
//! then asks the identity service for the developer user's OpenID token and exchanges it for
//! credentials through a [`backend::CredentialBackend`]: tegata's domain in-process, or Cognito
//! Identity and STS over the AWS SDK. Every attempt leaves an audit line.
//!
//! The HTTP endpoint (`POST /broker/v1/profiles/{profile}/credentials`) is in [`http`].

pub mod audit;
pub mod authenticators;
pub mod aws;
pub mod backend;
pub mod http;
pub mod profiles;
pub mod throttle;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;

use std::time::Duration;

use tegata_core::app_users::{AppUsers, check_username};
use tegata_core::sts::credentials::TemporaryCredentials;
use tegata_core::tokens::federation::ExternalKeys;
use tegata_core::{Randomness, UnixSeconds};
use time::OffsetDateTime;

use audit::{AuditEvent, AuditEventKind, AuditLog, Outcome};
use authenticators::{Authenticated, Checked, WebhookClient};
use backend::{BackendError, CredentialBackend, DeveloperTokenRequest, WebIdentityRequest};
use profiles::{Authenticator, AuthenticatorKind, Flow, Profile};
use throttle::{SignInThrottle, Throttled};

/// What the caller presented.
pub enum Presented {
    /// An application user's name and password (password profiles).
    Password { username: String, password: String },
    /// A bearer token (webhook and jwt profiles).
    Bearer(String),
}

impl Presented {
    fn username(&self) -> Option<&str> {
        match self {
            Self::Password { username, .. } => Some(username),
            Self::Bearer(_) => None,
        }
    }
}

/// Credentials issued to a caller.
#[derive(Debug)]
pub struct Issued {
    pub identity_id: String,
    pub credentials: TemporaryCredentials,
}

/// Why no credentials were issued. Each variant says what the client is told; details that
/// would help an attacker (which part of a sign-in was wrong) stay in the audit log.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    #[error("there is no broker profile named '{0}'")]
    NoSuchProfile(String),
    /// The request cannot be understood.
    #[error("{0}")]
    Malformed(String),
    /// The credentials presented were not accepted.
    #[error("the credentials presented were not accepted")]
    Unauthorized,
    /// Too many refused attempts.
    #[error("too many sign-in attempts; retry after {retry_after} seconds")]
    Throttled { retry_after: i64 },
    /// Too many attempts at once: the password hashing queue is full.
    #[error("too many sign-ins at once; retry after {retry_after} seconds")]
    Busy { retry_after: i64 },
    /// The authenticator's own service (the webhook, the OpenID provider's keys) did not
    /// answer, or answered nonsense.
    #[error("the authenticator's service {}", if *timed_out { "timed out" } else { "failed" })]
    AuthenticatorUnavailable { timed_out: bool },
    /// The identity service refused or failed.
    #[error(transparent)]
    Backend(#[from] BackendError),
    /// tegata itself failed (the store, the hashing threads).
    #[error("the broker failed: {0}")]
    Internal(String),
}

/// A profile ready to serve: its settings and its backend.
pub struct BrokerProfile {
    pub profile: Profile,
    pub backend: Arc<dyn CredentialBackend>,
}

/// One call's facts for its audit lines.
struct Attempt<'a> {
    now: OffsetDateTime,
    profile: &'a str,
    source: Option<IpAddr>,
}

impl<'a> Attempt<'a> {
    fn sign_in<'b>(
        &self,
        outcome: Outcome,
        user: Option<&'b str>,
        reason: Option<&'static str>,
    ) -> AuditEvent<'b>
    where
        'a: 'b,
    {
        AuditEvent {
            time: self.now,
            event: AuditEventKind::SignIn,
            profile: self.profile,
            user,
            identity_id: None,
            role: None,
            access_key_id: None,
            outcome,
            reason,
            source_address: self.source,
        }
    }
}

/// What the authenticators need: the application users (password profiles), an HTTP client
/// (webhook profiles), the OpenID providers' keys (jwt profiles).
pub struct AuthenticatorServices {
    pub app_users: Option<Arc<AppUsers>>,
    pub webhook: Option<WebhookClient>,
    pub jwt_keys: Option<Arc<ExternalKeys>>,
}

pub struct Broker {
    profiles: HashMap<String, BrokerProfile>,
    services: AuthenticatorServices,
    throttle: SignInThrottle,
    audit: AuditLog,
    rng: Arc<dyn Randomness>,
}

impl std::fmt::Debug for Broker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Broker")
            .field("profiles", &self.profiles.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Broker {
    /// Each profile's authenticator needs its service in `services`.
    pub fn new(
        profiles: Vec<BrokerProfile>,
        services: AuthenticatorServices,
        throttle: SignInThrottle,
        audit: AuditLog,
        rng: Arc<dyn Randomness>,
    ) -> Result<Self, String> {
        let mut by_name = HashMap::new();
        for profile in profiles {
            let kind = profile.profile.authenticator.kind();
            let available = match kind {
                AuthenticatorKind::Password => services.app_users.is_some(),
                AuthenticatorKind::Webhook => services.webhook.is_some(),
                AuthenticatorKind::Jwt => services.jwt_keys.is_some(),
            };
            if !available {
                return Err(format!(
                    "broker profile '{}': the {kind:?} authenticator is not available here",
                    profile.profile.name
                ));
            }
            let name = profile.profile.name.clone();
            if by_name.insert(name.clone(), profile).is_some() {
                return Err(format!("two broker profiles are named '{name}'"));
            }
        }
        Ok(Self {
            profiles: by_name,
            services,
            throttle,
            audit,
            rng,
        })
    }

    pub fn profile(&self, name: &str) -> Option<&Profile> {
        self.profiles.get(name).map(|p| &p.profile)
    }

    pub fn profile_names(&self) -> impl Iterator<Item = &str> {
        self.profiles.keys().map(String::as_str)
    }

    /// Authenticate the caller with the profile's authenticator and issue credentials.
    pub async fn credentials(
        &self,
        profile_name: &str,
        presented: Presented,
        source: Option<IpAddr>,
        now: OffsetDateTime,
    ) -> Result<Issued, BrokerError> {
        let entry = self
            .profiles
            .get(profile_name)
            .ok_or_else(|| BrokerError::NoSuchProfile(profile_name.to_owned()))?;
        let profile = &entry.profile;
        let seconds = now.unix_timestamp();
        let attempt = Attempt {
            now,
            profile: profile_name,
            source,
        };
        let event = |outcome, user, reason| attempt.sign_in(outcome, user, reason);

        // A name that could not be a user's is neither followed by the throttle nor written to
        // the audit log: it may be long, or be a password typed in the wrong field. The attempt
        // still counts against the address.
        let named_user = presented
            .username()
            .filter(|name| check_username(name).is_ok())
            .map(str::to_owned);
        let permit = match self
            .throttle
            .check(profile_name, named_user.as_deref(), source, seconds)
        {
            Ok(permit) => permit,
            Err(throttled) => {
                self.audit.write(&event(
                    Outcome::Throttled,
                    named_user.as_deref(),
                    Some(throttled.code()),
                ));
                return Err(BrokerError::Throttled {
                    retry_after: Throttled::retry_after(throttled),
                });
            }
        };

        let user = match self.authenticate(profile, presented, seconds).await {
            Ok(Ok(user)) => user,
            Ok(Err(refused)) => {
                permit.refused(seconds);
                self.audit.write(&event(
                    Outcome::Refused,
                    refused
                        .user
                        .as_deref()
                        .filter(|name| check_username(name).is_ok()),
                    Some(refused.reason),
                ));
                return Err(BrokerError::Unauthorized);
            }
            Err(e) => {
                let (outcome, reason) = match &e {
                    BrokerError::Busy { .. } => (Outcome::Throttled, "hashing_busy"),
                    BrokerError::AuthenticatorUnavailable { timed_out: true } => {
                        (Outcome::Failed, "authenticator_timeout")
                    }
                    BrokerError::AuthenticatorUnavailable { timed_out: false } => {
                        (Outcome::Failed, "authenticator_unavailable")
                    }
                    BrokerError::Malformed(_) => (Outcome::Refused, "malformed_request"),
                    _ => (Outcome::Failed, "internal_error"),
                };
                self.audit
                    .write(&event(outcome, named_user.as_deref(), Some(reason)));
                return Err(e);
            }
        };
        drop(permit);
        self.audit
            .write(&event(Outcome::Success, Some(&user.user_id), None));

        let issued = self.issue(entry, &user).await;
        let role = profile.role_arn.as_deref();
        match &issued {
            Ok(issued) => self.audit.write(&AuditEvent {
                event: AuditEventKind::CredentialsIssued,
                identity_id: Some(&issued.identity_id),
                role,
                access_key_id: Some(&issued.credentials.access_key_id),
                ..event(Outcome::Success, Some(&user.user_id), None)
            }),
            Err(e) => {
                tracing::warn!(profile = profile_name, error = %e, "the broker could not issue credentials");
                self.audit.write(&AuditEvent {
                    event: AuditEventKind::CredentialsIssued,
                    role,
                    ..event(
                        Outcome::Failed,
                        Some(&user.user_id),
                        Some(backend_reason(e)),
                    )
                });
            }
        }
        issued
    }

    /// Write the audit line of a sign-in attempt refused before its credentials could be read
    /// (a malformed body, no bearer token).
    pub fn audit_unreadable(
        &self,
        profile: &str,
        source: Option<IpAddr>,
        now: OffsetDateTime,
        reason: &'static str,
    ) {
        let attempt = Attempt {
            now,
            profile,
            source,
        };
        self.audit
            .write(&attempt.sign_in(Outcome::Refused, None, Some(reason)));
    }

    async fn authenticate(
        &self,
        profile: &Profile,
        presented: Presented,
        now: UnixSeconds,
    ) -> Checked {
        let services = &self.services;
        let unavailable = || BrokerError::Internal("the authenticator is not available".into());
        match (&profile.authenticator, presented) {
            (Authenticator::Password, Presented::Password { username, password }) => {
                let app_users = services.app_users.as_ref().ok_or_else(unavailable)?;
                authenticators::password(app_users, username, &password, &*self.rng).await
            }
            (
                Authenticator::Webhook {
                    url,
                    timeout_seconds,
                },
                Presented::Bearer(token),
            ) => {
                let webhook = services.webhook.as_ref().ok_or_else(unavailable)?;
                let timeout = Duration::from_secs(*timeout_seconds);
                webhook.check(url, timeout, &profile.name, &token).await
            }
            (
                Authenticator::Jwt {
                    issuer,
                    audiences,
                    user_claim,
                },
                Presented::Bearer(token),
            ) => {
                let keys = services.jwt_keys.as_ref().ok_or_else(unavailable)?;
                authenticators::jwt(keys, issuer, audiences, user_claim, &token, now).await
            }
            (Authenticator::Password, Presented::Bearer(_)) => Err(BrokerError::Malformed(
                "this profile signs in with a JSON body {\"username\": …, \"password\": …}".into(),
            )),
            (_, Presented::Password { .. }) => Err(BrokerError::Malformed(
                "this profile signs in with a bearer token (Authorization: Bearer …)".into(),
            )),
        }
    }

    async fn issue(
        &self,
        entry: &BrokerProfile,
        user: &Authenticated,
    ) -> Result<Issued, BrokerError> {
        let profile = &entry.profile;
        let token = entry
            .backend
            .developer_token(&DeveloperTokenRequest {
                identity_pool_id: &profile.identity_pool_id,
                developer_provider: &profile.developer_provider,
                developer_user_id: &user.user_id,
                principal_tags: &user.principal_tags,
                token_duration_seconds: profile.token_duration_seconds,
            })
            .await?;
        let credentials = match (profile.flow, &profile.role_arn) {
            (Flow::Basic, Some(role_arn)) => {
                entry
                    .backend
                    .assume_role_with_web_identity(&WebIdentityRequest {
                        role_arn,
                        role_session_name: &session_name(&user.user_id),
                        web_identity_token: &token.token,
                        // The authenticator may shorten the profile's session, not lengthen it.
                        duration_seconds: user
                            .max_session_seconds
                            .map_or(profile.session_duration_seconds, |max| {
                                max.min(profile.session_duration_seconds)
                            }),
                    })
                    .await?
            }
            _ => {
                entry
                    .backend
                    .credentials_for_identity(&token.identity_id, &token.token)
                    .await?
            }
        };
        Ok(Issued {
            identity_id: token.identity_id,
            credentials,
        })
    }
}

/// An error and its causes, on one line, for the log.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn backend_reason(e: &BrokerError) -> &'static str {
    match e {
        BrokerError::Backend(BackendError::Refused { .. }) => "backend_refused",
        BrokerError::Backend(BackendError::Throttled { .. }) => "backend_throttled",
        BrokerError::Backend(BackendError::Unavailable { .. }) => "backend_unavailable",
        _ => "internal_error",
    }
}

/// The session name for a user: AssumeRoleWithWebIdentity allows 2 to 64 of `[\w+=,.@-]`, so
/// other characters become `-`, long names are cut, and a one-character name is padded. It is
/// what CloudTrail and GetCallerIdentity show, so it stays close to the user id.
fn session_name(user_id: &str) -> String {
    let mut name: String = user_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "_+=,.@-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .take(64)
        .collect();
    while name.len() < 2 {
        name.push('-');
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_names_follow_sts_rules() {
        assert_eq!(session_name("alice@example.com"), "alice@example.com");
        assert_eq!(session_name("a"), "a-");
        assert_eq!(session_name("名前 x"), "---x");
        assert_eq!(session_name(&"x".repeat(100)).len(), 64);
    }
}
