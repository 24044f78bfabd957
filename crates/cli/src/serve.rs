//! `tegata serve`: first-start bootstrap, then the HTTP server until SIGINT or SIGTERM.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};
use tegata_broker::audit::AuditLog;
use tegata_broker::authenticators::WebhookClient;
use tegata_broker::aws::AwsBackend;
use tegata_broker::backend::{CredentialBackend, EmbeddedBackend};
use tegata_broker::http::RequestLimits;
use tegata_broker::profiles::{AuthenticatorKind, BackendKind};
use tegata_broker::throttle::SignInThrottle;
use tegata_broker::{AuthenticatorServices, Broker, BrokerProfile};
use tegata_core::access_keys::AccessKeys;
use tegata_core::account::{AccessKeyRecord, Bootstrap};
use tegata_core::app_users::{AppUsers, PasswordHashing};
use tegata_core::authz::{PermissionCache, Permissions};
use tegata_core::cognito_identity::CognitoIdentity;
use tegata_core::denials::DenialMessages;
use tegata_core::iam::{Iam, IamShared, RoleCache};
use tegata_core::master_key::MasterKey;
use tegata_core::revocations::{self, SessionRevocations};
use tegata_core::store::Store;
use tegata_core::sts::credentials::CredentialMinter;
use tegata_core::sts::{Sts, StsShared};
use tegata_core::tokens::TokenIssuer;
use tegata_core::tokens::federation::ExternalKeys;
use tegata_core::tokens::keeper::{self, KeyChangeKind, KeyKeeper, RingSource};
use tegata_core::tokens::keys::{KeyRing, TokenAlgorithm};
use tegata_core::tokens::lifecycle;
use tegata_core::{Deployment, Randomness, SystemRandomness};
use tegata_server::auth::Authenticator;
use tegata_server::authorize::{Authorizer, Explanations};
use tegata_server::key_fetcher::HttpKeyFetcher;
use tegata_server::tls::ReloadableTls;
use tegata_server::{AppState, Clock, RequestIds, SystemClock};
use tracing_subscriber::EnvFilter;

use crate::config::{LogFormat, ServeArgs, ServeConfig};

/// Bounds on fetching an OpenID Connect provider's discovery document and keys: a provider that
/// is down costs a request at most this, and is then not asked again for ten seconds.
const OIDC_CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);
const OIDC_FETCH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

pub(crate) fn run(args: ServeArgs) -> anyhow::Result<()> {
    let config = args.resolve()?;
    let filter = EnvFilter::try_new(&config.log)
        .with_context(|| format!("--log '{}' is not a valid filter", config.log))?;
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match config.log_format {
        LogFormat::Text => subscriber
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
        LogFormat::Json => subscriber.json().init(),
    }
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?
        .block_on(serve(config))
}

