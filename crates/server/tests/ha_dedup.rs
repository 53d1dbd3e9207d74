//! Query-time replica deduplication through the binary: two replicas' series, written into
//! one Argus over remote write, come back from `--query.replica-label=replica` as one series
//! that follows one replica and switches only across its gap.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod support;

use argus_scrape::remote_write::proto::{Label, Sample, TimeSeries, WriteRequest};
use prost::Message as _;
use support::*;

fn series(replica: &str, samples: Vec<Sample>) -> TimeSeries {
    let l = |n: &str, v: &str| Label {
        name: n.into(),
        value: v.into(),
    };
    TimeSeries {
        labels: vec![l("__name__", "m"), l("job", "x"), l("replica", replica)],
        samples,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_merge_into_one_series_at_query_time() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("empty.yml");
    std::fs::write(&config, "scrape_configs: []\n").unwrap();
    let argus = Argus::start(
        &dir.path().join("data"),
        free_port(),
        &[
            format!("--config.file={}", config.display()),
            "--query.replica-label=replica".to_owned(),
        ],
    )
    .await;
    let t0 = (argus_model::now_ms() / 1000 - 60) * 1000;
    // a scrapes every second but misses 8 s..14 s; b scrapes 300 ms later, without gaps.
    let a: Vec<Sample> = (0..20)
        .filter(|i| !(8..14).contains(i))
        .map(|i| Sample {
            value: 1.0,
            timestamp: t0 + i * 1000,
        })
        .collect();
    let b: Vec<Sample> = (0..20)
        .map(|i| Sample {
            value: 2.0,
            timestamp: t0 + i * 1000 + 300,
        })
        .collect();
    let req = WriteRequest {
        timeseries: vec![series("a", a), series("b", b)],
        ..Default::default()
    };
    let body = snap::raw::Encoder::new()
        .compress_vec(&req.encode_to_vec())
        .unwrap();
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/write", argus.url))
        .header("Content-Encoding", "snappy")
        .header("Content-Type", "application/x-protobuf")
        .header("X-Prometheus-Remote-Write-Version", "0.1.0")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);

    let at = (t0 + 20_000) as f64 / 1000.0;
    let v: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/api/v1/query", argus.url))
        .form(&[("query", "m[25s]"), ("time", &format!("{at:.3}"))])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let result = v["data"]["result"].as_array().unwrap();
    assert_eq!(result.len(), 1, "{v}");
    assert_eq!(
        result[0]["metric"],
        serde_json::json!({"__name__": "m", "job": "x"})
    );
    let got: Vec<(i64, String)> = result[0]["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                (p[0].as_f64().unwrap() * 1000.0).round() as i64 - t0,
                p[1].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    // a until its gap, then b for the rest: no interleaving, no duplicate scrapes.
    let mut want: Vec<(i64, String)> = (0..8).map(|i| (i * 1000, "1".to_owned())).collect();
    want.extend((8..20).map(|i| (i * 1000 + 300, "2".to_owned())));
    assert_eq!(got, want);

    let vals = argus.get("/api/v1/label/replica/values").await;
    assert_eq!(vals["data"], serde_json::json!([]), "{vals}");
}
