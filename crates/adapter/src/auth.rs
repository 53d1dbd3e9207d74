//! Client authentication, the way aggregated API servers do it.
//!
//! The Kubernetes aggregator proxies requests with a *front-proxy client certificate*
//! (signed by the request-header client CA) and names the real user in headers
//! (`X-Remote-User`, `X-Remote-Group`). Extension API servers trust those headers only
//! from a connection whose certificate that CA verified and, when
//! `requestheader-allowed-names` is set, whose common name is listed.
//!
//! Order of checks per request:
//! 1. a verified client certificate (checked by TLS against the client CA) with an allowed
//!    CN: the user is taken from the username headers; without them, and for certificates
//!    whose CN is not an allowed front-proxy name, the CN itself is the user when
//!    `client_cert_users` is on (x509 users, like `--client-ca-file`), else `401`;
//! 2. `Authorization: Bearer <token>`: a `TokenReview` against the cluster's API server,
//!    when running in a cluster;
//! 3. anonymous, if `allow_anonymous`;
//!
//! otherwise `401` with a `Status` body. `/healthz`, `/livez` and `/readyz` are always
//! open, as they are on every API server, for kubelet probes.
//!
//! Authorization follows in [`crate::authz`]: a `SubjectAccessReview` per request when
//! running in a cluster, so RBAC applies even to clients that bypass the aggregator.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::AdapterError;
use crate::kube::{KubeClient, UserInfo};
use crate::state::AdapterState;

/// Authentication settings.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// Client certificate CNs allowed to assert identities (`--requestheader-allowed-names`);
    /// empty allows any certificate the client CA signed.
    pub allowed_names: Vec<String>,
    /// Headers naming the user (`--requestheader-username-headers`).
    pub username_headers: Vec<String>,
    /// Headers naming the groups (`--requestheader-group-headers`).
    pub group_headers: Vec<String>,
    /// Verified client certificates that don't act as a front proxy authenticate as
    /// their subject CN (x509 users, e.g. `kubectl` with a client certificate).
    pub client_cert_users: bool,
    /// Accept requests that present no credentials.
    pub allow_anonymous: bool,
    /// Where bearer tokens are reviewed (in-cluster API server).
    pub token_reviewer: Option<Arc<KubeClient>>,
    /// Where requests are authorized (`SubjectAccessReview`, in-cluster API server);
    /// `None` allows every authenticated request.
    pub authorizer: Option<Arc<crate::authz::Authorizer>>,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            allowed_names: Vec::new(),
            username_headers: vec!["X-Remote-User".to_owned()],
            group_headers: vec!["X-Remote-Group".to_owned()],
            client_cert_users: false,
            allow_anonymous: false,
            token_reviewer: None,
            authorizer: None,
        }
    }
}

impl AuthConfig {
    /// Everyone is let in (tests, local use behind other protection).
    pub fn anonymous() -> Self {
        Self {
            allow_anonymous: true,
            ..Self::default()
        }
    }
}

/// The TLS peer of a connection, put in every request's extensions by
/// [`crate::tls::serve_tls`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerIdentity {
    /// Subject CN of a client certificate the client CA verified.
    pub common_name: Option<String>,
    /// True if the client presented a verified certificate (even without a CN).
    pub verified_cert: bool,
}

/// Who made a request; handlers may read it from the extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// Authenticated user.
    User(UserInfo),
    /// No credentials, allowed by `allow_anonymous`.
    Anonymous,
}

fn header_values(req: &Request, names: &[String]) -> Vec<String> {
    names
        .iter()
        .flat_map(|n| req.headers().get_all(n.as_str()).iter())
        .filter_map(|v| v.to_str().ok())
        .map(str::to_owned)
        .filter(|v| !v.is_empty())
        .collect()
}

fn unauthorized(msg: &str) -> Response {
    AdapterError::Unauthorized(msg.to_owned()).into_response()
}

