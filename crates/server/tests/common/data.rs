//! Deterministic test data: a seeded PRNG drives counters with resets, gauges (negative
//! values, integers with ties, deliberate NaNs), classic histograms, summaries, series that
//! stop (with and without a stale marker) and series that start late.
//!
//! Timestamps lie on a 15 s grid aligned to whole multiples of 15 s, each jittered by 1–400 ms
//! either way and never by 0. Query times are whole seconds plus 500 ms (see `queries`), so no
//! sample is ever exactly on a window boundary of a range selector, a subquery or the
//! lookback delta, where Prometheus 2.x (closed windows) and 3.x (left-open) differ.

use argus_scrape::remote_write::proto::{Label, Sample, TimeSeries, WriteRequest};

/// Samples per series at most (45 minutes of 15 s samples).
pub const STEPS: usize = 180;
/// Grid interval, ms.
pub const STEP_MS: i64 = 15_000;
/// Prometheus' stale-marker NaN.
const STALE: u64 = 0x7ff0_0000_0000_0002;
/// An ordinary NaN, distinct from the stale marker.
const PLAIN_NAN: u64 = 0x7ff8_0000_0000_0001;

/// SplitMix64: tiny, seedable, and the same on every platform.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform integer in [lo, hi].
    pub fn int(&mut self, lo: i64, hi: i64) -> i64 {
        lo + (self.next_u64() % (hi - lo + 1) as u64) as i64
    }

    /// A jitter of 1..=400 ms, either sign, never 0.
    pub fn jitter(&mut self) -> i64 {
        let j = self.int(1, 400);
        if self.next_u64() & 1 == 0 {
            j
        } else {
            -j
        }
    }
}

/// One series: sorted labels and its samples in time order.
pub struct Series {
    pub labels: Vec<(String, String)>,
    pub samples: Vec<(i64, f64)>,
}

/// All series plus the grid start (ms, a multiple of 15 s).
pub struct Data {
    pub start_ms: i64,
    pub series: Vec<Series>,
}

fn labels(name: &str, pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut l: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    l.push(("__name__".into(), name.into()));
    l.sort();
    l
}

/// Per-target sample times: one jitter per target and step, shared by every series of that
/// target, as one scrape gives all its series the same timestamp (histogram buckets must
/// share timestamps for `histogram_quantile` over rates to be meaningful).
struct Grid {
    times: Vec<i64>,
}

impl Grid {
    fn new(rng: &mut Rng, start_ms: i64) -> Self {
        let times = (0..STEPS)
            .map(|k| start_ms + k as i64 * STEP_MS + rng.jitter())
            .collect();
        Grid { times }
    }
}

struct Gen {
    rng: Rng,
    start_ms: i64,
    series: Vec<Series>,
}

impl Gen {
    fn push(&mut self, labels: Vec<(String, String)>, samples: Vec<(i64, f64)>) {
        self.series.push(Series { labels, samples });
    }

    /// A counter over steps `from..to`, with occasional resets. A `fresh` one starts at 0,
    /// the others with a long history (large values): a small positive first value is where
    /// Prometheus 2.42 and 3.x extrapolate rates differently (see `queries`).
    fn counter(
        &mut self,
        grid: &Grid,
        from: usize,
        to: usize,
        scale: f64,
        fresh: bool,
    ) -> Vec<(i64, f64)> {
        let mut v = if fresh {
            0.0
        } else {
            (1e4 + self.rng.f64() * 1e5).floor() * scale
        };
        let mut out = Vec::new();
        for k in from..to {
            out.push((grid.times[k], v));
            // Fractional increments: series of one target share timestamps, so integer ones
            // would often tie exactly in rate(), and topk among ties differs by version.
            if self.rng.f64() < 0.02 {
                v = (self.rng.f64() * 3.0 * scale * 1e3).round() / 1e3;
            } else {
                v += (self.rng.f64() * 10.0 * scale * 1e3).round() / 1e3;
            }
        }
        out
    }

    fn http_requests(&mut self) {
        for job in ["api", "web"] {
            for (i, instance) in ["i-0", "i-1", "i-2", "i-3"].into_iter().enumerate() {
                let grid = Grid::new(&mut self.rng, self.start_ms);
                // i-3 starts late: a new target appearing mid-range.
                let from = if i == 3 { STEPS / 2 + 7 } else { 0 };
                for method in ["get", "post"] {
                    for code in ["200", "500"] {
                        let scale = if code == "500" { 0.1 } else { 1.0 };
                        let s = self.counter(&grid, from, STEPS, scale, i == 3);
                        let l = labels(
                            "http_requests_total",
                            &[
                                ("job", job),
                                ("instance", instance),
                                ("method", method),
                                ("code", code),
                            ],
                        );
                        self.push(l, s);
                    }
                }
            }
        }
    }

