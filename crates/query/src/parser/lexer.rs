//! The PromQL lexer.
//!
//! PromQL's lexing is context-sensitive: inside `{...}` keywords are plain identifiers, and
//! inside `[...]` only durations, numbers and duration-expression operators are allowed. The
//! lexer therefore tracks open braces, brackets and parentheses the way Prometheus'
//! `promql/parser/lex.go` does, so that its error messages and positions ("unclosed left
//! parenthesis", "unexpected character inside braces: '1'") match. Token recognizers
//! (identifiers, durations) are small nom parsers.
//!
//! The whole input is lexed up front into a token vector that ends with either `Eof` or a
//! single `Error` token; the parser reports a lexer error only when it reaches it, which
//! gives the same error precedence as Prometheus' pull-based lexer.

use nom::bytes::complete::take_while;
use nom::IResult;

use super::token::{keyword, Token, TokenKind};

/// Lexes `input` into tokens (comments dropped). The last token is `Eof` or `Error`.
pub fn lex(input: &str) -> Vec<Token> {
    let mut l = Lexer {
        input,
        pos: 0,
        start: 0,
        paren_depth: 0,
        brace_open: false,
        bracket_open: false,
        got_colon: false,
        got_duration: false,
        out: Vec::new(),
    };
    l.run();
    l.out
}

struct Lexer<'a> {
    input: &'a str,
    pos: usize,
    start: usize,
    paren_depth: i64,
    brace_open: bool,
    bracket_open: bool,
    got_colon: bool,
    got_duration: bool,
    out: Vec<Token>,
}

/// Outcome of one lexing step.
enum Step {
    Continue,
    Stop,
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

fn is_alpha(c: char) -> bool {
    c == '_' || c.is_ascii_alphabetic()
}

fn is_digit(c: char) -> bool {
    c.is_ascii_digit()
}

fn is_alnum(c: char) -> bool {
    is_alpha(c) || is_digit(c)
}

/// Go's `%q` of a rune.
fn quote_rune(c: Option<char>) -> String {
    match c {
        None => "'\\x00'".to_owned(),
        Some('\'') => "'\\''".to_owned(),
        Some('\\') => "'\\\\'".to_owned(),
        Some('\n') => "'\\n'".to_owned(),
        Some('\t') => "'\\t'".to_owned(),
        Some('\r') => "'\\r'".to_owned(),
        Some(c) if (c as u32) < 0x20 => format!("'\\x{:02x}'", c as u32),
        Some(c) => format!("'{c}'"),
    }
}

/// nom: an identifier body (letters, digits, `_`, and `:` when `colons`).
fn ident_body(colons: bool) -> impl Fn(&str) -> IResult<&str, &str> {
    move |i| take_while(|c: char| is_alnum(c) || (colons && c == ':'))(i)
}

impl<'a> Lexer<'a> {
    fn rest(&self) -> &'a str {
        self.input.get(self.pos..).unwrap_or("")
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn next(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn backup(&mut self, c: Option<char>) {
        if let Some(c) = c {
            self.pos -= c.len_utf8();
        }
    }

    fn accept(&mut self, valid: &str) -> bool {
        match self.peek() {
            Some(c) if valid.contains(c) => {
                self.pos += c.len_utf8();
                true
            }
            _ => false,
        }
    }

    fn emit(&mut self, kind: TokenKind) {
        let text = self
            .input
            .get(self.start..self.pos)
            .unwrap_or("")
            .to_owned();
        self.out.push(Token {
            kind,
            pos: self.start,
            text,
        });
        self.start = self.pos;
    }

    fn ignore(&mut self) {
        self.start = self.pos;
    }

    fn error(&mut self, msg: String) -> Step {
        self.out.push(Token {
            kind: TokenKind::Error,
            pos: self.start,
            text: msg,
        });
        Step::Stop
    }

    fn run(&mut self) {
        loop {
            let step = if self.brace_open {
                self.lex_inside_braces()
            } else if self.bracket_open {
                self.lex_duration_expr()
            } else {
                self.lex_statement()
            };
            if let Step::Stop = step {
                return;
            }
        }
    }

    fn skip_comment(&mut self) {
        while let Some(c) = self.peek() {
            if c == '\n' || c == '\r' {
                break;
            }
            self.pos += c.len_utf8();
        }
        self.ignore();
    }

    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(is_space) {
            self.next();
        }
        self.ignore();
    }

