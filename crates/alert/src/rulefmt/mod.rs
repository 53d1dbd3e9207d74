//! Prometheus rule files (`model/rulefmt`): YAML parsing with strict field checking, and
//! validation with promtool's error texts. Errors name the file, the group, the rule
//! (1-based index and name) and the offending field.
//!
//! ```yaml
//! groups:
//!   - name: <string>              # unique within the file
//!     interval: <duration>        # default: global evaluation_interval
//!     query_offset: <duration>    # default: global rule_query_offset
//!     limit: <int>                # 0 = no limit on series/alerts per rule
//!     labels: {<name>: <value>}   # added to every rule's output
//!     rules:
//!       - record: <metric name> | alert: <name>
//!         expr: <PromQL>
//!         for: <duration>              # alerts only
//!         keep_firing_for: <duration>  # alerts only
//!         labels: {<name>: <template>}
//!         annotations: {<name>: <template>}  # alerts only
//! ```

mod validate;

use std::collections::BTreeMap;
use std::path::Path;

use argus_query::parser::go_quote_str;
use serde::Deserialize;
use serde_yaml_ng::{Mapping, Value};

pub use validate::{is_valid_label_name, is_valid_metric_name};

/// How label, annotation and metric names are validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NameValidation {
    /// Prometheus 3: any non-empty UTF-8 name.
    #[default]
    Utf8,
    /// Prometheus 2: `[a-zA-Z_][a-zA-Z0-9_]*` (metric names may contain `:`).
    Legacy,
}

/// Rule-file parsing options.
#[derive(Debug, Clone, Copy, Default)]
pub struct ParseOptions {
    /// Name validation scheme.
    pub name_validation: NameValidation,
    /// Ignore unknown YAML fields instead of rejecting them (promtool
    /// `--ignore-unknown-fields`).
    pub ignore_unknown_fields: bool,
}

/// A rule as written in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSpec {
    /// `record:` (Some) for recording rules.
    pub record: Option<String>,
    /// `alert:` (Some) for alerting rules.
    pub alert: Option<String>,
    /// The PromQL expression text.
    pub expr: String,
    /// `for`, ms.
    pub for_ms: i64,
    /// `keep_firing_for`, ms.
    pub keep_firing_for_ms: i64,
    /// Labels (templates for alerts).
    pub labels: BTreeMap<String, String>,
    /// Annotations (templates).
    pub annotations: BTreeMap<String, String>,
}

impl RuleSpec {
    /// The record or alert name.
    pub fn name(&self) -> &str {
        self.record
            .as_deref()
            .or(self.alert.as_deref())
            .unwrap_or("")
    }
}

/// A group as written in the file.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupSpec {
    /// Group name.
    pub name: String,
    /// `interval`, ms.
    pub interval_ms: Option<i64>,
    /// `query_offset`, ms.
    pub query_offset_ms: Option<i64>,
    /// `limit` (0 = none).
    pub limit: u64,
    /// Group labels.
    pub labels: BTreeMap<String, String>,
    /// Rules in order.
    pub rules: Vec<RuleSpec>,
}

/// A parsed rule file.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RuleFileSpec {
    /// Groups in order.
    pub groups: Vec<GroupSpec>,
    /// Non-fatal remarks (a second YAML document that was ignored, ...).
    pub warnings: Vec<String>,
}

impl RuleFileSpec {
    /// Number of rules in all groups.
    pub fn rule_count(&self) -> usize {
        self.groups.iter().map(|g| g.rules.len()).sum()
    }
}

/// One problem in a rule file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RuleFileError {
    /// A problem with the file as a whole or one group.
    #[error("{file}: {msg}")]
    File {
        /// The file.
        file: String,
        /// What is wrong.
        msg: String,
    },
    /// A problem with one rule.
    #[error("{file}: group {}, rule {index}, {}: {msg}", go_quote_str(.group), go_quote_str(.rule))]
    Rule {
        /// The file.
        file: String,
        /// Group name.
        group: String,
        /// 1-based index of the rule in its group.
        index: usize,
        /// Record or alert name (may be empty).
        rule: String,
        /// The field at fault (`expr`, `labels`, `annotations`, `for`, ...), if one.
        field: Option<String>,
        /// What is wrong, worded as Prometheus does.
        msg: String,
    },
}

struct Ctx<'a> {
    file: &'a str,
    opts: ParseOptions,
    errors: Vec<RuleFileError>,
}

impl Ctx<'_> {
    fn file_err(&mut self, msg: impl Into<String>) {
        self.errors.push(RuleFileError::File {
            file: self.file.to_string(),
            msg: msg.into(),
        });
    }
}

fn scalar_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some(String::new()),
        Value::Tagged(t) => scalar_string(&t.value),
        _ => None,
    }
}

