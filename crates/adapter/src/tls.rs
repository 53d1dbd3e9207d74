//! The adapter's TLS listener (`--adapter.listen-address`, default `:6443`).
//!
//! Aggregated API servers must serve HTTPS. With `--adapter.tls-cert-file` /
//! `--adapter.tls-private-key-file` the given pair is used; without them a self-signed
//! certificate is generated at start, as extension API servers do (the `APIService` then
//! needs `insecureSkipTLSVerify: true` or the matching `caBundle`).
//!
//! With a client CA (`--requestheader-client-ca-file`, or the cluster's
//! `extension-apiserver-authentication` ConfigMap), client certificates are verified
//! during the handshake; connections without a certificate are still accepted and left
//! to [`crate::auth`] (bearer tokens, anonymous).

use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use axum::Router;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;
use tracing::{debug, info};

use crate::auth::{subject_common_name, PeerIdentity};
use crate::error::AdapterError;

/// How long a client may take to finish the TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Certificates and client verification of the listener.
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// PEM certificate chain; with `key_pem`. `None` generates a self-signed pair.
    pub cert_pem: Option<Vec<u8>>,
    /// PEM private key.
    pub key_pem: Option<Vec<u8>>,
    /// PEM bundle of CAs whose client certificates are accepted (front-proxy CA).
    pub client_ca_pem: Option<Vec<u8>>,
    /// DNS names / IPs for a generated certificate (defaults: localhost, 127.0.0.1).
    pub self_signed_names: Vec<String>,
}

fn tls_err(what: &str, e: impl std::fmt::Display) -> AdapterError {
    AdapterError::Tls(format!("{what}: {e}"))
}

impl TlsOptions {
    /// Reads the cert/key pair and client CA from files.
    pub fn from_files(
        cert: Option<&Path>,
        key: Option<&Path>,
        client_ca: Option<&Path>,
    ) -> Result<Self, AdapterError> {
        let read = |p: &Path| std::fs::read(p).map_err(|e| tls_err(&p.display().to_string(), e));
        if cert.is_some() != key.is_some() {
            return Err(AdapterError::Tls(
                "a certificate file needs a private key file and vice versa".to_owned(),
            ));
        }
        Ok(Self {
            cert_pem: cert.map(read).transpose()?,
            key_pem: key.map(read).transpose()?,
            client_ca_pem: client_ca.map(read).transpose()?,
            self_signed_names: Vec::new(),
        })
    }
}

/// A self-signed certificate and key (PEM) for `names`.
pub fn self_signed(names: &[String]) -> Result<(String, String), AdapterError> {
    let names = if names.is_empty() {
        vec!["localhost".to_owned(), "127.0.0.1".to_owned()]
    } else {
        names.to_vec()
    };
    let key = rcgen::KeyPair::generate().map_err(|e| tls_err("generating key", e))?;
    let mut params =
        rcgen::CertificateParams::new(names).map_err(|e| tls_err("certificate names", e))?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "argus-adapter");
    let cert = params
        .self_signed(&key)
        .map_err(|e| tls_err("self-signing certificate", e))?;
    Ok((cert.pem(), key.serialize_pem()))
}

fn parse_certs(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, AdapterError> {
    use rustls::pki_types::pem::PemObject;
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| tls_err(what, e))?;
    if certs.is_empty() {
        return Err(tls_err(what, "no PEM certificate found"));
    }
    Ok(certs)
}

/// Builds the rustls server configuration.
pub fn server_config(opts: &TlsOptions) -> Result<Arc<ServerConfig>, AdapterError> {
    use rustls::pki_types::pem::PemObject;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let (cert_pem, key_pem) = match (&opts.cert_pem, &opts.key_pem) {
        (Some(c), Some(k)) => (c.clone(), k.clone()),
        _ => {
            let (c, k) = self_signed(&opts.self_signed_names)?;
            info!("Adapter serving a generated self-signed certificate.");
            (c.into_bytes(), k.into_bytes())
        }
    };
    let certs = parse_certs(&cert_pem, "serving certificate")?;
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| tls_err("private key", e))?;
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_err("protocol versions", e))?;
    let builder = match &opts.client_ca_pem {
        None => builder.with_no_client_auth(),
        Some(pem) => {
            let mut roots = RootCertStore::empty();
            for c in parse_certs(pem, "client CA bundle")? {
                roots.add(c).map_err(|e| tls_err("client CA bundle", e))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .allow_unauthenticated()
                .build()
                .map_err(|e| tls_err("client verifier", e))?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut cfg = builder
        .with_single_cert(certs, key)
        .map_err(|e| tls_err("serving certificate and key", e))?;
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(cfg))
}

/// Serves `router` over TLS on `listener` until `shutdown` completes. Each request carries
/// the connection's [`PeerIdentity`] in its extensions.
pub async fn serve_tls(
    listener: TcpListener,
    tls: Arc<ServerConfig>,
    router: Router,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), AdapterError> {
    let acceptor = TlsAcceptor::from(tls);
    tokio::pin!(shutdown);
    loop {
        let (tcp, remote) = tokio::select! {
            _ = &mut shutdown => return Ok(()),
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    debug!(error = %e, "Adapter accept failed.");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let acceptor = acceptor.clone();
        let router = router.clone();
        tokio::spawn(async move {
            let tls = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(s)) => s,
                Ok(Err(e)) => {
                    debug!(%remote, error = %e, "Adapter TLS handshake failed.");
                    return;
                }
                Err(_) => {
                    debug!(%remote, "Adapter TLS handshake timed out.");
                    return;
                }
            };
            let peer = {
                let (_, conn) = tls.get_ref();
                match conn.peer_certificates().and_then(|c| c.first()) {
                    Some(cert) => PeerIdentity {
                        common_name: subject_common_name(cert),
                        verified_cert: true,
                    },
                    None => PeerIdentity::default(),
                }
            };
            let svc = router.map_request(move |mut req: Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(peer.clone());
                req
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tls), TowerToHyperService::new(svc));
            if let Err(e) = conn.await {
                debug!(%remote, error = %e, "Adapter connection ended with an error.");
            }
        });
    }
}

/// Binds `addr` and serves until `shutdown`; the common case for the server binary.
pub async fn bind_and_serve(
    addr: std::net::SocketAddr,
    tls: &TlsOptions,
    router: Router,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), AdapterError> {
    let cfg = server_config(tls)?;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| AdapterError::Internal(format!("binding adapter listener {addr}: {e}")))?;
    info!(%addr, "Kubernetes metrics APIs listening (TLS).");
    serve_tls(listener, cfg, router, shutdown).await
}
