//! Argus template crate (under construction).
