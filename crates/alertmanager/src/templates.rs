//! Notification templates: Alertmanager's default template names (`__subject`,
//! `email.default.subject`, `email.default.html`, `__text_alert_list`, ...) with Argus'
//! own default texts, the user's template files (`templates:` globs), and the conversion
//! of notification data into template values with Alertmanager's methods
//! (`.Alerts.Firing`, `.GroupLabels.SortedPairs`, `.CommonLabels.Remove`).

use std::collections::BTreeMap;

use argus_template::alertmanager::{alerts, functions, kv};
use argus_template::{GoTime, MissingKey, Template, TemplateError, Value};
use chrono::{DateTime, Utc};

use crate::notify::data::NotificationData;

/// Default templates. The names and the subject format are Alertmanager's (users'
/// templates and mail filters refer to them); the HTML body is Argus' own.
pub const DEFAULT_TEMPLATES: &str = r#"
{{ define "__alertmanager" }}Alertmanager{{ end }}
{{ define "__alertmanagerURL" }}{{ .ExternalURL }}/#/alerts?receiver={{ .Receiver | urlquery }}{{ end }}
{{ define "__subject" }}[{{ .Status | toUpper }}{{ if eq .Status "firing" }}:{{ .Alerts.Firing | len }}{{ end }}] {{ .GroupLabels.SortedPairs.Values | join " " }} {{ if gt (len .CommonLabels) (len .GroupLabels) }}({{ with .CommonLabels.Remove .GroupLabels.Names }}{{ .Values | join " " }}{{ end }}){{ end }}{{ end }}
{{ define "__description" }}{{ end }}
{{ define "__text_alert_list" }}{{ range . }}Labels:
{{ range .Labels.SortedPairs }} - {{ .Name }} = {{ .Value }}
{{ end }}Annotations:
{{ range .Annotations.SortedPairs }} - {{ .Name }} = {{ .Value }}
{{ end }}Source: {{ .GeneratorURL }}
{{ end }}{{ end }}
{{ define "email.default.subject" }}{{ template "__subject" . }}{{ end }}
{{ define "__email_alert" }}<div style="margin:0 0 16px 0;padding:8px 12px;border-left:4px solid {{ if eq .Status "firing" }}#d9534f{{ else }}#5cb85c{{ end }};background:#fafafa">
<b>Labels</b><br />
{{ range .Labels.SortedPairs }}{{ .Name }} = {{ .Value }}<br />
{{ end }}{{ if gt (len .Annotations) 0 }}<b>Annotations</b><br />
{{ range .Annotations.SortedPairs }}{{ .Name }} = {{ .Value }}<br />
{{ end }}{{ end }}<a href="{{ .GeneratorURL }}">Source</a>
</div>
{{ end }}
{{ define "email.default.html" }}<!DOCTYPE html>
<html>
<head>
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8" />
<meta name="viewport" content="width=device-width" />
<title>{{ template "__subject" . }}</title>
</head>
<body style="font-family:Helvetica,Arial,sans-serif;font-size:14px;background:#f6f6f6;margin:0;padding:16px">
<div style="max-width:640px;margin:0 auto;background:#fff;border:1px solid #e9e9e9;border-radius:3px">
<div style="padding:16px;color:#fff;font-size:16px;text-align:center;background:{{ if eq .Status "firing" }}#e6522c{{ else }}#5cb85c{{ end }}">
{{ .Alerts | len }} alert{{ if gt (len .Alerts) 1 }}s{{ end }} for {{ range .GroupLabels.SortedPairs }}{{ .Name }}={{ .Value }} {{ end }}
</div>
<div style="padding:16px">
<p><a href="{{ template "__alertmanagerURL" . }}">View in {{ template "__alertmanager" . }}</a></p>
{{ if gt (len .Alerts.Firing) 0 }}<p><b>[{{ .Alerts.Firing | len }}] Firing</b></p>
{{ range .Alerts.Firing }}{{ template "__email_alert" . }}{{ end }}{{ end }}
{{ if gt (len .Alerts.Resolved) 0 }}<p><b>[{{ .Alerts.Resolved | len }}] Resolved</b></p>
{{ range .Alerts.Resolved }}{{ template "__email_alert" . }}{{ end }}{{ end }}
</div>
</div>
<p style="text-align:center;color:#999;font-size:12px"><a href="{{ .ExternalURL }}" style="color:#999">Sent by {{ template "__alertmanager" . }}</a></p>
</body>
</html>
{{ end }}
{{ define "email.default.text" }}{{ template "__subject" . }}
{{ if gt (len .Alerts.Firing) 0 }}
Alerts Firing:
{{ template "__text_alert_list" .Alerts.Firing }}{{ end }}{{ if gt (len .Alerts.Resolved) 0 }}
Alerts Resolved:
{{ template "__text_alert_list" .Alerts.Resolved }}{{ end }}{{ end }}
"#;

