//! Real Prometheus tools as clients of the Argus API:
//! - `promtool query instant|range|series|labels` against the API, checking what it prints;
//! - a real Prometheus with `remote_read` pointed at Argus, queried through its own API.
//!
//! Both binaries come from the Debian `prometheus` package (scripts/test.sh installs it).
//! A missing binary fails the test unless `ARGUS_SKIP_PEER_TESTS=1`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod api_support;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use api_support::*;
use argus_model::Labels;

/// The binary's path, or `None` when it is missing and peer tests may be skipped.
fn peer(name: &str) -> Option<&'static str> {
    let path: &'static str = match name {
        "promtool" => "promtool",
        _ => "prometheus",
    };
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {path}"))
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if found {
        return Some(path);
    }
    assert!(
        skip_peers(),
        "`{name}` not found: install the Debian `prometheus` package (scripts/test.sh does) \
         or set ARGUS_SKIP_PEER_TESTS=1"
    );
    None
}

async fn promtool(args: Vec<String>) -> (bool, String, String) {
    tokio::task::spawn_blocking(move || {
        let out = Command::new("promtool").args(&args).output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .unwrap()
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

#[tokio::test]
async fn promtool_queries() {
    if peer("promtool").is_none() {
        return;
    }
    let base = spawn(fixture_state(fixture_storage())).await;

    let (ok, out, err) = promtool(s(&["query", "instant", "--time=1700000060", &base, "up"])).await;
    assert!(ok, "{err}");
    assert_eq!(
        out,
        "up{instance=\"a:9100\", job=\"node\"} => 0 @[1700000060]\n\
         up{instance=\"localhost:9090\", job=\"prometheus\"} => 1 @[1700000060]\n"
    );

    let (ok, out, err) = promtool(s(&[
        "query",
        "range",
        "--start=2023-11-14T22:13:20Z",
        "--end=1700000030",
        "--step=15s",
        &base,
        "sum by (code) (http_requests_total)",
    ]))
    .await;
    assert!(ok, "{err}");
    assert_eq!(
        out,
        "{code=\"200\"} =>\n0 @[1700000000]\n10 @[1700000015]\n20 @[1700000030]\n\
         {code=\"500\"} =>\n0 @[1700000000]\n1 @[1700000015]\n2 @[1700000030]\n"
    );

    let (ok, out, err) = promtool(s(&[
        "query",
        "series",
        "--match=up",
        "--match={__name__=\"gone\"}",
        "--start=1700000000",
        "--end=1700000100",
        &base,
    ]))
    .await;
    assert!(ok, "{err}");
    assert_eq!(
        out,
        "{__name__=\"gone\", job=\"x\"}\n\
         {__name__=\"up\", instance=\"a:9100\", job=\"node\"}\n\
         {__name__=\"up\", instance=\"localhost:9090\", job=\"prometheus\"}\n"
    );

    let (ok, out, err) = promtool(s(&[
        "query",
        "labels",
        "--start=1700000000",
        "--end=1700000100",
        &base,
        "job",
    ]))
    .await;
    assert!(ok, "{err}");
    assert_eq!(out, "api\nnode\nprometheus\nx\n");

    // Errors reach the user with Prometheus' type and message.
    let (ok, _, err) = promtool(s(&["query", "instant", &base, "up{"])).await;
    assert!(!ok);
    assert!(
        err.contains(
            "bad_data: invalid parameter \"query\": 1:4: parse error: unexpected end of input inside braces"
        ),
        "{err}"
    );
}

/// Kills the child on drop so a failing assertion does not leak a server.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn prometheus_remote_read_from_argus() {
    let Some(bin) = peer("prometheus") else {
        return;
    };
    let mut st = fixture_state(fixture_storage());
    st.external_labels = Labels::from_pairs(&[("cluster", "argus")]);
    let argus = spawn(st).await;

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1h\n  evaluation_interval: 1h\n\
             remote_read:\n  - url: {argus}/api/v1/read\n    read_recent: true\n"
        ),
    )
    .unwrap();
    let port = free_port();
    let prom = format!("http://127.0.0.1:{port}");
    let log = std::fs::File::create(dir.path().join("prometheus.log")).unwrap();
    let _child = KillOnDrop(
        Command::new(bin)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = reqwest::get(format!("{prom}/-/ready")).await {
            if r.status() == 200 {
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus did not become ready: {}",
            std::fs::read_to_string(dir.path().join("prometheus.log")).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Prometheus evaluates with its own engine over samples read from Argus.
    let r = get(&prom, "/api/v1/query?query=up&time=1700000060").await;
    assert_eq!(
        r.body,
        r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"up","cluster":"argus","instance":"a:9100","job":"node"},"value":[1700000060,"0"]},{"metric":{"__name__":"up","cluster":"argus","instance":"localhost:9090","job":"prometheus"},"value":[1700000060,"1"]}]}}"#
    );
    // The external label as a matcher: Argus drops it and still finds the data.
    let q = enc("http_requests_total{cluster=\"argus\",code=\"500\"}");
    let r = get(
        &prom,
        &format!("/api/v1/query_range?query={q}&start=1700000000&end=1700000120&step=30"),
    )
    .await;
    assert_eq!(
        r.body,
        r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"http_requests_total","cluster":"argus","code":"500","handler":"/api","job":"api"},"values":[[1700000000,"0"],[1700000030,"2"],[1700000060,"4"],[1700000090,"6"],[1700000120,"8"]]}]}}"#
    );
    // And the answer of Argus' own engine for the same query is byte-identical.
    let r2 = get(
        &argus,
        &format!(
            "/api/v1/query_range?query={}&start=1700000000&end=1700000120&step=30",
            enc("label_replace(http_requests_total{code=\"500\"}, \"cluster\", \"argus\", \"\", \"\")")
        ),
    )
    .await;
    assert_eq!(r2.body, r.body);
}
