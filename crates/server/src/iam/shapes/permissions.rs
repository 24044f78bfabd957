//! Shapes of the operations on users, access keys, groups, managed policies and boundaries.
//! Most of their inputs are a few string members; `string_input!` declares those with their
//! constraints, and `Paged` / `Tagged` add pagination and tags to any of them.

use tegata_core::account::AccessKeyRecord;
use tegata_core::iam::{
    AttachedPolicy, EntityKind, Group, PolicyEntity, PolicyInfo, PolicyVersion, User,
};
use tegata_core::pagination::Page;

use super::{
    ARN, DESCRIPTION_CHARACTERS, NAME_CHARACTERS, PATH, PATH_PREFIX, PERMISSIONS_BOUNDARY,
    POLICY_DOCUMENT, POLICY_NAME, Pagination, check_tags, decode_list, decode_tags, tag_members,
    truncation,
};
use crate::pipeline::{Decode, RequestError};
use crate::protocol::aws_query::{self, QueryParams, Xml, XmlOutput};
use crate::query::tags::{MAX_TAGS, TAG_KEY};
use crate::validate::{Pattern, Text, Validate, Violations};

static USER_NAME: Text = Text::new(1, 64).pattern(&NAME_CHARACTERS);
static GROUP_NAME: Text = Text::new(1, 128).pattern(&NAME_CHARACTERS);
static ACCESS_KEY_ID_CHARACTERS: Pattern = Pattern::new(r"[\w]+");
static ACCESS_KEY_ID: Text = Text::new(16, 128).pattern(&ACCESS_KEY_ID_CHARACTERS);
static VERSION_ID_CHARACTERS: Pattern = Pattern::new(r"v[1-9][0-9]*(\.[A-Za-z0-9-]*)?");
static VERSION_ID: Text = Text::new(0, 2048).pattern(&VERSION_ID_CHARACTERS);
static POLICY_DESCRIPTION: Text = Text::new(0, 1000).pattern(&DESCRIPTION_CHARACTERS);
static ENUM_TEXT: Text = Text::new(0, 64);

