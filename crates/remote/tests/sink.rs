//! The sender against an in-process receiver: data appended to a real TSDB arrives
//! complete, with the right headers, labels and relabeling; failures are retried or
//! dropped by status; a stalled receiver stops the WAL reading; a restart resumes from
//! the saved position; truncated WAL segments are bridged by the checkpoint.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use argus_model::now_ms;
use argus_remote::{parse_str, ManagerOptions, RemoteWriteConfig, RemoteWriteManager};
use common::*;

fn fast_opts() -> ManagerOptions {
    ManagerOptions {
        flush_deadline: Duration::from_secs(10),
        position_sync_interval: Duration::from_millis(100),
        shard_update_interval: Duration::from_millis(500),
        wal_poll_interval: Duration::from_millis(20),
    }
}

fn manager(dir: &std::path::Path, reg: &prometheus::Registry) -> RemoteWriteManager {
    RemoteWriteManager::with_options(dir.join("wal"), dir.join("remote_write"), reg, fast_opts())
        .unwrap()
}

fn cfg(url: &str, extra: &str) -> Vec<RemoteWriteConfig> {
    parse_str(&format!(
        "- url: {url}\n  name: test\n  queue_config:\n    batch_send_deadline: 100ms\n    min_backoff: 10ms\n    max_backoff: 200ms\n{extra}"
    ))
    .unwrap()
}

const WAIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appended_samples_arrive_with_headers_external_labels_and_relabeling() {
    init_tracing();
    let sink = sink().await;
    let dir = tempfile::tempdir().unwrap();
    let db = open_db(dir.path());
    let reg = prometheus::Registry::new();
    let rw = manager(dir.path(), &reg);
    let ext: BTreeMap<String, String> = [
        ("cluster".to_owned(), "eu1".to_owned()),
        ("job".to_owned(), "external".to_owned()),
    ]
    .into();
    let extra = "  headers:\n    X-Scope-OrgID: t1\n  write_relabel_configs:\n    - source_labels: [instance]\n      regex: host-1\n      action: drop\n    - target_label: relabeled\n      replacement: yes\n";
    rw.apply_config(&cfg(&sink.url(), extra), &ext)
        .await
        .unwrap();
    // Written after the queue started: all of it is sent.
    let t0 = now_ms() - 600_000;
    fill(&db, "rw_basic", 5, 200, t0, 1000);
    let want = 4 * 200;
    assert!(
        wait_for(WAIT, || (sink.samples() >= want).then_some(()))
            .await
            .is_some(),
        "got {} of {want} samples",
        sink.samples()
    );
    let headers = {
        let st = sink.state.lock();
        assert_eq!(st.series.len(), 4, "{:?}", st.series.keys());
        for (k, v) in &st.series {
            assert!(!k.contains("host-1\""), "relabeling drops host-1: {k}");
            assert!(k.contains("cluster=\"eu1\""), "external label added: {k}");
            // The series' own job wins over the external label.
            assert!(k.contains("job=\"rw\""), "{k}");
            assert!(k.contains("relabeled=\"yes\""), "{k}");
            let ts: Vec<i64> = v.iter().map(|x| x.0).collect();
            let mut sorted = ts.clone();
            sorted.sort();
            assert_eq!(ts, sorted, "samples of a series arrive in order");
            assert_eq!(ts.len(), 200);
        }
        assert!(st.last_headers.is_some());
        st.last_headers.clone().unwrap()
    };
    let h = headers;
    assert_eq!(h["content-encoding"], "snappy");
    assert_eq!(h["content-type"], "application/x-protobuf");
    assert_eq!(h["x-prometheus-remote-write-version"], "0.1.0");
    assert!(h["user-agent"].to_str().unwrap().starts_with("Argus/"));
    assert_eq!(h["x-scope-orgid"], "t1");
    assert_eq!(
        metric(&reg, "argus_remote_storage_samples_total"),
        want as f64
    );
    assert_eq!(
        metric(&reg, "argus_remote_storage_samples_dropped_total"),
        200.0
    );
    assert!(metric(&reg, "argus_remote_storage_bytes_total") > 0.0);
    assert!(metric(&reg, "argus_remote_storage_shards") >= 1.0);
    assert!(
        metric(
            &reg,
            "argus_remote_storage_queue_highest_sent_timestamp_seconds"
        ) >= ((t0 + 199_000) / 1000) as f64
    );
    rw.shutdown().await;
    assert!(rw.apply_config(&[], &ext).await.is_err());
    db.close().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_retried_and_client_errors_dropped() {
    init_tracing();
    let sink = sink().await;
    let dir = tempfile::tempdir().unwrap();
    let db = open_db(dir.path());
    let reg = prometheus::Registry::new();
    let rw = manager(dir.path(), &reg);
    rw.apply_config(
        &cfg(&sink.url(), "    retry_on_http_429: true\n"),
        &BTreeMap::new(),
    )
    .await
    .unwrap();
    let t0 = now_ms() - 600_000;
    // 503 three times, then fine: everything arrives, some of it retried.
    sink.set_mode(Mode::FailFirst(503, 3));
    fill(&db, "rw_retry", 3, 50, t0, 1000);
    assert!(wait_for(WAIT, || (sink.distinct() >= 150).then_some(()))
        .await
        .is_some());
    assert!(metric(&reg, "argus_remote_storage_samples_retried_total") > 0.0);
    assert_eq!(
        metric(&reg, "argus_remote_storage_samples_failed_total"),
        0.0
    );
    // 429 with retry_on_http_429 is retried too, honouring Retry-After.
    sink.set_mode(Mode::FailFirst(429, 2));
    fill(&db, "rw_429", 1, 10, t0, 1000);
    assert!(wait_for(WAIT, || (sink.distinct() >= 160).then_some(()))
        .await
        .is_some());
    // 400 drops the batch and counts it failed; the queue moves on.
    sink.set_mode(Mode::Fail(400, None));
    fill(&db, "rw_bad", 2, 10, t0, 1000);
    assert!(wait_for(WAIT, || {
        (metric(&reg, "argus_remote_storage_samples_failed_total") >= 20.0).then_some(())
    })
    .await
    .is_some());
    sink.set_mode(Mode::Accept);
    fill(&db, "rw_after", 1, 5, t0, 1000);
    assert!(wait_for(WAIT, || (sink.distinct() >= 165).then_some(()))
        .await
        .is_some());
    assert!(!sink
        .state
        .lock()
        .series
        .keys()
        .any(|k| k.contains("rw_bad")));
    // Everything read is acknowledged: the position is the end of the WAL.
    assert!(wait_for(WAIT, || {
        let segs = argus_tsdb::wal::segment::list_segments(&db.wal_dir()).unwrap();
        let (n, p) = segs.last().unwrap();
        let size = std::fs::metadata(p).unwrap().len();
        let st = futures_lite_block(rw.status());
        (st[0].acked
            == Some(argus_remote::Position {
                segment: *n,
                offset: size,
            }))
        .then_some(())
    })
    .await
    .is_some());
    rw.shutdown().await;
}

/// Runs a short future to completion from a sync closure (status only takes a lock).
fn futures_lite_block<F: std::future::Future>(f: F) -> F::Output {
    tokio::task::block_in_place(|| tokio::runtime::Handle::current().block_on(f))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_receiver_bounds_memory_and_loses_nothing() {
    init_tracing();
    let sink = sink().await;
    sink.set_mode(Mode::Fail(503, Some("0".into())));
    let dir = tempfile::tempdir().unwrap();
    let db = open_db(dir.path());
    let reg = prometheus::Registry::new();
    let rw = manager(dir.path(), &reg);
    let extra = "    capacity: 500\n    max_samples_per_send: 100\n    max_shards: 2\n";
    rw.apply_config(&cfg(&sink.url(), extra), &BTreeMap::new())
        .await
        .unwrap();
    let t0 = now_ms() - 3_000_000;
    fill(&db, "rw_stall", 20, 1000, t0, 1000);
    // The queue fills up and stays full: at most shards × (capacity + one batch).
    assert!(wait_for(WAIT, || {
        (metric(&reg, "argus_remote_storage_samples_pending") >= 500.0).then_some(())
    })
    .await
    .is_some());
    tokio::time::sleep(Duration::from_secs(2)).await;
    let pending = metric(&reg, "argus_remote_storage_samples_pending");
    assert!(pending <= 2.0 * 600.0, "pending {pending}");
    assert!(metric(&reg, "argus_remote_storage_enqueue_retries_total") > 0.0);
    assert_eq!(sink.samples(), 0);
    sink.set_mode(Mode::Accept);
    assert!(
        wait_for(WAIT, || (sink.distinct() >= 20_000).then_some(()))
            .await
            .is_some(),
        "got {}",
        sink.distinct()
    );
    rw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_resumes_from_the_saved_position() {
    init_tracing();
    let sink = sink().await;
    let dir = tempfile::tempdir().unwrap();
    let db = open_db(dir.path());
    let t0 = now_ms() - 3_000_000;
    {
        let reg = prometheus::Registry::new();
        let rw = manager(dir.path(), &reg);
        rw.apply_config(&cfg(&sink.url(), ""), &BTreeMap::new())
            .await
            .unwrap();
        fill(&db, "rw_resume", 10, 100, t0, 1000);
        assert!(wait_for(WAIT, || (sink.distinct() >= 1000).then_some(()))
            .await
            .is_some());
        let st = rw.status().await;
        assert!(st[0]
            .position_file
            .starts_with(dir.path().join("remote_write")));
        assert!(st[0].position_file.exists());
        rw.shutdown().await;
    }
    // Written while no sender runs, across several WAL segments.
    fill(&db, "rw_resume", 10, 3000, t0 + 100_000, 1000);
    let segs = argus_tsdb::wal::segment::list_segments(&db.wal_dir()).unwrap();
    assert!(segs.len() > 2, "{segs:?}");
    let reg = prometheus::Registry::new();
    let rw = manager(dir.path(), &reg);
    rw.apply_config(&cfg(&sink.url(), ""), &BTreeMap::new())
        .await
        .unwrap();
    assert!(
        wait_for(WAIT, || (sink.distinct() >= 31_000).then_some(()))
            .await
            .is_some(),
        "got {}",
        sink.distinct()
    );
    // Only what was not acknowledged before is sent again.
    assert!(sink.samples() < 31_000 + 1000, "{}", sink.samples());
    rw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_keeps_unchanged_queues_and_restarts_changed_ones() {
    init_tracing();
    let a = sink().await;
    let b = sink().await;
    let dir = tempfile::tempdir().unwrap();
    let db = open_db(dir.path());
    let reg = prometheus::Registry::new();
    let rw = manager(dir.path(), &reg);
    let both = |shards: usize| {
        parse_str(&format!(
            "- url: {}\n  queue_config:\n    batch_send_deadline: 100ms\n- url: {}\n  queue_config:\n    batch_send_deadline: 100ms\n    max_shards: {shards}\n",
            a.url(),
            b.url()
        ))
        .unwrap()
    };
    rw.apply_config(&both(5), &BTreeMap::new()).await.unwrap();
    let t0 = now_ms() - 3_000_000;
    fill(&db, "rw_reload", 2, 50, t0, 1000);
    assert!(
        wait_for(WAIT, || (a.distinct() >= 100 && b.distinct() >= 100)
            .then_some(()))
        .await
        .is_some()
    );
    let files: Vec<_> = rw
        .status()
        .await
        .into_iter()
        .map(|s| s.position_file)
        .collect();
    assert_eq!(files.len(), 2);
    rw.apply_config(&both(6), &BTreeMap::new()).await.unwrap();
    fill(&db, "rw_reload", 2, 50, t0 + 50_000, 1000);
    assert!(
        wait_for(WAIT, || (a.distinct() >= 200 && b.distinct() >= 200)
            .then_some(()))
        .await
        .is_some()
    );
    // The restarted queue resumed (same position file), nothing was sent twice.
    assert_eq!(a.samples(), 200);
    assert_eq!(b.samples(), 200);
    let files2: Vec<_> = rw
        .status()
        .await
        .into_iter()
        .map(|s| s.position_file)
        .collect();
    assert_eq!(files, files2);
    // Removing a queue stops it.
    rw.apply_config(&both(6)[..1], &BTreeMap::new())
        .await
        .unwrap();
    assert_eq!(rw.status().await.len(), 1);
    // An invalid entry changes nothing.
    let mut bad = both(6);
    bad[1].tls_config.ca_file = Some("/nonexistent/ca.pem".into());
    assert!(rw.apply_config(&bad, &BTreeMap::new()).await.is_err());
    assert_eq!(rw.status().await.len(), 1);
    rw.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_segments_are_bridged_by_the_checkpoint() {
    use argus_tsdb::metrics::WalMetrics;
    use argus_tsdb::wal::checkpoint::checkpoint;
    use argus_tsdb::wal::record::{encode_samples, encode_series, RefSample};
    use argus_tsdb::wal::writer::WalWriter;
    init_tracing();
    let sink = sink().await;
    let dir = tempfile::tempdir().unwrap();
    let wal = dir.path().join("wal");
    let m = WalMetrics::unregistered();
    let mut w = WalWriter::open(
        &wal,
        0,
        1 << 20,
        argus_tsdb::FsyncPolicy::Segment,
        m.clone(),
    )
    .unwrap();
    let t0 = now_ms() - 3_000_000;
    let labels: Vec<_> = (0..3).map(|i| series_labels("rw_cp", i)).collect();
    let mut rec = Vec::new();
    encode_series(
        labels
            .iter()
            .enumerate()
            .map(|(i, l)| (i as u64 + 1, l))
            .collect::<Vec<_>>()
            .into_iter(),
        &mut rec,
    );
    w.log(&[&rec]).unwrap();
    let samples = |k: i64| -> Vec<RefSample> {
        (1..=3)
            .map(|r| RefSample {
                r,
                t: t0 + k * 1000,
                v: k as f64,
            })
            .collect()
    };
    // The queue exists (position saved at segment 0) before anything is sent.
    let reg = prometheus::Registry::new();
    {
        let rw = manager(dir.path(), &reg);
        rw.apply_config(&cfg(&sink.url(), ""), &BTreeMap::new())
            .await
            .unwrap();
        rw.shutdown().await;
    }
    for k in 0..10 {
        rec.clear();
        encode_samples(&samples(k), &mut rec);
        w.log(&[&rec]).unwrap();
    }
    w.roll().unwrap();
    for k in 10..20 {
        rec.clear();
        encode_samples(&samples(k), &mut rec);
        w.log(&[&rec]).unwrap();
    }
    w.roll().unwrap();
    // The TSDB persisted everything before t0+5s and truncated segments 0 and 1.
    checkpoint(&wal, 1, &|_| true, t0 + 5000, &m).unwrap();
    assert!(!wal.join("00000000").exists());
    for k in 20..25 {
        rec.clear();
        encode_samples(&samples(k), &mut rec);
        w.log(&[&rec]).unwrap();
    }
    let reg = prometheus::Registry::new();
    let rw = manager(dir.path(), &reg);
    rw.apply_config(&cfg(&sink.url(), ""), &BTreeMap::new())
        .await
        .unwrap();
    // Samples the checkpoint kept (t0+5s..) and the live segment all arrive.
    assert!(
        wait_for(WAIT, || (sink.distinct() >= 3 * 20).then_some(()))
            .await
            .is_some(),
        "got {}",
        sink.distinct()
    );
    for v in sink.state.lock().series.values() {
        let min = v.iter().map(|x| x.0).min().unwrap();
        assert_eq!(min, t0 + 5000);
    }
    rw.shutdown().await;
}

struct StaticMetadata;

impl argus_remote::MetadataSource for StaticMetadata {
    fn metadata(&self) -> BTreeMap<String, Vec<argus_model::MetricMetadata>> {
        [(
            "rw_meta_total".to_owned(),
            vec![argus_model::MetricMetadata {
                metric_type: argus_model::MetricType::Counter,
                help: "Things.".into(),
                unit: String::new(),
            }],
        )]
        .into()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_is_sent_every_interval_when_enabled() {
    init_tracing();
    let sink = sink().await;
    let dir = tempfile::tempdir().unwrap();
    let _db = open_db(dir.path());
    let reg = prometheus::Registry::new();
    let rw = manager(dir.path(), &reg);
    rw.set_metadata_source(std::sync::Arc::new(StaticMetadata));
    let extra = "  metadata_config:\n    send_interval: 1s\n";
    let mut cfgs = cfg(&sink.url(), "");
    cfgs.extend(parse_str(&format!("- url: {}\n  name: other\n{extra}", sink.url())).unwrap());
    cfgs[0].metadata_config.send = false;
    rw.apply_config(&cfgs, &BTreeMap::new()).await.unwrap();
    assert!(wait_for(WAIT, || (sink.state.lock().metadata.len() >= 2)
        .then_some(()))
    .await
    .is_some());
    let md = sink.state.lock().metadata.clone();
    assert!(
        md.iter().all(|m| *m == ("rw_meta_total".to_owned(), 1)),
        "{md:?}"
    );
    assert_eq!(
        metric(&reg, "argus_remote_storage_metadata_total"),
        md.len() as f64
    );
    rw.shutdown().await;
}
