//! The queries compared: templates × metric names, plus hand-written cases for operators,
//! modifiers and errors.
//!
//! Every evaluation time is a whole second plus 500 ms, while samples sit 1–400 ms off whole
//! seconds (see `data`), so no sample or subquery step falls on a window boundary.
//!
//! Left out on purpose (each differs by design between Prometheus 2.42 and 3.x, which Argus
//! follows, or is missing from 2.42):
//! - functions 2.42 lacks: `sort_by_label`, `sort_by_label_desc`, `mad_over_time`,
//!   `first_over_time`, `ts_of_*_over_time`, `limitk`, `limit_ratio`, `info`, `histogram_*`
//!   of native histograms, `min_of`/`max_of`, duration expressions (`[5m+1m]`, `step()`).
//! - `holt_winters`: renamed `double_exponential_smoothing` in Prometheus 3.0
//!   (prometheus/prometheus#14930); Argus, like 3.x, knows only the new name, so the same
//!   computation is sent under each server's name.
//! - Samples exactly on range boundaries: 3.0 made range and lookback selections (and so
//!   subqueries) left-open (prometheus/prometheus#13904); the jittered data avoids them.
//! - Regex matchers against values with newlines: 3.0 lets `.` match `\n`; no label value
//!   here has one.
//! - Rate extrapolation when a window starts before a series' first sample and the zero
//!   point of the counter lies between half and 1.1 sampling intervals before it: a 2024
//!   change swapped the order of the two limits (prometheus/prometheus#13725). The data's
//!   counters start at 0 or at large values, where both orders agree.
//! - topk/bottomk among equal values or NaNs: since 2.44 the candidate heap is updated in
//!   place and a NaN no longer displaces a NaN (prometheus/prometheus#12190), so 2.42 may
//!   keep a different one of several tied series. Only tie-free inputs are compared.
//! - Warnings and info annotations: 3.x reports many that 2.42 lacks (e.g. "metric might not
//!   be a counter"); only `data` and errors are compared.
//! - `atan2` keeps `__name__` in 2.42 and drops it since 2.46 (prometheus/prometheus#12595):
//!   compared on operands without a name (`queries_ops`).
//! - Error wording that differs by design, compared by type only: range-query errors carry
//!   the `invalid parameter "query": ` prefix since 2.44 (prometheus/prometheus#12248);
//!   3.x's duration-expression parser words offset/range errors differently ("expected
//!   number or duration"); regex errors quote each engine's own diagnostics.
//! - Accepted by 3.x, refused by 2.42, so not compared: any UTF-8 label name (in
//!   `count_values`, `label_replace`, `label_join`, quoted names in `by (...)`), and zero
//!   duration literals (`[0s]`, `[1m:0s]`), see `queries_ops` and `queries_edge`.
//! - Byte-for-byte comparison of sums across series: `sum` uses Kahan summation since 2024
//!   (prometheus/prometheus#14074), so last digits may differ; values stay within 1e-9.
//! - An empty `time` (now) differs between two requests by the clock.

use super::compare::Order;

/// Where and how a query is evaluated. Times are strings so malformed ones can be sent.
#[derive(Debug, Clone)]
pub enum Kind {
    Instant {
        time: String,
    },
    Range {
        start: String,
        end: String,
        step: String,
    },
}

#[derive(Debug, Clone)]
pub struct Query {
    /// The expression sent to Argus.
    pub argus: String,
    /// The expression sent to Prometheus (differs only for renamed functions).
    pub prom: String,
    pub kind: Kind,
    pub order: Order,
    /// Compare error messages too, not just the error type.
    pub same_message: bool,
    /// Extra request parameters (`timeout`, ...).
    pub params: Vec<(&'static str, String)>,
    /// Compare the response bodies byte for byte (for answers whose order is defined).
    pub raw: bool,
}

impl Query {
    pub fn is_range(&self) -> bool {
        matches!(self.kind, Kind::Range { .. })
    }

