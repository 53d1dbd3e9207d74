//! Hand-written queries: binary operators and vector matching, set operators, modifiers
//! (`offset`, `@`, subqueries), label, math, time and date functions, and error cases.

use super::queries::OpsBuilder;

fn binary(b: &mut OpsBuilder) {
    for e in [
        // Arithmetic with scalars, precedence and associativity.
        "memory_usage_bytes / 1024 / 1024",
        "2 * queue_depth + 1",
        "-temperature_celsius",
        "-queue_depth ^ 2",
        "2 ^ 3 ^ 2",
        "queue_depth ^ 2 ^ 0.5",
        "10 % 3",
        "-7 % 3",
        "temperature_celsius % 7",
        "temperature_celsius % -4.5",
        "1 / 0",
        "-1 / 0",
        "0 / 0",
        "queue_depth / 0",
        // atan2 keeps `__name__` in 2.42 and drops it since 2.46 (prometheus/prometheus#12595),
        // as Argus does: compare it on operands that have no name.
        "-temperature_celsius atan2 ignoring(zone) group_left -temperature_celsius{zone=\"a\"}",
        "2 atan2 -queue_depth",
        "(-queue_depth) atan2 on(job, instance) memory_usage_bytes",
        "1 + 2 * 3 - 4 / 2",
        "(1 + 2) * 3",
        "--queue_depth",
        "+queue_depth",
        // Vector to vector.
        "http_requests_total / on(job, instance, method, code) http_requests_total",
        "rate(http_requests_total[5m]) / on(job, instance) group_left memory_usage_bytes",
        "memory_usage_bytes * on(job, instance) group_right rate(http_requests_total[5m])",
        "up * on(job, instance) group_left(version) build_info",
        "build_info * on(job, instance) group_left up",
        "queue_depth + ignoring(job) queue_depth",
        "memory_usage_bytes - on(instance, job) queue_depth",
        "memory_usage_bytes > on(job, instance) group_left queue_depth",
        r#"sum by (job) (rate(http_requests_total[5m])) / on(job) group_right sum by (job, code) (rate(http_requests_total[5m]))"#,
        r#"rate(http_requests_total{code="500"}[5m]) / ignoring(code) rate(http_requests_total{code="200"}[5m])"#,
        r#"http_requests_total{code="500"} + on() group_left sum(up)"#,
        "temperature_celsius * ignoring(zone) group_left temperature_celsius{zone=\"a\"}",
        // Comparisons: filters and bool.
        "temperature_celsius < 0",
        "memory_usage_bytes > 1e9",
        "0 < queue_depth",
        "queue_depth != 2",
        "queue_depth == queue_depth",
        "nan_gauge == nan_gauge",
        "nan_gauge != nan_gauge",
        "queue_depth > bool 3",
        "3 >= bool queue_depth",
        "queue_depth == bool on(job, instance) up",
        "memory_usage_bytes <= bool on(job, instance) group_left queue_depth",
        "1 > bool 2",
        "2 >= bool 2",
        "nan_gauge >= bool 0",
        "(queue_depth > 2) * 10",
        "temperature_celsius > -5 < 5",
        // Set operators.
        "queue_depth and on(job, instance) up == 1",
        "queue_depth and up",
        "http_requests_total or late_counter_total",
        "memory_usage_bytes unless on(job, instance) up == 0",
        "up unless on(job) queue_depth",
        "(queue_depth > 4) or (queue_depth < 1)",
        "stale_gauge or late_gauge",
        "vector(1) and on() (sum(up) > 5)",
        "up or on(job) vector(2)",
        "queue_depth and ignoring(instance) up",
        "rate(http_requests_total[5m]) > 0.5 unless rate(http_requests_total[5m]) > 3",
    ] {
        b.q(e);
    }
}

