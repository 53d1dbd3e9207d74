//! `--web.config.file`: TLS and basic authentication for the main listener, in the format
//! Prometheus and the exporters share (exporter-toolkit's web configuration), so an
//! existing file works unchanged:
//!
//! ```yaml
//! tls_server_config:
//!   cert_file: server.crt
//!   key_file: server.key
//!   client_auth_type: RequireAndVerifyClientCert   # or NoClientCert, VerifyClientCertIfGiven
//!   client_ca_file: ca.crt
//!   min_version: TLS12
//! http_server_config:
//!   headers: { X-Frame-Options: deny }
//! basic_auth_users:
//!   alice: $2y$10$...   # bcrypt hash
//! ```
//!
//! Relative paths are relative to the file. Basic auth applies to every endpoint, as in
//! Prometheus. bcrypt is deliberately slow, so a successful check is remembered (keyed by
//! user and a salted hash of the password) and not repeated per request.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;
use serde::Deserialize;

/// The whole file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebConfig {
    #[serde(default)]
    pub tls_server_config: Option<TlsServerConfig>,
    #[serde(default)]
    pub http_server_config: Option<HttpServerConfig>,
    /// User name → bcrypt hash.
    #[serde(default)]
    pub basic_auth_users: BTreeMap<String, String>,
}

/// `tls_server_config`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsServerConfig {
    #[serde(default)]
    pub cert_file: String,
    #[serde(default)]
    pub key_file: String,
    #[serde(default)]
    pub cert: String,
    #[serde(default)]
    pub key: String,
    #[serde(default)]
    pub client_auth_type: String,
    #[serde(default)]
    pub client_ca_file: String,
    #[serde(default)]
    pub client_ca: String,
    #[serde(default)]
    pub min_version: String,
    #[serde(default)]
    pub max_version: String,
    /// Accepted; rustls chooses among its safe suites.
    #[serde(default)]
    pub cipher_suites: Vec<String>,
    /// Accepted; rustls chooses.
    #[serde(default)]
    pub curve_preferences: Vec<String>,
    /// Accepted; rustls chooses.
    #[serde(default)]
    pub prefer_server_cipher_suites: Option<bool>,
    /// Client certificate SANs allowed (not supported; refused when set).
    #[serde(default)]
    pub client_allowed_sans: Vec<String>,
}

/// `http_server_config`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpServerConfig {
    /// Accepted; the listener speaks HTTP/1.1.
    #[serde(default)]
    pub http2: Option<bool>,
    /// Headers added to every response.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

fn resolve(base: &Path, p: &str) -> PathBuf {
    let p = Path::new(p);
    if p.is_absolute() {
        p.to_owned()
    } else {
        base.join(p)
    }
}

fn pem(base: &Path, inline: &str, file: &str, what: &str) -> anyhow::Result<Option<Vec<u8>>> {
    if !inline.is_empty() {
        return Ok(Some(inline.as_bytes().to_vec()));
    }
    if file.is_empty() {
        return Ok(None);
    }
    let p = resolve(base, file);
    std::fs::read(&p)
        .map(Some)
        .with_context(|| format!("reading {what} {}", p.display()))
}

