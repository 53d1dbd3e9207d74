//! Shared fixtures of the HTTP API tests: a MemStorage with known series, providers with
//! known targets, rules and status, and a server on a real loopback port.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use argus_model::memstore::MemStorage;
use argus_model::storage::{HeadStats, NameCount, TsdbStatus};
use argus_model::{
    stale_nan, Labels, Matcher, MetricMetadata, MetricType, StorageError, TsdbAdmin,
};
use argus_query::api::{
    router, ActiveTarget, Alert, AlertingRule, AlertmanagerDiscovery, AlertmanagerTarget,
    AlertmanagersProvider, ApiState, ApiTime, BuildInfo, DroppedTarget, MetadataProvider,
    RecordingRule, Rule, RuleGroup, RuleHealth, RulesProvider, RuntimeInfo, StatusProvider,
    TargetHealth, TargetMetadata, TargetsProvider, TargetsSnapshot, WalReplayStatus,
};
use argus_query::{Engine, EngineOptions};

/// First sample of the fixture data, ms (2023-11-14T22:13:20Z).
pub const T0: i64 = 1_700_000_000_000;
/// The fixed "now" of test servers: 100 s after `T0`.
pub const NOW: i64 = T0 + 100_000;

pub fn labels(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs)
}

/// Series every 15 s from `T0` to `T0 + 120 s` (9 samples).
pub fn fixture_storage() -> MemStorage {
    let s = MemStorage::new();
    let steps: Vec<i64> = (0..=8).map(|i| T0 + i * 15_000).collect();
    let series = |pairs: &[(&str, &str)], f: &dyn Fn(i64) -> f64| {
        let samples: Vec<(i64, f64)> = steps
            .iter()
            .enumerate()
            .map(|(i, &t)| (t, f(i as i64)))
            .collect();
        s.add(&labels(pairs), &samples).unwrap();
    };
    series(
        &[
            ("__name__", "up"),
            ("job", "prometheus"),
            ("instance", "localhost:9090"),
        ],
        &|_| 1.0,
    );
    series(
        &[("__name__", "up"), ("job", "node"), ("instance", "a:9100")],
        &|_| 0.0,
    );
    series(
        &[
            ("__name__", "http_requests_total"),
            ("job", "api"),
            ("code", "200"),
            ("handler", "/api"),
        ],
        &|i| (i * 10) as f64,
    );
    series(
        &[
            ("__name__", "http_requests_total"),
            ("job", "api"),
            ("code", "500"),
            ("handler", "/api"),
        ],
        &|i| i as f64,
    );
    s.add(
        &labels(&[
            ("__name__", "weird"),
            ("path", "<a&b>"),
            ("host.name", "h1"),
        ]),
        &[(T0, 5e-8)],
    )
    .unwrap();
    // A series that went stale: federation and instant queries must not show it.
    s.add(
        &labels(&[("__name__", "gone"), ("job", "x")]),
        &[(T0 + 60_000, 1.0), (T0 + 75_000, stale_nan())],
    )
    .unwrap();
    s
}

pub fn target(pool: &str, instance: &str, health: TargetHealth) -> ActiveTarget {
    ActiveTarget {
        discovered_labels: labels(&[
            ("__address__", instance),
            ("__metrics_path__", "/metrics"),
            ("__scheme__", "http"),
            ("job", pool),
        ]),
        labels: labels(&[("instance", instance), ("job", pool)]),
        scrape_pool: pool.to_owned(),
        scrape_url: format!("http://{instance}/metrics"),
        global_url: format!("http://{instance}/metrics"),
        last_error: String::new(),
        last_scrape: ApiTime::from_ms(T0 + 90_000),
        last_scrape_duration: 0.012,
        health,
        scrape_interval: "15s".to_owned(),
        scrape_timeout: "10s".to_owned(),
    }
}

pub struct Fixtures;

impl TargetsProvider for Fixtures {
    fn targets(&self) -> TargetsSnapshot {
        let mut dropped_counts = BTreeMap::new();
        dropped_counts.insert("node".to_owned(), 3);
        TargetsSnapshot {
            // Deliberately not in pool order: the API sorts by pool.
            active: vec![
                target("prometheus", "localhost:9090", TargetHealth::Up),
                target("node", "a:9100", TargetHealth::Down),
            ],
            dropped: vec![DroppedTarget {
                discovered_labels: labels(&[("__address__", "b:9100"), ("job", "node")]),
                scrape_pool: "node".to_owned(),
            }],
            dropped_counts,
        }
    }

