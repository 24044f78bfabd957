//! IAM's request and response shapes (service model 2010-05-08) for the operations tegata
//! implements, and their constraints.

use tegata_core::iam::{OidcProvider, Role};
use tegata_core::pagination::Page;

mod permissions;

pub(super) use permissions::*;

use crate::pipeline::{Decode, RequestError};
use crate::protocol::aws_query::{self, QueryParams, Xml, XmlOutput};
use crate::query::tags::{MAX_TAGS, TAG_KEY, check_tags, decode_tags};
use crate::validate::{Pattern, Text, Validate, Violations};

// --- the model's constraints ----------------------------------------------------------------

static NAME_CHARACTERS: Pattern = Pattern::new(r"[\w+=,.@-]+");
static PATH_CHARACTERS: Pattern = Pattern::new(r"(\u002F)|(\u002F[\u0021-\u007E]+\u002F)");
static PATH_PREFIX_CHARACTERS: Pattern = Pattern::new(r"\u002F[\u0021-\u007F]*");
static POLICY_CHARACTERS: Pattern = Pattern::new(r"[\u0009\u000A\u000D\u0020-\u00FF]+");
static DESCRIPTION_CHARACTERS: Pattern =
    Pattern::new(r"[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*");
static MARKER_CHARACTERS: Pattern = Pattern::new(r"[\u0020-\u00FF]+");

static ROLE_NAME: Text = Text::new(1, 64).pattern(&NAME_CHARACTERS);
static POLICY_NAME: Text = Text::new(1, 128).pattern(&NAME_CHARACTERS);
static PATH: Text = Text::new(1, 512).pattern(&PATH_CHARACTERS);
static PATH_PREFIX: Text = Text::new(1, 512).pattern(&PATH_PREFIX_CHARACTERS);
static POLICY_DOCUMENT: Text = Text::new(1, 131_072).pattern(&POLICY_CHARACTERS);
static ROLE_DESCRIPTION: Text = Text::new(0, 1000).pattern(&DESCRIPTION_CHARACTERS);
static MARKER: Text = Text::new(1, 320).pattern(&MARKER_CHARACTERS);
static PERMISSIONS_BOUNDARY: Text = Text::new(20, 2048);
static ARN: Text = Text::new(20, 2048);
/// AWS reports a provider URL out of bounds without its value (iam-facts.md §4).
static PROVIDER_URL: Text = Text::new(1, 255).sensitive();
static CLIENT_ID: Text = Text::new(1, 255);
static THUMBPRINT: Text = Text::new(40, 40);
const MAX_SESSION_DURATION: (i64, i64) = (3600, 43_200);
const MAX_SIGNIN_SESSION_DURATION: (i64, i64) = (3600, 7_776_000);
const MAX_ITEMS: (i64, i64) = (1, 1000);
/// MaxItems when the request gives none.
pub(super) const DEFAULT_MAX_ITEMS: u32 = 100;

/// `Marker` and `MaxItems`, the pagination members of IAM's list operations.
pub(super) struct Pagination {
    pub marker: Option<String>,
    pub max_items: Option<i64>,
}

impl Pagination {
    fn decode(p: &QueryParams, v: &mut Violations) -> Self {
        Self {
            marker: p.owned("Marker"),
            max_items: p.integer("MaxItems", "maxItems", v),
        }
    }

    fn validate(&self, v: &mut Violations) {
        v.text("marker", self.marker.as_deref(), &MARKER);
        v.range("maxItems", self.max_items, MAX_ITEMS.0, MAX_ITEMS.1);
    }

    pub(super) fn page_size(&self) -> u32 {
        self.max_items
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(DEFAULT_MAX_ITEMS)
    }
}

/// `<IsTruncated>` and, when there is more, `<Marker>`.
fn truncation<T>(xml: &mut Xml, page: &Page<T>) {
    xml.element(
        "IsTruncated",
        if page.next_token.is_some() {
            "true"
        } else {
            "false"
        },
    )
    .optional("Marker", page.next_token.as_deref());
}

// --- roles ------------------------------------------------------------------------------------

pub(super) struct CreateRoleInput {
    pub path: Option<String>,
    pub role_name: Option<String>,
    pub assume_role_policy_document: Option<String>,
    pub description: Option<String>,
    pub max_session_duration: Option<i64>,
    pub max_signin_session_duration: Option<i64>,
    pub permissions_boundary: Option<String>,
    pub tags: Option<Vec<(Option<String>, Option<String>)>>,
}

