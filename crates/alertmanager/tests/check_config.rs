//! `check_config` (behind `argus check alertmanager-config FILE`) on valid and invalid
//! files, including the vendored upstream fixtures.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::print_stderr,
    clippy::print_stdout
)]

use std::path::PathBuf;

use argus_alertmanager::{check_config, CheckError};

fn upstream(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/upstream")
        .join(rel)
}

#[test]
fn valid_configs_report_contents() {
    let r = check_config(&upstream("config/conf.good.yml")).unwrap();
    assert_eq!(r.receivers, 9);
    assert_eq!(r.inhibit_rules, 1);
    assert_eq!(r.templates, 1);
    assert_eq!(r.routes, 8);
    let text = r.to_string();
    assert!(text.contains("SUCCESS"), "{text}");
    assert!(text.contains(" - 9 receivers"), "{text}");
    assert!(
        text.contains("WARNING: receiver \"team-X-pager\": 1 pagerduty_configs not supported"),
        "{text}"
    );

    let r = check_config(&upstream("config/conf.group-by-all.yml")).unwrap();
    assert!(r.warnings.is_empty());
    let r =
        check_config(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("testdata/routing/tree.yml"))
            .unwrap();
    assert_eq!(r.receivers, 16);
}

#[test]
fn invalid_configs_name_the_problem() {
    let e = check_config(&upstream("amtool/conf.bad.yml")).unwrap_err();
    assert!(matches!(e, CheckError::Config { .. }));
    let e = check_config(&upstream("config/conf.nil-match_re-route.yml"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("invalid_label") && e.contains("line 5"), "{e}");

    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("route:\n  receiver: a\nreceivers:\n- name: a\n  webhook_configs:\n  - url: http://x/\n    urll: y\n", "unknown field `urll`"),
        ("route:\n  receiver: a\n  routes:\n  - receiver: b\nreceivers:\n- name: a\n", "undefined receiver \"b\" used in route (line 4)"),
        ("route:\n  receiver: a\nreceivers:\n- name: a\ntemplates: ['[']\n", "invalid glob"),
    ];
    for (text, want) in cases {
        let p = dir.path().join("am.yml");
        std::fs::write(&p, text).unwrap();
        let e = check_config(&p).unwrap_err().to_string();
        assert!(e.contains(want), "got {e:?}, want {want:?}");
        assert!(e.starts_with(&p.display().to_string()), "{e}");
    }
    // A template file that does not parse is reported at check time.
    std::fs::write(dir.path().join("bad.tmpl"), "{{ define \"x\" }}{{ .Foo ").unwrap();
    let p = dir.path().join("am.yml");
    std::fs::write(
        &p,
        "route:\n  receiver: a\nreceivers:\n- name: a\ntemplates: ['*.tmpl']\n",
    )
    .unwrap();
    let e = check_config(&p).unwrap_err().to_string();
    assert!(e.contains("bad.tmpl"), "{e}");
    assert!(check_config(&dir.path().join("missing.yml")).is_err());
}
