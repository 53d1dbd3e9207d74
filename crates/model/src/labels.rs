//! Label sets: the identity of a series.
//!
//! A [`Labels`] is an immutable, sorted set of `name="value"` pairs stored compactly: all
//! names and values live in one string, with a small table of end offsets beside it, behind
//! one `Arc`. Cloning is a reference-count increment, which matters because the query engine
//! and the scrape cache pass label sets around far more often than they build them.
//!
//! ```text
//! text: "__name__upjobnode"      ends: [8, 10, 13, 17]
//!        └name0─┘└v0┘└n1┘└─v1┘          name0 value0 name1 value1
//! ```
//!
//! Invariants (enforced by every constructor): names are sorted by bytes and unique, and no
//! value is empty. An empty value means "label absent" in Prometheus, so constructors drop it.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The label holding the metric name.
pub const METRIC_NAME: &str = "__name__";

/// Separator used when hashing label sets; `0xff` never occurs in valid UTF-8, so the hash
/// input is unambiguous (Prometheus uses the same byte).
const SEP: u8 = 0xff;

/// One label, borrowed from a [`Labels`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Label<'a> {
    /// Label name.
    pub name: &'a str,
    /// Label value (never empty inside a [`Labels`]).
    pub value: &'a str,
}

#[derive(Default)]
struct Inner {
    text: Box<str>,
    /// `ends[2i]` is the end of name `i`, `ends[2i + 1]` the end of value `i`.
    ends: Box<[u32]>,
}

/// An immutable, sorted label set. See the module documentation for the layout.
#[derive(Clone)]
pub struct Labels {
    inner: Arc<Inner>,
}

impl Default for Labels {
    fn default() -> Self {
        Self::empty()
    }
}

impl Labels {
    /// The empty label set.
    pub fn empty() -> Self {
        Labels {
            inner: Arc::new(Inner::default()),
        }
    }

    /// Builds a label set from pairs in any order. Empty values are dropped; if a name occurs
    /// twice, the last value wins.
    pub fn from_pairs<N: AsRef<str>, V: AsRef<str>>(pairs: &[(N, V)]) -> Self {
        let mut b = LabelsBuilder::new();
        for (n, v) in pairs {
            b.set(n.as_ref(), v.as_ref());
        }
        b.build()
    }

    /// Builds a label set from pairs that are already sorted by name, unique and non-empty.
    /// Falls back to sorting when the promise is broken, so it is safe on any input.
    pub fn from_sorted_iter<'a, I>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (&'a str, &'a str)>,
    {
        let mut text = String::new();
        let mut ends = Vec::new();
        let mut prev: Option<(usize, usize)> = None;
        let mut ok = true;
        let mut all: Vec<(&'a str, &'a str)> = Vec::new();
        for (n, v) in pairs {
            all.push((n, v));
            if !ok {
                continue;
            }
            if v.is_empty() {
                ok = false;
                continue;
            }
            if let Some((s, e)) = prev {
                if text.get(s..e).is_none_or(|p| p >= n) {
                    ok = false;
                    continue;
                }
            }
            let start = text.len();
            text.push_str(n);
            prev = Some((start, text.len()));
            ends.push(offset(text.len()));
            text.push_str(v);
            ends.push(offset(text.len()));
        }
        if ok {
            return Labels {
                inner: Arc::new(Inner {
                    text: text.into(),
                    ends: ends.into(),
                }),
            };
        }
        Self::from_pairs(&all)
    }

    /// Number of labels.
    pub fn len(&self) -> usize {
        self.inner.ends.len() / 2
    }

    /// True when there are no labels.
    pub fn is_empty(&self) -> bool {
        self.inner.ends.is_empty()
    }

