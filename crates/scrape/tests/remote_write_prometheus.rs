//! Debian's Prometheus scrapes node_exporter and remote-writes to Argus' receiver; Argus
//! must hold the same series and samples as Prometheus' own TSDB.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::collections::BTreeSet;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use argus_model::memstore::MemStorage;
use argus_scrape::remote_write_router;
use common::*;

struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn series_key(m: &serde_json::Map<String, serde_json::Value>) -> String {
    let name = m["__name__"].as_str().unwrap();
    let mut rest: Vec<(String, String)> = m
        .iter()
        .filter(|(k, _)| *k != "__name__")
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect();
    rest.sort();
    if rest.is_empty() {
        return name.to_owned();
    }
    let inner: Vec<String> = rest.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
    format!("{name}{{{}}}", inner.join(", "))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_remote_writes_what_it_scrapes() {
    let Some(prom) = peer("prometheus") else {
        return;
    };
    let Some(ne) = peer("prometheus-node-exporter") else {
        return;
    };
    let ne_port = free_port();
    let _ne = Kill(
        Command::new(ne)
            .arg(format!("--web.listen-address=127.0.0.1:{ne_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let store = MemStorage::new();
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let rw_addr = l.local_addr().unwrap();
    let app = remote_write_router(Arc::new(store.clone()));
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    let prom_port = free_port();
    let cfg = format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\nscrape_configs:\n  - job_name: node\n    static_configs:\n      - targets: ['127.0.0.1:{ne_port}']\nremote_write:\n  - url: http://{rw_addr}/api/v1/write\n    queue_config:\n      batch_send_deadline: 200ms\n      min_backoff: 50ms\n"
    );
    std::fs::write(dir.path().join("prometheus.yml"), cfg).unwrap();
    let _prom = Kill(
        Command::new(prom)
            .arg(format!(
                "--config.file={}",
                dir.path().join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{prom_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let up_key = format!("up{{instance=\"127.0.0.1:{ne_port}\", job=\"node\"}}");
    wait_for(Duration::from_secs(40), || {
        dump(&store)
            .get(&up_key)
            .filter(|s| s.iter().filter(|x| x.1 == 1.0).count() >= 8)
            .map(|_| ())
    })
    .await
    .expect("Prometheus remote-wrote up{job=node}");

    // Pick a time a few seconds back, so every sample up to it has been sent.
    let api = format!("http://127.0.0.1:{prom_port}/api/v1");
    let c = reqwest::Client::new();
    let t = argus_model::now_ms() / 1000 - 3;
    let series: serde_json::Value = c
        .get(format!("{api}/series"))
        .query(&[
            ("match[]", "{job=\"node\"}"),
            ("start", &(t - 60).to_string()),
            ("end", &t.to_string()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let prom_series: BTreeSet<String> = series["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| series_key(s.as_object().unwrap()))
        .collect();
    assert!(
        prom_series.len() > 100,
        "Prometheus has {} series: {series}",
        prom_series.len()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let ours = dump(&store);
    let missing: Vec<&String> = prom_series
        .iter()
        .filter(|k| !ours.contains_key(*k))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} series missing, e.g. {:?}",
        missing.len(),
        prom_series.len(),
        &missing[..missing.len().min(5)]
    );

    // Raw samples of a few series in the minute before `t` are identical.
    for q in [
        "up{job=\"node\"}",
        "scrape_samples_scraped{job=\"node\"}",
        "node_exporter_build_info",
        "node_time_seconds",
    ] {
        let v: serde_json::Value = c
            .get(format!("{api}/query"))
            .query(&[("query", format!("{q}[1m]")), ("time", t.to_string())])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let result = v["data"]["result"].as_array().unwrap();
        assert_eq!(result.len(), 1, "{q}: {v}");
        let key = series_key(result[0]["metric"].as_object().unwrap());
        let theirs: Vec<(i64, f64)> = result[0]["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let ts = (p[0].as_f64().unwrap() * 1000.0).round() as i64;
                (ts, p[1].as_str().unwrap().parse::<f64>().unwrap())
            })
            .collect();
        assert!(
            theirs.len() >= 3,
            "{q} at {t}: {theirs:?}; ours: {:?}",
            ours.get(&series_key(result[0]["metric"].as_object().unwrap()))
        );
        let (lo, hi) = (theirs[0].0, theirs[theirs.len() - 1].0);
        let mine: Vec<(i64, f64)> = ours[&key]
            .iter()
            .copied()
            .filter(|(ts, _)| *ts >= lo && *ts <= hi)
            .collect();
        assert_eq!(mine, theirs, "{key}");
    }
}
