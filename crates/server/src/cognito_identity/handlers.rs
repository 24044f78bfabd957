//! One handler per implemented operation, named after it: the input shape in, the domain call,
//! the output shape out.

use tegata_core::cognito_identity::{
    CognitoIdentity, CognitoIdentityError, GetOpenIdTokenForDeveloperIdentityInput,
    LookupDeveloperIdentityInput, PrincipalTagMap,
};

use super::shapes;
use crate::pipeline::Context;

type Result<T> = std::result::Result<T, CognitoIdentityError>;

/// A page size the model bounds to 1..=60, as the domain takes it.
fn page_size(max_results: Option<i64>) -> u32 {
    u32::try_from(max_results.unwrap_or(60)).unwrap_or(60)
}

pub(super) async fn create_identity_pool(
    service: &CognitoIdentity,
    ctx: &Context,
    input: shapes::CreateIdentityPoolInput,
) -> Result<shapes::IdentityPoolShape> {
    let pool = service
        .create_identity_pool(
            ctx.region(),
            input.config.into_spec(),
            ctx.unix_now(),
            &*ctx.rng,
        )
        .await?;
    Ok(shapes::IdentityPoolShape::from(&pool))
}

pub(super) async fn describe_identity_pool(
    service: &CognitoIdentity,
    ctx: &Context,
    input: shapes::IdentityPoolIdInput,
) -> Result<shapes::IdentityPoolShape> {
    let pool_id = input.identity_pool_id.unwrap_or_default();
    service.require_pool_region(&pool_id, signed_region(ctx))?;
    let pool = service.describe_identity_pool(&pool_id).await?;
    Ok(shapes::IdentityPoolShape::from(&pool))
}

pub(super) async fn update_identity_pool(
    service: &CognitoIdentity,
    ctx: &Context,
    input: shapes::UpdateIdentityPoolInput,
) -> Result<shapes::IdentityPoolShape> {
    let pool_id = input.identity_pool_id.unwrap_or_default();
    service.require_pool_region(&pool_id, signed_region(ctx))?;
    let pool = service
        .update_identity_pool(&pool_id, input.config.into_spec(), ctx.unix_now())
        .await?;
    Ok(shapes::IdentityPoolShape::from(&pool))
}

pub(super) async fn delete_identity_pool(
    service: &CognitoIdentity,
    ctx: &Context,
    input: shapes::IdentityPoolIdInput,
) -> Result<shapes::Empty> {
    let pool_id = input.identity_pool_id.unwrap_or_default();
    service.require_pool_region(&pool_id, signed_region(ctx))?;
    service
        .delete_identity_pool(&pool_id, ctx.unix_now())
        .await?;
    Ok(shapes::Empty {})
}

pub(super) async fn list_identity_pools(
    service: &CognitoIdentity,
    _: &Context,
    input: shapes::ListIdentityPoolsInput,
) -> Result<shapes::ListIdentityPoolsOutput> {
    let page = service
        .list_identity_pools(page_size(input.max_results), input.next_token.as_deref())
        .await?;
    Ok(shapes::ListIdentityPoolsOutput {
        identity_pools: page.items.into_iter().map(Into::into).collect(),
        next_token: page.next_token,
    })
}

pub(super) async fn get_open_id_token_for_developer_identity(
    service: &CognitoIdentity,
    ctx: &Context,
    input: shapes::GetOpenIdTokenForDeveloperIdentityInput,
) -> Result<shapes::GetOpenIdTokenForDeveloperIdentityOutput> {
    let pool_id = input.identity_pool_id.unwrap_or_default();
    service.require_pool_region(&pool_id, signed_region(ctx))?;
    let token = service
        .get_open_id_token_for_developer_identity(
            GetOpenIdTokenForDeveloperIdentityInput {
                identity_pool_id: pool_id,
                identity_id: input.identity_id,
                logins: input.logins.unwrap_or_default(),
                principal_tags: input.principal_tags.unwrap_or_default(),
                token_duration: input.token_duration,
            },
            ctx.unix_now(),
            &*ctx.rng,
        )
        .await?;
    ctx.audit_note("identity_id", token.identity_id.clone());
    Ok(shapes::GetOpenIdTokenForDeveloperIdentityOutput {
        identity_id: token.identity_id,
        token: token.token,
    })
}

