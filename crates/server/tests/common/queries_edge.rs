//! Edge cases: matchers and regexes, number literals, NaN and infinities through
//! aggregations, malformed classic histograms, and more syntax and evaluation errors.

use super::queries::OpsBuilder;

fn selectors(b: &mut OpsBuilder) {
    for e in [
        r#"up{job="api"}"#,
        r#"up{job!="api"}"#,
        r#"up{job=~"api|web"}"#,
        r#"up{job!~"api|web"}"#,
        r#"up{instance=~"i-"}"#,
        r#"up{instance=~"i-.*",job=~"a.*"}"#,
        r#"up{instance=~"i-\\d"}"#,
        r#"up{instance=~"(?i)I-0"}"#,
        r#"up{instance=~"i-[0-1]|n-1"}"#,
        r#"up{job=""}"#,
        r#"up{nonexistent=""}"#,
        r#"up{nonexistent!=""}"#,
        r#"up{job=~""}"#,
        r#"up{job=~".*"}"#,
        r#"{job="api", __name__=~"up|queue_depth"}"#,
        r#"{__name__=~"up|memory_usage_bytes"} * 2"#,
        r#"{__name__!~".*_bucket|.*_total|.*_sum|.*_count", job="web"}"#,
        r#"{job=~".+", __name__="build_info"}"#,
        r#"up{job='api'}"#,
        "up{job=`api`}",
        r#"sum by (__name__) ({__name__=~"up|queue_depth"})"#,
        r#"sum by (__name__) (rate({__name__=~"http_requests_total|late_counter_total"}[5m]))"#,
        r#"count by (__name__) ({__name__=~".+_total"})"#,
        r#"rate({__name__=~"http_requests_total|late_counter_total"}[5m])"#,
        // Number literals and their spellings.
        ".5",
        "5.",
        "Inf",
        "-inf",
        "nan",
        "+5",
        "1e-3",
        "0x10 * 2",
        "1 + -Inf",
        "-(1)",
        "2 ^ -1",
        "(-2) ^ 0.5",
        "-2 ^ 2",
        "vector(1) == 1",
        "vector(1) == bool 2",
        "scalar(vector(1)) + vector(2)",
        "vector(1) or vector(2)",
        "vector(1) and vector(2)",
        "vector(1) unless vector(2)",
        "up or vector(1)",
        "count(count by (job) (up))",
        "timestamp(timestamp(up))",
        "timestamp(vector(1))",
        "max_over_time(up[5m:1m] offset 2m)",
        "max_over_time(queue_depth[5m:1m] @ start())",
        r#"label_replace(up, "x", "$0-$1", "instance", "(i)-.*")"#,
        r#"label_replace(up, "x", "$1x", "instance", "(i)-.*")"#,
        r#"label_replace(up, "x", "$num", "instance", "i-(?P<num>.)")"#,
        r#"label_replace(up, "x", "$$1", "instance", "(.*)")"#,
        r#"label_replace(up, "x", "$3", "instance", "(.*)")"#,
        r#"count_values without (instance) ("v", queue_depth)"#,
    ] {
        b.q(e);
    }
    b.ordered("sort(queue_depth)");
    b.ordered("sort_desc(count_values(\"v\", queue_depth))");
}

