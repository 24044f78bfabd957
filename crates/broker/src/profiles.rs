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
}

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
    pub authenticator: AuthenticatorKind,
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
            authenticator: self.authenticator,
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
}
