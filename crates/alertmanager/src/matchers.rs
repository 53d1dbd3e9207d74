//! Alertmanager label matchers (`pkg/labels`): `name="v"`, `!=`, `=~`, `!~`, with regexes
//! anchored as `^(?:re)$` (unlike Prometheus 3, `.` does not match a newline), the
//! classic tolerant parser used by `matchers:` in the config, by `amtool` arguments and by
//! the API `filter` parameter, and the exact string forms Alertmanager prints (they become
//! part of route keys and therefore of group keys).

use std::fmt;

use argus_model::Labels;
use regex::Regex;

/// The comparison of a matcher. The order is Alertmanager's (`MatchEqual` = 0 ...), which
/// matters because matchers are sorted by (name, value, type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MatchType {
    /// `=`
    Equal,
    /// `!=`
    NotEqual,
    /// `=~`
    Regexp,
    /// `!~`
    NotRegexp,
}

impl MatchType {
    /// The operator text.
    pub fn as_str(self) -> &'static str {
        match self {
            MatchType::Equal => "=",
            MatchType::NotEqual => "!=",
            MatchType::Regexp => "=~",
            MatchType::NotRegexp => "!~",
        }
    }

    /// From the API's `isEqual`/`isRegex` flags.
    pub fn from_flags(is_equal: bool, is_regex: bool) -> Self {
        match (is_equal, is_regex) {
            (true, false) => MatchType::Equal,
            (false, false) => MatchType::NotEqual,
            (true, true) => MatchType::Regexp,
            (false, true) => MatchType::NotRegexp,
        }
    }

    /// True for `=~` and `!~`.
    pub fn is_regex(self) -> bool {
        matches!(self, MatchType::Regexp | MatchType::NotRegexp)
    }

    /// True for `=` and `=~`.
    pub fn is_equal(self) -> bool {
        matches!(self, MatchType::Equal | MatchType::Regexp)
    }
}

/// A matcher that could not be built or parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MatcherError {
    /// The regex does not compile.
    #[error("invalid regular expression {pattern:?}: {reason}")]
    BadRegex {
        /// The pattern.
        pattern: String,
        /// The compiler's message.
        reason: String,
    },
    /// Text that is not a matcher.
    #[error("bad matcher format: {0}")]
    BadFormat(String),
    /// An unescaped `"` inside the value.
    #[error("matcher value contains unescaped double quote: {0}")]
    UnescapedQuote(String),
    /// An invalid label name.
    #[error("invalid label name {0:?}")]
    BadName(String),
}

/// One compiled matcher.
#[derive(Debug, Clone)]
pub struct Matcher {
    /// Label name.
    pub name: String,
    /// Value or regex source.
    pub value: String,
    /// Operator.
    pub ty: MatchType,
    re: Option<Regex>,
}

impl PartialEq for Matcher {
    fn eq(&self, o: &Self) -> bool {
        self.name == o.name && self.value == o.value && self.ty == o.ty
    }
}

impl Eq for Matcher {}

