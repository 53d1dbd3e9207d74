//! Fetching a target's metrics over HTTP: content negotiation, authentication, TLS,
//! gzip, the scrape timeout and `body_size_limit`.

use std::time::Duration;

use reqwest::header::{
    HeaderMap, HeaderValue, ACCEPT, ACCEPT_ENCODING, AUTHORIZATION, CONTENT_TYPE, USER_AGENT,
};
use reqwest::Url;

use crate::config::{HttpClientConfig, ScrapeConfig, ScrapeProtocol};
use crate::parse::{accept_header, format_for_content_type, Format};
use crate::tls;

/// User-Agent of scrapes.
pub const USER_AGENT_VALUE: &str = concat!("Argus/", env!("CARGO_PKG_VERSION"));

/// The HTTP side of a scrape pool (one client, shared by its targets).
pub(crate) struct HttpScraper {
    client: reqwest::Client,
    http: HttpClientConfig,
    accept: HeaderValue,
    compression: bool,
    body_limit: u64,
    fallback: Option<ScrapeProtocol>,
}

/// A fetched body and its format.
pub(crate) struct Fetched {
    pub body: Vec<u8>,
    pub format: Format,
}

/// Why a fetch failed: the error text, and whether it was the body size limit.
pub(crate) struct FetchError {
    pub msg: String,
    pub body_limit: bool,
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(c) = src {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        src = c.source();
    }
    s
}

/// A failed request described the way Prometheus' `lastError` reads (Go's net/http):
/// `Get "http://h:9100/metrics": dial tcp h:9100: connect: connection refused`, so
/// dashboards and alert annotations that match on those words keep working.
fn send_error(url: &Url, e: &reqwest::Error) -> String {
    let mut io = None;
    let mut src: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = src {
        if let Some(x) = c.downcast_ref::<std::io::Error>() {
            io = Some(x);
        }
        src = c.source();
    }
    let host = url.host_str().unwrap_or("");
    let addr = match url.port_or_known_default() {
        Some(p) if host.contains(':') => format!("[{host}]:{p}"),
        Some(p) => format!("{host}:{p}"),
        None => host.to_owned(),
    };
    let chain = error_chain(e);
    if e.is_connect() {
        if chain.contains("dns error") || chain.contains("failed to lookup address") {
            return format!(
                "Get {:?}: dial tcp: lookup {host}: no such host",
                url.as_str()
            );
        }
        if let Some(io) = io {
            use std::io::ErrorKind as K;
            let what = match io.kind() {
                K::ConnectionRefused => "connection refused".to_owned(),
                K::ConnectionReset => "connection reset by peer".to_owned(),
                K::TimedOut => "i/o timeout".to_owned(),
                K::HostUnreachable => "no route to host".to_owned(),
                K::NetworkUnreachable => "network is unreachable".to_owned(),
                _ => {
                    let t = io.to_string();
                    t.split(" (os error").next().unwrap_or(&t).to_lowercase()
                }
            };
            return format!("Get {:?}: dial tcp {addr}: connect: {what}", url.as_str());
        }
    }
    format!("Get {:?}: {chain}", url.as_str())
}

impl HttpScraper {
    pub fn new(cfg: &ScrapeConfig) -> Result<Self, String> {
        let http = cfg.http_client();
        let mut b = reqwest::Client::builder()
            .redirect(if http.follow_redirects {
                reqwest::redirect::Policy::limited(10)
            } else {
                reqwest::redirect::Policy::none()
            })
            .pool_idle_timeout(Duration::from_secs(90));
        if !cfg.enable_compression {
            b = b.no_gzip();
        }
        if let Some(tls) = tls::client_config(&http.tls_config)? {
            b = b.use_preconfigured_tls(tls);
        }
        let client = b.build().map_err(|e| error_chain(&e))?;
        let accept = HeaderValue::from_str(&accept_header(cfg.protocols()))
            .map_err(|e| format!("invalid Accept header: {e}"))?;
        Ok(HttpScraper {
            client,
            http,
            accept,
            compression: cfg.enable_compression,
            body_limit: cfg.body_size_limit_bytes(),
            fallback: cfg.fallback_scrape_protocol,
        })
    }

