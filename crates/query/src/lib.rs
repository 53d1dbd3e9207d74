//! Argus query crate (under construction).
