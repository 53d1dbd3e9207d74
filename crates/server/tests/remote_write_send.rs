//! The `argus` binary remote-writes what it scrapes to a real receiver (Debian's
//! VictoriaMetrics), losing nothing across a receiver that is down at first and an Argus
//! that is killed with SIGKILL while its backlog waits in the WAL.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod support;

use std::collections::BTreeMap;

use support::*;

/// Raw samples of `selector` in VictoriaMetrics, per series (`/api/v1/export`).
async fn vm_samples(vm: &str, selector: &str) -> BTreeMap<String, Vec<(i64, f64)>> {
    let _ = reqwest::get(format!("{vm}/internal/force_flush")).await;
    let body = reqwest::Client::new()
        .get(format!("{vm}/api/v1/export"))
        .query(&[("match[]", selector)])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut out = BTreeMap::new();
    for line in body.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let key = v["metric"]["instance"].as_str().unwrap_or("").to_owned()
            + "/"
            + v["metric"]["__name__"].as_str().unwrap_or("");
        let ts = v["timestamps"].as_array().unwrap();
        let vals = v["values"].as_array().unwrap();
        let e: &mut Vec<(i64, f64)> = out.entry(key).or_default();
        for (t, x) in ts.iter().zip(vals) {
            e.push((t.as_i64().unwrap(), x.as_f64().unwrap_or(f64::NAN)));
        }
        e.sort_by_key(|p| p.0);
        e.dedup_by_key(|p| p.0);
    }
    out
}

/// Raw samples of `selector` in Argus over the last 10 minutes, per series.
async fn argus_samples(a: &Argus, selector: &str) -> BTreeMap<String, Vec<(i64, f64)>> {
    let mut out = BTreeMap::new();
    for s in a.query(&format!("{selector}[10m]")).await {
        let key = s["metric"]["instance"].as_str().unwrap_or("").to_owned()
            + "/"
            + s["metric"]["__name__"].as_str().unwrap_or("");
        let pts = s["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let t = (p[0].as_f64().unwrap() * 1000.0).round() as i64;
                (t, p[1].as_str().unwrap().parse::<f64>().unwrap())
            })
            .collect();
        out.insert(key, pts);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scraped_samples_reach_victoriametrics_across_an_outage_and_a_kill_9() {
    let Some(node_exporter) = peer(&["prometheus-node-exporter", "node_exporter"]) else {
        return;
    };
    let Some(vm_bin) = peer(&["victoria-metrics", "victoria-metrics-prod"]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let ne_port = free_port();
    let _ne = spawn(
        &node_exporter,
        &[format!("--web.listen-address=127.0.0.1:{ne_port}")],
        &dir.path().join("node_exporter.log"),
    );
    let vm_port = free_port();
    let vm_url = format!("http://127.0.0.1:{vm_port}");
    let config = dir.path().join("argus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  external_labels:\n    cluster: c1\n\
             scrape_configs:\n  - job_name: node\n    static_configs:\n      \
             - targets: ['127.0.0.1:{ne_port}']\n\
             remote_write:\n  - url: {vm_url}/api/v1/write\n    queue_config:\n      \
             min_backoff: 100ms\n      max_backoff: 1s\n      batch_send_deadline: 1s\n"
        ),
    )
    .unwrap();
    let data = dir.path().join("data");
    let flags = [format!("--config.file={}", config.display())];

    // 1. The receiver is down: the backlog waits in Argus' WAL; then Argus dies hard.
    let mut argus = Argus::start(&data, free_port(), &flags).await;
    wait_for("a few scrapes", 30, || async {
        argus
            .query("count_over_time(node_load1[1m])")
            .await
            .first()
            .is_some_and(|s| s["value"][1].as_str().unwrap().parse::<f64>().unwrap() >= 4.0)
    })
    .await;
    let pending = argus
        .self_metric("argus_remote_storage_samples_pending")
        .await
        .unwrap_or(0.0);
    let failed_sends = argus
        .self_metric("argus_remote_storage_samples_retried_total")
        .await
        .unwrap_or(0.0);
    assert!(
        pending > 0.0 || failed_sends > 0.0,
        "samples are waiting for the receiver (pending {pending}, retried {failed_sends})"
    );
    argus.proc.kill9();

    // 2. Receiver up, Argus restarted on the same data: the backlog is delivered.
    let _vm = spawn(
        &vm_bin,
        &[
            format!("-storageDataPath={}", dir.path().join("vm").display()),
            format!("-httpListenAddr=127.0.0.1:{vm_port}"),
            "-retentionPeriod=100y".to_owned(),
            "-search.disableCache".to_owned(),
        ],
        &dir.path().join("vm.log"),
    );
    wait_for("VictoriaMetrics", 30, || async {
        reqwest::get(format!("{vm_url}/health"))
            .await
            .is_ok_and(|r| r.status().is_success())
    })
    .await;
    let mut argus = Argus::start(&data, free_port(), &flags).await;
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    // A clean stop flushes the queues; afterwards everything Argus stored is in VM.
    argus.proc.terminate();
    let argus = Argus::start(&data, free_port(), &["--config.file=/dev/null".to_owned()]).await;
    let ours = argus_samples(&argus, "node_load1").await;
    assert!(!ours.is_empty());
    let mut theirs = BTreeMap::new();
    for _ in 0..50 {
        theirs = vm_samples(&vm_url, "node_load1{cluster=\"c1\"}").await;
        if theirs == ours {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(
        theirs.values().map(Vec::len).sum::<usize>(),
        ours.values().map(Vec::len).sum::<usize>(),
        "every scraped sample of node_load1 arrived, before and after the kill"
    );
    assert_eq!(theirs, ours, "same timestamps and values");
}
