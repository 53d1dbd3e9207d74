//! The predefined global functions of `text/template` (`and`, `or` and `call` are evaluated
//! by the executor because they need unevaluated arguments or node names).

use std::cmp::Ordering;

use crate::escape::{args_string, html_escape_string, js_escape_string, url_query_escape};
use crate::gofmt::{sprint, sprintf, sprintln};
use crate::value::Value;

type Builtin = fn(&[Value]) -> Result<Value, String>;

/// Looks up a builtin that takes evaluated arguments.
pub(crate) fn builtin(name: &str) -> Option<Builtin> {
    Some(match name {
        "not" => not,
        "len" => len,
        "index" => index,
        "slice" => slice,
        "print" => |a| Ok(Value::String(sprint(a))),
        "println" => |a| Ok(Value::String(sprintln(a))),
        "printf" => printf,
        "html" => |a| Ok(Value::String(html_escape_string(&args_string(a)))),
        "js" => |a| Ok(Value::String(js_escape_string(&args_string(a)))),
        "urlquery" => |a| Ok(Value::String(url_query_escape(&args_string(a)))),
        "eq" => eq,
        "ne" => |a| {
            let [x, y] = a else {
                return Err(format!(
                    "wrong number of args for ne: want 2 got {}",
                    a.len()
                ));
            };
            Ok(Value::Bool(!eq_values(x, y)?))
        },
        "lt" => |a| cmp_op("lt", a, |o| o == Ordering::Less),
        "le" => |a| cmp_op("le", a, |o| o != Ordering::Greater),
        "gt" => |a| cmp_op("gt", a, |o| o == Ordering::Greater),
        "ge" => |a| cmp_op("ge", a, |o| o != Ordering::Less),
        _ => return None,
    })
}

/// Every builtin name, including the executor's special forms.
pub(crate) fn is_builtin(name: &str) -> bool {
    matches!(name, "and" | "or" | "call") || builtin(name).is_some()
}

fn not(a: &[Value]) -> Result<Value, String> {
    let [x] = a else {
        return Err(format!(
            "wrong number of args for not: want 1 got {}",
            a.len()
        ));
    };
    Ok(Value::Bool(!x.truth()))
}

fn len(a: &[Value]) -> Result<Value, String> {
    let [x] = a else {
        return Err(format!(
            "wrong number of args for len: want 1 got {}",
            a.len()
        ));
    };
    let n = match x.base() {
        Value::String(s) | Value::Html(s) => s.len(),
        Value::List(l) => l.len(),
        Value::Map(m) => m.len(),
        Value::Nil => return Err("len of nil pointer".into()),
        v => return Err(format!("len of type {}", v.type_name())),
    };
    Ok(Value::from(n))
}

fn int_index(v: &Value, what: &str) -> Result<i64, String> {
    match v.base() {
        Value::Int(i) => Ok(*i),
        Value::Nil => Err(format!("cannot {what} with nil")),
        v => Err(format!("cannot {what} with type {}", v.type_name())),
    }
}

fn index(a: &[Value]) -> Result<Value, String> {
    let Some((item, idx)) = a.split_first() else {
        return Err("wrong number of args for index: want at least 1 got 0".into());
    };
    let mut cur = item.clone();
    for i in idx {
        cur = match cur.base() {
            Value::List(l) => {
                let n = int_index(i, "index slice/array")?;
                usize::try_from(n)
                    .ok()
                    .and_then(|k| l.get(k))
                    .cloned()
                    .ok_or_else(|| format!("index out of range: {n}"))?
            }
            Value::String(s) | Value::Html(s) => {
                let n = int_index(i, "index string")?;
                let b = usize::try_from(n)
                    .ok()
                    .and_then(|k| s.as_bytes().get(k))
                    .ok_or_else(|| format!("index out of range: {n}"))?;
                Value::Int(i64::from(*b))
            }
            Value::Map(m) => {
                let key = match i.base() {
                    Value::String(k) => k,
                    Value::Nil => return Err("value is nil; should be of type string".into()),
                    v => {
                        return Err(format!(
                            "value has type {}; should be string",
                            v.type_name()
                        ))
                    }
                };
                m.get(key).cloned().unwrap_or_else(|| Value::map_zero(m))
            }
            Value::Nil => return Err("index of untyped nil".into()),
            v => return Err(format!("can't index item of type {}", v.type_name())),
        };
    }
    Ok(cur)
}

