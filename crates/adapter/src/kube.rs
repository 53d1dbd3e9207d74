//! A minimal Kubernetes API client: the three calls the adapter needs when it runs in a
//! cluster, over `reqwest` with the service account's token and CA.
//!
//! - list objects by label selector (resolving `labelSelector=` to object names: cAdvisor
//!   series don't carry pod labels);
//! - `TokenReview` (authenticating bearer tokens, as aggregated API servers do);
//! - read `kube-system/extension-apiserver-authentication` (the front-proxy client CA and
//!   the request-header names the aggregator uses).
//!
//! A list call per request is cheap at HPA rates (one call per HPA every 15 s); results
//! are cached for [`LIST_CACHE_MS`] so a burst of identical requests makes one call.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use parking_lot::Mutex;
use serde::Deserialize;

use crate::config::GroupResource;
use crate::error::AdapterError;

/// How long list results are reused.
pub const LIST_CACHE_MS: i64 = 5_000;

const SA_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// Where the bearer token comes from.
#[derive(Debug, Clone)]
enum TokenSource {
    None,
    Static(String),
    /// Re-read on every call: projected service account tokens rotate.
    File(PathBuf),
}

/// An object's identity and labels.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ObjectSummary {
    /// Name.
    pub name: String,
    /// Namespace (empty for cluster-scoped objects).
    #[serde(default)]
    pub namespace: String,
    /// Labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct ObjectList {
    #[serde(default)]
    items: Vec<ObjectItem>,
}

#[derive(Deserialize)]
struct ObjectItem {
    metadata: ObjectSummary,
}

/// An authenticated user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfo {
    /// User name.
    pub username: String,
    /// Groups.
    pub groups: Vec<String>,
}

/// The aggregator's front-proxy settings (`extension-apiserver-authentication`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestHeaderConfig {
    /// PEM bundle of the front-proxy client CA.
    pub client_ca_pem: Option<String>,
    /// Allowed client certificate common names (empty: any name the CA signed).
    pub allowed_names: Vec<String>,
    /// Headers carrying the user name.
    pub username_headers: Vec<String>,
    /// Headers carrying the groups.
    pub group_headers: Vec<String>,
}

type ListKey = (GroupResource, String, String);

/// A client for one API server.
pub struct KubeClient {
    base: String,
    token: TokenSource,
    http: reqwest::Client,
    cache: Mutex<HashMap<ListKey, (i64, Vec<ObjectSummary>)>>,
}

impl std::fmt::Debug for KubeClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KubeClient")
            .field("base", &self.base)
            .finish()
    }
}

fn kube_err(what: &str, e: impl std::fmt::Display) -> AdapterError {
    AdapterError::Kube(format!("{what}: {e}"))
}

impl KubeClient {
    /// A client for `base_url` (e.g. `https://10.0.0.1:443`), with an optional bearer
    /// token and CA bundle.
    pub fn new(
        base_url: &str,
        token: Option<String>,
        ca_pem: Option<&[u8]>,
    ) -> Result<Self, AdapterError> {
        Self::build(
            base_url,
            token.map_or(TokenSource::None, TokenSource::Static),
            ca_pem,
        )
    }

    fn build(base: &str, token: TokenSource, ca_pem: Option<&[u8]>) -> Result<Self, AdapterError> {
        let mut b = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(Duration::from_secs(10));
        if let Some(pem) = ca_pem {
            for cert in reqwest::Certificate::from_pem_bundle(pem)
                .map_err(|e| kube_err("parsing CA bundle", e))?
            {
                b = b.add_root_certificate(cert);
            }
        }
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            token,
            http: b.build().map_err(|e| kube_err("building HTTP client", e))?,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// The in-cluster client (service account token and CA), or `None` outside a cluster.
    pub fn in_cluster() -> Result<Option<Self>, AdapterError> {
        let (Ok(host), Ok(port)) = (
            std::env::var("KUBERNETES_SERVICE_HOST"),
            std::env::var("KUBERNETES_SERVICE_PORT"),
        ) else {
            return Ok(None);
        };
        let dir = Path::new(SA_DIR);
        let ca = std::fs::read(dir.join("ca.crt"))
            .map_err(|e| kube_err(&format!("reading {SA_DIR}/ca.crt"), e))?;
        let host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host
        };
        Self::build(
            &format!("https://{host}:{port}"),
            TokenSource::File(dir.join("token")),
            Some(&ca),
        )
        .map(Some)
    }

    fn token(&self) -> Result<Option<String>, AdapterError> {
        match &self.token {
            TokenSource::None => Ok(None),
            TokenSource::Static(t) => Ok(Some(t.clone())),
            TokenSource::File(p) => std::fs::read_to_string(p)
                .map(|t| Some(t.trim().to_owned()))
                .map_err(|e| kube_err(&format!("reading token {}", p.display()), e)),
        }
    }

    async fn send(
        &self,
        req: reqwest::RequestBuilder,
        what: &str,
    ) -> Result<Vec<u8>, AdapterError> {
        let req = match self.token()? {
            Some(t) => req.bearer_auth(t),
            None => req,
        };
        let resp = req.send().await.map_err(|e| kube_err(what, e))?;
        let status = resp.status();
        let body = resp.bytes().await.map_err(|e| kube_err(what, e))?;
        if !status.is_success() {
            let text = String::from_utf8_lossy(&body);
            return Err(kube_err(what, format!("HTTP {status}: {}", text.trim())));
        }
        Ok(body.to_vec())
    }