    fn auth_header(&self) -> Result<Option<HeaderValue>, String> {
        let read = |f: &str| {
            std::fs::read_to_string(f)
                .map(|s| s.trim().to_owned())
                .map_err(|e| format!("unable to read file {f}: {e}"))
        };
        if let Some(a) = &self.http.authorization {
            // Files are re-read on every scrape so rotated tokens are picked up.
            let creds = match (&a.credentials, &a.credentials_file) {
                (Some(c), _) => c.0.clone(),
                (None, Some(f)) => read(f)?,
                (None, None) => String::new(),
            };
            let v = format!("{} {creds}", a.kind);
            return HeaderValue::from_str(&v)
                .map(Some)
                .map_err(|_| "invalid authorization credentials".to_owned());
        }
        if let Some(b) = &self.http.basic_auth {
            let user = match &b.username_file {
                Some(f) => read(f)?,
                None => b.username.clone(),
            };
            let pass = match (&b.password, &b.password_file) {
                (Some(p), _) => p.0.clone(),
                (None, Some(f)) => read(f)?,
                (None, None) => String::new(),
            };
            let v = format!("Basic {}", base64(format!("{user}:{pass}").as_bytes()));
            return HeaderValue::from_str(&v)
                .map(Some)
                .map_err(|_| "invalid basic auth credentials".to_owned());
        }
        Ok(None)
    }

    /// GETs `url` within `timeout` and reads at most `body_size_limit` bytes.
    pub async fn fetch(&self, url: &Url, timeout: Duration) -> Result<Fetched, FetchError> {
        let plain = |msg: String| FetchError {
            msg,
            body_limit: false,
        };
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, self.accept.clone());
        headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
        if !self.compression {
            headers.insert(ACCEPT_ENCODING, HeaderValue::from_static("identity"));
        }
        if let Ok(v) = HeaderValue::from_str(&format!("{}", timeout.as_secs_f64())) {
            headers.insert("X-Prometheus-Scrape-Timeout-Seconds", v);
        }
        if let Some(a) = self.auth_header().map_err(plain)? {
            headers.insert(AUTHORIZATION, a);
        }
        let req = self.client.get(url.clone()).headers(headers);
        let work = async {
            let mut resp = req.send().await.map_err(|e| plain(send_error(url, &e)))?;
            let status = resp.status();
            if !status.is_success() {
                return Err(plain(format!("server returned HTTP status {status}")));
            }
            let ct = resp
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let format = format_for_content_type(ct.as_deref(), self.fallback).map_err(plain)?;
            let mut body =
                Vec::with_capacity(resp.content_length().unwrap_or(0).min(16 << 20) as usize);
            while let Some(chunk) = resp
                .chunk()
                .await
                .map_err(|e| plain(format!("reading body: {}", error_chain(&e))))?
            {
                if self.body_limit > 0 && (body.len() + chunk.len()) as u64 > self.body_limit {
                    return Err(FetchError {
                        msg: format!(
                            "body size limit exceeded (limit: {} bytes)",
                            self.body_limit
                        ),
                        body_limit: true,
                    });
                }
                body.extend_from_slice(&chunk);
            }
            Ok(Fetched { body, format })
        };
        match tokio::time::timeout(timeout, work).await {
            Ok(r) => r,
            Err(_) => Err(plain(format!(
                "Get {:?}: context deadline exceeded (scrape timeout {}s)",
                url.as_str(),
                timeout.as_secs_f64()
            ))),
        }
    }
}

/// Standard base64 (for Basic authorization).
fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let b = [
            c.first().copied().unwrap_or(0),
            c.get(1).copied().unwrap_or(0),
            c.get(2).copied().unwrap_or(0),
        ];
        let [b0, b1, b2] = b;
        let n = (u32::from(b0) << 16) | (u32::from(b1) << 8) | u32::from(b2);
        for (i, shift) in [18u32, 12, 6, 0].iter().enumerate() {
            if i <= c.len() {
                out.push(char::from(
                    T.get(((n >> shift) & 63) as usize).copied().unwrap_or(b'='),
                ));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(super::base64(b""), "");
        assert_eq!(super::base64(b"f"), "Zg==");
        assert_eq!(super::base64(b"fo"), "Zm8=");
        assert_eq!(super::base64(b"foo"), "Zm9v");
        assert_eq!(super::base64(b"user:pass"), "dXNlcjpwYXNz");
    }

    #[tokio::test]
    async fn connection_errors_read_like_prometheus() {
        // A port nothing listens on: bind, note it, close.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = super::Url::parse(&format!("http://127.0.0.1:{port}/metrics")).unwrap();
        let e = reqwest::get(url.clone()).await.unwrap_err();
        assert_eq!(
            super::send_error(&url, &e),
            format!("Get \"http://127.0.0.1:{port}/metrics\": dial tcp 127.0.0.1:{port}: connect: connection refused")
        );
    }
}
