//! The Kubernetes metrics APIs (custom, external, resource) on their own TLS listener,
//! answered from the in-process TSDB and engine.
//!
//! Authentication follows aggregated API servers: front-proxy client certificates checked
//! against the request-header CA (from `--requestheader-client-ca-file`, or in a cluster
//! from `kube-system/extension-apiserver-authentication`), x509 client-certificate users,
//! and bearer tokens reviewed by the cluster's API server (TokenReview) when in a cluster.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use argus_adapter::{AdapterConfig, AdapterOptions, AdapterState, AuthConfig, KubeClient};
use argus_model::Queryable;
use argus_query::Engine;
use tokio_util::sync::CancellationToken;

use crate::cli::ServerArgs;

/// A running adapter: its state (for reloads) and the listener task.
pub struct Adapter {
    pub state: AdapterState,
    pub tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// How often the adapter's rules file is checked for changes (ConfigMap updates).
const CONFIG_POLL: Duration = Duration::from_secs(10);

/// Parses `--adapter.listen-address`; empty means off.
pub fn listen_address(args: &ServerArgs) -> anyhow::Result<Option<SocketAddr>> {
    let a = args.adapter_listen_address.trim();
    if a.is_empty() {
        return Ok(None);
    }
    // Prometheus-style ":6443" means all interfaces.
    let full = if a.starts_with(':') {
        format!("0.0.0.0{a}")
    } else {
        a.to_owned()
    };
    full.parse()
        .map(Some)
        .with_context(|| format!("invalid --adapter.listen-address {a:?}"))
}

async fn auth_config(
    args: &ServerArgs,
    kube: Option<&Arc<KubeClient>>,
) -> anyhow::Result<(AuthConfig, Option<Vec<u8>>)> {
    let mut auth = AuthConfig {
        allowed_names: args.requestheader_allowed_names.clone(),
        username_headers: args.requestheader_username_headers.clone(),
        group_headers: args.requestheader_group_headers.clone(),
        client_cert_users: true,
        allow_anonymous: args.adapter_allow_anonymous,
        token_reviewer: kube.cloned(),
        // In a cluster RBAC decides, also for clients that bypass the aggregator.
        authorizer: kube
            .cloned()
            .map(|k| Arc::new(argus_adapter::authz::Authorizer::new(k))),
    };
    let mut client_ca = match &args.requestheader_client_ca {
        Some(p) => Some(std::fs::read(p).with_context(|| format!("reading {}", p.display()))?),
        None => None,
    };
    if client_ca.is_none() {
        if let Some(k) = kube {
            match k.requestheader_config().await {
                Ok(rh) => {
                    client_ca = rh.client_ca_pem.map(String::into_bytes);
                    if auth.allowed_names.is_empty() {
                        auth.allowed_names = rh.allowed_names;
                    }
                    if !rh.username_headers.is_empty() {
                        auth.username_headers = rh.username_headers;
                    }
                    if !rh.group_headers.is_empty() {
                        auth.group_headers = rh.group_headers;
                    }
                }
                Err(e) => tracing::warn!(
                    error = %e,
                    "Cannot read the front-proxy CA from the cluster; only bearer tokens will authenticate."
                ),
            }
        }
    }
    Ok((auth, client_ca))
}

/// Starts the adapter if it has a listen address.
pub async fn start(
    args: &ServerArgs,
    storage: Arc<dyn Queryable>,
    engine: Engine,
    registry: &prometheus::Registry,
    shutdown: CancellationToken,
) -> anyhow::Result<Option<Adapter>> {
    let Some(addr) = listen_address(args)? else {
        return Ok(None);
    };
    let config = match &args.adapter_config {
        Some(p) => AdapterConfig::load(p).with_context(|| format!("loading {}", p.display()))?,
        None => AdapterConfig::embedded_default().context("embedded adapter config")?,
    };
    let kube = match KubeClient::in_cluster() {
        Ok(k) => k.map(Arc::new),
        Err(e) => {
            tracing::warn!(error = %e, "In-cluster Kubernetes client unavailable.");
            None
        }
    };
    let (auth, client_ca) = auth_config(args, kube.as_ref()).await?;
    let mut tls = argus_adapter::TlsOptions::from_files(
        args.adapter_tls_cert.as_deref(),
        args.adapter_tls_key.as_deref(),
        None,
    )?;
    tls.client_ca_pem = client_ca;
    if tls.cert_pem.is_none() {
        let host = argus_query::api::providers::hostname();
        tls.self_signed_names = ["localhost", "127.0.0.1"]
            .into_iter()
            .map(str::to_owned)
            .chain((!host.is_empty()).then_some(host))
            .collect();
    }
    let options = AdapterOptions {
        config_file: args.adapter_config.clone(),
        ..AdapterOptions::default()
    };
    let state = AdapterState::new(storage, engine, config, options, auth, kube, registry)?;
    let mut tasks = vec![state.spawn_refresher()];
    tasks.extend(argus_adapter::reload::spawn_file_watcher(
        &state,
        CONFIG_POLL,
    ));
    let router = argus_adapter::router(state.clone());
    // Bind now, so a port conflict is a start-up error rather than a log line.
    let cfg = argus_adapter::server_config(&tls)?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("listening on {addr} (--adapter.listen-address)"))?;
    tracing::info!(address = %addr, "Kubernetes metrics APIs listening (TLS).");
    tasks.push(tokio::spawn(async move {
        let stop = shutdown.cancelled_owned();
        if let Err(e) = argus_adapter::serve_tls(listener, cfg, router, stop).await {
            tracing::error!(error = %e, "Kubernetes metrics API listener failed.");
        }
    }));
    Ok(Some(Adapter { state, tasks }))
}
