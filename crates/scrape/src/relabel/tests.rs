//! Relabeling against Prometheus' documented semantics (the cases mirror the behaviour
//! described in the Prometheus configuration docs and `model/relabel`).

use super::*;

fn ls(pairs: &[(&str, &str)]) -> Labels {
    Labels::from_pairs(pairs)
}

fn rules(yaml: &str) -> Vec<RelabelConfig> {
    serde_yaml_ng::from_str(yaml).unwrap()
}

fn run(input: &[(&str, &str)], yaml: &str) -> Option<Labels> {
    process(&ls(input), &rules(yaml))
}

const ABC: &[(&str, &str)] = &[("a", "foo"), ("b", "bar"), ("c", "baz")];

#[test]
fn replace_with_capture_groups() {
    let out = run(
        ABC,
        "- source_labels: [a]\n  regex: f(.*)\n  target_label: d\n  replacement: ch${1}-ch${1}\n",
    );
    assert_eq!(
        out,
        Some(ls(&[
            ("a", "foo"),
            ("b", "bar"),
            ("c", "baz"),
            ("d", "choo-choo")
        ]))
    );
}

#[test]
fn replace_joins_source_labels_with_separator() {
    let out = run(
        ABC,
        "- source_labels: [a, b]\n  regex: 'f(.*);(.*)r'\n  target_label: a\n  replacement: 'b${1}${2}m'\n",
    );
    assert_eq!(
        out,
        Some(ls(&[("a", "boobam"), ("b", "bar"), ("c", "baz")]))
    );
    let out = run(
        ABC,
        "- source_labels: [c, a]\n  separator: '-'\n  target_label: d\n",
    );
    assert_eq!(out.unwrap().get("d"), Some("baz-foo"));
}

#[test]
fn regex_is_anchored_and_no_match_leaves_labels() {
    let out = run(ABC, "- source_labels: [a]\n  regex: o\n  target_label: d\n");
    assert_eq!(out, Some(ls(ABC)));
    // (?s) lets '.' match newlines.
    let out = run(
        &[("a", "x\ny")],
        "- source_labels: [a]\n  regex: 'x.y'\n  target_label: d\n  replacement: ok\n",
    );
    assert_eq!(out.unwrap().get("d"), Some("ok"));
}

#[test]
fn replace_with_empty_result_deletes_target() {
    let out = run(
        ABC,
        "- source_labels: [a]\n  regex: '(f).*'\n  target_label: b\n  replacement: ''\n",
    );
    assert_eq!(out, Some(ls(&[("a", "foo"), ("c", "baz")])));
}

#[test]
fn replace_fast_path_sets_constant_from_absent_source() {
    let out = run(ABC, "- target_label: env\n  replacement: prod\n");
    assert_eq!(out.unwrap().get("env"), Some("prod"));
}

#[test]
fn replace_with_templated_target_label() {
    let out = run(
        ABC,
        "- source_labels: [a]\n  regex: '(.*)'\n  target_label: 'x_${1}'\n  replacement: v\n",
    );
    assert_eq!(out.unwrap().get("x_foo"), Some("v"));
}

#[test]
fn dollar_one_followed_by_letters_is_a_named_group() {
    // As in Go's regexp.Expand: "$1x" names group "1x", which does not exist.
    let out = run(
        ABC,
        "- source_labels: [a]\n  regex: '(.*)'\n  target_label: d\n  replacement: '$1x'\n",
    );
    assert_eq!(out, Some(ls(ABC)));
}

#[test]
fn keep_and_drop() {
    assert_eq!(
        run(
            ABC,
            "- source_labels: [a]\n  regex: 'f.*'\n  action: drop\n"
        ),
        None
    );
    assert_eq!(
        run(
            ABC,
            "- source_labels: [a]\n  regex: 'b.*'\n  action: drop\n"
        ),
        Some(ls(ABC))
    );
    assert_eq!(
        run(
            ABC,
            "- source_labels: [a]\n  regex: 'b.*'\n  action: keep\n"
        ),
        None
    );
    assert_eq!(
        run(
            ABC,
            "- source_labels: [a]\n  regex: 'f.*'\n  action: Keep\n"
        ),
        Some(ls(ABC))
    );
    // An absent label has the value "" for matching.
    assert_eq!(
        run(ABC, "- source_labels: [zzz]\n  regex: ''\n  action: drop\n"),
        None
    );
}

