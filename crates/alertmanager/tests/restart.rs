//! Durability across `kill -9`: the alert manager runs in a child process (this test
//! binary re-executed in "child" mode) with a real clock, API port and webhook receiver.
//! Notifications that failed during a receiver outage, alerts still waiting for
//! group_wait, and the notification log all survive SIGKILL: after restart every
//! notification arrives exactly once (by idempotency key), and nothing is re-notified
//! before repeat_interval.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::print_stderr,
    clippy::print_stdout
)]

mod common;

use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use argus_alertmanager::{AlertManager, Config, SystemClock};
use common::Sink;

const CHILD_ENV: &str = "ARGUS_AM_RESTART_CHILD";

/// Child mode: serve until killed. Run only by `restart_after_sigkill`.
#[test]
#[ignore = "helper process of restart_after_sigkill"]
fn child_server() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let mut it = spec.splitn(3, '|');
    let (dir, port, cfg) = (it.next().unwrap(), it.next().unwrap(), it.next().unwrap());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .worker_threads(2)
        .build()
        .unwrap();
    rt.block_on(async {
        let am = AlertManager::with_options(
            Config::parse(cfg).unwrap(),
            std::path::Path::new(dir),
            "http://argus.example",
            &prometheus::Registry::new(),
            Arc::new(SystemClock),
            common::test_options(),
        )
        .unwrap();
        am.start();
        let app = axum::Router::new().nest("/api/v2", argus_alertmanager::router(am));
        let l = tokio::net::TcpListener::bind(format!("127.0.0.1:{port}"))
            .await
            .unwrap();
        println!("READY");
        axum::serve(l, app).await.unwrap();
    });
}

struct ChildAm {
    child: Child,
    url: String,
}

impl ChildAm {
    fn start(dir: &std::path::Path, cfg: &str) -> ChildAm {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--ignored",
                "--exact",
                "child_server",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, format!("{}|{port}|{cfg}", dir.display()))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut r = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        while r.read_line(&mut line).unwrap() > 0 && !line.contains("READY") {
            line.clear();
        }
        assert!(line.contains("READY"), "child did not start");
        ChildAm {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    /// SIGKILL: no shutdown code runs.
    fn kill9(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for ChildAm {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn post_alerts(url: &str, names: &[&str]) {
    let body: Vec<serde_json::Value> = names
        .iter()
        .map(|n| serde_json::json!({"labels": {"alertname": n, "job": "restart"}, "annotations": {"summary": n}}))
        .collect();
    let r = reqwest::Client::new()
        .post(format!("{url}/api/v2/alerts"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

async fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn group_of(r: &common::Received) -> String {
    r.body["groupLabels"]["alertname"]
        .as_str()
        .unwrap_or("")
        .to_owned()
}

fn key_of(r: &common::Received) -> String {
    r.headers["idempotency-key"].to_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_after_sigkill() {
    let sink = Sink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = format!(
        "global:\n  resolve_timeout: 1h\nroute:\n  receiver: hook\n  group_by: [alertname]\n  group_wait: 1s\n  group_interval: 2s\n  repeat_interval: 1h\nreceivers:\n- name: hook\n  webhook_configs:\n  - url: '{}'\n",
        sink.url()
    );

    // 1. Receiver outage: two notifications are attempted and fail, then SIGKILL.
    sink.set_status(503);
    let am = ChildAm::start(dir.path(), &cfg);
    post_alerts(&am.url, &["A", "B"]).await;
    wait_for("failed attempts for A and B", || {
        let all = sink.all();
        ["A", "B"]
            .iter()
            .all(|g| all.iter().filter(|r| group_of(r) == *g).count() >= 2)
    })
    .await;
    am.kill9();
    let failed_keys: std::collections::HashMap<String, String> = sink
        .all()
        .iter()
        .map(|r| (group_of(r), key_of(r)))
        .collect();

    // 2. Receiver back, manager restarted from its data directory: both arrive, once,
    //    as the same notifications (same idempotency keys).
    sink.set_status(200);
    let am = ChildAm::start(dir.path(), &cfg);
    wait_for("A and B delivered", || sink.delivered().len() >= 2).await;
    tokio::time::sleep(Duration::from_secs(5)).await; // > 2 group intervals
    let delivered = sink.delivered();
    assert_eq!(delivered.len(), 2, "exactly one notification per group");
    for r in &delivered {
        assert_eq!(
            key_of(r),
            failed_keys[&group_of(r)],
            "same notification as before the crash"
        );
        assert_eq!(r.body["status"], "firing");
    }

    // 3. SIGKILL again and restart: the notification log survived, nothing is re-sent
    //    before repeat_interval.
    am.kill9();
    let am = ChildAm::start(dir.path(), &cfg);
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert_eq!(
        sink.delivered().len(),
        2,
        "no re-notification after restart"
    );

    // 4. An alert still in group_wait when the process dies is notified after restart.
    post_alerts(&am.url, &["C"]).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(
        sink.all().iter().all(|r| group_of(r) != "C"),
        "C not sent before group_wait"
    );
    am.kill9();
    let _am = ChildAm::start(dir.path(), &cfg);
    wait_for("C delivered", || {
        sink.delivered().iter().any(|r| group_of(r) == "C")
    })
    .await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let delivered = sink.delivered();
    assert_eq!(
        delivered.len(),
        3,
        "{:?}",
        delivered.iter().map(group_of).collect::<Vec<_>>()
    );
    let mut keys: Vec<String> = delivered.iter().map(key_of).collect();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), 3, "no duplicate deliveries");
}
