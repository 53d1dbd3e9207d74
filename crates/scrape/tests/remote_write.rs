//! The remote-write receiver with hand-built payloads, over HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::sync::Arc;

use argus_model::memstore::MemStorage;
use argus_model::{AppendError, Appendable, Appender, Labels, SeriesRef, StorageError};
use argus_scrape::remote_write::proto::{Label, Sample, TimeSeries, WriteRequest};
use argus_scrape::remote_write::{
    handle, handle_with_limits, remote_write_router, Limits, RemoteWriteError,
};
use axum::http::HeaderMap;
use common::dump;

fn series(name: &str, extra: &[(&str, &str)], samples: &[(i64, f64)]) -> TimeSeries {
    let mut labels = vec![Label {
        name: "__name__".into(),
        value: name.into(),
    }];
    labels.extend(extra.iter().map(|(n, v)| Label {
        name: n.to_string(),
        value: v.to_string(),
    }));
    labels.sort_by(|a, b| a.name.cmp(&b.name));
    TimeSeries {
        labels,
        samples: samples
            .iter()
            .map(|&(t, v)| Sample {
                timestamp: t,
                value: v,
            })
            .collect(),
        exemplars: vec![],
    }
}

fn req(ts: Vec<TimeSeries>) -> Vec<u8> {
    WriteRequest {
        timeseries: ts,
        metadata: vec![],
    }
    .encode_snappy()
}

fn headers() -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("Content-Type", "application/x-protobuf".parse().unwrap());
    h.insert("Content-Encoding", "snappy".parse().unwrap());
    h.insert(
        "X-Prometheus-Remote-Write-Version",
        "0.1.0".parse().unwrap(),
    );
    h
}

#[test]
fn stores_samples_and_reports_counts() {
    let store = MemStorage::new();
    let body = req(vec![
        series("up", &[("job", "a")], &[(1000, 1.0), (2000, 0.0)]),
        series("temp", &[("room", "ä")], &[(1000, -3.5)]),
    ]);
    let stats = handle(&store, &headers(), &body).unwrap();
    assert_eq!(
        (stats.series, stats.samples_written, stats.samples_rejected),
        (2, 3, 0)
    );
    let d = dump(&store);
    assert_eq!(d["up{job=\"a\"}"], [(1000, 1.0), (2000, 0.0)]);
    assert_eq!(d["temp{room=\"ä\"}"], [(1000, -3.5)]);
}

#[test]
fn out_of_order_and_invalid_series_are_refused_the_rest_is_stored() {
    let store = MemStorage::new();
    handle(
        &store,
        &headers(),
        &req(vec![series("up", &[], &[(2000, 1.0)])]),
    )
    .unwrap();
    let body = req(vec![
        series("up", &[], &[(1000, 1.0), (3000, 1.0)]),
        series("new", &[], &[(1000, 5.0)]),
        TimeSeries {
            labels: vec![Label {
                name: "job".into(),
                value: "x".into(),
            }],
            samples: vec![Sample {
                timestamp: 1,
                value: 1.0,
            }],
            exemplars: vec![],
        },
        series("future", &[], &[(i64::MAX / 2, 1.0)]),
    ]);
    let e = handle(&store, &headers(), &body).unwrap_err();
    assert_eq!(e.status_code(), 400);
    assert_eq!(e.samples_written(), 2);
    let msg = e.to_string();
    assert!(
        msg.contains("out of order sample: 1 samples rejected"),
        "{msg}"
    );
    assert!(msg.contains("invalid labels: 1 samples rejected"), "{msg}");
    assert!(
        msg.contains("too far in the future: 1 samples rejected"),
        "{msg}"
    );
    let d = dump(&store);
    assert_eq!(d["up"], [(2000, 1.0), (3000, 1.0)]);
    assert_eq!(d["new"], [(1000, 5.0)]);
}

#[test]
fn malformed_and_oversized_bodies() {
    let store = MemStorage::new();
    let e = handle(&store, &headers(), b"definitely not snappy").unwrap_err();
    assert_eq!(e.status_code(), 400, "{e}");
    assert!(e.to_string().contains("snappy"), "{e}");
    let garbage = snap::raw::Encoder::new()
        .compress_vec(&[0x0a, 0xff, 0xff, 0xff, 0x0f])
        .unwrap();
    let e = handle(&store, &headers(), &garbage).unwrap_err();
    assert_eq!(e.status_code(), 400);
    assert!(e.to_string().contains("invalid protobuf at byte"), "{e}");
    let body = req(vec![series("x", &[], &[(1, 1.0)]); 50]);
    let small = Limits {
        max_body_bytes: 10,
        max_decoded_bytes: 1 << 20,
    };
    assert_eq!(
        handle_with_limits(&store, &headers(), &body, &small)
            .unwrap_err()
            .status_code(),
        413
    );
    let small = Limits {
        max_body_bytes: 1 << 20,
        max_decoded_bytes: 100,
    };
    assert_eq!(
        handle_with_limits(&store, &headers(), &body, &small)
            .unwrap_err()
            .status_code(),
        413
    );
    // A snappy header claiming a huge length is refused before allocating.
    let mut huge = vec![0xff, 0xff, 0xff, 0xff, 0x0f];
    huge.extend_from_slice(&[0; 8]);
    assert_eq!(
        handle(&store, &headers(), &huge).unwrap_err().status_code(),
        413
    );
    assert_eq!(store.num_series(), 0);
}

