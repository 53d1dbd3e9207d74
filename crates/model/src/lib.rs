//! Argus' shared vocabulary: label sets, matchers, samples, metric metadata, the Prometheus
//! API envelope, and the storage seam traits (`Appendable`, `Queryable`, `Querier`,
//! `SeriesSet`, `SampleIterator`, `TsdbAdmin`).
//!
//! Every other crate depends on this one and on nothing else of Argus' to talk to storage, so
//! it is kept small and stable. `memstore` is an in-memory implementation of the traits,
//! used as the reference model in tests.
#![warn(missing_docs)]

pub mod api;
pub mod duration;
pub mod gofloat;
pub mod labels;
pub mod matcher;
pub mod memstore;
pub mod metadata;
pub mod sample;
pub mod storage;

pub use duration::{parse_duration_ms, PromDuration};
pub use labels::{Label, Labels, LabelsBuilder, METRIC_NAME};
pub use matcher::{MatchOp, Matcher, MatcherError};
pub use metadata::{MetricMetadata, MetricType};
pub use sample::{is_stale_nan, now_ms, stale_nan, Sample, STALE_NAN_BITS};
pub use storage::{
    AppendError, Appendable, Appender, LabelHints, Querier, Queryable, SampleIterator, SelectHints,
    Series, SeriesRef, SeriesSet, StorageError, TsdbAdmin, Warnings,
};
