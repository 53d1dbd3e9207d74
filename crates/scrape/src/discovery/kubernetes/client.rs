//! The Kubernetes API client of one `kubernetes_sd_config`: from a kubeconfig file, from
//! `api_server` with Prometheus' HTTP client options, or in-cluster (the pod's service
//! account, as client-go's `rest.InClusterConfig`).
//!
//! Prometheus' `tls_config` maps onto kube's own TLS settings (custom roots, client
//! certificate, `tls_server_name`, `accept_invalid_certs`); token files are handed to
//! kube, which re-reads them (service-account tokens are rotated). Authorization types
//! other than `Bearer` are sent as a fixed header read at start.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use base64::Engine;
use kube::config::{AuthInfo, KubeConfigOptions, Kubeconfig};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

use super::labels::join_host_port;
use crate::config::KubernetesSdConfig;

/// Where Kubernetes mounts a pod's service-account credentials.
pub const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// Why no client could be built (the discoverer retries with a backoff).
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Not running in a cluster, or the service account is not mounted.
    #[error("unable to load in-cluster configuration: {0}")]
    InCluster(String),
    /// The kubeconfig file is unreadable or invalid.
    #[error("kubeconfig {file}: {source}")]
    Kubeconfig {
        /// The file.
        file: String,
        /// Why.
        #[source]
        source: kube::config::KubeconfigError,
    },
    /// `api_server` is not a URL.
    #[error("invalid api_server {url:?}: {reason}")]
    ApiServer {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// A credentials or certificate file could not be read.
    #[error("unable to read {what} file {file}: {source}")]
    Read {
        /// What the file holds.
        what: &'static str,
        /// The file.
        file: String,
        /// Why.
        #[source]
        source: Arc<std::io::Error>,
    },
    /// A certificate could not be parsed.
    #[error("{0}")]
    Certificate(String),
    /// kube refused the configuration.
    #[error("creating the Kubernetes client: {0}")]
    Client(#[source] kube::Error),
}

/// A client and the namespace Argus runs in (for `namespaces.own_namespace`).
pub(crate) struct Connection {
    pub client: kube::Client,
    pub own_namespace: Option<String>,
}

/// Where the in-cluster configuration comes from; tests point it elsewhere.
#[derive(Debug, Clone)]
pub(crate) struct InCluster {
    pub host: Option<String>,
    pub port: Option<String>,
    pub dir: PathBuf,
}

impl InCluster {
    pub(crate) fn from_env() -> InCluster {
        InCluster {
            host: std::env::var("KUBERNETES_SERVICE_HOST").ok(),
            port: std::env::var("KUBERNETES_SERVICE_PORT").ok(),
            dir: PathBuf::from(SERVICE_ACCOUNT_DIR),
        }
    }
}

fn read(what: &'static str, file: &str) -> Result<Vec<u8>, ClientError> {
    std::fs::read(file).map_err(|e| ClientError::Read {
        what,
        file: file.to_owned(),
        source: Arc::new(e),
    })
}

fn read_string(what: &'static str, file: &str) -> Result<String, ClientError> {
    let b = read(what, file)?;
    Ok(String::from_utf8_lossy(&b).trim().to_owned())
}

fn der_certs(pem: &[u8]) -> Result<Vec<Vec<u8>>, ClientError> {
    let mut out = Vec::new();
    for c in CertificateDer::pem_slice_iter(pem) {
        let c = c.map_err(|e| ClientError::Certificate(format!("unable to parse CA: {e}")))?;
        out.push(c.to_vec());
    }
    if out.is_empty() {
        return Err(ClientError::Certificate(
            "no CA certificate found in the CA PEM".into(),
        ));
    }
    Ok(out)
}

fn auth_info(fields: serde_json::Map<String, serde_json::Value>) -> Result<AuthInfo, ClientError> {
    // kube's `AuthInfo` holds secrets as `SecretString`; going through its kubeconfig
    // (serde) form avoids depending on the secrecy crate directly.
    serde_json::from_value(serde_json::Value::Object(fields))
        .map_err(|e| ClientError::Certificate(format!("invalid credentials: {e}")))
}

/// The configuration for `api_server` with Prometheus' HTTP client options.
fn from_http_options(url: &str, cfg: &KubernetesSdConfig) -> Result<kube::Config, ClientError> {
    let uri: http::Uri =
        url.parse()
            .map_err(|e: http::uri::InvalidUri| ClientError::ApiServer {
                url: url.to_owned(),
                reason: e.to_string(),
            })?;
    let mut config = kube::Config::new(uri);
    let tls = &cfg.tls_config;
    let ca = match (&tls.ca, &tls.ca_file) {
        (Some(pem), _) => Some(pem.as_bytes().to_vec()),
        (None, Some(f)) => Some(read("CA", f)?),
        (None, None) => None,
    };
    if let Some(pem) = ca {
        config.root_cert = Some(der_certs(&pem)?);
    }
    config.accept_invalid_certs = tls.insecure_skip_verify;
    config.tls_server_name = tls.server_name.clone();

    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s.as_bytes());
    let mut a = serde_json::Map::new();
    let mut put = |k: &str, v: String| {
        a.insert(k.to_owned(), serde_json::Value::String(v));
    };
    match (&tls.cert, &tls.cert_file) {
        (Some(pem), _) => put("client-certificate-data", b64(pem)),
        (None, Some(f)) => put("client-certificate", f.clone()),
        _ => {}
    }
    match (&tls.key, &tls.key_file) {
        (Some(pem), _) => put("client-key-data", b64(&pem.0)),
        (None, Some(f)) => put("client-key", f.clone()),
        _ => {}
    }
    if let Some(t) = &cfg.bearer_token {
        put("token", t.0.clone());
    }
    if let Some(f) = &cfg.bearer_token_file {
        put("tokenFile", f.clone());
    }
    if let Some(auth) = &cfg.authorization {
        let bearer = auth.kind.is_empty() || auth.kind.eq_ignore_ascii_case("bearer");
        if bearer {
            if let Some(c) = &auth.credentials {
                put("token", c.0.clone());
            }
            if let Some(f) = &auth.credentials_file {
                put("tokenFile", f.clone());
            }
        } else {
            let creds = match (&auth.credentials, &auth.credentials_file) {
                (Some(c), _) => c.0.clone(),
                (None, Some(f)) => read_string("credentials", f)?,
                (None, None) => String::new(),
            };
            let value = http::HeaderValue::try_from(format!("{} {creds}", auth.kind))
                .map_err(|e| ClientError::Certificate(format!("invalid authorization: {e}")))?;
            config.headers.push((http::header::AUTHORIZATION, value));
        }
    }
    if let Some(b) = &cfg.basic_auth {
        let user = match &b.username_file {
            Some(f) => read_string("username", f)?,
            None => b.username.clone(),
        };
        let password = match (&b.password, &b.password_file) {
            (Some(p), _) => p.0.clone(),
            (None, Some(f)) => read_string("password", f)?,
            (None, None) => String::new(),
        };
        put("username", user);
        put("password", password);
    }
    config.auth_info = auth_info(a)?;
    Ok(config)
}

