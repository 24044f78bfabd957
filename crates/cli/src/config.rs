//! Settings of `tegata serve`: command-line flags, then `TEGATA_…` environment variables, then
//! the TOML file named by `--config`, then defaults.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use serde::Deserialize;
use tegata_broker::audit::AuditTarget;
use tegata_broker::profiles::{Profile, ProfileConfig};
use tegata_broker::throttle::ThrottleLimits;
use tegata_core::app_users::PasswordCost;
use tegata_core::tokens::keys::TokenAlgorithm;
use tegata_server::http_server::ServerOptions;
use tegata_server::tls::TlsFiles;
use tegata_server::{AllowedOrigins, Limits};

pub(crate) const DEFAULT_LISTEN: &str = "127.0.0.1:8910";
pub(crate) const DEFAULT_DATA_DIR: &str = "./tegata-data";

#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Address and port to listen on. Use port 0 for any free port (the log says which).
    /// [default: 127.0.0.1:8910]
    #[arg(long, env = "TEGATA_LISTEN", value_name = "ADDR:PORT")]
    pub listen: Option<String>,

    /// Directory for the embedded SQLite database, the master key and the administrator's
    /// credentials file. Created if missing. [default: ./tegata-data]
    #[arg(long, env = "TEGATA_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// The URL clients reach this server at. It becomes the `iss` claim of every token and the
    /// base of the OIDC discovery document, so relying parties must be able to fetch
    /// <URL>/.well-known/openid-configuration. [default: http://<listen address>]
    #[arg(long, env = "TEGATA_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,

    /// TOML file with any of these settings (keys: listen, data_dir, public_url, database_url,
    /// master_key_file, previous_master_key_file, log, log_format, max_identity_pools,
    /// strict_cognito_trust, explain_denials, metrics, metrics_listen, audit_log,
    /// signing_key_rotation_days, token_algorithm, max_request_bytes, max_concurrent_requests,
    /// header_read_timeout_seconds, request_timeout_seconds, shutdown_timeout_seconds,
    /// cors_allowed_origins, tls_cert, tls_key), and the credential broker's `[broker]` table
    /// with its `[[broker.profiles]]` (see the README). Flags and environment variables win
    /// over it.
    #[arg(long, env = "TEGATA_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// PostgreSQL URL (postgres://user:password@host/db) to share state between several nodes.
    /// Without it, tegata uses the embedded SQLite store in the data directory.
    #[arg(
        long,
        env = "TEGATA_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,

    /// File holding the master key (32 random bytes, base64) that encrypts every secret at rest.
    /// Created with mode 0600 if missing. Every node of a deployment needs the same key.
    /// [default: <data-dir>/master.key]
    #[arg(long, env = "TEGATA_MASTER_KEY_FILE", value_name = "FILE")]
    pub master_key_file: Option<PathBuf>,

    /// During a master key rotation, the rotation's other key: what it sealed (stored secrets,
    /// temporary credentials) still opens, while everything new is sealed under
    /// --master-key-file. See the README's "Rotating the master key".
    #[arg(long, env = "TEGATA_PREVIOUS_MASTER_KEY_FILE", value_name = "FILE")]
    pub previous_master_key_file: Option<PathBuf>,

    /// Log filter, in tracing's syntax (`info`, `debug`, `tegata_server=debug,info`).
    /// Every request is logged at `debug`; refusals at `info`. [default: info]
    #[arg(long, env = "TEGATA_LOG", value_name = "FILTER")]
    pub log: Option<String>,

    /// How log lines are written to standard error: `text` for people, `json` (one object per
    /// line: timestamp, level, target, fields) for log collectors. [default: text]
    #[arg(long, env = "TEGATA_LOG_FORMAT", value_name = "text|json")]
    pub log_format: Option<LogFormat>,

    /// How many identity pools the account may hold (AWS's quota is 1000). [default: 1000]
    #[arg(long, env = "TEGATA_MAX_IDENTITY_POOLS", value_name = "N")]
    pub max_identity_pools: Option<u64>,

    /// Refuse AssumeRoleWithWebIdentity for roles whose trust policy accepts tokens of any
    /// identity pool (no `cognito-identity.amazonaws.com:aud` condition), as current AWS guidance
    /// requires. Without it such roles work, and each use logs a warning naming the role.
    #[arg(long, env = "TEGATA_STRICT_COGNITO_TRUST", value_name = "true|false", num_args = 0..=1, default_missing_value = "true")]
    pub strict_cognito_trust: Option<bool>,

    /// For development: every AccessDenied carries an encoded authorization failure message
    /// (`Encoded authorization failure message: …`), which `aws sts
    /// decode-authorization-message` turns into the evaluation: the principal, action, resource,
    /// request context, the statements that applied and why the request was denied. The message
    /// is sealed with the master key; only this deployment can decode it, for callers allowed
    /// `sts:DecodeAuthorizationMessage`. [default: false]
    #[arg(long, env = "TEGATA_EXPLAIN_DENIALS", value_name = "true|false", num_args = 0..=1, default_missing_value = "true")]
    pub explain_denials: Option<bool>,

    /// Serve Prometheus metrics at /metrics: requests by service, operation and outcome, their
    /// latency, tokens and credentials issued, the signer's queue and the database pools.
    /// Turn off (false) where the listener is public and the counts are nobody's business.
    /// [default: true]
    #[arg(long, env = "TEGATA_METRICS", value_name = "true|false", num_args = 0..=1, default_missing_value = "true")]
    pub metrics: Option<bool>,

    /// Serve /metrics (with /healthz and /readyz) on this address instead of the main
    /// listener, which then answers /metrics with 404: for a main listener that is public.
    #[arg(long, env = "TEGATA_METRICS_LISTEN", value_name = "ADDR:PORT")]
    pub metrics_listen: Option<String>,

    /// Where the audit trail of the AWS services goes: one JSON line per token or credentials
    /// issued, per change (pools, identities, roles, users, policies, providers, keys) and per
    /// refused caller, with request id, principal and source address, never a secret. `off`,
    /// `stdout`, or a file (appended to, created with mode 0600). The broker's sign-ins have
    /// their own (`[broker] audit_log`). [default: off]
    #[arg(long, env = "TEGATA_AUDIT_LOG", value_name = "off|stdout|FILE")]
    pub audit_log: Option<String>,

    /// Days the active token-signing key signs before it is rotated on its own: the next key
    /// (published in the key set since the last rotation) signs, and the old one verifies until
    /// its last token has expired (24 hours). 0: rotate only with `tegata keys rotate`.
    /// [default: 90]
    #[arg(long, env = "TEGATA_SIGNING_KEY_ROTATION_DAYS", value_name = "DAYS")]
    pub signing_key_rotation_days: Option<u32>,

    /// The algorithm of a new deployment's token-signing keys: RS512 (RSA-2048, what Cognito
    /// issues) or ES256 (ECDSA P-256: AWS STS accepts it from OpenID Connect providers, and a
    /// signature costs a small fraction of an RSA one). Read at the first start only: the
    /// store keeps it, and `tegata keys rotate --algorithm` moves an existing deployment.
    /// [default: RS512]
    #[arg(long, env = "TEGATA_TOKEN_ALGORITHM", value_name = "RS512|ES256")]
    pub token_algorithm: Option<TokenAlgorithm>,

    /// The largest request body accepted, in bytes; larger ones are refused with HTTP 413 in the
    /// service's error envelope. [default: 1048576]
    #[arg(long, env = "TEGATA_MAX_REQUEST_BYTES", value_name = "BYTES")]
    pub max_request_bytes: Option<usize>,

    /// Requests answered at once; beyond it, requests are refused at once with the service's
    /// throttling error (STS and IAM `Throttling`, Cognito Identity `TooManyRequestsException`),
    /// which the AWS SDKs retry with back-off. [default: 1024]
    #[arg(long, env = "TEGATA_MAX_CONCURRENT_REQUESTS", value_name = "N")]
    pub max_concurrent_requests: Option<usize>,

    /// Seconds a client may take to send a request's headers, and an idle keep-alive connection
    /// may wait for its next request, before the connection is closed. [default: 10]
    #[arg(
        long,
        env = "TEGATA_HEADER_READ_TIMEOUT_SECONDS",
        value_name = "SECONDS"
    )]
    pub header_read_timeout_seconds: Option<u64>,

    /// Seconds a request's body may take to arrive, and again seconds its answer may take; past
    /// either the request is answered `ServiceUnavailable` (HTTP 503). [default: 30]
    #[arg(long, env = "TEGATA_REQUEST_TIMEOUT_SECONDS", value_name = "SECONDS")]
    pub request_timeout_seconds: Option<u64>,

    /// Seconds a graceful shutdown (SIGINT, SIGTERM) waits for requests in flight. [default: 30]
    #[arg(long, env = "TEGATA_SHUTDOWN_TIMEOUT_SECONDS", value_name = "SECONDS")]
    pub shutdown_timeout_seconds: Option<u64>,

    /// Web pages allowed to read tegata's answers from a browser (CORS): `*` for any origin, as
    /// AWS's endpoints answer, or a comma-separated list of origins such as
    /// `https://app.example.com,http://localhost:5173`. Other pages' requests are answered
    /// without the CORS headers, so their browsers refuse them. [default: *]
    #[arg(long, env = "TEGATA_CORS_ALLOWED_ORIGINS", value_name = "ORIGINS")]
    pub cors_allowed_origins: Option<String>,

    /// Serve https with this certificate chain (PEM, the server's certificate first), so that
    /// the token issuer is an https URL without a proxy in front. Needs --tls-key. Both files
    /// are read again on SIGHUP (a renewed certificate, without a restart).
    #[arg(long, env = "TEGATA_TLS_CERT", value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,

    /// The private key of --tls-cert (PEM: PKCS#8, PKCS#1 or SEC1).
    #[arg(long, env = "TEGATA_TLS_KEY", value_name = "FILE")]
    pub tls_key: Option<PathBuf>,

    /// Testing aid, in builds with the `testing` feature only: shift the server's clock by this
    /// many seconds (expiry tests).
    #[cfg(feature = "testing")]
    #[arg(
        long,
        env = "TEGATA_CLOCK_OFFSET_SECONDS",
        value_name = "SECONDS",
        hide = true,
        allow_hyphen_values = true
    )]
    pub clock_offset_seconds: Option<i64>,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum LogFormat {
    #[default]
    Text,
    Json,
}

