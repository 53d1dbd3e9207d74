//! Real Go output: `amtool template render` (Debian's prometheus-alertmanager, Go's
//! text/template and html/template with Alertmanager's functions) and Argus render the same
//! templates over the same notification data and must print the same bytes. (Debian's
//! Alertmanager 0.25 predates `trimSpace`, `date`, `tz`, `since` and `humanizeDuration`;
//! those are covered by unit tests.)

#![allow(clippy::indexing_slicing, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::process::Command;

use argus_template::alertmanager::{alerts, functions, kv};
use argus_template::{GoTime, MissingKey, Template, Value};

const DATA: &str = r#"{"receiver":"team a","status":"firing",
"alerts":[
 {"status":"firing","labels":{"alertname":"DiskFull","instance":"db1","severity":"page"},"annotations":{"summary":"db1 <full> & \"hot\""},
  "startsAt":"2023-11-14T22:13:20.5Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://p:9090/graph?g0.expr=x&g0.tab=1","fingerprint":"f1"},
 {"status":"resolved","labels":{"alertname":"DiskFull","instance":"db2","severity":"page"},"annotations":{},
  "startsAt":"2023-11-14T20:00:00Z","endsAt":"2023-11-14T21:30:00.25Z","generatorURL":"http://p:9090/graph","fingerprint":"f2"}],
"groupLabels":{"alertname":"DiskFull"},"commonLabels":{"alertname":"DiskFull","severity":"page"},"commonAnnotations":{},
"externalURL":"http://am:9093"}"#;

fn amtool() -> Option<&'static str> {
    if Command::new("amtool").arg("--version").output().is_ok() {
        return Some("amtool");
    }
    if std::env::var("ARGUS_SKIP_PEER_TESTS").as_deref() == Ok("1") {
        return None;
    }
    panic!("amtool not found: apt-get install prometheus-alertmanager, or set ARGUS_SKIP_PEER_TESTS=1 to skip peer tests");
}

/// `2023-11-14T22:13:20.5Z` → ms.
fn rfc3339(s: &str) -> i64 {
    let (date, time) = s.trim_end_matches('Z').split_once('T').unwrap();
    let d: Vec<i64> = date.split('-').map(|x| x.parse().unwrap()).collect();
    let (hms, frac) = time.split_once('.').unwrap_or((time, "0"));
    let t: Vec<i64> = hms.split(':').map(|x| x.parse().unwrap()).collect();
    let (y, m) = if d[1] <= 2 {
        (d[0] - 1, d[1] + 9)
    } else {
        (d[0], d[1] - 3)
    };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let doy = (153 * m + 2) / 5 + d[2] - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    let ms: i64 = format!("{frac:0<3}")[..3].parse().unwrap();
    (days * 86_400 + t[0] * 3600 + t[1] * 60 + t[2]) * 1000 + ms
}

fn kv_of(v: &serde_json::Value) -> Value {
    let m: BTreeMap<String, String> = v
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, x)| (k.clone(), x.as_str().unwrap().to_string()))
        .collect();
    kv(&m)
}

fn strukt(fields: Vec<(&str, Value)>) -> Value {
    Value::Struct(
        fields
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    )
}

/// Alertmanager's `template.Data` from its JSON form.
fn data() -> Value {
    let j: serde_json::Value = serde_json::from_str(DATA).unwrap();
    let list = j["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            strukt(vec![
                ("Status", Value::from(a["status"].as_str().unwrap())),
                ("Labels", kv_of(&a["labels"])),
                ("Annotations", kv_of(&a["annotations"])),
                (
                    "StartsAt",
                    Value::Time(GoTime::from_unix_ms(rfc3339(
                        a["startsAt"].as_str().unwrap(),
                    ))),
                ),
                (
                    "EndsAt",
                    Value::Time(GoTime::from_unix_ms(rfc3339(a["endsAt"].as_str().unwrap()))),
                ),
                (
                    "GeneratorURL",
                    Value::from(a["generatorURL"].as_str().unwrap()),
                ),
                (
                    "Fingerprint",
                    Value::from(a["fingerprint"].as_str().unwrap()),
                ),
            ])
        })
        .collect();
    strukt(vec![
        ("Receiver", Value::from(j["receiver"].as_str().unwrap())),
        ("Status", Value::from(j["status"].as_str().unwrap())),
        ("Alerts", alerts(list)),
        ("GroupLabels", kv_of(&j["groupLabels"])),
        ("CommonLabels", kv_of(&j["commonLabels"])),
        ("CommonAnnotations", kv_of(&j["commonAnnotations"])),
        (
            "ExternalURL",
            Value::from(j["externalURL"].as_str().unwrap()),
        ),
    ])
}