/// Declares an input of string members: each with its wire name, its name in validation
/// messages, its constraint, and whether it is required.
macro_rules! string_input {
    ($(#[$doc:meta])* $name:ident { $($field:ident: $wire:literal as $member:literal, $rule:expr, $req:ident;)* }) => {
        $(#[$doc])*
        pub(in crate::iam) struct $name { $(pub $field: Option<String>,)* }

        impl Decode<QueryParams> for $name {
            fn decode(p: QueryParams, _: &mut Violations) -> Result<Self, RequestError> {
                Ok(Self { $($field: p.owned($wire),)* })
            }
        }

        impl Validate for $name {
            fn validate(&self, v: &mut Violations) {
                $(string_input!(@check v, $req, $member, self.$field.as_deref(), $rule);)*
            }
        }
    };
    (@check $v:ident, required, $member:literal, $value:expr, $rule:expr) => {
        $v.required_text($member, $value, $rule)
    };
    (@check $v:ident, optional, $member:literal, $value:expr, $rule:expr) => {
        $v.text($member, $value, $rule)
    };
}

/// An input with `Marker` and `MaxItems`.
pub(in crate::iam) struct Paged<T> {
    pub input: T,
    pub pagination: Pagination,
}

impl<T: Decode<QueryParams>> Decode<QueryParams> for Paged<T> {
    fn decode(p: QueryParams, v: &mut Violations) -> Result<Self, RequestError> {
        let pagination = Pagination::decode(&p, v);
        Ok(Self {
            input: T::decode(p, v)?,
            pagination,
        })
    }
}

impl<T: Validate> Validate for Paged<T> {
    fn validate(&self, v: &mut Violations) {
        self.input.validate(v);
        self.pagination.validate(v);
    }
}

/// An input with `Tags`.
pub(in crate::iam) struct Tagged<T> {
    pub input: T,
    pub tags: Option<Vec<(Option<String>, Option<String>)>>,
}

impl<T: Decode<QueryParams>> Decode<QueryParams> for Tagged<T> {
    fn decode(p: QueryParams, v: &mut Violations) -> Result<Self, RequestError> {
        let tags = decode_tags(&p);
        Ok(Self {
            input: T::decode(p, v)?,
            tags,
        })
    }
}

impl<T: Validate> Validate for Tagged<T> {
    fn validate(&self, v: &mut Violations) {
        self.input.validate(v);
        check_tags(v, self.tags.as_deref());
    }
}

/// UntagUser, UntagRole: the entity and the keys to remove.
pub(in crate::iam) struct Untag<T> {
    pub input: T,
    pub tag_keys: Option<Vec<String>>,
}

impl<T: Decode<QueryParams>> Decode<QueryParams> for Untag<T> {
    fn decode(p: QueryParams, v: &mut Violations) -> Result<Self, RequestError> {
        let tag_keys = decode_list(&p, "TagKeys");
        Ok(Self {
            input: T::decode(p, v)?,
            tag_keys,
        })
    }
}

impl<T: Validate> Validate for Untag<T> {
    fn validate(&self, v: &mut Violations) {
        self.input.validate(v);
        v.required("tagKeys", &self.tag_keys);
        if let Some(keys) = &self.tag_keys {
            v.count("tagKeys", keys.len(), 0, MAX_TAGS);
            v.list_member_constraints("tagKeys", keys.iter(), &TAG_KEY, true);
        }
    }
}

string_input! {
    /// Operations that name one user.
    UserNameInput { user_name: "UserName" as "userName", &USER_NAME, required; }
}

string_input! {
    /// Operations whose user defaults to the caller's (GetUser, the access key operations).
    OptionalUserInput { user_name: "UserName" as "userName", &USER_NAME, optional; }
}

string_input! {
    CreateUserInput {
        user_name: "UserName" as "userName", &USER_NAME, required;
        path: "Path" as "path", &PATH, optional;
        permissions_boundary: "PermissionsBoundary" as "permissionsBoundary", &PERMISSIONS_BOUNDARY, optional;
    }
}

string_input! {
    PathPrefixInput { path_prefix: "PathPrefix" as "pathPrefix", &PATH_PREFIX, optional; }
}

string_input! {
    UpdateUserInput {
        user_name: "UserName" as "userName", &USER_NAME, required;
        new_user_name: "NewUserName" as "newUserName", &USER_NAME, optional;
        new_path: "NewPath" as "newPath", &PATH, optional;
    }
}

string_input! {
    AccessKeyInput {
        user_name: "UserName" as "userName", &USER_NAME, optional;
        access_key_id: "AccessKeyId" as "accessKeyId", &ACCESS_KEY_ID, required;
    }
}

string_input! {
    UpdateAccessKeyInput {
        user_name: "UserName" as "userName", &USER_NAME, optional;
        access_key_id: "AccessKeyId" as "accessKeyId", &ACCESS_KEY_ID, required;
        status: "Status" as "status", &ENUM_TEXT, required;
    }
}

string_input! {
    GroupNameInput { group_name: "GroupName" as "groupName", &GROUP_NAME, required; }
}

string_input! {
    CreateGroupInput {
        group_name: "GroupName" as "groupName", &GROUP_NAME, required;
        path: "Path" as "path", &PATH, optional;
    }
}

string_input! {
    GroupMemberInput {
        group_name: "GroupName" as "groupName", &GROUP_NAME, required;
        user_name: "UserName" as "userName", &USER_NAME, required;
    }
}

string_input! {
    PutUserPolicyInput {
        user_name: "UserName" as "userName", &USER_NAME, required;
        policy_name: "PolicyName" as "policyName", &POLICY_NAME, required;
        policy_document: "PolicyDocument" as "policyDocument", &POLICY_DOCUMENT, required;
    }
}

string_input! {
    UserPolicyInput {
        user_name: "UserName" as "userName", &USER_NAME, required;
        policy_name: "PolicyName" as "policyName", &POLICY_NAME, required;
    }
}

string_input! {
    PutGroupPolicyInput {
        group_name: "GroupName" as "groupName", &GROUP_NAME, required;
        policy_name: "PolicyName" as "policyName", &POLICY_NAME, required;
        policy_document: "PolicyDocument" as "policyDocument", &POLICY_DOCUMENT, required;
    }
}

string_input! {
    GroupPolicyInput {
        group_name: "GroupName" as "groupName", &GROUP_NAME, required;
        policy_name: "PolicyName" as "policyName", &POLICY_NAME, required;
    }
}

string_input! {
    CreatePolicyInput {
        policy_name: "PolicyName" as "policyName", &POLICY_NAME, required;
        path: "Path" as "path", &PATH, optional;
        policy_document: "PolicyDocument" as "policyDocument", &POLICY_DOCUMENT, required;
        description: "Description" as "description", &POLICY_DESCRIPTION, optional;
    }
}

string_input! {
    PolicyArnInput { policy_arn: "PolicyArn" as "policyArn", &ARN, required; }
}

string_input! {
    PolicyVersionInput {
        policy_arn: "PolicyArn" as "policyArn", &ARN, required;
        version_id: "VersionId" as "versionId", &VERSION_ID, required;
    }
}

string_input! {
    ListPoliciesInput {
        scope: "Scope" as "scope", &ENUM_TEXT, optional;
        only_attached: "OnlyAttached" as "onlyAttached", &ENUM_TEXT, optional;
        path_prefix: "PathPrefix" as "pathPrefix", &PATH_PREFIX, optional;
        policy_usage_filter: "PolicyUsageFilter" as "policyUsageFilter", &ENUM_TEXT, optional;
    }
}

string_input! {
    CreatePolicyVersionInput {
        policy_arn: "PolicyArn" as "policyArn", &ARN, required;
        policy_document: "PolicyDocument" as "policyDocument", &POLICY_DOCUMENT, required;
        set_as_default: "SetAsDefault" as "setAsDefault", &ENUM_TEXT, optional;
    }
}

string_input! {
    ListEntitiesForPolicyInput {
        policy_arn: "PolicyArn" as "policyArn", &ARN, required;
        entity_filter: "EntityFilter" as "entityFilter", &ENUM_TEXT, optional;
        path_prefix: "PathPrefix" as "pathPrefix", &PATH_PREFIX, optional;
    }
}

string_input! {
    UserPolicyAttachmentInput {
        user_name: "UserName" as "userName", &USER_NAME, required;
        policy_arn: "PolicyArn" as "policyArn", &ARN, required;
    }
}

string_input! {
    GroupPolicyAttachmentInput {
        group_name: "GroupName" as "groupName", &GROUP_NAME, required;
        policy_arn: "PolicyArn" as "policyArn", &ARN, required;
    }
}

string_input! {
    RolePolicyAttachmentInput {
        role_name: "RoleName" as "roleName", &super::ROLE_NAME, required;
        policy_arn: "PolicyArn" as "policyArn", &ARN, required;
    }
}

string_input! {
    ListAttachedUserPoliciesInput {
        user_name: "UserName" as "userName", &USER_NAME, required;
        path_prefix: "PathPrefix" as "pathPrefix", &PATH_PREFIX, optional;
    }
}

string_input! {
    ListAttachedGroupPoliciesInput {
        group_name: "GroupName" as "groupName", &GROUP_NAME, required;
        path_prefix: "PathPrefix" as "pathPrefix", &PATH_PREFIX, optional;
    }
}

string_input! {
    ListAttachedRolePoliciesInput {
        role_name: "RoleName" as "roleName", &super::ROLE_NAME, required;
        path_prefix: "PathPrefix" as "pathPrefix", &PATH_PREFIX, optional;
    }
}

string_input! {
    UserBoundaryInput {
        user_name: "UserName" as "userName", &USER_NAME, required;
        permissions_boundary: "PermissionsBoundary" as "permissionsBoundary", &PERMISSIONS_BOUNDARY, required;
    }
}

string_input! {
    RoleBoundaryInput {
        role_name: "RoleName" as "roleName", &super::ROLE_NAME, required;
        permissions_boundary: "PermissionsBoundary" as "permissionsBoundary", &PERMISSIONS_BOUNDARY, required;
    }
}

/// A boolean member as awsQuery sends it (`true` / `false`); anything else is a type error.
pub(in crate::iam) fn flag(
    value: Option<&str>,
    member: &str,
) -> Result<bool, tegata_core::iam::IamError> {
    match value {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(tegata_core::iam::IamError::Validation(format!(
            "1 validation error detected: Value '{other}' at '{member}' failed to satisfy \
             constraint: Member must be a boolean"
        ))),
    }
}

/// An enumerated member: one of `allowed`, or IAM's enum violation message.
pub(in crate::iam) fn one_of<'a>(
    value: Option<&'a str>,
    member: &str,
    allowed: &[&'a str],
) -> Result<Option<&'a str>, tegata_core::iam::IamError> {
    match value {
        None => Ok(None),
        Some(v) if allowed.contains(&v) => Ok(Some(v)),
        Some(v) => Err(tegata_core::iam::IamError::Validation(format!(
            "1 validation error detected: Value '{v}' at '{member}' failed to satisfy \
             constraint: Member must satisfy enum value set: [{}]",
            allowed.join(", ")
        ))),
    }
}

// --- outputs ----------------------------------------------------------------------------------

fn boundary_member(xml: &mut Xml, boundary: Option<&str>) {
    if let Some(arn) = boundary {
        // AWS answers "Policy", although the model's enum says PermissionsBoundaryPolicy.
        xml.open("PermissionsBoundary")
            .element("PermissionsBoundaryType", "Policy")
            .element("PermissionsBoundaryArn", arn)
            .close("PermissionsBoundary");
    }
}

fn user_members(xml: &mut Xml, user: &User, account_id: &str, full: bool) {
    xml.element("Path", &user.path)
        .element("UserName", &user.user_name)
        .element("UserId", &user.user_id)
        .element("Arn", &user.arn(account_id))
        .element("CreateDate", &aws_query::timestamp(user.created_at));
    // ListUsers and GetGroup leave out tags and the boundary, as AWS does.
    if full {
        boundary_member(xml, user.permissions_boundary.as_deref());
        if !user.tags.is_empty() {
            tag_members(xml, &user.tags);
        }
    }
}

/// `<User>`: CreateUser's and GetUser's result.
pub(in crate::iam) struct UserOutput {
    pub user: User,
    pub account_id: String,
}

impl XmlOutput for UserOutput {
    fn write(&self, xml: &mut Xml) {
        xml.open("User");
        user_members(xml, &self.user, &self.account_id, true);
        xml.close("User");
    }
}

fn users_list(xml: &mut Xml, users: &[User], account_id: &str) {
    xml.open("Users");
    for user in users {
        xml.open("member");
        user_members(xml, user, account_id, false);
        xml.close("member");
    }
    xml.close("Users");
}

pub(in crate::iam) struct ListUsersOutput {
    pub page: Page<User>,
    pub account_id: String,
}

impl XmlOutput for ListUsersOutput {
    fn write(&self, xml: &mut Xml) {
        users_list(xml, &self.page.items, &self.account_id);
        truncation(xml, &self.page);
    }
}

fn status(key: &AccessKeyRecord) -> &'static str {
    if key.active { "Active" } else { "Inactive" }
}