pub(super) async fn lookup_developer_identity(
    service: &CognitoIdentity,
    ctx: &Context,
    input: shapes::LookupDeveloperIdentityInput,
) -> Result<shapes::LookupDeveloperIdentityOutput> {
    let pool_id = input.identity_pool_id.unwrap_or_default();
    service.require_pool_region(&pool_id, signed_region(ctx))?;
    let found = service
        .lookup_developer_identity(LookupDeveloperIdentityInput {
            identity_pool_id: pool_id,
            identity_id: input.identity_id,
            developer_user_identifier: input.developer_user_identifier,
            max_results: input.max_results.map(|n| page_size(Some(n))),
            next_token: input.next_token,
        })
        .await?;
    Ok(shapes::LookupDeveloperIdentityOutput {
        identity_id: found.identity_id,
        developer_user_identifier_list: found.developer_user_identifiers,
        next_token: found.next_token,
    })
}

pub(super) async fn describe_identity(
    service: &CognitoIdentity,
    ctx: &Context,
    input: shapes::DescribeIdentityInput,
) -> Result<shapes::IdentityDescription> {
    let identity_id = input.identity_id.unwrap_or_default();
    service.require_identity_region(&identity_id, signed_region(ctx))?;
    let identity = service.describe_identity(&identity_id).await?;
    Ok(identity.into())
}

pub(super) async fn list_identities(
    service: &CognitoIdentity,
    ctx: &Context,
    input: shapes::ListIdentitiesInput,
) -> Result<shapes::ListIdentitiesOutput> {
    let pool_id = input.identity_pool_id.unwrap_or_default();
    service.require_pool_region(&pool_id, signed_region(ctx))?;
    let page = service
        .list_identities(
            &pool_id,
            page_size(input.max_results),
            input.next_token.as_deref(),
            input.hide_disabled.unwrap_or(false),
        )
        .await?;
    Ok(shapes::ListIdentitiesOutput {
        identity_pool_id: pool_id,
        identities: page.items.into_iter().map(Into::into).collect(),
        next_token: page.next_token,
    })
}

/// The region a signed request was made for; `None` for the public operations, which name none.
fn signed_region(ctx: &Context) -> Option<&str> {
    ctx.caller.as_ref().map(|_| ctx.region())
}

pub(super) async fn set_identity_pool_roles(
    service: &CognitoIdentity,
    ctx: &Context,
    input: shapes::SetIdentityPoolRolesInput,
) -> Result<shapes::Empty> {
    let pool_id = input.identity_pool_id.clone().unwrap_or_default();
    service.require_pool_region(&pool_id, signed_region(ctx))?;
    service
        .set_identity_pool_roles(&pool_id, input.into_roles(), ctx.unix_now())
        .await?;
    Ok(shapes::Empty {})
}

pub(super) async fn get_identity_pool_roles(
    service: &CognitoIdentity,
    ctx: &Context,
    input: shapes::IdentityPoolIdInput,
) -> Result<shapes::GetIdentityPoolRolesOutput> {
    let pool_id = input.identity_pool_id.unwrap_or_default();
    service.require_pool_region(&pool_id, signed_region(ctx))?;
    let pool = service.get_identity_pool_roles(&pool_id).await?;
    Ok(shapes::GetIdentityPoolRolesOutput::from(&pool))
}

