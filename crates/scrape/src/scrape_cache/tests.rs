//! The append step against Prometheus' scrape semantics, with `MemStorage`.

use std::collections::BTreeMap;

use argus_model::memstore::MemStorage;
use argus_model::storage::collect_series;
use argus_model::{is_stale_nan, MatchOp, Matcher, Queryable};

use super::*;
use crate::config::load_str;
use crate::scrape_loop::append_for_test;
use crate::target::{new_target, populate_labels, Populated, Target};

type Dump = BTreeMap<String, Vec<(i64, f64)>>;

fn dump(s: &MemStorage) -> Dump {
    let q = s.querier(i64::MIN, i64::MAX).unwrap();
    let m = Matcher::new(MatchOp::Regex, "__name__", ".+").unwrap();
    let mut set = q.select(true, None, &[m]);
    collect_series(&mut *set)
        .unwrap()
        .into_iter()
        .map(|(l, ss)| {
            (
                l.to_metric_string(),
                ss.iter().map(|x| (x.t, x.v)).collect(),
            )
        })
        .collect()
}

struct Fixture {
    store: MemStorage,
    cache: ScrapeCache,
    settings: ScrapeSettings,
    target: Target,
}

fn fixture(job_yaml: &str) -> Fixture {
    let text = format!(
        "scrape_configs:\n  - job_name: j\n    static_configs: [{{targets: ['h:1']}}]\n{job_yaml}"
    );
    let cfg = load_str(&text, "t.yml").unwrap().scrape_configs.remove(0);
    let group = [("__address__".to_owned(), "h:1".to_owned())]
        .into_iter()
        .collect();
    let Populated::Target(l, d) = populate_labels(&cfg, &group, &Default::default()).unwrap()
    else {
        panic!("dropped")
    };
    let target = new_target(&cfg, l, d).unwrap();
    Fixture {
        store: MemStorage::new(),
        cache: ScrapeCache::new(),
        settings: ScrapeSettings {
            cfg: Arc::new(cfg),
            target_labels: target.public_labels(),
        },
        target,
    }
}

impl Fixture {
    fn scrape(&mut self, body: &str, ts: i64) -> (String, AppendStats) {
        self.scrape_fmt(Ok((Format::PrometheusText, body.as_bytes().to_vec())), ts)
    }
    fn scrape_fmt(
        &mut self,
        body: Result<(Format, Vec<u8>), String>,
        ts: i64,
    ) -> (String, AppendStats) {
        append_for_test(
            &self.store,
            &mut self.cache,
            body,
            ts,
            &self.settings,
            &self.target,
        )
    }
}

fn values(d: &Dump, series: &str) -> Vec<(i64, String)> {
    d.get(series)
        .unwrap_or_else(|| panic!("no {series} in {:?}", d.keys().collect::<Vec<_>>()))
        .iter()
        .map(|&(t, v)| {
            (
                t,
                if is_stale_nan(v) {
                    "stale".into()
                } else {
                    v.to_string()
                },
            )
        })
        .collect()
}

#[test]
fn samples_get_target_labels_and_report_series() {
    let mut f = fixture("");
    let (err, stats) = f.scrape("# TYPE a counter\na{x=\"1\"} 1\nb 2\n", 1000);
    assert_eq!(err, "");
    assert_eq!(
        stats,
        AppendStats {
            scraped: 2,
            post_relabel: 2,
            added: 2,
            ..Default::default()
        }
    );
    let d = dump(&f.store);
    assert_eq!(
        values(&d, "a{instance=\"h:1\", job=\"j\", x=\"1\"}"),
        [(1000, "1".into())]
    );
    assert_eq!(
        values(&d, "up{instance=\"h:1\", job=\"j\"}"),
        [(1000, "1".into())]
    );
    assert_eq!(
        values(&d, "scrape_samples_scraped{instance=\"h:1\", job=\"j\"}"),
        [(1000, "2".into())]
    );
    assert_eq!(
        values(
            &d,
            "scrape_samples_post_metric_relabeling{instance=\"h:1\", job=\"j\"}"
        ),
        [(1000, "2".into())]
    );
    assert_eq!(
        values(&d, "scrape_series_added{instance=\"h:1\", job=\"j\"}"),
        [(1000, "2".into())]
    );
    assert!(d.contains_key("scrape_duration_seconds{instance=\"h:1\", job=\"j\"}"));
    // Second scrape: nothing new.
    let (_, stats) = f.scrape("# TYPE a counter\na{x=\"1\"} 3\nb 4\n", 2000);
    assert_eq!(stats.added, 0);
    assert_eq!(
        f.cache.metadata.get("a").unwrap().metric_type,
        argus_model::MetricType::Counter
    );
}

#[test]
fn disappearing_series_get_stale_markers() {
    let mut f = fixture("");
    f.scrape("a 1\nb 1\n", 1000);
    f.scrape("a 2\n", 2000);
    f.scrape("a 3\nb 3\n", 3000);
    let d = dump(&f.store);
    assert_eq!(
        values(&d, "b{instance=\"h:1\", job=\"j\"}"),
        [
            (1000, "1".into()),
            (2000, "stale".into()),
            (3000, "3".into())
        ]
    );
    // Samples with their own timestamps are not made stale (honor_timestamps).
    f.scrape("c 1 2500\na 4\nb 4\n", 4000);
    f.scrape("a 5\nb 5\n", 5000);
    let d = dump(&f.store);
    assert_eq!(
        values(&d, "c{instance=\"h:1\", job=\"j\"}"),
        [(2500, "1".into())]
    );
}