    fn node(&mut self) {
        for instance in ["n-0", "n-1"] {
            let grid = Grid::new(&mut self.rng, self.start_ms);
            for cpu in ["0", "1"] {
                for mode in ["idle", "user", "system"] {
                    let mut v = 1e5 + self.rng.f64() * 1000.0;
                    let mut s = Vec::new();
                    for t in &grid.times {
                        s.push((*t, v));
                        v += self.rng.f64() * 15.0;
                    }
                    let l = labels(
                        "node_cpu_seconds_total",
                        &[
                            ("job", "node"),
                            ("instance", instance),
                            ("cpu", cpu),
                            ("mode", mode),
                        ],
                    );
                    self.push(l, s);
                }
            }
        }
    }

    /// Per target: memory (large, random walk), up (0/1), build_info, queue_depth (small
    /// integers, many ties).
    fn targets(&mut self) {
        let targets = [
            ("api", "i-0"),
            ("api", "i-1"),
            ("api", "i-2"),
            ("web", "i-0"),
            ("web", "i-1"),
            ("web", "i-2"),
            ("node", "n-0"),
            ("node", "n-1"),
        ];
        for (n, (job, instance)) in targets.into_iter().enumerate() {
            let grid = Grid::new(&mut self.rng, self.start_ms);
            let mut mem = 1e8 + self.rng.f64() * 4e9;
            let (mut up, mut mems, mut infos, mut depths) = (vec![], vec![], vec![], vec![]);
            for (k, t) in grid.times.iter().enumerate() {
                mem = (mem + (self.rng.f64() - 0.5) * 5e7).max(1e6).round();
                mems.push((*t, mem));
                // web/i-1 is down for a while in the middle.
                let down = n == 4 && (60..90).contains(&k);
                up.push((*t, if down { 0.0 } else { 1.0 }));
                infos.push((*t, 1.0));
                if job != "node" {
                    depths.push((*t, self.rng.int(0, 6) as f64));
                }
            }
            let tl = [("job", job), ("instance", instance)];
            self.push(labels("memory_usage_bytes", &tl), mems);
            self.push(labels("up", &tl), up);
            let version = if n % 3 == 0 { "1.2.0" } else { "1.3.1" };
            let bl = [("job", job), ("instance", instance), ("version", version)];
            self.push(labels("build_info", &bl), infos);
            if !depths.is_empty() {
                self.push(labels("queue_depth", &tl), depths);
            }
        }
    }

    fn temperatures(&mut self) {
        for (i, instance) in ["s-0", "s-1", "s-2", "s-3"].into_iter().enumerate() {
            let grid = Grid::new(&mut self.rng, self.start_ms);
            for zone in ["a", "b"] {
                let base = -15.0 + 10.0 * i as f64;
                let mut s = Vec::new();
                for (k, t) in grid.times.iter().enumerate() {
                    let wave = 8.0 * (k as f64 / 20.0).sin();
                    let noise = (self.rng.f64() - 0.5) * 4.0;
                    s.push((*t, ((base + wave + noise) * 100.0).round() / 100.0));
                }
                let l = labels(
                    "temperature_celsius",
                    &[("job", "sensors"), ("instance", instance), ("zone", zone)],
                );
                self.push(l, s);
            }
        }
    }

    /// A gauge with deliberate (non-stale) NaNs, to compare NaN handling.
    fn nans(&mut self) {
        for instance in ["x-0", "x-1", "x-2"] {
            let grid = Grid::new(&mut self.rng, self.start_ms);
            let mut s = Vec::new();
            for t in &grid.times {
                let v = if self.rng.f64() < 0.15 {
                    f64::from_bits(PLAIN_NAN)
                } else {
                    (self.rng.f64() * 100.0).round() - 30.0
                };
                s.push((*t, v));
            }
            let l = labels("nan_gauge", &[("job", "nan"), ("instance", instance)]);
            self.push(l, s);
        }
    }

