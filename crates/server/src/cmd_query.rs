//! `argus query instant|range`: PromQL against a running server over its HTTP API
//! (Argus or Prometheus), printed as a table or as the API's JSON (`-o json`).
//!
//! Arguments follow promtool: `argus query instant [SERVER] EXPR`, server defaulting to
//! `http://localhost:9090`.

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand, ValueEnum};
use serde_json::Value;

/// `argus query` subcommands.
#[derive(Debug, Subcommand)]
pub enum QueryCommand {
    /// Evaluate an expression at one instant.
    Instant(InstantArgs),
    /// Evaluate an expression over a range.
    Range(RangeArgs),
}

/// Output format.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum Output {
    /// Aligned columns.
    Table,
    /// The API's JSON answer, as received.
    Json,
}

/// Server and expression.
#[derive(Debug, Args)]
pub struct Target {
    /// `[SERVER] EXPR`: the server URL (default http://localhost:9090) and the expression.
    #[arg(required = true, num_args = 1..=2)]
    pub args: Vec<String>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value = "table")]
    pub output: Output,
}

impl Target {
    fn split(&self) -> (String, String) {
        match self.args.as_slice() {
            [s, e] => (s.trim_end_matches('/').to_owned(), e.clone()),
            [e] => ("http://localhost:9090".to_owned(), e.clone()),
            _ => unreachable!("BUG: clap enforces 1..=2 arguments"),
        }
    }
}

/// Flags of `argus query instant`.
#[derive(Debug, Args)]
pub struct InstantArgs {
    #[command(flatten)]
    pub target: Target,
    /// Evaluation time (RFC 3339 or Unix seconds); default now.
    #[arg(long)]
    pub time: Option<String>,
}

/// Flags of `argus query range`.
#[derive(Debug, Args)]
pub struct RangeArgs {
    #[command(flatten)]
    pub target: Target,
    /// Start (RFC 3339 or Unix seconds); default 5 minutes before the end.
    #[arg(long)]
    pub start: Option<String>,
    /// End (RFC 3339 or Unix seconds); default now.
    #[arg(long)]
    pub end: Option<String>,
    /// Step (duration such as `15s`, or seconds); default a 250th of the range.
    #[arg(long)]
    pub step: Option<String>,
}

/// Runs a `query` subcommand.
pub fn run(cmd: QueryCommand) -> anyhow::Result<ExitCode> {
    let (target, path, params) = match &cmd {
        QueryCommand::Instant(a) => {
            let (_, expr) = a.target.split();
            let mut p = vec![("query", expr)];
            if let Some(t) = &a.time {
                p.push(("time", t.clone()));
            }
            (&a.target, "/api/v1/query", p)
        }
        QueryCommand::Range(a) => {
            let (_, expr) = a.target.split();
            let now = argus_model::now_ms() as f64 / 1000.0;
            let end = a.end.clone().unwrap_or_else(|| format!("{now:.3}"));
            let start = a
                .start
                .clone()
                .unwrap_or_else(|| format!("{:.3}", now - 300.0));
            let step = a.step.clone().unwrap_or_else(|| default_step(&start, &end));
            let p = vec![
                ("query", expr),
                ("start", start),
                ("end", end),
                ("step", step),
            ];
            (&a.target, "/api/v1/query_range", p)
        }
    };
    let (server, _) = target.split();
    let url = format!("{server}{path}");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let (status, body) = rt.block_on(async {
        let resp = reqwest::Client::new()
            .post(&url)
            .form(&params)
            .send()
            .await
            .with_context(|| format!("querying {url}"))?;
        let status = resp.status();
        let body = resp.text().await.context("reading the answer")?;
        anyhow::Ok((status, body))
    })?;
    let mut o = std::io::stdout().lock();
    if target.output == Output::Json {
        writeln!(o, "{body}")?;
        return Ok(if status.is_success() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        });
    }
    let v: Value = serde_json::from_str(&body)
        .with_context(|| format!("{url} answered {status} with no JSON: {body}"))?;
    if at(&v, "status") != "success" {
        let mut e = std::io::stderr().lock();
        writeln!(
            e,
            "query error: {}: {}",
            at(&v, "errorType").as_str().unwrap_or("unknown"),
            at(&v, "error").as_str().unwrap_or(&body)
        )?;
        return Ok(ExitCode::FAILURE);
    }
    o.write_all(render(at(&v, "data")).as_bytes())?;
    if let Some(ws) = at(&v, "warnings").as_array() {
        let mut e = std::io::stderr().lock();
        for w in ws {
            writeln!(e, "warning: {}", w.as_str().unwrap_or_default())?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// A member of a JSON object (`Null` when absent): the answer's shape is not trusted.
fn at<'a>(v: &'a Value, key: &str) -> &'a Value {
    v.get(key).unwrap_or(&Value::Null)
}

