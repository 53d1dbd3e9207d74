//! Every non-query endpoint over HTTP on a real port: exact JSON and status codes, CORS,
//! gzip, readiness, federation, admin, remote read (as a Rust client), and validation of the
//! responses against Prometheus' OpenAPI description.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod api_support;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use api_support::*;
use argus_model::Labels;
use argus_query::api::remote_read::proto::{
    ChunkedReadResponse, LabelMatcher, MatcherType, Query, ReadRequest, ReadResponse, ResponseType,
};
use argus_query::api::remote_read::xor::decode_xor_chunk;
use argus_query::api::ApiState;
use prost::Message;

async fn server() -> String {
    spawn(fixture_state(fixture_storage())).await
}

async fn ok(base: &str, path: &str) -> String {
    let r = get(base, path).await;
    assert_eq!(r.status, 200, "{path}: {}", r.body);
    assert_eq!(r.headers["content-type"], "application/json", "{path}");
    r.body
}

fn success(data: &str) -> String {
    format!(r#"{{"status":"success","data":{data}}}"#)
}

async fn assert_error(base: &str, path: &str, status: u16, kind: &str, msg: &str) {
    let r = get(base, path).await;
    let want = format!(
        r#"{{"status":"error","errorType":"{kind}","error":{}}}"#,
        serde_json::to_string(msg).unwrap()
    );
    assert_eq!(r.body, want, "{path}");
    assert_eq!(r.status, status, "{path}");
}

const UP_NODE: &str = r#"{"__name__":"up","instance":"a:9100","job":"node"}"#;
const UP_PROM: &str = r#"{"__name__":"up","instance":"localhost:9090","job":"prometheus"}"#;

#[tokio::test]
async fn series() {
    let base = server().await;
    assert_eq!(
        ok(&base, "/api/v1/series?match[]=up").await,
        success(&format!("[{UP_NODE},{UP_PROM}]"))
    );
    // Several selectors: union, deduplicated, sorted.
    let path = format!(
        "/api/v1/series?match[]={}&match[]={}",
        enc("up{job=\"node\"}"),
        enc("{__name__=~\"up|weird\"}")
    );
    assert_eq!(
        ok(&base, &path).await,
        success(&format!(
            r#"[{UP_NODE},{UP_PROM},{{"__name__":"weird","host.name":"h1","path":"\u003ca\u0026b\u003e"}}]"#
        ))
    );
    // The time range selects series with samples inside it.
    assert_eq!(
        ok(
            &base,
            "/api/v1/series?match[]=gone&start=1700000000&end=1700000059"
        )
        .await,
        success("[]")
    );
    assert_eq!(
        ok(
            &base,
            "/api/v1/series?match[]=gone&start=1700000000&end=1700000060"
        )
        .await,
        success(r#"[{"__name__":"gone","job":"x"}]"#)
    );
    assert_eq!(
        ok(&base, "/api/v1/series?match[]=up&limit=1").await,
        format!(
            r#"{{"status":"success","data":[{UP_NODE}],"warnings":["results truncated due to limit"]}}"#
        )
    );
    let r = post_form(&base, "/api/v1/series", &[("match[]", "up")]).await;
    assert_eq!(r.body, success(&format!("[{UP_NODE},{UP_PROM}]")));
    assert_error(
        &base,
        "/api/v1/series",
        400,
        "bad_data",
        "no match[] parameter provided",
    )
    .await;
    assert_error(
        &base,
        &format!("/api/v1/series?match[]={}", enc("{job=~\".*\"}")),
        400,
        "bad_data",
        r#"invalid parameter "match[]": match[] must contain at least one non-empty matcher"#,
    )
    .await;
    assert_error(
        &base,
        "/api/v1/series?match[]=up%7B",
        400,
        "bad_data",
        r#"invalid parameter "match[]": 1:4: parse error: unexpected end of input inside braces"#,
    )
    .await;
    assert_error(
        &base,
        "/api/v1/series?match[]=up&start=x",
        400,
        "bad_data",
        r#"invalid parameter "start": Invalid time value for 'start': cannot parse "x" to a valid timestamp"#,
    )
    .await;
}

#[tokio::test]
async fn labels_and_values() {
    let base = server().await;
    assert_eq!(
        ok(&base, "/api/v1/labels").await,
        success(r#"["__name__","code","handler","host.name","instance","job","path"]"#)
    );
    assert_eq!(
        ok(&base, "/api/v1/labels?match[]=up").await,
        success(r#"["__name__","instance","job"]"#)
    );
    let r = post_form(&base, "/api/v1/labels", &[("match[]", "weird")]).await;
    assert_eq!(r.body, success(r#"["__name__","host.name","path"]"#));
    assert_eq!(
        ok(&base, "/api/v1/labels?limit=2").await,
        r#"{"status":"success","data":["__name__","code"],"warnings":["results truncated due to limit"]}"#
    );
    assert_eq!(
        ok(&base, "/api/v1/label/job/values").await,
        success(r#"["api","node","prometheus","x"]"#)
    );
    assert_eq!(
        ok(&base, "/api/v1/label/__name__/values").await,
        success(r#"["gone","http_requests_total","up","weird"]"#)
    );
    assert_eq!(
        ok(&base, "/api/v1/label/job/values?match[]=up").await,
        success(r#"["node","prometheus"]"#)
    );
    // Grafana's request: values of a label for a metric within a time range.
    let path = format!(
        "/api/v1/label/job/values?match[]={}&start=1700000000&end=1700000059",
        enc("{__name__=~\"up|gone\"}")
    );
    assert_eq!(ok(&base, &path).await, success(r#"["node","prometheus"]"#));
    // UTF-8 label names in escaped form.
    assert_eq!(
        ok(&base, "/api/v1/label/U__host_2e_name/values").await,
        success(r#"["h1"]"#)
    );
    assert_eq!(ok(&base, "/api/v1/label/nope/values").await, success("[]"));
    assert_eq!(
        ok(&base, "/api/v1/label/job/values?limit=1").await,
        r#"{"status":"success","data":["api"],"warnings":["results truncated due to limit"]}"#
    );
    assert_error(
        &base,
        "/api/v1/label/job/values?match[]=%7Bjob%3D~%22.*%22%7D",
        400,
        "bad_data",
        "match[] must contain at least one non-empty matcher",
    )
    .await;
    assert_error(
        &base,
        "/api/v1/labels?limit=x",
        400,
        "bad_data",
        r#"invalid parameter "limit": strconv.Atoi: parsing "x": invalid syntax"#,
    )
    .await;
}

#[tokio::test]
async fn metadata() {
    let base = server().await;
    let up = r#"[{"type":"gauge","help":"Target up.","unit":""}]"#;
    let http = r#"[{"type":"counter","help":"Requests.","unit":""},{"type":"counter","help":"Other help.","unit":""}]"#;
    let cpu = r#"[{"type":"counter","help":"CPU \u003ctime\u003e.","unit":""}]"#;
    assert_eq!(
        ok(&base, "/api/v1/metadata").await,
        success(&format!(
            r#"{{"http_requests_total":{http},"node_cpu_seconds_total":{cpu},"up":{up}}}"#
        ))
    );
    assert_eq!(
        ok(&base, "/api/v1/metadata?metric=up").await,
        success(&format!(r#"{{"up":{up}}}"#))
    );
    assert_eq!(
        ok(&base, "/api/v1/metadata?limit=1").await,
        success(&format!(r#"{{"http_requests_total":{http}}}"#))
    );
    assert_eq!(
        ok(
            &base,
            "/api/v1/metadata?limit_per_metric=1&metric=http_requests_total"
        )
        .await,
        success(r#"{"http_requests_total":[{"type":"counter","help":"Requests.","unit":""}]}"#)
    );
    assert_eq!(ok(&base, "/api/v1/metadata?limit=0").await, success("{}"));
    assert_error(
        &base,
        "/api/v1/metadata?limit=x",
        400,
        "bad_data",
        "limit must be a number",
    )
    .await;
    assert_error(
        &base,
        "/api/v1/metadata?limit_per_metric=x",
        400,
        "bad_data",
        "limit_per_metric must be a number",
    )
    .await;

    let node = r#"{"instance":"a:9100","job":"node"}"#;
    let prom = r#"{"instance":"localhost:9090","job":"prometheus"}"#;
    assert_eq!(
        ok(
            &base,
            &format!(
                "/api/v1/targets/metadata?match_target={}",
                enc("{job=\"node\"}")
            )
        )
        .await,
        success(&format!(
            r#"[{{"target":{node},"metric":"up","type":"gauge","help":"Target up.","unit":""}},{{"target":{node},"metric":"node_cpu_seconds_total","type":"counter","help":"CPU \u003ctime\u003e.","unit":""}},{{"target":{node},"metric":"http_requests_total","type":"counter","help":"Other help.","unit":""}}]"#
        ))
    );
    // With `metric`, entries leave the name out.
    assert_eq!(
        ok(&base, "/api/v1/targets/metadata?metric=up").await,
        success(&format!(
            r#"[{{"target":{prom},"type":"gauge","help":"Target up.","unit":""}},{{"target":{node},"type":"gauge","help":"Target up.","unit":""}}]"#
        ))
    );
    // The limit is checked per target.
    let v = get(&base, "/api/v1/targets/metadata?limit=1").await.json();
    assert_eq!(v["data"].as_array().unwrap().len(), 2);
    assert_error(
        &base,
        "/api/v1/targets/metadata?match_target=%7B",
        400,
        "bad_data",
        r#"invalid parameter "match_target": 1:2: parse error: unexpected end of input inside braces"#,
    )
    .await;
}

fn target_json(pool: &str, instance: &str, health: &str) -> String {
    format!(
        r#"{{"discoveredLabels":{{"__address__":"{instance}","__metrics_path__":"/metrics","__scheme__":"http","job":"{pool}"}},"labels":{{"instance":"{instance}","job":"{pool}"}},"scrapePool":"{pool}","scrapeUrl":"http://{instance}/metrics","globalUrl":"http://{instance}/metrics","lastError":"","lastScrape":"2023-11-14T22:14:50Z","lastScrapeDuration":0.012,"health":"{health}","scrapeInterval":"15s","scrapeTimeout":"10s"}}"#
    )
}

#[tokio::test]
async fn targets_pools_and_alertmanagers() {
    let base = server().await;
    let node = target_json("node", "a:9100", "down");
    let prom = target_json("prometheus", "localhost:9090", "up");
    let dropped =
        r#"{"discoveredLabels":{"__address__":"b:9100","job":"node"},"scrapePool":"node"}"#;
    assert_eq!(
        ok(&base, "/api/v1/targets").await,
        success(&format!(
            r#"{{"activeTargets":[{node},{prom}],"droppedTargets":[{dropped}],"droppedTargetCounts":{{"node":3}}}}"#
        ))
    );
    assert_eq!(
        ok(&base, "/api/v1/targets?state=active").await,
        success(&format!(
            r#"{{"activeTargets":[{node},{prom}],"droppedTargets":[],"droppedTargetCounts":{{}}}}"#
        ))
    );
    assert_eq!(
        ok(&base, "/api/v1/targets?state=Dropped").await,
        success(&format!(
            r#"{{"activeTargets":[],"droppedTargets":[{dropped}],"droppedTargetCounts":{{"node":3}}}}"#
        ))
    );
    assert_eq!(
        ok(&base, "/api/v1/targets?scrapePool=prometheus").await,
        success(&format!(
            r#"{{"activeTargets":[{prom}],"droppedTargets":[],"droppedTargetCounts":{{}}}}"#
        ))
    );
    assert_eq!(
        ok(&base, "/api/v1/scrape_pools").await,
        success(r#"{"scrapePools":["node","prometheus"]}"#)
    );
    assert_eq!(
        ok(&base, "/api/v1/alertmanagers").await,
        success(
            r#"{"activeAlertmanagers":[{"url":"http://am:9093/api/v2/alerts"}],"droppedAlertmanagers":[]}"#
        )
    );
}

const RECORDING: &str = r#"{"name":"job:up:sum","query":"sum by (job) (up)","health":"ok","evaluationTime":0.00025,"lastEvaluation":"2023-11-14T22:14:50Z","type":"recording"}"#;
const FIRING: &str = r#"{"labels":{"alertname":"InstanceDown","instance":"a:9100","job":"node","severity":"page"},"annotations":{"summary":"a:9100 down"},"state":"firing","activeAt":"2023-11-14T22:13:35Z","value":"0e+00"}"#;

fn alerting(alerts: &str) -> String {
    format!(
        r#"{{"state":"firing","name":"InstanceDown","query":"up == 0","duration":60,"keepFiringFor":0,"labels":{{"severity":"page"}},"annotations":{{"summary":"{{{{ $labels.instance }}}} down"}},"alerts":{alerts},"health":"ok","evaluationTime":0.0005,"lastEvaluation":"2023-11-14T22:14:50Z","type":"alerting"}}"#
    )
}

fn group1(rules: &str) -> String {
    format!(
        r#"{{"name":"g1","file":"/etc/argus/rules.yml","rules":[{rules}],"interval":15,"limit":0,"evaluationTime":0.001,"lastEvaluation":"2023-11-14T22:14:50Z"}}"#
    )
}

const GROUP2: &str = r#"{"name":"g2","file":"/etc/argus/other.yml","rules":[{"state":"inactive","name":"Never","query":"vector(1) == 0","duration":0,"keepFiringFor":0,"labels":{},"annotations":{},"alerts":[],"health":"unknown","evaluationTime":0,"lastEvaluation":"0001-01-01T00:00:00Z","type":"alerting"}],"interval":60,"limit":10,"evaluationTime":0,"lastEvaluation":"0001-01-01T00:00:00Z"}"#;

#[tokio::test]
async fn rules_and_alerts() {
    let base = server().await;
    let firing_rule = alerting(&format!("[{FIRING}]"));
    assert_eq!(
        ok(&base, "/api/v1/rules").await,
        success(&format!(
            r#"{{"groups":[{},{GROUP2}]}}"#,
            group1(&format!("{RECORDING},{firing_rule}"))
        ))
    );
    assert_eq!(
        ok(&base, "/api/v1/rules?type=record").await,
        success(&format!(r#"{{"groups":[{}]}}"#, group1(RECORDING)))
    );
    assert_eq!(
        ok(
            &base,
            "/api/v1/rules?type=alert&exclude_alerts=true&rule_group[]=g1"
        )
        .await,
        success(&format!(r#"{{"groups":[{}]}}"#, group1(&alerting("null"))))
    );
    assert_eq!(
        ok(&base, "/api/v1/rules?rule_name[]=Never").await,
        success(&format!(r#"{{"groups":[{GROUP2}]}}"#))
    );
    assert_eq!(
        ok(
            &base,
            "/api/v1/rules?rule_group[]=g1&file[]=/etc/argus/other.yml"
        )
        .await,
        success(r#"{"groups":[]}"#)
    );
    assert_eq!(
        ok(
            &base,
            &format!("/api/v1/rules?match[]={}", enc("{severity=\"page\"}"))
        )
        .await,
        success(&format!(r#"{{"groups":[{}]}}"#, group1(&firing_rule)))
    );
    assert_error(
        &base,
        "/api/v1/rules?type=foo",
        400,
        "bad_data",
        r#"invalid parameter "type": not supported value "foo""#,
    )
    .await;
    assert_error(
        &base,
        "/api/v1/rules?exclude_alerts=maybe",
        400,
        "bad_data",
        r#"invalid parameter "exclude_alerts": error converting exclude_alerts: strconv.ParseBool: parsing "maybe": invalid syntax"#,
    )
    .await;
    assert_eq!(
        ok(&base, "/api/v1/alerts").await,
        success(&format!(r#"{{"alerts":[{FIRING}]}}"#))
    );
}

#[tokio::test]
async fn status_endpoints() {
    let base = server().await;
    assert_eq!(
        ok(&base, "/api/v1/status/config").await,
        success(r#"{"yaml":"global:\n  scrape_interval: 15s\n"}"#)
    );
    assert_eq!(
        ok(&base, "/api/v1/status/flags").await,
        success(r#"{"query.lookback-delta":"5m","web.enable-admin-api":"false"}"#)
    );
    assert_eq!(
        ok(&base, "/api/v1/status/buildinfo").await,
        success(
            r#"{"version":"0.1.0","revision":"abc","branch":"main","buildUser":"ci","buildDate":"20231114-22:13:20","goVersion":"rustc 1.95"}"#
        )
    );
    assert_eq!(
        ok(&base, "/api/v1/status/runtimeinfo").await,
        success(
            r#"{"startTime":"2023-11-14T22:13:20Z","CWD":"/","hostname":"argus-0","serverTime":"2023-11-14T22:15:00Z","reloadConfigSuccess":true,"lastConfigTime":"2023-11-14T22:13:20Z","corruptionCount":0,"goroutineCount":9,"GOMAXPROCS":2,"GOMEMLIMIT":9223372036854775807,"GOGC":"","GODEBUG":"","storageRetention":"15d"}"#
        )
    );
    assert_eq!(
        ok(&base, "/api/v1/status/walreplay").await,
        success(r#"{"min":0,"max":3,"current":3}"#)
    );
    assert_eq!(ok(&base, "/api/v1/notifications").await, success("[]"));
    // Without a TSDB, statistics are computed from the storage.
    assert_eq!(
        ok(&base, "/api/v1/status/tsdb?limit=2").await,
        success(
            r#"{"headStats":{"numSeries":6,"numLabelPairs":15,"chunkCount":0,"minTime":1700000000000,"maxTime":1700000120000},"seriesCountByMetricName":[{"name":"http_requests_total","value":2},{"name":"up","value":2}],"labelValueCountByLabelName":[{"name":"__name__","value":4},{"name":"job","value":4}],"memoryInBytesByLabelName":[{"name":"__name__","value":30},{"name":"instance","value":20}],"seriesCountByLabelValuePair":[{"name":"__name__=http_requests_total","value":2},{"name":"__name__=up","value":2}]}"#
        )
    );
    assert_error(
        &base,
        "/api/v1/status/tsdb?limit=0",
        400,
        "bad_data",
        "limit must be a positive number",
    )
    .await;
}

#[tokio::test]
async fn admin_disabled_and_enabled() {
    let base = server().await;
    let r = post_form(
        &base,
        "/api/v1/admin/tsdb/delete_series",
        &[("match[]", "up")],
    )
    .await;
    assert_eq!(r.status, 500);
    assert_eq!(
        r.body,
        r#"{"status":"error","errorType":"unavailable","error":"admin APIs disabled"}"#
    );

    let admin = Arc::new(FakeAdmin::default());
    let dir = tempfile::tempdir().unwrap();
    let mut st = fixture_state(fixture_storage());
    st.tsdb = Some(admin.clone());
    st.enable_admin = true;
    st.snapshot_dir = dir.path().join("snapshots");
    let base = spawn(st).await;
    let r = post_form(
        &base,
        "/api/v1/admin/tsdb/delete_series",
        &[
            ("match[]", "up{job=\"node\"}"),
            ("start", "1700000000"),
            ("end", "1700000060"),
        ],
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(r.body, "");
    let r = reqwest::Client::new()
        .put(format!(
            "{base}/api/v1/admin/tsdb/delete_series?match[]=gone"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        *admin.deletes.lock().unwrap(),
        vec![
            (
                1_700_000_000_000,
                1_700_000_060_000,
                vec!["job=\"node\"".to_owned(), "__name__=\"up\"".to_owned()]
            ),
            (
                -9_223_309_901_257_974_000,
                9_223_309_901_257_974_999,
                vec!["__name__=\"gone\"".to_owned()]
            ),
        ]
    );
    let r = post_form(&base, "/api/v1/admin/tsdb/delete_series", &[]).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["error"], "no match[] parameter provided");

    let r = post_form(&base, "/api/v1/admin/tsdb/clean_tombstones", &[]).await;
    assert_eq!(r.status, 204);
    assert_eq!(*admin.cleaned.lock().unwrap(), 1);

    let r = post_form(&base, "/api/v1/admin/tsdb/snapshot?skip_head=true", &[]).await;
    assert_eq!(
        r.body,
        r#"{"status":"success","data":{"name":"20231114T221320Z-0123456789abcdef"}}"#
    );
    assert!(dir.path().join("snapshots").is_dir());
    assert!(
        admin.snapshots.lock().unwrap()[0].1,
        "skip_head=true is passed on"
    );
    let r = post_form(&base, "/api/v1/admin/tsdb/snapshot?skip_head=maybe", &[]).await;
    assert_eq!(
        r.json()["error"],
        r#"invalid parameter "skip_head": unable to parse boolean: strconv.ParseBool: parsing "maybe": invalid syntax"#
    );
    // With a TSDB wired, /status/tsdb asks it.
    let v = get(&base, "/api/v1/status/tsdb?limit=1").await.json();
    assert_eq!(
        v["data"]["seriesCountByMetricName"],
        serde_json::json!([{"name": "up", "value": 2}])
    );
}

#[tokio::test]
async fn federation() {
    let mut st = fixture_state(fixture_storage());
    st.external_labels = Labels::from_pairs(&[("cluster", "c1")]);
    let base = spawn(st).await;
    let path = format!(
        "/federate?match[]={}&match[]=weird",
        enc("{job=~\"node|prometheus|x\"}")
    );
    let r = get(&base, &path).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        r.headers["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    // `gone` ended with a stale marker and is left out; `weird`'s only sample is 100 s old,
    // inside the 5m lookback, and gets `instance=""` with the external labels.
    assert_eq!(
        r.body,
        "# TYPE up untyped\n\
         up{instance=\"a:9100\",job=\"node\",cluster=\"c1\"} 0 1700000090000\n\
         up{instance=\"localhost:9090\",job=\"prometheus\",cluster=\"c1\"} 1 1700000090000\n\
         # TYPE weird untyped\n\
         weird{host.name=\"h1\",path=\"<a&b>\",cluster=\"c1\",instance=\"\"} 5e-08 1700000000000\n"
    );
    let r = get(&base, "/federate?match[]=gone").await;
    assert_eq!(r.body, "");
    let r = get(&base, "/federate?match[]=up%7B").await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.body,
        "1:4: parse error: unexpected end of input inside braces\n"
    );
}

#[tokio::test]
async fn cors_gzip_readiness_and_unknown_paths() {
    let base = server().await;
    let c = reqwest::Client::builder().no_gzip().build().unwrap();
    let r = c
        .get(format!("{base}/api/v1/labels"))
        .header("origin", "https://grafana.example")
        .send()
        .await
        .unwrap();
    let h = r.headers();
    assert_eq!(h["access-control-allow-origin"], "*");
    assert_eq!(
        h["access-control-allow-headers"],
        "Accept, Authorization, Content-Type, Origin"
    );
    assert_eq!(h["access-control-allow-methods"], "GET, POST, OPTIONS");
    assert_eq!(h["access-control-expose-headers"], "Date");
    assert_eq!(h["vary"], "Origin");
    let r = c
        .request(
            reqwest::Method::OPTIONS,
            format!("{base}/api/v1/anything/at/all"),
        )
        .header("origin", "https://grafana.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    // No Origin, no CORS headers.
    let r = c.get(format!("{base}/api/v1/labels")).send().await.unwrap();
    assert!(r.headers().get("access-control-allow-origin").is_none());

    // A restricted origin is echoed only when it matches.
    let st = fixture_state(fixture_storage())
        .with_cors_origin(r"https://ok\.example")
        .unwrap();
    let restricted = spawn(st).await;
    for (origin, allowed) in [
        ("https://ok.example", true),
        ("https://evil.example", false),
    ] {
        let r = c
            .get(format!("{restricted}/api/v1/labels"))
            .header("origin", origin)
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.headers()
                .get("access-control-allow-origin")
                .map(|v| v.to_str().unwrap()),
            allowed.then_some(origin)
        );
    }

    // gzip when accepted.
    let r = c
        .get(format!("{base}/api/v1/labels"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-encoding"], "gzip");
    let bytes = r.bytes().await.unwrap();
    assert_eq!(&bytes[..2], &[0x1f, 0x8b]);
    let r = c.get(format!("{base}/api/v1/labels")).send().await.unwrap();
    assert!(r.headers().get("content-encoding").is_none());

    let r = get(&base, "/api/v1/nope").await;
    assert_eq!(r.status, 404);
    let r = get(&base, "/api/v1/admin/tsdb/snapshot").await;
    assert_eq!(r.status, 405);

    let mut st = fixture_state(fixture_storage());
    st.ready = Some(Arc::new(AtomicBool::new(false)));
    let not_ready = spawn(st).await;
    let r = get(&not_ready, "/api/v1/query?query=up").await;
    assert_eq!(r.status, 503);
    assert_eq!(r.body, "Service Unavailable");
}

async fn remote_read(base: &str, req: &ReadRequest) -> reqwest::Response {
    let body = snap::raw::Encoder::new()
        .compress_vec(&req.encode_to_vec())
        .unwrap();
    reqwest::Client::new()
        .post(format!("{base}/api/v1/read"))
        .header("content-type", "application/x-protobuf")
        .header("content-encoding", "snappy")
        .header("x-prometheus-remote-read-version", "0.1.0")
        .body(body)
        .send()
        .await
        .unwrap()
}

fn query(name: &str, extra: &[(&str, &str)], start: i64, end: i64) -> Query {
    let mut matchers = vec![LabelMatcher {
        r#type: MatcherType::Eq as i32,
        name: "__name__".into(),
        value: name.into(),
    }];
    for (n, v) in extra {
        matchers.push(LabelMatcher {
            r#type: MatcherType::Eq as i32,
            name: (*n).into(),
            value: (*v).into(),
        });
    }
    Query {
        start_timestamp_ms: start,
        end_timestamp_ms: end,
        matchers,
        hints: None,
    }
}

fn label_pairs(ls: &[argus_query::api::remote_read::proto::Label]) -> Vec<(String, String)> {
    ls.iter()
        .map(|l| (l.name.clone(), l.value.clone()))
        .collect()
}

#[tokio::test]
async fn remote_read_samples_and_streamed_chunks() {
    let mut st: ApiState = fixture_state(fixture_storage());
    st.external_labels = Labels::from_pairs(&[("cluster", "c1")]);
    let base = spawn(st).await;
    // The equality matcher on the external label is satisfied by it and dropped.
    let req = ReadRequest {
        queries: vec![
            query("up", &[("job", "node"), ("cluster", "c1")], T0, T0 + 30_000),
            query("up", &[("cluster", "c2")], T0, T0 + 30_000),
        ],
        accepted_response_types: vec![],
    };
    let r = remote_read(&base, &req).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/x-protobuf");
    assert_eq!(r.headers()["content-encoding"], "snappy");
    let raw = snap::raw::Decoder::new()
        .decompress_vec(&r.bytes().await.unwrap())
        .unwrap();
    let resp = ReadResponse::decode(raw.as_slice()).unwrap();
    assert_eq!(resp.results.len(), 2);
    let ts = &resp.results[0].timeseries;
    assert_eq!(ts.len(), 1);
    let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    };
    assert_eq!(
        label_pairs(&ts[0].labels),
        pairs(&[
            ("__name__", "up"),
            ("cluster", "c1"),
            ("instance", "a:9100"),
            ("job", "node")
        ])
    );
    let samples: Vec<(i64, f64)> = ts[0]
        .samples
        .iter()
        .map(|s| (s.timestamp, s.value))
        .collect();
    assert_eq!(
        samples,
        vec![(T0, 0.0), (T0 + 15_000, 0.0), (T0 + 30_000, 0.0)]
    );
    assert!(
        resp.results[1].timeseries.is_empty(),
        "cluster=c2 matches nothing"
    );

    // Streamed XOR chunks: frames with CRC32C, chunks decoding to the same samples.
    let req = ReadRequest {
        queries: vec![query("http_requests_total", &[], T0, T0 + 120_000)],
        accepted_response_types: vec![ResponseType::StreamedXorChunks as i32],
    };
    let r = remote_read(&base, &req).await;
    assert_eq!(
        r.headers()["content-type"],
        "application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse"
    );
    let body = r.bytes().await.unwrap();
    let mut pos = 0;
    let mut series = Vec::new();
    while pos < body.len() {
        let (mut len, mut shift) = (0usize, 0);
        loop {
            let b = body[pos];
            pos += 1;
            len |= ((b & 0x7f) as usize) << shift;
            shift += 7;
            if b < 0x80 {
                break;
            }
        }
        let crc = u32::from_be_bytes(body[pos..pos + 4].try_into().unwrap());
        pos += 4;
        let data = &body[pos..pos + len];
        pos += len;
        assert_eq!(crc32c::crc32c(data), crc);
        let frame = ChunkedReadResponse::decode(data).unwrap();
        assert_eq!(frame.query_index, 0);
        for cs in frame.chunked_series {
            let mut samples = Vec::new();
            for c in &cs.chunks {
                let s = decode_xor_chunk(&c.data).unwrap();
                assert_eq!(
                    (c.min_time_ms, c.max_time_ms),
                    (s[0].0, s.last().unwrap().0)
                );
                samples.extend(s);
            }
            series.push((label_pairs(&cs.labels), samples));
        }
    }
    assert_eq!(series.len(), 2);
    assert_eq!(series[0].0[1], ("cluster".to_string(), "c1".to_string()));
    assert_eq!(series[0].0[2], ("code".to_string(), "200".to_string()));
    let want: Vec<(i64, f64)> = (0..=8)
        .map(|i| (T0 + i * 15_000, (i * 10) as f64))
        .collect();
    assert_eq!(series[0].1, want);

    // Errors: garbage body, sample limit.
    let r = reqwest::Client::new()
        .post(format!("{base}/api/v1/read"))
        .body("not snappy")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let mut st = fixture_state(fixture_storage());
    st.remote_read.sample_limit = 3;
    let limited = spawn(st).await;
    let req = ReadRequest {
        queries: vec![query("up", &[], T0, T0 + 30_000)],
        accepted_response_types: vec![],
    };
    let r = remote_read(&limited, &req).await;
    assert_eq!(r.status(), 400);
    assert_eq!(r.text().await.unwrap(), "exceeded sample limit (3)\n");
}

/// Records `(path, method, status, body)` of a wide set of requests and validates every
/// body against Prometheus' OpenAPI 3.1 description with Python's `jsonschema`.
#[tokio::test]
async fn responses_match_the_openapi_schema() {
    if skip_peers()
        && std::process::Command::new("python3")
            .arg("-c")
            .arg("import jsonschema, yaml")
            .status()
            .map(|s| !s.success())
            .unwrap_or(true)
    {
        return;
    }
    let admin = Arc::new(FakeAdmin::default());
    let dir = tempfile::tempdir().unwrap();
    let mut st = fixture_state(fixture_storage());
    st.tsdb = Some(admin);
    st.enable_admin = true;
    st.snapshot_dir = dir.path().join("snapshots");
    let base = spawn(st).await;
    let gets = [
        "/query?query=up&time=1700000060",
        "/query?query=1&time=1700000060&stats=all",
        // Not `query="s"`: the description types both elements of a string result as
        // strings, but Prometheus' String.MarshalJSON writes the timestamp as a number.
        "/query?query=up%7B",
        "/query_range?query=up&start=1700000000&end=1700000060&step=15&stats=true",
        "/query_range?query=up&start=1700000000&end=1700000060&step=0",
        "/query_exemplars?query=up",
        "/format_query?query=sum(up)by(job)",
        "/parse_query?query=rate(up%5B5m%5D)%20%3E%201",
        "/labels",
        "/labels?limit=1",
        "/label/job/values",
        "/series?match[]=up",
        "/series",
        "/metadata",
        "/targets",
        "/targets?state=dropped",
        "/targets/metadata?match_target=%7Bjob%3D%22node%22%7D",
        "/scrape_pools",
        "/alertmanagers",
        "/rules",
        "/rules?exclude_alerts=true",
        "/alerts",
        "/status/config",
        "/status/flags",
        "/status/runtimeinfo",
        "/status/buildinfo",
        "/status/tsdb",
        "/status/walreplay",
        "/notifications",
    ];
    let mut cases = Vec::new();
    for path in gets {
        let r = get(&base, &format!("/api/v1{path}")).await;
        let spec_path = path
            .split('?')
            .next()
            .unwrap()
            .replace("/label/job/", "/label/{name}/");
        cases.push(serde_json::json!({
            "path": spec_path, "method": "get", "status": r.status,
            "body": serde_json::from_str::<serde_json::Value>(&r.body).unwrap(),
        }));
    }
    for (path, form) in [
        ("/query", vec![("query", "up"), ("time", "1700000060")]),
        ("/series", vec![("match[]", "up")]),
        ("/labels", vec![("match[]", "up")]),
        ("/admin/tsdb/snapshot", vec![]),
        ("/admin/tsdb/delete_series", vec![("match[]", "up")]),
        ("/admin/tsdb/clean_tombstones", vec![]),
    ] {
        let r = post_form(&base, &format!("/api/v1{path}"), &form).await;
        let body = if r.body.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_str(&r.body).unwrap()
        };
        cases.push(serde_json::json!({
            "path": path, "method": "post", "status": r.status, "body": body,
        }));
    }
    let file = dir.path().join("responses.json");
    std::fs::write(&file, serde_json::to_vec(&cases).unwrap()).unwrap();
    let testdata = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/http-api");
    let out = std::process::Command::new("python3")
        .arg(testdata.join("validate_responses.py"))
        .arg(testdata.join("openapi_3.1.yaml"))
        .arg(&file)
        .output()
        .expect("python3 is needed to validate responses against the OpenAPI description");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("ModuleNotFoundError"),
        "the OpenAPI check needs `pip install jsonschema pyyaml` (scripts/test.sh installs them): {stderr}"
    );
    assert!(
        out.status.success(),
        "OpenAPI validation failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains(&format!("validated {} responses", cases.len() - 2)),
        "{stdout}"
    );
}