    /// The label at position `i` in sorted order.
    pub fn at(&self, i: usize) -> Option<Label<'_>> {
        let ends = &self.inner.ends;
        let name_start = if i == 0 {
            0
        } else {
            *ends.get(2 * i - 1)? as usize
        };
        let name_end = *ends.get(2 * i)? as usize;
        let value_end = *ends.get(2 * i + 1)? as usize;
        let text = &self.inner.text;
        Some(Label {
            name: text.get(name_start..name_end)?,
            value: text.get(name_end..value_end)?,
        })
    }

    /// Iterates the labels in sorted order.
    pub fn iter(&self) -> LabelsIter<'_> {
        LabelsIter {
            labels: self,
            pos: 0,
        }
    }

    /// The value of label `name`, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = (lo + hi) / 2;
            let l = self.at(mid)?;
            match l.name.cmp(name) {
                Ordering::Equal => return Some(l.value),
                Ordering::Less => lo = mid + 1,
                Ordering::Greater => hi = mid,
            }
        }
        None
    }

    /// The value of label `name`, or `""` when absent (Prometheus' `Labels.Get`).
    pub fn get_or_empty(&self, name: &str) -> &str {
        self.get(name).unwrap_or("")
    }

    /// True when label `name` is present.
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The metric name (`__name__`), if any.
    pub fn metric_name(&self) -> Option<&str> {
        self.get(METRIC_NAME)
    }

    /// A copy without `__name__`; returns `self` (cheaply) when there is none.
    pub fn without_metric_name(&self) -> Labels {
        if !self.has(METRIC_NAME) {
            return self.clone();
        }
        self.filter(|l| l.name != METRIC_NAME)
    }

    /// A copy keeping only the labels for which `keep` returns true.
    pub fn filter(&self, mut keep: impl FnMut(&Label<'_>) -> bool) -> Labels {
        Labels::from_sorted_iter(self.iter().filter(|l| keep(l)).map(|l| (l.name, l.value)))
    }

    /// Starts a builder from this label set.
    pub fn builder(&self) -> LabelsBuilder {
        LabelsBuilder::from(self)
    }

    /// Stable 64-bit hash of the whole label set (xxh3 over `name 0xff value 0xff ...`).
    /// Stable across processes and versions: it may be persisted and sent to peers.
    pub fn stable_hash(&self) -> u64 {
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        for l in self.iter() {
            h.update(l.name.as_bytes());
            h.update(&[SEP]);
            h.update(l.value.as_bytes());
            h.update(&[SEP]);
        }
        h.digest()
    }

    /// Hash of only the labels named in `names` (which need not be sorted). Used for
    /// `by (...)` grouping and `on (...)` matching.
    pub fn hash_for_labels(&self, names: &[impl AsRef<str>]) -> u64 {
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        for l in self.iter() {
            if names.iter().any(|n| n.as_ref() == l.name) {
                h.update(l.name.as_bytes());
                h.update(&[SEP]);
                h.update(l.value.as_bytes());
                h.update(&[SEP]);
            }
        }
        h.digest()
    }

    /// Hash of all labels except `__name__` and those named in `names`. Used for
    /// `without (...)` grouping and `ignoring (...)` matching.
    pub fn hash_without_labels(&self, names: &[impl AsRef<str>]) -> u64 {
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        for l in self.iter() {
            if l.name == METRIC_NAME || names.iter().any(|n| n.as_ref() == l.name) {
                continue;
            }
            h.update(l.name.as_bytes());
            h.update(&[SEP]);
            h.update(l.value.as_bytes());
            h.update(&[SEP]);
        }
        h.digest()
    }

    /// Total bytes of label text (names and values).
    pub fn text_len(&self) -> usize {
        self.inner.text.len()
    }

    /// Formats as a metric: `name{a="b"}` (or `{a="b"}` without a name), values quoted as Go's
    /// `strconv.Quote` does, which is how Prometheus prints series in messages.
    pub fn to_metric_string(&self) -> String {
        let mut out = String::new();
        let name = self.metric_name();
        if let Some(n) = name {
            out.push_str(n);
        }
        let rest: Vec<Label<'_>> = self.iter().filter(|l| l.name != METRIC_NAME).collect();
        if rest.is_empty() && name.is_some() {
            return out;
        }
        out.push('{');
        for (i, l) in rest.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            out.push_str(l.name);
            out.push('=');
            go_quote_into(l.value, &mut out);
        }
        out.push('}');
        out
    }
}

