//! `tegata-bench`: drive a tegata server over HTTP/1.1 keep-alive with a closed loop of
//! concurrent clients and report throughput, latency percentiles, errors, and the server's CPU
//! time and peak memory — next to the machine's own limits measured in the same run (the signing
//! rate of tegata's signer on every core, and a trivial endpoint on the same HTTP stack) and,
//! optionally, next to peers such as moto. Then, in an open loop (requests sent on a schedule),
//! the latency users see at a fixed fraction of the rate the closed loop reached.
//!
//! Not part of the test suite: `scripts/bench` builds it in release mode, starts the peers, and
//! records the figures in BENCHMARKS.md.

mod http1;
mod scenarios;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use tegata_core::tokens::keys::TokenAlgorithm;

#[derive(Debug, Parser)]
#[command(
    name = "tegata-bench",
    about = "Load benchmarks of tegata against the machine's limits and its peers"
)]
pub struct Args {
    /// Seconds each scenario is measured, after its warm-up.
    #[arg(long, default_value_t = 10)]
    pub duration: u64,
    /// Seconds of warm-up before each measurement (not counted).
    #[arg(long, default_value_t = 3)]
    pub warmup: u64,
    /// Slices each scenario's measurement is cut into, each right after a slice of its ceiling,
    /// so that scenario and ceiling see the same machine (shared cores drift in speed).
    #[arg(long, default_value_t = 5)]
    pub rounds: u32,
    /// Concurrent clients, each with one keep-alive connection, each waiting for its answer
    /// before the next request (a closed loop).
    #[arg(long, default_value_t = 32)]
    pub clients: usize,
    /// Scenarios to run: basic-new, basic-existing (the basic developer flow for new and known
    /// users), enhanced (GetOpenIdTokenForDeveloperIdentity + GetCredentialsForIdentity), guest
    /// (GetId + GetCredentialsForIdentity), caller-identity.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "basic-new,basic-existing,enhanced,guest,caller-identity"
    )]
    pub scenarios: Vec<String>,
    /// Sustained check: basic-new once its pool holds 10 000 identities, then again once it
    /// holds this many (created straight through the store, in batches).
    #[arg(long, value_name = "N")]
    pub prefill: Option<u64>,
    /// Memory check: run this many basic-new flows and report the server's peak RSS after a
    /// tenth of them and after all of them.
    #[arg(long, value_name = "N")]
    pub soak_flows: Option<u64>,
    /// Also measure the credential broker's password sign-in (on a server of its own, with
    /// application users and a profile) beside the Argon2id ceiling.
    #[arg(long)]
    pub broker: bool,
    /// A peer to run the same scenarios against, as NAME=URL (for example moto=http://127.0.0.1:5000).
    #[arg(long, value_name = "NAME=URL")]
    pub peer: Vec<String>,
    /// The algorithm of the tokens the server signs (`--token-algorithm` of `tegata serve`),
    /// and of the signing ceiling the flows are compared with: RS512 or ES256.
    #[arg(long, default_value = "RS512")]
    pub token_algorithm: TokenAlgorithm,
    /// Scenarios also run in an open loop after their closed-loop measurement: flows started on
    /// a fixed schedule at 50 % and 80 % of the rate the closed loop reached, latency counted
    /// from each flow's scheduled start (so a server that falls behind is charged for the
    /// flows that wait). `none` for none.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "basic-new,basic-existing"
    )]
    pub open_loop: Vec<String>,
    /// Also run basic-new on a throw-away PostgreSQL cluster (initdb and postgres from
    /// /usr/lib/postgresql, run as the `postgres` user when this runs as root), beside the
    /// embedded SQLite store's figure of the same run.
    #[arg(long)]
    pub postgres: bool,
    /// The tegata binary to start (default: `tegata` beside this program).
    #[arg(long, value_name = "PATH")]
    pub tegata_bin: Option<PathBuf>,
    /// Also write the results as Markdown to this file.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
}

impl Args {
    pub fn warmup(&self) -> Duration {
        Duration::from_secs(self.warmup)
    }
    pub fn duration(&self) -> Duration {
        Duration::from_secs(self.duration)
    }
    pub fn algorithm(&self) -> TokenAlgorithm {
        self.token_algorithm
    }
    /// The arguments every server of the run starts with.
    pub fn server_args(&self) -> Vec<&'static str> {
        vec!["--token-algorithm", self.token_algorithm.as_str()]
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    let report = runtime.block_on(scenarios::run(&args))?;
    println!("{report}");
    if let Some(path) = &args.markdown {
        std::fs::write(path, &report).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}