async fn serve(config: ServeConfig) -> anyhow::Result<()> {
    let rng: Arc<dyn Randomness> = Arc::new(SystemRandomness);
    // The address first: a server that cannot listen must leave nothing behind.
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("listening on {}", config.listen))?;
    let metrics_listener = match &config.metrics_listen {
        Some(_) if !config.metrics => bail!("--metrics-listen needs the metrics on"),
        Some(address) => Some(
            tokio::net::TcpListener::bind(address)
                .await
                .with_context(|| format!("listening on {address} (--metrics-listen)"))?,
        ),
        None => None,
    };
    // The certificate next: a server that cannot serve https must not create a deployment.
    let tls = config
        .tls
        .clone()
        .map(ReloadableTls::load)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    let new_directory = !config.data_dir.exists();
    create_private_dir(&config.data_dir)?;
    let data_dir = config
        .data_dir
        .canonicalize()
        .with_context(|| format!("resolving {}", config.data_dir.display()))?;
    // Held until the process ends: one server per data directory.
    let _lock = lock_data_dir(&data_dir)?;
    if new_directory {
        tracing::info!(data_dir = %data_dir.display(), "created the data directory");
    }

    // The store before the master key: a database that cannot be reached must not leave a new
    // key behind.
    let store: Arc<dyn Store> =
        tegata_store::open(config.database_url.as_deref(), &config.data_dir)
            .await
            .context("opening the store")?;
    // A deployment's key is never made afresh: a new one could not read the stored secrets,
    // and the next start would blame the key for what a missing file did.
    if !config.master_key_file.exists()
        && !store
            .signing_keys()
            .await
            .context("reading the deployment's signing keys")?
            .is_empty()
    {
        bail!(
            "the store holds a deployment, but its master key {} is missing: restore the key \
             file (every node of a deployment uses the same one)",
            config.master_key_file.display()
        );
    }
    let mut master = load_or_create_master_key(&config.master_key_file, &*rng)?;
    if let Some(previous) = &config.previous_master_key_file {
        let previous = crate::keys::read_master_key(previous)?;
        tracing::info!(
            master_key = master.id(),
            previous_master_key = previous.id(),
            "master key rotation: sealing under the master key, opening what either sealed"
        );
        master = master.with_previous(previous);
    }
    let master = Arc::new(master);
    let store_kind = if config.database_url.is_some() {
        "postgresql"
    } else {
        "sqlite"
    };

    let deployment = bootstrap(
        &*store,
        &master,
        config.token_algorithm.unwrap_or_default(),
        rng.clone(),
        &data_dir,
    )
    .await?;
    let clock = clock(&config);
    let admin_secret = deployment
        .admin_key
        .secret(&master)
        .map_err(|e| master_key_mismatch(&config, e))?;
    let (keys, loaded_keys) =
        load_keys(&*store, &master, &config, clock.now().unix_timestamp()).await?;

    let bound = listener.local_addr().context("reading the bound address")?;
    let public_url = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("{scheme}://{bound}"));

    let credentials_path = config.data_dir.join("credentials");
    write_credentials_file(&credentials_path, &deployment.admin_key, &admin_secret)?;

    let issuer = Arc::new(TokenIssuer::new(keys).context("starting the token signing threads")?);
    let audit = Arc::new(
        AuditLog::open(&config.audit)
            .with_context(|| format!("opening the audit log {:?}", config.audit))?,
    );
    keep_keys(
        KeyKeeper::new(
            store.clone(),
            master.clone(),
            issuer.clone(),
            loaded_keys,
            config.signing_key_rotation,
            rng.clone(),
        ),
        clock.clone(),
        audit.clone(),
    );
    let minter = Arc::new(CredentialMinter::new(&master));
    let identity = Arc::new(Deployment {
        account_id: deployment.account.account_id.clone(),
        issuer: public_url.clone(),
    });
    // Roles read by AssumeRoleWithWebIdentity, shared with IAM so its writes are seen at once.
    let roles = Arc::new(RoleCache::default());
    let access_keys = Arc::new(AccessKeys::new(
        store.clone(),
        master.clone(),
        identity.clone(),
    ));
    // Principals' policies read by authorization, shared with IAM so its writes are seen at once.
    let permissions = Arc::new(PermissionCache::default());
    let limits = config.limits;
    // Keys of registered OpenID Connect providers, fetched when first needed: a deployment
    // without egress works on with tegata's own tokens.
    let fetcher = HttpKeyFetcher::new(OIDC_CONNECT_TIMEOUT, OIDC_FETCH_TIMEOUT)
        .map_err(|e| anyhow::anyhow!("preparing the OpenID Connect key fetcher: {e}"))?;
    let external_keys = Arc::new(ExternalKeys::new(Arc::new(fetcher)));
    // Sealed explanations of denials: made only with --explain-denials, always decodable.
    let denials = Arc::new(DenialMessages::new(&master));
    // Revoked sessions of identities, read before serving and again every half second.
    let revocations = Arc::new(SessionRevocations::new(store.clone()));
    revocations
        .refresh()
        .await
        .context("reading the revoked sessions")?;
    keep_revocations(revocations.clone(), clock.clone());
    let sts = Arc::new(Sts::new(
        StsShared {
            store: store.clone(),
            deployment: identity.clone(),
            roles: roles.clone(),
            issuer: issuer.clone(),
            minter: minter.clone(),
            external_keys: external_keys.clone(),
            denials: denials.clone(),
            revocations: revocations.clone(),
        },
        config.strict_cognito_trust,
    ));
    let cognito_identity = Arc::new(CognitoIdentity::new(
        store.clone(),
        identity.clone(),
        issuer.clone(),
        sts.clone(),
        config.max_identity_pools,
    ));
    let broker = broker(
        &config,
        store.clone(),
        external_keys,
        EmbeddedBackend {
            cognito_identity: cognito_identity.clone(),
            sts: sts.clone(),
            rng: rng.clone(),
            now: Arc::new(ClockSeconds(clock.clone())),
        },
        rng.clone(),
    )
    .await?;
    let mut authorizer = Authorizer::new(Arc::new(Permissions::new(
        store.clone(),
        permissions.clone(),
    )));
    if config.explain_denials {
        tracing::warn!(
            "--explain-denials: every AccessDenied carries an encoded explanation; meant for \
             development"
        );
        authorizer = authorizer.explaining_denials(Explanations {
            messages: denials,
            rng: rng.clone(),
        });
    }
    let metrics = if config.metrics {
        let handle = tegata_server::metrics::install()
            .map_err(|e| anyhow::anyhow!("installing the metrics recorder: {e}"))?;
        // Histograms hold their samples until rendered or until this upkeep folds them in:
        // without it, a node nothing scrapes would grow by every request.
        let upkeep = handle.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(5));
            loop {
                every.tick().await;
                upkeep.run_upkeep();
            }
        });
        Some(handle)
    } else {
        None
    };
    // Places among the requests being answered, shared by the AWS services and the broker.
    let in_flight = Arc::new(tokio::sync::Semaphore::new(limits.max_in_flight));
    let state = Arc::new(AppState {
        cognito_identity,
        iam: Iam::new(
            store.clone(),
            identity.clone(),
            IamShared {
                roles,
                permissions: permissions.clone(),
                access_keys: access_keys.clone(),
                master: master.clone(),
            },
        ),
        sts,
        deployment: identity,
        issuer,
        authenticator: Authenticator::new(access_keys, minter, revocations),
        authorizer,
        clock: clock.clone(),
        request_ids: RequestIds::new(rng.clone()),
        cors: config.cors.clone(),
        rng,
        limits,
        in_flight: in_flight.clone(),
        store: store.clone(),
        metrics,
        metrics_elsewhere: metrics_listener.is_some(),
        audit,
    });

    tracing::info!(
        account = %deployment.account.account_id,
        store = store_kind,
        data_dir = %config.data_dir.display(),
        credentials = %credentials_path.display(),
        "administrator credentials (profile `default`) are in the credentials file"
    );
    let shutdown = shutdown_signal();
    if let Some(tls) = &tls {
        reload_tls_on_hangup(tls.clone());
    }
    if let Some(listener) = metrics_listener {
        let address = listener
            .local_addr()
            .context("reading the metrics address")?;
        tracing::info!("metrics on http://{address}/metrics");
        tokio::spawn(tegata_server::http_server::serve(
            listener,
            tegata_server::metrics_router(state.clone()),
            config.server,
            None,
            stop_signal(),
        ));
    }
    tracing::info!(issuer = %public_url, "tegata listening on {scheme}://{bound}");

    let broker_routes = tegata_broker::http::router(
        broker,
        clock,
        RequestLimits {
            timeout: limits.request_timeout,
            in_flight: Some(in_flight),
        },
    );
    tegata_server::http_server::serve(
        listener,
        tegata_server::router_with(state, broker_routes),
        config.server,
        tls,
        shutdown,
    )
    .await;
    tracing::info!("tegata stopped");
    Ok(())
}