pub(super) async fn get_id(
    service: &CognitoIdentity,
    ctx: &Context,
    input: shapes::GetIdInput,
) -> Result<shapes::GetIdOutput> {
    let identity_id = service
        .get_id(
            &input.identity_pool_id.unwrap_or_default(),
            &input.logins.unwrap_or_default(),
            ctx.unix_now(),
            &*ctx.rng,
        )
        .await?;
    ctx.audit_note("identity_id", identity_id.clone());
    Ok(shapes::GetIdOutput { identity_id })
}

pub(super) async fn get_open_id_token(
    service: &CognitoIdentity,
    ctx: &Context,
    input: shapes::GetOpenIdTokenInput,
) -> Result<shapes::GetOpenIdTokenOutput> {
    let token = service
        .get_open_id_token(
            &input.identity_id.unwrap_or_default(),
            &input.logins.unwrap_or_default(),
            ctx.unix_now(),
        )
        .await?;
    ctx.audit_note("identity_id", token.identity_id.clone());
    Ok(shapes::GetOpenIdTokenOutput {
        identity_id: token.identity_id,
        token: token.token,
    })
}

pub(super) async fn get_credentials_for_identity(
    service: &CognitoIdentity,
    ctx: &Context,
    input: shapes::GetCredentialsForIdentityInput,
) -> Result<shapes::GetCredentialsForIdentityOutput> {
    let issued = service
        .get_credentials_for_identity(
            &input.identity_id.unwrap_or_default(),
            &input.logins.unwrap_or_default(),
            input.custom_role_arn.as_deref(),
            ctx.unix_now(),
            &*ctx.rng,
        )
        .await?;
    ctx.audit_note("identity_id", issued.identity_id.clone());
    ctx.audit_note(
        "issued_access_key_id",
        issued.credentials.access_key_id.clone(),
    );
    ctx.audit_note("expiration", issued.credentials.expiration.to_string());
    Ok(shapes::GetCredentialsForIdentityOutput {
        identity_id: issued.identity_id,
        credentials: issued.credentials.into(),
    })
}

pub(super) async fn merge_developer_identities(
    service: &CognitoIdentity,
    ctx: &Context,
    input: shapes::MergeDeveloperIdentitiesInput,
) -> Result<shapes::IdentityIdOutput> {
    let pool_id = input.identity_pool_id.unwrap_or_default();
    service.require_pool_region(&pool_id, signed_region(ctx))?;
    let identity_id = service
        .merge_developer_identities(
            &pool_id,
            &input.developer_provider_name.unwrap_or_default(),
            &input.source_user_identifier.unwrap_or_default(),
            &input.destination_user_identifier.unwrap_or_default(),
            ctx.unix_now(),
        )
        .await?;
    Ok(shapes::IdentityIdOutput { identity_id })
}

pub(super) async fn unlink_developer_identity(
    service: &CognitoIdentity,
    ctx: &Context,
    input: shapes::UnlinkDeveloperIdentityInput,
) -> Result<shapes::Empty> {
    let pool_id = input.identity_pool_id.unwrap_or_default();
    service.require_pool_region(&pool_id, signed_region(ctx))?;
    service
        .unlink_developer_identity(
            &pool_id,
            &input.identity_id.unwrap_or_default(),
            &input.developer_provider_name.unwrap_or_default(),
            &input.developer_user_identifier.unwrap_or_default(),
            ctx.unix_now(),
        )
        .await?;
    Ok(shapes::Empty {})
}

pub(super) async fn unlink_identity(
    service: &CognitoIdentity,
    ctx: &Context,
    input: shapes::UnlinkIdentityInput,
) -> Result<shapes::Empty> {
    service
        .unlink_identity(
            &input.identity_id.unwrap_or_default(),
            &input.logins.unwrap_or_default(),
            &input.logins_to_remove.unwrap_or_default(),
            ctx.unix_now(),
        )
        .await?;
    Ok(shapes::Empty {})
}

