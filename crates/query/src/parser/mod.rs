//! PromQL parser. INTERFACE STUB: the engine helper replaces the internals; the public
//! signatures below are the contract the HTTP API, rules and adapter code against.

use std::fmt;

use argus_model::Matcher;

/// A parsed PromQL expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    text: String,
}

impl Expr {
    /// Pretty-printed form (what `/api/v1/format_query` returns).
    pub fn pretty(&self) -> String {
        self.text.clone()
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A parse or type-check error, formatted like Prometheus (`1:5: parse error: ...`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    /// Byte offset into the input where the error was found.
    pub pos: usize,
    /// Full message, Prometheus style.
    pub message: String,
}

/// Parses and type-checks a PromQL expression.
pub fn parse(input: &str) -> Result<Expr, ParseError> {
    Err(ParseError {
        pos: 0,
        message: format!("parser not implemented: {input}"),
    })
}

/// Parses a series selector as used in `match[]` (`up`, `{job="x"}`, `up{a=~"b"}`).
pub fn parse_metric_selector(input: &str) -> Result<Vec<Matcher>, ParseError> {
    Err(ParseError {
        pos: 0,
        message: format!("parser not implemented: {input}"),
    })
}
