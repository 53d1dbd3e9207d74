//! Contextual auto-escaping of html mode (a subset of Go's `html/template`).
//!
//! Html mode tracks where in the HTML document each action's output lands, by scanning the
//! template's literal text as it is written:
//!
//! | context | escaping of action output |
//! |---|---|
//! | text between tags | `&`, `<`, `>`, `"`, `'`, `+`, NUL escaped (`&lt;` `&#34;` `&#43;`) |
//! | `<title>`, `<textarea>` content | same as text |
//! | quoted attribute value | same as text |
//! | unquoted attribute value | also whitespace, `=` and `` ` `` (`&#32;`) |
//! | URL attribute (`href`, `src`, `action`, names containing `src`/`uri`/`url`, ...) | value start: scheme must be http, https or mailto (else `#ZgotmplZ`), then URL-normalized; after `?`/`#`: query-escaped |
//! | `on*` attributes and `<script>` | JSON-like JS values (`"a\u003cb"`, ` 5 `); inside a JS string literal: JS string escaping |
//! | `style` attributes and `<style>` | only `[A-Za-z0-9 #%.,_-]` passes, else `ZgotmplZ` |
//! | attribute-name position inside a tag | lowercase alnum only, else `ZgotmplZ` |
//! | HTML comments | comments are removed from the output; actions inside produce nothing |
//!
//! Values of type [`Value::Html`](crate::Value::Html) (from `safeHtml`) are written unescaped in text context.
//! Not implemented from Go: errors for ambiguous contexts (branches ending in different
//! contexts), `srcset`, JS regexp and template-literal contexts, CSS strings/URLs.

