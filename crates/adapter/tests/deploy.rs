//! deploy/ validation: every manifest parses and is wired consistently, `kubectl kustomize`
//! renders the base, every rendered object matches the Kubernetes OpenAPI models (official
//! Python client) with no unknown fields, and the shipped configs pass their checkers
//! (Argus' config loader and adapter rules, promtool for rules, amtool for routing).
#![allow(clippy::indexing_slicing, clippy::unwrap_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_yaml_ng::Value;

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy")
}

fn docs(text: &str) -> Vec<Value> {
    serde_yaml_ng::Deserializer::from_str(text)
        .map(|d| Value::deserialize(d).unwrap())
        .filter(|v| !v.is_null())
        .collect()
}

use serde::Deserialize;

fn s<'a>(v: &'a Value, path: &str) -> &'a str {
    get(v, path)
        .as_str()
        .unwrap_or_else(|| panic!("{path} is not a string"))
}

fn get<'a>(v: &'a Value, path: &str) -> &'a Value {
    let mut cur = v;
    for part in path.split('.') {
        cur = match part.parse::<usize>() {
            Ok(i) => cur.get(i),
            Err(_) => cur.get(part),
        }
        .unwrap_or_else(|| panic!("missing {path} (at {part})"));
    }
    cur
}

fn manifests() -> Vec<Value> {
    let kust: Value = serde_yaml_ng::from_str(
        &std::fs::read_to_string(deploy_dir().join("kustomization.yaml")).unwrap(),
    )
    .unwrap();
    let mut out = Vec::new();
    for r in get(&kust, "resources").as_sequence().unwrap() {
        let text = std::fs::read_to_string(deploy_dir().join(r.as_str().unwrap())).unwrap();
        out.extend(docs(&text));
    }
    out
}

fn by_kind<'a>(all: &'a [Value], kind: &str) -> Vec<&'a Value> {
    all.iter().filter(|d| s(d, "kind") == kind).collect()
}

