//! `/federate`: the newest sample of every series matching `match[]`, in the Prometheus text
//! exposition format (`web/federate.go`).
//!
//! Samples come from `[now - lookback_delta, now]`; stale markers are left out because the
//! text format cannot carry them. Series are grouped into one `untyped` family per metric
//! name, in name order, and the external labels are appended to every series that lacks
//! them, including `instance=""` so the scraping server does not add its own `instance`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use argus_model::api::write_go_exponent;
use argus_model::{is_stale_nan, Labels, Matcher, SelectHints, METRIC_NAME};
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::envelope::Fail;
use super::exec::blocking;
use super::params::Params;
use super::series::storage_error;
use super::state::ApiState;
use crate::parser::parse_metric_selector;

/// Content type of text format 0.0.4.
pub const TEXT_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A plain-text error as Go's `http.Error` writes it.
fn http_error(status: StatusCode, msg: &str) -> Response {
    let mut r = (status, format!("{msg}\n")).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    r
}

/// `GET /federate?match[]=…`.
pub async fn federate(State(st): State<ApiState>, p: Params) -> Response {
    let mut sets: Vec<Vec<Matcher>> = Vec::new();
    for s in p.all("match[]") {
        match parse_metric_selector(s) {
            Ok(ms) => sets.push(ms),
            Err(e) => return http_error(StatusCode::BAD_REQUEST, &e.message),
        }
    }
    let maxt = (st.now)();
    let mint = maxt.saturating_sub(st.engine.options().lookback_delta_ms);
    let storage = st.storage.clone();
    let latest = blocking(move |_| {
        let q = storage.querier(mint, maxt).map_err(storage_error)?;
        let hints = SelectHints {
            start: mint,
            end: maxt,
            ..SelectHints::default()
        };
        // Several selectors may match the same series; a map merges them in label order.
        let mut latest: BTreeMap<Labels, (i64, f64)> = BTreeMap::new();
        for ms in &sets {
            let mut set = q.select(true, Some(&hints), ms);
            while let Some(s) = set.next() {
                let s = s.map_err(storage_error)?;
                if latest.contains_key(s.labels()) {
                    continue;
                }
                let mut it = s.iterator();
                let mut last = None;
                while it.next() {
                    let smp = it.at();
                    if smp.t > maxt {
                        break;
                    }
                    if smp.t >= mint {
                        last = Some((smp.t, smp.v));
                    }
                }
                if let Some(e) = it.err() {
                    return Err(storage_error(e.clone()));
                }
                if let Some((t, v)) = last {
                    if !is_stale_nan(v) {
                        latest.insert(s.labels().clone(), (t, v));
                    }
                }
            }
        }
        Ok(latest)
    })
    .await;
    let latest = match latest {
        Ok(l) => l,
        Err(Fail(e)) => return http_error(StatusCode::INTERNAL_SERVER_ERROR, &e.message),
    };
    let body = render(latest, &st.external_labels);
    let mut r = body.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(TEXT_CONTENT_TYPE),
    );
    r
}

/// Writes the families. `latest` is in label order, so a stable sort by metric name keeps
/// each family's series sorted.
fn render(latest: BTreeMap<Labels, (i64, f64)>, external: &Labels) -> String {
    let mut samples: Vec<(Labels, i64, f64)> =
        latest.into_iter().map(|(l, (t, v))| (l, t, v)).collect();
    samples.sort_by(|a, b| {
        a.0.get_or_empty(METRIC_NAME)
            .cmp(b.0.get_or_empty(METRIC_NAME))
    });
    let mut ext: Vec<(String, String)> = external
        .iter()
        .map(|l| (l.name.to_owned(), l.value.to_owned()))
        .collect();
    if !ext.iter().any(|(n, _)| n == "instance") {
        ext.push(("instance".to_owned(), String::new()));
        ext.sort();
    }
    let mut out = String::new();
    let mut family: Option<String> = None;
    for (labels, t, v) in samples {
        let Some(name) = labels.metric_name() else {
            tracing::warn!(metric = %labels, "Ignoring nameless metric during federation.");
            continue;
        };
        if family.as_deref() != Some(name) {
            let _ = writeln!(out, "# TYPE {name} untyped");
            family = Some(name.to_owned());
        }
        out.push_str(name);
        let mut pairs: Vec<(&str, &str)> = labels
            .iter()
            .filter(|l| l.name != METRIC_NAME)
            .map(|l| (l.name, l.value))
            .collect();
        for (n, v) in &ext {
            if !labels.has(n) {
                pairs.push((n, v));
            }
        }
        if !pairs.is_empty() {
            out.push('{');
            for (i, (n, v)) in pairs.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(n);
                out.push_str("=\"");
                escape_label_value(v, &mut out);
                out.push('"');
            }
            out.push('}');
        }
        out.push(' ');
        write_text_float(v, &mut out);
        let _ = writeln!(out, " {t}");
    }
    out
}

