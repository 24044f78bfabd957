//! Starting servers, reading their credentials, and a minimal HTTP/1.1 client.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, SystemTime};

use aws_sdk_cognitoidentity::config::{BehaviorVersion, Region};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub(crate) const REGION: &str = "us-east-1";

/// A scratch directory removed when dropped.
pub(crate) struct TempDir(pub PathBuf);

impl TempDir {
    pub(crate) fn new(label: &str) -> Self {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let path = std::env::temp_dir().join(format!(
            "tegata-test-{label}-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running `tegata serve`, stopped (SIGTERM) when dropped.
pub(crate) struct Server {
    child: Child,
    pub url: String,
    pub addr: String,
    pub data_dir: PathBuf,
    pub log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl Server {
    pub(crate) fn start(data_dir: &Path) -> Self {
        Self::start_with(data_dir, &[])
    }

    /// Start a server with `extra` flags. It logs at `debug`, where every request is logged,
    /// so that the tests that look for secrets in the log see everything a request can write.
    pub(crate) fn start_with(data_dir: &Path, extra: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tegata"))
            .arg("serve")
            .args(["--listen", "127.0.0.1:0", "--log", "debug"])
            .arg("--data-dir")
            .arg(data_dir)
            .args(extra)
            .env_remove("TEGATA_PUBLIC_URL")
            .env_remove("TEGATA_DATABASE_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("tegata starts");
        let stderr = child.stderr.take().unwrap();
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (tx, rx) = mpsc::channel();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("tegata listening on http://").nth(1) {
                    let addr = rest.split_whitespace().next().unwrap_or("").to_owned();
                    let _ = tx.send(addr);
                }
                sink.lock().unwrap().push(line);
            }
        });
        let addr = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(addr) => addr,
            Err(_) => {
                let _ = child.kill();
                panic!("tegata did not start:\n{}", log.lock().unwrap().join("\n"));
            }
        };
        Self {
            child,
            url: format!("http://{addr}"),
            addr,
            data_dir: data_dir.to_owned(),
            log,
        }
    }

    pub(crate) fn credentials(&self) -> (String, String) {
        read_credentials(&self.data_dir.join("credentials"))
    }

    pub(crate) fn cognito(&self) -> aws_sdk_cognitoidentity::Client {
        let (akid, secret) = self.credentials();
        cognito_client(&self.url, &akid, &secret)
    }

    pub(crate) fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// Stop with SIGTERM and wait; returns whether it exited successfully.
    pub(crate) fn stop(mut self) -> bool {
        self.terminate()
    }

    fn terminate(&mut self) -> bool {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        for _ in 0..100 {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        false
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.terminate();
        }
    }
}

pub(crate) fn read_credentials(path: &Path) -> (String, String) {
    let text = std::fs::read_to_string(path).expect("credentials file");
    let value = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .map(|v| v.trim_start_matches([' ', '=']).trim().to_owned())
            .unwrap_or_else(|| panic!("{key} in credentials file"))
    };
    (value("aws_access_key_id"), value("aws_secret_access_key"))
}

pub(crate) fn cognito_client(
    url: &str,
    akid: &str,
    secret: &str,
) -> aws_sdk_cognitoidentity::Client {
    let creds = aws_credential_types::Credentials::new(akid, secret, None, None, "tegata-test");
    let conf = aws_sdk_cognitoidentity::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .endpoint_url(url)
        .region(Region::new(REGION))
        .credentials_provider(creds)
        .build();
    aws_sdk_cognitoidentity::Client::from_conf(conf)
}

/// A response read off the wire.
#[derive(Debug)]
pub(crate) struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl RawResponse {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

/// Send one HTTP/1.1 request (`Connection: close`) and read the whole response.
pub(crate) async fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> RawResponse {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\n");
    if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
        head.push_str(&format!("Host: {addr}\r\n"));
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    parse_response(&raw)
}

/// A response as it came off the wire (status line, headers, body).
pub(crate) fn parse_response(raw: &[u8]) -> RawResponse {
    let text = String::from_utf8_lossy(raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    RawResponse {
        status,
        headers,
        body: body.to_owned(),
    }
}

/// Sign a Cognito Identity request with the `aws-sigv4` crate, as an SDK would, at `at`.
/// `target` is the whole `X-Amz-Target` value.
pub(crate) fn signed_cognito_headers(
    addr: &str,
    target: &str,
    body: &[u8],
    akid: &str,
    secret: &str,
    at: SystemTime,
) -> Vec<(String, String)> {
    signed_cognito_headers_as(
        addr,
        "application/x-amz-json-1.1",
        target,
        body,
        akid,
        secret,
        at,
    )
}

/// [`signed_cognito_headers`] with another `Content-Type`.
pub(crate) fn signed_cognito_headers_as(
    addr: &str,
    content_type: &str,
    target: &str,
    body: &[u8],
    akid: &str,
    secret: &str,
    at: SystemTime,
) -> Vec<(String, String)> {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    let identity = aws_credential_types::Credentials::new(akid, secret, None, None, "t").into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(REGION)
        .name("cognito-identity")
        .time(at)
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let mut headers = vec![
        ("host".to_owned(), addr.to_owned()),
        ("content-type".to_owned(), content_type.to_owned()),
        ("x-amz-target".to_owned(), target.to_owned()),
    ];
    let signable = SignableRequest::new(
        "POST",
        format!("http://{addr}/"),
        headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        SignableBody::Bytes(body),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    for (name, value) in instructions.headers() {
        headers.push((name.to_owned(), value.to_owned()));
    }
    headers
}

/// An STS client (aws-sdk-rust) with the given credentials; `clock_offset` shifts its signing
/// clock, to meet a server started with `--clock-offset-seconds`.
pub(crate) fn sts_client(
    url: &str,
    akid: &str,
    secret: &str,
    session_token: Option<&str>,
    clock_offset: Duration,
) -> aws_sdk_sts::Client {
    let creds = aws_credential_types::Credentials::new(
        akid,
        secret,
        session_token.map(str::to_owned),
        None,
        "tegata-test",
    );
    let mut conf = aws_sdk_sts::Config::builder()
        .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
        .endpoint_url(url)
        .region(aws_sdk_sts::config::Region::new(REGION))
        .credentials_provider(creds);
    if !clock_offset.is_zero() {
        conf = conf.time_source(aws_smithy_async::time::StaticTimeSource::new(
            SystemTime::now() + clock_offset,
        ));
    }
    aws_sdk_sts::Client::from_conf(conf.build())
}

/// Sign an awsQuery request (IAM, STS) with the `aws-sigv4` crate and send it.
pub(crate) async fn query_call(
    server: &Server,
    service: &str,
    params: &[(&str, &str)],
) -> RawResponse {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    let (akid, secret) = server.credentials();
    let body = params
        .iter()
        .map(|(k, v)| format!("{}={}", aws_sigv4_encode(k), aws_sigv4_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let identity = aws_credential_types::Credentials::new(&akid, &secret, None, None, "t").into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(REGION)
        .name(service)
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .unwrap()
        .into();
    let mut headers = vec![
        ("host".to_owned(), server.addr.clone()),
        (
            "content-type".to_owned(),
            "application/x-www-form-urlencoded; charset=utf-8".to_owned(),
        ),
    ];
    let signable = SignableRequest::new(
        "POST",
        format!("http://{}/", server.addr),
        headers.iter().map(|(n, v)| (n.as_str(), v.as_str())),
        SignableBody::Bytes(body.as_bytes()),
    )
    .unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    for (name, value) in instructions.headers() {
        headers.push((name.to_owned(), value.to_owned()));
    }
    http(&server.addr, "POST", "/", &headers, body.as_bytes()).await
}

fn aws_sigv4_encode(s: &str) -> String {
    tegata_sigv4::uri_encode(s.as_bytes(), false)
}

/// The text of the first `<tag>` element of an XML body.
pub(crate) fn xml_text<'a>(body: &'a str, tag: &str) -> &'a str {
    body.split(&format!("<{tag}>"))
        .nth(1)
        .and_then(|rest| rest.split(&format!("</{tag}>")).next())
        .unwrap_or_else(|| panic!("<{tag}> in {body}"))
}