pub(super) async fn delete_identities(
    service: &CognitoIdentity,
    ctx: &Context,
    input: shapes::DeleteIdentitiesInput,
) -> Result<shapes::DeleteIdentitiesOutput> {
    // Identities of another region than the request's are not this region's to delete: they
    // are skipped like ids of no identity.
    let region = signed_region(ctx);
    let ids: Vec<String> = input
        .identity_ids_to_delete
        .unwrap_or_default()
        .into_iter()
        .filter(|id| service.require_identity_region(id, region).is_ok())
        .collect();
    let unprocessed = service.delete_identities(&ids, ctx.unix_now()).await;
    Ok(shapes::DeleteIdentitiesOutput {
        unprocessed_identity_ids: unprocessed
            .into_iter()
            .map(|u| shapes::UnprocessedIdentityIdShape {
                identity_id: u.identity_id,
                error_code: u.error_code,
            })
            .collect(),
    })
}

pub(super) async fn tag_resource(
    service: &CognitoIdentity,
    ctx: &Context,
    input: shapes::TagResourceInput,
) -> Result<shapes::Empty> {
    service
        .tag_resource(
            &input.resource_arn.unwrap_or_default(),
            input.tags.unwrap_or_default(),
            ctx.unix_now(),
        )
        .await?;
    Ok(shapes::Empty {})
}

pub(super) async fn untag_resource(
    service: &CognitoIdentity,
    ctx: &Context,
    input: shapes::UntagResourceInput,
) -> Result<shapes::Empty> {
    service
        .untag_resource(
            &input.resource_arn.unwrap_or_default(),
            &input.tag_keys.unwrap_or_default(),
            ctx.unix_now(),
        )
        .await?;
    Ok(shapes::Empty {})
}

pub(super) async fn list_tags_for_resource(
    service: &CognitoIdentity,
    _: &Context,
    input: shapes::ListTagsForResourceInput,
) -> Result<shapes::ListTagsForResourceOutput> {
    let tags = service
        .list_tags_for_resource(&input.resource_arn.unwrap_or_default())
        .await?;
    Ok(shapes::ListTagsForResourceOutput { tags })
}

pub(super) async fn set_principal_tag_attribute_map(
    service: &CognitoIdentity,
    ctx: &Context,
    input: shapes::PrincipalTagAttributeMapInput,
) -> Result<shapes::PrincipalTagAttributeMapOutput> {
    let pool_id = input.identity_pool_id.unwrap_or_default();
    service.require_pool_region(&pool_id, signed_region(ctx))?;
    let provider = input.identity_provider_name.unwrap_or_default();
    let map = PrincipalTagMap {
        use_defaults: input.use_defaults.unwrap_or(false),
        principal_tags: input.principal_tags.unwrap_or_default(),
    };
    let map = service
        .set_principal_tag_attribute_map(&pool_id, &provider, map, ctx.unix_now())
        .await?;
    Ok(principal_tag_answer(pool_id, provider, map))
}

pub(super) async fn get_principal_tag_attribute_map(
    service: &CognitoIdentity,
    ctx: &Context,
    input: shapes::PrincipalTagAttributeMapInput,
) -> Result<shapes::PrincipalTagAttributeMapOutput> {
    let pool_id = input.identity_pool_id.unwrap_or_default();
    service.require_pool_region(&pool_id, signed_region(ctx))?;
    let provider = input.identity_provider_name.unwrap_or_default();
    let map = service
        .get_principal_tag_attribute_map(&pool_id, &provider)
        .await?;
    Ok(principal_tag_answer(pool_id, provider, map))
}

fn principal_tag_answer(
    pool_id: String,
    provider: String,
    map: PrincipalTagMap,
) -> shapes::PrincipalTagAttributeMapOutput {
    shapes::PrincipalTagAttributeMapOutput {
        identity_pool_id: pool_id,
        identity_provider_name: provider,
        use_defaults: map.use_defaults,
        principal_tags: map.principal_tags,
    }
}
