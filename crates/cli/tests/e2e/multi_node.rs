//! Several tegata nodes on one PostgreSQL database: one deployment, any node serves any request.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use tegata_testkit::PgCluster;

use crate::support::{Server, TempDir, http, query_call, sts_client, xml_text};

const PROVIDER: &str = "login.mycompany.myapp";

/// The deployment's one public URL (the load balancer's), the issuer of every node's tokens.
const PUBLIC_URL: &str = "http://tokens.tegata.test";

/// Start two nodes at the same moment on an empty database, sharing one master key file and one
/// public URL.
fn start_two_nodes(cluster: &PgCluster, dir: &TempDir) -> (Server, Server, String) {
    let url = cluster.create_database();
    let key = dir.0.join("master.key");
    let key = key.to_str().unwrap().to_owned();
    let node = |name: &str| {
        let data = dir.0.join(name);
        let url = url.clone();
        let key = key.clone();
        std::thread::spawn(move || {
            Server::start_with(
                &data,
                &[
                    "--database-url",
                    &url,
                    "--master-key-file",
                    &key,
                    "--public-url",
                    PUBLIC_URL,
                ],
            )
        })
    };
    let (a, b) = (node("a"), node("b"));
    (a.join().unwrap(), b.join().unwrap(), url)
}

/// A pool of developer-authenticated identities (no guests), created through `node`; its id.
async fn create_pool(node: &Server, name: &str) -> String {
    node.cognito()
        .create_identity_pool()
        .identity_pool_name(name)
        .allow_unauthenticated_identities(false)
        .developer_provider_name(PROVIDER)
        .send()
        .await
        .unwrap()
        .identity_pool_id
}

/// A role that trusts the tokens of `pool_id`, created through `node`; its ARN.
async fn create_pool_role(node: &Server, pool_id: &str, name: &str) -> String {
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow",
        "Principal":{{"Federated":"cognito-identity.amazonaws.com"}},
        "Action":"sts:AssumeRoleWithWebIdentity",
        "Condition":{{"StringEquals":{{"cognito-identity.amazonaws.com:aud":"{pool_id}"}}}}}}]}}"#
    );
    let created = query_call(
        node,
        "iam",
        &[
            ("Action", "CreateRole"),
            ("Version", "2010-05-08"),
            ("RoleName", name),
            ("AssumeRolePolicyDocument", &trust),
        ],
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.body);
    xml_text(&created.body, "Arn").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_one_deployment() {
    let cluster = PgCluster::start();
    let dir = TempDir::new("multi");
    let (a, b, url) = start_two_nodes(&cluster, &dir);
    let db = PgCluster::database_name(&url);

    // One account, one administrator key, one active signing key.
    assert_eq!(cluster.psql(db, "SELECT count(*) FROM account"), "1");
    assert_eq!(cluster.psql(db, "SELECT count(*) FROM access_keys"), "1");
    assert_eq!(
        cluster.psql(
            db,
            "SELECT count(*) FROM signing_keys WHERE state = 'active'"
        ),
        "1"
    );
    assert_eq!(
        a.credentials(),
        b.credentials(),
        "both nodes wrote the same admin key"
    );
    // One of them publishes the next key; both then serve the same key set: active and next.
    let published = wait_for_published_keys(&[&a, &b], 2).await;
    let jwks_a = http(&a.addr, "GET", "/.well-known/jwks_uri", &[], b"")
        .await
        .json();
    let jwks_b = http(&b.addr, "GET", "/.well-known/jwks_uri", &[], b"")
        .await
        .json();
    assert_eq!(jwks_a, jwks_b);
    assert_eq!(published[0].len(), 2);
    assert_eq!(
        cluster.psql(db, "SELECT count(*) FROM signing_keys WHERE state = 'next'"),
        "1"
    );

    // 200 concurrent token calls for 20 new users, alternating between the nodes.
    let pool_id = create_pool(&a, "shared").await;
    let clients = [a.cognito(), b.cognito()];
    let mut tasks = Vec::new();
    for i in 0..200 {
        let client = clients[i % 2].clone();
        let pool_id = pool_id.clone();
        tasks.push(tokio::spawn(async move {
            let user = format!("user-{}", i % 20);
            let out = client
                .get_open_id_token_for_developer_identity()
                .identity_pool_id(pool_id)
                .logins(PROVIDER, &user)
                .send()
                .await
                .expect("token call");
            (user, out.identity_id.unwrap())
        }));
    }
    let mut seen: BTreeMap<String, HashSet<String>> = BTreeMap::new();
    for task in tasks {
        let (user, id) = task.await.unwrap();
        seen.entry(user).or_default().insert(id);
    }
    assert_eq!(seen.len(), 20);
    for (user, ids) in &seen {
        assert_eq!(ids.len(), 1, "{user} saw {ids:?}");
    }
    assert_eq!(cluster.psql(db, "SELECT count(*) FROM identities"), "20");

    // The basic flow across nodes: a token from A exchanged at B, B's credentials used at A.
    let role_arn = create_pool_role(&a, &pool_id, "shared_role").await;
    let token = a
        .cognito()
        .get_open_id_token_for_developer_identity()
        .identity_pool_id(&pool_id)
        .logins(PROVIDER, "user-0")
        .send()
        .await
        .unwrap()
        .token
        .unwrap();
    let (akid, secret) = b.credentials();
    let assumed = sts_client(&b.url, &akid, &secret, None, Duration::ZERO)
        .assume_role_with_web_identity()
        .role_arn(&role_arn)
        .role_session_name("cross")
        .web_identity_token(token)
        .send()
        .await
        .expect("node B accepts node A's token");
    let creds = assumed.credentials().unwrap();
    let identity = sts_client(
        &a.url,
        creds.access_key_id(),
        creds.secret_access_key(),
        Some(creds.session_token()),
        Duration::ZERO,
    )
    .get_caller_identity()
    .send()
    .await
    .expect("node A accepts node B's credentials");
    assert!(
        identity
            .arn()
            .unwrap()
            .ends_with(":assumed-role/shared_role/cross")
    );
    drop((a, b));
}

