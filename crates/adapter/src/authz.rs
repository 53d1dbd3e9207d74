//! Delegated authorization, as aggregated API servers do it: every authenticated request is
//! checked with a `SubjectAccessReview` against the cluster's API server, so RBAC decides
//! who may read which metrics even when a client talks to the adapter's port directly
//! instead of through the aggregator.
//!
//! The attributes are derived from the path the way the API server's request-info parser
//! does: `/apis/<group>/<version>/namespaces/<ns>/<resource>/<name>/<subresource>` gives a
//! resource request (verb `get` with a name, `list` without); discovery and OpenAPI paths
//! are non-resource requests (verb `get`). Members of `system:masters` are always allowed,
//! as by the API server. Decisions are cached for [`CACHE_MS`] (the API server's default
//! webhook cache TTL), so an HPA polling every 15 s costs one review per window.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use parking_lot::Mutex;
use serde::Serialize;

use crate::auth::Identity;
use crate::error::AdapterError;
use crate::kube::{KubeClient, UserInfo};
use crate::state::AdapterState;

/// How long an allow or deny decision is reused.
pub const CACHE_MS: i64 = 10_000;

/// Bound on cached decisions; the cache is emptied when it fills.
const CACHE_CAP: usize = 4096;

/// What a request asks for, in `SubjectAccessReview` terms.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Attributes {
    /// A resource request.
    #[serde(rename = "resourceAttributes")]
    Resource {
        /// `get` or `list`.
        verb: String,
        /// API group.
        group: String,
        /// API version.
        version: String,
        /// Resource (`pods`, or a metric name for external metrics).
        resource: String,
        /// Subresource (the metric name for custom metrics), or empty.
        #[serde(skip_serializing_if = "String::is_empty")]
        subresource: String,
        /// Object name, or empty.
        #[serde(skip_serializing_if = "String::is_empty")]
        name: String,
        /// Namespace, or empty.
        #[serde(skip_serializing_if = "String::is_empty")]
        namespace: String,
    },
    /// A non-resource request (discovery, OpenAPI).
    #[serde(rename = "nonResourceAttributes")]
    NonResource {
        /// `get`.
        verb: String,
        /// The path.
        path: String,
    },
}

impl Attributes {
    /// The attributes of a request for `path` with `method`.
    pub fn from_request(method: &str, path: &str) -> Attributes {
        let verb = if method.eq_ignore_ascii_case("GET") || method.eq_ignore_ascii_case("HEAD") {
            "get"
        } else {
            "create"
        };
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        let resource_parts = match parts.as_slice() {
            ["apis", _group, _version, rest @ ..] if !rest.is_empty() => Some(rest),
            _ => None,
        };
        let (Some(rest), Some(group), Some(version)) = (resource_parts, parts.get(1), parts.get(2))
        else {
            return Attributes::NonResource {
                verb: verb.to_owned(),
                path: path.to_owned(),
            };
        };
        // `namespaces/<ns>/<resource>...` is namespaced; `namespaces/<ns>` alone is the
        // namespace object itself (cluster-scoped resource `namespaces`, name `<ns>`).
        let (namespace, rest): (&str, &[&str]) = match rest {
            ["namespaces", ns, tail @ ..] if !tail.is_empty() => (ns, tail),
            other => ("", other),
        };
        let resource = rest.first().copied().unwrap_or("").to_owned();
        let name = rest.get(1).copied().unwrap_or("").to_owned();
        let subresource = rest.get(2).copied().unwrap_or("").to_owned();
        let verb = if verb == "get" && name.is_empty() {
            "list"
        } else {
            verb
        };
        Attributes::Resource {
            verb: verb.to_owned(),
            group: (*group).to_owned(),
            version: (*version).to_owned(),
            resource,
            subresource,
            name,
            namespace: namespace.to_owned(),
        }
    }

    /// The API server's wording of a denial.
    pub fn forbidden_message(&self, user: &str) -> String {
        match self {
            Attributes::Resource {
                verb,
                group,
                resource,
                subresource,
                name,
                namespace,
                ..
            } => {
                let res = if subresource.is_empty() {
                    resource.clone()
                } else {
                    format!("{resource}/{subresource}")
                };
                let what = if name.is_empty() {
                    format!("{res} is forbidden")
                } else {
                    format!("{res} {name:?} is forbidden")
                };
                let scope = if namespace.is_empty() {
                    " at the cluster scope".to_owned()
                } else {
                    format!(" in the namespace {namespace:?}")
                };
                format!(
                    "{what}: User {user:?} cannot {verb} resource {res:?} in API group {group:?}{scope}"
                )
            }
            Attributes::NonResource { verb, path } => {
                format!("forbidden: User {user:?} cannot {verb} path {path:?}")
            }
        }
    }
}

