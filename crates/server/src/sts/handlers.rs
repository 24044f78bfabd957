//! One handler per implemented operation, named after it.

use tegata_core::Internal;
use tegata_core::sts::{
    AssumeRoleWithWebIdentityInput, AssumeRoleWithWebIdentityOutput, CallerIdentity, Sts, StsError,
};

use super::shapes;
use crate::pipeline::Context;

type Result<T> = std::result::Result<T, StsError>;

pub(super) async fn assume_role_with_web_identity(
    service: &Sts,
    ctx: &Context,
    input: shapes::AssumeRoleWithWebIdentityInput,
) -> Result<AssumeRoleWithWebIdentityOutput> {
    // Managed session policies narrow what the session may do: ignoring them would hand out a
    // broader session than the caller asked for.
    if input.policy_arns.is_some() {
        return Err(StsError::Validation(
            "tegata does not support PolicyArns yet; pass the session policy as Policy.".to_owned(),
        ));
    }
    service
        .assume_role_with_web_identity(
            AssumeRoleWithWebIdentityInput {
                role_arn: input.role_arn.unwrap_or_default(),
                role_session_name: input.role_session_name.unwrap_or_default(),
                web_identity_token: input.web_identity_token.unwrap_or_default(),
                duration_seconds: input.duration_seconds,
                policy: input.policy,
                source_ip: None,
            },
            ctx.unix_now(),
            &*ctx.rng,
        )
        .await
}

pub(super) async fn get_caller_identity(
    service: &Sts,
    ctx: &Context,
    _: shapes::NoInput,
) -> Result<CallerIdentity> {
    let caller = ctx
        .caller
        .as_ref()
        .ok_or_else(|| Internal::new("GetCallerIdentity reached its handler unsigned"))?;
    Ok(service.get_caller_identity(&caller.principal))
}
