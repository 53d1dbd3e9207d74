//! A real Alertmanager (Debian's `prometheus-alertmanager`, started here on a free port)
//! receives Argus' alerts through `alerting.alertmanagers`, shows them with the right
//! labels, annotations, startsAt and generatorURL, and drops them once resolved.

#![allow(clippy::indexing_slicing, clippy::unwrap_used)]

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use argus_alert::notifier::{format_api_time, AlertingConfig, NotifierOptions};
use argus_alert::{ManualClock, Notifier, RuleManager, RuleManagerOptions};
use argus_model::memstore::MemStorage;
use argus_model::Labels;
use argus_query::Engine;

struct Killer(Child);

impl Drop for Killer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn binary() -> Option<&'static str> {
    for b in ["prometheus-alertmanager", "alertmanager"] {
        if Command::new(b)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
        {
            return Some(b);
        }
    }
    if std::env::var("ARGUS_SKIP_PEER_TESTS").as_deref() == Ok("1") {
        return None;
    }
    panic!("Alertmanager not found: apt-get install prometheus-alertmanager, or set ARGUS_SKIP_PEER_TESTS=1 to skip peer tests");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn alerts(client: &reqwest::Client, base: &str) -> Vec<serde_json::Value> {
    let r = client
        .get(format!("{base}/api/v2/alerts"))
        .send()
        .await
        .unwrap();
    r.json::<Vec<serde_json::Value>>().await.unwrap()
}

async fn wait_for<F: Fn(&[serde_json::Value]) -> bool>(
    client: &reqwest::Client,
    base: &str,
    f: F,
) -> Vec<serde_json::Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let a = alerts(client, base).await;
        if f(&a) || Instant::now() > deadline {
            return a;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alerts_fire_and_resolve_in_a_real_alertmanager() {
    let Some(bin) = binary() else { return };
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("am.yml"),
        "route:\n  receiver: blackhole\nreceivers:\n- name: blackhole\n",
    )
    .unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let child = Command::new(bin)
        .arg(format!(
            "--config.file={}",
            dir.path().join("am.yml").display()
        ))
        .arg(format!(
            "--storage.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--cluster.listen-address=")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _guard = Killer(child);
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = client.get(format!("{base}/-/ready")).send().await {
            if r.status().is_success() {
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "Alertmanager did not become ready on {base}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Argus side: notifier → that Alertmanager, rules over MemStorage.
    let registry = prometheus::Registry::new();
    let ext = [("cluster".to_string(), "test".to_string())].into();
    let notifier = Notifier::new(
        NotifierOptions {
            external_labels: ext,
            ..Default::default()
        },
        &registry,
    )
    .unwrap();
    let cfg: AlertingConfig = serde_yaml_ng::from_str(&format!(
        "alertmanagers:\n- static_configs:\n  - targets: ['127.0.0.1:{port}']\n  timeout: 5s\n"
    ))
    .unwrap();
    notifier.apply_config(&cfg).unwrap();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(notifier.clone().run(stop_rx));

    std::fs::write(
        dir.path().join("rules.yml"),
        "groups:\n- name: g\n  rules:\n  - alert: DiskFull\n    expr: disk_used > 0.9\n    labels: {severity: page}\n    annotations: {summary: \"{{ $labels.instance }} at {{ $value | humanizePercentage }}\"}\n",
    )
    .unwrap();
    // Real wall-clock times, in the recent past, so that Alertmanager judges endsAt as we do.
    let now = argus_model::now_ms() / 1000 * 1000;
    let (t1, t2) = (now - 120_000, now - 60_000);
    let storage = Arc::new(MemStorage::new());
    let l = Labels::from_pairs(&[("__name__", "disk_used"), ("instance", "db1")]);
    storage.add(&l, &[(t1, 0.95), (t2, 0.5)]).unwrap();
    let clock = Arc::new(ManualClock::new(t1));
    let opts = RuleManagerOptions {
        clock: clock.clone(),
        external_url: "http://argus.test:9090".into(),
        restore_for_state: false,
        ..Default::default()
    };
    let mgr = RuleManager::new(
        Engine::default(),
        storage.clone(),
        storage.clone(),
        notifier.clone(),
        &registry,
        opts,
    );
    mgr.load(&[dir.path().join("rules.yml").display().to_string()])
        .unwrap();

    mgr.eval_all(t1);
    let got = wait_for(&client, &base, |a| !a.is_empty()).await;
    assert_eq!(got.len(), 1, "{got:?}");
    let a = &got[0];
    assert_eq!(a["labels"]["alertname"], "DiskFull");
    assert_eq!(a["labels"]["severity"], "page");
    assert_eq!(a["labels"]["instance"], "db1");
    assert_eq!(a["labels"]["cluster"], "test", "external labels added");
    assert_eq!(a["annotations"]["summary"], "db1 at 95%");
    assert_eq!(
        a["generatorURL"],
        "http://argus.test:9090/graph?g0.expr=disk_used+%3E+0.9&g0.tab=1"
    );
    assert_eq!(a["startsAt"], format_api_time(t1));
    assert_eq!(a["endsAt"], format_api_time(t1 + 4 * 60_000));
    assert_eq!(a["status"]["state"], "active");

    // The condition clears: the resolved alert (endsAt = t2, in the past) leaves the list.
    mgr.eval_all(t2);
    let got = wait_for(&client, &base, |a| a.is_empty()).await;
    assert!(got.is_empty(), "resolved alert still active: {got:?}");

    let _ = stop_tx.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
    let sent: f64 = registry
        .gather()
        .iter()
        .filter(|f| f.name() == "argus_notifications_sent_total")
        .flat_map(|f| f.get_metric().iter().map(|m| m.get_counter().get_value()))
        .sum();
    assert_eq!(sent, 2.0, "one firing and one resolved notification");
}
