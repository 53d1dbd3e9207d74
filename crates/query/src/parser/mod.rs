//! The PromQL parser: lexer, grammar, type checker and printer.
//!
//! [`parse`] turns a query into a type-checked [`Expr`] or a [`ParseError`] worded and
//! positioned like Prometheus' (`1:5: parse error: unexpected <op:*>`). `Display` on an
//! [`Expr`] prints the canonical single-line form and [`Expr::pretty`] the multi-line form of
//! `/api/v1/format_query`. Everything experimental in Prometheus (duration expressions,
//! `limitk`, `info`, `anchored`/`smoothed`, `fill` modifiers, ...) is always enabled.

mod ast;
mod check;
mod expr;
pub mod function_table;
mod lexer;
mod literals;
mod printer;
mod token;

pub use ast::*;
pub use function_table::Function;
pub use literals::go_quote_bytes;
pub use printer::{is_legacy_label_name, is_legacy_metric_name, matcher_string};

/// Go's `strconv.Quote` of a string (as Prometheus prints values in messages).
pub fn go_quote_str(s: &str) -> String {
    token::go_quote(s)
}

/// Go's `strconv.ParseFloat(s, 64)` (accepts `+Inf`, `NaN`, hex floats, `_` separators);
/// None when `s` is not a valid float.
pub fn parse_go_float(s: &str) -> Option<f64> {
    literals::parse_go_float(s)
}

use argus_model::Matcher;

/// A parse or type-check error, formatted like Prometheus (`1:5: parse error: ...`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    /// Byte offset into the input where the error was found.
    pub pos: usize,
    /// Full message, Prometheus style.
    pub message: String,
}

impl ParseError {
    /// An error at byte `pos` of `input`; the message gets the `line:col: parse error: `
    /// prefix.
    pub fn new(input: &str, pos: usize, detail: String) -> Self {
        ParseError {
            pos,
            message: format!("{}: parse error: {detail}", line_col(input, pos)),
        }
    }

    /// The message without the position prefix.
    pub fn detail(&self) -> &str {
        self.message
            .split_once(": parse error: ")
            .map_or(self.message.as_str(), |(_, d)| d)
    }
}

/// Parses and type-checks a PromQL expression.
pub fn parse(input: &str) -> Result<Expr, ParseError> {
    let mut e = expr::Parser::new(input).parse_query()?;
    check::check(&mut e, input)?;
    Ok(e)
}

/// Parses a series selector as used in `match[]` (`up`, `{job="x"}`, `up{a=~"b"}`). Like
/// Prometheus' `ParseMetricSelector`, it does not reject selectors that match everything;
/// callers check that.
pub fn parse_metric_selector(input: &str) -> Result<Vec<Matcher>, ParseError> {
    let vs = expr::Parser::new(input).parse_selector_only()?;
    Ok(vs.matchers)
}

#[cfg(test)]
mod tests;