#[test]
fn failed_scrapes_report_down_and_stale_everything() {
    let mut f = fixture("");
    f.scrape("a 1\n", 1000);
    let (err, _) = f.scrape("a 2\nb{x=\"1} 3\n", 2000);
    assert!(
        err.starts_with("Prometheus text parse error: line 2:"),
        "{err}"
    );
    let (err, _) = f.scrape_fmt(Err("connection refused".into()), 3000);
    assert_eq!(err, "connection refused");
    let d = dump(&f.store);
    // Nothing of the broken body was stored; `a` went stale once.
    assert_eq!(
        values(&d, "a{instance=\"h:1\", job=\"j\"}"),
        [(1000, "1".into()), (2000, "stale".into())]
    );
    assert_eq!(
        values(&d, "up{instance=\"h:1\", job=\"j\"}"),
        [(1000, "1".into()), (2000, "0".into()), (3000, "0".into())]
    );
}

#[test]
fn conflicting_labels_become_exported() {
    let mut f = fixture("");
    f.scrape(
        "a{job=\"other\",instance=\"x\",exported_job=\"y\"} 1\n",
        1000,
    );
    let d = dump(&f.store);
    assert!(
        d.contains_key("a{exported_exported_job=\"other\", exported_instance=\"x\", exported_job=\"y\", instance=\"h:1\", job=\"j\"}"),
        "{:?}",
        d.keys().collect::<Vec<_>>()
    );
    let mut f = fixture("    honor_labels: true\n");
    f.scrape("a{job=\"other\"} 1\n", 1000);
    let d = dump(&f.store);
    assert!(
        d.contains_key("a{instance=\"h:1\", job=\"other\"}"),
        "{:?}",
        d.keys().collect::<Vec<_>>()
    );
}

#[test]
fn honor_timestamps_false_uses_scrape_time() {
    let mut f = fixture("    honor_timestamps: false\n");
    f.scrape("a 1 5\n", 1000);
    assert_eq!(
        values(&dump(&f.store), "a{instance=\"h:1\", job=\"j\"}"),
        [(1000, "1".into())]
    );
}

#[test]
fn metric_relabeling_drops_and_rewrites() {
    let mut f = fixture("    metric_relabel_configs:\n      - source_labels: [__name__]\n        regex: 'go_.*'\n        action: drop\n      - source_labels: [x]\n        target_label: y\n");
    let (_, stats) = f.scrape("go_goroutines 5\na{x=\"1\"} 1\n", 1000);
    assert_eq!((stats.scraped, stats.post_relabel), (2, 1));
    let d = dump(&f.store);
    assert!(d.contains_key("a{instance=\"h:1\", job=\"j\", x=\"1\", y=\"1\"}"));
    assert!(!d.keys().any(|k| k.starts_with("go_")));
    assert_eq!(
        values(
            &d,
            "scrape_samples_post_metric_relabeling{instance=\"h:1\", job=\"j\"}"
        ),
        [(1000, "1".into())]
    );
}

#[test]
fn sample_limit_fails_the_scrape() {
    let mut f = fixture("    sample_limit: 2\n");
    assert_eq!(f.scrape("a 1\nb 1\n", 1000).0, "");
    let (err, stats) = f.scrape("a 1\nb 1\nc 1\n", 2000);
    assert_eq!(err, "sample limit exceeded (limit: 2)");
    assert_eq!(stats.scraped, 3);
    let d = dump(&f.store);
    assert!(!d.contains_key("c{instance=\"h:1\", job=\"j\"}"));
    assert_eq!(
        values(&d, "a{instance=\"h:1\", job=\"j\"}"),
        [(1000, "1".into()), (2000, "stale".into())]
    );
}

#[test]
fn label_limits_fail_the_scrape() {
    let mut f = fixture("    label_limit: 3\n");
    let (err, _) = f.scrape("a{x=\"1\",y=\"2\"} 1\n", 1000);
    assert!(err.starts_with("label_limit exceeded"), "{err}");
    let mut f = fixture("    label_value_length_limit: 3\n");
    let (err, _) = f.scrape("a{x=\"long\"} 1\n", 1000);
    assert!(
        err.starts_with("label_value_length_limit exceeded"),
        "{err}"
    );
}

#[test]
fn out_of_order_samples_are_counted_not_fatal() {
    let mut f = fixture("");
    f.scrape("a 1 5000\n", 1000);
    let (err, stats) = f.scrape("a 2 4000\nb 1\n", 2000);
    assert_eq!(err, "");
    assert_eq!(stats.out_of_order, 1);
    assert!(dump(&f.store).contains_key("b{instance=\"h:1\", job=\"j\"}"));
}

#[test]
fn openmetrics_and_protobuf_bodies() {
    let mut f = fixture("");
    let (err, stats) = f.scrape_fmt(
        Ok((
            Format::OpenMetrics,
            b"# TYPE a counter\na_total 1 1.5\n# EOF\n".to_vec(),
        )),
        2000,
    );
    assert_eq!((err.as_str(), stats.scraped), ("", 1));
    assert_eq!(
        values(&dump(&f.store), "a_total{instance=\"h:1\", job=\"j\"}"),
        [(1500, "1".into())]
    );
    let (err, _) = f.scrape_fmt(Ok((Format::OpenMetrics, b"a 1\n".to_vec())), 3000);
    assert!(err.contains("line 1: missing \"# EOF\""), "{err}");
    assert!(f.cache.len() <= 2);
}
