//! The real `kubectl` (`get --raw`) against the adapter's TLS listener, with a kubeconfig
//! and client certificates made by the test: every API answers, values match the series
//! in the TSDB, and a kubeconfig without credentials is refused.
#![allow(clippy::indexing_slicing, clippy::unwrap_used)]

mod common;

use std::path::Path;

use argus_adapter::{AuthConfig, TlsOptions};
use common::*;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use serde_json::Value;

fn ca(name: &str) -> (String, Issuer<'static, KeyPair>) {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(DnType::CommonName, name);
    let key = KeyPair::generate().unwrap();
    let cert = p.self_signed(&key).unwrap();
    (cert.pem(), Issuer::new(p, key))
}

fn leaf(issuer: &Issuer<'static, KeyPair>, cn: &str, names: &[&str]) -> (String, String) {
    let mut p =
        CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    p.distinguished_name.push(DnType::CommonName, cn);
    let key = KeyPair::generate().unwrap();
    (
        p.signed_by(&key, issuer).unwrap().pem(),
        key.serialize_pem(),
    )
}

fn kubeconfig(dir: &Path, port: u16, user: Option<(&str, &str)>) -> std::path::PathBuf {
    let user_block = match user {
        Some((c, k)) => format!("    client-certificate: {c}\n    client-key: {k}\n"),
        // kubectl prompts for a password without any credential; a token nobody issued.
        None => "    token: stranger-token\n".to_owned(),
    };
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: argus\n  cluster:\n    server: https://127.0.0.1:{port}\n    certificate-authority: {}\nusers:\n- name: tester\n  user:\n{user_block}contexts:\n- name: argus\n  context: {{cluster: argus, user: tester}}\ncurrent-context: argus\n",
        dir.join("serving-ca.crt").display()
    );
    let name = if user.is_some() {
        "kubeconfig"
    } else {
        "kubeconfig-anon"
    };
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

async fn kubectl(cfg: &Path, path: &str) -> Result<Value, String> {
    let cfg = cfg.to_path_buf();
    let path = path.to_owned();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("kubectl")
            .arg("--kubeconfig")
            .arg(&cfg)
            .args(["get", "--raw", &path])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    if out.status.success() {
        serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_get_raw_reads_every_api() {
    if !require_peer("kubectl", "kubernetes-client") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (serving_ca_pem, serving_ca) = ca("serving-ca");
    let (client_ca_pem, client_ca) = ca("client-ca");
    let (cert, key) = leaf(&serving_ca, "argus", &["127.0.0.1", "localhost"]);
    let (ccert, ckey) = leaf(&client_ca, "argus-test-admin", &[]);
    let w = |n: &str, s: &str| std::fs::write(dir.path().join(n), s).unwrap();
    w("serving-ca.crt", &serving_ca_pem);
    w("client.crt", &ccert);
    w("client.key", &ckey);

    let srv = start(
        cluster_fixture(),
        Setup {
            auth: AuthConfig {
                allowed_names: vec!["front-proxy-client".into()],
                client_cert_users: true,
                ..AuthConfig::default()
            },
            tls: TlsOptions {
                cert_pem: Some(cert.into_bytes()),
                key_pem: Some(key.into_bytes()),
                client_ca_pem: Some(client_ca_pem.into_bytes()),
                self_signed_names: vec![],
            },
            ..Setup::default()
        },
    )
    .await;
    srv.state.refresh().await.unwrap();
    let cfg = kubeconfig(
        dir.path(),
        srv.port,
        Some((
            dir.path().join("client.crt").to_str().unwrap(),
            dir.path().join("client.key").to_str().unwrap(),
        )),
    );

    let disc = kubectl(&cfg, "/apis/custom.metrics.k8s.io/v1beta2")
        .await
        .unwrap();
    assert!(disc["resources"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["name"] == "pods/http_requests"));

    let many = kubectl(
        &cfg,
        "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/http_requests",
    )
    .await
    .unwrap();
    let values: Vec<(&str, &str)> = many["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["describedObject"]["name"].as_str().unwrap(),
                i["value"].as_str().unwrap(),
            )
        })
        .collect();
    // 10 + 0.5 and 1.5 requests per second were written for web-1 and web-2.
    assert_eq!(values, [("web-1", "10500m"), ("web-2", "1500m")]);

    let one = kubectl(
        &cfg,
        "/apis/custom.metrics.k8s.io/v1beta1/namespaces/default/pods/web-2/cpu_usage",
    )
    .await
    .unwrap();
    assert_eq!(one["items"][0]["metricName"], "cpu_usage");
    assert_eq!(one["items"][0]["value"], "500m");

    let ext = kubectl(
        &cfg,
        "/apis/external.metrics.k8s.io/v1beta1/namespaces/default/queue_depth?labelSelector=queue=jobs",
    )
    .await
    .unwrap();
    assert_eq!(ext["items"][0]["value"], "42");

    let nodes = kubectl(&cfg, "/apis/metrics.k8s.io/v1beta1/nodes")
        .await
        .unwrap();
    assert_eq!(nodes["kind"], "NodeMetricsList");
    assert_eq!(nodes["items"][0]["usage"]["cpu"], "1500m");
    assert_eq!(nodes["items"][0]["usage"]["memory"], "2Gi");

    let pod = kubectl(
        &cfg,
        "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/web-1",
    )
    .await
    .unwrap();
    assert_eq!(pod["kind"], "PodMetrics");
    assert_eq!(pod["containers"][0]["usage"]["memory"], "128Mi");

    let err = kubectl(
        &cfg,
        "/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/ghost",
    )
    .await
    .unwrap_err();
    assert!(
        err.contains("NotFound") || err.contains("not found"),
        "{err}"
    );

    // A kubeconfig with an unknown bearer token and no client certificate is refused.
    let anon = kubeconfig(dir.path(), srv.port, None);
    let err = kubectl(&anon, "/apis/metrics.k8s.io/v1beta1/nodes")
        .await
        .unwrap_err();
    assert!(err.contains("Unauthorized"), "{err}");
}
