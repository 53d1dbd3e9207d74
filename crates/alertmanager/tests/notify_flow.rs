//! End-to-end notification behaviour with an injected clock and a real local HTTP
//! receiver: group_wait / group_interval / repeat_interval (rounded up to a multiple of
//! group_interval), exact webhook payloads, resolve notifications, retries on 5xx, no
//! retry on 4xx, truncation, and the notification history.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::print_stderr,
    clippy::print_stdout
)]

mod common;

use std::time::Duration;

use argus_alertmanager::types::fingerprint;
use argus_alertmanager::{Clock, Config, PostableAlert};
use argus_model::Labels;
use common::{manager, t0, Sink};
use serde_json::json;

fn alert(pairs: &[(&str, &str)], ends: Option<chrono::DateTime<chrono::Utc>>) -> PostableAlert {
    PostableAlert {
        labels: pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        annotations: [("summary".to_string(), format!("{pairs:?}"))].into(),
        starts_at: Some(t0()),
        ends_at: ends,
        generator_url: "http://prometheus:9090/graph?g0.expr=up".into(),
    }
}

fn fp(pairs: &[(&str, &str)]) -> String {
    fingerprint(&Labels::from_pairs(pairs)).to_string()
}

fn cfg(url: &str, extra_route: &str, extra_recv: &str) -> String {
    format!(
        "global:\n  resolve_timeout: 1h\nroute:\n  receiver: hook\n  group_by: [alertname]\n  group_wait: 30s\n  group_interval: 5m\n  repeat_interval: 12m\n{extra_route}receivers:\n- name: hook\n  webhook_configs:\n  - url: '{url}'\n{extra_recv}"
    )
}

#[tokio::test]
async fn timers_payloads_repeat_and_resolve() {
    let sink = Sink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (am, clock) = manager(&cfg(&sink.url(), "", ""), dir.path());
    let a1 = [("alertname", "X"), ("instance", "i1"), ("job", "j")];
    let a2 = [("alertname", "X"), ("instance", "i2"), ("job", "j")];
    am.put_alerts(vec![alert(&a1, None)]).unwrap();
    am.tick().await;
    clock.advance(Duration::from_secs(29));
    am.tick().await;
    assert!(sink.all().is_empty(), "nothing before group_wait");
    clock.advance(Duration::from_secs(1));
    am.tick().await;
    let got = sink.delivered();
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].body,
        json!({
            "receiver": "hook",
            "status": "firing",
            "alerts": [{
                "status": "firing",
                "labels": {"alertname": "X", "instance": "i1", "job": "j"},
                "annotations": {"summary": format!("{a1:?}")},
                "startsAt": "2024-01-01T00:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus:9090/graph?g0.expr=up",
                "fingerprint": fp(&a1),
            }],
            "groupLabels": {"alertname": "X"},
            "commonLabels": {"alertname": "X", "instance": "i1", "job": "j"},
            "commonAnnotations": {"summary": format!("{a1:?}")},
            "externalURL": "http://argus.example:9090",
            "version": "4",
            "groupKey": "{}:{alertname=\"X\"}",
            "truncatedAlerts": 0,
        })
    );
    assert_eq!(got[0].headers["content-type"], "application/json");
    let key1 = got[0].headers["idempotency-key"]
        .to_str()
        .unwrap()
        .to_owned();

    // A second alert joins; it is notified at the next group_interval, not before.
    clock.advance(Duration::from_secs(30));
    am.put_alerts(vec![alert(&a2, None)]).unwrap();
    clock.set(t0() + chrono::Duration::seconds(5 * 60 + 29));
    am.tick().await;
    assert_eq!(sink.delivered().len(), 1);
    clock.set(t0() + chrono::Duration::seconds(5 * 60 + 30));
    am.tick().await;
    let got = sink.delivered();
    assert_eq!(got.len(), 2);
    assert_eq!(got[1].body["alerts"].as_array().unwrap().len(), 2);
    assert_eq!(
        got[1].body["commonLabels"],
        json!({"alertname": "X", "job": "j"})
    );
    assert_ne!(got[1].headers["idempotency-key"].to_str().unwrap(), key1);

    // Nothing changes: no notification until repeat_interval (12m rounded up to 15m).
    for m in [10, 15] {
        clock.set(t0() + chrono::Duration::seconds(m * 60 + 30));
        am.tick().await;
        assert_eq!(sink.delivered().len(), 2, "at {m}m30s");
    }
    clock.set(t0() + chrono::Duration::seconds(20 * 60 + 30));
    am.tick().await;
    assert_eq!(sink.delivered().len(), 3, "repeat after 15m");

    // a1 resolves: notified as resolved with its end time at the next flush.
    let resolved_at = t0() + chrono::Duration::seconds(21 * 60);
    clock.set(resolved_at);
    am.put_alerts(vec![alert(&a1, Some(resolved_at))]).unwrap();
    clock.set(t0() + chrono::Duration::seconds(25 * 60 + 30));
    am.tick().await;
    let got = sink.delivered();
    assert_eq!(got.len(), 4);
    let alerts = got[3].body["alerts"].as_array().unwrap().clone();
    assert_eq!(got[3].body["status"], "firing");
    let r = alerts
        .iter()
        .find(|a| a["labels"]["instance"] == "i1")
        .unwrap();
    assert_eq!(r["status"], "resolved");
    assert_eq!(r["endsAt"], "2024-01-01T00:21:00Z");

    // a2 resolves too: the last notification is "resolved" and the group goes away.
    let t = t0() + chrono::Duration::seconds(26 * 60);
    clock.set(t);
    am.put_alerts(vec![alert(&a2, Some(t))]).unwrap();
    clock.set(t0() + chrono::Duration::seconds(30 * 60 + 30));
    am.tick().await;
    let got = sink.delivered();
    assert_eq!(got.len(), 5);
    assert_eq!(got[4].body["status"], "resolved");
    assert_eq!(got[4].body["alerts"].as_array().unwrap().len(), 1);
    assert!(am.alert_groups().is_empty());
    // Nothing more afterwards.
    clock.set(t0() + chrono::Duration::seconds(60 * 60));
    am.tick().await;
    assert_eq!(sink.delivered().len(), 5);

    let h = am.notification_history(Some("{}:{alertname=\"X\"}"));
    let delivered: Vec<_> = h.iter().filter(|r| r.status == "delivered").collect();
    assert_eq!(delivered.len(), 5);
    assert_eq!(
        delivered[0].notify_reason.as_deref(),
        Some("first notification")
    );
    assert_eq!(
        delivered[1].notify_reason.as_deref(),
        Some("new alerts added")
    );
    assert_eq!(
        delivered[2].notify_reason.as_deref(),
        Some("repeat interval elapsed")
    );
    assert_eq!(
        delivered[3].notify_reason.as_deref(),
        Some("some alerts resolved")
    );
    assert_eq!(
        delivered[4].notify_reason.as_deref(),
        Some("all alerts resolved")
    );
    assert!(delivered.iter().all(|r| r.response_status == Some(200)));
}

