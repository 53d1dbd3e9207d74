//! Differential test of Argus' PromQL against a real Prometheus (Debian's 2.42).
//!
//! Both servers start empty on loopback, receive the same remote-write requests of seeded
//! data (see `common::data`), and answer the same instant and range queries through their
//! HTTP APIs (see `common::queries`). Every answer pair must agree: status and error type,
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
use common::peers::{prometheus_available, start_argus, start_prometheus, wait_ready, Server};
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
async fn run(client: &reqwest::Client, s: &Server, expr: &str, kind: &Kind) -> (u16, String) {
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
    let r = client
        .post(format!("{}/api/v1/{path}", s.base))
        .form(&form)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{} did not answer {expr}: {e}\n{}", s.name, s.log()));
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
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
    let mut argus = start_argus();
    let mut prom = start_prometheus();
    wait_ready(&client, &mut argus).await;
    wait_ready(&client, &mut prom).await;

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
        let ((ah, ab), (ph, pb)) = tokio::join!(
            run(&client, &argus, &q.argus, &q.kind),
            run(&client, &prom, &q.prom, &q.kind)
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
        let verdict = parse(ah, &ab)
            .and_then(|aa: Answer| compare(&aa, &pa, q.order, q.is_range(), q.same_message));
        if filter.is_some() {
            eprintln!("QUERY {}\n  argus: {ab}\n  prometheus: {pb}", q.describe());
        }
        if let Err(why) = verdict {
            eprintln!(
                "DIFF {}\n  {why}\n  argus      ({ah}): {}\n  prometheus ({ph}): {}",
                q.describe(),
                truncate(&ab),
                truncate(&pb)
            );
            failures.push((q.clone(), why));
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
    let list: Vec<String> = failures
        .iter()
        .map(|(q, why)| format!("  {}\n    {why}", q.describe()))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {total} queries differ from Prometheus:\n{}",
        failures.len(),
        list.join("\n")
    );
}
