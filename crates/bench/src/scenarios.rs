//! The scenarios, the closed-loop harness that runs them, the ceilings they are compared with,
//! and the report.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, bail};
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use tegata_core::app_users::{AppUsers, PasswordCost, PasswordHashing};
use tegata_core::master_key::MasterKey;
use tegata_core::random::SystemRandomness;
use tegata_core::tokens::claims::{OpenIdClaims, developer_amr};
use tegata_core::tokens::keys::{KeyState, SigningKey, TokenAlgorithm, generate_signing_key};

use crate::Args;
use crate::http1::{Conn, request};

const PROVIDER: &str = "login.mycompany.myapp";
const REGION: &str = "us-east-1";
const EXISTING_USERS: u64 = 1000;
/// Application users of the broker benchmark, and their password.
const BROKER_USERS: u64 = 64;
const BROKER_PASSWORD: &str = "benchmark passphrase";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scenario {
    BasicNew,
    BasicExisting,
    /// The enhanced developer flow: GetOpenIdTokenForDeveloperIdentity for a known user, then
    /// GetCredentialsForIdentity with the token.
    Enhanced,
    /// A guest: GetId (a new identity every time), then GetCredentialsForIdentity.
    Guest,
    CallerIdentity,
    /// The credential broker: an application user's password to credentials, in one call.
    BrokerPassword,
    Trivial,
}

impl Scenario {
    fn parse(name: &str) -> anyhow::Result<Self> {
        Ok(match name {
            "basic-new" => Scenario::BasicNew,
            "basic-existing" => Scenario::BasicExisting,
            "enhanced" => Scenario::Enhanced,
            "guest" => Scenario::Guest,
            "caller-identity" => Scenario::CallerIdentity,
            other => {
                bail!(
                    "unknown scenario '{other}' (basic-new, basic-existing, enhanced, guest, \
                     caller-identity)"
                )
            }
        })
    }

    /// Whether a flow signs exactly one token, so that its cost beyond the signature means
    /// something.
    fn signs_one_token(self) -> bool {
        matches!(
            self,
            Scenario::BasicNew | Scenario::BasicExisting | Scenario::Enhanced
        )
    }

    fn name(self) -> &'static str {
        match self {
            Scenario::BasicNew => "basic-new",
            Scenario::BasicExisting => "basic-existing",
            Scenario::Enhanced => "enhanced",
            Scenario::Guest => "guest",
            Scenario::CallerIdentity => "caller-identity",
            Scenario::BrokerPassword => "broker-password",
            Scenario::Trivial => "trivial endpoint",
        }
    }
}

/// Where requests go and what they need.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub addr: String,
    pub access_key_id: String,
    pub secret: String,
    pub pool_id: String,
    pub role_arn: String,
    /// Temporary credentials for caller-identity, one set per virtual client (each client plays
    /// a user of its own): (akid, secret, session token).
    pub sessions: Vec<(String, String, String)>,
}

/// A `POST /` signed with aws-sigv4 (an independent signer, as the SDKs use), as raw HTTP/1.1.
fn signed_post(
    target: &Target,
    service: &str,
    creds: (&str, &str, Option<&str>),
    content_type: &str,
    extra: &[(String, String)],
    body: &[u8],
) -> Vec<u8> {
    let identity = aws_credential_types::Credentials::new(
        creds.0,
        creds.1,
        creds.2.map(str::to_owned),
        None,
        "bench",
    )
    .into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(REGION)
        .name(service)
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .expect("complete signing parameters")
        .into();
    let mut headers = vec![
        ("host".to_owned(), target.addr.clone()),
        ("content-type".to_owned(), content_type.to_owned()),
    ];
    headers.extend_from_slice(extra);
    let signable = SignableRequest::new(
        "POST",
        format!("http://{}/", target.addr),
        headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        SignableBody::Bytes(body),
    )
    .expect("a signable request");
    let (instructions, _) = sign(signable, &params)
        .expect("signing succeeds")
        .into_parts();
    for (name, value) in instructions.headers() {
        headers.push((name.to_owned(), value.to_owned()));
    }
    request("POST", "/", &target.addr, &headers, body)
}

/// awsQuery values in a form body, encoded as SigV4 encodes them (RFC 3986).
fn form_encode(s: &str) -> String {
    tegata_sigv4::uri_encode(s.as_bytes(), false)
}

fn token_request(target: &Target, user: &str) -> Vec<u8> {
    let body = serde_json::json!({"IdentityPoolId": target.pool_id, "Logins": {PROVIDER: user}})
        .to_string();
    signed_post(
        target,
        "cognito-identity",
        (&target.access_key_id, &target.secret, None),
        "application/x-amz-json-1.1",
        &[(
            "x-amz-target".to_owned(),
            "AWSCognitoIdentityService.GetOpenIdTokenForDeveloperIdentity".to_owned(),
        )],
        body.as_bytes(),
    )
}

/// AssumeRoleWithWebIdentity is unsigned, as the SDKs send it.
fn exchange_request(target: &Target, token: &str) -> Vec<u8> {
    let body = format!(
        "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn={}&RoleSessionName=bench&WebIdentityToken={}",
        form_encode(&target.role_arn),
        form_encode(token)
    );
    let headers = [(
        "content-type".to_owned(),
        "application/x-www-form-urlencoded; charset=utf-8".to_owned(),
    )];
    request("POST", "/", &target.addr, &headers, body.as_bytes())
}

/// One of Cognito Identity's public operations, unsigned, as browsers and phones send them.
fn public_cognito_request(target: &Target, operation: &str, body: &serde_json::Value) -> Vec<u8> {
    let headers = [
        (
            "content-type".to_owned(),
            "application/x-amz-json-1.1".to_owned(),
        ),
        (
            "x-amz-target".to_owned(),
            format!("AWSCognitoIdentityService.{operation}"),
        ),
    ];
    request(
        "POST",
        "/",
        &target.addr,
        &headers,
        body.to_string().as_bytes(),
    )
}

/// SigV4 has no nonce: one signed GetCallerIdentity is valid for 15 minutes, and replaying it
/// keeps the client's signing cost out of the measurement. Client `client` signs with its own
/// temporary credentials (a peer without them gets the long-term key).
fn caller_identity_request(target: &Target, client: usize) -> Vec<u8> {
    let body = b"Action=GetCallerIdentity&Version=2011-06-15";
    let (akid, secret, token) = target
        .sessions
        .get(client % target.sessions.len().max(1))
        .map(|(a, s, t)| (a.as_str(), s.as_str(), Some(t.as_str())))
        .unwrap_or((&target.access_key_id, &target.secret, None));
    signed_post(
        target,
        "sts",
        (akid, secret, token),
        "application/x-www-form-urlencoded; charset=utf-8",
        &[],
        body,
    )
}

fn json_field(body: &[u8], field: &str) -> Option<String> {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()?
        .get(field)?
        .as_str()
        .map(str::to_owned)
}

/// One virtual client.
struct Client {
    conn: Conn,
    target: Arc<Target>,
    scenario: Scenario,
    id: u64,
    counter: u64,
    run: u64,
    presigned: Vec<u8>,
}

