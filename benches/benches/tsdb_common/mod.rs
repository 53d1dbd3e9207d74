//! A deterministic, node_exporter-like corpus for the TSDB benchmarks: per host ~200 series
//! of CPU counters (1/100 s resolution), memory and filesystem gauges (multiples of 4 KiB),
//! network/disk byte and packet counters (integers), load averages (2 decimals), Go/process
//! metrics and constant info metrics, scraped every 15 s.
#![allow(dead_code)]

use argus_model::Labels;

/// xorshift64: small, deterministic, good enough for synthetic data.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[derive(Clone, Copy)]
enum Kind {
    /// Counter growing by `rate` per second with noise, rounded to `quantum`.
    Counter { rate: f64, quantum: f64 },
    /// Gauge wandering around `mean` with relative step `sd`, rounded to `quantum`.
    Gauge { mean: f64, sd: f64, quantum: f64 },
    /// Never changes.
    Const(f64),
}

/// One synthetic series.
pub struct SynthSeries {
    pub labels: Labels,
    kind: Kind,
    cur: f64,
}

impl SynthSeries {
    /// The next value (one scrape interval of `dt` seconds later).
    pub fn step(&mut self, rng: &mut Rng, dt: f64) -> f64 {
        match self.kind {
            Kind::Counter { rate, quantum } => {
                self.cur += rate * dt * (0.5 + rng.unit());
                round_to(self.cur, quantum)
            }
            Kind::Gauge { mean, sd, quantum } => {
                self.cur += 0.2 * (mean - self.cur) + sd * mean * (rng.unit() - 0.5);
                round_to(self.cur.max(0.0), quantum)
            }
            Kind::Const(v) => v,
        }
    }
}

fn round_to(v: f64, q: f64) -> f64 {
    if q > 0.0 {
        (v / q).round() * q
    } else {
        v
    }
}

fn lbl(name: &str, host: usize, extra: &[(&str, String)]) -> Labels {
    let mut pairs: Vec<(&str, String)> = vec![
        ("__name__", name.to_string()),
        ("instance", format!("host-{host:04}:9100")),
        ("job", "node".to_string()),
    ];
    pairs.extend(extra.iter().cloned());
    Labels::from_pairs(&pairs)
}

