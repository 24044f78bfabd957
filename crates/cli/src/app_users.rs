//! `tegata app-users`: the application users who sign in to the credential broker with a
//! password. The commands open the deployment's store directly, so they work while the server
//! runs (SQLite in WAL mode admits another process; PostgreSQL any number).

use std::io::{BufRead, IsTerminal};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use tegata_core::SystemRandomness;
use tegata_core::app_users::{AppUserError, AppUsers, PasswordHashing};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::config::{StoreArgs, StoreLocation};

#[derive(Debug, Args)]
pub(crate) struct AppUsersArgs {
    #[command(subcommand)]
    command: AppUsersCommand,

    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Debug, Subcommand)]
enum AppUsersCommand {
    /// Add a user. The password is asked for twice on the terminal, or read from
    /// --password-file or (one line) from standard input with --password-stdin.
    Add {
        username: String,
        #[command(flatten)]
        password: PasswordSource,
    },
    /// Set a user's password (same sources as `add`).
    Passwd {
        username: String,
        #[command(flatten)]
        password: PasswordSource,
    },
    /// Refuse the user's sign-ins until enabled again (credentials already issued run out on
    /// their own).
    Disable { username: String },
    /// Accept the user's sign-ins again.
    Enable { username: String },
    /// List the users: name, status, when created and when the password was last set.
    List,
    /// Delete a user. Their identity in the pool stays (and comes back if the name is added
    /// again).
    Delete { username: String },
}

/// Where a new password comes from: never a command-line argument, which other users of the
/// machine can read in the process list.
#[derive(Debug, Args)]
struct PasswordSource {
    /// Read the password from this file (its first line).
    #[arg(long, value_name = "FILE", conflicts_with = "password_stdin")]
    password_file: Option<PathBuf>,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    password_stdin: bool,
}

impl PasswordSource {
    fn read(&self) -> anyhow::Result<String> {
        if let Some(path) = &self.password_file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the password from {}", path.display()))?;
            return Ok(first_line(&text).to_owned());
        }
        if self.password_stdin || !std::io::stdin().is_terminal() {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("reading the password from standard input")?;
            return Ok(first_line(&line).to_owned());
        }
        let password = rpassword::prompt_password("New password: ")
            .context("reading the password from the terminal")?;
        let again = rpassword::prompt_password("Again: ")
            .context("reading the password from the terminal")?;
        if password != again {
            bail!("the two passwords differ");
        }
        Ok(password)
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("")
}

pub(crate) fn run(args: AppUsersArgs) -> anyhow::Result<()> {
    let location = args.store.resolve()?;
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("starting the async runtime")?
        .block_on(run_command(args.command, location))
}

async fn run_command(command: AppUsersCommand, location: StoreLocation) -> anyhow::Result<()> {
    let store = location.open_existing().await?;
    let rng = SystemRandomness;
    let hashing = location.hashing;
    let users = AppUsers::new(
        store,
        Arc::new(
            PasswordHashing::new(hashing.cost, hashing.threads, hashing.queue, &rng)
                .map_err(anyhow::Error::msg)?,
        ),
    );
    let now = OffsetDateTime::now_utc().unix_timestamp();
    match command {
        AppUsersCommand::Add { username, password } => {
            let password = password.read()?;
            users
                .add(&username, password.as_bytes(), now, &rng)
                .await
                .map_err(explain)?;
            println!("added application user {username}");
        }
        AppUsersCommand::Passwd { username, password } => {
            let password = password.read()?;
            users
                .set_password(&username, password.as_bytes(), now, &rng)
                .await
                .map_err(explain)?;
            println!("changed the password of {username}");
        }
        AppUsersCommand::Disable { username } => {
            users.set_disabled(&username, true).await.map_err(explain)?;
            println!("disabled {username}");
        }
        AppUsersCommand::Enable { username } => {
            users
                .set_disabled(&username, false)
                .await
                .map_err(explain)?;
            println!("enabled {username}");
        }
        AppUsersCommand::Delete { username } => {
            users.delete(&username).await.map_err(explain)?;
            println!("deleted {username}");
        }
        AppUsersCommand::List => {
            let all = users.list().await.map_err(explain)?;
            println!(
                "{:<32} {:<9} {:<21} PASSWORD SET",
                "USERNAME", "STATUS", "CREATED"
            );
            for user in all {
                println!(
                    "{:<32} {:<9} {:<21} {}",
                    user.username,
                    if user.disabled { "disabled" } else { "enabled" },
                    timestamp(user.created_at),
                    timestamp(user.password_changed_at)
                );
            }
        }
    }
    Ok(())
}

fn explain(e: AppUserError) -> anyhow::Error {
    anyhow::Error::msg(e.to_string())
}

fn timestamp(seconds: i64) -> String {
    OffsetDateTime::from_unix_timestamp(seconds)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| seconds.to_string())
}