impl Decode<QueryParams> for CreateRoleInput {
    fn decode(p: QueryParams, v: &mut Violations) -> Result<Self, RequestError> {
        Ok(Self {
            path: p.owned("Path"),
            role_name: p.owned("RoleName"),
            assume_role_policy_document: p.owned("AssumeRolePolicyDocument"),
            description: p.owned("Description"),
            max_session_duration: p.integer("MaxSessionDuration", "maxSessionDuration", v),
            max_signin_session_duration: p.integer(
                "MaxSigninSessionDuration",
                "maxSigninSessionDuration",
                v,
            ),
            permissions_boundary: p.owned("PermissionsBoundary"),
            tags: decode_tags(&p),
        })
    }
}

impl Validate for CreateRoleInput {
    fn validate(&self, v: &mut Violations) {
        v.text("path", self.path.as_deref(), &PATH);
        v.required_text("roleName", self.role_name.as_deref(), &ROLE_NAME);
        v.required_text(
            "assumeRolePolicyDocument",
            self.assume_role_policy_document.as_deref(),
            &POLICY_DOCUMENT,
        );
        v.text(
            "description",
            self.description.as_deref(),
            &ROLE_DESCRIPTION,
        );
        v.range(
            "maxSessionDuration",
            self.max_session_duration,
            MAX_SESSION_DURATION.0,
            MAX_SESSION_DURATION.1,
        );
        v.range(
            "maxSigninSessionDuration",
            self.max_signin_session_duration,
            MAX_SIGNIN_SESSION_DURATION.0,
            MAX_SIGNIN_SESSION_DURATION.1,
        );
        v.text(
            "permissionsBoundary",
            self.permissions_boundary.as_deref(),
            &PERMISSIONS_BOUNDARY,
        );
        check_tags(v, self.tags.as_deref());
    }
}

/// A list member; an empty list travels as the bare name (`ThumbprintList=`).
fn decode_list(p: &QueryParams, name: &str) -> Option<Vec<String>> {
    p.list(name)
        .or_else(|| p.get(name).filter(|v| v.is_empty()).map(|_| Vec::new()))
}

/// Operations whose only input is a role's name.
pub(super) struct RoleNameInput {
    pub role_name: Option<String>,
}

impl Decode<QueryParams> for RoleNameInput {
    fn decode(p: QueryParams, _: &mut Violations) -> Result<Self, RequestError> {
        Ok(Self {
            role_name: p.owned("RoleName"),
        })
    }
}

impl Validate for RoleNameInput {
    fn validate(&self, v: &mut Violations) {
        v.required_text("roleName", self.role_name.as_deref(), &ROLE_NAME);
    }
}

/// UpdateRoleDescription: a role and its new description (required, and may be empty).
pub(super) struct UpdateRoleDescriptionInput {
    pub role_name: Option<String>,
    pub description: Option<String>,
}

impl Decode<QueryParams> for UpdateRoleDescriptionInput {
    fn decode(p: QueryParams, _: &mut Violations) -> Result<Self, RequestError> {
        Ok(Self {
            role_name: p.owned("RoleName"),
            description: p.owned("Description"),
        })
    }
}

impl Validate for UpdateRoleDescriptionInput {
    fn validate(&self, v: &mut Violations) {
        v.required_text("roleName", self.role_name.as_deref(), &ROLE_NAME);
        v.required_text(
            "description",
            self.description.as_deref(),
            &ROLE_DESCRIPTION,
        );
    }
}

pub(super) struct ListRolesInput {
    pub path_prefix: Option<String>,
    pub pagination: Pagination,
}

impl Decode<QueryParams> for ListRolesInput {
    fn decode(p: QueryParams, v: &mut Violations) -> Result<Self, RequestError> {
        Ok(Self {
            path_prefix: p.owned("PathPrefix"),
            pagination: Pagination::decode(&p, v),
        })
    }
}

impl Validate for ListRolesInput {
    fn validate(&self, v: &mut Violations) {
        v.text("pathPrefix", self.path_prefix.as_deref(), &PATH_PREFIX);
        self.pagination.validate(v);
    }
}

pub(super) struct UpdateRoleInput {
    pub role_name: Option<String>,
    pub description: Option<String>,
    pub max_session_duration: Option<i64>,
    pub max_signin_session_duration: Option<i64>,
}

