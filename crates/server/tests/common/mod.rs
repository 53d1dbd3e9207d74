//! Helpers of the PromQL differential test (`promql_differential.rs`).

pub mod blocks;
pub mod compare;
pub mod data;
pub mod metadata;
pub mod peers;
pub mod queries;
pub mod queries_edge;
pub mod queries_ops;
