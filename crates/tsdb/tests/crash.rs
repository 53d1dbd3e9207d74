//! Crash safety with a real process: a child appends and commits in a loop, reporting each
//! acknowledged commit on stdout, and is killed with SIGKILL at a random moment; the database
//! is reopened and every acknowledged sample must be there. Repeated on the same directory so
//! replay of previously repaired WALs, checkpoints and interrupted compactions is exercised.
//!
//! The child is this same test binary running the ignored `crash_child` test with
//! `ARGUS_CRASH_CHILD_DIR` set.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use argus_model::storage::collect_series;
use argus_model::{Appendable, Labels, Matcher, Queryable};
use argus_tsdb::{Db, FsyncPolicy, Options};

const SERIES: usize = 8;
const STEP_MS: i64 = 20_000;

fn opts() -> Options {
    Options {
        fsync: FsyncPolicy::Always,
        // Small blocks and a fast loop, so kills also land in head persistence, block
        // merges and WAL checkpoints.
        min_block_ms: 600_000,
        compaction_interval: Duration::from_millis(20),
        wal_segment_bytes: 64 << 10,
        ..Options::default()
    }
}

fn series(i: usize) -> Labels {
    Labels::from_pairs(&[("__name__", "crash_test".to_string()), ("s", i.to_string())])
}

fn value(t: i64, i: usize) -> f64 {
    (t / 1000 + i as i64) as f64
}

/// The child: appends commit after commit until killed.
#[test]
#[ignore = "run as the child process of crash_safety_under_sigkill"]
fn crash_child() {
    let Ok(dir) = std::env::var("ARGUS_CRASH_CHILD_DIR") else {
        return;
    };
    let start: i64 = std::env::var("ARGUS_CRASH_CHILD_START")
        .unwrap()
        .parse()
        .unwrap();
    let db = Db::open(&dir, opts(), &prometheus::Registry::new()).unwrap();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    writeln!(out, "ready").unwrap();
    out.flush().unwrap();
    for k in 0i64.. {
        let t = start + k * STEP_MS;
        let mut app = db.appender();
        for i in 0..SERIES {
            app.append(None, &series(i), t, value(t, i)).unwrap();
        }
        app.commit().unwrap();
        // Acknowledged: the commit returned.
        writeln!(out, "ack {t}").unwrap();
        out.flush().unwrap();
    }
}

fn next_rand(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
fn crash_safety_under_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut rng = 0x9e37_79b9_7f4a_7c15u64 ^ u64::from(std::process::id());
    let mut acked: Vec<i64> = Vec::new();
    let mut start = 1_000_000_000i64;
    let mut blocks_seen = 0;
    for round in 0..20 {
        let mut child = Command::new(&exe)
            .args([
                "--ignored",
                "--exact",
                "crash_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("ARGUS_CRASH_CHILD_DIR", dir.path())
            .env("ARGUS_CRASH_CHILD_START", start.to_string())
            .env("RUST_LOG", "off")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        // Wait for the child to open the database (replay included), then let it run a
        // random while.
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let l = rx
                .recv_timeout(Duration::from_secs(60))
                .expect("child never became ready");
            if l.ends_with("ready") {
                break;
            }
            assert!(Instant::now() < deadline);
        }
        let run_ms = 20 + next_rand(&mut rng) % 400;
        std::thread::sleep(Duration::from_millis(run_ms));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        reader.join().unwrap();
        let mut round_acks = 0;
        while let Ok(l) = rx.try_recv() {
            if let Some(t) = l.strip_prefix("ack ") {
                acked.push(t.parse().unwrap());
                round_acks += 1;
            }
        }
        assert!(
            round_acks > 0 || round == 0 || run_ms < 50,
            "round {round}: child made no progress"
        );
        // Reopen and verify every acknowledged sample.
        let db = Db::open(
            dir.path(),
            Options {
                auto_compaction: false,
                ..opts()
            },
            &prometheus::Registry::new(),
        )
        .unwrap();
        let q = db.querier(i64::MIN, i64::MAX).unwrap();
        let got = collect_series(
            q.select(true, None, &[Matcher::equal("__name__", "crash_test")])
                .as_mut(),
        )
        .unwrap();
        if !acked.is_empty() {
            assert_eq!(got.len(), SERIES, "round {round}");
        }
        for (i, (l, samples)) in got.iter().enumerate() {
            assert_eq!(l, &series(i));
            let have: std::collections::HashMap<i64, f64> =
                samples.iter().map(|s| (s.t, s.v)).collect();
            for &t in &acked {
                assert!(
                    have.get(&t) == Some(&value(t, i)),
                    "round {round}: acknowledged sample t={t} of series {i} lost ({} acked, {} present)",
                    acked.len(),
                    samples.len()
                );
            }
        }
        // The next child continues after everything that may have been written.
        let max_t = got
            .iter()
            .flat_map(|(_, s)| s.last().map(|x| x.t))
            .max()
            .unwrap_or(start);
        start = max_t.max(acked.last().copied().unwrap_or(start)) + STEP_MS;
        blocks_seen = blocks_seen.max(db.blocks().len());
        db.close().unwrap();
    }
    assert!(
        blocks_seen > 0,
        "the children never persisted a block: compaction was not exercised"
    );
    assert!(
        acked.len() > 20,
        "only {} commits acknowledged over 20 rounds",
        acked.len()
    );
}
