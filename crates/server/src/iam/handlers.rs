//! One handler per implemented operation, named after it.

use tegata_core::iam::{
    CreateOidcProviderInput, CreatePolicyInput, CreateRoleInput, CreateUserInput, EntityKind, Iam,
    IamError, PolicyScope,
};

use super::shapes;
use crate::pipeline::Context;
use crate::query::tags::tag_pairs;

type Result<T> = std::result::Result<T, IamError>;

pub(super) async fn create_role(
    service: &Iam,
    ctx: &Context,
    input: shapes::CreateRoleInput,
) -> Result<shapes::RoleOutput> {
    let role = service
        .create_role(
            CreateRoleInput {
                role_name: input.role_name.unwrap_or_default(),
                path: input.path,
                assume_role_policy_document: input.assume_role_policy_document.unwrap_or_default(),
                description: input.description,
                max_session_duration: input.max_session_duration,
                tags: tag_pairs(input.tags),
                permissions_boundary: input.permissions_boundary,
            },
            ctx.unix_now(),
            &*ctx.rng,
        )
        .await?;
    Ok(shapes::RoleOutput {
        role,
        account_id: service.account_id().to_owned(),
        view: shapes::RoleView::Created,
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
        view: shapes::RoleView::Full,
    })
}

pub(super) async fn update_role_description(
    service: &Iam,
    _: &Context,
    input: shapes::UpdateRoleDescriptionInput,
) -> Result<shapes::RoleOutput> {
    let role = service
        .update_role_description(
            &input.role_name.unwrap_or_default(),
            &input.description.unwrap_or_default(),
        )
        .await?;
    Ok(shapes::RoleOutput {
        role,
        account_id: service.account_id().to_owned(),
        view: shapes::RoleView::DescriptionUpdated,
    })
}

pub(super) async fn tag_role(
    service: &Iam,
    _: &Context,
    input: shapes::Tagged<shapes::RoleNameInput>,
) -> Result<shapes::EmptyResult> {
    service
        .tag_role(
            &input.input.role_name.unwrap_or_default(),
            tag_pairs(input.tags),
        )
        .await?;
    Ok(shapes::EmptyResult)
}

pub(super) async fn untag_role(
    service: &Iam,
    _: &Context,
    input: shapes::Untag<shapes::RoleNameInput>,
) -> Result<shapes::EmptyResult> {
    service
        .untag_role(
            &input.input.role_name.unwrap_or_default(),
            &input.tag_keys.unwrap_or_default(),
        )
        .await?;
    Ok(shapes::EmptyResult)
}

