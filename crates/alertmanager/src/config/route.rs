//! The `route` tree and `inhibit_rules` as written in the config, with the legacy
//! `match`/`match_re` forms next to `matchers`.

use std::collections::BTreeMap;

use argus_model::PromDuration;
use serde::{Deserialize, Serialize};

use super::{scalar_map, scalar_opt_map};
use crate::matchers::{parse_matchers, MatchType, Matcher, Matchers};

/// A routing node.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    /// Receiver name (inherited when empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receiver: Option<String>,
    /// Labels to group by; `...` alone groups by all labels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_by: Option<Vec<String>>,
    /// Keep matching later siblings after this route matched.
    #[serde(
        default,
        rename = "continue",
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub continue_: bool,
    /// Legacy equality matchers.
    #[serde(
        default,
        rename = "match",
        deserialize_with = "scalar_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub match_: BTreeMap<String, String>,
    /// Legacy regex matchers (anchored).
    #[serde(
        default,
        deserialize_with = "scalar_opt_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub match_re: BTreeMap<String, Option<String>>,
    /// Matchers in `name="value"` syntax.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub matchers: Vec<String>,
    /// Child routes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<RouteConfig>,
    /// Wait before the first notification of a new group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_wait: Option<PromDuration>,
    /// Wait between notifications of a group about new alerts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_interval: Option<PromDuration>,
    /// Wait before re-sending an unchanged notification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat_interval: Option<PromDuration>,
    /// Named time intervals during which this route is muted (not inherited).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mute_time_intervals: Vec<String>,
    /// Named time intervals outside of which this route is muted (not inherited).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub active_time_intervals: Vec<String>,
}

/// Builds the sorted matcher list of `match` + `match_re` + `matchers`, as Alertmanager's
/// `NewRoute` does (legacy regexes get the `^(?:...)$` wrapper in their text, which is why
/// they print that way in route keys).
pub fn build_matchers(
    eq: &BTreeMap<String, String>,
    re: &BTreeMap<String, Option<String>>,
    new: &[String],
    field: &str,
) -> Result<Matchers, String> {
    let mut out = Vec::new();
    for (k, v) in eq {
        check_label_name(k)?;
        out.push(Matcher::equal(k.clone(), v.clone()));
    }
    for (k, v) in re {
        check_label_name(k)?;
        let v = v
            .as_ref()
            .ok_or_else(|| format!("invalid regexp value for {k:?}"))?;
        // Validate the user's regex first so the error names it, then wrap it.
        Matcher::new(MatchType::Regexp, k.clone(), v.clone())
            .map_err(|e| format!("{field}_re {k:?}: {e}"))?;
        let wrapped = format!("^(?:{v})$");
        out.push(
            Matcher::new(MatchType::Regexp, k.clone(), wrapped)
                .map_err(|e| format!("{field}_re {k:?}: {e}"))?,
        );
    }
    for line in new {
        let ms = parse_matchers(line).map_err(|e| format!("{field}ers {line:?}: {e}"))?;
        out.extend(ms);
    }
    let mut ms = Matchers(out);
    ms.sort();
    Ok(ms)
}

/// Legacy label names: `[a-zA-Z_][a-zA-Z0-9_]*`.
pub fn check_label_name(n: &str) -> Result<(), String> {
    let mut chars = n.chars();
    let ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(format!("invalid label name {n:?}"))
    }
}

/// An inhibition rule.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct InhibitRuleConfig {
    /// Optional name (newer Alertmanager).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Legacy source equality matchers.
    #[serde(
        default,
        deserialize_with = "scalar_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub source_match: BTreeMap<String, String>,
    /// Legacy source regex matchers.
    #[serde(
        default,
        deserialize_with = "scalar_opt_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub source_match_re: BTreeMap<String, Option<String>>,
    /// Source matchers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub source_matchers: Vec<String>,
    /// Legacy target equality matchers.
    #[serde(
        default,
        deserialize_with = "scalar_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub target_match: BTreeMap<String, String>,
    /// Legacy target regex matchers.
    #[serde(
        default,
        deserialize_with = "scalar_opt_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub target_match_re: BTreeMap<String, Option<String>>,
    /// Target matchers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub target_matchers: Vec<String>,
    /// Labels that must have equal values on source and target (absent = `""`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub equal: Vec<String>,
}