/// Read the TLS certificate and key again at every SIGHUP (a renewed certificate).
fn reload_tls_on_hangup(tls: ReloadableTls) {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hangups = match signal(SignalKind::hangup()) {
        Ok(hangups) => hangups,
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGHUP: the TLS certificate will not be reloaded");
            return;
        }
    };
    tokio::spawn(async move {
        while hangups.recv().await.is_some() {
            match tls.reload() {
                Ok(()) => tracing::info!(
                    certificate = %tls.files().certificate.display(),
                    "SIGHUP: reloaded the TLS certificate"
                ),
                Err(e) => tracing::error!(
                    error = %e,
                    "SIGHUP: the TLS certificate was not reloaded; the current one stays"
                ),
            }
        }
    });
}

/// The audit line of a node's new key ring.
#[derive(serde::Serialize)]
struct SigningKeysLine<'a> {
    #[serde(serialize_with = "tegata_core::audit::rfc3339")]
    time: time::OffsetDateTime,
    event: &'static str,
    /// What this node changed itself, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    changed_here: Option<KeyChangeKind>,
    active: &'a str,
    published: Vec<String>,
}

/// Read the revocations made elsewhere every [`revocations::REFRESH_PERIOD`], and prune the
/// expired ones hourly. Failures are logged when they start, not at every round.
fn keep_revocations(revocations: Arc<SessionRevocations>, clock: Arc<dyn Clock>) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(revocations::REFRESH_PERIOD);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failing = false;
        let mut last_prune = None::<std::time::Instant>;
        loop {
            every.tick().await;
            match revocations.refresh().await {
                Ok(()) if failing => {
                    failing = false;
                    tracing::info!("revoked sessions: read again");
                }
                Ok(()) => {}
                Err(e) if !failing => {
                    failing = true;
                    tracing::warn!(error = %e, "revoked sessions: cannot read them; this node keeps those it knows");
                }
                Err(_) => {}
            }
            if last_prune.is_none_or(|at| at.elapsed() >= std::time::Duration::from_secs(3600)) {
                last_prune = Some(std::time::Instant::now());
                if let Err(e) = revocations.prune(clock.now().unix_timestamp()).await {
                    tracing::warn!(error = %e, "revoked sessions: pruning failed");
                }
            }
        }
    });
}