/// CreateAccessKey's result: the one time the secret is shown.
pub(in crate::iam) struct CreateAccessKeyOutput {
    pub key: AccessKeyRecord,
    pub secret: String,
}

impl XmlOutput for CreateAccessKeyOutput {
    fn write(&self, xml: &mut Xml) {
        xml.open("AccessKey")
            .element("UserName", &self.key.user_name)
            .element("AccessKeyId", &self.key.access_key_id)
            .element("Status", status(&self.key))
            .element("SecretAccessKey", &self.secret)
            .element("CreateDate", &aws_query::timestamp(self.key.created_at))
            .close("AccessKey");
    }
}

pub(in crate::iam) struct ListAccessKeysOutput(pub Vec<AccessKeyRecord>);

impl XmlOutput for ListAccessKeysOutput {
    fn write(&self, xml: &mut Xml) {
        xml.open("AccessKeyMetadata");
        for key in &self.0 {
            xml.open("member")
                .element("UserName", &key.user_name)
                .element("AccessKeyId", &key.access_key_id)
                .element("Status", status(key))
                .element("CreateDate", &aws_query::timestamp(key.created_at))
                .close("member");
        }
        xml.close("AccessKeyMetadata")
            .element("IsTruncated", "false");
    }
}

pub(in crate::iam) struct GetAccessKeyLastUsedOutput(pub AccessKeyRecord);