#[tokio::test]
async fn retries_5xx_with_backoff_and_not_4xx() {
    let sink = Sink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let (am, clock) = manager(&cfg(&sink.url(), "", ""), dir.path());
    let a = [("alertname", "R")];
    sink.set_status(500);
    am.put_alerts(vec![alert(&a, None)]).unwrap();
    clock.advance(Duration::from_secs(30));
    am.tick().await;
    assert_eq!(sink.all().len(), 1);
    // Backoff: 100ms, then 200ms (test options). Not before.
    clock.advance(Duration::from_millis(50));
    am.tick().await;
    assert_eq!(sink.all().len(), 1);
    clock.advance(Duration::from_millis(50));
    am.tick().await;
    assert_eq!(sink.all().len(), 2);
    sink.set_status(200);
    clock.advance(Duration::from_millis(200));
    am.tick().await;
    let all = sink.all();
    assert_eq!(all.len(), 3);
    assert_eq!(sink.delivered().len(), 1);
    let keys: Vec<&str> = all
        .iter()
        .map(|r| r.headers["idempotency-key"].to_str().unwrap())
        .collect();
    assert!(
        keys.iter().all(|k| *k == keys[0]),
        "same key on every retry: {keys:?}"
    );
    assert!(all.iter().all(|r| r.body == all[0].body));
    let h = am.notification_history(None);
    let rec = h.iter().find(|r| r.status == "delivered").unwrap();
    assert_eq!(rec.attempts, 3);

    // A 4xx is not retried: the notification fails and is not sent again by retries.
    sink.set_status(400);
    am.put_alerts(vec![alert(&[("alertname", "R"), ("x", "2")], None)])
        .unwrap();
    clock.advance(Duration::from_secs(5 * 60));
    am.tick().await;
    let n = sink.all().len();
    clock.advance(Duration::from_secs(1));
    am.tick().await;
    assert_eq!(sink.all().len(), n);
    let h = am.notification_history(None);
    let failed = h.iter().find(|r| r.status == "failed").unwrap();
    assert_eq!(failed.response_status, Some(400));
}

