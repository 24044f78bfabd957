//! IAM over awsQuery: every operation of the model has its row; tegata implements roles and
//! their inline policies so far.

mod handlers;
mod shapes;

use axum::response::Response;
use tegata_core::iam::Iam;

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
// (their input has a validated `Path`); an existing entity's stored path is not read here, so
// its ARN is written with `/` until the authorizer that evaluates policies resolves it (IAM
// authorizes GetRole of `/app/r` on `role/app/r`).
const ROLE: Resource = Resource::Arn("arn:${Partition}:iam::${Account}:role/${RoleName}");
const NEW_ROLE: Resource = Resource::Arn("arn:${Partition}:iam::${Account}:role${Path}${RoleName}");
const USER: Resource = Resource::Arn("arn:${Partition}:iam::${Account}:user/${UserName}");
const NEW_USER: Resource = Resource::Arn("arn:${Partition}:iam::${Account}:user${Path}${UserName}");
const GROUP: Resource = Resource::Arn("arn:${Partition}:iam::${Account}:group/${GroupName}");
const NEW_GROUP: Resource =
    Resource::Arn("arn:${Partition}:iam::${Account}:group${Path}${GroupName}");
const POLICY: Resource = Resource::Arn("${PolicyArn}");
const NEW_POLICY: Resource =
    Resource::Arn("arn:${Partition}:iam::${Account}:policy${Path}${PolicyName}");
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
    AddUserToGroup:                                Signed, GROUP              => unimplemented;
    AssociateDelegationRequest:                    Signed, NONE               => unimplemented;
    AttachGroupPolicy:                             Signed, GROUP              => unimplemented;
    AttachRolePolicy:                              Signed, ROLE               => unimplemented;
    AttachUserPolicy:                              Signed, USER               => unimplemented;
    ChangePassword:                                Signed, USER               => unimplemented;
    CreateAccessKey:                               Signed, USER               => unimplemented;
    CreateAccountAlias:                            Signed, NONE               => unimplemented;
    CreateDelegationRequest:                       Signed, NONE               => unimplemented;
    CreateGroup:                                   Signed, NEW_GROUP          => unimplemented;
    CreateInstanceProfile:                         Signed, NEW_INSTANCE_PROFILE => unimplemented;
    CreateLoginProfile:                            Signed, USER               => unimplemented;
    CreateOpenIDConnectProvider:                   Signed, NONE               => create_open_id_connect_provider;
    CreatePolicy:                                  Signed, NEW_POLICY         => unimplemented;
    CreatePolicyVersion:                           Signed, POLICY             => unimplemented;
    CreateRole:                                    Signed, NEW_ROLE           => create_role;
    CreateSAMLProvider:                            Signed, NONE               => unimplemented;
    CreateServiceLinkedRole:                       Signed, ROLE               => unimplemented;
    CreateServiceSpecificCredential:               Signed, USER               => unimplemented;
    CreateUser:                                    Signed, NEW_USER           => unimplemented;
    CreateVirtualMFADevice:                        Signed, NONE               => unimplemented;
    DeactivateMFADevice:                           Signed, USER               => unimplemented;
    DeleteAccessKey:                               Signed, USER               => unimplemented;
    DeleteAccountAlias:                            Signed, NONE               => unimplemented;
    DeleteAccountPasswordPolicy:                   Signed, NONE               => unimplemented;
    DeleteGroup:                                   Signed, GROUP              => unimplemented;
    DeleteGroupPolicy:                             Signed, GROUP              => unimplemented;
    DeleteInstanceProfile:                         Signed, INSTANCE_PROFILE   => unimplemented;
    DeleteLoginProfile:                            Signed, USER               => unimplemented;
    DeleteOpenIDConnectProvider:                   Signed, OIDC_PROVIDER      => delete_open_id_connect_provider;
    DeletePolicy:                                  Signed, POLICY             => unimplemented;
    DeletePolicyVersion:                           Signed, POLICY             => unimplemented;
    DeleteRole:                                    Signed, ROLE               => delete_role;
    DeleteRolePermissionsBoundary:                 Signed, ROLE               => unimplemented;
    DeleteRolePolicy:                              Signed, ROLE               => delete_role_policy;
    DeleteSAMLProvider:                            Signed, SAML_PROVIDER      => unimplemented;
    DeleteSSHPublicKey:                            Signed, USER               => unimplemented;
    DeleteServerCertificate:                       Signed, SERVER_CERTIFICATE => unimplemented;
    DeleteServiceLinkedRole:                       Signed, ROLE               => unimplemented;
    DeleteServiceSpecificCredential:               Signed, USER               => unimplemented;
    DeleteSigningCertificate:                      Signed, USER               => unimplemented;
    DeleteUser:                                    Signed, USER               => unimplemented;
    DeleteUserPermissionsBoundary:                 Signed, USER               => unimplemented;
    DeleteUserPolicy:                              Signed, USER               => unimplemented;
    DeleteVirtualMFADevice:                        Signed, NONE               => unimplemented;
    DetachGroupPolicy:                             Signed, GROUP              => unimplemented;
    DetachRolePolicy:                              Signed, ROLE               => unimplemented;
    DetachUserPolicy:                              Signed, USER               => unimplemented;
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
    GetAccessKeyLastUsed:                          Signed, USER               => unimplemented;
    GetAccountAuthorizationDetails:                Signed, NONE               => unimplemented;
    GetAccountPasswordPolicy:                      Signed, NONE               => unimplemented;
    GetAccountProperties:                          Signed, NONE               => unimplemented;
    GetAccountSummary:                             Signed, NONE               => unimplemented;
    GetContextKeysForCustomPolicy:                 Signed, NONE               => unimplemented;
    GetContextKeysForPrincipalPolicy:              Signed, NONE               => unimplemented;
    GetCredentialReport:                           Signed, NONE               => unimplemented;
    GetDelegationRequest:                          Signed, NONE               => unimplemented;
    GetGroup:                                      Signed, GROUP              => unimplemented;
    GetGroupPolicy:                                Signed, GROUP              => unimplemented;
    GetHumanReadableSummary:                       Signed, NONE               => unimplemented;
    GetInstanceProfile:                            Signed, INSTANCE_PROFILE   => unimplemented;
    GetLoginProfile:                               Signed, USER               => unimplemented;
    GetMFADevice:                                  Signed, USER               => unimplemented;
    GetOpenIDConnectProvider:                      Signed, OIDC_PROVIDER      => get_open_id_connect_provider;
    GetOrganizationsAccessReport:                  Signed, NONE               => unimplemented;
    GetOutboundWebIdentityFederationInfo:          Signed, NONE               => unimplemented;
    GetPolicy:                                     Signed, POLICY             => unimplemented;
    GetPolicyVersion:                              Signed, POLICY             => unimplemented;
    GetRole:                                       Signed, ROLE               => get_role;
    GetRolePolicy:                                 Signed, ROLE               => get_role_policy;
    GetRoleTemplateVersion:                        Signed, NONE               => unimplemented;
    GetSAMLProvider:                               Signed, SAML_PROVIDER      => unimplemented;
    GetSSHPublicKey:                               Signed, USER               => unimplemented;
    GetServerCertificate:                          Signed, SERVER_CERTIFICATE => unimplemented;
    GetServiceLastAccessedDetails:                 Signed, NONE               => unimplemented;
    GetServiceLastAccessedDetailsWithEntities:     Signed, NONE               => unimplemented;
    GetServiceLinkedRoleDeletionStatus:            Signed, ROLE               => unimplemented;
    GetUser:                                       Signed, USER               => unimplemented;
    GetUserPolicy:                                 Signed, USER               => unimplemented;
    ListAccessKeys:                                Signed, USER               => unimplemented;
    ListAccountAliases:                            Signed, NONE               => unimplemented;
    ListAttachedGroupPolicies:                     Signed, GROUP              => unimplemented;
    ListAttachedRolePolicies:                      Signed, ROLE               => unimplemented;
    ListAttachedUserPolicies:                      Signed, USER               => unimplemented;
    ListDelegationRequests:                        Signed, NONE               => unimplemented;
    ListEntitiesForPolicy:                         Signed, POLICY             => unimplemented;
    ListGroupPolicies:                             Signed, GROUP              => unimplemented;
    ListGroups:                                    Signed, NONE               => unimplemented;
    ListGroupsForUser:                             Signed, USER               => unimplemented;
    ListInstanceProfileTags:                       Signed, INSTANCE_PROFILE   => unimplemented;
    ListInstanceProfiles:                          Signed, NONE               => unimplemented;
    ListInstanceProfilesForRole:                   Signed, ROLE               => unimplemented;
    ListMFADeviceTags:                             Signed, NONE               => unimplemented;
    ListMFADevices:                                Signed, NONE               => unimplemented;
    ListOpenIDConnectProviderTags:                 Signed, OIDC_PROVIDER      => list_open_id_connect_provider_tags;
    ListOpenIDConnectProviders:                    Signed, NONE               => list_open_id_connect_providers;
    ListOrganizationsFeatures:                     Signed, NONE               => unimplemented;
    ListPolicies:                                  Signed, NONE               => unimplemented;
    ListPoliciesGrantingServiceAccess:             Signed, NONE               => unimplemented;
    ListPolicyTags:                                Signed, POLICY             => unimplemented;
    ListPolicyVersions:                            Signed, POLICY             => unimplemented;
    ListRolePolicies:                              Signed, ROLE               => list_role_policies;
    ListRoleTags:                                  Signed, ROLE               => unimplemented;
    ListRoles:                                     Signed, NONE               => list_roles;
    ListSAMLProviderTags:                          Signed, SAML_PROVIDER      => unimplemented;
    ListSAMLProviders:                             Signed, NONE               => unimplemented;
    ListSSHPublicKeys:                             Signed, USER               => unimplemented;
    ListServerCertificateTags:                     Signed, SERVER_CERTIFICATE => unimplemented;
    ListServerCertificates:                        Signed, NONE               => unimplemented;
    ListServiceSpecificCredentials:                Signed, USER               => unimplemented;
    ListSigningCertificates:                       Signed, USER               => unimplemented;
    ListUserPolicies:                              Signed, USER               => unimplemented;
    ListUserTags:                                  Signed, USER               => unimplemented;
    ListUsers:                                     Signed, NONE               => unimplemented;
    ListVirtualMFADevices:                         Signed, NONE               => unimplemented;
    PutAccountProperties:                          Signed, NONE               => unimplemented;
    PutGroupPolicy:                                Signed, GROUP              => unimplemented;
    PutRolePermissionsBoundary:                    Signed, ROLE               => unimplemented;
    PutRolePolicy:                                 Signed, ROLE               => put_role_policy;
    PutUserPermissionsBoundary:                    Signed, USER               => unimplemented;
    PutUserPolicy:                                 Signed, USER               => unimplemented;
    RejectDelegationRequest:                       Signed, NONE               => unimplemented;
    RemoveClientIDFromOpenIDConnectProvider:       Signed, OIDC_PROVIDER      => remove_client_id_from_open_id_connect_provider;
    RemoveRoleFromInstanceProfile:                 Signed, INSTANCE_PROFILE   => unimplemented;
    RemoveUserFromGroup:                           Signed, GROUP              => unimplemented;
    ResetServiceSpecificCredential:                Signed, USER               => unimplemented;
    ResyncMFADevice:                               Signed, USER               => unimplemented;
    SendDelegationToken:                           Signed, NONE               => unimplemented;
    SetDefaultPolicyVersion:                       Signed, POLICY             => unimplemented;
    SetSecurityTokenServicePreferences:            Signed, NONE               => unimplemented;
    SimulateCustomPolicy:                          Signed, NONE               => unimplemented;
    SimulatePrincipalPolicy:                       Signed, NONE               => unimplemented;
    TagInstanceProfile:                            Signed, INSTANCE_PROFILE   => unimplemented;
    TagMFADevice:                                  Signed, NONE               => unimplemented;
    TagOpenIDConnectProvider:                      Signed, OIDC_PROVIDER      => tag_open_id_connect_provider;
    TagPolicy:                                     Signed, POLICY             => unimplemented;
    TagRole:                                       Signed, ROLE               => unimplemented;
    TagSAMLProvider:                               Signed, SAML_PROVIDER      => unimplemented;
    TagServerCertificate:                          Signed, SERVER_CERTIFICATE => unimplemented;
    TagUser:                                       Signed, USER               => unimplemented;
    UntagInstanceProfile:                          Signed, INSTANCE_PROFILE   => unimplemented;
    UntagMFADevice:                                Signed, NONE               => unimplemented;
    UntagOpenIDConnectProvider:                    Signed, OIDC_PROVIDER      => untag_open_id_connect_provider;
    UntagPolicy:                                   Signed, POLICY             => unimplemented;
    UntagRole:                                     Signed, ROLE               => unimplemented;
    UntagSAMLProvider:                             Signed, SAML_PROVIDER      => unimplemented;
    UntagServerCertificate:                        Signed, SERVER_CERTIFICATE => unimplemented;
    UntagUser:                                     Signed, USER               => unimplemented;
    UpdateAccessKey:                               Signed, USER               => unimplemented;
    UpdateAccountPasswordPolicy:                   Signed, NONE               => unimplemented;
    UpdateAssumeRolePolicy:                        Signed, ROLE               => update_assume_role_policy;
    UpdateDelegationRequest:                       Signed, NONE               => unimplemented;
    UpdateGroup:                                   Signed, GROUP              => unimplemented;
    UpdateLoginProfile:                            Signed, USER               => unimplemented;
    UpdateOpenIDConnectProvider:                   Signed, NONE               => unimplemented;
    UpdateOpenIDConnectProviderThumbprint:         Signed, OIDC_PROVIDER      => update_open_id_connect_provider_thumbprint;
    UpdateRole:                                    Signed, ROLE               => update_role;
    UpdateRoleDescription:                         Signed, ROLE               => unimplemented;
    UpdateSAMLProvider:                            Signed, SAML_PROVIDER      => unimplemented;
    UpdateSSHPublicKey:                            Signed, USER               => unimplemented;
    UpdateServerCertificate:                       Signed, SERVER_CERTIFICATE => unimplemented;
    UpdateServiceSpecificCredential:               Signed, USER               => unimplemented;
    UpdateSigningCertificate:                      Signed, USER               => unimplemented;
    UpdateUser:                                    Signed, USER               => unimplemented;
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
            20,
            "roles and their inline policies, and OpenID Connect providers"
        );
    }
}
