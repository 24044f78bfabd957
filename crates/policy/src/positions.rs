//! Where each statement of a policy document sits in its text, as IAM's policy simulator reports
//! matched statements (`StartPosition`, `EndPosition`: a 1-based line, and the column just after
//! the statement's opening or closing brace).
//!
//! The document has already been parsed as JSON when this runs; a walk over its characters finds
//! the `Statement` member of the top-level object and the objects in it. Text that is not what
//! it expects gives no positions, never a panic.

/// A place in a policy's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub line: u32,
    pub column: u32,
}

struct Walker<'a> {
    chars: std::iter::Peekable<std::str::Chars<'a>>,
    line: u32,
    /// 0-based index of the next character in its line.
    index: u32,
}

impl Walker<'_> {
    fn next(&mut self) -> Option<char> {
        let c = self.chars.next()?;
        if c == '\n' {
            self.line += 1;
            self.index = 0;
        } else {
            self.index += 1;
        }
        Some(c)
    }

    fn skip_space(&mut self) {
        while self.chars.peek().is_some_and(|c| c.is_whitespace()) {
            self.next();
        }
    }

    /// The position AWS reports for the character just read: the column after it.
    fn after_last(&self) -> Position {
        Position {
            line: self.line,
            column: self.index + 1,
        }
    }

    /// A string, the opening quote already read.
    fn string(&mut self) -> Option<String> {
        let mut out = String::new();
        loop {
            match self.next()? {
                '"' => return Some(out),
                '\\' => {
                    out.push('\\');
                    out.push(self.next()?);
                }
                c => out.push(c),
            }
        }
    }

    /// Skip one value; for an object, return where it starts and ends.
    fn value(&mut self) -> Option<Option<(Position, Position)>> {
        self.skip_space();
        match self.next()? {
            '"' => self.string().map(|_| None),
            '{' => {
                let start = self.after_last();
                self.members(|w, _| w.value().map(drop))?;
                Some(Some((start, self.after_last())))
            }
            '[' => {
                self.elements(|w| w.value().map(drop))?;
                Some(None)
            }
            _ => {
                while self
                    .chars
                    .peek()
                    .is_some_and(|c| !matches!(c, ',' | '}' | ']') && !c.is_whitespace())
                {
                    self.next();
                }
                Some(None)
            }
        }
    }

    /// The members of an object whose `{` was read, up to its `}`.
    fn members(&mut self, mut each: impl FnMut(&mut Self, &str) -> Option<()>) -> Option<()> {
        loop {
            self.skip_space();
            match self.next()? {
                '}' => return Some(()),
                ',' => continue,
                '"' => {
                    let key = self.string()?;
                    self.skip_space();
                    if self.next()? != ':' {
                        return None;
                    }
                    each(self, &key)?;
                }
                _ => return None,
            }
        }
    }

    /// The elements of an array whose `[` was read, up to its `]`.
    fn elements(&mut self, mut each: impl FnMut(&mut Self) -> Option<()>) -> Option<()> {
        loop {
            self.skip_space();
            match self.chars.peek()? {
                ']' => {
                    self.next();
                    return Some(());
                }
                ',' => {
                    self.next();
                }
                _ => each(self)?,
            }
        }
    }
}

/// The start and end of each statement of `text`, in order; empty when the text is not a policy
/// document's JSON.
pub fn statement_positions(text: &str) -> Vec<(Position, Position)> {
    let mut w = Walker {
        chars: text.chars().peekable(),
        line: 1,
        index: 0,
    };
    let mut found = Vec::new();
    w.skip_space();
    if w.next() != Some('{') {
        return found;
    }
    let walked = w.members(|w, key| {
        if key != "Statement" {
            return w.value().map(drop);
        }
        w.skip_space();
        if w.chars.peek() == Some(&'[') {
            w.next();
            w.elements(|w| {
                if let Some(span) = w.value()? {
                    found.push(span);
                }
                Some(())
            })
        } else {
            if let Some(span) = w.value()? {
                found.push(span);
            }
            Some(())
        }
    });
    if walked.is_none() {
        return Vec::new();
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(line: u32, column: u32) -> Position {
        Position { line, column }
    }

    #[test]
    fn positions_as_aws_reports_them() {
        // AWS's example: `{` at index 36 and `}` at index 165 give columns 38 and 167.
        let text = r#"{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["codecommit:ListRepositories"],"Resource":"*","Condition":{"StringEquals":{"aws:RequestedRegion":"x"}}}}"#;
        let open = text.find("{\"Effect").unwrap() as u32;
        let close = text.len() as u32 - 2;
        assert_eq!(
            statement_positions(text),
            [(at(1, open + 2), at(1, close + 2))]
        );
        let pretty = "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [\n    {\"Effect\": \"Allow\"},\n    {\"Effect\": \"Deny\", \"Sid\": \"a}\"}\n  ]\n}";
        assert_eq!(
            statement_positions(pretty),
            [(at(4, 6), at(4, 24)), (at(5, 6), at(5, 36))]
        );
        for garbage in ["", "[]", "{\"Statement\":", "{\"a\" 1}", "\"x\""] {
            assert!(statement_positions(garbage).is_empty(), "{garbage}");
        }
    }
}
