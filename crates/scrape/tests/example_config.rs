//! The Kubernetes example configuration at the repository root (`examples/kubernetes.yml`)
//! loads, validates, and uses nothing Argus does not implement.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::Path;

use argus_scrape::config::{load_file, KubernetesRole};

fn example() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/kubernetes.yml")
}

#[test]
fn kubernetes_example_config_is_valid_and_fully_supported() {
    let cfg = load_file(example()).unwrap();
    let jobs: Vec<&str> = cfg
        .scrape_configs
        .iter()
        .map(|s| s.job_name.as_str())
        .collect();
    assert_eq!(
        jobs,
        [
            "kubernetes-apiservers",
            "kubernetes-nodes",
            "kubernetes-resource",
            "kubernetes-cadvisor",
            "node-exporter",
            "etcd",
            "kube-scheduler",
            "kube-controller-manager",
            "kubernetes-service-endpoints",
            "kubernetes-pods",
            "argus"
        ]
    );
    // Nothing is reported unsupported any more: every section is acted on.
    let unsupported = cfg.unsupported();
    assert!(unsupported.is_empty(), "{unsupported:#?}");

    // Every job but Argus' own discovers through the in-cluster API.
    for sc in cfg.scrape_configs.iter().filter(|s| s.job_name != "argus") {
        assert_eq!(sc.kubernetes_sd_configs.len(), 1, "{}", sc.job_name);
        let k = &sc.kubernetes_sd_configs[0];
        assert!(k.api_server.is_none() && k.kubeconfig_file.is_none());
    }
    let role = |job: &str| cfg.scrape_config(job).unwrap().kubernetes_sd_configs[0].role();
    assert_eq!(role("kubernetes-apiservers"), KubernetesRole::Endpoints);
    assert_eq!(role("kubernetes-nodes"), KubernetesRole::Node);
    assert_eq!(
        role("kubernetes-service-endpoints"),
        KubernetesRole::EndpointSlice
    );
    assert_eq!(role("kubernetes-pods"), KubernetesRole::Pod);

    // Kubelets directly with the service-account token and cluster CA ...
    let nodes = cfg.scrape_config("kubernetes-nodes").unwrap();
    assert_eq!(nodes.scheme, "https");
    let http = nodes.http_client();
    assert_eq!(
        http.authorization.unwrap().credentials_file.as_deref(),
        Some("/var/run/secrets/kubernetes.io/serviceaccount/token")
    );
    assert_eq!(
        http.tls_config.ca_file.as_deref(),
        Some("/var/run/secrets/kubernetes.io/serviceaccount/ca.crt")
    );
    assert_eq!(
        cfg.scrape_config("kubernetes-resource")
            .unwrap()
            .metrics_path,
        "/metrics/resource"
    );
    // ... or through the API server proxy.
    let cadvisor = cfg.scrape_config("kubernetes-cadvisor").unwrap();
    let proxy_path = cadvisor
        .relabel_configs
        .iter()
        .find(|r| r.target_label == "__metrics_path__")
        .unwrap();
    assert_eq!(
        proxy_path.replacement,
        "/api/v1/nodes/${1}/proxy/metrics/cadvisor"
    );
    // etcd with a client certificate.
    let etcd = cfg.scrape_config("etcd").unwrap();
    assert_eq!(
        etcd.tls_config.cert_file.as_deref(),
        Some("/etc/argus/etcd/client.crt")
    );
    let sel = etcd.kubernetes_sd_configs[0]
        .selector(KubernetesRole::Pod)
        .unwrap();
    assert_eq!(sel.label.as_deref(), Some("component=etcd"));
    assert_eq!(cfg.global.external_labels["cluster"], "prod-eu-1");

    // The YAML served at /api/v1/status/config loads back to the same configuration.
    let again = argus_scrape::config::load_str(&cfg.to_yaml(), "again.yml").unwrap();
    assert_eq!(again.scrape_configs, cfg.scrape_configs);
}