fn slice(a: &[Value]) -> Result<Value, String> {
    let Some((item, idx)) = a.split_first() else {
        return Err("wrong number of args for slice: want at least 1 got 0".into());
    };
    if idx.len() > 3 {
        return Err(format!("too many slice indexes: {}", idx.len()));
    }
    let len = match item.base() {
        Value::String(s) | Value::Html(s) => {
            if idx.len() == 3 {
                return Err("cannot 3-index slice a string".into());
            }
            s.len()
        }
        Value::List(l) => l.len(),
        Value::Nil => return Err("slice of untyped nil".into()),
        v => return Err(format!("can't slice item of type {}", v.type_name())),
    };
    let mut ix = [0usize, len, len];
    for (k, v) in idx.iter().enumerate() {
        let n = int_index(v, "slice")?;
        let n = usize::try_from(n).map_err(|_| format!("index out of range: {n}"))?;
        if n > len {
            return Err(format!("index out of range: {n}"));
        }
        if let Some(slot) = ix.get_mut(k) {
            *slot = n;
        }
    }
    if ix[0] > ix[1] {
        return Err(format!("invalid slice index: {} > {}", ix[0], ix[1]));
    }
    if idx.len() == 3 && ix[1] > ix[2] {
        return Err(format!("invalid slice index: {} > {}", ix[1], ix[2]));
    }
    Ok(match item.base() {
        Value::String(s) | Value::Html(s) => {
            let b = s.as_bytes().get(ix[0]..ix[1]).unwrap_or_default();
            Value::String(String::from_utf8_lossy(b).into_owned())
        }
        Value::List(l) => Value::List(l.get(ix[0]..ix[1]).unwrap_or_default().to_vec()),
        _ => Value::Nil,
    })
}

fn printf(a: &[Value]) -> Result<Value, String> {
    let Some((f, rest)) = a.split_first() else {
        return Err("wrong number of args for printf: want at least 1 got 0".into());
    };
    let Some(f) = f.as_str() else {
        return Err(format!(
            "wrong type for value; expected string; got {}",
            f.type_name()
        ));
    };
    Ok(Value::String(sprintf(f, rest)))
}

#[derive(PartialEq)]
enum Kind {
    Bool,
    Int,
    Float,
    Str,
    Other,
}

fn kind(v: &Value) -> Kind {
    match v.base() {
        Value::Bool(_) => Kind::Bool,
        Value::Int(_) | Value::Duration(_) => Kind::Int,
        Value::Float(_) => Kind::Float,
        Value::String(_) | Value::Html(_) => Kind::Str,
        _ => Kind::Other,
    }
}

fn int_of(v: &Value) -> i64 {
    match v.base() {
        Value::Int(i) | Value::Duration(i) => *i,
        _ => 0,
    }
}

/// Go's `eq` for one pair.
fn eq_values(a: &Value, b: &Value) -> Result<bool, String> {
    let (ka, kb) = (kind(a), kind(b));
    let a_nil = matches!(a.base(), Value::Nil);
    let b_nil = matches!(b.base(), Value::Nil);
    if ka != kb {
        if a_nil || b_nil {
            return Ok(a_nil && b_nil);
        }
        return Err("incompatible types for comparison".into());
    }
    Ok(match ka {
        Kind::Bool | Kind::Str | Kind::Float => a.base() == b.base(),
        Kind::Int => int_of(a) == int_of(b),
        Kind::Other => match (a.base(), b.base()) {
            (Value::Nil, Value::Nil) => true,
            (Value::Time(x), Value::Time(y)) => x == y,
            (x, _) if matches!(x, Value::List(_) | Value::Map(_) | Value::Func(_)) => {
                let shown = sprint(std::slice::from_ref(x));
                return Err(format!("non-comparable type {shown}: {}", x.type_name()));
            }
            _ => return Err("incompatible types for comparison".into()),
        },
    })
}