/// Axum middleware enforcing [`AuthConfig`].
pub async fn authenticate(
    State(state): State<AdapterState>,
    mut req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path();
    if matches!(path, "/healthz" | "/livez" | "/readyz") {
        return next.run(req).await;
    }
    let cfg = &state.0.auth;
    let peer = req
        .extensions()
        .get::<PeerIdentity>()
        .cloned()
        .unwrap_or_default();
    if peer.verified_cert {
        let is_proxy = cfg.allowed_names.is_empty()
            || peer
                .common_name
                .as_ref()
                .is_some_and(|cn| cfg.allowed_names.iter().any(|a| a == cn));
        let header_user = is_proxy
            .then(|| {
                header_values(&req, &cfg.username_headers)
                    .into_iter()
                    .next()
            })
            .flatten();
        let user = match header_user {
            Some(u) => Some(UserInfo {
                username: u,
                groups: header_values(&req, &cfg.group_headers),
            }),
            None if cfg.client_cert_users => peer.common_name.clone().map(|cn| UserInfo {
                username: cn,
                groups: Vec::new(),
            }),
            None => None,
        };
        if let Some(user) = user {
            req.extensions_mut().insert(Identity::User(user));
            return next.run(req).await;
        }
        if cfg.token_reviewer.is_none() && !cfg.allow_anonymous {
            return unauthorized(if is_proxy {
                "Unauthorized: front-proxy request without a user header"
            } else {
                "Unauthorized: client certificate common name is not allowed"
            });
        }
    }
    let bearer = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty());
    if let (Some(token), Some(reviewer)) = (bearer.as_ref(), cfg.token_reviewer.as_ref()) {
        return match reviewer.token_review(token).await {
            Ok(Some(user)) => {
                req.extensions_mut().insert(Identity::User(user));
                next.run(req).await
            }
            Ok(None) => unauthorized("Unauthorized"),
            Err(e) => {
                tracing::warn!(error = %e, "TokenReview failed.");
                unauthorized("Unauthorized: token review failed")
            }
        };
    }
    if cfg.allow_anonymous {
        req.extensions_mut().insert(Identity::Anonymous);
        return next.run(req).await;
    }
    unauthorized("Unauthorized")
}

/// Reads one DER TLV at the start of `b`: (tag, contents, rest).
fn der_tlv(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = b.split_first()?;
    let (&l0, mut rest) = rest.split_first()?;
    let len = if l0 < 0x80 {
        usize::from(l0)
    } else {
        let n = usize::from(l0 & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let (lb, r) = rest.split_at_checked(n)?;
        rest = r;
        lb.iter()
            .fold(0usize, |acc, &x| (acc << 8) | usize::from(x))
    };
    let (content, rest) = rest.split_at_checked(len)?;
    Some((tag, content, rest))
}

/// The subject common name of a DER certificate (the first CN attribute), if any.
pub fn subject_common_name(cert_der: &[u8]) -> Option<String> {
    const CN_OID: &[u8] = &[0x55, 0x04, 0x03];
    let (_, cert, _) = der_tlv(cert_der).filter(|(t, ..)| *t == 0x30)?;
    let (_, tbs, _) = der_tlv(cert).filter(|(t, ..)| *t == 0x30)?;
    let mut rest = tbs;
    // [0] version (optional), serial, signature algorithm, issuer, validity, subject.
    if rest.first() == Some(&0xa0) {
        rest = der_tlv(rest)?.2;
    }
    for _ in 0..4 {
        rest = der_tlv(rest)?.2;
    }
    let (_, mut subject, _) = der_tlv(rest).filter(|(t, ..)| *t == 0x30)?;
    while !subject.is_empty() {
        let (_, mut rdn, next) = der_tlv(subject)?;
        subject = next;
        while !rdn.is_empty() {
            let (_, atv, next) = der_tlv(rdn)?;
            rdn = next;
            let (oid_tag, oid, value) = der_tlv(atv)?;
            if oid_tag == 0x06 && oid == CN_OID {
                let (_, v, _) = der_tlv(value)?;
                return Some(String::from_utf8_lossy(v).into_owned());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_common_names_from_certificates() {
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::OrganizationName, "system:masters");
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "front-proxy-client");
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        assert_eq!(
            subject_common_name(cert.der()).as_deref(),
            Some("front-proxy-client")
        );
        // Garbage never panics.
        for n in 0..cert.der().len() {
            let _ = subject_common_name(&cert.der()[..n]);
        }
        assert_eq!(
            subject_common_name(&[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]),
            None
        );
        assert_eq!(subject_common_name(&[]), None);
    }
}
