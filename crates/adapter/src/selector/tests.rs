use super::*;

fn promql(s: &str) -> Result<Vec<String>, SelectorError> {
    LabelSelector::parse(s)?.to_promql_matchers(|k| Ok(k.to_owned()))
}

#[test]
fn parses_every_operator() {
    let cases = [
        ("app=web", vec![r#"app="web""#]),
        ("app==web", vec![r#"app="web""#]),
        ("app!=web", vec![r#"app!="web""#]),
        ("app in (web,api)", vec![r#"app=~"api|web""#]),
        ("app notin (web, api)", vec![r#"app!~"api|web""#]),
        ("app", vec![r#"app!="""#]),
        ("!app", vec![r#"app="""#]),
        (
            " tier = front , app ",
            vec![r#"app!="""#, r#"tier="front""#],
        ),
        ("v=1.2.3", vec![r#"v="1.2.3""#]),
        ("v in (1.2,a-b)", vec![r#"v=~"1\\.2|a-b""#]),
        ("x=", vec![r#"x="""#]),
        ("x in ()", vec![r#"x=~"""#]),
        ("", vec![]),
    ];
    for (input, want) in cases {
        assert_eq!(promql(input).unwrap(), want, "{input}");
    }
}

#[test]
fn canonical_string_and_json() {
    let s = LabelSelector::parse("tier notin (b,a),app=web,!gone,env,x!=y,z in (q)").unwrap();
    assert_eq!(
        s.to_string(),
        "app=web,env,!gone,tier notin (a,b),x!=y,z in (q)"
    );
    let j = serde_json::to_value(s.to_json().unwrap()).unwrap();
    assert_eq!(
        j,
        serde_json::json!({
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "env", "operator": "Exists"},
                {"key": "gone", "operator": "DoesNotExist"},
                {"key": "tier", "operator": "NotIn", "values": ["a", "b"]},
                {"key": "x", "operator": "NotIn", "values": ["y"]},
                {"key": "z", "operator": "In", "values": ["q"]},
            ]
        })
    );
    assert!(LabelSelector::parse("").unwrap().to_json().is_none());
}

#[test]
fn clear_errors() {
    for (bad, needle) in [
        ("app=", ""),
        ("app in web", "expected: '('"),
        ("app in (a", "expected: ',', ')' or identifier"),
        ("app=a,", "identifier after ','"),
        ("=a", "expected: identifier"),
        ("app=a b", "expected: ','"),
        ("app ~ x", "expected: '='"),
        ("!app=x", "after '!app'"),
        ("-app=x", "invalid label key"),
        ("app=-x", "invalid label value"),
        ("a>b", "must be an integer"),
        ("Example.com/app=x", "DNS-1123"),
    ] {
        let r = LabelSelector::parse(bad);
        if needle.is_empty() {
            assert!(r.is_ok(), "{bad}");
            continue;
        }
        let e = r.expect_err(bad).0;
        assert!(e.contains(needle), "{bad}: {e}");
    }
    let gt = promql("replicas>3").unwrap_err().0;
    assert!(gt.contains("cannot be translated"), "{gt}");
    // Qualified keys parse, and the caller decides whether they are PromQL names.
    let s = LabelSelector::parse("app.kubernetes.io/name=web").unwrap();
    let e = s
        .to_promql_matchers(|k| {
            if is_prom_label_name(k) {
                Ok(k.to_owned())
            } else {
                Err(SelectorError(format!("{k} is not a label name")))
            }
        })
        .unwrap_err();
    assert!(e.0.contains("not a label name"));
}

#[test]
fn matches_like_kubernetes() {
    let s = LabelSelector::parse("app in (a,b),!gone,tier!=x,n>2").unwrap();
    let labels = |pairs: &'static [(&'static str, &'static str)]| {
        move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| *v)
    };
    assert!(s.matches(labels(&[("app", "a"), ("n", "3")])));
    assert!(!s.matches(labels(&[("app", "c"), ("n", "3")])));
    assert!(!s.matches(labels(&[("app", "a"), ("gone", "1"), ("n", "3")])));
    assert!(!s.matches(labels(&[("app", "a"), ("tier", "x"), ("n", "3")])));
    assert!(!s.matches(labels(&[("app", "a"), ("n", "2")])));
}

#[test]
fn field_selectors() {
    let f = FieldSelector::parse(
        "metadata.name=web-1,metadata.namespace!=kube-system",
        &["metadata.name", "metadata.namespace"],
    )
    .unwrap();
    assert!(f.matches(|k| if k == "metadata.name" {
        "web-1"
    } else {
        "default"
    }));
    assert!(!f.matches(|k| if k == "metadata.name" {
        "web-1"
    } else {
        "kube-system"
    }));
    assert_eq!(f.equal_value("metadata.name"), Some("web-1"));
    let e = FieldSelector::parse("spec.nodeName=a", &["metadata.name"]).unwrap_err();
    assert!(e.0.contains("field label not supported: spec.nodeName"));
    assert!(FieldSelector::parse("nonsense", &["metadata.name"]).is_err());
}

#[test]
fn quote_meta_escapes_re2_metacharacters() {
    let mut s = String::new();
    quote_meta_into(r"a.b*c\d", &mut s);
    assert_eq!(s, r"a\.b\*c\\d");
    assert!(is_prom_label_name("pod"));
    assert!(!is_prom_label_name("app.kubernetes.io/name"));
    assert!(!is_prom_label_name("1x"));
}