fn offset(n: usize) -> u32 {
    // Label text above 4 GiB would be rejected long before (label length limits); saturating
    // keeps the type total without a panic path.
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Appends `s` quoted like Go's `strconv.Quote` (double quotes, `\"`, `\\`, `\n`, `\t`, ...).
pub fn go_quote_into(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{07}' => out.push_str("\\a"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            '\u{0b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Iterator over the labels of a [`Labels`].
pub struct LabelsIter<'a> {
    labels: &'a Labels,
    pos: usize,
}

impl<'a> Iterator for LabelsIter<'a> {
    type Item = Label<'a>;

    fn next(&mut self) -> Option<Label<'a>> {
        let l = self.labels.at(self.pos)?;
        self.pos += 1;
        Some(l)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.labels.len().saturating_sub(self.pos);
        (n, Some(n))
    }
}

impl ExactSizeIterator for LabelsIter<'_> {}

impl<'a> IntoIterator for &'a Labels {
    type Item = Label<'a>;
    type IntoIter = LabelsIter<'a>;
    fn into_iter(self) -> LabelsIter<'a> {
        self.iter()
    }
}

impl PartialEq for Labels {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
            || (self.inner.ends == other.inner.ends && self.inner.text == other.inner.text)
    }
}

impl Eq for Labels {}

impl Hash for Labels {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.inner.text.hash(state);
        self.inner.ends.hash(state);
    }
}

impl PartialOrd for Labels {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Labels {
    /// Prometheus' `labels.Compare`: pairwise by name, then value, then by length.
    fn cmp(&self, other: &Self) -> Ordering {
        for (a, b) in self.iter().zip(other.iter()) {
            match a.name.cmp(b.name).then_with(|| a.value.cmp(b.value)) {
                Ordering::Equal => {}
                o => return o,
            }
        }
        self.len().cmp(&other.len())
    }
}

impl fmt::Display for Labels {
    /// Prometheus' `Labels.String()`: `{a="b", c="d"}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::from("{");
        for (i, l) in self.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            out.push_str(l.name);
            out.push('=');
            go_quote_into(l.value, &mut out);
        }
        out.push('}');
        f.write_str(&out)
    }
}

impl fmt::Debug for Labels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for Labels {
    /// A JSON object `{"name": "value", ...}`, as in Prometheus API responses.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.len()))?;
        for l in self.iter() {
            m.serialize_entry(l.name, l.value)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for Labels {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Labels;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of label names to values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Labels, A::Error> {
                let mut b = LabelsBuilder::new();
                while let Some((k, v)) = map.next_entry::<String, String>()? {
                    b.set(&k, &v);
                }
                Ok(b.build())
            }
        }
        d.deserialize_map(V)
    }
}

/// Mutable label set, kept sorted; [`LabelsBuilder::build`] produces a [`Labels`].
#[derive(Debug, Clone, Default)]
pub struct LabelsBuilder {
    pairs: Vec<(String, String)>,
}

impl LabelsBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `name` to `value`; an empty value removes the label (Prometheus semantics).
    pub fn set(&mut self, name: &str, value: &str) -> &mut Self {
        match self.pairs.binary_search_by(|(n, _)| n.as_str().cmp(name)) {
            Ok(i) => {
                if value.is_empty() {
                    self.pairs.remove(i);
                } else if let Some(p) = self.pairs.get_mut(i) {
                    p.1.clear();
                    p.1.push_str(value);
                }
            }
            Err(i) => {
                if !value.is_empty() {
                    self.pairs.insert(i, (name.to_owned(), value.to_owned()));
                }
            }
        }
        self
    }

    /// Removes label `name` if present.
    pub fn del(&mut self, name: &str) -> &mut Self {
        if let Ok(i) = self.pairs.binary_search_by(|(n, _)| n.as_str().cmp(name)) {
            self.pairs.remove(i);
        }
        self
    }

    /// Keeps only the labels named in `names`.
    pub fn keep(&mut self, names: &[impl AsRef<str>]) -> &mut Self {
        self.pairs
            .retain(|(n, _)| names.iter().any(|k| k.as_ref() == n));
        self
    }

    /// Keeps only the labels for which `f(name, value)` is true.
    pub fn retain(&mut self, mut f: impl FnMut(&str, &str) -> bool) -> &mut Self {
        self.pairs.retain(|(n, v)| f(n, v));
        self
    }

    /// The current value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .binary_search_by(|(n, _)| n.as_str().cmp(name))
            .ok()
            .and_then(|i| self.pairs.get(i))
            .map(|(_, v)| v.as_str())
    }

    /// Iterates the current labels in sorted order.
    pub fn iter(&self) -> impl Iterator<Item = Label<'_>> {
        self.pairs.iter().map(|(n, v)| Label { name: n, value: v })
    }

    /// Number of labels currently set.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// True when no label is set.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Removes every label.
    pub fn clear(&mut self) {
        self.pairs.clear();
    }

    /// The label set.
    pub fn build(&self) -> Labels {
        Labels::from_sorted_iter(self.pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())))
    }
}

