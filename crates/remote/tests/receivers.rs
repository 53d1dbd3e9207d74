//! The sender against real receivers (Debian's VictoriaMetrics and Prometheus with
//! `--web.enable-remote-write-receiver`): what the TSDB holds is what they hold, a
//! 30-second receiver outage loses nothing, and a sender killed with SIGKILL in the middle
//! of a backlog delivers the rest after it restarts.
//!
//! The SIGKILL test runs the sender in a child process: this test binary re-executed with
//! `ARGUS_RW_CHILD` set runs the ignored `sender_child` test.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::print_stdout,
    clippy::print_stderr
)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use argus_model::{is_stale_nan, now_ms, Matcher, Queryable};
use argus_remote::{parse_str, ManagerOptions, RemoteWriteManager};
use common::*;

const CHILD_ENV: &str = "ARGUS_RW_CHILD";

fn opts() -> ManagerOptions {
    ManagerOptions {
        flush_deadline: Duration::from_secs(20),
        position_sync_interval: Duration::from_millis(200),
        shard_update_interval: Duration::from_secs(2),
        wal_poll_interval: Duration::from_millis(50),
    }
}

fn start_vm(bin: &Path, dir: &Path, port: u16) -> Kill {
    Kill(Some(
        Command::new(bin)
            .arg(format!("-storageDataPath={}", dir.display()))
            .arg(format!("-httpListenAddr=127.0.0.1:{port}"))
            .arg("-retentionPeriod=10y")
            .arg("-search.latencyOffset=0s")
            // Samples resent after a crash must not count twice.
            .arg("-dedup.minScrapeInterval=1ms")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    ))
}

