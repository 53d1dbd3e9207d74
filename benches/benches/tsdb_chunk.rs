//! XOR chunk encode/decode throughput on node_exporter-like series (120-sample chunks at
//! 15 s), plus the chunk bytes per sample of each kind of series.
#![allow(clippy::unwrap_used, clippy::print_stderr)]

mod tsdb_common;

use argus_tsdb::chunk::xor::{encode, XorDecoder};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tsdb_common::{node_exporter, scrape_time, Rng};

/// 120-sample chunks of every series of 5 hosts.
fn chunks() -> Vec<Vec<(i64, f64)>> {
    let mut rng = Rng(7);
    let mut series = node_exporter(5, &mut rng);
    let mut out: Vec<Vec<(i64, f64)>> = vec![Vec::with_capacity(120); series.len()];
    for r in 0..120 {
        let t = scrape_time(1_700_000_000_000, r, 0, &mut rng);
        for (i, s) in series.iter_mut().enumerate() {
            out[i].push((t, s.step(&mut rng, 15.0)));
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let data = chunks();
    let samples: usize = data.iter().map(Vec::len).sum();
    let encoded: Vec<Vec<u8>> = data.iter().map(|s| encode(s)).collect();
    let bytes: usize = encoded.iter().map(Vec::len).sum();
    eprintln!(
        "xor chunks: {} series x 120 samples, {:.3} bytes/sample",
        data.len(),
        bytes as f64 / samples as f64
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
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