impl From<&Labels> for LabelsBuilder {
    fn from(l: &Labels) -> Self {
        LabelsBuilder {
            pairs: l
                .iter()
                .map(|l| (l.name.to_owned(), l.value.to_owned()))
                .collect(),
        }
    }
}

/// Builds a [`Labels`] from literal pairs: `labels!("__name__" => "up", "job" => "node")`.
#[macro_export]
macro_rules! labels {
    () => { $crate::Labels::empty() };
    ($($n:expr => $v:expr),+ $(,)?) => {
        $crate::Labels::from_pairs(&[$(($n, $v)),+])
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn sorted_and_empty_values_dropped() {
        let l = Labels::from_pairs(&[("b", "2"), ("a", "1"), ("c", ""), ("__name__", "up")]);
        let names: Vec<_> = l.iter().map(|l| l.name).collect();
        assert_eq!(names, ["__name__", "a", "b"]);
        assert_eq!(l.get("a"), Some("1"));
        assert_eq!(l.get("c"), None);
        assert_eq!(l.metric_name(), Some("up"));
        assert_eq!(l.to_string(), r#"{__name__="up", a="1", b="2"}"#);
        assert_eq!(l.to_metric_string(), r#"up{a="1", b="2"}"#);
    }

    #[test]
    fn duplicate_names_last_wins() {
        let l = Labels::from_pairs(&[("a", "1"), ("a", "2")]);
        assert_eq!(l.len(), 1);
        assert_eq!(l.get("a"), Some("2"));
    }

    #[test]
    fn unsorted_input_to_from_sorted_iter_is_repaired() {
        let l = Labels::from_sorted_iter([("b", "1"), ("a", "2")]);
        assert_eq!(l, Labels::from_pairs(&[("a", "2"), ("b", "1")]));
    }

    #[test]
    fn ordering_matches_prometheus_compare() {
        let a = labels!("a" => "1");
        let ab = labels!("a" => "1", "b" => "1");
        let b = labels!("b" => "0");
        assert!(a < ab);
        assert!(ab < b);
        assert!(labels!("a" => "1") < labels!("a" => "2"));
    }

    #[test]
    fn hashes_ignore_requested_labels() {
        let x = labels!("__name__" => "m", "a" => "1", "b" => "2");
        let y = labels!("__name__" => "n", "a" => "1", "b" => "3");
        assert_eq!(x.hash_for_labels(&["a"]), y.hash_for_labels(&["a"]));
        assert_eq!(x.hash_without_labels(&["b"]), y.hash_without_labels(&["b"]));
        assert_ne!(x.stable_hash(), y.stable_hash());
    }

    #[test]
    fn quoting_like_go() {
        let mut s = String::new();
        go_quote_into("a\"b\\c\nd\u{1}", &mut s);
        assert_eq!(s, r#""a\"b\\c\nd\x01""#);
    }

    #[test]
    fn json_round_trip() {
        let l = labels!("job" => "x", "__name__" => "up");
        let j = serde_json::to_string(&l).unwrap();
        assert_eq!(j, r#"{"__name__":"up","job":"x"}"#);
        let back: Labels = serde_json::from_str(&j).unwrap();
        assert_eq!(back, l);
    }

    proptest! {
        #[test]
        fn builder_agrees_with_btreemap(pairs in proptest::collection::vec(("[a-c]{0,2}", "[x-z]{0,2}"), 0..12)) {
            let mut m = std::collections::BTreeMap::new();
            for (n, v) in &pairs {
                if v.is_empty() { m.remove(n); } else { m.insert(n.clone(), v.clone()); }
            }
            let l = Labels::from_pairs(&pairs);
            let got: Vec<(String, String)> = l.iter().map(|l| (l.name.to_owned(), l.value.to_owned())).collect();
            let want: Vec<(String, String)> = m.into_iter().collect();
            prop_assert_eq!(got, want);
        }
    }
}
