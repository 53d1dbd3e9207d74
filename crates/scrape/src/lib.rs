//! Argus scrape crate (under construction).