impl Matcher {
    /// Builds a matcher, compiling `^(?:value)$` for the regex types.
    pub fn new(
        ty: MatchType,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<Self, MatcherError> {
        let name = name.into();
        let value = value.into();
        let re = if ty.is_regex() {
            Some(
                regex::RegexBuilder::new(&format!("^(?:{value})$"))
                    .size_limit(1 << 22)
                    .build()
                    .map_err(|e| MatcherError::BadRegex {
                        pattern: value.clone(),
                        reason: e.to_string(),
                    })?,
            )
        } else {
            None
        };
        Ok(Matcher {
            name,
            value,
            ty,
            re,
        })
    }

    /// `name="value"`.
    pub fn equal(name: impl Into<String>, value: impl Into<String>) -> Self {
        Matcher {
            name: name.into(),
            value: value.into(),
            ty: MatchType::Equal,
            re: None,
        }
    }

    /// Whether `v` satisfies the matcher (`""` stands for an absent label).
    pub fn matches(&self, v: &str) -> bool {
        match self.ty {
            MatchType::Equal => v == self.value,
            MatchType::NotEqual => v != self.value,
            MatchType::Regexp => self.re.as_ref().is_some_and(|r| r.is_match(v)),
            MatchType::NotRegexp => !self.re.as_ref().is_some_and(|r| r.is_match(v)),
        }
    }

    /// Whether the label set satisfies the matcher.
    pub fn matches_labels(&self, l: &Labels) -> bool {
        self.matches(l.get_or_empty(&self.name))
    }
}

fn is_reserved(c: char) -> bool {
    c.is_whitespace() || "{}!=~,\\\"'`".contains(c)
}

impl fmt::Display for Matcher {
    /// Alertmanager's `Matcher.String()`: `name="value"` with OpenMetrics escaping of the
    /// value; a name that needs quoting is printed Go-quoted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.name.chars().any(is_reserved) {
            let mut n = String::new();
            argus_model::labels::go_quote_into(&self.name, &mut n);
            let mut v = String::new();
            argus_model::labels::go_quote_into(&self.value, &mut v);
            return write!(f, "{n}{}{v}", self.ty.as_str());
        }
        let mut v = String::with_capacity(self.value.len() + 2);
        for c in self.value.chars() {
            match c {
                '\\' => v.push_str("\\\\"),
                '\n' => v.push_str("\\n"),
                '"' => v.push_str("\\\""),
                c => v.push(c),
            }
        }
        write!(f, "{}{}\"{v}\"", self.name, self.ty.as_str())
    }
}

/// A list of matchers; all must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Matchers(pub Vec<Matcher>);

impl Matchers {
    /// Sorts by (name, value, type) as Alertmanager's `sort.Sort(matchers)`.
    pub fn sort(&mut self) {
        self.0.sort_by(|a, b| {
            a.name
                .cmp(&b.name)
                .then_with(|| a.value.cmp(&b.value))
                .then_with(|| a.ty.cmp(&b.ty))
        });
    }

    /// True when every matcher matches `l`.
    pub fn matches(&self, l: &Labels) -> bool {
        self.0.iter().all(|m| m.matches_labels(l))
    }

    /// True when there are no matchers.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Matchers {
    /// `{a="b",c=~"d"}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, m) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{m}")?;
        }
        f.write_str("}")
    }
}

/// A valid label name for matchers: `[a-zA-Z_:][a-zA-Z0-9_:]*` (the classic parser's).
fn take_name(s: &str) -> Option<(&str, &str)> {
    let mut end = 0;
    for (i, c) in s.char_indices() {
        let ok = c.is_ascii_alphabetic() || c == '_' || c == ':' || (i > 0 && c.is_ascii_digit());
        if !ok {
            break;
        }
        end = i + c.len_utf8();
    }
    if end == 0 {
        return None;
    }
    Some((s.get(..end)?, s.get(end..)?))
}

/// Parses one matcher (`ParseMatcher`): name, operator, then a value that may be quoted,
/// with `\"`, `\n` and `\\` escapes; a stray backslash is kept literally.
pub fn parse_matcher(s: &str) -> Result<Matcher, MatcherError> {
    let bad = || MatcherError::BadFormat(s.to_owned());
    let t = s.trim_start();
    // A quoted name is the newer UTF-8 syntax; accept it for convenience.
    let (name, rest): (String, &str) = if let Some(q) = t.strip_prefix('"') {
        let end = q.find('"').ok_or_else(bad)?;
        (
            q.get(..end).ok_or_else(bad)?.to_owned(),
            q.get(end + 1..).ok_or_else(bad)?,
        )
    } else {
        let (n, r) = take_name(t).ok_or_else(bad)?;
        (n.to_owned(), r)
    };
    let rest = rest.trim_start();
    let (ty, rest) = if let Some(r) = rest.strip_prefix("=~") {
        (MatchType::Regexp, r)
    } else if let Some(r) = rest.strip_prefix("!=") {
        (MatchType::NotEqual, r)
    } else if let Some(r) = rest.strip_prefix("!~") {
        (MatchType::NotRegexp, r)
    } else if let Some(r) = rest.strip_prefix('=') {
        (MatchType::Equal, r)
    } else {
        return Err(bad());
    };
    let raw = rest.trim();
    let (raw, mut expect_quote) = match raw.strip_prefix('"') {
        Some(r) => (r, true),
        None => (raw, false),
    };
    let mut value = String::with_capacity(raw.len());
    let mut escaped = false;
    let n = raw.len();
    for (i, c) in raw.char_indices() {
        if escaped {
            escaped = false;
            match c {
                'n' => value.push('\n'),
                '"' | '\\' => value.push(c),
                c => {
                    value.push('\\');
                    value.push(c);
                }
            }
            continue;
        }
        match c {
            '\\' => {
                if i + 1 < n {
                    escaped = true;
                } else {
                    value.push('\\');
                }
            }
            '"' => {
                if !expect_quote || i + 1 < n {
                    return Err(MatcherError::UnescapedQuote(rest.trim().to_owned()));
                }
                expect_quote = false;
            }
            c => value.push(c),
        }
    }
    if expect_quote {
        return Err(MatcherError::UnescapedQuote(rest.trim().to_owned()));
    }
    Matcher::new(ty, name, value)
}