/// The credential broker of `config`'s profiles, each on the embedded backend or the AWS one.
async fn broker(
    config: &ServeConfig,
    store: Arc<dyn Store>,
    external_keys: Arc<ExternalKeys>,
    embedded: EmbeddedBackend,
    rng: Arc<dyn Randomness>,
) -> anyhow::Result<Arc<Broker>> {
    let settings = &config.broker;
    let embedded: Arc<dyn CredentialBackend> = Arc::new(embedded);
    let aws: Option<Arc<dyn CredentialBackend>> = if settings
        .profiles
        .iter()
        .any(|p| p.backend == BackendKind::Aws)
    {
        Some(Arc::new(AwsBackend::from_environment().await))
    } else {
        None
    };
    let uses = |kind| {
        settings
            .profiles
            .iter()
            .any(|p| p.authenticator.kind() == kind)
    };
    let app_users = if uses(AuthenticatorKind::Password) {
        let hashing = settings.hashing;
        let hashing = PasswordHashing::new(hashing.cost, hashing.threads, hashing.queue, &*rng)
            .map_err(|e| anyhow::anyhow!("broker: {e}"))?;
        Some(Arc::new(AppUsers::new(store, Arc::new(hashing))))
    } else {
        None
    };
    let webhook = if uses(AuthenticatorKind::Webhook) {
        Some(WebhookClient::new().map_err(|e| anyhow::anyhow!("broker webhook client: {e}"))?)
    } else {
        None
    };
    // The OpenID providers' keys are cached with those of IAM's providers, by issuer.
    let jwt_keys = uses(AuthenticatorKind::Jwt).then_some(external_keys);
    let audit = AuditLog::open(&settings.audit)
        .with_context(|| format!("opening the broker's audit log {:?}", settings.audit))?;
    let profiles = settings
        .profiles
        .iter()
        .map(|profile| BrokerProfile {
            profile: profile.clone(),
            backend: match (&aws, profile.backend) {
                (Some(aws), BackendKind::Aws) => aws.clone(),
                _ => embedded.clone(),
            },
        })
        .collect();
    for profile in &settings.profiles {
        tracing::info!(
            profile = %profile.name,
            pool = %profile.identity_pool_id,
            flow = ?profile.flow,
            backend = ?profile.backend,
            "broker profile ready at POST /broker/v1/profiles/{}/credentials",
            profile.name
        );
    }
    let broker = Broker::new(
        profiles,
        AuthenticatorServices {
            app_users,
            webhook,
            jwt_keys,
        },
        SignInThrottle::new(settings.throttle),
        audit,
        rng,
    )
    .map_err(anyhow::Error::msg)?;
    Ok(Arc::new(broker))
}

/// The server's clock in Unix seconds, for the broker's embedded backend.
struct ClockSeconds(Arc<dyn Clock>);

impl tegata_broker::backend::Now for ClockSeconds {
    fn now(&self) -> i64 {
        self.0.now().unix_timestamp()
    }
}

/// Create the account, administrator key and first signing key unless the store has them.
async fn bootstrap(
    store: &dyn Store,
    master: &Arc<MasterKey>,
    algorithm: TokenAlgorithm,
    rng: Arc<dyn Randomness>,
    data_dir: &Path,
) -> anyhow::Result<Bootstrap> {
    let now = unix_now();
    let master_for_keygen = master.clone();
    // RSA key generation takes tens of milliseconds of CPU: keep it off the async workers.
    let candidate = tokio::task::spawn_blocking(move || {
        Bootstrap::prepare(&master_for_keygen, algorithm, now, &*rng)
    })
    .await
    .context("preparing the first-start state")?
    .context("preparing the first-start state")?;
    let stored = store
        .bootstrap(&candidate)
        .await
        .context("storing the first-start state")?;
    if stored.account == candidate.account {
        tracing::info!(
            account = %stored.account.account_id,
            data_dir = %data_dir.display(),
            "creating a new deployment: the account, its administrator key and signing key"
        );
    }
    Ok(stored)
}

