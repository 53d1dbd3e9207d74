//! Recording and alerting rules for Argus, evaluated exactly as Prometheus evaluates them.
//!
//! - [`rulefmt`]: the rule-file format and its validation (promtool's checks and wording).
//! - [`rules`]: recording and alerting rules, groups on aligned intervals, the
//!   [`RuleManager`] that loads files and keeps groups running, `for`-state restore.
//! - [`notifier`]: the [`AlertSender`] seam and the client for external Alertmanagers.
//! - [`check`]: `argus check rules`; [`unittest`]: `argus test rules` (promtool's format).
//! - [`api`]: data for `/api/v1/rules`, `/api/v1/alerts` and `/api/v1/alertmanagers`.
//!
//! Alert templates use [`argus_template`] with Prometheus' function set.

pub mod api;
pub mod check;
pub mod metrics;
pub mod notifier;
pub mod rulefmt;
pub mod rules;
pub mod unittest;

pub use check::{check_rule_files, CheckOptions, CheckReport};
pub use notifier::{AlertSender, FanoutSender, NoopSender, Notifier, NotifierAlert};
pub use rules::manager::{RuleLoadError, RuleManager, RuleManagerOptions};
pub use rules::{Clock, ManualClock, SystemClock};
pub use unittest::{run_rule_tests, UnitTestOptions, UnitTestReport};
