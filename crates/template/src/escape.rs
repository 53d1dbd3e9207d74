//! Escaping functions: the `html`, `js` and `urlquery` builtins of `text/template`, and
//! the escapers html mode applies by context (see [`crate::html_context`]).

use crate::gofmt::sprint;
use crate::value::Value;

/// `html` builtin / Go's `template.HTMLEscapeString`.
pub fn html_escape_string(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => o.push_str("&#34;"),
            '\'' => o.push_str("&#39;"),
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '\0' => o.push('\u{fffd}'),
            c => o.push(c),
        }
    }
    o
}

/// html/template's `htmlEscaper` (adds `+`).
pub(crate) fn html_escaper(s: &str, nospace: bool) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => o.push_str("&#34;"),
            '\'' => o.push_str("&#39;"),
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '+' => o.push_str("&#43;"),
            '\0' if nospace => o.push_str("&#xfffd;"),
            '\0' => o.push('\u{fffd}'),
            '\t' if nospace => o.push_str("&#9;"),
            '\n' if nospace => o.push_str("&#10;"),
            '\u{b}' if nospace => o.push_str("&#11;"),
            '\u{c}' if nospace => o.push_str("&#12;"),
            '\r' if nospace => o.push_str("&#13;"),
            ' ' if nospace => o.push_str("&#32;"),
            '=' if nospace => o.push_str("&#61;"),
            '`' if nospace => o.push_str("&#96;"),
            c => o.push(c),
        }
    }
    o
}

/// `js` builtin / Go's `template.JSEscapeString`.
pub fn js_escape_string(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => o.push_str("\\\\"),
            '\'' => o.push_str("\\'"),
            '"' => o.push_str("\\\""),
            '<' => o.push_str("\\u003C"),
            '>' => o.push_str("\\u003E"),
            '&' => o.push_str("\\u0026"),
            '=' => o.push_str("\\u003D"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u00{:02X}", c as u32)),
            c if !c.is_ascii() && (c.is_control() || c == '\u{2028}' || c == '\u{2029}') => {
                o.push_str(&format!("\\u{:04X}", c as u32))
            }
            c => o.push(c),
        }
    }
    o
}

/// `urlquery` builtin / Go's `url.QueryEscape`.
pub fn url_query_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                o.push(b as char)
            }
            b' ' => o.push('+'),
            b => o.push_str(&format!("%{b:02X}")),
        }
    }
    o
}

/// Go's `evalArgs` for the escaping builtins: one string argument as is, else `Sprint`.
pub(crate) fn args_string(args: &[Value]) -> String {
    match args {
        [v] => v.as_str().map_or_else(|| sprint(args), str::to_string),
        _ => sprint(args),
    }
}

/// html/template's `urlNormalizer`: percent-encodes bytes not valid in a URL.
pub(crate) fn url_normalize(s: &str, escape_all: bool) -> String {
    let mut o = String::with_capacity(s.len());
    for b in s.bytes() {
        let keep = match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => true,
            b'!' | b'#' | b'$' | b'&' | b'*' | b'+' | b',' | b'/' | b':' | b';' | b'=' | b'?'
            | b'@' | b'[' | b']' => !escape_all,
            b'%' => !escape_all,
            _ => false,
        };
        if keep {
            o.push(b as char);
        } else {
            o.push_str(&format!("%{b:02x}"));
        }
    }
    o
}

pub(crate) fn url_filter(s: &str) -> bool {
    match s.split_once(':') {
        Some((scheme, _)) if !scheme.contains('/') => {
            let l = scheme.to_ascii_lowercase();
            l == "http" || l == "https" || l == "mailto"
        }
        _ => true,
    }
}

pub(crate) fn strip_tags(s: &str) -> String {
    let mut o = String::new();
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => o.push(c),
            _ => {}
        }
    }
    o
}

/// JSON-encodes a value the way html/template's `jsValEscaper` does.
pub(crate) fn js_val(v: &Value) -> String {
    fn enc(v: &Value, o: &mut String) {
        match v.base() {
            Value::Nil => o.push_str("null"),
            Value::Bool(b) => o.push_str(if *b { "true" } else { "false" }),
            Value::Int(i) => o.push_str(&i.to_string()),
            Value::Float(f) if f.is_finite() => o.push_str(&sprint(&[Value::Float(*f)])),
            Value::Float(_) => o.push_str("null"),
            Value::List(l) => {
                o.push('[');
                for (i, x) in l.iter().enumerate() {
                    if i > 0 {
                        o.push(',');
                    }
                    enc(x, o);
                }
                o.push(']');
            }
            Value::Map(m) | Value::Struct(m) => {
                o.push('{');
                for (i, (k, x)) in m.iter().enumerate() {
                    if i > 0 {
                        o.push(',');
                    }
                    enc(&Value::String(k.clone()), o);
                    o.push(':');
                    enc(x, o);
                }
                o.push('}');
            }
            other => {
                let s = match other {
                    Value::String(s) | Value::Html(s) => s.clone(),
                    x => sprint(std::slice::from_ref(x)),
                };
                o.push('"');
                for c in s.chars() {
                    match c {
                        '"' => o.push_str("\\\""),
                        '\\' => o.push_str("\\\\"),
                        '\n' => o.push_str("\\n"),
                        '\r' => o.push_str("\\r"),
                        '\t' => o.push_str("\\t"),
                        '<' => o.push_str("\\u003c"),
                        '>' => o.push_str("\\u003e"),
                        '&' => o.push_str("\\u0026"),
                        '\'' => o.push_str("\\u0027"),
                        '\u{2028}' => o.push_str("\\u2028"),
                        '\u{2029}' => o.push_str("\\u2029"),
                        c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
                        c => o.push(c),
                    }
                }
                o.push('"');
            }
        }
    }
    let mut s = String::new();
    enc(v, &mut s);
    let ident = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$');
    if ident(s.chars().next()) || ident(s.chars().last()) {
        format!(" {s} ")
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_escapers() {
        assert_eq!(
            html_escape_string("<a href=\"x\">'&'</a>\0"),
            "&lt;a href=&#34;x&#34;&gt;&#39;&amp;&#39;&lt;/a&gt;\u{fffd}"
        );
        assert_eq!(
            js_escape_string("a'b\"c<d>&=\\\n"),
            "a\\'b\\\"c\\u003Cd\\u003E\\u0026\\u003D\\\\\\u000A"
        );
        assert_eq!(url_query_escape("a b&c=d/é"), "a+b%26c%3Dd%2F%C3%A9");
    }
}