    fn lex_statement(&mut self) -> Step {
        if self.rest().starts_with('#') {
            self.skip_comment();
            return Step::Continue;
        }
        let Some(r) = self.next() else {
            if self.paren_depth != 0 {
                return self.error("unclosed left parenthesis".into());
            }
            self.emit(TokenKind::Eof);
            return Step::Stop;
        };
        match r {
            ',' => self.emit(TokenKind::Comma),
            c if is_space(c) => self.skip_spaces(),
            '*' => self.emit(TokenKind::Mul),
            '/' => self.emit(TokenKind::Div),
            '%' => self.emit(TokenKind::Mod),
            '+' => self.emit(TokenKind::Add),
            '-' => self.emit(TokenKind::Sub),
            '^' => self.emit(TokenKind::Pow),
            '@' => self.emit(TokenKind::At),
            '=' => match self.peek() {
                Some('=') => {
                    self.next();
                    self.emit(TokenKind::EqlC);
                }
                Some('~') => {
                    return self.error(format!(
                        "unexpected character after '=': {}",
                        quote_rune(Some('~'))
                    ))
                }
                _ => self.emit(TokenKind::Eql),
            },
            '!' => {
                let t = self.next();
                if t != Some('=') {
                    return self
                        .error(format!("unexpected character after '!': {}", quote_rune(t)));
                }
                self.emit(TokenKind::Neq);
            }
            '<' => {
                if self.accept("=") {
                    self.emit(TokenKind::Lte);
                } else {
                    self.emit(TokenKind::Lss);
                }
            }
            '>' => {
                if self.accept("=") {
                    self.emit(TokenKind::Gte);
                } else {
                    self.emit(TokenKind::Gtr);
                }
            }
            c if is_digit(c) || (c == '.' && self.peek().is_some_and(is_digit)) => {
                self.backup(Some(c));
                return self.lex_number_or_duration();
            }
            '"' | '\'' => return self.lex_string(r),
            '`' => return self.lex_raw_string(),
            c if is_alpha(c) || c == ':' => {
                self.backup(Some(c));
                self.lex_keyword_or_identifier();
            }
            '(' => {
                self.emit(TokenKind::LeftParen);
                self.paren_depth += 1;
            }
            ')' => {
                self.paren_depth -= 1;
                if self.paren_depth < 0 {
                    // Prometheus emits the parenthesis and then overwrites it with the
                    // error, so the error stands in its place, positioned after it.
                    self.ignore();
                    return self.error(format!(
                        "unexpected right parenthesis {}",
                        quote_rune(Some(')'))
                    ));
                }
                self.emit(TokenKind::RightParen);
            }
            '{' => {
                self.emit(TokenKind::LeftBrace);
                self.brace_open = true;
            }
            '}' => return self.error(format!("unexpected right brace {}", quote_rune(Some('}')))),
            '[' => {
                self.got_colon = false;
                self.got_duration = false;
                self.emit(TokenKind::LeftBracket);
                self.skip_spaces();
                self.bracket_open = true;
            }
            ']' => {
                return self.error(format!(
                    "unexpected right bracket {}",
                    quote_rune(Some(']'))
                ))
            }
            c => return self.error(format!("unexpected character: {}", quote_rune(Some(c)))),
        }
        Step::Continue
    }

