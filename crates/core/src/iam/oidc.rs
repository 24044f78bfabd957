//! IAM OpenID Connect providers: the issuers whose tokens AssumeRoleWithWebIdentity and identity
//! pools accept besides tegata's own (iam-facts.md §3, §4).

use super::{Iam, IamError, Result, tags};
use crate::UnixSeconds;
use crate::deployment::PARTITION;
use crate::pagination::{self, Page};

/// AWS's quotas.
pub(super) const MAX_CLIENT_IDS: usize = 100;
pub(super) const MAX_THUMBPRINTS: usize = 5;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcProvider {
    /// Host and path, without the scheme: the provider's name in its ARN, in trust policies'
    /// condition keys (`<url>:aud`) and as an identity pool's login key.
    pub url: String,
    /// `https`, or `http` for an issuer on loopback (tegata's own tests, and issuers running
    /// beside tegata with no certificate).
    pub scheme: String,
    pub client_ids: Vec<String>,
    pub thumbprints: Vec<String>,
    pub tags: Vec<(String, String)>,
    pub created_at: UnixSeconds,
}

/// `arn:aws:iam::<account>:oidc-provider/`: an OpenID Connect provider's ARN without its URL.
pub fn oidc_provider_arn_prefix(account_id: &str) -> String {
    format!("arn:{PARTITION}:iam::{account_id}:oidc-provider/")
}

impl OidcProvider {
    pub fn arn(&self, account_id: &str) -> String {
        oidc_provider_arn_prefix(account_id) + &self.url
    }

    /// The `iss` its tokens carry.
    pub fn issuer(&self) -> String {
        format!("{}://{}", self.scheme, self.url)
    }
}

pub struct CreateOidcProviderInput {
    pub url: String,
    pub client_ids: Vec<String>,
    pub thumbprints: Vec<String>,
    pub tags: Vec<(String, String)>,
}

/// `https://host[:port][/path]` → (`https`, `host[:port][/path]`). AWS takes only https; tegata
/// also takes plain http for a loopback host, where there is no certificate to check.
pub fn parse_provider_url(url: &str) -> Option<(&'static str, String)> {
    let (scheme, rest) = if let Some(rest) = url.strip_prefix("https://") {
        ("https", rest)
    } else if let Some(rest) = url.strip_prefix("http://") {
        ("http", rest)
    } else {
        return None;
    };
    let rest = rest.trim_end_matches('/');
    let host = rest.split('/').next().unwrap_or_default();
    let host_name = host
        .rsplit_once(':')
        .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
        .map_or(host, |(name, _)| name);
    let plausible = !host_name.is_empty()
        && !rest.contains(['?', '#', ' ', '@'])
        && host_name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'[' | b']' | b':'));
    if !plausible {
        return None;
    }
    let loopback = matches!(host_name, "localhost" | "127.0.0.1" | "[::1]");
    if scheme == "http" && !loopback {
        return None;
    }
    Some((scheme, rest.to_owned()))
}

fn invalid_url() -> IamError {
    IamError::Validation("Invalid Open ID Connect Provider URL".to_owned())
}

fn not_found_for_get(arn: &str) -> IamError {
    IamError::NoSuchEntity(format!("OpenIDConnect Provider not found for arn {arn}"))
}

