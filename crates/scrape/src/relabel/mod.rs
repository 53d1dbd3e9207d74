//! Relabeling (`relabel_configs`, `metric_relabel_configs`) with every Prometheus action.
//!
//! Semantics follow Prometheus' `model/relabel/relabel.go`:
//! - the values of `source_labels` are joined with `separator` (absent labels are `""`);
//! - `regex` is anchored at both ends (`^(?s:REGEX)$`), default `(.*)`;
//! - `replace` writes the expanded `replacement` (`$1`, `${name}`) to the expanded
//!   `target_label` when the regex matches; an empty result deletes the label;
//! - `keep`/`drop` keep or drop the whole set on a (non-)match; `keepequal`/`dropequal`
//!   compare the joined value with the value of `target_label`;
//! - `hashmod` sets `target_label` to the MD5 of the value (last 8 bytes, big endian)
//!   modulo `modulus`;
//! - `labelmap` copies labels whose *name* matches to the expanded replacement name;
//!   `labeldrop`/`labelkeep` remove labels by name;
//! - `lowercase`/`uppercase` set `target_label` to the case-folded value.

use std::fmt;

use argus_model::{Labels, LabelsBuilder};
use md5::{Digest, Md5};
use regex::Regex;
use serde::{Deserialize, Serialize, Serializer};

/// A relabel action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// `replace` (default).
    Replace,
    /// `keep`.
    Keep,
    /// `drop`.
    Drop,
    /// `keepequal`.
    KeepEqual,
    /// `dropequal`.
    DropEqual,
    /// `hashmod`.
    HashMod,
    /// `labelmap`.
    LabelMap,
    /// `labeldrop`.
    LabelDrop,
    /// `labelkeep`.
    LabelKeep,
    /// `lowercase`.
    Lowercase,
    /// `uppercase`.
    Uppercase,
}

impl Action {
    /// Parses an action name; Prometheus accepts any letter case.
    pub fn parse(s: &str) -> Option<Action> {
        Some(match s.to_ascii_lowercase().as_str() {
            "replace" => Action::Replace,
            "keep" => Action::Keep,
            "drop" => Action::Drop,
            "keepequal" => Action::KeepEqual,
            "dropequal" => Action::DropEqual,
            "hashmod" => Action::HashMod,
            "labelmap" => Action::LabelMap,
            "labeldrop" => Action::LabelDrop,
            "labelkeep" => Action::LabelKeep,
            "lowercase" => Action::Lowercase,
            "uppercase" => Action::Uppercase,
            _ => return None,
        })
    }

    /// The lowercase name.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Replace => "replace",
            Action::Keep => "keep",
            Action::Drop => "drop",
            Action::KeepEqual => "keepequal",
            Action::DropEqual => "dropequal",
            Action::HashMod => "hashmod",
            Action::LabelMap => "labelmap",
            Action::LabelDrop => "labeldrop",
            Action::LabelKeep => "labelkeep",
            Action::Lowercase => "lowercase",
            Action::Uppercase => "uppercase",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

const DEFAULT_REGEX: &str = "(.*)";
const DEFAULT_SEPARATOR: &str = ";";
const DEFAULT_REPLACEMENT: &str = "$1";

/// An anchored regular expression that remembers the text it was written as.
#[derive(Debug, Clone)]
pub struct RelabelRegex {
    source: String,
    re: Regex,
}

impl RelabelRegex {
    /// Compiles `^(?s:source)$`.
    pub fn new(source: &str) -> Result<Self, regex::Error> {
        let re = Regex::new(&format!("^(?s:{source})$"))?;
        Ok(RelabelRegex {
            source: source.to_owned(),
            re,
        })
    }

