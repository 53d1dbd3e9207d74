//! API discovery documents (`metav1.APIGroupList`, `APIGroup`, `APIResourceList`).

use serde::Serialize;

/// `metav1.GroupVersionForDiscovery`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupVersion {
    /// `group/version`.
    pub group_version: String,
    /// `version`.
    pub version: String,
}

impl GroupVersion {
    /// `group/version`.
    pub fn new(group: &str, version: &str) -> Self {
        Self {
            group_version: format!("{group}/{version}"),
            version: version.to_owned(),
        }
    }
}

/// `metav1.APIGroup`; `kind`/`apiVersion` are set when served alone, absent inside a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiGroup {
    /// `APIGroup` when served alone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<&'static str>,
    /// `v1` when served alone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_version: Option<&'static str>,
    /// Group name.
    pub name: String,
    /// Versions, preferred first.
    pub versions: Vec<GroupVersion>,
    /// The preferred version.
    pub preferred_version: GroupVersion,
}

/// `metav1.APIGroupList`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiGroupList {
    /// `APIGroupList`.
    pub kind: &'static str,
    /// `v1`.
    pub api_version: &'static str,
    /// Groups.
    pub groups: Vec<ApiGroup>,
}

/// `metav1.APIResource`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiResource {
    /// Resource name (`pods`, or `pods/http_requests` for a custom metric).
    pub name: String,
    /// Always empty for these groups.
    pub singular_name: String,
    /// Whether the resource lives in a namespace.
    pub namespaced: bool,
    /// Kind served (`MetricValueList`, `PodMetrics`, ...).
    pub kind: String,
    /// Verbs.
    pub verbs: Vec<&'static str>,
}

/// `metav1.APIResourceList`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiResourceList {
    /// `APIResourceList`.
    pub kind: &'static str,
    /// `v1`.
    pub api_version: &'static str,
    /// `group/version`.
    pub group_version: String,
    /// Resources.
    pub resources: Vec<ApiResource>,
}

impl ApiResourceList {
    /// A list for `group_version`.
    pub fn new(group_version: String, resources: Vec<ApiResource>) -> Self {
        Self {
            kind: "APIResourceList",
            api_version: "v1",
            group_version,
            resources,
        }
    }
}
