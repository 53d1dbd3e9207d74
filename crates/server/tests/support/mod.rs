//! Support for tests of the `argus` binary: starting it (and real peers) on free ports,
//! waiting for conditions with a bound, small HTTP helpers and a webhook sink.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::print_stderr
)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use serde_json::Value;

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Whether tests may skip when a real peer is missing (`ARGUS_SKIP_PEER_TESTS=1`).
pub fn skip_peers() -> bool {
    std::env::var("ARGUS_SKIP_PEER_TESTS").is_ok_and(|v| v == "1")
}

/// The path of a peer binary, or `None` (test skipped) when it is missing and skipping
/// is allowed; otherwise a missing peer fails the test.
pub fn peer(candidates: &[&str]) -> Option<PathBuf> {
    for c in candidates {
        let p = Path::new(c);
        if p.is_absolute() && p.exists() {
            return Some(p.to_owned());
        }
        if let Ok(out) = Command::new("sh")
            .arg("-c")
            .arg(format!("command -v {c}"))
            .output()
        {
            if out.status.success() {
                let s = String::from_utf8_lossy(&out.stdout).trim().to_owned();
                if !s.is_empty() {
                    return Some(PathBuf::from(s));
                }
            }
        }
    }
    assert!(
        skip_peers(),
        "none of {candidates:?} found: scripts/test.sh installs the test peers \
         (or set ARGUS_SKIP_PEER_TESTS=1)"
    );
    eprintln!("skipping: none of {candidates:?} found");
    None
}

/// Polls `cond` every 100 ms for at most `secs` seconds.
pub async fn wait_for<F, Fut>(what: &str, secs: u64, mut cond: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !cond().await {
        assert!(
            start.elapsed() < Duration::from_secs(secs),
            "timed out after {secs}s waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A child process killed (SIGKILL) when dropped.
pub struct Proc {
    pub child: Child,
    pub log: PathBuf,
}

impl Proc {
    /// Sends SIGTERM and waits (at most 20 s) for the exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let pid = i32::try_from(self.child.id()).unwrap();
        // SAFETY: plain kill(2) on our own child.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
        let start = Instant::now();
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "no exit after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL, and reap.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn signal(&self, sig: i32) {
        let pid = i32::try_from(self.child.id()).unwrap();
        // SAFETY: plain kill(2) on our own child.
        unsafe {
            libc::kill(pid, sig);
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts a program with stdout+stderr to `log`.
pub fn spawn(program: &Path, args: &[String], log: &Path) -> Proc {
    let f = std::fs::File::create(log).unwrap();
    let child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(f.try_clone().unwrap())
        .stderr(f)
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", program.display()));
    Proc {
        child,
        log: log.to_owned(),
    }
}

/// A running `argus` server.
pub struct Argus {
    pub proc: Proc,
    pub url: String,
    pub port: u16,
}

pub fn argus_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_argus"))
}

impl Argus {
    /// Starts `argus` with a data dir, a listen port and `extra` flags; waits until ready.
    pub async fn start(data: &Path, port: u16, extra: &[String]) -> Argus {
        let mut args = vec![
            format!("--storage.tsdb.path={}", data.display()),
            format!("--web.listen-address=127.0.0.1:{port}"),
            "--adapter.listen-address=".to_owned(),
        ];
        args.extend_from_slice(extra);
        let log = data.with_extension(format!("{port}.log"));
        let proc = spawn(&argus_bin(), &args, &log);
        let a = Argus {
            proc,
            url: format!("http://127.0.0.1:{port}"),
            port,
        };
        let url = format!("{}/-/ready", a.url);
        let start = Instant::now();
        loop {
            if let Ok(r) = reqwest::get(&url).await {
                if r.status().is_success() {
                    break;
                }
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "argus not ready after 60s:\n{}",
                a.proc.log_text()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        a
    }

    pub async fn get(&self, path: &str) -> Value {
        let r = reqwest::get(format!("{}{path}", self.url)).await.unwrap();
        r.json().await.unwrap()
    }

    /// `/api/v1/query` at now; the result array.
    pub async fn query(&self, expr: &str) -> Vec<Value> {
        let r = reqwest::Client::new()
            .post(format!("{}/api/v1/query", self.url))
            .form(&[("query", expr)])
            .send()
            .await
            .unwrap();
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["status"], "success", "{expr}: {v}");
        v["data"]["result"].as_array().cloned().unwrap_or_default()
    }

    /// The value of a self-metric on `/metrics` (first line starting with `name`).
    pub async fn self_metric(&self, name: &str) -> Option<f64> {
        let t = reqwest::get(format!("{}/metrics", self.url))
            .await
            .ok()?
            .text()
            .await
            .ok()?;
        t.lines()
            .find(|l| l.starts_with(name) && l[name.len()..].starts_with([' ', '{']))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
    }
}

/// A received webhook notification.
#[derive(Debug, Clone)]
pub struct Hook {
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

/// An HTTP server recording webhook POSTs.
pub struct Sink {
    pub url: String,
    pub got: Arc<Mutex<Vec<Hook>>>,
}

impl Sink {
    pub async fn start() -> Sink {
        use axum::routing::post;
        let got: Arc<Mutex<Vec<Hook>>> = Arc::default();
        let g = got.clone();
        let app = axum::Router::new().route(
            "/hook",
            post(
                move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                    let g = g.clone();
                    async move {
                        let headers = headers
                            .iter()
                            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned()))
                            .collect();
                        let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
                        g.lock().push(Hook { headers, body });
                        axum::http::StatusCode::OK
                    }
                },
            ),
        );
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(l, app).await;
        });
        Sink {
            url: format!("http://{addr}/hook"),
            got,
        }
    }

    pub fn all(&self) -> Vec<Hook> {
        self.got.lock().clone()
    }
}

/// An exposition endpoint serving `/metrics` with a body the test changes.
pub struct Exporter {
    pub addr: String,
    pub body: Arc<Mutex<String>>,
}

impl Exporter {
    pub async fn start(initial: &str) -> Exporter {
        use axum::routing::get;
        let body = Arc::new(Mutex::new(initial.to_owned()));
        let b = body.clone();
        let app = axum::Router::new().route(
            "/metrics",
            get(move || {
                let b = b.clone();
                async move { b.lock().clone() }
            }),
        );
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(l, app).await;
        });
        Exporter {
            addr: addr.to_string(),
            body,
        }
    }

    pub fn set(&self, text: &str) {
        *self.body.lock() = text.to_owned();
    }
}

/// A real SMTP server (Python aiosmtpd, the alert manager crate's test script) writing
/// each message as JSON into a directory.
pub struct Smtp {
    pub port: u16,
    child: Child,
    dir: tempfile::TempDir,
}

impl Smtp {
    /// Starts it, or `None` when aiosmtpd is missing and peer tests may be skipped.
    pub fn start() -> Option<Smtp> {
        use std::io::BufRead as _;
        let ok = Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            assert!(
                skip_peers(),
                "python3 with aiosmtpd is required (scripts/test.sh installs it)"
            );
            eprintln!("skipping: aiosmtpd not available");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../alertmanager/testdata/smtp_server.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(dir.path())
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "READY", "smtp server did not start");
        Some(Smtp { port, child, dir })
    }

    /// Messages received so far, in order.
    pub fn messages(&self) -> Vec<Value> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        files.sort();
        files
            .iter()
            .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
            .collect()
    }
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
