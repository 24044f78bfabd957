//! `tegata backup FILE`: a consistent copy of the embedded SQLite store, taken while the server
//! runs. PostgreSQL deployments use PostgreSQL's own tools (see the README).

use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::Args;

use crate::config::StoreArgs;

#[derive(Debug, Args)]
pub(crate) struct BackupArgs {
    /// Where to write the copy (a new file: an existing one is never overwritten). It holds
    /// the deployment's secrets encrypted under the master key, which it does not contain:
    /// back up master.key separately, and keep both safe.
    file: PathBuf,

    #[command(flatten)]
    store: StoreArgs,
}

pub(crate) fn run(args: BackupArgs) -> anyhow::Result<()> {
    let location = args.store.resolve()?;
    if location.database_url.is_some() {
        bail!(
            "this deployment keeps its state in PostgreSQL: back it up with pg_dump \
             (pg_dump --format=custom --file tegata.dump <database URL>), see the README"
        );
    }
    crate::block_on(tegata_store::backup_sqlite(&location.data_dir, &args.file))
        .with_context(|| format!("backing up {}", location.data_dir.display()))?;
    println!(
        "backed up {} to {}",
        location.data_dir.join("tegata.db").display(),
        args.file.display()
    );
    Ok(())
}
