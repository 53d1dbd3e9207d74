//! Shared helpers of the integration tests: peer binaries, a recording webhook receiver,
//! and serving the API on a real TCP port.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;

use argus_alertmanager::{AlertManager, Config, ManualClock, Options};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use parking_lot::Mutex;

/// Finds a peer binary. Missing: the test fails with a clear message, unless
/// `ARGUS_SKIP_PEER_TESTS=1`, when it returns `None` and the caller skips.
pub fn peer(bin: &str, package: &str) -> Option<PathBuf> {
    for dir in std::env::var("PATH").unwrap_or_default().split(':') {
        let p = PathBuf::from(dir).join(bin);
        if p.is_file() {
            return Some(p);
        }
    }
    if std::env::var("ARGUS_SKIP_PEER_TESTS").as_deref() == Ok("1") {
        eprintln!("SKIPPED: {bin} not installed (ARGUS_SKIP_PEER_TESTS=1)");
        return None;
    }
    panic!("peer binary {bin:?} not found in PATH: install it (apt-get install {package}) or set ARGUS_SKIP_PEER_TESTS=1");
}

/// One request received by the sink.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: serde_json::Value,
    pub status: u16,
}

/// A webhook receiver that records every request and answers with `status`.
#[derive(Clone)]
pub struct Sink {
    pub addr: SocketAddr,
    pub received: Arc<Mutex<Vec<Received>>>,
    pub status: Arc<AtomicU16>,
}

impl Sink {
    pub async fn start() -> Sink {
        let received = Arc::new(Mutex::new(Vec::new()));
        let status = Arc::new(AtomicU16::new(200));
        let st = (received.clone(), status.clone());
        let app = Router::new()
            .route("/hook", post(record))
            .route("/hook/{any}", post(record))
            .with_state(st);
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
        Sink {
            addr,
            received,
            status,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    pub fn set_status(&self, s: u16) {
        self.status.store(s, Ordering::SeqCst);
    }

    /// Bodies of requests answered with 2xx.
    pub fn delivered(&self) -> Vec<Received> {
        self.received
            .lock()
            .iter()
            .filter(|r| r.status < 300)
            .cloned()
            .collect()
    }

    pub fn all(&self) -> Vec<Received> {
        self.received.lock().clone()
    }
}

type SinkState = (Arc<Mutex<Vec<Received>>>, Arc<AtomicU16>);

async fn record(
    State((rec, status)): State<SinkState>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let s = status.load(Ordering::SeqCst);
    let body = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    rec.lock().push(Received {
        headers,
        body,
        status: s,
    });
    StatusCode::from_u16(s).unwrap()
}

/// Serves the API at `/api/v2` on a random local port.
pub async fn serve_api(am: Arc<AlertManager>) -> SocketAddr {
    let app = Router::new().nest("/api/v2", argus_alertmanager::router(am));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    addr
}

/// 2024-01-01T00:00:00Z.
pub fn t0() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(1_704_067_200, 0).unwrap()
}

/// Fast retries for tests.
pub fn test_options() -> Options {
    Options {
        retry_initial: std::time::Duration::from_millis(100),
        retry_max: std::time::Duration::from_millis(400),
        poll_interval: std::time::Duration::from_millis(50),
        ..Options::default()
    }
}

/// A manager with a manual clock at `t0()`.
pub fn manager(yaml: &str, dir: &std::path::Path) -> (Arc<AlertManager>, ManualClock) {
    let clock = ManualClock::new(t0());
    let cfg = Config::parse(yaml).unwrap();
    let am = AlertManager::with_options(
        cfg,
        dir,
        "http://argus.example:9090",
        &prometheus::Registry::new(),
        Arc::new(clock.clone()),
        test_options(),
    )
    .unwrap();
    (am, clock)
}
