//! The peer API on `--cluster.listen-address`, and the alert manager's replication.
//!
//! Routes (JSON unless noted):
//! - `GET /cluster/v1/state`: this replica's identity, silences and notification log;
//! - `POST /cluster/v1/events`: a peer pushes `{nodeId, events}` (silence changes, log
//!   entries, "sending" announcements);
//! - `POST /api/v1/read`: Prometheus remote read (snappy protobuf), served as soon as
//!   storage is open, ready or not, so that two replicas restarting together can heal
//!   each other.
//!
//! Every change is pushed to every peer at once (per-peer queues, a few retries), and
//! every `--cluster.pushpull-interval` each replica pulls every peer's full state and
//! merges it (latest wins per key): what a push lost, the next pull brings. The pull also
//! tells which peers are alive, which sets this replica's position.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use argus_alertmanager::manager::{ClusterStatus, PeerEvent, PeerStatus};
use argus_alertmanager::nflog::NflogEntry;
use argus_alertmanager::silences::StoredSilence;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use prometheus::{IntCounterVec, IntGauge, Opts};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use super::peers::{position, Member};
use super::Cluster;
use crate::app::App;

/// Events queued per peer before new ones are dropped (the next pull repairs the loss).
const PEER_QUEUE: usize = 1024;
/// Delays before the retries of a push. Short: a push that fails for longer is left to
/// the next pull, and must not hold back newer events (a log entry that arrives after
/// the peer's wait is a duplicate notification).
const PUSH_RETRIES: [Duration; 3] = [
    Duration::from_millis(100),
    Duration::from_millis(300),
    Duration::from_millis(700),
];

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StateDoc {
    node_id: String,
    name: String,
    silences: Vec<StoredSilence>,
    nflog: Vec<NflogEntry>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventsDoc {
    node_id: String,
    events: Vec<PeerEvent>,
}

#[derive(Clone)]
struct Api {
    cluster: Arc<Cluster>,
    app: Arc<App>,
}

/// The peer API.
pub fn router(cluster: Arc<Cluster>, app: Arc<App>) -> Router {
    let mut api = crate::http::api_state(&app);
    // Peers read while this replica is still healing its own gaps (not ready yet).
    api.ready = None;
    let limit = api.remote_read.concurrency_limit;
    let read = Router::new()
        .route("/api/v1/read", post(argus_query::api::remote_read::read))
        .with_state(argus_query::api::remote_read::ReadState {
            api,
            gate: (limit > 0).then(|| Arc::new(tokio::sync::Semaphore::new(limit))),
        });
    Router::new()
        .route("/cluster/v1/state", get(get_state))
        .route("/cluster/v1/events", post(post_events))
        .with_state(Api { cluster, app })
        .merge(read)
}

async fn get_state(State(s): State<Api>) -> Response {
    let (silences, nflog) = s.app.am.peer_state();
    Json(StateDoc {
        node_id: s.cluster.node_id.clone(),
        name: s.cluster.name.clone(),
        silences,
        nflog,
    })
    .into_response()
}

async fn post_events(State(s): State<Api>, Json(doc): Json<EventsDoc>) -> Response {
    if doc.node_id == s.cluster.node_id {
        return StatusCode::NO_CONTENT.into_response();
    }
    let n = doc.events.len();
    let changed = s.app.am.receive_peer_events(doc.events);
    tracing::debug!(from = %doc.node_id, events = n, changed, "Received peer events.");
    StatusCode::NO_CONTENT.into_response()
}

struct Metrics {
    peers: IntGauge,
    position: IntGauge,
    messages: IntCounterVec,
}

impl Metrics {
    fn new(r: &prometheus::Registry) -> Option<Metrics> {
        let m = Metrics {
            peers: IntGauge::new(
                "argus_cluster_members",
                "Cluster members this replica hears from, itself included.",
            )
            .ok()?,
            position: IntGauge::new(
                "argus_cluster_position",
                "This replica's position; notifications wait position x peer timeout.",
            )
            .ok()?,
            messages: IntCounterVec::new(
                Opts::new(
                    "argus_cluster_messages_total",
                    "Peer messages by kind (push, pull) and result (ok, retried, failed, dropped).",
                ),
                &["kind", "result"],
            )
            .ok()?,
        };
        for c in [
            Box::new(m.peers.clone()) as Box<dyn prometheus::core::Collector>,
            Box::new(m.position.clone()),
            Box::new(m.messages.clone()),
        ] {
            if let Err(e) = r.register(c) {
                tracing::warn!(error = %e, "Cluster metrics not registered.");
            }
        }
        Some(m)
    }
}

/// Connects the alert manager to the peers, exchanges state once with every peer, then
/// keeps pushing changes and pulling state in the background.
pub async fn start(cluster: Arc<Cluster>, app: Arc<App>) {
    let client = match reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(1))
        .timeout(Duration::from_secs(5))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "Cluster HTTP client not created; replication is off.");
            return;
        }
    };
    let metrics = Arc::new(Metrics::new(&app.registry));
    let (tx, rx) = mpsc::unbounded_channel();
    app.am.set_peer_sink(tx);
    tokio::spawn(fan_out(
        cluster.clone(),
        client.clone(),
        rx,
        metrics.clone(),
    ));
    // Settling (Alertmanager's settle wait): nothing is sent until every peer has been
    // heard from, or for at most one peer timeout, so a restarted replica first learns
    // what its peers notified meanwhile.
    app.am.set_settled(false);
    let settle_deadline = tokio::time::Instant::now() + cluster.settle_timeout();
    let settled = Arc::new(AtomicBool::new(false));
    publish_status(&cluster, &app, &metrics, false);
    exchange_all(&cluster, &app, &client, &metrics).await;
    let now_settled = check_settled(&settled, settle_deadline, &cluster, &app);
    publish_status(&cluster, &app, &metrics, now_settled);
    let stop = app.shutdown.clone();
    tokio::spawn(async move {
        loop {
            let pause = if settled.load(Ordering::SeqCst) {
                cluster.pushpull()
            } else {
                cluster.pushpull().min(Duration::from_millis(200))
            };
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = stop.cancelled() => return,
            }
            exchange_all(&cluster, &app, &client, &metrics).await;
            let s = check_settled(&settled, settle_deadline, &cluster, &app);
            publish_status(&cluster, &app, &metrics, s);
        }
    });
}

