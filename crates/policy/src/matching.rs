//! Wildcards (`*` any run, `?` one character) and policy variables (`${key}`,
//! `${key, 'default'}`, and the escapes `${*}`, `${?}`, `${$}`).
//!
//! Policy text comes from clients: nothing here slices a string or indexes a slice unchecked.
#![cfg_attr(not(test), deny(clippy::string_slice, clippy::indexing_slicing))]

use crate::{Context, Version};

/// One element of a pattern after variable substitution: a substituted value is always literal,
/// even when it contains `*`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pat {
    Lit(char),
    AnyRun,
    AnyOne,
}

/// Expand policy variables. `None` when a variable has no value and no default: the element
/// then matches nothing, as AWS specifies. Version 2008-10-17 has no variables.
pub(crate) fn substitute(pattern: &str, version: Version, ctx: &Context) -> Option<Vec<Pat>> {
    let mut out = Vec::with_capacity(pattern.len());
    let mut rest = pattern;
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        if version == Version::V2012_10_17
            && let Some((inner, after)) = rest
                .strip_prefix("${")
                .and_then(|variable| variable.split_once('}'))
        {
            out.extend(variable_value(inner, ctx)?.chars().map(Pat::Lit));
            rest = after;
            chars = rest.chars();
            continue;
        }
        out.push(match c {
            '*' => Pat::AnyRun,
            '?' => Pat::AnyOne,
            other => Pat::Lit(other),
        });
        rest = chars.as_str();
    }
    Some(out)
}

fn variable_value(inner: &str, ctx: &Context) -> Option<String> {
    match inner {
        "*" | "?" | "$" => return Some(inner.to_owned()),
        _ => {}
    }
    let (key, default) = match inner.split_once(',') {
        Some((key, default)) => {
            let default = default.trim();
            let default = default
                .strip_prefix('\'')
                .and_then(|d| d.strip_suffix('\''))
                .map(str::to_owned);
            (key.trim(), default)
        }
        None => (inner.trim(), None),
    };
    ctx.single(key).map(str::to_owned).or(default)
}

/// The text of a substituted pattern, wildcards written back as `*` and `?`.
pub(crate) fn literal(pattern: &[Pat]) -> String {
    pattern
        .iter()
        .map(|p| match p {
            Pat::Lit(c) => *c,
            Pat::AnyRun => '*',
            Pat::AnyOne => '?',
        })
        .collect()
}