impl WebConfig {
    /// Reads and validates the file.
    pub fn load(path: &Path) -> anyhow::Result<(WebConfig, PathBuf)> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let c: WebConfig =
            serde_yaml_ng::from_str(&text).with_context(|| format!("{}", path.display()))?;
        for (user, hash) in &c.basic_auth_users {
            if bcrypt_cost(hash).is_none() {
                anyhow::bail!(
                    "{}: basic_auth_users.{user}: not a bcrypt hash",
                    path.display()
                );
            }
        }
        if let Some(t) = &c.tls_server_config {
            if !t.cipher_suites.is_empty()
                || !t.curve_preferences.is_empty()
                || t.prefer_server_cipher_suites.is_some()
            {
                tracing::warn!("cipher_suites, curve_preferences and prefer_server_cipher_suites are accepted; rustls uses its own safe defaults.");
            }
        }
        if c.http_server_config.as_ref().and_then(|h| h.http2) == Some(true) {
            tracing::warn!("http_server_config.http2 is accepted; the listener speaks HTTP/1.1.");
        }
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Ok((c, base))
    }

    /// The rustls configuration of `tls_server_config`, if any.
    pub fn tls(&self, base: &Path) -> anyhow::Result<Option<Arc<rustls::ServerConfig>>> {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, PrivateKeyDer};
        let Some(t) = &self.tls_server_config else {
            return Ok(None);
        };
        if !t.client_allowed_sans.is_empty() {
            anyhow::bail!("tls_server_config.client_allowed_sans is not supported");
        }
        let cert = pem(base, &t.cert, &t.cert_file, "cert_file")?
            .context("tls_server_config needs cert_file (or cert)")?;
        let key = pem(base, &t.key, &t.key_file, "key_file")?
            .context("tls_server_config needs key_file (or key)")?;
        let certs = CertificateDer::pem_slice_iter(&cert)
            .collect::<Result<Vec<_>, _>>()
            .context("tls_server_config: certificate")?;
        let key = PrivateKeyDer::from_pem_slice(&key).context("tls_server_config: key")?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let versions: Vec<&'static rustls::SupportedProtocolVersion> =
            match (t.min_version.as_str(), t.max_version.as_str()) {
                ("TLS13", _) => vec![&rustls::version::TLS13],
                (_, "TLS12") => vec![&rustls::version::TLS12],
                ("" | "TLS12", _) => vec![&rustls::version::TLS12, &rustls::version::TLS13],
                (other, _) => anyhow::bail!(
                    "tls_server_config.min_version {other:?}: TLS12 and TLS13 are supported"
                ),
            };
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(&versions)
            .context("TLS versions")?;
        let ca = pem(base, &t.client_ca, &t.client_ca_file, "client_ca_file")?;
        let verifier = |ca: &[u8], optional: bool| -> anyhow::Result<_> {
            let mut roots = rustls::RootCertStore::empty();
            for c in CertificateDer::pem_slice_iter(ca) {
                roots.add(c.context("client CA")?).context("client CA")?;
            }
            let b = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider.clone(),
            );
            let b = if optional {
                b.allow_unauthenticated()
            } else {
                b
            };
            b.build().context("client certificate verifier")
        };
        let builder = match (t.client_auth_type.as_str(), ca.as_deref()) {
            ("" | "NoClientCert", _) => builder.with_no_client_auth(),
            ("VerifyClientCertIfGiven", Some(ca)) => {
                builder.with_client_cert_verifier(verifier(ca, true)?)
            }
            ("RequireAndVerifyClientCert", Some(ca)) => {
                builder.with_client_cert_verifier(verifier(ca, false)?)
            }
            ("VerifyClientCertIfGiven" | "RequireAndVerifyClientCert", None) => {
                anyhow::bail!("tls_server_config.client_auth_type needs client_ca_file")
            }
            (other, _) => anyhow::bail!(
                "tls_server_config.client_auth_type {other:?} is not supported \
                 (NoClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert)"
            ),
        };
        let mut cfg = builder
            .with_single_cert(certs, key)
            .context("tls_server_config: certificate and key")?;
        cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Some(Arc::new(cfg)))
    }
}

