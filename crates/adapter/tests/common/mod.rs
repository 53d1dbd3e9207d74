//! Shared harness: a TLS adapter on a free port over an in-memory TSDB with cAdvisor-like
//! fixtures, and a pinned clock.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::print_stderr,
    clippy::indexing_slicing
)]

use std::sync::Arc;

use argus_adapter::{
    router, serve_tls, server_config, AdapterConfig, AdapterOptions, AdapterState, AuthConfig,
    KubeClient, TlsOptions,
};
use argus_model::memstore::MemStorage;
use argus_model::Labels;
use argus_query::Engine;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// "Now" for every test: 2023-11-14T22:13:20Z.
pub const NOW: i64 = 1_700_000_000_000;
/// Scrape interval of the fixtures.
pub const STEP: i64 = 15_000;

/// A counter growing `per_sec` per second, scraped every 15 s over the last 10 minutes.
pub fn counter(s: &MemStorage, pairs: &[(&str, &str)], per_sec: f64) {
    let l = Labels::from_pairs(pairs);
    let samples: Vec<(i64, f64)> = (0..=40)
        .map(|k| {
            let t = NOW - 600_000 + k * STEP;
            (t, per_sec * (k * STEP / 1000) as f64 + 1000.0)
        })
        .collect();
    s.add(&l, &samples).unwrap();
}

/// A gauge holding `v` over the last 10 minutes.
pub fn gauge(s: &MemStorage, pairs: &[(&str, &str)], v: f64) {
    let l = Labels::from_pairs(pairs);
    let samples: Vec<(i64, f64)> = (0..=40).map(|k| (NOW - 600_000 + k * STEP, v)).collect();
    s.add(&l, &samples).unwrap();
}

/// cAdvisor (kubelet /metrics/cadvisor with a `node` label), an application counter and a
/// queue gauge.
pub fn cluster_fixture() -> MemStorage {
    let s = MemStorage::new();
    let cpu = "container_cpu_usage_seconds_total";
    let mem = "container_memory_working_set_bytes";
    for (ns, pod, container, node, cores, bytes) in [
        ("default", "web-1", "app", "n1", 0.25, 128.0 * 1048576.0),
        ("default", "web-1", "sidecar", "n1", 0.01, 16.0 * 1048576.0),
        ("default", "web-2", "app", "n2", 0.5, 64.0 * 1048576.0),
        ("kube-system", "dns-1", "coredns", "n1", 0.002, 20_000_000.0),
    ] {
        let labels = [
            ("__name__", cpu),
            ("namespace", ns),
            ("pod", pod),
            ("container", container),
            ("node", node),
            ("id", "/kubepods/x"),
        ];
        counter(&s, &labels, cores);
        let mut m = labels;
        m[0] = ("__name__", mem);
        gauge(&s, &m, bytes);
    }
    // The pod-level cgroup (container="") must not count twice.
    counter(
        &s,
        &[
            ("__name__", cpu),
            ("namespace", "default"),
            ("pod", "web-1"),
            ("node", "n1"),
            ("id", "/kubepods/pod"),
        ],
        0.26,
    );
    // Node root cgroups.
    for (node, cores, bytes) in [
        ("n1", 1.5, 2.0 * 1073741824.0),
        ("n2", 0.75, 3_000_000_000.0),
    ] {
        counter(&s, &[("__name__", cpu), ("id", "/"), ("node", node)], cores);
        gauge(&s, &[("__name__", mem), ("id", "/"), ("node", node)], bytes);
    }
    // Application metrics.
    for (pod, rps) in [("web-1", 10.0), ("web-2", 1.5)] {
        counter(
            &s,
            &[
                ("__name__", "http_requests_total"),
                ("namespace", "default"),
                ("pod", pod),
                ("service", "web"),
                ("code", "200"),
            ],
            rps,
        );
    }
    counter(
        &s,
        &[
            ("__name__", "http_requests_total"),
            ("namespace", "default"),
            ("pod", "web-1"),
            ("service", "web"),
            ("code", "500"),
        ],
        0.5,
    );
    gauge(
        &s,
        &[
            ("__name__", "queue_depth"),
            ("namespace", "workers"),
            ("queue", "jobs"),
        ],
        42.0,
    );
    gauge(
        &s,
        &[
            ("__name__", "queue_depth"),
            ("namespace", "workers"),
            ("queue", "mail"),
        ],
        7.0,
    );
    gauge(&s, &[("__name__", "node_load1"), ("node", "n1")], 0.75);
    s
}

/// A running adapter.
pub struct Server {
    pub url: String,
    pub port: u16,
    pub client: reqwest::Client,
    pub state: AdapterState,
    _stop: oneshot::Sender<()>,
}

impl Server {
    pub async fn get(&self, path: &str) -> (u16, serde_json::Value) {
        let r = self
            .client
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap();
        let code = r.status().as_u16();
        let text = r.text().await.unwrap();
        let v = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
        (code, v)
    }

    pub async fn get_text(&self, path: &str) -> (u16, String) {
        let r = self
            .client
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }
}

pub struct Setup {
    pub config: Option<String>,
    pub auth: AuthConfig,
    pub tls: TlsOptions,
    pub kube: Option<Arc<KubeClient>>,
    pub client: Option<reqwest::Client>,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            config: None,
            auth: AuthConfig::anonymous(),
            tls: TlsOptions::default(),
            kube: None,
            client: None,
        }
    }
}

pub fn insecure_client() -> reqwest::Client {
    reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap()
}

pub async fn start(storage: MemStorage, setup: Setup) -> Server {
    let config = match &setup.config {
        Some(y) => AdapterConfig::parse(y).unwrap(),
        None => AdapterConfig::embedded_default().unwrap(),
    };
    let state = AdapterState::new(
        Arc::new(storage),
        Engine::default(),
        config,
        AdapterOptions::default(),
        setup.auth,
        setup.kube,
        &prometheus::Registry::new(),
    )
    .unwrap()
    .with_clock(|| NOW);
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let tls = server_config(&setup.tls).unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let app = router(state.clone());
    tokio::spawn(async move {
        serve_tls(listener, tls, app, async {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    Server {
        url: format!("https://127.0.0.1:{port}"),
        port,
        client: setup.client.unwrap_or_else(insecure_client),
        state,
        _stop: tx,
    }
}

/// Fails (or skips with ARGUS_SKIP_PEER_TESTS=1) when a peer binary is missing.
pub fn require_peer(bin: &str, package: &str) -> bool {
    require_peer_cmd(bin, &["version", "--client"], package)
}

/// Like [`require_peer`], probing the binary with `args`.
pub fn require_peer_cmd(bin: &str, args: &[&str], package: &str) -> bool {
    let found = std::process::Command::new(bin).args(args).output().is_ok();
    if found {
        return true;
    }
    if std::env::var("ARGUS_SKIP_PEER_TESTS").as_deref() == Ok("1") {
        eprintln!("skipping: {bin} not installed and ARGUS_SKIP_PEER_TESTS=1");
        return false;
    }
    panic!("{bin} is required for this test: install it (apt-get install {package}) or set ARGUS_SKIP_PEER_TESTS=1");
}
