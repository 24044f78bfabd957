//! The `Tags` member IAM and STS share (`Tags.member.N.Key` / `.Value`), with the models'
//! constraints.

use crate::protocol::aws_query::QueryParams;
use crate::validate::{Pattern, Text, Violations};

static TAG_KEY_CHARACTERS: Pattern = Pattern::new(r"[\p{L}\p{Z}\p{N}_.:/=+\-@]+");
static TAG_VALUE_CHARACTERS: Pattern = Pattern::new(r"[\p{L}\p{Z}\p{N}_.:/=+\-@]*");
/// IAM reports tags without their values (iam-facts.md §4).
pub(crate) static TAG_KEY: Text = Text::new(1, 128).pattern(&TAG_KEY_CHARACTERS).sensitive();
pub(crate) static TAG_VALUE: Text = Text::new(0, 256).pattern(&TAG_VALUE_CHARACTERS).sensitive();
pub(crate) const MAX_TAGS: usize = 50;

/// A `Tags` member: at most 50, each key and value within the model's constraints.
pub(crate) fn check_tags(v: &mut Violations, tags: Option<&[(Option<String>, Option<String>)]>) {
    let Some(tags) = tags else { return };
    v.count("tags", tags.len(), 0, MAX_TAGS);
    for (i, (key, value)) in tags.iter().enumerate() {
        let n = i + 1;
        v.required_text(&format!("tags.{n}.member.key"), key.as_deref(), &TAG_KEY);
        v.required_text(
            &format!("tags.{n}.member.value"),
            value.as_deref(),
            &TAG_VALUE,
        );
    }
}

/// `Tags.member.N.Key` / `.Value`.
pub(crate) fn decode_tags(p: &QueryParams) -> Option<Vec<(Option<String>, Option<String>)>> {
    p.struct_list("Tags").map(|tags| {
        tags.into_iter()
            .map(|mut tag| (tag.remove("Key"), tag.remove("Value")))
            .collect()
    })
}

/// Tags after validation, as the domain takes them.
pub(crate) fn tag_pairs(
    tags: Option<Vec<(Option<String>, Option<String>)>>,
) -> Vec<(String, String)> {
    tags.unwrap_or_default()
        .into_iter()
        .map(|(key, value)| (key.unwrap_or_default(), value.unwrap_or_default()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tag_patterns_compile() {
        assert!(TAG_KEY_CHARACTERS.matches("Project:cost-centre/2"));
        assert!(!TAG_KEY_CHARACTERS.matches("invalid!key"));
        assert!(TAG_VALUE_CHARACTERS.matches(""));
    }
}
