//! PromQL parser and engine, and the Prometheus HTTP API.
//!
//! `parser` turns query text into an AST, `engine` evaluates it against any
//! `argus_model::Queryable`, and `api` serves both over Prometheus' `/api/v1`.

pub mod api;
pub mod dedup;
pub mod engine;
pub(crate) mod functions;
pub mod parser;
pub mod promqltest;

pub use engine::{Engine, EngineOptions, QueryError, QueryOptions, QueryResult, Value};
pub use parser::{parse, parse_metric_selector, Expr, ParseError};