/// An access key deactivated or deleted through one node is refused by the other within a
/// second: each node re-reads a key after at most a second.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_deactivated_key_is_refused_by_every_node_within_a_second() {
    let cluster = PgCluster::start();
    let dir = TempDir::new("revoke");
    let (a, b, _) = start_two_nodes(&cluster, &dir);
    let call = |params: &'static [(&'static str, &'static str)]| query_call(&a, "iam", params);
    assert_eq!(
        call(&[
            ("Action", "CreateUser"),
            ("Version", "2010-05-08"),
            ("UserName", "worker")
        ])
        .await
        .status,
        200
    );
    let created = call(&[
        ("Action", "CreateAccessKey"),
        ("Version", "2010-05-08"),
        ("UserName", "worker"),
    ])
    .await;
    let (akid, secret) = (
        xml_text(&created.body, "AccessKeyId").to_owned(),
        xml_text(&created.body, "SecretAccessKey").to_owned(),
    );
    let on_b = sts_client(&b.url, &akid, &secret, None, Duration::ZERO);
    on_b.get_caller_identity()
        .send()
        .await
        .expect("node B knows the new key");

    for (action, status) in [
        ("UpdateAccessKey", Some("Inactive")),
        ("DeleteAccessKey", None),
    ] {
        let mut params = vec![
            ("Action", action),
            ("Version", "2010-05-08"),
            ("UserName", "worker"),
            ("AccessKeyId", akid.as_str()),
        ];
        if let Some(status) = status {
            params.push(("Status", status));
        }
        let changed = query_call(&a, "iam", &params).await;
        assert_eq!(changed.status, 200, "{}", changed.body);
        let since = std::time::Instant::now();
        loop {
            match on_b.get_caller_identity().send().await {
                Err(e) => {
                    let code = e.into_service_error().meta().code().map(str::to_owned);
                    assert_eq!(code.as_deref(), Some("InvalidClientTokenId"));
                    break;
                }
                Ok(_) => {
                    assert!(
                        since.elapsed() < Duration::from_millis(1500),
                        "node B still accepts the key {:?} after {action}",
                        since.elapsed()
                    );
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
        if action == "UpdateAccessKey" {
            // Active again, and accepted again, for the deletion that follows.
            let params = [
                ("Action", "UpdateAccessKey"),
                ("Version", "2010-05-08"),
                ("UserName", "worker"),
                ("AccessKeyId", akid.as_str()),
                ("Status", "Active"),
            ];
            assert_eq!(query_call(&a, "iam", &params).await.status, 200);
            tokio::time::sleep(Duration::from_millis(1100)).await;
            on_b.get_caller_identity()
                .send()
                .await
                .expect("active again");
        }
    }
}

/// `tegata app-users` on a PostgreSQL deployment while its node serves: users added, disabled
/// and enabled through the shared database take effect at the next sign-in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn application_users_on_postgresql_while_the_node_serves() {
    let cluster = PgCluster::start();
    let dir = TempDir::new("broker-pg");
    let url = cluster.create_database();
    let node = Server::start_with(&dir.0.join("a"), &["--database-url", &url]);
    let pool_id = create_pool(&node, "broker").await;
    let trust = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow",
        "Principal":{{"Federated":"cognito-identity.amazonaws.com"}},
        "Action":"sts:AssumeRoleWithWebIdentity",
        "Condition":{{"StringEquals":{{"cognito-identity.amazonaws.com:aud":"{pool_id}"}}}}}}]}}"#
    );
    let created = query_call(
        &node,
        "iam",
        &[
            ("Action", "CreateRole"),
            ("Version", "2010-05-08"),
            ("RoleName", "broker_customer"),
            ("AssumeRolePolicyDocument", &trust),
        ],
    )
    .await;
    let role_arn = xml_text(&created.body, "Arn").to_owned();
    let config = dir.0.join("tegata.toml");
    std::fs::write(
        &config,
        format!(
            "[broker]\naudit_log = \"off\"\n\n[[broker.profiles]]\nname = \"shop\"\n\
             authenticator = \"password\"\nidentity_pool_id = \"{pool_id}\"\n\
             developer_provider = \"{PROVIDER}\"\nrole_arn = \"{role_arn}\"\n"
        ),
    )
    .unwrap();
    assert!(node.stop());
    let node = Server::start_with(
        &dir.0.join("a"),
        &["--database-url", &url, "--config", config.to_str().unwrap()],
    );

    let app_users = |args: &[&str], password: Option<&str>| {
        use std::io::Write;
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_tegata"));
        command
            .arg("app-users")
            .args(args)
            .args(["--database-url", &url])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        if password.is_some() {
            command.arg("--password-stdin");
        }
        let mut child = command.spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        if let Some(password) = password {
            writeln!(stdin, "{password}").unwrap();
        }
        drop(stdin);
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    let sign_in = || async {
        let body = serde_json::json!({"username": "alice", "password": "correct horse battery"});
        http(
            &node.addr,
            "POST",
            "/broker/v1/profiles/shop/credentials",
            &[("Content-Type".to_owned(), "application/json".to_owned())],
            body.to_string().as_bytes(),
        )
        .await
        .status
    };

    assert_eq!(sign_in().await, 401);
    app_users(&["add", "alice"], Some("correct horse battery"));
    assert_eq!(sign_in().await, 200);
    app_users(&["disable", "alice"], None);
    assert_eq!(sign_in().await, 401);
    app_users(&["enable", "alice"], None);
    assert_eq!(sign_in().await, 200);
    assert_eq!(
        cluster.psql(
            PgCluster::database_name(&url),
            "SELECT count(*) FROM app_users"
        ),
        "1"
    );
    assert!(node.stop());
}

