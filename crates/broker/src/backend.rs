//! Where developer tokens and credentials come from: one trait, two implementations.
//!
//! [`EmbeddedBackend`] calls tegata's own domain in-process (the broker endpoint of `tegata
//! serve`). The AWS backend calls Cognito Identity and STS through the AWS SDK, against real AWS
//! or any server that speaks their protocols (a tegata server): the same calls as the Lambda
//! function people write for this flow.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use tegata_core::cognito_identity::{
    COGNITO_LOGIN_PROVIDER, CognitoIdentity, GetOpenIdTokenForDeveloperIdentityInput,
};
use tegata_core::sts::credentials::TemporaryCredentials;
use tegata_core::sts::{AssumeRoleWithWebIdentityInput, Sts};
use tegata_core::{AwsError, Randomness, UnixSeconds};

/// GetOpenIdTokenForDeveloperIdentity's request, as the broker makes it.
#[derive(Debug, Clone)]
pub struct DeveloperTokenRequest<'a> {
    pub identity_pool_id: &'a str,
    pub developer_provider: &'a str,
    pub developer_user_id: &'a str,
    pub principal_tags: &'a BTreeMap<String, String>,
    pub token_duration_seconds: i64,
}

/// The identity and its OpenID token. The token is a credential: it is never logged.
pub struct DeveloperToken {
    pub identity_id: String,
    pub token: String,
}

/// AssumeRoleWithWebIdentity's request, as the broker makes it.
pub struct WebIdentityRequest<'a> {
    pub role_arn: &'a str,
    pub role_session_name: &'a str,
    pub web_identity_token: &'a str,
    pub duration_seconds: i64,
}

/// Why the identity service did not give what was asked.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// The service answered with an error: the profile's configuration (pool, provider, role,
    /// trust policy) or the backend's own permissions are wrong. The code and message are the
    /// service's, and hold no secret.
    #[error("{operation} was refused: {code}: {message}")]
    Refused {
        operation: &'static str,
        code: String,
        message: String,
    },
    /// The service asked to slow down.
    #[error("{operation} was throttled")]
    Throttled { operation: &'static str },
    /// The service could not be reached, or failed.
    #[error("{operation} failed: {detail}")]
    Unavailable {
        operation: &'static str,
        detail: String,
    },
}

#[async_trait]
pub trait CredentialBackend: Send + Sync {
    /// GetOpenIdTokenForDeveloperIdentity.
    async fn developer_token(
        &self,
        request: &DeveloperTokenRequest<'_>,
    ) -> Result<DeveloperToken, BackendError>;

    /// AssumeRoleWithWebIdentity (the basic flow).
    async fn assume_role_with_web_identity(
        &self,
        request: &WebIdentityRequest<'_>,
    ) -> Result<TemporaryCredentials, BackendError>;

    /// GetCredentialsForIdentity with the identity's developer token (the enhanced flow: the
    /// pool picks the role).
    async fn credentials_for_identity(
        &self,
        identity_id: &str,
        token: &str,
    ) -> Result<TemporaryCredentials, BackendError>;
}

/// Where the embedded backend reads the time.
pub trait Now: Send + Sync {
    fn now(&self) -> UnixSeconds;
}

/// tegata's own domain, in-process: no signing, no network, no authorization (the broker is
/// part of the deployment, as the administrator is).
pub struct EmbeddedBackend {
    pub cognito_identity: Arc<CognitoIdentity>,
    pub sts: Arc<Sts>,
    pub rng: Arc<dyn Randomness>,
    pub now: Arc<dyn Now>,
}

fn refused(operation: &'static str, e: &dyn AwsError) -> BackendError {
    match e.code() {
        "Throttling" | "TooManyRequestsException" => BackendError::Throttled { operation },
        _ if e.status() >= 500 => {
            if let Some(internal) = e.internal() {
                tracing::error!(error = %internal, operation, "broker backend failure");
            }
            BackendError::Unavailable {
                operation,
                detail: e.code().to_owned(),
            }
        }
        code => BackendError::Refused {
            operation,
            code: code.to_owned(),
            message: e.to_string(),
        },
    }
}

#[async_trait]
impl CredentialBackend for EmbeddedBackend {
    async fn developer_token(
        &self,
        request: &DeveloperTokenRequest<'_>,
    ) -> Result<DeveloperToken, BackendError> {
        const OPERATION: &str = "GetOpenIdTokenForDeveloperIdentity";
        let input = GetOpenIdTokenForDeveloperIdentityInput {
            identity_pool_id: request.identity_pool_id.to_owned(),
            identity_id: None,
            logins: BTreeMap::from([(
                request.developer_provider.to_owned(),
                request.developer_user_id.to_owned(),
            )]),
            principal_tags: request.principal_tags.clone(),
            token_duration: Some(request.token_duration_seconds),
        };
        let token = self
            .cognito_identity
            .get_open_id_token_for_developer_identity(input, self.now.now(), &*self.rng)
            .await
            .map_err(|e| refused(OPERATION, &e))?;
        Ok(DeveloperToken {
            identity_id: token.identity_id,
            token: token.token,
        })
    }

    async fn assume_role_with_web_identity(
        &self,
        request: &WebIdentityRequest<'_>,
    ) -> Result<TemporaryCredentials, BackendError> {
        let input = AssumeRoleWithWebIdentityInput {
            role_arn: request.role_arn.to_owned(),
            role_session_name: request.role_session_name.to_owned(),
            web_identity_token: request.web_identity_token.to_owned(),
            duration_seconds: Some(request.duration_seconds),
            policies: Default::default(),
            source_ip: None,
        };
        let session = self
            .sts
            .assume_role_with_web_identity(input, self.now.now(), &*self.rng)
            .await
            .map_err(|e| refused("AssumeRoleWithWebIdentity", &e))?;
        Ok(session.credentials)
    }

    async fn credentials_for_identity(
        &self,
        identity_id: &str,
        token: &str,
    ) -> Result<TemporaryCredentials, BackendError> {
        let logins = BTreeMap::from([(COGNITO_LOGIN_PROVIDER.to_owned(), token.to_owned())]);
        let answer = self
            .cognito_identity
            .get_credentials_for_identity(identity_id, &logins, None, self.now.now(), &*self.rng)
            .await
            .map_err(|e| refused("GetCredentialsForIdentity", &e))?;
        Ok(answer.credentials)
    }
}
