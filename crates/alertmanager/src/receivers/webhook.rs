//! Webhook receiver: POSTs Alertmanager's version-4 JSON message with the configured
//! authentication. 5xx and transport errors are retried; other non-2xx answers are not
//! (as Alertmanager's `notify.Retrier`). Every request carries `Idempotency-Key`, stable
//! across retries and restarts, so receivers can drop duplicates.

use std::time::Duration;

use reqwest::header::{HeaderValue, CONTENT_TYPE};

use super::{Delivery, SendError};
use crate::config::WebhookConfig;
use crate::receivers::http;

/// Header carrying the notification's idempotency key.
pub const IDEMPOTENCY_HEADER: &str = "Idempotency-Key";

/// Default request timeout when the config sets none.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// A ready webhook integration.
#[derive(Debug, Clone)]
pub struct Webhook {
    cfg: WebhookConfig,
    client: reqwest::Client,
}

impl Webhook {
    /// Builds the HTTP client for a config.
    pub fn new(cfg: &WebhookConfig) -> Result<Webhook, String> {
        let timeout = cfg
            .timeout
            .map(|d| d.to_std())
            .filter(|d| !d.is_zero())
            .unwrap_or(DEFAULT_TIMEOUT);
        Ok(Webhook {
            client: http::client(cfg.http_config.as_ref(), timeout)?,
            cfg: cfg.clone(),
        })
    }

    fn url(&self) -> Result<String, SendError> {
        if let Some(u) = &self.cfg.url {
            return Ok(u.0.clone());
        }
        let f = self.cfg.url_file.as_deref().unwrap_or("");
        std::fs::read_to_string(f)
            .map(|s| s.trim().to_owned())
            .map_err(|e| SendError::retry(format!("reading url_file {f}: {e}"), None))
    }

    /// Sends one message.
    pub async fn send(&self, body: Vec<u8>, idempotency_key: &str) -> Result<Delivery, SendError> {
        let url = self.url()?;
        let mut headers =
            http::headers(self.cfg.http_config.as_ref()).map_err(|e| SendError::retry(e, None))?;
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Ok(v) = HeaderValue::from_str(idempotency_key) {
            headers.insert(IDEMPOTENCY_HEADER, v);
        }
        let resp = self
            .client
            .post(&url)
            .headers(headers)
            .body(body)
            .send()
            .await
            .map_err(|e| {
                SendError::retry(format!("POST: {}", redact(&e.to_string(), &url)), None)
            })?;
        let status = resp.status().as_u16();
        if resp.status().is_success() {
            return Ok(Delivery {
                status: Some(status),
            });
        }
        let text = resp.text().await.unwrap_or_default();
        let snippet: String = text.chars().take(256).collect();
        let msg = format!("unexpected status code {status}: {snippet}");
        if status >= 500 {
            Err(SendError::retry(msg, Some(status)))
        } else {
            Err(SendError::permanent(msg, Some(status)))
        }
    }
}

/// Removes the URL (it may contain a token) from an error message.
fn redact(msg: &str, url: &str) -> String {
    msg.replace(url, "<redacted>")
}
