//! Remote-write send throughput (samples/s).
//!
//! - `encode`: one shard's hot path, a batch of 2,000 samples of 2,000 series (the default
//!   `max_samples_per_send`) into a snappy-compressed `WriteRequest`.
//! - `wal_to_sink`: the whole sender, WAL segments → watcher → shards → HTTP POSTs, into an
//!   in-process sink that reads each body and answers 204. 2,000 series × 100 samples in the
//!   WAL; each iteration is a fresh queue that starts at the WAL's beginning and ends when
//!   the last sample is acknowledged.
//!
//! With `RW_BENCH_VM=1` the file instead measures against a real VictoriaMetrics
//! (`/usr/bin/victoria-metrics`, started here on a free port): a WAL holding
//! `RW_BENCH_SERIES` (default 100,000) series × `RW_BENCH_SAMPLES` (default 240, one hour
//! at 15 s) is sent as a backlog; it prints samples/s, CPU seconds per million samples
//! (utime + stime of this process from `/proc/self/stat`) and the resident memory the
//! sender added (`VmHWM` − `VmRSS` before the queue started, from `/proc/self/status`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::print_stdout
)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use argus_model::Labels;
use argus_remote::encode::{BatchEncoder, QueuedSample, SeriesEntry};
use argus_remote::position::{Position, PositionFile};
use argus_remote::{parse_str, ManagerOptions, RemoteWriteManager};
use argus_tsdb::metrics::WalMetrics;
use argus_tsdb::wal::record::{encode_samples, encode_series, RefSample};
use argus_tsdb::wal::writer::WalWriter;
use criterion::{criterion_group, Criterion, Throughput};

fn labels(i: usize) -> Labels {
    Labels::from_pairs(&[
        ("__name__", format!("node_metric_{}", i % 200)),
        ("cpu", (i % 16).to_string()),
        ("instance", format!("node-{}.cluster.local:9100", i / 200)),
        ("job", "node-exporter".to_string()),
        (
            "mode",
            ["user", "system", "idle", "iowait"][i % 4].to_string(),
        ),
    ])
}

/// Writes `series` series and `samples` scrapes of them (one record per 1,000 series, as
/// scrape commits are) into a fresh WAL at `dir`. Returns the sample count.
fn write_wal(dir: &Path, series: usize, samples: usize, start_ms: i64, step_ms: i64) -> u64 {
    let mut w = WalWriter::open(
        dir,
        0,
        128 << 20,
        argus_tsdb::FsyncPolicy::Segment,
        WalMetrics::unregistered(),
    )
    .unwrap();
    let ls: Vec<Labels> = (0..series).map(labels).collect();
    let mut rec = Vec::new();
    for chunk in (0..series).collect::<Vec<_>>().chunks(1000) {
        rec.clear();
        encode_series(
            chunk
                .iter()
                .map(|&i| (i as u64 + 1, &ls[i]))
                .collect::<Vec<_>>()
                .into_iter(),
            &mut rec,
        );
        w.log(&[&rec]).unwrap();
    }
    let mut batch = Vec::with_capacity(1000);
    for k in 0..samples {
        let t = start_ms + k as i64 * step_ms;
        for chunk in (0..series).collect::<Vec<_>>().chunks(1000) {
            batch.clear();
            batch.extend(chunk.iter().map(|&i| RefSample {
                r: i as u64 + 1,
                t,
                v: (k * 7 + i) as f64 * 0.25,
            }));
            rec.clear();
            encode_samples(&batch, &mut rec);
            w.log(&[&rec]).unwrap();
        }
    }
    w.sync().unwrap();
    (series * samples) as u64
}

fn wal_end(wal: &Path) -> Position {
    let segs = argus_tsdb::wal::segment::list_segments(wal).unwrap();
    let (n, p) = segs.last().unwrap();
    Position {
        segment: *n,
        offset: std::fs::metadata(p).unwrap().len(),
    }
}

fn opts() -> ManagerOptions {
    ManagerOptions {
        flush_deadline: Duration::from_secs(30),
        position_sync_interval: Duration::from_secs(1),
        shard_update_interval: Duration::from_secs(2),
        wal_poll_interval: Duration::from_millis(10),
    }
}

