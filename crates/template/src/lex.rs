//! Lexer for Go template text: text, `{{ }}` actions with `{{-`/`-}}` trim markers, and
//! `{{/* comments */}}`, producing tokens with byte positions (as Go's `text/template/parse`).

/// Keywords of the action language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kw {
    Block,
    Break,
    Continue,
    Define,
    Else,
    End,
    If,
    Range,
    Template,
    With,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Text(String),
    Left,
    Right,
    Comment,
    Space,
    Ident(String),
    /// `.Name` (stored without the dot).
    Field(String),
    /// `$name` or `$` (stored with the `$`).
    Var(String),
    Dot,
    /// A quoted or raw string: (source text, decoded value).
    Str(String, String),
    /// A character constant: (source text, code point).
    Char(String, i64),
    Number(String),
    Bool(bool),
    Nil,
    Pipe,
    LParen,
    RParen,
    Assign,
    Declare,
    /// Any other printable ASCII character (`,` is the only one the parser accepts).
    Punct(char),
    Kw(Kw),
    Eof,
}

#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub tok: Tok,
    pub pos: usize,
    pub line: usize,
}

/// A lexing error: message and the line it occurred on.
#[derive(Debug)]
pub(crate) struct LexError {
    pub line: usize,
    pub msg: String,
}

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_alnum(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

struct Lexer<'a> {
    src: &'a str,
    /// (position, line) of the last line computation: positions only grow, so counting
    /// newlines from there keeps lexing linear.
    line_cache: std::cell::Cell<(usize, usize)>,
    pos: usize,
    toks: Vec<Token>,
    paren: i32,
}

impl<'a> Lexer<'a> {
    fn line_at(&self, pos: usize) -> usize {
        let (mut from, mut line) = self.line_cache.get();
        if pos < from {
            (from, line) = (0, 1);
        }
        let b = self.src.as_bytes();
        line += b
            .get(from..pos)
            .unwrap_or_default()
            .iter()
            .filter(|&&c| c == b'\n')
            .count();
        self.line_cache.set((pos, line));
        line
    }

    fn emit(&mut self, tok: Tok, pos: usize) {
        let line = self.line_at(pos);
        self.toks.push(Token { tok, pos, line });
    }

    fn err(&self, pos: usize, msg: impl Into<String>) -> LexError {
        LexError {
            line: self.line_at(pos),
            msg: msg.into(),
        }
    }

    fn rest(&self) -> &'a str {
        self.src.get(self.pos..).unwrap_or("")
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    /// Is the input at a right delimiter? Returns (yes, trim marker).
    fn at_right_delim(&self) -> (bool, bool) {
        let r = self.rest().as_bytes();
        if let [s, b'-', b'}', b'}', ..] = r {
            if is_space(*s) {
                return (true, true);
            }
        }
        if false {
            return (true, true);
        }
        (r.starts_with(b"}}"), false)
    }

    fn run(mut self) -> Result<Vec<Token>, LexError> {
        let mut trim_next = false;
        loop {
            let rest = self.rest();
            let Some(idx) = rest.find("{{") else {
                let mut text = rest;
                if trim_next {
                    text = text.trim_start_matches(|c: char| c.is_ascii() && is_space(c as u8));
                }
                if !text.is_empty() {
                    let start = self.src.len() - text.len();
                    self.emit(Tok::Text(text.to_string()), start);
                }
                self.emit(Tok::Eof, self.src.len());
                return Ok(self.toks);
            };
            let start = self.pos;
            let after = &rest[idx + 2..];
            let ab = after.as_bytes();
            let trim_left = matches!(ab, [b'-', c, ..] if is_space(*c));
            let mut text = &rest[..idx];
            let mut text_start = start;
            if trim_next {
                let t = text.trim_start_matches(|c: char| c.is_ascii() && is_space(c as u8));
                text_start += text.len() - t.len();
                text = t;
            }
            if trim_left {
                text = text.trim_end_matches(|c: char| c.is_ascii() && is_space(c as u8));
            }
            if !text.is_empty() {
                self.emit(Tok::Text(text.to_string()), text_start);
            }
            let delim_pos = start + idx;
            self.pos = delim_pos + 2 + if trim_left { 2 } else { 0 };
            trim_next = if self.rest().starts_with("/*") {
                self.comment(delim_pos)?
            } else {
                self.emit(Tok::Left, delim_pos);
                self.action()?
            };
        }
    }

