//! `/api/v1/parse_query`: the AST as the JSON tree the Prometheus UI's tree view reads
//! (`web/api/v1/translate_ast.go`). Go writes these maps with sorted keys, which is what
//! `serde_json::Map` (a `BTreeMap`) gives too.

use serde_json::{json, Value as Json};

use super::envelope::{invalid_param, success, ApiResult};
use super::params::Params;
use crate::parser::{parse, AtModifier, Card, DurationParam, Expr, ValueType, VectorSelector};

/// `GET|POST /api/v1/parse_query?query=…`.
pub async fn parse_query(p: Params) -> ApiResult {
    let expr = parse(p.get("query")).map_err(|e| invalid_param("query", &e.message))?;
    success(&translate(&expr))
}

fn ms(d: &DurationParam) -> i64 {
    // Duration expressions depending on the query's step or range resolve to 0 here, as
    // they have no value before evaluation.
    d.resolve(0, 0)
}

fn at_fields(at: &Option<AtModifier>) -> (Json, Json) {
    match at {
        Some(AtModifier::At(t)) => (json!(t), Json::Null),
        Some(AtModifier::Start) => (Json::Null, json!("start")),
        Some(AtModifier::End) => (Json::Null, json!("end")),
        None => (Json::Null, Json::Null),
    }
}

fn matchers(vs: &VectorSelector) -> Json {
    Json::Array(
        vs.matchers
            .iter()
            .map(|m| json!({"name": m.name, "value": m.value, "type": m.op.as_str()}))
            .collect(),
    )
}

fn value_type(t: ValueType) -> &'static str {
    t.api_name()
}

fn card(c: Card) -> &'static str {
    match c {
        Card::OneToOne => "one-to-one",
        Card::ManyToOne => "many-to-one",
        Card::OneToMany => "one-to-many",
        Card::ManyToMany => "many-to-many",
    }
}

/// Go's `strconv.FormatFloat(v, 'f', -1, 64)`.
fn format_f(v: f64) -> String {
    let mut s = String::new();
    argus_model::gofloat::write_f(v, &mut s);
    s
}

