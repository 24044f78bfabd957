//! `tegata credentials`: a `credential_process` for the AWS CLI and SDKs. It signs in to a
//! tegata credential broker and prints the temporary credentials as JSON, caching them (mode
//! 0600) until five minutes before they expire so that every AWS command does not sign in
//! again.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use clap::Args;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Cached credentials are used until this long before they expire.
const REFRESH_BEFORE: time::Duration = time::Duration::minutes(5);
/// The broker's answer is small; anything larger is not a broker.
const MAX_ANSWER_BYTES: usize = 64 * 1024;
const TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug, Args)]
pub(crate) struct CredentialsArgs {
    /// The broker's base URL (a tegata server: http://127.0.0.1:8910, or the Lambda function's
    /// URL).
    #[arg(long, env = "TEGATA_BROKER_ENDPOINT", value_name = "URL")]
    endpoint: String,

    /// The broker profile to sign in to.
    #[arg(long, env = "TEGATA_BROKER_PROFILE", value_name = "NAME")]
    profile: String,

    /// The application user's name.
    #[arg(long, env = "TEGATA_BROKER_USERNAME", value_name = "NAME")]
    username: String,

    /// Read the password from this file (its first line). Otherwise it comes from the
    /// TEGATA_BROKER_PASSWORD environment variable, or is asked for on the terminal. It is
    /// never taken as an argument: other users can read the process list.
    #[arg(long, env = "TEGATA_BROKER_PASSWORD_FILE", value_name = "FILE")]
    password_file: Option<PathBuf>,

    /// Always sign in, and do not cache the answer.
    #[arg(long)]
    no_cache: bool,

    /// Where cached credentials are kept. [default: $XDG_CACHE_HOME/tegata/credentials or
    /// ~/.cache/tegata/credentials]
    #[arg(long, env = "TEGATA_CREDENTIALS_CACHE_DIR", value_name = "DIR")]
    cache_dir: Option<PathBuf>,
}

/// The part of the broker's answer the cache looks at; the answer is printed as received.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Answer {
    expiration: String,
}

#[derive(Deserialize)]
struct BrokerError {
    error: String,
    message: String,
}

pub(crate) fn run(args: CredentialsArgs) -> anyhow::Result<()> {
    let cache = if args.no_cache {
        None
    } else {
        Some(cache_file(&args)?)
    };
    if let Some(path) = &cache
        && let Some(cached) = fresh_cached(path)
    {
        println!("{cached}");
        return Ok(());
    }
    let password = password(&args)?;
    let answer = crate::block_on(sign_in(&args, &password))?;
    if let Some(path) = &cache {
        store(path, &answer)?;
    }
    println!("{answer}");
    Ok(())
}

fn password(args: &CredentialsArgs) -> anyhow::Result<String> {
    if let Some(path) = &args.password_file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the password from {}", path.display()))?;
        return Ok(text.lines().next().unwrap_or("").to_owned());
    }
    if let Ok(password) = std::env::var("TEGATA_BROKER_PASSWORD") {
        return Ok(password);
    }
    // From the terminal itself, not standard input, which the AWS CLI does not hand over.
    rpassword::prompt_password(format!("Password for {}: ", args.username)).context(
        "no password: give --password-file or TEGATA_BROKER_PASSWORD, or run where a terminal \
         can ask for it",
    )
}

async fn sign_in(args: &CredentialsArgs, password: &str) -> anyhow::Result<String> {
    let url = format!(
        "{}/broker/v1/profiles/{}/credentials",
        args.endpoint.trim_end_matches('/'),
        args.profile
    );
    let uri: hyper::Uri = url
        .parse()
        .with_context(|| format!("'{}' is not a URL", args.endpoint))?;
    let body = serde_json::json!({"username": args.username, "password": password}).to_string();
    let request = hyper::Request::post(uri)
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))
        .context("building the request")?;
    let mut http = HttpConnector::new();
    http.set_connect_timeout(Some(Duration::from_secs(10)));
    http.enforce_http(false);
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(rustls::crypto::aws_lc_rs::default_provider())
        .context("loading the system's TLS root certificates")?
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build(https);
    let exchange = async {
        let response = client
            .request(request)
            .await
            .with_context(|| format!("calling the broker at {url}"))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(hyper::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = Limited::new(response.into_body(), MAX_ANSWER_BYTES)
            .collect()
            .await
            .map_err(|e| anyhow::anyhow!("reading the broker's answer: {e}"))?
            .to_bytes();
        Ok::<_, anyhow::Error>((status, retry_after, body))
    };
    let (status, retry_after, body) = tokio::time::timeout(TIMEOUT, exchange)
        .await
        .map_err(|_| anyhow::anyhow!("the broker at {url} did not answer within {TIMEOUT:?}"))??;
    let text = String::from_utf8_lossy(&body).into_owned();
    if status.is_success() {
        serde_json::from_str::<Answer>(&text)
            .with_context(|| format!("the answer of {url} is not credentials"))?;
        return Ok(text);
    }
    let refusal = serde_json::from_str::<BrokerError>(&text).ok();
    let detail = refusal
        .map(|r| format!("{}: {}", r.error, r.message))
        .unwrap_or_else(|| format!("HTTP {status}"));
    match (status.as_u16(), retry_after) {
        (401, _) => bail!(
            "the broker did not accept the username and password of {} ({detail})",
            args.username
        ),
        (429, Some(seconds)) => bail!("throttled: retry in {seconds} seconds ({detail})"),
        _ => bail!("the broker refused (HTTP {}): {detail}", status.as_u16()),
    }
}

/// One cache file per endpoint, profile and user, named by a digest of the three.
fn cache_file(args: &CredentialsArgs) -> anyhow::Result<PathBuf> {
    let dir = match &args.cache_dir {
        Some(dir) => dir.clone(),
        None => {
            let base = std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
                .context("no cache directory: set HOME, XDG_CACHE_HOME or --cache-dir")?;
            base.join("tegata").join("credentials")
        }
    };
    let key = format!("{}\n{}\n{}", args.endpoint, args.profile, args.username);
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, key.as_bytes());
    Ok(dir.join(format!("{}.json", hex(digest.as_ref()))))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The cached answer, if it is still good for five minutes.
fn fresh_cached(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let answer: Answer = serde_json::from_str(&text).ok()?;
    let expiration = OffsetDateTime::parse(&answer.expiration, &Rfc3339).ok()?;
    (expiration - OffsetDateTime::now_utc() > REFRESH_BEFORE).then(|| text.trim().to_owned())
}

fn store(path: &Path, answer: &str) -> anyhow::Result<()> {
    let dir = path.parent().context("the cache file has no directory")?;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("creating {}", dir.display()))?;
    let temporary = path.with_extension(format!("tmp.{}", std::process::id()));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temporary)
        .with_context(|| format!("creating {}", temporary.display()))?;
    file.write_all(answer.as_bytes())
        .with_context(|| format!("writing {}", temporary.display()))?;
    std::fs::rename(&temporary, path).with_context(|| format!("replacing {}", path.display()))?;
    Ok(())
}
