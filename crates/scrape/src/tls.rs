//! rustls client configuration for a scrape config's `tls_config`: CA, client
//! certificate, `server_name` and `insecure_skip_verify` (which reqwest's builder cannot
//! express together).

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use crate::config::TlsConfig;

fn read(inline: Option<&str>, file: Option<&str>, what: &str) -> Result<Option<Vec<u8>>, String> {
    if let Some(s) = inline {
        return Ok(Some(s.as_bytes().to_vec()));
    }
    match file {
        Some(f) => std::fs::read(f)
            .map(Some)
            .map_err(|e| format!("unable to read {what} file {f}: {e}")),
        None => Ok(None),
    }
}

/// Builds the rustls configuration, or `None` when `tls_config` is empty (the HTTP
/// client's defaults apply).
pub fn client_config(t: &TlsConfig) -> Result<Option<ClientConfig>, String> {
    if t.is_default() {
        return Ok(None);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let versions: Vec<&'static rustls::SupportedProtocolVersion> = {
        let min13 = t.min_version.as_deref() == Some("TLS13");
        let max12 = matches!(t.max_version.as_deref(), Some("TLS10" | "TLS11" | "TLS12"));
        let mut v = Vec::new();
        if !min13 {
            v.push(&rustls::version::TLS12);
        }
        if !max12 {
            v.push(&rustls::version::TLS13);
        }
        v
    };
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions)
        .map_err(|e| format!("TLS versions: {e}"))?;
    let mut roots = RootCertStore::empty();
    match read(t.ca.as_deref(), t.ca_file.as_deref(), "CA")? {
        Some(pem) => {
            for c in CertificateDer::pem_slice_iter(&pem) {
                let c = c.map_err(|e| format!("unable to parse CA certificate: {e}"))?;
                roots
                    .add(c)
                    .map_err(|e| format!("unable to use CA certificate: {e}"))?;
            }
            if roots.is_empty() {
                return Err("no CA certificate found in the CA PEM".into());
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let verifier: Arc<dyn ServerCertVerifier> = if t.insecure_skip_verify {
        Arc::new(SkipVerify(provider.clone()))
    } else {
        let inner = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|e| format!("TLS verifier: {e}"))?;
        match &t.server_name {
            Some(name) => {
                let name = ServerName::try_from(name.clone())
                    .map_err(|e| format!("invalid server_name {name:?}: {e}"))?;
                Arc::new(OverrideName { inner, name })
            }
            None => inner,
        }
    };
    let builder = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let key_pem = read(
        t.key.as_ref().map(|k| k.0.as_str()),
        t.key_file.as_deref(),
        "key",
    )?;
    let cert_pem = read(t.cert.as_deref(), t.cert_file.as_deref(), "certificate")?;
    let cfg = match (cert_pem, key_pem) {
        (Some(c), Some(k)) => {
            let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&c)
                .collect::<Result<_, _>>()
                .map_err(|e| format!("unable to parse client certificate: {e}"))?;
            let key = PrivateKeyDer::from_pem_slice(&k)
                .map_err(|e| format!("unable to parse client key: {e}"))?;
            builder
                .with_client_auth_cert(certs, key)
                .map_err(|e| format!("client certificate: {e}"))?
        }
        _ => builder.with_no_client_auth(),
    };
    Ok(Some(cfg))
}

/// Verifies the certificate against `server_name` instead of the URL's host.
#[derive(Debug)]
struct OverrideName {
    inner: Arc<WebPkiServerVerifier>,
    name: ServerName<'static>,
}

impl ServerCertVerifier for OverrideName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.inner
            .verify_server_cert(end_entity, intermediates, &self.name, ocsp, now)
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(m, c, d)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(m, c, d)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// `insecure_skip_verify`: accepts any certificate (the handshake signature is still
/// checked, so the peer must hold the key of the certificate it presents).
#[derive(Debug)]
struct SkipVerify(Arc<CryptoProvider>);

impl ServerCertVerifier for SkipVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(m, c, d, &self.0.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
