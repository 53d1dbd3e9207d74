//! Matchers → postings, shared by the head and disk blocks.
//!
//! Semantics follow Prometheus' `PostingsForMatchers`: a matcher that accepts the empty string
//! also selects series that lack the label, so it is applied by *subtracting* the series whose
//! value it rejects; every other matcher *intersects* the union of the postings of the values
//! it accepts. Equality and literal alternations (`a|b|c`) look up exactly those values
//! instead of scanning the label's value list.

use argus_model::Matcher;
use roaring::{RoaringBitmap, RoaringTreemap};

use crate::error::Result;

/// Set operations a postings list supports.
pub trait PostingsSet: Clone + Default {
    /// `self ∩= other`.
    fn and_with(&mut self, other: &Self);
    /// `self ∪= other`.
    fn or_with(&mut self, other: &Self);
    /// `self −= other`.
    fn and_not_with(&mut self, other: &Self);
    /// Number of members.
    fn count(&self) -> u64;
}

impl PostingsSet for RoaringBitmap {
    fn and_with(&mut self, other: &Self) {
        *self &= other;
    }
    fn or_with(&mut self, other: &Self) {
        *self |= other;
    }
    fn and_not_with(&mut self, other: &Self) {
        *self -= other;
    }
    fn count(&self) -> u64 {
        self.len()
    }
}

impl PostingsSet for RoaringTreemap {
    fn and_with(&mut self, other: &Self) {
        *self &= other;
    }
    fn or_with(&mut self, other: &Self) {
        *self |= other;
    }
    fn and_not_with(&mut self, other: &Self) {
        *self -= other;
    }
    fn count(&self) -> u64 {
        self.len()
    }
}

/// What an index must answer for matcher evaluation.
pub trait PostingsIndex {
    /// The postings representation.
    type Set: PostingsSet;

    /// Every series.
    fn all_postings(&self) -> Result<Self::Set>;

    /// Series with `name="value"` (empty when absent).
    fn postings(&self, name: &str, value: &str) -> Result<Self::Set>;

    /// Union of the postings of the values of `name` for which `keep` is true.
    fn postings_where(&self, name: &str, keep: &dyn Fn(&str) -> bool) -> Result<Self::Set>;
}

/// Union of the postings of the exact values `vals` of `name`.
fn postings_for_values<I: PostingsIndex>(ix: &I, name: &str, vals: &[&str]) -> Result<I::Set> {
    let mut out = I::Set::default();
    for v in vals {
        out.or_with(&ix.postings(name, v)?);
    }
    Ok(out)
}

/// Series matching every matcher.
pub fn postings_for_matchers<I: PostingsIndex>(ix: &I, ms: &[Matcher]) -> Result<I::Set> {
    let mut acc: Option<I::Set> = None;
    let mut subtract: Vec<I::Set> = Vec::new();
    // Positive matchers first: they shrink the set the most.
    let (pos, neg): (Vec<&Matcher>, Vec<&Matcher>) = ms
        .iter()
        .filter(|m| !m.matches_everything())
        .partition(|m| !m.matches_empty());
    for m in pos {
        let set = match m.set_matches() {
            Some(vals) => postings_for_values(ix, &m.name, &vals)?,
            None => ix.postings_where(&m.name, &|v| m.matches(v))?,
        };
        match acc.as_mut() {
            Some(a) => a.and_with(&set),
            None => acc = Some(set),
        }
        if acc.as_ref().is_some_and(|a| a.count() == 0) {
            return Ok(I::Set::default());
        }
    }
    for m in neg {
        // The series whose value this matcher rejects; those without the label stay.
        let inverse = m.inverse();
        let set = match inverse.set_matches() {
            Some(vals) => postings_for_values(ix, &m.name, &vals)?,
            None => ix.postings_where(&m.name, &|v| !m.matches(v))?,
        };
        subtract.push(set);
    }
    let mut acc = match acc {
        Some(a) => a,
        None => ix.all_postings()?,
    };
    for s in &subtract {
        acc.and_not_with(s);
    }
    Ok(acc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use argus_model::{labels, Labels, MatchOp};
    use std::collections::BTreeMap;

    /// A toy index over a list of label sets, for checking the algorithm against brute force.
    struct Toy(Vec<Labels>);

    impl PostingsIndex for Toy {
        type Set = RoaringBitmap;
        fn all_postings(&self) -> Result<RoaringBitmap> {
            Ok((0..self.0.len() as u32).collect())
        }
        fn postings(&self, name: &str, value: &str) -> Result<RoaringBitmap> {
            Ok(self
                .0
                .iter()
                .enumerate()
                .filter(|(_, l)| l.get(name) == Some(value))
                .map(|(i, _)| i as u32)
                .collect())
        }
        fn postings_where(&self, name: &str, keep: &dyn Fn(&str) -> bool) -> Result<RoaringBitmap> {
            let mut vals: BTreeMap<&str, ()> = BTreeMap::new();
            for l in &self.0 {
                if let Some(v) = l.get(name) {
                    vals.insert(v, ());
                }
            }
            let mut out = RoaringBitmap::new();
            for v in vals.keys().filter(|v| keep(v)) {
                out |= self.postings(name, v)?;
            }
            Ok(out)
        }
    }

    #[test]
    fn agrees_with_brute_force() {
        let series = vec![
            labels!("__name__" => "up", "job" => "a", "inst" => "1"),
            labels!("__name__" => "up", "job" => "b", "inst" => "2"),
            labels!("__name__" => "up", "job" => "b"),
            labels!("__name__" => "down", "inst" => "1"),
            labels!("__name__" => "down", "job" => "ab"),
        ];
        let toy = Toy(series.clone());
        let re = |n: &str, p: &str| Matcher::new(MatchOp::Regex, n, p).unwrap();
        let nre = |n: &str, p: &str| Matcher::new(MatchOp::NotRegex, n, p).unwrap();
        let cases: Vec<Vec<Matcher>> = vec![
            vec![Matcher::equal("__name__", "up")],
            vec![
                Matcher::equal("__name__", "up"),
                Matcher::not_equal("job", "b"),
            ],
            vec![Matcher::equal("inst", "")],
            vec![Matcher::not_equal("inst", "")],
            vec![re("job", "a|b")],
            vec![re("job", "a.*")],
            vec![re("job", "b|")],
            vec![nre("job", "a.*"), Matcher::equal("__name__", "down")],
            vec![re("__name__", ".+"), nre("inst", "1|2")],
            vec![re("job", ".*"), Matcher::equal("__name__", "up")],
            vec![Matcher::equal("__name__", "nope")],
        ];
        for ms in cases {
            let got: Vec<u32> = postings_for_matchers(&toy, &ms).unwrap().iter().collect();
            let want: Vec<u32> = series
                .iter()
                .enumerate()
                .filter(|(_, l)| ms.iter().all(|m| m.matches(l.get_or_empty(&m.name))))
                .map(|(i, _)| i as u32)
                .collect();
            assert_eq!(got, want, "matchers {ms:?}");
        }
    }
}