/// The in-cluster configuration and, when asked for, the pod's own namespace.
pub(crate) fn in_cluster(
    src: &InCluster,
    want_own_namespace: bool,
) -> Result<(kube::Config, Option<String>), ClientError> {
    let (Some(host), Some(port)) = (
        src.host.as_deref().filter(|h| !h.is_empty()),
        src.port.as_deref().filter(|p| !p.is_empty()),
    ) else {
        return Err(ClientError::InCluster(
            "KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined".into(),
        ));
    };
    let url = format!("https://{}", join_host_port(host, port));
    let uri: http::Uri = url.parse().map_err(|e: http::uri::InvalidUri| {
        ClientError::InCluster(format!("invalid API server address {url:?}: {e}"))
    })?;
    let mut config = kube::Config::new(uri);
    let file = |name: &str| src.dir.join(name).display().to_string();
    config.root_cert = Some(der_certs(&read("CA", &file("ca.crt"))?)?);
    let token = file("token");
    if !Path::new(&token).exists() {
        return Err(ClientError::InCluster(format!(
            "service-account token {token} not found"
        )));
    }
    let mut a = serde_json::Map::new();
    a.insert("tokenFile".into(), serde_json::Value::String(token));
    config.auth_info = auth_info(a)?;
    let own = if want_own_namespace {
        let ns = read_string("namespace", &file("namespace"))?;
        if ns.is_empty() {
            return Err(ClientError::InCluster(
                "could not read own namespace name (empty file)".into(),
            ));
        }
        config.default_namespace = ns.clone();
        Some(ns)
    } else {
        None
    };
    Ok((config, own))
}

/// Builds the client of `cfg`.
pub(crate) async fn connect(
    cfg: &KubernetesSdConfig,
    cluster: &InCluster,
) -> Result<Connection, ClientError> {
    // kube's rustls setup uses the process default provider; make it the ring one the
    // rest of Argus uses (a no-op when one is installed already).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let (config, own_namespace) = match (&cfg.kubeconfig_file, &cfg.api_server) {
        (Some(file), _) if !file.is_empty() => {
            let err = |source| ClientError::Kubeconfig {
                file: file.clone(),
                source,
            };
            let kc = Kubeconfig::read_from(file).map_err(err)?;
            let c = kube::Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
                .await
                .map_err(err)?;
            (c, None)
        }
        (_, Some(url)) => (from_http_options(url, cfg)?, None),
        _ => in_cluster(cluster, cfg.namespaces.own_namespace)?,
    };
    let client = kube::Client::try_from(config).map_err(ClientError::Client)?;
    Ok(Connection {
        client,
        own_namespace,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_cluster_reads_the_service_account() {
        let dir = tempfile::tempdir().unwrap();
        let ca = rcgen::generate_simple_self_signed(vec!["kubernetes.default.svc".into()])
            .unwrap()
            .cert
            .pem();
        std::fs::write(dir.path().join("ca.crt"), ca).unwrap();
        std::fs::write(dir.path().join("token"), "tok").unwrap();
        std::fs::write(dir.path().join("namespace"), "monitoring").unwrap();
        let src = InCluster {
            host: Some("10.96.0.1".into()),
            port: Some("443".into()),
            dir: dir.path().to_path_buf(),
        };
        let (c, own) = in_cluster(&src, true).unwrap();
        assert_eq!(c.cluster_url.to_string(), "https://10.96.0.1:443/");
        assert_eq!(own.as_deref(), Some("monitoring"));
        assert_eq!(c.root_cert.as_ref().map(Vec::len), Some(1));
        assert!(c
            .auth_info
            .token_file
            .as_deref()
            .unwrap()
            .ends_with("/token"));

        let v6 = InCluster {
            host: Some("fd00::1".into()),
            ..src.clone()
        };
        let (c, own) = in_cluster(&v6, false).unwrap();
        assert_eq!(c.cluster_url.to_string(), "https://[fd00::1]:443/");
        assert_eq!(own, None);

        let outside = InCluster { host: None, ..src };
        let e = in_cluster(&outside, false).err().unwrap();
        assert!(e.to_string().contains("KUBERNETES_SERVICE_HOST"), "{e}");
    }
}
