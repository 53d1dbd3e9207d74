//! `--web.config.file` on the main listener: TLS with the configured certificate, basic
//! authentication on every endpoint (bcrypt hashes, as Prometheus), extra headers, and a
//! refused file stopping the start with a message naming the field.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod support;

use std::time::{Duration, Instant};

use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_and_basic_auth() {
    let dir = tempfile::tempdir().unwrap();
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
        .unwrap()
        .signed_by(&key, &issuer)
        .unwrap();
    std::fs::write(dir.path().join("server.crt"), cert.pem()).unwrap();
    std::fs::write(dir.path().join("server.key"), key.serialize_pem()).unwrap();
    let hash = bcrypt::hash("s3cret", 4).unwrap();
    let web = dir.path().join("web.yml");
    std::fs::write(
        &web,
        format!(
            "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n\
             http_server_config:\n  headers:\n    X-Frame-Options: deny\n\
             basic_auth_users:\n  alice: '{hash}'\n"
        ),
    )
    .unwrap();
    let config = dir.path().join("empty.yml");
    std::fs::write(&config, "scrape_configs: []\n").unwrap();

    let port = free_port();
    let log = dir.path().join("argus.log");
    let _p = spawn(
        &argus_bin(),
        &[
            format!("--storage.tsdb.path={}", dir.path().join("data").display()),
            format!("--web.listen-address=127.0.0.1:{port}"),
            format!("--web.config.file={}", web.display()),
            format!("--config.file={}", config.display()),
            "--adapter.listen-address=".to_owned(),
        ],
        &log,
    );
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(ca.pem().as_bytes()).unwrap())
        .build()
        .unwrap();
    let url = format!("https://localhost:{port}");
    let start = Instant::now();
    loop {
        let r = client
            .get(format!("{url}/-/ready"))
            .basic_auth("alice", Some("s3cret"))
            .send()
            .await;
        if r.is_ok_and(|r| r.status() == 200) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "not ready: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Right credentials: the API answers, with the configured header.
    let r = client
        .get(format!("{url}/api/v1/query?query=1%2B1"))
        .basic_auth("alice", Some("s3cret"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["x-frame-options"], "deny");
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["data"]["result"][1], "2");
    // No or wrong credentials: 401 with a challenge, on every endpoint.
    for (user, pw) in [
        (None, None),
        (Some("alice"), Some("nope")),
        (Some("bob"), Some("s3cret")),
    ] {
        let mut req = client.get(format!("{url}/-/healthy"));
        if let Some(u) = user {
            req = req.basic_auth(u, pw);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 401);
        assert_eq!(r.headers()["www-authenticate"], "Basic");
    }
    // Plain HTTP is not served.
    let plain = reqwest::get(format!("http://127.0.0.1:{port}/-/healthy")).await;
    assert!(plain.is_err() || plain.unwrap().status() != 200);
}

#[test]
fn a_bad_web_config_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let web = dir.path().join("web.yml");
    std::fs::write(&web, "tls_server_config:\n  cert_fil: x\n").unwrap();
    let out = std::process::Command::new(argus_bin())
        .args([
            &format!("--storage.tsdb.path={}", dir.path().join("data").display()),
            &format!("--web.listen-address=127.0.0.1:{}", free_port()),
            &format!("--web.config.file={}", web.display()),
            "--adapter.listen-address=",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cert_fil"), "{err}");
}
