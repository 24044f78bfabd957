//! The IAM policy language, without I/O: parse and validate policy documents, and evaluate them
//! against a request (principal, action, resource, condition keys).
//!
//! Semantics follow AWS's documentation (aws-api.md §5): statements as an object or a list;
//! `Principal`/`NotPrincipal`, `Action`/`NotAction`, `Resource`/`NotResource`; condition
//! operators with `IfExists` and the `ForAnyValue:`/`ForAllValues:` set qualifiers; policy
//! variables in `Resource` and condition values (version `2012-10-17` only); an explicit deny
//! beats an allow, which beats the implicit deny.

mod condition;
mod document;
mod matching;
mod permission_checks;
mod positions;

use std::collections::HashMap;

pub use condition::{Condition, Operator, SetQualifier};
pub use document::{
    Effect, PolicyDocument, PolicyError, PolicyKind, PrincipalSpec, Statement, Version,
    has_only_policy_characters,
};
pub use positions::{Position, statement_positions};

/// The caller as a policy's `Principal` element names it: a kind (`AWS`, `Federated`,
/// `Service`, `CanonicalUser`) and an identifier in that kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub kind: String,
    pub id: String,
    /// For `AWS` principals: the account they belong to, so `"AWS": "<account>"` and
    /// `"AWS": "arn:aws:iam::<account>:root"` match them.
    pub account: Option<String>,
    /// For an assumed role's session: the role's ARN, which a trust policy names to let in
    /// every session of that role.
    pub role: Option<String>,
    /// Match only a policy that names this principal's own ARN: not `*`, not its account, not
    /// its role ([`Principal::by_own_arn`]).
    pub exact: bool,
}

impl Principal {
    pub fn federated(id: &str) -> Self {
        Self {
            kind: "Federated".to_owned(),
            id: id.to_owned(),
            account: None,
            role: None,
            exact: false,
        }
    }

    pub fn aws(arn: &str, account: &str) -> Self {
        Self {
            kind: "AWS".to_owned(),
            id: arn.to_owned(),
            account: Some(account.to_owned()),
            role: None,
            exact: false,
        }
    }

    /// A session of the role `role_arn`, whose own ARN is `session_arn`.
    pub fn role_session(session_arn: &str, role_arn: &str, account: &str) -> Self {
        Self {
            role: Some(role_arn.to_owned()),
            ..Self::aws(session_arn, account)
        }
    }

    /// The same principal as named by its own ARN only: not by `*`, its account or its role.
    /// A trust policy that lets a principal in this way grants access by itself, without the
    /// principal's own policies (IAM's evaluation within one account).
    pub fn by_own_arn(&self) -> Self {
        Self {
            kind: self.kind.clone(),
            id: self.id.clone(),
            account: None,
            role: None,
            exact: true,
        }
    }
}

/// Condition keys of a request. Key names are case-insensitive; values keep their case. A key
/// may hold several values (`cognito-identity.amazonaws.com:amr`, `aws:TagKeys`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    values: HashMap<String, Vec<String>>,
}

impl Context {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn insert(&mut self, key: &str, value: impl Into<String>) -> &mut Self {
        self.values
            .insert(key.to_ascii_lowercase(), vec![value.into()]);
        self
    }

    pub fn insert_multi(&mut self, key: &str, values: Vec<String>) -> &mut Self {
        self.values.insert(key.to_ascii_lowercase(), values);
        self
    }

    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.values
            .get(&key.to_ascii_lowercase())
            .map(Vec::as_slice)
    }

    /// Every key (lower-cased) and its values, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.values.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// The single value of a key, as policy variables use it.
    pub fn single(&self, key: &str) -> Option<&str> {
        match self.get(key) {
            Some([one]) => Some(one),
            _ => None,
        }
    }
}

/// What is being asked.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// `None` for identity-based evaluation, where policies carry no `Principal`.
    pub principal: Option<&'a Principal>,
    pub action: &'a str,
    pub resource: &'a str,
    pub context: &'a Context,
}

/// The outcome of evaluating a set of policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// At least one statement allows and none denies.
    Allow,
    /// A statement explicitly denies.
    ExplicitDeny,
    /// Nothing applies: the implicit deny.
    NotApplicable,
}

/// Evaluate `policies` together: any applicable `Deny` wins, else any applicable `Allow`, else
/// the implicit deny.
pub fn evaluate<'p>(
    policies: impl IntoIterator<Item = &'p PolicyDocument>,
    request: &Request<'_>,
) -> Decision {
    let mut allowed = false;
    for policy in policies {
        for statement in &policy.statements {
            if statement.applies(policy.version, request) {
                match statement.effect {
                    Effect::Deny => return Decision::ExplicitDeny,
                    Effect::Allow => allowed = true,
                }
            }
        }
    }
    if allowed {
        Decision::Allow
    } else {
        Decision::NotApplicable
    }
}

/// How each element of a statement met a request: what explains a decision (tegata's
/// DecodeAuthorizationMessage), where [`Statement::applies`] only answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementTrace {
    pub principal: bool,
    pub action: bool,
    pub resource: bool,
    /// Whether each of the statement's conditions held, in its order.
    pub conditions: Vec<bool>,
}

impl StatementTrace {
    pub fn applies(&self) -> bool {
        self.principal && self.action && self.resource && self.conditions.iter().all(|c| *c)
    }
}

impl Statement {
    /// Whether this statement matches the request (its effect aside).
    pub fn applies(&self, version: Version, request: &Request<'_>) -> bool {
        self.principal_matches(request)
            && self.action_matches(request)
            && self.resource_matches(version, request)
            && self
                .conditions
                .iter()
                .all(|c| c.evaluate(version, request.context))
    }

    /// Every element checked, none skipped: slower than [`Self::applies`], for explanations.
    pub fn trace(&self, version: Version, request: &Request<'_>) -> StatementTrace {
        StatementTrace {
            principal: self.principal_matches(request),
            action: self.action_matches(request),
            resource: self.resource_matches(version, request),
            conditions: self
                .conditions
                .iter()
                .map(|c| c.evaluate(version, request.context))
                .collect(),
        }
    }

    fn principal_matches(&self, request: &Request<'_>) -> bool {
        match (&self.principal, &self.not_principal, request.principal) {
            (None, None, _) => true,
            (Some(spec), None, Some(p)) => spec.matches(p),
            (None, Some(spec), Some(p)) => !spec.matches(p),
            // A statement that names principals cannot apply to an evaluation without one.
            _ => false,
        }
    }

    fn action_matches(&self, request: &Request<'_>) -> bool {
        match (&self.action, &self.not_action) {
            (Some(list), _) => list
                .iter()
                .any(|a| matching::action_matches(a, request.action)),
            (None, Some(list)) => !list
                .iter()
                .any(|a| matching::action_matches(a, request.action)),
            (None, None) => false,
        }
    }

    fn resource_matches(&self, version: Version, request: &Request<'_>) -> bool {
        let matches = |pattern: &String| {
            matching::resource_pattern_matches(pattern, version, request.context, request.resource)
        };
        match (&self.resource, &self.not_resource) {
            (Some(list), _) => list.iter().any(matches),
            (None, Some(list)) => !list.iter().any(matches),
            // Trust policies carry no Resource: the role itself is the resource.
            (None, None) => true,
        }
    }
}