impl Decode<QueryParams> for UpdateRoleInput {
    fn decode(p: QueryParams, v: &mut Violations) -> Result<Self, RequestError> {
        // Console sign-in sessions do not exist here: the flag is checked for its type only.
        let _ = p.boolean(
            "ResetMaxSigninSessionDuration",
            "resetMaxSigninSessionDuration",
            v,
        );
        Ok(Self {
            role_name: p.owned("RoleName"),
            description: p.owned("Description"),
            max_session_duration: p.integer("MaxSessionDuration", "maxSessionDuration", v),
            max_signin_session_duration: p.integer(
                "MaxSigninSessionDuration",
                "maxSigninSessionDuration",
                v,
            ),
        })
    }
}

impl Validate for UpdateRoleInput {
    fn validate(&self, v: &mut Violations) {
        v.required_text("roleName", self.role_name.as_deref(), &ROLE_NAME);
        v.text(
            "description",
            self.description.as_deref(),
            &ROLE_DESCRIPTION,
        );
        v.range(
            "maxSessionDuration",
            self.max_session_duration,
            MAX_SESSION_DURATION.0,
            MAX_SESSION_DURATION.1,
        );
        v.range(
            "maxSigninSessionDuration",
            self.max_signin_session_duration,
            MAX_SIGNIN_SESSION_DURATION.0,
            MAX_SIGNIN_SESSION_DURATION.1,
        );
    }
}

/// UpdateAssumeRolePolicy and PutRolePolicy: a role, a policy document, and for PutRolePolicy a
/// policy name.
pub(super) struct RolePolicyDocumentInput {
    pub role_name: Option<String>,
    pub policy_name: Option<String>,
    pub policy_document: Option<String>,
}

impl Decode<QueryParams> for RolePolicyDocumentInput {
    fn decode(p: QueryParams, _: &mut Violations) -> Result<Self, RequestError> {
        Ok(Self {
            role_name: p.owned("RoleName"),
            policy_name: p.owned("PolicyName"),
            policy_document: p.owned("PolicyDocument"),
        })
    }
}

/// UpdateAssumeRolePolicy's input: a role and its new trust policy.
pub(super) struct UpdateAssumeRolePolicyInput(pub RolePolicyDocumentInput);

impl Decode<QueryParams> for UpdateAssumeRolePolicyInput {
    fn decode(p: QueryParams, v: &mut Violations) -> Result<Self, RequestError> {
        RolePolicyDocumentInput::decode(p, v).map(Self)
    }
}

impl Validate for UpdateAssumeRolePolicyInput {
    fn validate(&self, v: &mut Violations) {
        v.required_text("roleName", self.0.role_name.as_deref(), &ROLE_NAME);
        v.required_text(
            "policyDocument",
            self.0.policy_document.as_deref(),
            &POLICY_DOCUMENT,
        );
    }
}

/// PutRolePolicy's input.
pub(super) struct PutRolePolicyInput(pub RolePolicyDocumentInput);

impl Decode<QueryParams> for PutRolePolicyInput {
    fn decode(p: QueryParams, v: &mut Violations) -> Result<Self, RequestError> {
        RolePolicyDocumentInput::decode(p, v).map(Self)
    }
}

impl Validate for PutRolePolicyInput {
    fn validate(&self, v: &mut Violations) {
        v.required_text("roleName", self.0.role_name.as_deref(), &ROLE_NAME);
        v.required_text("policyName", self.0.policy_name.as_deref(), &POLICY_NAME);
        v.required_text(
            "policyDocument",
            self.0.policy_document.as_deref(),
            &POLICY_DOCUMENT,
        );
    }
}

/// GetRolePolicy and DeleteRolePolicy: a role and the name of one of its inline policies.
pub(super) struct RolePolicyInput {
    pub role_name: Option<String>,
    pub policy_name: Option<String>,
}

impl Decode<QueryParams> for RolePolicyInput {
    fn decode(p: QueryParams, _: &mut Violations) -> Result<Self, RequestError> {
        Ok(Self {
            role_name: p.owned("RoleName"),
            policy_name: p.owned("PolicyName"),
        })
    }
}

impl Validate for RolePolicyInput {
    fn validate(&self, v: &mut Violations) {
        v.required_text("roleName", self.role_name.as_deref(), &ROLE_NAME);
        v.required_text("policyName", self.policy_name.as_deref(), &POLICY_NAME);
    }
}

pub(super) struct ListRolePoliciesInput {
    pub role_name: Option<String>,
    pub pagination: Pagination,
}