const TEXT_CASES: &[&str] = &[
    r#"{{ .Status | toUpper }} {{ .Receiver | title }} {{ "hELLO wORLD" | title }} {{ "MiXeD" | toLower }}"#,
    r#"{{ printf "%5.2f|%-4d|%x|%X|%q|%v|%g|%e|%s|%05d|%+.1e|%8.3s|%t" 3.14159 42 255 "hi" "q\"" 1e6 0.000012 1234.5678 "s" -42 12345.678 "abcdef" true }}"#,
    r#"{{ printf "%d %s" 1 }}|{{ printf "%d" "x" }}|{{ printf "%s" 1.5 }}|{{ printf "%d" 1 2 }}"#,
    r#"{{ range $i, $a := .Alerts }}{{ $i }}:{{ $a.Labels.instance }}:{{ $a.Status }} {{ end }}"#,
    r#"{{ range .CommonLabels.SortedPairs }}{{ .Name }}={{ .Value }};{{ end }}|{{ .CommonLabels.SortedPairs.Names }}"#,
    r#"[{{ .CommonLabels.nope }}]|[{{ index .CommonLabels "zz" }}]|{{ len .CommonLabels }}|{{ len .Alerts.Firing }}|{{ .Alerts.Resolved | len }}"#,
    r#"{{ if and (eq .Status "firing") (gt (len .Alerts) 0) }}yes{{ else if .Receiver }}recv{{ else }}no{{ end }}"#,
    "a {{- /* comment */ -}} b {{- \" c \" -}}\n\n d {{ \"e\" -}}   \n f",
    r#"{{ with .CommonAnnotations.summary }}has{{ else }}none{{ end }}|{{ with .Receiver }}{{ . }}{{ end }}"#,
    r#"{{ define "x" }}[{{ . }}]{{ end }}{{ template "x" .Receiver }}{{ block "y" .Status }}<{{ . }}>{{ end }}{{ template "x" }}"#,
    r#"{{ (index .Alerts 0).StartsAt.Format "2006-01-02T15:04:05Z07:00 .000 Mon Jan _2 3:04PM" }} {{ (index .Alerts 1).EndsAt.UTC.Format "Monday January 2 15:04:05.999 MST 2006 -07:00 002" }}"#,
    r#"{{ (index .Alerts 0).StartsAt }}|{{ (index .Alerts 0).EndsAt }}|{{ (index .Alerts 1).EndsAt }}|{{ (index .Alerts 0).StartsAt.Unix }}"#,
    r#"{{ reReplaceAll "(\\w+)@(\\w+)" "$2 at $1" "joe@example" }} {{ match "^D" "DiskFull" }} {{ match "x+" "abc" }}"#,
    r#"{{ stringSlice "a" "b" "c" | join "," }} {{ .CommonLabels.Values | join " " }}"#,
    r#"{{ html "<a&b>'\"" }} {{ js "it's <x> & \"y\" =" }} {{ urlquery "a b&c/é" }} {{ "<i>" | html }}"#,
    r#"{{ print 1 2 "a" 3.5 "b" true nil }}|{{ println "x" 1 }}|{{ print }}"#,
    r#"{{ slice "hello" 1 3 }} {{ index "abc" 1 }} {{ len "héllo" }} {{ slice .Alerts 1 | len }}"#,
    r#"{{ $x := 1 }}{{ range .Alerts }}{{ $x = 2 }}{{ end }}{{ $x }}{{ $y := "a" }}{{ if true }}{{ $y := "b" }}{{ $y }}{{ end }}{{ $y }}"#,
    r#"{{ range $k, $v := .CommonLabels }}{{ $k }}={{ $v }},{{ end }}|{{ range .CommonAnnotations }}x{{ else }}empty{{ end }}"#,
    r#"{{ (.CommonLabels.Remove .GroupLabels.Names).Names }} {{ (index .Alerts 0).Labels.Values }}"#,
    r#"{{ .ExternalURL }}/#/alerts?receiver={{ .Receiver | urlquery }}"#,
    r#"{{ not .Alerts.Resolved }} {{ or .CommonAnnotations.x "dflt" }} {{ and 1 0 }} {{ or 0 "" }} {{ and "a" "b" }}"#,
    r#"{{ lt 1 2 }} {{ ge "b" "a" }} {{ ne 1 2 }} {{ eq 1 2 1 }} {{ le 1.5 1.5 }} {{ eq .Status "firing" "resolved" }}"#,
    r#"{{ 1.5 }} {{ 1e21 }} {{ 100000.0 }} {{ 1234567.0 }} {{ 0x1F }} {{ 'a' }} {{ -3 }} {{ 1e3 }} {{ 0.000001 }}"#,
    r#"{{ range .Alerts }}{{ if eq .Status "resolved" }}{{ continue }}{{ end }}{{ .Fingerprint }}{{ break }}{{ end }}!"#,
    r#"{{ $a := index .Alerts 0 }}{{ $a.Annotations.summary }}|{{ $.Receiver }}|{{ (index .Alerts 1).Annotations.summary }}"#,
    r#"{{ len (stringSlice) }} {{ "abc" | printf "%s-%s" "x" }} {{ .Alerts.Firing | len | printf "%03d" }}"#,
];

