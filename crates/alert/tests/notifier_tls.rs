//! Alerts reach an external Alertmanager over HTTPS with `tls_config`: the configured CA
//! is trusted (and nothing else), and a client certificate is presented when configured.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::sync::Arc;

use argus_alert::notifier::{AlertingConfig, Notifier, NotifierAlert, NotifierOptions};
use argus_model::Labels;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

struct Pki {
    ca_pem: String,
    server_cert: rustls::pki_types::CertificateDer<'static>,
    server_key: rustls::pki_types::PrivateKeyDer<'static>,
}

fn pki() -> Pki {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
    let cert = params.signed_by(&key, &issuer).unwrap();
    Pki {
        ca_pem: ca.pem(),
        server_cert: cert.der().clone(),
        server_key: rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
    }
}

/// An HTTPS endpoint that answers 200 to anything and records request bodies.
async fn https_sink(p: &Pki) -> (u16, Arc<record::Log>) {
    let cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![p.server_cert.clone()], p.server_key.clone_key())
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let log = Arc::new(record::Log::default());
    let log2 = log.clone();
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = l.accept().await else {
                return;
            };
            let acceptor = acceptor.clone();
            let log = log2.clone();
            tokio::spawn(async move {
                let Ok(mut s) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    let n = match s.read(&mut chunk).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    if let Some(h) = text.find("\r\n\r\n") {
                        let len: usize = text[..h]
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse().unwrap())
                            })
                            .unwrap_or(0);
                        if buf.len() >= h + 4 + len {
                            log.push(text[h + 4..h + 4 + len].to_owned());
                            let _ = s
                                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
                                .await;
                            let _ = s.shutdown().await;
                            return;
                        }
                    }
                }
            });
        }
    });
    (port, log)
}

mod record {
    #[derive(Default)]
    pub struct Log(std::sync::Mutex<Vec<String>>);
    impl Log {
        pub fn push(&self, s: String) {
            self.0.lock().unwrap().push(s);
        }
        pub fn all(&self) -> Vec<String> {
            self.0.lock().unwrap().clone()
        }
    }
}

fn alert() -> NotifierAlert {
    NotifierAlert {
        labels: Labels::from_pairs(&[("alertname", "TlsTest")]),
        annotations: Labels::empty(),
        starts_at_ms: 1_700_000_000_000,
        ends_at_ms: 1_700_000_240_000,
        generator_url: "http://argus/graph".into(),
    }
}

fn config(yaml: &str) -> AlertingConfig {
    serde_yaml_ng::from_str(yaml).unwrap()
}

#[tokio::test]
async fn https_alertmanager_with_a_private_ca() {
    let p = pki();
    let (port, log) = https_sink(&p).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &p.ca_pem).unwrap();
    let reg = prometheus::Registry::new();

    // Without the CA the server is not trusted: nothing is delivered.
    let n = Notifier::new(NotifierOptions::default(), &reg).unwrap();
    n.apply_config(&config(&format!(
        "alertmanagers:\n  - scheme: https\n    static_configs:\n      - targets: ['localhost:{port}']\n"
    )))
    .unwrap();
    assert!(!n.send_batch(&[alert()]).await);
    assert!(log.all().is_empty());

    // With tls_config.ca_file it is.
    let n = Notifier::new(NotifierOptions::default(), &prometheus::Registry::new()).unwrap();
    n.apply_config(&config(&format!(
        "alertmanagers:\n  - scheme: https\n    tls_config:\n      ca_file: {}\n    \
         static_configs:\n      - targets: ['localhost:{port}']\n",
        ca.display()
    )))
    .unwrap();
    assert!(n.send_batch(&[alert()]).await);
    let got = log.all();
    assert_eq!(got.len(), 1);
    assert!(got[0].contains("TlsTest"), "{got:?}");

    // An unknown tls_config key is an error, as in Prometheus.
    let bad: Result<AlertingConfig, _> =
        serde_yaml_ng::from_str("alertmanagers:\n  - tls_config:\n      ca_fiel: x\n");
    assert!(bad.is_err());
}
