//! Cognito Identity over awsJson1_1: `POST /` with `X-Amz-Target:
//! AWSCognitoIdentityService.<Operation>`.
//!
//! Order of checks, as the real front end does it: the operation (unknown →
//! `UnknownOperationException`), then the signature, then the body's JSON, then the model's
//! constraints (`ValidationException`), and only then the domain.
#![cfg_attr(not(test), deny(clippy::string_slice, clippy::indexing_slicing))]

mod handlers;
pub mod shapes;

use std::borrow::Cow;

use axum::response::Response;
use tegata_core::cognito_identity::CognitoIdentity;

use crate::edge::{Answer, Envelope};
use crate::pipeline::{Call, Failure, ProtocolKind, RequestError, Resource, drive, endpoint_table};
use crate::protocol::aws_json::{self, JsonBody};
use crate::{AppState, RawRequest};

/// The SigV4 service name of Cognito Identity.
pub const SIGNING_NAME: &str = "cognito-identity";

pub const ENVELOPE: Envelope = Envelope {
    service: SIGNING_NAME,
    protocol: ProtocolKind::Json,
    namespace: "",
};

/// `identitypool*` of the Service Authorization Reference.
const IDENTITY_POOL: Resource = Resource::Arn(
    "arn:${Partition}:cognito-identity:${Region}:${Account}:identitypool/${IdentityPoolId}",
);
/// TagResource and its kin name the pool by its ARN.
const TAGGED_POOL: Resource = Resource::Arn("${ResourceArn}");
const NONE: Resource = Resource::None;

endpoint_table! {
    prefix: "cognito-identity",
    service: CognitoIdentity,
    raw: JsonBody,
    answer: json_answer;
    CreateIdentityPool:                 Signed, NONE          => create_identity_pool;
    DeleteIdentities:                   Signed, NONE          => delete_identities;
    DeleteIdentityPool:                 Signed, IDENTITY_POOL => delete_identity_pool;
    DescribeIdentity:                   Signed, NONE          => describe_identity;
    DescribeIdentityPool:               Signed, IDENTITY_POOL => describe_identity_pool;
    GetCredentialsForIdentity:          Anonymous, NONE       => get_credentials_for_identity;
    GetId:                              Anonymous, NONE       => get_id;
    GetIdentityPoolRoles:               Signed, IDENTITY_POOL => get_identity_pool_roles;
    GetOpenIdToken:                     Anonymous, NONE       => get_open_id_token;
    GetOpenIdTokenForDeveloperIdentity: Signed, IDENTITY_POOL => get_open_id_token_for_developer_identity;
    GetPrincipalTagAttributeMap:        Signed, IDENTITY_POOL => get_principal_tag_attribute_map;
    ListIdentities:                     Signed, IDENTITY_POOL => list_identities;
    ListIdentityPools:                  Signed, NONE          => list_identity_pools;
    ListTagsForResource:                Signed, TAGGED_POOL   => list_tags_for_resource;
    LookupDeveloperIdentity:            Signed, IDENTITY_POOL => lookup_developer_identity;
    MergeDeveloperIdentities:           Signed, IDENTITY_POOL => merge_developer_identities;
    SetIdentityPoolRoles:               Signed, IDENTITY_POOL => set_identity_pool_roles;
    SetPrincipalTagAttributeMap:        Signed, IDENTITY_POOL => set_principal_tag_attribute_map;
    TagResource:                        Signed, TAGGED_POOL   => tag_resource;
    UnlinkDeveloperIdentity:            Signed, IDENTITY_POOL => unlink_developer_identity;
    UnlinkIdentity:                     Anonymous, NONE       => unlink_identity;
    UntagResource:                      Signed, TAGGED_POOL   => untag_resource;
    UpdateIdentityPool:                 Signed, IDENTITY_POOL => update_identity_pool;
}

fn json_answer<T: serde::Serialize>(
    call: &Call<'_, JsonBody>,
    output: &T,
) -> Result<Response, Failure> {
    aws_json::ok(&call.ctx.request_id, output).ok_or_else(|| {
        RequestError::Internal(format!(
            "{}: the output did not serialize",
            call.endpoint.name
        ))
        .into()
    })
}

/// The operation named by `X-Amz-Target`. Both the SDKs' short form
/// (`AWSCognitoIdentityService.GetId`) and the long form of the API reference
/// (`com.amazonaws.cognito.identity.model.AWSCognitoIdentityService.GetId`) are accepted.
pub fn parse_target(target: Option<&str>) -> Result<Operation, RequestError> {
    let target = target.unwrap_or_default();
    let unknown = || RequestError::UnknownOperation {
        name: target.to_owned(),
        version: None,
    };
    let (service, operation) = target.rsplit_once('.').ok_or_else(unknown)?;
    let service_ok = service == "AWSCognitoIdentityService"
        || service == "com.amazonaws.cognito.identity.model.AWSCognitoIdentityService";
    if !service_ok {
        return Err(unknown());
    }
    Operation::from_name(operation).ok_or_else(unknown)
}

/// Answer one Cognito Identity request.
pub(crate) async fn serve(state: &AppState, raw: RawRequest, request_id: &str) -> Answer {
    let target = raw.header("x-amz-target");
    let operation = match parse_target(target) {
        Ok(op) => op,
        Err(e) => {
            return Answer {
                envelope: ENVELOPE,
                operation: Cow::Owned(target.unwrap_or("(none)").to_owned()),
                result: Err(e.into()),
                audit: None,
            };
        }
    };
    drive(
        state,
        &raw,
        ENVELOPE,
        operation.endpoint(),
        request_id,
        || JsonBody::parse(&raw.body).map_err(|e| RequestError::Serialization(e.to_string())),
        |call| dispatch(&state.cognito_identity, call, operation),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_target_forms_are_accepted() {
        assert_eq!(
            parse_target(Some("AWSCognitoIdentityService.GetId")).ok(),
            Some(Operation::GetId)
        );
        assert_eq!(
            parse_target(Some(
                "com.amazonaws.cognito.identity.model.AWSCognitoIdentityService.ListIdentityPools"
            ))
            .ok(),
            Some(Operation::ListIdentityPools)
        );
        for bad in [
            None,
            Some("AWSCognitoIdentityService.Nope"),
            Some("DynamoDB_20120810.GetItem"),
            Some("GetId"),
        ] {
            assert!(matches!(
                parse_target(bad),
                Err(RequestError::UnknownOperation { .. })
            ));
        }
    }

    #[test]
    fn the_table_has_every_operation_of_the_model_once() {
        assert_eq!(Operation::ALL.len(), 23);
        for op in Operation::ALL {
            assert_eq!(Operation::from_name(op.name()), Some(*op));
            let endpoint = op.endpoint();
            assert_eq!(
                endpoint.action,
                format!("cognito-identity:{}", endpoint.name)
            );
        }
        assert!(
            Operation::ALL.iter().all(|op| op.endpoint().implemented),
            "every operation of the model is implemented"
        );
        // The four public operations of the model (authtype none) and no others.
        let anonymous: Vec<&str> = Operation::ALL
            .iter()
            .filter(|op| op.endpoint().auth == crate::pipeline::Auth::Anonymous)
            .map(|op| op.name())
            .collect();
        assert_eq!(
            anonymous,
            [
                "GetCredentialsForIdentity",
                "GetId",
                "GetOpenIdToken",
                "UnlinkIdentity"
            ]
        );
    }
}