fn modifiers(b: &mut OpsBuilder) {
    let t = b.at(900);
    for e in [
        "memory_usage_bytes offset 5m".to_owned(),
        "rate(http_requests_total[5m] offset 10m)".into(),
        "queue_depth offset -5m".into(),
        "sum(queue_depth offset -2m) by (job)".into(),
        "http_requests_total offset 1h".into(),
        "queue_depth @ start()".into(),
        "queue_depth @ end()".into(),
        "rate(http_requests_total[5m] @ end())".into(),
        format!("memory_usage_bytes @ {t}"),
        format!("rate(http_requests_total[5m] @ {t})"),
        "sum(queue_depth @ start()) by (job)".into(),
        "queue_depth @ end() offset 5m".into(),
        "queue_depth offset 5m @ end()".into(),
        "timestamp(queue_depth @ start())".into(),
        "timestamp(memory_usage_bytes offset 3m)".into(),
        "max_over_time(rate(http_requests_total[1m])[10m:1m])".into(),
        "avg_over_time(memory_usage_bytes[10m:])".into(),
        // Not over i-3: its subquery samples start at a small positive value when the series
        // is young, where rate extrapolation differs by version (see `queries`).
        r#"rate(http_requests_total{instance!="i-3"}[5m:30s])"#.into(),
        "deriv(sum(queue_depth)[15m:2m])".into(),
        // The inner subquery runs at the outer one's aligned steps: its range must not be a
        // multiple of its step, or a point lands on the boundary that 3.x excludes.
        "max_over_time(deriv(rate(http_requests_total[2m])[5m30s:1m])[10m:2m])".into(),
        "min_over_time(queue_depth[10m:1m] offset 5m)".into(),
        "count_over_time(stale_gauge[10m:1m])".into(),
        "sum_over_time(up[5m:45s] @ end())".into(),
        "last_over_time(temperature_celsius[7m:13s])".into(),
        "quantile_over_time(0.5, rate(http_requests_total[1m])[10m:30s])".into(),
        "changes(up[30m:1m])".into(),
        "avg_over_time((queue_depth > 3)[10m:1m])".into(),
        "sum by (job) (rate(http_requests_total[5m]))[10m:1m]".into(),
    ] {
        b.q(&e);
    }
}

