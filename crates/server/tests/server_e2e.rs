//! The `argus` binary end to end, with real peers: it scrapes a real node_exporter and a
//! test exporter, evaluates recording and alerting rules over the scraped data, and its
//! built-in alert manager delivers the alert to a real HTTP webhook receiver and a real
//! SMTP server (aiosmtpd), firing and
//! then resolved. Also: reloads (SIGHUP, `/-/reload`) with bad and good files, and the
//! promtool-style subcommands on real files.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod support;

use std::process::Command;
use std::time::Duration;

use support::*;

fn write(dir: &std::path::Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

const RULES: &str = r#"
groups:
  - name: demo
    interval: 1s
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
      - alert: DemoHigh
        expr: demo_value > 0
        labels:
          severity: page
        annotations:
          summary: "{{ $labels.instance }} is at {{ $value }}"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrape_rules_and_alerts_reach_webhook_and_email() {
    let Some(node_exporter) = peer(&["prometheus-node-exporter", "node_exporter"]) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let ne_port = free_port();
    let _ne = spawn(
        &node_exporter,
        &[format!("--web.listen-address=127.0.0.1:{ne_port}")],
        &dir.path().join("node_exporter.log"),
    );
    let exporter = Exporter::start("# TYPE demo_value gauge\ndemo_value 1\n").await;
    let sink = Sink::start().await;
    let Some(smtp) = Smtp::start() else {
        return;
    };

    write(dir.path(), "rules.yml", RULES);
    let config = write(
        dir.path(),
        "argus.yml",
        &format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n  \
             external_labels:\n    cluster: test\n\
             rule_files: ['rules.yml']\n\
             scrape_configs:\n\
             \x20 - job_name: node\n    static_configs:\n      - targets: ['127.0.0.1:{ne_port}']\n\
             \x20 - job_name: demo\n    static_configs:\n      - targets: ['{}']\n",
            exporter.addr
        ),
    );
    let am_config = write(
        dir.path(),
        "am.yml",
        &format!(
            "global:\n  smtp_smarthost: '127.0.0.1:{}'\n  smtp_from: argus@example.org\n  \
             smtp_require_tls: false\n\
             route:\n  receiver: hook\n  group_by: [alertname]\n  group_wait: 1s\n  \
             group_interval: 1s\n  repeat_interval: 1h\n\
             receivers:\n  - name: hook\n    webhook_configs:\n      - url: {}\n        \
             send_resolved: true\n    email_configs:\n      - to: oncall@example.org\n",
            smtp.port, sink.url
        ),
    );
    let port = free_port();
    let argus = Argus::start(
        &dir.path().join("data"),
        port,
        &[
            format!("--config.file={config}"),
            format!("--alertmanager.config.file={am_config}"),
            format!("--web.external-url=http://argus.example:{port}"),
        ],
    )
    .await;

    // Both targets healthy, with Prometheus' target fields.
    wait_for("both targets up", 30, || async {
        let t = argus.get("/api/v1/targets").await;
        let active = t["data"]["activeTargets"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        active.len() == 2 && active.iter().all(|a| a["health"] == "up")
    })
    .await;
    // Real node_exporter series, the recording rule's output, and the synthetic series.
    wait_for("node series and recording rule", 30, || async {
        !argus.query("node_cpu_seconds_total").await.is_empty()
            && argus.query("job:up:sum").await.len() == 2
            && !argus
                .query("scrape_samples_scraped{job=\"node\"}")
                .await
                .is_empty()
    })
    .await;
    let meta = argus
        .get("/api/v1/metadata?metric=node_cpu_seconds_total")
        .await;
    assert_eq!(meta["data"]["node_cpu_seconds_total"][0]["type"], "counter");

    // The alert fires and is delivered once to the webhook with Alertmanager's payload.
    wait_for("firing notification", 40, || async {
        sink.all().iter().any(|h| h.body["status"] == "firing")
    })
    .await;
    let firing = sink
        .all()
        .into_iter()
        .find(|h| h.body["status"] == "firing")
        .unwrap();
    let b = &firing.body;
    assert_eq!(b["version"], "4");
    assert_eq!(b["receiver"], "hook");
    assert_eq!(b["groupKey"], "{}:{alertname=\"DemoHigh\"}");
    let a = &b["alerts"][0];
    assert_eq!(a["labels"]["alertname"], "DemoHigh");
    assert_eq!(a["labels"]["severity"], "page");
    assert_eq!(a["labels"]["cluster"], "test", "external labels are added");
    assert_eq!(a["labels"]["job"], "demo");
    assert_eq!(
        a["annotations"]["summary"],
        format!("{} is at 1", exporter.addr)
    );
    assert!(a["generatorURL"]
        .as_str()
        .unwrap()
        .starts_with(&format!("http://argus.example:{port}/graph?g0.expr=")));
    // The same notification by email, with Alertmanager's default subject.
    wait_for("an email", 30, || async { !smtp.messages().is_empty() }).await;
    let mail = &smtp.messages()[0];
    assert_eq!(mail["rcpt_tos"][0], "oncall@example.org");
    let subject = mail["headers"]["Subject"].as_str().unwrap();
    assert!(subject.starts_with("[FIRING:1] DemoHigh"), "{subject}");
    let html = mail["parts"]["text/html"].as_str().unwrap();
    assert!(
        html.contains(&format!("{} is at 1", exporter.addr)),
        "{html}"
    );

    let alerts = argus.get("/api/v1/alerts").await;
    assert_eq!(alerts["data"]["alerts"][0]["state"], "firing");
    let v2 = argus.get("/api/v2/alerts").await;
    assert_eq!(v2[0]["labels"]["alertname"], "DemoHigh");

    // The condition clears: the alert resolves and the resolve is delivered.
    exporter.set("# TYPE demo_value gauge\ndemo_value 0\n");
    wait_for("resolved notification", 60, || async {
        sink.all().iter().any(|h| h.body["status"] == "resolved")
    })
    .await;
    let rules = argus.get("/api/v1/rules").await;
    let group = &rules["data"]["groups"][0];
    assert_eq!(group["name"], "demo");
    assert_eq!(group["rules"][0]["health"], "ok");
    assert_eq!(group["rules"][1]["state"], "inactive");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_keeps_the_running_config_when_the_new_one_is_bad() {
    let dir = tempfile::tempdir().unwrap();
    let exporter = Exporter::start("a_metric 1\n").await;
    let cfg_for = |job: &str| {
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: {job}\n    \
             static_configs:\n      - targets: ['{}']\n",
            exporter.addr
        )
    };
    let config = write(dir.path(), "argus.yml", &cfg_for("first"));
    let argus = Argus::start(
        &dir.path().join("data"),
        free_port(),
        &[
            format!("--config.file={config}"),
            "--web.enable-lifecycle".to_owned(),
        ],
    )
    .await;
    let pools = || async { argus.get("/api/v1/scrape_pools").await["data"]["scrapePools"].clone() };
    assert_eq!(pools().await, serde_json::json!(["first"]));

    // A bad file: the reload fails, says why, and the running configuration stays.
    write(
        dir.path(),
        "argus.yml",
        "scrape_configs:\n  - job_name: x\n    bogus_field: 1\n",
    );
    let r = reqwest::Client::new()
        .post(format!("{}/-/reload", argus.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    assert!(r.text().await.unwrap().contains("bogus_field"));
    assert_eq!(
        argus
            .self_metric("argus_config_last_reload_successful")
            .await,
        Some(0.0)
    );
    assert_eq!(pools().await, serde_json::json!(["first"]));
    let rt = argus.get("/api/v1/status/runtimeinfo").await;
    assert_eq!(rt["data"]["reloadConfigSuccess"], false);

    // A good file through SIGHUP.
    write(dir.path(), "argus.yml", &cfg_for("second"));
    argus.proc.signal(libc::SIGHUP);
    wait_for("the second pool", 20, || async {
        pools().await == serde_json::json!(["second"])
    })
    .await;
    // The pool switches while the reload is still applying the other components; the
    // outcome metric is set once all of them accepted it.
    wait_for("the reload to be reported successful", 20, || async {
        argus
            .self_metric("argus_config_last_reload_successful")
            .await
            == Some(1.0)
    })
    .await;
    wait_for("a scrape of the second job", 20, || async {
        !argus.query("a_metric{job=\"second\"}").await.is_empty()
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_endpoints_are_off_unless_enabled() {
    let dir = tempfile::tempdir().unwrap();
    let argus = Argus::start(&dir.path().join("data"), free_port(), &[]).await;
    let r = reqwest::Client::new()
        .post(format!("{}/-/reload", argus.url))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // The embedded default config: Argus scrapes itself.
    let pools = argus.get("/api/v1/scrape_pools").await;
    assert_eq!(
        pools["data"]["scrapePools"],
        serde_json::json!(["argus", "node"])
    );
    wait_for("self-scrape", 30, || async {
        !argus.query("up{job=\"argus\"} == 1").await.is_empty()
    })
    .await;
}

#[test]
fn check_and_test_subcommands() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "rules.yml", RULES);
    let good = write(
        dir.path(),
        "good.yml",
        "rule_files: ['rules.yml']\nscrape_configs:\n  - job_name: a\n    static_configs:\n      \
         - targets: ['h:1']\n",
    );
    let out = Command::new(argus_bin())
        .args(["check", "config", &good])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("SUCCESS: 1 rule files found"), "{stdout}");
    assert!(stdout.contains("SUCCESS: 2 rules found"), "{stdout}");

    let bad = write(
        dir.path(),
        "bad.yml",
        "scrape_configs:\n  - job_name: a\n    scrape_interval: soon\n",
    );
    let out = Command::new(argus_bin())
        .args(["check", "config", &bad])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("bad.yml:3"),
        "error names file and line: {stdout}"
    );

    let test = write(
        dir.path(),
        "test.yml",
        "rule_files: ['rules.yml']\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    \
         input_series:\n      - series: 'demo_value{instance=\"i\",job=\"j\"}'\n        \
         values: '1 1 1'\n    alert_rule_test:\n      - eval_time: 1m\n        alertname: DemoHigh\n        \
         exp_alerts:\n          - exp_labels: {severity: page, instance: i, job: j}\n            \
         exp_annotations: {summary: 'i is at 1'}\n",
    );
    let out = Command::new(argus_bin())
        .args(["test", "rules", &test])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.contains("SUCCESS"), "{stdout}");

    let am = write(
        dir.path(),
        "am.yml",
        "route:\n  receiver: x\nreceivers:\n  - name: x\n",
    );
    let out = Command::new(argus_bin())
        .args(["check", "alertmanager-config", &am])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let am_bad = write(dir.path(), "am-bad.yml", "route:\n  receiver: missing\n");
    let out = Command::new(argus_bin())
        .args(["check", "alertmanager-config", &am_bad])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_subcommand_prints_a_table() {
    let dir = tempfile::tempdir().unwrap();
    let argus = Argus::start(&dir.path().join("data"), free_port(), &[]).await;
    wait_for("self-scrape", 30, || async {
        !argus.query("up{job=\"argus\"}").await.is_empty()
    })
    .await;
    let url = argus.url.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(argus_bin())
            .args(["query", "instant", &url, "up{job=\"argus\"}"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(stdout.starts_with("SERIES"), "{stdout}");
    assert!(stdout.contains("up{instance=\"localhost:"), "{stdout}");
    let url = argus.url.clone();
    let out = tokio::task::spawn_blocking(move || {
        Command::new(argus_bin())
            .args(["query", "instant", &url, "sum(", "-o", "json"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(!out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["errorType"], "bad_data");
    tokio::time::sleep(Duration::from_millis(10)).await;
}

#[test]
fn shipped_configs_pass_the_checks() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for f in ["examples/kubernetes.yml", "deploy/config/argus.yml"] {
        let p = root.join(f);
        let out = Command::new(argus_bin())
            .args(["check", "config", "--syntax-only", p.to_str().unwrap()])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{f}: {stdout}");
        assert!(
            !stdout.contains("WARNING"),
            "{f}: every setting is supported: {stdout}"
        );
    }
    let rules: Vec<String> = std::fs::read_dir(root.join("deploy/config/rules"))
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .collect();
    assert!(rules.len() >= 3);
    let out = Command::new(argus_bin())
        .args(["check", "rules"])
        .args(&rules)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let am = root.join("deploy/config/alertmanager.yml");
    let out = Command::new(argus_bin())
        .args(["check", "alertmanager-config", am.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
