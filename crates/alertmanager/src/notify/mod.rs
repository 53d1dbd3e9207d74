//! From a flushed group to delivered notifications: the pipeline (muting and dedup), the
//! notification data and webhook payload, the durable outbox and the history.

pub mod data;
pub mod history;
pub mod outbox;
pub mod pipeline;
