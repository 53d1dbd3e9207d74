//! Recursive-descent parser over the lexer's tokens, following Go's `text/template/parse`:
//! variables must be declared before use, functions must exist at parse time, `{{break}}`
//! and `{{continue}}` only inside `{{range}}`, `{{else if}}`/`{{else with}}` chains.

use crate::ast::{is_empty_tree, Arg, Branch, Command, List, Node, Pipe};
use crate::error::TemplateError;
use crate::lex::{lex, Kw, Tok, Token};
use crate::value::Value;

/// A parsed text: its top-level list and the templates it defines (in order).
pub(crate) struct Parsed {
    pub root: List,
    pub defs: Vec<(String, List)>,
}

enum Item {
    Node(Node),
    End,
    Else(Option<Kw>),
    Nothing,
}

struct Parser<'a> {
    name: &'a str,
    toks: Vec<Token>,
    i: usize,
    vars: Vec<String>,
    range_depth: usize,
    /// Nesting of control structures and parentheses, capped to bound recursion.
    nesting: usize,
    defs: Vec<(String, List)>,
    has_func: &'a dyn Fn(&str) -> bool,
}

/// Parses `src` (named `name` in errors); `has_func` says which function names exist.
pub(crate) fn parse(
    name: &str,
    src: &str,
    has_func: &dyn Fn(&str) -> bool,
) -> Result<Parsed, TemplateError> {
    let toks = lex(src).map_err(|e| TemplateError::Parse {
        name: name.to_string(),
        line: e.line,
        msg: e.msg,
    })?;
    let mut p = Parser {
        name,
        toks,
        i: 0,
        vars: vec!["$".into()],
        range_depth: 0,
        nesting: 0,
        defs: Vec::new(),
        has_func,
    };
    let root = p.top()?;
    Ok(Parsed { root, defs: p.defs })
}

fn describe(t: &Tok) -> String {
    let q = |s: &str| {
        if s.chars().count() > 10 {
            let short: String = s.chars().take(10).collect();
            format!("{}...", crate::gofmt::go_quote(&short, false))
        } else {
            crate::gofmt::go_quote(s, false)
        }
    };
    match t {
        Tok::Eof => "EOF".into(),
        Tok::Kw(k) => format!("<{}>", format!("{k:?}").to_lowercase()),
        Tok::Text(s) => q(s),
        Tok::Left => q("{{"),
        Tok::Right => q("}}"),
        Tok::Comment => "<comment>".into(),
        Tok::Space => q(" "),
        Tok::Ident(s) | Tok::Number(s) | Tok::Var(s) => q(s),
        Tok::Field(s) => q(&format!(".{s}")),
        Tok::Dot => q("."),
        Tok::Str(s, _) | Tok::Char(s, _) => q(s),
        Tok::Bool(b) => q(&b.to_string()),
        Tok::Nil => q("nil"),
        Tok::Pipe => q("|"),
        Tok::LParen => q("("),
        Tok::RParen => q(")"),
        Tok::Assign => q("="),
        Tok::Declare => q(":="),
        Tok::Punct(c) => q(&c.to_string()),
    }
}

/// The value of a number literal as Go's `idealConstant` gives it: ints stay `int`,
/// literals with `.`, `e` or `p` (not hex ints) are `float64`.
pub(crate) fn number_value(text: &str) -> Option<Value> {
    let clean: String = text.chars().filter(|&c| c != '_').collect();
    let (neg, body) = match clean.as_bytes().first() {
        Some(b'-') => (true, &clean[1..]),
        Some(b'+') => (false, &clean[1..]),
        _ => (false, clean.as_str()),
    };
    let lower = body.to_ascii_lowercase();
    let int = if let Some(h) = lower.strip_prefix("0x") {
        i64::from_str_radix(h, 16).ok()
    } else if let Some(o) = lower.strip_prefix("0o") {
        i64::from_str_radix(o, 8).ok()
    } else if let Some(b) = lower.strip_prefix("0b") {
        i64::from_str_radix(b, 2).ok()
    } else if lower.len() > 1 && lower.starts_with('0') && lower.bytes().all(|c| c.is_ascii_digit())
    {
        i64::from_str_radix(&lower[1..], 8).ok()
    } else if lower.bytes().all(|c| c.is_ascii_digit()) && !lower.is_empty() {
        lower.parse::<i64>().ok()
    } else {
        None
    };
    if let Some(i) = int {
        return Some(Value::Int(if neg { -i } else { i }));
    }
    if lower.starts_with("0x") || lower.is_empty() || lower.contains("inf") || lower.contains("nan")
    {
        return None;
    }
    let f: f64 = body.parse().ok()?;
    Some(Value::Float(if neg { -f } else { f }))
}