    fn lex_inside_braces(&mut self) -> Step {
        if self.rest().starts_with('#') {
            self.skip_comment();
            return Step::Continue;
        }
        let Some(r) = self.next() else {
            return self.error("unexpected end of input inside braces".into());
        };
        match r {
            c if is_space(c) => self.skip_spaces(),
            c if is_alpha(c) => {
                self.backup(Some(c));
                if let Ok((rest, _)) = ident_body(false)(self.rest()) {
                    self.pos = self.input.len() - rest.len();
                }
                self.emit(TokenKind::Identifier);
            }
            ',' => self.emit(TokenKind::Comma),
            '"' | '\'' => return self.lex_string(r),
            '`' => return self.lex_raw_string(),
            '=' => {
                if self.accept("~") {
                    self.emit(TokenKind::EqlRegex);
                } else {
                    self.emit(TokenKind::Eql);
                }
            }
            '!' => match self.next() {
                Some('~') => self.emit(TokenKind::NeqRegex),
                Some('=') => self.emit(TokenKind::Neq),
                nr => {
                    return self.error(format!(
                        "unexpected character after '!' inside braces: {}",
                        quote_rune(nr)
                    ))
                }
            },
            '{' => return self.error(format!("unexpected left brace {}", quote_rune(Some('{')))),
            '}' => {
                self.emit(TokenKind::RightBrace);
                self.brace_open = false;
            }
            c => {
                return self.error(format!(
                    "unexpected character inside braces: {}",
                    quote_rune(Some(c))
                ))
            }
        }
        Step::Continue
    }

    fn lex_duration_expr(&mut self) -> Step {
        let Some(r) = self.next() else {
            return self.error("unexpected end of input in duration expression".into());
        };
        match r {
            ']' => {
                self.emit(TokenKind::RightBracket);
                self.bracket_open = false;
                self.got_colon = false;
            }
            ':' => {
                // As in Prometheus, an error replaces the colon token.
                if !self.got_duration {
                    self.ignore();
                    return self
                        .error("unexpected colon before duration in duration expression".into());
                }
                if self.got_colon {
                    self.ignore();
                    return self.error("unexpected repeated colon in duration expression".into());
                }
                self.got_colon = true;
                self.emit(TokenKind::Colon);
            }
            '(' => {
                self.emit(TokenKind::LeftParen);
                self.paren_depth += 1;
            }
            ')' => {
                self.paren_depth -= 1;
                if self.paren_depth < 0 {
                    // Prometheus emits the parenthesis and then overwrites it with the
                    // error, so the error stands in its place, positioned after it.
                    self.ignore();
                    return self.error(format!(
                        "unexpected right parenthesis {}",
                        quote_rune(Some(')'))
                    ));
                }
                self.emit(TokenKind::RightParen);
            }
            c if is_space(c) => self.skip_spaces(),
            '+' => self.emit(TokenKind::Add),
            '-' => self.emit(TokenKind::Sub),
            '*' => self.emit(TokenKind::Mul),
            '/' => self.emit(TokenKind::Div),
            '%' => self.emit(TokenKind::Mod),
            '^' => self.emit(TokenKind::Pow),
            ',' => self.emit(TokenKind::Comma),
            c if is_alpha(c) => {
                // Duration-expression functions: step(), range(), min_of(), max_of().
                self.backup(Some(c));
                if let Ok((rest, word)) = ident_body(false)(self.rest()) {
                    let lower = word.to_ascii_lowercase();
                    if !matches!(
                        lower.as_str(),
                        "step" | "range" | "min_of" | "max_of" | "min" | "max"
                    ) {
                        self.pos += c.len_utf8();
                        return self.error(format!(
                            "unexpected character in duration expression: {}",
                            quote_rune(Some(c))
                        ));
                    }
                    self.pos = self.input.len() - rest.len();
                    self.got_duration = true;
                    self.emit(match lower.as_str() {
                        "step" => TokenKind::Step,
                        "range" => TokenKind::Range,
                        _ => TokenKind::Identifier,
                    });
                }
            }
            c if is_digit(c) || (c == '.' && self.peek().is_some_and(is_digit)) => {
                self.backup(Some(c));
                self.got_duration = true;
                return self.lex_number_or_duration();
            }
            c => {
                return self.error(format!(
                    "unexpected character in duration expression: {}",
                    quote_rune(Some(c))
                ))
            }
        }
        Step::Continue
    }