/// Template loading or execution error.
#[derive(Debug, thiserror::Error)]
pub enum TemplatesError {
    /// A template file could not be read.
    #[error("reading template {path}: {reason}")]
    Read {
        /// File.
        path: String,
        /// Cause.
        reason: String,
    },
    /// Parse or execution error.
    #[error(transparent)]
    Template(#[from] TemplateError),
}

/// The text and HTML template sets (Alertmanager keeps one of each, parsed from the same
/// files: HTML mode escapes by context).
#[derive(Clone)]
pub struct Templates {
    text: Template,
    html: Template,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates")
            .field("names", &self.text.template_names())
            .finish()
    }
}

fn base(html: bool) -> Template {
    Template::new("")
        .funcs(functions())
        .missing_key(MissingKey::Zero)
        .html(html)
}

impl Templates {
    /// Defaults plus the files matched by `globs` (an empty match is fine, as in
    /// Alertmanager).
    pub fn load(globs: &[String]) -> Result<Templates, TemplatesError> {
        let mut text = base(false);
        let mut html = base(true);
        text.parse_named("default.tmpl", DEFAULT_TEMPLATES)?;
        html.parse_named("default.tmpl", DEFAULT_TEMPLATES)?;
        for g in globs {
            let paths = glob::glob(g).map_err(|e| TemplatesError::Read {
                path: g.clone(),
                reason: e.to_string(),
            })?;
            for p in paths.flatten() {
                let body = std::fs::read_to_string(&p).map_err(|e| TemplatesError::Read {
                    path: p.display().to_string(),
                    reason: e.to_string(),
                })?;
                let name = p
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                text.parse_named(&name, &body)?;
                html.parse_named(&name, &body)?;
            }
        }
        Ok(Templates { text, html })
    }

    /// Expands a text field (`tmpl.ExecuteTextString`); empty stays empty.
    pub fn text(&self, field: &str, data: &Value) -> Result<String, TemplateError> {
        if field.is_empty() {
            return Ok(String::new());
        }
        self.text.execute_text(field, data)
    }

    /// Expands an HTML field (`tmpl.ExecuteHTMLString`).
    pub fn html(&self, field: &str, data: &Value) -> Result<String, TemplateError> {
        if field.is_empty() {
            return Ok(String::new());
        }
        self.html.execute_text(field, data)
    }
}

fn time_value(t: Option<DateTime<Utc>>) -> Value {
    match t {
        Some(t) => Value::Time(GoTime::from_unix_nanos(
            i128::from(t.timestamp()) * 1_000_000_000 + i128::from(t.timestamp_subsec_nanos()),
        )),
        // Go's zero time.Time.
        None => Value::Time(GoTime::from_unix_nanos(-62_135_596_800 * 1_000_000_000)),
    }
}

fn labels_map(l: &argus_model::Labels) -> BTreeMap<String, String> {
    l.iter()
        .map(|l| (l.name.to_owned(), l.value.to_owned()))
        .collect()
}

