//! `global`: defaults for resolve timeouts, SMTP and HTTP, plus the other integrations'
//! global settings (accepted so that real configs load; unused by Argus).

use argus_model::PromDuration;
use serde::{Deserialize, Serialize};

use super::receiver::{HttpClientConfig, TlsConfig};
use super::secret::Secret;

/// Alertmanager's default `resolve_timeout`.
pub const DEFAULT_RESOLVE_TIMEOUT: PromDuration = PromDuration(5 * 60 * 1000);

/// The `global` section. Optional fields are filled with Alertmanager's defaults when the
/// config is loaded, so `config.original` shows the effective values as Alertmanager does.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct GlobalConfig {
    /// Time after which an alert without `endsAt` that is not re-sent is resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolve_timeout: Option<PromDuration>,
    /// Default HTTP client settings for webhooks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientConfig>,
    /// Default sender.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub smtp_from: String,
    /// Default EHLO name (default `localhost`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp_hello: Option<String>,
    /// Default `host:port`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub smtp_smarthost: String,
    /// Default SMTP AUTH user.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub smtp_auth_username: String,
    /// Default SMTP AUTH password.
    #[serde(default, skip_serializing_if = "Secret::is_empty")]
    pub smtp_auth_password: Secret,
    /// Default SMTP AUTH password file.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub smtp_auth_password_file: String,
    /// Default CRAM-MD5 secret.
    #[serde(default, skip_serializing_if = "Secret::is_empty")]
    pub smtp_auth_secret: Secret,
    /// Default PLAIN identity.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub smtp_auth_identity: String,
    /// Require STARTTLS (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp_require_tls: Option<bool>,
    /// Default SMTP TLS settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp_tls_config: Option<TlsConfig>,
    /// Other integrations' globals: accepted, not used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slack_api_url: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[allow(missing_docs)]
    pub slack_api_url_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[allow(missing_docs)]
    pub pagerduty_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[allow(missing_docs)]
    pub opsgenie_api_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[allow(missing_docs)]
    pub opsgenie_api_key: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[allow(missing_docs)]
    pub opsgenie_api_key_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[allow(missing_docs)]
    pub wechat_api_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[allow(missing_docs)]
    pub wechat_api_secret: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[allow(missing_docs)]
    pub wechat_api_corp_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[allow(missing_docs)]
    pub victorops_api_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[allow(missing_docs)]
    pub victorops_api_key: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[allow(missing_docs)]
    pub victorops_api_key_file: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[allow(missing_docs)]
    pub telegram_api_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[allow(missing_docs)]
    pub webex_api_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[allow(missing_docs)]
    pub rocketchat_api_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[allow(missing_docs)]
    pub rocketchat_token: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[allow(missing_docs)]
    pub rocketchat_token_id: Option<Secret>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[allow(missing_docs)]
    pub jira_api_url: Option<String>,
}

impl GlobalConfig {
    /// Fills Alertmanager's defaults.
    pub fn fill_defaults(&mut self) {
        self.resolve_timeout.get_or_insert(DEFAULT_RESOLVE_TIMEOUT);
        self.smtp_hello
            .get_or_insert_with(|| "localhost".to_owned());
        self.smtp_require_tls.get_or_insert(true);
        let http = self
            .http_config
            .get_or_insert_with(HttpClientConfig::default);
        http.follow_redirects.get_or_insert(true);
        http.enable_http2.get_or_insert(true);
    }

    /// Effective resolve timeout.
    pub fn resolve_timeout(&self) -> std::time::Duration {
        self.resolve_timeout
            .unwrap_or(DEFAULT_RESOLVE_TIMEOUT)
            .to_std()
    }
}