/// The cost field of a `$2a$`/`$2b$`/`$2y$` bcrypt hash.
fn bcrypt_cost(hash: &str) -> Option<u32> {
    let mut parts = hash.split('$');
    let (Some(""), Some(v), Some(cost), Some(rest)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    if !matches!(v, "2a" | "2b" | "2y") || rest.len() != 53 {
        return None;
    }
    cost.parse().ok()
}

/// Basic-auth checking with a cache of successful checks.
pub struct BasicAuth {
    users: BTreeMap<String, String>,
    salt: u64,
    ok: Mutex<HashMap<(String, u128), ()>>,
}

/// Successful checks remembered at most (the cache is emptied when full).
const CACHE_CAP: usize = 1024;

impl BasicAuth {
    /// Checks against `users` (name → bcrypt hash).
    pub fn new(users: BTreeMap<String, String>) -> Self {
        BasicAuth {
            users,
            salt: rand::random(),
            ok: Mutex::new(HashMap::new()),
        }
    }

    fn allowed(&self, user: &str, password: &str) -> bool {
        let Some(hash) = self.users.get(user) else {
            return false;
        };
        let key = (
            user.to_owned(),
            xxhash_rust::xxh3::xxh3_128_with_seed(password.as_bytes(), self.salt),
        );
        if self.ok.lock().contains_key(&key) {
            return true;
        }
        let ok = bcrypt::verify(password, hash).unwrap_or(false);
        if ok {
            let mut c = self.ok.lock();
            if c.len() >= CACHE_CAP {
                c.clear();
            }
            c.insert(key, ());
        }
        ok
    }
}

fn credentials(req: &Request) -> Option<(String, String)> {
    use base64::Engine as _;
    let v = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let b64 = v.strip_prefix("Basic ")?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let s = String::from_utf8(raw).ok()?;
    let (u, p) = s.split_once(':')?;
    Some((u.to_owned(), p.to_owned()))
}

/// Middleware: 401 with `WWW-Authenticate` unless the request's basic credentials match.
pub async fn require_basic_auth(
    State(auth): State<Arc<BasicAuth>>,
    req: Request,
    next: Next,
) -> Response {
    let ok = match credentials(&req) {
        // bcrypt is CPU-bound for tens of milliseconds: keep it off the async workers.
        Some((u, p)) => {
            let a = auth.clone();
            tokio::task::spawn_blocking(move || a.allowed(&u, &p))
                .await
                .unwrap_or(false)
        }
        None => false,
    };
    if ok {
        next.run(req).await
    } else {
        (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Basic")],
            "Unauthorized\n",
        )
            .into_response()
    }
}

/// Middleware: the configured response headers.
pub async fn add_headers(
    State(headers): State<Arc<Vec<(HeaderName, HeaderValue)>>>,
    req: Request,
    next: Next,
) -> Response {
    let mut resp = next.run(req).await;
    for (k, v) in headers.iter() {
        resp.headers_mut().insert(k.clone(), v.clone());
    }
    resp
}

/// Parses `http_server_config.headers`.
pub fn header_list(cfg: &WebConfig) -> anyhow::Result<Vec<(HeaderName, HeaderValue)>> {
    let mut out = Vec::new();
    if let Some(h) = &cfg.http_server_config {
        for (k, v) in &h.headers {
            out.push((
                HeaderName::try_from(k.as_str())
                    .with_context(|| format!("http_server_config.headers: {k:?}"))?,
                HeaderValue::try_from(v.as_str())
                    .with_context(|| format!("http_server_config.headers.{k}"))?,
            ));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bcrypt_hashes_are_recognised_and_checked() {
        let hash = bcrypt::hash("s3cret", 4).unwrap();
        assert_eq!(bcrypt_cost(&hash), Some(4));
        assert_eq!(bcrypt_cost("plain"), None);
        let a = BasicAuth::new([("alice".to_owned(), hash)].into());
        assert!(a.allowed("alice", "s3cret"));
        assert!(a.allowed("alice", "s3cret"), "from the cache");
        assert!(!a.allowed("alice", "wrong"));
        assert!(!a.allowed("bob", "s3cret"));
    }

    #[test]
    fn unknown_fields_and_bad_values_are_refused() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("web.yml");
        std::fs::write(&f, "tls_server_config:\n  certfile: x\n").unwrap();
        assert!(format!("{:#}", WebConfig::load(&f).unwrap_err()).contains("certfile"));
        std::fs::write(&f, "basic_auth_users:\n  alice: plaintext\n").unwrap();
        assert!(format!("{:#}", WebConfig::load(&f).unwrap_err()).contains("bcrypt"));
    }
}
