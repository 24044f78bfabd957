//! IAM over awsQuery: roles and their inline policies.

use axum::response::Response;
use tegata_core::iam::{CreateRoleInput, Role};
use tegata_policy::has_only_policy_characters;

use crate::aws_query::{self, QueryError, QueryParams, Xml};
use crate::query::{self, QueryService};
use crate::validate::{Violations, is_word};
use crate::{AppState, RawRequest};

macro_rules! operations {
    ($($name:ident;)*) => {
        /// The IAM operations tegata answers; other IAM actions get `NotImplemented`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Operation { $($name,)* Other }

        impl Operation {
            pub fn from_name(name: &str) -> Option<Self> {
                match name {
                    $(stringify!($name) => Some(Operation::$name),)*
                    other if KNOWN_UNIMPLEMENTED.contains(&other) => Some(Operation::Other),
                    _ => None,
                }
            }
        }
    };
}

operations! {
    CreateRole;
    GetRole;
    ListRoles;
    UpdateRole;
    UpdateAssumeRolePolicy;
    DeleteRole;
    PutRolePolicy;
    GetRolePolicy;
    DeleteRolePolicy;
    ListRolePolicies;
}

/// IAM actions that exist but tegata does not implement (answered `NotImplemented`, not
/// `InvalidAction`).
const KNOWN_UNIMPLEMENTED: &[&str] = &[
    "AttachRolePolicy",
    "CreateAccessKey",
    "CreateOpenIDConnectProvider",
    "CreatePolicy",
    "CreateUser",
    "DeleteAccessKey",
    "DeleteUser",
    "DetachRolePolicy",
    "GetUser",
    "ListAccessKeys",
    "ListAttachedRolePolicies",
    "ListUsers",
    "TagRole",
    "UntagRole",
];

const NAMESPACE: &str = "https://iam.amazonaws.com/doc/2010-05-08/";
const NAME_PATTERN: &str = r"[\w+=,.@-]+";

fn is_name_char(c: char) -> bool {
    is_word(c) || "+=,.@-".contains(c)
}

fn check_name(v: &mut Violations, member: &str, value: Option<&str>, max: usize) {
    v.required(member, &value);
    if let Some(name) = value {
        v.length(member, name, 1, max, false);
        v.pattern(
            member,
            name,
            NAME_PATTERN,
            !name.is_empty() && name.chars().all(is_name_char),
        );
    }
}

/// `RoleName` and `PolicyName`, the members every inline-policy operation has.
fn role_and_policy_names<'a>(v: &mut Violations, params: &'a QueryParams) -> (&'a str, &'a str) {
    let role_name = params.get("RoleName");
    check_name(v, "roleName", role_name, 64);
    let policy_name = params.get("PolicyName");
    check_name(v, "policyName", policy_name, 128);
    (
        role_name.unwrap_or_default(),
        policy_name.unwrap_or_default(),
    )
}

fn check_document(v: &mut Violations, member: &str, value: Option<&str>) {
    v.required(member, &value);
    if let Some(doc) = value {
        v.length(member, doc, 1, 131_072, false);
        v.pattern(
            member,
            doc,
            r"[\u0009\u000A\u000D\u0020-\u00FF]+",
            has_only_policy_characters(doc),
        );
    }
}

/// `/` or `/segment/…/`, printable ASCII.
fn is_path(path: &str) -> bool {
    path == "/"
        || (path.len() >= 2
            && path.starts_with('/')
            && path.ends_with('/')
            && path.chars().all(|c| ('\u{21}'..='\u{7E}').contains(&c)))
}

fn role_xml(xml: &mut Xml, role: &Role, account_id: &str) {
    xml.element("Path", &role.path)
        .element("RoleName", &role.role_name)
        .element("RoleId", &role.role_id)
        .element("Arn", &role.arn(account_id))
        .element("CreateDate", &aws_query::timestamp(role.created_at))
        .element(
            "AssumeRolePolicyDocument",
            &aws_query::url_encode_policy(&role.assume_role_policy_document),
        )
        .optional("Description", role.description.as_deref())
        .element("MaxSessionDuration", &role.max_session_duration.to_string());
    if !role.tags.is_empty() {
        xml.open("Tags");
        for (key, value) in &role.tags {
            xml.open("member")
                .element("Key", key)
                .element("Value", value)
                .close("member");
        }
        xml.close("Tags");
    }
}