    fn lex_keyword_or_identifier(&mut self) {
        if let Ok((rest, _)) = ident_body(true)(self.rest()) {
            self.pos = self.input.len() - rest.len();
        }
        let word = self.input.get(self.start..self.pos).unwrap_or("");
        match keyword(word) {
            Some(kw @ (TokenKind::Fill | TokenKind::FillLeft | TokenKind::FillRight)) => {
                // Only a keyword when followed by '(' so `fill` stays usable as a metric name.
                if self.followed_by_left_paren() {
                    self.emit(kw);
                } else {
                    self.emit(TokenKind::Identifier);
                }
            }
            Some(kw) => self.emit(kw),
            None if word.contains(':') => self.emit(TokenKind::MetricIdentifier),
            None => self.emit(TokenKind::Identifier),
        }
    }

    fn followed_by_left_paren(&self) -> bool {
        self.rest()
            .chars()
            .find(|c| !is_space(*c))
            .is_some_and(|c| c == '(')
    }

    fn lex_string(&mut self, quote: char) -> Step {
        loop {
            match self.next() {
                Some('\\') => {
                    if let Err(msg) = self.lex_escape(quote) {
                        return self.error(msg);
                    }
                }
                None | Some('\n') => return self.error("unterminated quoted string".into()),
                Some(c) if c == quote => break,
                Some(_) => {}
            }
        }
        self.emit(TokenKind::String);
        Step::Continue
    }

    fn lex_raw_string(&mut self) -> Step {
        loop {
            match self.next() {
                None => return self.error("unterminated raw string".into()),
                Some('`') => break,
                Some(_) => {}
            }
        }
        self.emit(TokenKind::String);
        Step::Continue
    }

    /// Validates one escape sequence (the backslash is consumed), as Go's scanner does.
    fn lex_escape(&mut self, quote: char) -> Result<(), String> {
        let ch = self.next();
        let (mut n, base, max) = match ch {
            Some(c) if "abfnrtv\\".contains(c) || c == quote => return Ok(()),
            Some('0'..='7') => (3, 8, 255u32),
            Some('x') => (2, 16, 255),
            Some('u') => (4, 16, 0x10ffff),
            Some('U') => (8, 16, 0x10ffff),
            None => return Err("escape sequence not terminated".into()),
            Some(c) => {
                return Err(format!(
                    "unknown escape sequence U+{:04X} {}",
                    c as u32,
                    quote_rune(Some(c))
                ))
            }
        };
        let mut cur = if matches!(ch, Some('x' | 'u' | 'U')) {
            self.next()
        } else {
            ch
        };
        let mut x: u32 = 0;
        loop {
            let d = cur.and_then(|c| c.to_digit(16)).unwrap_or(16);
            if d >= base {
                return Err(match cur {
                    None => "escape sequence not terminated".into(),
                    Some(c) => format!(
                        "illegal character U+{:04X} {} in escape sequence",
                        c as u32,
                        quote_rune(Some(c))
                    ),
                });
            }
            x = x.saturating_mul(base).saturating_add(d);
            n -= 1;
            if n == 0 {
                break;
            }
            cur = self.next();
        }
        if x > max || (0xD800..0xE000).contains(&x) {
            return Err("escape sequence is an invalid Unicode code point".into());
        }
        Ok(())
    }

    fn lex_number_or_duration(&mut self) -> Step {
        if self.scan_number() {
            self.emit(TokenKind::Number);
            return Step::Continue;
        }
        if self.accept_remaining_duration() {
            self.emit(TokenKind::Duration);
            return Step::Continue;
        }
        let text = self.input.get(self.start..self.pos).unwrap_or("");
        let msg = format!(
            "bad number or duration syntax: {}",
            super::token::go_quote(text)
        );
        self.error(msg)
    }

    /// After a number prefix: `unit [s] (digits unit [s])*` not followed by an alphanumeric.
    fn accept_remaining_duration(&mut self) -> bool {
        if !self.accept("smhdwy") {
            return false;
        }
        self.accept("s");
        while self.accept("0123456789") {
            while self.accept("0123456789") {}
            if !self.accept("smhdw") {
                return false;
            }
            self.accept("s");
        }
        // Like Prometheus, consume the following rune to check it, then step back.
        match self.next() {
            Some(c) if is_alnum(c) => false,
            c => {
                self.backup(c);
                true
            }
        }
    }

