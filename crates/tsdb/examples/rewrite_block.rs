//! Rewrites one block with the current block writer and prints the sizes before and after,
//! then checks that every sample of the new block equals the old one bit for bit. The inner
//! loop for block-format work: `cargo run --release -p argus-tsdb --example rewrite_block --
//! <block dir> <output parent dir>`.
#![allow(clippy::print_stdout)]

use std::sync::Arc;
use std::time::Instant;

use argus_model::SeriesSet;
use argus_tsdb::analyze::analyze_block;
use argus_tsdb::block::writer::{write_block, NewBlock};
use argus_tsdb::block::Block;
use argus_tsdb::querier::source::{MergedSeriesSet, SeriesSource};

fn all(b: &Arc<Block>) -> Result<MergedSeriesSet, Box<dyn std::error::Error>> {
    let (mint, maxt) = (b.meta().min_time, b.meta().max_time);
    let src: Box<dyn SeriesSource> = Box::new(b.source(&[], mint, maxt - 1)?);
    Ok(MergedSeriesSet::new(
        vec![src],
        mint,
        maxt - 1,
        true,
        Arc::new(b.clone()),
    ))
}

fn report(what: &str, b: &Block) -> Result<(), Box<dyn std::error::Error>> {
    let r = analyze_block(b, 1)?;
    let n = r.samples.max(1) as f64;
    println!(
        "{what}: {} series, {} samples, {} chunks; index {} B ({:.3} B/sample), chunks {} B ({:.3} B/sample), total {} B ({:.3} B/sample), corrupt chunks {}",
        r.series,
        r.samples,
        r.chunks,
        r.index_bytes,
        r.index_bytes as f64 / n,
        r.chunk_bytes,
        r.chunk_bytes as f64 / n,
        r.total_bytes,
        r.total_bytes as f64 / n,
        r.corrupt_chunks
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(src), Some(out)) = (args.get(1), args.get(2)) else {
        return Err("usage: rewrite_block <block dir> <output parent dir>".into());
    };
    let old = Arc::new(Block::open(std::path::Path::new(src))?);
    report("old", &old)?;
    std::fs::create_dir_all(out)?;
    let nb = NewBlock {
        mint: old.meta().min_time,
        maxt: old.meta().max_time,
        level: old.meta().compaction.level,
        sources: Vec::new(),
        parents: Vec::new(),
        tight_mint: false,
    };
    let start = Instant::now();
    let meta = write_block(std::path::Path::new(out), &nb, &mut all(&old)?)?.ok_or("no samples")?;
    println!("written in {:?}", start.elapsed());
    let new = Arc::new(Block::open(&std::path::Path::new(out).join(&meta.ulid))?);
    report("new", &new)?;
    for (label, b) in [("old", &old), ("new", &new)] {
        let start = Instant::now();
        let mut set = all(b)?;
        let mut n = 0u64;
        while let Some(s) = set.next() {
            let s = s?;
            let mut it = s.iterator();
            while it.next() {
                n += 1;
            }
        }
        println!("{label}: full scan of {n} samples in {:?}", start.elapsed());
    }
    let (mut a, mut b) = (all(&old)?, all(&new)?);
    let mut checked = 0u64;
    loop {
        match (a.next(), b.next()) {
            (None, None) => break,
            (Some(x), Some(y)) => {
                let (x, y) = (x?, y?);
                if x.labels() != y.labels() {
                    return Err(format!("series differ: {} vs {}", x.labels(), y.labels()).into());
                }
                let (mut i, mut j) = (x.iterator(), y.iterator());
                loop {
                    match (i.next(), j.next()) {
                        (false, false) => break,
                        (true, true) => {
                            let (p, q) = (i.at(), j.at());
                            if p.t != q.t || p.v.to_bits() != q.v.to_bits() {
                                return Err(format!("{}: {p:?} vs {q:?}", x.labels()).into());
                            }
                            checked += 1;
                        }
                        _ => return Err(format!("{}: sample counts differ", x.labels()).into()),
                    }
                }
            }
            _ => return Err("series counts differ".into()),
        }
    }
    println!("bit-exact: {checked} samples");
    Ok(())
}
