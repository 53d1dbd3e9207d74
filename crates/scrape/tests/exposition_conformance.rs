//! Upstream parser conformance cases, vendored under `testdata/` with their licenses:
//! the OpenMetrics 1.0 parser suite (211 accept/reject cases) and the Prometheus text
//! 0.0.4 corpus of `prometheus/common` plus Prometheus' large parser inputs.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::{Path, PathBuf};

use argus_scrape::parse::{parse_all, series_labels, Entry, Format, Parser};

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

struct Case {
    name: String,
    body: Vec<u8>,
    should_parse: bool,
}

fn om_cases() -> Vec<Case> {
    let dir = testdata().join("openmetrics/parsers");
    let mut out = Vec::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let meta: serde_json::Value =
            serde_json::from_slice(&std::fs::read(p.join("test.json")).unwrap()).unwrap();
        assert_eq!(meta["type"], "text");
        let file = meta["file"].as_str().unwrap();
        out.push(Case {
            name: p.file_name().unwrap().to_string_lossy().into_owned(),
            body: std::fs::read(p.join(file)).unwrap(),
            should_parse: meta["shouldParse"].as_bool().unwrap(),
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

#[test]
fn openmetrics_suite_strict_mode() {
    let cases = om_cases();
    assert_eq!(cases.len(), 211);
    let (mut pass, mut fail) = (0, Vec::new());
    for c in &cases {
        let res = parse_all(Format::OpenMetrics, &c.body, true);
        let lines = c.body.split(|&b| b == b'\n').count();
        let ok = match (&res, c.should_parse) {
            (Ok(_), true) => true,
            // A rejection must say where: a line of the input.
            (Err(e), false) => e.line >= 1 && e.line <= lines + 1,
            _ => false,
        };
        if ok {
            pass += 1;
        } else {
            fail.push(format!("{}: {:?}", c.name, res.map(|s| s.len())));
        }
    }
    println!(
        "OpenMetrics strict: {pass}/{} cases pass ({} accept, {} reject)",
        cases.len(),
        cases.iter().filter(|c| c.should_parse).count(),
        cases.iter().filter(|c| !c.should_parse).count()
    );
    assert!(fail.is_empty(), "failing cases: {fail:#?}");
}

/// Negative cases that break only semantic rules, which Prometheus' scrape-time parser
/// (and Argus' scrape mode) accepts on purpose.
const SCRAPE_MODE_ACCEPTS: &[&str] = &[
    "bad_clashing_names_0",
    "bad_clashing_names_1",
    "bad_clashing_names_2",
    "bad_counter_values_",
    "bad_exemplars_on_unallowed_",
    "bad_grouping_or_ordering_0",
    "bad_grouping_or_ordering_2",
    "bad_grouping_or_ordering_3",
    "bad_grouping_or_ordering_4",
    "bad_grouping_or_ordering_5",
    "bad_grouping_or_ordering_6",
    "bad_grouping_or_ordering_7",
    "bad_grouping_or_ordering_8",
    "bad_grouping_or_ordering_9",
    "bad_grouping_or_ordering_10",
    "bad_help_2",
    "bad_histograms_0",
    "bad_histograms_1",
    "bad_histograms_2",
    "bad_histograms_3",
    "bad_histograms_6",
    "bad_histograms_7",
    "bad_histograms_8",
    "bad_histograms_9",
    "bad_histograms_10",
    "bad_histograms_11",
    "bad_histograms_12",
    "bad_histograms_13",
    "bad_histograms_14",
    "bad_info_and_stateset_values_",
    "bad_metadata_in_wrong_place_",
    "bad_missing_or_invalid_labels_for_a_type_",
    "bad_repeated_metadata_0",
    "bad_repeated_metadata_1",
    "bad_repeated_metadata_3",
    "bad_stateset_info_values_",
    "bad_unit_2",
    "bad_unit_4",
    "bad_unit_5",
    "bad_unit_6",
    "bad_unit_7",
];

fn allowed_in_scrape_mode(name: &str) -> bool {
    SCRAPE_MODE_ACCEPTS.iter().any(|p| {
        if p.ends_with('_') {
            name.starts_with(p)
        } else {
            name == *p
        }
    })
}

#[test]
fn openmetrics_suite_scrape_mode() {
    let cases = om_cases();
    let mut wrong = Vec::new();
    let mut accepted_negatives = 0;
    for c in &cases {
        let ok = parse_all(Format::OpenMetrics, &c.body, false).is_ok();
        if c.should_parse && !ok {
            wrong.push(format!("{} must parse", c.name));
        }
        if !c.should_parse && ok {
            accepted_negatives += 1;
            if !allowed_in_scrape_mode(&c.name) {
                wrong.push(format!("{} must fail in scrape mode too", c.name));
            }
        }
        if !c.should_parse && !ok && allowed_in_scrape_mode(&c.name) {
            wrong.push(format!(
                "{} is allow-listed but fails; tighten the list",
                c.name
            ));
        }
    }
    println!(
        "OpenMetrics scrape mode: all {} accept cases parse; {accepted_negatives} semantic-only reject cases accepted on purpose",
        cases.iter().filter(|c| c.should_parse).count()
    );
    assert!(wrong.is_empty(), "{wrong:#?}");
}

fn om_samples(case: &str) -> Vec<(String, f64, Option<i64>)> {
    let body = std::fs::read(
        testdata()
            .join("openmetrics/parsers")
            .join(case)
            .join("metrics"),
    )
    .unwrap();
    parse_all(Format::OpenMetrics, &body, true).unwrap()
}

#[test]
fn openmetrics_accept_cases_parse_to_the_expected_samples() {
    let s = om_samples("escaping");
    let values: Vec<String> = s
        .iter()
        .map(|x| series_labels(&x.0).get("foo").unwrap().to_owned())
        .collect();
    assert_eq!(values, ["b\"a\nr", "b\\a\\z", "b\"a\nr # ", "b\\a\\z # "]);

    let s = om_samples("label_escaping");
    let foo: Vec<String> = s
        .iter()
        .map(|x| series_labels(&x.0).get("foo").unwrap().to_owned())
        .collect();
    assert_eq!(
        foo,
        ["foo", "\\foo", "\\foo", "foo\\", "\\", "\n", "\\n", "\\\n", "\"", "\\\""]
    );

    let s = om_samples("timestamps");
    let ts: Vec<Option<i64>> = s.iter().map(|x| x.2).collect();
    assert_eq!(
        ts,
        [
            Some(0),
            Some(0),
            Some(1100),
            Some(i64::MAX),
            Some(1_500_000),
            Some(1_234_567_890_000)
        ]
    );

    let s = om_samples("uint64_counter");
    assert_eq!(
        s,
        [("a_total".to_owned(), 9_223_372_036_854_775_808.0, None)]
    );

    let s = om_samples("labels_and_infinite");
    assert_eq!((s[0].1, s[1].1), (f64::INFINITY, f64::NEG_INFINITY));

    assert!(om_samples("nan")[0].1.is_nan());
    assert_eq!(om_samples("leading_zeros_float_gauge")[0].1, 0.12);

    // Repeats of a series at one timestamp are dropped: one sample per series remains.
    let s = om_samples("duplicate_timestamps_1");
    assert_eq!(s.len(), 2);
    assert_eq!((s[0].1, s[1].1), (1.0, 4.0));

    let s = om_samples("simple_histogram");
    let names: Vec<&str> = s.iter().map(|x| x.0.as_str()).collect();
    assert_eq!(
        names,
        [
            "a_bucket{le=\"1.0\"}",
            "a_bucket{le=\"+Inf\"}",
            "a_count",
            "a_sum"
        ]
    );

    let s = om_samples("roundtrip");
    assert_eq!(s.len(), 40);
    assert_eq!(
        s.iter().find(|x| x.0 == "foo_created").unwrap().1,
        1.520430000123e9
    );

    // Help text with escapes and a NUL byte.
    let body = std::fs::read(testdata().join("openmetrics/parsers/null_byte/metrics")).unwrap();
    let mut p = Parser::new_strict(Format::OpenMetrics, &body).unwrap();
    let mut help = None;
    while let Some(e) = p.next_entry().unwrap() {
        if let Entry::Help { help: h, .. } = e {
            help = Some(h.into_owned());
        }
    }
    assert_eq!(help.as_deref(), Some("he\0lp"));

    let s = om_samples("counter_exemplars");
    assert_eq!(s, [("a_total".to_owned(), 0.0, Some(123_000))]);
}

#[test]
fn prometheus_text_corpus() {
    let dir = testdata().join("prometheus-text-0.0.4/common-expfmt/corpus");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 26);
    let (mut pass, mut fail) = (0, Vec::new());
    for n in &names {
        let body = std::fs::read(dir.join(n)).unwrap();
        let should_parse = !n.starts_with("from_test_parse_error");
        let res = parse_all(Format::PrometheusText, &body, true);
        let ok = match (&res, should_parse) {
            (Ok(_), true) => true,
            (Err(e), false) => e.line >= 1,
            _ => false,
        };
        if ok {
            pass += 1;
        } else {
            fail.push(format!("{n}: {res:?}"));
        }
        if should_parse {
            assert!(
                parse_all(Format::PrometheusText, &body, false).is_ok(),
                "{n} in scrape mode"
            );
        }
    }
    println!(
        "Prometheus text 0.0.4 corpus (strict): {pass}/{} cases pass",
        names.len()
    );
    assert!(fail.is_empty(), "{fail:#?}");
}

#[test]
fn prometheus_text_corpus_expected_samples() {
    let dir = testdata().join("prometheus-text-0.0.4/common-expfmt/corpus");
    let s = parse_all(
        Format::PrometheusText,
        &std::fs::read(dir.join("from_test_parse_2")).unwrap(),
        true,
    )
    .unwrap();
    assert_eq!(s.len(), 4);
    let l = series_labels(&s[1].0);
    assert_eq!(l.get("basename"), Some("base\"v\\al\nue"));
    assert_eq!((s[1].1, s[1].2), (0.23, Some(1_234_567_890)));
    let l = series_labels(&s[2].0);
    assert_eq!(
        (l.get("__name__"), l.get("basename")),
        (Some("name2"), Some("basevalue2"))
    );
    assert_eq!((s[2].1, s[2].2), (f64::INFINITY, Some(54321)));
    assert_eq!(s[3].1, f64::NEG_INFINITY);
    let s = parse_all(
        Format::PrometheusText,
        &std::fs::read(dir.join("from_test_parse_3")).unwrap(),
        true,
    )
    .unwrap();
    let decoy = s.iter().find(|x| x.0 == "decoy").unwrap();
    assert_eq!((decoy.1, decoy.2), (-1.0, Some(-2)));
    assert_eq!(
        s.iter()
            .find(|x| x.0 == "my_summary_sum{n1=\"val2\"}")
            .unwrap()
            .1,
        8.0
    );
}

#[test]
fn large_samples_parse() {
    let base = testdata().join("prometheus-text-0.0.4");
    let text = std::fs::read(base.join("common-expfmt/samples/text")).unwrap();
    assert!(
        parse_all(Format::PrometheusText, &text, true)
            .unwrap()
            .len()
            > 100
    );
    for f in [
        "alltypes.237mfs.prom.txt",
        "alltypes.237mfs.nometa.prom.txt",
    ] {
        let body = std::fs::read(base.join("prometheus-textparse").join(f)).unwrap();
        let n = parse_all(Format::PrometheusText, &body, false)
            .unwrap()
            .len();
        assert!(n > 1000, "{f}: {n}");
        parse_all(Format::PrometheusText, &body, true).unwrap();
    }
    for f in ["alltypes.5mfs.om.txt", "1histogram.om.txt"] {
        let body = std::fs::read(base.join("prometheus-textparse").join(f)).unwrap();
        assert!(
            !parse_all(Format::OpenMetrics, &body, false)
                .unwrap()
                .is_empty(),
            "{f}"
        );
    }
    let one = std::fs::read(base.join("prometheus-textparse/1histogram.om.txt")).unwrap();
    parse_all(Format::OpenMetrics, &one, true).unwrap();
    for f in ["protobuf", "protobuf-multimessage"] {
        let body = std::fs::read(base.join("common-expfmt/samples").join(f)).unwrap();
        let s = parse_all(Format::Protobuf, &body, false).unwrap();
        assert!(!s.is_empty(), "{f}");
        for (series, _, _) in &s {
            assert!(series_labels(series).get("__name__").is_some(), "{series}");
        }
    }
}