/// The ring of the stored keys, and what it was built from (for the keeper's reloads).
async fn load_keys(
    store: &dyn Store,
    master: &MasterKey,
    config: &ServeConfig,
    now: i64,
) -> anyhow::Result<(KeyRing, RingSource)> {
    let records = store.signing_keys().await.context("reading signing keys")?;
    // The setting chooses the first key's algorithm; afterwards the store holds the
    // deployment's, which only `tegata keys rotate --algorithm` changes (nodes started with
    // different settings would otherwise take turns replacing each other's next key).
    let stored = lifecycle::deployment_algorithm(&records);
    if let Some(wanted) = config.token_algorithm
        && wanted != stored
    {
        tracing::warn!(
            setting = %wanted,
            deployment = %stored,
            "--token-algorithm applies to a new deployment; this one makes {stored} keys: run \
             `tegata keys rotate --algorithm {wanted}` to move it"
        );
    }
    keeper::load_ring(&records, master, now)
        .map_err(anyhow::Error::msg)
        .with_context(|| {
            format!(
                "loading the signing keys (is {} the deployment's master key?)",
                config.master_key_file.display()
            )
        })
}

/// Every [`KeyKeeper::period`], reload the keys changed elsewhere and move their lifecycle on.
/// A failing round is logged when it starts failing and when it recovers, not every time.
fn keep_keys(keeper: KeyKeeper, clock: Arc<dyn Clock>, audit: Arc<AuditLog>) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(KeyKeeper::period());
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failing = false;
        loop {
            every.tick().await;
            let now = clock.now();
            match keeper.round(now.unix_timestamp()).await {
                Ok(round) => {
                    if failing {
                        tracing::info!("signing keys: read again");
                        failing = false;
                    }
                    match round.changed {
                        Some(KeyChangeKind::PublishedNextKey) => {
                            tracing::info!("signing keys: published a next key")
                        }
                        Some(KeyChangeKind::Rotated) => {
                            tracing::info!("signing keys: rotated on schedule")
                        }
                        None => {}
                    }
                    if round.reloaded {
                        let ring = keeper.ring();
                        let active = ring.active().map(|k| k.kid()).unwrap_or("none");
                        let published: Vec<String> =
                            ring.jwks().keys.into_iter().map(|k| k.kid).collect();
                        tracing::info!(active, published = published.len(), "signing keys: loaded");
                        // Every node writes what it now signs and verifies with, whoever
                        // changed the keys (this node, another, or `tegata keys`).
                        audit.write(&SigningKeysLine {
                            time: now,
                            event: "signing_keys_loaded",
                            changed_here: round.changed,
                            active,
                            published,
                        });
                    }
                }
                Err(e) if !failing => {
                    failing = true;
                    tracing::warn!(error = %e, "signing keys: this node keeps its current keys");
                }
                Err(_) => {}
            }
        }
    });
}

fn master_key_mismatch(
    config: &ServeConfig,
    e: tegata_core::master_key::MasterKeyError,
) -> anyhow::Error {
    anyhow::anyhow!(
        "{e}; the master key in {} is not the one this deployment's data was encrypted with \
         (every node must use the same master key file)",
        config.master_key_file.display()
    )
}

fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The name of the lock file a serving node holds in its data directory.
const LOCK_FILE: &str = "tegata.lock";

/// Lock the data directory for this process, or say which directory another server holds.
/// The lock is the operating system's (released when the process ends, however it ends), so a
/// stale file never blocks a restart.
fn lock_data_dir(data_dir: &Path) -> anyhow::Result<std::fs::File> {
    let path = data_dir.join(LOCK_FILE);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => bail!(
            "another tegata server is using the data directory {} (it holds {}); stop it, or \
             give this one another --data-dir",
            data_dir.display(),
            LOCK_FILE
        ),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("locking {}", path.display()))
        }
    }
}

fn create_private_dir(dir: &Path) -> anyhow::Result<()> {
    if !dir.exists() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating the data directory {}", dir.display()))?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("restricting {}", dir.display()))?;
    }
    Ok(())
}

