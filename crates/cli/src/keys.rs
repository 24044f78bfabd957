//! `tegata keys`: the deployment's token-signing keys. The commands change the store directly;
//! every running node reloads its keys within seconds (see `tegata_core::tokens::keeper`).

use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use tegata_core::SystemRandomness;
use tegata_core::master_key::MasterKey;
use tegata_core::store::{Store, StoreError};
use tegata_core::tokens::keys::{KeyState, SigningKey, SigningKeyRecord, TokenAlgorithm};
use tegata_core::tokens::lifecycle::{
    self, KeyChange, KeyLifecycleError, NEXT_KEY_LOADED_EVERYWHERE, NEXT_KEY_PUBLISHED_EVERYWHERE,
};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::config::{MasterKeyFileArg, StoreArgs, StoreLocation};
use crate::operator_audit::{self, Details};

#[derive(Debug, Args)]
pub(crate) struct KeysArgs {
    #[command(subcommand)]
    command: KeysCommand,

    #[command(flatten)]
    store: StoreArgs,

    #[command(flatten)]
    master_key: MasterKeyFileArg,
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// List the keys: id, state, since when, and what their state means now.
    List,
    /// Rotate now: the next key (already in the published key set) starts signing, the active
    /// key retires (its tokens verify until they expire) and a new next key is published.
    /// Refused while the next key is younger than five minutes, the time relying parties may
    /// cache the key set, unless --now.
    Rotate {
        /// Rotate even if relying parties may not have fetched the next key yet (they refuse its
        /// tokens until they fetch the key set again). Still waits the few seconds every tegata
        /// node needs to load it.
        #[arg(long)]
        now: bool,

        /// Move the deployment to this algorithm (RS512 or ES256): the next key, which has
        /// signed nothing, is replaced by one of the algorithm, and every key made afterwards
        /// uses it. It signs once it may: when this command is run again five minutes later,
        /// or at once with --now (after the few seconds every tegata node needs; relying parties
        /// that cache the key set, AWS STS among them, refuse its tokens until they fetch it
        /// again, for up to five minutes). Upgrade every node and `tegata` binary first: older
        /// ones cannot load an ES256 key.
        #[arg(long, value_name = "RS512|ES256")]
        algorithm: Option<TokenAlgorithm>,
    },
    /// Revoke a key: tokens it signed are refused at once, by every node within seconds. Revoking
    /// the active key makes the next key sign at once; a new next key is published.
    Revoke {
        /// The key's id (`kid`), as `tegata keys list` shows it.
        // A kid is a base64url thumbprint, which begins with '-' one time in 64: taken as
        // a value, not an option.
        #[arg(allow_hyphen_values = true)]
        kid: String,
    },
}

pub(crate) fn run(args: KeysArgs) -> anyhow::Result<()> {
    let location = args.store.resolve()?;
    let master_key_file = args.master_key.resolve(&location);
    match args.command {
        KeysCommand::List => crate::block_on(async {
            let store = location.open_existing().await?;
            let records = store.signing_keys().await.context("reading the keys")?;
            print!("{}", listing(&records, now()));
            anyhow::Ok(())
        }),
        KeysCommand::Rotate {
            now: forced,
            algorithm,
        } => {
            let result = crate::block_on(async {
                let (store, master) = open_checked(&location, &master_key_file).await?;
                let mut details = Details::new();
                if let Some(algorithm) = algorithm
                    && let Some(change) = change_algorithm(&*store, &master, algorithm).await?
                {
                    details.extend(change_details(&change));
                    details.insert("algorithm", algorithm.to_string());
                    // The new key was published just now: without --now it may sign only
                    // once relying parties that cache the key set have fetched it. That is
                    // the change asked for, done, not a refusal.
                    if !forced {
                        println!(
                            "it signs after `tegata keys rotate`, run again in {} s (once \
                             relying parties that cache the key set know it), or at once with \
                             --now",
                            NEXT_KEY_PUBLISHED_EVERYWHERE
                        );
                        return anyhow::Ok(details);
                    }
                }
                details.extend(rotate(&*store, &master, forced).await?);
                anyhow::Ok(details)
            });
            operator_audit::record(&location, "keys rotate", "signing keys", result)
        }
        KeysCommand::Revoke { kid } => {
            let result = crate::block_on(async {
                let (store, master) = open_checked(&location, &master_key_file).await?;
                revoke(&*store, &master, &kid).await
            });
            operator_audit::record(&location, "keys revoke", &kid, result)
        }
    }
}

