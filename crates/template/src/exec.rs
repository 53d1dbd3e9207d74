//! The executor: walks a parse tree with a data value, as Go's `text/template/exec.go`.

use std::fmt::Display;
use std::sync::Arc;

use crate::ast::{Arg, Branch, Command, List, Node, Pipe};
use crate::builtins::builtin;
use crate::error::TemplateError;
use crate::gofmt::sprint;
use crate::html_context::HtmlContext;
use crate::value::Value;
use crate::{MissingKey, Template};

/// Deepest nesting of `{{template}}` calls (Go allows 100000; a lower cap keeps recursion
/// within the native stack of any thread, including 2 MiB test threads in debug builds).
pub const MAX_EXEC_DEPTH: usize = 100;

/// A named parse tree with the source it came from (for error positions).
#[derive(Debug)]
pub(crate) struct Tree {
    pub name: String,
    pub parse_name: String,
    pub src: Arc<str>,
    pub root: List,
}

enum Flow {
    Normal,
    Break,
    Continue,
}

type R<T> = Result<T, TemplateError>;

pub(crate) struct Exec<'a> {
    set: &'a Template,
    tree: &'a Tree,
    pub out: String,
    vars: Vec<(String, Value)>,
    depth: usize,
    html: Option<HtmlContext>,
}

impl<'a> Exec<'a> {
    pub fn new(set: &'a Template, tree: &'a Tree, data: &Value) -> Self {
        Exec {
            set,
            tree,
            out: String::new(),
            vars: vec![("$".into(), data.clone())],
            depth: 0,
            html: set.html.then(HtmlContext::new),
        }
    }

    pub fn run(&mut self, data: &Value) -> R<()> {
        let root = &self.tree.root;
        self.walk(root, data).map(|_| ())
    }

    fn error(&self, pos: usize, node: &dyn Display, msg: impl Into<String>) -> TemplateError {
        let src = self.tree.src.as_bytes();
        let before = src.get(..pos.min(src.len())).unwrap_or_default();
        let line = 1 + before.iter().filter(|&&c| c == b'\n').count();
        let col = match before.iter().rposition(|&c| c == b'\n') {
            Some(nl) => pos - nl - 1,
            None => pos,
        };
        TemplateError::Exec {
            location: format!("{}:{line}:{col}", self.tree.parse_name),
            template: self.tree.name.clone(),
            node: node.to_string(),
            msg: msg.into(),
        }
    }

    fn walk(&mut self, list: &'a List, dot: &Value) -> R<Flow> {
        for node in list {
            match node {
                Node::Text(s) => match &mut self.html {
                    Some(h) => {
                        let t = h.feed(s);
                        self.out.push_str(&t);
                    }
                    None => self.out.push_str(s),
                },
                Node::Action(pipe) => {
                    let v = self.eval_pipeline(dot, pipe)?;
                    if pipe.decl.is_empty() {
                        self.print(&v, pipe)?;
                    }
                }
                Node::If(b) | Node::With(b) => {
                    let is_with = matches!(node, Node::With(_));
                    let flow = self.if_or_with(b, dot, is_with)?;
                    if !matches!(flow, Flow::Normal) {
                        return Ok(flow);
                    }
                }
                Node::Range(b) => self.range(node, b, dot)?,
                Node::Template { pos, name, pipe } => self.template(*pos, name, pipe, dot)?,
                Node::Break => return Ok(Flow::Break),
                Node::Continue => return Ok(Flow::Continue),
            }
        }
        Ok(Flow::Normal)
    }

    fn print(&mut self, v: &Value, pipe: &Pipe) -> R<()> {
        if matches!(v.base(), Value::Func(_)) {
            return Err(self.error(pipe.pos, pipe, format!("can't print {pipe} of type func")));
        }
        match &mut self.html {
            Some(h) => {
                let last = pipe
                    .cmds
                    .last()
                    .and_then(|c| match (c.args.first(), c.args.len()) {
                        (Some(Arg::Ident { name, .. }), _)
                            if name == "html" || name == "urlquery" =>
                        {
                            Some(name.as_str())
                        }
                        _ => None,
                    });
                let s = h.escape(v, last);
                self.out.push_str(&s);
            }
            None => match v.base() {
                Value::Nil => self.out.push_str("<no value>"),
                Value::String(s) | Value::Html(s) => self.out.push_str(s),
                _ => self.out.push_str(&sprint(std::slice::from_ref(v))),
            },
        }
        Ok(())
    }