#[tokio::test]
async fn truncation_and_group_by_all() {
    let sink = Sink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let y = format!(
        "route:\n  receiver: hook\n  group_by: ['...']\n  group_wait: 0s\nreceivers:\n- name: hook\n  webhook_configs:\n  - url: '{}'\n    max_alerts: 1\n- name: unused\n",
        sink.url()
    );
    let (am, _clock) = manager(&y, dir.path());
    am.put_alerts(vec![alert(&[("alertname", "A"), ("team", "db")], None)])
        .unwrap();
    am.tick().await;
    let got = sink.delivered();
    assert_eq!(got[0].body["groupKey"], "{}:{alertname=\"A\", team=\"db\"}");
    assert_eq!(
        got[0].body["groupLabels"],
        json!({"alertname": "A", "team": "db"})
    );

    let y2 = y.replace("group_by: ['...']", "group_by: [team]");
    let dir2 = tempfile::tempdir().unwrap();
    let sink2 = Sink::start().await;
    let (am2, _c) = manager(&y2.replace(&sink.url(), &sink2.url()), dir2.path());
    am2.put_alerts(vec![
        alert(&[("alertname", "A"), ("team", "db")], None),
        alert(&[("alertname", "B"), ("team", "db")], None),
        alert(&[("alertname", "C"), ("team", "db")], None),
    ])
    .unwrap();
    am2.tick().await;
    let got = sink2.delivered();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body["truncatedAlerts"], 2);
    assert_eq!(got[0].body["alerts"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn inhibition_silences_and_resolve_when_muted() {
    let sink = Sink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let y = cfg(
        &sink.url(),
        "  group_wait: 0s\ninhibit_rules:\n- source_matchers: [severity=critical]\n  target_matchers: [severity=warning]\n  equal: [cluster]\n",
        "  send_resolved_when_muted: true\n",
    )
    .replace("  group_wait: 30s\n", "");
    // The route line order does not matter to YAML; make sure it parsed.
    Config::parse(&y).unwrap();
    let (am, clock) = manager(&y, dir.path());
    let crit = [
        ("alertname", "Down"),
        ("cluster", "c1"),
        ("severity", "critical"),
    ];
    let warn = [
        ("alertname", "Slow"),
        ("cluster", "c1"),
        ("severity", "warning"),
    ];
    let warn2 = [
        ("alertname", "Slow2"),
        ("cluster", "c2"),
        ("severity", "warning"),
    ];
    am.put_alerts(vec![
        alert(&crit, None),
        alert(&warn, None),
        alert(&warn2, None),
    ])
    .unwrap();
    am.tick().await;
    let names: Vec<String> = sink
        .delivered()
        .iter()
        .map(|r| {
            r.body["groupLabels"]["alertname"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.contains(&"Down".to_owned()) && names.contains(&"Slow2".to_owned()));
    let h = am.notification_history(Some("{}:{alertname=\"Slow\"}"));
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].status, "suppressed");
    let s = serde_json::to_value(&h[0].suppressed[0]).unwrap();
    assert_eq!(s["reason"], "inhibited");
    assert_eq!(s["inhibitedBy"], fp(&crit));
    let views = am.alerts();
    let w = views.iter().find(|v| v.alert.name() == "Slow").unwrap();
    assert_eq!(w.state(), "suppressed");
    assert_eq!(w.inhibited_by, vec![fp(&crit)]);

    // Silence Slow2 after it was notified: with send_resolved_when_muted the receiver is
    // told it resolved, instead of keeping a stale firing alert.
    let sil = argus_alertmanager::silences::Silence {
        id: String::new(),
        matchers: argus_alertmanager::matchers::parse_matchers("alertname=Slow2").unwrap(),
        starts_at: clock.now(),
        ends_at: clock.now() + chrono::Duration::hours(1),
        updated_at: clock.now(),
        created_by: "t".into(),
        comment: "c".into(),
    };
    let id = am.set_silence(sil).unwrap();
    clock.advance(Duration::from_secs(5 * 60));
    am.tick().await;
    let got = sink.delivered();
    let last = got
        .iter()
        .rev()
        .find(|r| r.body["groupLabels"]["alertname"] == "Slow2")
        .unwrap();
    assert_eq!(last.body["status"], "resolved");
    assert_eq!(last.body["alerts"][0]["status"], "resolved");
    let n = got.len();
    // Still silenced at the next flushes: nothing more.
    clock.advance(Duration::from_secs(5 * 60));
    am.tick().await;
    assert_eq!(sink.delivered().len(), n);
    let h = am.notification_history(Some("{}:{alertname=\"Slow2\"}"));
    let sup = h.iter().find(|r| r.status == "suppressed").unwrap();
    let s = serde_json::to_value(&sup.suppressed[0]).unwrap();
    assert_eq!(s["reason"], "silenced");
    assert_eq!(s["silenceIds"], json!([id]));
    // Expiring the silence brings the firing alert back.
    am.expire_silence(&id).unwrap();
    clock.advance(Duration::from_secs(5 * 60));
    am.tick().await;
    let got: Vec<_> = sink.delivered()[n..]
        .iter()
        .filter(|r| r.body["groupLabels"]["alertname"] == "Slow2")
        .cloned()
        .collect();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].body["status"], "firing");
}

