//! `kubernetes_sd_configs`: Prometheus' `kubernetes_sd_config`, with its validation
//! (`discovery/kubernetes/kubernetes.go`, `SDConfig.UnmarshalYAML`).

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::http_client::{validate_client_auth, Authorization, BasicAuth, ClientAuth, TlsConfig};
use super::locate::PathElem;
use super::scrape_config::FieldError;
use super::values::{default_true, is_false, null_default, Secret};

/// The kind of Kubernetes object whose targets are discovered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KubernetesRole {
    /// One target per node (the kubelet).
    Node,
    /// One target per declared container port (or container) of each pod.
    Pod,
    /// One target per service port.
    Service,
    /// One target per address and port of each `Endpoints` object.
    Endpoints,
    /// One target per address and port of each `EndpointSlice`.
    EndpointSlice,
    /// One target per path of each ingress rule.
    Ingress,
}

impl KubernetesRole {
    /// The name used in the configuration and in `source` strings.
    pub fn as_str(self) -> &'static str {
        match self {
            KubernetesRole::Node => "node",
            KubernetesRole::Pod => "pod",
            KubernetesRole::Service => "service",
            KubernetesRole::Endpoints => "endpoints",
            KubernetesRole::EndpointSlice => "endpointslice",
            KubernetesRole::Ingress => "ingress",
        }
    }

    fn parse(s: &str) -> Option<KubernetesRole> {
        Some(match s {
            "node" => KubernetesRole::Node,
            "pod" => KubernetesRole::Pod,
            "service" => KubernetesRole::Service,
            "endpoints" => KubernetesRole::Endpoints,
            "endpointslice" => KubernetesRole::EndpointSlice,
            "ingress" => KubernetesRole::Ingress,
            _ => return None,
        })
    }

    /// The selector roles a discovery of this role accepts (Prometheus' `allowedSelectors`;
    /// node selectors apply to the node watch of `attach_metadata.node`).
    pub fn allowed_selectors(self) -> &'static [KubernetesRole] {
        use KubernetesRole::*;
        match self {
            Node => &[Node],
            Pod => &[Pod, Node],
            Service => &[Service],
            Endpoints => &[Pod, Service, Endpoints],
            EndpointSlice => &[Pod, Service, EndpointSlice],
            Ingress => &[Ingress],
        }
    }
}

impl fmt::Display for KubernetesRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for KubernetesRole {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for KubernetesRole {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        KubernetesRole::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown Kubernetes SD role {s:?}")))
    }
}

/// `namespaces`: where namespaced objects are looked for (all namespaces when empty).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NamespaceDiscovery {
    /// Also watch the namespace Argus runs in (in-cluster only).
    #[serde(skip_serializing_if = "is_false")]
    pub own_namespace: bool,
    /// Namespace names.
    #[serde(
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub names: Vec<String>,
}

/// One `selectors` entry: label and field selectors passed to the API server for the
/// objects of `role`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelectorConfig {
    /// The object kind the selectors apply to.
    pub role: KubernetesRole,
    /// A label selector (`app=web,tier!=cache`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// A field selector (`spec.nodeName=node-1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// `attach_metadata`: labels of related objects added to the targets.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AttachMetadata {
    /// Node labels and annotations (`pod`, `endpoints`, `endpointslice`).
    #[serde(skip_serializing_if = "is_false")]
    pub node: bool,
    /// Namespace labels and annotations (every namespaced role).
    #[serde(skip_serializing_if = "is_false")]
    pub namespace: bool,
}