fn nan_and_inf(b: &mut OpsBuilder) {
    for agg in [
        "sum", "avg", "min", "max", "stddev", "stdvar", "count", "group",
    ] {
        b.q(&format!("{agg}(nan_gauge)"));
        b.q(&format!("{agg} by (job) (memory_usage_bytes / 0)"));
        b.q(&format!("{agg}(memory_usage_bytes * 1e300)"));
    }
    for e in [
        "avg(-memory_usage_bytes * 1e300 or memory_usage_bytes * 1e300)",
        "sum(temperature_celsius / 0)",
        "quantile(0.5, memory_usage_bytes / 0)",
        "quantile(scalar(nan_gauge{instance=\"x-0\"}), queue_depth)",
        "avg_over_time(nan_gauge[5m])",
        "sum_over_time(nan_gauge[5m])",
        "stddev_over_time(nan_gauge[10m])",
        "quantile_over_time(0.5, nan_gauge[10m])",
        "max_over_time(nan_gauge[3m])",
        "min_over_time(nan_gauge[3m])",
        "rate(nan_gauge[5m])",
        "deriv(nan_gauge[10m])",
        "clamp_max(nan_gauge, 10) > 5",
        "round(nan_gauge, 0)",
        "nan_gauge > bool nan_gauge",
        "abs(nan_gauge) == bool nan_gauge",
        "sort(nan_gauge / 0)",
        "count_values(\"v\", nan_gauge / 0)",
        "avg_over_time((memory_usage_bytes * 1e300)[5m:1m])",
        "sum_over_time((memory_usage_bytes * 1e305)[10m:1m])",
    ] {
        b.q(e);
    }
}