    fn if_or_with(&mut self, b: &'a Branch, dot: &Value, is_with: bool) -> R<Flow> {
        let mark = self.vars.len();
        let v = self.eval_pipeline(dot, &b.pipe)?;
        let flow = if v.truth() {
            if is_with {
                self.walk(&b.list, &v)?
            } else {
                self.walk(&b.list, dot)?
            }
        } else if let Some(e) = &b.else_list {
            self.walk(e, dot)?
        } else {
            Flow::Normal
        };
        self.vars.truncate(mark);
        Ok(flow)
    }

    fn range(&mut self, node: &Node, b: &'a Branch, dot: &Value) -> R<()> {
        let val = self.eval_pipeline_raw(dot, &b.pipe)?;
        let items: Vec<(Value, Value)> = match val.base() {
            Value::List(l) => l
                .iter()
                .enumerate()
                .map(|(i, v)| (Value::from(i), v.clone()))
                .collect(),
            Value::Map(m) => m
                .iter()
                .map(|(k, v)| (Value::from(k.as_str()), v.clone()))
                .collect(),
            Value::Int(n) => (0..(*n).max(0))
                .map(|i| (Value::Int(i), Value::Int(i)))
                .collect(),
            Value::Nil => Vec::new(),
            other => {
                let msg = format!(
                    "range can't iterate over {}",
                    sprint(std::slice::from_ref(other))
                );
                return Err(self.error(b.pipe.pos, node, msg));
            }
        };
        if items.is_empty() {
            if let Some(e) = &b.else_list {
                let mark = self.vars.len();
                self.walk(e, dot)?;
                self.vars.truncate(mark);
            }
            return Ok(());
        }
        let mark = self.vars.len();
        for (k, v) in items {
            self.vars.truncate(mark);
            match b.pipe.decl.as_slice() {
                [] => {}
                [one] => self.bind(&b.pipe, one, v.clone()),
                [first, second, ..] => {
                    self.bind(&b.pipe, first, k);
                    self.bind(&b.pipe, second, v.clone());
                }
            }
            match self.walk(&b.list, &v)? {
                Flow::Break => break,
                Flow::Continue | Flow::Normal => {}
            }
        }
        self.vars.truncate(mark);
        Ok(())
    }

    fn bind(&mut self, pipe: &Pipe, name: &str, v: Value) {
        if pipe.is_assign {
            self.set_var(name, v);
        } else {
            self.vars.push((name.to_string(), v));
        }
    }

    fn set_var(&mut self, name: &str, v: Value) {
        if let Some(slot) = self.vars.iter_mut().rev().find(|(n, _)| n == name) {
            slot.1 = v;
        }
    }

    fn template(&mut self, pos: usize, name: &str, pipe: &'a Option<Pipe>, dot: &Value) -> R<()> {
        let node = format!("{{{{template {name:?}}}}}");
        let Some(tree) = self.set.trees.get(name) else {
            return Err(self.error(pos, &node, format!("template {name:?} not defined")));
        };
        if self.depth >= MAX_EXEC_DEPTH {
            let msg = format!("exceeded maximum template depth ({MAX_EXEC_DEPTH})");
            return Err(self.error(pos, &node, msg));
        }
        let new_dot = match pipe {
            Some(p) => self.eval_pipeline(dot, p)?,
            None => Value::Nil,
        };
        let tree: &'a Tree = tree;
        let saved_tree = std::mem::replace(&mut self.tree, tree);
        let saved_vars = std::mem::replace(&mut self.vars, vec![("$".into(), new_dot.clone())]);
        self.depth += 1;
        let r = self.walk(&tree.root, &new_dot);
        self.depth -= 1;
        self.tree = saved_tree;
        self.vars = saved_vars;
        r.map(|_| ())
    }

    /// Evaluates a pipeline and binds its declared variables.
    fn eval_pipeline(&mut self, dot: &Value, pipe: &Pipe) -> R<Value> {
        let v = self.eval_pipeline_raw(dot, pipe)?;
        for name in &pipe.decl {
            self.bind(pipe, name, v.clone());
        }
        Ok(v)
    }

    fn eval_pipeline_raw(&mut self, dot: &Value, pipe: &Pipe) -> R<Value> {
        let mut value: Option<Value> = None;
        for cmd in &pipe.cmds {
            value = Some(self.eval_command(dot, cmd, value)?);
        }
        Ok(value.unwrap_or(Value::Nil))
    }