/// The store, and the master key once it is known to open the signing keys.
async fn open_checked(
    location: &StoreLocation,
    master_key_file: &std::path::Path,
) -> anyhow::Result<(std::sync::Arc<dyn Store>, MasterKey)> {
    let master = read_master_key(master_key_file)?;
    let store = location.open_existing().await?;
    let records = store.signing_keys().await.context("reading the keys")?;
    check_master_key(&records, &master, master_key_file)?;
    Ok((store, master))
}

async fn revoke(store: &dyn Store, master: &MasterKey, kid: &str) -> anyhow::Result<Details> {
    let records = store.signing_keys().await.context("reading the keys")?;
    let change = lifecycle::plan_revocation(&records, kid, master, now(), &SystemRandomness)
        .map_err(|e| match e {
            KeyLifecycleError::NoNextKey => anyhow::anyhow!(
                "{kid} is the active key and there is no next key to sign instead: start \
                 `tegata serve` (it publishes one) and revoke again"
            ),
            other => other.into(),
        })?;
    apply(store, &change).await?;
    println!("revoked {kid}: its tokens are refused by every node within seconds");
    if let Some(active) = change.new_active() {
        println!(
            "{active} signs now; relying parties that cached the key set since it was \
             published verify its tokens, others once they fetch it again"
        );
    }
    if let Some(next) = &change.new_key {
        println!("published {} as the next key", next.kid);
    }
    Ok(change_details(&change))
}

/// Replace the next key by one of `algorithm`, unless the deployment already makes such keys;
/// the change made, if any.
async fn change_algorithm(
    store: &dyn Store,
    master: &MasterKey,
    algorithm: TokenAlgorithm,
) -> anyhow::Result<Option<KeyChange>> {
    let records = store.signing_keys().await.context("reading the keys")?;
    let Some(change) =
        lifecycle::plan_algorithm_change(&records, algorithm, master, now(), &SystemRandomness)?
    else {
        return Ok(None);
    };
    apply(store, &change).await?;
    if let Some(replaced) = change.transitions.first() {
        println!(
            "revoked the next key {}, which had signed nothing",
            replaced.kid
        );
    }
    if let Some(next) = &change.new_key {
        println!("published {} ({algorithm}) as the next key", next.kid);
    }
    Ok(Some(change))
}

/// What a change did, for the audit line.
fn change_details(change: &KeyChange) -> Details {
    let mut details: Details = change
        .transitions
        .iter()
        .filter_map(|t| match t.to {
            KeyState::Active => Some(("active", t.kid.clone())),
            KeyState::Retired => Some(("retired", t.kid.clone())),
            KeyState::Revoked => Some(("revoked", t.kid.clone())),
            KeyState::Next => None,
        })
        .collect();
    if let Some(next) = &change.new_key {
        details.insert("next", next.kid.clone());
    }
    details
}

async fn rotate(store: &dyn Store, master: &MasterKey, forced: bool) -> anyhow::Result<Details> {
    let needed = if forced {
        NEXT_KEY_LOADED_EVERYWHERE
    } else {
        NEXT_KEY_PUBLISHED_EVERYWHERE
    };
    loop {
        let records = store.signing_keys().await.context("reading the keys")?;
        let at = now();
        let planned = match lifecycle::plan_next_key(&records, master, at, &SystemRandomness)? {
            // A deployment that has no next key yet (its servers have not run since the
            // upgrade): publish one; it signs once old enough.
            Some(publish) => {
                apply(store, &publish).await?;
                println!(
                    "published {} as the next key",
                    publish.new_key.as_ref().map_or("", |k| k.kid.as_str())
                );
                continue;
            }
            None => lifecycle::plan_rotation(&records, needed, master, at, &SystemRandomness),
        };
        match planned {
            Ok(change) => {
                apply(store, &change).await?;
                let retired = change
                    .transitions
                    .iter()
                    .find(|t| t.to == KeyState::Retired)
                    .map_or("", |t| t.kid.as_str());
                println!(
                    "rotated: {} signs now; {retired} is retired and verifies its tokens until \
                     they expire",
                    change.new_active().unwrap_or("")
                );
                if let Some(next) = &change.new_key {
                    println!("published {} as the next key", next.kid);
                }
                return Ok(change_details(&change));
            }
            Err(KeyLifecycleError::NextKeyTooYoung { kid, age, needed }) if forced => {
                let wait = (needed - age).max(1);
                println!("waiting {wait} s for every node to load the next key {kid}");
                tokio::time::sleep(Duration::from_secs(wait.unsigned_abs())).await;
            }
            Err(KeyLifecycleError::NextKeyTooYoung { kid, age, needed }) => bail!(
                "the next key {kid} was published {age} s ago: relying parties that cache the \
                 key set (for up to {} s) may not know it yet. Rotate again in {} s, or pass \
                 --now to rotate anyway",
                lifecycle::JWKS_MAX_AGE_SECONDS,
                needed - age
            ),
            Err(e) => return Err(e.into()),
        }
    }
}

