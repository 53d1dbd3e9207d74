//! The Kubernetes example configuration loads, validates, and reports the discovery
//! mechanisms that are not implemented yet instead of failing.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::Path;

use argus_scrape::config::load_file;

#[test]
fn kubernetes_example_config_is_valid() {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/examples/kubernetes.yml");
    let cfg = load_file(&p).unwrap();
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
            "kubernetes-cadvisor",
            "node-exporter",
            "etcd",
            "kube-scheduler",
            "kube-controller-manager",
            "kubernetes-pods",
            "argus"
        ]
    );
    let cadvisor = cfg.scrape_config("kubernetes-cadvisor").unwrap();
    assert_eq!(cadvisor.metrics_path, "/metrics/cadvisor");
    let http = cadvisor.http_client();
    assert_eq!(
        http.authorization.unwrap().credentials_file.as_deref(),
        Some("/var/run/secrets/kubernetes.io/serviceaccount/token")
    );
    assert_eq!(cfg.global.external_labels["cluster"], "prod-eu-1");
    let unsupported = cfg.unsupported();
    assert_eq!(unsupported.len(), 5, "{unsupported:#?}");
    assert!(unsupported
        .iter()
        .all(|u| u.contains("kubernetes_sd_configs is not supported yet")));
    // The YAML served at /api/v1/status/config loads back to the same configuration.
    let again = argus_scrape::config::load_str(&cfg.to_yaml(), "again.yml").unwrap();
    assert_eq!(again.scrape_configs.len(), cfg.scrape_configs.len());
}