/// `/readyz` follows the database: 503 while PostgreSQL is down, 200 once it is back, while
/// `/healthz` says the process is alive throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_postgresql() {
    let mut cluster = PgCluster::start();
    let dir = TempDir::new("ready");
    let url = cluster.create_database();
    let node = Server::start_with(&dir.0.join("a"), &["--database-url", &url]);
    let get = |path: &'static str| {
        let addr = node.addr.clone();
        async move { http(&addr, "GET", path, &[], b"").await.status }
    };
    assert_eq!(get("/readyz").await, 200);
    cluster.stop();
    assert_eq!(get("/readyz").await, 503);
    assert_eq!(get("/healthz").await, 200);
    cluster.restart();
    // The pool reconnects on its next use.
    let mut status = 0;
    for _ in 0..50 {
        status = get("/readyz").await;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, 200);
    assert!(node.stop());
}

/// The README's PostgreSQL backup: pg_dump of a serving deployment, pg_restore into another
/// database, and a node on the restored database answers what was there. `tegata backup`
/// points a PostgreSQL deployment to pg_dump.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgresql_deployment_restores_from_pg_dump() {
    let cluster = PgCluster::start();
    let dir = TempDir::new("pg-backup");
    let source = cluster.create_database();
    let key = dir.0.join("master.key");
    let key = key.to_str().unwrap();
    let node = Server::start_with(
        &dir.0.join("a"),
        &["--database-url", &source, "--master-key-file", key],
    );
    let pool = node
        .cognito()
        .create_identity_pool()
        .identity_pool_name("kept")
        .allow_unauthenticated_identities(false)
        .developer_provider_name(PROVIDER)
        .send()
        .await
        .unwrap()
        .identity_pool_id;

    let hint = std::process::Command::new(env!("CARGO_BIN_EXE_tegata"))
        .args(["backup", "copy.db", "--database-url", &source])
        .output()
        .unwrap();
    assert!(!hint.status.success());
    assert!(String::from_utf8_lossy(&hint.stderr).contains("pg_dump"));

    let bin = tegata_testkit::postgres_bin_dir();
    let dump = dir.0.join("tegata.dump");
    let dumped = std::process::Command::new(bin.join("pg_dump"))
        .args(["--format=custom", "--file"])
        .arg(&dump)
        .arg(&source)
        .output()
        .unwrap();
    assert!(dumped.status.success(), "{dumped:?}");
    let created = std::process::Command::new(bin.join("createdb"))
        .args(["--host", "127.0.0.1", "--port", &cluster.port.to_string()])
        .args(["--username", "postgres", "tegata_restored"])
        .output()
        .unwrap();
    assert!(created.status.success(), "{created:?}");
    let target = cluster.url("tegata_restored");
    let restored = std::process::Command::new(bin.join("pg_restore"))
        .args(["--no-owner", "--dbname", &target])
        .arg(&dump)
        .output()
        .unwrap();
    assert!(restored.status.success(), "{restored:?}");
    assert!(node.stop());

    let node = Server::start_with(
        &dir.0.join("b"),
        &["--database-url", &target, "--master-key-file", key],
    );
    let described = node
        .cognito()
        .describe_identity_pool()
        .identity_pool_id(&pool)
        .send()
        .await
        .unwrap();
    assert_eq!(described.identity_pool_name, "kept");
    assert!(node.stop());
}

