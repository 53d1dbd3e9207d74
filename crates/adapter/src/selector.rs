//! Kubernetes label and field selectors (`labelSelector=`, `metricLabelSelector=`,
//! `fieldSelector=`), parsed with the grammar of `k8s.io/apimachinery/pkg/labels`:
//!
//! ```text
//! selector    ::= requirement ( "," requirement )*
//! requirement ::= [ "!" ] KEY
//!               | KEY ( "=" | "==" | "!=" ) VALUE
//!               | KEY ( "in" | "notin" ) "(" VALUE ( "," VALUE )* ")"
//!               | KEY ( ">" | "<" ) INTEGER
//! ```
//!
//! Keys are qualified names (`[prefix/]name`), values are label values (at most 63
//! characters of `[A-Za-z0-9._-]`, starting and ending alphanumeric, or empty).
//!
//! Translation into PromQL matchers is exact, unlike prometheus-adapter's (which passes
//! values into regexes unescaped): `in`/`notin` become anchored alternations of escaped
//! values, `exists` is `!=""`, `!exists` is `=""`, and `>`/`<` are refused because PromQL
//! matchers cannot compare numbers.

use std::collections::BTreeMap;
use std::fmt::{self, Write};

use argus_model::labels::go_quote_into;
use serde::Serialize;

/// A selector that could not be parsed or translated; the message is shown to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SelectorError(pub String);

fn err<T>(msg: impl Into<String>) -> Result<T, SelectorError> {
    Err(SelectorError(msg.into()))
}

/// A requirement's operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Operator {
    /// `=` or `==`.
    Equals,
    /// `!=`.
    NotEquals,
    /// `in (…)`.
    In,
    /// `notin (…)`.
    NotIn,
    /// Bare key.
    Exists,
    /// `!key`.
    DoesNotExist,
    /// `key > n`.
    GreaterThan,
    /// `key < n`.
    LessThan,
}

/// One requirement of a selector.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Requirement {
    /// Label key.
    pub key: String,
    /// Operator.
    pub op: Operator,
    /// Values, sorted and deduplicated (one for `=`/`!=`/`>`/`<`, none for exists).
    pub values: Vec<String>,
}

/// A parsed label selector: requirements sorted by key, all of which must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector {
    /// The requirements.
    pub requirements: Vec<Requirement>,
}

/// `metav1.LabelSelector`, the JSON form echoed in `MetricValue.metric.selector`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelectorJson {
    /// `key: value` equality requirements.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub match_labels: BTreeMap<String, String>,
    /// Everything else.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub match_expressions: Vec<LabelSelectorRequirementJson>,
}

/// `metav1.LabelSelectorRequirement`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LabelSelectorRequirementJson {
    /// Label key.
    pub key: String,
    /// `In`, `NotIn`, `Exists` or `DoesNotExist`.
    pub operator: &'static str,
    /// Values.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Ident(String),
    Not,
    Eq,
    DoubleEq,
    NotEq,
    Open,
    Close,
    Comma,
    Gt,
    Lt,
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Token::Ident(s) => f.write_str(s),
            Token::Not => f.write_str("!"),
            Token::Eq => f.write_str("="),
            Token::DoubleEq => f.write_str("=="),
            Token::NotEq => f.write_str("!="),
            Token::Open => f.write_str("("),
            Token::Close => f.write_str(")"),
            Token::Comma => f.write_str(","),
            Token::Gt => f.write_str(">"),
            Token::Lt => f.write_str("<"),
        }
    }
}

fn is_special(c: char) -> bool {
    matches!(c, '!' | '=' | '(' | ')' | ',' | '>' | '<')
}

fn lex(input: &str) -> Vec<Token> {
    let mut out = Vec::new();
    let mut chars = input.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        if is_special(c) {
            chars.next();
            let two = chars.peek() == Some(&'=');
            out.push(match (c, two) {
                ('!', true) => {
                    chars.next();
                    Token::NotEq
                }
                ('=', true) => {
                    chars.next();
                    Token::DoubleEq
                }
                ('!', false) => Token::Not,
                ('=', false) => Token::Eq,
                ('(', _) => Token::Open,
                (')', _) => Token::Close,
                (',', _) => Token::Comma,
                ('>', _) => Token::Gt,
                _ => Token::Lt,
            });
            continue;
        }
        let mut ident = String::new();
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() || is_special(c) {
                break;
            }
            ident.push(c);
            chars.next();
        }
        out.push(Token::Ident(ident));
    }
    out
}