/// The tree for one node.
pub fn translate(e: &Expr) -> Json {
    match e {
        Expr::Aggregate(a) => json!({
            "type": "aggregation",
            "op": a.op.as_str(),
            "expr": translate(&a.expr),
            "param": a.param.as_deref().map_or(Json::Null, translate),
            "grouping": a.grouping,
            "without": a.without,
        }),
        Expr::Binary(b) => {
            let matching = b.matching.as_ref().map_or(Json::Null, |m| {
                json!({
                    "card": card(m.card),
                    "labels": m.matching_labels,
                    "on": m.on,
                    "include": m.include,
                    "fillValues": {"lhs": m.fill_lhs, "rhs": m.fill_rhs},
                })
            });
            json!({
                "type": "binaryExpr",
                "op": b.op.as_str(),
                "lhs": translate(&b.lhs),
                "rhs": translate(&b.rhs),
                "matching": matching,
                "bool": b.return_bool,
            })
        }
        Expr::Call(c) => json!({
            "type": "call",
            "func": {
                "name": c.func.name,
                "argTypes": c.func.arg_types.iter().map(|t| value_type(*t)).collect::<Vec<_>>(),
                "variadic": c.func.variadic,
                "returnType": value_type(c.func.return_type),
            },
            "args": c.args.iter().map(translate).collect::<Vec<_>>(),
        }),
        Expr::MatrixSelector(m) => {
            let (timestamp, start_or_end) = at_fields(&m.vs.at);
            json!({
                "type": "matrixSelector",
                "name": m.vs.name,
                "range": ms(&m.range),
                "offset": ms(&m.vs.offset),
                "matchers": matchers(&m.vs),
                "timestamp": timestamp,
                "startOrEnd": start_or_end,
                "anchored": m.vs.anchored,
                "smoothed": m.vs.smoothed,
            })
        }
        Expr::Subquery(s) => {
            let (timestamp, start_or_end) = at_fields(&s.at);
            json!({
                "type": "subquery",
                "expr": translate(&s.expr),
                "range": ms(&s.range),
                "offset": ms(&s.offset),
                "step": ms(&s.step),
                "timestamp": timestamp,
                "startOrEnd": start_or_end,
                "alignEvalTime": false,
            })
        }
        Expr::NumberLiteral(n) => json!({"type": "numberLiteral", "val": format_f(n.val)}),
        Expr::Paren(p) => json!({"type": "parenExpr", "expr": translate(&p.expr)}),
        Expr::StringLiteral(s) => json!({"type": "stringLiteral", "val": s.val}),
        Expr::Unary(u) => json!({
            "type": "unaryExpr",
            "op": if u.neg { "-" } else { "+" },
            "expr": translate(&u.expr),
        }),
        Expr::VectorSelector(vs) => {
            let (timestamp, start_or_end) = at_fields(&vs.at);
            json!({
                "type": "vectorSelector",
                "name": vs.name,
                "offset": ms(&vs.offset),
                "matchers": matchers(vs),
                "timestamp": timestamp,
                "startOrEnd": start_or_end,
                "anchored": vs.anchored,
                "smoothed": vs.smoothed,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::json_codec::to_vec;

    fn tree(q: &str) -> String {
        String::from_utf8(to_vec(&translate(&parse(q).unwrap())).unwrap()).unwrap()
    }

    #[test]
    fn selectors_and_modifiers() {
        assert_eq!(
            tree(r#"up{job="a<b"} offset 5m"#),
            r#"{"anchored":false,"matchers":[{"name":"job","type":"=","value":"a\u003cb"},{"name":"__name__","type":"=","value":"up"}],"name":"up","offset":300000,"smoothed":false,"startOrEnd":null,"timestamp":null,"type":"vectorSelector"}"#
        );
        assert_eq!(
            tree("rate(x[5m] @ start())"),
            r#"{"args":[{"anchored":false,"matchers":[{"name":"__name__","type":"=","value":"x"}],"name":"x","offset":0,"range":300000,"smoothed":false,"startOrEnd":"start","timestamp":null,"type":"matrixSelector"}],"func":{"argTypes":["matrix"],"name":"rate","returnType":"vector","variadic":0},"type":"call"}"#
        );
        assert_eq!(
            tree("max_over_time((-x)[1h:1m] @ 100)"),
            r#"{"args":[{"alignEvalTime":false,"expr":{"expr":{"expr":{"anchored":false,"matchers":[{"name":"__name__","type":"=","value":"x"}],"name":"x","offset":0,"smoothed":false,"startOrEnd":null,"timestamp":null,"type":"vectorSelector"},"op":"-","type":"unaryExpr"},"type":"parenExpr"},"offset":0,"range":3600000,"startOrEnd":null,"step":60000,"timestamp":100000,"type":"subquery"}],"func":{"argTypes":["matrix"],"name":"max_over_time","returnType":"vector","variadic":0},"type":"call"}"#
        );
    }

    #[test]
    fn operators_and_literals() {
        assert_eq!(
            tree(r#"sum by (job) (a) / on (job) group_left (x) b > bool 1.5"#),
            r#"{"bool":true,"lhs":{"bool":false,"lhs":{"expr":{"anchored":false,"matchers":[{"name":"__name__","type":"=","value":"a"}],"name":"a","offset":0,"smoothed":false,"startOrEnd":null,"timestamp":null,"type":"vectorSelector"},"grouping":["job"],"op":"sum","param":null,"type":"aggregation","without":false},"matching":{"card":"many-to-one","fillValues":{"lhs":null,"rhs":null},"include":["x"],"labels":["job"],"on":true},"op":"/","rhs":{"anchored":false,"matchers":[{"name":"__name__","type":"=","value":"b"}],"name":"b","offset":0,"smoothed":false,"startOrEnd":null,"timestamp":null,"type":"vectorSelector"},"type":"binaryExpr"},"matching":null,"op":"\u003e","rhs":{"type":"numberLiteral","val":"1.5"},"type":"binaryExpr"}"#
        );
        assert_eq!(
            tree("topk(3, x)"),
            r#"{"expr":{"anchored":false,"matchers":[{"name":"__name__","type":"=","value":"x"}],"name":"x","offset":0,"smoothed":false,"startOrEnd":null,"timestamp":null,"type":"vectorSelector"},"grouping":[],"op":"topk","param":{"type":"numberLiteral","val":"3"},"type":"aggregation","without":false}"#
        );
        assert_eq!(
            tree(r#""a\"b""#),
            r#"{"type":"stringLiteral","val":"a\"b"}"#
        );
        assert_eq!(
            tree("1 + Inf"),
            r#"{"bool":false,"lhs":{"type":"numberLiteral","val":"1"},"matching":null,"op":"+","rhs":{"type":"numberLiteral","val":"+Inf"},"type":"binaryExpr"}"#
        );
    }
}