/// Sends the whole WAL at `wal` to `url` with a fresh queue; returns the time it took.
async fn send_all(wal: &Path, url: &str, queue: &str) -> Duration {
    let state = tempfile::tempdir().unwrap();
    let cfg = parse_str(&format!("- url: {url}\n  name: bench\n{queue}")).unwrap();
    PositionFile::new(state.path(), cfg[0].destination_key(), url, "bench")
        .store(Position::default())
        .unwrap();
    let end = wal_end(wal);
    let rw =
        RemoteWriteManager::with_options(wal, state.path(), &prometheus::Registry::new(), opts())
            .unwrap();
    let start = Instant::now();
    rw.apply_config(&cfg, &BTreeMap::new()).await.unwrap();
    loop {
        if rw.status().await[0].acked == Some(end) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let took = start.elapsed();
    rw.shutdown().await;
    took
}

async fn sink() -> (String, Arc<AtomicU64>) {
    let bytes = Arc::new(AtomicU64::new(0));
    let b = bytes.clone();
    let app = axum::Router::new().route(
        "/api/v1/write",
        axum::routing::post(move |body: axum::body::Bytes| {
            let b = b.clone();
            async move {
                b.fetch_add(body.len() as u64, Ordering::Relaxed);
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(l, app).await.unwrap() });
    (format!("http://{addr}/api/v1/write"), bytes)
}

fn bench_encode(c: &mut Criterion) {
    let series: Vec<Arc<SeriesEntry>> = (0..2000)
        .map(|i| Arc::new(SeriesEntry::new(&labels(i))))
        .collect();
    let batch: Vec<QueuedSample> = series
        .iter()
        .enumerate()
        .map(|(i, s)| QueuedSample {
            series: s.clone(),
            t: 1_700_000_000_000 + i as i64,
            v: i as f64 * 0.5,
            seq: 0,
        })
        .collect();
    let mut enc = BatchEncoder::new();
    let mut g = c.benchmark_group("remote_write_send");
    g.throughput(Throughput::Elements(batch.len() as u64));
    g.bench_function("encode", |b| b.iter(|| enc.encode(&batch).0.len()));
    g.finish();
}

fn bench_wal_to_sink(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let wal = dir.path().join("wal");
    let n = write_wal(&wal, 2000, 100, 1_700_000_000_000, 15_000);
    let (url, _) = rt.block_on(sink());
    let mut g = c.benchmark_group("remote_write_send");
    g.throughput(Throughput::Elements(n));
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(20));
    g.bench_function("wal_to_sink", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| rt.block_on(send_all(&wal, &url, "")))
                .sum()
        })
    });
    g.finish();
}

/// (utime + stime) of this process, seconds.
fn cpu_seconds() -> f64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap();
    let rest = &s[s.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split(' ').collect();
    let ticks: f64 = f[11].parse::<f64>().unwrap() + f[12].parse::<f64>().unwrap();
    ticks / 100.0
}

fn status_kib(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    s.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap()
        .parse()
        .unwrap()
}

/// Resets the peak RSS so VmHWM measures from now on.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn measure_vm() {
    let series: usize = std::env::var("RW_BENCH_SERIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let samples: usize = std::env::var("RW_BENCH_SAMPLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(240);
    let tmp = tempfile::tempdir().unwrap();
    let wal = tmp.path().join("wal");
    let start_ms = argus_model::now_ms() - samples as i64 * 15_000 - 60_000;
    let t = Instant::now();
    let n = write_wal(&wal, series, samples, start_ms, 15_000);
    let wal_bytes = argus_tsdb::fs::atomic_write::dir_size(&wal);
    println!(
        "WAL: {series} series x {samples} samples = {n} samples, {:.1} MiB, written in {:.1?}",
        wal_bytes as f64 / 1048576.0,
        t.elapsed()
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut vm = std::process::Command::new("/usr/bin/victoria-metrics")
        .arg(format!(
            "-storageDataPath={}",
            tmp.path().join("vm").display()
        ))
        .arg(format!("-httpListenAddr=127.0.0.1:{port}"))
        .arg("-retentionPeriod=10y")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("victoria-metrics");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    rt.block_on(async {
        for _ in 0..600 {
            if reqwest::get(format!("{base}/health")).await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let rss0 = status_kib("VmRSS:");
    reset_peak_rss();
    let cpu0 = cpu_seconds();
    let url = format!("{base}/api/v1/write");
    let took = rt.block_on(send_all(&wal, &url, ""));
    let cpu = cpu_seconds() - cpu0;
    let peak = status_kib("VmHWM:");
    println!(
        "sent {n} samples to VictoriaMetrics in {took:.1?}: {:.0} samples/s, {:.2} CPU s per million samples",
        n as f64 / took.as_secs_f64(),
        cpu / (n as f64 / 1e6)
    );
    println!(
        "resident memory: {:.1} MiB before the queue, peak {:.1} MiB while sending: +{:.1} MiB",
        rss0 as f64 / 1024.0,
        peak as f64 / 1024.0,
        (peak.saturating_sub(rss0)) as f64 / 1024.0
    );
    let _ = vm.kill();
    let _ = vm.wait();
}

criterion_group!(benches, bench_encode, bench_wal_to_sink);

fn main() {
    if std::env::var("RW_BENCH_VM").as_deref() == Ok("1") {
        measure_vm();
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