    pub fn describe(&self) -> String {
        let q = if self.argus == self.prom {
            self.argus.clone()
        } else {
            format!("{} (prometheus: {})", self.argus, self.prom)
        };
        match &self.kind {
            Kind::Instant { time } => format!("instant {q} @ {time}"),
            Kind::Range { start, end, step } => {
                format!("range {q} [{start}, {end}] step {step}")
            }
        }
    }
}

/// Evaluation times, in seconds after the data start (each + 500 ms).
pub struct Times {
    start_ms: i64,
}

/// 5 s after the last sample.
const END: i64 = 2690;
/// After `stale_gauge{instance="b-0"}` went stale, with the late series running.
const MID: i64 = 1700;
/// 200 s in: 5m and 10m windows reach before the first sample.
const EARLY: i64 = 200;
/// 3.5 minutes after the last sample: the lookback still finds it, windows are partial.
const AFTER: i64 = 2900;
/// Beyond the lookback of every series.
const GONE: i64 = 3100;
/// Just after `http_requests_total{instance="i-3"}` started.
const LATE_START: i64 = 1460;
/// Before the first sample.
const BEFORE: i64 = -100;

impl Times {
    pub fn new(start_ms: i64) -> Self {
        Times { start_ms }
    }

    /// A time `s` seconds after the data start, plus 500 ms, as API seconds.
    pub fn at(&self, s: i64) -> String {
        let ms = self.start_ms + s * 1000 + 500;
        format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000))
    }

    /// The same instant as [`Times::at`] in RFC 3339, with a UTC offset of `offset_min`.
    pub fn rfc3339(&self, s: i64, offset_min: i64) -> String {
        let ms = self.start_ms + s * 1000 + 500 + offset_min * 60_000;
        let (secs, frac) = (ms.div_euclid(1000), ms.rem_euclid(1000));
        // Days to civil date (Howard Hinnant's algorithm).
        let z = secs.div_euclid(86_400) + 719_468;
        let sod = secs.rem_euclid(86_400);
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = yoe + era * 400 + i64::from(m <= 2);
        let zone = if offset_min == 0 {
            "Z".to_owned()
        } else {
            let sign = if offset_min < 0 { '-' } else { '+' };
            format!(
                "{sign}{:02}:{:02}",
                offset_min.abs() / 60,
                offset_min.abs() % 60
            )
        };
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{frac:03}{zone}",
            sod / 3600,
            sod % 3600 / 60,
            sod % 60
        )
    }

    fn instants(&self, all: bool) -> Vec<Kind> {
        let secs: &[i64] = if all {
            &[END, MID, EARLY, AFTER, GONE, LATE_START, BEFORE]
        } else {
            &[END, MID, EARLY]
        };
        secs.iter()
            .map(|s| Kind::Instant { time: self.at(*s) })
            .collect()
    }

    fn ranges(&self, all: bool) -> Vec<Kind> {
        let r = |a, b, step: &str| Kind::Range {
            start: self.at(a),
            end: self.at(b),
            step: step.to_owned(),
        };
        let mut v = vec![r(300, 2900, "60"), r(0, 2700, "97")];
        if all {
            v.push(r(1500, 1800, "15s"));
            v.push(r(100, 3000, "5m"));
        }
        v
    }
}

struct Builder<'a> {
    times: &'a Times,
    out: Vec<Query>,
}