use crate::escape::{html_escaper, js_val, strip_tags, url_filter, url_normalize};
use crate::gofmt::sprint;
use crate::value::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AttrKind {
    Normal,
    Url,
    Js,
    Css,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum State {
    Text,
    /// Inside a tag, between attributes; the tag name decides the element content kind.
    Tag,
    AttrName,
    AfterName,
    BeforeValue,
    /// Attribute value: quote (0 = unquoted), kind, whether any URL byte was seen, past `?`/`#`.
    Value {
        quote: u8,
        kind: AttrKind,
        started: bool,
        query: bool,
        js_quote: u8,
    },
    /// Raw element content (`script`, `style`, `title`, `textarea`) until its end tag.
    Raw {
        tag: &'static str,
        js_quote: u8,
    },
    Comment,
}

/// Tracks the HTML context of the output written so far (html mode).
#[derive(Debug, Clone)]
pub(crate) struct HtmlContext {
    state: State,
    tag: String,
    attr: String,
    closing: bool,
    pending: String,
}

impl HtmlContext {
    pub fn new() -> Self {
        HtmlContext {
            state: State::Text,
            tag: String::new(),
            attr: String::new(),
            closing: false,
            pending: String::new(),
        }
    }

    fn attr_kind(&self) -> AttrKind {
        let n = self.attr.to_ascii_lowercase();
        let n = n.strip_prefix("data-").unwrap_or(&n);
        if n.starts_with("on") {
            AttrKind::Js
        } else if n == "style" {
            AttrKind::Css
        } else if matches!(
            n,
            "href"
                | "src"
                | "action"
                | "cite"
                | "data"
                | "formaction"
                | "poster"
                | "background"
                | "longdesc"
                | "icon"
                | "manifest"
                | "codebase"
                | "profile"
                | "usemap"
                | "classid"
                | "archive"
        ) || n.contains("src")
            || n.contains("uri")
            || n.contains("url")
        {
            AttrKind::Url
        } else {
            AttrKind::Normal
        }
    }

    fn end_tag(&mut self) {
        let t = self.tag.to_ascii_lowercase();
        self.state = match (self.closing, t.as_str()) {
            (false, "script") => State::Raw {
                tag: "script",
                js_quote: 0,
            },
            (false, "style") => State::Raw {
                tag: "style",
                js_quote: 0,
            },
            (false, "title") => State::Raw {
                tag: "title",
                js_quote: 0,
            },
            (false, "textarea") => State::Raw {
                tag: "textarea",
                js_quote: 0,
            },
            _ => State::Text,
        };
    }

    /// Feeds literal template text; returns the text to output (comments removed).
    pub fn feed(&mut self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let full = std::mem::take(&mut self.pending) + text;
        let chars: Vec<char> = full.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars.get(i).copied().unwrap_or(' ');
            let rest: String = chars.iter().skip(i).take(12).collect();
            match &mut self.state {
                State::Text => {
                    if rest.starts_with("<!--") {
                        self.state = State::Comment;
                        i += 4;
                        continue;
                    }
                    if c == '<' {
                        let next = chars.get(i + 1).copied();
                        let (closing, start) = if next == Some('/') {
                            (true, i + 2)
                        } else {
                            (false, i + 1)
                        };
                        if chars.get(start).is_some_and(|c| c.is_ascii_alphabetic()) {
                            let name: String = chars
                                .iter()
                                .skip(start)
                                .take_while(|c| c.is_ascii_alphanumeric() || **c == '-')
                                .collect();
                            for ch in chars.iter().take(start + name.len()).skip(i) {
                                out.push(*ch);
                            }
                            i = start + name.len();
                            self.tag = name;
                            self.closing = closing;
                            self.state = State::Tag;
                            continue;
                        }
                    }
                    out.push(c);
                }
                State::Comment => {
                    if rest.starts_with("-->") {
                        self.state = State::Text;
                        i += 3;
                        continue;
                    }
                }
                State::Tag | State::AfterName => {
                    let after_name = self.state == State::AfterName;
                    out.push(c);
                    if c == '>' {
                        self.end_tag();
                    } else if c == '=' && after_name {
                        self.state = State::BeforeValue;
                    } else if !c.is_whitespace() && c != '/' {
                        self.attr = c.to_string();
                        self.state = State::AttrName;
                    }
                }
                State::AttrName => {
                    out.push(c);
                    if c == '=' {
                        self.state = State::BeforeValue;
                    } else if c == '>' {
                        self.end_tag();
                    } else if c.is_whitespace() {
                        self.state = State::AfterName;
                    } else {
                        self.attr.push(c);
                    }
                }
                State::BeforeValue => {
                    if c.is_whitespace() {
                        out.push(c);
                    } else if c == '>' {
                        out.push(c);
                        self.end_tag();
                    } else {
                        let kind = self.attr_kind();
                        let quote = if c == '"' || c == '\'' { c as u8 } else { 0 };
                        self.state = State::Value {
                            quote,
                            kind,
                            started: false,
                            query: false,
                            js_quote: 0,
                        };
                        if quote != 0 {
                            out.push(c);
                        } else {
                            continue; // reprocess as value content
                        }
                    }
                }
                State::Value {
                    quote,
                    kind,
                    started,
                    query,
                    js_quote,
                } => {
                    let ends = if *quote == 0 {
                        c.is_whitespace() || c == '>'
                    } else {
                        c as u32 == u32::from(*quote)
                    };
                    out.push(c);
                    if ends {
                        if c == '>' {
                            self.end_tag();
                        } else {
                            self.state = State::Tag;
                        }
                    } else {
                        *started = true;
                        if *kind == AttrKind::Url && (c == '?' || c == '#') {
                            *query = true;
                        }
                        if *kind == AttrKind::Js {
                            track_js_quote(js_quote, &chars, i);
                        }
                    }
                }
                State::Raw { tag, js_quote } => {
                    let end = format!("</{tag}");
                    if rest.to_ascii_lowercase().starts_with(&end) {
                        self.state = State::Text;
                        continue;
                    }
                    if *tag == "script" {
                        track_js_quote(js_quote, &chars, i);
                    }
                    out.push(c);
                }
            }
            i += 1;
        }
        out
    }

    /// Escapes an action's value for the current context.
    /// `pre_escaped` names the escaping builtin (`html`, `urlquery`) the pipeline already ended
    /// with: as in Go, the equivalent context escaper is not applied twice.
    pub fn escape(&mut self, v: &Value, pre_escaped: Option<&str>) -> String {
        let text = || match v.base() {
            Value::Nil => String::new(),
            Value::String(s) | Value::Html(s) => s.clone(),
            _ => sprint(std::slice::from_ref(v)),
        };
        let is_html = matches!(v.base(), Value::Html(_)) || pre_escaped == Some("html");
        let pre_url = pre_escaped == Some("urlquery");
        match &mut self.state {
            State::Text => {
                if is_html {
                    text()
                } else {
                    html_escaper(&text(), false)
                }
            }
            State::Comment => String::new(),
            State::Raw {
                tag: "script",
                js_quote,
            } => {
                if *js_quote != 0 {
                    js_str_escaper(&text())
                } else {
                    js_val(v)
                }
            }
            State::Raw { tag: "style", .. } => css_filter(&text()),
            State::Raw { .. } => html_escaper(&text(), false),
            State::Tag | State::AfterName | State::AttrName => {
                let s = text().to_ascii_lowercase();
                let saved = std::mem::replace(&mut self.attr, s.clone());
                let plain = self.attr_kind() == AttrKind::Normal;
                self.attr = saved;
                if plain && !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric()) {
                    s
                } else {
                    "ZgotmplZ".into()
                }
            }
            State::BeforeValue => {
                // `<a href={{.}}>`: an unquoted value starts with the action.
                let kind = self.attr_kind();
                self.state = State::Value {
                    quote: 0,
                    kind,
                    started: false,
                    query: false,
                    js_quote: 0,
                };
                self.escape(v, pre_escaped)
            }
            State::Value {
                quote,
                kind,
                started,
                query,
                js_quote,
            } => {
                let nospace = *quote == 0;
                let raw = text();
                let s = match kind {
                    AttrKind::Normal => {
                        if is_html {
                            strip_tags(&raw)
                        } else {
                            raw
                        }
                    }
                    AttrKind::Url => {
                        let s = if pre_url {
                            raw
                        } else if *query {
                            url_normalize(&raw, true)
                        } else if !*started && !url_filter(&raw) {
                            "#ZgotmplZ".to_string()
                        } else {
                            url_normalize(&raw, false)
                        };
                        *started = true;
                        s
                    }
                    AttrKind::Js => {
                        if *js_quote != 0 {
                            js_str_escaper(&raw)
                        } else {
                            js_val(v)
                        }
                    }
                    AttrKind::Css => css_filter(&raw),
                };
                if pre_escaped == Some("html") {
                    s
                } else {
                    html_escaper(&s, nospace)
                }
            }
        }
    }
}