/// The same settings, as the TOML file spells them.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    public_url: Option<String>,
    database_url: Option<String>,
    master_key_file: Option<PathBuf>,
    previous_master_key_file: Option<PathBuf>,
    log: Option<String>,
    log_format: Option<LogFormat>,
    max_identity_pools: Option<u64>,
    strict_cognito_trust: Option<bool>,
    explain_denials: Option<bool>,
    metrics: Option<bool>,
    metrics_listen: Option<String>,
    signing_key_rotation_days: Option<u32>,
    token_algorithm: Option<String>,
    audit_log: Option<String>,
    max_request_bytes: Option<usize>,
    max_concurrent_requests: Option<usize>,
    header_read_timeout_seconds: Option<u64>,
    request_timeout_seconds: Option<u64>,
    shutdown_timeout_seconds: Option<u64>,
    cors_allowed_origins: Option<String>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    #[serde(default)]
    broker: BrokerSettings,
}

/// The `[broker]` table: the credential broker's profiles, audit log, throttling and password
/// hashing.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct BrokerSettings {
    #[serde(default)]
    profiles: Vec<ProfileConfig>,
    /// `stdout` (the default), `off`, or a file path.
    audit_log: Option<String>,
    /// Nodes sharing the load: each enforces the throttling limits divided by it.
    nodes: Option<u32>,
    user_failures: Option<u32>,
    user_window_seconds: Option<i64>,
    address_failures: Option<u32>,
    address_window_seconds: Option<i64>,
    password_hashing_threads: Option<usize>,
    password_hashing_queue: Option<usize>,
    password_memory_kib: Option<u32>,
    password_iterations: Option<u32>,
    password_parallelism: Option<u32>,
}