impl Decode<QueryParams> for ListRolePoliciesInput {
    fn decode(p: QueryParams, v: &mut Violations) -> Result<Self, RequestError> {
        Ok(Self {
            role_name: p.owned("RoleName"),
            pagination: Pagination::decode(&p, v),
        })
    }
}

impl Validate for ListRolePoliciesInput {
    fn validate(&self, v: &mut Violations) {
        v.required_text("roleName", self.role_name.as_deref(), &ROLE_NAME);
        self.pagination.validate(v);
    }
}

// --- OpenID Connect providers ---------------------------------------------------------------

pub(super) struct CreateOpenIdConnectProviderInput {
    pub url: Option<String>,
    pub client_ids: Option<Vec<String>>,
    pub thumbprints: Option<Vec<String>>,
    pub tags: Option<Vec<(Option<String>, Option<String>)>>,
}

impl Decode<QueryParams> for CreateOpenIdConnectProviderInput {
    fn decode(p: QueryParams, _: &mut Violations) -> Result<Self, RequestError> {
        Ok(Self {
            url: p.owned("Url"),
            client_ids: decode_list(&p, "ClientIDList"),
            thumbprints: decode_list(&p, "ThumbprintList"),
            tags: decode_tags(&p),
        })
    }
}

impl Validate for CreateOpenIdConnectProviderInput {
    fn validate(&self, v: &mut Violations) {
        // In AWS's order: by member name.
        v.list_member_constraints(
            "clientIDList",
            self.client_ids.iter().flatten(),
            &CLIENT_ID,
            false,
        );
        check_tags(v, self.tags.as_deref());
        v.list_member_constraints(
            "thumbprintList",
            self.thumbprints.iter().flatten(),
            &THUMBPRINT,
            false,
        );
        v.required_text("url", self.url.as_deref(), &PROVIDER_URL);
    }
}

/// Every OIDC provider operation but Create and List names its provider by ARN; some add a
/// client id, a thumbprint list, tags or tag keys, and ListOpenIDConnectProviderTags pages.
pub(super) struct OidcProviderInput {
    pub arn: Option<String>,
    pub client_id: Option<String>,
    pub thumbprints: Option<Vec<String>>,
    pub tags: Option<Vec<(Option<String>, Option<String>)>>,
    pub tag_keys: Option<Vec<String>>,
    pub pagination: Pagination,
}

impl Decode<QueryParams> for OidcProviderInput {
    fn decode(p: QueryParams, v: &mut Violations) -> Result<Self, RequestError> {
        Ok(Self {
            arn: p.owned("OpenIDConnectProviderArn"),
            client_id: p.owned("ClientID"),
            thumbprints: decode_list(&p, "ThumbprintList"),
            tags: decode_tags(&p),
            tag_keys: decode_list(&p, "TagKeys"),
            pagination: Pagination::decode(&p, v),
        })
    }
}

impl OidcProviderInput {
    fn check_arn(&self, v: &mut Violations) {
        v.required_text("openIDConnectProviderArn", self.arn.as_deref(), &ARN);
    }
}

/// Declares an input that is an [`OidcProviderInput`] with these members checked.
macro_rules! oidc_input {
    ($name:ident, |$input:ident, $v:ident| $check:block) => {
        pub(super) struct $name(pub OidcProviderInput);

        impl Decode<QueryParams> for $name {
            fn decode(p: QueryParams, v: &mut Violations) -> Result<Self, RequestError> {
                OidcProviderInput::decode(p, v).map(Self)
            }
        }

        impl Validate for $name {
            fn validate(&self, $v: &mut Violations) {
                let $input = &self.0;
                $input.check_arn($v);
                $check
            }
        }
    };
}

oidc_input!(OidcProviderArnInput, |_input, _v| {});
oidc_input!(OidcProviderClientIdInput, |input, v| {
    v.required_text("clientID", input.client_id.as_deref(), &CLIENT_ID);
});
oidc_input!(OidcProviderThumbprintInput, |input, v| {
    v.required("thumbprintList", &input.thumbprints);
    v.list_entries(
        "thumbprintList",
        input.thumbprints.iter().flatten(),
        &THUMBPRINT,
    );
});
oidc_input!(OidcProviderTagInput, |input, v| {
    v.required("tags", &input.tags);
    check_tags(v, input.tags.as_deref());
});
oidc_input!(OidcProviderUntagInput, |input, v| {
    v.required("tagKeys", &input.tag_keys);
    if let Some(keys) = &input.tag_keys {
        v.count("tagKeys", keys.len(), 0, MAX_TAGS);
        v.list_entries("tagKeys", keys.iter(), &TAG_KEY);
    }
});
oidc_input!(OidcProviderTagsPageInput, |input, v| {
    input.pagination.validate(v);
});

