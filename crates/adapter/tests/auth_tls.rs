//! TLS and authentication as the aggregator uses them: front-proxy client certificates
//! verified against the request-header CA, allowed names, user headers, strangers refused.
#![allow(clippy::indexing_slicing, clippy::unwrap_used)]

mod common;

use argus_adapter::{AuthConfig, TlsOptions};
use common::*;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use serde_json::json;

struct Ca {
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

fn ca(name: &str) -> Ca {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(DnType::CommonName, name);
    let key = KeyPair::generate().unwrap();
    let cert = p.self_signed(&key).unwrap();
    Ca {
        pem: cert.pem(),
        issuer: Issuer::new(p, key),
    }
}

/// (cert PEM, key PEM) signed by `ca`.
fn leaf(ca: &Ca, cn: &str, names: &[&str]) -> (String, String) {
    let mut p =
        CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    p.distinguished_name.push(DnType::CommonName, cn);
    let key = KeyPair::generate().unwrap();
    let cert = p.signed_by(&key, &ca.issuer).unwrap();
    (cert.pem(), key.serialize_pem())
}

fn client_with(ca_pem: &str, identity: Option<&(String, String)>) -> reqwest::Client {
    let mut b = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap());
    if let Some((c, k)) = identity {
        b = b.identity(reqwest::Identity::from_pem(format!("{c}{k}").as_bytes()).unwrap());
    }
    b.build().unwrap()
}

#[tokio::test]
async fn front_proxy_certificates_and_strangers() {
    let serving_ca = ca("serving-ca");
    let front_proxy_ca = ca("front-proxy-ca");
    let other_ca = ca("someone-else");
    let serving = leaf(&serving_ca, "argus", &["localhost", "127.0.0.1"]);
    let proxy = leaf(&front_proxy_ca, "front-proxy-client", &[]);
    let wrong_name = leaf(&front_proxy_ca, "kubelet", &[]);
    let stranger = leaf(&other_ca, "front-proxy-client", &[]);

    let srv = start(
        cluster_fixture(),
        Setup {
            auth: AuthConfig {
                allowed_names: vec!["front-proxy-client".into()],
                ..AuthConfig::default()
            },
            tls: TlsOptions {
                cert_pem: Some(serving.0.clone().into_bytes()),
                key_pem: Some(serving.1.clone().into_bytes()),
                client_ca_pem: Some(front_proxy_ca.pem.clone().into_bytes()),
                self_signed_names: vec![],
            },
            // Verifies the serving certificate against its CA, with hostname checks.
            client: Some(client_with(&serving_ca.pem, None)),
            ..Setup::default()
        },
    )
    .await;
    let url = format!(
        "https://localhost:{}/apis/custom.metrics.k8s.io/v1beta2",
        srv.port
    );

    // No credentials: 401 with a Status body.
    let r = srv.client.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        body,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": "Unauthorized", "reason": "Unauthorized", "code": 401})
    );
    // Health endpoints stay open for probes.
    let r = srv
        .client
        .get(format!("https://localhost:{}/healthz", srv.port))
        .send()
        .await
        .unwrap();
    assert_eq!(
        (r.status().as_u16(), r.text().await.unwrap()),
        (200, "ok".to_owned())
    );

    // The aggregator: allowed CN and a user header.
    let aggregator = client_with(&serving_ca.pem, Some(&proxy));
    let r = aggregator
        .get(&url)
        .header(
            "X-Remote-User",
            "system:serviceaccount:kube-system:horizontal-pod-autoscaler",
        )
        .header("X-Remote-Group", "system:serviceaccounts")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // Same certificate without naming a user.
    let r = aggregator.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 401);
    // Right CA, CN not in the allowed names.
    let r = client_with(&serving_ca.pem, Some(&wrong_name))
        .get(&url)
        .header("X-Remote-User", "mallory")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // A certificate from another CA fails the handshake.
    let e = client_with(&serving_ca.pem, Some(&stranger))
        .get(&url)
        .header("X-Remote-User", "mallory")
        .send()
        .await;
    match e {
        Err(_) => {}
        Ok(r) => panic!("stranger got through with {}", r.status()),
    }
}

#[tokio::test]
async fn self_signed_certificate_and_anonymous_access() {
    let srv = start(cluster_fixture(), Setup::default()).await;
    let (code, body) = srv.get("/apis/metrics.k8s.io").await;
    assert_eq!(code, 200);
    assert_eq!(body["preferredVersion"]["version"], "v1beta1");
    // The generated certificate is not trusted by default clients.
    let strict = reqwest::Client::new();
    assert!(strict
        .get(format!("{}/healthz", srv.url))
        .send()
        .await
        .is_err());
    let (code, body) = srv.get("/openapi/v2").await;
    assert_eq!(code, 200);
    assert_eq!(body["swagger"], "2.0");
}

#[test]
fn mismatched_tls_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("tls.crt");
    std::fs::write(&cert, "not a certificate").unwrap();
    let e = TlsOptions::from_files(Some(&cert), None, None).unwrap_err();
    assert!(e.to_string().contains("private key"), "{e}");
    let key = dir.path().join("tls.key");
    std::fs::write(&key, "nope").unwrap();
    let opts = TlsOptions::from_files(Some(&cert), Some(&key), None).unwrap();
    let e = argus_adapter::server_config(&opts).unwrap_err();
    assert!(e.to_string().contains("serving certificate"), "{e}");
    let e =
        TlsOptions::from_files(Some(&dir.path().join("missing")), Some(&key), None).unwrap_err();
    assert!(e.to_string().contains("missing"), "{e}");
}
