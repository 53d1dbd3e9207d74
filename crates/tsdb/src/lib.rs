//! Argus' storage engine: a Prometheus-compatible time-series database.
//!
//! Samples are appended to the in-memory [`head`](head) through [`Db`]'s
//! [`argus_model::Appendable`] implementation; every commit is written to the
//! [write-ahead log](wal) before it returns. The head keeps Gorilla XOR
//! [chunks](chunk); once it spans 1.5× the block range its oldest range is persisted as an
//! immutable [block](block) (memory-mapped [index](index) with roaring postings, chunk files),
//! and [compaction](compact) merges blocks into larger ranges. Reads go through
//! [`argus_model::Queryable`]: a querier merges blocks and head and sees exactly the commits
//! that completed before it was created. Retention, tombstones, snapshots and the status API
//! live in [`retention`] and [`admin`].
//!
//! Semantics (what is accepted, what a query returns) follow Prometheus' TSDB so PromQL
//! results match; the file formats are Argus' own and are specified in each module and in
//! `docs/tsdb.md`.
#![warn(missing_docs)]

pub mod admin;
pub mod analyze;
pub mod block;
pub mod chunk;
pub mod chunk_file;
pub mod compact;
pub mod db;
pub mod dump;
pub mod encoding;
pub mod error;
pub mod fs;
pub mod head;
pub mod index;
pub mod metrics;
pub mod options;
pub mod querier;
pub mod retention;
pub mod tombstones;
pub mod ulid;
pub mod wal;

pub use db::Db;
pub use error::TsdbError;
pub use options::{FsyncPolicy, Options, DAY_MS, HOUR_MS};