    /// Objects of `resource` (in `namespace`, or all namespaces) matching `label_selector`.
    pub async fn list(
        &self,
        resource: &GroupResource,
        namespace: Option<&str>,
        label_selector: &str,
        now_ms: i64,
    ) -> Result<Vec<ObjectSummary>, AdapterError> {
        let key = (
            resource.clone(),
            namespace.unwrap_or("").to_owned(),
            label_selector.to_owned(),
        );
        if let Some((t, v)) = self.cache.lock().get(&key) {
            if now_ms - t < LIST_CACHE_MS {
                return Ok(v.clone());
            }
        }
        let info = resource.info();
        let prefix = if resource.group.is_empty() {
            format!("{}/api/{}", self.base, info.api_version)
        } else {
            format!("{}/apis/{}", self.base, info.api_version)
        };
        let url = match namespace.filter(|_| info.namespaced) {
            Some(ns) => format!("{prefix}/namespaces/{ns}/{}", resource.resource),
            None => format!("{prefix}/{}", resource.resource),
        };
        let what = format!("listing {}", resource.qualified());
        let req = self
            .http
            .get(&url)
            .header("Accept", "application/json")
            .query(&[("labelSelector", label_selector)]);
        let body = self.send(req, &what).await?;
        let list: ObjectList = serde_json::from_slice(&body).map_err(|e| kube_err(&what, e))?;
        let items: Vec<ObjectSummary> = list.items.into_iter().map(|i| i.metadata).collect();
        let mut cache = self.cache.lock();
        cache.retain(|_, (t, _)| now_ms - *t < LIST_CACHE_MS);
        cache.insert(key, (now_ms, items.clone()));
        Ok(items)
    }

    /// Asks the API server who `token` belongs to; `None` when it is not authenticated.
    pub async fn token_review(&self, token: &str) -> Result<Option<UserInfo>, AdapterError> {
        #[derive(Deserialize)]
        struct Review {
            status: Option<ReviewStatus>,
        }
        #[derive(Deserialize)]
        struct ReviewStatus {
            #[serde(default)]
            authenticated: bool,
            user: Option<ReviewUser>,
        }
        #[derive(Deserialize)]
        struct ReviewUser {
            #[serde(default)]
            username: String,
            #[serde(default)]
            groups: Vec<String>,
        }
        let body = serde_json::json!({
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenReview",
            "spec": {"token": token},
        });
        let req = self
            .http
            .post(format!(
                "{}/apis/authentication.k8s.io/v1/tokenreviews",
                self.base
            ))
            .json(&body);
        let resp = self.send(req, "TokenReview").await?;
        let r: Review = serde_json::from_slice(&resp).map_err(|e| kube_err("TokenReview", e))?;
        Ok(r.status.filter(|s| s.authenticated).map(|s| {
            let u = s.user.unwrap_or(ReviewUser {
                username: String::new(),
                groups: Vec::new(),
            });
            UserInfo {
                username: u.username,
                groups: u.groups,
            }
        }))
    }

    /// Asks the API server whether `user` may do `attrs` (`SubjectAccessReview`).
    pub async fn subject_access_review(
        &self,
        user: &UserInfo,
        attrs: &crate::authz::Attributes,
    ) -> Result<bool, AdapterError> {
        #[derive(Deserialize)]
        struct Review {
            status: Option<ReviewStatus>,
        }
        #[derive(Deserialize)]
        struct ReviewStatus {
            #[serde(default)]
            allowed: bool,
        }
        let mut spec = serde_json::json!({
            "user": user.username,
            "groups": user.groups,
        });
        if let (Some(obj), Ok(serde_json::Value::Object(a))) =
            (spec.as_object_mut(), serde_json::to_value(attrs))
        {
            obj.extend(a);
        }
        let body = serde_json::json!({
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SubjectAccessReview",
            "spec": spec,
        });
        let req = self
            .http
            .post(format!(
                "{}/apis/authorization.k8s.io/v1/subjectaccessreviews",
                self.base
            ))
            .json(&body);
        let resp = self.send(req, "SubjectAccessReview").await?;
        let r: Review =
            serde_json::from_slice(&resp).map_err(|e| kube_err("SubjectAccessReview", e))?;
        Ok(r.status.is_some_and(|s| s.allowed))
    }

    /// Reads the front-proxy settings extension API servers use.
    pub async fn requestheader_config(&self) -> Result<RequestHeaderConfig, AdapterError> {
        #[derive(Deserialize)]
        struct ConfigMap {
            #[serde(default)]
            data: BTreeMap<String, String>,
        }
        let what = "reading kube-system/extension-apiserver-authentication";
        let req = self.http.get(format!(
            "{}/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication",
            self.base
        ));
        let body = self.send(req, what).await?;
        let cm: ConfigMap = serde_json::from_slice(&body).map_err(|e| kube_err(what, e))?;
        let list = |k: &str| -> Vec<String> {
            cm.data
                .get(k)
                .and_then(|v| serde_json::from_str(v).ok())
                .unwrap_or_default()
        };
        Ok(RequestHeaderConfig {
            client_ca_pem: cm.data.get("requestheader-client-ca-file").cloned(),
            allowed_names: list("requestheader-allowed-names"),
            username_headers: list("requestheader-username-headers"),
            group_headers: list("requestheader-group-headers"),
        })
    }
}
