//! Parsing and validating policy documents.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::condition::{Condition, parse_conditions};
use crate::{Principal, matching};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V2008_10_17,
    V2012_10_17,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// Where a document is used, which decides what it must and must not contain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    /// A role's trust policy (a resource policy on the role): every statement names a
    /// principal; `Resource` is not allowed.
    Trust,
    /// An identity policy (inline policy, session policy, a document given to the simulator):
    /// no principals; every statement names resources.
    Identity,
    /// A managed policy's version: an identity policy that must say `2012-10-17`.
    Managed,
}

/// `Principal` or `NotPrincipal`: `"*"`, or kinds mapped to identifiers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrincipalSpec {
    Anyone,
    Named(BTreeMap<String, Vec<String>>),
}

impl PrincipalSpec {
    pub fn matches(&self, principal: &Principal) -> bool {
        match self {
            PrincipalSpec::Anyone => !principal.exact,
            PrincipalSpec::Named(map) => map
                .get(&principal.kind)
                .is_some_and(|ids| ids.iter().any(|id| principal_id_matches(id, principal))),
        }
    }
}

fn principal_id_matches(id: &str, principal: &Principal) -> bool {
    if id == principal.id {
        return true;
    }
    if principal.exact {
        return false;
    }
    if id == "*" || principal.role.as_deref() == Some(id) {
        return true;
    }
    // `"AWS": "123456789012"` and `"AWS": "arn:aws:iam::123456789012:root"` stand for every
    // principal of that account.
    if principal.kind == "AWS"
        && let Some(account) = &principal.account
    {
        return id == account || id == format!("arn:aws:iam::{account}:root");
    }
    false
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub sid: Option<String>,
    pub effect: Effect,
    pub principal: Option<PrincipalSpec>,
    pub not_principal: Option<PrincipalSpec>,
    pub action: Option<Vec<String>>,
    pub not_action: Option<Vec<String>>,
    pub resource: Option<Vec<String>>,
    pub not_resource: Option<Vec<String>>,
    pub conditions: Vec<Condition>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyDocument {
    pub version: Version,
    pub id: Option<String>,
    pub statements: Vec<Statement>,
}

/// Why a document is refused. The text is IAM's `MalformedPolicyDocument` message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PolicyError(pub String);

fn err<T>(message: impl Into<String>) -> Result<T, PolicyError> {
    Err(PolicyError(message.into()))
}

/// The characters IAM allows in policy text: TAB, LF, CR and U+0020 to U+00FF.
pub fn has_only_policy_characters(text: &str) -> bool {
    text.chars()
        .all(|c| matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{FF}'))
}

impl PolicyDocument {
    /// The context keys the document reads: those its conditions test (lower-cased) and those
    /// its resources name as policy variables (`${aws:username}`), each once.
    pub fn context_keys(&self) -> Vec<&str> {
        let mut keys: Vec<&str> = Vec::new();
        for condition in self.statements.iter().flat_map(|s| &s.conditions) {
            if !keys.iter().any(|k| k.eq_ignore_ascii_case(&condition.key)) {
                keys.push(&condition.key);
            }
        }
        for resource in self
            .statements
            .iter()
            .flat_map(|s| s.resource.iter().chain(&s.not_resource).flatten())
        {
            let mut rest = resource.as_str();
            while let Some((_, after)) = rest.split_once("${") {
                let Some((name, tail)) = after.split_once('}') else {
                    break;
                };
                // `${*}`, `${?}` and `${$}` are escapes, not keys.
                if name.contains(':') && !keys.iter().any(|k| k.eq_ignore_ascii_case(name)) {
                    keys.push(name);
                }
                rest = tail;
            }
        }
        keys
    }
    /// Whether evaluating this document can depend on the request's condition keys: a
    /// condition, or a policy variable in a resource. Without either, an empty context gives
    /// the same answer as the full one.
    pub fn reads_context(&self) -> bool {
        self.statements.iter().any(|s| {
            !s.conditions.is_empty()
                || s.resource
                    .iter()
                    .chain(&s.not_resource)
                    .flatten()
                    .any(|r| r.contains("${"))
        })
    }

    /// What IAM checks of a trust policy it is given (CreateRole, UpdateAssumeRolePolicy),
    /// beyond [`Self::parse`]: only the actions of assuming a role. Not checked when a stored
    /// policy is read, so that a role saved before still works.
    pub fn check_trust_actions(&self) -> Result<(), PolicyError> {
        let actions = self
            .statements
            .iter()
            .flat_map(|s| s.action.iter().chain(&s.not_action).flatten());
        if actions.into_iter().all(|a| is_trust_action(a)) {
            Ok(())
        } else {
            err("AssumeRole policy may only specify STS AssumeRole actions.")
        }
    }

    /// Parse and validate a document for the given use.
    pub fn parse(text: &str, kind: PolicyKind) -> Result<Self, PolicyError> {
        if !has_only_policy_characters(text) {
            return err("Policy document contains characters outside the allowed range.");
        }
        // IAM words a JSON error differently for trust policies (iam-facts.md §4).
        let value: Value = serde_json::from_str(text).map_err(|_| {
            PolicyError(
                match kind {
                    PolicyKind::Trust => "This policy contains invalid Json",
                    _ => "Syntax errors in policy.",
                }
                .to_owned(),
            )
        })?;
        let Value::Object(top) = value else {
            return err("Syntax errors in policy.");
        };
        if kind != PolicyKind::Trust {
            crate::permission_checks::check_permission_policy(&top, kind == PolicyKind::Managed)?;
        }
        let mut version = Version::V2008_10_17;
        let mut id = None;
        let mut statements = None;
        for (key, value) in &top {
            match key.as_str() {
                "Version" => {
                    version = match value.as_str() {
                        Some("2012-10-17") => Version::V2012_10_17,
                        Some("2008-10-17") => Version::V2008_10_17,
                        _ => return err("The policy must contain a valid version string"),
                    }
                }
                "Id" => id = Some(string(value, "Id")?),
                "Statement" => statements = Some(value),
                other => {
                    return err(format!(
                        "Policy document contains an unknown element: {other}"
                    ));
                }
            }
        }
        let statements = match statements {
            Some(Value::Array(list)) => list.iter().collect::<Vec<_>>(),
            Some(object @ Value::Object(_)) => vec![object],
            _ => return err("Missing required field Statement"),
        };
        if statements.is_empty() {
            return err("Missing required field Statement");
        }
        let statements = statements
            .into_iter()
            .map(|s| parse_statement(s, kind))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            version,
            id,
            statements,
        })
    }
}

