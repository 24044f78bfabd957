//! `tegata`: a self-hosted identity pool and security token service that speaks the AWS wire
//! protocols (Cognito Identity, STS), so AWS SDKs and the AWS CLI work against it unchanged.

mod app_users;
mod backup;
mod config;
mod credentials;
mod identities;
mod keys;
mod master_key;
mod operator_audit;
mod roles;
mod serve;

use clap::{Parser, Subcommand};

/// mimalloc instead of glibc's malloc: a basic flow allocates and frees a few hundred small
/// buffers, often on another thread than allocated them, and glibc spent about 15 % of the
/// server's CPU in a basic flow on it (`malloc`, `free`, `malloc_consolidate`, `realloc`). With
/// mimalloc the server's CPU per flow fell by a fifth (BENCHMARKS.md, issue 17).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(
    name = "tegata",
    version,
    about = "Self-hosted identity pools and short-lived AWS-style credentials",
    long_about = "tegata turns \"this backend vouches for user X\" into a signed OpenID token \
(Cognito Identity's GetOpenIdTokenForDeveloperIdentity) and then into temporary AWS-style \
credentials. It speaks the AWS wire protocols, so boto3, the AWS CLI and the AWS SDKs work \
against it with only an endpoint URL changed.\n\nStart with `tegata serve`: it keeps its state in \
./tegata-data and writes administrator credentials to ./tegata-data/credentials."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server: Cognito Identity, STS and IAM APIs and OIDC discovery on one address.
    Serve(Box<config::ServeArgs>),
    /// Manage the application users who sign in to the credential broker with a password
    /// (not IAM users). Works while the server runs.
    AppUsers(app_users::AppUsersArgs),
    /// Sign in to a credential broker and print temporary credentials as JSON, for
    /// `credential_process = tegata credentials --endpoint … --profile … --username …` in
    /// ~/.aws/config. Cached until five minutes before they expire.
    Credentials(credentials::CredentialsArgs),
    /// Write a consistent copy of the SQLite store to FILE while the server runs. To restore,
    /// stop the server, put the copy in place of <data-dir>/tegata.db (removing tegata.db-wal
    /// and tegata.db-shm) beside the same master.key, and start it.
    Backup(backup::BackupArgs),
    /// The token-signing keys: list them, rotate, revoke one. Works while the server runs;
    /// every node follows within seconds.
    Keys(keys::KeysArgs),
    /// Operator actions on Cognito identities: revoke the credentials and tokens issued to
    /// one. Works while the server runs; every node follows within a second.
    Identities(identities::IdentitiesArgs),
    /// Operator actions on IAM roles: revoke the sessions issued before now, as the IAM
    /// console does. Works while the server runs.
    Roles(roles::RolesArgs),
    /// Rotate the master key: re-seal every stored secret under a new one (see the README for
    /// the procedure on several nodes).
    MasterKey(master_key::MasterKeyArgs),
}

/// Run a command's `work` on a runtime of one thread (the commands other than `serve`).
fn block_on<T, E>(work: impl std::future::Future<Output = Result<T, E>>) -> anyhow::Result<T>
where
    E: Into<anyhow::Error>,
{
    use anyhow::Context;
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?
        .block_on(work)
        .map_err(Into::into)
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(*args),
        Command::AppUsers(args) => app_users::run(args),
        Command::Credentials(args) => credentials::run(args),
        Command::Backup(args) => backup::run(args),
        Command::Keys(args) => keys::run(args),
        Command::Identities(args) => identities::run(args),
        Command::Roles(args) => roles::run(args),
        Command::MasterKey(args) => master_key::run(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tegata: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
