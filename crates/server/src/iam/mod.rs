//! IAM over awsQuery: every operation of the model has its row; tegata implements roles, users
//! and their access keys, groups, inline and managed policies, permissions boundaries and OpenID
//! Connect providers.

mod handlers;
mod shapes;

use axum::response::Response;
use tegata_core::iam::{EntityKind, Iam};

use crate::edge::{Answer, Envelope};
use crate::pipeline::{Call, Failure, ProtocolKind, Resource, drive, endpoint_table};
use crate::protocol::aws_query::{QueryParams, XmlOutput};
use crate::{AppState, RawRequest, query};

pub const SIGNING_NAME: &str = "iam";
pub const VERSION: &str = "2010-05-08";
const NAMESPACE: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

pub const ENVELOPE: Envelope = Envelope {
    service: SIGNING_NAME,
    protocol: ProtocolKind::Query,
    namespace: NAMESPACE,
};

// The resource types of the Service Authorization Reference, each with the input member that
// names it. `${…NameWithPath}` is `${Path}${Name}` for the operations that create the entity
// (their input has a validated `Path`); an existing user, group or role is authorized on its ARN
// with its stored path, which the pipeline reads (IAM authorizes GetRole of `/app/r` on
// `role/app/r`).
const ROLE: Resource = Resource::Entity(EntityKind::Role, "RoleName");
const NEW_ROLE: Resource = Resource::Arn("arn:${Partition}:iam::${Account}:role${Path}${RoleName}");
const USER: Resource = Resource::Entity(EntityKind::User, "UserName");
const NEW_USER: Resource = Resource::Arn("arn:${Partition}:iam::${Account}:user${Path}${UserName}");
const GROUP: Resource = Resource::Entity(EntityKind::Group, "GroupName");
const NEW_GROUP: Resource =
    Resource::Arn("arn:${Partition}:iam::${Account}:group${Path}${GroupName}");
const POLICY: Resource = Resource::Arn("${PolicyArn}");
const NEW_POLICY: Resource =
    Resource::Arn("arn:${Partition}:iam::${Account}:policy${Path}${PolicyName}");
/// The owner of the access key named (GetAccessKeyLastUsed).
const KEY_OWNER: Resource = Resource::KeyOwner;
/// The user, group or role whose policies are simulated.
const POLICY_SOURCE: Resource = Resource::Arn("${PolicySourceArn}");
const OIDC_PROVIDER: Resource = Resource::Arn("${OpenIDConnectProviderArn}");
const SAML_PROVIDER: Resource = Resource::Arn("${SAMLProviderArn}");
const INSTANCE_PROFILE: Resource =
    Resource::Arn("arn:${Partition}:iam::${Account}:instance-profile/${InstanceProfileName}");
const NEW_INSTANCE_PROFILE: Resource =
    Resource::Arn("arn:${Partition}:iam::${Account}:instance-profile${Path}${InstanceProfileName}");
const SERVER_CERTIFICATE: Resource =
    Resource::Arn("arn:${Partition}:iam::${Account}:server-certificate/${ServerCertificateName}");
/// No resource, or one the reference leaves optional or names only by a derived value (MFA
/// devices, delegation requests, providers being created): `*` until those operations exist.
const NONE: Resource = Resource::None;

