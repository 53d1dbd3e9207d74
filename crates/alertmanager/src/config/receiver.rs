//! `receivers`: webhook and email integrations are implemented; every other Alertmanager
//! integration is parsed (so a real config loads unchanged) and reported as unsupported.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::secret::{Secret, SecretUrl};

/// One receiver.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiverConfig {
    /// Unique name.
    pub name: String,
    /// Webhooks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub webhook_configs: Vec<WebhookConfig>,
    /// Emails.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub email_configs: Vec<EmailConfig>,
    /// Argus extension: when an alert that was notified as firing becomes silenced or
    /// inhibited, send it to this receiver as resolved instead of going quiet, so the
    /// receiver's view does not keep a stale firing alert.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub send_resolved_when_muted: bool,
    // Integrations Argus parses but cannot deliver to (kept for `config.original` and
    // reported by `check_config` and at load). Not flattened: serde cannot combine
    // `flatten` with `deny_unknown_fields`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Parsed, not supported.
    pub pagerduty_configs: Option<Vec<serde_yaml_ng::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Parsed, not supported.
    pub slack_configs: Option<Vec<serde_yaml_ng::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Parsed, not supported.
    pub opsgenie_configs: Option<Vec<serde_yaml_ng::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Parsed, not supported.
    pub wechat_configs: Option<Vec<serde_yaml_ng::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Parsed, not supported.
    pub pushover_configs: Option<Vec<serde_yaml_ng::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Parsed, not supported.
    pub victorops_configs: Option<Vec<serde_yaml_ng::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Parsed, not supported.
    pub sns_configs: Option<Vec<serde_yaml_ng::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Parsed, not supported.
    pub telegram_configs: Option<Vec<serde_yaml_ng::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Parsed, not supported.
    pub webex_configs: Option<Vec<serde_yaml_ng::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Parsed, not supported.
    pub discord_configs: Option<Vec<serde_yaml_ng::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Parsed, not supported.
    pub msteams_configs: Option<Vec<serde_yaml_ng::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Parsed, not supported.
    pub msteamsv2_configs: Option<Vec<serde_yaml_ng::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Parsed, not supported.
    pub jira_configs: Option<Vec<serde_yaml_ng::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Parsed, not supported.
    pub rocketchat_configs: Option<Vec<serde_yaml_ng::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Parsed, not supported.
    pub incidentio_configs: Option<Vec<serde_yaml_ng::Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Parsed, not supported.
    pub mattermost_configs: Option<Vec<serde_yaml_ng::Value>>,
}

impl ReceiverConfig {
    /// `(integration kind, number of configs)` for each kind present.
    pub fn unsupported_integrations(&self) -> Vec<(&'static str, usize)> {
        let all: [(&'static str, &Option<Vec<serde_yaml_ng::Value>>); 16] = [
            ("pagerduty", &self.pagerduty_configs),
            ("slack", &self.slack_configs),
            ("opsgenie", &self.opsgenie_configs),
            ("wechat", &self.wechat_configs),
            ("pushover", &self.pushover_configs),
            ("victorops", &self.victorops_configs),
            ("sns", &self.sns_configs),
            ("telegram", &self.telegram_configs),
            ("webex", &self.webex_configs),
            ("discord", &self.discord_configs),
            ("msteams", &self.msteams_configs),
            ("msteamsv2", &self.msteamsv2_configs),
            ("jira", &self.jira_configs),
            ("rocketchat", &self.rocketchat_configs),
            ("incidentio", &self.incidentio_configs),
            ("mattermost", &self.mattermost_configs),
        ];
        all.into_iter()
            .filter_map(|(k, v)| v.as_ref().filter(|v| !v.is_empty()).map(|v| (k, v.len())))
            .collect()
    }
}

/// `webhook_configs` entry.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Send resolved notifications (default true for webhooks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_resolved: Option<bool>,
    /// HTTP client settings (defaults to the global `http_config`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_config: Option<HttpClientConfig>,
    /// Endpoint (a secret: printed as `<secret>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<SecretUrl>,
    /// File holding the endpoint, read at every send.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_file: Option<String>,
    /// Maximum alerts per message; 0 = all.
    #[serde(default)]
    pub max_alerts: u64,
    /// Per-request timeout (0 = none beyond the notification's own deadline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<argus_model::PromDuration>,
}

