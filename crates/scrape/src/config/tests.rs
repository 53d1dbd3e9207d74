use super::*;

fn load(text: &str) -> Result<Config, ConfigError> {
    load_str(text, "prometheus.yml")
}

fn err(text: &str) -> String {
    load(text).unwrap_err().to_string()
}

#[test]
fn prometheus_defaults() {
    let c =
        load("scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: ['x:1']\n")
            .unwrap();
    assert_eq!(c.global.scrape_interval, PromDuration(60_000));
    assert_eq!(c.global.timeout(), PromDuration(10_000));
    assert_eq!(c.global.evaluation_interval, PromDuration(60_000));
    let s = &c.scrape_configs[0];
    assert_eq!(s.interval(), PromDuration(60_000));
    assert_eq!(s.timeout(), PromDuration(10_000));
    assert_eq!(s.metrics_path, "/metrics");
    assert_eq!(s.scheme, "http");
    assert!(s.honor_timestamps && !s.honor_labels && s.enable_compression);
    assert_eq!(s.protocols(), &ScrapeProtocol::DEFAULT);
}

#[test]
fn empty_file_and_empty_blocks() {
    let c = load("").unwrap();
    assert!(c.scrape_configs.is_empty());
    let c = load("global:\nscrape_configs:\n").unwrap();
    assert_eq!(c.global.scrape_interval, PromDuration(60_000));
}

#[test]
fn inherits_from_global_and_caps_timeout_at_interval() {
    let c = load(
        "global:\n  scrape_interval: 5s\n  sample_limit: 100\n  body_size_limit: 10MB\nscrape_configs:\n  - job_name: a\n  - job_name: b\n    scrape_interval: 1m\n    sample_limit: 7\n",
    )
    .unwrap();
    let a = &c.scrape_configs[0];
    assert_eq!(a.interval(), PromDuration(5_000));
    assert_eq!(a.timeout(), PromDuration(5_000), "min(10s, interval)");
    assert_eq!(a.sample_limit, 100);
    assert_eq!(a.body_size_limit_bytes(), 10 << 20);
    let b = &c.scrape_configs[1];
    assert_eq!(
        b.timeout(),
        PromDuration(5_000),
        "global timeout is min(10s, 5s)"
    );
    assert_eq!(b.sample_limit, 7);
}

#[test]
fn unknown_fields_name_file_line_and_field() {
    let text = "global:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: a\n  - job_name: b\n    bogus: 1\n";
    assert_eq!(
        err(text),
        "prometheus.yml:6:5: scrape_configs[1]: unknown field \"bogus\""
    );
    assert_eq!(
        err("bogus_top: 1\n"),
        "prometheus.yml:1:1: unknown field \"bogus_top\""
    );
    let e = err("global:\n  scrape_intervl: 1s\n");
    assert!(
        e.starts_with("prometheus.yml:2:3: global: unknown field \"scrape_intervl\""),
        "{e}"
    );
}

#[test]
fn bad_values_are_located() {
    let e = err("global:\n  scrape_interval: 15x\n");
    assert!(
        e.starts_with("prometheus.yml:2:20: global.scrape_interval: "),
        "{e}"
    );
    let e = err("scrape_configs:\n  - job_name: a\n    relabel_configs:\n      - regex: '(['\n        target_label: x\n");
    assert_eq!(
        e,
        "prometheus.yml:4:7: scrape_configs[0].relabel_configs: invalid regex \"([\": unclosed character class"
    );
    let e = err("scrape_configs:\n  - job_name: a\n    scrape_protocols: [Bogus]\n");
    assert!(
        e.contains("prometheus.yml:3:") && e.contains("scrape_protocols"),
        "{e}"
    );
}

#[test]
fn timeout_greater_than_interval_is_an_error() {
    let e =
        err("scrape_configs:\n  - job_name: a\n    scrape_interval: 5s\n    scrape_timeout: 10s\n");
    assert_eq!(
        e,
        "prometheus.yml:4:21: scrape_configs[0].scrape_timeout: scrape timeout greater than scrape interval for scrape config with job name \"a\""
    );
    let e = err("global:\n  scrape_interval: 5s\n  scrape_timeout: 6s\n");
    assert!(
        e.starts_with("prometheus.yml:3:19: global.scrape_timeout: global scrape timeout greater"),
        "{e}"
    );
}

