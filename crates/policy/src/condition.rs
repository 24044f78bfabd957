//! The `Condition` element: operators, `IfExists`, set qualifiers.

use std::net::IpAddr;

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Iso8601;

use crate::document::PolicyError;
use crate::matching::{self, Pat};
use crate::{Context, Version};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operator {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    BinaryEquals,
    IpAddress,
    NotIpAddress,
    ArnEquals,
    ArnLike,
    ArnNotEquals,
    ArnNotLike,
    Null,
}

impl Operator {
    fn parse(name: &str) -> Option<Self> {
        use Operator::*;
        Some(match name {
            "StringEquals" => StringEquals,
            "StringNotEquals" => StringNotEquals,
            "StringEqualsIgnoreCase" => StringEqualsIgnoreCase,
            "StringNotEqualsIgnoreCase" => StringNotEqualsIgnoreCase,
            "StringLike" => StringLike,
            "StringNotLike" => StringNotLike,
            "NumericEquals" => NumericEquals,
            "NumericNotEquals" => NumericNotEquals,
            "NumericLessThan" => NumericLessThan,
            "NumericLessThanEquals" => NumericLessThanEquals,
            "NumericGreaterThan" => NumericGreaterThan,
            "NumericGreaterThanEquals" => NumericGreaterThanEquals,
            "DateEquals" => DateEquals,
            "DateNotEquals" => DateNotEquals,
            "DateLessThan" => DateLessThan,
            "DateLessThanEquals" => DateLessThanEquals,
            "DateGreaterThan" => DateGreaterThan,
            "DateGreaterThanEquals" => DateGreaterThanEquals,
            "Bool" => Bool,
            "BinaryEquals" => BinaryEquals,
            "IpAddress" => IpAddress,
            "NotIpAddress" => NotIpAddress,
            "ArnEquals" => ArnEquals,
            "ArnLike" => ArnLike,
            "ArnNotEquals" => ArnNotEquals,
            "ArnNotLike" => ArnNotLike,
            "Null" => Null,
            _ => return None,
        })
    }

    /// Negated operators are true when the key is absent, and a list of values is an AND of
    /// the negations.
    /// The operators whose values are dates.
    pub(crate) fn is_date(self) -> bool {
        use Operator::*;
        matches!(
            self,
            DateEquals
                | DateNotEquals
                | DateLessThan
                | DateLessThanEquals
                | DateGreaterThan
                | DateGreaterThanEquals
        )
    }