impl Iam {
    /// The provider URL an ARN of this account names, or the error AWS gives.
    fn provider_url_of<'a>(&self, arn: &'a str) -> Result<&'a str> {
        match arn.strip_prefix(&oidc_provider_arn_prefix(&self.deployment.account_id)) {
            Some(url) if !url.is_empty() => Ok(url),
            _ if arn.starts_with(&format!("arn:{PARTITION}:iam::"))
                && arn.contains(":oidc-provider/") =>
            {
                // Another account's provider: not one of ours.
                Err(not_found_for_get(arn))
            }
            _ => Err(IamError::Validation(format!("ARN {arn} is not valid."))),
        }
    }

    async fn provider_of(&self, arn: &str) -> Result<OidcProvider> {
        let url = self.provider_url_of(arn)?;
        self.store
            .oidc_provider(url)
            .await?
            .ok_or_else(|| not_found_for_get(arn))
    }

    pub async fn create_open_id_connect_provider(
        &self,
        input: CreateOidcProviderInput,
        now: UnixSeconds,
    ) -> Result<OidcProvider> {
        let (scheme, url) = parse_provider_url(&input.url).ok_or_else(invalid_url)?;
        if input.thumbprints.len() > MAX_THUMBPRINTS {
            return Err(IamError::InvalidInput(
                "Thumbprint list must contain fewer than 5 entries.".to_owned(),
            ));
        }
        let mut client_ids = Vec::new();
        for id in input.client_ids {
            if !client_ids.contains(&id) {
                client_ids.push(id);
            }
        }
        if client_ids.len() > MAX_CLIENT_IDS {
            return Err(client_id_quota());
        }
        tags::check_unique_keys(&input.tags)?;
        let provider = OidcProvider {
            url,
            scheme: scheme.to_owned(),
            client_ids,
            thumbprints: input.thumbprints,
            tags: input.tags,
            created_at: now,
        };
        if !self.store.insert_oidc_provider(&provider).await? {
            return Err(IamError::EntityAlreadyExists(format!(
                "Provider with url {} already exists.",
                provider.issuer()
            )));
        }
        Ok(provider)
    }

    pub async fn get_open_id_connect_provider(&self, arn: &str) -> Result<OidcProvider> {
        self.provider_of(arn).await
    }

    pub async fn list_open_id_connect_providers(&self) -> Result<Vec<OidcProvider>> {
        Ok(self.store.list_oidc_providers().await?)
    }

    /// Not idempotent, and worded unlike Get's "not found", as AWS has it.
    pub async fn delete_open_id_connect_provider(&self, arn: &str) -> Result<()> {
        let missing =
            || IamError::NoSuchEntity(format!("OpenId connect Provider {arn} cannot be found."));
        let url = self.provider_url_of(arn).map_err(|e| match e {
            IamError::NoSuchEntity(_) => missing(),
            other => other,
        })?;
        if self.store.delete_oidc_provider(url).await? {
            Ok(())
        } else {
            Err(missing())
        }
    }

    pub async fn update_open_id_connect_provider_thumbprint(
        &self,
        arn: &str,
        thumbprints: Vec<String>,
    ) -> Result<()> {
        if thumbprints.len() > MAX_THUMBPRINTS {
            return Err(IamError::InvalidInput(
                "Thumbprint list must contain fewer than 5 entries.".to_owned(),
            ));
        }
        self.change_provider(arn, |p| {
            p.thumbprints = thumbprints.clone();
            Ok(())
        })
        .await
    }

    /// Idempotent: adding a client id already there changes nothing.
    pub async fn add_client_id_to_open_id_connect_provider(
        &self,
        arn: &str,
        client_id: &str,
    ) -> Result<()> {
        self.change_provider(arn, |p| {
            if !p.client_ids.iter().any(|c| c == client_id) {
                if p.client_ids.len() >= MAX_CLIENT_IDS {
                    return Err(client_id_quota());
                }
                p.client_ids.push(client_id.to_owned());
            }
            Ok(())
        })
        .await
    }

    /// Idempotent: removing a client id not there changes nothing.
    pub async fn remove_client_id_from_open_id_connect_provider(
        &self,
        arn: &str,
        client_id: &str,
    ) -> Result<()> {
        self.change_provider(arn, |p| {
            p.client_ids.retain(|c| c != client_id);
            Ok(())
        })
        .await
    }

    /// Tag keys are case-insensitive: a key given again in any casing replaces the tag, and
    /// takes the new casing.
    pub async fn tag_open_id_connect_provider(
        &self,
        arn: &str,
        new_tags: Vec<(String, String)>,
    ) -> Result<()> {
        tags::check_unique_keys(&new_tags)?;
        self.change_provider(arn, |p| {
            p.tags = tags::merged(&p.tags, &new_tags)?;
            Ok(())
        })
        .await
    }

    pub async fn untag_open_id_connect_provider(&self, arn: &str, keys: &[String]) -> Result<()> {
        self.change_provider(arn, |p| {
            p.tags = tags::without(&p.tags, keys)?;
            Ok(())
        })
        .await
    }

    pub async fn list_open_id_connect_provider_tags(
        &self,
        arn: &str,
        marker: Option<&str>,
        max_items: u32,
    ) -> Result<Page<(String, String)>> {
        let provider = self.provider_of(arn).await?;
        let after = marker.map(pagination::decode_token).transpose()?;
        let rest: Vec<(String, String)> = provider
            .tags
            .into_iter()
            .skip_while(|(k, _)| after.as_deref().is_some_and(|a| a != k))
            .skip(usize::from(after.is_some()))
            .take(max_items as usize + 1)
            .collect();
        Ok(pagination::paginate(rest, max_items as usize, |(k, _)| {
            k.clone()
        }))
    }

    /// Read, change and write back a provider, the write applying only if nobody changed it
    /// meanwhile (retried a few times, then ConcurrentModification).
    async fn change_provider(
        &self,
        arn: &str,
        change: impl Fn(&mut OidcProvider) -> Result<()>,
    ) -> Result<()> {
        for _ in 0..8 {
            let current = self.provider_of(arn).await?;
            let mut changed = current.clone();
            change(&mut changed)?;
            if changed == current {
                return Ok(());
            }
            match self.store.replace_oidc_provider(&current, &changed).await? {
                true => return Ok(()),
                false => continue,
            }
        }
        Err(IamError::ConcurrentModification(
            "The provider was changed by another request; retry.".to_owned(),
        ))
    }
}

fn client_id_quota() -> IamError {
    IamError::LimitExceeded(format!(
        "Cannot exceed quota for ClientIdsPerOpenIdConnectProvider: {MAX_CLIENT_IDS}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_urls() {
        assert_eq!(
            parse_provider_url("https://token.actions.githubusercontent.com"),
            Some(("https", "token.actions.githubusercontent.com".to_owned()))
        );
        assert_eq!(
            parse_provider_url("https://oidc.example.com/tenant/1/"),
            Some(("https", "oidc.example.com/tenant/1".to_owned()))
        );
        assert_eq!(
            parse_provider_url("http://127.0.0.1:4321"),
            Some(("http", "127.0.0.1:4321".to_owned()))
        );
        for bad in [
            "example.org",
            "http://example.org",
            "https://",
            "https://a.example/?q=1",
            "https://user@a.example",
            "ftp://a.example",
        ] {
            assert_eq!(parse_provider_url(bad), None, "{bad}");
        }
    }
}
