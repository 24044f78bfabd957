//! A throw-away PostgreSQL cluster for tests: `initdb` into a temporary directory, `postgres` on
//! a free loopback port, removed when dropped. Uses the server binaries under
//! `/usr/lib/postgresql/<version>/bin` (or `TEGATA_PG_BIN`). PostgreSQL refuses to run as root,
//! so when the tests run as root the cluster runs as the `postgres` user.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub struct PgCluster {
    dir: PathBuf,
    bin: PathBuf,
    server: Child,
    pub port: u16,
    as_postgres_user: bool,
    /// Whether commits wait for the disk (PostgreSQL's defaults) rather than the tests'
    /// unsynced settings.
    durable: bool,
    databases: AtomicU32,
}

/// The newest PostgreSQL server installation on this machine.
pub fn postgres_bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("TEGATA_PG_BIN") {
        return PathBuf::from(dir);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL server binaries under /usr/lib/postgresql (or set TEGATA_PG_BIN)")
        .filter_map(|e| {
            let path = e.ok()?.path();
            let version = path.file_name()?.to_str()?.parse().ok()?;
            path.join("bin/postgres")
                .exists()
                .then(|| (version, path.join("bin")))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, bin)| bin)
        .expect("a PostgreSQL server under /usr/lib/postgresql/<version>/bin")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

impl PgCluster {
    /// A cluster for tests: nothing is synced to disk (fast, and nothing there is kept).
    pub fn start() -> Self {
        Self::start_cluster(false)
    }

    /// A cluster with PostgreSQL's default durability (`fsync`, `synchronous_commit` and
    /// `full_page_writes` on), for benchmarks that compare stores as they would be deployed.
    pub fn start_durable() -> Self {
        Self::start_cluster(true)
    }

    fn start_cluster(durable: bool) -> Self {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let bin = postgres_bin_dir();
        let as_postgres_user = is_root();
        let dir = std::env::temp_dir().join(format!(
            "tegata-pg-{}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        if as_postgres_user {
            let status = Command::new("chown")
                .args(["postgres:postgres"])
                .arg(&dir)
                .status()
                .unwrap();
            assert!(status.success(), "chown of the cluster directory");
        }
        let data = dir.join("data");
        let mut initdb = Self::command(as_postgres_user, &bin.join("initdb"));
        initdb
            .arg("-D")
            .arg(&data)
            .args(["-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let out = initdb.output().expect("initdb runs");
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = free_port();
        let server = Self::spawn_postgres(as_postgres_user, &bin, &dir, port, durable);
        let cluster = Self {
            dir,
            bin,
            server,
            port,
            as_postgres_user,
            durable,
            databases: AtomicU32::new(0),
        };
        cluster.wait_ready();
        cluster
    }

    fn spawn_postgres(
        as_postgres_user: bool,
        bin: &Path,
        dir: &Path,
        port: u16,
        durable: bool,
    ) -> Child {
        let mut postgres = Self::command(as_postgres_user, &bin.join("postgres"));
        postgres
            .arg("-D")
            .arg(dir.join("data"))
            .args(["-p", &port.to_string(), "-k"])
            .arg(dir)
            .args([
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "max_connections=200",
            ]);
        if !durable {
            postgres.args([
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
            ]);
        }
        postgres.stdout(Stdio::null()).stderr(Stdio::null());
        postgres.spawn().expect("postgres starts")
    }

    /// Stop the server (its data stays), as an outage would.
    pub fn stop(&mut self) {
        let _ = Self::command(self.as_postgres_user, &self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["stop", "-m", "fast", "-w"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = self.server.wait();
    }

    /// Start the server again on the same port and data after [`Self::stop`].
    pub fn restart(&mut self) {
        self.server = Self::spawn_postgres(
            self.as_postgres_user,
            &self.bin,
            &self.dir,
            self.port,
            self.durable,
        );
        self.wait_ready();
    }

    fn command(as_postgres_user: bool, program: &Path) -> Command {
        if as_postgres_user {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        }
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            let ready = Command::new(self.bin.join("pg_isready"))
                .args([
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &self.port.to_string(),
                    "-U",
                    "postgres",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if ready {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("postgres did not become ready on port {}", self.port);
    }

    /// Run SQL with psql against `database`; returns its unaligned, tuples-only output.
    pub fn psql(&self, database: &str, sql: &str) -> String {
        let out = Command::new(self.bin.join("psql"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-U",
                "postgres",
            ])
            .args(["-d", database, "-At", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .output()
            .expect("psql runs");
        assert!(
            out.status.success(),
            "psql failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// A new empty database; returns its URL.
    pub fn create_database(&self) -> String {
        let name = format!("tegata_{}", self.databases.fetch_add(1, Ordering::Relaxed));
        self.psql("postgres", &format!("CREATE DATABASE {name}"));
        self.url(&name)
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    pub fn database_name(url: &str) -> &str {
        url.rsplit('/').next().unwrap_or(url)
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        // The child may be `runuser`, which does not pass signals on: stop the postmaster
        // through pg_ctl, immediately (there is nothing to keep).
        let _ = Self::command(self.as_postgres_user, &self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["stop", "-m", "immediate", "-w"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.server.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.server.kill();
        let _ = self.server.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