    fn not_a_function(&self, cmd: &Command, final_: &Option<Value>) -> R<()> {
        if cmd.args.len() > 1 || final_.is_some() {
            let first = cmd
                .args
                .first()
                .map(ToString::to_string)
                .unwrap_or_default();
            return Err(self.error(
                cmd.pos,
                cmd,
                format!("can't give argument to non-function {first}"),
            ));
        }
        Ok(())
    }

    fn eval_command(&mut self, dot: &Value, cmd: &Command, final_: Option<Value>) -> R<Value> {
        let Some((first, rest)) = cmd.args.split_first() else {
            return Err(self.error(cmd.pos, cmd, "empty command"));
        };
        match first {
            Arg::Field { idents, .. } => {
                self.eval_field_chain(dot, dot.clone(), first, idents, rest, final_)
            }
            Arg::Chain { node, fields, .. } => {
                if matches!(**node, Arg::Nil(_)) {
                    return Err(self.error(
                        first.pos(),
                        first,
                        format!("indirection through explicit nil in {first}"),
                    ));
                }
                let recv = self.eval_arg(dot, node)?;
                self.eval_field_chain(dot, recv, first, fields, rest, final_)
            }
            Arg::Ident { name, .. } => self.eval_function(dot, name, cmd, rest, final_),
            Arg::Variable { name, idents, .. } => {
                let v = self.var_value(name, first)?;
                if idents.is_empty() {
                    self.not_a_function(cmd, &final_)?;
                    return Ok(v);
                }
                self.eval_field_chain(dot, v, first, idents, rest, final_)
            }
            Arg::Pipe { pipe, .. } => {
                self.not_a_function(cmd, &final_)?;
                self.eval_pipeline(dot, pipe)
            }
            Arg::Dot(_) => {
                self.not_a_function(cmd, &final_)?;
                Ok(dot.clone())
            }
            Arg::Nil(pos) => Err(self.error(*pos, cmd, "nil is not a command")),
            Arg::Const { value, .. } => {
                self.not_a_function(cmd, &final_)?;
                Ok(value.clone())
            }
        }
    }

    fn var_value(&self, name: &str, node: &Arg) -> R<Value> {
        match self.vars.iter().rev().find(|(n, _)| n == name) {
            Some((_, v)) => Ok(v.clone()),
            None => Err(self.error(node.pos(), node, format!("undefined variable: {name}"))),
        }
    }

    /// Evaluates an argument node to a value.
    fn eval_arg(&mut self, dot: &Value, arg: &Arg) -> R<Value> {
        match arg {
            Arg::Dot(_) => Ok(dot.clone()),
            Arg::Nil(_) => Ok(Value::Nil),
            Arg::Field { idents, .. } => {
                self.eval_field_chain(dot, dot.clone(), arg, idents, &[], None)
            }
            Arg::Variable { name, idents, .. } => {
                let v = self.var_value(name, arg)?;
                if idents.is_empty() {
                    return Ok(v);
                }
                self.eval_field_chain(dot, v, arg, idents, &[], None)
            }
            Arg::Pipe { pipe, .. } => self.eval_pipeline(dot, pipe),
            Arg::Ident { name, pos } => {
                let cmd = Command {
                    pos: *pos,
                    args: vec![arg.clone()],
                };
                self.eval_function(dot, name, &cmd, &[], None)
            }
            Arg::Chain { node, fields, .. } => {
                let recv = self.eval_arg(dot, node)?;
                self.eval_field_chain(dot, recv, arg, fields, &[], None)
            }
            Arg::Const { value, .. } => Ok(value.clone()),
        }
    }

    fn eval_args(&mut self, dot: &Value, args: &[Arg], final_: Option<Value>) -> R<Vec<Value>> {
        let mut argv = Vec::with_capacity(args.len() + 1);
        for a in args {
            argv.push(self.eval_arg(dot, a)?);
        }
        if let Some(f) = final_ {
            argv.push(f);
        }
        Ok(argv)
    }

    fn eval_field_chain(
        &mut self,
        dot: &Value,
        mut recv: Value,
        node: &Arg,
        idents: &[String],
        args: &[Arg],
        final_: Option<Value>,
    ) -> R<Value> {
        let Some((last, init)) = idents.split_last() else {
            return Ok(recv);
        };
        for name in init {
            recv = self.eval_field(dot, name, node, &[], None, &recv)?;
        }
        self.eval_field(dot, last, node, args, final_, &recv)
    }

