//! STS's request and response shapes (service model 2011-06-15) and their constraints.

use tegata_core::sts::credentials::TemporaryCredentials;
use tegata_core::sts::{
    AssumeRoleOutput, AssumeRoleWithWebIdentityOutput, CallerIdentity, GetFederationTokenOutput,
};

use crate::pipeline::{Decode, RequestError};
use crate::protocol::aws_query::{self, QueryParams, Xml, XmlOutput};
use crate::query::tags::{MAX_TAGS, TAG_KEY, check_tags, decode_tags};
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
static EXTERNAL_ID_CHARACTERS: Pattern = Pattern::new(r"[\w+=,.@:\/-]*");
static EXTERNAL_ID: Text = Text::new(2, 1224).pattern(&EXTERNAL_ID_CHARACTERS);
static SERIAL_NUMBER_CHARACTERS: Pattern = Pattern::new(r"[\w+=/:,.@-]*");
static SERIAL_NUMBER: Text = Text::new(9, 256).pattern(&SERIAL_NUMBER_CHARACTERS);
static TOKEN_CODE_CHARACTERS: Pattern = Pattern::new(r"[\d]*");
/// A one-time code is a secret while it lasts: never echoed.
static TOKEN_CODE: Text = Text::new(6, 6).pattern(&TOKEN_CODE_CHARACTERS).sensitive();
static SOURCE_IDENTITY: Text = Text::new(2, 64).pattern(&SESSION_NAME_CHARACTERS);
static FEDERATED_USER_NAME: Text = Text::new(2, 32).pattern(&SESSION_NAME_CHARACTERS);
static ACCESS_KEY_ID_CHARACTERS: Pattern = Pattern::new(r"[\w]*");
static ACCESS_KEY_ID: Text = Text::new(16, 128).pattern(&ACCESS_KEY_ID_CHARACTERS);
const DURATION_SECONDS: (i64, i64) = (900, 43_200);
/// GetSessionToken's and GetFederationToken's range: up to 36 hours.
const USER_DURATION_SECONDS: (i64, i64) = (900, 129_600);
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
            policy_arns: decode_policy_arns(&p),
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
        check_policy_arns(v, self.policy_arns.as_deref());
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

/// The `Credentials` member every operation that makes a session answers.
fn write_credentials(xml: &mut Xml, credentials: &TemporaryCredentials) {
    xml.open("Credentials")
        .element("AccessKeyId", &credentials.access_key_id)
        .element("SecretAccessKey", &credentials.secret_access_key)
        .element("SessionToken", &credentials.session_token)
        .element("Expiration", &aws_query::timestamp(credentials.expiration))
        .close("Credentials");
}

/// `PolicyArns.member.N.arn`.
fn decode_policy_arns(p: &QueryParams) -> Option<Vec<Option<String>>> {
    p.struct_list("PolicyArns").map(|list| {
        list.into_iter()
            .map(|mut fields| fields.remove("arn"))
            .collect()
    })
}

fn check_policy_arns(v: &mut Violations, arns: Option<&[Option<String>]>) {
    for arn in arns.into_iter().flatten() {
        v.required_text("policyArns.member.arn", arn.as_deref(), &POLICY_ARN);
    }
}

