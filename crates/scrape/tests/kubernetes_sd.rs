//! Kubernetes service discovery against a fake API server over HTTPS that replays
//! recorded list and watch responses (`testdata/kubernetes/`). The expected label sets
//! are written by hand from Prometheus' documentation of `kubernetes_sd_config`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;
mod k8s_api;

use argus_scrape::discovery::{KubernetesDiscoverer, LabelSet};
use k8s_api::*;

fn discoverer(cfg: &argus_scrape::config::KubernetesSdConfig) -> Box<KubernetesDiscoverer> {
    Box::new(KubernetesDiscoverer::new(cfg))
}

/// The labels Prometheus documents for the pod `monitoring/argus-0` of `pods.json`
/// (without `__meta_kubernetes_namespace`, which the pod role adds to the group).
fn argus_0_pod_labels() -> LabelSet {
    ls(&[
        ("__meta_kubernetes_pod_name", "argus-0"),
        ("__meta_kubernetes_pod_ip", "10.244.1.10"),
        ("__meta_kubernetes_pod_ready", "true"),
        ("__meta_kubernetes_pod_phase", "Running"),
        ("__meta_kubernetes_pod_node_name", "worker-1"),
        ("__meta_kubernetes_pod_host_ip", "10.0.0.21"),
        (
            "__meta_kubernetes_pod_uid",
            "7c0d3a1e-2b4f-4e6a-8c9d-000000000001",
        ),
        ("__meta_kubernetes_pod_controller_kind", "StatefulSet"),
        ("__meta_kubernetes_pod_controller_name", "argus"),
        (
            "__meta_kubernetes_pod_label_app_kubernetes_io_name",
            "argus",
        ),
        (
            "__meta_kubernetes_pod_labelpresent_app_kubernetes_io_name",
            "true",
        ),
        (
            "__meta_kubernetes_pod_label_apps_kubernetes_io_pod_index",
            "0",
        ),
        (
            "__meta_kubernetes_pod_labelpresent_apps_kubernetes_io_pod_index",
            "true",
        ),
        (
            "__meta_kubernetes_pod_label_statefulset_kubernetes_io_pod_name",
            "argus-0",
        ),
        (
            "__meta_kubernetes_pod_labelpresent_statefulset_kubernetes_io_pod_name",
            "true",
        ),
        (
            "__meta_kubernetes_pod_annotation_prometheus_io_scrape",
            "true",
        ),
        (
            "__meta_kubernetes_pod_annotationpresent_prometheus_io_scrape",
            "true",
        ),
        (
            "__meta_kubernetes_pod_annotation_prometheus_io_port",
            "9090",
        ),
        (
            "__meta_kubernetes_pod_annotationpresent_prometheus_io_port",
            "true",
        ),
        (
            "__meta_kubernetes_pod_annotation_kubectl_kubernetes_io_default_container",
            "argus",
        ),
        (
            "__meta_kubernetes_pod_annotationpresent_kubectl_kubernetes_io_default_container",
            "true",
        ),
    ])
}

const ARGUS_ID: &str =
    "containerd://2222222222222222222222222222222222222222222222222222222222222222";
const RELOADER_ID: &str =
    "containerd://3333333333333333333333333333333333333333333333333333333333333333";
const SIDECAR_ID: &str =
    "containerd://7777777777777777777777777777777777777777777777777777777777777777";
const INIT_ID: &str =
    "containerd://1111111111111111111111111111111111111111111111111111111111111111";