fn key_name(k: &Value) -> String {
    scalar_string(k).unwrap_or_else(|| format!("{k:?}"))
}

fn string_map(v: &Value, what: &str) -> Result<BTreeMap<String, String>, String> {
    match v {
        Value::Null => Ok(BTreeMap::new()),
        Value::Mapping(m) => {
            let mut out = BTreeMap::new();
            for (k, val) in m {
                let value = scalar_string(val).ok_or_else(|| {
                    format!(
                        "{what} {}: value must be a string",
                        go_quote_str(&key_name(k))
                    )
                })?;
                out.insert(key_name(k), value);
            }
            Ok(out)
        }
        _ => Err(format!("{what} must be a map of strings")),
    }
}

fn duration_field(v: &Value) -> Result<i64, String> {
    let s = scalar_string(v).unwrap_or_default();
    argus_model::parse_duration_ms(&s)
        .map_err(|_| format!("not a valid duration string: {}", go_quote_str(&s)))
}

/// Parses and validates rule-file text. `file` names the file in errors.
pub fn parse_rules(
    file: &str,
    text: &str,
    opts: ParseOptions,
) -> Result<RuleFileSpec, Vec<RuleFileError>> {
    let mut ctx = Ctx {
        file,
        opts,
        errors: Vec::new(),
    };
    let mut out = RuleFileSpec::default();
    let mut docs = serde_yaml_ng::Deserializer::from_str(text);
    let first = match docs.next() {
        None => return Ok(out),
        Some(d) => Value::deserialize(d),
    };
    let mut root = match first {
        Ok(v) => v,
        Err(e) => {
            ctx.file_err(format!("yaml: {e}"));
            return Err(ctx.errors);
        }
    };
    if docs.next().is_some() {
        out.warnings
            .push("only the first YAML document of a rule file is used".into());
    }
    if let Err(e) = root.apply_merge() {
        ctx.file_err(format!("yaml: {e}"));
        return Err(ctx.errors);
    }
    let groups = match &root {
        Value::Null => return Ok(out),
        Value::Mapping(m) => {
            check_fields(&mut ctx, m, &["groups"], "rulefmt.RuleGroups", None);
            m.get("groups").cloned().unwrap_or(Value::Null)
        }
        _ => {
            ctx.file_err("yaml: unmarshal errors: a rule file must be a map with a `groups` list");
            return Err(ctx.errors);
        }
    };
    let groups = match groups {
        Value::Null => Vec::new(),
        Value::Sequence(s) => s,
        _ => {
            ctx.file_err("yaml: unmarshal errors: `groups` must be a list");
            return Err(ctx.errors);
        }
    };
    let mut seen = std::collections::HashSet::new();
    for g in &groups {
        if let Some(spec) = parse_group(&mut ctx, g) {
            if !seen.insert(spec.name.clone()) {
                ctx.file_err(format!(
                    "groupname: {} is repeated in the same file",
                    go_quote_str(&spec.name)
                ));
            }
            out.groups.push(spec);
        }
    }
    if ctx.errors.is_empty() {
        Ok(out)
    } else {
        Err(ctx.errors)
    }
}

fn check_fields(
    ctx: &mut Ctx<'_>,
    m: &Mapping,
    allowed: &[&str],
    go_type: &str,
    rule: Option<(&str, usize, &str)>,
) -> bool {
    if ctx.opts.ignore_unknown_fields {
        return true;
    }
    let mut ok = true;
    for k in m.keys() {
        let name = key_name(k);
        if !allowed.contains(&name.as_str()) {
            ok = false;
            let msg = format!("field {name} not found in type {go_type}");
            match rule {
                Some((group, index, rname)) => ctx.errors.push(RuleFileError::Rule {
                    file: ctx.file.to_string(),
                    group: group.to_string(),
                    index,
                    rule: rname.to_string(),
                    field: Some(name),
                    msg,
                }),
                None => ctx.file_err(format!("yaml: unmarshal errors: {msg}")),
            }
        }
    }
    ok
}

