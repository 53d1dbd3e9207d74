//! Argus' Prometheus remote-write sender: every sample committed to the TSDB's WAL is sent
//! to each `remote_write` endpoint as snappy-compressed protobuf (remote-write 1.0).
//!
//! ```text
//!  <data>/wal/ (checkpoint.N + segments)
//!        │ tailed by one watcher thread per queue (watcher.rs): series → relabeled,
//!        │ encoded once; samples → shard by series hash
//!        ▼
//!  shards (shards.rs): bounded channels, batches of max_samples_per_send or
//!        │ batch_send_deadline, retries with backoff; count scaled with the backlog
//!        ▼
//!  POST url (client.rs)  ──ack──▶  ack.rs: acknowledged WAL position
//!                                        │ saved every second (position.rs)
//!                                        ▼
//!                             <data>/remote_write/<destination key>.pos
//! ```
//!
//! Delivery is at least once: a queue resumes from its saved position after a restart
//! or a `kill -9`, so a receiver that is down for as long as the WAL spans loses nothing;
//! samples acknowledged after the last save are sent again. While a receiver is down, the
//! shards fill and the watcher stops reading; memory does not grow with the outage.
//!
//! Metric metadata is sent every `metadata_config.send_interval` from a
//! [`MetadataSource`] (the scrape manager) set with
//! [`RemoteWriteManager::set_metadata_source`]. Exemplars and native histograms are not
//! sent (`send_exemplars` and `send_native_histograms` are accepted): Argus' WAL records
//! neither.
#![warn(missing_docs)]

mod ack;
pub mod client;
pub mod config;
pub mod encode;
mod error;
mod manager;
pub mod metadata;
mod metrics;
pub mod position;
mod queue;
pub mod scaling;
mod series_rules;
mod shards;
mod watcher;

pub use config::{parse, parse_str, MetadataConfig, QueueConfig, RemoteWriteConfig};
pub use error::{ConfigError, RemoteError};
pub use manager::{ManagerOptions, RemoteWriteManager};
pub use metadata::MetadataSource;
pub use metrics::DropReason;
pub use position::Position;
pub use queue::QueueStatus;