/// The series of `hosts` node_exporter targets.
pub fn node_exporter(hosts: usize, rng: &mut Rng) -> Vec<SynthSeries> {
    let mut out = Vec::new();
    let mut push = |labels: Labels, kind: Kind, start: f64| {
        out.push(SynthSeries {
            labels,
            kind,
            cur: start,
        });
    };
    for h in 0..hosts {
        for cpu in 0..4 {
            for (mode, share) in [
                ("idle", 0.7),
                ("user", 0.15),
                ("system", 0.08),
                ("iowait", 0.02),
                ("irq", 0.001),
                ("softirq", 0.01),
                ("nice", 0.0),
                ("steal", 0.005),
            ] {
                let kind = if share == 0.0 {
                    Kind::Const(0.0)
                } else {
                    Kind::Counter {
                        rate: share,
                        quantum: 0.01,
                    }
                };
                push(
                    lbl(
                        "node_cpu_seconds_total",
                        h,
                        &[("cpu", cpu.to_string()), ("mode", mode.to_string())],
                    ),
                    kind,
                    round_to(1e6 * share * (0.5 + rng.unit()), 0.01),
                );
            }
        }
        for (i, name) in [
            "MemAvailable",
            "MemFree",
            "Buffers",
            "Cached",
            "Active",
            "Inactive",
            "Dirty",
            "Writeback",
            "Slab",
            "SReclaimable",
            "SUnreclaim",
            "PageTables",
            "Committed_AS",
            "AnonPages",
            "Mapped",
            "Shmem",
            "KernelStack",
            "SwapCached",
            "SwapFree",
            "VmallocUsed",
        ]
        .iter()
        .enumerate()
        {
            let mean = 1e8 * (1.0 + i as f64);
            push(
                lbl(&format!("node_memory_{name}_bytes"), h, &[]),
                Kind::Gauge {
                    mean,
                    sd: 0.002,
                    quantum: 4096.0,
                },
                mean,
            );
        }
        for name in ["MemTotal", "SwapTotal", "HugePages_Total", "Hugepagesize"] {
            push(
                lbl(&format!("node_memory_{name}_bytes"), h, &[]),
                Kind::Const(8.0e9),
                0.0,
            );
        }
        for dev in ["eth0", "eth1", "lo"] {
            for (metric, rate) in [
                ("receive_bytes", 2.0e5),
                ("transmit_bytes", 1.0e5),
                ("receive_packets", 300.0),
                ("transmit_packets", 200.0),
                ("receive_errs", 0.0),
                ("transmit_errs", 0.0),
                ("receive_drop", 0.01),
                ("transmit_drop", 0.0),
            ] {
                let kind = if rate == 0.0 {
                    Kind::Const(0.0)
                } else {
                    Kind::Counter { rate, quantum: 1.0 }
                };
                push(
                    lbl(
                        &format!("node_network_{metric}_total"),
                        h,
                        &[("device", dev.to_string())],
                    ),
                    kind,
                    (rate * 1e5).round(),
                );
            }
        }
        for dev in ["sda", "nvme0n1"] {
            for (metric, rate, q) in [
                ("reads_completed", 20.0, 1.0),
                ("writes_completed", 50.0, 1.0),
                ("read_bytes", 4.0e5, 512.0),
                ("written_bytes", 1.0e6, 512.0),
                ("read_time_seconds", 0.01, 0.001),
                ("write_time_seconds", 0.05, 0.001),
                ("io_time_seconds", 0.03, 0.001),
                ("io_time_weighted_seconds", 0.06, 0.001),
                ("discarded_sectors", 0.0, 1.0),
                ("flush_requests", 1.0, 1.0),
            ] {
                let kind = if rate == 0.0 {
                    Kind::Const(0.0)
                } else {
                    Kind::Counter { rate, quantum: q }
                };
                push(
                    lbl(
                        &format!("node_disk_{metric}_total"),
                        h,
                        &[("device", dev.to_string())],
                    ),
                    kind,
                    round_to(rate * 1e5, q),
                );
            }
        }
        for mp in ["/", "/boot", "/var", "/home", "/tmp"] {
            let size = 1e11;
            for (metric, kind) in [
                (
                    "avail",
                    Kind::Gauge {
                        mean: size * 0.4,
                        sd: 0.0001,
                        quantum: 4096.0,
                    },
                ),
                (
                    "free",
                    Kind::Gauge {
                        mean: size * 0.45,
                        sd: 0.0001,
                        quantum: 4096.0,
                    },
                ),
                ("size", Kind::Const(size)),
            ] {
                push(
                    lbl(
                        &format!("node_filesystem_{metric}_bytes"),
                        h,
                        &[("mountpoint", mp.to_string())],
                    ),
                    kind,
                    size * 0.4,
                );
            }
        }
        for (metric, mean) in [
            ("node_load1", 0.8),
            ("node_load5", 0.7),
            ("node_load15", 0.6),
        ] {
            push(
                lbl(metric, h, &[]),
                Kind::Gauge {
                    mean,
                    sd: 0.2,
                    quantum: 0.01,
                },
                mean,
            );
        }
        for (metric, kind) in [
            (
                "go_goroutines",
                Kind::Gauge {
                    mean: 9.0,
                    sd: 0.1,
                    quantum: 1.0,
                },
            ),
            ("go_threads", Kind::Const(8.0)),
            (
                "go_memstats_alloc_bytes",
                Kind::Gauge {
                    mean: 3.0e6,
                    sd: 0.3,
                    quantum: 8.0,
                },
            ),
            (
                "go_memstats_heap_inuse_bytes",
                Kind::Gauge {
                    mean: 5.0e6,
                    sd: 0.1,
                    quantum: 8192.0,
                },
            ),
            (
                "go_memstats_alloc_bytes_total",
                Kind::Counter {
                    rate: 2.0e5,
                    quantum: 8.0,
                },
            ),
            (
                "go_gc_duration_seconds_count",
                Kind::Counter {
                    rate: 0.05,
                    quantum: 1.0,
                },
            ),
            (
                "process_cpu_seconds_total",
                Kind::Counter {
                    rate: 0.01,
                    quantum: 0.01,
                },
            ),
            (
                "process_resident_memory_bytes",
                Kind::Gauge {
                    mean: 2.0e7,
                    sd: 0.01,
                    quantum: 4096.0,
                },
            ),
            (
                "process_open_fds",
                Kind::Gauge {
                    mean: 9.0,
                    sd: 0.05,
                    quantum: 1.0,
                },
            ),
            ("process_start_time_seconds", Kind::Const(1.7e9)),
            (
                "node_time_seconds",
                Kind::Counter {
                    rate: 1.0,
                    quantum: 0.001,
                },
            ),
            ("node_boot_time_seconds", Kind::Const(1.69e9)),
            (
                "node_context_switches_total",
                Kind::Counter {
                    rate: 3000.0,
                    quantum: 1.0,
                },
            ),
            (
                "node_intr_total",
                Kind::Counter {
                    rate: 2000.0,
                    quantum: 1.0,
                },
            ),
            (
                "node_forks_total",
                Kind::Counter {
                    rate: 5.0,
                    quantum: 1.0,
                },
            ),
            (
                "node_procs_running",
                Kind::Gauge {
                    mean: 2.0,
                    sd: 0.5,
                    quantum: 1.0,
                },
            ),
            (
                "node_entropy_available_bits",
                Kind::Gauge {
                    mean: 3500.0,
                    sd: 0.01,
                    quantum: 1.0,
                },
            ),
            ("node_uname_info", Kind::Const(1.0)),
            ("node_exporter_build_info", Kind::Const(1.0)),
            ("node_scrape_collector_success", Kind::Const(1.0)),
            ("up", Kind::Const(1.0)),
            (
                "scrape_duration_seconds",
                Kind::Gauge {
                    mean: 0.02,
                    sd: 0.3,
                    quantum: 0.0,
                },
            ),
            ("scrape_samples_scraped", Kind::Const(200.0)),
        ] {
            let start = match kind {
                Kind::Counter { rate, quantum } => round_to(rate * 1e5, quantum),
                Kind::Gauge { mean, .. } => mean,
                Kind::Const(v) => v,
            };
            push(lbl(metric, h, &[]), kind, start);
        }
    }
    out
}

/// Scrape timestamps: every 15 s from `start`, with up to `jitter_ms` of scrape jitter.
pub fn scrape_time(start: i64, round: i64, jitter_ms: u64, rng: &mut Rng) -> i64 {
    let j = if jitter_ms == 0 {
        0
    } else {
        (rng.next() % (jitter_ms + 1)) as i64
    };
    start + round * 15_000 + j
}