impl XmlOutput for GetAccessKeyLastUsedOutput {
    fn write(&self, xml: &mut Xml) {
        xml.element("UserName", &self.0.user_name)
            .open("AccessKeyLastUsed");
        match &self.0.last_used {
            Some(used) => {
                xml.element("LastUsedDate", &aws_query::timestamp(used.at))
                    .element("ServiceName", &used.service)
                    .element("Region", &used.region);
            }
            // A key never used: no date, and "N/A" for both, as AWS answers.
            None => {
                xml.element("ServiceName", "N/A").element("Region", "N/A");
            }
        }
        xml.close("AccessKeyLastUsed");
    }
}

fn group_members(xml: &mut Xml, group: &Group, account_id: &str) {
    xml.element("Path", &group.path)
        .element("GroupName", &group.group_name)
        .element("GroupId", &group.group_id)
        .element("Arn", &group.arn(account_id))
        .element("CreateDate", &aws_query::timestamp(group.created_at));
}

pub(in crate::iam) struct GroupOutput {
    pub group: Group,
    pub account_id: String,
}

impl XmlOutput for GroupOutput {
    fn write(&self, xml: &mut Xml) {
        xml.open("Group");
        group_members(xml, &self.group, &self.account_id);
        xml.close("Group");
    }
}