/// Ends settling once every peer answered or the deadline passed; returns whether settled.
fn check_settled(
    settled: &AtomicBool,
    deadline: tokio::time::Instant,
    cluster: &Cluster,
    app: &App,
) -> bool {
    if settled.load(Ordering::SeqCst) {
        return true;
    }
    let all = cluster.peers.all_answered();
    if all || tokio::time::Instant::now() >= deadline {
        if !all {
            tracing::warn!(
                "Cluster settle timeout: not every peer answered; notifying without them."
            );
        }
        settled.store(true, Ordering::SeqCst);
        app.am.set_settled(true);
    }
    settled.load(Ordering::SeqCst)
}

/// Pulls every peer's state and merges it.
async fn exchange_all(
    cluster: &Arc<Cluster>,
    app: &Arc<App>,
    client: &reqwest::Client,
    metrics: &Option<Metrics>,
) {
    let pulls = cluster.peers.others().into_iter().map(|(addr, base)| {
        let client = client.clone();
        async move {
            let r = async {
                let resp = client
                    .get(format!("{base}/cluster/v1/state"))
                    .send()
                    .await?
                    .error_for_status()?;
                resp.json::<StateDoc>().await
            }
            .await;
            (addr, r)
        }
    });
    for (addr, r) in join_all(pulls).await {
        let result = match r {
            Ok(doc) => {
                let member = Member {
                    node_id: doc.node_id,
                    name: doc.name,
                };
                if cluster.peers.ok(&addr, member, &cluster.node_id) {
                    let n = app.am.merge_peer_state(doc.silences, doc.nflog);
                    if n > 0 {
                        tracing::debug!(peer = %addr, changed = n, "Merged peer state.");
                    }
                }
                "ok"
            }
            Err(e) => {
                let n = cluster.peers.failed(&addr);
                if n == 1 {
                    tracing::warn!(peer = %addr, error = %e, "Cannot reach cluster peer.");
                }
                "failed"
            }
        };
        if let Some(m) = metrics {
            m.messages.with_label_values(&["pull", result]).inc();
        }
    }
}

