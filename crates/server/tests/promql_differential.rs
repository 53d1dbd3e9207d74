//! Differential test of Argus' PromQL against a real Prometheus (Debian's 2.42).
//!
//! Both servers start empty on loopback, receive the same remote-write requests of seeded
//! data (see `common::data`), and answer the same instant and range queries through their
//! HTTP APIs (see `common::queries`). A second Argus answers the same queries from the same
//! samples persisted to 10-minute blocks (see `common::blocks`), so the block read path is
//! held to Prometheus too; the metadata endpoints are compared for the head-fed Argus
//! (`common::metadata`). Every answer pair must agree: status and error type,
//! result type, label sets, order where Prometheus defines one, timestamps, and values
//! within 1e-9 relative. Any difference fails the test with the list of differing queries.
//!
//! A missing Prometheus fails the test unless `ARGUS_SKIP_PEER_TESTS=1`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::print_stderr
)]

mod common;

use std::time::Duration;

use common::compare::{compare, parse, Answer};
use common::data::generate;
use common::peers::{
    prometheus_available, server_dir, start_argus, start_prometheus, wait_ready, Server,
};
use common::queries::{build, Kind, Query, Times};

const SEED: u64 = 0x5eed_a7a5;

async fn remote_write(client: &reqwest::Client, s: &Server, body: &[u8]) {
    let r = client
        .post(format!("{}/api/v1/write", s.base))
        .header("Content-Encoding", "snappy")
        .header("Content-Type", "application/x-protobuf")
        .header("X-Prometheus-Remote-Write-Version", "0.1.0")
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    let status = r.status();
    let text = r.text().await.unwrap_or_default();
    assert!(
        status.is_success(),
        "{} refused remote write: {status} {text}",
        s.name
    );
}

