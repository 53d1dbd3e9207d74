//! Argus alert manager (under construction).
