//! The manager's mutable state and its on-disk form.
//!
//! Files in the data directory (see `persist` for the format):
//! - `silences.json`: all silences, written before a silence change is acknowledged;
//! - `notifications.json`: notification log, outbox and history, written whenever a
//!   notification is enqueued or its delivery finishes, i.e. before any send and after
//!   every outcome;
//! - `alerts.json`: the alert store and the aggregation groups' timers, written at the end
//!   of every dispatch round that changed them (at most one poll interval after an alert
//!   arrives; senders re-send alerts, so this window loses nothing that matters).

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use argus_model::Labels;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::time_interval::{self, TimeInterval};
use crate::config::Config;
use crate::dispatch::{Dispatcher, GroupTimer};
use crate::inhibit::Inhibitor;
use crate::nflog::{NflogEntry, NotificationLog};
use crate::notify::history::{History, HistoryRecord};
use crate::notify::outbox::{Outbox, OutboxState};
use crate::persist::{self, PersistError};
use crate::receivers::Integrations;
use crate::route::RouteTree;
use crate::silences::{Silences, StoredSilence};
use crate::store::AlertStore;
use crate::templates::Templates;
use crate::types::Alert;

pub(crate) const SILENCES_FILE: &str = "silences.json";
pub(crate) const NOTIFY_FILE: &str = "notifications.json";
pub(crate) const ALERTS_FILE: &str = "alerts.json";

/// Everything derived from a config.
#[derive(Clone)]
pub(crate) struct Compiled {
    pub config: Arc<Config>,
    pub routes: Arc<RouteTree>,
    pub inhibitor: Inhibitor,
    pub intervals: HashMap<String, Vec<TimeInterval>>,
    pub templates: Arc<Templates>,
    pub integrations: Arc<Integrations>,
}

impl Compiled {
    pub fn new(config: Config) -> Result<Compiled, String> {
        let route = config
            .route
            .as_ref()
            .ok_or_else(|| "no routes provided".to_owned())?;
        let routes = RouteTree::new(route)?;
        let inhibitor = Inhibitor::new(&config.inhibit_rules)?;
        let mut intervals = HashMap::new();
        for ti in config.all_time_intervals() {
            intervals.insert(ti.name.clone(), time_interval::compile(ti)?);
        }
        let templates = Templates::load(&config.templates).map_err(|e| e.to_string())?;
        let integrations = Integrations::new(&config)?;
        Ok(Compiled {
            config: Arc::new(config),
            routes: Arc::new(routes),
            inhibitor,
            intervals,
            templates: Arc::new(templates),
            integrations: Arc::new(integrations),
        })
    }
}

pub(crate) struct State {
    pub c: Compiled,
    pub alerts: AlertStore,
    pub dispatcher: Dispatcher,
    pub silences: Silences,
    pub nflog: NotificationLog,
    pub outbox: Outbox,
    pub history: History,
    pub alerts_dirty: bool,
    pub last_gc: DateTime<Utc>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StoredAlert {
    labels: Labels,
    annotations: std::collections::BTreeMap<String, String>,
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    generator_url: String,
    updated_at: DateTime<Utc>,
    timeout: bool,
}

impl From<&Alert> for StoredAlert {
    fn from(a: &Alert) -> Self {
        StoredAlert {
            labels: a.labels.clone(),
            annotations: a.annotations.clone(),
            starts_at: a.starts_at,
            ends_at: a.ends_at,
            generator_url: a.generator_url.clone(),
            updated_at: a.updated_at,
            timeout: a.timeout,
        }
    }
}

impl From<StoredAlert> for Alert {
    fn from(a: StoredAlert) -> Self {
        Alert {
            labels: a.labels,
            annotations: a.annotations,
            starts_at: a.starts_at,
            ends_at: a.ends_at,
            generator_url: a.generator_url,
            updated_at: a.updated_at,
            timeout: a.timeout,
        }
    }
}

#[derive(Serialize, Deserialize, Default)]
pub(crate) struct AlertsFile {
    pub alerts: Vec<StoredAlert>,
    pub groups: Vec<GroupTimer>,
}

#[derive(Serialize, Deserialize, Default)]
pub(crate) struct NotifyFile {
    pub nflog: Vec<NflogEntry>,
    pub outbox: OutboxState,
    pub history: Vec<HistoryRecord>,
}

/// What `load` found on disk.
pub(crate) struct Loaded {
    pub silences: Vec<StoredSilence>,
    pub notify: NotifyFile,
    pub alerts: AlertsFile,
    pub problems: Vec<PersistError>,
}

/// Reads the state files. A corrupt file is moved aside and reported (the manager starts
/// without that part of the state rather than refusing to start).
pub(crate) fn load(dir: &Path) -> Result<Loaded, PersistError> {
    fn take<T>(
        r: Result<Option<T>, PersistError>,
        problems: &mut Vec<PersistError>,
    ) -> Result<Option<T>, PersistError> {
        match r {
            Ok(v) => Ok(v),
            Err(e @ PersistError::Corrupt { .. }) => {
                problems.push(e);
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }
    let mut problems = Vec::new();
    let silences: Vec<StoredSilence> =
        take(persist::read(&dir.join(SILENCES_FILE)), &mut problems)?.unwrap_or_default();
    let notify: NotifyFile =
        take(persist::read(&dir.join(NOTIFY_FILE)), &mut problems)?.unwrap_or_default();
    let alerts: AlertsFile =
        take(persist::read(&dir.join(ALERTS_FILE)), &mut problems)?.unwrap_or_default();
    Ok(Loaded {
        silences,
        notify,
        alerts,
        problems,
    })
}

impl State {
    pub fn write_silences(&self, dir: &Path) -> Result<usize, PersistError> {
        let v: Vec<StoredSilence> = self.silences.snapshot().iter().map(Into::into).collect();
        persist::write_atomic(&dir.join(SILENCES_FILE), &v)
    }

    pub fn write_notify(&self, dir: &Path) -> Result<usize, PersistError> {
        let f = NotifyFile {
            nflog: self.nflog.snapshot(),
            outbox: self.outbox.state(),
            history: self.history.snapshot(),
        };
        persist::write_atomic(&dir.join(NOTIFY_FILE), &f)
    }

    pub fn write_alerts(&self, dir: &Path) -> Result<usize, PersistError> {
        let mut alerts: Vec<StoredAlert> = self.alerts.iter().map(Into::into).collect();
        alerts.sort_by(|a, b| a.labels.cmp(&b.labels));
        let f = AlertsFile {
            alerts,
            groups: self.dispatcher.timers(),
        };
        persist::write_atomic(&dir.join(ALERTS_FILE), &f)
    }

    /// Rebuilds inhibitor sources and aggregation groups from the alert store (after a
    /// restore or a reload), keeping the given group timers.
    pub fn rebuild_groups(&mut self, timers: &[GroupTimer], now: DateTime<Utc>) {
        let mut d = Dispatcher::default();
        let mut alerts: Vec<&Alert> = self.alerts.iter().collect();
        alerts.sort_by(|a, b| a.labels.cmp(&b.labels));
        for a in alerts {
            self.c.inhibitor.observe(a);
            d.insert(&self.c.routes, a, now);
        }
        d.apply_timers(timers);
        self.dispatcher = d;
    }
}
