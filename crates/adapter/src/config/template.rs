//! The `<<.Field>>` templates of prometheus-adapter configs (`metricsQuery`,
//! `resources.template`, `containerQuery`, `nodeQuery`).
//!
//! prometheus-adapter runs these through Go's `text/template` with `<<`/`>>` delimiters,
//! but configs in the wild only substitute fields, so this renderer supports exactly
//! `<<.Field>>` (with optional spaces) and refuses any other action with a clear error at
//! load time instead of producing a wrong query at request time.

use std::fmt::Write;

/// A template that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("template {template:?}: {reason}")]
pub struct TemplateError {
    /// The template text.
    pub template: String,
    /// What is wrong.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Text(String),
    Field(String),
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    segments: Vec<Segment>,
}

impl Template {
    /// Parses `source`, allowing only the given field names.
    pub fn parse(source: &str, allowed: &[&str]) -> Result<Self, TemplateError> {
        let fail = |reason: String| TemplateError {
            template: source.to_owned(),
            reason,
        };
        let mut segments = Vec::new();
        let mut rest = source;
        while let Some(start) = rest.find("<<") {
            let (text, after) = rest.split_at(start);
            if !text.is_empty() {
                segments.push(Segment::Text(text.to_owned()));
            }
            let after = after.get(2..).unwrap_or("");
            let end = after
                .find(">>")
                .ok_or_else(|| fail("unclosed action: missing '>>'".to_owned()))?;
            let (action, tail) = after.split_at(end);
            let action = action.trim();
            let field = action
                .strip_prefix('.')
                .filter(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_alphanumeric()))
                .ok_or_else(|| {
                    fail(format!(
                        "unsupported action <<{action}>>: only field substitutions like \
                         <<.{}>> are supported",
                        allowed.first().copied().unwrap_or("Series")
                    ))
                })?;
            if !allowed.contains(&field) {
                return Err(fail(format!(
                    "unknown field .{field} (available: {})",
                    allowed
                        .iter()
                        .map(|a| format!(".{a}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            segments.push(Segment::Field(field.to_owned()));
            rest = tail.get(2..).unwrap_or("");
        }
        if !rest.is_empty() {
            segments.push(Segment::Text(rest.to_owned()));
        }
        Ok(Self {
            source: source.to_owned(),
            segments,
        })
    }

    /// The template text.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// True if the template uses `field`.
    pub fn uses(&self, field: &str) -> bool {
        self.segments
            .iter()
            .any(|s| matches!(s, Segment::Field(f) if f == field))
    }

    /// Renders with `value(field)` for each field.
    pub fn render<'a>(&self, value: impl Fn(&str) -> &'a str) -> String {
        let mut out = String::with_capacity(self.source.len() + 64);
        for s in &self.segments {
            match s {
                Segment::Text(t) => out.push_str(t),
                Segment::Field(f) => {
                    let _ = write!(out, "{}", value(f));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const Q: &[&str] = &["Series", "LabelMatchers", "GroupBy"];

    #[test]
    fn renders_fields() {
        let t = Template::parse(
            "sum(rate(<<.Series>>{<< .LabelMatchers >>}[2m])) by (<<.GroupBy>>)",
            Q,
        )
        .unwrap();
        let out = t.render(|f| match f {
            "Series" => "http_requests_total",
            "LabelMatchers" => r#"namespace="a",pod=~"x|y""#,
            _ => "pod",
        });
        assert_eq!(
            out,
            r#"sum(rate(http_requests_total{namespace="a",pod=~"x|y"}[2m])) by (pod)"#
        );
        assert!(t.uses("GroupBy"));
        assert!(!t.uses("Group"));
    }

    #[test]
    fn refuses_what_it_cannot_do() {
        for (src, needle) in [
            ("x<<.Series", "unclosed"),
            ("<<range .GroupBySlice>>x<<end>>", "unsupported action"),
            ("<<.Nope>>", "unknown field .Nope"),
            ("<<.>>", "unsupported action"),
        ] {
            let e = Template::parse(src, Q).unwrap_err();
            assert!(e.to_string().contains(needle), "{src}: {e}");
        }
        assert_eq!(Template::parse("plain", Q).unwrap().render(|_| ""), "plain");
    }
}