    fn positive(self) -> Option<Operator> {
        use Operator::*;
        Some(match self {
            StringNotEquals => StringEquals,
            StringNotEqualsIgnoreCase => StringEqualsIgnoreCase,
            StringNotLike => StringLike,
            NumericNotEquals => NumericEquals,
            DateNotEquals => DateEquals,
            NotIpAddress => IpAddress,
            ArnNotEquals => ArnEquals,
            ArnNotLike => ArnLike,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetQualifier {
    ForAnyValue,
    ForAllValues,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub operator: Operator,
    pub qualifier: Option<SetQualifier>,
    pub if_exists: bool,
    /// The condition key, lower-cased (keys are case-insensitive).
    pub key: String,
    pub values: Vec<String>,
}

fn value_text(v: &Value) -> Result<String, PolicyError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        _ => Err(PolicyError(
            "Condition values must be strings, numbers or booleans.".to_owned(),
        )),
    }
}

pub(crate) fn parse_conditions(value: &Value) -> Result<Vec<Condition>, PolicyError> {
    let Value::Object(operators) = value else {
        return Err(PolicyError("Syntax errors in policy.".to_owned()));
    };
    let mut out = Vec::new();
    for (name, keys) in operators {
        let (qualifier, rest) = if let Some(rest) = name.strip_prefix("ForAnyValue:") {
            (Some(SetQualifier::ForAnyValue), rest)
        } else if let Some(rest) = name.strip_prefix("ForAllValues:") {
            (Some(SetQualifier::ForAllValues), rest)
        } else {
            (None, name.as_str())
        };
        let (base, if_exists) = match rest.strip_suffix("IfExists") {
            Some(base) => (base, true),
            None => (rest, false),
        };
        let operator = Operator::parse(base)
            .filter(|op| !(if_exists && *op == Operator::Null))
            .ok_or_else(|| PolicyError(format!("Invalid Condition type : {name}")))?;
        let Value::Object(keys) = keys else {
            return Err(PolicyError("Syntax errors in policy.".to_owned()));
        };
        for (key, values) in keys {
            let values = match values {
                Value::Array(items) => items.iter().map(value_text).collect::<Result<_, _>>()?,
                single => vec![value_text(single)?],
            };
            if operator == Operator::Null && values.iter().any(|v| v != "true" && v != "false") {
                return Err(PolicyError(
                    "The Null condition takes the values \"true\" or \"false\".".to_owned(),
                ));
            }
            out.push(Condition {
                operator,
                qualifier,
                if_exists,
                key: key.to_ascii_lowercase(),
                values,
            });
        }
    }
    Ok(out)
}

impl Condition {
    pub fn evaluate(&self, version: Version, ctx: &Context) -> bool {
        let request = ctx.get(&self.key).filter(|values| !values.is_empty());
        if self.operator == Operator::Null {
            // "true" asks for the key to be absent, "false" for it to be present.
            let absent = request.is_none();
            return self.values.iter().any(|v| (v == "true") == absent);
        }
        let policy_values: Vec<Vec<Pat>> = self
            .values
            .iter()
            .filter_map(|v| matching::substitute(v, version, ctx))
            .collect();
        match (self.qualifier, request) {
            (Some(SetQualifier::ForAnyValue), None) => false,
            (Some(SetQualifier::ForAllValues), None) => true,
            (None, None) => self.if_exists || self.operator.positive().is_some(),
            (Some(SetQualifier::ForAnyValue), Some(values)) => {
                values.iter().any(|v| self.single(v, &policy_values))
            }
            (Some(SetQualifier::ForAllValues), Some(values)) => {
                values.iter().all(|v| self.single(v, &policy_values))
            }
            // A multi-valued key without a qualifier: any value may satisfy the condition.
            (None, Some(values)) => values.iter().any(|v| self.single(v, &policy_values)),
        }
    }

    /// One request value against the policy's values: any matches (OR), or for a negated
    /// operator none matches (AND of the negations).
    fn single(&self, request: &str, policy: &[Vec<Pat>]) -> bool {
        match self.operator.positive() {
            Some(positive) => !policy.iter().any(|p| compare(positive, request, p)),
            None => policy.iter().any(|p| compare(self.operator, request, p)),
        }
    }
}

fn number(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok()
}

/// Whether a condition value is a date IAM accepts (the date operators' values).
pub(crate) fn is_date_value(s: &str) -> bool {
    date(s).is_some()
}

/// ISO 8601 dates and times, or epoch seconds.
fn date(s: &str) -> Option<i128> {
    let s = s.trim();
    if let Ok(seconds) = s.parse::<i64>() {
        return Some(i128::from(seconds) * 1_000_000_000);
    }
    if let Ok(t) = OffsetDateTime::parse(s, &Iso8601::DEFAULT) {
        return Some(t.unix_timestamp_nanos());
    }
    if let Ok(d) = time::Date::parse(
        s,
        &time::macros::format_description!("[year]-[month]-[day]"),
    ) {
        return Some(d.midnight().assume_utc().unix_timestamp_nanos());
    }
    None
}

fn cidr_contains(cidr: &str, ip: &str) -> bool {
    let Ok(ip) = ip.trim().parse::<IpAddr>() else {
        return false;
    };
    let (network, bits) = match cidr.trim().split_once('/') {
        Some((n, b)) => (n, b.parse::<u32>().ok()),
        None => (cidr.trim(), None),
    };
    match (network.parse::<IpAddr>(), ip) {
        (Ok(IpAddr::V4(net)), IpAddr::V4(ip)) => {
            let bits = bits.unwrap_or(32).min(32);
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            u32::from(net) & mask == u32::from(ip) & mask
        }
        (Ok(IpAddr::V6(net)), IpAddr::V6(ip)) => {
            let bits = bits.unwrap_or(128).min(128);
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            u128::from(net) & mask == u128::from(ip) & mask
        }
        _ => false,
    }
}

/// ARN patterns match component by component (partition, service, region, account, resource);
/// the resource part may itself contain `:`.
fn arn_like(pattern: &[Pat], arn: &str) -> bool {
    let arn_parts: Vec<&str> = arn.splitn(6, ':').collect();
    let mut pattern_parts: Vec<Vec<Pat>> = vec![Vec::new()];
    for p in pattern {
        if *p == Pat::Lit(':') && pattern_parts.len() < 6 {
            pattern_parts.push(Vec::new());
        } else {
            pattern_parts.last_mut().expect("never empty").push(*p);
        }
    }
    arn_parts.len() == 6
        && pattern_parts.len() == 6
        && pattern_parts
            .iter()
            .zip(&arn_parts)
            .all(|(p, a)| matching::wildcard_match(p, a, false))
}

fn compare(operator: Operator, request: &str, policy: &[Pat]) -> bool {
    use Operator::*;
    let literal = || matching::literal(policy);
    match operator {
        StringEquals => request == literal(),
        StringEqualsIgnoreCase => request.to_lowercase() == literal().to_lowercase(),
        StringLike => matching::wildcard_match(policy, request, false),
        NumericEquals
        | NumericLessThan
        | NumericLessThanEquals
        | NumericGreaterThan
        | NumericGreaterThanEquals => match (number(request), number(&literal())) {
            (Some(r), Some(p)) => match operator {
                NumericEquals => r == p,
                NumericLessThan => r < p,
                NumericLessThanEquals => r <= p,
                NumericGreaterThan => r > p,
                _ => r >= p,
            },
            _ => false,
        },
        DateEquals
        | DateLessThan
        | DateLessThanEquals
        | DateGreaterThan
        | DateGreaterThanEquals => match (date(request), date(&literal())) {
            (Some(r), Some(p)) => match operator {
                DateEquals => r == p,
                DateLessThan => r < p,
                DateLessThanEquals => r <= p,
                DateGreaterThan => r > p,
                _ => r >= p,
            },
            _ => false,
        },
        Bool => request.eq_ignore_ascii_case(&literal()),
        BinaryEquals => request == literal(),
        IpAddress => cidr_contains(&literal(), request),
        ArnEquals | ArnLike => arn_like(policy, request),
        // Negated operators are evaluated through their positive form.
        StringNotEquals
        | StringNotEqualsIgnoreCase
        | StringNotLike
        | NumericNotEquals
        | DateNotEquals
        | NotIpAddress
        | ArnNotEquals
        | ArnNotLike
        | Null => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cond(json: &str) -> Condition {
        let mut all = parse_conditions(&serde_json::from_str(json).unwrap()).unwrap();
        assert_eq!(all.len(), 1);
        all.remove(0)
    }

    fn ctx(pairs: &[(&str, &[&str])]) -> Context {
        let mut c = Context::new();
        for (k, v) in pairs {
            c.insert_multi(k, v.iter().map(|s| s.to_string()).collect());
        }
        c
    }

    const V: Version = Version::V2012_10_17;

    #[test]
    fn set_qualifiers_follow_aws_semantics_for_missing_keys() {
        let any = cond(
            r#"{"ForAnyValue:StringLike":{"cognito-identity.amazonaws.com:amr":"authenticated"}}"#,
        );
        let all = cond(r#"{"ForAllValues:StringEquals":{"aws:TagKeys":["a","b"]}}"#);
        let empty = Context::new();
        assert!(
            !any.evaluate(V, &empty),
            "ForAnyValue over a missing key is false"
        );
        assert!(
            all.evaluate(V, &empty),
            "ForAllValues over a missing key is true"
        );
        let amr = ctx(&[(
            "cognito-identity.amazonaws.com:amr",
            &["authenticated", "login.x", "login.x:p:u"],
        )]);
        assert!(any.evaluate(V, &amr));
        let unauth = ctx(&[("cognito-identity.amazonaws.com:amr", &["unauthenticated"])]);
        assert!(!any.evaluate(V, &unauth));
        assert!(all.evaluate(V, &ctx(&[("aws:tagkeys", &["a"])])));
        assert!(!all.evaluate(V, &ctx(&[("aws:TagKeys", &["a", "c"])])));
    }

    #[test]
    fn negated_operators_and_if_exists() {
        let not_equals = cond(r#"{"StringNotEquals":{"aws:username":["a","b"]}}"#);
        assert!(
            not_equals.evaluate(V, &Context::new()),
            "absent key: negated is true"
        );
        assert!(!not_equals.evaluate(V, &ctx(&[("aws:username", &["a"])])));
        assert!(not_equals.evaluate(V, &ctx(&[("aws:username", &["c"])])));
        let equals = cond(r#"{"StringEquals":{"aws:username":"a"}}"#);
        assert!(
            !equals.evaluate(V, &Context::new()),
            "absent key: positive is false"
        );
        let if_exists = cond(r#"{"StringEqualsIfExists":{"aws:username":"a"}}"#);
        assert!(if_exists.evaluate(V, &Context::new()));
        assert!(!if_exists.evaluate(V, &ctx(&[("AWS:UserName", &["b"])])));
        let null = cond(r#"{"Null":{"aws:TokenIssueTime":"true"}}"#);
        assert!(null.evaluate(V, &Context::new()));
        assert!(!null.evaluate(V, &ctx(&[("aws:TokenIssueTime", &["x"])])));
    }

    #[test]
    fn typed_operators() {
        let c = ctx(&[
            ("n", &["10"]),
            ("d", &["2026-11-26T12:00:00Z"]),
            ("b", &["true"]),
            ("ip", &["203.0.113.7"]),
            (
                "arn",
                &["arn:aws:iam::123456789012:role/service-role/lambda_role"],
            ),
        ]);
        assert!(cond(r#"{"NumericLessThan":{"n":11}}"#).evaluate(V, &c));
        assert!(!cond(r#"{"NumericGreaterThan":{"n":"10"}}"#).evaluate(V, &c));
        assert!(cond(r#"{"DateGreaterThan":{"d":"2026-01-01T00:00:00Z"}}"#).evaluate(V, &c));
        assert!(cond(r#"{"DateLessThan":{"d":"1800000000"}}"#).evaluate(V, &c));
        assert!(cond(r#"{"Bool":{"b":true}}"#).evaluate(V, &c));
        assert!(cond(r#"{"IpAddress":{"ip":"203.0.113.0/24"}}"#).evaluate(V, &c));
        assert!(cond(r#"{"NotIpAddress":{"ip":"10.0.0.0/8"}}"#).evaluate(V, &c));
        assert!(
            cond(r#"{"ArnLike":{"arn":"arn:aws:iam::*:role/service-role/*"}}"#).evaluate(V, &c)
        );
        assert!(!cond(r#"{"ArnLike":{"arn":"arn:aws:iam::*:user/*"}}"#).evaluate(V, &c));
        assert!(cond(r#"{"StringEqualsIgnoreCase":{"b":"TRUE"}}"#).evaluate(V, &c));
    }

    #[test]
    fn unknown_operators_are_refused() {
        assert!(parse_conditions(&serde_json::json!({"StringSortOf": {"k": "v"}})).is_err());
        assert!(parse_conditions(&serde_json::json!({"NullIfExists": {"k": "true"}})).is_err());
        assert!(parse_conditions(&serde_json::json!({"Null": {"k": "maybe"}})).is_err());
    }
}
