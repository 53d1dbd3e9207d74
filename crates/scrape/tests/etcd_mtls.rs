//! Scraping a real etcd (Debian's `etcd-server`) whose client port requires a client
//! certificate, as control-plane etcd does: `tls_config` `ca_file`, `cert_file` and
//! `key_file`, with certificates made here.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

mod common;

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use argus_model::memstore::MemStorage;
use argus_scrape::config::load_str;
use argus_scrape::ScrapeManager;
use common::*;

struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Certs {
    dir: tempfile::TempDir,
}

impl Certs {
    fn path(&self, name: &str) -> String {
        self.dir.path().join(name).display().to_string()
    }
}

/// A CA, a server certificate for 127.0.0.1 and a client certificate, as PEM files.
fn certs() -> Certs {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    };
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, pem: String| std::fs::write(dir.path().join(name), pem).unwrap();
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "etcd-ca");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    write("ca.crt", ca.pem());
    let issuer = Issuer::new(ca_params, ca_key);

    let server_key = KeyPair::generate().unwrap();
    let mut server =
        CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
    server.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    let server = server.signed_by(&server_key, &issuer).unwrap();
    write("server.crt", server.pem());
    write("server.key", server_key.serialize_pem());

    let client_key = KeyPair::generate().unwrap();
    let mut client = CertificateParams::new(Vec::<String>::new()).unwrap();
    client
        .distinguished_name
        .push(DnType::CommonName, "argus-etcd-client");
    client.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let client = client.signed_by(&client_key, &issuer).unwrap();
    write("client.crt", client.pem());
    write("client.key", client_key.serialize_pem());
    Certs { dir }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrapes_etcd_with_a_client_certificate() {
    let Some(bin) = peer("etcd") else {
        return;
    };
    let certs = certs();
    let (client_port, peer_port) = (free_port(), free_port());
    let client_url = format!("https://127.0.0.1:{client_port}");
    let peer_url = format!("http://127.0.0.1:{peer_port}");
    let _etcd = Kill(
        Command::new(bin)
            .args(["--name", "argus-test"])
            .arg(format!("--data-dir={}", certs.path("data")))
            .arg(format!("--listen-client-urls={client_url}"))
            .arg(format!("--advertise-client-urls={client_url}"))
            .arg(format!("--listen-peer-urls={peer_url}"))
            .arg(format!("--initial-advertise-peer-urls={peer_url}"))
            .arg(format!("--initial-cluster=argus-test={peer_url}"))
            .arg("--client-cert-auth")
            .arg(format!("--trusted-ca-file={}", certs.path("ca.crt")))
            .arg(format!("--cert-file={}", certs.path("server.crt")))
            .arg(format!("--key-file={}", certs.path("server.key")))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let store = MemStorage::new();
    let yaml = format!(
        "scrape_configs:\n  - job_name: etcd\n    scheme: https\n    scrape_interval: 300ms\n    scrape_timeout: 290ms\n    tls_config:\n      ca_file: {ca}\n      cert_file: {cert}\n      key_file: {key}\n    static_configs:\n      - targets: ['127.0.0.1:{client_port}']\n",
        ca = certs.path("ca.crt"),
        cert = certs.path("client.crt"),
        key = certs.path("client.key"),
    );
    let m = ScrapeManager::new(Arc::new(store.clone()), &prometheus::Registry::new());
    m.apply_config(&load_str(&yaml, "etcd.yml").unwrap())
        .await
        .unwrap();
    let r = m.clone();
    tokio::spawn(async move { r.run().await });

    let instance = format!("instance=\"127.0.0.1:{client_port}\"");
    let leader = format!("etcd_server_has_leader{{{instance}, job=\"etcd\"}}");
    // etcd elects itself leader within a second or so; until then it reports 0.
    let d = wait_for(Duration::from_secs(30), || {
        let d = dump(&store);
        d.get(&leader)
            .is_some_and(|s| s.iter().any(|x| x.1 == 1.0))
            .then_some(d)
    })
    .await
    .unwrap_or_else(|| panic!("etcd not scraped: {:?}", m.active_targets()));
    let up = format!("up{{{instance}, job=\"etcd\"}}");
    assert_eq!(d[&up].last().unwrap().1, 1.0);
    assert!(d.keys().any(|k| k.starts_with("etcd_server_is_leader{")));
    assert!(d
        .keys()
        .any(|k| k.starts_with("etcd_mvcc_db_total_size_in_bytes{")));
    m.shutdown();

    // Without the client certificate etcd refuses the scrape.
    let store = MemStorage::new();
    let no_cert = yaml
        .lines()
        .filter(|l| !l.contains("cert_file") && !l.contains("key_file"))
        .collect::<Vec<_>>()
        .join("\n");
    let m = ScrapeManager::new(Arc::new(store.clone()), &prometheus::Registry::new());
    m.apply_config(&load_str(&no_cert, "etcd.yml").unwrap())
        .await
        .unwrap();
    let r = m.clone();
    tokio::spawn(async move { r.run().await });
    let down = wait_for(Duration::from_secs(30), || {
        dump(&store)
            .get(&up)
            .and_then(|s| s.last().map(|x| x.1))
            .filter(|v| *v == 0.0)
    })
    .await;
    assert_eq!(down, Some(0.0), "{:?}", m.active_targets());
    assert!(!dump(&store).contains_key(&leader));
    m.shutdown();
}
