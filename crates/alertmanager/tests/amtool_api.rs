//! The real `amtool` against Argus' API v2 on a real TCP port: alerts, silences,
//! status/config, receivers, and routing from the served config.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::print_stderr,
    clippy::print_stdout
)]

mod common;

use std::path::Path;
use std::sync::Arc;

use argus_alertmanager::{AlertManager, Config, SystemClock};

async fn amtool(bin: &Path, url: &str, args: &[&str]) -> (bool, String, String) {
    let out = tokio::process::Command::new(bin)
        .arg(format!("--alertmanager.url={url}"))
        .args(args)
        .output()
        .await
        .expect("running amtool");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

const CONFIG: &str = "route:\n  receiver: default\n  group_by: [alertname]\n  routes:\n  - matchers: ['team=\"db\"']\n    receiver: db\nreceivers:\n- name: default\n- name: db\ninhibit_rules:\n- source_matchers: [severity=critical]\n  target_matchers: [severity=warning]\n  equal: [alertname]\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amtool_against_argus() {
    let Some(bin) = common::peer("amtool", "prometheus-alertmanager") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let am = AlertManager::new(
        Config::parse(CONFIG).unwrap(),
        dir.path(),
        "http://argus.example",
        &prometheus::Registry::new(),
        Arc::new(SystemClock),
    )
    .unwrap();
    let addr = common::serve_api(am.clone()).await;
    let url = format!("http://{addr}");

    let run = |args: &'static [&'static str]| {
        let bin = bin.clone();
        let url = url.clone();
        async move {
            let (ok, out, err) = amtool(&bin, &url, args).await;
            assert!(ok, "amtool {args:?} failed: {out}\n{err}");
            out
        }
    };
    run(&[
        "alert",
        "add",
        "alertname=DiskFull",
        "team=db",
        "severity=warning",
        "--annotation=summary=disk is full",
    ])
    .await;
    run(&["alert", "add", "alertname=CPU", "severity=critical"]).await;
    run(&[
        "alert",
        "add",
        "alertname=CPU",
        "severity=warning",
        "instance=a",
    ])
    .await;

    // Default query: active alerts only (the warning CPU alert is inhibited).
    let out = run(&["alert", "query"]).await;
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(
        lines[0].starts_with("Alertname") && lines[0].contains("State"),
        "{out}"
    );
    let disk = lines.iter().find(|l| l.starts_with("DiskFull")).unwrap();
    assert!(
        disk.contains("disk is full") && disk.trim_end().ends_with("active"),
        "{out}"
    );
    assert!(lines
        .iter()
        .any(|l| l.starts_with("CPU ") && l.trim_end().ends_with("active")));

    let out = run(&["alert", "query", "--inhibited"]).await;
    let inhibited: Vec<&str> = out.lines().filter(|l| l.contains("suppressed")).collect();
    assert_eq!(inhibited.len(), 1, "{out}");
    assert!(inhibited[0].starts_with("CPU"));

    // JSON output: fingerprints as Alertmanager computes them, receivers by route.
    let out = run(&["alert", "query", "-o", "json", "alertname=DiskFull"]).await;
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let a = &v.as_array().unwrap()[0];
    assert_eq!(v.as_array().unwrap().len(), 1);
    let labels = argus_model::Labels::from_pairs(&[
        ("alertname", "DiskFull"),
        ("severity", "warning"),
        ("team", "db"),
    ]);
    assert_eq!(
        a["fingerprint"],
        argus_alertmanager::types::fingerprint(&labels).to_string()
    );
    assert_eq!(a["receivers"], serde_json::json!([{"name": "db"}]));
    assert_eq!(a["status"]["state"], "active");

    // Silences.
    let out = run(&[
        "silence",
        "add",
        "alertname=DiskFull",
        "-c",
        "maintenance",
        "-a",
        "tester",
        "-d",
        "1h",
    ])
    .await;
    let id = out.trim().to_owned();
    assert_eq!(id.len(), 36, "{out}");
    assert_eq!(id.matches('-').count(), 4);
    let out = run(&["silence", "query"]).await;
    let row = out
        .lines()
        .find(|l| l.starts_with(&id))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(
        row.contains("alertname=\"DiskFull\"")
            && row.contains("tester")
            && row.contains("maintenance"),
        "{row}"
    );
    assert_eq!(run(&["silence", "query", "-q"]).await.trim(), id);
    let out = run(&["alert", "query"]).await;
    assert!(
        !out.contains("DiskFull"),
        "silenced alert hidden by default: {out}"
    );
    let out = run(&["alert", "query", "--silenced", "-o", "json"]).await;
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let d = v
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["labels"]["alertname"] == "DiskFull")
        .unwrap();
    assert_eq!(d["status"]["state"], "suppressed");
    assert_eq!(d["status"]["silencedBy"], serde_json::json!([id.clone()]));

    // Expire it.
    let (ok, _, err) = amtool(&bin, &url, &["silence", "expire", &id]).await;
    assert!(ok, "{err}");
    assert_eq!(run(&["silence", "query", "-q"]).await.trim(), "");
    let out = run(&["silence", "query", "--expired"]).await;
    assert!(out.contains(&id), "{out}");
    let (ok, _, _) = amtool(&bin, &url, &["silence", "expire", &id]).await;
    assert!(!ok, "expiring an expired silence fails");
    let out = run(&["alert", "query"]).await;
    assert!(out.contains("DiskFull"), "{out}");

    // Config and routing as served by the API.
    let out = run(&["config", "show"]).await;
    assert!(
        out.contains("receiver: db") && out.contains("resolve_timeout: 5m"),
        "{out}"
    );
    let out = run(&["config", "routes", "test", "team=db"]).await;
    assert_eq!(out.trim(), "db");
    let out = run(&["config", "routes"]).await;
    assert!(out.contains("{team=\"db\"}  receiver: db"), "{out}");
    let out = run(&["cluster", "show"]).await;
    assert!(out.contains("disabled"), "{out}");

    // Receivers and groups over plain HTTP.
    let c = reqwest::Client::new();
    let r: serde_json::Value = c
        .get(format!("{url}/api/v2/receivers"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r, serde_json::json!([{"name": "default"}, {"name": "db"}]));
    let g: serde_json::Value = c
        .get(format!("{url}/api/v2/alerts/groups"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let groups = g.as_array().unwrap();
    assert_eq!(groups.len(), 2, "{g}");
    assert_eq!(groups[0]["labels"], serde_json::json!({"alertname": "CPU"}));
    assert_eq!(groups[0]["receiver"]["name"], "default");
    assert_eq!(groups[0]["alerts"].as_array().unwrap().len(), 2);
    let s: serde_json::Value = c
        .get(format!("{url}/api/v2/status"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(s["cluster"]["status"], "disabled");
    assert!(s["versionInfo"]["version"]
        .as_str()
        .unwrap()
        .starts_with("0.27.0"));
    let bad = c
        .post(format!("{url}/api/v2/alerts"))
        .body("[{\"labels\":{}}]")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let msg: String = bad.json().await.unwrap();
    assert!(msg.contains("at least one label pair required"), "{msg}");
    let bad = c
        .post(format!("{url}/api/v2/silences"))
        .body(r#"{"matchers":[{"name":"a","value":"(","isRegex":true}],"startsAt":"2024-01-01T00:00:00Z","endsAt":"2999-01-01T00:00:00Z","createdBy":"x","comment":"y"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let bad = c
        .post(format!("{url}/api/v2/silences"))
        .body(r#"{"matchers":[{"name":"a","value":".*","isRegex":true}],"startsAt":"2024-01-01T00:00:00Z","endsAt":"2999-01-01T00:00:00Z","createdBy":"x","comment":"y"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    let msg: String = bad.json().await.unwrap();
    assert!(msg.contains("must not match the empty string"), "{msg}");
    let missing = c
        .get(format!(
            "{url}/api/v2/silence/00000000-0000-4000-8000-000000000000"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}
