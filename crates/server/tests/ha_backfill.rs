//! HA replicas heal their gaps: two `argus` replicas scrape a real node_exporter every
//! second; replica B is killed with SIGKILL for 12 s (the 60 s outage, shortened
//! with a 1 s scrape interval so the test stays fast) and restarted. Before it reports
//! ready it reads the missed window from A over remote read, so afterwards both answer a
//! raw range selector over the outage with the same samples, and B's log says what the gap
//! detection fetched. A replica whose process stalls (SIGSTOP, then SIGCONT) heals the
//! stall while running, through the out-of-order window.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod support;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;
use support::*;

fn now_s() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// `expr` at `time` (seconds), as `(labels, values)` sorted by labels.
async fn raw(a: &Argus, expr: &str, time: f64) -> Vec<(String, Vec<Value>)> {
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/query", a.url))
        .form(&[("query", expr), ("time", &format!("{time:.3}"))])
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["status"], "success", "{expr}: {v}");
    let mut out: Vec<(String, Vec<Value>)> = v["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["metric"].to_string(),
                s["values"].as_array().cloned().unwrap_or_default(),
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

pub fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c == '\u{1b}' {
            for d in it.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn replica_args(config: &str, name: &str, listen: u16, peers: &[u16]) -> Vec<String> {
    let mut v = vec![
        format!("--config.file={config}"),
        format!("--cluster.listen-address=127.0.0.1:{listen}"),
        format!("--cluster.replica-name={name}"),
        "--cluster.pushpull-interval=1s".to_owned(),
        "--cluster.backfill.timeout=20s".to_owned(),
        "--cluster.backfill.check-interval=2s".to_owned(),
    ];
    for p in peers {
        v.push(format!("--cluster.peer=127.0.0.1:{p}"));
    }
    v
}

struct Setup {
    dir: tempfile::TempDir,
    _ne: Proc,
    ca: u16,
    pb: u16,
    b_args: Vec<String>,
    a: Argus,
    b: Argus,
}

/// Starts node_exporter and replicas A and B scraping it every second.
async fn setup() -> Option<Setup> {
    let node_exporter = peer(&["/usr/bin/prometheus-node-exporter", "node_exporter"])?;
    let dir = tempfile::tempdir().unwrap();
    let ne_port = free_port();
    let ne = spawn(
        &node_exporter,
        &[format!("--web.listen-address=127.0.0.1:{ne_port}")],
        &dir.path().join("node_exporter.log"),
    );
    let config = dir.path().join("argus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n  \
             external_labels:\n    cluster: test\n\
             scrape_configs:\n\
             \x20 - job_name: node\n    static_configs:\n      - targets: ['127.0.0.1:{ne_port}']\n"
        ),
    )
    .unwrap();
    let config = config.display().to_string();
    let (ca, cb) = (free_port(), free_port());
    let (pa, pb) = (free_port(), free_port());
    let a_args = replica_args(&config, "a", ca, &[ca, cb]);
    let b_args = replica_args(&config, "b", cb, &[ca, cb]);
    let (da, db) = (dir.path().join("a"), dir.path().join("b"));
    let (a, b) = tokio::join!(
        Argus::start(&da, pa, &a_args),
        Argus::start(&db, pb, &b_args),
    );
    // Both have scraped for a few seconds.
    for r in [&a, &b] {
        wait_for("a few scrapes", 30, || async {
            let v = r.query("count_over_time(up{job=\"node\"}[1m])").await;
            v.first()
                .and_then(|s| s["value"][1].as_str())
                .and_then(|x| x.parse::<f64>().ok())
                .is_some_and(|n| n >= 3.0)
        })
        .await;
    }
    Some(Setup {
        dir,
        _ne: ne,
        ca,
        pb,
        b_args,
        a,
        b,
    })
}

/// Asserts that B answers raw selectors over `[start, end]` (seconds) exactly as A.
async fn assert_same_samples(a: &Argus, b: &Argus, start: f64, end: f64) {
    let range_ms = ((end - start) * 1000.0) as i64;
    for expr in [
        format!("up{{job=\"node\"}}[{range_ms}ms]"),
        format!("node_load1[{range_ms}ms]"),
        format!("node_cpu_seconds_total[{range_ms}ms]"),
        format!("{{job=\"node\"}}[{range_ms}ms]"),
    ] {
        let want = raw(a, &expr, end).await;
        let got = raw(b, &expr, end).await;
        assert!(!want.is_empty(), "{expr}: A has nothing");
        if expr.starts_with("up") {
            // About one sample per second of the window.
            let n = want[0].1.len();
            let secs = (end - start) as usize;
            assert!(n + 2 >= secs, "{expr}: only {n} samples on A in {secs}s");
        }
        assert_eq!(got, want, "{expr}: B differs from A");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_replica_backfills_the_outage_from_its_peer() {
    let Some(Setup {
        dir,
        _ne,
        ca,
        pb,
        b_args,
        a,
        mut b,
    }) = setup().await
    else {
        return;
    };
    // Storage holds the series without the replica label; what goes out carries it.
    let up = a.query("up").await;
    assert!(up[0]["metric"].get("replica").is_none(), "{up:?}");
    let fed = reqwest::get(format!("{}/federate?match[]=up", a.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(fed.contains("replica=\"a\""), "{fed}");

    b.proc.kill9();
    let killed = now_s();
    tokio::time::sleep(Duration::from_secs(12)).await;
    let restarted = now_s();
    let b = Argus::start(&dir.path().join("b"), pb, &b_args).await;
    let log = strip_ansi(&b.proc.log_text());
    assert!(log.contains("Start-up backfill finished."), "{log}");
    let line = log
        .lines()
        .find(|l| l.contains("Backfilled gaps from peer.") && l.contains("trigger=\"startup\""))
        .unwrap_or_else(|| panic!("no backfill line in B's log:\n{log}"));
    assert!(line.contains("pool=node"), "{line}");
    assert!(line.contains(&format!("peer=127.0.0.1:{ca}")), "{line}");
    assert!(!line.contains(" samples=0"), "{line}");
    eprintln!("B's backfill: {line}");

    // The outage, away from B's own last scrape before the kill and its first after.
    assert_same_samples(&a, &b, killed + 1.5, restarted - 0.5).await;

    let fetched = b
        .self_metric("argus_cluster_backfill_samples_total")
        .await
        .unwrap();
    assert!(
        fetched > 0.0,
        "argus_cluster_backfill_samples_total = {fetched}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_replica_heals_while_running() {
    let Some(s) = setup().await else {
        return;
    };
    let (a, b) = (&s.a, &s.b);
    b.proc.signal(libc::SIGSTOP);
    let stopped = now_s();
    tokio::time::sleep(Duration::from_secs(8)).await;
    b.proc.signal(libc::SIGCONT);
    let resumed = now_s();
    wait_for("a periodic backfill on B", 60, || async {
        strip_ansi(&b.proc.log_text())
            .lines()
            .any(|l| l.contains("Backfilled gaps from peer.") && l.contains("trigger=\"periodic\""))
    })
    .await;
    assert_same_samples(a, b, stopped + 1.5, resumed - 0.5).await;
    let ooo = b
        .self_metric("argus_cluster_backfill_samples_total")
        .await
        .unwrap();
    assert!(ooo > 0.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_peer_delays_readiness_only_until_the_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let exporter = Exporter::start("# TYPE x gauge\nx 1\n").await;
    let config = dir.path().join("argus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n\
             \x20 - job_name: x\n    static_configs:\n      - targets: ['{}']\n",
            exporter.addr
        ),
    )
    .unwrap();
    let (listen, nobody) = (free_port(), free_port());
    let mut args = replica_args(
        &config.display().to_string(),
        "a",
        listen,
        &[listen, nobody],
    );
    args.retain(|a| !a.starts_with("--cluster.backfill.timeout"));
    args.push("--cluster.backfill.timeout=3s".to_owned());
    let started = std::time::Instant::now();
    let a = Argus::start(&dir.path().join("a"), free_port(), &args).await;
    let log = strip_ansi(&a.proc.log_text());
    assert!(log.contains("Start-up backfill gave up"), "{log}");
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "ready before trying its peer for the timeout"
    );
    // Serving and scraping normally.
    wait_for("a scrape", 30, || async {
        !a.query("up{job=\"x\"} == 1").await.is_empty()
    })
    .await;
}
