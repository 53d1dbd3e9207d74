use std::path::PathBuf;

use super::*;

fn upstream(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/upstream")
        .join(rel)
}

#[test]
fn upstream_good_configs_load() {
    for f in [
        "amtool/conf.good.yml",
        "amtool/conf.routing.yml",
        "amtool/conf.routing-reverted.yml",
        "config/conf.good.yml",
        "config/conf.group-by-all.yml",
    ] {
        let c = Config::load(&upstream(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
        assert!(c.route.is_some(), "{f}");
    }
}

#[test]
fn upstream_good_config_reports_unsupported_integrations() {
    let c = Config::load(&upstream("config/conf.good.yml")).unwrap();
    let joined = c.warnings.join("\n");
    for kind in ["pagerduty", "victorops", "opsgenie", "pushover", "slack"] {
        assert!(
            joined.contains(&format!("{kind}_configs")),
            "{kind}: {joined}"
        );
    }
    // Globals were applied to email configs.
    let r = c
        .receivers
        .iter()
        .find(|r| r.name == "team-X-mails")
        .unwrap();
    assert_eq!(r.email_configs[0].smarthost, "localhost:25");
    assert_eq!(r.email_configs[0].from, "alertmanager@example.org");
    assert_eq!(r.email_configs[0].hello, "host.example.org");
    assert_eq!(r.email_configs[0].require_tls, Some(true));
}

#[test]
fn upstream_bad_configs_fail_naming_the_label() {
    let e = Config::load(&upstream("amtool/conf.bad.yml")).unwrap_err();
    assert!(matches!(e, ConfigError::Yaml(_)), "{e}");
    for (f, label) in [
        ("config/conf.nil-match_re-route.yml", "invalid_label"),
        (
            "config/conf.nil-source_match_re-inhibition.yml",
            "invalid_source_label",
        ),
        (
            "config/conf.nil-target_match_re-inhibition.yml",
            "invalid_target_label",
        ),
    ] {
        let e = Config::load(&upstream(f)).unwrap_err().to_string();
        assert!(e.contains(label), "{f}: {e}");
        assert!(e.contains("line "), "{f}: {e}");
    }
}

#[test]
fn unquoted_numbers_are_strings() {
    let c = Config::load(&upstream("amtool/conf.routing.yml")).unwrap();
    let r = c.route.unwrap();
    assert_eq!(
        r.routes[1].match_.get("test").map(String::as_str),
        Some("2")
    );
    assert_eq!(
        r.routes[0]
            .match_re
            .get("test")
            .cloned()
            .flatten()
            .as_deref(),
        Some("^[12]$")
    );
}

#[test]
fn unknown_field_names_field_and_line() {
    let e = Config::parse("route:\n  receiver: a\n  recevier: b\nreceivers:\n- name: a\n")
        .unwrap_err()
        .to_string();
    assert!(e.contains("recevier"), "{e}");
    assert!(e.contains("line 3"), "{e}");
}

#[test]
fn semantic_errors() {
    let cases = [
        ("route:\n  receiver: x\nreceivers:\n- name: a\n", "undefined receiver \"x\""),
        ("receivers:\n- name: a\n", "no routes provided"),
        ("route:\n  group_by: [a]\nreceivers:\n- name: a\n", "default receiver"),
        (
            "route:\n  receiver: a\n  match: {a: b}\nreceivers:\n- name: a\n",
            "must not have any matchers",
        ),
        (
            "route:\n  receiver: a\nreceivers:\n- name: a\n- name: a\n",
            "not unique",
        ),
        (
            "route:\n  receiver: a\n  routes:\n  - group_by: ['...', x]\nreceivers:\n- name: a\n",
            "wildcard group_by",
        ),
        (
            "route:\n  receiver: a\n  routes:\n  - group_interval: 0s\nreceivers:\n- name: a\n",
            "group_interval cannot be zero",
        ),
        (
            "route:\n  receiver: a\n  routes:\n  - mute_time_intervals: [nope]\nreceivers:\n- name: a\n",
            "undefined time interval",
        ),
        (
            "route:\n  receiver: a\nreceivers:\n- name: a\n  webhook_configs:\n  - send_resolved: true\n",
            "one of url or url_file",
        ),
        (
            "route:\n  receiver: a\nreceivers:\n- name: a\n  webhook_configs:\n  - url: 'ftp://x'\n",
            "unsupported scheme",
        ),
        (
            "route:\n  receiver: a\nreceivers:\n- name: a\n  email_configs:\n  - to: x@y\n",
            "no global SMTP smarthost set",
        ),
        (
            "route:\n  receiver: a\n  routes:\n  - matchers: ['a=~(']\nreceivers:\n- name: a\n",
            "invalid regular expression",
        ),
        (
            "route:\n  receiver: a\n  routes:\n  - matchers: ['a=\"b\"c\"']\nreceivers:\n- name: a\n",
            "unescaped double quote",
        ),
        (
            "route:\n  receiver: a\n  routes:\n  - group_by: [a, a]\nreceivers:\n- name: a\n",
            "duplicated label",
        ),
        (
            "route:\n  receiver: a\nreceivers:\n- name: a\ntime_intervals:\n- name: t\n  time_intervals:\n  - weekdays: [funday]\n",
            "funday",
        ),
    ];
    for (text, want) in cases {
        let e = Config::parse(text).unwrap_err().to_string();
        assert!(e.contains(want), "{text:?}: got {e:?}, want {want:?}");
    }
}

#[test]
fn masked_yaml_hides_secrets_and_reloads() {
    let text = "global:\n  smtp_smarthost: 'mail:25'\n  smtp_from: a@b\n  smtp_auth_password: hunter2\nroute:\n  receiver: a\n  routes:\n  - match_re: {x: 'a|b'}\n    receiver: a\nreceivers:\n- name: a\n  webhook_configs:\n  - url: 'http://u:token@h/x'\n  email_configs:\n  - to: c@d\n";
    let c = Config::parse(text).unwrap();
    let y = c.to_masked_yaml();
    assert!(!y.contains("hunter2"), "{y}");
    assert!(!y.contains("token"), "{y}");
    assert!(y.contains("<secret>"), "{y}");
    assert!(y.contains("resolve_timeout: 5m"), "{y}");
    // The masked form is itself a loadable config (amtool parses it).
    let c2 = Config::parse(&y).unwrap_or_else(|e| panic!("{e}\n{y}"));
    assert_eq!(
        c2.route.unwrap().routes[0]
            .match_re
            .get("x")
            .cloned()
            .flatten()
            .as_deref(),
        Some("a|b")
    );
}

#[test]
fn email_headers_are_canonicalised() {
    let text = "global:\n  smtp_smarthost: 'mail:25'\n  smtp_from: a@b\nroute:\n  receiver: a\nreceivers:\n- name: a\n  email_configs:\n  - to: c@d\n    headers: {x-team: db, subject: hi}\n";
    let c = Config::parse(text).unwrap();
    let h = &c.receivers[0].email_configs[0].headers;
    assert_eq!(h.get("X-Team").map(String::as_str), Some("db"));
    assert_eq!(h.get("Subject").map(String::as_str), Some("hi"));
    let dup = text.replace("subject: hi", "X-TEAM: hi");
    assert!(Config::parse(&dup)
        .unwrap_err()
        .to_string()
        .contains("duplicate header"));
}
