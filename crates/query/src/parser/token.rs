//! Lexical items of PromQL and how they are described in error messages.
//!
//! The descriptions follow Prometheus' `Item.desc()` so parse errors read the same:
//! operators as `<op:+>`, keywords as `<by>`, aggregators as `<aggr:sum>`, identifiers as
//! `identifier "foo"`, and the end of the query as `end of input`.

/// What kind of item a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// End of input.
    Eof,
    /// A lexer error; the token's text is the message.
    Error,
    /// A plain identifier (`foo`, `rate`).
    Identifier,
    /// An identifier containing a colon (`job:rate5m`).
    MetricIdentifier,
    /// A quoted string (text includes the quotes).
    String,
    /// A number literal.
    Number,
    /// A duration literal (`5m`).
    Duration,
    /// `,`
    Comma,
    /// `(`
    LeftParen,
    /// `)`
    RightParen,
    /// `{`
    LeftBrace,
    /// `}`
    RightBrace,
    /// `[`
    LeftBracket,
    /// `]`
    RightBracket,
    /// `:`
    Colon,
    /// `=` (label matcher)
    Eql,
    /// `=~`
    EqlRegex,
    /// `!~`
    NeqRegex,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
    /// `^`
    Pow,
    /// `==`
    EqlC,
    /// `!=`
    Neq,
    /// `<=`
    Lte,
    /// `<`
    Lss,
    /// `>=`
    Gte,
    /// `>`
    Gtr,
    /// `@`
    At,
    /// `and`
    Land,
    /// `or`
    Lor,
    /// `unless`
    Lunless,
    /// `atan2`
    Atan2,
    /// An aggregation operator keyword (`sum`, `topk`, ...).
    Aggregator,
    /// `offset`
    Offset,
    /// `by`
    By,
    /// `without`
    Without,
    /// `on`
    On,
    /// `ignoring`
    Ignoring,
    /// `group_left`
    GroupLeft,
    /// `group_right`
    GroupRight,
    /// `bool`
    Bool,
    /// `start` (of `@ start()`)
    Start,
    /// `end` (of `@ end()`)
    End,
    /// `step` (duration expressions)
    Step,
    /// `range` (duration expressions)
    Range,
    /// `smoothed`
    Smoothed,
    /// `anchored`
    Anchored,
    /// `fill`
    Fill,
    /// `fill_left`
    FillLeft,
    /// `fill_right`
    FillRight,
}

impl TokenKind {
    /// Binary operators and set operators.
    pub fn is_operator(self) -> bool {
        matches!(
            self,
            TokenKind::Add
                | TokenKind::Sub
                | TokenKind::Mul
                | TokenKind::Div
                | TokenKind::Mod
                | TokenKind::Pow
                | TokenKind::EqlC
                | TokenKind::Neq
                | TokenKind::Lte
                | TokenKind::Lss
                | TokenKind::Gte
                | TokenKind::Gtr
                | TokenKind::Land
                | TokenKind::Lor
                | TokenKind::Lunless
                | TokenKind::Atan2
                | TokenKind::EqlRegex
                | TokenKind::NeqRegex
                | TokenKind::At
        )
    }

    /// Keywords (printed as `<kw>` in errors).
    pub fn is_keyword(self) -> bool {
        matches!(
            self,
            TokenKind::Offset
                | TokenKind::By
                | TokenKind::Without
                | TokenKind::On
                | TokenKind::Ignoring
                | TokenKind::GroupLeft
                | TokenKind::GroupRight
                | TokenKind::Bool
                | TokenKind::Start
                | TokenKind::End
                | TokenKind::Step
                | TokenKind::Range
                | TokenKind::Smoothed
                | TokenKind::Anchored
                | TokenKind::Fill
                | TokenKind::FillLeft
                | TokenKind::FillRight
        )
    }

    /// The fixed spelling of punctuation, if the kind has one.
    fn fixed_text(self) -> Option<&'static str> {
        Some(match self {
            TokenKind::Comma => ",",
            TokenKind::LeftParen => "(",
            TokenKind::RightParen => ")",
            TokenKind::LeftBrace => "{",
            TokenKind::RightBrace => "}",
            TokenKind::LeftBracket => "[",
            TokenKind::RightBracket => "]",
            TokenKind::Colon => ":",
            TokenKind::Eql => "=",
            _ => return None,
        })
    }
}