impl Parser<'_> {
    fn tok(&self) -> &Token {
        self.toks
            .get(self.i)
            .or_else(|| self.toks.last())
            .unwrap_or(&EOF_TOKEN)
    }

    fn next(&mut self) -> Token {
        let t = self.tok().clone();
        if self.i < self.toks.len() {
            self.i += 1;
        }
        t
    }

    fn backup(&mut self) {
        self.i = self.i.saturating_sub(1);
    }

    fn next_non_space(&mut self) -> Token {
        loop {
            let t = self.next();
            if t.tok != Tok::Space {
                return t;
            }
        }
    }

    fn peek_non_space(&mut self) -> Token {
        let t = self.next_non_space();
        self.backup();
        t
    }

    fn err<T>(&self, line: usize, msg: impl Into<String>) -> Result<T, TemplateError> {
        Err(TemplateError::Parse {
            name: self.name.to_string(),
            line,
            msg: msg.into(),
        })
    }

    fn unexpected<T>(&self, t: &Token, context: &str) -> Result<T, TemplateError> {
        self.err(
            t.line,
            format!("unexpected {} in {context}", describe(&t.tok)),
        )
    }

    fn expect_right(&mut self, context: &str) -> Result<(), TemplateError> {
        let t = self.next_non_space();
        if t.tok != Tok::Right {
            return self.unexpected(&t, context);
        }
        Ok(())
    }

    fn top(&mut self) -> Result<List, TemplateError> {
        let mut root = Vec::new();
        loop {
            match self.tok().tok {
                Tok::Eof => break,
                Tok::Left => {
                    let save = self.i;
                    self.next();
                    if self.next_non_space().tok == Tok::Kw(Kw::Define) {
                        self.definition()?;
                        continue;
                    }
                    self.i = save;
                }
                _ => {}
            }
            let line = self.tok().line;
            match self.text_or_action()? {
                Item::Node(n) => root.push(n),
                Item::End => return self.err(line, "unexpected {{end}}"),
                Item::Else(_) => return self.err(line, "unexpected {{else}}"),
                Item::Nothing => {}
            }
        }
        Ok(root)
    }

    fn add_def(&mut self, name: String, list: List, line: usize) -> Result<(), TemplateError> {
        if let Some(existing) = self.defs.iter_mut().find(|(n, _)| *n == name) {
            if !is_empty_tree(&existing.1) && !is_empty_tree(&list) {
                return self.err(
                    line,
                    format!("template: multiple definition of template {name:?}"),
                );
            }
            if !is_empty_tree(&list) {
                existing.1 = list;
            }
            return Ok(());
        }
        self.defs.push((name, list));
        Ok(())
    }

    fn definition(&mut self) -> Result<(), TemplateError> {
        let t = self.next_non_space();
        let Tok::Str(_, name) = t.tok.clone() else {
            return self.unexpected(&t, "define clause");
        };
        self.expect_right("define clause")?;
        let saved = std::mem::replace(&mut self.vars, vec!["$".into()]);
        let saved_depth = std::mem::replace(&mut self.range_depth, 0);
        let (list, end) = self.item_list()?;
        self.vars = saved;
        self.range_depth = saved_depth;
        if !matches!(end, Item::End) {
            return self.err(t.line, "unexpected {{else}} in definition");
        }
        self.add_def(name, list, t.line)
    }

    fn text_or_action(&mut self) -> Result<Item, TemplateError> {
        let t = self.next_non_space();
        match t.tok {
            Tok::Text(s) => Ok(Item::Node(Node::Text(s))),
            Tok::Left => self.action(),
            Tok::Comment => Ok(Item::Nothing),
            _ => self.unexpected(&t, "input"),
        }
    }

    fn item_list(&mut self) -> Result<(List, Item), TemplateError> {
        let mut list = Vec::new();
        loop {
            let p = self.peek_non_space();
            if p.tok == Tok::Eof {
                return self.err(p.line, "unexpected EOF");
            }
            match self.text_or_action()? {
                Item::Node(n) => list.push(n),
                Item::Nothing => {}
                end => return Ok((list, end)),
            }
        }
    }

    fn action(&mut self) -> Result<Item, TemplateError> {
        let t = self.next_non_space();
        match t.tok {
            Tok::Kw(Kw::Block) => self.block(),
            Tok::Kw(Kw::Break) | Tok::Kw(Kw::Continue) => {
                let is_break = t.tok == Tok::Kw(Kw::Break);
                let word = if is_break {
                    "{{break}}"
                } else {
                    "{{continue}}"
                };
                if self.range_depth == 0 {
                    return self.err(t.line, format!("{word} outside {{{{range}}}}"));
                }
                let n = self.next_non_space();
                if n.tok != Tok::Right {
                    return self.unexpected(&n, word);
                }
                Ok(Item::Node(if is_break {
                    Node::Break
                } else {
                    Node::Continue
                }))
            }
            Tok::Kw(Kw::Else) => {
                let p = self.peek_non_space();
                match p.tok {
                    Tok::Kw(k @ (Kw::If | Kw::With)) => Ok(Item::Else(Some(k))),
                    _ => {
                        self.expect_right("else")?;
                        Ok(Item::Else(None))
                    }
                }
            }
            Tok::Kw(Kw::End) => {
                self.expect_right("end")?;
                Ok(Item::End)
            }
            Tok::Kw(Kw::If) => Ok(Item::Node(Node::If(self.control("if")?))),
            Tok::Kw(Kw::With) => Ok(Item::Node(Node::With(self.control("with")?))),
            Tok::Kw(Kw::Range) => Ok(Item::Node(Node::Range(self.control("range")?))),
            Tok::Kw(Kw::Template) => self.template(t.pos),
            _ => {
                self.backup();
                Ok(Item::Node(Node::Action(
                    self.pipeline("command", &Tok::Right)?,
                )))
            }
        }
    }

    fn enter(&mut self) -> Result<(), TemplateError> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            let line = self.tok().line;
            return self.err(line, format!("template nesting deeper than {MAX_NESTING}"));
        }
        Ok(())
    }

    fn control(&mut self, context: &str) -> Result<Branch, TemplateError> {
        self.enter()?;
        let r = self.control_inner(context);
        self.nesting -= 1;
        r
    }

    fn control_inner(&mut self, context: &str) -> Result<Branch, TemplateError> {
        let mark = self.vars.len();
        let pipe = self.pipeline(context, &Tok::Right)?;
        if context == "range" {
            self.range_depth += 1;
        }
        let (list, next) = self.item_list()?;
        if context == "range" {
            self.range_depth -= 1;
        }
        let else_list = match next {
            Item::End => None,
            Item::Else(Some(k))
                if (k == Kw::If && context == "if") || (k == Kw::With && context == "with") =>
            {
                self.next_non_space(); // the `if`/`with` keyword
                let nested = self.control(context)?;
                Some(vec![if k == Kw::If {
                    Node::If(nested)
                } else {
                    Node::With(nested)
                }])
            }
            Item::Else(Some(_)) => {
                let t = self.next_non_space();
                return self.unexpected(&t, "input");
            }
            _ => {
                let line = self.tok().line;
                let (l, end) = self.item_list()?;
                if !matches!(end, Item::End) {
                    return self.err(line, "expected end; found {{else}}");
                }
                Some(l)
            }
        };
        self.vars.truncate(mark);
        Ok(Branch {
            pipe,
            list,
            else_list,
        })
    }

    fn template(&mut self, pos: usize) -> Result<Item, TemplateError> {
        let t = self.next_non_space();
        let Tok::Str(_, name) = t.tok.clone() else {
            return self.unexpected(&t, "template clause");
        };
        let n = self.next_non_space();
        let pipe = if n.tok == Tok::Right {
            None
        } else {
            self.backup();
            Some(self.pipeline("template clause", &Tok::Right)?)
        };
        Ok(Item::Node(Node::Template { pos, name, pipe }))
    }

    fn block(&mut self) -> Result<Item, TemplateError> {
        let t = self.next_non_space();
        let Tok::Str(_, name) = t.tok.clone() else {
            return self.unexpected(&t, "block clause");
        };
        let pipe = self.pipeline("block clause", &Tok::Right)?;
        let saved = std::mem::replace(&mut self.vars, vec!["$".into()]);
        let saved_depth = std::mem::replace(&mut self.range_depth, 0);
        let (list, end) = self.item_list()?;
        self.vars = saved;
        self.range_depth = saved_depth;
        if !matches!(end, Item::End) {
            return self.err(t.line, "unexpected {{else}} in block clause");
        }
        self.add_def(name.clone(), list, t.line)?;
        Ok(Item::Node(Node::Template {
            pos: t.pos,
            name,
            pipe: Some(pipe),
        }))
    }

    fn pipeline(&mut self, context: &str, end: &Tok) -> Result<Pipe, TemplateError> {
        let start = self.peek_non_space();
        let mut pipe = Pipe {
            pos: start.pos,
            is_assign: false,
            decl: Vec::new(),
            cmds: Vec::new(),
        };
        // Declarations: `$x :=`, `$x =`, `$i, $v :=` (range only).
        loop {
            let v = self.peek_non_space();
            let Tok::Var(name) = v.tok.clone() else { break };
            let save = self.i;
            self.next_non_space();
            let n = self.next_non_space();
            match n.tok {
                Tok::Assign | Tok::Declare => {
                    pipe.is_assign = n.tok == Tok::Assign;
                    if pipe.is_assign && !self.vars.contains(&name) {
                        return self.err(v.line, format!("undefined variable {name:?}"));
                    }
                    pipe.decl.push(name.clone());
                    self.vars.push(name);
                    break;
                }
                Tok::Punct(',') => {
                    pipe.decl.push(name.clone());
                    self.vars.push(name);
                    if context == "range" && pipe.decl.len() < 2 {
                        let p = self.peek_non_space();
                        if matches!(p.tok, Tok::Var(_)) {
                            continue;
                        }
                        return self.err(p.line, "range can only initialize variables");
                    }
                    return self.err(v.line, format!("too many declarations in {context}"));
                }
                _ => {
                    self.i = save;
                    break;
                }
            }
        }
        if pipe.decl.len() == 2 && pipe.is_assign {
            // `$i, $v = range` is allowed since Go 1.22; nothing else to check.
        }
        loop {
            let t = self.next_non_space();
            if &t.tok == end {
                if pipe.cmds.is_empty() {
                    return self.err(t.line, format!("missing value for {context}"));
                }
                for (k, c) in pipe.cmds.iter().enumerate().skip(1) {
                    if matches!(
                        c.args.first(),
                        Some(Arg::Const { .. } | Arg::Dot(_) | Arg::Nil(_))
                    ) {
                        return self.err(
                            t.line,
                            format!("non executable command in pipeline stage {}", k + 1),
                        );
                    }
                }
                return Ok(pipe);
            }
            match t.tok {
                Tok::Bool(_)
                | Tok::Char(..)
                | Tok::Dot
                | Tok::Field(_)
                | Tok::Ident(_)
                | Tok::Number(_)
                | Tok::Nil
                | Tok::Str(..)
                | Tok::Var(_)
                | Tok::LParen => {
                    self.backup();
                    let c = self.command()?;
                    pipe.cmds.push(c);
                }
                _ => return self.unexpected(&t, context),
            }
        }
    }

    fn command(&mut self) -> Result<Command, TemplateError> {
        let start = self.peek_non_space();
        let mut cmd = Command {
            pos: start.pos,
            args: Vec::new(),
        };
        loop {
            self.peek_non_space();
            if let Some(op) = self.operand()? {
                cmd.args.push(op);
            }
            let t = self.next();
            match t.tok {
                Tok::Space => continue,
                Tok::Right | Tok::RParen => self.backup(),
                Tok::Pipe => {}
                _ => return self.unexpected(&t, "operand"),
            }
            break;
        }
        if cmd.args.is_empty() {
            return self.err(start.line, "empty command");
        }
        Ok(cmd)
    }

    fn operand(&mut self) -> Result<Option<Arg>, TemplateError> {
        let Some(node) = self.term()? else {
            return Ok(None);
        };
        let mut fields = Vec::new();
        while let Tok::Field(f) = &self.tok().tok {
            fields.push(f.clone());
            self.next();
        }
        if fields.is_empty() {
            return Ok(Some(node));
        }
        Ok(Some(match node {
            Arg::Field { pos, mut idents } => {
                idents.extend(fields);
                Arg::Field { pos, idents }
            }
            Arg::Variable {
                pos,
                name,
                mut idents,
            } => {
                idents.extend(fields);
                Arg::Variable { pos, name, idents }
            }
            Arg::Const { .. } | Arg::Nil(_) | Arg::Dot(_) => {
                let line = self.tok().line;
                return self.err(
                    line,
                    format!("unexpected . after term {:?}", node.to_string()),
                );
            }
            other => Arg::Chain {
                pos: other.pos(),
                node: Box::new(other),
                fields,
            },
        }))
    }

    fn term(&mut self) -> Result<Option<Arg>, TemplateError> {
        let t = self.next_non_space();
        let pos = t.pos;
        Ok(Some(match t.tok {
            Tok::Ident(name) => {
                if !(self.has_func)(&name) {
                    return self.err(t.line, format!("function {name:?} not defined"));
                }
                Arg::Ident { pos, name }
            }
            Tok::Dot => Arg::Dot(pos),
            Tok::Nil => Arg::Nil(pos),
            Tok::Var(name) => {
                if !self.vars.contains(&name) {
                    return self.err(t.line, format!("undefined variable {name:?}"));
                }
                Arg::Variable {
                    pos,
                    name,
                    idents: Vec::new(),
                }
            }
            Tok::Field(f) => Arg::Field {
                pos,
                idents: vec![f],
            },
            Tok::Bool(b) => Arg::Const {
                pos,
                text: b.to_string(),
                value: Value::Bool(b),
            },
            Tok::Char(text, c) => Arg::Const {
                pos,
                text,
                value: Value::Int(c),
            },
            Tok::Number(text) => {
                let Some(value) = number_value(&text) else {
                    return self.err(t.line, format!("illegal number syntax: {text:?}"));
                };
                Arg::Const { pos, text, value }
            }
            Tok::Str(text, s) => Arg::Const {
                pos,
                text,
                value: Value::String(s),
            },
            Tok::LParen => {
                self.enter()?;
                let pipe = self.pipeline("parenthesized pipeline", &Tok::RParen);
                self.nesting -= 1;
                let pipe = pipe?;
                Arg::Pipe {
                    pos,
                    pipe: Box::new(pipe),
                }
            }
            _ => {
                self.backup();
                return Ok(None);
            }
        }))
    }
}

/// Deepest nesting of `if`/`with`/`range`/parentheses a text may have.
const MAX_NESTING: usize = 100;

static EOF_TOKEN: Token = Token {
    tok: Tok::Eof,
    pos: 0,
    line: 1,
};

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
