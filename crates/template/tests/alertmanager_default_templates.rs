//! Alertmanager's own default notification templates (vendored unchanged from the
//! Debian package, `testdata/alertmanager/`) parse and render with the Alertmanager
//! function set, in text mode and (email) html mode.

#![allow(clippy::indexing_slicing, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use argus_template::alertmanager::{alerts, functions, kv};
use argus_template::{GoTime, MissingKey, Template, Value};

fn read(name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/alertmanager")
        .join(name);
    std::fs::read_to_string(p).unwrap()
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn alert(status: &str, labels: &[(&str, &str)], annotations: &[(&str, &str)]) -> Value {
    Value::Struct(
        [
            ("Status", Value::from(status)),
            ("Labels", kv(&map(labels))),
            ("Annotations", kv(&map(annotations))),
            (
                "StartsAt",
                Value::Time(GoTime::from_unix_ms(1_700_000_000_000)),
            ),
            ("EndsAt", Value::Time(GoTime::from_unix_ms(0))),
            (
                "GeneratorURL",
                Value::from("http://prom:9090/graph?g0.expr=x&g0.tab=1"),
            ),
            ("Fingerprint", Value::from("abc")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect(),
    )
}

fn data() -> Value {
    let a1 = alert(
        "firing",
        &[
            ("alertname", "DiskFull"),
            ("instance", "db1"),
            ("severity", "page"),
        ],
        &[("summary", "db1 <full> & \"hot\"")],
    );
    let a2 = alert(
        "firing",
        &[
            ("alertname", "DiskFull"),
            ("instance", "db2"),
            ("severity", "page"),
        ],
        &[],
    );
    let a3 = alert(
        "resolved",
        &[
            ("alertname", "DiskFull"),
            ("instance", "db3"),
            ("severity", "page"),
        ],
        &[],
    );
    Value::Struct(
        [
            ("Receiver", Value::from("team a")),
            ("Status", Value::from("firing")),
            ("Alerts", alerts(vec![a1, a2, a3])),
            ("GroupLabels", kv(&map(&[("alertname", "DiskFull")]))),
            (
                "CommonLabels",
                kv(&map(&[("alertname", "DiskFull"), ("severity", "page")])),
            ),
            ("CommonAnnotations", kv(&BTreeMap::new())),
            ("ExternalURL", Value::from("http://am:9093")),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect(),
    )
}

fn set(html: bool) -> Template {
    let mut t = Template::new("")
        .funcs(functions())
        .html(html)
        .missing_key(MissingKey::Zero);
    t.parse_named("default.tmpl", &read("default.tmpl"))
        .unwrap();
    t.parse_named("email.tmpl", &read("email.tmpl")).unwrap();
    t
}

#[test]
fn text_templates_render_like_alertmanager() {
    let t = set(false);
    let d = data();
    assert_eq!(
        t.execute("__subject", &d).unwrap(),
        "[FIRING:2] DiskFull (page)"
    );
    assert_eq!(
        t.execute("slack.default.title", &d).unwrap(),
        "[FIRING:2] DiskFull (page)"
    );
    assert_eq!(
        t.execute("slack.default.titlelink", &d).unwrap(),
        "http://am:9093/#/alerts?receiver=team+a"
    );
    assert_eq!(
        t.execute("slack.default.username", &d).unwrap(),
        "Alertmanager"
    );
    let list = t
        .execute_text(
            "{{ template \"pagerduty.default.instances\" .Alerts.Firing }}",
            &d,
        )
        .unwrap();
    assert!(list.starts_with("Labels:\n - alertname = DiskFull\n - instance = db1\n - severity = page\nAnnotations:\n - summary = db1 <full> & \"hot\"\nSource: http://prom:9090/graph?g0.expr=x&g0.tab=1\n"), "{list}");
    assert_eq!(
        t.execute_text("{{ template \"email.default.subject\" . }}", &d)
            .unwrap(),
        "[FIRING:2] DiskFull (page)"
    );
    // Every notifier template renders with the notification data (the `__` helpers take
    // other data, as in Alertmanager).
    for name in t
        .template_names()
        .into_iter()
        .filter(|n| !n.starts_with("__") && !n.ends_with(".instances"))
    {
        t.execute(&name, &d)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[test]
fn email_html_escapes_by_context() {
    let t = set(true);
    let html = t.execute("email.default.html", &data()).unwrap();
    assert!(
        html.contains("<title>[FIRING:2] DiskFull (page)</title>"),
        "title"
    );
    assert!(
        html.contains("summary = db1 &lt;full&gt; &amp; &#34;hot&#34;<br"),
        "text is HTML-escaped"
    );
    assert!(
        html.contains("href=\"http://am:9093/#/alerts?receiver=team&#43;a\""),
        "urlquery output is not escaped twice"
    );
    assert!(
        html.contains("href=\"http://prom:9090/graph?g0.expr=x&amp;g0.tab=1\""),
        "URL attribute"
    );
    assert!(html.contains("[2] Firing"));
    assert!(html.contains("[1] Resolved"));
    assert!(html.contains("3 alerts for"));
}