/// A token: kind, byte position and text (a slice of the input, or an error message).
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    /// Kind.
    pub kind: TokenKind,
    /// Byte offset of the token's start.
    pub pos: usize,
    /// The token text (for `Error`, the message).
    pub text: String,
}

impl Token {
    /// Byte offset just past the token.
    pub fn end(&self) -> usize {
        match self.kind {
            TokenKind::Eof | TokenKind::Error => self.pos,
            _ => self.pos + self.text.len(),
        }
    }

    /// Prometheus' `Item.desc()`: how the token is named in "unexpected ..." messages.
    pub fn desc(&self) -> String {
        if let Some(t) = self.kind.fixed_text() {
            return go_quote(t);
        }
        match self.kind {
            TokenKind::Eof => "end of input".to_owned(),
            TokenKind::Error => self.text.clone(),
            TokenKind::Identifier => format!("identifier {}", go_quote(&self.text)),
            TokenKind::MetricIdentifier => format!("metric identifier {}", go_quote(&self.text)),
            TokenKind::String => format!("string {}", short_quote(&self.text)),
            TokenKind::Number => format!("number {}", short_quote(&self.text)),
            TokenKind::Duration => format!("duration {}", short_quote(&self.text)),
            TokenKind::Aggregator => format!("<aggr:{}>", self.text.to_lowercase()),
            k if k.is_keyword() => format!("<{}>", self.text.to_lowercase()),
            k if k.is_operator() => format!("<op:{}>", self.text.to_lowercase()),
            _ => go_quote(&self.text),
        }
    }
}

/// Go's `%q` of a string.
pub fn go_quote(s: &str) -> String {
    let mut out = String::new();
    argus_model::labels::go_quote_into(s, &mut out);
    out
}

/// Go's `%.10q...` used for long item values, else `%q`.
fn short_quote(s: &str) -> String {
    if s.chars().count() > 10 {
        let head: String = s.chars().take(10).collect();
        format!("{}...", go_quote(&head))
    } else {
        go_quote(s)
    }
}

/// Keyword lookup (case-insensitive), as Prometheus' `key` map.
pub fn keyword(word: &str) -> Option<TokenKind> {
    let lower = word.to_ascii_lowercase();
    Some(match lower.as_str() {
        "and" => TokenKind::Land,
        "or" => TokenKind::Lor,
        "unless" => TokenKind::Lunless,
        "atan2" => TokenKind::Atan2,
        "sum" | "avg" | "count" | "min" | "max" | "group" | "stddev" | "stdvar" | "topk"
        | "bottomk" | "count_values" | "quantile" | "limitk" | "limit_ratio" => {
            TokenKind::Aggregator
        }
        "offset" => TokenKind::Offset,
        "smoothed" => TokenKind::Smoothed,
        "anchored" => TokenKind::Anchored,
        "by" => TokenKind::By,
        "without" => TokenKind::Without,
        "on" => TokenKind::On,
        "ignoring" => TokenKind::Ignoring,
        "group_left" => TokenKind::GroupLeft,
        "group_right" => TokenKind::GroupRight,
        "fill" => TokenKind::Fill,
        "fill_left" => TokenKind::FillLeft,
        "fill_right" => TokenKind::FillRight,
        "bool" => TokenKind::Bool,
        "start" => TokenKind::Start,
        "end" => TokenKind::End,
        "step" => TokenKind::Step,
        "range" => TokenKind::Range,
        "inf" | "nan" => TokenKind::Number,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions() {
        let t = |kind, text: &str| Token {
            kind,
            pos: 0,
            text: text.to_owned(),
        };
        assert_eq!(t(TokenKind::Mul, "*").desc(), "<op:*>");
        assert_eq!(t(TokenKind::By, "BY").desc(), "<by>");
        assert_eq!(t(TokenKind::Aggregator, "sum").desc(), "<aggr:sum>");
        assert_eq!(t(TokenKind::Identifier, "foo").desc(), "identifier \"foo\"");
        assert_eq!(t(TokenKind::RightBrace, "}").desc(), "\"}\"");
        assert_eq!(t(TokenKind::Eof, "").desc(), "end of input");
        assert_eq!(
            t(TokenKind::String, "\"abcdefghijkl\"").desc(),
            "string \"\\\"abcdefghi\"..."
        );
    }
}