const ERROR_CASES: &[&str] = &[
    "{{ index .Alerts 5 }}",
    "{{ .Nope }}",
    "{{ eq 1 1.5 }}",
    "{{ len 3 }}",
    "{{ if }}",
    "{{ nosuchfunc 1 }}",
    "{{ range .Receiver }}{{ end }}",
];

const HTML_CASES: &[&str] = &[
    r#"<p title="{{ .Receiver }}">{{ (index .Alerts 0).Annotations.summary }}</p>"#,
    r#"<a href="{{ (index .Alerts 0).GeneratorURL }}">x</a><a href="{{ "javascript:alert(1)" }}">y</a><a href='{{ "/a b" }}'>z</a>"#,
    r#"<a href="/x?r={{ .Receiver }}&s={{ "a&b" }}">z</a>"#,
    r#"<script>var s = {{ .Receiver }}; var n = {{ len .Alerts }}; var q = '{{ "it's" }}';</script>"#,
    r#"{{ "<b>" | safeHtml }} {{ "<i>" }} <b>{{ "+1" }}</b>"#,
    r#"a<!-- {{ .Receiver }} -->b<title>{{ "<t>" }}</title>"#,
    r#"<a href="{{ .ExternalURL }}/#/alerts?receiver={{ .Receiver | urlquery }}">l</a>"#,
    r#"<td style="color: {{ "red" }}" onclick="f({{ .Receiver }})">{{ range .CommonLabels.SortedPairs }}{{ .Name }}={{ .Value }}<br>{{ end }}</td>"#,
];

fn argus(text: &str, html: bool) -> Result<String, String> {
    let mut t = Template::new("")
        .funcs(functions())
        .html(html)
        .missing_key(MissingKey::Zero);
    t.parse(text).map_err(|e| e.to_string())?;
    t.execute("", &data()).map_err(|e| e.to_string())
}

fn go(bin: &str, data: &std::path::Path, text: &str, html: bool) -> Result<String, String> {
    let out = Command::new(bin)
        .args(["template", "render", "--template.glob=/dev/null"])
        .arg(format!("--template.data={}", data.display()))
        .arg(format!(
            "--template.type={}",
            if html { "html" } else { "text" }
        ))
        .arg(format!("--template.text={text}"))
        .output()
        .unwrap();
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[test]
fn argus_renders_like_go() {
    let Some(bin) = amtool() else { return };
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data.json");
    std::fs::write(&data, DATA).unwrap();
    let mut mismatches = Vec::new();
    for (cases, html) in [(TEXT_CASES, false), (HTML_CASES, true)] {
        for text in cases {
            let want = go(bin, &data, text, html)
                .unwrap_or_else(|e| panic!("amtool failed on {text}: {e}"));
            match argus(text, html) {
                Ok(got) if got == want => {}
                got => mismatches.push(format!("{text}\n  go:    {want:?}\n  argus: {got:?}")),
            }
        }
    }
    for text in ERROR_CASES {
        assert!(go(bin, &data, text, false).is_err(), "Go accepts {text}");
        assert!(argus(text, false).is_err(), "Argus accepts {text}");
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
}
