//! Shape constraints of the AWS service models, each declared once and both checked and quoted
//! from that declaration, reported the way AWS's front ends report them: `2 validation errors
//! detected: Value 'x' at 'identityPoolName' failed to satisfy constraint: Member must …; Value
//! null at …`.
//!
//! A pattern is the model's regular expression, in the model's (Java) syntax: the message quotes
//! it as written, and the check runs the same text, translated mechanically to the regex crate's
//! syntax (see [`Pattern`]), so what is quoted and what is checked cannot drift apart.
#![cfg_attr(not(test), deny(clippy::string_slice, clippy::indexing_slicing))]

use std::sync::OnceLock;

use regex::Regex;

/// AWS measures lengths in UTF-16 code units (Java strings).
pub fn aws_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// A regular expression of a service model.
pub struct Pattern {
    model: &'static str,
    compiled: OnceLock<Regex>,
}

impl Pattern {
    pub const fn new(model: &'static str) -> Self {
        Self {
            model,
            compiled: OnceLock::new(),
        }
    }

    /// The pattern as the model writes it (and as messages quote it).
    pub fn as_model(&self) -> &'static str {
        self.model
    }

    /// Whether all of `value` matches (Java's `String.matches` is anchored at both ends).
    pub fn matches(&self, value: &str) -> bool {
        self.compiled
            .get_or_init(|| {
                let translated = format!("^(?:{})$", translate_java_classes(self.model));
                // The patterns are constants of this crate, never input; each shapes module's
                // tests compile every one of its patterns.
                Regex::new(&translated).unwrap_or_else(|e| {
                    panic!("model pattern {} does not compile: {e}", self.model)
                })
            })
            .is_match(value)
    }
}

/// Java's `\w`, `\s`, `\S` and `\d` are ASCII-only, the regex crate's are Unicode: each becomes an
/// explicit class. A class nested in a class is a union in the regex crate, so the same text
/// works inside and outside brackets (`[\w+=]` becomes `[[0-9A-Za-z_]+=]`). Everything else in
/// the models' patterns (`\uXXXX`, `\p{L}`, ranges, `\-`) means the same in both syntaxes.
fn translate_java_classes(java: &str) -> String {
    let mut out = String::with_capacity(java.len() + 16);
    let mut chars = java.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('w') => out.push_str("[0-9A-Za-z_]"),
            Some('d') => out.push_str("[0-9]"),
            Some('s') => out.push_str(r"[\t\n\x0B\x0C\r ]"),
            Some('S') => out.push_str(r"[^\t\n\x0B\x0C\r ]"),
            Some(other) => {
                out.push('\\');
                out.push(other);
            }
            None => out.push('\\'),
        }
    }
    out
}

/// The constraints of a string member: length bounds, and a pattern when the model has one.
pub struct Text {
    pub min: usize,
    pub max: usize,
    pub pattern: Option<&'static Pattern>,
    /// A value that must never be echoed (tokens, user ids): reported without it.
    pub sensitive: bool,
}

impl Text {
    pub const fn new(min: usize, max: usize) -> Self {
        Self {
            min,
            max,
            pattern: None,
            sensitive: false,
        }
    }

    pub const fn pattern(mut self, pattern: &'static Pattern) -> Self {
        self.pattern = Some(pattern);
        self
    }

    pub const fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }
}

/// Collects constraint violations of one request.
#[derive(Debug, Default)]
pub struct Violations(Vec<String>);

impl Violations {
    pub fn new() -> Self {
        Self::default()
    }

    fn push(&mut self, value: Option<&str>, member: &str, constraint: &str) {
        let shown = match value {
            Some(v) => format!("Value '{v}'"),
            None => "Value null".to_owned(),
        };
        self.0.push(format!(
            "{shown} at '{member}' failed to satisfy constraint: {constraint}"
        ));
    }

    /// A violation reported without the value.
    fn push_redacted(&mut self, member: &str, constraint: &str) {
        self.0.push(format!(
            "Value at '{member}' failed to satisfy constraint: {constraint}"
        ));
    }

    pub fn required<T>(&mut self, member: &str, value: &Option<T>) {
        if value.is_none() {
            self.push(None, member, "Member must not be null");
        }
    }

