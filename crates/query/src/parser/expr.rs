//! The PromQL expression grammar: a precedence-climbing parser over the lexer's tokens.
//!
//! Binding follows Prometheus' yacc grammar: binary operators by precedence (`or` < `and`,
//! `unless` < comparisons < `+ -` < `* / % atan2` < `^`, which is right-associative); unary
//! `+`/`-` bind like `*` but below `^`; and the postfix modifiers `[range]`, `[range:step]`,
//! `offset` and `@` bind tightest, to the expression immediately before them. Errors use
//! Prometheus' wording: "unexpected <item> in <context>, expected <what>".

use argus_model::{MatchOp, Matcher, METRIC_NAME};

use super::ast::*;
use super::function_table::lookup;
use super::literals::{parse_duration, parse_number, unquote};
use super::token::{go_quote, Token, TokenKind as K};
use super::ParseError;

type PResult<T> = Result<T, ParseError>;

/// A parser over one query's tokens.
pub(super) struct Parser<'a> {
    input: &'a str,
    toks: Vec<Token>,
    i: usize,
    /// Returned by `peek` if the token list were ever empty.
    eof: Token,
    /// End of the last closing item (`)`, `}`, `]`, number, duration), as Prometheus tracks it
    /// for the end positions of calls, aggregations and modifiers.
    last_closing: usize,
}

fn binop(k: K) -> Option<BinOp> {
    Some(match k {
        K::Add => BinOp::Add,
        K::Sub => BinOp::Sub,
        K::Mul => BinOp::Mul,
        K::Div => BinOp::Div,
        K::Mod => BinOp::Mod,
        K::Pow => BinOp::Pow,
        K::EqlC => BinOp::Eql,
        K::Neq => BinOp::Neq,
        K::Gtr => BinOp::Gtr,
        K::Lss => BinOp::Lss,
        K::Gte => BinOp::Gte,
        K::Lte => BinOp::Lte,
        K::Land => BinOp::And,
        K::Lor => BinOp::Or,
        K::Lunless => BinOp::Unless,
        K::Atan2 => BinOp::Atan2,
        _ => return None,
    })
}

fn durop(k: K) -> Option<(DurOp, u8)> {
    Some(match k {
        K::Add => (DurOp::Add, 4),
        K::Sub => (DurOp::Sub, 4),
        K::Mul => (DurOp::Mul, 5),
        K::Div => (DurOp::Div, 5),
        K::Mod => (DurOp::Mod, 5),
        K::Pow => (DurOp::Pow, 6),
        _ => return None,
    })
}

/// Precedence of unary operators' operands: only `^` binds tighter.
const UNARY_OPERAND_PREC: u8 = 6;

impl<'a> Parser<'a> {
    pub(super) fn new(input: &'a str) -> Self {
        Parser {
            input,
            toks: super::lexer::lex(input),
            i: 0,
            last_closing: 0,
            eof: Token {
                kind: K::Eof,
                pos: input.len(),
                text: String::new(),
            },
        }
    }

    fn peek(&self) -> &Token {
        self.toks
            .get(self.i)
            .or_else(|| self.toks.last())
            .unwrap_or(&self.eof)
    }

    fn peek_kind(&self) -> K {
        self.peek().kind
    }

    fn peek2_kind(&self) -> K {
        self.toks.get(self.i + 1).map_or(K::Eof, |t| t.kind)
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if !matches!(t.kind, K::Eof | K::Error) {
            self.i += 1;
        }
        if matches!(
            t.kind,
            K::RightParen | K::RightBrace | K::RightBracket | K::Duration | K::Number
        ) {
            self.last_closing = t.end();
        }
        t
    }

    pub(super) fn err(&self, pos: usize, msg: impl Into<String>) -> ParseError {
        ParseError::new(self.input, pos, msg.into())
    }

