//! Kubernetes group-resources and their mapping to and from Prometheus labels
//! (`resources.overrides` and `resources.template` of a prometheus-adapter rule).
//!
//! prometheus-adapter resolves resource names through the cluster's RESTMapper. Argus
//! serves the metrics APIs without needing the cluster API, so it resolves them through a
//! built-in table of the workload resources HPAs and dashboards refer to. Resources outside
//! the table are still accepted in `overrides` (plural guessed by English rules,
//! namespaced, kind from the singular), so configs written for CRDs load unchanged.

use std::collections::BTreeMap;

use regex::Regex;

use super::template::Template;
use super::ConfigError;

/// A Kubernetes resource as the metrics APIs name it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupResource {
    /// API group; empty for the core group.
    pub group: String,
    /// Plural resource name (`pods`).
    pub resource: String,
}

impl GroupResource {
    /// A core-group resource.
    pub fn core(resource: &str) -> Self {
        Self {
            group: String::new(),
            resource: resource.to_owned(),
        }
    }

    /// `resource` or `resource.group`, as in discovery names and paths.
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.resource.clone()
        } else {
            format!("{}.{}", self.resource, self.group)
        }
    }

    /// Parses a path segment (`pods`, `deployments.apps`, `pod`, `deployment.apps`).
    pub fn from_path(segment: &str) -> Self {
        let (res, group) = segment.split_once('.').unwrap_or((segment, ""));
        normalize(group, res).0
    }

    /// Facts about this resource.
    pub fn info(&self) -> ResourceInfo {
        lookup(&self.group, &self.resource).unwrap_or_else(|| guess(&self.group, &self.resource))
    }
}

/// What the APIs need to know about a resource kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceInfo {
    /// Singular name (`pod`).
    pub singular: String,
    /// Kind (`Pod`).
    pub kind: String,
    /// `apiVersion` of the kind (`v1`, `apps/v1`).
    pub api_version: String,
    /// Whether objects live in namespaces.
    pub namespaced: bool,
}

/// (group, singular, plural, kind, version, namespaced)
const KNOWN: &[(&str, &str, &str, &str, &str, bool)] = &[
    ("", "pod", "pods", "Pod", "v1", true),
    ("", "node", "nodes", "Node", "v1", false),
    ("", "namespace", "namespaces", "Namespace", "v1", false),
    ("", "service", "services", "Service", "v1", true),
    ("", "endpoints", "endpoints", "Endpoints", "v1", true),
    (
        "",
        "persistentvolumeclaim",
        "persistentvolumeclaims",
        "PersistentVolumeClaim",
        "v1",
        true,
    ),
    (
        "",
        "persistentvolume",
        "persistentvolumes",
        "PersistentVolume",
        "v1",
        false,
    ),
    (
        "",
        "replicationcontroller",
        "replicationcontrollers",
        "ReplicationController",
        "v1",
        true,
    ),
    (
        "apps",
        "deployment",
        "deployments",
        "Deployment",
        "v1",
        true,
    ),
    (
        "apps",
        "statefulset",
        "statefulsets",
        "StatefulSet",
        "v1",
        true,
    ),
    ("apps", "daemonset", "daemonsets", "DaemonSet", "v1", true),
    (
        "apps",
        "replicaset",
        "replicasets",
        "ReplicaSet",
        "v1",
        true,
    ),
    ("batch", "job", "jobs", "Job", "v1", true),
    ("batch", "cronjob", "cronjobs", "CronJob", "v1", true),
    (
        "networking.k8s.io",
        "ingress",
        "ingresses",
        "Ingress",
        "v1",
        true,
    ),
    (
        "autoscaling",
        "horizontalpodautoscaler",
        "horizontalpodautoscalers",
        "HorizontalPodAutoscaler",
        "v2",
        true,
    ),
    (
        "policy",
        "poddisruptionbudget",
        "poddisruptionbudgets",
        "PodDisruptionBudget",
        "v1",
        true,
    ),
];

fn lookup(group: &str, resource: &str) -> Option<ResourceInfo> {
    KNOWN
        .iter()
        .find(|(g, s, p, ..)| *g == group && (*p == resource || *s == resource))
        .map(|&(g, s, _, k, v, ns)| ResourceInfo {
            singular: s.to_owned(),
            kind: k.to_owned(),
            api_version: if g.is_empty() {
                v.to_owned()
            } else {
                format!("{g}/{v}")
            },
            namespaced: ns,
        })
}

fn guess(group: &str, resource: &str) -> ResourceInfo {
    let singular = singularize(resource);
    let mut kind = String::new();
    let mut chars = singular.chars();
    if let Some(c) = chars.next() {
        kind.extend(c.to_uppercase());
        kind.extend(chars);
    }
    ResourceInfo {
        kind,
        api_version: if group.is_empty() {
            "v1".to_owned()
        } else {
            format!("{group}/v1")
        },
        namespaced: true,
        singular,
    }
}

