use super::*;
use crate::config::GroupResource;

fn testdata(name: &str) -> String {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/prometheus-adapter")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn default_config_compiles() {
    let c = AdapterConfig::embedded_default().unwrap();
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert_eq!(c.rules.len(), 6);
    assert_eq!(c.external_rules.len(), 2);
    let rr = c.resource_rules.expect("resource rules");
    assert_eq!(rr.window_ms, 120_000);
    assert_eq!(rr.cpu.container_label, "container");
    let cpu = &c.rules[0];
    assert_eq!(
        cpu.metric_name("container_cpu_usage_seconds_total")
            .as_deref(),
        Some("cpu_usage")
    );
    assert_eq!(
        c.rules[1].metric_name("container_cpu_usage_seconds_total"),
        None
    );
    assert_eq!(
        c.rules[4].metric_name("http_requests_total").as_deref(),
        Some("http_requests")
    );
    assert_eq!(
        c.external_rules[0]
            .metric_name("queue_messages_total")
            .as_deref(),
        Some("queue_messages_per_second")
    );
    assert!(!c.external_rules[0].namespaced);
}

#[test]
fn prometheus_adapter_walkthrough_configs_load_unchanged() {
    let c = AdapterConfig::parse(&testdata("config-walkthrough.yaml")).unwrap();
    let r = &c.rules[0];
    assert_eq!(
        r.metric_name("http_requests_total").as_deref(),
        Some("http_requests_per_second")
    );
    assert_eq!(
        r.resources
            .label_for_resource(&GroupResource::core("pods"))
            .as_deref(),
        Some("kubernetes_pod_name")
    );
    assert!(c.resource_rules.is_none());

    let e = AdapterConfig::parse(&testdata("external-metrics.yaml")).unwrap();
    assert_eq!(e.external_rules.len(), 2);
    assert!(e.external_rules[0].namespaced);
    assert!(!e.external_rules[1].namespaced);
    assert_eq!(
        e.external_rules[1].metric_name("queue_depth").as_deref(),
        Some("queue_depth")
    );

    let rr = AdapterConfig::parse(&testdata("resource-rules.yaml")).unwrap();
    let rr = rr.resource_rules.unwrap();
    assert_eq!(rr.window_ms, 300_000);
    assert!(rr.cpu.container_query.source().contains("irate"));

    let w = AdapterConfig::parse(&testdata("walkthrough-hpa.yaml")).unwrap();
    assert_eq!(
        w.rules[0].metric_name("http_requests_total").as_deref(),
        Some("http_requests")
    );
    assert_eq!(w.rules[0].metric_name("cpu_seconds_total"), None);
}

#[test]
fn upstream_sample_config_is_refused_with_a_clear_error() {
    let e = AdapterConfig::parse(&testdata("sample-config.yaml")).unwrap_err();
    assert!(matches!(e, ConfigError::Yaml(_)), "{e}");
    assert!(e.to_string().contains("line"), "{e}");
}

#[test]
fn unknown_keys_are_warnings() {
    let c = AdapterConfig::parse(
        r#"
rules:
- seriesQuery: 'cheddar{sharp="true"}'
  name: {as: "cheesy_goodness"}
  resources:
    overrides:
      brand: {group: "cheese.io", resource: "brand"}
  metricQuery: 'count(cheddar{sharp="true"})'
"#,
    )
    .unwrap();
    assert_eq!(
        c.warnings,
        vec![r#"rules[0]: unknown key "metricQuery" ignored"#.to_owned()]
    );
    assert_eq!(c.rules[0].metrics_query.source(), DEFAULT_METRICS_QUERY);
    assert_eq!(
        c.rules[0].metric_name("cheddar").as_deref(),
        Some("cheesy_goodness")
    );
}

#[test]
fn bad_configs_are_refused_clearly() {
    for (yaml, needle) in [
        ("rules: [{}]", "seriesQuery is required"),
        ("rules: [{seriesQuery: 'up{'}]", "seriesQuery"),
        (
            "rules: [{seriesQuery: up, seriesFilters: [{is: a, isNot: b}]}]",
            "exactly one of",
        ),
        ("rules: [{seriesQuery: up, name: {matches: '('}}]", "name.matches"),
        (
            "rules: [{seriesQuery: up, name: {matches: '(a)(b)'}}]",
            "name.as is required",
        ),
        (
            "rules: [{seriesQuery: up, metricsQuery: '<<.Bogus>>'}]",
            "unknown field .Bogus",
        ),
        (
            "rules: [{seriesQuery: up, resources: {template: 'x_<<.Group>>'}}]",
            "must include <<.Resource>>",
        ),
        ("rules: [{seriesQuery: up, on_absent: sometimes}]", "unknown variant"),
        ("rules: 5", "invalid type"),
        (
            "resourceRules: {cpu: {containerQuery: a, nodeQuery: b}, memory: {containerQuery: a, nodeQuery: b}}",
            "must map a label to the pod resource",
        ),
        ("resourceRules: {window: 5q}", "resourceRules.window"),
    ] {
        let e = AdapterConfig::parse(yaml).unwrap_err().to_string();
        assert!(e.contains(needle), "{yaml}: {e}");
    }
    assert!(AdapterConfig::parse("").unwrap().rules.is_empty());
}

#[test]
fn on_absent_parses_both_spellings() {
    let c = AdapterConfig::parse(
        "rules: [{seriesQuery: up, on_absent: zero}, {seriesQuery: up, onAbsent: error}]",
    )
    .unwrap();
    assert_eq!(c.rules[0].on_absent, OnAbsent::Zero);
    assert_eq!(c.rules[1].on_absent, OnAbsent::Error);
}
