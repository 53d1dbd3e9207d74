//! Cases from Prometheus' `template/template_test.go` (outputs restated), plus the newer
//! functions.

use super::*;

fn expand_with(
    text: &str,
    data: Value,
    query_result: Vec<Value>,
    html: bool,
) -> Result<String, String> {
    let qr = Value::List(query_result);
    let q = func(move |_| Ok(qr.clone()));
    let funcs = functions("http://testhost:9090/path/prefix", Some(q), 0.0);
    if html {
        let mut t = Template::new("test")
            .funcs(funcs.iter().map(|(k, f)| (k.clone(), f.clone())))
            .html(true)
            .missing_key(MissingKey::Zero);
        t.parse(text).map_err(|e| e.to_string())?;
        t.execute("test", &data).map_err(|e| e.to_string())
    } else {
        expand("test", text, &data, &funcs)
    }
}

fn ok(text: &str, data: Value) -> String {
    expand_with(text, data, vec![], false).unwrap()
}

fn metric(instance: &str, v: f64) -> Value {
    sample(
        [
            ("__name__".to_string(), "metric".to_string()),
            ("instance".to_string(), instance.to_string()),
        ],
        v,
    )
}

#[test]
fn upstream_expansions() {
    assert_eq!(ok("plain text", Value::Nil), "plain text");
    assert_eq!(ok("{{ 1 }}", Value::Nil), "1");
    assert_eq!(ok("{{ \"<b>\" }}", Value::Nil), "<b>");
    assert_eq!(
        expand_with("{{ \"<b>\" }}", Value::Nil, vec![], true).unwrap(),
        "&lt;b&gt;"
    );
    assert_eq!(
        expand_with("{{ \"<b>\" | safeHtml }}", Value::Nil, vec![], true).unwrap(),
        "<b>"
    );
    assert_eq!(
        ok(
            "{{define \"x\"}}{{.arg0}} {{.arg1}}{{end}}{{template \"x\" (args 1 \"2\")}}",
            Value::Nil
        ),
        "1 2"
    );
    let one = vec![metric("a", 11.0)];
    assert_eq!(
        expand_with(
            "{{ query \"metric{instance='a'}\" | first | value }}",
            Value::Nil,
            one.clone(),
            false
        )
        .unwrap(),
        "11"
    );
    assert_eq!(
        expand_with(
            "{{ query \"x\" | first | label \"instance\" }}",
            Value::Nil,
            one.clone(),
            false
        )
        .unwrap(),
        "a"
    );
    assert_eq!(
        expand_with(
            "{{ query \"x\" | first | label \"foo\" }}",
            Value::Nil,
            one.clone(),
            false
        )
        .unwrap(),
        ""
    );
    assert_eq!(
        expand_with(
            "{{ $x := query \"metric\" | first }}{{ $x.Labels.foo }}",
            Value::Nil,
            one.clone(),
            false
        )
        .unwrap(),
        ""
    );
    assert_eq!(
        expand_with(
            "{{ $x := query \"metric\" | first }}{{ $x.Labels.foo }}",
            Value::Nil,
            one,
            true
        )
        .unwrap(),
        ""
    );
    let two = vec![metric("b", 21.0), metric("a", 11.0)];
    assert_eq!(
        expand_with("{{ range query \"metric\" | sortByLabel \"instance\" }}{{.Labels.instance}}:{{.Value}}: {{end}}", Value::Nil, two, false).unwrap(),
        "a:11: b:21: "
    );
    assert_eq!(
        ok("{{ reReplaceAll \"(a)b\" \"x$1\" \"ab\" }}", Value::Nil),
        "xa"
    );
    assert_eq!(
        ok(
            "{{ range . }}{{ humanize . }}:{{ end }}",
            Value::from(vec![0.0, 1.0, 1234567.0, 0.12])
        ),
        "0:1:1.235M:120m:"
    );
    assert_eq!(
        ok(
            "{{ range . }}{{ humanize1024 . }}:{{ end }}",
            Value::from(vec![0.0, 1.0, 1048576.0, 0.12])
        ),
        "0:1:1Mi:0.12:"
    );
    let durs = vec![
        0.0,
        1.0,
        60.0,
        3600.0,
        86400.0,
        86400.0 + 3600.0,
        -(86400.0 * 2.0 + 3600.0 * 3.0 + 60.0 * 4.0 + 5.0),
        899.99,
    ];
    assert_eq!(
        ok(
            "{{ range . }}{{ humanizeDuration . }}:{{ end }}",
            Value::from(durs)
        ),
        "0s:1s:1m 0s:1h 0m 0s:1d 0h 0m 0s:1d 1h 0m 0s:-2d 3h 4m 5s:14m 59s:"
    );
    assert_eq!(
        ok(
            "{{ range . }}{{ humanizeDuration . }}:{{ end }}",
            Value::from(vec![0.1, 0.0001, 0.12345, 60.1, 60.5, 1.2345, 12.345])
        ),
        "100ms:100us:123.5ms:1m 0s:1m 0s:1.234s:12.35s:"
    );
    assert_eq!(
        ok("{{ range . }}{{ humanize . }}:{{ humanize1024 . }}:{{ humanizeDuration . }}:{{humanizeTimestamp .}}:{{ end }}", Value::from(vec![f64::INFINITY, f64::NEG_INFINITY, f64::NAN])),
        "+Inf:+Inf:+Inf:+Inf:-Inf:-Inf:-Inf:-Inf:NaN:NaN:NaN:NaN:"
    );
    assert_eq!(
        ok("{{ -0.22222 | humanizePercentage }}:{{ 0.0 | humanizePercentage }}:{{ 0.1234567 | humanizePercentage }}:{{ 1.23456 | humanizePercentage }}", Value::Nil),
        "-22.22%:0%:12.35%:123.5%"
    );
    assert_eq!(
        ok("{{ 1435065584.128 | humanizeTimestamp }}", Value::Nil),
        "2015-06-23 13:19:44.128 +0000 UTC"
    );
    assert_eq!(ok("{{ \"aa bb CC\" | title }}", Value::Nil), "Aa Bb CC");
    assert_eq!(ok("{{ \"aa bb CC\" | toUpper }}", Value::Nil), "AA BB CC");
    assert_eq!(ok("{{ \"aA bB CC\" | toLower }}", Value::Nil), "aa bb cc");
    assert_eq!(
        ok(
            "{{ match \"a+\" \"aa\" }} {{ match \"a+\" \"b\" }}",
            Value::Nil
        ),
        "true false"
    );
    assert_eq!(
        ok("{{ graphLink \"up\" }}", Value::Nil),
        "/graph?g0.expr=up&g0.tab=0"
    );
    assert_eq!(
        ok("{{ tableLink \"up\" }}", Value::Nil),
        "/graph?g0.expr=up&g0.tab=1"
    );
    assert_eq!(ok("{{ pathPrefix }}", Value::Nil), "/path/prefix");
    assert_eq!(
        ok("{{ externalURL }}", Value::Nil),
        "http://testhost:9090/path/prefix"
    );
}