type Step = Result<Vec<(&'static str, u32)>, String>;

fn micros(since: Instant) -> u32 {
    since.elapsed().as_micros().min(u32::MAX as u128) as u32
}

impl Client {
    async fn call(&mut self, raw: &[u8], expect: u16) -> Result<Vec<u8>, String> {
        let response = self.conn.send(raw).await.map_err(|e| e.to_string())?;
        if response.status != expect {
            return Err(format!(
                "HTTP {}: {}",
                response.status,
                String::from_utf8_lossy(&response.body)
            ));
        }
        Ok(response.body)
    }

    async fn basic_flow(&mut self, user: &str) -> Step {
        let t0 = Instant::now();
        let body = self.call(&token_request(&self.target, user), 200).await?;
        let first = micros(t0);
        let token = json_field(&body, "Token").ok_or("no Token in the answer")?;
        let t1 = Instant::now();
        let exchange = exchange_request(&self.target, &token);
        self.call(&exchange, 200).await?;
        Ok(vec![
            ("GetOpenIdTokenForDeveloperIdentity", first),
            ("AssumeRoleWithWebIdentity", micros(t1)),
        ])
    }

    /// GetCredentialsForIdentity, timed; the answer must carry credentials.
    async fn credentials_for_identity(
        &mut self,
        identity_id: &str,
        logins: serde_json::Value,
    ) -> Result<u32, String> {
        let t0 = Instant::now();
        let raw = public_cognito_request(
            &self.target,
            "GetCredentialsForIdentity",
            &serde_json::json!({"IdentityId": identity_id, "Logins": logins}),
        );
        let body = self.call(&raw, 200).await?;
        let credentials = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("Credentials")?.get("SessionToken").cloned());
        credentials.ok_or("no Credentials in the answer")?;
        Ok(micros(t0))
    }

    async fn step(&mut self) -> Step {
        self.counter += 1;
        match self.scenario {
            Scenario::BasicNew => {
                let user = format!("new-{}-{}-{}", self.run, self.id, self.counter);
                self.basic_flow(&user).await
            }
            Scenario::BasicExisting => {
                let user = format!(
                    "existing-{}",
                    (self.id * 7919 + self.counter) % EXISTING_USERS
                );
                self.basic_flow(&user).await
            }
            Scenario::Enhanced => {
                let user = format!(
                    "existing-{}",
                    (self.id * 7919 + self.counter) % EXISTING_USERS
                );
                let t0 = Instant::now();
                let body = self.call(&token_request(&self.target, &user), 200).await?;
                let first = micros(t0);
                let token = json_field(&body, "Token").ok_or("no Token in the answer")?;
                let identity_id =
                    json_field(&body, "IdentityId").ok_or("no IdentityId in the answer")?;
                let logins = serde_json::json!({"cognito-identity.amazonaws.com": token});
                let second = self.credentials_for_identity(&identity_id, logins).await?;
                Ok(vec![
                    ("GetOpenIdTokenForDeveloperIdentity", first),
                    ("GetCredentialsForIdentity", second),
                ])
            }
            Scenario::Guest => {
                let t0 = Instant::now();
                let raw = public_cognito_request(
                    &self.target,
                    "GetId",
                    &serde_json::json!({"IdentityPoolId": self.target.pool_id}),
                );
                let body = self.call(&raw, 200).await?;
                let first = micros(t0);
                let identity_id =
                    json_field(&body, "IdentityId").ok_or("no IdentityId in the answer")?;
                let second = self
                    .credentials_for_identity(&identity_id, serde_json::json!({}))
                    .await?;
                Ok(vec![
                    ("GetId", first),
                    ("GetCredentialsForIdentity", second),
                ])
            }
            Scenario::CallerIdentity => {
                let t0 = Instant::now();
                let raw = std::mem::take(&mut self.presigned);
                let result = self.call(&raw, 200).await;
                self.presigned = raw;
                result.map(|_| vec![("GetCallerIdentity", micros(t0))])
            }
            Scenario::BrokerPassword => {
                let user = format!(
                    "broker-user-{}",
                    (self.id * 7919 + self.counter) % BROKER_USERS
                );
                let body = serde_json::json!({"username": user, "password": BROKER_PASSWORD});
                let raw = request(
                    "POST",
                    "/broker/v1/profiles/bench/credentials",
                    &self.target.addr,
                    &[("content-type".into(), "application/json".into())],
                    body.to_string().as_bytes(),
                );
                let t0 = Instant::now();
                let answer = self.call(&raw, 200).await?;
                json_field(&answer, "SessionToken").ok_or("no SessionToken in the answer")?;
                Ok(vec![(
                    "POST /broker/v1/profiles/bench/credentials",
                    micros(t0),
                )])
            }
            Scenario::Trivial => {
                let t0 = Instant::now();
                let raw = request("GET", "/healthz", &self.target.addr, &[], b"");
                self.call(&raw, 200).await?;
                Ok(vec![("GET /healthz", micros(t0))])
            }
        }
    }
}

/// What one measured run produced.
#[derive(Debug, Default)]
pub(crate) struct Measurement {
    pub flows: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    pub seconds: f64,
    pub flow_latency: Vec<u32>,
    pub op_latency: BTreeMap<&'static str, Vec<u32>>,
    pub server_cpu_seconds: Option<f64>,
    /// Context switches of all the server's threads, voluntary and not: each is a hand-off
    /// (a wake-up through the kernel) or a preemption, and unlike rates they barely drift.
    pub server_switches: Option<u64>,
    pub server_peak_rss_kib: Option<u64>,
}

impl Measurement {
    pub(crate) fn rate(&self) -> f64 {
        self.flows as f64 / self.seconds
    }

    /// One flow's outcome, its latency counted from `since` (its start, or its scheduled start).
    fn record(&mut self, result: Step, since: Instant) {
        match result {
            Ok(ops) => {
                self.flows += 1;
                self.flow_latency.push(micros(since));
                for (op, us) in ops {
                    self.op_latency.entry(op).or_default().push(us);
                }
            }
            Err(e) => {
                self.errors += 1;
                self.first_error.get_or_insert(e);
            }
        }
    }

    /// Adds another stretch of the same scenario (latencies stay sorted).
    fn absorb(&mut self, other: Measurement) {
        self.flows += other.flows;
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
        self.seconds += other.seconds;
        self.flow_latency.extend(other.flow_latency);
        self.flow_latency.sort_unstable();
        for (op, lat) in other.op_latency {
            let all = self.op_latency.entry(op).or_default();
            all.extend(lat);
            all.sort_unstable();
        }
        self.server_cpu_seconds = match (self.server_cpu_seconds, other.server_cpu_seconds) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        };
        self.server_switches = match (self.server_switches, other.server_switches) {
            (Some(a), Some(b)) => Some(a + b),
            (a, b) => a.or(b),
        };
        self.server_peak_rss_kib = self.server_peak_rss_kib.max(other.server_peak_rss_kib);
    }

    /// The server's context switches per flow, when it was sampled.
    fn switches_per_flow(&self) -> Option<f64> {
        self.server_switches
            .map(|n| n as f64 / self.flows.max(1) as f64)
    }
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[rank.min(sorted.len() - 1)] as f64 / 1000.0
}

/// How the closed loop ends: after a time, or after a number of flows.
#[derive(Debug, Clone, Copy)]
enum Stop {
    After(Duration),
    Flows(u64),
}

static RUN: AtomicU64 = AtomicU64::new(1);

