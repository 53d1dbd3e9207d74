//! The scrape manager against real HTTP servers in-process.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use argus_model::memstore::MemStorage;
use argus_scrape::config::load_str;
use argus_scrape::ScrapeManager;
use common::*;

const BODY: &str = "# HELP a_total A counter.\n# TYPE a_total counter\na_total{x=\"1\"} 7\n# TYPE g gauge\ng 1.5\n";
const WAIT: Duration = Duration::from_secs(5);

fn manager(store: &MemStorage) -> ScrapeManager {
    ScrapeManager::new(Arc::new(store.clone()), &prometheus::Registry::new())
}

async fn start(store: &MemStorage, yaml: &str) -> ScrapeManager {
    let m = manager(store);
    m.apply_config(&load_str(yaml, "test.yml").unwrap())
        .await
        .unwrap();
    let r = m.clone();
    tokio::spawn(async move { r.run().await });
    m
}

fn job(name: &str, addr: &str, extra: &str) -> String {
    format!("  - job_name: {name}\n    scrape_interval: 100ms\n    scrape_timeout: 90ms\n    static_configs:\n      - targets: ['{addr}']\n{extra}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrapes_targets_and_reports_health() {
    let srv = serve(Arc::new(|_r| Response::text(BODY))).await;
    let store = MemStorage::new();
    let addr = srv.addr.to_string();
    let m = start(
        &store,
        &format!("scrape_configs:\n{}", job("app", &addr, "")),
    )
    .await;
    let key = format!("a_total{{instance=\"{addr}\", job=\"app\", x=\"1\"}}");
    wait_for(WAIT, || {
        dump(&store).get(&key).filter(|s| s.len() >= 2).map(|_| ())
    })
    .await
    .expect("samples");
    let d = dump(&store);
    let up = &d[&format!("up{{instance=\"{addr}\", job=\"app\"}}")];
    assert!(up.iter().all(|(_, v)| *v == 1.0));
    assert_eq!(
        d[&format!("scrape_samples_scraped{{instance=\"{addr}\", job=\"app\"}}")][0].1,
        2.0
    );
    let t = m.active_targets();
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].health, "up");
    assert_eq!(t[0].last_error, "");
    assert_eq!(t[0].scrape_pool, "app");
    assert_eq!(t[0].scrape_url, format!("http://{addr}/metrics"));
    assert_eq!(t[0].scrape_interval, "100ms");
    assert_eq!(t[0].labels.get("job").map(String::as_str), Some("app"));
    assert_eq!(t[0].discovered_labels.get("__address__"), Some(&addr));
    assert!(t[0].last_scrape.ends_with('Z') && t[0].last_scrape_duration > 0.0);
    let req = srv.requests.lock()[0].clone();
    assert_eq!(
        req.header("Accept"),
        Some("application/openmetrics-text;version=1.0.0;escaping=underscores;q=0.6,application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=underscores;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2")
    );
    assert_eq!(
        req.header("X-Prometheus-Scrape-Timeout-Seconds"),
        Some("0.09")
    );
    assert!(req.header("User-Agent").unwrap().starts_with("Argus/"));
    let md = m.metadata();
    assert_eq!(md["a_total"][0].help, "A counter.");
    assert_eq!(m.targets_metadata().len(), 2);
    m.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failures_mark_targets_down_with_the_reason() {
    let bad = serve(Arc::new(|_r| Response::text("ok 1\nbroken{x=\"1\" 2\n"))).await;
    let slow = serve(Arc::new(|_r| Response {
        delay: Duration::from_millis(400),
        ..Response::text(BODY)
    }))
    .await;
    let big = serve(Arc::new(|_r| Response::text(&BODY.repeat(20)))).await;
    let err500 = serve(Arc::new(|_r| Response {
        status: 500,
        ..Response::text("x")
    }))
    .await;
    let no_ct = serve(Arc::new(|_r| Response {
        headers: vec![],
        ..Response::text(BODY)
    }))
    .await;
    let store = MemStorage::new();
    let yaml = format!(
        "scrape_configs:\n{}{}{}{}{}",
        job("bad", &bad.addr.to_string(), ""),
        job("slow", &slow.addr.to_string(), ""),
        job("big", &big.addr.to_string(), "    body_size_limit: 100B\n"),
        job("err", &err500.addr.to_string(), ""),
        job("noct", &no_ct.addr.to_string(), ""),
    );
    let m = start(&store, &yaml).await;
    let targets = wait_for(WAIT, || {
        let t = m.active_targets();
        (t.len() == 5 && t.iter().all(|t| t.health == "down")).then_some(t)
    })
    .await
    .expect("all targets down");
    let err = |pool: &str| {
        targets
            .iter()
            .find(|t| t.scrape_pool == pool)
            .unwrap()
            .last_error
            .clone()
    };
    assert!(
        err("bad").starts_with("Prometheus text parse error: line 2: "),
        "{}",
        err("bad")
    );
    assert!(
        err("slow").contains("context deadline exceeded"),
        "{}",
        err("slow")
    );
    assert!(
        err("big").starts_with("body size limit exceeded"),
        "{}",
        err("big")
    );
    assert_eq!(
        err("err"),
        "server returned HTTP status 500 Internal Server Error"
    );
    assert!(
        err("noct").contains("unsupported Content-Type"),
        "{}",
        err("noct")
    );
    let d = dump(&store);
    let up = &d[&format!("up{{instance=\"{}\", job=\"bad\"}}", bad.addr)];
    assert!(up.iter().all(|(_, v)| *v == 0.0));
    assert!(
        !d.keys().any(|k| k.starts_with("ok{")),
        "nothing of a broken body is stored"
    );
    m.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_bodies_and_auth_headers() {
    let srv = serve(Arc::new(|r| {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(BODY.as_bytes()).unwrap();
        let mut resp = Response::text("");
        if r.header("Accept-Encoding")
            .is_some_and(|e| e.contains("gzip"))
        {
            resp.body = enc.finish().unwrap();
            resp.headers
                .push(("Content-Encoding".into(), "gzip".into()));
        } else {
            resp.body = BODY.as_bytes().to_vec();
        }
        resp
    }))
    .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("token"), "s3cr3t\n").unwrap();
    let addr = srv.addr.to_string();
    let yaml = format!(
        "scrape_configs:\n{}{}",
        job("gz", &addr, "    bearer_token_file: token\n    params:\n      module: [m1]\n"),
        job("basic", &format!("localhost:{}", srv.addr.port()), "    enable_compression: false\n    basic_auth:\n      username: u\n      password: p\n"),
    );
    let cfg =
        argus_scrape::config::load_str(&yaml, &dir.path().join("p.yml").display().to_string())
            .unwrap();
    let store = MemStorage::new();
    let m = manager(&store);
    m.apply_config(&cfg).await.unwrap();
    let r = m.clone();
    tokio::spawn(async move { r.run().await });
    wait_for(WAIT, || {
        let t = m.active_targets();
        (t.len() == 2 && t.iter().all(|t| t.health == "up")).then_some(())
    })
    .await
    .expect("both up");
    let reqs = srv.requests.lock().clone();
    let gz = reqs
        .iter()
        .find(|r| r.path.starts_with("/metrics?module=m1"))
        .unwrap();
    assert_eq!(gz.header("Authorization"), Some("Bearer s3cr3t"));
    assert!(gz.header("Accept-Encoding").unwrap().contains("gzip"));
    let basic = reqs.iter().find(|r| r.path == "/metrics").unwrap();
    assert_eq!(basic.header("Authorization"), Some("Basic dTpw"));
    assert_eq!(basic.header("Accept-Encoding"), Some("identity"));
    let key = format!("g{{instance=\"{addr}\", job=\"gz\"}}");
    assert!(dump(&store).contains_key(&key));
    m.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reload_keeps_unchanged_series_and_stales_removed_targets() {
    let a = serve(Arc::new(|_r| Response::text(BODY))).await;
    let b = serve(Arc::new(|_r| Response::text("only_b 1\n"))).await;
    let store = MemStorage::new();
    let (aa, ba) = (a.addr.to_string(), b.addr.to_string());
    let m = start(
        &store,
        &format!(
            "scrape_configs:\n{}{}",
            job("a", &aa, ""),
            job("b", &ba, "")
        ),
    )
    .await;
    let key_a = format!("g{{instance=\"{aa}\", job=\"a\"}}");
    let key_b = format!("only_b{{instance=\"{ba}\", job=\"b\"}}");
    wait_for(WAIT, || {
        let d = dump(&store);
        (d.get(&key_a).is_some_and(|s| s.len() >= 2) && d.contains_key(&key_b)).then_some(())
    })
    .await
    .expect("both scraped");
    // Change job a (a new limit), remove job b.
    let cfg2 = format!(
        "scrape_configs:\n{}",
        job("a", &aa, "    sample_limit: 1000\n")
    );
    m.apply_config(&load_str(&cfg2, "test.yml").unwrap())
        .await
        .unwrap();
    let stale_b = wait_for(WAIT, || {
        let d = dump(&store);
        (stale_count(&d[&key_b]) == 1).then_some(d)
    })
    .await
    .expect("b's series went stale");
    assert_eq!(
        stale_count(&stale_b[&format!("up{{instance=\"{ba}\", job=\"b\"}}")]),
        1
    );
    let before = dump(&store)[&key_a].len();
    wait_for(WAIT, || {
        (dump(&store)[&key_a].len() >= before + 3).then_some(())
    })
    .await
    .expect("a keeps scraping");
    assert_eq!(
        stale_count(&dump(&store)[&key_a]),
        0,
        "reload must not stale a's series"
    );
    assert_eq!(m.active_targets().len(), 1);
    m.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn file_sd_is_reread_on_change_and_relabeling_drops() {
    let a = serve(Arc::new(|_r| Response::text(BODY))).await;
    let b = serve(Arc::new(|_r| Response::text(BODY))).await;
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("targets.json");
    std::fs::write(
        &f,
        format!(
            "[{{\"targets\": [\"{}\"], \"labels\": {{\"env\": \"prod\"}}}}]",
            a.addr
        ),
    )
    .unwrap();
    let yaml = format!(
        "scrape_configs:\n  - job_name: fsd\n    scrape_interval: 100ms\n    scrape_timeout: 90ms\n    file_sd_configs:\n      - files: ['{}']\n    relabel_configs:\n      - source_labels: [env]\n        regex: drop\n        action: drop\n",
        dir.path().join("*.json").display()
    );
    let store = MemStorage::new();
    let m = start(&store, &yaml).await;
    wait_for(WAIT, || {
        (m.active_targets().first()?.health == "up").then_some(())
    })
    .await
    .expect("first target");
    let t = &m.active_targets()[0];
    assert_eq!(t.labels.get("env").map(String::as_str), Some("prod"));
    assert!(t.discovered_labels.contains_key("__meta_filepath"));
    assert!(!t.labels.contains_key("__meta_filepath"));
    // Rewrite: add a second target and a dropped one.
    std::fs::write(
        &f,
        format!("[{{\"targets\": [\"{}\", \"{}\"]}}, {{\"targets\": [\"x:1\"], \"labels\": {{\"env\": \"drop\"}}}}]", a.addr, b.addr),
    )
    .unwrap();
    wait_for(WAIT, || (m.active_targets().len() == 2).then_some(()))
        .await
        .expect("second target discovered");
    let dropped = m.dropped_targets();
    assert_eq!(dropped.len(), 1);
    assert_eq!(dropped[0].discovered_labels["__address__"], "x:1");
    m.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn target_limit_fails_all_targets_of_the_pool() {
    let a = serve(Arc::new(|_r| Response::text(BODY))).await;
    let yaml = format!(
        "scrape_configs:\n  - job_name: lim\n    scrape_interval: 100ms\n    scrape_timeout: 90ms\n    target_limit: 1\n    static_configs:\n      - targets: ['{}', 'localhost:{}']\n",
        a.addr,
        a.addr.port()
    );
    let store = MemStorage::new();
    let m = start(&store, &yaml).await;
    let t = wait_for(WAIT, || {
        let t = m.active_targets();
        (t.len() == 2 && t.iter().all(|t| t.health == "down")).then_some(t)
    })
    .await
    .expect("both down");
    assert_eq!(
        t[0].last_error,
        "target_limit exceeded (number of targets: 2, limit: 1)"
    );
    assert!(
        a.requests.lock().is_empty(),
        "targets over the limit are not scraped"
    );
    m.shutdown();
}
