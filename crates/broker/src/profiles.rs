//! Broker profiles: which authenticator checks the caller, and which pool, developer provider
//! and role turn the caller into credentials. Written in the `[[broker.profiles]]` tables of
//! the configuration file.

use serde::Deserialize;

/// Bounds of GetOpenIdTokenForDeveloperIdentity's TokenDuration.
const TOKEN_DURATION_SECONDS: std::ops::RangeInclusive<i64> = 1..=86_400;
/// Bounds of AssumeRoleWithWebIdentity's DurationSeconds (the role's maximum may be lower).
const SESSION_DURATION_SECONDS: std::ops::RangeInclusive<i64> = 900..=43_200;

/// How credentials are obtained once the caller is authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Flow {
    /// GetOpenIdTokenForDeveloperIdentity, then AssumeRoleWithWebIdentity on the profile's role.
    #[default]
    Basic,
    /// GetOpenIdTokenForDeveloperIdentity, then GetCredentialsForIdentity: the pool's roles
    /// decide, and the session lasts one hour.
    Enhanced,
}

/// Which authenticator a profile uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthenticatorKind {
    /// Application users' usernames and passwords (`tegata app-users`).
    Password,
    /// A bearer token, checked by the application's own web service.
    Webhook,
    /// A bearer token: an ID token of the application's own OpenID provider.
    Jwt,
}

/// The authenticator of a profile, with its settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Authenticator {
    Password,
    /// tegata POSTs `{"token": …, "profile": …}` to `url`; a 2xx answer `{"user": …,
    /// "maxValiditySeconds": …, "tags": {…}}` accepts, 401 or 403 refuses.
    Webhook {
        url: String,
        timeout_seconds: u64,
    },
    /// The token is verified with the issuer's keys (its discovery document's `jwks_uri`), for
    /// one of `audiences`; the user id is the `user_claim` claim.
    Jwt {
        issuer: String,
        audiences: Vec<String>,
        user_claim: String,
    },
}

impl Authenticator {
    pub fn kind(&self) -> AuthenticatorKind {
        match self {
            Self::Password => AuthenticatorKind::Password,
            Self::Webhook { .. } => AuthenticatorKind::Webhook,
            Self::Jwt { .. } => AuthenticatorKind::Jwt,
        }
    }
}

/// How long the webhook may take by default.
const DEFAULT_WEBHOOK_TIMEOUT_SECONDS: u64 = 5;

/// Where the profile's tokens and credentials come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// This tegata server's own pools and roles, in-process.
    #[default]
    Embedded,
    /// Cognito Identity and STS through the AWS SDK, configured from the server's environment
    /// (real AWS, or another server named by `AWS_ENDPOINT_URL`).
    Aws,
}

/// A profile as the configuration file spells it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileConfig {
    pub name: String,
    pub authenticator: AuthenticatorKind,
    pub identity_pool_id: String,
    pub developer_provider: String,
    #[serde(default)]
    pub role_arn: Option<String>,
    #[serde(default)]
    pub webhook_url: Option<String>,
    #[serde(default)]
    pub webhook_timeout_seconds: Option<u64>,
    #[serde(default)]
    pub jwt_issuer: Option<String>,
    #[serde(default)]
    pub jwt_audiences: Option<Vec<String>>,
    #[serde(default)]
    pub jwt_user_claim: Option<String>,
    #[serde(default)]
    pub flow: Flow,
    #[serde(default)]
    pub backend: BackendKind,
    #[serde(default = "default_token_duration")]
    pub token_duration_seconds: i64,
    #[serde(default = "default_session_duration")]
    pub session_duration_seconds: i64,
}

fn default_token_duration() -> i64 {
    900
}

fn default_session_duration() -> i64 {
    3600
}

/// A checked profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub name: String,
    pub authenticator: Authenticator,
    pub identity_pool_id: String,
    pub developer_provider: String,
    /// Required by the basic flow; with the enhanced flow the pool's roles decide.
    pub role_arn: Option<String>,
    pub flow: Flow,
    pub backend: BackendKind,
    pub token_duration_seconds: i64,
    pub session_duration_seconds: i64,
}