type Key = (String, Vec<String>, Attributes);

/// Asks the API server whether users may do what they request, with a short cache.
pub struct Authorizer {
    kube: Arc<KubeClient>,
    cache: Mutex<HashMap<Key, (i64, bool)>>,
}

impl std::fmt::Debug for Authorizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authorizer").finish_non_exhaustive()
    }
}

impl Authorizer {
    /// An authorizer reviewing through `kube`.
    pub fn new(kube: Arc<KubeClient>) -> Self {
        Authorizer {
            kube,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `user` may do `attrs`.
    pub async fn allowed(
        &self,
        user: &UserInfo,
        attrs: &Attributes,
        now_ms: i64,
    ) -> Result<bool, AdapterError> {
        if user.groups.iter().any(|g| g == "system:masters") {
            return Ok(true);
        }
        let key = (user.username.clone(), user.groups.clone(), attrs.clone());
        if let Some((at, ok)) = self.cache.lock().get(&key) {
            if now_ms - at < CACHE_MS {
                return Ok(*ok);
            }
        }
        let ok = self.kube.subject_access_review(user, attrs).await?;
        let mut c = self.cache.lock();
        if c.len() >= CACHE_CAP {
            c.clear();
        }
        c.insert(key, (now_ms, ok));
        Ok(ok)
    }
}

/// Axum middleware: 403 with a `Status` body unless the reviewer allows the request.
/// Without an authorizer (out of a cluster) every authenticated request is allowed.
pub async fn authorize(State(state): State<AdapterState>, req: Request, next: Next) -> Response {
    let Some(authz) = state.0.auth.authorizer.as_ref() else {
        return next.run(req).await;
    };
    let path = req.uri().path();
    if matches!(path, "/healthz" | "/livez" | "/readyz") {
        return next.run(req).await;
    }
    let user = match req.extensions().get::<Identity>() {
        Some(Identity::User(u)) => u.clone(),
        Some(Identity::Anonymous) | None => UserInfo {
            username: "system:anonymous".to_owned(),
            groups: vec!["system:unauthenticated".to_owned()],
        },
    };
    let attrs = Attributes::from_request(req.method().as_str(), path);
    match authz.allowed(&user, &attrs, state.now_ms()).await {
        Ok(true) => next.run(req).await,
        Ok(false) => {
            AdapterError::Forbidden(attrs.forbidden_message(&user.username)).into_response()
        }
        Err(e) => {
            tracing::warn!(error = %e, "SubjectAccessReview failed.");
            AdapterError::Forbidden(format!(
                "{}: the authorization check failed",
                attrs.forbidden_message(&user.username)
            ))
            .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(path: &str) -> Attributes {
        Attributes::from_request("GET", path)
    }

    #[test]
    fn attributes_follow_the_request_info_rules() {
        assert_eq!(
            res("/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/http_requests"),
            Attributes::Resource {
                verb: "get".into(),
                group: "custom.metrics.k8s.io".into(),
                version: "v1beta2".into(),
                resource: "pods".into(),
                subresource: "http_requests".into(),
                name: "*".into(),
                namespace: "default".into(),
            }
        );
        assert_eq!(
            res("/apis/metrics.k8s.io/v1beta1/nodes"),
            Attributes::Resource {
                verb: "list".into(),
                group: "metrics.k8s.io".into(),
                version: "v1beta1".into(),
                resource: "nodes".into(),
                subresource: String::new(),
                name: String::new(),
                namespace: String::new(),
            }
        );
        let ext = res("/apis/external.metrics.k8s.io/v1beta1/namespaces/ns/queue_depth");
        assert!(
            matches!(ext, Attributes::Resource { ref resource, ref namespace, ref verb, .. }
            if resource == "queue_depth" && namespace == "ns" && verb == "list")
        );
        let ns = res("/apis/custom.metrics.k8s.io/v1beta2/namespaces/ns");
        assert!(
            matches!(ns, Attributes::Resource { ref resource, ref name, ref namespace, .. }
            if resource == "namespaces" && name == "ns" && namespace.is_empty())
        );
        assert_eq!(
            res("/apis/custom.metrics.k8s.io/v1beta2"),
            Attributes::NonResource {
                verb: "get".into(),
                path: "/apis/custom.metrics.k8s.io/v1beta2".into()
            }
        );
        assert!(matches!(res("/openapi/v2"), Attributes::NonResource { .. }));
    }

    #[test]
    fn denial_reads_like_the_api_server() {
        let a = res("/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/rps");
        assert_eq!(
            a.forbidden_message("bob"),
            "pods/rps \"*\" is forbidden: User \"bob\" cannot get resource \"pods/rps\" in API group \"custom.metrics.k8s.io\" in the namespace \"default\""
        );
    }
}