/// Template value of notification data (Alertmanager's `template.Data`).
pub fn data_value(d: &NotificationData) -> Value {
    let list = d
        .alerts
        .iter()
        .map(|a| {
            Value::map([
                ("Status", Value::from(a.status.as_str())),
                ("Labels", kv(&labels_map(&a.labels))),
                ("Annotations", kv(&a.annotations)),
                ("StartsAt", time_value(Some(a.starts_at))),
                ("EndsAt", time_value(a.ends_at)),
                ("GeneratorURL", Value::from(a.generator_url.as_str())),
                ("Fingerprint", Value::from(a.fingerprint.as_str())),
            ])
        })
        .collect();
    Value::map([
        ("Receiver", Value::from(d.receiver.as_str())),
        ("Status", Value::from(d.status.as_str())),
        ("Alerts", alerts(list)),
        ("GroupLabels", kv(&d.group_labels)),
        ("CommonLabels", kv(&d.common_labels)),
        ("CommonAnnotations", kv(&d.common_annotations)),
        ("ExternalURL", Value::from(d.external_url.as_str())),
    ])
}

#[cfg(test)]
mod tests {
    use argus_model::Labels;

    use super::*;
    use crate::notify::data::NotifyAlert;

    fn alert(status: &str, p: &[(&str, &str)]) -> NotifyAlert {
        NotifyAlert {
            status: status.into(),
            labels: Labels::from_pairs(p),
            annotations: [("summary".to_string(), "it <broke>".to_string())].into(),
            starts_at: Utc::now(),
            ends_at: None,
            generator_url: "http://prom/graph".into(),
            fingerprint: "0123456789abcdef".into(),
        }
    }

    #[test]
    fn default_subject_matches_alertmanager_format() {
        let t = Templates::load(&[]).unwrap();
        let d = NotificationData::new(
            "mail",
            &Labels::from_pairs(&[("alertname", "DiskFull")]),
            &[
                alert(
                    "firing",
                    &[("alertname", "DiskFull"), ("team", "db"), ("i", "1")],
                ),
                alert(
                    "firing",
                    &[("alertname", "DiskFull"), ("team", "db"), ("i", "2")],
                ),
                alert(
                    "resolved",
                    &[("alertname", "DiskFull"), ("team", "db"), ("i", "3")],
                ),
            ],
            "http://am:9093",
        );
        let v = data_value(&d);
        assert_eq!(
            t.text(r#"{{ template "email.default.subject" . }}"#, &v)
                .unwrap(),
            "[FIRING:2] DiskFull (db)"
        );
        let html = t
            .html(r#"{{ template "email.default.html" . }}"#, &v)
            .unwrap();
        assert!(html.contains("3 alerts for alertname=DiskFull"), "{html}");
        assert!(
            html.contains("[2] Firing") && html.contains("[1] Resolved"),
            "{html}"
        );
        assert!(html.contains("it &lt;broke&gt;"), "{html}");
        let text = t
            .text(r#"{{ template "email.default.text" . }}"#, &v)
            .unwrap();
        assert!(text.contains(" - team = db"), "{text}");
    }

    #[test]
    fn user_templates_from_globs() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("my.tmpl"),
            r#"{{ define "my.subject" }}{{ .CommonLabels.alertname }} x{{ len .Alerts }}{{ end }}"#,
        )
        .unwrap();
        let g = format!("{}/*.tmpl", dir.path().display());
        let t = Templates::load(&[g, "/nonexistent/*.tmpl".into()]).unwrap();
        let d = NotificationData::new(
            "r",
            &Labels::empty(),
            &[alert("firing", &[("alertname", "A")])],
            "",
        );
        assert_eq!(
            t.text(r#"{{ template "my.subject" . }}"#, &data_value(&d))
                .unwrap(),
            "A x1"
        );
    }
}