fn odd_histograms(b: &mut OpsBuilder) {
    for q in ["0.25", "0.5", "0.9", "1"] {
        b.q(&format!("histogram_quantile({q}, odd_histogram_bucket)"));
        b.q(&format!(
            "histogram_quantile({q}, rate(odd_histogram_bucket[5m]))"
        ));
    }
    b.q("histogram_quantile(NaN, request_duration_seconds_bucket)");
    b.q(r#"histogram_quantile(0.5, label_replace(request_duration_seconds_bucket, "le", "x", "le", "0.1"))"#);
    b.q(r#"histogram_quantile(0.5, request_duration_seconds_bucket{le=~"\\+Inf|0.1"})"#);
    b.q(r#"histogram_quantile(0.5, request_duration_seconds_bucket{le="+Inf"})"#);
    b.q("histogram_quantile(0.5, sum by (le) (odd_histogram_bucket))");
}

fn errors(b: &mut OpsBuilder) {
    for e in [
        "histogram_quantile(0.5, rate(up[5m])[5m])",
        "rate(up[5m]) @ 123",
        "up offset 5m offset 5m",
        "sum(up) without (job) by (instance)",
        "topk(\"a\", up)",
        "quantile(up, up)",
        "1 + \"a\"",
        "-\"a\"",
        "up * on(instance) group_left(instance) up",
        "vector(1) + on(x) 1",
        "up{job=\"a\"}{job=\"b\"}",
        "time(1)",
        "vector()",
        "label_join(up)",
        "sum without(job, ) (up)",
        "up == bool",
        "bool up == up",
        "max_over_time(up[5m])[5m:1m][5m:1m]",
        "count_values(up, up)",
        "topk(1, up, up)",
        "# only a comment",
        "",
    ] {
        b.error(e, true);
    }
    // Left out: zero durations (`rate(up[0s])`, `up[1m:0s]`) are parse errors in 2.42, but
    // Prometheus 3 parses plain duration literals without that check (an empty window; the
    // default subquery step), as Argus does.
    for e in [
        // Messages differ by design: 3.x expects "number or duration" after offset, and
        // refuses a negative range as a duration expression ("duration must be greater than
        // 0") where 2.42's lexer stops at the minus sign.
        "up[5m] @ start() offset",
        "up{job=~\"a\"}[-5m]",
        "up[5m:-1m]",
        "memory_usage_bytes * on(job) group_left up",
        "up * on(job) group_right memory_usage_bytes",
        "label_join(up, \"job\", \"\", \"nonexistent\")",
        "sum_over_time(label_replace(up, \"job\", \"\", \"job\", \".*\")[5m:1m])",
    ] {
        b.error(e, false);
    }
}

/// Answers whose bytes are fully defined: one series, scalars, strings, escaping. Nothing
/// here sums fractional floats across series: `sum` uses Kahan summation since 2024
/// (prometheus/prometheus#14074), so its last digits may differ from 2.42's while staying
/// well within the value tolerance.
fn raw_bodies(b: &mut OpsBuilder) {
    for e in [
        r#"weird_labels{kind="quote"}"#,
        r#"weird_labels{kind="html"}"#,
        r#"weird_labels{kind="unicode"}"#,
        r#"weird_labels{kind="control"}"#,
        r#"sum by (v) (weird_labels{kind="html"})"#,
        r#"label_replace(vector(1), "x", "<&>\"\\", "", "")"#,
        r#"count_values("v", weird_labels{kind="quote"} / 3)"#,
        r#"memory_usage_bytes{job="api",instance="i-0"} / 7"#,
        r#"rate(http_requests_total{job="web",instance="i-2",method="get",code="200"}[5m])"#,
        "sum(memory_usage_bytes) / 3",
        "pi()",
        "1e-7",
        "123456789012345678901234567890",
        "-0.000001",
        "1/3",
        r#""a \"string\" with <html> & ünïcödé""#,
        "time()",
    ] {
        b.raw(e);
    }
}

/// Math at the edges of the float domain, empty inputs, and functions of function results.
fn math_edges(b: &mut OpsBuilder) {
    for e in [
        "2 ^ 1024",
        "-(2 ^ 1024)",
        "exp(vector(1000))",
        "ln(vector(0))",
        "log2(vector(-1))",
        "sqrt(vector(-1))",
        "asin(vector(2))",
        "acosh(vector(0.5))",
        "atanh(vector(1))",
        "deg(vector(1/0))",
        "sgn(vector(0))",
        "floor(vector(-0.5))",
        "ceil(vector(-0.5))",
        "ceil(-temperature_celsius / 1000)",
        "-vector(0)",
        "vector(0) * -1",
        "round(vector(-0.4))",
        "round(vector(2.5))",
        "round(vector(-2.5))",
        "round(temperature_celsius, 0)",
        "round(temperature_celsius, 0.3)",
        "abs(vector(-0))",
        "vector(-0) == bool vector(0)",
        "clamp(temperature_celsius, NaN, 5)",
        "clamp_min(temperature_celsius, NaN)",
        "timestamp(rate(http_requests_total[5m]))",
        "timestamp(sum(up))",
        "timestamp(vector(time()))",
        "sum(nonexistent)",
        "count(nonexistent)",
        "vector(scalar(nonexistent))",
        "sort(nonexistent)",
        "absent(nonexistent) * 5",
        r#"absent({__name__=~"nonexistent.*", job="x"})"#,
        "absent_over_time(up[5m] offset 1h)",
        "present_over_time(nonexistent[5m])",
        "last_over_time(nan_gauge[1m])",
        r#"count_values("v", vector(1e21))"#,
        r#"count_values("v", vector(1e-7))"#,
        r#"count_values("v", vector(123456789.123))"#,
        r#"count_values("v", -vector(0))"#,
        r#"label_join(up, "x", "", "job", "instance")"#,
        "1 < bool queue_depth",
        "queue_depth >= bool on(job, instance) group_left up",
        "up + on(__name__, job, instance) up",
        "memory_usage_bytes and on(job) up",
        "up unless ignoring(instance) queue_depth",
        "max_over_time(up[2h])",
        "rate(http_requests_total[1h])",
        "count_over_time(stale_gauge[1h])",
        "quantile_over_time(NaN, temperature_celsius[5m])",
        "scalar(time())",
        "vector(1) + vector(1)",
        "queue_depth % 0",
        "queue_depth % -2",
        "-queue_depth % 4",
        "temperature_celsius ^ 0.5",
        "(-temperature_celsius) ^ 2 ^ 0.5",
    ] {
        b.q(e);
    }
    b.renamed_error(
        "double_exponential_smoothing(queue_depth[5m], 1.5, 0.5)",
        "holt_winters(queue_depth[5m], 1.5, 0.5)",
    );
    b.renamed_error(
        "double_exponential_smoothing(queue_depth[5m], 0.5, 0)",
        "holt_winters(queue_depth[5m], 0.5, 0)",
    );
}

/// The lexer: comments, whitespace, string escapes, durations, keywords as names.
fn lexing(b: &mut OpsBuilder) {
    for e in [
        "up # a comment",
        "sum(\n  up\n) by (job)",
        "\tup\r\n",
        r#"weird_labels{v=~".*✓.*"}"#,
        r#"weird_labels{v="say \"hi\" \\ back"}"#,
        r#"weird_labels{v='say "hi" \\ back'}"#,
        "weird_labels{v=`/a?b=1&c=<2>`}",
        r#"label_replace(vector(1), "x", "\u00e9\x41\101\t", "", "")"#,
        r#"label_replace(vector(1), "x", '\'single\'', "", "")"#,
        r#"label_replace(vector(1), "x", `raw \n`, "", "")"#,
        "count_over_time(up[1h30m])",
        "count_over_time(up[5m30s])",
        "count_over_time(up[100ms])",
        "count_over_time(up[1d])",
        "count_over_time(up[1w])",
        "count_over_time(up[1y])",
        "up offset 1m30s",
        "sum by (by) (up)",
        "count by (start, end, offset) (up)",
        r#"{__name__="on"}"#,
        "job:up:sum",
        "sum without (bool) (up)",
    ] {
        b.q(e);
    }
    for e in [
        "count_over_time(up[1.5m])",
        "up[5m] offset 1.5h",
        r#""\q""#,
        r#""unterminated"#,
        "`also unterminated",
        "up{job=\"a\\\"}",
        "1 +* 2",
        "up @ 1e400",
    ] {
        b.error(e, true);
    }
    let (s, e) = (b.at(0), b.at(2750));
    // Exactly 11,000 points per series is allowed, one more step is not.
    b.range_error("vector(1)", s.clone(), e.clone(), "0.25", true);
    b.range_error("vector(1)", s, e, "0.2499", true);
}

/// Request parameters other than the query and times.
fn params(b: &mut OpsBuilder) {
    b.with_params("up", &[("timeout", "10s")], true);
    b.with_params("up", &[("timeout", "abc")], true);
    b.with_params("up", &[("timeout", "-1s")], false);
    b.with_params("up", &[("stats", "all")], true);
    // Times in RFC 3339, with and without a UTC offset, and odd numeric spellings; times
    // outside 1678–2262 wrap around in Prometheus (see argus-query's api/query_time.rs).
    // An empty time means "now", which differs between two requests: left out.
    let end = b.rfc3339(2690, 0);
    b.at_time("memory_usage_bytes", &end);
    b.at_time("rate(http_requests_total[5m])", &b.rfc3339(1700, 90));
    b.at_time("queue_depth", &b.rfc3339(900, -330));
    let num = b.at(2690);
    let sci = format!("{}e-3", num.replace('.', ""));
    b.at_time("memory_usage_bytes", &sci);
    for t in [
        "Inf",
        "-Inf",
        "NaN",
        "1e100",
        "9999-12-31T23:59:59Z",
        "0001-01-01T00:00:00Z",
        "2023-11-14 22:13:20",
        "-292273086-05-16T16:47:06Z",
        "292277025-08-18T07:12:54.999999999Z",
        "1e19",
        "-9223372036.855",
    ] {
        b.at_time("vector(1)", t);
    }
    let (s, e) = (b.rfc3339(300, 0), b.rfc3339(2900, 60));
    b.range_error(
        "rate(http_requests_total[5m])",
        s.clone(),
        e.clone(),
        "1m30s",
        true,
    );
    b.range_error("queue_depth", s.clone(), e.clone(), "1.5e1", true);
    b.range_error("queue_depth", s.clone(), e.clone(), "0.001", true);
    b.range_error("queue_depth", s.clone(), e.clone(), "", true);
    b.range_error("queue_depth", s, String::new(), "60", true);
}

/// Every edge case.
pub fn edge_cases(b: &mut OpsBuilder) {
    raw_bodies(b);
    math_edges(b);
    lexing(b);
    params(b);
    selectors(b);
    nan_and_inf(b);
    odd_histograms(b);
    errors(b);
}