/// The broker's resolved settings.
#[derive(Debug, Clone)]
pub(crate) struct BrokerConfig {
    pub profiles: Vec<Profile>,
    pub audit: AuditTarget,
    pub throttle: ThrottleLimits,
    pub hashing: HashingConfig,
}

/// How application users' passwords are hashed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HashingConfig {
    pub cost: PasswordCost,
    /// Hashes computed at once (each holds `cost.memory_kib` of memory).
    pub threads: usize,
    /// Sign-ins waiting for a thread; more are refused with 429.
    pub queue: usize,
}

impl BrokerSettings {
    fn resolve(self) -> anyhow::Result<BrokerConfig> {
        let defaults = ThrottleLimits::default();
        let cost_defaults = PasswordCost::default();
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut profiles = Vec::with_capacity(self.profiles.len());
        for profile in self.profiles {
            profiles.push(profile.check().map_err(anyhow::Error::msg)?);
        }
        let window = |name: &str, value: Option<i64>, default: i64| -> anyhow::Result<i64> {
            match value {
                None => Ok(default),
                Some(n) if n >= 1 => Ok(n),
                Some(_) => bail!("broker.{name} must be at least 1 second"),
            }
        };
        Ok(BrokerConfig {
            profiles,
            audit: AuditTarget::parse(self.audit_log.as_deref().unwrap_or("stdout"))
                .map_err(|e| anyhow::anyhow!("broker.audit_log: {e}"))?,
            throttle: ThrottleLimits {
                user_failures: self.user_failures.unwrap_or(defaults.user_failures).max(1),
                user_window_seconds: window(
                    "user_window_seconds",
                    self.user_window_seconds,
                    defaults.user_window_seconds,
                )?,
                address_failures: self
                    .address_failures
                    .unwrap_or(defaults.address_failures)
                    .max(1),
                address_window_seconds: window(
                    "address_window_seconds",
                    self.address_window_seconds,
                    defaults.address_window_seconds,
                )?,
                nodes: self.nodes.unwrap_or(1).max(1),
                max_tracked: defaults.max_tracked,
            },
            hashing: HashingConfig {
                cost: PasswordCost {
                    memory_kib: self.password_memory_kib.unwrap_or(cost_defaults.memory_kib),
                    iterations: self.password_iterations.unwrap_or(cost_defaults.iterations),
                    parallelism: self
                        .password_parallelism
                        .unwrap_or(cost_defaults.parallelism),
                },
                // Half the cores: a flood of sign-ins leaves the other half to every other
                // request.
                threads: positive(
                    "broker.password_hashing_threads",
                    self.password_hashing_threads.unwrap_or(cores.div_ceil(2)),
                )?,
                queue: self.password_hashing_queue.unwrap_or(64),
            },
        })
    }
}

