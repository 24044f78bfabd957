//! One handler per implemented operation, named after it.

use tegata_core::iam::{CreateOidcProviderInput, CreateRoleInput, Iam, IamError};

use super::shapes;
use crate::pipeline::Context;

type Result<T> = std::result::Result<T, IamError>;

pub(super) async fn create_role(
    service: &Iam,
    ctx: &Context,
    input: shapes::CreateRoleInput,
) -> Result<shapes::RoleOutput> {
    // A boundary narrows what the role may do: ignoring it would create a broader role than the
    // caller asked for.
    if input.permissions_boundary.is_some() {
        return Err(IamError::InvalidInput(
            "tegata does not support permissions boundaries yet.".to_owned(),
        ));
    }
    let role = service
        .create_role(
            CreateRoleInput {
                role_name: input.role_name.unwrap_or_default(),
                path: input.path,
                assume_role_policy_document: input.assume_role_policy_document.unwrap_or_default(),
                description: input.description,
                max_session_duration: input.max_session_duration,
                tags: shapes::tag_pairs(input.tags),
            },
            ctx.unix_now(),
            &*ctx.rng,
        )
        .await?;
    Ok(shapes::RoleOutput {
        role,
        account_id: service.account_id().to_owned(),
    })
}

pub(super) async fn get_role(
    service: &Iam,
    _: &Context,
    input: shapes::RoleNameInput,
) -> Result<shapes::RoleOutput> {
    let role = service
        .get_role(&input.role_name.unwrap_or_default())
        .await?;
    Ok(shapes::RoleOutput {
        role,
        account_id: service.account_id().to_owned(),
    })
}

pub(super) async fn list_roles(
    service: &Iam,
    _: &Context,
    input: shapes::ListRolesInput,
) -> Result<shapes::ListRolesOutput> {
    let page = service
        .list_roles(
            input.path_prefix.as_deref(),
            input.pagination.marker.as_deref(),
            input.pagination.page_size(),
        )
        .await?;
    Ok(shapes::ListRolesOutput {
        page,
        account_id: service.account_id().to_owned(),
    })
}

pub(super) async fn update_role(
    service: &Iam,
    _: &Context,
    input: shapes::UpdateRoleInput,
) -> Result<shapes::EmptyResult> {
    service
        .update_role(
            &input.role_name.unwrap_or_default(),
            input.description.as_deref(),
            input.max_session_duration,
        )
        .await?;
    Ok(shapes::EmptyResult)
}

pub(super) async fn update_assume_role_policy(
    service: &Iam,
    _: &Context,
    shapes::UpdateAssumeRolePolicyInput(input): shapes::UpdateAssumeRolePolicyInput,
) -> Result<()> {
    service
        .update_assume_role_policy(
            &input.role_name.unwrap_or_default(),
            &input.policy_document.unwrap_or_default(),
        )
        .await
}

pub(super) async fn delete_role(
    service: &Iam,
    _: &Context,
    input: shapes::RoleNameInput,
) -> Result<()> {
    service
        .delete_role(&input.role_name.unwrap_or_default())
        .await
}

pub(super) async fn put_role_policy(
    service: &Iam,
    _: &Context,
    shapes::PutRolePolicyInput(input): shapes::PutRolePolicyInput,
) -> Result<()> {
    service
        .put_role_policy(
            &input.role_name.unwrap_or_default(),
            &input.policy_name.unwrap_or_default(),
            &input.policy_document.unwrap_or_default(),
        )
        .await
}

pub(super) async fn get_role_policy(
    service: &Iam,
    _: &Context,
    input: shapes::RolePolicyInput,
) -> Result<shapes::GetRolePolicyOutput> {
    let role_name = input.role_name.unwrap_or_default();
    let policy_name = input.policy_name.unwrap_or_default();
    let policy_document = service.get_role_policy(&role_name, &policy_name).await?;
    Ok(shapes::GetRolePolicyOutput {
        role_name,
        policy_name,
        policy_document,
    })
}

pub(super) async fn delete_role_policy(
    service: &Iam,
    _: &Context,
    input: shapes::RolePolicyInput,
) -> Result<()> {
    service
        .delete_role_policy(
            &input.role_name.unwrap_or_default(),
            &input.policy_name.unwrap_or_default(),
        )
        .await
}

pub(super) async fn list_role_policies(
    service: &Iam,
    _: &Context,
    input: shapes::ListRolePoliciesInput,
) -> Result<shapes::ListRolePoliciesOutput> {
    let page = service
        .list_role_policies(
            &input.role_name.unwrap_or_default(),
            input.pagination.marker.as_deref(),
            input.pagination.page_size(),
        )
        .await?;
    Ok(shapes::ListRolePoliciesOutput(page))
}

