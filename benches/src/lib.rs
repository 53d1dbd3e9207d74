//! Shared helpers for Argus' criterion benchmarks (data generators).
