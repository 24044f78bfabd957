//! tegata's credential broker as an AWS Lambda function: the program people write for
//! developer-authenticated identities (authenticate the user, GetOpenIdTokenForDeveloperIdentity,
//! AssumeRoleWithWebIdentity), with the authentication done properly, on the AWS backend.
//!
//! One function serves one broker profile, configured from environment variables
//! ([`LambdaConfig::from_env`]). It answers API Gateway HTTP API (payload 2.0), REST API
//! (proxy integration) and function URL events, at the broker's path or any other path it is
//! mounted on.

use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use axum::Router;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use lambda_http::RequestExt;
use lambda_http::request::RequestContext;
use tegata_broker::audit::{AuditLog, AuditTarget};
use tegata_broker::authenticators::WebhookClient;
use tegata_broker::backend::CredentialBackend;
use tegata_broker::http::RequestLimits;
use tegata_broker::profiles::{AuthenticatorKind, BackendKind, Flow, ProfileConfig};
use tegata_broker::throttle::{SignInThrottle, ThrottleLimits};
use tegata_broker::{AuthenticatorServices, Broker, BrokerProfile};
use tegata_core::app_users::{AppUsers, PasswordCost, PasswordHashing};
use tegata_core::tokens::federation::ExternalKeys;
use tegata_core::{Randomness, SystemRandomness};
use tegata_server::key_fetcher::HttpKeyFetcher;
use tegata_server::{PeerAddr, SystemClock};

/// The function's settings, from its environment variables.
#[derive(Debug, Clone)]
pub struct LambdaConfig {
    pub profile: ProfileConfig,
    /// Where the application users are (password profiles): a PostgreSQL URL…
    pub database_url: Option<String>,
    /// …or a directory holding a tegata SQLite database (an EFS mount, or a test's).
    pub data_dir: Option<PathBuf>,
    pub audit: AuditTarget,
    /// Argon2id's cost: the same as the `tegata serve` sharing the users' store, or each would
    /// re-hash every password the other one set.
    pub password_cost: PasswordCost,
}

impl LambdaConfig {
    /// Read the settings through `var` (`std::env::var` in the function):
    ///
    /// | Variable | Meaning |
    /// |---|---|
    /// | `TEGATA_PROFILE` | the profile's name (default `default`) |
    /// | `TEGATA_AUTHENTICATOR` | `password`, `webhook` or `jwt` |
    /// | `TEGATA_IDENTITY_POOL_ID`, `TEGATA_DEVELOPER_PROVIDER` | the pool and its developer provider |
    /// | `TEGATA_ROLE_ARN` | the role (basic flow) |
    /// | `TEGATA_FLOW` | `basic` (default) or `enhanced` |
    /// | `TEGATA_TOKEN_DURATION_SECONDS`, `TEGATA_SESSION_DURATION_SECONDS` | as in a profile |
    /// | `TEGATA_WEBHOOK_URL`, `TEGATA_WEBHOOK_TIMEOUT_SECONDS` | webhook profiles |
    /// | `TEGATA_JWT_ISSUER`, `TEGATA_JWT_AUDIENCES` (comma-separated), `TEGATA_JWT_USER_CLAIM` | jwt profiles |
    /// | `TEGATA_DATABASE_URL` or `TEGATA_DATA_DIR` | the application users' store (password profiles) |
    /// | `TEGATA_AUDIT_LOG` | `stdout` (default: CloudWatch Logs), a file, or `off` |
    /// | `TEGATA_PASSWORD_MEMORY_KIB`, `TEGATA_PASSWORD_ITERATIONS`, `TEGATA_PASSWORD_PARALLELISM` | Argon2id's cost, as `tegata serve`'s |
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let required = |name: &str| {
            var(name).with_context(|| format!("the environment variable {name} is not set"))
        };
        let number = |name: &str| -> anyhow::Result<Option<i64>> {
            var(name)
                .map(|v| {
                    v.parse()
                        .with_context(|| format!("{name} is not a number: '{v}'"))
                })
                .transpose()
        };
        let defaults = PasswordCost::default();
        let cost = |name: &str, default: u32| -> anyhow::Result<u32> {
            var(name).map_or(Ok(default), |v| {
                v.parse()
                    .with_context(|| format!("{name} is not a number: '{v}'"))
            })
        };
        let authenticator = match required("TEGATA_AUTHENTICATOR")?.as_str() {
            "password" => AuthenticatorKind::Password,
            "webhook" => AuthenticatorKind::Webhook,
            "jwt" => AuthenticatorKind::Jwt,
            other => bail!("TEGATA_AUTHENTICATOR is '{other}': use password, webhook or jwt"),
        };
        let flow = match var("TEGATA_FLOW").as_deref() {
            None | Some("basic") => Flow::Basic,
            Some("enhanced") => Flow::Enhanced,
            Some(other) => bail!("TEGATA_FLOW is '{other}': use basic or enhanced"),
        };
        let profile = ProfileConfig {
            name: var("TEGATA_PROFILE").unwrap_or_else(|| "default".to_owned()),
            authenticator,
            identity_pool_id: required("TEGATA_IDENTITY_POOL_ID")?,
            developer_provider: required("TEGATA_DEVELOPER_PROVIDER")?,
            role_arn: var("TEGATA_ROLE_ARN"),
            flow,
            // The function is the AWS backend: that is what it is for.
            backend: BackendKind::Aws,
            token_duration_seconds: number("TEGATA_TOKEN_DURATION_SECONDS")?.unwrap_or(900),
            session_duration_seconds: number("TEGATA_SESSION_DURATION_SECONDS")?.unwrap_or(3600),
            webhook_url: var("TEGATA_WEBHOOK_URL"),
            webhook_timeout_seconds: number("TEGATA_WEBHOOK_TIMEOUT_SECONDS")?
                .map(|n| u64::try_from(n).unwrap_or(0)),
            jwt_issuer: var("TEGATA_JWT_ISSUER"),
            jwt_audiences: var("TEGATA_JWT_AUDIENCES").map(|list| {
                list.split(',')
                    .map(|a| a.trim().to_owned())
                    .filter(|a| !a.is_empty())
                    .collect()
            }),
            jwt_user_claim: var("TEGATA_JWT_USER_CLAIM"),
        };
        Ok(Self {
            profile,
            database_url: var("TEGATA_DATABASE_URL"),
            data_dir: var("TEGATA_DATA_DIR").map(PathBuf::from),
            audit: AuditTarget::parse(var("TEGATA_AUDIT_LOG").as_deref().unwrap_or("stdout"))
                .map_err(anyhow::Error::msg)?,
            password_cost: PasswordCost {
                memory_kib: cost("TEGATA_PASSWORD_MEMORY_KIB", defaults.memory_kib)?,
                iterations: cost("TEGATA_PASSWORD_ITERATIONS", defaults.iterations)?,
                parallelism: cost("TEGATA_PASSWORD_PARALLELISM", defaults.parallelism)?,
            },
        })
    }
}

