//! Sessions of IAM users: GetSessionToken (the user itself, with its own permissions) and
//! GetFederationToken (a federated user named by the caller, holding what both the user's
//! policies and the session policy allow). Both need the user's long-term keys: AWS refuses
//! them to any temporary credentials. And GetAccessKeyInfo, which names a key's account.

use super::credentials::{SessionClaims, SessionKind, TemporaryCredentials};
use super::{Result, SessionPolicies, Sts, StsError, packed_size};
use crate::UnixSeconds;
use crate::account::Principal;
use crate::random::Randomness;

/// GetSessionToken's and GetFederationToken's default duration for an IAM user: 12 hours.
const USER_SESSION_DEFAULT_SECONDS: i64 = 43_200;

/// The name and path of the IAM user `arn:aws:iam::<account>:user<path><name>`.
fn user_name_and_path(arn: &str) -> Option<(&str, &str)> {
    let (_, path_and_name) = arn.split_once(":user/")?;
    let full = arn.get(arn.len() - path_and_name.len() - 1..)?;
    let split = full.rfind('/')?;
    let (path, name) = full.split_at(split + 1);
    Some((name, path))
}

pub struct GetFederationTokenInput {
    pub name: String,
    pub policies: SessionPolicies,
    pub duration_seconds: Option<i64>,
    pub tags: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct GetFederationTokenOutput {
    pub credentials: TemporaryCredentials,
    pub federated_user_id: String,
    pub federated_user_arn: String,
    /// Always present, 0 without a policy or tags, as AWS answers.
    pub packed_policy_size: i64,
}

impl Sts {
    /// The claims of a session of the IAM user who signed with its long-term keys; refused to
    /// any temporary credentials, with AWS's message naming `operation`.
    fn user_session(
        &self,
        caller: &Principal,
        signed_with_session: bool,
        operation: &str,
        now: UnixSeconds,
        duration: i64,
    ) -> Result<SessionClaims> {
        if signed_with_session {
            return Err(StsError::AccessDenied(format!(
                "Cannot call {operation} with session credentials"
            )));
        }
        let (name, path) = user_name_and_path(&caller.arn).ok_or_else(|| {
            StsError::AccessDenied(format!("Cannot call {operation} with session credentials"))
        })?;
        Ok(SessionClaims {
            kind: SessionKind::User,
            account_id: caller.account_id.clone(),
            role_name: name.to_owned(),
            role_id: caller.user_id.clone(),
            role_path: path.to_owned(),
            session_name: name.to_owned(),
            issued_at: now,
            expires_at: now + duration,
            ..SessionClaims::default()
        })
    }

    /// Temporary credentials for the calling IAM user, with the user's permissions. Needs no
    /// permission, as in AWS.
    pub fn get_session_token(
        &self,
        caller: &Principal,
        signed_with_session: bool,
        duration_seconds: Option<i64>,
        serial_number: Option<&str>,
        now: UnixSeconds,
        rng: &dyn Randomness,
    ) -> Result<TemporaryCredentials> {
        let duration = duration_seconds.unwrap_or(USER_SESSION_DEFAULT_SECONDS);
        let claims = self.user_session(
            caller,
            signed_with_session,
            "GetSessionToken",
            now,
            duration,
        )?;
        if serial_number.is_some() {
            // tegata has no MFA devices, so no code can be right.
            return Err(StsError::AccessDenied(
                "MultiFactorAuthentication failed with invalid MFA one time pass code.".to_owned(),
            ));
        }
        Ok(self.minter.mint(&claims, rng))
    }

    /// Temporary credentials for a federated user `input.name`: the calling user's permissions
    /// narrowed by the session policies; without any, no permission at all.
    pub async fn get_federation_token(
        &self,
        caller: &Principal,
        signed_with_session: bool,
        input: GetFederationTokenInput,
        now: UnixSeconds,
        rng: &dyn Randomness,
    ) -> Result<GetFederationTokenOutput> {
        let duration = input
            .duration_seconds
            .unwrap_or(USER_SESSION_DEFAULT_SECONDS);
        let mut claims = self.user_session(
            caller,
            signed_with_session,
            "GetFederationToken",
            now,
            duration,
        )?;
        super::check_unique_tag_keys(&input.tags)?;
        self.check_session_policies(&input.policies).await?;
        let packed_policy_size = if !input.policies.is_empty() || !input.tags.is_empty() {
            packed_size(&input.policies, &input.tags)?
        } else {
            0
        };
        claims.kind = SessionKind::FederatedUser;
        claims.session_name = input.name;
        claims.session_policy = input.policies.policy;
        claims.policy_arns = input.policies.policy_arns;
        claims.tags = input.tags;
        let credentials = self.minter.mint(&claims, rng);
        Ok(GetFederationTokenOutput {
            credentials,
            federated_user_id: claims.principal_id(),
            federated_user_arn: claims.federated_user_arn(),
            packed_policy_size,
        })
    }

    /// The account an access key belongs to. A deployment serves one account, and AWS answers
    /// from the key id alone, without looking the key up: every key id names this account.
    pub fn get_access_key_info(&self, _access_key_id: &str) -> String {
        self.deployment.account_id.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_arns_split_into_name_and_path() {
        assert_eq!(
            user_name_and_path("arn:aws:iam::123456789012:user/alice"),
            Some(("alice", "/"))
        );
        assert_eq!(
            user_name_and_path("arn:aws:iam::123456789012:user/dev/team/bob"),
            Some(("bob", "/dev/team/"))
        );
        assert_eq!(
            user_name_and_path("arn:aws:sts::123456789012:assumed-role/r/s"),
            None
        );
    }
}
