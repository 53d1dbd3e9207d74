//! Argus web UI (under construction).
