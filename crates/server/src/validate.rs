//! Shape constraints of the AWS service models, reported the way AWS's front ends report them:
//! `2 validation errors detected: Value 'x' at 'identityPoolName' failed to satisfy constraint:
//! Member must …; Value null at …`.

/// Collects constraint violations of one request.
#[derive(Debug, Default)]
pub struct Violations(Vec<String>);

/// AWS measures lengths in UTF-16 code units (Java strings).
pub fn aws_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// `\w` of Java's regular expressions: ASCII letters, digits and underscore.
pub fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// `\s` of Java's regular expressions.
pub fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r')
}

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

    /// A value that must not be echoed (tokens, user ids): reported without it.
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

    /// Length bounds (`min..=max`) of a string; `sensitive` keeps its value out of the message.
    pub fn length(&mut self, member: &str, value: &str, min: usize, max: usize, sensitive: bool) {
        let len = aws_len(value);
        let constraint = if len < min {
            format!("Member must have length greater than or equal to {min}")
        } else if len > max {
            format!("Member must have length less than or equal to {max}")
        } else {
            return;
        };
        if sensitive {
            self.push_redacted(member, &constraint);
        } else {
            self.push(Some(value), member, &constraint);
        }
    }

    /// A pattern (`pattern` is the model's regular expression, quoted in the message).
    pub fn pattern(&mut self, member: &str, value: &str, pattern: &str, matches: bool) {
        if !matches {
            self.push(
                Some(value),
                member,
                &format!("Member must satisfy regular expression pattern: {pattern}"),
            );
        }
    }

    /// Numeric bounds.
    pub fn range(&mut self, member: &str, value: i64, min: i64, max: i64) {
        let constraint = if value < min {
            format!("Member must have value greater than or equal to {min}")
        } else if value > max {
            format!("Member must have value less than or equal to {max}")
        } else {
            return;
        };
        self.push(Some(&value.to_string()), member, &constraint);
    }

    /// An optional integer parameter of awsQuery (which arrives as text) within bounds.
    pub fn integer(&mut self, member: &str, raw: Option<&str>, min: i64, max: i64) -> Option<i64> {
        let raw = raw?;
        match raw.parse::<i64>() {
            Ok(n) => {
                self.range(member, n, min, max);
                Some(n)
            }
            Err(_) => {
                self.pattern(member, raw, "an integer", false);
                None
            }
        }
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

    /// A constraint on every key of a map (`what` is `keys` or `values`).
    pub fn map_entries(&mut self, member: &str, what: &str, constraint: &str) {
        self.push_redacted(
            member,
            &format!("Map {what} must satisfy constraint: [{constraint}]"),
        );
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `None` when everything held, else the complete message.
    pub fn message(&self) -> Option<String> {
        match self.0.len() {
            0 => None,
            1 => Some(format!("1 validation error detected: {}", self.0[0])),
            n => Some(format!(
                "{n} validation errors detected: {}",
                self.0.join("; ")
            )),
        }
    }
}

/// Length bounds of every key or value of a map: a violation names the first failing bound.
pub fn map_length_violation<'a>(
    items: impl Iterator<Item = &'a String>,
    min: usize,
    max: usize,
) -> Option<String> {
    for item in items {
        let len = aws_len(item);
        if len < min {
            return Some(format!(
                "Member must have length greater than or equal to {min}"
            ));
        }
        if len > max {
            return Some(format!(
                "Member must have length less than or equal to {max}"
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_have_the_coral_shape() {
        let mut v = Violations::new();
        v.required::<String>("identityPoolName", &None);
        assert_eq!(
            v.message().unwrap(),
            "1 validation error detected: Value null at 'identityPoolName' failed to satisfy \
             constraint: Member must not be null"
        );
        v.pattern("identityPoolId", "bad", "[\\w-]+:[0-9a-f-]+", false);
        v.length("token", "secret", 10, 20, true);
        let message = v.message().unwrap();
        assert!(message.starts_with("3 validation errors detected: "));
        assert!(message.contains("Value 'bad' at 'identityPoolId'"));
        assert!(!message.contains("secret"));
    }

    #[test]
    fn lengths_count_utf16_units() {
        assert_eq!(aws_len("a"), 1);
        assert_eq!(aws_len("😀"), 2);
    }
}