/// Whole-string wildcard match (linear, with one backtracking point per `*`).
pub(crate) fn wildcard_match(pattern: &[Pat], text: &str, ignore_case: bool) -> bool {
    let text: Vec<char> = text.chars().collect();
    let eq = |a: char, b: char| {
        if ignore_case {
            a.to_lowercase().eq(b.to_lowercase())
        } else {
            a == b
        }
    };
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(Pat::AnyOne) => {
                p += 1;
                t += 1;
            }
            Some(Pat::Lit(c)) if text.get(t).is_some_and(|&x| eq(*c, x)) => {
                p += 1;
                t += 1;
            }
            Some(Pat::AnyRun) => {
                star = Some((p, t));
                p += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern
        .get(p..)
        .unwrap_or_default()
        .iter()
        .all(|x| *x == Pat::AnyRun)
}

fn plain(pattern: &str) -> Vec<Pat> {
    pattern
        .chars()
        .map(|c| match c {
            '*' => Pat::AnyRun,
            '?' => Pat::AnyOne,
            other => Pat::Lit(other),
        })
        .collect()
}

/// The same match as [`wildcard_match`] over ASCII text, where a byte is a character: no
/// allocation, which matters on the path every request takes.
fn ascii_wildcard_match(pattern: &[u8], text: &[u8], ignore_case: bool) -> bool {
    let eq = |a: u8, b: u8| {
        if ignore_case {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some(b'?') => {
                p += 1;
                t += 1;
            }
            Some(b'*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if text.get(t).is_some_and(|&x| eq(c, x)) => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    pattern
        .get(p..)
        .unwrap_or_default()
        .iter()
        .all(|x| *x == b'*')
}

/// Actions compare case-insensitively, with wildcards.
pub(crate) fn action_matches(pattern: &str, action: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    if pattern.is_ascii() && action.is_ascii() {
        return ascii_wildcard_match(pattern.as_bytes(), action.as_bytes(), true);
    }
    wildcard_match(&plain(pattern), action, true)
}

/// Whether a statement's resource pattern (policy variables expanded from `ctx`) matches
/// `resource`. A pattern without variables is matched as it stands.
pub(crate) fn resource_pattern_matches(
    pattern: &str,
    version: Version,
    ctx: &Context,
    resource: &str,
) -> bool {
    if pattern == "*" {
        return true;
    }
    let has_variables = version == Version::V2012_10_17 && pattern.contains("${");
    if !has_variables && pattern.is_ascii() && resource.is_ascii() {
        return ascii_wildcard_match(pattern.as_bytes(), resource.as_bytes(), false);
    }
    substitute(pattern, version, ctx).is_some_and(|p| resource_matches(&p, resource))
}

/// Resources compare case-sensitively, with wildcards (which may span `:` and `/`).
pub(crate) fn resource_matches(pattern: &[Pat], resource: &str) -> bool {
    wildcard_match(pattern, resource, false)
}

/// `service:Action`, the service made of lower-case letters, digits and `-`.
pub(crate) fn is_action_pattern(action: &str) -> bool {
    action.split_once(':').is_some_and(|(service, name)| {
        !service.is_empty()
            && service
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '*')
            && !name.is_empty()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both matchers, which must agree on ASCII text.
    fn m(pattern: &str, text: &str) -> bool {
        let general = wildcard_match(&plain(pattern), text, false);
        if pattern.is_ascii() && text.is_ascii() {
            assert_eq!(
                ascii_wildcard_match(pattern.as_bytes(), text.as_bytes(), false),
                general,
                "{pattern} / {text}"
            );
        }
        general
    }

    proptest::proptest! {
        /// The allocation-free matcher is the general one on ASCII.
        #[test]
        fn the_ascii_matcher_agrees(pattern in "[ab*?:/]{0,12}", text in "[abAB:/]{0,12}") {
            for ignore_case in [false, true] {
                proptest::prop_assert_eq!(
                    ascii_wildcard_match(pattern.as_bytes(), text.as_bytes(), ignore_case),
                    wildcard_match(&plain(&pattern), &text, ignore_case)
                );
            }
        }
    }

    #[test]
    fn wildcards() {
        assert!(m("*", ""));
        assert!(m("a*c", "abbbc"));
        assert!(m("a?c", "abc"));
        assert!(!m("a?c", "ac"));
        assert!(m("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b"));
        assert!(!m("arn:aws:s3:::bucket/*", "arn:aws:s3:::other/a"));
        assert!(m("*a*b*", "xxaxxbxx"));
        assert!(!m("*a*b", "xxaxxbxx"));
        assert!(action_matches(
            "sts:AssumeRole*",
            "STS:assumerolewithwebidentity"
        ));
        assert!(!action_matches(
            "sts:AssumeRole",
            "sts:AssumeRoleWithWebIdentity"
        ));
    }

    #[test]
    fn variables() {
        let mut ctx = Context::new();
        ctx.insert("cognito-identity.amazonaws.com:sub", "us-east-1:abc");
        let p = substitute(
            "arn:aws:s3:::b/${cognito-identity.amazonaws.com:sub}/*",
            Version::V2012_10_17,
            &ctx,
        )
        .unwrap();
        assert!(resource_matches(&p, "arn:aws:s3:::b/us-east-1:abc/x"));
        assert!(!resource_matches(&p, "arn:aws:s3:::b/us-east-1:abd/x"));
        assert_eq!(
            substitute("${aws:username}", Version::V2012_10_17, &ctx),
            None
        );
        assert_eq!(
            literal(&substitute("${aws:username, 'nobody'}", Version::V2012_10_17, &ctx).unwrap()),
            "nobody"
        );
        // A literal `*` from `${*}` is not a wildcard.
        let star = substitute("a${*}", Version::V2012_10_17, &ctx).unwrap();
        assert!(resource_matches(&star, "a*"));
        assert!(!resource_matches(&star, "ab"));
        // Version 2008-10-17 has no variables.
        assert_eq!(
            literal(&substitute("${x}", Version::V2008_10_17, &ctx).unwrap()),
            "${x}"
        );
    }
}
