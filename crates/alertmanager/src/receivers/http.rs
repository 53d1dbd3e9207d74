//! HTTP clients from Prometheus' common `http_config`: TLS (CA, client certificate,
//! server name check, `insecure_skip_verify`), proxy, redirects, and the authentication
//! headers (basic auth, `authorization`, legacy bearer token), with `*_file` secrets read
//! at every request so that rotated credentials are picked up.

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION};

use crate::config::{HttpClientConfig, TlsConfig};

fn read_file(path: &str) -> Result<String, String> {
    std::fs::read_to_string(path)
        .map(|s| s.trim().to_owned())
        .map_err(|e| format!("reading {path}: {e}"))
}

fn tls_pem(inline: &str, file: &str) -> Result<Option<Vec<u8>>, String> {
    if !inline.is_empty() {
        return Ok(Some(inline.as_bytes().to_vec()));
    }
    if !file.is_empty() {
        return std::fs::read(file)
            .map(Some)
            .map_err(|e| format!("reading {file}: {e}"));
    }
    Ok(None)
}

fn apply_tls(
    mut b: reqwest::ClientBuilder,
    t: &TlsConfig,
) -> Result<reqwest::ClientBuilder, String> {
    if let Some(ca) = tls_pem(&t.ca, &t.ca_file)? {
        for cert in reqwest::Certificate::from_pem_bundle(&ca).map_err(|e| format!("CA: {e}"))? {
            b = b.add_root_certificate(cert);
        }
    }
    let cert = tls_pem(&t.cert, &t.cert_file)?;
    let key = tls_pem(t.key.expose(), &t.key_file)?;
    if let (Some(mut c), Some(k)) = (cert, key) {
        c.push(b'\n');
        c.extend_from_slice(&k);
        b = b.identity(reqwest::Identity::from_pem(&c).map_err(|e| format!("client cert: {e}"))?);
    }
    if t.insecure_skip_verify {
        b = b.danger_accept_invalid_certs(true);
    }
    match t.min_version.as_str() {
        "TLS13" => b = b.min_tls_version(reqwest::tls::Version::TLS_1_3),
        "TLS12" | "" => {}
        other => return Err(format!("unsupported min_version {other:?}")),
    }
    Ok(b)
}

/// Builds a client for `cfg` (connection settings only; auth headers come per request).
pub fn client(
    cfg: Option<&HttpClientConfig>,
    timeout: Duration,
) -> Result<reqwest::Client, String> {
    let mut b = reqwest::Client::builder()
        .timeout(timeout)
        .user_agent(concat!(
            "Alertmanager/0.27.0 (Argus ",
            env!("CARGO_PKG_VERSION"),
            ")"
        ));
    if let Some(c) = cfg {
        if c.follow_redirects == Some(false) {
            b = b.redirect(reqwest::redirect::Policy::none());
        }
        if let Some(p) = c.proxy_url.as_deref().filter(|p| !p.is_empty()) {
            let mut proxy = reqwest::Proxy::all(p).map_err(|e| format!("proxy_url: {e}"))?;
            if let Some(np) = c.no_proxy.as_deref() {
                proxy = proxy.no_proxy(reqwest::NoProxy::from_string(np));
            }
            b = b.proxy(proxy);
        } else if c.proxy_from_environment != Some(true) {
            b = b.no_proxy();
        }
        if let Some(t) = &c.tls_config {
            b = apply_tls(b, t)?;
        }
    } else {
        b = b.no_proxy();
    }
    b.build().map_err(|e| e.to_string())
}

/// The authentication and extra headers of a request.
pub fn headers(cfg: Option<&HttpClientConfig>) -> Result<HeaderMap, String> {
    let mut h = HeaderMap::new();
    let Some(c) = cfg else {
        return Ok(h);
    };
    let auth = if let Some(ba) = &c.basic_auth {
        let user = if ba.username_file.is_empty() {
            ba.username.clone()
        } else {
            read_file(&ba.username_file)?
        };
        let pass = if ba.password_file.is_empty() {
            ba.password.expose().to_owned()
        } else {
            read_file(&ba.password_file)?
        };
        Some(format!(
            "Basic {}",
            base64(format!("{user}:{pass}").as_bytes())
        ))
    } else if let Some(a) = &c.authorization {
        let kind = if a.kind.is_empty() { "Bearer" } else { &a.kind };
        let cred = if a.credentials_file.is_empty() {
            a.credentials.expose().to_owned()
        } else {
            read_file(&a.credentials_file)?
        };
        Some(format!("{kind} {cred}"))
    } else if !c.bearer_token.is_empty() {
        Some(format!("Bearer {}", c.bearer_token.expose()))
    } else if !c.bearer_token_file.is_empty() {
        Some(format!("Bearer {}", read_file(&c.bearer_token_file)?))
    } else {
        None
    };
    if let Some(a) = auth {
        h.insert(
            AUTHORIZATION,
            HeaderValue::from_str(&a).map_err(|_| "invalid authorization header".to_owned())?,
        );
    }
    if let Some(extra) = &c.http_headers {
        for (name, vals) in extra {
            let n = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("invalid header name {name:?}"))?;
            let mut all: Vec<String> = vals.values.clone();
            all.extend(vals.secrets.iter().map(|s| s.expose().to_owned()));
            for f in &vals.files {
                all.push(read_file(f)?);
            }
            for v in all {
                h.append(
                    n.clone(),
                    HeaderValue::from_str(&v).map_err(|_| format!("invalid value for {name}"))?,
                );
            }
        }
    }
    Ok(h)
}

/// Standard base64 with padding.
pub fn base64(input: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk.first().copied().unwrap_or(0),
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let idx = |s: u32| char::from(T.get(((n >> s) & 63) as usize).copied().unwrap_or(b'='));
        out.push(idx(18));
        out.push(idx(12));
        out.push(if chunk.len() > 1 { idx(6) } else { '=' });
        out.push(if chunk.len() > 2 { idx(0) } else { '=' });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Authorization, BasicAuth, Secret};

    #[test]
    fn auth_headers() {
        assert_eq!(base64(b"user:pass"), "dXNlcjpwYXNz");
        assert_eq!(base64(b"a"), "YQ==");
        let c = HttpClientConfig {
            basic_auth: Some(BasicAuth {
                username: "user".into(),
                password: Secret("pass".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(
            headers(Some(&c)).unwrap()[AUTHORIZATION],
            "Basic dXNlcjpwYXNz"
        );
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("tok");
        std::fs::write(&f, "s3cret\n").unwrap();
        let c = HttpClientConfig {
            authorization: Some(Authorization {
                kind: String::new(),
                credentials: Secret::default(),
                credentials_file: f.display().to_string(),
            }),
            ..Default::default()
        };
        assert_eq!(headers(Some(&c)).unwrap()[AUTHORIZATION], "Bearer s3cret");
        assert!(client(Some(&c), Duration::from_secs(1)).is_ok());
    }
}