    fn comment(&mut self, delim_pos: usize) -> Result<bool, LexError> {
        let Some(end) = self.rest().find("*/") else {
            return Err(self.err(delim_pos, "unclosed comment"));
        };
        self.pos += end + 2;
        let (at, trim) = self.at_right_delim();
        if !at {
            return Err(self.err(delim_pos, "comment ends before closing delimiter"));
        }
        self.pos += if trim { 4 } else { 2 };
        self.emit(Tok::Comment, delim_pos);
        Ok(trim)
    }

    /// Lexes inside an action up to and including the right delimiter; returns whether it
    /// carried a trim marker.
    fn action(&mut self) -> Result<bool, LexError> {
        loop {
            let (at, trim) = self.at_right_delim();
            if at {
                if self.paren != 0 {
                    return Err(self.err(self.pos, "unclosed left paren"));
                }
                let p = self.pos;
                if trim {
                    self.pos += 1; // the space belongs to the delimiter
                }
                self.emit(Tok::Right, p);
                self.pos += if trim { 3 } else { 2 };
                return Ok(trim);
            }
            let p = self.pos;
            let Some(c) = self.peek() else {
                return Err(self.err(p, "unclosed action"));
            };
            match c {
                ' ' | '\t' | '\r' | '\n' => {
                    let n = self.rest().bytes().take_while(|&b| is_space(b)).count();
                    // A space directly before `-}}` is part of the delimiter.
                    let end = p + n;
                    let tail = self.src.get(end - 1..).unwrap_or("");
                    if tail.as_bytes().get(1..4) == Some(b"-}}".as_slice()) {
                        self.pos = end - 1;
                        if n > 1 {
                            self.emit(Tok::Space, p);
                        }
                    } else {
                        self.pos = end;
                        self.emit(Tok::Space, p);
                    }
                }
                '=' => {
                    self.pos += 1;
                    self.emit(Tok::Assign, p);
                }
                ':' => {
                    if !self.rest().starts_with(":=") {
                        return Err(self.err(p, "expected :="));
                    }
                    self.pos += 2;
                    self.emit(Tok::Declare, p);
                }
                '|' => {
                    self.pos += 1;
                    self.emit(Tok::Pipe, p);
                }
                '"' => self.quote(p)?,
                '`' => {
                    let Some(end) = self.rest().get(1..).and_then(|r| r.find('`')) else {
                        return Err(self.err(p, "unterminated raw quoted string"));
                    };
                    let text = &self.src[p..p + end + 2];
                    self.pos = p + end + 2;
                    self.emit(
                        Tok::Str(text.to_string(), text[1..text.len() - 1].to_string()),
                        p,
                    );
                }
                '\'' => self.char_const(p)?,
                '$' => {
                    self.pos += 1;
                    let name = self.alnum_run();
                    self.check_terminator()?;
                    self.emit(Tok::Var(format!("${name}")), p);
                }
                '.' => {
                    let next = self.rest().chars().nth(1);
                    if next.is_some_and(|c| c.is_ascii_digit()) {
                        self.number(p)?;
                    } else {
                        self.pos += 1;
                        let name = self.alnum_run();
                        self.check_terminator()?;
                        if name.is_empty() {
                            self.emit(Tok::Dot, p);
                        } else {
                            self.emit(Tok::Field(name), p);
                        }
                    }
                }
                '+' | '-' | '0'..='9' => self.number(p)?,
                '(' => {
                    self.paren += 1;
                    self.pos += 1;
                    self.emit(Tok::LParen, p);
                }
                ')' => {
                    self.paren -= 1;
                    if self.paren < 0 {
                        return Err(self.err(p, "unexpected right paren"));
                    }
                    self.pos += 1;
                    self.emit(Tok::RParen, p);
                }
                c if is_alnum(c) => {
                    let word = self.alnum_run();
                    self.check_terminator()?;
                    let tok = match word.as_str() {
                        "block" => Tok::Kw(Kw::Block),
                        "break" => Tok::Kw(Kw::Break),
                        "continue" => Tok::Kw(Kw::Continue),
                        "define" => Tok::Kw(Kw::Define),
                        "else" => Tok::Kw(Kw::Else),
                        "end" => Tok::Kw(Kw::End),
                        "if" => Tok::Kw(Kw::If),
                        "range" => Tok::Kw(Kw::Range),
                        "template" => Tok::Kw(Kw::Template),
                        "with" => Tok::Kw(Kw::With),
                        "true" => Tok::Bool(true),
                        "false" => Tok::Bool(false),
                        "nil" => Tok::Nil,
                        _ => Tok::Ident(word),
                    };
                    self.emit(tok, p);
                }
                c if c.is_ascii() && !c.is_ascii_control() => {
                    self.pos += 1;
                    self.emit(Tok::Punct(c), p);
                }
                c => {
                    return Err(self.err(
                        p,
                        format!("unrecognized character in action: U+{:04X}", c as u32),
                    ))
                }
            }
        }
    }

