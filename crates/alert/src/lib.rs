//! Argus alert crate (under construction).