fn eq(a: &[Value]) -> Result<Value, String> {
    let Some((first, rest)) = a.split_first() else {
        return Err("wrong number of args for eq: want at least 1 got 0".into());
    };
    if rest.is_empty() {
        return Err("missing argument for comparison".into());
    }
    for b in rest {
        if eq_values(first, b)? {
            return Ok(Value::Bool(true));
        }
    }
    Ok(Value::Bool(false))
}

fn cmp_op(name: &str, a: &[Value], pred: fn(Ordering) -> bool) -> Result<Value, String> {
    let [x, y] = a else {
        return Err(format!(
            "wrong number of args for {name}: want 2 got {}",
            a.len()
        ));
    };
    let (kx, ky) = (kind(x), kind(y));
    if kx == Kind::Other || ky == Kind::Other || kx == Kind::Bool || ky == Kind::Bool {
        return Err("invalid type for comparison".into());
    }
    if kx != ky {
        return Err("incompatible types for comparison".into());
    }
    let ord = match kx {
        Kind::Int => int_of(x).cmp(&int_of(y)),
        Kind::Float => {
            let (p, q) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
            match p.partial_cmp(&q) {
                Some(o) => o,
                // NaN: every comparison but `ne` is false, as in Go.
                None => return Ok(Value::Bool(false)),
            }
        }
        _ => x.as_str().unwrap_or("").cmp(y.as_str().unwrap_or("")),
    };
    Ok(Value::Bool(pred(ord)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &str, a: &[Value]) -> Result<Value, String> {
        builtin(name).unwrap()(a)
    }

    #[test]
    fn comparisons_like_go() {
        assert_eq!(call("eq", &[1.into(), 2.into(), 1.into()]), Ok(true.into()));
        assert_eq!(call("eq", &["a".into(), "b".into()]), Ok(false.into()));
        assert_eq!(
            call("eq", &[1.into(), 1.0.into()]).unwrap_err(),
            "incompatible types for comparison"
        );
        assert_eq!(call("eq", &[Value::Nil, "x".into()]), Ok(false.into()));
        assert_eq!(call("lt", &[1.into(), 2.into()]), Ok(true.into()));
        assert_eq!(call("ge", &["b".into(), "a".into()]), Ok(true.into()));
        assert_eq!(
            call("lt", &[true.into(), false.into()]).unwrap_err(),
            "invalid type for comparison"
        );
        assert_eq!(call("ne", &[1.5.into(), 1.5.into()]), Ok(false.into()));
        assert!(call("eq", &[Value::from(vec![1]), Value::from(vec![1])]).is_err());
    }

    #[test]
    fn index_slice_len() {
        let l = Value::from(vec![10, 20, 30]);
        assert_eq!(call("index", &[l.clone(), 1.into()]), Ok(20.into()));
        assert_eq!(
            call("index", &[l.clone(), 5.into()]).unwrap_err(),
            "index out of range: 5"
        );
        let m = Value::map([("a", "x")]);
        assert_eq!(call("index", &[m.clone(), "a".into()]), Ok("x".into()));
        assert_eq!(call("index", &[m, "zz".into()]), Ok("".into()));
        assert_eq!(
            call("slice", &[l.clone(), 1.into()]),
            Ok(Value::from(vec![20, 30]))
        );
        assert_eq!(
            call("slice", &["hello".into(), 1.into(), 3.into()]),
            Ok("el".into())
        );
        assert_eq!(call("len", &[l]), Ok(3.into()));
        assert_eq!(call("len", &[5.into()]).unwrap_err(), "len of type int");
        assert_eq!(
            call("index", &[Value::Nil, 1.into()]).unwrap_err(),
            "index of untyped nil"
        );
    }

    #[test]
    fn escapers_and_print() {
        assert_eq!(call("html", &["<x>".into()]), Ok("&lt;x&gt;".into()));
        assert_eq!(call("urlquery", &["a b".into()]), Ok("a+b".into()));
        assert_eq!(call("js", &[1.into(), "'".into()]), Ok("1\\'".into()));
        assert_eq!(
            call("printf", &["%d-%s".into(), 1.into(), "a".into()]),
            Ok("1-a".into())
        );
        assert_eq!(call("not", &[0.into()]), Ok(true.into()));
    }
}