    fn scrape_pools(&self) -> Vec<String> {
        vec!["prometheus".to_owned(), "node".to_owned()]
    }
}

fn md(t: MetricType, help: &str) -> MetricMetadata {
    MetricMetadata {
        metric_type: t,
        help: help.to_owned(),
        unit: String::new(),
    }
}

impl MetadataProvider for Fixtures {
    fn target_metadata(&self) -> Vec<TargetMetadata> {
        let prom = labels(&[("instance", "localhost:9090"), ("job", "prometheus")]);
        let node = labels(&[("instance", "a:9100"), ("job", "node")]);
        let tm = |t: &Labels, m: &str, md: MetricMetadata| TargetMetadata {
            target: t.clone(),
            metric: m.to_owned(),
            metadata: md,
        };
        vec![
            tm(&prom, "up", md(MetricType::Gauge, "Target up.")),
            tm(
                &prom,
                "http_requests_total",
                md(MetricType::Counter, "Requests."),
            ),
            tm(&node, "up", md(MetricType::Gauge, "Target up.")),
            tm(
                &node,
                "node_cpu_seconds_total",
                md(MetricType::Counter, "CPU <time>."),
            ),
            tm(
                &node,
                "http_requests_total",
                md(MetricType::Counter, "Other help."),
            ),
        ]
    }
}

impl RulesProvider for Fixtures {
    fn rule_groups(&self) -> Vec<RuleGroup> {
        let firing = Alert {
            labels: labels(&[
                ("alertname", "InstanceDown"),
                ("instance", "a:9100"),
                ("job", "node"),
                ("severity", "page"),
            ]),
            annotations: labels(&[("summary", "a:9100 down")]),
            state: "firing".to_owned(),
            active_at: Some(ApiTime::from_ms(T0 + 15_000)),
            keep_firing_since: None,
            value: argus_query::api::format_alert_value(0.0),
        };
        vec![
            RuleGroup {
                name: "g1".to_owned(),
                file: "/etc/argus/rules.yml".to_owned(),
                rules: vec![
                    Rule::Recording(RecordingRule {
                        name: "job:up:sum".to_owned(),
                        query: "sum by (job) (up)".to_owned(),
                        health: RuleHealth::Ok,
                        evaluation_time: 0.000_25,
                        last_evaluation: ApiTime::from_ms(T0 + 90_000),
                        ..Default::default()
                    }),
                    Rule::Alerting(AlertingRule {
                        state: "firing".to_owned(),
                        name: "InstanceDown".to_owned(),
                        query: "up == 0".to_owned(),
                        duration: 60.0,
                        keep_firing_for: 0.0,
                        labels: labels(&[("severity", "page")]),
                        annotations: labels(&[("summary", "{{ $labels.instance }} down")]),
                        alerts: Some(vec![firing]),
                        health: RuleHealth::Ok,
                        last_error: String::new(),
                        evaluation_time: 0.0005,
                        last_evaluation: ApiTime::from_ms(T0 + 90_000),
                        rule_type: Default::default(),
                    }),
                ],
                interval: 15.0,
                limit: 0,
                evaluation_time: 0.001,
                last_evaluation: ApiTime::from_ms(T0 + 90_000),
            },
            RuleGroup {
                name: "g2".to_owned(),
                file: "/etc/argus/other.yml".to_owned(),
                rules: vec![Rule::Alerting(AlertingRule {
                    state: "inactive".to_owned(),
                    name: "Never".to_owned(),
                    query: "vector(1) == 0".to_owned(),
                    alerts: Some(vec![]),
                    health: RuleHealth::Unknown,
                    ..Default::default()
                })],
                interval: 60.0,
                limit: 10,
                evaluation_time: 0.0,
                last_evaluation: ApiTime::default(),
            },
        ]
    }
}

impl AlertmanagersProvider for Fixtures {
    fn alertmanagers(&self) -> AlertmanagerDiscovery {
        AlertmanagerDiscovery {
            active_alertmanagers: vec![AlertmanagerTarget {
                url: "http://am:9093/api/v2/alerts".to_owned(),
            }],
            dropped_alertmanagers: vec![],
        }
    }
}

impl StatusProvider for Fixtures {
    fn config_yaml(&self) -> String {
        "global:\n  scrape_interval: 15s\n".to_owned()
    }

