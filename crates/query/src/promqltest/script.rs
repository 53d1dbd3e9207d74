//! Parsing of Prometheus' PromQL test scripts (`promql/promqltest/testdata/*.test`).
//!
//! The language (see the vendored `FORMAT.md`): `load <interval>` blocks of series with
//! value sequences (`0+10x10`, `_`, `stale`), `clear`, and `eval instant at <t> <query>` /
//! `eval range from <t> to <t> step <d> <query>` blocks with `expect ...` lines and the
//! expected series. Blocks end at a blank or comment line; a bare scalar result ends its
//! block too. Native-histogram items (`{{...}}`) are recognised but not decoded: series that
//! contain them are marked so the runner can skip what depends on them.

use argus_model::{parse_duration_ms, Labels, LabelsBuilder, MatchOp};

/// One value of a series sequence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SeqValue {
    /// `_`: no sample at this position.
    Omitted,
    /// A float (stale markers are the stale NaN).
    Float(f64),
    /// A native histogram item (not supported by Argus' storage).
    Histogram,
}

/// A series line: labels and its expanded values.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesLine {
    pub labels: Labels,
    pub values: Vec<SeqValue>,
}

impl SeriesLine {
    /// True when any item is a native histogram.
    pub fn has_histogram(&self) -> bool {
        self.values.contains(&SeqValue::Histogram)
    }
}

/// How an expected message is matched.
#[derive(Debug, Clone, PartialEq)]
pub enum MsgMatch {
    /// Anything.
    Any,
    /// Exact text.
    Exact(String),
    /// Regular expression (unanchored).
    Regex(String),
}

/// What an eval expects.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Expectations {
    /// `expect fail` (with the message rule).
    pub fail: Option<MsgMatch>,
    /// `expect warn` lines.
    pub warn: Vec<MsgMatch>,
    /// `expect no_warn`.
    pub no_warn: bool,
    /// `expect info` lines.
    pub info: Vec<MsgMatch>,
    /// `expect no_info`.
    pub no_info: bool,
    /// `expect ordered`.
    pub ordered: bool,
    /// `expect string "..."`.
    pub string: Option<String>,
    /// `expect range vector from t1 to t2 step s` (ms).
    pub range_vector: Option<(i64, i64, i64)>,
}

/// The query time(s).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum EvalTime {
    /// `instant at t`.
    Instant(i64),
    /// `range from start to end step step`.
    Range { start: i64, end: i64, step: i64 },
}

/// An `eval` command.
#[derive(Debug, Clone, PartialEq)]
pub struct Eval {
    /// 1-based line of the header.
    pub line: usize,
    pub time: EvalTime,
    pub query: String,
    pub expect: Expectations,
    /// Expected series.
    pub series: Vec<SeriesLine>,
    /// Expected scalar.
    pub scalar: Option<f64>,
}

/// A command of a script.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// `clear`.
    Clear,
    /// `load`/`load_with_nhcb`.
    Load {
        line: usize,
        interval_ms: i64,
        series: Vec<SeriesLine>,
        with_nhcb: bool,
        /// The block has per-sample start timestamps (`...@st` lines), which Argus'
        /// storage does not keep.
        start_timestamps: bool,
    },
    /// `eval ...`.
    Eval(Box<Eval>),
}

/// A script parse error: line and reason.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}: {msg}")]
pub struct ScriptError {
    pub line: usize,
    pub msg: String,
}

fn err(line: usize, msg: impl Into<String>) -> ScriptError {
    ScriptError {
        line,
        msg: msg.into(),
    }
}

fn duration(s: &str, line: usize) -> Result<i64, ScriptError> {
    parse_duration_ms(s).map_err(|e| err(line, e.to_string()))
}

/// Parses a float item (`5`, `-2.5`, `Inf`, `NaN`, `+0.2`). Hexadecimal is not accepted,
/// so that `0x59` reads as "0 repeated".
fn float(s: &str) -> Option<f64> {
    if s.contains(['x', 'X']) {
        return None;
    }
    crate::parser::parse_go_float(s)
}

