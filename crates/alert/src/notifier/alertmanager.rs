//! The client for external Alertmanagers (Prometheus' `notifier` package): a bounded queue
//! fed by the rule manager, drained in batches of 64 alerts that are POSTed as JSON to every
//! configured Alertmanager's `/api/v2/alerts`. Sends are not retried: the rule manager
//! re-sends active alerts every resend delay (1m), with `endsAt` 4 delays ahead.
//!
//! Configuration is Prometheus' `alerting` section (`alertmanagers[]` with
//! `static_configs`, `scheme`, `path_prefix`, `timeout`, `api_version`, `basic_auth`,
//! `authorization`). Other keys (service discovery, relabelling, TLS) are accepted and
//! reported as unsupported in the log.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use argus_model::{LabelsBuilder, PromDuration};
use parking_lot::{Mutex, RwLock};
use serde::Deserialize;

use super::{AlertSender, NotifierAlert};
use crate::metrics::NotifierMetrics;

/// Alerts per request, as Prometheus' `maxBatchSize`.
pub const MAX_BATCH_SIZE: usize = 64;

/// `static_configs[]`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct StaticConfig {
    /// `host:port` of each Alertmanager.
    #[serde(default)]
    pub targets: Vec<String>,
}

/// `basic_auth`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct BasicAuth {
    /// User name.
    #[serde(default)]
    pub username: String,
    /// Password.
    #[serde(default)]
    pub password: Option<String>,
    /// File holding the password.
    #[serde(default)]
    pub password_file: Option<String>,
}

/// `authorization`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
pub struct Authorization {
    /// Scheme, default `Bearer`.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// The credentials.
    #[serde(default)]
    pub credentials: Option<String>,
    /// File holding the credentials.
    #[serde(default)]
    pub credentials_file: Option<String>,
}

/// `tls_config`: the CA to trust, a client certificate, and whether to skip verification.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// CA bundle file (PEM).
    #[serde(default)]
    pub ca_file: Option<String>,
    /// CA bundle, inline (PEM).
    #[serde(default)]
    pub ca: Option<String>,
    /// Client certificate file (PEM).
    #[serde(default)]
    pub cert_file: Option<String>,
    /// Client certificate, inline (PEM).
    #[serde(default)]
    pub cert: Option<String>,
    /// Client key file (PEM).
    #[serde(default)]
    pub key_file: Option<String>,
    /// Client key, inline (PEM).
    #[serde(default)]
    pub key: Option<String>,
    /// Expected server name (accepted; the URL's host name is what is verified).
    #[serde(default)]
    pub server_name: Option<String>,
    /// Skip certificate verification.
    #[serde(default)]
    pub insecure_skip_verify: bool,
    /// Minimum TLS version (`TLS12`, `TLS13`).
    #[serde(default)]
    pub min_version: Option<String>,
    /// Maximum TLS version (accepted).
    #[serde(default)]
    pub max_version: Option<String>,
}

fn pem(inline: &Option<String>, file: &Option<String>) -> Result<Option<Vec<u8>>, NotifierError> {
    if let Some(i) = inline.as_ref().filter(|s| !s.is_empty()) {
        return Ok(Some(i.as_bytes().to_vec()));
    }
    match file.as_ref().filter(|s| !s.is_empty()) {
        Some(f) => std::fs::read(f)
            .map(Some)
            .map_err(|e| NotifierError::Credentials {
                path: f.clone(),
                msg: e.to_string(),
            }),
        None => Ok(None),
    }
}

fn base_client() -> reqwest::ClientBuilder {
    reqwest::Client::builder().user_agent(concat!("Argus/", env!("CARGO_PKG_VERSION")))
}

/// A client for one `alertmanagers[]` entry: the shared one unless it has a `tls_config`.
fn client_for(t: &TlsConfig) -> Result<reqwest::Client, NotifierError> {
    let err = |e: String| NotifierError::Client(e);
    let mut b = base_client();
    if let Some(ca) = pem(&t.ca, &t.ca_file)? {
        for c in reqwest::Certificate::from_pem_bundle(&ca).map_err(|e| err(format!("CA: {e}")))? {
            b = b.add_root_certificate(c);
        }
    }
    match (pem(&t.cert, &t.cert_file)?, pem(&t.key, &t.key_file)?) {
        (Some(mut c), Some(k)) => {
            c.push(b'\n');
            c.extend_from_slice(&k);
            b = b.identity(
                reqwest::Identity::from_pem(&c).map_err(|e| err(format!("client cert: {e}")))?,
            );
        }
        (None, None) => {}
        _ => return Err(err("tls_config needs both a certificate and a key".into())),
    }
    if t.insecure_skip_verify {
        b = b.danger_accept_invalid_certs(true);
    }
    if t.min_version.as_deref() == Some("TLS13") {
        b = b.min_tls_version(reqwest::tls::Version::TLS_1_3);
    }
    if t.server_name.as_deref().is_some_and(|s| !s.is_empty()) {
        tracing::warn!("tls_config.server_name for Alertmanagers is not supported; the URL's host is verified.");
    }
    b.build().map_err(|e| err(e.to_string()))
}

