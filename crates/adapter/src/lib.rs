//! Argus adapter crate (under construction).