fn singularize(plural: &str) -> String {
    if let Some(stem) = plural.strip_suffix("ies") {
        format!("{stem}y")
    } else if let Some(stem) = plural.strip_suffix("sses") {
        format!("{stem}ss")
    } else if plural.ends_with("ss") {
        plural.to_owned()
    } else if let Some(stem) = plural.strip_suffix('s') {
        stem.to_owned()
    } else {
        plural.to_owned()
    }
}

fn pluralize(singular: &str) -> String {
    if singular.ends_with('s') || singular.ends_with("ch") || singular.ends_with('x') {
        format!("{singular}es")
    } else if let Some(stem) = singular
        .strip_suffix('y')
        .filter(|s| !s.ends_with(['a', 'e', 'i', 'o', 'u']))
    {
        format!("{stem}ies")
    } else {
        format!("{singular}s")
    }
}

/// Normalizes a user-written resource (`pod`, `pods`, `Pod`) to its plural
/// group-resource; the flag says whether it is a known resource.
pub fn normalize(group: &str, resource: &str) -> (GroupResource, bool) {
    let resource = resource.to_ascii_lowercase();
    if let Some(&(g, _, p, ..)) = KNOWN
        .iter()
        .find(|(g, s, p, ..)| *g == group && (*p == resource || *s == resource))
    {
        return (
            GroupResource {
                group: g.to_owned(),
                resource: p.to_owned(),
            },
            true,
        );
    }
    // A group given without its domain (`networking` for `networking.k8s.io`)?
    if group.is_empty() {
        if let Some(&(g, _, p, ..)) = KNOWN
            .iter()
            .find(|(_, s, p, ..)| *p == resource || *s == resource)
        {
            return (
                GroupResource {
                    group: g.to_owned(),
                    resource: p.to_owned(),
                },
                true,
            );
        }
    }
    let plural = if resource.ends_with('s') {
        resource
    } else {
        pluralize(&resource)
    };
    (
        GroupResource {
            group: group.to_owned(),
            resource: plural,
        },
        false,
    )
}

/// Maps series labels to resources and back, for one rule.
#[derive(Debug, Clone)]
pub struct ResourceConverter {
    label_to_resource: BTreeMap<String, GroupResource>,
    resource_to_label: BTreeMap<GroupResource, String>,
    template: Option<Template>,
    /// The template as regexes: lazy and greedy group captures, because a label like
    /// `kube_networking_k8s_io_ingress` splits differently than `kube_apps_deployment`.
    template_regex: Vec<Regex>,
}