    /// "unexpected <item>[ in <context>][, expected <expected>]" about the next token; a
    /// pending lexer error is reported instead.
    fn unexpected(&self, context: &str, expected: &str) -> ParseError {
        let t = self.peek();
        if t.kind == K::Error {
            return self.err(t.pos, t.text.clone());
        }
        let mut msg = format!("unexpected {}", t.desc());
        if !context.is_empty() {
            msg.push_str(" in ");
            msg.push_str(context);
        }
        if !expected.is_empty() {
            msg.push_str(", expected ");
            msg.push_str(expected);
        }
        self.err(t.pos, msg)
    }

    fn expect(&mut self, kind: K, context: &str, expected: &str) -> PResult<Token> {
        if self.peek_kind() == kind {
            Ok(self.bump())
        } else {
            Err(self.unexpected(context, expected))
        }
    }

    /// Parses a whole query.
    pub(super) fn parse_query(&mut self) -> PResult<Expr> {
        if self.peek_kind() == K::Eof {
            return Err(self.err(0, "no expression found in input"));
        }
        let e = self.expr(0)?;
        if self.peek_kind() != K::Eof {
            return Err(self.unexpected("", ""));
        }
        Ok(e)
    }

    /// Parses a series selector for `match[]`: a name and/or braces, nothing else.
    pub(super) fn parse_selector_only(&mut self) -> PResult<VectorSelector> {
        let t = self.peek().clone();
        let vs = match t.kind {
            K::LeftBrace => self.vector_selector(None)?,
            K::Identifier
            | K::MetricIdentifier
            | K::Aggregator
            | K::By
            | K::Without
            | K::Offset
            | K::Land
            | K::Lor
            | K::Lunless
            | K::Start
            | K::End => {
                self.bump();
                self.vector_selector(Some(t))?
            }
            _ => return Err(self.unexpected("", "")),
        };
        if self.peek_kind() != K::Eof {
            return Err(self.unexpected("", ""));
        }
        Ok(vs)
    }

