//! The Alertmanager configuration file, read unchanged: parsing (strict: unknown fields are
//! errors that name the field and line), Alertmanager's defaults and cross-checks, and the
//! re-serialised form with secrets masked that `/api/v2/status` returns.

mod global;
mod receiver;
mod route;
mod secret;
pub mod time_interval;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer, Serialize};

pub use global::GlobalConfig;
pub use receiver::{
    Authorization, BasicAuth, EmailConfig, HeaderValues, HttpClientConfig, ReceiverConfig,
    TlsConfig, WebhookConfig,
};
pub use route::{build_matchers, check_label_name, InhibitRuleConfig, RouteConfig};
pub use secret::{validate_url, Secret, SecretUrl};
pub use time_interval::{TimeInterval, TimeIntervalConfig};

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// YAML syntax or shape error (serde's message names the field, line and column).
    #[error("{0}")]
    Yaml(String),
    /// A semantic error; `line` is where the offending value first appears, if found.
    #[error("{message}{}", line.map(|l| format!(" (line {l})")).unwrap_or_default())]
    Invalid {
        /// What is wrong, naming the field.
        message: String,
        /// 1-based line in the file.
        line: Option<usize>,
    },
}

/// The whole configuration file.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Global defaults.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global: Option<GlobalConfig>,
    /// The routing tree.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<RouteConfig>,
    /// Inhibition rules.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inhibit_rules: Vec<InhibitRuleConfig>,
    /// Receivers.
    #[serde(default)]
    pub receivers: Vec<ReceiverConfig>,
    /// Template file globs (relative to the config file's directory).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub templates: Vec<String>,
    /// Deprecated name of `time_intervals`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mute_time_intervals: Vec<TimeIntervalConfig>,
    /// Named time intervals.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub time_intervals: Vec<TimeIntervalConfig>,
    /// Tracing settings of newer Alertmanagers: accepted, not used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracing: Option<serde_yaml_ng::Value>,
    /// The file text as read (kept for reload comparison and hashing).
    #[serde(skip)]
    pub source: String,
    /// Things that load but that Argus does not do (unsupported integrations and options).
    #[serde(skip)]
    pub warnings: Vec<String>,
}

/// Deserializes a YAML scalar of any type into its text (`match: {test: 2}` means `"2"`,
/// as Go's yaml decoder gives when the target is a string).
pub(crate) fn scalar_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let v = serde_yaml_ng::Value::deserialize(d)?;
    scalar_text(&v).ok_or_else(|| serde::de::Error::custom("expected a string"))
}

fn scalar_text(v: &serde_yaml_ng::Value) -> Option<String> {
    match v {
        serde_yaml_ng::Value::String(s) => Some(s.clone()),
        serde_yaml_ng::Value::Number(n) => Some(n.to_string()),
        serde_yaml_ng::Value::Bool(b) => Some(b.to_string()),
        serde_yaml_ng::Value::Tagged(t) => scalar_text(&t.value),
        _ => None,
    }
}

pub(crate) fn scalar_map<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    let m = Option::<BTreeMap<String, serde_yaml_ng::Value>>::deserialize(d)?.unwrap_or_default();
    m.into_iter()
        .map(|(k, v)| {
            scalar_text(&v)
                .map(|s| (k.clone(), s))
                .ok_or_else(|| serde::de::Error::custom(format!("invalid value for {k:?}")))
        })
        .collect()
}

pub(crate) fn scalar_opt_map<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, Option<String>>, D::Error> {
    let m = Option::<BTreeMap<String, serde_yaml_ng::Value>>::deserialize(d)?.unwrap_or_default();
    Ok(m.into_iter().map(|(k, v)| (k, scalar_text(&v))).collect())
}

/// 1-based line of the first occurrence of `needle` in `text`.
fn find_line(text: &str, needle: &str) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    text.lines().position(|l| l.contains(needle)).map(|i| i + 1)
}

struct Checker<'a> {
    text: &'a str,
}

impl Checker<'_> {
    fn err(&self, message: impl Into<String>, needle: &str) -> ConfigError {
        ConfigError::Invalid {
            message: message.into(),
            line: find_line(self.text, needle),
        }
    }
}

