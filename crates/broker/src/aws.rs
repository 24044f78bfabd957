//! The AWS backend: Cognito Identity and STS through the AWS SDK for Rust.
//!
//! This is the program people write as a Lambda function for developer-authenticated
//! identities, minus the authentication: GetOpenIdTokenForDeveloperIdentity (signed with the
//! backend's own AWS credentials, which need only `cognito-identity:GetOpenIdTokenForDeveloper
//! Identity` on the pool), then AssumeRoleWithWebIdentity or GetCredentialsForIdentity
//! (unsigned: the token is the proof). Endpoints come from the SDK's usual configuration, so
//! `AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_STS` and `AWS_ENDPOINT_URL_COGNITO_IDENTITY` point it at
//! a tegata server instead of AWS.

use async_trait::async_trait;
use aws_sdk_cognitoidentity::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use tegata_core::cognito_identity::COGNITO_LOGIN_PROVIDER;
use tegata_core::sts::credentials::TemporaryCredentials;

use crate::backend::{
    BackendError, CredentialBackend, DeveloperToken, DeveloperTokenRequest, WebIdentityRequest,
};
use crate::error_chain;

pub struct AwsBackend {
    cognito_identity: aws_sdk_cognitoidentity::Client,
    sts: aws_sdk_sts::Client,
}

impl std::fmt::Debug for AwsBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsBackend").finish_non_exhaustive()
    }
}

impl AwsBackend {
    /// Clients from an SDK configuration (region, credentials and endpoints).
    pub fn new(config: &aws_config::SdkConfig) -> Self {
        Self {
            cognito_identity: aws_sdk_cognitoidentity::Client::new(config),
            sts: aws_sdk_sts::Client::new(config),
        }
    }

    /// Clients configured the SDK's usual way: environment variables, shared config and
    /// credentials files, the container or instance role.
    pub async fn from_environment() -> Self {
        let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
        Self::new(&config)
    }
}

/// An SDK failure as the broker reports it. A service error keeps the service's code and
/// message (which name no secret); the rest (no connection, a timeout, an unreadable answer) is
/// described with its cause.
fn sdk_error<E>(operation: &'static str, e: SdkError<E, HttpResponse>) -> BackendError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match &e {
        SdkError::ServiceError(service) => {
            let code = service.err().code().unwrap_or("Unknown").to_owned();
            let message = service.err().message().unwrap_or_default().to_owned();
            let status = service.raw().status().as_u16();
            if matches!(
                code.as_str(),
                "Throttling" | "ThrottlingException" | "TooManyRequestsException"
            ) {
                BackendError::Throttled { operation }
            } else if status >= 500 {
                BackendError::Unavailable {
                    operation,
                    detail: format!("HTTP {status} {code}: {message}"),
                }
            } else {
                BackendError::Refused {
                    operation,
                    code,
                    message,
                }
            }
        }
        _ => BackendError::Unavailable {
            operation,
            detail: error_chain(&e),
        },
    }
}

fn unreadable(operation: &'static str, what: &str) -> BackendError {
    BackendError::Unavailable {
        operation,
        detail: format!("the answer has no {what}"),
    }
}

#[async_trait]
impl CredentialBackend for AwsBackend {
    async fn developer_token(
        &self,
        request: &DeveloperTokenRequest<'_>,
    ) -> Result<DeveloperToken, BackendError> {
        const OPERATION: &str = "GetOpenIdTokenForDeveloperIdentity";
        let tags = (!request.principal_tags.is_empty()).then(|| {
            request
                .principal_tags
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        });
        let answer = self
            .cognito_identity
            .get_open_id_token_for_developer_identity()
            .identity_pool_id(request.identity_pool_id)
            .logins(request.developer_provider, request.developer_user_id)
            .set_principal_tags(tags)
            .token_duration(request.token_duration_seconds)
            .send()
            .await
            .map_err(|e| sdk_error(OPERATION, e))?;
        Ok(DeveloperToken {
            identity_id: answer
                .identity_id
                .ok_or_else(|| unreadable(OPERATION, "IdentityId"))?,
            token: answer.token.ok_or_else(|| unreadable(OPERATION, "Token"))?,
        })
    }

    async fn assume_role_with_web_identity(
        &self,
        request: &WebIdentityRequest<'_>,
    ) -> Result<TemporaryCredentials, BackendError> {
        const OPERATION: &str = "AssumeRoleWithWebIdentity";
        let answer = self
            .sts
            .assume_role_with_web_identity()
            .role_arn(request.role_arn)
            .role_session_name(request.role_session_name)
            .web_identity_token(request.web_identity_token)
            .duration_seconds(i32::try_from(request.duration_seconds).unwrap_or(i32::MAX))
            .send()
            .await
            .map_err(|e| sdk_error(OPERATION, e))?;
        let credentials = answer
            .credentials
            .ok_or_else(|| unreadable(OPERATION, "Credentials"))?;
        Ok(TemporaryCredentials {
            access_key_id: credentials.access_key_id,
            secret_access_key: credentials.secret_access_key,
            session_token: credentials.session_token,
            expiration: credentials.expiration.secs(),
        })
    }

    async fn credentials_for_identity(
        &self,
        identity_id: &str,
        token: &str,
    ) -> Result<TemporaryCredentials, BackendError> {
        const OPERATION: &str = "GetCredentialsForIdentity";
        let answer = self
            .cognito_identity
            .get_credentials_for_identity()
            .identity_id(identity_id)
            .logins(COGNITO_LOGIN_PROVIDER, token)
            .send()
            .await
            .map_err(|e| sdk_error(OPERATION, e))?;
        let credentials = answer
            .credentials
            .ok_or_else(|| unreadable(OPERATION, "Credentials"))?;
        let field = |value: Option<String>, what| value.ok_or_else(|| unreadable(OPERATION, what));
        Ok(TemporaryCredentials {
            access_key_id: field(credentials.access_key_id, "AccessKeyId")?,
            secret_access_key: field(credentials.secret_key, "SecretKey")?,
            session_token: field(credentials.session_token, "SessionToken")?,
            expiration: credentials
                .expiration
                .ok_or_else(|| unreadable(OPERATION, "Expiration"))?
                .secs(),
        })
    }
}