    fn histograms(&mut self) {
        const LES: [&str; 12] = [
            "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf",
        ];
        for job in ["api", "web"] {
            for instance in ["i-0", "i-1", "i-2"] {
                let grid = Grid::new(&mut self.rng, self.start_ms);
                let bounds: Vec<f64> = LES.iter().map(|l| l.parse().unwrap()).collect();
                let mut counts = [0f64; 12];
                let (mut sum, mut count) = (0.0, 0.0);
                let mut buckets: Vec<Vec<(i64, f64)>> = vec![vec![]; 12];
                let (mut sums, mut cnts) = (vec![], vec![]);
                let reset_at = if instance == "i-1" { 100 } else { usize::MAX };
                // A long history before the first sample, except for i-2 which starts fresh.
                let history = if instance == "i-2" { 0 } else { 4000 };
                for k in 0..history + grid.times.len() {
                    if k == reset_at.saturating_add(history) {
                        counts = [0.0; 12];
                        sum = 0.0;
                        count = 0.0;
                    }
                    if let Some(t) = k.checked_sub(history).map(|i| grid.times[i]) {
                        for (b, c) in buckets.iter_mut().zip(counts.iter()) {
                            b.push((t, *c));
                        }
                        sums.push((t, sum));
                        cnts.push((t, count));
                    }
                    for _ in 0..self.rng.int(0, 25) {
                        // Log-uniform durations from 1 ms to ~20 s.
                        let d = 10f64.powf(-3.0 + self.rng.f64() * 4.3);
                        for (b, c) in bounds.iter().zip(counts.iter_mut()) {
                            if d <= *b {
                                *c += 1.0;
                            }
                        }
                        sum += d;
                        count += 1.0;
                    }
                }
                for (le, s) in LES.iter().zip(buckets) {
                    let l = labels(
                        "request_duration_seconds_bucket",
                        &[("job", job), ("instance", instance), ("le", le)],
                    );
                    self.push(l, s);
                }
                let tl = [("job", job), ("instance", instance)];
                self.push(labels("request_duration_seconds_sum", &tl), sums);
                self.push(labels("request_duration_seconds_count", &tl), cnts);
            }
        }
    }

    /// Classic histograms that break the rules: a non-monotonic bucket, two spellings of one
    /// bound (`0.5`, `0.50`), and one without a `+Inf` bucket.
    fn odd_histograms(&mut self) {
        let cases: [(&str, &[(&str, f64)]); 4] = [
            (
                "nonmono",
                &[("0.1", 1.0), ("0.5", 3.0), ("1", 2.0), ("+Inf", 5.0)],
            ),
            (
                "dup_le",
                &[("0.5", 1.0), ("0.50", 2.0), ("1", 4.0), ("+Inf", 5.0)],
            ),
            ("no_inf", &[("0.1", 1.0), ("1", 3.0)]),
            (
                "sci_le",
                &[("1e-3", 1.0), ("1e+00", 2.0), ("1.5E1", 3.0), ("+Inf", 3.5)],
            ),
        ];
        for (case, buckets) in cases {
            let grid = Grid::new(&mut self.rng, self.start_ms);
            let mut n = 1e4;
            let mut series: Vec<Vec<(i64, f64)>> = vec![vec![]; buckets.len()];
            for t in &grid.times {
                for (s, (_, weight)) in series.iter_mut().zip(buckets.iter()) {
                    s.push((*t, n * weight));
                }
                n += self.rng.int(1, 20) as f64;
            }
            for ((le, _), s) in buckets.iter().zip(series) {
                let l = labels(
                    "odd_histogram_bucket",
                    &[("job", "odd"), ("case", case), ("le", le)],
                );
                self.push(l, s);
            }
        }
    }

    /// Label values that JSON must escape (quotes, backslash, control and HTML characters,
    /// non-ASCII), to compare the bytes of the answers.
    fn weird_labels(&mut self) {
        let grid = Grid::new(&mut self.rng, self.start_ms);
        let values = [
            ("quote", "say \"hi\" \\ back"),
            ("html", "/a?b=1&c=<2>"),
            ("unicode", "ünïcödé ✓ \u{1F600}"),
            ("control", "tab\there\u{7}bell"),
        ];
        for (kind, v) in values {
            let s = grid
                .times
                .iter()
                .enumerate()
                .map(|(k, t)| (*t, k as f64 * 0.25))
                .collect();
            let l = labels(
                "weird_labels",
                &[("job", "weird"), ("kind", kind), ("v", v)],
            );
            self.push(l, s);
        }
    }