/// Refuse a master key that does not open the active signing key: a key sealed under it would
/// be one no server can open (a stray key file, or the old key after a master key rotation).
fn check_master_key(
    records: &[SigningKeyRecord],
    master: &MasterKey,
    file: &std::path::Path,
) -> anyhow::Result<()> {
    let Some(active) = records.iter().find(|r| r.state == KeyState::Active) else {
        return Ok(());
    };
    SigningKey::load(active, master).map(|_| ()).map_err(|e| {
        anyhow::anyhow!(
            "{} does not open the deployment's signing keys ({e}): give the deployment's \
             master key with --master-key-file",
            file.display()
        )
    })
}

async fn apply(store: &dyn Store, change: &KeyChange) -> anyhow::Result<()> {
    match store.apply_key_change(change).await {
        Ok(()) => Ok(()),
        Err(StoreError::ConcurrentModification) => bail!(
            "the keys changed while this command ran (a server's scheduled rotation, or another \
             `tegata keys`): list them and try again"
        ),
        Err(e) => Err(e).context("changing the keys"),
    }
}

pub(crate) fn read_master_key(path: &std::path::Path) -> anyhow::Result<MasterKey> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the master key {}", path.display()))?;
    MasterKey::from_file_contents(&text)
        .with_context(|| format!("reading the master key {}", path.display()))
}

fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

fn timestamp(at: i64) -> String {
    OffsetDateTime::from_unix_timestamp(at)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| at.to_string())
}

/// One line per key, oldest first: `KID  ALG  STATE  SINCE  MEANING`.
fn listing(records: &[SigningKeyRecord], now: i64) -> String {
    let mut out = format!(
        "{:<43}  {:<5}  {:<7}  {:<20}  NOW\n",
        "KID", "ALG", "STATE", "SINCE"
    );
    for key in records {
        let meaning = match key.state {
            KeyState::Next => "published; signs after the next rotation".to_owned(),
            KeyState::Active => "signs new tokens".to_owned(),
            KeyState::Retired if lifecycle::verifies_at(key, now) => format!(
                "verifies its tokens until {}",
                timestamp(lifecycle::retired_key_verifies_until(key))
            ),
            KeyState::Retired => "verifies nothing (its tokens have expired)".to_owned(),
            KeyState::Revoked => "its tokens are refused".to_owned(),
        };
        out.push_str(&format!(
            "{:<43}  {:<5}  {:<7}  {:<20}  {meaning}\n",
            key.kid,
            key.algorithm,
            key.state.as_str(),
            timestamp(key.state_changed_at)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    /// A kid that begins with '-' (a base64url thumbprint does, one time in 64) is the key to
    /// revoke, not an unknown option.
    #[test]
    fn a_kid_that_begins_with_a_hyphen_is_a_kid() {
        let cli = crate::Cli::try_parse_from([
            "tegata",
            "keys",
            "revoke",
            "-gZsRenUYSljrizvMMnKK3Sbq3iB",
        ])
        .expect("parses");
        let crate::Command::Keys(keys) = cli.command else {
            panic!("a keys command");
        };
        let super::KeysCommand::Revoke { kid } = keys.command else {
            panic!("a revoke command");
        };
        assert_eq!(kid, "-gZsRenUYSljrizvMMnKK3Sbq3iB");
    }
}