#[tokio::test]
async fn mute_and_active_time_intervals() {
    let sink = Sink::start().await;
    let dir = tempfile::tempdir().unwrap();
    // t0 is Monday 2024-01-01 00:00 UTC.
    let y = format!(
        "global:\n  resolve_timeout: 1d\nroute:\n  receiver: hook\n  group_wait: 0s\n  routes:\n  - matchers: [team=night]\n    mute_time_intervals: [night]\n  - matchers: [team=office]\n    active_time_intervals: [office]\nreceivers:\n- name: hook\n  webhook_configs:\n  - url: '{}'\ntime_intervals:\n- name: night\n  time_intervals:\n  - times: [{{start_time: '00:00', end_time: '06:00'}}]\n- name: office\n  time_intervals:\n  - weekdays: ['monday:friday']\n    times: [{{start_time: '09:00', end_time: '17:00'}}]\n",
        sink.url()
    );
    let (am, clock) = manager(&y, dir.path());
    am.put_alerts(vec![
        alert(&[("alertname", "N"), ("team", "night")], None),
        alert(&[("alertname", "O"), ("team", "office")], None),
    ])
    .unwrap();
    am.tick().await;
    assert!(sink.all().is_empty());
    let h = am.notification_history(None);
    let reasons: Vec<String> = h
        .iter()
        .map(|r| {
            serde_json::to_value(&r.suppressed[0]).unwrap()["reason"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert!(
        reasons.contains(&"mute_time_interval".to_owned()),
        "{reasons:?}"
    );
    assert!(
        reasons.contains(&"active_time_interval".to_owned()),
        "{reasons:?}"
    );
    // 09:00 Monday: both routes may notify now.
    clock.set(t0() + chrono::Duration::hours(9));
    am.tick().await;
    assert_eq!(sink.delivered().len(), 2);
}

#[tokio::test]
async fn reload_keeps_group_timers() {
    let sink = Sink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let y = cfg(&sink.url(), "", "");
    let (am, clock) = manager(&y, dir.path());
    am.put_alerts(vec![alert(&[("alertname", "K")], None)])
        .unwrap();
    clock.advance(Duration::from_secs(30));
    am.tick().await;
    assert_eq!(sink.delivered().len(), 1);
    clock.advance(Duration::from_secs(60));
    am.put_alerts(vec![alert(&[("alertname", "K"), ("i", "2")], None)])
        .unwrap();
    // Reload with an equivalent config: the group keeps its schedule (next flush at
    // 5m30s), so the new alert is not sent early.
    am.reload(Config::parse(&y).unwrap()).unwrap();
    am.tick().await;
    assert_eq!(sink.delivered().len(), 1);
    clock.set(t0() + chrono::Duration::seconds(5 * 60 + 30));
    am.tick().await;
    assert_eq!(sink.delivered().len(), 2);
}

#[tokio::test]
async fn metrics_use_alertmanager_names() {
    let sink = Sink::start().await;
    let dir = tempfile::tempdir().unwrap();
    let registry = prometheus::Registry::new();
    let clock = argus_alertmanager::ManualClock::new(t0());
    let am = argus_alertmanager::AlertManager::with_options(
        Config::parse(&cfg(&sink.url(), "", "")).unwrap(),
        dir.path(),
        "http://argus.example:9090",
        &registry,
        std::sync::Arc::new(clock.clone()),
        common::test_options(),
    )
    .unwrap();
    am.put_alerts(vec![alert(&[("alertname", "M")], None)])
        .unwrap();
    let bad = PostableAlert::default();
    assert!(am.put_alerts(vec![bad]).is_err());
    clock.advance(Duration::from_secs(30));
    am.tick().await;
    let text = {
        let mut buf = Vec::new();
        prometheus::Encoder::encode(
            &prometheus::TextEncoder::new(),
            &registry.gather(),
            &mut buf,
        )
        .unwrap();
        String::from_utf8(buf).unwrap()
    };
    for line in [
        "alertmanager_notifications_total{integration=\"webhook\"} 1",
        "alertmanager_notification_requests_total{integration=\"webhook\"} 1",
        "alertmanager_notifications_failed_total{integration=\"webhook\",reason=\"serverError\"} 0",
        "alertmanager_alerts{state=\"active\"} 1",
        "alertmanager_alerts_received_total{status=\"firing\"} 2",
        "alertmanager_alerts_invalid_total 1",
        "alertmanager_dispatcher_aggregation_groups 1",
        "alertmanager_silences{state=\"active\"} 0",
        "alertmanager_config_last_reload_successful 1",
        "argus_alertmanager_outbox_pending 0",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
}
