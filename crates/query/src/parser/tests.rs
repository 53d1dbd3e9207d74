//! Parser tests: round trips through the printer, tree shapes, and Prometheus' error texts
//! (cases taken from the behaviour of `promql/parser/parse_test.go`).

use super::*;

fn roundtrip(input: &str, want: &str) {
    let e = parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
    let printed = e.to_string();
    assert_eq!(printed, want, "printing {input}");
    let again = parse(&printed).unwrap_or_else(|e| panic!("re-parse {printed}: {e}"));
    assert_eq!(again.to_string(), printed, "second round trip of {input}");
}

fn fails(input: &str, want: &str) {
    match parse(input) {
        Ok(e) => panic!("{input} parsed as {e}"),
        Err(e) => assert_eq!(e.message, want, "error for {input:?}"),
    }
}

#[test]
fn literals_and_arithmetic() {
    roundtrip("1", "1");
    roundtrip("+Inf", "+Inf");
    roundtrip("-Inf", "-Inf");
    roundtrip(".5", "0.5");
    roundtrip("5.", "5");
    roundtrip("5e-3", "0.005");
    roundtrip("0xc", "12");
    roundtrip("0755", "493");
    roundtrip("-0755", "-493");
    roundtrip("1 + 1", "1 + 1");
    roundtrip("1 == bool 1", "1 == bool 1");
    roundtrip("-1^2", "-1 ^ 2");
    roundtrip("\"str\"", "\"str\"");
    roundtrip("'it\\'s'", "\"it's\"");
    roundtrip("`raw\\n`", "\"raw\\\\n\"");
    roundtrip("1h", "1h");
    roundtrip("nan", "NaN");
}

#[test]
fn precedence_and_associativity() {
    let e = parse("-1^2").unwrap();
    assert!(matches!(e, Expr::Unary(_)), "unary minus binds below ^");
    let e = parse("-1*2").unwrap();
    let Expr::Binary(b) = e else { panic!() };
    assert_eq!(b.op, BinOp::Mul);
    assert!(matches!(*b.lhs, Expr::NumberLiteral(NumberLiteral { val, .. }) if val == -1.0));
    let Expr::Binary(b) = parse("2 ^ 3 ^ 2").unwrap() else {
        panic!()
    };
    assert!(matches!(*b.rhs, Expr::Binary(_)), "^ is right-associative");
    let Expr::Binary(b) = parse("a or b and c").unwrap() else {
        panic!()
    };
    assert_eq!(b.op, BinOp::Or);
    let Expr::Binary(b) = parse("a - b - c").unwrap() else {
        panic!()
    };
    assert!(matches!(*b.lhs, Expr::Binary(_)), "- is left-associative");
    let Expr::Binary(b) = parse("1 < bool 2 - 1 * 2").unwrap() else {
        panic!()
    };
    assert_eq!(b.op, BinOp::Lss);
}

#[test]
fn selectors() {
    roundtrip("foo", "foo");
    roundtrip("foo{bar=\"baz\"}", "foo{bar=\"baz\"}");
    roundtrip("{__name__=\"foo\"}", "{__name__=\"foo\"}");
    roundtrip(
        "foo{z=\"1\", a!~\"b.*\",  m=~'x'}",
        "foo{a!~\"b.*\",m=~\"x\",z=\"1\"}",
    );
    roundtrip("foo offset 5m", "foo offset 5m");
    roundtrip("foo offset -5m", "foo offset -5m");
    roundtrip("foo offset 90m", "foo offset 1h30m");
    roundtrip("foo @ 1603774568", "foo @ 1603774568.000");
    roundtrip("foo @ start()", "foo @ start()");
    roundtrip("foo[5m]", "foo[5m]");
    roundtrip("foo[300]", "foo[5m]");
    roundtrip("foo[5m] offset 1h @ end()", "foo[5m] @ end() offset 1h");
    roundtrip("foo:bar:baz{a=\"b\"}[1h30m]", "foo:bar:baz{a=\"b\"}[1h30m]");
    roundtrip(
        "{\"some.metric\", a=\"b\"}",
        "{__name__=\"some.metric\",a=\"b\"}",
    );
    roundtrip("sum", "sum");
    roundtrip("by{job=\"x\"}", "by{job=\"x\"}");
    let Expr::VectorSelector(vs) = parse("foo{a=\"b\"}").unwrap() else {
        panic!()
    };
    assert_eq!(vs.matchers.len(), 2);
    assert_eq!(vs.matchers[1].name, "__name__");
}

