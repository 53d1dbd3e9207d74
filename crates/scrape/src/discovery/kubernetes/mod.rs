//! `kubernetes_sd_configs`: targets from the Kubernetes API, kept in sync by list and
//! watch, with the `__meta_kubernetes_*` labels of Prometheus' Kubernetes discovery.
//!
//! Each config gets its own client and one watch per object kind and namespace the role
//! needs (pods, services and endpoints for `role: endpoints`, nodes for
//! `attach_metadata.node`, ...). kube-runtime's watcher lists (with `resourceVersion`),
//! then watches from the list's version; it re-lists when the version has expired
//! (410 Gone) and backs off exponentially (0.8 s to 30 s) after failures. Failed calls
//! are logged and the last known objects, hence targets, are kept.
//!
//! Nothing is sent until every watch has listed once; then the full set of groups goes
//! out, followed by the groups that changed. A deleted object sends an empty group for
//! its source, so its targets go away. Every [`RESYNC`] the groups are rebuilt from the
//! local copy and any difference from what was sent goes out too.

mod client;
mod endpoints;
mod endpointslice;
mod ingress;
mod labels;
mod node;
mod pod;
mod service;
mod store;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use futures::stream::{BoxStream, SelectAll};
use futures::{FutureExt, StreamExt};
use k8s_openapi::api::core::v1::{Endpoints, Namespace, Node, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::Ingress;
use kube::runtime::watcher::{self, Event};
use kube::runtime::WatchStreamExt;
use kube::Api;
use serde::de::DeserializeOwned;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::{debug, error, info, warn};

pub use client::{ClientError, SERVICE_ACCOUNT_DIR};

use super::{Discoverer, DiscoveryFuture, LabelSet, TargetGroup};
use crate::config::{KubernetesRole, KubernetesSdConfig};
use client::InCluster;
use store::{Cache, Key, Kind, Obj};

/// How often the groups are rebuilt from the local copy of the objects.
pub const RESYNC: Duration = Duration::from_secs(10 * 60);

/// Longest wait between attempts to build the client (in-cluster files missing, ...).
const MAX_CLIENT_BACKOFF: Duration = Duration::from_secs(5 * 60);

/// Events handled before the changed groups are sent, so a burst becomes one update.
const MAX_BATCH: usize = 1000;

/// What the roles attach besides their own labels.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Options {
    pub attach_node: bool,
    pub attach_namespace: bool,
}

impl Options {
    fn add_namespace_metadata(&self, ls: &mut LabelSet, ns: &str, cache: &Cache) {
        if self.attach_namespace {
            if let Some(n) = cache.namespace("", ns) {
                labels::add_namespace_metadata(ls, n);
            }
        }
    }
}

/// Discovers the targets of one `kubernetes_sd_configs` entry.
pub struct KubernetesDiscoverer {
    cfg: KubernetesSdConfig,
    cluster: InCluster,
}

impl KubernetesDiscoverer {
    /// A discoverer for `cfg` (in-cluster settings come from the environment).
    pub fn new(cfg: &KubernetesSdConfig) -> Self {
        KubernetesDiscoverer {
            cfg: cfg.clone(),
            cluster: InCluster::from_env(),
        }
    }

    /// Uses `host:port` and the service-account files in `dir` as the in-cluster
    /// configuration instead of `KUBERNETES_SERVICE_HOST`/`PORT` and
    /// [`SERVICE_ACCOUNT_DIR`] (for tests).
    #[doc(hidden)]
    pub fn with_service_account(mut self, host: &str, port: u16, dir: PathBuf) -> Self {
        self.cluster = InCluster {
            host: Some(host.to_owned()),
            port: Some(port.to_string()),
            dir,
        };
        self
    }
}

/// One list+watch: an object kind in a namespace (`None`: all, or cluster-scoped).
#[derive(Debug, Clone)]
struct WatchSpec {
    kind: Kind,
    namespace: Option<String>,
}

#[derive(Debug, Default)]
struct WatchState {
    /// Objects of a list in progress.
    listing: Option<Vec<Obj>>,
    /// Listed at least once.
    synced: bool,
}

fn primary_kind(role: KubernetesRole) -> Kind {
    match role {
        KubernetesRole::Node => Kind::Node,
        KubernetesRole::Pod => Kind::Pod,
        KubernetesRole::Service => Kind::Service,
        KubernetesRole::Endpoints => Kind::Endpoints,
        KubernetesRole::EndpointSlice => Kind::EndpointSlice,
        KubernetesRole::Ingress => Kind::Ingress,
    }
}