async fn closed_loop(
    target: &Arc<Target>,
    scenario: Scenario,
    clients: usize,
    warmup: Duration,
    stop: Stop,
    server: Option<&Tegata>,
) -> Measurement {
    let run = RUN.fetch_add(1, Ordering::Relaxed) * 1_000_000 + std::process::id() as u64;
    let start = Instant::now();
    let measure_from = start + warmup;
    let done = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for id in 0..clients as u64 {
        let mut client = Client {
            conn: Conn::new(&target.addr),
            target: target.clone(),
            scenario,
            id,
            counter: 0,
            run,
            presigned: if scenario == Scenario::CallerIdentity {
                caller_identity_request(target, id as usize)
            } else {
                Vec::new()
            },
        };
        let done = done.clone();
        tasks.push(tokio::spawn(async move {
            let mut m = Measurement::default();
            loop {
                let now = Instant::now();
                let measuring = now >= measure_from;
                match stop {
                    Stop::After(d) if now >= measure_from + d => break,
                    Stop::Flows(n) if done.load(Ordering::Relaxed) >= n => break,
                    _ => {}
                }
                let t0 = Instant::now();
                let result = client.step().await;
                if !measuring {
                    continue;
                }
                done.fetch_add(1, Ordering::Relaxed);
                m.record(result, t0);
            }
            m
        }));
    }
    // Sample the server's counters when measurement starts.
    let before = match server {
        Some(server) => {
            tokio::time::sleep_until(measure_from.into()).await;
            Some((server.cpu_seconds(), server.context_switches()))
        }
        None => None,
    };
    let mut total = Measurement::default();
    for task in tasks {
        let m = task.await.expect("client task");
        total.flows += m.flows;
        total.errors += m.errors;
        if total.first_error.is_none() {
            total.first_error = m.first_error;
        }
        total.flow_latency.extend(m.flow_latency);
        for (op, lat) in m.op_latency {
            total.op_latency.entry(op).or_default().extend(lat);
        }
    }
    total.seconds = (Instant::now() - measure_from).as_secs_f64();
    total.flow_latency.sort_unstable();
    for lat in total.op_latency.values_mut() {
        lat.sort_unstable();
    }
    if let (Some(server), Some((cpu, switches))) = (server, before) {
        total.server_cpu_seconds = Some(server.cpu_seconds() - cpu);
        total.server_switches = switches_since(&switches, &server.context_switches());
        total.server_peak_rss_kib = Some(server.peak_rss_kib());
    }
    total
}

/// The context switches between two samples, thread by thread: a thread that started meanwhile
/// counts from zero, and one that exited meanwhile takes only its own switches with it (a plain
/// difference of totals would lose its whole lifetime's count, and could go below zero).
fn switches_since(
    before: &Option<HashMap<String, u64>>,
    after: &Option<HashMap<String, u64>>,
) -> Option<u64> {
    let (before, after) = (before.as_ref()?, after.as_ref()?);
    Some(
        after
            .iter()
            .map(|(thread, n)| n.saturating_sub(before.get(thread).copied().unwrap_or(0)))
            .sum(),
    )
}

/// A ceiling measured in the same run: its rate, and the CPU one unit costs: a signature, for
/// the signing ceiling; the server's CPU per request, for the trivial endpoint's.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Ceiling {
    pub rate: f64,
    pub cpu_us_per_unit: Option<f64>,
}

/// User plus system CPU seconds of a process, from `/proc/<pid>/stat` (`self` for this one).
fn process_cpu_seconds(pid: &str, clock_ticks: f64) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / clock_ticks
}

fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// The rate at which tegata's own JWS signer produces tokens of `algorithm`, one thread per
/// core, and the CPU each signature costs (this process's CPU time over the slice, in which
/// nothing else of it runs, divided by the signatures).
fn signing_ceiling(algorithm: TokenAlgorithm, duration: Duration) -> Ceiling {
    let rng = SystemRandomness;
    let master = MasterKey::generate(&rng);
    let record =
        generate_signing_key(&master, algorithm, KeyState::Active, 0, &rng).expect("keygen");
    // The same signing function `GetOpenIdTokenForDeveloperIdentity` runs on its signer threads.
    let key = Arc::new(SigningKey::load(&record, &master).expect("key loads"));
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let ticks = clock_ticks();
    let cpu_before = process_cpu_seconds("self", ticks);
    let deadline = Instant::now() + duration;
    let start = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let key = key.clone();
            std::thread::spawn(move || {
                let mut n = 0u64;
                while Instant::now() < deadline {
                    let pool = "us-east-1:00000000-0000-4000-8000-000000000000";
                    let claims = OpenIdClaims {
                        sub: format!("us-east-1:{t}-{n}"),
                        aud: pool.into(),
                        amr: developer_amr(PROVIDER, pool, "user"),
                        iss: "http://127.0.0.1:8910".into(),
                        identity_pool_arn:
                            "arn:aws:cognito-identity:us-east-1:123456789012:identitypool/x".into(),
                        exp: 1_900_000_900,
                        iat: 1_900_000_000,
                        tags: None,
                    };
                    std::hint::black_box(key.sign_jws(&claims));
                    n += 1;
                }
                n
            })
        })
        .collect();
    let total: u64 = handles.into_iter().map(|h| h.join().unwrap_or(0)).sum();
    let cpu = process_cpu_seconds("self", ticks) - cpu_before;
    Ceiling {
        rate: total as f64 / start.elapsed().as_secs_f64(),
        cpu_us_per_unit: (total > 0).then(|| cpu * 1e6 / total as f64),
    }
}

/// A `tegata serve` started for the benchmark, in a scratch data directory.
pub(crate) struct Tegata {
    child: Child,
    pub addr: String,
    pub data_dir: PathBuf,
    clock_ticks: f64,
    /// Whether dropping the server removes its data directory (not when it is restarted).
    remove_data: bool,
}

impl Tegata {
    /// A new deployment in a scratch directory (`name` tells the directories of one run apart),
    /// with `extra` arguments.
    fn start(binary: &Path, name: &str, extra: &[&str]) -> anyhow::Result<Self> {
        let data_dir =
            std::env::temp_dir().join(format!("tegata-bench-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&data_dir);
        Self::start_in(binary, data_dir, extra)
    }

    /// Stop the server and start it again on the same data, with `extra` arguments.
    fn restart(mut self, binary: &Path, extra: &[&str]) -> anyhow::Result<Self> {
        self.remove_data = false;
        let data_dir = self.data_dir.clone();
        drop(self);
        Self::start_in(binary, data_dir, extra)
    }

    fn start_in(binary: &Path, data_dir: PathBuf, extra: &[&str]) -> anyhow::Result<Self> {
        let mut child = Command::new(binary)
            .args(["serve", "--listen", "127.0.0.1:0", "--log", "info"])
            .args(extra)
            .arg("--data-dir")
            .arg(&data_dir)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {}", binary.display()))?;
        let stderr = child.stderr.take().expect("piped");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("tegata listening on http://").nth(1) {
                    let _ = tx.send(rest.split_whitespace().next().unwrap_or("").to_owned());
                }
            }
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(60))
            .context("tegata did not start")?;
        let clock_ticks = clock_ticks();
        Ok(Self {
            child,
            addr,
            data_dir,
            clock_ticks,
            remove_data: true,
        })
    }

    /// User plus system CPU time of the server process so far, from /proc.
    pub(crate) fn cpu_seconds(&self) -> f64 {
        process_cpu_seconds(&self.child.id().to_string(), self.clock_ticks)
    }

