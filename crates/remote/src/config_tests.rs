use super::*;

#[test]
fn defaults_are_prometheus_defaults() {
    let c = parse_str("- url: http://localhost:8428/api/v1/write\n").unwrap();
    assert_eq!(c.len(), 1);
    let c = &c[0];
    assert_eq!(c.remote_timeout, PromDuration(30_000));
    let q = &c.queue_config;
    assert_eq!(q.capacity, 10_000);
    assert_eq!(q.max_shards, 50);
    assert_eq!(q.min_shards, 1);
    assert_eq!(q.max_samples_per_send, 2_000);
    assert_eq!(q.batch_send_deadline, PromDuration(5_000));
    assert_eq!(q.min_backoff, PromDuration(30));
    assert_eq!(q.max_backoff, PromDuration(5_000));
    assert!(!q.retry_on_http_429);
    assert_eq!(q.sample_age_limit, PromDuration(0));
    let m = &c.metadata_config;
    assert!(m.send);
    assert_eq!(m.send_interval, PromDuration(60_000));
    assert_eq!(m.max_samples_per_send, 2_000);
    assert_eq!(c.protobuf_message, "prometheus.WriteRequest");
    assert!(c.follow_redirects);
    assert_eq!(
        *c,
        RemoteWriteConfig::new("http://localhost:8428/api/v1/write")
    );
    assert_eq!(c.remote_name().len(), 6);
    assert!(parse(None).unwrap().is_empty());
    assert!(parse(Some(&serde_yaml_ng::Value::Null)).unwrap().is_empty());
}

#[test]
fn every_documented_field_parses() {
    let text = r#"
- url: https://vm.example:8428/api/v1/write
  name: vm
  remote_timeout: 10s
  headers:
    X-Scope-OrgID: tenant-1
  write_relabel_configs:
    - source_labels: [__name__]
      regex: go_.*
      action: drop
  send_exemplars: true
  send_native_histograms: true
  protobuf_message: prometheus.WriteRequest
  round_robin_dns: true
  authorization:
    credentials: s3cret
  tls_config:
    insecure_skip_verify: true
  follow_redirects: false
  enable_http2: false
  queue_config:
    capacity: 2500
    min_shards: 2
    max_shards: 10
    max_samples_per_send: 500
    batch_send_deadline: 1s
    min_backoff: 10ms
    max_backoff: 1s
    retry_on_http_429: true
    sample_age_limit: 1h
  metadata_config:
    send: false
    send_interval: 30s
    max_samples_per_send: 100
- url: http://other:9090/api/v1/write
  basic_auth:
    username: u
    password_file: /etc/pw
  bearer_token_file: ""
"#;
    let err = parse_str(text).unwrap_err();
    assert_eq!(err.path, "remote_write[1]");
    assert!(err.message.contains("at most one of basic_auth"), "{err}");
    let text = text.replace("  bearer_token_file: \"\"\n", "");
    let c = parse_str(&text).unwrap();
    let a = &c[0];
    assert_eq!(a.name, "vm");
    assert_eq!(a.remote_name(), "vm");
    assert_eq!(a.remote_timeout, PromDuration(10_000));
    assert_eq!(a.headers["X-Scope-OrgID"], "tenant-1");
    assert_eq!(a.write_relabel_configs.len(), 1);
    assert!(a.send_exemplars && a.send_native_histograms && !a.follow_redirects);
    assert_eq!(a.queue_config.capacity, 2500);
    assert_eq!(a.queue_config.min_shards, 2);
    assert_eq!(a.queue_config.max_shards, 10);
    assert_eq!(a.queue_config.max_samples_per_send, 500);
    assert_eq!(a.queue_config.batch_send_deadline, PromDuration(1_000));
    assert_eq!(a.queue_config.min_backoff, PromDuration(10));
    assert_eq!(a.queue_config.max_backoff, PromDuration(1_000));
    assert!(a.queue_config.retry_on_http_429);
    assert_eq!(a.queue_config.sample_age_limit, PromDuration(3_600_000));
    assert!(!a.metadata_config.send);
    let auth = a.http_client().authorization.unwrap();
    assert_eq!(auth.kind, "Bearer");
    assert_eq!(auth.credentials.unwrap().0, "s3cret");
    let b = &c[1];
    assert_eq!(b.basic_auth.as_ref().unwrap().username, "u");
    // Partial queue_config keeps the other defaults.
    let c = parse_str("- url: http://x/w\n  queue_config:\n    max_shards: 3\n").unwrap();
    assert_eq!(c[0].queue_config.max_shards, 3);
    assert_eq!(c[0].queue_config.capacity, 10_000);
}

