//! STS over awsQuery: AssumeRoleWithWebIdentity (unsigned) and GetCallerIdentity (signed).

use axum::response::Response;
use tegata_core::sts::AssumeRoleWithWebIdentityInput;
use tegata_policy::has_only_policy_characters;

use crate::aws_query::{self, QueryError, QueryParams, Xml};
use crate::query::{self, QueryService};
use crate::validate::{Violations, is_word};
use crate::{AppState, RawRequest};

macro_rules! operations {
    ($($name:ident: $implemented:expr;)*) => {
        /// Every operation of the STS service model.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Operation { $($name,)* }

        impl Operation {
            pub fn from_name(name: &str) -> Option<Self> {
                match name { $(stringify!($name) => Some(Operation::$name),)* _ => None }
            }
            pub fn is_implemented(self) -> bool {
                match self { $(Operation::$name => $implemented,)* }
            }
        }
    };
}

operations! {
    AssumeRole: false;
    AssumeRoleWithSAML: false;
    AssumeRoleWithWebIdentity: true;
    AssumeRoot: false;
    DecodeAuthorizationMessage: false;
    GetAccessKeyInfo: false;
    GetCallerIdentity: true;
    GetDelegatedAccessToken: false;
    GetFederationToken: false;
    GetSessionToken: false;
    GetWebIdentityToken: false;
}

const NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

fn is_session_name_char(c: char) -> bool {
    is_word(c) || "+=,.@-".contains(c)
}

/// Check AssumeRoleWithWebIdentity's members against the model.
fn validate_assume_role_with_web_identity(params: &QueryParams) -> Result<Option<i64>, QueryError> {
    let mut v = Violations::new();
    let role_arn = params.get("RoleArn");
    v.required("roleArn", &role_arn);
    if let Some(arn) = role_arn {
        v.length("roleArn", arn, 20, 2048, false);
    }
    let session = params.get("RoleSessionName");
    v.required("roleSessionName", &session);
    if let Some(name) = session {
        v.length("roleSessionName", name, 2, 64, false);
        v.pattern(
            "roleSessionName",
            name,
            r"[\w+=,.@-]*",
            name.chars().all(is_session_name_char),
        );
    }
    let token = params.get("WebIdentityToken");
    v.required("webIdentityToken", &token);
    if let Some(token) = token {
        v.length("webIdentityToken", token, 4, 20000, true);
    }
    let duration = v.integer("durationSeconds", params.get("DurationSeconds"), 900, 43200);
    if let Some(policy) = params.get("Policy") {
        v.length("policy", policy, 1, 2048, false);
        v.pattern(
            "policy",
            policy,
            r"[\u0009\u000A\u000D\u0020-\u00FF]+",
            has_only_policy_characters(policy),
        );
    }
    if let Some(provider) = params.get("ProviderId") {
        v.length("providerId", provider, 4, 2048, false);
    }
    query::validation(v)?;
    Ok(duration)
}

pub async fn execute(
    state: &AppState,
    action: &str,
    params: &QueryParams,
    raw: &RawRequest,
    request_id: &str,
) -> Result<Response, QueryError> {
    let operation = Operation::from_name(action).expect("dispatched by name");
    if !operation.is_implemented() {
        return Err(query::not_implemented(QueryService::Sts, action));
    }
    let now = state.clock.now().unix_timestamp();
    match operation {
        // Unsigned, as in AWS: the token is the credential. A signature, if present, is
        // ignored, as AWS ignores it (@optionalAuth).
        Operation::AssumeRoleWithWebIdentity => {
            let duration_seconds = validate_assume_role_with_web_identity(params)?;
            let input = AssumeRoleWithWebIdentityInput {
                role_arn: params.owned("RoleArn").unwrap_or_default(),
                role_session_name: params.owned("RoleSessionName").unwrap_or_default(),
                web_identity_token: params.owned("WebIdentityToken").unwrap_or_default(),
                duration_seconds,
                policy: params.owned("Policy"),
                source_ip: None,
            };
            let out = state
                .sts
                .assume_role_with_web_identity(input, now, &*state.rng)
                .await
                .map_err(|e| query::domain_error(request_id, e))?;
            let mut xml = Xml::new();
            xml.open("Credentials")
                .element("AccessKeyId", &out.credentials.access_key_id)
                .element("SecretAccessKey", &out.credentials.secret_access_key)
                .element("SessionToken", &out.credentials.session_token)
                .element(
                    "Expiration",
                    &aws_query::timestamp(out.credentials.expiration),
                )
                .close("Credentials")
                .element(
                    "SubjectFromWebIdentityToken",
                    &out.subject_from_web_identity_token,
                )
                .open("AssumedRoleUser")
                .element("AssumedRoleId", &out.assumed_role_id)
                .element("Arn", &out.assumed_role_arn)
                .close("AssumedRoleUser")
                .optional(
                    "PackedPolicySize",
                    out.packed_policy_size.map(|n| n.to_string()).as_deref(),
                )
                .element("Provider", &out.provider)
                .element("Audience", &out.audience);
            Ok(aws_query::ok(NAMESPACE, action, request_id, Some(xml)))
        }
        Operation::GetCallerIdentity => {
            let caller = query::require_caller(state, raw, QueryService::Sts, request_id).await?;
            let identity = state.sts.get_caller_identity(&caller.principal);
            let mut xml = Xml::new();
            xml.element("Arn", &identity.arn)
                .element("UserId", &identity.user_id)
                .element("Account", &identity.account);
            Ok(aws_query::ok(NAMESPACE, action, request_id, Some(xml)))
        }
        _ => Err(query::not_implemented(QueryService::Sts, action)),
    }
}
