//! The HTTP side of a queue: one `POST` per batch, and what to do with the answer.
//!
//! Classification follows Prometheus (`storage/remote/client.go` `Store`): 2xx is success;
//! 5xx, network errors and timeouts are recoverable and retried with exponential backoff
//! from `min_backoff` to `max_backoff`, honouring `Retry-After`; 429 is recoverable only
//! with `retry_on_http_429`; every other status drops the batch, which is counted as failed.

use std::time::{Duration, SystemTime};

use argus_scrape::config::HttpClientConfig;
use reqwest::header::{
    HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, USER_AGENT,
};

use crate::config::RemoteWriteConfig;

/// User-Agent of remote-write requests.
pub const USER_AGENT_VALUE: &str = concat!("Argus/", env!("CARGO_PKG_VERSION"));

/// The remote-write protocol version header value.
pub const REMOTE_WRITE_VERSION: &str = "0.1.0";

/// How much of an error response body is kept for the log.
const ERROR_BODY_LIMIT: usize = 512;

/// What became of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The receiver accepted the batch.
    Sent,
    /// Try again after the backoff, or after `after` when the receiver said so.
    Retry {
        /// `Retry-After`, when given.
        after: Option<Duration>,
        /// Status or error, for the log.
        reason: String,
    },
    /// Give up on this batch.
    Drop {
        /// Status and body, for the log.
        reason: String,
    },
}

/// Classifies an HTTP status (the body only feeds the log).
pub fn classify(
    status: u16,
    retry_on_http_429: bool,
    retry_after: Option<&str>,
    body: &str,
    now: SystemTime,
) -> Outcome {
    let reason = || {
        let line = body.lines().next().unwrap_or("").trim();
        if line.is_empty() {
            format!("server returned HTTP status {status}")
        } else {
            format!("server returned HTTP status {status}: {line}")
        }
    };
    match status {
        200..=299 => Outcome::Sent,
        500..=599 => Outcome::Retry {
            after: retry_after.and_then(|v| parse_retry_after(v, now)),
            reason: reason(),
        },
        429 if retry_on_http_429 => Outcome::Retry {
            after: retry_after.and_then(|v| parse_retry_after(v, now)),
            reason: reason(),
        },
        _ => Outcome::Drop { reason: reason() },
    }
}

/// `Retry-After` as delay-seconds or an HTTP date.
pub fn parse_retry_after(v: &str, now: SystemTime) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let at = SystemTime::UNIX_EPOCH.checked_add(Duration::from_millis(
        u64::try_from(at.timestamp_millis()).ok()?,
    ))?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Exponential backoff between `min` and `max`.
#[derive(Debug, Clone)]
pub struct Backoff {
    next: Duration,
    min: Duration,
    max: Duration,
}

impl Backoff {
    /// Starts at `min`.
    pub fn new(min: Duration, max: Duration) -> Self {
        Backoff {
            next: min,
            min,
            max: max.max(min),
        }
    }

    /// The delay before the next attempt; `retry_after` from the receiver replaces the
    /// computed delay for this attempt (capped by a sanity limit) without resetting the
    /// progression.
    pub fn delay(&mut self, retry_after: Option<Duration>) -> Duration {
        let computed = self.next;
        self.next = (self.next * 2).clamp(self.min, self.max);
        match retry_after {
            // A receiver asking for hours is obeyed up to 15 minutes: a queue that stops
            // for longer only builds up a backlog it cannot clear.
            Some(d) => d.min(Duration::from_secs(900)),
            None => computed,
        }
    }
}

/// The HTTP client of one queue.
pub struct Client {
    http: reqwest::Client,
    url: reqwest::Url,
    headers: HeaderMap,
    auth: HttpClientConfig,
    retry_on_http_429: bool,
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

impl Client {
    /// Builds the client of `cfg`: TLS, proxy, redirects, timeout, static headers.
    pub fn new(cfg: &RemoteWriteConfig) -> Result<Client, String> {
        let auth = cfg.http_client();
        let mut b = reqwest::Client::builder()
            .timeout(cfg.remote_timeout.to_std())
            .redirect(if cfg.follow_redirects {
                reqwest::redirect::Policy::limited(10)
            } else {
                reqwest::redirect::Policy::none()
            })
            .pool_idle_timeout(Duration::from_secs(90))
            .no_gzip();
        if let Some(tls) = argus_scrape::tls::client_config(&auth.tls_config)? {
            b = b.use_preconfigured_tls(tls);
        }
        if let Some(p) = &cfg.proxy_url {
            b = b.proxy(reqwest::Proxy::all(p).map_err(|e| error_chain(&e))?);
        }
        let http = b.build().map_err(|e| error_chain(&e))?;
        let url = reqwest::Url::parse(&cfg.url).map_err(|e| format!("invalid url: {e}"))?;
        let mut headers = HeaderMap::new();
        for (k, v) in &cfg.headers {
            let name = HeaderName::from_bytes(k.as_bytes())
                .map_err(|_| format!("invalid header name {k:?}"))?;
            let value =
                HeaderValue::from_str(v).map_err(|_| format!("invalid header value {v:?}"))?;
            headers.insert(name, value);
        }
        headers.insert(CONTENT_ENCODING, HeaderValue::from_static("snappy"));
        headers.insert(
            CONTENT_TYPE,
            HeaderValue::from_static("application/x-protobuf"),
        );
        headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
        headers.insert(
            "X-Prometheus-Remote-Write-Version",
            HeaderValue::from_static(REMOTE_WRITE_VERSION),
        );
        Ok(Client {
            http,
            url,
            headers,
            auth,
            retry_on_http_429: cfg.queue_config.retry_on_http_429,
        })
    }