#[test]
fn manifests_are_complete_and_consistent() {
    let all = manifests();
    for d in &all {
        assert!(!s(d, "apiVersion").is_empty());
        assert!(!s(d, "metadata.name").is_empty(), "{d:?}");
    }
    // Every YAML file in deploy/ is listed in the kustomization.
    let listed: BTreeSet<String> = {
        let kust: Value = serde_yaml_ng::from_str(
            &std::fs::read_to_string(deploy_dir().join("kustomization.yaml")).unwrap(),
        )
        .unwrap();
        get(&kust, "resources")
            .as_sequence()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap().to_owned())
            .collect()
    };
    for e in std::fs::read_dir(deploy_dir()).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".yaml") && name != "kustomization.yaml" {
            assert!(
                listed.contains(&name),
                "{name} is not in kustomization.yaml"
            );
        }
    }

    let sts = by_kind(&all, "StatefulSet");
    assert_eq!(sts.len(), 1);
    let sts = sts[0];
    assert_eq!(get(sts, "spec.replicas").as_u64(), Some(2));
    let pod_labels = get(sts, "spec.template.metadata.labels");
    assert_eq!(get(sts, "spec.selector.matchLabels"), pod_labels);
    let anti = get(
        sts,
        "spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution.0",
    );
    assert_eq!(s(anti, "topologyKey"), "kubernetes.io/hostname");
    assert_eq!(get(anti, "labelSelector.matchLabels"), pod_labels);
    assert_eq!(s(sts, "spec.volumeClaimTemplates.0.metadata.name"), "data");
    let c = get(sts, "spec.template.spec.containers.0");
    // Guaranteed QoS: requests equal limits for CPU and memory.
    assert_eq!(get(c, "resources.requests"), get(c, "resources.limits"));
    assert!(get(c, "resources.requests").get("cpu").is_some());
    assert!(get(c, "resources.requests").get("memory").is_some());
    assert_eq!(s(c, "readinessProbe.httpGet.path"), "/-/ready");
    assert_eq!(s(c, "livenessProbe.httpGet.path"), "/-/healthy");
    assert!(get(c, "startupProbe").is_mapping());
    let ports: BTreeMap<&str, u64> = get(c, "ports")
        .as_sequence()
        .unwrap()
        .iter()
        .map(|p| (s(p, "name"), get(p, "containerPort").as_u64().unwrap()))
        .collect();
    assert_eq!(ports["adapter"], 6443);
    let args: Vec<&str> = get(c, "args")
        .as_sequence()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert!(args.contains(&"--adapter.listen-address=0.0.0.0:6443"));
    let service_name = s(sts, "spec.serviceName");
    let ns = s(sts, "metadata.namespace");
    for i in 0..2 {
        let peer = format!("--cluster.peer=argus-{i}.{service_name}.{ns}.svc:9094");
        assert!(args.contains(&peer.as_str()), "missing {peer}");
    }
    let mounted_maps: BTreeSet<&str> = get(sts, "spec.template.spec.volumes")
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|v| v.get("configMap").map(|c| s(c, "name")))
        .collect();
    assert_eq!(
        mounted_maps,
        BTreeSet::from(["argus-config", "argus-rules"])
    );

    // Services: headless peers for the StatefulSet, the adapter behind the APIServices.
    let services = by_kind(&all, "Service");
    let svc = |name: &str| {
        *services
            .iter()
            .find(|s2| s(s2, "metadata.name") == name)
            .unwrap()
    };
    let peers = svc(service_name);
    assert_eq!(s(peers, "spec.clusterIP"), "None");
    assert_eq!(
        get(peers, "spec.publishNotReadyAddresses").as_bool(),
        Some(true)
    );
    for svc_doc in &services {
        assert_eq!(get(svc_doc, "spec.selector"), pod_labels);
        for p in get(svc_doc, "spec.ports").as_sequence().unwrap() {
            let target = s(p, "targetPort");
            assert!(
                ports.contains_key(target),
                "targetPort {target} is not a container port"
            );
        }
    }
    let apisvcs = by_kind(&all, "APIService");
    let prio: BTreeMap<&str, (u64, &str)> = apisvcs
        .iter()
        .map(|a| {
            (
                s(a, "metadata.name"),
                (
                    get(a, "spec.versionPriority").as_u64().unwrap(),
                    s(a, "spec.service.name"),
                ),
            )
        })
        .collect();
    assert_eq!(
        prio.keys().copied().collect::<Vec<_>>(),
        [
            "v1beta1.custom.metrics.k8s.io",
            "v1beta1.external.metrics.k8s.io",
            "v1beta1.metrics.k8s.io",
            "v1beta2.custom.metrics.k8s.io"
        ]
    );
    assert!(prio["v1beta2.custom.metrics.k8s.io"].0 > prio["v1beta1.custom.metrics.k8s.io"].0);
    for a in &apisvcs {
        let name = s(a, "metadata.name");
        assert_eq!(
            name,
            format!("{}.{}", s(a, "spec.version"), s(a, "spec.group"))
        );
        let target = svc(s(a, "spec.service.name"));
        assert!(get(target, "spec.ports")
            .as_sequence()
            .unwrap()
            .iter()
            .any(|p| get(p, "port").as_u64() == get(a, "spec.service.port").as_u64()));
    }
    let pdb = by_kind(&all, "PodDisruptionBudget");
    assert_eq!(get(pdb[0], "spec.selector.matchLabels"), pod_labels);
    assert_eq!(get(pdb[0], "spec.minAvailable").as_u64(), Some(1));

    // RBAC: bindings name roles that exist (or are built in) and the service account.
    let roles: BTreeSet<&str> = by_kind(&all, "ClusterRole")
        .iter()
        .map(|r| s(r, "metadata.name"))
        .collect();
    for b in by_kind(&all, "ClusterRoleBinding")
        .into_iter()
        .chain(by_kind(&all, "RoleBinding"))
    {
        let role = s(b, "roleRef.name");
        assert!(
            roles.contains(role)
                || [
                    "system:auth-delegator",
                    "extension-apiserver-authentication-reader"
                ]
                .contains(&role),
            "{role}"
        );
    }
    let sd = by_kind(&all, "ClusterRole")
        .into_iter()
        .find(|r| s(r, "metadata.name") == "argus")
        .unwrap();
    let text = serde_yaml_ng::to_string(sd).unwrap();
    for needed in [
        "nodes/metrics",
        "endpointslices",
        "pods",
        "services",
        "endpoints",
    ] {
        assert!(text.contains(needed), "SD role lacks {needed}");
    }
    assert_eq!(by_kind(&all, "DaemonSet").len(), 1);
    assert_eq!(
        s(by_kind(&all, "ServiceAccount")[0], "metadata.name"),
        s(sts, "spec.template.spec.serviceAccountName")
    );
}