fn string(value: &Value, field: &str) -> Result<String, PolicyError> {
    value
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| PolicyError(format!("{field} must be a string.")))
}

/// A string or a non-empty list of strings.
fn string_list(value: &Value, field: &str) -> Result<Vec<String>, PolicyError> {
    match value {
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) if !items.is_empty() => {
            items.iter().map(|v| string(v, field)).collect()
        }
        _ => err(format!(
            "{field} must be a string or a non-empty list of strings."
        )),
    }
}

fn parse_principal(value: &Value, field: &str) -> Result<PrincipalSpec, PolicyError> {
    match value {
        Value::String(s) if s == "*" => Ok(PrincipalSpec::Anyone),
        Value::Object(map) if !map.is_empty() => {
            let mut out = BTreeMap::new();
            for (kind, ids) in map {
                if !matches!(
                    kind.as_str(),
                    "AWS" | "Federated" | "Service" | "CanonicalUser"
                ) {
                    return err(format!("Invalid principal in policy: \"{kind}\""));
                }
                let ids = string_list(ids, field)?;
                if ids.iter().any(String::is_empty) {
                    return err("Invalid principal in policy");
                }
                out.insert(kind.clone(), ids);
            }
            Ok(PrincipalSpec::Named(out))
        }
        _ => err(format!(
            "Invalid principal in policy: {field} must be \"*\" or an object."
        )),
    }
}

fn parse_actions(value: &Value, field: &str) -> Result<Vec<String>, PolicyError> {
    let actions = string_list(value, field)?;
    for action in &actions {
        if action != "*" && !matching::is_action_pattern(action) {
            return err(format!(
                "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc. (got \"{action}\")"
            ));
        }
    }
    Ok(actions)
}