    fn flags(&self) -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        m.insert("web.enable-admin-api".to_owned(), "false".to_owned());
        m.insert("query.lookback-delta".to_owned(), "5m".to_owned());
        m
    }

    fn runtime_info(&self) -> RuntimeInfo {
        RuntimeInfo {
            start_time: ApiTime::from_ms(T0),
            cwd: "/".to_owned(),
            hostname: "argus-0".to_owned(),
            server_time: ApiTime::from_ms(NOW),
            reload_config_success: true,
            last_config_time: ApiTime::from_ms(T0),
            corruption_count: 0,
            goroutine_count: 9,
            gomaxprocs: 2,
            gomemlimit: i64::MAX,
            gogc: String::new(),
            godebug: String::new(),
            storage_retention: "15d".to_owned(),
        }
    }

    fn build_info(&self) -> BuildInfo {
        BuildInfo {
            version: "0.1.0".to_owned(),
            revision: "abc".to_owned(),
            branch: "main".to_owned(),
            build_user: "ci".to_owned(),
            build_date: "20231114-22:13:20".to_owned(),
            go_version: "rustc 1.95".to_owned(),
        }
    }

    fn wal_replay(&self) -> WalReplayStatus {
        WalReplayStatus {
            min: 0,
            max: 3,
            current: 3,
        }
    }
}

/// A TSDB admin that records what it was asked.
#[derive(Default)]
pub struct FakeAdmin {
    pub deletes: Mutex<Vec<(i64, i64, Vec<String>)>>,
    pub cleaned: Mutex<u32>,
    pub snapshots: Mutex<Vec<(String, bool)>>,
}

impl TsdbAdmin for FakeAdmin {
    fn delete_series(&self, mint: i64, maxt: i64, ms: &[Matcher]) -> Result<(), StorageError> {
        self.deletes
            .lock()
            .unwrap()
            .push((mint, maxt, ms.iter().map(|m| m.to_string()).collect()));
        Ok(())
    }

    fn clean_tombstones(&self) -> Result<(), StorageError> {
        *self.cleaned.lock().unwrap() += 1;
        Ok(())
    }

    fn snapshot(&self, dir: &Path, skip_head: bool) -> Result<String, StorageError> {
        self.snapshots
            .lock()
            .unwrap()
            .push((dir.display().to_string(), skip_head));
        Ok("20231114T221320Z-0123456789abcdef".to_owned())
    }

    fn status(&self, limit: usize) -> Result<TsdbStatus, StorageError> {
        let mut by_name = vec![
            NameCount {
                name: "up".to_owned(),
                value: 2,
            },
            NameCount {
                name: "x".to_owned(),
                value: 1,
            },
        ];
        by_name.truncate(limit);
        Ok(TsdbStatus {
            head_stats: HeadStats {
                num_series: 3,
                num_label_pairs: 5,
                chunk_count: 3,
                min_time: T0,
                max_time: NOW,
            },
            series_count_by_metric_name: by_name,
            ..TsdbStatus::default()
        })
    }
}

/// State over the fixture storage and providers, with the clock fixed at `NOW`.
pub fn fixture_state(storage: MemStorage) -> ApiState {
    let mut st = ApiState::new(Arc::new(storage), Engine::new(EngineOptions::default()));
    let f = Arc::new(Fixtures);
    st.targets = f.clone();
    st.metadata = f.clone();
    st.rules = f.clone();
    st.alertmanagers = f.clone();
    st.status = f;
    st.now = Arc::new(|| NOW);
    st
}

/// Serves `state` on a free loopback port; returns `http://127.0.0.1:PORT`.
pub async fn spawn(state: ApiState) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router(state)).await.unwrap();
    });
    format!("http://{addr}")
}

/// A response, body as text.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl Resp {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }
}

pub async fn get(base: &str, path: &str) -> Resp {
    let r = reqwest::get(format!("{base}{path}")).await.unwrap();
    to_resp(r).await
}

pub async fn post_form(base: &str, path: &str, form: &[(&str, &str)]) -> Resp {
    let body = form_body(form);
    let r = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    to_resp(r).await
}

pub fn form_body(form: &[(&str, &str)]) -> String {
    form.iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Percent-encodes a query component.
pub fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub async fn to_resp(r: reqwest::Response) -> Resp {
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let body = r.text().await.unwrap();
    Resp {
        status,
        headers,
        body,
    }
}

/// Whether tests that need a peer binary may be skipped.
pub fn skip_peers() -> bool {
    std::env::var("ARGUS_SKIP_PEER_TESTS").is_ok_and(|v| v == "1")
}