#[test]
fn content_negotiation() {
    let store = MemStorage::new();
    let body = req(vec![series("x", &[], &[(1, 1.0)])]);
    for (k, v) in [
        ("Content-Type", "application/json"),
        ("Content-Encoding", "gzip"),
        (
            "Content-Type",
            "application/x-protobuf;proto=io.prometheus.write.v2.Request",
        ),
    ] {
        let mut h = headers();
        h.insert(k, v.parse().unwrap());
        assert_eq!(
            handle(&store, &h, &body).unwrap_err().status_code(),
            415,
            "{k}: {v}"
        );
    }
    let mut h = headers();
    h.insert(
        "Content-Type",
        "application/x-protobuf;proto=prometheus.WriteRequest"
            .parse()
            .unwrap(),
    );
    handle(&store, &h, &body).unwrap();
    // Old 1.0 clients send no Content-Encoding.
    handle(
        &store,
        &HeaderMap::new(),
        &req(vec![series("y", &[], &[(1, 1.0)])]),
    )
    .unwrap();
}

struct Failing(StorageError);
struct FailingAppender(StorageError);

impl Appender for FailingAppender {
    fn append(
        &mut self,
        _: Option<SeriesRef>,
        _: &Labels,
        _: i64,
        _: f64,
    ) -> Result<SeriesRef, AppendError> {
        Ok(SeriesRef(1))
    }
    fn commit(self: Box<Self>) -> Result<(), StorageError> {
        Err(self.0)
    }
    fn rollback(self: Box<Self>) -> Result<(), StorageError> {
        Ok(())
    }
}

impl Appendable for Failing {
    fn appender(&self) -> Box<dyn Appender + '_> {
        Box::new(FailingAppender(self.0.clone()))
    }
}

#[test]
fn storage_failures_are_retryable_5xx() {
    let body = req(vec![series("x", &[], &[(1, 1.0)])]);
    let e = handle(
        &Failing(StorageError::Other("disk on fire".into())),
        &headers(),
        &body,
    )
    .unwrap_err();
    assert_eq!(e.status_code(), 500);
    let e = handle(
        &Failing(StorageError::OutOfSpace("full".into())),
        &headers(),
        &body,
    )
    .unwrap_err();
    assert_eq!(e.status_code(), 503);
    assert!(matches!(e, RemoteWriteError::Storage(_)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn router_speaks_http() {
    let store = MemStorage::new();
    let app = remote_write_router(Arc::new(store.clone()));
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    let url = format!("http://{addr}/api/v1/write");
    let c = reqwest::Client::new();
    let post = |body: Vec<u8>| c.post(&url).headers(headers()).body(body).send();
    let r = post(req(vec![series("up", &[], &[(5, 1.0), (6, 1.0)])]))
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        r.headers()["X-Prometheus-Remote-Write-Samples-Written"],
        "2"
    );
    let r = post(req(vec![
        series("up", &[], &[(1, 1.0)]),
        series("b", &[], &[(1, 1.0)]),
    ]))
    .await
    .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.headers()["X-Prometheus-Remote-Write-Samples-Written"],
        "1"
    );
    assert!(r.text().await.unwrap().contains("out of order sample"));
    let r = post(b"junk".to_vec()).await.unwrap();
    assert_eq!(r.status(), 400);
    // Bodies above axum's default 2 MiB cap are accepted up to our own limit.
    // Incompressible label values (an LCG's output in hex) so snappy stays above 2 MiB.
    let mut x: u64 = 42;
    let mut noise = || {
        (0..96)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                format!("{:016x}", x >> 1)
            })
            .collect::<String>()
    };
    let many: Vec<TimeSeries> = (0..2_000)
        .map(|_| series("m", &[("blob", &noise())], &[(1, 1.0)]))
        .collect();
    let big = WriteRequest {
        timeseries: many,
        metadata: vec![],
    };
    let body = big.encode_snappy();
    assert!(body.len() > 2 << 20, "{} bytes", body.len());
    let r = c
        .post(&url)
        .headers(headers())
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(store.num_series(), 2_002);
}