fn functions(b: &mut OpsBuilder) {
    for e in [
        r#"label_replace(up, "host", "$1", "instance", "i-(.*)")"#,
        r#"label_replace(up, "instance", "$2-$1", "instance", "(.)-(.)")"#,
        r#"label_replace(up, "new", "x", "nonexistent", "")"#,
        r#"label_replace(up, "new", "x", "nonexistent", ".+")"#,
        r#"label_replace(up, "job", "", "job", "api")"#,
        r#"label_replace(rate(http_requests_total[5m]), "__name__", "renamed", "", "")"#,
        r#"label_replace(http_requests_total, "m", "${1}X", "method", "(g)et")"#,
        r#"label_replace(up, "__name__", "", "", "")"#,
        r#"label_replace(up, "__name__", "x_$1", "job", "(.*)")"#,
        r#"label_join(up, "foo", ",", "job", "instance")"#,
        r#"label_join(up, "foo", "-")"#,
        r#"label_join(up, "job", "", "instance")"#,
        r#"label_join(memory_usage_bytes, "x", "/", "instance", "nonexistent", "job")"#,
        "absent(nonexistent)",
        r#"absent(nonexistent{job="x", instance=~"y", env="prod", env="dev"})"#,
        "absent(up)",
        "absent(sum(nonexistent))",
        r#"absent(up{job="nonexistent"})"#,
        "absent(stale_gauge)",
        "clamp(temperature_celsius, -5, 5)",
        "clamp(temperature_celsius, 5, -5)",
        "clamp_min(temperature_celsius, 0)",
        "clamp_max(memory_usage_bytes, 1e9)",
        "clamp(nan_gauge, 0, 10)",
        "round(temperature_celsius)",
        "round(temperature_celsius, 0.5)",
        "round(memory_usage_bytes, 1e6)",
        "round(-queue_depth / 2)",
        "round(queue_depth / 2)",
        "round(temperature_celsius, -3)",
        "abs(temperature_celsius)",
        "ceil(temperature_celsius)",
        "floor(temperature_celsius)",
        "exp(queue_depth)",
        "exp(memory_usage_bytes)",
        "ln(temperature_celsius)",
        "log2(memory_usage_bytes)",
        "log10(queue_depth)",
        "sqrt(temperature_celsius)",
        "sgn(temperature_celsius)",
        "sgn(nan_gauge)",
        "sin(temperature_celsius)",
        "cos(temperature_celsius)",
        "tan(temperature_celsius)",
        "asin(temperature_celsius / 40)",
        "acos(temperature_celsius / 40)",
        "atan(temperature_celsius)",
        "sinh(queue_depth)",
        "cosh(queue_depth)",
        "tanh(temperature_celsius)",
        "asinh(temperature_celsius)",
        "acosh(queue_depth)",
        "atanh(temperature_celsius / 40)",
        "deg(temperature_celsius)",
        "rad(temperature_celsius)",
        "pi()",
        "time()",
        "timestamp(up)",
        "time() - timestamp(up)",
        "vector(1)",
        "vector(time())",
        "scalar(sum(up))",
        "scalar(up)",
        "scalar(nonexistent)",
        "sum(up) * scalar(count(queue_depth))",
        "day_of_month()",
        "day_of_week()",
        "day_of_year()",
        "days_in_month()",
        "hour()",
        "minute()",
        "month()",
        "year()",
        "day_of_month(timestamp(up))",
        "hour(timestamp(memory_usage_bytes))",
        "minute(timestamp(queue_depth))",
        "year(vector(1700000000))",
        "month(vector(951782400))",
        "day_of_month(vector(951782400))",
        "days_in_month(vector(951782400))",
        "day_of_year(vector(1704067199))",
        "day_of_week(vector(-86400))",
        "year(temperature_celsius)",
        "hour(nan_gauge)",
        "year(nan_gauge)",
        "day_of_week(nan_gauge)",
        "month(vector(1e19))",
        "day_of_month(vector(-1e19))",
        "minute(vector(1/0))",
        "-absent(nonexistent)",
        "abs(-vector(3))",
        "sum(up) + sum(queue_depth)",
        r#""a string""#,
        "42",
        "-Inf",
        "NaN",
        "0x1F",
        "1e3",
    ] {
        b.q(e);
    }
    // Series that go away and come in change these answers over time.
    for e in [
        "absent(stale_gauge{instance=\"b-0\"})",
        "absent(late_gauge)",
        "count(up)",
        "sum(stale_counter_total)",
        "group by (instance) (late_counter_total)",
        "max_over_time(late_gauge[1m])",
    ] {
        b.all(e);
    }
    b.ordered("sort(label_replace(up, \"x\", \"$1\", \"instance\", \"(.*)\"))");
    b.ordered("sort_desc(abs(temperature_celsius))");
    b.ordered("topk(5, rate(node_cpu_seconds_total[5m]))");
}

