//! Execution tests: Go `text/template` behaviour (outputs as Go prints them).

use std::collections::BTreeMap;

use super::*;

fn run_with(text: &str, data: &Value, funcs: Vec<(&str, Func)>) -> Result<String, String> {
    let mut t = Template::new("t").funcs(funcs);
    t.parse(text).map_err(|e| e.to_string())?;
    t.execute("t", data).map_err(|e| e.to_string())
}

fn run(text: &str, data: &Value) -> String {
    run_with(text, data, vec![]).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn err(text: &str, data: &Value) -> String {
    run_with(text, data, vec![]).expect_err(text)
}

fn data() -> Value {
    Value::map([
        (
            "A",
            Value::map([("B", Value::from("ab")), ("N", Value::from(3))]),
        ),
        ("L", Value::from(vec![1, 2, 3])),
        ("S", Value::from("str")),
        ("E", Value::List(vec![])),
        ("M", Value::map([("z", 26), ("a", 1), ("m", 13)])),
        ("F", Value::from(1.5)),
        ("T", Value::from(true)),
    ])
}

#[test]
fn text_actions_and_trim() {
    let d = data();
    assert_eq!(run("hello", &d), "hello");
    assert_eq!(
        run("{{.S}} {{.A.B}} {{.A.N}} {{.F}} {{.T}}", &d),
        "str ab 3 1.5 true"
    );
    assert_eq!(run("a  {{- .S -}}  b", &d), "astrb");
    assert_eq!(run("a {{- /* comment */ -}} b", &d), "ab");
    assert_eq!(run("{{/* c */}}x", &d), "x");
    assert_eq!(run("{{.L}} {{.M}}", &d), "[1 2 3] map[a:1 m:13 z:26]");
    assert_eq!(
        run("{{.missing}}|{{.A.missing}}|{{.missing.deeper}}", &d),
        "<no value>|<no value>|<no value>"
    );
    assert_eq!(
        run(
            "{{ 1 }} {{ 1.0 }} {{ 1e3 }} {{ 'a' }} {{ 0x10 }} {{ -2 }} {{ \"q\" }} {{ `raw` }}",
            &d
        ),
        "1 1 1000 97 16 -2 q raw"
    );
    assert_eq!(run("{{ print nil }}", &d), "<nil>");
}

#[test]
fn variables_and_scope() {
    let d = data();
    assert_eq!(run("{{$x := .S}}{{$x}}{{$x = \"y\"}}{{$x}}", &d), "stry");
    assert_eq!(run("{{with .A}}{{$.S}}{{.B}}{{end}}", &d), "strab");
    assert_eq!(
        run("{{$x := 1}}{{if true}}{{$x = 2}}{{end}}{{$x}}", &d),
        "2"
    );
    assert_eq!(
        run("{{$x := 1}}{{if true}}{{$x := 2}}{{$x}}{{end}}{{$x}}", &d),
        "21"
    );
    assert_eq!(run("{{$m := .A}}{{$m.B}}", &d), "ab");
    assert_eq!(run("{{$ := 1}}{{$}}", &d), "1");
}

#[test]
fn conditionals() {
    let d = data();
    assert_eq!(run("{{if .T}}y{{else}}n{{end}}", &d), "y");
    assert_eq!(
        run("{{if .E}}y{{else if .missing}}m{{else}}n{{end}}", &d),
        "n"
    );
    assert_eq!(run("{{if .E}}y{{else if .S}}s{{end}}", &d), "s");
    assert_eq!(
        run("{{with .missing}}x{{else with .S}}{{.}}{{end}}", &d),
        "str"
    );
    assert_eq!(run("{{with .E}}x{{else}}empty{{end}}", &d), "empty");
    assert_eq!(
        run(
            "{{if and .T .S}}{{and 1 0 2}}{{end}} {{or 0 \"\" 3}} {{or 0 \"\"}} {{not .T}}",
            &d
        ),
        "0 3  false"
    );
    // and/or short-circuit: the erroring call is never evaluated.
    assert_eq!(run("{{if or .T (index .L 99)}}ok{{end}}", &d), "ok");
    assert_eq!(run("{{and .T .S | printf \"%s\"}}", &d), "str");
}

#[test]
fn ranges() {
    let d = data();
    assert_eq!(run("{{range .L}}{{.}},{{end}}", &d), "1,2,3,");
    assert_eq!(
        run("{{range $i, $v := .L}}{{$i}}:{{$v}} {{end}}", &d),
        "0:1 1:2 2:3 "
    );
    assert_eq!(
        run("{{range $k, $v := .M}}{{$k}}={{$v}} {{end}}", &d),
        "a=1 m=13 z=26 "
    );
    assert_eq!(run("{{range $v := .M}}{{$v}} {{end}}", &d), "1 13 26 ");
    assert_eq!(run("{{range .E}}x{{else}}none{{end}}", &d), "none");
    assert_eq!(run("{{range .missing}}x{{else}}nil{{end}}", &d), "nil");
    assert_eq!(
        run(
            "{{range .L}}{{if eq . 2}}{{continue}}{{end}}{{.}}{{end}}",
            &d
        ),
        "13"
    );
    assert_eq!(
        run("{{range .L}}{{if eq . 2}}{{break}}{{end}}{{.}}{{end}}", &d),
        "1"
    );
    assert_eq!(run("{{range 3}}{{.}}{{end}}", &d), "012");
    assert_eq!(
        run(
            "{{range $i, $e := .L}}{{range $.L}}{{$i}}{{end}}{{end}}",
            &d
        ),
        "000111222"
    );
    assert_eq!(
        err("{{range .S}}x{{end}}", &d),
        "template: t:1:8: executing \"t\" at <{{range .S}}x{{end}}>: range can't iterate over str"
    );
}

#[test]
fn templates_define_block() {
    let d = data();
    assert_eq!(
        run(
            "{{define \"x\"}}[{{.}}]{{end}}{{template \"x\" .S}}{{template \"x\"}}",
            &d
        ),
        "[str][<no value>]"
    );
    assert_eq!(run("{{block \"b\" .A}}{{.B}}{{end}}", &d), "ab");
    // Variables are not inherited by template calls.
    assert!(
        run_with("{{$x := 1}}{{define \"y\"}}{{$x}}{{end}}", &d, vec![])
            .unwrap_err()
            .contains("undefined variable \"$x\"")
    );
    let mut t = Template::new("root");
    t.parse("{{define \"a\"}}A1{{end}}{{template \"a\"}}")
        .unwrap();
    t.parse_named("second", "{{define \"a\"}}A2{{end}}")
        .unwrap();
    assert_eq!(t.execute("root", &Value::Nil).unwrap(), "A2");
    assert!(t.lookup("a") && t.lookup("second") && !t.lookup("zz"));
    // An empty redefinition does not replace.
    t.parse_named("third", "{{define \"a\"}}{{end}}").unwrap();
    assert_eq!(t.execute("a", &Value::Nil).unwrap(), "A2");
    assert_eq!(
        t.execute("nope", &Value::Nil).unwrap_err().to_string(),
        "template: no template \"nope\" associated with template \"root\""
    );
    assert!(err("{{template \"zz\"}}", &d).contains("template \"zz\" not defined"));
    let deep = run_with(
        "{{define \"r\"}}{{template \"r\" .}}{{end}}{{template \"r\" .}}",
        &d,
        vec![],
    )
    .unwrap_err();
    assert!(deep.contains("exceeded maximum template depth"), "{deep}");
}

#[test]
fn builtin_functions_in_templates() {
    let d = data();
    assert_eq!(
        run(
            "{{len .L}} {{len .S}} {{len .M}} {{index .L 1}} {{index .M \"z\"}} {{slice .S 1 2}}",
            &d
        ),
        "3 3 3 2 26 t"
    );
    assert_eq!(
        run(
            "{{print 1 2 \"a\" 3}}|{{println .S 1}}|{{printf \"%05.1f %q\" .F .S}}",
            &d
        ),
        "1 2a3|str 1\n|001.5 \"str\""
    );
    assert_eq!(
        run(
            "{{html \"<a>\"}} {{js \"it's\"}} {{urlquery \"a b\"}} {{\"<b>\" | html}}",
            &d
        ),
        "&lt;a&gt; it\\'s a+b &lt;b&gt;"
    );
    assert_eq!(run("{{eq .S \"x\" \"str\"}} {{ne 1 2}} {{lt 1 2}} {{le 2 2}} {{gt \"b\" \"a\"}} {{ge 1.5 2.5}}", &d), "true true true true true false");
    assert_eq!(run("{{.S | printf \"%s-%s\" \"x\"}}", &d), "x-str");
    let add: Func = func(|a| {
        Ok(Value::Int(
            a.iter()
                .filter_map(|v| {
                    if let Value::Int(i) = v {
                        Some(*i)
                    } else {
                        None
                    }
                })
                .sum(),
        ))
    });
    let d2 = Value::map([("f", Value::Func(add.clone()))]);
    assert_eq!(run_with("{{call .f 1 2}}", &d2, vec![]).unwrap(), "3");
    assert_eq!(
        run_with("{{add 1 2 | add 3}}", &d2, vec![("add", add)]).unwrap(),
        "6"
    );
    assert!(err("{{call .S}}", &d).contains("non-function .S of type string"));
}

#[test]
fn go_error_messages() {
    let d = data();
    assert_eq!(err("{{index .L 5}}", &d), "template: t:1:2: executing \"t\" at <index .L 5>: error calling index: index out of range: 5");
    assert_eq!(
        err("{{.S.x}}", &d),
        "template: t:1:2: executing \"t\" at <.S.x>: can't evaluate field x in type string"
    );
    assert_eq!(err("x\n  {{ eq .F 1 }}", &d), "template: t:2:5: executing \"t\" at <eq .F 1>: error calling eq: incompatible types for comparison");
    assert_eq!(
        err("{{.A 1}}", &d),
        "template: t:1:2: executing \"t\" at <.A>: A is not a method but has arguments"
    );
    assert_eq!(
        err("{{nil}}", &d),
        "template: t:1:2: executing \"t\" at <nil>: nil is not a command"
    );
    assert_eq!(
        err("{{1 2}}", &d),
        "template: t:1:2: executing \"t\" at <1 2>: can't give argument to non-function 1"
    );
    assert_eq!(
        err("{{len 3}}", &d),
        "template: t:1:2: executing \"t\" at <len 3>: error calling len: len of type int"
    );
    assert_eq!(
        err("{{ .S | undefinedfn }}", &d),
        "template: t:1: function \"undefinedfn\" not defined"
    );
    let mut t = Template::new("t").missing_key(MissingKey::Error);
    t.parse("{{.nope}}").unwrap();
    assert_eq!(
        t.execute("t", &data()).unwrap_err().to_string(),
        "template: t:1:2: executing \"t\" at <.nope>: map has no entry for key \"nope\""
    );
}

#[test]
fn missing_key_zero_for_string_maps() {
    let labels: BTreeMap<String, String> = [("job".to_string(), "x".to_string())].into();
    let d = Value::map([
        ("Labels", Value::from(labels)),
        ("Any", Value::map([("n", 1)])),
    ]);
    let mut t = Template::new("t").missing_key(MissingKey::Zero);
    t.parse("[{{.Labels.nope}}][{{.Any.nope}}]").unwrap();
    assert_eq!(t.execute("t", &d).unwrap(), "[][<no value>]");
}

#[test]
fn html_mode() {
    let d = Value::map([
        ("x", Value::from("<b>\"O'Neil\" & co</b>")),
        ("u", Value::from("javascript:x")),
    ]);
    let mut t = Template::new("t").html(true);
    t.parse("<p title=\"{{.x}}\">{{.x}}</p><a href=\"{{.u}}\">l</a><!-- {{.x}} -->{{.nope}}")
        .unwrap();
    assert_eq!(
        t.execute("t", &d).unwrap(),
        "<p title=\"&lt;b&gt;&#34;O&#39;Neil&#34; &amp; co&lt;/b&gt;\">&lt;b&gt;&#34;O&#39;Neil&#34; &amp; co&lt;/b&gt;</p><a href=\"#ZgotmplZ\">l</a>"
    );
    // Context carries into called templates.
    let mut t = Template::new("t").html(true);
    t.parse("{{define \"v\"}}{{.}}{{end}}<a title='{{template \"v\" \"a b\"}}'>")
        .unwrap();
    assert_eq!(t.execute("t", &Value::Nil).unwrap(), "<a title='a b'>");
}

#[test]
fn execute_text_uses_set_definitions() {
    let mut t = Template::new("set");
    t.parse("{{define \"greet\"}}hi {{.}}{{end}}").unwrap();
    assert_eq!(
        t.execute_text("{{template \"greet\" .}}!", &Value::from("bob"))
            .unwrap(),
        "hi bob!"
    );
    assert_eq!(t.execute_text("", &Value::Nil).unwrap(), "");
}

#[test]
fn no_panics_on_garbage() {
    let inputs = [
        "{{",
        "}}",
        "{{{{",
        "{{.}",
        "{{ ( }}",
        "{{ ) }}",
        "{{ $ }}",
        "{{ $x := }}",
        "{{range}}",
        "{{if}}{{end}}",
        "{{else}}",
        "{{define}}",
        "{{define \"a\"}}",
        "{{template}}",
        "{{block \"a\"}}{{end}}",
        "{{ 'ab' }}",
        "{{ \"\\z\" }}",
        "{{ 0x }}",
        "{{ 1e }}",
        "{{ .a.b.c.d | len | printf }}",
        "{{/*",
        "{{- -}}",
        "{{ .. }}",
        "{{ $.}}",
        "{{ break }}",
        "\u{0}{{\u{0}}}",
    ];
    let mut inputs: Vec<String> = inputs.iter().map(|s| s.to_string()).collect();
    inputs.push("{{(".repeat(5000));
    inputs.push("{{if 1}}".repeat(5000));
    inputs.push(format!(
        "{}1{}",
        "{{".to_string() + &"(".repeat(150),
        ")".repeat(150) + "}}"
    ));
    for s in &inputs {
        let _ = run_with(s, &data(), vec![]);
    }
}

#[test]
fn structs_reject_unknown_fields() {
    let d = Value::Struct([("A".to_string(), Value::from(1))].into());
    assert_eq!(run("{{.A}} {{.}}", &d), "1 {1}");
    assert_eq!(
        err("{{.B}}", &d),
        "template: t:1:2: executing \"t\" at <.B>: can't evaluate field B in type struct"
    );
    assert_eq!(
        err("{{.A 1}}", &d),
        "template: t:1:2: executing \"t\" at <.A>: A is not a method but has arguments"
    );
}