    /// The `Authorization` header; credential files are re-read on every request so
    /// rotated tokens are picked up, as Prometheus does.
    fn auth_header(&self) -> Result<Option<HeaderValue>, String> {
        let read = |f: &str| {
            std::fs::read_to_string(f)
                .map(|s| s.trim().to_owned())
                .map_err(|e| format!("unable to read file {f}: {e}"))
        };
        if let Some(a) = &self.auth.authorization {
            let creds = match (&a.credentials, &a.credentials_file) {
                (Some(c), _) => c.0.clone(),
                (None, Some(f)) => read(f)?,
                (None, None) => String::new(),
            };
            return HeaderValue::from_str(&format!("{} {creds}", a.kind))
                .map(Some)
                .map_err(|_| "invalid authorization credentials".to_owned());
        }
        if let Some(b) = &self.auth.basic_auth {
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

    /// POSTs one compressed `WriteRequest`.
    pub async fn send(&self, body: bytes::Bytes) -> Outcome {
        let mut headers = self.headers.clone();
        match self.auth_header() {
            Ok(Some(v)) => {
                headers.insert(AUTHORIZATION, v);
            }
            Ok(None) => {}
            // A credentials file that cannot be read now may be restored: retry.
            Err(reason) => {
                return Outcome::Retry {
                    after: None,
                    reason,
                }
            }
        }
        let resp = match self
            .http
            .post(self.url.clone())
            .headers(headers)
            .body(body)
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) => {
                return Outcome::Retry {
                    after: None,
                    reason: error_chain(&e),
                }
            }
        };
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = if (200..300).contains(&status) {
            // Drained so the connection goes back to the pool.
            let _ = resp.bytes().await;
            String::new()
        } else {
            read_prefix(resp).await
        };
        classify(
            status,
            self.retry_on_http_429,
            retry_after.as_deref(),
            &body,
            SystemTime::now(),
        )
    }
}

async fn read_prefix(mut resp: reqwest::Response) -> String {
    let mut out = Vec::new();
    while out.len() < ERROR_BODY_LIMIT {
        match resp.chunk().await {
            Ok(Some(c)) => out.extend_from_slice(&c),
            _ => break,
        }
    }
    out.truncate(ERROR_BODY_LIMIT);
    String::from_utf8_lossy(&out).into_owned()
}

fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let sym = |i: u32| char::from(ALPHABET.get((i & 63) as usize).copied().unwrap_or(b'='));
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (b(0) << 16) | (b(1) << 8) | b(2);
        out.push(sym(n >> 18));
        out.push(sym(n >> 12));
        out.push(if chunk.len() > 1 { sym(n >> 6) } else { '=' });
        out.push(if chunk.len() > 2 { sym(n) } else { '=' });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_400)
    }

    #[test]
    fn statuses_are_classified_as_prometheus_does() {
        assert_eq!(classify(200, false, None, "", now()), Outcome::Sent);
        assert_eq!(classify(204, false, None, "", now()), Outcome::Sent);
        for s in [500, 502, 503, 504] {
            assert!(
                matches!(
                    classify(s, false, None, "", now()),
                    Outcome::Retry { after: None, .. }
                ),
                "{s}"
            );
        }
        for s in [400, 401, 403, 404, 409, 413, 422] {
            assert!(
                matches!(classify(s, true, None, "", now()), Outcome::Drop { .. }),
                "{s}"
            );
        }
        assert!(matches!(
            classify(429, false, Some("5"), "", now()),
            Outcome::Drop { .. }
        ));
        assert_eq!(
            classify(429, true, Some("5"), "slow down\nmore", now()),
            Outcome::Retry {
                after: Some(Duration::from_secs(5)),
                reason: "server returned HTTP status 429: slow down".into()
            }
        );
        assert!(matches!(
            classify(503, false, Some("7"), "", now()),
            Outcome::Retry { after: Some(d), .. } if d == Duration::from_secs(7)
        ));
        let Outcome::Drop { reason } = classify(400, false, None, "out of order sample", now())
        else {
            panic!()
        };
        assert_eq!(
            reason,
            "server returned HTTP status 400: out of order sample"
        );
    }

    #[test]
    fn retry_after_as_seconds_or_date() {
        assert_eq!(
            parse_retry_after(" 120 ", now()),
            Some(Duration::from_secs(120))
        );
        // now() is 2015-10-21 07:26:40 UTC.
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now()),
            Some(Duration::from_secs(80))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now()),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now()), None);
        assert_eq!(parse_retry_after("-3", now()), None);
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_and_obeys_retry_after() {
        let mut b = Backoff::new(Duration::from_millis(30), Duration::from_millis(200));
        let got: Vec<u128> = (0..6).map(|_| b.delay(None).as_millis()).collect();
        assert_eq!(got, [30, 60, 120, 200, 200, 200]);
        assert_eq!(
            b.delay(Some(Duration::from_secs(3))),
            Duration::from_secs(3)
        );
        assert_eq!(
            b.delay(Some(Duration::from_secs(86_400))),
            Duration::from_secs(900)
        );
        let mut z = Backoff::new(Duration::ZERO, Duration::ZERO);
        assert_eq!(z.delay(None), Duration::ZERO);
    }

    #[test]
    fn basic_auth_encoding() {
        assert_eq!(base64(b"user:pass"), "dXNlcjpwYXNz");
        assert_eq!(base64(b"a"), "YQ==");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b""), "");
    }
}
