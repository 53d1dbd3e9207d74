//! The HPA's request shapes through the official Kubernetes Python client (PyPI
//! `kubernetes`), over mutual TLS: answers decode and carry the written values.
#![allow(clippy::indexing_slicing, clippy::unwrap_used)]

mod common;

use argus_adapter::{AuthConfig, TlsOptions};
use common::*;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use serde_json::{json, Value};

fn python_kubernetes_available() -> bool {
    let ok = std::process::Command::new("python3")
        .args(["-c", "import kubernetes"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return true;
    }
    if std::env::var("ARGUS_SKIP_PEER_TESTS").as_deref() == Ok("1") {
        return false;
    }
    panic!(
        "python3 with the `kubernetes` package is required (python3 -m pip install kubernetes) \
         or set ARGUS_SKIP_PEER_TESTS=1"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hpa_request_shapes_decode_with_the_python_client() {
    if !python_kubernetes_available() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mk_ca = |name: &str| {
        let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.distinguished_name.push(DnType::CommonName, name);
        let key = KeyPair::generate().unwrap();
        let pem = p.self_signed(&key).unwrap().pem();
        (pem, Issuer::new(p, key))
    };
    let leaf = |issuer: &Issuer<'static, KeyPair>, cn: &str, names: Vec<String>| {
        let mut p = CertificateParams::new(names).unwrap();
        p.distinguished_name.push(DnType::CommonName, cn);
        let key = KeyPair::generate().unwrap();
        (
            p.signed_by(&key, issuer).unwrap().pem(),
            key.serialize_pem(),
        )
    };
    let (serving_ca_pem, serving_ca) = mk_ca("serving-ca");
    let (client_ca_pem, client_ca) = mk_ca("client-ca");
    let (cert, key) = leaf(&serving_ca, "argus", vec!["127.0.0.1".into()]);
    let (ccert, ckey) = leaf(&client_ca, "hpa", vec![]);
    let p = |n: &str| dir.path().join(n);
    std::fs::write(p("ca.crt"), &serving_ca_pem).unwrap();
    std::fs::write(p("client.crt"), &ccert).unwrap();
    std::fs::write(p("client.key"), &ckey).unwrap();
    // kube-state-metrics' pod labels resolve the HPA's pod selector (app=web).
    let storage = cluster_fixture();
    for pod in ["web-1", "web-2"] {
        gauge(
            &storage,
            &[
                ("__name__", "kube_pod_labels"),
                ("namespace", "default"),
                ("pod", pod),
                ("label_app", "web"),
            ],
            1.0,
        );
    }
    let srv = start(
        storage,
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
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/hpa_requests.py");
    let args = [
        script.to_owned(),
        srv.url.clone(),
        p("ca.crt").display().to_string(),
        p("client.crt").display().to_string(),
        p("client.key").display().to_string(),
    ];
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("python3")
            .args(&args)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "python client failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines,
        [
            json!({"shape": "resource", "kind": "PodMetricsList", "items": [
                ["web-1", [["app", "250m", "128Mi"], ["sidecar", "10m", "16Mi"]]],
                ["web-2", [["app", "500m", "64Mi"]]],
            ]}),
            json!({"shape": "pods", "kind": "MetricValueList", "items": [["web-1", "10"], ["web-2", "1500m"]]}),
            json!({"shape": "object", "kind": "MetricValueList", "items": [["web", "12"]]}),
            json!({"shape": "external", "kind": "ExternalMetricValueList", "items": [["queue_depth", "42"]]}),
            json!({"shape": "nodes", "kind": "NodeMetricsList", "items": [
                ["n1", "1500m", "2Gi"], ["n2", "750m", "3000000000"]]}),
            json!({"shape": "error", "kind": "Status", "items": [404, "NotFound"]}),
        ]
    );
}