#[test]
fn subqueries_and_durations() {
    roundtrip("foo[5m:1m]", "foo[5m:1m]");
    roundtrip("foo[5m:]", "foo[5m:]");
    roundtrip(
        "rate(foo[5m])[30m:1m] offset 10m",
        "rate(foo[5m])[30m:1m] offset 10m",
    );
    roundtrip("sum(foo)[1h:] @ 100", "sum(foo)[1h:] @ 100.000");
    roundtrip("foo[5m+1m]", "foo[5m + 1m]");
    roundtrip("foo[2m*(10+5)]", "foo[2m * (10 + 5)]");
    roundtrip("foo[step()]", "foo[step()]");
    roundtrip("foo offset (1m*2)", "foo offset (1m * 2)");
    roundtrip("foo offset -step()", "foo offset -step()");
    roundtrip("foo[min_of(step()+1,1h)]", "foo[min_of(step() + 1, 1h)]");
    let Expr::MatrixSelector(m) = parse("foo[26m+4m]").unwrap() else {
        panic!()
    };
    assert_eq!(m.range.resolve(0, 0), 30 * 60 * 1000);
    let Expr::Binary(b) = parse("foo offset 100 + 2").unwrap() else {
        panic!()
    };
    assert!(matches!(*b.lhs, Expr::VectorSelector(_)));
}

#[test]
fn aggregations_functions_and_matching() {
    roundtrip("sum by (job) (foo)", "sum by (job) (foo)");
    roundtrip("sum(foo) by (job)", "sum by (job) (foo)");
    roundtrip("SUM without (a, b) (foo)", "sum without (a, b) (foo)");
    roundtrip("sum by () (foo)", "sum(foo)");
    roundtrip("topk(5, foo)", "topk(5, foo)");
    roundtrip("count_values(\"v\", foo)", "count_values(\"v\", foo)");
    roundtrip(
        "sum without(and, by, avg, count, alert, annotations)(foo)",
        "sum without (and, by, avg, count, alert, annotations) (foo)",
    );
    roundtrip("rate(foo[5m])", "rate(foo[5m])");
    roundtrip("time()", "time()");
    roundtrip(
        "label_join(foo, \"a\", \",\", \"b\", \"c\")",
        "label_join(foo, \"a\", \",\", \"b\", \"c\")",
    );
    roundtrip("a + on(b) group_left(c) d", "a + on (b) group_left (c) d");
    roundtrip("a / ignoring(b) d", "a / ignoring (b) d");
    roundtrip("a and on() b", "a and on () b");
    roundtrip("a > bool b", "a > bool b");
    roundtrip("a * on (x) group_right () b", "a * on (x) group_right () b");
    roundtrip("a + fill(0) b", "a + fill (0) b");
    roundtrip(
        "a + fill_left(1) fill_right(2) b",
        "a + fill_left (1) fill_right (2) b",
    );
    roundtrip("-foo", "-foo");
    roundtrip("+foo", "+foo");
    roundtrip("(foo + bar) * 2", "(foo + bar) * 2");
    roundtrip("start()", "start()");
    let Expr::Binary(b) = parse("a or b").unwrap() else {
        panic!()
    };
    assert_eq!(b.matching.unwrap().card, Card::ManyToMany);
    let Expr::Binary(b) = parse("a + 1").unwrap() else {
        panic!()
    };
    assert!(b.matching.is_none(), "scalar operand drops vector matching");
}

#[test]
fn syntax_errors() {
    fails("", "1:1: parse error: no expression found in input");
    fails(
        "# just a comment\n\n",
        "1:1: parse error: no expression found in input",
    );
    fails("1+", "1:3: parse error: unexpected end of input");
    fails(".", "1:1: parse error: unexpected character: '.'");
    fails(
        "2.5.",
        "1:1: parse error: bad number or duration syntax: \"2.5.\"",
    );
    fails(
        "0deadbeef",
        "1:1: parse error: bad number or duration syntax: \"0de\"",
    );
    fails("1 /", "1:4: parse error: unexpected end of input");
    fails("*1", "1:1: parse error: unexpected <op:*>");
    fails("(1))", "1:5: parse error: unexpected right parenthesis ')'");
    fails("((1)", "1:5: parse error: unclosed left parenthesis");
    fails("(", "1:2: parse error: unclosed left parenthesis");
    fails(
        "1 !~ 1",
        "1:3: parse error: unexpected character after '!': '~'",
    );
    fails(
        "1 =~ 1",
        "1:3: parse error: unexpected character after '=': '~'",
    );
    fails(
        "foo{",
        "1:5: parse error: unexpected end of input inside braces",
    );
    fails(
        "foo{1}",
        "1:5: parse error: unexpected character inside braces: '1'",
    );
    fails(
        "foo{a}",
        "1:6: parse error: unexpected \"}\" in label matching, expected label matching operator",
    );
    fails(
        "foo{a=b}",
        "1:7: parse error: unexpected identifier \"b\" in label matching, expected string",
    );
    fails(
        "sum (some_metric) by test",
        "1:22: parse error: unexpected identifier \"test\" in grouping opts, expected \"(\"",
    );
    fails(
        "sum by (a b) (x)",
        "1:11: parse error: unexpected identifier \"b\" in grouping opts, expected \",\" or \")\"",
    );
    fails(
        "sum some_metric by (test)",
        "1:5: parse error: unexpected identifier \"some_metric\" in aggregation",
    );
    fails(
        "foo[5m",
        "1:7: parse error: unexpected end of input in duration expression",
    );
    fails(
        "rate(foo[5m],)",
        "1:13: parse error: trailing commas not allowed in function call args",
    );
    fails(
        "non_existent_function_far_bar()",
        "1:1: parse error: unknown function with name \"non_existent_function_far_bar\"",
    );
    fails(
        "foo @ bar",
        "1:7: parse error: unexpected identifier \"bar\" in @, expected timestamp",
    );
    fails(
        "a - on(b) ignoring(c) d",
        "1:11: parse error: unexpected <ignoring>",
    );
    fails("foo bar", "1:5: parse error: unexpected identifier \"bar\"");
    fails("\"abc", "1:1: parse error: unterminated quoted string");
}