pub(in crate::iam) struct GetGroupOutput {
    pub group: Group,
    pub users: Page<User>,
    pub account_id: String,
}

impl XmlOutput for GetGroupOutput {
    fn write(&self, xml: &mut Xml) {
        xml.open("Group");
        group_members(xml, &self.group, &self.account_id);
        xml.close("Group");
        users_list(xml, &self.users.items, &self.account_id);
        truncation(xml, &self.users);
    }
}

/// ListGroups' and ListGroupsForUser's result.
pub(in crate::iam) struct ListGroupsOutput {
    pub page: Page<Group>,
    pub account_id: String,
}

impl XmlOutput for ListGroupsOutput {
    fn write(&self, xml: &mut Xml) {
        xml.open("Groups");
        for group in &self.page.items {
            xml.open("member");
            group_members(xml, group, &self.account_id);
            xml.close("member");
        }
        xml.close("Groups");
        truncation(xml, &self.page);
    }
}

/// GetUserPolicy's and GetGroupPolicy's result.
pub(in crate::iam) struct InlinePolicyOutput {
    pub kind: EntityKind,
    pub entity: String,
    pub policy_name: String,
    pub document: String,
}

impl XmlOutput for InlinePolicyOutput {
    fn write(&self, xml: &mut Xml) {
        let member = match self.kind {
            EntityKind::User => "UserName",
            EntityKind::Group => "GroupName",
            EntityKind::Role => "RoleName",
        };
        xml.element(member, &self.entity)
            .element("PolicyName", &self.policy_name)
            .element(
                "PolicyDocument",
                &aws_query::url_encode_policy(&self.document),
            );
    }
}

/// Which members of a managed policy an answer has: CreatePolicy leaves out the description,
/// ListPolicies the description and tags; GetPolicy has both, tags even when empty.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(in crate::iam) enum PolicyView {
    Created,
    Listed,
    Full,
}

