//! The one authorization hook of the pipeline: may this caller perform this row's action on this
//! resource?
//!
//! Today's rules, until principals' policies are evaluated (the permissions issue): the
//! deployment's IAM users (the administrator created at first start) may do everything; a role
//! session may call what needs no permission (GetCallerIdentity) and is refused the rest with
//! IAM's implicit deny, which is the safe answer while its role's policies are not evaluated.

use crate::auth::Caller;
use crate::pipeline::{Auth, Endpoint, RequestError, Resource};

#[derive(Debug, Default)]
pub struct Authorizer;

impl Authorizer {
    pub fn authorize(
        &self,
        caller: Option<&Caller>,
        endpoint: &Endpoint,
        resource: &str,
    ) -> Result<(), RequestError> {
        let caller = match (endpoint.auth, caller) {
            (Auth::Anonymous | Auth::SignedOnly, _) => return Ok(()),
            (Auth::Signed, Some(caller)) => caller,
            // The pipeline authenticates signed operations before it gets here.
            (Auth::Signed, None) => return Err(RequestError::MissingAuthenticationToken),
        };
        if !caller.is_session() {
            return Ok(());
        }
        Err(RequestError::AccessDenied(denial(
            &caller.principal.arn,
            endpoint,
            resource,
        )))
    }
}

/// AWS's wording of an implicit deny; actions without a resource leave out `on resource:`.
fn denial(principal_arn: &str, endpoint: &Endpoint, resource: &str) -> String {
    let action = endpoint.action;
    match endpoint.resource {
        Resource::None => format!(
            "User: {principal_arn} is not authorized to perform: {action} because no \
             identity-based policy allows the {action} action"
        ),
        Resource::Arn(_) => format!(
            "User: {principal_arn} is not authorized to perform: {action} on resource: \
             {resource} because no identity-based policy allows the {action} action"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn denials_use_aws_wording() {
        let endpoint = Endpoint {
            name: "DescribeIdentityPool",
            action: "cognito-identity:DescribeIdentityPool",
            auth: Auth::Signed,
            resource: Resource::Arn("x"),
            implemented: true,
        };
        assert_eq!(
            denial("arn:aws:sts::1:assumed-role/r/s", &endpoint, "arn:p"),
            "User: arn:aws:sts::1:assumed-role/r/s is not authorized to perform: \
             cognito-identity:DescribeIdentityPool on resource: arn:p because no identity-based \
             policy allows the cognito-identity:DescribeIdentityPool action"
        );
        let no_resource = Endpoint {
            resource: Resource::None,
            ..endpoint
        };
        assert!(!denial("u", &no_resource, "*").contains("on resource"));
    }
}