/// Runs the futures concurrently and collects their outputs (panicked ones are left out).
async fn join_all<F>(fs: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = fs.map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        if let Ok(v) = h.await {
            out.push(v);
        }
    }
    out
}

fn publish_status(cluster: &Cluster, app: &App, metrics: &Option<Metrics>, settled: bool) {
    let alive = cluster.peers.alive(cluster.pushpull() * 3);
    let me = Member {
        node_id: cluster.node_id.clone(),
        name: cluster.name.clone(),
    };
    let others: Vec<Member> = alive.iter().map(|(m, _)| m.clone()).collect();
    let pos = position(&me, &others);
    app.am.set_peer_position(pos);
    let mut peers = vec![PeerStatus {
        name: cluster.name.clone(),
        address: cluster.listen.map(|a| a.to_string()).unwrap_or_default(),
    }];
    peers.extend(alive.into_iter().map(|(m, a)| PeerStatus {
        name: m.name,
        address: a,
    }));
    if let Some(m) = metrics {
        m.peers.set(i64::try_from(peers.len()).unwrap_or(i64::MAX));
        m.position.set(i64::from(pos));
    }
    app.am.set_cluster_status(ClusterStatus {
        name: cluster.name.clone(),
        status: if settled { "ready" } else { "settling" }.into(),
        peers,
    });
}

/// Hands every event to a queue per peer.
async fn fan_out(
    cluster: Arc<Cluster>,
    client: reqwest::Client,
    mut rx: mpsc::UnboundedReceiver<PeerEvent>,
    metrics: Arc<Option<Metrics>>,
) {
    let mut queues: HashMap<String, mpsc::Sender<Vec<PeerEvent>>> = HashMap::new();
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < 500 {
            match rx.try_recv() {
                Ok(e) => batch.push(e),
                Err(_) => break,
            }
        }
        for (addr, base) in cluster.peers.others() {
            let q = queues.entry(addr.clone()).or_insert_with(|| {
                let (qtx, qrx) = mpsc::channel(PEER_QUEUE);
                tokio::spawn(push_worker(
                    cluster.node_id.clone(),
                    addr.clone(),
                    base,
                    client.clone(),
                    qrx,
                    metrics.clone(),
                ));
                qtx
            });
            if q.try_send(batch.clone()).is_err() {
                if let Some(m) = &*metrics {
                    m.messages.with_label_values(&["push", "dropped"]).inc();
                }
            }
        }
    }
}

/// Pushes one peer's queue in order, retrying each batch a few times.
async fn push_worker(
    node_id: String,
    addr: String,
    base: String,
    client: reqwest::Client,
    mut rx: mpsc::Receiver<Vec<PeerEvent>>,
    metrics: Arc<Option<Metrics>>,
) {
    let url = format!("{base}/cluster/v1/events");
    let mut failing = false;
    while let Some(mut events) = rx.recv().await {
        while events.len() < 2000 {
            match rx.try_recv() {
                Ok(more) => events.extend(more),
                Err(_) => break,
            }
        }
        let mut doc = EventsDoc {
            node_id: node_id.clone(),
            events,
        };
        let mut result = "failed";
        for (i, delay) in std::iter::once(Duration::ZERO)
            .chain(PUSH_RETRIES)
            .enumerate()
        {
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
                // Whatever arrived meanwhile goes with the retry, not after it.
                while let Ok(more) = rx.try_recv() {
                    doc.events.extend(more);
                }
            }
            let r = client.post(&url).json(&doc).send().await;
            match r.and_then(|r| r.error_for_status()) {
                Ok(_) => {
                    result = if i == 0 { "ok" } else { "retried" };
                    break;
                }
                Err(e) => {
                    if !failing {
                        tracing::warn!(peer = %addr, error = %e, "Pushing to cluster peer failed; retrying.");
                        failing = true;
                    }
                }
            }
        }
        if result != "failed" && failing {
            tracing::info!(peer = %addr, "Pushing to cluster peer works again.");
            failing = false;
        }
        if let Some(m) = &*metrics {
            m.messages.with_label_values(&["push", result]).inc();
        }
    }
}