fn default_scheme() -> String {
    "http".into()
}
fn default_timeout() -> PromDuration {
    PromDuration(10_000)
}
fn default_api_version() -> String {
    "v2".into()
}

/// One `alertmanagers[]` entry.
#[derive(Debug, Clone, Deserialize, PartialEq)]
pub struct AlertmanagerConfig {
    /// Static targets.
    #[serde(default)]
    pub static_configs: Vec<StaticConfig>,
    /// `http` or `https`.
    #[serde(default = "default_scheme")]
    pub scheme: String,
    /// Path prefix of the Alertmanager API.
    #[serde(default)]
    pub path_prefix: String,
    /// Request timeout (default 10s).
    #[serde(default = "default_timeout")]
    pub timeout: PromDuration,
    /// Only `v2` is supported (Alertmanager ≥ 0.16; v1 was removed in 0.27).
    #[serde(default = "default_api_version")]
    pub api_version: String,
    /// HTTP basic authentication.
    #[serde(default)]
    pub basic_auth: Option<BasicAuth>,
    /// `Authorization` header.
    #[serde(default)]
    pub authorization: Option<Authorization>,
    /// TLS towards the Alertmanagers.
    #[serde(default)]
    pub tls_config: Option<TlsConfig>,
    /// Keys Argus does not act on (service discovery, TLS, relabelling, ...).
    #[serde(flatten)]
    pub unsupported: BTreeMap<String, serde_yaml_ng::Value>,
}

/// Prometheus' `alerting` section. Unknown keys are errors, as in Prometheus: a typo such
/// as `alertmanager:` would otherwise silently mean "no Alertmanagers".
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AlertingConfig {
    /// Alertmanagers to send to.
    #[serde(default)]
    pub alertmanagers: Vec<AlertmanagerConfig>,
    /// Relabelling of alerts (not applied; logged).
    #[serde(default)]
    pub alert_relabel_configs: Vec<serde_yaml_ng::Value>,
}

/// Why a configuration was refused.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum NotifierError {
    /// Unsupported `api_version`.
    #[error("unsupported Alertmanager api_version {0:?}: only v2 is supported")]
    ApiVersion(String),
    /// Unsupported scheme.
    #[error("unsupported scheme {0:?} for Alertmanager")]
    Scheme(String),
    /// A credentials file could not be read.
    #[error("reading {path}: {msg}")]
    Credentials {
        /// The file.
        path: String,
        /// The error.
        msg: String,
    },
    /// The HTTP client could not be built.
    #[error("building HTTP client: {0}")]
    Client(String),
}

#[derive(Debug, Clone)]
enum Auth {
    None,
    Basic(String, String),
    Header(String),
}

#[derive(Debug, Clone)]
struct Endpoint {
    url: String,
    timeout: Duration,
    auth: Auth,
    /// Its own client when the entry has a `tls_config`.
    client: Option<reqwest::Client>,
}

fn read_secret(inline: &Option<String>, file: &Option<String>) -> Result<String, NotifierError> {
    if let Some(f) = file {
        return std::fs::read_to_string(f)
            .map(|s| s.trim().to_string())
            .map_err(|e| NotifierError::Credentials {
                path: f.clone(),
                msg: e.to_string(),
            });
    }
    Ok(inline.clone().unwrap_or_default())
}

fn endpoints(cfg: &AlertmanagerConfig) -> Result<Vec<Endpoint>, NotifierError> {
    if cfg.api_version != "v2" {
        return Err(NotifierError::ApiVersion(cfg.api_version.clone()));
    }
    if cfg.scheme != "http" && cfg.scheme != "https" {
        return Err(NotifierError::Scheme(cfg.scheme.clone()));
    }
    for k in cfg.unsupported.keys() {
        tracing::warn!(key = %k, "Alertmanager configuration key is not supported and is ignored.");
    }
    let auth = if let Some(b) = &cfg.basic_auth {
        Auth::Basic(
            b.username.clone(),
            read_secret(&b.password, &b.password_file)?,
        )
    } else if let Some(a) = &cfg.authorization {
        let kind = a.kind.clone().unwrap_or_else(|| "Bearer".into());
        Auth::Header(format!(
            "{kind} {}",
            read_secret(&a.credentials, &a.credentials_file)?
        ))
    } else {
        Auth::None
    };
    let client = cfg.tls_config.as_ref().map(client_for).transpose()?;
    let prefix = cfg.path_prefix.trim_matches('/');
    let path = if prefix.is_empty() {
        "/api/v2/alerts".to_string()
    } else {
        format!("/{prefix}/api/v2/alerts")
    };
    Ok(cfg
        .static_configs
        .iter()
        .flat_map(|s| s.targets.iter())
        .map(|t| Endpoint {
            url: format!("{}://{t}{path}", cfg.scheme),
            timeout: Duration::from_millis(cfg.timeout.as_millis().max(1) as u64),
            auth: auth.clone(),
            client: client.clone(),
        })
        .collect())
}