fn selector_role(kind: Kind) -> Option<KubernetesRole> {
    Some(match kind {
        Kind::Node => KubernetesRole::Node,
        Kind::Pod => KubernetesRole::Pod,
        Kind::Service => KubernetesRole::Service,
        Kind::Endpoints => KubernetesRole::Endpoints,
        Kind::EndpointSlice => KubernetesRole::EndpointSlice,
        Kind::Ingress => KubernetesRole::Ingress,
        Kind::Namespace => return None,
    })
}

/// The namespaces to watch: `None` alone means all of them.
fn namespaces(cfg: &KubernetesSdConfig, own: Option<&str>) -> Vec<Option<String>> {
    let mut names: Vec<String> = cfg.namespaces.names.clone();
    if cfg.namespaces.own_namespace {
        if let Some(o) = own {
            names.push(o.to_owned());
        }
    }
    names.sort();
    names.dedup();
    if names.is_empty() && !cfg.namespaces.own_namespace {
        return vec![None];
    }
    names.into_iter().map(Some).collect()
}

fn watch_specs(cfg: &KubernetesSdConfig, namespaces: &[Option<String>]) -> Vec<WatchSpec> {
    let role = cfg.role();
    let namespaced: &[Kind] = match role {
        KubernetesRole::Node => &[],
        KubernetesRole::Pod => &[Kind::Pod],
        KubernetesRole::Service => &[Kind::Service],
        KubernetesRole::Endpoints => &[Kind::Endpoints, Kind::Service, Kind::Pod],
        KubernetesRole::EndpointSlice => &[Kind::EndpointSlice, Kind::Service, Kind::Pod],
        KubernetesRole::Ingress => &[Kind::Ingress],
    };
    let mut out = Vec::new();
    for kind in namespaced {
        for ns in namespaces {
            out.push(WatchSpec {
                kind: *kind,
                namespace: ns.clone(),
            });
        }
    }
    let node_metadata = cfg.attach_metadata.node
        && matches!(
            role,
            KubernetesRole::Pod | KubernetesRole::Endpoints | KubernetesRole::EndpointSlice
        );
    if role == KubernetesRole::Node || node_metadata {
        out.push(WatchSpec {
            kind: Kind::Node,
            namespace: None,
        });
    }
    if cfg.attach_metadata.namespace && role != KubernetesRole::Node {
        out.push(WatchSpec {
            kind: Kind::Namespace,
            namespace: None,
        });
    }
    out
}

type WatchItem = (usize, Result<Event<Obj>, watcher::Error>);

fn typed_stream<K>(
    api: Api<K>,
    wc: watcher::Config,
    wrap: fn(K) -> Obj,
) -> BoxStream<'static, Result<Event<Obj>, watcher::Error>>
where
    K: kube::Resource + Clone + DeserializeOwned + std::fmt::Debug + Send + 'static,
{
    watcher::watcher(api, wc)
        .default_backoff()
        .map(move |r| {
            r.map(|e| match e {
                Event::Apply(o) => Event::Apply(wrap(o)),
                Event::Delete(o) => Event::Delete(wrap(o)),
                Event::Init => Event::Init,
                Event::InitApply(o) => Event::InitApply(wrap(o)),
                Event::InitDone => Event::InitDone,
            })
        })
        .boxed()
}

fn api<K>(client: &kube::Client, ns: Option<&str>) -> Api<K>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope>,
    <K as kube::Resource>::DynamicType: Default,
{
    match ns {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    }
}

fn open(
    client: &kube::Client,
    spec: &WatchSpec,
    cfg: &KubernetesSdConfig,
) -> BoxStream<'static, Result<Event<Obj>, watcher::Error>> {
    let mut wc = watcher::Config::default();
    if let Some(sel) = selector_role(spec.kind).and_then(|r| cfg.selector(r)) {
        if let Some(l) = sel.label.as_deref().filter(|l| !l.is_empty()) {
            wc = wc.labels(l);
        }
        if let Some(f) = sel.field.as_deref().filter(|f| !f.is_empty()) {
            wc = wc.fields(f);
        }
    }
    let ns = spec.namespace.as_deref();
    match spec.kind {
        Kind::Node => typed_stream(Api::<Node>::all(client.clone()), wc, |o| {
            Obj::Node(Box::new(o))
        }),
        Kind::Namespace => typed_stream(Api::<Namespace>::all(client.clone()), wc, |o| {
            Obj::Namespace(Box::new(o))
        }),
        Kind::Pod => typed_stream(api::<Pod>(client, ns), wc, |o| Obj::Pod(Box::new(o))),
        Kind::Service => typed_stream(api::<Service>(client, ns), wc, |o| {
            Obj::Service(Box::new(o))
        }),
        Kind::Endpoints => typed_stream(api::<Endpoints>(client, ns), wc, |o| {
            Obj::Endpoints(Box::new(o))
        }),
        Kind::EndpointSlice => typed_stream(api::<EndpointSlice>(client, ns), wc, |o| {
            Obj::EndpointSlice(Box::new(o))
        }),
        Kind::Ingress => typed_stream(api::<Ingress>(client, ns), wc, |o| {
            Obj::Ingress(Box::new(o))
        }),
    }
}