const DEFAULT_SIGNING_KEY_ROTATION_DAYS: u32 = 90;

/// Resolved settings.
#[derive(Debug, Clone)]
pub(crate) struct ServeConfig {
    pub listen: String,
    pub data_dir: PathBuf,
    /// `None` means "derive from the bound address".
    pub public_url: Option<String>,
    pub database_url: Option<String>,
    pub master_key_file: PathBuf,
    pub previous_master_key_file: Option<PathBuf>,
    pub log: String,
    pub log_format: LogFormat,
    pub max_identity_pools: u64,
    pub strict_cognito_trust: bool,
    pub explain_denials: bool,
    pub metrics: bool,
    /// The metrics' own listener, if any.
    pub metrics_listen: Option<String>,
    /// Seconds between scheduled rotations of the signing key; `None`: never.
    pub signing_key_rotation: Option<i64>,
    /// The first signing key's algorithm, when the setting was given.
    pub token_algorithm: Option<TokenAlgorithm>,
    pub audit: AuditTarget,
    /// The certificate and key to serve https with; plain http without.
    pub tls: Option<TlsFiles>,
    pub limits: Limits,
    pub server: ServerOptions,
    pub cors: AllowedOrigins,
    pub broker: BrokerConfig,
    #[cfg(feature = "testing")]
    pub clock_offset_seconds: i64,
}