fn parse_group(ctx: &mut Ctx<'_>, g: &Value) -> Option<GroupSpec> {
    let Value::Mapping(m) = g else {
        ctx.file_err("yaml: unmarshal errors: a group must be a map");
        return None;
    };
    let name = m.get("name").and_then(scalar_string).unwrap_or_default();
    let before = ctx.errors.len();
    check_fields(
        ctx,
        m,
        &[
            "name",
            "interval",
            "query_offset",
            "limit",
            "labels",
            "rules",
        ],
        "rulefmt.RuleGroup",
        None,
    );
    if name.is_empty() {
        ctx.file_err("Groupname must not be empty");
    }
    let gerr = |ctx: &mut Ctx<'_>, msg: String| {
        ctx.file_err(format!("group {}: {msg}", go_quote_str(&name)))
    };
    let mut spec = GroupSpec {
        name: name.clone(),
        interval_ms: None,
        query_offset_ms: None,
        limit: 0,
        labels: BTreeMap::new(),
        rules: Vec::new(),
    };
    for (field, slot) in [
        ("interval", &mut spec.interval_ms),
        ("query_offset", &mut spec.query_offset_ms),
    ] {
        if let Some(v) = m.get(field) {
            match duration_field(v) {
                Ok(d) => *slot = Some(d),
                Err(e) => gerr(ctx, format!("{field}: {e}")),
            }
        }
    }
    if let Some(v) = m.get("limit") {
        match v.as_u64() {
            Some(l) => spec.limit = l,
            None => gerr(
                ctx,
                format!(
                    "limit: cannot unmarshal {} into an unsigned integer",
                    key_name(v)
                ),
            ),
        }
    }
    if let Some(v) = m.get("labels") {
        match string_map(v, "label") {
            Ok(l) => spec.labels = l,
            Err(e) => gerr(ctx, e),
        }
        for (k, val) in &spec.labels.clone() {
            if let Some(e) = validate::check_label(k, val, ctx.opts.name_validation) {
                gerr(ctx, e);
            }
        }
    }
    let rules = match m.get("rules") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Sequence(s)) => s.clone(),
        Some(_) => {
            gerr(ctx, "rules must be a list".into());
            Vec::new()
        }
    };
    for (i, r) in rules.iter().enumerate() {
        if let Some(rule) = parse_rule(ctx, &name, i + 1, r) {
            spec.rules.push(rule);
        }
    }
    (ctx.errors.len() == before || !name.is_empty()).then_some(spec)
}

fn parse_rule(ctx: &mut Ctx<'_>, group: &str, index: usize, r: &Value) -> Option<RuleSpec> {
    let Value::Mapping(m) = r else {
        ctx.file_err(format!(
            "group {}, rule {index}: a rule must be a map",
            go_quote_str(group)
        ));
        return None;
    };
    let get = |k: &str| m.get(k).and_then(scalar_string).filter(|s| !s.is_empty());
    let record = get("record");
    let alert = get("alert");
    let name = record.clone().or_else(|| alert.clone()).unwrap_or_default();
    let mut errs: Vec<(Option<&str>, String)> = Vec::new();
    let fields_ok = check_fields(
        ctx,
        m,
        &[
            "record",
            "alert",
            "expr",
            "for",
            "keep_firing_for",
            "labels",
            "annotations",
        ],
        "rulefmt.RuleNode",
        Some((group, index, &name)),
    );
    let mut spec = RuleSpec {
        record: record.clone(),
        alert: alert.clone(),
        expr: m.get("expr").and_then(scalar_string).unwrap_or_default(),
        for_ms: 0,
        keep_firing_for_ms: 0,
        labels: BTreeMap::new(),
        annotations: BTreeMap::new(),
    };
    for (field, slot) in [
        ("for", &mut spec.for_ms),
        ("keep_firing_for", &mut spec.keep_firing_for_ms),
    ] {
        if let Some(v) = m.get(field) {
            match duration_field(v) {
                Ok(d) => *slot = d,
                Err(e) => errs.push((Some(field), e)),
            }
        }
    }
    for (field, slot) in [
        ("labels", &mut spec.labels),
        ("annotations", &mut spec.annotations),
    ] {
        if let Some(v) = m.get(field) {
            match string_map(v, field.trim_end_matches('s')) {
                Ok(l) => *slot = l,
                Err(e) => errs.push((Some(field), e)),
            }
        }
    }
    let has_for = m.get("for").is_some_and(|v| !matches!(v, Value::Null));
    let has_kff = m
        .get("keep_firing_for")
        .is_some_and(|v| !matches!(v, Value::Null));
    errs.extend(validate::check_rule(
        &spec,
        has_for,
        has_kff,
        ctx.opts.name_validation,
    ));
    let ok = errs.is_empty() && fields_ok;
    for (field, msg) in errs {
        ctx.errors.push(RuleFileError::Rule {
            file: ctx.file.to_string(),
            group: group.to_string(),
            index,
            rule: name.clone(),
            field: field.map(str::to_string),
            msg,
        });
    }
    ok.then_some(spec)
}

/// Reads and parses a rule file.
pub fn parse_file(path: &Path, opts: ParseOptions) -> Result<RuleFileSpec, Vec<RuleFileError>> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        vec![RuleFileError::File {
            file: file.clone(),
            msg: e.to_string(),
        }]
    })?;
    parse_rules(&file, &text, opts)
}

#[cfg(test)]
mod tests;