#[test]
fn duplicate_job_names_are_rejected() {
    let e = err("scrape_configs:\n  - job_name: a\n  - job_name: a\n");
    assert_eq!(
        e,
        "prometheus.yml:3:15: scrape_configs[1].job_name: found multiple scrape configs with job name \"a\""
    );
}

#[test]
fn http_client_validation() {
    let e =
        err("scrape_configs:\n  - job_name: a\n    bearer_token: x\n    bearer_token_file: y\n");
    assert!(
        e.contains("at most one of bearer_token & bearer_token_file"),
        "{e}"
    );
    let e = err("scrape_configs:\n  - job_name: a\n    authorization:\n      type: Basic\n");
    assert!(e.contains("use \"basic_auth\" instead"), "{e}");
    let e = err("scrape_configs:\n  - job_name: a\n    tls_config:\n      cert_file: c.pem\n");
    assert!(e.contains("key or key_file"), "{e}");
    let e = err("scrape_configs:\n  - job_name: a\n    scheme: ftp\n");
    assert!(
        e.contains("prometheus.yml:3:13: scrape_configs[0].scheme"),
        "{e}"
    );
    let e = err("scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: ['http://x:1/metrics']\n");
    assert!(e.contains("is not a valid hostname"), "{e}");
}

#[test]
fn bearer_token_folds_into_authorization_and_secrets_are_hidden() {
    let c = load("scrape_configs:\n  - job_name: a\n    bearer_token: s3cr3t\n").unwrap();
    let h = c.scrape_configs[0].http_client();
    let a = h.authorization.unwrap();
    assert_eq!(a.kind, "Bearer");
    assert_eq!(a.credentials.unwrap().0, "s3cr3t");
    let y = c.to_yaml();
    assert!(!y.contains("s3cr3t") && y.contains("<secret>"), "{y}");
    // The YAML we serve loads again.
    load(&y).unwrap();
}

#[test]
fn other_sections_are_kept_raw() {
    let c = load("alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: [am:9093]\nremote_write:\n  - url: http://x/api/v1/write\nrule_files: ['rules/*.yml']\nstorage:\n  tsdb:\n    out_of_order_time_window: 1h\n").unwrap();
    assert!(c.alerting.is_some() && c.remote_write.is_some() && c.storage.is_some());
    assert_eq!(c.rule_files, vec!["rules/*.yml".to_owned()]);
    let e = err("rule_files: ['a/*/b.yml']\n");
    assert!(e.contains("invalid rule file path"), "{e}");
}

#[test]
fn unsupported_discovery_is_reported_not_rejected() {
    let c = load(
        "scrape_configs:\n  - job_name: k\n    consul_sd_configs:\n      - server: consul:8500\n",
    )
    .unwrap();
    let u = c.unsupported();
    assert_eq!(u.len(), 1);
    assert!(u[0].contains("consul_sd_configs"), "{u:?}");
}

#[test]
fn relative_paths_resolve_against_the_config_dir() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("prometheus.yml");
    std::fs::write(
        &p,
        "scrape_configs:\n  - job_name: a\n    file_sd_configs:\n      - files: ['targets/*.json']\n    bearer_token_file: token\n",
    )
    .unwrap();
    let c = load_file(&p).unwrap();
    let sc = &c.scrape_configs[0];
    assert_eq!(
        sc.file_sd_configs[0].files[0],
        dir.path().join("targets/*.json").display().to_string()
    );
    assert_eq!(
        sc.bearer_token_file.as_deref(),
        Some(dir.path().join("token").display().to_string().as_str())
    );
    let e = load_file(dir.path().join("missing.yml"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing.yml"), "{e}");
}

#[test]
fn scrape_config_files_are_merged() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("jobs")).unwrap();
    std::fs::write(
        dir.path().join("jobs/a.yml"),
        "scrape_configs:\n  - job_name: extra\n    static_configs:\n      - targets: ['h:1']\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("jobs/b.yml"),
        "scrape_configs:\n  - job_name: main\n",
    )
    .unwrap();
    let p = dir.path().join("prometheus.yml");
    std::fs::write(&p, "global:\n  scrape_interval: 7s\nscrape_config_files: ['jobs/a.yml']\nscrape_configs:\n  - job_name: main\n").unwrap();
    let c = load_file(&p).unwrap();
    assert_eq!(c.scrape_configs.len(), 2);
    assert_eq!(
        c.scrape_config("extra").unwrap().interval(),
        PromDuration(7_000)
    );
    std::fs::write(
        &p,
        "scrape_config_files: ['jobs/*.yml']\nscrape_configs:\n  - job_name: main\n",
    )
    .unwrap();
    let e = load_file(&p).unwrap_err().to_string();
    assert!(
        e.contains("b.yml:2:15") && e.contains("multiple scrape configs"),
        "{e}"
    );
}