impl WebhookConfig {
    /// Effective `send_resolved`.
    pub fn send_resolved(&self) -> bool {
        self.send_resolved.unwrap_or(true)
    }
}

/// `email_configs` entry.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EmailConfig {
    /// Send resolved notifications (default false for email).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_resolved: Option<bool>,
    /// Recipients (comma separated, templated).
    #[serde(default)]
    pub to: String,
    /// Sender (defaults to `global.smtp_from`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub from: String,
    /// EHLO host name (defaults to `global.smtp_hello`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub hello: String,
    /// `host:port` (defaults to `global.smtp_smarthost`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub smarthost: String,
    /// SMTP AUTH user.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub auth_username: String,
    /// SMTP AUTH password.
    #[serde(default, skip_serializing_if = "Secret::is_empty")]
    pub auth_password: Secret,
    /// File holding the password.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub auth_password_file: String,
    /// CRAM-MD5 secret (not supported by Argus' SMTP client; reported at load).
    #[serde(default, skip_serializing_if = "Secret::is_empty")]
    pub auth_secret: Secret,
    /// PLAIN identity.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub auth_identity: String,
    /// Extra/overridden headers (templated); names are case-insensitive.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// HTML body template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub html: Option<String>,
    /// Text body template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Require STARTTLS (defaults to `global.smtp_require_tls`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_tls: Option<bool>,
    /// TLS settings for the SMTP connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_config: Option<TlsConfig>,
}

impl EmailConfig {
    /// Effective `send_resolved`.
    pub fn send_resolved(&self) -> bool {
        self.send_resolved.unwrap_or(false)
    }
}

/// Prometheus' common `http_config`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HttpClientConfig {
    /// Basic auth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basic_auth: Option<BasicAuth>,
    /// `Authorization` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<Authorization>,
    /// Legacy bearer token.
    #[serde(default, skip_serializing_if = "Secret::is_empty")]
    pub bearer_token: Secret,
    /// Legacy bearer token file.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub bearer_token_file: String,
    /// OAuth 2 (parsed, not supported: reported at load).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth2: Option<serde_yaml_ng::Value>,
    /// Proxy for all requests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_url: Option<String>,
    /// Hosts that bypass the proxy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_proxy: Option<String>,
    /// Use the `HTTP(S)_PROXY` environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_from_environment: Option<bool>,
    /// Headers for proxy CONNECT (not supported; ignored with a warning).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_connect_header: Option<serde_yaml_ng::Value>,
    /// TLS settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_config: Option<TlsConfig>,
    /// Follow redirects (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_redirects: Option<bool>,
    /// HTTP/2 (default true; Argus' client negotiates it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_http2: Option<bool>,
    /// Extra headers (newer Prometheus common config).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_headers: Option<BTreeMap<String, HeaderValues>>,
}

/// `http_headers` entry.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HeaderValues {
    /// Plain values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    /// Secret values.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<Secret>,
    /// Values read from files.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
}

/// `basic_auth`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    /// User.
    #[serde(default)]
    pub username: String,
    /// User from a file.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub username_file: String,
    /// Password.
    #[serde(default, skip_serializing_if = "Secret::is_empty")]
    pub password: Secret,
    /// Password from a file.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub password_file: String,
}

/// `authorization`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Authorization {
    /// Scheme (default `Bearer`).
    #[serde(default, rename = "type", skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// Credentials.
    #[serde(default, skip_serializing_if = "Secret::is_empty")]
    pub credentials: Secret,
    /// Credentials from a file.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub credentials_file: String,
}

/// `tls_config`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// CA bundle file.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub ca_file: String,
    /// CA bundle inline.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub ca: String,
    /// Client certificate file.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cert_file: String,
    /// Client certificate inline.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cert: String,
    /// Client key file.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub key_file: String,
    /// Client key inline.
    #[serde(default, skip_serializing_if = "Secret::is_empty")]
    pub key: Secret,
    /// SNI / verification name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub server_name: String,
    /// Skip certificate verification.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub insecure_skip_verify: bool,
    /// `TLS12` / `TLS13`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub min_version: String,
    /// `TLS12` / `TLS13`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub max_version: String,
}
