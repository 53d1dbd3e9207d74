//! A fake Kubernetes API server for the discovery tests: HTTPS with a CA made here,
//! bearer-token checks, scripted list and watch responses per resource path (recorded
//! JSON under `testdata/kubernetes/`), and a log of the requests it got.

#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing
)]

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use argus_scrape::discovery::{Discoverer, LabelSet, TargetGroup};
use parking_lot::Mutex;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::common::{serve_maybe_tls, Request, Response, Server};

pub const TOKEN: &str = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImFyZ3VzIn0.test-service-account-token";

pub fn fixture(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("testdata/kubernetes")
            .join(name),
    )
    .unwrap()
}

/// Responses of one resource path: list bodies (the last repeats) and watch bodies
/// (once they run out, watches hang as an idle watch does).
#[derive(Clone, Default)]
pub struct Script {
    pub lists: Vec<(u16, String)>,
    pub watches: Vec<(u16, String)>,
}

impl Script {
    pub fn list(body: String) -> Script {
        Script {
            lists: vec![(200, body)],
            watches: Vec::new(),
        }
    }
}

#[derive(Default)]
struct Counters {
    lists: HashMap<String, usize>,
    watches: HashMap<String, usize>,
}

pub struct FakeApi {
    pub server: Server,
    pub url: String,
    pub dir: tempfile::TempDir,
    pub ca_file: PathBuf,
}

impl FakeApi {
    /// Requests (path with query) received so far.
    pub fn requests(&self) -> Vec<Request> {
        self.server.requests.lock().clone()
    }

