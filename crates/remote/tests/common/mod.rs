//! Test support: an in-process remote-write sink with scripted failures, a TSDB filler,
//! real peer processes, and bounded polling.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::print_stderr
)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::Arc;
use std::time::{Duration, Instant};

use argus_model::{Appendable, Labels};
use argus_scrape::remote_write::proto::WriteRequest;
use argus_tsdb::{Db, FsyncPolicy, Options};
use axum::http::{HeaderMap, StatusCode};
use parking_lot::Mutex;
use prost::Message;

/// What the sink answers.
#[derive(Debug, Clone)]
pub enum Mode {
    Accept,
    /// Answer with this status (and optional Retry-After) without storing.
    Fail(u16, Option<String>),
    /// Answer this status for the next `n` requests, then accept.
    FailFirst(u16, usize),
}

#[derive(Default)]
pub struct SinkState {
    /// series (as text) → (t, v bits) in arrival order.
    pub series: BTreeMap<String, Vec<(i64, u64)>>,
    pub requests: usize,
    pub samples: usize,
    pub last_headers: Option<HeaderMap>,
    /// (family, type) of metadata received.
    pub metadata: Vec<(String, i32)>,
}

#[derive(Clone)]
pub struct Sink {
    pub addr: SocketAddr,
    pub state: Arc<Mutex<SinkState>>,
    pub mode: Arc<Mutex<Mode>>,
}

impl Sink {
    pub fn url(&self) -> String {
        format!("http://{}/api/v1/write", self.addr)
    }

    pub fn samples(&self) -> usize {
        self.state.lock().samples
    }

    /// Distinct (series, timestamp) pairs received.
    pub fn distinct(&self) -> usize {
        let st = self.state.lock();
        st.series
            .values()
            .map(|v| {
                let mut ts: Vec<i64> = v.iter().map(|s| s.0).collect();
                ts.sort();
                ts.dedup();
                ts.len()
            })
            .sum()
    }

    pub fn set_mode(&self, m: Mode) {
        *self.mode.lock() = m;
    }
}

