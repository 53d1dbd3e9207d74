//! The rulefmt fixtures (vendored from Prometheus, `testdata/prometheus-rules`) give the
//! verdicts and reasons FORMAT.md lists.

use std::path::PathBuf;

use super::*;

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata/prometheus-rules")
        .join(rel)
}

fn load(rel: &str, v: NameValidation) -> Result<RuleFileSpec, Vec<RuleFileError>> {
    parse_file(
        &fixture(rel),
        ParseOptions {
            name_validation: v,
            ignore_unknown_fields: false,
        },
    )
}

fn errors(rel: &str, v: NameValidation) -> String {
    load(rel, v)
        .expect_err(rel)
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn rulefmt_fixture_verdicts() {
    let utf8 = NameValidation::Utf8;
    for good in [
        "test.yaml",
        "test_aliases.yaml",
        "utf-8_lname.good.yaml",
        "utf-8_annotation.good.yaml",
    ] {
        let f = load(&format!("rulefmt/{good}"), utf8);
        assert!(f.is_ok(), "{good}: {f:?}");
    }
    assert!(load(
        "rulefmt/legacy_validation_annotation.good.yaml",
        NameValidation::Legacy
    )
    .is_ok());
    let cases = [
        ("legacy_validation_annotation.bad.yaml", NameValidation::Legacy, "invalid annotation name: ins-tance"),
        ("duplicate_grp.bad.yaml", utf8, "groupname: \"yolo\" is repeated in the same file"),
        ("bad_expr.bad.yaml", utf8, "parse error"),
        ("record_and_alert.bad.yaml", utf8, "only one of 'record' and 'alert' must be set"),
        ("no_rec_alert.bad.yaml", utf8, "one of 'record' or 'alert' must be set"),
        ("noexpr.bad.yaml", utf8, "field 'expr' must be set in rule"),
        (
            "invalid_record_name.bad.yaml",
            utf8,
            "braces present in the recording rule name; should it be in expr?: strawberry{flavor=\"sweet\"}",
        ),
        ("bad_field.bad.yaml", utf8, "field annotation not found"),
        ("invalid_label_name.bad.yaml", utf8, "invalid label name"),
        ("record_and_for.bad.yaml", utf8, "invalid field 'for' in recording rule"),
        ("record_and_keep_firing_for.bad.yaml", utf8, "invalid field 'keep_firing_for' in recording rule"),
    ];
    for (file, v, want) in cases {
        let e = errors(&format!("rulefmt/{file}"), v);
        assert!(e.contains(want), "{file}: {e}");
        assert!(e.contains(file), "{file}: error names the file: {e}");
    }
}

#[test]
fn errors_name_group_rule_and_field() {
    let e = load("rulefmt/record_and_for.bad.yaml", NameValidation::Utf8).unwrap_err();
    let RuleFileError::Rule {
        group,
        index,
        rule,
        field,
        ..
    } = &e[0]
    else {
        panic!("{e:?}")
    };
    assert_eq!(
        (group.as_str(), *index, rule.as_str(), field.as_deref()),
        ("yolo", 1, "Hello", Some("for"))
    );
    let e = errors("promtool-check-rules/rules-bad.yml", NameValidation::Utf8);
    assert!(
        e.ends_with("group \"alerts\", rule 1, \"InstanceDown\": annotation \"summary\": template: __alert_InstanceDown:1: undefined variable \"$label\""),
        "{e}"
    );
}

#[test]
fn aliases_and_merge_keys_resolve() {
    let f = load("rulefmt/test_aliases.yaml", NameValidation::Utf8).unwrap();
    let g = &f.groups[0];
    assert_eq!(g.rules[0].alert.as_deref(), Some("HighAlert"));
    assert_eq!(g.rules[0].labels["severity"], "critical");
    assert_eq!(
        g.rules[0].annotations["description"],
        "stuff's happening with {{ $.labels.service }}"
    );
    assert_eq!(g.rules[1].record.as_deref(), Some("new_metric"));
    assert_eq!(g.rules[2].alert.as_deref(), Some("HighAlert"));
    assert_eq!(g.rules[3].alert.as_deref(), Some("HighAlert2"));
    let want = "sum without(instance) (rate(errors_total[5m]))\n/\nsum without(instance) (rate(requests_total[5m]))\n";
    for r in &g.rules {
        assert_eq!(r.expr, want);
    }
    assert_eq!(g.interval_ms, Some(30_000));
}

#[test]
fn rules_manager_fixtures() {
    let dir = fixture("rules-manager-fixtures");
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        let r = parse_file(&p, ParseOptions::default());
        if name == "invalid_rules.yaml" {
            let e = r.unwrap_err();
            assert!(
                e[0].to_string()
                    .contains("field unexpected_field not found in type rulefmt.RuleNode"),
                "{e:?}"
            );
        } else {
            let f = r.unwrap_or_else(|e| panic!("{name}: {e:?}"));
            if name == "rules_multi_doc.yaml" {
                assert_eq!(f.groups.len(), 1);
                assert_eq!(f.warnings.len(), 1);
            }
        }
        n += 1;
    }
    assert_eq!(n, 15);
}

#[test]
fn ignore_unknown_fields_option() {
    let p = fixture("promtool-unittest/rules_extrafields.yml");
    assert!(parse_file(&p, ParseOptions::default()).is_err());
    assert!(parse_file(
        &p,
        ParseOptions {
            ignore_unknown_fields: true,
            ..Default::default()
        }
    )
    .is_ok());
}

#[test]
fn group_fields_and_bad_values() {
    let text = "groups:\n- name: g\n  interval: 15s\n  query_offset: 1m\n  limit: 10\n  labels: {team: a}\n  rules:\n  - alert: A\n    expr: up == 0\n    for: 1m\n    keep_firing_for: 2m\n";
    let f = parse_rules("x.yml", text, ParseOptions::default()).unwrap();
    let g = &f.groups[0];
    assert_eq!(
        (g.interval_ms, g.query_offset_ms, g.limit),
        (Some(15_000), Some(60_000), 10)
    );
    assert_eq!(
        (g.rules[0].for_ms, g.rules[0].keep_firing_for_ms),
        (60_000, 120_000)
    );
    let e = parse_rules(
        "x.yml",
        "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    for: 5x\n",
        ParseOptions::default(),
    )
    .unwrap_err();
    assert!(
        e[0].to_string()
            .contains("rule 1, \"A\": not a valid duration string: \"5x\""),
        "{e:?}"
    );
    assert!(
        parse_rules("x.yml", "groups: [", ParseOptions::default()).unwrap_err()[0]
            .to_string()
            .starts_with("x.yml: yaml: ")
    );
    assert!(parse_rules("x.yml", "", ParseOptions::default())
        .unwrap()
        .groups
        .is_empty());
    let e = parse_rules(
        "x.yml",
        "groups:\n- name: g\n  rules:\n  - record: a\n    expr: up\n    labels: {__name__: x}\n",
        ParseOptions::default(),
    )
    .unwrap_err();
    assert!(e[0].to_string().contains("invalid label name: __name__"));
}
