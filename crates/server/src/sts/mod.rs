//! STS over awsQuery: AssumeRoleWithWebIdentity (anonymous: the token is the credential),
//! AssumeRole (signed; the caller's policies and the role's trust policy decide together),
//! GetSessionToken and GetCallerIdentity (signed, needing no permission), GetFederationToken and
//! GetAccessKeyInfo.

mod handlers;
mod shapes;

use axum::response::Response;
use tegata_core::sts::Sts;

use crate::edge::{Answer, Envelope};
use crate::pipeline::{Call, Failure, ProtocolKind, Resource, drive, endpoint_table};
use crate::protocol::aws_query::{QueryParams, XmlOutput};
use crate::{AppState, RawRequest, query};

pub const SIGNING_NAME: &str = "sts";
pub const VERSION: &str = "2011-06-15";
const NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

pub const ENVELOPE: Envelope = Envelope {
    service: SIGNING_NAME,
    protocol: ProtocolKind::Query,
    namespace: NAMESPACE,
};

/// `role*`: the role named by the request's `RoleArn`.
const ROLE: Resource = Resource::Arn("${RoleArn}");
const ROOT_USER: Resource = Resource::Arn("arn:${Partition}:iam::${Account}:root");
const FEDERATED_USER: Resource =
    Resource::Arn("arn:${Partition}:sts::${Account}:federated-user/${Name}");
const NONE: Resource = Resource::None;

endpoint_table! {
    prefix: "sts",
    service: Sts,
    raw: QueryParams,
    answer: xml_answer;
    AssumeRole:                SignedWithTrust, ROLE      => assume_role;
    AssumeRoleWithSAML:        Anonymous, ROLE            => unimplemented;
    AssumeRoleWithWebIdentity: Anonymous, ROLE            => assume_role_with_web_identity;
    AssumeRoot:                Signed, ROOT_USER          => unimplemented;
    DecodeAuthorizationMessage: Signed, NONE              => decode_authorization_message;
    GetAccessKeyInfo:          Signed, NONE               => get_access_key_info;
    GetCallerIdentity:         SignedOnly, NONE           => get_caller_identity;
    GetDelegatedAccessToken:   Signed, NONE               => unimplemented;
    GetFederationToken:        Signed, FEDERATED_USER     => get_federation_token;
    GetScopedCredentials:      Signed, NONE               => unimplemented;
    GetSessionToken:           SignedOnly, NONE           => get_session_token;
    GetWebIdentityToken:       Signed, NONE               => unimplemented;
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
        |call| dispatch(&state.sts, call, operation),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_every_operation_of_the_model_once() {
        assert_eq!(Operation::ALL.len(), 12);
        for op in Operation::ALL {
            assert_eq!(Operation::from_name(op.name()), Some(*op));
        }
        let implemented: Vec<&str> = Operation::ALL
            .iter()
            .filter(|op| op.endpoint().implemented)
            .map(|op| op.name())
            .collect();
        assert_eq!(
            implemented,
            [
                "AssumeRole",
                "AssumeRoleWithWebIdentity",
                "DecodeAuthorizationMessage",
                "GetAccessKeyInfo",
                "GetCallerIdentity",
                "GetFederationToken",
                "GetSessionToken"
            ]
        );
    }
}