    fn eval_field(
        &mut self,
        dot: &Value,
        name: &str,
        node: &Arg,
        args: &[Arg],
        final_: Option<Value>,
        recv: &Value,
    ) -> R<Value> {
        if let Value::Object(o) = recv {
            if let Some(m) = o.methods.get(name).cloned() {
                let mut argv = vec![(*o.value).clone()];
                argv.extend(self.eval_args(dot, args, final_)?);
                return m(&argv).map_err(|e| {
                    self.error(node.pos(), node, format!("error calling {name}: {e}"))
                });
            }
            return self.eval_field(dot, name, node, args, final_, &o.value);
        }
        if let Value::Time(_) | Value::Duration(_) = recv {
            let argv = self.eval_args(dot, args, final_.clone())?;
            let r = match recv {
                Value::Time(t) => crate::time::time_method(t, name, &argv),
                Value::Duration(d) => crate::time::duration_method(*d, name, &argv),
                _ => None,
            };
            if let Some(r) = r {
                return r.map_err(|e| {
                    self.error(node.pos(), node, format!("error calling {name}: {e}"))
                });
            }
        }
        let has_args = !args.is_empty() || final_.is_some();
        match recv {
            Value::Map(m) => {
                if has_args {
                    return Err(self.error(
                        node.pos(),
                        node,
                        format!("{name} is not a method but has arguments"),
                    ));
                }
                match m.get(name) {
                    Some(v) => Ok(v.clone()),
                    None => match self.set.missing_key {
                        MissingKey::Default => Ok(Value::Nil),
                        MissingKey::Zero => Ok(Value::map_zero(m)),
                        MissingKey::Error => Err(self.error(
                            node.pos(),
                            node,
                            format!("map has no entry for key {name:?}"),
                        )),
                    },
                }
            }
            Value::Struct(m) => {
                if has_args {
                    return Err(self.error(
                        node.pos(),
                        node,
                        format!("{name} is not a method but has arguments"),
                    ));
                }
                m.get(name).cloned().ok_or_else(|| {
                    self.error(
                        node.pos(),
                        node,
                        format!("can't evaluate field {name} in type struct"),
                    )
                })
            }
            Value::Nil => Ok(Value::Nil),
            other => Err(self.error(
                node.pos(),
                node,
                format!("can't evaluate field {name} in type {}", other.type_name()),
            )),
        }
    }

    fn eval_function(
        &mut self,
        dot: &Value,
        name: &str,
        cmd: &Command,
        args: &[Arg],
        final_: Option<Value>,
    ) -> R<Value> {
        if let Some(f) = self.set.funcs.get(name).cloned() {
            let argv = self.eval_args(dot, args, final_)?;
            return f(&argv)
                .map_err(|e| self.error(cmd.pos, cmd, format!("error calling {name}: {e}")));
        }
        match name {
            "and" | "or" => {
                if args.is_empty() && final_.is_none() {
                    let msg = format!("wrong number of args for {name}: want at least 1 got 0");
                    return Err(self.error(cmd.pos, cmd, msg));
                }
                let want = name == "or";
                let mut v = Value::Nil;
                for a in args {
                    v = self.eval_arg(dot, a)?;
                    if v.truth() == want {
                        return Ok(v);
                    }
                }
                if let Some(f) = final_ {
                    v = f;
                }
                Ok(v)
            }
            "call" => {
                let Some((fa, rest)) = args.split_first() else {
                    return Err(self.error(
                        cmd.pos,
                        cmd,
                        "wrong number of args for call: want at least 1 got 0",
                    ));
                };
                let fv = self.eval_arg(dot, fa)?;
                let argv = self.eval_args(dot, rest, final_)?;
                match fv.base() {
                    Value::Func(f) => f(&argv)
                        .map_err(|e| self.error(cmd.pos, cmd, format!("error calling call: {e}"))),
                    Value::Nil => Err(self.error(cmd.pos, cmd, "error calling call: call of nil")),
                    other => Err(self.error(
                        cmd.pos,
                        cmd,
                        format!(
                            "error calling call: non-function {fa} of type {}",
                            other.type_name()
                        ),
                    )),
                }
            }
            _ => {
                let Some(f) = builtin(name) else {
                    return Err(self.error(
                        cmd.pos,
                        cmd,
                        format!("{name:?} is not a defined function"),
                    ));
                };
                let argv = self.eval_args(dot, args, final_)?;
                f(&argv).map_err(|e| self.error(cmd.pos, cmd, format!("error calling {name}: {e}")))
            }
        }
    }
}
