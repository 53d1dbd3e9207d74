//! Go's template language (`text/template`, plus the escaping of `html/template`) for
//! Argus: alert labels and annotations (Prometheus), notification templates
//! (Alertmanager) and the adapter.
//!
//! Written by hand after Go's `text/template/parse` and `exec`: `{{ }}` actions with
//! `{{-`/`-}}` trimming and comments; pipelines; variables (`$x :=`, `$x =`, `$`); fields on
//! maps (`.A.B`) and methods on [`Object`]s; `if`/`else if`/`else`, `range` (lists, maps in
//! key order, ints; `$i, $v :=`; `else`; `break`/`continue`), `with`/`else with`,
//! `define`/`template`/`block`; the builtins `and or not len index slice print printf
//! println html js urlquery call eq ne lt le gt ge`; Go's `fmt` formatting; and Go's error
//! texts (`template: t:1:5: executing "t" at <.x>: ...`). Html mode escapes action output by
//! HTML context (see `html_context.rs` for the subset).
//!
//! ```
//! use argus_template::{Template, Value};
//! let mut t = Template::new("t");
//! t.parse("{{ range $k, $v := . }}{{ $k }}={{ $v | printf \"%.1f\" }} {{ end }}").unwrap();
//! let data = Value::map([("a", 1.25), ("b", 2.0)]);
//! assert_eq!(t.execute("t", &data).unwrap(), "a=1.2 b=2.0 ");
//! ```
//!
//! [`prometheus`] and [`alertmanager`] hold the function sets those programs add.
#![warn(missing_docs)]

mod ast;
mod builtins;
mod error;
pub mod escape;
mod exec;
mod float;
pub mod gofmt;
mod html_context;
mod lex;
mod parse;
mod strfuncs;
pub mod time;
mod value;

pub mod alertmanager;
pub mod prometheus;

use std::collections::HashMap;
use std::sync::Arc;

pub use error::TemplateError;
pub use exec::MAX_EXEC_DEPTH;
pub use time::GoTime;
pub use value::{func, Func, Object, Value};

use crate::ast::is_empty_tree;
use crate::exec::{Exec, Tree};

/// What a missing map key evaluates to (Go's `Option("missingkey=...")`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissingKey {
    /// `missingkey=default`: no value (prints `<no value>` in text mode).
    #[default]
    Default,
    /// `missingkey=zero`: the map's zero value (`""` for string maps), as Prometheus and
    /// Alertmanager configure it.
    Zero,
    /// `missingkey=error`: execution fails.
    Error,
}

/// A set of named templates sharing functions and options, like Go's `*template.Template`.
#[derive(Clone)]
pub struct Template {
    name: String,
    pub(crate) trees: HashMap<String, Arc<Tree>>,
    pub(crate) funcs: HashMap<String, Func>,
    pub(crate) html: bool,
    pub(crate) missing_key: MissingKey,
}

impl std::fmt::Debug for Template {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<_> = self.trees.keys().collect();
        names.sort();
        f.debug_struct("Template")
            .field("name", &self.name)
            .field("templates", &names)
            .field("html", &self.html)
            .finish_non_exhaustive()
    }
}

impl Template {
    /// An empty set; `name` is the template the top level of [`Template::parse`] defines.
    pub fn new(name: impl Into<String>) -> Self {
        Template {
            name: name.into(),
            trees: HashMap::new(),
            funcs: HashMap::new(),
            html: false,
            missing_key: MissingKey::Default,
        }
    }

    /// The set's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Adds functions (overriding builtins and earlier ones of the same name). Functions must
    /// be added before parsing texts that call them, as in Go.
    pub fn funcs<K: Into<String>>(mut self, funcs: impl IntoIterator<Item = (K, Func)>) -> Self {
        self.add_funcs(funcs);
        self
    }

    /// [`Template::funcs`] on a `&mut`.
    pub fn add_funcs<K: Into<String>>(&mut self, funcs: impl IntoIterator<Item = (K, Func)>) {
        for (k, f) in funcs {
            self.funcs.insert(k.into(), f);
        }
    }

    /// Html mode: contextual auto-escaping like `html/template`.
    pub fn html(mut self, on: bool) -> Self {
        self.html = on;
        self
    }

    /// Sets the missing-key behaviour.
    pub fn missing_key(mut self, mk: MissingKey) -> Self {
        self.missing_key = mk;
        self
    }

    /// Parses `text`; its top level becomes the template named like the set, its
    /// `define`/`block`s are added. Can be called repeatedly; a later definition replaces an
    /// earlier one unless it is empty (Go's `AddParseTree` rules).
    pub fn parse(&mut self, text: &str) -> Result<(), TemplateError> {
        let name = self.name.clone();
        self.parse_named(&name, text)
    }

    /// Parses `text` whose top level is the template `name` (like one file of Go's
    /// `ParseFiles`, named by its base name).
    pub fn parse_named(&mut self, name: &str, text: &str) -> Result<(), TemplateError> {
        let funcs = &self.funcs;
        let has = |n: &str| funcs.contains_key(n) || builtins::is_builtin(n);
        let parsed = parse::parse(name, text, &has)?;
        let src: Arc<str> = Arc::from(text);
        let mut add = |tname: String, root: ast::List| {
            let empty = is_empty_tree(&root);
            if empty && self.trees.contains_key(&tname) {
                return;
            }
            let tree = Tree {
                name: tname.clone(),
                parse_name: name.to_string(),
                src: src.clone(),
                root,
            };
            self.trees.insert(tname, Arc::new(tree));
        };
        add(name.to_string(), parsed.root);
        for (n, l) in parsed.defs {
            add(n, l);
        }
        Ok(())
    }

    /// Whether a template of that name exists.
    pub fn lookup(&self, name: &str) -> bool {
        self.trees.contains_key(name)
    }

    /// Names of the defined templates, sorted.
    pub fn template_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.trees.keys().cloned().collect();
        v.sort();
        v
    }

    /// Executes the template `name` with `data`.
    pub fn execute(&self, name: &str, data: &Value) -> Result<String, TemplateError> {
        let Some(tree) = self.trees.get(name) else {
            return Err(TemplateError::NoSuchTemplate {
                name: name.into(),
                set: self.name.clone(),
            });
        };
        let mut ex = Exec::new(self, tree, data);
        ex.run(data)?;
        Ok(ex.out)
    }

    /// Parses `text` as a throwaway template in a copy of this set and executes it: how
    /// Alertmanager expands a notifier field (`tmpl.ExecuteTextString`).
    pub fn execute_text(&self, text: &str, data: &Value) -> Result<String, TemplateError> {
        let mut t = self.clone();
        t.name = String::new();
        t.parse_named("", text)?;
        t.execute("", data)
    }
}

#[cfg(test)]
mod tests;