fn policy_members(xml: &mut Xml, info: &PolicyInfo, view: PolicyView) {
    let p = &info.policy;
    xml.element("PolicyName", &p.policy_name)
        .element("PolicyId", &p.policy_id)
        .element("Arn", &p.arn)
        .element("Path", &p.path)
        .element("DefaultVersionId", &p.default_version)
        .element("AttachmentCount", &info.attachment_count.to_string())
        .element(
            "PermissionsBoundaryUsageCount",
            &info.boundary_usage_count.to_string(),
        )
        .element("IsAttachable", "true");
    if view == PolicyView::Full {
        xml.optional("Description", p.description.as_deref());
    }
    xml.element("CreateDate", &aws_query::timestamp(p.created_at))
        .element("UpdateDate", &aws_query::timestamp(p.updated_at));
    match view {
        PolicyView::Full => tag_members(xml, &p.tags),
        PolicyView::Created if !p.tags.is_empty() => tag_members(xml, &p.tags),
        _ => {}
    }
}

pub(in crate::iam) struct PolicyOutput {
    pub info: PolicyInfo,
    pub view: PolicyView,
}

impl XmlOutput for PolicyOutput {
    fn write(&self, xml: &mut Xml) {
        xml.open("Policy");
        policy_members(xml, &self.info, self.view);
        xml.close("Policy");
    }
}

pub(in crate::iam) struct ListPoliciesOutput(pub Page<PolicyInfo>);

impl XmlOutput for ListPoliciesOutput {
    fn write(&self, xml: &mut Xml) {
        xml.open("Policies");
        for info in &self.0.items {
            xml.open("member");
            policy_members(xml, info, PolicyView::Listed);
            xml.close("member");
        }
        xml.close("Policies");
        truncation(xml, &self.0);
    }
}

fn version_members(xml: &mut Xml, version: &PolicyVersion, with_document: bool) {
    if with_document {
        xml.element("Document", &aws_query::url_encode_policy(&version.document));
    }
    xml.element("VersionId", &version.version_id)
        .element(
            "IsDefaultVersion",
            if version.is_default { "true" } else { "false" },
        )
        .element("CreateDate", &aws_query::timestamp(version.created_at));
}

/// CreatePolicyVersion's result (no document) and GetPolicyVersion's (with it).
pub(in crate::iam) struct PolicyVersionOutput {
    pub version: PolicyVersion,
    pub with_document: bool,
}

impl XmlOutput for PolicyVersionOutput {
    fn write(&self, xml: &mut Xml) {
        xml.open("PolicyVersion");
        version_members(xml, &self.version, self.with_document);
        xml.close("PolicyVersion");
    }
}

pub(in crate::iam) struct ListPolicyVersionsOutput(pub Vec<PolicyVersion>);

impl XmlOutput for ListPolicyVersionsOutput {
    fn write(&self, xml: &mut Xml) {
        xml.open("Versions");
        for version in &self.0 {
            xml.open("member");
            version_members(xml, version, false);
            xml.close("member");
        }
        xml.close("Versions").element("IsTruncated", "false");
    }
}

pub(in crate::iam) struct AttachedPoliciesOutput(pub Page<AttachedPolicy>);

impl XmlOutput for AttachedPoliciesOutput {
    fn write(&self, xml: &mut Xml) {
        xml.open("AttachedPolicies");
        for policy in &self.0.items {
            xml.open("member")
                .element("PolicyName", &policy.policy_name)
                .element("PolicyArn", &policy.arn)
                .close("member");
        }
        xml.close("AttachedPolicies");
        truncation(xml, &self.0);
    }
}

/// ListEntitiesForPolicy: the three lists, each written even when empty.
pub(in crate::iam) struct EntitiesForPolicyOutput(pub Vec<PolicyEntity>);