/// ListOpenIDConnectProviders takes nothing.
pub(super) struct NoInput;

impl Decode<QueryParams> for NoInput {
    fn decode(_: QueryParams, _: &mut Violations) -> Result<Self, RequestError> {
        Ok(Self)
    }
}

impl Validate for NoInput {
    fn validate(&self, _: &mut Violations) {}
}

fn tag_members(xml: &mut Xml, tags: &[(String, String)]) {
    xml.open("Tags");
    for (key, value) in tags {
        xml.open("member")
            .element("Key", key)
            .element("Value", value)
            .close("member");
    }
    xml.close("Tags");
}

fn string_members(xml: &mut Xml, list: &str, items: &[String]) {
    xml.open(list);
    for item in items {
        xml.element("member", item);
    }
    xml.close(list);
}

pub(super) struct CreateOpenIdConnectProviderOutput {
    pub arn: String,
    pub tags: Vec<(String, String)>,
}

impl XmlOutput for CreateOpenIdConnectProviderOutput {
    fn write(&self, xml: &mut Xml) {
        xml.element("OpenIDConnectProviderArn", &self.arn);
        if !self.tags.is_empty() {
            tag_members(xml, &self.tags);
        }
    }
}

/// GetOpenIDConnectProvider: the URL without its scheme, and empty lists written out (AWS
/// answers `[]`, not nothing).
pub(super) struct GetOpenIdConnectProviderOutput(pub OidcProvider);

impl XmlOutput for GetOpenIdConnectProviderOutput {
    fn write(&self, xml: &mut Xml) {
        let p = &self.0;
        xml.element("Url", &p.url);
        string_members(xml, "ClientIDList", &p.client_ids);
        string_members(xml, "ThumbprintList", &p.thumbprints);
        xml.element("CreateDate", &aws_query::timestamp(p.created_at));
        tag_members(xml, &p.tags);
    }
}

pub(super) struct ListOpenIdConnectProvidersOutput(pub Vec<String>);

impl XmlOutput for ListOpenIdConnectProvidersOutput {
    fn write(&self, xml: &mut Xml) {
        xml.open("OpenIDConnectProviderList");
        for arn in &self.0 {
            xml.open("member").element("Arn", arn).close("member");
        }
        xml.close("OpenIDConnectProviderList");
    }
}

pub(super) struct ListTagsOutput(pub Page<(String, String)>);

impl XmlOutput for ListTagsOutput {
    fn write(&self, xml: &mut Xml) {
        tag_members(xml, &self.0.items);
        truncation(xml, &self.0);
    }
}

// --- outputs ----------------------------------------------------------------------------------

/// Which members a role's answer has: AWS answers each operation with its own subset
/// (iam-facts.md §1, quirk Q2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum RoleView {
    /// CreateRole: no Description, MaxSessionDuration or RoleLastUsed, even when set.
    Created,
    /// GetRole: everything, RoleLastUsed included (`{}` until the role is used).
    Full,
    /// ListRoles: no Tags, PermissionsBoundary or RoleLastUsed.
    Listed,
    /// UpdateRoleDescription: CreateRole's members and the Description.
    DescriptionUpdated,
}

fn role_members(xml: &mut Xml, role: &Role, account_id: &str, view: RoleView) {
    use RoleView::{Created, DescriptionUpdated, Full, Listed};
    xml.element("Path", &role.path)
        .element("RoleName", &role.role_name)
        .element("RoleId", &role.role_id)
        .element("Arn", &role.arn(account_id))
        .element("CreateDate", &aws_query::timestamp(role.created_at))
        .element(
            "AssumeRolePolicyDocument",
            &aws_query::url_encode_policy(&role.assume_role_policy_document),
        );
    if matches!(view, Full | Listed | DescriptionUpdated) {
        xml.optional("Description", role.description.as_deref());
    }
    if matches!(view, Full | Listed) {
        xml.element("MaxSessionDuration", &role.max_session_duration.to_string());
    }
    if matches!(view, Created | Full)
        && let Some(arn) = &role.permissions_boundary
    {
        xml.open("PermissionsBoundary")
            .element("PermissionsBoundaryType", "Policy")
            .element("PermissionsBoundaryArn", arn)
            .close("PermissionsBoundary");
    }
    if matches!(view, Created | Full) && !role.tags.is_empty() {
        xml.open("Tags");
        for (key, value) in &role.tags {
            xml.open("member")
                .element("Key", key)
                .element("Value", value)
                .close("member");
        }
        xml.close("Tags");
    }
    if view == Full {
        xml.open("RoleLastUsed");
        if let Some(used) = &role.last_used {
            xml.element("LastUsedDate", &aws_query::timestamp(used.at))
                .element("Region", &used.region);
        }
        xml.close("RoleLastUsed");
    }
}

