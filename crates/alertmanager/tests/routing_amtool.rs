//! Routing decisions equal `amtool config routes test` (the real Alertmanager code) for
//! the same config and labels, over a few hundred generated label sets on two configs:
//! upstream's broad `config/conf.good.yml` and our tree exercising every matcher form.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::print_stderr,
    clippy::print_stdout
)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use argus_alertmanager::route::RouteTree;
use argus_alertmanager::Config;
use argus_model::Labels;

const NAMES: [&str; 9] = [
    "alertname",
    "severity",
    "team",
    "service",
    "env",
    "owner",
    "owner2",
    "region",
    "test",
];

fn values(name: &str) -> &'static [&'static str] {
    match name {
        "alertname" => &["HighLatency", "HighErrors", "Down", "DiskFull"],
        "severity" => &["critical", "warning", "info"],
        "team" => &["db", "storage", "web", "webops", "api"],
        "service" => &[
            "api-gw", "auth-x", "files", "database", "foo1", "baz", "foo2x", "database",
        ],
        "env" => &["prod", "staging", "dev"],
        "owner" => &["alice", "bob", "team-Y"],
        "owner2" => &["team-X", "team-Z"],
        "region" => &["eu", "us"],
        "test" => &["1", "2", "3"],
        _ => &["x"],
    }
}

/// Deterministic label sets: each label present with probability ~1/2.
fn label_sets(n: usize) -> Vec<Vec<(String, String)>> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut out = Vec::new();
    while out.len() < n {
        let mut set = Vec::new();
        for name in NAMES {
            if next() % 2 == 0 {
                let vs = values(name);
                set.push((
                    name.to_owned(),
                    vs[(next() % vs.len() as u64) as usize].to_owned(),
                ));
            }
        }
        if !set.is_empty() {
            out.push(set);
        }
    }
    out
}

fn amtool_routes(amtool: &Path, cfg: &Path, set: &[(String, String)]) -> String {
    let out = Command::new(amtool)
        .arg("config")
        .arg("routes")
        .arg("test")
        .arg(format!("--config.file={}", cfg.display()))
        .args(set.iter().map(|(k, v)| format!("{k}={v}")))
        .output()
        .expect("running amtool");
    assert!(
        out.status.success(),
        "amtool failed for {set:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn compare(cfg: &Path, n: usize, min_distinct: usize) {
    let Some(amtool) = common::peer("amtool", "prometheus-alertmanager") else {
        return;
    };
    let c = Config::load(cfg).unwrap();
    let tree = RouteTree::new(c.route.as_ref().unwrap()).unwrap();
    let sets = label_sets(n);
    // amtool is a separate process per label set; run a few at a time.
    let chunks: Vec<Vec<Vec<(String, String)>>> =
        sets.chunks(n.div_ceil(4)).map(<[_]>::to_vec).collect();
    let results: Vec<(Vec<(String, String)>, String)> = std::thread::scope(|s| {
        let hs: Vec<_> = chunks
            .iter()
            .map(|chunk| {
                let amtool = amtool.clone();
                s.spawn(move || {
                    chunk
                        .iter()
                        .map(|set| (set.clone(), amtool_routes(&amtool, cfg, set)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let mut distinct = std::collections::BTreeSet::new();
    for (set, want) in &results {
        let got = tree.receivers_for(&Labels::from_pairs(set)).join(",");
        assert_eq!(&got, want, "labels {set:?}");
        distinct.insert(want.clone());
    }
    assert_eq!(results.len(), n);
    // The generated sets must actually exercise the tree, not all fall to the root.
    assert!(
        distinct.len() >= min_distinct,
        "only {} distinct routings: {distinct:?}",
        distinct.len()
    );
}

fn testdata(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(rel)
}

#[test]
fn routing_equals_amtool_on_upstream_config() {
    compare(&testdata("upstream/config/conf.good.yml"), 120, 5);
}

#[test]
fn routing_equals_amtool_on_matcher_tree() {
    compare(&testdata("routing/tree.yml"), 300, 12);
}

#[test]
fn routing_equals_amtool_on_upstream_amtool_fixtures() {
    let Some(amtool) = common::peer("amtool", "prometheus-alertmanager") else {
        return;
    };
    for (f, labels, want) in [
        ("upstream/amtool/conf.routing.yml", "test=1", "test1"),
        ("upstream/amtool/conf.routing.yml", "test=2", "test1,test2"),
        (
            "upstream/amtool/conf.routing-reverted.yml",
            "test=2",
            "test2,test1",
        ),
        (
            "upstream/amtool/conf.routing.yml",
            "test=volovina",
            "default",
        ),
    ] {
        let cfg = testdata(f);
        let (k, v) = labels.split_once('=').unwrap();
        let set = vec![(k.to_owned(), v.to_owned())];
        assert_eq!(amtool_routes(&amtool, &cfg, &set), want);
        let c = Config::load(&cfg).unwrap();
        let tree = RouteTree::new(c.route.as_ref().unwrap()).unwrap();
        assert_eq!(
            tree.receivers_for(&Labels::from_pairs(&set)).join(","),
            want,
            "{f} {labels}"
        );
    }
}
