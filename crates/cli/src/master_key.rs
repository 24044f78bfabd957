//! `tegata master-key rotate`: re-seal every stored secret under a new master key, in one
//! transaction, while the servers run. The README's "Rotating the master key" gives the whole
//! procedure (the servers hold both keys while it runs).

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Args, Subcommand};
use tegata_core::SystemRandomness;
use tegata_core::account::reseal;
use tegata_core::master_key::MasterKey;

use crate::config::{MasterKeyFileArg, StoreArgs};
use crate::keys::read_master_key;

#[derive(Debug, Args)]
pub(crate) struct MasterKeyArgs {
    #[command(subcommand)]
    command: MasterKeyCommand,

    #[command(flatten)]
    store: StoreArgs,

    #[command(flatten)]
    master_key: MasterKeyFileArg,
}

#[derive(Debug, Subcommand)]
enum MasterKeyCommand {
    /// Re-seal every stored secret (signing keys, access keys) under the key in
    /// --new-key-file, in one transaction; made there (mode 0600) if the file does not exist.
    /// Run it once every server holds both keys (see the README): temporary credentials made
    /// under the old key stay valid until they expire, as long as the servers keep it.
    Rotate {
        /// The new master key's file.
        #[arg(long, value_name = "FILE")]
        new_key_file: PathBuf,
    },
}

pub(crate) fn run(args: MasterKeyArgs) -> anyhow::Result<()> {
    let location = args.store.resolve()?;
    let current_file = args.master_key.resolve(&location);
    let MasterKeyCommand::Rotate { new_key_file } = args.command;
    let current = read_master_key(&current_file)?;
    let new = read_or_create(&new_key_file)?;
    crate::block_on(async move {
        let store = location.open_existing().await?;
        let resealed = store
            .reseal_secrets(&|secret| {
                reseal(secret, &current, &new, &SystemRandomness)
                    .map_err(|e| format!("{} {}: {e}", kind_name(secret), secret.id))
            })
            .await
            .context("re-sealing the stored secrets (nothing was changed)")?;
        println!(
            "re-sealed {resealed} secrets under master key {} ({}); the servers must keep \
                 {} as their previous key until the temporary credentials made under it have \
                 expired (36 hours at most)",
            new.id(),
            new_key_file.display(),
            current_file.display()
        );
        anyhow::Ok(())
    })
}

fn kind_name(secret: &tegata_core::store::SealedSecret) -> &'static str {
    match secret.kind {
        tegata_core::store::SealedSecretKind::SigningKey => "signing key",
        tegata_core::store::SealedSecretKind::AccessKey => "access key",
    }
}

/// The key in `path`, or a new one written there (mode 0600, never over an existing file).
fn read_or_create(path: &Path) -> anyhow::Result<MasterKey> {
    if path.exists() {
        return read_master_key(path);
    }
    let key = MasterKey::generate(&SystemRandomness);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating the new master key {}", path.display()))?;
    file.write_all(key.to_file_contents().as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing the new master key {}", path.display()))?;
    println!("wrote a new master key to {}: back it up", path.display());
    Ok(key)
}