    fn summaries(&mut self) {
        for job in ["api", "web"] {
            for instance in ["i-0", "i-1", "i-2"] {
                let grid = Grid::new(&mut self.rng, self.start_ms);
                let mut qs: Vec<Vec<(i64, f64)>> = vec![vec![]; 3];
                let (mut sums, mut cnts) = (vec![], vec![]);
                let (mut sum, mut count) = (1e4, 5e4);
                for t in &grid.times {
                    sums.push((*t, sum));
                    cnts.push((*t, count));
                    let p50 = 0.05 + self.rng.f64() * 0.1;
                    let p90 = p50 + self.rng.f64() * 0.5;
                    let p99 = p90 + self.rng.f64() * 2.0;
                    for (q, v) in qs.iter_mut().zip([p50, p90, p99]) {
                        q.push((*t, v));
                    }
                    let n = self.rng.int(0, 30) as f64;
                    count += n;
                    sum += n * p50 * 1.3;
                }
                for (q, s) in ["0.5", "0.9", "0.99"].iter().zip(qs) {
                    let l = labels(
                        "rpc_duration_seconds",
                        &[("job", job), ("instance", instance), ("quantile", q)],
                    );
                    self.push(l, s);
                }
                let tl = [("job", job), ("instance", instance)];
                self.push(labels("rpc_duration_seconds_sum", &tl), sums);
                self.push(labels("rpc_duration_seconds_count", &tl), cnts);
            }
        }
    }

    /// Series that stop (b-0 with a stale marker, b-1 silently) and series that start late.
    fn lifecycle(&mut self) {
        let grid = Grid::new(&mut self.rng, self.start_ms);
        for (instance, stop, marker) in
            [("b-0", STEPS * 3 / 5, true), ("b-1", STEPS * 4 / 5, false)]
        {
            let tl = [("job", "batch"), ("instance", instance)];
            let mut g: Vec<(i64, f64)> = (0..stop)
                .map(|k| (grid.times[k], self.rng.int(-50, 50) as f64 / 4.0))
                .collect();
            let mut c = self.counter(&grid, 0, stop, 1.0, false);
            if marker {
                let t = grid.times[stop];
                g.push((t, f64::from_bits(STALE)));
                c.push((t, f64::from_bits(STALE)));
            }
            self.push(labels("stale_gauge", &tl), g);
            self.push(labels("stale_counter_total", &tl), c);
        }
        let late = Grid::new(&mut self.rng, self.start_ms);
        for instance in ["l-0", "l-1"] {
            let tl = [("job", "late"), ("instance", instance)];
            let g = (STEPS / 2..STEPS)
                .map(|k| (late.times[k], (self.rng.f64() * 50.0).round()))
                .collect();
            self.push(labels("late_gauge", &tl), g);
            let c = self.counter(&late, STEPS * 7 / 10, STEPS, 1.0, true);
            self.push(labels("late_counter_total", &tl), c);
        }
    }
}

/// Builds the data set: the grid ends `end_before_ms` before `now_ms`.
pub fn generate(seed: u64, now_ms: i64, end_before_ms: i64) -> Data {
    let end = (now_ms - end_before_ms) / STEP_MS * STEP_MS;
    let start_ms = end - STEPS as i64 * STEP_MS;
    let mut g = Gen {
        rng: Rng::new(seed),
        start_ms,
        series: Vec::new(),
    };
    g.http_requests();
    g.node();
    g.targets();
    g.temperatures();
    g.nans();
    g.histograms();
    g.summaries();
    g.odd_histograms();
    g.weird_labels();
    g.lifecycle();
    Data {
        start_ms,
        series: g.series,
    }
}

impl Data {
    pub fn sample_count(&self) -> usize {
        self.series.iter().map(|s| s.samples.len()).sum()
    }

    /// Remote-write requests covering consecutive time slices of `slice_ms`, in time order,
    /// so each server's head sees every series' samples in order.
    pub fn requests(&self, slice_ms: i64) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut lo = self.start_ms - STEP_MS;
        let end = self.start_ms + (STEPS as i64 + 2) * STEP_MS;
        while lo < end {
            let hi = lo + slice_ms;
            let timeseries: Vec<TimeSeries> = self
                .series
                .iter()
                .filter_map(|s| {
                    let samples: Vec<Sample> = s
                        .samples
                        .iter()
                        .filter(|(t, _)| *t >= lo && *t < hi)
                        .map(|(t, v)| Sample {
                            value: *v,
                            timestamp: *t,
                        })
                        .collect();
                    (!samples.is_empty()).then(|| TimeSeries {
                        labels: s
                            .labels
                            .iter()
                            .map(|(n, v)| Label {
                                name: n.clone(),
                                value: v.clone(),
                            })
                            .collect(),
                        samples,
                        exemplars: vec![],
                    })
                })
                .collect();
            if !timeseries.is_empty() {
                let req = WriteRequest {
                    timeseries,
                    metadata: vec![],
                };
                out.push(req.encode_snappy());
            }
            lo = hi;
        }
        out
    }
}