pub(super) async fn create_open_id_connect_provider(
    service: &Iam,
    ctx: &Context,
    input: shapes::CreateOpenIdConnectProviderInput,
) -> Result<shapes::CreateOpenIdConnectProviderOutput> {
    let provider = service
        .create_open_id_connect_provider(
            CreateOidcProviderInput {
                url: input.url.unwrap_or_default(),
                client_ids: input.client_ids.unwrap_or_default(),
                thumbprints: input.thumbprints.unwrap_or_default(),
                tags: shapes::tag_pairs(input.tags),
            },
            ctx.unix_now(),
        )
        .await?;
    Ok(shapes::CreateOpenIdConnectProviderOutput {
        arn: provider.arn(service.account_id()),
        tags: provider.tags,
    })
}

pub(super) async fn get_open_id_connect_provider(
    service: &Iam,
    _: &Context,
    shapes::OidcProviderArnInput(input): shapes::OidcProviderArnInput,
) -> Result<shapes::GetOpenIdConnectProviderOutput> {
    let provider = service
        .get_open_id_connect_provider(&input.arn.unwrap_or_default())
        .await?;
    Ok(shapes::GetOpenIdConnectProviderOutput(provider))
}

pub(super) async fn list_open_id_connect_providers(
    service: &Iam,
    _: &Context,
    _: shapes::NoInput,
) -> Result<shapes::ListOpenIdConnectProvidersOutput> {
    let providers = service.list_open_id_connect_providers().await?;
    Ok(shapes::ListOpenIdConnectProvidersOutput(
        providers
            .iter()
            .map(|p| p.arn(service.account_id()))
            .collect(),
    ))
}

pub(super) async fn delete_open_id_connect_provider(
    service: &Iam,
    _: &Context,
    shapes::OidcProviderArnInput(input): shapes::OidcProviderArnInput,
) -> Result<()> {
    service
        .delete_open_id_connect_provider(&input.arn.unwrap_or_default())
        .await
}

pub(super) async fn update_open_id_connect_provider_thumbprint(
    service: &Iam,
    _: &Context,
    shapes::OidcProviderThumbprintInput(input): shapes::OidcProviderThumbprintInput,
) -> Result<()> {
    service
        .update_open_id_connect_provider_thumbprint(
            &input.arn.unwrap_or_default(),
            input.thumbprints.unwrap_or_default(),
        )
        .await
}

pub(super) async fn add_client_id_to_open_id_connect_provider(
    service: &Iam,
    _: &Context,
    shapes::OidcProviderClientIdInput(input): shapes::OidcProviderClientIdInput,
) -> Result<()> {
    service
        .add_client_id_to_open_id_connect_provider(
            &input.arn.unwrap_or_default(),
            &input.client_id.unwrap_or_default(),
        )
        .await
}

pub(super) async fn remove_client_id_from_open_id_connect_provider(
    service: &Iam,
    _: &Context,
    shapes::OidcProviderClientIdInput(input): shapes::OidcProviderClientIdInput,
) -> Result<()> {
    service
        .remove_client_id_from_open_id_connect_provider(
            &input.arn.unwrap_or_default(),
            &input.client_id.unwrap_or_default(),
        )
        .await
}

pub(super) async fn tag_open_id_connect_provider(
    service: &Iam,
    _: &Context,
    shapes::OidcProviderTagInput(input): shapes::OidcProviderTagInput,
) -> Result<()> {
    service
        .tag_open_id_connect_provider(
            &input.arn.unwrap_or_default(),
            shapes::tag_pairs(input.tags),
        )
        .await
}

pub(super) async fn untag_open_id_connect_provider(
    service: &Iam,
    _: &Context,
    shapes::OidcProviderUntagInput(input): shapes::OidcProviderUntagInput,
) -> Result<()> {
    service
        .untag_open_id_connect_provider(
            &input.arn.unwrap_or_default(),
            &input.tag_keys.unwrap_or_default(),
        )
        .await
}

pub(super) async fn list_open_id_connect_provider_tags(
    service: &Iam,
    _: &Context,
    shapes::OidcProviderTagsPageInput(input): shapes::OidcProviderTagsPageInput,
) -> Result<shapes::ListTagsOutput> {
    let page = service
        .list_open_id_connect_provider_tags(
            &input.arn.unwrap_or_default(),
            input.pagination.marker.as_deref(),
            input.pagination.page_size(),
        )
        .await?;
    Ok(shapes::ListTagsOutput(page))
}