/// Runs one query; returns the HTTP status and body.
async fn run(client: &reqwest::Client, s: &Server, q: &Query, expr: &str) -> (u16, String) {
    let kind = &q.kind;
    let (path, mut form) = match kind {
        Kind::Instant { time } => ("query", vec![("time", time.as_str())]),
        Kind::Range { start, end, step } => (
            "query_range",
            vec![
                ("start", start.as_str()),
                ("end", end.as_str()),
                ("step", step.as_str()),
            ],
        ),
    };
    form.push(("query", expr));
    for (k, v) in &q.params {
        form.push((k, v.as_str()));
    }
    let r = client
        .post(format!("{}/api/v1/{path}", s.base))
        .form(&form)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{} did not answer {expr}: {e}\n{}", s.name, s.log()));
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

/// The status and error type of a failed metadata answer; `None` for a success.
fn parse_meta(http: u16, body: &str) -> Option<(u16, String)> {
    let j: serde_json::Value = serde_json::from_str(body).ok()?;
    (j["status"] != "success").then(|| (http, j["errorType"].as_str().unwrap_or("").to_owned()))
}

/// Byte equality of two bodies; the error shows where they part.
fn same_bytes(a: &str, p: &str) -> Result<(), String> {
    if a == p {
        return Ok(());
    }
    let at = a
        .bytes()
        .zip(p.bytes())
        .position(|(x, y)| x != y)
        .unwrap_or(a.len().min(p.len()));
    let around = |s: &str| {
        let lo = (0..=at.saturating_sub(40))
            .rev()
            .find(|i| s.is_char_boundary(*i));
        let hi = (at + 40..=s.len()).find(|i| s.is_char_boundary(*i));
        s.get(lo.unwrap_or(0)..hi.unwrap_or(s.len()))
            .unwrap_or("")
            .to_owned()
    };
    Err(format!(
        "bodies differ at byte {at}: …{}… vs …{}…",
        around(a),
        around(p)
    ))
}

fn truncate(s: &str) -> String {
    const MAX: usize = 1500;
    if s.len() <= MAX {
        return s.to_owned();
    }
    let cut = (0..=MAX).rev().find(|i| s.is_char_boundary(*i)).unwrap();
    format!("{}… ({} bytes)", &s[..cut], s.len())
}

#[derive(Default)]
struct Tally {
    instant: usize,
    range: usize,
    errors: usize,
    non_empty: usize,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promql_matches_prometheus() {
    if !prometheus_available() {
        eprintln!("SKIPPED: Prometheus not installed (ARGUS_SKIP_PEER_TESTS=1)");
        return;
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    // The data ends 90 s before now: inside the hour behind the newest sample that
    // Prometheus' head accepts, and sent in time order.
    let now_ms = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap();
    let data = generate(SEED, now_ms, 90_000);
    // Two Argus: one fed by remote write (answers from its head), one started on the same
    // samples already persisted to 10-minute blocks (answers from blocks).
    let mut argus = start_argus("argus", server_dir());
    let blocks_dir = server_dir();
    common::blocks::write(&data, &blocks_dir.path().join("data"));
    let mut argus_blocks = start_argus("argus-blocks", blocks_dir);
    let mut prom = start_prometheus();
    wait_ready(&client, &mut argus).await;
    wait_ready(&client, &mut argus_blocks).await;
    wait_ready(&client, &mut prom).await;

    let requests = data.requests(5 * 60_000);
    for body in &requests {
        remote_write(&client, &argus, body).await;
        remote_write(&client, &prom, body).await;
    }
    eprintln!(
        "wrote {} series, {} samples in {} requests",
        data.series.len(),
        data.sample_count(),
        requests.len()
    );

    let mut queries = build(&Times::new(data.start_ms));
    // PROMQL_DIFF_FILTER=text runs only the queries containing it, and prints whole answers
    // (for investigating a difference).
    let filter = std::env::var("PROMQL_DIFF_FILTER").ok();
    if let Some(f) = &filter {
        queries.retain(|q| q.argus.contains(f.as_str()));
    }
    let mut tally = Tally::default();
    let mut failures: Vec<(Query, String)> = Vec::new();
    for q in &queries {
        let ((ah, ab), (bh, bb), (ph, pb)) = tokio::join!(
            run(&client, &argus, q, &q.argus),
            run(&client, &argus_blocks, q, &q.argus),
            run(&client, &prom, q, &q.prom)
        );
        let pa = parse(ph, &pb).unwrap_or_else(|e| panic!("prometheus: {e}"));
        if q.is_range() {
            tally.range += 1;
        } else {
            tally.instant += 1;
        }
        if pa.is_err() {
            tally.errors += 1;
        }
        if pa.has_samples() {
            tally.non_empty += 1;
        }
        for (name, h, b) in [("argus", ah, &ab), ("argus-blocks", bh, &bb)] {
            let verdict = parse(h, b)
                .and_then(|a: Answer| compare(&a, &pa, q.order, q.is_range(), q.same_message))
                // Errors are compared by type and, where asked, message; bytes only for
                // successes.
                .and_then(|()| {
                    if q.raw && !pa.is_err() {
                        same_bytes(b, &pb)
                    } else {
                        Ok(())
                    }
                });
            if filter.is_some() {
                eprintln!("QUERY {}\n  {name}: {b}\n  prometheus: {pb}", q.describe());
            }
            if let Err(why) = verdict {
                eprintln!(
                    "DIFF {name}: {}\n  {why}\n  {name} ({h}): {}\n  prometheus ({ph}): {}",
                    q.describe(),
                    truncate(b),
                    truncate(&pb)
                );
                failures.push((q.clone(), format!("{name}: {why}")));
            }
        }
    }
    // The metadata endpoints answer sorted lists: compare them byte for byte (errors by
    // status and type). Only the head-fed Argus: label lookups under a time range work at
    // index granularity (whole blocks, the whole head), so a block layout differing from
    // Prometheus' single head gives different, equally correct lists.
    let mut metadata_failures = Vec::new();
    let meta = common::metadata::requests(&Times::new(data.start_ms));
    if filter.is_none() {
        for path in &meta {
            let get = |s: &Server| {
                let url = format!("{}{path}", s.base);
                let client = client.clone();
                async move {
                    let r = client.get(url).send().await.unwrap();
                    (r.status().as_u16(), r.text().await.unwrap())
                }
            };
            let ((ah, ab), (ph, pb)) = tokio::join!(get(&argus), get(&prom));
            let verdict = match (parse_meta(ah, &ab), parse_meta(ph, &pb)) {
                (Some(a), Some(p)) if a == p => Ok(()),
                (Some(a), Some(p)) => Err(format!("error {a:?} vs {p:?}")),
                (None, None) => same_bytes(&ab, &pb),
                _ => Err("one failed, the other did not".to_owned()),
            };
            if let Err(why) = verdict {
                eprintln!(
                    "DIFF GET {path}\n  {why}\n  argus      ({ah}): {}\n  prometheus ({ph}): {}",
                    truncate(&ab),
                    truncate(&pb)
                );
                metadata_failures.push(format!("  GET {path}\n    {why}"));
            }
        }
    }
    let total = queries.len();
    eprintln!(
        "compared {total} queries: {} instant, {} range, {} failing on Prometheus; \
         {} with samples; {} differ",
        tally.instant,
        tally.range,
        tally.errors,
        tally.non_empty,
        failures.len()
    );
    // Guards against a broken setup where both sides answer empty and so agree.
    assert!(
        filter.is_some() || tally.non_empty * 10 >= total * 7,
        "only {} of {total} queries returned data: is the ingestion broken?",
        tally.non_empty
    );
    eprintln!(
        "compared {} metadata requests; {} differ",
        meta.len(),
        metadata_failures.len()
    );
    let mut list: Vec<String> = failures
        .iter()
        .map(|(q, why)| format!("  {}\n    {why}", q.describe()))
        .collect();
    list.extend(metadata_failures);
    assert!(
        list.is_empty(),
        "{} of {total} queries and {} metadata requests differ from Prometheus:\n{}",
        failures.len(),
        list.len() - failures.len(),
        list.join("\n")
    );
}

/// The comparison itself must catch differences, or a passing run proves nothing.
#[test]
fn comparison_catches_differences() {
    use common::compare::{close, Order};
    let vec = |pairs: &[(&str, &str)]| {
        let items: Vec<String> = pairs
            .iter()
            .map(|(l, v)| format!(r#"{{"metric":{{"i":"{l}"}},"value":[10.5,"{v}"]}}"#))
            .collect();
        let body = format!(
            r#"{{"status":"success","data":{{"resultType":"vector","result":[{}]}}}}"#,
            items.join(",")
        );
        parse(200, &body).unwrap()
    };
    let same = |a: &Answer, p: &Answer, o| compare(a, p, o, false, false).is_ok();
    let base = vec(&[("a", "1"), ("b", "2")]);
    assert!(same(&base, &vec(&[("b", "2"), ("a", "1")]), Order::Any));
    assert!(!same(
        &base,
        &vec(&[("b", "2"), ("a", "1")]),
        Order::ByValue
    ));
    assert!(!same(&base, &vec(&[("a", "1"), ("b", "2.1")]), Order::Any));
    assert!(!same(&base, &vec(&[("a", "1"), ("c", "2")]), Order::Any));
    assert!(!same(&base, &vec(&[("a", "1")]), Order::Any));
    // Equal numbers written differently are a difference too.
    assert!(!same(
        &vec(&[("a", "1e+06")]),
        &vec(&[("a", "1000000")]),
        Order::Any
    ));
    assert!(same(
        &vec(&[("a", "NaN")]),
        &vec(&[("a", "NaN")]),
        Order::Any
    ));
    assert!(close("1", "1.0000000000001") && !close("1", "1.00001"));
    assert!(!close("+Inf", "-Inf") && !close("NaN", "0"));
    let err = |t: &str| {
        parse(
            400,
            &format!(r#"{{"status":"error","errorType":"{t}","error":"x"}}"#),
        )
        .unwrap()
    };
    assert!(same(&err("bad_data"), &err("bad_data"), Order::Any));
    assert!(!same(&err("bad_data"), &err("execution"), Order::Any));
    assert!(!same(&err("bad_data"), &base, Order::Any));
    assert!(same_bytes("ab", "ab").is_ok() && same_bytes("ab", "ac").is_err());
}