/// The function's router, on `backend` (the AWS SDK's, in the function).
pub async fn router(
    config: LambdaConfig,
    backend: Arc<dyn CredentialBackend>,
) -> anyhow::Result<Router> {
    let profile = config.profile.check().map_err(anyhow::Error::msg)?;
    let rng: Arc<dyn Randomness> = Arc::new(SystemRandomness);
    let kind = profile.authenticator.kind();
    let app_users = if kind == AuthenticatorKind::Password {
        let data_dir = config
            .data_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from("/tmp"));
        if config.database_url.is_none() && config.data_dir.is_none() {
            bail!(
                "the password authenticator needs the application users' store: set \
                 TEGATA_DATABASE_URL (PostgreSQL) or TEGATA_DATA_DIR"
            );
        }
        // Never an empty store created by mistake: every sign-in would be `unknown_user`.
        if config.database_url.is_none() && !data_dir.join("tegata.db").exists() {
            bail!(
                "TEGATA_DATA_DIR {} holds no tegata database (tegata.db)",
                data_dir.display()
            );
        }
        let store = tegata_store::open(config.database_url.as_deref(), &data_dir)
            .await
            .context("opening the application users' store")?;
        // One hash at a time: a function instance serves one request at a time anyway.
        let hashing =
            PasswordHashing::new(config.password_cost, 1, 4, &*rng).map_err(anyhow::Error::msg)?;
        Some(Arc::new(AppUsers::new(store, Arc::new(hashing))))
    } else {
        None
    };
    let webhook = if kind == AuthenticatorKind::Webhook {
        Some(WebhookClient::new().map_err(anyhow::Error::msg)?)
    } else {
        None
    };
    let jwt_keys = if kind == AuthenticatorKind::Jwt {
        let fetcher = HttpKeyFetcher::new(
            std::time::Duration::from_secs(3),
            std::time::Duration::from_secs(5),
        )
        .map_err(|e| anyhow::anyhow!("preparing the OpenID provider key fetcher: {e}"))?;
        Some(Arc::new(ExternalKeys::new(Arc::new(fetcher))))
    } else {
        None
    };
    let name = profile.name.clone();
    let broker = Broker::new(
        vec![BrokerProfile { profile, backend }],
        AuthenticatorServices {
            app_users,
            webhook,
            jwt_keys,
        },
        // A function instance sees a fraction of the traffic, and instances come and go: these
        // limits hold per instance (API Gateway's own throttling is the first line).
        SignInThrottle::new(ThrottleLimits::default()),
        AuditLog::open(&config.audit).context("opening the audit log")?,
        rng,
    )
    .map_err(anyhow::Error::msg)?;
    Ok(tegata_broker::http::single_profile_router(
        Arc::new(broker),
        Arc::new(SystemClock),
        RequestLimits::default(),
        name,
    )
    .layer(axum::middleware::from_fn(source_address)))
}

/// The caller's address, which a function has from its event rather than from a socket.
async fn source_address(mut request: Request, next: Next) -> Response {
    if let Some(address) = event_source_ip(&request) {
        request.extensions_mut().insert(PeerAddr(address));
    }
    next.run(request).await
}

fn event_source_ip(request: &Request) -> Option<IpAddr> {
    let text = match request.request_context_ref()? {
        RequestContext::ApiGatewayV2(context) => context.http.source_ip.clone(),
        RequestContext::ApiGatewayV1(context) => context.identity.source_ip.clone(),
        _ => None,
    }?;
    text.parse().ok()
}
