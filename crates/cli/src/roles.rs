//! `tegata roles`: operator actions on IAM roles, on the store directly (so they work while the
//! servers run; every node follows within a second, when its cached permissions expire).

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use tegata_core::iam::{EntityKind, REVOKE_OLDER_SESSIONS, revoke_older_sessions_policy};
use time::OffsetDateTime;

use crate::config::{StoreArgs, StoreLocation};
use crate::operator_audit::{self, Details};

#[derive(Debug, Args)]
pub(crate) struct RolesArgs {
    #[command(subcommand)]
    command: RolesCommand,

    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Debug, Subcommand)]
enum RolesCommand {
    /// Deny everything to the role's sessions issued before now, as the IAM console's "Revoke
    /// active sessions" does: the inline policy AWSRevokeOlderSessions (replaced if there is
    /// one) denies every action when aws:TokenIssueTime is earlier. New sessions are untouched;
    /// delete the policy to let the old ones in again.
    RevokeSessions {
        /// The role's name.
        role_name: String,
    },
}

pub(crate) fn run(args: RolesArgs) -> anyhow::Result<()> {
    let location = args.store.resolve()?;
    let RolesCommand::RevokeSessions { role_name } = args.command;
    let result = crate::block_on(revoke_sessions(&location, &role_name));
    operator_audit::record(&location, "roles revoke-sessions", &role_name, result)
}

async fn revoke_sessions(location: &StoreLocation, role_name: &str) -> anyhow::Result<Details> {
    let store = location.open_existing().await?;
    // The policy's time is whole seconds and its test is strict: the next second denies the
    // sessions issued during this one too, as the identities' revocation does, rather than let
    // one issued a moment ago slip through.
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let policy = revoke_older_sessions_policy(now + 1);
    let stored = store
        .put_inline_policy(EntityKind::Role, role_name, REVOKE_OLDER_SESSIONS, &policy)
        .await
        .context("putting the role's inline policy")?;
    if !stored {
        bail!("there is no role {role_name}");
    }
    println!(
        "{role_name}: sessions issued before now are denied everything, on every node within a \
         second (inline policy {REVOKE_OLDER_SESSIONS}: {policy})"
    );
    Ok(Details::from([(
        "policy",
        REVOKE_OLDER_SESSIONS.to_owned(),
    )]))
}