    /// Context switches so far of each of the server's threads, by thread id
    /// (`/proc/<pid>/task/*/status`); `None` when they cannot be read.
    pub(crate) fn context_switches(&self) -> Option<HashMap<String, u64>> {
        let tasks = std::fs::read_dir(format!("/proc/{}/task", self.child.id())).ok()?;
        let counts = tasks
            .flatten()
            .filter_map(|task| {
                let status = std::fs::read_to_string(task.path().join("status")).ok()?;
                let switches = status
                    .lines()
                    .filter_map(|l| {
                        l.strip_prefix("voluntary_ctxt_switches:")
                            .or_else(|| l.strip_prefix("nonvoluntary_ctxt_switches:"))
                            .and_then(|n| n.trim().parse::<u64>().ok())
                    })
                    .sum();
                Some((task.file_name().to_string_lossy().into_owned(), switches))
            })
            .collect();
        Some(counts)
    }

    /// Peak resident set size (VmHWM) of the server process, in KiB.
    pub(crate) fn peak_rss_kib(&self) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    }

    fn credentials(&self) -> anyhow::Result<(String, String)> {
        let text = std::fs::read_to_string(self.data_dir.join("credentials"))?;
        let value = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(key))
                .map(|v| v.trim_start_matches([' ', '=']).trim().to_owned())
                .with_context(|| format!("{key} in the credentials file"))
        };
        Ok((value("aws_access_key_id")?, value("aws_secret_access_key")?))
    }
}

impl Drop for Tegata {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
        if self.remove_data {
            let _ = std::fs::remove_dir_all(&self.data_dir);
        }
    }
}

/// Create a pool and a role on tegata, and temporary credentials for each of `clients`
/// caller-identity clients.
async fn prepare_tegata(
    server: &Tegata,
    pool_name: &str,
    clients: usize,
) -> anyhow::Result<Target> {
    let (akid, secret) = server.credentials()?;
    let mut target = Target {
        addr: server.addr.clone(),
        access_key_id: akid,
        secret,
        pool_id: String::new(),
        role_arn: String::new(),
        sessions: Vec::new(),
    };
    let mut conn = Conn::new(&server.addr);
    let body = serde_json::json!({
        "IdentityPoolName": pool_name, "AllowUnauthenticatedIdentities": true,
        "DeveloperProviderName": PROVIDER,
    })
    .to_string();
    let response = conn
        .send(&signed_post(
            &target,
            "cognito-identity",
            (&target.access_key_id, &target.secret, None),
            "application/x-amz-json-1.1",
            &[(
                "x-amz-target".into(),
                "AWSCognitoIdentityService.CreateIdentityPool".into(),
            )],
            body.as_bytes(),
        ))
        .await?;
    target.pool_id = json_field(&response.body, "IdentityPoolId").context("CreateIdentityPool")?;
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Federated":"cognito-identity.amazonaws.com"}},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{{"StringEquals":{{"cognito-identity.amazonaws.com:aud":"{}"}}}}}}]}}"#,
        target.pool_id
    );
    let role_name = format!("bench_{}", pool_name.replace('-', "_"));
    let body = format!(
        "Action=CreateRole&Version=2010-05-08&RoleName={role_name}&AssumeRolePolicyDocument={}",
        form_encode(&trust)
    );
    let response = conn
        .send(&signed_post(
            &target,
            "iam",
            (&target.access_key_id, &target.secret, None),
            "application/x-www-form-urlencoded; charset=utf-8",
            &[],
            body.as_bytes(),
        ))
        .await?;
    let text = String::from_utf8_lossy(&response.body);
    target.role_arn = text
        .split("<Arn>")
        .nth(1)
        .and_then(|r| r.split("</Arn>").next())
        .with_context(|| format!("CreateRole: {text}"))?
        .to_owned();
    // The role serves the enhanced flow (authenticated) and guests (unauthenticated): its trust
    // policy pins the pool and leaves amr alone.
    let body = serde_json::json!({
        "IdentityPoolId": target.pool_id,
        "Roles": {"authenticated": target.role_arn, "unauthenticated": target.role_arn},
    })
    .to_string();
    let response = conn
        .send(&signed_post(
            &target,
            "cognito-identity",
            (&target.access_key_id, &target.secret, None),
            "application/x-amz-json-1.1",
            &[(
                "x-amz-target".into(),
                "AWSCognitoIdentityService.SetIdentityPoolRoles".into(),
            )],
            body.as_bytes(),
        ))
        .await?;
    if response.status != 200 {
        bail!(
            "SetIdentityPoolRoles: HTTP {}: {}",
            response.status,
            String::from_utf8_lossy(&response.body)
        );
    }
    // Temporary credentials, for caller-identity.
    for client in 0..clients {
        let token_response = conn
            .send(&token_request(&target, &format!("caller-{client}")))
            .await?;
        let token = json_field(&token_response.body, "Token").context("token for caller")?;
        let response = conn.send(&exchange_request(&target, &token)).await?;
        let text = String::from_utf8_lossy(&response.body).into_owned();
        let field = |tag: &str| {
            text.split(&format!("<{tag}>"))
                .nth(1)
                .and_then(|r| r.split(&format!("</{tag}>")).next())
                .map(str::to_owned)
                .with_context(|| format!("{tag} in {text}"))
        };
        target.sessions.push((
            field("AccessKeyId")?,
            field("SecretAccessKey")?,
            field("SessionToken")?,
        ));
    }
    Ok(target)
}

fn peer_target(url: &str) -> Target {
    Target {
        addr: url
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned(),
        access_key_id: "AKIAIOSFODNN7EXAMPLE".into(),
        secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into(),
        pool_id: format!("{REGION}:11111111-2222-4333-8444-555555555555"),
        role_arn: "arn:aws:iam::123456789012:role/bench".into(),
        sessions: Vec::new(),
    }
}

fn row(report: &mut String, label: &str, m: &Measurement, ceiling: Option<f64>, clients: usize) {
    let ratio = ceiling.map_or("—".to_owned(), |c| format!("{:.2}", m.rate() / c));
    let cpu = m.server_cpu_seconds.map_or("—".to_owned(), |s| {
        format!("{:.0}", s * 1e6 / m.flows.max(1) as f64)
    });
    let rss = m
        .server_peak_rss_kib
        .map_or("—".to_owned(), |k| format!("{:.1}", k as f64 / 1024.0));
    let _ = writeln!(
        report,
        "| {label} | {clients} | {:.0} | {ratio} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {cpu} | {rss} |",
        m.rate(),
        percentile(&m.flow_latency, 50.0),
        percentile(&m.flow_latency, 90.0),
        percentile(&m.flow_latency, 99.0),
        percentile(&m.flow_latency, 100.0),
        m.errors,
    );
}

fn op_rows(report: &mut String, label: &str, m: &Measurement) {
    for (op, lat) in &m.op_latency {
        let _ = writeln!(
            report,
            "| {label} | {op} | {:.2} | {:.2} | {:.2} | {:.2} |",
            percentile(lat, 50.0),
            percentile(lat, 90.0),
            percentile(lat, 99.0),
            percentile(lat, 100.0),
        );
    }
}

const TABLE_HEAD: &str = "| scenario | clients | flows/s | ratio to ceiling | p50 ms | p90 ms | p99 ms | max ms | errors | server CPU µs/flow | server peak RSS MiB |\n|---|---|---|---|---|---|---|---|---|---|---|\n";