/// Escapes a label value for the text format: backslash, double quote and newline.
fn escape_label_value(v: &str, out: &mut String) {
    for c in v.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// Writes a value as `expfmt` does: Go's `strconv.FormatFloat(v, 'g', -1, 64)`, with
/// `+Inf`, `-Inf` and `NaN` spelled out. With shortest precision Go decides the form with a
/// precision of 6: exponent form when the decimal exponent is below -4 or at least 6
/// (`1e+06`, `123456`, `1e-05`, `0.0001`).
pub fn write_text_float(v: f64, out: &mut String) {
    if v.is_nan() {
        out.push_str("NaN");
        return;
    }
    if v.is_infinite() {
        out.push_str(if v > 0.0 { "+Inf" } else { "-Inf" });
        return;
    }
    if v == 0.0 {
        out.push_str(if v.is_sign_negative() { "-0" } else { "0" });
        return;
    }
    if (-4..6).contains(&argus_model::gofloat::decimal_exponent(v)) {
        argus_model::gofloat::write_f(v, out);
    } else {
        write_go_exponent(v, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(v: f64) -> String {
        let mut s = String::new();
        write_text_float(v, &mut s);
        s
    }

    #[test]
    fn floats_like_go_g() {
        assert_eq!(g(1.0), "1");
        assert_eq!(g(123456.0), "123456");
        assert_eq!(g(1234567.0), "1.234567e+06");
        assert_eq!(g(1e6), "1e+06");
        assert_eq!(g(0.0001), "0.0001");
        assert_eq!(g(0.00001), "1e-05");
        assert_eq!(g(-2.5), "-2.5");
        assert_eq!(g(1e21), "1e+21");
        assert_eq!(g(f64::NAN), "NaN");
        assert_eq!(g(f64::NEG_INFINITY), "-Inf");
        assert_eq!(g(0.1 + 0.2), "0.30000000000000004");
    }

    #[test]
    fn renders_families_with_external_labels() {
        let mut latest = BTreeMap::new();
        latest.insert(
            Labels::from_pairs(&[("__name__", "up"), ("job", "b"), ("instance", "x:1")]),
            (2000, 1.0),
        );
        latest.insert(
            Labels::from_pairs(&[("__name__", "up"), ("job", "a")]),
            (1000, 0.0),
        );
        latest.insert(
            Labels::from_pairs(&[("__name__", "a_metric"), ("q", "x\"y\\z\nw")]),
            (3000, 1234567.0),
        );
        let ext = Labels::from_pairs(&[("region", "eu"), ("job", "ext")]);
        assert_eq!(
            render(latest, &ext),
            "# TYPE a_metric untyped\n\
             a_metric{q=\"x\\\"y\\\\z\\nw\",instance=\"\",job=\"ext\",region=\"eu\"} 1.234567e+06 3000\n\
             # TYPE up untyped\n\
             up{instance=\"x:1\",job=\"b\",region=\"eu\"} 1 2000\n\
             up{job=\"a\",instance=\"\",region=\"eu\"} 0 1000\n"
        );
    }
}
