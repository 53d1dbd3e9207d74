//! Serde types for the Kubernetes API objects the adapter serves, field for field as
//! `k8s.io/apimachinery/pkg/apis/meta/v1` and `k8s.io/metrics/pkg/apis/*` define them.
//!
//! The Rust Kubernetes crates carry no types for the metrics groups, so they are defined
//! here. JSON keys, their order (Go struct order) and `omitempty` behaviour follow the Go
//! definitions, because clients and golden tests compare raw JSON.

pub mod discovery;
pub mod metrics;

use std::collections::BTreeMap;

use serde::Serialize;

/// `metav1.ListMeta` with every field empty (serializes as `{}`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ListMeta {}

/// The subset of `metav1.ObjectMeta` metrics objects carry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    /// Object name.
    pub name: String,
    /// Namespace, empty for cluster-scoped objects.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    /// When this view of the object was made (RFC 3339, seconds).
    pub creation_timestamp: String,
    /// The object's labels, when known.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

/// `core/v1.ObjectReference` (the `describedObject` of a custom metric).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectReference {
    /// Kind, e.g. `Pod`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// Namespace of the object.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    /// Name of the object.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// API version of the object's kind, e.g. `v1` or `apps/v1`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub api_version: String,
}

/// `metav1.Status`, the body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    /// Always `Status`.
    pub kind: &'static str,
    /// Always `v1`.
    #[serde(rename = "apiVersion")]
    pub api_version: &'static str,
    /// Always empty.
    pub metadata: ListMeta,
    /// Always `Failure` here.
    pub status: &'static str,
    /// Human-readable description.
    pub message: String,
    /// Machine-readable reason (`NotFound`, `BadRequest`, `Unauthorized`, ...).
    pub reason: &'static str,
    /// Extra detail about the object concerned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<StatusDetails>,
    /// HTTP status code.
    pub code: u16,
}

/// `metav1.StatusDetails`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StatusDetails {
    /// Name of the object.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// API group.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub group: String,
    /// Kind (resource) of the object.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub kind: String,
}

impl Status {
    /// A failure status.
    pub fn failure(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            kind: "Status",
            api_version: "v1",
            metadata: ListMeta {},
            status: "Failure",
            message: message.into(),
            reason,
            details: None,
            code,
        }
    }

    /// Adds details.
    pub fn with_details(mut self, details: StatusDetails) -> Self {
        self.details = Some(details);
        self
    }
}

/// `metav1.Time` JSON: RFC 3339 in UTC with whole seconds.
pub fn format_time(t_ms: i64) -> String {
    argus_model::api::format_rfc3339(t_ms.div_euclid(1000) * 1000)
}

/// `metav1.Duration` JSON: Go's `time.Duration.String()` (`30s`, `1m0s`, `1.5s`, `500ms`).
pub fn format_go_duration(ms: i64) -> String {
    if ms == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    let mut rest = ms.unsigned_abs();
    if ms < 0 {
        out.push('-');
    }
    if rest < 1000 {
        out.push_str(&format!("{rest}ms"));
        return out;
    }
    let h = rest / 3_600_000;
    rest %= 3_600_000;
    let m = rest / 60_000;
    rest %= 60_000;
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if h > 0 || m > 0 {
        out.push_str(&format!("{m}m"));
    }
    let (s, frac) = (rest / 1000, rest % 1000);
    if frac == 0 {
        out.push_str(&format!("{s}s"));
    } else {
        let f = format!("{frac:03}");
        out.push_str(&format!("{s}.{}s", f.trim_end_matches('0')));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        for (ms, want) in [
            (0, "0s"),
            (500, "500ms"),
            (1500, "1.5s"),
            (30_000, "30s"),
            (60_000, "1m0s"),
            (300_000, "5m0s"),
            (90_500, "1m30.5s"),
            (3_600_000, "1h0m0s"),
            (20_038, "20.038s"),
        ] {
            assert_eq!(format_go_duration(ms), want);
        }
    }

    #[test]
    fn times_are_whole_seconds() {
        assert_eq!(format_time(1_700_000_000_999), "2023-11-14T22:13:20Z");
        assert_eq!(format_time(0), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn status_json() {
        let s = Status::failure(404, "NotFound", "gone").with_details(StatusDetails {
            name: "p".into(),
            group: "metrics.k8s.io".into(),
            kind: "pods".into(),
        });
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"gone","reason":"NotFound","details":{"name":"p","group":"metrics.k8s.io","kind":"pods"},"code":404}"#
        );
    }
}