/// Checks a qualified name (`[dns-prefix/]name`), as label keys must be.
pub fn validate_key(key: &str) -> Result<(), SelectorError> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if let Some(p) = prefix {
        let ok = !p.is_empty()
            && p.len() <= 253
            && p.split('.').all(|part| {
                !part.is_empty()
                    && part.len() <= 63
                    && part
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                    && !part.starts_with('-')
                    && !part.ends_with('-')
            });
        if !ok {
            return err(format!(
                "invalid label key {key:?}: prefix part must be a DNS-1123 subdomain"
            ));
        }
    }
    if name.is_empty() || !is_label_value(name) {
        return err(format!(
            "invalid label key {key:?}: name part must consist of alphanumeric characters, \
             '-', '_' or '.', and must start and end with an alphanumeric character, \
             at most 63 characters"
        ));
    }
    Ok(())
}

/// True for a valid (possibly empty) Kubernetes label value.
pub fn is_label_value(v: &str) -> bool {
    if v.is_empty() {
        return true;
    }
    let b = v.as_bytes();
    v.len() <= 63
        && b.first().is_some_and(u8::is_ascii_alphanumeric)
        && b.last().is_some_and(u8::is_ascii_alphanumeric)
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

fn validate_value(key: &str, v: &str) -> Result<(), SelectorError> {
    if is_label_value(v) {
        Ok(())
    } else {
        err(format!(
            "invalid label value {v:?} for key {key:?}: a valid label value must be an empty \
             string or consist of alphanumeric characters, '-', '_' or '.', and must start and \
             end with an alphanumeric character, at most 63 characters"
        ))
    }
}

struct Parser {
    toks: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.pos)
    }
    fn next(&mut self) -> Option<Token> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }
    fn found(t: Option<&Token>) -> String {
        t.map_or_else(|| "end of string".to_owned(), |t| format!("'{t}'"))
    }

    fn requirement(&mut self) -> Result<Requirement, SelectorError> {
        let negated = self.peek() == Some(&Token::Not);
        if negated {
            self.next();
        }
        let key = match self.next() {
            Some(Token::Ident(k)) => k,
            t => {
                return err(format!(
                    "found {}, expected: identifier",
                    Self::found(t.as_ref())
                ))
            }
        };
        validate_key(&key)?;
        if negated || matches!(self.peek(), None | Some(Token::Comma)) {
            if negated && !matches!(self.peek(), None | Some(Token::Comma)) {
                return err(format!(
                    "found {}, expected: ',' or end of string after '!{key}'",
                    Self::found(self.peek())
                ));
            }
            let op = if negated {
                Operator::DoesNotExist
            } else {
                Operator::Exists
            };
            return Ok(Requirement {
                key,
                op,
                values: Vec::new(),
            });
        }
        let op = match self.next() {
            Some(Token::Eq | Token::DoubleEq) => Operator::Equals,
            Some(Token::NotEq) => Operator::NotEquals,
            Some(Token::Gt) => Operator::GreaterThan,
            Some(Token::Lt) => Operator::LessThan,
            Some(Token::Ident(w)) if w == "in" => Operator::In,
            Some(Token::Ident(w)) if w == "notin" => Operator::NotIn,
            t => {
                return err(format!(
                    "found {}, expected: '=', '!=', '==', 'in', 'notin', '>' or '<'",
                    Self::found(t.as_ref())
                ))
            }
        };
        let mut values = match op {
            Operator::In | Operator::NotIn => self.value_set()?,
            _ => match self.peek() {
                None | Some(Token::Comma) => vec![String::new()],
                Some(Token::Ident(_)) => match self.next() {
                    Some(Token::Ident(v)) => vec![v],
                    _ => unreachable!("BUG: peeked an identifier"),
                },
                t => return err(format!("found {}, expected: identifier", Self::found(t))),
            },
        };
        for v in &values {
            if matches!(op, Operator::GreaterThan | Operator::LessThan) {
                if v.parse::<i64>().is_err() {
                    return err(format!(
                        "for 'Gt', 'Lt' operators, the value must be an integer, got {v:?}"
                    ));
                }
            } else {
                validate_value(&key, v)?;
            }
        }
        values.sort();
        values.dedup();
        Ok(Requirement { key, op, values })
    }

    fn value_set(&mut self) -> Result<Vec<String>, SelectorError> {
        match self.next() {
            Some(Token::Open) => {}
            t => return err(format!("found {}, expected: '('", Self::found(t.as_ref()))),
        }
        let mut values = Vec::new();
        let mut expect_value = true;
        loop {
            match self.next() {
                Some(Token::Close) => {
                    if expect_value {
                        values.push(String::new());
                    }
                    return Ok(values);
                }
                Some(Token::Comma) => {
                    if expect_value {
                        values.push(String::new());
                    }
                    expect_value = true;
                }
                Some(Token::Ident(v)) if expect_value => {
                    values.push(v);
                    expect_value = false;
                }
                t => {
                    return err(format!(
                        "found {}, expected: ',', ')' or identifier",
                        Self::found(t.as_ref())
                    ))
                }
            }
        }
    }
}