/// The key ids of `node`'s published key set.
async fn published_kids(node: &Server) -> Vec<String> {
    let jwks = http(&node.addr, "GET", "/.well-known/jwks_uri", &[], b"")
        .await
        .json();
    jwks["keys"]
        .as_array()
        .expect("a key set")
        .iter()
        .map(|key| key["kid"].as_str().expect("a kid").to_owned())
        .collect()
}

/// Wait (up to ten seconds) until every node publishes `count` keys; their key ids.
async fn wait_for_published_keys(nodes: &[&Server], count: usize) -> Vec<Vec<String>> {
    let since = std::time::Instant::now();
    loop {
        let mut sets = Vec::new();
        for node in nodes {
            sets.push(published_kids(node).await);
        }
        if sets.iter().all(|kids| kids.len() == count) {
            return sets;
        }
        assert!(
            since.elapsed() < Duration::from_secs(10),
            "the nodes publish {sets:?}, not {count} keys each"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The `kid` in a token's header.
fn token_kid(token: &str) -> String {
    jsonwebtoken::decode_header(token)
        .expect("a JWS header")
        .kid
        .expect("a kid")
}

/// Run `tegata keys ARGS` against the deployment at `database_url`; its standard output.
fn tegata_keys(database_url: &str, master_key: &std::path::Path, args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tegata"))
        .arg("keys")
        .args(args)
        .args(["--database-url", database_url])
        .arg("--master-key-file")
        .arg(master_key)
        .output()
        .expect("tegata keys runs");
    assert!(
        out.status.success(),
        "tegata keys {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// One basic flow: a developer token from `token_node`, exchanged at `sts_node`; the token.
async fn basic_flow(
    token_node: &aws_sdk_cognitoidentity::Client,
    sts_node: &aws_sdk_sts::Client,
    pool_id: &str,
    user: &str,
    role_arn: &str,
) -> Result<String, String> {
    let token = token_node
        .get_open_id_token_for_developer_identity()
        .identity_pool_id(pool_id)
        .logins(PROVIDER, user)
        .send()
        .await
        .map_err(|e| format!("token: {:?}", e.into_service_error()))?
        .token
        .ok_or("no token")?;
    sts_node
        .assume_role_with_web_identity()
        .role_arn(role_arn)
        .role_session_name(user)
        .web_identity_token(&token)
        .send()
        .await
        .map_err(|e| {
            format!(
                "exchange of a {} token: {:?}",
                token_kid(&token),
                e.into_service_error()
            )
        })?;
    Ok(token)
}

/// Key rotation while 32 clients run the basic flow across two nodes: no request fails, tokens
/// signed before the rotation still verify, and once the old key is revoked the other node
/// refuses its tokens within five seconds.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn signing_keys_rotate_under_load_and_revocation_reaches_every_node() {
    let cluster = PgCluster::start();
    let dir = TempDir::new("rotation");
    let (a, b, url) = start_two_nodes(&cluster, &dir);
    let master_key = dir.0.join("master.key");
    let pool_id = create_pool(&a, "rotating").await;
    let role_arn = create_pool_role(&a, &pool_id, "rotating_role").await;
    let (akid, secret) = a.credentials();
    let sts = [
        sts_client(&a.url, &akid, &secret, None, Duration::ZERO),
        sts_client(&b.url, &akid, &secret, None, Duration::ZERO),
    ];
    let cognito = [a.cognito(), b.cognito()];
    let before = wait_for_published_keys(&[&a, &b], 2).await;
    let old_token = basic_flow(&cognito[0], &sts[1], &pool_id, "early", &role_arn)
        .await
        .unwrap();
    let old_kid = token_kid(&old_token);
    assert!(before[0].contains(&old_kid));

    // 32 clients, each alternating which node makes its token and which exchanges it.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut clients = Vec::new();
    for i in 0..32 {
        let (cognito, sts) = (cognito.clone(), sts.clone());
        let (pool_id, role_arn, stop) = (pool_id.clone(), role_arn.clone(), stop.clone());
        clients.push(tokio::spawn(async move {
            let mut kids = HashSet::new();
            let mut flows = 0usize;
            let mut errors = Vec::new();
            let mut round = 0usize;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let (t, s) = ((i + round) % 2, (i + round + 1) % 2);
                let user = format!("user-{}", (i * 7 + round) % 50);
                match basic_flow(&cognito[t], &sts[s], &pool_id, &user, &role_arn).await {
                    Ok(token) => {
                        kids.insert(token_kid(&token));
                        flows += 1;
                    }
                    Err(e) => errors.push(e),
                }
                round += 1;
            }
            (flows, kids, errors)
        }));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rotated = tokio::task::spawn_blocking({
        let (url, master_key) = (url.clone(), master_key.clone());
        move || tegata_keys(&url, &master_key, &["rotate", "--now"])
    })
    .await
    .unwrap();
    assert!(rotated.contains("rotated:"), "{rotated}");
    // Every node signs with the new key within its reload period; the clients run on past it.
    tokio::time::sleep(Duration::from_secs(6)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut flows = 0;
    let mut kids = HashSet::new();
    for client in clients {
        let (n, seen, errors) = client.await.unwrap();
        assert!(
            errors.is_empty(),
            "flows failed during the rotation: {errors:?}"
        );
        flows += n;
        kids.extend(seen);
    }
    assert!(flows > 32, "only {flows} flows ran");
    assert_eq!(kids.len(), 2, "the clients' tokens were signed by {kids:?}");
    let after = wait_for_published_keys(&[&a, &b], 3).await;
    assert_eq!(after[0], after[1]);
    let new_kid = basic_flow(&cognito[1], &sts[0], &pool_id, "late", &role_arn)
        .await
        .map(|token| token_kid(&token))
        .unwrap();
    assert_ne!(new_kid, old_kid);
    let listed = tegata_keys(&url, &master_key, &["list"]);
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with(&old_kid) && l.contains("retired")),
        "{listed}"
    );

    // The retired key still verifies what it signed.
    let exchange_old = || {
        sts[1]
            .assume_role_with_web_identity()
            .role_arn(&role_arn)
            .role_session_name("early")
            .web_identity_token(&old_token)
            .send()
    };
    exchange_old()
        .await
        .expect("a retired key's token verifies");

    // Revoked through node A's database, refused by node B within five seconds.
    let revoked = tegata_keys(&url, &master_key, &["revoke", &old_kid]);
    assert!(revoked.contains("revoked"), "{revoked}");
    let since = std::time::Instant::now();
    loop {
        match exchange_old().await {
            Err(e) => {
                let e = e.into_service_error();
                assert_eq!(e.meta().code(), Some("InvalidIdentityToken"), "{e:?}");
                break;
            }
            Ok(_) => {
                assert!(
                    since.elapsed() < Duration::from_secs(5),
                    "node B accepts a revoked key's token after {:?}",
                    since.elapsed()
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    let published = wait_for_published_keys(&[&a, &b], 2).await;
    assert!(!published[0].contains(&old_kid) && !published[1].contains(&old_kid));
    // Tokens of the other keys are untouched.
    basic_flow(&cognito[0], &sts[1], &pool_id, "after", &role_arn)
        .await
        .unwrap();
}

/// Run `tegata identities ARGS` against the deployment at `database_url`.
fn tegata_identities(database_url: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_tegata"))
        .arg("identities")
        .args(args)
        .args(["--database-url", database_url])
        .output()
        .expect("tegata identities runs")
}

/// `tegata identities revoke`: the identity's credentials are refused by both nodes within a
/// second, its earlier tokens too, other identities' are untouched, and it can be given new ones.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_revoked_identity_is_refused_by_every_node_within_a_second() {
    let cluster = PgCluster::start();
    let dir = TempDir::new("identity-revoke");
    let (a, b, url) = start_two_nodes(&cluster, &dir);
    let pool_id = create_pool(&a, "revoking").await;
    let role_arn = create_pool_role(&a, &pool_id, "revoking_role").await;
    let (akid, secret) = a.credentials();
    let admin_sts = sts_client(&a.url, &akid, &secret, None, Duration::ZERO);

    // Credentials of two identities, each made on node A.
    let mut sessions = Vec::new();
    for user in ["mallory", "alice"] {
        let out = a
            .cognito()
            .get_open_id_token_for_developer_identity()
            .identity_pool_id(&pool_id)
            .logins(PROVIDER, user)
            .send()
            .await
            .unwrap();
        let token = out.token.unwrap();
        let creds = admin_sts
            .assume_role_with_web_identity()
            .role_arn(&role_arn)
            .role_session_name(user)
            .web_identity_token(&token)
            .send()
            .await
            .unwrap()
            .credentials
            .unwrap();
        sessions.push((out.identity_id.unwrap(), token, creds));
    }
    let caller = |node: &Server, creds: &aws_sdk_sts::types::Credentials| {
        sts_client(
            &node.url,
            creds.access_key_id(),
            creds.secret_access_key(),
            Some(creds.session_token()),
            Duration::ZERO,
        )
    };
    for node in [&a, &b] {
        for (_, _, creds) in &sessions {
            caller(node, creds)
                .get_caller_identity()
                .send()
                .await
                .unwrap();
        }
    }

    // An unknown identity is refused by name; then mallory's sessions are revoked.
    let unknown = tegata_identities(
        &url,
        &["revoke", "us-east-1:00000000-0000-4000-8000-000000000000"],
    );
    assert!(!unknown.status.success());
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("there is no identity us-east-1:"),
        "{unknown:?}"
    );
    let (mallory, mallory_token, mallory_creds) = &sessions[0];
    let revoked = tegata_identities(&url, &["revoke", mallory]);
    assert!(revoked.status.success(), "{revoked:?}");
    let since = std::time::Instant::now();
    for node in [&a, &b] {
        loop {
            match caller(node, mallory_creds)
                .get_caller_identity()
                .send()
                .await
            {
                Err(e) => {
                    let code = e.into_service_error().meta().code().map(str::to_owned);
                    assert_eq!(code.as_deref(), Some("InvalidClientTokenId"));
                    break;
                }
                Ok(_) => {
                    assert!(
                        since.elapsed() < Duration::from_secs(1),
                        "{} still accepts a revoked identity's credentials after {:?}",
                        node.url,
                        since.elapsed()
                    );
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
    }
    // Her earlier token cannot make new credentials either; alice is untouched.
    let refused = sts_client(&b.url, &akid, &secret, None, Duration::ZERO)
        .assume_role_with_web_identity()
        .role_arn(&role_arn)
        .role_session_name("again")
        .web_identity_token(mallory_token)
        .send()
        .await
        .unwrap_err()
        .into_service_error();
    assert_eq!(
        refused.meta().code(),
        Some("InvalidIdentityToken"),
        "{refused:?}"
    );
    for node in [&a, &b] {
        caller(node, &sessions[1].2)
            .get_caller_identity()
            .send()
            .await
            .expect("another identity's credentials");
    }

    // The identity stays and, after the second of its revocation, is given credentials again.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let token = b
        .cognito()
        .get_open_id_token_for_developer_identity()
        .identity_pool_id(&pool_id)
        .logins(PROVIDER, "mallory")
        .send()
        .await
        .unwrap();
    assert_eq!(token.identity_id.as_deref(), Some(mallory.as_str()));
    let fresh = admin_sts
        .assume_role_with_web_identity()
        .role_arn(&role_arn)
        .role_session_name("mallory")
        .web_identity_token(token.token.unwrap())
        .send()
        .await
        .unwrap()
        .credentials
        .unwrap();
    caller(&b, &fresh)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert_eq!(
        cluster.psql(
            PgCluster::database_name(&url),
            "SELECT count(*) FROM session_revocations"
        ),
        "1",
        "one row per revoked identity"
    );
}

/// A node of the deployment at `database_url` in `dir/name`, with `keys` (the master key flags).
fn start_node(dir: &TempDir, name: &str, database_url: &str, keys: &[&std::path::Path]) -> Server {
    let mut args = vec![
        "--database-url".to_owned(),
        database_url.to_owned(),
        "--public-url".to_owned(),
        PUBLIC_URL.to_owned(),
        "--master-key-file".to_owned(),
        keys[0].to_str().unwrap().to_owned(),
    ];
    if let Some(previous) = keys.get(1) {
        args.push("--previous-master-key-file".to_owned());
        args.push(previous.to_str().unwrap().to_owned());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Server::start_with(&dir.0.join(name), &args)
}

/// Master key rotation on two nodes, restarted one at a time (the other serving meanwhile):
/// both keys on every node, then the new one first, then the store re-sealed; credentials made
/// under the old key stay valid while the nodes keep it, and long-term keys work throughout.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_master_key_rotates_on_two_nodes_without_downtime() {
    use base64::Engine;

    let cluster = PgCluster::start();
    let dir = TempDir::new("master-rotation");
    let (a, b, url) = start_two_nodes(&cluster, &dir);
    let db = PgCluster::database_name(&url);
    let old = dir.0.join("master.key");
    let new = dir.0.join("new-master.key");
    let mut bytes = [0u8; 32];
    std::io::Read::read_exact(
        &mut std::fs::File::open("/dev/urandom").unwrap(),
        &mut bytes,
    )
    .unwrap();
    std::fs::write(
        &new,
        format!(
            "{}\n",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        ),
    )
    .unwrap();

    let pool_id = create_pool(&a, "rotating-master").await;
    let role_arn = create_pool_role(&a, &pool_id, "master_role").await;
    let created = query_call(
        &a,
        "iam",
        &[
            ("Action", "CreateUser"),
            ("Version", "2010-05-08"),
            ("UserName", "worker"),
        ],
    )
    .await;
    assert_eq!(created.status, 200, "{}", created.body);
    let key = query_call(
        &a,
        "iam",
        &[
            ("Action", "CreateAccessKey"),
            ("Version", "2010-05-08"),
            ("UserName", "worker"),
        ],
    )
    .await;
    let (worker_id, worker_secret) = (
        xml_text(&key.body, "AccessKeyId").to_owned(),
        xml_text(&key.body, "SecretAccessKey").to_owned(),
    );
    let (akid, secret) = a.credentials();
    let session = |node: &Server, user: &'static str| {
        let (cognito, sts) = (
            node.cognito(),
            sts_client(&node.url, &akid, &secret, None, Duration::ZERO),
        );
        let (pool_id, role_arn) = (pool_id.clone(), role_arn.clone());
        async move {
            let token = cognito
                .get_open_id_token_for_developer_identity()
                .identity_pool_id(pool_id)
                .logins(PROVIDER, user)
                .send()
                .await
                .unwrap()
                .token
                .unwrap();
            sts.assume_role_with_web_identity()
                .role_arn(role_arn)
                .role_session_name(user)
                .web_identity_token(token)
                .send()
                .await
                .unwrap()
                .credentials
                .unwrap()
        }
    };
    let accepts = |node: &Server, creds: &aws_sdk_sts::types::Credentials| {
        let client = sts_client(
            &node.url,
            creds.access_key_id(),
            creds.secret_access_key(),
            Some(creds.session_token()),
            Duration::ZERO,
        );
        async move { client.get_caller_identity().send().await.is_ok() }
    };
    let worker_works = |node: &Server| {
        let client = sts_client(&node.url, &worker_id, &worker_secret, None, Duration::ZERO);
        async move { client.get_caller_identity().send().await.is_ok() }
    };
    let before = session(&a, "early").await;

    // Roll 0: each node also opens with the new key (one restarted while the other serves).
    // Roll 1: each node seals and mints under the new key, and opens with the old one.
    let (mut a, mut b) = (a, b);
    for keys in [
        [old.as_path(), new.as_path()],
        [new.as_path(), old.as_path()],
    ] {
        assert!(a.stop());
        assert!(
            accepts(&b, &before).await && worker_works(&b).await,
            "B serves while A restarts"
        );
        a = start_node(&dir, "a", &url, &keys);
        assert!(b.stop());
        assert!(
            accepts(&a, &before).await && worker_works(&a).await,
            "A serves while B restarts"
        );
        b = start_node(&dir, "b", &url, &keys);
    }
    let after = session(&a, "late").await;
    assert!(
        accepts(&b, &after).await,
        "B accepts credentials A made under the new key"
    );

    // Then the store: every secret re-sealed under the new key, in one transaction.
    let rotated = std::process::Command::new(env!("CARGO_BIN_EXE_tegata"))
        .args(["master-key", "rotate", "--database-url", &url])
        .arg("--master-key-file")
        .arg(&old)
        .arg("--new-key-file")
        .arg(&new)
        .output()
        .unwrap();
    assert!(rotated.status.success(), "{rotated:?}");
    let stdout = String::from_utf8_lossy(&rotated.stdout);
    assert!(stdout.contains("re-sealed"), "{stdout}");
    assert_eq!(
        cluster.psql(
            db,
            "SELECT count(DISTINCT master_key_id) FROM (SELECT master_key_id FROM access_keys \
             UNION ALL SELECT master_key_id FROM signing_keys) sealed"
        ),
        "1"
    );
    for node in [&a, &b] {
        assert!(
            accepts(node, &before).await,
            "old credentials stay valid until they expire"
        );
        assert!(accepts(node, &after).await && worker_works(node).await);
    }

    // Once the old key's credentials have expired the nodes drop it: the store needs only the
    // new key (long-term keys, signing keys), and what the old key made is refused.
    assert!(b.stop());
    let b = start_node(&dir, "b", &url, &[new.as_path()]);
    assert!(worker_works(&b).await && accepts(&b, &after).await);
    session(&b, "signing").await;
    assert!(
        !accepts(&b, &before).await,
        "without the old key its credentials are refused"
    );
    drop(a);
}
