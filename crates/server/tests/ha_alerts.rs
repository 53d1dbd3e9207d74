//! HA replicas notify once: two `argus` replicas evaluate the same alerting rule and feed
//! their built-in alert managers, which form a cluster over the peer API. A real webhook
//! receiver gets each notification once (the idempotency key is the same on both
//! replicas, so a duplicate would show as a repeated key); killing the replica that sent
//! moves notifications to the other, once; a silence made through one replica mutes the
//! other (and `amtool` pointed at the other shows it); a partition of the peer links gives
//! duplicates, never silence, and healing it stops the duplicates; a failing receiver is
//! retried by the replica that announced it is sending, not by both.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod support;

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use support::*;

const REPEAT_S: u64 = 6;

fn write_configs(dir: &Path, sink: &Sink) -> (String, String) {
    std::fs::write(
        dir.join("rules.yml"),
        "groups:\n  - name: ha\n    interval: 1s\n    rules:\n      - alert: HaTest\n        \
         expr: vector(1)\n        labels:\n          severity: page\n",
    )
    .unwrap();
    let cfg = dir.join("argus.yml");
    std::fs::write(
        &cfg,
        format!(
            "global:\n  evaluation_interval: 1s\n  external_labels:\n    cluster: test\n\
             rule_files: ['{}']\nscrape_configs: []\n",
            dir.join("rules.yml").display()
        ),
    )
    .unwrap();
    let am = dir.join("am.yml");
    std::fs::write(
        &am,
        format!(
            "route:\n  receiver: hook\n  group_by: [alertname]\n  group_wait: 1s\n  \
             group_interval: 1s\n  repeat_interval: {REPEAT_S}s\n\
             receivers:\n  - name: hook\n    webhook_configs:\n      - url: {}\n        \
             send_resolved: false\n",
            sink.url
        ),
    )
    .unwrap();
    (cfg.display().to_string(), am.display().to_string())
}

struct Pair {
    a: Argus,
    b: Argus,
}

/// Starts replicas `a` and `b`; `peers_a` / `peers_b` are the cluster ports each is told
/// about (its own included, as in a StatefulSet).
async fn start_pair(
    dir: &Path,
    sink: &Sink,
    (ca, cb): (u16, u16),
    peers_a: &[u16],
    peers_b: &[u16],
) -> Pair {
    let (cfg, am) = write_configs(dir, sink);
    let (pa, pb) = (free_port(), free_port());
    let args = |name: &str, port: u16, listen: u16, peers: &[u16]| {
        let mut v = vec![
            format!("--config.file={cfg}"),
            format!("--alertmanager.config.file={am}"),
            format!("--web.external-url=http://127.0.0.1:{port}"),
            format!("--cluster.listen-address=127.0.0.1:{listen}"),
            format!("--cluster.replica-name={name}"),
            "--cluster.peer-timeout=2s".to_owned(),
            "--cluster.pushpull-interval=1s".to_owned(),
            "--cluster.backfill.timeout=3s".to_owned(),
        ];
        v.extend(
            peers
                .iter()
                .map(|p| format!("--cluster.peer=127.0.0.1:{p}")),
        );
        v
    };
    let (aa, ba) = (args("a", pa, ca, peers_a), args("b", pb, cb, peers_b));
    let (da, db) = (dir.join("a"), dir.join("b"));
    let (a, b) = tokio::join!(Argus::start(&da, pa, &aa), Argus::start(&db, pb, &ba));
    Pair { a, b }
}

fn key(h: &Hook) -> String {
    h.headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("idempotency-key"))
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

fn sender(h: &Hook) -> String {
    h.body["externalURL"].as_str().unwrap_or("").to_owned()
}

fn counts(hooks: &[Hook]) -> HashMap<String, usize> {
    let mut m = HashMap::new();
    for h in hooks {
        *m.entry(key(h)).or_default() += 1;
    }
    m
}

fn assert_once(hooks: &[Hook], what: &str) {
    for (k, n) in counts(hooks) {
        assert_eq!(n, 1, "{what}: key {k} delivered {n} times: {hooks:#?}");
    }
}