pub(super) async fn list_role_tags(
    service: &Iam,
    _: &Context,
    input: shapes::Paged<shapes::RoleNameInput>,
) -> Result<shapes::ListTagsOutput> {
    let role = service
        .get_role(&input.input.role_name.unwrap_or_default())
        .await?;
    let page = tegata_core::iam::tags::page(
        role.tags,
        input.pagination.marker.as_deref(),
        input.pagination.page_size(),
    )?;
    Ok(shapes::ListTagsOutput(page))
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
        .put_inline_policy(
            EntityKind::Role,
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
    let policy_document = service
        .get_inline_policy(EntityKind::Role, &role_name, &policy_name)
        .await?;
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
        .delete_inline_policy(
            EntityKind::Role,
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
        .list_inline_policies(
            EntityKind::Role,
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
                tags: tag_pairs(input.tags),
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
        .tag_open_id_connect_provider(&input.arn.unwrap_or_default(), tag_pairs(input.tags))
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

// --- users, access keys, groups ---------------------------------------------------------------

/// The user an operation names, or the signing user when it names none (GetUser, the access
/// key operations); a role session must name one.
fn user_or_caller(ctx: &Context, named: Option<String>) -> Result<String> {
    if let Some(name) = named {
        return Ok(name);
    }
    match &ctx.caller {
        Some(caller) if caller.is_user() => {
            Ok(crate::authorize::principal_entity(caller).1.to_owned())
        }
        _ => Err(IamError::Validation(
            "Must specify userName when calling with non-User credentials".to_owned(),
        )),
    }
}

pub(super) async fn create_user(
    service: &Iam,
    ctx: &Context,
    input: shapes::Tagged<shapes::CreateUserInput>,
) -> Result<shapes::UserOutput> {
    let user = service
        .create_user(
            CreateUserInput {
                user_name: input.input.user_name.unwrap_or_default(),
                path: input.input.path,
                tags: tag_pairs(input.tags),
                permissions_boundary: input.input.permissions_boundary,
            },
            ctx.unix_now(),
            &*ctx.rng,
        )
        .await?;
    Ok(shapes::UserOutput {
        user,
        account_id: service.account_id().to_owned(),
    })
}

pub(super) async fn get_user(
    service: &Iam,
    ctx: &Context,
    input: shapes::OptionalUserInput,
) -> Result<shapes::UserOutput> {
    let user = service
        .get_user(&user_or_caller(ctx, input.user_name)?)
        .await?;
    Ok(shapes::UserOutput {
        user,
        account_id: service.account_id().to_owned(),
    })
}

pub(super) async fn list_users(
    service: &Iam,
    _: &Context,
    input: shapes::Paged<shapes::PathPrefixInput>,
) -> Result<shapes::ListUsersOutput> {
    let page = service
        .list_users(
            input.input.path_prefix.as_deref(),
            input.pagination.marker.as_deref(),
            input.pagination.page_size(),
        )
        .await?;
    Ok(shapes::ListUsersOutput {
        page,
        account_id: service.account_id().to_owned(),
    })
}

pub(super) async fn update_user(
    service: &Iam,
    _: &Context,
    input: shapes::UpdateUserInput,
) -> Result<()> {
    service
        .update_user(
            &input.user_name.unwrap_or_default(),
            input.new_user_name.as_deref(),
            input.new_path.as_deref(),
        )
        .await
}

pub(super) async fn delete_user(
    service: &Iam,
    _: &Context,
    input: shapes::UserNameInput,
) -> Result<()> {
    service
        .delete_user(&input.user_name.unwrap_or_default())
        .await
}

pub(super) async fn tag_user(
    service: &Iam,
    _: &Context,
    input: shapes::Tagged<shapes::UserNameInput>,
) -> Result<()> {
    service
        .tag_user(
            &input.input.user_name.unwrap_or_default(),
            tag_pairs(input.tags),
        )
        .await
}

pub(super) async fn untag_user(
    service: &Iam,
    _: &Context,
    input: shapes::Untag<shapes::UserNameInput>,
) -> Result<()> {
    service
        .untag_user(
            &input.input.user_name.unwrap_or_default(),
            &input.tag_keys.unwrap_or_default(),
        )
        .await
}

pub(super) async fn list_user_tags(
    service: &Iam,
    _: &Context,
    input: shapes::Paged<shapes::UserNameInput>,
) -> Result<shapes::ListTagsOutput> {
    let user = service
        .get_user(&input.input.user_name.unwrap_or_default())
        .await?;
    let page = tegata_core::iam::tags::page(
        user.tags,
        input.pagination.marker.as_deref(),
        input.pagination.page_size(),
    )?;
    Ok(shapes::ListTagsOutput(page))
}

pub(super) async fn create_access_key(
    service: &Iam,
    ctx: &Context,
    input: shapes::OptionalUserInput,
) -> Result<shapes::CreateAccessKeyOutput> {
    let (key, secret) = service
        .create_access_key(
            &user_or_caller(ctx, input.user_name)?,
            ctx.unix_now(),
            &*ctx.rng,
        )
        .await?;
    Ok(shapes::CreateAccessKeyOutput { key, secret })
}

pub(super) async fn list_access_keys(
    service: &Iam,
    ctx: &Context,
    input: shapes::Paged<shapes::OptionalUserInput>,
) -> Result<shapes::ListAccessKeysOutput> {
    let keys = service
        .list_access_keys(&user_or_caller(ctx, input.input.user_name)?)
        .await?;
    Ok(shapes::ListAccessKeysOutput(keys))
}

pub(super) async fn update_access_key(
    service: &Iam,
    ctx: &Context,
    input: shapes::UpdateAccessKeyInput,
) -> Result<()> {
    let status = shapes::one_of(input.status.as_deref(), "status", &["Active", "Inactive"])?;
    let active = status == Some("Active");
    service
        .update_access_key(
            &user_or_caller(ctx, input.user_name)?,
            &input.access_key_id.unwrap_or_default(),
            active,
        )
        .await
}

pub(super) async fn delete_access_key(
    service: &Iam,
    ctx: &Context,
    input: shapes::AccessKeyInput,
) -> Result<()> {
    service
        .delete_access_key(
            &user_or_caller(ctx, input.user_name)?,
            &input.access_key_id.unwrap_or_default(),
        )
        .await
}

pub(super) async fn get_access_key_last_used(
    service: &Iam,
    ctx: &Context,
    input: shapes::AccessKeyInput,
) -> Result<shapes::GetAccessKeyLastUsedOutput> {
    let access_key_id = input.access_key_id.unwrap_or_default();
    match service.get_access_key_last_used(&access_key_id).await {
        Ok(key) => Ok(shapes::GetAccessKeyLastUsedOutput(key)),
        // AWS does not say whether a key exists to whoever asks about one it cannot find.
        Err(IamError::NoSuchEntity(_)) => Err(IamError::AccessDenied(format!(
            "User: {} is not authorized to perform iam:GetAccessKeyLastUsed on resource: \
             access key {access_key_id}",
            ctx.caller
                .as_ref()
                .map(|c| c.principal.arn.as_str())
                .unwrap_or_default()
        ))),
        Err(e) => Err(e),
    }
}

pub(super) async fn create_group(
    service: &Iam,
    ctx: &Context,
    input: shapes::CreateGroupInput,
) -> Result<shapes::GroupOutput> {
    let group = service
        .create_group(
            input.group_name.unwrap_or_default(),
            input.path,
            ctx.unix_now(),
            &*ctx.rng,
        )
        .await?;
    Ok(shapes::GroupOutput {
        group,
        account_id: service.account_id().to_owned(),
    })
}

pub(super) async fn get_group(
    service: &Iam,
    _: &Context,
    input: shapes::Paged<shapes::GroupNameInput>,
) -> Result<shapes::GetGroupOutput> {
    let found = service
        .get_group(&input.input.group_name.unwrap_or_default())
        .await?;
    Ok(shapes::GetGroupOutput {
        group: found.group,
        users: tegata_core::pagination::paginate(
            found.users,
            input.pagination.page_size() as usize,
            |u| u.user_name.to_lowercase(),
        ),
        account_id: service.account_id().to_owned(),
    })
}

pub(super) async fn list_groups(
    service: &Iam,
    _: &Context,
    input: shapes::Paged<shapes::PathPrefixInput>,
) -> Result<shapes::ListGroupsOutput> {
    let page = service
        .list_groups(
            input.input.path_prefix.as_deref(),
            input.pagination.marker.as_deref(),
            input.pagination.page_size(),
        )
        .await?;
    Ok(shapes::ListGroupsOutput {
        page,
        account_id: service.account_id().to_owned(),
    })
}

pub(super) async fn delete_group(
    service: &Iam,
    _: &Context,
    input: shapes::GroupNameInput,
) -> Result<()> {
    service
        .delete_group(&input.group_name.unwrap_or_default())
        .await
}

pub(super) async fn add_user_to_group(
    service: &Iam,
    ctx: &Context,
    input: shapes::GroupMemberInput,
) -> Result<()> {
    service
        .add_user_to_group(
            &input.group_name.unwrap_or_default(),
            &input.user_name.unwrap_or_default(),
            ctx.unix_now(),
        )
        .await
}

pub(super) async fn remove_user_from_group(
    service: &Iam,
    _: &Context,
    input: shapes::GroupMemberInput,
) -> Result<()> {
    service
        .remove_user_from_group(
            &input.group_name.unwrap_or_default(),
            &input.user_name.unwrap_or_default(),
        )
        .await
}

pub(super) async fn list_groups_for_user(
    service: &Iam,
    _: &Context,
    input: shapes::Paged<shapes::UserNameInput>,
) -> Result<shapes::ListGroupsOutput> {
    let page = service
        .list_groups_for_user(
            &input.input.user_name.unwrap_or_default(),
            input.pagination.marker.as_deref(),
            input.pagination.page_size(),
        )
        .await?;
    Ok(shapes::ListGroupsOutput {
        page,
        account_id: service.account_id().to_owned(),
    })
}

// --- inline policies of users and groups ------------------------------------------------------

pub(super) async fn put_user_policy(
    service: &Iam,
    _: &Context,
    input: shapes::PutUserPolicyInput,
) -> Result<()> {
    service
        .put_inline_policy(
            EntityKind::User,
            &input.user_name.unwrap_or_default(),
            &input.policy_name.unwrap_or_default(),
            &input.policy_document.unwrap_or_default(),
        )
        .await
}

pub(super) async fn get_user_policy(
    service: &Iam,
    _: &Context,
    input: shapes::UserPolicyInput,
) -> Result<shapes::InlinePolicyOutput> {
    let entity = input.user_name.unwrap_or_default();
    let policy_name = input.policy_name.unwrap_or_default();
    let document = service
        .get_inline_policy(EntityKind::User, &entity, &policy_name)
        .await?;
    Ok(shapes::InlinePolicyOutput {
        kind: EntityKind::User,
        entity,
        policy_name,
        document,
    })
}

pub(super) async fn delete_user_policy(
    service: &Iam,
    _: &Context,
    input: shapes::UserPolicyInput,
) -> Result<()> {
    service
        .delete_inline_policy(
            EntityKind::User,
            &input.user_name.unwrap_or_default(),
            &input.policy_name.unwrap_or_default(),
        )
        .await
}

pub(super) async fn list_user_policies(
    service: &Iam,
    _: &Context,
    input: shapes::Paged<shapes::UserNameInput>,
) -> Result<shapes::ListRolePoliciesOutput> {
    let page = service
        .list_inline_policies(
            EntityKind::User,
            &input.input.user_name.unwrap_or_default(),
            input.pagination.marker.as_deref(),
            input.pagination.page_size(),
        )
        .await?;
    Ok(shapes::ListRolePoliciesOutput(page))
}

pub(super) async fn put_group_policy(
    service: &Iam,
    _: &Context,
    input: shapes::PutGroupPolicyInput,
) -> Result<()> {
    service
        .put_inline_policy(
            EntityKind::Group,
            &input.group_name.unwrap_or_default(),
            &input.policy_name.unwrap_or_default(),
            &input.policy_document.unwrap_or_default(),
        )
        .await
}

pub(super) async fn get_group_policy(
    service: &Iam,
    _: &Context,
    input: shapes::GroupPolicyInput,
) -> Result<shapes::InlinePolicyOutput> {
    let entity = input.group_name.unwrap_or_default();
    let policy_name = input.policy_name.unwrap_or_default();
    let document = service
        .get_inline_policy(EntityKind::Group, &entity, &policy_name)
        .await?;
    Ok(shapes::InlinePolicyOutput {
        kind: EntityKind::Group,
        entity,
        policy_name,
        document,
    })
}

pub(super) async fn delete_group_policy(
    service: &Iam,
    _: &Context,
    input: shapes::GroupPolicyInput,
) -> Result<()> {
    service
        .delete_inline_policy(
            EntityKind::Group,
            &input.group_name.unwrap_or_default(),
            &input.policy_name.unwrap_or_default(),
        )
        .await
}

pub(super) async fn list_group_policies(
    service: &Iam,
    _: &Context,
    input: shapes::Paged<shapes::GroupNameInput>,
) -> Result<shapes::ListRolePoliciesOutput> {
    let page = service
        .list_inline_policies(
            EntityKind::Group,
            &input.input.group_name.unwrap_or_default(),
            input.pagination.marker.as_deref(),
            input.pagination.page_size(),
        )
        .await?;
    Ok(shapes::ListRolePoliciesOutput(page))
}

// --- managed policies ---------------------------------------------------------------------------

pub(super) async fn create_policy(
    service: &Iam,
    ctx: &Context,
    input: shapes::Tagged<shapes::CreatePolicyInput>,
) -> Result<shapes::PolicyOutput> {
    let info = service
        .create_policy(
            CreatePolicyInput {
                policy_name: input.input.policy_name.unwrap_or_default(),
                path: input.input.path,
                document: input.input.policy_document.unwrap_or_default(),
                description: input.input.description,
                tags: tag_pairs(input.tags),
            },
            ctx.unix_now(),
            &*ctx.rng,
        )
        .await?;
    Ok(shapes::PolicyOutput {
        info,
        view: shapes::PolicyView::Created,
    })
}

pub(super) async fn get_policy(
    service: &Iam,
    _: &Context,
    input: shapes::PolicyArnInput,
) -> Result<shapes::PolicyOutput> {
    let info = service
        .get_policy(&input.policy_arn.unwrap_or_default())
        .await?;
    Ok(shapes::PolicyOutput {
        info,
        view: shapes::PolicyView::Full,
    })
}

pub(super) async fn list_policies(
    service: &Iam,
    _: &Context,
    input: shapes::Paged<shapes::ListPoliciesInput>,
) -> Result<shapes::ListPoliciesOutput> {
    let i = &input.input;
    let scope = match shapes::one_of(i.scope.as_deref(), "scope", &["All", "AWS", "Local"])? {
        Some("AWS") => PolicyScope::Aws,
        Some("Local") => PolicyScope::Local,
        _ => PolicyScope::All,
    };
    shapes::one_of(
        i.policy_usage_filter.as_deref(),
        "policyUsageFilter",
        &["PermissionsPolicy", "PermissionsBoundary"],
    )?;
    let page = service
        .list_policies(
            scope,
            shapes::flag(i.only_attached.as_deref(), "onlyAttached")?,
            i.path_prefix.as_deref(),
            input.pagination.marker.as_deref(),
            input.pagination.page_size(),
        )
        .await?;
    Ok(shapes::ListPoliciesOutput(page))
}

pub(super) async fn delete_policy(
    service: &Iam,
    _: &Context,
    input: shapes::PolicyArnInput,
) -> Result<()> {
    service
        .delete_policy(&input.policy_arn.unwrap_or_default())
        .await
}

pub(super) async fn create_policy_version(
    service: &Iam,
    ctx: &Context,
    input: shapes::CreatePolicyVersionInput,
) -> Result<shapes::PolicyVersionOutput> {
    let version = service
        .create_policy_version(
            &input.policy_arn.unwrap_or_default(),
            &input.policy_document.unwrap_or_default(),
            shapes::flag(input.set_as_default.as_deref(), "setAsDefault")?,
            ctx.unix_now(),
        )
        .await?;
    Ok(shapes::PolicyVersionOutput {
        version,
        with_document: false,
    })
}

pub(super) async fn get_policy_version(
    service: &Iam,
    _: &Context,
    input: shapes::PolicyVersionInput,
) -> Result<shapes::PolicyVersionOutput> {
    let version = service
        .get_policy_version(
            &input.policy_arn.unwrap_or_default(),
            &input.version_id.unwrap_or_default(),
        )
        .await?;
    Ok(shapes::PolicyVersionOutput {
        version,
        with_document: true,
    })
}

pub(super) async fn list_policy_versions(
    service: &Iam,
    _: &Context,
    input: shapes::Paged<shapes::PolicyArnInput>,
) -> Result<shapes::ListPolicyVersionsOutput> {
    let versions = service
        .list_policy_versions(&input.input.policy_arn.unwrap_or_default())
        .await?;
    Ok(shapes::ListPolicyVersionsOutput(versions))
}

pub(super) async fn set_default_policy_version(
    service: &Iam,
    ctx: &Context,
    input: shapes::PolicyVersionInput,
) -> Result<()> {
    service
        .set_default_policy_version(
            &input.policy_arn.unwrap_or_default(),
            &input.version_id.unwrap_or_default(),
            ctx.unix_now(),
        )
        .await
}

pub(super) async fn delete_policy_version(
    service: &Iam,
    _: &Context,
    input: shapes::PolicyVersionInput,
) -> Result<()> {
    service
        .delete_policy_version(
            &input.policy_arn.unwrap_or_default(),
            &input.version_id.unwrap_or_default(),
        )
        .await
}

pub(super) async fn attach_user_policy(
    service: &Iam,
    ctx: &Context,
    input: shapes::UserPolicyAttachmentInput,
) -> Result<()> {
    let (entity, arn) = (
        input.user_name.unwrap_or_default(),
        input.policy_arn.unwrap_or_default(),
    );
    service
        .attach_policy(EntityKind::User, &entity, &arn, ctx.unix_now())
        .await
}

pub(super) async fn attach_group_policy(
    service: &Iam,
    ctx: &Context,
    input: shapes::GroupPolicyAttachmentInput,
) -> Result<()> {
    let (entity, arn) = (
        input.group_name.unwrap_or_default(),
        input.policy_arn.unwrap_or_default(),
    );
    service
        .attach_policy(EntityKind::Group, &entity, &arn, ctx.unix_now())
        .await
}

pub(super) async fn attach_role_policy(
    service: &Iam,
    ctx: &Context,
    input: shapes::RolePolicyAttachmentInput,
) -> Result<()> {
    let (entity, arn) = (
        input.role_name.unwrap_or_default(),
        input.policy_arn.unwrap_or_default(),
    );
    service
        .attach_policy(EntityKind::Role, &entity, &arn, ctx.unix_now())
        .await
}

pub(super) async fn detach_user_policy(
    service: &Iam,
    _: &Context,
    input: shapes::UserPolicyAttachmentInput,
) -> Result<()> {
    let (entity, arn) = (
        input.user_name.unwrap_or_default(),
        input.policy_arn.unwrap_or_default(),
    );
    service.detach_policy(EntityKind::User, &entity, &arn).await
}

pub(super) async fn detach_group_policy(
    service: &Iam,
    _: &Context,
    input: shapes::GroupPolicyAttachmentInput,
) -> Result<()> {
    let (entity, arn) = (
        input.group_name.unwrap_or_default(),
        input.policy_arn.unwrap_or_default(),
    );
    service
        .detach_policy(EntityKind::Group, &entity, &arn)
        .await
}

pub(super) async fn detach_role_policy(
    service: &Iam,
    _: &Context,
    input: shapes::RolePolicyAttachmentInput,
) -> Result<()> {
    let (entity, arn) = (
        input.role_name.unwrap_or_default(),
        input.policy_arn.unwrap_or_default(),
    );
    service.detach_policy(EntityKind::Role, &entity, &arn).await
}

async fn list_attached(
    service: &Iam,
    kind: EntityKind,
    entity: Option<String>,
    path_prefix: Option<String>,
    pagination: &shapes::Pagination,
) -> Result<shapes::AttachedPoliciesOutput> {
    let page = service
        .list_attached_policies(
            kind,
            &entity.unwrap_or_default(),
            path_prefix.as_deref(),
            pagination.marker.as_deref(),
            pagination.page_size(),
        )
        .await?;
    Ok(shapes::AttachedPoliciesOutput(page))
}

pub(super) async fn list_attached_user_policies(
    service: &Iam,
    _: &Context,
    input: shapes::Paged<shapes::ListAttachedUserPoliciesInput>,
) -> Result<shapes::AttachedPoliciesOutput> {
    let i = input.input;
    list_attached(
        service,
        EntityKind::User,
        i.user_name,
        i.path_prefix,
        &input.pagination,
    )
    .await
}

pub(super) async fn list_attached_group_policies(
    service: &Iam,
    _: &Context,
    input: shapes::Paged<shapes::ListAttachedGroupPoliciesInput>,
) -> Result<shapes::AttachedPoliciesOutput> {
    let i = input.input;
    list_attached(
        service,
        EntityKind::Group,
        i.group_name,
        i.path_prefix,
        &input.pagination,
    )
    .await
}

pub(super) async fn list_attached_role_policies(
    service: &Iam,
    _: &Context,
    input: shapes::Paged<shapes::ListAttachedRolePoliciesInput>,
) -> Result<shapes::AttachedPoliciesOutput> {
    let i = input.input;
    list_attached(
        service,
        EntityKind::Role,
        i.role_name,
        i.path_prefix,
        &input.pagination,
    )
    .await
}

pub(super) async fn list_entities_for_policy(
    service: &Iam,
    _: &Context,
    input: shapes::Paged<shapes::ListEntitiesForPolicyInput>,
) -> Result<shapes::EntitiesForPolicyOutput> {
    let i = input.input;
    let filter = match shapes::one_of(
        i.entity_filter.as_deref(),
        "entityFilter",
        &[
            "User",
            "Role",
            "Group",
            "LocalManagedPolicy",
            "AWSManagedPolicy",
        ],
    )? {
        Some("User") => Some(Some(EntityKind::User)),
        Some("Role") => Some(Some(EntityKind::Role)),
        Some("Group") => Some(Some(EntityKind::Group)),
        // Filters on policies attached to policies: nothing is.
        Some(_) => None,
        None => Some(None),
    };
    let arn = i.policy_arn.unwrap_or_default();
    let entities = match filter {
        Some(kind) => service.list_entities_for_policy(&arn, kind).await?,
        None => {
            service.get_policy(&arn).await?;
            Vec::new()
        }
    };
    Ok(shapes::EntitiesForPolicyOutput(entities))
}

pub(super) async fn put_user_permissions_boundary(
    service: &Iam,
    _: &Context,
    input: shapes::UserBoundaryInput,
) -> Result<()> {
    service
        .put_permissions_boundary(
            EntityKind::User,
            &input.user_name.unwrap_or_default(),
            &input.permissions_boundary.unwrap_or_default(),
        )
        .await
}

pub(super) async fn delete_user_permissions_boundary(
    service: &Iam,
    _: &Context,
    input: shapes::UserNameInput,
) -> Result<()> {
    service
        .delete_permissions_boundary(EntityKind::User, &input.user_name.unwrap_or_default())
        .await
}

pub(super) async fn put_role_permissions_boundary(
    service: &Iam,
    _: &Context,
    input: shapes::RoleBoundaryInput,
) -> Result<()> {
    service
        .put_permissions_boundary(
            EntityKind::Role,
            &input.role_name.unwrap_or_default(),
            &input.permissions_boundary.unwrap_or_default(),
        )
        .await
}

pub(super) async fn delete_role_permissions_boundary(
    service: &Iam,
    _: &Context,
    input: shapes::RoleNameInput,
) -> Result<()> {
    service
        .delete_permissions_boundary(EntityKind::Role, &input.role_name.unwrap_or_default())
        .await
}

// --- the policy simulator -----------------------------------------------------------------------

/// The simulator's results, paged by their position.
fn simulation_output(
    results: Vec<tegata_core::iam::SimulationResult>,
    pagination: &shapes::Pagination,
    named_resources: bool,
) -> Result<shapes::SimulationOutput> {
    let after = pagination
        .marker
        .as_deref()
        .map(tegata_core::pagination::decode_token)
        .transpose()?
        .and_then(|position| position.parse::<usize>().ok());
    let start = after.map_or(0, |n| n.saturating_add(1));
    let numbered: Vec<(usize, tegata_core::iam::SimulationResult)> =
        results.into_iter().enumerate().skip(start).collect();
    let page =
        tegata_core::pagination::paginate(numbered, pagination.page_size() as usize, |(n, _)| {
            n.to_string()
        });
    Ok(shapes::SimulationOutput {
        results: tegata_core::pagination::Page {
            items: page.items.into_iter().map(|(_, result)| result).collect(),
            next_token: page.next_token,
        },
        named_resources,
    })
}

pub(super) async fn simulate_principal_policy(
    service: &Iam,
    _: &Context,
    input: shapes::SimulateInput,
) -> Result<shapes::SimulationOutput> {
    let source = input.policy_source_arn.clone().ok_or_else(|| {
        IamError::Validation(
            "1 validation error detected: Value null at 'policySourceArn' failed to satisfy \
             constraint: Member must not be null"
                .to_owned(),
        )
    })?;
    let named_resources = input.resource_arns.is_some();
    let pagination = shapes::Pagination {
        marker: input.pagination.marker.clone(),
        max_items: input.pagination.max_items,
    };
    let results = service
        .simulate_principal_policy(&source, input.into_request()?)
        .await?;
    simulation_output(results, &pagination, named_resources)
}

pub(super) async fn simulate_custom_policy(
    service: &Iam,
    _: &Context,
    input: shapes::SimulateInput,
) -> Result<shapes::SimulationOutput> {
    if input.policy_inputs.is_none() {
        return Err(IamError::Validation(
            "1 validation error detected: Value null at 'policyInputList' failed to satisfy \
             constraint: Member must not be null"
                .to_owned(),
        ));
    }
    let named_resources = input.resource_arns.is_some();
    let pagination = shapes::Pagination {
        marker: input.pagination.marker.clone(),
        max_items: input.pagination.max_items,
    };
    let results = service.simulate_custom_policy(input.into_request()?)?;
    simulation_output(results, &pagination, named_resources)
}