/// Whether a trust policy may name `action`: the ways of assuming a role and what goes with
/// them (session tags, source identity, context), or a wildcard over STS.
fn is_trust_action(action: &str) -> bool {
    const TRUST_ACTIONS: [&str; 6] = [
        "assumerole",
        "assumerolewithsaml",
        "assumerolewithwebidentity",
        "tagsession",
        "setsourceidentity",
        "setcontext",
    ];
    if action == "*" {
        return true;
    }
    let Some((service, name)) = action.split_once(':') else {
        return false;
    };
    let name = name.to_ascii_lowercase();
    service.eq_ignore_ascii_case("sts")
        && (name.contains('*') || name.contains('?') || TRUST_ACTIONS.contains(&name.as_str()))
}

fn parse_statement(value: &Value, kind: PolicyKind) -> Result<Statement, PolicyError> {
    let Value::Object(map) = value else {
        return err("Syntax errors in policy.");
    };
    let mut statement = Statement {
        sid: None,
        effect: Effect::Allow,
        principal: None,
        not_principal: None,
        action: None,
        not_action: None,
        resource: None,
        not_resource: None,
        conditions: Vec::new(),
    };
    let mut effect = None;
    for (key, value) in map {
        match key.as_str() {
            "Sid" => statement.sid = Some(string(value, "Sid")?),
            "Effect" => {
                effect = Some(match value.as_str() {
                    Some("Allow") => Effect::Allow,
                    Some("Deny") => Effect::Deny,
                    _ => return err("Invalid effect: Effect must be Allow or Deny."),
                })
            }
            "Principal" => statement.principal = Some(parse_principal(value, "Principal")?),
            "NotPrincipal" => {
                statement.not_principal = Some(parse_principal(value, "NotPrincipal")?)
            }
            "Action" => statement.action = Some(parse_actions(value, "Action")?),
            "NotAction" => statement.not_action = Some(parse_actions(value, "NotAction")?),
            "Resource" => statement.resource = Some(string_list(value, "Resource")?),
            "NotResource" => statement.not_resource = Some(string_list(value, "NotResource")?),
            "Condition" => statement.conditions = parse_conditions(value)?,
            other => return err(format!("Statement contains an unknown element: {other}")),
        }
    }
    statement.effect =
        effect.ok_or_else(|| PolicyError("Missing required field Effect".to_owned()))?;
    match (&statement.action, &statement.not_action) {
        (None, None) => return err("Missing required field Action"),
        (Some(_), Some(_)) => return err("Statement may not contain both Action and NotAction."),
        _ => {}
    }
    if statement.principal.is_some() && statement.not_principal.is_some() {
        return err("Statement may not contain both Principal and NotPrincipal.");
    }
    if statement.resource.is_some() && statement.not_resource.is_some() {
        return err("Statement may not contain both Resource and NotResource.");
    }
    let names_principal = statement.principal.is_some() || statement.not_principal.is_some();
    let names_resource = statement.resource.is_some() || statement.not_resource.is_some();
    match kind {
        PolicyKind::Trust => {
            if !names_principal {
                return err("Missing required field Principal");
            }
            if names_resource {
                return err("Has prohibited field Resource");
            }
        }
        PolicyKind::Identity | PolicyKind::Managed => {
            if names_principal {
                return err("Policy document should not specify a principal.");
            }
            if !names_resource {
                return err("Policy statement must contain resources.");
            }
        }
    }
    Ok(statement)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_as_object_or_list() {
        let one = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}"#;
        let list = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":["*"]}]}"#;
        assert_eq!(
            PolicyDocument::parse(one, PolicyKind::Identity)
                .unwrap()
                .statements,
            PolicyDocument::parse(list, PolicyKind::Identity)
                .unwrap()
                .statements
        );
    }

    #[test]
    fn malformed_documents_are_refused_with_iam_messages() {
        let cases = [
            ("not json", "Syntax errors in policy."),
            (r#"{"Version":"2012-10-17"}"#, "Syntax errors in policy."),
            (
                r#"{"Version":"2020-01-01","Statement":[]}"#,
                "Syntax errors in policy.",
            ),
            (
                r#"{"Statement":{"Action":"s3:*","Resource":"*"}}"#,
                "Syntax errors in policy.",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Resource":"*"}}"#,
                "Policy statement must contain actions.",
            ),
            (
                r#"{"Statement":{"Effect":"Permit","Action":"s3:*","Resource":"*"}}"#,
                "Syntax errors in policy.",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"s3:*"}}"#,
                "Policy statement must contain resources.",
            ),
            (
                r#"{"Statement":{"Effect":"Allow","Action":"GetObject","Resource":"*"}}"#,
                "Actions/Conditions must be prefaced by a vendor",
            ),
        ];
        for (text, message) in cases {
            let error = PolicyDocument::parse(text, PolicyKind::Identity).unwrap_err();
            assert!(error.0.starts_with(message), "{text}: {error}");
        }
        let trust_with_resource = r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole","Resource":"*"}}"#;
        assert_eq!(
            PolicyDocument::parse(trust_with_resource, PolicyKind::Trust)
                .unwrap_err()
                .0,
            "Has prohibited field Resource"
        );
        let trust_without_principal =
            r#"{"Statement":{"Effect":"Allow","Action":"sts:AssumeRole"}}"#;
        assert_eq!(
            PolicyDocument::parse(trust_without_principal, PolicyKind::Trust)
                .unwrap_err()
                .0,
            "Missing required field Principal"
        );
        assert!(PolicyDocument::parse("{\"Statement\":\"\u{263A}\"}", PolicyKind::Trust).is_err());
    }

    #[test]
    fn only_a_named_arn_matches_a_principal_by_its_own_arn() {
        use crate::Principal;
        let session = Principal::role_session(
            "arn:aws:sts::1:assumed-role/r/s",
            "arn:aws:iam::1:role/r",
            "1",
        );
        let exact = session.by_own_arn();
        let spec =
            |aws: &str| PrincipalSpec::Named([("AWS".to_owned(), vec![aws.to_owned()])].into());
        for (named, broad, own) in [
            ("*", true, false),
            ("1", true, false),
            ("arn:aws:iam::1:root", true, false),
            ("arn:aws:iam::1:role/r", true, false),
            ("arn:aws:sts::1:assumed-role/r/s", true, true),
            ("arn:aws:sts::1:assumed-role/r/other", false, false),
        ] {
            assert_eq!(spec(named).matches(&session), broad, "{named}");
            assert_eq!(spec(named).matches(&exact), own, "{named}");
        }
        assert!(PrincipalSpec::Anyone.matches(&session));
        assert!(!PrincipalSpec::Anyone.matches(&exact));
    }

    #[test]
    fn trust_policies_have_their_own_messages() {
        let trust = |action: &str| {
            format!(
                r#"{{"Version":"2012-10-17","Statement":{{"Effect":"Allow","Principal":{{"AWS":"1"}},"Action":{action}}}}}"#
            )
        };
        let message = |text: &str| {
            PolicyDocument::parse(text, PolicyKind::Trust)
                .and_then(|doc| doc.check_trust_actions())
                .err()
                .map(|e| e.0)
        };
        assert_eq!(
            message(r#"{"Version":"2012-10-17","Statement":[],}"#).as_deref(),
            Some("This policy contains invalid Json")
        );
        assert_eq!(
            message(&trust(r#""sts:InvalidAction""#)).as_deref(),
            Some("AssumeRole policy may only specify STS AssumeRole actions.")
        );
        assert_eq!(
            message(&trust(r#"["sts:AssumeRole","s3:GetObject"]"#)).as_deref(),
            Some("AssumeRole policy may only specify STS AssumeRole actions.")
        );
        assert!(
            PolicyDocument::parse(&trust(r#""s3:GetObject""#), PolicyKind::Trust).is_ok(),
            "a stored policy is read whatever its actions"
        );
        for allowed in [
            r#"["sts:AssumeRole","sts:TagSession","sts:SetSourceIdentity"]"#,
            r#""sts:AssumeRoleWithWebIdentity""#,
            r#""sts:*""#,
            r#""STS:assumerole""#,
        ] {
            assert_eq!(message(&trust(allowed)), None, "{allowed}");
        }
    }
}