#[test]
fn embedded_default_config_loads() {
    let c = load_str(DEFAULT_CONFIG, "<default>").unwrap();
    let jobs: Vec<_> = c
        .scrape_configs
        .iter()
        .map(|s| s.job_name.as_str())
        .collect();
    assert_eq!(jobs, ["argus", "node"]);
    assert_eq!(c.scrape_configs[1].interval(), PromDuration(15_000));
    assert_eq!(
        c.scrape_configs[1].static_configs[0].targets,
        ["localhost:9100"]
    );
}

fn k8s(body: &str) -> String {
    let mut text = String::from("scrape_configs:\n  - job_name: k\n    kubernetes_sd_configs:\n");
    for l in body.lines() {
        text.push_str("      ");
        text.push_str(l);
        text.push('\n');
    }
    text
}

#[test]
fn kubernetes_sd_config_parses_every_prometheus_field() {
    let c = load(&k8s(
        "- role: endpoints\n  api_server: https://10.0.0.1:6443\n  namespaces:\n    own_namespace: false\n    names: [default, monitoring]\n  selectors:\n    - role: pod\n      label: app=web\n      field: spec.nodeName=n1\n    - role: service\n      label: 'team in (a, b)'\n  attach_metadata:\n    node: true\n    namespace: true\n  bearer_token_file: token\n  tls_config:\n    ca_file: ca.crt\n    cert_file: c.crt\n    key_file: c.key\n    server_name: kubernetes\n    insecure_skip_verify: false\n  follow_redirects: true\n  enable_http2: false\n",
    ))
    .unwrap();
    let k = &c.scrape_configs[0].kubernetes_sd_configs[0];
    assert_eq!(k.role(), KubernetesRole::Endpoints);
    assert_eq!(k.namespaces.names, ["default", "monitoring"]);
    assert!(k.attach_metadata.node && k.attach_metadata.namespace);
    let sel = k.selector(KubernetesRole::Pod).unwrap();
    assert_eq!(sel.label.as_deref(), Some("app=web"));
    assert_eq!(sel.field.as_deref(), Some("spec.nodeName=n1"));
    assert_eq!(k.tls_config.server_name.as_deref(), Some("kubernetes"));
    assert!(c.unsupported().is_empty(), "{:?}", c.unsupported());
    // Relative files are resolved against the config file's directory.
    let c = load_str(
        &k8s("- role: node\n  kubeconfig_file: kube/config\n"),
        "/etc/argus/argus.yml",
    )
    .unwrap();
    let k = &c.scrape_configs[0].kubernetes_sd_configs[0];
    assert_eq!(k.kubeconfig_file.as_deref(), Some("/etc/argus/kube/config"));
    // The YAML written back loads again.
    let again = load_str(&c.to_yaml(), "again.yml").unwrap();
    assert_eq!(
        again.scrape_configs[0].kubernetes_sd_configs,
        c.scrape_configs[0].kubernetes_sd_configs
    );
}