impl Config {
    /// Reads and validates a config file; relative paths inside it (templates, `*_file`)
    /// are resolved against the file's directory.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_owned(),
            source,
        })?;
        let mut c = Config::parse(&text)?;
        if let Some(dir) = path.parent() {
            c.resolve_paths(dir);
        }
        Ok(c)
    }

    /// Parses and validates config text.
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        let mut c: Config = if text.trim().is_empty() {
            Config::default()
        } else {
            serde_yaml_ng::from_str(text).map_err(|e| ConfigError::Yaml(e.to_string()))?
        };
        c.source = text.to_owned();
        c.validate()?;
        Ok(c)
    }

    /// The effective global section.
    pub fn global(&self) -> GlobalConfig {
        let mut g = self.global.clone().unwrap_or_default();
        g.fill_defaults();
        g
    }

    /// All named time intervals (`time_intervals` and the deprecated
    /// `mute_time_intervals`).
    pub fn all_time_intervals(&self) -> impl Iterator<Item = &TimeIntervalConfig> {
        self.mute_time_intervals
            .iter()
            .chain(self.time_intervals.iter())
    }

    /// The config as YAML with secrets masked (`config.original` of `/api/v2/status`).
    pub fn to_masked_yaml(&self) -> String {
        serde_yaml_ng::to_string(self).unwrap_or_default()
    }

    fn resolve_paths(&mut self, dir: &Path) {
        let join = |p: &mut String| {
            if !p.is_empty() && Path::new(p.as_str()).is_relative() {
                *p = dir.join(p.as_str()).to_string_lossy().into_owned();
            }
        };
        for t in &mut self.templates {
            join(t);
        }
        let fix_http = |h: &mut HttpClientConfig| {
            if let Some(b) = &mut h.basic_auth {
                join(&mut b.password_file);
                join(&mut b.username_file);
            }
            if let Some(a) = &mut h.authorization {
                join(&mut a.credentials_file);
            }
            join(&mut h.bearer_token_file);
            if let Some(t) = &mut h.tls_config {
                join(&mut t.ca_file);
                join(&mut t.cert_file);
                join(&mut t.key_file);
            }
        };
        if let Some(g) = &mut self.global {
            join(&mut g.smtp_auth_password_file);
            if let Some(h) = &mut g.http_config {
                fix_http(h);
            }
        }
        for r in &mut self.receivers {
            for w in &mut r.webhook_configs {
                if let Some(f) = &mut w.url_file {
                    join(f);
                }
                if let Some(h) = &mut w.http_config {
                    fix_http(h);
                }
            }
            for e in &mut r.email_configs {
                join(&mut e.auth_password_file);
            }
        }
    }

    fn validate(&mut self) -> Result<(), ConfigError> {
        let text = self.source.clone();
        let ck = Checker { text: &text };
        let mut g = self.global.take().unwrap_or_default();
        g.fill_defaults();
        let mut warnings = Vec::new();
        if g.http_config.as_ref().is_some_and(|h| h.oauth2.is_some()) {
            warnings.push("global.http_config.oauth2 is not supported by Argus".to_owned());
        }
        let mut names = HashSet::new();
        for r in &mut self.receivers {
            if r.name.is_empty() {
                return Err(ck.err("missing name in receiver", "receivers:"));
            }
            if !names.insert(r.name.clone()) {
                return Err(ck.err(
                    format!("notification config name {:?} is not unique", r.name),
                    &format!("name: {}", r.name),
                ));
            }
            for (i, w) in r.webhook_configs.iter_mut().enumerate() {
                match (&w.url, &w.url_file) {
                    (None, None) => {
                        return Err(ck.err(
                            format!(
                                "receivers {:?} webhook_configs[{i}]: one of url or url_file must be configured",
                                r.name
                            ),
                            &format!("name: {}", r.name),
                        ))
                    }
                    (Some(_), Some(_)) => {
                        return Err(ck.err(
                            format!(
                                "receivers {:?} webhook_configs[{i}]: at most one of url & url_file must be configured",
                                r.name
                            ),
                            "url_file",
                        ))
                    }
                    _ => {}
                }
                if w.http_config.is_none() {
                    w.http_config = g.http_config.clone();
                }
                if w.http_config.as_ref().is_some_and(|h| h.oauth2.is_some()) {
                    warnings.push(format!(
                        "receiver {:?} webhook_configs[{i}]: http_config.oauth2 is not supported by Argus",
                        r.name
                    ));
                }
            }
            for (i, e) in r.email_configs.iter_mut().enumerate() {
                let at = format!("receivers {:?} email_configs[{i}]", r.name);
                if e.to.is_empty() {
                    return Err(ck.err(
                        format!("{at}: missing to address in email config"),
                        "email_configs",
                    ));
                }
                if e.smarthost.is_empty() {
                    if g.smtp_smarthost.is_empty() {
                        return Err(ck.err("no global SMTP smarthost set", "email_configs"));
                    }
                    e.smarthost = g.smtp_smarthost.clone();
                }
                check_host_port(&e.smarthost)
                    .map_err(|m| ck.err(format!("{at}: smarthost: {m}"), &e.smarthost))?;
                if e.from.is_empty() {
                    if g.smtp_from.is_empty() {
                        return Err(ck.err("no global SMTP from set", "email_configs"));
                    }
                    e.from = g.smtp_from.clone();
                }
                if e.hello.is_empty() {
                    e.hello = g.smtp_hello.clone().unwrap_or_else(|| "localhost".into());
                }
                if e.auth_username.is_empty() {
                    e.auth_username = g.smtp_auth_username.clone();
                }
                if e.auth_password.is_empty() && e.auth_password_file.is_empty() {
                    e.auth_password = g.smtp_auth_password.clone();
                    e.auth_password_file = g.smtp_auth_password_file.clone();
                }
                if !e.auth_password.is_empty() && !e.auth_password_file.is_empty() {
                    return Err(ck.err(
                        format!("{at}: at most one of auth_password & auth_password_file must be configured"),
                        "auth_password_file",
                    ));
                }
                if e.auth_secret.is_empty() {
                    e.auth_secret = g.smtp_auth_secret.clone();
                }
                if !e.auth_secret.is_empty() {
                    warnings.push(format!(
                        "{at}: CRAM-MD5 (auth_secret) is not supported by Argus"
                    ));
                }
                if e.auth_identity.is_empty() {
                    e.auth_identity = g.smtp_auth_identity.clone();
                }
                if e.require_tls.is_none() {
                    e.require_tls = g.smtp_require_tls;
                }
                if e.tls_config.is_none() {
                    e.tls_config = g.smtp_tls_config.clone();
                }
                let mut normalized = BTreeMap::new();
                for (k, v) in std::mem::take(&mut e.headers) {
                    let canon = canonical_header(&k);
                    if normalized.insert(canon.clone(), v).is_some() {
                        return Err(ck.err(
                            format!("{at}: duplicate header {canon:?} in email config"),
                            &k,
                        ));
                    }
                }
                e.headers = normalized;
            }
            for (kind, n) in r.unsupported_integrations() {
                warnings.push(format!(
                    "receiver {:?}: {n} {kind}_configs not supported by Argus (parsed; alerts routed there are not delivered by it)",
                    r.name
                ));
            }
        }
        self.global = Some(g);

        let mut intervals = HashSet::new();
        for ti in self.all_time_intervals() {
            if !intervals.insert(ti.name.clone()) {
                return Err(ck.err(
                    format!("time interval {:?} is not unique", ti.name),
                    &format!("name: {}", ti.name),
                ));
            }
            time_interval::compile(ti).map_err(|m| {
                ck.err(
                    format!("time interval {:?}: {m}", ti.name),
                    &format!("name: {}", ti.name),
                )
            })?;
        }

        let Some(route) = &self.route else {
            return Err(ck.err("no routes provided", ""));
        };
        if route.receiver.as_deref().unwrap_or("").is_empty() {
            return Err(ck.err("root route must specify a default receiver", "route:"));
        }
        if !route.match_.is_empty() || !route.match_re.is_empty() || !route.matchers.is_empty() {
            return Err(ck.err("root route must not have any matchers", "route:"));
        }
        if !route.mute_time_intervals.is_empty() {
            return Err(ck.err("root route must not have any mute time intervals", "route:"));
        }
        if !route.active_time_intervals.is_empty() {
            return Err(ck.err(
                "root route must not have any active time intervals",
                "route:",
            ));
        }
        check_route(route, &names, &intervals, &ck, "route")?;

        for (i, r) in self.inhibit_rules.iter().enumerate() {
            let at = format!("inhibit_rules[{i}]");
            build_matchers(
                &r.source_match,
                &r.source_match_re,
                &r.source_matchers,
                "source_match",
            )
            .map_err(|m| {
                ck.err(
                    format!("{at}: {m}"),
                    first_key(&r.source_match_re, &r.source_matchers),
                )
            })?;
            build_matchers(
                &r.target_match,
                &r.target_match_re,
                &r.target_matchers,
                "target_match",
            )
            .map_err(|m| {
                ck.err(
                    format!("{at}: {m}"),
                    first_key(&r.target_match_re, &r.target_matchers),
                )
            })?;
            for l in &r.equal {
                check_label_name(l).map_err(|m| ck.err(format!("{at}: equal: {m}"), l))?;
            }
        }
        for t in &self.templates {
            glob::Pattern::new(t)
                .map_err(|e| ck.err(format!("templates: invalid glob {t:?}: {e}"), t))?;
        }
        self.warnings = warnings;
        Ok(())
    }
}

