//! `/api/v1/query`, `/query_range`, `/format_query` and `/query_exemplars` over HTTP on a
//! real port: exact bodies and status codes, Prometheus' error messages.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod api_support;

use api_support::*;

async fn server() -> String {
    spawn(fixture_state(fixture_storage())).await
}

fn error(kind: &str, msg: &str) -> String {
    format!(
        r#"{{"status":"error","errorType":"{kind}","error":{}}}"#,
        serde_json::to_string(msg).unwrap()
    )
}

async fn assert_error(base: &str, path: &str, status: u16, kind: &str, msg: &str) {
    let r = get(base, path).await;
    assert_eq!(r.body, error(kind, msg), "{path}");
    assert_eq!(r.status, status, "{path}");
    assert_eq!(r.headers["content-type"], "application/json");
}

const UP_AT_60: &str = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"up","instance":"a:9100","job":"node"},"value":[1700000060,"0"]},{"metric":{"__name__":"up","instance":"localhost:9090","job":"prometheus"},"value":[1700000060,"1"]}]}}"#;

#[tokio::test]
async fn instant_vector_exact_body() {
    let base = server().await;
    let r = get(&base, "/api/v1/query?query=up&time=1700000060").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.headers["content-type"], "application/json");
    assert_eq!(r.body, UP_AT_60);
    // RFC 3339 time, and POST with a form body, give the same answer.
    let r = get(&base, "/api/v1/query?query=up&time=2023-11-14T22:14:20Z").await;
    assert_eq!(r.body, UP_AT_60);
    let r = post_form(
        &base,
        "/api/v1/query",
        &[("query", "up"), ("time", "1700000060")],
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, UP_AT_60);
}

#[tokio::test]
async fn instant_values_and_timestamps_formatting() {
    let base = server().await;
    // Fractional time keeps milliseconds; values NaN, +Inf, -Inf; the name is dropped.
    let r = get(&base, "/api/v1/query?query=up%2F0&time=1700000060.5").await;
    assert_eq!(
        r.body,
        r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"instance":"a:9100","job":"node"},"value":[1700000060.500,"NaN"]},{"metric":{"instance":"localhost:9090","job":"prometheus"},"value":[1700000060.500,"+Inf"]}]}}"#
    );
    let r = get(&base, "/api/v1/query?query=-up%2F0&time=1700000060").await;
    assert!(r.body.contains(r#"[1700000060,"-Inf"]"#), "{}", r.body);
    // Tiny values use Go's exponent form; label values get HTML-safe escapes.
    let r = get(&base, "/api/v1/query?query=weird&time=1700000000").await;
    assert_eq!(
        r.body,
        r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"weird","host.name":"h1","path":"\u003ca\u0026b\u003e"},"value":[1700000000,"5e-08"]}]}}"#
    );
    // A stale marker ends the series.
    let r = get(&base, "/api/v1/query?query=gone&time=1700000080").await;
    assert_eq!(
        r.body,
        r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#
    );
}

#[tokio::test]
async fn scalar_string_and_aggregation() {
    let base = server().await;
    let r = get(&base, "/api/v1/query?query=1%2B1&time=1700000060").await;
    assert_eq!(
        r.body,
        r#"{"status":"success","data":{"resultType":"scalar","result":[1700000060,"2"]}}"#
    );
    let r = get(
        &base,
        &format!("/api/v1/query?query={}&time=1700000060", enc("\"a<b\"")),
    )
    .await;
    assert_eq!(
        r.body,
        r#"{"status":"success","data":{"resultType":"string","result":[1700000060,"a\u003cb"]}}"#
    );
    let q = enc("sum by (job) (http_requests_total)");
    let r = get(&base, &format!("/api/v1/query?query={q}&time=1700000120")).await;
    assert_eq!(
        r.body,
        r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"job":"api"},"value":[1700000120,"88"]}]}}"#
    );
}

#[tokio::test]
async fn limit_truncates_with_warning() {
    let base = server().await;
    let r = get(&base, "/api/v1/query?query=up&time=1700000060&limit=1").await;
    assert_eq!(
        r.body,
        r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"up","instance":"a:9100","job":"node"},"value":[1700000060,"0"]}]},"warnings":["results truncated due to limit"]}"#
    );
}

