//! One handler per implemented operation, named after it.

use tegata_core::Internal;
use tegata_core::sts::credentials::TemporaryCredentials;
use tegata_core::sts::{
    AssumeRoleOutput, AssumeRoleWithWebIdentityInput, AssumeRoleWithWebIdentityOutput, AwsCaller,
    CallerIdentity, GetFederationTokenInput, GetFederationTokenOutput, SessionPolicies, Sts,
    StsError,
};

use super::shapes;
use crate::auth::Caller;
use crate::pipeline::Context;
use crate::query::tags::tag_pairs;

type Result<T> = std::result::Result<T, StsError>;

/// The signed caller of an operation whose row is signed.
fn caller<'a>(ctx: &'a Context, operation: &str) -> Result<&'a Caller> {
    ctx.caller
        .as_ref()
        .ok_or_else(|| Internal::new(format!("{operation} reached its handler unsigned")).into())
}

/// Name the credentials a handler issued in its audit line: the session's ARN, its access key
/// id and expiry (never the secret or the session token).
fn note_issued(ctx: &Context, session_arn: &str, credentials: &TemporaryCredentials) {
    ctx.audit_note("session_arn", session_arn);
    ctx.audit_note("issued_access_key_id", credentials.access_key_id.clone());
    ctx.audit_note("expiration", credentials.expiration.to_string());
}

/// `Policy` and `PolicyArns` (whose members the model checked).
fn session_policies(policy: Option<String>, arns: Option<Vec<Option<String>>>) -> SessionPolicies {
    SessionPolicies {
        policy,
        policy_arns: arns.into_iter().flatten().flatten().collect(),
    }
}

pub(super) async fn assume_role(
    service: &Sts,
    ctx: &Context,
    input: shapes::AssumeRoleInput,
) -> Result<AssumeRoleOutput> {
    let caller = caller(ctx, "AssumeRole")?;
    service
        .assume_role(
            AwsCaller {
                principal: &caller.principal,
                session: caller.session.as_deref(),
                identity: ctx.identity_verdicts.clone(),
                source_ip: ctx.source_ip.map(|ip| ip.to_string()),
                region: caller.region.clone(),
            },
            tegata_core::sts::AssumeRoleInput {
                role_arn: input.role_arn.unwrap_or_default(),
                role_session_name: input.role_session_name.unwrap_or_default(),
                duration_seconds: input.duration_seconds,
                policies: session_policies(input.policy, input.policy_arns),
                tags: tag_pairs(input.tags),
                transitive_tag_keys: input.transitive_tag_keys.unwrap_or_default(),
                external_id: input.external_id,
                source_identity: input.source_identity,
                serial_number: input.serial_number,
            },
            ctx.unix_now(),
            &*ctx.rng,
        )
        .await
        .inspect(|out| note_issued(ctx, &out.assumed_role_arn, &out.credentials))
}

pub(super) async fn get_session_token(
    service: &Sts,
    ctx: &Context,
    input: shapes::GetSessionTokenInput,
) -> Result<shapes::GetSessionTokenOutput> {
    let caller = caller(ctx, "GetSessionToken")?;
    service
        .get_session_token(
            &caller.principal,
            caller.is_session(),
            input.duration_seconds,
            input.serial_number.as_deref(),
            ctx.unix_now(),
            &*ctx.rng,
        )
        .inspect(|credentials| note_issued(ctx, &caller.principal.arn, credentials))
        .map(shapes::GetSessionTokenOutput)
}

pub(super) async fn get_federation_token(
    service: &Sts,
    ctx: &Context,
    input: shapes::GetFederationTokenInput,
) -> Result<GetFederationTokenOutput> {
    let caller = caller(ctx, "GetFederationToken")?;
    service
        .get_federation_token(
            &caller.principal,
            caller.is_session(),
            GetFederationTokenInput {
                name: input.name.unwrap_or_default(),
                policies: session_policies(input.policy, input.policy_arns),
                duration_seconds: input.duration_seconds,
                tags: tag_pairs(input.tags),
            },
            ctx.unix_now(),
            &*ctx.rng,
        )
        .await
        .inspect(|out| note_issued(ctx, &out.federated_user_arn, &out.credentials))
}

pub(super) async fn get_access_key_info(
    service: &Sts,
    _: &Context,
    input: shapes::GetAccessKeyInfoInput,
) -> Result<shapes::GetAccessKeyInfoOutput> {
    Ok(shapes::GetAccessKeyInfoOutput {
        account: service.get_access_key_info(&input.access_key_id.unwrap_or_default()),
    })
}

pub(super) async fn assume_role_with_web_identity(
    service: &Sts,
    ctx: &Context,
    input: shapes::AssumeRoleWithWebIdentityInput,
) -> Result<AssumeRoleWithWebIdentityOutput> {
    // The caller is anonymous: the role asked for is what names the request, refused or not.
    if let Some(role_arn) = &input.role_arn {
        ctx.audit_note("role_arn", role_arn.clone());
    }
    service
        .assume_role_with_web_identity(
            AssumeRoleWithWebIdentityInput {
                role_arn: input.role_arn.unwrap_or_default(),
                role_session_name: input.role_session_name.unwrap_or_default(),
                web_identity_token: input.web_identity_token.unwrap_or_default(),
                duration_seconds: input.duration_seconds,
                policies: session_policies(input.policy, input.policy_arns),
                source_ip: None,
            },
            ctx.unix_now(),
            &*ctx.rng,
        )
        .await
        .inspect(|out| {
            ctx.audit_note("subject", out.subject_from_web_identity_token.clone());
            ctx.audit_note("audience", out.audience.clone());
            note_issued(ctx, &out.assumed_role_arn, &out.credentials);
        })
}

pub(super) async fn get_caller_identity(
    service: &Sts,
    ctx: &Context,
    _: shapes::NoInput,
) -> Result<CallerIdentity> {
    let caller = caller(ctx, "GetCallerIdentity")?;
    Ok(service.get_caller_identity(&caller.principal))
}

pub(super) async fn decode_authorization_message(
    service: &Sts,
    _: &Context,
    input: shapes::DecodeAuthorizationMessageInput,
) -> Result<shapes::DecodeAuthorizationMessageOutput> {
    Ok(shapes::DecodeAuthorizationMessageOutput {
        decoded_message: service
            .decode_authorization_message(&input.encoded_message.unwrap_or_default())?,
    })
}