fn first_key<'a>(re: &'a BTreeMap<String, Option<String>>, ms: &'a [String]) -> &'a str {
    re.iter()
        .find(|(_, v)| v.is_none())
        .map(|(k, _)| k.as_str())
        .or_else(|| ms.first().map(String::as_str))
        .unwrap_or("")
}

fn check_host_port(s: &str) -> Result<(), String> {
    let (host, port) = s
        .rsplit_once(':')
        .ok_or_else(|| format!("address {s}: missing port in address"))?;
    if port.is_empty() {
        return Err(format!("address {s:?}: port cannot be empty"));
    }
    if host.is_empty() && !s.starts_with(':') {
        return Err(format!("address {s}: missing host"));
    }
    Ok(())
}

/// `textproto.CanonicalMIMEHeaderKey`: `content-type` → `Content-Type`.
pub fn canonical_header(k: &str) -> String {
    let mut out = String::with_capacity(k.len());
    let mut upper = true;
    for c in k.chars() {
        if upper {
            out.extend(c.to_uppercase());
        } else {
            out.extend(c.to_lowercase());
        }
        upper = c == '-';
    }
    out
}

fn check_route(
    r: &RouteConfig,
    receivers: &HashSet<String>,
    intervals: &HashSet<String>,
    ck: &Checker<'_>,
    path: &str,
) -> Result<(), ConfigError> {
    if let Some(recv) = &r.receiver {
        if !recv.is_empty() && !receivers.contains(recv) {
            return Err(ck.err(
                format!("undefined receiver {recv:?} used in route"),
                &format!("receiver: {recv}"),
            ));
        }
    }
    if let Some(gb) = &r.group_by {
        let all = gb.iter().any(|l| l == "...");
        if all && gb.len() > 1 {
            return Err(ck.err(
                format!("{path}: cannot have wildcard group_by (`...`) and other other labels at the same time"),
                "...",
            ));
        }
        let mut seen = HashSet::new();
        for l in gb.iter().filter(|l| *l != "...") {
            check_label_name(l).map_err(|_| {
                ck.err(
                    format!("{path}: invalid label name {l:?} in group_by list"),
                    l,
                )
            })?;
            if !seen.insert(l) {
                return Err(ck.err(format!("{path}: duplicated label {l:?} in group_by"), l));
            }
        }
    }
    if r.group_interval.is_some_and(|d| d.0 == 0) {
        return Err(ck.err(
            format!("{path}: group_interval cannot be zero"),
            "group_interval",
        ));
    }
    if r.repeat_interval.is_some_and(|d| d.0 == 0) {
        return Err(ck.err(
            format!("{path}: repeat_interval cannot be zero"),
            "repeat_interval",
        ));
    }
    build_matchers(&r.match_, &r.match_re, &r.matchers, "match")
        .map_err(|m| ck.err(format!("{path}: {m}"), first_key(&r.match_re, &r.matchers)))?;
    for name in r.mute_time_intervals.iter().chain(&r.active_time_intervals) {
        if !intervals.contains(name) {
            return Err(ck.err(
                format!("undefined time interval {name:?} used in route"),
                name,
            ));
        }
    }
    for (i, c) in r.routes.iter().enumerate() {
        check_route(c, receivers, intervals, ck, &format!("{path}.routes[{i}]"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