/// An element of a JSON array (`Null` when absent).
fn idx(v: &Value, i: usize) -> &Value {
    v.get(i).unwrap_or(&Value::Null)
}

fn default_step(start: &str, end: &str) -> String {
    match (start.parse::<f64>(), end.parse::<f64>()) {
        (Ok(s), Ok(e)) if e > s => format!("{:.3}", ((e - s) / 250.0).max(1.0)),
        _ => "15".to_owned(),
    }
}

fn series_name(metric: &Value) -> String {
    let Some(m) = metric.as_object() else {
        return "{}".to_owned();
    };
    let name = m.get("__name__").and_then(Value::as_str).unwrap_or("");
    let labels: Vec<String> = m
        .iter()
        .filter(|(k, _)| k.as_str() != "__name__")
        .map(|(k, v)| format!("{k}={}", Value::String(v.as_str().unwrap_or("").to_owned())))
        .collect();
    if labels.is_empty() && !name.is_empty() {
        name.to_owned()
    } else {
        format!("{name}{{{}}}", labels.join(", "))
    }
}

fn point(p: &Value) -> (String, String) {
    let t = idx(p, 0)
        .as_f64()
        .map(|t| format!("{t:.3}"))
        .unwrap_or_default();
    let v = idx(p, 1).as_str().unwrap_or("").to_owned();
    (t, v)
}

/// The result as aligned text: one row per series (instant), or per sample (range).
pub fn render(data: &Value) -> String {
    let mut rows: Vec<[String; 3]> = Vec::new();
    match at(data, "resultType").as_str() {
        Some("vector") => {
            for s in at(data, "result").as_array().into_iter().flatten() {
                let (t, v) = point(at(s, "value"));
                rows.push([series_name(at(s, "metric")), v, t]);
            }
        }
        Some("matrix") => {
            for s in at(data, "result").as_array().into_iter().flatten() {
                let name = series_name(at(s, "metric"));
                for p in at(s, "values").as_array().into_iter().flatten() {
                    let (t, v) = point(p);
                    rows.push([name.clone(), v, t]);
                }
            }
        }
        Some("scalar") | Some("string") => {
            let (t, v) = point(at(data, "result"));
            rows.push([String::new(), v, t]);
        }
        _ => {}
    }
    let header = [
        "SERIES".to_owned(),
        "VALUE".to_owned(),
        "TIMESTAMP".to_owned(),
    ];
    let w0 = rows
        .iter()
        .chain([&header])
        .map(|r| r[0].len())
        .max()
        .unwrap_or(0);
    let w1 = rows
        .iter()
        .chain([&header])
        .map(|r| r[1].len())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for r in std::iter::once(&header).chain(rows.iter()) {
        let _ = writeln!(out, "{:<w0$}  {:<w1$}  {}", r[0], r[1], r[2]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_vector_and_matrix() {
        let v: Value = serde_json::from_str(
            r#"{"resultType":"vector","result":[{"metric":{"__name__":"up","job":"a"},"value":[1700000000,"1"]}]}"#,
        )
        .unwrap();
        let t = render(&v);
        assert!(t.starts_with("SERIES"), "{t}");
        assert!(t.contains(r#"up{job="a"}  1      1700000000.000"#), "{t}");
        let m: Value = serde_json::from_str(
            r#"{"resultType":"matrix","result":[{"metric":{"job":"a"},"values":[[1,"2"],[2,"3"]]}]}"#,
        )
        .unwrap();
        let t = render(&m);
        assert_eq!(t.lines().count(), 3, "{t}");
        assert!(t.contains(r#"{job="a"}"#), "{t}");
    }
}
