//! IAM's checks of a permission policy (an identity policy: inline, managed or a session's), in
//! the order AWS applies them and with its messages, as recorded from the real service
//! (iam-facts and the recordings behind them):
//!
//! 1. syntax: JSON with only the known elements, of the right types (`Syntax errors in policy.`);
//! 2. version: managed policies must say `2012-10-17`;
//! 3. "legacy parsing": an Effect in the wrong case, a date that is not one, an ARN of a valid
//!    partition with too few parts (`The policy failed legacy parsing`);
//! 4. statement ids unique; 5. every statement has actions; 6. and resources;
//! 7. resources are ARNs of a valid partition (with AWS's own messages for each way they are
//!    not); 8. actions are `vendor:Action`.
//!
//! The first failing check gives the message, so a document with several faults gets the one
//! AWS reports.
#![cfg_attr(not(test), deny(clippy::string_slice, clippy::indexing_slicing))]

use serde_json::{Map, Value};

use crate::PolicyError;
use crate::condition::{is_date_value, parse_conditions};

const SYNTAX: &str = "Syntax errors in policy.";
const LEGACY: &str = "The policy failed legacy parsing";

const STATEMENT_ELEMENTS: &[&str] = &[
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

/// AWS's partitions.
const PARTITIONS: &[&str] = &[
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-eusc",
];

const IAM_RESOURCE_TYPES: &[&str] = &[
    "user/",
    "federated-user/",
    "role/",
    "group/",
    "instance-profile/",
    "mfa/",
    "server-certificate/",
    "policy/",
    "sms-mfa/",
    "saml-provider/",
    "oidc-provider/",
    "report/",
    "access-report/",
];

fn fail<T>(message: impl Into<String>) -> Result<T, PolicyError> {
    Err(PolicyError(message.into()))
}

/// A string, or a list of strings (possibly empty): anything else is a syntax error.
fn strings(value: &Value) -> Result<Vec<&str>, PolicyError> {
    match value {
        Value::String(s) => Ok(vec![s.as_str()]),
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().ok_or_else(|| PolicyError(SYNTAX.to_owned())))
            .collect(),
        _ => fail(SYNTAX),
    }
}

/// The statements of the document, after the syntax check of the whole.
fn statements(top: &Map<String, Value>) -> Result<Vec<&Map<String, Value>>, PolicyError> {
    for (key, value) in top {
        match key.as_str() {
            "Version" => match value.as_str() {
                Some("2012-10-17" | "2008-10-17") => {}
                _ => return fail(SYNTAX),
            },
            "Id" if value.is_string() => {}
            "Statement" => {}
            _ => return fail(SYNTAX),
        }
    }
    let list: Vec<&Value> = match top.get("Statement") {
        Some(Value::Array(items)) if !items.is_empty() => items.iter().collect(),
        Some(object @ Value::Object(_)) => vec![object],
        _ => return fail(SYNTAX),
    };
    list.into_iter()
        .map(|s| s.as_object().ok_or_else(|| PolicyError(SYNTAX.to_owned())))
        .collect()
}

fn check_statement_syntax(statement: &Map<String, Value>) -> Result<(), PolicyError> {
    for (key, value) in statement {
        if !STATEMENT_ELEMENTS.contains(&key.as_str()) {
            return fail(SYNTAX);
        }
        match key.as_str() {
            "Sid" if !value.is_string() => return fail(SYNTAX),
            "Action" | "NotAction" | "Resource" | "NotResource" => {
                strings(value)?;
            }
            "Condition" => {
                parse_conditions(value).map_err(|_| PolicyError(SYNTAX.to_owned()))?;
            }
            _ => {}
        }
    }
    let effect = statement.get("Effect").and_then(Value::as_str);
    if !effect.is_some_and(|e| e.eq_ignore_ascii_case("allow") || e.eq_ignore_ascii_case("deny")) {
        return fail(SYNTAX);
    }
    let both = |a: &str, b: &str| statement.contains_key(a) && statement.contains_key(b);
    if both("Action", "NotAction") || both("Resource", "NotResource") {
        return fail(SYNTAX);
    }
    Ok(())
}

/// A resource that is not `*` read as an ARN: AWS replaces its first part with `arn` and pads
/// it to six parts with `*` when it names one in its messages.
struct ArnParts<'a> {
    parts: Vec<&'a str>,
}

