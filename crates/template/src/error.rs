//! Template errors, formatted as Go's `text/template` formats them.

/// A parse or execution error.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TemplateError {
    /// `template: NAME:LINE: MESSAGE`.
    #[error("template: {name}:{line}: {msg}")]
    Parse {
        /// Name of the parsed text.
        name: String,
        /// 1-based line.
        line: usize,
        /// Go's message.
        msg: String,
    },
    /// `template: NAME:LINE:COL: executing "TEMPLATE" at <NODE>: MESSAGE`.
    #[error("template: {location}: executing {template:?} at <{node}>: {msg}")]
    Exec {
        /// `parse-name:line:col` (col is the 0-based byte offset in the line, as in Go).
        location: String,
        /// The template being executed.
        template: String,
        /// The node being evaluated, as Go prints it.
        node: String,
        /// Go's message.
        msg: String,
    },
    /// Executing a name that was never defined.
    #[error("template: no template {name:?} associated with template {set:?}")]
    NoSuchTemplate {
        /// Requested name.
        name: String,
        /// The set's name.
        set: String,
    },
}