/// Expands one item of a value sequence.
fn expand_item(item: &str, out: &mut Vec<SeqValue>, line: usize) -> Result<(), ScriptError> {
    if item == "_" {
        out.push(SeqValue::Omitted);
        return Ok(());
    }
    if item.eq_ignore_ascii_case("stale") {
        out.push(SeqValue::Float(argus_model::stale_nan()));
        return Ok(());
    }
    if item.starts_with("{{") {
        // A histogram, possibly `{{..}}xN` or `{{..}}+{{..}}xN`: one or more positions.
        let times = item
            .rsplit_once("}}x")
            .and_then(|(_, n)| n.parse::<usize>().ok())
            .map_or(1, |n| n + 1);
        out.extend(std::iter::repeat_n(SeqValue::Histogram, times));
        return Ok(());
    }
    if let Some(v) = float(item) {
        out.push(SeqValue::Float(v));
        return Ok(());
    }
    // `_xN`, `axN`, `a+bxN`, `a-bxN`.
    let (base, times) = item
        .rsplit_once('x')
        .and_then(|(b, n)| n.parse::<usize>().ok().map(|n| (b, n)))
        .ok_or_else(|| err(line, format!("bad value {item:?}")))?;
    if base == "_" {
        out.extend(std::iter::repeat_n(SeqValue::Omitted, times));
        return Ok(());
    }
    if let Some(v) = float(base) {
        out.extend(std::iter::repeat_n(SeqValue::Float(v), times + 1));
        return Ok(());
    }
    // Split `a+b` / `a-b` at a sign that is not part of an exponent or the leading sign.
    let bytes = base.as_bytes();
    let split = (1..bytes.len()).find(|&i| {
        matches!(bytes.get(i), Some(b'+' | b'-'))
            && !matches!(bytes.get(i - 1), Some(b'e' | b'E'))
            && float(base.get(..i).unwrap_or("")).is_some()
            && float(base.get(i + 1..).unwrap_or("")).is_some()
    });
    let i = split.ok_or_else(|| err(line, format!("bad value {item:?}")))?;
    let a = float(base.get(..i).unwrap_or("")).unwrap_or(f64::NAN);
    let mut b = float(base.get(i + 1..).unwrap_or("")).unwrap_or(f64::NAN);
    if bytes.get(i) == Some(&b'-') {
        b = -b;
    }
    let mut v = a;
    out.push(SeqValue::Float(v));
    for _ in 0..times {
        v += b;
        out.push(SeqValue::Float(v));
    }
    Ok(())
}

/// Splits `metric{labels} values...` into the series text and the values text.
fn split_series(s: &str) -> (&str, &str) {
    let mut in_braces = false;
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if let Some(q) = quote {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '"' | '\'' | '`' if in_braces => quote = Some(c),
            '{' => in_braces = true,
            '}' => return s.split_at(i + 1),
            c if c.is_whitespace() && !in_braces => return s.split_at(i),
            _ => {}
        }
    }
    (s, "")
}

/// Parses a series line (`metric{a="b"} 1 2 3`).
pub fn parse_series_line(s: &str, line: usize) -> Result<SeriesLine, ScriptError> {
    let (series, values) = split_series(s.trim());
    let series = series.trim();
    let matchers = crate::parser::parse_metric_selector(series)
        .map_err(|e| err(line, format!("bad series {series:?}: {e}")))?;
    let mut b = LabelsBuilder::new();
    for m in matchers {
        if m.op != MatchOp::Equal {
            return Err(err(
                line,
                format!("series {series:?} has a non-equality matcher"),
            ));
        }
        b.set(&m.name, &m.value);
    }
    let mut out = Vec::new();
    let mut rest = values.trim();
    while !rest.is_empty() {
        // Histogram items contain spaces: an item ends at whitespace outside `{{...}}`.
        let mut depth = 0i32;
        let mut item_end = rest.len();
        for (i, c) in rest.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                c if c.is_whitespace() && depth <= 0 => {
                    item_end = i;
                    break;
                }
                _ => {}
            }
        }
        let (item, tail) = rest.split_at(item_end.min(rest.len()));
        expand_item(item, &mut out, line)?;
        rest = tail.trim_start();
    }
    Ok(SeriesLine {
        labels: b.build(),
        values: out,
    })
}

fn msg_match(rest: &str) -> MsgMatch {
    let rest = rest.trim();
    if let Some(m) = rest.strip_prefix("msg:") {
        MsgMatch::Exact(m.trim().to_owned())
    } else if let Some(r) = rest.strip_prefix("regex:") {
        MsgMatch::Regex(r.trim().to_owned())
    } else {
        MsgMatch::Any
    }
}