impl ProfileConfig {
    /// Check the profile; the message names the profile and the setting at fault.
    pub fn check(self) -> Result<Profile, String> {
        let name = self.name;
        let valid_name = !name.is_empty()
            && name.len() <= 64
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
        if !valid_name {
            return Err(format!(
                "broker profile name '{name}': use 1 to 64 letters, digits, '-', '_' or '.' (it \
                 appears in the endpoint's path)"
            ));
        }
        let fail = |what: String| Err(format!("broker profile '{name}': {what}"));
        if !self.identity_pool_id.contains(':') {
            return fail(format!(
                "identity_pool_id '{}' is not an identity pool id (region:uuid)",
                self.identity_pool_id
            ));
        }
        if self.developer_provider.is_empty() {
            return fail("developer_provider is empty".to_owned());
        }
        match (self.flow, &self.role_arn) {
            (Flow::Basic, None) => {
                return fail(
                    "the basic flow needs role_arn (or choose flow = \"enhanced\" to let the \
                     pool's roles decide)"
                        .to_owned(),
                );
            }
            (Flow::Enhanced, Some(_)) => {
                return fail(
                    "role_arn is not used by the enhanced flow (the pool's roles decide): remove \
                     it"
                    .to_owned(),
                );
            }
            (_, Some(arn)) if !arn.starts_with("arn:") || !arn.contains(":role/") => {
                return fail(format!("role_arn '{arn}' is not a role ARN"));
            }
            _ => {}
        }
        let authenticator = match self.authenticator {
            AuthenticatorKind::Password => Authenticator::Password,
            AuthenticatorKind::Webhook => {
                let Some(url) = self.webhook_url.clone() else {
                    return fail("the webhook authenticator needs webhook_url".to_owned());
                };
                let parsed = url.parse::<http::Uri>().ok().filter(|uri| {
                    matches!(uri.scheme_str(), Some("http" | "https")) && uri.host().is_some()
                });
                if parsed.is_none() {
                    return fail("webhook_url is not an http(s) URL with a host".to_owned());
                }
                let timeout_seconds = self
                    .webhook_timeout_seconds
                    .unwrap_or(DEFAULT_WEBHOOK_TIMEOUT_SECONDS);
                if !(1..=60).contains(&timeout_seconds) {
                    return fail("webhook_timeout_seconds must be between 1 and 60".to_owned());
                }
                Authenticator::Webhook {
                    url,
                    timeout_seconds,
                }
            }
            AuthenticatorKind::Jwt => {
                let Some(issuer) = self.jwt_issuer.clone() else {
                    return fail("the jwt authenticator needs jwt_issuer".to_owned());
                };
                if !(issuer.starts_with("https://") || issuer.starts_with("http://")) {
                    return fail(format!("jwt_issuer '{issuer}' is not an http(s) URL"));
                }
                let audiences = self.jwt_audiences.clone().unwrap_or_default();
                if audiences.is_empty() {
                    return fail(
                        "the jwt authenticator needs jwt_audiences (the client ids its tokens \
                         are issued to)"
                            .to_owned(),
                    );
                }
                Authenticator::Jwt {
                    issuer: issuer.trim_end_matches('/').to_owned(),
                    audiences,
                    user_claim: self
                        .jwt_user_claim
                        .clone()
                        .unwrap_or_else(|| "sub".to_owned()),
                }
            }
        };
        let stray = [
            ("webhook_url", self.webhook_url.is_some()),
            (
                "webhook_timeout_seconds",
                self.webhook_timeout_seconds.is_some(),
            ),
        ]
        .into_iter()
        .filter(|_| self.authenticator != AuthenticatorKind::Webhook)
        .chain(
            [
                ("jwt_issuer", self.jwt_issuer.is_some()),
                ("jwt_audiences", self.jwt_audiences.is_some()),
                ("jwt_user_claim", self.jwt_user_claim.is_some()),
            ]
            .into_iter()
            .filter(|_| self.authenticator != AuthenticatorKind::Jwt),
        )
        .find(|(_, present)| *present);
        if let Some((key, _)) = stray {
            return fail(format!(
                "{key} does not apply to the {:?} authenticator",
                self.authenticator
            ));
        }
        if !TOKEN_DURATION_SECONDS.contains(&self.token_duration_seconds) {
            return fail(format!(
                "token_duration_seconds must be between {} and {}",
                TOKEN_DURATION_SECONDS.start(),
                TOKEN_DURATION_SECONDS.end()
            ));
        }
        if !SESSION_DURATION_SECONDS.contains(&self.session_duration_seconds) {
            return fail(format!(
                "session_duration_seconds must be between {} and {}",
                SESSION_DURATION_SECONDS.start(),
                SESSION_DURATION_SECONDS.end()
            ));
        }
        Ok(Profile {
            name,
            authenticator,
            identity_pool_id: self.identity_pool_id,
            developer_provider: self.developer_provider,
            role_arn: self.role_arn,
            flow: self.flow,
            backend: self.backend,
            token_duration_seconds: self.token_duration_seconds,
            session_duration_seconds: self.session_duration_seconds,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Result<Profile, String> {
        toml_like(text).check()
    }

    fn toml_like(text: &str) -> ProfileConfig {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn a_basic_profile_needs_a_role_and_an_enhanced_one_none() {
        let basic = r#"{"name": "app", "authenticator": "password",
            "identity_pool_id": "us-east-1:x", "developer_provider": "login.app"}"#;
        assert!(config(basic).unwrap_err().contains("needs role_arn"));
        let with_role = r#"{"name": "app", "authenticator": "password",
            "identity_pool_id": "us-east-1:x", "developer_provider": "login.app",
            "role_arn": "arn:aws:iam::000000000000:role/App"}"#;
        let profile = config(with_role).unwrap();
        assert_eq!(
            (profile.flow, profile.token_duration_seconds),
            (Flow::Basic, 900)
        );
        let enhanced = r#"{"name": "app", "authenticator": "password", "flow": "enhanced",
            "identity_pool_id": "us-east-1:x", "developer_provider": "login.app",
            "role_arn": "arn:aws:iam::000000000000:role/App"}"#;
        assert!(
            config(enhanced)
                .unwrap_err()
                .contains("not used by the enhanced flow")
        );
    }

    #[test]
    fn names_and_durations_are_checked() {
        let bad_name = r#"{"name": "a/b", "authenticator": "password",
            "identity_pool_id": "us-east-1:x", "developer_provider": "p", "flow": "enhanced"}"#;
        assert!(config(bad_name).unwrap_err().contains("profile name"));
        let short = r#"{"name": "a", "authenticator": "password", "flow": "enhanced",
            "identity_pool_id": "us-east-1:x", "developer_provider": "p",
            "session_duration_seconds": 60}"#;
        assert!(
            config(short)
                .unwrap_err()
                .contains("session_duration_seconds")
        );
    }

    #[test]
    fn each_authenticator_has_its_own_settings() {
        let base = r#""name": "a", "flow": "enhanced", "identity_pool_id": "us-east-1:x",
            "developer_provider": "p""#;
        let webhook = format!(r#"{{{base}, "authenticator": "webhook"}}"#);
        assert!(config(&webhook).unwrap_err().contains("needs webhook_url"));
        let webhook = format!(
            r#"{{{base}, "authenticator": "webhook", "webhook_url": "http://127.0.0.1:9/check"}}"#
        );
        assert_eq!(
            config(&webhook).unwrap().authenticator,
            Authenticator::Webhook {
                url: "http://127.0.0.1:9/check".to_owned(),
                timeout_seconds: 5
            }
        );
        let jwt =
            format!(r#"{{{base}, "authenticator": "jwt", "jwt_issuer": "https://i.example/"}}"#);
        assert!(config(&jwt).unwrap_err().contains("needs jwt_audiences"));
        let jwt = format!(
            r#"{{{base}, "authenticator": "jwt", "jwt_issuer": "https://i.example/",
                "jwt_audiences": ["app"]}}"#
        );
        assert_eq!(
            config(&jwt).unwrap().authenticator,
            Authenticator::Jwt {
                issuer: "https://i.example".to_owned(),
                audiences: vec!["app".to_owned()],
                user_claim: "sub".to_owned()
            }
        );
        let stray = format!(
            r#"{{{base}, "authenticator": "password", "jwt_issuer": "https://i.example"}}"#
        );
        assert!(
            config(&stray)
                .unwrap_err()
                .contains("jwt_issuer does not apply")
        );
    }
}