    /// The regex as written in the configuration.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The compiled, anchored regex.
    pub fn regex(&self) -> &Regex {
        &self.re
    }
}

impl PartialEq for RelabelRegex {
    fn eq(&self, o: &Self) -> bool {
        self.source == o.source
    }
}

/// One relabel rule.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawRelabelConfig")]
pub struct RelabelConfig {
    /// Labels whose values are joined.
    pub source_labels: Vec<String>,
    /// Separator of the joined values.
    pub separator: String,
    /// The regex.
    pub regex: RelabelRegex,
    /// Modulus of `hashmod`.
    pub modulus: u64,
    /// Label written by `replace`, `hashmod`, `lowercase`, `uppercase`, compared by
    /// `keepequal`/`dropequal`.
    pub target_label: String,
    /// Replacement template.
    pub replacement: String,
    /// The action.
    pub action: Action,
}

/// A YAML scalar given as a string, number or boolean (Prometheus' decoder reads
/// `regex: 1` as the string "1").
#[derive(Deserialize)]
#[serde(untagged)]
enum Scalar {
    S(String),
    I(i64),
    F(f64),
    B(bool),
}

impl Scalar {
    fn into_string(self) -> String {
        match self {
            Scalar::S(s) => s,
            Scalar::I(i) => i.to_string(),
            Scalar::F(f) => f.to_string(),
            Scalar::B(b) => b.to_string(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRelabelConfig {
    #[serde(default)]
    source_labels: Option<Vec<String>>,
    #[serde(default)]
    separator: Option<String>,
    #[serde(default)]
    regex: Option<Scalar>,
    #[serde(default)]
    modulus: Option<u64>,
    #[serde(default)]
    target_label: Option<String>,
    #[serde(default)]
    replacement: Option<Scalar>,
    #[serde(default)]
    action: Option<String>,
}

impl TryFrom<RawRelabelConfig> for RelabelConfig {
    type Error = String;

    fn try_from(raw: RawRelabelConfig) -> Result<Self, String> {
        let action = match raw.action.as_deref() {
            None => Action::Replace,
            Some("") => return Err("relabel action cannot be empty".into()),
            Some(a) => Action::parse(a).ok_or_else(|| format!("unknown relabel action {a:?}"))?,
        };
        let regex_src = raw
            .regex
            .map(Scalar::into_string)
            .unwrap_or_else(|| DEFAULT_REGEX.to_owned());
        let regex = RelabelRegex::new(&regex_src).map_err(|e| {
            // regex's message is a multi-line caret diagram; its last line says what.
            let text = e.to_string();
            let why = text
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("")
                .trim_start_matches("error: ")
                .to_owned();
            format!("invalid regex {regex_src:?}: {why}")
        })?;
        let has_source_labels = raw.source_labels.is_some();
        let cfg = RelabelConfig {
            source_labels: raw.source_labels.unwrap_or_default(),
            separator: raw
                .separator
                .unwrap_or_else(|| DEFAULT_SEPARATOR.to_owned()),
            regex,
            modulus: raw.modulus.unwrap_or(0),
            target_label: raw.target_label.unwrap_or_default(),
            replacement: raw
                .replacement
                .map(Scalar::into_string)
                .unwrap_or_else(|| DEFAULT_REPLACEMENT.to_owned()),
            action,
        };
        cfg.validate(has_source_labels)?;
        Ok(cfg)
    }
}

impl Serialize for RelabelConfig {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        if !self.source_labels.is_empty() {
            m.serialize_entry("source_labels", &self.source_labels)?;
        }
        m.serialize_entry("separator", &self.separator)?;
        m.serialize_entry("regex", self.regex.as_str())?;
        if self.modulus != 0 {
            m.serialize_entry("modulus", &self.modulus)?;
        }
        if !self.target_label.is_empty() {
            m.serialize_entry("target_label", &self.target_label)?;
        }
        m.serialize_entry("replacement", &self.replacement)?;
        m.serialize_entry("action", self.action.as_str())?;
        m.end()
    }
}

/// A legacy label name: `[a-zA-Z_][a-zA-Z0-9_]*`.
pub fn is_legacy_label_name(s: &str) -> bool {
    let mut b = s.bytes();
    matches!(b.next(), Some(c) if c.is_ascii_alphabetic() || c == b'_')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// Whether `s` is a valid label name: any non-empty UTF-8 under Prometheus 3's default
/// `utf8` validation, the legacy character set under `legacy`.
pub fn valid_label_name(s: &str, legacy: bool) -> bool {
    if legacy {
        is_legacy_label_name(s)
    } else {
        !s.is_empty()
    }
}

/// True when a template refers to a capture group (`$1`, `${name}`).
fn has_template_var(s: &str) -> bool {
    let b = s.as_bytes();
    b.iter().enumerate().any(|(i, &c)| {
        c == b'$'
            && b.get(i + 1)
                .is_some_and(|&n| n == b'{' || n.is_ascii_alphanumeric() || n == b'_')
    })
}

impl RelabelConfig {
    /// A rule with Prometheus' defaults and the given action.
    pub fn new(action: Action) -> Self {
        RelabelConfig {
            source_labels: Vec::new(),
            separator: DEFAULT_SEPARATOR.to_owned(),
            regex: RelabelRegex::new(DEFAULT_REGEX)
                .unwrap_or_else(|_| unreachable!("BUG: default regex compiles")),
            modulus: 0,
            target_label: String::new(),
            replacement: DEFAULT_REPLACEMENT.to_owned(),
            action,
        }
    }

    /// Checks the rule as Prometheus' `relabel.Config.Validate` does.
    pub fn validate(&self, has_source_labels: bool) -> Result<(), String> {
        let a = self.action;
        if a == Action::HashMod && self.modulus == 0 {
            return Err("relabel configuration for hashmod requires non-zero modulus".into());
        }
        let needs_target = matches!(
            a,
            Action::Replace
                | Action::HashMod
                | Action::Lowercase
                | Action::Uppercase
                | Action::KeepEqual
                | Action::DropEqual
        );
        if needs_target && self.target_label.is_empty() {
            return Err(format!(
                "relabel configuration for {a} action requires 'target_label' value"
            ));
        }
        let fixed_target = matches!(
            a,
            Action::Lowercase
                | Action::Uppercase
                | Action::KeepEqual
                | Action::DropEqual
                | Action::HashMod
        );
        if fixed_target && has_template_var(&self.target_label) {
            return Err(format!(
                "{:?} is invalid 'target_label' for {a} action",
                self.target_label
            ));
        }
        if matches!(
            a,
            Action::Lowercase | Action::Uppercase | Action::KeepEqual | Action::DropEqual
        ) && self.replacement != DEFAULT_REPLACEMENT
        {
            return Err(format!("'replacement' can not be set for {a} action"));
        }
        if a == Action::LabelMap && self.replacement.is_empty() {
            return Err(format!(
                "{:?} is invalid 'replacement' for {a} action",
                self.replacement
            ));
        }
        if matches!(a, Action::KeepEqual | Action::DropEqual)
            && (self.regex.as_str() != DEFAULT_REGEX
                || self.modulus != 0
                || self.separator != DEFAULT_SEPARATOR
                || self.replacement != DEFAULT_REPLACEMENT)
        {
            return Err(format!(
                "{a} action requires only 'source_labels' and `target_label`, and no other fields"
            ));
        }
        if matches!(a, Action::LabelDrop | Action::LabelKeep)
            && (has_source_labels
                || !self.target_label.is_empty()
                || self.modulus != 0
                || self.separator != DEFAULT_SEPARATOR
                || self.replacement != DEFAULT_REPLACEMENT)
        {
            return Err(format!(
                "{a} action requires only 'regex', and no other fields"
            ));
        }
        Ok(())
    }
}

/// Applies `rules` in order to `labels`. Returns `None` when a rule drops the set, and
/// also when relabeling leaves it empty (an empty label set identifies nothing).
pub fn process(labels: &Labels, rules: &[RelabelConfig]) -> Option<Labels> {
    if rules.is_empty() {
        return Some(labels.clone());
    }
    let mut b = labels.builder();
    if !process_builder(&mut b, rules) || b.is_empty() {
        return None;
    }
    Some(b.build())
}

/// Applies `rules` to a builder in place; false when a rule drops the set.
pub fn process_builder(b: &mut LabelsBuilder, rules: &[RelabelConfig]) -> bool {
    let mut val = String::new();
    rules.iter().all(|r| apply(r, b, &mut val))
}

fn apply(r: &RelabelConfig, b: &mut LabelsBuilder, val: &mut String) -> bool {
    val.clear();
    for (i, name) in r.source_labels.iter().enumerate() {
        if i > 0 {
            val.push_str(&r.separator);
        }
        val.push_str(b.get(name).unwrap_or(""));
    }
    let re = r.regex.regex();
    match r.action {
        Action::Drop => return !re.is_match(val),
        Action::Keep => return re.is_match(val),
        Action::DropEqual => return b.get(&r.target_label).unwrap_or("") != val,
        Action::KeepEqual => return b.get(&r.target_label).unwrap_or("") == val,
        Action::Replace => {
            // Fast path of Prometheus: set a constant (or delete) without matching.
            if val.is_empty()
                && r.regex.as_str() == DEFAULT_REGEX
                && !has_template_var(&r.target_label)
                && !has_template_var(&r.replacement)
            {
                b.set(&r.target_label, &r.replacement);
                return true;
            }
            let Some(caps) = re.captures(val) else {
                return true;
            };
            let mut target = String::new();
            caps.expand(&r.target_label, &mut target);
            if target.is_empty() {
                return true;
            }
            let mut res = String::new();
            caps.expand(&r.replacement, &mut res);
            if res.is_empty() {
                b.del(&target);
            } else {
                b.set(&target, &res);
            }
        }
        Action::Lowercase => {
            let v = val.to_lowercase();
            b.set(&r.target_label, &v);
        }
        Action::Uppercase => {
            let v = val.to_uppercase();
            b.set(&r.target_label, &v);
        }
        Action::HashMod => {
            let digest = Md5::digest(val.as_bytes());
            let mut last8 = [0u8; 8];
            if let Some(tail) = digest.get(8..16) {
                last8.copy_from_slice(tail);
            }
            let m = u64::from_be_bytes(last8) % r.modulus.max(1);
            b.set(&r.target_label, &m.to_string());
        }
        Action::LabelMap => {
            let pairs: Vec<(String, String)> = b
                .iter()
                .map(|l| (l.name.to_owned(), l.value.to_owned()))
                .collect();
            for (name, value) in pairs {
                if let Some(caps) = re.captures(&name) {
                    let mut new_name = String::new();
                    caps.expand(&r.replacement, &mut new_name);
                    if !new_name.is_empty() {
                        b.set(&new_name, &value);
                    }
                }
            }
        }
        Action::LabelDrop => {
            b.retain(|n, _| !re.is_match(n));
        }
        Action::LabelKeep => {
            b.retain(|n, _| re.is_match(n));
        }
    }
    true
}

#[cfg(test)]
mod tests;