/// The group of the primary object at `key`: empty when it is gone.
fn build(role: KubernetesRole, key: &Key, cache: &Cache, opts: &Options) -> TargetGroup {
    let (ns, name) = (key.0.as_str(), key.1.as_str());
    let gone = |source: String| TargetGroup {
        source,
        ..TargetGroup::default()
    };
    match role {
        KubernetesRole::Node => cache
            .node("", name)
            .map(node::build)
            .unwrap_or_else(|| gone(node::source(name))),
        KubernetesRole::Pod => cache
            .pod(ns, name)
            .map(|o| pod::build(o, cache, opts))
            .unwrap_or_else(|| gone(pod::source(ns, name))),
        KubernetesRole::Service => cache
            .service(ns, name)
            .map(|o| service::build(o, cache, opts))
            .unwrap_or_else(|| gone(service::source(ns, name))),
        KubernetesRole::Endpoints => cache
            .endpoints(ns, name)
            .map(|o| endpoints::build(o, cache, opts))
            .unwrap_or_else(|| gone(endpoints::source(ns, name))),
        KubernetesRole::EndpointSlice => cache
            .endpoint_slice(ns, name)
            .map(|o| endpointslice::build(o, cache, opts))
            .unwrap_or_else(|| gone(endpointslice::source(ns, name))),
        KubernetesRole::Ingress => cache
            .ingress(ns, name)
            .map(|o| ingress::build(o, cache, opts))
            .unwrap_or_else(|| gone(ingress::source(ns, name))),
    }
}

/// The discovery state of one config: the local copy and what was sent.
struct Sync {
    role: KubernetesRole,
    opts: Options,
    specs: Vec<WatchSpec>,
    states: Vec<WatchState>,
    cache: Cache,
    /// The last group sent per primary object.
    sent: BTreeMap<Key, TargetGroup>,
    initial_sent: bool,
}

impl Sync {
    fn handle(
        &mut self,
        i: usize,
        ev: Result<Event<Obj>, watcher::Error>,
        changed: &mut BTreeSet<(Kind, Key)>,
    ) {
        let (Some(spec), Some(state)) = (self.specs.get(i), self.states.get_mut(i)) else {
            return;
        };
        let kind = spec.kind;
        match ev {
            Ok(Event::Init) => state.listing = Some(Vec::new()),
            Ok(Event::InitApply(o)) => match state.listing.as_mut() {
                Some(l) => l.push(o),
                None => {
                    changed.insert((kind, self.cache.apply(o)));
                }
            },
            Ok(Event::InitDone) => {
                let fresh = state.listing.take().unwrap_or_default();
                debug!(role = %self.role, kind = kind.as_str(), namespace = ?spec.namespace, objects = fresh.len(), "Kubernetes objects listed.");
                for k in self.cache.replace(kind, spec.namespace.as_deref(), fresh) {
                    changed.insert((kind, k));
                }
                state.synced = true;
            }
            Ok(Event::Apply(o)) => {
                changed.insert((kind, self.cache.apply(o)));
            }
            Ok(Event::Delete(o)) => {
                changed.insert((kind, self.cache.delete(&o)));
            }
            Err(e) => {
                warn!(role = %self.role, kind = kind.as_str(), namespace = ?spec.namespace, error = %e, "Kubernetes list or watch failed; keeping the last known targets.");
            }
        }
    }

    fn synced(&self) -> bool {
        self.states.iter().all(|s| s.synced)
    }