impl<'a> ArnParts<'a> {
    fn of(resource: &'a str) -> Option<Self> {
        resource.contains(':').then(|| Self {
            parts: resource.split(':').collect(),
        })
    }

    fn part(&self, n: usize) -> &'a str {
        self.parts.get(n).copied().unwrap_or("*")
    }

    fn partition_is_valid(&self) -> bool {
        let partition = self.part(1);
        partition == "*" || PARTITIONS.contains(&partition)
    }

    /// The resource as AWS writes it in the partition message.
    fn padded(&self) -> String {
        let mut parts: Vec<&str> = vec!["arn"];
        parts.extend(self.parts.iter().skip(1));
        while parts.len() < 6 {
            parts.push("*");
        }
        parts.join(":")
    }

    /// Too few parts, or no service, for an ARN of a valid partition: AWS's older parser
    /// refuses it. (Only the partition alone gets its own message.)
    fn fails_legacy_parsing(&self) -> bool {
        self.parts.len() >= 3 && (self.parts.len() < 6 || self.part(2).is_empty())
    }
}

fn resources_of(statement: &Map<String, Value>) -> Vec<&str> {
    ["Resource", "NotResource"]
        .iter()
        .filter_map(|key| statement.get(*key))
        .filter_map(|v| strings(v).ok())
        .flatten()
        .collect()
}

fn actions_of(statement: &Map<String, Value>) -> Vec<&str> {
    ["Action", "NotAction"]
        .iter()
        .filter_map(|key| statement.get(*key))
        .filter_map(|v| strings(v).ok())
        .flatten()
        .collect()
}

fn check_legacy(statement: &Map<String, Value>) -> Result<(), PolicyError> {
    if let Some(effect) = statement.get("Effect").and_then(Value::as_str)
        && effect != "Allow"
        && effect != "Deny"
    {
        return fail(LEGACY);
    }
    if let Some(conditions) = statement.get("Condition") {
        let conditions =
            parse_conditions(conditions).map_err(|_| PolicyError(SYNTAX.to_owned()))?;
        for condition in conditions {
            if condition.operator.is_date()
                && condition
                    .values
                    .iter()
                    .any(|v| !v.contains("${") && !is_date_value(v))
            {
                return fail(LEGACY);
            }
        }
    }
    for resource in resources_of(statement) {
        if let Some(arn) = ArnParts::of(resource)
            && arn.partition_is_valid()
            && arn.fails_legacy_parsing()
        {
            return fail(LEGACY);
        }
    }
    Ok(())
}

fn check_resource(resource: &str) -> Result<(), PolicyError> {
    if resource == "*" {
        return Ok(());
    }
    let Some(arn) = ArnParts::of(resource) else {
        return fail(format!(
            "Resource {resource} must be in ARN format or \"*\"."
        ));
    };
    if !arn.partition_is_valid() {
        return fail(format!(
            "Partition \"{}\" is not valid for resource \"{}\".",
            arn.part(1),
            arn.padded()
        ));
    }
    if arn.parts.len() < 3 {
        return fail("Resource vendor must be fully qualified and cannot contain regexes.");
    }
    let (service, region, rest) = (
        arn.part(2),
        arn.part(3),
        arn.parts.get(5..).unwrap_or_default().join(":"),
    );
    match service {
        "iam" => {
            if !region.is_empty() {
                return fail(format!(
                    "IAM resource {resource} cannot contain region information."
                ));
            }
            let allowed = rest == "*"
                || rest == "root"
                || rest.contains(['*', '?'])
                || rest.contains("${")
                || IAM_RESOURCE_TYPES.iter().any(|t| rest.starts_with(t));
            if !allowed {
                return fail(
                    "IAM resource path must either be \"*\", root, or start with user/, \
                     federated-user/, role/, group/, instance-profile/, mfa/, \
                     server-certificate/, policy/, sms-mfa/, saml-provider/, oidc-provider/, \
                     report/, access-report/.",
                );
            }
        }
        "s3" if !region.is_empty() && !region.contains(['*', '?']) => {
            return fail(format!(
                "Resource {resource} can not contain region information."
            ));
        }
        _ => {}
    }
    Ok(())
}

fn check_action(action: &str) -> Result<(), PolicyError> {
    if action == "*" {
        return Ok(());
    }
    let Some((vendor, name)) = action.split_once(':') else {
        return fail("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.");
    };
    if name.contains(':') {
        return fail("Actions/Condition can contain only one colon.");
    }
    let vendor_ok = !vendor.is_empty()
        && vendor
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '*' || c == '?');
    if !vendor_ok {
        return fail(format!("Vendor {vendor} is not valid"));
    }
    Ok(())
}