fn argus_0_pod_targets() -> Vec<LabelSet> {
    let pod = with(
        &argus_0_pod_labels(),
        &[("__meta_kubernetes_namespace", "monitoring")],
    );
    let argus = with(
        &pod,
        &[
            ("__meta_kubernetes_pod_container_name", "argus"),
            ("__meta_kubernetes_pod_container_id", ARGUS_ID),
            (
                "__meta_kubernetes_pod_container_image",
                "ghcr.io/argus-monitoring/argus:0.1.0",
            ),
            ("__meta_kubernetes_pod_container_init", "false"),
        ],
    );
    vec![
        with(
            &argus,
            &[
                ("__address__", "10.244.1.10:9090"),
                ("__meta_kubernetes_pod_container_port_name", "web"),
                ("__meta_kubernetes_pod_container_port_number", "9090"),
                ("__meta_kubernetes_pod_container_port_protocol", "TCP"),
            ],
        ),
        with(
            &argus,
            &[
                ("__address__", "10.244.1.10:9094"),
                ("__meta_kubernetes_pod_container_port_name", "peer"),
                ("__meta_kubernetes_pod_container_port_number", "9094"),
                ("__meta_kubernetes_pod_container_port_protocol", "UDP"),
                ("__meta_kubernetes_pod_container_init", "false"),
            ],
        ),
        with(
            &pod,
            &[
                ("__address__", "10.244.1.10:8080"),
                ("__meta_kubernetes_pod_container_init", "false"),
                ("__meta_kubernetes_pod_container_name", "config-reloader"),
                ("__meta_kubernetes_pod_container_id", RELOADER_ID),
                (
                    "__meta_kubernetes_pod_container_image",
                    "quay.io/prometheus-operator/prometheus-config-reloader:v0.85.0",
                ),
                ("__meta_kubernetes_pod_container_init", "false"),
                ("__meta_kubernetes_pod_container_port_name", "reloader-web"),
                ("__meta_kubernetes_pod_container_port_number", "8080"),
                ("__meta_kubernetes_pod_container_port_protocol", "TCP"),
            ],
        ),
        // A sidecar (an init container that keeps running) with a port.
        with(
            &pod,
            &[
                ("__address__", "10.244.1.10:2020"),
                ("__meta_kubernetes_pod_container_name", "log-shipper"),
                ("__meta_kubernetes_pod_container_id", SIDECAR_ID),
                (
                    "__meta_kubernetes_pod_container_image",
                    "fluent/fluent-bit:4.0",
                ),
                ("__meta_kubernetes_pod_container_init", "true"),
                ("__meta_kubernetes_pod_container_port_name", "http-metrics"),
                ("__meta_kubernetes_pod_container_port_number", "2020"),
                ("__meta_kubernetes_pod_container_port_protocol", "TCP"),
            ],
        ),
        // An init container without ports: a port-less target on the pod IP.
        with(
            &pod,
            &[
                ("__address__", "10.244.1.10"),
                ("__meta_kubernetes_pod_container_name", "init-chown"),
                ("__meta_kubernetes_pod_container_id", INIT_ID),
                ("__meta_kubernetes_pod_container_image", "busybox:1.37"),
                ("__meta_kubernetes_pod_container_init", "true"),
            ],
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pod_role_lists_watches_and_relists_after_410_gone() {
    let api = start(vec![(
        "/api/v1/pods",
        Script {
            lists: vec![
                (200, fixture("pods.json")),
                (200, fixture("pods_relist.json")),
            ],
            watches: vec![
                (200, fixture("pods_watch_1.jsonl")),
                (200, fixture("watch_expired.jsonl")),
            ],
        },
    )])
    .await;
    let run = Run::start(discoverer(&config(&api, "role: pod")));
    run.wait("relisted after 410", |s| {
        s.contains_key("pod/default/backup-29400000-abcde")
    })
    .await;
    let updates = run.updates.lock().clone();

    // The first update is the full set, one group per pod, the pod without an IP empty.
    let first = &updates[0];
    let sources: Vec<&str> = first.iter().map(|g| g.source.as_str()).collect();
    assert_eq!(
        sources,
        [
            "pod/default/backup-29400000-abcde",
            "pod/default/web-7d4b9c-x2x8k",
            "pod/monitoring/argus-0"
        ]
    );
    assert!(first[0].targets.is_empty() && first[0].labels.is_empty());
    assert_sets("argus-0", &targets(&first[2]), &argus_0_pod_targets());
    let web = ls(&[
        ("__meta_kubernetes_namespace", "default"),
        ("__meta_kubernetes_pod_name", "web-7d4b9c-x2x8k"),
        ("__meta_kubernetes_pod_ip", "10.244.0.5"),
        ("__meta_kubernetes_pod_ready", "false"),
        ("__meta_kubernetes_pod_phase", "Running"),
        ("__meta_kubernetes_pod_node_name", "cp-1"),
        ("__meta_kubernetes_pod_host_ip", "10.0.0.11"),
        (
            "__meta_kubernetes_pod_uid",
            "7c0d3a1e-2b4f-4e6a-8c9d-000000000002",
        ),
        ("__meta_kubernetes_pod_controller_kind", "ReplicaSet"),
        ("__meta_kubernetes_pod_controller_name", "web-7d4b9c"),
        ("__meta_kubernetes_pod_label_app", "web"),
        ("__meta_kubernetes_pod_labelpresent_app", "true"),
        ("__meta_kubernetes_pod_label_pod_template_hash", "7d4b9c"),
        (
            "__meta_kubernetes_pod_labelpresent_pod_template_hash",
            "true",
        ),
        ("__meta_kubernetes_pod_container_init", "false"),
    ]);
    assert_sets(
        "web",
        &targets(&first[1]),
        &[
            // No declared port: the bare pod IP, for relabeling to complete.
            with(
                &web,
                &[
                    ("__address__", "10.244.0.5"),
                    ("__meta_kubernetes_pod_container_name", "nginx"),
                    (
                        "__meta_kubernetes_pod_container_id",
                        "containerd://4444444444444444444444444444444444444444444444444444444444444444",
                    ),
                    ("__meta_kubernetes_pod_container_image", "nginx:1.29"),
                ],
            ),
            // A container that has not started has no ID yet.
            with(
                &web,
                &[
                    ("__address__", "10.244.0.5:9113"),
                    ("__meta_kubernetes_pod_container_name", "exporter"),
                    ("__meta_kubernetes_pod_container_id", ""),
                    (
                        "__meta_kubernetes_pod_container_image",
                        "nginx/nginx-prometheus-exporter:1.4",
                    ),
                    ("__meta_kubernetes_pod_container_port_name", "metrics"),
                    ("__meta_kubernetes_pod_container_port_number", "9113"),
                    ("__meta_kubernetes_pod_container_port_protocol", "TCP"),
                ],
            ),
        ],
    );

    // The watch added web-7d4b9c-q9z7m and deleted web-7d4b9c-x2x8k (an empty group).
    let all: Vec<_> = updates.iter().flatten().collect();
    let added = all
        .iter()
        .find(|g| g.source == "pod/default/web-7d4b9c-q9z7m" && !g.targets.is_empty())
        .expect("added pod");
    let t = targets(added);
    assert_eq!(t.len(), 1);
    assert_eq!(t[0]["__address__"], "10.244.1.23:8080");
    assert_eq!(t[0]["__meta_kubernetes_pod_container_port_name"], "http");
    let deleted = all
        .iter()
        .position(|g| g.source == "pod/default/web-7d4b9c-x2x8k" && g.targets.is_empty());
    assert!(deleted.is_some(), "no empty group for the deleted pod");

    // After the 410 the pods were listed again: the pod that disappeared meanwhile gets
    // an empty group, the pod that got an IP meanwhile its targets.
    let removed = all
        .iter()
        .rposition(|g| g.source == "pod/default/web-7d4b9c-q9z7m" && g.targets.is_empty());
    assert!(
        removed.is_some(),
        "no empty group for the pod gone during the outage"
    );
    let state = run.state();
    assert_eq!(
        state.keys().collect::<Vec<_>>(),
        [
            "pod/default/backup-29400000-abcde",
            "pod/monitoring/argus-0"
        ]
    );
    assert_eq!(
        targets(&state["pod/default/backup-29400000-abcde"])[0]["__address__"],
        "10.244.1.30"
    );
    assert_sets(
        "argus-0 after relist",
        &targets(&state["pod/monitoring/argus-0"]),
        &argus_0_pod_targets(),
    );

    // List, then watch from the list's resourceVersion, then from the last event's;
    // after the 410 a new list and a watch from its version.
    let q = api.queries("/api/v1/pods");
    let watches: Vec<&str> = q
        .iter()
        .filter(|q| q.get("watch").map(String::as_str) == Some("true"))
        .map(|q| q["resourceVersion"].as_str())
        .collect();
    assert_eq!(&watches[..3], ["2001", "2006", "3001"], "{q:#?}");
    let lists = q.iter().filter(|q| !q.contains_key("watch")).count();
    assert_eq!(lists, 2, "{q:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_role_prefers_internal_addresses_and_sets_instance() {
    let api = start(vec![("/api/v1/nodes", Script::list(fixture("nodes.json")))]).await;
    let run = Run::start(discoverer(&config(&api, "role: node")));
    run.wait("three nodes", |s| s.len() == 3).await;
    let s = run.state();
    let cp = ls(&[
        ("__meta_kubernetes_node_name", "cp-1"),
        ("__meta_kubernetes_node_provider_id", "aws:///eu-west-1a/i-0abc123def4567890"),
        ("__meta_kubernetes_node_label_beta_kubernetes_io_arch", "amd64"),
        ("__meta_kubernetes_node_labelpresent_beta_kubernetes_io_arch", "true"),
        ("__meta_kubernetes_node_label_kubernetes_io_hostname", "cp-1"),
        ("__meta_kubernetes_node_labelpresent_kubernetes_io_hostname", "true"),
        ("__meta_kubernetes_node_label_node_role_kubernetes_io_control_plane", ""),
        ("__meta_kubernetes_node_labelpresent_node_role_kubernetes_io_control_plane", "true"),
        ("__meta_kubernetes_node_label_topology_kubernetes_io_zone", "eu-west-1a"),
        ("__meta_kubernetes_node_labelpresent_topology_kubernetes_io_zone", "true"),
        ("__meta_kubernetes_node_annotation_node_alpha_kubernetes_io_ttl", "0"),
        ("__meta_kubernetes_node_annotationpresent_node_alpha_kubernetes_io_ttl", "true"),
        ("__meta_kubernetes_node_annotation_volumes_kubernetes_io_controller_managed_attach_detach", "true"),
        ("__meta_kubernetes_node_annotationpresent_volumes_kubernetes_io_controller_managed_attach_detach", "true"),
        // InternalIP first; the first address of each type.
        ("__address__", "10.0.0.11:10250"),
        ("instance", "cp-1"),
        ("__meta_kubernetes_node_address_InternalIP", "10.0.0.11"),
        ("__meta_kubernetes_node_address_ExternalIP", "52.18.0.11"),
        ("__meta_kubernetes_node_address_Hostname", "cp-1"),
    ]);
    assert_sets("cp-1", &targets(&s["node/cp-1"]), &[cp]);
    let worker = ls(&[
        ("__meta_kubernetes_node_name", "worker-1"),
        ("__meta_kubernetes_node_provider_id", ""),
        (
            "__meta_kubernetes_node_label_kubernetes_io_hostname",
            "worker-1",
        ),
        (
            "__meta_kubernetes_node_labelpresent_kubernetes_io_hostname",
            "true",
        ),
        (
            "__meta_kubernetes_node_label_node_kubernetes_io_instance_type",
            "m7i.large",
        ),
        (
            "__meta_kubernetes_node_labelpresent_node_kubernetes_io_instance_type",
            "true",
        ),
        // InternalDNS wins over ExternalDNS and Hostname.
        ("__address__", "worker-1.eu-west-1.compute.internal:10250"),
        ("instance", "worker-1"),
        (
            "__meta_kubernetes_node_address_InternalDNS",
            "worker-1.eu-west-1.compute.internal",
        ),
        (
            "__meta_kubernetes_node_address_ExternalDNS",
            "worker-1.example.com",
        ),
        ("__meta_kubernetes_node_address_Hostname", "worker-1"),
    ]);
    assert_sets("worker-1", &targets(&s["node/worker-1"]), &[worker]);
    let edge = ls(&[
        ("__meta_kubernetes_node_name", "edge-1"),
        ("__meta_kubernetes_node_provider_id", ""),
        ("__address__", "edge-1:10255"),
        ("instance", "edge-1"),
        ("__meta_kubernetes_node_address_Hostname", "edge-1"),
    ]);
    assert_sets("edge-1", &targets(&s["node/edge-1"]), &[edge]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn service_role_targets_every_port_by_dns_name() {
    let api = start(vec![(
        "/api/v1/services",
        Script::list(fixture("services.json")),
    )])
    .await;
    let run = Run::start(discoverer(&config(&api, "role: service")));
    run.wait("four services", |s| s.len() == 4).await;
    let s = run.state();
    let kubernetes = ls(&[
        ("__meta_kubernetes_namespace", "default"),
        ("__meta_kubernetes_service_name", "kubernetes"),
        ("__meta_kubernetes_service_label_component", "apiserver"),
        ("__meta_kubernetes_service_labelpresent_component", "true"),
        ("__meta_kubernetes_service_label_provider", "kubernetes"),
        ("__meta_kubernetes_service_labelpresent_provider", "true"),
        ("__address__", "kubernetes.default.svc:443"),
        ("__meta_kubernetes_service_port_name", "https"),
        ("__meta_kubernetes_service_port_number", "443"),
        ("__meta_kubernetes_service_port_protocol", "TCP"),
        ("__meta_kubernetes_service_type", "ClusterIP"),
        ("__meta_kubernetes_service_cluster_ip", "10.96.0.1"),
    ]);
    assert_sets(
        "kubernetes",
        &targets(&s["svc/default/kubernetes"]),
        &[kubernetes],
    );
    let docs = ls(&[
        ("__meta_kubernetes_namespace", "default"),
        ("__meta_kubernetes_service_name", "docs"),
        ("__address__", "docs.default.svc:443"),
        ("__meta_kubernetes_service_port_name", "https"),
        ("__meta_kubernetes_service_port_number", "443"),
        ("__meta_kubernetes_service_port_protocol", "TCP"),
        ("__meta_kubernetes_service_type", "ExternalName"),
        (
            "__meta_kubernetes_service_external_name",
            "docs.example.com",
        ),
    ]);
    assert_sets("docs", &targets(&s["svc/default/docs"]), &[docs]);
    let lb = ls(&[
        ("__meta_kubernetes_namespace", "default"),
        ("__meta_kubernetes_service_name", "ingress-nginx"),
        ("__meta_kubernetes_service_port_protocol", "TCP"),
        ("__meta_kubernetes_service_type", "LoadBalancer"),
        ("__meta_kubernetes_service_cluster_ip", "10.96.40.1"),
        ("__meta_kubernetes_service_loadbalancer_ip", "203.0.113.10"),
    ]);
    assert_sets(
        "ingress-nginx",
        &targets(&s["svc/default/ingress-nginx"]),
        &[
            with(
                &lb,
                &[
                    ("__address__", "ingress-nginx.default.svc:80"),
                    ("__meta_kubernetes_service_port_name", "http"),
                    ("__meta_kubernetes_service_port_number", "80"),
                ],
            ),
            with(
                &lb,
                &[
                    ("__address__", "ingress-nginx.default.svc:443"),
                    ("__meta_kubernetes_service_port_name", "https"),
                    ("__meta_kubernetes_service_port_number", "443"),
                ],
            ),
        ],
    );
    let argus = targets(&s["svc/monitoring/argus"]);
    assert_eq!(
        argus[0]["__meta_kubernetes_service_annotation_prometheus_io_probe"],
        "true"
    );
    assert_eq!(
        argus[0]["__meta_kubernetes_service_annotationpresent_prometheus_io_probe"],
        "true"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingress_role_targets_every_path_with_its_scheme() {
    let api = start(vec![(
        "/apis/networking.k8s.io/v1/ingresses",
        Script::list(fixture("ingresses.json")),
    )])
    .await;
    let run = Run::start(discoverer(&config(&api, "role: ingress")));
    run.wait("one ingress", |s| s.len() == 1).await;
    let group = ls(&[
        ("__meta_kubernetes_namespace", "monitoring"),
        ("__meta_kubernetes_ingress_name", "argus"),
        ("__meta_kubernetes_ingress_label_app_kubernetes_io_name", "argus"),
        ("__meta_kubernetes_ingress_labelpresent_app_kubernetes_io_name", "true"),
        ("__meta_kubernetes_ingress_annotation_nginx_ingress_kubernetes_io_backend_protocol", "HTTP"),
        ("__meta_kubernetes_ingress_annotationpresent_nginx_ingress_kubernetes_io_backend_protocol", "true"),
        ("__meta_kubernetes_ingress_class_name", "nginx"),
    ]);
    let target = |host: &str, scheme: &str, path: &str| {
        with(
            &group,
            &[
                ("__address__", host),
                ("__meta_kubernetes_ingress_host", host),
                ("__meta_kubernetes_ingress_scheme", scheme),
                ("__meta_kubernetes_ingress_path", path),
            ],
        )
    };
    assert_sets(
        "argus ingress",
        &targets(&run.state()["ingress/monitoring/argus"]),
        &[
            target("argus.example.com", "https", "/"),
            target("argus.example.com", "https", "/api"),
            // A rule without paths stands for "/"; no TLS entry covers its host.
            target("status.example.com", "http", "/"),
        ],
    );
}

/// Labels the endpoints roles attach for the pod `argus-0` behind an endpoint on port
/// 9090 (its `argus` container's `web` port).
fn argus_0_endpoint_pod_labels() -> LabelSet {
    with(
        &argus_0_pod_labels(),
        &[
            ("__meta_kubernetes_pod_container_name", "argus"),
            (
                "__meta_kubernetes_pod_container_image",
                "ghcr.io/argus-monitoring/argus:0.1.0",
            ),
            ("__meta_kubernetes_pod_container_port_name", "web"),
            ("__meta_kubernetes_pod_container_port_number", "9090"),
            ("__meta_kubernetes_pod_container_port_protocol", "TCP"),
            ("__meta_kubernetes_pod_container_init", "false"),
        ],
    )
}

/// The targets made for the container ports of `argus-0` no endpoint port covered.
fn argus_0_uncovered_ports(group: &LabelSet) -> Vec<LabelSet> {
    let pod = merged(&[group, &argus_0_pod_labels()]);
    vec![
        with(
            &pod,
            &[
                ("__address__", "10.244.1.10:9094"),
                ("__meta_kubernetes_pod_container_name", "argus"),
                (
                    "__meta_kubernetes_pod_container_image",
                    "ghcr.io/argus-monitoring/argus:0.1.0",
                ),
                ("__meta_kubernetes_pod_container_port_name", "peer"),
                ("__meta_kubernetes_pod_container_port_number", "9094"),
                ("__meta_kubernetes_pod_container_port_protocol", "UDP"),
                ("__meta_kubernetes_pod_container_init", "false"),
            ],
        ),
        with(
            &pod,
            &[
                ("__address__", "10.244.1.10:8080"),
                ("__meta_kubernetes_pod_container_init", "false"),
                ("__meta_kubernetes_pod_container_name", "config-reloader"),
                (
                    "__meta_kubernetes_pod_container_image",
                    "quay.io/prometheus-operator/prometheus-config-reloader:v0.85.0",
                ),
                ("__meta_kubernetes_pod_container_port_name", "reloader-web"),
                ("__meta_kubernetes_pod_container_port_number", "8080"),
                ("__meta_kubernetes_pod_container_port_protocol", "TCP"),
            ],
        ),
        with(
            &pod,
            &[
                ("__address__", "10.244.1.10:2020"),
                ("__meta_kubernetes_pod_container_name", "log-shipper"),
                (
                    "__meta_kubernetes_pod_container_image",
                    "fluent/fluent-bit:4.0",
                ),
                ("__meta_kubernetes_pod_container_port_name", "http-metrics"),
                ("__meta_kubernetes_pod_container_port_number", "2020"),
                ("__meta_kubernetes_pod_container_port_protocol", "TCP"),
                ("__meta_kubernetes_pod_container_init", "true"),
            ],
        ),
    ]
}

fn argus_service_labels() -> LabelSet {
    ls(&[
        ("__meta_kubernetes_namespace", "monitoring"),
        ("__meta_kubernetes_service_name", "argus"),
        (
            "__meta_kubernetes_service_label_app_kubernetes_io_name",
            "argus",
        ),
        (
            "__meta_kubernetes_service_labelpresent_app_kubernetes_io_name",
            "true",
        ),
        (
            "__meta_kubernetes_service_annotation_prometheus_io_probe",
            "true",
        ),
        (
            "__meta_kubernetes_service_annotationpresent_prometheus_io_probe",
            "true",
        ),
    ])
}

fn node_metadata(name: &str) -> LabelSet {
    match name {
        "worker-1" => ls(&[
            ("__meta_kubernetes_node_name", "worker-1"),
            ("__meta_kubernetes_node_label_kubernetes_io_hostname", "worker-1"),
            ("__meta_kubernetes_node_labelpresent_kubernetes_io_hostname", "true"),
            ("__meta_kubernetes_node_label_node_kubernetes_io_instance_type", "m7i.large"),
            ("__meta_kubernetes_node_labelpresent_node_kubernetes_io_instance_type", "true"),
        ]),
        _ => ls(&[
            ("__meta_kubernetes_node_name", "cp-1"),
            ("__meta_kubernetes_node_label_beta_kubernetes_io_arch", "amd64"),
            ("__meta_kubernetes_node_labelpresent_beta_kubernetes_io_arch", "true"),
            ("__meta_kubernetes_node_label_kubernetes_io_hostname", "cp-1"),
            ("__meta_kubernetes_node_labelpresent_kubernetes_io_hostname", "true"),
            ("__meta_kubernetes_node_label_node_role_kubernetes_io_control_plane", ""),
            ("__meta_kubernetes_node_labelpresent_node_role_kubernetes_io_control_plane", "true"),
            ("__meta_kubernetes_node_label_topology_kubernetes_io_zone", "eu-west-1a"),
            ("__meta_kubernetes_node_labelpresent_topology_kubernetes_io_zone", "true"),
            ("__meta_kubernetes_node_annotation_node_alpha_kubernetes_io_ttl", "0"),
            ("__meta_kubernetes_node_annotationpresent_node_alpha_kubernetes_io_ttl", "true"),
            ("__meta_kubernetes_node_annotation_volumes_kubernetes_io_controller_managed_attach_detach", "true"),
            ("__meta_kubernetes_node_annotationpresent_volumes_kubernetes_io_controller_managed_attach_detach", "true"),
        ]),
    }
}

fn merged(parts: &[&LabelSet]) -> LabelSet {
    let mut out = LabelSet::new();
    for p in parts {
        out.extend((*p).clone());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_role_with_service_pod_node_and_namespace_metadata() {
    let api = start(vec![
        ("/api/v1/endpoints", Script::list(fixture("endpoints.json"))),
        ("/api/v1/services", Script::list(fixture("services.json"))),
        ("/api/v1/pods", Script::list(fixture("pods.json"))),
        ("/api/v1/nodes", Script::list(fixture("nodes.json"))),
        (
            "/api/v1/namespaces",
            Script::list(fixture("namespaces.json")),
        ),
    ])
    .await;
    let cfg = config(
        &api,
        "role: endpoints\nattach_metadata:\n  node: true\n  namespace: true",
    );
    let run = Run::start(discoverer(&cfg));
    run.wait("two endpoints", |s| s.len() == 2).await;
    let s = run.state();

    let api_group = ls(&[
        ("__meta_kubernetes_namespace", "default"),
        ("__meta_kubernetes_service_name", "kubernetes"),
        ("__meta_kubernetes_service_label_component", "apiserver"),
        ("__meta_kubernetes_service_labelpresent_component", "true"),
        ("__meta_kubernetes_service_label_provider", "kubernetes"),
        ("__meta_kubernetes_service_labelpresent_provider", "true"),
        ("__meta_kubernetes_endpoints_name", "kubernetes"),
        (
            "__meta_kubernetes_endpoints_label_endpointslice_kubernetes_io_skip_mirror",
            "true",
        ),
        (
            "__meta_kubernetes_endpoints_labelpresent_endpointslice_kubernetes_io_skip_mirror",
            "true",
        ),
        (
            "__meta_kubernetes_namespace_label_kubernetes_io_metadata_name",
            "default",
        ),
        (
            "__meta_kubernetes_namespace_labelpresent_kubernetes_io_metadata_name",
            "true",
        ),
    ]);
    assert_sets(
        "default/kubernetes",
        &targets(&s["endpoints/default/kubernetes"]),
        &[with(
            &api_group,
            &[
                ("__address__", "10.0.0.11:6443"),
                ("__meta_kubernetes_endpoint_port_name", "https"),
                ("__meta_kubernetes_endpoint_port_protocol", "TCP"),
                ("__meta_kubernetes_endpoint_ready", "true"),
            ],
        )],
    );

    let group = merged(&[
        &argus_service_labels(),
        &ls(&[
            ("__meta_kubernetes_endpoints_name", "argus"),
            ("__meta_kubernetes_endpoints_label_app_kubernetes_io_name", "argus"),
            ("__meta_kubernetes_endpoints_labelpresent_app_kubernetes_io_name", "true"),
            ("__meta_kubernetes_endpoints_annotation_endpoints_kubernetes_io_last_change_trigger_time", "2026-01-10T09:00:05Z"),
            ("__meta_kubernetes_endpoints_annotationpresent_endpoints_kubernetes_io_last_change_trigger_time", "true"),
            ("__meta_kubernetes_namespace_label_kubernetes_io_metadata_name", "monitoring"),
            ("__meta_kubernetes_namespace_labelpresent_kubernetes_io_metadata_name", "true"),
            ("__meta_kubernetes_namespace_label_team", "observability"),
            ("__meta_kubernetes_namespace_labelpresent_team", "true"),
            ("__meta_kubernetes_namespace_annotation_owner", "sre@example.com"),
            ("__meta_kubernetes_namespace_annotationpresent_owner", "true"),
        ]),
    ]);
    let ready = merged(&[
        &group,
        &argus_0_endpoint_pod_labels(),
        &node_metadata("worker-1"),
        &ls(&[
            ("__address__", "10.244.1.10:9090"),
            ("__meta_kubernetes_endpoint_port_name", "web"),
            ("__meta_kubernetes_endpoint_port_protocol", "TCP"),
            ("__meta_kubernetes_endpoint_ready", "true"),
            ("__meta_kubernetes_endpoint_address_target_kind", "Pod"),
            ("__meta_kubernetes_endpoint_address_target_name", "argus-0"),
            ("__meta_kubernetes_endpoint_node_name", "worker-1"),
            ("__meta_kubernetes_endpoint_hostname", "argus-0"),
        ]),
    ]);
    // argus-1 is not in the pod list: the endpoint's own labels only.
    let not_ready = merged(&[
        &group,
        &node_metadata("cp-1"),
        &ls(&[
            ("__address__", "10.244.2.11:9090"),
            ("__meta_kubernetes_endpoint_port_name", "web"),
            ("__meta_kubernetes_endpoint_port_protocol", "TCP"),
            ("__meta_kubernetes_endpoint_ready", "false"),
            ("__meta_kubernetes_endpoint_address_target_kind", "Pod"),
            ("__meta_kubernetes_endpoint_address_target_name", "argus-1"),
            ("__meta_kubernetes_endpoint_node_name", "cp-1"),
        ]),
    ]);
    let mut want = vec![ready, not_ready];
    want.extend(argus_0_uncovered_ports(&group));
    assert_sets(
        "monitoring/argus",
        &targets(&s["endpoints/monitoring/argus"]),
        &want,
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpointslice_role_with_service_and_pod_labels() {
    let api = start(vec![
        (
            "/apis/discovery.k8s.io/v1/endpointslices",
            Script::list(fixture("endpointslices.json")),
        ),
        ("/api/v1/services", Script::list(fixture("services.json"))),
        ("/api/v1/pods", Script::list(fixture("pods.json"))),
    ])
    .await;
    let run = Run::start(discoverer(&config(&api, "role: endpointslice")));
    run.wait("one slice", |s| s.len() == 1).await;
    let group = merged(&[
        &argus_service_labels(),
        &ls(&[
            ("__meta_kubernetes_endpointslice_name", "argus-x7k2p"),
            ("__meta_kubernetes_endpointslice_address_type", "IPv4"),
            ("__meta_kubernetes_endpointslice_label_endpointslice_kubernetes_io_managed_by", "endpointslice-controller.k8s.io"),
            ("__meta_kubernetes_endpointslice_labelpresent_endpointslice_kubernetes_io_managed_by", "true"),
            ("__meta_kubernetes_endpointslice_label_kubernetes_io_service_name", "argus"),
            ("__meta_kubernetes_endpointslice_labelpresent_kubernetes_io_service_name", "true"),
        ]),
    ]);
    let port = ls(&[
        ("__meta_kubernetes_endpointslice_port_name", "web"),
        ("__meta_kubernetes_endpointslice_port_protocol", "TCP"),
        ("__meta_kubernetes_endpointslice_port", "9090"),
        ("__meta_kubernetes_endpointslice_port_app_protocol", "http"),
    ]);
    let ready = merged(&[
        &group,
        &port,
        &argus_0_endpoint_pod_labels(),
        &ls(&[
            ("__address__", "10.244.1.10:9090"),
            (
                "__meta_kubernetes_endpointslice_endpoint_conditions_ready",
                "true",
            ),
            (
                "__meta_kubernetes_endpointslice_endpoint_conditions_serving",
                "true",
            ),
            (
                "__meta_kubernetes_endpointslice_endpoint_conditions_terminating",
                "false",
            ),
            (
                "__meta_kubernetes_endpointslice_endpoint_hostname",
                "argus-0",
            ),
            ("__meta_kubernetes_endpointslice_address_target_kind", "Pod"),
            (
                "__meta_kubernetes_endpointslice_address_target_name",
                "argus-0",
            ),
            (
                "__meta_kubernetes_endpointslice_endpoint_node_name",
                "worker-1",
            ),
            (
                "__meta_kubernetes_endpointslice_endpoint_zone",
                "eu-west-1a",
            ),
        ]),
    ]);
    let terminating = merged(&[
        &group,
        &port,
        &ls(&[
            ("__address__", "10.244.2.11:9090"),
            (
                "__meta_kubernetes_endpointslice_endpoint_conditions_ready",
                "false",
            ),
            (
                "__meta_kubernetes_endpointslice_endpoint_conditions_serving",
                "false",
            ),
            (
                "__meta_kubernetes_endpointslice_endpoint_conditions_terminating",
                "true",
            ),
            ("__meta_kubernetes_endpointslice_address_target_kind", "Pod"),
            (
                "__meta_kubernetes_endpointslice_address_target_name",
                "argus-1",
            ),
            ("__meta_kubernetes_endpointslice_endpoint_node_name", "cp-1"),
            (
                "__meta_kubernetes_endpointslice_endpoint_zone",
                "eu-west-1b",
            ),
        ]),
    ]);
    let mut want = vec![ready, terminating];
    want.extend(argus_0_uncovered_ports(&group));
    assert_sets(
        "argus slice",
        &targets(&run.state()["endpointslice/monitoring/argus-x7k2p"]),
        &want,
    );
}

fn only_namespace(list: &str, ns: &str) -> String {
    let mut v: serde_json::Value = serde_json::from_str(list).unwrap();
    v["items"]
        .as_array_mut()
        .unwrap()
        .retain(|i| i["metadata"]["namespace"] == ns);
    v.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespaces_and_selectors_are_passed_to_the_api() {
    let api = start(vec![
        (
            "/api/v1/namespaces/monitoring/endpoints",
            Script::list(only_namespace(&fixture("endpoints.json"), "monitoring")),
        ),
        (
            "/api/v1/namespaces/monitoring/services",
            Script::list(only_namespace(&fixture("services.json"), "monitoring")),
        ),
        (
            "/api/v1/namespaces/monitoring/pods",
            Script::list(only_namespace(&fixture("pods.json"), "monitoring")),
        ),
    ])
    .await;
    let cfg = config(
        &api,
        "role: endpoints\nnamespaces:\n  names: [monitoring]\nselectors:\n  - role: pod\n    label: app.kubernetes.io/name=argus\n    field: spec.nodeName=worker-1\n  - role: service\n    field: metadata.name=argus\n  - role: endpoints\n    label: 'app.kubernetes.io/name in (argus)'",
    );
    let run = Run::start(discoverer(&cfg));
    run.wait("argus endpoints", |s| {
        s.contains_key("endpoints/monitoring/argus")
    })
    .await;
    assert_eq!(run.state().len(), 1);
    let t = targets(&run.state()["endpoints/monitoring/argus"]);
    assert_eq!(t[0]["__meta_kubernetes_pod_name"], "argus-0");
    assert_eq!(t[0]["__meta_kubernetes_service_name"], "argus");

    // Only the namespace's resources were asked for, list and watch with the selectors.
    for r in api.requests() {
        assert!(
            r.path.starts_with("/api/v1/namespaces/monitoring/"),
            "{}",
            r.path
        );
    }
    let cases = [
        (
            "pods",
            Some("app.kubernetes.io/name=argus"),
            Some("spec.nodeName=worker-1"),
        ),
        ("services", None, Some("metadata.name=argus")),
        ("endpoints", Some("app.kubernetes.io/name in (argus)"), None),
    ];
    for (res, label, field) in cases {
        let q = api.queries(&format!("/api/v1/namespaces/monitoring/{res}"));
        assert!(!q.is_empty(), "no request for {res}");
        for q in &q {
            assert_eq!(
                q.get("labelSelector").map(String::as_str),
                label,
                "{res}: {q:?}"
            );
            assert_eq!(
                q.get("fieldSelector").map(String::as_str),
                field,
                "{res}: {q:?}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_cluster_service_account_token_ca_and_own_namespace() {
    let api = start(vec![(
        "/api/v1/namespaces/monitoring/pods",
        Script::list(only_namespace(&fixture("pods.json"), "monitoring")),
    )])
    .await;
    // A service-account directory as Kubernetes mounts it: token, ca.crt, namespace.
    let sa = tempfile::tempdir().unwrap();
    std::fs::write(sa.path().join("token"), TOKEN).unwrap();
    std::fs::copy(&api.ca_file, sa.path().join("ca.crt")).unwrap();
    std::fs::write(sa.path().join("namespace"), "monitoring").unwrap();
    let cfg = argus_scrape::config::load_str(
        "scrape_configs:\n  - job_name: k\n    kubernetes_sd_configs:\n      - role: pod\n        namespaces:\n          own_namespace: true\n",
        "in-cluster.yml",
    )
    .unwrap()
    .scrape_configs[0]
        .kubernetes_sd_configs[0]
        .clone();
    let d = KubernetesDiscoverer::new(&cfg).with_service_account(
        "127.0.0.1",
        api.server.addr.port(),
        sa.path().to_path_buf(),
    );
    let run = Run::start(Box::new(d));
    run.wait("argus-0 via the service account", |s| {
        s.contains_key("pod/monitoring/argus-0")
    })
    .await;
    assert_sets(
        "argus-0",
        &targets(&run.state()["pod/monitoring/argus-0"]),
        &argus_0_pod_targets(),
    );
    let reqs = api.requests();
    assert!(reqs
        .iter()
        .all(|r| r.header("authorization") == Some(&format!("Bearer {TOKEN}"))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_watches_keep_the_targets_and_are_retried() {
    let failure = r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"etcdserver: request timed out","reason":"InternalError","code":500}"#;
    let api = start(vec![(
        "/api/v1/nodes",
        Script {
            lists: vec![(200, fixture("nodes.json"))],
            watches: vec![(500, failure.to_owned()), (500, failure.to_owned())],
        },
    )])
    .await;
    let run = Run::start(discoverer(&config(&api, "role: node")));
    run.wait("three nodes", |s| s.len() == 3).await;
    // Two failed watches, then a third attempt (after a backoff) that succeeds.
    let watched = common::wait_for(std::time::Duration::from_secs(60), || {
        let n = api
            .queries("/api/v1/nodes")
            .iter()
            .filter(|q| q.contains_key("watch"))
            .count();
        (n >= 3).then_some(n)
    })
    .await;
    assert!(watched.is_some(), "watch not retried: {:?}", api.requests());
    assert_eq!(run.state().len(), 3);
    // Nothing was withdrawn meanwhile.
    assert!(run
        .updates
        .lock()
        .iter()
        .flatten()
        .all(|g| !g.targets.is_empty()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_token_yields_no_targets_and_is_retried() {
    let api = start(vec![("/api/v1/nodes", Script::list(fixture("nodes.json")))]).await;
    let wrong = api.dir.path().join("wrong-token");
    std::fs::write(&wrong, "not-the-token").unwrap();
    let yaml = format!(
        "scrape_configs:\n  - job_name: k\n    kubernetes_sd_configs:\n      - role: node\n        api_server: {}\n        bearer_token_file: {}\n        tls_config:\n          ca_file: {}\n",
        api.url,
        wrong.display(),
        api.ca_file.display()
    );
    let cfg = argus_scrape::config::load_str(&yaml, "k.yml")
        .unwrap()
        .scrape_configs[0]
        .kubernetes_sd_configs[0]
        .clone();
    let run = Run::start(discoverer(&cfg));
    let lists = common::wait_for(std::time::Duration::from_secs(60), || {
        (api.requests().len() >= 2).then_some(())
    })
    .await;
    assert!(lists.is_some(), "list not retried");
    assert!(api
        .requests()
        .iter()
        .all(|r| r.header("authorization") == Some("Bearer not-the-token")));
    assert!(run.updates.lock().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubeconfig_file_selects_server_ca_and_token() {
    let api = start(vec![("/api/v1/nodes", Script::list(fixture("nodes.json")))]).await;
    let kubeconfig = api.dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n    server: {}\n    certificate-authority: {}\nusers:\n- name: argus\n  user:\n    token: {TOKEN}\ncontexts:\n- name: test\n  context:\n    cluster: test\n    user: argus\ncurrent-context: test\n",
            api.url,
            api.ca_file.display()
        ),
    )
    .unwrap();
    let yaml = format!(
        "scrape_configs:\n  - job_name: k\n    kubernetes_sd_configs:\n      - role: node\n        kubeconfig_file: {}\n",
        kubeconfig.display()
    );
    let cfg = argus_scrape::config::load_str(&yaml, "k.yml")
        .unwrap()
        .scrape_configs[0]
        .kubernetes_sd_configs[0]
        .clone();
    let run = Run::start(discoverer(&cfg));
    run.wait("three nodes", |s| s.len() == 3).await;
    assert_eq!(
        targets(&run.state()["node/cp-1"])[0]["__address__"],
        "10.0.0.11:10250"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_config_client_certificate_server_name_and_insecure_skip_verify() {
    let api = start_with(
        vec![("/api/v1/nodes", Script::list(fixture("nodes.json")))],
        true,
    )
    .await;
    let file = |n: &str| api.dir.path().join(n).display().to_string();
    let sd = |tls: &str| {
        let yaml = format!(
            "scrape_configs:\n  - job_name: k\n    kubernetes_sd_configs:\n      - role: node\n        api_server: {}\n        bearer_token_file: {}\n        tls_config:\n{tls}",
            api.url,
            file("token")
        );
        argus_scrape::config::load_str(&yaml, "k.yml")
            .unwrap()
            .scrape_configs[0]
            .kubernetes_sd_configs[0]
            .clone()
    };
    // The CA and a client certificate from files; the server certificate checked
    // against server_name instead of the URL's 127.0.0.1.
    let cfg = sd(&format!(
        "          ca_file: {}\n          cert_file: {}\n          key_file: {}\n          server_name: kubernetes.default.svc\n",
        file("ca.crt"),
        file("client.crt"),
        file("client.key")
    ));
    let run = Run::start(discoverer(&cfg));
    run.wait("nodes over mutual TLS", |s| s.len() == 3).await;
    drop(run);
    // The same with inline PEM and without verifying the server.
    let inline = |f: &str| {
        std::fs::read_to_string(file(f))
            .unwrap()
            .lines()
            .map(|l| format!("            {l}\n"))
            .collect::<String>()
    };
    let cfg = sd(&format!(
        "          insecure_skip_verify: true\n          cert: |\n{}          key: |\n{}",
        inline("client.crt"),
        inline("client.key")
    ));
    let run = Run::start(discoverer(&cfg));
    run.wait("nodes without verifying the server", |s| s.len() == 3)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pod_role_attaches_node_and_namespace_metadata_and_follows_node_changes() {
    let modified = r#"{"type":"MODIFIED","object":{"kind":"Node","apiVersion":"v1","metadata":{"name":"worker-1","uid":"5f1e2a4c-1c1d-4a2b-9e0f-0a1b2c3d4e02","resourceVersion":"1100","labels":{"kubernetes.io/hostname":"worker-1","node.kubernetes.io/instance-type":"m7i.large","team":"blue"}},"spec":{},"status":{"addresses":[{"type":"InternalIP","address":"10.0.0.21"}],"daemonEndpoints":{"kubeletEndpoint":{"Port":10250}}}}}"#;
    let api = start(vec![
        ("/api/v1/pods", Script::list(fixture("pods.json"))),
        (
            "/api/v1/nodes",
            Script {
                lists: vec![(200, fixture("nodes.json"))],
                watches: vec![(200, format!("{modified}\n"))],
            },
        ),
        (
            "/api/v1/namespaces",
            Script::list(fixture("namespaces.json")),
        ),
    ])
    .await;
    let cfg = config(
        &api,
        "role: pod\nattach_metadata:\n  node: true\n  namespace: true\nselectors:\n  - role: node\n    label: kubernetes.io/hostname",
    );
    let run = Run::start(discoverer(&cfg));
    run.wait("node label change reached the pod", |s| {
        s.get("pod/monitoring/argus-0").is_some_and(|g| {
            g.labels
                .get("__meta_kubernetes_node_label_team")
                .map(String::as_str)
                == Some("blue")
        })
    })
    .await;
    let updates = run.updates.lock().clone();
    // Before the change: worker-1's labels as listed, and the namespace's metadata.
    let first = updates[0]
        .iter()
        .find(|g| g.source == "pod/monitoring/argus-0")
        .unwrap();
    let want = merged(&[
        &argus_0_pod_labels(),
        &node_metadata("worker-1"),
        &ls(&[
            ("__meta_kubernetes_namespace", "monitoring"),
            (
                "__meta_kubernetes_namespace_label_kubernetes_io_metadata_name",
                "monitoring",
            ),
            (
                "__meta_kubernetes_namespace_labelpresent_kubernetes_io_metadata_name",
                "true",
            ),
            ("__meta_kubernetes_namespace_label_team", "observability"),
            ("__meta_kubernetes_namespace_labelpresent_team", "true"),
            (
                "__meta_kubernetes_namespace_annotation_owner",
                "sre@example.com",
            ),
            (
                "__meta_kubernetes_namespace_annotationpresent_owner",
                "true",
            ),
        ]),
    ]);
    assert_sets(
        "argus-0 group labels",
        std::slice::from_ref(&first.labels),
        &[want],
    );
    // The pod on cp-1 carries cp-1's labels; the change on worker-1 left it alone.
    let web = updates[0]
        .iter()
        .find(|g| g.source == "pod/default/web-7d4b9c-x2x8k")
        .unwrap();
    assert_eq!(web.labels["__meta_kubernetes_node_name"], "cp-1");
    let resent_web = updates
        .iter()
        .skip(1)
        .flatten()
        .any(|g| g.source == "pod/default/web-7d4b9c-x2x8k");
    assert!(!resent_web, "an unchanged group was sent again");
    // The node selector applies to the node watch only.
    for q in api.queries("/api/v1/nodes") {
        assert_eq!(q["labelSelector"], "kubernetes.io/hostname");
    }
    for q in api.queries("/api/v1/pods") {
        assert!(!q.contains_key("labelSelector"), "{q:?}");
    }
}
