//! Email delivery to a real SMTP server (Python aiosmtpd, started by the test): envelope,
//! recipients, AUTH, the default subject and HTML body, custom headers and text, and
//! `require_tls` refusing a server without STARTTLS.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::print_stderr,
    clippy::print_stdout
)]

mod common;

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use argus_alertmanager::PostableAlert;
use common::{manager, t0};

struct Smtp {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn python_with_aiosmtpd() -> Option<String> {
    for py in ["python3", "python"] {
        let ok = Command::new(py)
            .args(["-c", "import aiosmtpd"])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if ok {
            return Some(py.to_owned());
        }
    }
    if std::env::var("ARGUS_SKIP_PEER_TESTS").as_deref() == Ok("1") {
        eprintln!("SKIPPED: python3 with aiosmtpd not available (ARGUS_SKIP_PEER_TESTS=1)");
        return None;
    }
    panic!(
        "python3 with aiosmtpd is required: pip install aiosmtpd (or set ARGUS_SKIP_PEER_TESTS=1)"
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_smtp(auth: Option<(&str, &str)>) -> Option<Smtp> {
    let py = python_with_aiosmtpd()?;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/smtp_server.py");
    let mut cmd = Command::new(py);
    cmd.arg(script).arg(dir.path()).arg(port.to_string());
    if let Some((u, p)) = auth {
        cmd.arg(u).arg(p);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line.trim(), "READY", "smtp server did not start");
    Some(Smtp { child, port, dir })
}

fn messages(dir: &Path) -> Vec<serde_json::Value> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .iter()
        .map(|p| serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
        .collect()
}

fn alert(pairs: &[(&str, &str)]) -> PostableAlert {
    PostableAlert {
        labels: pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        annotations: [("summary".to_string(), "disk <almost> full".to_string())].into(),
        starts_at: Some(t0()),
        ends_at: None,
        generator_url: "http://prometheus:9090/graph".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_over_smtp_with_auth() {
    let Some(smtp) = start_smtp(Some(("alert", "s3cret"))) else {
        return;
    };
    let y = format!(
        r#"global:
  smtp_smarthost: '127.0.0.1:{port}'
  smtp_from: 'argus@example.org'
  smtp_auth_username: alert
  smtp_auth_password: s3cret
  smtp_require_tls: false
  resolve_timeout: 1h
route:
  receiver: mail
  group_by: [alertname]
  group_wait: 0s
receivers:
- name: mail
  email_configs:
  - to: 'ops@example.org, dba@example.org'
    send_resolved: true
    headers:
      X-Team: '{{{{ .CommonLabels.team }}}}'
    text: 'status={{{{ .Status }}}} n={{{{ len .Alerts }}}}'
"#,
        port = smtp.port
    );
    let dir = tempfile::tempdir().unwrap();
    let (am, clock) = manager(&y, dir.path());
    am.put_alerts(vec![
        alert(&[("alertname", "DiskFull"), ("team", "db"), ("instance", "a")]),
        alert(&[("alertname", "DiskFull"), ("team", "db"), ("instance", "b")]),
    ])
    .unwrap();
    am.tick().await;
    let msgs = messages(smtp.dir.path());
    assert_eq!(msgs.len(), 1, "{:?}", am.notification_history(None));
    let m = &msgs[0];
    assert_eq!(m["mail_from"], "argus@example.org");
    assert_eq!(
        m["rcpt_tos"],
        serde_json::json!(["ops@example.org", "dba@example.org"])
    );
    assert_eq!(m["login"], "alert");
    assert_eq!(m["headers"]["Subject"], "[FIRING:2] DiskFull (db)");
    assert_eq!(m["headers"]["From"], "argus@example.org");
    assert_eq!(m["headers"]["To"], "ops@example.org, dba@example.org");
    assert_eq!(m["headers"]["X-Team"], "db");
    let key = &am.notification_history(None)[0]
        .idempotency_key
        .clone()
        .unwrap();
    assert!(m["headers"]["Message-ID"]
        .as_str()
        .unwrap()
        .contains(key.as_str()));
    assert_eq!(m["content_type"], "multipart/alternative");
    assert_eq!(
        m["parts"]["text/plain"].as_str().unwrap().trim(),
        "status=firing n=2"
    );
    let html = m["parts"]["text/html"].as_str().unwrap();
    assert!(html.contains("2 alerts for alertname=DiskFull"), "{html}");
    assert!(html.contains("[2] Firing"), "{html}");
    assert!(html.contains("disk &lt;almost&gt; full"), "{html}");
    assert!(
        html.contains("http://argus.example:9090/#/alerts"),
        "{html}"
    );
    assert_eq!(am.notification_history(None)[0].response_status, Some(250));

    // Resolve one: the next flush mails the change (send_resolved: true).
    clock.advance(Duration::from_secs(60));
    let mut a = alert(&[("alertname", "DiskFull"), ("team", "db"), ("instance", "a")]);
    a.ends_at = Some(t0() + chrono::Duration::seconds(60));
    am.put_alerts(vec![a]).unwrap();
    clock.advance(Duration::from_secs(5 * 60));
    am.tick().await;
    let msgs = messages(smtp.dir.path());
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[1]["headers"]["Subject"], "[FIRING:1] DiskFull (db)");
    assert!(msgs[1]["parts"]["text/html"]
        .as_str()
        .unwrap()
        .contains("[1] Resolved"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn require_tls_refuses_plain_server_and_bad_auth_fails() {
    let Some(smtp) = start_smtp(Some(("alert", "s3cret"))) else {
        return;
    };
    let y = format!(
        "global:\n  smtp_smarthost: '127.0.0.1:{}'\n  smtp_from: 'argus@example.org'\nroute:\n  receiver: mail\n  group_wait: 0s\nreceivers:\n- name: mail\n  email_configs:\n  - to: 'ops@example.org'\n  - to: 'ops@example.org'\n    require_tls: false\n    auth_username: alert\n    auth_password: wrong\n",
        smtp.port
    );
    let dir = tempfile::tempdir().unwrap();
    let (am, _clock) = manager(&y, dir.path());
    am.put_alerts(vec![alert(&[("alertname", "X")])]).unwrap();
    am.tick().await;
    assert!(messages(smtp.dir.path()).is_empty());
    let h = am.notification_history(None);
    let e0 = h
        .iter()
        .find(|r| r.integration.as_deref() == Some("email[0]"))
        .unwrap();
    let err = e0.error.clone().unwrap_or_default();
    assert!(err.to_lowercase().contains("tls"), "{err}");
    let e1 = h
        .iter()
        .find(|r| r.integration.as_deref() == Some("email[1]"))
        .unwrap();
    assert!(e1.error.is_some(), "{e1:?}");
}
