//! A real Prometheus (Debian `prometheus`) with `alerting.alertmanagers` pointing at
//! Argus' API: an alerting rule over data it scraped fires, Prometheus posts the alert to
//! `/api/v2/alerts`, and Argus routes it to a webhook.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::print_stderr,
    clippy::print_stdout
)]

mod common;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use argus_alertmanager::{AlertManager, Config, SystemClock};
use common::Sink;

struct Killer(std::process::Child);

impl Drop for Killer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_alerts_are_routed_to_webhook() {
    let Some(prom) = common::peer("prometheus", "prometheus") else {
        return;
    };
    let sink = Sink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let cfg = format!(
        "route:\n  receiver: default\n  group_by: [alertname]\n  group_wait: 1s\n  routes:\n  - matchers: ['severity=\"page\"']\n    receiver: hook\nreceivers:\n- name: default\n- name: hook\n  webhook_configs:\n  - url: '{}'\n",
        sink.url()
    );
    let am = AlertManager::with_options(
        Config::parse(&cfg).unwrap(),
        &dir.path().join("am"),
        "http://argus.example",
        &prometheus::Registry::new(),
        Arc::new(SystemClock),
        common::test_options(),
    )
    .unwrap();
    am.start();
    let addr = common::serve_api(am.clone()).await;

    let prom_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    std::fs::write(
        dir.path().join("rules.yml"),
        "groups:\n- name: argus\n  interval: 1s\n  rules:\n  - alert: TargetUp\n    expr: up{job=\"self\"} == 1\n    labels:\n      severity: page\n    annotations:\n      summary: '{{ $labels.instance }} is up'\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("prometheus.yml"),
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files: [rules.yml]\nalerting:\n  alertmanagers:\n  - static_configs:\n    - targets: ['{addr}']\nscrape_configs:\n- job_name: self\n  static_configs:\n  - targets: ['127.0.0.1:{prom_port}']\n"
        ),
    )
    .unwrap();
    let _prom = Killer(
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
    let start = Instant::now();
    while sink.delivered().is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "no notification from Prometheus' alert"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let r = &sink.delivered()[0];
    assert_eq!(r.body["receiver"], "hook");
    assert_eq!(r.body["status"], "firing");
    let a = &r.body["alerts"][0];
    assert_eq!(a["labels"]["alertname"], "TargetUp");
    assert_eq!(a["labels"]["job"], "self");
    assert_eq!(a["labels"]["severity"], "page");
    assert_eq!(
        a["annotations"]["summary"],
        format!("127.0.0.1:{prom_port} is up")
    );
    assert!(
        a["generatorURL"]
            .as_str()
            .unwrap()
            .contains("/graph?g0.expr="),
        "{a}"
    );
    let views = am.alerts();
    assert_eq!(views.len(), 1);
    assert_eq!(views[0].receivers, vec!["hook".to_owned()]);
    // Prometheus sends endsAt (about 4 resend intervals ahead): not a timeout-derived end.
    assert!(!views[0].alert.timeout);
    am.stop().await;
}