fn start_prometheus(bin: &Path, dir: &Path, port: u16) -> Kill {
    let cfg = dir.join("prometheus.yml");
    // The out-of-order window makes resent (duplicate) samples harmless; without it
    // Prometheus answers 400 to a batch holding any sample older than the series' newest.
    std::fs::write(
        &cfg,
        "global:\n  scrape_interval: 1m\nstorage:\n  tsdb:\n    out_of_order_time_window: 3h\n",
    )
    .unwrap();
    Kill(Some(
        Command::new(bin)
            .arg(format!("--config.file={}", cfg.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--web.enable-remote-write-receiver")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    ))
}

async fn vm_flush(base: &str) {
    let _ = reqwest::get(format!("{base}/internal/force_flush")).await;
}

/// Waits until every queue has acknowledged everything in the WAL.
async fn wait_drained(rw: &RemoteWriteManager, wal: &Path, timeout: Duration) -> bool {
    wait_for_async(timeout, || async {
        let segs = argus_tsdb::wal::segment::list_segments(wal).unwrap();
        let (n, p) = segs.last().unwrap().clone();
        let size = std::fs::metadata(&p).unwrap().len();
        let end = argus_remote::Position {
            segment: n,
            offset: size,
        };
        rw.status().await.iter().all(|s| s.acked == Some(end))
    })
    .await
}

async fn api_series(base: &str, m: &str) -> BTreeSet<BTreeMap<String, String>> {
    let r: serde_json::Value = reqwest::Client::new()
        .get(format!("{base}/api/v1/series"))
        .query(&[("match[]", m), ("start", "0")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            s.as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect()
        })
        .collect()
}

/// Raw samples of `selector` in the last hour (a range-vector instant query; stale markers
/// are not returned by either receiver).
async fn count_raw(base: &str, selector: &str) -> usize {
    let at = format!("{:.3}", (now_ms() + 60_000) as f64 / 1000.0);
    let r: serde_json::Value = reqwest::Client::new()
        .get(format!("{base}/api/v1/query"))
        .query(&[("query", format!("{selector}[1h]")), ("time", at)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["status"], "success", "{r}");
    r["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["values"].as_array().unwrap().len())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_exporter_data_reaches_victoria_metrics_and_prometheus_complete() {
    init_tracing();
    let (Some(vm), Some(prom), Some(ne)) = (
        peer("victoria-metrics"),
        peer("prometheus"),
        peer("prometheus-node-exporter"),
    ) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let (vm_port, prom_port, ne_port) = (free_port(), free_port(), free_port());
    let _vm = start_vm(&vm, &tmp.path().join("vm"), vm_port);
    std::fs::create_dir_all(tmp.path().join("prom")).unwrap();
    let _prom = start_prometheus(&prom, &tmp.path().join("prom"), prom_port);
    let _ne = Kill(Some(
        Command::new(ne)
            .arg(format!("--web.listen-address=127.0.0.1:{ne_port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    ));
    let vm_base = format!("http://127.0.0.1:{vm_port}");
    let prom_base = format!("http://127.0.0.1:{prom_port}");
    assert!(wait_http_ok(&format!("{vm_base}/health"), Duration::from_secs(60)).await);
    assert!(wait_http_ok(&format!("{prom_base}/-/ready"), Duration::from_secs(60)).await);

    let db = open_db(&tmp.path().join("argus"));
    let reg = prometheus::Registry::new();
    let rw = RemoteWriteManager::with_options(
        db.wal_dir(),
        tmp.path().join("argus/remote_write"),
        &reg,
        opts(),
    )
    .unwrap();
    let cfg = parse_str(&format!(
        "- url: {vm_base}/api/v1/write\n  name: vm\n  queue_config:\n    batch_send_deadline: 200ms\n- url: {prom_base}/api/v1/write\n  name: prom\n  queue_config:\n    batch_send_deadline: 200ms\n"
    ))
    .unwrap();
    rw.apply_config(&cfg, &BTreeMap::new()).await.unwrap();

    let sm = argus_scrape::ScrapeManager::new(Arc::new(db.clone()), &prometheus::Registry::new());
    let scrape = format!(
        "scrape_configs:\n  - job_name: node\n    scrape_interval: 500ms\n    scrape_timeout: 450ms\n    static_configs:\n      - targets: ['127.0.0.1:{ne_port}']\n"
    );
    sm.apply_config(&argus_scrape::config::load_str(&scrape, "scrape.yml").unwrap())
        .await
        .unwrap();
    let runner = sm.clone();
    let run = tokio::spawn(async move { runner.run().await });
    tokio::time::sleep(Duration::from_secs(6)).await;
    sm.shutdown();
    run.await.unwrap();
    assert!(wait_drained(&rw, &db.wal_dir(), Duration::from_secs(60)).await);
    vm_flush(&vm_base).await;

    // What Argus holds.
    let q = db.querier(i64::MIN, i64::MAX).unwrap();
    let m = Matcher::new(argus_model::MatchOp::Regex, "__name__", ".+").unwrap();
    let mut set = q.select(true, None, &[m]);
    let local = argus_model::storage::collect_series(&mut *set).unwrap();
    let local_series: BTreeSet<BTreeMap<String, String>> = local
        .iter()
        .map(|(l, _)| {
            l.iter()
                .map(|x| (x.name.to_owned(), x.value.to_owned()))
                .collect()
        })
        .collect();
    let local_samples: usize = local
        .iter()
        .map(|(_, s)| s.iter().filter(|x| !is_stale_nan(x.v)).count())
        .sum();
    assert!(
        local_series.len() > 100,
        "node_exporter has hundreds of series"
    );
    let sel = "{job=\"node\"}";
    for (name, base) in [("VictoriaMetrics", &vm_base), ("Prometheus", &prom_base)] {
        let ok = wait_for_async(Duration::from_secs(30), || async {
            api_series(base, sel).await.len() >= local_series.len()
        })
        .await;
        let remote = api_series(base, sel).await;
        assert!(
            ok,
            "{name}: {} of {} series",
            remote.len(),
            local_series.len()
        );
        assert_eq!(remote, local_series, "{name} holds exactly Argus' series");
        let n = count_raw(base, "{job=\"node\"}").await;
        assert_eq!(n, local_samples, "{name} holds exactly Argus' samples");
        println!("{name}: {} series, {n} samples", remote.len());
    }
    rw.shutdown().await;
    db.close().unwrap();
}

/// Appends one commit of `series` samples per `every` until `stop` is set.
fn appender(
    db: argus_tsdb::Db,
    series: usize,
    every: Duration,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<usize> {
    std::thread::spawn(move || {
        let labels: Vec<_> = (0..series).map(|i| series_labels("rw_outage", i)).collect();
        let mut n = 0;
        let mut t = 0;
        while !stop.load(std::sync::atomic::Ordering::Relaxed) {
            t = now_ms().max(t + 1);
            let mut app = argus_model::Appendable::appender(&db);
            for (i, l) in labels.iter().enumerate() {
                app.append(None, l, t, i as f64).unwrap();
            }
            app.commit().unwrap();
            n += series;
            std::thread::sleep(every);
        }
        n
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_30_second_receiver_outage_loses_nothing() {
    init_tracing();
    let (Some(vm), Some(prom)) = (peer("victoria-metrics"), peer("prometheus")) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let (vm_port, prom_port) = (free_port(), free_port());
    std::fs::create_dir_all(tmp.path().join("prom")).unwrap();
    let mut vm_proc = start_vm(&vm, &tmp.path().join("vm"), vm_port);
    let mut prom_proc = start_prometheus(&prom, &tmp.path().join("prom"), prom_port);
    let vm_base = format!("http://127.0.0.1:{vm_port}");
    let prom_base = format!("http://127.0.0.1:{prom_port}");
    assert!(wait_http_ok(&format!("{vm_base}/health"), Duration::from_secs(60)).await);
    assert!(wait_http_ok(&format!("{prom_base}/-/ready"), Duration::from_secs(60)).await);

    let db = open_db(&tmp.path().join("argus"));
    let reg = prometheus::Registry::new();
    let rw = RemoteWriteManager::with_options(
        db.wal_dir(),
        tmp.path().join("argus/remote_write"),
        &reg,
        opts(),
    )
    .unwrap();
    let cfg = parse_str(&format!(
        "- url: {vm_base}/api/v1/write\n  name: vm\n  queue_config:\n    batch_send_deadline: 200ms\n    max_backoff: 2s\n- url: {prom_base}/api/v1/write\n  name: prom\n  queue_config:\n    batch_send_deadline: 200ms\n    max_backoff: 2s\n"
    ))
    .unwrap();
    rw.apply_config(&cfg, &BTreeMap::new()).await.unwrap();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = appender(db.clone(), 50, Duration::from_millis(20), stop.clone());
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = metric(&reg, "argus_remote_storage_samples_total");
    assert!(before > 0.0, "sending before the outage");
    // Graceful stops: the receivers keep what they acknowledged.
    vm_proc.terminate();
    prom_proc.terminate();
    let down = Instant::now();
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert!(metric(&reg, "argus_remote_storage_samples_retried_total") > 0.0);
    let _vm2 = start_vm(&vm, &tmp.path().join("vm"), vm_port);
    let _prom2 = start_prometheus(&prom, &tmp.path().join("prom"), prom_port);
    println!("receivers were down for {:?}", down.elapsed());
    assert!(wait_http_ok(&format!("{vm_base}/health"), Duration::from_secs(60)).await);
    assert!(wait_http_ok(&format!("{prom_base}/-/ready"), Duration::from_secs(60)).await);
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let written = writer.join().unwrap();
    assert!(wait_drained(&rw, &db.wal_dir(), Duration::from_secs(120)).await);
    vm_flush(&vm_base).await;
    for (name, base) in [("VictoriaMetrics", &vm_base), ("Prometheus", &prom_base)] {
        let q = "sum(count_over_time(rw_outage[1h]))";
        let ok = wait_for_async(Duration::from_secs(30), || async {
            query_sum(base, q).await as usize == written
        })
        .await;
        let got = query_sum(base, q).await as usize;
        assert!(ok, "{name}: {got} of {written} samples");
        println!("{name}: all {written} samples after the outage");
    }
    assert_eq!(
        metric(&reg, "argus_remote_storage_samples_failed_total"),
        0.0
    );
    rw.shutdown().await;
    db.close().unwrap();
}

const KILL_SERIES: usize = 100;
const KILL_SAMPLES: usize = 3000;

/// Child mode: `<dir>|<url>|fill` appends a backlog and sends it; `<dir>|<url>|resume` only
/// sends. Prints `SENT <n>` lines until killed.
#[test]
#[ignore = "helper process of sigkill_mid_backlog_then_restart_delivers_everything"]
fn sender_child() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let parts: Vec<&str> = spec.split('|').collect();
    let (dir, url, mode) = (Path::new(parts[0]), parts[1], parts[2]);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let db = open_db(dir);
        // Small batches on one shard: the backlog takes seconds, so the kill lands inside.
        let cfg = parse_str(&format!(
            "- url: {url}\n  name: vm\n  queue_config:\n    max_samples_per_send: 50\n    max_shards: 1\n    batch_send_deadline: 100ms\n"
        ))
        .unwrap();
        let start = |reg: &prometheus::Registry| {
            RemoteWriteManager::with_options(db.wal_dir(), dir.join("remote_write"), reg, opts())
                .unwrap()
        };
        if mode == "fill" {
            // The queue exists before the backlog is written, so all of it is to be sent.
            let rw = start(&prometheus::Registry::new());
            rw.apply_config(&cfg, &BTreeMap::new()).await.unwrap();
            rw.shutdown().await;
            let t0 = now_ms() - 3_300_000;
            fill(&db, "rw_kill", KILL_SERIES, KILL_SAMPLES, t0, 1000);
        }
        let reg = prometheus::Registry::new();
        let rw = start(&reg);
        rw.apply_config(&cfg, &BTreeMap::new()).await.unwrap();
        let mut out = std::io::stdout();
        loop {
            writeln!(
                out,
                "SENT {}",
                metric(&reg, "argus_remote_storage_samples_total")
            )
            .unwrap();
            out.flush().unwrap();
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
}

fn spawn_child(dir: &Path, url: &str, mode: &str) -> (Kill, std::sync::mpsc::Receiver<f64>) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "sender_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, format!("{}|{url}|{mode}", dir.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(n) = line.strip_prefix("SENT ") {
                if tx.send(n.parse().unwrap_or(0.0)).is_err() {
                    return;
                }
            }
        }
    });
    (Kill(Some(child)), rx)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_backlog_then_restart_delivers_everything() {
    init_tracing();
    let Some(vm) = peer("victoria-metrics") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let port = free_port();
    let _vm = start_vm(&vm, &tmp.path().join("vm"), port);
    let base = format!("http://127.0.0.1:{port}");
    assert!(wait_http_ok(&format!("{base}/health"), Duration::from_secs(60)).await);
    let url = format!("{base}/api/v1/write");
    let dir = tmp.path().join("argus");
    let total = (KILL_SERIES * KILL_SAMPLES) as f64;

    let (mut child, rx) = spawn_child(&dir, &url, "fill");
    let end = Instant::now() + Duration::from_secs(120);
    let mut at_kill = 0.0;
    while Instant::now() < end {
        match rx.recv_timeout(Duration::from_secs(5)) {
            Ok(n) if n >= total * 0.2 => {
                at_kill = n;
                break;
            }
            Ok(_) | Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
            Err(e) => panic!("child ended: {e}"),
        }
    }
    // SIGKILL: no shutdown, no final position save.
    if let Some(c) = child.0.as_mut() {
        c.kill().unwrap();
        c.wait().unwrap();
    }
    println!("killed after {at_kill} of {total} samples were sent");
    assert!(at_kill >= total * 0.2, "the child sent {at_kill}");
    assert!(at_kill < total, "the kill must land inside the backlog");
    let pos = std::fs::read_dir(dir.join("remote_write"))
        .unwrap()
        .filter_map(Result::ok)
        .find(|e| e.path().extension().is_some_and(|x| x == "pos"))
        .unwrap();
    println!(
        "position file after the kill:\n{}",
        std::fs::read_to_string(pos.path()).unwrap()
    );

    let (_child2, rx2) = spawn_child(&dir, &url, "resume");
    let q = "sum(count_over_time(rw_kill[2h]))";
    let got_all = wait_for_async(Duration::from_secs(180), || {
        while rx2.try_recv().is_ok() {}
        let base = base.clone();
        async move {
            vm_flush(&base).await;
            query_sum(&base, q).await >= total
        }
    })
    .await;
    let got = query_sum(&base, q).await;
    assert!(got_all, "VictoriaMetrics holds {got} of {total} samples");
    assert_eq!(got, total);
    let series = query_sum(&base, "count(count_over_time(rw_kill[2h]))").await;
    assert_eq!(series, KILL_SERIES as f64);
}
