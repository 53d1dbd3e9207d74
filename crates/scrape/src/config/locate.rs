//! Finding where a node of a YAML document is, for errors found after deserialization.
//!
//! serde_yaml_ng attaches a line and column to errors raised *while* deserializing, but
//! checks that need the whole document (a job's timeout against the global interval,
//! duplicate job names) run afterwards, when positions are gone. Rather than keep a second
//! YAML parser, we deserialize the text once more with a probe that walks down the path
//! to the node and fails there on purpose: the error serde_yaml_ng reports carries the
//! node's position.

use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// One step of a path into a YAML document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathElem {
    /// A mapping key.
    Key(String),
    /// A sequence index.
    Index(usize),
}

/// Formats a path as serde_yaml_ng does (`scrape_configs[1].relabel_configs[0]`).
pub fn format_path(path: &[PathElem]) -> String {
    let mut out = String::new();
    for p in path {
        match p {
            PathElem::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            PathElem::Index(i) => {
                out.push_str(&format!("[{i}]"));
            }
        }
    }
    out
}

const PROBE_HIT: &str = "\u{0}argus-locate-probe";

struct Probe<'a> {
    path: &'a [PathElem],
}

impl<'de> DeserializeSeed<'de> for Probe<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        match self.path.first() {
            None => d.deserialize_any(Hit),
            Some(PathElem::Key(_)) => d.deserialize_map(self),
            Some(PathElem::Index(_)) => d.deserialize_seq(self),
        }
    }
}

impl<'de> Visitor<'de> for Probe<'_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML node")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Some(PathElem::Key(want)) = self.path.first() else {
            return Ok(());
        };
        while let Some(key) = map.next_key::<serde_yaml_ng::Value>()? {
            if key.as_str() == Some(want.as_str()) {
                return map.next_value_seed(Probe {
                    path: self.path.get(1..).unwrap_or(&[]),
                });
            }
            map.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Some(PathElem::Index(want)) = self.path.first() else {
            return Ok(());
        };
        for _ in 0..*want {
            if seq.next_element::<IgnoredAny>()?.is_none() {
                return Ok(());
            }
        }
        seq.next_element_seed(Probe {
            path: self.path.get(1..).unwrap_or(&[]),
        })?;
        Ok(())
    }

    // Any other node on the way means the path does not exist.
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E: de::Error>(self, _v: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_bool<E: de::Error>(self, _v: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, _v: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, _v: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, _v: f64) -> Result<(), E> {
        Ok(())
    }
}

/// A visitor that fails on whatever node it is given, so the error carries its position.
struct Hit;

impl<'de> Visitor<'de> for Hit {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML node")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Err(E::custom(PROBE_HIT))
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Err(E::custom(PROBE_HIT))
    }
    fn visit_str<E: de::Error>(self, _v: &str) -> Result<(), E> {
        Err(E::custom(PROBE_HIT))
    }
    fn visit_bool<E: de::Error>(self, _v: bool) -> Result<(), E> {
        Err(E::custom(PROBE_HIT))
    }
    fn visit_i64<E: de::Error>(self, _v: i64) -> Result<(), E> {
        Err(E::custom(PROBE_HIT))
    }
    fn visit_u64<E: de::Error>(self, _v: u64) -> Result<(), E> {
        Err(E::custom(PROBE_HIT))
    }
    fn visit_f64<E: de::Error>(self, _v: f64) -> Result<(), E> {
        Err(E::custom(PROBE_HIT))
    }
    fn visit_map<A: MapAccess<'de>>(self, _map: A) -> Result<(), A::Error> {
        Err(de::Error::custom(PROBE_HIT))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _seq: A) -> Result<(), A::Error> {
        Err(de::Error::custom(PROBE_HIT))
    }
}

/// Line and column (1-based) of the node at `path` in `text`, or of its nearest existing
/// ancestor when the node itself is absent (a value that came from a default).
pub fn locate(text: &str, path: &[PathElem]) -> Option<(usize, usize)> {
    for len in (0..=path.len()).rev() {
        let prefix = path.get(..len).unwrap_or(&[]);
        let de = serde_yaml_ng::Deserializer::from_str(text);
        if let Err(e) = (Probe { path: prefix }).deserialize(de) {
            if e.to_string().contains(PROBE_HIT) {
                if let Some(loc) = e.location() {
                    return Some((loc.line(), loc.column()));
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> PathElem {
        PathElem::Key(k.to_owned())
    }

    #[test]
    fn finds_nested_nodes_and_falls_back_to_ancestors() {
        let text = "global:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: a\n  - job_name: b\n    scrape_timeout: 1m\n";
        assert_eq!(
            locate(text, &[key("global"), key("scrape_interval")]),
            Some((2, 20))
        );
        let p = [
            key("scrape_configs"),
            PathElem::Index(1),
            key("scrape_timeout"),
        ];
        assert_eq!(locate(text, &p), Some((6, 21)));
        // Absent key: the enclosing mapping (the list item) is reported.
        let p = [
            key("scrape_configs"),
            PathElem::Index(0),
            key("scrape_timeout"),
        ];
        assert_eq!(locate(text, &p), Some((4, 5)));
        assert_eq!(format_path(&p), "scrape_configs[0].scrape_timeout");
    }
}
