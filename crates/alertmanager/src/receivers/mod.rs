//! Receivers Argus delivers to: webhooks and email. [`Integrations`] holds one ready
//! client per configured integration, keyed like the notification log.

pub mod email;
pub mod http;
pub mod webhook;

use std::collections::HashMap;

use crate::config::Config;
use crate::nflog::ReceiverKey;

/// A successful delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// HTTP status or SMTP reply code.
    pub status: Option<u16>,
}

/// A failed delivery.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SendError {
    /// What happened.
    pub message: String,
    /// HTTP status / SMTP code, if any.
    pub status: Option<u16>,
    /// Whether trying again may help.
    pub retryable: bool,
}

impl SendError {
    /// A failure worth retrying (network, 5xx, temporary SMTP errors).
    pub fn retry(message: impl Into<String>, status: Option<u16>) -> Self {
        SendError {
            message: message.into(),
            status,
            retryable: true,
        }
    }

    /// A failure that will not go away by retrying (4xx, bad template, bad address).
    pub fn permanent(message: impl Into<String>, status: Option<u16>) -> Self {
        SendError {
            message: message.into(),
            status,
            retryable: false,
        }
    }

    /// `reason` label of `alertmanager_notifications_failed_total`.
    pub fn metric_reason(&self) -> &'static str {
        match self.status {
            Some(s) if (400..500).contains(&s) => "clientError",
            Some(s) if s >= 500 => "serverError",
            _ => "other",
        }
    }
}

/// One configured integration.
#[derive(Debug, Clone)]
pub enum Integration {
    /// `webhook_configs[i]`.
    Webhook(Box<webhook::Webhook>),
    /// `email_configs[i]`.
    Email(Box<email::Email>),
}

/// All integrations of a config.
#[derive(Debug, Clone, Default)]
pub struct Integrations {
    map: HashMap<ReceiverKey, Integration>,
}

impl Integrations {
    /// Builds clients for every webhook and email config.
    pub fn new(c: &Config) -> Result<Integrations, String> {
        let mut map = HashMap::new();
        for r in &c.receivers {
            for (i, w) in r.webhook_configs.iter().enumerate() {
                let key = ReceiverKey {
                    receiver: r.name.clone(),
                    integration: "webhook".into(),
                    idx: i as u32,
                };
                let wh = webhook::Webhook::new(w)
                    .map_err(|e| format!("receiver {:?} webhook_configs[{i}]: {e}", r.name))?;
                map.insert(key, Integration::Webhook(Box::new(wh)));
            }
            for (i, e) in r.email_configs.iter().enumerate() {
                let key = ReceiverKey {
                    receiver: r.name.clone(),
                    integration: "email".into(),
                    idx: i as u32,
                };
                map.insert(key, Integration::Email(Box::new(email::Email::new(e))));
            }
        }
        Ok(Integrations { map })
    }

    /// The integration for a key.
    pub fn get(&self, k: &ReceiverKey) -> Option<&Integration> {
        self.map.get(k)
    }
}
