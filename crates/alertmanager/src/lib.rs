//! Argus' built-in alert manager: Alertmanager's configuration format, routing tree,
//! aggregation groups and timers, inhibition, silences, notification log, webhook and email
//! receivers, and the Alertmanager API v2, with the same semantics so that `amtool`,
//! Grafana and Prometheus' alert sender work against it unchanged.

pub mod api;
pub mod check;
pub mod clock;
pub mod config;
pub mod dispatch;
pub mod inhibit;
pub mod manager;
pub mod matchers;
pub mod metrics;
pub mod nflog;
pub mod notify;
pub mod persist;
pub mod receivers;
pub mod route;
pub mod silences;
pub mod store;
pub mod templates;
pub mod timefmt;
pub mod types;

pub use api::router;
pub use check::{check_config, CheckError, Report};
pub use clock::{Clock, ManualClock, SharedClock, SystemClock};
pub use config::{Config, ConfigError};
pub use manager::{AlertManager, Error, Options, PostableAlert};