    /// Scans decimal, hexadecimal, octal and float numbers (with `_` separators), following
    /// Prometheus' `scanNumber` rune for rune. The text is not necessarily a valid number; the
    /// parser checks that.
    fn scan_number(&mut self) -> bool {
        let initial = self.pos;
        let mut digits = "0123456789";
        if self.accept("0") && self.accept("xX") {
            self.accept("_");
            digits = "0123456789abcdefABCDEF";
        }
        self.accept(".");
        self.accept(digits);
        let mut dot_consumed = false;
        let mut exp_consumed = false;
        while self
            .peek()
            .is_some_and(|c| digits.contains(c) || "._eE".contains(c))
        {
            let c = self.peek();
            if c == Some('.') && dot_consumed {
                self.accept(".");
                return false;
            }
            if matches!(c, Some('e' | 'E')) && exp_consumed {
                self.accept("eE");
                return false;
            }
            if self.accept(".") {
                dot_consumed = true;
                if self.accept("_.") {
                    return false;
                }
                if digits.len() > 10 {
                    return false;
                }
                continue;
            }
            if self.accept("eE") {
                exp_consumed = true;
                self.accept("+-");
                if self.accept("._eE") || self.peek().is_none() {
                    return false;
                }
                continue;
            }
            if self.accept("_") {
                if self.accept("._eE") || self.peek().is_none() {
                    return false;
                }
                continue;
            }
            while self.accept(digits) {}
        }
        if self.pos == initial {
            return false;
        }
        !self.peek().is_some_and(is_alnum)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<TokenKind> {
        lex(s).into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn basic_tokens() {
        use TokenKind::*;
        assert_eq!(
            kinds("sum by (job) (rate(foo{a=~\"b\"}[5m]))"),
            vec![
                Aggregator,
                By,
                LeftParen,
                Identifier,
                RightParen,
                LeftParen,
                Identifier,
                LeftParen,
                Identifier,
                LeftBrace,
                Identifier,
                EqlRegex,
                String,
                RightBrace,
                LeftBracket,
                Duration,
                RightBracket,
                RightParen,
                RightParen,
                Eof
            ]
        );
        assert_eq!(kinds("a:b:c"), vec![MetricIdentifier, Eof]);
        assert_eq!(kinds("1 # comment\n+ 2"), vec![Number, Add, Number, Eof]);
        assert_eq!(
            kinds("{by=\"x\"}"),
            vec![LeftBrace, Identifier, Eql, String, RightBrace, Eof]
        );
    }

    #[test]
    fn numbers() {
        for s in [
            "1", ".5", "5.", "5e-3", "0x1F", "0755", "1_000", "1e+10", "Inf", "nan",
        ] {
            let t = lex(s);
            assert_eq!(t[0].kind, TokenKind::Number, "{s}");
            assert_eq!(t[0].text, s);
        }
        for s in ["5m", "1h30m", "100ms", "1y2w"] {
            assert_eq!(lex(s)[0].kind, TokenKind::Duration, "{s}");
        }
    }

    #[test]
    fn errors() {
        let err = |s: &str| {
            let t = lex(s);
            let last = t.last().unwrap().clone();
            assert_eq!(last.kind, TokenKind::Error, "{s}");
            (last.pos, last.text)
        };
        assert_eq!(
            err("0deadbeef"),
            (0, "bad number or duration syntax: \"0de\"".into())
        );
        assert_eq!(
            err("2.5."),
            (0, "bad number or duration syntax: \"2.5.\"".into())
        );
        assert_eq!(
            err("100..4"),
            (0, "bad number or duration syntax: \"100..\"".into())
        );
        assert_eq!(err("((1)"), (4, "unclosed left parenthesis".into()));
        assert_eq!(err("(1))"), (4, "unexpected right parenthesis ')'".into()));
        assert_eq!(
            err("1 !~ 1"),
            (2, "unexpected character after '!': '~'".into())
        );
        assert_eq!(err("."), (0, "unexpected character: '.'".into()));
        assert_eq!(
            err("foo{"),
            (4, "unexpected end of input inside braces".into())
        );
        assert_eq!(
            err("foo{1}"),
            (4, "unexpected character inside braces: '1'".into())
        );
        assert_eq!(err("\"abc"), (0, "unterminated quoted string".into()));
    }
}