    /// The query parameters of the requests to `path`.
    pub fn queries(&self, path: &str) -> Vec<BTreeMap<String, String>> {
        self.requests()
            .iter()
            .filter(|r| r.path.split('?').next() == Some(path))
            .map(|r| {
                let url = reqwest::Url::parse(&format!("https://x{}", r.path)).unwrap();
                url.query_pairs()
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .collect()
    }

    /// Writes a config file referring to the CA and token files.
    pub fn token_file(&self) -> PathBuf {
        self.dir.path().join("token")
    }
}

fn status(code: u16, reason: &str, message: &str) -> Response {
    json(
        code,
        format!(
            r#"{{"kind":"Status","apiVersion":"v1","metadata":{{}},"status":"Failure","message":"{message}","reason":"{reason}","code":{code}}}"#
        ),
    )
}

fn json(code: u16, body: String) -> Response {
    Response {
        status: code,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: body.into_bytes(),
        delay: Duration::ZERO,
    }
}

struct Pki {
    ca_pem: String,
    client_pem: (String, String),
    server: Arc<tokio_rustls::rustls::ServerConfig>,
}

/// The CA, a server certificate for 127.0.0.1, localhost and kubernetes.default.svc,
/// and a client certificate; with `mtls` the server requires a client certificate
/// signed by the CA (as API servers accept for x509 client authentication) and its
/// certificate names kubernetes.default.svc only.
fn pki(mtls: bool) -> Pki {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca_params, ca_key);
    let key = KeyPair::generate().unwrap();
    // The mutual-TLS server's certificate does not name 127.0.0.1, so reaching it
    // proves `server_name` is what the certificate is checked against.
    let names: &[&str] = if mtls {
        &["kubernetes.default.svc"]
    } else {
        &["127.0.0.1", "localhost", "kubernetes.default.svc"]
    };
    let cert = CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    let client_key = KeyPair::generate().unwrap();
    let client = CertificateParams::new(Vec::<String>::new())
        .unwrap()
        .signed_by(&client_key, &issuer)
        .unwrap();
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let builder = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = if mtls {
        let mut roots = tokio_rustls::rustls::RootCertStore::empty();
        roots.add(CertificateDer::from(ca.der().to_vec())).unwrap();
        let verifier = tokio_rustls::rustls::server::WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            provider,
        )
        .build()
        .unwrap();
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let server = builder
        .with_single_cert(
            vec![cert.der().clone(), CertificateDer::from(ca.der().to_vec())],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .unwrap();
    Pki {
        ca_pem: ca.pem(),
        client_pem: (client.pem(), client_key.serialize_pem()),
        server: Arc::new(server),
    }
}

/// Starts the API with `routes` (resource path → script). Every request must carry
/// `Authorization: Bearer <TOKEN>`.
pub async fn start(routes: Vec<(&str, Script)>) -> FakeApi {
    start_with(routes, false).await
}

/// As [`start`]; with `mtls` a client certificate (`client.crt`, `client.key` in the
/// directory) is required too.
pub async fn start_with(routes: Vec<(&str, Script)>, mtls: bool) -> FakeApi {
    let pki = pki(mtls);
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.crt");
    std::fs::write(&ca_file, &pki.ca_pem).unwrap();
    std::fs::write(dir.path().join("client.crt"), &pki.client_pem.0).unwrap();
    std::fs::write(dir.path().join("client.key"), &pki.client_pem.1).unwrap();
    std::fs::write(dir.path().join("token"), TOKEN).unwrap();
    let routes: HashMap<String, Script> =
        routes.into_iter().map(|(p, s)| (p.to_owned(), s)).collect();
    let counters = Arc::new(Mutex::new(Counters::default()));
    let handler = move |req: &Request| -> Response {
        if req.header("authorization") != Some(&format!("Bearer {TOKEN}")) {
            return status(401, "Unauthorized", "Unauthorized");
        }
        let (path, query) = req.path.split_once('?').unwrap_or((&req.path, ""));
        let Some(script) = routes.get(path) else {
            return status(
                404,
                "NotFound",
                "the server could not find the requested resource",
            );
        };
        let watch = query
            .split('&')
            .any(|kv| kv == "watch=true" || kv == "watch=1");
        let mut c = counters.lock();
        if watch {
            let n = c.watches.entry(path.to_owned()).or_default();
            let i = *n;
            *n += 1;
            match script.watches.get(i) {
                Some((code, body)) => json(*code, body.clone()),
                None => Response {
                    delay: Duration::from_secs(3600),
                    ..json(200, String::new())
                },
            }
        } else {
            let n = c.lists.entry(path.to_owned()).or_default();
            let i = (*n).min(script.lists.len().saturating_sub(1));
            *n += 1;
            match script.lists.get(i) {
                Some((code, body)) => json(*code, body.clone()),
                None => status(500, "InternalError", "no list scripted"),
            }
        }
    };
    let server = serve_maybe_tls(Arc::new(handler), Some(pki.server)).await;
    let url = format!("https://127.0.0.1:{}", server.addr.port());
    FakeApi {
        server,
        url,
        dir,
        ca_file,
    }
}

/// A running discoverer and the groups it sent.
pub struct Run {
    pub updates: Arc<Mutex<Vec<Vec<TargetGroup>>>>,
    cancel: CancellationToken,
}

impl Drop for Run {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

impl Run {
    pub fn start(d: Box<dyn Discoverer>) -> Run {
        let (tx, mut rx) = mpsc::channel(16);
        let cancel = CancellationToken::new();
        tokio::spawn(d.run(cancel.clone(), tx));
        let updates = Arc::new(Mutex::new(Vec::new()));
        let u = updates.clone();
        tokio::spawn(async move {
            while let Some(g) = rx.recv().await {
                u.lock().push(g);
            }
        });
        Run { updates, cancel }
    }

    /// The groups by source after every update so far (empty groups removed).
    pub fn state(&self) -> BTreeMap<String, TargetGroup> {
        let mut out = BTreeMap::new();
        for u in self.updates.lock().iter() {
            for g in u {
                if g.targets.is_empty() {
                    out.remove(&g.source);
                } else {
                    out.insert(g.source.clone(), g.clone());
                }
            }
        }
        out
    }

    /// Waits until `f` holds for the state (the discoverer runs against a local server;
    /// the limit only keeps a broken build from hanging).
    pub async fn wait(&self, what: &str, f: impl Fn(&BTreeMap<String, TargetGroup>) -> bool) {
        let ok =
            crate::common::wait_for(Duration::from_secs(60), || f(&self.state()).then_some(()))
                .await
                .is_some();
        assert!(ok, "{what}: state {:#?}", self.state());
    }
}

/// Every target of a group with the group's labels merged in (the target's own win), as
/// the scrape pool sees them, sorted.
pub fn targets(g: &TargetGroup) -> Vec<LabelSet> {
    let mut out: Vec<LabelSet> = g
        .targets
        .iter()
        .map(|t| {
            let mut m = g.labels.clone();
            m.extend(t.clone());
            m
        })
        .collect();
    out.sort();
    out
}

/// Builds a label set from pairs.
pub fn ls(pairs: &[(&str, &str)]) -> LabelSet {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// `ls(common)` extended with `extra`.
pub fn with(common: &LabelSet, extra: &[(&str, &str)]) -> LabelSet {
    let mut m = common.clone();
    m.extend(ls(extra));
    m
}

/// Asserts two lists of label sets are equal, showing the first difference.
pub fn assert_sets(what: &str, got: &[LabelSet], want: &[LabelSet]) {
    let mut want = want.to_vec();
    want.sort();
    for (i, (g, w)) in got.iter().zip(want.iter()).enumerate() {
        if g != w {
            let missing: Vec<_> = w.iter().filter(|(k, v)| g.get(*k) != Some(v)).collect();
            let extra: Vec<_> = g.iter().filter(|(k, v)| w.get(*k) != Some(v)).collect();
            panic!("{what}: target {i} differs\n  missing/wrong: {missing:?}\n  unexpected: {extra:?}\n  got: {g:#?}");
        }
    }
    assert_eq!(got.len(), want.len(), "{what}: {got:#?}");
}

/// A YAML config with one Kubernetes SD entry against `api`.
pub fn config(api: &FakeApi, body: &str) -> argus_scrape::config::KubernetesSdConfig {
    let mut yaml = format!(
        "scrape_configs:\n  - job_name: k\n    kubernetes_sd_configs:\n      - api_server: {}\n        authorization:\n          credentials_file: {}\n        tls_config:\n          ca_file: {}\n",
        api.url,
        api.token_file().display(),
        api.ca_file.display()
    );
    for l in body.lines() {
        yaml.push_str("        ");
        yaml.push_str(l);
        yaml.push('\n');
    }
    let cfg = argus_scrape::config::load_str(&yaml, "k8s.yml").unwrap();
    cfg.scrape_configs[0].kubernetes_sd_configs[0].clone()
}
