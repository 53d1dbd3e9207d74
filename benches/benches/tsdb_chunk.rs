//! Chunk encode/decode throughput on node_exporter-like series at 15 s: the head's XOR chunks
//! (120 samples) against the blocks' columnar chunks (480 samples, a 2 h block), plus the
//! bytes per sample of each.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

mod tsdb_common;

use argus_tsdb::chunk::columnar::{decode_times, decode_values, encode_times, encode_values};
use argus_tsdb::chunk::xor::{encode, XorDecoder};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tsdb_common::{node_exporter, scrape_time, Rng};

/// `rounds` scrapes of every series of 5 hosts, all sharing one (jittered) scrape time.
fn series(rounds: i64) -> Vec<Vec<(i64, f64)>> {
    let mut rng = Rng(7);
    let mut series = node_exporter(5, &mut rng);
    let mut out: Vec<Vec<(i64, f64)>> = vec![Vec::with_capacity(rounds as usize); series.len()];
    for r in 0..rounds {
        let t = scrape_time(1_700_000_000_000, r, 3, &mut rng);
        for (i, s) in series.iter_mut().enumerate() {
            out[i].push((t, s.step(&mut rng, 15.0)));
        }
    }
    out
}

struct Columnar {
    times: Vec<u8>,
    values: Vec<Vec<u8>>,
}

fn encode_columnar(data: &[Vec<(i64, f64)>]) -> Columnar {
    let ts: Vec<i64> = data[0].iter().map(|s| s.0).collect();
    let mut times = Vec::new();
    encode_times(&ts, &mut times);
    let values = data
        .iter()
        .map(|s| {
            let vs: Vec<f64> = s.iter().map(|x| x.1).collect();
            let mut out = Vec::new();
            encode_values(&vs, 1 << 32 | 8, &mut out);
            out
        })
        .collect();
    Columnar { times, values }
}

fn bench(c: &mut Criterion) {
    let data = series(120);
    let samples: usize = data.iter().map(Vec::len).sum();
    let encoded: Vec<Vec<u8>> = data.iter().map(|s| encode(s)).collect();
    let bytes: usize = encoded.iter().map(Vec::len).sum();
    eprintln!(
        "xor chunks: {} series x 120 samples, {:.3} bytes/sample",
        data.len(),
        bytes as f64 / samples as f64
    );
    let long = series(480);
    let long_samples: usize = long.iter().map(Vec::len).sum();
    let col = encode_columnar(&long);
    let vbytes: usize = col.values.iter().map(Vec::len).sum();
    eprintln!(
        "columnar chunks: {} series x 480 samples, {:.3} bytes/sample ({:.3} values, time column shared)",
        long.len(),
        (vbytes + col.times.len()) as f64 / long_samples as f64,
        vbytes as f64 / long_samples as f64,
    );
    let mut g = c.benchmark_group("tsdb_chunk");
    g.throughput(Throughput::Elements(samples as u64));
    g.bench_function("xor_encode", |b| {
        b.iter(|| {
            let mut n = 0;
            for s in &data {
                n += encode(std::hint::black_box(s)).len();
            }
            n
        })
    });
    g.bench_function("xor_decode", |b| {
        b.iter(|| {
            let mut acc = 0.0f64;
            for c in &encoded {
                let c = std::hint::black_box(c.as_slice());
                let mut d = XorDecoder::new(c);
                while d.next(c) {
                    acc += d.at().1;
                }
            }
            acc
        })
    });
    g.throughput(Throughput::Elements(long_samples as u64));
    g.bench_function("columnar_encode", |b| {
        b.iter(|| encode_columnar(std::hint::black_box(&long)).values.len())
    });
    g.bench_function("columnar_decode", |b| {
        // As a query does: the (shared) time column once per series, then its values.
        let (mut ts, mut vs, mut scratch) = (Vec::new(), Vec::new(), Vec::new());
        b.iter(|| {
            let mut acc = 0.0f64;
            for v in &col.values {
                decode_times(std::hint::black_box(&col.times), &mut ts).unwrap();
                decode_values(std::hint::black_box(v), &mut vs, &mut scratch).unwrap();
                for (t, v) in ts.iter().zip(&vs) {
                    acc += *v + *t as f64;
                }
            }
            acc
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
