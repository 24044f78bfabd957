//! STS's request and response shapes (service model 2011-06-15) and their constraints.

use tegata_core::sts::{AssumeRoleWithWebIdentityOutput, CallerIdentity};

use crate::pipeline::{Decode, RequestError};
use crate::protocol::aws_query::{self, QueryParams, Xml, XmlOutput};
use crate::validate::{Pattern, Text, Validate, Violations};

// --- the model's constraints ----------------------------------------------------------------

static ARN_CHARACTERS: Pattern = Pattern::new(
    r"[\u0009\u000A\u000D\u0020-\u007E\u0085\u00A0-\uD7FF\uE000-\uFFFD\u10000-\u10FFFF]+",
);
static SESSION_NAME_CHARACTERS: Pattern = Pattern::new(r"[\w+=,.@-]*");
static POLICY_CHARACTERS: Pattern = Pattern::new(r"[\u0009\u000A\u000D\u0020-\u00FF]+");

static ROLE_ARN: Text = Text::new(20, 2048).pattern(&ARN_CHARACTERS);
static ROLE_SESSION_NAME: Text = Text::new(2, 64).pattern(&SESSION_NAME_CHARACTERS);
static WEB_IDENTITY_TOKEN: Text = Text::new(4, 20_000).sensitive();
static PROVIDER_ID: Text = Text::new(4, 2048);
static SESSION_POLICY: Text = Text::new(1, 2048).pattern(&POLICY_CHARACTERS);
static POLICY_ARN: Text = Text::new(20, 2048).pattern(&ARN_CHARACTERS);
const DURATION_SECONDS: (i64, i64) = (900, 43_200);
const MINIMUM_SESSION_TOKEN_SIZE: (i64, i64) = (0, 4096);

// --- AssumeRoleWithWebIdentity ---------------------------------------------------------------

pub(super) struct AssumeRoleWithWebIdentityInput {
    pub role_arn: Option<String>,
    pub role_session_name: Option<String>,
    pub web_identity_token: Option<String>,
    pub provider_id: Option<String>,
    pub policy_arns: Option<Vec<Option<String>>>,
    pub policy: Option<String>,
    pub duration_seconds: Option<i64>,
    pub minimum_session_token_size: Option<i64>,
}

impl Decode<QueryParams> for AssumeRoleWithWebIdentityInput {
    fn decode(p: QueryParams, v: &mut Violations) -> Result<Self, RequestError> {
        Ok(Self {
            role_arn: p.owned("RoleArn"),
            role_session_name: p.owned("RoleSessionName"),
            web_identity_token: p.owned("WebIdentityToken"),
            provider_id: p.owned("ProviderId"),
            policy_arns: p.struct_list("PolicyArns").map(|list| {
                list.into_iter()
                    .map(|mut fields| fields.remove("arn"))
                    .collect()
            }),
            policy: p.owned("Policy"),
            duration_seconds: p.integer("DurationSeconds", "durationSeconds", v),
            minimum_session_token_size: p.integer(
                "MinimumSessionTokenSize",
                "minimumSessionTokenSize",
                v,
            ),
        })
    }
}

impl Validate for AssumeRoleWithWebIdentityInput {
    fn validate(&self, v: &mut Violations) {
        v.required_text("roleArn", self.role_arn.as_deref(), &ROLE_ARN);
        v.required_text(
            "roleSessionName",
            self.role_session_name.as_deref(),
            &ROLE_SESSION_NAME,
        );
        v.required_text(
            "webIdentityToken",
            self.web_identity_token.as_deref(),
            &WEB_IDENTITY_TOKEN,
        );
        v.text("providerId", self.provider_id.as_deref(), &PROVIDER_ID);
        for arn in self.policy_arns.iter().flatten() {
            v.required_text("policyArns.member.arn", arn.as_deref(), &POLICY_ARN);
        }
        v.text("policy", self.policy.as_deref(), &SESSION_POLICY);
        v.range(
            "durationSeconds",
            self.duration_seconds,
            DURATION_SECONDS.0,
            DURATION_SECONDS.1,
        );
        v.range(
            "minimumSessionTokenSize",
            self.minimum_session_token_size,
            MINIMUM_SESSION_TOKEN_SIZE.0,
            MINIMUM_SESSION_TOKEN_SIZE.1,
        );
    }
}

impl XmlOutput for AssumeRoleWithWebIdentityOutput {
    fn write(&self, xml: &mut Xml) {
        let credentials = &self.credentials;
        xml.open("Credentials")
            .element("AccessKeyId", &credentials.access_key_id)
            .element("SecretAccessKey", &credentials.secret_access_key)
            .element("SessionToken", &credentials.session_token)
            .element("Expiration", &aws_query::timestamp(credentials.expiration))
            .close("Credentials")
            .element(
                "SubjectFromWebIdentityToken",
                &self.subject_from_web_identity_token,
            )
            .open("AssumedRoleUser")
            .element("AssumedRoleId", &self.assumed_role_id)
            .element("Arn", &self.assumed_role_arn)
            .close("AssumedRoleUser")
            .optional(
                "PackedPolicySize",
                self.packed_policy_size.map(|n| n.to_string()).as_deref(),
            )
            .element("Provider", &self.provider)
            .element("Audience", &self.audience);
    }
}

// --- GetCallerIdentity -----------------------------------------------------------------------

/// GetCallerIdentity has no input members.
pub(super) struct NoInput;

impl Decode<QueryParams> for NoInput {
    fn decode(_: QueryParams, _: &mut Violations) -> Result<Self, RequestError> {
        Ok(Self)
    }
}

impl Validate for NoInput {
    fn validate(&self, _: &mut Violations) {}
}

impl XmlOutput for CallerIdentity {
    fn write(&self, xml: &mut Xml) {
        xml.element("Arn", &self.arn)
            .element("UserId", &self.user_id)
            .element("Account", &self.account);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles() {
        for pattern in [
            &ARN_CHARACTERS,
            &SESSION_NAME_CHARACTERS,
            &POLICY_CHARACTERS,
        ] {
            let _ = pattern.matches("");
        }
    }

    #[test]
    fn web_identity_inputs_are_checked_without_echoing_the_token() {
        let params = QueryParams::parse(
            b"",
            b"RoleArn=short&RoleSessionName=bad%20name&WebIdentityToken=abc&DurationSeconds=ten",
        );
        let mut v = Violations::new();
        let input = AssumeRoleWithWebIdentityInput::decode(params, &mut v).unwrap();
        input.validate(&mut v);
        let message = v.message().unwrap();
        assert!(
            message.starts_with("4 validation errors detected: "),
            "{message}"
        );
        assert!(message.contains("Value 'short' at 'roleArn'"), "{message}");
        assert!(message.contains(r"pattern: [\w+=,.@-]*"), "{message}");
        assert!(
            message.contains("Value 'ten' at 'durationSeconds'"),
            "{message}"
        );
        assert!(!message.contains("'abc'"), "{message}");
    }
}