#[test]
fn bearer_token_folds_into_authorization() {
    let c = parse_str("- url: http://x/w\n  bearer_token: abc\n").unwrap();
    let a = c[0].http_client().authorization.unwrap();
    assert_eq!(
        (a.kind.as_str(), a.credentials.unwrap().0.as_str()),
        ("Bearer", "abc")
    );
}

#[test]
fn invalid_entries_are_errors_naming_the_entry() {
    let cases = [
        ("- url: http://x/w\n  bogus: 1\n", "unknown field `bogus`"),
        (
            "- url: http://x/w\n  queue_config:\n    bogus: 1\n",
            "unknown field `bogus`",
        ),
        (
            "- url: http://x/w\n  metadata_config:\n    bogus: 1\n",
            "unknown field `bogus`",
        ),
        ("- name: a\n", "missing field `url`"),
        ("- url: ''\n", "url for remote_write is empty"),
        ("- url: ftp://x/w\n", "invalid remote write url"),
        ("- url: not a url\n", "invalid remote write url"),
        (
            "- url: http://x/w\n  headers:\n    Content-Type: text/plain\n",
            "reserved header",
        ),
        (
            "- url: http://x/w\n  headers:\n    X-Prometheus-Remote-Write-Version: '2'\n",
            "reserved header",
        ),
        (
            "- url: http://x/w\n  oauth2:\n    client_id: a\n",
            "oauth2 is not supported",
        ),
        ("- url: http://x/w\n  sigv4: {}\n", "sigv4 is not supported"),
        (
            "- url: http://x/w\n  protobuf_message: io.prometheus.write.v2.Request\n",
            "not supported",
        ),
        (
            "- url: http://x/w\n  queue_config:\n    min_shards: 5\n    max_shards: 2\n",
            "max_shards",
        ),
        (
            "- url: http://x/w\n  queue_config:\n    max_samples_per_send: 0\n",
            "max_samples_per_send",
        ),
        (
            "- url: http://x/w\n  queue_config:\n    batch_send_deadline: 5\n",
            "duration",
        ),
        (
            "- url: http://x/w\n  remote_timeout: 0s\n",
            "remote_timeout",
        ),
        (
            "- url: http://x/w\n  authorization:\n    type: Basic\n",
            "basic_auth",
        ),
        (
            "- url: http://x/w\n  write_relabel_configs:\n    - action: bogus\n",
            "unknown relabel action",
        ),
        (
            "- url: http://x/w\n  name: a\n- url: http://y/w\n  name: a\n",
            "multiple remote write configs",
        ),
        (
            "- url: http://x/w\n- url: http://x/w\n",
            "duplicate remote write configs",
        ),
        ("url: http://x/w\n", "must be a list"),
    ];
    for (text, want) in cases {
        let err = parse_str(text).unwrap_err().to_string();
        assert!(err.contains(want), "{text:?}: {err:?} lacks {want:?}");
        assert!(err.starts_with("remote_write"), "{err}");
    }
    // The same URL twice is fine with distinct names.
    assert_eq!(
        parse_str("- url: http://x/w\n  name: a\n- url: http://x/w\n  name: b\n")
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn hashes_separate_identity_from_tuning() {
    let a = RemoteWriteConfig::new("http://x/w");
    let mut b = a.clone();
    b.queue_config.max_shards = 7;
    assert_eq!(a.destination_key(), b.destination_key());
    let ext = BTreeMap::new();
    assert_ne!(a.config_hash(&ext), b.config_hash(&ext));
    let mut c = a.clone();
    c.name = "n".into();
    assert_ne!(a.destination_key(), c.destination_key());
    // Secrets serialize as <secret> but still change the hash.
    let mut d = a.clone();
    d.bearer_token = Some(Secret("one".into()));
    let mut e = a.clone();
    e.bearer_token = Some(Secret("two".into()));
    assert_ne!(d.config_hash(&ext), e.config_hash(&ext));
    let ext2: BTreeMap<String, String> = [("dc".to_owned(), "eu".to_owned())].into();
    assert_ne!(a.config_hash(&ext), a.config_hash(&ext2));
    assert_eq!(a.config_hash(&ext2), a.clone().config_hash(&ext2));
}
