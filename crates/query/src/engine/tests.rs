//! Engine unit tests over `MemStorage`.

use argus_model::memstore::MemStorage;
use argus_model::Labels;

use super::*;

fn store() -> MemStorage {
    let s = MemStorage::new();
    for (job, inst, step) in [("api", "0", 10.0), ("api", "1", 20.0), ("db", "0", 30.0)] {
        let l = Labels::from_pairs(&[
            ("__name__", "http_requests_total"),
            ("job", job),
            ("instance", inst),
        ]);
        let samples: Vec<(i64, f64)> = (0..=10).map(|i| (i * 60_000, i as f64 * step)).collect();
        s.add(&l, &samples).unwrap();
    }
    s
}

fn instant(q: &str, t: i64) -> Value {
    Engine::new(EngineOptions::default())
        .instant_query(&store(), q, t, &QueryOptions::default())
        .unwrap_or_else(|e| panic!("{q}: {e}"))
        .value
}

#[test]
fn selector_and_aggregation() {
    let Value::Vector(v) = instant("http_requests_total", 600_000) else {
        panic!()
    };
    assert_eq!(v.len(), 3);
    let Value::Vector(v) = instant("sum by (job) (http_requests_total)", 600_000) else {
        panic!()
    };
    let mut got: Vec<(String, f64)> = v
        .iter()
        .map(|s| (s.labels.get_or_empty("job").to_owned(), s.v))
        .collect();
    got.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(got, vec![("api".into(), 300.0), ("db".into(), 300.0)]);
}

#[test]
fn rate_and_scalar() {
    let Value::Vector(v) = instant("rate(http_requests_total{job=\"db\"}[5m])", 600_000) else {
        panic!()
    };
    assert_eq!(v.len(), 1);
    assert!((v[0].v - 0.5).abs() < 1e-9, "{}", v[0].v);
    assert!(!v[0].labels.has("__name__"));
    assert_eq!(instant("1 + 2 * 3", 0), Value::Scalar(0, 7.0));
}

#[test]
fn range_query_steps() {
    let r = Engine::default()
        .range_query(
            &store(),
            "sum(http_requests_total)",
            0,
            600_000,
            300_000,
            &QueryOptions::default(),
        )
        .unwrap();
    let Value::Matrix(m) = r.value else { panic!() };
    assert_eq!(m.len(), 1);
    let vals: Vec<f64> = m[0].samples.iter().map(|s| s.v).collect();
    assert_eq!(vals, vec![0.0, 300.0, 600.0]);
}

#[test]
fn limits() {
    let e = Engine::new(EngineOptions {
        max_samples: 2,
        ..EngineOptions::default()
    });
    let err = e
        .instant_query(
            &store(),
            "http_requests_total",
            600_000,
            &QueryOptions::default(),
        )
        .unwrap_err();
    assert!(matches!(err, QueryError::TooManySamples(_)), "{err}");
    let cancel = Arc::new(AtomicBool::new(true));
    let err = Engine::default()
        .instant_query(
            &store(),
            "http_requests_total",
            0,
            &QueryOptions {
                cancel: Some(cancel),
                ..QueryOptions::default()
            },
        )
        .unwrap_err();
    assert!(matches!(err, QueryError::Canceled(_)), "{err}");
}

#[test]
fn pinned_subquery_is_time_invariant() {
    let s = MemStorage::new();
    let l = Labels::from_pairs(&[("__name__", "metric_total")]);
    let samples = [(0, 1.0), (14_000, 2.0), (20_000, 3.0), (60_000, 8.0)];
    s.add(&l, &samples).unwrap();
    let e = Engine::default();
    let q = "min_over_time(rate(metric_total[5m] @ 1200)[20m:1m] @ 1200)";
    let a = e
        .instant_query(&s, q, 1_200_000, &QueryOptions::default())
        .unwrap();
    let b = e
        .instant_query(&s, q, -12_000_000, &QueryOptions::default())
        .unwrap();
    let (Value::Vector(a), Value::Vector(b)) = (a.value, b.value) else {
        panic!()
    };
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.v, y.v, "{q}");
    }
}
