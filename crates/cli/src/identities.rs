//! `tegata identities`: operator actions on Cognito identities, on the store directly (so they
//! work while the servers run; every node follows within a second).

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use tegata_core::revocations;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::config::{StoreArgs, StoreLocation};
use crate::operator_audit::{self, Details};

#[derive(Debug, Args)]
pub(crate) struct IdentitiesArgs {
    #[command(subcommand)]
    command: IdentitiesCommand,

    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Debug, Subcommand)]
enum IdentitiesCommand {
    /// Refuse the temporary credentials and tokens issued to an identity until now (and the
    /// sessions chained from them), on every node within a second. The identity stays: it can
    /// be given new ones (unlink or delete it to stop that).
    Revoke {
        /// The identity id (`us-east-1:…`).
        identity_id: String,
    },
}

pub(crate) fn run(args: IdentitiesArgs) -> anyhow::Result<()> {
    let location = args.store.resolve()?;
    let IdentitiesCommand::Revoke { identity_id } = args.command;
    let result = crate::block_on(revoke(&location, &identity_id));
    operator_audit::record(&location, "identities revoke", &identity_id, result)
}

async fn revoke(location: &StoreLocation, identity_id: &str) -> anyhow::Result<Details> {
    let store = location.open_existing().await?;
    if store
        .identity(identity_id)
        .await
        .context("reading the identity")?
        .is_none()
    {
        bail!("there is no identity {identity_id}");
    }
    let now = OffsetDateTime::now_utc();
    store
        .revoke_sessions(
            &revocations::identity_subject(identity_id),
            now.unix_timestamp(),
        )
        .await
        .context("revoking the identity's sessions")?;
    let until = now
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default();
    println!(
        "revoked what {identity_id} was issued until {until}: every node refuses those \
         credentials and tokens within a second"
    );
    Ok(Details::from([("issued_until", until)]))
}