pub(crate) async fn run(args: &Args) -> anyhow::Result<String> {
    let scenarios: Vec<Scenario> = args
        .scenarios
        .iter()
        .map(|s| Scenario::parse(s))
        .collect::<anyhow::Result<_>>()?;
    let binary = match &args.tegata_bin {
        Some(path) => path.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("the benchmark's directory")?
            .join("tegata"),
    };
    let mut report = String::new();
    let _ = writeln!(
        report,
        "Machine: {} cores ({}), {} clients, {} s warm-up, {} s measured per scenario.\n",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        cpu_model(),
        args.clients,
        args.warmup,
        args.duration
    );

    let open_loop_scenarios: Vec<Scenario> = args
        .open_loop
        .iter()
        .filter(|s| s.as_str() != "none")
        .map(|s| Scenario::parse(s))
        .collect::<anyhow::Result<_>>()?;
    let server = Tegata::start(&binary, "main", &args.server_args())?;
    let target = Arc::new(prepare_tegata(&server, "bench", args.clients).await?);

    let peers = args
        .peer
        .iter()
        .map(|peer| {
            let (name, url) = peer.split_once('=').context("--peer takes NAME=URL")?;
            Ok((name.to_owned(), Arc::new(peer_target(url))))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let peer_targets: Vec<Arc<Target>> = peers.iter().map(|(_, t)| t.clone()).collect();

    let _ = write!(report, "### tegata\n\n{TABLE_HEAD}");
    let mut results = Vec::new();
    let mut ceilings = Vec::new();
    let mut peer_results: Vec<Vec<(Scenario, Measurement)>> =
        peers.iter().map(|_| Vec::new()).collect();
    for &scenario in &scenarios {
        eprintln!(
            "running {} against tegata, alternating with its ceiling and the peers …",
            scenario.name()
        );
        let (m, ceiling, peer_ms) =
            interleaved(args, &target, &server, scenario, &peer_targets).await;
        for (results, m) in peer_results.iter_mut().zip(peer_ms) {
            results.push((scenario, m));
        }
        row(
            &mut report,
            scenario.name(),
            &m,
            Some(ceiling.rate),
            args.clients,
        );
        ceilings.push((scenario, ceiling));
        results.push((scenario, m));
    }
    let _ = writeln!(
        report,
        "\nCeilings, each measured in slices alternating with its scenario's (so both see the same \
         machine):\n\n| scenario | ceiling | rate/s |\n|---|---|---|"
    );
    let signing_limit = format!(
        "{} signatures by tegata's signer, all cores",
        args.algorithm()
    );
    for (scenario, ceiling) in &ceilings {
        let limit = match scenario {
            Scenario::CallerIdentity => {
                "trivial endpoint (GET /healthz), same HTTP stack and clients"
            }
            Scenario::Guest => {
                "trivial endpoint (GET /healthz) requests/s; a guest flow is two requests"
            }
            _ => &signing_limit,
        };
        let _ = writeln!(
            report,
            "| {} | {limit} | {:.0} |",
            scenario.name(),
            ceiling.rate
        );
    }
    beyond_the_signature(&mut report, args, &results, &ceilings);
    let _ = writeln!(
        report,
        "\nLatency per call:\n\n| scenario | call | p50 ms | p90 ms | p99 ms | max ms |\n|---|---|---|---|---|---|"
    );
    for (scenario, m) in &results {
        op_rows(&mut report, scenario.name(), m);
    }
    for (scenario, m) in &results {
        if let Some(e) = &m.first_error {
            let _ = writeln!(
                report,
                "\nFirst error in {}: {}",
                scenario.name(),
                e.chars().take(300).collect::<String>()
            );
        }
    }

    for ((name, _), measured) in peers.iter().zip(peer_results) {
        let _ = write!(
            report,
            "\n### {name} (same scenarios, same clients, in slices alternating with tegata's)\n\n{TABLE_HEAD}"
        );
        let mut ratios = Vec::new();
        for (scenario, m) in measured {
            row(&mut report, scenario.name(), &m, None, args.clients);
            if let Some((_, ours)) = results.iter().find(|(s, _)| *s == scenario) {
                ratios.push((
                    scenario,
                    ours.rate() / m.rate().max(f64::MIN_POSITIVE),
                    m.first_error.clone(),
                ));
            }
        }
        let _ = writeln!(report, "\n| scenario | tegata ÷ {name} |\n|---|---|");
        for (scenario, ratio, error) in ratios {
            let note = error
                .map(|e| {
                    format!(
                        " (first {name} error: {})",
                        e.split_whitespace()
                            .collect::<Vec<_>>()
                            .join(" ")
                            .chars()
                            .take(120)
                            .collect::<String>()
                    )
                })
                .unwrap_or_default();
            // A peer that completed no flow has no rate to divide by.
            let ratio = if ratio.is_finite() {
                format!("{ratio:.1}×")
            } else {
                "—".to_owned()
            };
            let _ = writeln!(report, "| {} | {ratio}{note} |", scenario.name());
        }
    }

    if !open_loop_scenarios.is_empty() {
        let mut rows = Vec::new();
        for &scenario in &open_loop_scenarios {
            let Some((_, closed)) = results.iter().find(|(s, _)| *s == scenario) else {
                bail!(
                    "--open-loop {}: run the scenario in the closed loop too (--scenarios)",
                    scenario.name()
                );
            };
            for load in [0.5, 0.8] {
                let rate = closed.rate() * load;
                eprintln!(
                    "running {} in an open loop at {rate:.0} flows/s ({:.0} % of the closed \
                     loop's) …",
                    scenario.name(),
                    load * 100.0
                );
                let m = open_loop(&target, scenario, rate, args.warmup(), args.duration()).await;
                rows.push((scenario, load, rate, m));
            }
        }
        open_loop_report(&mut report, &rows);
    }
    if args.postgres {
        let sqlite = results
            .iter()
            .find(|(s, _)| *s == Scenario::BasicNew)
            .map(|(_, m)| m);
        postgres(&mut report, args, &binary, sqlite).await?;
    }
    if let Some(total) = args.prefill {
        sustained(&mut report, args, &server, total).await?;
    }
    if let Some(flows) = args.soak_flows {
        soak(&mut report, args, &binary, flows).await?;
    }
    if args.broker {
        let basic_existing = results
            .iter()
            .find(|(s, _)| *s == Scenario::BasicExisting)
            .map(|(_, m)| m);
        broker(&mut report, args, &binary, basic_existing).await?;
    }
    Ok(report)
}

/// For each scenario that signs one token per flow: the server's CPU per flow, the CPU one
/// signature costs (measured in the ceiling's slices of the same run), and the rest; with the
/// server's context switches per flow, and the rest as a multiple of the server's CPU per trivial
/// request when caller-identity or guest ran (a measure of the machine's HTTP cost that, unlike
/// microseconds, carries from one machine to another).
fn beyond_the_signature(
    report: &mut String,
    args: &Args,
    results: &[(Scenario, Measurement)],
    ceilings: &[(Scenario, Ceiling)],
) {
    let trivial_us = ceilings
        .iter()
        .find(|(s, _)| matches!(s, Scenario::CallerIdentity | Scenario::Guest))
        .and_then(|(_, c)| c.cpu_us_per_unit);
    let mut rows = String::new();
    for ((scenario, m), (_, ceiling)) in results.iter().zip(ceilings) {
        if !scenario.signs_one_token() {
            continue;
        }
        if let (Some(flow), Some(signature)) = (cpu_per_flow_us(m), ceiling.cpu_us_per_unit) {
            let beyond = flow - signature;
            let switches = m
                .switches_per_flow()
                .map_or("—".to_owned(), |n| format!("{n:.1}"));
            let in_trivial = trivial_us.map_or("—".to_owned(), |t| format!("{:.1}×", beyond / t));
            let _ = writeln!(
                rows,
                "| {} | {flow:.0} | {signature:.0} | **{beyond:.0}** | {in_trivial} | {switches} |",
                scenario.name(),
            );
        }
    }
    if !rows.is_empty() {
        let trivial = trivial_us.map_or(String::new(), |t| {
            format!(
                " The server spent {t:.1} µs of CPU per trivial request (GET /healthz) in this \
                 run's ceiling slices."
            )
        });
        let _ = write!(
            report,
            "\nThe cost beyond the signature (server CPU per flow minus the CPU of one {} \
             signature alone, both from this run).{trivial}\n\n| scenario | server CPU µs/flow | \
             one signature µs | beyond the signature µs | beyond ÷ trivial request | server \
             context switches/flow |\n|---|---|---|---|---|---|\n{rows}",
            args.algorithm()
        );
    }
}

/// Flows started on a schedule, `rate` a second, for `warmup` (not counted) and then
/// `duration`. A pool of connections takes the scheduled starts in turn, each waiting for its
/// flow's answer; a flow's latency counts from its scheduled start, not from when a connection
/// was free to send it, so the flows a slow server makes wait are charged to it (coordinated
/// omission is counted). With 64 connections the schedule can only slip when 64 flows are in
/// flight at once, and then the wait is counted too.
async fn open_loop(
    target: &Arc<Target>,
    scenario: Scenario,
    rate: f64,
    warmup: Duration,
    duration: Duration,
) -> Measurement {
    const CONNECTIONS: u64 = 64;
    let run = RUN.fetch_add(1, Ordering::Relaxed) * 1_000_000 + std::process::id() as u64;
    let interval = Duration::from_secs_f64(1.0 / rate.max(1.0));
    // The connections open before the schedule starts.
    let start = Instant::now() + Duration::from_millis(200);
    let measure_from = start + warmup;
    let end = measure_from + duration;
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for id in 0..CONNECTIONS {
        let mut client = Client {
            conn: Conn::new(&target.addr),
            target: target.clone(),
            scenario,
            // Apart from the closed loop's clients, whose counters may name the same users.
            id: 10_000 + id,
            counter: 0,
            run,
            presigned: if scenario == Scenario::CallerIdentity {
                caller_identity_request(target, id as usize % target.sessions.len().max(1))
            } else {
                Vec::new()
            },
        };
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            let mut m = Measurement::default();
            let mut last_answer = measure_from;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let scheduled = start + interval.mul_f64(i as f64);
                if scheduled >= end {
                    break;
                }
                tokio::time::sleep_until(scheduled.into()).await;
                let result = client.step().await;
                if scheduled < measure_from {
                    continue;
                }
                last_answer = last_answer.max(Instant::now());
                m.record(result, scheduled);
            }
            (m, last_answer)
        }));
    }
    let mut total = Measurement::default();
    let mut last_answer = measure_from;
    for task in tasks {
        let (m, last) = task.await.expect("client task");
        total.absorb(m);
        last_answer = last_answer.max(last);
    }
    // From the first measured start to the last answer: a server that falls behind finishes
    // the schedule late, and completes fewer flows a second than were offered.
    total.seconds = (last_answer - measure_from).max(duration).as_secs_f64();
    total
}

