//! A runner for Prometheus' PromQL test scripts (the `.test` files of
//! `promql/promqltest/testdata`), used by the conformance test to check the engine against
//! upstream's expectations on any storage implementation.

mod checks;
pub mod run;
pub mod script;

pub use run::{
    float_eq, run_eval, run_script, EvalReport, FileReport, Inventory, Outcome, TestStorage,
};
