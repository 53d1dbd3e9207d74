//! `argus tsdb analyze` and `argus tsdb dump` on a real data directory, through the binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::process::Command;

use argus_model::{Appendable, Labels};
use argus_tsdb::{Db, FsyncPolicy, Options};

fn data_dir() -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    let db = Db::open(
        d.path(),
        Options {
            auto_compaction: false,
            fsync: FsyncPolicy::Segment,
            ..Options::default()
        },
        &prometheus::Registry::new(),
    )
    .unwrap();
    for step in 0..300i64 {
        let mut app = db.appender();
        for job in ["a", "b"] {
            let l = Labels::from_pairs(&[("__name__", "up"), ("job", job)]);
            app.append(None, &l, step * 15_000, 1.0).unwrap();
        }
        app.commit().unwrap();
    }
    db.flush_head().unwrap();
    let mut app = db.appender();
    let l = Labels::from_pairs(&[("__name__", "up"), ("job", "a")]);
    app.append(None, &l, 300 * 15_000, 0.5).unwrap();
    app.commit().unwrap();
    db.close().unwrap();
    d
}

fn argus() -> Command {
    Command::new(env!("CARGO_BIN_EXE_argus"))
}

#[test]
fn analyze_reports_blocks_and_bytes_per_sample() {
    let d = data_dir();
    let out = argus()
        .args(["tsdb", "analyze"])
        .arg(d.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("Blocks: 1   samples: 600"), "{text}");
    assert!(text.contains("bytes/sample"), "{text}");
    assert!(text.contains("1 job=a") && text.contains("2 up"), "{text}");
}

#[test]
fn dump_prints_matching_samples_from_blocks_and_wal() {
    let d = data_dir();
    let out = argus()
        .args([
            "tsdb",
            "dump",
            "--match",
            r#"up{job="a"}"#,
            "--min-time",
            "4485000",
        ])
        .arg(d.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text,
        "{__name__=\"up\", job=\"a\"} 1 4485000\n{__name__=\"up\", job=\"a\"} 0.5 4500000\n"
    );
    let bad = argus()
        .args(["tsdb", "dump", "--match", "up{"])
        .arg(d.path())
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("invalid --match"));
    let missing = argus()
        .args(["tsdb", "analyze", "/nonexistent/argus"])
        .output()
        .unwrap();
    assert!(!missing.status.success());
}
