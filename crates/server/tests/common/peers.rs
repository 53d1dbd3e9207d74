//! The two servers under comparison: the real `argus` binary and Debian's Prometheus, each
//! on a free loopback port with its own data directory, killed on drop.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Debian's Prometheus (package `prometheus`, installed by scripts/test.sh).
pub const PROMETHEUS: &str = "/usr/bin/prometheus";

/// `ARGUS_SKIP_PEER_TESTS=1` lets a machine without the peer binaries skip these tests;
/// without it a missing peer is a failure, so CI cannot pass by silently not comparing.
pub fn skip_peers() -> bool {
    std::env::var("ARGUS_SKIP_PEER_TESTS").is_ok_and(|v| v == "1")
}

/// Whether Prometheus is there; panics when it is missing and skipping was not asked for.
pub fn prometheus_available() -> bool {
    if Path::new(PROMETHEUS).exists() {
        return true;
    }
    assert!(
        skip_peers(),
        "{PROMETHEUS} not found: install the Debian `prometheus` package (scripts/test.sh does) \
         or set ARGUS_SKIP_PEER_TESTS=1"
    );
    false
}

/// A running server: its base URL, its log file, and the child killed on drop.
pub struct Server {
    pub name: &'static str,
    pub base: String,
    log: PathBuf,
    child: Child,
    // Held so the data directory outlives the process.
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// The server's log so far, for failure messages.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// No scrape jobs: all data arrives by remote write. The evaluation interval is the default
/// step of subqueries written without one (`x[10m:]`), so both servers must agree on it.
const CONFIG: &str = "global:\n  scrape_interval: 15s\n  evaluation_interval: 1m\n";

fn spawn(name: &'static str, bin: &str, extra: &[&str], dir: tempfile::TempDir) -> Server {
    let config = dir.path().join("config.yml");
    std::fs::write(&config, CONFIG).unwrap();
    let port = free_port();
    let log = dir.path().join("server.log");
    let out = std::fs::File::create(&log).unwrap();
    let child = Command::new(bin)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .args(extra)
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap();
    Server {
        name,
        base: format!("http://127.0.0.1:{port}"),
        log,
        child,
        _dir: dir,
    }
}

/// A fresh directory for a server; its TSDB goes to `data/` inside.
pub fn server_dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// Starts Argus with its remote-write receiver (on by default) and no adapter listener, on
/// the TSDB in `dir/data` (empty, or prepared by the caller).
pub fn start_argus(name: &'static str, dir: tempfile::TempDir) -> Server {
    spawn(
        name,
        env!("CARGO_BIN_EXE_argus"),
        &["--adapter.listen-address="],
        dir,
    )
}

/// Starts Prometheus with the remote-write receiver turned on.
pub fn start_prometheus() -> Server {
    spawn(
        "prometheus",
        PROMETHEUS,
        &["--web.enable-remote-write-receiver"],
        server_dir(),
    )
}

/// Waits, at most a minute, until `/-/ready` answers 200.
pub async fn wait_ready(client: &reqwest::Client, s: &mut Server) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = client.get(format!("{}/-/ready", s.base)).send().await {
            if r.status() == 200 {
                return;
            }
        }
        if let Ok(Some(status)) = s.child.try_wait() {
            panic!("{} exited with {status}:\n{}", s.name, s.log());
        }
        assert!(
            Instant::now() < deadline,
            "{} did not become ready within 60 s:\n{}",
            s.name,
            s.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