/// `<Role>…</Role>`, the result of CreateRole, GetRole and UpdateRoleDescription.
pub(super) struct RoleOutput {
    pub role: Role,
    pub account_id: String,
    pub view: RoleView,
}

impl XmlOutput for RoleOutput {
    fn write(&self, xml: &mut Xml) {
        xml.open("Role");
        role_members(xml, &self.role, &self.account_id, self.view);
        xml.close("Role");
    }
}

pub(super) struct ListRolesOutput {
    pub page: Page<Role>,
    pub account_id: String,
}

impl XmlOutput for ListRolesOutput {
    fn write(&self, xml: &mut Xml) {
        xml.open("Roles");
        for role in &self.page.items {
            xml.open("member");
            role_members(xml, role, &self.account_id, RoleView::Listed);
            xml.close("member");
        }
        xml.close("Roles");
        truncation(xml, &self.page);
    }
}

/// UpdateRole's result: an empty `UpdateRoleResult` element, as the model has an output shape
/// without members.
pub(super) struct EmptyResult;

impl XmlOutput for EmptyResult {
    fn write(&self, _: &mut Xml) {}
}

pub(super) struct GetRolePolicyOutput {
    pub role_name: String,
    pub policy_name: String,
    pub policy_document: String,
}

impl XmlOutput for GetRolePolicyOutput {
    fn write(&self, xml: &mut Xml) {
        xml.element("RoleName", &self.role_name)
            .element("PolicyName", &self.policy_name)
            .element(
                "PolicyDocument",
                &aws_query::url_encode_policy(&self.policy_document),
            );
    }
}

pub(super) struct ListRolePoliciesOutput(pub Page<String>);

impl XmlOutput for ListRolePoliciesOutput {
    fn write(&self, xml: &mut Xml) {
        xml.open("PolicyNames");
        for name in &self.0.items {
            xml.element("member", name);
        }
        xml.close("PolicyNames");
        truncation(xml, &self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message<I: Decode<QueryParams> + Validate>(body: &[u8]) -> String {
        let mut v = Violations::new();
        let input = I::decode(QueryParams::parse(b"", body), &mut v).unwrap();
        input.validate(&mut v);
        v.message().unwrap_or_default()
    }

    #[test]
    fn every_pattern_compiles() {
        for pattern in [
            &NAME_CHARACTERS,
            &PATH_CHARACTERS,
            &PATH_PREFIX_CHARACTERS,
            &POLICY_CHARACTERS,
            &DESCRIPTION_CHARACTERS,
            &MARKER_CHARACTERS,
        ] {
            let _ = pattern.matches("");
        }
    }

    #[test]
    fn paths_and_path_prefixes_are_checked_by_the_pattern_they_quote() {
        assert!(PATH_CHARACTERS.matches("/"));
        assert!(PATH_CHARACTERS.matches("/service-role/"));
        assert!(!PATH_CHARACTERS.matches("service-role/"));
        assert!(!PATH_CHARACTERS.matches("/no-trailing"));
        assert!(!PATH_CHARACTERS.matches("/with space/"));
        // The prefix's pattern allows any printable ASCII after the slash, but no space.
        let refused = message::<ListRolesInput>(b"PathPrefix=%2Fa+b");
        assert!(
            refused.contains(r"Value '/a b' at 'pathPrefix' failed to satisfy constraint: Member must satisfy regular expression pattern: \u002F[\u0021-\u007F]*"),
            "{refused}"
        );
        assert_eq!(message::<ListRolesInput>(b"PathPrefix=%2Fapp%2F"), "");
    }

    #[test]
    fn tags_are_reported_as_iam_reports_them() {
        let message = message::<CreateRoleInput>(
            b"RoleName=r&AssumeRolePolicyDocument=%7B%7D&Tags.member.1.Key=invalid%21key&Tags.member.1.Value=v",
        );
        assert_eq!(
            message,
            r"1 validation error detected: Value at 'tags.1.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]+"
        );
    }
}