fn open_loop_report(report: &mut String, rows: &[(Scenario, f64, f64, Measurement)]) {
    let _ = write!(
        report,
        "\n### Open loop: latency at a fixed rate\n\nFlows started on a schedule at a fraction \
         of the rate the closed loop reached above, latency counted from each flow's scheduled \
         start (64 connections).\n\n| scenario | load | offered flows/s | completed flows/s | \
         p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | errors |\n|---|---|---|---|---|---|---|---|---|---|\n"
    );
    for (scenario, load, rate, m) in rows {
        let _ = writeln!(
            report,
            "| {} | {:.0} % | {rate:.0} | {:.0} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {} |",
            scenario.name(),
            load * 100.0,
            m.rate(),
            percentile(&m.flow_latency, 50.0),
            percentile(&m.flow_latency, 90.0),
            percentile(&m.flow_latency, 99.0),
            percentile(&m.flow_latency, 99.9),
            percentile(&m.flow_latency, 100.0),
            m.errors
        );
    }
    for (scenario, load, _, m) in rows {
        if let Some(e) = &m.first_error {
            let _ = writeln!(
                report,
                "\nFirst error in {} at {:.0} %: {}",
                scenario.name(),
                load * 100.0,
                e.chars().take(300).collect::<String>()
            );
        }
    }
}

/// User plus system CPU seconds of every process named `postgres` (the postmaster and its
/// backends), for what the database costs per flow.
fn postgres_cpu_seconds(clock_ticks: f64) -> f64 {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    entries
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.bytes().all(|b| b.is_ascii_digit()).then_some(name)
        })
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|comm| comm.trim() == "postgres")
        })
        .map(|pid| process_cpu_seconds(&pid, clock_ticks))
        .sum()
}

/// basic-new on a throw-away PostgreSQL cluster with PostgreSQL's default durability, beside the
/// SQLite figure of the same run; with the database's own CPU per flow.
async fn postgres(
    report: &mut String,
    args: &Args,
    binary: &Path,
    sqlite: Option<&Measurement>,
) -> anyhow::Result<()> {
    eprintln!("starting a throw-away PostgreSQL cluster …");
    let cluster = tegata_testkit::PgCluster::start_durable();
    let url = cluster.create_database();
    let mut server_args = args.server_args();
    server_args.extend(["--database-url", url.as_str()]);
    let server = Tegata::start(binary, "postgres", &server_args)?;
    let target = Arc::new(prepare_tegata(&server, "pg", 0).await?);
    eprintln!("running basic-new on PostgreSQL, alternating with its ceiling …");
    let ticks = clock_ticks();
    let db_before = postgres_cpu_seconds(ticks);
    let (m, ceiling, _) = interleaved(args, &target, &server, Scenario::BasicNew, &[]).await;
    let db_cpu = postgres_cpu_seconds(ticks) - db_before;
    drop(server);
    drop(cluster);
    let _ = write!(
        report,
        "\n### basic-new on PostgreSQL (throw-away cluster, fsync and synchronous_commit on)\n\n{TABLE_HEAD}"
    );
    row(
        report,
        "basic-new (PostgreSQL)",
        &m,
        Some(ceiling.rate),
        args.clients,
    );
    if let Some(sqlite) = sqlite {
        row(
            report,
            "basic-new (SQLite, above)",
            sqlite,
            None,
            args.clients,
        );
    }
    let format = |v: Option<f64>| v.map_or("—".to_owned(), |c| format!("{c:.2}"));
    let _ = writeln!(
        report,
        "\n| quantity | value |\n|---|---|\n\
         | PostgreSQL rate ÷ SQLite rate (same run) | **{}** |\n\
         | PostgreSQL's own CPU per flow µs (all its processes, over the scenario's slices and its ceiling's) | {:.0} |",
        format(sqlite.map(|s| m.rate() / s.rate())),
        db_cpu * 1e6 / m.flows.max(1) as f64,
    );
    if let Some(e) = &m.first_error {
        let _ = writeln!(
            report,
            "\nFirst error in basic-new (PostgreSQL): {}",
            e.chars().take(300).collect::<String>()
        );
    }
    Ok(())
}