impl XmlOutput for EntitiesForPolicyOutput {
    fn write(&self, xml: &mut Xml) {
        for (list, kind, name, id) in [
            ("PolicyGroups", EntityKind::Group, "GroupName", "GroupId"),
            ("PolicyUsers", EntityKind::User, "UserName", "UserId"),
            ("PolicyRoles", EntityKind::Role, "RoleName", "RoleId"),
        ] {
            xml.open(list);
            for entity in self.0.iter().filter(|e| e.kind == kind) {
                xml.open("member")
                    .element(name, &entity.name)
                    .element(id, &entity.id)
                    .close("member");
            }
            xml.close(list);
        }
        xml.element("IsTruncated", "false");
    }
}

// --- the policy simulator -----------------------------------------------------------------------

static CONTEXT_KEY_NAME: Text = Text::new(5, 256);
static ACTION_NAME: Text = Text::new(3, 128);
static RESOURCE_NAME: Text = Text::new(1, 2048);
const CONTEXT_KEY_TYPES: &[&str] = &[
    "string",
    "stringList",
    "numeric",
    "numericList",
    "boolean",
    "booleanList",
    "ip",
    "ipList",
    "binary",
    "binaryList",
    "date",
    "dateList",
];

/// One `ContextEntries` member.
pub(in crate::iam) struct ContextEntry {
    pub name: Option<String>,
    pub values: Vec<String>,
    pub key_type: Option<String>,
}

/// SimulatePrincipalPolicy's and SimulateCustomPolicy's input.
pub(in crate::iam) struct SimulateInput {
    pub policy_source_arn: Option<String>,
    pub policy_inputs: Option<Vec<String>>,
    pub boundary_inputs: Option<Vec<String>>,
    pub action_names: Option<Vec<String>>,
    pub resource_arns: Option<Vec<String>>,
    pub resource_policy: Option<String>,
    pub context_entries: Vec<ContextEntry>,
    pub pagination: Pagination,
}

impl Decode<QueryParams> for SimulateInput {
    fn decode(p: QueryParams, v: &mut Violations) -> Result<Self, RequestError> {
        let context_entries = p
            .struct_list("ContextEntries")
            .unwrap_or_default()
            .into_iter()
            .map(|mut entry| {
                // `ContextKeyValues.member.M`, in the order of M.
                let mut values: Vec<(u32, String)> = entry
                    .iter()
                    .filter_map(|(field, value)| {
                        let n = field.strip_prefix("ContextKeyValues.member.")?;
                        Some((n.parse().ok()?, value.clone()))
                    })
                    .collect();
                values.sort();
                ContextEntry {
                    name: entry.remove("ContextKeyName"),
                    key_type: entry.remove("ContextKeyType"),
                    values: values.into_iter().map(|(_, value)| value).collect(),
                }
            })
            .collect();
        Ok(Self {
            policy_source_arn: p.owned("PolicySourceArn"),
            policy_inputs: decode_list(&p, "PolicyInputList"),
            boundary_inputs: decode_list(&p, "PermissionsBoundaryPolicyInputList"),
            action_names: decode_list(&p, "ActionNames"),
            resource_arns: decode_list(&p, "ResourceArns"),
            resource_policy: p.owned("ResourcePolicy"),
            context_entries,
            pagination: Pagination::decode(&p, v),
        })
    }
}

impl Validate for SimulateInput {
    fn validate(&self, v: &mut Violations) {
        v.text("policySourceArn", self.policy_source_arn.as_deref(), &ARN);
        v.required("actionNames", &self.action_names);
        for action in self.action_names.iter().flatten() {
            v.text("actionNames", Some(action), &ACTION_NAME);
        }
        for resource in self.resource_arns.iter().flatten() {
            v.text("resourceArns", Some(resource), &RESOURCE_NAME);
        }
        for policy in self
            .policy_inputs
            .iter()
            .chain(&self.boundary_inputs)
            .flatten()
        {
            v.text("policyInputList", Some(policy), &POLICY_DOCUMENT);
        }
        for entry in &self.context_entries {
            v.text("contextEntries", entry.name.as_deref(), &CONTEXT_KEY_NAME);
        }
        self.pagination.validate(v);
    }
}