impl Builder<'_> {
    fn push(&mut self, argus: &str, prom: &str, kinds: Vec<Kind>, order: Order, msg: bool) {
        for kind in kinds {
            self.out.push(Query {
                argus: argus.to_owned(),
                prom: prom.to_owned(),
                kind,
                order,
                same_message: msg,
                params: Vec::new(),
                raw: false,
            });
        }
    }

    /// At the default instants and ranges.
    fn q(&mut self, e: &str) {
        let k = [self.times.instants(false), self.times.ranges(false)].concat();
        self.push(e, e, k, Order::Any, false);
    }

    /// At every instant and range, for expressions whose answer changes as series come
    /// and go.
    fn all(&mut self, e: &str) {
        let k = [self.times.instants(true), self.times.ranges(true)].concat();
        self.push(e, e, k, Order::Any, false);
    }

    /// Only where every window of up to 10m lies inside the data.
    fn inside(&mut self, e: &str) {
        let t = self.times;
        let mut k: Vec<Kind> = [END, MID, LATE_START]
            .iter()
            .map(|s| Kind::Instant { time: t.at(*s) })
            .collect();
        k.push(Kind::Range {
            start: t.at(900),
            end: t.at(2690),
            step: "60".to_owned(),
        });
        self.push(e, e, k, Order::Any, false);
    }

    /// The order of the instant vector matters (range results are sorted by labels).
    fn ordered(&mut self, e: &str) {
        self.push(e, e, self.times.instants(false), Order::ByValue, false);
        self.push(e, e, self.times.ranges(false), Order::Any, false);
    }

    /// The same computation under each server's name for it.
    fn renamed(&mut self, argus: &str, prom: &str) {
        let k = [self.times.instants(false), self.times.ranges(false)].concat();
        self.push(argus, prom, k, Order::Any, false);
    }

    /// Expected to fail on both; `msg` also compares the message.
    fn error(&mut self, e: &str, msg: bool) {
        let k = vec![Kind::Instant {
            time: self.times.at(END),
        }];
        self.push(e, e, k, Order::Any, msg);
    }

    fn range_error(&mut self, e: &str, start: String, end: String, step: &str, msg: bool) {
        let k = vec![Kind::Range {
            start,
            end,
            step: step.to_owned(),
        }];
        self.push(e, e, k, Order::Any, msg);
    }
}

const COUNTERS: &[&str] = &[
    "http_requests_total",
    r#"node_cpu_seconds_total{mode="user"}"#,
    "stale_counter_total",
    "late_counter_total",
    "request_duration_seconds_count",
    r#"http_requests_total{job="api",code="500"}"#,
    r#"{__name__=~"http_requests_total|late_counter_total",instance=~"i-[03]|l-.*"}"#,
];

const GAUGES: &[&str] = &[
    "memory_usage_bytes",
    "temperature_celsius",
    "queue_depth",
    "stale_gauge",
    "late_gauge",
    "nan_gauge",
    r#"up{job!="node"}"#,
];

const RANGES: &[&str] = &["1m", "5m", "90s", "10m", "3m"];

fn range_functions(b: &mut Builder) {
    let mut i = 0;
    let mut next_range = || {
        i += 1;
        RANGES[i % RANGES.len()]
    };
    for f in ["rate", "irate", "increase", "resets", "changes"] {
        for c in COUNTERS {
            b.q(&format!("{f}({c}[{}])", next_range()));
        }
    }
    for f in [
        "delta",
        "idelta",
        "deriv",
        "changes",
        "resets",
        "avg_over_time",
        "min_over_time",
        "max_over_time",
        "sum_over_time",
        "count_over_time",
        "stddev_over_time",
        "stdvar_over_time",
        "last_over_time",
        "present_over_time",
    ] {
        for g in GAUGES {
            b.q(&format!("{f}({g}[{}])", next_range()));
        }
    }
    for g in GAUGES {
        b.q(&format!("predict_linear({g}[10m], 600)"));
        b.q(&format!("quantile_over_time(0.9, {g}[5m])"));
        b.renamed(
            &format!("double_exponential_smoothing({g}[10m], 0.5, 0.3)"),
            &format!("holt_winters({g}[10m], 0.5, 0.3)"),
        );
    }
    for q in ["0", "0.25", "0.5", "1", "-1", "2"] {
        b.q(&format!(
            "quantile_over_time({q}, temperature_celsius[10m])"
        ));
    }
    b.q("predict_linear(http_requests_total[5m], -300)");
    b.q("deriv(stale_counter_total[10m])");
    b.q("rate(http_requests_total[15s])");
    b.q("irate(http_requests_total[20s])");
    b.q("increase(request_duration_seconds_bucket[2m])");
    // Counter functions over gauges (drops read as resets). Their windows stay inside the
    // data: one reaching before the first sample hits the #13725 extrapolation change
    // whenever the gauge's first value is small (see the module docs).
    for e in [
        "rate(temperature_celsius[5m])",
        "increase(temperature_celsius[10m])",
        "rate(queue_depth[10m])",
    ] {
        b.inside(e);
    }
    // Windows so short they hold one sample or no increase.
    for e in [
        "irate(temperature_celsius[1m])",
        "resets(temperature_celsius[10m])",
        "delta(http_requests_total[10m])",
        "idelta(http_requests_total[1m])",
        "deriv(http_requests_total[10m])",
        "predict_linear(http_requests_total[10m], 3600)",
        "histogram_quantile(0.5, rate(request_duration_seconds_bucket[20s]))",
        "stddev_over_time(queue_depth[20s])",
        "changes(queue_depth[20s])",
        "quantile_over_time(0.5, queue_depth[20s])",
        "rate(queue_depth[20s])",
        "deriv(queue_depth[20s])",
    ] {
        b.q(e);
    }
    for e in [
        "absent_over_time(stale_gauge[5m])",
        r#"absent_over_time(stale_gauge{instance="b-0"}[2m])"#,
        r#"absent_over_time(nonexistent{job="x"}[5m])"#,
        r#"absent_over_time(late_gauge{job="late",instance=~"l-.*"}[1m])"#,
        "present_over_time(late_counter_total[1m])",
        "last_over_time(stale_gauge[10m])",
        "count_over_time(stale_counter_total[10m])",
        "stale_gauge",
        "stale_counter_total",
        "late_gauge",
        r#"http_requests_total{instance="i-3"}"#,
        "timestamp(stale_gauge)",
    ] {
        b.all(e);
    }
}