#[test]
fn kubernetes_sd_config_errors_name_file_line_and_field() {
    let e = err(&k8s("- role: pod\n  bogus: 1\n"));
    assert!(e.starts_with("prometheus.yml:5:"), "{e}");
    assert!(e.contains("unknown field \"bogus\""), "{e}");
    let e = err(&k8s("- role: pod\n  namespaces:\n    nmes: [a]\n"));
    assert!(
        e.contains("prometheus.yml:6:") && e.contains("unknown field \"nmes\""),
        "{e}"
    );
    let e = err(&k8s("- role: pods\n"));
    assert!(
        e.contains("prometheus.yml:4:") && e.contains("unknown Kubernetes SD role \"pods\""),
        "{e}"
    );
    let e = err(&k8s("- api_server: https://k:6443\n"));
    assert!(
        e.contains("role missing (one of: pod, service, endpoints, endpointslice, node, ingress)"),
        "{e}"
    );
    assert!(
        e.contains("scrape_configs[0].kubernetes_sd_configs[0].role"),
        "{e}"
    );
    let e = err(&k8s(
        "- role: pod\n  api_server: https://k:6443\n  kubeconfig_file: /k\n",
    ));
    assert!(
        e.contains("cannot use 'kubeconfig_file' and 'api_server' simultaneously"),
        "{e}"
    );
    assert!(e.contains("prometheus.yml:6:"), "{e}");
    let e = err(&k8s(
        "- role: pod\n  kubeconfig_file: /k\n  bearer_token: x\n",
    ));
    assert!(
        e.contains("cannot use a custom HTTP client configuration together with 'kubeconfig_file'"),
        "{e}"
    );
    let e = err(&k8s(
        "- role: pod\n  tls_config:\n    insecure_skip_verify: true\n",
    ));
    assert!(e.contains("to use custom HTTP client configuration please provide the 'api_server' URL explicitly"), "{e}");
    let e = err(&k8s(
        "- role: pod\n  api_server: https://k:6443\n  namespaces:\n    own_namespace: true\n",
    ));
    assert!(
        e.contains("cannot use 'api_server' and 'namespaces.own_namespace' simultaneously"),
        "{e}"
    );
    let e = err(&k8s(
        "- role: node\n  selectors:\n    - role: pod\n      label: a=b\n",
    ));
    assert!(e.contains("node role supports only node selectors"), "{e}");
    assert!(e.contains("kubernetes_sd_configs[0].selectors[0]"), "{e}");
    let e = err(&k8s("- role: endpoints\n  selectors:\n    - role: node\n"));
    assert!(
        e.contains("endpoints role supports only pod, service, endpoints selectors"),
        "{e}"
    );
    let e = err(&k8s(
        "- role: pod\n  selectors:\n    - role: pod\n    - role: pod\n",
    ));
    assert!(e.contains("duplicated selector role: pod"), "{e}");
    let e = err(&k8s(
        "- role: pod\n  selectors:\n    - role: pod\n      label: 'app in web'\n",
    ));
    assert!(e.contains("invalid label selector"), "{e}");
    let e = err(&k8s(
        "- role: pod\n  selectors:\n    - role: pod\n      field: spec.nodeName\n",
    ));
    assert!(e.contains("invalid field selector"), "{e}");
    let e = err(&k8s("- role: pod\n  api_server: 'not a url'\n"));
    assert!(e.contains("invalid api_server"), "{e}");
    let e = err(&k8s(
        "- role: pod\n  api_server: https://k\n  bearer_token: a\n  bearer_token_file: b\n",
    ));
    assert!(
        e.contains("at most one of bearer_token & bearer_token_file"),
        "{e}"
    );
    // Selectors of related objects are accepted where Prometheus accepts them.
    load(&k8s("- role: pod\n  attach_metadata:\n    node: true\n  selectors:\n    - role: node\n      field: metadata.name=n1\n")).unwrap();
}

#[test]
fn kubernetes_sd_reports_what_it_does_not_do() {
    let c = load(&k8s("- role: pod\n  api_server: https://k:6443\n  proxy_url: http://proxy:3128\n  oauth2:\n    client_id: x\n")).unwrap();
    let u = c.unsupported();
    assert_eq!(u.len(), 2, "{u:?}");
    assert!(
        u.iter()
            .any(|m| m.contains("kubernetes_sd_configs[0]: proxies")),
        "{u:?}"
    );
    assert!(u.iter().any(|m| m.contains("oauth2")), "{u:?}");
}
