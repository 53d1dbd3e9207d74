//! The dynamic values templates work on, standing in for Go's `reflect.Value` over the data
//! Prometheus and Alertmanager pass to `text/template`.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use crate::time::GoTime;

/// A template function: receives the evaluated arguments (the piped value last) and returns
/// a value or an error message (shown as `error calling NAME: MESSAGE`, as Go does).
pub type Func = Arc<dyn Fn(&[Value]) -> Result<Value, String> + Send + Sync>;

/// Wraps a closure as a [`Func`].
pub fn func<F>(f: F) -> Func
where
    F: Fn(&[Value]) -> Result<Value, String> + Send + Sync + 'static,
{
    Arc::new(f)
}

/// A value with methods, like a Go named type with a method set (Alertmanager's `KV` with
/// `SortedPairs`/`Names`/`Values`/`Remove`, `Alerts` with `Firing`/`Resolved`).
///
/// `.Name` on an object first looks for a method `Name` and calls it with the receiver
/// (`value`) as the first argument, followed by the call's arguments. Everything else
/// (fields, `range`, `len`, `index`, printing, truth) sees `value`.
#[derive(Clone)]
pub struct Object {
    /// The underlying value (usually a `Map` or a `List`).
    pub value: Box<Value>,
    /// Methods by name; each gets the receiver as `args[0]`.
    pub methods: Arc<BTreeMap<String, Func>>,
}

/// A template value. `Nil` is Go's untyped nil and also what a missing map key evaluates to.
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum Value {
    /// nil / missing.
    #[default]
    Nil,
    /// bool.
    Bool(bool),
    /// int (Go `int`, 64 bit).
    Int(i64),
    /// float64.
    Float(f64),
    /// string.
    String(String),
    /// A slice (`[]interface{}`).
    List(Vec<Value>),
    /// A map with string keys (`map[string]interface{}`), iterated in key order as Go does.
    Map(BTreeMap<String, Value>),
    /// A struct: like a map for field access, but a missing field is an error (`can't
    /// evaluate field X in type struct`), as with the structs Prometheus and Alertmanager
    /// pass to templates. Printed as `{v1 v2 ...}` in field-name order.
    Struct(BTreeMap<String, Value>),
    /// `time.Time`.
    Time(GoTime),
    /// `time.Duration`, nanoseconds.
    Duration(i64),
    /// `html/template.HTML`: trusted markup, not escaped in html mode.
    Html(String),
    /// A function value (for `call`).
    Func(Func),
    /// A value with methods.
    Object(Object),
}

impl Value {
    /// Go's `template.IsTrue`: false, 0, nil, and empty strings/lists/maps are false.
    pub fn truth(&self) -> bool {
        match self {
            Value::Nil => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::String(s) | Value::Html(s) => !s.is_empty(),
            Value::List(l) => !l.is_empty(),
            Value::Map(m) => !m.is_empty(),
            Value::Time(_) | Value::Func(_) | Value::Struct(_) => true,
            Value::Duration(d) => *d != 0,
            Value::Object(o) => o.value.truth(),
        }
    }

    /// The Go type name used in error messages and `%!v(type=...)` output.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Nil => "<nil>",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float64",
            Value::String(_) => "string",
            Value::List(_) => "[]interface {}",
            Value::Map(_) => "map[string]interface {}",
            Value::Struct(_) => "struct",
            Value::Time(_) => "time.Time",
            Value::Duration(_) => "time.Duration",
            Value::Html(_) => "template.HTML",
            Value::Func(_) => "func(...)",
            Value::Object(o) => o.value.type_name(),
        }
    }

    /// Strips an [`Object`] wrapper.
    pub fn base(&self) -> &Value {
        match self {
            Value::Object(o) => o.value.base(),
            v => v,
        }
    }

    /// The string inside a `String` or `Html` value.
    pub fn as_str(&self) -> Option<&str> {
        match self.base() {
            Value::String(s) | Value::Html(s) => Some(s),
            _ => None,
        }
    }

    /// A number as f64 (ints, floats, durations in seconds are not converted here).
    pub fn as_f64(&self) -> Option<f64> {
        match self.base() {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            _ => None,
        }
    }

    /// Builds a map value from pairs.
    pub fn map<K: Into<String>, V: Into<Value>>(pairs: impl IntoIterator<Item = (K, V)>) -> Value {
        Value::Map(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }

    /// Field / key lookup on a map (through objects).
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self.base() {
            Value::Map(m) | Value::Struct(m) => m.get(key),
            _ => None,
        }
    }

    /// The zero value of a map's element type, approximating Go's typed maps: a map whose
    /// values are all strings (like `map[string]string` label sets) yields `""`, else nil.
    pub(crate) fn map_zero(m: &BTreeMap<String, Value>) -> Value {
        if m.values().all(|v| matches!(v, Value::String(_))) {
            Value::String(String::new())
        } else {
            Value::Nil
        }
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Nil => f.write_str("Nil"),
            Value::Bool(b) => write!(f, "Bool({b})"),
            Value::Int(i) => write!(f, "Int({i})"),
            Value::Float(x) => write!(f, "Float({x})"),
            Value::String(s) => write!(f, "String({s:?})"),
            Value::List(l) => f.debug_tuple("List").field(l).finish(),
            Value::Map(m) => f.debug_tuple("Map").field(m).finish(),
            Value::Struct(m) => f.debug_tuple("Struct").field(m).finish(),
            Value::Time(t) => write!(f, "Time({t})"),
            Value::Duration(d) => write!(f, "Duration({d}ns)"),
            Value::Html(s) => write!(f, "Html({s:?})"),
            Value::Func(_) => f.write_str("Func"),
            Value::Object(o) => write!(f, "Object({:?})", o.value),
        }
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Value::Nil, Value::Nil) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Int(a), Value::Int(b)) => a == b,
            (Value::Float(a), Value::Float(b)) => a == b,
            (Value::String(a), Value::String(b)) | (Value::Html(a), Value::Html(b)) => a == b,
            (Value::List(a), Value::List(b)) => a == b,
            (Value::Map(a), Value::Map(b)) | (Value::Struct(a), Value::Struct(b)) => a == b,
            (Value::Time(a), Value::Time(b)) => a == b,
            (Value::Duration(a), Value::Duration(b)) => a == b,
            (Value::Func(a), Value::Func(b)) => Arc::ptr_eq(a, b),
            (Value::Object(a), Value::Object(b)) => a.value == b.value,
            _ => false,
        }
    }
}