#[test]
fn keepequal_and_dropequal() {
    let input = &[("a", "1"), ("b", "1"), ("c", "2")];
    assert!(run(
        input,
        "- source_labels: [a]\n  target_label: b\n  action: keepequal\n"
    )
    .is_some());
    assert!(run(
        input,
        "- source_labels: [a]\n  target_label: c\n  action: keepequal\n"
    )
    .is_none());
    assert!(run(
        input,
        "- source_labels: [a]\n  target_label: b\n  action: dropequal\n"
    )
    .is_none());
    assert!(run(
        input,
        "- source_labels: [a]\n  target_label: c\n  action: dropequal\n"
    )
    .is_some());
}

#[test]
fn hashmod_uses_md5_low_bytes() {
    // Expected values computed independently: int.from_bytes(md5(v)[8:], "big") % m.
    let out = run(
        ABC,
        "- source_labels: [c]\n  target_label: d\n  modulus: 1000\n  action: hashmod\n",
    );
    assert_eq!(out.unwrap().get("d"), Some("976"));
    let out = run(
        &[("__address__", "localhost:9100")],
        "- source_labels: [__address__]\n  target_label: shard\n  modulus: 3\n  action: hashmod\n",
    );
    assert_eq!(out.unwrap().get("shard"), Some("1"));
}

#[test]
fn labelmap_copies_matching_names() {
    let input = &[
        ("__meta_kubernetes_pod_label_app", "web"),
        ("__meta_other", "x"),
        ("job", "j"),
    ];
    let out = run(
        input,
        "- regex: '__meta_kubernetes_pod_label_(.+)'\n  action: labelmap\n",
    )
    .unwrap();
    assert_eq!(out.get("app"), Some("web"));
    assert_eq!(out.get("__meta_kubernetes_pod_label_app"), Some("web"));
    assert_eq!(out.len(), 4);
    let out = run(
        ABC,
        "- regex: '(b)'\n  replacement: 'new_${1}'\n  action: labelmap\n",
    )
    .unwrap();
    assert_eq!(out.get("new_b"), Some("bar"));
}

#[test]
fn labeldrop_and_labelkeep() {
    assert_eq!(
        run(ABC, "- regex: '[ab]'\n  action: labeldrop\n"),
        Some(ls(&[("c", "baz")]))
    );
    assert_eq!(
        run(ABC, "- regex: '[ab]'\n  action: labelkeep\n"),
        Some(ls(&[("a", "foo"), ("b", "bar")]))
    );
    // Dropping everything leaves nothing to identify a series.
    assert_eq!(run(ABC, "- regex: '.*'\n  action: labeldrop\n"), None);
}

#[test]
fn lowercase_and_uppercase() {
    let input = &[("a", "MiXeD"), ("b", "x")];
    let out = run(input, "- source_labels: [a]\n  target_label: lo\n  action: lowercase\n- source_labels: [a, b]\n  target_label: up\n  action: uppercase\n").unwrap();
    assert_eq!(out.get("lo"), Some("mixed"));
    assert_eq!(out.get("up"), Some("MIXED;X"));
}

#[test]
fn rules_apply_in_order() {
    let out = run(ABC, "- source_labels: [a]\n  target_label: z\n- source_labels: [z]\n  regex: foo\n  action: drop\n");
    assert_eq!(out, None);
}

#[test]
fn validation_errors() {
    let bad = [
        ("- action: hashmod\n  target_label: x\n", "non-zero modulus"),
        ("- action: replace\n", "requires 'target_label'"),
        (
            "- action: lowercase\n  target_label: x\n  replacement: y\n",
            "'replacement' can not be set",
        ),
        (
            "- action: keepequal\n  target_label: x\n  regex: a\n",
            "requires only 'source_labels'",
        ),
        (
            "- action: labeldrop\n  source_labels: [a]\n",
            "requires only 'regex'",
        ),
        ("- action: bogus\n", "unknown relabel action"),
        ("- action: ''\n", "cannot be empty"),
        ("- regex: '(['\n  target_label: x\n", "invalid regex"),
        ("- target_label: x\n  bogus: 1\n", "unknown field"),
    ];
    for (y, want) in bad {
        let err = serde_yaml_ng::from_str::<Vec<RelabelConfig>>(y)
            .unwrap_err()
            .to_string();
        assert!(err.contains(want), "{y:?}: {err}");
    }
}

#[test]
fn serializes_back_to_prometheus_yaml() {
    let r = rules("- source_labels: [a]\n  target_label: b\n  regex: 'x(.*)'\n");
    let y = serde_yaml_ng::to_string(&r).unwrap();
    assert!(
        y.contains("regex: x(.*)") && y.contains("action: replace"),
        "{y}"
    );
    assert_eq!(rules(&y), r);
}