impl SimulateInput {
    /// The request for the domain; resource-based policies and unknown key types are refused.
    pub(in crate::iam) fn into_request(
        self,
    ) -> Result<tegata_core::iam::SimulationRequest, tegata_core::iam::IamError> {
        if self.resource_policy.is_some() {
            return Err(tegata_core::iam::IamError::InvalidInput(
                "tegata does not simulate resource-based policies.".to_owned(),
            ));
        }
        let mut context = tegata_policy::Context::new();
        for entry in self.context_entries {
            one_of(
                entry.key_type.as_deref(),
                "contextKeyType",
                CONTEXT_KEY_TYPES,
            )?;
            if let Some(name) = entry.name {
                context.insert_multi(&name, entry.values);
            }
        }
        Ok(tegata_core::iam::SimulationRequest {
            policy_inputs: self.policy_inputs.unwrap_or_default(),
            boundary_inputs: self.boundary_inputs.unwrap_or_default(),
            actions: self.action_names.unwrap_or_default(),
            resources: self.resource_arns.unwrap_or_default(),
            context,
        })
    }
}

fn matched_statements(xml: &mut Xml, matched: &[tegata_core::authz::MatchedStatement]) {
    xml.open("MatchedStatements");
    for statement in matched {
        xml.open("member")
            .element("SourcePolicyId", &statement.source_id)
            // What AWS sends for identity-based policies, whatever the model's enum says.
            .element("SourcePolicyType", "IAM Policy");
        for (tag, position) in [
            ("StartPosition", statement.start),
            ("EndPosition", statement.end),
        ] {
            if let Some(p) = position {
                xml.open(tag)
                    .element("Line", &p.line.to_string())
                    .element("Column", &p.column.to_string())
                    .close(tag);
            }
        }
        xml.close("member");
    }
    xml.close("MatchedStatements");
}

fn decision_name(verdict: tegata_core::authz::Verdict) -> &'static str {
    match verdict {
        tegata_core::authz::Verdict::Allowed => "allowed",
        tegata_core::authz::Verdict::ExplicitDeny(_) => "explicitDeny",
        tegata_core::authz::Verdict::ImplicitDeny(_) => "implicitDeny",
    }
}

pub(in crate::iam) struct SimulationOutput {
    pub results: Page<tegata_core::iam::SimulationResult>,
    /// Whether the request named resources: then each result has its resource-specific part.
    pub named_resources: bool,
}

impl XmlOutput for SimulationOutput {
    fn write(&self, xml: &mut Xml) {
        xml.open("EvaluationResults");
        for result in &self.results.items {
            let s = &result.simulation;
            let decision = decision_name(s.verdict);
            xml.open("member")
                .element("EvalActionName", &result.action)
                .element("EvalResourceName", &result.resource)
                .element("EvalDecision", decision);
            matched_statements(xml, &s.matched);
            xml.open("MissingContextValues");
            for key in &s.missing_context {
                xml.element("member", key);
            }
            xml.close("MissingContextValues");
            if let Some(allowed) = s.allowed_by_boundary {
                xml.open("PermissionsBoundaryDecisionDetail")
                    .element(
                        "AllowedByPermissionsBoundary",
                        if allowed { "true" } else { "false" },
                    )
                    .close("PermissionsBoundaryDecisionDetail");
            }
            if self.named_resources {
                xml.open("EvalDecisionDetails")
                    .close("EvalDecisionDetails")
                    .open("ResourceSpecificResults")
                    .open("member")
                    .element("EvalResourceName", &result.resource)
                    .element("EvalResourceDecision", decision);
                matched_statements(xml, &s.matched);
                xml.open("MissingContextValues");
                for key in &s.missing_context {
                    xml.element("member", key);
                }
                xml.close("MissingContextValues")
                    .close("member")
                    .close("ResourceSpecificResults");
            }
            xml.close("member");
        }
        xml.close("EvaluationResults");
        truncation(xml, &self.results);
    }
}