/// Notifier settings.
#[derive(Debug, Clone)]
pub struct NotifierOptions {
    /// Alerts held before the oldest are dropped (`--alertmanager.notification-queue-capacity`).
    pub queue_capacity: usize,
    /// External labels added to alerts that lack them.
    pub external_labels: BTreeMap<String, String>,
}

impl Default for NotifierOptions {
    fn default() -> Self {
        NotifierOptions {
            queue_capacity: 10_000,
            external_labels: BTreeMap::new(),
        }
    }
}

/// The external-Alertmanager client. [`AlertSender::send`] queues; [`Notifier::run`] sends.
pub struct Notifier {
    opts: RwLock<NotifierOptions>,
    queue: Mutex<VecDeque<NotifierAlert>>,
    wake: tokio::sync::Notify,
    endpoints: RwLock<Vec<Endpoint>>,
    client: reqwest::Client,
    metrics: NotifierMetrics,
}

impl Notifier {
    /// A notifier with no Alertmanagers yet.
    pub fn new(
        opts: NotifierOptions,
        registry: &prometheus::Registry,
    ) -> Result<Arc<Self>, NotifierError> {
        let client = base_client()
            .build()
            .map_err(|e| NotifierError::Client(e.to_string()))?;
        let metrics = NotifierMetrics::new(registry);
        metrics.queue_capacity.set(opts.queue_capacity as f64);
        Ok(Arc::new(Notifier {
            opts: RwLock::new(opts),
            queue: Mutex::new(VecDeque::new()),
            wake: tokio::sync::Notify::new(),
            endpoints: RwLock::new(Vec::new()),
            client,
            metrics,
        }))
    }

    /// Applies the `alerting` section (replaces the Alertmanager list).
    pub fn apply_config(&self, cfg: &AlertingConfig) -> Result<(), NotifierError> {
        if !cfg.alert_relabel_configs.is_empty() {
            tracing::warn!("alert_relabel_configs are not supported and are ignored.");
        }
        let mut all = Vec::new();
        for am in &cfg.alertmanagers {
            all.extend(endpoints(am)?);
        }
        self.metrics.discovered.set(all.len() as f64);
        *self.endpoints.write() = all;
        Ok(())
    }

    /// Sets the external labels added to alerts.
    pub fn set_external_labels(&self, labels: BTreeMap<String, String>) {
        self.opts.write().external_labels = labels;
    }

    /// URLs alerts are posted to (for `/api/v1/alertmanagers`).
    pub fn alertmanager_urls(&self) -> Vec<String> {
        self.endpoints
            .read()
            .iter()
            .map(|e| e.url.clone())
            .collect()
    }

    /// Alerts waiting to be sent.
    pub fn queue_len(&self) -> usize {
        self.queue.lock().len()
    }

    fn next_batch(&self) -> Vec<NotifierAlert> {
        let mut q = self.queue.lock();
        let n = q.len().min(MAX_BATCH_SIZE);
        let batch: Vec<_> = q.drain(..n).collect();
        self.metrics.queue_length.set(q.len() as f64);
        batch
    }