impl LabelSelector {
    /// Parses a selector; the empty string selects everything.
    pub fn parse(input: &str) -> Result<Self, SelectorError> {
        let mut p = Parser {
            toks: lex(input),
            pos: 0,
        };
        let mut requirements = Vec::new();
        if p.peek().is_none() {
            return Ok(Self::default());
        }
        loop {
            let r = p.requirement().map_err(|e| {
                SelectorError(format!("unable to parse requirement in {input:?}: {}", e.0))
            })?;
            requirements.push(r);
            match p.next() {
                None => break,
                Some(Token::Comma) => {
                    if p.peek().is_none() {
                        return err(format!(
                            "unable to parse requirement in {input:?}: found end of string, \
                             expected: identifier after ','"
                        ));
                    }
                }
                Some(t) => {
                    return err(format!(
                        "unable to parse requirement in {input:?}: found '{t}', expected: ','"
                    ))
                }
            }
        }
        requirements.sort();
        Ok(Self { requirements })
    }

    /// True when the selector has no requirements.
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// Whether `get(key)` label values satisfy every requirement.
    pub fn matches<'a>(&self, get: impl Fn(&str) -> Option<&'a str>) -> bool {
        self.requirements.iter().all(|r| {
            let v = get(&r.key);
            let has = |x: &str| r.values.iter().any(|w| w == x);
            match r.op {
                Operator::Equals | Operator::In => v.is_some_and(has),
                Operator::NotEquals | Operator::NotIn => !v.is_some_and(has),
                Operator::Exists => v.is_some(),
                Operator::DoesNotExist => v.is_none(),
                Operator::GreaterThan | Operator::LessThan => {
                    let (Some(v), Some(w)) = (
                        v.and_then(|v| v.parse::<i64>().ok()),
                        r.values.first().and_then(|w| w.parse::<i64>().ok()),
                    ) else {
                        return false;
                    };
                    if r.op == Operator::GreaterThan {
                        v > w
                    } else {
                        v < w
                    }
                }
            }
        })
    }

    /// PromQL label matchers (`key="v"`, `key=~"a|b"`, …), one per requirement, with keys
    /// renamed by `label` (which may refuse a key). `>`/`<` are refused.
    pub fn to_promql_matchers(
        &self,
        label: impl Fn(&str) -> Result<String, SelectorError>,
    ) -> Result<Vec<String>, SelectorError> {
        let mut out = Vec::with_capacity(self.requirements.len());
        for r in &self.requirements {
            let name = label(&r.key)?;
            let mut m = name;
            match r.op {
                Operator::Equals | Operator::NotEquals => {
                    m.push_str(if r.op == Operator::Equals { "=" } else { "!=" });
                    go_quote_into(r.values.first().map_or("", String::as_str), &mut m);
                }
                Operator::In | Operator::NotIn => {
                    m.push_str(if r.op == Operator::In { "=~" } else { "!~" });
                    go_quote_into(&alternation(&r.values), &mut m);
                }
                Operator::Exists => m.push_str("!=\"\""),
                Operator::DoesNotExist => m.push_str("=\"\""),
                Operator::GreaterThan | Operator::LessThan => {
                    return err(format!(
                        "the '>' and '<' operators of {:?} cannot be translated into PromQL \
                         label matchers",
                        r.key
                    ));
                }
            }
            out.push(m);
        }
        Ok(out)
    }

    /// The `metav1.LabelSelector` JSON form (`metav1.ParseToLabelSelector`).
    pub fn to_json(&self) -> Option<LabelSelectorJson> {
        if self.is_empty() {
            return None;
        }
        let mut j = LabelSelectorJson::default();
        for r in &self.requirements {
            let (operator, values) = match r.op {
                Operator::Equals => {
                    let v = r.values.first().cloned().unwrap_or_default();
                    j.match_labels.insert(r.key.clone(), v);
                    continue;
                }
                Operator::In => ("In", r.values.clone()),
                Operator::NotIn | Operator::NotEquals => ("NotIn", r.values.clone()),
                Operator::Exists => ("Exists", Vec::new()),
                Operator::DoesNotExist => ("DoesNotExist", Vec::new()),
                // Not representable; Kubernetes refuses these here too.
                Operator::GreaterThan | Operator::LessThan => continue,
            };
            j.match_expressions.push(LabelSelectorRequirementJson {
                key: r.key.clone(),
                operator,
                values,
            });
        }
        Some(j)
    }
}

