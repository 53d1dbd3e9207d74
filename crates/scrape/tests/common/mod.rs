//! Test support: a tiny HTTP/1.1 server (plain or TLS) with a scripted handler, storage
//! dumps and polling helpers.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::print_stderr
)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use argus_model::memstore::MemStorage;
use argus_model::storage::collect_series;
use argus_model::{is_stale_nan, MatchOp, Matcher, Queryable};
use parking_lot::Mutex;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

#[derive(Debug, Clone, Default)]
pub struct Request {
    pub path: String,
    pub headers: Vec<(String, String)>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub delay: Duration,
}

impl Response {
    pub fn text(body: &str) -> Self {
        Response {
            status: 200,
            headers: vec![(
                "Content-Type".into(),
                "text/plain; version=0.0.4; charset=utf-8".into(),
            )],
            body: body.as_bytes().to_vec(),
            delay: Duration::ZERO,
        }
    }
}

pub type Handler = Arc<dyn Fn(&Request) -> Response + Send + Sync>;

pub struct Server {
    pub addr: SocketAddr,
    pub requests: Arc<Mutex<Vec<Request>>>,
}

async fn handle<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    h: Handler,
    log: Arc<Mutex<Vec<Request>>>,
) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut chunk).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let text = String::from_utf8_lossy(&buf).into_owned();
    let mut lines = text.split("\r\n");
    let first = lines.next().unwrap_or("");
    let path = first.split(' ').nth(1).unwrap_or("/").to_owned();
    let headers = lines
        .take_while(|l| !l.is_empty())
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let req = Request { path, headers };
    log.lock().push(req.clone());
    let resp = h(&req);
    if !resp.delay.is_zero() {
        tokio::time::sleep(resp.delay).await;
    }
    let mut out = format!(
        "HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\n",
        resp.status,
        resp.body.len()
    );
    for (k, v) in &resp.headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let _ = s.write_all(out.as_bytes()).await;
    let _ = s.write_all(&resp.body).await;
    let _ = s.shutdown().await;
}

pub async fn serve(h: Handler) -> Server {
    serve_maybe_tls(h, None).await
}

pub async fn serve_maybe_tls(
    h: Handler,
    tls: Option<Arc<tokio_rustls::rustls::ServerConfig>>,
) -> Server {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let log = requests.clone();
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    tokio::spawn(async move {
        loop {
            let Ok((sock, _)) = l.accept().await else {
                return;
            };
            let (h, log, acceptor) = (h.clone(), log.clone(), acceptor.clone());
            tokio::spawn(async move {
                match acceptor {
                    Some(a) => {
                        if let Ok(s) = a.accept(sock).await {
                            handle(s, h, log).await;
                        }
                    }
                    None => handle(sock, h, log).await,
                }
            });
        }
    });
    Server { addr, requests }
}

pub type Dump = BTreeMap<String, Vec<(i64, f64)>>;

pub fn dump(s: &MemStorage) -> Dump {
    let q = s.querier(i64::MIN, i64::MAX).unwrap();
    let m = Matcher::new(MatchOp::Regex, "__name__", ".+").unwrap();
    let mut set = q.select(true, None, &[m]);
    collect_series(&mut *set)
        .unwrap()
        .into_iter()
        .map(|(l, ss)| {
            (
                l.to_metric_string(),
                ss.iter().map(|x| (x.t, x.v)).collect(),
            )
        })
        .collect()
}

pub fn stale_count(samples: &[(i64, f64)]) -> usize {
    samples.iter().filter(|(_, v)| is_stale_nan(*v)).count()
}

/// Polls `f` until it returns `Some` or `timeout` passes.
pub async fn wait_for<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if start.elapsed() > timeout {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A peer binary for tests: its path, or `None` when missing and
/// `ARGUS_SKIP_PEER_TESTS=1` (otherwise missing peers fail the test).
pub fn peer(name: &str) -> Option<std::path::PathBuf> {
    for dir in ["/usr/bin", "/usr/sbin", "/usr/local/bin", "/bin"] {
        let p = std::path::Path::new(dir).join(name);
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