/// Runs `scenario` in `--rounds` slices, each right after a slice of its ceiling (the RS512
/// signing rate for the basic flows, the trivial endpoint for caller-identity) and followed by
/// a slice against each peer. This machine's speed drifts by ±20 % from one second to the next
/// (shared cores), so a ceiling or a peer measured once, at another moment, made the ratios move
/// more than the code did. Returns tegata's measurement, the ceiling's rate, and each peer's.
async fn interleaved(
    args: &Args,
    target: &Arc<Target>,
    server: &Tegata,
    scenario: Scenario,
    peers: &[Arc<Target>],
) -> (Measurement, Ceiling, Vec<Measurement>) {
    let rounds = args.rounds.max(1);
    let slice = args.duration() / rounds;
    let mut total = Measurement::default();
    let mut peer_totals: Vec<Measurement> = peers.iter().map(|_| Measurement::default()).collect();
    let (mut ceiling_units, mut ceiling_seconds) = (0.0, 0.0);
    // The CPU of the ceiling's units (signatures, or the server's trivial requests), summed
    // over the slices: (µs, units).
    let (mut unit_us, mut units_timed) = (0.0, 0.0);
    for round in 0..rounds {
        // A full warm-up before the first slice; a short one after each ceiling slice.
        let warmup = if round == 0 {
            args.warmup()
        } else {
            args.warmup().min(Duration::from_millis(500))
        };
        match scenario {
            Scenario::BrokerPassword => {
                let rate = argon2_ceiling(slice, broker_hashing_threads(), PasswordCost::default());
                ceiling_units += rate * slice.as_secs_f64();
                ceiling_seconds += slice.as_secs_f64();
            }
            Scenario::CallerIdentity | Scenario::Guest => {
                let trivial = closed_loop(
                    target,
                    Scenario::Trivial,
                    args.clients,
                    warmup,
                    Stop::After(slice),
                    Some(server),
                )
                .await;
                ceiling_units += trivial.flows as f64;
                ceiling_seconds += trivial.seconds;
                if let Some(cpu) = trivial.server_cpu_seconds {
                    unit_us += cpu * 1e6;
                    units_timed += trivial.flows as f64;
                }
            }
            _ => {
                let ceiling = signing_ceiling(args.algorithm(), slice);
                let units = ceiling.rate * slice.as_secs_f64();
                ceiling_units += units;
                ceiling_seconds += slice.as_secs_f64();
                if let Some(us) = ceiling.cpu_us_per_unit {
                    unit_us += us * units;
                    units_timed += units;
                }
            }
        }
        let m = closed_loop(
            target,
            scenario,
            args.clients,
            warmup,
            Stop::After(slice),
            Some(server),
        )
        .await;
        total.absorb(m);
        for (peer, peer_total) in peers.iter().zip(&mut peer_totals) {
            let m = closed_loop(
                peer,
                scenario,
                args.clients,
                warmup,
                Stop::After(slice),
                None,
            )
            .await;
            peer_total.absorb(m);
        }
    }
    let ceiling = Ceiling {
        rate: ceiling_units / ceiling_seconds,
        cpu_us_per_unit: (units_timed > 0.0).then(|| unit_us / units_timed),
    };
    (total, ceiling, peer_totals)
}

/// The server's default number of password hashing threads: half the cores, at least one.
fn broker_hashing_threads() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .div_ceil(2)
}

/// Argon2id verifications per second at `cost`, on `threads` threads of tegata's own hasher:
/// at the default cost, the most password sign-ins the broker can check.
fn argon2_ceiling(duration: Duration, threads: usize, cost: PasswordCost) -> f64 {
    // On a thread of its own: the caller is inside the benchmark's runtime, and this measures
    // with a runtime of its own.
    std::thread::scope(|scope| {
        scope
            .spawn(|| argon2_rate(duration, threads, cost))
            .join()
            .expect("the Argon2id measurement")
    })
}

fn argon2_rate(duration: Duration, threads: usize, cost: PasswordCost) -> f64 {
    let rng = SystemRandomness;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("a runtime");
    let hashing = PasswordHashing::new(cost, threads, 4 * threads, &rng).expect("the hasher");
    let hash = runtime
        .block_on(hashing.hash(BROKER_PASSWORD.as_bytes(), &rng))
        .expect("a hash");
    let started = Instant::now();
    let mut done = 0u64;
    while started.elapsed() < duration {
        let checks: Vec<_> = (0..threads)
            .map(|_| hashing.verify(BROKER_PASSWORD.as_bytes(), Some(&hash)))
            .collect();
        for check in checks {
            assert!(runtime.block_on(check).expect("a verification").matches);
            done += 1;
        }
    }
    done as f64 / started.elapsed().as_secs_f64()
}

/// The cheapest Argon2id cost the crate accepts: a verification of microseconds, so that what
/// a sign-in costs beyond it is the rest of the broker.
const MINIMAL_COST: PasswordCost = PasswordCost {
    memory_kib: 8,
    iterations: 1,
    parallelism: 1,
};

/// A server with the benchmark's application users (hashed at `cost`) and a broker profile
/// `bench` whose passwords are checked at `cost`.
async fn broker_server(
    binary: &Path,
    args: &Args,
    cost: PasswordCost,
) -> anyhow::Result<(Tegata, Arc<Target>)> {
    let server = Tegata::start(binary, "broker", &args.server_args())?;
    let target = prepare_tegata(&server, "broker", 0).await?;
    {
        let store = tegata_store::open_sqlite(&server.data_dir).await?;
        let rng = SystemRandomness;
        let hashing = PasswordHashing::new(cost, 2, 64, &rng).map_err(anyhow::Error::msg)?;
        let users = AppUsers::new(Arc::new(store), Arc::new(hashing));
        for i in 0..BROKER_USERS {
            users
                .add(
                    &format!("broker-user-{i}"),
                    BROKER_PASSWORD.as_bytes(),
                    0,
                    &rng,
                )
                .await?;
        }
    }
    let config = server.data_dir.join("broker.toml");
    std::fs::write(
        &config,
        format!(
            "[broker]\naudit_log = \"off\"\npassword_memory_kib = {}\npassword_iterations = {}\n\
             password_parallelism = {}\n\n[[broker.profiles]]\nname = \"bench\"\n\
             authenticator = \"password\"\nidentity_pool_id = \"{}\"\n\
             developer_provider = \"{PROVIDER}\"\nrole_arn = \"{}\"\n",
            cost.memory_kib, cost.iterations, cost.parallelism, target.pool_id, target.role_arn
        ),
    )?;
    let config_arg = config.display().to_string();
    let server = server.restart(binary, &["--config", &config_arg])?;
    let target = Arc::new(Target {
        addr: server.addr.clone(),
        ..target
    });
    Ok((server, target))
}

fn cpu_per_flow_us(m: &Measurement) -> Option<f64> {
    m.server_cpu_seconds
        .map(|s| s * 1e6 / m.flows.max(1) as f64)
}