/// Run IAM's checks of a permission policy on its parsed JSON. `require_2012` is set for
/// managed policies, which must be written in version `2012-10-17`.
pub(crate) fn check_permission_policy(
    top: &Map<String, Value>,
    require_2012: bool,
) -> Result<(), PolicyError> {
    let statements = statements(top)?;
    for statement in &statements {
        check_statement_syntax(statement)?;
    }
    if require_2012 && top.get("Version").and_then(Value::as_str) != Some("2012-10-17") {
        return fail("Policy document must be version 2012-10-17 or greater.");
    }
    for statement in &statements {
        check_legacy(statement)?;
    }
    let mut sids: Vec<&str> = Vec::new();
    for sid in statements
        .iter()
        .filter_map(|s| s.get("Sid").and_then(Value::as_str))
        .filter(|sid| !sid.is_empty())
    {
        if sids.contains(&sid) {
            return fail("Statement IDs (SID) in a single policy must be unique.");
        }
        sids.push(sid);
    }
    if statements.iter().any(|s| actions_of(s).is_empty()) {
        return fail("Policy statement must contain actions.");
    }
    if statements.iter().any(|s| resources_of(s).is_empty()) {
        return fail("Policy statement must contain resources.");
    }
    for statement in &statements {
        for resource in resources_of(statement) {
            check_resource(resource)?;
        }
    }
    for statement in &statements {
        for action in actions_of(statement) {
            check_action(action)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::{PolicyDocument, PolicyKind};

    /// CreatePolicy's answers recorded from AWS for 78 malformed documents (the recordings of a
    /// public emulator's tests validated against AWS, 2026-02): each must get AWS's message.
    const RECORDED: &[(&str, &str)] = &[
        (
            r#"This is not a json document"#,
            r#"Syntax errors in policy."#,
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::example_bucket"}}"#,
            r#"Policy document must be version 2012-10-17 or greater."#,
        ),
        (
            r#"{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::example_bucket"}}"#,
            r#"Policy document must be version 2012-10-17 or greater."#,
        ),
        (
            r#"{"Version":"2013-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::example_bucket"}}"#,
            r#"Syntax errors in policy."#,
        ),
        (r#"{"Version":"2012-10-17"}"#, r#"Syntax errors in policy."#),
        (
            r#"{"Version":"2012-10-17","Statement":["afd"]}"#,
            r#"Syntax errors in policy."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::example_bucket"},"Extra field":"value"}"#,
            r#"Syntax errors in policy."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::example_bucket","Extra field":"value"}}"#,
            r#"Syntax errors in policy."#,
        ),
        (
            r#"{"Version":"2012-10-17","Id":["cd3a324d2343d942772346-34234234423404-4c2242343242349d1642ee"],"Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::example_bucket"}}"#,
            r#"Syntax errors in policy."#,
        ),
        (
            r#"{"Version":"2012-10-17","Id":{},"Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::example_bucket"}}"#,
            r#"Syntax errors in policy."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"invalid","Action":"s3:ListBucket","Resource":"arn:aws:s3:::example_bucket"}}"#,
            r#"Syntax errors in policy."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"invalid","Resource":"arn:aws:s3:::example_bucket"}}"#,
            r#"Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"","Resource":"arn:aws:s3:::example_bucket"}}"#,
            r#"Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"a a:ListBucket","Resource":"arn:aws:s3:::example_bucket"}}"#,
            r#"Vendor a a is not valid"#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:List:Bucket","Resource":"arn:aws:s3:::example_bucket"}}"#,
            r#"Actions/Condition can contain only one colon."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3s:ListBucket","Resource":"arn:aws:s3:::example_bucket"},{"Effect":"Allow","Action":"s:3s:ListBucket","Resource":"arn:aws:s3:::example_bucket"}]}"#,
            r#"Actions/Condition can contain only one colon."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"invalid resource"}}"#,
            r#"Resource invalid resource must be in ARN format or "*"."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"EnableDisableHongKong","Effect":"Allow","Action":["account:EnableRegion","account:DisableRegion"],"Resource":"","Condition":{"StringEquals":{"account:TargetRegion":"ap-east-1"}}},{"Sid":"ViewConsole","Effect":"Allow","Action":["aws-portal:ViewAccount","account:ListRegions"],"Resource":""}]}"#,
            r#"Resource  must be in ARN format or "*"."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s:3:ListBucket","Resource":"sdfsadf"}}"#,
            r#"Resource sdfsadf must be in ARN format or "*"."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":["adf"]}}"#,
            r#"Resource adf must be in ARN format or "*"."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":""}}"#,
            r#"Resource  must be in ARN format or "*"."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"s3s:ListBucket","Resource":"a:bsdfdsafsad"}}"#,
            r#"Partition "bsdfdsafsad" is not valid for resource "arn:bsdfdsafsad:*:*:*:*"."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"s3s:ListBucket","Resource":"a:b:cadfsdf"}}"#,
            r#"Partition "b" is not valid for resource "arn:b:cadfsdf:*:*:*"."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"s3s:ListBucket","Resource":"a:b:c:d:e:f:g:h"}}"#,
            r#"Partition "b" is not valid for resource "arn:b:c:d:e:f:g:h"."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"aws:s3:::example_bucket"}}"#,
            r#"Partition "s3" is not valid for resource "arn:s3:::example_bucket:*"."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":["arn:error:s3:::example_bucket","arn:error:s3::example_bucket"]}}"#,
            r#"Partition "error" is not valid for resource "arn:error:s3:::example_bucket"."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[]}"#,
            r#"Syntax errors in policy."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket"}}"#,
            r#"Policy statement must contain resources."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":[]}}"#,
            r#"Policy statement must contain resources."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"invalid"}}"#,
            r#"Policy statement must contain resources."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Resource":"arn:aws:s3:::example_bucket"}}"#,
            r#"Policy statement must contain actions."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Action":"s3:ListBucket","Resource":"arn:aws:s3:::example_bucket"}}"#,
            r#"Syntax errors in policy."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow"}}"#,
            r#"Policy statement must contain actions."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":[],"Resource":"arn:aws:s3:::example_bucket"}}"#,
            r#"Policy statement must contain actions."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Effect":"Deny"},{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::example_bucket"}]}"#,
            r#"Policy statement must contain actions."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:iam:::example_bucket"}}"#,
            r#"IAM resource path must either be "*", root, or start with user/, federated-user/, role/, group/, instance-profile/, mfa/, server-certificate/, policy/, sms-mfa/, saml-provider/, oidc-provider/, report/, access-report/."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3::example_bucket"}}"#,
            r#"The policy failed legacy parsing"#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Resource":"arn:aws:s3::example_bucket"}}"#,
            r#"The policy failed legacy parsing"#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws"}}"#,
            r#"Resource vendor must be fully qualified and cannot contain regexes."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":{"a":"arn:aws:s3:::example_bucket"}}}"#,
            r#"Syntax errors in policy."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"s3:ListBucket","Resource":["adfdf",{}]}}"#,
            r#"Syntax errors in policy."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"s3:ListBucket","Resource":"arn:aws:s3:::example_bucket","NotResource":[]}}"#,
            r#"Syntax errors in policy."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":[[]],"Resource":"arn:aws:s3:::example_bucket"}}"#,
            r#"Syntax errors in policy."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"s3s:ListBucket","Action":[],"Resource":"arn:aws:s3:::example_bucket"}}"#,
            r#"Syntax errors in policy."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":{},"Resource":"arn:aws:s3:::example_bucket"}}"#,
            r#"Syntax errors in policy."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::example_bucket","Condition":[]}}"#,
            r#"Syntax errors in policy."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::example_bucket","Condition":"a"}}"#,
            r#"Syntax errors in policy."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::example_bucket","Condition":{"a":"b"}}}"#,
            r#"Syntax errors in policy."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::example_bucket","Condition":{"DateGreaterThan":"b"}}}"#,
            r#"Syntax errors in policy."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::example_bucket","Condition":{"DateGreaterThan":[]}}}"#,
            r#"Syntax errors in policy."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::example_bucket","Condition":{"DateGreaterThan":{"a":{}}}}}"#,
            r#"Syntax errors in policy."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Resource":"arn:aws:s3:::example_bucket","Condition":{"DateGreaterThan":{"a":{}}}}}"#,
            r#"Syntax errors in policy."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::example_bucket","Condition":{"x":{"a":"1"}}}}"#,
            r#"Syntax errors in policy."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::example_bucket","Condition":{"ForAnyValue::StringEqualsIfExists":{"a":"asf"}}}}"#,
            r#"Syntax errors in policy."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::example_bucket","Condition":[{"ForAllValues:StringEquals":{"aws:TagKeys":"Department"}}]}}"#,
            r#"Syntax errors in policy."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:iam:us-east-1::example_bucket"}}"#,
            r#"IAM resource arn:aws:iam:us-east-1::example_bucket cannot contain region information."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:us-east-1::example_bucket"}}"#,
            r#"Resource arn:aws:s3:us-east-1::example_bucket can not contain region information."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Sid":{},"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::example_bucket"}}"#,
            r#"Syntax errors in policy."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Sid":[],"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::example_bucket"}}"#,
            r#"Syntax errors in policy."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"sdf","Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::example_bucket"},{"Sid":"sdf","Effect":"Allow"}]}"#,
            r#"Statement IDs (SID) in a single policy must be unique."#,
        ),
        (
            r#"{"Statement":[{"Sid":"sdf","Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::example_bucket"},{"Sid":"sdf","Effect":"Allow"}]}"#,
            r#"Policy document must be version 2012-10-17 or greater."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"s3:ListBucket","Action":"iam:dsf","Resource":"arn:aws:s3:::example_bucket"}}"#,
            r#"Syntax errors in policy."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::example_bucket","NotResource":"*"}}"#,
            r#"Syntax errors in policy."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"denY","Action":"s3:ListBucket","Resource":"arn:aws:s3:::example_bucket"}}"#,
            r#"The policy failed legacy parsing"#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::example_bucket","Condition":{"DateGreaterThan":{"a":"sdfdsf"}}}}"#,
            r#"The policy failed legacy parsing"#,
        ),
        (
            r#"{"Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::example_bucket","Condition":{"DateGreaterThan":{"a":"sdfdsf"}}}}"#,
            r#"Policy document must be version 2012-10-17 or greater."#,
        ),
        (
            r#"{"Statement":{"Effect":"denY","Action":"s3:ListBucket","Resource":"arn:aws:s3:::example_bucket"}}"#,
            r#"Policy document must be version 2012-10-17 or greater."#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Condition":{"DateGreaterThan":{"a":"sdfdsf"}}}}"#,
            r#"The policy failed legacy parsing"#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":"s3:ListBucket","Resource":"arn:aws::::example_bucket"}}"#,
            r#"The policy failed legacy parsing"#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"allow","Resource":"arn:aws:s3:us-east-1::example_bucket"}}"#,
            r#"The policy failed legacy parsing"#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":[{"Sid":"sdf","Effect":"aLLow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::example_bucket"},{"Sid":"sdf","Effect":"Allow"}]}"#,
            r#"The policy failed legacy parsing"#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","NotResource":"arn:aws:s3::example_bucket"}}"#,
            r#"The policy failed legacy parsing"#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::example_bucket","Condition":{"DateLessThanEquals":{"a":"234-13"}}}}"#,
            r#"The policy failed legacy parsing"#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::example_bucket","Condition":{"DateLessThanEquals":{"a":"2016-12-13t2:00:00.593194+1"}}}}"#,
            r#"The policy failed legacy parsing"#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::example_bucket","Condition":{"DateLessThanEquals":{"a":"2016-12-13t2:00:00.1999999999+10:59"}}}}"#,
            r#"The policy failed legacy parsing"#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::example_bucket","Condition":{"DateLessThan":{"a":"9223372036854775808"}}}}"#,
            r#"The policy failed legacy parsing"#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:error:s3:::example_bucket","Condition":{"DateGreaterThan":{"a":"sdfdsf"}}}}"#,
            r#"The policy failed legacy parsing"#,
        ),
        (
            r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws::fdsasf"}}"#,
            r#"The policy failed legacy parsing"#,
        ),
    ];

    #[test]
    fn malformed_managed_policies_get_the_messages_aws_gives() {
        let mut wrong = Vec::new();
        for (n, (document, message)) in RECORDED.iter().enumerate() {
            match PolicyDocument::parse(document, PolicyKind::Managed) {
                Err(e) if e.0 == *message => {}
                other => wrong.push(format!("case {n}: {other:?} instead of {message}")),
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn inline_policies_may_leave_out_the_version() {
        let document = r#"{"Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}"#;
        assert!(PolicyDocument::parse(document, PolicyKind::Identity).is_ok());
        assert_eq!(
            PolicyDocument::parse(document, PolicyKind::Managed)
                .unwrap_err()
                .0,
            "Policy document must be version 2012-10-17 or greater."
        );
    }
}