    fn expr(&mut self, min_prec: u8) -> PResult<Expr> {
        let mut lhs = self.unary()?;
        while let Some(op) = binop(self.peek_kind()) {
            let prec = op.precedence();
            if prec < min_prec {
                break;
            }
            self.bump();
            let (matching, return_bool) = self.bin_modifiers()?;
            let next = if op.right_assoc() { prec } else { prec + 1 };
            let rhs = self.expr(next)?;
            lhs = Expr::Binary(BinaryExpr {
                op,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
                matching: Some(matching),
                return_bool,
            });
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> PResult<Expr> {
        if !matches!(self.peek_kind(), K::Add | K::Sub) {
            return self.postfix();
        }
        let op = self.bump();
        let neg = op.kind == K::Sub;
        let operand = self.expr(UNARY_OPERAND_PREC)?;
        Ok(match operand {
            Expr::NumberLiteral(mut n) => {
                if neg {
                    n.val = -n.val;
                }
                n.pos.start = op.pos;
                Expr::NumberLiteral(n)
            }
            e => Expr::Unary(UnaryExpr {
                neg,
                expr: Box::new(e),
                start: op.pos,
            }),
        })
    }

    fn bin_modifiers(&mut self) -> PResult<(VectorMatching, bool)> {
        let mut vm = VectorMatching::default();
        let mut return_bool = false;
        if self.peek_kind() == K::Bool {
            self.bump();
            return_bool = true;
        }
        if matches!(self.peek_kind(), K::On | K::Ignoring) {
            vm.on = self.bump().kind == K::On;
            vm.matching_labels = self.grouping_labels()?;
            if matches!(self.peek_kind(), K::GroupLeft | K::GroupRight) {
                vm.card = if self.bump().kind == K::GroupLeft {
                    Card::ManyToOne
                } else {
                    Card::OneToMany
                };
                if self.peek_kind() == K::LeftParen {
                    vm.include = self.grouping_labels()?;
                }
            }
        }
        while matches!(self.peek_kind(), K::Fill | K::FillLeft | K::FillRight) {
            let kind = self.bump().kind;
            self.expect(K::LeftParen, "fill modifier", "\"(\"")?;
            let neg = match self.peek_kind() {
                K::Sub => {
                    self.bump();
                    true
                }
                K::Add => {
                    self.bump();
                    false
                }
                _ => false,
            };
            let t = self.expect(K::Number, "fill modifier", "number")?;
            let mut v = parse_number(&t.text).map_err(|m| self.err(t.pos, m))?;
            if neg {
                v = -v;
            }
            self.expect(K::RightParen, "fill modifier", "\")\"")?;
            match kind {
                K::Fill => {
                    vm.fill_lhs = Some(v);
                    vm.fill_rhs = Some(v);
                }
                K::FillLeft => vm.fill_lhs = Some(v),
                _ => vm.fill_rhs = Some(v),
            }
        }
        Ok((vm, return_bool))
    }

    fn grouping_labels(&mut self) -> PResult<Vec<String>> {
        self.expect(K::LeftParen, "grouping opts", "\"(\"")?;
        let mut out = Vec::new();
        if self.peek_kind() == K::RightParen {
            self.bump();
            return Ok(out);
        }
        loop {
            out.push(self.grouping_label()?);
            match self.peek_kind() {
                K::Comma => {
                    self.bump();
                    if self.peek_kind() == K::RightParen {
                        self.bump();
                        return Ok(out);
                    }
                }
                K::RightParen => {
                    self.bump();
                    return Ok(out);
                }
                _ => return Err(self.unexpected("grouping opts", "\",\" or \")\"")),
            }
        }
    }

    fn grouping_label(&mut self) -> PResult<String> {
        let t = self.peek().clone();
        match t.kind {
            K::String => {
                self.bump();
                let (v, _) = unquote(&t.text).map_err(|e| self.unquote_err(&t, &e))?;
                Ok(v)
            }
            K::Identifier | K::Aggregator | K::Land | K::Lor | K::Lunless | K::Atan2 => {
                self.bump();
                Ok(t.text)
            }
            k if k.is_keyword() => {
                self.bump();
                Ok(t.text)
            }
            _ => Err(self.unexpected("grouping opts", "label")),
        }
    }

    fn unquote_err(&self, t: &Token, e: &str) -> ParseError {
        self.err(
            t.pos,
            format!("error unquoting string {}: {e}", go_quote(&t.text)),
        )
    }

    fn postfix(&mut self) -> PResult<Expr> {
        let mut e = self.primary()?;
        loop {
            e = match self.peek_kind() {
                K::LeftBracket => self.range_or_subquery(e)?,
                K::Offset => {
                    self.bump();
                    self.offset(e)?
                }
                K::At => {
                    self.bump();
                    self.at(e)?
                }
                K::Anchored | K::Smoothed => {
                    let smoothed = self.bump().kind == K::Smoothed;
                    self.extended_range(e, smoothed)?
                }
                _ => return Ok(e),
            };
        }
    }

    fn primary(&mut self) -> PResult<Expr> {
        let t = self.peek().clone();
        match t.kind {
            K::Number => {
                self.bump();
                let val = parse_number(&t.text).map_err(|m| self.err(t.pos, m))?;
                Ok(Expr::NumberLiteral(NumberLiteral {
                    val,
                    duration: false,
                    pos: PosRange::new(t.pos, t.end()),
                }))
            }
            K::Duration => {
                self.bump();
                let ms = parse_duration(&t.text).map_err(|m| self.err(t.pos, m))?;
                Ok(Expr::NumberLiteral(NumberLiteral {
                    val: ms as f64 / 1000.0,
                    duration: true,
                    pos: PosRange::new(t.pos, t.end()),
                }))
            }
            K::String => {
                self.bump();
                let (val, raw) = unquote(&t.text).map_err(|e| self.unquote_err(&t, &e))?;
                Ok(Expr::StringLiteral(StringLiteral {
                    val,
                    raw,
                    pos: PosRange::new(t.pos, t.end()),
                }))
            }
            K::LeftParen => {
                self.bump();
                let inner = self.expr(0)?;
                if self.peek_kind() != K::RightParen {
                    return Err(self.unexpected("", ""));
                }
                self.bump();
                Ok(Expr::Paren(ParenExpr {
                    expr: Box::new(inner),
                    pos: PosRange::new(t.pos, self.last_closing),
                }))
            }
            K::LeftBrace => Ok(Expr::VectorSelector(self.vector_selector(None)?)),
            K::Identifier if self.peek2_kind() == K::LeftParen => self.call(),
            K::Start | K::End | K::Step | K::Range if self.peek2_kind() == K::LeftParen => {
                self.call()
            }
            K::Aggregator
                if matches!(
                    self.peek2_kind(),
                    K::LeftParen
                        | K::By
                        | K::Without
                        | K::Identifier
                        | K::MetricIdentifier
                        | K::Number
                        | K::String
                        | K::Aggregator
                ) =>
            {
                self.aggregate()
            }
            K::Identifier
            | K::MetricIdentifier
            | K::Aggregator
            | K::By
            | K::Without
            | K::Offset
            | K::Land
            | K::Lor
            | K::Lunless
            | K::Start
            | K::End => {
                self.bump();
                Ok(Expr::VectorSelector(self.vector_selector(Some(t))?))
            }
            _ => Err(self.unexpected("", "")),
        }
    }

    fn call(&mut self) -> PResult<Expr> {
        let name = self.bump();
        let fname = match name.kind {
            K::Identifier => name.text.clone(),
            _ => name.text.to_ascii_lowercase(),
        };
        let args = self.call_args()?;
        let func = lookup(&fname).ok_or_else(|| {
            self.err(
                name.pos,
                format!("unknown function with name {}", go_quote(&fname)),
            )
        })?;
        Ok(Expr::Call(Call {
            func,
            args,
            pos: PosRange::new(name.pos, self.last_closing),
        }))
    }

    /// `( expr, expr, ... )`.
    fn call_args(&mut self) -> PResult<Vec<Expr>> {
        self.expect(K::LeftParen, "", "")?;
        let mut args = Vec::new();
        if self.peek_kind() == K::RightParen {
            self.bump();
            return Ok(args);
        }
        loop {
            args.push(self.expr(0)?);
            match self.peek_kind() {
                K::Comma => {
                    let c = self.bump();
                    if self.peek_kind() == K::RightParen {
                        return Err(
                            self.err(c.pos, "trailing commas not allowed in function call args")
                        );
                    }
                }
                K::RightParen => {
                    self.bump();
                    return Ok(args);
                }
                _ => return Err(self.unexpected("", "")),
            }
        }
    }

    fn aggregate(&mut self) -> PResult<Expr> {
        let op_tok = self.bump();
        let op = AggOp::from_keyword(&op_tok.text)
            .ok_or_else(|| self.err(op_tok.pos, "BUG: aggregator token without operator"))?;
        let mut modifier = None;
        if matches!(self.peek_kind(), K::By | K::Without) {
            let without = self.bump().kind == K::Without;
            modifier = Some((without, self.grouping_labels()?));
        }
        if self.peek_kind() != K::LeftParen {
            return Err(self.unexpected("aggregation", ""));
        }
        let mut args = self.call_args()?;
        if modifier.is_none() && matches!(self.peek_kind(), K::By | K::Without) {
            let without = self.bump().kind == K::Without;
            modifier = Some((without, self.grouping_labels()?));
        }
        let pos = PosRange::new(op_tok.pos, self.last_closing);
        let (without, grouping) = modifier.unwrap_or((false, Vec::new()));
        if args.is_empty() {
            return Err(self.err(pos.start, "no arguments for aggregate expression provided"));
        }
        let want = if op.has_param() { 2 } else { 1 };
        if args.len() != want {
            return Err(self.err(
                pos.start,
                format!(
                "wrong number of arguments for aggregate expression provided, expected {want}, got {}",
                args.len()
            ),
            ));
        }
        let expr = args
            .pop()
            .ok_or_else(|| self.err(pos.start, "BUG: no argument"))?;
        let param = args.pop().map(Box::new);
        Ok(Expr::Aggregate(AggregateExpr {
            op,
            expr: Box::new(expr),
            param,
            grouping,
            without,
            pos,
        }))
    }

    /// A vector selector; `name` is the already consumed metric-name token, if any.
    fn vector_selector(&mut self, name: Option<Token>) -> PResult<VectorSelector> {
        let start = name.as_ref().map_or(self.peek().pos, |t| t.pos);
        let mut end = name.as_ref().map_or(start, Token::end);
        let mut matchers = Vec::new();
        if self.peek_kind() == K::LeftBrace {
            matchers = self.label_matchers()?;
            end = self.last_closing;
        }
        let name = name.map(|t| t.text).unwrap_or_default();
        if !name.is_empty() {
            matchers.push(Matcher::equal(METRIC_NAME, name.clone()));
        }
        Ok(VectorSelector {
            name,
            matchers,
            offset: DurationParam::default(),
            at: None,
            anchored: false,
            smoothed: false,
            pos: PosRange::new(start, end),
        })
    }

    fn label_matchers(&mut self) -> PResult<Vec<Matcher>> {
        self.bump(); // `{`
        let mut out = Vec::new();
        if self.peek_kind() == K::RightBrace {
            self.bump();
            return Ok(out);
        }
        loop {
            out.push(self.label_matcher()?);
            match self.peek_kind() {
                K::Comma => {
                    self.bump();
                    if self.peek_kind() == K::RightBrace {
                        self.bump();
                        return Ok(out);
                    }
                }
                K::RightBrace => {
                    self.bump();
                    return Ok(out);
                }
                _ => return Err(self.unexpected("label matching", "\",\" or \"}\"")),
            }
        }
    }

    fn match_op(&mut self) -> Option<MatchOp> {
        let op = match self.peek_kind() {
            K::Eql => MatchOp::Equal,
            K::Neq => MatchOp::NotEqual,
            K::EqlRegex => MatchOp::Regex,
            K::NeqRegex => MatchOp::NotRegex,
            _ => return None,
        };
        self.bump();
        Some(op)
    }

    fn label_matcher(&mut self) -> PResult<Matcher> {
        let t = self.peek().clone();
        let name = match t.kind {
            K::Identifier => {
                self.bump();
                t.text.clone()
            }
            K::String => {
                self.bump();
                let (v, _) = unquote(&t.text).map_err(|e| self.unquote_err(&t, &e))?;
                if !matches!(
                    self.peek_kind(),
                    K::Eql | K::Neq | K::EqlRegex | K::NeqRegex
                ) {
                    // A bare quoted string is the metric name: `{"my.metric"}`.
                    return Ok(Matcher::equal(METRIC_NAME, v));
                }
                v
            }
            _ => return Err(self.unexpected("label matching", "identifier or \"}\"")),
        };
        let Some(op) = self.match_op() else {
            return Err(self.unexpected("label matching", "label matching operator"));
        };
        let v = self.peek().clone();
        if v.kind != K::String {
            return Err(self.unexpected("label matching", "string"));
        }
        self.bump();
        let (value, _) = unquote(&v.text).map_err(|e| self.unquote_err(&v, &e))?;
        cached_matcher(op, name, value).map_err(|e| self.err(t.pos, e.to_string()))
    }

    fn range_or_subquery(&mut self, e: Expr) -> PResult<Expr> {
        let lb = self.bump();
        let range = self.duration_param("subquery selector", "number or duration")?;
        match self.peek_kind() {
            K::RightBracket => {
                self.bump();
                let err_at = |p: &Self, msg: &str| Err(p.err(lb.pos, msg.to_owned()));
                let Expr::VectorSelector(vs) = e else {
                    return err_at(self, "ranges only allowed for vector selectors");
                };
                if !vs.offset.is_zero() {
                    return err_at(self, "no offset modifiers allowed before range");
                }
                if vs.at.is_some() {
                    return err_at(self, "no @ modifiers allowed before range");
                }
                Ok(Expr::MatrixSelector(MatrixSelector {
                    vs,
                    range,
                    end_pos: self.last_closing,
                }))
            }
            K::Colon => {
                self.bump();
                let step = if self.peek_kind() == K::RightBracket {
                    DurationParam::default()
                } else {
                    self.duration_param("subquery selector", "number or duration or \"]\"")?
                };
                let rb = self.expect(K::RightBracket, "subquery selector", "\"]\"")?;
                Ok(Expr::Subquery(SubqueryExpr {
                    expr: Box::new(e),
                    range,
                    step,
                    offset: DurationParam::default(),
                    at: None,
                    end_pos: rb.end(),
                }))
            }
            _ => Err(self.unexpected("subquery or range", "\":\" or \"]\"")),
        }
    }

    /// A full duration expression (inside brackets), as a parameter.
    fn duration_param(&mut self, context: &str, expected: &str) -> PResult<DurationParam> {
        let e = self.dur_expr(0, context, expected)?;
        Ok(to_param(e))
    }

    fn dur_expr(&mut self, min_prec: u8, context: &str, expected: &str) -> PResult<DurationExpr> {
        let mut lhs = self.dur_unary(context, expected)?;
        while let Some((op, prec)) = durop(self.peek_kind()) {
            if prec < min_prec {
                break;
            }
            self.bump();
            let next = if op == DurOp::Pow { prec } else { prec + 1 };
            let rhs = self.dur_expr(next, context, expected)?;
            lhs = DurationExpr::Binary(op, Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn dur_unary(&mut self, context: &str, expected: &str) -> PResult<DurationExpr> {
        match self.peek_kind() {
            K::Sub => {
                self.bump();
                Ok(negate(self.dur_expr(
                    UNARY_OPERAND_PREC,
                    context,
                    expected,
                )?))
            }
            K::Add => {
                self.bump();
                self.dur_expr(UNARY_OPERAND_PREC, context, expected)
            }
            _ => self.dur_atom(context, expected),
        }
    }

    fn dur_atom(&mut self, context: &str, expected: &str) -> PResult<DurationExpr> {
        let t = self.peek().clone();
        match t.kind {
            K::Number => {
                self.bump();
                let secs = parse_number(&t.text).map_err(|m| self.err(t.pos, m))?;
                Ok(DurationExpr::Literal {
                    secs,
                    duration: false,
                })
            }
            K::Duration => {
                self.bump();
                let ms = parse_duration(&t.text).map_err(|m| self.err(t.pos, m))?;
                Ok(DurationExpr::Literal {
                    secs: ms as f64 / 1000.0,
                    duration: true,
                })
            }
            K::LeftParen => {
                self.bump();
                let e = self.dur_expr(0, context, expected)?;
                self.expect(K::RightParen, "duration expression", "\")\"")?;
                Ok(DurationExpr::Paren(Box::new(e)))
            }
            K::Step | K::Range => {
                self.bump();
                self.expect(K::LeftParen, "duration expression", "\"(\"")?;
                self.expect(K::RightParen, "duration expression", "\")\"")?;
                Ok(if t.kind == K::Step {
                    DurationExpr::Step
                } else {
                    DurationExpr::Range
                })
            }
            K::Identifier | K::Aggregator
                if matches!(
                    t.text.to_ascii_lowercase().as_str(),
                    "min_of" | "max_of" | "min" | "max"
                ) && self.peek2_kind() == K::LeftParen =>
            {
                self.bump();
                self.bump();
                let a = self.dur_expr(0, context, expected)?;
                self.expect(K::Comma, "duration expression", "\",\"")?;
                let b = self.dur_expr(0, context, expected)?;
                self.expect(K::RightParen, "duration expression", "\")\"")?;
                let (a, b) = (Box::new(a), Box::new(b));
                Ok(if t.text.to_ascii_lowercase().starts_with("min") {
                    DurationExpr::MinOf(a, b)
                } else {
                    DurationExpr::MaxOf(a, b)
                })
            }
            _ => Err(self.unexpected(context, expected)),
        }
    }

    fn offset(&mut self, e: Expr) -> PResult<Expr> {
        let neg = match self.peek_kind() {
            K::Sub => {
                self.bump();
                true
            }
            K::Add => {
                self.bump();
                false
            }
            _ => false,
        };
        let atom = self.dur_atom("offset", "number or duration")?;
        let param = to_param(if neg { negate(atom) } else { atom });
        let pos = e.pos().start;
        let end = self.last_closing;
        let slot = match e {
            Expr::VectorSelector(mut vs) => {
                let set = !vs.offset.is_zero();
                vs.offset = param;
                vs.pos.end = end;
                (set, Expr::VectorSelector(vs))
            }
            Expr::MatrixSelector(mut m) => {
                let set = !m.vs.offset.is_zero();
                m.vs.offset = param;
                m.end_pos = end;
                (set, Expr::MatrixSelector(m))
            }
            Expr::Subquery(mut s) => {
                let set = !s.offset.is_zero();
                s.offset = param;
                s.end_pos = end;
                (set, Expr::Subquery(s))
            }
            _ => {
                return Err(self.err(
                    pos,
                    "offset modifier must be preceded by an instant vector selector or range vector selector or a subquery",
                ))
            }
        };
        if slot.0 {
            return Err(self.err(pos, "offset may not be set multiple times"));
        }
        Ok(slot.1)
    }

    fn at(&mut self, e: Expr) -> PResult<Expr> {
        let at = match self.peek_kind() {
            K::Start | K::End => {
                let start = self.bump().kind == K::Start;
                self.expect(K::LeftParen, "@", "timestamp")?;
                self.expect(K::RightParen, "@", "timestamp")?;
                if start {
                    AtModifier::Start
                } else {
                    AtModifier::End
                }
            }
            K::Number | K::Duration | K::Add | K::Sub => {
                let neg = match self.peek_kind() {
                    K::Sub => {
                        self.bump();
                        true
                    }
                    K::Add => {
                        self.bump();
                        false
                    }
                    _ => false,
                };
                let t = self.peek().clone();
                let mut ts = match t.kind {
                    K::Number => parse_number(&t.text).map_err(|m| self.err(t.pos, m))?,
                    K::Duration => {
                        parse_duration(&t.text).map_err(|m| self.err(t.pos, m))? as f64 / 1000.0
                    }
                    _ => return Err(self.unexpected("@", "timestamp")),
                };
                self.bump();
                if neg {
                    ts = -ts;
                }
                if !ts.is_finite() || ts >= i64::MAX as f64 || ts <= i64::MIN as f64 {
                    return Err(self.err(
                        e.pos().start,
                        format!("timestamp out of bounds for @ modifier: {}", go_fmt_f(ts)),
                    ));
                }
                AtModifier::At((ts * 1000.0).round() as i64)
            }
            _ => return Err(self.unexpected("@", "timestamp")),
        };
        let pos = e.pos().start;
        let end = self.last_closing;
        let (set, e) = match e {
            Expr::VectorSelector(mut vs) => {
                let set = vs.at.is_some();
                vs.at = Some(at);
                vs.pos.end = end;
                (set, Expr::VectorSelector(vs))
            }
            Expr::MatrixSelector(mut m) => {
                let set = m.vs.at.is_some();
                m.vs.at = Some(at);
                m.end_pos = end;
                (set, Expr::MatrixSelector(m))
            }
            Expr::Subquery(mut s) => {
                let set = s.at.is_some();
                s.at = Some(at);
                s.end_pos = end;
                (set, Expr::Subquery(s))
            }
            _ => return Err(self.err(
                pos,
                "@ modifier must be preceded by an instant vector selector or range vector selector or a subquery",
            )),
        };
        if set {
            return Err(self.err(pos, "@ <timestamp> may not be set multiple times"));
        }
        Ok(e)
    }

    fn extended_range(&mut self, e: Expr, smoothed: bool) -> PResult<Expr> {
        let name = if smoothed { "smoothed" } else { "anchored" };
        let pos = e.pos().start;
        let apply = |vs: &mut VectorSelector| {
            if smoothed {
                vs.smoothed = true;
            } else {
                vs.anchored = true;
            }
            vs.smoothed && vs.anchored
        };
        let (both, e) = match e {
            Expr::VectorSelector(mut vs) => (apply(&mut vs), Expr::VectorSelector(vs)),
            Expr::MatrixSelector(mut m) => (apply(&mut m.vs), Expr::MatrixSelector(m)),
            Expr::Subquery(_) => {
                return Err(self.err(
                    pos,
                    format!("{name} modifier is not supported for subqueries"),
                ))
            }
            _ => return Err(self.err(pos, format!("{name} modifier not implemented"))),
        };
        if both {
            return Err(self.err(
                pos,
                "anchored and smoothed modifiers cannot be used together",
            ));
        }
        Ok(e)
    }
}

/// Compiled regex matchers of recent queries. Compiling a regex costs tens of
/// microseconds, far more than parsing the rest of a query, and dashboards re-send the same
/// queries on every refresh; matchers are immutable and cheap to clone.
type MatcherCache = std::sync::Mutex<std::collections::HashMap<(MatchOp, String, String), Matcher>>;

static MATCHER_CACHE: std::sync::OnceLock<MatcherCache> = std::sync::OnceLock::new();

/// Bound on cached matchers; the cache is simply emptied when it fills up.
const MATCHER_CACHE_CAP: usize = 4096;

fn cached_matcher(
    op: MatchOp,
    name: String,
    value: String,
) -> Result<Matcher, argus_model::MatcherError> {
    if matches!(op, MatchOp::Equal | MatchOp::NotEqual) {
        return Matcher::new(op, name, value);
    }
    let cache = MATCHER_CACHE.get_or_init(Default::default);
    let key = (op, name, value);
    if let Some(m) = cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
        return Ok(m);
    }
    let m = Matcher::new(op, key.1.clone(), key.2.clone())?;
    if let Ok(mut c) = cache.lock() {
        if c.len() >= MATCHER_CACHE_CAP {
            c.clear();
        }
        c.insert(key, m.clone());
    }
    Ok(m)
}

/// Go's `%f`.
fn go_fmt_f(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.into()
    } else {
        format!("{v:.6}")
    }
}

fn negate(e: DurationExpr) -> DurationExpr {
    match e {
        DurationExpr::Literal { secs, duration } => DurationExpr::Literal {
            secs: -secs,
            duration,
        },
        e => DurationExpr::Neg(Box::new(e)),
    }
}

/// A plain (possibly negated) literal becomes a constant; anything else keeps its expression
/// for printing (and for resolution at query time when it uses `step()`/`range()`).
fn to_param(e: DurationExpr) -> DurationParam {
    match e {
        DurationExpr::Literal { secs, .. } => DurationParam::constant(secs_to_ms(secs)),
        e if !e.is_dynamic() => DurationParam {
            ms: secs_to_ms(e.eval_secs(0, 0)),
            expr: Some(Box::new(e)),
        },
        e => DurationParam {
            ms: 0,
            expr: Some(Box::new(e)),
        },
    }
}