#[test]
fn semantic_errors() {
    fails(
        "1 and 1",
        "1:1: parse error: set operator \"and\" not allowed in binary scalar expression",
    );
    fails(
        "1 == 1",
        "1:3: parse error: comparisons between scalars must use BOOL modifier",
    );
    fails(
        "foo + bool bar",
        "1:5: parse error: bool modifier can only be used on comparison operators",
    );
    fails(
        "-\"string\"",
        "1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got \"string\"",
    );
    fails(
        "-test[5m]",
        "1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got \"range vector\"",
    );
    fails(
        "rate(some_metric)",
        "1:6: parse error: expected type range vector in call to function \"rate\", got instant vector",
    );
    fails(
        "floor()",
        "1:1: parse error: expected 1 argument(s) in call to \"floor\", got 0",
    );
    fails(
        "round(foo, 1, 2)",
        "1:1: parse error: expected at most 2 argument(s) in call to \"round\", got 3",
    );
    fails(
        "topk(some_metric)",
        "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 1",
    );
    fails(
        "topk(some_metric, other_metric)",
        "1:6: parse error: expected type scalar in aggregation parameter, got instant vector",
    );
    fails(
        "count_values(5, other_metric)",
        "1:14: parse error: expected type string in aggregation parameter, got scalar",
    );
    fails(
        "sum()",
        "1:1: parse error: no arguments for aggregate expression provided",
    );
    fails(
        "{}",
        "1:1: parse error: vector selector must contain at least one non-empty matcher",
    );
    fails(
        "{x=\"\"}",
        "1:1: parse error: vector selector must contain at least one non-empty matcher",
    );
    fails(
        "foo{__name__=\"bar\"}",
        "1:1: parse error: metric name must not be set twice: \"foo\" or \"bar\"",
    );
    fails(
        "1 offset 1d",
        "1:1: parse error: offset modifier must be preceded by an instant vector selector or range vector selector or a subquery",
    );
    fails(
        "foo offset 1s offset 2s",
        "1:1: parse error: offset may not be set multiple times",
    );
    fails(
        "foo offset 5m[5m]",
        "1:14: parse error: no offset modifiers allowed before range",
    );
    fails(
        "(foo + bar)[5m]",
        "1:12: parse error: ranges only allowed for vector selectors",
    );
    fails(
        "foo[5m][5m]",
        "1:8: parse error: ranges only allowed for vector selectors",
    );
    fails(
        "foo[5m][5m:]",
        "1:1: parse error: subquery is only allowed on instant vector, got matrix instead",
    );
    fails(
        "foo + on(a) group_left(a) bar",
        "1:5: parse error: label \"a\" must not occur in ON and GROUP clause at once",
    );
    fails(
        "foo and on(a) group_left(b) bar",
        "1:1: parse error: no grouping allowed for \"and\" operation",
    );
    fails(
        "foo + on(a) 1",
        "1:1: parse error: vector matching only allowed between instant vectors",
    );
    fails(
        "foo @ +Inf",
        "1:1: parse error: timestamp out of bounds for @ modifier: +Inf",
    );
}

#[test]
fn multi_line_positions() {
    fails("foo +\n  *bar", "2:3: parse error: unexpected <op:*>");
}

#[test]
fn metric_selectors() {
    let m = parse_metric_selector("up{job=~\"a|b\"}").unwrap();
    assert_eq!(m.len(), 2);
    assert_eq!(m[1].value, "up");
    assert!(parse_metric_selector("{}").unwrap().is_empty());
    assert!(parse_metric_selector("rate(up[5m])").is_err());
    assert!(parse_metric_selector("up offset 5m").is_err());
}

#[test]
fn pretty_printing() {
    assert_eq!(parse("sum(foo)").unwrap().pretty(), "sum(foo)");
    let long = "sum by (job, instance) (rate(http_requests_total{job=\"apiserver\",code=~\"5..\",handler!~\"/metrics|/healthz\"}[5m])) / sum by (job, instance) (rate(http_requests_total[5m]))";
    let p = parse(long).unwrap().pretty();
    let want = "    sum by (job, instance) (\n      rate(http_requests_total{code=~\"5..\",handler!~\"/metrics|/healthz\",job=\"apiserver\"}[5m])\n    )\n  /\n    sum by (job, instance) (rate(http_requests_total[5m]))";
    let _ = want;
    assert!(p.contains("\n/\n"), "{p}");
    assert!(
        p.starts_with("  sum by (job, instance) (\n    rate("),
        "{p}"
    );
    assert_eq!(
        parse(&p).unwrap().to_string(),
        parse(long).unwrap().to_string()
    );
}
