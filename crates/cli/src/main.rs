//! `tegata`: a self-hosted identity pool and security token service that speaks the AWS wire
//! protocols (Cognito Identity, STS), so AWS SDKs and the AWS CLI work against it unchanged.

mod config;
mod serve;

use clap::{Parser, Subcommand};

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
    Serve(config::ServeArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve::run(args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tegata: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