impl ServeArgs {
    pub(crate) fn resolve(self) -> anyhow::Result<ServeConfig> {
        let default_limits = Limits::default();
        let default_server = ServerOptions::default();
        let file = match &self.config {
            Some(path) => load_file(path)?,
            None => FileConfig::default(),
        };
        let data_dir = self
            .data_dir
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let master_key_file = self
            .master_key_file
            .or(file.master_key_file)
            .unwrap_or_else(|| data_dir.join("master.key"));
        let public_url = self
            .public_url
            .or(file.public_url)
            .map(|url| url.trim_end_matches('/').to_owned());
        if let Some(url) = &public_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            bail!("--public-url must start with http:// or https:// (got '{url}')");
        }
        Ok(ServeConfig {
            listen: self
                .listen
                .or(file.listen)
                .unwrap_or_else(|| DEFAULT_LISTEN.to_owned()),
            data_dir,
            public_url,
            database_url: self.database_url.or(file.database_url),
            master_key_file,
            previous_master_key_file: self
                .previous_master_key_file
                .or(file.previous_master_key_file),
            log: self.log.or(file.log).unwrap_or_else(|| "info".to_owned()),
            log_format: self.log_format.or(file.log_format).unwrap_or_default(),
            max_identity_pools: self
                .max_identity_pools
                .or(file.max_identity_pools)
                .unwrap_or(tegata_core::cognito_identity::DEFAULT_MAX_IDENTITY_POOLS),
            strict_cognito_trust: self
                .strict_cognito_trust
                .or(file.strict_cognito_trust)
                .unwrap_or(false),
            explain_denials: self
                .explain_denials
                .or(file.explain_denials)
                .unwrap_or(false),
            metrics: self.metrics.or(file.metrics).unwrap_or(true),
            metrics_listen: self.metrics_listen.or(file.metrics_listen),
            audit: match self.audit_log.or(file.audit_log) {
                Some(text) => {
                    AuditTarget::parse(&text).map_err(|e| anyhow::anyhow!("--audit-log: {e}"))?
                }
                None => AuditTarget::Off,
            },
            signing_key_rotation: match self
                .signing_key_rotation_days
                .or(file.signing_key_rotation_days)
                .unwrap_or(DEFAULT_SIGNING_KEY_ROTATION_DAYS)
            {
                0 => None,
                days => Some(i64::from(days) * 86_400),
            },
            token_algorithm: match self.token_algorithm {
                Some(algorithm) => Some(algorithm),
                None => file
                    .token_algorithm
                    .as_deref()
                    .map(str::parse::<TokenAlgorithm>)
                    .transpose()
                    .map_err(|e| anyhow::anyhow!("token_algorithm: {e}"))?,
            },
            limits: Limits {
                max_body_bytes: self
                    .max_request_bytes
                    .or(file.max_request_bytes)
                    .unwrap_or(default_limits.max_body_bytes),
                max_in_flight: positive(
                    "max_concurrent_requests",
                    self.max_concurrent_requests
                        .or(file.max_concurrent_requests)
                        .unwrap_or(default_limits.max_in_flight),
                )?,
                request_timeout: seconds(
                    "request_timeout_seconds",
                    self.request_timeout_seconds
                        .or(file.request_timeout_seconds),
                    default_limits.request_timeout,
                )?,
            },
            server: ServerOptions {
                header_read_timeout: seconds(
                    "header_read_timeout_seconds",
                    self.header_read_timeout_seconds
                        .or(file.header_read_timeout_seconds),
                    default_server.header_read_timeout,
                )?,
                shutdown_deadline: seconds(
                    "shutdown_timeout_seconds",
                    self.shutdown_timeout_seconds
                        .or(file.shutdown_timeout_seconds),
                    default_server.shutdown_deadline,
                )?,
            },
            cors: match self.cors_allowed_origins.or(file.cors_allowed_origins) {
                None => AllowedOrigins::Any,
                Some(text) => AllowedOrigins::parse(&text)
                    .map_err(|e| anyhow::anyhow!("cors_allowed_origins: {e}"))?,
            },
            tls: match (
                self.tls_cert.or(file.tls_cert),
                self.tls_key.or(file.tls_key),
            ) {
                (Some(certificate), Some(private_key)) => Some(TlsFiles {
                    certificate,
                    private_key,
                }),
                (None, None) => None,
                _ => bail!(
                    "--tls-cert and --tls-key (tls_cert, tls_key) go together: give both, or \
                     neither"
                ),
            },
            broker: file.broker.resolve()?,
            #[cfg(feature = "testing")]
            clock_offset_seconds: self.clock_offset_seconds.unwrap_or(0),
        })
    }
}

/// A count that must be at least one.
fn positive(name: &str, value: usize) -> anyhow::Result<usize> {
    if value == 0 {
        bail!("{name} must be at least 1");
    }
    Ok(value)
}

/// A number of seconds, at least one.
fn seconds(name: &str, value: Option<u64>, default: Duration) -> anyhow::Result<Duration> {
    match value {
        None => Ok(default),
        Some(0) => bail!("{name} must be at least 1 second"),
        Some(n) => Ok(Duration::from_secs(n)),
    }
}

