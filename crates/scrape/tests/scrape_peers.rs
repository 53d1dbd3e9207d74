//! Scraping real peers: Debian's `prometheus-node-exporter`, and a kubelet-style
//! `/metrics/cadvisor` endpoint served over TLS with a bearer-token check (there is no
//! cAdvisor package; the body is the recorded fixture).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use argus_model::memstore::MemStorage;
use argus_scrape::config::load_str;
use argus_scrape::ScrapeManager;
use common::*;

struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn run_manager(store: &MemStorage, yaml: &str, file: &str) -> ScrapeManager {
    let m = ScrapeManager::new(Arc::new(store.clone()), &prometheus::Registry::new());
    m.apply_config(&load_str(yaml, file).unwrap())
        .await
        .unwrap();
    let r = m.clone();
    tokio::spawn(async move { r.run().await });
    m
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrapes_node_exporter() {
    let Some(bin) = peer("prometheus-node-exporter") else {
        return;
    };
    let port = free_port();
    let _ne = Kill(
        Command::new(bin)
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let store = MemStorage::new();
    let yaml = format!(
        "scrape_configs:\n  - job_name: node\n    scrape_interval: 300ms\n    scrape_timeout: 290ms\n    static_configs:\n      - targets: ['127.0.0.1:{port}']\n"
    );
    let m = run_manager(&store, &yaml, "node.yml").await;
    let up_key = format!("up{{instance=\"127.0.0.1:{port}\", job=\"node\"}}");
    let d = wait_for(Duration::from_secs(15), || {
        let d = dump(&store);
        d.get(&up_key)
            .is_some_and(|s| s.iter().filter(|x| x.1 == 1.0).count() >= 2)
            .then_some(d)
    })
    .await
    .unwrap_or_else(|| panic!("node_exporter not scraped: {:?}", m.active_targets()));
    let build = d
        .keys()
        .find(|k| k.starts_with("node_exporter_build_info{"))
        .expect("build info");
    assert!(
        build.contains(&format!("instance=\"127.0.0.1:{port}\"")) && build.contains("job=\"node\"")
    );
    let node_series = d.keys().filter(|k| k.starts_with("node_")).count();
    assert!(node_series > 50, "only {node_series} node_* series");
    let samples: f64 = d
        .iter()
        .find(|(k, _)| k.starts_with("scrape_samples_scraped{"))
        .map(|(_, s)| s.last().unwrap().1)
        .unwrap();
    assert!(samples > 100.0);
    let md = m.metadata();
    assert_eq!(
        md["node_exporter_build_info"][0].metric_type,
        argus_model::MetricType::Gauge
    );
    assert_eq!(m.active_targets()[0].health, "up");
    m.shutdown();
}

struct Pki {
    ca_pem: String,
    server: Arc<tokio_rustls::rustls::ServerConfig>,
}

fn pki(name: &str) -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec![name.to_owned()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let server = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone(), CertificateDer::from(ca.der().to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .unwrap();
    Pki {
        ca_pem: ca.pem(),
        server: Arc::new(server),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrapes_cadvisor_over_tls_with_a_bearer_token() {
    let body = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/fixtures/cadvisor.prom"),
    )
    .unwrap();
    let pki = pki("kubelet.local");
    let srv = serve_maybe_tls(
        Arc::new(move |r| {
            if r.header("Authorization") != Some("Bearer kubelet-token") {
                return Response {
                    status: 401,
                    ..Response::text("Unauthorized")
                };
            }
            if r.path != "/metrics/cadvisor" {
                return Response {
                    status: 404,
                    ..Response::text("")
                };
            }
            let mut resp = Response::text("");
            resp.body = body.clone();
            resp
        }),
        Some(pki.server.clone()),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), &pki.ca_pem).unwrap();
    std::fs::write(dir.path().join("token"), "kubelet-token").unwrap();
    std::fs::write(dir.path().join("wrong"), "nope").unwrap();
    let job = |name: &str, extra: &str| {
        format!(
            "  - job_name: {name}\n    scheme: https\n    metrics_path: /metrics/cadvisor\n    scrape_interval: 500ms\n    scrape_timeout: 450ms\n    static_configs:\n      - targets: ['127.0.0.1:{}']\n{extra}",
            srv.addr.port()
        )
    };
    let yaml = format!(
        "scrape_configs:\n{}{}{}",
        job("kubernetes-cadvisor", "    bearer_token_file: token\n    tls_config:\n      ca_file: ca.pem\n      server_name: kubelet.local\n"),
        job("wrong-token", "    bearer_token_file: wrong\n    tls_config:\n      ca_file: ca.pem\n      server_name: kubelet.local\n"),
        job("untrusted", "    bearer_token_file: token\n"),
    );
    let store = MemStorage::new();
    let m = run_manager(
        &store,
        &yaml,
        &dir.path().join("prometheus.yml").display().to_string(),
    )
    .await;
    let targets = wait_for(Duration::from_secs(15), || {
        let t = m.active_targets();
        (t.len() == 3 && t.iter().all(|t| t.health != "unknown")).then_some(t)
    })
    .await
    .expect("all scraped once");
    let by = |p: &str| targets.iter().find(|t| t.scrape_pool == p).unwrap().clone();
    assert_eq!(
        by("kubernetes-cadvisor").health,
        "up",
        "{}",
        by("kubernetes-cadvisor").last_error
    );
    assert_eq!(
        by("wrong-token").last_error,
        "server returned HTTP status 401 Unauthorized"
    );
    assert!(
        by("untrusted")
            .last_error
            .to_lowercase()
            .contains("certificate"),
        "{}",
        by("untrusted").last_error
    );
    let d = dump(&store);
    let cpu: Vec<_> = d
        .iter()
        .filter(|(k, _)| {
            k.starts_with("container_cpu_usage_seconds_total{")
                && k.contains("job=\"kubernetes-cadvisor\"")
        })
        .collect();
    assert_eq!(cpu.len(), 72, "one series per container and pod cgroup");
    // cAdvisor's own timestamps are honored.
    assert!(cpu.iter().all(|(_, s)| s[0].0 == 1_700_000_000_123));
    m.shutdown();
}