fn aggregations(b: &mut Builder) {
    let inputs = [
        "memory_usage_bytes",
        "rate(http_requests_total[5m])",
        "temperature_celsius",
        "nan_gauge",
        "queue_depth",
    ];
    let groupings = [
        "",
        " by (job)",
        " without (instance)",
        " by (job, code)",
        " without (job, instance, zone)",
        " by ()",
    ];
    let mut i = 0;
    for agg in [
        "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count",
    ] {
        for e in inputs {
            for _ in 0..2 {
                i += 1;
                let g = groupings[i % groupings.len()];
                b.q(&format!("{agg}{g} ({e})"));
            }
        }
    }
    b.q("sum(http_requests_total) by (job, instance)");
    b.q("avg by (job) (memory_usage_bytes / 0)");
    b.q("sum(temperature_celsius / 0)");
    b.q("max(-memory_usage_bytes / 0)");
    for e in [
        r#"count_values("value", queue_depth)"#,
        r#"count_values("v", queue_depth) by (job)"#,
        r#"count_values("job", queue_depth)"#,
        r#"count_values("x", nan_gauge)"#,
        r#"count_values("t", temperature_celsius / 3)"#,
        r#"count_values("m", memory_usage_bytes)"#,
    ] {
        b.q(e);
    }
    for e in [
        "topk(3, memory_usage_bytes)",
        "bottomk(3, memory_usage_bytes)",
        "topk(4, temperature_celsius)",
        "bottomk(2, temperature_celsius)",
        "topk(100, memory_usage_bytes)",
        "sort(memory_usage_bytes)",
        "sort_desc(memory_usage_bytes)",
        "sort(temperature_celsius)",
        "sort_desc(rate(http_requests_total[5m]))",
        "sort(nan_gauge)",
        "sort_desc(nan_gauge)",
        "sort(sum by (job) (queue_depth))",
    ] {
        b.ordered(e);
    }
    for e in [
        "topk(2, rate(http_requests_total[5m])) by (job)",
        "bottomk by (job, code) (1, http_requests_total)",
        "topk(2.9, memory_usage_bytes)",
        "topk(0, up)",
        "topk(-1, up)",
        "topk(scalar(count(up)) - 7, memory_usage_bytes)",
        "bottomk(1, stale_counter_total)",
    ] {
        b.q(e);
    }
    for q in ["0", "0.5", "0.9", "1", "-0.5", "1.5"] {
        b.q(&format!("quantile({q}, temperature_celsius)"));
    }
    b.q("quantile by (job) (0.75, memory_usage_bytes)");
    b.q("quantile without (zone) (0.2, temperature_celsius)");
    b.q("quantile(0.5, nan_gauge)");
}