pub async fn sink() -> Sink {
    let state = Arc::new(Mutex::new(SinkState::default()));
    let mode = Arc::new(Mutex::new(Mode::Accept));
    let (st, md) = (state.clone(), mode.clone());
    let app = axum::Router::new().route(
        "/api/v1/write",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let (st, md) = (st.clone(), md.clone());
            async move {
                let answer = {
                    let mut m = md.lock();
                    match &mut *m {
                        Mode::Accept => None,
                        Mode::Fail(code, ra) => Some((*code, ra.clone())),
                        Mode::FailFirst(code, n) => {
                            if *n == 0 {
                                None
                            } else {
                                *n -= 1;
                                Some((*code, None))
                            }
                        }
                    }
                };
                if let Some((code, ra)) = answer {
                    let mut h = HeaderMap::new();
                    if let Some(ra) = ra {
                        h.insert("Retry-After", ra.parse().unwrap());
                    }
                    return (StatusCode::from_u16(code).unwrap(), h, "scripted failure");
                }
                let raw = snap::raw::Decoder::new().decompress_vec(&body).unwrap();
                let req = WriteRequest::decode(raw.as_slice()).unwrap();
                let mut s = st.lock();
                s.requests += 1;
                s.last_headers = Some(headers);
                for m in &req.metadata {
                    s.metadata.push((m.metric_family_name.clone(), m.r#type));
                }
                for ts in req.timeseries {
                    let key = ts
                        .labels
                        .iter()
                        .map(|l| format!("{}={:?}", l.name, l.value))
                        .collect::<Vec<_>>()
                        .join(",");
                    s.samples += ts.samples.len();
                    let e = s.series.entry(key).or_default();
                    e.extend(ts.samples.iter().map(|x| (x.timestamp, x.value.to_bits())));
                }
                (StatusCode::NO_CONTENT, HeaderMap::new(), "")
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    Sink { addr, state, mode }
}

pub fn db_opts() -> Options {
    Options {
        fsync: FsyncPolicy::Segment,
        wal_segment_bytes: 64 << 10,
        auto_compaction: false,
        ..Options::default()
    }
}

pub fn open_db(dir: &Path) -> Db {
    Db::open(dir, db_opts(), &prometheus::Registry::new()).unwrap()
}

pub fn series_labels(metric: &str, i: usize) -> Labels {
    Labels::from_pairs(&[
        ("__name__", metric.to_string()),
        ("instance", format!("host-{i}")),
        ("job", "rw".to_string()),
    ])
}

/// Appends `samples` samples (one commit per timestamp) to `series` series, `step_ms`
/// apart from `start_ms`. Values are `t/1000 + i`.
pub fn fill(db: &Db, metric: &str, series: usize, samples: usize, start_ms: i64, step_ms: i64) {
    let labels: Vec<Labels> = (0..series).map(|i| series_labels(metric, i)).collect();
    for k in 0..samples {
        let t = start_ms + k as i64 * step_ms;
        let mut app = db.appender();
        for (i, l) in labels.iter().enumerate() {
            app.append(None, l, t, (t / 1000 + i as i64) as f64)
                .unwrap();
        }
        app.commit().unwrap();
    }
}

/// Polls `f` every 50 ms for at most `timeout`.
pub async fn wait_for<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let end = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() > end {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub fn metric(reg: &prometheus::Registry, name: &str) -> f64 {
    reg.gather()
        .iter()
        .filter(|f| f.name() == name)
        .flat_map(|f| f.get_metric().iter())
        .map(|m| m.get_counter().get_value() + m.get_gauge().get_value())
        .sum()
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The installed peer binary, or `None` (with the reason printed) when it is missing and
/// `ARGUS_SKIP_PEER_TESTS=1`; a missing peer is a failure otherwise.
pub fn peer(name: &str) -> Option<PathBuf> {
    for dir in ["/usr/bin", "/usr/sbin", "/usr/local/bin", "/bin"] {
        let p = Path::new(dir).join(name);
        if p.exists() {
            return Some(p);
        }
    }
    if std::env::var("ARGUS_SKIP_PEER_TESTS").as_deref() == Ok("1") {
        eprintln!("skipping: {name} not installed and ARGUS_SKIP_PEER_TESTS=1");
        return None;
    }
    panic!(
        "{name} is not installed (apt-get install {name}, or set ARGUS_SKIP_PEER_TESTS=1 to skip)"
    );
}

/// A child process killed (and reaped) on drop.
pub struct Kill(pub Option<Child>);

impl Kill {
    /// Stops the process gracefully (SIGTERM), waiting at most 30 s.
    pub fn terminate(&mut self) {
        if let Some(mut c) = self.0.take() {
            unsafe {
                libc::kill(c.id() as i32, libc::SIGTERM);
            }
            let end = Instant::now() + Duration::from_secs(30);
            while Instant::now() < end {
                if c.try_wait().unwrap().is_some() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Kill {
    fn drop(&mut self) {
        if let Some(c) = self.0.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Waits until `url` answers 200 (at most `timeout`).
pub async fn wait_http_ok(url: &str, timeout: Duration) -> bool {
    let c = reqwest::Client::new();
    wait_for_async(timeout, || async {
        matches!(c.get(url).send().await, Ok(r) if r.status().is_success())
    })
    .await
}

pub async fn wait_for_async<F, Fut>(timeout: Duration, mut f: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let end = Instant::now() + timeout;
    loop {
        if f().await {
            return true;
        }
        if Instant::now() > end {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A PromQL instant query against a Prometheus-compatible API: (labels, value) pairs.
/// Evaluated a minute ahead, so the newest samples are inside every window (receivers
/// hide the last moments of data from queries at "now").
pub async fn query(base: &str, q: &str) -> Vec<(BTreeMap<String, String>, f64)> {
    let at = format!("{:.3}", (argus_model::now_ms() + 60_000) as f64 / 1000.0);
    let r: serde_json::Value = reqwest::Client::new()
        .get(format!("{base}/api/v1/query"))
        .query(&[("query", q), ("time", &at)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["status"], "success", "{r}");
    r["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            let m = x["metric"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect();
            (m, x["value"][1].as_str().unwrap().parse().unwrap())
        })
        .collect()
}

/// Sum of the results of `q` (0 when empty).
pub async fn query_sum(base: &str, q: &str) -> f64 {
    query(base, q).await.iter().map(|(_, v)| v).sum()
}

pub fn init_tracing() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "argus_remote=info".into()),
        )
        .with_test_writer()
        .try_init();
}