/// One entry of `kubernetes_sd_configs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubernetesSdConfig {
    /// The API server URL; in-cluster configuration is used when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_server: Option<String>,
    /// What to discover (required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<KubernetesRole>,
    /// A kubeconfig file (instead of `api_server`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubeconfig_file: Option<String>,
    /// Namespaces to watch.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "is_default_namespaces"
    )]
    pub namespaces: NamespaceDiscovery,
    /// Label and field selectors per object kind.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub selectors: Vec<SelectorConfig>,
    /// Metadata of related objects.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "is_default_attach"
    )]
    pub attach_metadata: AttachMetadata,

    /// `basic_auth` towards the API server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basic_auth: Option<BasicAuth>,
    /// `authorization` towards the API server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization: Option<Authorization>,
    /// OAuth 2 (not supported; reported by [`KubernetesSdConfig::unsupported`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth2: Option<serde_yaml_ng::Value>,
    /// Deprecated form of `authorization.credentials`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer_token: Option<Secret>,
    /// Deprecated form of `authorization.credentials_file`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bearer_token_file: Option<String>,
    /// TLS towards the API server.
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "TlsConfig::is_default"
    )]
    pub tls_config: TlsConfig,
    /// Proxies are not supported (reported).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_url: Option<String>,
    /// See `proxy_url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub no_proxy: Option<String>,
    /// See `proxy_url`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub proxy_from_environment: bool,
    /// See `proxy_url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_connect_header: Option<serde_yaml_ng::Value>,
    /// Accepted for compatibility: the API server does not redirect list and watch calls.
    #[serde(default = "default_true")]
    pub follow_redirects: bool,
    /// Accepted for compatibility: the client speaks HTTP/1.1, as Prometheus' Kubernetes
    /// client does for watches.
    #[serde(default = "default_true")]
    pub enable_http2: bool,
    /// Extra request headers (not supported; reported).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_headers: Option<serde_yaml_ng::Value>,
}

fn is_default_namespaces(n: &NamespaceDiscovery) -> bool {
    *n == NamespaceDiscovery::default()
}

fn is_default_attach(a: &AttachMetadata) -> bool {
    *a == AttachMetadata::default()
}

fn key(name: &str) -> Vec<PathElem> {
    vec![PathElem::Key(name.to_owned())]
}

impl KubernetesSdConfig {
    /// The role (valid after loading: a config without one is rejected).
    pub fn role(&self) -> KubernetesRole {
        self.role.unwrap_or(KubernetesRole::Pod)
    }

    /// True when no HTTP client option differs from Prometheus' defaults.
    pub fn has_default_http_client(&self) -> bool {
        self.basic_auth.is_none()
            && self.authorization.is_none()
            && self.oauth2.is_none()
            && self.bearer_token.is_none()
            && self.bearer_token_file.is_none()
            && self.tls_config.is_default()
            && self.proxy_url.is_none()
            && self.no_proxy.is_none()
            && !self.proxy_from_environment
            && self.proxy_connect_header.is_none()
            && self.follow_redirects
            && self.enable_http2
            && self.http_headers.is_none()
    }

    /// The label and field selectors for objects of `role`.
    pub fn selector(&self, role: KubernetesRole) -> Option<&SelectorConfig> {
        self.selectors.iter().find(|s| s.role == role)
    }

    /// Settings that are accepted but not acted on, one sentence each.
    pub fn unsupported(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.oauth2.is_some() {
            out.push("oauth2 towards the Kubernetes API is not supported".to_owned());
        }
        if self.proxy_url.is_some() || self.proxy_from_environment {
            out.push(
                "proxies towards the Kubernetes API are not supported; it is reached directly"
                    .to_owned(),
            );
        }
        if self.http_headers.is_some() {
            out.push("http_headers towards the Kubernetes API is not supported".to_owned());
        }
        if self.tls_config.min_version.is_some() || self.tls_config.max_version.is_some() {
            out.push(
                "tls_config min_version/max_version towards the Kubernetes API are not supported"
                    .to_owned(),
            );
        }
        out
    }