/// Read the master key, or create it on first start (mode 0600). Several nodes may start at
/// once on a shared key path: the key is written whole to a private temporary file and then
/// hard-linked into place, which fails if another node got there first — so nobody ever reads a
/// half-written key, and the loser simply reads the winner's.
fn load_or_create_master_key(path: &Path, rng: &dyn Randomness) -> anyhow::Result<MasterKey> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            return MasterKey::from_file_contents(&text)
                .with_context(|| format!("reading the master key {}", path.display()));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(e).with_context(|| format!("reading the master key {}", path.display()));
        }
    }
    let key = MasterKey::generate(rng);
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    let temporary = path.with_extension(format!("tmp.{}", std::process::id()));
    let _ = std::fs::remove_file(&temporary);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temporary)
        .with_context(|| format!("creating {}", temporary.display()))?;
    file.write_all(key.to_file_contents().as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", temporary.display()))?;
    let linked = std::fs::hard_link(&temporary, path);
    let _ = std::fs::remove_file(&temporary);
    match linked {
        Ok(()) => {
            tracing::info!(path = %path.display(), id = key.id(), "created a new master key; back it up: without it the data cannot be decrypted");
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            load_or_create_master_key(path, rng)
        }
        Err(e) => Err(e).with_context(|| format!("creating the master key {}", path.display())),
    }
}

/// Write the administrator's key in the AWS shared-credentials format (mode 0600), replacing the
/// file atomically so a reader never sees half of it.
fn write_credentials_file(path: &Path, key: &AccessKeyRecord, secret: &str) -> anyhow::Result<()> {
    let contents = format!(
        "# tegata administrator credentials, written at every start.\n\
         # Use with AWS_SHARED_CREDENTIALS_FILE={} and the server's URL as the endpoint.\n\
         [default]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
        path.display(),
        key.access_key_id,
        secret
    );
    let temporary = path.with_extension("tmp");
    let _ = std::fs::remove_file(&temporary);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temporary)
        .with_context(|| format!("creating {}", temporary.display()))?;
    file.write_all(contents.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", temporary.display()))?;
    std::fs::rename(&temporary, path).with_context(|| format!("replacing {}", path.display()))?;
    Ok(())
}

/// The future that completes on SIGINT or SIGTERM. The handlers are installed by this call,
/// not when the future is first polled: a signal sent as soon as the server says it listens
/// stops it gracefully instead of killing it.
fn shutdown_signal() -> impl Future<Output = ()> {
    let signalled = stop_signal();
    async move {
        signalled.await;
        tracing::info!("shutting down: finishing requests in flight");
    }
}

/// SIGINT or SIGTERM. The handlers are installed when this is called, not when it is polled.
fn stop_signal() -> impl Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let interrupt = signal(SignalKind::interrupt());
    let terminate = signal(SignalKind::terminate());
    async move {
        match (interrupt, terminate) {
            (Ok(mut interrupt), Ok(mut terminate)) => {
                tokio::select! {
                    _ = interrupt.recv() => {},
                    _ = terminate.recv() => {},
                }
            }
            (Ok(mut only), Err(e)) | (Err(e), Ok(mut only)) => {
                tracing::warn!(error = %e, "cannot listen for one of SIGINT and SIGTERM");
                only.recv().await;
            }
            (Err(e), Err(_)) => {
                tracing::warn!(error = %e, "cannot listen for SIGINT or SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    }
}

/// The server's clock: the system's, or in test builds (the `testing` feature) the system's
/// shifted by `--clock-offset-seconds`.
fn clock(config: &ServeConfig) -> Arc<dyn Clock> {
    #[cfg(feature = "testing")]
    if config.clock_offset_seconds != 0 {
        tracing::warn!(
            seconds = config.clock_offset_seconds,
            "the server clock is shifted (--clock-offset-seconds): for tests only"
        );
        return Arc::new(OffsetClock(time::Duration::seconds(
            config.clock_offset_seconds,
        )));
    }
    let _ = config;
    Arc::new(SystemClock)
}

/// The system clock shifted by a fixed amount (`--clock-offset-seconds`, a testing aid).
#[cfg(feature = "testing")]
struct OffsetClock(time::Duration);

#[cfg(feature = "testing")]
impl Clock for OffsetClock {
    fn now(&self) -> time::OffsetDateTime {
        SystemClock.now() + self.0
    }
}