    async fn post(&self, ep: &Endpoint, body: &str) -> Result<(), String> {
        let mut req = ep
            .client
            .as_ref()
            .unwrap_or(&self.client)
            .post(&ep.url)
            .timeout(ep.timeout)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string());
        req = match &ep.auth {
            Auth::None => req,
            Auth::Basic(u, p) => req.basic_auth(u, Some(p)),
            Auth::Header(h) => req.header(reqwest::header::AUTHORIZATION, h),
        };
        let resp = req.send().await.map_err(|e| e.to_string())?;
        let status = resp.status();
        if !status.is_success() {
            return Err(format!("bad response status {status}"));
        }
        Ok(())
    }

    /// Sends one batch to every Alertmanager; true if at least one accepted it.
    pub async fn send_batch(&self, batch: &[NotifierAlert]) -> bool {
        let eps = self.endpoints.read().clone();
        if eps.is_empty() || batch.is_empty() {
            return eps.is_empty();
        }
        let body = serde_json::Value::Array(batch.iter().map(NotifierAlert::to_api_v2).collect())
            .to_string();
        let mut any_ok = false;
        for ep in &eps {
            let start = Instant::now();
            let r = self.post(ep, &body).await;
            self.metrics
                .latency
                .with_label_values(&[&ep.url])
                .observe(start.elapsed().as_secs_f64());
            match r {
                Ok(()) => {
                    any_ok = true;
                    self.metrics
                        .sent
                        .with_label_values(&[&ep.url])
                        .inc_by(batch.len() as u64);
                }
                Err(e) => {
                    self.metrics
                        .errors
                        .with_label_values(&[&ep.url])
                        .inc_by(batch.len() as u64);
                    tracing::error!(alertmanager = %ep.url, count = batch.len(), err = %e, "Error sending alerts.");
                }
            }
        }
        if !any_ok {
            self.metrics.dropped.inc_by(batch.len() as u64);
        }
        any_ok
    }

    /// Sends queued alerts until `stop` turns true.
    pub async fn run(self: Arc<Self>, mut stop: tokio::sync::watch::Receiver<bool>) {
        loop {
            loop {
                let batch = self.next_batch();
                if batch.is_empty() {
                    break;
                }
                self.send_batch(&batch).await;
            }
            tokio::select! {
                _ = self.wake.notified() => {}
                r = stop.changed() => {
                    if r.is_err() || *stop.borrow() {
                        return;
                    }
                }
            }
        }
    }
}

impl AlertSender for Notifier {
    fn send(&self, alerts: Vec<NotifierAlert>) {
        let ext = self.opts.read().external_labels.clone();
        let cap = self.opts.read().queue_capacity;
        let mut q = self.queue.lock();
        for mut a in alerts {
            if !ext.is_empty() {
                let mut b = LabelsBuilder::from(&a.labels);
                for (k, v) in &ext {
                    if a.labels.get(k).is_none_or(str::is_empty) {
                        b.set(k, v);
                    }
                }
                a.labels = b.build();
            }
            q.push_back(a);
        }
        // Over capacity: drop the oldest, as Prometheus does.
        let over = q.len().saturating_sub(cap);
        if over > 0 {
            q.drain(..over);
            self.metrics.dropped.inc_by(over as u64);
        }
        self.metrics.queue_length.set(q.len() as f64);
        drop(q);
        self.wake.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_to_endpoints() {
        let y = "alertmanagers:\n- static_configs:\n  - targets: ['a:9093', 'b:9093']\n  path_prefix: /am/\n  timeout: 5s\n  basic_auth: {username: u, password: p}\n- scheme: https\n  static_configs: [{targets: ['c']}]\n  authorization: {credentials: tok}\n  relabel_configs: []\n";
        let cfg: AlertingConfig = serde_yaml_ng::from_str(y).unwrap();
        let e = endpoints(&cfg.alertmanagers[0]).unwrap();
        assert_eq!(e[0].url, "http://a:9093/am/api/v2/alerts");
        assert_eq!(e[1].url, "http://b:9093/am/api/v2/alerts");
        assert_eq!(e[0].timeout, Duration::from_secs(5));
        assert!(matches!(&e[0].auth, Auth::Basic(u, p) if u == "u" && p == "p"));
        let e = endpoints(&cfg.alertmanagers[1]).unwrap();
        assert_eq!(e[0].url, "https://c/api/v2/alerts");
        assert!(matches!(&e[0].auth, Auth::Header(h) if h == "Bearer tok"));
        assert!(cfg.alertmanagers[1]
            .unsupported
            .contains_key("relabel_configs"));
        let bad: AlertingConfig =
            serde_yaml_ng::from_str("alertmanagers: [{api_version: v1}]").unwrap();
        assert_eq!(
            endpoints(&bad.alertmanagers[0]).unwrap_err(),
            NotifierError::ApiVersion("v1".into())
        );
    }

    #[test]
    fn queue_adds_external_labels_and_drops_oldest() {
        let reg = prometheus::Registry::new();
        let ext: BTreeMap<String, String> = [("dc".to_string(), "eu".to_string())].into();
        let n = Notifier::new(
            NotifierOptions {
                queue_capacity: 2,
                external_labels: ext,
            },
            &reg,
        )
        .unwrap();
        let mk = |name: &str| NotifierAlert {
            labels: argus_model::Labels::from_pairs(&[("alertname", name)]),
            annotations: argus_model::Labels::empty(),
            starts_at_ms: 0,
            ends_at_ms: 0,
            generator_url: String::new(),
        };
        n.send(vec![mk("a"), mk("b"), mk("c")]);
        let b = n.next_batch();
        assert_eq!(b.len(), 2);
        assert_eq!(b[0].labels.get("alertname"), Some("b"));
        assert_eq!(b[0].labels.get("dc"), Some("eu"));
    }
}
