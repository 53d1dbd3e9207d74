//! Parser tests.

use super::*;

fn p(src: &str) -> Result<Parsed, TemplateError> {
    parse("t", src, &|n| n == "f")
}

#[test]
fn numbers() {
    assert_eq!(number_value("1"), Some(Value::Int(1)));
    assert_eq!(number_value("-0x1F"), Some(Value::Int(-31)));
    assert_eq!(number_value("017"), Some(Value::Int(15)));
    assert_eq!(number_value("1e3"), Some(Value::Float(1000.0)));
    assert_eq!(number_value("1_000"), Some(Value::Int(1000)));
    assert_eq!(number_value(".5"), Some(Value::Float(0.5)));
    assert_eq!(number_value("1x"), None);
}

#[test]
fn parse_errors_like_go() {
    let e = |s| p(s).err().map(|e| e.to_string()).unwrap_or_default();
    assert_eq!(e("{{$x}}"), "template: t:1: undefined variable \"$x\"");
    assert_eq!(e("{{g 1}}"), "template: t:1: function \"g\" not defined");
    assert_eq!(e("{{if .}}"), "template: t:1: unexpected EOF");
    assert_eq!(e("{{end}}"), "template: t:1: unexpected {{end}}");
    assert_eq!(e("{{break}}"), "template: t:1: {{break}} outside {{range}}");
    assert_eq!(e("{{}}"), "template: t:1: missing value for command");
    assert_eq!(
        e("{{.x | 1}}"),
        "template: t:1: non executable command in pipeline stage 2"
    );
    assert_eq!(e("\n{{ .x }"), "template: t:2: unclosed action");
    assert_eq!(
        e("{{define \"a\"}}x{{end}}{{define \"a\"}}y{{end}}"),
        "template: t:1: template: multiple definition of template \"a\""
    );
    assert!(
        p("{{if .}}{{$x := 1}}{{end}}{{$x}}").is_err(),
        "scoped variable"
    );
}

#[test]
fn structure() {
    let r = p("{{define \"a\"}}A{{end}}x{{if .a}}1{{else if .b}}2{{else}}3{{end}}{{block \"b\" .}}B{{end}}").unwrap();
    assert_eq!(r.defs.len(), 2);
    assert_eq!(r.root.len(), 3);
    let Node::If(b) = &r.root[1] else { panic!() };
    assert!(matches!(b.else_list.as_deref(), Some([Node::If(_)])));
    let r = p("{{range $i, $v := .}}{{$i}}{{break}}{{end}}").unwrap();
    assert_eq!(r.root.len(), 1);
    let r = p("{{ $x := 1 }}{{ $x = 2 }}{{ (f .a).b | f }}{{ $.x }}").unwrap();
    let Node::Action(pipe) = &r.root[2] else {
        panic!()
    };
    assert_eq!(pipe.to_string(), "(f .a).b | f");
}