/// `<Role>…</Role>`, the result of CreateRole and GetRole.
fn single_role(role: &Role, account_id: &str) -> Xml {
    let mut xml = Xml::new();
    xml.open("Role");
    role_xml(&mut xml, role, account_id);
    xml.close("Role");
    xml
}

fn pagination(v: &mut Violations, params: &QueryParams) -> u32 {
    if let Some(marker) = params.get("Marker") {
        v.length("marker", marker, 1, 320, false);
    }
    v.integer("maxItems", params.get("MaxItems"), 1, 1000)
        .unwrap_or(100) as u32
}

fn truncation(xml: &mut Xml, next: Option<String>) {
    xml.element("IsTruncated", if next.is_some() { "true" } else { "false" })
        .optional("Marker", next.as_deref());
}

pub async fn execute(
    state: &AppState,
    action: &str,
    params: &QueryParams,
    raw: &RawRequest,
    request_id: &str,
) -> Result<Response, QueryError> {
    let operation = Operation::from_name(action).expect("dispatched by name");
    let caller = query::require_caller(state, raw, QueryService::Iam, request_id).await?;
    if caller.is_session() {
        return Err(QueryError::new(
            "AccessDenied",
            http::StatusCode::FORBIDDEN,
            format!(
                "User: {} is not authorized to perform: iam:{action} because no identity-based policy allows the iam:{action} action",
                caller.principal.arn
            ),
        ));
    }
    let iam = &state.iam;
    let account = iam.account_id().to_owned();
    let fail = |e| query::domain_error(request_id, e);
    let now = state.clock.now().unix_timestamp();
    let mut v = Violations::new();
    let role_name = params.get("RoleName");

    let result = match operation {
        Operation::Other => return Err(query::not_implemented(QueryService::Iam, action)),
        Operation::CreateRole => {
            check_name(&mut v, "roleName", role_name, 64);
            let path = params.get("Path");
            if let Some(path) = path {
                v.length("path", path, 1, 512, false);
                v.pattern(
                    "path",
                    path,
                    r"(\u002F)|(\u002F[\u0021-\u007E]+\u002F)",
                    is_path(path),
                );
            }
            let document = params.get("AssumeRolePolicyDocument");
            check_document(&mut v, "assumeRolePolicyDocument", document);
            let description = params.get("Description");
            if let Some(d) = description {
                v.length("description", d, 0, 1000, false);
            }
            let max = v.integer(
                "maxSessionDuration",
                params.get("MaxSessionDuration"),
                3600,
                43200,
            );
            let tags: Vec<(String, String)> = params
                .struct_list("Tags")
                .into_iter()
                .map(|t| {
                    (
                        t.get("Key").cloned().unwrap_or_default(),
                        t.get("Value").cloned().unwrap_or_default(),
                    )
                })
                .collect();
            v.count("tags", tags.len(), 0, 50);
            for (key, value) in &tags {
                v.length("tags.member.key", key, 1, 128, false);
                v.length("tags.member.value", value, 0, 256, false);
            }
            query::validation(v)?;
            let role = iam
                .create_role(
                    CreateRoleInput {
                        role_name: role_name.unwrap_or_default().to_owned(),
                        path: path.map(str::to_owned),
                        assume_role_policy_document: document.unwrap_or_default().to_owned(),
                        description: description.map(str::to_owned),
                        max_session_duration: max,
                        tags,
                    },
                    now,
                    &*state.rng,
                )
                .await
                .map_err(fail)?;
            Some(single_role(&role, &account))
        }
        Operation::GetRole => {
            check_name(&mut v, "roleName", role_name, 64);
            query::validation(v)?;
            let role = iam
                .get_role(role_name.unwrap_or_default())
                .await
                .map_err(fail)?;
            let mut xml = Xml::new();
            xml.open("Role");
            role_xml(&mut xml, &role, &account);
            xml.close("Role");
            Some(xml)
        }
        Operation::ListRoles => {
            let prefix = params.get("PathPrefix");
            if let Some(prefix) = prefix {
                v.length("pathPrefix", prefix, 1, 512, false);
                v.pattern(
                    "pathPrefix",
                    prefix,
                    r"\u002F[\u0021-\u007F]*",
                    prefix.starts_with('/'),
                );
            }
            let max = pagination(&mut v, params);
            query::validation(v)?;
            let page = iam
                .list_roles(prefix, params.get("Marker"), max)
                .await
                .map_err(fail)?;
            let mut xml = Xml::new();
            xml.open("Roles");
            for role in &page.items {
                xml.open("member");
                role_xml(&mut xml, role, &account);
                xml.close("member");
            }
            xml.close("Roles");
            truncation(&mut xml, page.next_token);
            Some(xml)
        }
        Operation::UpdateRole => {
            check_name(&mut v, "roleName", role_name, 64);
            let description = params.get("Description");
            if let Some(d) = description {
                v.length("description", d, 0, 1000, false);
            }
            let max = v.integer(
                "maxSessionDuration",
                params.get("MaxSessionDuration"),
                3600,
                43200,
            );
            query::validation(v)?;
            iam.update_role(
                role_name.unwrap_or_default(),
                description.map(str::to_owned),
                max,
            )
            .await
            .map_err(fail)?;
            Some(Xml::new())
        }
        Operation::UpdateAssumeRolePolicy => {
            check_name(&mut v, "roleName", role_name, 64);
            let document = params.get("PolicyDocument");
            check_document(&mut v, "policyDocument", document);
            query::validation(v)?;
            iam.update_assume_role_policy(
                role_name.unwrap_or_default(),
                document.unwrap_or_default().to_owned(),
            )
            .await
            .map_err(fail)?;
            None
        }
        Operation::DeleteRole => {
            check_name(&mut v, "roleName", role_name, 64);
            query::validation(v)?;
            iam.delete_role(role_name.unwrap_or_default())
                .await
                .map_err(fail)?;
            None
        }
        Operation::PutRolePolicy => {
            let (role_name, policy_name) = role_and_policy_names(&mut v, params);
            let document = params.get("PolicyDocument");
            check_document(&mut v, "policyDocument", document);
            query::validation(v)?;
            iam.put_role_policy(
                role_name,
                policy_name,
                document.unwrap_or_default().to_owned(),
            )
            .await
            .map_err(fail)?;
            None
        }
        Operation::GetRolePolicy => {
            let (role_name, policy_name) = role_and_policy_names(&mut v, params);
            query::validation(v)?;
            let document = iam
                .get_role_policy(role_name, policy_name)
                .await
                .map_err(fail)?;
            let mut xml = Xml::new();
            xml.element("RoleName", role_name)
                .element("PolicyName", policy_name)
                .element("PolicyDocument", &aws_query::url_encode_policy(&document));
            Some(xml)
        }
        Operation::DeleteRolePolicy => {
            let (role_name, policy_name) = role_and_policy_names(&mut v, params);
            query::validation(v)?;
            iam.delete_role_policy(role_name, policy_name)
                .await
                .map_err(fail)?;
            None
        }
        Operation::ListRolePolicies => {
            check_name(&mut v, "roleName", role_name, 64);
            let max = pagination(&mut v, params);
            query::validation(v)?;
            let page = iam
                .list_role_policies(role_name.unwrap_or_default(), params.get("Marker"), max)
                .await
                .map_err(fail)?;
            let mut xml = Xml::new();
            xml.open("PolicyNames");
            for name in &page.items {
                xml.element("member", name);
            }
            xml.close("PolicyNames");
            truncation(&mut xml, page.next_token);
            Some(xml)
        }
    };
    Ok(aws_query::ok(NAMESPACE, action, request_id, result))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert!(is_path("/"));
        assert!(is_path("/service-role/"));
        assert!(is_path("/a/b/"));
        assert!(!is_path("service-role/"));
        assert!(!is_path("/no-trailing"));
        assert!(!is_path("/with space/"));
    }
}