    fn alnum_run(&mut self) -> String {
        let n: usize = self
            .rest()
            .chars()
            .take_while(|&c| is_alnum(c))
            .map(char::len_utf8)
            .sum();
        let s = self.rest()[..n].to_string();
        self.pos += n;
        s
    }

    fn check_terminator(&self) -> Result<(), LexError> {
        let Some(c) = self.peek() else { return Ok(()) };
        if matches!(
            c,
            ' ' | '\t' | '\r' | '\n' | '.' | ',' | '|' | ':' | ')' | '('
        ) || self.rest().starts_with("}}")
        {
            return Ok(());
        }
        Err(self.err(self.pos, format!("bad character U+{:04X} '{c}'", c as u32)))
    }

    fn quote(&mut self, p: usize) -> Result<(), LexError> {
        let b = self.src.as_bytes();
        let mut i = p + 1;
        loop {
            match b.get(i) {
                None | Some(b'\n') => return Err(self.err(p, "unterminated quoted string")),
                Some(b'\\') => i += 2,
                Some(b'"') => break,
                Some(_) => i += 1,
            }
        }
        let text = self.src.get(p..=i).unwrap_or("");
        let val = unquote(text).map_err(|e| self.err(p, e))?;
        self.pos = i + 1;
        self.emit(Tok::Str(text.to_string(), val), p);
        Ok(())
    }

    fn char_const(&mut self, p: usize) -> Result<(), LexError> {
        let b = self.src.as_bytes();
        let mut i = p + 1;
        loop {
            match b.get(i) {
                None | Some(b'\n') => return Err(self.err(p, "unterminated character constant")),
                Some(b'\\') => i += 2,
                Some(b'\'') => break,
                Some(_) => i += 1,
            }
        }
        let text = self.src.get(p..=i).unwrap_or("");
        let inner = text.get(1..text.len() - 1).unwrap_or("");
        let decoded =
            unquote(&format!("\"{}\"", inner.replace("\\'", "'"))).map_err(|e| self.err(p, e))?;
        let mut chars = decoded.chars();
        let (Some(c), None) = (chars.next(), chars.next()) else {
            return Err(self.err(p, format!("malformed character constant: {text}")));
        };
        self.pos = i + 1;
        self.emit(Tok::Char(text.to_string(), c as i64), p);
        Ok(())
    }