    /// A required string member: present, and within `text`'s constraints.
    pub fn required_text(&mut self, member: &str, value: Option<&str>, text: &Text) {
        self.required(member, &value);
        self.text(member, value, text);
    }

    /// An optional string member: when present, within `text`'s constraints.
    pub fn text(&mut self, member: &str, value: Option<&str>, text: &Text) {
        let Some(value) = value else {
            return;
        };
        if let Some(constraint) = length_violation(value, text.min, text.max) {
            if text.sensitive {
                self.push_redacted(member, &constraint);
            } else {
                self.push(Some(value), member, &constraint);
            }
        }
        if let Some(pattern) = text.pattern
            && !pattern.matches(value)
        {
            let constraint = format!(
                "Member must satisfy regular expression pattern: {}",
                pattern.as_model()
            );
            if text.sensitive {
                self.push_redacted(member, &constraint);
            } else {
                self.push(Some(value), member, &constraint);
            }
        }
    }

    /// A list whose members must each satisfy `text`, reported as AWS reports such lists: once
    /// for the list, without the value, naming every constraint of its members, and "must not
    /// be null" when the model says so (UntagRole's `tagKeys`, CreateOpenIDConnectProvider's
    /// `clientIDList`; iam-facts.md §4).
    pub fn list_member_constraints<'a>(
        &mut self,
        member: &str,
        items: impl Iterator<Item = &'a String>,
        text: &Text,
        not_null: bool,
    ) {
        let fits = |item: &String| {
            length_violation(item, text.min, text.max).is_none()
                && text.pattern.is_none_or(|p| p.matches(item))
        };
        if items.into_iter().all(fits) {
            return;
        }
        let mut constraints = vec![
            format!("Member must have length less than or equal to {}", text.max),
            format!(
                "Member must have length greater than or equal to {}",
                text.min
            ),
        ];
        if let Some(pattern) = text.pattern {
            constraints.push(format!(
                "Member must satisfy regular expression pattern: {}",
                pattern.as_model()
            ));
        }
        if not_null {
            constraints.push("Member must not be null".to_owned());
        }
        self.push_redacted(
            member,
            &format!(
                "Member must satisfy constraint: [{}]",
                constraints.join(", ")
            ),
        );
    }

    /// Numeric bounds.
    pub fn range(&mut self, member: &str, value: Option<i64>, min: i64, max: i64) {
        let Some(value) = value else {
            return;
        };
        let constraint = if value < min {
            format!("Member must have value greater than or equal to {min}")
        } else if value > max {
            format!("Member must have value less than or equal to {max}")
        } else {
            return;
        };
        self.push(Some(&value.to_string()), member, &constraint);
    }

    /// A member of an enum: when present, one of `values` (the model's order, which the message
    /// quotes).
    pub fn one_of(&mut self, member: &str, value: Option<&str>, values: &[&str]) {
        if let Some(value) = value
            && !values.contains(&value)
        {
            let constraint = format!(
                "Member must satisfy enum value set: [{}]",
                values.join(", ")
            );
            self.push(Some(value), member, &constraint);
        }
    }

    /// A number that did not parse (awsQuery sends numbers as text).
    pub fn not_a_number(&mut self, member: &str, raw: &str) {
        self.push(Some(raw), member, "Member must be a number");
    }

    /// Number of entries of a list or map.
    pub fn count(&mut self, member: &str, count: usize, min: usize, max: usize) {
        let constraint = if count < min {
            format!("Member must have length greater than or equal to {min}")
        } else if count > max {
            format!("Member must have length less than or equal to {max}")
        } else {
            return;
        };
        self.push_redacted(member, &constraint);
    }

    /// Every key (`what` = `keys`) or value (`values`) of a map within `text`'s constraints; one
    /// violation names the first failing constraint, as AWS reports maps.
    pub fn map_entries<'a>(
        &mut self,
        member: &str,
        what: &str,
        items: impl Iterator<Item = &'a String>,
        text: &Text,
    ) {
        for item in items {
            let failed = length_violation(item, text.min, text.max).or_else(|| {
                let pattern = text.pattern?;
                (!pattern.matches(item)).then(|| {
                    format!(
                        "Member must satisfy regular expression pattern: {}",
                        pattern.as_model()
                    )
                })
            });
            if let Some(constraint) = failed {
                self.push_redacted(
                    member,
                    &format!("Map {what} must satisfy constraint: [{constraint}]"),
                );
                return;
            }
        }
    }

    /// Every entry of a list within `text`'s constraints (reported as the list's member).
    pub fn list_entries<'a>(
        &mut self,
        member: &str,
        items: impl Iterator<Item = &'a String>,
        text: &Text,
    ) {
        for item in items {
            self.text(member, Some(item), text);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `None` when everything held, else the complete message.
    pub fn message(&self) -> Option<String> {
        match self.0.as_slice() {
            [] => None,
            [one] => Some(format!("1 validation error detected: {one}")),
            all => Some(format!(
                "{} validation errors detected: {}",
                all.len(),
                all.join("; ")
            )),
        }
    }
}

fn length_violation(value: &str, min: usize, max: usize) -> Option<String> {
    let len = aws_len(value);
    if len < min {
        Some(format!(
            "Member must have length greater than or equal to {min}"
        ))
    } else if len > max {
        Some(format!(
            "Member must have length less than or equal to {max}"
        ))
    } else {
        None
    }
}

/// Checks an input against its model's constraints.
pub trait Validate {
    fn validate(&self, v: &mut Violations);
}

#[cfg(test)]
mod tests {
    use super::*;

    static ID: Pattern = Pattern::new(r"[\w-]+:[0-9a-f-]+");
    static NAME: Pattern = Pattern::new(r"[\w\s+=,.@-]+");
    static NON_SPACE: Pattern = Pattern::new(r"[\S]+");
    static POLICY: Pattern = Pattern::new(r"[\u0009\u000A\u000D\u0020-\u00FF]+");
    static TAG: Pattern = Pattern::new(r"[\p{L}\p{Z}\p{N}_.:/=+\-@]+");
    static PATH_PREFIX: Pattern = Pattern::new(r"\u002F[\u0021-\u007F]*");

    #[test]
    fn java_classes_are_ascii_and_matches_are_anchored() {
        assert!(ID.matches("us-east-1:0f1e2d3c-aaaa-4bbb-8ccc-0123456789ab"));
        assert!(!ID.matches("us-east-1:XYZ"));
        assert!(!ID.matches("us east:abc"), "no space in \\w");
        assert!(!ID.matches("é:abc"), "Java's \\w is ASCII");
        assert!(!ID.matches("x us-east-1:abc"), "anchored at the start");
        assert!(!ID.matches("us-east-1:abc\n"), "anchored at the very end");
        assert!(NAME.matches("my pool\tname"));
        assert!(!NAME.matches("bad/name"));
        assert!(NON_SPACE.matches("tökén"));
        assert!(!NON_SPACE.matches("a b"));
        assert!(POLICY.matches("{\"a\":\t\"é\"}"));
        assert!(!POLICY.matches("\u{0001}"));
        assert!(!POLICY.matches("€"), "beyond U+00FF");
        assert!(TAG.matches("Ünïcode tag:1"));
        assert!(!TAG.matches("invalid!key"));
        assert!(PATH_PREFIX.matches("/app/"));
        assert!(!PATH_PREFIX.matches("app/"));
        assert!(!PATH_PREFIX.matches("/a b"));
    }

    #[test]
    fn messages_have_the_coral_shape_and_quote_the_model() {
        let mut v = Violations::new();
        v.required::<String>("identityPoolName", &None);
        assert_eq!(
            v.message().unwrap(),
            "1 validation error detected: Value null at 'identityPoolName' failed to satisfy \
             constraint: Member must not be null"
        );
        v.text(
            "identityPoolId",
            Some("bad"),
            &Text::new(1, 55).pattern(&ID),
        );
        v.text("token", Some("secret"), &Text::new(10, 20).sensitive());
        let message = v.message().unwrap();
        assert!(message.starts_with("3 validation errors detected: "));
        assert!(message.contains(
            r"Value 'bad' at 'identityPoolId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w-]+:[0-9a-f-]+"
        ));
        assert!(!message.contains("secret"));
    }

    #[test]
    fn lengths_count_utf16_units() {
        assert_eq!(aws_len("a"), 1);
        assert_eq!(aws_len("😀"), 2);
    }
}
