//! Placeholder for analysis (filled below).