#[test]
fn shipped_configs_load() {
    let cfg = deploy_dir().join("config");
    let adapter = argus_adapter::AdapterConfig::load(&cfg.join("adapter.yaml")).unwrap();
    assert!(adapter.warnings.is_empty(), "{:?}", adapter.warnings);
    assert!(adapter.resource_rules.is_some());
    let argus = argus_scrape::config::load_file(cfg.join("argus.yml")).unwrap();
    let jobs: Vec<&str> = argus
        .scrape_configs
        .iter()
        .map(|j| j.job_name.as_str())
        .collect();
    for job in [
        "apiserver",
        "kubelet",
        "cadvisor",
        "node-exporter",
        "etcd",
        "kube-scheduler",
        "kube-controller-manager",
    ] {
        assert!(jobs.contains(&job), "missing scrape job {job}: {jobs:?}");
    }
    assert_eq!(argus.rule_files, vec!["/etc/argus/rules/*.yml".to_owned()]);
}

fn run(cmd: &mut Command, stdin: Option<&[u8]>) -> (bool, String, String) {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child.stdin.take().unwrap().write_all(input).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn kustomize_renders_objects_that_match_the_kubernetes_models() {
    if !common::require_peer("kubectl", "kubernetes-client") {
        return;
    }
    let (ok, rendered, err) = run(
        Command::new("kubectl").arg("kustomize").arg(deploy_dir()),
        None,
    );
    assert!(ok, "kubectl kustomize failed: {err}");
    let objs = docs(&rendered);
    let kinds: BTreeSet<String> = objs
        .iter()
        .map(|o| format!("{}/{}", s(o, "kind"), s(o, "metadata.name")))
        .collect();
    for want in [
        "ConfigMap/argus-config",
        "ConfigMap/argus-rules",
        "StatefulSet/argus",
        "APIService/v1beta2.custom.metrics.k8s.io",
        "PodDisruptionBudget/argus",
    ] {
        assert!(kinds.contains(want), "{want} not rendered: {kinds:?}");
    }
    let cm = objs
        .iter()
        .find(|o| s(o, "metadata.name") == "argus-config")
        .unwrap();
    for key in ["argus.yml", "adapter.yaml", "alertmanager.yml"] {
        assert!(
            get(cm, "data").get(key).is_some(),
            "argus-config lacks {key}"
        );
    }
    assert_eq!(s(cm, "metadata.namespace"), "monitoring");
    // The auth reader binding must stay in kube-system.
    let rb = objs.iter().find(|o| s(o, "kind") == "RoleBinding").unwrap();
    assert_eq!(s(rb, "metadata.namespace"), "kube-system");

    let python_ok = Command::new("python3")
        .args(["-c", "import kubernetes, yaml"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !python_ok {
        assert_eq!(
            std::env::var("ARGUS_SKIP_PEER_TESTS").as_deref(),
            Ok("1"),
            "python3 with `kubernetes` and `yaml` is required (pip install kubernetes pyyaml) \
             or set ARGUS_SKIP_PEER_TESTS=1"
        );
        return;
    }
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/python/k8s_models_check.py"
    );
    let (ok, out, err) = run(
        Command::new("python3").arg(script),
        Some(rendered.as_bytes()),
    );
    assert!(ok, "manifests do not match the Kubernetes models:\n{err}");
    assert_eq!(out.lines().count(), objs.len());
    let example = std::fs::read(deploy_dir().join("examples/hpa-custom-metric.yaml")).unwrap();
    let (ok, _, err) = run(Command::new("python3").arg(script), Some(&example));
    assert!(ok, "example HPA: {err}");
}

#[test]
fn rules_and_alertmanager_config_pass_promtool_and_amtool() {
    if !common::require_peer_cmd("promtool", &["--version"], "prometheus")
        || !common::require_peer_cmd("amtool", &["--version"], "prometheus-alertmanager")
    {
        return;
    }
    let cfg = deploy_dir().join("config");
    let rules: Vec<PathBuf> = std::fs::read_dir(cfg.join("rules"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(rules.len(), 3);
    let (ok, out, err) = run(
        Command::new("promtool")
            .args(["check", "rules"])
            .args(&rules),
        None,
    );
    assert!(ok, "promtool check rules:\n{out}{err}");
    let (ok, out, err) = run(
        Command::new("amtool")
            .arg("check-config")
            .arg(cfg.join("alertmanager.yml")),
        None,
    );
    assert!(ok, "amtool check-config:\n{out}{err}");
}
