use super::*;

fn samples(format: Format, body: &str) -> Vec<(String, f64, Option<i64>)> {
    parse_all(format, body.as_bytes(), true).unwrap()
}

fn text_err(body: &str) -> ParseError {
    parse_all(Format::PrometheusText, body.as_bytes(), true).unwrap_err()
}

fn om_err(body: &str) -> ParseError {
    parse_all(Format::OpenMetrics, body.as_bytes(), true).unwrap_err()
}

#[test]
fn text_format_basics() {
    let body = "# HELP http_requests_total The total.\n# TYPE http_requests_total counter\nhttp_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000\nhttp_requests_total{method=\"post\",code=\"400\"}    3 1395066363000\n\nmetric_without_timestamp_and_labels 12.47\nsomething_weird{problem=\"division by zero\"} +Inf -3982045\n# A comment\nnan_metric NaN\n";
    let s = samples(Format::PrometheusText, body);
    assert_eq!(s.len(), 5);
    assert_eq!(s[0].0, "http_requests_total{method=\"post\",code=\"200\"}");
    assert_eq!((s[0].1, s[0].2), (1027.0, Some(1_395_066_363_000)));
    assert_eq!(s[1].1, 3.0);
    assert_eq!(
        s[2],
        ("metric_without_timestamp_and_labels".into(), 12.47, None)
    );
    assert_eq!((s[3].1, s[3].2), (f64::INFINITY, Some(-3_982_045)));
    assert!(s[4].1.is_nan());
    let l = series_labels(&s[0].0);
    assert_eq!(l.get("__name__"), Some("http_requests_total"));
    assert_eq!(l.get("code"), Some("200"));
}

#[test]
fn text_metadata_entries() {
    let body = "# HELP a Line one\\nline two \\\\ end\n# TYPE a gauge\na 1\n";
    let mut p = Parser::new(Format::PrometheusText, body.as_bytes()).unwrap();
    let mut got = Vec::new();
    while let Some(e) = p.next_entry().unwrap() {
        got.push(format!("{e:?}"));
    }
    assert_eq!(got.len(), 3);
    assert!(
        got[0].contains("Line one\\nline two \\\\ end"),
        "{}",
        got[0]
    );
    assert!(got[1].contains("Gauge"));
}

#[test]
fn text_errors_name_the_line() {
    let e = text_err("a 1\nb{x=\"1\"} 2\nc{x=\"1\",x=\"2\"} 3\n");
    assert_eq!(e.line, 3);
    assert!(e.msg.contains("duplicate label"), "{e}");
    assert_eq!(text_err("a 1\nb 2").line, 2);
    assert!(text_err("a 1\nb 2").msg.contains("newline"));
    assert_eq!(text_err("\n\nm{a=\"\\t\"} 1\n").line, 3);
    assert_eq!(
        text_err("m 1 2 3\n").to_string(),
        "line 1: spurious string after timestamp: \"3\""
    );
    assert!(text_err("m{a=1} 1\n").msg.contains("expected '\"'"));
    assert!(text_err("m 0x10\n").msg.contains("expected float"));
    assert!(text_err("m 1 1.5\n").msg.contains("integer as timestamp"));
    // Scrape mode is as lenient as Prometheus about repeated metadata.
    let body = b"# HELP m one\n# HELP m two\nm 1\n# TYPE m counter\n";
    assert!(parse_all(Format::PrometheusText, body, false).is_ok());
    assert!(parse_all(Format::PrometheusText, body, true).is_err());
}

#[test]
fn invalid_utf8_is_reported_with_its_line() {
    let e = parse_all(Format::PrometheusText, b"a 1\nb{x=\"\xff\"} 1\n", false).unwrap_err();
    assert_eq!(e.line, 2);
    assert!(e.msg.contains("UTF-8"));
}

#[test]
fn openmetrics_basics() {
    let body = "# TYPE a counter\n# UNIT a_seconds seconds\n# HELP a help\na_total{x=\"1\"} 2 1.5 # {trace_id=\"abc\"} 0.5 1.25\na_created{x=\"1\"} 123.456\n# EOF\n";
    let mut p = Parser::new(Format::OpenMetrics, body.as_bytes()).unwrap();
    let mut n = 0;
    while let Some(e) = p.next_entry().unwrap() {
        if let Entry::Sample(s) = e {
            n += 1;
            if n == 1 {
                assert_eq!(s.series, "a_total{x=\"1\"}");
                assert_eq!(s.timestamp_ms, Some(1500));
                let ex = s.exemplar.unwrap();
                assert_eq!(ex.labels, "trace_id=\"abc\"");
                assert_eq!((ex.value, ex.timestamp_ms), (0.5, Some(1250)));
            }
        }
    }
    assert_eq!(n, 2);
    assert_eq!(om_err("a 1\n").msg, "missing \"# EOF\" at the end");
    assert_eq!(om_err("a 1\n\n# EOF\n").line, 2);
    assert_eq!(om_err("a 1\n# EOF\nx").line, 3);
}

#[test]
fn openmetrics_timestamps_are_exact() {
    let s = samples(
        Format::OpenMetrics,
        "a 1 1.1\nb 1 -0.5\nc 1 1e3\nd 1 12345678901234567890.5\n# EOF\n",
    );
    assert_eq!(s[0].2, Some(1100));
    assert_eq!(s[1].2, Some(-500));
    assert_eq!(s[2].2, Some(1_000_000));
    assert_eq!(s[3].2, Some(i64::MAX), "saturates");
}

#[test]
fn protobuf_renders_series_like_prometheus() {
    use protobuf::*;
    let fam = MetricFamily {
        name: Some("rpc_seconds".into()),
        help: Some("RPC latency.".into()),
        r#type: Some(4),
        metric: vec![Metric {
            label: vec![LabelPair {
                name: Some("svc".into()),
                value: Some("a\"b".into()),
            }],
            histogram: Some(Histogram {
                sample_count: Some(3),
                sample_sum: Some(1.5),
                bucket: vec![
                    Bucket {
                        cumulative_count: Some(1),
                        upper_bound: Some(0.5),
                        ..Default::default()
                    },
                    Bucket {
                        cumulative_count: Some(2),
                        upper_bound: Some(1.0),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }),
            timestamp_ms: Some(42),
            ..Default::default()
        }],
        unit: None,
    };
    let body = encode_delimited(&[fam]);
    let s = parse_all(Format::Protobuf, &body, false).unwrap();
    let series: Vec<&str> = s.iter().map(|x| x.0.as_str()).collect();
    assert_eq!(
        series,
        [
            "rpc_seconds_bucket{svc=\"a\\\"b\",le=\"0.5\"}",
            "rpc_seconds_bucket{svc=\"a\\\"b\",le=\"1.0\"}",
            "rpc_seconds_bucket{svc=\"a\\\"b\",le=\"+Inf\"}",
            "rpc_seconds_sum{svc=\"a\\\"b\"}",
            "rpc_seconds_count{svc=\"a\\\"b\"}",
        ]
    );
    assert_eq!(s[2].1, 3.0);
    assert_eq!(s[0].2, Some(42));
    assert_eq!(series_labels(series[0]).get("svc"), Some("a\"b"));
    // A truncated body is an error, never a panic.
    let e = parse_all(Format::Protobuf, &body[..body.len() - 3], false).unwrap_err();
    assert_eq!(e.line, 1);
}