/// Parses a comma-separated list (`ParseMatchers`): optional surrounding braces, commas
/// inside quotes don't separate, a trailing comma is allowed.
pub fn parse_matchers(s: &str) -> Result<Vec<Matcher>, MatcherError> {
    let s = s.trim();
    let s = s.strip_prefix('{').unwrap_or(s);
    let s = s.strip_suffix('}').unwrap_or(s);
    let mut tokens = Vec::new();
    let mut token = String::new();
    let (mut in_quotes, mut escaped) = (false, false);
    for c in s.chars() {
        match c {
            ',' if !in_quotes => {
                tokens.push(std::mem::take(&mut token));
                continue;
            }
            '"' => {
                if !escaped {
                    in_quotes = !in_quotes;
                } else {
                    escaped = false;
                }
            }
            '\\' => escaped = !escaped,
            _ => escaped = false,
        }
        token.push(c);
    }
    if !token.trim().is_empty() {
        tokens.push(token);
    }
    tokens.iter().map(|t| parse_matcher(t)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_forms() {
        let ms = parse_matchers(r#"{foo = "bar", dings != "bums", }"#).unwrap();
        assert_eq!(ms.len(), 2);
        assert_eq!(ms[0].to_string(), r#"foo="bar""#);
        assert_eq!(ms[1].to_string(), r#"dings!="bums""#);
        let ms = parse_matchers("foo=bar,dings!~bu.*").unwrap();
        assert_eq!(ms[1].ty, MatchType::NotRegexp);
        assert!(!ms[1].matches("bums"));
        let ms = parse_matchers(r#"{quote="She said: \"Hi, ladies!\""}"#).unwrap();
        assert_eq!(ms[0].value, r#"She said: "Hi, ladies!""#);
        let ms = parse_matchers(r#"statuscode=~"5..""#).unwrap();
        assert!(ms[0].matches("500") && !ms[0].matches("5000"));
        assert!(parse_matchers("foo").is_err());
        assert!(parse_matchers(r#"foo="bar"baz""#).is_err());
        assert!(parse_matchers("foo=~(").is_err());
        let ms = parse_matchers("foo=").unwrap();
        assert_eq!(ms[0].value, "");
    }

    #[test]
    fn regex_is_anchored_without_dotall() {
        let m = Matcher::new(MatchType::Regexp, "a", "b.*").unwrap();
        assert!(m.matches("bcd"));
        assert!(!m.matches("abc"));
        assert!(!m.matches("b\nc"));
    }

    #[test]
    fn display_escapes() {
        let m = Matcher::new(MatchType::Equal, "a", "x\"y\\z\n").unwrap();
        assert_eq!(m.to_string(), r#"a="x\"y\\z\n""#);
        let mut ms = Matchers(vec![
            Matcher::equal("b", "1"),
            Matcher::new(MatchType::Regexp, "a", "2").unwrap(),
            Matcher::equal("a", "2"),
        ]);
        ms.sort();
        assert_eq!(ms.to_string(), r#"{a="2",a=~"2",b="1"}"#);
    }
}
