//! Acknowledged remote-write samples survive `kill -9` of the `argus` binary: a client
//! pushes batches as fast as it can, the server is killed mid-stream, and after restart
//! every batch that got a 204 is there, sample for sample. One attempt starts from a head
//! snapshot (written by a clean stop) and is then killed: the WAL must still hold everything.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod support;

use std::time::Duration;

use argus_scrape::remote_write::proto::{Label, Sample, TimeSeries, WriteRequest};
use prost::Message as _;
use support::*;

const SERIES: usize = 200;
/// Small steps, so the pusher never runs out of rounds before the kill.
const STEP_MS: i64 = 100;
const MAX_ROUNDS: i64 = 12_000;

fn batch(round: i64, t0: i64) -> Vec<u8> {
    let ts = t0 + round * STEP_MS;
    let timeseries = (0..SERIES)
        .map(|i| TimeSeries {
            labels: vec![
                Label {
                    name: "__name__".into(),
                    value: "pushed_total".into(),
                },
                Label {
                    name: "series".into(),
                    value: format!("s{i:04}"),
                },
            ],
            samples: vec![Sample {
                value: (round * 10 + i as i64) as f64,
                timestamp: ts,
            }],
            ..Default::default()
        })
        .collect();
    let req = WriteRequest {
        timeseries,
        ..Default::default()
    };
    snap::raw::Encoder::new()
        .compress_vec(&req.encode_to_vec())
        .unwrap()
}

async fn push(url: &str, body: Vec<u8>) -> bool {
    let r = reqwest::Client::new()
        .post(url)
        .header("Content-Encoding", "snappy")
        .header("Content-Type", "application/x-protobuf")
        .header("X-Prometheus-Remote-Write-Version", "0.1.0")
        .body(body)
        .timeout(Duration::from_secs(5))
        .send()
        .await;
    matches!(r, Ok(r) if r.status() == 204)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_samples_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("empty.yml");
    std::fs::write(&config, "scrape_configs: []\n").unwrap();
    let flags = [format!("--config.file={}", config.display())];
    // Recent timestamps, so nothing is out of bounds or beyond retention.
    let t0 = argus_model::now_ms() - 3_600_000;

    // Rounds acknowledged so far; each attempt resumes there (re-sending a round that was
    // written but not acknowledged is a no-op: same timestamps, same values).
    let mut have = 0i64;
    for attempt in 0..3u64 {
        let port = free_port();
        let mut argus = Argus::start(&data, port, &flags).await;
        if attempt > 0 && attempt % 2 == 0 {
            // The previous verification run stopped cleanly: this start used its head
            // snapshot, and the kill below must still lose nothing.
            assert!(
                argus.proc.log_text().contains("Head snapshot loaded"),
                "{}",
                argus.proc.log_text()
            );
        }
        let url = format!("{}/api/v1/write", argus.url);
        let pusher = {
            let url = url.clone();
            tokio::spawn(async move {
                let mut acked = have;
                for round in have..have + MAX_ROUNDS / 3 {
                    if !push(&url, batch(round, t0)).await {
                        break;
                    }
                    acked = round + 1;
                }
                acked
            })
        };
        // Kill at a different moment each attempt.
        tokio::time::sleep(Duration::from_millis(150 + 170 * attempt)).await;
        argus.proc.kill9();
        let acked = pusher.await.unwrap();
        assert!(
            acked > have,
            "some batches were acknowledged before the kill"
        );

        let mut argus = Argus::start(&data, free_port(), &flags).await;
        let lookback = format!("{}s", (acked * STEP_MS) / 1000 + 60);
        let at = (t0 + (acked - 1) * STEP_MS) as f64 / 1000.0;
        let r = reqwest::Client::new()
            .post(format!("{}/api/v1/query", argus.url))
            .form(&[
                (
                    "query",
                    format!("count_over_time(pushed_total[{lookback}])"),
                ),
                ("time", format!("{at:.3}")),
            ])
            .send()
            .await
            .unwrap();
        let v: serde_json::Value = r.json().await.unwrap();
        let result = v["data"]["result"].as_array().unwrap();
        assert_eq!(result.len(), SERIES, "every series is there: {v}");
        for s in result {
            let n: i64 = s["value"][1].as_str().unwrap().parse().unwrap();
            assert!(
                n >= acked,
                "series {} has {n} samples, {acked} rounds were acknowledged",
                s["metric"]["series"]
            );
        }
        if attempt % 2 == 1 {
            // SIGTERM writes a head snapshot for the next attempt's start.
            assert!(argus.proc.terminate().success());
        }
        drop(argus);
        have = acked;
    }
}
