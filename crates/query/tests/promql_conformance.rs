//! Conformance: every eval of Prometheus' PromQL test scripts (vendored under
//! `testdata/promql`, Apache-2.0, see LICENSE/NOTICE there) against the engine on the
//! in-memory reference storage.
//!
//! Engine settings are those the scripts assume (`FORMAT.md` §6.6): 5 m lookback, delayed
//! `__name__` removal, 1 m default subquery step, experimental functions enabled. Evals that
//! need native histograms (flagged in `inventory.tsv`, or whose expected output contains
//! one) and evals over per-sample start timestamps are skipped and counted as skipped.
//! `KNOWN_UNSUPPORTED` lists the remaining cases Argus does not implement, each with its
//! reason; a listed case that starts passing fails the test so the list stays minimal.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use argus_model::memstore::MemStorage;
use argus_model::{Appendable, Appender, Querier, Queryable, StorageError};
use argus_query::promqltest::{run_script, FileReport, Inventory, Outcome, TestStorage};
use argus_query::{Engine, EngineOptions};
use argus_tsdb::{Db, FsyncPolicy, Options};

/// (file, eval line, reason).
const KNOWN_UNSUPPORTED: &[(&str, usize, &str)] = &[];

fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/promql")
}

fn engine() -> Engine {
    Engine::new(EngineOptions {
        max_samples: 50_000_000,
        timeout: Duration::from_secs(60),
        lookback_delta_ms: 5 * 60 * 1000,
        max_concurrency: 4,
        delayed_name_removal: true,
        default_subquery_step_ms: 60_000,
    })
}

/// Runs every script with storage from `make_storage`; returns the reports.
fn run_all(make_storage: &dyn Fn() -> Box<dyn TestStorage>) -> Vec<FileReport> {
    let dir = testdata();
    let inventory = Inventory::parse(
        &std::fs::read_to_string(dir.join("inventory.tsv")).expect("inventory.tsv"),
    );
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("testdata/promql")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "test"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 21, "expected the 21 upstream scripts");
    let engine = engine();
    files
        .iter()
        .map(|path| {
            let name = path
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("")
                .to_owned();
            let known: HashMap<usize, &str> = KNOWN_UNSUPPORTED
                .iter()
                .filter(|(f, _, _)| *f == name)
                .map(|(_, l, r)| (*l, *r))
                .collect();
            let text = std::fs::read_to_string(path).expect("script");
            run_script(&name, &text, &inventory, &known, &engine, make_storage)
        })
        .collect()
}

#[allow(clippy::print_stdout)]
fn summarize(label: &str, reports: &[FileReport]) -> Vec<String> {
    println!("PromQL conformance on {label}: passed / failed / skipped per file");
    let (mut tp, mut tf, mut ts, mut exp_pass, mut exp_total) = (0, 0, 0, 0, 0);
    let (mut core_pass, mut core_total) = (0, 0);
    let mut failures = Vec::new();
    for r in reports {
        let (p, f, s) = r.counts();
        println!(
            "  {:<28} {p:>4} passed {f:>4} failed {s:>4} skipped",
            r.file
        );
        tp += p;
        tf += f;
        ts += s;
        for e in &r.evals {
            if e.core {
                core_total += 1;
                if e.outcome == Outcome::Pass {
                    core_pass += 1;
                }
            }
            if e.experimental && !matches!(e.outcome, Outcome::Skip(_)) {
                exp_total += 1;
                if e.outcome == Outcome::Pass {
                    exp_pass += 1;
                }
            }
            if let Outcome::Fail(why) = &e.outcome {
                failures.push(format!("{}:{} {} -- {why}", r.file, e.line, e.query));
            }
        }
    }
    println!(
        "  {:<28} {tp:>4} passed {tf:>4} failed {ts:>4} skipped",
        "TOTAL"
    );
    println!("  core evals (no native histograms, no experimental feature): {core_pass}/{core_total} passed");
    println!("  experimental-feature evals run: {exp_pass}/{exp_total} passed");
    let mut reasons: HashMap<String, usize> = HashMap::new();
    for r in reports {
        for e in &r.evals {
            if let Outcome::Skip(why) = &e.outcome {
                *reasons.entry(why.clone()).or_default() += 1;
            }
        }
    }
    let mut reasons: Vec<_> = reasons.into_iter().collect();
    reasons.sort();
    for (why, n) in reasons {
        println!("  skipped {n:>4}: {why}");
    }
    for f in &failures {
        println!("FAIL {f}");
    }
    failures
}

/// A real TSDB in a temporary directory, removed when dropped.
struct TempDb {
    db: Db,
    _dir: tempfile::TempDir,
}

impl TempDb {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let opts = Options {
            auto_compaction: false,
            fsync: FsyncPolicy::Segment,
            // Scripts load series in any order (several load blocks may add earlier samples).
            out_of_order_window_ms: i64::MAX / 4,
            ..Options::default()
        };
        let db = Db::open(dir.path(), opts, &prometheus::Registry::new()).expect("open tsdb");
        TempDb { db, _dir: dir }
    }
}

impl Appendable for TempDb {
    fn appender(&self) -> Box<dyn Appender + '_> {
        self.db.appender()
    }
}

impl Queryable for TempDb {
    fn querier(&self, mint: i64, maxt: i64) -> Result<Box<dyn Querier>, StorageError> {
        self.db.querier(mint, maxt)
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        let _ = self.db.close();
    }
}

#[test]
fn promql_conformance_tsdb() {
    let reports = run_all(&|| Box::new(TempDb::new()) as Box<dyn TestStorage>);
    let failures = summarize("argus_tsdb::Db", &reports);
    assert!(
        failures.is_empty(),
        "{} conformance failures",
        failures.len()
    );
}

#[test]
fn promql_conformance_memstore() {
    let reports = run_all(&|| Box::new(MemStorage::new()) as Box<dyn TestStorage>);
    let failures = summarize("MemStorage", &reports);
    assert!(
        failures.is_empty(),
        "{} conformance failures",
        failures.len()
    );
}