/// `%v` formatting as Go's `fmt.Sprint` of a single value.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::gofmt::sprint(std::slice::from_ref(self)))
    }
}

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Self {
                Value::Int(v as i64)
            }
        }
    )*};
}
from_int!(i8, i16, i32, i64, u8, u16, u32);

impl From<u64> for Value {
    fn from(v: u64) -> Self {
        Value::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}
impl From<usize> for Value {
    fn from(v: usize) -> Self {
        Value::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}
impl From<f32> for Value {
    fn from(v: f32) -> Self {
        Value::Float(f64::from(v))
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::String(v.to_owned())
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::String(v)
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::String(v.clone())
    }
}
impl From<GoTime> for Value {
    fn from(v: GoTime) -> Self {
        Value::Time(v)
    }
}
impl From<Object> for Value {
    fn from(v: Object) -> Self {
        Value::Object(v)
    }
}
impl From<std::time::Duration> for Value {
    fn from(v: std::time::Duration) -> Self {
        Value::Duration(i64::try_from(v.as_nanos()).unwrap_or(i64::MAX))
    }
}
impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(v: Vec<T>) -> Self {
        Value::List(v.into_iter().map(Into::into).collect())
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Nil, Into::into)
    }
}
impl<K: Into<String>, T: Into<Value>> From<BTreeMap<K, T>> for Value {
    fn from(m: BTreeMap<K, T>) -> Self {
        Value::Map(m.into_iter().map(|(k, v)| (k.into(), v.into())).collect())
    }
}
impl<K: Into<String>, T: Into<Value>, S> From<HashMap<K, T, S>> for Value {
    fn from(m: HashMap<K, T, S>) -> Self {
        Value::Map(m.into_iter().map(|(k, v)| (k.into(), v.into())).collect())
    }
}
impl From<serde_json::Value> for Value {
    fn from(v: serde_json::Value) -> Self {
        match v {
            serde_json::Value::Null => Value::Nil,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            serde_json::Value::String(s) => Value::String(s),
            serde_json::Value::Array(a) => Value::List(a.into_iter().map(Value::from).collect()),
            serde_json::Value::Object(o) => {
                Value::Map(o.into_iter().map(|(k, v)| (k, Value::from(v))).collect())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truth_like_go() {
        assert!(!Value::Nil.truth());
        assert!(!Value::from("").truth());
        assert!(Value::from("x").truth());
        assert!(!Value::from(0).truth());
        assert!(!Value::from(0.0).truth());
        assert!(!Value::List(vec![]).truth());
        assert!(Value::Time(GoTime::from_unix_ms(0)).truth());
    }

    #[test]
    fn json_conversion() {
        let v: Value = serde_json::json!({"a": [1, 2.5, "x", null, true]}).into();
        let Value::Map(m) = v else { panic!() };
        assert_eq!(
            m["a"],
            Value::List(vec![
                Value::Int(1),
                Value::Float(2.5),
                Value::from("x"),
                Value::Nil,
                Value::Bool(true)
            ])
        );
    }

    #[test]
    fn string_map_zero_is_empty_string() {
        let m: BTreeMap<String, Value> = [("a".to_string(), Value::from("b"))].into();
        assert_eq!(Value::map_zero(&m), Value::from(""));
        let m: BTreeMap<String, Value> = [("a".to_string(), Value::from(1))].into();
        assert_eq!(Value::map_zero(&m), Value::Nil);
    }
}