fn histograms(b: &mut Builder) {
    for q in ["0", "0.5", "0.9", "0.99", "1", "-0.5", "1.5"] {
        b.q(&format!(
            "histogram_quantile({q}, rate(request_duration_seconds_bucket[5m]))"
        ));
    }
    for e in [
        "histogram_quantile(0.9, sum by (le) (rate(request_duration_seconds_bucket[5m])))",
        "histogram_quantile(0.5, sum by (job, le) (rate(request_duration_seconds_bucket[10m])))",
        "histogram_quantile(0.75, request_duration_seconds_bucket)",
        "histogram_quantile(0.9, sum without (instance) (increase(request_duration_seconds_bucket[1m])))",
        r#"histogram_quantile(0.5, request_duration_seconds_bucket{le!="+Inf"})"#,
        r#"histogram_quantile(0.5, up)"#,
        "histogram_quantile(scalar(vector(0.3)), rate(request_duration_seconds_bucket[3m]))",
        "rate(request_duration_seconds_sum[5m]) / rate(request_duration_seconds_count[5m])",
        "sum by (job) (rate(request_duration_seconds_sum[5m])) / sum by (job) (rate(request_duration_seconds_count[5m]))",
        r#"request_duration_seconds_bucket{le="0.1"} / ignoring (le) request_duration_seconds_count"#,
        r#"rpc_duration_seconds{quantile="0.9"}"#,
        "max by (job, quantile) (rpc_duration_seconds)",
        "rate(rpc_duration_seconds_sum[5m]) / rate(rpc_duration_seconds_count[5m])",
        "avg_over_time(rpc_duration_seconds[5m])",
    ] {
        b.q(e);
    }
}

/// Operators, modifiers, label and math functions, and errors: see `queries_ops`.
pub use super::queries_ops::operators;

/// All queries.
pub fn build(times: &Times) -> Vec<Query> {
    let mut b = Builder {
        times,
        out: Vec::new(),
    };
    range_functions(&mut b);
    aggregations(&mut b);
    histograms(&mut b);
    operators(&mut OpsBuilder(&mut b));
    super::queries_edge::edge_cases(&mut OpsBuilder(&mut b));
    b.out
}

/// The builder as `queries_ops` sees it.
pub struct OpsBuilder<'a, 'b>(&'a mut Builder<'b>);

impl OpsBuilder<'_, '_> {
    pub fn q(&mut self, e: &str) {
        self.0.q(e)
    }
    pub fn all(&mut self, e: &str) {
        self.0.all(e)
    }
    pub fn ordered(&mut self, e: &str) {
        self.0.ordered(e)
    }
    pub fn error(&mut self, e: &str, msg: bool) {
        self.0.error(e, msg)
    }
    pub fn at(&self, s: i64) -> String {
        self.0.times.at(s)
    }
    pub fn range_error(&mut self, e: &str, start: String, end: String, step: &str, msg: bool) {
        self.0.range_error(e, start, end, step, msg)
    }
    /// RFC 3339 form of a time `s` seconds after the data start.
    pub fn rfc3339(&self, s: i64, offset_min: i64) -> String {
        self.0.times.rfc3339(s, offset_min)
    }
    /// Instant queries with a raw `time` parameter.
    pub fn at_time(&mut self, e: &str, time: &str) {
        let k = vec![Kind::Instant {
            time: time.to_owned(),
        }];
        self.0.push(e, e, k, Order::Any, true);
    }
    /// At the default instants and ranges, comparing the bodies byte for byte: for answers
    /// with one series, scalars and strings, whose bytes are fully defined.
    pub fn raw(&mut self, e: &str) {
        let from = self.0.out.len();
        self.0.q(e);
        for q in self.0.out.iter_mut().skip(from) {
            q.raw = true;
        }
    }
    /// An error expected from both, each under its name for the function.
    pub fn renamed_error(&mut self, argus: &str, prom: &str) {
        let k = vec![Kind::Instant {
            time: self.0.times.at(END),
        }];
        self.0.push(argus, prom, k, Order::Any, false);
    }
    /// One instant query at the end of the data with extra request parameters.
    pub fn with_params(&mut self, e: &str, params: &[(&'static str, &str)], msg: bool) {
        self.0.error(e, msg);
        if let Some(q) = self.0.out.last_mut() {
            q.params = params.iter().map(|(k, v)| (*k, v.to_string())).collect();
        }
    }
}
