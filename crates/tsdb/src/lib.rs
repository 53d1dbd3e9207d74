//! Argus tsdb crate (under construction).