    /// Prometheus' checks; the error names the offending field (relative to this entry).
    pub(crate) fn validate(&self) -> Result<(), FieldError> {
        let Some(role) = self.role else {
            return Err((
                key("role"),
                "role missing (one of: pod, service, endpoints, endpointslice, node, ingress)"
                    .into(),
            ));
        };
        validate_client_auth(&ClientAuth {
            basic_auth: self.basic_auth.as_ref(),
            authorization: self.authorization.as_ref(),
            oauth2: self.oauth2.is_some(),
            bearer_token: self.bearer_token.is_some(),
            bearer_token_file: self.bearer_token_file.is_some(),
            tls_config: &self.tls_config,
        })
        .map_err(|(f, m)| (key(f), m))?;
        if let Some(url) = &self.api_server {
            validate_api_server(url).map_err(|m| (key("api_server"), m))?;
        }
        let kubeconfig = self
            .kubeconfig_file
            .as_deref()
            .is_some_and(|f| !f.is_empty());
        if self.api_server.is_some() && kubeconfig {
            return Err((
                key("kubeconfig_file"),
                "cannot use 'kubeconfig_file' and 'api_server' simultaneously".into(),
            ));
        }
        let default_http = self.has_default_http_client();
        if kubeconfig && !default_http {
            return Err((
                key("kubeconfig_file"),
                "cannot use a custom HTTP client configuration together with 'kubeconfig_file'"
                    .into(),
            ));
        }
        if self.api_server.is_none() && !default_http {
            return Err((
                key("api_server"),
                "to use custom HTTP client configuration please provide the 'api_server' URL explicitly".into(),
            ));
        }
        if self.api_server.is_some() && self.namespaces.own_namespace {
            return Err((
                key("namespaces"),
                "cannot use 'api_server' and 'namespaces.own_namespace' simultaneously".into(),
            ));
        }
        if kubeconfig && self.namespaces.own_namespace {
            return Err((
                key("namespaces"),
                "cannot use 'kubeconfig_file' and 'namespaces.own_namespace' simultaneously".into(),
            ));
        }
        for (i, s) in self.selectors.iter().enumerate() {
            let at = || vec![PathElem::Key("selectors".into()), PathElem::Index(i)];
            if self.selectors.iter().take(i).any(|o| o.role == s.role) {
                return Err((at(), format!("duplicated selector role: {}", s.role)));
            }
            let allowed = role.allowed_selectors();
            if !allowed.contains(&s.role) {
                let names: Vec<&str> = allowed.iter().map(|r| r.as_str()).collect();
                return Err((
                    at(),
                    format!("{role} role supports only {} selectors", names.join(", ")),
                ));
            }
            if let Some(f) = &s.field {
                super::k8s_selector::check_field_selector(f).map_err(|m| (at(), m))?;
            }
            if let Some(l) = &s.label {
                super::k8s_selector::check_label_selector(l).map_err(|m| (at(), m))?;
            }
        }
        Ok(())
    }

    /// Makes relative file names absolute against `base` (Prometheus' `SetDirectory`).
    pub(crate) fn resolve_paths(&mut self, join: impl Fn(&str) -> String) {
        let files = [
            self.kubeconfig_file.as_mut(),
            self.bearer_token_file.as_mut(),
            self.tls_config.ca_file.as_mut(),
            self.tls_config.cert_file.as_mut(),
            self.tls_config.key_file.as_mut(),
            self.authorization
                .as_mut()
                .and_then(|a| a.credentials_file.as_mut()),
        ];
        for f in files.into_iter().flatten() {
            *f = join(f);
        }
        if let Some(b) = self.basic_auth.as_mut() {
            for f in [b.username_file.as_mut(), b.password_file.as_mut()]
                .into_iter()
                .flatten()
            {
                *f = join(f);
            }
        }
    }
}

fn validate_api_server(url: &str) -> Result<(), String> {
    let u = reqwest::Url::parse(url).map_err(|e| format!("invalid api_server {url:?}: {e}"))?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none_or(str::is_empty) {
        return Err(format!(
            "invalid api_server {url:?}: must be an http or https URL with a host"
        ));
    }
    Ok(())
}
