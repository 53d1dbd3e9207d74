//! Printing expressions back to PromQL.
//!
//! `Display` produces Prometheus' canonical single-line form (`Expr.String()` in
//! `promql/parser/printer.go`), which re-parses to the same tree. [`Expr::pretty`] is the
//! multi-line form of `/api/v1/format_query` (`prettier.go`): any node whose one-line form is
//! longer than 100 characters is split, with two spaces of indent per level.

use std::fmt::{self, Write as _};

use argus_model::api::format_value;
use argus_model::duration::format_duration_ms;
use argus_model::{MatchOp, Matcher, METRIC_NAME};

use super::ast::*;
use super::literals::go_quote_bytes;
use super::token::go_quote;

const MAX_LINE: usize = 100;

/// `[a-zA-Z_][a-zA-Z0-9_]*`
pub fn is_legacy_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`
pub fn is_legacy_metric_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c == '_' || c == ':' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c == ':' || c.is_ascii_alphanumeric())
}

fn write_labels(out: &mut String, labels: &[String]) {
    for (i, l) in labels.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        if is_legacy_label_name(l) {
            out.push_str(l);
        } else {
            out.push_str(&go_quote(l));
        }
    }
}

/// A matcher as Prometheus prints it (name quoted when not a legacy label name).
pub fn matcher_string(m: &Matcher) -> String {
    let mut s = String::new();
    if is_legacy_label_name(&m.name) {
        s.push_str(&m.name);
    } else {
        s.push_str(&go_quote(&m.name));
    }
    s.push_str(m.op.as_str());
    s.push_str(&go_quote(&m.value));
    s
}

/// Go's `strconv.FormatFloat(v, 'f', -1, 64)`.
fn fmt_float(v: f64) -> String {
    format_value(v)
}

/// Prometheus' `model.Duration` string of a (possibly negative) number of ms.
fn fmt_duration(ms: i64) -> String {
    if ms < 0 {
        format!("-{}", format_duration_ms(-ms))
    } else {
        format_duration_ms(ms)
    }
}

impl fmt::Display for DurationExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DurationExpr::Literal { secs, duration } => {
                if *duration {
                    f.write_str(&fmt_duration(secs_to_ms(*secs)))
                } else {
                    f.write_str(&fmt_float(*secs))
                }
            }
            DurationExpr::Neg(e) => write!(f, "-{e}"),
            DurationExpr::Binary(op, a, b) => write!(f, "{a} {} {b}", op.as_str()),
            DurationExpr::Paren(e) => write!(f, "({e})"),
            DurationExpr::Step => f.write_str("step()"),
            DurationExpr::Range => f.write_str("range()"),
            DurationExpr::MinOf(a, b) => write!(f, "min_of({a}, {b})"),
            DurationExpr::MaxOf(a, b) => write!(f, "max_of({a}, {b})"),
        }
    }
}

impl DurationParam {
    fn text(&self) -> String {
        match &self.expr {
            Some(e) => e.to_string(),
            None => fmt_duration(self.ms),
        }
    }

    fn offset_suffix(&self) -> String {
        match &self.expr {
            Some(e) => format!(" offset {e}"),
            None if self.ms > 0 => format!(" offset {}", fmt_duration(self.ms)),
            None if self.ms < 0 => format!(" offset -{}", fmt_duration(-self.ms)),
            None => String::new(),
        }
    }
}

fn at_suffix(at: &Option<AtModifier>) -> String {
    match at {
        Some(AtModifier::At(ms)) => format!(" @ {:.3}", *ms as f64 / 1000.0),
        Some(AtModifier::Start) => " @ start()".to_owned(),
        Some(AtModifier::End) => " @ end()".to_owned(),
        None => String::new(),
    }
}

impl VectorSelector {
    /// The selector without `@`, offset and range modifiers.
    fn selector_text(&self) -> String {
        let mut parts: Vec<String> = Vec::with_capacity(self.matchers.len());
        let mut out = String::new();
        let quoted_name = !self.name.is_empty() && !is_legacy_metric_name(&self.name);
        if !quoted_name {
            out.push_str(&self.name);
        }
        for m in &self.matchers {
            if m.name == METRIC_NAME
                && m.op == MatchOp::Equal
                && m.value == self.name
                && !m.value.is_empty()
            {
                continue;
            }
            parts.push(matcher_string(m));
        }
        parts.sort();
        if quoted_name {
            parts.insert(0, go_quote(&self.name));
        }
        if !parts.is_empty() {
            out.push('{');
            out.push_str(&parts.join(","));
            out.push('}');
        }
        out
    }
}

impl fmt::Display for VectorSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.selector_text())?;
        f.write_str(&at_suffix(&self.at))?;
        if self.anchored {
            f.write_str(" anchored")?;
        } else if self.smoothed {
            f.write_str(" smoothed")?;
        }
        f.write_str(&self.offset.offset_suffix())
    }
}

impl BinaryExpr {
    fn matching_text(&self) -> String {
        let mut s = String::new();
        let Some(vm) = &self.matching else {
            return s;
        };
        let grouped = matches!(vm.card, Card::ManyToOne | Card::OneToMany);
        if !vm.matching_labels.is_empty() || vm.on || grouped {
            s.push_str(if vm.on { " on (" } else { " ignoring (" });
            write_labels(&mut s, &vm.matching_labels);
            s.push(')');
        }
        if grouped {
            s.push_str(if vm.card == Card::ManyToOne {
                " group_left ("
            } else {
                " group_right ("
            });
            write_labels(&mut s, &vm.include);
            s.push(')');
        }
        match (vm.fill_lhs, vm.fill_rhs) {
            (Some(l), Some(r)) if l.to_bits() == r.to_bits() => {
                let _ = write!(s, " fill ({})", fmt_go_v(l));
            }
            (l, r) => {
                if let Some(l) = l {
                    let _ = write!(s, " fill_left ({})", fmt_go_v(l));
                }
                if let Some(r) = r {
                    let _ = write!(s, " fill_right ({})", fmt_go_v(r));
                }
            }
        }
        s
    }

    fn op_text(&self) -> String {
        format!(
            "{}{}{}",
            self.op.as_str(),
            if self.return_bool { " bool" } else { "" },
            self.matching_text()
        )
    }
}

/// Go's `%v` of a float64.
fn fmt_go_v(v: f64) -> String {
    fmt_float(v)
}

impl AggregateExpr {
    fn op_text(&self) -> String {
        let mut s = self.op.as_str().to_owned();
        if self.without {
            s.push_str(" without (");
            write_labels(&mut s, &self.grouping);
            s.push_str(") ");
        } else if !self.grouping.is_empty() {
            s.push_str(" by (");
            write_labels(&mut s, &self.grouping);
            s.push_str(") ");
        }
        s
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Aggregate(a) => {
                f.write_str(&a.op_text())?;
                f.write_str("(")?;
                if let Some(p) = &a.param {
                    write!(f, "{p}, ")?;
                }
                write!(f, "{})", a.expr)
            }
            Expr::Unary(u) => write!(f, "{}{}", if u.neg { "-" } else { "+" }, u.expr),
            Expr::Binary(b) => write!(f, "{} {} {}", b.lhs, b.op_text(), b.rhs),
            Expr::Paren(p) => write!(f, "({})", p.expr),
            Expr::Subquery(s) => write!(f, "{}{}", s.expr, subquery_suffix(s)),
            Expr::NumberLiteral(n) => {
                if n.duration {
                    f.write_str(&fmt_duration(secs_to_ms(n.val)))
                } else {
                    f.write_str(&fmt_float(n.val))
                }
            }
            Expr::StringLiteral(s) => match &s.raw {
                Some(raw) => f.write_str(&go_quote_bytes(raw)),
                None => f.write_str(&go_quote(&s.val)),
            },
            Expr::VectorSelector(vs) => write!(f, "{vs}"),
            Expr::MatrixSelector(m) => {
                f.write_str(&m.vs.selector_text())?;
                write!(f, "[{}]", m.range.text())?;
                if m.vs.anchored {
                    f.write_str(" anchored")?;
                } else if m.vs.smoothed {
                    f.write_str(" smoothed")?;
                }
                f.write_str(&at_suffix(&m.vs.at))?;
                f.write_str(&m.vs.offset.offset_suffix())
            }
            Expr::Call(c) => {
                write!(f, "{}(", c.func.name)?;
                for (i, a) in c.args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{a}")?;
                }
                f.write_str(")")
            }
        }
    }
}

fn subquery_suffix(s: &SubqueryExpr) -> String {
    let step = if s.step.is_zero() {
        String::new()
    } else {
        s.step.text()
    };
    format!(
        "[{}:{}]{}{}",
        s.range.text(),
        step,
        at_suffix(&s.at),
        s.offset.offset_suffix()
    )
}

fn indent(level: usize) -> String {
    "  ".repeat(level)
}

impl Expr {
    /// The multi-line form Prometheus' `/api/v1/format_query` returns.
    pub fn pretty(&self) -> String {
        self.pretty_at(0)
    }

    fn needs_split(&self) -> bool {
        self.to_string().len() > MAX_LINE
    }

    fn pretty_at(&self, level: usize) -> String {
        match self {
            Expr::Aggregate(a) => {
                if !self.needs_split() {
                    return format!("{}{self}", indent(level));
                }
                let mut s = format!("{}{}(\n", indent(level), a.op_text());
                if let Some(p) = &a.param {
                    let _ = writeln!(s, "{},", p.pretty_at(level + 1));
                }
                let _ = write!(s, "{}\n{})", a.expr.pretty_at(level + 1), indent(level));
                s
            }
            Expr::Binary(b) => {
                if !self.needs_split() {
                    return format!("{}{self}", indent(level));
                }
                format!(
                    "{}\n{}{}\n{}",
                    b.lhs.pretty_at(level + 1),
                    indent(level),
                    b.op_text(),
                    b.rhs.pretty_at(level + 1)
                )
            }
            Expr::Call(c) => {
                if !self.needs_split() {
                    return format!("{}{self}", indent(level));
                }
                let args: Vec<String> = c.args.iter().map(|a| a.pretty_at(level + 1)).collect();
                format!(
                    "{}{}(\n{}\n{})",
                    indent(level),
                    c.func.name,
                    args.join(",\n"),
                    indent(level)
                )
            }
            Expr::Paren(p) => {
                if !self.needs_split() {
                    return format!("{}{self}", indent(level));
                }
                format!(
                    "{}(\n{}\n{})",
                    indent(level),
                    p.expr.pretty_at(level + 1),
                    indent(level)
                )
            }
            Expr::Subquery(s) => {
                if !self.needs_split() {
                    return format!("{}{self}", indent(level));
                }
                format!("{}{}", s.expr.pretty_at(level), subquery_suffix(s))
            }
            Expr::Unary(u) => {
                let child = u.expr.pretty_at(level);
                format!(
                    "{}{}{}",
                    indent(level),
                    if u.neg { "-" } else { "+" },
                    child.trim()
                )
            }
            Expr::MatrixSelector(_)
            | Expr::VectorSelector(_)
            | Expr::NumberLiteral(_)
            | Expr::StringLiteral(_) => format!("{}{self}", indent(level)),
        }
    }
}
