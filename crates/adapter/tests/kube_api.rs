//! The in-cluster paths against a fake Kubernetes API server: label selectors resolved by
//! listing pods, bearer tokens checked by TokenReview, the front-proxy ConfigMap read.
#![allow(clippy::indexing_slicing, clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Mutex};

use argus_adapter::{AuthConfig, KubeClient};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Json, Router};
use common::*;
use serde_json::{json, Value};

type Seen = Arc<Mutex<Vec<String>>>;

async fn fake_api(seen: Seen) -> String {
    async fn pods(
        State(seen): State<Seen>,
        headers: HeaderMap,
        Query(q): Query<std::collections::HashMap<String, String>>,
    ) -> Json<Value> {
        let auth = headers
            .get("authorization")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        let sel = q.get("labelSelector").cloned().unwrap_or_default();
        seen.lock().unwrap().push(format!("pods {sel} {auth}"));
        let items: Vec<Value> = [("web-1", "web"), ("web-2", "batch")]
            .iter()
            .filter(|(_, app)| sel == format!("app={app}") || sel.is_empty())
            .map(|(n, app)| json!({"metadata": {"name": n, "namespace": "default", "labels": {"app": app}}}))
            .collect();
        Json(json!({"kind": "PodList", "apiVersion": "v1", "items": items}))
    }
    async fn review(Json(body): Json<Value>) -> Json<Value> {
        let user = match body["spec"]["token"].as_str() {
            Some("good-token") => Some("alice"),
            Some("bob-token") => Some("bob"),
            _ => None,
        };
        Json(json!({
            "kind": "TokenReview", "apiVersion": "authentication.k8s.io/v1",
            "status": match user {
                Some(u) => json!({"authenticated": true, "user": {"username": u, "groups": ["devs"]}}),
                None => json!({"authenticated": false}),
            }
        }))
    }
    // RBAC: alice may read metrics, bob may not.
    async fn access(State(seen): State<Seen>, Json(body): Json<Value>) -> Json<Value> {
        seen.lock().unwrap().push(format!("sar {}", body["spec"]));
        let allowed = body["spec"]["user"] == "alice";
        Json(json!({
            "kind": "SubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
            "status": {"allowed": allowed}
        }))
    }
    async fn cm() -> Json<Value> {
        Json(json!({"data": {
            "requestheader-client-ca-file": "-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n",
            "requestheader-allowed-names": "[\"front-proxy-client\"]",
            "requestheader-username-headers": "[\"X-Remote-User\"]",
            "requestheader-group-headers": "[\"X-Remote-Group\"]",
        }}))
    }
    let app = Router::new()
        .route("/api/v1/namespaces/default/pods", get(pods))
        .route("/apis/authentication.k8s.io/v1/tokenreviews", post(review))
        .route(
            "/apis/authorization.k8s.io/v1/subjectaccessreviews",
            post(access),
        )
        .route(
            "/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication",
            get(cm),
        )
        .with_state(seen);
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    format!("http://{addr}")
}

#[tokio::test]
async fn label_selectors_list_pods_and_tokens_are_reviewed() {
    let seen: Seen = Arc::default();
    let base = fake_api(seen.clone()).await;
    let kube = Arc::new(KubeClient::new(&base, Some("sa-token".into()), None).unwrap());
    let srv = start(
        cluster_fixture(),
        Setup {
            auth: AuthConfig {
                token_reviewer: Some(kube.clone()),
                ..AuthConfig::default()
            },
            kube: Some(kube.clone()),
            ..Setup::default()
        },
    )
    .await;
    let path = "/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/http_requests?labelSelector=app%3Dweb";
    let url = format!("{}{path}", srv.url);
    let r = srv.client.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 401, "no token");
    let r = srv
        .client
        .get(&url)
        .bearer_auth("bad-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = srv
        .client
        .get(&url)
        .bearer_auth("good-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    let names: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["describedObject"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["web-1"]);
    // The same selector again within the cache window makes no second call.
    let r = srv
        .client
        .get(&url)
        .bearer_auth("good-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let calls = seen.lock().unwrap().clone();
    assert_eq!(calls, ["pods app=web Bearer sa-token"]);
    seen.lock().unwrap().clear();

    // PodMetrics with a label selector go through the same lister.
    let r = srv
        .client
        .get(format!(
            "{}/apis/metrics.k8s.io/v1beta1/namespaces/default/pods?labelSelector=app%3Dbatch",
            srv.url
        ))
        .bearer_auth("good-token")
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["items"].as_array().unwrap().len(), 1);
    assert_eq!(body["items"][0]["metadata"]["name"], "web-2");

    let rh = kube.requestheader_config().await.unwrap();
    assert_eq!(rh.allowed_names, ["front-proxy-client"]);
    assert_eq!(rh.username_headers, ["X-Remote-User"]);
    assert!(rh.client_ca_pem.unwrap().contains("BEGIN CERTIFICATE"));
}

#[tokio::test]
async fn requests_are_authorized_with_subject_access_reviews() {
    let seen: Seen = Arc::default();
    let base = fake_api(seen.clone()).await;
    let kube = Arc::new(KubeClient::new(&base, Some("sa-token".into()), None).unwrap());
    let srv = start(
        cluster_fixture(),
        Setup {
            auth: AuthConfig {
                token_reviewer: Some(kube.clone()),
                authorizer: Some(Arc::new(argus_adapter::authz::Authorizer::new(
                    kube.clone(),
                ))),
                ..AuthConfig::default()
            },
            kube: Some(kube.clone()),
            ..Setup::default()
        },
    )
    .await;
    let url = format!(
        "{}/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/http_requests",
        srv.url
    );
    let r = srv
        .client
        .get(&url)
        .bearer_auth("bob-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["kind"], "Status");
    assert_eq!(body["reason"], "Forbidden");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("User \"bob\" cannot get resource \"pods/http_requests\" in API group \"custom.metrics.k8s.io\" in the namespace \"default\""),
        "{body}"
    );
    let r = srv
        .client
        .get(&url)
        .bearer_auth("good-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // A second request within the cache window is not reviewed again.
    let r = srv
        .client
        .get(&url)
        .bearer_auth("good-token")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let sars: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|c| c.starts_with("sar "))
        .cloned()
        .collect();
    assert_eq!(sars.len(), 2, "{sars:?}");
    let spec: Value = serde_json::from_str(sars[1].strip_prefix("sar ").unwrap()).unwrap();
    assert_eq!(spec["user"], "alice");
    assert_eq!(spec["groups"], json!(["devs"]));
    assert_eq!(
        spec["resourceAttributes"],
        json!({"verb": "get", "group": "custom.metrics.k8s.io", "version": "v1beta2",
               "resource": "pods", "subresource": "http_requests", "name": "*",
               "namespace": "default"})
    );
    // Health endpoints stay open for kubelet probes.
    let r = srv
        .client
        .get(format!("{}/healthz", srv.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn api_errors_surface_as_status() {
    // Nothing listens here.
    let kube = Arc::new(KubeClient::new("http://127.0.0.1:9", None, None).unwrap());
    let srv = start(
        cluster_fixture(),
        Setup {
            kube: Some(kube),
            ..Setup::default()
        },
    )
    .await;
    let (code, body) = srv
        .get("/apis/custom.metrics.k8s.io/v1beta2/namespaces/default/pods/*/http_requests?labelSelector=app%3Dweb")
        .await;
    assert_eq!(code, 500);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("Kubernetes API: listing pods"),
        "{body}"
    );
}