/// The credential broker's password sign-in: its rate beside the Argon2id ceiling at the
/// default cost, then its CPU per sign-in with the cheapest cost (what the broker costs beyond
/// the hash), beside the basic flow's.
async fn broker(
    report: &mut String,
    args: &Args,
    binary: &Path,
    basic_existing: Option<&Measurement>,
) -> anyhow::Result<()> {
    let threads = broker_hashing_threads();
    let cost = PasswordCost::default();
    eprintln!("broker: a server with {BROKER_USERS} application users at the default cost …");
    let (server, target) = broker_server(binary, args, cost).await?;
    eprintln!("running broker-password, alternating with the Argon2id ceiling …");
    let (m, ceiling, _) = interleaved(args, &target, &server, Scenario::BrokerPassword, &[]).await;
    let ceiling = ceiling.rate;
    drop(server);
    let _ = write!(
        report,
        "\n### The broker: password sign-in (Argon2id m={} KiB, t={}, p={}, {threads} hashing \
         thread(s))\n\n{TABLE_HEAD}",
        cost.memory_kib, cost.iterations, cost.parallelism
    );
    row(report, "broker-password", &m, Some(ceiling), args.clients);

    eprintln!("broker: again with the cheapest Argon2id cost, for the rest of its cost …");
    let (server, target) = broker_server(binary, args, MINIMAL_COST).await?;
    let cheap = closed_loop(
        &target,
        Scenario::BrokerPassword,
        args.clients,
        args.warmup(),
        Stop::After(args.duration()),
        Some(&server),
    )
    .await;
    drop(server);
    let cheap_hash_us = 1e6 / argon2_ceiling(Duration::from_secs(2), 1, MINIMAL_COST);
    row(
        report,
        "broker-password, cheapest cost (m=8 KiB, t=1)",
        &cheap,
        None,
        args.clients,
    );
    let format = |v: Option<f64>| v.map_or("—".to_owned(), |c| format!("{c:.0}"));
    let _ = writeln!(
        report,
        "\n| quantity | value |\n|---|---|\n\
         | Argon2id verifications/s at the default cost on {threads} thread(s) (the ceiling, alternating) | {ceiling:.1} |\n\
         | CPU per verification at the default cost µs | {:.0} |\n\
         | server CPU per sign-in at the default cost µs | {} |\n\
         | server CPU per sign-in at the cheapest cost µs | {} |\n\
         | of which the cheapest verification µs | {cheap_hash_us:.0} |\n\
         | **the broker's cost beyond the hash** µs | {} |\n\
         | server CPU per basic-existing flow µs (same run) | {} |",
        1e6 * threads as f64 / ceiling,
        format(cpu_per_flow_us(&m)),
        format(cpu_per_flow_us(&cheap)),
        format(cpu_per_flow_us(&cheap).map(|c| c - cheap_hash_us)),
        basic_existing
            .and_then(cpu_per_flow_us)
            .map_or("— (run with basic-existing)".to_owned(), |c| format!(
                "{c:.0}"
            )),
    );
    for (label, m) in [
        ("broker-password", &m),
        ("broker-password (cheapest)", &cheap),
    ] {
        if let Some(e) = &m.first_error {
            let _ = writeln!(
                report,
                "\nFirst error in {label}: {}",
                e.chars().take(300).collect::<String>()
            );
        }
    }
    Ok(())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "unknown CPU".to_owned())
}

/// basic-new at 10 000 identities and at `total`, the pool filled straight through the store.
async fn sustained(
    report: &mut String,
    args: &Args,
    server: &Tegata,
    total: u64,
) -> anyhow::Result<()> {
    let target = Arc::new(prepare_tegata(server, "sustained", 0).await?);
    let store = tegata_store::open_sqlite(&server.data_dir).await?;
    let mut rows = Vec::new();
    let mut filled = 0;
    for goal in [10_000, total] {
        eprintln!("filling the pool to {goal} identities …");
        let took = prefill(&store, &target.pool_id, filled, goal).await?;
        filled = goal;
        eprintln!("running basic-new at {goal} identities …");
        let (m, ceiling, _) = interleaved(args, &target, server, Scenario::BasicNew, &[]).await;
        let ceiling = ceiling.rate;
        rows.push((goal, took, m, ceiling));
    }
    let _ = writeln!(
        report,
        "\n### Sustained: basic-new as the pool grows\n\n| identities in the pool (prefilled) | prefill time s | flows/s | {} ceiling/s (alternating) | ratio to ceiling | p99 ms | errors |\n|---|---|---|---|---|---|---|",
        args.algorithm()
    );
    for (goal, took, m, ceiling) in &rows {
        let _ = writeln!(
            report,
            "| {goal} | {:.1} | {:.0} | {ceiling:.0} | {:.2} | {:.2} | {} |",
            took.as_secs_f64(),
            m.rate(),
            m.rate() / ceiling,
            percentile(&m.flow_latency, 99.0),
            m.errors
        );
    }
    // Compared as ratios to the ceiling measured alongside each, so that the machine's drift
    // between the two runs (minutes apart, with the prefill between) does not count as decay.
    let ratio = (rows[1].2.rate() / rows[1].3) / (rows[0].2.rate() / rows[0].3);
    let _ = writeln!(
        report,
        "\nRatio to ceiling at {total} ÷ ratio to ceiling at 10000: **{ratio:.2}** (raw rates: {:.2})",
        rows[1].2.rate() / rows[0].2.rate()
    );
    Ok(())
}

/// Create identities `from..to` of a pool straight through the store, 100 000 at a time.
async fn prefill(
    store: &tegata_store::SqliteStore,
    pool_id: &str,
    from: u64,
    to: u64,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let mut next = from;
    while next < to {
        let end = (next + 100_000).min(to);
        let rows: Vec<(String, String)> = (next..end)
            .map(|i| {
                (
                    format!("{REGION}:00000000-0000-4000-8000-{i:012x}"),
                    format!("prefill-{i}"),
                )
            })
            .collect();
        store
            .prefill_identities(pool_id, PROVIDER, &rows, 0)
            .await?;
        next = end;
    }
    Ok(started.elapsed())
}

/// Peak RSS of a fresh server after a tenth of `flows` basic flows and after all of them.
async fn soak(report: &mut String, args: &Args, binary: &Path, flows: u64) -> anyhow::Result<()> {
    let server = Tegata::start(binary, "soak", &args.server_args())?;
    let target = Arc::new(prepare_tegata(&server, "soak", 0).await?);
    let tenth = flows / 10;
    eprintln!("soak: {tenth} flows …");
    let first = closed_loop(
        &target,
        Scenario::BasicNew,
        args.clients,
        Duration::ZERO,
        Stop::Flows(tenth),
        Some(&server),
    )
    .await;
    let rss_tenth = server.peak_rss_kib();
    eprintln!("soak: {} more flows …", flows - tenth);
    let rest = closed_loop(
        &target,
        Scenario::BasicNew,
        args.clients,
        Duration::ZERO,
        Stop::Flows(flows - tenth),
        Some(&server),
    )
    .await;
    let rss_all = server.peak_rss_kib();
    let _ = writeln!(
        report,
        "\n### Memory: peak RSS as basic flows accumulate (fresh server)\n\n| flows so far | flows/s in the stretch | errors | server peak RSS MiB |\n|---|---|---|---|"
    );
    let _ = writeln!(
        report,
        "| {} | {:.0} | {} | {:.1} |",
        first.flows,
        first.rate(),
        first.errors,
        rss_tenth as f64 / 1024.0
    );
    let _ = writeln!(
        report,
        "| {} | {:.0} | {} | {:.1} |",
        first.flows + rest.flows,
        rest.rate(),
        rest.errors,
        rss_all as f64 / 1024.0
    );
    let _ = writeln!(
        report,
        "\nPeak RSS after all ÷ after a tenth: **{:.2}**",
        rss_all as f64 / rss_tenth.max(1) as f64
    );
    Ok(())
}
