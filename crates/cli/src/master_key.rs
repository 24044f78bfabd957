//! `tegata master-key rotate`: re-seal every stored secret under a new master key, in one
//! transaction, while the servers run. The README's "Rotating the master key" gives the whole
//! procedure (the servers hold both keys while it runs).

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use tegata_core::SystemRandomness;
use tegata_core::account::reseal;

use crate::config::{MasterKeyFileArg, StoreArgs};
use crate::keys::read_master_key;
use crate::operator_audit::{self, Details};

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
    /// --new-key-file, in one transaction. Run it once every server seals under the new key
    /// and still holds the old one (see the README): temporary credentials made under the old
    /// key stay valid until they expire, as long as the servers keep it.
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
    // Never made here: secrets sealed under a key no server holds yet would lock every server
    // out of them. The procedure makes it first and hands it to every server.
    let new = read_master_key(&new_key_file).context(
        "the new master key must exist already, and every server must hold it (as its \
         --master-key-file or --previous-master-key-file) before the store is re-sealed",
    )?;
    let result = crate::block_on(async {
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
        anyhow::Ok(Details::from([
            ("resealed", resealed.to_string()),
            ("previous_master_key", current.id().to_owned()),
        ]))
    });
    operator_audit::record(&location, "master-key rotate", new.id(), result)
}

fn kind_name(secret: &tegata_core::store::SealedSecret) -> &'static str {
    match secret.kind {
        tegata_core::store::SealedSecretKind::SigningKey => "signing key",
        tegata_core::store::SealedSecretKind::AccessKey => "access key",
    }
}