endpoint_table! {
    prefix: "iam",
    service: Iam,
    raw: QueryParams,
    answer: xml_answer;
    AcceptDelegationRequest:                       Signed, NONE               => unimplemented;
    AcquireRole:                                   Signed, NONE               => unimplemented;
    AddClientIDToOpenIDConnectProvider:            Signed, OIDC_PROVIDER      => add_client_id_to_open_id_connect_provider;
    AddRoleToInstanceProfile:                      Signed, INSTANCE_PROFILE   => unimplemented;
    AddUserToGroup:                                Signed, GROUP              => add_user_to_group;
    AssociateDelegationRequest:                    Signed, NONE               => unimplemented;
    AttachGroupPolicy:                             Signed, GROUP              => attach_group_policy;
    AttachRolePolicy:                              Signed, ROLE               => attach_role_policy;
    AttachUserPolicy:                              Signed, USER               => attach_user_policy;
    ChangePassword:                                Signed, USER               => unimplemented;
    CreateAccessKey:                               Signed, USER               => create_access_key;
    CreateAccountAlias:                            Signed, NONE               => unimplemented;
    CreateDelegationRequest:                       Signed, NONE               => unimplemented;
    CreateGroup:                                   Signed, NEW_GROUP          => create_group;
    CreateInstanceProfile:                         Signed, NEW_INSTANCE_PROFILE => unimplemented;
    CreateLoginProfile:                            Signed, USER               => unimplemented;
    CreateOpenIDConnectProvider:                   Signed, NONE               => create_open_id_connect_provider;
    CreatePolicy:                                  Signed, NEW_POLICY         => create_policy;
    CreatePolicyVersion:                           Signed, POLICY             => create_policy_version;
    CreateRole:                                    Signed, NEW_ROLE           => create_role;
    CreateSAMLProvider:                            Signed, NONE               => unimplemented;
    CreateServiceLinkedRole:                       Signed, ROLE               => unimplemented;
    CreateServiceSpecificCredential:               Signed, USER               => unimplemented;
    CreateUser:                                    Signed, NEW_USER           => create_user;
    CreateVirtualMFADevice:                        Signed, NONE               => unimplemented;
    DeactivateMFADevice:                           Signed, USER               => unimplemented;
    DeleteAccessKey:                               Signed, USER               => delete_access_key;
    DeleteAccountAlias:                            Signed, NONE               => unimplemented;
    DeleteAccountPasswordPolicy:                   Signed, NONE               => unimplemented;
    DeleteGroup:                                   Signed, GROUP              => delete_group;
    DeleteGroupPolicy:                             Signed, GROUP              => delete_group_policy;
    DeleteInstanceProfile:                         Signed, INSTANCE_PROFILE   => unimplemented;
    DeleteLoginProfile:                            Signed, USER               => unimplemented;
    DeleteOpenIDConnectProvider:                   Signed, OIDC_PROVIDER      => delete_open_id_connect_provider;
    DeletePolicy:                                  Signed, POLICY             => delete_policy;
    DeletePolicyVersion:                           Signed, POLICY             => delete_policy_version;
    DeleteRole:                                    Signed, ROLE               => delete_role;
    DeleteRolePermissionsBoundary:                 Signed, ROLE               => delete_role_permissions_boundary;
    DeleteRolePolicy:                              Signed, ROLE               => delete_role_policy;
    DeleteSAMLProvider:                            Signed, SAML_PROVIDER      => unimplemented;
    DeleteSSHPublicKey:                            Signed, USER               => unimplemented;
    DeleteServerCertificate:                       Signed, SERVER_CERTIFICATE => unimplemented;
    DeleteServiceLinkedRole:                       Signed, ROLE               => unimplemented;
    DeleteServiceSpecificCredential:               Signed, USER               => unimplemented;
    DeleteSigningCertificate:                      Signed, USER               => unimplemented;
    DeleteUser:                                    Signed, USER               => delete_user;
    DeleteUserPermissionsBoundary:                 Signed, USER               => delete_user_permissions_boundary;
    DeleteUserPolicy:                              Signed, USER               => delete_user_policy;
    DeleteVirtualMFADevice:                        Signed, NONE               => unimplemented;
    DetachGroupPolicy:                             Signed, GROUP              => detach_group_policy;
    DetachRolePolicy:                              Signed, ROLE               => detach_role_policy;
    DetachUserPolicy:                              Signed, USER               => detach_user_policy;
    DisableOrganizationsRootCredentialsManagement: Signed, NONE               => unimplemented;
    DisableOrganizationsRootSessions:              Signed, NONE               => unimplemented;
    DisableOutboundWebIdentityFederation:          Signed, NONE               => unimplemented;
    EnableMFADevice:                               Signed, USER               => unimplemented;
    EnableOrganizationsRootCredentialsManagement:  Signed, NONE               => unimplemented;
    EnableOrganizationsRootSessions:               Signed, NONE               => unimplemented;
    EnableOutboundWebIdentityFederation:           Signed, NONE               => unimplemented;
    GenerateCredentialReport:                      Signed, NONE               => unimplemented;
    GenerateOrganizationsAccessReport:             Signed, NONE               => unimplemented;
    GenerateServiceLastAccessedDetails:            Signed, NONE               => unimplemented;
    GetAccessKeyLastUsed:                          Signed, KEY_OWNER          => get_access_key_last_used;
    GetAccountAuthorizationDetails:                Signed, NONE               => unimplemented;
    GetAccountPasswordPolicy:                      Signed, NONE               => unimplemented;
    GetAccountProperties:                          Signed, NONE               => unimplemented;
    GetAccountSummary:                             Signed, NONE               => unimplemented;
    GetContextKeysForCustomPolicy:                 Signed, NONE               => unimplemented;
    GetContextKeysForPrincipalPolicy:              Signed, NONE               => unimplemented;
    GetCredentialReport:                           Signed, NONE               => unimplemented;
    GetDelegationRequest:                          Signed, NONE               => unimplemented;
    GetGroup:                                      Signed, GROUP              => get_group;
    GetGroupPolicy:                                Signed, GROUP              => get_group_policy;
    GetHumanReadableSummary:                       Signed, NONE               => unimplemented;
    GetInstanceProfile:                            Signed, INSTANCE_PROFILE   => unimplemented;
    GetLoginProfile:                               Signed, USER               => unimplemented;
    GetMFADevice:                                  Signed, USER               => unimplemented;
    GetOpenIDConnectProvider:                      Signed, OIDC_PROVIDER      => get_open_id_connect_provider;
    GetOrganizationsAccessReport:                  Signed, NONE               => unimplemented;
    GetOutboundWebIdentityFederationInfo:          Signed, NONE               => unimplemented;
    GetPolicy:                                     Signed, POLICY             => get_policy;
    GetPolicyVersion:                              Signed, POLICY             => get_policy_version;
    GetRole:                                       Signed, ROLE               => get_role;
    GetRolePolicy:                                 Signed, ROLE               => get_role_policy;
    GetRoleTemplateVersion:                        Signed, NONE               => unimplemented;
    GetSAMLProvider:                               Signed, SAML_PROVIDER      => unimplemented;
    GetSSHPublicKey:                               Signed, USER               => unimplemented;
    GetServerCertificate:                          Signed, SERVER_CERTIFICATE => unimplemented;
    GetServiceLastAccessedDetails:                 Signed, NONE               => unimplemented;
    GetServiceLastAccessedDetailsWithEntities:     Signed, NONE               => unimplemented;
    GetServiceLinkedRoleDeletionStatus:            Signed, ROLE               => unimplemented;
    GetUser:                                       Signed, USER               => get_user;
    GetUserPolicy:                                 Signed, USER               => get_user_policy;
    ListAccessKeys:                                Signed, USER               => list_access_keys;
    ListAccountAliases:                            Signed, NONE               => unimplemented;
    ListAttachedGroupPolicies:                     Signed, GROUP              => list_attached_group_policies;
    ListAttachedRolePolicies:                      Signed, ROLE               => list_attached_role_policies;
    ListAttachedUserPolicies:                      Signed, USER               => list_attached_user_policies;
    ListDelegationRequests:                        Signed, NONE               => unimplemented;
    ListEntitiesForPolicy:                         Signed, POLICY             => list_entities_for_policy;
    ListGroupPolicies:                             Signed, GROUP              => list_group_policies;
    ListGroups:                                    Signed, NONE               => list_groups;
    ListGroupsForUser:                             Signed, USER               => list_groups_for_user;
    ListInstanceProfileTags:                       Signed, INSTANCE_PROFILE   => unimplemented;
    ListInstanceProfiles:                          Signed, NONE               => unimplemented;
    ListInstanceProfilesForRole:                   Signed, ROLE               => unimplemented;
    ListMFADeviceTags:                             Signed, NONE               => unimplemented;
    ListMFADevices:                                Signed, NONE               => unimplemented;
    ListOpenIDConnectProviderTags:                 Signed, OIDC_PROVIDER      => list_open_id_connect_provider_tags;
    ListOpenIDConnectProviders:                    Signed, NONE               => list_open_id_connect_providers;
    ListOrganizationsFeatures:                     Signed, NONE               => unimplemented;
    ListPolicies:                                  Signed, NONE               => list_policies;
    ListPoliciesGrantingServiceAccess:             Signed, NONE               => unimplemented;
    ListPolicyTags:                                Signed, POLICY             => unimplemented;
    ListPolicyVersions:                            Signed, POLICY             => list_policy_versions;
    ListRolePolicies:                              Signed, ROLE               => list_role_policies;
    ListRoleTags:                                  Signed, ROLE               => list_role_tags;
    ListRoles:                                     Signed, NONE               => list_roles;
    ListSAMLProviderTags:                          Signed, SAML_PROVIDER      => unimplemented;
    ListSAMLProviders:                             Signed, NONE               => unimplemented;
    ListSSHPublicKeys:                             Signed, USER               => unimplemented;
    ListServerCertificateTags:                     Signed, SERVER_CERTIFICATE => unimplemented;
    ListServerCertificates:                        Signed, NONE               => unimplemented;
    ListServiceSpecificCredentials:                Signed, USER               => unimplemented;
    ListSigningCertificates:                       Signed, USER               => unimplemented;
    ListUserPolicies:                              Signed, USER               => list_user_policies;
    ListUserTags:                                  Signed, USER               => list_user_tags;
    ListUsers:                                     Signed, NONE               => list_users;
    ListVirtualMFADevices:                         Signed, NONE               => unimplemented;
    PutAccountProperties:                          Signed, NONE               => unimplemented;
    PutGroupPolicy:                                Signed, GROUP              => put_group_policy;
    PutRolePermissionsBoundary:                    Signed, ROLE               => put_role_permissions_boundary;
    PutRolePolicy:                                 Signed, ROLE               => put_role_policy;
    PutUserPermissionsBoundary:                    Signed, USER               => put_user_permissions_boundary;
    PutUserPolicy:                                 Signed, USER               => put_user_policy;
    RejectDelegationRequest:                       Signed, NONE               => unimplemented;
    RemoveClientIDFromOpenIDConnectProvider:       Signed, OIDC_PROVIDER      => remove_client_id_from_open_id_connect_provider;
    RemoveRoleFromInstanceProfile:                 Signed, INSTANCE_PROFILE   => unimplemented;
    RemoveUserFromGroup:                           Signed, GROUP              => remove_user_from_group;
    ResetServiceSpecificCredential:                Signed, USER               => unimplemented;
    ResyncMFADevice:                               Signed, USER               => unimplemented;
    SendDelegationToken:                           Signed, NONE               => unimplemented;
    SetDefaultPolicyVersion:                       Signed, POLICY             => set_default_policy_version;
    SetSecurityTokenServicePreferences:            Signed, NONE               => unimplemented;
    SimulateCustomPolicy:                          Signed, NONE               => simulate_custom_policy;
    SimulatePrincipalPolicy:                       Signed, POLICY_SOURCE      => simulate_principal_policy;
    TagInstanceProfile:                            Signed, INSTANCE_PROFILE   => unimplemented;
    TagMFADevice:                                  Signed, NONE               => unimplemented;
    TagOpenIDConnectProvider:                      Signed, OIDC_PROVIDER      => tag_open_id_connect_provider;
    TagPolicy:                                     Signed, POLICY             => unimplemented;
    TagRole:                                       Signed, ROLE               => tag_role;
    TagSAMLProvider:                               Signed, SAML_PROVIDER      => unimplemented;
    TagServerCertificate:                          Signed, SERVER_CERTIFICATE => unimplemented;
    TagUser:                                       Signed, USER               => tag_user;
    UntagInstanceProfile:                          Signed, INSTANCE_PROFILE   => unimplemented;
    UntagMFADevice:                                Signed, NONE               => unimplemented;
    UntagOpenIDConnectProvider:                    Signed, OIDC_PROVIDER      => untag_open_id_connect_provider;
    UntagPolicy:                                   Signed, POLICY             => unimplemented;
    UntagRole:                                     Signed, ROLE               => untag_role;
    UntagSAMLProvider:                             Signed, SAML_PROVIDER      => unimplemented;
    UntagServerCertificate:                        Signed, SERVER_CERTIFICATE => unimplemented;
    UntagUser:                                     Signed, USER               => untag_user;
    UpdateAccessKey:                               Signed, USER               => update_access_key;
    UpdateAccountPasswordPolicy:                   Signed, NONE               => unimplemented;
    UpdateAssumeRolePolicy:                        Signed, ROLE               => update_assume_role_policy;
    UpdateDelegationRequest:                       Signed, NONE               => unimplemented;
    UpdateGroup:                                   Signed, GROUP              => unimplemented;
    UpdateLoginProfile:                            Signed, USER               => unimplemented;
    UpdateOpenIDConnectProvider:                   Signed, NONE               => unimplemented;
    UpdateOpenIDConnectProviderThumbprint:         Signed, OIDC_PROVIDER      => update_open_id_connect_provider_thumbprint;
    UpdateRole:                                    Signed, ROLE               => update_role;
    UpdateRoleDescription:                         Signed, ROLE               => update_role_description;
    UpdateSAMLProvider:                            Signed, SAML_PROVIDER      => unimplemented;
    UpdateSSHPublicKey:                            Signed, USER               => unimplemented;
    UpdateServerCertificate:                       Signed, SERVER_CERTIFICATE => unimplemented;
    UpdateServiceSpecificCredential:               Signed, USER               => unimplemented;
    UpdateSigningCertificate:                      Signed, USER               => unimplemented;
    UpdateUser:                                    Signed, USER               => update_user;
    UploadSSHPublicKey:                            Signed, USER               => unimplemented;
    UploadServerCertificate:                       Signed, SERVER_CERTIFICATE => unimplemented;
    UploadSigningCertificate:                      Signed, USER               => unimplemented;
}

fn xml_answer<T: XmlOutput>(call: &Call<'_, QueryParams>, output: &T) -> Result<Response, Failure> {
    Ok(query::answer(NAMESPACE, call, output))
}

pub(crate) async fn serve(
    state: &AppState,
    raw: &RawRequest,
    params: QueryParams,
    operation: Operation,
    request_id: &str,
) -> Answer {
    drive(
        state,
        raw,
        ENVELOPE,
        operation.endpoint(),
        request_id,
        || Ok(params),
        |call| dispatch(&state.iam, call, operation),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_every_operation_of_the_model_once() {
        assert_eq!(Operation::ALL.len(), 181);
        let mut names: Vec<&str> = Operation::ALL.iter().map(|op| op.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), 181);
        for op in Operation::ALL {
            assert_eq!(Operation::from_name(op.name()), Some(*op));
            assert_eq!(op.endpoint().auth, crate::pipeline::Auth::Signed);
        }
        assert_eq!(
            Operation::ALL
                .iter()
                .filter(|op| op.endpoint().implemented)
                .count(),
            77,
            "roles and their tags, users, access keys, groups, inline and managed policies, \
             boundaries, and OpenID Connect providers"
        );
    }
}