fn errors(b: &mut OpsBuilder) {
    // Parse errors: same type and message.
    for e in [
        "unknown_function(up)",
        "sum(",
        "rate(up)",
        "foo{}",
        "1 +",
        "up and 1",
        "sum(up) by (job) [5m]",
        "up[5m] + 1",
        "quantile_over_time(\"a\", up[5m])",
        "up and on(job) group_left up",
        "scalar(up) + on(job) up",
        "topk(up)",
        "label_replace(up, \"a\", \"b\")",
        "rate(up[5m]",
        "count_values(1, up)",
        "{__name__=\"a\", __name__=\"b\"}",
        "up @ foo()",
        "up @ start() @ end()",
        "1 == 1",
        "absent()",
    ] {
        b.error(e, true);
    }
    // Parse errors whose wording differs by design: same type only.
    for e in [
        // The regex engine's own diagnostics (Go's regexp/syntax vs Rust's regex).
        "up{job=~\"(\"}",
        // 3.x parses numbers and duration expressions where 2.42 wants a duration
        // ("expected number or duration" vs "expected duration").
        "up offset",
        "up[5x]",
        "rate(up[5m:1m:1m])",
        // Unknown since 3.0 renamed it (prometheus/prometheus#14930).
        "holt_winters(up[5m], 0.5, 0.5, 3)",
    ] {
        b.error(e, false);
    }
    // Left out: quoted label names in grouping (`sum by ("job")`), and label names such as
    // "invalid-label" in count_values/label_replace/label_join, are errors in 2.42 but valid
    // since 3.0 accepts any UTF-8 label name.
    // Evaluation errors: same type; messages compared where both engines word them alike.
    for (e, msg) in [
        ("http_requests_total + on(job) memory_usage_bytes", false),
        (
            "memory_usage_bytes * on(job) group_left http_requests_total",
            false,
        ),
        (
            "memory_usage_bytes + on(job, instance) group_right rate(http_requests_total[5m])",
            false,
        ),
        (r#"label_replace(up, "job", "", "job", ".*")"#, true),
        (
            "abs(up) or up * 1 + on(job, instance) group_left abs(up)",
            false,
        ),
        (r#"count_values("", up)"#, true),
        (r#"label_replace(up, "", "", "job", "")"#, true),
        (r#"label_replace(up, "a", "", "job", "(")"#, true),
        (r#"label_join(up, "", ",", "job")"#, true),
        (
            "rate(http_requests_total[5m]) or ignoring(code, method) up",
            false,
        ),
        (
            "sum without (code, method) (http_requests_total) + on(job) up",
            false,
        ),
        ("deg(up) + ignoring(job) up", false),
    ] {
        b.error(e, msg);
    }
    let (s, e) = (b.at(0), b.at(2700));
    // A range vector is no result type for a range query. Since 2.44 the message carries
    // the `invalid parameter "query": ` prefix as for instant queries
    // (prometheus/prometheus#12248), so only the type is compared.
    b.range_error("up[5m]", s.clone(), e.clone(), "60", false);
    b.range_error("\"string\"", s.clone(), e.clone(), "60", false);
    b.range_error("up", s.clone(), e.clone(), "0.1", true);
    b.range_error("up", e.clone(), s.clone(), "60", true);
    b.range_error("up", s.clone(), e.clone(), "0", true);
    b.range_error("up", s.clone(), e.clone(), "-15", true);
    b.range_error("up", "foo".into(), e.clone(), "60", true);
    b.range_error("up", s.clone(), e, "1x", true);
    b.at_time("up", "abc");
    b.at_time("up", "2023-11-14T22:13:20Z");
    b.at_time("1", "1e9");
    b.at_time("time()", "-1.5");
}

/// `@` mixed with step-varying parts, grouping corner cases, and aggregation parameters
/// that change from step to step.
fn mixed(b: &mut OpsBuilder) {
    for e in [
        "queue_depth @ start() + time()",
        "timestamp(queue_depth @ end())",
        "absent(up @ start())",
        "scalar(sum(queue_depth @ end()))",
        "max_over_time(rate(http_requests_total[1m] @ end())[10m:1m])",
        "changes(queue_depth[5m:1m] @ start())",
        "sum_over_time(queue_depth[5m:1m] @ end() offset 1m)",
        "queue_depth @ end() > on(job, instance) queue_depth",
        "rate(http_requests_total[5m] offset -2m)",
        "sort_desc(memory_usage_bytes)",
        "sum by (nonexistent) (up)",
        "sum without (__name__) (up)",
        "count without (job, instance) (up)",
        "group by (version) (build_info)",
        "topk by (job) (1, memory_usage_bytes)",
        "quantile by (zone) (0.5, temperature_celsius)",
        "stddev by (job) (queue_depth)",
        "stdvar without (instance) (queue_depth)",
        "topk(scalar(vector(2)), memory_usage_bytes)",
        r#"quantile(scalar(up{job="web",instance="i-1"}) * 0.5, memory_usage_bytes)"#,
        r#"topk(scalar(queue_depth{job="api",instance="i-0"}), memory_usage_bytes)"#,
        r#"bottomk(scalar(up{job="web",instance="i-1"}), memory_usage_bytes)"#,
        r#"count_values by (job) ("v", up)"#,
        "avg by (job) (up == 1)",
        "max by (job) (rate(http_requests_total[2m]) > 0.4)",
        "sum(rate(http_requests_total[5m])) by (job) / ignoring(job) group_left sum(rate(http_requests_total[5m]))",
    ] {
        b.q(e);
    }
}

/// Every hand-written query.
pub fn operators(b: &mut OpsBuilder) {
    mixed(b);
    binary(b);
    modifiers(b);
    functions(b);
    errors(b);
}