    fn number(&mut self, p: usize) -> Result<(), LexError> {
        let b = self.rest().as_bytes();
        let mut n = usize::from(matches!(b.first(), Some(b'+' | b'-')));
        while let Some(&c) = b.get(n) {
            let exp_sign = (c == b'+' || c == b'-')
                && n > 0
                && matches!(b.get(n - 1), Some(b'e' | b'E' | b'p' | b'P'));
            if c.is_ascii_alphanumeric() || c == b'.' || c == b'_' || exp_sign {
                n += 1;
            } else {
                break;
            }
        }
        let text = self.rest()[..n].to_string();
        self.pos += n;
        self.emit(Tok::Number(text), p);
        Ok(())
    }
}

/// Go's `strconv.Unquote` for a double-quoted string.
pub(crate) fn unquote(s: &str) -> Result<String, String> {
    let inner = s
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .ok_or_else(|| format!("invalid syntax: {s}"))?;
    let mut out = String::with_capacity(inner.len());
    let mut it = inner.chars().peekable();
    let bad = || format!("invalid syntax: {s}");
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let e = it.next().ok_or_else(bad)?;
        match e {
            'a' => out.push('\u{7}'),
            'b' => out.push('\u{8}'),
            'f' => out.push('\u{c}'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\u{b}'),
            '\\' => out.push('\\'),
            '"' => out.push('"'),
            'x' | 'u' | 'U' => {
                let n = match e {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let hex: String = (0..n).filter_map(|_| it.next()).collect();
                let v = u32::from_str_radix(&hex, 16).map_err(|_| bad())?;
                if hex.len() != n {
                    return Err(bad());
                }
                if e == 'x' {
                    // \x is a byte; only ASCII bytes make valid UTF-8 on their own.
                    out.push(char::from_u32(v).filter(|_| v < 0x80).unwrap_or('\u{fffd}'));
                } else {
                    out.push(char::from_u32(v).ok_or_else(bad)?);
                }
            }
            '0'..='7' => {
                let mut v = e.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    let d = it.next().and_then(|c| c.to_digit(8)).ok_or_else(bad)?;
                    v = v * 8 + d;
                }
                out.push(char::from_u32(v).filter(|_| v < 0x80).unwrap_or('\u{fffd}'));
            }
            _ => return Err(bad()),
        }
    }
    Ok(out)
}

/// Tokenizes a whole template text.
pub(crate) fn lex(src: &str) -> Result<Vec<Token>, LexError> {
    Lexer {
        src,
        line_cache: std::cell::Cell::new((0, 1)),
        pos: 0,
        toks: Vec::new(),
        paren: 0,
    }
    .run()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        lex(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn trim_markers() {
        assert_eq!(
            toks("a  {{- .x -}}  b"),
            vec![
                Tok::Text("a".into()),
                Tok::Left,
                Tok::Field("x".into()),
                Tok::Right,
                Tok::Text("b".into()),
                Tok::Eof
            ]
        );
        // `{{-3}}` is the number -3, not a trim marker.
        assert_eq!(toks("{{-3}}")[1], Tok::Number("-3".into()));
    }

    #[test]
    fn comments_and_strings() {
        assert_eq!(toks("x{{/* c */}}y").len(), 4);
        assert!(lex("{{/* c */ }}").is_err());
        let t = toks(r#"{{"a\tb" `r\n` 'x'}}"#);
        assert_eq!(t[1], Tok::Str("\"a\\tb\"".into(), "a\tb".into()));
        assert_eq!(t[3], Tok::Str("`r\\n`".into(), "r\\n".into()));
        assert_eq!(t[5], Tok::Char("'x'".into(), 120));
    }

    #[test]
    fn errors() {
        assert_eq!(lex("{{").unwrap_err().msg, "unclosed action");
        assert_eq!(
            lex("{{ \u{a0} }}").unwrap_err().msg,
            "unrecognized character in action: U+00A0"
        );
        assert_eq!(
            lex("{{\"abc}}").unwrap_err().msg,
            "unterminated quoted string"
        );
        assert!(lex("{{ (1 }}").is_err());
    }
}
