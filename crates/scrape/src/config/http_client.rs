//! The HTTP client part of a scrape config (Prometheus' `config.HTTPClientConfig`, inlined
//! into `scrape_config`): authentication and TLS.

use serde::{Deserialize, Serialize};

use super::values::{is_false, Secret};

/// `basic_auth`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BasicAuth {
    /// User name.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub username: String,
    /// File holding the user name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username_file: Option<String>,
    /// Password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<Secret>,
    /// File holding the password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_file: Option<String>,
}

/// `authorization`: a `type` and credentials sent as `Authorization: <type> <credentials>`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Authorization {
    /// Scheme; `Bearer` when empty.
    #[serde(rename = "type", skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// The credentials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials: Option<Secret>,
    /// File holding the credentials (re-read on every scrape, like Prometheus).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credentials_file: Option<String>,
}

/// `tls_config`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TlsConfig {
    /// CA certificate(s), PEM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca: Option<String>,
    /// File of CA certificate(s).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<String>,
    /// Client certificate, PEM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert: Option<String>,
    /// File of the client certificate.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cert_file: Option<String>,
    /// Client key, PEM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<Secret>,
    /// File of the client key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_file: Option<String>,
    /// Name the server certificate must be valid for (instead of the target's host).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
    /// Skip certificate verification.
    #[serde(skip_serializing_if = "is_false")]
    pub insecure_skip_verify: bool,
    /// Minimum TLS version (`TLS12`, `TLS13`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_version: Option<String>,
    /// Maximum TLS version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_version: Option<String>,
}

impl TlsConfig {
    /// True when nothing is configured (the client's defaults apply).
    pub fn is_default(&self) -> bool {
        *self == TlsConfig::default()
    }

    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.ca.is_some() && self.ca_file.is_some() {
            return Err("at most one of ca and ca_file must be configured".into());
        }
        if self.cert.is_some() && self.cert_file.is_some() {
            return Err("at most one of cert and cert_file must be configured".into());
        }
        if self.key.is_some() && self.key_file.is_some() {
            return Err("at most one of key and key_file must be configured".into());
        }
        let has_cert = self.cert.is_some() || self.cert_file.is_some();
        let has_key = self.key.is_some() || self.key_file.is_some();
        if has_cert && !has_key {
            return Err(
                "exactly one of key or key_file must be configured when a client certificate is configured"
                    .into(),
            );
        }
        if has_key && !has_cert {
            return Err(
                "exactly one of cert or cert_file must be configured when a client key is configured"
                    .into(),
            );
        }
        for v in [&self.min_version, &self.max_version].into_iter().flatten() {
            if !matches!(v.as_str(), "TLS10" | "TLS11" | "TLS12" | "TLS13") {
                return Err(format!("unknown TLS version: {v}"));
            }
        }
        Ok(())
    }
}

/// The authentication and TLS settings of one scrape config, gathered from its inlined fields.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HttpClientConfig {
    /// `basic_auth`.
    pub basic_auth: Option<BasicAuth>,
    /// `authorization` (bearer_token and bearer_token_file are folded into it).
    pub authorization: Option<Authorization>,
    /// `tls_config`.
    pub tls_config: TlsConfig,
    /// `follow_redirects`.
    pub follow_redirects: bool,
    /// `enable_http2`.
    pub enable_http2: bool,
}

/// The authentication and TLS fields of an HTTP client section (a scrape config or a
/// discovery config), for the checks Prometheus' `HTTPClientConfig.Validate` makes.
pub(crate) struct ClientAuth<'a> {
    pub basic_auth: Option<&'a BasicAuth>,
    pub authorization: Option<&'a Authorization>,
    pub oauth2: bool,
    pub bearer_token: bool,
    pub bearer_token_file: bool,
    pub tls_config: &'a TlsConfig,
}

/// Checks that at most one authentication method is configured; errors name the field.
pub(crate) fn validate_client_auth(c: &ClientAuth<'_>) -> Result<(), (&'static str, String)> {
    let bearer = c.bearer_token || c.bearer_token_file;
    if c.bearer_token && c.bearer_token_file {
        return Err((
            "bearer_token",
            "at most one of bearer_token & bearer_token_file must be configured".into(),
        ));
    }
    if c.basic_auth.is_some() && bearer {
        return Err((
            "basic_auth",
            "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured"
                .into(),
        ));
    }
    if let Some(b) = c.basic_auth {
        if !b.username.is_empty() && b.username_file.is_some() {
            return Err((
                "basic_auth",
                "at most one of basic_auth username & username_file must be configured".into(),
            ));
        }
        if b.password.is_some() && b.password_file.is_some() {
            return Err((
                "basic_auth",
                "at most one of basic_auth password & password_file must be configured".into(),
            ));
        }
    }
    if let Some(a) = c.authorization {
        if bearer {
            return Err((
                "authorization",
                "authorization is not compatible with bearer_token & bearer_token_file".into(),
            ));
        }
        if a.credentials.is_some() && a.credentials_file.is_some() {
            return Err((
                "authorization",
                "at most one of authorization credentials & credentials_file must be configured"
                    .into(),
            ));
        }
        if a.kind.eq_ignore_ascii_case("basic") {
            return Err((
                "authorization",
                "authorization type cannot be set to \"basic\", use \"basic_auth\" instead".into(),
            ));
        }
        if c.basic_auth.is_some() || c.oauth2 {
            return Err((
                "authorization",
                "at most one of basic_auth, oauth2 & authorization must be configured".into(),
            ));
        }
    }
    c.tls_config.validate().map_err(|m| ("tls_config", m))
}