    /// Primary objects whose group may depend on the changed objects.
    fn affected(&self, changed: &BTreeSet<(Kind, Key)>) -> BTreeSet<Key> {
        let primary = primary_kind(self.role);
        let mut out = BTreeSet::new();
        let mut all_in: BTreeSet<&str> = BTreeSet::new();
        let mut all = false;
        for (kind, key) in changed {
            if *kind == primary {
                out.insert(key.clone());
            } else if *kind == Kind::Node {
                all = true;
            } else if *kind == Kind::Namespace {
                all_in.insert(key.1.as_str());
            } else {
                all_in.insert(key.0.as_str());
            }
        }
        if all || !all_in.is_empty() {
            let keys = self
                .cache
                .keys(primary)
                .into_iter()
                .chain(self.sent.keys().cloned());
            out.extend(keys.filter(|k| all || all_in.contains(k.0.as_str())));
        }
        out
    }

    /// The groups that differ from what was sent (all of them at first).
    fn updates(&mut self, keys: BTreeSet<Key>) -> Vec<TargetGroup> {
        let first = !self.initial_sent;
        self.initial_sent = true;
        let mut out = Vec::new();
        for key in keys {
            let g = build(self.role, &key, &self.cache, &self.opts);
            let gone = g.targets.is_empty() && g.labels.is_empty();
            let differs = self.sent.get(&key) != Some(&g);
            if gone {
                if self.sent.remove(&key).is_some() || first {
                    out.push(g);
                }
            } else if differs || first {
                self.sent.insert(key, g.clone());
                out.push(g);
            }
        }
        out
    }

    fn all_keys(&self) -> BTreeSet<Key> {
        let primary = primary_kind(self.role);
        self.cache
            .keys(primary)
            .into_iter()
            .chain(self.sent.keys().cloned())
            .collect()
    }
}

async fn connect_with_backoff(
    cfg: &KubernetesSdConfig,
    cluster: &InCluster,
    cancel: &CancellationToken,
) -> Option<client::Connection> {
    let mut wait = Duration::from_secs(1);
    loop {
        match client::connect(cfg, cluster).await {
            Ok(c) => return Some(c),
            Err(e) => {
                error!(role = %cfg.role(), error = %e, retry_in = ?wait, "Kubernetes client could not be created.");
            }
        }
        tokio::select! {
            _ = cancel.cancelled() => return None,
            _ = tokio::time::sleep(wait) => {}
        }
        wait = (wait * 2).min(MAX_CLIENT_BACKOFF);
    }
}

impl Discoverer for KubernetesDiscoverer {
    fn run(
        self: Box<Self>,
        cancel: CancellationToken,
        tx: mpsc::Sender<Vec<TargetGroup>>,
    ) -> DiscoveryFuture {
        Box::pin(async move {
            let cfg = self.cfg;
            let Some(conn) = connect_with_backoff(&cfg, &self.cluster, &cancel).await else {
                return;
            };
            let role = cfg.role();
            let namespaces = namespaces(&cfg, conn.own_namespace.as_deref());
            let specs = watch_specs(&cfg, &namespaces);
            info!(role = %role, namespaces = ?namespaces, watches = specs.len(), "Starting Kubernetes discovery.");
            let mut streams: SelectAll<BoxStream<'static, WatchItem>> = SelectAll::new();
            for (i, s) in specs.iter().enumerate() {
                streams.push(open(&conn.client, s, &cfg).map(move |e| (i, e)).boxed());
            }
            let mut sync = Sync {
                role,
                opts: Options {
                    attach_node: cfg.attach_metadata.node,
                    attach_namespace: cfg.attach_metadata.namespace,
                },
                states: specs.iter().map(|_| WatchState::default()).collect(),
                specs,
                cache: Cache::default(),
                sent: BTreeMap::new(),
                initial_sent: false,
            };
            let mut resync = tokio::time::interval_at(tokio::time::Instant::now() + RESYNC, RESYNC);
            loop {
                let mut changed = BTreeSet::new();
                let mut full = false;
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = resync.tick() => full = true,
                    item = streams.next() => match item {
                        Some((i, ev)) => sync.handle(i, ev, &mut changed),
                        None => return,
                    },
                }
                for _ in 0..MAX_BATCH {
                    match streams.next().now_or_never() {
                        Some(Some((i, ev))) => sync.handle(i, ev, &mut changed),
                        _ => break,
                    }
                }
                if !sync.synced() {
                    continue;
                }
                let keys = if full || !sync.initial_sent {
                    sync.all_keys()
                } else {
                    sync.affected(&changed)
                };
                let first = !sync.initial_sent;
                let update = sync.updates(keys);
                if update.is_empty() && !first {
                    continue;
                }
                debug!(role = %role, groups = update.len(), "Sending Kubernetes target groups.");
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    r = tx.send(update) => if r.is_err() { return },
                }
            }
        })
    }
}

#[cfg(test)]
mod tests;