impl ResourceConverter {
    /// Builds a converter from `overrides` (label → group/resource) and a label template.
    pub fn new(
        template: Option<&str>,
        overrides: &BTreeMap<String, (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut label_to_resource = BTreeMap::new();
        let mut resource_to_label = BTreeMap::new();
        for (label, (group, resource)) in overrides {
            if resource.is_empty() {
                return Err(ConfigError::Invalid(format!(
                    "resources.overrides.{label}: resource must not be empty"
                )));
            }
            let (gr, _) = normalize(group, resource);
            label_to_resource.insert(label.clone(), gr.clone());
            resource_to_label.insert(gr, label.clone());
        }
        let (template, template_regex) = match template.filter(|t| !t.is_empty()) {
            None => (None, Vec::new()),
            Some(src) => {
                let t = Template::parse(src, &["Group", "Resource"])
                    .map_err(|e| ConfigError::Invalid(format!("resources.template: {e}")))?;
                if !t.uses("Resource") {
                    return Err(ConfigError::Invalid(format!(
                        "resources.template {src:?} must include <<.Resource>>"
                    )));
                }
                let mut res = Vec::new();
                for group in ["(?P<group>.+?)", "(?P<group>.+)"] {
                    let pattern = t.render(|f| {
                        if f == "Group" {
                            group
                        } else {
                            "(?P<resource>.+?)"
                        }
                    });
                    let re = Regex::new(&format!("^{pattern}$")).map_err(|e| {
                        ConfigError::Invalid(format!("resources.template {src:?}: {e}"))
                    })?;
                    res.push(re);
                }
                (Some(t), res)
            }
        };
        Ok(Self {
            label_to_resource,
            resource_to_label,
            template,
            template_regex,
        })
    }

    /// The resource a label names, if any. Template matches count only for known
    /// resources, as an unresolvable name would in prometheus-adapter.
    pub fn resource_for_label(&self, label: &str) -> Option<GroupResource> {
        if let Some(r) = self.label_to_resource.get(label) {
            return Some(r.clone());
        }
        for re in &self.template_regex {
            let Some(caps) = re.captures(label) else {
                continue;
            };
            let Some(resource) = caps.name("resource").map(|r| r.as_str()) else {
                continue;
            };
            let group = caps.name("group").map_or("", |g| g.as_str());
            // Groups are written with `_` for `.` in labels; try the dotted form first.
            for g in [group.replace('_', "."), group.to_owned()] {
                let (gr, known) = normalize(&g, resource);
                if known {
                    return Some(gr);
                }
            }
        }
        None
    }

    /// The label holding names of `resource`.
    pub fn label_for_resource(&self, resource: &GroupResource) -> Option<String> {
        if let Some(l) = self.resource_to_label.get(resource) {
            return Some(l.clone());
        }
        let t = self.template.as_ref()?;
        let group = resource.group.replace(['.', '-'], "_");
        let singular = resource.info().singular;
        let label = t.render(|f| if f == "Group" { &group } else { &singular });
        (!label.is_empty()).then_some(label)
    }

    /// The resources a series with these label names is about, and whether it carries a
    /// namespace.
    pub fn resources_for_labels<'a>(
        &self,
        names: impl IntoIterator<Item = &'a str>,
    ) -> (Vec<GroupResource>, bool) {
        let mut out = Vec::new();
        let mut namespaced = false;
        for n in names {
            if let Some(r) = self.resource_for_label(n) {
                if r == GroupResource::core("namespaces") {
                    namespaced = true;
                }
                if !out.contains(&r) {
                    out.push(r);
                }
            }
        }
        (out, namespaced)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ov(pairs: &[(&str, &str, &str)]) -> BTreeMap<String, (String, String)> {
        pairs
            .iter()
            .map(|(l, g, r)| (l.to_string(), (g.to_string(), r.to_string())))
            .collect()
    }

    #[test]
    fn overrides_accept_singular_and_plural() {
        let c = ResourceConverter::new(
            None,
            &ov(&[
                ("namespace", "", "namespace"),
                ("pod", "", "pods"),
                ("microservice", "apps", "deployment"),
                ("brand", "cheese.io", "brand"),
            ]),
        )
        .unwrap();
        assert_eq!(
            c.resource_for_label("pod"),
            Some(GroupResource::core("pods"))
        );
        let dep = GroupResource {
            group: "apps".into(),
            resource: "deployments".into(),
        };
        assert_eq!(c.resource_for_label("microservice"), Some(dep.clone()));
        assert_eq!(c.label_for_resource(&dep).as_deref(), Some("microservice"));
        let brand = c.resource_for_label("brand").unwrap();
        assert_eq!(brand.qualified(), "brands.cheese.io");
        assert_eq!(brand.info().kind, "Brand");
        assert_eq!(c.resource_for_label("job"), None);
        let (res, ns) = c.resources_for_labels(["namespace", "pod", "instance"]);
        assert!(ns);
        assert_eq!(res.len(), 2);
    }

    #[test]
    fn templates_map_both_ways() {
        let c = ResourceConverter::new(Some("kube_<<.Group>>_<<.Resource>>"), &ov(&[])).unwrap();
        let dep = c.resource_for_label("kube_apps_deployment").unwrap();
        assert_eq!(dep.qualified(), "deployments.apps");
        assert_eq!(
            c.label_for_resource(&dep).as_deref(),
            Some("kube_apps_deployment")
        );
        let ing = c
            .resource_for_label("kube_networking_k8s_io_ingress")
            .unwrap();
        assert_eq!(ing.qualified(), "ingresses.networking.k8s.io");
        assert_eq!(c.resource_for_label("kube_apps_nonsense"), None);

        let plain = ResourceConverter::new(Some("<<.Resource>>"), &ov(&[])).unwrap();
        assert_eq!(
            plain.resource_for_label("pod"),
            Some(GroupResource::core("pods"))
        );
        assert_eq!(
            plain.resource_for_label("namespace"),
            Some(GroupResource::core("namespaces"))
        );
        assert_eq!(plain.resource_for_label("verb"), None);
        assert_eq!(
            plain
                .label_for_resource(&GroupResource::core("nodes"))
                .as_deref(),
            Some("node")
        );
        assert!(ResourceConverter::new(Some("kube_<<.Group>>"), &ov(&[])).is_err());
    }

    #[test]
    fn infos_and_paths() {
        assert_eq!(
            GroupResource::from_path("pods"),
            GroupResource::core("pods")
        );
        assert_eq!(GroupResource::from_path("pod"), GroupResource::core("pods"));
        let d = GroupResource::from_path("deployments.apps");
        assert_eq!(d.info().api_version, "apps/v1");
        assert!(!GroupResource::core("nodes").info().namespaced);
        assert_eq!(pluralize("policy"), "policies");
        assert_eq!(singularize("widgets"), "widget");
    }
}