#[test]
fn upstream_errors() {
    let e = expand_with("{{", Value::Nil, vec![], false).unwrap_err();
    assert_eq!(
        e,
        "error parsing template test: template: test:1: unclosed action"
    );
    let e = expand_with("{{ query \"missing\" | first }}", Value::Nil, vec![], false).unwrap_err();
    assert_eq!(
        e,
        "error executing template test: template: test:1:21: executing \"test\" at <first>: error calling first: first() called on vector with no elements"
    );
    let e = expand_with(
        "{{ (query \"missing\").banana }}",
        Value::Nil,
        vec![],
        false,
    )
    .unwrap_err();
    assert!(
        e.contains("can't evaluate field banana in type []interface {}"),
        "{e}"
    );
    assert!(ok_err("{{ humanize \"x\" }}").contains("error calling humanize: strconv.ParseFloat"));
    assert!(
        ok_err("{{ humanize .x }}").contains("can't convert <nil> to float")
            || ok_err("{{ humanize .x }}").contains("can't convert")
    );
}

fn ok_err(text: &str) -> String {
    expand_with(text, Value::map([("y", 1)]), vec![], false).unwrap_err()
}

#[test]
fn newer_functions() {
    assert_eq!(ok("{{ stripPort \"example.com:9100\" }} {{ stripPort \"[::1]:80\" }} {{ stripPort \"host\" }}", Value::Nil), "example.com ::1 host");
    assert_eq!(
        ok("{{ stripDomain \"foo.example.com:9100\" }} {{ stripDomain \"foo.example.com\" }} {{ stripDomain \"192.168.0.1:80\" }}", Value::Nil),
        "foo:9100 foo 192.168.0.1:80"
    );
    assert_eq!(
        ok("{{ parseDuration \"1h2m10ms\" }}", Value::Nil),
        "3720.01"
    );
    assert!(
        expand_with("{{ parseDuration \"1x\" }}", Value::Nil, vec![], false)
            .unwrap_err()
            .contains("not a valid duration string: \"1x\"")
    );
    assert_eq!(
        ok(
            "{{ (toTime 1435065584.128).Format \"2006\" }} {{ (toTime 10).Unix }}",
            Value::Nil
        ),
        "2015 10"
    );
    assert_eq!(
        ok("{{ toTime 1435065584.128 }}", Value::Nil),
        "2015-06-23 13:19:44.128 +0000 UTC"
    );
    assert_eq!(
        ok("{{ humanizeTimestamp (toTime 1435065584) }}", Value::Nil),
        "2015-06-23 13:19:44 +0000 UTC"
    );
    assert_eq!(ok("{{ 90 | toDuration }}", Value::Nil), "1m30s");
    assert_eq!(ok("{{ humanizeDuration \"90\" }}", Value::Nil), "1m 30s");
    assert_eq!(
        ok(
            "{{ strvalue . }}",
            sample([("__value__".into(), "abc".into())], 0.0)
        ),
        "abc"
    );
}

#[test]
fn alert_data_and_defs() {
    let labels: BTreeMap<String, String> = [("instance".to_string(), "h:1".to_string())].into();
    let ext: BTreeMap<String, String> = [("dc".to_string(), "eu".to_string())].into();
    let data = alert_template_data(&labels, &ext, "http://p", 0.5);
    let funcs = functions("http://p", None, 0.0);
    let text = format!("{ALERT_TEMPLATE_DEFS}{{{{ $labels.instance }}}} {{{{ $labels.missing }}}}|{{{{ $externalLabels.dc }}}} {{{{ $value }}}} {{{{ $externalURL }}}}");
    assert_eq!(
        expand("__alert_X", &text, &data, &funcs).unwrap(),
        "h:1 |eu 0.5 http://p"
    );
    assert!(parse_test("x", "{{ $label.foo }}", &funcs)
        .unwrap_err()
        .contains("undefined variable \"$label\""));
}

#[test]
fn durations_parse() {
    assert_eq!(parse_prom_duration("1d"), Some(86_400_000));
    assert_eq!(parse_prom_duration("1h30m"), Some(5_400_000));
    assert_eq!(parse_prom_duration("30m1h"), None);
    assert_eq!(parse_prom_duration("100ms"), Some(100));
    assert_eq!(parse_prom_duration(""), None);
    assert_eq!(parse_prom_duration("5"), None);
}