fn load_file(path: &Path) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the configuration file {}", path.display()))?;
    // toml's own Display quotes the offending line, which may hold a database password: report
    // only the message and the line number.
    toml::from_str(&text).map_err(|e| {
        let line = e
            .span()
            .map(|span| text[..span.start.min(text.len())].lines().count().max(1));
        anyhow::anyhow!(
            "in the configuration file {}{}: {}",
            path.display(),
            line.map(|l| format!(", line {l}")).unwrap_or_default(),
            e.message()
        )
    })
}

/// Where a deployment's store is, for the administration commands that open it directly
/// (`tegata app-users`): the same flags, variables and file keys as `tegata serve`.
#[derive(Debug, Args)]
pub(crate) struct StoreArgs {
    /// The deployment's data directory (its SQLite database). [default: ./tegata-data]
    #[arg(long, env = "TEGATA_DATA_DIR", value_name = "DIR", global = true)]
    pub data_dir: Option<PathBuf>,

    /// The deployment's PostgreSQL URL, when it uses PostgreSQL.
    #[arg(
        long,
        env = "TEGATA_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true,
        global = true
    )]
    pub database_url: Option<String>,

    /// The configuration file `tegata serve` uses (for data_dir, database_url, audit_log and
    /// the `[broker]` password hashing cost).
    #[arg(long, env = "TEGATA_CONFIG", value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,

    /// Where the commands that change the deployment (keys, identities, roles, master-key)
    /// write their audit line, as `tegata serve --audit-log` does: `off`, `stdout`, or a file.
    /// [default: the configuration file's audit_log, else off]
    #[arg(
        long,
        env = "TEGATA_AUDIT_LOG",
        value_name = "off|stdout|FILE",
        global = true
    )]
    pub audit_log: Option<String>,
}

/// `--master-key-file` of the commands that seal secrets beside `serve`.
#[derive(Debug, Args)]
pub(crate) struct MasterKeyFileArg {
    /// The deployment's master key file: the key its secrets are sealed under now.
    /// [default: the configuration file's master_key_file, else <data-dir>/master.key]
    #[arg(
        long,
        env = "TEGATA_MASTER_KEY_FILE",
        value_name = "FILE",
        global = true
    )]
    master_key_file: Option<PathBuf>,
}

impl MasterKeyFileArg {
    pub(crate) fn resolve(self, location: &StoreLocation) -> PathBuf {
        self.master_key_file
            .unwrap_or_else(|| location.master_key_file.clone())
    }
}

/// A deployment's store location and password hashing settings.
#[derive(Debug)]
pub(crate) struct StoreLocation {
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    /// The master key file named by the configuration file, else `<data-dir>/master.key`.
    pub master_key_file: PathBuf,
    pub hashing: HashingConfig,
    /// Where an operator command's audit line goes.
    pub audit: AuditTarget,
}

impl StoreLocation {
    /// Open the store of a deployment that exists (never make one: that is `tegata serve`'s).
    pub(crate) async fn open_existing(
        &self,
    ) -> anyhow::Result<std::sync::Arc<dyn tegata_core::store::Store>> {
        if self.database_url.is_none() && !self.data_dir.join("tegata.db").exists() {
            bail!(
                "there is no tegata deployment in {} (start `tegata serve` there first, or give \
                 --data-dir or --database-url)",
                self.data_dir.display()
            );
        }
        tegata_store::open(self.database_url.as_deref(), &self.data_dir)
            .await
            .context("opening the store")
    }
}

impl StoreArgs {
    pub(crate) fn resolve(self) -> anyhow::Result<StoreLocation> {
        let file = match &self.config {
            Some(path) => load_file(path)?,
            None => FileConfig::default(),
        };
        let data_dir = self
            .data_dir
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        Ok(StoreLocation {
            master_key_file: file
                .master_key_file
                .unwrap_or_else(|| data_dir.join("master.key")),
            data_dir,
            database_url: self.database_url.or(file.database_url),
            hashing: file.broker.resolve()?.hashing,
            audit: match self.audit_log.or(file.audit_log) {
                Some(text) => {
                    AuditTarget::parse(&text).map_err(|e| anyhow::anyhow!("--audit-log: {e}"))?
                }
                None => AuditTarget::Off,
            },
        })
    }
}