#[tokio::test]
async fn stats_are_reported_when_asked() {
    let base = server().await;
    let v = get(&base, "/api/v1/query?query=up&time=1700000060&stats=all")
        .await
        .json();
    let stats = &v["data"]["stats"];
    for k in [
        "evalTotalTime",
        "resultSortTime",
        "queryPreparationTime",
        "innerEvalTime",
        "execQueueTime",
        "execTotalTime",
    ] {
        assert!(stats["timings"][k].is_number(), "{k}: {v}");
    }
    assert!(stats["samples"]["totalQueryableSamples"].is_u64(), "{v}");
    assert!(stats["samples"]["peakSamples"].is_u64(), "{v}");
    let v = get(&base, "/api/v1/query?query=up&time=1700000060")
        .await
        .json();
    assert!(v["data"].get("stats").is_none());
}

#[tokio::test]
async fn range_query_matrix() {
    let base = server().await;
    let q = enc("http_requests_total{code=\"200\"}");
    let r = get(
        &base,
        &format!("/api/v1/query_range?query={q}&start=1700000000&end=1700000030&step=15"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body,
        r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"http_requests_total","code":"200","handler":"/api","job":"api"},"values":[[1700000000,"0"],[1700000015,"10"],[1700000030,"20"]]}]}}"#
    );
    // Step as a duration string, times as RFC 3339, POST form: same result.
    let r2 = post_form(
        &base,
        "/api/v1/query_range",
        &[
            ("query", "http_requests_total{code=\"200\"}"),
            ("start", "2023-11-14T22:13:20Z"),
            ("end", "2023-11-14T22:13:50Z"),
            ("step", "15s"),
        ],
    )
    .await;
    assert_eq!(r2.body, r.body);
}

#[tokio::test]
async fn range_query_at_the_points_limit() {
    let base = server().await;
    // (end - start) / step == 11000 is allowed: 11001 points.
    let v = get(
        &base,
        "/api/v1/query_range?query=1&start=0&end=11000&step=1",
    )
    .await
    .json();
    let values = v["data"]["result"][0]["values"].as_array().unwrap();
    assert_eq!(values.len(), 11001);
    assert_eq!(values[10], serde_json::json!([10, "1"]));
    assert_error(
        &base,
        "/api/v1/query_range?query=1&start=0&end=11001&step=1",
        400,
        "bad_data",
        "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
    )
    .await;
}

#[tokio::test]
async fn parameter_errors() {
    let base = server().await;
    let cases: &[(&str, &str)] = &[
        (
            "/api/v1/query?query=up&time=abc",
            r#"invalid parameter "time": Invalid time value for 'time': cannot parse "abc" to a valid timestamp"#,
        ),
        (
            "/api/v1/query?query=up&timeout=abc",
            r#"invalid parameter "timeout": cannot parse "abc" to a valid duration"#,
        ),
        (
            "/api/v1/query?query=up&lookback_delta=abc",
            r#"error parsing lookback delta duration: cannot parse "abc" to a valid duration"#,
        ),
        (
            "/api/v1/query?query=up&limit=-1",
            r#"invalid parameter "limit": limit must be non-negative"#,
        ),
        (
            "/api/v1/query?query=up&limit=x",
            r#"invalid parameter "limit": strconv.Atoi: parsing "x": invalid syntax"#,
        ),
        (
            "/api/v1/query?query=up%7B",
            r#"invalid parameter "query": 1:4: parse error: unexpected end of input inside braces"#,
        ),
        (
            "/api/v1/query_range?query=up&start=abc&end=1&step=1",
            r#"invalid parameter "start": cannot parse "abc" to a valid timestamp"#,
        ),
        (
            "/api/v1/query_range?query=up&start=1&end=&step=1",
            r#"invalid parameter "end": cannot parse "" to a valid timestamp"#,
        ),
        (
            "/api/v1/query_range?query=up&start=10&end=1&step=1",
            r#"invalid parameter "end": end timestamp must not be before start time"#,
        ),
        (
            "/api/v1/query_range?query=up&start=1&end=10&step=abc",
            r#"invalid parameter "step": cannot parse "abc" to a valid duration"#,
        ),
        (
            "/api/v1/query_range?query=up&start=1&end=10&step=0",
            r#"invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer"#,
        ),
        (
            "/api/v1/query_range?query=up&start=1&end=10&step=-5s",
            r#"invalid parameter "step": cannot parse "-5s" to a valid duration"#,
        ),
        (
            "/api/v1/query_range?query=up&start=1&end=10&step=-5",
            r#"invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer"#,
        ),
        (
            "/api/v1/query_range?query=up%7B&start=1&end=10&step=5",
            r#"invalid parameter "query": 1:4: parse error: unexpected end of input inside braces"#,
        ),
        (
            "/api/v1/format_query?query=up%7B",
            r#"invalid parameter "query": 1:4: parse error: unexpected end of input inside braces"#,
        ),
        (
            "/api/v1/query_exemplars?query=up%7B",
            "1:4: parse error: unexpected end of input inside braces",
        ),
        (
            "/api/v1/query_exemplars?query=up&start=10&end=1",
            "end timestamp must not be before start timestamp",
        ),
    ];
    for (path, msg) in cases {
        assert_error(&base, path, 400, "bad_data", msg).await;
    }
}