fn unquote_expect_string(s: &str, line: usize) -> Result<String, ScriptError> {
    let s = s.trim();
    let q = s.chars().next();
    match q {
        Some('"') | Some('`') | Some('\'') => {
            // Reuse the PromQL string literal rules.
            match crate::parser::parse(s) {
                Ok(crate::parser::Expr::StringLiteral(l)) => Ok(l.val),
                _ => Err(err(line, format!("bad expected string {s}"))),
            }
        }
        _ => Err(err(line, format!("bad expected string {s}"))),
    }
}

fn parse_expect(e: &mut Expectations, rest: &str, line: usize) -> Result<(), ScriptError> {
    let rest = rest.trim();
    let (kind, tail) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    match kind {
        "fail" => e.fail = Some(msg_match(tail)),
        "warn" => e.warn.push(msg_match(tail)),
        "no_warn" => e.no_warn = true,
        "info" => e.info.push(msg_match(tail)),
        "no_info" => e.no_info = true,
        "ordered" => e.ordered = true,
        "string" => e.string = Some(unquote_expect_string(tail, line)?),
        "range" => {
            // `range vector from <t1> to <t2> step <s>`
            let w: Vec<&str> = tail.split_whitespace().collect();
            match w.as_slice() {
                ["vector", "from", a, "to", b, "step", s] => {
                    e.range_vector =
                        Some((duration(a, line)?, duration(b, line)?, duration(s, line)?));
                }
                _ => return Err(err(line, format!("bad expect range vector: {tail}"))),
            }
        }
        k => return Err(err(line, format!("unknown expectation {k:?}"))),
    }
    Ok(())
}

fn parse_eval_header(
    word: &str,
    rest: &str,
    line: usize,
) -> Result<(EvalTime, String, Expectations), ScriptError> {
    let mut expect = Expectations::default();
    match word {
        "eval" => {}
        "eval_fail" => expect.fail = Some(MsgMatch::Any),
        "eval_warn" => expect.warn.push(MsgMatch::Any),
        "eval_info" => expect.info.push(MsgMatch::Any),
        "eval_ordered" => expect.ordered = true,
        w => return Err(err(line, format!("unknown command {w:?}"))),
    }
    let mut it = rest.trim_start().splitn(2, char::is_whitespace);
    let mode = it.next().unwrap_or("");
    let rest = it.next().unwrap_or("").trim_start();
    let take = |s: &str| -> (String, String) {
        let mut p = s.trim_start().splitn(2, char::is_whitespace);
        (
            p.next().unwrap_or("").to_owned(),
            p.next().unwrap_or("").trim_start().to_owned(),
        )
    };
    match mode {
        "instant" => {
            let (at, rest) = take(rest);
            if at != "at" {
                return Err(err(line, "expected `at`"));
            }
            let (t, q) = take(&rest);
            Ok((EvalTime::Instant(duration(&t, line)?), q, expect))
        }
        "range" => {
            let (from, rest) = take(rest);
            let (start, rest) = take(&rest);
            let (to, rest) = take(&rest);
            let (end, rest) = take(&rest);
            let (step_kw, rest) = take(&rest);
            let (step, q) = take(&rest);
            if from != "from" || to != "to" || step_kw != "step" {
                return Err(err(line, "expected `from <t> to <t> step <d>`"));
            }
            Ok((
                EvalTime::Range {
                    start: duration(&start, line)?,
                    end: duration(&end, line)?,
                    step: duration(&step, line)?,
                },
                q,
                expect,
            ))
        }
        m => Err(err(line, format!("unknown eval mode {m:?}"))),
    }
}

