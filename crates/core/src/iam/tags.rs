//! IAM's tag rules, shared by every taggable entity: keys are case-insensitive (a key given
//! again in any casing replaces the tag and takes the new casing), at most 50 per entity.

use super::{IamError, Result};

/// Tags an IAM entity may carry.
pub(super) const MAX_TAGS: usize = 50;

pub(super) fn check_unique_keys(tags: &[(String, String)]) -> Result<()> {
    for (i, (key, _)) in tags.iter().enumerate() {
        if tags
            .iter()
            .skip(i + 1)
            .any(|(other, _)| other.eq_ignore_ascii_case(key))
        {
            return Err(IamError::InvalidInput(
                "Duplicate tag keys found. Please note that Tag keys are case insensitive."
                    .to_owned(),
            ));
        }
    }
    Ok(())
}

/// `current` with `new` added or replacing the tags of the same keys.
pub(super) fn merged(
    current: &[(String, String)],
    new: &[(String, String)],
) -> Result<Vec<(String, String)>> {
    let mut tags = current.to_vec();
    for (key, value) in new {
        match tags.iter_mut().find(|(k, _)| k.eq_ignore_ascii_case(key)) {
            Some(existing) => *existing = (key.clone(), value.clone()),
            None => tags.push((key.clone(), value.clone())),
        }
    }
    if tags.len() > MAX_TAGS {
        return Err(IamError::LimitExceeded(
            "The number of tags has reached the maximum limit.".to_owned(),
        ));
    }
    Ok(tags)
}

/// `current` without the tags of `keys` (absent keys are not an error).
pub(super) fn without(
    current: &[(String, String)],
    keys: &[String],
) -> Result<Vec<(String, String)>> {
    Ok(current
        .iter()
        .filter(|(k, _)| !keys.iter().any(|key| key.eq_ignore_ascii_case(k)))
        .cloned()
        .collect())
}

/// A page of an entity's tags, in their order, after the tag whose key `marker` names (IAM's
/// ListUserTags, ListRoleTags).
pub fn page(
    tags: Vec<(String, String)>,
    marker: Option<&str>,
    max_items: u32,
) -> Result<crate::pagination::Page<(String, String)>> {
    let skip = match marker {
        Some(marker) => {
            let after = crate::pagination::decode_token(marker)?;
            tags.iter()
                .position(|(k, _)| k.eq_ignore_ascii_case(&after))
                .map_or(tags.len(), |i| i + 1)
        }
        None => 0,
    };
    let rest: Vec<(String, String)> = tags.into_iter().skip(skip).collect();
    Ok(crate::pagination::paginate(
        rest,
        max_items as usize,
        |(k, _)| k.clone(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_pages_follow_the_marker() {
        let tags: Vec<(String, String)> =
            (0..10).map(|n| (format!("k{n}"), String::new())).collect();
        let first = page(tags.clone(), None, 4).unwrap();
        assert_eq!(first.items.len(), 4);
        let second = page(tags.clone(), first.next_token.as_deref(), 4).unwrap();
        assert_eq!(second.items.first().unwrap().0, "k4");
        let third = page(tags.clone(), second.next_token.as_deref(), 4).unwrap();
        assert_eq!(third.items.len(), 2);
        assert_eq!(third.next_token, None);
        assert!(page(tags, Some("garbage*"), 4).is_err());
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn keys_are_case_insensitive() {
        let current = pairs(&[("team", "a"), ("env", "dev")]);
        assert_eq!(
            merged(&current, &pairs(&[("Team", "b")])).unwrap(),
            pairs(&[("Team", "b"), ("env", "dev")])
        );
        assert_eq!(
            without(&current, &["ENV".to_owned()]).unwrap(),
            pairs(&[("team", "a")])
        );
        assert!(check_unique_keys(&pairs(&[("k", "1"), ("K", "2")])).is_err());
        let many: Vec<(String, String)> = (0..MAX_TAGS)
            .map(|n| (n.to_string(), String::new()))
            .collect();
        assert!(merged(&many, &pairs(&[("one-more", "")])).is_err());
    }
}