/// All notifications came from one replica (the first in the peer order): the other
/// dropped its copies.
fn assert_one_sender(hooks: &[Hook], what: &str) {
    let senders: std::collections::BTreeSet<String> = hooks.iter().map(sender).collect();
    assert_eq!(senders.len(), 1, "{what}: sent by {senders:?}: {hooks:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notified_once_and_the_survivor_takes_over() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::start().await;
    let (ca, cb) = (free_port(), free_port());
    let mut pair = start_pair(dir.path(), &sink, (ca, cb), &[ca, cb], &[ca, cb]).await;

    // The first notification and two repeats.
    wait_for("three notifications", 60, || async {
        sink.all().len() >= 3
    })
    .await;
    // Whoever waits for its peer would have sent by now.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = sink.all();
    assert_once(&before, "both replicas up");
    assert_one_sender(&before, "both replicas up");
    for h in &before {
        assert!(!key(h).is_empty());
        let labels = &h.body["alerts"][0]["labels"];
        assert_eq!(labels["alertname"], "HaTest");
        assert_eq!(labels["cluster"], "test");
        assert!(labels.get("replica").is_none(), "{labels}");
    }

    // Kill whoever sent last; the other takes over.
    let last = sender(before.last().unwrap());
    let (dead, survivor) = if last == pair.a.url {
        (&mut pair.a, pair.b.url.clone())
    } else {
        (&mut pair.b, pair.a.url.clone())
    };
    assert!(last == dead.url, "sender {last} is neither replica");
    dead.proc.kill9();
    let n = before.len();
    wait_for("two notifications from the survivor", 60, || async {
        sink.all()[n..]
            .iter()
            .filter(|h| sender(h) == survivor)
            .count()
            >= 2
    })
    .await;
    let after = sink.all();
    let after = &after[n..];
    assert!(after.iter().all(|h| sender(h) == survivor), "{after:#?}");
    assert_once(&sink.all(), "after the failover");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silence_made_on_one_replica_mutes_the_other() {
    let Some(amtool) = peer(&["/usr/bin/amtool", "amtool"]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::start().await;
    let (ca, cb) = (free_port(), free_port());
    let mut pair = start_pair(dir.path(), &sink, (ca, cb), &[ca, cb], &[ca, cb]).await;
    wait_for("a notification", 60, || async { !sink.all().is_empty() }).await;
    // Alertmanager's cluster status, as amtool and the UI read it.
    wait_for("cluster status ready with both peers", 10, || async {
        let st = pair.b.get("/api/v2/status").await;
        st["cluster"]["status"] == "ready"
            && st["cluster"]["name"] == "b"
            && st["cluster"]["peers"]
                .as_array()
                .is_some_and(|p| p.len() == 2)
    })
    .await;

    let now = chrono::Utc::now();
    let body = serde_json::json!({
        "matchers": [{"name": "alertname", "value": "HaTest", "isRegex": false, "isEqual": true}],
        "startsAt": now.to_rfc3339(),
        "endsAt": (now + chrono::Duration::hours(1)).to_rfc3339(),
        "createdBy": "ha test",
        "comment": "made on a",
    });
    let r: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/api/v2/silences", pair.a.url))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = r["silenceID"].as_str().unwrap().to_owned();
    let seen = std::time::Instant::now();
    wait_for("the silence on b", 10, || async {
        let v = pair.b.get("/api/v2/silences").await;
        v.as_array()
            .unwrap()
            .iter()
            .any(|s| s["id"] == id && s["status"]["state"] == "active")
    })
    .await;
    eprintln!("silence visible on b after {:?}", seen.elapsed());

    let out = std::process::Command::new(&amtool)
        .args([
            "silence",
            "query",
            &format!("--alertmanager.url={}", pair.b.url),
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains(&id),
        "amtool on b does not show {id}:\n{text}"
    );
    assert!(text.contains("made on a"), "{text}");

    // With a gone, b alone would repeat the notification; the silence mutes it.
    tokio::time::sleep(Duration::from_secs(3)).await;
    pair.a.proc.kill9();
    let n = sink.all().len();
    tokio::time::sleep(Duration::from_secs(2 * REPEAT_S + 3)).await;
    let late = sink.all();
    assert_eq!(
        late.len(),
        n,
        "notified despite the silence: {:#?}",
        &late[n..]
    );
    // b is alive and has the alert, silenced.
    let alerts = pair.b.get("/api/v2/alerts").await;
    assert_eq!(alerts[0]["status"]["state"], "suppressed", "{alerts}");
}

/// A TCP proxy the test can cut (refusing new and closing open connections) and heal.
struct Proxy {
    port: u16,
    cut: Arc<AtomicBool>,
    kill: tokio::sync::watch::Sender<u64>,
}

impl Proxy {
    async fn start(target: u16) -> Proxy {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        let cut = Arc::new(AtomicBool::new(false));
        let (kill, rx) = tokio::sync::watch::channel(0u64);
        let c = cut.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut down, _)) = l.accept().await else {
                    return;
                };
                if c.load(Ordering::SeqCst) {
                    continue;
                }
                let mut rx = rx.clone();
                // Only cuts after this connection was opened close it.
                rx.borrow_and_update();
                tokio::spawn(async move {
                    let Ok(mut up) = tokio::net::TcpStream::connect(("127.0.0.1", target)).await
                    else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut down, &mut up) => {}
                        _ = rx.changed() => {}
                    }
                });
            }
        });
        Proxy { port, cut, kill }
    }

    fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        self.kill.send_modify(|g| *g += 1);
    }

    fn heal(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partition_duplicates_and_healing_stops_it() {
    let dir = tempfile::tempdir().unwrap();
    let sink = Sink::start().await;
    let (ca, cb) = (free_port(), free_port());
    let (to_a, to_b) = (Proxy::start(ca).await, Proxy::start(cb).await);
    // Each replica reaches the other only through a proxy.
    let _pair = start_pair(
        dir.path(),
        &sink,
        (ca, cb),
        &[ca, to_b.port],
        &[to_a.port, cb],
    )
    .await;
    wait_for("two notifications", 60, || async { sink.all().len() >= 2 }).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_once(&sink.all(), "connected");

    to_a.cut();
    to_b.cut();
    let n = sink.all().len();
    wait_for("a duplicate during the partition", 60, || async {
        counts(&sink.all()[n..]).values().any(|&c| c >= 2)
    })
    .await;

    to_a.heal();
    to_b.heal();
    // Let the pulls find the peers again and merge the diverged logs.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let m = sink.all().len();
    let seen_before: std::collections::HashSet<String> = sink.all().iter().map(key).collect();
    wait_for("two notifications after healing", 60, || async {
        sink.all()[m..]
            .iter()
            .filter(|h| !seen_before.contains(&key(h)))
            .count()
            >= 2
    })
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let healed: Vec<Hook> = sink.all()[m..]
        .iter()
        .filter(|h| !seen_before.contains(&key(h)))
        .cloned()
        .collect();
    assert_once(&healed, "after healing");
    // Healed, the first replica sends and the other finds each notification in the log.
    assert_one_sender(&healed, "after healing");
}

/// One request to the flaky receiver.
#[derive(Debug, Clone)]
struct Attempt {
    sender: String,
    key: String,
    status: u16,
}

/// A webhook receiver that answers 503 for `fail_for` after its first request, then 200.
async fn flaky_receiver(fail_for: Duration) -> (String, Arc<parking_lot::Mutex<Vec<Attempt>>>) {
    use axum::routing::post;
    let log: Arc<parking_lot::Mutex<Vec<Attempt>>> = Arc::default();
    let first: Arc<parking_lot::Mutex<Option<std::time::Instant>>> = Arc::default();
    let l2 = log.clone();
    let app = axum::Router::new().route(
        "/hook",
        post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let log = l2.clone();
                let first = first.clone();
                async move {
                    let started = *first.lock().get_or_insert_with(std::time::Instant::now);
                    let status = if started.elapsed() < fail_for {
                        503
                    } else {
                        200
                    };
                    let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                    log.lock().push(Attempt {
                        sender: v["externalURL"].as_str().unwrap_or("").to_owned(),
                        key: headers
                            .get("idempotency-key")
                            .and_then(|h| h.to_str().ok())
                            .unwrap_or("")
                            .to_owned(),
                        status,
                    });
                    axum::http::StatusCode::from_u16(status).unwrap()
                }
            },
        ),
    );
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(l, app).await;
    });
    (format!("http://{addr}/hook"), log)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_receiver_is_retried_by_one_replica_only() {
    let dir = tempfile::tempdir().unwrap();
    let (url, attempts) = flaky_receiver(Duration::from_secs(5)).await;
    let sink = Sink {
        url,
        got: Arc::default(),
    };
    let (ca, cb) = (free_port(), free_port());
    let pair = start_pair(dir.path(), &sink, (ca, cb), &[ca, cb], &[ca, cb]).await;
    wait_for("a delivered notification", 60, || async {
        attempts.lock().iter().any(|a| a.status == 200)
    })
    .await;
    // Longer than the other replica's wait and its deferral.
    tokio::time::sleep(Duration::from_secs(8)).await;
    let all = attempts.lock().clone();
    let failed: Vec<&Attempt> = all.iter().filter(|a| a.status != 200).collect();
    assert!(failed.len() >= 2, "the receiver was not retried: {all:#?}");
    let first_key = &failed[0].key;
    let for_first: Vec<&Attempt> = all.iter().filter(|a| &a.key == first_key).collect();
    let senders: std::collections::HashSet<&str> =
        for_first.iter().map(|a| a.sender.as_str()).collect();
    assert_eq!(senders.len(), 1, "both replicas sent it: {for_first:#?}");
    assert!(
        senders.contains(pair.a.url.as_str()) || senders.contains(pair.b.url.as_str()),
        "{senders:?}"
    );
    let delivered = for_first.iter().filter(|a| a.status == 200).count();
    assert_eq!(delivered, 1, "{for_first:#?}");
    // The other replica had the same notification queued and dropped it: it waited on
    // the announcement while the receiver failed, then found it in the shared log.
    let other = if senders.contains(pair.a.url.as_str()) {
        &pair.b
    } else {
        &pair.a
    };
    let hist = other.get("/api/v2/notifications").await;
    let rec = hist
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["idempotencyKey"] == first_key.as_str());
    assert!(
        rec.is_some_and(|r| r["status"] == "delivered by peer"),
        "{hist:#}"
    );
}