/// Parses a whole script.
pub fn parse_script(text: &str) -> Result<Vec<Command>, ScriptError> {
    let lines: Vec<&str> = text.lines().collect();
    let mut cmds = Vec::new();
    let mut i = 0;
    let blank = |l: &str| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#')
    };
    while i < lines.len() {
        let raw = lines.get(i).copied().unwrap_or("");
        let lineno = i + 1;
        i += 1;
        if blank(raw) {
            continue;
        }
        let l = raw.trim();
        let (word, rest) = l.split_once(char::is_whitespace).unwrap_or((l, ""));
        if word == "clear" {
            cmds.push(Command::Clear);
        } else if word.starts_with("load") {
            let with_nhcb = word == "load_with_nhcb";
            let interval_ms = duration(rest.trim(), lineno)?;
            let mut series = Vec::new();
            let mut start_timestamps = false;
            while let Some(l) = lines.get(i).filter(|l| !blank(l)) {
                i += 1;
                let (name, values) = split_series(l.trim());
                if values.trim_start().starts_with("@st") || name.ends_with("@st") {
                    start_timestamps = true;
                    continue;
                }
                series.push(parse_series_line(l, i)?);
            }
            cmds.push(Command::Load {
                line: lineno,
                interval_ms,
                series,
                with_nhcb,
                start_timestamps,
            });
        } else if word.starts_with("eval") {
            let (time, query, mut expect) = parse_eval_header(word, rest, lineno)?;
            let mut series = Vec::new();
            let mut scalar = None;
            while let Some(l) = lines.get(i).filter(|l| !blank(l)) {
                i += 1;
                let t = l.trim();
                if let Some(rest) = t.strip_prefix("expect ") {
                    parse_expect(&mut expect, rest, i)?;
                    continue;
                }
                if let Some(m) = t.strip_prefix("expected_fail_message") {
                    expect.fail = Some(MsgMatch::Exact(m.trim().to_owned()));
                    break;
                }
                if let Some(r) = t.strip_prefix("expected_fail_regexp") {
                    expect.fail = Some(MsgMatch::Regex(r.trim().to_owned()));
                    break;
                }
                if let Some(v) = float(t) {
                    scalar = Some(v);
                    break;
                }
                series.push(parse_series_line(t, i)?);
            }
            cmds.push(Command::Eval(Box::new(Eval {
                line: lineno,
                time,
                query,
                expect,
                series,
                scalar,
            })));
        } else {
            return Err(err(lineno, format!("unknown command {word:?}")));
        }
    }
    Ok(cmds)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn floats(s: &str) -> Vec<f64> {
        parse_series_line(&format!("m {s}"), 1)
            .unwrap()
            .values
            .iter()
            .filter_map(|v| match v {
                SeqValue::Float(f) => Some(*f),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn value_sequences() {
        assert_eq!(floats("0+10x3"), vec![0.0, 10.0, 20.0, 30.0]);
        assert_eq!(floats("5-1x2"), vec![5.0, 4.0, 3.0]);
        assert_eq!(floats("2x2"), vec![2.0, 2.0, 2.0]);
        assert_eq!(floats("1e3 -2.5 .5 +0.2"), vec![1000.0, -2.5, 0.5, 0.2]);
        assert_eq!(floats("1e+1+1x1"), vec![10.0, 11.0]);
        let l = parse_series_line("m 1 _x2 _ stale {{count:1 sum:2}}x1 3", 1).unwrap();
        assert_eq!(l.values.len(), 8);
        assert!(l.has_histogram());
        assert!(matches!(l.values[4], SeqValue::Float(f) if argus_model::is_stale_nan(f)));
    }

    #[test]
    fn series_labels() {
        let l = parse_series_line("http_requests{job=\"api\", instance='0'} 1", 1).unwrap();
        assert_eq!(l.labels.get("job"), Some("api"));
        assert_eq!(l.labels.get("__name__"), Some("http_requests"));
        let l = parse_series_line("{} 1 2", 1).unwrap();
        assert!(l.labels.is_empty());
        let l = parse_series_line("{a=\"b c}\"} 1", 1).unwrap();
        assert_eq!(l.labels.get("a"), Some("b c}"));
    }

    #[test]
    fn script() {
        let s = "load 5m\n  m{a=\"1\"} 0+1x2\n\n# c\neval instant at 10m m\n  expect no_warn\n  m{a=\"1\"} 2\n\neval instant at 0 1+1\n  2\neval range from 0 to 10m step 5m m\n  expect fail msg: boom\n\nclear\n";
        let cmds = parse_script(s).unwrap();
        assert_eq!(cmds.len(), 5);
        let Command::Eval(e) = &cmds[1] else { panic!() };
        assert!(e.expect.no_warn);
        assert_eq!(e.series.len(), 1);
        let Command::Eval(e) = &cmds[2] else { panic!() };
        assert_eq!(e.scalar, Some(2.0));
        let Command::Eval(e) = &cmds[3] else { panic!() };
        assert_eq!(e.expect.fail, Some(MsgMatch::Exact("boom".into())));
    }
}
