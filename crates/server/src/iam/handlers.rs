//! One handler per implemented operation, named after it.

use tegata_core::iam::{CreateRoleInput, Iam, IamError};

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
                tags: input
                    .tags
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(key, value)| (key.unwrap_or_default(), value.unwrap_or_default()))
                    .collect(),
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