impl XmlOutput for AssumeRoleWithWebIdentityOutput {
    fn write(&self, xml: &mut Xml) {
        write_credentials(xml, &self.credentials);
        xml.element(
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

// --- AssumeRole -----------------------------------------------------------------------------

pub(super) struct AssumeRoleInput {
    pub role_arn: Option<String>,
    pub role_session_name: Option<String>,
    pub policy_arns: Option<Vec<Option<String>>>,
    pub policy: Option<String>,
    pub duration_seconds: Option<i64>,
    pub tags: Option<Vec<(Option<String>, Option<String>)>>,
    pub transitive_tag_keys: Option<Vec<String>>,
    pub external_id: Option<String>,
    pub serial_number: Option<String>,
    pub token_code: Option<String>,
    pub source_identity: Option<String>,
}

impl Decode<QueryParams> for AssumeRoleInput {
    fn decode(p: QueryParams, v: &mut Violations) -> Result<Self, RequestError> {
        Ok(Self {
            role_arn: p.owned("RoleArn"),
            role_session_name: p.owned("RoleSessionName"),
            policy_arns: decode_policy_arns(&p),
            policy: p.owned("Policy"),
            duration_seconds: p.integer("DurationSeconds", "durationSeconds", v),
            tags: decode_tags(&p),
            transitive_tag_keys: p.list("TransitiveTagKeys"),
            external_id: p.owned("ExternalId"),
            serial_number: p.owned("SerialNumber"),
            token_code: p.owned("TokenCode"),
            source_identity: p.owned("SourceIdentity"),
        })
    }
}

impl Validate for AssumeRoleInput {
    fn validate(&self, v: &mut Violations) {
        v.required_text("roleArn", self.role_arn.as_deref(), &ROLE_ARN);
        v.required_text(
            "roleSessionName",
            self.role_session_name.as_deref(),
            &ROLE_SESSION_NAME,
        );
        check_policy_arns(v, self.policy_arns.as_deref());
        v.text("policy", self.policy.as_deref(), &SESSION_POLICY);
        v.range(
            "durationSeconds",
            self.duration_seconds,
            DURATION_SECONDS.0,
            DURATION_SECONDS.1,
        );
        check_tags(v, self.tags.as_deref());
        if let Some(keys) = &self.transitive_tag_keys {
            v.count("transitiveTagKeys", keys.len(), 0, MAX_TAGS);
            v.list_entries("transitiveTagKeys", keys.iter(), &TAG_KEY);
        }
        v.text("externalId", self.external_id.as_deref(), &EXTERNAL_ID);
        v.text(
            "serialNumber",
            self.serial_number.as_deref(),
            &SERIAL_NUMBER,
        );
        v.text("tokenCode", self.token_code.as_deref(), &TOKEN_CODE);
        v.text(
            "sourceIdentity",
            self.source_identity.as_deref(),
            &SOURCE_IDENTITY,
        );
    }
}

impl XmlOutput for AssumeRoleOutput {
    fn write(&self, xml: &mut Xml) {
        write_credentials(xml, &self.credentials);
        xml.open("AssumedRoleUser")
            .element("AssumedRoleId", &self.assumed_role_id)
            .element("Arn", &self.assumed_role_arn)
            .close("AssumedRoleUser")
            .optional(
                "PackedPolicySize",
                self.packed_policy_size.map(|n| n.to_string()).as_deref(),
            )
            .optional("SourceIdentity", self.source_identity.as_deref());
    }
}

// --- GetSessionToken --------------------------------------------------------------------------

pub(super) struct GetSessionTokenInput {
    pub duration_seconds: Option<i64>,
    pub serial_number: Option<String>,
    pub token_code: Option<String>,
}

impl Decode<QueryParams> for GetSessionTokenInput {
    fn decode(p: QueryParams, v: &mut Violations) -> Result<Self, RequestError> {
        Ok(Self {
            duration_seconds: p.integer("DurationSeconds", "durationSeconds", v),
            serial_number: p.owned("SerialNumber"),
            token_code: p.owned("TokenCode"),
        })
    }
}

impl Validate for GetSessionTokenInput {
    fn validate(&self, v: &mut Violations) {
        v.range(
            "durationSeconds",
            self.duration_seconds,
            USER_DURATION_SECONDS.0,
            USER_DURATION_SECONDS.1,
        );
        v.text(
            "serialNumber",
            self.serial_number.as_deref(),
            &SERIAL_NUMBER,
        );
        v.text("tokenCode", self.token_code.as_deref(), &TOKEN_CODE);
    }
}

/// GetSessionToken answers only `Credentials`.
pub(super) struct GetSessionTokenOutput(pub TemporaryCredentials);

impl XmlOutput for GetSessionTokenOutput {
    fn write(&self, xml: &mut Xml) {
        write_credentials(xml, &self.0);
    }
}

// --- GetFederationToken -----------------------------------------------------------------------

pub(super) struct GetFederationTokenInput {
    pub name: Option<String>,
    pub policy: Option<String>,
    pub policy_arns: Option<Vec<Option<String>>>,
    pub duration_seconds: Option<i64>,
    pub tags: Option<Vec<(Option<String>, Option<String>)>>,
}

impl Decode<QueryParams> for GetFederationTokenInput {
    fn decode(p: QueryParams, v: &mut Violations) -> Result<Self, RequestError> {
        Ok(Self {
            name: p.owned("Name"),
            policy: p.owned("Policy"),
            policy_arns: decode_policy_arns(&p),
            duration_seconds: p.integer("DurationSeconds", "durationSeconds", v),
            tags: decode_tags(&p),
        })
    }
}

impl Validate for GetFederationTokenInput {
    fn validate(&self, v: &mut Violations) {
        v.required_text("name", self.name.as_deref(), &FEDERATED_USER_NAME);
        v.text("policy", self.policy.as_deref(), &SESSION_POLICY);
        check_policy_arns(v, self.policy_arns.as_deref());
        v.range(
            "durationSeconds",
            self.duration_seconds,
            USER_DURATION_SECONDS.0,
            USER_DURATION_SECONDS.1,
        );
        check_tags(v, self.tags.as_deref());
    }
}

impl XmlOutput for GetFederationTokenOutput {
    fn write(&self, xml: &mut Xml) {
        write_credentials(xml, &self.credentials);
        xml.open("FederatedUser")
            .element("FederatedUserId", &self.federated_user_id)
            .element("Arn", &self.federated_user_arn)
            .close("FederatedUser")
            .element("PackedPolicySize", &self.packed_policy_size.to_string());
    }
}

// --- GetAccessKeyInfo -------------------------------------------------------------------------

pub(super) struct GetAccessKeyInfoInput {
    pub access_key_id: Option<String>,
}

impl Decode<QueryParams> for GetAccessKeyInfoInput {
    fn decode(p: QueryParams, _: &mut Violations) -> Result<Self, RequestError> {
        Ok(Self {
            access_key_id: p.owned("AccessKeyId"),
        })
    }
}

impl Validate for GetAccessKeyInfoInput {
    fn validate(&self, v: &mut Violations) {
        v.required_text("accessKeyId", self.access_key_id.as_deref(), &ACCESS_KEY_ID);
    }
}

pub(super) struct GetAccessKeyInfoOutput {
    pub account: String,
}

impl XmlOutput for GetAccessKeyInfoOutput {
    fn write(&self, xml: &mut Xml) {
        xml.element("Account", &self.account);
    }
}

// --- DecodeAuthorizationMessage ------------------------------------------------------------------

static ENCODED_MESSAGE: Text = Text::new(1, tegata_core::denials::MAX_ENCODED_LENGTH).sensitive();

pub(super) struct DecodeAuthorizationMessageInput {
    pub encoded_message: Option<String>,
}

impl Decode<QueryParams> for DecodeAuthorizationMessageInput {
    fn decode(p: QueryParams, _: &mut Violations) -> Result<Self, RequestError> {
        Ok(Self {
            encoded_message: p.owned("EncodedMessage"),
        })
    }
}

impl Validate for DecodeAuthorizationMessageInput {
    fn validate(&self, v: &mut Violations) {
        v.required_text(
            "encodedMessage",
            self.encoded_message.as_deref(),
            &ENCODED_MESSAGE,
        );
    }
}

pub(super) struct DecodeAuthorizationMessageOutput {
    pub decoded_message: String,
}

impl XmlOutput for DecodeAuthorizationMessageOutput {
    fn write(&self, xml: &mut Xml) {
        xml.element("DecodedMessage", &self.decoded_message);
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