/// html/template's `jsStrEscaper`, for values inside JS string literals.
fn js_str_escaper(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\t' => o.push_str("\\t"),
            '\n' => o.push_str("\\n"),
            '\u{c}' => o.push_str("\\f"),
            '\r' => o.push_str("\\r"),
            '\\' => o.push_str("\\\\"),
            '/' => o.push_str("\\/"),
            '"' | '&' | '\'' | '+' | '<' | '>' | '`' | '\u{2028}' | '\u{2029}' => {
                o.push_str(&format!("\\u{:04x}", c as u32))
            }
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o
}

fn track_js_quote(js_quote: &mut u8, chars: &[char], i: usize) {
    let c = chars.get(i).copied().unwrap_or(' ');
    let escaped = i > 0 && chars.get(i - 1) == Some(&'\\');
    if *js_quote == 0 {
        if matches!(c, '"' | '\'' | '`') {
            *js_quote = c as u8;
        }
    } else if c as u32 == u32::from(*js_quote) && !escaped {
        *js_quote = 0;
    }
}

fn css_filter(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || " #%.,_-".contains(c))
    {
        s.to_string()
    } else {
        "ZgotmplZ".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(parts: &[(&str, Option<Value>)]) -> String {
        let mut c = HtmlContext::new();
        let mut o = String::new();
        for (t, v) in parts {
            o.push_str(&c.feed(t));
            if let Some(v) = v {
                o.push_str(&c.escape(v, None));
            }
        }
        o
    }

    #[test]
    fn contexts() {
        let v = |s: &str| Some(Value::from(s));
        assert_eq!(
            render(&[("<b>", v("<i>+")), ("</b>", None)]),
            "<b>&lt;i&gt;&#43;</b>"
        );
        assert_eq!(
            render(&[("<a title=\"", v("a\"b")), ("\">", None)]),
            "<a title=\"a&#34;b\">"
        );
        assert_eq!(
            render(&[("<a title=", v("a b")), (">", None)]),
            "<a title=a&#32;b>"
        );
        assert_eq!(
            render(&[("<a href=\"", v("javascript:alert(1)")), ("\">", None)]),
            "<a href=\"#ZgotmplZ\">"
        );
        assert_eq!(
            render(&[("<a href=\"", v("http://x/a b")), ("\">", None)]),
            "<a href=\"http://x/a%20b\">"
        );
        assert_eq!(
            render(&[("<a href=\"/q?x=", v("a&b c")), ("\">", None)]),
            "<a href=\"/q?x=a%26b%20c\">"
        );
        assert_eq!(
            render(&[("<script>var x = ", v("</script>")), (";</script>", None)]),
            "<script>var x = \"\\u003c/script\\u003e\";</script>"
        );
        assert_eq!(
            render(&[
                ("<script>var x = ", Some(Value::Int(5))),
                (";</script>", None)
            ]),
            "<script>var x =  5 ;</script>"
        );
        assert_eq!(
            render(&[("<script>var x = 'a", v("'")), ("';</script>", None)]),
            "<script>var x = 'a\\u0027';</script>"
        );
        assert_eq!(render(&[("a<!-- ", v("x")), (" -->b", None)]), "ab");
        assert_eq!(
            render(&[("<p ", v("onclick")), (">", None)]),
            "<p ZgotmplZ>"
        );
        assert_eq!(
            render(&[("<b>", Some(Value::Html("<i>".into()))), ("</b>", None)]),
            "<b><i></b>"
        );
        assert_eq!(
            render(&[("<b>", Some(Value::Nil)), ("</b>", None)]),
            "<b></b>"
        );
    }
}