impl fmt::Display for LabelSelector {
    /// Kubernetes' canonical string form (`Selector.String()`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_char(',')?;
            }
            let first = r.values.first().map_or("", String::as_str);
            match r.op {
                Operator::Equals => write!(f, "{}={first}", r.key)?,
                Operator::NotEquals => write!(f, "{}!={first}", r.key)?,
                Operator::In => write!(f, "{} in ({})", r.key, r.values.join(","))?,
                Operator::NotIn => write!(f, "{} notin ({})", r.key, r.values.join(","))?,
                Operator::Exists => f.write_str(&r.key)?,
                Operator::DoesNotExist => write!(f, "!{}", r.key)?,
                Operator::GreaterThan => write!(f, "{}>{first}", r.key)?,
                Operator::LessThan => write!(f, "{}<{first}", r.key)?,
            }
        }
        Ok(())
    }
}

/// An anchored-by-PromQL alternation matching exactly the given values.
pub fn alternation(values: &[String]) -> String {
    let mut s = String::new();
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            s.push('|');
        }
        quote_meta_into(v, &mut s);
    }
    s
}

/// Escapes RE2 metacharacters like Go's `regexp.QuoteMeta`.
pub fn quote_meta_into(v: &str, out: &mut String) {
    for c in v.chars() {
        if "\\.+*?()|[]{}^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
}

/// True for a valid Prometheus label name.
pub fn is_prom_label_name(s: &str) -> bool {
    let mut b = s.bytes();
    b.next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == b'_')
        && b.all(|c| c.is_ascii_alphanumeric() || c == b'_')
}

/// A field selector over `metadata.name` / `metadata.namespace` (what metrics-server
/// supports): `field=value`, `field==value`, `field!=value`, comma separated.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldSelector {
    /// (field, equal?, value).
    pub terms: Vec<(String, bool, String)>,
}

impl FieldSelector {
    /// Parses a field selector, refusing fields other than `supported`.
    pub fn parse(input: &str, supported: &[&str]) -> Result<Self, SelectorError> {
        let mut terms = Vec::new();
        for part in input.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (field, eq, value) = if let Some((f, v)) = part.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = part.split_once("==") {
                (f, true, v)
            } else if let Some((f, v)) = part.split_once('=') {
                (f, true, v)
            } else {
                return err(format!(
                    "invalid field selector {input:?}: {part:?} is not field=value or field!=value"
                ));
            };
            let field = field.trim();
            if !supported.contains(&field) {
                return err(format!(
                    "field label not supported: {field} (supported: {})",
                    supported.join(", ")
                ));
            }
            terms.push((field.to_owned(), eq, value.trim().to_owned()));
        }
        Ok(Self { terms })
    }

    /// Whether an object whose fields are given by `get` matches.
    pub fn matches<'a>(&self, get: impl Fn(&str) -> &'a str) -> bool {
        self.terms
            .iter()
            .all(|(f, eq, v)| (get(f) == v.as_str()) == *eq)
    }

    /// The value required by an `=` term on `field`, if any.
    pub fn equal_value(&self, field: &str) -> Option<&str> {
        self.terms
            .iter()
            .find(|(f, eq, _)| *eq && f == field)
            .map(|(_, _, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests;