#[tokio::test]
async fn missing_query_is_a_parse_error() {
    let base = server().await;
    for path in ["/api/v1/query", "/api/v1/query_range?start=1&end=10&step=1"] {
        let r = get(&base, path).await;
        assert_eq!(r.status, 400);
        let v = r.json();
        assert_eq!(v["errorType"], "bad_data");
        let msg = v["error"].as_str().unwrap();
        assert!(
            msg.starts_with("invalid parameter \"query\": ")
                && msg.ends_with("parse error: no expression found in input"),
            "{msg}"
        );
    }
}

#[tokio::test]
async fn evaluation_errors_are_execution_or_timeout() {
    let base = server().await;
    // Two series with the same labels after `on()`: many-to-many matching is an execution error.
    let q = enc("up + on() up");
    let r = get(&base, &format!("/api/v1/query?query={q}&time=1700000060")).await;
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.json()["errorType"], "execution");
    // A deadline already passed: 503 timeout.
    let r = get(&base, "/api/v1/query?query=up&time=1700000060&timeout=0").await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.json()["errorType"], "timeout");
}

#[tokio::test]
async fn format_query_and_exemplars() {
    let base = server().await;
    let q = enc("sum(rate(x[5m]))by(job)");
    let r = get(&base, &format!("/api/v1/format_query?query={q}")).await;
    assert_eq!(
        r.body,
        r#"{"status":"success","data":"sum by (job) (rate(x[5m]))"}"#
    );
    let r = post_form(&base, "/api/v1/format_query", &[("query", "1 +  2")]).await;
    assert_eq!(r.body, r#"{"status":"success","data":"1 + 2"}"#);
    let r = get(
        &base,
        "/api/v1/query_exemplars?query=up&start=1700000000&end=1700000100",
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, r#"{"status":"success","data":[]}"#);
}

mod slow {
    //! A storage whose sample reads are slow and counted, to watch a query stop.

    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    use argus_model::memstore::MemStorage;
    use argus_model::storage::Series;
    use argus_model::{
        LabelHints, Labels, Matcher, Querier, Queryable, Sample, SampleIterator, SelectHints,
        SeriesSet, StorageError, Warnings,
    };

    pub struct SlowStorage {
        pub inner: MemStorage,
        pub reads: Arc<AtomicU64>,
    }

    struct SlowQuerier {
        inner: Box<dyn Querier>,
        reads: Arc<AtomicU64>,
    }

    struct SlowSet {
        inner: Box<dyn SeriesSet>,
        reads: Arc<AtomicU64>,
    }

    struct SlowSeries {
        inner: Box<dyn Series>,
        reads: Arc<AtomicU64>,
    }

    struct SlowIter {
        inner: Box<dyn SampleIterator>,
        reads: Arc<AtomicU64>,
    }

    impl Queryable for SlowStorage {
        fn querier(&self, mint: i64, maxt: i64) -> Result<Box<dyn Querier>, StorageError> {
            Ok(Box::new(SlowQuerier {
                inner: self.inner.querier(mint, maxt)?,
                reads: self.reads.clone(),
            }))
        }
    }

    impl Querier for SlowQuerier {
        fn select(
            &self,
            sorted: bool,
            hints: Option<&SelectHints>,
            ms: &[Matcher],
        ) -> Box<dyn SeriesSet> {
            Box::new(SlowSet {
                inner: self.inner.select(sorted, hints, ms),
                reads: self.reads.clone(),
            })
        }
        fn label_values(
            &self,
            name: &str,
            hints: &LabelHints,
            ms: &[Matcher],
        ) -> Result<(Vec<String>, Warnings), StorageError> {
            self.inner.label_values(name, hints, ms)
        }
        fn label_names(
            &self,
            hints: &LabelHints,
            ms: &[Matcher],
        ) -> Result<(Vec<String>, Warnings), StorageError> {
            self.inner.label_names(hints, ms)
        }
    }

    impl SeriesSet for SlowSet {
        fn next(&mut self) -> Option<Result<Box<dyn Series>, StorageError>> {
            self.inner.next().map(|r| {
                r.map(|s| {
                    Box::new(SlowSeries {
                        inner: s,
                        reads: self.reads.clone(),
                    }) as Box<dyn Series>
                })
            })
        }
    }

    impl Series for SlowSeries {
        fn labels(&self) -> &Labels {
            self.inner.labels()
        }
        fn iterator(&self) -> Box<dyn SampleIterator> {
            Box::new(SlowIter {
                inner: self.inner.iterator(),
                reads: self.reads.clone(),
            })
        }
    }

    impl SlowIter {
        fn tick(&self) {
            self.reads.fetch_add(1, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    impl SampleIterator for SlowIter {
        fn next(&mut self) -> bool {
            self.tick();
            self.inner.next()
        }
        fn seek(&mut self, t: i64) -> bool {
            self.tick();
            self.inner.seek(t)
        }
        fn at(&self) -> Sample {
            self.inner.at()
        }
        fn err(&self) -> Option<&StorageError> {
            self.inner.err()
        }
    }
}

/// A client that disconnects mid-query cancels it: storage reads stop, and with one query
/// slot the next query runs at once instead of waiting for the abandoned one.
#[tokio::test]
async fn client_disconnect_cancels_the_query() {
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use tokio::io::AsyncWriteExt;

    let storage = argus_model::memstore::MemStorage::new();
    // 300 series of 40 samples: ~12k slow reads, over 12 s if never canceled.
    let samples: Vec<(i64, f64)> = (0..40).map(|i| (T0 + i * 15_000, i as f64)).collect();
    for n in 0..300 {
        let id = n.to_string();
        storage
            .add(&labels(&[("__name__", "slow"), ("n", &id)]), &samples)
            .unwrap();
    }
    let reads = Arc::new(AtomicU64::new(0));
    let mut st = fixture_state(fixture_storage()).with_max_concurrency(1);
    st.storage = Arc::new(slow::SlowStorage {
        inner: storage,
        reads: reads.clone(),
    });
    let base = spawn(st).await;
    let addr = base.trim_start_matches("http://").to_owned();

    let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let path = format!(
        "/api/v1/query_range?query=slow&start={}&end={}&step=15",
        T0 / 1000,
        T0 / 1000 + 600
    );
    conn.write_all(format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let started = Instant::now();
    while reads.load(Ordering::SeqCst) < 50 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "query never started"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    drop(conn);

    // The next query needs the only slot.
    let started = Instant::now();
    let r = get(
        &base,
        "/api/v1/query?query=slow%7Bn%3D%220%22%7D&time=1700000000",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the abandoned query kept its slot for {:?}",
        started.elapsed()
    );
    let after = reads.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(reads.load(Ordering::SeqCst), after, "storage reads went on");
    assert!(after < 5_000, "{after} reads: the query ran to the end");
}

#[tokio::test]
async fn parse_query_tree() {
    let base = server().await;
    // Like Prometheus' parser, a negated number literal folds into the literal.
    let r = get(&base, "/api/v1/parse_query?query=-1").await;
    assert_eq!(
        r.body,
        r#"{"status":"success","data":{"type":"numberLiteral","val":"-1"}}"#
    );
    let r = get(&base, "/api/v1/parse_query?query=-up").await;
    assert_eq!(
        r.body,
        r#"{"status":"success","data":{"expr":{"anchored":false,"matchers":[{"name":"__name__","type":"=","value":"up"}],"name":"up","offset":0,"smoothed":false,"startOrEnd":null,"timestamp":null,"type":"vectorSelector"},"op":"-","type":"unaryExpr"}}"#
    );
    let r = post_form(&base, "/api/v1/parse_query", &[("query", "up{")]).await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json()["error"],
        r#"invalid parameter "query": 1:4: parse error: unexpected end of input inside braces"#
    );
}
